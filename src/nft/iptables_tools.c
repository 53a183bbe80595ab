// SPDX-License-Identifier: Apache-2.0
/*
 * iptables mode's tools: found on PATH, their versions probed for the
 * optional flags, and run through core/proc (never a shell), bounded in
 * time and output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/proc.h"
#include "core/xmalloc.h"
#include "nft/iptables_int.h"

#define IPT_ERR_MAX	(64u << 10)
/* A run is killed after IPT_TIMEOUT_MS; before that, the tools give up
 * waiting for the xtables lock after IPT_WAIT_S (where they take a limit:
 * iptables >= 1.4.22, iptables-restore >= 1.6.2), so that a lock held too
 * long is reported as such, not as a timeout. */
#define IPT_TIMEOUT_MS	30000
#define IPT_TIMEOUT_TEXT "30 s"
#define IPT_WAIT_S	"10"

const char *const ipt_tool_name[TRAFFIC_NFAM][2] = {
	{ "iptables", "iptables-restore" },
	{ "ip6tables", "ip6tables-restore" },
};

const char *const ipt_fam_name[TRAFFIC_NFAM] = { "IPv4", "IPv6" };

int ipt_parse_version(const char *s, unsigned v[3])
{
	const char *p;
	char *end;
	unsigned long x;
	int i;

	for (p = s; (p = strchr(p, 'v')) != NULL; p++) {
		const char *q = p + 1;

		for (i = 0; i < 3; i++) {
			if (*q < '0' || *q > '9')
				break;
			errno = 0;
			x = strtoul(q, &end, 10);
			if (errno || x > 100000)
				break;
			v[i] = (unsigned)x;
			q = end;
			if (i < 2) {
				if (*q != '.')
					break;
				q++;
			}
		}
		if (i == 3)
			return 0;
	}
	return -EINVAL;
}

static bool version_at_least(const unsigned v[3], unsigned a, unsigned b, unsigned c)
{
	if (v[0] != a)
		return v[0] > a;
	if (v[1] != b)
		return v[1] > b;
	return v[2] >= c;
}

static char *find_in_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *colon;
	struct stat st;
	char *full;
	size_t l;

	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (p = path;; p = colon + 1) {
		colon = strchr(p, ':');
		l = colon ? (size_t)(colon - p) : strlen(p);
		if (l == 0)
			xasprintf(&full, "./%s", name);
		else
			xasprintf(&full, "%.*s/%s", (int)l, p, name);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
			return full;
		free(full);
		if (!colon)
			return NULL;
	}
}

/* Why a run failed, for a message. */
static const char *run_strerror(int rc)
{
	switch (rc) {
	case -ETIMEDOUT:
		return "no answer within " IPT_TIMEOUT_TEXT ", killed";
	case -E2BIG:
		return "more output than expected, killed";
	case -ECANCELED:
		return "stopped (shutting down)";
	default:
		return strerror(-rc);
	}
}

/* "iptables -t nat -S X" for messages. */
static void argv_text(const char *const argv[], char *s, size_t len)
{
	const char *base = strrchr(argv[0], '/');
	size_t used;
	int i;

	snprintf(s, len, "%s", base ? base + 1 : argv[0]);
	for (i = 1; argv[i]; i++) {
		used = strlen(s);
		snprintf(s + used, len - used, " %s", argv[i]);
	}
}

/* The tool's stderr on one line, for a message. */
static void one_line(const struct buf *errb, char *s, size_t len)
{
	size_t i, j = 0;

	for (i = 0; errb->data && i < errb->len && j + 1 < len; i++) {
		char c = errb->data[i];

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		if (c == ' ' && (j == 0 || s[j - 1] == ' '))
			continue;
		s[j++] = c;
	}
	while (j > 0 && s[j - 1] == ' ')
		j--;
	s[j] = '\0';
}

/*
 * One tool run: bounded in time and output, stopped early once the mode's
 * cancel fd is readable (the daemon is shutting down). Returns the
 * exit status or -errno; unless that is 0, err names the command and its
 * complaint.
 */
static int run_tool(struct ipt_mode *m, const char *const argv[], const char *in,
		    struct buf *out, struct err *err)
{
	char cmd[160], msg[200];
	struct buf errb;
	struct proc_spec spec = {
		.argv = argv,
		.in = in,
		.inlen = in ? strlen(in) : 0,
		.out = out,
		.err = &errb,
		.timeout_ms = IPT_TIMEOUT_MS,
		.cancel_fd = m->base.cancel_fd,
	};
	int rc;

