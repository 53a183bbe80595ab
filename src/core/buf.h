/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_BUF_H
#define WEFT_CORE_BUF_H

#include <stddef.h>

/*
 * A growable byte buffer with a hard maximum (curl's dynbuf): whatever a
 * peer sends, it never grows past max. The data is always NUL-terminated.
 */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
/* -E2BIG when the result would exceed max; the buffer is then unchanged. */
int buf_append(struct buf *b, const void *data, size_t len);
/* buf_append of the string s, without its NUL. */
int buf_puts(struct buf *b, const char *s);
/* Drop the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

#endif
