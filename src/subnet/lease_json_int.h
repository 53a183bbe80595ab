/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_SUBNET_LEASE_JSON_INT_H
#define WEFT_SUBNET_LEASE_JSON_INT_H

/*
 * The JSON of lease values, read and compacted by encoding/json's grammar
 * (subnet/lease.c's helpers). Spans are bytes s[0..n); an index after a
 * scanned token is returned, 0 meaning "invalid" (no token ends at 0).
 */
#include <stddef.h>

#include "subnet/lease.h"

struct buf;

/*
 * The bound of every buffer lease.c fills: Go's escaping grows text at most
 * sixfold (one '<' becomes \u003c), so whatever is made from a value that
 * lease_attrs_decode accepts (at most LEASE_JSON_MAX bytes) fits.
 */
#define LEASE_JSON_BUF_MAX (8 * LEASE_JSON_MAX)

size_t lease_json_skip_ws(const unsigned char *s, size_t n, size_t i);
/* s[i] == '"': the index after the closing quote, or 0. */
size_t lease_json_scan_string(const unsigned char *s, size_t n, size_t i);
/* One value at s[i] (no leading whitespace), already inside depth
 * containers: the index after it, or 0 (also past encoding/json's 10000
 * levels of nesting). */
size_t lease_json_scan_value(const unsigned char *s, size_t n, size_t i, unsigned depth);

/* encoding/json appendCompact(escape = true) of a RawMessage: exactly one
 * value, optionally surrounded by whitespace, appended to b. -EINVAL if
 * invalid, -E2BIG past b's bound. */
int lease_json_compact(struct buf *b, const char *s, size_t n);
/* Unquote a scanned string span (quotes included) like Go's unquoteBytes:
 * invalid UTF-8 and lone surrogates become U+FFFD. b->data is non-NULL on
 * success, "" for an empty string. 0 or -E2BIG. */
int lease_json_unquote(struct buf *b, const unsigned char *s, size_t n);

#endif
