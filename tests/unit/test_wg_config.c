// SPDX-License-Identifier: Apache-2.0
/* wg/config: the configuration value and wg_device_config_diff, the minimal
 * change that brings a device from `have` to `want`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "wg/config.h"

static void key(uint8_t k[WG_KEY_LEN], uint8_t v)
{
	for (int i = 0; i < WG_KEY_LEN; i++)
		k[i] = (uint8_t)(v + i);
}

static struct wg_allowed_ip aip(const char *addr, uint8_t cidr)
{
	struct wg_allowed_ip a = {.cidr = cidr};

	if (strchr(addr, ':')) {
		a.family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &a.addr.v6), 1);
	} else {
		a.family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, &a.addr.v4), 1);
	}
	return a;
}

static void ep4(union wg_endpoint *e, const char *addr, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->in4.sin_family = AF_INET;
	e->in4.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, addr, &e->in4.sin_addr), 1);
}

static struct wg_peer_config *peer(struct wg_device_config *c, uint8_t k, const char *ep,
				   const char *net)
{
	struct wg_peer_config *p = wg_device_config_add_peer(c);
	struct wg_allowed_ip a;

	key(p->pub, k);
	if (ep)
		ep4(&p->endpoint, ep, 51820);
	if (net) {
		a = aip(net, 24);
		wg_peer_config_add_allowed(p, &a);
	}
	return p;
}

/* A desired state of three peers and the same state as a device reports
 * it (counters set, order different). */
static void state(struct wg_device_config *want, struct wg_device_config *have)
{
	memset(want, 0, sizeof(*want));
	memset(have, 0, sizeof(*have));
	want->flags = WG_DEV_HAS_PRIVATE | WG_DEV_HAS_PORT;
	key(want->priv, 1);
	want->port = 51820;
	peer(want, 0x10, "192.168.1.2", "10.5.2.0");
	peer(want, 0x20, "192.168.1.3", "10.5.3.0");
	peer(want, 0x30, NULL, "10.5.4.0");

	have->flags = WG_DEV_HAS_PRIVATE | WG_DEV_HAS_PORT;
	key(have->priv, 1);
	have->port = 51820;
	peer(have, 0x30, "203.0.113.9", "10.5.4.0")->rx_bytes = 7; /* roamed: fine */
	peer(have, 0x20, "192.168.1.3", "10.5.3.0")->last_handshake_sec = 99;
	peer(have, 0x10, "192.168.1.2", "10.5.2.0");
}

static void test_in_sync(void **st)
{
	struct wg_device_config want, have, d;

	(void)st;
	state(&want, &have);
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 0);
	assert_int_equal(d.n_peers, 0);
	assert_int_equal(d.flags, 0);
	wg_device_config_clear(&d);
	/* Empty against empty. */
	wg_device_config_clear(&want);
	wg_device_config_clear(&have);
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 0);
	wg_device_config_clear(&d);
}

static void test_peer_added_and_removed(void **st)
{
	struct wg_device_config want, have, d;
	struct wg_peer_config *p;

	(void)st;
	state(&want, &have);
	peer(&want, 0x40, "192.168.1.5", "10.5.5.0")->keepalive_s = 25;
	peer(&have, 0x50, "192.168.1.6", "10.5.6.0");
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 2);
	assert_int_equal(d.n_peers, 2);
	assert_int_equal(d.flags & WG_DEV_REPLACE_PEERS, 0);
	/* The stale one first, removed and nothing else. */
	p = &d.peers[0];
	assert_int_equal(p->pub[0], 0x50);
	assert_int_equal(p->flags, WG_PEER_REMOVE);
	assert_int_equal(p->n_allowed, 0);
	/* The new one with its whole desired state. */
	p = &d.peers[1];
	assert_int_equal(p->pub[0], 0x40);
	assert_int_equal(p->flags,
			 WG_PEER_REPLACE_ALLOWED_IPS | WG_PEER_HAS_PSK | WG_PEER_HAS_KEEPALIVE);
	assert_int_equal(p->keepalive_s, 25);
	assert_int_equal(p->endpoint.sa.sa_family, AF_INET);
	assert_int_equal(p->n_allowed, 1);
	assert_ptr_not_equal(p->allowed, want.peers[3].allowed); /* a copy */
	wg_device_config_clear(&d);
	wg_device_config_clear(&want);
	wg_device_config_clear(&have);
}

