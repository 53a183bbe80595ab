// SPDX-License-Identifier: Apache-2.0
/*
 * The netlink messages weft sends, checked without a kernel: byte for byte
 * against layouts written out by hand from the UAPI structs (what `ip` and
 * flannel's library put on the wire), then attribute by attribute for the
 * variants, then parsed back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../lib/ip_check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include "core/ipnet.h"
#include "nl/addr.h"
#include "nl/build.h"
#include "nl/link.h"
#include "nl/neigh.h"
#include "nl/nexthop.h"
#include "nl/route.h"

#include "../lib/nl_golden.h"

static const uint8_t mac1[6] = { 0x0e, 0x2a, 0x00, 0x00, 0x00, 0x01 };

/* ---- golden layouts ---- */

static void test_vxlan_golden(void **state)
{
	struct nl_vxlan_params p = {
		.name = "flannel.1",
		.info = { .vni = 1, .link = 2, .local = addr("192.168.1.10"), .gbp = true },
		.mtu = 1450,
		.mac = mac1,
	};
	static const uint8_t want[] = {
		NLMSGHDR(188, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL),
		/* ifinfomsg: family, pad, type, index, flags, change */
		0, 0, U16(0), U32(0), U32(0), U32(0),
		NLA(14, IFLA_IFNAME), 'f', 'l', 'a', 'n', 'n', 'e', 'l', '.', '1', 0, 0, 0,
		NLA(8, IFLA_MTU), U32(1450),
		NLA(10, IFLA_ADDRESS), 0x0e, 0x2a, 0, 0, 0, 1, 0, 0,
		NLA(120, NLA_F_NESTED | IFLA_LINKINFO),
		NLA(9, IFLA_INFO_KIND), 'v', 'x', 'l', 'a', 'n', 0, 0, 0,
		NLA(104, NLA_F_NESTED | IFLA_INFO_DATA),
		NLA(8, IFLA_VXLAN_ID), U32(1),
		NLA(8, IFLA_VXLAN_LINK), U32(2),
		NLA(8, IFLA_VXLAN_LOCAL), 192, 168, 1, 10,
		NLA(5, IFLA_VXLAN_TTL), 0, 0, 0, 0,
		NLA(5, IFLA_VXLAN_TOS), 0, 0, 0, 0,
		NLA(5, IFLA_VXLAN_LEARNING), 0, 0, 0, 0,
		NLA(5, IFLA_VXLAN_PROXY), 0, 0, 0, 0,
		NLA(5, IFLA_VXLAN_RSC), 0, 0, 0, 0,
		NLA(5, IFLA_VXLAN_L2MISS), 0, 0, 0, 0,
		NLA(5, IFLA_VXLAN_L3MISS), 0, 0, 0, 0,
		NLA(5, IFLA_VXLAN_UDP_ZERO_CSUM6_TX), 0, 0, 0, 0,
		NLA(5, IFLA_VXLAN_UDP_ZERO_CSUM6_RX), 0, 0, 0, 0,
		NLA(4, IFLA_VXLAN_GBP),
	};
	struct nlmsghdr *nlh = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);

	(void)state;
	assert_int_equal(nl_vxlan_build(nlh, sizeof(buf), &p), 0);
	check_golden(nlh, want, sizeof(want));
}

static void test_route_golden(void **state)
{
	struct nl_route r = {
		.dst = prefix("10.5.34.0/24"),
		.gw = addr("10.5.34.0"),
		.oif = 7,
		.protocol = WEFT_RTPROT,
		.onlink = true,
	};
	static const uint8_t want[] = {
		NLMSGHDR(52, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE),
		/* rtmsg: family dst_len src_len tos table protocol scope type, flags */
		AF_INET, 24, 0, 0, RT_TABLE_MAIN, 151, RT_SCOPE_UNIVERSE, RTN_UNICAST,
		U32(RTNH_F_ONLINK),
		NLA(8, RTA_DST), 10, 5, 34, 0,
		NLA(8, RTA_GATEWAY), 10, 5, 34, 0,
		NLA(8, RTA_OIF), U32(7),
	};
	struct nlmsghdr *nlh = msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);

	(void)state;
	assert_int_equal(nl_route_build(nlh, sizeof(buf), &r), 0);
	check_golden(nlh, want, sizeof(want));
}

static void test_neigh_golden(void **state)
{
	struct nl_neigh n = { .index = 7, .dst = addr("10.5.34.0"), .has_mac = true };
	static const uint8_t want[] = {
		NLMSGHDR(48, RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE),
		/* ndmsg: family pad1 pad2 ifindex state flags type */
		AF_INET, 0, U16(0), U32(7), U16(NUD_PERMANENT), 0, 0,
		NLA(8, NDA_DST), 10, 5, 34, 0,
		NLA(10, NDA_LLADDR), 0x0e, 0x2a, 0, 0, 0, 1, 0, 0,
	};
	struct nlmsghdr *nlh = msg(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);

	(void)state;
	memcpy(n.mac, mac1, 6);
	assert_int_equal(nl_neigh_build(nlh, sizeof(buf), &n, 0), 0);
	check_golden(nlh, want, sizeof(want));
}

