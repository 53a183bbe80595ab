// SPDX-License-Identifier: Apache-2.0
/*
 * The VICI client (vici_client.h). One non-blocking stream socket on the
 * loop: LOOP_READ always, LOOP_WRITE only while output waits. Input is
 * gathered in a buffer bounded by the largest frame charon may send; a
 * length prefix over it shuts the connection before anything is buffered.
 *
 * Re-entrancy: callbacks run only from the fd handler, which counts itself
 * busy; vici_client_free from inside a callback closes the socket at once
 * and leaves the freeing to the handler's end, and every step after a
 * callback checks whether the client was freed or shut meanwhile.
 */
#include "ipsec/vici_client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "ipsec/vici.h"

/* Queued output at most: a few packets of the largest size. */
#define VICI_CLIENT_MAX_OUT (4 * (4 + VICI_MAX_PACKET))
/* Reads per wake-up, so that a chatty charon cannot starve the loop. */
#define READS_PER_WAKE 16
#define READ_CHUNK 16384

struct pending {
	vici_reply_cb *cb;
	void *arg;
	int64_t queued_ms;
	bool event; /* (un)registration, answered by EVENT_CONFIRM/UNKNOWN */
};

struct vici_client {
	struct loop *loop;
	int fd;
	struct vici_client_cbs cbs;
	struct buf in;
	struct buf out;
	size_t out_off; /* written so far */
	bool writing;	/* LOOP_WRITE registered */
	/* Requests waiting for an answer: a ring of VICI_CLIENT_MAX_PENDING. */
	struct pending *q;
	size_t q_head, q_len;
	int error; /* set once the connection is shut */
	struct err err;
	unsigned busy; /* the fd handler is running */
	bool freed;    /* free once it is not */
};

static void disconnect(struct vici_client *c)
{
	if (c->fd < 0)
		return;
	loop_del_fd(c->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->writing = false;
}

static void destroy(struct vici_client *c)
{
	disconnect(c);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c->q);
	free(c);
}

static struct pending pop(struct vici_client *c)
{
	struct pending p = c->q[c->q_head];

	c->q_head = (c->q_head + 1) % VICI_CLIENT_MAX_PENDING;
	c->q_len--;
	return p;
}

/* Shut the connection for error: every pending callback once, then close. */
static void shut(struct vici_client *c, int error)
{
	if (c->error)
		return;
	c->error = error;
	disconnect(c);
	buf_free(&c->in);
	buf_free(&c->out);
	c->out_off = 0;
	while (c->q_len && !c->freed) {
		struct pending p = pop(c);

		p.cb(c, error, NULL, p.arg);
	}
	if (!c->freed && c->cbs.close)
		c->cbs.close(c, error, c->cbs.arg);
}

static void flush(struct vici_client *c)
{
	while (c->out.len > c->out_off) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			int e = errno == EPIPE ? ECONNRESET : errno;

			if (e == EINTR)
				continue;
			if (e == EAGAIN || e == EWOULDBLOCK)
				return;
			err_set(&c->err, -e, "writing to charon: %s", strerror(e));
			shut(c, -e);
			return;
		}
		c->out_off += (size_t)n;
	}
	buf_reset(&c->out);
	c->out_off = 0;
	if (c->writing && loop_mod_fd(c->loop, c->fd, LOOP_READ) == 0)
		c->writing = false;
}

