// SPDX-License-Identifier: Apache-2.0
/*
 * wg/uapi: the cross-platform userspace protocol. The WG_* request texts
 * are what `wg` (Debian wireguard-tools v1.0.20210914) sent to a fake
 * userspace device on /var/run/wireguard/wgt0.sock (in a private mount
 * namespace); GET_REPLY is what wg_uapi_format_get wrote for that fake,
 * which `wg show`, `wg showconf` and `wg show dump` displayed correctly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "wg/uapi.h"

#define PUB40 "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
#define PUB60 "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
#define PRIV "f0a1ad659e4d076c11845fc5ef26d11f790f7083c868fe4848bd181c9d994e43"
#define PSK "9843f22017c8e1a1ea57a10e6769010d2e67c0d442bea04ecebd264ba06f4b13"

/* wg show wgt0 */
static const char WG_GET[] = "get=1\n\n";
/* wg set wgt0 peer QEFC...Xl8= remove */
static const char WG_REMOVE[] = "set=1\npublic_key=" PUB40 "\nremove=true\n\n";
/* wg set wgt0 peer YGFi...fn8= allowed-ips 10.5.2.0/24,fd00::/64,0.0.0.0/0
 *   endpoint [2001:db8::9]:51822 persistent-keepalive 25 */
static const char WG_ALLOWED[] = "set=1\npublic_key=" PUB60 "\n"
				 "endpoint=[2001:db8::9]:51822\n"
				 "persistent_keepalive_interval=25\n"
				 "replace_allowed_ips=true\n"
				 "allowed_ip=10.5.2.0/24\n"
				 "allowed_ip=fd00::/64\n"
				 "allowed_ip=0.0.0.0/0\n\n";
/* wg set wgt0 listen-port 51999 fwmark 0x20 peer YGFi...fn8= allowed-ips ""
 *   endpoint 10.0.0.1:1 persistent-keepalive off */
static const char WG_CLEAR[] = "set=1\nlisten_port=51999\nfwmark=32\npublic_key=" PUB60 "\n"
			       "endpoint=10.0.0.1:1\n"
			       "persistent_keepalive_interval=0\n"
			       "replace_allowed_ips=true\n\n";
/* wg set wgt0 private-key FILE peer YGFi...fn8= preshared-key FILE */
static const char WG_KEYS[] = "set=1\nprivate_key=" PRIV "\npublic_key=" PUB60 "\n"
			      "preshared_key=" PSK "\n\n";
/* wg setconf wgt0 FILE */
static const char WG_SETCONF[] = "set=1\nprivate_key=" PRIV "\nlisten_port=51820\nfwmark=0\n"
				 "replace_peers=true\npublic_key=" PUB60 "\n"
				 "endpoint=192.168.1.3:51820\n"
				 "replace_allowed_ips=true\n"
				 "allowed_ip=10.5.2.0/24\n\n";
/* wg syncconf wgt0 FILE (after its get) */
static const char WG_SYNCCONF[] = "set=1\nprivate_key=" PRIV "\nlisten_port=51820\nfwmark=0\n"
				  "public_key=" PUB40 "\nremove=true\n"
				  "public_key=" PUB60 "\n"
				  "endpoint=192.168.1.3:51820\n"
				  "replace_allowed_ips=true\n"
				  "allowed_ip=10.5.2.0/24\n\n";

static const char GET_REPLY[] =
	"private_key=101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e6f\n"
	"listen_port=51820\n"
	"fwmark=81\n"
	"public_key=" PUB40 "\n"
	"preshared_key=808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f\n"
	"protocol_version=1\n"
	"endpoint=192.168.1.2:51820\n"
	"last_handshake_time_sec=1700000000\n"
	"last_handshake_time_nsec=5\n"
	"tx_bytes=5678\n"
	"rx_bytes=1234\n"
	"persistent_keepalive_interval=25\n"
	"allowed_ip=10.5.1.0/24\n"
	"allowed_ip=fd00:5:1::/64\n"
	"public_key=" PUB60 "\n"
	"preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
	"protocol_version=1\n"
	"endpoint=[2001:db8::2]:51821\n"
	"last_handshake_time_sec=0\n"
	"last_handshake_time_nsec=0\n"
	"tx_bytes=0\n"
	"rx_bytes=0\n"
	"persistent_keepalive_interval=0\n"
	"allowed_ip=10.5.2.7/32\n"
	"errno=0\n\n";

