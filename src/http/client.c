// SPDX-License-Identifier: Apache-2.0
/*
 * A small HTTP/1.1 client on the daemon's loop, for etcd's JSON gateway and
 * the Kubernetes API: one connection per request (Connection: close), bodies
 * by Content-Length, chunked or until close (client_resp.c), optional TLS
 * through OpenSSL.
 *
 * Why not libcurl: it drags GnuTLS, Kerberos, LDAP, SSH and p11-kit into the
 * daemon, about 5 MB of resident memory before the first request; the daemon
 * needs none of it.
 *
 * Nothing here blocks the loop: a host name is resolved by a short-lived
 * thread that posts its result through an eventfd (getaddrinfo cannot be
 * cancelled; a look-up that outlives its request ends in the thread), every
 * address it yields is tried in turn within the connect timeout, and reads
 * are bounded per event.
 *
 * Every callback runs from the loop (an fd or timer event), never from inside
 * http_start, and a callback may start or cancel any request, its own too.
 */
#include "http/client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "http/client_resp.h"
#include "http/tls_calls.h"
#include "http/token.h"

#define DEFAULT_MAX_BODY (16u << 20)
#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define MAX_REQUEST_HEAD (64u << 10)
#define READ_CHUNK 65536
/* Then back to the loop, which calls again while data is there. */
#define READS_PER_EVENT 16
/* An address's share of the connect timeout is never less (Go's dialer). */
#define MIN_ATTEMPT_MS 2000
/* Look-ups in flight in the process; more fail at once. */
#define MAX_RESOLVERS 16

enum req_state { ST_RESOLVING, ST_CONNECTING, ST_HANDSHAKE, ST_SENDING, ST_RECEIVING, ST_DONE };

struct http_tls_ctx {
	SSL_CTX *ctx;
	char *key; /* cafile \n certfile \n keyfile \n insecure: what it was made for */
};

struct http {
	struct loop *loop;
	struct http_req *reqs;
	struct http_tls_ctx tls; /* one cached context: every user has one TLS setup */
};

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

struct http_req {
	struct http *h;
	struct http_req *next;
	int fd;
	SSL *ssl;
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
	int64_t connect_deadline; /* loop_now_ms */
	int conn_err;		  /* errno of the last failed attempt */
	char errmsg[320];
	http_done_cb *done;
	http_line_cb *line;
	void *arg;
	struct http_tls tls; /* a copy (strings owned): the start is deferred */
	struct resolve *rs;
	struct addrinfo *ai, *cur;
};

static void req_event(struct loop *loop, int fd, uint32_t events, void *arg);
static void try_connect(struct http_req *r);

/* ---- life cycle ---- */

static void resolve_put(struct resolve *rs)
{
	if (__atomic_sub_fetch(&rs->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (rs->res)
		freeaddrinfo(rs->res);
	close(rs->efd);
	free(rs);
}

static void del_timer(struct http_req *r, int64_t *id)
{
	if (*id > 0)
		loop_del_timer(r->h->loop, *id);
	*id = 0;
}

static void close_conn(struct http_req *r)
{
	if (r->ssl) {
		SSL_free(r->ssl);
		r->ssl = NULL;
	}
	if (r->fd >= 0) {
		loop_del_fd(r->h->loop, r->fd);
		close(r->fd);
		r->fd = -1;
	}
}

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
	del_timer(r, &r->start_timer);
	del_timer(r, &r->connect_timer);
	del_timer(r, &r->attempt_timer);
	del_timer(r, &r->total_timer);
	close_conn(r);
	if (r->rs) {
		loop_del_fd(r->h->loop, r->rs->efd);
		resolve_put(r->rs);
	}
	if (r->ai)
		freeaddrinfo(r->ai);
	free((char *)(uintptr_t)r->tls.cafile);
	free((char *)(uintptr_t)r->tls.certfile);
	free((char *)(uintptr_t)r->tls.keyfile);
	buf_free(&r->out);
	http_resp_free(&r->resp);
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
	long status = r->resp.status;
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
		else if (*p && *p != '/' && *p != '?')
			return -EINVAL;
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
	/* No user info, no spaces or control bytes in a host. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u->host[i] <= ' ' || u->host[i] == 0x7f || u->host[i] == '@')
			return -EINVAL;
	if (colon) {
		size_t pl = strspn(colon + 1, "0123456789");
		long port;

		if (pl == 0 || pl > 5)
			return -EINVAL;
		memcpy(u->port, colon + 1, pl);
		u->port[pl] = '\0';
		port = strtol(u->port, NULL, 10);
		if (port < 1 || port > 65535)
			return -EINVAL;
		p = colon + 1 + pl;
		if (*p && *p != '/' && *p != '?')
			return -EINVAL;
	} else {
		snprintf(u->port, sizeof(u->port), "%s", u->https ? "443" : "80");
	}
	u->path = *p ? p : "/";
	return 0;
}

/* Text that goes into the request head: no CR, LF or other control byte
 * (a token read from a file must not add a header line). */
static bool head_safe(const char *s, bool allow_space)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == 0x7f || (c < 0x20 && !(allow_space && c == '\t')) ||
		    (c == ' ' && !allow_space))
			return false;
	}
	return true;
}

