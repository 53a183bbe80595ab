/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_HTTP_SERVER_H
#define WEFT_HTTP_SERVER_H

/*
 * A tiny HTTP/1.1 server on the daemon's event loop, for /healthz, /readyz
 * and /metrics (flannel.md §10.1). Non-blocking, no threads; one request per
 * connection, always answered with Content-Length and "Connection: close".
 *
 *   - GET and HEAD are dispatched by exact path (the query string is not part
 *     of the match) to the registered handlers; an unknown path is 404, any
 *     other method on a known path 405 (with Allow: GET, HEAD).
 *   - The request head is bounded (8 KiB: else 431), a malformed one is 400
 *     (so is HTTP/1.1 without Host, as in Go), a version other than HTTP/1.x
 *     505. Bare-LF line ends are accepted. Request bodies are never read.
 *   - Each connection has one deadline from accept to the end of the
 *     response (default 5 s, a slowloris guard); at the cap of concurrent
 *     connections (default 64) the oldest one not yet writing a response is
 *     dropped to make room for the new one.
 *   - After the response the server shuts down its side and discards what the
 *     client still sends until it closes (briefly; at most 500 ms), so that
 *     unread request bytes do not turn the close into a reset that destroys
 *     the response (a "lingering close", as Go and Apache do).
 *
 * The server never logs; http_server_stats exposes counters.
 *
 * Intended use (the agent wires it):
 *
 *	static int healthz(void *arg, const struct http_server_req *req,
 *			   struct http_server_resp *resp)
 *	{
 *		return buf_append(&resp->body, "flanneld is running", 19);
 *	}
 *
 *	static int readyz(void *arg, const struct http_server_req *req,
 *			  struct http_server_resp *resp)
 *	{
 *		struct agent *a = arg;
 *		const char *msg = a->ready ? "flanneld is ready" : "flanneld is not ready yet";
 *
 *		resp->status = a->ready ? 200 : 503;
 *		return buf_append(&resp->body, msg, strlen(msg));
 *	}
 *
 *	r = http_server_new(loop, flags->healthz_ip, port, NULL, &a->healthz);
 *	if (r < 0)
 *		fatalx("healthz listen on %s:%u: %s", ip, port, strerror(-r));
 *	http_server_route(a->healthz, "/healthz", healthz, a);
 *	http_server_route(a->healthz, "/readyz", readyz, a);
 *	...
 *	http_server_free(a->healthz); // on shutdown: closes every connection
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct loop;
struct http_server;

struct http_server_opts {
	int timeout_ms;	    /* per connection, accept to response sent; 0 = 5000 */
	unsigned max_conns; /* concurrent connections; 0 = 64 */
	size_t max_body;    /* response body limit (resp->body's max); 0 = 1 MiB */
};

/* What a handler sees: valid only during the call. */
struct http_server_req {
	const char *method; /* "GET" or "HEAD" */
	const char *path;   /* the path the route matched */
	const char *query;  /* after '?', without it; "" when none */
	bool head;	    /* HEAD: the body is built but not sent */
};

/* What a handler fills: status starts at 200, body empty, content_type NULL. */
struct http_server_resp {
	int status;		  /* 200..599, else 500; 204/304 go out without a body */
	const char *content_type; /* NULL: "text/plain; charset=utf-8"; read after the call */
	struct buf body;	  /* bounded by opts.max_body */
};

/* 0, or a negative errno (e.g. -E2BIG from buf_append) for a 500 response. */
typedef int http_server_handler(void *arg, const struct http_server_req *req,
				struct http_server_resp *resp);

struct http_server_stats {
	uint64_t accepted;  /* connections accepted */
	uint64_t responses; /* responses fully written, any status */
	uint64_t bad;	    /* 400, 431 and 505 responses */
	uint64_t timeouts;  /* connections dropped at their deadline */
	uint64_t evicted;   /* connections dropped to stay under max_conns */
	uint64_t errors;    /* read/write/accept errors */
	unsigned active;    /* connections open now */
};

/*
 * Listens on ip (an IPv4 or IPv6 literal, brackets allowed; NULL or "" is
 * 0.0.0.0) and port (0: any, see http_server_port) and starts accepting on
 * loop. opts may be NULL. -EINVAL for a bad address, else the errno of
 * socket/bind/listen (-EADDRINUSE, -EADDRNOTAVAIL, ...).
 */
int http_server_new(struct loop *loop, const char *ip, uint16_t port,
		    const struct http_server_opts *opts, struct http_server **ret_srv);
/*
 * Closes the listener and every connection. NULL is fine. Not from inside
 * one of the server's own handlers (stop the loop instead).
 */
void http_server_free(struct http_server *srv);

/* Adds a route; path is copied. -EINVAL unless path starts with '/', -EEXIST if taken. */
int http_server_route(struct http_server *srv, const char *path, http_server_handler *handler,
		      void *arg);

/* The port actually bound (useful after asking for port 0). */
uint16_t http_server_port(const struct http_server *srv);

void http_server_stats(const struct http_server *srv, struct http_server_stats *ret_stats);

#endif