static void key(uint8_t k[WG_KEY_LEN], uint8_t v)
{
	for (int i = 0; i < WG_KEY_LEN; i++)
		k[i] = (uint8_t)(v + i);
}

static int parse(const char *text, enum wg_uapi_op *op, struct wg_device_config *c, struct err *err)
{
	memset(err, 0, sizeof(*err));
	return wg_uapi_parse(text, strlen(text), op, c, err);
}

static const char *fmt_aip(const struct wg_allowed_ip *a)
{
	static char buf[64];

	return wg_allowed_ip_format(a, buf, sizeof(buf));
}

static const char *fmt_ep(const union wg_endpoint *e)
{
	static char buf[80];

	return wg_endpoint_format(e, buf, sizeof(buf));
}

static void test_wg_requests(void **st)
{
	struct wg_device_config c;
	enum wg_uapi_op op;
	struct err err;
	uint8_t k[WG_KEY_LEN];

	(void)st;
	assert_int_equal(parse(WG_GET, &op, &c, &err), 0);
	assert_int_equal(op, WG_UAPI_GET);
	assert_int_equal(c.n_peers, 0);

	assert_int_equal(parse(WG_REMOVE, &op, &c, &err), 0);
	assert_int_equal(op, WG_UAPI_SET);
	assert_int_equal(c.flags, 0);
	assert_int_equal(c.n_peers, 1);
	key(k, 0x40);
	assert_memory_equal(c.peers[0].pub, k, WG_KEY_LEN);
	assert_int_equal(c.peers[0].flags, WG_PEER_REMOVE);
	wg_device_config_clear(&c);

	assert_int_equal(parse(WG_ALLOWED, &op, &c, &err), 0);
	assert_int_equal(c.n_peers, 1);
	key(k, 0x60);
	assert_memory_equal(c.peers[0].pub, k, WG_KEY_LEN);
	assert_int_equal(c.peers[0].flags, WG_PEER_REPLACE_ALLOWED_IPS | WG_PEER_HAS_KEEPALIVE);
	assert_int_equal(c.peers[0].keepalive_s, 25);
	assert_string_equal(fmt_ep(&c.peers[0].endpoint), "[2001:db8::9]:51822");
	assert_int_equal(c.peers[0].n_allowed, 3);
	assert_string_equal(fmt_aip(&c.peers[0].allowed[0]), "10.5.2.0/24");
	assert_string_equal(fmt_aip(&c.peers[0].allowed[1]), "fd00::/64");
	assert_string_equal(fmt_aip(&c.peers[0].allowed[2]), "0.0.0.0/0");
	wg_device_config_clear(&c);

	assert_int_equal(parse(WG_CLEAR, &op, &c, &err), 0);
	assert_int_equal(c.flags, WG_DEV_HAS_PORT | WG_DEV_HAS_FWMARK);
	assert_int_equal(c.port, 51999);
	assert_int_equal(c.fwmark, 0x20);
	assert_int_equal(c.peers[0].flags, WG_PEER_REPLACE_ALLOWED_IPS | WG_PEER_HAS_KEEPALIVE);
	assert_int_equal(c.peers[0].keepalive_s, 0);
	assert_int_equal(c.peers[0].n_allowed, 0);
	assert_string_equal(fmt_ep(&c.peers[0].endpoint), "10.0.0.1:1");
	wg_device_config_clear(&c);

	assert_int_equal(parse(WG_KEYS, &op, &c, &err), 0);
	assert_int_equal(c.flags, WG_DEV_HAS_PRIVATE);
	assert_int_equal(c.priv[0], 0xf0);
	assert_int_equal(c.priv[31], 0x43);
	assert_int_equal(c.peers[0].flags, WG_PEER_HAS_PSK);
	assert_int_equal(c.peers[0].psk[0], 0x98);
	assert_int_equal(c.peers[0].psk[31], 0x13);
	assert_int_equal(c.peers[0].endpoint.sa.sa_family, AF_UNSPEC);
	wg_device_config_clear(&c);

	assert_int_equal(parse(WG_SETCONF, &op, &c, &err), 0);
	assert_int_equal(c.flags, WG_DEV_HAS_PRIVATE | WG_DEV_HAS_PORT | WG_DEV_HAS_FWMARK |
					  WG_DEV_REPLACE_PEERS);
	assert_int_equal(c.fwmark, 0);
	assert_int_equal(c.n_peers, 1);
	wg_device_config_clear(&c);

	assert_int_equal(parse(WG_SYNCCONF, &op, &c, &err), 0);
	assert_int_equal(c.flags & WG_DEV_REPLACE_PEERS, 0);
	assert_int_equal(c.n_peers, 2);
	assert_int_equal(c.peers[0].flags, WG_PEER_REMOVE);
	assert_string_equal(fmt_ep(&c.peers[1].endpoint), "192.168.1.3:51820");
	wg_device_config_clear(&c);
}

