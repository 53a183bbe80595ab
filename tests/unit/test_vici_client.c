// SPDX-License-Identifier: Apache-2.0
/*
 * ipsec/vici_client on the real loop: the client holds one end of a
 * socketpair (or a connection to a listening unix socket in a temporary
 * directory) and the test plays charon on the other end, byte by byte:
 * several requests in flight answered in order, CMD_UNKNOWN and
 * EVENT_UNKNOWN, events registered and delivered, list-sas' events before
 * its response, answers dribbled one byte per loop iteration, charon
 * closing with requests pending, oversized and malformed packets, output
 * larger than the socket buffer, and the client freed inside each kind of
 * callback (ASan checks what is touched afterwards).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/loop.h"
#include "ipsec/vici.h"
#include "ipsec/vici_client.h"

#define GUARD_MS 5000
#define MAX_RECS 64

/* What the client's callbacks saw, in order. */
struct rec {
	char kind; /* 'R' reply, 'E' event, 'C' close */
	int tag;   /* replies: the request's tag */
	int status;
	bool has_msg;
	char name[64]; /* events: the name */
	char v[64];    /* the message's key "v", if any */
};

static struct {
	struct loop *loop;
	struct vici_client *c;
	int srv;	/* charon's end */
	struct buf sin; /* what the client sent */
	struct rec recs[MAX_RECS];
	int n;
	int free_at;	/* free the client in the callback that makes n reach this */
	int request_at; /* queue a request from the callback that makes n reach this */
	int request_rc;
	bool guard_fired;
} T;

/* ---- the client's callbacks ---- */

static struct rec *record(char kind, const struct vici_msg *msg)
{
	struct rec *r;

