/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_TESTS_PROM_CHECK_H
#define WEFT_TESTS_PROM_CHECK_H

/*
 * A validator for the Prometheus text exposition format 0.0.4, for tests:
 * header-only so that any test program can include it (the netns tests
 * scrape weftd's /metrics with it).
 *
 *	char why[256];
 *	assert_int_equal(prom_check(text, why, sizeof(why)), 0);
 *
 * It checks what Prometheus' parser checks, plus what weft promises:
 *   - every line ends in '\n'; empty lines and other comments are allowed;
 *   - "# HELP name text" (escapes \\ and \n only) and "# TYPE name type" at
 *     most once per family, both present before the family's first sample
 *     (stricter than Prometheus, which makes them optional);
 *   - a sample is name[{label="value",...}] value [timestamp]: a valid metric
 *     name, valid label names (no "__" prefix), no label twice, value escapes
 *     \\ \" \n only, a float value (or NaN, +Inf, -Inf), an integer timestamp;
 *   - a family's lines are contiguous, no series appears twice, counters are
 *     not negative; histogram and summary samples may carry their suffixes.
 *
 * Returns 0, or -1 with "line N: why" in err.
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROM_MAX_LABELS 32

struct prom_family {
	char *name;
	char type[16]; /* "" until TYPE */
	bool help;
	bool samples;
};

