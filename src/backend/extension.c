// SPDX-License-Identifier: Apache-2.0
/*
 * extension (flannel.md §7.9, upstream pkg/backend/extension): the data path
 * is whatever the operator's commands build. PreStartupCommand runs before
 * the lease is asked for and its output becomes our BackendData (a JSON
 * string); PostStartupCommand runs once the lease is ours; SubnetAdd- and
 * SubnetRemoveCommand run for each peer of BackendType "extension". How a
 * command line becomes a program and its arguments: backend/ext_cmd.h.
 *
 * The loop never waits for a command: they run one at a time on a worker
 * thread, in the order they were asked for (a FIFO of jobs), each killed
 * after EXT_CMD_TIMEOUT_MS. Like upstream, a failing PreStartupCommand fails
 * start-up, and a failing PostStartupCommand ends weftd with exit 1
 * (backend_fail); a failing peer command is logged and the next one runs (no
 * retries, as upstream). Where we differ from upstream:
 *  - PostStartupCommand runs once lease_acquired has returned, so the
 *    subnet file may be written before it ends (flanneld runs it before).
 *  - a command is killed after EXT_CMD_TIMEOUT_MS (upstream waits forever)
 *    and its output is bounded (EXT_OUTPUT_MAX).
 *  - stdout and stderr are two pipes read into one buffer, so their
 *    interleaving is by arrival (Go's CombinedOutput shares one pipe).
 *  - the program's argv[0] is the path found on PATH (Go passes the name
 *    as written), since core/proc.h execs argv[0].
 *  - a peer's lease rewritten with the same value (a renewal) is not a new
 *    event here, so SubnetAddCommand does not run again for it.
 */
#include "backend/extension.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "backend/backend.h"
#include "backend/ext_cmd.h"
#include "core/buf.h"
#include "core/container_of.h"
#include "core/err.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/worker.h"
#include "core/xmalloc.h"
#include "subnet/lease.h"
#include "subnet/netconf.h"
#include "subnet/subnet_mgr.h"

#define EXT_CMD_TIMEOUT_MS 60000 /* each command; WEFT_TEST_EXT_TIMEOUT_MS for tests */
#define EXT_OUTPUT_MAX (1 << 20) /* stdout + stderr of one command */
#define EXT_LOG_OUTPUT_MAX 2048	 /* of it in a log line */
#define EXT_STDIN_MAX (8 * LEASE_JSON_MAX)
/* Our BackendData must leave room for the rest of the lease value, which
 * peers refuse above LEASE_JSON_MAX. */
#define EXT_BACKEND_DATA_MAX (LEASE_JSON_MAX - 512)

extern char **environ;

struct ext_job {
	struct ext_job *next;
	enum ext_cmd_kind kind;
	char peer[SUBNET_KEY_STRLEN]; /* SubnetAdd/Remove: the peer's lease */
	uint64_t gen;		      /* SubnetAdd: the peer record it is for */
	char **env;		      /* "NAME=value": the daemon's, then the command's */
	size_t n_env;
	char **argv; /* split and expanded; argv[0] as named */
	const char **envp;
	char *path_env; /* the daemon's PATH when the job was made */
	char *in;	/* stdin */
	size_t inlen;
	int cancel_fd;
	int timeout_ms;
	/* the worker's results */
	int rc;		 /* proc_run's, or the PATH lookup's -errno */
	bool not_found;	 /* rc is from the lookup: why says it */
	int wait_status; /* of the reaped child */
	struct err why;
	char *exec_path;
	struct buf out; /* stdout and stderr */
};

struct ext_peer {
	struct hmap_node node;
	char name[SUBNET_KEY_STRLEN];
	char subnet[IP_PREFIX_STRLEN];
	char public_ip[IP_ADDR_STRLEN];
	struct buf in; /* its BackendData as a string, and "\n" */
	uint64_t gen;
	bool programmed; /* SubnetAddCommand succeeded (or there is none) */
};

