// SPDX-License-Identifier: Apache-2.0
/*
 * The network config: flannel's pkg/subnet/config_test.go cases, every default
 * and error of CheckNetworkConfig (flannel.md 3.2), and Go encoding/json's
 * decoding rules (key folding, last duplicate wins, type checks).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/ipnet.h"
#include "subnet/netconf.h"

/* Loads from an exact-size heap copy, so ASan sees any read past the end. */
static int load_n(const char *json, size_t len, struct netconf *nc, struct err *err, bool check)
{
	char *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, json, len);
	memset(err, 0, sizeof(*err));
	r = check ? netconf_load(copy, len, nc, err) : netconf_parse(copy, len, nc, err);
	free(copy);
	return r;
}

static void load_ok(const char *json, struct netconf *nc)
{
	struct err err;

	if (load_n(json, strlen(json), nc, &err, true) != 0)
		fail_msg("netconf_load(%s) failed: %s", json, err.msg);
}

/* Fails to load, with a message containing want (which names the field). */
static void load_err(const char *json, const char *want)
{
	struct netconf nc;
	struct err err;
	int r;

	r = load_n(json, strlen(json), &nc, &err, true);
	if (r != -EINVAL)
		fail_msg("netconf_load(%s) returned %d, want -EINVAL", json, r);
	if (!strstr(err.msg, want))
		fail_msg("netconf_load(%s): message \"%s\" lacks \"%s\"", json, err.msg, want);
	/* nothing left to free on failure */
	assert_null(nc.backend_type);
	assert_null(nc.backend_json);
}

static void parse_err(const char *json, const char *want)
{
	struct netconf nc;
	struct err err;
	int r;

	r = load_n(json, strlen(json), &nc, &err, false);
	if (r != -EINVAL)
		fail_msg("netconf_parse(%s) returned %d, want -EINVAL", json, r);
	if (!strstr(err.msg, want))
		fail_msg("netconf_parse(%s): message \"%s\" lacks \"%s\"", json, err.msg, want);
	assert_null(nc.backend_type);
}

static void check_v4(const struct netconf *nc, const char *net, unsigned len, const char *min,
		     const char *max)
{
	char buf[IP_PREFIX_STRLEN];

	assert_true(nc->enable_ipv4);
	assert_string_equal(ip_prefix_format(&nc->network, buf), net);
	assert_int_equal(nc->subnet_len, len);
	assert_string_equal(ip_addr_format(&nc->subnet_min, buf), min);
	assert_string_equal(ip_addr_format(&nc->subnet_max, buf), max);
}

static void check_v6(const struct netconf *nc, const char *net, unsigned len, const char *min,
		     const char *max)
{
	char buf[IP_PREFIX_STRLEN];

	assert_true(nc->enable_ipv6);
	assert_string_equal(ip_prefix_format(&nc->ipv6_network, buf), net);
	assert_int_equal(nc->ipv6_subnet_len, len);
	assert_string_equal(ip_addr_format(&nc->ipv6_subnet_min, buf), min);
	assert_string_equal(ip_addr_format(&nc->ipv6_subnet_max, buf), max);
}

/* Loads {"Network":net} and checks the computed defaults. */
static void check_v4_defaults(const char *net, unsigned len, const char *min, const char *max)
{
	struct netconf nc;
	char json[128];

	snprintf(json, sizeof(json), "{\"Network\":\"%s\"}", net);
	load_ok(json, &nc);
	check_v4(&nc, net, len, min, max);
	netconf_free(&nc);
}

static void check_v6_defaults(const char *net, unsigned len, const char *min, const char *max)
{
	struct netconf nc;
	char json[160];

	snprintf(json, sizeof(json),
		 "{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":\"%s\"}", net);
	load_ok(json, &nc);
	check_v6(&nc, net, len, min, max);
	netconf_free(&nc);
}

static void check_backend(const char *json, const char *type, const char *backend_json,
			  bool defaulted)
{
	struct netconf nc;

	load_ok(json, &nc);
	assert_non_null(nc.backend_type);
	assert_string_equal(nc.backend_type, type);
	if (backend_json)
		assert_string_equal(nc.backend_json, backend_json);
	else
		assert_null(nc.backend_json);
	assert_int_equal(nc.backend_defaulted, defaulted);
	netconf_free(&nc);
}

/* ---- upstream's config_test.go ---- */

static void test_upstream_defaults(void **state)
{
	struct netconf nc;

	(void)state;
	load_ok("{ \"network\": \"10.3.0.0/16\" }", &nc);
	check_v4(&nc, "10.3.0.0/16", 24, "10.3.1.0", "10.3.255.0");
	assert_false(nc.enable_ipv6);
	assert_false(nc.enable_nftables);
	assert_string_equal(nc.backend_type, "udp");
	assert_true(nc.backend_defaulted);
	assert_null(nc.backend_json);
	netconf_free(&nc);
}

static void test_upstream_ipv6_defaults(void **state)
{
	struct netconf nc;

	(void)state;
	load_ok("{ \"enableIPv6\": true, \"ipv6Network\": \"fc00::/48\", \"enableIPv4\": false }",
		&nc);
	assert_false(nc.enable_ipv4);
	check_v6(&nc, "fc00::/48", 64, "fc00:0:0:1::", "fc00:0:0:ffff::");
	netconf_free(&nc);
}

