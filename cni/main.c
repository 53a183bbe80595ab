// SPDX-License-Identifier: Apache-2.0
/*
 * weft's CNI plugin, installed as "weft" and as "flannel": an existing
 * flannel configuration ("type": "flannel") works unchanged. A meta-plugin:
 * it reads flanneld's subnet.env, builds a configuration for the delegate
 * (the bridge plugin by default) and runs it; it never touches the kernel.
 *
 * The front door follows libcni's skel package: required environment per
 * command (code 4), the configuration decoded (6) and named (7), then the
 * configuration's cniVersion negotiated (1) before the command runs. Errors
 * go to stdout as a CNI error object with a non-zero exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/version.h"
#include "cmd.h"
#include "conf.h"
#include "core/buf.h"
#include "core/json_ci.h"
#include "result.h"
#include "version.h"

enum {
	NEED_CONTAINERID = 1U << 0,
	NEED_NETNS = 1U << 1,
	NEED_IFNAME = 1U << 2,
	NEED_PATH = 1U << 3,
};

struct command {
	const char *name;
	int (*fn)(struct cni_ctx *ctx, struct cni_error *e);
	unsigned need;
	const char *since; /* first spec version with the command */
};

static const struct command commands[] = {
	{"ADD", cmd_add, NEED_CONTAINERID | NEED_NETNS | NEED_IFNAME | NEED_PATH, NULL},
	{"DEL", cmd_del, NEED_CONTAINERID | NEED_IFNAME | NEED_PATH, NULL},
	{"CHECK", cmd_check, NEED_CONTAINERID | NEED_NETNS | NEED_IFNAME | NEED_PATH, "0.4.0"},
	{"STATUS", cmd_status, NEED_PATH, "1.1.0"},
	{"GC", cmd_gc, NEED_PATH, "1.1.0"},
	{"VERSION", NULL, 0, NULL},
};

static void about(FILE *out)
{
	fprintf(out, "CNI Plugin weft version %s\nCNI protocol versions supported:", weft_version);
	for (const char *const *v = cni_supported_versions; *v; v++)
		fprintf(out, "%s %s", v == cni_supported_versions ? "" : ",", *v);
	fprintf(out, "\n");
}

static const char *env_str(const char *name)
{
	const char *v = getenv(name);

	return v ? v : "";
}

/* skel's getCmdArgsFromEnv: every missing variable named at once. */
static int check_env(const struct command *c, struct cni_ctx *ctx, struct cni_error *e)
{
	static const struct {
		const char *name;
		unsigned need;
	} vars[] = {
		{"CNI_CONTAINERID", NEED_CONTAINERID},
		{"CNI_NETNS", NEED_NETNS},
		{"CNI_IFNAME", NEED_IFNAME},
		{"CNI_PATH", NEED_PATH},
	};
	char missing[128] = "";
	size_t pos = 0;

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if ((c->need & vars[i].need) && !*env_str(vars[i].name))
			pos += (size_t)snprintf(missing + pos, sizeof(missing) - pos, "%s%s",
						pos ? "," : "", vars[i].name);
	if (pos)
		return cni_fail(e, CNI_ERR_INVALID_ENV, "required env variables [%s] missing",
				missing);
	ctx->container_id = env_str("CNI_CONTAINERID");
	ctx->netns = env_str("CNI_NETNS");
	ctx->ifname = env_str("CNI_IFNAME");
	ctx->cni_path = env_str("CNI_PATH");
	/* The container id names our state file: it must not be a path. */
	if ((c->need & NEED_CONTAINERID) && !cni_valid_name(ctx->container_id)) {
		cni_fail(e, CNI_ERR_INVALID_ENV, "invalid characters in containerID");
		cni_set_details(e, "%s", ctx->container_id);
		return -EINVAL;
	}
	if (c->need & NEED_IFNAME) {
		const char *n = ctx->ifname;

		if (strlen(n) > 15)
			return cni_fail(e, CNI_ERR_INVALID_ENV, "interface name is too long");
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			return cni_fail(e, CNI_ERR_INVALID_ENV, "interface name is . or ..");
		if (strpbrk(n, "/: \t\n\v\f\r"))
			return cni_fail(e, CNI_ERR_INVALID_ENV,
					"interface name contains / or : or whitespace characters");
	}
	return 0;
}

