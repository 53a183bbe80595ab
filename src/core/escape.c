// SPDX-License-Identifier: Apache-2.0
#include "core/escape.h"

#include "core/xmalloc.h"

char *escape_bytes(const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char *out = xmalloc(len * 4 + 1), *p = out;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c > 0x20 && c < 0x7f && c != '\\') {
			*p++ = (char)c;
		} else {
			*p++ = '\\';
			*p++ = 'x';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return out;
}
