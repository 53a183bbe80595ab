// SPDX-License-Identifier: Apache-2.0
/*
 * vxlan (flannel.md §7.2): a kernel VXLAN device flannel.<VNI> (flannel-v6.<VNI>
 * for IPv6) whose local address is our public IP; per peer a permanent
 * neighbour (subnet address -> peer VtepMAC), an FDB entry (VtepMAC -> peer
 * public IP) and an onlink route (subnet via subnet address). DirectRouting
 * peers on our L2 get a plain route via their public IP instead.
 *
 * The device's MAC is what peers know us by: a compatible existing device is
 * adopted with its MAC, and a device deleted under us is recreated with the
 * same one, so that peers never need to learn a new MAC.
 */
#include "backend/vxlan.h"

#include <errno.h>
#include <jansson.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "backend/mtu.h"
#include "backend/vxlan_int.h"
#include "backend/kstate.h"
#include "core/err.h"
#include "core/json_ci.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "nl/addr.h"
#include "nl/link.h"
#include "nl/nexthop.h"
#include "nl/nl.h"
#include "subnet/lease.h"
#include "subnet/netconf.h"
#include "subnet/subnet_mgr.h"

#define RECONCILE_PERIOD_MS 10000

/* ---- peers ---- */

/* A nexthop object per IPv4 overlay peer (see rc_nexthop_id). */
static uint32_t nexthop_id(const struct vxlan *b, const struct vx_peer *p)
{
	if (!b->use_nexthops || p->fam[0].mode != VX_OVERLAY)
		return 0;
	return rc_nexthop_id(&p->subnet.v4.addr);
}

static const struct ip_prefix *peer_subnet(const struct vx_peer *p, int fi)
{
	return fi ? &p->subnet.v6 : &p->subnet.v4;
}

static void peer_route(const struct vxlan *b, const struct vx_peer *p, int fi,
		       struct nl_route *r)
{
	const struct vx_fam *f = &p->fam[fi];

	memset(r, 0, sizeof(*r));
	r->dst = *peer_subnet(p, fi);
	r->protocol = WEFT_RTPROT;
	/* The metric the kernel gives an IPv6 route without one
	 * (IP6_RT_PRIO_USER): the reconcile compares it, and would otherwise
	 * take every IPv6 route of ours for another one and remove it. */
	if (fi)
		r->priority = 1024;
	if (f->mode == VX_DIRECT) {
		/* Same L2 as us: the kernel reaches it without a gateway. */
		r->gw = f->pub;
		r->oif = f->direct_oif;
		return;
	}
	r->gw = r->dst.addr;
	r->oif = b->dev[fi].index;
	r->onlink = true;
	r->nh_id = fi ? 0 : nexthop_id(b, p);
}

static void peer_nexthop(const struct vxlan *b, const struct vx_peer *p, struct nl_nexthop *nh)
{
	memset(nh, 0, sizeof(*nh));
	nh->id = nexthop_id(b, p);
	nh->gw = p->subnet.v4.addr;
	nh->oif = b->dev[0].index;
	nh->onlink = true;
	nh->protocol = WEFT_RTPROT;
}

static void peer_neigh(const struct vxlan *b, const struct vx_peer *p, int fi,
		       struct nl_neigh *n)
{
	memset(n, 0, sizeof(*n));
	n->index = b->dev[fi].index;
	n->dst = peer_subnet(p, fi)->addr;
	memcpy(n->mac, p->fam[fi].mac, MAC_LEN);
	n->has_mac = true;
	n->state = NUD_PERMANENT;
}

static void peer_fdb(const struct vxlan *b, const struct vx_peer *p, int fi, struct nl_neigh *n)
{
	memset(n, 0, sizeof(*n));
	n->index = b->dev[fi].index;
	n->dst = p->fam[fi].pub;
	memcpy(n->mac, p->fam[fi].mac, MAC_LEN);
	n->has_mac = true;
	n->fdb = true;
	n->state = NUD_PERMANENT;
}

int vxlan_data_vtep_mac(const char *data, uint8_t ret[MAC_LEN])
{
	json_t *o = data ? json_loads(data, 0, NULL) : NULL;
	json_t *v = json_get_ci(o, "VtepMAC");
	int rc = json_is_string(v) ? mac_parse(json_string_value(v), json_string_length(v), ret)
				   : -ENOENT;

	json_decref(o);
	return rc;
}

