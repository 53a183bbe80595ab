// SPDX-License-Identifier: Apache-2.0
/*
 * A connected request's I/O: the request sent, the response read in bounded
 * pieces and fed to its parser (client_resp.c), the body collected or, for
 * streams, handed over line by line.
 */
#include "http/client_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"

#define READ_CHUNK 65536
/* Then back to the loop, which calls again while data is there. */
#define READS_PER_EVENT 16

void client_want(struct http_req *r, uint32_t events)
{
	loop_mod_fd(r->h->loop, r->fd, events);
}

/* What recv or send returned: bytes, -EAGAIN, or -errno with r->errmsg set. */
static ssize_t sock_result(struct http_req *r, ssize_t n)
{
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -EAGAIN;
	snprintf(r->errmsg, sizeof(r->errmsg), "%s", strerror(errno));
	return -errno;
}

/* Read into buf; returns bytes, 0 at a clean EOF (for TLS: close_notify),
 * -ECONNABORTED at a TLS EOF without close_notify, -EAGAIN, or another
 * -errno (r->errmsg then says why). *ret_want: the readiness to wait for. */
static ssize_t do_read(struct http_req *r, char *buf, size_t len, uint32_t *ret_want)
{
	*ret_want = LOOP_READ;
	if (r->ssl)
		return client_tls_read(r, buf, len, ret_want);
	return sock_result(r, recv(r->fd, buf, len, 0));
}

static ssize_t do_write(struct http_req *r, const char *buf, size_t len, uint32_t *ret_want)
{
	*ret_want = LOOP_WRITE;
	if (r->ssl)
		return client_tls_write(r, buf, len, ret_want);
	/* MSG_NOSIGNAL: a reset peer is an error, not a SIGPIPE. */
	return sock_result(r, send(r->fd, buf, len, MSG_NOSIGNAL));
}

/* Deliver complete lines of a stream; false when the request went away. */
static bool deliver_lines(struct http_req *r)
{
	char *nl;

	while (r->line && (nl = memchr(r->body.data, '\n', r->body.len))) {
		size_t n = (size_t)(nl - r->body.data);
		char *line = xstrndup(r->body.data, n);
		size_t len = n && line[n - 1] == '\r' ? n - 1 : n;

		line[len] = '\0';
		buf_consume(&r->body, n + 1);
		r->busy = true;
		if (len)
			r->line(r->arg, line, len);
		r->busy = false;
		free(line);
		if (r->cancelled) {
			client_free_req(r);
			return false;
		}
	}
	return true;
}

/* Decoded body bytes from the parser; -ECANCELED when the request is gone. */
static int body_bytes(void *arg, const char *p, size_t n)
{
	struct http_req *r = arg;

	if (!r->stream && !r->resp.chunked && r->resp.content_length > (int64_t)r->max_body) {
		client_finish(r, -E2BIG, "response too large (Content-Length %lld, at most %zu)",
			      (long long)r->resp.content_length, r->max_body);
		return -ECANCELED;
	}
	if (buf_append(&r->body, p, n) < 0) {
		client_finish(r, -E2BIG, "%s",
			      r->stream ? "response line too long" : "response too large");
		return -ECANCELED;
	}
	return !r->stream || deliver_lines(r) ? 0 : -ECANCELED;
}

static void complete(struct http_req *r)
{
	/* A stream's last partial line is handed over as the body. */
	client_finish(r, 0, NULL);
}

static void on_eof(struct http_req *r, bool clean)
{
	int rc = http_resp_eof(&r->resp);

	if (rc == 1 && clean)
		complete(r);
	else if (rc == 1)
		/* The close delimits the body: without close_notify it may
		 * have been cut short by anyone on the path. */
		client_finish(r, -EIO, "TLS connection closed without close_notify: the response may be truncated");
	else
		client_finish(r, -EIO, "%s", r->resp.errmsg);
}

void client_on_readable(struct http_req *r)
{
	char buf[READ_CHUNK];
	uint32_t w;

	for (int i = 0; i < READS_PER_EVENT; i++) {
		ssize_t n = do_read(r, buf, sizeof(buf), &w);
		int rc;

		if (n == -EAGAIN) {
			client_want(r, w);
			return;
		}
		if (n == 0 || n == -ECONNABORTED) {
			on_eof(r, n == 0);
			return;
		}
		if (n < 0) {
			client_finish(r, n == -EPROTO ? -EPROTO : -EIO, "%s", r->errmsg);
			return;
		}
		rc = http_resp_feed(&r->resp, buf, (size_t)n, body_bytes, r);
		if (rc == -ECANCELED)
			return;
		if (rc < 0) {
			client_finish(r, rc, "%s", r->resp.errmsg);
			return;
		}
		if (rc > 0) {
			complete(r);
			return;
		}
	}
	/* More may be there: the loop calls again (level-triggered). */
	client_want(r, LOOP_READ);
}

void client_on_writable(struct http_req *r)
{
	uint32_t w;

	while (r->out_off < r->out.len) {
		ssize_t n = do_write(r, r->out.data + r->out_off, r->out.len - r->out_off, &w);

		if (n == -EAGAIN) {
			client_want(r, w);
			return;
		}
		if (n < 0) {
			client_finish(r, n == -EPROTO ? -EPROTO : -EIO, "sending the request: %s",
				      r->errmsg);
			return;
		}
		r->out_off += (size_t)n;
	}
	r->state = ST_RECEIVING;
	client_want(r, LOOP_READ);
	client_on_readable(r);
}
