// SPDX-License-Identifier: Apache-2.0
/*
 * The HTTP client (src/http/client*.c) against scripted servers on
 * 127.0.0.1, plain and TLS (OpenSSL, certificates made by the openssl tool
 * for the run), all on the real loop as in the daemon: the server is
 * non-blocking sockets on the same loop as the client.
 *
 * Name resolution runs in a forked child in a network and mount namespace of
 * its own (its /etc/hosts and /etc/resolv.conf bind-mounted), so that a name
 * with several addresses, and a DNS server that never answers, are real;
 * without the privilege for that those tests are skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/buf.h"
#include "core/loop.h"
#include "http/client.h"
#include "http/client_resp.h"

#define GUARD_MS 5000
#define MAX_PIECES 8

/* ---- a scripted server on the loop ---- */

enum srv_end { END_CLOSE, END_CLOSE_NOTIFY, END_KEEP };

struct srv {
	int lfd, cfd, port;
	SSL_CTX *ctx; /* TLS when set */
	SSL *ssl;
	bool hs_done, responding;
	struct buf req;
	/* the script */
	const char *resp;
	size_t resp_len;
	size_t cut[MAX_PIECES]; /* piece i ends at cut[i]; the last at resp_len */
	int ncut;
	int gap_ms; /* between pieces */
	bool never_respond;
	enum srv_end end;
	int piece;
	int accepted;
};

struct result {
	bool done;
	int err;
	long status;
	char body[1024];
	size_t len;
	char errmsg[320];
};

static struct {
	struct loop *loop;
	struct http *http;
	struct srv srv;
	struct result res;
	bool guard_fired;
	int ticks;
	char dir[64]; /* certificates */
} T;

static void srv_close(struct srv *s)
{
	if (s->ssl) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->cfd >= 0) {
		loop_del_fd(T.loop, s->cfd);
		close(s->cfd);
		s->cfd = -1;
	}
}

static int srv_write_all(struct srv *s, const char *p, size_t n)
{
	/* Blocking writes: the pieces are small next to the socket buffers. */
	int fl = fcntl(s->cfd, F_GETFL);

	fcntl(s->cfd, F_SETFL, fl & ~O_NONBLOCK);
	while (n > 0) {
		ssize_t w = s->ssl ? SSL_write(s->ssl, p, (int)n) : send(s->cfd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			break;
		p += w;
		n -= (size_t)w;
	}
	fcntl(s->cfd, F_SETFL, fl);
	return n ? -1 : 0;
}

static int64_t srv_next_piece(struct loop *loop, int64_t id, void *arg)
{
	struct srv *s = arg;
	size_t from = s->piece ? s->cut[s->piece - 1] : 0;
	size_t to = s->piece < s->ncut ? s->cut[s->piece] : s->resp_len;

	(void)loop;
	(void)id;
	if (s->cfd < 0)
		return LOOP_TIMER_STOP;
	srv_write_all(s, s->resp + from, to - from);
	if (to < s->resp_len) {
		s->piece++;
		return s->gap_ms;
	}
	if (s->end == END_CLOSE_NOTIFY && s->ssl)
		SSL_shutdown(s->ssl);
	if (s->end != END_KEEP)
		srv_close(s);
	return LOOP_TIMER_STOP;
}

static void srv_conn(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct srv *s = arg;
	char buf[4096];

	(void)fd;
	(void)events;
	if (s->ssl && !s->hs_done) {
		int n = SSL_do_handshake(s->ssl);

		if (n != 1) {
			int e = SSL_get_error(s->ssl, n);

			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				loop_mod_fd(loop, s->cfd, e == SSL_ERROR_WANT_READ ? LOOP_READ : LOOP_WRITE);
				return;
			}
			ERR_clear_error();
			srv_close(s); /* the client refused us */
			return;
		}
		s->hs_done = true;
		loop_mod_fd(loop, s->cfd, LOOP_READ);
	}
	for (;;) {
		ssize_t n = s->ssl ? SSL_read(s->ssl, buf, sizeof(buf)) : recv(s->cfd, buf, sizeof(buf), 0);

		if (n <= 0) {
			if (s->ssl ? SSL_get_error(s->ssl, (int)n) == SSL_ERROR_WANT_READ
				   : (n < 0 && errno == EAGAIN))
				return;
			ERR_clear_error();
			srv_close(s); /* the client went away */
			return;
		}
		buf_append(&s->req, buf, (size_t)n);
		if (!s->responding && strstr(s->req.data, "\r\n\r\n")) {
			s->responding = true;
			if (!s->never_respond)
				loop_add_timer(loop, 0, srv_next_piece, s);
		}
	}
}

