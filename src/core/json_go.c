// SPDX-License-Identifier: Apache-2.0
#include "core/json_go.h"

#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"

int json_go_put_string(struct buf *out, const char *str, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, start = 0;
	int r;

	if ((r = buf_append(out, "\"", 1)) < 0)
		return r;
	while (i < len) {
		char esc[7] = "\\u00";
		const char *rep;
		size_t adv = 1;
		uint32_t rune;

		if (s[i] < 0x80) {
			unsigned char c = s[i];

			if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' &&
			    c != '&') {
				i++;
				continue;
			}
			switch (c) {
			case '"':
				rep = "\\\"";
				break;
			case '\\':
				rep = "\\\\";
				break;
			case '\b':
				rep = "\\b";
				break;
			case '\f':
				rep = "\\f";
				break;
			case '\n':
				rep = "\\n";
				break;
			case '\r':
				rep = "\\r";
				break;
			case '\t':
				rep = "\\t";
				break;
			default:
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xf];
				rep = esc;
			}
		} else {
			adv = utf8_decode(s + i, len - i, &rune);
			if (adv == 0) {
				rep = "\\ufffd";
				adv = 1;
			} else if (rune == 0x2028) {
				rep = "\\u2028";
			} else if (rune == 0x2029) {
				rep = "\\u2029";
			} else {
				i += adv;
				continue;
			}
		}
		if ((r = buf_append(out, s + start, i - start)) < 0 ||
		    (r = buf_append(out, rep, strlen(rep))) < 0)
			return r;
		i += adv;
		start = i;
	}
	if ((r = buf_append(out, s + start, len - start)) < 0)
		return r;
	return buf_append(out, "\"", 1);
}

const char *json_go_type_name(char first)
{
	switch (first) {
	case '"':
		return "string";
	case '{':
		return "object";
	case '[':
		return "array";
	case 't':
	case 'f':
		return "bool";
	case 'n':
		return "null";
	default:
		return "number";
	}
}
