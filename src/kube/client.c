// SPDX-License-Identifier: Apache-2.0
#include "kube/client.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "kube/kubeconfig.h"

struct kube_client {
	struct http *http;
	char *server;
	char *cafile, *certfile, *keyfile; /* paths, possibly /proc/self/fd/N */
	int memfd[3];
	bool insecure;
	struct http_tls tls; /* points into the fields above; http keeps the pointer */
	char *token;	  /* static, or the last good read of token_file */
	char *token_file;
	struct kube_client_stats stats;
};

/* PEM bytes as a file only this process can open. */
static int memfd_file(const char *name, const char *data, size_t len, int *ret_fd,
		      char **ret_path, struct err *err)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return err_set(err, -errno, "memfd_create: %s", strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int rc = n < 0 ? -errno : -EIO;

			close(fd);
			return err_set(err, rc, "writing %s to a memfd: %s", name, strerror(-rc));
		}
		off += (size_t)n;
	}
	*ret_fd = fd;
	xasprintf(ret_path, "/proc/self/fd/%d", fd);
	return 0;
}

void kube_client_free(struct kube_client *c)
{
	if (!c)
		return;
	http_free(c->http);
	for (int i = 0; i < 3; i++)
		if (c->memfd[i] >= 0)
			close(c->memfd[i]);
	free(c->server);
	free(c->cafile);
	free(c->certfile);
	free(c->keyfile);
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->token_file);
	free(c);
}

int kube_client_new(struct loop *loop, const struct kubeconfig *kc, struct kube_client **ret,
		    struct err *err)
{
	struct kube_client *c = xcalloc(1, sizeof(*c));
	int rc;

	c->memfd[0] = c->memfd[1] = c->memfd[2] = -1;
	c->server = xstrdup(kc->server);
	c->insecure = kc->insecure;
	rc = 0;
	if (kc->ca_data)
		rc = memfd_file("kube-ca", kc->ca_data, kc->ca_len, &c->memfd[0], &c->cafile, err);
	else
		c->cafile = kc->ca_file ? xstrdup(kc->ca_file) : NULL;
	if (rc < 0)
		goto fail;
	if (kc->cert_data)
		rc = memfd_file("kube-cert", kc->cert_data, kc->cert_len, &c->memfd[1],
				&c->certfile, err);
	else
		c->certfile = kc->cert_file ? xstrdup(kc->cert_file) : NULL;
	if (rc < 0)
		goto fail;
	if (kc->key_data)
		rc = memfd_file("kube-key", kc->key_data, kc->key_len, &c->memfd[2], &c->keyfile,
				err);
	else
		c->keyfile = kc->key_file ? xstrdup(kc->key_file) : NULL;
	if (rc < 0)
		goto fail;
	c->token = kc->token ? xstrdup(kc->token) : NULL;
	c->token_file = kc->token_file ? xstrdup(kc->token_file) : NULL;
	c->tls = (struct http_tls){
		.cafile = c->cafile,
		.certfile = c->certfile,
		.keyfile = c->keyfile,
		.insecure = c->insecure,
	};
	rc = http_new(loop, &c->http);
	if (rc < 0) {
		err_set(err, rc, "cannot set up the HTTP client");
		goto fail;
	}
	*ret = c;
	return 0;
fail:
	kube_client_free(c);
	return rc;
}

static void refresh_token(struct kube_client *c)
{
	struct err err = { 0 };
	char *t;

	if (!c->token_file)
		return;
	if (kube_read_token(c->token_file, &t, &err) < 0) {
		log_debug("kube: %s; keeping the last token", err.msg);
		return;
	}
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	c->token = t;
}

int kube_request(struct kube_client *c, const struct kube_req_opts *o, http_done_cb *done,
		 http_line_cb *line, void *arg, struct http_req **ret_req)
{
	const char *headers[3] = { "Accept: application/json" };
	struct http_opts ho = {
		.method = o->method,
		.body = o->body,
		.body_len = o->body ? strlen(o->body) : 0,
		.content_type = o->content_type,
		.headers = headers,
		.tls = &c->tls,
		.timeout_ms = o->timeout_ms,
		.max_body = o->max_body,
		.stream = o->stream,
	};
	char *url, *auth = NULL;
	int rc;

	refresh_token(c);
	if (c->token) {
		xasprintf(&auth, "Authorization: Bearer %s", c->token);
		headers[1] = auth;
	}
	xasprintf(&url, "%s%s", c->server, o->path);
	ho.url = url;
	c->stats.requests++;
	log_trace("kube: %s %s", o->method ? o->method : "GET", url);
	rc = http_start(c->http, &ho, done, line, arg, ret_req);
	if (rc < 0)
		c->stats.errors++;
	free(url);
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	return rc;
}

const struct kube_client_stats *kube_client_stats(const struct kube_client *c)
{
	return &c->stats;
}

void kube_client_note_error(struct kube_client *c)
{
	c->stats.errors++;
}

long kube_status_describe(const char *body, size_t len, char *buf, size_t buflen)
{
	json_t *o = json_loadb(body, len, 0, NULL);
	const char *reason, *msg;
	long code = 0;

	if (json_is_object(o) && json_is_string(json_object_get(o, "kind")) &&
	    !strcmp(json_string_value(json_object_get(o, "kind")), "Status")) {
		reason = json_string_value(json_object_get(o, "reason"));
		msg = json_string_value(json_object_get(o, "message"));
		code = (long)json_integer_value(json_object_get(o, "code"));
		snprintf(buf, buflen, "%s%s%s", reason ? reason : "", reason && msg ? ": " : "",
			 msg ? msg : "");
	} else {
		size_t n = len < 160 ? len : 160;

		snprintf(buf, buflen, "%.*s", (int)n, body);
		for (char *p = buf; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
	}
	json_decref(o);
	return code;
}