static void srv_accept(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct srv *s = arg;
	int c;

	(void)events;
	c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0)
		return;
	if (s->cfd >= 0) { /* one at a time */
		close(c);
		return;
	}
	s->accepted++;
	s->cfd = c;
	s->hs_done = s->responding = false;
	s->piece = 0;
	buf_reset(&s->req);
	if (s->ctx) {
		s->ssl = SSL_new(s->ctx);
		SSL_set_fd(s->ssl, c);
		SSL_set_accept_state(s->ssl);
	}
	assert_int_equal(loop_add_fd(loop, c, LOOP_READ, srv_conn, s), 0);
}

static int listen_on(struct loop *loop, int family, struct srv *s)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int one = 1;

	s->lfd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		return -errno;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		sl = sizeof(*a);
	}
	if (bind(s->lfd, (struct sockaddr *)&ss, sl) < 0 || listen(s->lfd, 16) < 0)
		return -errno;
	sl = sizeof(ss);
	getsockname(s->lfd, (struct sockaddr *)&ss, &sl);
	s->port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					  : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return loop_add_fd(loop, s->lfd, LOOP_READ, srv_accept, s);
}

static void srv_init(struct srv *s)
{
	memset(s, 0, sizeof(*s));
	s->lfd = s->cfd = -1;
	buf_init(&s->req, 1 << 20);
}

static void srv_free(struct loop *loop, struct srv *s)
{
	srv_close(s);
	if (s->lfd >= 0) {
		loop_del_fd(loop, s->lfd);
		close(s->lfd);
	}
	if (s->ctx)
		SSL_CTX_free(s->ctx);
	buf_free(&s->req);
}

static void script(const char *resp, size_t len)
{
	T.srv.resp = resp;
	T.srv.resp_len = len;
	T.srv.ncut = 0;
	T.srv.end = END_CLOSE;
}

/* ---- the loop and the client ---- */

static int64_t guard(struct loop *loop, int64_t id, void *arg)
{
	(void)id;
	(void)arg;
	T.guard_fired = true;
	loop_stop(loop);
	return LOOP_TIMER_STOP;
}

static int64_t ticker(struct loop *loop, int64_t id, void *arg)
{
	(void)loop;
	(void)id;
	(void)arg;
	T.ticks++;
	return 10;
}

static void on_done(void *arg, int err, long status, const char *body, size_t len,
		    const char *errmsg)
{
	struct result *r = arg;

	r->done = true;
	r->err = err;
	r->status = status;
	r->len = len;
	snprintf(r->body, sizeof(r->body), "%.*s", (int)len, body);
	snprintf(r->errmsg, sizeof(r->errmsg), "%s", errmsg);
	loop_stop(T.loop);
}

/* One request on T's loop; runs the loop until it is done. */
static void get_opts(struct loop *loop, struct http *h, struct http_opts *o, struct result *res)
{
	int64_t g;

	memset(res, 0, sizeof(*res));
	T.guard_fired = false;
	assert_int_equal(http_start(h, o, on_done, NULL, res, NULL), 0);
	g = loop_add_timer(loop, GUARD_MS, guard, NULL);
	assert_int_equal(loop_run(loop), 0);
	assert_false(T.guard_fired);
	loop_del_timer(loop, g);
	assert_true(res->done);
}

static void get(const char *url)
{
	struct http_opts o = { .url = url, .timeout_ms = 3000 };

	get_opts(T.loop, T.http, &o, &T.res);
}

static char url_buf[128];

static const char *url(const char *scheme, const char *host)
{
	snprintf(url_buf, sizeof(url_buf), "%s://%s:%d/x?y=1", scheme, host, T.srv.port);
	return url_buf;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(loop_new(&T.loop), 0);
	assert_int_equal(http_new(T.loop, &T.http), 0);
	srv_init(&T.srv);
	assert_int_equal(listen_on(T.loop, AF_INET, &T.srv), 0);
	T.ticks = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	http_free(T.http);
	srv_free(T.loop, &T.srv);
	loop_free(T.loop);
	return 0;
}

