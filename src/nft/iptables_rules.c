// SPDX-License-Identifier: Apache-2.0
/*
 * iptables mode's rule text (flannel spec 8.1, 8.2): the rules as
 * `iptables -S` prints them and the `iptables-restore --noflush` payload
 * that writes them. Functions of the parameters only; iptables.c runs the
 * tools.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#include "nft/iptables_int.h"
#include "nft/rules.h"
#include "nft/text.h"

const struct ipt_set_def ipt_sets[TRAFFIC_NSET] = {
	[TRAFFIC_MASQ] = { "nat", "POSTROUTING", "FLANNEL-POSTRTG", "flanneld masq",
			   "masquerading" },
	[TRAFFIC_FORWARD] = { "filter", "FORWARD", "FLANNEL-FWD", "flanneld forward",
			      "forwarding" },
	[TRAFFIC_OVERLAY] = { "filter", "INPUT", "WEFT-OVERLAY", "weft overlay peers only",
			      "overlay filtering" },
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

/* The overlay set: the jump matches what is addressed to the port (INPUT:
 * to this host), not from lo; the chain lets peers return and drops the
 * rest. */
static int overlay_build(const struct traffic_params *p, int fi, const char *cm,
			 struct ipt_rules *r)
{
	const char *chain = ipt_sets[TRAFFIC_OVERLAY].chain;

	if (fi < 0 || fi >= TRAFFIC_NFAM || !traffic_set_on(p, fi, TRAFFIC_OVERLAY))
		return -EINVAL;
	if (p->overlay_proto == IPPROTO_UDP)
		snprintf(r->jump, sizeof(r->jump), "! -i lo -p udp -m udp --dport %u %s -j %s",
			 p->overlay_port, cm, chain);
	else
		snprintf(r->jump, sizeof(r->jump), "! -i lo -p 4 %s -j %s", cm, chain);
	snprintf(r->rule[0], IPT_RULE_MAX, "%s -j DROP", cm);
	r->n = 1;
	r->npeers = traffic_peer_list(p, fi, &r->peers);
	return 0;
}

void ipt_rules_free(struct ipt_rules *r)
{
	free(r->peers);
	r->peers = NULL;
	r->npeers = 0;
}

int ipt_build(const struct traffic_params *p, int fi, enum traffic_set set, bool random_fully,
	      struct ipt_rules *r)
{
	const struct ipt_set_def *d = &ipt_sets[set];
	struct traffic_rule_set rs;
	char cm[64];
	unsigned i;

	snprintf(cm, sizeof(cm), "-m comment --comment \"%s\"", d->comment);
	memset(r, 0, sizeof(*r));
	if (set == TRAFFIC_OVERLAY)
		return overlay_build(p, fi, cm, r);
	if (traffic_rule_set(p, fi, set, false, &rs) < 0)
		return -EINVAL;
	snprintf(r->jump, sizeof(r->jump), "%s -j %s", cm, d->chain);
	for (i = 0; i < rs.n; i++)
		rule_spec(&rs, &rs.rule[i], cm, random_fully, r->rule[i], IPT_RULE_MAX);
	r->n = rs.n;
	return 0;
}

/* "-s 10.0.0.1/32 -j RETURN", a peer's rule spec. */
static void peer_spec(const struct ip_addr *a, char *s, size_t len)
{
	char ip[IP_ADDR_STRLEN];

	snprintf(s, len, "-s %s/%u -j RETURN", ip_addr_format(a, ip), ip_family_bits(a->family));
}

int ipt_chain_text(const struct ipt_rules *r, enum traffic_set set, struct buf *out)
{
	const char *chain = ipt_sets[set].chain;
	char spec[IPT_RULE_MAX];
	unsigned i;
	size_t k;
	int rc;

	rc = traffic_bprintf(out, "-N %s\n", chain);
	for (k = 0; k < r->npeers && rc == 0; k++) {
		peer_spec(&r->peers[k], spec, sizeof(spec));
		rc = traffic_bprintf(out, "-A %s %s\n", chain, spec);
	}
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
	ipt_rules_free(&r);
	return traffic_bprintf(out, "-A %s %s\n", ipt_sets[set].builtin, r.jump);
}

int traffic_ipt_chain_text(const struct traffic_params *p, int af, enum traffic_set set,
			   bool random_fully, struct buf *out)
{
	struct ipt_rules r;
	int fi = traffic_fam_index(af), rc;

	if (fi < 0 || ipt_build(p, fi, set, random_fully, &r) < 0)
		return -EINVAL;
	rc = ipt_chain_text(&r, set, out);
	ipt_rules_free(&r);
	return rc;
}

