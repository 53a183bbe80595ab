// SPDX-License-Identifier: Apache-2.0
/* Lease attribute JSON (spec section 4.2): byte-exact with Go's encoding/json. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "core/err.h"
#include "subnet/lease.h"

static struct ip_addr ip(const char *s)
{
	struct ip_addr a;

	if (ip_addr_parse(s, &a) != 0)
		fail_msg("bad test address %s", s);
	return a;
}

static void check_encode(const struct lease_attrs *a, const char *want)
{
	char *json = NULL;

	assert_int_equal(lease_attrs_encode(a, &json), 0);
	assert_string_equal(json, want);
	free(json);
}

static void test_encode_examples(void **state)
{
	struct lease_attrs a = {.public_ip = ip("192.168.64.3"), .backend_type = "vxlan"};

	(void)state;
	a.backend_data = "{\"VNI\":1,\"VtepMAC\":\"c6:d2:32:6f:8f:44\"}";
	check_encode(&a, "{\"PublicIP\":\"192.168.64.3\",\"PublicIPv6\":null,"
			 "\"BackendType\":\"vxlan\","
			 "\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"c6:d2:32:6f:8f:44\"}}");
	/* Go compacts a RawMessage: same bytes from pretty-printed input. */
	a.backend_data = " {\n\t\"VNI\" : 1 ,\r\n \"VtepMAC\": \"c6:d2:32:6f:8f:44\"\n}\n ";
	check_encode(&a, "{\"PublicIP\":\"192.168.64.3\",\"PublicIPv6\":null,"
			 "\"BackendType\":\"vxlan\","
			 "\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"c6:d2:32:6f:8f:44\"}}");

	/* udp/alloc: no backend type, no data. */
	a = (struct lease_attrs){.public_ip = ip("1.2.3.4")};
	check_encode(&a, "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":null}");
	a.backend_data = ""; /* empty RawMessage is omitted too */
	check_encode(&a, "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":null}");

	a = (struct lease_attrs){.public_ip = ip("10.0.0.2"), .backend_type = "host-gw"};
	check_encode(&a,
		     "{\"PublicIP\":\"10.0.0.2\",\"PublicIPv6\":null,\"BackendType\":\"host-gw\"}");

	/* Dual stack (wireguard). */
	a = (struct lease_attrs){.public_ip = ip("10.0.0.2"),
				 .public_ipv6 = ip("fd00:0:0:1::2"),
				 .backend_type = "wireguard"};
	a.backend_data = "{\"PublicKey\":\"Zm9vYmFyYmF6K3F1eC9xdXV4PT0=\",\"Port\":51820}";
	a.backend_v6_data = "{\"PublicKey\":\"Zm9vYmFyYmF6K3F1eC9xdXV4PT0=\",\"Port\":51821}";
	check_encode(&a, "{\"PublicIP\":\"10.0.0.2\",\"PublicIPv6\":\"fd00:0:0:1::2\","
			 "\"BackendType\":\"wireguard\","
			 "\"BackendData\":{\"PublicKey\":\"Zm9vYmFyYmF6K3F1eC9xdXV4PT0=\","
			 "\"Port\":51820},"
			 "\"BackendV6Data\":{\"PublicKey\":\"Zm9vYmFyYmF6K3F1eC9xdXV4PT0=\","
			 "\"Port\":51821}}");

	/* IPv6-only: PublicIP is never null. */
	a = (struct lease_attrs){.public_ipv6 = ip("2001:db8::5"), .backend_type = "vxlan"};
	a.backend_v6_data = "{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:dd:ee:ff\"}";
	check_encode(&a, "{\"PublicIP\":\"0.0.0.0\",\"PublicIPv6\":\"2001:db8::5\","
			 "\"BackendType\":\"vxlan\","
			 "\"BackendV6Data\":{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:dd:ee:ff\"}}");
}