struct extension {
	struct backend base;
	struct ext_conf conf;
	bool v4, v6;
	struct ip_prefix network;
	struct ip_addr pub4, pub6; /* what our lease publishes */
	int timeout_ms;
	struct worker *worker;
	struct ext_job *head, *tail; /* waiting */
	struct ext_job *running;     /* on the worker */
	size_t queued;
	char *backend_data; /* the PreStartupCommand's output as a JSON string */
	backend_done_fn *prep_done;
	void *prep_arg;
	struct hmap peers; /* of BackendType extension, by lease name */
	uint64_t gen;
	uint64_t runs, failures;
};

static struct extension *to_ext(struct backend *base)
{
	return container_of(base, struct extension, base);
}

/* ---- jobs ---- */

static void job_free(struct ext_job *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n_env; i++)
		free(j->env[i]);
	free(j->env);
	ext_cmd_strv_free(j->argv);
	free(j->envp);
	free(j->path_env);
	free(j->in);
	free(j->exec_path);
	buf_free(&j->out);
	free(j);
}

/* The command of kind, split and expanded against the daemon's environment
 * plus extra (n_extra "NAME=value" strings, taken over), stdin in. */
static struct ext_job *job_new(struct extension *b, enum ext_cmd_kind kind, const char *peer,
			       char **extra, size_t n_extra, const char *in, size_t inlen)
{
	struct ext_job *j = xcalloc(1, sizeof(*j));
	const char *cmd = b->conf.cmd[kind];
	const char *path = getenv("PATH");
	size_t n_environ = 0, nf;
	char **fields;

	j->kind = kind;
	snprintf(j->peer, sizeof(j->peer), "%s", peer ? peer : "");
	while (environ && environ[n_environ])
		n_environ++;
	j->env = xcalloc(n_environ + n_extra + 1, sizeof(*j->env));
	for (size_t i = 0; i < n_environ; i++)
		j->env[j->n_env++] = xstrdup(environ[i]);
	for (size_t i = 0; i < n_extra; i++)
		j->env[j->n_env++] = extra[i];
	nf = ext_cmd_fields(cmd, strlen(cmd), &fields, NULL);
	j->argv = xcalloc(nf + 1, sizeof(*j->argv));
	for (size_t i = 0; i < nf; i++) {
		size_t len;

		j->argv[i] = ext_cmd_expand(fields[i], strlen(fields[i]),
					    (const char *const *)j->env, j->n_env, &len);
	}
	ext_cmd_strv_free(fields);
	j->envp = ext_cmd_env((const char *const *)j->env, j->n_env);
	j->path_env = xstrdup(path ? path : "");
	j->in = xmalloc(inlen + 1);
	memcpy(j->in, in, inlen);
	j->inlen = inlen;
	buf_init(&j->out, EXT_OUTPUT_MAX);
	return j;
}

/* On the worker thread: b->running is its own until job_done. */
static void job_run(void *arg)
{
	struct ext_job *j = ((struct extension *)arg)->running;
	const char **argv;
	size_t n = 0;

	if (!j->argv[0]) { /* cannot happen: the config has a program */
		j->rc = err_set(&j->why, -ENOENT, "exec: no command");
		j->not_found = true;
		return;
	}
	j->rc = ext_cmd_lookpath(j->argv[0], j->path_env, &j->exec_path, &j->why);
	if (j->rc < 0) {
		j->not_found = true;
		return;
	}
	while (j->argv[n])
		n++;
	argv = xcalloc(n + 1, sizeof(*argv));
	argv[0] = j->exec_path;
	for (size_t i = 1; i < n; i++)
		argv[i] = j->argv[i];
	j->rc = proc_run(&(struct proc_spec){
		.argv = argv,
		.in = j->in,
		.inlen = j->inlen,
		.out = &j->out,
		.err = &j->out, /* one buffer: Go's CombinedOutput */
		.timeout_ms = j->timeout_ms,
		.cancel_fd = j->cancel_fd,
		.envp = j->envp,
		.exec_errno = true,
		.wait_status = &j->wait_status,
	});
	free(argv);
}

static void job_done(void *arg);

/* The next job to the worker, if it is free. */
static void pump(struct extension *b)
{
	struct ext_job *j;
	int rc;

	while (!b->running && b->head) {
		j = b->head;
		b->head = j->next;
		if (!b->head)
			b->tail = NULL;
		b->queued--;
		j->next = NULL;
		j->cancel_fd = worker_cancel_fd(b->worker);
		j->timeout_ms = b->timeout_ms;
		b->running = j;
		rc = worker_submit(b->worker, job_run, job_done, b);
		if (rc < 0) {
			j->rc = rc;
			err_set(&j->why, rc, "cannot start a thread: %s", strerror(-rc));
			j->not_found = true;
			job_done(b);
		}
	}
}

