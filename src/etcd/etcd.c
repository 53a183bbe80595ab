// SPDX-License-Identifier: Apache-2.0
/*
 * etcd v3 through the JSON gateway that every etcd since 3.3 serves on its
 * client port. int64 fields arrive as JSON strings; keys and values as base64.
 * Every request is an etcd_req: it waits for an auth token when one is
 * needed, fails over across endpoints on transport errors, and re-
 * authenticates once when the token has expired.
 */
#include "etcd/etcd.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/err.h"
#include "core/xmalloc.h"
#include "core/loop.h"
#include "etcd/etcd_parse.h"
#include "http/client.h"

#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_MAX_RESPONSE (64u << 20)
#define DEFAULT_WATCH_IDLE_MS (25L * 60 * 1000)
#define MAX_ENDPOINTS 16
#define TOKEN_CHARS                                                                            \
	"!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"

/* gRPC status codes that the gateway reports in {"code": N}. */
#define GRPC_INVALID_ARGUMENT 3
#define GRPC_DEADLINE_EXCEEDED 4
#define GRPC_NOT_FOUND 5
#define GRPC_PERMISSION_DENIED 7
#define GRPC_FAILED_PRECONDITION 9
#define GRPC_OUT_OF_RANGE 11
#define GRPC_UNAVAILABLE 14
#define GRPC_UNAUTHENTICATED 16

enum req_kind {
	REQ_RANGE = ETCD_CALL_RANGE,
	REQ_PUT = ETCD_CALL_PUT,
	REQ_DELETE = ETCD_CALL_DELETE,
	REQ_TXN = ETCD_CALL_TXN,
	REQ_GRANT = ETCD_CALL_GRANT,
	REQ_REVOKE = ETCD_CALL_REVOKE,
	REQ_TTL = ETCD_CALL_TTL,
	REQ_COMPACT = ETCD_CALL_COMPACT,
	REQ_WATCH = ETCD_CALL_WATCH,
};

struct etcd_req {
	struct etcd *e;
	struct etcd_req *next;
	enum req_kind kind;
	char *body;
	union {
		etcd_range_cb *range;
		etcd_write_cb *write;
		etcd_lease_cb *lease;
	} cb;
	void *arg;
	struct etcd_watch *watch; /* REQ_WATCH */
	struct http_req *http;
	unsigned tried;
	bool reauthed;
	bool api_switched; /* resent once under the other API generation */
};

struct etcd_watch {
	struct etcd *e;
	struct etcd_req *req;
	etcd_watch_cb *cb;
	void *arg;
	int64_t idle_timer; /* the watchdog, armed once the stream is started */
	int64_t last_ms;    /* when the stream last said anything */
	bool ended;
};

struct etcd {
	struct loop *loop;
	struct http *http;
	char *endpoints[MAX_ENDPOINTS];
	/* Per endpoint: etcd 3.4+ serves /v3/, 3.3 only /v3beta/ (3.4 both,
	 * 3.5 /v3/ only). Starts at /v3/; a 404 there switches to the other. */
	enum etcd_api api[MAX_ENDPOINTS];
	unsigned n_endpoints, cur;
	struct http_tls tls;
	char *cafile, *certfile, *keyfile;
	char *username, *password;
	char *token;
	struct http_req *auth_req;
	unsigned auth_tried; /* endpoints tried by the authentication in flight */
	bool auth_api_switched;
	long timeout_ms;
	long watch_idle_ms;
	size_t max_response;
	struct etcd_req *reqs;    /* in flight */
	struct etcd_req *waiting; /* for a token */
	char errmsg[256];
	struct etcd_stats stats;
};

/* etcd's gRPC gateway paths; 3.3 had the lease revoke and time-to-live
 * calls under kv/ (3.4 serves those old paths too, as extra bindings). */
