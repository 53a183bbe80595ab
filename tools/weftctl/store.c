// SPDX-License-Identifier: Apache-2.0
/*
 * weftctl talks to etcd through the daemon's asynchronous client. Each wrapper
 * here submits its request(s), then spins a private loop until the callbacks
 * have run. A guard timer bounds the wait even if the client's own timeouts
 * misbehave; when it fires, the client is freed (which cancels whatever is in
 * flight without calling back), so no late callback can reach a finished call
 * on the stack.
 */
#include "store.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/secret_file.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "etcd/etcd.h"
#include "subnet/etcd_mgr.h"

#define REQUEST_TIMEOUT_MS 10000 /* per endpoint attempt */
#define TTL_WINDOW 32		 /* lease TTL requests in flight at once */

struct store {
	struct loop *loop;
	struct etcd *etcd; /* NULL after a guard timeout */
	char *endpoints;
	char *subnets;
	char *config_key;
	int64_t guard_ms;
	unsigned pending;
	bool timed_out;
};

/* One request's outcome, filled by its callback. */
struct call {
	struct store *s;
	int err;
	char msg[256];
	struct store_kvs *kvs;
	bool ok;
	int64_t id, ttl;
};

/* ---- options ---- */

struct common_opt {
	const char *name;
	size_t off;
	const char *env;
	const char *def;
	/* A distribution environment file's names, above env (weftd's order). */
	const char *distro_env[2];
};

static const struct common_opt common_opts[] = {
	{"etcd-endpoints", offsetof(struct store_opts, endpoints), "FLANNELD_ETCD_ENDPOINTS",
	 "http://127.0.0.1:4001,http://127.0.0.1:2379", {"FLANNEL_ETCD_ENDPOINTS", "FLANNEL_ETCD"}},
	{"etcd-prefix", offsetof(struct store_opts, prefix), "FLANNELD_ETCD_PREFIX",
	 "/coreos.com/network", {"FLANNEL_ETCD_PREFIX", "FLANNEL_ETCD_KEY"}},
	{"etcd-cafile", offsetof(struct store_opts, cafile), "FLANNELD_ETCD_CAFILE", "", {NULL, NULL}},
	{"etcd-certfile", offsetof(struct store_opts, certfile), "FLANNELD_ETCD_CERTFILE", "", {NULL, NULL}},
	{"etcd-keyfile", offsetof(struct store_opts, keyfile), "FLANNELD_ETCD_KEYFILE", "", {NULL, NULL}},
	{"etcd-username", offsetof(struct store_opts, username), "FLANNELD_ETCD_USERNAME", "", {NULL, NULL}},
	{"etcd-password", offsetof(struct store_opts, password), "FLANNELD_ETCD_PASSWORD", "", {NULL, NULL}},
	{"etcd-password-file", offsetof(struct store_opts, password_file),
	 "FLANNELD_ETCD_PASSWORD_FILE", "", {NULL, NULL}},
};

#define N_COMMON (sizeof(common_opts) / sizeof(common_opts[0]))

static const char **common_field(struct store_opts *so, const struct common_opt *o)
{
	return (const char **)((char *)so + o->off);
}

void store_opts_usage(FILE *f)
{
	fputs("etcd options (flanneld's):\n"
	      "  --etcd-endpoints URLS  comma-separated etcd endpoints (default\n"
	      "                         \"http://127.0.0.1:4001,http://127.0.0.1:2379\")\n"
	      "  --etcd-prefix PREFIX   etcd prefix (default \"/coreos.com/network\")\n"
	      "  --etcd-cafile FILE     CA bundle that verifies etcd's certificate\n"
	      "  --etcd-certfile FILE   client certificate for etcd (PEM)\n"
	      "  --etcd-keyfile FILE    client key for etcd (PEM)\n"
	      "  --etcd-username NAME   etcd user (v3 authentication)\n"
	      "  --etcd-password PASS   etcd password\n"
	      "  --etcd-password-file FILE  read the etcd password from FILE (keeps it\n"
	      "                         out of argv; not with --etcd-password)\n"
	      "An etcd option not given is read from FLANNELD_<NAME>, e.g.\n"
	      "FLANNELD_ETCD_ENDPOINTS (empty values are ignored); as in weftd,\n"
	      "FLANNEL_ETCD_ENDPOINTS (or FLANNEL_ETCD) and FLANNEL_ETCD_PREFIX (or\n"
	      "FLANNEL_ETCD_KEY) from a distribution's file win over those. Options may be\n"
	      "written -name or --name, with \"--name value\" or \"--name=value\",\n"
	      "before or after the arguments; \"--\" ends the options.\n",
	      f);
}

