// SPDX-License-Identifier: Apache-2.0
/*
 * libcurl's multi-socket API driven by core/loop: curl tells us which sockets
 * to watch (socket_cb) and when to wake it (timer_cb); we call
 * curl_multi_socket_action on readiness or expiry. Data is only buffered inside
 * curl's write callback; lines and completions are delivered afterwards
 * (dispatch), when calling back into curl is allowed again.
 */
#include "http/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"

#define DEFAULT_MAX_BODY (16u << 20)
#define DEFAULT_CONNECT_TIMEOUT_MS 5000

struct http {
	struct loop *loop;
	CURLM *multi;
	int64_t timer;
	struct http_req *reqs;
	bool changed; /* a request was added or removed during dispatch */
};

struct http_req {
	struct http *h;
	struct http_req *next;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	struct buf resp;
	bool stream;
	bool finished;
	int err; /* set by the write callback (E2BIG) */
	CURLcode result;
	http_done_cb *done;
	http_line_cb *line;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
};

static void dispatch(struct http *h);

static void req_unlink_free(struct http_req *r)
{
	struct http *h = r->h;
	struct http_req **pp;

	for (pp = &h->reqs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	h->changed = true;
	curl_multi_remove_handle(h->multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->body);
	buf_free(&r->resp);
	free(r);
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_req *r = userp;
	size_t n = size * nmemb;

	if (buf_append(&r->resp, data, n) < 0) {
		/* For streams the limit is per line: fail only if no newline is buffered. */
		if (!r->stream || !memchr(r->resp.data, '\n', r->resp.len)) {
			r->err = -E2BIG;
			return 0;
		}
		/* Let dispatch drain complete lines first: pause, resumed there. */
		return CURL_WRITEFUNC_PAUSE;
	}
	return n;
}

static void fd_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct http *h = arg;
	int running, ev = 0;

	(void)loop;
	if (events & LOOP_READ)
		ev |= CURL_CSELECT_IN;
	if (events & LOOP_WRITE)
		ev |= CURL_CSELECT_OUT;
	if (events & (LOOP_ERROR | LOOP_HUP))
		ev |= CURL_CSELECT_ERR;
	curl_multi_socket_action(h->multi, fd, ev, &running);
	dispatch(h);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http *h = userp;
	uint32_t ev = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		loop_del_fd(h->loop, s);
		curl_multi_assign(h->multi, s, NULL);
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= LOOP_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= LOOP_WRITE;
	if (socketp) {
		loop_mod_fd(h->loop, s, ev);
	} else {
		loop_add_fd(h->loop, s, ev, fd_cb, h);
		curl_multi_assign(h->multi, s, h); /* marks the socket as registered */
	}
	return 0;
}

static int64_t timeout_fired(struct loop *loop, int64_t id, void *arg)
{
	struct http *h = arg;
	int running;

	(void)loop;
	(void)id;
	h->timer = 0;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	dispatch(h);
	return LOOP_TIMER_STOP;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;
	int64_t id;

	(void)multi;
	if (h->timer) {
		loop_del_timer(h->loop, h->timer);
		h->timer = 0;
	}
	if (timeout_ms >= 0) {
		id = loop_add_timer(h->loop, timeout_ms, timeout_fired, h);
		if (id > 0)
			h->timer = id;
	}
	return 0;
}

static int map_result(struct http_req *r)
{
	if (r->err)
		return r->err;
	switch (r->result) {
	case CURLE_OK:
		return 0;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return -EPROTO;
	default:
		return -EIO;
	}
}

/* Deliver buffered stream lines; false when a callback changed the request
 * list (r may then be gone). */
static bool deliver_lines(struct http *h, struct http_req *r)
{
	char *nl;

	while ((nl = memchr(r->resp.data, '\n', r->resp.len))) {
		size_t n = (size_t)(nl - r->resp.data);
		char *line = xstrndup(r->resp.data, n);

		buf_consume(&r->resp, n + 1);
		if (n && r->line)
			r->line(r->arg, line, n);
		free(line);
		if (h->changed)
			return false;
	}
	return true;
}

static void dispatch(struct http *h)
{
	struct http_req *r;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		r->finished = true;
		r->result = msg->data.result;
	}
