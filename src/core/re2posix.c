// SPDX-License-Identifier: Apache-2.0
/*
 * RE2 to POSIX extended, for matching only (REG_NOSUB): greediness and group
 * capture change no match, so they are dropped. Subjects are one ASCII
 * line, so the (?m) and (?s) flags change nothing either and are accepted.
 */
#include "core/re2posix.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/xmalloc.h"

/* Characters a POSIX ERE gives a meaning outside brackets. */
#define ERE_SPECIAL ".[]()*+?{}|^$\\"
/* The product of all counted repetitions: \d{1,3} four times is 81 */
#define REPEAT_PRODUCT_MAX 10000

struct out {
	char *p;
};

static void put_lit(struct out *o, char c)
{
	if (strchr(ERE_SPECIAL, c))
		*o->p++ = '\\';
	*o->p++ = c;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* \xHH or \x{H...} at p (p[0] == '\\', p[1] == 'x'): the character and the
 * bytes used, or -1 when malformed or not ASCII. */
static int parse_hex(const char *p, size_t *used)
{
	int v = 0, d;
	const char *q = p + 2;

	if (*q == '{') {
		int n = 0;

		for (q++; *q && *q != '}'; q++, n++) {
			d = hexval(*q);
			if (d < 0 || n >= 4)
				return -1;
			v = v * 16 + d;
		}
		if (*q != '}' || n == 0)
			return -1;
		q++;
	} else {
		for (int i = 0; i < 2; i++, q++) {
			d = hexval(*q);
			if (d < 0)
				return -1;
			v = v * 16 + d;
		}
	}
	if (v == 0 || v > 0x7f)
		return -1;
	*used = (size_t)(q - p);
	return v;
}

static char control(char c)
{
	switch (c) {
	case 'a': return '\a';
	case 'f': return '\f';
	case 't': return '\t';
	case 'n': return '\n';
	case 'r': return '\r';
	case 'v': return '\v';
	default: return 0;
	}
}

/* A group opener "(?..." at p outside brackets, not at the start: what it
 * becomes, or an error. *used: the bytes of the opener. */
static int group_opener(const char *p, size_t *used, struct err *err)
{
	const char *q = p + 2;

	if (*q == ':') {
		*used = 3;
		return 0;
	}
	if (*q == 'P')
		q++;
	if (*q == '<') {
		const char *name = ++q;

		while (isalnum((unsigned char)*q) || *q == '_')
			q++;
		if (q > name && *q == '>') {
			*used = (size_t)(q + 1 - p);
			return 0;
		}
	}
	/* a flags group: only a leading (?flags) is supported */
	q = p + 2;
	while (*q && *q != ')' && *q != ':' && q - p < 12)
		q++;
	return err_set(err, -EINVAL,
		       "unsupported RE2 syntax '%.*s': flags are supported only as a leading "
		       "(?i) covering the whole expression",
		       (int)(q - p + (*q == ')' || *q == ':')), p);
}

/* The largest count of {n}, {n,} or {n,m} at p (2000 for any count over
 * RE2's 1000, which is refused). */
static long repeat_count(const char *p)
{
	long max = 1;

	for (p++; *p && *p != '}'; p++) {
		long n;
		char *end;

		if (!isdigit((unsigned char)*p))
			continue;
		n = strtol(p, &end, 10);
		if (n > 1000)
			return 2000;
		if (n > max)
			max = n;
		p = end - 1;
	}
	return max;
}

char *re2_to_posix(const char *in, int *ret_cflags, struct err *err)
{
	size_t len = strlen(in);
	char *buf = xmalloc(8 * len + 16);
	struct out o = { buf };
	const char *p = in;
	bool bracket = false, quant = false, lazy = false, rep = false;
	long reps = 1;

	*ret_cflags = 0;
	/* A leading (?flags): i, m, s and U; i is the one that changes a match here. */
	if (p[0] == '(' && p[1] == '?') {
		const char *q = p + 2;

		while (*q && strchr("imsU", *q))
			q++;
		if (q > p + 2 && *q == ')') {
			if (memchr(p + 2, 'i', (size_t)(q - p - 2)))
				*ret_cflags |= REG_ICASE;
			p = q + 1;
		}
	}
	for (; *p; p++) {
		if (bracket) {
			if (p[0] == '[' && p[1] == ':') {
				/* [:class:] through its closing pair; RE2 adds [:word:] and
				 * negated [:^class:], which POSIX lacks */
				const char *end = strstr(p + 2, ":]");

				if (end && !strncmp(p, "[:word:]", 8)) {
					o.p = stpcpy(o.p, "[:alnum:]_");
					p += 7;
					continue;
				}
				if (end && p[2] == '^') {
					err_set(err, -EINVAL,
						"unsupported RE2 syntax '%.*s': a negated class inside "
						"brackets",
						(int)(end + 2 - p), p);
					goto fail;
				}
				if (end) {
					memcpy(o.p, p, (size_t)(end + 2 - p));
					o.p += end + 2 - p;
					p = end + 1;
					continue;
				}
			}
			if (p[0] == '\\' && p[1]) {
				char c = p[1];

				p++;
				if (c == 'd') {
					o.p = stpcpy(o.p, "0-9");
				} else if (c == 's') {
					o.p = stpcpy(o.p, "[:space:]");
				} else if (c == 'w') {
					o.p = stpcpy(o.p, "[:alnum:]_");
				} else if (control(c)) {
					*o.p++ = control(c);
				} else if (strchr(".+*?(){}|$/\\[", c)) {
					*o.p++ = c; /* literal inside POSIX brackets as it is */
				} else {
					err_set(err, -EINVAL,
						"unsupported RE2 syntax '\\%c' inside brackets%s", c,
						strchr("DSW", c) ? ": a negated class" :
						strchr("]-^", c) ? ": put ']' first, '-' last, '^' "
								   "not first instead of escaping" : "");
					goto fail;
				}
				continue;
			}
			if (p[0] == ']')
				bracket = false;
			*o.p++ = *p;
			continue;
		}
		/* RE2 refuses stacked quantifiers (a++, a*??); glibc would nest
		 * them, at exponential cost */
		if (quant && (p[0] == '*' || p[0] == '+' || (p[0] == '?' && lazy) ||
			      (p[0] == '{' && isdigit((unsigned char)p[1])))) {
			err_set(err, -EINVAL,
				"invalid nested repetition operator at '%.8s' (as in Go's regexp)",
				p);
			goto fail;
		}
		if (p[0] == '?' && quant) {
			lazy = true; /* non-greedy: the same matches as greedy */
			continue;
		}
		quant = lazy = false;
		if (p[0] == '\\' && p[1]) {
			char c = p[1];
			size_t used = 0;
			int v;

			p++;
			switch (c) {
			case 'd': o.p = stpcpy(o.p, "[0-9]"); break;
			case 'D': o.p = stpcpy(o.p, "[^0-9]"); break;
			case 's': o.p = stpcpy(o.p, "[[:space:]]"); break;
			case 'S': o.p = stpcpy(o.p, "[^[:space:]]"); break;
			case 'w': o.p = stpcpy(o.p, "[[:alnum:]_]"); break;
			case 'W': o.p = stpcpy(o.p, "[^[:alnum:]_]"); break;
			case 'b':
			case 'B':
				/* glibc's word boundaries, same word characters as RE2's */
				*o.p++ = '\\';
				*o.p++ = c;
				break;
			case 'A': *o.p++ = '^'; break;
			case 'z': *o.p++ = '$'; break;
			case 'x':
				v = parse_hex(p - 1, &used);
				if (v < 0) {
					err_set(err, -EINVAL,
						"unsupported RE2 syntax '\\x': only \\xHH or \\x{H} of an "
						"ASCII character other than NUL");
					goto fail;
				}
				put_lit(&o, (char)v);
				p += used - 2;
				break;
			case 'Q': {
				const char *end = strstr(p + 1, "\\E");
				const char *stop = end ? end : p + 1 + strlen(p + 1);

				for (const char *q = p + 1; q < stop; q++)
					put_lit(&o, *q);
				p = end ? end + 1 : stop - 1;
				break;
			}
			default:
				if (control(c)) {
					*o.p++ = control(c);
				} else if (ispunct((unsigned char)c)) {
					put_lit(&o, c);
				} else {
					err_set(err, -EINVAL, "unsupported RE2 syntax '\\%c'%s", c,
						c == 'p' || c == 'P' ? ": Unicode classes" :
						isdigit((unsigned char)c) ? ": octal escapes" : "");
					goto fail;
				}
			}
			continue;
		}
		if (p[0] == '(' && p[1] == '?') {
			size_t used = 0;

			if (group_opener(p, &used, err) < 0)
				goto fail;
			*o.p++ = '(';
			p += used - 1;
			continue;
		}
		if (p[0] == '[') {
			bracket = true;
			*o.p++ = *p;
			if (p[1] == '^')
				*o.p++ = *++p;
			if (p[1] == ']')
				*o.p++ = *++p;
			continue;
		}
		/* a quantifier, after which '?' asks for non-greedy: {n,m} only
		 * when it opened as a repetition (RE2 reads a stray brace as text) */
		if (p[0] == '{' && isdigit((unsigned char)p[1])) {
			long n = repeat_count(p);

			if (n > 1000) {
				err_set(err, -EINVAL,
					"invalid repeat count at '%.12s': at most 1000 (as in Go's "
					"regexp)", p);
				goto fail;
			}
			/* glibc expands counted repetitions: nested ones multiply
			 * (Go refuses those as too large, we bound them all) */
			reps *= n;
			if (reps > REPEAT_PRODUCT_MAX) {
				err_set(err, -EINVAL,
					"expression too large: its repeat counts multiply to more "
					"than %d", REPEAT_PRODUCT_MAX);
				goto fail;
			}
			rep = true;
		}
		if (p[0] == '*' || p[0] == '+' || p[0] == '?' || (p[0] == '}' && rep))
			quant = true;
		if (p[0] == '}')
			rep = false;
		*o.p++ = *p;
	}
	*o.p = '\0';
	return buf;
fail:
	free(buf);
	return NULL;
}
