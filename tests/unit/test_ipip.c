// SPDX-License-Identifier: Apache-2.0
/*
 * backend/ipip without a kernel: its config and errors, the lease it
 * publishes (bytes), the RTM_NEWLINK for flannel.ipip (golden bytes, then
 * every attribute read back with libmnl against linux/if_tunnel.h), the
 * parsing of a dumped ipip link and upstream's test for keeping it, and the
 * peer routes (onlink, our protocol) as they go on the wire.
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
#include <net/if.h> /* before linux/if_tunnel.h, which includes linux/if.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/rtnetlink.h>

#include "backend/backend.h"
#include "backend/ipip.h"
#include "core/err.h"
#include "nl/build.h"
#include "nl/link.h"
#include "nl/route.h"
#include "subnet/lease.h"
#include "subnet/netconf.h"
#include "subnet/subnet_mgr.h"

#include "../lib/nl_golden.h"

/* ---- config ---- */

static const struct ext_iface ext1 = {
	.name = "eth0", .index = 2, .mtu = 1500,
	.iface_addr = { .family = AF_INET, .b = { 10, 0, 0, 1 } },
	.public_ip = { .family = AF_INET, .b = { 10, 0, 0, 1 } },
};

static int parse(const char *json, bool v4, bool v6, const struct ext_iface *ext,
		 struct ipip_cfg *cfg, struct err *err)
{
	struct netconf nc = { .enable_ipv4 = v4, .enable_ipv6 = v6 };

	memset(err, 0, sizeof(*err));
	return ipip_conf_parse(json, &nc, ext ? ext : &ext1, cfg, err);
}

static void test_conf(void **state)
{
	struct ipip_cfg cfg;
	struct err err;

	(void)state;
	/* Defaults: no DirectRouting, MTU = 1500 - 20. */
	assert_int_equal(parse(NULL, true, false, NULL, &cfg, &err), 0);
	assert_false(cfg.direct_routing);
	assert_int_equal(cfg.mtu, 1480);
	assert_int_equal(parse("{\"Type\":\"ipip\"}", true, false, NULL, &cfg, &err), 0);
	assert_false(cfg.direct_routing);
	assert_int_equal(parse("{\"Type\":\"ipip\",\"DirectRouting\":true}", true, false, NULL,
			       &cfg, &err), 0);
	assert_true(cfg.direct_routing);
	/* Keys match case-insensitively, as Go's encoding/json; null is the default. */
	assert_int_equal(parse("{\"directrouting\":true}", true, false, NULL, &cfg, &err), 0);
	assert_true(cfg.direct_routing);
	assert_int_equal(parse("{\"DIRECTROUTING\":false}", true, false, NULL, &cfg, &err), 0);
	assert_false(cfg.direct_routing);
	assert_int_equal(parse("{\"DirectRouting\":null}", true, false, NULL, &cfg, &err), 0);
	assert_false(cfg.direct_routing);
	/* Unknown keys are ignored, as upstream. */
	assert_int_equal(parse("{\"VNI\":4,\"Port\":\"x\"}", true, false, NULL, &cfg, &err), 0);
}

