// SPDX-License-Identifier: Apache-2.0
/* backend/ext_cmd and the extension backend (flannel.md §7.9): the config,
 * Go's strings.Fields / os.Expand / exec.LookPath / dedupEnv / TrimSpace as
 * upstream's runCmd uses them, the BackendData string both ways, and the
 * backend itself on a real loop and worker, running real programs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/ext_cmd.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "subnet/lease.h"
#include "subnet/netconf.h"
#include "subnet/subnet_key.h"
#include "subnet/subnet_mgr.h"

/* ---- config ---- */

static void test_conf_keys_case_insensitive(void **state)
{
	struct ext_conf c;
	struct err err = { 0 };

	(void)state;
	assert_int_equal(ext_conf_parse("{\"Type\":\"extension\",\"prestartupcommand\":\"a b\","
					"\"POSTSTARTUPCOMMAND\":\"c\",\"SubnetAddCommand\":\"d\","
					"\"subnetRemoveCommand\":\"e\"}",
					&c, &err),
			 0);
	assert_string_equal(c.cmd[EXT_PRE_STARTUP], "a b");
	assert_string_equal(c.cmd[EXT_POST_STARTUP], "c");
	assert_string_equal(c.cmd[EXT_SUBNET_ADD], "d");
	assert_string_equal(c.cmd[EXT_SUBNET_REMOVE], "e");
	ext_conf_free(&c);
	/* Go: the last matching key wins */
	assert_int_equal(ext_conf_parse("{\"SubnetAddCommand\":\"x\",\"subnetaddcommand\":\"y\"}",
					&c, &err),
			 0);
	assert_string_equal(c.cmd[EXT_SUBNET_ADD], "y");
	ext_conf_free(&c);
}

static void test_conf_absent_null_empty_not_configured(void **state)
{
	struct ext_conf c;
	struct err err = { 0 };

	(void)state;
	assert_int_equal(ext_conf_parse(NULL, &c, &err), 0);
	for (int k = 0; k < EXT_CMD_KINDS; k++)
		assert_null(c.cmd[k]);
	/* upstream: len(cmd) > 0 decides; null leaves the string empty */
	assert_int_equal(
		ext_conf_parse("{\"PreStartupCommand\":\"\",\"SubnetAddCommand\":null}", &c, &err),
		0);
	assert_null(c.cmd[EXT_PRE_STARTUP]);
	assert_null(c.cmd[EXT_SUBNET_ADD]);
	ext_conf_free(&c);
}

static void test_conf_errors_name_the_key(void **state)
{
	struct ext_conf c;
	struct err err = { 0 };

	(void)state;
	assert_int_equal(ext_conf_parse("{\"SubnetAddCommand\":5}", &c, &err), -EINVAL);
	assert_string_equal(err.msg, "Backend.SubnetAddCommand must be a string");
	assert_int_equal(ext_conf_parse("{\"PostStartupCommand\":[\"ip\"]}", &c, &err), -EINVAL);
	assert_string_equal(err.msg, "Backend.PostStartupCommand must be a string");
	/* upstream panics on strings.Fields(" ")[0]; we refuse the config */
	assert_int_equal(ext_conf_parse("{\"SubnetRemoveCommand\":\" \\t\\n\"}", &c, &err),
			 -EINVAL);
	assert_string_equal(err.msg,
			    "Backend.SubnetRemoveCommand has no program to run (only white space)");
	assert_int_equal(ext_conf_parse("[1]", &c, &err), -EINVAL);
	assert_string_equal(err.msg, "Backend must be a JSON object");
	for (int k = 0; k < EXT_CMD_KINDS; k++)
		assert_null(c.cmd[k]);
}

/* ---- strings.Fields ---- */

static void fields_are(const char *s, size_t len, size_t n, ...)
{
	char **f;
	size_t *lens;
	va_list ap;

	assert_int_equal(ext_cmd_fields(s, len, &f, &lens), n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		const char *want = va_arg(ap, const char *);

		assert_int_equal(lens[i], strlen(want));
		assert_memory_equal(f[i], want, lens[i]);
	}
	va_end(ap);
	assert_null(f[n]);
	ext_cmd_strv_free(f);
	free(lens);
}

#define FIELDS(s, n, ...) fields_are(s, sizeof(s) - 1, n, ##__VA_ARGS__)

