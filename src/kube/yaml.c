// SPDX-License-Identifier: Apache-2.0
/*
 * The kubeconfig subset of YAML (see yaml.h), read line by line: each line
 * is cut into its indentation and its content (comment removed), and a
 * recursive descent over the lines builds the tree. Block structure is
 * decided by indentation alone, as in YAML; everything inside one line
 * (scalars, flow collections) is scanned by hand.
 */
#include "kube/yaml.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/xmalloc.h"

struct yline {
	int no;	    /* 1-based line number, for errors */
	int indent; /* columns of leading spaces */
	char *s;    /* content: comment and trailing blanks removed */
};

struct yparse {
	struct yline *l;
	size_t n, i;
	struct err *err;
};

/* ---- scalars ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char *skip_blanks(char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static json_t *make_string(const char *s, size_t n, int no, struct err *err)
{
	json_t *j = json_stringn(s, n);

	if (!j)
		err_set(err, -EINVAL, "line %d: invalid UTF-8 in a string", no);
	return j;
}

/*
 * A quoted scalar starting at *pp (on the quote). On success *pp points past
 * the closing quote.
 */
static json_t *parse_quoted(char **pp, int no, struct err *err)
{
	char *p = *pp, q = *p++;
	char *out = xmalloc(strlen(p) + 1);
	size_t n = 0;
	json_t *j = NULL;

	for (;;) {
		if (!*p) {
			err_set(err, -EINVAL, "line %d: unterminated %s-quoted string (multi-line "
				"scalars are not supported)", no, q == '"' ? "double" : "single");
			goto out;
		}
		if (q == '\'' && *p == '\'') {
			if (p[1] == '\'') {
				out[n++] = '\'';
				p += 2;
				continue;
			}
			p++;
			break;
		}
		if (q == '"' && *p == '"') {
			p++;
			break;
		}
		if (q == '"' && *p == '\\') {
			uint32_t cp = 0;
			int digits = 0;

			p++;
			switch (*p) {
			case '"': out[n++] = '"'; break;
			case '\\': out[n++] = '\\'; break;
			case '/': out[n++] = '/'; break;
			case ' ': out[n++] = ' '; break;
			case 'b': out[n++] = '\b'; break;
			case 'f': out[n++] = '\f'; break;
			case 'n': out[n++] = '\n'; break;
			case 'r': out[n++] = '\r'; break;
			case 't': out[n++] = '\t'; break;
			case '0': out[n++] = '\0'; break;
			case 'e': out[n++] = '\x1b'; break;
			case 'x': digits = 2; break;
			case 'u': digits = 4; break;
			case 'U': digits = 8; break;
			default:
				err_set(err, -EINVAL, "line %d: unsupported escape \\%c", no,
					*p ? *p : ' ');
				goto out;
			}
			for (int k = 1; k <= digits; k++) {
				int v = hexval(p[k]);

				if (v < 0) {
					err_set(err, -EINVAL, "line %d: bad \\%c escape", no, *p);
					goto out;
				}
				cp = cp << 4 | (uint32_t)v;
			}
			if (digits) {
				if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
					err_set(err, -EINVAL, "line %d: bad code point in \\%c escape",
						no, *p);
					goto out;
				}
				n += utf8_put(out + n, cp);
			}
			p += 1 + digits;
			continue;
		}
		out[n++] = *p++;
	}
	j = make_string(out, n, no, err);
	*pp = p;
out:
	free(out);
	return j;
}

/* A plain scalar's text, typed: booleans and null as YAML 1.2's core schema
 * says, every other scalar as a string. */
static json_t *plain_value(const char *s, size_t n, int no, struct err *err)
{
	static const char *const nulls[] = { "null", "Null", "NULL", "~" };

	if (n == 0)
		return json_null();
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strlen(nulls[i]) == n && !memcmp(s, nulls[i], n))
			return json_null();
	if (n == 4 && !strncasecmp(s, "true", 4))
		return json_true();
	if (n == 5 && !strncasecmp(s, "false", 5))
		return json_false();
	return make_string(s, n, no, err);
}

static int refuse_indicator(char c, int no, struct err *err)
{
	switch (c) {
	case '|':
	case '>':
		return err_set(err, -EINVAL, "line %d: block scalars (| and >) are not supported",
			       no);
	case '&':
	case '*':
		return err_set(err, -EINVAL, "line %d: anchors and aliases are not supported", no);
	case '!':
		return err_set(err, -EINVAL, "line %d: tags are not supported", no);
	case '?':
		return err_set(err, -EINVAL, "line %d: complex keys are not supported", no);
	case '@':
	case '`':
		return err_set(err, -EINVAL, "line %d: '%c' cannot start a plain scalar", no, c);
	default:
		return 0;
	}
}

