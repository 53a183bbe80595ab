// SPDX-License-Identifier: Apache-2.0
/*
 * The health/metrics server's request-head parser (http/server_req.h), fed
 * as the server feeds it: the input arrives in pieces (their sizes taken
 * from the input's first bytes) into an 8 KiB head buffer. Never crashes or
 * reads outside the bytes; the end found does not depend on how the bytes
 * were split; what a successful parse reports is a token method and an
 * origin-form path inside the head.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/server_req.h"

#define MAX_HEAD 8192 /* as http/server.c */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_tchar(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* The end of the head in buf[0, len), given at once. */
static size_t end_whole(const char *buf, size_t len, struct http_head_scan *st)
{
	memset(st, 0, sizeof(*st));
	return http_head_end(buf, len, st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head_scan st = { 0 }, whole;
	struct http_head h;
	const char *why;
	size_t split, len = 0, end = 0, end2, cap;
	char *buf, *copy;
	int status;

	if (size < 1)
		return 0;
	/* The first byte picks the piece size (1..256); the rest is the stream. */
	split = (size_t)data[0] + 1;
	data++;
	size--;
	cap = size < MAX_HEAD ? size : MAX_HEAD;
	/* Exactly the bytes received, so that ASan sees any read past them. */
	buf = malloc(cap ? cap : 1);
	if (!buf)
		return 0;
	while (len < cap && !end) {
		size_t n = cap - len < split ? cap - len : split;

		memcpy(buf + len, data + len, n);
		len += n;
		end = http_head_end(buf, len, &st);
	}
	end2 = end_whole(buf, len, &whole);
	/* Pieces or not, the same head is found (the server stops reading at
	 * the first complete one, so compare with the prefix it had read). */
	if (end && (end > len || end < st.start || end2 != end || whole.start != st.start))
		abort();
	if (!end && end2)
		abort();
	if (!end) {
		free(buf); /* no complete head: the server waits, or answers 431 */
		return 0;
	}
	/* The parser writes buf[end]: give it exactly one byte more. */
	copy = malloc(end + 1);
	if (!copy)
		abort();
	memcpy(copy, buf, end);
	status = http_head_parse(copy, st.start, end, &h, &why);
	if (status == 0) {
		if (why || !h.method[0] || h.path[0] != '/' || strchr(h.path, '?'))
			abort();
		for (const char *p = h.method; *p; p++)
			if (!is_tchar(*p))
				abort();
		if (h.method < copy || h.path <= h.method || h.path >= copy + end)
			abort();
		/* "" when there is none, else after the path inside the head. */
		if (h.query[0] && (h.query <= h.path || h.query >= copy + end))
			abort();
	} else if ((status != 400 && status != 505) || !why || !*why) {
		abort();
	}
	free(copy);
	free(buf);
	return 0;
}