static const char *const req_paths[][REQ_WATCH + 1] = {
	[ETCD_API_V3] = {
		[REQ_RANGE] = "/v3/kv/range",	       [REQ_PUT] = "/v3/kv/put",
		[REQ_DELETE] = "/v3/kv/deleterange",   [REQ_TXN] = "/v3/kv/txn",
		[REQ_GRANT] = "/v3/lease/grant",       [REQ_REVOKE] = "/v3/lease/revoke",
		[REQ_TTL] = "/v3/lease/timetolive",    [REQ_COMPACT] = "/v3/kv/compaction",
		[REQ_WATCH] = "/v3/watch",
	},
	[ETCD_API_V3BETA] = {
		[REQ_RANGE] = "/v3beta/kv/range",	       [REQ_PUT] = "/v3beta/kv/put",
		[REQ_DELETE] = "/v3beta/kv/deleterange",      [REQ_TXN] = "/v3beta/kv/txn",
		[REQ_GRANT] = "/v3beta/lease/grant",	       [REQ_REVOKE] = "/v3beta/kv/lease/revoke",
		[REQ_TTL] = "/v3beta/kv/lease/timetolive",    [REQ_COMPACT] = "/v3beta/kv/compaction",
		[REQ_WATCH] = "/v3beta/watch",
	},
};

static const char *const auth_paths[] = {
	[ETCD_API_V3] = "/v3/auth/authenticate",
	[ETCD_API_V3BETA] = "/v3beta/auth/authenticate",
};

const char *etcd_api_path(enum etcd_api api, enum etcd_call call)
{
	if ((unsigned)api > ETCD_API_V3BETA || (unsigned)call > ETCD_CALL_AUTH)
		return NULL;
	return call == ETCD_CALL_AUTH ? auth_paths[api] : req_paths[api][call];
}

enum etcd_api etcd_endpoint_api(const struct etcd *e, unsigned i)
{
	return i < e->n_endpoints ? e->api[i] : ETCD_API_V3;
}

/*
 * An HTTP 404 under one API generation: the endpoint may serve only the
 * other (etcd 3.3: /v3beta/). Switch this endpoint, once per request, and
 * say whether the caller should resend.
 */
static bool api_switch(struct etcd *e, bool *switched)
{
	if (*switched)
		return false;
	*switched = true;
	e->api[e->cur] = e->api[e->cur] == ETCD_API_V3 ? ETCD_API_V3BETA : ETCD_API_V3;
	e->stats.api_switches++;
	return true;
}

static int req_send(struct etcd_req *r, bool initial);
static void auth_start(struct etcd *e);
static void watch_free(struct etcd_watch *w);
static void watch_alive(struct etcd_watch *w);

const char *etcd_strerror(const struct etcd *e)
{
	return e->errmsg;
}

const struct etcd_stats *etcd_stats(const struct etcd *e)
{
	return &e->stats;
}

const char *etcd_endpoint(const struct etcd *e)
{
	return e->endpoints[e->cur];
}

static void set_errmsg(struct etcd *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_errmsg(struct etcd *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->errmsg, sizeof(e->errmsg), fmt, ap);
	va_end(ap);
}

static void list_remove(struct etcd_req **head, struct etcd_req *r)
{
	for (struct etcd_req **pp = head; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			r->next = NULL;
			return;
		}
	}
}

static void req_free(struct etcd_req *r)
{
	if (!r)
		return;
	free(r->body);
	free(r);
}

/* ---- request bodies ---- */

static char *b64(const char *s, size_t n)
{
	return base64_encode_alloc(s, n);
}

/* etcd's prefix range end: the key with its last byte below 0xff incremented. */
static char *prefix_end_b64(const char *key)
{
	size_t n = strlen(key);
	char *end = xstrdup(key), *ret;

	while (n > 0 && (unsigned char)end[n - 1] == 0xff)
		n--;
	if (n == 0) {
		free(end);
		return b64("\0", 1); /* every key */
	}
	end[n - 1]++;
	ret = b64(end, n);
	free(end);
	return ret;
}

static char *dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	if (!s) {
		fprintf(stderr, "fatal: out of memory encoding JSON\n");
		abort();
	}
	return s;
}

/* ---- request life cycle ---- */