static void test_fdb_golden(void **state)
{
	struct nl_neigh n = { .index = 7, .dst = addr("192.168.1.20"), .has_mac = true };
	static const uint8_t want[] = {
		NLMSGHDR(48, RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE),
		AF_BRIDGE, 0, U16(0), U32(7), U16(NUD_PERMANENT), NTF_SELF, 0,
		NLA(8, NDA_DST), 192, 168, 1, 20,
		NLA(10, NDA_LLADDR), 0x0e, 0x2a, 0, 0, 0, 1, 0, 0,
	};
	struct nlmsghdr *nlh = msg(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);

	(void)state;
	memcpy(n.mac, mac1, 6);
	assert_int_equal(nl_fdb_build(nlh, sizeof(buf), &n), 0);
	check_golden(nlh, want, sizeof(want));
}

static void test_addr_golden(void **state)
{
	struct ip_prefix a = { .addr = addr("10.5.34.0"), .len = 32 };
	static const uint8_t want[] = {
		NLMSGHDR(40, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE),
		/* ifaddrmsg: family prefixlen flags scope index */
		AF_INET, 32, 0, RT_SCOPE_UNIVERSE, U32(9),
		NLA(8, IFA_LOCAL), 10, 5, 34, 0,
		NLA(8, IFA_ADDRESS), 10, 5, 34, 0,
	};
	struct nlmsghdr *nlh = msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);

	(void)state;
	assert_int_equal(nl_addr_build(nlh, sizeof(buf), 9, &a), 0);
	check_golden(nlh, want, sizeof(want));
}

static void test_nexthop_golden(void **state)
{
	struct nl_nexthop nh = {
		.id = 7,
		.gw = addr("10.5.34.0"),
		.oif = 7,
		.onlink = true,
		.protocol = WEFT_RTPROT,
	};
	static const uint8_t want[] = {
		NLMSGHDR(48, RTM_NEWNEXTHOP, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE),
		/* nhmsg: family scope protocol resvd, flags */
		AF_INET, 0, 151, 0, U32(RTNH_F_ONLINK),
		NLA(8, NHA_ID), U32(7),
		NLA(8, NHA_GATEWAY), 10, 5, 34, 0,
		NLA(8, NHA_OIF), U32(7),
	};
	struct nlmsghdr *nlh = msg(RTM_NEWNEXTHOP, NLM_F_CREATE | NLM_F_REPLACE);

	(void)state;
	assert_int_equal(nl_nexthop_build(nlh, sizeof(buf), &nh), 0);
	check_golden(nlh, want, sizeof(want));
}

static void test_nexthop6_golden(void **state)
{
	struct nl_nexthop nh = {
		.id = 0x10203,
		.gw = addr("fd00:5:34::1"),
		.oif = 3,
		.protocol = WEFT_RTPROT,
	};
	static const uint8_t want[] = {
		NLMSGHDR(60, RTM_NEWNEXTHOP, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE),
		AF_INET6, 0, 151, 0, U32(0),
		NLA(8, NHA_ID), U32(0x10203),
		NLA(20, NHA_GATEWAY), 0xfd, 0, 0, 5, 0, 0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		NLA(8, NHA_OIF), U32(3),
	};
	struct nlmsghdr *nlh = msg(RTM_NEWNEXTHOP, NLM_F_CREATE | NLM_F_REPLACE);

	(void)state;
	assert_int_equal(nl_nexthop_build(nlh, sizeof(buf), &nh), 0);
	check_golden(nlh, want, sizeof(want));
}

static void test_nexthop_del_golden(void **state)
{
	/* `ip nexthop del id 7`: a zeroed header (the kernel refuses anything
	 * in it) and the id. */
	static const uint8_t want[] = {
		NLMSGHDR(32, RTM_DELNEXTHOP, NLM_F_REQUEST | NLM_F_ACK),
		0, 0, 0, 0, U32(0),
		NLA(8, NHA_ID), U32(7),
	};
	struct nlmsghdr *nlh = msg(RTM_DELNEXTHOP, 0);

	(void)state;
	assert_int_equal(nl_nexthop_del_build(nlh, sizeof(buf), 7), 0);
	check_golden(nlh, want, sizeof(want));
}

