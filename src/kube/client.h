/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_KUBE_CLIENT_H
#define WEFT_KUBE_CLIENT_H

/*
 * A Kubernetes API client on the loop: unary requests and watch streams over
 * http/client.h, authenticated as the resolved kubeconfig says. Inline
 * certificates and keys (*-data) are handed to the TLS layer as memfd files
 * (/proc/self/fd/N), so they never touch the disk. A token file is re-read
 * before every request (service-account tokens rotate); when a re-read
 * fails, the last good token is kept.
 *
 * Library code: it never logs above debug; the caller decides and logs.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/client.h"

struct err;
struct loop;
struct kubeconfig;
struct kube_client;

struct kube_client_stats {
	uint64_t requests; /* started */
	uint64_t errors;   /* transport errors and HTTP statuses >= 400 */
};

/* Takes the connection settings (they are copied). */
int kube_client_new(struct loop *loop, const struct kubeconfig *kc, struct kube_client **ret,
		    struct err *err);
/* Cancels every request without calling back. NULL is fine. */
void kube_client_free(struct kube_client *c);

struct kube_req_opts {
	const char *method;	  /* NULL: GET */
	const char *path;	  /* "/api/v1/nodes?..." (appended to the server URL) */
	const char *body;	  /* NULL: none */
	const char *content_type; /* with a body */
	long timeout_ms;	  /* 0 = none */
	size_t max_body;	  /* unary: whole body; stream: one line. 0 = 16 MiB */
	bool stream;		  /* watch: lines as they come */
};

/* As http_start; the callbacks follow http/client.h's rules. */
int kube_request(struct kube_client *c, const struct kube_req_opts *o, http_done_cb *done,
		 http_line_cb *line, void *arg, struct http_req **ret_req);

const struct kube_client_stats *kube_client_stats(const struct kube_client *c);
/* Counts a failure the caller noticed itself (a bad status in a stream). */
void kube_client_note_error(struct kube_client *c);

/*
 * "reason: message" of a Kubernetes Status object in body (or the start of
 * the body when it is none), into buf. Returns Status.code, or 0.
 */
long kube_status_describe(const char *body, size_t len, char *buf, size_t buflen);

#endif