static void test_fields_ascii_space(void **state)
{
	(void)state;
	FIELDS("", 0);
	FIELDS(" \t\n\v\f\r", 0);
	FIELDS("ip route add", 3, "ip", "route", "add");
	FIELDS("  ip\t\troute \n add  ", 3, "ip", "route", "add");
	/* quotes mean nothing: no shell */
	FIELDS("ip route add \"$SUBNET\" via '$PUBLIC_IP'", 6, "ip", "route", "add",
	       "\"$SUBNET\"", "via", "'$PUBLIC_IP'");
}

static void test_fields_unicode_is_space(void **state)
{
	(void)state;
	/* U+0085 (NEL), U+00A0 (NBSP), U+1680, U+2000, U+200A, U+2028, U+2029,
	 * U+202F, U+205F, U+3000 separate fields, as unicode.IsSpace says */
	FIELDS("a\xc2\x85" "b\xc2\xa0" "c", 3, "a", "b", "c");
	FIELDS("a\xe1\x9a\x80" "b\xe2\x80\x80" "c\xe2\x80\x8a" "d", 4, "a", "b", "c", "d");
	FIELDS("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c\xe2\x80\xaf" "d\xe2\x81\x9f" "e\xe3\x80\x80" "f",
	       6, "a", "b", "c", "d", "e", "f");
	/* not white space: U+200B (zero width space), U+180E, U+FEFF */
	FIELDS("a\xe2\x80\x8b" "b\xe1\xa0\x8e" "c\xef\xbb\xbf" "d", 1,
	       "a\xe2\x80\x8b" "b\xe1\xa0\x8e" "c\xef\xbb\xbf" "d");
	/* invalid UTF-8 is RuneError, not space: a cut-short NBSP, a lone
	 * continuation byte, a NUL byte */
	FIELDS("a\xc2" " b\x85" "c", 2, "a\xc2", "b\x85" "c");
	{
		char **f;
		size_t *lens;

		assert_int_equal(ext_cmd_fields("a\0b c", 5, &f, &lens), 2);
		assert_int_equal(lens[0], 3);
		assert_memory_equal(f[0], "a\0b", 3);
		ext_cmd_strv_free(f);
		free(lens);
	}
	/* an overlong space (C0 A0) is not a space */
	FIELDS("a\xc0\xa0" "b", 1, "a\xc0\xa0" "b");
}

/* ---- os.Expand ---- */

static const char *const env[] = {
	"HOME=/root", "SUBNET=10.0.0.0/24", "EMPTY=", "NOEQ", "1=one", "$=dollar",
	"A=first",    "A=second",	    "X_Y=xy", "B=has space",
};
#define N_ENV (sizeof(env) / sizeof(env[0]))

static void expands_to(const char *s, const char *want)
{
	size_t len;
	char *got = ext_cmd_expand(s, strlen(s), env, N_ENV, &len);

	assert_string_equal(got, want);
	assert_int_equal(len, strlen(want));
	free(got);
}

static void test_expand_dollar_name_and_braces(void **state)
{
	(void)state;
	expands_to("$SUBNET", "10.0.0.0/24");
	expands_to("${SUBNET}", "10.0.0.0/24");
	expands_to("via=$SUBNET,x", "via=10.0.0.0/24,x");
	expands_to("${SUBNET}x", "10.0.0.0/24x");
	/* $NAME takes the longest [A-Za-z0-9_] run */
	expands_to("$SUBNETx", "");
	expands_to("$X_Y.z", "xy.z");
	expands_to("$HOME/bin", "/root/bin");
	expands_to("no dollar", "no dollar");
}

static void test_expand_undefined_is_empty(void **state)
{
	(void)state;
	expands_to("a${NOPE}b", "ab");
	expands_to("$NOPE", "");
	expands_to("$EMPTY", "");
	/* an environ entry without '=' is a name with an empty value */
	expands_to("[$NOEQ]", "[]");
}

static void test_expand_last_entry_wins(void **state)
{
	(void)state;
	/* buildEnvMap: later entries (and the command's variables, which come
	 * after the daemon's) overwrite earlier ones */
	expands_to("$A", "second");
	/* a value with a space stays one field: expansion follows the split */
	expands_to("$B", "has space");
}

static void test_expand_special_one_char_names(void **state)
{
	(void)state;
	/* isShellSpecialVar: * # $ @ ! ? - 0-9 are one-character names */
	expands_to("$$", "dollar");
	expands_to("$1", "one");
	expands_to("$12", "one2");
	expands_to("${1}", "one");
	expands_to("${$}", "dollar");
	expands_to("$#$*$@$!$?$-", "");
	expands_to("${12}", ""); /* braces: the whole "12" is the name */
}