static void enqueue(struct extension *b, struct ext_job *j)
{
	if (b->tail)
		b->tail->next = j;
	else
		b->head = j;
	b->tail = j;
	b->queued++;
	pump(b);
}

/* Go's words for how a run failed ("exit status 2", "signal: killed"). */
static void describe(const struct extension *b, const struct ext_job *j, char *why, size_t len)
{
	char m[128];

	if (j->not_found) {
		snprintf(why, len, "%s", j->why.msg);
		return;
	}
	if (j->rc == -ETIMEDOUT) {
		snprintf(why, len, "killed after %d ms (timeout)", b->timeout_ms);
		return;
	}
	if (j->rc == -E2BIG) {
		snprintf(why, len, "killed: its output exceeds %d bytes", EXT_OUTPUT_MAX);
		return;
	}
	if (j->rc < 0)
		snprintf(m, sizeof(m), "%s", strerror(-j->rc));
	else if (WIFSIGNALED(j->wait_status))
		snprintf(m, sizeof(m), "%s", strsignal(WTERMSIG(j->wait_status)));
	else
		m[0] = '\0';
	if (m[0] >= 'A' && m[0] <= 'Z')
		m[0] = (char)(m[0] - 'A' + 'a'); /* Go's error strings are lower case */
	if (j->rc < 0)
		snprintf(why, len, "fork/exec %s: %s", j->exec_path ? j->exec_path : j->argv[0], m);
	else if (WIFSIGNALED(j->wait_status))
		snprintf(why, len, "signal: %s", m);
	else
		snprintf(why, len, "exit status %d", j->rc);
}

static void pre_done(struct extension *b, const struct ext_job *j, bool ok, const char *why,
		     int *ret_rc, struct err *err)
{
	int rc;

	*ret_rc = 0;
	if (!ok) {
		*ret_rc = j->rc < 0 ? j->rc : -EIO;
		err_set(err, *ret_rc, "PreStartupCommand failed: %s", why);
		return;
	}
	rc = ext_cmd_backend_data(j->out.data ? j->out.data : "", j->out.len, EXT_BACKEND_DATA_MAX,
				  &b->backend_data);
	if (rc < 0) {
		b->failures++;
		*ret_rc = err_set(err, rc,
				  "PreStartupCommand's output is too large for a lease (more than "
				  "%d bytes as a JSON string)",
				  EXT_BACKEND_DATA_MAX);
	}
}

/* On the loop, once the worker is through with b->running. */
static void job_done(void *arg)
{
	struct extension *b = arg;
	struct ext_job *j = b->running;
	const char *o = j->out.data ? j->out.data : "";
	const char *cmd = b->conf.cmd[j->kind];
	bool ok = j->rc == 0, pre = j->kind == EXT_PRE_STARTUP;
	bool post_failed = !ok && j->kind == EXT_POST_STARTUP;
	char why[320] = "", *out, *cmdl;
	backend_done_fn *done = b->prep_done;
	void *done_arg = b->prep_arg;
	struct err err = {0};
	size_t a, e;
	int rc = 0;

	b->running = NULL;
	b->runs++;
	ext_cmd_trim_space(o, j->out.len, &a, &e);
	out = ext_cmd_log_text(o + a, e - a, EXT_LOG_OUTPUT_MAX);
	cmdl = ext_cmd_log_text(cmd, strlen(cmd), 512);
	if (ok) {
		log_info("extension: %s%s%s: ran command: %s; output: %s", ext_cmd_key(j->kind),
			 j->peer[0] ? " for " : "", j->peer, cmdl, out);
	} else {
		b->failures++;
		describe(b, j, why, sizeof(why));
		log_error("extension: %s%s%s: failed to run command: %s; error: %s; output: %s",
			  ext_cmd_key(j->kind), j->peer[0] ? " for " : "", j->peer, cmdl, why, out);
	}
	free(out);
	free(cmdl);
	if (j->kind == EXT_SUBNET_ADD) {
		struct hmap_node *hn = hmap_get(&b->peers, j->peer);
		struct ext_peer *p = hn ? hmap_entry(hn, struct ext_peer, node) : NULL;

		if (p && p->gen == j->gen)
			p->programmed = ok;
	}
	if (pre) {
		pre_done(b, j, ok, why, &rc, &err);
		b->prep_done = NULL;
	}
	job_free(j);
	pump(b);
	/* Last: the agent may go on to ask for the lease from here. */
	if (pre && done)
		done(done_arg, rc, rc < 0 ? &err : NULL);
	else if (post_failed)
		backend_fail(&b->base); /* as flanneld, which exits 1 */
}

