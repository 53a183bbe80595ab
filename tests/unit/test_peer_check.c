// SPDX-License-Identifier: Apache-2.0
/* Which peer subnets may be routed: inside the network, clear of ours. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "core/err.h"
#include "subnet/netconf.h"
#include "subnet/peer_check.h"
#include "subnet/subnet_key.h"

static struct netconf conf(const char *json)
{
	struct netconf nc;
	struct err err = {""};

	if (netconf_load(json, strlen(json), &nc, &err) < 0)
		fail_msg("bad test config %s: %s", json, err.msg);
	return nc;
}

static struct subnet_key key(const char *s)
{
	struct subnet_key k;

	if (subnet_key_parse(s, &k, NULL) < 0)
		fail_msg("bad test key %s", s);
	return k;
}

/* 0, or the message (the test compares it). */
static const char *check(const struct netconf *nc, const char *own, const char *peer)
{
	static struct err err;
	struct subnet_key o = own ? key(own) : (struct subnet_key){0}, p = key(peer);
	int r;

	err.msg[0] = '\0';
	r = peer_subnet_check(nc, own ? &o : NULL, &p, &err);
	if (r == 0)
		return NULL;
	assert_int_equal(r, -EDOM);
	return err.msg;
}

static void test_v4(void **state)
{
	struct netconf nc =
		conf("{\"Network\":\"10.5.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}");

	(void)state;
	assert_null(check(&nc, "10.5.1.0-24", "10.5.2.0-24"));
	assert_null(check(&nc, NULL, "10.5.2.0-24"));
	/* Other lengths inside the network are fine (reservations). */
	assert_null(check(&nc, "10.5.1.0-24", "10.5.128.0-17"));
	assert_string_equal(check(&nc, "10.5.1.0-24", "128.0.0.0-1"),
			    "subnet 128.0.0.0/1 is outside the network 10.5.0.0/16");
	assert_string_equal(check(&nc, NULL, "0.0.0.0-1"),
			    "subnet 0.0.0.0/1 is outside the network 10.5.0.0/16");
	/* Larger than the network, though it contains it. */
	assert_string_equal(check(&nc, NULL, "10.4.0.0-15"),
			    "subnet 10.4.0.0/15 is outside the network 10.5.0.0/16");
	assert_string_equal(check(&nc, NULL, "10.6.0.0-24"),
			    "subnet 10.6.0.0/24 is outside the network 10.5.0.0/16");
	assert_string_equal(check(&nc, "10.5.1.0-24", "10.5.0.0-23"),
			    "subnet 10.5.0.0/23 overlaps our subnet 10.5.1.0/24");
	assert_string_equal(check(&nc, "10.5.0.0-23", "10.5.1.0-24"),
			    "subnet 10.5.1.0/24 overlaps our subnet 10.5.0.0/23");
	netconf_free(&nc);
}

static void test_v6(void **state)
{
	struct netconf nc = conf("{\"EnableIPv4\":true,\"Network\":\"10.5.0.0/16\","
				 "\"EnableIPv6\":true,\"IPv6Network\":\"fd00:5::/48\","
				 "\"Backend\":{\"Type\":\"host-gw\"}}");
	struct netconf v6only = conf("{\"EnableIPv4\":false,\"EnableIPv6\":true,"
				     "\"IPv6Network\":\"fd00:5::/48\","
				     "\"Backend\":{\"Type\":\"host-gw\"}}");

	(void)state;
	assert_null(check(&nc, "10.5.1.0-24&fd00:5:0:1::-64", "10.5.2.0-24&fd00:5:0:2::-64"));
	assert_string_equal(check(&nc, "10.5.1.0-24&fd00:5:0:1::-64", "10.5.2.0-24&::-1"),
			    "IPv6 subnet ::/1 is outside the network fd00:5::/48");
	assert_string_equal(check(&nc, "10.5.1.0-24&fd00:5:0:1::-64", "10.5.2.0-24&fd00:5::-56"),
			    "IPv6 subnet fd00:5::/56 overlaps our subnet fd00:5:0:1::/64");
	assert_string_equal(check(&nc, NULL, "10.6.2.0-24&fd00:5:0:2::-64"),
			    "subnet 10.6.2.0/24 is outside the network 10.5.0.0/16");
	/* IPv6 only: the IPv4 placeholder is not a subnet. */
	assert_null(check(&v6only, "0.0.0.0-0&fd00:5:0:1::-64", "0.0.0.0-0&fd00:5:0:2::-64"));
	assert_string_equal(check(&v6only, NULL, "0.0.0.0-0&fd01::-64"),
			    "IPv6 subnet fd01::/64 is outside the network fd00:5::/48");
	netconf_free(&nc);
	netconf_free(&v6only);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4),
		cmocka_unit_test(test_v6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
