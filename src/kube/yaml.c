// SPDX-License-Identifier: Apache-2.0
/*
 * YAML to a jansson tree (see yaml.h). libyaml does the reading; this file
 * only turns its events into JSON values, with an explicit stack (no
 * recursion, bounded depth) and the refusals kubeconfig needs.
 */
#include "kube/yaml.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "core/err.h"

struct frame {
	json_t *c;   /* the array or object being filled */
	json_t *key; /* objects: the key waiting for its value, or NULL */
};

struct builder {
	struct frame stack[YAML_MAX_DEPTH];
	int depth;
	json_t *root;
	int documents;
	const char *text; /* the input, to look at an error's line */
	size_t len;
	struct err *err;
};

/* libyaml's marks count from 0. */
static int line_of(const yaml_mark_t *m)
{
	return m->line < INT32_MAX ? (int)m->line + 1 : INT32_MAX;
}

/* A plain scalar's type, as YAML 1.2's core schema has booleans and null
 * (true/false in any case); numbers stay strings, kubeconfig has none. */
static json_t *plain_value(const char *s, size_t n)
{
	static const char *const nulls[] = {"null", "Null", "NULL", "~"};

	if (n == 0)
		return json_null();
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strlen(nulls[i]) == n && !memcmp(s, nulls[i], n))
			return json_null();
	if (n == 4 && !strncasecmp(s, "true", 4))
		return json_true();
	if (n == 5 && !strncasecmp(s, "false", 5))
		return json_false();
	return json_stringn(s, n);
}

/* Anchors, aliases and tags are refused: kubeconfig writers use none, and
 * aliases are how a small file expands into a huge tree. */
static int check_node(struct builder *b, const yaml_event_t *ev, const yaml_char_t *anchor,
		      const yaml_char_t *tag)
{
	int line = line_of(&ev->start_mark);

	if (anchor)
		return err_set(b->err, -EINVAL, "line %d: anchors and aliases are not supported",
			       line);
	if (tag)
		return err_set(b->err, -EINVAL, "line %d: tags are not supported", line);
	return 0;
}

/* Put v (a new reference, taken) where the innermost collection wants it. */
static int place(struct builder *b, json_t *v, bool is_scalar_key_candidate, const yaml_event_t *ev)
{
	struct frame *f;
	int line = line_of(&ev->start_mark);

	if (b->depth == 0) {
		b->root = v;
		return 0;
	}
	f = &b->stack[b->depth - 1];
	if (json_is_array(f->c)) {
		json_array_append_new(f->c, v);
		return 0;
	}
	if (!f->key) {
		const char *k;

		if (!is_scalar_key_candidate) {
			json_decref(v);
			return err_set(b->err, -EINVAL, "line %d: complex keys are not supported",
				       line);
		}
		k = json_string_value(v);
		if (strlen(k) != json_string_length(v)) {
			json_decref(v);
			return err_set(b->err, -EINVAL, "line %d: a key contains a NUL byte", line);
		}
		if (json_object_get(f->c, k)) {
			err_set(b->err, -EINVAL, "line %d: duplicate key \"%.64s\"", line, k);
			json_decref(v);
			return -EINVAL;
		}
		f->key = v;
		return 0;
	}
	json_object_set_new_nocheck(f->c, json_string_value(f->key), v);
	json_decref(f->key);
	f->key = NULL;
	return 0;
}

static int push(struct builder *b, json_t *c, const yaml_event_t *ev)
{
	struct frame *parent = b->depth ? &b->stack[b->depth - 1] : NULL;

	if (b->depth == YAML_MAX_DEPTH) {
		json_decref(c);
		return err_set(b->err, -EINVAL, "line %d: nested too deeply (more than %d levels)",
			       line_of(&ev->start_mark), YAML_MAX_DEPTH);
	}
	if (parent && json_is_object(parent->c) && !parent->key) {
		json_decref(c);
		return err_set(b->err, -EINVAL, "line %d: complex keys are not supported",
			       line_of(&ev->start_mark));
	}
	b->stack[b->depth++] = (struct frame){.c = c};
	return 0;
}

