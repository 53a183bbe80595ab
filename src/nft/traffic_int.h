/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NFT_TRAFFIC_INT_H
#define WEFT_NFT_TRAFFIC_INT_H

/*
 * Inside the traffic module: the object shared by traffic.c (dispatch),
 * iptables.c (ipt_*) and nftables.c (nftm_*). Not for other modules; the
 * unit tests include it for the small parsers.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "nft/traffic.h"

struct nft_ctx;

/* Family index: 0 = IPv4, 1 = IPv6. */
#define TRAFFIC_NFAM 2
#define TRAFFIC_NSET 2

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

/* ---- traffic.c: shared helpers ---- */

int traffic_fam_index(int af);       /* AF_INET 0, AF_INET6 1, else -1 */
bool traffic_set_on(const struct traffic_params *p, int fi, enum traffic_set set);
/* The set's prefixes for family fi, host bits cleared: network, and the pod
 * subnet (masquerade only; pod may be NULL). -EINVAL when unusable. */
int traffic_prefixes(const struct traffic_params *p, int fi, enum traffic_set set,
		     char net[IP_PREFIX_STRLEN], char pod[IP_PREFIX_STRLEN]);
bool traffic_params_equal(const struct traffic_params *a, const struct traffic_params *b);
int traffic_bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append "; "-separated text to what (bounded, truncates). */
void traffic_note(char *what, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Does text hold exactly this line (without its newline)? */
bool traffic_has_line(const char *text, const char *line, size_t linelen);
/* One phrase for how got differs from want, line-wise ("3 lines missing"). */
void traffic_describe_diff(const char *want, const char *got, char *out, size_t len);

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