static void test_expand_bad_syntax_is_eaten(void **state)
{
	(void)state;
	expands_to("a${}b", "ab");	  /* "${}" vanishes */
	expands_to("a${SUBNET", "aSUBNET"); /* unterminated: "${" vanishes */
	expands_to("${", "");
	expands_to("x${", "x");
}

static void test_expand_dollar_kept(void **state)
{
	(void)state;
	/* "$" at the end, or before anything that starts no name, stays */
	expands_to("$", "$");
	expands_to("a$", "a$");
	expands_to("$/x", "$/x");
	expands_to("$%", "$%");
	expands_to("$.$", "$.$");
	expands_to("\xc3\xa9$\xc3\xa9", "\xc3\xa9$\xc3\xa9");
	/* ${...} takes any bytes up to '}' as the name */
	expands_to("${A-b}", "");
	expands_to("${SUBNET}}", "10.0.0.0/24}");
}

/* ---- exec's dedupEnv ---- */

static void test_env_last_of_each_name_kept_in_place(void **state)
{
	const char *const in[] = { "PATH=/bin", "A=1", "NOEQ", "", "B=2", "A=3", "=x=y", "=x=z" };
	const char **out = ext_cmd_env(in, sizeof(in) / sizeof(in[0]));

	(void)state;
	assert_string_equal(out[0], "PATH=/bin");
	assert_string_equal(out[1], "NOEQ");
	assert_string_equal(out[2], "B=2");
	assert_string_equal(out[3], "A=3");
	assert_string_equal(out[4], "=x=z"); /* a leading '=' belongs to the name */
	assert_null(out[5]);
	free(out);
}

/* ---- exec.LookPath ---- */

static char tmpdir[64];

static void make_file(const char *name, mode_t mode)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

static void test_lookpath_as_go(void **state)
{
	char path[512], want[128], *got, cwd[512];
	struct err err = { 0 };

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/weft-ext-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	make_file("prog", 0755);
	make_file("noexec", 0644);
	snprintf(want, sizeof(want), "%s/sub", tmpdir);
	assert_int_equal(mkdir(want, 0755), 0);

	/* the first directory that has it */
	snprintf(path, sizeof(path), "/nonexistent:%s:/usr/bin", tmpdir);
	assert_int_equal(ext_cmd_lookpath("prog", path, &got, &err), 0);
	snprintf(want, sizeof(want), "%s/prog", tmpdir);
	assert_string_equal(got, want);
	free(got);
	/* not executable, a directory: skipped, then not found */
	assert_int_equal(ext_cmd_lookpath("noexec", path, &got, &err), -ENOENT);
	assert_string_equal(err.msg, "exec: \"noexec\": executable file not found in $PATH");
	assert_null(got);
	assert_int_equal(ext_cmd_lookpath("sub", path, &got, &err), -ENOENT);
	/* an empty PATH has no entries (filepath.SplitList("") is empty) */
	assert_int_equal(ext_cmd_lookpath("prog", "", &got, &err), -ENOENT);
	assert_int_equal(ext_cmd_lookpath("prog", NULL, &got, &err), -ENOENT);
	/* a name with a slash is used as it is, found or not */
	assert_int_equal(ext_cmd_lookpath("./x/y", "/bin", &got, &err), 0);
	assert_string_equal(got, "./x/y");
	free(got);
	/* "" is no command */
	assert_int_equal(ext_cmd_lookpath("", "/bin", &got, &err), -ENOENT);
	assert_string_equal(err.msg, "exec: no command");
	/* Go's ErrDot: a hit in "." (an empty entry, a trailing ':') or a
	 * relative directory is refused, not skipped */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	assert_int_equal(ext_cmd_lookpath("prog", "/nonexistent::/bin", &got, &err), -EPERM);
	assert_string_equal(err.msg, "exec: \"prog\": cannot run executable found relative to "
				     "current directory");
	assert_int_equal(ext_cmd_lookpath("prog", "/nonexistent:", &got, &err), -EPERM);
	assert_int_equal(ext_cmd_lookpath("prog", ".", &got, &err), -EPERM);
	assert_int_equal(chdir("/"), 0);
	snprintf(path, sizeof(path), "%s", tmpdir + 1); /* "tmp/weft-ext-..." */
	assert_int_equal(ext_cmd_lookpath("prog", path, &got, &err), -EPERM);
	assert_int_equal(chdir(cwd), 0);
	snprintf(path, sizeof(path), "rm -rf %s", tmpdir);
	assert_int_equal(system(path), 0);
}

