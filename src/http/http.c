// SPDX-License-Identifier: Apache-2.0
/*
 * A small HTTP/1.1 client on the daemon's loop, for etcd's JSON gateway and
 * the Kubernetes API: one connection per request (Connection: close), bodies
 * by Content-Length, chunked or until close, optional TLS through OpenSSL.
 *
 * Why not libcurl: it drags GnuTLS, Kerberos, LDAP, SSH and p11-kit into the
 * daemon, about 5 MB of resident memory before the first request; the daemon
 * needs none of it.
 *
 * Every callback runs from the loop (an fd or timer event), never from inside
 * http_start, and a callback may start or cancel any request, its own too.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "http/tls_calls.h"

#define DEFAULT_MAX_BODY (16u << 20)
#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define MAX_HEAD (64u << 10)
#define READ_CHUNK 65536

enum req_state { ST_CONNECTING, ST_HANDSHAKE, ST_SENDING, ST_HEAD, ST_BODY, ST_DONE };
enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER };

struct http_tls_ctx {
	SSL_CTX *ctx;
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
	SSL *ssl;
	enum req_state state;
	bool https, stream, busy, cancelled;
	char host[256];
	char *out;
	size_t out_len, out_off;
	struct buf head;
	struct buf body;
	long status;
	bool chunked;
	int64_t content_length; /* -1: until the connection closes */
	int64_t remaining;	/* of the body (Content-Length) or of the current chunk */
	enum chunk_state cstate;
	char csize[24];
	size_t csize_len;
	size_t max_body;
	int64_t connect_timer, total_timer, start_timer;
	long connect_timeout_ms;
	int err;
	char errmsg[256];
	http_done_cb *done;
	http_line_cb *line;
	void *arg;
	struct http_tls tls; /* a copy (strings owned): the start is deferred */
	struct addrinfo *ai;
};

static void req_event(struct loop *loop, int fd, uint32_t events, void *arg);

/* ---- life cycle ---- */

static void req_unlink(struct http_req *r)
{
	for (struct http_req **pp = &r->h->reqs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
}

static void req_release(struct http_req *r)
{
	struct loop *loop = r->h->loop;

	if (r->connect_timer > 0)
		loop_del_timer(loop, r->connect_timer);
	if (r->total_timer > 0)
		loop_del_timer(loop, r->total_timer);
	if (r->start_timer > 0)
		loop_del_timer(loop, r->start_timer);
	if (r->fd >= 0) {
		loop_del_fd(loop, r->fd);
		close(r->fd);
	}
	if (r->ssl)
		SSL_free(r->ssl);
	if (r->ai)
		freeaddrinfo(r->ai);
	free((char *)(uintptr_t)r->tls.cafile);
	free((char *)(uintptr_t)r->tls.certfile);
	free((char *)(uintptr_t)r->tls.keyfile);
	free(r->out);
	buf_free(&r->head);
	buf_free(&r->body);
	free(r);
}

static void req_free(struct http_req *r)
{
	req_unlink(r);
	req_release(r);
}

/* Finish the request: the done callback, then free. */
static void req_finish(struct http_req *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void req_finish(struct http_req *r, int err, const char *fmt, ...)
{
	http_done_cb *done = r->done;
	void *arg = r->arg;
	struct buf body = r->body;
	long status = r->status;
	char errmsg[sizeof(r->errmsg)] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
		va_end(ap);
	}
	/* Detach the body: the callback sees it after the request is gone. */
	buf_init(&r->body, 0);
	r->state = ST_DONE;
	req_free(r);
	if (done)
		done(arg, err, err ? 0 : status, body.data ? body.data : "", body.len, errmsg);
	buf_free(&body);
}

static const char *ssl_error_text(void)
{
	static char buf[200];
	unsigned long e = ERR_get_error();

	if (!e)
		return "TLS failure";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

/* ---- URL and request text ---- */

struct url {
	bool https;
	char host[256];
	char port[8];
	const char *path; /* points into the URL; "/" when empty */
};

static int url_parse(const char *s, struct url *u)
{
	const char *p, *host, *end, *colon = NULL;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (!strncmp(s, "http://", 7)) {
		p = s + 7;
	} else if (!strncmp(s, "https://", 8)) {
		p = s + 8;
		u->https = true;
	} else {
		return -EINVAL;
	}
	host = p;
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end)
			return -EINVAL;
		host = p + 1;
		n = (size_t)(end - host);
		p = end + 1;
		if (*p == ':')
			colon = p;
	} else {
		end = p + strcspn(p, ":/?");
		n = (size_t)(end - host);
		p = end;
		if (*p == ':')
			colon = p;
	}
	if (n == 0 || n >= sizeof(u->host))
		return -EINVAL;
	memcpy(u->host, host, n);
	u->host[n] = '\0';
	if (colon) {
		size_t pl = strspn(colon + 1, "0123456789");

		if (pl == 0 || pl >= sizeof(u->port))
			return -EINVAL;
		memcpy(u->port, colon + 1, pl);
		u->port[pl] = '\0';
		p = colon + 1 + pl;
	} else {
		snprintf(u->port, sizeof(u->port), "%s", u->https ? "443" : "80");
	}
	u->path = *p ? p : "/";
	return 0;
}

