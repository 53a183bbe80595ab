// SPDX-License-Identifier: Apache-2.0
/*
 * A small HTTP/1.1 client on the daemon's loop, for etcd's JSON gateway and
 * the Kubernetes API: one connection per request (Connection: close), bodies
 * by Content-Length, chunked or until close (client_resp.c), optional TLS
 * through OpenSSL.
 *
 * Why not libcurl: it drags GnuTLS, Kerberos, LDAP, SSH and p11-kit into the
 * daemon, about 5 MB of resident memory before the first request; the daemon
 * needs none of it.
 *
 * Nothing blocks the loop: host names are looked up by a thread and every
 * address is tried in turn within the connect timeout (client_conn.c), and
 * reads are bounded per event (client_io.c). This file holds a request's life
 * cycle and the public API; client_req.c builds the request text and
 * client_tls.c holds everything OpenSSL.
 *
 * Every callback runs from the loop (an fd or timer event), never from inside
 * http_start, and a callback may start or cancel any request, its own too.
 */
#include "http/client_int.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"

#define DEFAULT_MAX_BODY (16u << 20)
#define DEFAULT_CONNECT_TIMEOUT_MS 5000

void client_close_conn(struct http_req *r)
{
	client_tls_close(r);
	if (r->fd >= 0) {
		loop_del_fd(r->h->loop, r->fd);
		close(r->fd);
		r->fd = -1;
	}
}

static void req_unlink(struct http_req *r)
{
	for (struct http_req **pp = &r->h->reqs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
}

static void req_release(struct http_req *r)
{
	loop_timer_clear(r->h->loop, &r->start_timer);
	loop_timer_clear(r->h->loop, &r->connect_timer);
	loop_timer_clear(r->h->loop, &r->attempt_timer);
	loop_timer_clear(r->h->loop, &r->total_timer);
	client_close_conn(r);
	client_conn_release(r);
	free((char *)(uintptr_t)r->tls.cafile);
	free((char *)(uintptr_t)r->tls.certfile);
	free((char *)(uintptr_t)r->tls.keyfile);
	buf_free(&r->out);
	http_resp_free(&r->resp);
	buf_free(&r->body);
	free(r);
}

void client_free_req(struct http_req *r)
{
	req_unlink(r);
	req_release(r);
}

void client_finish(struct http_req *r, int err, const char *fmt, ...)
{
	http_done_cb *done = r->done;
	void *arg = r->arg;
	struct buf body = r->body;
	long status = r->resp.status;
	char errmsg[sizeof(r->errmsg)] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
		va_end(ap);
	}
	/* Detach the body: the callback sees it after the request is gone. */
	buf_init(&r->body, 0);
	r->state = ST_DONE;
	client_free_req(r);
	if (done)
		done(arg, err, err ? 0 : status, body.data ? body.data : "", body.len, errmsg);
	buf_free(&body);
}

/* http_start's deferred start: callbacks never run from inside it. */
static int64_t on_start(struct loop *loop, int64_t id, void *arg)
{
	struct http_req *r = arg;

	(void)loop;
	(void)id;
	r->start_timer = 0;
	if (r->ai)
		client_connect_addrs(r);
	else /* the look-up could not even start (r->errmsg says why) */
		client_finish(r, -EHOSTUNREACH, "%s", r->errmsg);
	return LOOP_TIMER_STOP;
}

/* The connect timeout (look-up and every address share it) or the whole
 * transfer's. The connect timer is deleted once connected: it fires only
 * while resolving or connecting, where both say the same. */
static int64_t on_timeout(struct loop *loop, int64_t id, void *arg)
{
	struct http_req *r = arg;

	(void)loop;
	if (id == r->connect_timer)
		r->connect_timer = 0;
	else
		r->total_timer = 0;
	client_finish(r, -ETIMEDOUT, "%s %s timed out",
		      r->state == ST_RESOLVING	  ? "resolving"
		      : r->state == ST_CONNECTING ? "connecting to"
						  : "request to",
		      r->host);
	return LOOP_TIMER_STOP;
}

int http_start(struct http *h, const struct http_opts *o, http_done_cb *done, http_line_cb *line,
	       void *arg, struct http_req **ret_req)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct http_req *r;
	struct buf out;
	struct url u;
	long connect_ms;
	int rc;

	rc = client_url_parse(o->url, &u);
	if (rc < 0)
		return rc;
	rc = client_build_request(o, &u, &out);
	if (rc < 0)
		return rc;
	r = xcalloc(1, sizeof(*r));
	r->h = h;
	r->fd = -1;
	r->out = out;
	r->https = u.https;
	r->stream = o->stream;
	r->done = done;
	r->line = line;
	r->arg = arg;
	/* The caller's settings need not outlive this call. */
	if (o->tls) {
		r->tls.cafile = o->tls->cafile ? xstrdup(o->tls->cafile) : NULL;
		r->tls.certfile = o->tls->certfile ? xstrdup(o->tls->certfile) : NULL;
		r->tls.keyfile = o->tls->keyfile ? xstrdup(o->tls->keyfile) : NULL;
		r->tls.insecure = o->tls->insecure;
	}
	r->max_body = o->max_body ? o->max_body : DEFAULT_MAX_BODY;
	connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
	r->connect_deadline = clock_now_ms() + connect_ms;
	snprintf(r->host, sizeof(r->host), "%s", u.host);
	snprintf(r->port, sizeof(r->port), "%s", u.port);
	http_resp_init(&r->resp, o->method && !strcmp(o->method, "HEAD"));
	buf_init(&r->body, r->max_body);
	r->next = h->reqs;
	h->reqs = r;
	/* Addresses are ready at once; names are looked up off the loop. */
	r->numeric = getaddrinfo(u.host, u.port, &hints, &r->ai) == 0;
	if (r->numeric) {
		r->state = ST_CONNECTING;
		r->start_timer = loop_add_timer(h->loop, 0, on_start, r);
	} else {
		r->ai = NULL;
		r->state = ST_RESOLVING;
		if (client_resolve(r) < 0)
			r->start_timer = loop_add_timer(h->loop, 0, on_start, r);
	}
	/* Look-up and every address tried share the connect timeout. */
	r->connect_timer = loop_add_timer(h->loop, connect_ms, on_timeout, r);
	if (o->timeout_ms > 0)
		r->total_timer = loop_add_timer(h->loop, o->timeout_ms, on_timeout, r);
	if (ret_req)
		*ret_req = r;
	return 0;
}

long http_req_status(const struct http_req *r)
{
	return r && http_resp_head_done(&r->resp) ? r->resp.status : 0;
}

void http_cancel(struct http_req *r)
{
	if (!r)
		return;
	if (r->busy) {
		/* Inside this request's own line callback: freed when it returns. */
		r->cancelled = true;
		r->done = NULL;
		r->line = NULL;
		return;
	}
	client_free_req(r);
}

int http_new(struct loop *loop, struct http **ret)
{
	struct http *h = xcalloc(1, sizeof(*h));

	h->loop = loop;
	*ret = h;
	return 0;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	while (h->reqs)
		client_free_req(h->reqs);
	client_tls_ctx_free(h);
	free(h);
}

unsigned http_active(const struct http *h)
{
	unsigned n = 0;

	for (const struct http_req *r = h->reqs; r; r = r->next)
		n++;
	return n;
}
