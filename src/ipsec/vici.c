// SPDX-License-Identifier: Apache-2.0
/*
 * VICI packets (strongSwan's src/libcharon/plugins/vici/README.md): the
 * builder appends to a struct buf, the parser turns one packet into a flat
 * array of nodes linked as a tree. Everything parsed comes from charon's
 * socket and is treated as untrusted: every length is checked against what
 * is left, nesting and the element count are bounded, and the walk is a
 * loop with an explicit stack, never recursion.
 *
 * The parser makes two passes over a message with the same walk: the first
 * checks it and counts nodes and the bytes their names and values need, the
 * second (which cannot fail) fills one allocation of exactly that size.
 * Error messages name byte offsets and element kinds, never names or values:
 * a value may be a pre-shared key.
 */
#include "ipsec/vici.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/xmalloc.h"

/* Element types of a message. */
enum {
	EL_SECTION_START = 1,
	EL_SECTION_END = 2,
	EL_KEY_VALUE = 3,
	EL_LIST_START = 4,
	EL_LIST_ITEM = 5,
	EL_LIST_END = 6,
};

static const char *const el_names[] = {
	[EL_SECTION_START] = "section start",
	[EL_SECTION_END] = "section end",
	[EL_KEY_VALUE] = "key",
	[EL_LIST_START] = "list start",
	[EL_LIST_ITEM] = "list item",
	[EL_LIST_END] = "list end",
};

static const char *const type_names[] = {
	"CMD_REQUEST",	    "CMD_RESPONSE",  "CMD_UNKNOWN",   "EVENT_REGISTER",
	"EVENT_UNREGISTER", "EVENT_CONFIRM", "EVENT_UNKNOWN", "EVENT",
};

struct vici_node {
	const char *name;  /* NUL-terminated */
	const char *value; /* keys and items; NUL after value_len bytes */
	size_t value_len;
	const struct vici_node *child; /* first child */
	const struct vici_node *next;  /* next sibling */
	enum vici_kind kind;
};

struct vici_msg {
	size_t n;		  /* nodes, the root included */
	char *arena;		  /* names and values, each with a NUL */
	struct vici_node nodes[]; /* nodes[0] is the root; the arena follows */
};

bool vici_type_named(enum vici_type t)
{
	return t == VICI_CMD_REQUEST || t == VICI_EVENT_REGISTER || t == VICI_EVENT_UNREGISTER ||
	       t == VICI_EVENT;
}

bool vici_type_has_msg(enum vici_type t)
{
	return t == VICI_CMD_REQUEST || t == VICI_CMD_RESPONSE || t == VICI_EVENT;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int vici_frame(const void *data, size_t len, size_t *ret_total)
{
	uint32_t n;

	if (len < 4)
		return 0;
	n = get_be32(data);
	if (n > VICI_MAX_PACKET)
		return -EMSGSIZE;
	if (n == 0)
		return -EBADMSG;
	if (len - 4 < n)
		return 0;
	*ret_total = 4 + (size_t)n;
	return 1;
}

/* ---- builder ---- */

static int build_fail(struct vici_builder *b, int code)
{
	if (b->err)
		return b->err;
	b->err = code;
	if (b->out && b->out->len > b->start) {
		b->out->len = b->start;
		if (b->out->data)
			b->out->data[b->start] = '\0';
	}
	b->out = NULL;
	return code;
}

/* 0 for a name charon accepts (printable ASCII, at most VICI_MAX_NAME
 * bytes, not empty when required), with its length in *ret_len. */
static int name_check(const char *name, bool need, size_t *ret_len)
{
	size_t n;

	if (!name)
		return -EINVAL;
	n = strnlen(name, VICI_MAX_NAME + 1);
	if (n > VICI_MAX_NAME || (need && n == 0))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] > 0x7e)
			return -EINVAL;
	*ret_len = n;
	return 0;
}

/* Append one element (type, optional name, optional value), all or nothing
 * as far as the packet is concerned. */
