/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NFT_IPTABLES_INT_H
#define WEFT_NFT_IPTABLES_INT_H

/*
 * Inside iptables mode: what iptables.c (the mode's calls) takes from
 * iptables_rules.c (the rule text) and iptables_tools.c (running the tools).
 */
#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"
#include "nft/rules.h"
#include "nft/traffic.h"
#include "nft/traffic_int.h"

#define IPT_RULE_MAX	256

struct ipt_set_def {
	const char *table, *builtin, *chain, *comment, *what;
};

extern const struct ipt_set_def ipt_sets[TRAFFIC_NSET];

/* One set's rules as rule specs (what follows "-A CHAIN "). TRAFFIC_OVERLAY:
 * one RETURN per peer (peers, sorted), then rule[0], the DROP. */
struct ipt_rules {
	char jump[IPT_RULE_MAX];
	char rule[TRAFFIC_MAX_RULES][IPT_RULE_MAX];
	unsigned n;
	struct ip_addr *peers;
	size_t npeers;
};

/* The rules of one set for family fi. 0 or -EINVAL (bad prefixes, no
 * overlay rule); ipt_rules_free after 0. */
int ipt_build(const struct traffic_params *p, int fi, enum traffic_set set, bool random_fully,
	      struct ipt_rules *r);
void ipt_rules_free(struct ipt_rules *r);
/* The chain as `iptables -S CHAIN` prints it. 0 or -E2BIG. */
int ipt_chain_text(const struct ipt_rules *r, enum traffic_set set, struct buf *out);
/* Append "-D<rest>" for every line of listing (`-S` output) that jumps to
 * chain; *n counts them. 0 or -E2BIG. */
int ipt_delete_jumps(const char *listing, const char *chain, struct buf *out, unsigned *n);

/* ---- iptables_tools.c ---- */

#define IPT_OUT_MAX	(1u << 20)  /* a listing larger than this is not ours */
#define IPT_EXIT_RESOURCE 4 /* iptables' RESOURCE_PROBLEM: the lock wait ran out */

extern const char *const ipt_tool_name[TRAFFIC_NFAM][2]; /* iptables, iptables-restore */
extern const char *const ipt_fam_name[TRAFFIC_NFAM];     /* IPv4, IPv6 */

struct ipt_bin {
	char *ipt;          /* iptables / ip6tables, NULL when not on PATH */
	char *restore;      /* iptables-restore / ip6tables-restore */
	bool probed;
	bool wait;          /* iptables --wait (>= 1.4.20) */
	bool wait_limit;    /* iptables -w SECONDS (>= 1.4.22) */
	bool restore_wait;  /* iptables-restore -w SECONDS (>= 1.6.2) */
	bool random_fully;  /* MASQUERADE --random-fully (>= 1.6.2) */
};

/* The mode (iptables.c's ops reach it from the base with container_of). */
struct ipt_mode {
	struct traffic_mode base;
	struct ipt_bin bin[TRAFFIC_NFAM];
	/*
	 * What the kernel reported right after our own write, kept only when it
	 * differs from the text we generate (an older tool printing a rule its
	 * own way, a kernel without comment support). The check compares with
	 * it instead, so that a printing difference never turns into a re-apply
	 * every resync period.
	 */
	char *ref[TRAFFIC_NFAM][TRAFFIC_NSET];
	char *ref_jump[TRAFFIC_NFAM][TRAFFIC_NSET];
};

/* Look the tools of both families up on PATH (a missing one stays NULL);
 * free them. */
void ipt_tools_find(struct ipt_bin bin[TRAFFIC_NFAM]);
void ipt_tools_free(struct ipt_bin bin[TRAFFIC_NFAM]);
/* Both tools of a family, looked up again if missing (installed since).
 * 0 or -ENOENT, naming the purpose ("masquerading"). */
int ipt_need_tools(struct ipt_mode *m, int fi, const char *purpose, struct err *err);
/* Once per family, after the tools were found. A failed probe is retried
 * next time; until then the optional flags stay off. */
void ipt_probe(struct ipt_mode *m, int fi);
/* MASQUERADE --random-fully for p: the tool has it, p does not disable it. */
bool ipt_random_fully(const struct ipt_mode *m, int fi, const struct traffic_params *p);
/* `iptables [-w N] -t table -S [chain]` into out: the exit status (a
 * missing chain is not an error here), or -errno; err set unless 0. */
int ipt_list(struct ipt_mode *m, int fi, const char *table, const char *chain, struct buf *out,
	     struct err *err);
/* `iptables-restore --noflush [-w N]` with payload as stdin. 0 or -errno. */
int ipt_restore(struct ipt_mode *m, int fi, const char *payload, struct err *err);
/* Also for the unit tests: "iptables v1.8.9 (nf_tables)" -> 1, 8, 9.
 * 0 or -EINVAL. */
int ipt_parse_version(const char *s, unsigned v[3]);

#endif
