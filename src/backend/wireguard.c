// SPDX-License-Identifier: Apache-2.0
/*
 * wireguard (flannel.md §7.7): devices flannel-wg (IPv4, or both families
 * in the auto/ipv4/ipv6 modes) and flannel-wg-v6 (IPv6 in separate mode),
 * each with our subnet address, a route for the whole Network through it,
 * and one WireGuard peer per lease: its public key and port from the
 * lease's BackendData (BackendV6Data), its public IP as the endpoint, its
 * subnet as the allowed IPs.
 *
 * Beyond upstream: the devices run on the kernel module where there is
 * one, else on weft's own userspace WireGuard (backend/wg_engine.h); an
 * existing device is adopted, not recreated, so a restart keeps sessions;
 * shutdown leaves the devices configured (WEFT_WIREGUARD_REMOVE_ON_EXIT=1
 * removes them, as upstream does); and the peers are reconciled against the
 * device every few seconds, so that a peer removed by hand comes back.
 */
#include "backend/wireguard.h"

#include <errno.h>
#include <jansson.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/kstate.h"
#include "backend/mtu.h"
#include "backend/wg_conf.h"
#include "backend/wg_engine.h"
#include "backend/wg_key.h"
#include "core/clock.h"
#include "core/container_of.h"
#include "core/err.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/xmalloc.h"
#include "datapath/udp_proxy.h"
#include "nl/addr.h"
#include "nl/link.h"
#include "nl/nl.h"
#include "nl/route.h"
#include "subnet/netconf.h"
#include "subnet/subnet_mgr.h"
#include "wg/device.h"

#define RECONCILE_PERIOD_MS 5000 /* a peer removed by hand is back within it */
#define SOCK_DIR "/var/run/wireguard"
#define DEV_V4 "flannel-wg"
#define DEV_V6 "flannel-wg-v6"


struct wg_dev {
	char name[16];
	int family; /* AF_INET, AF_INET6, or AF_UNSPEC: both (one device) */
	uint16_t port;
	struct wg_engine *eng;
	struct ip_prefix addr4, addr6; /* our subnet address /32, /128 */
	struct nl_route routes[2];
	size_t n_routes;
	uint64_t corrections; /* peer changes made by reconcile */
	size_t peers;	      /* in the device after the last sync */
	uint64_t bad_hs;      /* handshake messages refused, as last logged */
	int64_t bad_hs_log_ms;
};

struct lease_peer {
	struct hmap_node node;
	char name[SUBNET_KEY_STRLEN];
	bool ok4, ok6; /* BackendData / BackendV6Data read */
	uint8_t pub4[WG_KEY_LEN], pub6[WG_KEY_LEN];
	uint16_t port4, port6;
	struct ip_addr ip4, ip6;
	struct ip_prefix sub4, sub6;
	bool has_sub4, has_sub6;
	int64_t since_ms;  /* when the lease arrived */
	int64_t warned_ms; /* last "no handshake" warning */
	bool ep_set[2];	   /* its endpoint was set on dev[i]: from then on WireGuard's
			    * roaming decides (a NAT may rewrite the source port) */
};

struct wg_backend;

struct wg_metric {
	struct wg_backend *b;
	unsigned dev, index;
};

struct wg_backend {
	struct backend base;
	struct wg_conf conf;
	bool v4, v6;
	struct ip_prefix network4, network6;
	char key_file[256];
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	enum backend_engine want_engine;
	const char *engine; /* chosen: "kernel" or "userspace" */
	bool remove_on_exit;
	struct wg_dev dev[2];
	size_t n_dev;
	struct kstate *ks;
	struct hmap peers;
	bool ready;
	uint64_t sync_errors;
	struct wg_metric mslots[2 * (WG_COUNTERS + 4)];
};

static struct wg_backend *to_wg(struct backend *base)
{
	return container_of(base, struct wg_backend, base);
}

static void lease_peer_free(struct hmap_node *n)
{
	free(hmap_entry(n, struct lease_peer, node));
}

/* ---- desired state ---- */

static void set_endpoint(union wg_endpoint *e, const struct ip_addr *a, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	if (a->family == AF_INET) {
		e->in4.sin_family = AF_INET;
		e->in4.sin_port = htons(port);
		memcpy(&e->in4.sin_addr, a->b, 4);
	} else if (a->family == AF_INET6) {
		e->in6.sin6_family = AF_INET6;
		e->in6.sin6_port = htons(port);
		memcpy(&e->in6.sin6_addr, a->b, 16);
	}
}