static void fill_fam(struct vxlan *b, const struct lease *l, int family, struct vx_fam *f)
{
	struct vx_dev *d = &b->dev[fam_idx(family)];
	const struct ip_addr *pub = family == AF_INET ? &l->attrs.public_ip : &l->attrs.public_ipv6;
	const char *data = family == AF_INET ? l->attrs.backend_data : l->attrs.backend_v6_data;
	int rc;

	memset(f, 0, sizeof(*f));
	if (!d->enabled || !pub->family || (family == AF_INET && !subnet_key_has_v4(&l->subnet)) ||
	    (family == AF_INET6 && !l->subnet.has_v6))
		return;
	f->pub = *pub;
	if (b->cfg.direct_routing) {
		struct err err = { 0 };
		int oif = nl_route_direct_oif(kstate_nl(b->ks), pub, &err);

		if (oif > 0) {
			f->mode = VX_DIRECT;
			f->direct_oif = oif;
			return;
		}
	}
	rc = vxlan_data_vtep_mac(data, f->mac);
	if (rc < 0) {
		/* An all-zero MAC would become the device's default destination. */
		log_warnx("vxlan: ignoring peer %s: %s", l->name,
			  rc == -ENOENT	       ? "BackendData has no VtepMAC string"
			  : rc == -EADDRNOTAVAIL ? "its VtepMAC is multicast or all-zero"
						 : "its VtepMAC is not of the form xx:xx:xx:xx:xx:xx");
		memset(f, 0, sizeof(*f));
	} else {
		f->mode = VX_OVERLAY;
	}
}

/* Changes made for lease events go out as one batch; its ACKs are matched
 * back to the peers for the log. */
struct vx_op {
	const char *peer;
	bool nexthop_add; /* a new peer's nexthop: its id may be taken */
};

struct vx_batch {
	struct vxlan *b;
	struct vx_op *op; /* per queued request */
	size_t n, cap;
	unsigned failed;
};

static void vx_queued_op(struct vx_batch *q, int rc, const char *peer, bool nexthop_add)
{
	if (rc < 0) {
		log_warnx("vxlan: peer %s: cannot build a kernel request: %s", peer, strerror(-rc));
		kstate_kick(q->b->ks);
		return;
	}
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 16;
		q->op = xreallocarray(q->op, q->cap, sizeof(*q->op));
	}
	q->op[q->n++] = (struct vx_op){ peer, nexthop_add };
}

static void vx_queued(struct vx_batch *q, int rc, const char *peer)
{
	vx_queued_op(q, rc, peer, false);
}

static void fam_remove(struct vx_batch *q, const struct vx_peer *p, int fi)
{
	struct vxlan *b = q->b;
	struct nl *nl = kstate_nl(b->ks);
	struct nl_route r;
	struct nl_nexthop nh;
	struct nl_neigh n;

	if (p->fam[fi].mode == VX_NONE)
		return;
	peer_route(b, p, fi, &r);
	vx_queued(q, nl_route_del_batch(nl, &r), p->name);
	if (p->fam[fi].mode == VX_DIRECT)
		return;
	if (r.nh_id) {
		peer_nexthop(b, p, &nh);
		vx_queued(q, nl_nexthop_del_batch(nl, nh.id), p->name);
	}
	peer_neigh(b, p, fi, &n);
	vx_queued(q, nl_neigh_del_batch(nl, &n), p->name);
	peer_fdb(b, p, fi, &n);
	vx_queued(q, nl_fdb_del_batch(nl, &n), p->name);
}

/* fresh: the peer had no overlay entries in this family before, so that its
 * nexthop id must be free; one taken by another program is left alone (the
 * reconcile this provokes gives the route its gateway instead). */
static void fam_apply(struct vx_batch *q, const struct vx_peer *p, int fi, bool fresh)
{
	struct vxlan *b = q->b;
	struct nl *nl = kstate_nl(b->ks);
	struct nl_route r;
	struct nl_nexthop nh;
	struct nl_neigh n;

	if (p->fam[fi].mode == VX_NONE)
		return;
	peer_route(b, p, fi, &r);
	if (p->fam[fi].mode == VX_OVERLAY) {
		/* Neighbour, FDB entry and nexthop before the route that uses them. */
		peer_neigh(b, p, fi, &n);
		vx_queued(q, nl_neigh_replace_batch(nl, &n), p->name);
		peer_fdb(b, p, fi, &n);
		vx_queued(q, nl_fdb_replace_batch(nl, &n), p->name);
		if (r.nh_id) {
			peer_nexthop(b, p, &nh);
			vx_queued_op(q,
				     fresh ? nl_nexthop_add_batch(nl, &nh)
					   : nl_nexthop_replace_batch(nl, &nh),
				     p->name, fresh);
		}
	}
	vx_queued(q, nl_route_replace_batch(nl, &r), p->name);
}

