// SPDX-License-Identifier: Apache-2.0
/*
 * src/nl against the real kernel. Runs inside a network namespace of its own
 * that tests/netns/test_nl_kernel.sh creates (with a veth pair as underlay)
 * and removes; never run it in a namespace that matters.
 *
 * What the API did is checked twice where it counts: through our own dumps
 * and through iproute2 (`ip`, `bridge`), which reads the kernel independently.
 *
 * Environment: NL_UNDERLAY (device name), NL_LOCAL (its IPv4 address),
 * NL_BATCH_N (peers in the big batch, default 2000), NL_TEST_FILTER (cmocka
 * test-name pattern).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernel_check.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/ipnet.h"
#include "nl/addr.h"
#include "nl/build.h"
#include "nl/link.h"
#include "nl/monitor.h"
#include "nl/neigh.h"
#include "nl/nexthop.h"
#include "nl/nl.h"
#include "nl/route.h"

#define VX	"weftvx0"
#define VNI	42
#define VX_MTU	1400

static struct nl *nl;
static const char *underlay;
static int underlay_index;
static struct ip_addr local;

static const uint8_t vx_mac[6] = { 0x0e, 0x2a, 0x0a, 0x0b, 0x0c, 0x0d };
static const uint8_t mac1[6] = { 0x0e, 0x2a, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t mac2[6] = { 0x0e, 0x2a, 0x00, 0x00, 0x00, 0x02 };

/* ---- helpers ---- */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#define assert_ok(call)                                                                   \
	do {                                                                              \
		int r_ = (call);                                                          \
		if (r_ != 0)                                                              \
			fail_msg("%s = %d (%s)", #call, r_, strerror(-r_));               \
	} while (0)

/* Create the test vxlan device (up, with its MAC and MTU) unless present. */
static int vx_ensure(void)
{
	struct nl_vxlan_params p = {
		.name = VX,
		.info = { .vni = VNI, .link = underlay_index, .local = local, .port = 4789,
			  .gbp = true },
		.mtu = VX_MTU,
		.mac = vx_mac,
	};
	struct nl_link l;
	struct err e = { "" };
	int ret;

	if (nl_link_get_by_name(nl, VX, &l) == 0)
		return l.index;
	ret = nl_vxlan_create(nl, &p, &e);
	if (ret < 0)
		fail_msg("nl_vxlan_create: %d %s", ret, e.msg);
	assert_ok(nl_link_get_by_name(nl, VX, &l));
	ret = nl_link_set_up(nl, l.index, true, &e);
	if (ret < 0)
		fail_msg("nl_link_set_up: %d %s", ret, e.msg);
	return l.index;
}

/* ---- counting callbacks ---- */

struct count {
	int n;
	int index;	/* 0: any */
	uint8_t proto;	/* 0: any */
	struct ip_prefix within; /* len 0: any */
	bool found;
	struct ip_prefix want_prefix;
	struct nl_route route;
	struct nl_neigh neigh;
	struct nl_addr addr;
	struct nl_link link;
	int stop_after; /* return -ECANCELED once n reaches it (0: never) */
	bool all_states; /* neighbours: count NOARP ones the kernel makes too */
};

static int count_route(const struct nl_route *r, void *arg)
{
	struct count *c = arg;

	if ((c->index && r->oif != c->index) || (c->proto && r->protocol != c->proto))
		return 0;
	if (c->within.len && !ip_prefix_contains_prefix(&c->within, &r->dst))
		return 0;
	c->n++;
	if (ip_prefix_equal(&r->dst, &c->want_prefix)) {
		c->found = true;
		c->route = *r;
	}
	if (c->stop_after && c->n >= c->stop_after)
		return -ECANCELED;
	return 0;
}

/* Neighbours match on want_prefix.addr; FDB entries (c->neigh.fdb set by
 * the caller) on c->neigh.mac. */
static int count_neigh(const struct nl_neigh *n, void *arg)
{
	struct count *c = arg;
	bool match;

	if (c->index && n->index != c->index)
		return 0;
	/* IGMP/MLD traffic leaves NOARP multicast entries: not ours. */
	if (!c->all_states && !(n->state & NUD_PERMANENT))
		return 0;
	c->n++;
	if (c->neigh.fdb)
		match = n->fdb && n->has_mac && !memcmp(n->mac, c->neigh.mac, 6);
	else
		match = !n->fdb && ip_addr_equal(&n->dst, &c->want_prefix.addr);
	if (match) {
		c->found = true;
		c->neigh = *n;
	}
	return 0;
}

/* FDB entries whose MAC starts with 0e:2a (ours). */
static int count_ours(const struct nl_neigh *n, void *arg)
{
	int *count = arg;

	if (n->has_mac && n->mac[0] == 0x0e && n->mac[1] == 0x2a)
		(*count)++;
	return 0;
}

static int count_addr(const struct nl_addr *a, void *arg)
{
	struct count *c = arg;

	if (c->within.len && !ip_prefix_contains(&c->within, &a->prefix.addr))
		return 0;
	c->n++;
	if (ip_prefix_equal(&a->prefix, &c->want_prefix)) {
		c->found = true;
		c->addr = *a;
	}
	return 0;
}

static int count_link(const struct nl_link *l, void *arg)
{
	struct count *c = arg;

	c->n++;
	if (l->index == c->index) {
		c->found = true;
		c->link = *l;
	}
	return 0;
}

/* Nexthops of ours (WEFT_RTPROT) with ids in [lo, hi] (hi 0: any id). */
struct nh_count {
	int n;
	uint32_t lo, hi;
	uint32_t want; /* the one to keep */
	bool found;
	struct nl_nexthop nh;
};

static int count_nexthop(const struct nl_nexthop *nh, void *arg)
{
	struct nh_count *c = arg;

	if (nh->protocol != WEFT_RTPROT || (c->hi && (nh->id < c->lo || nh->id > c->hi)))
		return 0;
	c->n++;
	if (nh->id == c->want) {
		c->found = true;
		c->nh = *nh;
	}
	return 0;
}

/* Routes of ours that use a nexthop id in [lo, hi]. */
struct nh_routes {
	int n;
	uint32_t lo, hi;
};

static int count_nh_route(const struct nl_route *r, void *arg)
{
	struct nh_routes *c = arg;

	if (r->protocol == WEFT_RTPROT && r->nh_id >= c->lo && r->nh_id <= c->hi)
		c->n++;
	return 0;
}

/* ---- tests ---- */

static void test_link_get(void **state)
{
	struct nl_link l, by_index;

	(void)state;
	assert_ok(nl_link_get_by_name(nl, underlay, &l));
	assert_int_equal(l.index, underlay_index);
	assert_string_equal(l.name, underlay);
	assert_string_equal(l.kind, "veth");
	assert_false(l.is_vxlan);
	assert_true(l.up);
	assert_ok(nl_link_get_by_index(nl, l.index, &by_index));
	assert_string_equal(by_index.name, underlay);
	assert_memory_equal(by_index.mac, l.mac, 6);
	assert_int_equal(nl_link_get_by_name(nl, "nosuchdev0", &l), -ENODEV);
	assert_int_equal(nl_link_get_by_index(nl, 99999, &l), -ENODEV);
}

static void test_vxlan_create(void **state)
{
	struct nl_vxlan_params p = {
		.name = VX,
		.info = { .vni = VNI, .link = underlay_index, .local = local, .port = 4789,
			  .gbp = true },
		.mtu = VX_MTU,
		.mac = vx_mac,
	};
	struct nl_link l;
	struct err e = { "" };
	const char *out;
	int ret;

	(void)state;
	assert_ok(nl_vxlan_create(nl, &p, &e));
	assert_ok(nl_link_get_by_name(nl, VX, &l));
	assert_string_equal(l.kind, "vxlan");
	assert_true(l.is_vxlan);
	assert_int_equal(l.vxlan.vni, VNI);
	assert_int_equal(l.vxlan.link, underlay_index);
	assert_true(ip_addr_equal(&l.vxlan.local, &local));
	assert_int_equal(l.vxlan.group.family, 0);
	assert_int_equal(l.vxlan.port, 4789);
	assert_false(l.vxlan.learning);
	assert_true(l.vxlan.gbp);
	assert_false(l.vxlan.l2miss || l.vxlan.l3miss || l.vxlan.proxy || l.vxlan.rsc);
	assert_int_equal(l.vxlan.ttl, 0);
	assert_int_equal(l.vxlan.tos, 0);
	assert_int_equal(l.mtu, VX_MTU);
	assert_memory_equal(l.mac, vx_mac, 6);
	assert_false(l.up);

	/* iproute2's reading of the same device. */
	out = sh("ip -d link show " VX);
	assert_contains(out, "vxlan id 42");
	assert_contains(out, "local 192.168.50.1");
	assert_contains(out, "dev wu0");
	assert_contains(out, "dstport 4789");
	assert_contains(out, "nolearning");
	assert_contains(out, "gbp");
	assert_contains(out, "mtu 1400");
	assert_contains(out, "link/ether 0e:2a:0a:0b:0c:0d");
	assert_lacks(out, "l2miss");
	assert_lacks(out, "l3miss");
	assert_lacks(out, "proxy");

	/* It exists now: NLM_F_EXCL makes a second create fail. */
	ret = nl_vxlan_create(nl, &p, &e);
	assert_int_equal(ret, -EEXIST);
	assert_true(e.msg[0] != '\0');
}

static void test_vxlan_defaults(void **state)
{
	struct nl_vxlan_params p = {
		.name = "weftvx1",
		.info = { .vni = 7, .link = underlay_index, .local = local, .learning = true },
	};
	struct nl_link l;
	struct err e = { "" };

	(void)state;
	assert_ok(nl_vxlan_create(nl, &p, &e));
	assert_ok(nl_link_get_by_name(nl, "weftvx1", &l));
	/* No port given: the kernel's 8472; no MAC given: a random one. */
	assert_int_equal(l.vxlan.port, 8472);
	assert_true(l.vxlan.learning);
	assert_false(l.vxlan.gbp);
	assert_int_equal(l.vxlan.vni, 7);
	assert_contains(sh("ip -d link show weftvx1"), "dstport 8472");
	assert_ok(nl_link_delete(nl, l.index, &e));
	assert_int_equal(nl_link_get_by_name(nl, "weftvx1", &l), -ENODEV);
	/* Deleting it again: the kernel's error, with its words. */
	assert_int_equal(nl_link_delete(nl, l.index, &e), -ENODEV);
	assert_true(e.msg[0] != '\0');
}

static void test_link_set(void **state)
{
	static const uint8_t mac[6] = { 0x0e, 0x2a, 0x11, 0x22, 0x33, 0x44 };
	int vx = vx_ensure();
	struct nl_link l;
	struct err e = { "" };

	(void)state;
	assert_ok(nl_link_set_mtu(nl, vx, 1300, &e));
	assert_ok(nl_link_set_mac(nl, vx, mac, &e));
	assert_ok(nl_link_set_up(nl, vx, false, &e));
	assert_ok(nl_link_get_by_index(nl, vx, &l));
	assert_int_equal(l.mtu, 1300);
	assert_memory_equal(l.mac, mac, 6);
	assert_false(l.up);
	assert_ok(nl_link_set_up(nl, vx, true, &e));
	assert_ok(nl_link_set_mtu(nl, vx, VX_MTU, &e));
	assert_ok(nl_link_set_mac(nl, vx, vx_mac, &e));
	assert_ok(nl_link_get_by_index(nl, vx, &l));
	assert_true(l.up);
	assert_int_equal(l.mtu, VX_MTU);
	assert_memory_equal(l.mac, vx_mac, 6);
	assert_contains(sh("ip link show " VX), ",UP");
	/* An MTU the device cannot take. */
	assert_true(nl_link_set_mtu(nl, vx, 100000, &e) < 0);
	assert_true(e.msg[0] != '\0');
}

static void test_addr(void **state)
{
	int vx = vx_ensure();
	struct ip_prefix a4 = { .addr = addr("10.5.34.0"), .len = 32 };
	struct ip_prefix a6 = { .addr = addr("fd00:5:34::"), .len = 128 };
	struct count c = { .want_prefix = a4 };
	struct err e = { "" };

	(void)state;
	assert_ok(nl_addr_add(nl, vx, &a4, &e));
	assert_ok(nl_addr_add(nl, vx, &a4, &e)); /* replace: present is fine */
	assert_contains(sh("ip -4 addr show dev " VX), "inet 10.5.34.0/32");
	assert_ok(nl_addr_dump(nl, AF_INET, vx, count_addr, &c));
	assert_int_equal(c.n, 1);
	assert_true(c.found);
	assert_int_equal(c.addr.index, vx);
	assert_int_equal(c.addr.scope, RT_SCOPE_UNIVERSE);
	assert_true(c.addr.flags & IFA_F_PERMANENT);

	/* The filter: the underlay has its own address, other family none. */
	memset(&c, 0, sizeof(c));
	c.want_prefix = a4;
	assert_ok(nl_addr_dump(nl, AF_INET6, vx, count_addr, &c));
	assert_false(c.found);
	memset(&c, 0, sizeof(c));
	c.want_prefix = a4;
	assert_ok(nl_addr_dump(nl, AF_INET, underlay_index, count_addr, &c));
	assert_false(c.found);
	assert_int_equal(c.n, 1);

	assert_ok(nl_addr_add(nl, vx, &a6, &e));
	memset(&c, 0, sizeof(c));
	c.want_prefix = a6;
	assert_ok(nl_addr_dump(nl, AF_UNSPEC, vx, count_addr, &c));
	assert_true(c.found);
	assert_true(c.addr.flags & IFA_F_PERMANENT);
	assert_contains(sh("ip -6 addr show dev " VX), "inet6 fd00:5:34::/128");

	assert_ok(nl_addr_del(nl, vx, &a4, &e));
	assert_ok(nl_addr_del(nl, vx, &a6, &e));
	memset(&c, 0, sizeof(c));
	c.want_prefix = a4;
	c.within = prefix("10.5.0.0/16");
	assert_ok(nl_addr_dump(nl, AF_UNSPEC, vx, count_addr, &c));
	assert_int_equal(c.n, 0);
	assert_lacks(sh("ip addr show dev " VX), "10.5.34.0");
	assert_true(nl_addr_del(nl, vx, &a4, &e) < 0);
}

/* nl_addr_set_only: the one address of its family on the device; the other
 * family and the kernel's IPv6 link-local address are left alone. */
static void test_addr_set_only(void **state)
{
	int vx = vx_ensure();
	struct ip_prefix old4 = { .addr = addr("10.5.34.0"), .len = 32 };
	struct ip_prefix stray4 = { .addr = addr("10.5.99.0"), .len = 24 };
	struct ip_prefix want4 = { .addr = addr("10.5.35.0"), .len = 32 };
	struct ip_prefix old6 = { .addr = addr("fd00:5:34::"), .len = 128 };
	struct ip_prefix want6 = { .addr = addr("fd00:5:35::"), .len = 128 };
	struct count c = { .want_prefix = want4 };
	struct err e = { "" };
	char link_local[4096];

	(void)state;
	assert_ok(nl_link_set_up(nl, vx, true, &e));
	assert_ok(nl_addr_add(nl, vx, &old4, &e));
	assert_ok(nl_addr_add(nl, vx, &stray4, &e));
	assert_ok(nl_addr_add(nl, vx, &old6, &e));
	snprintf(link_local, sizeof(link_local), "%s", sh("ip -6 addr show dev " VX " scope link"));
	assert_contains(link_local, "inet6 fe80:"); /* the kernel's, once up */

	for (int round = 0; round < 2; round++) { /* the second finds it done */
		assert_ok(nl_addr_set_only(nl, vx, &want4, &e));
		memset(&c, 0, sizeof(c));
		c.want_prefix = want4;
		assert_ok(nl_addr_dump(nl, AF_INET, vx, count_addr, &c));
		assert_int_equal(c.n, 1);
		assert_true(c.found);
		assert_lacks(sh("ip -4 addr show dev " VX), "10.5.34.0");
		assert_lacks(sh("ip -4 addr show dev " VX), "10.5.99.0");
		assert_contains(sh("ip -6 addr show dev " VX), "inet6 fd00:5:34::/128");
	}
	assert_ok(nl_addr_set_only(nl, vx, &want6, &e));
	assert_contains(sh("ip -6 addr show dev " VX), "inet6 fd00:5:35::/128");
	assert_lacks(sh("ip -6 addr show dev " VX), "fd00:5:34::");
	assert_string_equal(sh("ip -6 addr show dev " VX " scope link"), link_local);
	assert_contains(sh("ip -4 addr show dev " VX), "inet 10.5.35.0/32");

	assert_ok(nl_addr_del(nl, vx, &want4, &e));
	assert_ok(nl_addr_del(nl, vx, &want6, &e));
}

static void test_route(void **state)
{
	int vx = vx_ensure();
	struct nl_route r = {
		.dst = prefix("10.5.35.0/24"),
		.gw = addr("10.5.35.0"),
		.oif = vx,
		.protocol = WEFT_RTPROT,
		.onlink = true,
	};
	struct count c = { .want_prefix = r.dst, .proto = WEFT_RTPROT };
	struct nl_route got;
	struct err e = { "" };
	struct ip_addr probe = addr("10.5.35.7");

	(void)state;
	assert_ok(nl_route_replace(nl, &r, &e));
	assert_ok(nl_route_replace(nl, &r, &e)); /* idempotent */
	assert_contains(sh("ip route show proto 151"), "10.5.35.0/24 via 10.5.35.0 dev " VX " onlink");
	assert_ok(nl_route_dump(nl, AF_INET, 0, count_route, &c));
	assert_int_equal(c.n, 1);
	assert_true(c.found);
	assert_true(ip_addr_equal(&c.route.gw, &r.gw));
	assert_int_equal(c.route.oif, vx);
	assert_true(c.route.onlink);
	assert_int_equal(c.route.table, RT_TABLE_MAIN);
	assert_int_equal(c.route.type, RTN_UNICAST);
	assert_int_equal(c.route.scope, RT_SCOPE_UNIVERSE);

	/* `ip route get` equivalent. */
	assert_ok(nl_route_get(nl, &probe, &got, &e));
	assert_int_equal(got.oif, vx);
	assert_true(ip_addr_equal(&got.gw, &r.gw));

	/* Another table: only that table's dump sees it. */
	r.table = 1000;
	r.priority = 5;
	assert_ok(nl_route_replace(nl, &r, &e));
	assert_contains(sh("ip route show table 1000 proto 151"), "10.5.35.0/24 via 10.5.35.0");
	memset(&c, 0, sizeof(c));
	c.want_prefix = r.dst;
	assert_ok(nl_route_dump(nl, AF_INET, 1000, count_route, &c));
	assert_int_equal(c.n, 1);
	assert_int_equal(c.route.table, 1000);
	assert_int_equal(c.route.priority, 5);
	assert_ok(nl_route_del(nl, &r, &e));
	memset(&c, 0, sizeof(c));
	assert_ok(nl_route_dump(nl, AF_INET, 1000, count_route, &c));
	assert_int_equal(c.n, 0);

	/* Delete from main; a second delete finds nothing. */
	r.table = 0;
	r.priority = 0;
	assert_ok(nl_route_del(nl, &r, &e));
	assert_lacks(sh("ip route show proto 151"), "10.5.35.0/24");
	assert_int_equal(nl_route_del(nl, &r, &e), -ESRCH);

	/* Blackhole, and an IPv6 route. */
	memset(&r, 0, sizeof(r));
	r.dst = prefix("10.77.0.0/16");
	r.type = RTN_BLACKHOLE;
	r.protocol = WEFT_RTPROT;
	assert_ok(nl_route_replace(nl, &r, &e));
	assert_contains(sh("ip route show proto 151"), "blackhole 10.77.0.0/16");
	assert_ok(nl_route_del(nl, &r, &e));
	memset(&r, 0, sizeof(r));
	r.dst = prefix("fd00:5:35::/64");
	r.gw = addr("fd00:5:35::");
	r.oif = vx;
	r.onlink = true;
	r.protocol = WEFT_RTPROT;
	assert_ok(nl_route_replace(nl, &r, &e));
	memset(&c, 0, sizeof(c));
	c.want_prefix = r.dst;
	c.proto = WEFT_RTPROT;
	assert_ok(nl_route_dump(nl, AF_INET6, 0, count_route, &c));
	assert_int_equal(c.n, 1);
	assert_true(ip_addr_equal(&c.route.gw, &r.gw));
	assert_ok(nl_route_del(nl, &r, &e));
}

static void test_route_errors(void **state)
{
	int vx = vx_ensure();
	struct nl_route r = {
		.dst = prefix("10.9.0.0/24"),
		.gw = addr("10.99.0.1"),
		.oif = vx,
		.protocol = WEFT_RTPROT,
	};
	struct err e = { "" };
	int ret;

	(void)state;
	/* Not on-link and no route to the gateway: the kernel says why. */
	ret = nl_route_replace(nl, &r, &e);
	assert_int_equal(ret, -ENETUNREACH);
	assert_contains(e.msg, "kernel:");
	printf("# route via unreachable gw: %s\n", e.msg);

	r.onlink = true;
	r.oif = 99999;
	memset(&e, 0, sizeof(e));
	ret = nl_route_replace(nl, &r, &e);
	assert_int_equal(ret, -ENODEV);
	assert_true(e.msg[0] != '\0');

	/* Refused before it reaches the kernel. */
	r.gw = addr("fd00::1");
	ret = nl_route_replace(nl, &r, &e);
	assert_int_equal(ret, -EINVAL);
}

static void test_neigh(void **state)
{
	int vx = vx_ensure();
	struct nl_neigh n = { .index = vx, .dst = addr("10.5.36.0"), .has_mac = true };
	struct count c = { 0 };
	struct err e = { "" };

	(void)state;
	memcpy(n.mac, mac1, 6);
	assert_ok(nl_neigh_replace(nl, &n, &e));
	assert_ok(nl_neigh_replace(nl, &n, &e));
	assert_contains(sh("ip neigh show dev " VX),
			"10.5.36.0 lladdr 0e:2a:00:00:00:01 PERMANENT");
	c.want_prefix.addr = n.dst;
	assert_ok(nl_neigh_dump(nl, AF_INET, vx, count_neigh, &c));
	assert_int_equal(c.n, 1);
	assert_true(c.found);
	assert_int_equal(c.neigh.state, NUD_PERMANENT);
	assert_memory_equal(c.neigh.mac, mac1, 6);
	assert_false(c.neigh.fdb);

	/* Replace moves it to another MAC. */
	memcpy(n.mac, mac2, 6);
	assert_ok(nl_neigh_replace(nl, &n, &e));
	assert_contains(sh("ip neigh show dev " VX), "10.5.36.0 lladdr 0e:2a:00:00:00:02");

	/* IPv6 too. */
	n.dst = addr("fd00:5:36::");
	assert_ok(nl_neigh_replace(nl, &n, &e));
	memset(&c, 0, sizeof(c));
	c.want_prefix.addr = n.dst;
	assert_ok(nl_neigh_dump(nl, AF_UNSPEC, vx, count_neigh, &c));
	assert_int_equal(c.n, 2);
	assert_true(c.found);
	assert_ok(nl_neigh_del(nl, &n, &e));

	n.dst = addr("10.5.36.0");
	assert_ok(nl_neigh_del(nl, &n, &e));
	assert_lacks(sh("ip neigh show dev " VX), "10.5.36.0");
	memset(&c, 0, sizeof(c));
	assert_ok(nl_neigh_dump(nl, AF_UNSPEC, vx, count_neigh, &c));
	assert_int_equal(c.n, 0);
	assert_int_equal(nl_neigh_del(nl, &n, &e), -ENOENT);
}

static void test_fdb(void **state)
{
	int vx = vx_ensure();
	struct nl_neigh n = { .index = vx, .dst = addr("192.168.50.2"), .has_mac = true };
	struct nl_neigh n2 = { .index = vx, .dst = addr("192.168.50.3"), .has_mac = true };
	struct count c = { 0 };
	struct err e = { "" };
	const char *out;
	int ours;

	(void)state;
	memcpy(n.mac, mac1, 6);
	memcpy(n2.mac, mac2, 6);
	assert_ok(nl_fdb_replace(nl, &n, &e));
	assert_ok(nl_fdb_replace(nl, &n, &e));
	assert_ok(nl_fdb_replace(nl, &n2, &e));
	out = sh("bridge fdb show dev " VX);
	assert_contains(out, "0e:2a:00:00:00:01 dst 192.168.50.2 self permanent");
	assert_contains(out, "0e:2a:00:00:00:02 dst 192.168.50.3 self permanent");

	c.neigh.fdb = true;
	memcpy(c.neigh.mac, mac1, 6);
	assert_ok(nl_fdb_dump(nl, vx, count_neigh, &c));
	assert_int_equal(c.n, 2);
	assert_true(c.found);
	assert_true(c.neigh.fdb);
	assert_true(ip_addr_equal(&c.neigh.dst, &n.dst));
	assert_int_equal(c.neigh.state, NUD_PERMANENT);
	assert_true(c.neigh.flags & NTF_SELF);

	/* The underlay has none of ours (it has its multicast entries). */
	ours = 0;
	assert_ok(nl_fdb_dump(nl, underlay_index, count_ours, &ours));
	assert_int_equal(ours, 0);
	ours = 0;
	assert_ok(nl_fdb_dump(nl, vx, count_ours, &ours));
	assert_int_equal(ours, 2);

	/* Replace points the MAC at another VTEP. */
	n.dst = addr("192.168.50.9");
	assert_ok(nl_fdb_replace(nl, &n, &e));
	assert_contains(sh("bridge fdb show dev " VX), "0e:2a:00:00:00:01 dst 192.168.50.9 self");

	/* A delete must name the right remote: the kernel acks one for a
	 * remote the entry does not have, and leaves the entry alone. */
	n.dst = addr("192.168.50.2");
	(void)nl_fdb_del(nl, &n, &e);
	assert_contains(sh("bridge fdb show dev " VX), "0e:2a:00:00:00:01 dst 192.168.50.9 self");
	n.dst = addr("192.168.50.9");
	assert_ok(nl_fdb_del(nl, &n, &e));
	out = sh("bridge fdb show dev " VX);
	assert_lacks(out, "0e:2a:00:00:00:01");
	assert_contains(out, "0e:2a:00:00:00:02 dst 192.168.50.3");
	assert_ok(nl_fdb_del(nl, &n2, &e));
	memset(&c, 0, sizeof(c));
	assert_ok(nl_fdb_dump(nl, vx, count_neigh, &c));
	assert_int_equal(c.n, 0);
}

/*
 * Nexthop objects and routes that use them. Route dumps show the nexthop's
 * via/dev/onlink next to RTA_NH_ID because net.ipv4.nexthop_compat_mode is 1
 * (the default, and so in the fresh namespace this runs in).
 */
static void test_nexthop(void **state)
{
	int vx = vx_ensure();
	struct nl_nexthop nh = {
		.id = 100,
		.gw = addr("10.5.37.0"),
		.oif = vx,
		.onlink = true,
		.protocol = WEFT_RTPROT,
	};
	struct nl_nexthop other = nh, nh6 = nh;
	struct nl_route r = { .dst = prefix("10.5.38.0/24"), .nh_id = 100,
			      .protocol = WEFT_RTPROT };
	struct nl_route old_form;
	struct nh_count nc = { .want = 100 };
	struct count c = { .want_prefix = r.dst, .proto = WEFT_RTPROT };
	struct err e = { "" };
	const char *out;

	(void)state;
	assert_ok(nl_nexthop_replace(nl, &nh, &e));
	assert_ok(nl_nexthop_replace(nl, &nh, &e)); /* idempotent */
	out = sh("ip nexthop show id 100");
	assert_contains(out, "id 100 via 10.5.37.0 dev " VX);
	assert_contains(out, "proto 151");
	assert_contains(out, "onlink");
	assert_ok(nl_nexthop_dump(nl, AF_INET, count_nexthop, &nc));
	assert_int_equal(nc.n, 1);
	assert_true(nc.found);
	assert_int_equal(nc.nh.id, 100);
	assert_int_equal(nc.nh.gw.family, AF_INET);
	assert_true(ip_addr_equal(&nc.nh.gw, &nh.gw));
	assert_int_equal(nc.nh.oif, vx);
	assert_true(nc.nh.onlink);
	assert_int_equal(nc.nh.protocol, WEFT_RTPROT);
	memset(&nc, 0, sizeof(nc));
	assert_ok(nl_nexthop_dump(nl, AF_INET6, count_nexthop, &nc));
	assert_int_equal(nc.n, 0);

	/* A group and a blackhole (made by iproute2) are not passed on. */
	assert_string_equal(sh("ip nexthop add id 101 blackhole proto 151 2>&1 && "
			       "ip nexthop add id 102 group 100 proto 151 2>&1"), "");
	memset(&nc, 0, sizeof(nc));
	assert_ok(nl_nexthop_dump(nl, AF_UNSPEC, count_nexthop, &nc));
	assert_int_equal(nc.n, 1);
	assert_ok(nl_nexthop_del(nl, 102, &e));
	assert_ok(nl_nexthop_del(nl, 101, &e));

	/* Replace moves it to another gateway. */
	nh.gw = addr("10.5.37.1");
	assert_ok(nl_nexthop_replace(nl, &nh, &e));
	assert_contains(sh("ip nexthop show id 100"), "id 100 via 10.5.37.1 dev " VX);
	memset(&nc, 0, sizeof(nc));
	nc.want = 100;
	assert_ok(nl_nexthop_dump(nl, AF_UNSPEC, count_nexthop, &nc));
	assert_int_equal(nc.n, 1);
	assert_true(ip_addr_equal(&nc.nh.gw, &nh.gw));
	assert_int_equal(nc.nh.oif, vx);
	assert_true(nc.nh.onlink);

	/* A route through it. */
	assert_ok(nl_route_replace(nl, &r, &e));
	assert_ok(nl_route_replace(nl, &r, &e));
	assert_contains(sh("ip route show proto 151"),
			"10.5.38.0/24 nhid 100 via 10.5.37.1 dev " VX " onlink");
	assert_ok(nl_route_dump(nl, AF_INET, 0, count_route, &c));
	assert_int_equal(c.n, 1);
	assert_true(c.found);
	assert_int_equal(c.route.nh_id, 100);
	assert_true(ip_addr_equal(&c.route.gw, &nh.gw));
	assert_int_equal(c.route.oif, vx);
	assert_true(c.route.onlink);
	assert_int_equal(c.route.protocol, WEFT_RTPROT);

	/* A delete names the route's own id: another id, or the hop given
	 * the old way, matches nothing. */
	other.id = 103;
	other.gw = addr("10.5.37.9");
	assert_ok(nl_nexthop_replace(nl, &other, &e));
	r.nh_id = 103;
	assert_int_equal(nl_route_del(nl, &r, &e), -ESRCH);
	old_form = r;
	old_form.nh_id = 0;
	old_form.gw = nh.gw;
	old_form.oif = vx;
	assert_int_equal(nl_route_del(nl, &old_form, &e), -ESRCH);
	assert_contains(sh("ip route show proto 151"), "10.5.38.0/24 nhid 100");
	r.nh_id = 100;
	assert_ok(nl_route_del(nl, &r, &e));
	assert_lacks(sh("ip route show proto 151"), "10.5.38.0/24");
	memset(&c, 0, sizeof(c));
	c.want_prefix = r.dst;
	c.proto = WEFT_RTPROT;
	assert_ok(nl_route_dump(nl, AF_INET, 0, count_route, &c));
	assert_int_equal(c.n, 0);
	assert_int_equal(nl_route_del(nl, &r, &e), -ESRCH);
	assert_ok(nl_nexthop_del(nl, 103, &e));

	/* IPv6. */
	nh6.id = 104;
	nh6.gw = addr("fd00:5:37::1");
	assert_ok(nl_nexthop_replace(nl, &nh6, &e));
	memset(&nc, 0, sizeof(nc));
	nc.want = 104;
	assert_ok(nl_nexthop_dump(nl, AF_INET6, count_nexthop, &nc));
	assert_int_equal(nc.n, 1);
	assert_true(ip_addr_equal(&nc.nh.gw, &nh6.gw));
	assert_int_equal(nc.nh.oif, vx);
	assert_true(nc.nh.onlink);
	assert_ok(nl_nexthop_del(nl, 104, &e));

	/* Deleting the nexthop takes the routes using it along. */
	assert_ok(nl_route_replace(nl, &r, &e));
	assert_ok(nl_nexthop_del(nl, 100, &e));
	assert_int_equal(nl_nexthop_del(nl, 100, &e), -ENOENT);
	assert_true(e.msg[0] != '\0');
	memset(&nc, 0, sizeof(nc));
	assert_ok(nl_nexthop_dump(nl, AF_UNSPEC, count_nexthop, &nc));
	assert_int_equal(nc.n, 0);
	memset(&c, 0, sizeof(c));
	c.proto = WEFT_RTPROT;
	assert_ok(nl_route_dump(nl, AF_INET, 0, count_route, &c));
	assert_int_equal(c.n, 0);
	assert_string_equal(sh("ip nexthop show proto 151"), "");

	/* A route naming a nexthop that does not exist: the kernel says so. */
	memset(&e, 0, sizeof(e));
	assert_true(nl_route_replace(nl, &r, &e) < 0);
	assert_true(e.msg[0] != '\0');
	printf("# route via missing nexthop: %s\n", e.msg);
	/* Refused before it reaches the kernel. */
	nh.id = 0;
	assert_int_equal(nl_nexthop_replace(nl, &nh, &e), -EINVAL);
}

/* ---- batches ---- */

struct done_log {
	size_t calls;
	size_t next_index;
	bool in_order;
	size_t failed[16];
	int errors[16];
	char msgs[16][256];
	size_t nfailed;
};

static void done_cb(void *arg, size_t index, int error, const struct err *err)
{
	struct done_log *d = arg;

	if (index != d->next_index)
		d->in_order = false;
	d->next_index = index + 1;
	d->calls++;
	if (error && d->nfailed < 16) {
		d->failed[d->nfailed] = index;
		d->errors[d->nfailed] = error;
		snprintf(d->msgs[d->nfailed], sizeof(d->msgs[0]), "%s", err ? err->msg : "");
		d->nfailed++;
	} else if (error) {
		d->nfailed++;
	}
}

static void peer(int i, int vx, struct nl_route *r, struct nl_neigh *n, struct nl_neigh *f)
{
	uint8_t b1 = (uint8_t)(64 + (i >> 8)), b2 = (uint8_t)(i & 0xff);

	memset(r, 0, sizeof(*r));
	r->dst.addr.family = AF_INET;
	r->dst.addr.b[0] = 10;
	r->dst.addr.b[1] = b1;
	r->dst.addr.b[2] = b2;
	r->dst.len = 24;
	r->gw = r->dst.addr;
	r->oif = vx;
	r->onlink = true;
	r->protocol = WEFT_RTPROT;

	memset(n, 0, sizeof(*n));
	n->index = vx;
	n->dst = r->dst.addr;
	n->has_mac = true;
	n->mac[0] = 0x0e;
	n->mac[1] = 0x2a;
	n->mac[2] = 0x01;
	n->mac[3] = (uint8_t)(i >> 16);
	n->mac[4] = (uint8_t)(i >> 8);
	n->mac[5] = (uint8_t)i;

	*f = *n;
	memset(&f->dst, 0, sizeof(f->dst));
	f->dst.family = AF_INET;
	f->dst.b[0] = 172;
	f->dst.b[1] = 20;
	f->dst.b[2] = (uint8_t)(i >> 8);
	f->dst.b[3] = (uint8_t)i;
}

static int batch_n(void)
{
	const char *s = getenv("NL_BATCH_N");
	long n = s ? strtol(s, NULL, 10) : 2000;

	return n > 0 && n <= 30000 ? (int)n : 2000;
}

static void test_batch_big(void **state)
{
	int vx = vx_ensure(), n = batch_n(), ret;
	struct done_log d = { .in_order = true };
	struct count c = { 0 };
	struct nl_route r;
	struct nl_neigh ne, f;
	double t0, t1, t2;

	(void)state;
	t0 = now_ms();
	for (int i = 0; i < n; i++) {
		peer(i, vx, &r, &ne, &f);
		/* flannel's order per peer: neighbour, FDB, route. */
		assert_ok(nl_neigh_replace_batch(nl, &ne));
		assert_ok(nl_fdb_replace_batch(nl, &f));
		assert_ok(nl_route_replace_batch(nl, &r));
	}
	assert_int_equal(nl_batch_pending(nl), (size_t)n * 3);
	t1 = now_ms();
	ret = nl_batch_commit(nl, done_cb, &d);
	t2 = now_ms();
	if (ret != 0)
		fail_msg("commit: %d failures, first index %zu error %d: %s", ret, d.failed[0],
			 d.errors[0], d.msgs[0]);
	assert_int_equal(d.calls, (size_t)n * 3);
	assert_true(d.in_order);
	assert_int_equal(nl_batch_pending(nl), 0);
	printf("# batch: %d messages queued in %.1f ms, committed in %.1f ms (%.1f us/msg)\n",
	       n * 3, t1 - t0, t2 - t1, (t2 - t1) * 1000.0 / (n * 3));

	c.index = vx;
	c.proto = WEFT_RTPROT;
	c.within = prefix("10.0.0.0/8"); /* 10.64.0.0 - 10.181.255.0 */
	assert_ok(nl_route_dump(nl, AF_INET, 0, count_route, &c));
	assert_int_equal(c.n, n);
	memset(&c, 0, sizeof(c));
	c.index = vx;
	assert_ok(nl_neigh_dump(nl, AF_INET, vx, count_neigh, &c));
	assert_int_equal(c.n, n);
	memset(&c, 0, sizeof(c));
	c.index = vx;
	assert_ok(nl_fdb_dump(nl, vx, count_neigh, &c));
	assert_int_equal(c.n, n);
	/* iproute2 agrees. */
	{
		char want[32];

		snprintf(want, sizeof(want), "%d\n", n);
		assert_string_equal(sh("ip route show proto 151 dev " VX " | wc -l"), want);
		assert_string_equal(sh("bridge fdb show dev " VX " | grep -c permanent"), want);
	}

	/* A callback that stops a multi-part dump early: the rest is drained,
	 * so the next dump is not refused (EBUSY). */
	memset(&c, 0, sizeof(c));
	c.stop_after = 10;
	assert_int_equal(nl_route_dump(nl, AF_INET, 0, count_route, &c), -ECANCELED);
	memset(&c, 0, sizeof(c));
	c.index = vx;
	c.proto = WEFT_RTPROT;
	assert_ok(nl_route_dump(nl, AF_INET, 0, count_route, &c));
	assert_int_equal(c.n, n);

	/* And all of it away again. */
	for (int i = 0; i < n; i++) {
		peer(i, vx, &r, &ne, &f);
		assert_ok(nl_route_del_batch(nl, &r));
		assert_ok(nl_fdb_del_batch(nl, &f));
		assert_ok(nl_neigh_del_batch(nl, &ne));
	}
	memset(&d, 0, sizeof(d));
	d.in_order = true;
	t1 = now_ms();
	ret = nl_batch_commit(nl, done_cb, &d);
	t2 = now_ms();
	if (ret != 0)
		fail_msg("delete commit: %d failures, first index %zu error %d: %s", ret,
			 d.failed[0], d.errors[0], d.msgs[0]);
	printf("# batch delete: %d messages in %.1f ms\n", n * 3, t2 - t1);
	memset(&c, 0, sizeof(c));
	c.index = vx;
	c.proto = WEFT_RTPROT;
	assert_ok(nl_route_dump(nl, AF_INET, 0, count_route, &c));
	assert_int_equal(c.n, 0);
	memset(&c, 0, sizeof(c));
	assert_ok(nl_neigh_dump(nl, AF_INET, vx, count_neigh, &c));
	assert_int_equal(c.n, 0);
	memset(&c, 0, sizeof(c));
	assert_ok(nl_fdb_dump(nl, vx, count_neigh, &c));
	assert_int_equal(c.n, 0);
}

static void test_batch_failures(void **state)
{
	int vx = vx_ensure(), ret;
	struct done_log d = { .in_order = true };
	struct nl_route r, bad;
	struct nl_neigh ne, f;
	struct count c = { 0 };
	size_t before;

	(void)state;
	for (int i = 0; i < 10; i++) {
		peer(30000 + i, vx, &r, &ne, &f);
		if (i == 3 || i == 7)
			r.oif = 99999; /* no such device */
		if (i == 5)
			r.onlink = false; /* gateway not reachable */
		assert_ok(nl_route_replace_batch(nl, &r));
	}
	/* A request refused by the builder is never queued. */
	before = nl_batch_pending(nl);
	bad = r;
	bad.gw = addr("fd00::1");
	assert_int_equal(nl_route_replace_batch(nl, &bad), -EINVAL);
	assert_int_equal(nl_batch_pending(nl), before);

	ret = nl_batch_commit(nl, done_cb, &d);
	assert_int_equal(ret, 3);
	assert_int_equal(d.calls, 10);
	assert_true(d.in_order);
	assert_int_equal(d.nfailed, 3);
	assert_int_equal(d.failed[0], 3);
	assert_int_equal(d.failed[1], 5);
	assert_int_equal(d.failed[2], 7);
	assert_int_equal(d.errors[0], -ENODEV);
	assert_int_equal(d.errors[1], -ENETUNREACH);
	assert_int_equal(d.errors[2], -ENODEV);
	assert_contains(d.msgs[1], "kernel:");
	printf("# batch failure 5: %s\n", d.msgs[1]);

	c.index = vx;
	c.proto = WEFT_RTPROT;
	c.within = prefix("10.181.0.0/16");
	assert_ok(nl_route_dump(nl, AF_INET, 0, count_route, &c));
	assert_int_equal(c.n, 7);
	for (int i = 0; i < 10; i++) {
		peer(30000 + i, vx, &r, &ne, &f);
		assert_ok(nl_route_del_batch(nl, &r));
	}
	memset(&d, 0, sizeof(d));
	assert_int_equal(nl_batch_commit(nl, done_cb, &d), 3); /* the 3 never made */
	/* An empty commit is fine. */
	assert_int_equal(nl_batch_commit(nl, NULL, NULL), 0);
}

/* n nexthops and n routes through them in one commit, then away again. */
static void test_batch_nexthop(void **state)
{
	const uint32_t base = 10000;
	int vx = vx_ensure(), n = batch_n(), ret;
	struct done_log d = { .in_order = true };
	struct nh_count nc = { .lo = base, .hi = base + (uint32_t)n - 1 };
	struct nh_routes rc = { .lo = base, .hi = base + (uint32_t)n - 1 };
	struct nl_nexthop nh;
	struct nl_route r;
	struct nl_neigh ne, f;
	double t1, t2;
	char want[32];

	(void)state;
	for (int i = 0; i < n; i++) {
		peer(i, vx, &r, &ne, &f);
		nh = (struct nl_nexthop){ .id = base + (uint32_t)i, .gw = r.gw, .oif = vx,
					  .onlink = true, .protocol = WEFT_RTPROT };
		r.nh_id = nh.id;
		assert_ok(nl_nexthop_replace_batch(nl, &nh));
		assert_ok(nl_route_replace_batch(nl, &r));
	}
	assert_int_equal(nl_batch_pending(nl), (size_t)n * 2);
	t1 = now_ms();
	ret = nl_batch_commit(nl, done_cb, &d);
	t2 = now_ms();
	if (ret != 0)
		fail_msg("commit: %d failures, first index %zu error %d: %s", ret, d.failed[0],
			 d.errors[0], d.msgs[0]);
	assert_int_equal(d.calls, (size_t)n * 2);
	assert_int_equal(d.nfailed, 0);
	assert_true(d.in_order);
	printf("# nexthop batch: %d messages committed in %.1f ms\n", n * 2, t2 - t1);

	assert_ok(nl_nexthop_dump(nl, AF_INET, count_nexthop, &nc));
	assert_int_equal(nc.n, n);
	assert_ok(nl_route_dump(nl, AF_INET, 0, count_nh_route, &rc));
	assert_int_equal(rc.n, n);
	snprintf(want, sizeof(want), "%d\n", n);
	assert_string_equal(sh("ip nexthop show proto 151 | wc -l"), want);
	assert_string_equal(sh("ip route show proto 151 | grep -c nhid"), want);

	/* Routes first (in the delete form that names the id), then the
	 * nexthops. */
	for (int i = 0; i < n; i++) {
		peer(i, vx, &r, &ne, &f);
		r.nh_id = base + (uint32_t)i;
		assert_ok(nl_route_del_batch(nl, &r));
	}
	for (int i = 0; i < n; i++)
		assert_ok(nl_nexthop_del_batch(nl, base + (uint32_t)i));
	/* A builder refusal is never queued. */
	assert_int_equal(nl_nexthop_del_batch(nl, 0), -EINVAL);
	assert_int_equal(nl_batch_pending(nl), (size_t)n * 2);
	memset(&d, 0, sizeof(d));
	d.in_order = true;
	ret = nl_batch_commit(nl, done_cb, &d);
	if (ret != 0)
		fail_msg("delete commit: %d failures, first index %zu error %d: %s", ret,
			 d.failed[0], d.errors[0], d.msgs[0]);
	assert_int_equal(d.calls, (size_t)n * 2);
	memset(&nc, 0, sizeof(nc));
	assert_ok(nl_nexthop_dump(nl, AF_UNSPEC, count_nexthop, &nc));
	assert_int_equal(nc.n, 0);
	rc.n = 0;
	assert_ok(nl_route_dump(nl, AF_INET, 0, count_nh_route, &rc));
	assert_int_equal(rc.n, 0);
}

struct overrun_log {
	size_t calls, next, ok, lost, other;
	bool in_order;
};

static void overrun_cb(void *arg, size_t index, int error, const struct err *err)
{
	struct overrun_log *o = arg;

	(void)err;
	if (index != o->next)
		o->in_order = false;
	o->next = index + 1;
	o->calls++;
	if (!error)
		o->ok++;
	else if (error == -ENOBUFS)
		o->lost++;
	else
		o->other++;
}

/*
 * A receive buffer far too small for the ACKs of a chunk: the kernel drops
 * ACKs. The commit must neither hang nor skip a request: every one is
 * reported once, in order, lost ones as -ENOBUFS (outcome unknown), and a
 * retry of the idempotent requests converges. First with chunks sized from
 * the buffer (nothing lost), then with the sizing defeated.
 */
static void batch_overrun(int vx, bool defeat)
{
	int tiny = 1, ret, rounds = 0;
	struct overrun_log o;
	struct nl *small;
	struct nl_route r;
	struct nl_neigh ne, f;
	struct count c = { 0 };

	assert_ok(nl_open(&small));
	/* Plain SO_RCVBUF: the kernel rounds 1 up to its minimum. */
	assert_int_equal(setsockopt(nl_fd(small), SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny)), 0);
	if (defeat)
		nl_set_ack_cost(small, 1);
	do {
		for (int i = 0; i < 1000; i++) {
			peer(20000 + i, vx, &r, &ne, &f);
			assert_ok(nl_neigh_replace_batch(small, &ne));
		}
		memset(&o, 0, sizeof(o));
		o.in_order = true;
		ret = nl_batch_commit(small, overrun_cb, &o);
		assert_true(ret >= 0);
		assert_int_equal(o.calls, 1000);
		assert_true(o.in_order);
		assert_int_equal(o.other, 0);
		assert_int_equal((size_t)ret, o.lost);
		if (rounds == 0)
			printf("# overrun (%s): first commit %zu acked, %zu ACKs lost\n",
			       defeat ? "chunks too big" : "chunks sized", o.ok, o.lost);
		if (!defeat)
			assert_int_equal(ret, 0);
		else if (rounds == 0)
			assert_true(o.lost > 0);
	} while (ret > 0 && ++rounds < 50);
	c.index = vx;
	assert_ok(nl_neigh_dump(small, AF_INET, vx, count_neigh, &c));
	assert_int_equal(c.n, 1000);
	for (int i = 0; i < 1000; i++) {
		peer(20000 + i, vx, &r, &ne, &f);
		assert_ok(nl_neigh_del_batch(nl, &ne));
	}
	assert_int_equal(nl_batch_commit(nl, NULL, NULL), 0);
	nl_close(small);
}

