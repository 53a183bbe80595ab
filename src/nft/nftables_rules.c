// SPDX-License-Identifier: Apache-2.0
/*
 * nftables mode's rule text (flannel spec 8.3): the tables as `nft list`
 * prints them and the transaction that writes them. Functions of the
 * parameters only; nftables.c runs them through libnftables.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#include "nft/nftables_int.h"
#include "nft/rules.h"
#include "nft/text.h"

const char *const nftm_family[TRAFFIC_NFAM] = { "ip", "ip6" };
const char *const nftm_table[TRAFFIC_NFAM] = { "flannel-ipv4", "flannel-ipv6" };

#define POSTRTG_COMMENT "chain to manage traffic masquerading by flannel"
#define FORWARD_COMMENT "chain to accept flannel traffic"
#define FORWARD_SPEC	"type filter hook forward priority filter"
#define OVERLAY_COMMENT "weft: only peers may send to the overlay port"
#define OVERLAY_SPEC	"type filter hook input priority filter"

static const char *const set_type[TRAFFIC_NFAM] = { "ipv4_addr", "ipv6_addr" };

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

/*
 * The overlay rule: what is addressed to this host (hook input) for the
 * port, not from lo, from anyone not in the set. IP protocol 4 is written
 * as a number (a host without /etc/protocols knows no name) and listed
 * as nft prints it.
 */
static void overlay_rule(const struct traffic_params *p, int fi, bool listing, char *s,
			 size_t len)
{
	if (p->overlay_proto == IPPROTO_UDP)
		snprintf(s, len, "iif != \"lo\" udp dport %u %s saddr != @" NFTM_PEER_SET
			 " counter drop", p->overlay_port, nftm_family[fi]);
	else
		snprintf(s, len, "iif != \"lo\" ip protocol %s ip saddr != @" NFTM_PEER_SET
			 " counter drop", listing ? "ipencap" : "4");
}

/* A set that is off has no rules. */
static int nftm_build(const struct traffic_params *p, int fi, enum traffic_set set,
		      bool fully_random, bool listing, struct nftm_rules *r)
{
	struct traffic_rule_set rs;
	unsigned i;

	memset(r, 0, sizeof(*r));
	if (!traffic_set_on(p, fi, set))
		return 0;
	if (set == TRAFFIC_OVERLAY) {
		overlay_rule(p, fi, listing, r->rule[0], NFTM_RULE_MAX);
		r->n = 1;
		return 0;
	}
	if (traffic_rule_set(p, fi, set, true, &rs) < 0)
		return -EINVAL;
	for (i = 0; i < rs.n; i++)
		rule_text(&rs, &rs.rule[i], fi, fully_random, r->rule[i], NFTM_RULE_MAX);
	r->n = rs.n;
	return 0;
}

static int all_sets(const struct traffic_params *p, int fi, bool fully_random, bool listing,
		    struct nftm_rules r[TRAFFIC_NSET])
{
	int set;

	if (fi < 0 || fi >= TRAFFIC_NFAM)
		return -EINVAL;
	for (set = 0; set < TRAFFIC_NSET; set++)
		if (nftm_build(p, fi, (enum traffic_set)set, fully_random, listing, &r[set]) < 0)
			return -EINVAL;
	return 0;
}

static const char *const chain_names[TRAFFIC_NSET] = { "postrtg", "forward", "overlay-input" };
static const char *const chain_comments[TRAFFIC_NSET] = { POSTRTG_COMMENT, FORWARD_COMMENT,
							  OVERLAY_COMMENT };
static const char *const chain_specs[TRAFFIC_NSET] = { NFTM_POSTRTG_SPEC, FORWARD_SPEC,
						       OVERLAY_SPEC };

int traffic_nft_table_text(const struct traffic_params *p, int af, bool fully_random,
			   struct buf *out)
{
	struct nftm_rules r[TRAFFIC_NSET];
	int fi = traffic_fam_index(af), set, rc, chains = 0;
	unsigned i;

	if (all_sets(p, fi, fully_random, true, r) < 0)
		return -EINVAL;
	rc = traffic_bprintf(out, "table %s %s {\n\tcomment \"rules for %s\"\n", nftm_family[fi],
			     nftm_table[fi], nftm_table[fi]);
	/* Sets come first in a listing; terse: without their elements. */
	if (rc == 0 && traffic_set_on(p, fi, TRAFFIC_OVERLAY) && chains++ == 0)
		rc = traffic_bprintf(out, "\tset " NFTM_PEER_SET " {\n\t\ttype %s\n\t}\n",
				     set_type[fi]);
	for (set = 0; set < TRAFFIC_NSET && rc == 0; set++) {
		if (!traffic_set_on(p, fi, (enum traffic_set)set))
			continue;
		rc = traffic_bprintf(out, "%s\tchain %s {\n\t\tcomment \"%s\"\n\t\t%s; policy accept;\n",
				     chains++ ? "\n" : "", chain_names[set], chain_comments[set],
				     chain_specs[set]);
		for (i = 0; i < r[set].n && rc == 0; i++)
			rc = traffic_bprintf(out, "\t\t%s\n", r[set].rule[i]);
		if (rc == 0)
			rc = traffic_bprintf(out, "\t}\n");
	}
	if (rc == 0)
		rc = traffic_bprintf(out, "}\n");
	return rc;
}

static int elements(struct buf *out, const char *verb, int fi, const struct ip_addr *v,
		    size_t n);

