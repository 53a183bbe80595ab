/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_KUBE_KUBECONFIG_H
#define WEFT_KUBE_KUBECONFIG_H

/*
 * How to reach the API server: a kubeconfig file (YAML through libyaml and
 * kube/yaml.h, or JSON), the in-cluster service account, and --kube-api-url,
 * resolved the way client-go's BuildConfigFromFlags does:
 *
 *  - neither a URL nor a kubeconfig: in-cluster (KUBERNETES_SERVICE_HOST and
 *    _PORT, <dir>/token re-read on every request, <dir>/ca.crt);
 *  - a kubeconfig: its current-context's cluster and user; the URL, when
 *    given, replaces the cluster's server;
 *  - only a URL: that server, no credentials, system CAs.
 *
 * From a kubeconfig: clusters[].cluster.server, certificate-authority(-data),
 * insecure-skip-tls-verify; users[].user.client-certificate(-data),
 * client-key(-data), token, tokenFile. A *-data field wins over its file
 * field; tokenFile (re-read on every request) wins over token, as in
 * client-go. Relative paths are relative to the kubeconfig's directory.
 * Refused with a message naming the field: exec and auth-provider plugins
 * (when no certificate or token is present), username/password,
 * tls-server-name.
 *
 * These functions never log: errors say which file, context or field.
 */
#include <stdbool.h>
#include <stddef.h>

struct err;

/* The service-account directory; the environment variable overrides it (tests). */
#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBE_SA_DIR_ENV "WEFT_SERVICEACCOUNT_DIR"

#define KUBECONFIG_MAX_SIZE (4u << 20)

struct kubeconfig {
	char *source;	 /* "kubeconfig /path, context ctx" / "in-cluster" / "--kube-api-url" */
	char *server;	 /* scheme://host[:port][/path], no trailing slash */
	char *ca_file;	 /* NULL: system CAs */
	char *ca_data;	 /* PEM bytes (decoded from base64), or NULL */
	size_t ca_len;
	char *cert_file, *cert_data;
	size_t cert_len;
	char *key_file, *key_data;
	size_t key_len;
	char *token;	  /* static bearer token, or NULL */
	char *token_file; /* re-read on every request, or NULL */
	bool insecure;	  /* insecure-skip-tls-verify */
};

/*
 * Resolve a kubeconfig document. base_dir anchors relative paths (NULL: the
 * current directory); api_url, when not NULL/"", replaces the server. Files
 * named by the document are not opened here.
 */
int kubeconfig_parse(const char *text, size_t len, const char *base_dir, const char *api_url,
		     struct kubeconfig *ret, struct err *err);

/*
 * The whole resolution above. kubeconfig_path and api_url may be NULL or "".
 * getenv_fn lets tests supply the environment (NULL: getenv). Checks that
 * every file named exists and is readable, and reads the token file once.
 */
int kubeconfig_resolve(const char *kubeconfig_path, const char *api_url,
		       const char *(*getenv_fn)(const char *name), struct kubeconfig *ret,
		       struct err *err);

/* Read a bearer token file: whitespace trimmed, at most 64 KiB, not empty.
 * *ret is owned by the caller. */
int kube_read_token(const char *path, char **ret, struct err *err);

void kubeconfig_free(struct kubeconfig *k);

#endif
