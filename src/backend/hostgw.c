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

struct backend {
	struct ext_iface ext;
	bool family_on[2];
	struct kstate *ks;
	struct hmap peers;
	bool started; /* the whole lease set is known: the kernel is ours to program */
	struct nl_route *scratch; /* desired()'s array, freed by desired_done() */
};

static int nothing_to_ensure(void *arg)
{
	(void)arg;
	return 0;
}

static bool desired(void *arg, int family, struct rc_desired *want, struct rc_scope *scope)
{
	struct backend *b = arg;
	int fi = family == AF_INET6;
	const struct hmap_node *hn;
	size_t iter, n = 0;

	if (!b->family_on[fi] || !b->started)
		return false;
	free(b->scratch);
	b->scratch = xreallocarray(NULL, b->peers.count + 1, sizeof(*b->scratch));
	for (hn = hmap_first(&b->peers, &iter); hn; hn = hmap_next(&b->peers, hn, &iter)) {
		const struct hg_peer *p = hmap_entry(hn, struct hg_peer, node);

		if (p->route[fi].dst.addr.family)
			b->scratch[n++] = p->route[fi];
	}
	want->routes = b->scratch;
	want->n_routes = n;
	scope->family = family;
	scope->dev_index = 0; /* only routes marked WEFT_RTPROT are ours */
	return true;
}

static bool concerns(void *arg, const struct nlmsghdr *nlh)
{
	struct nl_route r;

	(void)arg;
	return nlh->nlmsg_type == RTM_DELROUTE && nl_route_parse(nlh, &r) == 0 &&
	       r.protocol == WEFT_RTPROT;
}

static void desired_done(void *arg)
{
	struct backend *b = arg;

	free(b->scratch);
	b->scratch = NULL;
}

static const struct kstate_ops hg_kstate_ops = {
	.ensure = nothing_to_ensure,
	.desired = desired,
	.desired_done = desired_done,
	.concerns = concerns,
};

static void hg_destroy(struct backend *b);

static int hg_create(struct loop *loop, const struct ext_iface *ext, const struct netconf *nc,
		     struct backend **ret, struct err *err)
{
	struct backend *b;
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
	b->ext = *ext;
	b->family_on[0] = nc->enable_ipv4;
	b->family_on[1] = nc->enable_ipv6;
	hmap_init(&b->peers);
	rc = kstate_new(loop, &hg_kstate_ops, b, RECONCILE_PERIOD_MS, "host-gw", &b->ks);
	if (rc < 0) {
		hg_destroy(b);
		return err_set(err, rc, "cannot open netlink: %s", strerror(-rc));
	}
	*ret = b;
	return 0;
}

static int hg_lease_attrs(struct backend *b, struct lease_attrs *attrs, struct err *err)
{
	(void)b;
	(void)err;
	snprintf(attrs->backend_type, sizeof(attrs->backend_type), "host-gw");
	return 0;
}

static int hg_lease_acquired(struct backend *b, const struct lease *own, unsigned *ret_mtu,
			     struct err *err)
{
	(void)b;
	(void)own;
	(void)err;
	*ret_mtu = b->ext.mtu;
	return 0;
}

static void route_for(const struct backend *b, const struct lease *l, int fi,
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
	r->oif = b->ext.index;
	r->protocol = WEFT_RTPROT;
}

static void hg_peers(struct backend *b, const struct lease_event *ev, size_t n)
{
	struct nl *nl = kstate_nl(b->ks);

	for (size_t i = 0; i < n; i++) {
		const struct lease *l = ev[i].lease;
		struct hmap_node *hn = hmap_get(&b->peers, l->name);
		struct hg_peer *old = hn ? hmap_entry(hn, struct hg_peer, node) : NULL, *p;
		struct err err = { 0 };

		if (ev[i].kind == LEASE_REMOVED || strcmp(l->attrs.backend_type, "host-gw")) {
			if (ev[i].kind != LEASE_REMOVED)
				log_debug("host-gw: ignoring peer %s of backend type '%s'", l->name,
					  l->attrs.backend_type);
			if (!old)
				continue;
			hmap_remove(&b->peers, l->name);
			for (int f = 0; f < 2 && b->started; f++) {
				int rc = old->route[f].dst.addr.family
						 ? nl_route_del(nl, &old->route[f], &err)
						 : 0;
				if (rc < 0 && rc != -ESRCH)
					kstate_kick(b->ks);
			}
			free(old);
			continue;
		}
		p = xcalloc(1, sizeof(*p));
		memcpy(p->name, l->name, sizeof(p->name));
		p->node.key = p->name;
		for (int f = 0; f < 2; f++) {
			route_for(b, l, f, &p->route[f]);
			/* Before start() the set is only recorded: the first
			 * reconcile programs all of it in one batch. */
			if (!b->started || !p->route[f].dst.addr.family)
				continue;
			if (old && !memcmp(&old->route[f], &p->route[f], sizeof(p->route[f])))
				continue;
			if (nl_route_replace(nl, &p->route[f], &err) < 0) {
				log_warnx("host-gw: route for %s: %s; retrying", l->name, err.msg);
				kstate_kick(b->ks);
			}
		}
		hmap_put(&b->peers, &p->node);
		free(old);
	}
}

static int hg_start(struct backend *b)
{
	b->started = true;
	return kstate_start(b->ks);
}

static void hg_stats(struct backend *b, struct backend_stats *ret)
{
	const struct hmap_node *hn;
	size_t iter;

	memset(ret, 0, sizeof(*ret));
	for (hn = hmap_first(&b->peers, &iter); hn; hn = hmap_next(&b->peers, hn, &iter)) {
		const struct hg_peer *p = hmap_entry(hn, struct hg_peer, node);

		ret->peers_programmed +=
			b->started && (p->route[0].dst.addr.family || p->route[1].dst.addr.family);
	}
	kstate_report(b->ks, ret);
}

static void hg_destroy(struct backend *b)
{
	struct hmap_node *hn, *next;
	size_t iter;

	if (!b)
		return;
	kstate_free(b->ks);
	for (hn = hmap_first(&b->peers, &iter); hn; hn = next) {
		next = hmap_next(&b->peers, hn, &iter);
		free(hmap_entry(hn, struct hg_peer, node));
	}
	hmap_destroy(&b->peers);
	free(b->scratch);
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
