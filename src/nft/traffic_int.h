/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NFT_TRAFFIC_INT_H
#define WEFT_NFT_TRAFFIC_INT_H

/*
 * Inside the traffic module: the object shared by traffic.c (dispatch),
 * iptables.c (ipt_*) and nftables.c (nftm_*). Not for other modules; the
 * unit tests include it for the small parsers.
 */
#include <stdbool.h>
#include <stddef.h>

#include "nft/rules.h"
#include "nft/traffic.h"

struct nft_ctx;

struct ipt_bin {
	char *ipt;          /* iptables / ip6tables, NULL when not on PATH */
	char *restore;      /* iptables-restore / ip6tables-restore */
	bool probed;
	bool wait;          /* iptables --wait (>= 1.4.20) */
	bool wait_limit;    /* iptables -w SECONDS (>= 1.4.22) */
	bool restore_wait;  /* iptables-restore -w SECONDS (>= 1.6.2) */
	bool random_fully;  /* MASQUERADE --random-fully (>= 1.6.2) */
};

struct traffic {
	bool nft_mode;
	struct nft_ctx *nft; /* NULL only in iptables mode, when libnftables failed */
	struct ipt_bin bin[TRAFFIC_NFAM];
	int cancel_fd;       /* -1, or readable when tool runs must stop */

	/* The parameters the references below belong to (those of the last
	 * apply or check); the references go when the parameters change. */
	struct traffic_params applied;
	bool has_applied;

	/*
	 * What the kernel reported right after our own write, kept only when it
	 * differs from the text we generate (an older tool printing a rule its
	 * own way, a kernel without comment support). The check compares with
	 * it instead, so that a printing difference never turns into a re-apply
	 * every resync period.
	 */
	char *ipt_ref[TRAFFIC_NFAM][TRAFFIC_NSET];
	char *ipt_ref_jump[TRAFFIC_NFAM][TRAFFIC_NSET];
	bool nft_probed[TRAFFIC_NFAM];
	bool nft_fully_random[TRAFFIC_NFAM];
	char *nft_ref[TRAFFIC_NFAM];
};

/* ---- iptables.c ---- */

void ipt_init(struct traffic *t);
void ipt_fini(struct traffic *t);
int ipt_apply(struct traffic *t, const struct traffic_params *p, struct err *err);
int ipt_check(struct traffic *t, const struct traffic_params *p, char *what, size_t len,
	      struct err *err);
/* iptables mode: rules of `old` that `now` no longer wants; -errno on failure. */
int ipt_cleanup_old(struct traffic *t, const struct traffic_params *now,
		    const struct traffic_params *old, char *what, size_t len, struct err *err);
/* nftables mode: chains and jumps of iptables mode, if any. Never fails:
 * what it could not do becomes a note. */
void ipt_remove_leftovers(struct traffic *t, char *what, size_t len);
/* "iptables v1.8.9 (nf_tables)" -> 1, 8, 9. 0 or -EINVAL. */
int ipt_parse_version(const char *s, unsigned v[3]);

/* ---- nftables.c ---- */

int nftm_init(struct traffic *t, struct err *err);
void nftm_fini(struct traffic *t);
int nftm_apply(struct traffic *t, const struct traffic_params *p, struct err *err);
int nftm_check(struct traffic *t, const struct traffic_params *p, char *what, size_t len,
	       struct err *err);
/* Delete the tables flannel-ipv4 (fam[0]) / flannel-ipv6 (fam[1]) when
 * present. Never fails: what it could not do becomes a note. */
void nftm_remove_tables(struct traffic *t, const bool fam[TRAFFIC_NFAM], const char *why,
			char *what, size_t len);

#endif
