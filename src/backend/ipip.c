// SPDX-License-Identifier: Apache-2.0
/*
 * ipip (flannel.md §7.5, upstream pkg/backend/ipip/ipip.go): the device
 * flannel.ipip, and one route per peer kept by route_net as host-gw's are.
 *
 * The device has a local address (the external interface's) and no remote:
 * the kernel's fallback device tunl0 (local and remote any) may coexist, a
 * packet for us is matched to flannel.ipip by its destination. A route's
 * gateway is the tunnel's far end for that packet.
 *
 * Unlike upstream, the device is made before the lease is asked for: a kernel
 * without ipip support stops weftd before any lease is taken.
 */
#include "backend/ipip.h"
#include "backend/options.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/route_net.h"
#include "core/container_of.h"
#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "nl/addr.h"
#include "nl/link.h"
#include "nl/nl.h"
#include "nl/route.h"
#include "subnet/lease.h"
#include "subnet/netconf.h"
#include "subnet/subnet_mgr.h"

#define IPV4_MIN_MTU 68

struct ipip {
	struct backend base;
	struct ipip_cfg cfg;
	int index;	       /* flannel.ipip */
	struct ip_prefix addr; /* our subnet's address /32, once the lease is known */
	bool ready;	       /* lease known: the device is addressed and up */
	struct route_net *rn;
};

static struct ipip *to_ipip(struct backend *base)
{
	return container_of(base, struct ipip, base);
}

/* ---- the pure parts (ipip.h) ---- */

int ipip_conf_parse(const char *backend_json, const struct netconf *nc,
		    const struct ext_iface *ext, struct ipip_cfg *ret, struct err *err)
{
	int rc;

	memset(ret, 0, sizeof(*ret));
	rc = ipip_options_parse(backend_json, nc, &ret->direct_routing, err);
	if (rc < 0)
		return rc;
	if (ext->iface_addr.family != AF_INET || ip_addr_is_unset(&ext->iface_addr))
		return err_set(err, -EINVAL,
			       "the ipip backend needs an IPv4 address on %s (the tunnel's local "
			       "address)",
			       ext->name);
	if (ext->mtu < IPIP_OVERHEAD + IPV4_MIN_MTU)
		return err_set(err, -EINVAL, "MTU %u of iface %s is too small for ipip mode to work",
			       ext->mtu, ext->name);
	ret->mtu = ext->mtu - IPIP_OVERHEAD;
	return 0;
}

void ipip_lease_attrs_fill(struct lease_attrs *attrs)
{
	snprintf(attrs->backend_type, sizeof(attrs->backend_type), "ipip");
}

bool ipip_peer_route(const struct lease *l, int oif, struct nl_route *r)
{
	memset(r, 0, sizeof(*r));
	if (!subnet_key_has_v4(&l->subnet) || l->attrs.public_ip.family != AF_INET ||
	    ip_addr_is_unset(&l->attrs.public_ip))
		return false;
	r->dst = l->subnet.v4;
	r->gw = l->attrs.public_ip;
	r->oif = oif;
	/* Upstream marks both kinds onlink: the tunnel's gateway is no
	 * neighbour, and a direct peer is on the link anyway. */
	r->onlink = true;
	r->protocol = WEFT_RTPROT;
	return true;
}

bool ipip_link_compatible(const struct nl_link *l, const struct ip_addr *local)
{
	return l->is_ipip && ip_addr_equal(&l->ipip.local, local) &&
	       ip_addr_is_unset(&l->ipip.remote);
}

/* ---- the device ---- */

static int dev_create(struct ipip *b, struct err *err)
{
	struct nl *nl = route_net_nl(b->rn);
	struct nl_ipip_params p = { .name = IPIP_DEV_NAME, .local = b->base.ext.iface_addr };
	struct err e = { 0 };
	int rc;

	rc = nl_ipip_create(nl, &p, &e);
	if (rc == -EOPNOTSUPP)
		return err_set(err, rc,
			       "cannot create %s: the kernel has no ipip support: %s; load the "
			       "ipip module (modprobe ipip) or use a kernel built with "
			       "CONFIG_NET_IPIP",
			       IPIP_DEV_NAME, e.msg);
	if (rc < 0)
		return err_set(err, rc, "cannot create %s: %s", IPIP_DEV_NAME, e.msg);
	return 0;
}