static void test_every_key(void **st)
{
	static const char req[] = "set=1\n"
				  "private_key=" PRIV "\n"
				  "listen_port=0\n"
				  "fwmark=4294967295\n"
				  "replace_peers=true\n"
				  "public_key=" PUB40 "\n"
				  "update_only=true\n"
				  "protocol_version=1\n"
				  "preshared_key=" PSK "\n"
				  "endpoint=[fe80::1%7]:65535\n"
				  "persistent_keepalive_interval=65535\n"
				  "replace_allowed_ips=true\n"
				  "allowed_ip=10.1.2.3/8\n"
				  "allowed_ip=::/0\n"
				  "allowed_ip=FD00::1/128\n"
				  "public_key=" PUB60 "\n"
				  "remove=true\n"
				  "\n";
	struct wg_device_config c;
	enum wg_uapi_op op;
	struct err err;
	struct wg_peer_config *p;

	(void)st;
	assert_int_equal(parse(req, &op, &c, &err), 0);
	assert_int_equal(c.flags, WG_DEV_HAS_PRIVATE | WG_DEV_HAS_PORT | WG_DEV_HAS_FWMARK |
					  WG_DEV_REPLACE_PEERS);
	assert_int_equal(c.port, 0);
	assert_int_equal(c.fwmark, 0xffffffffu);
	assert_int_equal(c.n_peers, 2);
	p = &c.peers[0];
	assert_int_equal(p->flags, WG_PEER_UPDATE_ONLY | WG_PEER_HAS_PSK | WG_PEER_HAS_KEEPALIVE |
					   WG_PEER_REPLACE_ALLOWED_IPS);
	assert_int_equal(p->keepalive_s, 65535);
	assert_string_equal(fmt_ep(&p->endpoint), "[fe80::1%7]:65535");
	assert_int_equal(p->n_allowed, 3);
	assert_string_equal(fmt_aip(&p->allowed[0]), "10.0.0.0/8"); /* network form */
	assert_string_equal(fmt_aip(&p->allowed[1]), "::/0");
	assert_string_equal(fmt_aip(&p->allowed[2]), "fd00::1/128");
	assert_int_equal(c.peers[1].flags, WG_PEER_REMOVE);
	wg_device_config_clear(&c);

	/* Upper-case hex keys are accepted. */
	assert_int_equal(parse("set=1\npublic_key=ABCDEF0123456789abcdef0123456789"
			       "ABCDEF0123456789abcdef0123456789\n\n",
			       &op, &c, &err),
			 0);
	assert_int_equal(c.peers[0].pub[0], 0xab);
	wg_device_config_clear(&c);
}

struct bad {
	const char *text;
	int rc;
	const char *msg; /* a part of err */
};