static char *build_request(const struct http_opts *o, const struct url *u, size_t *ret_len)
{
	const char *method = o->method ? o->method : o->body ? "POST" : "GET";
	bool v6 = strchr(u->host, ':') != NULL;
	size_t cap = 512 + strlen(u->path) + o->body_len;
	char *out, *p;
	int n;

	for (const char *const *hd = o->headers; hd && *hd; hd++)
		cap += strlen(*hd) + 2;
	if (o->content_type)
		cap += strlen(o->content_type);
	out = xmalloc(cap);
	p = out;
	n = snprintf(p, cap, "%s %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: weft\r\n"
			     "Accept: */*\r\nConnection: close\r\n",
		     method, *u->path == '/' ? u->path : "/", v6 ? "[" : "", u->host, v6 ? "]" : "",
		     u->port);
	p += n;
	if (o->body) {
		p += snprintf(p, cap - (size_t)(p - out), "Content-Type: %s\r\nContent-Length: %zu\r\n",
			      o->content_type ? o->content_type : "application/json", o->body_len);
	}
	for (const char *const *hd = o->headers; hd && *hd; hd++) {
		/* A header without a value ("Expect:") means "don't send it". */
		const char *c = strchr(*hd, ':');

		if (c && c[1] == '\0')
			continue;
		p += snprintf(p, cap - (size_t)(p - out), "%s\r\n", *hd);
	}
	p += snprintf(p, cap - (size_t)(p - out), "\r\n");
	if (o->body) {
		memcpy(p, o->body, o->body_len);
		p += o->body_len;
	}
	*p = '\0';
	*ret_len = (size_t)(p - out);
	return out;
}

/* ---- TLS ---- */

static char *tls_key(const struct http_tls *t)
{
	char *k;

	xasprintf(&k, "%s\n%s\n%s\n%d", t->cafile ? t->cafile : "", t->certfile ? t->certfile : "",
		  t->keyfile ? t->keyfile : "", t->insecure);
	return k;
}

static int tls_ctx_get(struct http *h, const struct http_tls *t, SSL_CTX **ret, char *errmsg,
		       size_t len)
{
	static const struct http_tls none = { 0 };
	char *key;
	SSL_CTX *ctx;

	if (!t)
		t = &none;
	key = tls_key(t);
	if (h->tls.ctx && !strcmp(h->tls.key, key)) {
		free(key);
		*ret = h->tls.ctx;
		return 0;
	}
	if (tls_lib_load(errmsg, len) < 0) {
		free(key);
		return -EPROTO;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
	if (t->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (t->cafile && *t->cafile) {
			if (SSL_CTX_load_verify_locations(ctx, t->cafile, NULL) != 1) {
				snprintf(errmsg, len, "cannot load CA file %s: %s", t->cafile,
					 ssl_error_text());
				goto fail_msg;
			}
		} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			goto fail;
		}
	}
	if (t->certfile && *t->certfile) {
		if (SSL_CTX_use_certificate_chain_file(ctx, t->certfile) != 1) {
			snprintf(errmsg, len, "cannot load client certificate %s: %s", t->certfile,
				 ssl_error_text());
			goto fail_msg;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, t->keyfile && *t->keyfile ? t->keyfile
									  : t->certfile,
						SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			snprintf(errmsg, len, "cannot load client key %s: %s",
				 t->keyfile ? t->keyfile : t->certfile, ssl_error_text());
			goto fail_msg;
		}
	}
	if (h->tls.ctx)
		SSL_CTX_free(h->tls.ctx);
	free(h->tls.key);
	h->tls.ctx = ctx;
	h->tls.key = key;
	*ret = ctx;
	return 0;
fail:
	snprintf(errmsg, len, "TLS setup: %s", ssl_error_text());
fail_msg:
	SSL_CTX_free(ctx);
	free(key);
	return -EPROTO;
}

