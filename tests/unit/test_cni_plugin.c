// SPDX-License-Identifier: Apache-2.0
/*
 * The whole plugin, run in-process the way a runtime runs it (environment,
 * stdin, stdout, exit status), against a fake delegate: a shell script in a
 * scratch CNI_PATH that records what it was given and answers as told by
 * FAKE_MODE. Covers every front-door error code, the state file's life
 * (stored before delegating, removed after a failed ADD and after DEL, kept
 * after a failed DEL), CHECK, STATUS, GC and the delegate's failure modes.
 * No root needed: the kernel is the netns test's business.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../cni/cmd.c"
#include "../../cni/conf.c"
#include "../../cni/delegate.c"
#include "../../cni/exec.c"
#include "../../cni/gojson.c"
#include "../../cni/result.c"
#include "../../cni/state.c"
#include "../../cni/version.c"

int cni_main(int argc, char **argv);
#define main cni_main
#include "../../cni/main.c"
#undef main

static char dir[64];
static char path_env[256], data_dir[256], subnet_file[256];

static const char fake_script[] =
	"#!/bin/sh\n"
	"echo \"$CNI_COMMAND\" >>\"$FAKE_DIR/calls\"\n"
	"[ \"$FAKE_MODE\" = noread ] || cat >\"$FAKE_DIR/stdin.$CNI_COMMAND\"\n"
	"case \"${FAKE_MODE:-ok}:$CNI_COMMAND\" in\n"
	"*:VERSION) printf '{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[%s]}' "
	"\"${FAKE_VERSIONS:-\\\"1.0.0\\\",\\\"1.1.0\\\"}\" ;;\n"
	"ok:ADD) echo '{\"cniVersion\":\"0.3.1\",\"ips\":[{\"version\":\"4\","
	"\"address\":\"10.1.17.2/24\"}]}' ;;\n"
	"jsonerr:*) printf '{\\n    \"code\": 11,\\n    \"msg\": \"busy\"\\n}'; exit 1 ;;\n"
	"stderr:*) echo boom >&2; exit 1 ;;\n"
	"silent:*) exit 3 ;;\n"
	"big:*) head -c 2000000 /dev/zero | tr '\\0' x ;;\n"
	"garbage:*) echo 'not json' ;;\n"
	"esac\n"
	"exit 0\n";

static void spit(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Is there a file named name in the plugin's state directory? */
static bool stored(const char *name)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", data_dir, name);
	return stat(p, &st) == 0;
}