static void req_complete_error(struct etcd_req *r, int err)
{
	struct etcd_watch *w = r->watch;

	r->e->stats.errors++;
	switch (r->kind) {
	case REQ_RANGE:
		if (r->cb.range)
			r->cb.range(r->arg, err, NULL);
		break;
	case REQ_GRANT:
	case REQ_TTL:
		if (r->cb.lease)
			r->cb.lease(r->arg, err, 0, 0);
		break;
	case REQ_WATCH:
		w->ended = true;
		w->req = NULL;
		if (w->cb)
			w->cb(w->arg, err, NULL);
		watch_free(w);
		break;
	default:
		if (r->cb.write)
			r->cb.write(r->arg, err, 0, false);
		break;
	}
	req_free(r);
}

static int map_grpc_code(int64_t code)
{
	switch (code) {
	case GRPC_INVALID_ARGUMENT:
		return -EINVAL;
	case GRPC_DEADLINE_EXCEEDED:
		return -ETIMEDOUT;
	case GRPC_NOT_FOUND:
		return -ENOENT;
	case GRPC_PERMISSION_DENIED:
	case GRPC_UNAUTHENTICATED:
		return -EACCES;
	case GRPC_FAILED_PRECONDITION:
		return -EPERM;
	case GRPC_OUT_OF_RANGE:
		return -ESTALE;
	case GRPC_UNAVAILABLE:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

/* Transport failure or unavailable member: try the next endpoint, once each. */
static bool req_failover(struct etcd_req *r)
{
	struct etcd *e = r->e;

	if (e->n_endpoints > 1) {
		e->cur = (e->cur + 1) % e->n_endpoints;
		e->stats.failovers++;
	}
	r->api_switched = false; /* the next endpoint may serve the other generation */
	if (++r->tried >= e->n_endpoints)
		return false;
	req_send(r, false);
	return true;
}

static enum etcd_resp_kind resp_kind(enum req_kind k)
{
	switch (k) {
	case REQ_RANGE:
		return ETCD_RESP_RANGE;
	case REQ_TXN:
		return ETCD_RESP_TXN;
	case REQ_GRANT:
		return ETCD_RESP_GRANT;
	case REQ_TTL:
		return ETCD_RESP_TTL;
	default:
		return ETCD_RESP_WRITE;
	}
}

static void deliver_ok(struct etcd_req *r, struct etcd_resp *res)
{
	switch (r->kind) {
	case REQ_RANGE:
		r->cb.range(r->arg, 0, &res->range);
		break;
	case REQ_TXN:
		if (r->cb.write)
			r->cb.write(r->arg, 0, res->revision, res->succeeded);
		break;
	case REQ_GRANT:
	case REQ_TTL:
		if (r->cb.lease)
			r->cb.lease(r->arg, 0, res->id, res->ttl);
		break;
	default:
		if (r->cb.write)
			r->cb.write(r->arg, 0, res->revision, true);
		break;
	}
	req_free(r);
}

static void unary_done(void *arg, int err, long status, const char *body, size_t len,
		       const char *errmsg)
{
	struct etcd_req *r = arg;
	struct etcd *e = r->e;
	struct etcd_resp res;
	struct err perr = { 0 };

	r->http = NULL;
	list_remove(&e->reqs, r);
	if (err) {
		set_errmsg(e, "%s: %s", e->endpoints[e->cur], errmsg);
		if (req_failover(r))
			return;
		req_complete_error(r, err);
		return;
	}
	if (status == 404 && api_switch(e, &r->api_switched)) {
		req_send(r, false);
		return;
	}
	if (status != 200) {
		struct etcd_resp_error re;

		etcd_parse_error(body, len, &re);
		if (status == 404)
			set_errmsg(e, "%s: HTTP 404 under both /v3/ and /v3beta/: not an etcd "
				   "v3 endpoint (weft needs etcd 3.3 or later)", e->endpoints[e->cur]);
		else
			set_errmsg(e, "%s: HTTP %ld: %s", e->endpoints[e->cur], status,
				   re.message[0] ? re.message : "(no message)");
		if (re.code == GRPC_UNAUTHENTICATED && e->username && !r->reauthed) {
			free(e->token);
			e->token = NULL;
			r->reauthed = true;
			req_send(r, false);
			return;
		}
		if ((re.code == GRPC_UNAVAILABLE || status >= 502) && req_failover(r))
			return;
		req_complete_error(r, re.json || re.code ? map_grpc_code(re.code) : -EIO);
		return;
	}
	if (etcd_parse_ok(resp_kind(r->kind), body, len, &res, &perr) < 0) {
		set_errmsg(e, "%s: malformed response: %s", e->endpoints[e->cur], perr.msg);
		req_complete_error(r, -EBADMSG);
		return;
	}
	e->errmsg[0] = '\0';
	deliver_ok(r, &res);
	etcd_range_result_free(&res.range);
}

/* ---- watch stream ---- */

static void watch_free(struct etcd_watch *w)
{
	if (!w)
		return;
	if (w->idle_timer)
		loop_del_timer(w->e->loop, w->idle_timer);
	free(w);
}

/* Ends the watch: the transfer is dropped, the caller told once with err. */
static void watch_end(struct etcd_req *r, int err)
{
	struct etcd *e = r->e;

	http_cancel(r->http);
	r->http = NULL;
	list_remove(&e->reqs, r);
	list_remove(&e->waiting, r);
	req_complete_error(r, err);
}

/*
 * Neither an event nor a progress notification for watch_idle_ms: the stream
 * (or a gateway or proxy on its way) is stuck, and TCP may never notice.
 */
static int64_t watch_idle_fire(struct loop *loop, int64_t id, void *arg)
{
	struct etcd_watch *w = arg;
	struct etcd *e = w->e;
	int64_t idle = clock_now_ms() - w->last_ms;

	(void)loop;
	(void)id;
	if (idle < e->watch_idle_ms)
		return e->watch_idle_ms - idle;
	w->idle_timer = 0;
	set_errmsg(e, "%s: watch: nothing received for %llds (no event, no progress notification)",
		   e->endpoints[e->cur], (long long)(idle / 1000));
	if (e->n_endpoints > 1)
		e->cur = (e->cur + 1) % e->n_endpoints;
	watch_end(w->req, -ETIMEDOUT);
	return LOOP_TIMER_STOP;
}

static void watch_alive(struct etcd_watch *w)
{
	struct etcd *e = w->e;

	w->last_ms = clock_now_ms();
	if (!w->idle_timer) {
		int64_t id = loop_add_timer(e->loop, e->watch_idle_ms, watch_idle_fire, w);

		w->idle_timer = id > 0 ? id : 0;
	}
}

static void watch_line(void *arg, const char *line, size_t len)
{
	struct etcd_req *r = arg;
	struct etcd_watch *w = r->watch;
	struct etcd *e = r->e;
	struct etcd_watch_msg msg;
	struct err err = { 0 };

	if (w->ended)
		return;
	/* A 404's body is no watch message: watch_done tries the other API. */
	if (http_req_status(r->http) == 404 && !r->api_switched)
		return;
	watch_alive(w);
	etcd_parse_watch_line(line, len, &msg, &err);
	switch (msg.kind) {
	case ETCD_WATCH_ERROR:
	case ETCD_WATCH_CANCELED:
		set_errmsg(e, "%s: watch: %s", e->endpoints[e->cur], err.msg);
		etcd_watch_msg_free(&msg);
		watch_end(r, -EIO);
		return;
	case ETCD_WATCH_COMPACTED:
		set_errmsg(e, "watch start revision compacted (compact revision %lld)",
			   (long long)msg.res.compact_revision);
		w->ended = true;
		w->cb(w->arg, 0, &msg.res);
		etcd_watch_msg_free(&msg);
		/* The handle is gone for the caller; drop the transfer quietly. */
		http_cancel(r->http);
		list_remove(&e->reqs, r);
		watch_free(w);
		req_free(r);
		return;
	case ETCD_WATCH_CREATED:
	case ETCD_WATCH_EVENTS:
		w->cb(w->arg, 0, &msg.res);
		etcd_watch_msg_free(&msg);
		return;
	}
}

static void watch_done(void *arg, int err, long status, const char *body, size_t len,
		       const char *errmsg)
{
	struct etcd_req *r = arg;
	struct etcd *e = r->e;

	(void)body;
	(void)len;
	r->http = NULL;
	list_remove(&e->reqs, r);
	if (err) {
		set_errmsg(e, "%s: watch: %s", e->endpoints[e->cur], errmsg);
		/* The next attempt, made by the caller, goes to the next endpoint. */
		if (e->n_endpoints > 1)
			e->cur = (e->cur + 1) % e->n_endpoints;
	} else if (status == 404 && api_switch(e, &r->api_switched)) {
		r->next = NULL;
		req_send(r, false);
		return;
	} else {
		set_errmsg(e, "%s: watch stream ended (HTTP %ld)", e->endpoints[e->cur], status);
		err = -ECONNRESET;
	}
	req_complete_error(r, err);
}

/* ---- auth ---- */

static void auth_done(void *arg, int err, long status, const char *body, size_t len,
		      const char *errmsg)
{
	struct etcd *e = arg;
	struct etcd_req *waiting = e->waiting, *r;
	const char *token = NULL;
	json_t *j = NULL;

	e->auth_req = NULL;
	e->waiting = NULL;
	if (!err && status == 404 && api_switch(e, &e->auth_api_switched)) {
		e->waiting = waiting;
		auth_start(e);
		return;
	}
	e->auth_api_switched = false;
	if (!err) {
		j = json_loadb(body, len, 0, NULL);
		token = json_string_value(json_object_get(j, "token"));
		/* It goes into a header line: visible ASCII only, bounded. */
		if (token && (!*token || strlen(token) > 4096 ||
			      token[strspn(token, TOKEN_CHARS)] != '\0')) {
			set_errmsg(e, "%s: authentication as '%s': the token in the answer is "
				   "not a header value", e->endpoints[e->cur], e->username);
			err = -EBADMSG;
		} else if (status != 200 || !token) {
			const char *msg = json_string_value(json_object_get(j, "message"));
			set_errmsg(e, "%s: authentication as '%s' failed: %s", e->endpoints[e->cur],
				   e->username, msg ? msg : "no token in the answer");
			err = -EACCES;
		}
	} else {
		set_errmsg(e, "%s: authentication: %s", e->endpoints[e->cur], errmsg);
		if (e->n_endpoints > 1)
			e->cur = (e->cur + 1) % e->n_endpoints;
		if (++e->auth_tried < e->n_endpoints) {
			e->waiting = waiting;
			auth_start(e);
			return;
		}
	}
	e->auth_tried = 0;
	if (!err) {
		free(e->token);
		e->token = xstrdup(token);
	}
	json_decref(j);
	while ((r = waiting)) {
		waiting = r->next;
		r->next = NULL;
		if (err)
			req_complete_error(r, err);
		else
			req_send(r, false);
	}
}

static void auth_start(struct etcd *e)
{
	struct http_opts o = { 0 };
	json_t *j = json_pack("{s:s, s:s}", "name", e->username, "password",
			      e->password ? e->password : "");
	char *body = dump(j), *url;
	int ret;

	xasprintf(&url, "%s%s", e->endpoints[e->cur], auth_paths[e->api[e->cur]]);
	o.url = url;
	o.body = body;
	o.body_len = strlen(body);
	o.tls = &e->tls;
	o.timeout_ms = e->timeout_ms;
	o.max_body = 1u << 20;
	ret = http_start(e->http, &o, auth_done, NULL, e, &e->auth_req);
	free(url);
	free(body);
	if (ret < 0) {
		e->auth_req = NULL;
		set_errmsg(e, "cannot start an HTTP request: %s", strerror(-ret));
		auth_done(e, ret, 0, "", 0, e->errmsg);
	}
}

/*
 * Starts (or restarts) the request. A failure on the initial submission is
 * returned, with no callback; later ones complete the request with the error.
 */
static int req_send(struct etcd_req *r, bool initial)
{
	struct etcd *e = r->e;
	struct http_opts o = { 0 };
	char *url, *auth = NULL;
	const char *headers[2] = { NULL, NULL };
	int ret;

	if (e->username && !e->token) {
		r->next = e->waiting;
		e->waiting = r;
		if (!e->auth_req)
			auth_start(e);
		return 0;
	}
	xasprintf(&url, "%s%s", e->endpoints[e->cur], req_paths[e->api[e->cur]][r->kind]);
	if (e->token) {
		xasprintf(&auth, "Authorization: %s", e->token);
		headers[0] = auth;
	}
	o.url = url;
	o.body = r->body;
	o.body_len = strlen(r->body);
	o.headers = headers;
	o.tls = &e->tls;
	o.max_body = e->max_response;
	if (r->kind == REQ_WATCH) {
		o.stream = true;
	} else {
		o.timeout_ms = e->timeout_ms;
	}
	r->next = e->reqs;
	e->reqs = r;
	e->stats.requests++;
	if (r->kind == REQ_WATCH)
		e->stats.watches++;
	ret = http_start(e->http, &o, r->kind == REQ_WATCH ? watch_done : unary_done,
			 r->kind == REQ_WATCH ? watch_line : NULL, r, &r->http);
	free(url);
	free(auth);
	if (ret == 0 && r->kind == REQ_WATCH)
		watch_alive(r->watch); /* the watchdog covers connecting too */
	if (ret < 0) {
		list_remove(&e->reqs, r);
		set_errmsg(e, "cannot start an HTTP request: %s", strerror(-ret));
		if (initial) {
			watch_free(r->watch);
			req_free(r);
		} else {
			req_complete_error(r, ret);
		}
	}
	return initial ? ret : 0;
}

static struct etcd_req *req_new(struct etcd *e, enum req_kind kind, json_t *body, void *arg)
{
	struct etcd_req *r = xcalloc(1, sizeof(*r));

	r->e = e;
	r->kind = kind;
	r->body = dump(body);
	r->arg = arg;
	return r;
}

/* ---- public API ---- */

static char *trim_endpoint(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '/'))
		n--;
	return xstrndup(s, n);
}