/* ---- plain framing ---- */

static const char chunked[] = "HTTP/1.1 200 OK\r\n"
			      "Content-Type: application/json\r\n"
			      "Transfer-Encoding: chunked\r\n"
			      "\r\n"
			      "5;name=\"v\"\r\nhello\r\n"
			      "1\r\n \r\n"
			      "0005\r\nworld\r\n"
			      "0\r\n"
			      "X-Trailer: t\r\n"
			      "\r\n";

static void test_request_text(void **state)
{
	(void)state;
	script("HTTP/1.1 204 No Content\r\n\r\n", 27);
	get(url("http", "127.0.0.1"));
	assert_int_equal(T.res.err, 0);
	assert_int_equal(T.res.status, 204);
	assert_non_null(strstr(T.srv.req.data, "GET /x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:"));
	assert_non_null(strstr(T.srv.req.data, "\r\nConnection: close\r\n"));
}

static void test_header_injection_refused(void **state)
{
	const char *bad[] = { "Authorization: Bearer x\r\nX-Evil: 1", NULL };
	struct http_opts o = { .url = "http://127.0.0.1:1/", .headers = bad };

	(void)state;
	assert_int_equal(http_start(T.http, &o, on_done, NULL, &T.res, NULL), -EINVAL);
	o.headers = NULL;
	o.url = "http://127.0.0.1:1/a b";
	assert_int_equal(http_start(T.http, &o, on_done, NULL, &T.res, NULL), -EINVAL);
	o.url = "http://127.0.0.1:70000/";
	assert_int_equal(http_start(T.http, &o, on_done, NULL, &T.res, NULL), -EINVAL);
	o.url = "http://127.0.0.1:1/";
	o.method = "GET /evil";
	assert_int_equal(http_start(T.http, &o, on_done, NULL, &T.res, NULL), -EINVAL);
	assert_int_equal(http_active(T.http), 0);
}

/* Every split point of the response in two, over the socket, a pause between. */
static void test_chunked_split_every_byte_socket(void **state)
{
	size_t len = sizeof(chunked) - 1;

	(void)state;
	for (size_t k = 1; k < len; k++) {
		script(chunked, len);
		T.srv.cut[0] = k;
		T.srv.ncut = 1;
		T.srv.gap_ms = 2;
		get(url("http", "127.0.0.1"));
		if (T.res.err || strcmp(T.res.body, "hello world"))
			fail_msg("split at %zu: err %d (%s), body \"%s\"", k, T.res.err, T.res.errmsg,
				 T.res.body);
		assert_int_equal(T.res.status, 200);
	}
}

static int collect(void *arg, const char *p, size_t n)
{
	return buf_append(arg, p, n);
}

/* Feed the parser in pieces cut at a and b (deterministic, every pair). */
static int parse_split(const char *resp, size_t len, size_t a, size_t b, struct buf *body,
		       char *errmsg, size_t errlen)
{
	struct http_resp p;
	size_t cuts[3] = { a, b, len }, from = 0;
	int rc = 0;

	http_resp_init(&p, false);
	buf_reset(body);
	for (int i = 0; i < 3 && rc == 0; i++) {
		rc = http_resp_feed(&p, resp + from, cuts[i] - from, collect, body);
		from = cuts[i];
	}
	if (rc == 0)
		rc = http_resp_eof(&p);
	snprintf(errmsg, errlen, "%s", p.errmsg);
	http_resp_free(&p);
	return rc;
}

static void test_chunked_split_every_pair_parser(void **state)
{
	size_t len = sizeof(chunked) - 1;
	struct buf body;
	char msg[160];

	(void)state;
	buf_init(&body, 1024);
	for (size_t a = 0; a <= len; a++) {
		for (size_t b = a; b <= len; b++) {
			int rc = parse_split(chunked, len, a, b, &body, msg, sizeof(msg));

			if (rc != 1 || strcmp(body.data, "hello world"))
				fail_msg("cuts %zu,%zu: rc %d (%s) body \"%s\"", a, b, rc, msg, body.data);
		}
	}
	buf_free(&body);
}

