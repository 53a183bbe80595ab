/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_JSON_GO_H
#define WEFT_CORE_JSON_GO_H

/*
 * A JSON string literal byte-identical to Go's encoding/json (appendString
 * with HTML escaping, as json.Marshal does): \" \\ \b \f \n \r \t; other
 * controls as \u00XX; < > & as \u003c \u003e \u0026; U+2028 and U+2029 as
 * \u2028 \u2029; each byte of invalid UTF-8 as \ufffd (Go >= 1.22); all
 * else as is. Used by the lease values weftd writes and by the CNI plugin.
 */
#include <stddef.h>

struct buf;

/* Append s (len bytes, any content) quoted. 0, or -E2BIG when out would
 * exceed its maximum (out then holds part of it). */
int json_go_put_string(struct buf *out, const char *s, size_t len);

/* The word Go's encoding/json uses in its errors for the type of a JSON value
 * ("string", "object", "array", "bool", "null", "number"), from the value's
 * first byte. */
const char *json_go_type_name(char first);

#endif
