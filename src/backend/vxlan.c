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
#include <fcntl.h>
#include <jansson.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/kstate.h"
#include "core/err.h"
#include "core/hmap.h"
#include "core/json_ci.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "nl/addr.h"
#include "nl/link.h"
#include "nl/nl.h"
#include "subnet/lease.h"
#include "subnet/netconf.h"
#include "subnet/subnet_mgr.h"

#define VXLAN_OVERHEAD 50
#define DEFAULT_VXLAN_PORT 8472
#define RECONCILE_PERIOD_MS 10000

struct vx_cfg {
	uint32_t vni;
	uint16_t port;
	bool gbp, learning, direct_routing;
	unsigned mtu; /* 0: the external interface's */
};

/* One address family's device. */
struct vx_dev {
	int family;
	bool enabled;
	char name[IF_NAMESIZE];
	int index;
	uint8_t mac[6];
	struct ip_prefix addr; /* our subnet's network address /32 or /128 */
	bool have_addr;
};

/* What one peer wants in the kernel, per family. */
struct vx_want {
	bool present;
	bool direct; /* plain route via the public IP, no neighbour/FDB */
	struct nl_route route;
	struct nl_neigh neigh;
	struct nl_neigh fdb;
};

struct vx_peer {
	struct hmap_node node;
	char name[SUBNET_KEY_STRLEN];
	struct vx_want want[2]; /* [0] IPv4, [1] IPv6 */
};

struct backend {
	struct loop *loop;
	struct ext_iface ext;
	struct vx_cfg cfg;
	struct vx_dev dev[2];
	unsigned mtu;
	struct kstate *ks;
	struct hmap peers;
	bool ready; /* lease known: devices addressed, reconciling */
	/* desired() scratch arrays */
	struct nl_route *routes;
	struct nl_neigh *neighs, *fdbs;
	size_t cap;
};