static void test_content_length_and_close(void **state)
{
	static const struct {
		const char *answer;
		long status;
		const char *body;
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloIGNORED", 200, "hello" },
		{ "HTTP/1.0 200 OK\r\n\r\nuntil close", 200, "until close" },
		/* the same length twice */
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length:  2 \r\n\r\nok", 200,
		  "ok" },
		/* an interim answer before the real one */
		{ "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
		  201, "ok" },
		{ "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 200, "ok" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		script(cases[i].answer, strlen(cases[i].answer));
		get(url("http", "127.0.0.1"));
		assert_int_equal(T.res.err, 0);
		assert_int_equal(T.res.status, cases[i].status);
		assert_string_equal(T.res.body, cases[i].body);
	}
}

/* A chunk size longer than the old 23-character buffer (leading zeros). */
static void test_long_chunk_size(void **state)
{
	static const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				"000000000000000000000000000005\r\nhello\r\n0\r\n\r\n";

	(void)state;
	script(r, sizeof(r) - 1);
	get(url("http", "127.0.0.1"));
	assert_int_equal(T.res.err, 0);
	assert_string_equal(T.res.body, "hello");
}

struct bad {
	const char *resp;
	int err;
	const char *msg;
};

static void test_bad_framing(void **state)
{
	static const struct bad cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nx", -EBADMSG,
		  "Content-Length 99999999999999999999 overflows" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", -EBADMSG,
		  "conflicting Content-Length headers (5 and 6)" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -EBADMSG,
		  "malformed Content-Length \"-1\"" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello", -EBADMSG,
		  "malformed Content-Length \"5x\"" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nx", -EBADMSG,
		  "chunk size 10000000000000000... overflows" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n",
		  -EBADMSG, "garbage after chunk size \"5 x\"" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\001\r\nhello\r\n0\r\n\r\n",
		  -EBADMSG, "control character in a chunk extension" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", -EBADMSG,
		  "malformed chunk size \"zz\"" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", -EBADMSG,
		  "missing CRLF after chunk data" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", -EBADMSG,
		  "unsupported Transfer-Encoding \"gzip\"" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
		  -EBADMSG, "Transfer-Encoding chunked given twice" },
		{ "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", -EBADMSG,
		  "obsolete line folding in a response header" },
		{ "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", -EBADMSG, "malformed response header line" },
		{ "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", -EBADMSG, "control character in a response header" },
		{ "HTTP/2 200\r\n\r\n", -EBADMSG, "malformed HTTP status line" },
		{ "SSH-2.0-OpenSSH\r\n\r\n", -EBADMSG, "malformed HTTP status line" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", -EIO,
		  "connection closed before the end of the response" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", -EIO,
		  "connection closed before the end of the response" },
		{ "", -EIO, "connection closed before a response" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		script(cases[i].resp, strlen(cases[i].resp));
		get(url("http", "127.0.0.1"));
		if (T.res.err != cases[i].err || strcmp(T.res.errmsg, cases[i].msg))
			fail_msg("case %zu: err %d \"%s\", want %d \"%s\"", i, T.res.err, T.res.errmsg,
				 cases[i].err, cases[i].msg);
	}
}