int etcd_new(struct loop *loop, const struct etcd_config *cfg, struct etcd **ret,
	     struct err *err)
{
	struct etcd *e = xcalloc(1, sizeof(*e));
	const char *p = cfg->endpoints ? cfg->endpoints : "";
	int rc;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char *ep = trim_endpoint(p, n);

		if (*ep) {
			if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)) {
				rc = err_set(err, -EINVAL,
					     "etcd endpoint '%s' must start with http:// or https://",
					     ep);
				free(ep);
				goto fail;
			}
			if (e->n_endpoints == MAX_ENDPOINTS) {
				free(ep);
				rc = err_set(err, -E2BIG, "more than %d etcd endpoints",
					     MAX_ENDPOINTS);
				goto fail;
			}
			e->endpoints[e->n_endpoints++] = ep;
		} else {
			free(ep);
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	if (e->n_endpoints == 0) {
		rc = err_set(err, -EINVAL, "no etcd endpoint given");
		goto fail;
	}
	if (cfg->cafile && *cfg->cafile)
		e->cafile = xstrdup(cfg->cafile);
	if (cfg->certfile && *cfg->certfile)
		e->certfile = xstrdup(cfg->certfile);
	if (cfg->keyfile && *cfg->keyfile)
		e->keyfile = xstrdup(cfg->keyfile);
	e->tls.cafile = e->cafile;
	e->tls.certfile = e->certfile;
	e->tls.keyfile = e->keyfile;
	if (cfg->username && *cfg->username) {
		e->username = xstrdup(cfg->username);
		e->password = xstrdup(cfg->password ? cfg->password : "");
	}
	e->timeout_ms = cfg->request_timeout_ms ? cfg->request_timeout_ms : DEFAULT_TIMEOUT_MS;
	e->max_response = cfg->max_response ? cfg->max_response : DEFAULT_MAX_RESPONSE;
	e->watch_idle_ms = cfg->watch_idle_ms > 0 ? cfg->watch_idle_ms : DEFAULT_WATCH_IDLE_MS;
	e->loop = loop;
	rc = http_new(loop, &e->http);
	if (rc < 0) {
		err_set(err, rc, "cannot set up the HTTP client: %s", strerror(-rc));
		goto fail;
	}
	*ret = e;
	return 0;
fail:
	etcd_free(e);
	return rc;
}