again:
	h->changed = false;
	for (r = h->reqs; r; r = r->next) {
		if (r->stream && r->resp.len) {
			if (!deliver_lines(h, r))
				goto again;
			if (!r->finished)
				curl_easy_pause(r->easy, CURLPAUSE_CONT);
		}
		if (r->finished) {
			long status = 0;
			int err = map_result(r);
			http_done_cb *done = r->done;
			void *arg = r->arg;
			char *errmsg = xstrdup(r->errbuf[0] ? r->errbuf
						: err == -E2BIG ? "response too large"
						: curl_easy_strerror(r->result));
			struct buf body = r->resp;

			curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
			/* Detach the body so the callback sees it after the free. */
			buf_init(&r->resp, 0);
			req_unlink_free(r);
			if (done)
				done(arg, err, status, body.data ? body.data : "", body.len, errmsg);
			buf_free(&body);
			free(errmsg);
			goto again;
		}
	}
}

int http_new(struct loop *loop, struct http **ret)
{
	static bool global_done;
	struct http *h;

	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -EIO;
		global_done = true;
	}
	h = xcalloc(1, sizeof(*h));
	h->loop = loop;
	h->multi = curl_multi_init();
	if (!h->multi) {
		free(h);
		return -ENOMEM;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	*ret = h;
	return 0;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	while (h->reqs)
		req_unlink_free(h->reqs);
	if (h->timer)
		loop_del_timer(h->loop, h->timer);
	curl_multi_cleanup(h->multi);
	free(h);
}

static int add_header(struct http_req *r, const char *line)
{
	struct curl_slist *l = curl_slist_append(r->headers, line);

	if (!l)
		return -ENOMEM;
	r->headers = l;
	return 0;
}

int http_start(struct http *h, const struct http_opts *o, http_done_cb *done, http_line_cb *line,
	       void *arg, struct http_req **ret_req)
{
	struct http_req *r;
	char *ct = NULL;
	int ret = -ENOMEM;

	r = xcalloc(1, sizeof(*r));
	r->h = h;
	r->done = done;
	r->line = line;
	r->arg = arg;
	r->stream = o->stream;
	buf_init(&r->resp, o->max_body ? o->max_body : DEFAULT_MAX_BODY);
	r->easy = curl_easy_init();
	if (!r->easy)
		goto fail;

	curl_easy_setopt(r->easy, CURLOPT_URL, o->url);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 o->connect_timeout_ms ? o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS);
	if (o->timeout_ms)
		curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	if (o->body) {
		r->body = xmalloc(o->body_len + 1);
		memcpy(r->body, o->body, o->body_len);
		r->body[o->body_len] = '\0';
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
		xasprintf(&ct, "Content-Type: %s",
			  o->content_type ? o->content_type : "application/json");
		if (add_header(r, ct) < 0)
			goto fail;
	}
	if (o->method)
		curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, o->method);
	/* Expect: 100-continue costs a round trip per POST for nothing. */
	if (add_header(r, "Expect:") < 0)
		goto fail;
	for (const char *const *hd = o->headers; hd && *hd; hd++)
		if (add_header(r, *hd) < 0)
			goto fail;
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	if (o->tls) {
		if (o->tls->cafile && *o->tls->cafile)
			curl_easy_setopt(r->easy, CURLOPT_CAINFO, o->tls->cafile);
		if (o->tls->certfile && *o->tls->certfile)
			curl_easy_setopt(r->easy, CURLOPT_SSLCERT, o->tls->certfile);
		if (o->tls->keyfile && *o->tls->keyfile)
			curl_easy_setopt(r->easy, CURLOPT_SSLKEY, o->tls->keyfile);
		if (o->tls->insecure) {
			curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}
	curl_easy_setopt(r->easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);

	if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK) {
		ret = -EIO;
		goto fail;
	}
	r->next = h->reqs;
	h->reqs = r;
	h->changed = true;
	free(ct);
	if (ret_req)
		*ret_req = r;
	return 0;
fail:
	free(ct);
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->body);
	buf_free(&r->resp);
	free(r);
	return ret;
}

void http_cancel(struct http_req *r)
{
	if (r)
		req_unlink_free(r);
}

unsigned http_active(const struct http *h)
{
	unsigned n = 0;

	for (const struct http_req *r = h->reqs; r; r = r->next)
		n++;
	return n;
}
