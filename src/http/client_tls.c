// SPDX-License-Identifier: Apache-2.0
/*
 * The client's TLS, the only code in weft that calls OpenSSL (loaded on
 * first use, tls_lib.h): the context, cached per client, a session per
 * connection with the server's name or address to verify, the handshake,
 * and reads and writes on the session.
 */
#include "http/client_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "http/tls_calls.h"

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
	char *key = tls_key(t);
	SSL_CTX *ctx;

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
	client_tls_ctx_free(h);
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

int client_tls_begin(struct http_req *r)
{
	const struct http_tls *t = &r->tls;
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
	if (!t->insecure) {
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

void client_tls_handshake(struct http_req *r)
{
	int n;

	ERR_clear_error();
	errno = 0;
	n = SSL_do_handshake(r->ssl);
	if (n == 1) {
		r->state = ST_SENDING;
		client_on_writable(r);
		return;
	}
	switch (SSL_get_error(r->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		client_want(r, LOOP_READ);
		return;
	case SSL_ERROR_WANT_WRITE:
		client_want(r, LOOP_WRITE);
		return;
	case SSL_ERROR_SYSCALL:
		if (errno) {
			client_finish(r, -EPROTO, "TLS handshake with %s: %s", r->host,
				      strerror(errno));
			return;
		}
		/* fall through */
	default: {
		long v = SSL_get_verify_result(r->ssl);

		if (v != X509_V_OK)
			client_finish(r, -EPROTO,
				      "TLS handshake with %s: certificate verify failed: %s",
				      r->host, X509_verify_cert_error_string(v));
		else
			client_finish(r, -EPROTO, "TLS handshake with %s: %s", r->host,
				      ssl_error_text());
	}
	}
}

ssize_t client_tls_read(struct http_req *r, char *buf, size_t len, uint32_t *ret_want)
{
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

ssize_t client_tls_write(struct http_req *r, const char *buf, size_t len, uint32_t *ret_want)
{
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

void client_tls_close(struct http_req *r)
{
	if (r->ssl) {
		SSL_free(r->ssl);
		r->ssl = NULL;
	}
}

void client_tls_ctx_free(struct http *h)
{
	if (h->tls.ctx)
		SSL_CTX_free(h->tls.ctx);
	free(h->tls.key);
}