static void add_allowed(struct wg_peer_config *pc, const struct ip_prefix *p)
{
	struct wg_allowed_ip a = {.family = p->addr.family, .cidr = p->len};

	memcpy(&a.addr, p->addr.b, p->addr.family == AF_INET ? 4 : 16);
	wg_peer_config_add_allowed(pc, &a);
}

static bool usable(const struct ip_addr *a)
{
	return a->family && !ip_addr_is_unset(a);
}

/* The peer of lease l on device dv: false when l gives it none. */
static bool peer_for(struct wg_backend *b, const struct wg_dev *dv, const struct lease_peer *l,
		     struct wg_peer_config *pc)
{
	const uint8_t *key;
	const struct ip_addr *ep = NULL;
	uint16_t port;

	if (dv->family == AF_INET) {
		if (!l->ok4 || !l->has_sub4 || !usable(&l->ip4))
			return false;
		key = l->pub4;
		port = l->port4;
		ep = &l->ip4;
	} else if (dv->family == AF_INET6) {
		if (!l->ok6 || !l->has_sub6 || !usable(&l->ip6))
			return false;
		key = l->pub6;
		port = l->port6;
		ep = &l->ip6;
	} else {
		if (!l->ok4 && !l->ok6)
			return false;
		key = l->ok4 ? l->pub4 : l->pub6;
		port = l->ok4 ? l->port4 : l->port6;
		switch (b->conf.mode) {
		case WG_MODE_IPV4:
			ep = &l->ip4;
			break;
		case WG_MODE_IPV6:
			ep = &l->ip6;
			break;
		default:
			ep = wg_auto_family(&l->ip4, &l->ip6, &b->base.ext.public_ip,
					    &b->base.ext.public_ipv6) == AF_INET6
				     ? &l->ip6
				     : &l->ip4;
		}
		if (!usable(ep))
			return false;
	}
	memcpy(pc->pub, key, WG_KEY_LEN);
	pc->flags = WG_PEER_HAS_PSK | WG_PEER_HAS_KEEPALIVE | WG_PEER_REPLACE_ALLOWED_IPS;
	if (b->conf.has_psk)
		memcpy(pc->psk, b->conf.psk, WG_KEY_LEN);
	pc->keepalive_s = (uint16_t)b->conf.keepalive_s;
	set_endpoint(&pc->endpoint, ep, port);
	if ((dv->family == AF_INET || dv->family == AF_UNSPEC) && b->v4 && l->has_sub4)
		add_allowed(pc, &l->sub4);
	if ((dv->family == AF_INET6 || dv->family == AF_UNSPEC) && b->v6 && l->has_sub6)
		add_allowed(pc, &l->sub6);
	return pc->n_allowed > 0;
}

/* The device's whole desired state; src[i] (malloc'd) is the lease of
 * want->peers[i]. Leases that cannot be peers are said once (not quiet). */
static void desired_config(struct wg_backend *b, const struct wg_dev *dv, bool quiet,
			   struct wg_device_config *want, struct lease_peer ***src)
{
	const struct hmap_node *hn;
	size_t iter;

	*src = xcalloc(b->peers.count + 1, sizeof(**src));
	memset(want, 0, sizeof(*want));
	want->flags = WG_DEV_HAS_PRIVATE | WG_DEV_HAS_PORT;
	memcpy(want->priv, b->priv, WG_KEY_LEN);
	want->port = dv->port;
	for (hn = hmap_first(&b->peers, &iter); hn; hn = hmap_next(&b->peers, hn, &iter)) {
		struct lease_peer *l = hmap_entry(hn, struct lease_peer, node);
		struct wg_peer_config pc = {0};

		if (!peer_for(b, dv, l, &pc)) {
			free(pc.allowed);
			continue;
		}
		if (wg_device_config_find(want, pc.pub)) {
			if (!quiet)
				log_warnx("wireguard: lease %s uses a public key another lease "
					  "uses; ignoring it", l->name);
			free(pc.allowed);
			continue;
		}
		if (!memcmp(pc.pub, b->pub, WG_KEY_LEN)) {
			if (!quiet)
				log_warnx("wireguard: lease %s carries our own public key; "
					  "ignoring it", l->name);
			free(pc.allowed);
			continue;
		}
		(*src)[want->n_peers] = l;
		*wg_device_config_add_peer(want) = pc;
	}
}

static void log_change(const struct wg_dev *dv, const struct wg_device_config *ch)
{
	size_t add = 0, rm = 0;

	for (size_t i = 0; i < ch->n_peers; i++)
		(ch->peers[i].flags & WG_PEER_REMOVE) ? rm++ : add++;
	log_info("wireguard: %s: %s%s%zu peer(s) added or corrected, %zu removed", dv->name,
		 (ch->flags & WG_DEV_HAS_PRIVATE) ? "private key set, " : "",
		 (ch->flags & WG_DEV_HAS_PORT) ? "listen port set, " : "", add, rm);
}

