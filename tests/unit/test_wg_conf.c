// SPDX-License-Identifier: Apache-2.0
/* backend/wg_conf: the wireguard backend's options, its lease data and the
 * `auto` mode's endpoint choice (flannel.md §7.7). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "backend/wg_conf.h"
#include "core/err.h"
#include "core/ipnet.h"

/* `wg genpsk` output and the 32 bytes it stands for. */
static const char psk_b64[] = "mEPyIBfI4aHqV6EOZ2kBDS5nwNRCvqBOzr0mS6BvSxM=";

static int parse(const char *json, struct wg_conf *c, struct err *err)
{
	memset(err, 0, sizeof(*err));
	return wg_conf_parse(json, 1500, c, err);
}

static void test_defaults(void **state)
{
	struct wg_conf c;
	struct err err;

	(void)state;
	assert_int_equal(parse(NULL, &c, &err), 0);
	assert_int_equal(c.port, 51820);
	assert_int_equal(c.port_v6, 51821);
	assert_false(c.has_psk);
	assert_int_equal(c.mtu, 1500); /* the interface's: FLANNEL_MTU 1420 */
	assert_int_equal(c.mtu - WG_OVERHEAD, 1420);
	assert_int_equal(c.keepalive_s, 0);
	assert_int_equal(c.mode, WG_MODE_SEPARATE);
	assert_string_equal(wg_mode_name(c.mode), "separate");
	assert_int_equal(parse("{\"Type\":\"wireguard\"}", &c, &err), 0);
	assert_int_equal(c.port, 51820);
	/* null leaves the default, as Go's decoder does */
	assert_int_equal(parse("{\"ListenPort\":null,\"Mode\":null}", &c, &err), 0);
	assert_int_equal(c.port, 51820);
	assert_int_equal(c.mode, WG_MODE_SEPARATE);
}

static void test_every_key(void **state)
{
	struct wg_conf c;
	struct err err;
	char json[512];

	(void)state;
	snprintf(json, sizeof(json),
		 "{\"Type\":\"wireguard\",\"ListenPort\":5000,\"ListenPortV6\":5001,"
		 "\"PSK\":\"%s\",\"MTU\":1400,\"PersistentKeepaliveInterval\":25,"
		 "\"Mode\":\"auto\"}",
		 psk_b64);
	assert_int_equal(parse(json, &c, &err), 0);
	assert_int_equal(c.port, 5000);
	assert_int_equal(c.port_v6, 5001);
	assert_true(c.has_psk);
	assert_int_equal(c.psk[0], 0x98);
	assert_int_equal(c.psk[31], 0x13);
	assert_int_equal(c.mtu, 1400);
	assert_int_equal(c.keepalive_s, 25);
	assert_int_equal(c.mode, WG_MODE_AUTO);
	/* Keys match case-insensitively, as Go's. */
	assert_int_equal(parse("{\"listenport\":6000,\"mode\":\"ipv6\"}", &c, &err), 0);
	assert_int_equal(c.port, 6000);
	assert_int_equal(c.mode, WG_MODE_IPV6);
	assert_int_equal(parse("{\"Mode\":\"ipv4\"}", &c, &err), 0);
	assert_int_equal(c.mode, WG_MODE_IPV4);
}

static void test_bad(void **state)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{ "[1]", "Backend must be a JSON object" },
		{ "{\"ListenPort\":0}", "Backend.ListenPort must be an integer between 1 and 65535" },
		{ "{\"ListenPort\":65536}",
		  "Backend.ListenPort must be an integer between 1 and 65535" },
		{ "{\"ListenPortV6\":\"51821\"}",
		  "Backend.ListenPortV6 must be an integer between 1 and 65535" },
		{ "{\"MTU\":-1}", "Backend.MTU must be an integer between 0 and 65535" },
		{ "{\"MTU\":148}", "MTU 148 is too small for WireGuard" },
		{ "{\"PersistentKeepaliveInterval\":1.5}",
		  "Backend.PersistentKeepaliveInterval must be an integer between 0 and 65535" },
		{ "{\"Mode\":\"Separate\"}", "Backend.Mode must be one of separate, auto, ipv4, ipv6" },
		{ "{\"Mode\":7}", "Backend.Mode must be a string" },
		{ "{\"PSK\":7}", "Backend.PSK must be a string" },
	};
	struct wg_conf c;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].json, &c, &err), -EINVAL);
		assert_string_equal(err.msg, cases[i].msg);
	}
}

/* A PSK that is not a key is refused, and never echoed. */
static void test_bad_psk(void **state)
{
	static const char *const bad[] = {
		"c2VjcmV0", /* "secret": too short */
		"mEPyIBfI4aHqV6EOZ2kBDS5nwNRCvqBOzr0mS6BvSx==", /* 31 bytes */
		"mEPyIBfI4aHqV6EOZ2kBDS5nwNRCvqBOzr0mS6BvSxM",	/* no padding */
		"mEPyIBfI4aHqV6EOZ2kBDS5nwNRCvqBOzr0mS6Bv!xM=",	/* not base64 */
	};
	struct wg_conf c;
	struct err err;
	char json[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "{\"PSK\":\"%s\"}", bad[i]);
		assert_int_equal(parse(json, &c, &err), -EINVAL);
		assert_string_equal(err.msg, "Backend.PSK must be a WireGuard key: the base64 of 32 "
					     "bytes, as 'wg genpsk' prints it");
		assert_null(strstr(err.msg, bad[i]));
		assert_false(c.has_psk);
	}
}

