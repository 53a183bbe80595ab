// SPDX-License-Identifier: Apache-2.0
/*
 * nl/wg_genl: the wireguard generic netlink messages, checked without the
 * module: what weft sends walked attribute by attribute against the types
 * and nesting linux/wireguard.h documents, a change split over messages as
 * wg(8) splits it, and the GET_DEVICE dump parsed from messages built here
 * as the kernel builds them (a peer continued in the next message).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/time_types.h>
#include <linux/wireguard.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "nl/build.h"
#include "nl/wg_genl.h"
#include "wg/config.h"

#define FAMILY 0x1234

static uint8_t buf[NL_MSG_MAX] __attribute__((aligned(8)));

static struct nlmsghdr *msg(uint16_t type)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 7;
	return nlh;
}

static void key(uint8_t k[WG_KEY_LEN], uint8_t v)
{
	for (int i = 0; i < WG_KEY_LEN; i++)
		k[i] = (uint8_t)(v + i);
}

static struct wg_allowed_ip aip(const char *addr, uint8_t cidr)
{
	struct wg_allowed_ip a = {.cidr = cidr};

	a.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(a.family, addr, &a.addr), 1);
	return a;
}

/* Attributes of a message or a nest by type; each type at most once
 * (wireguard never repeats one), NLA_F_NESTED noted. */
struct attrs {
	const struct nlattr *a[16];
	int n; /* how many */
};

static int attrs_cb(const struct nlattr *a, void *data)
{
	struct attrs *t = data;
	uint16_t type = mnl_attr_get_type(a);

	assert_true(type < 16);
	assert_null(t->a[type]);
	t->a[type] = a;
	t->n++;
	return MNL_CB_OK;
}

static void walk_msg(const struct nlmsghdr *nlh, uint8_t cmd, struct attrs *t)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

	memset(t, 0, sizeof(*t));
	assert_int_equal(g->cmd, cmd);
	assert_int_equal(g->version, cmd == CTRL_CMD_GETFAMILY ? 1 : WG_GENL_VERSION);
	assert_int_equal(mnl_attr_parse(nlh, GENL_HDRLEN, attrs_cb, t), MNL_CB_OK);
}

static void walk_nest(const struct nlattr *nest, struct attrs *t)
{
	memset(t, 0, sizeof(*t));
	assert_true(mnl_attr_get_type(nest) == 0 || (nest->nla_type & NLA_F_NESTED));
	assert_true(nest->nla_type & NLA_F_NESTED);
	assert_int_equal(mnl_attr_parse_nested(nest, attrs_cb, t), MNL_CB_OK);
}

static void want_len(const struct nlattr *a, size_t len)
{
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_payload_len(a), len);
}

static void test_family(void **st)
{
	struct nlmsghdr *nlh = msg(GENL_ID_CTRL);
	struct genlmsghdr *g;
	struct attrs t;
	uint16_t id = 0;

	(void)st;
	assert_int_equal(wg_genl_family_build(nlh, sizeof(buf)), 0);
	walk_msg(nlh, CTRL_CMD_GETFAMILY, &t);
	assert_int_equal(t.n, 1);
	assert_int_equal(mnl_attr_validate(t.a[CTRL_ATTR_FAMILY_NAME], MNL_TYPE_NUL_STRING), 0);
	assert_string_equal(mnl_attr_get_str(t.a[CTRL_ATTR_FAMILY_NAME]), "wireguard");
	assert_int_equal(wg_genl_family_build(msg(GENL_ID_CTRL), 20), -EMSGSIZE);

	/* The controller's answer. */
	nlh = msg(GENL_ID_CTRL);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_NEWFAMILY;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "wireguard");
	assert_int_equal(wg_genl_family_parse(nlh, &id), -EBADMSG);
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, 0x21);
	assert_int_equal(wg_genl_family_parse(nlh, &id), 0);
	assert_int_equal(id, 0x21);
	nlh->nlmsg_type = 0x21;
	assert_int_equal(wg_genl_family_parse(nlh, &id), -EBADMSG);
}