static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!http_tchar((unsigned char)*s))
			return false;
	return true;
}

/* Append NULL-terminated strings. */
static int put(struct buf *b, ...)
{
	const char *s;
	va_list ap;
	int rc = 0;

	va_start(ap, b);
	while (!rc && (s = va_arg(ap, const char *)))
		rc = buf_append(b, s, strlen(s));
	va_end(ap);
	return rc;
}

/* The request, head and body, into out (bounded); -EINVAL for text that
 * cannot go into a head, -E2BIG when too large. */
static int build_request(const struct http_opts *o, const struct url *u, struct buf *out)
{
	const char *method = o->method ? o->method : o->body ? "POST" : "GET";
	bool v6 = strchr(u->host, ':') != NULL;
	char len[24];
	int rc;

	if (!is_token(method) || !head_safe(u->path, false) ||
	    (o->content_type && !head_safe(o->content_type, true)))
		return -EINVAL;
	for (const char *const *hd = o->headers; hd && *hd; hd++) {
		const char *c = strchr(*hd, ':');

		if (!c || c == *hd || !head_safe(*hd, true))
			return -EINVAL;
	}
	if (o->body_len > SIZE_MAX / 2)
		return -E2BIG;
	buf_init(out, MAX_REQUEST_HEAD + (o->body ? o->body_len : 0));
	rc = put(out, method, " ", *u->path == '/' ? "" : "/", u->path, " HTTP/1.1\r\nHost: ",
		 v6 ? "[" : "", u->host, v6 ? "]" : "", ":", u->port,
		 "\r\nUser-Agent: weft\r\nAccept: */*\r\nConnection: close\r\n", NULL);
	if (!rc && o->body) {
		snprintf(len, sizeof(len), "%zu", o->body_len);
		rc = put(out, "Content-Type: ", o->content_type ? o->content_type : "application/json",
			 "\r\nContent-Length: ", len, "\r\n", NULL);
	}
	for (const char *const *hd = o->headers; !rc && hd && *hd; hd++) {
		/* A header without a value ("Expect:") means "don't send it". */
		const char *c = strchr(*hd, ':');

		if (c[1] != '\0')
			rc = put(out, *hd, "\r\n", NULL);
	}
	if (!rc)
		rc = put(out, "\r\n", NULL);
	if (!rc && o->body)
		rc = buf_append(out, o->body, o->body_len);
	if (rc < 0)
		buf_free(out);
	return rc;
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

/* Read into buf; returns bytes, 0 at a clean EOF (for TLS: close_notify),
 * -ECONNABORTED at a TLS EOF without close_notify, -EAGAIN, or another
 * -errno (r->errmsg then says why). *ret_want: the readiness to wait for. */
static ssize_t do_read(struct http_req *r, char *buf, size_t len, uint32_t *ret_want)
{
	*ret_want = LOOP_READ;
	if (r->ssl) {
		int n, e;

		ERR_clear_error();
		errno = 0;
		n = SSL_read(r->ssl, buf, (int)len);
		if (n > 0)
			return n;
		e = errno;
		switch (SSL_get_error(r->ssl, n)) {
		case SSL_ERROR_WANT_READ:
			return -EAGAIN;
		case SSL_ERROR_WANT_WRITE:
			*ret_want = LOOP_WRITE;
			return -EAGAIN;
		case SSL_ERROR_ZERO_RETURN:
			return 0;
		case SSL_ERROR_SYSCALL:
			if (!e)
				return -ECONNABORTED;
			snprintf(r->errmsg, sizeof(r->errmsg), "TLS read: %s", strerror(e));
			return -e;
		case SSL_ERROR_SSL:
			if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
				ERR_clear_error();
				return -ECONNABORTED;
			}
			/* fall through */
		default:
			snprintf(r->errmsg, sizeof(r->errmsg), "TLS read: %s", ssl_error_text());
			return -EPROTO;
		}
	}
	ssize_t n = recv(r->fd, buf, len, 0);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -EAGAIN;
	snprintf(r->errmsg, sizeof(r->errmsg), "%s", strerror(errno));
	return -errno;
}