static void test_batch_overrun(void **state)
{
	int vx = vx_ensure();

	(void)state;
	batch_overrun(vx, false);
	batch_overrun(vx, true);
}

/* ---- monitor ---- */

struct mon_log {
	int links, routes, addrs, neighs, overflows;
	int link_index;
	struct ip_prefix route_dst;
	bool saw_link, saw_route;
};

static void mon_msg(void *arg, const struct nlmsghdr *nlh)
{
	struct mon_log *m = arg;
	struct nl_link l;
	struct nl_route r;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		m->links++;
		if (nl_link_parse(nlh, &l) == 0 && l.index == m->link_index)
			m->saw_link = true;
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		m->routes++;
		if (nl_route_parse(nlh, &r) == 0 && ip_prefix_equal(&r.dst, &m->route_dst))
			m->saw_route = true;
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		m->addrs++;
		break;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		m->neighs++;
		break;
	}
}

static void mon_overflow(void *arg)
{
	((struct mon_log *)arg)->overflows++;
}

/* Poll and read until cond holds or 2 s pass. */
#define mon_wait(mon, cond)                                                               \
	do {                                                                              \
		double end_ = now_ms() + 2000;                                            \
		while (!(cond) && now_ms() < end_) {                                      \
			struct pollfd p_ = { .fd = nl_monitor_fd(mon), .events = POLLIN }; \
			if (poll(&p_, 1, 100) > 0)                                        \
				assert_ok(nl_monitor_read(mon));                         \
		}                                                                         \
	} while (0)