/* ---- backend ops ---- */

static void ext_destroy(struct backend *base);

static int ext_create(const struct backend_params *p, struct backend **ret, struct err *err)
{
	struct extension *b = xcalloc(1, sizeof(*b));
	const char *t = getenv("WEFT_TEST_EXT_TIMEOUT_MS");
	long ms = t ? strtol(t, NULL, 10) : 0;
	int rc;

	backend_base_init(&b->base, p);
	hmap_init(&b->peers);
	b->v4 = p->nc->enable_ipv4;
	b->v6 = p->nc->enable_ipv6;
	b->network = p->nc->network;
	b->timeout_ms = EXT_CMD_TIMEOUT_MS;
	if (ms > 0 && ms <= EXT_CMD_TIMEOUT_MS) /* a test knob: shorter only */
		b->timeout_ms = (int)ms;
	rc = ext_conf_parse(p->nc->backend_json, &b->conf, err);
	if (rc < 0)
		goto fail;
	rc = worker_new(p->loop, &b->worker);
	if (rc < 0) {
		err_set(err, rc, "cannot set up a worker: %s", strerror(-rc));
		goto fail;
	}
	/* flanneld uses the interface's addresses, not --public-ip (§7.9), and
	 * only those of the families the network has. */
	if (b->v4)
		b->pub4 = p->ext->iface_addr;
	if (b->v6)
		b->pub6 = p->ext->iface_addr6;
	*ret = &b->base;
	return 0;
fail:
	ext_destroy(&b->base);
	return rc;
}

static int ext_prepare(struct backend *base, backend_done_fn *done, void *arg)
{
	struct extension *b = to_ext(base);

	if (!b->conf.cmd[EXT_PRE_STARTUP]) {
		log_info("extension: no PreStartupCommand configured, skipping");
		done(arg, 0, NULL);
		return 0;
	}
	b->prep_done = done;
	b->prep_arg = arg;
	/* upstream: runCmd([]string{}, "", ...): no variables, stdin "\n" */
	enqueue(b, job_new(b, EXT_PRE_STARTUP, NULL, NULL, 0, "\n", 1));
	return 0;
}

static int ext_lease_attrs(struct backend *base, struct lease_attrs *attrs, struct err *err)
{
	struct extension *b = to_ext(base);
	char x[IP_ADDR_STRLEN], y[IP_ADDR_STRLEN];

	(void)err;
	snprintf(attrs->backend_type, sizeof(attrs->backend_type), "extension");
	if (b->backend_data)
		attrs->backend_data = xstrdup(b->backend_data);
	if (b->v4 && attrs->public_ip.family && !ip_addr_equal(&attrs->public_ip, &b->pub4))
		log_warnx("extension: the lease publishes the interface address %s, not %s (as "
			  "flannel's extension backend does)",
			  ip_addr_format(&b->pub4, x), ip_addr_format(&attrs->public_ip, y));
	if (b->v6 && attrs->public_ipv6.family && !ip_addr_equal(&attrs->public_ipv6, &b->pub6))
		log_warnx("extension: the lease publishes the interface address %s, not %s (as "
			  "flannel's extension backend does)",
			  ip_addr_format(&b->pub6, x), ip_addr_format(&attrs->public_ipv6, y));
	memset(&attrs->public_ip, 0, sizeof(attrs->public_ip));
	memset(&attrs->public_ipv6, 0, sizeof(attrs->public_ipv6));
	if (b->pub4.family)
		attrs->public_ip = b->pub4;
	else
		ip_addr_parse("0.0.0.0", &attrs->public_ip);
	attrs->public_ipv6 = b->pub6;
	return 0;
}