/* ---- strings.TrimSpace and the BackendData string ---- */

static void trims_to(const char *s, size_t len, const char *want)
{
	size_t a, e;

	ext_cmd_trim_space(s, len, &a, &e);
	assert_int_equal(e - a, strlen(want));
	assert_memory_equal(s + a, want, e - a);
}

#define TRIM(s, want) trims_to(s, sizeof(s) - 1, want)

static void test_trim_space_unicode(void **state)
{
	(void)state;
	TRIM("  a b \n", "a b");
	TRIM("\n\n", "");
	TRIM("", "");
	TRIM("\xc2\xa0x\xe3\x80\x80", "x");
	TRIM("x\xe2\x80\xa9\xc2\x85 ", "x");
	/* a cut-short sequence at the end is not a space */
	TRIM("x\xe2\x80", "x\xe2\x80");
	TRIM("\x80x", "\x80x");
}

static void backend_data_is(const char *out, size_t len, const char *want)
{
	char *got;

	assert_int_equal(ext_cmd_backend_data(out, len, 1 << 20, &got), 0);
	assert_string_equal(got, want);
	free(got);
}

#define BDATA(s, want) backend_data_is(s, sizeof(s) - 1, want)

static void test_backend_data_is_go_json_marshal_of_trimmed_output(void **state)
{
	char *got;

	(void)state;
	BDATA("c6:d2:32:6f:8f:44\n", "\"c6:d2:32:6f:8f:44\"");
	/* empty output is "" (json.Marshal("")), which the lease still carries */
	BDATA("", "\"\"");
	BDATA(" \n\t", "\"\"");
	/* json.Marshal escapes HTML, controls, quotes; inner newlines stay \n */
	BDATA("<a&b>\n\"q\"\\", "\"\\u003ca\\u0026b\\u003e\\n\\\"q\\\"\\\\\"");
	BDATA("a\x01\tb\r", "\"a\\u0001\\tb\"");
	/* U+2028 is white space (trimmed at the ends), and escaped inside */
	BDATA("\xe2\x80\xa8x\xe2\x80\xa8y\xe2\x80\xa8", "\"x\\u2028y\"");
	/* invalid UTF-8: each byte \ufffd (Go >= 1.22) */
	BDATA("\xff\xfe", "\"\\ufffd\\ufffd\"");
	BDATA("\xc3\xa9", "\"\xc3\xa9\"");
	assert_int_equal(ext_cmd_backend_data("0123456789", 10, 8, &got), -E2BIG);
	assert_null(got);
}

static void test_backend_data_round_trip_through_lease(void **state)
{
	struct lease_attrs a = { 0 }, d = { 0 };
	struct err err = { 0 };
	struct buf in;
	char *data, *json;

	(void)state;
	/* our lease as flanneld writes it, and a peer's stdin from it */
	assert_int_equal(ext_cmd_backend_data(" <x>&\"y\"\xff\n", 10, 1 << 20, &data), 0);
	assert_int_equal(ip_addr_parse("10.0.0.2", &a.public_ip), 0);
	snprintf(a.backend_type, sizeof(a.backend_type), "extension");
	a.backend_data = data;
	assert_int_equal(lease_attrs_encode(&a, &json), 0);
	assert_string_equal(json, "{\"PublicIP\":\"10.0.0.2\",\"PublicIPv6\":null,\"BackendType\":"
				  "\"extension\",\"BackendData\":\"\\u003cx\\u003e\\u0026\\\"y\\\""
				  "\\ufffd\"}");
	assert_int_equal(lease_attrs_decode(json, strlen(json), &d, &err), 0);
	assert_int_equal(ext_cmd_peer_stdin(d.backend_data, 1 << 20, &in, &err), 0);
	assert_string_equal(in.data, "<x>&\"y\"\xef\xbf\xbd\n");
	buf_free(&in);
	free(json);
	free(data);
	lease_attrs_free(&d);
}

static void stdin_is_n(const char *data, const char *want, size_t len)
{
	struct buf in;
	struct err err = { 0 };

	assert_int_equal(ext_cmd_peer_stdin(data, 1 << 20, &in, &err), 0);
	assert_int_equal(in.len, len);
	assert_memory_equal(in.data, want, in.len);
	buf_free(&in);
}