static int tls_begin(struct http_req *r, const struct http_tls *t)
{
	struct in6_addr a6;
	struct in_addr a4;
	SSL_CTX *ctx;
	int rc;

	rc = tls_ctx_get(r->h, t, &ctx, r->errmsg, sizeof(r->errmsg));
	if (rc < 0)
		return rc;
	r->ssl = SSL_new(ctx);
	if (!r->ssl || SSL_set_fd(r->ssl, r->fd) != 1)
		goto fail;
	SSL_set_connect_state(r->ssl);
	if (!(t && t->insecure)) {
		X509_VERIFY_PARAM *param = SSL_get0_param(r->ssl);

		/* Certificates name IP addresses in IP SANs, hosts in DNS SANs. */
		if (inet_pton(AF_INET, r->host, &a4) == 1 || inet_pton(AF_INET6, r->host, &a6) == 1) {
			if (X509_VERIFY_PARAM_set1_ip_asc(param, r->host) != 1)
				goto fail;
		} else {
			SSL_set_tlsext_host_name(r->ssl, r->host);
			if (X509_VERIFY_PARAM_set1_host(param, r->host, 0) != 1)
				goto fail;
		}
	}
	return 0;
fail:
	snprintf(r->errmsg, sizeof(r->errmsg), "TLS setup: %s", ssl_error_text());
	return -EPROTO;
}

/* ---- I/O ---- */

static void want(struct http_req *r, uint32_t events)
{
	loop_mod_fd(r->h->loop, r->fd, events);
}

/* Read into buf; returns bytes, 0 at EOF, -EAGAIN, or another -errno. For TLS,
 * *ret_want says which readiness to wait for. */