/* Before re-applying a peer whose entry changed: what the new one does not
 * overwrite goes. A new MAC or public IP only leaves an FDB entry behind (the
 * neighbour and route are replaced in place, without a gap in traffic);
 * anything else (overlay <-> direct, family gone) is removed whole. */
static void fam_change(struct vx_batch *q, const struct vx_peer *old, const struct vx_peer *p,
		       int fi)
{
	struct nl_neigh n;

	if (old->fam[fi].mode == VX_OVERLAY && p->fam[fi].mode == VX_OVERLAY) {
		peer_fdb(q->b, old, fi, &n);
		vx_queued(q, nl_fdb_del_batch(kstate_nl(q->b->ks), &n), old->name);
		return;
	}
	fam_remove(q, old, fi);
}

static void vx_batch_done(void *arg, size_t index, int error, const struct err *err)
{
	struct vx_batch *q = arg;

	/* Deleting what is already gone is fine. */
	if (!error || error == -ESRCH || error == -ENOENT)
		return;
	q->failed++;
	if (error == -EEXIST && q->op[index].nexthop_add) {
		log_debug("vxlan: peer %s: its nexthop id is taken; reconciling", q->op[index].peer);
		return;
	}
	if (q->failed == 1)
		log_warnx("vxlan: programming peer %s: %s; reconciling", q->op[index].peer,
			  err && err->msg[0] ? err->msg : strerror(-error));
}

static void vx_peers(struct backend *base, const struct lease_event *ev, size_t n)
{
	struct vxlan *b = to_vx(base);
	struct vx_batch q = { .b = b };
	struct vx_peer **gone = xcalloc(n + 1, sizeof(*gone));
	size_t n_gone = 0;

	for (size_t i = 0; i < n; i++) {
		const struct lease *l = ev[i].lease;
		struct hmap_node *hn = hmap_get(&b->peers, l->name);
		struct vx_peer *old = hn ? hmap_entry(hn, struct vx_peer, node) : NULL;
		struct vx_peer *p;
		size_t len;

		if (ev[i].kind == LEASE_REMOVED) {
			if (!old)
				continue;
			hmap_remove(&b->peers, l->name);
			for (int f = 0; f < 2 && b->started; f++)
				fam_remove(&q, old, f);
			gone[n_gone++] = old;
			continue;
		}
		/* flannel ignores peers of other backend types. */
		if (strcmp(l->attrs.backend_type, "vxlan")) {
			log_warnx("vxlan: ignoring peer %s of backend type '%s'", l->name,
				  l->attrs.backend_type);
			continue;
		}
		len = strlen(l->name) + 1;
		p = xcalloc(1, sizeof(*p) + len);
		memcpy(p->name, l->name, len);
		p->node.key = p->name;
		p->subnet = l->subnet;
		fill_fam(b, l, AF_INET, &p->fam[0]);
		fill_fam(b, l, AF_INET6, &p->fam[1]);
		if (old && !memcmp(&old->subnet, &p->subnet, sizeof(p->subnet)) &&
		    !memcmp(old->fam, p->fam, sizeof(p->fam))) {
			free(p);
			continue;
		}
		for (int f = 0; f < 2 && b->started; f++) {
			if (old && !memcmp(&old->fam[f], &p->fam[f], sizeof(p->fam[f])))
				continue;
			if (old)
				fam_change(&q, old, p, f);
			fam_apply(&q, p, f, !old || old->fam[f].mode != VX_OVERLAY);
		}
		hmap_put(&b->peers, &p->node);
		if (old)
			gone[n_gone++] = old;
	}
	/* Before start() the set is only recorded: the first reconcile
	 * programs all of it in one go. */
	kstate_commit(b->ks, vx_batch_done, &q);
	for (size_t i = 0; i < n_gone; i++)
		free(gone[i]);
	free(gone);
	free(q.op);
}