static int put(struct vici_builder *b, uint8_t type, const char *name, size_t nlen,
	       const void *value, size_t vlen, bool has_value)
{
	uint8_t hdr[2], vhdr[2];
	size_t need = 1 + (name ? 1 + nlen : 0) + (has_value ? 2 + vlen : 0);
	int r;

	if (b->out->len - b->start - 4 + need > VICI_MAX_PACKET)
		return build_fail(b, -EMSGSIZE);
	hdr[0] = type;
	hdr[1] = (uint8_t)nlen;
	vhdr[0] = (uint8_t)(vlen >> 8);
	vhdr[1] = (uint8_t)vlen;
	r = buf_append(b->out, hdr, name ? 2 : 1);
	if (!r && name && nlen)
		r = buf_append(b->out, name, nlen);
	if (!r && has_value)
		r = buf_append(b->out, vhdr, 2);
	if (!r && has_value && vlen)
		r = buf_append(b->out, value, vlen);
	return r ? build_fail(b, r) : 0;
}

/* The checks every element call starts with. */
static int element_ok(struct vici_builder *b)
{
	if (b->err)
		return b->err;
	if (!b->out || !b->has_msg)
		return build_fail(b, -EINVAL);
	return 0;
}

int vici_build_begin(struct vici_builder *b, struct buf *out, enum vici_type type, const char *name)
{
	static const uint8_t zero[4];
	size_t nlen = 0;
	int r;

	memset(b, 0, sizeof(*b));
	b->start = out->len;
	if ((unsigned)type > VICI_EVENT)
		return build_fail(b, -EINVAL);
	if (vici_type_named(type) ? name_check(name, true, &nlen) < 0 : name != NULL)
		return build_fail(b, -EINVAL);
	b->out = out;
	b->has_msg = vici_type_has_msg(type);
	r = buf_append(out, zero, sizeof(zero));
	if (r)
		return build_fail(b, r);
	return put(b, (uint8_t)type, vici_type_named(type) ? name : NULL, nlen, NULL, 0, false);
}

int vici_build_section(struct vici_builder *b, const char *name)
{
	size_t nlen;
	int r = element_ok(b);

	if (r)
		return r;
	if (b->in_list || b->depth >= VICI_MAX_DEPTH || name_check(name, false, &nlen) < 0)
		return build_fail(b, -EINVAL);
	r = put(b, EL_SECTION_START, name, nlen, NULL, 0, false);
	if (!r)
		b->depth++;
	return r;
}

int vici_build_section_end(struct vici_builder *b)
{
	int r = element_ok(b);

	if (r)
		return r;
	if (b->in_list || b->depth == 0)
		return build_fail(b, -EINVAL);
	r = put(b, EL_SECTION_END, NULL, 0, NULL, 0, false);
	if (!r)
		b->depth--;
	return r;
}

int vici_build_kv(struct vici_builder *b, const char *key, const void *value, size_t len)
{
	size_t nlen;
	int r = element_ok(b);

	if (r)
		return r;
	if (b->in_list || name_check(key, false, &nlen) < 0 || (!value && len))
		return build_fail(b, -EINVAL);
	if (len > VICI_MAX_VALUE)
		return build_fail(b, -EMSGSIZE);
	return put(b, EL_KEY_VALUE, key, nlen, value, len, true);
}

int vici_build_str(struct vici_builder *b, const char *key, const char *value)
{
	if (!value && !b->err)
		return build_fail(b, -EINVAL);
	return vici_build_kv(b, key, value, value ? strlen(value) : 0);
}

int vici_build_list(struct vici_builder *b, const char *name)
{
	size_t nlen;
	int r = element_ok(b);

	if (r)
		return r;
	if (b->in_list || name_check(name, false, &nlen) < 0)
		return build_fail(b, -EINVAL);
	r = put(b, EL_LIST_START, name, nlen, NULL, 0, false);
	if (!r)
		b->in_list = true;
	return r;
}

int vici_build_item(struct vici_builder *b, const void *value, size_t len)
{
	int r = element_ok(b);

	if (r)
		return r;
	if (!b->in_list || (!value && len))
		return build_fail(b, -EINVAL);
	if (len > VICI_MAX_VALUE)
		return build_fail(b, -EMSGSIZE);
	return put(b, EL_LIST_ITEM, NULL, 0, value, len, true);
}

int vici_build_item_str(struct vici_builder *b, const char *value)
{
	if (!value && !b->err)
		return build_fail(b, -EINVAL);
	return vici_build_item(b, value, value ? strlen(value) : 0);
}