static void test_errors(void **st)
{
	static const struct bad bad[] = {
		{"", -EINVAL, "not terminated"},
		{"\n", -EINVAL, "empty"},
		{"get=1\n", -EINVAL, "not terminated"},
		{"get=1", -EINVAL, "not terminated"},
		{"get=2\n\n", -EPROTO, "version"},
		{"put=1\n\n", -EPROTO, "unknown operation \"put\""},
		{"get=1\nlisten_port=1\n\n", -EINVAL, "get takes no keys"},
		{"get=1\n\nget=1\n\n", -EINVAL, "after the empty line"},
		{"set=1\nfoo=bar\n\n", -EINVAL, "line 2: unknown key \"foo\""},
		{"set=1\npublic_key=" PUB40 "\nlisten_port=1\n\n", -EINVAL,
		 "unknown key \"listen_port\" (in a peer)"},
		{"set=1\nremove=true\n\n", -EINVAL, "unknown key \"remove\" (before any"},
		{"set=1\nlisten_port\n\n", -EINVAL, "no '='"},
		{"set=1\n=5\n\n", -EINVAL, "empty key"},
		{"set=1\nlisten_port=65536\n\n", -EINVAL, "out of range 0..65535"},
		{"set=1\nlisten_port=-1\n\n", -EINVAL, "not a decimal"},
		{"set=1\nlisten_port=+1\n\n", -EINVAL, "not a decimal"},
		{"set=1\nlisten_port= 1\n\n", -EINVAL, "not a decimal"},
		{"set=1\nlisten_port=\n\n", -EINVAL, "empty value"},
		{"set=1\nfwmark=4294967296\n\n", -EINVAL, "out of range"},
		{"set=1\nfwmark=99999999999999999999999\n\n", -EINVAL, "out of range"},
		{"set=1\nreplace_peers=false\n\n", -EINVAL, "only \"true\""},
		{"set=1\nprivate_key=" PUB40 "0\n\n", -EINVAL, "not 64 hex digits"},
		{"set=1\nprivate_key=x" PUB40 "\n\n", -EINVAL, "not 64 hex digits"},
		{"set=1\nprivate_key=\n\n", -EINVAL, "not 64 hex digits"},
		{"set=1\npublic_key=" PUB40 "\npersistent_keepalive_interval=65536\n\n", -EINVAL,
		 "out of range"},
		{"set=1\npublic_key=" PUB40 "\nprotocol_version=2\n\n", -EPROTO,
		 "protocol_version"},
		{"set=1\npublic_key=" PUB40 "\nremove=1\n\n", -EINVAL, "only \"true\""},
		{"set=1\npublic_key=" PUB40 "\nupdate_only=yes\n\n", -EINVAL, "only \"true\""},
		{"set=1\npublic_key=" PUB40 "\nreplace_allowed_ips=\n\n", -EINVAL, "only"},
		{"set=1\npublic_key=" PUB40 "\nendpoint=1.2.3.4\n\n", -EINVAL, "endpoint"},
		{"set=1\npublic_key=" PUB40 "\nendpoint=1.2.3.4:0\n\n", -EINVAL, "port 0"},
		{"set=1\npublic_key=" PUB40 "\nendpoint=1.2.3.4:65536\n\n", -EINVAL, "range"},
		{"set=1\npublic_key=" PUB40 "\nendpoint=1.2.3:5\n\n", -EINVAL, "IPv4"},
		{"set=1\npublic_key=" PUB40 "\nendpoint=example.com:5\n\n", -EINVAL, "IPv4"},
		{"set=1\npublic_key=" PUB40 "\nendpoint=::1:5\n\n", -EINVAL, "IPv4"},
		{"set=1\npublic_key=" PUB40 "\nendpoint=[::1]5\n\n", -EINVAL, "[address]"},
		{"set=1\npublic_key=" PUB40 "\nendpoint=[::1\n\n", -EINVAL, "[address]"},
		{"set=1\npublic_key=" PUB40 "\nendpoint=[1.2.3.4]:5\n\n", -EINVAL, "IPv6"},
		{"set=1\npublic_key=" PUB40 "\nendpoint=[fe80::1%eth0]:5\n\n", -EINVAL, "scope id"},
		{"set=1\npublic_key=" PUB40 "\nendpoint=[]:5\n\n", -EINVAL, "IPv6"},
		{"set=1\npublic_key=" PUB40 "\nallowed_ip=10.0.0.0\n\n", -EINVAL, "address/cidr"},
		{"set=1\npublic_key=" PUB40 "\nallowed_ip=10.0.0.0/33\n\n", -EINVAL, "0..32"},
		{"set=1\npublic_key=" PUB40 "\nallowed_ip=::/129\n\n", -EINVAL, "0..128"},
		{"set=1\npublic_key=" PUB40 "\nallowed_ip=10.0.0.0/\n\n", -EINVAL, "empty"},
		{"set=1\npublic_key=" PUB40 "\nallowed_ip=10.0.0.0/-1\n\n", -EINVAL, "decimal"},
		{"set=1\npublic_key=" PUB40 "\nallowed_ip=/8\n\n", -EINVAL, "bad address"},
		{"set=1\npublic_key=" PUB40 "\nallowed_ip=10.0.0.256/8\n\n", -EINVAL, "IPv4"},
		{"set=1\npublic_key=" PUB40 "\nallowed_ip=fd00::g/8\n\n", -EINVAL, "IPv6"},
		{"set=1\nlisten_port=1\n", -EINVAL, "not terminated"},
		{"set=1\r\n\n", -EPROTO, "version"},
	};
	struct wg_device_config c;
	enum wg_uapi_op op;
	struct err err;

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i].text, &op, &c, &err);

		if (rc != bad[i].rc || !strstr(err.msg, bad[i].msg))
			fail_msg("case %zu (%s): rc %d, err \"%s\"; want %d, \"%s\"", i,
				 bad[i].text, rc, err.msg, bad[i].rc, bad[i].msg);
		assert_int_equal(c.n_peers, 0);
		assert_null(c.peers);
	}
}