void etcd_free(struct etcd *e)
{
	struct etcd_req *r;

	if (!e)
		return;
	http_free(e->http); /* cancels every transfer without callbacks */
	while ((r = e->reqs)) {
		e->reqs = r->next;
		watch_free(r->watch);
		req_free(r);
	}
	while ((r = e->waiting)) {
		e->waiting = r->next;
		watch_free(r->watch);
		req_free(r);
	}
	for (unsigned i = 0; i < e->n_endpoints; i++)
		free(e->endpoints[i]);
	free(e->cafile);
	free(e->certfile);
	free(e->keyfile);
	free(e->username);
	free(e->password);
	free(e->token);
	free(e);
}

static int submit(struct etcd_req *r)
{
	return req_send(r, true);
}

int etcd_get(struct etcd *e, const char *key, etcd_range_cb *cb, void *arg)
{
	char *k = b64(key, strlen(key));
	struct etcd_req *r = req_new(e, REQ_RANGE, json_pack("{s:s}", "key", k), arg);

	free(k);
	r->cb.range = cb;
	return submit(r);
}

int etcd_get_prefix(struct etcd *e, const char *prefix, etcd_range_cb *cb, void *arg)
{
	char *k = b64(prefix, strlen(prefix)), *end = prefix_end_b64(prefix);
	struct etcd_req *r =
		req_new(e, REQ_RANGE, json_pack("{s:s, s:s}", "key", k, "range_end", end), arg);

	free(k);
	free(end);
	r->cb.range = cb;
	return submit(r);
}