static void test_changed_peer(void **st)
{
	struct wg_device_config want, have, d;
	struct wg_peer_config *p;
	struct wg_allowed_ip a = aip("10.6.0.0", 16);

	(void)st;
	/* endpoint */
	state(&want, &have);
	ep4(&have.peers[2].endpoint, "192.168.1.2", 51821);
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 1);
	assert_int_equal(d.peers[0].pub[0], 0x10);
	assert_int_equal(ntohs(d.peers[0].endpoint.in4.sin_port), 51820);
	wg_device_config_clear(&d);
	/* and the address, not the port */
	ep4(&have.peers[2].endpoint, "192.168.1.9", 51820);
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 1);
	wg_device_config_clear(&d);
	/* and the family */
	memset(&have.peers[2].endpoint, 0, sizeof(have.peers[2].endpoint));
	have.peers[2].endpoint.in6.sin6_family = AF_INET6;
	have.peers[2].endpoint.in6.sin6_port = htons(51820);
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 1);
	wg_device_config_clear(&d);
	wg_device_config_clear(&want);
	wg_device_config_clear(&have);

	/* psk: set, changed by one bit, removed */
	state(&want, &have);
	key(want.peers[1].psk, 0x77);
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 1);
	p = &d.peers[0];
	assert_int_equal(p->pub[0], 0x20);
	assert_true(p->flags & WG_PEER_HAS_PSK);
	assert_memory_equal(p->psk, want.peers[1].psk, WG_KEY_LEN);
	wg_device_config_clear(&d);
	key(have.peers[1].psk, 0x77);
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 0);
	wg_device_config_clear(&d);
	have.peers[1].psk[31] ^= 1;
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 1);
	wg_device_config_clear(&d);
	memset(want.peers[1].psk, 0, WG_KEY_LEN);
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 1);
	assert_true(d.peers[0].flags & WG_PEER_HAS_PSK); /* all zero: removed */
	for (int i = 0; i < WG_KEY_LEN; i++)
		assert_int_equal(d.peers[0].psk[i], 0);
	wg_device_config_clear(&d);
	wg_device_config_clear(&want);
	wg_device_config_clear(&have);

	/* keepalive */
	state(&want, &have);
	want.peers[0].keepalive_s = 25;
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 1);
	assert_int_equal(d.peers[0].keepalive_s, 25);
	wg_device_config_clear(&d);
	wg_device_config_clear(&want);
	wg_device_config_clear(&have);

	/* allowed IPs: one more, one fewer, a different cidr */
	state(&want, &have);
	wg_peer_config_add_allowed(&want.peers[0], &a);
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 1);
	assert_int_equal(d.peers[0].n_allowed, 2);
	assert_true(d.peers[0].flags & WG_PEER_REPLACE_ALLOWED_IPS);
	wg_device_config_clear(&d);
	wg_peer_config_add_allowed(&have.peers[2], &a);
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 0);
	wg_device_config_clear(&d);
	have.peers[2].allowed[1].cidr = 17;
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 1);
	wg_device_config_clear(&d);
	have.peers[2].n_allowed = 1;
	want.peers[0].n_allowed = 0;
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 1);
	assert_int_equal(d.peers[0].n_allowed, 0);
	assert_true(d.peers[0].flags & WG_PEER_REPLACE_ALLOWED_IPS); /* clears them */
	wg_device_config_clear(&d);
	wg_device_config_clear(&want);
	wg_device_config_clear(&have);
}

static void test_allowed_as_sets(void **st)
{
	struct wg_device_config want, have, d;
	struct wg_allowed_ip a[] = {aip("10.5.2.0", 24), aip("fd00:5:2::", 64),
				    aip("10.7.0.0", 16)};
	struct wg_allowed_ip host_bits = aip("10.5.2.77", 24), dup = aip("10.7.0.0", 16);

	(void)st;
	state(&want, &have);
	want.peers[0].n_allowed = 0;
	have.peers[2].n_allowed = 0;
	for (int i = 0; i < 3; i++)
		wg_peer_config_add_allowed(&want.peers[0], &a[i]);
	for (int i = 2; i >= 0; i--)
		wg_peer_config_add_allowed(&have.peers[2], &a[i]);
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 0); /* order */
	wg_device_config_clear(&d);
	/* Compared in network form, duplicates collapse. */
	want.peers[0].allowed[0] = host_bits;
	wg_peer_config_add_allowed(&want.peers[0], &dup);
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 0);
	wg_device_config_clear(&d);
	/* But a v6 /64 is not the v4 one. */
	want.peers[0].allowed[1] = aip("fd00:5:3::", 64);
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 1);
	wg_device_config_clear(&d);
	wg_device_config_clear(&want);
	wg_device_config_clear(&have);
}