static int parse_option(const char *arg, int argc, char **argv, int *i, const struct cmd_opt *opts,
			struct store_opts *so, struct err *err)
{
	const char *name = arg + (arg[1] == '-' ? 2 : 1);
	const char *eq = strchr(name, '='), *value;
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct cmd_opt *co = NULL;
	const struct common_opt *eo = NULL;

	for (size_t k = 0; opts && opts[k].name; k++) {
		if (strlen(opts[k].name) == len && !strncmp(opts[k].name, name, len)) {
			co = &opts[k];
			break;
		}
	}
	for (size_t k = 0; !co && so && k < N_COMMON; k++) {
		if (strlen(common_opts[k].name) == len &&
		    !strncmp(common_opts[k].name, name, len)) {
			eo = &common_opts[k];
			break;
		}
	}
	/* Only the name part: a mistyped --etcd-pasword=... must not echo the secret. */
	if (!co && !eo)
		return err_set(err, -EINVAL, "unknown option '%.*s'", (int)(name - arg + len), arg);
	if (co && co->flag) {
		if (eq)
			return err_set(err, -EINVAL, "option '--%.*s' takes no value", (int)len,
				       name);
		*co->flag = true;
		return 0;
	}
	if (eq) {
		value = eq + 1;
	} else if (*i + 1 < argc) {
		value = argv[++*i];
	} else {
		return err_set(err, -EINVAL, "option '--%.*s' needs a value", (int)len, name);
	}
	if (co)
		*co->val = value;
	else
		*common_field(so, eo) = value;
	return 0;
}

int store_args_parse(int argc, char **argv, const struct cmd_opt *opts, struct store_opts *so,
		     char **pos, int *ret_npos, struct err *err)
{
	bool ended = false;
	int npos = 0, r;

	if (so)
		memset(so, 0, sizeof(*so));
	if (argc > 1 && !strcmp(argv[1], "help"))
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (ended || a[0] != '-' || a[1] == '\0') {
			pos[npos++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			ended = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "-help"))
			return 1;
		r = parse_option(a, argc, argv, &i, opts, so, err);
		if (r < 0)
			return r;
	}
	for (size_t k = 0; so && k < N_COMMON; k++) {
		const char **f = common_field(so, &common_opts[k]);
		const char *env = NULL;

		if (*f)
			continue;
		for (int d = 0; d < 2 && (!env || !*env) && common_opts[k].distro_env[d]; d++)
			env = getenv(common_opts[k].distro_env[d]);
		if (!env || !*env)
			env = getenv(common_opts[k].env);
		*f = env && *env ? env : common_opts[k].def;
	}
	*ret_npos = npos;
	return 0;
}

/* ---- the client ---- */

int store_open(const struct store_opts *so, struct store **ret, struct err *err)
{
	struct etcd_config cfg = {
		.endpoints = so->endpoints,
		.cafile = so->cafile,
		.certfile = so->certfile,
		.keyfile = so->keyfile,
		.username = so->username,
		.password = so->password,
		.request_timeout_ms = REQUEST_TIMEOUT_MS,
	};
	struct store *s = xcalloc(1, sizeof(*s));
	unsigned n_endpoints = 1;
	char *sub, *pw = NULL;
	int r;

	if (so->password_file && *so->password_file) {
		if (so->password && *so->password) {
			r = err_set(err, -EINVAL,
				    "--etcd-password and --etcd-password-file are both set (on the "
				    "command line or as FLANNELD_*): give the password one way");
			goto out;
		}
		r = secret_file_read("--etcd-password-file", so->password_file, &pw, err);
		if (r < 0)
			goto out;
		cfg.password = pw;
	}
	for (const char *p = so->endpoints; *p; p++)
		n_endpoints += *p == ',';
	/* Every endpoint once, plus an authentication round, plus slack. */
	s->guard_ms = (int64_t)(n_endpoints + 1) * REQUEST_TIMEOUT_MS + 1000;
	s->endpoints = xstrdup(so->endpoints);
	r = loop_new(&s->loop);
	if (r < 0) {
		err_set(err, r, "cannot create an event loop: %s", strerror(-r));
		goto out;
	}
	r = etcd_new(s->loop, &cfg, &s->etcd, err);
	if (r < 0)
		goto out;
	sub = etcd_mgr_join(so->prefix, "subnets");
	xasprintf(&s->subnets, "%s/", sub);
	free(sub);
	s->config_key = etcd_mgr_join(so->prefix, "config");
	*ret = s;
	s = NULL;
out:
	if (pw) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	store_close(s);
	return r;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	etcd_free(s->etcd);
	if (s->loop)
		loop_free(s->loop);
	free(s->endpoints);
	free(s->subnets);
	free(s->config_key);
	free(s);
}

