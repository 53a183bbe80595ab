// SPDX-License-Identifier: Apache-2.0
/*
 * The CNI plugin's pure parts (spec §11.1-11.3): stdin decoding, the plugin's
 * subnet.env reader, the delegate configuration byte for byte as upstream's
 * json.Marshal writes it, and every configuration error with its code and
 * message. The plugin's sources are compiled in (as wg's fuzzers do), since
 * they are not part of libweft.a.
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
#include <unistd.h>

#include "../../cni/conf.c"
#include "../../cni/delegate.c"
#include "../../cni/gojson.c"
#include "../../cni/result.c"
#include "../../cni/version.c"

static const char env_v4[] = "FLANNEL_NETWORK=10.1.0.0/16\n"
			     "FLANNEL_SUBNET=10.1.17.1/24\n"
			     "FLANNEL_MTU=1472\n"
			     "FLANNEL_IPMASQ=true\n";
static const char env_v6[] = "FLANNEL_IPV6_NETWORK=fc00::/48\n"
			     "FLANNEL_IPV6_SUBNET=fc00::1/64\n"
			     "FLANNEL_MTU=1472\n"
			     "FLANNEL_IPMASQ=true\n";
static const char env_dual[] = "FLANNEL_NETWORK=10.1.0.0/16\n"
			       "FLANNEL_SUBNET=10.1.17.1/24\n"
			       "FLANNEL_IPV6_NETWORK=fc00::/48\n"
			       "FLANNEL_IPV6_SUBNET=fc00::1/64\n"
			       "FLANNEL_MTU=1472\n"
			       "FLANNEL_IPMASQ=true\n";
static const char env_two_networks[] = "FLANNEL_NETWORK=10.1.0.0/16,192.168.0.0/16\n"
				       "FLANNEL_SUBNET=10.1.17.1/24\n"
				       "FLANNEL_MTU=1472\n"
				       "FLANNEL_IPMASQ=true\n";

/* Build the delegate for stdin + subnet.env text; its bytes, or NULL with
 * *e set. The caller frees the result. */
static char *delegate_for(const char *in, const char *env_text, struct cni_error *e)
{
	struct flannel_env env;
	struct cni_conf c;
	json_t *d = NULL;
	struct buf out;
	char *s = NULL;

	memset(e, 0, sizeof(*e));
	buf_init(&out, DELEGATE_MAX_SIZE);
	if (cni_conf_parse(in, strlen(in), &c, e) < 0)
		return NULL;
	if (delegate_check(&c, e) == 0 && flannel_env_parse("/run/flannel/subnet.env", env_text,
							    strlen(env_text), &env, e) == 0) {
		if (delegate_build(&c, &env, &d, e) == 0 && delegate_encode(d, &out, e) == 0)
			s = strdup(out.data);
		flannel_env_free(&env);
	}
	json_decref(d);
	buf_free(&out);
	cni_conf_free(&c);
	return s;
}

static void assert_delegate(const char *in, const char *env_text, const char *want)
{
	struct cni_error e;
	char *got = delegate_for(in, env_text, &e);

	if (!got)
		fail_msg("unexpected error %u: %s", e.code, e.msg);
	assert_string_equal(got, want);
	free(got);
}

static void assert_error(const char *in, const char *env_text, unsigned code, const char *msg)
{
	struct cni_error e;
	char *got = delegate_for(in, env_text, &e);

	if (got)
		fail_msg("expected error %u, got %s", code, got);
	assert_int_equal(e.code, code);
	if (!strstr(e.msg, msg))
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, msg);
}

/* §11.3's example: flannel's default manifest, byte for byte. */
static void test_default_manifest(void **state)
{
	(void)state;
	assert_delegate(
		"{\"name\":\"cbr0\",\"cniVersion\":\"0.3.1\",\"type\":\"flannel\","
		"\"delegate\":{\"hairpinMode\":true,\"isDefaultGateway\":true}}",
		"FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\n"
		"FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n",
		"{\"cniVersion\":\"0.3.1\",\"hairpinMode\":true,\"ipMasq\":false,"
		"\"ipam\":{\"ranges\":[[{\"subnet\":\"10.244.1.0/24\"}]],"
		"\"routes\":[{\"dst\":\"10.244.0.0/16\"}],\"type\":\"host-local\"},"
		"\"isDefaultGateway\":true,\"isGateway\":true,\"mtu\":1450,\"name\":\"cbr0\","
		"\"type\":\"bridge\"}");
}