static ssize_t do_read(struct http_req *r, char *buf, size_t len, uint32_t *ret_want)
{
	*ret_want = LOOP_READ;
	if (r->ssl) {
		int n = SSL_read(r->ssl, buf, (int)len);

		if (n > 0)
			return n;
		switch (SSL_get_error(r->ssl, n)) {
		case SSL_ERROR_WANT_READ:
			return -EAGAIN;
		case SSL_ERROR_WANT_WRITE:
			*ret_want = LOOP_WRITE;
			return -EAGAIN;
		case SSL_ERROR_ZERO_RETURN:
			return 0;
		case SSL_ERROR_SYSCALL:
			/* An EOF without close_notify: many servers do that. */
			return errno ? -errno : 0;
		default:
			snprintf(r->errmsg, sizeof(r->errmsg), "TLS read: %s", ssl_error_text());
			return -EPROTO;
		}
	}
	ssize_t n = recv(r->fd, buf, len, 0);
	if (n >= 0)
		return n;
	return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

static ssize_t do_write(struct http_req *r, const char *buf, size_t len, uint32_t *ret_want)
{
	*ret_want = LOOP_WRITE;
	if (r->ssl) {
		int n = SSL_write(r->ssl, buf, (int)len);

		if (n > 0)
			return n;
		switch (SSL_get_error(r->ssl, n)) {
		case SSL_ERROR_WANT_WRITE:
			return -EAGAIN;
		case SSL_ERROR_WANT_READ:
			*ret_want = LOOP_READ;
			return -EAGAIN;
		default:
			snprintf(r->errmsg, sizeof(r->errmsg), "TLS write: %s", ssl_error_text());
			return -EPROTO;
		}
	}
	ssize_t n = send(r->fd, buf, len, MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

/* ---- response parsing ---- */

static int parse_head(struct http_req *r)
{
	char *line = r->head.data, *eol;
	int major, minor;

	if (sscanf(line, "HTTP/%d.%d %ld", &major, &minor, &r->status) != 3 || r->status < 100)
		return -EBADMSG;
	r->content_length = -1;
	while ((eol = strstr(line, "\r\n")) && eol != line) {
		char *colon;

		*eol = '\0';
		colon = strchr(line, ':');
		if (colon && line != r->head.data) {
			char *v = colon + 1;

			*colon = '\0';
			v += strspn(v, " \t");
			if (!strcasecmp(line, "Content-Length")) {
				char *end;
				long long cl = strtoll(v, &end, 10);

				if (cl < 0 || (*end && *end != ' ' && *end != '\t'))
					return -EBADMSG;
				r->content_length = cl;
			} else if (!strcasecmp(line, "Transfer-Encoding") && strcasestr(v, "chunked")) {
				r->chunked = true;
			}
		}
		line = eol + 2;
	}
	/* No body for these, whatever the headers say. */
	if (r->status == 204 || r->status == 304 || (r->status >= 100 && r->status < 200))
		r->content_length = 0;
	if (r->chunked) {
		r->content_length = -1;
		r->cstate = CH_SIZE;
	}
	r->remaining = r->content_length;
	return 0;
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
			req_free(r);
			return false;
		}
	}
	return true;
}

/* Decoded body bytes. Returns false when the request is finished or gone. */
static bool body_bytes(struct http_req *r, const char *p, size_t n)
{
	if (buf_append(&r->body, p, n) < 0) {
		req_finish(r, -E2BIG, "%s", r->stream ? "response line too long" : "response too large");
		return false;
	}
	return !r->stream || deliver_lines(r);
}

/* Feed raw body bytes (after the head). Returns 1 when the body is complete, 0
 * for more, -1 when the request is finished or gone already. */
static int feed_body(struct http_req *r, const char *p, size_t n)
{
	while (n > 0) {
		if (!r->chunked) {
			size_t take = n;

			if (r->remaining >= 0 && (int64_t)take > r->remaining)
				take = (size_t)r->remaining;
			if (!body_bytes(r, p, take))
				return -1;
			p += take;
			n -= take;
			if (r->remaining >= 0) {
				r->remaining -= (int64_t)take;
				if (r->remaining == 0)
					return 1;
			}
			continue;
		}
		switch (r->cstate) {
		case CH_SIZE:
			if (*p == '\n') {
				char *end;

				r->csize[r->csize_len] = '\0';
				r->remaining = (int64_t)strtoull(r->csize, &end, 16);
				if (end == r->csize) {
					req_finish(r, -EBADMSG, "malformed chunk size");
					return -1;
				}
				r->csize_len = 0;
				r->cstate = r->remaining ? CH_DATA : CH_TRAILER;
			} else if (r->csize_len < sizeof(r->csize) - 1) {
				r->csize[r->csize_len++] = *p;
			}
			p++;
			n--;
			break;
		case CH_DATA: {
			size_t take = n < (size_t)r->remaining ? n : (size_t)r->remaining;

			if (!body_bytes(r, p, take))
				return -1;
			p += take;
			n -= take;
			r->remaining -= (int64_t)take;
			if (r->remaining == 0)
				r->cstate = CH_DATA_END;
			break;
		}
		case CH_DATA_END: /* the CRLF after a chunk */
			if (*p == '\n')
				r->cstate = CH_SIZE;
			p++;
			n--;
			break;
		case CH_TRAILER:
			/* Trailers are ignored; a bare CRLF ends the body. */
			if (*p == '\n') {
				if (r->csize_len == 0)
					return 1;
				r->csize_len = 0;
			} else if (*p != '\r') {
				r->csize_len = 1;
			}
			p++;
			n--;
			break;
		}
	}
	return 0;
}

static void complete(struct http_req *r)
{
	/* A stream's last partial line is handed over as the body. */
	req_finish(r, 0, NULL);
}

static void on_readable(struct http_req *r)
{
	char buf[READ_CHUNK];
	uint32_t w;

	for (;;) {
		ssize_t n = do_read(r, buf, sizeof(buf), &w);
		int rc;

		if (n == -EAGAIN) {
			want(r, w);
			return;
		}
		if (n < 0) {
			req_finish(r, n == -EPROTO ? -EPROTO : -EIO, "%s",
				   r->errmsg[0] ? r->errmsg : strerror((int)-n));
			return;
		}
		if (n == 0) {
			if (r->state == ST_BODY && !r->chunked && r->content_length < 0) {
				complete(r);
				return;
			}
			req_finish(r, -EIO, "connection closed before the end of the response");
			return;
		}
		if (r->state == ST_HEAD) {
			char *end;

			if (buf_append(&r->head, buf, (size_t)n) < 0) {
				req_finish(r, -E2BIG, "response head too large");
				return;
			}
			end = strstr(r->head.data, "\r\n\r\n");
			if (!end)
				continue;
			size_t head_len = (size_t)(end - r->head.data) + 4;
			size_t extra = r->head.len - head_len;
			char *rest = xmalloc(extra + 1);

			memcpy(rest, r->head.data + head_len, extra);
			r->head.data[head_len - 2] = '\0';
			if (parse_head(r) < 0) {
				free(rest);
				req_finish(r, -EBADMSG, "malformed HTTP response head");
				return;
			}
			r->state = ST_BODY;
			if (r->content_length == 0) {
				free(rest);
				complete(r);
				return;
			}
			rc = feed_body(r, rest, extra);
			free(rest);
		} else {
			rc = feed_body(r, buf, (size_t)n);
		}
		if (rc < 0)
			return;
		if (rc > 0) {
			complete(r);
			return;
		}
	}
}

static void on_writable(struct http_req *r)
{
	uint32_t w;

	while (r->out_off < r->out_len) {
		ssize_t n = do_write(r, r->out + r->out_off, r->out_len - r->out_off, &w);

		if (n == -EAGAIN) {
			want(r, w);
			return;
		}
		if (n < 0) {
			req_finish(r, n == -EPROTO ? -EPROTO : -EIO, "sending the request: %s",
				   r->errmsg[0] ? r->errmsg : strerror((int)-n));
			return;
		}
		r->out_off += (size_t)n;
	}
	r->state = ST_HEAD;
	want(r, LOOP_READ);
	on_readable(r);
}

static void on_handshake(struct http_req *r)
{
	int n = SSL_do_handshake(r->ssl);

	if (n == 1) {
		r->state = ST_SENDING;
		on_writable(r);
		return;
	}
	switch (SSL_get_error(r->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		want(r, LOOP_READ);
		return;
	case SSL_ERROR_WANT_WRITE:
		want(r, LOOP_WRITE);
		return;
	default: {
		long v = SSL_get_verify_result(r->ssl);

		if (v != X509_V_OK)
			req_finish(r, -EPROTO, "TLS handshake with %s: certificate verify failed: %s",
				   r->host, X509_verify_cert_error_string(v));
		else
			req_finish(r, -EPROTO, "TLS handshake with %s: %s", r->host,
				   ssl_error_text());
	}
	}
}

static void req_event(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct http_req *r = arg;

	(void)loop;
	(void)fd;
	if (r->state == ST_CONNECTING) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr) {
			req_finish(r, soerr == ECONNREFUSED ? -ECONNREFUSED : soerr == ETIMEDOUT
										? -ETIMEDOUT
										: -EHOSTUNREACH,
				   "connecting to %s: %s", r->host, strerror(soerr));
			return;
		}
		if (!(events & LOOP_WRITE))
			return;
		if (r->connect_timer > 0) {
			loop_del_timer(r->h->loop, r->connect_timer);
			r->connect_timer = 0;
		}
		r->state = r->ssl ? ST_HANDSHAKE : ST_SENDING;
	}
	switch (r->state) {
	case ST_HANDSHAKE:
		on_handshake(r);
		break;
	case ST_SENDING:
		on_writable(r);
		break;
	case ST_HEAD:
	case ST_BODY:
		on_readable(r);
		break;
	default:
		break;
	}
}