/* A change: device attributes, a peer with everything, one removed. */
static void change(struct wg_device_config *c)
{
	struct wg_peer_config *p;
	struct wg_allowed_ip a;

	memset(c, 0, sizeof(*c));
	c->flags = WG_DEV_HAS_PRIVATE | WG_DEV_HAS_PORT | WG_DEV_HAS_FWMARK | WG_DEV_REPLACE_PEERS;
	key(c->priv, 1);
	c->port = 51820;
	c->fwmark = 0x42;
	p = wg_device_config_add_peer(c);
	key(p->pub, 0x10);
	key(p->psk, 0x20);
	p->flags = WG_PEER_HAS_PSK | WG_PEER_HAS_KEEPALIVE | WG_PEER_REPLACE_ALLOWED_IPS |
		   WG_PEER_UPDATE_ONLY;
	p->keepalive_s = 25;
	p->endpoint.in4.sin_family = AF_INET;
	p->endpoint.in4.sin_port = htons(51821);
	inet_pton(AF_INET, "192.0.2.1", &p->endpoint.in4.sin_addr);
	a = aip("10.5.2.0", 24);
	wg_peer_config_add_allowed(p, &a);
	a = aip("fd00:5:2::", 64);
	wg_peer_config_add_allowed(p, &a);
	p = wg_device_config_add_peer(c);
	key(p->pub, 0x30);
	p->flags = WG_PEER_REMOVE | WG_PEER_HAS_PSK; /* remove wins: nothing else */
	a = aip("10.9.0.0", 16);
	wg_peer_config_add_allowed(p, &a);
	p = wg_device_config_add_peer(c);
	key(p->pub, 0x40);
	p->endpoint.in6.sin6_family = AF_INET6;
	p->endpoint.in6.sin6_port = htons(1);
	p->endpoint.in6.sin6_scope_id = 3;
	inet_pton(AF_INET6, "fe80::1", &p->endpoint.in6.sin6_addr);
}