static void test_route_nh_golden(void **state)
{
	/* Gateway, device and onlink given too: a route with an id must not
	 * carry them (the kernel refuses the mix). */
	struct nl_route r = {
		.dst = prefix("10.5.34.0/24"),
		.gw = addr("10.5.34.0"),
		.oif = 7,
		.nh_id = 7,
		.protocol = WEFT_RTPROT,
		.onlink = true,
	};
	static const uint8_t want[] = {
		NLMSGHDR(44, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE),
		AF_INET, 24, 0, 0, RT_TABLE_MAIN, 151, RT_SCOPE_UNIVERSE, RTN_UNICAST, U32(0),
		NLA(8, RTA_DST), 10, 5, 34, 0,
		NLA(8, RTA_NH_ID), U32(7),
	};
	static const uint8_t want_del[] = {
		NLMSGHDR(44, RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK),
		AF_INET, 24, 0, 0, RT_TABLE_MAIN, 151, RT_SCOPE_NOWHERE, 0, U32(0),
		NLA(8, RTA_DST), 10, 5, 34, 0,
		NLA(8, RTA_NH_ID), U32(7),
	};
	struct nlmsghdr *nlh = msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	struct nl_route back;

	(void)state;
	assert_int_equal(nl_route_build(nlh, sizeof(buf), &r), 0);
	check_golden(nlh, want, sizeof(want));
	assert_int_equal(nl_route_parse(nlh, &back), 0);
	assert_int_equal(back.nh_id, 7);
	assert_int_equal(back.oif, 0);
	assert_true(ip_addr_is_unset(&back.gw));
	assert_false(back.onlink);
	nlh = msg(RTM_DELROUTE, 0);
	assert_int_equal(nl_route_del_build(nlh, sizeof(buf), &r), 0);
	check_golden(nlh, want_del, sizeof(want_del));
	/* The hop is not looked at: a gateway of the other family is no error. */
	r.gw = addr("fd00::1");
	r.oif = -1;
	assert_int_equal(nl_route_build(msg(RTM_NEWROUTE, 0), sizeof(buf), &r), 0);
	/* What a dump shows: the id and the nexthop's hop beside it. */
	r.gw = addr("10.5.34.0");
	r.oif = 7;
	r.nh_id = 0;
	nlh = msg(RTM_NEWROUTE, 0);
	assert_int_equal(nl_route_build(nlh, sizeof(buf), &r), 0);
	assert_true(mnl_attr_put_u32_check(nlh, sizeof(buf), RTA_NH_ID, 9));
	assert_int_equal(nl_route_parse(nlh, &back), 0);
	assert_int_equal(back.nh_id, 9);
	assert_int_equal(back.oif, 7);
	assert_true(ip_addr_equal(&back.gw, &r.gw));
	assert_true(back.onlink);
}

/* ---- attribute walks for the variants ---- */

struct seen {
	const struct nlattr *a[64];
	int order[64];
	int n;
};

static int seen_cb(const struct nlattr *a, void *data)
{
	struct seen *s = data;
	uint16_t type = mnl_attr_get_type(a);

	assert_true(type < 64);
	assert_null(s->a[type]); /* no attribute twice */
	s->a[type] = a;
	s->order[s->n++] = type;
	return MNL_CB_OK;
}

static void walk(const struct nlmsghdr *nlh, size_t hdrlen, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(mnl_attr_parse(nlh, (unsigned)hdrlen, seen_cb, s), MNL_CB_OK);
}

static void walk_nested(const struct nlattr *nest, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	assert_non_null(nest);
	assert_int_equal(mnl_attr_parse_nested(nest, seen_cb, s), MNL_CB_OK);
}

static void test_vxlan_v6_port_learning(void **state)
{
	struct nl_vxlan_params p = {
		.name = "flannel-v6.1",
		.info = { .vni = 4096, .link = 3, .local = addr("fd00::10"), .port = 4789,
			  .learning = true },
	};
	struct nlmsghdr *nlh = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct seen top, li, data;
	struct ip_addr want = addr("fd00::10");

	(void)state;
	assert_int_equal(nl_vxlan_build(nlh, sizeof(buf), &p), 0);
	walk(nlh, sizeof(struct ifinfomsg), &top);
	/* No MTU and no MAC asked for: the kernel picks them. */
	assert_null(top.a[IFLA_MTU]);
	assert_null(top.a[IFLA_ADDRESS]);
	assert_string_equal(mnl_attr_get_str(top.a[IFLA_IFNAME]), "flannel-v6.1");
	walk_nested(top.a[IFLA_LINKINFO], &li);
	assert_int_equal(mnl_attr_get_payload_len(li.a[IFLA_INFO_KIND]), 5);
	assert_memory_equal(mnl_attr_get_payload(li.a[IFLA_INFO_KIND]), "vxlan", 5);
	walk_nested(li.a[IFLA_INFO_DATA], &data);
	assert_int_equal(mnl_attr_get_u32(data.a[IFLA_VXLAN_ID]), 4096);
	assert_int_equal(mnl_attr_get_u32(data.a[IFLA_VXLAN_LINK]), 3);
	assert_null(data.a[IFLA_VXLAN_LOCAL]);
	assert_int_equal(mnl_attr_get_payload_len(data.a[IFLA_VXLAN_LOCAL6]), 16);
	assert_memory_equal(mnl_attr_get_payload(data.a[IFLA_VXLAN_LOCAL6]), want.b, 16);
	assert_int_equal(mnl_attr_get_payload_len(data.a[IFLA_VXLAN_PORT]), 2);
	assert_int_equal(mnl_attr_get_u16(data.a[IFLA_VXLAN_PORT]), htons(4789));
	assert_int_equal(mnl_attr_get_u8(data.a[IFLA_VXLAN_LEARNING]), 1);
	assert_null(data.a[IFLA_VXLAN_GBP]);
	assert_null(data.a[IFLA_VXLAN_GROUP]);
	assert_null(data.a[IFLA_VXLAN_GROUP6]);
	assert_null(data.a[IFLA_VXLAN_AGEING]);
	/* The port comes last, as in flannel's library. */
	assert_int_equal(data.order[data.n - 1], IFLA_VXLAN_PORT);
}

