// SPDX-License-Identifier: Apache-2.0
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

#include "agent/flags.h"
#include "core/err.h"

static struct flags F;
static struct err E;

static int teardown(void **state)
{
	(void)state;
	flags_free(&F);
	memset(&E, 0, sizeof(E));
	return 0;
}

/* argv and envp as NULL-terminated string lists; argv[0] is added. */
#define ARGS(...) ((const char *[]){ __VA_ARGS__, NULL })
#define NOARGS	  ((const char *[]){ NULL })
#define ENV(...)  ((const char *[]){ __VA_ARGS__, NULL })
#define NOENV	  ((const char *[]){ NULL })

static int parse(const char **args, const char **env)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = (char *)(uintptr_t) "weftd";
	for (; *args; args++)
		argv[argc++] = (char *)(uintptr_t)*args;
	argv[argc] = NULL;
	flags_free(&F);
	memset(&E, 0, sizeof(E));
	return flags_parse(argc, argv, (char **)(uintptr_t)env, &F, &E);
}

static void assert_err(int r, const char *needle)
{
	assert_true(r < 0);
	if (!strstr(E.msg, needle))
		fail_msg("error \"%s\" lacks \"%s\"", E.msg, needle);
	/* After an error nothing is left allocated. */
	assert_null(F.etcd_prefix);
	assert_null(F.iface.v);
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(parse(NOARGS, NOENV), 0);
	assert_string_equal(F.etcd_endpoints, "http://127.0.0.1:4001,http://127.0.0.1:2379");
	assert_string_equal(F.etcd_prefix, "/coreos.com/network");
	assert_string_equal(F.etcd_keyfile, "");
	assert_string_equal(F.etcd_certfile, "");
	assert_string_equal(F.etcd_cafile, "");
	assert_string_equal(F.etcd_username, "");
	assert_string_equal(F.etcd_password, "");
	assert_string_equal(F.etcd_password_file, "");
	assert_false(F.kube_subnet_mgr);
	assert_string_equal(F.kube_api_url, "");
	assert_string_equal(F.kubeconfig_file, "");
	assert_string_equal(F.kube_annotation_prefix, "flannel.alpha.coreos.com");
	assert_int_equal(F.iface.n, 0);
	assert_int_equal(F.iface_regex.n, 0);
	assert_string_equal(F.iface_can_reach, "");
	assert_string_equal(F.public_ip, "");
	assert_string_equal(F.public_ipv6, "");
	assert_string_equal(F.subnet_file, "/run/flannel/subnet.env");
	assert_int_equal(F.subnet_lease_renew_margin, 60);
	assert_false(F.ip_masq);
	assert_false(F.ip_masq_fully_random_disable);
	assert_int_equal(F.iptables_resync, 5);
	assert_true(F.iptables_forward_rules);
	assert_false(F.ip_blackhole_route);
	assert_true(F.overlay_peers_only);
	assert_string_equal(F.net_config_path, "/etc/kube-flannel/net-conf.json");
	assert_true(F.set_node_network_unavailable);
	assert_string_equal(F.healthz_ip, "0.0.0.0");
	assert_int_equal(F.healthz_port, 0);
	/* /metrics and /status: node-local, and off unless asked for. */
	assert_string_equal(F.metrics_ip, "127.0.0.1");
	assert_int_equal(F.metrics_port, 0);
	assert_false(F.version);
	assert_int_equal(F.v, 0);
	assert_string_equal(F.vmodule, "");
	assert_string_equal(F.log_backtrace_at, "");
}

static void test_value_forms(void **state)
{
	(void)state;
	assert_int_equal(parse(ARGS("-etcd-prefix", "/a"), NOENV), 0);
	assert_string_equal(F.etcd_prefix, "/a");
	assert_int_equal(parse(ARGS("-etcd-prefix=/b"), NOENV), 0);
	assert_string_equal(F.etcd_prefix, "/b");
	assert_int_equal(parse(ARGS("--etcd-prefix", "/c"), NOENV), 0);
	assert_string_equal(F.etcd_prefix, "/c");
	assert_int_equal(parse(ARGS("--etcd-prefix=/d"), NOENV), 0);
	assert_string_equal(F.etcd_prefix, "/d");
	/* '=' inside the value, empty value, and a value that looks like a flag. */
	assert_int_equal(parse(ARGS("--etcd-prefix=/a=b"), NOENV), 0);
	assert_string_equal(F.etcd_prefix, "/a=b");
	assert_int_equal(parse(ARGS("--etcd-prefix="), NOENV), 0);
	assert_string_equal(F.etcd_prefix, "");
	assert_int_equal(parse(ARGS("--etcd-prefix", "-x"), NOENV), 0);
	assert_string_equal(F.etcd_prefix, "-x");
	/* Last one wins for a plain flag. */
	assert_int_equal(parse(ARGS("--etcd-prefix=/1", "-etcd-prefix", "/2"), NOENV), 0);
	assert_string_equal(F.etcd_prefix, "/2");

	assert_int_equal(parse(ARGS("-healthz-port", "1"), NOENV), 0);
	assert_int_equal(F.healthz_port, 1);
	assert_int_equal(parse(ARGS("-healthz-port=2"), NOENV), 0);
	assert_int_equal(F.healthz_port, 2);
	assert_int_equal(parse(ARGS("--healthz-port", "3"), NOENV), 0);
	assert_int_equal(F.healthz_port, 3);
	assert_int_equal(parse(ARGS("--healthz-port=8081"), NOENV), 0);
	assert_int_equal(F.healthz_port, 8081);
}

