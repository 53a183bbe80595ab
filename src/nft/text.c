// SPDX-License-Identifier: Apache-2.0
/*
 * Text helpers shared by the traffic module's two modes (text.h).
 */
#include "nft/text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int traffic_bprintf(struct buf *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -E2BIG;
	return buf_append(b, line, (size_t)n);
}

static void vcatf(char *s, size_t len, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vcatf(char *s, size_t len, const char *fmt, va_list ap)
{
	size_t used = strnlen(s, len);

	if (used < len)
		vsnprintf(s + used, len - used, fmt, ap);
}

void traffic_catf(char *s, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcatf(s, len, fmt, ap);
	va_end(ap);
}

void traffic_note(char *what, size_t len, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (!what || len == 0)
		return;
	used = strnlen(what, len);
	if (used >= len - 1)
		return;
	if (used > 0)
		traffic_catf(what, len, "; ");
	va_start(ap, fmt);
	vcatf(what, len, fmt, ap);
	va_end(ap);
}

bool traffic_has_line(const char *text, const char *line, size_t linelen)
{
	const char *p = text, *nl;

	while (p && *p) {
		nl = strchr(p, '\n');
		if ((size_t)(nl ? nl - p : (ptrdiff_t)strlen(p)) == linelen &&
		    memcmp(p, line, linelen) == 0)
			return true;
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

/* Lines of `a` that `b` lacks. */
static unsigned lines_missing(const char *a, const char *b)
{
	const char *p = a, *nl;
	unsigned n = 0;
	size_t l;

	while (p && *p) {
		nl = strchr(p, '\n');
		l = nl ? (size_t)(nl - p) : strlen(p);
		if (l > 0 && !traffic_has_line(b, p, l))
			n++;
		p = nl ? nl + 1 : NULL;
	}
	return n;
}

void traffic_describe_diff(const char *want, const char *got, char *out, size_t len)
{
	unsigned missing = lines_missing(want, got), extra = lines_missing(got, want);

	if (missing && extra)
		snprintf(out, len, "%u line%s missing, %u unexpected", missing,
			 missing == 1 ? "" : "s", extra);
	else if (missing)
		snprintf(out, len, "%u line%s missing", missing, missing == 1 ? "" : "s");
	else if (extra)
		snprintf(out, len, "%u unexpected line%s", extra, extra == 1 ? "" : "s");
	else
		snprintf(out, len, "lines reordered or repeated");
}