static void test_vxlan_link_roundtrip(void **state)
{
	struct nl_vxlan_params p = {
		.name = "flannel.7",
		.info = { .vni = 7, .link = 4, .local = addr("10.0.0.1"), .port = 8472,
			  .gbp = true },
		.mtu = 1400,
		.mac = mac1,
	};
	struct nlmsghdr *nlh = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct nl_link l;

	(void)state;
	assert_int_equal(nl_vxlan_build(nlh, sizeof(buf), &p), 0);
	assert_int_equal(nl_link_parse(nlh, &l), 0);
	assert_string_equal(l.name, "flannel.7");
	assert_string_equal(l.kind, "vxlan");
	assert_true(l.is_vxlan);
	assert_int_equal(l.mtu, 1400);
	assert_memory_equal(l.mac, mac1, 6);
	assert_int_equal(l.vxlan.vni, 7);
	assert_int_equal(l.vxlan.link, 4);
	assert_true(ip_addr_equal(&l.vxlan.local, &p.info.local));
	assert_int_equal(l.vxlan.group.family, 0);
	assert_int_equal(l.vxlan.port, 8472);
	assert_true(l.vxlan.gbp);
	assert_false(l.vxlan.learning || l.vxlan.l2miss || l.vxlan.l3miss || l.vxlan.proxy ||
		     l.vxlan.rsc);
	assert_int_equal(l.vxlan.ttl, 0);
	assert_false(l.up);
}

static void test_route_variants(void **state)
{
	struct nl_route r = {
		.dst = prefix("10.6.0.0/16"),
		.src = addr("10.5.1.0"),
		.table = 1000,
		.priority = 77,
		.oif = 3,
		.protocol = WEFT_RTPROT,
	};
	struct nlmsghdr *nlh = msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	const struct rtmsg *rtm;
	struct nl_route back;
	struct seen s;

	(void)state;
	assert_int_equal(nl_route_build(nlh, sizeof(buf), &r), 0);
	rtm = mnl_nlmsg_get_payload(nlh);
	/* Table ids past 255 only fit RTA_TABLE. */
	assert_int_equal(rtm->rtm_table, RT_TABLE_UNSPEC);
	assert_int_equal(rtm->rtm_flags, 0);
	walk(nlh, sizeof(*rtm), &s);
	assert_int_equal(mnl_attr_get_u32(s.a[RTA_TABLE]), 1000);
	assert_int_equal(mnl_attr_get_u32(s.a[RTA_PRIORITY]), 77);
	assert_int_equal(mnl_attr_get_u32(s.a[RTA_OIF]), 3);
	assert_non_null(s.a[RTA_PREFSRC]);
	assert_null(s.a[RTA_GATEWAY]);
	assert_int_equal(nl_route_parse(nlh, &back), 0);
	assert_true(ip_prefix_equal(&back.dst, &r.dst));
	assert_true(ip_addr_equal(&back.src, &r.src));
	assert_int_equal(back.table, 1000);
	assert_int_equal(back.priority, 77);
	assert_int_equal(back.oif, 3);
	assert_int_equal(back.protocol, WEFT_RTPROT);
	assert_int_equal(back.type, RTN_UNICAST);

	/* Blackhole: no device, no gateway. */
	memset(&r, 0, sizeof(r));
	r.dst = prefix("10.5.0.0/16");
	r.type = RTN_BLACKHOLE;
	nlh = msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	assert_int_equal(nl_route_build(nlh, sizeof(buf), &r), 0);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_type, RTN_BLACKHOLE);
	assert_int_equal(rtm->rtm_table, RT_TABLE_MAIN);
	walk(nlh, sizeof(*rtm), &s);
	assert_int_equal(s.n, 1); /* RTA_DST only */

	/* IPv6 via gateway, and the delete form of it. */
	memset(&r, 0, sizeof(r));
	r.dst = prefix("fd00:5:34::/64");
	r.gw = addr("fd00:1::2");
	r.oif = 2;
	r.protocol = WEFT_RTPROT;
	nlh = msg(RTM_DELROUTE, 0);
	assert_int_equal(nl_route_del_build(nlh, sizeof(buf), &r), 0);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_family, AF_INET6);
	assert_int_equal(rtm->rtm_dst_len, 64);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_NOWHERE);
	assert_int_equal(rtm->rtm_type, 0);
	assert_int_equal(rtm->rtm_protocol, WEFT_RTPROT);
	walk(nlh, sizeof(*rtm), &s);
	assert_int_equal(mnl_attr_get_payload_len(s.a[RTA_DST]), 16);
	assert_int_equal(mnl_attr_get_payload_len(s.a[RTA_GATEWAY]), 16);

	/* Default route: no RTA_DST at all. */
	memset(&r, 0, sizeof(r));
	r.dst = prefix("0.0.0.0/0");
	r.gw = addr("10.0.0.1");
	nlh = msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	assert_int_equal(nl_route_build(nlh, sizeof(buf), &r), 0);
	walk(nlh, sizeof(*rtm), &s);
	assert_null(s.a[RTA_DST]);
	assert_non_null(s.a[RTA_GATEWAY]);
}