static void desired_done(void *arg)
{
	struct vxlan *b = arg;

	free(b->d_routes);
	free(b->d_neighs);
	free(b->d_fdbs);
	free(b->d_nexthops);
	b->d_routes = NULL;
	b->d_neighs = b->d_fdbs = NULL;
	b->d_nexthops = NULL;
}

static bool desired(void *arg, int family, struct rc_desired *want, struct rc_scope *scope)
{
	struct vxlan *b = arg;
	int fi = fam_idx(family);
	struct vx_dev *d = &b->dev[fi];
	const struct hmap_node *hn;
	size_t iter, nr = 0, nn = 0, nh = 0, cap = b->peers.count + 1;

	if (!d->enabled || !b->started)
		return false;
	/* The device index may have changed since (recreated): built anew. */
	desired_done(b);
	b->d_routes = xreallocarray(NULL, cap, sizeof(*b->d_routes));
	b->d_neighs = xreallocarray(NULL, cap, sizeof(*b->d_neighs));
	b->d_fdbs = xreallocarray(NULL, cap, sizeof(*b->d_fdbs));
	b->d_nexthops = xreallocarray(NULL, cap, sizeof(*b->d_nexthops));
	for (hn = hmap_first(&b->peers, &iter); hn; hn = hmap_next(&b->peers, hn, &iter)) {
		const struct vx_peer *p = hmap_entry(hn, struct vx_peer, node);

		if (p->fam[fi].mode == VX_NONE)
			continue;
		peer_route(b, p, fi, &b->d_routes[nr++]);
		if (p->fam[fi].mode != VX_OVERLAY)
			continue;
		peer_neigh(b, p, fi, &b->d_neighs[nn]);
		peer_fdb(b, p, fi, &b->d_fdbs[nn++]);
		if (b->d_routes[nr - 1].nh_id)
			peer_nexthop(b, p, &b->d_nexthops[nh++]);
	}
	*want = (struct rc_desired){
		.nexthops = b->d_nexthops, .n_nexthops = nh,
		.routes = b->d_routes, .n_routes = nr,
		.neighs = b->d_neighs, .n_neighs = nn,
		.fdbs = b->d_fdbs, .n_fdbs = nn,
	};
	scope->family = family;
	scope->dev_index = d->index;
	scope->nexthops = family == AF_INET && b->use_nexthops;
	return true;
}

static bool concerns(void *arg, const struct nlmsghdr *nlh)
{
	struct vxlan *b = arg;
	int i0 = b->dev[0].index, i1 = b->dev[1].index;

	switch (nlh->nlmsg_type) {
	case RTM_DELLINK:
	case RTM_NEWLINK: {
		struct nl_link l;

		if (nl_link_parse(nlh, &l) < 0)
			return false;
		/* Deleted, or changed under us (down, other MTU...). */
		if (l.index != i0 && l.index != i1)
			return false;
		return nlh->nlmsg_type == RTM_DELLINK || !l.up ||
		       l.mtu != b->dev[l.index == i0 ? 0 : 1].mtu;
	}
	case RTM_DELROUTE: {
		struct nl_route r;

		return nl_route_parse(nlh, &r) == 0 &&
		       (r.protocol == WEFT_RTPROT || r.oif == i0 || r.oif == i1);
	}
	case RTM_DELNEIGH: {
		struct nl_neigh n;

		return nl_neigh_parse(nlh, &n) == 0 && (n.index == i0 || n.index == i1);
	}
	case RTM_DELNEXTHOP: {
		struct nl_nexthop nh;

		return nl_nexthop_parse(nlh, &nh) == 0 && nh.protocol == WEFT_RTPROT;
	}
	case RTM_DELADDR: {
		struct nl_addr a;

		return nl_addr_parse(nlh, &a) == 0 && (a.index == i0 || a.index == i1);
	}
	default:
		return false;
	}
}

static const struct kstate_ops vx_kstate_ops = {
	.ensure = vxlan_ensure,
	.desired = desired,
	.desired_done = desired_done,
	.concerns = concerns,
};

/* ---- backend ops ---- */

static void vx_destroy(struct backend *base);

/* Each device's MTU from its own underlay family (IPv4 50, IPv6 70 bytes of
 * overhead); FLANNEL_MTU the smallest, so that a pod's packet fits either. */
