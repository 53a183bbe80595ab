// SPDX-License-Identifier: Apache-2.0
/*
 * host-gw (flannel.md §7.3): every peer's subnet is routed via the peer's
 * public IP on the external interface; the hosts must share an L2 network.
 * No device, no encapsulation, FLANNEL_MTU is the interface MTU.
 */
#include "backend/hostgw.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/kstate.h"
#include "core/err.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "core/container_of.h"
#include "nl/nexthop.h"
#include "nl/nl.h"
#include "nl/route.h"
#include "subnet/netconf.h"
#include "subnet/subnet_mgr.h"

#define RECONCILE_PERIOD_MS 10000

struct hg_peer {
	struct hmap_node node;
	char name[SUBNET_KEY_STRLEN];
	struct nl_route route[2]; /* [0] IPv4, [1] IPv6; dst family 0 = none */
};

struct hostgw {
	struct backend base;
	bool family_on[2];
	struct kstate *ks;
	struct hmap peers;
	bool started;	   /* the whole lease set is known: the kernel is ours to program */
	bool use_nexthops; /* IPv4 routes go through nexthop objects (rc_nexthop_id) */
	/* desired()'s arrays, freed by desired_done() */
	struct nl_route *scratch;
	struct nl_nexthop *scratch_nh;
};

/* The nexthop object an IPv4 route (nh_id set) goes through. */
static void route_nexthop(const struct hostgw *b, const struct nl_route *r,
			  struct nl_nexthop *nh)
{
	memset(nh, 0, sizeof(*nh));
	nh->id = r->nh_id;
	nh->gw = r->gw;
	nh->oif = b->base.ext.index;
	nh->protocol = WEFT_RTPROT;
}

static int nothing_to_ensure(void *arg)
{
	(void)arg;
	return 0;
}

static void desired_done(void *arg)
{
	struct hostgw *b = arg;

	free(b->scratch);
	free(b->scratch_nh);
	b->scratch = NULL;
	b->scratch_nh = NULL;
}

static bool desired(void *arg, int family, struct rc_desired *want, struct rc_scope *scope)
{
	struct hostgw *b = arg;
	int fi = family == AF_INET6;
	const struct hmap_node *hn;
	size_t iter, n = 0, nn = 0;

	if (!b->family_on[fi] || !b->started)
		return false;
	desired_done(b);
	b->scratch = xreallocarray(NULL, b->peers.count + 1, sizeof(*b->scratch));
	b->scratch_nh = xreallocarray(NULL, b->peers.count + 1, sizeof(*b->scratch_nh));
	for (hn = hmap_first(&b->peers, &iter); hn; hn = hmap_next(&b->peers, hn, &iter)) {
		const struct hg_peer *p = hmap_entry(hn, struct hg_peer, node);

		if (!p->route[fi].dst.addr.family)
			continue;
		b->scratch[n++] = p->route[fi];
		if (p->route[fi].nh_id)
			route_nexthop(b, &p->route[fi], &b->scratch_nh[nn++]);
	}
	*want = (struct rc_desired){
		.routes = b->scratch, .n_routes = n,
		.nexthops = b->scratch_nh, .n_nexthops = nn,
	};
	scope->family = family;
	scope->dev_index = 0; /* only routes and nexthops marked WEFT_RTPROT are ours */
	scope->nexthops = family == AF_INET && b->use_nexthops;
	return true;
}

static bool concerns(void *arg, const struct nlmsghdr *nlh)
{
	struct nl_route r;
	struct nl_nexthop nh;

	(void)arg;
	if (nlh->nlmsg_type == RTM_DELNEXTHOP)
		return nl_nexthop_parse(nlh, &nh) == 0 && nh.protocol == WEFT_RTPROT;
	return nlh->nlmsg_type == RTM_DELROUTE && nl_route_parse(nlh, &r) == 0 &&
	       r.protocol == WEFT_RTPROT;
}

static const struct kstate_ops hg_kstate_ops = {
	.ensure = nothing_to_ensure,
	.desired = desired,
	.desired_done = desired_done,
	.concerns = concerns,
};

static struct hostgw *to_hg(struct backend *base)
{
	return container_of(base, struct hostgw, base);
}

static void hg_destroy(struct backend *base);