static int64_t on_timeout(struct loop *loop, int64_t id, void *arg)
{
	struct http_req *r = arg;

	(void)loop;
	if (id == r->connect_timer)
		r->connect_timer = 0;
	else
		r->total_timer = 0;
	req_finish(r, -ETIMEDOUT, "%s to %s timed out", r->state == ST_CONNECTING ? "connection" :
			   "request", r->host);
	return LOOP_TIMER_STOP;
}

/* Connect (deferred to the loop so that every outcome arrives as a callback). */
static int64_t start_now(struct loop *loop, int64_t id, void *arg)
{
	struct http_req *r = arg;
	const struct addrinfo *ai = r->ai;
	int rc, one = 1;

	(void)id;
	r->start_timer = 0;
	r->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0) {
		req_finish(r, -errno, "socket: %s", strerror(errno));
		return LOOP_TIMER_STOP;
	}
	setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(r->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	{
		int idle = 30, intvl = 10, cnt = 3;

		setsockopt(r->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		setsockopt(r->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		setsockopt(r->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	}
	rc = loop_add_fd(loop, r->fd, LOOP_WRITE, req_event, r);
	if (rc < 0) {
		close(r->fd);
		r->fd = -1;
		req_finish(r, rc, "cannot watch the socket: %s", strerror(-rc));
		return LOOP_TIMER_STOP;
	}
	if (r->https && (rc = tls_begin(r, &r->tls)) < 0) {
		req_finish(r, rc, "%s", r->errmsg);
		return LOOP_TIMER_STOP;
	}
	if (connect(r->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		int e = errno;

		req_finish(r, e == ECONNREFUSED ? -ECONNREFUSED : -EHOSTUNREACH,
			   "connecting to %s: %s", r->host, strerror(e));
		return LOOP_TIMER_STOP;
	}
	r->connect_timer = loop_add_timer(loop, r->connect_timeout_ms, on_timeout, r);
	return LOOP_TIMER_STOP;
}

static int64_t fail_later(struct loop *loop, int64_t id, void *arg)
{
	struct http_req *r = arg;

	(void)loop;
	(void)id;
	r->start_timer = 0;
	req_finish(r, r->err, "%s", r->errmsg);
	return LOOP_TIMER_STOP;
}

int http_start(struct http *h, const struct http_opts *o, http_done_cb *done, http_line_cb *line,
	       void *arg, struct http_req **ret_req)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST };
	struct http_req *r;
	struct url u;
	int rc;

	rc = url_parse(o->url, &u);
	if (rc < 0)
		return rc;
	r = xcalloc(1, sizeof(*r));
	r->h = h;
	r->fd = -1;
	r->https = u.https;
	r->stream = o->stream;
	r->done = done;
	r->line = line;
	r->arg = arg;
	/* The caller's settings need not outlive this call. */
	if (o->tls) {
		r->tls.cafile = o->tls->cafile ? xstrdup(o->tls->cafile) : NULL;
		r->tls.certfile = o->tls->certfile ? xstrdup(o->tls->certfile) : NULL;
		r->tls.keyfile = o->tls->keyfile ? xstrdup(o->tls->keyfile) : NULL;
		r->tls.insecure = o->tls->insecure;
	}
	r->max_body = o->max_body ? o->max_body : DEFAULT_MAX_BODY;
	r->connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms
						      : DEFAULT_CONNECT_TIMEOUT_MS;
	snprintf(r->host, sizeof(r->host), "%s", u.host);
	buf_init(&r->head, MAX_HEAD);
	buf_init(&r->body, r->max_body);
	r->out = build_request(o, &u, &r->out_len);
	/* Numeric addresses resolve at once; names (rare for etcd) block here. */
	rc = getaddrinfo(u.host, u.port, &hints, &r->ai);
	if (rc == EAI_NONAME) {
		hints.ai_flags = 0;
		rc = getaddrinfo(u.host, u.port, &hints, &r->ai);
	}
	r->next = h->reqs;
	h->reqs = r;
	if (rc != 0) {
		r->err = -EHOSTUNREACH;
		snprintf(r->errmsg, sizeof(r->errmsg), "cannot resolve %.128s: %s", u.host,
			 gai_strerror(rc));
		r->ai = NULL;
		r->start_timer = loop_add_timer(h->loop, 0, fail_later, r);
	} else {
		r->start_timer = loop_add_timer(h->loop, 0, start_now, r);
	}
	if (o->timeout_ms)
		r->total_timer = loop_add_timer(h->loop, o->timeout_ms, on_timeout, r);
	if (ret_req)
		*ret_req = r;
	return 0;
}

void http_cancel(struct http_req *r)
{
	if (!r)
		return;
	if (r->busy) {
		/* Inside this request's own line callback: freed when it returns. */
		r->cancelled = true;
		r->done = NULL;
		r->line = NULL;
		return;
	}
	req_free(r);
}

int http_new(struct loop *loop, struct http **ret)
{
	struct http *h = xcalloc(1, sizeof(*h));

	h->loop = loop;
	*ret = h;
	return 0;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	while (h->reqs)
		req_free(h->reqs);
	if (h->tls.ctx)
		SSL_CTX_free(h->tls.ctx);
	free(h->tls.key);
	free(h);
}

unsigned http_active(const struct http *h)
{
	unsigned n = 0;

	for (const struct http_req *r = h->reqs; r; r = r->next)
		n++;
	return n;
}