static void test_errors_bytes(void **st)
{
	char *big, line[400];
	struct wg_device_config c;
	enum wg_uapi_op op;
	struct err err;
	int rc;

	(void)st;
	/* A NUL inside a line. */
	memset(&err, 0, sizeof(err));
	rc = wg_uapi_parse("set=1\nfoo\0=1\n\n", 14, &op, &c, &err);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err.msg, "NUL"));
	/* A line too long. */
	memset(line, 'a', sizeof(line));
	memcpy(line, "set=1\nendpoint=", 15);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\n';
	rc = wg_uapi_parse(line, sizeof(line), &op, &c, &err);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err.msg, "line 2: longer than"));
	/* A request too long. */
	big = calloc(1, WG_UAPI_MAX_REQUEST + 2);
	rc = wg_uapi_parse(big, WG_UAPI_MAX_REQUEST + 1, &op, &c, &err);
	assert_int_equal(rc, -EMSGSIZE);
	free(big);
	/* An unknown key that is long or not lowercase letters: not shown (it
	 * may be a key that lost its line). */
	rc = parse("set=1\nabcdefghijklmnopqrstuvwxyzabcdefghijklmnop=1\n\n", &op, &c, &err);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err.msg, "unknown key (42 bytes, not shown)"));
	rc = parse("set=1\n\x1b[31m=1\n\n", &op, &c, &err);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err.msg, "unknown key (5 bytes, not shown)"));
}

static void test_no_key_in_err(void **st)
{
	static const char *const reqs[] = {
		"set=1\nprivate_key=" PRIV "0\n\n",
		"set=1\nprivate_key=" PRIV "\nlisten_port=x\n\n",
		"set=1\npublic_key=" PUB40 "\npreshared_key=" PSK "z\n\n",
		"set=1\npublic_key=" PUB40 "\npreshared_key=" PSK "\nfoo=1\n\n",
		"set=1\nprivate_key=" PRIV "\n" PRIV "\n\n",
		"set=1\nprivate_key=" PRIV "\n" PRIV "=1\n\n",
		"set=1\nprivate_key=" PRIV "\nf0a1ad=1\n\n",
	};
	struct wg_device_config c;
	enum wg_uapi_op op;
	struct err err;

	(void)st;
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		assert_int_equal(parse(reqs[i], &op, &c, &err), -EINVAL);
		/* Not even a part of one. */
		assert_null(strstr(err.msg, "f0a1ad"));
		assert_null(strstr(err.msg, "9843f2"));
	}
}