static void test_oversized(void **state)
{
	struct buf big;
	struct http_opts o = { .timeout_ms = 3000, .max_body = 100 };
	static const char huge_cl[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nabc";

	(void)state;
	/* A head of 70 KB: one long header. */
	buf_init(&big, 1 << 20);
	buf_append(&big, "HTTP/1.1 200 OK\r\nX-Big: ", 24);
	for (int i = 0; i < 70 * 1024; i++)
		buf_append(&big, "a", 1);
	buf_append(&big, "\r\n\r\n", 4);
	script(big.data, big.len);
	get(url("http", "127.0.0.1"));
	assert_int_equal(T.res.err, -EBADMSG);
	assert_string_equal(T.res.errmsg, "response head larger than 65536 bytes");
	/* Many small headers add up the same. */
	buf_reset(&big);
	buf_append(&big, "HTTP/1.1 200 OK\r\n", 17);
	for (int i = 0; i < 7000; i++)
		buf_append(&big, "X-Many: 1234\r\n", 14);
	buf_append(&big, "\r\n", 2);
	script(big.data, big.len);
	get(url("http", "127.0.0.1"));
	assert_int_equal(T.res.err, -EBADMSG);
	assert_string_equal(T.res.errmsg, "response head larger than 65536 bytes");
	buf_free(&big);
	/* A body larger than max_body is refused by its Content-Length. */
	script(huge_cl, sizeof(huge_cl) - 1);
	o.url = url("http", "127.0.0.1");
	get_opts(T.loop, T.http, &o, &T.res);
	assert_int_equal(T.res.err, -E2BIG);
	assert_string_equal(T.res.errmsg, "response too large (Content-Length 1000000, at most 100)");
}

/* ---- slow servers ---- */

static void test_slow_server_times_out(void **state)
{
	struct http_opts o = { .timeout_ms = 300 };
	int64_t t0, took, tick;

	(void)state;
	tick = loop_add_timer(T.loop, 10, ticker, NULL);
	/* Never answers. */
	script("", 0);
	T.srv.never_respond = true;
	o.url = url("http", "127.0.0.1");
	t0 = clock_now_ms();
	get_opts(T.loop, T.http, &o, &T.res);
	took = clock_now_ms() - t0;
	assert_int_equal(T.res.err, -ETIMEDOUT);
	assert_string_equal(T.res.errmsg, "request to 127.0.0.1 timed out");
	assert_in_range(took, 290, 2000);
	/* The loop kept running meanwhile: the 10 ms ticker fired. */
	assert_true(T.ticks >= 15);
	/* Answers one byte every 50 ms: the whole-request timeout still holds. */
	srv_close(&T.srv);
	T.srv.never_respond = false;
	script("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 40);
	for (int i = 0; i < MAX_PIECES; i++)
		T.srv.cut[i] = (size_t)i + 1;
	T.srv.ncut = MAX_PIECES;
	T.srv.gap_ms = 50;
	T.ticks = 0;
	t0 = clock_now_ms();
	get_opts(T.loop, T.http, &o, &T.res);
	took = clock_now_ms() - t0;
	assert_int_equal(T.res.err, -ETIMEDOUT);
	assert_string_equal(T.res.errmsg, "request to 127.0.0.1 timed out");
	assert_in_range(took, 290, 2000);
	assert_true(T.ticks >= 15);
	loop_del_timer(T.loop, tick);
}

/* ---- TLS ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(T.dir, sizeof(T.dir), "/tmp/weft-http-test.XXXXXX");
	if (!mkdtemp(T.dir))
		return -1;
	/* A CA; "good" names localhost and 127.0.0.1, "other" only other.invalid. */
	return sh("cd %s && { openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca "
		  "-keyout ca.key -out ca.crt && "
		  "for c in good:DNS:localhost,IP:127.0.0.1 other:DNS:other.invalid; do n=${c%%%%:*}; "
		  "openssl req -newkey rsa:2048 -nodes -subj /CN=$n -keyout $n.key -out $n.csr && "
		  "printf 'subjectAltName=%%s\\n' \"${c#*:}\" >$n.ext && "
		  "openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 "
		  "-extfile $n.ext -out $n.crt || exit 1; done; } >openssl.log 2>&1",
		  T.dir) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", T.dir);
	return 0;
}

static void srv_tls(const char *name)
{
	char crt[128], key[128];

	snprintf(crt, sizeof(crt), "%s/%s.crt", T.dir, name);
	snprintf(key, sizeof(key), "%s/%s.key", T.dir, name);
	if (T.srv.ctx)
		SSL_CTX_free(T.srv.ctx);
	T.srv.ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(T.srv.ctx);
	assert_int_equal(SSL_CTX_use_certificate_chain_file(T.srv.ctx, crt), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(T.srv.ctx, key, SSL_FILETYPE_PEM), 1);
}

static void tls_get(const char *host)
{
	char ca[128];
	struct http_tls tls = { .cafile = ca };
	struct http_opts o = { .timeout_ms = 3000, .tls = &tls };

	snprintf(ca, sizeof(ca), "%s/ca.crt", T.dir);
	o.url = url("https", host);
	get_opts(T.loop, T.http, &o, &T.res);
}

static void test_tls_eof(void **state)
{
	static const char cl[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
	static const char eof[] = "HTTP/1.1 200 OK\r\n\r\nuntil close";
	static const char chunked_cut[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
					  "5\r\nhello\r\n";

	(void)state;
	srv_tls("good");
	/* Framed by Content-Length: complete before any EOF. */
	script(cl, sizeof(cl) - 1);
	get(url("https", "127.0.0.1")); /* no CA given: refused */
	assert_int_equal(T.res.err, -EPROTO);
	assert_non_null(strstr(T.res.errmsg, "certificate verify failed"));
	tls_get("127.0.0.1");
	assert_int_equal(T.res.err, 0);
	assert_string_equal(T.res.body, "hello");
	/* Until close, ended by close_notify: complete. */
	script(eof, sizeof(eof) - 1);
	T.srv.end = END_CLOSE_NOTIFY;
	tls_get("127.0.0.1");
	assert_int_equal(T.res.err, 0);
	assert_string_equal(T.res.body, "until close");
	/* Until close, the TCP connection closed without close_notify: maybe
	 * truncated by anyone on the path, so an error. */
	script(eof, sizeof(eof) - 1);
	tls_get("127.0.0.1");
	assert_int_equal(T.res.err, -EIO);
	assert_string_equal(T.res.errmsg,
			    "TLS connection closed without close_notify: the response may be truncated");
	/* A chunked body cut short, with close_notify: still truncated. */
	script(chunked_cut, sizeof(chunked_cut) - 1);
	T.srv.end = END_CLOSE_NOTIFY;
	tls_get("127.0.0.1");
	assert_int_equal(T.res.err, -EIO);
	assert_string_equal(T.res.errmsg, "connection closed before the end of the response");
}

/* The server's certificate must name the host of the URL. */
static void test_tls_server_name(void **state)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

	(void)state;
	srv_tls("good"); /* DNS:localhost, IP:127.0.0.1 */
	script(ok, sizeof(ok) - 1);
	tls_get("127.0.0.1");
	assert_int_equal(T.res.err, 0);
	assert_string_equal(T.res.body, "ok");
	script(ok, sizeof(ok) - 1);
	tls_get("localhost"); /* a name: looked up, checked against DNS names */
	assert_int_equal(T.res.err, 0);
	assert_string_equal(T.res.body, "ok");

	srv_tls("other"); /* DNS:other.invalid only */
	script(ok, sizeof(ok) - 1);
	tls_get("127.0.0.1");
	assert_int_equal(T.res.err, -EPROTO);
	assert_string_equal(T.res.errmsg, "TLS handshake with 127.0.0.1: certificate verify failed: "
					  "IP address mismatch");
	script(ok, sizeof(ok) - 1);
	tls_get("localhost");
	assert_int_equal(T.res.err, -EPROTO);
	assert_string_equal(T.res.errmsg, "TLS handshake with localhost: certificate verify failed: "
					  "hostname mismatch");
}

/* ---- names with several addresses, DNS that never answers ---- */

/* In the child: a private network and mount namespace with lo up and our
 * hosts and resolv.conf; 77 when that is not allowed here. */
static void child_ns(const char *hosts, const char *resolv)
{
	char path[128];
	struct ifreq ifr = { 0 };
	int fd;

	if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		_exit(77);
	snprintf(path, sizeof(path), "%s/hosts", T.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, hosts, strlen(hosts)) < 0 || close(fd) < 0 ||
	    mount(path, "/etc/hosts", NULL, MS_BIND, NULL) < 0)
		_exit(77);
	snprintf(path, sizeof(path), "%s/resolv.conf", T.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, resolv, strlen(resolv)) < 0 || close(fd) < 0 ||
	    mount(path, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
		_exit(77);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		_exit(77);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		_exit(77);
	close(fd);
}

#define CHILD_CHECK(cond, ...)                                                                    \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, __VA_ARGS__);                                             \
			fputc('\n', stderr);                                                      \
			_exit(1);                                                                 \
		}                                                                                 \
	} while (0)