static void test_monitor(void **state)
{
	int vx = vx_ensure();
	struct mon_log log = { .link_index = vx, .route_dst = prefix("10.5.40.0/24") };
	struct nl_monitor_cbs cbs = { .arg = &log, .msg = mon_msg, .overflow = mon_overflow };
	struct nl_route r = { .dst = log.route_dst, .gw = addr("10.5.40.0"), .oif = vx,
			      .protocol = WEFT_RTPROT, .onlink = true };
	struct nl_neigh n = { .index = vx, .dst = addr("10.5.40.0"), .has_mac = true };
	struct ip_prefix a = { .addr = addr("10.5.41.0"), .len = 32 };
	struct nl_monitor *mon;
	struct err e = { "" };
	int small = 1;

	(void)state;
	assert_ok(nl_monitor_open(&cbs, &mon));
	/* Nothing yet: a read on an empty socket is not an error. */
	assert_ok(nl_monitor_read(mon));

	assert_ok(nl_link_set_mtu(nl, vx, 1350, &e));
	mon_wait(mon, log.saw_link);
	assert_true(log.saw_link);

	assert_ok(nl_route_replace(nl, &r, &e));
	mon_wait(mon, log.saw_route);
	assert_true(log.saw_route);

	memcpy(n.mac, mac1, 6);
	assert_ok(nl_neigh_replace(nl, &n, &e));
	assert_ok(nl_addr_add(nl, vx, &a, &e));
	mon_wait(mon, log.neighs > 0 && log.addrs > 0);
	assert_true(log.neighs > 0);
	assert_true(log.addrs > 0);
	assert_int_equal(log.overflows, 0);

	/* A receive buffer too small for a burst: the kernel drops events and
	 * the owner is told to resync. */
	assert_int_equal(setsockopt(nl_monitor_fd(mon), SOL_SOCKET, SO_RCVBUF, &small,
				    sizeof(small)), 0);
	for (int i = 0; i < 200; i++) {
		struct nl_route br = r;

		br.dst.addr.b[1] = 90;
		br.dst.addr.b[2] = (uint8_t)i;
		br.gw = br.dst.addr;
		assert_ok(nl_route_replace_batch(nl, &br));
	}
	assert_int_equal(nl_batch_commit(nl, NULL, NULL), 0);
	mon_wait(mon, log.overflows > 0);
	assert_true(log.overflows > 0);
	printf("# monitor: %d link, %d route, %d addr, %d neigh events, %d overflows\n",
	       log.links, log.routes, log.addrs, log.neighs, log.overflows);
	nl_monitor_close(mon);
	nl_monitor_close(NULL);

	for (int i = 0; i < 200; i++) {
		struct nl_route br = r;

		br.dst.addr.b[1] = 90;
		br.dst.addr.b[2] = (uint8_t)i;
		br.gw = br.dst.addr;
		assert_ok(nl_route_del_batch(nl, &br));
	}
	assert_int_equal(nl_batch_commit(nl, NULL, NULL), 0);
	assert_ok(nl_route_del(nl, &r, &e));
	assert_ok(nl_neigh_del(nl, &n, &e));
	assert_ok(nl_addr_del(nl, vx, &a, &e));
	assert_ok(nl_link_set_mtu(nl, vx, VX_MTU, &e));
}