/* ---- flow collections, on one line ---- */

static json_t *parse_flow(char **pp, int no, unsigned depth, struct err *err);

/* A scalar inside a flow collection: ends at , ] } or ": ". */
static json_t *flow_scalar(char **pp, int no, struct err *err)
{
	char *p = *pp, *start = p, *end;
	json_t *j;

	if (*p == '"' || *p == '\'')
		return parse_quoted(pp, no, err);
	if (refuse_indicator(*p, no, err) < 0)
		return NULL;
	while (*p && *p != ',' && *p != ']' && *p != '}' &&
	       !(*p == ':' && (is_blank(p[1]) || !p[1] || p[1] == ',' || p[1] == ']' || p[1] == '}')))
		p++;
	end = p;
	while (end > start && is_blank(end[-1]))
		end--;
	j = plain_value(start, (size_t)(end - start), no, err);
	*pp = p;
	return j;
}

static json_t *flow_item(char **pp, int no, unsigned depth, struct err *err)
{
	*pp = skip_blanks(*pp);
	if (**pp == '[' || **pp == '{')
		return parse_flow(pp, no, depth + 1, err);
	return flow_scalar(pp, no, err);
}

static json_t *parse_flow(char **pp, int no, unsigned depth, struct err *err)
{
	char *p = *pp, close = *p == '[' ? ']' : '}';
	bool map = *p == '{';
	json_t *c = map ? json_object() : json_array();

	if (depth > YAML_MAX_DEPTH) {
		err_set(err, -EINVAL, "line %d: nested too deeply", no);
		goto fail;
	}
	p = skip_blanks(p + 1);
	while (*p != close) {
		json_t *k = NULL, *v;

		if (!*p) {
			err_set(err, -EINVAL, "line %d: unterminated flow %s (multi-line flow "
				"collections are not supported)", no, map ? "mapping" : "sequence");
			goto fail;
		}
		if (map) {
			k = flow_item(&p, no, depth, err);
			if (!k)
				goto fail;
			if (!json_is_string(k)) {
				json_decref(k);
				err_set(err, -EINVAL, "line %d: mapping keys must be strings", no);
				goto fail;
			}
			p = skip_blanks(p);
			if (*p == ':') {
				p++;
				v = flow_item(&p, no, depth, err);
			} else {
				v = json_null(); /* {a, b}: keys without values */
			}
			if (!v) {
				json_decref(k);
				goto fail;
			}
			if (json_object_get(c, json_string_value(k))) {
				err_set(err, -EINVAL, "line %d: duplicate key \"%s\"", no,
					json_string_value(k));
				json_decref(k);
				json_decref(v);
				goto fail;
			}
			json_object_set_new(c, json_string_value(k), v);
			json_decref(k);
		} else {
			v = flow_item(&p, no, depth, err);
			if (!v)
				goto fail;
			json_array_append_new(c, v);
		}
		p = skip_blanks(p);
		if (*p == ',') {
			p = skip_blanks(p + 1);
		} else if (*p && *p != close) {
			err_set(err, -EINVAL, "line %d: expected ',' or '%c' in a flow collection", no,
				close);
			goto fail;
		}
	}
	*pp = p + 1;
	return c;
fail:
	json_decref(c);
	return NULL;
}

/* The value written after "key: " or "- ", up to the end of the line. */
static json_t *inline_value(char *s, int no, struct err *err)
{
	char *p = s;
	json_t *j;

	if (*p == '"' || *p == '\'')
		j = parse_quoted(&p, no, err);
	else if (*p == '[' || *p == '{')
		j = parse_flow(&p, no, 0, err);
	else if (refuse_indicator(*p, no, err) < 0)
		return NULL;
	else {
		size_t n = strlen(s);

		for (char *c = s; *c; c++)
			if (*c == ':' && (is_blank(c[1]) || !c[1])) {
				err_set(err, -EINVAL, "line %d: mapping values are not allowed here",
					no);
				return NULL;
			}
		return plain_value(s, n, no, err);
	}
	if (!j)
		return NULL;
	p = skip_blanks(p);
	if (*p) {
		json_decref(j);
		err_set(err, -EINVAL, "line %d: unexpected text after a quoted or flow value", no);
		return NULL;
	}
	return j;
}

/* ---- lines ---- */

/* Cut a comment: '#' at the start or after a blank, outside quoted scalars.
 * A quote only opens a scalar where a scalar may start. */