/*
 * flannel.ipip exists, is ours (recreated when its local or remote are not
 * what we want) and has our MTU; once the lease is known, our address and
 * up. A device of that name of another kind is somebody else's: refused,
 * never touched.
 */
static int dev_ensure(struct ipip *b, struct err *err)
{
	struct nl *nl = route_net_nl(b->rn);
	const struct ip_addr *local = &b->base.ext.iface_addr;
	struct nl_link l;
	char x[IP_ADDR_STRLEN], y[IP_ADDR_STRLEN];
	int old = b->index, rc;

	rc = nl_link_get_by_name(nl, IPIP_DEV_NAME, &l);
	if (rc == 0 && strcmp(l.kind, "ipip"))
		return err_set(err, -EEXIST,
			       "%s isn't an ipip mode device (kind '%s'), please remove device and "
			       "try again",
			       IPIP_DEV_NAME, l.kind);
	if (rc == 0 && !ipip_link_compatible(&l, local)) {
		log_warnx("ipip: %s already exists with incompatible attributes: local=%s "
			  "remote=%s; recreating device",
			  IPIP_DEV_NAME, l.ipip.local.family ? ip_addr_format(&l.ipip.local, x) : "none",
			  l.ipip.remote.family ? ip_addr_format(&l.ipip.remote, y) : "none");
		rc = nl_link_delete(nl, l.index, err);
		if (rc < 0)
			return rc;
		rc = -ENODEV;
	}
	if (rc == -ENODEV) {
		if (b->index)
			log_warnx("ipip: %s was missing; recreating it", IPIP_DEV_NAME);
		rc = dev_create(b, err);
		if (rc < 0)
			return rc;
		rc = nl_link_get_by_name(nl, IPIP_DEV_NAME, &l);
	}
	if (rc < 0)
		return err_set(err, rc, "cannot read %s: %s", IPIP_DEV_NAME, strerror(-rc));
	b->index = l.index;
	if (old && old != l.index)
		route_net_move_oif(b->rn, old, l.index);
	if (l.mtu != b->cfg.mtu) {
		log_info("ipip: current MTU of %s is %u, setting it to %u", IPIP_DEV_NAME, l.mtu,
			 b->cfg.mtu);
		rc = nl_link_set_mtu(nl, l.index, b->cfg.mtu, err);
		if (rc < 0)
			return rc;
	}
	if (!b->ready)
		return 0;
	/* A /32: no broadcast routes; the source address of host-to-pod traffic. */
	rc = nl_addr_set_only(nl, b->index, &b->addr, err);
	if (rc < 0)
		return rc;
	return l.up ? 0 : nl_link_set_up(nl, b->index, true, err);
}

/* ---- route_net hooks ---- */

static int ipip_ensure(void *arg)
{
	struct ipip *b = arg;
	struct err err = { 0 };
	int rc = dev_ensure(b, &err);

	if (rc < 0)
		log_warnx("ipip: %s", err.msg);
	return rc;
}

/* Upstream's ip.DirectRouting: the kernel reaches the address without a
 * gateway. Only on the external interface: that is where the route goes. */
static bool is_direct(struct ipip *b, const struct ip_addr *pub)
{
	struct err err = { 0 };
	char a[IP_ADDR_STRLEN];
	int oif = nl_route_direct_oif(route_net_nl(b->rn), pub, &err);

	if (oif < 0) {
		log_warnx("ipip: couldn't look up the route to %s: %s; tunnelling",
			  ip_addr_format(pub, a), err.msg);
		return false;
	}
	return oif == b->base.ext.index;
}

static void ipip_route(void *arg, const struct lease *l, int fi, struct nl_route *r)
{
	struct ipip *b = arg;
	char a[IP_ADDR_STRLEN];
	int oif = b->index;

	if (fi != 0 || !subnet_key_has_v4(&l->subnet))
		return;
	if (b->cfg.direct_routing && l->attrs.public_ip.family &&
	    is_direct(b, &l->attrs.public_ip)) {
		log_debug("ipip: route to %s via direct routing",
			  ip_addr_format(&l->attrs.public_ip, a));
		oif = b->base.ext.index;
	}
	ipip_peer_route(l, oif, r);
}