static void test_upstream_overrides(void **state)
{
	struct netconf nc;

	(void)state;
	load_ok("{ \"Network\": \"10.3.0.0/16\", \"SubnetMin\": \"10.3.5.0\", "
		"\"SubnetMax\": \"10.3.8.0\", \"SubnetLen\": 28 }",
		&nc);
	check_v4(&nc, "10.3.0.0/16", 28, "10.3.5.0", "10.3.8.0");
	netconf_free(&nc);
}

static void test_upstream_ipv6_overrides(void **state)
{
	struct netconf nc;

	(void)state;
	load_ok("{ \"EnableIPv6\": true, \"IPv6Network\": \"fc00::/48\", "
		"\"IPv6SubnetMin\": \"fc00:0:0:1::\", \"IPv6SubnetMax\": \"fc00:0:0:f::\", "
		"\"IPv6SubnetLen\": 124, \"enableIPv4\": false }",
		&nc);
	check_v6(&nc, "fc00::/48", 124, "fc00:0:0:1::", "fc00:0:0:f::");
	netconf_free(&nc);
}

/* ---- flannel.md 3.2 and 3.3 ---- */

static void test_v4_defaults(void **state)
{
	(void)state;
	check_v4_defaults("10.5.0.0/24", 26, "10.5.0.64", "10.5.0.192");
	check_v4_defaults("10.244.0.0/16", 24, "10.244.1.0", "10.244.255.0");
	check_v4_defaults("10.0.0.0/8", 24, "10.0.1.0", "10.255.255.0");
	/* /22 is the last prefix that gets /24, then prefix + 2 up to /28 */
	check_v4_defaults("10.0.0.0/22", 24, "10.0.1.0", "10.0.3.0");
	check_v4_defaults("10.0.0.0/23", 25, "10.0.0.128", "10.0.1.128");
	check_v4_defaults("10.0.0.0/28", 30, "10.0.0.4", "10.0.0.12");
	check_v4_defaults("0.0.0.0/1", 24, "0.0.1.0", "127.255.255.0");
	/* the last network of the address space: Go's uint32 wraps, we must not */
	check_v4_defaults("255.0.0.0/8", 24, "255.0.1.0", "255.255.255.0");
	check_v4_defaults("255.255.255.240/28", 30, "255.255.255.244", "255.255.255.252");
}