/* Go's %s of an ip.IP4Net / ip.IP6Net: the zero value prints as 0.0.0.0/0
 * and ::/0. */
static const char *prefix_text(const struct ip_prefix *p, bool set, const char *zero,
			       char buf[IP_PREFIX_STRLEN])
{
	if (!set || !p->addr.family)
		return zero;
	return ip_prefix_format(p, buf);
}

static char *var(const char *name, const char *value)
{
	char *s;

	xasprintf(&s, "%s=%s", name, value);
	return s;
}

static int ext_lease_acquired(struct backend *base, const struct lease *own, unsigned *ret_mtu,
			      struct err *err)
{
	struct extension *b = to_ext(base);
	char n[IP_PREFIX_STRLEN], s4[IP_PREFIX_STRLEN], s6[IP_PREFIX_STRLEN];
	char p4[IP_ADDR_STRLEN], p6[IP_ADDR_STRLEN];
	char *extra[5];

	(void)err;
	*ret_mtu = base->ext.mtu; /* upstream: the interface's MTU */
	if (!b->conf.cmd[EXT_POST_STARTUP]) {
		log_info("extension: no PostStartupCommand configured, skipping");
		return 0;
	}
	/* upstream: NETWORK=config.Network, SUBNET=lease.Subnet,
	 * IPV6SUBNET=lease.IPv6Subnet, PUBLIC_IP=attrs.PublicIP,
	 * PUBLIC_IPV6=attrs.PublicIPv6 (a nil *ip.IP6, printed with %s, is
	 * "<nil>"). */
	extra[0] = var("NETWORK", prefix_text(&b->network, b->v4, "0.0.0.0/0", n));
	extra[1] = var("SUBNET", prefix_text(&own->subnet.v4, subnet_key_has_v4(&own->subnet),
					     "0.0.0.0/0", s4));
	extra[2] = var("IPV6SUBNET", prefix_text(&own->subnet.v6, own->subnet.has_v6, "::/0", s6));
	extra[3] = var("PUBLIC_IP", b->pub4.family ? ip_addr_format(&b->pub4, p4) : "0.0.0.0");
	extra[4] = var("PUBLIC_IPV6", b->pub6.family ? ip_addr_format(&b->pub6, p6) : "<nil>");
	enqueue(b, job_new(b, EXT_POST_STARTUP, NULL, extra, 5, "\n", 1));
	return 0;
}

static void peer_free(struct ext_peer *p)
{
	if (p) {
		buf_free(&p->in);
		free(p);
	}
}

static void peer_free_node(struct hmap_node *n)
{
	peer_free(hmap_entry(n, struct ext_peer, node));
}

/* A peer's command: SUBNET and PUBLIC_IP (upstream gives no IPv6 ones),
 * its BackendData on stdin. */
static void peer_job(struct extension *b, enum ext_cmd_kind kind, const struct ext_peer *p)
{
	char *extra[2];
	struct ext_job *j;

	extra[0] = var("SUBNET", p->subnet);
	extra[1] = var("PUBLIC_IP", p->public_ip);
	j = job_new(b, kind, p->name, extra, 2, p->in.data, p->in.len);
	j->gen = p->gen;
	enqueue(b, j);
}