int traffic_ipt_restore_text(const struct traffic_params *p, int af, enum traffic_set set,
			     bool random_fully, const char *builtin_listing, struct buf *out)
{
	const struct ipt_set_def *d = &ipt_sets[set];
	struct ipt_rules r;
	int fi = traffic_fam_index(af), rc;
	char spec[IPT_RULE_MAX];
	unsigned i, n;
	size_t k;

	if (fi < 0 || ipt_build(p, fi, set, random_fully, &r) < 0)
		return -EINVAL;
	rc = traffic_bprintf(out, "*%s\n:%s - [0:0]\n", d->table, d->chain);
	if (rc == 0 && builtin_listing)
		rc = ipt_delete_jumps(builtin_listing, d->chain, out, &n);
	/* The overlay jump goes first: an ACCEPT for the port ahead of it
	 * would let everyone through. */
	if (rc == 0 && set == TRAFFIC_OVERLAY)
		rc = traffic_bprintf(out, "-I %s 1 %s\n", d->builtin, r.jump);
	else if (rc == 0)
		rc = traffic_bprintf(out, "-A %s %s\n", d->builtin, r.jump);
	for (k = 0; k < r.npeers && rc == 0; k++) {
		peer_spec(&r.peers[k], spec, sizeof(spec));
		rc = traffic_bprintf(out, "-A %s %s\n", d->chain, spec);
	}
	for (i = 0; i < r.n && rc == 0; i++)
		rc = traffic_bprintf(out, "-A %s %s\n", d->chain, r.rule[i]);
	if (rc == 0)
		rc = traffic_bprintf(out, "COMMIT\n");
	ipt_rules_free(&r);
	return rc;
}

/* "-s ADDR/LEN -j RETURN" with LEN the family's width: the peer, else false. */
static bool parse_peer_spec(const char *s, size_t len, int af, struct ip_addr *ret)
{
	char buf[IP_ADDR_STRLEN + 32], *slash, *end;
	unsigned long bits;

	if (len < 3 || len >= sizeof(buf) || memcmp(s, "-s ", 3) != 0)
		return false;
	memcpy(buf, s + 3, len - 3);
	buf[len - 3] = '\0';
	slash = strchr(buf, '/');
	if (!slash)
		return false;
	*slash = '\0';
	bits = strtoul(slash + 1, &end, 10);
	if (strcmp(end, " -j RETURN") != 0 || ip_addr_parse_family(buf, af, ret) < 0)
		return false;
	return bits == ip_family_bits(af);
}

static int cmp_addr(const void *a, const void *b)
{
	return ip_addr_cmp(a, b);
}

int traffic_ipt_peers_text(const struct traffic_params *p, int af, const char *listing,
			   struct buf *out, unsigned *added, unsigned *removed)
{
	const struct ipt_set_def *d = &ipt_sets[TRAFFIC_OVERLAY];
	const char *line = listing, *nl;
	char head[64], spec[IPT_RULE_MAX];
	struct ipt_rules r;
	struct ip_addr *got = NULL;
	size_t n = 0, cap = 0, l, hl, k;
	int fi = traffic_fam_index(af), rc = 0;
	bool drop = false;

	*added = *removed = 0;
	if (fi < 0 || ipt_build(p, fi, TRAFFIC_OVERLAY, false, &r) < 0)
		return -EINVAL;
	hl = (size_t)snprintf(head, sizeof(head), "-A %s ", d->chain);
	/* Every line: the chain, a peer, or the DROP, last. */
	while (line && *line) {
		nl = strchr(line, '\n');
		l = nl ? (size_t)(nl - line) : strlen(line);
		if (drop) {
			rc = -EINVAL; /* anything after the DROP */
		} else if (l == strlen(d->chain) + 3 && memcmp(line, "-N ", 3) == 0 &&
			   memcmp(line + 3, d->chain, l - 3) == 0) {
			/* the chain itself */
		} else if (l > hl && memcmp(line, head, hl) == 0 &&
			   strlen(r.rule[0]) == l - hl && memcmp(line + hl, r.rule[0], l - hl) == 0) {
			drop = true;
		} else {
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				got = xreallocarray(got, cap, sizeof(*got));
			}
			if (l <= hl || memcmp(line, head, hl) != 0 ||
			    !parse_peer_spec(line + hl, l - hl, af, &got[n]))
				rc = -EINVAL;
			n++;
		}
		if (rc < 0)
			goto out;
		line = nl ? nl + 1 : NULL;
	}
	if (!drop) {
		rc = -EINVAL;
		goto out;
	}
	if (n)
		qsort(got, n, sizeof(*got), cmp_addr);
	for (k = 1; k < n; k++) {
		if (ip_addr_equal(&got[k - 1], &got[k])) {
			rc = -EINVAL; /* a peer twice: write it whole */
			goto out;
		}
	}
	for (k = 0; k < n && rc == 0; k++) {
		if (traffic_peer_find(r.peers, r.npeers, &got[k]))
			continue;
		if (*added + *removed == 0)
			rc = traffic_bprintf(out, "*%s\n", d->table);
		peer_spec(&got[k], spec, sizeof(spec));
		if (rc == 0)
			rc = traffic_bprintf(out, "-D %s %s\n", d->chain, spec);
		(*removed)++;
	}
	for (k = 0; k < r.npeers && rc == 0; k++) {
		if (traffic_peer_find(got, n, &r.peers[k]))
			continue;
		if (*added + *removed == 0)
			rc = traffic_bprintf(out, "*%s\n", d->table);
		peer_spec(&r.peers[k], spec, sizeof(spec));
		if (rc == 0)
			rc = traffic_bprintf(out, "-I %s 1 %s\n", d->chain, spec);
		(*added)++;
	}
	if (rc == 0 && *added + *removed)
		rc = traffic_bprintf(out, "COMMIT\n");
out:
	free(got);
	ipt_rules_free(&r);
	return rc;
}
