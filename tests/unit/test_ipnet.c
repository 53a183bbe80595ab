// SPDX-License-Identifier: Apache-2.0
/*
 * Black-box tests of src/core/ipnet.h, written from the header's contract and
 * Go's net.ParseIP/ParseCIDR behaviour (which flannel inherits), not from the
 * implementation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "core/ipnet.h"

static struct ip_addr addr(const char *s)
{
	struct ip_addr a;

	memset(&a, 0xaa, sizeof(a));
	if (ip_addr_parse(s, &a) != 0)
		fail_msg("ip_addr_parse(\"%s\") failed", s);
	return a;
}

static struct ip_prefix prefix(const char *s)
{
	struct ip_prefix p;

	memset(&p, 0xaa, sizeof(p));
	if (ip_prefix_parse(s, &p) != 0)
		fail_msg("ip_prefix_parse(\"%s\") failed", s);
	return p;
}

/* Parse then format; checks the round trip through the public API. */
static void check_addr_fmt(const char *in, const char *want)
{
	char buf[IP_ADDR_STRLEN];
	struct ip_addr a = addr(in);

	assert_string_equal(ip_addr_format(&a, buf), want);
}

static void check_prefix_fmt(const char *in, const char *want)
{
	char buf[IP_PREFIX_STRLEN];
	struct ip_prefix p = prefix(in);

	assert_string_equal(ip_prefix_format(&p, buf), want);
}

static void check_addr_bad(const char *in)
{
	struct ip_addr a;

	if (ip_addr_parse(in, &a) != -EINVAL)
		fail_msg("ip_addr_parse(\"%s\") should fail with -EINVAL", in);
}

static void check_prefix_bad(const char *in)
{
	struct ip_prefix p;

	if (ip_prefix_parse(in, &p) != -EINVAL)
		fail_msg("ip_prefix_parse(\"%s\") should fail with -EINVAL", in);
}

static void test_family_bits(void **state)
{
	(void)state;
	assert_int_equal(ip_family_bits(AF_INET), 32);
	assert_int_equal(ip_family_bits(AF_INET6), 128);
	assert_int_equal(ip_family_bits(0), 0);
}

static void test_v4_parse_valid(void **state)
{
	struct ip_addr a;
	static const uint8_t want[4] = { 10, 3, 1, 254 };

	(void)state;
	a = addr("10.3.1.254");
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.b, want, 4);

	check_addr_fmt("0.0.0.0", "0.0.0.0");
	check_addr_fmt("255.255.255.255", "255.255.255.255");
	check_addr_fmt("1.2.3.4", "1.2.3.4");
	check_addr_fmt("10.0.0.0", "10.0.0.0");
	check_addr_fmt("192.168.100.200", "192.168.100.200");
}

static void test_v4_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"", " ", "010.0.0.1", "10.0.0.01", "1.2.3.00", "00.1.2.3", "1.2.3",
		"1.2.3.4.5", "256.0.0.1", "1.2.3.256", "1.2.3.1000", "1.2.3.4 ", " 1.2.3.4",
		"1.2.3.4x", "1.2.3.4.", ".1.2.3.4", "1..2.3", "a.b.c.d", "-1.2.3.4",
		"1.2.3.-4", "+1.2.3.4", "0x1.2.3.4", "1.2.3.4/24", "1.2.3.4\n", "1,2,3,4",
		"4294967295", "1.2.3.4%eth0", "garbage",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_addr_bad(bad[i]);
}

