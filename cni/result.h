/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CNI_RESULT_H
#define WEFT_CNI_RESULT_H

/*
 * What the plugin prints on stdout: a CNI error object
 *	{"cniVersion":"1.0.0","code":7,"msg":"...","details":"..."}
 * (details only when set), a delegate's own error object passed through
 * byte for byte, or the VERSION answer.
 */
#include <stddef.h>
#include <stdio.h>

/* Well-known error codes of the CNI specification. */
enum {
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_TRY_AGAIN = 11,
	CNI_ERR_NOT_AVAILABLE = 50, /* STATUS: cannot service ADD */
	CNI_ERR_INTERNAL = 999,	    /* libcni's skel uses it for any other failure */
};

struct cni_error {
	unsigned code; /* 0 while no error is set */
	char msg[2048];
	char details[2048];
	/* A delegate's error object, printed as is instead of code/msg. */
	char *raw;
	size_t raw_len;
};

/* Set code and message (printf-style); returns -EINVAL so that callers can
 * write `return cni_fail(e, CNI_ERR_..., "...")`. e may be NULL. */
int cni_fail(struct cni_error *e, unsigned code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cni_set_details(struct cni_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Keep a delegate's error object (copied) to print instead of ours. */
int cni_fail_raw(struct cni_error *e, unsigned code, const char *raw, size_t len);
void cni_error_free(struct cni_error *e);

/* Print the error object for a configuration of version cni_version. */
void cni_error_print(FILE *out, const struct cni_error *e, const char *cni_version);

/* {"cniVersion":"1.1.0","supportedVersions":[...]} and a newline. */
void cni_version_print(FILE *out);

/* Go's %q of arbitrary bytes, truncated to fit size (which must be >= 8). */
void cni_quote(char *dst, size_t size, const char *s, size_t len);

#endif