#define NO_HANDSHAKE_WARN_MS 30000
#define WARN_EVERY_MS 300000

static struct lease_peer *lease_by_key(struct wg_backend *b, const uint8_t pub[WG_KEY_LEN])
{
	const struct hmap_node *hn;
	size_t iter;

	for (hn = hmap_first(&b->peers, &iter); hn; hn = hmap_next(&b->peers, hn, &iter)) {
		struct lease_peer *l = hmap_entry(hn, struct lease_peer, node);

		if ((l->ok4 && !memcmp(l->pub4, pub, WG_KEY_LEN)) ||
		    (l->ok6 && !memcmp(l->pub6, pub, WG_KEY_LEN)))
			return l;
	}
	return NULL;
}

/*
 * Say what keeps traffic from flowing: peers with no handshake long after
 * their lease arrived (naming the lease and the endpoint), and handshake
 * messages that failed authentication (a host with another PSK, or a
 * stale key), at most every few minutes each.
 */
static void watch_sessions(struct wg_backend *b, struct wg_dev *dv,
			   const struct wg_device_config *have)
{
	int64_t now = clock_now_ms();
	struct wg_device_stats st;

	for (size_t i = 0; i < have->n_peers; i++) {
		const struct wg_peer_config *pc = &have->peers[i];
		struct lease_peer *l;
		char ep[64];

		if (pc->last_handshake_sec || !(l = lease_by_key(b, pc->pub)))
			continue;
		if (now - l->since_ms < NO_HANDSHAKE_WARN_MS ||
		    (l->warned_ms && now - l->warned_ms < WARN_EVERY_MS))
			continue;
		l->warned_ms = now;
		log_warnx("wireguard: %s: no handshake with the peer of lease %s (%s) after %lld s; "
			  "is its PSK the same as ours, and UDP port %u open?",
			  dv->name, l->name, wg_endpoint_format(&pc->endpoint, ep, sizeof(ep)),
			  (long long)((now - l->since_ms) / 1000),
			  pc->endpoint.sa.sa_family == AF_INET ? ntohs(pc->endpoint.in4.sin_port)
							       : ntohs(pc->endpoint.in6.sin6_port));
	}
	if (!dv->eng->ops->stats || !dv->eng->ops->stats(dv->eng, &st))
		return;
	uint64_t bad = st.c[WG_DROP_BAD_HANDSHAKE] + st.c[WG_DROP_BAD_MAC];
	if (bad > dv->bad_hs && (!dv->bad_hs_log_ms || now - dv->bad_hs_log_ms >= 30000)) {
		log_warnx("wireguard: %s: %llu handshake message(s) failed authentication "
			  "(%llu in all): a host with another PSK, or a stale key?",
			  dv->name, (unsigned long long)(bad - dv->bad_hs), (unsigned long long)bad);
		dv->bad_hs = bad;
		dv->bad_hs_log_ms = now;
	}
}

/*
 * Make the device's configuration the desired one: only what differs.
 * correcting: the periodic reconcile (what it changes was changed behind
 * our back, and is counted). A peer's endpoint is set once per lease; after
 * that the endpoint WireGuard roamed to stays, unless the peer is missing.
 */
static int sync_dev(struct wg_backend *b, struct wg_dev *dv, bool correcting, struct err *err)
{
	struct wg_device_config want, have = {0}, change = {0};
	unsigned di = (unsigned)(dv - b->dev);
	struct lease_peer **src;
	size_t n;
	int rc;

	if (!dv->eng)
		return err_set(err, -ENODEV, "%s is not open", dv->name);
	desired_config(b, dv, correcting, &want, &src);
	rc = dv->eng->ops->get(dv->eng, &have, err);
	if (rc < 0) {
		err_prefix(err, rc, "%s: cannot read the device", dv->name);
		goto out;
	}
	watch_sessions(b, dv, &have);
	for (size_t i = 0; i < want.n_peers; i++)
		if (src[i]->ep_set[di] && wg_device_config_find(&have, want.peers[i].pub))
			want.peers[i].endpoint.sa.sa_family = AF_UNSPEC;
	n = wg_device_config_diff(&want, &have, &change);
	if (n) {
		rc = dv->eng->ops->set(dv->eng, &change, err);
		if (rc < 0) {
			err_prefix(err, rc, "%s: cannot configure the device", dv->name);
			b->sync_errors++;
			goto out;
		}
		if (correcting)
			dv->corrections += n;
		log_change(dv, &change);
	}
	for (size_t i = 0; i < want.n_peers; i++)
		src[i]->ep_set[di] = true;
	dv->peers = want.n_peers;
out:
	free(src);
	wg_device_config_clear(&want);
	wg_device_config_clear(&have);
	wg_device_config_clear(&change);
	return rc;
}

