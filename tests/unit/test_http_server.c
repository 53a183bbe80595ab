// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "http/server.h"
#include "http/server_req.h"
#include "prom_check.h"

/*
 * Everything runs on one loop, as in the daemon: the clients are non-blocking
 * sockets registered on the same loop as the server, and run_until() spins
 * the loop until a condition holds (or a guard timer says it never will).
 */

#define MAX_CLIENTS 80
#define GUARD_MS    5000

struct client {
	int fd;
	struct buf out; /* what is left to send */
	struct buf in;	/* everything received */
	bool eof;	/* the server closed (or reset) the connection */
	int err;	/* recv's -errno when it was a reset */
	int send_err;
	bool noread;	/* a stalled reader: never reads what the server sends */
};

static struct {
	struct loop *loop;
	struct http_server *srv;
	struct client c[MAX_CLIENTS];
	bool guard_fired;
	bool ready;
	size_t big_len;
	char last_query[64];
	struct metrics *metrics;
} T;

/* ---- handlers ---- */

static int put(struct http_server_resp *resp, const char *s)
{
	return buf_append(&resp->body, s, strlen(s));
}

static int h_healthz(void *arg, const struct http_server_req *req, struct http_server_resp *resp)
{
	(void)arg;
	(void)req;
	return put(resp, "flanneld is running");
}

static int h_readyz(void *arg, const struct http_server_req *req, struct http_server_resp *resp)
{
	(void)arg;
	snprintf(T.last_query, sizeof(T.last_query), "%s", req->query);
	if (!T.ready) {
		resp->status = 503;
		return put(resp, "flanneld is not ready yet");
	}
	return put(resp, "flanneld is ready");
}

static int h_big(void *arg, const struct http_server_req *req, struct http_server_resp *resp)
{
	char chunk[4096];
	int r = 0;

	(void)arg;
	(void)req;
	for (size_t off = 0; off < T.big_len && r == 0; off += sizeof(chunk)) {
		size_t n = T.big_len - off < sizeof(chunk) ? T.big_len - off : sizeof(chunk);

		for (size_t i = 0; i < n; i++)
			chunk[i] = (char)('a' + (off + i) % 26);
		r = buf_append(&resp->body, chunk, n);
	}
	resp->content_type = "application/octet-stream";
	return r;
}

/* ?N sets the status; the body says hello. */
static int h_status(void *arg, const struct http_server_req *req, struct http_server_resp *resp)
{
	(void)arg;
	resp->status = (int)strtol(req->query, NULL, 10);
	return put(resp, "hello");
}

static int h_fail(void *arg, const struct http_server_req *req, struct http_server_resp *resp)
{
	(void)arg;
	(void)req;
	put(resp, "partial");
	return -EIO;
}

static int h_badtype(void *arg, const struct http_server_req *req, struct http_server_resp *resp)
{
	(void)arg;
	(void)req;
	resp->content_type = "text/plain\r\nX-Injected: 1";
	return 0;
}

static int h_metrics(void *arg, const struct http_server_req *req, struct http_server_resp *resp)
{
	(void)req;
	resp->content_type = METRICS_CONTENT_TYPE;
	return metrics_render(arg, &resp->body);
}

/* ---- the loop and the clients ---- */

static int64_t guard(struct loop *loop, int64_t id, void *arg)
{
	(void)id;
	(void)arg;
	T.guard_fired = true;
	loop_stop(loop);
	return LOOP_TIMER_STOP;
}

static bool (*until)(void);

static void check_until(struct loop *loop, void *arg)
{
	(void)arg;
	if (until())
		loop_stop(loop);
}

/* Spins the loop until cond() holds; false when GUARD_MS passed first. */
static bool run_until_ms(bool (*cond)(void), int ms)
{
	int64_t id;

	T.guard_fired = false;
	until = cond;
	id = loop_add_timer(T.loop, ms, guard, NULL);
	assert_true(id > 0);
	loop_set_before_sleep(T.loop, check_until, NULL);
	assert_int_equal(loop_run(T.loop), 0);
	loop_set_before_sleep(T.loop, NULL, NULL);
	if (!T.guard_fired)
		assert_int_equal(loop_del_timer(T.loop, id), 0);
	return !T.guard_fired;
}

static bool run_until(bool (*cond)(void))
{
	return run_until_ms(cond, GUARD_MS);
}