static int fam_idx(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

/* ---- config ---- */

static int get_uint(const json_t *o, const char *key, uint64_t max, uint64_t *ret,
		    struct err *err)
{
	const json_t *v = json_get_ci(o, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return err_set(err, -EINVAL, "Backend.%s must be an integer between 0 and %llu", key,
			       (unsigned long long)max);
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_bool(const json_t *o, const char *key, bool *ret, struct err *err)
{
	const json_t *v = json_get_ci(o, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return err_set(err, -EINVAL, "Backend.%s must be true or false", key);
	*ret = json_is_true(v);
	return 0;
}

static int parse_cfg(const char *json, struct vx_cfg *cfg, struct err *err)
{
	uint64_t vni = 0, port = 0, mtu = 0;
	json_t *o;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	o = json ? json_loads(json, 0, NULL) : json_object();
	if (!json_is_object(o)) {
		json_decref(o);
		return err_set(err, -EINVAL, "Backend must be a JSON object");
	}
	if ((rc = get_uint(o, "VNI", 0xffffff, &vni, err)) < 0 ||
	    (rc = get_uint(o, "Port", 65535, &port, err)) < 0 ||
	    (rc = get_uint(o, "MTU", 65535, &mtu, err)) < 0 ||
	    (rc = get_bool(o, "GBP", &cfg->gbp, err)) < 0 ||
	    (rc = get_bool(o, "Learning", &cfg->learning, err)) < 0 ||
	    (rc = get_bool(o, "DirectRouting", &cfg->direct_routing, err)) < 0)
		goto out;
	cfg->vni = vni ? (uint32_t)vni : 1;
	cfg->port = (uint16_t)port;
	cfg->mtu = (unsigned)mtu;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* ---- device ---- */

static void random_mac(uint8_t mac[6])
{
	if (getrandom(mac, 6, 0) != 6)
		for (int i = 0; i < 6; i++)
			mac[i] = (uint8_t)rand();
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
}

static void mac_format(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			 &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static const struct ip_addr *local_of(const struct backend *b, int family)
{
	return family == AF_INET ? &b->ext.public_ip : &b->ext.public_ipv6;
}

/* flannel's compatibility test for reusing a device as it is. */
static bool dev_compatible(const struct backend *b, const struct vx_dev *d,
			   const struct nl_link *l)
{
	const struct nl_vxlan_info *v = &l->vxlan;
	uint16_t want_port = b->cfg.port ? b->cfg.port : DEFAULT_VXLAN_PORT;

	return l->is_vxlan && v->vni == b->cfg.vni && v->link == b->ext.index &&
	       ip_addr_equal(&v->local, local_of(b, d->family)) && !v->group.family &&
	       !v->l2miss && !v->l3miss && (v->port == want_port || v->port == b->cfg.port) &&
	       v->gbp == b->cfg.gbp;
}

static void disable_accept_ra(const char *dev)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_ra", dev);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "0", 1) != 1)
			log_debug("cannot write %s", path);
		close(fd);
	}
}

/*
 * Make sure the device exists and is ours: adopt a compatible one (keeping its
 * MAC unless we already published another), else create it with our MAC.
 */
static int dev_ensure(struct backend *b, struct vx_dev *d, bool *ret_created)
{
	struct nl *nl = kstate_nl(b->ks);
	struct nl_link l;
	struct err err = { 0 };
	bool have_mac = d->index != 0 || d->mac[0] || d->mac[1] || d->mac[2];
	int rc;

	*ret_created = false;
	rc = nl_link_get_by_name(nl, d->name, &l);
	if (rc == 0 && dev_compatible(b, d, &l)) {
		if (!have_mac)
			memcpy(d->mac, l.mac, 6);
		else if (memcmp(d->mac, l.mac, 6) &&
			 (rc = nl_link_set_mac(nl, l.index, d->mac, &err)) < 0)
			return rc;
		d->index = l.index;
		if (l.mtu != b->mtu && (rc = nl_link_set_mtu(nl, l.index, b->mtu, &err)) < 0)
			return rc;
		if (!l.up && b->ready && (rc = nl_link_set_up(nl, l.index, true, &err)) < 0)
			return rc;
		return 0;
	}
	if (rc == 0) {
		log_info("vxlan: %s exists with other settings; recreating it", d->name);
		rc = nl_link_delete(nl, l.index, &err);
		if (rc < 0)
			return rc;
	} else if (rc != -ENODEV) {
		return rc;
	}
	if (!have_mac) {
		/* kube mode: the MAC our Node's annotation still publishes (reboot). */
		const uint8_t *hint = b->ext.vtep_mac_hint[fam_idx(d->family)];

		if (!(hint[0] & 1) && (hint[0] | hint[1] | hint[2] | hint[3] | hint[4] | hint[5])) {
			char mac[24];

			memcpy(d->mac, hint, 6);
			mac_format(d->mac, mac, sizeof(mac));
			log_info("vxlan: creating %s with MAC %s, as published before", d->name,
				 mac);
		} else {
			random_mac(d->mac);
		}
	}
	struct nl_vxlan_params p = {
		.name = d->name,
		.info = {
			.vni = b->cfg.vni,
			.local = *local_of(b, d->family),
			.link = b->ext.index,
			.port = b->cfg.port,
			.learning = b->cfg.learning,
			.gbp = b->cfg.gbp,
		},
		.mtu = b->mtu,
		.mac = d->mac,
	};
	rc = nl_vxlan_create(nl, &p, &err);
	if (rc < 0) {
		log_warnx("vxlan: cannot create %s: %s", d->name, err.msg[0] ? err.msg : strerror(-rc));
		return rc;
	}
	rc = nl_link_get_by_name(nl, d->name, &l);
	if (rc < 0)
		return rc;
	d->index = l.index;
	*ret_created = true;
	disable_accept_ra(d->name);
	return 0;
}

struct addr_scan {
	const struct vx_dev *d;
	const struct netconf *nc;
	struct ip_prefix stale[16];
	size_t n_stale;
	bool have;
};

static int scan_addr(const struct nl_addr *a, void *arg)
{
	struct addr_scan *s = arg;
	struct ip_addr mine = s->d->addr.addr;

	if (a->index != s->d->index)
		return 0;
	if (ip_addr_equal(&a->prefix.addr, &mine) && a->prefix.len == s->d->addr.len)
		s->have = true;
	else if (s->n_stale < 16)
		s->stale[s->n_stale++] = a->prefix;
	return 0;
}

/* Our subnet address on the device, and nothing else (flannel removes other
 * addresses of the network from it); link up. */
static int dev_configure(struct backend *b, struct vx_dev *d)
{
	struct nl *nl = kstate_nl(b->ks);
	struct addr_scan s = { .d = d };
	struct err err = { 0 };
	int rc;

	rc = nl_addr_dump(nl, d->family, d->index, scan_addr, &s);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < s.n_stale; i++) {
		/* IPv6 link-local addresses belong to the kernel. */
		if (d->family == AF_INET6 && s.stale[i].addr.b[0] == 0xfe &&
		    (s.stale[i].addr.b[1] & 0xc0) == 0x80)
			continue;
		rc = nl_addr_del(nl, d->index, &s.stale[i], &err);
		if (rc < 0 && rc != -EADDRNOTAVAIL)
			return rc;
	}
	if (!s.have) {
		rc = nl_addr_add(nl, d->index, &d->addr, &err);
		if (rc < 0 && rc != -EEXIST)
			return rc;
	}
	return nl_link_set_up(nl, d->index, true, &err);
}

static int ensure(void *arg)
{
	struct backend *b = arg;

	for (int i = 0; i < 2; i++) {
		struct vx_dev *d = &b->dev[i];
		bool created;
		int rc;

		if (!d->enabled)
			continue;
		rc = dev_ensure(b, d, &created);
		if (rc < 0)
			return rc;
		if (created && b->ready)
			log_warnx("vxlan: %s was missing; recreated it with MAC kept, re-programming "
				  "peers",
				  d->name);
		if (b->ready) {
			rc = dev_configure(b, d);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* ---- peers ---- */

static void fill_want(struct backend *b, const struct lease *l, int family, struct vx_want *w)
{
	struct vx_dev *d = &b->dev[fam_idx(family)];
	const struct ip_prefix *subnet = family == AF_INET ? &l->subnet.v4 : &l->subnet.v6;
	const struct ip_addr *pub = family == AF_INET ? &l->attrs.public_ip : &l->attrs.public_ipv6;
	const char *data = family == AF_INET ? l->attrs.backend_data : l->attrs.backend_v6_data;
	json_t *o = NULL;
	uint8_t mac[6];

	memset(w, 0, sizeof(*w));
	if (!d->enabled || !pub->family || (family == AF_INET && !subnet_key_has_v4(&l->subnet)) ||
	    (family == AF_INET6 && !l->subnet.has_v6))
		return;
	if (b->cfg.direct_routing) {
		struct nl_route via;
		struct err err = { 0 };

		/* Same L2 as us: the kernel reaches it without a gateway. */
		if (nl_route_get(kstate_nl(b->ks), pub, &via, &err) == 0 && !via.gw.family &&
		    via.type != RTN_LOCAL) {
			w->present = w->direct = true;
			w->route.dst = *subnet;
			w->route.gw = *pub;
			w->route.oif = via.oif;
			w->route.protocol = WEFT_RTPROT;
			return;
		}
	}
	o = data ? json_loads(data, 0, NULL) : NULL;
	if (mac_parse(json_string_value(json_get_ci(o, "VtepMAC")), mac) < 0) {
		log_warnx("vxlan: ignoring peer %s: BackendData has no valid VtepMAC", l->name);
		json_decref(o);
		return;
	}
	json_decref(o);
	w->present = true;
	w->neigh.index = d->index;
	w->neigh.dst = subnet->addr;
	memcpy(w->neigh.mac, mac, 6);
	w->neigh.has_mac = true;
	w->neigh.state = NUD_PERMANENT;
	w->fdb.index = d->index;
	w->fdb.dst = *pub;
	memcpy(w->fdb.mac, mac, 6);
	w->fdb.has_mac = true;
	w->fdb.fdb = true;
	w->fdb.state = NUD_PERMANENT;
	w->route.dst = *subnet;
	w->route.gw = subnet->addr;
	w->route.oif = d->index;
	w->route.onlink = true;
	w->route.protocol = WEFT_RTPROT;
}

/* Deleting what is already gone is fine; anything else is left to reconcile. */
static void del_result(struct backend *b, int rc)
{
	if (rc < 0 && rc != -ESRCH && rc != -ENOENT)
		kstate_kick(b->ks);
}

static void want_remove(struct backend *b, const struct vx_want *w)
{
	struct nl *nl = kstate_nl(b->ks);
	struct err err = { 0 };

	if (!w->present)
		return;
	del_result(b, nl_route_del(nl, &w->route, &err));
	if (w->direct)
		return;
	del_result(b, nl_neigh_del(nl, &w->neigh, &err));
	del_result(b, nl_fdb_del(nl, &w->fdb, &err));
}

static void want_apply(struct backend *b, const struct vx_want *w, const char *name)
{
	struct nl *nl = kstate_nl(b->ks);
	struct err err = { 0 };
	int rc = 0;

	if (!w->present)
		return;
	if (!w->direct) {
		rc = nl_neigh_replace(nl, &w->neigh, &err);
		if (rc == 0)
			rc = nl_fdb_replace(nl, &w->fdb, &err);
	}
	if (rc == 0)
		rc = nl_route_replace(nl, &w->route, &err);
	if (rc < 0) {
		/* The reconcile that this kick starts retries it. */
		log_warnx("vxlan: programming peer %s: %s", name,
			  err.msg[0] ? err.msg : strerror(-rc));
		kstate_kick(b->ks);
	}
}

static bool want_equal(const struct vx_want *a, const struct vx_want *b)
{
	return a->present == b->present && a->direct == b->direct &&
	       !memcmp(&a->route, &b->route, sizeof(a->route)) &&
	       !memcmp(a->neigh.mac, b->neigh.mac, 6) && ip_addr_equal(&a->fdb.dst, &b->fdb.dst);
}

static void vx_peers(struct backend *b, const struct lease_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct lease *l = ev[i].lease;
		struct hmap_node *hn = hmap_get(&b->peers, l->name);
		struct vx_peer *old = hn ? hmap_entry(hn, struct vx_peer, node) : NULL;
		struct vx_peer *p;

		if (ev[i].kind == LEASE_REMOVED) {
			if (!old)
				continue;
			hmap_remove(&b->peers, l->name);
			for (int f = 0; f < 2; f++)
				want_remove(b, &old->want[f]);
			free(old);
			continue;
		}
		/* flannel ignores peers of other backend types. */
		if (strcmp(l->attrs.backend_type, "vxlan")) {
			log_debug("vxlan: ignoring peer %s of backend type '%s'", l->name,
				  l->attrs.backend_type);
			continue;
		}
		p = xcalloc(1, sizeof(*p));
		memcpy(p->name, l->name, sizeof(p->name));
		p->node.key = p->name;
		fill_want(b, l, AF_INET, &p->want[0]);
		fill_want(b, l, AF_INET6, &p->want[1]);
		for (int f = 0; f < 2; f++) {
			if (old && want_equal(&old->want[f], &p->want[f]))
				continue;
			/* A changed MAC or public IP leaves stale entries otherwise. */
			if (old)
				want_remove(b, &old->want[f]);
			if (b->ready)
				want_apply(b, &p->want[f], p->name);
		}
		hmap_put(&b->peers, &p->node);
		free(old);
	}
}

static bool desired(void *arg, int family, struct rc_desired *want, struct rc_scope *scope)
{
	struct backend *b = arg;
	struct vx_dev *d = &b->dev[fam_idx(family)];
	const struct hmap_node *hn;
	size_t iter, nr = 0, nn = 0;

	if (!d->enabled || !b->ready)
		return false;
	if (b->cap < b->peers.count + 1) {
		b->cap = b->peers.count + 1;
		b->routes = xreallocarray(b->routes, b->cap, sizeof(*b->routes));
		b->neighs = xreallocarray(b->neighs, b->cap, sizeof(*b->neighs));
		b->fdbs = xreallocarray(b->fdbs, b->cap, sizeof(*b->fdbs));
	}
	for (hn = hmap_first(&b->peers, &iter); hn; hn = hmap_next(&b->peers, hn, &iter)) {
		struct vx_peer *p = hmap_entry(hn, struct vx_peer, node);
		struct vx_want *w = &p->want[fam_idx(family)];

		if (!w->present)
			continue;
		/* The device index may have changed since (recreated). */
		if (!w->direct) {
			w->neigh.index = w->fdb.index = w->route.oif = d->index;
			b->neighs[nn] = w->neigh;
			b->fdbs[nn++] = w->fdb;
		}
		b->routes[nr++] = w->route;
	}
	want->routes = b->routes;
	want->n_routes = nr;
	want->neighs = b->neighs;
	want->n_neighs = nn;
	want->fdbs = b->fdbs;
	want->n_fdbs = nn;
	scope->family = family;
	scope->dev_index = d->index;
	return true;
}

static bool concerns(void *arg, const struct nlmsghdr *nlh)
{
	struct backend *b = arg;
	int i0 = b->dev[0].index, i1 = b->dev[1].index;

	switch (nlh->nlmsg_type) {
	case RTM_DELLINK:
	case RTM_NEWLINK: {
		struct nl_link l;

		if (nl_link_parse(nlh, &l) < 0)
			return false;
		/* Deleted, or changed under us (down, other MTU...). */
		return (l.index == i0 || l.index == i1) &&
		       (nlh->nlmsg_type == RTM_DELLINK || !l.up || l.mtu != b->mtu);
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
	case RTM_DELADDR: {
		struct nl_addr a;

		return nl_addr_parse(nlh, &a) == 0 && (a.index == i0 || a.index == i1);
	}
	default:
		return false;
	}
}

static const struct kstate_ops vx_kstate_ops = {
	.ensure = ensure,
	.desired = desired,
	.concerns = concerns,
};

/* ---- backend ops ---- */

static void vx_destroy(struct backend *b);

static int vx_create(struct loop *loop, const struct ext_iface *ext, const struct netconf *nc,
		     struct backend **ret, struct err *err)
{
	struct backend *b = xcalloc(1, sizeof(*b));
	unsigned base_mtu;
	int rc;

	b->loop = loop;
	b->ext = *ext;
	hmap_init(&b->peers);
	rc = parse_cfg(nc->backend_json, &b->cfg, err);
	if (rc < 0)
		goto fail;
	base_mtu = b->cfg.mtu ? b->cfg.mtu : ext->mtu;
	if (base_mtu <= VXLAN_OVERHEAD + 68) {
		rc = err_set(err, -EINVAL, "MTU %u is too small for VXLAN", base_mtu);
		goto fail;
	}
	b->mtu = base_mtu - VXLAN_OVERHEAD;
	b->dev[0].family = AF_INET;
	b->dev[0].enabled = nc->enable_ipv4;
	snprintf(b->dev[0].name, IF_NAMESIZE, "flannel.%u", b->cfg.vni);
	b->dev[1].family = AF_INET6;
	b->dev[1].enabled = nc->enable_ipv6;
	snprintf(b->dev[1].name, IF_NAMESIZE, "flannel-v6.%u", b->cfg.vni);
	rc = kstate_new(loop, &vx_kstate_ops, b, RECONCILE_PERIOD_MS, "vxlan", &b->ks);
	if (rc < 0) {
		err_set(err, rc, "cannot open netlink: %s", strerror(-rc));
		goto fail;
	}
	rc = ensure(b);
	if (rc < 0) {
		err_set(err, rc, "cannot set up the VXLAN device: %s", strerror(-rc));
		goto fail;
	}
	for (int i = 0; i < 2; i++) {
		char mac[24];

		if (!b->dev[i].enabled)
			continue;
		mac_format(b->dev[i].mac, mac, sizeof(mac));
		log_info("vxlan: device %s (index %d, VNI %u, MAC %s, MTU %u)", b->dev[i].name,
			 b->dev[i].index, b->cfg.vni, mac, b->mtu);
	}
	*ret = b;
	return 0;
fail:
	vx_destroy(b);
	return rc;
}

static char *backend_data(const struct vx_dev *d, uint32_t vni)
{
	char mac[24], *s;

	mac_format(d->mac, mac, sizeof(mac));
	xasprintf(&s, "{\"VNI\":%u,\"VtepMAC\":\"%s\"}", vni, mac);
	return s;
}

static int vx_lease_attrs(struct backend *b, struct lease_attrs *attrs, struct err *err)
{
	(void)err;
	snprintf(attrs->backend_type, sizeof(attrs->backend_type), "vxlan");
	if (b->dev[0].enabled)
		attrs->backend_data = backend_data(&b->dev[0], b->cfg.vni);
	if (b->dev[1].enabled)
		attrs->backend_v6_data = backend_data(&b->dev[1], b->cfg.vni);
	return 0;
}

static int vx_lease_acquired(struct backend *b, const struct lease *own, unsigned *ret_mtu,
			     struct err *err)
{
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
		rc = dev_configure(b, &b->dev[i]);
		if (rc < 0)
			return err_set(err, rc, "configuring %s: %s", b->dev[i].name, strerror(-rc));
	}
	*ret_mtu = b->mtu;
	return 0;
}

/* Called once the whole lease set was delivered: the first reconcile, which
 * also removes what a previous run left for peers that are gone. */
static int vx_start(struct backend *b)
{
	return kstate_run(b->ks);
}

static void vx_stats(struct backend *b, struct backend_stats *ret)
{
	const struct hmap_node *hn;
	size_t iter;

	memset(ret, 0, sizeof(*ret));
	for (hn = hmap_first(&b->peers, &iter); hn; hn = hmap_next(&b->peers, hn, &iter)) {
		const struct vx_peer *p = hmap_entry(hn, struct vx_peer, node);

		ret->peers_programmed += b->ready && (p->want[0].present || p->want[1].present);
	}
	kstate_report(b->ks, ret);
}

static void vx_destroy(struct backend *b)
{
	struct hmap_node *hn, *next;
	size_t iter;

	if (!b)
		return;
	kstate_free(b->ks);
	for (hn = hmap_first(&b->peers, &iter); hn; hn = next) {
		next = hmap_next(&b->peers, hn, &iter);
		free(hmap_entry(hn, struct vx_peer, node));
	}
	hmap_destroy(&b->peers);
	free(b->routes);
	free(b->neighs);
	free(b->fdbs);
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
	.destroy = vx_destroy,
};
