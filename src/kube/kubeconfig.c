// SPDX-License-Identifier: Apache-2.0
/*
 * kubeconfig resolution (see kubeconfig.h). The document becomes a jansson
 * tree (libyaml through kube/yaml.c, or jansson itself for JSON), then the
 * current context picks one cluster and one user by name.
 */
#include "kube/kubeconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/file.h"
#include "core/xmalloc.h"
#include "kube/yaml.h"

#define TOKEN_MAX (64u << 10)

void kubeconfig_free(struct kubeconfig *k)
{
	if (!k)
		return;
	free(k->source);
	free(k->server);
	free(k->ca_file);
	free(k->ca_data);
	free(k->cert_file);
	free(k->cert_data);
	free(k->key_file);
	free(k->key_data);
	free(k->token);
	free(k->token_file);
	memset(k, 0, sizeof(*k));
}

/* Read a whole small regular file (core/file). -errno, -E2BIG above max,
 * -EISDIR or -EINVAL when not a regular file: a FIFO or a device could block
 * the caller (the token file is re-read on the loop before every request), so
 * it is opened without waiting and refused. */
static int read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	struct buf b;
	int rc;

	buf_init(&b, max);
	rc = file_read_bounded(AT_FDCWD, path, 0, &b, NULL);
	if (rc < 0) {
		buf_free(&b);
		return rc;
	}
	*ret = b.data;
	*ret_len = b.len;
	return 0;
}

static const char *read_error(int rc)
{
	return rc == -EINVAL ? "not a regular file" : strerror(-rc);
}

int kube_read_token(const char *path, char **ret, struct err *err)
{
	char *data, *s, *e;
	size_t len;
	int rc;

	rc = read_file(path, TOKEN_MAX, &data, &len);
	if (rc < 0)
		return err_set(err, rc, "cannot read the token file %s: %s", path,
			       rc == -E2BIG ? "larger than 64 KiB" : read_error(rc));
	for (s = data; *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'; s++)
		;
	for (e = data + len; e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
				       e[-1] == '\r'); e--)
		;
	if (e == s || memchr(s, '\0', (size_t)(e - s)) || memchr(s, '\n', (size_t)(e - s))) {
		free(data);
		return err_set(err, -EINVAL, "the token file %s is empty or not one line", path);
	}
	*ret = xstrndup(s, (size_t)(e - s));
	free(data);
	return 0;
}

/* ---- the document ---- */

/* A string field: 0 with *ret NULL when absent or null. */
static int get_str(const json_t *o, const char *key, const char *where, char **ret,
		   struct err *err)
{
	const json_t *v = json_object_get(o, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(err, -EINVAL, "%s.%s must be a string", where, key);
	if (json_string_length(v) == 0)
		return 0;
	if (strlen(json_string_value(v)) != json_string_length(v))
		return err_set(err, -EINVAL, "%s.%s contains a NUL byte", where, key);
	*ret = xstrdup(json_string_value(v));
	return 0;
}

static int get_bool(const json_t *o, const char *key, const char *where, bool *ret,
		    struct err *err)
{
	const json_t *v = json_object_get(o, key);

	*ret = false;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_boolean(v)) {
		*ret = json_is_true(v);
		return 0;
	}
	if (json_is_string(v) && !strcmp(json_string_value(v), "true")) {
		*ret = true;
		return 0;
	}
	if (json_is_string(v) && !strcmp(json_string_value(v), "false"))
		return 0;
	return err_set(err, -EINVAL, "%s.%s must be true or false", where, key);
}