static void test_v6_parse_format(void **state)
{
	struct ip_addr a;

	(void)state;
	a = addr("2001:db8::1");
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(a.b[0], 0x20);
	assert_int_equal(a.b[1], 0x01);
	assert_int_equal(a.b[2], 0x0d);
	assert_int_equal(a.b[3], 0xb8);
	assert_int_equal(a.b[15], 0x01);

	check_addr_fmt("2001:db8::1", "2001:db8::1");
	check_addr_fmt("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
	/* A single zero group is never compressed (RFC 5952 4.2.2). */
	check_addr_fmt("2001:0db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
	check_addr_fmt("fd00:12:13::", "fd00:12:13::");
	check_addr_fmt("::", "::");
	check_addr_fmt("0:0:0:0:0:0:0:0", "::");
	check_addr_fmt("::1", "::1");
	check_addr_fmt("0:0:0:0:0:0:0:1", "::1");
	check_addr_fmt("fc00:0:0:1::", "fc00:0:0:1::");
	check_addr_fmt("fc00:0000:0000:ffff:0000:0000:0000:0000", "fc00:0:0:ffff::");
	check_addr_fmt("1::", "1::");
	check_addr_fmt("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8");
	check_addr_fmt("0001:0002:0003:0004:0005:0006:0007:0008", "1:2:3:4:5:6:7:8");
	/* Uppercase in, lowercase out (RFC 5952 4.3). */
	check_addr_fmt("FC00::ABCD", "fc00::abcd");
	check_addr_fmt("2001:DB8:AbCd::Ef", "2001:db8:abcd::ef");
	/* The longest run is compressed; on a tie the first (RFC 5952 4.2.3). */
	check_addr_fmt("1:0:0:2:0:0:0:3", "1:0:0:2::3");
	check_addr_fmt("1:0:0:2:0:0:3:4", "1::2:0:0:3:4");
	check_addr_fmt("0:0:1:0:0:1:0:0", "::1:0:0:1:0:0");
	check_addr_fmt("0:0:1:0:0:0:0:0", "0:0:1::");
	/* Single zero groups at either end stay as they are. */
	check_addr_fmt("0:1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7");
	check_addr_fmt("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0");
	check_addr_fmt("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7");
	check_addr_fmt("1:2:3:4:5:6:0:0", "1:2:3:4:5:6::");
	check_addr_fmt("0:0:3:4:5:6:7:8", "::3:4:5:6:7:8");
	/* "::" standing for exactly one group is accepted on input (Go does). */
	check_addr_fmt("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0");
	check_addr_fmt("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8");
	check_addr_fmt("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* Embedded IPv4 is accepted on input but never produced on output. */
	check_addr_fmt("::ffff:1.2.3.4", "::ffff:102:304");
	check_addr_fmt("::1.2.3.4", "::102:304");
	check_addr_fmt("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304");
}

static void test_v6_parse_invalid(void **state)
{
	static const char *const bad[] = {
		":", ":::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", "::1::",
		"12345::", "1:23456::", "g::", "::g", "1:", ":1", "1:2:3:4:5:6:7:8:",
		":1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
		"fe80::1%eth0", "[::1]", " ::1", "::1 ", "::1/128", "1:2:3:4:5:6:7:1.2.3.4",
		"::ffff:01.2.3.4", "::ffff:1.2.3", "::ffff:1.2.3.4:5", "::-1", "0x1::",
		"1:::2", "1::2:",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_addr_bad(bad[i]);
}

static void test_parse_family(void **state)
{
	struct ip_addr a;
	struct ip_prefix p;

	(void)state;
	assert_int_equal(ip_addr_parse_family("10.0.0.1", AF_INET, &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(ip_addr_parse_family("::1", AF_INET6, &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(ip_addr_parse_family("10.0.0.1", AF_INET6, &a), -EINVAL);
	assert_int_equal(ip_addr_parse_family("::1", AF_INET, &a), -EINVAL);
	assert_int_equal(ip_addr_parse_family("bogus", AF_INET, &a), -EINVAL);

	assert_int_equal(ip_prefix_parse_family("10.0.0.0/8", AF_INET, &p), 0);
	assert_int_equal(ip_prefix_parse_family("fc00::/48", AF_INET6, &p), 0);
	assert_int_equal(ip_prefix_parse_family("10.0.0.0/8", AF_INET6, &p), -EINVAL);
	assert_int_equal(ip_prefix_parse_family("fc00::/48", AF_INET, &p), -EINVAL);
	assert_int_equal(ip_prefix_parse_family("fc00::/129", AF_INET6, &p), -EINVAL);
}

static void test_prefix_parse_valid(void **state)
{
	struct ip_prefix p;

	(void)state;
	p = prefix("10.3.0.0/16");
	assert_int_equal(p.addr.family, AF_INET);
	assert_int_equal(p.len, 16);

	check_prefix_fmt("10.3.0.0/16", "10.3.0.0/16");
	/* Host bits are dropped, like Go's net.ParseCIDR. */
	check_prefix_fmt("10.0.0.5/8", "10.0.0.0/8");
	check_prefix_fmt("10.255.255.255/9", "10.128.0.0/9");
	check_prefix_fmt("192.168.1.77/30", "192.168.1.76/30");
	check_prefix_fmt("1.2.3.4/0", "0.0.0.0/0");
	check_prefix_fmt("1.2.3.4/32", "1.2.3.4/32");
	check_prefix_fmt("fc00::/48", "fc00::/48");
	check_prefix_fmt("fc00::1/48", "fc00::/48");
	check_prefix_fmt("fd00:12:13:ff::/56", "fd00:12:13::/56");
	check_prefix_fmt("2001:cafe:42:0::/56", "2001:cafe:42::/56");
	check_prefix_fmt("FC00:0:0:ABCD::1/64", "fc00:0:0:abcd::/64");
	check_prefix_fmt("::/0", "::/0");
	check_prefix_fmt("ffff::1/0", "::/0");
	check_prefix_fmt("::1/128", "::1/128");
	check_prefix_fmt("2001:db8::ff/121", "2001:db8::80/121");
}

/* Go's ParseCIDR reads the length with dtoi, which accepts leading zeros. */
static void test_prefix_parse_len_leading_zero(void **state)
{
	(void)state;
	check_prefix_fmt("10.0.0.0/08", "10.0.0.0/8");
	check_prefix_fmt("fc00::/048", "fc00::/48");
}

static void test_prefix_parse_invalid(void **state)
{
	static const char *const bad[] = {
		"", "/", "/8", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/100",
		"10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0.0/8 ", " 10.0.0.0/8",
		"10.0.0.0/ 8", "10.0.0.0 /8", "10.0.0.0/8a", "10.0.0.0/0x8", "10.0.0.0/4294967304",
		"10.0.0.0/99999999999999999999", "010.0.0.0/8", "10.0.0/8", "256.0.0.0/8",
		"::/129", "2001:db8::/200", "fc00::", "fc00::/", "fe80::%eth0/64", "fe80::/64%eth0",
		"garbage/8", "10.0.0.0\\8", "10.0.0.0/8\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_prefix_bad(bad[i]);
}

static void test_prefix_make(void **state)
{
	char buf[IP_PREFIX_STRLEN];
	struct ip_prefix p;
	struct ip_addr a = addr("10.1.2.3");
	struct ip_addr a6 = addr("fc00::1:2:3");

	(void)state;
	assert_int_equal(ip_prefix_make(&a, 16, &p), 0);
	assert_string_equal(ip_prefix_format(&p, buf), "10.1.0.0/16");
	assert_int_equal(ip_prefix_make(&a, 32, &p), 0);
	assert_string_equal(ip_prefix_format(&p, buf), "10.1.2.3/32");
	assert_int_equal(ip_prefix_make(&a, 0, &p), 0);
	assert_string_equal(ip_prefix_format(&p, buf), "0.0.0.0/0");
	assert_int_equal(ip_prefix_make(&a, 33, &p), -EINVAL);

	assert_int_equal(ip_prefix_make(&a6, 112, &p), 0);
	assert_string_equal(ip_prefix_format(&p, buf), "fc00::1:2:0/112");
	assert_int_equal(ip_prefix_make(&a6, 128, &p), 0);
	assert_string_equal(ip_prefix_format(&p, buf), "fc00::1:2:3/128");
	assert_int_equal(ip_prefix_make(&a6, 129, &p), -EINVAL);
}

static void test_aligned(void **state)
{
	struct ip_addr a;

	(void)state;
	a = addr("10.3.1.0");
	assert_true(ip_addr_is_aligned(&a, 24));
	assert_true(ip_addr_is_aligned(&a, 32));
	assert_false(ip_addr_is_aligned(&a, 23));
	assert_false(ip_addr_is_aligned(&a, 16));
	a = addr("10.3.1.1");
	assert_false(ip_addr_is_aligned(&a, 24));
	assert_false(ip_addr_is_aligned(&a, 31));
	assert_true(ip_addr_is_aligned(&a, 32));
	a = addr("10.5.0.64");
	assert_true(ip_addr_is_aligned(&a, 26));
	assert_false(ip_addr_is_aligned(&a, 25));
	a = addr("0.0.0.0");
	assert_true(ip_addr_is_aligned(&a, 0));
	a = addr("128.0.0.0");
	assert_false(ip_addr_is_aligned(&a, 0));
	assert_true(ip_addr_is_aligned(&a, 1));

	a = addr("fc00:0:0:1::");
	assert_true(ip_addr_is_aligned(&a, 64));
	assert_false(ip_addr_is_aligned(&a, 63));
	a = addr("fc00::1");
	assert_false(ip_addr_is_aligned(&a, 64));
	assert_false(ip_addr_is_aligned(&a, 127));
	assert_true(ip_addr_is_aligned(&a, 128));
	a = addr("fc00::10");
	assert_true(ip_addr_is_aligned(&a, 124));
	assert_true(ip_addr_is_aligned(&a, 125));
	assert_false(ip_addr_is_aligned(&a, 123));
}

static void test_contains(void **state)
{
	struct ip_prefix p = prefix("10.0.0.0/8");
	struct ip_addr a;

	(void)state;
	a = addr("10.0.0.0");
	assert_true(ip_prefix_contains(&p, &a));
	a = addr("10.255.255.255");
	assert_true(ip_prefix_contains(&p, &a));
	a = addr("11.0.0.0");
	assert_false(ip_prefix_contains(&p, &a));
	a = addr("9.255.255.255");
	assert_false(ip_prefix_contains(&p, &a));
	a = addr("::a00:1");
	assert_false(ip_prefix_contains(&p, &a));

	p = prefix("0.0.0.0/0");
	a = addr("255.1.2.3");
	assert_true(ip_prefix_contains(&p, &a));

	p = prefix("10.5.0.64/32");
	a = addr("10.5.0.64");
	assert_true(ip_prefix_contains(&p, &a));
	a = addr("10.5.0.65");
	assert_false(ip_prefix_contains(&p, &a));

	p = prefix("fc00::/48");
	a = addr("fc00:0:0:ffff::");
	assert_true(ip_prefix_contains(&p, &a));
	a = addr("fc00::ffff:ffff:ffff:ffff:ffff");
	assert_true(ip_prefix_contains(&p, &a));
	a = addr("fc00:0:1::");
	assert_false(ip_prefix_contains(&p, &a));
	a = addr("10.0.0.1");
	assert_false(ip_prefix_contains(&p, &a));

	p = prefix("::/0");
	a = addr("ffff::");
	assert_true(ip_prefix_contains(&p, &a));
}

static void test_contains_prefix(void **state)
{
	struct ip_prefix outer = prefix("10.0.0.0/8");
	struct ip_prefix inner;

	(void)state;
	inner = prefix("10.1.0.0/16");
	assert_true(ip_prefix_contains_prefix(&outer, &inner));
	assert_false(ip_prefix_contains_prefix(&inner, &outer));
	assert_true(ip_prefix_contains_prefix(&outer, &outer));
	inner = prefix("10.255.255.255/32");
	assert_true(ip_prefix_contains_prefix(&outer, &inner));
	inner = prefix("11.0.0.0/16");
	assert_false(ip_prefix_contains_prefix(&outer, &inner));
	inner = prefix("0.0.0.0/0");
	assert_false(ip_prefix_contains_prefix(&outer, &inner));
	assert_true(ip_prefix_contains_prefix(&inner, &outer));
	inner = prefix("::/0");
	assert_false(ip_prefix_contains_prefix(&inner, &outer));
	assert_false(ip_prefix_contains_prefix(&outer, &inner));

	outer = prefix("fc00::/48");
	inner = prefix("fc00:0:0:ffff::/64");
	assert_true(ip_prefix_contains_prefix(&outer, &inner));
	assert_false(ip_prefix_contains_prefix(&inner, &outer));
	inner = prefix("fc00:0:1::/64");
	assert_false(ip_prefix_contains_prefix(&outer, &inner));
	inner = prefix("fc00::/47");
	assert_false(ip_prefix_contains_prefix(&outer, &inner));
}

static void test_overlaps(void **state)
{
	struct ip_prefix a = prefix("10.0.0.0/8");
	struct ip_prefix b = prefix("10.1.0.0/16");

	(void)state;
	assert_true(ip_prefix_overlaps(&a, &b));
	assert_true(ip_prefix_overlaps(&b, &a));
	assert_true(ip_prefix_overlaps(&a, &a));
	a = prefix("10.0.0.0/16");
	assert_false(ip_prefix_overlaps(&a, &b));
	assert_false(ip_prefix_overlaps(&b, &a));
	a = prefix("10.1.255.0/24");
	assert_true(ip_prefix_overlaps(&a, &b));
	a = prefix("10.2.0.0/24");
	assert_false(ip_prefix_overlaps(&a, &b));
	a = prefix("0.0.0.0/0");
	assert_true(ip_prefix_overlaps(&a, &b));
	a = prefix("::/0");
	assert_false(ip_prefix_overlaps(&a, &b));
	assert_false(ip_prefix_overlaps(&b, &a));

	a = prefix("fc00::/48");
	b = prefix("fc00:0:0:1::/64");
	assert_true(ip_prefix_overlaps(&a, &b));
	assert_true(ip_prefix_overlaps(&b, &a));
	a = prefix("fc00::/64");
	assert_false(ip_prefix_overlaps(&a, &b));
	assert_false(ip_prefix_equal(&a, &b));
}

static void check_next(const char *in, const char *want)
{
	char buf[IP_PREFIX_STRLEN];
	struct ip_prefix p = prefix(in), n;

	assert_int_equal(ip_prefix_next(&p, &n), 0);
	assert_string_equal(ip_prefix_format(&n, buf), want);
}

static void check_next_overflow(const char *in)
{
	struct ip_prefix p = prefix(in), n;

	assert_int_equal(ip_prefix_next(&p, &n), -ERANGE);
}

static void test_next(void **state)
{
	(void)state;
	check_next("10.0.0.0/24", "10.0.1.0/24");
	check_next("10.0.255.0/24", "10.1.0.0/24");
	check_next("10.0.0.0/8", "11.0.0.0/8");
	check_next("10.3.0.0/16", "10.4.0.0/16");
	check_next("10.5.0.192/26", "10.5.1.0/26");
	check_next("1.2.3.4/32", "1.2.3.5/32");
	check_next("0.0.0.0/1", "128.0.0.0/1");
	check_next("254.255.255.255/32", "255.0.0.0/32");
	check_next_overflow("255.255.255.0/24");
	check_next_overflow("255.255.255.255/32");
	check_next_overflow("128.0.0.0/1");
	check_next_overflow("0.0.0.0/0");

	check_next("fc00::/64", "fc00:0:0:1::/64");
	check_next("fc00:0:0:ffff::/64", "fc00:0:1::/64");
	check_next("fc00::/48", "fc00:0:1::/48");
	check_next("fc00:0:0:0:ffff:ffff:ffff:ffff/128", "fc00:0:0:1::/128");
	check_next("::/128", "::1/128");
	check_next("::ffff:ffff/128", "::1:0:0/128");
	check_next("7fff:ffff:ffff:ffff::/64", "8000::/64");
	check_next("::/1", "8000::/1");
	check_next_overflow("ffff:ffff:ffff:ffff::/64");
	check_next_overflow("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	check_next_overflow("8000::/1");
	check_next_overflow("::/0");
}

static void check_last(const char *in, const char *want)
{
	char buf[IP_ADDR_STRLEN];
	struct ip_prefix p = prefix(in);
	struct ip_addr a;

	ip_prefix_last(&p, &a);
	assert_int_equal(a.family, p.addr.family);
	assert_string_equal(ip_addr_format(&a, buf), want);
}

static void test_last(void **state)
{
	(void)state;
	check_last("10.0.0.0/8", "10.255.255.255");
	check_last("10.1.2.0/24", "10.1.2.255");
	check_last("10.5.0.0/24", "10.5.0.255");
	check_last("10.5.0.64/26", "10.5.0.127");
	check_last("1.2.3.4/32", "1.2.3.4");
	check_last("0.0.0.0/0", "255.255.255.255");
	check_last("10.0.0.0/9", "10.127.255.255");
	check_last("fc00::/48", "fc00::ffff:ffff:ffff:ffff:ffff");
	check_last("fc00::/64", "fc00::ffff:ffff:ffff:ffff");
	check_last("fc00::/124", "fc00::f");
	check_last("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	check_last("::1/128", "::1");
	check_last("2001:db8::/33", "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff");
}

static void test_first_host(void **state)
{
	char buf[IP_ADDR_STRLEN];
	struct ip_prefix p;
	struct ip_addr a;

	(void)state;
	p = prefix("10.1.2.0/24");
	assert_int_equal(ip_prefix_first_host(&p, &a), 0);
	assert_string_equal(ip_addr_format(&a, buf), "10.1.2.1");
	p = prefix("10.244.0.0/16");
	assert_int_equal(ip_prefix_first_host(&p, &a), 0);
	assert_string_equal(ip_addr_format(&a, buf), "10.244.0.1");
	p = prefix("fd00:12:13::/56");
	assert_int_equal(ip_prefix_first_host(&p, &a), 0);
	assert_string_equal(ip_addr_format(&a, buf), "fd00:12:13::1");
	p = prefix("255.255.255.255/32");
	assert_true(ip_prefix_first_host(&p, &a) < 0);
}

static void check_add(const char *in, unsigned shift, const char *want)
{
	char buf[IP_ADDR_STRLEN];
	struct ip_addr a = addr(in), r;

	assert_int_equal(ip_addr_add_pow2(&a, shift, &r), 0);
	assert_int_equal(r.family, a.family);
	assert_string_equal(ip_addr_format(&r, buf), want);
}

static void check_add_overflow(const char *in, unsigned shift)
{
	struct ip_addr a = addr(in), r;

	assert_int_equal(ip_addr_add_pow2(&a, shift, &r), -ERANGE);
}

static void test_add_pow2(void **state)
{
	struct ip_addr a, r;

	(void)state;
	check_add("10.0.0.0", 8, "10.0.1.0");
	check_add("10.0.0.0", 0, "10.0.0.1");
	check_add("10.3.0.0", 8, "10.3.1.0");
	check_add("10.5.0.0", 6, "10.5.0.64");
	check_add("10.255.255.0", 8, "11.0.0.0");
	check_add("0.0.0.0", 31, "128.0.0.0");
	check_add("127.255.255.255", 0, "128.0.0.0");
	check_add_overflow("255.255.255.0", 8);
	check_add_overflow("255.255.255.255", 0);
	check_add_overflow("128.0.0.0", 31);

	check_add("fc00::", 64, "fc00:0:0:1::");
	check_add("fc00:0:0:ffff::", 64, "fc00:0:1::");
	check_add("::ffff", 0, "::1:0");
	check_add("::", 127, "8000::");
	check_add("::", 32, "::1:0:0");
	check_add("::ffff:ffff:ffff", 0, "::1:0:0:0");
	check_add_overflow("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0);
	check_add_overflow("8000::", 127);
	check_add_overflow("ffff:ffff:ffff:ffff::", 64);

	/* shift must be below the family width; anything else is refused. */
	a = addr("10.0.0.0");
	assert_true(ip_addr_add_pow2(&a, 32, &r) < 0);
	a = addr("::");
	assert_true(ip_addr_add_pow2(&a, 128, &r) < 0);
}

static void check_inc(const char *in, const char *want)
{
	char buf[IP_ADDR_STRLEN];
	struct ip_addr a = addr(in), r;

	assert_int_equal(ip_addr_inc(&a, &r), 0);
	assert_string_equal(ip_addr_format(&r, buf), want);
	/* dec is the inverse */
	assert_int_equal(ip_addr_dec(&r, &a), 0);
	assert_string_equal(ip_addr_format(&a, buf), in);
}

static void test_inc_dec(void **state)
{
	struct ip_addr a, r;

	(void)state;
	check_inc("10.0.0.0", "10.0.0.1");
	check_inc("10.0.0.255", "10.0.1.0");
	check_inc("10.255.255.255", "11.0.0.0");
	check_inc("0.0.0.0", "0.0.0.1");
	check_inc("::", "::1");
	check_inc("::ffff", "::1:0");
	check_inc("fc00::ffff:ffff:ffff:ffff", "fc00:0:0:1::");
	check_inc("7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::");

	a = addr("255.255.255.255");
	assert_int_equal(ip_addr_inc(&a, &r), -ERANGE);
	a = addr("0.0.0.0");
	assert_int_equal(ip_addr_dec(&a, &r), -ERANGE);
	a = addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(ip_addr_inc(&a, &r), -ERANGE);
	a = addr("::");
	assert_int_equal(ip_addr_dec(&a, &r), -ERANGE);
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void check_cmp(const char *x, const char *y, int want)
{
	struct ip_addr a = addr(x), b = addr(y);

	if (sign(ip_addr_cmp(&a, &b)) != want)
		fail_msg("cmp(%s, %s) should be %d", x, y, want);
	if (sign(ip_addr_cmp(&b, &a)) != -want)
		fail_msg("cmp(%s, %s) should be %d", y, x, -want);
	if (ip_addr_equal(&a, &b) != (want == 0))
		fail_msg("equal(%s, %s) should be %d", x, y, want == 0);
}

static void test_cmp_equal(void **state)
{
	struct ip_addr a, b;

	(void)state;
	check_cmp("10.0.0.1", "10.0.0.1", 0);
	check_cmp("10.0.0.1", "10.0.0.2", -1);
	check_cmp("9.255.255.255", "10.0.0.0", -1);
	check_cmp("10.0.1.0", "10.0.0.255", 1);
	check_cmp("255.255.255.255", "0.0.0.0", 1);
	check_cmp("128.0.0.0", "127.255.255.255", 1);
	check_cmp("::1", "::2", -1);
	check_cmp("::2", "1::", -1);
	check_cmp("8000::", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1);
	check_cmp("fc00::", "FC00::", 0);
	/* Every IPv4 address sorts before every IPv6 address. */
	check_cmp("255.255.255.255", "::", -1);
	check_cmp("0.0.0.0", "::", -1);
	check_cmp("1.2.3.4", "::ffff:1.2.3.4", -1);

	/* Equality is by family too, not just by bytes. */
	a = addr("0.0.0.0");
	b = addr("::");
	assert_false(ip_addr_equal(&a, &b));
}

static void test_unset(void **state)
{
	char buf[IP_ADDR_STRLEN];
	struct ip_addr a;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_true(ip_addr_is_unset(&a));
	assert_string_equal(ip_addr_format(&a, buf), "");
	a = addr("0.0.0.0");
	assert_true(ip_addr_is_unset(&a));
	a = addr("::");
	assert_true(ip_addr_is_unset(&a));
	a = addr("0.0.0.1");
	assert_false(ip_addr_is_unset(&a));
	a = addr("::1");
	assert_false(ip_addr_is_unset(&a));
	a = addr("8000::");
	assert_false(ip_addr_is_unset(&a));
}

static void test_prefix_equal(void **state)
{
	struct ip_prefix a = prefix("10.0.0.5/8"), b = prefix("10.0.0.0/8");

	(void)state;
	assert_true(ip_prefix_equal(&a, &b));
	b = prefix("10.0.0.0/9");
	assert_false(ip_prefix_equal(&a, &b));
	b = prefix("11.0.0.0/8");
	assert_false(ip_prefix_equal(&a, &b));
	a = prefix("0.0.0.0/0");
	b = prefix("::/0");
	assert_false(ip_prefix_equal(&a, &b));
	a = prefix("fc00::1/48");
	b = prefix("fc00::/48");
	assert_true(ip_prefix_equal(&a, &b));
}

/* Every v6 address formatted and re-parsed gives the same bytes. */
static void test_v6_roundtrip(void **state)
{
	char buf[IP_ADDR_STRLEN];
	struct ip_addr a, b;
	const char *dc;

	(void)state;
	for (unsigned mask = 0; mask < 256; mask++) {
		memset(&a, 0, sizeof(a));
		a.family = AF_INET6;
		/* each bit of mask says whether group i is non-zero */
		for (unsigned g = 0; g < 8; g++) {
			if (mask & (1U << g)) {
				a.b[2 * g] = (uint8_t)(g * 0x11);
				a.b[2 * g + 1] = (uint8_t)(0xf0 | g);
			}
		}
		ip_addr_format(&a, buf);
		assert_true(strlen(buf) < IP_ADDR_STRLEN);
		assert_int_equal(ip_addr_parse(buf, &b), 0);
		if (!ip_addr_equal(&a, &b))
			fail_msg("round trip of %s changed the address", buf);
		/* never more than one "::", and no ":::" */
		dc = strstr(buf, "::");
		if (dc)
			assert_null(strstr(dc + 1, "::"));
		assert_null(strstr(buf, ":::"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_bits),
		cmocka_unit_test(test_v4_parse_valid),
		cmocka_unit_test(test_v4_parse_invalid),
		cmocka_unit_test(test_v6_parse_format),
		cmocka_unit_test(test_v6_parse_invalid),
		cmocka_unit_test(test_parse_family),
		cmocka_unit_test(test_prefix_parse_valid),
		cmocka_unit_test(test_prefix_parse_len_leading_zero),
		cmocka_unit_test(test_prefix_parse_invalid),
		cmocka_unit_test(test_prefix_make),
		cmocka_unit_test(test_aligned),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_contains_prefix),
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_last),
		cmocka_unit_test(test_first_host),
		cmocka_unit_test(test_add_pow2),
		cmocka_unit_test(test_inc_dec),
		cmocka_unit_test(test_cmp_equal),
		cmocka_unit_test(test_unset),
		cmocka_unit_test(test_prefix_equal),
		cmocka_unit_test(test_v6_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
