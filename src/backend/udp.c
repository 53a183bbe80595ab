// SPDX-License-Identifier: Apache-2.0
/*
 * udp (flannel.md §7.4): a TUN device flannel%d carrying our subnet address
 * as /32 and a route for the whole Network; a UDP socket on the interface
 * address and Port (8285). Every datagram is one bare inner IPv4 packet,
 * exchanged with peer PublicIP:Port. The lease carries no BackendType, and
 * every peer lease is used whatever its BackendType (as upstream).
 *
 * This file is the control side: devices, the kernel state around them
 * (kept by kstate) and the peer table. Packets are moved by the threads of
 * datapath/udp_proxy.c, which get each new peer table without stopping.
 *
 * Beyond upstream: datagrams not from a peer's address, whose inner source
 * is outside the sending peer's subnet, or whose inner destination is
 * outside our own subnet, are dropped (counted). The sender's port must
 * match too only with Backend option "MatchPeerPort": true, because a NAT
 * that rewrites source ports sits between nodes where flannel works.
 *
 * Fast path switches: Backend option "FastPath": false (the whole cluster's
 * config) or the environment WEFT_UDP_PLAIN=1 (this node) give flannel's
 * plain path; WEFT_UDP_DISABLE="gro,gso,..." turns off single features
 * (names in udp_proxy.h). The active path is logged at start and on SIGUSR1.
 */
#include "backend/udp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/options.h"
#include "backend/kstate.h"
#include "core/err.h"
#include "core/hmap.h"
#include "core/container_of.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "datapath/peers.h"
#include "datapath/udp_proxy.h"
#include "nl/addr.h"
#include "nl/link.h"
#include "nl/nl.h"
#include "nl/route.h"
#include "subnet/netconf.h"
#include "subnet/subnet_mgr.h"

#define UDP_OVERHEAD 28 /* IPv4 + UDP headers */
#define RECONCILE_PERIOD_MS 10000
#define RECLAIM_MS 100
#define TUN_TEMPLATE "flannel%d"

struct udp_peer_node {
	struct hmap_node node;
	char name[SUBNET_KEY_STRLEN];
	struct udp_peer_entry e;
};

static void udp_peer_node_free(struct hmap_node *n)
{
	free(hmap_entry(n, struct udp_peer_node, node));
}

struct udp_backend;

/* One counter (enum udp_counter) or feature (a UDP_F_* bit) for /metrics. */
struct udp_ctr {
	struct udp_backend *b;
	unsigned index;
};

struct udp_backend {
	struct backend base;
	struct udp_cfg cfg;
	struct ip_prefix network;
	unsigned mtu;
	unsigned want; /* data-path features asked for */
	char plain_why[64];
	struct kstate *ks;
	struct hmap peers;
	bool ready;
	struct ip_prefix addr; /* our subnet address /32 */
	struct ip_prefix subnet; /* our subnet: the only inner destination accepted */
	struct udp_tun tun;
	int tun_index;
	struct udp_sock sock;
	struct udp_proxy *proxy;
	int64_t reclaim_timer;
	struct nl_route route; /* Network dev flannel0 */
	struct udp_peer_entry *scratch;
	size_t cap;
	struct udp_ctr ctr[UDP_COUNTERS + 16];
};

static struct udp_backend *to_udp(struct backend *base)
{
	return container_of(base, struct udp_backend, base);
}

/* ---- config ---- */

static unsigned wanted_features(const struct udp_cfg *cfg, char *why, size_t len)
{
	const char *plain = getenv("WEFT_UDP_PLAIN"), *off = getenv("WEFT_UDP_DISABLE");
	unsigned want = UDP_F_ALL, f;

	if (!cfg->fast_path) {
		snprintf(why, len, "Backend.FastPath is false");
		return 0;
	}
	if (plain && *plain && strcmp(plain, "0")) {
		log_warnx("test knob WEFT_UDP_PLAIN=%s in effect", plain);
		snprintf(why, len, "WEFT_UDP_PLAIN is set");
		return 0;
	}
	if (off && *off) {
		if (udp_features_parse(off, &f) < 0) {
			log_warnx("ignoring WEFT_UDP_DISABLE=%s: unknown feature name", off);
		} else {
			log_warnx("test knob WEFT_UDP_DISABLE=%s in effect", off);
			want &= ~f;
		}
	}
	return want;
}