static void test_set_walk(void **st)
{
	struct wg_device_config c;
	struct wg_genl_cursor cur = {0};
	struct nlmsghdr *nlh = msg(FAMILY);
	struct attrs t, pt, ip;
	const struct nlattr *pos;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
	uint8_t k[WG_KEY_LEN];
	int n = 0, i = 0;

	(void)st;
	change(&c);
	assert_int_equal(wg_genl_set_build(nlh, sizeof(buf), "wg0", &c, &cur), 0);
	assert_true(nlh->nlmsg_len <= sizeof(buf));
	walk_msg(nlh, WG_CMD_SET_DEVICE, &t);
	assert_int_equal(t.n, 6);
	assert_string_equal(mnl_attr_get_str(t.a[WGDEVICE_A_IFNAME]), "wg0");
	want_len(t.a[WGDEVICE_A_IFNAME], 4);
	want_len(t.a[WGDEVICE_A_PRIVATE_KEY], WG_KEY_LEN);
	assert_memory_equal(mnl_attr_get_payload(t.a[WGDEVICE_A_PRIVATE_KEY]), c.priv, WG_KEY_LEN);
	want_len(t.a[WGDEVICE_A_LISTEN_PORT], 2);
	assert_int_equal(mnl_attr_get_u16(t.a[WGDEVICE_A_LISTEN_PORT]), 51820);
	want_len(t.a[WGDEVICE_A_FWMARK], 4);
	assert_int_equal(mnl_attr_get_u32(t.a[WGDEVICE_A_FWMARK]), 0x42);
	want_len(t.a[WGDEVICE_A_FLAGS], 4);
	assert_int_equal(mnl_attr_get_u32(t.a[WGDEVICE_A_FLAGS]), WGDEVICE_F_REPLACE_PEERS);
	assert_null(t.a[WGDEVICE_A_IFINDEX]);
	assert_true(t.a[WGDEVICE_A_PEERS]->nla_type & NLA_F_NESTED);

	mnl_attr_for_each_nested(pos, t.a[WGDEVICE_A_PEERS])
	{
		assert_int_equal(mnl_attr_get_type(pos), 0);
		walk_nest(pos, &pt);
		want_len(pt.a[WGPEER_A_PUBLIC_KEY], WG_KEY_LEN);
		memcpy(k, mnl_attr_get_payload(pt.a[WGPEER_A_PUBLIC_KEY]), WG_KEY_LEN);
		assert_memory_equal(k, c.peers[n].pub, WG_KEY_LEN);
		switch (n) {
		case 0:
			assert_int_equal(pt.n, 7);
			want_len(pt.a[WGPEER_A_FLAGS], 4);
			assert_int_equal(mnl_attr_get_u32(pt.a[WGPEER_A_FLAGS]),
					 WGPEER_F_REPLACE_ALLOWEDIPS | WGPEER_F_UPDATE_ONLY);
			want_len(pt.a[WGPEER_A_PRESHARED_KEY], WG_KEY_LEN);
			assert_memory_equal(mnl_attr_get_payload(pt.a[WGPEER_A_PRESHARED_KEY]),
					    c.peers[0].psk, WG_KEY_LEN);
			want_len(pt.a[WGPEER_A_ENDPOINT], sizeof(in4));
			memcpy(&in4, mnl_attr_get_payload(pt.a[WGPEER_A_ENDPOINT]), sizeof(in4));
			assert_int_equal(in4.sin_family, AF_INET);
			assert_int_equal(ntohs(in4.sin_port), 51821);
			assert_int_equal(ntohl(in4.sin_addr.s_addr), 0xc0000201);
			want_len(pt.a[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL], 2);
			assert_int_equal(
				mnl_attr_get_u16(pt.a[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]), 25);
			want_len(pt.a[WGPEER_A_PROTOCOL_VERSION], 4);
			assert_int_equal(mnl_attr_get_u32(pt.a[WGPEER_A_PROTOCOL_VERSION]), 1);
			assert_true(pt.a[WGPEER_A_ALLOWEDIPS]->nla_type & NLA_F_NESTED);
			i = 0;
			{
				const struct nlattr *ap;

				mnl_attr_for_each_nested(ap, pt.a[WGPEER_A_ALLOWEDIPS])
				{
					walk_nest(ap, &ip);
					assert_int_equal(ip.n, 3);
					want_len(ip.a[WGALLOWEDIP_A_FAMILY], 2);
					want_len(ip.a[WGALLOWEDIP_A_CIDR_MASK], 1);
					if (i == 0) {
						assert_int_equal(
							mnl_attr_get_u16(
								ip.a[WGALLOWEDIP_A_FAMILY]),
							AF_INET);
						want_len(ip.a[WGALLOWEDIP_A_IPADDR], 4);
						assert_int_equal(
							mnl_attr_get_u8(
								ip.a[WGALLOWEDIP_A_CIDR_MASK]),
							24);
					} else {
						assert_int_equal(
							mnl_attr_get_u16(
								ip.a[WGALLOWEDIP_A_FAMILY]),
							AF_INET6);
						want_len(ip.a[WGALLOWEDIP_A_IPADDR], 16);
						assert_int_equal(
							mnl_attr_get_u8(
								ip.a[WGALLOWEDIP_A_CIDR_MASK]),
							64);
					}
					i++;
				}
			}
			assert_int_equal(i, 2);
			break;
		case 1:
			assert_int_equal(pt.n, 2); /* public key and flags only */
			assert_int_equal(mnl_attr_get_u32(pt.a[WGPEER_A_FLAGS]),
					 WGPEER_F_REMOVE_ME);
			break;
		case 2:
			assert_int_equal(pt.n, 3); /* no flags, no psk, no keepalive */
			want_len(pt.a[WGPEER_A_ENDPOINT], sizeof(in6));
			memcpy(&in6, mnl_attr_get_payload(pt.a[WGPEER_A_ENDPOINT]), sizeof(in6));
			assert_int_equal(in6.sin6_family, AF_INET6);
			assert_int_equal(in6.sin6_scope_id, 3);
			assert_int_equal(in6.sin6_addr.s6_addr[0], 0xfe);
			assert_non_null(pt.a[WGPEER_A_PROTOCOL_VERSION]);
			break;
		}
		n++;
	}
	assert_int_equal(n, 3);
	wg_device_config_clear(&c);
}