static void test_device_fields(void **st)
{
	struct wg_device_config want, have, d;

	(void)st;
	state(&want, &have);
	key(want.priv, 9);
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 1);
	assert_int_equal(d.flags, WG_DEV_HAS_PRIVATE);
	assert_memory_equal(d.priv, want.priv, WG_KEY_LEN);
	assert_int_equal(d.n_peers, 0);
	wg_device_config_clear(&d);
	want.port = 51821;
	want.flags |= WG_DEV_HAS_FWMARK;
	want.fwmark = 0x42;
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 3);
	assert_int_equal(d.flags, WG_DEV_HAS_PRIVATE | WG_DEV_HAS_PORT | WG_DEV_HAS_FWMARK);
	assert_int_equal(d.port, 51821);
	assert_int_equal(d.fwmark, 0x42);
	wg_device_config_clear(&d);
	/* Not wanted: not compared. */
	want.flags = 0;
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 0);
	wg_device_config_clear(&d);
	wg_device_config_clear(&want);
	wg_device_config_clear(&have);
}

static void test_many_peers(void **st)
{
	struct wg_device_config want = {0}, have = {0}, d;
	char net[32];

	(void)st;
	/* 2000 peers each way, reversed: the lookups must not be quadratic
	 * to pass quickly, and all are in sync. */
	for (int i = 0; i < 2000; i++) {
		struct wg_peer_config *p = wg_device_config_add_peer(&want);

		p->pub[0] = (uint8_t)(i >> 8);
		p->pub[1] = (uint8_t)i;
		snprintf(net, sizeof(net), "10.%d.%d.0", 100 + i / 256, i % 256);
		struct wg_allowed_ip a = aip(net, 24);
		wg_peer_config_add_allowed(p, &a);
	}
	for (int i = 1999; i >= 0; i--) {
		struct wg_peer_config *p = wg_device_config_add_peer(&have);

		memcpy(p->pub, want.peers[i].pub, WG_KEY_LEN);
		wg_peer_config_add_allowed(p, &want.peers[i].allowed[0]);
	}
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 0);
	wg_device_config_clear(&d);
	have.peers[5].allowed[0].cidr = 23;
	assert_int_equal(wg_device_config_diff(&want, &have, &d), 1);
	assert_memory_equal(d.peers[0].pub, have.peers[5].pub, WG_KEY_LEN);
	wg_device_config_clear(&d);
	wg_device_config_clear(&want);
	wg_device_config_clear(&have);
}

static void test_find_and_format(void **st)
{
	struct wg_device_config c = {0};
	struct wg_allowed_ip a = aip("10.5.2.77", 24), b = aip("fd00:0:0:1::5", 64);
	union wg_endpoint e = {0};
	uint8_t k[WG_KEY_LEN];
	char buf[80];

	(void)st;
	peer(&c, 0x10, NULL, NULL);
	peer(&c, 0x20, NULL, NULL);
	key(k, 0x20);
	assert_ptr_equal(wg_device_config_find(&c, k), &c.peers[1]);
	key(k, 0x30);
	assert_null(wg_device_config_find(&c, k));
	assert_string_equal(wg_allowed_ip_format(&a, buf, sizeof(buf)), "10.5.2.0/24");
	assert_string_equal(wg_allowed_ip_format(&b, buf, sizeof(buf)), "fd00:0:0:1::/64");
	assert_string_equal(wg_endpoint_format(&e, buf, sizeof(buf)), "(none)");
	ep4(&e, "192.0.2.1", 51820);
	assert_string_equal(wg_endpoint_format(&e, buf, sizeof(buf)), "192.0.2.1:51820");
	memset(&e, 0, sizeof(e));
	e.in6.sin6_family = AF_INET6;
	e.in6.sin6_port = htons(1);
	inet_pton(AF_INET6, "fe80::1", &e.in6.sin6_addr);
	assert_string_equal(wg_endpoint_format(&e, buf, sizeof(buf)), "[fe80::1]:1");
	e.in6.sin6_scope_id = 3;
	assert_string_equal(wg_endpoint_format(&e, buf, sizeof(buf)), "[fe80::1%3]:1");
	wg_device_config_clear(&c);
	assert_null(c.peers);
	assert_int_equal(c.n_peers, 0);
	wg_device_config_clear(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_sync),
		cmocka_unit_test(test_peer_added_and_removed),
		cmocka_unit_test(test_changed_peer),
		cmocka_unit_test(test_allowed_as_sets),
		cmocka_unit_test(test_device_fields),
		cmocka_unit_test(test_many_peers),
		cmocka_unit_test(test_find_and_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