/* ---- kernel state ---- */

static uint32_t v4(const struct ip_addr *a)
{
	uint32_t x;

	memcpy(&x, a->b, 4);
	return x;
}

/* MTU, our /32 and nothing else, up. */
static int tun_configure(struct udp_backend *b)
{
	struct nl *nl = kstate_nl(b->ks);
	struct err err = {0};
	struct nl_link l;
	int rc;

	rc = nl_link_get_by_index(nl, b->tun_index, &l);
	if (rc < 0)
		return rc;
	if (l.mtu != b->mtu && (rc = nl_link_set_mtu(nl, b->tun_index, b->mtu, &err)) < 0)
		return rc;
	rc = nl_addr_set_only(nl, b->tun_index, &b->addr, &err);
	if (rc < 0)
		return rc;
	if (!l.up && (rc = nl_link_set_up(nl, b->tun_index, true, &err)) < 0)
		return rc;
	/* Reconcile keeps it; adding it here saves it a "missing" report. */
	return nl_route_replace(nl, &b->route, &err);
}

static void set_conf(const char *fam, const char *dev, const char *key, const char *val)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", fam, dev, key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		log_debug("cannot write %s", path);
	close(fd);
}

/*
 * The TUN carries IPv4 only: without IPv6 on it the kernel sends it no
 * router or listener solicitations. And our net-unreachable messages come
 * from the TUN's own address (as flannel's), which the kernel drops as a
 * martian source unless accept_local is on. That is safe here: the receive
 * path never lets a peer's packet carry a source outside that peer's subnet,
 * so nothing else on flannel0 can claim one of our addresses.
 */
static void tun_sysctls(const char *dev)
{
	set_conf("ipv6", dev, "disable_ipv6", "1");
	set_conf("ipv4", dev, "accept_local", "1");
}

static void publish_peers(struct udp_backend *b);

static void proxy_stop(struct udp_backend *b)
{
	udp_proxy_stop(b->proxy);
	b->proxy = NULL;
	if (b->tun.fd >= 0)
		close(b->tun.fd);
	b->tun.fd = -1;
	b->tun_index = 0;
}

/* TUN, its link index, the threads. */
static int proxy_start(struct udp_backend *b)
{
	struct nl_link l;
	int rc;

	rc = udp_tun_open(TUN_TEMPLATE, b->want, &b->tun);
	if (rc < 0)
		return rc;
	rc = nl_link_get_by_name(kstate_nl(b->ks), b->tun.name, &l);
	if (rc < 0)
		goto fail;
	b->tun_index = l.index;
	b->route.oif = l.index;
	tun_sysctls(b->tun.name);
	struct udp_proxy_config pc = {
		.tun_fd = b->tun.fd,
		.sock_fd = b->sock.fd,
		.features = b->tun.features | b->sock.features,
		.tun_addr = v4(&b->addr.addr),
		.port = htons(b->cfg.port),
		.gso_max_dgram = b->base.ext.mtu - UDP_OVERHEAD,
		.local_net = v4(&b->subnet.addr),
		.local_mask = b->subnet.len ? htonl(~0U << (32 - b->subnet.len)) : 0,
		.match_port = b->cfg.match_port,
	};
	rc = udp_proxy_start(&pc, &b->proxy);
	if (rc < 0)
		goto fail;
	publish_peers(b);
	return 0;
fail:
	proxy_stop(b);
	return rc;
}