static void test_link_dump(void **state)
{
	int vx = vx_ensure();
	struct count c = { .index = vx };

	(void)state;
	assert_ok(nl_link_dump(nl, count_link, &c));
	assert_true(c.found);
	assert_true(c.link.is_vxlan);
	assert_string_equal(c.link.name, VX);
	assert_int_equal(c.link.vxlan.vni, VNI);
	/* lo, the veth pair, the vxlan device. */
	assert_int_equal(c.n, 4);
}

/*
 * Interrupted dumps: a child keeps changing addresses while we dump a
 * multi-part address list. Every dump must still return exactly the stable
 * set (restarted, never partial or doubled).
 */
static void test_dump_intr(void **state)
{
	const int naddr = 3000;
	struct count c;
	struct err e = { "" };
	struct ip_prefix a = { .len = 32 };
	unsigned restarts_before = nl_dump_restarts(nl);
	pid_t child;
	int ret, status, failures = 0, completed = 0, gave_up = 0;

	(void)state;
	a.addr = addr("10.200.0.0");
	for (int i = 0; i < naddr; i++) {
		struct nlmsghdr *nlh = nl_batch_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);

		a.addr.b[2] = (uint8_t)(i >> 8);
		a.addr.b[3] = (uint8_t)i;
		assert_non_null(nlh);
		assert_ok(nl_addr_build(nlh, NL_MSG_MAX, underlay_index, &a));
	}
	assert_int_equal(nl_batch_commit(nl, NULL, NULL), 0);

	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct nl *cnl;
		struct ip_prefix flap = { .addr = addr("10.201.0.1"), .len = 32 };

		if (nl_open(&cnl) < 0)
			_exit(1);
		for (;;) {
			if (nl_addr_add(cnl, underlay_index, &flap, NULL) < 0 ||
			    nl_addr_del(cnl, underlay_index, &flap, NULL) < 0)
				_exit(2);
			/* Churn, but leave most dumps a chance to finish. */
			usleep(2000);
		}
	}
	for (int i = 0; i < 100; i++) {
		memset(&c, 0, sizeof(c));
		c.within = prefix("10.200.0.0/16");
		/* All links: with a device filter the kernel skips its
		 * consistency check (6.x devinet.c). */
		ret = nl_addr_dump(nl, AF_INET, 0, count_addr, &c);
		if (ret == -EINTR) {
			gave_up++; /* interrupted 9 times in a row: allowed */
			continue;
		}
		if (ret != 0 || c.n != naddr)
			failures++;
		else
			completed++;
	}
	kill(child, SIGTERM);
	waitpid(child, &status, 0);
	printf("# address dumps under churn: %d complete, %d gave up (-EINTR), %u restarts\n",
	       completed, gave_up, nl_dump_restarts(nl) - restarts_before);
	assert_int_equal(failures, 0);
	assert_true(completed > 0);

	for (int i = 0; i < naddr; i++) {
		struct nlmsghdr *nlh = nl_batch_msg(nl, RTM_DELADDR, 0);

		a.addr.b[2] = (uint8_t)(i >> 8);
		a.addr.b[3] = (uint8_t)i;
		assert_non_null(nlh);
		assert_ok(nl_addr_build(nlh, NL_MSG_MAX, underlay_index, &a));
	}
	assert_int_equal(nl_batch_commit(nl, NULL, NULL), 0);
	(void)e;
	/* cmocka's TAP skip reads as a failure to our runner: say it instead. */
	if (nl_dump_restarts(nl) == restarts_before)
		printf("# no interrupted dump happened this run: restart path not exercised\n");
}

