// SPDX-License-Identifier: Apache-2.0
/*
 * The upstream plugin stores and sends json.Marshal(map[string]interface{}):
 * sorted keys and float64 numbers. jansson's own dumper differs in the
 * details (it keeps integers as integers, prints 0.1 as 0.10000000000000001
 * and does not escape < > &), so the bytes are produced here.
 */
#include "gojson.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json_go.h"
#include "core/xmalloc.h"

int gojson_format_float(double f, char *buf, size_t size)
{
	char tmp[40], digits[24], *e;
	double a = fabs(f);
	int prec, exp, nd = 0, pos = 0;
	bool eform;

	if (isnan(f) || isinf(f) || size < 32)
		return -EINVAL;
	if (a == 0) {
		snprintf(buf, size, "%s", signbit(f) ? "-0" : "0");
		return 0;
	}
	/* The shortest decimal that reads back as the same double. */
	for (prec = 0; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec, a);
		if (strtod(tmp, NULL) == a)
			break;
	}
	e = strchr(tmp, 'e');
	for (char *p = tmp; p < e; p++)
		if (*p != '.')
			digits[nd++] = *p;
	digits[nd] = '\0';
	exp = (int)strtol(e + 1, NULL, 10);

	if (f < 0)
		buf[pos++] = '-';
	eform = a < 1e-6 || a >= 1e21;
	if (eform) {
		buf[pos++] = digits[0];
		if (nd > 1) {
			buf[pos++] = '.';
			memcpy(buf + pos, digits + 1, (size_t)nd - 1);
			pos += nd - 1;
		}
		/* strconv writes at least two exponent digits; encoding/json then
		 * turns e-07 into e-7 (but keeps e+21). */
		snprintf(buf + pos, size - (size_t)pos, "e%c%0*d", exp < 0 ? '-' : '+',
			 exp < 0 ? 1 : 2, abs(exp));
		return 0;
	}
	if (exp >= nd - 1) {
		memcpy(buf + pos, digits, (size_t)nd);
		pos += nd;
		for (int z = 0; z < exp - (nd - 1); z++)
			buf[pos++] = '0';
	} else if (exp >= 0) {
		memcpy(buf + pos, digits, (size_t)exp + 1);
		pos += exp + 1;
		buf[pos++] = '.';
		memcpy(buf + pos, digits + exp + 1, (size_t)(nd - exp - 1));
		pos += nd - exp - 1;
	} else {
		buf[pos++] = '0';
		buf[pos++] = '.';
		for (int z = 0; z < -exp - 1; z++)
			buf[pos++] = '0';
		memcpy(buf + pos, digits, (size_t)nd);
		pos += nd;
	}
	buf[pos] = '\0';
	return 0;
}

static bool is_fixed(const json_t *v, const struct gojson_opts *opts)
{
	for (size_t i = 0; opts && i < opts->n_fixed; i++)
		if (opts->fixed[i] == v)
			return true;
	return false;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int encode_object(const json_t *v, struct buf *out, const struct gojson_opts *opts)
{
	json_t *obj = (json_t *)(uintptr_t)v; /* iteration only */
	size_t n = json_object_size(v), k = 0, first_sorted = 0;
	const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
	int r;

	if (is_fixed(v, opts)) {
		/* A Go struct: declared field order first. */
		for (const char *const *f = opts->fixed_keys; *f; f++)
			if (json_object_get(v, *f))
				keys[k++] = *f;
		first_sorted = k;
		for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
			const char *key = json_object_iter_key(it);
			bool listed = false;

			for (const char *const *f = opts->fixed_keys; *f && !listed; f++)
				listed = !strcmp(*f, key);
			if (!listed)
				keys[k++] = key;
		}
	} else {
		for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it))
			keys[k++] = json_object_iter_key(it);
	}
	qsort(keys + first_sorted, k - first_sorted, sizeof(*keys), key_cmp);

	r = buf_puts(out, "{");
	for (size_t i = 0; r == 0 && i < k; i++) {
		if (i && (r = buf_puts(out, ",")) < 0)
			break;
		if ((r = json_go_put_string(out, keys[i], strlen(keys[i]))) < 0 ||
		    (r = buf_puts(out, ":")) < 0)
			break;
		r = gojson_encode(json_object_get(v, keys[i]), out, opts);
	}
	if (r == 0)
		r = buf_puts(out, "}");
	free(keys);
	return r;
}

int gojson_encode(const json_t *v, struct buf *out, const struct gojson_opts *opts)
{
	char num[40];
	int r;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return encode_object(v, out, opts);
	case JSON_ARRAY:
		if ((r = buf_puts(out, "[")) < 0)
			return r;
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i && (r = buf_puts(out, ",")) < 0)
				return r;
			if ((r = gojson_encode(json_array_get(v, i), out, opts)) < 0)
				return r;
		}
		return buf_puts(out, "]");
	case JSON_STRING:
		return json_go_put_string(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf_puts(out, num);
	case JSON_REAL:
		if ((r = gojson_format_float(json_real_value(v), num, sizeof(num))) < 0)
			return r;
		return buf_puts(out, num);
	case JSON_TRUE:
		return buf_puts(out, "true");
	case JSON_FALSE:
		return buf_puts(out, "false");
	case JSON_NULL:
		return buf_puts(out, "null");
	}
	return -EINVAL;
}

json_t *gojson_loadb(const char *buf, size_t len, json_error_t *error)
{
	return json_loadb(buf, len, JSON_DECODE_INT_AS_REAL, error);
}