static void test_set_errors(void **st)
{
	struct wg_device_config c;
	struct wg_genl_cursor cur = {0};

	(void)st;
	change(&c);
	assert_int_equal(wg_genl_set_build(msg(FAMILY), sizeof(buf), "", &c, &cur), -EINVAL);
	assert_int_equal(wg_genl_set_build(msg(FAMILY), sizeof(buf), "0123456789abcdef", &c, &cur),
			 -EINVAL);
	assert_int_equal(wg_genl_set_build(msg(FAMILY), sizeof(buf), NULL, &c, &cur), -EINVAL);
	assert_int_equal(wg_genl_set_build(msg(FAMILY), 40, "wg0", &c, &cur), -EMSGSIZE);
	c.peers[0].allowed[0].cidr = 33;
	memset(&cur, 0, sizeof(cur));
	assert_int_equal(wg_genl_set_build(msg(FAMILY), sizeof(buf), "wg0", &c, &cur), -EINVAL);
	c.peers[0].allowed[0].cidr = 8;
	c.peers[0].allowed[1].family = AF_UNSPEC;
	memset(&cur, 0, sizeof(cur));
	assert_int_equal(wg_genl_set_build(msg(FAMILY), sizeof(buf), "wg0", &c, &cur), -EINVAL);
	wg_device_config_clear(&c);
	/* Nothing at all: one message with the name only. */
	memset(&c, 0, sizeof(c));
	memset(&cur, 0, sizeof(cur));
	assert_int_equal(wg_genl_set_build(msg(FAMILY), sizeof(buf), "wg0", &c, &cur), 0);
	assert_int_equal(((struct nlmsghdr *)buf)->nlmsg_len, 16 + 4 + 8);
}

/* Messages of a split change, concatenated as a dump would be. */
struct split {
	uint8_t *data;
	size_t len;
	int n;
};

static void build_all(const struct wg_device_config *c, size_t size, struct split *s)
{
	struct wg_genl_cursor cur = {0};
	int rc;

	memset(s, 0, sizeof(*s));
	do {
		struct nlmsghdr *nlh = msg(FAMILY);

		rc = wg_genl_set_build(nlh, size, "wg0", c, &cur);
		assert_true(rc == 0 || rc == 1);
		assert_true(nlh->nlmsg_len <= size);
		s->data = realloc(s->data, s->len + NLMSG_ALIGN(nlh->nlmsg_len));
		memcpy(s->data + s->len, nlh, NLMSG_ALIGN(nlh->nlmsg_len));
		s->len += NLMSG_ALIGN(nlh->nlmsg_len);
		s->n++;
		assert_true(s->n < 10000);
	} while (rc == 1);
}