static int ensure(void *arg)
{
	struct udp_backend *b = arg;
	struct nl_link l;
	int rc;

	if (!b->ready)
		return 0;
	/* The TUN dies with its fd; deleted by hand it needs a new one (and
	 * new threads: the old fd is dead). */
	rc = b->tun_index ? nl_link_get_by_index(kstate_nl(b->ks), b->tun_index, &l) : -ENODEV;
	if (rc == -ENODEV) {
		log_warnx("udp: %s is gone; recreating it", b->tun.name[0] ? b->tun.name : "TUN");
		proxy_stop(b);
		rc = proxy_start(b);
	}
	if (rc < 0)
		return rc;
	return tun_configure(b);
}

static bool desired(void *arg, int family, struct rc_desired *want, struct rc_scope *scope)
{
	struct udp_backend *b = arg;

	if (family != AF_INET || !b->ready || !b->tun_index)
		return false;
	want->routes = &b->route;
	want->n_routes = 1;
	scope->family = AF_INET;
	scope->dev_index = 0; /* routes marked WEFT_RTPROT are ours; no neighbours */
	return true;
}

static bool concerns(void *arg, const struct nlmsghdr *nlh)
{
	struct udp_backend *b = arg;

	if (!b->tun_index)
		return false;
	switch (nlh->nlmsg_type) {
	case RTM_DELLINK:
	case RTM_NEWLINK: {
		struct nl_link l;

		return nl_link_parse(nlh, &l) == 0 && l.index == b->tun_index &&
		       (nlh->nlmsg_type == RTM_DELLINK || !l.up || l.mtu != b->mtu);
	}
	case RTM_DELROUTE: {
		struct nl_route r;

		return nl_route_parse(nlh, &r) == 0 &&
		       (r.protocol == WEFT_RTPROT || r.oif == b->tun_index);
	}
	case RTM_DELADDR: {
		struct nl_addr a;

		return nl_addr_parse(nlh, &a) == 0 && a.index == b->tun_index;
	}
	default:
		return false;
	}
}

static const struct kstate_ops udp_kstate_ops = {
	.ensure = ensure,
	.desired = desired,
	.concerns = concerns,
};

/* ---- peers ---- */

static int64_t reclaim_fire(struct loop *loop, int64_t id, void *arg)
{
	struct udp_backend *b = arg;

	(void)loop;
	(void)id;
	if (b->proxy && udp_proxy_reclaim(b->proxy))
		return RECLAIM_MS;
	b->reclaim_timer = 0;
	return LOOP_TIMER_STOP;
}

/* A new immutable table for the threads; the old one is freed once they
 * have both moved on. */
static void publish_peers(struct udp_backend *b)
{
	struct udp_peer_table *t;
	const struct hmap_node *hn;
	size_t iter, n = 0, dropped;

	if (!b->proxy)
		return;
	if (b->cap < b->peers.count + 1) {
		b->cap = b->peers.count + 1;
		b->scratch = xreallocarray(b->scratch, b->cap, sizeof(*b->scratch));
	}
	for (hn = hmap_first(&b->peers, &iter); hn; hn = hmap_next(&b->peers, hn, &iter))
		b->scratch[n++] = hmap_entry(hn, struct udp_peer_node, node)->e;
	t = udp_peer_table_new(b->scratch, n, &dropped);
	if (dropped)
		log_warnx("udp: %zu peer subnets overlap others; ignoring them", dropped);
	udp_proxy_set_peers(b->proxy, t);
	if (udp_proxy_reclaim(b->proxy) && !b->reclaim_timer)
		b->reclaim_timer = loop_add_timer(b->base.loop, RECLAIM_MS, reclaim_fire, b);
}