/* The state the fake device of the capture served. */
static void fake_state(struct wg_device_config *c)
{
	struct wg_peer_config *p;
	struct wg_allowed_ip a = {.family = AF_INET, .cidr = 24};

	memset(c, 0, sizeof(*c));
	c->flags = WG_DEV_HAS_PRIVATE | WG_DEV_HAS_PORT | WG_DEV_HAS_FWMARK;
	key(c->priv, 0x10);
	c->priv[0] &= 248;
	c->priv[31] = (c->priv[31] & 127) | 64;
	c->port = 51820;
	c->fwmark = 0x51;
	p = wg_device_config_add_peer(c);
	key(p->pub, 0x40);
	key(p->psk, 0x80);
	p->endpoint.in4.sin_family = AF_INET;
	p->endpoint.in4.sin_port = htons(51820);
	inet_pton(AF_INET, "192.168.1.2", &p->endpoint.in4.sin_addr);
	p->keepalive_s = 25;
	p->last_handshake_sec = 1700000000;
	p->last_handshake_nsec = 5;
	p->rx_bytes = 1234;
	p->tx_bytes = 5678;
	inet_pton(AF_INET, "10.5.1.0", &a.addr.v4);
	wg_peer_config_add_allowed(p, &a);
	a.family = AF_INET6;
	a.cidr = 64;
	inet_pton(AF_INET6, "fd00:5:1::", &a.addr.v6);
	wg_peer_config_add_allowed(p, &a);
	p = wg_device_config_add_peer(c);
	key(p->pub, 0x60);
	p->endpoint.in6.sin6_family = AF_INET6;
	p->endpoint.in6.sin6_port = htons(51821);
	inet_pton(AF_INET6, "2001:db8::2", &p->endpoint.in6.sin6_addr);
	a.family = AF_INET;
	a.cidr = 32;
	inet_pton(AF_INET, "10.5.2.7", &a.addr.v4);
	wg_peer_config_add_allowed(p, &a);
}

static void test_format_get_golden(void **st)
{
	struct wg_device_config c, back, d;
	struct buf out;
	struct err err;

	(void)st;
	fake_state(&c);
	buf_init(&out, 1 << 16);
	wg_uapi_format_get(&c, &out);
	assert_string_equal(out.data, GET_REPLY);

	/* And back: the same state (flags say what the reply had). */
	memset(&err, 0, sizeof(err));
	assert_int_equal(wg_uapi_parse_get_reply(out.data, out.len, &back, &err), 0);
	assert_int_equal(back.flags, c.flags);
	assert_memory_equal(back.priv, c.priv, WG_KEY_LEN);
	assert_int_equal(back.port, 51820);
	assert_int_equal(back.fwmark, 0x51);
	assert_int_equal(back.n_peers, 2);
	assert_memory_equal(back.peers[0].psk, c.peers[0].psk, WG_KEY_LEN);
	assert_int_equal(back.peers[0].flags, WG_PEER_HAS_PSK | WG_PEER_HAS_KEEPALIVE);
	assert_int_equal(back.peers[0].last_handshake_sec, 1700000000);
	assert_int_equal(back.peers[0].last_handshake_nsec, 5);
	assert_int_equal(back.peers[0].rx_bytes, 1234);
	assert_int_equal(back.peers[0].tx_bytes, 5678);
	assert_int_equal(back.peers[1].n_allowed, 1);
	assert_string_equal(fmt_ep(&back.peers[1].endpoint), "[2001:db8::2]:51821");
	/* Nothing differs. */
	assert_int_equal(wg_device_config_diff(&c, &back, &d), 0);
	wg_device_config_clear(&d);
	wg_device_config_clear(&back);
	buf_free(&out);
	wg_device_config_clear(&c);
}