	buf_init(&errb, IPT_ERR_MAX);
	rc = proc_run(&spec);
	if (rc != 0) {
		argv_text(argv, cmd, sizeof(cmd));
		one_line(&errb, msg, sizeof(msg));
		if (rc < 0)
			err_set(err, rc, "%s: %s", cmd, run_strerror(rc));
		else
			err_set(err, -EIO, "%s: exit status %d%s%s", cmd, rc, msg[0] ? ": " : "",
				msg);
	}
	buf_free(&errb);
	return rc;
}

/* Run and require exit status 0. */
static int run_ok(struct ipt_mode *m, const char *const argv[], const char *in, struct buf *out,
		  struct err *err)
{
	int rc = run_tool(m, argv, in, out, err);

	return rc > 0 ? -EIO : rc;
}

/* ---- binaries and their versions ---- */

void ipt_tools_find(struct ipt_bin bin[TRAFFIC_NFAM])
{
	int fi;

	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		bin[fi].ipt = find_in_path(ipt_tool_name[fi][0]);
		bin[fi].restore = find_in_path(ipt_tool_name[fi][1]);
	}
}

void ipt_tools_free(struct ipt_bin bin[TRAFFIC_NFAM])
{
	int fi;

	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		free(bin[fi].ipt);
		free(bin[fi].restore);
		bin[fi].ipt = bin[fi].restore = NULL;
	}
}

int ipt_need_tools(struct ipt_mode *m, int fi, const char *purpose, struct err *err)
{
	struct ipt_bin *b = &m->bin[fi];

	if (!b->ipt)
		b->ipt = find_in_path(ipt_tool_name[fi][0]);
	if (!b->restore)
		b->restore = find_in_path(ipt_tool_name[fi][1]);
	if (!b->ipt || !b->restore)
		return err_set(err, -ENOENT, "%s not found in PATH (needed for %s %s rules)",
			       ipt_tool_name[fi][b->ipt ? 1 : 0], ipt_fam_name[fi], purpose);
	return 0;
}

static int tool_version(struct ipt_mode *m, const char *path, unsigned v[3])
{
	const char *argv[] = { path, "--version", NULL };
	struct buf out;
	int rc;

	buf_init(&out, 4096);
	rc = run_ok(m, argv, NULL, &out, NULL);
	if (rc == 0)
		rc = ipt_parse_version(out.data ? out.data : "", v);
	buf_free(&out);
	return rc;
}

void ipt_probe(struct ipt_mode *m, int fi)
{
	struct ipt_bin *b = &m->bin[fi];
	unsigned v[3];

	if (b->probed || !b->ipt)
		return;
	if (tool_version(m, b->ipt, v) == 0) {
		b->wait = version_at_least(v, 1, 4, 20);
		b->wait_limit = version_at_least(v, 1, 4, 22);
		b->random_fully = version_at_least(v, 1, 6, 2);
		b->probed = true;
	}
	if (b->restore && tool_version(m, b->restore, v) == 0)
		b->restore_wait = version_at_least(v, 1, 6, 2);
	else
		b->probed = false;
}

bool ipt_random_fully(const struct ipt_mode *m, int fi, const struct traffic_params *p)
{
	return m->bin[fi].random_fully && !p->fully_random_disable;
}

int ipt_list(struct ipt_mode *m, int fi, const char *table, const char *chain, struct buf *out,
	     struct err *err)
{
	const char *argv[8];
	int n = 0;

	argv[n++] = m->bin[fi].ipt;
	if (m->bin[fi].wait_limit) {
		argv[n++] = "-w";
		argv[n++] = IPT_WAIT_S;
	} else if (m->bin[fi].wait) {
		argv[n++] = "--wait";
	}
	argv[n++] = "-t";
	argv[n++] = table;
	argv[n++] = "-S";
	if (chain)
		argv[n++] = chain;
	argv[n] = NULL;
	buf_reset(out);
	return run_tool(m, argv, NULL, out, err);
}

int ipt_restore(struct ipt_mode *m, int fi, const char *payload, struct err *err)
{
	const char *argv[] = { m->bin[fi].restore, "--noflush",
			       m->bin[fi].restore_wait ? "-w" : NULL, IPT_WAIT_S, NULL };

	return run_ok(m, argv, payload, NULL, err);
}