static void test_v6_defaults(void **state)
{
	(void)state;
	check_v6_defaults("fc00::/48", 64, "fc00:0:0:1::", "fc00:0:0:ffff::");
	check_v6_defaults("fd00:12:13::/56", 64, "fd00:12:13:1::", "fd00:12:13:ff::");
	check_v6_defaults("fc00::/62", 64, "fc00:0:0:1::", "fc00:0:0:3::");
	check_v6_defaults("fc00::/63", 65, "fc00::8000:0:0:0", "fc00:0:0:1:8000::");
	check_v6_defaults("fc00::/124", 126, "fc00::4", "fc00::c");
	check_v6_defaults("8000::/1", 64, "8000:0:0:1::", "ffff:ffff:ffff:ffff::");
	check_v6_defaults("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124", 126,
			  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff4",
			  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffc");
}

static void test_docs_example(void **state)
{
	struct netconf nc;

	(void)state;
	load_ok("{\"Network\":\"10.0.0.0/8\",\"SubnetLen\":20,\"SubnetMin\":\"10.10.0.0\","
		"\"SubnetMax\":\"10.99.0.0\",\"Backend\":{\"Type\":\"udp\",\"Port\":7890}}",
		&nc);
	check_v4(&nc, "10.0.0.0/8", 20, "10.10.0.0", "10.99.0.0");
	assert_string_equal(nc.backend_type, "udp");
	assert_false(nc.backend_defaulted);
	assert_string_equal(nc.backend_json, "{\"Type\":\"udp\",\"Port\":7890}");
	netconf_free(&nc);
}

static void test_default_manifest(void **state)
{
	struct netconf nc;

	(void)state;
	load_ok("{\n  \"Network\": \"10.244.0.0/16\",\n  \"EnableNFTables\": false,\n"
		"  \"Backend\": {\n    \"Type\": \"vxlan\"\n  }\n}\n",
		&nc);
	check_v4(&nc, "10.244.0.0/16", 24, "10.244.1.0", "10.244.255.0");
	assert_false(nc.enable_ipv6);
	assert_false(nc.enable_nftables);
	assert_string_equal(nc.backend_type, "vxlan");
	assert_string_equal(nc.backend_json, "{\"Type\":\"vxlan\"}");
	assert_false(nc.backend_defaulted);
	netconf_free(&nc);
}

static void test_dual_stack(void **state)
{
	struct netconf nc;

	(void)state;
	load_ok("{\"Network\":\"10.244.0.0/16\",\"EnableNFTables\":true,\"EnableIPv6\":true,"
		"\"IPv6Network\":\"2001:cafe:42:0::/56\",\"Backend\":{\"Type\":\"vxlan\"}}",
		&nc);
	check_v4(&nc, "10.244.0.0/16", 24, "10.244.1.0", "10.244.255.0");
	check_v6(&nc, "2001:cafe:42::/56", 64, "2001:cafe:42:1::", "2001:cafe:42:ff::");
	assert_true(nc.enable_nftables);
	netconf_free(&nc);
}

static void test_ipv6_only(void **state)
{
	struct netconf nc;
	char buf[IP_PREFIX_STRLEN];

	(void)state;
	load_ok("{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":\"2001:cafe:42:0::/56\","
		"\"Backend\":{\"Type\":\"vxlan\"}}",
		&nc);
	assert_false(nc.enable_ipv4);
	check_v6(&nc, "2001:cafe:42::/56", 64, "2001:cafe:42:1::", "2001:cafe:42:ff::");
	/* IPv4 is neither required nor computed */
	assert_string_equal(ip_prefix_format(&nc.network, buf), "");
	assert_int_equal(nc.subnet_len, 0);
	netconf_free(&nc);

	/* a Network given anyway is decoded, not validated */
	load_ok("{\"EnableIPv4\":false,\"Network\":\"10.0.0.0/30\",\"EnableIPv6\":true,"
		"\"IPv6Network\":\"fc00::/48\"}",
		&nc);
	assert_string_equal(ip_prefix_format(&nc.network, buf), "10.0.0.0/30");
	netconf_free(&nc);
}

static void test_host_bits_dropped(void **state)
{
	struct netconf nc;

	(void)state;
	load_ok("{\"Network\":\"10.0.0.5/8\",\"EnableIPv6\":true,\"IPv6Network\":\"fc00::1/48\"}",
		&nc);
	check_v4(&nc, "10.0.0.0/8", 24, "10.0.1.0", "10.255.255.0");
	check_v6(&nc, "fc00::/48", 64, "fc00:0:0:1::", "fc00:0:0:ffff::");
	netconf_free(&nc);
}

static void test_explicit_values(void **state)
{
	struct netconf nc;

	(void)state;
	/* 0 and 0.0.0.0 mean "compute it", as in flannel */
	load_ok("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":0,\"SubnetMin\":\"0.0.0.0\","
		"\"SubnetMax\":\"0.0.0.0\"}",
		&nc);
	check_v4(&nc, "10.3.0.0/16", 24, "10.3.1.0", "10.3.255.0");
	netconf_free(&nc);
	/* SubnetLen at the edges: 30, and exactly prefix + 2 */
	load_ok("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":30}", &nc);
	check_v4(&nc, "10.3.0.0/16", 30, "10.3.0.4", "10.3.255.252");
	netconf_free(&nc);
	load_ok("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":18}", &nc);
	check_v4(&nc, "10.3.0.0/16", 18, "10.3.64.0", "10.3.192.0");
	netconf_free(&nc);
	load_ok("{\"Network\":\"10.0.0.0/28\",\"SubnetLen\":30}", &nc);
	check_v4(&nc, "10.0.0.0/28", 30, "10.0.0.4", "10.0.0.12");
	netconf_free(&nc);
	/* Min > Max is not checked (allocation later finds nothing) */
	load_ok("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":\"10.3.9.0\",\"SubnetMax\":\"10.3.2.0\"}",
		&nc);
	check_v4(&nc, "10.3.0.0/16", 24, "10.3.9.0", "10.3.2.0");
	netconf_free(&nc);
	/* the first subnet may be given explicitly */
	load_ok("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":\"10.3.0.0\"}", &nc);
	check_v4(&nc, "10.3.0.0/16", 24, "10.3.0.0", "10.3.255.0");
	netconf_free(&nc);
	/* IPv4-mapped IPv6 is an IPv4 address to Go's To4() */
	load_ok("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":\"::ffff:10.3.5.0\"}", &nc);
	check_v4(&nc, "10.3.0.0/16", 24, "10.3.5.0", "10.3.255.0");
	netconf_free(&nc);
	/* IPv6 128-bit edges */
	load_ok("{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/48\","
		"\"IPv6SubnetLen\":126,\"IPv6SubnetMin\":null,\"IPv6SubnetMax\":\"::\"}",
		&nc);
	check_v6(&nc, "fc00::/48", 126, "fc00::4", "fc00::ffff:ffff:ffff:ffff:fffc");
	netconf_free(&nc);
	load_ok("{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/48\","
		"\"IPv6SubnetLen\":50}",
		&nc);
	check_v6(&nc, "fc00::/48", 50, "fc00:0:0:4000::", "fc00:0:0:c000::");
	netconf_free(&nc);
}

/* ---- every error of CheckNetworkConfig ---- */

static void test_v4_errors(void **state)
{
	(void)state;
	load_err("{}", "please define a correct Network parameter in the flannel config");
	load_err("{\"Network\":\"0.0.0.0/0\"}", "please define a correct Network parameter");
	load_err("{\"Network\":\"1.2.3.4/0\"}", "please define a correct Network parameter");
	load_err("{\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/48\"}",
		 "please define a correct Network parameter");

	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":31}", "SubnetLen must be less than /31");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":32}", "SubnetLen must be less than /31");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":4294967320}",
		 "SubnetLen must be less than /31");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":17}",
		 "SubnetLen: network must be able to accommodate at least four subnets");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":8}",
		 "SubnetLen: network must be able to accommodate at least four subnets");
	load_err("{\"Network\":\"10.0.0.0/29\",\"SubnetLen\":30}",
		 "network must be able to accommodate at least four subnets");
	load_err("{\"Network\":\"10.0.0.0/29\"}",
		 "Network: network is too small. Minimum useful network prefix is /28");
	load_err("{\"Network\":\"10.0.0.0/32\"}", "Minimum useful network prefix is /28");

	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":\"10.4.0.0\"}",
		 "SubnetMin is not in the range of the Network");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":\"10.2.255.0\"}",
		 "SubnetMin is not in the range of the Network");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetMax\":\"10.4.0.0\"}",
		 "SubnetMax is not in the range of the Network");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":\"10.3.1.1\"}",
		 "SubnetMin is not on a SubnetLen boundary: 10.3.1.1");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":28,\"SubnetMax\":\"10.3.8.8\"}",
		 "SubnetMax is not on a SubnetLen boundary: 10.3.8.8");
	/* range is checked before alignment, Min before Max */
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":\"10.4.0.1\",\"SubnetMax\":\"10.9.0.0\"}",
		 "SubnetMin is not in the range of the Network");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":\"10.3.0.1\",\"SubnetMax\":\"10.9.0.0\"}",
		 "SubnetMax is not in the range of the Network");
}