int traffic_nft_apply_text(const struct traffic_params *p, int af, bool fully_random,
			   bool recreate, struct buf *out)
{
	struct nftm_rules r[TRAFFIC_NSET];
	int fi = traffic_fam_index(af), set, rc;
	struct ip_addr *peers = NULL;
	const char *f, *tb;
	bool overlay;
	unsigned i;
	size_t n;

	if (all_sets(p, fi, fully_random, false, r) < 0)
		return -EINVAL;
	f = nftm_family[fi];
	tb = nftm_table[fi];
	overlay = traffic_set_on(p, fi, TRAFFIC_OVERLAY);
	/* `add` never fails on an existing table; the delete after it then
	 * always has something to delete. A comment only sticks on creation. */
	rc = traffic_bprintf(out, "add table %s %s { comment \"rules for %s\" ; }\n", f, tb, tb);
	if (rc == 0 && recreate)
		rc = traffic_bprintf(out, "delete table %s %s\n"
				     "add table %s %s { comment \"rules for %s\" ; }\n",
				     f, tb, f, tb, tb);
	else if (rc == 0)
		rc = traffic_bprintf(out, "flush table %s %s\n", f, tb);
	/* A flush leaves a set's elements: flushed by name. */
	if (rc == 0 && overlay)
		rc = traffic_bprintf(out, "add set %s %s " NFTM_PEER_SET " { type %s ; }\n"
				     "flush set %s %s " NFTM_PEER_SET "\n",
				     f, tb, set_type[fi], f, tb);
	for (set = 0; set < TRAFFIC_NSET && rc == 0; set++) {
		if (!traffic_set_on(p, fi, (enum traffic_set)set))
			continue;
		rc = traffic_bprintf(out, "add chain %s %s %s { comment \"%s\" ; %s ; policy accept ; }\n",
				     f, tb, chain_names[set], chain_comments[set], chain_specs[set]);
		for (i = 0; i < r[set].n && rc == 0; i++)
			rc = traffic_bprintf(out, "add rule %s %s %s %s\n", f, tb, chain_names[set],
					     r[set].rule[i]);
	}
	if (rc == 0 && overlay) {
		n = traffic_peer_list(p, fi, &peers);
		rc = elements(out, "add", fi, peers, n);
		free(peers);
	}
	return rc;
}

/* Elements per command: short lines, one transaction all the same. */
#define NFTM_ELEMENTS_PER_CMD 64

/* "<verb> element ip flannel-ipv4 overlay-peers { a, b }" for v[0..n). */
static int elements(struct buf *out, const char *verb, int fi, const struct ip_addr *v, size_t n)
{
	char ip[IP_ADDR_STRLEN];
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		if (i % NFTM_ELEMENTS_PER_CMD == 0)
			rc = traffic_bprintf(out, "%s element %s %s " NFTM_PEER_SET " { ", verb,
					     nftm_family[fi], nftm_table[fi]);
		if (rc == 0)
			rc = traffic_bprintf(out, "%s%s", ip_addr_format(&v[i], ip),
					     (i + 1) % NFTM_ELEMENTS_PER_CMD && i + 1 < n ? ", "
										    : " }\n");
	}
	return rc;
}

static int cmp_addr(const void *a, const void *b)
{
	return ip_addr_cmp(a, b);
}

/* The elements of `nft list set` output (none without an elements line);
 * -EINVAL for anything that is not an address of family fi. */
static int parse_elements(const char *listing, int fi, struct ip_addr **ret, size_t *n)
{
	static const char key[] = "elements = {";
	const char *s = strstr(listing, key), *e;
	char tok[IP_ADDR_STRLEN + 1];
	size_t cap = 0, l;

	*ret = NULL;
	*n = 0;
	if (!s)
		return 0;
	s += sizeof(key) - 1;
	e = strchr(s, '}');
	if (!e)
		return -EINVAL;
	while (s < e) {
		s += strspn(s, ", \t\n");
		if (s >= e)
			break;
		l = strcspn(s, ", \t\n}");
		if (l >= sizeof(tok))
			return -EINVAL;
		memcpy(tok, s, l);
		tok[l] = '\0';
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			*ret = xreallocarray(*ret, cap, sizeof(**ret));
		}
		if (ip_addr_parse_family(tok, fi ? AF_INET6 : AF_INET, &(*ret)[*n]) < 0)
			return -EINVAL;
		(*n)++;
		s += l;
	}
	if (*n)
		qsort(*ret, *n, sizeof(**ret), cmp_addr);
	return 0;
}

int traffic_nft_peers_text(const struct traffic_params *p, int af, const char *listing,
			   struct buf *out, unsigned *added, unsigned *removed)
{
	struct ip_addr *want = NULL, *got = NULL, *d = NULL;
	size_t nw, ng, nd = 0, k;
	int fi = traffic_fam_index(af), rc;

	*added = *removed = 0;
	if (fi < 0 || !traffic_set_on(p, fi, TRAFFIC_OVERLAY))
		return -EINVAL;
	rc = parse_elements(listing, fi, &got, &ng);
	if (rc < 0)
		goto out;
	nw = traffic_peer_list(p, fi, &want);
	d = xcalloc(nw + ng + 1, sizeof(*d));
	/* Deletions first: one transaction, so the order only matters to nft. */
	for (k = 0; k < ng; k++)
		if (!traffic_peer_find(want, nw, &got[k]) &&
		    (nd == 0 || !ip_addr_equal(&d[nd - 1], &got[k])))
			d[nd++] = got[k];
	*removed = (unsigned)nd;
	rc = elements(out, "delete", fi, d, nd);
	nd = 0;
	for (k = 0; k < nw; k++)
		if (!traffic_peer_find(got, ng, &want[k]))
			d[nd++] = want[k];
	*added = (unsigned)nd;
	if (rc == 0)
		rc = elements(out, "add", fi, d, nd);
out:
	free(want);
	free(got);
	free(d);
	return rc;
}