int vici_build_list_end(struct vici_builder *b)
{
	int r = element_ok(b);

	if (r)
		return r;
	if (!b->in_list)
		return build_fail(b, -EINVAL);
	r = put(b, EL_LIST_END, NULL, 0, NULL, 0, false);
	if (!r)
		b->in_list = false;
	return r;
}

int vici_build_finish(struct vici_builder *b)
{
	size_t n;
	uint8_t *p;

	if (b->err)
		return b->err;
	if (!b->out || b->depth || b->in_list)
		return build_fail(b, -EINVAL);
	n = b->out->len - b->start - 4;
	p = (uint8_t *)b->out->data + b->start;
	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	b->out = NULL; /* done: later calls are refused */
	return 0;
}

/* ---- parser ---- */

struct walk {
	const uint8_t *p;
	size_t len, off;
	size_t base;	    /* offset of the message in its packet, for errors */
	struct vici_msg *m; /* NULL on the counting pass */
	size_t nodes;	    /* nodes added (the root not counted) */
	size_t arena;	    /* arena bytes used */
	/* Open containers: [0] the root, then sections, then perhaps a list. */
	struct vici_node *open[VICI_MAX_DEPTH + 2];
	struct vici_node *last[VICI_MAX_DEPTH + 2]; /* last child of each */
	unsigned top;
	unsigned depth; /* open sections */
	bool in_list;
};

/* Read a name (length byte and bytes) of the element that started at 'at'. */
static int walk_name(struct walk *w, size_t at, uint8_t t, const uint8_t **ret, size_t *ret_len,
		     struct err *err)
{
	size_t n;

	if (w->off >= w->len)
		return err_set(err, -EBADMSG, "byte %zu: %s: name length missing", w->base + at,
			       el_names[t]);
	n = w->p[w->off++];
	if (n > w->len - w->off)
		return err_set(err, -EBADMSG,
			       "byte %zu: %s: name of %zu bytes runs past the end (%zu left)",
			       w->base + at, el_names[t], n, w->len - w->off);
	if (memchr(w->p + w->off, '\0', n))
		return err_set(err, -EBADMSG, "byte %zu: %s: NUL byte in the name", w->base + at,
			       el_names[t]);
	*ret = w->p + w->off;
	*ret_len = n;
	w->off += n;
	return 0;
}

static int walk_value(struct walk *w, size_t at, uint8_t t, const uint8_t **ret, size_t *ret_len,
		      struct err *err)
{
	size_t n;

	if (w->len - w->off < 2)
		return err_set(err, -EBADMSG, "byte %zu: %s: value length missing", w->base + at,
			       el_names[t]);
	n = (size_t)w->p[w->off] << 8 | w->p[w->off + 1];
	w->off += 2;
	if (n > w->len - w->off)
		return err_set(err, -EBADMSG,
			       "byte %zu: %s: value of %zu bytes runs past the end (%zu left)",
			       w->base + at, el_names[t], n, w->len - w->off);
	*ret = w->p + w->off;
	*ret_len = n;
	w->off += n;
	return 0;
}

/* Whether t may appear here; the error names why not. */
static int walk_place(struct walk *w, size_t at, uint8_t t, struct err *err)
{
	if (t < EL_SECTION_START || t > EL_LIST_END)
		return err_set(err, -EBADMSG, "byte %zu: unknown element type %u", w->base + at, t);
	if (w->in_list && t != EL_LIST_ITEM && t != EL_LIST_END)
		return err_set(err, -EBADMSG, "byte %zu: %s inside a list", w->base + at,
			       el_names[t]);
	if (!w->in_list && (t == EL_LIST_ITEM || t == EL_LIST_END))
		return err_set(err, -EBADMSG, "byte %zu: %s outside a list", w->base + at,
			       el_names[t]);
	if (t == EL_SECTION_END && w->depth == 0)
		return err_set(err, -EBADMSG, "byte %zu: section end without a section",
			       w->base + at);
	if (t == EL_SECTION_START && w->depth >= VICI_MAX_DEPTH)
		return err_set(err, -EBADMSG, "byte %zu: sections nested deeper than %d",
			       w->base + at, VICI_MAX_DEPTH);
	if (t != EL_SECTION_END && t != EL_LIST_END && w->nodes >= VICI_MAX_ELEMENTS)
		return err_set(err, -EBADMSG, "byte %zu: more than %d elements", w->base + at,
			       VICI_MAX_ELEMENTS);
	return 0;
}

