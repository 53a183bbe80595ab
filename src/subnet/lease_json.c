// SPDX-License-Identifier: Apache-2.0
/*
 * The JSON of lease values by encoding/json's rules (see lease_json_int.h):
 * a scanner with its grammar, its RawMessage compaction and its unquoting.
 * Used by lease.c, which keeps the reasons.
 */
#include "subnet/lease_json_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/hex.h"
#include "core/utf8.h"

#define JSON_MAX_DEPTH 10000 /* encoding/json's maxNestingDepth */

static const char hexdig[] = "0123456789abcdef";

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t lease_json_skip_ws(const unsigned char *s, size_t n, size_t i)
{
	while (i < n && is_ws(s[i]))
		i++;
	return i;
}

size_t lease_json_scan_string(const unsigned char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '"')
			return i + 1;
		if (s[i] < 0x20)
			return 0;
		if (s[i] != '\\')
			continue;
		if (++i >= n)
			return 0;
		if (s[i] == 'u') {
			if (n - i < 5)
				return 0;
			for (int k = 1; k <= 4; k++)
				if (hex_digit(s[i + k]) < 0)
					return 0;
			i += 4;
		} else if (!strchr("\"\\/bfnrt", s[i]) || s[i] == '\0') {
			return 0;
		}
	}
	return 0;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; index after it, or 0. */
static size_t scan_number(const unsigned char *s, size_t n, size_t i)
{
	if (i < n && s[i] == '-')
		i++;
	if (i >= n || !is_digit(s[i]))
		return 0;
	if (s[i] == '0') {
		i++;
	} else {
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && s[i] == '.') {
		if (++i >= n || !is_digit(s[i]))
			return 0;
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !is_digit(s[i]))
			return 0;
		while (i < n && is_digit(s[i]))
			i++;
	}
	return i;
}

static size_t scan_literal(const unsigned char *s, size_t n, size_t i)
{
	static const char *const lits[] = {"true", "false", "null"};

	for (size_t k = 0; k < sizeof(lits) / sizeof(lits[0]); k++) {
		size_t l = strlen(lits[k]);

		if (n - i >= l && memcmp(s + i, lits[k], l) == 0)
			return i + l;
	}
	return 0;
}

/* An object member's key and colon at s[i]: the index of its value, or 0. */
static size_t scan_key(const unsigned char *s, size_t n, size_t i)
{
	if (i >= n || s[i] != '"' || !(i = lease_json_scan_string(s, n, i)))
		return 0;
	i = lease_json_skip_ws(s, n, i);
	if (i >= n || s[i] != ':')
		return 0;
	return lease_json_skip_ws(s, n, i + 1);
}

/*
 * One value starting at s[i] (no leading whitespace), already inside `depth`
 * containers. Iterative so hostile nesting cannot exhaust the C stack; one bit
 * per level says object (1) or array (0). Index after the value, or 0.
 */
size_t lease_json_scan_value(const unsigned char *s, size_t n, size_t i, unsigned depth)
{
	uint8_t is_obj[JSON_MAX_DEPTH / 8 + 1];
	unsigned top = 0; /* containers opened here */

	for (;;) {
		bool closed = false, obj;

		if (i >= n)
			return 0;
		switch (s[i]) {
		case '{':
		case '[':
			if (depth + top + 1 > JSON_MAX_DEPTH)
				return 0;
			if (s[i] == '{')
				is_obj[top / 8] |= (uint8_t)(1U << (top % 8));
			else
				is_obj[top / 8] &= (uint8_t) ~(1U << (top % 8));
			top++;
			obj = s[i] == '{';
			i = lease_json_skip_ws(s, n, i + 1);
			if (i < n && s[i] == (obj ? '}' : ']')) {
				top--;
				i++;
				closed = true;
				break;
			}
			if (obj && !(i = scan_key(s, n, i)))
				return 0;
			continue;
		case '"':
			i = lease_json_scan_string(s, n, i);
			break;
		case 't':
		case 'f':
		case 'n':
			i = scan_literal(s, n, i);
			break;
		default:
			i = scan_number(s, n, i);
			break;
		}
		if (!closed && i == 0)
			return 0;
		/* A value ended: close containers or move to the next element. */
		for (;;) {
			if (top == 0)
				return i;
			obj = is_obj[(top - 1) / 8] & (1U << ((top - 1) % 8));
			i = lease_json_skip_ws(s, n, i);
			if (i >= n)
				return 0;
			if (s[i] == (obj ? '}' : ']')) {
				top--;
				i++;
				continue;
			}
			if (s[i] != ',')
				return 0;
			i = lease_json_skip_ws(s, n, i + 1);
			if (obj && !(i = scan_key(s, n, i)))
				return 0;
			break;
		}
	}
}