static json_t *put_body(const char *key, const char *value, size_t len, int64_t lease)
{
	char *k = b64(key, strlen(key)), *v = b64(value, len);
	json_t *j = json_pack("{s:s, s:s}", "key", k, "value", v);

	if (lease)
		json_object_set_new(j, "lease", json_integer(lease));
	free(k);
	free(v);
	return j;
}

int etcd_put(struct etcd *e, const char *key, const char *value, size_t len, int64_t lease,
	     etcd_write_cb *cb, void *arg)
{
	struct etcd_req *r = req_new(e, REQ_PUT, put_body(key, value, len, lease), arg);

	r->cb.write = cb;
	return submit(r);
}

int etcd_delete(struct etcd *e, const char *key, etcd_write_cb *cb, void *arg)
{
	char *k = b64(key, strlen(key));
	struct etcd_req *r = req_new(e, REQ_DELETE, json_pack("{s:s}", "key", k), arg);

	free(k);
	r->cb.write = cb;
	return submit(r);
}

/* One compare on key (target "VERSION" or "MOD" equal to expect), then the puts. */
static int txn(struct etcd *e, const char *key, const char *target, int64_t expect,
	       const struct etcd_txn_put *puts, size_t n, etcd_write_cb *cb, void *arg)
{
	char *k = b64(key, strlen(key));
	json_t *cmp = json_pack("{s:s, s:s, s:s}", "key", k, "result", "EQUAL", "target", target);
	json_t *ops = json_array(), *body;
	struct etcd_req *r;

	/* The field name follows the target: "version" or "mod_revision". */
	json_object_set_new(cmp, strcmp(target, "VERSION") ? "mod_revision" : "version",
			    json_integer(expect));
	free(k);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(ops, json_pack("{s:o}", "request_put",
						     put_body(puts[i].key, puts[i].value,
							      puts[i].len, puts[i].lease)));
	body = json_pack("{s:[o], s:o}", "compare", cmp, "success", ops);
	r = req_new(e, REQ_TXN, body, arg);
	r->cb.write = cb;
	return submit(r);
}