static void test_v6_errors(void **state)
{
	(void)state;
	load_err("{\"EnableIPv4\":false,\"EnableIPv6\":true}",
		 "please define a correct IPv6Network parameter in the flannel config");
	load_err("{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":\"::/0\"}",
		 "please define a correct IPv6Network parameter");
	load_err("{\"Network\":\"10.0.0.0/8\",\"EnableIPv6\":true}",
		 "please define a correct IPv6Network parameter");

	load_err("{\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetLen\":127,"
		 "\"EnableIPv4\":false}",
		 "IPv6SubnetLen: SubnetLen must be less than /127");
	load_err("{\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetLen\":128,"
		 "\"EnableIPv4\":false}",
		 "SubnetLen must be less than /127");
	load_err("{\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetLen\":49,"
		 "\"EnableIPv4\":false}",
		 "IPv6SubnetLen: network must be able to accommodate at least four subnets");
	load_err("{\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/125\",\"EnableIPv4\":false}",
		 "IPv6Network is too small. Minimum useful network prefix is /124");
	load_err("{\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/128\",\"EnableIPv4\":false}",
		 "IPv6Network is too small");

	load_err("{\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetMin\":\"fc00:0:1::\","
		 "\"EnableIPv4\":false}",
		 "IPv6SubnetMin is not in the range of the IPv6Network");
	load_err("{\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetMax\":\"fd00::\","
		 "\"EnableIPv4\":false}",
		 "IPv6SubnetMax is not in the range of the IPv6Network");
	/* an IPv4 address becomes IPv4-mapped (Go's To16) and is out of range */
	load_err("{\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetMin\":\"10.0.0.1\","
		 "\"EnableIPv4\":false}",
		 "IPv6SubnetMin is not in the range of the IPv6Network");
	load_err("{\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/48\",\"IPv6SubnetMin\":\"fc00:0:0:1::1\","
		 "\"EnableIPv4\":false}",
		 "IPv6SubnetMin is not on a SubnetLen boundary: fc00:0:0:1::1");
	load_err("{\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/48\","
		 "\"IPv6SubnetMax\":\"fc00:0:0:2:8000::\",\"EnableIPv4\":false}",
		 "IPv6SubnetMax is not on a SubnetLen boundary: fc00:0:0:2:8000::");
	/* both families are checked: a v6 error in a dual-stack config */
	load_err("{\"Network\":\"10.0.0.0/8\",\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/126\"}",
		 "IPv6Network is too small");
}

static void test_no_family(void **state)
{
	struct netconf nc;
	struct err err;
	const char *json = "{\"EnableIPv4\":false,\"Network\":\"10.0.0.0/8\"}";

	(void)state;
	load_err(json, "none defined stack");
	load_err(json, "EnableIPv4");
	load_err("{\"EnableIPv4\":false,\"EnableIPv6\":false}", "none defined stack");
	/* decoding alone accepts it, as flannel's ParseConfig does */
	assert_int_equal(load_n(json, strlen(json), &nc, &err, false), 0);
	assert_false(nc.enable_ipv4);
	netconf_free(&nc);
}

/* Kube mode only decodes: no defaults, no range checks. */
static void test_parse_only(void **state)
{
	struct netconf nc;
	struct err err;
	char buf[IP_PREFIX_STRLEN];
	const char *json = "{\"Network\":\"10.0.0.0/30\",\"SubnetLen\":99,\"SubnetMin\":\"10.9.9.9\"}";

	(void)state;
	assert_int_equal(load_n(json, strlen(json), &nc, &err, false), 0);
	assert_string_equal(ip_prefix_format(&nc.network, buf), "10.0.0.0/30");
	assert_int_equal(nc.subnet_len, 99);
	assert_string_equal(ip_addr_format(&nc.subnet_min, buf), "10.9.9.9");
	assert_true(ip_addr_is_unset(&nc.subnet_max));
	/* then netconf_check is what refuses it */
	assert_int_equal(netconf_check(&nc, &err), -EINVAL);
	assert_string_equal(err.msg, "SubnetLen must be less than /31");
	netconf_free(&nc);

	json = "{\"Network\":\"10.3.0.0/16\"}";
	assert_int_equal(load_n(json, strlen(json), &nc, &err, false), 0);
	assert_int_equal(nc.subnet_len, 0);
	assert_true(ip_addr_is_unset(&nc.subnet_min));
	assert_int_equal(netconf_check(&nc, &err), 0);
	check_v4(&nc, "10.3.0.0/16", 24, "10.3.1.0", "10.3.255.0");
	netconf_free(&nc);
}

/* ---- Go encoding/json decoding rules ---- */

