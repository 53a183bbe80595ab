/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_IPSEC_VICI_H
#define WEFT_IPSEC_VICI_H

/*
 * strongSwan's VICI protocol (src/libcharon/plugins/vici/README.md), the
 * control socket of charon: the framing, a builder of packets and a parser
 * of one packet into a tree. Pure: no I/O, no logging.
 *
 * On the stream every packet is a 32-bit big-endian length, then the packet:
 * a type byte, for named types (CMD_REQUEST, EVENT_REGISTER,
 * EVENT_UNREGISTER, EVENT) a length byte and the name, then for CMD_REQUEST,
 * CMD_RESPONSE and EVENT a message. A message is a sequence of elements:
 *
 *   SECTION_START name   SECTION_END
 *   KEY_VALUE name value LIST_START name   LIST_ITEM value   LIST_END
 *
 * names with a length byte, values with a 16-bit big-endian length. Sections
 * nest, lists do not and hold items only; keys may not appear in lists.
 * Values are any bytes (charon uses unterminated strings, numbers as text).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct err;

/* The length after the prefix is at most this (charon's VICI_MESSAGE_SIZE_MAX). */
#define VICI_MAX_PACKET (512 * 1024)
#define VICI_MAX_NAME 255
#define VICI_MAX_VALUE 65535
/* Parser bounds: open sections, and keys, sections, lists and items. */
#define VICI_MAX_DEPTH 32
#define VICI_MAX_ELEMENTS 65536

enum vici_type {
	VICI_CMD_REQUEST = 0,	   /* named, message */
	VICI_CMD_RESPONSE = 1,	   /* message */
	VICI_CMD_UNKNOWN = 2,	   /* nothing: no such command */
	VICI_EVENT_REGISTER = 3,   /* named */
	VICI_EVENT_UNREGISTER = 4, /* named */
	VICI_EVENT_CONFIRM = 5,	   /* nothing: (un)registered */
	VICI_EVENT_UNKNOWN = 6,	   /* nothing: no such event */
	VICI_EVENT = 7,		   /* named, message */
};

bool vici_type_named(enum vici_type t);
bool vici_type_has_msg(enum vici_type t);

/*
 * The frame at the start of data[0..len): 1 and *ret_total (prefix
 * included) when it is all there, 0 when more bytes are needed, -EMSGSIZE
 * when the prefix announces more than VICI_MAX_PACKET, -EBADMSG for 0.
 */
int vici_frame(const void *data, size_t len, size_t *ret_total);

/* ---- builder ---- */

/*
 * Appends one framed packet to out. Each call returns the builder's error,
 * which sticks: after the first failure the others do nothing and finish
 * returns it, so calls can be chained unchecked. Errors: -EINVAL for a call
 * out of place (an element outside a message type, an item outside a list,
 * a key, section or list inside one, an end without a start, nesting past
 * VICI_MAX_DEPTH) and for a name that is empty where a packet needs one,
 * longer than VICI_MAX_NAME or not printable ASCII (charon drops such a
 * request unanswered); -EMSGSIZE for a value over VICI_MAX_VALUE or a packet
 * over VICI_MAX_PACKET; -E2BIG when out reaches its own max.
 */
struct vici_builder {
	struct buf *out;
	size_t start; /* where the packet's length prefix is in out */
	int err;
	unsigned depth; /* open sections */
	bool in_list;
	bool has_msg;
};

/* name: the command or event name for named types, NULL for the others. */
int vici_build_begin(struct vici_builder *b, struct buf *out, enum vici_type type,
		     const char *name);
int vici_build_section(struct vici_builder *b, const char *name);
int vici_build_section_end(struct vici_builder *b);
int vici_build_kv(struct vici_builder *b, const char *key, const void *value, size_t len);
int vici_build_str(struct vici_builder *b, const char *key, const char *value);
int vici_build_list(struct vici_builder *b, const char *name);
int vici_build_item(struct vici_builder *b, const void *value, size_t len);
int vici_build_item_str(struct vici_builder *b, const char *value);
int vici_build_list_end(struct vici_builder *b);
/* Patches the length; -EINVAL when a section or list is still open. On any
 * error the partial packet is cut from out (what was before stays). */
int vici_build_finish(struct vici_builder *b);

/* ---- parser ---- */

/* A message's tree, in one allocation holding copies of its names and
 * values (the parsed bytes may go); nodes live as long as the message. */
struct vici_msg;
struct vici_node;

enum vici_kind { VICI_SECTION, VICI_KEY, VICI_LIST, VICI_ITEM };

struct vici_packet {
	enum vici_type type;
	char name[VICI_MAX_NAME + 1]; /* "" for unnamed types */
	struct vici_msg *msg;	      /* NULL for types without a message */
};

/*
 * One packet (the bytes after the length prefix). -EBADMSG with err naming
 * the byte offset and element for anything malformed: an unknown packet or
 * element type, a length past the end, a NUL in a name, bytes after a
 * packet that has no message, an element out of place, sections or a list
 * left open, nesting past VICI_MAX_DEPTH, more than VICI_MAX_ELEMENTS;
 * -EMSGSIZE when len exceeds VICI_MAX_PACKET. *ret is cleared on error.
 */
int vici_packet_parse(const void *data, size_t len, struct vici_packet *ret, struct err *err);
void vici_packet_clear(struct vici_packet *p);

/* A message alone, as vici_packet_parse does for its message part. */
int vici_msg_parse(const void *data, size_t len, struct vici_msg **ret, struct err *err);
void vici_msg_free(struct vici_msg *m);

/* The implicit root section. */
const struct vici_node *vici_msg_root(const struct vici_msg *m);

enum vici_kind vici_node_kind(const struct vici_node *n);
/* Sections, keys and lists: the name, NUL-terminated ("" for the root and
 * items). Any bytes but NUL: charon sends printable ASCII, a parser is not
 * told so. */
const char *vici_node_name(const struct vici_node *n);
/* Keys and items: the value and its length, followed by a NUL not counted
 * (the value itself may hold NULs). NULL for sections and lists. */
const char *vici_node_value(const struct vici_node *n, size_t *ret_len);

/*
 * Children of a section (or items of a list) of one kind, in message order:
 * the first, then the next one of the same kind after n; NULL at the end.
 * vici_find: the first child of that kind named name (key names are unique
 * in a valid message; with duplicates the first wins).
 */
const struct vici_node *vici_first(const struct vici_node *s, enum vici_kind kind);
const struct vici_node *vici_next(const struct vici_node *n);
const struct vici_node *vici_find(const struct vici_node *s, enum vici_kind kind, const char *name);

/* Every child of s (or item of a list) in message order, whatever its kind:
 * the first, then the one after n; NULL at the end. */
const struct vici_node *vici_child(const struct vici_node *s);
const struct vici_node *vici_sibling(const struct vici_node *n);

/* The value of key in section s: 0, or -ENOENT when s has no such key. */
int vici_get(const struct vici_node *s, const char *key, const char **ret_value, size_t *ret_len);
/* Copied NUL-terminated into out[0..size): -ENOENT, -ENOSPC when it does not
 * fit, -EINVAL when it holds a NUL byte; out is "" on error. */
int vici_get_str(const struct vici_node *s, const char *key, char *out, size_t size);

#endif