int etcd_txn_puts(struct etcd *e, const char *cmp_key, int64_t mod_revision,
		  const struct etcd_txn_put *puts, size_t n, etcd_write_cb *cb, void *arg)
{
	/* Absent is version 0 (as flannel's create compares); else the exact revision. */
	return txn(e, cmp_key, mod_revision ? "MOD" : "VERSION", mod_revision, puts, n, cb, arg);
}

int etcd_create(struct etcd *e, const char *key, const char *value, size_t len, int64_t lease,
		etcd_write_cb *cb, void *arg)
{
	const struct etcd_txn_put put = { key, value, len, lease };

	return txn(e, key, "VERSION", 0, &put, 1, cb, arg);
}

int etcd_replace(struct etcd *e, const char *key, int64_t mod_revision, const char *value,
		 size_t len, int64_t lease, etcd_write_cb *cb, void *arg)
{
	const struct etcd_txn_put put = { key, value, len, lease };

	return txn(e, key, "MOD", mod_revision, &put, 1, cb, arg);
}

int etcd_lease_grant(struct etcd *e, int64_t ttl, etcd_lease_cb *cb, void *arg)
{
	struct etcd_req *r = req_new(e, REQ_GRANT, json_pack("{s:I}", "TTL", (json_int_t)ttl), arg);

	r->cb.lease = cb;
	return submit(r);
}