static void test_lease_data(void **state)
{
	uint8_t pub[WG_KEY_LEN], got[WG_KEY_LEN];
	struct err err = { 0 };
	uint16_t port = 0;
	char *s;

	(void)state;
	for (int i = 0; i < WG_KEY_LEN; i++)
		pub[i] = (uint8_t)(i * 7 + 1);
	/* Upstream's json.Marshal of wireguardLeaseAttrs: PublicKey, then Port. */
	s = wg_lease_data(pub, 51820);
	assert_string_equal(s, "{\"PublicKey\":\"AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09o=\","
			       "\"Port\":51820}");
	assert_int_equal(wg_peer_data_parse(s, 1, got, &port, &err), 0);
	assert_memory_equal(got, pub, WG_KEY_LEN);
	assert_int_equal(port, 51820);
	free(s);
	/* Port 0 or none: our own listen port (older leases carry none). */
	assert_int_equal(wg_peer_data_parse("{\"publickey\":\"AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3"
					    "vsXM09o=\",\"Port\":0}",
					    51820, got, &port, &err),
			 0);
	assert_int_equal(port, 51820);
	assert_int_equal(wg_peer_data_parse("{\"PublicKey\":\"AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3"
					    "vsXM09o=\"}",
					    4242, got, &port, &err),
			 0);
	assert_int_equal(port, 4242);
}

static void test_bad_peer_data(void **state)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{ NULL, "BackendData is not a JSON object" },
		{ "null", "BackendData is not a JSON object" },
		{ "{\"VNI\":1}", "BackendData has no PublicKey of 32 bytes in base64" },
		{ "{\"PublicKey\":\"AQgP\"}", "BackendData has no PublicKey of 32 bytes in base64" },
		{ "{\"PublicKey\":\"AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09o=\",\"Port\":70000}",
		  "BackendData.Port must be an integer between 0 and 65535" },
		{ "{\"PublicKey\":\"AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09o=\",\"Port\":\"1\"}",
		  "BackendData.Port must be an integer between 0 and 65535" },
	};
	uint8_t got[WG_KEY_LEN];
	uint16_t port = 7;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(wg_peer_data_parse(cases[i].json, 1, got, &port, &err), -EINVAL);
		assert_string_equal(err.msg, cases[i].msg);
	}
	assert_int_equal(port, 7); /* untouched on error */
}

static struct ip_addr ip(const char *s)
{
	struct ip_addr a;

	assert_int_equal(ip_addr_parse(s, &a), 0);
	return a;
}

static void test_auto_family(void **state)
{
	struct ip_addr pub4 = ip("198.51.100.7"), priv4 = ip("10.1.2.3"), priv4b = ip("172.20.0.1"),
		       priv4c = ip("192.168.1.1"), not_priv = ip("172.32.0.1"),
		       pub6 = ip("2001:db8::7"), ula6 = ip("fd00::7"), own4 = ip("10.9.9.9"),
		       own6 = ip("2001:db8::1"), own_ula = ip("fc00::1");

	(void)state;
	/* No IPv6 at the peer: IPv4. No IPv4 at the peer: IPv6. */
	assert_int_equal(wg_auto_family(&pub4, NULL, &own4, &own6), AF_INET);
	assert_int_equal(wg_auto_family(NULL, &pub6, &own4, &own6), AF_INET6);
	/* A public peer IPv4 and an IPv4 of ours: IPv4. */
	assert_int_equal(wg_auto_family(&pub4, &pub6, &own4, &own6), AF_INET);
	assert_int_equal(wg_auto_family(&not_priv, &pub6, &own4, &own6), AF_INET);
	/* A private peer IPv4 (each RFC 1918 block): IPv6, when both IPv6 are not ULA. */
	assert_int_equal(wg_auto_family(&priv4, &pub6, &own4, &own6), AF_INET6);
	assert_int_equal(wg_auto_family(&priv4b, &pub6, &own4, &own6), AF_INET6);
	assert_int_equal(wg_auto_family(&priv4c, &pub6, &own4, &own6), AF_INET6);
	/* Either IPv6 a ULA, or none of ours: back to IPv4. */
	assert_int_equal(wg_auto_family(&priv4, &ula6, &own4, &own6), AF_INET);
	assert_int_equal(wg_auto_family(&priv4, &pub6, &own4, &own_ula), AF_INET);
	assert_int_equal(wg_auto_family(&priv4, &pub6, &own4, NULL), AF_INET);
	/* A public peer IPv4 but no IPv4 of ours: IPv6. */
	assert_int_equal(wg_auto_family(&pub4, &pub6, NULL, &own6), AF_INET6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),     cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_bad),	     cmocka_unit_test(test_bad_psk),
		cmocka_unit_test(test_lease_data),   cmocka_unit_test(test_bad_peer_data),
		cmocka_unit_test(test_auto_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