/* ---- devices ---- */

static unsigned dev_mtu(const struct wg_backend *b)
{
	return b->conf.mtu - WG_OVERHEAD;
}

static int open_engine(struct wg_backend *b, struct wg_dev *dv, struct err *err)
{
	int rc = -EOPNOTSUPP;

	struct nl_link l;

	if (b->want_engine != BACKEND_ENGINE_USERSPACE) {
		rc = wg_engine_kernel_open(kstate_nl(b->ks), dv->name, &dv->eng, err);
		if (rc == 0 || rc != -EOPNOTSUPP || b->want_engine == BACKEND_ENGINE_KERNEL)
			return rc;
	} else if (nl_link_get_by_name(kstate_nl(b->ks), dv->name, &l) == 0 &&
		   !strcmp(l.kind, "wireguard")) {
		/* The userspace engine asked for where the kernel's device of a
		 * previous run is: it goes (a TUN needs the name). */
		log_info("wireguard: %s: removing the kernel device (userspace engine asked for)",
			 dv->name);
		(void)nl_link_delete(kstate_nl(b->ks), l.index, NULL);
	}
	return wg_engine_user_open(b->base.loop, dv->name, SOCK_DIR, UDP_F_ALL, &dv->eng, err);
}

/* MTU, our addresses and nothing else, up, the Network routes. */
static int configure_link(struct wg_backend *b, struct wg_dev *dv, struct err *err)
{
	struct nl *nl = kstate_nl(b->ks);
	struct nl_link l;
	int rc;

	rc = nl_link_get_by_index(nl, dv->eng->ifindex, &l);
	if (rc < 0)
		return err_set(err, rc, "cannot find %s: %s", dv->name, strerror(-rc));
	if (l.mtu != dev_mtu(b) && (rc = nl_link_set_mtu(nl, l.index, dev_mtu(b), err)) < 0)
		return rc;
	if (dv->addr4.addr.family && (rc = nl_addr_set_only(nl, l.index, &dv->addr4, err)) < 0)
		return rc;
	if (dv->addr6.addr.family && (rc = nl_addr_set_only(nl, l.index, &dv->addr6, err)) < 0)
		return rc;
	if (!l.up && (rc = nl_link_set_up(nl, l.index, true, err)) < 0)
		return rc;
	for (size_t i = 0; i < dv->n_routes; i++) {
		dv->routes[i].oif = l.index;
		if ((rc = nl_route_replace(nl, &dv->routes[i], err)) < 0)
			return rc;
	}
	return 0;
}

static int dev_up(struct wg_backend *b, struct wg_dev *dv, bool correcting, struct err *err)
{
	int rc;

	if (!dv->eng) {
		rc = open_engine(b, dv, err);
		if (rc < 0)
			return err_prefix(err, rc, "%s", dv->name);
		if (!b->engine || strcmp(b->engine, dv->eng->ops->name))
			log_info("wireguard: %s: %s engine%s", dv->name, dv->eng->ops->name,
				 dv->eng->adopted ? ", existing device adopted" : "");
		b->engine = dv->eng->ops->name;
	}
	rc = configure_link(b, dv, err);
	if (rc < 0)
		return err_prefix(err, rc, "configuring %s", dv->name);
	return sync_dev(b, dv, correcting, err);
}

/* ---- kernel state (kstate) ---- */

static int ensure(void *arg)
{
	struct wg_backend *b = arg;
	struct err err = {0};
	int rc = 0;

	if (!b->ready)
		return 0;
	for (size_t i = 0; i < b->n_dev; i++) {
		struct wg_dev *dv = &b->dev[i];
		struct nl_link l;

		/* Deleted by hand: a new one (userspace: a new TUN too). */
		if (dv->eng && nl_link_get_by_index(kstate_nl(b->ks), dv->eng->ifindex, &l) < 0) {
			log_warnx("wireguard: %s is gone; recreating it", dv->name);
			dv->eng->ops->close(dv->eng, false);
			dv->eng = NULL;
		}
		if (dev_up(b, dv, true, &err) < 0) {
			log_warnx("wireguard: %s", err.msg);
			rc = -EIO;
		}
	}
	return rc;
}