static int setup(void **state)
{
	char p[256];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/weft-cni-plugin.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(p, sizeof(p), "%s/bin", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/bin/fake", dir);
	spit(p, fake_script, 0755);
	snprintf(path_env, sizeof(path_env), "%s/nothing:%s/bin", dir, dir);
	snprintf(data_dir, sizeof(data_dir), "%s/data/flannel", dir);
	snprintf(subnet_file, sizeof(subnet_file), "%s/subnet.env", dir);
	spit(subnet_file,
	     "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\n"
	     "FLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n",
	     0644);
	setenv("FAKE_DIR", dir, 1);
	unsetenv("FAKE_MODE");
	unsetenv("FAKE_VERSIONS");
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The CNI environment; NULL leaves a variable unset. */
static void cni_env(const char *cmd, const char *cid, const char *netns, const char *ifname,
		    const char *path)
{
	const char *names[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME",
			       "CNI_PATH"};
	const char *vals[] = {cmd, cid, netns, ifname, path};

	for (int i = 0; i < 5; i++) {
		if (vals[i])
			setenv(names[i], vals[i], 1);
		else
			unsetenv(names[i]);
	}
}

static char out_buf[1 << 16], err_buf[1 << 16];

/* Run the plugin with input on stdin: exit status; stdout in out_buf, stderr
 * in err_buf. */
static int run(const char *input)
{
	char in_path[128], out_path[128], err_path[128];
	int saved[3], fd, rc;
	char *argv[] = {(char *)"flannel", NULL};

	snprintf(in_path, sizeof(in_path), "%s/stdin", dir);
	snprintf(out_path, sizeof(out_path), "%s/stdout", dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
	spit(in_path, input ? input : "", 0600);
	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < 3; i++)
		saved[i] = dup(i);
	fd = open(in_path, O_RDONLY);
	dup2(fd, 0);
	close(fd);
	fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	close(fd);
	fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
	rc = cni_main(1, argv);
	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < 3; i++) {
		dup2(saved[i], i);
		close(saved[i]);
	}
	snprintf(out_buf, sizeof(out_buf), "%s", slurp(out_path));
	snprintf(err_buf, sizeof(err_buf), "%s", slurp(err_path));
	return rc;
}

static char conf_buf[4096];

/* A configuration for the fake delegate; extra is spliced in before '}'. */
static const char *conf(const char *version, const char *extra)
{
	snprintf(conf_buf, sizeof(conf_buf),
		 "{\"name\":\"cbr0\",\"cniVersion\":\"%s\",\"type\":\"flannel\","
		 "\"subnetFile\":\"%s\",\"dataDir\":\"%s\","
		 "\"delegate\":{\"type\":\"fake\",\"hairpinMode\":true}%s}",
		 version, subnet_file, data_dir, extra ? extra : "");
	return conf_buf;
}

#define STORED_0_3_1                                                                               \
	"{\"cniVersion\":\"0.3.1\",\"hairpinMode\":true,\"ipMasq\":false,\"ipam\":{\"ranges\":"    \
	"[[{\"subnet\":\"10.1.17.0/24\"}]],\"routes\":[{\"dst\":\"10.1.0.0/16\"}],\"type\":"       \
	"\"host-local\"},\"mtu\":1472,\"name\":\"cbr0\",\"type\":\"fake\"}"

static void assert_fails(int code, const char *msg)
{
	char want[64];

	snprintf(want, sizeof(want), "\"code\":%d,", code);
	if (!strstr(out_buf, want) || !strstr(out_buf, msg))
		fail_msg("stdout \"%s\" lacks code %d / \"%s\"", out_buf, code, msg);
}

static void calls_are(const char *want)
{
	char p[128], *got;

	snprintf(p, sizeof(p), "%s/calls", dir);
	got = slurp(p);
	assert_string_equal(got ? got : "", want);
	unlink(p);
}

static void test_front_door(void **state)
{
	(void)state;
	cni_env(NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(run(NULL), 1);
	assert_string_equal(out_buf, "{\"cniVersion\":\"1.1.0\",\"code\":4,\"msg\":\"required env "
				     "variables [CNI_COMMAND] missing\"}\n");
	assert_non_null(strstr(err_buf, "CNI Plugin weft version "));

	cni_env("VERSION", NULL, NULL, NULL, NULL);
	assert_int_equal(run("ignored"), 0);
	assert_string_equal(out_buf,
			    "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.1.0\","
			    "\"0.2.0\",\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n");

	cni_env("BOGUS", NULL, NULL, NULL, NULL);
	assert_int_equal(run(conf("0.3.1", NULL)), 1);
	assert_fails(4, "\"unknown CNI_COMMAND: BOGUS\"");

	cni_env("ADD", NULL, "/run/netns/x", "eth0", NULL);
	assert_int_equal(run(conf("0.3.1", NULL)), 1);
	assert_fails(4, "\"required env variables [CNI_CONTAINERID,CNI_PATH] missing\"");
	cni_env("DEL", "c1", NULL, NULL, path_env);
	assert_int_equal(run(conf("0.3.1", NULL)), 1);
	assert_fails(4, "\"required env variables [CNI_IFNAME] missing\"");
	cni_env("GC", NULL, NULL, NULL, NULL);
	assert_int_equal(run(conf("1.1.0", NULL)), 1);
	assert_fails(4, "\"required env variables [CNI_PATH] missing\"");

	cni_env("ADD", "../../etc", "/run/netns/x", "eth0", path_env);
	assert_int_equal(run(conf("0.3.1", NULL)), 1);
	assert_fails(4, "\"msg\":\"invalid characters in containerID\",\"details\":\"../../etc\"");
	cni_env("ADD", "c1", "/run/netns/x", "eth0123456789abcd", path_env);
	assert_int_equal(run(conf("0.3.1", NULL)), 1);
	assert_fails(4, "interface name is too long");
	cni_env("ADD", "c1", "/run/netns/x", "a:b", path_env);
	assert_int_equal(run(conf("0.3.1", NULL)), 1);
	assert_fails(4, "interface name contains / or : or whitespace characters");

	cni_env("ADD", "c1", "/run/netns/x", "eth0", path_env);
	assert_int_equal(run("{not json"), 1);
	assert_fails(6, "error unmarshall network config");
	assert_int_equal(run("{\"cniVersion\":\"0.3.1\"}"), 1);
	assert_string_equal(out_buf, "{\"cniVersion\":\"0.3.1\",\"code\":7,\"msg\":\"missing "
				     "network name\"}\n");
	assert_int_equal(run(conf("9.9.9", NULL)), 1);
	assert_string_equal(out_buf,
			    "{\"cniVersion\":\"1.1.0\",\"code\":1,\"msg\":\"incompatible "
			    "CNI versions\",\"details\":\"config is \\\"9.9.9\\\", plugin "
			    "supports [\\\"0.1.0\\\" \\\"0.2.0\\\" \\\"0.3.0\\\" \\\"0.3.1\\\" "
			    "\\\"0.4.0\\\" \\\"1.0.0\\\" \\\"1.1.0\\\"]\"}\n");
	cni_env("CHECK", "c1", "/run/netns/x", "eth0", path_env);
	assert_int_equal(run(conf("0.3.1", NULL)), 1);
	assert_fails(1, "config version does not allow CHECK");
	cni_env("GC", NULL, NULL, NULL, path_env);
	assert_int_equal(run(conf("1.0.0", NULL)), 1);
	assert_fails(1, "config version does not allow GC");
	cni_env("STATUS", NULL, NULL, NULL, path_env);
	assert_int_equal(run(conf("0.4.0", NULL)), 1);
	assert_fails(1, "config version does not allow STATUS");
	calls_are("");
}

static void test_add_del(void **state)
{
	char p[512];
	struct stat st;

	(void)state;
	cni_env("ADD", "c1", "/run/netns/x", "eth0", path_env);
	assert_int_equal(run(conf("0.3.1", NULL)), 0);
	assert_string_equal(out_buf, "{\"cniVersion\":\"0.3.1\",\"ips\":[{\"version\":\"4\","
				     "\"address\":\"10.1.17.2/24\"}]}\n");
	calls_are("ADD\n");
	snprintf(p, sizeof(p), "%s/c1", data_dir);
	assert_string_equal(slurp(p), STORED_0_3_1);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(data_dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* the delegate got exactly the stored bytes */
	snprintf(p, sizeof(p), "%s/stdin.ADD", dir);
	assert_string_equal(slurp(p), STORED_0_3_1);
	assert_non_null(strstr(err_buf, "delegateAdd: netconf sent to delegate plugin:\n"));

	/* DEL uses the stored bytes even when stdin and subnet.env changed */
	unlink(subnet_file);
	cni_env("DEL", "c1", NULL, "eth0", path_env);
	assert_int_equal(run(conf("0.3.1", ",\"delegate\":{\"type\":\"other\"}")), 0);
	assert_string_equal(out_buf, "");
	calls_are("DEL\n");
	snprintf(p, sizeof(p), "%s/stdin.DEL", dir);
	assert_string_equal(slurp(p), STORED_0_3_1);
	assert_false(stored("c1"));
	/* a second DEL succeeds without the delegate */
	assert_int_equal(run(conf("0.3.1", NULL)), 0);
	assert_string_equal(out_buf, "");
	calls_are("");
	/* DEL before any ADD (no state directory at all) */
	cni_env("DEL", "never", NULL, "eth0", path_env);
	assert_int_equal(run(conf("0.3.1", ",\"dataDir\":\"/nonexistent/weft\"")), 0);
	calls_are("");
}

static void test_add_failures(void **state)
{
	(void)state;
	cni_env("ADD", "c2", "/run/netns/x", "eth0", path_env);

	/* subnet.env: unreadable (5) and incomplete (7); nothing stored */
	assert_int_equal(run(conf("0.3.1", ",\"subnetFile\":\"/nonexistent/subnet.env\"")), 1);
	assert_fails(5, "\"msg\":\"failed to load flannel 'subnet.env' file: open "
			"/nonexistent/subnet.env: no such file or directory. Check the flannel pod "
			"log for this node.\"");
	spit(subnet_file, "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\n", 0644);
	assert_int_equal(run(conf("0.3.1", NULL)), 1);
	assert_fails(7, "is missing FLANNEL_MTU, FLANNEL_IPMASQ. Check the flannel pod log");
	assert_non_null(strstr(out_buf, subnet_file));
	spit(subnet_file,
	     "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\n"
	     "FLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n",
	     0644);

	/* delegate dictionary errors (7) */
	assert_int_equal(run(conf("0.3.1", ",\"delegate\":{\"name\":\"x\"}")), 1);
	assert_fails(7,
		     "'delegate' dictionary must not have 'name' field, it'll be set by flannel");
	assert_int_equal(run(conf("0.3.1", ",\"delegate\":{\"ipam\":{}}")), 1);
	assert_fails(7,
		     "'delegate' dictionary must not have 'ipam' field, it'll be set by flannel");

	/* delegate not in CNI_PATH (7): names the plugin and the path */
	assert_int_equal(run(conf("0.3.1", ",\"delegate\":{\"type\":\"nope\"}")), 1);
	snprintf(conf_buf, sizeof(conf_buf),
		 "\"failed to find plugin \\\"nope\\\" in path [%s/nothing %s/bin]\"", dir, dir);
	assert_fails(7, conf_buf);
	assert_int_equal(run(conf("0.3.1", ",\"delegate\":{\"type\":\"../bin/fake\"}")), 1);
	assert_fails(7, "invalid plugin name");

	/* the delegate's error object passes through byte for byte */
	setenv("FAKE_MODE", "jsonerr", 1);
	assert_int_equal(run(conf("0.3.1", NULL)), 1);
	assert_string_equal(out_buf, "{\n    \"code\": 11,\n    \"msg\": \"busy\"\n}");
	calls_are("ADD\n");
	setenv("FAKE_MODE", "stderr", 1);
	assert_int_equal(run(conf("0.3.1", NULL)), 1);
	assert_fails(999, "\"msg\":\"netplugin failed: \\\"boom\\\\n\\\"\"");
	setenv("FAKE_MODE", "silent", 1);
	assert_int_equal(run(conf("0.3.1", NULL)), 1);
	assert_fails(999, "netplugin failed with no error message: exit status 3");
	setenv("FAKE_MODE", "big", 1);
	assert_int_equal(run(conf("0.3.1", NULL)), 1);
	assert_fails(999, "netplugin output exceeds 1048576 bytes: killed");
	calls_are("ADD\nADD\nADD\n");
	/* after every failed ADD: nothing left behind */
	assert_false(stored("c2"));
	unsetenv("FAKE_MODE");
}

/* A delegate that exits without reading a large stdin (EPIPE, not SIGPIPE). */
static void test_delegate_ignores_stdin(void **state)
{
	static char big[300 * 1024];
	char *in = xmalloc(sizeof(big) + 1024);

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(in, sizeof(big) + 1024,
		 "{\"name\":\"cbr0\",\"cniVersion\":\"0.3.1\",\"subnetFile\":\"%s\",\"dataDir\":"
		 "\"%s\",\"delegate\":{\"type\":\"fake\",\"pad\":\"%s\"}}",
		 subnet_file, data_dir, big);
	setenv("FAKE_MODE", "noread", 1);
	cni_env("ADD", "c3", "/run/netns/x", "eth0", path_env);
	/* exits 0 without a result: an error, the state is kept for DEL */
	assert_int_equal(run(in), 1);
	assert_fails(999, "printed no result object");
	calls_are("ADD\n");
	cni_env("DEL", "c3", NULL, "eth0", path_env);
	assert_int_equal(run(in), 0);
	calls_are("DEL\n");
	assert_false(stored("c3"));
	unsetenv("FAKE_MODE");
	free(in);
}

static void test_del_failure_keeps_state(void **state)
{
	(void)state;
	cni_env("ADD", "c4", "/run/netns/x", "eth0", path_env);
	assert_int_equal(run(conf("0.4.0", NULL)), 0);
	setenv("FAKE_MODE", "jsonerr", 1);
	cni_env("DEL", "c4", NULL, "eth0", path_env);
	assert_int_equal(run(conf("0.4.0", NULL)), 1);
	assert_string_equal(out_buf, "{\n    \"code\": 11,\n    \"msg\": \"busy\"\n}");
	assert_true(stored("c4")); /* for the runtime's retry */
	unsetenv("FAKE_MODE");
	assert_int_equal(run(conf("0.4.0", NULL)), 0);
	assert_false(stored("c4"));
	calls_are("ADD\nDEL\nDEL\n");

	/* An unparsable stored file: logged and removed, DEL succeeds. */
	spit(subnet_file, "junk", 0644);
	mkdir(data_dir, 0700);
	{
		char p[512];

		snprintf(p, sizeof(p), "%s/c5", data_dir);
		spit(p, "{not json", 0600);
	}
	cni_env("DEL", "c5", NULL, "eth0", path_env);
	assert_int_equal(run(conf("0.4.0", NULL)), 0);
	assert_non_null(strstr(err_buf, "failed to parse netconf"));
	assert_non_null(strstr(err_buf, "cannot rebuild it either"));
	assert_false(stored("c5"));
	calls_are("");

	/* A torn file (empty: the state is not fsync'ed, a power loss can do
	 * this) with subnet.env in place: DEL delegates the configuration ADD
	 * built, byte for byte, so that host-local releases the address. */
	spit(subnet_file,
	     "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\n"
	     "FLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n",
	     0644);
	cni_env("ADD", "c7", "/run/netns/x", "eth0", path_env);
	assert_int_equal(run(conf("0.4.0", NULL)), 0);
	{
		char p[512], *added;

		snprintf(p, sizeof(p), "%s/stdin.ADD", dir);
		added = strdup(slurp(p));
		snprintf(p, sizeof(p), "%s/c7", data_dir);
		spit(p, "", 0600);
		cni_env("DEL", "c7", NULL, "eth0", path_env);
		assert_int_equal(run(conf("0.4.0", NULL)), 0);
		assert_non_null(strstr(err_buf, "deleting with the configuration rebuilt"));
		snprintf(p, sizeof(p), "%s/stdin.DEL", dir);
		assert_string_equal(slurp(p), added);
		free(added);
	}
	assert_false(stored("c7"));
	calls_are("ADD\nDEL\n");
}

static void test_check(void **state)
{
	char p[512];

	(void)state;
	cni_env("CHECK", "c6", "/run/netns/x", "eth0", path_env);
	assert_int_equal(run(conf("1.0.0", NULL)), 1);
	assert_fails(3, "no delegate configuration stored for container c6");
	calls_are("");

	cni_env("ADD", "c6", "/run/netns/x", "eth0", path_env);
	assert_int_equal(run(conf("1.0.0", NULL)), 0);
	cni_env("CHECK", "c6", "/run/netns/x", "eth0", path_env);
	assert_int_equal(run(conf("1.0.0", ",\"prevResult\":{\"cniVersion\":\"1.0.0\","
					   "\"ips\":[{\"address\":\"10.1.17.2/24\"}]}")),
			 0);
	assert_string_equal(out_buf, "");
	calls_are("ADD\nCHECK\n");
	/* the stored configuration plus the runtime's prevResult */
	snprintf(p, sizeof(p), "%s/stdin.CHECK", dir);
	assert_string_equal(slurp(p),
			    "{\"cniVersion\":\"1.0.0\",\"hairpinMode\":true,\"ipMasq\":false,"
			    "\"ipam\":{\"ranges\":[[{\"subnet\":\"10.1.17.0/24\"}]],\"routes\":"
			    "[{\"dst\":\"10.1.0.0/16\"}],\"type\":\"host-local\"},\"mtu\":1472,"
			    "\"name\":\"cbr0\",\"prevResult\":{\"cniVersion\":\"1.0.0\",\"ips\":"
			    "[{\"address\":\"10.1.17.2/24\"}]},\"type\":\"fake\"}");
	setenv("FAKE_MODE", "jsonerr", 1);
	assert_int_equal(run(conf("1.0.0", NULL)), 1);
	assert_string_equal(out_buf, "{\n    \"code\": 11,\n    \"msg\": \"busy\"\n}");
	unsetenv("FAKE_MODE");
	cni_env("DEL", "c6", NULL, "eth0", path_env);
	assert_int_equal(run(conf("1.0.0", NULL)), 0);
	calls_are("CHECK\nDEL\n");
}

static void test_status(void **state)
{
	char p[512];

	(void)state;
	cni_env("STATUS", NULL, NULL, NULL, path_env);
	/* the fake speaks 1.1.0: STATUS is delegated */
	assert_int_equal(run(conf("1.1.0", NULL)), 0);
	assert_string_equal(out_buf, "");
	calls_are("VERSION\nSTATUS\n");
	snprintf(p, sizeof(p), "%s/stdin.STATUS", dir);
	assert_non_null(strstr(slurp(p), "\"cniVersion\":\"1.1.0\""));
	/* and its failure is ours */
	setenv("FAKE_MODE", "jsonerr", 1);
	assert_int_equal(run(conf("1.1.0", NULL)), 1);
	assert_string_equal(out_buf, "{\n    \"code\": 11,\n    \"msg\": \"busy\"\n}");
	unsetenv("FAKE_MODE");
	/* a delegate without 1.1.0 is not asked */
	setenv("FAKE_VERSIONS", "\"1.0.0\"", 1);
	assert_int_equal(run(conf("1.1.0", NULL)), 0);
	unsetenv("FAKE_VERSIONS");
	calls_are("VERSION\nSTATUS\nVERSION\n");

	/* not ready: subnet.env missing or incomplete, or no delegate plugin */
	assert_int_equal(run(conf("1.1.0", ",\"subnetFile\":\"/nonexistent/subnet.env\"")), 1);
	assert_fails(50, "\"msg\":\"plugin not available: failed to load flannel 'subnet.env' "
			 "file: open /nonexistent/subnet.env: no such file or directory.");
	spit(subnet_file, "FLANNEL_NETWORK=10.1.0.0/16\n", 0644);
	assert_int_equal(run(conf("1.1.0", NULL)), 1);
	assert_fails(50, "is missing FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET, FLANNEL_MTU, "
			 "FLANNEL_IPMASQ");
	spit(subnet_file,
	     "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\n"
	     "FLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n",
	     0644);
	assert_int_equal(run(conf("1.1.0", ",\"delegate\":{\"type\":\"nope\"}")), 1);
	assert_fails(50, "plugin not available: failed to find plugin \\\"nope\\\"");
	/* a configuration error stays one */
	assert_int_equal(run(conf("1.1.0", ",\"delegate\":{\"name\":\"x\"}")), 1);
	assert_fails(7, "must not have 'name' field");
	calls_are("");
}

static void test_gc(void **state)
{
	static const char *const ids[] = {"keep1", "stale1", "keep2", "stale2"};
	char p[512];

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		cni_env("ADD", ids[i], "/run/netns/x", "eth0", path_env);
		assert_int_equal(run(conf("1.1.0", NULL)), 0);
	}
	calls_are("ADD\nADD\nADD\nADD\n");
	/* a temp file of an interrupted write, and a file that is not ours */
	snprintf(p, sizeof(p), "%s/.stale3.AbC123", data_dir);
	spit(p, "x", 0600);
	snprintf(p, sizeof(p), "%s/not an id", data_dir);
	spit(p, "x", 0600);

	cni_env("GC", NULL, NULL, NULL, path_env);
	assert_int_equal(run(conf("1.1.0", NULL)), 1);
	assert_fails(7, "GC needs the list \\\"cni.dev/valid-attachments\\\"");
	assert_int_equal(run(conf("1.1.0", ",\"cni.dev/valid-attachments\":[{\"ifname\":\"x\"}]")),
			 1);
	assert_fails(7, "cni.dev/valid-attachments[0] has no \\\"containerID\\\" string");
	calls_are("");

	assert_int_equal(run(conf("1.1.0", ",\"cni.dev/valid-attachments\":["
					   "{\"containerID\":\"keep1\",\"ifname\":\"eth0\"},"
					   "{\"containerID\":\"keep2\",\"ifname\":\"eth0\"}]")),
			 0);
	assert_string_equal(out_buf, "");
	assert_true(stored("keep1"));
	assert_true(stored("keep2"));
	assert_false(stored("stale1"));
	assert_false(stored("stale2"));
	assert_false(stored(".stale3.AbC123"));
	assert_true(stored("not an id"));
	assert_non_null(strstr(err_buf, "GC: removed 2 stale delegate configuration(s)"));
	/* delegated with the list */
	calls_are("VERSION\nGC\n");
	snprintf(p, sizeof(p), "%s/stdin.GC", dir);
	assert_non_null(strstr(slurp(p),
			       "\"cni.dev/valid-attachments\":[{\"containerID\":\"keep1\","
			       "\"ifname\":\"eth0\"},{\"containerID\":\"keep2\","
			       "\"ifname\":\"eth0\"}]"));

	/* subnet.env gone: our part is still done, delegation skipped */
	unlink(subnet_file);
	assert_int_equal(run(conf("1.1.0", ",\"cni.dev/valid-attachments\":[]")), 0);
	assert_false(stored("keep1"));
	assert_false(stored("keep2"));
	assert_non_null(strstr(err_buf, "GC: not delegated"));
	calls_are("");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_front_door, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delegate_ignores_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_del_failure_keeps_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