static void test_encode_escaping(void **state)
{
	static const char t1[] = "a<>&\"\\\b\f\n\r\t\x01\x1f\x7f";
	static const char t2[] = "\xff\xc3\xa9\xe2\x80\xa8\xc3";
	struct lease_attrs a = {.public_ip = ip("1.2.3.4")};

	(void)state;
	/* HTML escaping inside RawMessage strings, raw U+2028/U+2029 too; other
	 * escapes, numbers and non-ASCII are kept as written. */
	a.backend_data = "{\"a\":\"<b>&\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xaa\","
			 "\"b\":[1.50e+3,-0,true,false,null],\"c\":\"\\u00e9\\n\\/\xc3\xa9\","
			 "\"d\":123456789012345678901234567890}";
	check_encode(&a, "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":null,\"BackendData\":"
			 "{\"a\":\"\\u003cb\\u003e\\u0026\\u2028\\u2029\xe2\x80\xaa\","
			 "\"b\":[1.50e+3,-0,true,false,null],\"c\":\"\\u00e9\\n\\/\xc3\xa9\","
			 "\"d\":123456789012345678901234567890}}");

	/* Any JSON value is a valid RawMessage. */
	a.backend_data = " \"x y\" ";
	check_encode(&a, "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":null,\"BackendData\":\"x y\"}");
	a.backend_data = "null";
	check_encode(&a, "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":null,\"BackendData\":null}");
	a.backend_data = NULL;

	/* Go string escaping for BackendType. */
	memcpy(a.backend_type, t1, sizeof(t1));
	check_encode(&a, "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":null,\"BackendType\":"
			 "\"a\\u003c\\u003e\\u0026\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"}");
	/* Invalid UTF-8 becomes U+FFFD per bad byte; valid multibyte is kept. */
	memcpy(a.backend_type, t2, sizeof(t2));
	check_encode(&a, "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":null,\"BackendType\":"
			 "\"\\ufffd\xc3\xa9\\u2028\\ufffd\"}");
}

static void test_encode_errors(void **state)
{
	static const char *const bad_raw[] = {
		"{",	     "{\"a\":1",    "{\"a\":1} x", "01", "[1,]", "'x'",
		"{\"a\" 1}", "1.",	    ".5",	   "+1", "tru",	 "nul",
		"\"\\x\"",   "\"a\tb\"",    "{,}",	   "[",	 "]",	 "{\"a\":1,}",
		"1 2",	     "\"\\u12g4\"", "NaN",	   " ",
	};
	struct lease_attrs a = {.public_ip = ip("1.2.3.4")};
	char *json = (char *)1;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_raw) / sizeof(bad_raw[0]); i++) {
		a.backend_data = (char *)(uintptr_t)bad_raw[i];
		if (lease_attrs_encode(&a, &json) != -EINVAL)
			fail_msg("encoded bad BackendData %s", bad_raw[i]);
		assert_null(json);
		a.backend_data = NULL;
		a.backend_v6_data = (char *)(uintptr_t)bad_raw[i];
		assert_int_equal(lease_attrs_encode(&a, &json), -EINVAL);
		a.backend_v6_data = NULL;
	}
	a.public_ip = ip("fd00::1");
	assert_int_equal(lease_attrs_encode(&a, &json), -EINVAL);
	a.public_ip = ip("1.2.3.4");
	a.public_ipv6 = ip("1.2.3.4");
	assert_int_equal(lease_attrs_encode(&a, &json), -EINVAL);
	/* Go would print these as dotted quads. */
	a.public_ipv6 = ip("::ffff:1.2.3.4");
	assert_int_equal(lease_attrs_encode(&a, &json), -EINVAL);
	a.public_ipv6 = ip("::100:0");
	assert_int_equal(lease_attrs_encode(&a, &json), -EINVAL);
	a.public_ipv6 = ip("::ff:ffff");
	check_encode(&a, "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":\"::ff:ffff\"}");
	/* Unterminated backend type. */
	a.public_ipv6 = (struct ip_addr){0};
	memset(a.backend_type, 'x', sizeof(a.backend_type));
	assert_int_equal(lease_attrs_encode(&a, &json), -EINVAL);
}

static void decode_ok(const char *json, struct lease_attrs *ret)
{
	struct err err = {""};

	if (lease_attrs_decode(json, strlen(json), ret, &err) != 0)
		fail_msg("decode %s: %s", json, err.msg);
}

/* Decode then encode: what flannel would write back after reading. */
static void check_recode(const char *in, const char *want)
{
	struct lease_attrs a;
	char *json;

	decode_ok(in, &a);
	assert_int_equal(lease_attrs_encode(&a, &json), 0);
	assert_string_equal(json, want);
	free(json);
	lease_attrs_free(&a);
}