#define stdin_is(data, want) stdin_is_n(data, want, sizeof(want) - 1)

static void test_peer_stdin_is_json_unmarshal_into_string(void **state)
{
	struct buf in;
	struct err err = { 0 };

	(void)state;
	stdin_is(NULL, "\n"); /* no BackendData: "" */
	stdin_is("", "\n");
	stdin_is("null", "\n"); /* Unmarshal(null, &s) leaves "" */
	stdin_is("\"aa:bb\"", "aa:bb\n");
	stdin_is("\"a\\nb\\u0000c\"", "a\nb\0c\n");
	stdin_is("\"\\ud800x\"", "\xef\xbf\xbdx\n"); /* a lone surrogate: U+FFFD */
	stdin_is("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80\n");
	/* anything but a string: Go's error, and upstream skips the command */
	assert_int_equal(ext_cmd_peer_stdin("{\"VNI\":1}", 1 << 20, &in, &err), -EINVAL);
	assert_string_equal(err.msg, "json: cannot unmarshal object into Go value of type string");
	buf_free(&in);
	assert_int_equal(ext_cmd_peer_stdin("[1]", 1 << 20, &in, &err), -EINVAL);
	assert_string_equal(err.msg, "json: cannot unmarshal array into Go value of type string");
	buf_free(&in);
	assert_int_equal(ext_cmd_peer_stdin("12", 1 << 20, &in, &err), -EINVAL);
	assert_string_equal(err.msg, "json: cannot unmarshal number into Go value of type string");
	buf_free(&in);
	assert_int_equal(ext_cmd_peer_stdin("true", 1 << 20, &in, &err), -EINVAL);
	assert_string_equal(err.msg, "json: cannot unmarshal bool into Go value of type string");
	buf_free(&in);
}

static void test_log_text_bounded_and_escaped(void **state)
{
	char *t;

	(void)state;
	t = ext_cmd_log_text("a b\n\t\\\x01\xff", 8, 100);
	assert_string_equal(t, "a b\\n\\t\\\\\\x01\\xff");
	free(t);
	t = ext_cmd_log_text("abcdef", 6, 3);
	assert_string_equal(t, "abc...");
	free(t);
}

/* ---- the backend on a loop ---- */

struct run {
	struct loop *loop;
	FILE *log;
	int prepared, prep_rc;
	char prep_err[256];
	const char *want; /* stop once the log holds this */
	int want_count;
};

static char *log_text(struct run *r)
{
	long n;
	char *s;

	fflush(r->log);
	n = ftell(r->log);
	s = calloc(1, (size_t)n + 1);
	rewind(r->log);
	assert_int_equal(fread(s, 1, (size_t)n, r->log), (size_t)n);
	return s;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static int64_t poll_log(struct loop *loop, int64_t id, void *arg)
{
	struct run *r = arg;
	char *s = log_text(r);

	(void)id;
	if ((r->want && count(s, r->want) >= r->want_count) || (!r->want && r->prepared))
		loop_stop(loop);
	free(s);
	return 10;
}

static void wait_for(struct run *r, const char *want, int n)
{
	int64_t t;

	r->want = want;
	r->want_count = n;
	t = loop_add_timer(r->loop, 10, poll_log, r);
	assert_true(t > 0);
	assert_int_equal(loop_run(r->loop), 0);
	loop_del_timer(r->loop, t);
}

static void on_prepared(void *arg, int rc, const struct err *err)
{
	struct run *r = arg;

	r->prepared++;
	r->prep_rc = rc;
	snprintf(r->prep_err, sizeof(r->prep_err), "%s", err ? err->msg : "");
}

static struct backend *make(struct run *r, const char *backend_json)
{
	static struct netconf nc;
	static struct ext_iface ext;
	struct backend_params p = { 0 };
	struct backend *b = NULL;
	struct err err = { 0 };

	free(nc.backend_json);
	memset(&nc, 0, sizeof(nc));
	memset(&ext, 0, sizeof(ext));
	nc.enable_ipv4 = true;
	assert_int_equal(ip_prefix_parse("10.244.0.0/16", &nc.network), 0);
	nc.backend_json = backend_json ? strdup(backend_json) : NULL;
	snprintf(ext.name, sizeof(ext.name), "eth0");
	ext.mtu = 1450;
	assert_int_equal(ip_addr_parse("10.0.0.2", &ext.iface_addr), 0);
	assert_int_equal(ip_addr_parse("203.0.113.9", &ext.public_ip), 0); /* --public-ip */
	assert_int_equal(ip_addr_parse("fd00::2", &ext.iface_addr6), 0);  /* IPv6 is off */
	p.loop = r->loop;
	p.ext = &ext;
	p.nc = &nc;
	assert_int_equal(backend_new("extension", &p, &b, &err), 0);
	return b;
}

static void run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(loop_new(&r->loop), 0);
	r->log = tmpfile();
	assert_non_null(r->log);
	log_set_output(r->log);
	log_init(0, "test");
}