int etcd_lease_revoke(struct etcd *e, int64_t id, etcd_write_cb *cb, void *arg)
{
	struct etcd_req *r = req_new(e, REQ_REVOKE, json_pack("{s:I}", "ID", (json_int_t)id), arg);

	r->cb.write = cb;
	return submit(r);
}

int etcd_lease_ttl(struct etcd *e, int64_t id, etcd_lease_cb *cb, void *arg)
{
	struct etcd_req *r = req_new(e, REQ_TTL, json_pack("{s:I}", "ID", (json_int_t)id), arg);

	r->cb.lease = cb;
	return submit(r);
}

int etcd_compact(struct etcd *e, int64_t rev, etcd_write_cb *cb, void *arg)
{
	struct etcd_req *r =
		req_new(e, REQ_COMPACT, json_pack("{s:I}", "revision", (json_int_t)rev), arg);

	r->cb.write = cb;
	return submit(r);
}

int etcd_watch(struct etcd *e, const char *key, bool prefix, int64_t start_revision,
	       etcd_watch_cb *cb, void *arg, struct etcd_watch **ret)
{
	struct etcd_watch *w = xcalloc(1, sizeof(*w));
	char *k = b64(key, strlen(key));
	json_t *create = json_pack("{s:s, s:b}", "key", k, "progress_notify", 1);
	struct etcd_req *r;
	int ret_;

	if (prefix) {
		char *end = prefix_end_b64(key);
		json_object_set_new(create, "range_end", json_string(end));
		free(end);
	}
	if (start_revision > 0)
		json_object_set_new(create, "start_revision", json_integer(start_revision));
	free(k);
	r = req_new(e, REQ_WATCH, json_pack("{s:o}", "create_request", create), arg);
	w->e = e;
	w->req = r;
	w->cb = cb;
	w->arg = arg;
	r->watch = w;
	ret_ = submit(r);
	*ret = ret_ < 0 ? NULL : w;
	return ret_;
}

void etcd_watch_cancel(struct etcd_watch *w)
{
	struct etcd_req *r;
	struct etcd *e;

	if (!w)
		return;
	r = w->req;
	e = w->e;
	if (r) {
		if (r->http)
			http_cancel(r->http);
		list_remove(&e->reqs, r);
		list_remove(&e->waiting, r);
		req_free(r);
	}
	watch_free(w);
}