static void test_decode(void **state)
{
	struct lease_attrs a;
	struct ip_addr want;

	(void)state;
	decode_ok("{\"PublicIP\":\"192.168.64.3\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\","
		  "\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"c6:d2:32:6f:8f:44\"}}",
		  &a);
	want = ip("192.168.64.3");
	assert_true(ip_addr_equal(&a.public_ip, &want));
	assert_int_equal(a.public_ipv6.family, 0);
	assert_string_equal(a.backend_type, "vxlan");
	assert_string_equal(a.backend_data, "{\"VNI\":1,\"VtepMAC\":\"c6:d2:32:6f:8f:44\"}");
	assert_null(a.backend_v6_data);
	lease_attrs_free(&a);

	/* Key case and order do not matter; unknown keys are ignored. */
	decode_ok(" { \"backenddata\" : { \"VNI\" : 7 } , \"PUBLICIPV6\":\"FD00::0:1\","
		  "\"Extra\":[1,{\"x\":null}],\"backendTYPE\":\"vxlan\",\"publicip\":\"10.1.2.3\","
		  "\"backendv6data\":\"s\"}\n",
		  &a);
	want = ip("10.1.2.3");
	assert_true(ip_addr_equal(&a.public_ip, &want));
	want = ip("fd00::1");
	assert_true(ip_addr_equal(&a.public_ipv6, &want));
	assert_string_equal(a.backend_type, "vxlan");
	assert_string_equal(a.backend_data, "{\"VNI\":7}");
	assert_string_equal(a.backend_v6_data, "\"s\"");
	lease_attrs_free(&a);

	check_recode("{\"BackendType\":\"host-gw\",\"PublicIPv6\":null,\"PublicIP\":\"10.0.0.2\"}",
		     "{\"PublicIP\":\"10.0.0.2\",\"PublicIPv6\":null,\"BackendType\":\"host-gw\"}");
	/* Go: last duplicate wins, case variants included. */
	check_recode("{\"PublicIP\":\"1.1.1.1\",\"publicIP\":\"2.2.2.2\",\"BackendType\":\"a\","
		     "\"backendtype\":\"b\"}",
		     "{\"PublicIP\":\"2.2.2.2\",\"PublicIPv6\":null,\"BackendType\":\"b\"}");
	/* Go: null leaves a string as it was, unsets a pointer, and is kept
	 * verbatim in a RawMessage. */
	check_recode("{\"PublicIP\":\"1.2.3.4\",\"BackendType\":\"vxlan\",\"BackendType\":null,"
		     "\"PublicIPv6\":\"fd00::1\",\"PublicIPv6\":null,\"BackendData\":null}",
		     "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":null,\"BackendType\":\"vxlan\","
		     "\"BackendData\":null}");
	/* Go's case folding: Kelvin sign for k, dotless i for i. */
	check_recode("{\"PublicIP\":\"1.2.3.4\",\"Bac\xe2\x84\xaa"
		     "endType\":\"x\","
		     "\"publ\xc4\xb1"
		     "cip\":\"5.6.7.8\"}",
		     "{\"PublicIP\":\"5.6.7.8\",\"PublicIPv6\":null,\"BackendType\":\"x\"}");
	/* ... but not the dotted capital I, nor other non-ASCII look-alikes. */
	check_recode("{\"PublicIP\":\"1.2.3.4\",\"Publ\xc4\xb0"
		     "cIP\":\"5.6.7.8\"}",
		     "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":null}");
	/* Escapes in strings are decoded; HTML characters come back escaped. */
	check_recode(
		"{\"\\u0050ublicIP\":\"1.2.3.4\",\"BackendType\":\"a\\u003cb\\/\\ud83d\\ude00\"}",
		"{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":null,\"BackendType\":"
		"\"a\\u003cb/\xf0\x9f\x98\x80\"}");
	/* Lone surrogates become U+FFFD. */
	check_recode("{\"PublicIP\":\"1.2.3.4\",\"BackendType\":\"\\ud800x\\udc00\"}",
		     "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":null,\"BackendType\":"
		     "\"\xef\xbf\xbdx\xef\xbf\xbd\"}");
	/* 0.0.0.0 is a valid PublicIP (IPv6-only nodes write it). */
	check_recode("{\"PublicIP\":\"0.0.0.0\",\"PublicIPv6\":\"fc00::2\"}",
		     "{\"PublicIP\":\"0.0.0.0\",\"PublicIPv6\":\"fc00::2\"}");
	/* Backend data of any JSON type and size of number survives. */
	check_recode("{\"PublicIP\":\"1.2.3.4\",\"BackendData\":[ 1e400 , \"<\" ]}",
		     "{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":null,\"BackendData\":[1e400,"
		     "\"\\u003c\"]}");
}