static void test_neigh_variants(void **state)
{
	struct nl_neigh n = { .index = 5, .dst = addr("fd00:5:34::"), .has_mac = true };
	struct nlmsghdr *nlh;
	const struct ndmsg *ndm;
	struct nl_neigh back;
	struct seen s;

	(void)state;
	memcpy(n.mac, mac1, 6);
	/* IPv6 neighbour: family from the address. */
	nlh = msg(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
	assert_int_equal(nl_neigh_build(nlh, sizeof(buf), &n, 0), 0);
	ndm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ndm->ndm_family, AF_INET6);
	assert_int_equal(nl_neigh_parse(nlh, &back), 0);
	assert_false(back.fdb);
	assert_int_equal(back.index, 5);
	assert_int_equal(back.state, NUD_PERMANENT);
	assert_true(back.has_mac);
	assert_memory_equal(back.mac, mac1, 6);
	assert_true(ip_addr_equal(&back.dst, &n.dst));

	/* Neighbour delete: the key only. */
	nlh = msg(RTM_DELNEIGH, 0);
	assert_int_equal(nl_neigh_build(nlh, sizeof(buf), &n, 1), 0);
	walk(nlh, sizeof(*ndm), &s);
	assert_non_null(s.a[NDA_DST]);
	assert_null(s.a[NDA_LLADDR]);

	/* FDB delete: MAC and remote both, so only that remote goes. */
	n.dst = addr("fd00:1::9");
	nlh = msg(RTM_DELNEIGH, 0);
	assert_int_equal(nl_fdb_build(nlh, sizeof(buf), &n), 0);
	ndm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ndm->ndm_family, AF_BRIDGE);
	assert_int_equal(ndm->ndm_flags, NTF_SELF);
	walk(nlh, sizeof(*ndm), &s);
	assert_int_equal(mnl_attr_get_payload_len(s.a[NDA_DST]), 16);
	assert_int_equal(mnl_attr_get_payload_len(s.a[NDA_LLADDR]), 6);
	assert_int_equal(nl_neigh_parse(nlh, &back), 0);
	assert_true(back.fdb);
	assert_int_equal(back.dst.family, AF_INET6);
	assert_int_equal(back.flags, NTF_SELF);
}

static void test_addr_variants(void **state)
{
	struct ip_prefix a = { .addr = addr("10.1.2.3"), .len = 24 };
	struct ip_addr brd = addr("10.1.2.255");
	struct nlmsghdr *nlh = msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	struct nl_addr back;
	struct seen s;

	(void)state;
	assert_int_equal(nl_addr_build(nlh, sizeof(buf), 4, &a), 0);
	walk(nlh, sizeof(struct ifaddrmsg), &s);
	assert_memory_equal(mnl_attr_get_payload(s.a[IFA_BROADCAST]), brd.b, 4);
	assert_int_equal(nl_addr_parse(nlh, &back), 0);
	assert_int_equal(back.index, 4);
	assert_int_equal(back.prefix.len, 24);
	/* The address itself, host bits and all. */
	assert_true(ip_addr_equal(&back.prefix.addr, &a.addr));

	a.addr = addr("fd00::1");
	a.len = 128;
	nlh = msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	assert_int_equal(nl_addr_build(nlh, sizeof(buf), 4, &a), 0);
	walk(nlh, sizeof(struct ifaddrmsg), &s);
	assert_null(s.a[IFA_BROADCAST]);
	assert_int_equal(mnl_attr_get_payload_len(s.a[IFA_LOCAL]), 16);
	/* IFA_FLAGS overrides the 8-bit header field. */
	assert_true(mnl_attr_put_check(nlh, sizeof(buf), IFA_FLAGS, 4,
				       &(uint32_t){ IFA_F_NOPREFIXROUTE | IFA_F_PERMANENT }));
	assert_int_equal(nl_addr_parse(nlh, &back), 0);
	assert_int_equal(back.flags, IFA_F_NOPREFIXROUTE | IFA_F_PERMANENT);
}