static bool ipip_concerns(void *arg, const struct nlmsghdr *nlh)
{
	struct ipip *b = arg;

	switch (nlh->nlmsg_type) {
	case RTM_DELLINK:
	case RTM_NEWLINK: {
		struct nl_link l;

		if (nl_link_parse(nlh, &l) < 0)
			return false;
		/* Deleted, or changed under us (down, other MTU, another local). */
		return l.index == b->index &&
		       (nlh->nlmsg_type == RTM_DELLINK || (b->ready && !l.up) ||
			l.mtu != b->cfg.mtu ||
			(l.is_ipip && !ipip_link_compatible(&l, &b->base.ext.iface_addr)));
	}
	case RTM_DELADDR: {
		struct nl_addr a;

		return nl_addr_parse(nlh, &a) == 0 && a.index == b->index;
	}
	default:
		return false;
	}
}

static const struct route_net_ops ipip_route_ops = {
	.type = "ipip",
	.route = ipip_route,
	.ensure = ipip_ensure,
	.concerns = ipip_concerns,
};

/* ---- backend ops ---- */

static void ipip_destroy(struct backend *base);

static int ipip_create(const struct backend_params *p, struct backend **ret, struct err *err)
{
	static const bool family_on[2] = { true, false };
	struct ipip *b;
	char a[IP_ADDR_STRLEN];
	int rc;

	b = xcalloc(1, sizeof(*b));
	backend_base_init(&b->base, p);
	rc = ipip_conf_parse(p->nc->backend_json, p->nc, p->ext, &b->cfg, err);
	if (rc < 0)
		goto fail;
	log_info("ipip: config DirectRouting=%s", b->cfg.direct_routing ? "true" : "false");
	/* No nexthop objects: whether the tunnel takes its far end from one is
	 * not something we could try here (no ipip module on the test kernels). */
	rc = route_net_new(p->loop, &ipip_route_ops, b, family_on, false, &b->rn);
	if (rc < 0) {
		err_set(err, rc, "cannot open netlink: %s", strerror(-rc));
		goto fail;
	}
	rc = dev_ensure(b, err);
	if (rc < 0)
		goto fail;
	log_info("ipip: device %s (index %d, local %s, MTU %u)", IPIP_DEV_NAME, b->index,
		 ip_addr_format(&b->base.ext.iface_addr, a), b->cfg.mtu);
	*ret = &b->base;
	return 0;
fail:
	ipip_destroy(&b->base);
	return rc;
}

static int ipip_lease_attrs(struct backend *base, struct lease_attrs *attrs, struct err *err)
{
	(void)base;
	(void)err;
	ipip_lease_attrs_fill(attrs);
	return 0;
}

static int ipip_lease_acquired(struct backend *base, const struct lease *own, unsigned *ret_mtu,
			       struct err *err)
{
	struct ipip *b = to_ipip(base);
	int rc;

	b->addr.addr = own->subnet.v4.addr;
	b->addr.len = 32;
	b->ready = true;
	rc = dev_ensure(b, err);
	if (rc < 0)
		return rc;
	*ret_mtu = b->cfg.mtu;
	return 0;
}

static void ipip_peers(struct backend *base, const struct lease_event *ev, size_t n)
{
	route_net_peers(to_ipip(base)->rn, ev, n);
}

static int ipip_start(struct backend *base)
{
	return route_net_start(to_ipip(base)->rn);
}

static void ipip_stats(struct backend *base, struct backend_stats *ret)
{
	route_net_stats(to_ipip(base)->rn, ret);
}

/* The interface was recreated or readdressed: direct routes leave through
 * its new index, and the tunnel's local address is its address (the
 * reconcile recreates flannel.ipip when that changed). */
static int ipip_ext_changed(struct backend *base, const struct ext_iface *ext, struct err *err)
{
	struct ipip *b = to_ipip(base);
	int old = base->ext.index, rc;

	base->ext = *ext;
	route_net_move_oif(b->rn, old, ext->index);
	rc = route_net_run(b->rn); /* flannel.ipip first (ipip_ensure), then routes */
	if (rc < 0)
		return err_set(err, rc, "flannel.ipip and routes via %s: %s", ext->name,
			       strerror(-rc));
	return 0;
}

static void ipip_destroy(struct backend *base)
{
	struct ipip *b = to_ipip(base);

	route_net_free(b->rn);
	free(b);
}

const struct backend_ops ipip_backend_ops = {
	.type = "ipip",
	.create = ipip_create,
	.lease_attrs = ipip_lease_attrs,
	.lease_acquired = ipip_lease_acquired,
	.peers = ipip_peers,
	.start = ipip_start,
	.stats = ipip_stats,
	.ext_changed = ipip_ext_changed,
	.destroy = ipip_destroy,
};