static void client_io(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct client *c = arg;
	char tmp[16384];
	ssize_t n;

	if ((events & LOOP_WRITE) && c->out.len) {
		n = send(fd, c->out.data, c->out.len, MSG_NOSIGNAL);
		if (n > 0)
			buf_consume(&c->out, (size_t)n);
		else if (n < 0 && errno != EAGAIN)
			c->send_err = -errno;
		if (!c->out.len || c->send_err)
			loop_mod_fd(loop, fd, c->noread ? 0 : LOOP_READ);
	}
	if (!(events & LOOP_READ) || c->noread)
		return;
	for (;;) {
		n = recv(fd, tmp, sizeof(tmp), 0);
		if (n > 0) {
			assert_int_equal(buf_append(&c->in, tmp, (size_t)n), 0);
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return;
		/* Done, as a real client is once the server closed: close too. */
		c->err = n < 0 ? -errno : 0;
		c->eof = true;
		loop_del_fd(loop, fd);
		close(fd);
		c->fd = -1;
		return;
	}
}

/* Connects client i to the server (rcvbuf > 0: shrink the receive buffer). */
static struct client *client_connect(int i, int rcvbuf)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(http_server_port(T.srv)),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct client *c = &T.c[i];
	int r;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	if (rcvbuf > 0)
		assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)),
				 0);
	r = connect(c->fd, (struct sockaddr *)&sin, sizeof(sin));
	assert_true(r == 0 || errno == EINPROGRESS);
	assert_int_equal(loop_add_fd(T.loop, c->fd, LOOP_READ, client_io, c), 0);
	return c;
}

static void client_send(struct client *c, const char *data, size_t len)
{
	assert_int_equal(buf_append(&c->out, data, len), 0);
	assert_int_equal(loop_mod_fd(T.loop, c->fd, LOOP_READ | LOOP_WRITE), 0);
}

static void client_sends(struct client *c, const char *s)
{
	client_send(c, s, strlen(s));
}

/* Resets the connection: SO_LINGER 0 turns close into an RST. */
static void client_reset(struct client *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	loop_del_fd(T.loop, c->fd);
	close(c->fd);
	c->fd = -1;
}

static int client_index;

static bool client_done(void)
{
	return T.c[client_index].eof;
}

/* One request on a fresh connection, answered and closed by the server. */
static struct client *request(int i, const char *req)
{
	struct client *c = client_connect(i, 0);

	client_sends(c, req);
	client_index = i;
	assert_true(run_until(client_done));
	return c;
}

static int status_of(const struct client *c)
{
	int status = 0;

	if (!c->in.data || sscanf(c->in.data, "HTTP/1.1 %d ", &status) != 1)
		return -1;
	return status;
}

/* The body: what follows the blank line. */
static const char *body_of(const struct client *c)
{
	const char *p = c->in.data ? strstr(c->in.data, "\r\n\r\n") : NULL;

	assert_non_null(p);
	return p + 4;
}

/* A header's value (copied into a static buffer), or NULL. */
static const char *header_of(const struct client *c, const char *name)
{
	static char val[256];
	const char *end = strstr(c->in.data, "\r\n\r\n"), *p = c->in.data;
	size_t n = strlen(name);

	while ((p = strstr(p, "\r\n")) && p < end) {
		p += 2;
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1, *eol = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			snprintf(val, sizeof(val), "%.*s", (int)(eol - v), v);
			return val;
		}
	}
	return NULL;
}

static int setup_opts(const struct http_server_opts *opts)
{
	memset(&T, 0, sizeof(T));
	for (int i = 0; i < MAX_CLIENTS; i++) {
		T.c[i].fd = -1;
		buf_init(&T.c[i].out, 1 << 20);
		buf_init(&T.c[i].in, 16 << 20);
	}
	assert_int_equal(loop_new(&T.loop), 0);
	assert_int_equal(http_server_new(T.loop, "127.0.0.1", 0, opts, &T.srv), 0);
	assert_true(http_server_port(T.srv) > 0);
	assert_int_equal(http_server_route(T.srv, "/healthz", h_healthz, NULL), 0);
	assert_int_equal(http_server_route(T.srv, "/readyz", h_readyz, NULL), 0);
	assert_int_equal(http_server_route(T.srv, "/big", h_big, NULL), 0);
	assert_int_equal(http_server_route(T.srv, "/status", h_status, NULL), 0);
	assert_int_equal(http_server_route(T.srv, "/fail", h_fail, NULL), 0);
	assert_int_equal(http_server_route(T.srv, "/badtype", h_badtype, NULL), 0);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return setup_opts(NULL);
}

