/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_XMALLOC_H
#define WEFT_CORE_XMALLOC_H

#include <stddef.h>

/*
 * Allocation that cannot fail: on out-of-memory the process prints one line
 * and aborts (Redis zmalloc_oom, OpenBSD fatal("calloc")). Used by the daemon,
 * weftctl and the CNI plugin; the UDP hot path allocates nothing at all.
 */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
int xasprintf(char **ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