static void udp_peers(struct backend *base, const struct lease_event *ev, size_t n)
{
	struct udp_backend *b = to_udp(base);
	for (size_t i = 0; i < n; i++) {
		const struct lease *l = ev[i].lease;
		struct udp_peer_node *p;
		struct hmap_node *old;

		old = hmap_remove(&b->peers, l->name);
		if (old)
			udp_peer_node_free(old);
		if (ev[i].kind == LEASE_REMOVED)
			continue;
		/* Upstream's udp backend uses every lease, whatever its type. */
		if (!subnet_key_has_v4(&l->subnet) || l->attrs.public_ip.family != AF_INET ||
		    ip_addr_is_unset(&l->attrs.public_ip)) {
			log_debug("udp: ignoring peer %s: no IPv4 subnet or public IP", l->name);
			continue;
		}
		p = xcalloc(1, sizeof(*p));
		memcpy(p->name, l->name, sizeof(p->name));
		p->node.key = p->name;
		p->e.net = v4(&l->subnet.v4.addr);
		p->e.mask = l->subnet.v4.len ? htonl(~0U << (32 - l->subnet.v4.len)) : 0;
		p->e.addr = v4(&l->attrs.public_ip);
		p->e.port = htons(b->cfg.port);
		hmap_put(&b->peers, &p->node);
	}
	publish_peers(b);
}

/* ---- backend ops ---- */

static void udp_destroy(struct backend *base);

static int udp_create(const struct backend_params *p, struct backend **ret, struct err *err)
{
	const struct ext_iface *ext = p->ext;
	const struct netconf *nc = p->nc;
	struct udp_backend *b;
	int rc;

	if (!nc->enable_ipv4 || nc->enable_ipv6)
		return err_set(err, -EINVAL, "the udp backend supports IPv4 only");
	if (ext->iface_addr.family != AF_INET)
		return err_set(err, -EINVAL, "interface %s has no IPv4 address to bind to",
			       ext->name);
	if (ext->mtu <= UDP_OVERHEAD + 68)
		return err_set(err, -EINVAL, "MTU %u is too small for the udp backend", ext->mtu);
	b = xcalloc(1, sizeof(*b));
	backend_base_init(&b->base, p);
	b->network = nc->network;
	b->mtu = ext->mtu - UDP_OVERHEAD;
	b->tun.fd = b->sock.fd = -1;
	hmap_init(&b->peers);
	rc = udp_options_parse(nc->backend_json, &b->cfg, err);
	if (rc < 0)
		goto fail;
	b->want = wanted_features(&b->cfg, b->plain_why, sizeof(b->plain_why));
	rc = kstate_new(p->loop, &udp_kstate_ops, b, RECONCILE_PERIOD_MS, "udp", &b->ks);
	if (rc < 0) {
		err_set(err, rc, "cannot open netlink: %s", strerror(-rc));
		goto fail;
	}
	*ret = &b->base;
	return 0;
fail:
	udp_destroy(&b->base);
	return rc;
}

static int udp_lease_attrs(struct backend *base, struct lease_attrs *attrs, struct err *err)
{
	(void)base;
	(void)err;
	attrs->backend_type[0] = '\0'; /* upstream's udp leases carry none */
	return 0;
}

static void log_path(struct udp_backend *b)
{
	char have[96], miss[96], off[96], a[IP_ADDR_STRLEN], s[IP_ADDR_STRLEN];
	unsigned f = b->tun.features | b->sock.features;

	log_info("udp: %s (MTU %u) address %s/32, socket %s:%u, peers matched by address%s",
		 b->tun.name, b->mtu, ip_addr_format(&b->addr.addr, a),
		 ip_addr_format(&b->base.ext.iface_addr, s), b->cfg.port,
		 b->cfg.match_port ? " and port" : "");
	if (!b->want) {
		log_info("udp: data path: plain (one packet per syscall), as %s", b->plain_why);
		return;
	}
	log_info(
		"udp: data path: %s (%s%s%s%s%s), socket buffers %d/%d bytes",
		(f & (UDP_F_TSO | UDP_F_GRO | UDP_F_COALESCE | UDP_F_GSO)) ? "fast" : "plain",
		udp_features_format(f, have, sizeof(have)), (b->want & ~f) ? "; unavailable: " : "",
		(b->want & ~f) ? udp_features_format(b->want & ~f, miss, sizeof(miss)) : "",
		(~b->want & UDP_F_ALL) ? "; turned off: " : "",
		(~b->want & UDP_F_ALL) ? udp_features_format(~b->want & UDP_F_ALL, off, sizeof(off))
				       : "",
		b->sock.sndbuf, b->sock.rcvbuf);
}