static int setup_short_timeout(void **state)
{
	static const struct http_server_opts opts = { .timeout_ms = 150 };

	(void)state;
	return setup_opts(&opts);
}

static int setup_small_cap(void **state)
{
	static const struct http_server_opts opts = { .max_conns = 4 };

	(void)state;
	return setup_opts(&opts);
}

static int setup_big_body(void **state)
{
	static const struct http_server_opts opts = { .max_body = 8u << 20 };

	(void)state;
	return setup_opts(&opts);
}

static int setup_small_cap_big_body(void **state)
{
	static const struct http_server_opts opts = { .max_conns = 2, .max_body = 8u << 20 };

	(void)state;
	return setup_opts(&opts);
}

static int teardown(void **state)
{
	(void)state;
	http_server_free(T.srv);
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (T.c[i].fd >= 0) {
			loop_del_fd(T.loop, T.c[i].fd);
			close(T.c[i].fd);
		}
		buf_free(&T.c[i].out);
		buf_free(&T.c[i].in);
	}
	/* The server left no timer behind. */
	assert_int_equal(loop_poll_timeout(T.loop), -1);
	loop_free(T.loop);
	metrics_free(T.metrics);
	return 0;
}

static struct http_server_stats stats(void)
{
	struct http_server_stats st;

	http_server_stats(T.srv, &st);
	return st;
}

static bool server_idle(void)
{
	return stats().active == 0;
}

/* ---- tests ---- */

static void test_get_200(void **state)
{
	struct client *c;

	(void)state;
	c = request(0, "GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: kube-probe/1.29\r\n\r\n");
	assert_int_equal(c->err, 0);
	assert_int_equal(status_of(c), 200);
	assert_true(!strncmp(c->in.data, "HTTP/1.1 200 OK\r\n", 17));
	assert_string_equal(body_of(c), "flanneld is running");
	assert_string_equal(header_of(c, "Content-Length"), "19");
	assert_string_equal(header_of(c, "Content-Type"), "text/plain; charset=utf-8");
	assert_string_equal(header_of(c, "Connection"), "close");
	assert_non_null(header_of(c, "Date"));
	assert_string_equal(header_of(c, "Date") + strlen(header_of(c, "Date")) - 4, " GMT");
	assert_true(run_until(server_idle));
	assert_int_equal(stats().accepted, 1);
	assert_int_equal(stats().responses, 1);
	assert_int_equal(stats().errors, 0);
}

