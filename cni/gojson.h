/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CNI_GOJSON_H
#define WEFT_CNI_GOJSON_H

/*
 * JSON output byte-identical to Go's encoding/json.Marshal of the value the
 * upstream plugin holds (a map[string]interface{} tree): compact, object keys
 * sorted bytewise, numbers as float64 in Go's shortest form (1450, 0.1,
 * 1e+21, 1e-7), strings with Go's escapes (\u003c \u003e \u0026 for < > &,
 * \u2028 \u2029, \b \f \n \r \t, other controls as \u00XX, invalid UTF-8 as
 * \ufffd). Objects listed in opts->fixed are Go structs instead of maps: their
 * keys come in opts->fixed_keys order (any other key after them, sorted).
 */
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/json_go.h"

struct buf;

struct gojson_opts {
	const json_t *const *fixed;
	size_t n_fixed;
	const char *const *fixed_keys; /* NULL-terminated */
};

/* Append the encoding of v to out. -E2BIG when out would exceed its maximum,
 * -EINVAL for a value Go cannot encode (NaN, infinity). */
int gojson_encode(const json_t *v, struct buf *out, const struct gojson_opts *opts);

/* Append s (len bytes, any content) as a Go JSON string literal. */
static inline int gojson_encode_string(struct buf *out, const char *s, size_t len)
{
	return json_go_put_string(out, s, len);
}

/* Go's strconv.AppendFloat(f, 'f' or 'e', -1, 64) as encoding/json uses it;
 * buf must hold 32 bytes. -EINVAL for NaN and infinities. */
int gojson_format_float(double f, char *buf, size_t size);

/* Decode a network configuration the way Go does into interface{}: every
 * number becomes a float64 (jansson real), so huge integers load too. */
json_t *gojson_loadb(const char *buf, size_t len, json_error_t *error);

#endif
