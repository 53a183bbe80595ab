// SPDX-License-Identifier: Apache-2.0
/*
 * nftables mode's rule text (flannel spec 8.3): the tables as `nft list`
 * prints them and the transaction that writes them. Functions of the
 * parameters only; nftables.c runs them through libnftables.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nft/nftables_int.h"
#include "nft/rules.h"
#include "nft/text.h"

const char *const nftm_family[TRAFFIC_NFAM] = { "ip", "ip6" };
const char *const nftm_table[TRAFFIC_NFAM] = { "flannel-ipv4", "flannel-ipv6" };

#define POSTRTG_COMMENT "chain to manage traffic masquerading by flannel"
#define FORWARD_COMMENT "chain to accept flannel traffic"
#define FORWARD_SPEC	"type filter hook forward priority filter"

#define NFTM_RULE_MAX 192

struct nftm_rules {
	char rule[TRAFFIC_MAX_RULES][NFTM_RULE_MAX];
	unsigned n;
};

/* One rule as `nft list` prints it; nft parses the same text back. */
static void rule_text(const struct traffic_rule_set *rs, const struct traffic_rule *r, int fi,
		      bool fully_random, char *s, size_t len)
{
	static const char *const statement[] = {
		[TRAFFIC_RETURN] = "return",
		[TRAFFIC_MASQUERADE] = "masquerade",
		[TRAFFIC_ACCEPT] = "accept",
	};
	const char *a = nftm_family[fi];

	s[0] = '\0';
	/* An exact match, as upstream: kube-proxy's mark is not masked. */
	if (r->mark)
		traffic_catf(s, len, "meta mark 0x00004000 ");
	if (r->src.addr != TRAFFIC_ANY)
		traffic_catf(s, len, "%s saddr %s%s ", a, r->src.negate ? "!= " : "",
			     traffic_rule_addr(rs, r->src.addr));
	if (r->dst.addr != TRAFFIC_ANY)
		traffic_catf(s, len, "%s daddr %s%s ", a, r->dst.negate ? "!= " : "",
			     traffic_rule_addr(rs, r->dst.addr));
	traffic_catf(s, len, "%s%s", statement[r->verdict],
		     r->verdict == TRAFFIC_MASQUERADE && fully_random ? " fully-random" : "");
}

/* A set that is off has no rules. */
static int nftm_build(const struct traffic_params *p, int fi, enum traffic_set set,
		      bool fully_random, struct nftm_rules *r)
{
	struct traffic_rule_set rs;
	unsigned i;

	memset(r, 0, sizeof(*r));
	if (!traffic_set_on(p, fi, set))
		return 0;
	if (traffic_rule_set(p, fi, set, true, &rs) < 0)
		return -EINVAL;
	for (i = 0; i < rs.n; i++)
		rule_text(&rs, &rs.rule[i], fi, fully_random, r->rule[i], NFTM_RULE_MAX);
	r->n = rs.n;
	return 0;
}

static int both_sets(const struct traffic_params *p, int fi, bool fully_random,
		     struct nftm_rules r[TRAFFIC_NSET])
{
	if (fi < 0 || nftm_build(p, fi, TRAFFIC_MASQ, fully_random, &r[TRAFFIC_MASQ]) < 0 ||
	    nftm_build(p, fi, TRAFFIC_FORWARD, fully_random, &r[TRAFFIC_FORWARD]) < 0)
		return -EINVAL;
	return 0;
}

static const char *chain_name(int set)
{
	return set == TRAFFIC_MASQ ? "postrtg" : "forward";
}

int traffic_nft_table_text(const struct traffic_params *p, int af, bool fully_random,
			   struct buf *out)
{
	struct nftm_rules r[TRAFFIC_NSET];
	int fi = traffic_fam_index(af), set, rc, chains = 0;
	unsigned i;

	if (both_sets(p, fi, fully_random, r) < 0)
		return -EINVAL;
	rc = traffic_bprintf(out, "table %s %s {\n\tcomment \"rules for %s\"\n", nftm_family[fi],
			     nftm_table[fi], nftm_table[fi]);
	for (set = 0; set < TRAFFIC_NSET && rc == 0; set++) {
		if (!traffic_set_on(p, fi, (enum traffic_set)set))
			continue;
		rc = traffic_bprintf(out, "%s\tchain %s {\n\t\tcomment \"%s\"\n\t\t%s; policy accept;\n",
				     chains++ ? "\n" : "", chain_name(set),
				     set == TRAFFIC_MASQ ? POSTRTG_COMMENT : FORWARD_COMMENT,
				     set == TRAFFIC_MASQ ? NFTM_POSTRTG_SPEC : FORWARD_SPEC);
		for (i = 0; i < r[set].n && rc == 0; i++)
			rc = traffic_bprintf(out, "\t\t%s\n", r[set].rule[i]);
		if (rc == 0)
			rc = traffic_bprintf(out, "\t}\n");
	}
	if (rc == 0)
		rc = traffic_bprintf(out, "}\n");
	return rc;
}

int traffic_nft_apply_text(const struct traffic_params *p, int af, bool fully_random,
			   bool recreate, struct buf *out)
{
	struct nftm_rules r[TRAFFIC_NSET];
	int fi = traffic_fam_index(af), set, rc;
	const char *f, *tb;
	unsigned i;

	if (both_sets(p, fi, fully_random, r) < 0)
		return -EINVAL;
	f = nftm_family[fi];
	tb = nftm_table[fi];
	/* `add` never fails on an existing table; the delete after it then
	 * always has something to delete. A comment only sticks on creation. */
	rc = traffic_bprintf(out, "add table %s %s { comment \"rules for %s\" ; }\n", f, tb, tb);
	if (rc == 0 && recreate)
		rc = traffic_bprintf(out, "delete table %s %s\n"
				     "add table %s %s { comment \"rules for %s\" ; }\n",
				     f, tb, f, tb, tb);
	else if (rc == 0)
		rc = traffic_bprintf(out, "flush table %s %s\n", f, tb);
	for (set = 0; set < TRAFFIC_NSET && rc == 0; set++) {
		if (!traffic_set_on(p, fi, (enum traffic_set)set))
			continue;
		rc = traffic_bprintf(out, "add chain %s %s %s { comment \"%s\" ; %s ; policy accept ; }\n",
				     f, tb, chain_name(set),
				     set == TRAFFIC_MASQ ? POSTRTG_COMMENT : FORWARD_COMMENT,
				     set == TRAFFIC_MASQ ? NFTM_POSTRTG_SPEC : FORWARD_SPEC);
		for (i = 0; i < r[set].n && rc == 0; i++)
			rc = traffic_bprintf(out, "add rule %s %s %s %s\n", f, tb, chain_name(set),
					     r[set].rule[i]);
	}
	return rc;
}