/* The stacks of upstream's flannel_linux_test.go. */
static void test_stacks(void **state)
{
	static const char in[] = "{\"name\":\"cni-flannel\",\"type\":\"flannel\"}";

	(void)state;
	assert_delegate(
		in, env_v4,
		"{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
		"\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},"
		"\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
	assert_delegate(
		in, env_v6,
		"{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"fc00::/64\"}]],"
		"\"routes\":[{\"dst\":\"fc00::/48\"}],\"type\":\"host-local\"},"
		"\"isGateway\":true,\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
	assert_delegate(in, env_dual,
			"{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}],"
			"[{\"subnet\":\"fc00::/64\"}]],\"routes\":[{\"dst\":\"10.1.0.0/16\"},"
			"{\"dst\":\"fc00::/48\"}],\"type\":\"host-local\"},\"isGateway\":true,"
			"\"mtu\":1472,\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
	assert_delegate(in, env_two_networks,
			"{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
			"\"routes\":[{\"dst\":\"10.1.0.0/16\"},{\"dst\":\"192.168.0.0/16\"}],"
			"\"type\":\"host-local\"},\"isGateway\":true,\"mtu\":1472,"
			"\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
	/* IPMASQ other than "true": the bridge masquerades. */
	assert_delegate(
		in,
		"FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\n"
		"FLANNEL_MTU=1500\nFLANNEL_IPMASQ=false\n",
		"{\"ipMasq\":true,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
		"\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},"
		"\"isGateway\":true,\"mtu\":1500,\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
}

/* getDelegateIPAM: custom type, input routes first, unknown keys kept. */
static void test_custom_ipam(void **state)
{
	static const char routes[] = "\"routes\":[{\"dst\":\"10.96.0.0/12\"},"
				     "{\"dst\":\"192.168.244.0/24\",\"gw\":\"10.1.17.20\"}]";
	char in[512];

	(void)state;
	snprintf(in, sizeof(in),
		 "{\"name\":\"cni-flannel\",\"type\":\"flannel\",\"ipam\":{\"type\":\"my-ipam\","
		 "\"unknown-param\":\"unknown-value\",%s}}",
		 routes);
	assert_delegate(in, env_v4,
			"{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
			"\"routes\":[{\"dst\":\"10.96.0.0/12\"},{\"dst\":\"192.168.244.0/24\","
			"\"gw\":\"10.1.17.20\"},{\"dst\":\"10.1.0.0/16\"}],\"type\":\"my-ipam\","
			"\"unknown-param\":\"unknown-value\"},\"isGateway\":true,\"mtu\":1472,"
			"\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
	assert_delegate(
		in, env_dual,
		"{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}],"
		"[{\"subnet\":\"fc00::/64\"}]],\"routes\":[{\"dst\":\"10.96.0.0/12\"},"
		"{\"dst\":\"192.168.244.0/24\",\"gw\":\"10.1.17.20\"},{\"dst\":\"10.1.0.0/16\"},"
		"{\"dst\":\"fc00::/48\"}],\"type\":\"my-ipam\","
		"\"unknown-param\":\"unknown-value\"},\"isGateway\":true,\"mtu\":1472,"
		"\"name\":\"cni-flannel\",\"type\":\"bridge\"}");
	/* Without a type: host-local; input ranges are replaced. */
	snprintf(in, sizeof(in),
		 "{\"name\":\"n\",\"ipam\":{\"ranges\":[[{\"subnet\":\"1.2.3.0/24\"}]],%s}}",
		 routes);
	assert_delegate(in, env_v6,
			"{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"fc00::/64\"}]],"
			"\"routes\":[{\"dst\":\"10.96.0.0/12\"},{\"dst\":\"192.168.244.0/24\","
			"\"gw\":\"10.1.17.20\"},{\"dst\":\"fc00::/48\"}],\"type\":\"host-local\"},"
			"\"isGateway\":true,\"mtu\":1472,\"name\":\"n\",\"type\":\"bridge\"}");
}

/* Routes go through libcni's types.Route: struct field order, unknown keys
 * dropped, addresses normalised, dst's host bits kept, zero ints omitted. */
static void test_routes_normalised(void **state)
{
	(void)state;
	assert_delegate(
		"{\"name\":\"n\",\"ipam\":{\"routes\":[{\"scope\":0,\"table\":100,\"priority\":5,"
		"\"advmss\":1400,\"mtu\":0,\"GW\":\"2001:DB8:0:0::1\",\"Dst\":\"2001:db8::1/64\","
		"\"junk\":1},{\"dst\":\"10.96.0.1/12\",\"gw\":\"\",\"table\":null}]}}",
		env_v4,
		"{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
		"\"routes\":[{\"dst\":\"2001:db8::1/64\",\"gw\":\"2001:db8::1\",\"advmss\":1400,"
		"\"priority\":5,\"table\":100,\"scope\":0},{\"dst\":\"10.96.0.1/12\"},"
		"{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},\"isGateway\":true,"
		"\"mtu\":1472,\"name\":\"n\",\"type\":\"bridge\"}");
}

/* Keys given in the delegate win; everything else passes through, sorted. */
static void test_passthrough(void **state)
{
	(void)state;
	/* Not a bridge: no isGateway; ipMasq, mtu kept; nested maps sorted;
	 * runtimeConfig copied; numbers as Go's float64. */
	assert_delegate(
		"{\"name\":\"n\",\"cniVersion\":\"1.0.0\",\"runtimeConfig\":{\"portMappings\":"
		"[{\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"tcp\"}]},"
		"\"delegate\":{\"type\":\"ptp\",\"ipMasq\":true,\"mtu\":9000,\"zz\":"
		"{\"b\":1.5,\"a\":[1e21,1e-7,0.1,100000000000000000000]},\"cniVersion\":\"0.1.0\","
		"\"html\":\"<a&b>\"}}",
		env_v4,
		"{\"cniVersion\":\"1.0.0\",\"html\":\"\\u003ca\\u0026b\\u003e\",\"ipMasq\":true,"
		"\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
		"\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},\"mtu\":9000,"
		"\"name\":\"n\",\"runtimeConfig\":{\"portMappings\":[{\"containerPort\":80,"
		"\"hostPort\":8080,\"protocol\":\"tcp\"}]},\"type\":\"ptp\","
		"\"zz\":{\"a\":[1e+21,1e-7,0.1,100000000000000000000],\"b\":1.5}}");
	/* bridge with isGateway given: kept. */
	assert_delegate("{\"name\":\"n\",\"delegate\":{\"isGateway\":false,\"type\":\"bridge\"}}",
			env_v4,
			"{\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],"
			"\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},"
			"\"isGateway\":false,\"mtu\":1472,\"name\":\"n\",\"type\":\"bridge\"}");
	/* Top-level keys match case-insensitively (Go struct fields), and an
	 * empty or null dataDir/subnetFile means the default. */
	assert_delegate("{\"Name\":\"n\",\"DELEGATE\":{\"hairpinMode\":true},\"IPAM\":{\"x\":1},"
			"\"dataDir\":\"\",\"subnetFile\":null}",
			env_v4,
			"{\"hairpinMode\":true,\"ipMasq\":false,\"ipam\":{\"ranges\":[[{\"subnet\":"
			"\"10.1.17.0/24\"}]],\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":"
			"\"host-local\",\"x\":1},\"isGateway\":true,\"mtu\":1472,\"name\":\"n\","
			"\"type\":\"bridge\"}");
}

static void test_conf_defaults(void **state)
{
	struct cni_error e = {0};
	struct cni_conf c;
	static const char in[] = "{\"name\":\"cni-flannel\",\"type\":\"flannel\"}";
	static const char in2[] = "{\"name\":\"cni-flannel\",\"type\":\"flannel\",\"subnetFile\":"
				  "\"/tmp/s.env\",\"dataDir\":\"/tmp/d\",\"prevResult\":{\"a\":1}}";

	(void)state;
	assert_int_equal(cni_conf_parse(in, strlen(in), &c, &e), 0);
	assert_string_equal(c.name, "cni-flannel");
	assert_string_equal(c.subnet_file, "/run/flannel/subnet.env");
	assert_string_equal(c.data_dir, "/var/lib/cni/flannel");
	assert_string_equal(c.cni_version, "");
	assert_null(c.delegate);
	assert_null(c.prev_result);
	cni_conf_free(&c);
	assert_int_equal(cni_conf_parse(in2, strlen(in2), &c, &e), 0);
	assert_string_equal(c.subnet_file, "/tmp/s.env");
	assert_string_equal(c.data_dir, "/tmp/d");
	assert_non_null(c.prev_result);
	cni_conf_free(&c);
}

static void test_conf_errors(void **state)
{
	(void)state;
	assert_error("{\"name\":", env_v4, 6, "error unmarshall network config:");
	assert_error("[1,2]", env_v4, 6,
		     "error unmarshall network config: json: cannot unmarshal array into Go value "
		     "of type main.NetConf");
	assert_error("{\"type\":\"flannel\"}", env_v4, 7, "missing network name");
	assert_error("{\"name\":\"\"}", env_v4, 7, "missing network name");
	assert_error("{\"name\":\"a b\"}", env_v4, 7, "invalid characters found in network name");
	assert_error("{\"name\":5}", env_v4, 6,
		     "json: cannot unmarshal number into Go struct field NetConf.name of type "
		     "string");
	assert_error("{\"name\":\"n\",\"subnetFile\":5}", env_v4, 6,
		     "failed to load netconf: json: cannot unmarshal number into Go struct field "
		     "NetConf.subnetFile of type string");
	assert_error("{\"name\":\"n\",\"delegate\":[]}", env_v4, 6,
		     "cannot unmarshal array into Go struct field NetConf.delegate of type "
		     "map[string]interface {}");
	assert_error("{\"name\":\"n\",\"delegate\":{\"name\":\"x\"}}", env_v4, 7,
		     "'delegate' dictionary must not have 'name' field, it'll be set by flannel");
	assert_error("{\"name\":\"n\",\"delegate\":{\"ipam\":{}}}", env_v4, 7,
		     "'delegate' dictionary must not have 'ipam' field, it'll be set by flannel");
	assert_error("{\"name\":\"n\",\"delegate\":{\"type\":1}}", env_v4, 7,
		     "'delegate' dictionary, if present, must have (string) 'type' field");
	assert_error(
		"{\"name\":\"n\",\"ipam\":{\"routes\":{}}}", env_v4, 7,
		"failed to assemble Delegate IPAM: failed to read IPAM routes: failed to parse "
		"ipam.routes: json: cannot unmarshal object into Go value of type "
		"[]types.Route");
	assert_error("{\"name\":\"n\",\"ipam\":{\"routes\":[{\"dst\":\"10.0.0.0/33\"}]}}", env_v4,
		     7, "failed to parse ipam.routes: invalid CIDR address: 10.0.0.0/33");
	assert_error(
		"{\"name\":\"n\",\"ipam\":{\"routes\":[{\"dst\":\"10.0.0.0/8\",\"gw\":\"x\"}]}}",
		env_v4, 7, "failed to parse ipam.routes: invalid IP address: x");
	assert_error(
		"{\"name\":\"n\",\"ipam\":{\"routes\":[{\"dst\":\"10.0.0.0/8\",\"mtu\":1.5}]}}",
		env_v4, 7, "cannot unmarshal number into Go struct field route.mtu of type int");
	assert_error("{\"name\":\"n\",\"ipam\":{\"routes\":[{\"gw\":\"1.2.3.4\"}]}}", env_v4, 7,
		     "route without a \"dst\" string");
}

static void test_env_parse(void **state)
{
	struct cni_error e = {0};
	struct flannel_env env;
	char buf[IP_PREFIX_STRLEN];
	static const char text[] = "# comments are just unknown keys\r\n"
				   "FLANNEL_NETWORK=1.0.0.0/8\n"
				   "FLANNEL_NETWORK=10.1.0.0/16,10.1.2.3/16,192.168.0.0/16\r\n"
				   "FLANNEL_SUBNET=10.1.17.1/24\n"
				   "FLANNEL_IPV6_NETWORK=fc00::/48,fc00::/48\n"
				   "FLANNEL_IPV6_SUBNET=fc00::1/64\n"
				   "OTHER=x=y\n"
				   "FLANNEL_MTU=01472\n"
				   "FLANNEL_IPMASQ=True"; /* no final newline; not "true" */

	(void)state;
	assert_int_equal(flannel_env_parse("f", text, strlen(text), &env, &e), 0);
	/* a repeated line replaces the list; duplicates are dropped */
	assert_int_equal(env.n_nws, 2);
	assert_string_equal(ip_prefix_format(&env.nws[0], buf), "10.1.0.0/16");
	assert_string_equal(ip_prefix_format(&env.nws[1], buf), "192.168.0.0/16");
	assert_int_equal(env.n_ip6_nws, 1);
	assert_string_equal(ip_prefix_format(&env.ip6_nws[0], buf), "fc00::/48");
	assert_true(env.has_sn && env.has_ip6_sn);
	assert_string_equal(ip_prefix_format(&env.sn, buf), "10.1.17.0/24");
	assert_string_equal(ip_prefix_format(&env.ip6_sn, buf), "fc00::/64");
	assert_int_equal(env.mtu, 1472);
	assert_false(env.ipmasq);
	flannel_env_free(&env);
}

static void assert_env_error(const char *text, unsigned code, const char *msg)
{
	struct cni_error e = {0};
	struct flannel_env env;

	assert_int_equal(flannel_env_parse("/run/flannel/subnet.env", text, strlen(text), &env, &e),
			 -EINVAL);
	assert_int_equal(e.code, code);
	if (!strstr(e.msg, msg))
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, msg);
	assert_non_null(strstr(e.msg, "failed to load flannel 'subnet.env' file: "));
	assert_non_null(strstr(e.msg, ". Check the flannel pod log for this node."));
}

static void test_env_errors(void **state)
{
	(void)state;
	assert_env_error(
		"foo=bar", 7,
		"/run/flannel/subnet.env is missing FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK, "
		"FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ");
	assert_env_error("FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\n"
			 "FLANNEL_IPMASQ=true\n",
			 7, "/run/flannel/subnet.env is missing FLANNEL_MTU.");
	assert_env_error("FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_MTU=1\nFLANNEL_IPMASQ=true\n", 7,
			 "is missing FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET.");
	assert_env_error("FLANNEL_NETWORK=10.1.0.0/16, 10.2.0.0/16\n", 7,
			 "invalid CIDR address:  10.2.0.0/16.");
	assert_env_error("FLANNEL_SUBNET=10.1.17.1/33\n", 7, "invalid CIDR address: 10.1.17.1/33");
	assert_env_error("FLANNEL_SUBNET=10.1.17.1/24 \n", 7,
			 "invalid CIDR address: 10.1.17.1/24 ");
	assert_env_error("FLANNEL_NETWORK=\n", 7, "invalid CIDR address: .");
	assert_env_error("FLANNEL_MTU=abc\n", 7,
			 "strconv.ParseUint: parsing \"abc\": invalid syntax");
	assert_env_error("FLANNEL_MTU=\n", 7, "strconv.ParseUint: parsing \"\": invalid syntax");
	assert_env_error("FLANNEL_MTU=99999999999\n", 7,
			 "strconv.ParseUint: parsing \"99999999999\": value out of range");
	assert_env_error("FLANNEL_MTU=-1\n", 7, "parsing \"-1\": invalid syntax");
	assert_env_error("FLANNEL_IPMASQ\n", 7,
			 "/run/flannel/subnet.env: line 1: FLANNEL_IPMASQ has no value");
}

static void test_env_load(void **state)
{
	char dir[] = "/tmp/weft-cni-env.XXXXXX", path[256];
	struct cni_error e = {0};
	struct flannel_env env;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(flannel_env_load(path, &env, &e), -EINVAL);
	assert_int_equal(e.code, 5);
	snprintf(path, sizeof(path),
		 "failed to load flannel 'subnet.env' file: open %s/none: no "
		 "such file or directory. Check the flannel pod log for this node.",
		 dir);
	assert_string_equal(e.msg, path);

	memset(&e, 0, sizeof(e));
	assert_int_equal(flannel_env_load(dir, &env, &e), -EINVAL); /* a directory */
	assert_int_equal(e.code, 5);

	snprintf(path, sizeof(path), "%s/subnet.env", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(env_dual, f);
	fclose(f);
	assert_int_equal(flannel_env_load(path, &env, &e), 0);
	assert_int_equal(env.mtu, 1472);
	assert_true(env.ipmasq);
	flannel_env_free(&env);
	unlink(path);
	rmdir(dir);
}

static void assert_float(double f, const char *want)
{
	char buf[32];

	assert_int_equal(gojson_format_float(f, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

/* Go's float64 output (strconv 'f'/'e' shortest, as encoding/json does). */
static void test_go_numbers(void **state)
{
	char buf[32];

	(void)state;
	assert_float(1450, "1450");
	assert_float(0, "0");
	assert_float(-0.0, "-0");
	assert_float(0.1, "0.1");
	assert_float(-2.5, "-2.5");
	assert_float(1e20, "100000000000000000000");
	assert_float(1e21, "1e+21");
	assert_float(1.5e300, "1.5e+300");
	assert_float(0.000001, "0.000001");
	assert_float(1e-7, "1e-7");
	assert_float(1.25e-10, "1.25e-10");
	assert_float(123456789012345678.0, "123456789012345680");
	assert_float(3.141592653589793, "3.141592653589793");
	assert_float(5e-324, "5e-324");
	assert_float(1.7976931348623157e308, "1.7976931348623157e+308");
	assert_int_equal(gojson_format_float(NAN, buf, sizeof(buf)), -EINVAL);
}

static void assert_gostr(const char *in, size_t len, const char *want)
{
	struct buf b;

	buf_init(&b, 1024);
	assert_int_equal(gojson_encode_string(&b, in, len), 0);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

/* Go's string escaping, HTML-safe, with invalid UTF-8 as U+FFFD. */
static void test_go_strings(void **state)
{
	(void)state;
	assert_gostr("plain/ü€😀", strlen("plain/ü€😀"), "\"plain/ü€😀\"");
	assert_gostr("\"\\\b\f\n\r\t\x01\x1f\x7f", 10,
		     "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"");
	assert_gostr("<a href='x'>&</a>", 17,
		     "\"\\u003ca href='x'\\u003e\\u0026\\u003c/a\\u003e\"");
	assert_gostr("\xe2\x80\xa8\xe2\x80\xa9", 6, "\"\\u2028\\u2029\"");
	assert_gostr("a\xffz\xc0\xaf\xed\xa0\x80", 8,
		     "\"a\\ufffdz\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
	assert_gostr("nul\0x", 5, "\"nul\\u0000x\"");
}

static void test_versions(void **state)
{
	char list[256];
	int cmp;

	(void)state;
	assert_true(cni_version_supported("0.3.1"));
	assert_true(cni_version_supported("1.1.0"));
	assert_true(cni_version_supported("0.1.0"));
	assert_false(cni_version_supported("1.2.0"));
	assert_false(cni_version_supported(""));
	assert_int_equal(cni_version_cmp("0.3.1", "0.4.0", &cmp), 0);
	assert_int_equal(cmp, -1);
	assert_int_equal(cni_version_cmp("1.1", "1.1.0", &cmp), 0);
	assert_int_equal(cmp, 0);
	assert_int_equal(cni_version_cmp("", "0.1.0", &cmp), 0);
	assert_int_equal(cmp, 0);
	assert_int_equal(cni_version_cmp("10.0.0", "9.9.9", &cmp), 0);
	assert_int_equal(cmp, 1);
	assert_int_equal(cni_version_cmp("1.x", "1.0.0", &cmp), -EINVAL);
	assert_int_equal(cni_version_cmp("1.0.0.0", "1.0.0", &cmp), -EINVAL);
	cni_versions_quoted(list, sizeof(list));
	assert_string_equal(list, "[\"0.1.0\" \"0.2.0\" \"0.3.0\" \"0.3.1\" \"0.4.0\" \"1.0.0\" "
				  "\"1.1.0\"]");
}

static void test_error_object(void **state)
{
	struct cni_error e = {0};
	char buf[512];
	FILE *f;

	(void)state;
	cni_fail(&e, 7, "bad <%s>", "x");
	f = fmemopen(buf, sizeof(buf), "w");
	cni_error_print(f, &e, "0.3.1");
	fclose(f);
	assert_string_equal(
		buf, "{\"cniVersion\":\"0.3.1\",\"code\":7,\"msg\":\"bad \\u003cx\\u003e\"}\n");
	cni_set_details(&e, "d");
	f = fmemopen(buf, sizeof(buf), "w");
	cni_error_print(f, &e, "1.1.0");
	fclose(f);
	assert_string_equal(buf,
			    "{\"cniVersion\":\"1.1.0\",\"code\":7,\"msg\":\"bad \\u003cx\\u003e\","
			    "\"details\":\"d\"}\n");
	/* a delegate's object goes out untouched */
	cni_fail_raw(&e, 11, "{\n  \"code\": 11\n}", 16);
	f = fmemopen(buf, sizeof(buf), "w");
	cni_error_print(f, &e, "1.1.0");
	fclose(f);
	assert_string_equal(buf, "{\n  \"code\": 11\n}");
	cni_error_free(&e);
	cni_quote(buf, sizeof(buf), "a\"b\n\x01", 5);
	assert_string_equal(buf, "\"a\\\"b\\n\\x01\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_manifest), cmocka_unit_test(test_stacks),
		cmocka_unit_test(test_custom_ipam),	 cmocka_unit_test(test_routes_normalised),
		cmocka_unit_test(test_passthrough),	 cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_errors),	 cmocka_unit_test(test_env_parse),
		cmocka_unit_test(test_env_errors),	 cmocka_unit_test(test_env_load),
		cmocka_unit_test(test_go_numbers),	 cmocka_unit_test(test_go_strings),
		cmocka_unit_test(test_versions),	 cmocka_unit_test(test_error_object),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