/* Run fn in a child in namespaces of its own; skip if they cannot be made. */
static void in_child(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The addresses of name, in getaddrinfo's order, as text. */
static int addrs_of(const char *name, char out[][INET6_ADDRSTRLEN], int max)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *a;
	int n = 0;

	if (getaddrinfo(name, "80", &hints, &res) != 0)
		return -1;
	for (a = res; a && n < max; a = a->ai_next)
		getnameinfo(a->ai_addr, a->ai_addrlen, out[n++], INET6_ADDRSTRLEN, NULL, 0,
			    NI_NUMERICHOST);
	freeaddrinfo(res);
	return n;
}

static void child_first_refuses(void)
{
	struct loop *loop;
	struct http *h;
	struct srv s;
	struct result res;
	char addrs[4][INET6_ADDRSTRLEN], u[128];
	struct http_opts o = { .url = u, .timeout_ms = 3000 };
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

	child_ns("::1 multi.test\n127.0.0.1 multi.test\n", "nameserver 127.0.0.1\n");
	CHILD_CHECK(addrs_of("multi.test", addrs, 4) == 2 && !strcmp(addrs[0], "::1") &&
			    !strcmp(addrs[1], "127.0.0.1"),
		    "precondition: multi.test should resolve to ::1, then 127.0.0.1");
	CHILD_CHECK(loop_new(&loop) == 0 && http_new(loop, &h) == 0, "setup");
	T.loop = loop;
	srv_init(&s);
	CHILD_CHECK(listen_on(loop, AF_INET, &s) == 0, "listen"); /* not on ::1 */
	s.resp = ok;
	s.resp_len = sizeof(ok) - 1;
	snprintf(u, sizeof(u), "http://multi.test:%d/", s.port);
	get_opts(loop, h, &o, &res);
	CHILD_CHECK(res.err == 0 && res.status == 200 && !strcmp(res.body, "ok"),
		    "multi.test: err %d (%s), status %ld", res.err, res.errmsg, res.status);
	CHILD_CHECK(s.accepted == 1, "accepted %d", s.accepted);
	/* Nobody listens: every address is tried, the last error reported. */
	srv_free(loop, &s);
	get_opts(loop, h, &o, &res);
	CHILD_CHECK(res.err == -ECONNREFUSED, "all refuse: err %d (%s)", res.err, res.errmsg);
	CHILD_CHECK(!strcmp(res.errmsg, "connecting to multi.test (127.0.0.1): Connection refused"),
		    "all refuse: \"%s\"", res.errmsg);
	http_free(h);
	loop_free(loop);
}