static void test_set_split(void **st)
{
	struct wg_device_config c = {0}, back = {0};
	struct wg_peer_config *p;
	struct split s;
	const struct nlmsghdr *nlh;
	struct attrs t, pt;
	const struct nlattr *pos;
	size_t len;
	uint8_t prev[WG_KEY_LEN] = {0};
	bool have_prev = false;
	int msgs = 0, continued = 0;
	char a4[32];
	struct err err;

	(void)st;
	c.flags = WG_DEV_HAS_PRIVATE | WG_DEV_REPLACE_PEERS;
	key(c.priv, 1);
	/* 300 peers of 3 allowed IPs, one of 1000 in the middle and one
	 * update-only with 600 at the end. */
	for (int i = 0; i < 302; i++) {
		int na = i == 150 ? 1000 : i == 301 ? 600 : 3;

		p = wg_device_config_add_peer(&c);
		key(p->pub, (uint8_t)i);
		p->pub[31] = (uint8_t)(i >> 8);
		p->flags = WG_PEER_REPLACE_ALLOWED_IPS | WG_PEER_HAS_KEEPALIVE;
		if (i == 301)
			p->flags |= WG_PEER_UPDATE_ONLY;
		p->keepalive_s = 25;
		for (int j = 0; j < na; j++) {
			snprintf(a4, sizeof(a4), "10.%d.%d.%d", i % 256, j / 256, j % 256);
			struct wg_allowed_ip a = aip(a4, 32);
			wg_peer_config_add_allowed(p, &a);
		}
	}
	build_all(&c, NL_MSG_MAX, &s);
	assert_true(s.n > 3);

	/* Each message: the device's attributes in the first only; a peer that
	 * continues has its public key, UPDATE_ONLY if it had it, and allowed
	 * IPs, nothing else. */
	len = s.len;
	for (nlh = (const struct nlmsghdr *)s.data; nl_msg_ok(nlh, len);
	     nlh = nl_msg_next(nlh, &len), msgs++) {
		bool first_peer = true;

		walk_msg(nlh, WG_CMD_SET_DEVICE, &t);
		assert_non_null(t.a[WGDEVICE_A_IFNAME]);
		if (msgs == 0) {
			assert_non_null(t.a[WGDEVICE_A_PRIVATE_KEY]);
			assert_non_null(t.a[WGDEVICE_A_FLAGS]);
		} else {
			assert_null(t.a[WGDEVICE_A_PRIVATE_KEY]);
			assert_null(t.a[WGDEVICE_A_FLAGS]);
		}
		assert_non_null(t.a[WGDEVICE_A_PEERS]);
		mnl_attr_for_each_nested(pos, t.a[WGDEVICE_A_PEERS])
		{
			walk_nest(pos, &pt);
			if (first_peer && have_prev &&
			    !memcmp(mnl_attr_get_payload(pt.a[WGPEER_A_PUBLIC_KEY]), prev,
				    WG_KEY_LEN)) {
				continued++;
				assert_null(pt.a[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]);
				assert_null(pt.a[WGPEER_A_PROTOCOL_VERSION]);
				assert_non_null(pt.a[WGPEER_A_ALLOWEDIPS]);
				if (pt.a[WGPEER_A_FLAGS])
					assert_int_equal(mnl_attr_get_u32(pt.a[WGPEER_A_FLAGS]),
							 WGPEER_F_UPDATE_ONLY);
			} else {
				assert_int_equal(mnl_attr_get_u32(pt.a[WGPEER_A_FLAGS]) &
							 WGPEER_F_REPLACE_ALLOWEDIPS,
						 WGPEER_F_REPLACE_ALLOWEDIPS);
			}
			memcpy(prev, mnl_attr_get_payload(pt.a[WGPEER_A_PUBLIC_KEY]), WG_KEY_LEN);
			have_prev = true;
			first_peer = false;
		}
	}
	assert_int_equal(msgs, s.n);
	assert_true(continued >= 2); /* the 1000 and the 600 */

	/* Read back as a dump (same attributes): the same peers, every
	 * allowed IP once and in order. */
	len = s.len;
	for (nlh = (const struct nlmsghdr *)s.data; nl_msg_ok(nlh, len);
	     nlh = nl_msg_next(nlh, &len)) {
		((struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->cmd = WG_CMD_GET_DEVICE;
		assert_int_equal(wg_genl_get_parse(nlh, FAMILY, &back, &err), 0);
	}
	assert_int_equal(back.n_peers, c.n_peers);
	for (size_t i = 0; i < c.n_peers; i++) {
		assert_memory_equal(back.peers[i].pub, c.peers[i].pub, WG_KEY_LEN);
		assert_int_equal(back.peers[i].n_allowed, c.peers[i].n_allowed);
		assert_memory_equal(back.peers[i].allowed, c.peers[i].allowed,
				    c.peers[i].n_allowed * sizeof(struct wg_allowed_ip));
		assert_int_equal(back.peers[i].keepalive_s, 25);
	}
	wg_device_config_clear(&back);
	free(s.data);

	/* Small messages: still every allowed IP exactly once. */
	build_all(&c, 512, &s);
	len = s.len;
	for (nlh = (const struct nlmsghdr *)s.data; nl_msg_ok(nlh, len);
	     nlh = nl_msg_next(nlh, &len)) {
		((struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->cmd = WG_CMD_GET_DEVICE;
		assert_int_equal(wg_genl_get_parse(nlh, FAMILY, &back, &err), 0);
	}
	assert_int_equal(back.n_peers, c.n_peers);
	assert_int_equal(back.peers[150].n_allowed, 1000);
	assert_int_equal(back.peers[301].n_allowed, 600);
	wg_device_config_clear(&back);
	free(s.data);
	wg_device_config_clear(&c);
}

/* ---- the GET_DEVICE dump as the kernel sends it ---- */

static struct nlmsghdr *kmsg(uint8_t *b)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
	struct genlmsghdr *g;

	nlh->nlmsg_type = FAMILY;
	nlh->nlmsg_flags = NLM_F_MULTI;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = WG_CMD_GET_DEVICE;
	g->version = WG_GENL_VERSION;
	mnl_attr_put_u32(nlh, WGDEVICE_A_IFINDEX, 5);
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, "flannel-wg");
	return nlh;
}

static void k_allowed(struct nlmsghdr *nlh, const char *addr, uint8_t cidr)
{
	struct wg_allowed_ip a = aip(addr, cidr);
	struct nlattr *n = mnl_attr_nest_start(nlh, 0);

	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, (uint16_t)a.family);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, a.family == AF_INET ? 4 : 16, &a.addr);
	mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, cidr);
	mnl_attr_nest_end(nlh, n);
}