static void test_key_case(void **state)
{
	struct netconf nc;

	(void)state;
	load_ok("{\"NETWORK\":\"10.3.0.0/16\",\"subnetlen\":26,\"SUBNETMIN\":\"10.3.1.0\","
		"\"subnetMax\":\"10.3.2.0\",\"enableipv6\":true,\"IPV6NETWORK\":\"fc00::/48\","
		"\"ipv6subnetlen\":80,\"Ipv6SubnetMin\":\"fc00:0:0:1::\",\"ipv6SUBNETmax\":"
		"\"fc00:0:0:2::\",\"enablenftables\":true,\"BACKEND\":{\"tYpE\":\"Host-GW\"}}",
		&nc);
	check_v4(&nc, "10.3.0.0/16", 26, "10.3.1.0", "10.3.2.0");
	check_v6(&nc, "fc00::/48", 80, "fc00:0:0:1::", "fc00:0:0:2::");
	assert_true(nc.enable_nftables);
	assert_string_equal(nc.backend_type, "host-gw");
	netconf_free(&nc);

	load_ok("{\"network\":\"10.3.0.0/16\",\"enableipv4\":false,\"ENABLEIPV6\":true,"
		"\"ipv6network\":\"fc00::/48\"}",
		&nc);
	assert_false(nc.enable_ipv4);
	netconf_free(&nc);
}

/* Go folds runes with ToUpper(ToLower(r)): four non-ASCII runes land on
 * ASCII letters, and escapes are decoded before matching. */
static void test_key_unicode_fold(void **state)
{
	struct netconf nc;

	(void)state;
	/* U+017F LATIN SMALL LETTER LONG S, U+212A KELVIN SIGN */
	load_ok("{\"Networ\xe2\x84\xaa\":\"10.3.0.0/16\",\"\xc5\xbfubnetLen\":26}", &nc);
	check_v4(&nc, "10.3.0.0/16", 26, "10.3.0.64", "10.3.255.192");
	netconf_free(&nc);
	/* U+0130 and U+0131, dotted and dotless I */
	load_ok("{\"Network\":\"10.3.0.0/16\",\"EnableIPv6\":true,"
		"\"\xc4\xb0Pv6Network\":\"fc00::/48\",\"\xc4\xb1pv6SubnetLen\":56}",
		&nc);
	check_v6(&nc, "fc00::/48", 56, "fc00:0:0:100::", "fc00:0:0:ff00::");
	netconf_free(&nc);
	/* escaped keys */
	load_ok("{\"Net\\u0077ork\":\"10.3.0.0/16\",\"\\u0053ubnetLen\":25,"
		"\"Backend\":{\"\\u0054ype\":\"ipip\"}}",
		&nc);
	check_v4(&nc, "10.3.0.0/16", 25, "10.3.0.128", "10.3.255.128");
	assert_string_equal(nc.backend_type, "ipip");
	netconf_free(&nc);
	load_err("{\"Network\":\"10.3.0.0/16\",\"\\u017fubnetLen\":\"x\"}", "SubnetLen");
	load_err("{\"Network\":\"10.3.0.0/16\",\"\\u0130pv6SubnetLen\":\"x\"}", "IPv6SubnetLen");
	load_ok("{\"Network\":\"10.3.0.0/16\",\"Subnet\\u017fLen\":\"not a number\"}", &nc);
	netconf_free(&nc);
	/* near misses are unknown keys, so ignored */
	load_ok("{\"Network\":\"10.3.0.0/16\",\"Netw\xc3\xb6rk\":1,\"Network \":2,\"Net-work\":3,"
		"\"SubnetLe\":\"x\",\"SubnetLenn\":\"x\",\"\":1}",
		&nc);
	check_v4(&nc, "10.3.0.0/16", 24, "10.3.1.0", "10.3.255.0");
	netconf_free(&nc);
}

static void test_duplicate_keys(void **state)
{
	struct netconf nc;

	(void)state;
	load_ok("{\"Network\":\"10.0.0.0/8\",\"network\":\"10.3.0.0/16\"}", &nc);
	check_v4(&nc, "10.3.0.0/16", 24, "10.3.1.0", "10.3.255.0");
	netconf_free(&nc);
	/* document order, even across exact duplicates (a plain jansson tree
	 * would keep the first position of "network" with its last value) */
	load_ok("{\"network\":\"10.1.0.0/16\",\"Network\":\"10.2.0.0/16\","
		"\"network\":\"10.3.0.0/16\"}",
		&nc);
	check_v4(&nc, "10.3.0.0/16", 24, "10.3.1.0", "10.3.255.0");
	netconf_free(&nc);
	load_ok("{\"network\":\"10.1.0.0/16\",\"Network\":\"10.2.0.0/16\","
		"\"network\":\"10.3.0.0/16\",\"Network\":\"10.2.0.0/16\"}",
		&nc);
	check_v4(&nc, "10.2.0.0/16", 24, "10.2.1.0", "10.2.255.0");
	netconf_free(&nc);
	/* null leaves a Go bool or uint alone */
	load_ok("{\"EnableIPv6\":true,\"enableipv6\":null,\"IPv6Network\":\"fc00::/48\","
		"\"Network\":\"10.3.0.0/16\",\"SubnetLen\":26,\"subnetlen\":null}",
		&nc);
	assert_true(nc.enable_ipv6);
	assert_int_equal(nc.subnet_len, 26);
	netconf_free(&nc);
	/* but a null IPv6SubnetMin (a Go pointer) resets it */
	load_ok("{\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/48\",\"EnableIPv4\":false,"
		"\"IPv6SubnetMin\":\"fc00:0:0:5::\",\"ipv6subnetmin\":null}",
		&nc);
	check_v6(&nc, "fc00::/48", 64, "fc00:0:0:1::", "fc00:0:0:ffff::");
	netconf_free(&nc);
	/* a bad value is an error even if a later duplicate is good */
	load_err("{\"SubnetLen\":\"x\",\"Network\":\"10.3.0.0/16\",\"SubnetLen\":24}", "SubnetLen");
	/* Backend: the last one wins, and so does the last Type in it */
	check_backend("{\"Network\":\"10.3.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"},"
		      "\"backend\":{\"Type\":\"host-gw\"}}",
		      "host-gw", "{\"Type\":\"host-gw\"}", false);
	check_backend("{\"Network\":\"10.3.0.0/16\",\"Backend\":{\"Type\":\"vxlan\",\"type\":\"IPIP\"}}",
		      "ipip", "{\"Type\":\"vxlan\",\"type\":\"IPIP\"}", false);
	check_backend("{\"Network\":\"10.3.0.0/16\",\"Backend\":{\"Type\":\"vxlan\",\"TYPE\":null}}",
		      "vxlan", "{\"Type\":\"vxlan\",\"TYPE\":null}", false);
}