static int hg_create(const struct backend_params *p, struct backend **ret, struct err *err)
{
	const struct ext_iface *ext = p->ext;
	const struct netconf *nc = p->nc;
	struct hostgw *b;
	char a[IP_ADDR_STRLEN], c[IP_ADDR_STRLEN];
	int rc;

	if (nc->enable_ipv4 && !ip_addr_equal(&ext->public_ip, &ext->iface_addr))
		return err_set(err, -EINVAL,
			       "host-gw needs the public IP (%s) to be the interface address (%s); "
			       "probably you're on a NAT",
			       ip_addr_format(&ext->public_ip, a), ip_addr_format(&ext->iface_addr, c));
	if (nc->enable_ipv6 && !ip_addr_equal(&ext->public_ipv6, &ext->iface_addr6))
		return err_set(err, -EINVAL,
			       "host-gw needs the public IPv6 (%s) to be the interface address (%s)",
			       ip_addr_format(&ext->public_ipv6, a),
			       ip_addr_format(&ext->iface_addr6, c));
	b = xcalloc(1, sizeof(*b));
	backend_base_init(&b->base, p);
	b->family_on[0] = nc->enable_ipv4;
	b->family_on[1] = nc->enable_ipv6;
	hmap_init(&b->peers);
	rc = kstate_new(p->loop, &hg_kstate_ops, b, RECONCILE_PERIOD_MS, "host-gw", &b->ks);
	if (rc < 0) {
		hg_destroy(&b->base);
		return err_set(err, rc, "cannot open netlink: %s", strerror(-rc));
	}
	b->use_nexthops = b->family_on[0] && kstate_has_nexthops(b->ks);
	*ret = &b->base;
	return 0;
}

static int hg_lease_attrs(struct backend *base, struct lease_attrs *attrs, struct err *err)
{
	(void)base;
	(void)err;
	snprintf(attrs->backend_type, sizeof(attrs->backend_type), "host-gw");
	return 0;
}

static int hg_lease_acquired(struct backend *base, const struct lease *own, unsigned *ret_mtu,
			     struct err *err)
{
	(void)own;
	(void)err;
	*ret_mtu = base->ext.mtu;
	return 0;
}

static void route_for(const struct hostgw *b, const struct lease *l, int fi,
		      struct nl_route *r)
{
	memset(r, 0, sizeof(*r));
	if (!b->family_on[fi])
		return;
	if (fi == 0 && subnet_key_has_v4(&l->subnet) && l->attrs.public_ip.family) {
		r->dst = l->subnet.v4;
		r->gw = l->attrs.public_ip;
	} else if (fi == 1 && l->subnet.has_v6 && l->attrs.public_ipv6.family) {
		r->dst = l->subnet.v6;
		r->gw = l->attrs.public_ipv6;
	} else {
		return;
	}
	r->oif = b->base.ext.index;
	r->protocol = WEFT_RTPROT;
	if (fi == 0 && b->use_nexthops)
		r->nh_id = rc_nexthop_id(&r->dst.addr);
}

/* Lease events go out as one batch; its ACKs are matched back to peers. */
struct hg_batch {
	const char **peer; /* per queued request */
	bool *nexthop_add; /* per queued request: a new route's nexthop (its id may be taken) */
	size_t n, cap;
	unsigned failed;
	struct kstate *ks;
};

static void hg_queued(struct hg_batch *q, int rc, const char *peer, bool nexthop_add)
{
	if (rc < 0) {
		log_warnx("host-gw: peer %s: cannot build a kernel request: %s", peer,
			  strerror(-rc));
		kstate_kick(q->ks);
		return;
	}
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 16;
		q->peer = xreallocarray(q->peer, q->cap, sizeof(*q->peer));
		q->nexthop_add = xreallocarray(q->nexthop_add, q->cap, sizeof(*q->nexthop_add));
	}
	q->peer[q->n] = peer;
	q->nexthop_add[q->n++] = nexthop_add;
}

static void hg_batch_done(void *arg, size_t index, int error, const struct err *err)
{
	struct hg_batch *q = arg;

	/* Deleting what is already gone is fine. */
	if (!error || error == -ESRCH || error == -ENOENT)
		return;
	q->failed++;
	if (error == -EEXIST && q->nexthop_add[index]) {
		log_debug("host-gw: peer %s: its nexthop id is taken; reconciling", q->peer[index]);
		return;
	}
	if (q->failed == 1)
		log_warnx("host-gw: route for %s: %s; reconciling", q->peer[index],
			  err && err->msg[0] ? err->msg : strerror(-error));
}

static void route_remove(struct hostgw *b, struct hg_batch *q, const struct hg_peer *p, int f)
{
	struct nl *nl = kstate_nl(b->ks);

	if (!p->route[f].dst.addr.family)
		return;
	hg_queued(q, nl_route_del_batch(nl, &p->route[f]), p->name, false);
	if (p->route[f].nh_id)
		hg_queued(q, nl_nexthop_del_batch(nl, p->route[f].nh_id), p->name, false);
}