static void test_nexthop_roundtrip(void **state)
{
	struct nl_nexthop nh = {
		.id = 4000000000u,
		.gw = addr("10.5.34.0"),
		.oif = 12,
		.onlink = true,
		.protocol = WEFT_RTPROT,
	};
	struct nlmsghdr *nlh = msg(RTM_NEWNEXTHOP, NLM_F_CREATE | NLM_F_REPLACE);
	struct nl_nexthop back;

	(void)state;
	assert_int_equal(nl_nexthop_build(nlh, sizeof(buf), &nh), 0);
	memset(&back, 0xaa, sizeof(back));
	assert_int_equal(nl_nexthop_parse(nlh, &back), 0);
	assert_int_equal(back.id, 4000000000u);
	assert_true(ip_addr_equal(&back.gw, &nh.gw));
	assert_int_equal(back.oif, 12);
	assert_true(back.onlink);
	assert_int_equal(back.protocol, WEFT_RTPROT);

	/* IPv6, not onlink. */
	nh.gw = addr("fd00:5:34::1");
	nh.onlink = false;
	nh.protocol = RTPROT_STATIC;
	nlh = msg(RTM_NEWNEXTHOP, NLM_F_CREATE | NLM_F_REPLACE);
	assert_int_equal(nl_nexthop_build(nlh, sizeof(buf), &nh), 0);
	assert_int_equal(nl_nexthop_parse(nlh, &back), 0);
	assert_true(ip_addr_equal(&back.gw, &nh.gw));
	assert_false(back.onlink);
	assert_int_equal(back.protocol, RTPROT_STATIC);

	/* Device only: the family stays, NHA_GATEWAY is left out. */
	memset(&nh.gw.b, 0, sizeof(nh.gw.b));
	nlh = msg(RTM_NEWNEXTHOP, NLM_F_CREATE | NLM_F_REPLACE);
	assert_int_equal(nl_nexthop_build(nlh, sizeof(buf), &nh), 0);
	assert_int_equal(((const struct nhmsg *)mnl_nlmsg_get_payload(nlh))->nh_family, AF_INET6);
	{
		struct seen s;

		walk(nlh, sizeof(struct nhmsg), &s);
		assert_int_equal(s.n, 2);
		assert_null(s.a[NHA_GATEWAY]);
	}
	assert_int_equal(nl_nexthop_parse(nlh, &back), 0);
	assert_int_equal(back.gw.family, AF_INET6);
	assert_true(ip_addr_is_unset(&back.gw));
	assert_int_equal(back.oif, 12);

	/* The kernel's delete notification is parsed the same way. */
	nlh->nlmsg_type = RTM_DELNEXTHOP;
	assert_int_equal(nl_nexthop_parse(nlh, &back), 0);
}

/* ---- refusals ---- */

