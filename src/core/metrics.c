// SPDX-License-Identifier: Apache-2.0
#include "core/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"

struct metrics_child {
	struct metrics_child *next;
	struct metrics_family *family;
	char **values; /* family->nlabels strings */
	bool is_double;
	int64_t i;
	double d;
	metrics_read_cb *cb;
	void *cb_arg;
};

struct metrics_family {
	struct metrics_family *next;
	enum metrics_type type;
	char *name;
	char *help;
	char **labels;
	size_t nlabels;
	struct metrics_child *children;
	struct metrics_child **children_tail;
};

struct metrics {
	struct metrics_family *families;
	struct metrics_family **families_tail;
};

int metrics_new(struct metrics **ret_m)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->families_tail = &m->families;
	*ret_m = m;
	return 0;
}

static void strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void child_free(struct metrics_child *c)
{
	strv_free(c->values, c->family->nlabels);
	free(c);
}

static void family_free(struct metrics_family *f)
{
	struct metrics_child *c, *next;

	for (c = f->children; c; c = next) {
		next = c->next;
		child_free(c);
	}
	strv_free(f->labels, f->nlabels);
	free(f->name);
	free(f->help);
	free(f);
}

void metrics_free(struct metrics *m)
{
	struct metrics_family *f, *next;

	if (!m)
		return;
	for (f = m->families; f; f = next) {
		next = f->next;
		family_free(f);
	}
	free(m);
}