int lease_json_compact(struct buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i, end, start;
	bool in_str = false;
	int r = 0;

	i = lease_json_skip_ws(s, n, 0);
	end = lease_json_scan_value(s, n, i, 0);
	if (end == 0 || lease_json_skip_ws(s, n, end) != n)
		return -EINVAL;
	/* Valid, so a simple pass that tracks string state is enough. */
	for (start = i; i < end && r == 0; i++) {
		unsigned char c = s[i];

		if (!in_str) {
			if (is_ws(c)) {
				r = buf_append(b, s + start, i - start);
				start = i + 1;
			} else if (c == '"') {
				in_str = true;
			}
			continue;
		}
		if (c == '\\') {
			i++; /* the escaped byte cannot end the string */
		} else if (c == '"') {
			in_str = false;
		} else if (c == '<' || c == '>' || c == '&') {
			char esc[6] = {'\\', 'u', '0', '0', hexdig[c >> 4], hexdig[c & 0xf]};

			if ((r = buf_append(b, s + start, i - start)) == 0)
				r = buf_append(b, esc, sizeof(esc));
			start = i + 1;
		} else if (c == 0xe2 && end - i > 2 && s[i + 1] == 0x80 &&
			   (s[i + 2] & ~1) == 0xa8) {
			if ((r = buf_append(b, s + start, i - start)) == 0)
				r = buf_puts(b, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
			i += 2;
			start = i + 1;
		}
	}
	return r < 0 ? r : buf_append(b, s + start, end - start);
}

static int get_u4(const unsigned char *s, size_t n, size_t i)
{
	int v = 0;

	if (n - i < 6 || s[i] != '\\' || s[i + 1] != 'u')
		return -1;
	for (int k = 2; k < 6; k++)
		v = v << 4 | hex_digit(s[i + k]);
	return v;
}

int lease_json_unquote(struct buf *b, const unsigned char *s, size_t n)
{
	static const char esc_from[] = "bfnrt", esc_to[] = "\b\f\n\r\t";
	size_t i = 1, end = n - 1;
	int r = buf_append(b, "", 0);

	while (i < end && r == 0) {
		unsigned char c = s[i], tmp[UTF8_MAX];
		const unsigned char *p = tmp;
		size_t len = 1;
		uint32_t rune;
		int u, u2;

		if (c == '\\' && s[i + 1] == 'u') {
			u = get_u4(s, end, i);
			i += 6;
			rune = (uint32_t)u;
			if (u >= 0xd800 && u < 0xe000) {
				u2 = get_u4(s, end, i);
				if (u < 0xdc00 && u2 >= 0xdc00 && u2 < 0xe000) {
					i += 6;
					rune = 0x10000 + (((uint32_t)u - 0xd800) << 10) +
					       ((uint32_t)u2 - 0xdc00);
				} else {
					rune = 0xfffd;
				}
			}
			len = utf8_encode_rune(rune, tmp);
		} else if (c == '\\') {
			/* validated: one of " \ / b f n r t */
			const char *e = strchr(esc_from, s[i + 1]);

			tmp[0] = e ? (unsigned char)esc_to[e - esc_from] : s[i + 1];
			i += 2;
		} else if (c < 0x80) {
			tmp[0] = c;
			i++;
		} else if ((len = utf8_decode(s + i, end - i, &rune)) == 0) {
			len = utf8_encode_rune(0xfffd, tmp);
			i++;
		} else {
			p = s + i;
			i += len;
		}
		r = buf_append(b, p, len);
	}
	return r;
}