static void test_every_flag_is_accepted(void **state)
{
	(void)state;
	assert_int_equal(
		parse(ARGS("--etcd-endpoints=http://e:2379", "--etcd-prefix=/p", "--etcd-keyfile=k",
			   "--etcd-certfile=c", "--etcd-cafile=ca", "--etcd-username=u",
			   "--etcd-password=pw", "--kube-subnet-mgr", "--kube-api-url=https://api",
			   "--kubeconfig-file=/kc", "--kube-annotation-prefix=example.com/x",
			   "--iface=eth0", "--iface-regex=^en", "--iface-can-reach=8.8.8.8",
			   "--public-ip=10.0.0.1", "--public-ipv6=fd00::1", "--subnet-file=/s.env",
			   "--subnet-lease-renew-margin=30", "--ip-masq",
			   "--ip-masq-fully-random-disable", "--iptables-resync=7",
			   "--iptables-forward-rules=false", "--ip-blackhole-route",
			   "--net-config-path=/nc.json", "--set-node-network-unavailable=false",
			   "--healthz-ip=127.0.0.1", "--healthz-port=8081",
			   "--metrics-ip=192.0.2.7", "--metrics-port=8082", "-v=4",
			   "-vmodule=foo=2", "-log_backtrace_at=main.go:10"),
		      NOENV),
		0);
	assert_string_equal(F.etcd_endpoints, "http://e:2379");
	assert_string_equal(F.etcd_prefix, "/p");
	assert_string_equal(F.etcd_keyfile, "k");
	assert_string_equal(F.etcd_certfile, "c");
	assert_string_equal(F.etcd_cafile, "ca");
	assert_string_equal(F.etcd_username, "u");
	assert_string_equal(F.etcd_password, "pw");
	assert_true(F.kube_subnet_mgr);
	assert_string_equal(F.kube_api_url, "https://api");
	assert_string_equal(F.kubeconfig_file, "/kc");
	assert_string_equal(F.kube_annotation_prefix, "example.com/x");
	assert_int_equal(F.iface.n, 1);
	assert_string_equal(F.iface.v[0], "eth0");
	assert_int_equal(F.iface_regex.n, 1);
	assert_string_equal(F.iface_regex.v[0], "^en");
	assert_string_equal(F.iface_can_reach, "8.8.8.8");
	assert_string_equal(F.public_ip, "10.0.0.1");
	assert_string_equal(F.public_ipv6, "fd00::1");
	assert_string_equal(F.subnet_file, "/s.env");
	assert_int_equal(F.subnet_lease_renew_margin, 30);
	assert_true(F.ip_masq);
	assert_true(F.ip_masq_fully_random_disable);
	assert_int_equal(F.iptables_resync, 7);
	assert_false(F.iptables_forward_rules);
	assert_true(F.ip_blackhole_route);
	assert_string_equal(F.net_config_path, "/nc.json");
	assert_false(F.set_node_network_unavailable);
	assert_string_equal(F.healthz_ip, "127.0.0.1");
	assert_int_equal(F.healthz_port, 8081);
	assert_string_equal(F.metrics_ip, "192.0.2.7");
	assert_int_equal(F.metrics_port, 8082);
	assert_int_equal(F.v, 4);
	assert_string_equal(F.vmodule, "foo=2");
	assert_string_equal(F.log_backtrace_at, "main.go:10");
}