static void test_every_address_tried(void **state)
{
	(void)state;
	in_child(child_first_refuses);
}

static void child_dns_silent(void)
{
	struct loop *loop;
	struct http *h;
	struct result res;
	struct http_opts o = { .url = "http://slow.test:80/", .connect_timeout_ms = 300 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53) };
	int64_t t0, took;
	int dns;

	child_ns("127.0.0.1 localhost\n", "nameserver 127.0.0.1\noptions timeout:3 attempts:1\n");
	/* A DNS server that takes queries and never answers. */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	dns = socket(AF_INET, SOCK_DGRAM, 0);
	CHILD_CHECK(dns >= 0 && bind(dns, (struct sockaddr *)&a, sizeof(a)) == 0, "dns socket");
	CHILD_CHECK(loop_new(&loop) == 0 && http_new(loop, &h) == 0, "setup");
	T.loop = loop;
	T.ticks = 0;
	loop_add_timer(loop, 10, ticker, NULL);
	t0 = clock_now_ms();
	get_opts(loop, h, &o, &res);
	took = clock_now_ms() - t0;
	CHILD_CHECK(res.err == -ETIMEDOUT && !strcmp(res.errmsg, "resolving slow.test timed out"),
		    "err %d (%s) after %lld ms", res.err, res.errmsg, (long long)took);
	CHILD_CHECK(took >= 290 && took < 1500, "took %lld ms", (long long)took);
	/* The loop ran on while the look-up hung. */
	CHILD_CHECK(T.ticks >= 15, "only %d ticks in %lld ms", T.ticks, (long long)took);
	http_free(h);
	loop_free(loop);
}

static void test_resolution_bounded(void **state)
{
	(void)state;
	in_child(child_dns_silent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_injection_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked_split_every_byte_socket, setup, teardown),
		cmocka_unit_test(test_chunked_split_every_pair_parser),
		cmocka_unit_test_setup_teardown(test_content_length_and_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_chunk_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_server_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_server_name, setup, teardown),
		cmocka_unit_test(test_every_address_tried),
		cmocka_unit_test(test_resolution_bounded),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