static int pop(struct builder *b, const yaml_event_t *ev)
{
	struct frame f = b->stack[--b->depth];

	/* libyaml always gives a value for a key (an empty scalar when none). */
	json_decref(f.key);
	return place(b, f.c, false, ev);
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
	int rc;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->documents++)
			return err_set(b->err, -EINVAL,
				       "line %d: several documents in one file are not supported",
				       line_of(&ev->start_mark));
		return 0;
	case YAML_ALIAS_EVENT:
		return err_set(b->err, -EINVAL, "line %d: anchors and aliases are not supported",
			       line_of(&ev->start_mark));
	case YAML_SCALAR_EVENT: {
		const struct frame *f = b->depth ? &b->stack[b->depth - 1] : NULL;
		const char *s = (const char *)ev->data.scalar.value;
		size_t n = ev->data.scalar.length;
		bool is_key = f && json_is_object(f->c) && !f->key;
		json_t *v;

		rc = check_node(b, ev, ev->data.scalar.anchor, ev->data.scalar.tag);
		if (rc < 0)
			return rc;
		/* Keys are text whatever they look like (a key "true" stays "true"). */
		v = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !is_key
			    ? plain_value(s, n)
			    : json_stringn(s, n);
		/* libyaml checks its input; this is only belt and braces for jansson. */
		if (!v)
			return err_set(b->err, -EINVAL, "line %d: invalid UTF-8",
				       line_of(&ev->start_mark));
		return place(b, v, true, ev);
	}
	case YAML_SEQUENCE_START_EVENT:
		rc = check_node(b, ev, ev->data.sequence_start.anchor, ev->data.sequence_start.tag);
		return rc < 0 ? rc : push(b, json_array(), ev);
	case YAML_MAPPING_START_EVENT:
		rc = check_node(b, ev, ev->data.mapping_start.anchor, ev->data.mapping_start.tag);
		return rc < 0 ? rc : push(b, json_object(), ev);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return pop(b, ev);
	default:
		return 0;
	}
}

/* The line (1-based) holding byte offset off. */
static int line_at(const struct builder *b, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off && i < b->len; i++)
		if (b->text[i] == '\n' && line < INT32_MAX)
			line++;
	return line;
}

/* Whether column col of line (both 0-based) lies in that line's leading
 * blanks, and those hold a tab: libyaml's message for it is a riddle. */
static bool tab_in_indentation(const struct builder *b, size_t line, size_t col)
{
	const char *p = b->text, *end = b->text + b->len;
	bool tab = false;

	for (size_t l = 0; l < line; l++) {
		p = memchr(p, '\n', (size_t)(end - p));
		if (!p)
			return false;
		p++;
	}
	for (size_t c = 0; p < end && (*p == ' ' || *p == '\t'); p++, c++) {
		tab |= *p == '\t';
		if (c == col)
			return tab;
	}
	return false;
}

static int parser_error(const struct builder *b, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "cannot parse";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return err_set(b->err, -ENOMEM, "out of memory");
	case YAML_READER_ERROR:
		return err_set(b->err, -EINVAL, "line %d: %s", line_at(b, p->problem_offset),
			       problem);
	case YAML_SCANNER_ERROR:
		if (!strcmp(problem, "found character that cannot start any token") &&
		    tab_in_indentation(b, p->problem_mark.line, p->problem_mark.column))
			return err_set(b->err, -EINVAL, "line %d: tab in indentation",
				       line_of(&p->problem_mark));
		/* fall through */
	default:
		if (p->context && p->context_mark.line != p->problem_mark.line)
			return err_set(b->err, -EINVAL, "line %d: %s (%s from line %d)",
				       line_of(&p->problem_mark), problem, p->context,
				       line_of(&p->context_mark));
		if (p->context)
			return err_set(b->err, -EINVAL, "line %d: %s (%s)",
				       line_of(&p->problem_mark), problem, p->context);
		return err_set(b->err, -EINVAL, "line %d: %s", line_of(&p->problem_mark), problem);
	}
}

int yaml_parse(const char *text, size_t len, json_t **ret, struct err *err)
{
	struct builder b = {.text = text, .len = len, .err = err};
	yaml_parser_t parser;
	bool done = false;
	int rc = 0;

	*ret = NULL;
	if (len > YAML_MAX_SIZE)
		return err_set(err, -E2BIG, "larger than %u bytes", YAML_MAX_SIZE);
	if (memchr(text, '\0', len))
		return err_set(err, -EINVAL, "line %d: contains a NUL byte",
			       line_at(&b, (size_t)((const char *)memchr(text, '\0', len) - text)));
	if (!yaml_parser_initialize(&parser))
		return err_set(err, -ENOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			rc = parser_error(&b, &parser);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(&b, &ev);
		yaml_event_delete(&ev);
		if (rc < 0)
			break;
	}
	yaml_parser_delete(&parser);
	while (b.depth > 0) {
		b.depth--;
		json_decref(b.stack[b.depth].key);
		json_decref(b.stack[b.depth].c);
	}
	if (rc < 0) {
		json_decref(b.root);
		return rc;
	}
	*ret = b.root ? b.root : json_null();
	return 0;
}