static void run_free(struct run *r, struct backend *b)
{
	backend_free(b);
	loop_free(r->loop);
	log_set_output(NULL);
	fclose(r->log);
}

static void peer_event(struct backend *b, enum lease_event_kind kind, const char *key,
		       const char *type, const char *pub, const char *data)
{
	struct lease l = { 0 };
	struct lease_event ev = { kind, &l };
	struct err err = { 0 };

	snprintf(l.name, sizeof(l.name), "%s", key);
	assert_int_equal(subnet_key_parse(key, &l.subnet, &err), 0);
	if (kind == LEASE_ADDED) {
		snprintf(l.attrs.backend_type, sizeof(l.attrs.backend_type), "%s", type);
		assert_int_equal(ip_addr_parse(pub, &l.attrs.public_ip), 0);
		l.attrs.backend_data = data ? strdup(data) : NULL;
	}
	backend_peers(b, &ev, 1);
	free(l.attrs.backend_data);
}

static void test_backend_pre_startup_output_is_backend_data(void **state)
{
	struct run r;
	struct backend *b;
	struct lease_attrs a = { 0 };
	struct err err = { 0 };
	char *s;

	(void)state;
	run_init(&r);
	setenv("WEFT_EXT_T", "<mac>", 1);
	b = make(&r, "{\"Type\":\"extension\",\"PreStartupCommand\":\"printf %s\\\\n "
		     "${WEFT_EXT_T}&$NOPE\"}");
	assert_int_equal(backend_prepare(b, on_prepared, &r), 0);
	assert_int_equal(r.prepared, 0); /* not on the loop's time */
	wait_for(&r, NULL, 0);
	assert_int_equal(r.prepared, 1);
	assert_int_equal(r.prep_rc, 0);
	/* the interface address, not --public-ip; no IPv6 when it is off */
	ip_addr_parse("203.0.113.9", &a.public_ip);
	assert_int_equal(b->ops->lease_attrs(b, &a, &err), 0);
	assert_string_equal(a.backend_type, "extension");
	assert_string_equal(a.backend_data, "\"\\u003cmac\\u003e\\u0026\"");
	assert_true(ip_addr_equal(&a.public_ip, &b->ext.iface_addr));
	assert_int_equal(a.public_ipv6.family, 0);
	lease_attrs_free(&a);
	s = log_text(&r);
	assert_non_null(strstr(s, "extension: PreStartupCommand: ran command: printf %s\\\\n "
				  "${WEFT_EXT_T}&$NOPE; output: <mac>&"));
	free(s);
	unsetenv("WEFT_EXT_T");
	run_free(&r, b);
}

static void test_backend_pre_startup_failure_fails_prepare(void **state)
{
	struct run r;
	struct backend *b;
	char *s;

	(void)state;
	run_init(&r);
	/* $S is a space: one argument after the split (no shell splits it) */
	setenv("S", " ", 1);
	b = make(&r, "{\"PreStartupCommand\":\"sh -c echo${S}oops;exit${S}3\"}");
	assert_int_equal(backend_prepare(b, on_prepared, &r), 0);
	wait_for(&r, NULL, 0);
	assert_int_equal(r.prep_rc, -EIO);
	assert_string_equal(r.prep_err, "PreStartupCommand failed: exit status 3");
	s = log_text(&r);
	assert_non_null(strstr(s, "extension: PreStartupCommand: failed to run command: sh -c "
				  "echo${S}oops;exit${S}3; error: exit status 3; output: oops"));
	free(s);
	run_free(&r, b);

	run_init(&r);
	b = make(&r, "{\"PreStartupCommand\":\"weft-no-such-program x\"}");
	assert_int_equal(backend_prepare(b, on_prepared, &r), 0);
	wait_for(&r, NULL, 0);
	assert_int_equal(r.prep_rc, -ENOENT);
	assert_string_equal(r.prep_err, "PreStartupCommand failed: exec: \"weft-no-such-program\": "
					"executable file not found in $PATH");
	run_free(&r, b);
}