static void test_bools(void **state)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
	char arg[64];

	(void)state;
	assert_int_equal(parse(ARGS("-ip-masq"), NOENV), 0);
	assert_true(F.ip_masq);
	assert_int_equal(parse(ARGS("--ip-masq"), NOENV), 0);
	assert_true(F.ip_masq);
	for (size_t i = 0; i < 6; i++) {
		snprintf(arg, sizeof(arg), "--ip-masq=%s", yes[i]);
		assert_int_equal(parse(ARGS(arg), NOENV), 0);
		assert_true(F.ip_masq);
		snprintf(arg, sizeof(arg), "-iptables-forward-rules=%s", no[i]);
		assert_int_equal(parse(ARGS(arg), NOENV), 0);
		assert_false(F.iptables_forward_rules);
	}
	/* A bool never takes the next argument: "false" is left over. */
	assert_err(parse(ARGS("-ip-masq", "false"), NOENV), "-ip-masq=false");
	assert_int_equal(parse(ARGS("-ip-masq", "-kube-subnet-mgr"), NOENV), 0);
	assert_true(F.ip_masq);
	assert_true(F.kube_subnet_mgr);
}

static void test_repeatables_keep_order(void **state)
{
	(void)state;
	assert_int_equal(parse(ARGS("--iface", "eth1", "-iface=10.0.0.1", "--iface-regex", "^en",
				    "--iface=eth0", "-iface-regex=^wl"),
			       NOENV),
			 0);
	assert_int_equal(F.iface.n, 3);
	assert_string_equal(F.iface.v[0], "eth1");
	assert_string_equal(F.iface.v[1], "10.0.0.1");
	assert_string_equal(F.iface.v[2], "eth0");
	assert_int_equal(F.iface_regex.n, 2);
	assert_string_equal(F.iface_regex.v[0], "^en");
	assert_string_equal(F.iface_regex.v[1], "^wl");
}

static void test_go_int_syntax(void **state)
{
	static const struct {
		const char *in;
		int64_t want;
	} ok[] = {
		{ "1", 1 },	  { "+7", 7 },	     { "0x10", 16 },  { "0X1f", 31 },
		{ "010", 8 },	  { "0o17", 15 },    { "0b101", 5 },  { "1_000", 1000 },
		{ "0x_1F", 31 },  { "007", 7 },	     { "86400", 86400 },
	};
	static const char *const bad[] = { "",	"abc", "12a", "1__0", "_1",  "1_", "08",
					   "0x", "+",	"- 1", " 1",  "1 ",  "0b2" };
	char arg[64];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(arg, sizeof(arg), "--iptables-resync=%s", ok[i].in);
		assert_int_equal(parse(ARGS(arg), NOENV), 0);
		if (F.iptables_resync != ok[i].want)
			fail_msg("%s parsed as %lld", ok[i].in, (long long)F.iptables_resync);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(arg, sizeof(arg), "--iptables-resync=%s", bad[i]);
		assert_err(parse(ARGS(arg), NOENV), "parse error");
	}
	/* Beyond int64 is Go's "value out of range"; within it, beyond 1..86400, ours. */
	assert_err(parse(ARGS("--iptables-resync=9223372036854775808"), NOENV),
		   "value out of range");
	assert_err(parse(ARGS("--iptables-resync=99999999999999999999999"), NOENV),
		   "value out of range");
	assert_err(parse(ARGS("--iptables-resync=9223372036854775807"), NOENV), "out of range");
	assert_err(parse(ARGS("--iptables-resync=-9223372036854775808"), NOENV), "out of range");

	/* klog's -v is base 10, 32 bits. */
	assert_int_equal(parse(ARGS("-v", "3"), NOENV), 0);
	assert_int_equal(F.v, 3);
	assert_int_equal(parse(ARGS("--v=10"), NOENV), 0);
	assert_int_equal(F.v, 10);
	assert_err(parse(ARGS("-v=0x1"), NOENV), "-v");
	assert_err(parse(ARGS("-v=2147483648"), NOENV), "value out of range");
}

/*
 * Every numeric flag has a range, checked the same way on the command line
 * and in FLANNELD_*: both ends accepted, one past either end, 0, negative,
 * overflowing and non-numeric values refused with the flag, the value as
 * given, where it came from and the range.
 */