static void strip_comment(char *s)
{
	bool at_start = true;

	for (char *p = s; *p; p++) {
		if (at_start && (*p == '"' || *p == '\'')) {
			char q = *p++;

			for (; *p; p++) {
				if (q == '"' && *p == '\\' && p[1])
					p++;
				else if (q == '\'' && *p == '\'' && p[1] == '\'')
					p++;
				else if (*p == q)
					break;
			}
			if (!*p)
				return;
			at_start = false;
			continue;
		}
		if (*p == '#' && (p == s || is_blank(p[-1]))) {
			*p = '\0';
			break;
		}
		if (is_blank(*p))
			continue;
		at_start = (*p == '-' || *p == ':' || *p == ',' || *p == '[' || *p == '{' ||
			    *p == '?') &&
			   (is_blank(p[1]) || *p == ',' || *p == '[' || *p == '{');
	}
}

static int split_lines(char *text, struct yparse *y, struct err *err)
{
	size_t cap = 0;
	int no = 0;
	bool started = false;
	char *line, *next;

	for (line = text; line; line = next) {
		char *nl = strchr(line, '\n'), *s, *end;
		int indent = 0;

		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		no++;
		for (s = line; *s == ' '; s++)
			indent++;
		if (*s == '\t') {
			char *t = s;

			while (is_blank(*t))
				t++;
			if (*t && *t != '#' && *t != '\r')
				return err_set(err, -EINVAL, "line %d: tab in indentation", no);
		}
		strip_comment(s);
		end = s + strlen(s);
		while (end > s && (is_blank(end[-1]) || end[-1] == '\r'))
			end--;
		*end = '\0';
		if (!*s)
			continue;
		if (indent == 0 && *s == '%' && !started)
			continue; /* a directive */
		if (indent == 0 && !strncmp(s, "---", 3) && (!s[3] || is_blank(s[3]))) {
			if (started)
				return err_set(err, -EINVAL,
					       "line %d: several documents are not supported", no);
			started = true;
			s = skip_blanks(s + 3);
			if (!*s)
				continue;
			indent = (int)(s - line);
		}
		if (indent == 0 && !strcmp(s, "..."))
			break;
		started = true;
		if (y->n == cap) {
			cap = cap ? cap * 2 : 64;
			y->l = xreallocarray(y->l, cap, sizeof(*y->l));
		}
		y->l[y->n++] = (struct yline){ .no = no, .indent = indent, .s = s };
	}
	return 0;
}

static bool is_seq_entry(const char *s)
{
	return s[0] == '-' && (!s[1] || is_blank(s[1]));
}

/* Index of the ':' ending a mapping key in s, or -1 when s is no "key: ...". */
static long map_sep(const char *s)
{
	const char *p = s;

	if (is_seq_entry(s) || *s == '[' || *s == '{')
		return -1;
	if (*p == '"' || *p == '\'') {
		char q = *p++;

		while (*p && *p != q) {
			if (q == '"' && *p == '\\' && p[1])
				p++;
			else if (q == '\'' && *p == '\'' && p[1] == '\'')
				p++;
			p++;
		}
		if (!*p)
			return -1;
		p++;
		while (is_blank(*p))
			p++;
		return *p == ':' && (!p[1] || is_blank(p[1])) ? p - s : -1;
	}
	for (; *p; p++)
		if (*p == ':' && (!p[1] || is_blank(p[1])))
			return p - s;
	return -1;
}

/* ---- blocks ---- */

static json_t *parse_block(struct yparse *y, int indent, unsigned depth);

/* The block value of an entry whose line ended after "key:" or "-": the lines
 * that follow with more indentation (or, for a key, a sequence at the same
 * indentation); null when there are none. */
static json_t *nested_value(struct yparse *y, int indent, bool allow_same_seq, unsigned depth)
{
	if (y->i < y->n) {
		struct yline *nx = &y->l[y->i];

		if (nx->indent > indent ||
		    (allow_same_seq && nx->indent == indent && is_seq_entry(nx->s)))
			return parse_block(y, nx->indent, depth + 1);
	}
	return json_null();
}