static const char *arena_put(struct walk *w, const uint8_t *p, size_t n)
{
	char *s = w->m->arena + w->arena;

	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	w->arena += n + 1;
	return s;
}

/* The second pass: a node for element t, linked under the open container. */
static void walk_add(struct walk *w, uint8_t t, const uint8_t *name, size_t nlen,
		     const uint8_t *value, size_t vlen)
{
	struct vici_node *n = &w->m->nodes[1 + w->nodes];

	memset(n, 0, sizeof(*n));
	n->kind = t == EL_SECTION_START ? VICI_SECTION
		  : t == EL_KEY_VALUE	? VICI_KEY
		  : t == EL_LIST_START	? VICI_LIST
					: VICI_ITEM;
	n->name = name ? arena_put(w, name, nlen) : "";
	if (value) {
		n->value = arena_put(w, value, vlen);
		n->value_len = vlen;
	}
	if (w->last[w->top])
		w->last[w->top]->next = n;
	else
		w->open[w->top]->child = n;
	w->last[w->top] = n;
}

static int walk(struct walk *w, struct err *err)
{
	while (w->off < w->len) {
		const uint8_t *name = NULL, *value = NULL;
		size_t at = w->off, nlen = 0, vlen = 0;
		uint8_t t = w->p[w->off++];
		int r = walk_place(w, at, t, err);

		if (!r && (t == EL_SECTION_START || t == EL_KEY_VALUE || t == EL_LIST_START))
			r = walk_name(w, at, t, &name, &nlen, err);
		if (!r && (t == EL_KEY_VALUE || t == EL_LIST_ITEM))
			r = walk_value(w, at, t, &value, &vlen, err);
		if (r)
			return r;
		if (t == EL_SECTION_END || t == EL_LIST_END) {
			if (t == EL_SECTION_END)
				w->depth--;
			else
				w->in_list = false;
			w->top--;
			continue;
		}
		if (w->m)
			walk_add(w, t, name, nlen, value, vlen);
		else
			w->arena += (name ? nlen + 1 : 0) + (value ? vlen + 1 : 0);
		w->nodes++;
		if (t == EL_SECTION_START || t == EL_LIST_START) {
			w->top++;
			if (w->m) {
				w->open[w->top] = &w->m->nodes[w->nodes];
				w->last[w->top] = NULL;
			}
			if (t == EL_SECTION_START)
				w->depth++;
			else
				w->in_list = true;
		}
	}
	if (w->in_list)
		return err_set(err, -EBADMSG, "byte %zu: list left open at the end",
			       w->base + w->len);
	if (w->depth)
		return err_set(err, -EBADMSG, "byte %zu: %u section(s) left open at the end",
			       w->base + w->len, w->depth);
	return 0;
}

static int msg_parse(const uint8_t *p, size_t len, size_t base, struct vici_msg **ret,
		     struct err *err)
{
	struct walk w = {.p = p, .len = len, .base = base};
	struct vici_msg *m;
	size_t nodes;
	int r;

	*ret = NULL;
	r = walk(&w, err);
	if (r)
		return r;
	nodes = 1 + w.nodes;
	m = xmalloc(sizeof(*m) + nodes * sizeof(m->nodes[0]) + w.arena + 1);
	m->n = nodes;
	m->arena = (char *)&m->nodes[nodes];
	memset(&m->nodes[0], 0, sizeof(m->nodes[0]));
	m->nodes[0].kind = VICI_SECTION;
	m->nodes[0].name = "";
	memset(&w, 0, sizeof(w));
	w.p = p;
	w.len = len;
	w.m = m;
	w.open[0] = &m->nodes[0];
	/* Checked by the first pass: this one cannot fail. */
	r = walk(&w, NULL);
	if (r) {
		free(m);
		return r;
	}
	*ret = m;
	return 0;
}