static int vx_mtu(struct vxlan *b, const struct ext_iface *ext, struct err *err)
{
	const struct mtu_in in = {
		.backend = "vxlan",
		.iface = ext->name,
		.iface_mtu = ext->mtu,
		.conf_mtu = b->cfg.mtu,
	};
	unsigned mtu[2] = { 0, 0 };

	for (int i = 0; i < 2; i++) {
		struct vx_dev *d = &b->dev[i];
		int rc;

		if (!d->enabled)
			continue;
		rc = mtu_tunnel(&in, mtu_vxlan_overhead(d->family), d->family, &d->mtu, err);
		if (rc < 0)
			return rc;
		mtu[i] = d->mtu;
	}
	b->mtu = mtu_smallest(mtu, 2);
	if (!b->mtu)
		return err_set(err, -EINVAL, "vxlan: neither IPv4 nor IPv6 is enabled");
	return 0;
}

/* Backend.DisableTxChecksumOffload, else the kernel's version decides. */
static void vx_tx_csum_policy(struct vxlan *b)
{
	struct utsname u;

	if (b->cfg.tx_csum_off >= 0) {
		b->tx_csum = !b->cfg.tx_csum_off;
		b->tx_csum_why = b->cfg.tx_csum_off ? "Backend.DisableTxChecksumOffload is true"
						    : "Backend.DisableTxChecksumOffload is false";
		return;
	}
	if (uname(&u) == 0 && vxlan_csum_bug_kernel(u.release)) {
		b->tx_csum = 0;
		b->tx_csum_why = "kernels before 5.7 corrupt the UDP checksums of NATed VXLAN "
				 "packets; Backend.DisableTxChecksumOffload false keeps the offload";
		return;
	}
	/* A later kernel: the device keeps what it has (an operator's ethtool
	 * or udev rule included). */
	b->tx_csum = -1;
	b->tx_csum_why = "";
}

static int vx_create(const struct backend_params *p, struct backend **ret, struct err *err)
{
	const struct netconf *nc = p->nc;
	struct vxlan *b = xcalloc(1, sizeof(*b));
	int rc;

	backend_base_init(&b->base, p);
	hmap_init(&b->peers);
	/* A MAC the previous run's data does not carry (or not validly) is no hint. */
	if (p->prev) {
		vxlan_data_vtep_mac(p->prev->backend_data, b->mac_hint[0]);
		vxlan_data_vtep_mac(p->prev->backend_v6_data, b->mac_hint[1]);
	}
	rc = vxlan_options_parse(nc->backend_json, &b->cfg, err);
	if (rc < 0)
		goto fail;
	b->dev[0].family = AF_INET;
	b->dev[0].enabled = nc->enable_ipv4;
	snprintf(b->dev[0].name, IF_NAMESIZE, "flannel.%u", b->cfg.vni);
	b->dev[1].family = AF_INET6;
	b->dev[1].enabled = nc->enable_ipv6;
	snprintf(b->dev[1].name, IF_NAMESIZE, "flannel-v6.%u", b->cfg.vni);
	rc = vx_mtu(b, p->ext, err);
	if (rc < 0)
		goto fail;
	vx_tx_csum_policy(b);
	rc = kstate_new(p->loop, &vx_kstate_ops, b, RECONCILE_PERIOD_MS, "vxlan", &b->ks);
	if (rc < 0) {
		err_set(err, rc, "cannot open netlink: %s", strerror(-rc));
		goto fail;
	}
	rc = vxlan_ensure(b);
	if (rc < 0) {
		err_set(err, rc, "cannot set up the VXLAN device: %s", strerror(-rc));
		goto fail;
	}
	b->use_nexthops = b->dev[0].enabled && kstate_has_nexthops(b->ks);
	for (int i = 0; i < 2; i++) {
		char mac[MAC_STRLEN];

		if (!b->dev[i].enabled)
			continue;
		log_info("vxlan: device %s (index %d, VNI %u, MAC %s, MTU %u)", b->dev[i].name,
			 b->dev[i].index, b->cfg.vni, mac_format(b->dev[i].mac, mac),
			 b->dev[i].mtu);
	}
	if (b->dev[0].enabled && b->dev[1].enabled && b->dev[0].mtu != b->dev[1].mtu)
		log_info("vxlan: FLANNEL_MTU %u: pods' packets must fit %s (MTU %u) as well as "
			 "%s (MTU %u)",
			 b->mtu, b->dev[1].name, b->dev[1].mtu, b->dev[0].name, b->dev[0].mtu);
	*ret = &b->base;
	return 0;
fail:
	vx_destroy(&b->base);
	return rc;
}