static void peer_added(struct extension *b, const struct lease *l)
{
	struct hmap_node *old = hmap_remove(&b->peers, l->name);
	struct ext_peer *p;
	struct err err = {0};
	char pfx[IP_PREFIX_STRLEN];

	if (old)
		peer_free_node(old);
	if (strcmp(l->attrs.backend_type, "extension")) {
		log_warnx("extension: ignoring peer %s of backend type '%s'", l->name,
			  l->attrs.backend_type);
		return;
	}
	p = xcalloc(1, sizeof(*p));
	if (ext_cmd_peer_stdin(l->attrs.backend_data, EXT_STDIN_MAX, &p->in, &err) < 0) {
		/* upstream logs it and skips the peer, on removal too */
		log_error("extension: peer %s: failed to unmarshal BackendData: %s", l->name,
			  err.msg);
		peer_free(p);
		return;
	}
	snprintf(p->name, sizeof(p->name), "%s", l->name);
	p->node.key = p->name;
	snprintf(p->subnet, sizeof(p->subnet), "%s",
		 prefix_text(&l->subnet.v4, subnet_key_has_v4(&l->subnet), "0.0.0.0/0", pfx));
	if (l->attrs.public_ip.family)
		ip_addr_format(&l->attrs.public_ip, p->public_ip);
	else
		snprintf(p->public_ip, sizeof(p->public_ip), "0.0.0.0");
	p->gen = ++b->gen;
	p->programmed = !b->conf.cmd[EXT_SUBNET_ADD];
	hmap_put(&b->peers, &p->node);
	if (b->conf.cmd[EXT_SUBNET_ADD])
		peer_job(b, EXT_SUBNET_ADD, p);
}

static void peer_removed(struct extension *b, const struct lease *l)
{
	struct hmap_node *hn = hmap_remove(&b->peers, l->name);
	struct ext_peer *p;

	/* The attributes are those we last saw added, as upstream's lease
	 * watcher keeps them; a peer we do not hold was not ours. */
	if (!hn) {
		log_debug("extension: peer %s removed: not an extension peer, ignoring", l->name);
		return;
	}
	p = hmap_entry(hn, struct ext_peer, node);
	if (b->conf.cmd[EXT_SUBNET_REMOVE])
		peer_job(b, EXT_SUBNET_REMOVE, p);
	peer_free(p);
}

static void ext_peers(struct backend *base, const struct lease_event *ev, size_t n)
{
	struct extension *b = to_ext(base);

	for (size_t i = 0; i < n; i++) {
		if (ev[i].kind == LEASE_ADDED)
			peer_added(b, ev[i].lease);
		else
			peer_removed(b, ev[i].lease);
	}
}

static void ext_stats(struct backend *base, struct backend_stats *ret)
{
	struct extension *b = to_ext(base);
	const struct hmap_node *hn;
	size_t iter;

	for (hn = hmap_first(&b->peers, &iter); hn; hn = hmap_next(&b->peers, hn, &iter))
		ret->peers_programmed += hmap_entry(hn, struct ext_peer, node)->programmed;
	/* For this backend: commands that failed. */
	ret->netlink_errors = b->failures;
}

static void ext_dump(struct backend *base)
{
	struct extension *b = to_ext(base);
	struct backend_stats st = {0};

	ext_stats(base, &st);
	log_info("extension: %zu peers (%llu programmed), %llu commands run, %llu failed, %s "
		 "running, %zu waiting",
		 b->peers.count, (unsigned long long)st.peers_programmed,
		 (unsigned long long)b->runs, (unsigned long long)b->failures,
		 b->running ? ext_cmd_key(b->running->kind) : "none", b->queued);
}

/* Our lease publishes the interface's addresses (see ext_create); the
 * commands are the operator's and run again only for lease events. */
static int ext_ext_changed(struct backend *base, const struct ext_iface *ext, struct err *err)
{
	struct extension *b = to_ext(base);

	(void)err;
	base->ext = *ext;
	if (b->v4)
		b->pub4 = ext->iface_addr;
	if (b->v6)
		b->pub6 = ext->iface_addr6;
	return 0;
}

static void ext_destroy(struct backend *base)
{
	struct extension *b = to_ext(base);
	struct ext_job *j, *next;

	/* Kills a running command (by its pid) and joins; no done follows. */
	worker_free(b->worker);
	job_free(b->running);
	for (j = b->head; j; j = next) {
		next = j->next;
		job_free(j);
	}
	hmap_clear(&b->peers, peer_free_node);
	ext_conf_free(&b->conf);
	free(b->backend_data);
	free(b);
}

const struct backend_ops extension_backend_ops = {
	.type = "extension",
	.create = ext_create,
	.prepare = ext_prepare,
	.lease_attrs = ext_lease_attrs,
	.lease_acquired = ext_lease_acquired,
	.peers = ext_peers,
	.stats = ext_stats,
	.dump = ext_dump,
	.ext_changed = ext_ext_changed,
	.destroy = ext_destroy,
};