const char *store_subnets_prefix(const struct store *s)
{
	return s->subnets;
}

const char *store_config_key(const struct store *s)
{
	return s->config_key;
}

void store_kvs_free(struct store_kvs *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->kvs[i].key);
		free(r->kvs[i].value);
	}
	free(r->kvs);
	memset(r, 0, sizeof(*r));
}

/* ---- running requests ---- */

static int64_t guard_cb(struct loop *loop, int64_t id, void *arg)
{
	struct store *s = arg;

	(void)id;
	s->timed_out = true;
	loop_stop(loop);
	return LOOP_TIMER_STOP;
}

static void call_done(struct call *c, int err)
{
	struct store *s = c->s;

	c->err = err;
	if (err)
		snprintf(c->msg, sizeof(c->msg), "%s", etcd_strerror(s->etcd));
	if (--s->pending == 0)
		loop_stop(s->loop);
}

/*
 * Count a request before submitting it: the client may complete a request
 * from inside the submission (a failed authentication start does).
 */
static int prepare(struct store *s, struct err *err)
{
	if (!s->etcd)
		return err_set(err, -ENOTCONN, "etcd client closed after a timeout");
	s->pending++;
	return 0;
}

/* A refused submission has no callback coming. */
static int submitted(struct store *s, int rc, struct err *err)
{
	if (rc < 0) {
		s->pending--;
		return err_set(err, rc, "etcd: %s", etcd_strerror(s->etcd));
	}
	return 0;
}

static int store_wait(struct store *s, struct err *err)
{
	int64_t t;
	int r = 0;

	if (!s->pending)
		return 0;
	s->timed_out = false;
	t = loop_add_timer(s->loop, s->guard_ms, guard_cb, s);
	if (t < 0)
		r = (int)t;
	while (r == 0 && s->pending && !s->timed_out)
		r = loop_run(s->loop);
	if (t > 0)
		loop_del_timer(s->loop, t);
	if (s->pending) {
		/* Drop the requests in flight: their calls are about to go out of scope. */
		etcd_free(s->etcd);
		s->etcd = NULL;
		s->pending = 0;
		if (r < 0)
			return err_set(err, r, "event loop failed: %s", strerror(-r));
		return err_set(err, -ETIMEDOUT, "no answer from etcd (%s) in %lld s", s->endpoints,
			       (long long)(s->guard_ms / 1000));
	}
	return 0;
}

static bool is_unreachable(int e)
{
	return e == -ECONNREFUSED || e == -ETIMEDOUT || e == -EHOSTUNREACH || e == -EPROTO;
}

/* The first failed call's error, worded for the operator. */
static int call_result(const struct store *s, const struct call *c, struct err *err)
{
	const char *msg = c->msg[0] ? c->msg : strerror(-c->err);

	if (!c->err)
		return 0;
	if (is_unreachable(c->err))
		return err_set(err, c->err, "cannot reach etcd (%s): %s", s->endpoints, msg);
	return err_set(err, c->err, "etcd: %s", msg);
}

static int run_one(struct store *s, struct call *c, int rc, struct err *err)
{
	int r = submitted(s, rc, err);

	if (r < 0)
		return r;
	r = store_wait(s, err);
	if (r < 0)
		return r;
	return call_result(s, c, err);
}

/* ---- callbacks ---- */

static void kv_copy(struct etcd_kv *dst, const struct etcd_kv *src)
{
	*dst = *src;
	/* Keys are bytes too: a NUL inside must not shorten them. */
	dst->key = xmalloc(src->key_len + 1);
	if (src->key_len)
		memcpy(dst->key, src->key, src->key_len);
	dst->key[src->key_len] = '\0';
	dst->value = xmalloc(src->value_len + 1);
	if (src->value_len)
		memcpy(dst->value, src->value, src->value_len);
	dst->value[src->value_len] = '\0';
}

static void range_cb(void *arg, int err, const struct etcd_range_result *res)
{
	struct call *c = arg;

	if (!err && res) {
		struct store_kvs *k = c->kvs;

		k->revision = res->revision;
		k->n = res->n;
		k->kvs = xcalloc(res->n ? res->n : 1, sizeof(*k->kvs));
		for (size_t i = 0; i < res->n; i++)
			kv_copy(&k->kvs[i], &res->kvs[i]);
	}
	call_done(c, err);
}