int vici_msg_parse(const void *data, size_t len, struct vici_msg **ret, struct err *err)
{
	*ret = NULL;
	if (len > VICI_MAX_PACKET)
		return err_set(err, -EMSGSIZE, "message of %zu bytes, over the %d limit", len,
			       VICI_MAX_PACKET);
	return msg_parse(data, len, 0, ret, err);
}

void vici_msg_free(struct vici_msg *m)
{
	free(m);
}

int vici_packet_parse(const void *data, size_t len, struct vici_packet *ret, struct err *err)
{
	const uint8_t *p = data;
	size_t off = 1;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (len > VICI_MAX_PACKET)
		return err_set(err, -EMSGSIZE, "packet of %zu bytes, over the %d limit", len,
			       VICI_MAX_PACKET);
	if (len == 0)
		return err_set(err, -EBADMSG, "empty packet");
	if (p[0] > VICI_EVENT)
		return err_set(err, -EBADMSG, "unknown packet type %u", p[0]);
	ret->type = p[0];
	if (vici_type_named(ret->type)) {
		size_t n;

		if (len < 2)
			return err_set(err, -EBADMSG, "%s packet: name length missing",
				       type_names[p[0]]);
		n = p[1];
		off = 2;
		if (n > len - off)
			return err_set(err, -EBADMSG,
				       "%s packet: name of %zu bytes runs past the end (%zu left)",
				       type_names[p[0]], n, len - off);
		if (memchr(p + off, '\0', n))
			return err_set(err, -EBADMSG, "%s packet: NUL byte in the name",
				       type_names[p[0]]);
		memcpy(ret->name, p + off, n);
		ret->name[n] = '\0';
		off += n;
	}
	if (!vici_type_has_msg(ret->type)) {
		if (off != len)
			return err_set(err, -EBADMSG, "%s packet: %zu bytes where none belong",
				       type_names[p[0]], len - off);
		return 0;
	}
	r = msg_parse(p + off, len - off, off, &ret->msg, err);
	if (r) {
		err_prefix(err, r, "%s packet", type_names[p[0]]);
		memset(ret, 0, sizeof(*ret));
	}
	return r;
}

void vici_packet_clear(struct vici_packet *p)
{
	vici_msg_free(p->msg);
	memset(p, 0, sizeof(*p));
}

/* ---- queries ---- */

const struct vici_node *vici_msg_root(const struct vici_msg *m)
{
	return &m->nodes[0];
}

enum vici_kind vici_node_kind(const struct vici_node *n)
{
	return n->kind;
}

const char *vici_node_name(const struct vici_node *n)
{
	return n->name;
}

const char *vici_node_value(const struct vici_node *n, size_t *ret_len)
{
	if (ret_len)
		*ret_len = n->value ? n->value_len : 0;
	return n->value;
}

static const struct vici_node *same_kind(const struct vici_node *n, enum vici_kind kind)
{
	while (n && n->kind != kind)
		n = n->next;
	return n;
}

const struct vici_node *vici_first(const struct vici_node *s, enum vici_kind kind)
{
	return s ? same_kind(s->child, kind) : NULL;
}

const struct vici_node *vici_next(const struct vici_node *n)
{
	return n ? same_kind(n->next, n->kind) : NULL;
}

const struct vici_node *vici_child(const struct vici_node *s)
{
	return s ? s->child : NULL;
}

const struct vici_node *vici_sibling(const struct vici_node *n)
{
	return n ? n->next : NULL;
}

const struct vici_node *vici_find(const struct vici_node *s, enum vici_kind kind, const char *name)
{
	for (const struct vici_node *n = vici_first(s, kind); n; n = vici_next(n))
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

int vici_get(const struct vici_node *s, const char *key, const char **ret_value, size_t *ret_len)
{
	const struct vici_node *n = vici_find(s, VICI_KEY, key);

	if (!n)
		return -ENOENT;
	*ret_value = n->value;
	*ret_len = n->value_len;
	return 0;
}

int vici_get_str(const struct vici_node *s, const char *key, char *out, size_t size)
{
	const char *v;
	size_t len;
	int r;

	if (size)
		out[0] = '\0';
	r = vici_get(s, key, &v, &len);
	if (r)
		return r;
	if (len >= size)
		return -ENOSPC;
	if (memchr(v, '\0', len))
		return -EINVAL;
	memcpy(out, v, len + 1);
	return 0;
}