static void test_numeric_ranges(void **state)
{
	static const struct {
		const char *name, *env;
		long long min, max;
		size_t off; /* of an int64_t in struct flags; SIZE_MAX: F.v */
	} nums[] = {
		{ "subnet-lease-renew-margin", "FLANNELD_SUBNET_LEASE_RENEW_MARGIN", 1, 1439,
		  offsetof(struct flags, subnet_lease_renew_margin) },
		{ "iptables-resync", "FLANNELD_IPTABLES_RESYNC", 1, 86400,
		  offsetof(struct flags, iptables_resync) },
		{ "healthz-port", "FLANNELD_HEALTHZ_PORT", 0, 65535,
		  offsetof(struct flags, healthz_port) },
		{ "metrics-port", "FLANNELD_METRICS_PORT", 0, 65535,
		  offsetof(struct flags, metrics_port) },
		{ "etcd-watch-idle-timeout", "FLANNELD_ETCD_WATCH_IDLE_TIMEOUT", 60, 86400,
		  offsetof(struct flags, etcd_watch_idle_timeout) },
		{ "v", "FLANNELD_V", 0, 100, SIZE_MAX },
	};
	char arg[96], env[96], want[256], val[32];

	(void)state;
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		const long long ends[2] = { nums[i].min, nums[i].max };
		struct {
			const char *value, *why;
		} bad[] = {
			{ "0", "out of range" },
			{ "-1", "out of range" },
			{ "-5", "out of range" },
			{ NULL, "out of range" }, /* min - 1 */
			{ NULL, "out of range" }, /* max + 1 */
			{ "99999999999999999999", "value out of range" },
			{ "abc", "parse error" },
			{ "1.5", "parse error" },
		};
		char below[32], above[32];

		snprintf(below, sizeof(below), "%lld", nums[i].min - 1);
		snprintf(above, sizeof(above), "%lld", nums[i].max + 1);
		bad[3].value = below;
		bad[4].value = above;
		for (int e = 0; e < 2; e++) {
			snprintf(val, sizeof(val), "%lld", ends[e]);
			snprintf(arg, sizeof(arg), "--%s=%s", nums[i].name, val);
			snprintf(env, sizeof(env), "%s=%s", nums[i].env, val);
			/* The two ports may not be equal (tested below): vary the other one. */
			for (int from_env = 0; from_env < 2; from_env++) {
				int64_t got;

				if (from_env)
					assert_int_equal(parse(NOARGS, ENV(env)), 0);
				else
					assert_int_equal(parse(ARGS(arg), NOENV), 0);
				got = nums[i].off == SIZE_MAX
					      ? F.v
					      : *(int64_t *)((char *)&F + nums[i].off);
				if (got != ends[e])
					fail_msg("%s: %s gave %lld", nums[i].name, val,
						 (long long)got);
			}
		}
		for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			if (!strcmp(bad[b].why, "out of range") &&
			    strtoll(bad[b].value, NULL, 10) >= nums[i].min)
				continue; /* 0 is fine for a port */
			snprintf(arg, sizeof(arg), "--%s=%s", nums[i].name, bad[b].value);
			assert_err(parse(ARGS(arg), NOENV), "");
			snprintf(want, sizeof(want),
				 "invalid value \"%s\" for flag -%s on the command line: %s (must "
				 "be an integer in %lld..%lld)",
				 bad[b].value, nums[i].name, bad[b].why, nums[i].min, nums[i].max);
			assert_string_equal(E.msg, want);
			/* And the next argument form, -name value. */
			snprintf(arg, sizeof(arg), "-%s", nums[i].name);
			assert_err(parse(ARGS(arg, bad[b].value), NOENV), "");
			assert_string_equal(E.msg, want);

			snprintf(env, sizeof(env), "%s=%s", nums[i].env, bad[b].value);
			assert_err(parse(NOARGS, ENV(env)), "");
			snprintf(want, sizeof(want),
				 "invalid value \"%s\" for flag -%s from %s: %s (must be an "
				 "integer in %lld..%lld)",
				 bad[b].value, nums[i].name, nums[i].env, bad[b].why, nums[i].min,
				 nums[i].max);
			assert_string_equal(E.msg, want);
		}
	}
	/* A valid command-line value wins over a bad environment one, unread. */
	assert_int_equal(parse(ARGS("--iptables-resync=9"), ENV("FLANNELD_IPTABLES_RESYNC=0")),
			 0);
	assert_int_equal(F.iptables_resync, 9);
}

static void test_metrics_port_not_healthz_port(void **state)
{
	(void)state;
	assert_err(parse(ARGS("--healthz-port=8081", "--metrics-port=8081"), NOENV), "");
	assert_string_equal(E.msg, "flag -metrics-port 8081 (on the command line) equals "
				   "-healthz-port (on the command line): /metrics and /status "
				   "need a port of their own");
	assert_err(parse(ARGS("--healthz-port=8081"), ENV("FLANNELD_METRICS_PORT=8081")), "");
	assert_string_equal(E.msg, "flag -metrics-port 8081 (from FLANNELD_METRICS_PORT) equals "
				   "-healthz-port (on the command line): /metrics and /status "
				   "need a port of their own");
	/* Both off is fine, so is either one alone. */
	assert_int_equal(parse(ARGS("--healthz-port=0", "--metrics-port=0"), NOENV), 0);
	assert_int_equal(parse(ARGS("--healthz-port=8081", "--metrics-port=8082"), NOENV), 0);
	assert_int_equal(parse(ARGS("--metrics-port=8081"), NOENV), 0);
	assert_int_equal(F.healthz_port, 0);
	assert_int_equal(F.metrics_port, 8081);
}