static int udp_lease_acquired(struct backend *base, const struct lease *own, unsigned *ret_mtu,
			      struct err *err)
{
	struct udp_backend *b = to_udp(base);
	char a[IP_ADDR_STRLEN];
	int rc;

	b->addr.addr = own->subnet.v4.addr;
	b->addr.len = 32;
	b->subnet = own->subnet.v4;
	b->route.dst = b->network;
	b->route.protocol = WEFT_RTPROT;
	rc = udp_sock_open(v4(&b->base.ext.iface_addr), htons(b->cfg.port), b->want, &b->sock);
	if (rc < 0)
		return err_set(err, rc, "cannot bind UDP %s:%u: %s",
			       ip_addr_format(&b->base.ext.iface_addr, a), b->cfg.port, strerror(-rc));
	rc = proxy_start(b);
	if (rc < 0)
		return err_set(err, rc, "cannot start the data path on a TUN device: %s",
			       strerror(-rc));
	b->ready = true;
	rc = tun_configure(b);
	if (rc < 0)
		return err_set(err, rc, "configuring %s: %s", b->tun.name, strerror(-rc));
	log_path(b);
	*ret_mtu = b->mtu;
	return 0;
}

static int udp_start(struct backend *base)
{
	return kstate_run(to_udp(base)->ks);
}

/* False while the data path is not running (before the lease is held). */
static bool proxy_stats(struct udp_backend *b, struct udp_proxy_stats *ret)
{
	if (!b->proxy)
		return false;
	udp_proxy_stats(b->proxy, ret);
	return true;
}

static void udp_dump(struct backend *base)
{
	struct udp_backend *b = to_udp(base);
	struct udp_proxy_stats st;
	char feat[96], line[1536];
	size_t off = 0;

	if (!proxy_stats(b, &st)) {
		log_info("udp: data path not running");
		return;
	}
	for (int i = 0; i < UDP_COUNTERS; i++) {
		int n = snprintf(line + off, sizeof(line) - off, " %s=%llu", udp_counter_name(i),
				 (unsigned long long)st.c[i]);

		if (n < 0 || (size_t)n >= sizeof(line) - off)
			break;
		off += (size_t)n;
	}
	log_info("udp: path %s; peers %zu (table %llu);%s",
		 udp_features_format(st.features, feat, sizeof(feat)), st.peers,
		 (unsigned long long)st.peers_gen, line);
}

static void udp_stats(struct backend *base, struct backend_stats *ret)
{
	struct udp_backend *b = to_udp(base);
	struct udp_proxy_stats st;

	if (proxy_stats(b, &st))
		ret->peers_programmed = st.peers;
	kstate_report(b->ks, ret);
}

/* ---- the data path's counters for /metrics ---- */

static double read_udp_counter(void *arg)
{
	const struct udp_ctr *c = arg;
	struct udp_proxy_stats st;

	if (!proxy_stats(c->b, &st))
		return 0;
	return (double)st.c[c->index];
}

static double read_udp_feature(void *arg)
{
	const struct udp_ctr *c = arg;
	struct udp_proxy_stats st;

	if (!proxy_stats(c->b, &st))
		return 0;
	return (st.features & c->index) ? 1 : 0;
}

/*
 * weft_udp_packets_total{direction}, weft_udp_bytes_total{direction},
 * weft_udp_drops_total{reason}, weft_udp_events_total{event} and
 * weft_udp_fastpath_feature{feature}.
 */
