// SPDX-License-Identifier: Apache-2.0
#include "core/base64.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/xmalloc.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_size(size_t n)
{
	return (n + 2) / 3 * 4 + 1;
}

void base64_encode(const void *in, size_t n, char *out)
{
	const uint8_t *p = in;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*out++ = alphabet[v >> 18];
		*out++ = alphabet[(v >> 12) & 63];
		*out++ = alphabet[(v >> 6) & 63];
		*out++ = alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		*out++ = alphabet[v >> 18];
		*out++ = alphabet[(v >> 12) & 63];
		*out++ = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

static int value_of(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long base64_decode(const char *in, size_t len, void *out)
{
	uint8_t *o = out;
	size_t i;

	if (len % 4)
		return -EINVAL;
	for (i = 0; i < len; i += 4) {
		int v[4];
		bool last = i + 4 == len;

		for (int k = 0; k < 4; k++) {
			v[k] = value_of(in[i + k]);
			/* Padding only at the end, and only in the last two places. */
			if (v[k] < 0 && !(last && in[i + k] == '=' && k >= 2))
				return -EINVAL;
		}
		if (v[2] < 0 && v[3] >= 0)
			return -EINVAL;
		*o++ = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (v[2] >= 0)
			*o++ = (uint8_t)(v[1] << 4 | v[2] >> 2);
		if (v[3] >= 0)
			*o++ = (uint8_t)(v[2] << 6 | v[3]);
	}
	*o = 0;
	return (long)(o - (uint8_t *)out);
}

char *base64_encode_alloc(const void *in, size_t n)
{
	char *out = xmalloc(base64_encoded_size(n));

	base64_encode(in, n, out);
	return out;
}

long base64_decode_alloc(const char *in, size_t len, char **ret)
{
	char *out = xmalloc(len / 4 * 3 + 1);
	long n = base64_decode(in, len, out);

	if (n < 0) {
		free(out);
		return n;
	}
	*ret = out;
	return n;
}
