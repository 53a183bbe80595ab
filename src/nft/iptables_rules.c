// SPDX-License-Identifier: Apache-2.0
/*
 * iptables mode's rule text (flannel spec 8.1, 8.2): the rules as
 * `iptables -S` prints them and the `iptables-restore --noflush` payload
 * that writes them. Functions of the parameters only; iptables.c runs the
 * tools.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nft/iptables_int.h"
#include "nft/rules.h"
#include "nft/text.h"

const struct ipt_set_def ipt_sets[TRAFFIC_NSET] = {
	[TRAFFIC_MASQ] = { "nat", "POSTROUTING", "FLANNEL-POSTRTG", "flanneld masq",
			   "masquerading" },
	[TRAFFIC_FORWARD] = { "filter", "FORWARD", "FLANNEL-FWD", "flanneld forward",
			      "forwarding" },
};

/* One rule as `iptables -S` prints it after "-A CHAIN ". */
static void rule_spec(const struct traffic_rule_set *rs, const struct traffic_rule *r,
		      const char *cm, bool random_fully, char *s, size_t len)
{
	static const char *const target[] = {
		[TRAFFIC_RETURN] = "RETURN",
		[TRAFFIC_MASQUERADE] = "MASQUERADE",
		[TRAFFIC_ACCEPT] = "ACCEPT",
	};

	s[0] = '\0';
	if (r->mark)
		traffic_catf(s, len, "-m mark --mark 0x4000/0x4000 ");
	if (r->src.addr != TRAFFIC_ANY)
		traffic_catf(s, len, "%s-s %s ", r->src.negate ? "! " : "",
			     traffic_rule_addr(rs, r->src.addr));
	if (r->dst.addr != TRAFFIC_ANY)
		traffic_catf(s, len, "%s-d %s ", r->dst.negate ? "! " : "",
			     traffic_rule_addr(rs, r->dst.addr));
	traffic_catf(s, len, "%s -j %s%s", cm, target[r->verdict],
		     r->verdict == TRAFFIC_MASQUERADE && random_fully ? " --random-fully" : "");
}

int ipt_build(const struct traffic_params *p, int fi, enum traffic_set set, bool random_fully,
	      struct ipt_rules *r)
{
	const struct ipt_set_def *d = &ipt_sets[set];
	struct traffic_rule_set rs;
	char cm[64];
	unsigned i;

	if (traffic_rule_set(p, fi, set, false, &rs) < 0)
		return -EINVAL;
	snprintf(cm, sizeof(cm), "-m comment --comment \"%s\"", d->comment);
	memset(r, 0, sizeof(*r));
	snprintf(r->jump, sizeof(r->jump), "%s -j %s", cm, d->chain);
	for (i = 0; i < rs.n; i++)
		rule_spec(&rs, &rs.rule[i], cm, random_fully, r->rule[i], IPT_RULE_MAX);
	r->n = rs.n;
	return 0;
}

int ipt_chain_text(const struct ipt_rules *r, enum traffic_set set, struct buf *out)
{
	const char *chain = ipt_sets[set].chain;
	unsigned i;
	int rc;

	rc = traffic_bprintf(out, "-N %s\n", chain);
	for (i = 0; i < r->n && rc == 0; i++)
		rc = traffic_bprintf(out, "-A %s %s\n", chain, r->rule[i]);
	return rc;
}

/* Is this `-S` line a rule that jumps (or goes) to chain? */
static bool is_jump_to(const char *line, size_t len, const char *chain)
{
	size_t cl = strlen(chain);

	if (len < 3 || memcmp(line, "-A ", 3) != 0 || len < cl + 4)
		return false;
	if (memcmp(line + len - cl, chain, cl) != 0)
		return false;
	return memcmp(line + len - cl - 4, " -j ", 4) == 0 ||
	       memcmp(line + len - cl - 4, " -g ", 4) == 0;
}

int ipt_delete_jumps(const char *listing, const char *chain, struct buf *out, unsigned *n)
{
	const char *p = listing, *nl;
	size_t l;
	int rc = 0;

	*n = 0;
	while (p && *p && rc == 0) {
		nl = strchr(p, '\n');
		l = nl ? (size_t)(nl - p) : strlen(p);
		if (is_jump_to(p, l, chain)) {
			rc = traffic_bprintf(out, "-D%.*s\n", (int)(l - 2), p + 2);
			(*n)++;
		}
		p = nl ? nl + 1 : NULL;
	}
	return rc;
}

int traffic_ipt_jump_text(const struct traffic_params *p, int af, enum traffic_set set,
			  struct buf *out)
{
	struct ipt_rules r;
	int fi = traffic_fam_index(af);

	if (fi < 0 || ipt_build(p, fi, set, false, &r) < 0)
		return -EINVAL;
	return traffic_bprintf(out, "-A %s %s\n", ipt_sets[set].builtin, r.jump);
}

int traffic_ipt_chain_text(const struct traffic_params *p, int af, enum traffic_set set,
			   bool random_fully, struct buf *out)
{
	struct ipt_rules r;
	int fi = traffic_fam_index(af);

	if (fi < 0 || ipt_build(p, fi, set, random_fully, &r) < 0)
		return -EINVAL;
	return ipt_chain_text(&r, set, out);
}

int traffic_ipt_restore_text(const struct traffic_params *p, int af, enum traffic_set set,
			     bool random_fully, const char *builtin_listing, struct buf *out)
{
	const struct ipt_set_def *d = &ipt_sets[set];
	struct ipt_rules r;
	int fi = traffic_fam_index(af), rc;
	unsigned i, n;

	if (fi < 0 || ipt_build(p, fi, set, random_fully, &r) < 0)
		return -EINVAL;
	rc = traffic_bprintf(out, "*%s\n:%s - [0:0]\n", d->table, d->chain);
	if (rc == 0 && builtin_listing)
		rc = ipt_delete_jumps(builtin_listing, d->chain, out, &n);
	if (rc == 0)
		rc = traffic_bprintf(out, "-A %s %s\n", d->builtin, r.jump);
	for (i = 0; i < r.n && rc == 0; i++)
		rc = traffic_bprintf(out, "-A %s %s\n", d->chain, r.rule[i]);
	if (rc == 0)
		rc = traffic_bprintf(out, "COMMIT\n");
	return rc;
}