static int udp_metrics(struct backend *base, struct metrics *m)
{
	static const char *const dir[] = { "direction", NULL }, *const reason[] = { "reason", NULL },
			  *const event[] = { "event", NULL }, *const feat[] = { "feature", NULL };
	struct udp_backend *b = to_udp(base);
	struct backend_counter_families cf = { 0 };
	struct metrics_family *fe = NULL;
	unsigned slot = 0;

	metrics_family_add(m, METRICS_COUNTER, "weft_udp_packets_total",
			   "Inner packets carried by the udp backend", dir, &cf.packets);
	metrics_family_add(m, METRICS_COUNTER, "weft_udp_bytes_total",
			   "Inner bytes carried by the udp backend", dir, &cf.bytes);
	metrics_family_add(m, METRICS_COUNTER, "weft_udp_drops_total",
			   "Packets the udp backend dropped, by reason", reason, &cf.drops);
	metrics_family_add(m, METRICS_COUNTER, "weft_udp_events_total",
			   "udp data path operations (syscalls, GSO sends, GRO trains, ICMP)",
			   event, &cf.events);
	metrics_family_add(m, METRICS_GAUGE, "weft_udp_fastpath_feature",
			   "1 when a fast-path feature of the udp backend is active", feat, &fe);
	for (unsigned i = 0; i < UDP_COUNTERS; i++) {
		const char *label;
		struct metrics_family *f =
			backend_counter_family(&cf, udp_counter_name((enum udp_counter)i), &label);
		const char *v[] = { label, NULL };
		b->ctr[slot] = (struct udp_ctr){ b, i };
		if (f)
			metrics_child_func(f, v, read_udp_counter, &b->ctr[slot], NULL);
		slot++;
	}
	for (unsigned bit = 1; bit < UDP_F_ALL && slot < sizeof(b->ctr) / sizeof(b->ctr[0]);
	     bit <<= 1) {
		char name[32];
		const char *v[] = { udp_features_format(bit, name, sizeof(name)), NULL };

		b->ctr[slot] = (struct udp_ctr){ b, bit };
		if (fe)
			metrics_child_func(fe, v, read_udp_feature, &b->ctr[slot], NULL);
		slot++;
	}
	return 0;
}

/* The socket is bound to the interface's address: the same address found
 * again (the interface recreated) keeps it working; another one needs a new
 * socket under the running data path, which only a restart gives. */
static int udp_ext_changed(struct backend *base, const struct ext_iface *ext, struct err *err)
{
	char a[IP_ADDR_STRLEN], c[IP_ADDR_STRLEN];

	if (!ip_addr_equal(&ext->iface_addr, &base->ext.iface_addr))
		return err_set(err, -EOPNOTSUPP,
			       "the udp backend's socket is bound to %s; it cannot move to %s in "
			       "place",
			       ip_addr_format(&base->ext.iface_addr, a),
			       ip_addr_format(&ext->iface_addr, c));
	base->ext = *ext;
	return 0;
}

static void udp_destroy(struct backend *base)
{
	struct udp_backend *b = to_udp(base);

	if (b->reclaim_timer > 0)
		loop_del_timer(b->base.loop, b->reclaim_timer);
	proxy_stop(b);
	if (b->sock.fd >= 0)
		close(b->sock.fd);
	kstate_free(b->ks);
	hmap_clear(&b->peers, udp_peer_node_free);
	free(b->scratch);
	free(b);
}

const struct backend_ops udp_backend_ops = {
	.type = "udp",
	.create = udp_create,
	.lease_attrs = udp_lease_attrs,
	.lease_acquired = udp_lease_acquired,
	.peers = udp_peers,
	.start = udp_start,
	.dump = udp_dump,
	.stats = udp_stats,
	.metrics = udp_metrics,
	.ext_changed = udp_ext_changed,
	.destroy = udp_destroy,
};