static uint8_t kb1[4096] __attribute__((aligned(8))), kb2[4096] __attribute__((aligned(8)));

/* Two messages: the device, peer A whole and peer B's start; then B's
 * other allowed IPs and peer C (public key only). */
static void kernel_dump(struct nlmsghdr **m1, struct nlmsghdr **m2)
{
	struct nlmsghdr *nlh;
	struct nlattr *peers, *peer, *ips;
	struct __kernel_timespec ts = {.tv_sec = 1700000000, .tv_nsec = 42};
	struct sockaddr_in in4 = {.sin_family = AF_INET, .sin_port = htons(51820)};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(51821)};
	uint8_t k[WG_KEY_LEN];

	memset(kb1, 0, sizeof(kb1));
	memset(kb2, 0, sizeof(kb2));
	inet_pton(AF_INET, "192.0.2.1", &in4.sin_addr);
	inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr);

	nlh = *m1 = kmsg(kb1);
	key(k, 1);
	mnl_attr_put(nlh, WGDEVICE_A_PRIVATE_KEY, WG_KEY_LEN, k);
	key(k, 2);
	mnl_attr_put(nlh, WGDEVICE_A_PUBLIC_KEY, WG_KEY_LEN, k);
	mnl_attr_put_u16(nlh, WGDEVICE_A_LISTEN_PORT, 51820);
	mnl_attr_put_u32(nlh, WGDEVICE_A_FWMARK, 0);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = mnl_attr_nest_start(nlh, 0);
	key(k, 0x10);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, k);
	key(k, 0x11);
	mnl_attr_put(nlh, WGPEER_A_PRESHARED_KEY, WG_KEY_LEN, k);
	mnl_attr_put(nlh, WGPEER_A_LAST_HANDSHAKE_TIME, sizeof(ts), &ts);
	mnl_attr_put_u16(nlh, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, 25);
	mnl_attr_put_u64(nlh, WGPEER_A_TX_BYTES, 1000);
	mnl_attr_put_u64(nlh, WGPEER_A_RX_BYTES, 2000);
	mnl_attr_put_u32(nlh, WGPEER_A_PROTOCOL_VERSION, 1);
	mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof(in4), &in4);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	k_allowed(nlh, "10.5.1.0", 24);
	k_allowed(nlh, "fd00:5:1::", 64);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	peer = mnl_attr_nest_start(nlh, 0);
	key(k, 0x20);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, k);
	memset(k, 0, sizeof(k));
	mnl_attr_put(nlh, WGPEER_A_PRESHARED_KEY, WG_KEY_LEN, k);
	mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof(in6), &in6);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	k_allowed(nlh, "10.5.2.0", 24);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);

	nlh = *m2 = kmsg(kb2);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = mnl_attr_nest_start(nlh, 0);
	key(k, 0x20);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, k);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	k_allowed(nlh, "10.6.0.0", 16);
	k_allowed(nlh, "10.7.0.0", 16);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	peer = mnl_attr_nest_start(nlh, 0);
	key(k, 0x30);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, k);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
}

