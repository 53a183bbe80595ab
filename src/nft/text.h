/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NFT_TEXT_H
#define WEFT_NFT_TEXT_H

/*
 * Text helpers of the traffic module, shared by both modes: rules are
 * written, listed and compared as text, line by line, and what a call did
 * comes back as text in a caller's `what` buffer.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Append one formatted line (at most 511 bytes) to b. 0 or -E2BIG. */
int traffic_bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A buffer's text, "" while it holds nothing. */
static inline const char *traffic_text(const struct buf *b)
{
	return b->data ? b->data : "";
}

/* Append to s (bounded, truncates). */
void traffic_catf(char *s, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Append "; "-separated text to what (bounded, truncates). */
void traffic_note(char *what, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Does text hold exactly this line (without its newline)? */
bool traffic_has_line(const char *text, const char *line, size_t linelen);
/* One phrase for how got differs from want, line-wise ("3 lines missing"). */
void traffic_describe_diff(const char *want, const char *got, char *out, size_t len);

#endif