static void test_backend_no_pre_startup_no_backend_data(void **state)
{
	struct run r;
	struct backend *b;
	struct lease_attrs a = { 0 };
	struct err err = { 0 };

	(void)state;
	run_init(&r);
	b = make(&r, "{\"Type\":\"extension\"}");
	assert_int_equal(backend_prepare(b, on_prepared, &r), 0);
	assert_int_equal(r.prepared, 1);
	assert_int_equal(b->ops->lease_attrs(b, &a, &err), 0);
	assert_null(a.backend_data);
	assert_string_equal(a.backend_type, "extension");
	lease_attrs_free(&a);
	run_free(&r, b);
}

static void test_backend_commands_env_stdin_order(void **state)
{
	struct run r;
	struct backend *b;
	struct lease own = { 0 };
	struct err err = { 0 };
	struct backend_stats st;
	unsigned mtu = 0;
	char *s, *p1, *p2, *p3;

	(void)state;
	run_init(&r);
	/* $S is a space, $D a dollar sign: expansion is one pass, so sh gets
	 * "read x;echo add $0 $1 [$x]" as one argument */
	setenv("S", " ", 1);
	setenv("D", "$", 1);
	b = make(&r, "{\"PostStartupCommand\":\"printenv NETWORK SUBNET IPV6SUBNET PUBLIC_IP "
		     "PUBLIC_IPV6\",\"SubnetAddCommand\":\"sh -c "
		     "read${S}x;echo${S}add${S}${D}0${S}${D}1${S}[${D}x] $SUBNET $PUBLIC_IP\","
		     "\"SubnetRemoveCommand\":\"sh -c exit${S}${D}{0##*.} $PUBLIC_IP\"}");
	assert_int_equal(backend_prepare(b, on_prepared, &r), 0);
	assert_int_equal(subnet_key_parse("10.244.5.0-24", &own.subnet, &err), 0);
	assert_int_equal(b->ops->lease_acquired(b, &own, &mtu, &err), 0);
	assert_int_equal(mtu, 1450); /* the interface's */
	peer_event(b, LEASE_ADDED, "10.244.7.0-24", "extension", "10.0.0.7", "\"hi <7>\"");
	peer_event(b, LEASE_ADDED, "10.244.8.0-24", "vxlan", "10.0.0.8", "{\"VNI\":1}");
	peer_event(b, LEASE_ADDED, "10.244.9.0-24", "extension", "10.0.0.9", "{\"VNI\":1}");
	peer_event(b, LEASE_ADDED, "10.244.6.0-24", "extension", "10.0.0.6", NULL);
	/* removal: the attributes come from the add (an etcd DELETE has none);
	 * exit status = the last octet of PUBLIC_IP, so that it shows */
	peer_event(b, LEASE_REMOVED, "10.244.7.0-24", NULL, NULL, NULL);
	peer_event(b, LEASE_REMOVED, "10.244.8.0-24", NULL, NULL, NULL);
	peer_event(b, LEASE_REMOVED, "10.244.9.0-24", NULL, NULL, NULL);
	wait_for(&r, "SubnetRemoveCommand for", 1);
	s = log_text(&r);
	/* PostStartup: upstream's variables, a nil PublicIPv6 as "<nil>" */
	p1 = strstr(s, "extension: PostStartupCommand: ran command: printenv NETWORK SUBNET "
		       "IPV6SUBNET PUBLIC_IP PUBLIC_IPV6; output: "
		       "10.244.0.0/16\\n10.244.5.0/24\\n::/0\\n10.0.0.2\\n<nil>");
	assert_non_null(p1);
	/* SubnetAdd: SUBNET, PUBLIC_IP, the unquoted BackendData and a newline
	 * on stdin, in order after PostStartup */
	p2 = strstr(s, "extension: SubnetAddCommand for 10.244.7.0-24: ran command: sh -c "
		       "read${S}x;echo${S}add${S}${D}0${S}${D}1${S}[${D}x] $SUBNET $PUBLIC_IP; "
		       "output: add 10.244.7.0/24 10.0.0.7 [hi <7>]");
	assert_non_null(p2);
	assert_true(p1 < p2);
	p3 = strstr(s, "output: add 10.244.6.0/24 10.0.0.6 []");
	assert_non_null(p3);
	assert_true(p2 < p3);
	assert_non_null(strstr(s, "extension: ignoring peer 10.244.8.0-24 of backend type 'vxlan'"));
	assert_non_null(strstr(s, "extension: peer 10.244.9.0-24: failed to unmarshal BackendData: "
				  "json: cannot unmarshal object into Go value of type string"));
	/* only the extension peer with a string BackendData is removed */
	assert_int_equal(count(s, "SubnetRemoveCommand for"), 1);
	assert_non_null(strstr(s, "extension: SubnetRemoveCommand for 10.244.7.0-24: failed to run "
				  "command: sh -c exit${S}${D}{0##*.} $PUBLIC_IP; error: exit status 7"));
	assert_true(strstr(s, "SubnetRemoveCommand for") > p3);
	free(s);
	backend_stats(b, &st);
	assert_int_equal(st.peers_programmed, 1); /* 10.244.6.0-24 */
	assert_int_equal(st.netlink_errors, 1);
	run_free(&r, b);
}