/* fresh: no route of ours for this peer before, so that its nexthop id must
 * be free; one another program holds is left alone (the reconcile this
 * provokes routes the peer by its gateway instead). */
static void route_apply(struct hostgw *b, struct hg_batch *q, const struct hg_peer *p, int f,
			bool fresh)
{
	struct nl *nl = kstate_nl(b->ks);
	struct nl_nexthop nh;

	if (!p->route[f].dst.addr.family)
		return;
	if (p->route[f].nh_id) {
		route_nexthop(b, &p->route[f], &nh);
		hg_queued(q, fresh ? nl_nexthop_add_batch(nl, &nh) : nl_nexthop_replace_batch(nl, &nh),
			  p->name, fresh);
	}
	hg_queued(q, nl_route_replace_batch(nl, &p->route[f]), p->name, false);
}

static void hg_peers(struct backend *base, const struct lease_event *ev, size_t n)
{
	struct hostgw *b = to_hg(base);
	struct hg_batch q = { .ks = b->ks };
	struct hg_peer **gone = xcalloc(n + 1, sizeof(*gone));
	size_t n_gone = 0;

	for (size_t i = 0; i < n; i++) {
		const struct lease *l = ev[i].lease;
		struct hmap_node *hn = hmap_get(&b->peers, l->name);
		struct hg_peer *old = hn ? hmap_entry(hn, struct hg_peer, node) : NULL, *p;

		if (ev[i].kind == LEASE_REMOVED || strcmp(l->attrs.backend_type, "host-gw")) {
			if (ev[i].kind != LEASE_REMOVED)
				log_debug("host-gw: ignoring peer %s of backend type '%s'", l->name,
					  l->attrs.backend_type);
			if (!old)
				continue;
			hmap_remove(&b->peers, l->name);
			for (int f = 0; f < 2 && b->started; f++)
				route_remove(b, &q, old, f);
			gone[n_gone++] = old;
			continue;
		}
		p = xcalloc(1, sizeof(*p));
		memcpy(p->name, l->name, sizeof(p->name));
		p->node.key = p->name;
		/* Before start() the set is only recorded: the first reconcile
		 * programs all of it in one batch. */
		for (int f = 0; f < 2; f++) {
			route_for(b, l, f, &p->route[f]);
			if (!b->started ||
			    (old && !memcmp(&old->route[f], &p->route[f], sizeof(p->route[f]))))
				continue;
			/* A route to another subnet leaves the old one behind. */
			if (old && old->route[f].dst.addr.family &&
			    memcmp(&old->route[f].dst, &p->route[f].dst, sizeof(p->route[f].dst)))
				route_remove(b, &q, old, f);
			route_apply(b, &q, p, f, !old || !old->route[f].dst.addr.family);
		}
		hmap_put(&b->peers, &p->node);
		if (old)
			gone[n_gone++] = old;
	}
	kstate_commit(b->ks, hg_batch_done, &q);
	for (size_t i = 0; i < n_gone; i++)
		free(gone[i]);
	free(gone);
	free(q.peer);
	free(q.nexthop_add);
}

static int hg_start(struct backend *base)
{
	struct hostgw *b = to_hg(base);

	b->started = true;
	return kstate_start(b->ks);
}

static void hg_stats(struct backend *base, struct backend_stats *ret)
{
	struct hostgw *b = to_hg(base);
	const struct hmap_node *hn;
	size_t iter;

	for (hn = hmap_first(&b->peers, &iter); hn; hn = hmap_next(&b->peers, hn, &iter)) {
		const struct hg_peer *p = hmap_entry(hn, struct hg_peer, node);

		ret->peers_programmed +=
			b->started && (p->route[0].dst.addr.family || p->route[1].dst.addr.family);
	}
	kstate_report(b->ks, ret);
}

static void hg_peer_free(struct hmap_node *n)
{
	free(hmap_entry(n, struct hg_peer, node));
}

static void hg_destroy(struct backend *base)
{
	struct hostgw *b = to_hg(base);

	kstate_free(b->ks);
	hmap_clear(&b->peers, hg_peer_free);
	desired_done(b);
	free(b);
}

const struct backend_ops hostgw_backend_ops = {
	.type = "host-gw",
	.create = hg_create,
	.lease_attrs = hg_lease_attrs,
	.lease_acquired = hg_lease_acquired,
	.peers = hg_peers,
	.start = hg_start,
	.stats = hg_stats,
	.destroy = hg_destroy,
};
