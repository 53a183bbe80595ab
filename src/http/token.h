/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_HTTP_TOKEN_H
#define WEFT_HTTP_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* RFC 9110 tchar: a byte of a method, header name or transfer coding. */
static inline bool http_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A token (method, header name ...): one or more tchars. */
static inline bool http_token(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!http_tchar((unsigned char)s[i]))
			return false;
	return true;
}

#endif
