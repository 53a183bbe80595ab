/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NFT_IPTABLES_INT_H
#define WEFT_NFT_IPTABLES_INT_H

/*
 * Inside iptables mode: the rule text (iptables_rules.c) that iptables.c
 * writes with the tools and compares with their listings.
 */
#include <stdbool.h>

#include "core/buf.h"
#include "nft/rules.h"
#include "nft/traffic.h"

#define IPT_MAX_RULES	6
#define IPT_RULE_MAX	256

struct ipt_set_def {
	const char *table, *builtin, *chain, *comment, *what;
};

extern const struct ipt_set_def ipt_sets[TRAFFIC_NSET];

/* One set's rules as rule specs (what follows "-A CHAIN "). */
struct ipt_rules {
	char jump[IPT_RULE_MAX];
	char rule[IPT_MAX_RULES][IPT_RULE_MAX];
	unsigned n;
};

/* The rules of one set for family fi. 0 or -EINVAL (bad prefixes). */
int ipt_build(const struct traffic_params *p, int fi, enum traffic_set set, bool random_fully,
	      struct ipt_rules *r);
/* The chain as `iptables -S CHAIN` prints it. 0 or -E2BIG. */
int ipt_chain_text(const struct ipt_rules *r, enum traffic_set set, struct buf *out);
/* Append "-D<rest>" for every line of listing (`-S` output) that jumps to
 * chain; *n counts them. 0 or -E2BIG. */
int ipt_delete_jumps(const char *listing, const char *chain, struct buf *out, unsigned *n);

/* iptables.c, also for the unit tests: "iptables v1.8.9 (nf_tables)" ->
 * 1, 8, 9. 0 or -EINVAL. */
int ipt_parse_version(const char *s, unsigned v[3]);

#endif