/* base64 of a *-data field, line breaks allowed (Go's decoder skips them). */
static int get_data(const json_t *o, const char *key, const char *where, char **ret,
		    size_t *ret_len, struct err *err)
{
	char *b64, *clean;
	size_t n = 0;
	long len;
	int rc;

	*ret = NULL;
	*ret_len = 0;
	rc = get_str(o, key, where, &b64, err);
	if (rc < 0 || !b64)
		return rc;
	clean = xmalloc(strlen(b64) + 1);
	for (const char *p = b64; *p; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')
			clean[n++] = *p;
	clean[n] = '\0';
	len = base64_decode_alloc(clean, n, ret);
	free(clean);
	free(b64);
	if (len <= 0) {
		if (len == 0)
			free(*ret);
		*ret = NULL;
		return err_set(err, -EINVAL, "%s.%s is not valid base64", where, key);
	}
	*ret_len = (size_t)len;
	return 0;
}

/* A relative path is relative to the kubeconfig's directory. */
static char *anchor(const char *base_dir, char *path)
{
	char *full;

	if (!path || path[0] == '/' || !base_dir || !*base_dir)
		return path;
	xasprintf(&full, "%s/%s", base_dir, path);
	free(path);
	return full;
}

/* The `inner` object of the list entry named name: clusters[name=X].cluster. */
static int find_named(const json_t *root, const char *list, const char *inner, const char *name,
		      const json_t **ret, struct err *err)
{
	const json_t *arr = json_object_get(root, list), *e;
	size_t i;

	if (arr && !json_is_array(arr) && !json_is_null(arr))
		return err_set(err, -EINVAL, "%s must be a list", list);
	json_array_foreach(arr, i, e) {
		const json_t *n = json_object_get(e, "name");

		if (json_is_string(n) && !strcmp(json_string_value(n), name)) {
			const json_t *o = json_object_get(e, inner);

			if (!o || json_is_null(o)) {
				*ret = NULL;
				return 0;
			}
			if (!json_is_object(o))
				return err_set(err, -EINVAL, "%s[name=%s].%s must be a mapping",
					       list, name, inner);
			*ret = o;
			return 0;
		}
	}
	return err_set(err, -ENOENT, "no entry named \"%s\" in %s", name, list);
}

static char *normalise_server(const char *s)
{
	char *out;
	size_t n;

	if (strstr(s, "://"))
		out = xstrdup(s);
	else
		xasprintf(&out, "https://%s", s);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
	return out;
}

static int check_server(const char *server, const char *what, struct err *err)
{
	if (strncmp(server, "https://", 8) && strncmp(server, "http://", 7))
		return err_set(err, -EINVAL, "%s: server \"%s\" is neither http:// nor https://",
			       what, server);
	if (!server[server[4] == 's' ? 8 : 7])
		return err_set(err, -EINVAL, "%s: server \"%s\" has no host", what, server);
	return 0;
}

static int parse_user(const json_t *user, const char *where, const char *base_dir,
		      struct kubeconfig *k, struct err *err)
{
	bool plugin;
	char *s = NULL;
	int rc;

	if (!user)
		return 0;
	if ((rc = get_data(user, "client-certificate-data", where, &k->cert_data, &k->cert_len,
			   err)) < 0 ||
	    (rc = get_data(user, "client-key-data", where, &k->key_data, &k->key_len, err)) < 0 ||
	    (rc = get_str(user, "client-certificate", where, &k->cert_file, err)) < 0 ||
	    (rc = get_str(user, "client-key", where, &k->key_file, err)) < 0 ||
	    (rc = get_str(user, "token", where, &k->token, err)) < 0 ||
	    (rc = get_str(user, "tokenFile", where, &k->token_file, err)) < 0)
		return rc;
	if (k->cert_data) {
		free(k->cert_file);
		k->cert_file = NULL;
	}
	if (k->key_data) {
		free(k->key_file);
		k->key_file = NULL;
	}
	k->cert_file = anchor(base_dir, k->cert_file);
	k->key_file = anchor(base_dir, k->key_file);
	k->token_file = anchor(base_dir, k->token_file);
	if ((k->cert_data || k->cert_file) != (k->key_data || k->key_file))
		return err_set(err, -EINVAL, "%s: %s is set without %s", where,
			       k->cert_data || k->cert_file ? "client-certificate(-data)"
							    : "client-key(-data)",
			       k->cert_data || k->cert_file ? "client-key(-data)"
							    : "client-certificate(-data)");
	rc = get_str(user, "username", where, &s, err);
	if (rc == 0 && !s)
		rc = get_str(user, "password", where, &s, err);
	free(s);
	if (rc < 0)
		return rc;
	if (s)
		return err_set(err, -EINVAL, "%s: username/password authentication is not "
			       "supported; use a client certificate or a token", where);
	plugin = json_object_get(user, "exec") || json_object_get(user, "auth-provider");
	if (plugin && !k->cert_data && !k->cert_file && !k->token && !k->token_file)
		return err_set(err, -EINVAL, "%s: %s credential plugins are not supported; use a "
			       "client certificate or a token", where,
			       json_object_get(user, "exec") ? "exec" : "auth-provider");
	return 0;
}

int kubeconfig_parse(const char *text, size_t len, const char *base_dir, const char *api_url,
		     struct kubeconfig *ret, struct err *err)
{
	struct kubeconfig k = { 0 };
	const json_t *ctx = NULL, *cluster = NULL, *user = NULL;
	char *cur = NULL, *cname = NULL, *uname = NULL, *tsn = NULL, *where = NULL;
	const char *p = text;
	json_t *root = NULL;
	int rc;

	memset(ret, 0, sizeof(*ret));
	while (p < text + len && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p < text + len && *p == '{') {
		json_error_t je;

		root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
		if (!root) {
			rc = err_set(err, -EINVAL, "line %d: %s", je.line, je.text);
			goto out;
		}
	} else {
		rc = yaml_parse(text, len, &root, err);
		if (rc < 0)
			goto out;
	}
	if (!json_is_object(root)) {
		rc = err_set(err, -EINVAL, "not a kubeconfig (the document is not a mapping)");
		goto out;
	}
	rc = get_str(root, "current-context", "kubeconfig", &cur, err);
	if (rc < 0)
		goto out;
	if (!cur) {
		rc = err_set(err, -EINVAL, "current-context is not set");
		goto out;
	}
	rc = find_named(root, "contexts", "context", cur, &ctx, err);
	if (rc < 0) {
		err_prefix(err, rc, "current-context \"%s\"", cur);
		goto out;
	}
	xasprintf(&where, "contexts[name=%s].context", cur);
	if ((rc = get_str(ctx, "cluster", where, &cname, err)) < 0 ||
	    (rc = get_str(ctx, "user", where, &uname, err)) < 0)
		goto out;
	if (!cname) {
		rc = err_set(err, -EINVAL, "%s.cluster is not set", where);
		goto out;
	}
	rc = find_named(root, "clusters", "cluster", cname, &cluster, err);
	if (rc < 0) {
		err_prefix(err, rc, "context \"%s\"", cur);
		goto out;
	}
	if (uname) {
		rc = find_named(root, "users", "user", uname, &user, err);
		if (rc < 0) {
			err_prefix(err, rc, "context \"%s\"", cur);
			goto out;
		}
	}
	free(where);
	xasprintf(&where, "clusters[name=%s].cluster", cname);
	if ((rc = get_str(cluster, "server", where, &k.server, err)) < 0 ||
	    (rc = get_data(cluster, "certificate-authority-data", where, &k.ca_data, &k.ca_len,
			   err)) < 0 ||
	    (rc = get_str(cluster, "certificate-authority", where, &k.ca_file, err)) < 0 ||
	    (rc = get_bool(cluster, "insecure-skip-tls-verify", where, &k.insecure, err)) < 0 ||
	    (rc = get_str(cluster, "tls-server-name", where, &tsn, err)) < 0)
		goto out;
	if (tsn) {
		rc = err_set(err, -EINVAL, "%s.tls-server-name is not supported", where);
		goto out;
	}
	if (k.ca_data) {
		free(k.ca_file);
		k.ca_file = NULL;
	}
	k.ca_file = anchor(base_dir, k.ca_file);
	if (api_url && *api_url) {
		free(k.server);
		k.server = xstrdup(api_url);
	}
	if (!k.server) {
		rc = err_set(err, -EINVAL, "%s.server is not set (and no --kube-api-url)", where);
		goto out;
	}
	{
		char *s = normalise_server(k.server);

		free(k.server);
		k.server = s;
	}
	rc = check_server(k.server, where, err);
	if (rc < 0)
		goto out;
	if (uname) {
		free(where);
		xasprintf(&where, "users[name=%s].user", uname);
		rc = parse_user(user, where, base_dir, &k, err);
		if (rc < 0)
			goto out;
	}
	xasprintf(&k.source, "context \"%s\"", cur);
	*ret = k;
	memset(&k, 0, sizeof(k));
	rc = 0;
out:
	kubeconfig_free(&k);
	json_decref(root);
	free(cur);
	free(cname);
	free(uname);
	free(tsn);
	free(where);
	return rc;
}

/* ---- resolution ---- */

/* TLS reads these later, on the loop: a FIFO there would block it. */
static int check_readable(const char *path, const char *what, struct err *err)
{
	struct stat st;

	if (!path)
		return 0;
	if (access(path, R_OK) < 0 || stat(path, &st) < 0)
		return err_set(err, -errno, "%s %s: %s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(err, -EINVAL, "%s %s: not a regular file", what, path);
	return 0;
}

static int in_cluster(const char *(*getenv_fn)(const char *), struct kubeconfig *k,
		      struct err *err)
{
	const char *host = getenv_fn("KUBERNETES_SERVICE_HOST");
	const char *port = getenv_fn("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv_fn(KUBE_SA_DIR_ENV);
	char *token = NULL;
	int rc;

	if (!host || !*host || !port || !*port)
		return err_set(err, -EINVAL, "no --kubeconfig-file or --kube-api-url, and not "
			       "in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
			       "must be defined");
	if (!dir || !*dir)
		dir = KUBE_SA_DIR;
	if (strchr(host, ':'))
		xasprintf(&k->server, "https://[%s]:%s", host, port);
	else
		xasprintf(&k->server, "https://%s:%s", host, port);
	xasprintf(&k->token_file, "%s/token", dir);
	xasprintf(&k->ca_file, "%s/ca.crt", dir);
	rc = kube_read_token(k->token_file, &token, err);
	free(token);
	if (rc < 0)
		return err_prefix(err, rc, "in-cluster service account");
	rc = check_readable(k->ca_file, "in-cluster service account CA", err);
	if (rc < 0)
		return rc;
	xasprintf(&k->source, "in-cluster service account (%s)", dir);
	return 0;
}

static const char *plain_getenv(const char *name)
{
	return getenv(name);
}

int kubeconfig_resolve(const char *kubeconfig_path, const char *api_url,
		       const char *(*getenv_fn)(const char *name), struct kubeconfig *ret,
		       struct err *err)
{
	struct kubeconfig k = { 0 };
	char *text = NULL, *dir = NULL, *src = NULL, *slash;
	size_t len;
	int rc;

	memset(ret, 0, sizeof(*ret));
	if (!getenv_fn)
		getenv_fn = plain_getenv;
	if (!kubeconfig_path || !*kubeconfig_path) {
		if (api_url && *api_url) {
			k.server = normalise_server(api_url);
			rc = check_server(k.server, "--kube-api-url", err);
			if (rc < 0)
				goto out;
			k.source = xstrdup("--kube-api-url, no credentials");
		} else {
			rc = in_cluster(getenv_fn, &k, err);
			if (rc < 0)
				goto out;
		}
		goto done;
	}
	rc = read_file(kubeconfig_path, KUBECONFIG_MAX_SIZE, &text, &len);
	if (rc < 0) {
		rc = err_set(err, rc, "cannot read kubeconfig %s: %s", kubeconfig_path,
			     rc == -E2BIG ? "larger than 4 MiB" : read_error(rc));
		goto out;
	}
	dir = xstrdup(kubeconfig_path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else {
		free(dir);
		dir = NULL;
	}
	rc = kubeconfig_parse(text, len, dir, api_url, &k, err);
	if (rc < 0) {
		err_prefix(err, rc, "kubeconfig %s", kubeconfig_path);
		goto out;
	}
	xasprintf(&src, "kubeconfig %s, %s", kubeconfig_path, k.source);
	free(k.source);
	k.source = src;
	if ((rc = check_readable(k.ca_file, "certificate-authority", err)) < 0 ||
	    (rc = check_readable(k.cert_file, "client-certificate", err)) < 0 ||
	    (rc = check_readable(k.key_file, "client-key", err)) < 0)
		goto out;
	if (k.token_file) {
		char *t = NULL;

		rc = kube_read_token(k.token_file, &t, err);
		free(t);
		if (rc < 0)
			goto out;
	}
done:
	*ret = k;
	memset(&k, 0, sizeof(k));
	rc = 0;
out:
	kubeconfig_free(&k);
	free(text);
	free(dir);
	return rc;
}