static void test_get_parse(void **st)
{
	struct wg_device_config c = {0};
	struct nlmsghdr *m1, *m2;
	struct err err;
	char s[80];
	uint8_t k[WG_KEY_LEN];

	(void)st;
	kernel_dump(&m1, &m2);
	assert_int_equal(wg_genl_get_parse(m1, FAMILY, &c, &err), 0);
	assert_int_equal(wg_genl_get_parse(m2, FAMILY, &c, &err), 0);
	assert_int_equal(c.flags, WG_DEV_HAS_PRIVATE | WG_DEV_HAS_PORT | WG_DEV_HAS_FWMARK);
	key(k, 1);
	assert_memory_equal(c.priv, k, WG_KEY_LEN);
	key(k, 2);
	assert_memory_equal(c.pub, k, WG_KEY_LEN);
	assert_int_equal(c.port, 51820);
	assert_int_equal(c.n_peers, 3);

	assert_int_equal(c.peers[0].pub[0], 0x10);
	assert_int_equal(c.peers[0].psk[0], 0x11);
	assert_int_equal(c.peers[0].flags, WG_PEER_HAS_PSK | WG_PEER_HAS_KEEPALIVE);
	assert_int_equal(c.peers[0].keepalive_s, 25);
	assert_int_equal(c.peers[0].last_handshake_sec, 1700000000);
	assert_int_equal(c.peers[0].last_handshake_nsec, 42);
	assert_int_equal(c.peers[0].tx_bytes, 1000);
	assert_int_equal(c.peers[0].rx_bytes, 2000);
	assert_string_equal(wg_endpoint_format(&c.peers[0].endpoint, s, sizeof(s)),
			    "192.0.2.1:51820");
	assert_int_equal(c.peers[0].n_allowed, 2);
	assert_string_equal(wg_allowed_ip_format(&c.peers[0].allowed[1], s, sizeof(s)),
			    "fd00:5:1::/64");

	/* B: spread over both messages, merged. */
	assert_int_equal(c.peers[1].pub[0], 0x20);
	assert_string_equal(wg_endpoint_format(&c.peers[1].endpoint, s, sizeof(s)),
			    "[2001:db8::1]:51821");
	assert_int_equal(c.peers[1].n_allowed, 3);
	assert_string_equal(wg_allowed_ip_format(&c.peers[1].allowed[0], s, sizeof(s)),
			    "10.5.2.0/24");
	assert_string_equal(wg_allowed_ip_format(&c.peers[1].allowed[2], s, sizeof(s)),
			    "10.7.0.0/16");
	assert_int_equal(c.peers[2].pub[0], 0x30);
	assert_int_equal(c.peers[2].n_allowed, 0);
	assert_int_equal(c.peers[2].endpoint.sa.sa_family, AF_UNSPEC);
	wg_device_config_clear(&c);
}

/* Change one attribute of the kernel's message and expect -EBADMSG. */
static void corrupt(const char *what, void (*edit)(struct nlmsghdr *), const char *msgpart)
{
	struct wg_device_config c = {0};
	struct nlmsghdr *m1, *m2;
	struct err err = {0};
	int rc;

	kernel_dump(&m1, &m2);
	edit(m1);
	rc = wg_genl_get_parse(m1, FAMILY, &c, &err);
	if (rc != -EBADMSG || !strstr(err.msg, msgpart))
		fail_msg("%s: rc %d, err \"%s\"; want -EBADMSG, \"%s\"", what, rc, err.msg,
			 msgpart);
	wg_device_config_clear(&c);
}

/* The first attribute of type t in the message's peers (depth-first). */
static struct nlattr *find(struct nlattr *nest, uint16_t t, int depth)
{
	struct nlattr *pos, *r;

	mnl_attr_for_each_nested(pos, nest)
	{
		if (depth == 0 && mnl_attr_get_type(pos) == t)
			return pos;
		if (depth > 0 && (r = find(pos, t, depth - 1)))
			return r;
	}
	return NULL;
}

static struct nlattr *peers_of(struct nlmsghdr *nlh)
{
	struct nlattr *a;