static void write_cb(void *arg, int err, int64_t revision, bool succeeded)
{
	struct call *c = arg;

	(void)revision;
	c->ok = succeeded;
	call_done(c, err);
}

static void lease_cb(void *arg, int err, int64_t id, int64_t ttl)
{
	struct call *c = arg;

	c->id = id;
	c->ttl = ttl;
	call_done(c, err);
}

/* ---- requests ---- */

static int get(struct store *s, const char *key, bool prefix, struct store_kvs *ret,
	       struct err *err)
{
	struct call c = {.s = s, .kvs = ret};
	int r = prepare(s, err);

	memset(ret, 0, sizeof(*ret));
	if (r < 0)
		return r;
	r = prefix ? etcd_get_prefix(s->etcd, key, range_cb, &c)
		   : etcd_get(s->etcd, key, range_cb, &c);
	r = run_one(s, &c, r, err);
	if (r < 0)
		store_kvs_free(ret);
	return r;
}

int store_get(struct store *s, const char *key, struct store_kvs *ret, struct err *err)
{
	return get(s, key, false, ret, err);
}

int store_get_prefix(struct store *s, const char *prefix, struct store_kvs *ret, struct err *err)
{
	return get(s, prefix, true, ret, err);
}

int store_put(struct store *s, const char *key, const char *value, size_t len, int64_t lease,
	      struct err *err)
{
	struct call c = {.s = s};
	int r = prepare(s, err);

	if (r < 0)
		return r;
	return run_one(s, &c, etcd_put(s->etcd, key, value, len, lease, write_cb, &c), err);
}

int store_delete(struct store *s, const char *key, struct err *err)
{
	struct call c = {.s = s};
	int r = prepare(s, err);

	if (r < 0)
		return r;
	return run_one(s, &c, etcd_delete(s->etcd, key, write_cb, &c), err);
}

int store_create(struct store *s, const char *key, const char *value, size_t len, int64_t lease,
		 bool *ret_ok, struct err *err)
{
	struct call c = {.s = s};
	int r = prepare(s, err);

	if (r < 0)
		return r;
	r = run_one(s, &c, etcd_create(s->etcd, key, value, len, lease, write_cb, &c), err);
	*ret_ok = r == 0 && c.ok;
	return r;
}

int store_replace(struct store *s, const char *key, int64_t mod_revision, const char *value,
		  size_t len, int64_t lease, bool *ret_ok, struct err *err)
{
	struct call c = {.s = s};
	int r = prepare(s, err);

	if (r < 0)
		return r;
	r = run_one(s, &c,
		    etcd_replace(s->etcd, key, mod_revision, value, len, lease, write_cb, &c), err);
	*ret_ok = r == 0 && c.ok;
	return r;
}

int store_lease_grant(struct store *s, int64_t ttl, int64_t *ret_id, struct err *err)
{
	struct call c = {.s = s};
	int r = prepare(s, err);

	if (r < 0)
		return r;
	r = run_one(s, &c, etcd_lease_grant(s->etcd, ttl, lease_cb, &c), err);
	if (r == 0 && c.id == 0)
		r = err_set(err, -EBADMSG, "etcd: lease grant returned no lease id");
	*ret_id = r == 0 ? c.id : 0;
	return r;
}

int store_lease_revoke(struct store *s, int64_t id, struct err *err)
{
	struct call c = {.s = s};
	int r = prepare(s, err);

	if (r < 0)
		return r;
	return run_one(s, &c, etcd_lease_revoke(s->etcd, id, write_cb, &c), err);
}

int store_lease_ttls(struct store *s, const int64_t *ids, size_t n, int64_t *ret_ttls,
		     struct err *err)
{
	struct call *calls = xcalloc(TTL_WINDOW, sizeof(*calls));
	int r = 0;

	for (size_t base = 0; r == 0 && base < n; base += TTL_WINDOW) {
		size_t m = n - base < TTL_WINDOW ? n - base : TTL_WINDOW, sent = 0;

		while (r == 0 && sent < m) {
			calls[sent] = (struct call){.s = s, .ttl = -1};
			r = prepare(s, err);
			if (r < 0)
				break;
			r = submitted(
				s,
				etcd_lease_ttl(s->etcd, ids[base + sent], lease_cb, &calls[sent]),
				err);
			if (r == 0)
				sent++;
		}
		/* Even after a refused submission, wait for those already sent. */
		if (r == 0)
			r = store_wait(s, err);
		else
			store_wait(s, NULL);
		for (size_t k = 0; r == 0 && k < sent; k++) {
			r = call_result(s, &calls[k], err);
			ret_ttls[base + k] = calls[k].ttl;
		}
	}
	free(calls);
	return r;
}