struct bad_case {
	const char *json;
	const char *reason; /* substring expected in err.msg */
};

static const struct bad_case bad_values[] = {
	{"", "empty"},
	{" \n", "empty"},
	{"[]", "not an object"},
	{"null", "not an object"},
	{"\"x\"", "not an object"},
	{"42", "not an object"},
	{"{", "not valid JSON"},
	{"{\"PublicIP\":\"1.2.3.4\",}", "not valid JSON"},
	{"{\"PublicIP\":\"1.2.3.4\"} x", "after"},
	{"{\"PublicIP\":\"1.2.3.4\"}{}", "after"},
	{"{\"PublicIP\":\"1.2.3.4\",\"BackendData\":{\"a\":}}", "not valid JSON"},
	{"{\"PublicIP\":\"1.2.3.4\",\"BackendType\":\"a\tb\"}", "not valid JSON"},
	{"{}", "PublicIP is missing"},
	{"{\"PublicIPv6\":\"fd00::1\"}", "PublicIP is missing"},
	{"{\"PublicIP\":null}", "PublicIP is null"},
	{"{\"PublicIP\":1}", "PublicIP is a number"},
	{"{\"PublicIP\":[\"1.2.3.4\"]}", "PublicIP is an array"},
	{"{\"PublicIP\":\"::1\"}", "not an IPv4"},
	{"{\"PublicIP\":\"1.2.3\"}", "not an IPv4"},
	{"{\"PublicIP\":\"01.2.3.4\"}", "not an IPv4"},
	{"{\"PublicIP\":\"1.2.3.4 \"}", "not an IPv4"},
	{"{\"PublicIP\":\"\"}", "not an IPv4"},
	{"{\"PublicIP\":\"1.2.3.\\u0034\"}", "not an IPv4"},
	{"{\"PublicIP\":\"1.2.3.4\\u0000\"}", "not an IPv4"},
	{"{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":\"1.2.3.4\"}", "not an IPv6"},
	{"{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":\"fd00::1%eth0\"}", "not an IPv6"},
	{"{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":\"\"}", "not an IPv6"},
	{"{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":5}", "PublicIPv6 is a number"},
	{"{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":{}}", "PublicIPv6 is an object"},
	{"{\"PublicIP\":\"1.2.3.4\",\"PublicIPv6\":\"::ffff:1.2.3.4\"}", "IPv4-mapped"},
	{"{\"PublicIP\":\"1.2.3.4\",\"BackendType\":5}", "BackendType is a number"},
	{"{\"PublicIP\":\"1.2.3.4\",\"BackendType\":true}", "BackendType is a boolean"},
	{"{\"PublicIP\":\"1.2.3.4\",\"BackendType\":\"0123456789abcdef0123456789abcdef\"}",
	 "too long"},
	{"{\"PublicIP\":\"1.2.3.4\",\"BackendType\":\"a\\u0000b\"}", "NUL"},
	{"{\"PublicIP\":\"1.2.3.4\",\"PublicIP\":\"x\"}", "not an IPv4"},
};

static void test_decode_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		const struct bad_case *c = &bad_values[i];
		struct lease_attrs a;
		struct err err = {""};

		memset(&a, 0x55, sizeof(a));
		if (lease_attrs_decode(c->json, strlen(c->json), &a, &err) != -EINVAL)
			fail_msg("accepted %s", c->json);
		if (!strstr(err.msg, c->reason))
			fail_msg("%s: reason \"%s\" lacks \"%s\"", c->json, err.msg, c->reason);
		/* The output is left empty and safe to free. */
		assert_null(a.backend_data);
		assert_int_equal(a.public_ip.family, 0);
		lease_attrs_free(&a);
	}
}