static char *backend_data(const struct vx_dev *d, uint32_t vni)
{
	char mac[MAC_STRLEN], *s;

	xasprintf(&s, "{\"VNI\":%u,\"VtepMAC\":\"%s\"}", vni, mac_format(d->mac, mac));
	return s;
}

static int vx_lease_attrs(struct backend *base, struct lease_attrs *attrs, struct err *err)
{
	struct vxlan *b = to_vx(base);

	(void)err;
	snprintf(attrs->backend_type, sizeof(attrs->backend_type), "vxlan");
	if (b->dev[0].enabled)
		attrs->backend_data = backend_data(&b->dev[0], b->cfg.vni);
	if (b->dev[1].enabled)
		attrs->backend_v6_data = backend_data(&b->dev[1], b->cfg.vni);
	return 0;
}

static int vx_lease_acquired(struct backend *base, const struct lease *own, unsigned *ret_mtu,
			     struct err *err)
{
	struct vxlan *b = to_vx(base);
	int rc;

	if (b->dev[0].enabled) {
		b->dev[0].addr.addr = own->subnet.v4.addr;
		b->dev[0].addr.len = 32;
	}
	if (b->dev[1].enabled) {
		b->dev[1].addr.addr = own->subnet.v6.addr;
		b->dev[1].addr.len = 128;
	}
	b->ready = true;
	for (int i = 0; i < 2; i++) {
		if (!b->dev[i].enabled)
			continue;
		rc = vxlan_dev_configure(b, &b->dev[i]);
		if (rc < 0)
			return err_set(err, rc, "configuring %s: %s", b->dev[i].name, strerror(-rc));
	}
	*ret_mtu = b->mtu;
	return 0;
}

/* Called once the whole lease set was delivered: the first reconcile, which
 * also removes what a previous run left for peers that are gone. */
static int vx_start(struct backend *base)
{
	struct vxlan *b = to_vx(base);

	b->started = true;
	return kstate_start(b->ks);
}

static void vx_stats(struct backend *base, struct backend_stats *ret)
{
	struct vxlan *b = to_vx(base);
	const struct hmap_node *hn;
	size_t iter;

	for (hn = hmap_first(&b->peers, &iter); hn; hn = hmap_next(&b->peers, hn, &iter)) {
		const struct vx_peer *p = hmap_entry(hn, struct vx_peer, node);

		ret->peers_programmed +=
			b->started && (p->fam[0].mode != VX_NONE || p->fam[1].mode != VX_NONE);
	}
	kstate_report(b->ks, ret);
}

/*
 * The external interface was recreated or readdressed: our devices name its
 * index and take its public address as their local one. The reconcile finds
 * them incompatible (or gone with the old interface) and recreates them with
 * the MAC peers know, then programs every peer on them. DirectRouting peers
 * reached through the old index are reached through the new one (whether a
 * peer is direct is decided again when its lease changes).
 */
static int vx_ext_changed(struct backend *base, const struct ext_iface *ext, struct err *err)
{
	struct vxlan *b = to_vx(base);
	const struct hmap_node *hn;
	size_t iter;
	int rc;

	for (hn = hmap_first(&b->peers, &iter); hn; hn = hmap_next(&b->peers, hn, &iter)) {
		struct vx_peer *p = hmap_entry(hn, struct vx_peer, node);

		for (int f = 0; f < 2; f++)
			if (p->fam[f].mode == VX_DIRECT && p->fam[f].direct_oif == base->ext.index)
				p->fam[f].direct_oif = ext->index;
	}
	base->ext = *ext;
	rc = kstate_run(b->ks);
	if (rc < 0)
		return err_set(err, rc, "recreating the VXLAN device on %s: %s", ext->name,
			       strerror(-rc));
	return 0;
}

static void vx_peer_free(struct hmap_node *n)
{
	free(hmap_entry(n, struct vx_peer, node));
}

static void vx_destroy(struct backend *base)
{
	struct vxlan *b = to_vx(base);

	kstate_free(b->ks);
	hmap_clear(&b->peers, vx_peer_free);
	desired_done(b);
	free(b);
}

const struct backend_ops vxlan_backend_ops = {
	.type = "vxlan",
	.create = vx_create,
	.lease_attrs = vx_lease_attrs,
	.lease_acquired = vx_lease_acquired,
	.peers = vx_peers,
	.start = vx_start,
	.stats = vx_stats,
	.ext_changed = vx_ext_changed,
	.destroy = vx_destroy,
};