static bool desired(void *arg, int family, struct rc_desired *want, struct rc_scope *scope)
{
	struct wg_backend *b = arg;

	if (!b->ready)
		return false;
	for (size_t i = 0; i < b->n_dev; i++) {
		struct wg_dev *dv = &b->dev[i];

		for (size_t k = 0; k < dv->n_routes; k++) {
			if (dv->routes[k].dst.addr.family != family || !dv->eng)
				continue;
			want->routes = &dv->routes[k];
			want->n_routes = 1;
			scope->family = family;
			scope->dev_index = 0; /* routes marked WEFT_RTPROT are ours */
			return true;
		}
	}
	return false;
}

static bool concerns(void *arg, const struct nlmsghdr *nlh)
{
	struct wg_backend *b = arg;
	int index = 0;

	switch (nlh->nlmsg_type) {
	case RTM_DELLINK:
	case RTM_NEWLINK: {
		struct nl_link l;

		if (nl_link_parse(nlh, &l) < 0)
			return false;
		for (size_t i = 0; i < b->n_dev; i++)
			if (b->dev[i].eng && b->dev[i].eng->ifindex == l.index)
				return nlh->nlmsg_type == RTM_DELLINK || !l.up ||
				       l.mtu != dev_mtu(b);
		return false;
	}
	case RTM_DELROUTE: {
		struct nl_route r;

		if (nl_route_parse(nlh, &r) < 0)
			return false;
		if (r.protocol == WEFT_RTPROT)
			return true;
		index = r.oif;
		break;
	}
	case RTM_DELADDR: {
		struct nl_addr a;

		if (nl_addr_parse(nlh, &a) < 0)
			return false;
		index = a.index;
		break;
	}
	default:
		return false;
	}
	for (size_t i = 0; i < b->n_dev; i++)
		if (b->dev[i].eng && b->dev[i].eng->ifindex == index)
			return true;
	return false;
}

static const struct kstate_ops wg_kstate_ops = {
	.ensure = ensure,
	.desired = desired,
	.concerns = concerns,
};

/* ---- peers ---- */

static void read_lease(struct wg_backend *b, const struct lease *l, struct lease_peer *p)
{
	struct err err = {0};

	p->ip4 = l->attrs.public_ip;
	p->ip6 = l->attrs.public_ipv6;
	if (subnet_key_has_v4(&l->subnet)) {
		p->sub4 = l->subnet.v4;
		p->has_sub4 = true;
	}
	if (l->subnet.has_v6) {
		p->sub6 = l->subnet.v6;
		p->has_sub6 = true;
	}
	if (l->attrs.backend_data && *l->attrs.backend_data) {
		if (wg_peer_data_parse(l->attrs.backend_data, b->conf.port, p->pub4, &p->port4,
				       &err) == 0)
			p->ok4 = true;
		else
			log_warnx("wireguard: ignoring lease %s: BackendData: %s", l->name, err.msg);
	}
	if (l->attrs.backend_v6_data && *l->attrs.backend_v6_data) {
		uint16_t own = b->conf.mode == WG_MODE_SEPARATE ? b->conf.port_v6 : b->conf.port;

		if (wg_peer_data_parse(l->attrs.backend_v6_data, own, p->pub6, &p->port6, &err) ==
		    0)
			p->ok6 = true;
		else
			log_warnx("wireguard: ignoring lease %s: BackendV6Data: %s", l->name,
				  err.msg);
	}
}

static void wg_peers(struct backend *base, const struct lease_event *ev, size_t n)
{
	struct wg_backend *b = to_wg(base);

	for (size_t i = 0; i < n; i++) {
		const struct lease *l = ev[i].lease;
		struct hmap_node *old = hmap_remove(&b->peers, l->name);
		struct lease_peer *p;

		if (old)
			lease_peer_free(old);
		if (ev[i].kind == LEASE_REMOVED)
			continue;
		if (strcmp(l->attrs.backend_type, "wireguard")) {
			log_warnx("wireguard: ignoring lease %s of type '%s'", l->name,
				  l->attrs.backend_type);
			continue;
		}
		p = xcalloc(1, sizeof(*p));
		memcpy(p->name, l->name, sizeof(p->name));
		p->node.key = p->name;
		p->since_ms = clock_now_ms();
		read_lease(b, l, p);
		hmap_put(&b->peers, &p->node);
	}
	if (!b->ready)
		return;
	for (size_t i = 0; i < b->n_dev; i++) {
		struct err err = {0};

		if (sync_dev(b, &b->dev[i], false, &err) < 0)
			log_warnx("wireguard: %s", err.msg);
	}
}

/* ---- backend ops ---- */

static void wg_destroy(struct backend *base);

