/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_HTTP_CLIENT_H
#define WEFT_HTTP_CLIENT_H

/*
 * Asynchronous HTTP/1.1 (and HTTPS through OpenSSL) on the daemon's event
 * loop (client.c): nothing blocks the loop, host names included. Every
 * callback runs from the loop, never from inside http_start, so a callback
 * may start or cancel any request. Responses are bounded (head, body, stream
 * lines) and their framing is checked: a server cannot make us allocate
 * without limit or read a body it did not send.
 */
#include <stdbool.h>
#include <stddef.h>

struct loop;
struct http;
struct http_req;

struct http_tls {
	const char *cafile;   /* verify the server against this bundle (NULL: system) */
	const char *certfile; /* client certificate, PEM */
	const char *keyfile;  /* client key, PEM */
	bool insecure;        /* skip server verification (tests only) */
};

struct http_opts {
	const char *method; /* NULL: POST when body is set, else GET */
	const char *url;
	const char *body;
	size_t body_len;
	const char *content_type;  /* NULL: application/json when body is set */
	const char *const *headers; /* NULL-terminated "Name: value" list, or NULL */
	const struct http_tls *tls; /* NULL: defaults; copied by http_start */
	long timeout_ms;            /* whole transfer; 0 = none (streams) */
	long connect_timeout_ms;    /* 0 = 5000: name look-up and every address it
				     * yields, tried in turn, share it */
	size_t max_body;            /* unary: whole body; stream: one line. 0 = 16 MiB */
	bool stream;                /* deliver the body line by line as it arrives */
};

/*
 * Completion: err is 0 when an HTTP response arrived (whatever its status),
 * else a negative errno (-ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH when the
 * name does not resolve or no address answers, -E2BIG for an oversized body,
 * -EBADMSG for malformed framing, -EPROTO for TLS failures, -EIO otherwise,
 * a TLS EOF without close_notify before a close-delimited body ends too) and
 * errmsg says why.
 * body is NUL-terminated (for streams: whatever followed the last newline).
 * The request is freed after the callback returns.
 */
typedef void http_done_cb(void *arg, int err, long status, const char *body, size_t len,
			  const char *errmsg);
/* Streams: one newline-terminated line (newline stripped, NUL-terminated). */
typedef void http_line_cb(void *arg, const char *line, size_t len);

int http_new(struct loop *loop, struct http **ret);
/* Cancels every request without calling its callbacks. */
void http_free(struct http *h);

/* -EINVAL, and no callback, for a bad URL or a method, path, content type
 * or header that cannot go into a request head (CR, LF, control bytes);
 * -E2BIG for a body too large to send. */
int http_start(struct http *h, const struct http_opts *o, http_done_cb *done, http_line_cb *line,
	       void *arg, struct http_req **ret_req);
/* The callbacks of a cancelled request are never called. NULL is fine. */
void http_cancel(struct http_req *r);
/* The final response's status once its head is read (in a line callback,
 * say), else 0. */
long http_req_status(const struct http_req *r);

/* Requests in flight (for tests and metrics). */
unsigned http_active(const struct http *h);

#endif