static json_t *parse_map(struct yparse *y, int indent, unsigned depth)
{
	json_t *obj = json_object();

	while (y->i < y->n && y->l[y->i].indent == indent) {
		struct yline *ln = &y->l[y->i];
		long sep = map_sep(ln->s);
		char *kp = ln->s, *rest;
		json_t *k, *v;

		if (*kp == '?' && (!kp[1] || is_blank(kp[1]))) {
			err_set(y->err, -EINVAL, "line %d: complex keys are not supported", ln->no);
			goto fail;
		}
		if (sep < 0) {
			err_set(y->err, -EINVAL, "line %d: expected \"key: value\"%s", ln->no,
				is_seq_entry(ln->s) ? " (a sequence entry cannot follow a mapping "
						      "entry at the same indentation)" : "");
			goto fail;
		}
		ln->s[sep] = '\0';
		rest = skip_blanks(ln->s + sep + 1);
		if (*kp == '"' || *kp == '\'') {
			k = parse_quoted(&kp, ln->no, y->err);
		} else {
			char *e = kp + strlen(kp);

			while (e > kp && is_blank(e[-1]))
				e--;
			*e = '\0';
			if (refuse_indicator(*kp, ln->no, y->err) < 0)
				goto fail;
			k = make_string(kp, strlen(kp), ln->no, y->err);
		}
		if (!k)
			goto fail;
		if (json_object_get(obj, json_string_value(k))) {
			err_set(y->err, -EINVAL, "line %d: duplicate key \"%s\"", ln->no,
				json_string_value(k));
			json_decref(k);
			goto fail;
		}
		y->i++;
		if (*rest)
			v = inline_value(rest, ln->no, y->err);
		else
			v = nested_value(y, indent, true, depth);
		if (!v) {
			json_decref(k);
			goto fail;
		}
		json_object_set_new(obj, json_string_value(k), v);
		json_decref(k);
	}
	if (y->i < y->n && y->l[y->i].indent > indent) {
		err_set(y->err, -EINVAL, "line %d: unexpected indentation (multi-line scalars are "
			"not supported)", y->l[y->i].no);
		goto fail;
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

static json_t *parse_seq(struct yparse *y, int indent, unsigned depth)
{
	json_t *arr = json_array();

	while (y->i < y->n && y->l[y->i].indent == indent && is_seq_entry(y->l[y->i].s)) {
		struct yline *ln = &y->l[y->i];
		char *rest = skip_blanks(ln->s + 1);
		json_t *v;

		if (!*rest) {
			y->i++;
			v = nested_value(y, indent, false, depth);
		} else if (map_sep(rest) >= 0 || is_seq_entry(rest)) {
			/* "- key: value" opens a mapping (or "- - x" a sequence) whose
			 * column is that of its first key. */
			ln->indent += (int)(rest - ln->s);
			ln->s = rest;
			v = parse_block(y, ln->indent, depth + 1);
		} else {
			y->i++;
			v = inline_value(rest, ln->no, y->err);
		}
		if (!v)
			goto fail;
		json_array_append_new(arr, v);
	}
	if (y->i < y->n && y->l[y->i].indent > indent) {
		err_set(y->err, -EINVAL, "line %d: unexpected indentation (multi-line scalars are "
			"not supported)", y->l[y->i].no);
		goto fail;
	}
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

static json_t *parse_block(struct yparse *y, int indent, unsigned depth)
{
	struct yline *ln = &y->l[y->i];
	json_t *v;

	if (depth > YAML_MAX_DEPTH) {
		err_set(y->err, -EINVAL, "line %d: nested too deeply", ln->no);
		return NULL;
	}
	if (is_seq_entry(ln->s))
		return parse_seq(y, indent, depth);
	if (map_sep(ln->s) >= 0 || (ln->s[0] == '?' && (!ln->s[1] || is_blank(ln->s[1]))))
		return parse_map(y, indent, depth);
	/* A lone scalar (or flow collection) as the whole block. */
	y->i++;
	v = inline_value(ln->s, ln->no, y->err);
	if (v && y->i < y->n && y->l[y->i].indent >= indent && depth > 0) {
		err_set(y->err, -EINVAL, "line %d: unexpected content (multi-line scalars are not "
			"supported)", y->l[y->i].no);
		json_decref(v);
		return NULL;
	}
	return v;
}

int yaml_parse(const char *text, size_t len, json_t **ret, struct err *err)
{
	struct yparse y = { .err = err };
	char *copy;
	json_t *root = NULL;
	int rc = -EINVAL;

	*ret = NULL;
	if (len > YAML_MAX_SIZE)
		return err_set(err, -E2BIG, "larger than %u bytes", YAML_MAX_SIZE);
	if (memchr(text, '\0', len))
		return err_set(err, -EINVAL, "contains a NUL byte");
	copy = xstrndup(text, len);
	rc = split_lines(copy, &y, err);
	if (rc < 0)
		goto out;
	rc = -EINVAL;
	if (y.n == 0) {
		root = json_null();
	} else {
		root = parse_block(&y, y.l[0].indent, 0);
		if (!root)
			goto out;
		if (y.i < y.n) {
			err_set(err, -EINVAL, "line %d: unexpected content at this indentation",
				y.l[y.i].no);
			json_decref(root);
			root = NULL;
			goto out;
		}
	}
	*ret = root;
	rc = 0;
out:
	free(y.l);
	free(copy);
	return rc;
}