static bool is_alpha_(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

bool metrics_name_valid(const char *name)
{
	if (!name || !(is_alpha_(name[0]) || name[0] == ':'))
		return false;
	for (const char *p = name + 1; *p; p++)
		if (!is_alpha_(*p) && !is_digit(*p) && *p != ':')
			return false;
	return true;
}

bool metrics_label_name_valid(const char *name)
{
	/* "__" prefixes are reserved for Prometheus' internal labels. */
	if (!name || !is_alpha_(name[0]) || (name[0] == '_' && name[1] == '_'))
		return false;
	for (const char *p = name + 1; *p; p++)
		if (!is_alpha_(*p) && !is_digit(*p))
			return false;
	return true;
}

static struct metrics_family *family_find(const struct metrics *m, const char *name)
{
	struct metrics_family *f;

	for (f = m->families; f; f = f->next)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

int metrics_family_add(struct metrics *m, enum metrics_type type, const char *name,
		       const char *help, const char *const *label_names,
		       struct metrics_family **ret_family)
{
	struct metrics_family *f;
	size_t n = 0;

	if (type != METRICS_COUNTER && type != METRICS_GAUGE)
		return -EINVAL;
	if (!metrics_name_valid(name) || !help || !*help)
		return -EINVAL;
	for (n = 0; label_names && label_names[n]; n++) {
		if (!metrics_label_name_valid(label_names[n]))
			return -EINVAL;
		for (size_t j = 0; j < n; j++)
			if (!strcmp(label_names[j], label_names[n]))
				return -EINVAL;
	}
	if (family_find(m, name))
		return -EEXIST;

	f = xcalloc(1, sizeof(*f));
	f->type = type;
	f->name = xstrdup(name);
	f->help = xstrdup(help);
	f->nlabels = n;
	if (n) {
		f->labels = xreallocarray(NULL, n, sizeof(*f->labels));
		for (size_t i = 0; i < n; i++)
			f->labels[i] = xstrdup(label_names[i]);
	}
	f->children_tail = &f->children;
	*m->families_tail = f;
	m->families_tail = &f->next;
	if (ret_family)
		*ret_family = f;
	return 0;
}

static int values_check(const struct metrics_family *f, const char *const *values)
{
	if (f->nlabels && !values)
		return -EINVAL;
	for (size_t i = 0; i < f->nlabels; i++)
		if (!values[i])
			return -EINVAL;
	return 0;
}

static struct metrics_child *child_find(const struct metrics_family *f, const char *const *values)
{
	struct metrics_child *c;
	size_t i;

	for (c = f->children; c; c = c->next) {
		for (i = 0; i < f->nlabels; i++)
			if (strcmp(c->values[i], values[i]))
				break;
		if (i == f->nlabels)
			return c;
	}
	return NULL;
}

static struct metrics_child *child_new(struct metrics_family *f, const char *const *values)
{
	struct metrics_child *c = xcalloc(1, sizeof(*c));

	c->family = f;
	if (f->nlabels) {
		c->values = xreallocarray(NULL, f->nlabels, sizeof(*c->values));
		for (size_t i = 0; i < f->nlabels; i++)
			c->values[i] = xstrdup(values[i]);
	}
	*f->children_tail = c;
	f->children_tail = &c->next;
	return c;
}

int metrics_child(struct metrics_family *f, const char *const *values,
		  struct metrics_child **ret_child)
{
	struct metrics_child *c;
	int r;

	r = values_check(f, values);
	if (r < 0)
		return r;
	c = child_find(f, values);
	if (!c)
		c = child_new(f, values);
	*ret_child = c;
	return 0;
}

int metrics_child_func(struct metrics_family *f, const char *const *values, metrics_read_cb *cb,
		       void *arg, struct metrics_child **ret_child)
{
	struct metrics_child *c;
	int r;

	if (!cb)
		return -EINVAL;
	r = values_check(f, values);
	if (r < 0)
		return r;
	if (child_find(f, values))
		return -EEXIST;
	c = child_new(f, values);
	c->cb = cb;
	c->cb_arg = arg;
	if (ret_child)
		*ret_child = c;
	return 0;
}

void metrics_child_del(struct metrics_child *c)
{
	struct metrics_family *f;
	struct metrics_child **pp;

	if (!c)
		return;
	f = c->family;
	for (pp = &f->children; *pp; pp = &(*pp)->next) {
		if (*pp != c)
			continue;
		*pp = c->next;
		if (f->children_tail == &c->next)
			f->children_tail = pp;
		break;
	}
	child_free(c);
}

static int plain_new(struct metrics *m, enum metrics_type type, const char *name,
		     const char *help, metrics_read_cb *cb, void *arg,
		     struct metrics_child **ret_child)
{
	struct metrics_family *f;
	struct metrics_child *c;
	int r;

	if (!ret_child && !cb)
		return -EINVAL;
	r = metrics_family_add(m, type, name, help, NULL, &f);
	if (r < 0)
		return r;
	c = child_new(f, NULL);
	c->cb = cb;
	c->cb_arg = arg;
	if (ret_child)
		*ret_child = c;
	return 0;
}

int metrics_counter_new(struct metrics *m, const char *name, const char *help,
			struct metrics_child **ret_child)
{
	return plain_new(m, METRICS_COUNTER, name, help, NULL, NULL, ret_child);
}

int metrics_gauge_new(struct metrics *m, const char *name, const char *help,
		      struct metrics_child **ret_child)
{
	return plain_new(m, METRICS_GAUGE, name, help, NULL, NULL, ret_child);
}

int metrics_counter_func_new(struct metrics *m, const char *name, const char *help,
			     metrics_read_cb *cb, void *arg)
{
	if (!cb)
		return -EINVAL;
	return plain_new(m, METRICS_COUNTER, name, help, cb, arg, NULL);
}

int metrics_gauge_func_new(struct metrics *m, const char *name, const char *help,
			   metrics_read_cb *cb, void *arg)
{
	if (!cb)
		return -EINVAL;
	return plain_new(m, METRICS_GAUGE, name, help, cb, arg, NULL);
}

void metrics_inc(struct metrics_child *c)
{
	metrics_add(c, 1);
}

void metrics_add(struct metrics_child *c, int64_t delta)
{
	if (!c || c->cb)
		return;
	if (delta < 0 && c->family->type == METRICS_COUNTER)
		return;
	if (c->is_double) {
		c->d += (double)delta;
		return;
	}
	/* Saturate rather than overflow (undefined for int64_t). */
	if (__builtin_add_overflow(c->i, delta, &c->i))
		c->i = delta < 0 ? INT64_MIN : INT64_MAX;
}

void metrics_add_double(struct metrics_child *c, double delta)
{
	if (!c || c->cb)
		return;
	/* !(delta >= 0) also drops NaN, which would stick to a counter forever. */
	if (c->family->type == METRICS_COUNTER && !(delta >= 0))
		return;
	if (!c->is_double) {
		c->d = (double)c->i;
		c->is_double = true;
	}
	c->d += delta;
}

void metrics_set(struct metrics_child *c, int64_t v)
{
	if (!c || c->cb)
		return;
	c->is_double = false;
	c->i = v;
}

void metrics_set_double(struct metrics_child *c, double v)
{
	if (!c || c->cb)
		return;
	c->is_double = true;
	c->d = v;
}

double metrics_value(const struct metrics_child *c)
{
	if (!c)
		return 0;
	if (c->cb)
		return c->cb(c->cb_arg);
	return c->is_double ? c->d : (double)c->i;
}

/*
 * Go's strconv.FormatFloat(v, 'g', -1, 64), which the Go client uses: the
 * fewest significant digits that read back as v, in exponent form when the
 * decimal exponent is below -4 or at least 6 (1e+06, 123456, 0.0001, 1e-05).
 */
static void format_double(double v, char *s, size_t n)
{
	char e[40];
	int prec, exp;
	char *p;

	if (isnan(v)) {
		snprintf(s, n, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(s, n, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (prec = 0; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec, v);
		if (strtod(e, NULL) == v)
			break;
	}
	p = strchr(e, 'e');
	exp = p ? (int)strtol(p + 1, NULL, 10) : 0;
	if (exp < -4 || exp >= 6)
		snprintf(s, n, "%s", e);
	else
		snprintf(s, n, "%.*f", prec - exp > 0 ? prec - exp : 0, v);
}

/* Label values escape \ " and newline; HELP text only \ and newline. */
static int put_escaped(struct buf *out, const char *s, bool quote)
{
	const char *run = s;
	const char *esc;
	int r = 0;

	for (; *s && r == 0; s++) {
		if (*s == '\\')
			esc = "\\\\";
		else if (*s == '\n')
			esc = "\\n";
		else if (*s == '"' && quote)
			esc = "\\\"";
		else
			continue;
		r = buf_append(out, run, (size_t)(s - run));
		if (r == 0)
			r = buf_puts(out, esc);
		run = s + 1;
	}
	if (r == 0)
		r = buf_append(out, run, strlen(run));
	return r;
}

static int render_child(const struct metrics_family *f, const struct metrics_child *c,
			struct buf *out)
{
	char num[64];
	int r;

	r = buf_puts(out, f->name);
	for (size_t i = 0; i < f->nlabels && r == 0; i++) {
		r = buf_puts(out, i ? "," : "{");
		if (r == 0)
			r = buf_puts(out, f->labels[i]);
		if (r == 0)
			r = buf_puts(out, "=\"");
		if (r == 0)
			r = put_escaped(out, c->values[i], true);
		if (r == 0)
			r = buf_puts(out, "\"");
	}
	if (r == 0 && f->nlabels)
		r = buf_puts(out, "}");
	if (c->cb)
		format_double(c->cb(c->cb_arg), num, sizeof(num));
	else if (c->is_double)
		format_double(c->d, num, sizeof(num));
	else
		snprintf(num, sizeof(num), "%" PRId64, c->i);
	if (r == 0)
		r = buf_puts(out, " ");
	if (r == 0)
		r = buf_puts(out, num);
	if (r == 0)
		r = buf_puts(out, "\n");
	return r;
}

static int render_family(const struct metrics_family *f, struct buf *out)
{
	const struct metrics_child *c;
	int r;

	if (!f->children)
		return 0;
	r = buf_puts(out, "# HELP ");
	if (r == 0)
		r = buf_puts(out, f->name);
	if (r == 0)
		r = buf_puts(out, " ");
	if (r == 0)
		r = put_escaped(out, f->help, false);
	if (r == 0)
		r = buf_puts(out, "\n# TYPE ");
	if (r == 0)
		r = buf_puts(out, f->name);
	if (r == 0)
		r = buf_puts(out, f->type == METRICS_COUNTER ? " counter\n" : " gauge\n");
	for (c = f->children; c && r == 0; c = c->next)
		r = render_child(f, c, out);
	return r;
}

int metrics_render(const struct metrics *m, struct buf *out)
{
	const struct metrics_family *f;
	size_t start = out->len;
	int r = 0;

	for (f = m->families; f && r == 0; f = f->next)
		r = render_family(f, out);
	if (r < 0) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return r;
}