static void test_link_delete(void **state)
{
	int vx = vx_ensure();
	struct nl_link l;
	struct err e = { "" };

	(void)state;
	assert_ok(nl_link_delete(nl, vx, &e));
	assert_int_equal(nl_link_get_by_name(nl, VX, &l), -ENODEV);
	assert_lacks(sh("ip link show"), VX);
	assert_int_equal(nl_link_delete(nl, vx, &e), -ENODEV);
}

static int group_setup(void **state)
{
	struct nl_link l;
	const char *s;

	(void)state;
	underlay = getenv("NL_UNDERLAY");
	s = getenv("NL_LOCAL");
	if (!underlay || !s || ip_addr_parse(s, &local) < 0) {
		fprintf(stderr, "NL_UNDERLAY and NL_LOCAL must be set (see test_nl_kernel.sh)\n");
		return -1;
	}
	if (nl_open(&nl) < 0)
		return -1;
	if (nl_link_get_by_name(nl, underlay, &l) < 0)
		return -1;
	underlay_index = l.index;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nl_close(nl);
	nl_close(NULL);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_get),
		cmocka_unit_test(test_vxlan_create),
		cmocka_unit_test(test_vxlan_defaults),
		cmocka_unit_test(test_link_set),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_addr_set_only),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_route_errors),
		cmocka_unit_test(test_neigh),
		cmocka_unit_test(test_fdb),
		cmocka_unit_test(test_nexthop),
		cmocka_unit_test(test_batch_big),
		cmocka_unit_test(test_batch_failures),
		cmocka_unit_test(test_batch_nexthop),
		cmocka_unit_test(test_batch_overrun),
		cmocka_unit_test(test_monitor),
		cmocka_unit_test(test_link_dump),
		cmocka_unit_test(test_dump_intr),
		cmocka_unit_test(test_link_delete),
	};
	const char *filter = getenv("NL_TEST_FILTER");

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (filter)
		cmocka_set_test_filter(filter);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
