/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_IPSEC_VICI_CLIENT_H
#define WEFT_IPSEC_VICI_CLIENT_H

/*
 * An asynchronous VICI client on the daemon's loop (core/loop.h): one
 * connection to charon's unix socket, never blocking. Requests (commands,
 * event registrations) are queued, written as the socket takes them and
 * answered in order: charon handles one connection's packets strictly in
 * sequence, so the n-th answer belongs to the n-th request. EVENT packets
 * (those registered for, and the events a streaming command such as
 * list-sas sends before its response) go to the event callback.
 *
 * When charon closes the connection or sends a malformed or oversized
 * packet, the connection is shut: every pending request's callback is
 * called once with a negative errno, in order, then the close callback.
 * The client stays allocated (its requests now fail with -ENOTCONN) until
 * vici_client_free, which may be called from inside any of its callbacks.
 * Callbacks run from the loop only, never from inside a vici_client_* call.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct vici_client;
struct vici_msg;

/*
 * The answer to one request. status 0: CMD_RESPONSE (reply is its message)
 * or EVENT_CONFIRM (reply NULL); -ENOENT: CMD_UNKNOWN or EVENT_UNKNOWN;
 * otherwise the connection was lost: -ECONNRESET (closed by charon),
 * -EBADMSG (malformed packet, or an answer of the wrong kind),
 * -EMSGSIZE (length prefix over VICI_MAX_PACKET) or a read/write errno.
 * reply is valid during the call only.
 */
typedef void vici_reply_cb(struct vici_client *c, int status, const struct vici_msg *reply,
			   void *arg);
/* An EVENT packet: its name and message (valid during the call only). */
typedef void vici_event_cb(struct vici_client *c, const char *name, const struct vici_msg *msg,
			   void *arg);
/* The connection was shut for error (as for vici_reply_cb); after the
 * pending callbacks. Not called by vici_client_free. */
typedef void vici_close_cb(struct vici_client *c, int error, void *arg);

struct vici_client_cbs {
	vici_event_cb *event; /* NULL: events are dropped */
	vici_close_cb *close; /* may be NULL */
	void *arg;
};

/* Requests waiting for an answer at most; more get -ENOBUFS. */
#define VICI_CLIENT_MAX_PENDING 1024

/*
 * Connect to charon at path (a unix socket). The socket is non-blocking:
 * -ENOENT (no socket yet), -ECONNREFUSED (nobody listening) or -EAGAIN
 * (backlog full) come back at once, for the caller to retry on a timer;
 * -ENAMETOOLONG for a path that does not fit sockaddr_un.
 */
int vici_client_connect(struct loop *loop, const char *path, const struct vici_client_cbs *cbs,
			struct vici_client **ret);
/* The same on a connected stream socket (made non-blocking here); the client
 * owns fd from then on, also when this fails. */
int vici_client_adopt(struct loop *loop, int fd, const struct vici_client_cbs *cbs,
		      struct vici_client **ret);
/* Closes the connection; pending callbacks are dropped, never called. */
void vici_client_free(struct vici_client *c);

/*
 * Queue one framed packet (what vici_build_finish left: exactly one packet
 * of type CMD_REQUEST, EVENT_REGISTER or EVENT_UNREGISTER); cb gets its
 * answer. -EINVAL for anything else, -ENOTCONN once the connection is shut,
 * -ENOBUFS past VICI_CLIENT_MAX_PENDING or the output bound.
 */
int vici_client_request(struct vici_client *c, const void *pkt, size_t len, vici_reply_cb *cb,
			void *arg);
/* A command without arguments (version, list-sas, get-conns...). */
int vici_client_command(struct vici_client *c, const char *command, vici_reply_cb *cb, void *arg);
/* EVENT_REGISTER (on) or EVENT_UNREGISTER (!on) for event. */
int vici_client_register(struct vici_client *c, const char *event, bool on, vici_reply_cb *cb,
			 void *arg);

/* Requests waiting for an answer. */
size_t vici_client_pending(const struct vici_client *c);
/* How long (ms, monotonic) the oldest of them has waited since it was
 * queued; -1 when none waits. For declaring charon hung. */
int64_t vici_client_oldest_ms(const struct vici_client *c);
/* 0 while connected, else the error that shut the connection, with
 * *ret_msg (if not NULL) saying what happened (never a value's bytes). */
int vici_client_error(const struct vici_client *c, const char **ret_msg);

#endif
