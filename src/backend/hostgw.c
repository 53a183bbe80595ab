// SPDX-License-Identifier: Apache-2.0
/*
 * host-gw (flannel.md §7.3): every peer's subnet is routed via the peer's
 * public IP on the external interface; the hosts must share an L2 network.
 * No device, no encapsulation, FLANNEL_MTU is the interface MTU. The peers'
 * routes are kept by route_net (shared with ipip).
 */
#include "backend/hostgw.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/route_net.h"
#include "core/container_of.h"
#include "core/err.h"
#include "core/xmalloc.h"
#include "nl/route.h"
#include "subnet/netconf.h"
#include "subnet/subnet_mgr.h"

struct hostgw {
	struct backend base;
	struct route_net *rn;
};

static struct hostgw *to_hg(struct backend *base)
{
	return container_of(base, struct hostgw, base);
}

static void route_for(void *arg, const struct lease *l, int fi, struct nl_route *r)
{
	const struct hostgw *b = arg;

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
}

static const struct route_net_ops hg_route_ops = {
	.type = "host-gw",
	.route = route_for,
};

/* host-gw routes to peers' public addresses: ours must be the interface's. */
static int check_ext(const struct ext_iface *ext, bool v4, bool v6, struct err *err)
{
	char a[IP_ADDR_STRLEN], c[IP_ADDR_STRLEN];

	if (v4 && !ip_addr_equal(&ext->public_ip, &ext->iface_addr))
		return err_set(err, -EINVAL,
			       "host-gw needs the public IP (%s) to be the interface address (%s); "
			       "probably you're on a NAT",
			       ip_addr_format(&ext->public_ip, a), ip_addr_format(&ext->iface_addr, c));
	if (v6 && !ip_addr_equal(&ext->public_ipv6, &ext->iface_addr6))
		return err_set(err, -EINVAL,
			       "host-gw needs the public IPv6 (%s) to be the interface address (%s)",
			       ip_addr_format(&ext->public_ipv6, a),
			       ip_addr_format(&ext->iface_addr6, c));
	return 0;
}

static void hg_destroy(struct backend *base);

static int hg_create(const struct backend_params *p, struct backend **ret, struct err *err)
{
	const struct ext_iface *ext = p->ext;
	const struct netconf *nc = p->nc;
	const bool family_on[2] = { nc->enable_ipv4, nc->enable_ipv6 };
	struct hostgw *b;
	int rc;

	rc = check_ext(ext, nc->enable_ipv4, nc->enable_ipv6, err);
	if (rc < 0)
		return rc;
	b = xcalloc(1, sizeof(*b));
	backend_base_init(&b->base, p);
	rc = route_net_new(p->loop, &hg_route_ops, b, family_on, true, &b->rn);
	if (rc < 0) {
		hg_destroy(&b->base);
		return err_set(err, rc, "cannot open netlink: %s", strerror(-rc));
	}
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

static void hg_peers(struct backend *base, const struct lease_event *ev, size_t n)
{
	route_net_peers(to_hg(base)->rn, ev, n);
}

static int hg_start(struct backend *base)
{
	return route_net_start(to_hg(base)->rn);
}

static void hg_stats(struct backend *base, struct backend_stats *ret)
{
	route_net_stats(to_hg(base)->rn, ret);
}

/* The interface was recreated or readdressed: our routes leave through its
 * new index (the kernel dropped those on the old one); the reconcile puts
 * them back. */
static int hg_ext_changed(struct backend *base, const struct ext_iface *ext, struct err *err)
{
	struct hostgw *b = to_hg(base);
	int old = base->ext.index, rc;

	rc = check_ext(ext, base->ext.public_ip.family != 0, base->ext.public_ipv6.family != 0,
		       err);
	if (rc < 0)
		return rc;
	base->ext = *ext;
	route_net_move_oif(b->rn, old, ext->index);
	rc = route_net_run(b->rn);
	if (rc < 0)
		return err_set(err, rc, "routes via %s: %s", ext->name, strerror(-rc));
	return 0;
}

static void hg_destroy(struct backend *base)
{
	struct hostgw *b = to_hg(base);

	route_net_free(b->rn);
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
	.ext_changed = hg_ext_changed,
	.destroy = hg_destroy,
};
