/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_HTTP_CLIENT_INT_H
#define WEFT_HTTP_CLIENT_INT_H

/*
 * Inside the HTTP client: a request's state, shared by client.c (life cycle,
 * public API), client_req.c (URL and request text), client_conn.c (look-up
 * and connecting), client_tls.c (everything OpenSSL) and client_io.c (sending
 * the request, reading the response). Not for other modules.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "http/client.h"
#include "http/client_resp.h"

struct addrinfo;
struct resolve;
struct ssl_ctx_st; /* OpenSSL's SSL_CTX: only client_tls.c looks inside */
struct ssl_st;	   /* SSL */

enum req_state { ST_RESOLVING, ST_CONNECTING, ST_HANDSHAKE, ST_SENDING, ST_RECEIVING, ST_DONE };

struct http_tls_ctx {
	struct ssl_ctx_st *ctx;
	char *key; /* cafile \n certfile \n keyfile \n insecure: what it was made for */
};

struct http {
	struct loop *loop;
	struct http_req *reqs;
	struct http_tls_ctx tls; /* one cached context: every user has one TLS setup */
};

struct http_req {
	struct http *h;
	struct http_req *next;
	int fd;
	struct ssl_st *ssl;
	enum req_state state;
	bool https, stream, busy, cancelled, numeric;
	char host[256];
	char port[8];
	char addr[INET6_ADDRSTRLEN]; /* the address being tried */
	struct buf out;
	size_t out_off;
	struct http_resp resp;
	struct buf body;
	size_t max_body;
	int64_t start_timer, connect_timer, attempt_timer, total_timer;
	int64_t connect_deadline; /* clock_now_ms */
	int conn_err;		  /* errno of the last failed attempt */
	char errmsg[320];
	http_done_cb *done;
	http_line_cb *line;
	void *arg;
	struct http_tls tls; /* a copy (strings owned): the start is deferred */
	struct resolve *rs;
	struct addrinfo *ai, *cur;
};

/* ---- client.c: life cycle ---- */

/* Closes the socket (and its TLS session) of the address being tried. */
void client_close_conn(struct http_req *r);
/* Unlinks and frees r; no callback. */
void client_free_req(struct http_req *r);
/* Finish the request: the done callback, then free. */
void client_finish(struct http_req *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- client_req.c: URL and request text ---- */

struct url {
	bool https;
	char host[256];
	char port[8];
	const char *path; /* points into the URL; "/" when empty */
};

int client_url_parse(const char *s, struct url *u);
/* The request, head and body, into out (bounded); -EINVAL for text that
 * cannot go into a head, -E2BIG when too large. */
int client_build_request(const struct http_opts *o, const struct url *u, struct buf *out);

/* ---- client_conn.c: look-up and connecting ---- */

/* Try r->ai's addresses in turn; on success, TLS and the request follow. */
void client_connect_addrs(struct http_req *r);
/* Start a look-up thread for r's host; 0, or -errno with r->errmsg set. */
int client_resolve(struct http_req *r);
/* Drops r's look-up (the thread may go on) and its addresses. */
void client_conn_release(struct http_req *r);

/* ---- client_tls.c ---- */

/* A TLS session on r's connected socket; 0, or -EPROTO with r->errmsg set. */
int client_tls_begin(struct http_req *r);
/* Drives the handshake, then on to sending (or finishes r on failure). */
void client_tls_handshake(struct http_req *r);
/* As client_io.c's do_read and do_write, on r->ssl. */
ssize_t client_tls_read(struct http_req *r, char *buf, size_t len, uint32_t *ret_want);
ssize_t client_tls_write(struct http_req *r, const char *buf, size_t len, uint32_t *ret_want);
void client_tls_close(struct http_req *r);
void client_tls_ctx_free(struct http *h);

/* ---- client_io.c ---- */

void client_want(struct http_req *r, uint32_t events);
/* Send what is left of the request, then on to reading the response. */
void client_on_writable(struct http_req *r);
void client_on_readable(struct http_req *r);

#endif
