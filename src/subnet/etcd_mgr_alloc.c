// SPDX-License-Identifier: Apache-2.0
/*
 * The etcd manager's allocation (flannel.md §4.5): which subnets fit the
 * network config and which one to take, from the leases the acquire attempt
 * listed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "subnet/etcd_mgr_int.h"

#define MAX_CANDIDATES 100

static bool v4_in_range(const struct netconf *nc, const struct ip_prefix *p)
{
	return p->addr.family == AF_INET && p->len == nc->subnet_len &&
	       ip_addr_cmp(&p->addr, &nc->subnet_min) >= 0 &&
	       ip_addr_cmp(&p->addr, &nc->subnet_max) <= 0;
}

static bool v6_in_range(const struct netconf *nc, const struct ip_prefix *p)
{
	return p->addr.family == AF_INET6 && p->len == nc->ipv6_subnet_len &&
	       ip_addr_cmp(&p->addr, &nc->ipv6_subnet_min) >= 0 &&
	       ip_addr_cmp(&p->addr, &nc->ipv6_subnet_max) <= 0;
}

bool etcd_mgr_compatible(const struct netconf *nc, const struct subnet_key *k)
{
	if (nc->enable_ipv4 ? !v4_in_range(nc, &k->v4) : subnet_key_has_v4(k))
		return false;
	if (nc->enable_ipv6)
		return k->has_v6 && v6_in_range(nc, &k->v6);
	return !k->has_v6;
}

/* Does any listed lease overlap k (in either family)? */
static bool taken(const struct etcd_mgr *m, const struct subnet_key *k)
{
	for (size_t i = 0; i < m->n_snapshot; i++) {
		const struct subnet_key *o = &m->snapshot[i].subnet;

		if (subnet_key_has_v4(k) && subnet_key_has_v4(o) && ip_prefix_overlaps(&k->v4, &o->v4))
			return true;
		if (k->has_v6 && o->has_v6 && ip_prefix_overlaps(&k->v6, &o->v6))
			return true;
	}
	return false;
}

static uint32_t random_below(uint32_t n)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)rand();
	return n ? r % n : 0;
}

/*
 * Up to MAX_CANDIDATES free subnets of one family between min and max, one
 * chosen at random. The used set is hashed, so that the walk costs O(leases +
 * steps) rather than O(leases × steps).
 */
static int pick_family(const struct etcd_mgr *m, int family, struct ip_prefix *ret)
{
	const struct netconf *nc = &m->nc;
	const struct ip_addr *min = family == AF_INET ? &nc->subnet_min : &nc->ipv6_subnet_min;
	const struct ip_addr *max = family == AF_INET ? &nc->subnet_max : &nc->ipv6_subnet_max;
	unsigned len = family == AF_INET ? nc->subnet_len : nc->ipv6_subnet_len;
	struct ip_prefix cand[MAX_CANDIDATES], p;
	const struct ip_prefix **odd = NULL;
	size_t n = 0, n_odd = 0;
	struct hmap used;
	struct hmap_node *nodes;
	char (*names)[IP_PREFIX_STRLEN];
	int rc = -ENOSPC;

	hmap_init(&used);
	nodes = xcalloc(m->n_snapshot + 1, sizeof(*nodes));
	names = xcalloc(m->n_snapshot + 1, sizeof(*names));
	odd = xcalloc(m->n_snapshot + 1, sizeof(*odd));
	for (size_t i = 0; i < m->n_snapshot; i++) {
		const struct subnet_key *k = &m->snapshot[i].subnet;
		const struct ip_prefix *lp = family == AF_INET ? &k->v4 : &k->v6;

		if (family == AF_INET ? !subnet_key_has_v4(k) : !k->has_v6)
			continue;
		if (lp->len == len) {
			ip_prefix_format(lp, names[i]);
			nodes[i].key = names[i];
			hmap_put(&used, &nodes[i]);
		} else {
			odd[n_odd++] = lp; /* other lengths: checked by overlap */
		}
	}
	if (ip_prefix_make(min, len, &p) < 0)
		goto out;
	while (n < MAX_CANDIDATES && ip_addr_cmp(&p.addr, max) <= 0) {
		char name[IP_PREFIX_STRLEN];
		bool busy = hmap_get(&used, ip_prefix_format(&p, name)) != NULL;

		for (size_t i = 0; !busy && i < n_odd; i++)
			busy = ip_prefix_overlaps(&p, odd[i]);
		if (!busy)
			cand[n++] = p;
		if (ip_prefix_next(&p, &p) < 0)
			break;
	}
	if (n) {
		*ret = cand[random_below((uint32_t)n)];
		rc = 0;
	}
out:
	hmap_destroy(&used);
	free(nodes);
	free(names);
	free(odd);
	return rc;
}

/* Steps 4 and 5: the previous subnet if it is free, else a random free one. */
int etcd_mgr_alloc_pick(struct etcd_mgr *m)
{
	const struct netconf *nc = &m->nc;
	struct subnet_key k = { 0 };
	int rc;

	if (m->have_prev) {
		bool usable = true;

		if (nc->enable_ipv4) {
			usable = m->prev.has_subnet;
			k.v4 = m->prev.subnet;
		} else {
			ip_prefix_parse("0.0.0.0/0", &k.v4);
		}
		if (nc->enable_ipv6) {
			usable = usable && m->prev.has_ipv6_subnet;
			k.v6 = m->prev.ipv6_subnet;
			k.has_v6 = true;
		}
		if (usable && etcd_mgr_compatible(nc, &k) && !taken(m, &k)) {
			m->pick = k;
			subnet_key_format(&k, m->pick_name, sizeof(m->pick_name));
			log_info("reusing the previous subnet %s from the subnet file",
				 m->pick_name);
			return 0;
		}
	}
	memset(&k, 0, sizeof(k));
	if (nc->enable_ipv4) {
		rc = pick_family(m, AF_INET, &k.v4);
		if (rc < 0)
			return rc;
	} else {
		ip_prefix_parse("0.0.0.0/0", &k.v4);
	}
	if (nc->enable_ipv6) {
		rc = pick_family(m, AF_INET6, &k.v6);
		if (rc < 0)
			return rc;
		k.has_v6 = true;
	}
	m->pick = k;
	return 0;
}