static void add_dev(struct wg_backend *b, const char *name, int family, uint16_t port)
{
	struct wg_dev *dv = &b->dev[b->n_dev++];

	snprintf(dv->name, sizeof(dv->name), "%s", name);
	dv->family = family;
	dv->port = port;
}

/* Backend.MTU within the interface's, and room for the largest family the
 * devices carry (80 bytes of overhead for either underlay, as upstream). */
static int wg_check_mtu(const struct wg_backend *b, const struct ext_iface *ext,
			struct err *err)
{
	const struct mtu_in in = {
		.backend = "wireguard",
		.iface = ext->name,
		.iface_mtu = ext->mtu,
		.conf_mtu = b->conf.mtu != ext->mtu ? b->conf.mtu : 0,
	};
	unsigned mtu;

	return mtu_tunnel(&in, WG_OVERHEAD, b->v6 ? AF_INET6 : AF_INET, &mtu, err);
}

static int wg_create(const struct backend_params *p, struct backend **ret, struct err *err)
{
	const struct netconf *nc = p->nc;
	const char *kf = getenv("WIREGUARD_KEY_FILE");
	struct wg_backend *b;
	bool created = false;
	unsigned mode;
	int rc;

	b = xcalloc(1, sizeof(*b));
	backend_base_init(&b->base, p);
	hmap_init(&b->peers);
	b->v4 = nc->enable_ipv4;
	b->v6 = nc->enable_ipv6;
	b->network4 = nc->network;
	b->network6 = nc->ipv6_network;
	rc = wg_conf_parse(nc->backend_json, p->ext->mtu, &b->conf, err);
	if (rc < 0)
		goto fail;
	rc = wg_check_mtu(b, p->ext, err);
	if (rc < 0)
		goto fail;
	snprintf(b->key_file, sizeof(b->key_file), "%s", kf && *kf ? kf : WG_KEY_FILE_DEFAULT);
	rc = wg_key_load_or_create(b->key_file, b->priv, b->pub, &created, err);
	if (rc < 0)
		goto fail;
	if (created)
		log_info("wireguard: generated a private key in %s", b->key_file);
	else if (wg_key_file_mode(b->key_file, &mode, NULL) == 0 && wg_key_mode_too_wide(mode))
		log_warnx("wireguard: %s is mode %04o: others may read the private key "
			  "(chmod 0400 it)", b->key_file, mode);
	b->want_engine = backend_engine_from_env("WEFT_WIREGUARD_ENGINE");
	b->remove_on_exit = getenv("WEFT_WIREGUARD_REMOVE_ON_EXIT") &&
			    !strcmp(getenv("WEFT_WIREGUARD_REMOVE_ON_EXIT"), "1");
	if (b->conf.mode == WG_MODE_SEPARATE) {
		if (b->v4)
			add_dev(b, DEV_V4, AF_INET, b->conf.port);
		if (b->v6)
			add_dev(b, DEV_V6, AF_INET6, b->conf.port_v6);
	} else {
		add_dev(b, DEV_V4, AF_UNSPEC, b->conf.port);
	}
	rc = kstate_new(p->loop, &wg_kstate_ops, b, RECONCILE_PERIOD_MS, "wireguard", &b->ks);
	if (rc < 0) {
		err_set(err, rc, "cannot open netlink: %s", strerror(-rc));
		goto fail;
	}
	*ret = &b->base;
	return 0;
fail:
	wg_destroy(&b->base);
	return rc;
}

static int wg_lease_attrs(struct backend *base, struct lease_attrs *attrs, struct err *err)
{
	struct wg_backend *b = to_wg(base);

	(void)err;
	snprintf(attrs->backend_type, sizeof(attrs->backend_type), "wireguard");
	free(attrs->backend_data);
	free(attrs->backend_v6_data);
	attrs->backend_data = attrs->backend_v6_data = NULL;
	if (b->v4)
		attrs->backend_data = wg_lease_data(b->pub, b->conf.port);
	if (b->v6)
		attrs->backend_v6_data = wg_lease_data(
			b->pub, b->conf.mode == WG_MODE_SEPARATE ? b->conf.port_v6 : b->conf.port);
	return 0;
}

static void route_to(struct wg_dev *dv, const struct ip_prefix *net)
{
	struct nl_route *r = &dv->routes[dv->n_routes++];

	memset(r, 0, sizeof(*r));
	r->dst = *net;
	r->protocol = WEFT_RTPROT;
	/* IPv6 routes have no scope (the kernel reports universe) and get
	 * metric 1024 when none is given: want what the kernel will show. */
	r->scope = net->addr.family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	r->priority = net->addr.family == AF_INET6 ? 1024 : 0;
}