static void test_readyz_503_then_200_and_query(void **state)
{
	struct client *c;

	(void)state;
	c = request(0, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 503);
	assert_true(!strncmp(c->in.data, "HTTP/1.1 503 Service Unavailable\r\n", 34));
	assert_string_equal(body_of(c), "flanneld is not ready yet");
	assert_string_equal(T.last_query, "");
	T.ready = true;
	c = request(1, "GET /readyz?verbose=1 HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 200);
	assert_string_equal(body_of(c), "flanneld is ready");
	assert_string_equal(T.last_query, "verbose=1");
}

static void test_404_and_405(void **state)
{
	struct client *c;

	(void)state;
	c = request(0, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 404);
	assert_string_equal(body_of(c), "404 page not found\n");
	/* Exact match only. */
	c = request(1, "GET /healthz/ HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 404);
	c = request(2, "GET /HEALTHZ HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 404);
	c = request(3, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(status_of(c), 405);
	assert_string_equal(header_of(c, "Allow"), "GET, HEAD");
	assert_string_equal(body_of(c), "Method Not Allowed\n");
	c = request(4, "DELETE /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 405);
	/* An unknown path is 404 whatever the method. */
	c = request(5, "PUT /nope HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 404);
}

static void test_head_has_no_body(void **state)
{
	struct client *c;

	(void)state;
	c = request(0, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 200);
	assert_string_equal(header_of(c, "Content-Length"), "19");
	assert_string_equal(body_of(c), "");
	c = request(1, "HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 404);
	assert_string_equal(body_of(c), "");
}

static void test_oversized_head_431(void **state)
{
	static char req[16384];
	struct client *c;
	size_t n;

	(void)state;
	n = (size_t)snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(req + n, 'a', sizeof(req) - n - 5);
	memcpy(req + sizeof(req) - 5, "\r\n\r\n", 5);
	c = client_connect(0, 0);
	client_send(c, req, sizeof(req) - 1);
	client_index = 0;
	assert_true(run_until(client_done));
	assert_int_equal(status_of(c), 431);
	assert_string_equal(body_of(c), "Request Header Fields Too Large\n");
	assert_int_equal(c->err, 0); /* a clean close, not a reset */
	assert_true(run_until(server_idle));
	assert_int_equal(stats().bad, 1);

	/* Just under the limit is fine. */
	n = (size_t)snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(req + n, 'a', 8192 - n - 4);
	memcpy(req + 8192 - 4, "\r\n\r\n", 5);
	assert_int_equal(strlen(req), 8192);
	c = request(1, req);
	assert_int_equal(status_of(c), 200);
}

static void test_malformed_requests(void **state)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		{ "garbage\r\n\r\n", 400 },
		{ "GET\r\n\r\n", 400 },
		{ "GET /healthz\r\n\r\n", 400 },
		{ "GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
		{ "GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400 },
		{ "GET healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
		{ "G(T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
		{ "GET /healthz HTTP/1.x\r\nHost: x\r\n\r\n", 400 },
		{ "GET /healthz FTP/1.1\r\nHost: x\r\n\r\n", 400 },
		{ "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505 },
		{ "GET /healthz HTTP/1.1\r\n\r\n", 400 }, /* no Host */
		{ "GET /healthz HTTP/1.1\r\nHost x\r\n\r\n", 400 },
		{ "GET /healthz HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400 },
		{ "GET /healthz HTTP/1.1\r\nBad Name: 1\r\nHost: x\r\n\r\n", 400 },
		/* Tolerated: HTTP/1.0 without Host, bare LF, leading empty lines. */
		{ "GET /healthz HTTP/1.0\r\n\r\n", 200 },
		{ "GET /healthz HTTP/1.1\nhost: x\n\n", 200 },
		{ "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 200 },
	};
	struct client *c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = request((int)i, cases[i].req);
		if (status_of(c) != cases[i].status)
			fail_msg("case %zu: got %d, want %d for %s", i, status_of(c),
				 cases[i].status, cases[i].req);
	}
	/* A NUL inside the head. */
	c = client_connect(20, 0);
	client_send(c, "GET /healthz HTTP/1.1\r\nHost: \0x\r\n\r\n", 35);
	client_index = 20;
	assert_true(run_until(client_done));
	assert_int_equal(status_of(c), 400);
}

static unsigned want_active;

static bool active_is(void)
{
	return stats().active == want_active;
}

static void test_request_in_pieces(void **state)
{
	static const char *const pieces[] = { "GE", "T /heal", "thz HTTP/1.1\r", "\nHost: x\r\n",
					      "\r" };
	struct client *c = client_connect(0, 0);

	(void)state;
	want_active = 1;
	assert_true(run_until(active_is));
	client_index = 0;
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		client_sends(c, pieces[i]);
		/* The server reads each piece on its own and does not answer yet. */
		assert_false(run_until_ms(client_done, 20));
	}
	client_sends(c, "\n");
	assert_true(run_until(client_done));
	assert_int_equal(status_of(c), 200);
	assert_string_equal(body_of(c), "flanneld is running");
}

static int nclients;

static bool all_done(void)
{
	for (int i = 0; i < nclients; i++)
		if (!T.c[i].eof)
			return false;
	return true;
}

static void test_many_concurrent_connections(void **state)
{
	char req[128];

	(void)state;
	nclients = 60;
	/* All connect first, then all send: 60 connections open at once. */
	for (int i = 0; i < nclients; i++)
		client_connect(i, 0);
	for (int i = 0; i < nclients; i++) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
			 i % 3 ? "/healthz" : "/nope");
		client_sends(&T.c[i], req);
	}
	assert_true(run_until(all_done));
	for (int i = 0; i < nclients; i++) {
		assert_int_equal(status_of(&T.c[i]), i % 3 ? 200 : 404);
		assert_int_equal(T.c[i].err, 0);
	}
	assert_true(run_until(server_idle));
	assert_int_equal(stats().accepted, 60);
	assert_int_equal(stats().responses, 60);
	assert_int_equal(stats().evicted, 0);
	assert_int_equal(stats().errors, 0);
}

static void test_cap_evicts_oldest_idle(void **state)
{
	struct client *c;

	(void)state;
	for (int i = 0; i < 4; i++)
		client_connect(i, 0);
	want_active = 4;
	assert_true(run_until(active_is));
	/* Half a request on the second: still idle as far as eviction goes. */
	client_sends(&T.c[1], "GET /hea");
	c = client_connect(4, 0);
	client_sends(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	client_index = 4;
	assert_true(run_until(client_done));
	assert_int_equal(status_of(c), 200);
	/* The oldest went, with nothing said; the others are still open. */
	client_index = 0;
	assert_true(run_until(client_done));
	assert_int_equal(T.c[0].in.len, 0);
	assert_false(T.c[1].eof);
	assert_false(T.c[2].eof);
	assert_int_equal(stats().evicted, 1);
	/* The evicted slot did not break the others. */
	client_sends(&T.c[1], "lthz HTTP/1.1\r\nHost: x\r\n\r\n");
	client_index = 1;
	assert_true(run_until(client_done));
	assert_int_equal(status_of(&T.c[1]), 200);
}

static void test_idle_client_dropped_after_timeout(void **state)
{
	int64_t t0 = clock_now_ms(), dt;
	struct client *c;

	(void)state;
	c = client_connect(0, 0);
	/* A slowloris: half a head, then silence. */
	client_connect(1, 0);
	client_sends(&T.c[1], "GET /healthz HTTP/1.1\r\nHost: x\r\n");
	client_index = 0;
	assert_true(run_until(client_done));
	dt = clock_now_ms() - t0;
	assert_true(dt >= 140);
	assert_true(dt < 2000);
	assert_int_equal(c->in.len, 0);
	client_index = 1;
	assert_true(run_until(client_done));
	assert_int_equal(T.c[1].in.len, 0);
	assert_true(run_until(server_idle));
	assert_int_equal(stats().timeouts, 2);
	/* The server still works afterwards. */
	c = request(2, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 200);
}

static void test_large_body_partial_writes(void **state)
{
	const char *body;
	struct client *c;
	size_t i;

	(void)state;
	T.big_len = 4u << 20;
	/* A small receive window makes the server wait for LOOP_WRITE many times. */
	c = client_connect(0, 4096);
	client_sends(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
	client_index = 0;
	assert_true(run_until(client_done));
	assert_int_equal(status_of(c), 200);
	assert_string_equal(header_of(c, "Content-Type"), "application/octet-stream");
	assert_string_equal(header_of(c, "Content-Length"), "4194304");
	body = body_of(c);
	assert_int_equal(c->in.len - (size_t)(body - c->in.data), T.big_len);
	for (i = 0; i < T.big_len; i++)
		if (body[i] != (char)('a' + i % 26))
			break;
	assert_int_equal(i, T.big_len);
}

static void test_handler_failures_are_500(void **state)
{
	struct client *c;

	(void)state;
	c = request(0, "GET /fail HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 500);
	assert_string_equal(body_of(c), "Internal Server Error\n");
	c = request(1, "GET /status?42 HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 500);
	c = request(2, "GET /badtype HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 500);
	assert_null(header_of(c, "X-Injected"));
	/* Over max_body (1 MiB by default): buf_append's -E2BIG. */
	T.big_len = (1u << 20) + 1;
	c = request(3, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 500);
	/* Statuses are the handler's to choose; 204 has neither body nor length. */
	c = request(4, "GET /status?418 HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_true(!strncmp(c->in.data, "HTTP/1.1 418 \r\n", 15));
	assert_string_equal(body_of(c), "hello");
	c = request(5, "GET /status?204 HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 204);
	assert_null(header_of(c, "Content-Length"));
	assert_string_equal(body_of(c), "");
}

static void test_request_body_does_not_reset(void **state)
{
	static char req[32768 + 128];
	struct client *c;
	int n;

	(void)state;
	/* The body is never read; the lingering close keeps the 405 from being lost. */
	n = snprintf(req, sizeof(req),
		     "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 32768\r\n\r\n");
	memset(req + n, 'b', 32768);
	c = client_connect(0, 0);
	client_send(c, req, (size_t)n + 32768);
	client_index = 0;
	assert_true(run_until(client_done));
	assert_int_equal(status_of(c), 405);
	assert_int_equal(c->err, 0);
	assert_int_equal(c->send_err, 0);
}

static void test_client_reset_mid_request(void **state)
{
	struct client *c;

	(void)state;
	c = client_connect(0, 0);
	client_sends(c, "GET /heal");
	want_active = 1;
	assert_true(run_until(active_is));
	client_index = 0;
	assert_false(run_until_ms(client_done, 20));
	client_reset(c);
	assert_true(run_until(server_idle));
	c = request(1, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(c), 200);
}

static void test_cap_with_every_connection_writing(void **state)
{
	struct client *c;

	(void)state;
	T.big_len = 4u << 20;
	/* Two stalled downloads hold both slots; neither may be evicted. */
	for (int i = 0; i < 2; i++) {
		c = client_connect(i, 4096);
		c->noread = true;
		client_sends(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
	}
	want_active = 2;
	assert_true(run_until(active_is));
	assert_false(run_until_ms(server_idle, 50));
	c = client_connect(2, 0);
	client_index = 2;
	assert_true(run_until(client_done));
	assert_int_equal(c->in.len, 0);
	assert_int_equal(stats().evicted, 1);
	assert_int_equal(stats().active, 2);
	/* The stalled readers reset: the server's writes fail and it lets go. */
	client_reset(&T.c[0]);
	client_reset(&T.c[1]);
	assert_true(run_until(server_idle));
	assert_int_equal(stats().errors, 2);
	assert_int_equal(stats().responses, 0);
}

static void test_accept_pauses_when_out_of_fds(void **state)
{
	struct rlimit old, low;
	struct client *c;
	int fds[64], n = 0, r;

	(void)state;
	/* The client socket exists before the table fills; connect needs no new fd. */
	c = client_connect(0, 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)c->fd + 32;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (n < 64 && (r = dup(0)) >= 0)
		fds[n++] = r;
	assert_int_equal(errno, EMFILE);
	client_sends(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	client_index = 0;
	/* The listener is paused, not spinning: the loop sleeps between retries. */
	assert_false(run_until_ms(client_done, 250));
	assert_true(stats().errors >= 1);
	assert_true(stats().errors <= 5);
	while (n > 0)
		close(fds[--n]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_true(run_until(client_done));
	assert_int_equal(status_of(c), 200);
}

static void test_free_with_open_connections(void **state)
{
	(void)state;
	client_connect(0, 0);
	client_connect(1, 0);
	client_sends(&T.c[1], "GET /healthz HTTP/1.1\r\n");
	nclients = 2;
	want_active = 2;
	assert_true(run_until(active_is));
	/* Let the server read the half request too. */
	assert_false(run_until_ms(all_done, 20));
	http_server_free(T.srv);
	T.srv = NULL;
	/* Both clients see the close. */
	assert_true(run_until(all_done));
	assert_int_equal(T.c[0].in.len, 0);
	assert_int_equal(T.c[1].in.len, 0);
}

static void test_metrics_endpoint(void **state)
{
	struct metrics_child *c;
	struct client *cl;
	char why[256];

	(void)state;
	assert_int_equal(metrics_new(&T.metrics), 0);
	assert_int_equal(metrics_counter_new(T.metrics, "weft_test_total", "A test counter.", &c),
			 0);
	metrics_add(c, 3);
	assert_int_equal(http_server_route(T.srv, "/metrics", h_metrics, T.metrics), 0);
	cl = request(0, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(cl), 200);
	assert_string_equal(header_of(cl, "Content-Type"), METRICS_CONTENT_TYPE);
	assert_string_equal(body_of(cl), "# HELP weft_test_total A test counter.\n"
					 "# TYPE weft_test_total counter\n"
					 "weft_test_total 3\n");
	assert_int_equal(prom_check(body_of(cl), why, sizeof(why)), 0);
}

static void test_routes_and_addresses(void **state)
{
	struct http_server *s2;
	int r;

	(void)state;
	assert_int_equal(http_server_route(T.srv, "healthz", h_healthz, NULL), -EINVAL);
	assert_int_equal(http_server_route(T.srv, "/a?b", h_healthz, NULL), -EINVAL);
	assert_int_equal(http_server_route(T.srv, "/x", NULL, NULL), -EINVAL);
	assert_int_equal(http_server_route(T.srv, "/healthz", h_healthz, NULL), -EEXIST);

	assert_int_equal(http_server_new(T.loop, "999.1.1.1", 0, NULL, &s2), -EINVAL);
	assert_int_equal(http_server_new(T.loop, "localhost", 0, NULL, &s2), -EINVAL);
	assert_int_equal(http_server_new(T.loop, "[127.0.0.1]", 0, NULL, &s2), -EINVAL);
	assert_int_equal(http_server_new(T.loop, "[::1", 0, NULL, &s2), -EINVAL);
	/* The port is taken. */
	assert_int_equal(http_server_new(T.loop, "127.0.0.1", http_server_port(T.srv), NULL, &s2),
			 -EADDRINUSE);
	/* IPv6 loopback, with and without brackets, when the host has it. */
	r = http_server_new(T.loop, "::1", 0, NULL, &s2);
	if (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT)
		return;
	assert_int_equal(r, 0);
	assert_true(http_server_port(s2) > 0);
	http_server_free(s2);
	assert_int_equal(http_server_new(T.loop, "[::1]", 0, NULL, &s2), 0);
	http_server_free(s2);
	http_server_free(NULL);
}

/* The head parser alone (http/server_req.h), fed bytes as the fuzzer does. */
static void test_head_parser_without_sockets(void **state)
{
	static const char req[] = "\r\nGET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\nbody";
	size_t len = sizeof(req) - 1, want = len - 4, end;
	struct http_head_scan st;
	struct http_head h;
	const char *why;
	char buf[128];

	(void)state;
	/* One byte at a time finds the same end as all at once. */
	memset(&st, 0, sizeof(st));
	for (end = 0, len = 1; !end && len <= sizeof(req) - 1; len++)
		end = http_head_end(req, len, &st);
	assert_int_equal(end, want);
	assert_int_equal(st.start, 2);
	memset(&st, 0, sizeof(st));
	assert_int_equal(http_head_end(req, sizeof(req) - 1, &st), want);
	memcpy(buf, req, sizeof(req));
	assert_int_equal(http_head_parse(buf, st.start, end, &h, &why), 0);
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.path, "/metrics");
	assert_string_equal(h.query, "x=1");
	assert_null(why);
	/* Incomplete: no end yet. */
	memset(&st, 0, sizeof(st));
	strcpy(buf, "GET / HTTP/1.1\r\nHost: a\r\n\r");
	assert_int_equal(http_head_end(buf, strlen(buf), &st), 0);
	/* A caller that skipped http_head_end cannot make it run off the head. */
	strcpy(buf, "GET / HTTP/1.1");
	assert_int_equal(http_head_parse(buf, 0, strlen(buf), &h, &why), 400);
	assert_string_equal(why, "Bad Request\n");
	strcpy(buf, "GET / HTTP/3.0\r\n\r\n");
	assert_int_equal(http_head_parse(buf, 0, strlen(buf), &h, &why), 505);
	assert_string_equal(why, "HTTP Version Not Supported\n");
	strcpy(buf, "GET / HTTP/1.1\r\n\r\n");
	assert_int_equal(http_head_parse(buf, 0, strlen(buf), &h, &why), 400);
	assert_string_equal(why, "Bad Request: missing required Host header\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_200, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readyz_503_then_200_and_query, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_404_and_405, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_has_no_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_head_431, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_in_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_concurrent_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_evicts_oldest_idle, setup_small_cap,
						teardown),
		cmocka_unit_test_setup_teardown(test_idle_client_dropped_after_timeout,
						setup_short_timeout, teardown),
		cmocka_unit_test_setup_teardown(test_large_body_partial_writes, setup_big_body,
						teardown),
		cmocka_unit_test_setup_teardown(test_handler_failures_are_500, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_body_does_not_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_reset_mid_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_with_every_connection_writing,
						setup_small_cap_big_body, teardown),
		cmocka_unit_test_setup_teardown(test_accept_pauses_when_out_of_fds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_free_with_open_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_endpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes_and_addresses, setup, teardown),
		cmocka_unit_test(test_head_parser_without_sockets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