static void test_unknown_keys(void **state)
{
	struct netconf nc;

	(void)state;
	/* BackendType is `json:"-"` upstream, so it is just another unknown key */
	load_ok("{\"Foo\":{\"deep\":[1,2,{\"x\":null,\"Network\":5}]},\"Network\":\"10.3.0.0/16\","
		"\"BackendType\":\"vxlan\",\"Bar\":[\"}\",\"]\",\"\\\"\"],\"Baz\":-1.5e3,"
		"\"Networks\":[\"10.0.0.0/8\",\"10.1.0.0/16\"],\"IPv6Networks\":null,"
		"\"Qux\":\"\\u0000\"}",
		&nc);
	check_v4(&nc, "10.3.0.0/16", 24, "10.3.1.0", "10.3.255.0");
	assert_string_equal(nc.backend_type, "udp");
	assert_true(nc.backend_defaulted);
	netconf_free(&nc);
}

static void test_backend(void **state)
{
	(void)state;
	check_backend("{\"Network\":\"10.3.0.0/16\"}", "udp", NULL, true);
	check_backend("{\"Network\":\"10.3.0.0/16\",\"Backend\":{\"Type\":\"VXLAN\"}}", "vxlan",
		      "{\"Type\":\"VXLAN\"}", false);
	check_backend("{\"Network\":\"10.3.0.0/16\",\"Backend\":{\"Type\":\"Host-GW\"}}", "host-gw",
		      "{\"Type\":\"Host-GW\"}", false);
	/* present but typeless: "" (the backend lookup then says "unknown backend type") */
	check_backend("{\"Network\":\"10.3.0.0/16\",\"Backend\":{}}", "", "{}", false);
	check_backend("{\"Network\":\"10.3.0.0/16\",\"Backend\":{\"Type\":null}}", "",
		      "{\"Type\":null}", false);
	check_backend("{\"Network\":\"10.3.0.0/16\",\"Backend\":null}", "", "null", false);
	check_backend("{\"Network\":\"10.3.0.0/16\",\"Backend\":{\"VNI\":4}}", "", "{\"VNI\":4}",
		      false);
	/* whitespace outside strings goes, everything else stays as written */
	check_backend("{\"Network\":\"10.3.0.0/16\",\"Backend\": {\n\t\"Type\" : \"vxlan\" ,\r\n"
		      "  \"VNI\" : 4 , \"Name\" : \"a b\\t\\\" c\", \"L\": [ 1 , { } ] }\n}",
		      "vxlan", "{\"Type\":\"vxlan\",\"VNI\":4,\"Name\":\"a b\\t\\\" c\",\"L\":[1,{}]}",
		      false);
	/* Type escapes are decoded; Go's ToLower maps U+0130 and U+212A to ASCII */
	check_backend("{\"Network\":\"10.3.0.0/16\",\"Backend\":{\"Type\":\"\\u0076xlan\"}}",
		      "vxlan", "{\"Type\":\"\\u0076xlan\"}", false);
	check_backend("{\"Network\":\"10.3.0.0/16\",\"Backend\":{\"Type\":\"\xc4\xb0P\xc4\xb0P\"}}",
		      "ipip", "{\"Type\":\"\xc4\xb0P\xc4\xb0P\"}", false);
	/* an embedded NUL must not cut the name short */
	check_backend("{\"Network\":\"10.3.0.0/16\",\"Backend\":{\"Type\":\"vxlan\\u0000\"}}",
		      "vxlan\\u0000", "{\"Type\":\"vxlan\\u0000\"}", false);
	/* long names are kept whole */
	check_backend("{\"Network\":\"10.3.0.0/16\",\"Backend\":{\"Type\":"
		      "\"a-very-long-backend-type-name-that-is-longer-than-32-bytes\"}}",
		      "a-very-long-backend-type-name-that-is-longer-than-32-bytes",
		      "{\"Type\":\"a-very-long-backend-type-name-that-is-longer-than-32-bytes\"}",
		      false);
}