struct prom_state {
	struct prom_family *fams;
	size_t nfams;
	char **series;
	size_t nseries;
	struct prom_family *current; /* the family of the previous HELP/TYPE/sample line */
	int line;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int prom_fail(struct prom_state *st,
							     const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(st->err, st->errlen, "line %d: ", st->line);
	if (n < 0 || (size_t)n >= st->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(st->err + n, st->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static bool prom_name_start(char ch, bool colon)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
	       (colon && ch == ':');
}

static bool prom_name_char(char ch, bool colon)
{
	return prom_name_start(ch, colon) || (ch >= '0' && ch <= '9');
}

/* Length of the metric name (colon) or label name at s; 0 when none. */
static size_t prom_name_len(const char *s, bool colon)
{
	size_t n = 0;

	if (!prom_name_start(s[0], colon))
		return 0;
	while (prom_name_char(s[n], colon))
		n++;
	return n;
}

static struct prom_family *prom_family_get(struct prom_state *st, const char *name, size_t len)
{
	struct prom_family *f;

	for (size_t i = 0; i < st->nfams; i++)
		if (strlen(st->fams[i].name) == len && !strncmp(st->fams[i].name, name, len))
			return &st->fams[i];
	st->fams = realloc(st->fams, (st->nfams + 1) * sizeof(*st->fams));
	f = &st->fams[st->nfams++];
	memset(f, 0, sizeof(*f));
	f->name = strndup(name, len);
	/* realloc may have moved the array. */
	st->current = NULL;
	return f;
}

static struct prom_family *prom_family_find(struct prom_state *st, const char *name, size_t len)
{
	for (size_t i = 0; i < st->nfams; i++)
		if (strlen(st->fams[i].name) == len && !strncmp(st->fams[i].name, name, len))
			return &st->fams[i];
	return NULL;
}

/* A family's lines must not be interleaved with another's. */
static int prom_enter(struct prom_state *st, struct prom_family *f, bool fresh)
{
	if (st->current == f)
		return 0;
	if (!fresh && (f->help || f->type[0] || f->samples))
		return prom_fail(st, "lines of family %s are not contiguous", f->name);
	st->current = f;
	return 0;
}

static int prom_escapes_ok(struct prom_state *st, const char *s, size_t len, bool quote)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\')
			continue;
		if (i + 1 >= len || !(s[i + 1] == '\\' || s[i + 1] == 'n' ||
				      (quote && s[i + 1] == '"')))
			return prom_fail(st, "bad escape in \"%.*s\"", (int)len, s);
		i++;
	}
	return 0;
}

static int prom_comment(struct prom_state *st, const char *s)
{
	bool help = !strncmp(s, "# HELP ", 7), type = !strncmp(s, "# TYPE ", 7);
	struct prom_family *f;
	const char *name = s + 7, *rest;
	size_t n;
	bool fresh;

	if (!help && !type)
		return 0; /* a plain comment */
	n = prom_name_len(name, true);
	if (!n || (name[n] != ' ' && name[n] != '\0'))
		return prom_fail(st, "bad metric name in %.6s", s);
	rest = name[n] ? name + n + 1 : name + n;
	fresh = !prom_family_find(st, name, n);
	f = prom_family_get(st, name, n);
	if (prom_enter(st, f, fresh))
		return -1;
	if (f->samples)
		return prom_fail(st, "%.6s of %s after its samples", s, f->name);
	if (help) {
		if (f->help)
			return prom_fail(st, "second HELP for %s", f->name);
		f->help = true;
		return prom_escapes_ok(st, rest, strlen(rest), false);
	}
	if (f->type[0])
		return prom_fail(st, "second TYPE for %s", f->name);
	if (strcmp(rest, "counter") && strcmp(rest, "gauge") && strcmp(rest, "histogram") &&
	    strcmp(rest, "summary") && strcmp(rest, "untyped"))
		return prom_fail(st, "bad type \"%s\"", rest);
	snprintf(f->type, sizeof(f->type), "%s", rest);
	return 0;
}

static bool prom_float(const char *s, size_t len, double *ret)
{
	char tmp[64], *end;

	if (!len || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (!strcmp(tmp, "NaN") || !strcmp(tmp, "+Inf") || !strcmp(tmp, "-Inf")) {
		*ret = tmp[0] == 'N' ? NAN : tmp[0] == '+' ? INFINITY : -INFINITY;
		return true;
	}
	*ret = strtod(tmp, &end);
	return *end == '\0' && !isnan(*ret) && !isinf(*ret);
}

/* The family a sample belongs to (histogram/summary suffixes stripped). */
static struct prom_family *prom_sample_family(struct prom_state *st, const char *name, size_t n)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	struct prom_family *f = prom_family_find(st, name, n);

	if (f && f->type[0])
		return f;
	for (size_t i = 0; i < 3; i++) {
		size_t k = strlen(sfx[i]);

		if (n <= k || strncmp(name + n - k, sfx[i], k))
			continue;
		f = prom_family_find(st, name, n - k);
		if (f && (!strcmp(f->type, "histogram") || (!strcmp(f->type, "summary") && i)))
			return f;
	}
	return prom_family_find(st, name, n);
}

static int prom_label_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int prom_sample(struct prom_state *st, const char *s)
{
	char *labels[PROM_MAX_LABELS], *key = NULL;
	size_t n = prom_name_len(s, true), nl = 0, klen;
	struct prom_family *f;
	const char *p = s + n, *v;
	double value;
	int r = -1;

	if (!n)
		return prom_fail(st, "bad metric name");
	f = prom_sample_family(st, s, n);
	if (!f || !f->help || !f->type[0])
		return prom_fail(st, "sample of %.*s without HELP and TYPE before it", (int)n, s);
	if (prom_enter(st, f, false))
		return -1;
	f->samples = true;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			size_t ln = prom_name_len(p, false);
			const char *val;

			if (!ln || (p[0] == '_' && p[1] == '_'))
				goto bad_label;
			if (p[ln] != '=' || p[ln + 1] != '"')
				goto bad_label;
			val = p + ln + 2;
			for (v = val; *v && *v != '"'; v++)
				if (*v == '\\' && v[1])
					v++;
			if (*v != '"')
				goto bad_label;
			if (prom_escapes_ok(st, val, (size_t)(v - val), true))
				goto out;
			if (nl == PROM_MAX_LABELS)
				goto bad_label;
			labels[nl] = strndup(p, (size_t)(v + 1 - p));
			for (size_t i = 0; i < nl; i++) {
				if (!strncmp(labels[i], p, ln + 1)) {
					nl++;
					prom_fail(st, "label %.*s twice", (int)ln, p);
					goto out;
				}
			}
			nl++;
			p = v + 1;
			if (*p == ',')
				p++;
			else if (*p != '}')
				goto bad_label;
		}
		p++;
	}
	if (*p != ' ' && *p != '\t') {
		prom_fail(st, "no blank before the value");
		goto out;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	v = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	if (!prom_float(v, (size_t)(p - v), &value)) {
		prom_fail(st, "bad value \"%.*s\"", (int)(p - v), v);
		goto out;
	}
	if (!strcmp(f->type, "counter") && value < 0) {
		prom_fail(st, "negative counter");
		goto out;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p) {
		char *end;

		strtoll(p, &end, 10);
		if (end == p || *end) {
			prom_fail(st, "bad timestamp \"%s\"", p);
			goto out;
		}
	}
	/* The series' identity: name and its labels in a canonical order. */
	qsort(labels, nl, sizeof(labels[0]), prom_label_cmp);
	klen = n + 2;
	for (size_t i = 0; i < nl; i++)
		klen += strlen(labels[i]) + 1;
	key = calloc(1, klen);
	memcpy(key, s, n);
	for (size_t i = 0, at = n; i < nl; i++) {
		key[at++] = '\x01';
		memcpy(key + at, labels[i], strlen(labels[i]));
		at += strlen(labels[i]);
	}
	for (size_t i = 0; i < st->nseries; i++) {
		if (!strcmp(st->series[i], key)) {
			prom_fail(st, "series %s twice", s);
			goto out;
		}
	}
	st->series = realloc(st->series, (st->nseries + 1) * sizeof(*st->series));
	st->series[st->nseries++] = key;
	key = NULL;
	r = 0;
	goto out;
bad_label:
	prom_fail(st, "bad label list at \"%s\"", p);
out:
	free(key);
	for (size_t i = 0; i < nl; i++)
		free(labels[i]);
	return r;
}

static inline int prom_check(const char *text, char *err, size_t errlen)
{
	struct prom_state st = { .err = err, .errlen = errlen };
	const char *p = text, *eol;
	char *line;
	int r = 0;

	if (errlen)
		err[0] = '\0';
	while (*p && r == 0) {
		st.line++;
		eol = strchr(p, '\n');
		if (!eol) {
			r = prom_fail(&st, "no newline at the end");
			break;
		}
		line = strndup(p, (size_t)(eol - p));
		if (strchr(line, '\r'))
			r = prom_fail(&st, "carriage return");
		else if (line[0] == '#')
			r = prom_comment(&st, line);
		else if (line[0])
			r = prom_sample(&st, line);
		free(line);
		p = eol + 1;
	}
	for (size_t i = 0; i < st.nfams; i++)
		free(st.fams[i].name);
	free(st.fams);
	for (size_t i = 0; i < st.nseries; i++)
		free(st.series[i]);
	free(st.series);
	return r;
}

#endif