/* A file in $TMPDIR holding len bytes of data; returns its path (static). */
static const char *pwfile(const char *data, size_t len)
{
	static char path[256];
	const char *dir = getenv("TMPDIR");
	FILE *f;

	snprintf(path, sizeof(path), "%s/weft-test-flags-pw.%d", dir && *dir ? dir : "/tmp",
		 (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void test_password_file(void **state)
{
	static const struct {
		const char *data;
		size_t len;
		const char *want;
	} ok[] = {
		{ "sekrit\n", 7, "sekrit" },
		{ "sekrit", 6, "sekrit" },
		{ "sekrit\r\n", 8, "sekrit" },
		/* Only one line end goes; spaces and inner newlines are the password's. */
		{ "sekrit\n\n", 8, "sekrit\n" },
		{ " a b \n", 6, " a b " },
		{ "x", 1, "x" },
	};
	char arg[320], env[320], want[256], big[4098];
	const char *path;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		path = pwfile(ok[i].data, ok[i].len);
		snprintf(arg, sizeof(arg), "--etcd-password-file=%s", path);
		assert_int_equal(parse(ARGS(arg), NOENV), 0);
		assert_string_equal(F.etcd_password, ok[i].want);
		assert_string_equal(F.etcd_password_file, path);
		snprintf(env, sizeof(env), "FLANNELD_ETCD_PASSWORD_FILE=%s", path);
		assert_int_equal(parse(NOARGS, ENV(env)), 0);
		assert_string_equal(F.etcd_password, ok[i].want);
	}
	/* Exactly 4096 bytes is the limit; with a newline after it, still fine. */
	memset(big, 'p', sizeof(big));
	big[4096] = '\n';
	path = pwfile(big, 4097);
	snprintf(arg, sizeof(arg), "--etcd-password-file=%s", path);
	assert_int_equal(parse(ARGS(arg), NOENV), 0);
	assert_int_equal(strlen(F.etcd_password), 4096);
	memset(big, 'p', sizeof(big));
	path = pwfile(big, 4097);
	assert_err(parse(ARGS(arg), NOENV), "");
	snprintf(want, sizeof(want),
		 "-etcd-password-file %s: larger than 4096 bytes: not a password file", path);
	assert_string_equal(E.msg, want);

	path = pwfile("", 0);
	assert_err(parse(ARGS(arg), NOENV), "");
	snprintf(want, sizeof(want), "-etcd-password-file %s: the file is empty", path);
	assert_string_equal(E.msg, want);
	path = pwfile("\n", 1);
	assert_err(parse(ARGS(arg), NOENV), "");
	assert_string_equal(E.msg, want);
	path = pwfile("ab\0cd\n", 6);
	assert_err(parse(ARGS(arg), NOENV), "");
	snprintf(want, sizeof(want), "-etcd-password-file %s: contains a NUL byte", path);
	assert_string_equal(E.msg, want);

	/* Both ways at once: refused, naming where each came from. */
	path = pwfile("sekrit\n", 7);
	assert_err(parse(ARGS(arg, "--etcd-password=other"), NOENV), "");
	assert_string_equal(E.msg, "flags -etcd-password (on the command line) and "
				   "-etcd-password-file (on the command line) are both set: give "
				   "the password one way");
	assert_err(parse(ARGS(arg), ENV("FLANNELD_ETCD_PASSWORD=other")), "");
	assert_string_equal(E.msg, "flags -etcd-password (from FLANNELD_ETCD_PASSWORD) and "
				   "-etcd-password-file (on the command line) are both set: give "
				   "the password one way");
	assert_int_equal(unlink(path), 0);

	assert_err(parse(ARGS(arg), NOENV), "");
	snprintf(want, sizeof(want),
		 "-etcd-password-file %s: cannot open: No such file or directory", path);
	assert_string_equal(E.msg, want);
	assert_err(parse(ARGS("--etcd-password-file=/"), NOENV), "");
	assert_string_equal(E.msg, "-etcd-password-file /: not a regular file");
	/* Without the file flag, --etcd-password works as before. */
	assert_int_equal(parse(ARGS("--etcd-password=pw"), NOENV), 0);
	assert_string_equal(F.etcd_password, "pw");
}

static void test_env_fallback(void **state)
{
	(void)state;
	assert_int_equal(parse(NOARGS, ENV("PATH=/bin", "FLANNELD_ETCD_PREFIX=/env",
					   "FLANNELD_IP_MASQ=true",
					   "FLANNELD_IPTABLES_FORWARD_RULES=false",
					   "FLANNELD_SUBNET_LEASE_RENEW_MARGIN=30",
					   "FLANNELD_IFACE=eth0,eth1", "FLANNELD_IFACE_REGEX=^en",
					   "FLANNELD_IFACE_CAN_REACH=1.1.1.1", "FLANNELD_V=5",
					   "FLANNELD_LOG_BACKTRACE_AT=x.go:1",
					   "FLANNELD_HEALTHZ_PORT=0x1F90")),
			 0);
	assert_string_equal(F.etcd_prefix, "/env");
	assert_true(F.ip_masq);
	assert_false(F.iptables_forward_rules);
	assert_int_equal(F.subnet_lease_renew_margin, 30);
	/* Exactly one value from the environment: no comma splitting. */
	assert_int_equal(F.iface.n, 1);
	assert_string_equal(F.iface.v[0], "eth0,eth1");
	assert_int_equal(F.iface_regex.n, 1);
	assert_string_equal(F.iface_regex.v[0], "^en");
	assert_string_equal(F.iface_can_reach, "1.1.1.1");
	assert_int_equal(F.v, 5);
	assert_string_equal(F.log_backtrace_at, "x.go:1");
	assert_int_equal(F.healthz_port, 8080);
	/* Untouched flags keep their defaults. */
	assert_string_equal(F.subnet_file, "/run/flannel/subnet.env");
}

static void test_env_names_are_exact(void **state)
{
	(void)state;
	/* Case matters and a prefix of another variable is no match. */
	assert_int_equal(parse(NOARGS, ENV("flanneld_etcd_prefix=/lower",
					   "FLANNELD_ETCD_PREFIXX=/x", "FLANNELD_ETCD=/y")),
			 0);
	assert_string_equal(F.etcd_prefix, "/coreos.com/network");
	/* The first definition wins, as with getenv. */
	assert_int_equal(parse(NOARGS, ENV("FLANNELD_ETCD_PREFIX=/1", "FLANNELD_ETCD_PREFIX=/2")),
			 0);
	assert_string_equal(F.etcd_prefix, "/1");
}

static void test_cmdline_beats_env(void **state)
{
	(void)state;
	assert_int_equal(parse(ARGS("--etcd-prefix=/cli", "--iface", "cli0", "-ip-masq=false",
				    "-subnet-lease-renew-margin=10"),
			       ENV("FLANNELD_ETCD_PREFIX=/env", "FLANNELD_IFACE=env0",
				   "FLANNELD_IP_MASQ=true", "FLANNELD_SUBNET_LEASE_RENEW_MARGIN=0",
				   "FLANNELD_SUBNET_FILE=/env.env")),
			 0);
	assert_string_equal(F.etcd_prefix, "/cli");
	assert_int_equal(F.iface.n, 1);
	assert_string_equal(F.iface.v[0], "cli0");
	assert_false(F.ip_masq);
	assert_int_equal(F.subnet_lease_renew_margin, 10);
	assert_string_equal(F.subnet_file, "/env.env");
}

static void test_empty_env_ignored(void **state)
{
	(void)state;
	assert_int_equal(parse(NOARGS, ENV("FLANNELD_ETCD_PREFIX=", "FLANNELD_IFACE=",
					   "FLANNELD_HEALTHZ_PORT=", "FLANNELD_IP_MASQ=")),
			 0);
	assert_string_equal(F.etcd_prefix, "/coreos.com/network");
	assert_int_equal(F.iface.n, 0);
	assert_int_equal(F.healthz_port, 0);
	assert_false(F.ip_masq);
}

static void test_version(void **state)
{
	(void)state;
	assert_int_equal(parse(NOARGS, ENV("FLANNELD_VERSION=true")), 0);
	assert_false(F.version);
	assert_int_equal(parse(NOARGS, ENV("FLANNELD_VERSION=garbage")), 0);
	assert_int_equal(parse(ARGS("--version"), NOENV), FLAGS_VERSION);
	assert_int_equal(parse(ARGS("-version=true"), NOENV), FLAGS_VERSION);
	assert_int_equal(parse(ARGS("-version=false"), NOENV), 0);
	/* Decided before the environment is read: a bad env value cannot stop it. */
	assert_int_equal(parse(ARGS("-version"), ENV("FLANNELD_HEALTHZ_PORT=abc")), FLAGS_VERSION);
	/* But the whole command line is parsed first, as Go does. */
	assert_err(parse(ARGS("-version", "-nope"), NOENV), "-nope");
}

static void test_help(void **state)
{
	(void)state;
	assert_int_equal(parse(ARGS("-h"), NOENV), FLAGS_HELP);
	assert_int_equal(parse(ARGS("--h"), NOENV), FLAGS_HELP);
	assert_int_equal(parse(ARGS("-help"), NOENV), FLAGS_HELP);
	assert_int_equal(parse(ARGS("--help"), NOENV), FLAGS_HELP);
	assert_int_equal(parse(ARGS("--ip-masq", "-h", "--nope"), NOENV), FLAGS_HELP);
	assert_err(parse(ARGS("--nope", "-h"), NOENV), "-nope");
}

static void test_errors(void **state)
{
	(void)state;
	assert_err(parse(ARGS("-foo"), NOENV), "flag provided but not defined: -foo");
	assert_err(parse(ARGS("--foo=bar"), NOENV), "flag provided but not defined: -foo");
	assert_err(parse(ARGS("--etcd-prefix"), NOENV), "flag needs an argument: -etcd-prefix");
	assert_err(parse(ARGS("---etcd-prefix=x"), NOENV), "bad flag syntax: ---etcd-prefix=x");
	assert_err(parse(ARGS("-=x"), NOENV), "bad flag syntax");

	assert_err(parse(ARGS("--healthz-port=abc"), NOENV), "-healthz-port");
	assert_true(strstr(E.msg, "\"abc\"") && strstr(E.msg, "command line"));
	assert_err(parse(NOARGS, ENV("FLANNELD_HEALTHZ_PORT=abc")), "-healthz-port");
	assert_non_null(strstr(E.msg, "FLANNELD_HEALTHZ_PORT"));

	assert_err(parse(ARGS("--ip-masq=yes"), NOENV),
		   "invalid boolean value \"yes\" for flag -ip-masq");
	assert_err(parse(NOARGS, ENV("FLANNELD_KUBE_SUBNET_MGR=on")), "-kube-subnet-mgr");
	assert_non_null(strstr(E.msg, "FLANNELD_KUBE_SUBNET_MGR"));

	assert_err(parse(ARGS("--subnet-lease-renew-margin=0"), NOENV),
		   "-subnet-lease-renew-margin");
	assert_non_null(strstr(E.msg, "1..1439"));
	assert_err(parse(ARGS("--subnet-lease-renew-margin", "1440"), NOENV),
		   "-subnet-lease-renew-margin");
	assert_err(parse(NOARGS, ENV("FLANNELD_SUBNET_LEASE_RENEW_MARGIN=1440")),
		   "FLANNELD_SUBNET_LEASE_RENEW_MARGIN");
	assert_int_equal(parse(ARGS("--subnet-lease-renew-margin=1"), NOENV), 0);
	assert_int_equal(parse(ARGS("--subnet-lease-renew-margin=1439"), NOENV), 0);

	assert_err(parse(ARGS("--healthz-port=65536"), NOENV), "-healthz-port");
	assert_err(parse(ARGS("--healthz-port=-1"), NOENV), "-healthz-port");
	assert_int_equal(parse(ARGS("--healthz-port=65535"), NOENV), 0);
	assert_err(parse(ARGS("--iptables-resync=0"), NOENV), "-iptables-resync");
	assert_err(parse(ARGS("--iptables-resync=-1"), NOENV), "-iptables-resync");
}

static void test_positional_rejected(void **state)
{
	(void)state;
	assert_err(parse(ARGS("foo"), NOENV), "unexpected argument \"foo\"");
	assert_err(parse(ARGS("--ip-masq", "foo", "--iface=x"), NOENV), "\"foo\"");
	assert_err(parse(ARGS("-"), NOENV), "unexpected argument \"-\"");
	/* "--" ends the flags: what follows is positional, even if it looks like a flag. */
	assert_err(parse(ARGS("--", "--ip-masq"), NOENV), "unexpected argument \"--ip-masq\"");
	assert_int_equal(parse(ARGS("--ip-masq", "--"), NOENV), 0);
	assert_true(F.ip_masq);
}

static void test_environ_default(void **state)
{
	(void)state;
	setenv("FLANNELD_PUBLIC_IP", "192.0.2.1", 1);
	assert_int_equal(flags_parse(1, (char *[]){ (char *)(uintptr_t) "weftd", NULL }, NULL, &F,
				     &E),
			 0);
	unsetenv("FLANNELD_PUBLIC_IP");
	assert_string_equal(F.public_ip, "192.0.2.1");
}

static void test_usage_lists_every_flag(void **state)
{
	static const char *const names[] = {
		"etcd-endpoints", "etcd-prefix", "etcd-keyfile", "etcd-certfile", "etcd-cafile",
		"etcd-username", "etcd-password", "kube-subnet-mgr", "kube-api-url",
		"kubeconfig-file", "kube-annotation-prefix", "iface", "iface-regex",
		"iface-can-reach", "public-ip", "public-ipv6", "subnet-file",
		"subnet-lease-renew-margin", "ip-masq", "ip-masq-fully-random-disable",
		"iptables-resync", "iptables-forward-rules", "ip-blackhole-route",
		"net-config-path", "set-node-network-unavailable", "healthz-ip", "healthz-port",
		"version", "v", "vmodule", "log_backtrace_at", "etcd-password-file", "metrics-ip",
		"metrics-port", "overlay-peers-only",
	};
	char *buf = NULL, want[80];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	flags_usage(f, "weftd");
	fclose(f);
	assert_true(!strncmp(buf, "Usage: weftd [OPTION]...\n", 25));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(want, sizeof(want), "\n  -%s", names[i]);
		if (!strstr(buf, want))
			fail_msg("usage lacks %s", names[i]);
	}
	assert_non_null(strstr(buf, "  -etcd-prefix string\n    \tetcd prefix "
				    "(default \"/coreos.com/network\")\n"));
	assert_non_null(strstr(buf, "  -subnet-lease-renew-margin int\n"));
	assert_non_null(strstr(buf, "(default 60)\n"));
	assert_non_null(strstr(buf, "in iptables (default true)\n"));
	assert_non_null(strstr(buf, "  -ip-masq\n"));
	assert_non_null(strstr(buf, "  -iface value\n"));
	assert_non_null(strstr(buf, "FLANNELD_"));
	free(buf);
}

static void test_describe(void **state)
{
	char *s;

	(void)state;
	assert_int_equal(parse(ARGS("--iface=a", "--iface=b", "--etcd-password=sekrit"),
			       ENV("FLANNELD_ETCD_PREFIX=/x")),
			 0);
	s = flags_describe(&F);
	assert_non_null(strstr(s, "etcd-prefix=/x "));
	assert_non_null(strstr(s, "iface=[a,b] "));
	assert_non_null(strstr(s, "subnet-lease-renew-margin=60 "));
	assert_non_null(strstr(s, "ip-masq=false "));
	assert_null(strstr(s, "sekrit"));
	assert_non_null(strstr(s, "etcd-password=<hidden>"));
	free(s);
	/* Read from a file: hidden just the same, the file's name shown. */
	assert_int_equal(parse(ARGS("--etcd-password-file", pwfile("sekrit\n", 7)), NOENV), 0);
	s = flags_describe(&F);
	unlink(F.etcd_password_file);
	assert_null(strstr(s, "sekrit"));
	assert_non_null(strstr(s, "etcd-password=<hidden>"));
	assert_non_null(strstr(s, "etcd-password-file=/"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_defaults, teardown),
		cmocka_unit_test_teardown(test_value_forms, teardown),
		cmocka_unit_test_teardown(test_every_flag_is_accepted, teardown),
		cmocka_unit_test_teardown(test_bools, teardown),
		cmocka_unit_test_teardown(test_repeatables_keep_order, teardown),
		cmocka_unit_test_teardown(test_go_int_syntax, teardown),
		cmocka_unit_test_teardown(test_numeric_ranges, teardown),
		cmocka_unit_test_teardown(test_metrics_port_not_healthz_port, teardown),
		cmocka_unit_test_teardown(test_password_file, teardown),
		cmocka_unit_test_teardown(test_env_fallback, teardown),
		cmocka_unit_test_teardown(test_env_names_are_exact, teardown),
		cmocka_unit_test_teardown(test_cmdline_beats_env, teardown),
		cmocka_unit_test_teardown(test_empty_env_ignored, teardown),
		cmocka_unit_test_teardown(test_version, teardown),
		cmocka_unit_test_teardown(test_help, teardown),
		cmocka_unit_test_teardown(test_errors, teardown),
		cmocka_unit_test_teardown(test_positional_rejected, teardown),
		cmocka_unit_test_teardown(test_environ_default, teardown),
		cmocka_unit_test_teardown(test_usage_lists_every_flag, teardown),
		cmocka_unit_test_teardown(test_describe, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
