// SPDX-License-Identifier: Apache-2.0
/*
 * Getting a request its connection without blocking the loop: a host name
 * is resolved by a short-lived thread that posts its result through an
 * eventfd (getaddrinfo cannot be cancelled; a look-up that outlives its
 * request ends in the thread), and every address it yields is tried in turn
 * within the connect timeout. Connected, TLS (client_tls.c) or the request
 * (client_io.c) follows.
 */
#include "http/client_int.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/xmalloc.h"

/* An address's share of the connect timeout is never less (Go's dialer). */
#define MIN_ATTEMPT_MS 2000
/* Look-ups in flight in the process; more fail at once. */
#define MAX_RESOLVERS 16

/* A look-up shared by the request and its thread; the last one out frees it. */
struct resolve {
	int efd; /* written once by the thread when the result is in */
	int refs;
	int done;
	int rc, sys_errno;
	struct addrinfo *res;
	char host[256];
	char port[8];
};

static int resolvers; /* threads running, atomic */

static void try_connect(struct http_req *r);

static void resolve_put(struct resolve *rs)
{
	if (__atomic_sub_fetch(&rs->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (rs->res)
		freeaddrinfo(rs->res);
	close(rs->efd);
	free(rs);
}

void client_conn_release(struct http_req *r)
{
	if (r->rs) {
		loop_del_fd(r->h->loop, r->rs->efd);
		resolve_put(r->rs);
	}
	if (r->ai)
		freeaddrinfo(r->ai);
}

static int errno_code(int e)
{
	return e == ECONNREFUSED ? -ECONNREFUSED : e == ETIMEDOUT ? -ETIMEDOUT : -EHOSTUNREACH;
}

/* The attempt on r->cur failed with errno e. */
static void note_failure(struct http_req *r, int e)
{
	loop_timer_clear(r->h->loop, &r->attempt_timer);
	client_close_conn(r);
	r->conn_err = e;
	if (r->numeric)
		snprintf(r->errmsg, sizeof(r->errmsg), "connecting to %.128s: %s", r->host, strerror(e));
	else
		snprintf(r->errmsg, sizeof(r->errmsg), "connecting to %.128s (%s): %s", r->host, r->addr,
			 strerror(e));
}

/* ... and on to the next address. */
static void conn_failed(struct http_req *r, int e)
{
	note_failure(r, e);
	r->cur = r->cur->ai_next;
	try_connect(r);
}

static void connected(struct http_req *r)
{
	int rc;

	loop_timer_clear(r->h->loop, &r->attempt_timer);
	loop_timer_clear(r->h->loop, &r->connect_timer);
	if (!r->https) {
		r->state = ST_SENDING;
		client_on_writable(r);
		return;
	}
	rc = client_tls_begin(r);
	if (rc < 0) {
		client_finish(r, rc, "%s", r->errmsg);
		return;
	}
	r->state = ST_HANDSHAKE;
	client_tls_handshake(r);
}

static int64_t on_attempt_timeout(struct loop *loop, int64_t id, void *arg)
{
	struct http_req *r = arg;

	(void)loop;
	(void)id;
	r->attempt_timer = 0;
	conn_failed(r, ETIMEDOUT);
	return LOOP_TIMER_STOP;
}

/* The socket's events in every state, from connecting to the response. */
static void req_event(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct http_req *r = arg;

	(void)loop;
	(void)fd;
	switch (r->state) {
	case ST_CONNECTING: {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr)
			conn_failed(r, soerr);
		else if (events & LOOP_WRITE)
			connected(r);
		break;
	}
	case ST_HANDSHAKE:
		client_tls_handshake(r);
		break;
	case ST_SENDING:
		client_on_writable(r);
		break;
	case ST_RECEIVING:
		client_on_readable(r);
		break;
	default:
		break;
	}
}

/* Start connecting to r->cur: 0 when under way, else the errno. */
static int attempt(struct http_req *r)
{
	const struct addrinfo *ai = r->cur;
	int64_t left = r->connect_deadline - clock_now_ms(), ms;
	unsigned addrs = 0;
	int rc, one = 1, idle = 30, intvl = 10, cnt = 3;

	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, r->addr, sizeof(r->addr), NULL, 0,
			NI_NUMERICHOST) != 0)
		snprintf(r->addr, sizeof(r->addr), "?");
	r->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return errno;
	setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(r->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(r->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(r->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(r->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	rc = loop_add_fd(r->h->loop, r->fd, LOOP_WRITE, req_event, r);
	if (rc < 0) {
		close(r->fd);
		r->fd = -1;
		return -rc;
	}
	if (connect(r->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
		return errno;
	/* This address's share of what is left, as Go's dialer does it. */
	for (const struct addrinfo *a = ai; a; a = a->ai_next)
		addrs++;
	ms = left / addrs;
	if (ms < MIN_ATTEMPT_MS)
		ms = left < MIN_ATTEMPT_MS ? left : MIN_ATTEMPT_MS;
	r->attempt_timer = loop_add_timer(r->h->loop, ms > 0 ? ms : 0, on_attempt_timeout, r);
	return 0;
}

static void try_connect(struct http_req *r)
{
	r->state = ST_CONNECTING;
	for (; r->cur; r->cur = r->cur->ai_next) {
		int e = attempt(r);

		if (e == 0)
			return;
		note_failure(r, e);
	}
	client_finish(r, errno_code(r->conn_err), "%s", r->errmsg);
}

void client_connect_addrs(struct http_req *r)
{
	r->cur = r->ai;
	try_connect(r);
}

static void *resolve_main(void *arg)
{
	struct resolve *rs = arg;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	uint64_t one = 1;

	rs->rc = getaddrinfo(rs->host, rs->port, &hints, &rs->res);
	rs->sys_errno = errno;
	__atomic_store_n(&rs->done, 1, __ATOMIC_RELEASE);
	if (write(rs->efd, &one, sizeof(one)) < 0) {
		/* An eventfd write only fails on overflow: it cannot. */
	}
	resolve_put(rs);
	__atomic_sub_fetch(&resolvers, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void on_resolved(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct http_req *r = arg;
	struct resolve *rs = r->rs;
	int rc;

	(void)fd;
	(void)events;
	if (!__atomic_load_n(&rs->done, __ATOMIC_ACQUIRE))
		return;
	loop_del_fd(loop, rs->efd);
	r->rs = NULL;
	rc = rs->rc;
	if (rc == 0) {
		r->ai = rs->res;
		rs->res = NULL;
	} else {
		snprintf(r->errmsg, sizeof(r->errmsg), "cannot resolve %.128s: %s", r->host,
			 rc == EAI_SYSTEM ? strerror(rs->sys_errno) : gai_strerror(rc));
	}
	resolve_put(rs);
	if (rc) {
		client_finish(r, -EHOSTUNREACH, "%s", r->errmsg);
		return;
	}
	client_connect_addrs(r);
}

int client_resolve(struct http_req *r)
{
	struct resolve *rs;
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	int rc;

	if (__atomic_add_fetch(&resolvers, 1, __ATOMIC_RELAXED) > MAX_RESOLVERS) {
		__atomic_sub_fetch(&resolvers, 1, __ATOMIC_RELAXED);
		snprintf(r->errmsg, sizeof(r->errmsg),
			 "cannot resolve %.128s: %d look-ups already in flight", r->host, MAX_RESOLVERS);
		return -EAGAIN;
	}
	rs = xcalloc(1, sizeof(*rs));
	snprintf(rs->host, sizeof(rs->host), "%s", r->host);
	snprintf(rs->port, sizeof(rs->port), "%s", r->port);
	rs->refs = 2;
	rs->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rs->efd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = loop_add_fd(r->h->loop, rs->efd, LOOP_READ, on_resolved, r);
	if (rc < 0)
		goto fail_fd;
	/* The thread takes no signal: they stay with the loop's signalfd. */
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = -pthread_create(&t, &attr, resolve_main, rs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc < 0) {
		loop_del_fd(r->h->loop, rs->efd);
		goto fail_fd;
	}
	r->rs = rs;
	return 0;
fail_fd:
	close(rs->efd);
fail:
	free(rs);
	__atomic_sub_fetch(&resolvers, 1, __ATOMIC_RELAXED);
	snprintf(r->errmsg, sizeof(r->errmsg), "cannot resolve %.128s: %s", r->host, strerror(-rc));
	return rc;
}