static void test_format_set_roundtrip(void **st)
{
	struct wg_device_config c, back;
	enum wg_uapi_op op;
	struct buf out;
	struct err err;

	(void)st;
	fake_state(&c);
	c.flags |= WG_DEV_REPLACE_PEERS;
	c.peers[0].flags = WG_PEER_HAS_PSK | WG_PEER_HAS_KEEPALIVE | WG_PEER_UPDATE_ONLY |
			   WG_PEER_REPLACE_ALLOWED_IPS;
	c.peers[1].flags = WG_PEER_REMOVE;
	buf_init(&out, 1 << 16);
	wg_uapi_format_set(&c, &out);
	assert_int_equal(parse(out.data, &op, &back, &err), 0);
	assert_int_equal(op, WG_UAPI_SET);
	assert_int_equal(back.flags, c.flags);
	assert_int_equal(back.n_peers, 2);
	assert_int_equal(back.peers[0].flags, c.peers[0].flags);
	assert_int_equal(back.peers[0].n_allowed, 2);
	assert_int_equal(back.peers[0].keepalive_s, 25);
	assert_memory_equal(back.peers[0].psk, c.peers[0].psk, WG_KEY_LEN);
	assert_int_equal(back.peers[1].flags, WG_PEER_REMOVE);
	assert_int_equal(back.peers[1].n_allowed, 0); /* remove says nothing else */
	wg_device_config_clear(&back);
	/* The captured setconf text goes through unchanged in substance. */
	assert_int_equal(parse(WG_SETCONF, &op, &back, &err), 0);
	buf_reset(&out);
	wg_uapi_format_set(&back, &out);
	assert_string_equal(out.data, WG_SETCONF);
	wg_device_config_clear(&back);
	buf_free(&out);
	wg_device_config_clear(&c);
}

static void test_errno(void **st)
{
	struct wg_device_config c;
	struct buf out;
	struct err err;

	(void)st;
	buf_init(&out, 64);
	wg_uapi_format_errno(0, &out);
	assert_string_equal(out.data, "errno=0\n\n");
	buf_reset(&out);
	wg_uapi_format_errno(-EINVAL, &out);
	assert_string_equal(out.data, "errno=22\n\n");
	memset(&err, 0, sizeof(err));
	assert_int_equal(wg_uapi_parse_get_reply(out.data, out.len, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "device answered"));
	buf_free(&out);
}

static void test_get_reply_errors(void **st)
{
	static const struct bad bad[] = {
		{"", -EINVAL, "not terminated"},
		{"\n", -EPROTO, "without errno"},
		{"listen_port=1\n\n", -EPROTO, "without errno"},
		{"errno=0\n", -EINVAL, "not terminated"},
		{"errno=0\nlisten_port=1\n\n", -EINVAL, "after errno"},
		{"errno=0\n\nx", -EINVAL, "after the empty line"},
		{"errno=5000\n\n", -EPROTO, "out of range"},
		{"errno=-1\n\n", -EINVAL, "decimal"},
		{"rx_bytes=1\nerrno=0\n\n", -EINVAL, "before any public_key"},
		{"public_key=" PUB40 "\nlisten_port=1\nerrno=0\n\n", -EINVAL, "after a peer"},
		{"public_key=" PUB40 "\nrx_bytes=18446744073709551616\nerrno=0\n\n", -EINVAL,
		 "range"},
		{"public_key=" PUB40 "\nlast_handshake_time_nsec=1000000000\nerrno=0\n\n", -EINVAL,
		 "range"},
		{"public_key=" PUB40 "\nprotocol_version=2\nerrno=0\n\n", -EPROTO, "protocol"},
	};
	struct wg_device_config c;
	struct err err;

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		int rc = wg_uapi_parse_get_reply(bad[i].text, strlen(bad[i].text), &c, &err);

		if (rc != bad[i].rc || !strstr(err.msg, bad[i].msg))
			fail_msg("case %zu (%s): rc %d, err \"%s\"; want %d, \"%s\"", i,
				 bad[i].text, rc, err.msg, bad[i].rc, bad[i].msg);
		assert_null(c.peers);
	}
	/* Unknown keys are skipped, as wg does (a newer implementation may
	 * send more). */
	assert_int_equal(wg_uapi_parse_get_reply("future=1\npublic_key=" PUB40
						 "\nfuture_peer=2\nrx_bytes=18446744073709551615"
						 "\nerrno=0\n\n",
						 strlen("future=1\npublic_key=" PUB40
							"\nfuture_peer=2\nrx_bytes="
							"18446744073709551615\nerrno=0\n\n"),
						 &c, &err),
			 0);
	assert_int_equal(c.n_peers, 1);
	assert_true(c.peers[0].rx_bytes == UINT64_MAX);
	wg_device_config_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wg_requests),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_errors_bytes),
		cmocka_unit_test(test_no_key_in_err),
		cmocka_unit_test(test_format_get_golden),
		cmocka_unit_test(test_format_set_roundtrip),
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_get_reply_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