/* One packet from charon. A negative return shuts the connection. */
static int dispatch(struct vici_client *c, const char *data, size_t len)
{
	struct vici_packet pkt;
	struct pending p;
	bool answer_to_event;
	int r, status;

	r = vici_packet_parse(data, len, &pkt, &c->err);
	if (r)
		return r;
	switch (pkt.type) {
	case VICI_EVENT:
		if (c->cbs.event)
			c->cbs.event(c, pkt.name, pkt.msg, c->cbs.arg);
		goto out;
	case VICI_CMD_RESPONSE:
	case VICI_CMD_UNKNOWN:
		answer_to_event = false;
		break;
	case VICI_EVENT_CONFIRM:
	case VICI_EVENT_UNKNOWN:
		answer_to_event = true;
		break;
	default:
		r = err_set(&c->err, -EBADMSG, "charon sent a request (packet type %u)",
			    (unsigned)pkt.type);
		goto out;
	}
	if (!c->q_len) {
		r = err_set(&c->err, -EBADMSG, "answer (packet type %u) with no request waiting",
			    (unsigned)pkt.type);
		goto out;
	}
	if (c->q[c->q_head].event != answer_to_event) {
		r = err_set(&c->err, -EBADMSG,
			    "answer (packet type %u) to a request of the other kind",
			    (unsigned)pkt.type);
		goto out;
	}
	p = pop(c);
	status = pkt.type == VICI_CMD_RESPONSE || pkt.type == VICI_EVENT_CONFIRM ? 0 : -ENOENT;
	p.cb(c, status, pkt.msg, p.arg);
out:
	vici_packet_clear(&pkt);
	return r;
}

/* Every whole frame in the input buffer. */
static void process(struct vici_client *c)
{
	size_t off = 0;

	while (!c->error && !c->freed) {
		size_t total;
		int r = vici_frame(c->in.data + off, c->in.len - off, &total);

		if (r == 0)
			break;
		if (r == -EMSGSIZE)
			err_set(&c->err, r, "charon announced a packet over %d bytes",
				VICI_MAX_PACKET);
		else if (r < 0)
			err_set(&c->err, r, "charon sent an empty packet");
		if (r >= 0) {
			r = dispatch(c, c->in.data + off + 4, total - 4);
			off += total;
		}
		if (r < 0) {
			shut(c, r);
			return;
		}
	}
	if (!c->error && !c->freed)
		buf_consume(&c->in, off);
}

static void read_some(struct vici_client *c)
{
	char chunk[READ_CHUNK];

	for (int i = 0; i < READS_PER_WAKE && !c->error && !c->freed; i++) {
		size_t room = c->in.max - c->in.len;
		ssize_t n;

		if (room == 0) { /* cannot happen: a whole frame fits */
			err_set(&c->err, -EMSGSIZE, "input buffer full");
			shut(c, -EMSGSIZE);
			return;
		}
		n = recv(c->fd, chunk, room < sizeof(chunk) ? room : sizeof(chunk), MSG_DONTWAIT);
		if (n == 0) {
			err_set(&c->err, -ECONNRESET, "charon closed the connection");
			shut(c, -ECONNRESET);
			return;
		}
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			if (e == EAGAIN || e == EWOULDBLOCK)
				return;
			err_set(&c->err, -e, "reading from charon: %s", strerror(e));
			shut(c, -e);
			return;
		}
		buf_append(&c->in, chunk, (size_t)n); /* fits: n <= room */
		process(c);
	}
}

static void on_io(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct vici_client *c = arg;

	(void)loop;
	(void)fd;
	c->busy++;
	if ((events & LOOP_WRITE) && c->fd >= 0 && !c->freed)
		flush(c);
	if ((events & LOOP_READ) && c->fd >= 0 && !c->freed)
		read_some(c);
	c->busy--;
	if (c->freed && !c->busy)
		destroy(c);
}

int vici_client_adopt(struct loop *loop, int fd, const struct vici_client_cbs *cbs,
		      struct vici_client **ret)
{
	struct vici_client *c;
	int fl, r;

	*ret = NULL;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	c = xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->fd = fd;
	if (cbs)
		c->cbs = *cbs;
	buf_init(&c->in, 4 + VICI_MAX_PACKET);
	buf_init(&c->out, VICI_CLIENT_MAX_OUT);
	c->q = xcalloc(VICI_CLIENT_MAX_PENDING, sizeof(*c->q));
	r = loop_add_fd(loop, fd, LOOP_READ, on_io, c);
	if (r < 0) {
		destroy(c);
		return r;
	}
	*ret = c;
	return 0;
}