static void test_conf_errors(void **state)
{
	struct ext_iface ext = ext1;
	struct ipip_cfg cfg;
	struct err err;

	(void)state;
	assert_int_equal(parse("{\"DirectRouting\":\"yes\"}", true, false, NULL, &cfg, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "Backend.DirectRouting must be true or false");
	assert_int_equal(parse("{\"directRouting\":1}", true, false, NULL, &cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "Backend.DirectRouting must be true or false");
	assert_int_equal(parse("[true]", true, false, NULL, &cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "Backend must be a JSON object");
	assert_int_equal(parse(NULL, true, true, NULL, &cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "supports IPv4 only; EnableIPv6 must be false"));
	assert_int_equal(parse(NULL, false, true, NULL, &cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "IPv4 only"));
	assert_int_equal(parse(NULL, false, false, NULL, &cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "the ipip backend needs EnableIPv4");
	/* The tunnel's local address is the interface's. */
	memset(&ext.iface_addr, 0, sizeof(ext.iface_addr));
	assert_int_equal(parse(NULL, true, false, &ext, &cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "needs an IPv4 address on eth0"));
	ext.iface_addr = addr("0.0.0.0");
	assert_int_equal(parse(NULL, true, false, &ext, &cfg, &err), -EINVAL);
	/* MTU: room for the 20-byte header and an IPv4 minimum packet (68). */
	ext = ext1;
	ext.mtu = 87;
	assert_int_equal(parse(NULL, true, false, &ext, &cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "MTU 87 of iface eth0 is too small for ipip mode to work");
	ext.mtu = 88;
	assert_int_equal(parse(NULL, true, false, &ext, &cfg, &err), 0);
	assert_int_equal(cfg.mtu, 68);
	ext.mtu = 9000;
	assert_int_equal(parse(NULL, true, false, &ext, &cfg, &err), 0);
	assert_int_equal(cfg.mtu, 8980);
}

/* Registered in the table: create runs (and fails on the config before any
 * netlink). */
static void test_registered(void **state)
{
	struct netconf nc = { .enable_ipv4 = true, .enable_ipv6 = true,
			      .backend_type = (char *)"ipip" };
	struct backend_params p = { .ext = &ext1, .nc = &nc };
	struct backend *b = NULL;
	struct err err = { 0 };

	(void)state;
	assert_string_equal(ipip_backend_ops.type, "ipip");
	assert_int_equal(backend_new("ipip", &p, &b, &err), -EINVAL);
	assert_null(b);
	assert_non_null(strstr(err.msg, "IPv4 only"));
}

/* ---- the lease ---- */

static void test_lease_bytes(void **state)
{
	struct lease_attrs a = { .public_ip = addr("192.168.64.3") }, back;
	struct err err = { 0 };
	char *json = NULL;

	(void)state;
	ipip_lease_attrs_fill(&a);
	assert_string_equal(a.backend_type, "ipip");
	assert_null(a.backend_data);
	assert_null(a.backend_v6_data);
	/* Through the ops table too (it needs no state). */
	memset(a.backend_type, 0, sizeof(a.backend_type));
	assert_int_equal(ipip_backend_ops.lease_attrs(NULL, &a, &err), 0);
	assert_string_equal(a.backend_type, "ipip");
	assert_null(a.backend_data);
	/* Upstream's LeaseAttrs{PublicIP, BackendType} marshalled: no BackendData. */
	assert_int_equal(lease_attrs_encode(&a, &json), 0);
	assert_string_equal(json, "{\"PublicIP\":\"192.168.64.3\",\"PublicIPv6\":null,"
				  "\"BackendType\":\"ipip\"}");
	assert_int_equal(lease_attrs_decode(json, strlen(json), &back, &err), 0);
	assert_true(lease_attrs_equal(&a, &back));
	lease_attrs_free(&back);
	free(json);
}

/* ---- the device ---- */

static void test_link_golden(void **state)
{
	struct nl_ipip_params p = { .name = "flannel.ipip", .local = addr("192.168.1.10") };
	static const uint8_t want[] = {
		NLMSGHDR(148, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL),
		/* ifinfomsg: family, pad, type, index, flags, change */
		0, 0, U16(0), U32(0), U32(0), U32(0),
		NLA(17, IFLA_IFNAME), 'f', 'l', 'a', 'n', 'n', 'e', 'l', '.', 'i', 'p', 'i', 'p', 0,
		0, 0, 0,
		NLA(8, IFLA_TXQLEN), U32(0),
		NLA(88, NLA_F_NESTED | IFLA_LINKINFO),
		NLA(8, IFLA_INFO_KIND), 'i', 'p', 'i', 'p',
		NLA(76, NLA_F_NESTED | IFLA_INFO_DATA),
		NLA(8, IFLA_IPTUN_LOCAL), 192, 168, 1, 10,
		NLA(5, IFLA_IPTUN_PMTUDISC), 0, 0, 0, 0,
		NLA(5, IFLA_IPTUN_TTL), 0, 0, 0, 0,
		NLA(5, IFLA_IPTUN_TOS), 0, 0, 0, 0,
		NLA(6, IFLA_IPTUN_ENCAP_TYPE), U16(0), 0, 0,
		NLA(6, IFLA_IPTUN_ENCAP_FLAGS), U16(0), 0, 0,
		NLA(6, IFLA_IPTUN_ENCAP_SPORT), U16(0), 0, 0,
		NLA(6, IFLA_IPTUN_ENCAP_DPORT), U16(0), 0, 0,
		NLA(5, IFLA_IPTUN_PROTO), 0, 0, 0, 0,
	};
	struct nlmsghdr *nlh = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);

	(void)state;
	assert_int_equal(nl_ipip_build(nlh, sizeof(buf), &p), 0);
	check_golden(nlh, want, sizeof(want));
}

struct seen {
	const struct nlattr *a[IFLA_IPTUN_MAX + 1];
	uint16_t order[32];
	size_t n;
};

static int collect(const struct nlattr *a, void *arg)
{
	struct seen *s = arg;
	uint16_t t = mnl_attr_get_type(a);

	if (s->n < 32)
		s->order[s->n++] = t;
	if (t <= IFLA_IPTUN_MAX)
		s->a[t] = a;
	return MNL_CB_OK;
}

static void test_link_attrs(void **state)
{
	struct nl_ipip_params p = { .name = "flannel.ipip", .local = addr("10.0.0.1"),
				    .mtu = 1480 };
	struct nlmsghdr *nlh = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct seen top = { 0 }, li = { 0 }, data = { 0 };
	static const uint16_t data_order[] = {
		IFLA_IPTUN_LOCAL, IFLA_IPTUN_PMTUDISC, IFLA_IPTUN_TTL, IFLA_IPTUN_TOS,
		IFLA_IPTUN_ENCAP_TYPE, IFLA_IPTUN_ENCAP_FLAGS, IFLA_IPTUN_ENCAP_SPORT,
		IFLA_IPTUN_ENCAP_DPORT, IFLA_IPTUN_PROTO,
	};
	const struct ifinfomsg *ifi;

	(void)state;
	assert_int_equal(nl_ipip_build(nlh, sizeof(buf), &p), 0);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(nlh->nlmsg_flags & (NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL),
			 NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_family, AF_UNSPEC);
	assert_int_equal(ifi->ifi_index, 0);
	assert_int_equal(ifi->ifi_flags, 0);
	assert_int_equal(mnl_attr_parse(nlh, sizeof(*ifi), collect, &top), MNL_CB_OK);
	assert_int_equal(top.n, 4);
	assert_int_equal(top.order[0], IFLA_IFNAME);
	assert_string_equal(mnl_attr_get_str(top.a[IFLA_IFNAME]), "flannel.ipip");
	assert_int_equal(top.order[1], IFLA_MTU);
	assert_int_equal(mnl_attr_get_u32(top.a[IFLA_MTU]), 1480);
	assert_int_equal(top.order[2], IFLA_TXQLEN);
	assert_int_equal(mnl_attr_get_u32(top.a[IFLA_TXQLEN]), 0);
	assert_int_equal(top.order[3], IFLA_LINKINFO);

	assert_int_equal(mnl_attr_parse_nested(top.a[IFLA_LINKINFO], collect, &li), MNL_CB_OK);
	assert_int_equal(li.n, 2);
	assert_int_equal(li.order[0], IFLA_INFO_KIND);
	assert_int_equal(mnl_attr_get_payload_len(li.a[IFLA_INFO_KIND]), 4); /* no NUL */
	assert_memory_equal(mnl_attr_get_payload(li.a[IFLA_INFO_KIND]), "ipip", 4);
	assert_int_equal(li.order[1], IFLA_INFO_DATA);

	assert_int_equal(mnl_attr_parse_nested(li.a[IFLA_INFO_DATA], collect, &data), MNL_CB_OK);
	assert_int_equal(data.n, sizeof(data_order) / sizeof(data_order[0]));
	assert_memory_equal(data.order, data_order, sizeof(data_order));
	assert_int_equal(mnl_attr_get_payload_len(data.a[IFLA_IPTUN_LOCAL]), 4);
	assert_memory_equal(mnl_attr_get_payload(data.a[IFLA_IPTUN_LOCAL]), p.local.b, 4);
	/* No remote (any), no underlay link, no metadata mode. */
	assert_null(data.a[IFLA_IPTUN_REMOTE]);
	assert_null(data.a[IFLA_IPTUN_LINK]);
	assert_null(data.a[IFLA_IPTUN_COLLECT_METADATA]);
	assert_null(data.a[IFLA_IPTUN_FWMARK]);
	assert_int_equal(mnl_attr_get_payload_len(data.a[IFLA_IPTUN_PMTUDISC]), 1);
	assert_int_equal(mnl_attr_get_u8(data.a[IFLA_IPTUN_PMTUDISC]), 0);
	assert_int_equal(mnl_attr_get_u8(data.a[IFLA_IPTUN_TTL]), 0);
	assert_int_equal(mnl_attr_get_u8(data.a[IFLA_IPTUN_TOS]), 0);
	assert_int_equal(mnl_attr_get_u8(data.a[IFLA_IPTUN_PROTO]), 0);
	for (uint16_t t = IFLA_IPTUN_ENCAP_TYPE; t <= IFLA_IPTUN_ENCAP_DPORT; t++) {
		assert_int_equal(mnl_attr_get_payload_len(data.a[t]), 2);
		assert_int_equal(mnl_attr_get_u16(data.a[t]), 0);
	}
}

static void test_link_bad_input(void **state)
{
	struct nl_ipip_params p = { .name = "flannel.ipip", .local = addr("10.0.0.1") };

	(void)state;
	assert_int_equal(nl_ipip_build(msg(RTM_NEWLINK, 0), sizeof(buf), &p), 0);
	/* The message up to IFLA_TXQLEN is 60 bytes; the whole 148. */
	assert_int_equal(nl_ipip_build(msg(RTM_NEWLINK, 0), 60, &p), -EMSGSIZE);
	assert_int_equal(nl_ipip_build(msg(RTM_NEWLINK, 0), 147, &p), -EMSGSIZE);
	assert_int_equal(nl_ipip_build(msg(RTM_NEWLINK, 0), 148, &p), 0);
	p.local = addr("fd00::1");
	assert_int_equal(nl_ipip_build(msg(RTM_NEWLINK, 0), sizeof(buf), &p), -EINVAL);
	p.local = addr("10.0.0.1");
	p.name = "flannel.ipip.too-long";
	assert_int_equal(nl_ipip_build(msg(RTM_NEWLINK, 0), sizeof(buf), &p), -EINVAL);
	p.name = "";
	assert_int_equal(nl_ipip_build(msg(RTM_NEWLINK, 0), sizeof(buf), &p), -EINVAL);
	/* No local: none sent (the kernel's "any"). */
	memset(&p, 0, sizeof(p));
	p.name = "t0";
	assert_int_equal(nl_ipip_build(msg(RTM_NEWLINK, 0), sizeof(buf), &p), 0);
}

/* A link as the kernel dumps an ipip device (ipip_fill_info: LINK, LOCAL,
 * REMOTE, TTL, TOS, PROTO, PMTUDISC, FWMARK...; remote any = 0.0.0.0). */
static struct nlmsghdr *dumped(const char *kind, const char *local, const char *remote,
			       bool data)
{
	struct nlmsghdr *nlh = msg(RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *li, *d;

	ifi->ifi_index = 9;
	ifi->ifi_flags = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "flannel.ipip");
	mnl_attr_put_u32(nlh, IFLA_MTU, 1480);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	if (data) {
		struct ip_addr l = addr(local), r = addr(remote);

		d = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u32(nlh, IFLA_IPTUN_LINK, 0);
		mnl_attr_put(nlh, IFLA_IPTUN_LOCAL, 4, l.b);
		mnl_attr_put(nlh, IFLA_IPTUN_REMOTE, 4, r.b);
		mnl_attr_put_u8(nlh, IFLA_IPTUN_TTL, 64);
		mnl_attr_put_u8(nlh, IFLA_IPTUN_TOS, 1);
		mnl_attr_put_u8(nlh, IFLA_IPTUN_PROTO, 4);
		mnl_attr_put_u8(nlh, IFLA_IPTUN_PMTUDISC, 1);
		mnl_attr_put_u32(nlh, IFLA_IPTUN_FWMARK, 0);
		mnl_attr_nest_end(nlh, d);
	}
	mnl_attr_nest_end(nlh, li);
	return nlh;
}

static void test_link_parse(void **state)
{
	struct ip_addr ours = addr("10.0.0.1");
	struct nl_link l;

	(void)state;
	assert_int_equal(nl_link_parse(dumped("ipip", "10.0.0.1", "0.0.0.0", true), &l), 0);
	assert_string_equal(l.name, "flannel.ipip");
	assert_string_equal(l.kind, "ipip");
	assert_int_equal(l.index, 9);
	assert_int_equal(l.mtu, 1480);
	assert_true(l.up);
	assert_true(l.is_ipip);
	assert_false(l.is_vxlan);
	assert_true(ip_addr_equal(&l.ipip.local, &ours));
	assert_int_equal(l.ipip.remote.family, AF_INET);
	assert_true(ip_addr_is_unset(&l.ipip.remote));
	assert_int_equal(l.ipip.ttl, 64);
	assert_int_equal(l.ipip.tos, 1);
	assert_true(l.ipip.pmtudisc);
	assert_false(l.ipip.collect_md);
	assert_int_equal(l.ipip.link, 0);
	/* Upstream's test: local ours and remote any or none. */
	assert_true(ipip_link_compatible(&l, &ours));

	/* Our own request parses back the same way. */
	{
		struct nl_ipip_params p = { .name = "flannel.ipip", .local = ours };
		struct nlmsghdr *nlh = msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);

		assert_int_equal(nl_ipip_build(nlh, sizeof(buf), &p), 0);
		assert_int_equal(nl_link_parse(nlh, &l), 0);
		assert_true(l.is_ipip);
		assert_int_equal(l.ipip.remote.family, 0);
		assert_false(l.ipip.pmtudisc);
		assert_true(ipip_link_compatible(&l, &ours));
	}
}

static void test_link_incompatible(void **state)
{
	struct ip_addr ours = addr("10.0.0.1");
	struct nl_link l;

	(void)state;
	/* Another local (the interface's address changed): recreate. */
	assert_int_equal(nl_link_parse(dumped("ipip", "10.0.0.2", "0.0.0.0", true), &l), 0);
	assert_false(ipip_link_compatible(&l, &ours));
	/* Local any (as tunl0): recreate. */
	assert_int_equal(nl_link_parse(dumped("ipip", "0.0.0.0", "0.0.0.0", true), &l), 0);
	assert_false(ipip_link_compatible(&l, &ours));
	/* A remote set: recreate. */
	assert_int_equal(nl_link_parse(dumped("ipip", "10.0.0.1", "10.0.0.9", true), &l), 0);
	assert_false(ipip_link_compatible(&l, &ours));
	/* An ipip link without its data: nothing known, recreate. */
	assert_int_equal(nl_link_parse(dumped("ipip", NULL, NULL, false), &l), 0);
	assert_false(l.is_ipip);
	assert_false(ipip_link_compatible(&l, &ours));
	/* Another kind with the same attribute numbers is no ipip device. */
	assert_int_equal(nl_link_parse(dumped("sit", "10.0.0.1", "0.0.0.0", true), &l), 0);
	assert_false(l.is_ipip);
	assert_false(ipip_link_compatible(&l, &ours));
}

/* Short attributes are skipped, not read past. */
static void test_link_parse_short(void **state)
{
	struct nlmsghdr *nlh = msg(RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *li, *d;
	struct nl_link l;

	(void)state;
	(void)ifi;
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "ipip");
	d = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put(nlh, IFLA_IPTUN_LOCAL, 3, "\x0a\x00\x00");
	mnl_attr_put(nlh, IFLA_IPTUN_REMOTE, 16, "0123456789abcdef");
	mnl_attr_put(nlh, IFLA_IPTUN_LINK, 2, "\x01\x00");
	mnl_attr_put(nlh, IFLA_IPTUN_TTL, 0, NULL);
	mnl_attr_nest_end(nlh, d);
	mnl_attr_nest_end(nlh, li);
	assert_int_equal(nl_link_parse(nlh, &l), 0);
	assert_true(l.is_ipip);
	assert_int_equal(l.ipip.local.family, 0);
	assert_int_equal(l.ipip.remote.family, 0);
	assert_int_equal(l.ipip.link, 0);
	assert_int_equal(l.ipip.ttl, 0);
}

/* ---- routes ---- */

static struct lease peer(const char *subnet, const char *pub)
{
	struct lease l = { 0 };

	snprintf(l.name, sizeof(l.name), "peer");
	l.subnet.v4 = prefix(subnet);
	if (pub)
		l.attrs.public_ip = addr(pub);
	snprintf(l.attrs.backend_type, sizeof(l.attrs.backend_type), "ipip");
	return l;
}

static void test_route_tunnel(void **state)
{
	struct lease l = peer("10.244.34.0/24", "192.168.1.20");
	struct nl_route r;
	static const uint8_t want[] = {
		U32(52), U16(RTM_NEWROUTE),
		U16(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE), U32(SEQ), U32(0),
		/* rtmsg: family dst_len src_len tos table protocol scope type, flags */
		AF_INET, 24, 0, 0, RT_TABLE_MAIN, 151, RT_SCOPE_UNIVERSE, RTN_UNICAST,
		U32(RTNH_F_ONLINK),
		NLA(8, RTA_DST), 10, 244, 34, 0,
		NLA(8, RTA_GATEWAY), 192, 168, 1, 20,
		NLA(8, RTA_OIF), U32(9),
	};
	struct nlmsghdr *nlh = msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	struct nl_route back;

	(void)state;
	assert_true(ipip_peer_route(&l, 9, &r));
	assert_int_equal(r.protocol, WEFT_RTPROT);
	assert_true(r.onlink);
	assert_int_equal(r.nh_id, 0);
	assert_int_equal(nl_route_build(nlh, sizeof(buf), &r), 0);
	check_golden(nlh, want, sizeof(want));
	/* And read back as the kernel would echo it. */
	assert_int_equal(nl_route_parse(nlh, &back), 0);
	assert_true(back.onlink);
	assert_int_equal(back.protocol, WEFT_RTPROT);
	assert_int_equal(back.oif, 9);
	assert_true(ip_addr_equal(&back.gw, &l.attrs.public_ip));
	assert_true(ip_prefix_equal(&back.dst, &l.subnet.v4));
}

static void test_route_direct_and_none(void **state)
{
	struct lease l = peer("10.244.35.0/24", "192.168.1.21");
	struct nl_route r;
	struct nlmsghdr *nlh = msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	const struct rtmsg *rtm;

	(void)state;
	/* DirectRouting: the same route on the external interface, onlink too
	 * (upstream only changes the link index). */
	assert_true(ipip_peer_route(&l, ext1.index, &r));
	assert_int_equal(r.oif, 2);
	assert_true(r.onlink);
	assert_int_equal(nl_route_build(nlh, sizeof(buf), &r), 0);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_protocol, WEFT_RTPROT);
	assert_int_equal(rtm->rtm_flags & RTNH_F_ONLINK, RTNH_F_ONLINK);

	/* No route: no public IP, 0.0.0.0, or an IPv6-only lease. */
	l = peer("10.244.36.0/24", NULL);
	assert_false(ipip_peer_route(&l, 9, &r));
	assert_int_equal(r.dst.addr.family, 0);
	l = peer("10.244.36.0/24", "0.0.0.0");
	assert_false(ipip_peer_route(&l, 9, &r));
	l = peer("0.0.0.0/0", "192.168.1.22");
	assert_false(ipip_peer_route(&l, 9, &r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_registered),
		cmocka_unit_test(test_lease_bytes),
		cmocka_unit_test(test_link_golden),
		cmocka_unit_test(test_link_attrs),
		cmocka_unit_test(test_link_bad_input),
		cmocka_unit_test(test_link_parse),
		cmocka_unit_test(test_link_incompatible),
		cmocka_unit_test(test_link_parse_short),
		cmocka_unit_test(test_route_tunnel),
		cmocka_unit_test(test_route_direct_and_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
