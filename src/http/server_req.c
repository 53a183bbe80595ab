// SPDX-License-Identifier: Apache-2.0
#include "http/server_req.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "http/token.h"

size_t http_head_end(const char *buf, size_t len, struct http_head_scan *st)
{
	size_t i = st->start;

	while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
		i++;
	st->start = i;
	if (st->scan < i)
		st->scan = i;
	for (i = st->scan; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
		if (i + 2 >= len)
			break; /* the terminator may be split across reads */
	}
	st->scan = i;
	return 0;
}

/*
 * Checks the header lines that follow the request line (NUL-terminated,
 * each ending in "\n" or "\r\n") and reports whether Host is among them.
 */
static bool headers_ok(char *p, bool *ret_host)
{
	char *eol, *colon;

	*ret_host = false;
	for (; *p; p = eol + 1) {
		eol = strchr(p, '\n');
		if (!eol)
			return false;
		if (eol > p && eol[-1] == '\r')
			eol[-1] = '\0';
		*eol = '\0';
		if (!*p)
			break; /* the empty line ending the head */
		colon = strchr(p, ':');
		/* Also rejects obsolete line folding (a leading space). */
		if (!colon || colon == p)
			return false;
		if (!http_token(p, (size_t)(colon - p)))
			return false;
		if (colon - p == 4 && !strncasecmp(p, "host", 4))
			*ret_host = true;
	}
	return true;
}

int http_head_parse(char *buf, size_t start, size_t end, struct http_head *ret,
		    const char **ret_why)
{
	static const char bad[] = "Bad Request\n";
	char *line = buf + start, *eol, *target, *version, *query;
	bool host;

	*ret_why = bad;
	buf[end] = '\0';
	if (memchr(line, '\0', end - start))
		return 400;
	/* http_head_end guarantees a line end; a caller that did not use it
	 * must not make us run off the head. */
	eol = strchr(line, '\n');
	if (!eol)
		return 400;
	if (eol > line && eol[-1] == '\r')
		eol[-1] = '\0';
	*eol = '\0';
	/* METHOD SP request-target SP HTTP-version, nothing else. */
	target = strchr(line, ' ');
	version = target ? strchr(target + 1, ' ') : NULL;
	if (!version || target == line || version == target + 1 || strchr(version + 1, ' '))
		return 400;
	*target++ = '\0';
	*version++ = '\0';
	if (!http_token(line, strlen(line)))
		return 400;
	if (strncmp(version, "HTTP/", 5) || version[5] < '0' || version[5] > '9' ||
	    version[6] != '.' || version[7] < '0' || version[7] > '9' || version[8])
		return 400;
	if (version[5] != '1') {
		*ret_why = "HTTP Version Not Supported\n";
		return 505;
	}
	if (target[0] != '/' || !headers_ok(eol + 1, &host))
		return 400;
	/* HTTP/1.1 makes Host mandatory (RFC 9112 §3.2); Go's server insists too. */
	if (version[7] != '0' && !host) {
		*ret_why = "Bad Request: missing required Host header\n";
		return 400;
	}
	query = strchr(target, '?');
	if (query)
		*query++ = '\0';
	ret->method = line;
	ret->path = target;
	ret->query = query ? query : "";
	*ret_why = NULL;
	return 0;
}