static int read_stdin(struct buf *b, struct cni_error *e)
{
	char chunk[16384];

	for (;;) {
		ssize_t n = read(0, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cni_fail(e, CNI_ERR_IO, "error reading from stdin: %s",
					strerror(errno));
		if (n == 0)
			return 0;
		if (buf_append(b, chunk, (size_t)n) < 0)
			return cni_fail(e, CNI_ERR_IO,
					"error reading from stdin: configuration exceeds %d bytes",
					CNI_MAX_INPUT);
	}
}

/* skel's checks on the configuration's cniVersion ("" means 0.1.0). */
static int check_version(const struct command *c, const char *v, struct cni_error *e)
{
	char list[256];
	int cmp;

	if (c->since) {
		if (cni_version_cmp(v, c->since, &cmp) < 0)
			return cni_fail(e, CNI_ERR_DECODE, "invalid version \"%s\"", v);
		if (cmp < 0)
			return cni_fail(e, CNI_ERR_INCOMPATIBLE_VERSION,
					"config version does not allow %s", c->name);
	}
	if (!cni_version_supported(*v ? v : "0.1.0")) {
		cni_versions_quoted(list, sizeof(list));
		cni_fail(e, CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI versions");
		cni_set_details(e, "config is \"%s\", plugin supports %s", v, list);
		return -EINVAL;
	}
	return 0;
}

/* The configuration's version, for the error object even when the
 * configuration is rejected later (the latest when it has none we know). */
static void peek_version(const struct buf *in, char *ret, size_t size)
{
	json_t *root = json_loadb(in->data ? in->data : "", in->len, 0, NULL);
	const char *v = json_string_value(json_get_ci(root, "cniVersion"));

	snprintf(ret, size, "%s", v && cni_version_supported(v) ? v : CNI_VERSION_LATEST);
	json_decref(root);
}

/* A closed stdin/stdout/stderr would let a pipe take fd 0-2 and be
 * closed again by dup2 in the child; keep the three slots taken. */
static void reserve_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd ? O_WRONLY : O_RDONLY) < 0)
			_exit(1);
}

int main(int argc, char **argv)
{
	struct cni_ctx ctx = {.out = stdout};
	struct cni_error e = {0};
	const struct command *c = NULL;
	char version[16] = CNI_VERSION_LATEST;
	struct buf in;
	int r;

	reserve_std_fds();
	/* A write to a pipe whose reader is gone (a delegate's stdin, the
	 * runtime's stdout) fails with EPIPE and is reported, rather than killing
	 * us silently; core/proc.c restores SIGPIPE in the delegates. */
	signal(SIGPIPE, SIG_IGN);
	buf_init(&in, CNI_MAX_INPUT);
	if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v") ||
			 !strcmp(argv[1], "version"))) {
		about(stdout);
		return 0;
	}
	ctx.command = env_str("CNI_COMMAND");
	if (!*ctx.command) {
		about(stderr);
		r = cni_fail(&e, CNI_ERR_INVALID_ENV,
			     "required env variables [CNI_COMMAND] missing");
		goto out;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, ctx.command))
			c = &commands[i];
	if (!c) {
		r = cni_fail(&e, CNI_ERR_INVALID_ENV, "unknown CNI_COMMAND: %s", ctx.command);
		goto out;
	}
	if ((r = check_env(c, &ctx, &e)) < 0)
		goto out;
	if (!c->fn) {
		cni_version_print(stdout);
		goto out;
	}
	if ((r = read_stdin(&in, &e)) < 0)
		goto out;
	peek_version(&in, version, sizeof(version));
	if ((r = cni_conf_parse(in.data ? in.data : "", in.len, &ctx.conf, &e)) < 0)
		goto out;
	if ((r = check_version(c, ctx.conf.cni_version, &e)) < 0)
		goto out;
	r = c->fn(&ctx, &e);
out:
	if (r < 0) {
		cni_error_print(stdout, &e, version);
		if (!e.raw)
			fprintf(stderr, "%s\n", e.msg);
	}
	fflush(stdout);
	cni_error_free(&e);
	cni_conf_free(&ctx.conf);
	buf_free(&in);
	return r < 0 ? 1 : 0;
}