static void test_wrong_types(void **state)
{
	(void)state;
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":\"24\"}", "SubnetLen");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":-1}", "SubnetLen");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":24.0}", "SubnetLen");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":2.4e1}", "SubnetLen");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":1E1}", "SubnetLen");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":-0}", "SubnetLen");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":true}", "SubnetLen");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":[24]}", "SubnetLen");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetLen\":{}}", "SubnetLen");
	load_err("{\"Network\":\"10.3.0.0/16\",\"IPv6SubnetLen\":\"64\"}", "IPv6SubnetLen");
	load_err("{\"Network\":\"10.3.0.0/16\",\"EnableIPv4\":\"true\"}", "EnableIPv4");
	load_err("{\"Network\":\"10.3.0.0/16\",\"EnableIPv4\":1}", "EnableIPv4");
	load_err("{\"Network\":\"10.3.0.0/16\",\"EnableIPv6\":0}", "EnableIPv6");
	load_err("{\"Network\":\"10.3.0.0/16\",\"EnableNFTables\":\"false\"}", "EnableNFTables");
	load_err("{\"Network\":\"10.3.0.0/16\",\"EnableNFTables\":[]}", "EnableNFTables");

	load_err("{\"Network\":10}", "Network");
	load_err("{\"Network\":null}", "Network");
	load_err("{\"Network\":true}", "Network");
	load_err("{\"Network\":{}}", "Network");
	load_err("{\"Network\":[\"10.3.0.0/16\"]}", "Network");
	load_err("{\"Network\":\"\"}", "Network: invalid CIDR address");
	load_err("{\"Network\":\"10.3.0.0\"}", "Network: invalid CIDR address: 10.3.0.0");
	load_err("{\"Network\":\"10.3.0.0/33\"}", "Network: invalid CIDR address");
	load_err("{\"Network\":\"010.3.0.0/16\"}", "Network: invalid CIDR address");
	load_err("{\"Network\":\" 10.3.0.0/16\"}", "Network: invalid CIDR address");
	load_err("{\"Network\":\"fc00::/48\"}", "Network: fc00::/48 is not an IPv4 network");
	/* flannel parses the raw text: escapes are not decoded */
	load_err("{\"Network\":\"10.3.0.0\\/16\"}", "Network: invalid CIDR address");
	load_err("{\"Network\":\"\\u0031\\u0030.3.0.0/16\"}", "Network: invalid CIDR address");
	load_err("{\"Network\":\"10.3.0.0/16\\u0000\"}", "Network: invalid CIDR address");
	load_err("{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":\"10.0.0.0/8\"}",
		 "IPv6Network: 10.0.0.0/8 is not an IPv6 network");
	load_err("{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":null}", "IPv6Network");
	load_err("{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/129\"}",
		 "IPv6Network: invalid CIDR address");

	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":\"fc00::\"}",
		 "SubnetMin: fc00:: is not an IPv4 address");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":\"10.3.1\"}",
		 "SubnetMin: invalid IP address");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":\"10.3.1.0/24\"}", "SubnetMin");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetMin\":null}", "SubnetMin");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetMax\":5}", "SubnetMax");
	load_err("{\"Network\":\"10.3.0.0/16\",\"SubnetMax\":\"\"}", "SubnetMax");
	load_err("{\"Network\":\"10.3.0.0/16\",\"IPv6SubnetMin\":\"fc00::/64\"}", "IPv6SubnetMin");
	load_err("{\"Network\":\"10.3.0.0/16\",\"IPv6SubnetMax\":7}", "IPv6SubnetMax");

	load_err("{\"Network\":\"10.3.0.0/16\",\"Networks\":\"10.0.0.0/8\"}", "Networks");
	load_err("{\"Network\":\"10.3.0.0/16\",\"Networks\":[\"bogus\"]}", "Networks");
	load_err("{\"Network\":\"10.3.0.0/16\",\"Networks\":[\"fc00::/8\"]}", "Networks");
	load_err("{\"Network\":\"10.3.0.0/16\",\"Networks\":[null]}", "Networks");
	load_err("{\"Network\":\"10.3.0.0/16\",\"IPv6Networks\":{}}", "IPv6Networks");
	load_err("{\"Network\":\"10.3.0.0/16\",\"IPv6Networks\":[\"fc00::/8\",5]}", "IPv6Networks");

	load_err("{\"Network\":\"10.3.0.0/16\",\"Backend\":\"vxlan\"}",
		 "error decoding Backend property of config");
	load_err("{\"Network\":\"10.3.0.0/16\",\"Backend\":[]}", "Backend");
	load_err("{\"Network\":\"10.3.0.0/16\",\"Backend\":5}", "Backend");
	load_err("{\"Network\":\"10.3.0.0/16\",\"Backend\":true}", "Backend");
	load_err("{\"Network\":\"10.3.0.0/16\",\"Backend\":{\"Type\":5}}", "Backend");
	load_err("{\"Network\":\"10.3.0.0/16\",\"Backend\":{\"type\":[\"vxlan\"]}}", "Type");

	/* every field is decoded, even for a disabled family */
	load_err("{\"EnableIPv4\":false,\"Network\":5,\"EnableIPv6\":true,\"IPv6Network\":\"fc00::/48\"}",
		 "Network");
	load_err("{\"Network\":\"10.3.0.0/16\",\"IPv6Network\":\"bogus\"}", "IPv6Network");
	/* parse errors are parse errors, not check errors */
	parse_err("{\"SubnetLen\":\"24\"}", "SubnetLen");
	parse_err("{\"Backend\":\"vxlan\"}", "Backend");
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "{\"Network\":}", "{'Network':'10.0.0.0/8'}",
		"{\"Network\":\"10.0.0.0/8\",}", "{} {}", "{\"Network\":\"10.0.0.0/8\"} x",
		"{\"Network\":\"10.0.0.0/8}", "{\"Network\":\"10.0.0.0/8\" \"SubnetLen\":24}",
		"{\"Network\":\"10.0.0.0/8\",\"Backend\":{\"Type\":\"vxlan\"}", "{\"a\":tru}",
		"{\"a\":01}", "{\"a\":.5}", "{\"a\":\"\\x\"}", "{\"a\":\"\t\"}", "{\"a\":[1,]}",
		"{\"a\" 1}", "{\"a\":NaN}", "{\"a\":1}}", "nul", "\xef\xbb\xbf{}",
	};
	struct netconf nc;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (load_n(bad[i], strlen(bad[i]), &nc, &err, false) != -EINVAL)
			fail_msg("netconf_parse(%s) should fail", bad[i]);
		assert_non_null(strstr(err.msg, "JSON"));
		assert_null(nc.backend_type);
	}
	/* a NUL byte inside the buffer is not the end of the text */
	assert_int_equal(load_n("{\"Network\":\"10.3.0.0/16\"}\0junk", 30, &nc, &err, true),
			 -EINVAL);
	assert_int_equal(load_n("{\"Network\":\"10.3.0.0/16\"}\0", 26, &nc, &err, true), -EINVAL);
	/* jansson alone would skip this NUL (found by fuzz_netconf) */
	assert_int_equal(load_n("{\"Network\":\"10.3.0.0/16\",\"Backend\":{\"VNI\":[1\0,2]}}", 50,
				&nc, &err, true),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "NUL byte at offset 44"));
	/* no NUL terminator is needed */
	assert_int_equal(load_n("{\"Network\":\"10.3.0.0/16\"}xx", 25, &nc, &err, true), 0);
	netconf_free(&nc);
}