static int wg_lease_acquired(struct backend *base, const struct lease *own, unsigned *ret_mtu,
			     struct err *err)
{
	struct wg_backend *b = to_wg(base);
	int rc;

	for (size_t i = 0; i < b->n_dev; i++) {
		struct wg_dev *dv = &b->dev[i];

		dv->n_routes = 0;
		if (dv->family != AF_INET6 && b->v4 && subnet_key_has_v4(&own->subnet)) {
			dv->addr4.addr = own->subnet.v4.addr;
			dv->addr4.len = 32;
			route_to(dv, &b->network4);
		}
		if (dv->family != AF_INET && b->v6 && own->subnet.has_v6) {
			dv->addr6.addr = own->subnet.v6.addr;
			dv->addr6.len = 128;
			route_to(dv, &b->network6);
		}
	}
	b->ready = true;
	for (size_t i = 0; i < b->n_dev; i++) {
		struct wg_dev *dv = &b->dev[i];

		rc = dev_up(b, dv, false, err);
		if (rc < 0)
			return rc;
		log_info("wireguard: %s (MTU %u, %s engine) listening on port %u, %zu peer(s)",
			 dv->name, dev_mtu(b), dv->eng->ops->name, dv->port, dv->peers);
	}
	*ret_mtu = dev_mtu(b);
	return 0;
}

static int wg_start(struct backend *base)
{
	return kstate_run(to_wg(base)->ks);
}

static void wg_dump(struct backend *base)
{
	struct wg_backend *b = to_wg(base);

	for (size_t i = 0; i < b->n_dev; i++) {
		struct wg_dev *dv = &b->dev[i];
		struct wg_device_stats st;
		char line[1536];
		size_t off = 0;

		if (!dv->eng) {
			log_info("wireguard: %s: not running", dv->name);
			continue;
		}
		if (!dv->eng->ops->stats || !dv->eng->ops->stats(dv->eng, &st)) {
			log_info("wireguard: %s: %s engine, %zu peers", dv->name,
				 dv->eng->ops->name, dv->peers);
			continue;
		}
		for (int k = 0; k < WG_COUNTERS; k++) {
			int n = snprintf(line + off, sizeof(line) - off, " %s=%llu",
					 wg_counter_name(k), (unsigned long long)st.c[k]);

			if (n < 0 || (size_t)n >= sizeof(line) - off)
				break;
			off += (size_t)n;
		}
		log_info("wireguard: %s: %s engine, %zu peers, %zu sessions;%s", dv->name,
			 dv->eng->ops->name, st.peers, st.sessions, line);
	}
}

static void wg_stats(struct backend *base, struct backend_stats *ret)
{
	struct wg_backend *b = to_wg(base);

	for (size_t i = 0; i < b->n_dev; i++)
		ret->peers_programmed += b->dev[i].peers;
	ret->engine = b->engine;
	kstate_report(b->ks, ret);
	ret->netlink_errors += b->sync_errors;
}

/* ---- /metrics ---- */

static bool dev_stats(struct wg_metric *m, struct wg_device_stats *st)
{
	struct wg_dev *dv = &m->b->dev[m->dev];

	return dv->eng && dv->eng->ops->stats && dv->eng->ops->stats(dv->eng, st);
}

static double read_counter(void *arg)
{
	struct wg_metric *m = arg;
	struct wg_device_stats st;

	return dev_stats(m, &st) ? (double)st.c[m->index] : 0;
}

static double read_peers(void *arg)
{
	struct wg_metric *m = arg;

	return (double)m->b->dev[m->dev].peers;
}

static double read_sessions(void *arg)
{
	struct wg_metric *m = arg;
	struct wg_device_stats st;

	return dev_stats(m, &st) ? (double)st.sessions : 0;
}

static double read_engine(void *arg)
{
	struct wg_metric *m = arg;
	struct wg_dev *dv = &m->b->dev[m->dev];

	/* index 0: kernel, 1: userspace */
	return dv->eng && !strcmp(dv->eng->ops->name, m->index ? "userspace" : "kernel");
}

static double read_corrections(void *arg)
{
	struct wg_metric *m = arg;

	return (double)m->b->dev[m->dev].corrections;
}

/*
 * weft_wireguard_engine{device,engine} (1 for the one in use),
 * weft_wireguard_peers{device}, weft_wireguard_sessions{device},
 * weft_wireguard_peer_corrections_total{device}, and the userspace data
 * path's weft_wireguard_packets_total{device,direction},
 * weft_wireguard_bytes_total{device,direction},
 * weft_wireguard_drops_total{device,reason},
 * weft_wireguard_events_total{device,event}.
 */