int vici_client_connect(struct loop *loop, const char *path, const struct vici_client_cbs *cbs,
			struct vici_client **ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(path);
	int fd, r;

	*ret = NULL;
	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, n);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A unix socket connects or fails at once (-EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return vici_client_adopt(loop, fd, cbs, ret);
}

void vici_client_free(struct vici_client *c)
{
	if (!c)
		return;
	if (c->busy) {
		/* Inside a callback: no more I/O, freed when the handler unwinds. */
		disconnect(c);
		c->freed = true;
		return;
	}
	destroy(c);
}

int vici_client_request(struct vici_client *c, const void *pkt, size_t len, vici_reply_cb *cb,
			void *arg)
{
	struct vici_packet parsed;
	size_t total;
	uint8_t type;
	int r;

	if (!cb || vici_frame(pkt, len, &total) != 1 || total != len)
		return -EINVAL;
	type = ((const uint8_t *)pkt)[4];
	if (type != VICI_CMD_REQUEST && type != VICI_EVENT_REGISTER &&
	    type != VICI_EVENT_UNREGISTER)
		return -EINVAL;
	/* charon drops a malformed request unanswered: never send one. */
	r = vici_packet_parse((const char *)pkt + 4, len - 4, &parsed, NULL);
	vici_packet_clear(&parsed);
	if (r)
		return -EINVAL;
	if (c->error || c->freed || c->fd < 0)
		return -ENOTCONN;
	if (c->q_len >= VICI_CLIENT_MAX_PENDING)
		return -ENOBUFS;
	if (c->out_off) {
		buf_consume(&c->out, c->out_off);
		c->out_off = 0;
	}
	if (buf_append(&c->out, pkt, len) < 0)
		return -ENOBUFS;
	if (!c->writing) {
		r = loop_mod_fd(c->loop, c->fd, LOOP_READ | LOOP_WRITE);
		if (r < 0) {
			c->out.len -= len;
			c->out.data[c->out.len] = '\0';
			return r;
		}
		c->writing = true;
	}
	c->q[(c->q_head + c->q_len) % VICI_CLIENT_MAX_PENDING] = (struct pending){
		.cb = cb,
		.arg = arg,
		.queued_ms = clock_now_ms(),
		.event = type != VICI_CMD_REQUEST,
	};
	c->q_len++;
	return 0;
}

static int simple(struct vici_client *c, enum vici_type type, const char *name, vici_reply_cb *cb,
		  void *arg)
{
	struct vici_builder b;
	struct buf pkt;
	int r;

	buf_init(&pkt, 4 + 2 + VICI_MAX_NAME);
	vici_build_begin(&b, &pkt, type, name);
	r = vici_build_finish(&b);
	if (r == 0)
		r = vici_client_request(c, pkt.data, pkt.len, cb, arg);
	buf_free(&pkt);
	return r;
}

int vici_client_command(struct vici_client *c, const char *command, vici_reply_cb *cb, void *arg)
{
	return simple(c, VICI_CMD_REQUEST, command, cb, arg);
}

int vici_client_register(struct vici_client *c, const char *event, bool on, vici_reply_cb *cb,
			 void *arg)
{
	return simple(c, on ? VICI_EVENT_REGISTER : VICI_EVENT_UNREGISTER, event, cb, arg);
}

size_t vici_client_pending(const struct vici_client *c)
{
	return c->q_len;
}

int64_t vici_client_oldest_ms(const struct vici_client *c)
{
	if (!c->q_len)
		return -1;
	return clock_now_ms() - c->q[c->q_head].queued_ms;
}

int vici_client_error(const struct vici_client *c, const char **ret_msg)
{
	if (ret_msg)
		*ret_msg = c->error ? c->err.msg : "";
	return c->error;
}