static void test_top_level(void **state)
{
	struct netconf nc;
	struct err err;

	(void)state;
	load_err("[]", "config must be a JSON object");
	load_err("[{\"Network\":\"10.3.0.0/16\"}]", "config must be a JSON object");
	load_err("\"{}\"", "config must be a JSON object");
	load_err("5", "config must be a JSON object");
	load_err("true", "config must be a JSON object");
	/* Go decodes a top-level null into a struct without complaint */
	assert_int_equal(load_n(" null ", 6, &nc, &err, false), 0);
	assert_true(nc.enable_ipv4);
	assert_string_equal(nc.backend_type, "udp");
	netconf_free(&nc);
	load_err("null", "please define a correct Network parameter");
	/* surrounding whitespace is fine */
	load_ok(" \r\n\t{\"Network\":\"10.3.0.0/16\"} \n", &nc);
	netconf_free(&nc);
}

static void test_size_limit(void **state)
{
	const char *head = "{\"Network\":\"10.3.0.0/16\"}";
	size_t n = NETCONF_MAX_SIZE;
	struct netconf nc;
	struct err err;
	char *big = malloc(n + 1);

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n + 1);
	memcpy(big, head, strlen(head));
	assert_int_equal(load_n(big, n, &nc, &err, true), 0);
	netconf_free(&nc);
	assert_int_equal(load_n(big, n + 1, &nc, &err, true), -E2BIG);
	assert_non_null(strstr(err.msg, "1 MiB"));
	assert_null(nc.backend_type);
	free(big);
}

static void test_deep_nesting(void **state)
{
	const char *head = "{\"Network\":\"10.3.0.0/16\",\"Backend\":";
	size_t depth = 1000, n;
	struct netconf nc;
	struct err err;
	char *s = malloc(2 * depth + 64);

	(void)state;
	assert_non_null(s);
	n = strlen(head);
	memcpy(s, head, n);
	for (size_t i = 0; i < depth; i++)
		s[n++] = '[';
	for (size_t i = 0; i < depth; i++)
		s[n++] = ']';
	s[n++] = '}';
	assert_int_equal(load_n(s, n, &nc, &err, true), -EINVAL);
	assert_non_null(strstr(err.msg, "Backend"));
	free(s);
}

static void test_free_and_null_err(void **state)
{
	struct netconf nc;

	(void)state;
	memset(&nc, 0, sizeof(nc));
	netconf_free(&nc);
	netconf_free(NULL);
	assert_int_equal(netconf_load("{}", 2, &nc, NULL), -EINVAL);
	assert_int_equal(netconf_load("{", 1, &nc, NULL), -EINVAL);
	assert_int_equal(netconf_load("{\"Network\":\"10.3.0.0/16\"}", 25, &nc, NULL), 0);
	netconf_free(&nc);
	netconf_free(&nc); /* zeroed by the first call */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upstream_defaults),
		cmocka_unit_test(test_upstream_ipv6_defaults),
		cmocka_unit_test(test_upstream_overrides),
		cmocka_unit_test(test_upstream_ipv6_overrides),
		cmocka_unit_test(test_v4_defaults),
		cmocka_unit_test(test_v6_defaults),
		cmocka_unit_test(test_docs_example),
		cmocka_unit_test(test_default_manifest),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_ipv6_only),
		cmocka_unit_test(test_host_bits_dropped),
		cmocka_unit_test(test_explicit_values),
		cmocka_unit_test(test_v4_errors),
		cmocka_unit_test(test_v6_errors),
		cmocka_unit_test(test_no_family),
		cmocka_unit_test(test_parse_only),
		cmocka_unit_test(test_key_case),
		cmocka_unit_test(test_key_unicode_fold),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_backend),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_free_and_null_err),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