static void test_backend_timeout_kills_and_goes_on(void **state)
{
	struct run r;
	struct backend *b;
	struct lease own = { 0 };
	struct err err = { 0 };
	unsigned mtu;
	char *s;

	(void)state;
	setenv("WEFT_TEST_EXT_TIMEOUT_MS", "200", 1);
	run_init(&r);
	b = make(&r, "{\"PostStartupCommand\":\"sleep 30\",\"SubnetAddCommand\":\"true\"}");
	unsetenv("WEFT_TEST_EXT_TIMEOUT_MS");
	assert_int_equal(subnet_key_parse("10.244.5.0-24", &own.subnet, &err), 0);
	assert_int_equal(b->ops->lease_acquired(b, &own, &mtu, &err), 0);
	peer_event(b, LEASE_ADDED, "10.244.7.0-24", "extension", "10.0.0.7", "\"\"");
	wait_for(&r, "SubnetAddCommand for 10.244.7.0-24: ran command: true", 1);
	s = log_text(&r);
	assert_non_null(strstr(s, "extension: PostStartupCommand: failed to run command: sleep 30; "
				  "error: killed after 200 ms (timeout); output: "));
	free(s);
	run_free(&r, b);
}

static void test_backend_destroy_while_running(void **state)
{
	struct run r;
	struct backend *b;

	(void)state;
	run_init(&r);
	b = make(&r, "{\"PreStartupCommand\":\"sleep 30\"}");
	assert_int_equal(backend_prepare(b, on_prepared, &r), 0);
	/* the worker is killed and joined; done is not called */
	run_free(&r, b);
	assert_int_equal(r.prepared, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_keys_case_insensitive),
		cmocka_unit_test(test_conf_absent_null_empty_not_configured),
		cmocka_unit_test(test_conf_errors_name_the_key),
		cmocka_unit_test(test_fields_ascii_space),
		cmocka_unit_test(test_fields_unicode_is_space),
		cmocka_unit_test(test_expand_dollar_name_and_braces),
		cmocka_unit_test(test_expand_undefined_is_empty),
		cmocka_unit_test(test_expand_last_entry_wins),
		cmocka_unit_test(test_expand_special_one_char_names),
		cmocka_unit_test(test_expand_bad_syntax_is_eaten),
		cmocka_unit_test(test_expand_dollar_kept),
		cmocka_unit_test(test_env_last_of_each_name_kept_in_place),
		cmocka_unit_test(test_lookpath_as_go),
		cmocka_unit_test(test_trim_space_unicode),
		cmocka_unit_test(test_backend_data_is_go_json_marshal_of_trimmed_output),
		cmocka_unit_test(test_backend_data_round_trip_through_lease),
		cmocka_unit_test(test_peer_stdin_is_json_unmarshal_into_string),
		cmocka_unit_test(test_log_text_bounded_and_escaped),
		cmocka_unit_test(test_backend_pre_startup_output_is_backend_data),
		cmocka_unit_test(test_backend_pre_startup_failure_fails_prepare),
		cmocka_unit_test(test_backend_no_pre_startup_no_backend_data),
		cmocka_unit_test(test_backend_commands_env_stdin_order),
		cmocka_unit_test(test_backend_timeout_kills_and_goes_on),
		cmocka_unit_test(test_backend_destroy_while_running),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