	mnl_attr_for_each(a, nlh,
			  GENL_HDRLEN) if (mnl_attr_get_type(a) == WGDEVICE_A_PEERS) return a;
	return NULL;
}

static void e_type(struct nlmsghdr *n)
{
	n->nlmsg_type = FAMILY + 1;
}
static void e_cmd(struct nlmsghdr *n)
{
	((struct genlmsghdr *)mnl_nlmsg_get_payload(n))->cmd = WG_CMD_SET_DEVICE;
}
static void e_pubkey(struct nlmsghdr *n)
{
	find(peers_of(n), WGPEER_A_PUBLIC_KEY, 1)->nla_type = WGPEER_A_UNSPEC;
}
static void e_psk_len(struct nlmsghdr *n)
{
	/* The endpoint (16 bytes, after the psk) retyped: a psk of 16. */
	find(peers_of(n), WGPEER_A_ENDPOINT, 1)->nla_type = WGPEER_A_PRESHARED_KEY;
}
static void e_endpoint_family(struct nlmsghdr *n)
{
	sa_family_t f = AF_INET6; /* with sockaddr_in's length */

	memcpy(mnl_attr_get_payload(find(peers_of(n), WGPEER_A_ENDPOINT, 1)), &f, sizeof(f));
}
static void e_handshake(struct nlmsghdr *n)
{
	struct __kernel_timespec ts = {.tv_sec = 1, .tv_nsec = 1000000000};

	memcpy(mnl_attr_get_payload(find(peers_of(n), WGPEER_A_LAST_HANDSHAKE_TIME, 1)), &ts,
	       sizeof(ts));
}
static void e_cidr(struct nlmsghdr *n)
{
	*(uint8_t *)mnl_attr_get_payload(find(peers_of(n), WGALLOWEDIP_A_CIDR_MASK, 3)) = 33;
}
static void e_family(struct nlmsghdr *n)
{
	*(uint16_t *)mnl_attr_get_payload(find(peers_of(n), WGALLOWEDIP_A_FAMILY, 3)) = AF_INET6;
}
static void e_nest_len(struct nlmsghdr *n)
{
	peers_of(n)->nla_len += 200; /* past the message */
}

static void e_inner_len(struct nlmsghdr *n)
{
	find(peers_of(n), WGPEER_A_ALLOWEDIPS, 1)->nla_len += 8; /* into the next */
}

static void test_get_parse_errors(void **st)
{
	(void)st;
	corrupt("inner nest length", e_inner_len, "nesting");
	corrupt("type", e_type, "not the wireguard family");
	corrupt("cmd", e_cmd, "not WG_CMD_GET_DEVICE");
	corrupt("public key", e_pubkey, "WGPEER_A_PUBLIC_KEY");
	corrupt("psk length", e_psk_len, "WGPEER_A_PRESHARED_KEY");
	corrupt("endpoint", e_endpoint_family, "WGPEER_A_ENDPOINT");
	corrupt("handshake", e_handshake, "WGPEER_A_LAST_HANDSHAKE_TIME");
	corrupt("cidr", e_cidr, "cidr 33");
	corrupt("family/address", e_family, "WGALLOWEDIP_A_IPADDR");
	corrupt("nest length", e_nest_len, "malformed");
}

static void test_open(void **st)
{
	struct wg_genl *g = NULL;
	struct wg_device_config c;
	struct err err = {0};
	int rc;

	(void)st;
	/* The family is there (module loaded) or not: both are answers. */
	rc = wg_genl_open(&g, &err);
	if (rc == 0) {
		assert_true(wg_genl_family(g) >= GENL_MIN_ID);
		rc = wg_genl_get(g, "weft-no-such0", &c, &err);
		assert_true(rc == -ENODEV || rc == -EPERM);
		assert_null(c.peers);
		wg_genl_close(g);
	} else {
		assert_int_equal(rc, -EOPNOTSUPP);
		assert_non_null(strstr(err.msg, "wireguard"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family),	   cmocka_unit_test(test_set_walk),
		cmocka_unit_test(test_set_errors), cmocka_unit_test(test_set_split),
		cmocka_unit_test(test_get_parse),  cmocka_unit_test(test_get_parse_errors),
		cmocka_unit_test(test_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