static ssize_t do_write(struct http_req *r, const char *buf, size_t len, uint32_t *ret_want)
{
	*ret_want = LOOP_WRITE;
	if (r->ssl) {
		int n, e;

		ERR_clear_error();
		errno = 0;
		n = SSL_write(r->ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len));
		if (n > 0)
			return n;
		e = errno;
		switch (SSL_get_error(r->ssl, n)) {
		case SSL_ERROR_WANT_WRITE:
			return -EAGAIN;
		case SSL_ERROR_WANT_READ:
			*ret_want = LOOP_READ;
			return -EAGAIN;
		case SSL_ERROR_SYSCALL:
			if (e) {
				snprintf(r->errmsg, sizeof(r->errmsg), "%s", strerror(e));
				return -e;
			}
			/* fall through */
		default:
			snprintf(r->errmsg, sizeof(r->errmsg), "TLS write: %s", ssl_error_text());
			return -EPROTO;
		}
	}
	/* MSG_NOSIGNAL: a reset peer is an error, not a SIGPIPE. */
	ssize_t n = send(r->fd, buf, len, MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -EAGAIN;
	snprintf(r->errmsg, sizeof(r->errmsg), "%s", strerror(errno));
	return -errno;
}

/* ---- the response ---- */

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

/* Decoded body bytes from the parser; -ECANCELED when the request is gone. */
static int body_bytes(void *arg, const char *p, size_t n)
{
	struct http_req *r = arg;

	if (!r->stream && !r->resp.chunked && r->resp.content_length > (int64_t)r->max_body) {
		req_finish(r, -E2BIG, "response too large (Content-Length %lld, at most %zu)",
			   (long long)r->resp.content_length, r->max_body);
		return -ECANCELED;
	}
	if (buf_append(&r->body, p, n) < 0) {
		req_finish(r, -E2BIG, "%s", r->stream ? "response line too long" : "response too large");
		return -ECANCELED;
	}
	return !r->stream || deliver_lines(r) ? 0 : -ECANCELED;
}

static void complete(struct http_req *r)
{
	/* A stream's last partial line is handed over as the body. */
	req_finish(r, 0, NULL);
}

static void on_eof(struct http_req *r, bool clean)
{
	int rc = http_resp_eof(&r->resp);

	if (rc == 1 && clean)
		complete(r);
	else if (rc == 1)
		/* The close delimits the body: without close_notify it may
		 * have been cut short by anyone on the path. */
		req_finish(r, -EIO, "TLS connection closed without close_notify: the response may be truncated");
	else
		req_finish(r, -EIO, "%s", r->resp.errmsg);
}

static void on_readable(struct http_req *r)
{
	char buf[READ_CHUNK];
	uint32_t w;

	for (int i = 0; i < READS_PER_EVENT; i++) {
		ssize_t n = do_read(r, buf, sizeof(buf), &w);
		int rc;

		if (n == -EAGAIN) {
			want(r, w);
			return;
		}
		if (n == 0 || n == -ECONNABORTED) {
			on_eof(r, n == 0);
			return;
		}
		if (n < 0) {
			req_finish(r, n == -EPROTO ? -EPROTO : -EIO, "%s", r->errmsg);
			return;
		}
		rc = http_resp_feed(&r->resp, buf, (size_t)n, body_bytes, r);
		if (rc == -ECANCELED)
			return;
		if (rc < 0) {
			req_finish(r, rc, "%s", r->resp.errmsg);
			return;
		}
		if (rc > 0) {
			complete(r);
			return;
		}
	}
	/* More may be there: the loop calls again (level-triggered). */
	want(r, LOOP_READ);
}

static void on_writable(struct http_req *r)
{
	uint32_t w;

	while (r->out_off < r->out.len) {
		ssize_t n = do_write(r, r->out.data + r->out_off, r->out.len - r->out_off, &w);

		if (n == -EAGAIN) {
			want(r, w);
			return;
		}
		if (n < 0) {
			req_finish(r, n == -EPROTO ? -EPROTO : -EIO, "sending the request: %s",
				   r->errmsg);
			return;
		}
		r->out_off += (size_t)n;
	}
	r->state = ST_RECEIVING;
	want(r, LOOP_READ);
	on_readable(r);
}

