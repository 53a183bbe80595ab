// SPDX-License-Identifier: Apache-2.0
/*
 * The parameters as both modes read them, and flannel's rule sets (rules.h).
 */
#include "nft/rules.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

int traffic_fam_index(int af)
{
	if (af == AF_INET)
		return 0;
	if (af == AF_INET6)
		return 1;
	return -1;
}

static bool fam_on(const struct traffic_params *p, int fi)
{
	return fi == 0 ? p->ipv4 : p->ipv6;
}

bool traffic_set_on(const struct traffic_params *p, int fi, enum traffic_set set)
{
	if (!fam_on(p, fi))
		return false;
	if (set == TRAFFIC_OVERLAY)
		return p->overlay_proto == IPPROTO_UDP ||
		       (p->overlay_proto == IPPROTO_IPIP && fi == 0);
	return set == TRAFFIC_MASQ ? p->masq : p->forward;
}

static int cmp_addr(const void *a, const void *b)
{
	return ip_addr_cmp(a, b);
}

size_t traffic_peer_list(const struct traffic_params *p, int fi, struct ip_addr **ret)
{
	int af = fi == 0 ? AF_INET : AF_INET6;
	struct ip_addr *v;
	size_t i, n = 0, u = 0;

	*ret = NULL;
	for (i = 0; i < p->npeers; i++)
		n += p->peers[i].family == af && !ip_addr_is_unset(&p->peers[i]);
	if (n == 0)
		return 0;
	v = xcalloc(n, sizeof(*v));
	for (i = 0, n = 0; i < p->npeers; i++)
		if (p->peers[i].family == af && !ip_addr_is_unset(&p->peers[i]))
			v[n++] = p->peers[i];
	qsort(v, n, sizeof(*v), cmp_addr);
	for (i = 0; i < n; i++)
		if (u == 0 || !ip_addr_equal(&v[u - 1], &v[i]))
			v[u++] = v[i];
	*ret = v;
	return u;
}

bool traffic_peer_find(const struct ip_addr *v, size_t n, const struct ip_addr *a)
{
	return n && bsearch(a, v, n, sizeof(*v), cmp_addr) != NULL;
}

static int norm_prefix(const struct ip_prefix *in, int af, char out[IP_PREFIX_STRLEN])
{
	struct ip_prefix p;

	if (in->addr.family != af || ip_prefix_make(&in->addr, in->len, &p) < 0)
		return -EINVAL;
	ip_prefix_format(&p, out);
	return 0;
}

int traffic_prefixes(const struct traffic_params *p, int fi, enum traffic_set set,
		     char net[IP_PREFIX_STRLEN], char pod[IP_PREFIX_STRLEN])
{
	int af = fi == 0 ? AF_INET : AF_INET6;

	if (fi < 0 || fi >= TRAFFIC_NFAM)
		return -EINVAL;
	if (norm_prefix(fi == 0 ? &p->network : &p->network6, af, net) < 0)
		return -EINVAL;
	if (set == TRAFFIC_MASQ && pod &&
	    norm_prefix(fi == 0 ? &p->subnet : &p->subnet6, af, pod) < 0)
		return -EINVAL;
	return 0;
}

/* Table shorthands: a match on an address, or on anything but it. */
#define IS(a)  { TRAFFIC_##a, false }
#define NOT(a) { TRAFFIC_##a, true }

/* Masquerading (spec 8.1, 8.3), in order. */
static const struct traffic_rule masq_rules[] = {
	/* kube-proxy marks what it NATs itself: no double NAT */
	{ .mark = true, .verdict = TRAFFIC_RETURN },
	/* no NAT pod -> cluster, cluster -> pod, or outside -> own pods */
	{ .src = IS(POD), .dst = IS(CLUSTER), .verdict = TRAFFIC_RETURN },
	{ .src = IS(CLUSTER), .dst = IS(POD), .verdict = TRAFFIC_RETURN },
	{ .src = NOT(CLUSTER), .dst = IS(POD), .verdict = TRAFFIC_RETURN },
	/* pods leaving the cluster (not multicast), and host -> cluster */
	{ .src = IS(CLUSTER), .dst = NOT(MCAST), .verdict = TRAFFIC_MASQUERADE },
	{ .src = NOT(CLUSTER), .dst = IS(CLUSTER), .verdict = TRAFFIC_MASQUERADE },
};

/* upstream's nftables rule 4 says != POD here, where iptables says ! -s CLUSTER */
static const struct traffic_rule masq_rule4_nft = {
	.src = NOT(POD), .dst = IS(CLUSTER), .verdict = TRAFFIC_RETURN,
};

/* Forwarding (spec 8.2, 8.3): from and to the cluster. */
static const struct traffic_rule forward_rules[] = {
	{ .src = IS(CLUSTER), .verdict = TRAFFIC_ACCEPT },
	{ .dst = IS(CLUSTER), .verdict = TRAFFIC_ACCEPT },
};

_Static_assert(sizeof(masq_rules) <= sizeof(((struct traffic_rule_set *)0)->rule) &&
	       sizeof(forward_rules) <= sizeof(((struct traffic_rule_set *)0)->rule),
	       "TRAFFIC_MAX_RULES too small");

int traffic_rule_set(const struct traffic_params *p, int fi, enum traffic_set set,
		     bool upstream_nft, struct traffic_rule_set *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (traffic_prefixes(p, fi, set, ret->cluster, ret->pod) < 0)
		return -EINVAL;
	ret->mcast = fi ? "ff00::/8" : "224.0.0.0/4";
	if (set == TRAFFIC_MASQ) {
		memcpy(ret->rule, masq_rules, sizeof(masq_rules));
		ret->n = sizeof(masq_rules) / sizeof(masq_rules[0]);
		if (upstream_nft)
			ret->rule[3] = masq_rule4_nft;
	} else {
		memcpy(ret->rule, forward_rules, sizeof(forward_rules));
		ret->n = sizeof(forward_rules) / sizeof(forward_rules[0]);
	}
	return 0;
}

const char *traffic_rule_addr(const struct traffic_rule_set *rs, enum traffic_addr a)
{
	switch (a) {
	case TRAFFIC_CLUSTER:
		return rs->cluster;
	case TRAFFIC_POD:
		return rs->pod;
	case TRAFFIC_MCAST:
		return rs->mcast;
	default:
		return "";
	}
}
