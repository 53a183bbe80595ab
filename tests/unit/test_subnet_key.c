// SPDX-License-Identifier: Apache-2.0
/* Subnet keys under <prefix>/subnets/ (spec section 4.1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "core/err.h"
#include "subnet/subnet_key.h"

static struct ip_prefix pfx(const char *s)
{
	struct ip_prefix p;

	if (ip_prefix_parse(s, &p) != 0)
		fail_msg("bad test prefix %s", s);
	return p;
}

static void check_round_trip(const char *key)
{
	char buf[SUBNET_KEY_STRLEN];
	struct subnet_key k;
	struct err err = {""};

	if (subnet_key_parse(key, &k, &err) != 0)
		fail_msg("parse \"%s\": %s", key, err.msg);
	assert_int_equal(subnet_key_format(&k, buf, sizeof(buf)), 0);
	assert_string_equal(buf, key);
}

static void test_examples(void **state)
{
	char buf[SUBNET_KEY_STRLEN];
	struct ip_prefix want;
	struct subnet_key k;

	(void)state;
	check_round_trip("10.5.34.0-24");
	check_round_trip("10.12.13.0-24&fd00:12:13::-56");
	check_round_trip("0.0.0.0-0&fc00:0:0:5::-64");
	check_round_trip("192.168.0.0-31");
	check_round_trip("10.0.0.0-8&2001:db8:0:1::-127");

	assert_int_equal(subnet_key_parse("10.12.13.0-24&fd00:12:13::-56", &k, NULL), 0);
	want = pfx("10.12.13.0/24");
	assert_true(ip_prefix_equal(&k.v4, &want));
	assert_true(k.has_v6);
	want = pfx("fd00:12:13::/56");
	assert_true(ip_prefix_equal(&k.v6, &want));
	assert_true(subnet_key_has_v4(&k));

	assert_int_equal(subnet_key_parse("0.0.0.0-0&fc00:0:0:5::-64", &k, NULL), 0);
	assert_false(subnet_key_has_v4(&k));
	assert_true(k.has_v6);

	assert_int_equal(subnet_key_parse("10.5.34.0-24", &k, NULL), 0);
	assert_false(k.has_v6);

	/* Non-canonical IPv6 text is a valid name (upstream's ParseIP takes it);
	 * formatting gives the RFC 5952 form. */
	assert_int_equal(subnet_key_parse("10.0.0.0-24&fd00:0:0:0::-48", &k, NULL), 0);
	assert_int_equal(subnet_key_format(&k, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.0.0.0-24&fd00::-48");
}

static void test_format(void **state)
{
	struct subnet_key k = {.v4 = pfx("10.244.1.0/24")};
	char buf[SUBNET_KEY_STRLEN];

	(void)state;
	assert_int_equal(subnet_key_format(&k, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.244.1.0-24");

	/* IPv6-only: an unset v4 part degenerates to 0.0.0.0-0. */
	k = (struct subnet_key){.v6 = pfx("fc00:0:0:5::/64"), .has_v6 = true};
	assert_int_equal(subnet_key_format(&k, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0.0.0.0-0&fc00:0:0:5::-64");

	k = (struct subnet_key){
		.v4 = pfx("10.12.13.0/24"), .v6 = pfx("fd00:12:13::/56"), .has_v6 = true};
	assert_int_equal(subnet_key_format(&k, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.12.13.0-24&fd00:12:13::-56");

	/* The longest key fits SUBNET_KEY_STRLEN. */
	k = (struct subnet_key){.v4 = pfx("255.255.255.254/31"),
				.v6 = pfx("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"),
				.has_v6 = true};
	assert_int_equal(subnet_key_format(&k, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "255.255.255.254-31&ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe-127");

	assert_int_equal(subnet_key_format(&k, buf, 20), -ENOSPC);

	/* Upstream cannot parse /32 or /128 keys back. */
	k = (struct subnet_key){.v4 = pfx("10.0.0.5/32")};
	assert_int_equal(subnet_key_format(&k, buf, sizeof(buf)), -ERANGE);
	k = (struct subnet_key){.v4 = pfx("10.0.0.0/24"), .v6 = pfx("fd00::1/128"), .has_v6 = true};
	assert_int_equal(subnet_key_format(&k, buf, sizeof(buf)), -ERANGE);

	/* Host bits set: not a network address. */
	k = (struct subnet_key){.v4 = {.addr = {.family = AF_INET, .b = {10, 0, 0, 1}}, .len = 24}};
	assert_int_equal(subnet_key_format(&k, buf, sizeof(buf)), -EINVAL);

	/* Wrong families, and a key naming nothing. */
	k = (struct subnet_key){.v4 = pfx("fd00::/64")};
	assert_int_equal(subnet_key_format(&k, buf, sizeof(buf)), -EINVAL);
	k = (struct subnet_key){.v4 = pfx("10.0.0.0/24"), .v6 = pfx("10.1.0.0/24"), .has_v6 = true};
	assert_int_equal(subnet_key_format(&k, buf, sizeof(buf)), -EINVAL);
	k = (struct subnet_key){0};
	assert_int_equal(subnet_key_format(&k, buf, sizeof(buf)), -EINVAL);
}

static const char *const bad_keys[] = {
	"",
	"10.5.34.0",			     /* no dash */
	"10.5.34.0-",			     /* no length */
	"10.5.34.0-2a",			     /* non-digit length */
	"10.5.34.0-+24",		     /* sign */
	"10.5.34.0--24",		     /* two dashes */
	"10.5.34.0-32",			     /* upstream: 5-bit length */
	"10.5.34.0-024",		     /* leading zero in length */
	"10.5.34.0-1000",		     /* too many digits */
	"256.5.34.0-24",		     /* octet > 255 */
	"010.5.34.0-24",		     /* leading-zero octet */
	"10.5.34-24",			     /* three octets */
	"10.5.34.0.0-24",		     /* five octets */
	"10.5.34.1-24",			     /* host bits set */
	"10.5.34.0-24 ",		     /* trailing space */
	" 10.5.34.0-24",		     /* leading space */
	"x10.5.34.0-24",		     /* junk before */
	"10.5.34.0-24x",		     /* junk after */
	"10.5.34.0-24\n",		     /* newline */
	"10x5.34.0-24",			     /* upstream's regex has '.' unescaped */
	"fd00::-64",			     /* v4 part must be a dotted quad */
	"0.0.0.0-0",			     /* all of IPv4, no IPv6 part */
	"10.12.13.0-24&FD00:12:13::-56",     /* uppercase hex */
	"10.12.13.0-24&fd00:12:13::",	     /* v6 without length */
	"10.12.13.0-24&fd00:12:13::-",	     /* v6 empty length */
	"10.12.13.0-24&fd00:12:13::-128",    /* 7-bit length */
	"10.12.13.0-24&fd00:12:13::1-56",    /* v6 host bits */
	"10.12.13.0-24&fd00::-56&fd01::-56", /* extra '&' part */
	"10.12.13.0-24&",		     /* empty v6 part */
	"10.12.13.0-24&-56",		     /* empty v6 address */
	"10.12.13.0-24&::-0",		     /* v6 /0 */
	"10.12.13.0-24&fd00:::-56",	     /* bad v6 */
	"10.12.13.0-24&fd00::%eth0-56",	     /* zone */
	"10.12.13.0-24&::ffff:10.0.0.0-120", /* dotted tail */
	"10.0.0.0-24&1.2.3.4-8",	     /* upstream would read 1.2.3.4/8 */
	"10.12.13.0-24&gd00::-56",	     /* not hex */
	"10.5.34.0-24/",		     /* trailing slash */
	"255.255.255.254-31&ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe-1270", /* 4-digit length */
};

static void test_bad_keys(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		struct subnet_key k = {0};
		struct err err = {""};

		if (subnet_key_parse(bad_keys[i], &k, &err) != -EINVAL)
			fail_msg("accepted bad key \"%s\"", bad_keys[i]);
		if (err.msg[0] == '\0')
			fail_msg("no reason for \"%s\"", bad_keys[i]);
	}
}

static void test_bad_bytes(void **state)
{
	static const char nul[] = "10.5.34.0-24\0garbage";
	char big[300];
	struct subnet_key k;
	struct err err = {""};

	(void)state;
	assert_int_equal(subnet_key_parse_mem(nul, sizeof(nul) - 1, &k, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "NUL"));
	/* Only the NUL-free prefix is valid. */
	assert_int_equal(subnet_key_parse_mem(nul, 12, &k, NULL), 0);

	memset(big, '1', sizeof(big));
	err.msg[0] = '\0';
	assert_int_equal(subnet_key_parse_mem(big, sizeof(big), &k, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "too long"));

	memcpy(big, "10.5.34.0-24", 12);
	assert_int_equal(subnet_key_parse_mem(big, 12, &k, NULL), 0);
	assert_int_equal(subnet_key_parse(NULL, &k, &err), -EINVAL);
	assert_int_equal(subnet_key_parse_mem(NULL, 0, &k, &err), -EINVAL);
}

static void test_etcd_key(void **state)
{
	static const char *const good[] = {
		"/coreos.com/network/subnets/10.5.34.0-24",
		"/coreos.com/network/subnets/10.12.13.0-24&fd00:12:13::-56",
		"/vxlan/network/subnets/0.0.0.0-0&fc00:0:0:5::-64",
		"10.5.34.0-24",
	};
	static const char *const bad[] = {
		"/coreos.com/network/subnets/",
		"/coreos.com/network/config",
		"/coreos.com/network/subnets/10.5.34.0-24/",
		"/coreos.com/network/subnets/x10.5.34.0-24",
		"",
	};
	struct subnet_key k, want;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err.msg[0] = '\0';
		if (subnet_key_from_etcd_key(good[i], strlen(good[i]), &k, &err) != 0)
			fail_msg("%s: %s", good[i], err.msg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		if (subnet_key_from_etcd_key(bad[i], strlen(bad[i]), &k, &err) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
		assert_true(err.msg[0] != '\0');
	}
	/* The length bounds the key: the bytes after it are not looked at. */
	assert_int_equal(subnet_key_from_etcd_key("/p/subnets/10.5.34.0-24XYZ", 23, &k, NULL), 0);
	assert_int_equal(subnet_key_parse("10.5.34.0-24", &want, NULL), 0);
	assert_true(subnet_key_equal(&k, &want));
}

/* Whole keys, bytes with their length: exactly one key names each lease. */
static void test_lease_key(void **state)
{
	static const char P[] = "/coreos.com/network/subnets/";
	static const struct {
		const char *key;
		size_t len; /* 0: strlen */
		int want;
	} cases[] = {
		{"/coreos.com/network/subnets/10.5.34.0-24", 0, 0},
		{"/coreos.com/network/subnets/10.12.13.0-24&fd00:12:13::-56", 0, 0},
		{"/coreos.com/network/subnets/0.0.0.0-0&fc00:0:0:5::-64", 0, 0},
		/* A NUL byte and a tail: another key, not an alias of the lease. */
		{"/coreos.com/network/subnets/10.5.34.0-24\0x", 43, -EINVAL},
		{"/coreos.com/network/subnets/10.5.34.0-24\0", 41, -EINVAL},
		/* Another spelling of the same IPv6 subnet. */
		{"/coreos.com/network/subnets/10.12.13.0-24&fd00:12:13:0::-56", 0, -EINVAL},
		{"/coreos.com/network/subnets/0.0.0.0-0&fc00::5:0:0:0:0-64", 0, -EINVAL},
		/* A sub-path is not below the prefix's level. */
		{"/coreos.com/network/subnets/x/10.5.34.0-24", 0, -EINVAL},
		{"/coreos.com/network/subnets/", 0, -EINVAL},
		{"/coreos.com/network/config", 0, -ENOENT},
		{"/coreos.com/network/subnet", 0, -ENOENT},
		{"/other/network/subnets/10.5.34.0-24", 0, -ENOENT},
	};
	struct subnet_key k, want;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].key);
		int r;

		err.msg[0] = '\0';
		r = subnet_key_from_lease_key(P, cases[i].key, len, &k, &err);
		if (r != cases[i].want)
			fail_msg("case %zu (%s): %d, want %d (%s)", i, cases[i].key, r,
				 cases[i].want, err.msg);
		if (r < 0)
			assert_true(err.msg[0] != '\0');
	}
	assert_int_equal(subnet_key_from_lease_key(P, cases[0].key, strlen(cases[0].key), &k, NULL),
			 0);
	assert_int_equal(subnet_key_parse("10.5.34.0-24", &want, NULL), 0);
	assert_true(subnet_key_equal(&k, &want));
	err.msg[0] = '\0';
	subnet_key_from_lease_key(P, cases[3].key, cases[3].len, &k, &err);
	assert_string_equal(err.msg, "subnet key contains a NUL byte");
	subnet_key_from_lease_key(P, cases[5].key, strlen(cases[5].key), &k, &err);
	assert_string_equal(err.msg, "not the canonical spelling of subnet key "
				     "10.12.13.0-24&fd00:12:13::-56");
}

static void test_equal(void **state)
{
	struct subnet_key a, b;

	(void)state;
	assert_int_equal(subnet_key_parse("10.12.13.0-24&fd00:12:13::-56", &a, NULL), 0);
	assert_int_equal(subnet_key_parse("10.12.13.0-24&fd00:12:13::-56", &b, NULL), 0);
	assert_true(subnet_key_equal(&a, &b));
	assert_int_equal(subnet_key_parse("10.12.13.0-24", &b, NULL), 0);
	assert_false(subnet_key_equal(&a, &b));
	assert_int_equal(subnet_key_parse("10.12.13.0-24&fd00:12:14::-56", &b, NULL), 0);
	assert_false(subnet_key_equal(&a, &b));
	/* An IPv6-only key equals one built with an unset v4 part. */
	assert_int_equal(subnet_key_parse("0.0.0.0-0&fd00:12:13::-56", &a, NULL), 0);
	b = (struct subnet_key){.v6 = a.v6, .has_v6 = true};
	assert_true(subnet_key_equal(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples), cmocka_unit_test(test_format),
		cmocka_unit_test(test_bad_keys), cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_etcd_key), cmocka_unit_test(test_lease_key),
		cmocka_unit_test(test_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