static void on_handshake(struct http_req *r)
{
	int n;

	ERR_clear_error();
	errno = 0;
	n = SSL_do_handshake(r->ssl);
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
	case SSL_ERROR_SYSCALL:
		if (errno) {
			req_finish(r, -EPROTO, "TLS handshake with %s: %s", r->host, strerror(errno));
			return;
		}
		/* fall through */
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

/* ---- connecting ---- */

static int errno_code(int e)
{
	return e == ECONNREFUSED ? -ECONNREFUSED : e == ETIMEDOUT ? -ETIMEDOUT : -EHOSTUNREACH;
}

/* The attempt on r->cur failed with errno e. */
static void note_failure(struct http_req *r, int e)
{
	del_timer(r, &r->attempt_timer);
	close_conn(r);
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

	del_timer(r, &r->attempt_timer);
	del_timer(r, &r->connect_timer);
	if (!r->https) {
		r->state = ST_SENDING;
		on_writable(r);
		return;
	}
	rc = tls_begin(r, &r->tls);
	if (rc < 0) {
		req_finish(r, rc, "%s", r->errmsg);
		return;
	}
	r->state = ST_HANDSHAKE;
	on_handshake(r);
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
		on_handshake(r);
		break;
	case ST_SENDING:
		on_writable(r);
		break;
	case ST_RECEIVING:
		on_readable(r);
		break;
	default:
		break;
	}
}

/* Start connecting to r->cur: 0 when under way, else the errno. */
static int attempt(struct http_req *r)
{
	const struct addrinfo *ai = r->cur;
	int64_t left = r->connect_deadline - loop_now_ms(), ms;
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
	req_finish(r, errno_code(r->conn_err), "%s", r->errmsg);
}

static int64_t start_now(struct loop *loop, int64_t id, void *arg)
{
	struct http_req *r = arg;

	(void)loop;
	(void)id;
	r->start_timer = 0;
	r->cur = r->ai;
	try_connect(r);
	return LOOP_TIMER_STOP;
}

static int64_t fail_later(struct loop *loop, int64_t id, void *arg)
{
	struct http_req *r = arg;

	(void)loop;
	(void)id;
	r->start_timer = 0;
	req_finish(r, -EHOSTUNREACH, "%s", r->errmsg);
	return LOOP_TIMER_STOP;
}

static int64_t on_connect_timeout(struct loop *loop, int64_t id, void *arg)
{
	struct http_req *r = arg;

	(void)loop;
	(void)id;
	r->connect_timer = 0;
	req_finish(r, -ETIMEDOUT, "%s %s timed out",
		   r->state == ST_RESOLVING ? "resolving" : "connecting to", r->host);
	return LOOP_TIMER_STOP;
}

static int64_t on_total_timeout(struct loop *loop, int64_t id, void *arg)
{
	struct http_req *r = arg;

	(void)loop;
	(void)id;
	r->total_timer = 0;
	req_finish(r, -ETIMEDOUT, "%s %s timed out",
		   r->state == ST_RESOLVING	 ? "resolving"
		   : r->state == ST_CONNECTING ? "connecting to"
					       : "request to",
		   r->host);
	return LOOP_TIMER_STOP;
}

/* ---- name resolution ---- */

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
		req_finish(r, -EHOSTUNREACH, "%s", r->errmsg);
		return;
	}
	r->cur = r->ai;
	try_connect(r);
}

/* Start a look-up thread for r's host; 0, or -errno with r->errmsg set. */
static int resolve_begin(struct http_req *r)
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

/* ---- public API ---- */

int http_start(struct http *h, const struct http_opts *o, http_done_cb *done, http_line_cb *line,
	       void *arg, struct http_req **ret_req)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct http_req *r;
	struct buf out;
	struct url u;
	long connect_ms;
	int rc;

	rc = url_parse(o->url, &u);
	if (rc < 0)
		return rc;
	rc = build_request(o, &u, &out);
	if (rc < 0)
		return rc;
	r = xcalloc(1, sizeof(*r));
	r->h = h;
	r->fd = -1;
	r->out = out;
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
	connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
	r->connect_deadline = loop_now_ms() + connect_ms;
	snprintf(r->host, sizeof(r->host), "%s", u.host);
	snprintf(r->port, sizeof(r->port), "%s", u.port);
	http_resp_init(&r->resp, o->method && !strcmp(o->method, "HEAD"));
	buf_init(&r->body, r->max_body);
	r->next = h->reqs;
	h->reqs = r;
	/* Addresses are ready at once; names are looked up off the loop. */
	r->numeric = getaddrinfo(u.host, u.port, &hints, &r->ai) == 0;
	if (r->numeric) {
		r->state = ST_CONNECTING;
		r->start_timer = loop_add_timer(h->loop, 0, start_now, r);
	} else {
		r->ai = NULL;
		r->state = ST_RESOLVING;
		if (resolve_begin(r) < 0)
			r->start_timer = loop_add_timer(h->loop, 0, fail_later, r);
	}
	/* Look-up and every address tried share the connect timeout. */
	r->connect_timer = loop_add_timer(h->loop, connect_ms, on_connect_timeout, r);
	if (o->timeout_ms > 0)
		r->total_timer = loop_add_timer(h->loop, o->timeout_ms, on_total_timeout, r);
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