	assert_true(T.n < MAX_RECS);
	r = &T.recs[T.n++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->has_msg = msg != NULL;
	if (msg)
		vici_get_str(vici_msg_root(msg), "v", r->v, sizeof(r->v));
	return r;
}

static vici_reply_cb on_reply;

static void after(struct vici_client *c)
{
	if (T.n == T.request_at)
		T.request_rc = vici_client_command(c, "from-callback", on_reply, (void *)99);
	if (T.n == T.free_at) {
		vici_client_free(c);
		T.c = NULL;
	}
}

static void on_reply(struct vici_client *c, int status, const struct vici_msg *reply, void *arg)
{
	struct rec *r = record('R', reply);

	assert_ptr_equal(c, T.c);
	r->tag = (int)(intptr_t)arg;
	r->status = status;
	after(c);
}

static void on_event(struct vici_client *c, const char *name, const struct vici_msg *msg, void *arg)
{
	struct rec *r = record('E', msg);

	assert_ptr_equal(c, T.c);
	assert_ptr_equal(arg, &T);
	snprintf(r->name, sizeof(r->name), "%s", name);
	after(c);
}

static void on_close(struct vici_client *c, int error, void *arg)
{
	struct rec *r = record('C', NULL);

	assert_ptr_equal(c, T.c);
	assert_ptr_equal(arg, &T);
	r->status = error;
	after(c);
}

static const struct vici_client_cbs cbs = {.event = on_event, .close = on_close, .arg = &T};

/* ---- the loop ---- */

static int64_t guard(struct loop *loop, int64_t id, void *arg)
{
	(void)id;
	(void)arg;
	T.guard_fired = true;
	loop_stop(loop);
	return LOOP_TIMER_STOP;
}

static int64_t stopper(struct loop *loop, int64_t id, void *arg)
{
	(void)id;
	(void)arg;
	loop_stop(loop);
	return LOOP_TIMER_STOP;
}

/* One loop iteration: whatever is ready now is handled. */
static void spin(void)
{
	loop_add_timer(T.loop, 0, stopper, NULL);
	assert_int_equal(loop_run(T.loop), 0);
}

/* Read what the client wrote so far into T.sin. */
static void srv_drain(void)
{
	char b[65536];
	ssize_t n;

	while ((n = recv(T.srv, b, sizeof(b), MSG_DONTWAIT)) > 0)
		assert_int_equal(buf_append(&T.sin, b, (size_t)n), 0);
}

/* Whole frames in T.sin. */
static int srv_frames(void)
{
	size_t off = 0, total;
	int n = 0;

	while (vici_frame(T.sin.data + off, T.sin.len - off, &total) == 1) {
		off += total;
		n++;
	}
	return n;
}

/* Spin until cond holds (the server's input drained each time). */
static void run_until(bool (*cond)(void))
{
	int64_t g;

	T.guard_fired = false;
	g = loop_add_timer(T.loop, GUARD_MS, guard, NULL);
	while (!T.guard_fired) {
		srv_drain();
		if (cond())
			break;
		loop_add_timer(T.loop, 1, stopper, NULL);
		assert_int_equal(loop_run(T.loop), 0);
	}
	loop_del_timer(T.loop, g);
	assert_false(T.guard_fired);
}

static int want_frames, want_recs;

static bool have_frames(void)
{
	return srv_frames() >= want_frames;
}

static bool have_recs(void)
{
	return T.n >= want_recs;
}

static void wait_frames(int n)
{
	want_frames = n;
	run_until(have_frames);
	assert_int_equal(srv_frames(), n);
}

static void wait_recs(int n)
{
	want_recs = n;
	run_until(have_recs);
	assert_int_equal(T.n, n);
}

/* ---- charon's side ---- */

/* Never blocks: the client reads only while the loop runs. */
static void srv_write(const void *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(T.srv, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EAGAIN) {
			spin();
			continue;
		}
		assert_true(w > 0);
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

/* A packet of type (name for named types) with key "v" = v when v is set. */
static void srv_packet(struct buf *out, enum vici_type type, const char *name, const char *v)
{
	struct vici_builder b;

	vici_build_begin(&b, out, type, name);
	if (v)
		vici_build_str(&b, "v", v);
	assert_int_equal(vici_build_finish(&b), 0);
}

static void srv_send(enum vici_type type, const char *name, const char *v)
{
	struct buf out;

	buf_init(&out, 1024);
	srv_packet(&out, type, name, v);
	srv_write(out.data, out.len);
	buf_free(&out);
}

/* The n-th frame the client sent, parsed. */
static void srv_frame(int n, struct vici_packet *p)
{
	size_t off = 0, total = 0;

	for (int i = 0; i <= n; i++) {
		assert_int_equal(vici_frame(T.sin.data + off, T.sin.len - off, &total), 1);
		if (i < n)
			off += total;
	}
	assert_int_equal(vici_packet_parse(T.sin.data + off + 4, total - 4, p, NULL), 0);
}

static void assert_rec(int i, char kind, int tag, int status, const char *name, const char *v)
{
	struct rec *r = &T.recs[i];

	assert_true(i < T.n);
	if (r->kind != kind || r->status != status || (kind == 'R' && r->tag != tag) ||
	    strcmp(r->name, name ? name : "") || strcmp(r->v, v ? v : ""))
		fail_msg(
			"record %d: %c tag %d status %d name \"%s\" v \"%s\"; want %c %d %d \"%s\" "
			"\"%s\"",
			i, r->kind, r->tag, r->status, r->name, r->v, kind, tag, status,
			name ? name : "", v ? v : "");
}

#define TAG(n) ((void *)(intptr_t)(n))

/* A command with one key, as the backend sends load-conn and friends. */
static int command_v(const char *cmd, const char *v, int tag)
{
	struct vici_builder b;
	struct buf out;
	int r;

	buf_init(&out, 1024);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, cmd);
	vici_build_str(&b, "v", v);
	r = vici_build_finish(&b);
	if (!r)
		r = vici_client_request(T.c, out.data, out.len, on_reply, TAG(tag));
	buf_free(&out);
	return r;
}

static int setup(void **state)
{
	int sv[2];

	(void)state;
	memset(&T, 0, sizeof(T));
	T.free_at = T.request_at = -1;
	assert_int_equal(loop_new(&T.loop), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	T.srv = sv[1];
	assert_int_equal(vici_client_adopt(T.loop, sv[0], &cbs, &T.c), 0);
	buf_init(&T.sin, 8 << 20);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vici_client_free(T.c);
	if (T.srv >= 0)
		close(T.srv);
	buf_free(&T.sin);
	loop_free(T.loop);
	return 0;
}

/* ---- tests ---- */

static void test_requests_in_order(void **state)
{
	struct vici_packet p;
	struct buf out;

	(void)state;
	assert_int_equal(vici_client_oldest_ms(T.c), -1);
	assert_int_equal(command_v("load-conn", "one", 1), 0);
	assert_int_equal(vici_client_command(T.c, "version", on_reply, TAG(2)), 0);
	assert_int_equal(vici_client_register(T.c, "ike-updown", true, on_reply, TAG(3)), 0);
	assert_int_equal(vici_client_register(T.c, "ike-updown", false, on_reply, TAG(4)), 0);
	assert_int_equal(vici_client_pending(T.c), 4);
	assert_true(vici_client_oldest_ms(T.c) >= 0);
	/* Nothing is written from inside the calls: the loop does it. */
	srv_drain();
	assert_int_equal(T.sin.len, 0);
	wait_frames(4);

	srv_frame(0, &p);
	assert_int_equal(p.type, VICI_CMD_REQUEST);
	assert_string_equal(p.name, "load-conn");
	vici_packet_clear(&p);
	srv_frame(1, &p);
	assert_string_equal(p.name, "version");
	vici_packet_clear(&p);
	srv_frame(2, &p);
	assert_int_equal(p.type, VICI_EVENT_REGISTER);
	assert_string_equal(p.name, "ike-updown");
	vici_packet_clear(&p);
	srv_frame(3, &p);
	assert_int_equal(p.type, VICI_EVENT_UNREGISTER);
	vici_packet_clear(&p);

	/* All answers in one write: delivered in order, each to its request. */
	buf_init(&out, 4096);
	srv_packet(&out, VICI_CMD_RESPONSE, NULL, "loaded");
	srv_packet(&out, VICI_CMD_RESPONSE, NULL, "5.9.8");
	srv_packet(&out, VICI_EVENT_CONFIRM, NULL, NULL);
	srv_packet(&out, VICI_EVENT_CONFIRM, NULL, NULL);
	srv_write(out.data, out.len);
	buf_free(&out);
	wait_recs(4);
	assert_rec(0, 'R', 1, 0, NULL, "loaded");
	assert_true(T.recs[0].has_msg);
	assert_rec(1, 'R', 2, 0, NULL, "5.9.8");
	assert_rec(2, 'R', 3, 0, NULL, NULL);
	assert_false(T.recs[2].has_msg);
	assert_rec(3, 'R', 4, 0, NULL, NULL);
	assert_int_equal(vici_client_pending(T.c), 0);
	assert_int_equal(vici_client_oldest_ms(T.c), -1);
	assert_int_equal(vici_client_error(T.c, NULL), 0);
}

/* A request queued from inside a callback goes out like any other. */
static void test_request_from_callback(void **state)
{
	struct vici_packet p;

	(void)state;
	T.request_at = 1;
	assert_int_equal(vici_client_command(T.c, "version", on_reply, TAG(1)), 0);
	wait_frames(1);
	srv_send(VICI_CMD_RESPONSE, NULL, NULL);
	wait_recs(1);
	assert_int_equal(T.request_rc, 0);
	assert_int_equal(vici_client_pending(T.c), 1);
	wait_frames(2);
	srv_frame(1, &p);
	assert_string_equal(p.name, "from-callback");
	vici_packet_clear(&p);
	srv_send(VICI_CMD_RESPONSE, NULL, "cb");
	wait_recs(2);
	assert_rec(0, 'R', 1, 0, NULL, NULL);
	assert_rec(1, 'R', 99, 0, NULL, "cb");
}

static void test_unknown(void **state)
{
	(void)state;
	assert_int_equal(vici_client_command(T.c, "no-such-command", on_reply, TAG(1)), 0);
	assert_int_equal(vici_client_register(T.c, "no-such-event", true, on_reply, TAG(2)), 0);
	assert_int_equal(vici_client_command(T.c, "version", on_reply, TAG(3)), 0);
	wait_frames(3);
	srv_send(VICI_CMD_UNKNOWN, NULL, NULL);
	srv_send(VICI_EVENT_UNKNOWN, NULL, NULL);
	srv_send(VICI_CMD_RESPONSE, NULL, "still here");
	wait_recs(3);
	assert_rec(0, 'R', 1, -ENOENT, NULL, NULL);
	assert_false(T.recs[0].has_msg);
	assert_rec(1, 'R', 2, -ENOENT, NULL, NULL);
	assert_rec(2, 'R', 3, 0, NULL, "still here");
	assert_int_equal(vici_client_error(T.c, NULL), 0);
}

static void test_events(void **state)
{
	(void)state;
	assert_int_equal(vici_client_register(T.c, "ike-updown", true, on_reply, TAG(1)), 0);
	wait_frames(1);
	srv_send(VICI_EVENT_CONFIRM, NULL, NULL);
	wait_recs(1);
	/* Events at any time, with nothing pending. */
	srv_send(VICI_EVENT, "ike-updown", "up");
	srv_send(VICI_EVENT, "child-updown", "down");
	wait_recs(3);
	assert_rec(0, 'R', 1, 0, NULL, NULL);
	assert_rec(1, 'E', 0, 0, "ike-updown", "up");
	assert_true(T.recs[1].has_msg);
	assert_rec(2, 'E', 0, 0, "child-updown", "down");
	/* And in the middle of a command. */
	assert_int_equal(vici_client_command(T.c, "initiate", on_reply, TAG(2)), 0);
	wait_frames(2);
	srv_send(VICI_EVENT, "log", "one");
	srv_send(VICI_CMD_RESPONSE, NULL, "done");
	wait_recs(5);
	assert_rec(3, 'E', 0, 0, "log", "one");
	assert_rec(4, 'R', 2, 0, NULL, "done");
}

/* list-sas: register list-sa, the command, its events, its response. */
static void test_list_sas_stream(void **state)
{
	struct buf out;

	(void)state;
	assert_int_equal(vici_client_register(T.c, "list-sa", true, on_reply, TAG(1)), 0);
	assert_int_equal(vici_client_command(T.c, "list-sas", on_reply, TAG(2)), 0);
	assert_int_equal(vici_client_register(T.c, "list-sa", false, on_reply, TAG(3)), 0);
	wait_frames(3);
	buf_init(&out, 4096);
	srv_packet(&out, VICI_EVENT_CONFIRM, NULL, NULL);
	srv_packet(&out, VICI_EVENT, "list-sa", "sa-1");
	srv_packet(&out, VICI_EVENT, "list-sa", "sa-2");
	srv_packet(&out, VICI_EVENT, "list-sa", "sa-3");
	srv_packet(&out, VICI_CMD_RESPONSE, NULL, NULL);
	srv_packet(&out, VICI_EVENT_CONFIRM, NULL, NULL);
	srv_write(out.data, out.len);
	buf_free(&out);
	wait_recs(6);
	assert_rec(0, 'R', 1, 0, NULL, NULL);
	assert_rec(1, 'E', 0, 0, "list-sa", "sa-1");
	assert_rec(2, 'E', 0, 0, "list-sa", "sa-2");
	assert_rec(3, 'E', 0, 0, "list-sa", "sa-3");
	assert_rec(4, 'R', 2, 0, NULL, NULL);
	assert_true(T.recs[4].has_msg); /* an empty message */
	assert_rec(5, 'R', 3, 0, NULL, NULL);
}

/* An event and a response written one byte per loop iteration. */
static void test_one_byte_writes(void **state)
{
	struct buf out;
	size_t first;

	(void)state;
	assert_int_equal(vici_client_command(T.c, "list-sas", on_reply, TAG(1)), 0);
	wait_frames(1);
	buf_init(&out, 4096);
	srv_packet(&out, VICI_EVENT, "list-sa", "dribbled");
	first = out.len;
	srv_packet(&out, VICI_CMD_RESPONSE, NULL, "last");
	for (size_t i = 0; i < out.len; i++) {
		srv_write(out.data + i, 1);
		spin();
		if (T.n != (i + 1 < first ? 0 : i + 1 < out.len ? 1 : 2))
			fail_msg("after byte %zu of %zu: %d callbacks", i + 1, out.len, T.n);
	}
	buf_free(&out);
	assert_int_equal(T.n, 2);
	assert_rec(0, 'E', 0, 0, "list-sa", "dribbled");
	assert_rec(1, 'R', 1, 0, NULL, "last");
	assert_int_equal(vici_client_error(T.c, NULL), 0);
}

static void queue_three(void)
{
	assert_int_equal(command_v("load-conn", "x", 1), 0);
	assert_int_equal(vici_client_register(T.c, "log", true, on_reply, TAG(2)), 0);
	assert_int_equal(vici_client_command(T.c, "list-sas", on_reply, TAG(3)), 0);
	wait_frames(3);
}

/* charon goes away: each pending callback once, in order, then close. */
static void test_peer_close(void **state)
{
	const char *msg;

	(void)state;
	queue_three();
	/* Half a response first: lost with the connection. */
	srv_write("\0\0\0\x10\x01", 5);
	close(T.srv);
	T.srv = -1;
	wait_recs(4);
	assert_rec(0, 'R', 1, -ECONNRESET, NULL, NULL);
	assert_false(T.recs[0].has_msg);
	assert_rec(1, 'R', 2, -ECONNRESET, NULL, NULL);
	assert_rec(2, 'R', 3, -ECONNRESET, NULL, NULL);
	assert_int_equal(T.recs[3].kind, 'C');
	assert_int_equal(T.recs[3].status, -ECONNRESET);
	assert_int_equal(vici_client_error(T.c, &msg), -ECONNRESET);
	assert_string_equal(msg, "charon closed the connection");
	assert_int_equal(vici_client_pending(T.c), 0);
	assert_int_equal(vici_client_oldest_ms(T.c), -1);
	/* Shut for good: requests fail at once, no callback. */
	assert_int_equal(vici_client_command(T.c, "version", on_reply, TAG(9)), -ENOTCONN);
	spin();
	assert_int_equal(T.n, 4);
}

static void test_oversized_prefix(void **state)
{
	const char *msg;

	(void)state;
	queue_three();
	/* 512 KiB + 1 announced: refused before anything is buffered. */
	srv_write("\x00\x08\x00\x01", 4);
	wait_recs(4);
	for (int i = 0; i < 3; i++)
		assert_rec(i, 'R', i + 1, -EMSGSIZE, NULL, NULL);
	assert_int_equal(T.recs[3].kind, 'C');
	assert_int_equal(T.recs[3].status, -EMSGSIZE);
	assert_int_equal(vici_client_error(T.c, &msg), -EMSGSIZE);
	assert_non_null(strstr(msg, "over 524288 bytes"));
}

/* Exactly VICI_MAX_PACKET is accepted. */
static void test_largest_packet(void **state)
{
	struct vici_builder b;
	struct buf out;
	char *big = calloc(1, VICI_MAX_VALUE);
	size_t room;

	(void)state;
	assert_int_equal(vici_client_command(T.c, "list-sas", on_reply, TAG(1)), 0);
	wait_frames(1);
	buf_init(&out, 2 * VICI_MAX_PACKET);
	vici_build_begin(&b, &out, VICI_CMD_RESPONSE, NULL);
	vici_build_str(&b, "v", "big");
	while ((room = VICI_MAX_PACKET - (out.len - 4)) >= 5 + VICI_MAX_VALUE)
		vici_build_kv(&b, "k", big, VICI_MAX_VALUE);
	vici_build_kv(&b, "k", big, room - 5);
	assert_int_equal(vici_build_finish(&b), 0);
	assert_int_equal(out.len, 4 + VICI_MAX_PACKET);
	srv_write(out.data, out.len);
	wait_recs(1);
	assert_rec(0, 'R', 1, 0, NULL, "big");
	buf_free(&out);
	free(big);
}

static void expect_shut(const void *bytes, size_t len, int code, const char *want)
{
	const char *msg;

	queue_three();
	srv_write(bytes, len);
	wait_recs(4);
	for (int i = 0; i < 3; i++)
		assert_rec(i, 'R', i + 1, code, NULL, NULL);
	assert_int_equal(T.recs[3].kind, 'C');
	assert_int_equal(T.recs[3].status, code);
	assert_int_equal(vici_client_error(T.c, &msg), code);
	if (!strstr(msg, want))
		fail_msg("\"%s\", want \"%s\"", msg, want);
}

static void test_malformed_element(void **state)
{
	(void)state;
	/* A CMD_RESPONSE whose message has element type 9. */
	expect_shut("\0\0\0\x02\x01\x09", 6, -EBADMSG,
		    "CMD_RESPONSE packet: byte 1: unknown element type 9");
}

static void test_zero_length(void **state)
{
	(void)state;
	expect_shut("\0\0\0\0", 4, -EBADMSG, "empty packet");
}

static void test_unknown_packet_type(void **state)
{
	(void)state;
	expect_shut("\0\0\0\x01\x08", 5, -EBADMSG, "unknown packet type 8");
}

static void test_answer_of_wrong_kind(void **state)
{
	(void)state;
	/* The first request is a command: EVENT_CONFIRM cannot answer it. */
	expect_shut("\0\0\0\x01\x05", 5, -EBADMSG, "request of the other kind");
}

static void test_request_from_charon(void **state)
{
	(void)state;
	expect_shut("\0\0\0\x03\x00\x01x", 7, -EBADMSG, "charon sent a request");
}

static void test_answer_without_request(void **state)
{
	const char *msg;

	(void)state;
	srv_send(VICI_CMD_RESPONSE, NULL, NULL);
	wait_recs(1);
	assert_int_equal(T.recs[0].kind, 'C');
	assert_int_equal(T.recs[0].status, -EBADMSG);
	vici_client_error(T.c, &msg);
	assert_non_null(strstr(msg, "no request waiting"));
}

/* ---- freeing the client inside its callbacks ---- */

static void test_free_in_reply(void **state)
{
	struct buf out;

	(void)state;
	queue_three();
	/* All three answers and an event arrive in one read; the client is
	 * freed by the first callback: nothing else is delivered. */
	T.free_at = 1;
	buf_init(&out, 4096);
	srv_packet(&out, VICI_CMD_RESPONSE, NULL, "1");
	srv_packet(&out, VICI_EVENT_CONFIRM, NULL, NULL);
	srv_packet(&out, VICI_EVENT, "log", "x");
	srv_packet(&out, VICI_CMD_RESPONSE, NULL, "3");
	srv_write(out.data, out.len);
	buf_free(&out);
	wait_recs(1);
	assert_null(T.c);
	spin();
	spin();
	assert_int_equal(T.n, 1);
	assert_rec(0, 'R', 1, 0, NULL, "1");
	/* Our end sees the close. */
	{
		char b[64];

		while (recv(T.srv, b, sizeof(b), MSG_DONTWAIT) > 0)
			;
		assert_int_equal(recv(T.srv, b, sizeof(b), MSG_DONTWAIT), 0);
	}
}

static void test_free_in_event(void **state)
{
	(void)state;
	queue_three();
	T.free_at = 1;
	srv_send(VICI_EVENT, "log", "bye");
	srv_send(VICI_CMD_RESPONSE, NULL, NULL);
	wait_recs(1);
	assert_null(T.c);
	spin();
	assert_int_equal(T.n, 1);
	assert_rec(0, 'E', 0, 0, "log", "bye");
}

static void test_free_in_failure(void **state)
{
	(void)state;
	queue_three();
	/* Freed by the first of the failing callbacks: the others and close
	 * are not called. */
	T.free_at = 1;
	close(T.srv);
	T.srv = -1;
	wait_recs(1);
	assert_null(T.c);
	spin();
	assert_int_equal(T.n, 1);
	assert_rec(0, 'R', 1, -ECONNRESET, NULL, NULL);
}

static void test_free_in_close(void **state)
{
	(void)state;
	queue_three();
	T.free_at = 4;
	srv_write("\xff\xff\xff\xff", 4);
	wait_recs(4);
	assert_null(T.c);
	assert_int_equal(T.recs[3].kind, 'C');
	spin();
	assert_int_equal(T.n, 4);
}

/* ---- output ---- */

/* More than the socket buffer holds: the loop never blocks, LOOP_WRITE
 * carries the rest as charon reads. */
static void test_large_output(void **state)
{
	struct vici_builder b;
	struct buf out;
	char *big = malloc(VICI_MAX_VALUE);
	int sndbuf = 4096;
	size_t want = 0;

	(void)state;
	setsockopt(T.srv, SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof(sndbuf));
	buf_init(&out, 4 * (4 + VICI_MAX_PACKET));
	for (int i = 0; i < 3; i++) {
		size_t start = out.len;

		memset(big, 'a' + i, VICI_MAX_VALUE);
		vici_build_begin(&b, &out, VICI_CMD_REQUEST, "load-conn");
		for (int k = 0; k < 7; k++)
			vici_build_kv(&b, "k", big, VICI_MAX_VALUE);
		assert_int_equal(vici_build_finish(&b), 0);
		assert_int_equal(vici_client_request(T.c, out.data + start, out.len - start,
						     on_reply, TAG(i + 1)),
				 0);
		want += out.len - start;
	}
	/* A fourth and fifth fit the output bound only while it drains. */
	assert_int_equal(vici_client_request(T.c, out.data, out.len / 3, on_reply, TAG(4)), 0);
	assert_int_equal(vici_client_request(T.c, out.data, out.len / 3, on_reply, TAG(5)),
			 -ENOBUFS);
	want += out.len / 3;
	/* Nobody reads: iterations return at once. */
	for (int i = 0; i < 5; i++)
		spin();
	wait_frames(4);
	assert_int_equal(T.sin.len, want);
	assert_memory_equal(T.sin.data, out.data, out.len);
	assert_memory_equal(T.sin.data + out.len, out.data, out.len / 3);
	assert_int_equal(vici_client_pending(T.c), 4);
	/* Drained: another request fits again. */
	assert_int_equal(vici_client_request(T.c, out.data, out.len / 3, on_reply, TAG(5)), 0);
	buf_free(&out);
	free(big);
}

static void test_request_checks(void **state)
{
	struct buf out;

	(void)state;
	buf_init(&out, 4096);
	/* Not a request. */
	srv_packet(&out, VICI_CMD_RESPONSE, NULL, NULL);
	assert_int_equal(vici_client_request(T.c, out.data, out.len, on_reply, NULL), -EINVAL);
	buf_reset(&out);
	srv_packet(&out, VICI_EVENT, "log", NULL);
	assert_int_equal(vici_client_request(T.c, out.data, out.len, on_reply, NULL), -EINVAL);
	/* Two packets, or half of one. */
	buf_reset(&out);
	srv_packet(&out, VICI_CMD_REQUEST, "version", NULL);
	srv_packet(&out, VICI_CMD_REQUEST, "version", NULL);
	assert_int_equal(vici_client_request(T.c, out.data, out.len, on_reply, NULL), -EINVAL);
	assert_int_equal(vici_client_request(T.c, out.data, out.len / 2 - 1, on_reply, NULL),
			 -EINVAL);
	/* A message charon would drop unanswered. */
	assert_int_equal(vici_client_request(T.c, "\0\0\0\x04\x00\x01x\x02", 8, on_reply, NULL),
			 -EINVAL);
	assert_int_equal(vici_client_request(T.c, "\0\0\0\x02\x00\x01", 6, on_reply, NULL),
			 -EINVAL);
	/* No callback; bad names through the conveniences. */
	assert_int_equal(vici_client_request(T.c, out.data, out.len / 2, NULL, NULL), -EINVAL);
	assert_int_equal(vici_client_command(T.c, "", on_reply, NULL), -EINVAL);
	assert_int_equal(vici_client_register(T.c, "a\tb", true, on_reply, NULL), -EINVAL);
	assert_int_equal(vici_client_pending(T.c), 0);
	/* The pending bound. */
	for (int i = 0; i < VICI_CLIENT_MAX_PENDING; i++)
		assert_int_equal(vici_client_command(T.c, "version", on_reply, TAG(i)), 0);
	assert_int_equal(vici_client_command(T.c, "version", on_reply, NULL), -ENOBUFS);
	assert_int_equal(vici_client_pending(T.c), VICI_CLIENT_MAX_PENDING);
	buf_free(&out);
}

/* The age of the oldest request, for declaring charon hung. */
static void test_oldest_age(void **state)
{
	struct timespec ts = {0, 60 * 1000000L};
	int64_t age, t2;

	(void)state;
	assert_int_equal(vici_client_command(T.c, "stats", on_reply, TAG(1)), 0);
	nanosleep(&ts, NULL);
	t2 = clock_now_ms();
	assert_int_equal(vici_client_command(T.c, "version", on_reply, TAG(2)), 0);
	age = vici_client_oldest_ms(T.c);
	assert_true(age >= 60 && age < 2000);
	wait_frames(2);
	srv_send(VICI_CMD_RESPONSE, NULL, NULL);
	wait_recs(1);
	/* The oldest is now the second, queued at t2 or later. */
	age = vici_client_oldest_ms(T.c);
	assert_true(age >= 0 && age <= clock_now_ms() - t2);
	srv_send(VICI_CMD_RESPONSE, NULL, NULL);
	wait_recs(2);
	assert_int_equal(vici_client_oldest_ms(T.c), -1);
}

/* ---- connecting by path ---- */

static void test_connect(void **state)
{
	char dir[] = "/tmp/weft-vici.XXXXXX", path[64], longpath[200];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vici_client *c = NULL;
	int lfd, afd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/charon.vici", dir);
	/* Not there yet. */
	assert_int_equal(vici_client_connect(T.loop, path, &cbs, &c), -ENOENT);
	assert_null(c);
	/* There, but nobody listening. */
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(vici_client_connect(T.loop, path, &cbs, &c), -ECONNREFUSED);
	assert_null(c);
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(vici_client_connect(T.loop, longpath, &cbs, &c), -ENAMETOOLONG);
	assert_int_equal(vici_client_connect(T.loop, "", &cbs, &c), -EINVAL);
	/* Listening: connected at once; a version exchange through it. */
	assert_int_equal(listen(lfd, 4), 0);
	vici_client_free(T.c);
	close(T.srv);
	assert_int_equal(vici_client_connect(T.loop, path, &cbs, &T.c), 0);
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(afd >= 0);
	T.srv = afd;
	assert_int_equal(vici_client_command(T.c, "version", on_reply, TAG(1)), 0);
	wait_frames(1);
	srv_send(VICI_CMD_RESPONSE, NULL, "5.9.8");
	wait_recs(1);
	assert_rec(0, 'R', 1, 0, NULL, "5.9.8");
	close(lfd);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_requests_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_from_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_sas_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_byte_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_largest_packet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_element, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_packet_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_of_wrong_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_from_charon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_without_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_in_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_in_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_in_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_in_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oldest_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