static int wg_metrics(struct backend *base, struct metrics *m)
{
	static const char *const dl[] = {"device", NULL}, *const de[] = {"device", "engine", NULL},
				 *const dd[] = {"device", "direction", NULL},
				 *const dr[] = {"device", "reason", NULL},
				 *const dv[] = {"device", "event", NULL};
	struct wg_backend *b = to_wg(base);
	struct metrics_family *eng = NULL, *peers = NULL, *sess = NULL, *corr = NULL;
	struct backend_counter_families cf = {0};
	unsigned slot = 0;

	metrics_family_add(m, METRICS_GAUGE, "weft_wireguard_engine",
			   "1 for the WireGuard engine a device runs on", de, &eng);
	metrics_family_add(m, METRICS_GAUGE, "weft_wireguard_peers",
			   "WireGuard peers configured on a device", dl, &peers);
	metrics_family_add(m, METRICS_GAUGE, "weft_wireguard_sessions",
			   "Peers with a current session (userspace engine)", dl, &sess);
	metrics_family_add(m, METRICS_COUNTER, "weft_wireguard_peer_corrections_total",
			   "Peer settings the periodic reconcile had to restore", dl, &corr);
	metrics_family_add(m, METRICS_COUNTER, "weft_wireguard_packets_total",
			   "Inner packets carried by the userspace engine", dd, &cf.packets);
	metrics_family_add(m, METRICS_COUNTER, "weft_wireguard_bytes_total",
			   "Inner bytes carried by the userspace engine", dd, &cf.bytes);
	metrics_family_add(m, METRICS_COUNTER, "weft_wireguard_drops_total",
			   "Packets the userspace engine dropped, by reason", dr, &cf.drops);
	metrics_family_add(m, METRICS_COUNTER, "weft_wireguard_events_total",
			   "Userspace engine operations (syscalls, handshakes, cookies)", dv,
			   &cf.events);
	for (unsigned d = 0; d < b->n_dev; d++) {
		const char *name = b->dev[d].name;

		for (unsigned e = 0; e < 2; e++) {
			const char *v[] = {name, e ? "userspace" : "kernel", NULL};

			b->mslots[slot] = (struct wg_metric){b, d, e};
			if (eng)
				metrics_child_func(eng, v, read_engine, &b->mslots[slot], NULL);
			slot++;
		}
		const char *v1[] = {name, NULL};
		b->mslots[slot] = (struct wg_metric){b, d, 0};
		if (peers)
			metrics_child_func(peers, v1, read_peers, &b->mslots[slot], NULL);
		if (sess)
			metrics_child_func(sess, v1, read_sessions, &b->mslots[slot], NULL);
		if (corr)
			metrics_child_func(corr, v1, read_corrections, &b->mslots[slot], NULL);
		slot++;
		for (unsigned i = 0; i < WG_COUNTERS; i++) {
			const char *label;
			struct metrics_family *f = backend_counter_family(
				&cf, wg_counter_name((enum wg_counter)i), &label);
			const char *v[] = {name, label, NULL};
			b->mslots[slot] = (struct wg_metric){b, d, i};
			if (f)
				metrics_child_func(f, v, read_counter, &b->mslots[slot], NULL);
			slot++;
		}
	}
	return 0;
}

/* The tunnels listen on every address and reach peers by their public
 * addresses: a new interface changes only which family a peer's endpoint
 * takes (wg_auto_family), decided again when the peer's lease changes. */
static int wg_ext_changed(struct backend *base, const struct ext_iface *ext, struct err *err)
{
	(void)err;
	base->ext = *ext;
	return 0;
}

static void wg_destroy(struct backend *base)
{
	struct wg_backend *b = to_wg(base);

	for (size_t i = 0; i < b->n_dev; i++) {
		if (!b->dev[i].eng)
			continue;
		if (b->remove_on_exit)
			log_info("wireguard: removing %s", b->dev[i].name);
		b->dev[i].eng->ops->close(b->dev[i].eng, b->remove_on_exit);
	}
	kstate_free(b->ks);
	hmap_clear(&b->peers, lease_peer_free);
	wg_wipe(b->priv, sizeof(b->priv));
	wg_wipe(&b->conf, sizeof(b->conf));
	free(b);
}

const struct backend_ops wireguard_backend_ops = {
	.type = "wireguard",
	.create = wg_create,
	.lease_attrs = wg_lease_attrs,
	.lease_acquired = wg_lease_acquired,
	.peers = wg_peers,
	.start = wg_start,
	.dump = wg_dump,
	.stats = wg_stats,
	.metrics = wg_metrics,
	.ext_changed = wg_ext_changed,
	.destroy = wg_destroy,
};