static void test_decode_limits(void **state)
{
	struct lease_attrs a;
	struct err err = {""};
	char *big;
	size_t n;

	(void)state;
	/* Over 64 KiB is refused even if valid. */
	big = malloc(LEASE_JSON_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', LEASE_JSON_MAX + 1);
	memcpy(big, "{\"PublicIP\":\"1.2.3.4\"}", 22);
	assert_int_equal(lease_attrs_decode(big, LEASE_JSON_MAX + 1, &a, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "too large"));
	assert_int_equal(lease_attrs_decode(big, LEASE_JSON_MAX, &a, NULL), 0);
	lease_attrs_free(&a);

	/* Go's nesting limit: 10000 levels in total, so the object plus 10000
	 * arrays is too deep and plus 9999 is fine. */
	for (size_t arrays = 10000; arrays >= 9999; arrays--) {
		n = (size_t)snprintf(big, 64, "{\"PublicIP\":\"1.2.3.4\",\"BackendData\":");
		memset(big + n, '[', arrays);
		memset(big + n + arrays, ']', arrays);
		memcpy(big + n + 2 * arrays, "}", 2);
		if (arrays == 10000) {
			assert_int_equal(lease_attrs_decode(big, strlen(big), &a, &err), -EINVAL);
			continue;
		}
		assert_int_equal(lease_attrs_decode(big, strlen(big), &a, &err), 0);
		assert_int_equal(strlen(a.backend_data), 2 * arrays);
		lease_attrs_free(&a);
	}

	/* Embedded NUL: the length is authoritative, NUL is not JSON whitespace. */
	assert_int_equal(lease_attrs_decode("{\"PublicIP\":\"1.2.3.4\"}\0", 23, &a, &err), -EINVAL);
	assert_int_equal(lease_attrs_decode("{\"PublicIP\":\"1.2.3.4\"}xx", 22, &a, NULL), 0);
	free(big);
}

static void test_round_trip(void **state)
{
	struct lease_attrs a = {.public_ip = ip("10.0.0.2"),
				.public_ipv6 = ip("fd00::2"),
				.backend_type = "wireguard"},
			   b, c;
	char *j1, *j2;

	(void)state;
	a.backend_data = "{ \"PublicKey\": \"k<&>\", \"Port\": 51820 }";
	a.backend_v6_data = "{\"PublicKey\":\"k\",\"Port\":51821}";
	assert_int_equal(lease_attrs_encode(&a, &j1), 0);
	decode_ok(j1, &b);
	assert_int_equal(lease_attrs_encode(&b, &j2), 0);
	assert_string_equal(j1, j2);
	decode_ok(j2, &c);
	assert_true(lease_attrs_equal(&b, &c));
	assert_string_equal(b.backend_v6_data, a.backend_v6_data);
	assert_true(ip_addr_equal(&b.public_ipv6, &a.public_ipv6));

	c.backend_type[0] = 'W';
	assert_false(lease_attrs_equal(&b, &c));
	lease_attrs_free(&b);
	lease_attrs_free(&c);
	free(j1);
	free(j2);

	/* Unset PublicIP equals an explicit 0.0.0.0; NULL data equals "". */
	b = (struct lease_attrs){.public_ip = ip("0.0.0.0"), .backend_data = ""};
	c = (struct lease_attrs){0};
	assert_true(lease_attrs_equal(&b, &c));
	lease_attrs_free(NULL);
}

/* The copy owns its backend data: freeing one leaves the other whole. */
static void test_copy(void **state)
{
	struct lease_attrs a = { .backend_type = "vxlan" }, b;

	(void)state;
	a.backend_data = strdup("{\"VNI\":1}");
	a.backend_v6_data = NULL;
	a.public_ip = ip("192.0.2.1");
	lease_attrs_copy(&b, &a);
	assert_true(lease_attrs_equal(&a, &b));
	assert_ptr_not_equal(a.backend_data, b.backend_data);
	assert_null(b.backend_v6_data);
	lease_attrs_free(&a);
	assert_string_equal(b.backend_data, "{\"VNI\":1}");
	assert_string_equal(b.backend_type, "vxlan");
	lease_attrs_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy), cmocka_unit_test(test_encode_examples), cmocka_unit_test(test_encode_escaping),
		cmocka_unit_test(test_encode_errors),	cmocka_unit_test(test_decode),
		cmocka_unit_test(test_decode_bad),	cmocka_unit_test(test_decode_limits),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