static void test_nexthop_bad_input(void **state)
{
	struct nl_nexthop nh = { .id = 7, .gw = addr("10.5.34.0"), .oif = 7 };
	struct nl_nexthop back;
	struct nlmsghdr *nlh;
	struct nlattr *a;

	(void)state;
	nh.id = 0;
	assert_int_equal(nl_nexthop_build(msg(RTM_NEWNEXTHOP, 0), sizeof(buf), &nh), -EINVAL);
	nh.id = 7;
	nh.oif = -1;
	assert_int_equal(nl_nexthop_build(msg(RTM_NEWNEXTHOP, 0), sizeof(buf), &nh), -EINVAL);
	nh.oif = 7;
	/* No family to go by. */
	memset(&nh.gw, 0, sizeof(nh.gw));
	assert_int_equal(nl_nexthop_build(msg(RTM_NEWNEXTHOP, 0), sizeof(buf), &nh), -EINVAL);
	nh.gw.family = 28; /* AF_MPLS */
	assert_int_equal(nl_nexthop_build(msg(RTM_NEWNEXTHOP, 0), sizeof(buf), &nh), -EINVAL);
	nh.gw = addr("10.5.34.0");
	/* Too small a buffer: the header, then the last attribute. */
	assert_int_equal(nl_nexthop_build(msg(RTM_NEWNEXTHOP, 0), 20, &nh), -EMSGSIZE);
	assert_int_equal(nl_nexthop_build(msg(RTM_NEWNEXTHOP, 0), 44, &nh), -EMSGSIZE);
	assert_int_equal(nl_nexthop_build(msg(RTM_NEWNEXTHOP, 0), 48, &nh), 0);
	assert_int_equal(nl_nexthop_del_build(msg(RTM_DELNEXTHOP, 0), sizeof(buf), 0), -EINVAL);
	assert_int_equal(nl_nexthop_del_build(msg(RTM_DELNEXTHOP, 0), 28, 7), -EMSGSIZE);

	/* Parsing: wrong type, short header, no id. */
	assert_int_equal(nl_nexthop_parse(msg(RTM_NEWROUTE, 0), &back), -EINVAL);
	assert_int_equal(nl_nexthop_parse(msg(RTM_NEWNEXTHOP, 0), &back), -EBADMSG);
	nlh = msg(RTM_NEWNEXTHOP, 0);
	((struct nhmsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct nhmsg)))->nh_family = AF_INET;
	mnl_attr_put_u32(nlh, NHA_OIF, 7);
	assert_int_equal(nl_nexthop_parse(nlh, &back), -EBADMSG);

	/* Attributes of the wrong size: id, gateway, device. */
	nlh = msg(RTM_NEWNEXTHOP, 0);
	assert_int_equal(nl_nexthop_build(nlh, sizeof(buf), &nh), 0);
	a = (struct nlattr *)((char *)nlh + 24); /* NHA_ID */
	a->nla_len = 6;
	assert_int_equal(nl_nexthop_parse(nlh, &back), -EBADMSG);
	nlh = msg(RTM_NEWNEXTHOP, 0);
	assert_int_equal(nl_nexthop_build(nlh, sizeof(buf), &nh), 0);
	a = (struct nlattr *)((char *)nlh + 32); /* NHA_GATEWAY */
	a->nla_len = 7;
	assert_int_equal(nl_nexthop_parse(nlh, &back), -EBADMSG);
	nlh = msg(RTM_NEWNEXTHOP, 0);
	assert_int_equal(nl_nexthop_build(nlh, sizeof(buf), &nh), 0);
	a = (struct nlattr *)((char *)nlh + 40); /* NHA_OIF */
	a->nla_len = 6;
	assert_int_equal(nl_nexthop_parse(nlh, &back), -EBADMSG);
	/* The message cut inside its last attribute: libmnl would just stop
	 * there, and the device would read as absent. */
	nlh = msg(RTM_NEWNEXTHOP, 0);
	assert_int_equal(nl_nexthop_build(nlh, sizeof(buf), &nh), 0);
	nlh->nlmsg_len -= 4;
	assert_int_equal(nl_nexthop_parse(nlh, &back), -EBADMSG);
	/* ... or inside the id. */
	nlh->nlmsg_len = 28;
	assert_int_equal(nl_nexthop_parse(nlh, &back), -EBADMSG);
	/* An id of 0 never comes from the kernel. */
	nlh = msg(RTM_NEWNEXTHOP, 0);
	assert_int_equal(nl_nexthop_build(nlh, sizeof(buf), &nh), 0);
	memset((char *)nlh + 28, 0, 4);
	assert_int_equal(nl_nexthop_parse(nlh, &back), -EBADMSG);

	/* Kinds struct nl_nexthop does not describe. */
	nlh = msg(RTM_NEWNEXTHOP, 0);
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct nhmsg)); /* groups: AF_UNSPEC */
	mnl_attr_put_u32(nlh, NHA_ID, 9);
	mnl_attr_put(nlh, NHA_GROUP, sizeof(struct nexthop_grp), &(struct nexthop_grp){ .id = 7 });
	assert_int_equal(nl_nexthop_parse(nlh, &back), -EOPNOTSUPP);
	nlh = msg(RTM_NEWNEXTHOP, 0);
	((struct nhmsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct nhmsg)))->nh_family = AF_INET;
	mnl_attr_put_u32(nlh, NHA_ID, 9);
	mnl_attr_put(nlh, NHA_BLACKHOLE, 0, NULL);
	assert_int_equal(nl_nexthop_parse(nlh, &back), -EOPNOTSUPP);
	nlh = msg(RTM_NEWNEXTHOP, 0);
	assert_int_equal(nl_nexthop_build(nlh, sizeof(buf), &nh), 0);
	mnl_attr_put(nlh, NHA_FDB, 0, NULL);
	assert_int_equal(nl_nexthop_parse(nlh, &back), -EOPNOTSUPP);
	/* A single nexthop of no family we route. */
	nlh = msg(RTM_NEWNEXTHOP, 0);
	assert_int_equal(nl_nexthop_build(nlh, sizeof(buf), &nh), 0);
	((struct nhmsg *)mnl_nlmsg_get_payload(nlh))->nh_family = AF_UNSPEC;
	assert_int_equal(nl_nexthop_parse(nlh, &back), -EBADMSG);
	/* Attribute types past what the headers know are skipped. */
	nlh = msg(RTM_NEWNEXTHOP, 0);
	assert_int_equal(nl_nexthop_build(nlh, sizeof(buf), &nh), 0);
	mnl_attr_put_u32(nlh, 1000, 1);
	assert_int_equal(nl_nexthop_parse(nlh, &back), 0);
	assert_int_equal(back.oif, 7);
}

static void test_bad_input(void **state)
{
	struct nl_vxlan_params p = { .name = "flannel.1", .info = { .vni = 1 } };
	struct nl_route r = { .dst = prefix("10.0.0.0/8"), .gw = addr("fd00::1") };
	struct nl_neigh n = { .index = 3, .dst = addr("10.0.0.1") };
	struct ip_prefix a = { .addr = addr("10.0.0.1"), .len = 33 };

	(void)state;
	p.info.vni = 1u << 24;
	assert_int_equal(nl_vxlan_build(msg(RTM_NEWLINK, 0), sizeof(buf), &p), -EINVAL);
	p.info.vni = 1;
	p.name = "a-name-longer-than-ifnamsiz";
	assert_int_equal(nl_vxlan_build(msg(RTM_NEWLINK, 0), sizeof(buf), &p), -EINVAL);
	p.name = "flannel.1";
	/* Too small a buffer is reported, never overrun. */
	assert_int_equal(nl_vxlan_build(msg(RTM_NEWLINK, 0), 64, &p), -EMSGSIZE);
	assert_int_equal(nl_vxlan_build(msg(RTM_NEWLINK, 0), 100, &p), -EMSGSIZE);

	/* Mixed families. */
	assert_int_equal(nl_route_build(msg(RTM_NEWROUTE, 0), sizeof(buf), &r), -EINVAL);
	memset(&r, 0, sizeof(r));
	assert_int_equal(nl_route_build(msg(RTM_NEWROUTE, 0), sizeof(buf), &r), -EINVAL);

	/* A neighbour or FDB entry without a MAC, or without a device. */
	assert_int_equal(nl_neigh_build(msg(RTM_NEWNEIGH, 0), sizeof(buf), &n, 0), -EINVAL);
	assert_int_equal(nl_fdb_build(msg(RTM_NEWNEIGH, 0), sizeof(buf), &n), -EINVAL);
	n.has_mac = true;
	n.index = 0;
	assert_int_equal(nl_neigh_build(msg(RTM_NEWNEIGH, 0), sizeof(buf), &n, 0), -EINVAL);
	/* An FDB entry without a remote. */
	n.index = 3;
	memset(&n.dst, 0, sizeof(n.dst));
	assert_int_equal(nl_fdb_build(msg(RTM_NEWNEIGH, 0), sizeof(buf), &n), -EINVAL);

	assert_int_equal(nl_addr_build(msg(RTM_NEWADDR, 0), sizeof(buf), 1, &a), -EINVAL);
	a.len = 32;
	assert_int_equal(nl_addr_build(msg(RTM_NEWADDR, 0), sizeof(buf), 0, &a), -EINVAL);
}

static void test_parse_rejects(void **state)
{
	struct nlmsghdr *nlh;
	struct nl_route r;
	struct nl_link l;
	struct nl_neigh n;
	struct nl_addr a;

	(void)state;
	/* Wrong message type for the parser. */
	nlh = msg(RTM_NEWADDR, 0);
	assert_int_equal(nl_route_parse(nlh, &r), -EINVAL);
	assert_int_equal(nl_link_parse(nlh, &l), -EINVAL);
	assert_int_equal(nl_neigh_parse(nlh, &n), -EINVAL);
	/* A header too short for its family struct. */
	assert_int_equal(nl_addr_parse(nlh, &a), -EBADMSG);
	nlh = msg(RTM_NEWROUTE, 0);
	assert_int_equal(nl_route_parse(nlh, &r), -EBADMSG);
	/* A family we do not route. */
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtmsg));
	((struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_family = 28; /* AF_MPLS */
	assert_int_equal(nl_route_parse(nlh, &r), -EAFNOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vxlan_golden),
		cmocka_unit_test(test_route_golden),
		cmocka_unit_test(test_neigh_golden),
		cmocka_unit_test(test_fdb_golden),
		cmocka_unit_test(test_addr_golden),
		cmocka_unit_test(test_nexthop_golden),
		cmocka_unit_test(test_nexthop6_golden),
		cmocka_unit_test(test_nexthop_del_golden),
		cmocka_unit_test(test_route_nh_golden),
		cmocka_unit_test(test_vxlan_v6_port_learning),
		cmocka_unit_test(test_vxlan_link_roundtrip),
		cmocka_unit_test(test_route_variants),
		cmocka_unit_test(test_neigh_variants),
		cmocka_unit_test(test_addr_variants),
		cmocka_unit_test(test_nexthop_roundtrip),
		cmocka_unit_test(test_nexthop_bad_input),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_parse_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
