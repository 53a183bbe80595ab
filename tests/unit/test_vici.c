// SPDX-License-Identifier: Apache-2.0
/*
 * ipsec/vici: the VICI codec. Packets are compared byte for byte with
 * arrays written by hand from the layout of strongSwan's
 * src/libcharon/plugins/vici/README.md (its own encoding example among
 * them), parsed back and queried; malformed packets (cut at every length,
 * bad element types, unbalanced sections and lists, nesting and element
 * counts past the bounds, lengths past the end) must fail cleanly with an
 * error that says where.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "ipsec/vici.h"

/* clang-format off */
/* The README's "Encoding example", verbatim. */
static const char README_MSG[] = {
	/* key1 = value1 */
	3, 4,'k','e','y','1', 0,6,'v','a','l','u','e','1',
	/* section1 */
	1, 8,'s','e','c','t','i','o','n','1',
	/* sub-section */
	1, 11,'s','u','b','-','s','e','c','t','i','o','n',
	/* key2 = value2 */
	3, 4,'k','e','y','2', 0,6,'v','a','l','u','e','2',
	/* sub-section end */
	2,
	/* list1 */
	4, 5, 'l','i','s','t','1',
	/* item1 */
	5, 0,5,'i','t','e','m','1',
	/* item2 */
	5, 0,5,'i','t','e','m','2',
	/* list1 end */
	6,
	/* section1 end */
	2,
};

/* A pre-shared key loaded as the ipsec backend will load it: its bytes
 * include a NUL and 0xff. */
static const unsigned char LOAD_SHARED[] = {
	0, 0, 0, 78,						/* length */
	0, 11, 'l','o','a','d','-','s','h','a','r','e','d',	/* CMD_REQUEST load-shared */
	3, 2, 'i','d', 0,5, 'p','s','k','-','a',		/* id = psk-a */
	3, 4, 't','y','p','e', 0,3, 'I','K','E',		/* type = IKE */
	3, 4, 'd','a','t','a', 0,4, 0x00,0xff,'k',0x01,		/* data = 00 ff 6b 01 */
	4, 6, 'o','w','n','e','r','s',				/* owners = [ */
	5, 0,8, '1','0','.','0','.','0','.','1',		/*   10.0.0.1 */
	5, 0,8, '1','0','.','0','.','0','.','2',		/*   10.0.0.2 */
	6,							/* ] */
};

static const unsigned char VERSION_REQ[] = { 0,0,0,9, 0, 7,'v','e','r','s','i','o','n' };
static const unsigned char REGISTER_LIST_SA[] = { 0,0,0,9, 3, 7,'l','i','s','t','-','s','a' };
static const unsigned char UNREGISTER_LOG[] = { 0,0,0,5, 4, 3,'l','o','g' };
static const unsigned char EVENT_CONFIRM[] = { 0,0,0,1, 5 };
static const unsigned char CMD_UNKNOWN[] = { 0,0,0,1, 2 };
/* What Debian's charon 5.9.8 answered to version (on the machine where this
 * was captured), byte for byte. */
static const unsigned char CHARON_VERSION[] = {
	0x00, 0x00, 0x00, 0x5d, 0x01, 0x03, 0x06, 0x64, 0x61, 0x65, 0x6d, 0x6f, 0x6e, 0x00, 0x06, 0x63,
	0x68, 0x61, 0x72, 0x6f, 0x6e, 0x03, 0x07, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x00, 0x05,
	0x35, 0x2e, 0x39, 0x2e, 0x38, 0x03, 0x07, 0x73, 0x79, 0x73, 0x6e, 0x61, 0x6d, 0x65, 0x00, 0x05,
	0x4c, 0x69, 0x6e, 0x75, 0x78, 0x03, 0x07, 0x72, 0x65, 0x6c, 0x65, 0x61, 0x73, 0x65, 0x00, 0x10,
	0x36, 0x2e, 0x31, 0x38, 0x2e, 0x34, 0x34, 0x2d, 0x66, 0x63, 0x2d, 0x76, 0x31, 0x33, 0x30, 0x30,
	0x03, 0x07, 0x6d, 0x61, 0x63, 0x68, 0x69, 0x6e, 0x65, 0x00, 0x06, 0x78, 0x38, 0x36, 0x5f, 0x36,
	0x34,
};
/* clang-format on */

/* Build a packet of type with the README's tree (when it carries one). */
static int build_readme(struct buf *out, enum vici_type type, const char *name)
{
	struct vici_builder b;

	vici_build_begin(&b, out, type, name);
	vici_build_str(&b, "key1", "value1");
	vici_build_section(&b, "section1");
	vici_build_section(&b, "sub-section");
	vici_build_str(&b, "key2", "value2");
	vici_build_section_end(&b);
	vici_build_list(&b, "list1");
	vici_build_item_str(&b, "item1");
	vici_build_item_str(&b, "item2");
	vici_build_list_end(&b);
	vici_build_section_end(&b);
	return vici_build_finish(&b);
}

static void assert_bytes(const struct buf *b, const void *want, size_t len)
{
	if (b->len != len || memcmp(b->data, want, len) != 0) {
		for (size_t i = 0; i < b->len && i < len; i++)
			if (((const unsigned char *)b->data)[i] != ((const unsigned char *)want)[i])
				fail_msg("byte %zu: %u, want %u (lengths %zu, %zu)", i,
					 ((const unsigned char *)b->data)[i],
					 ((const unsigned char *)want)[i], b->len, len);
		fail_msg("length %zu, want %zu", b->len, len);
	}
}

static void check_readme_tree(const struct vici_msg *m)
{
	const struct vici_node *root = vici_msg_root(m), *s1, *sub, *list, *it;
	const char *v;
	size_t len;
	char out[16];

	assert_int_equal(vici_node_kind(root), VICI_SECTION);
	assert_string_equal(vici_node_name(root), "");
	assert_int_equal(vici_get_str(root, "key1", out, sizeof(out)), 0);
	assert_string_equal(out, "value1");
	assert_int_equal(vici_get(root, "key2", &v, &len), -ENOENT); /* only in sub-section */
	s1 = vici_find(root, VICI_SECTION, "section1");
	assert_non_null(s1);
	assert_ptr_equal(vici_first(root, VICI_SECTION), s1);
	assert_null(vici_next(s1));
	assert_null(vici_find(root, VICI_SECTION, "key1")); /* a key, not a section */
	sub = vici_first(s1, VICI_SECTION);
	assert_non_null(sub);
	assert_string_equal(vici_node_name(sub), "sub-section");
	assert_int_equal(vici_get(sub, "key2", &v, &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(v, "value2", 7); /* with its NUL */
	list = vici_find(s1, VICI_LIST, "list1");
	assert_non_null(list);
	assert_int_equal(vici_node_kind(list), VICI_LIST);
	assert_null(vici_node_value(list, &len));
	assert_int_equal(len, 0);
	it = vici_first(list, VICI_ITEM);
	assert_non_null(it);
	assert_string_equal(vici_node_value(it, &len), "item1");
	assert_int_equal(len, 5);
	it = vici_next(it);
	assert_string_equal(vici_node_value(it, &len), "item2");
	assert_null(vici_next(it));
	assert_null(vici_first(list, VICI_SECTION));
}

/* ---- builder ---- */

static void test_build_readme_example(void **state)
{
	unsigned char want[4 + 1 + sizeof(README_MSG)] = {0, 0, 0, 1 + sizeof(README_MSG), 1};
	struct vici_packet p;
	struct buf out;
	struct err err;

	(void)state;
	memcpy(want + 5, README_MSG, sizeof(README_MSG));
	buf_init(&out, 4096);
	assert_int_equal(build_readme(&out, VICI_CMD_RESPONSE, NULL), 0);
	assert_bytes(&out, want, sizeof(want));

	assert_int_equal(vici_packet_parse(out.data + 4, out.len - 4, &p, &err), 0);
	assert_int_equal(p.type, VICI_CMD_RESPONSE);
	assert_string_equal(p.name, "");
	assert_non_null(p.msg);
	check_readme_tree(p.msg);
	vici_packet_clear(&p);
	assert_null(p.msg);
	buf_free(&out);
}

static void test_parse_readme_message(void **state)
{
	struct vici_msg *m;
	struct err err;

	(void)state;
	assert_int_equal(vici_msg_parse(README_MSG, sizeof(README_MSG), &m, &err), 0);
	check_readme_tree(m);
	vici_msg_free(m);
}

static void test_build_simple_packets(void **state)
{
	struct vici_builder b;
	struct buf out;

	(void)state;
	buf_init(&out, 4096);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "version");
	assert_int_equal(vici_build_finish(&b), 0);
	assert_bytes(&out, VERSION_REQ, sizeof(VERSION_REQ));

	buf_reset(&out);
	vici_build_begin(&b, &out, VICI_EVENT_REGISTER, "list-sa");
	assert_int_equal(vici_build_finish(&b), 0);
	assert_bytes(&out, REGISTER_LIST_SA, sizeof(REGISTER_LIST_SA));

	buf_reset(&out);
	vici_build_begin(&b, &out, VICI_EVENT_UNREGISTER, "log");
	assert_int_equal(vici_build_finish(&b), 0);
	assert_bytes(&out, UNREGISTER_LOG, sizeof(UNREGISTER_LOG));

	buf_reset(&out);
	vici_build_begin(&b, &out, VICI_EVENT_CONFIRM, NULL);
	assert_int_equal(vici_build_finish(&b), 0);
	assert_bytes(&out, EVENT_CONFIRM, sizeof(EVENT_CONFIRM));

	buf_reset(&out);
	vici_build_begin(&b, &out, VICI_CMD_UNKNOWN, NULL);
	assert_int_equal(vici_build_finish(&b), 0);
	assert_bytes(&out, CMD_UNKNOWN, sizeof(CMD_UNKNOWN));

	/* Packets append: two in a row keep the first. */
	buf_reset(&out);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "version");
	assert_int_equal(vici_build_finish(&b), 0);
	vici_build_begin(&b, &out, VICI_EVENT_CONFIRM, NULL);
	assert_int_equal(vici_build_finish(&b), 0);
	assert_int_equal(out.len, sizeof(VERSION_REQ) + sizeof(EVENT_CONFIRM));
	assert_memory_equal(out.data, VERSION_REQ, sizeof(VERSION_REQ));
	assert_memory_equal(out.data + sizeof(VERSION_REQ), EVENT_CONFIRM, sizeof(EVENT_CONFIRM));
	buf_free(&out);
}

static void test_build_load_shared(void **state)
{
	static const char key[] = {0x00, (char)0xff, 'k', 0x01};
	struct vici_builder b;
	struct vici_packet p;
	const struct vici_node *owners, *it;
	const char *v;
	size_t len;
	char s[32];
	struct buf out;
	struct err err;

	(void)state;
	buf_init(&out, 4096);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "load-shared");
	vici_build_str(&b, "id", "psk-a");
	vici_build_str(&b, "type", "IKE");
	vici_build_kv(&b, "data", key, sizeof(key));
	vici_build_list(&b, "owners");
	vici_build_item_str(&b, "10.0.0.1");
	vici_build_item(&b, "10.0.0.2", 8);
	vici_build_list_end(&b);
	assert_int_equal(vici_build_finish(&b), 0);
	assert_bytes(&out, LOAD_SHARED, sizeof(LOAD_SHARED));

	assert_int_equal(vici_packet_parse(out.data + 4, out.len - 4, &p, &err), 0);
	assert_int_equal(p.type, VICI_CMD_REQUEST);
	assert_string_equal(p.name, "load-shared");
	assert_int_equal(vici_get(vici_msg_root(p.msg), "data", &v, &len), 0);
	assert_int_equal(len, sizeof(key));
	assert_memory_equal(v, key, sizeof(key));
	assert_int_equal(v[len], '\0');
	/* A value with a NUL is no C string; one too long does not fit. */
	assert_int_equal(vici_get_str(vici_msg_root(p.msg), "data", s, sizeof(s)), -EINVAL);
	assert_string_equal(s, "");
	assert_int_equal(vici_get_str(vici_msg_root(p.msg), "id", s, 5), -ENOSPC);
	assert_string_equal(s, "");
	assert_int_equal(vici_get_str(vici_msg_root(p.msg), "id", s, 6), 0);
	assert_string_equal(s, "psk-a");
	assert_int_equal(vici_get_str(vici_msg_root(p.msg), "ID", s, sizeof(s)), -ENOENT);
	owners = vici_find(vici_msg_root(p.msg), VICI_LIST, "owners");
	assert_non_null(owners);
	it = vici_first(owners, VICI_ITEM);
	assert_string_equal(vici_node_value(it, NULL), "10.0.0.1");
	assert_string_equal(vici_node_value(vici_next(it), NULL), "10.0.0.2");
	assert_null(vici_next(vici_next(it)));
	vici_packet_clear(&p);
	buf_free(&out);
}

/* Values: empty ones, the largest, and empty names where a name is optional. */
static void test_build_value_bounds(void **state)
{
	struct vici_builder b;
	struct vici_msg *m;
	const char *v;
	size_t len;
	char *big = calloc(1, VICI_MAX_VALUE + 1);
	struct buf out;
	struct err err;

	(void)state;
	memset(big, 'x', VICI_MAX_VALUE);
	buf_init(&out, 1 << 20);
	vici_build_begin(&b, &out, VICI_CMD_RESPONSE, NULL);
	vici_build_kv(&b, "empty", NULL, 0);
	vici_build_kv(&b, "", "anon", 4);
	vici_build_kv(&b, "big", big, VICI_MAX_VALUE);
	vici_build_list(&b, "none");
	vici_build_list_end(&b);
	vici_build_section(&b, "");
	vici_build_section_end(&b);
	assert_int_equal(vici_build_finish(&b), 0);
	assert_int_equal(out.len, 4 + 1 + (2 + 5 + 2) + (2 + 0 + 2 + 4) +
					  (2 + 3 + 2 + VICI_MAX_VALUE) + (2 + 4 + 1) + (2 + 1));
	/* The big value's length is 0xffff on the wire. */
	assert_int_equal((unsigned char)out.data[4 + 1 + 9 + 8 + 2 + 3], 0xff);
	assert_int_equal((unsigned char)out.data[4 + 1 + 9 + 8 + 2 + 3 + 1], 0xff);
	assert_int_equal(vici_msg_parse(out.data + 5, out.len - 5, &m, &err), 0);
	assert_int_equal(vici_get(vici_msg_root(m), "empty", &v, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(v, "");
	assert_int_equal(vici_get(vici_msg_root(m), "", &v, &len), 0);
	assert_string_equal(v, "anon");
	assert_int_equal(vici_get(vici_msg_root(m), "big", &v, &len), 0);
	assert_int_equal(len, VICI_MAX_VALUE);
	assert_memory_equal(v, big, VICI_MAX_VALUE);
	assert_non_null(vici_find(vici_msg_root(m), VICI_LIST, "none"));
	assert_null(vici_first(vici_find(vici_msg_root(m), VICI_LIST, "none"), VICI_ITEM));
	assert_non_null(vici_find(vici_msg_root(m), VICI_SECTION, ""));
	vici_msg_free(m);

	/* One byte more is refused, and the packet is cut from out. */
	buf_reset(&out);
	buf_append(&out, "keep", 4);
	vici_build_begin(&b, &out, VICI_CMD_RESPONSE, NULL);
	vici_build_str(&b, "a", "b");
	assert_int_equal(vici_build_kv(&b, "big", big, VICI_MAX_VALUE + 1), -EMSGSIZE);
	assert_int_equal(out.len, 4);
	assert_string_equal(out.data, "keep");
	assert_int_equal(vici_build_finish(&b), -EMSGSIZE);
	assert_int_equal(out.len, 4);
	buf_reset(&out);
	vici_build_begin(&b, &out, VICI_CMD_RESPONSE, NULL);
	vici_build_list(&b, "l");
	assert_int_equal(vici_build_item(&b, big, VICI_MAX_VALUE + 1), -EMSGSIZE);
	assert_int_equal(out.len, 0);
	free(big);
	buf_free(&out);
}

/* The whole packet is bounded by VICI_MAX_PACKET: exactly that is fine. */
static void test_build_packet_bound(void **state)
{
	struct vici_builder b;
	size_t room, n = 0;
	char *big = calloc(1, VICI_MAX_VALUE);
	struct buf out;

	(void)state;
	buf_init(&out, 2 * VICI_MAX_PACKET);
	vici_build_begin(&b, &out, VICI_CMD_RESPONSE, NULL);
	/* Keys "k" with full values: 4 + 1 + 65535 bytes each. */
	while ((room = VICI_MAX_PACKET - (out.len - 4)) >= 4 + 1 + VICI_MAX_VALUE) {
		assert_int_equal(vici_build_kv(&b, "k", big, VICI_MAX_VALUE), 0);
		n++;
	}
	assert_int_equal(n, 7);
	/* Fill to the byte: a key "k" and a value of room - 5 bytes. */
	assert_int_equal(vici_build_kv(&b, "k", big, room - 5), 0);
	assert_int_equal(out.len - 4, VICI_MAX_PACKET);
	assert_int_equal(vici_build_finish(&b), 0);
	assert_int_equal((unsigned char)out.data[1], 0x08); /* 0x00080000 */
	assert_int_equal(out.data[0] | out.data[2] | out.data[3], 0);

	buf_reset(&out);
	vici_build_begin(&b, &out, VICI_CMD_RESPONSE, NULL);
	for (size_t i = 0; i < n; i++)
		vici_build_kv(&b, "k", big, VICI_MAX_VALUE);
	assert_int_equal(vici_build_kv(&b, "k", big, room - 4), -EMSGSIZE);
	assert_int_equal(out.len, 0);
	/* Sticky: nothing more is appended, finish says the same. */
	assert_int_equal(vici_build_str(&b, "a", "b"), -EMSGSIZE);
	assert_int_equal(vici_build_section_end(&b), -EMSGSIZE);
	assert_int_equal(vici_build_finish(&b), -EMSGSIZE);
	assert_int_equal(out.len, 0);

	/* out's own max: -E2BIG, out as it was. */
	buf_free(&out);
	buf_init(&out, 64);
	buf_append(&out, "xy", 2);
	vici_build_begin(&b, &out, VICI_CMD_RESPONSE, NULL);
	assert_int_equal(vici_build_kv(&b, "k", big, 100), -E2BIG);
	assert_int_equal(vici_build_finish(&b), -E2BIG);
	assert_int_equal(out.len, 2);
	assert_string_equal(out.data, "xy");
	free(big);
	buf_free(&out);
}

static void test_build_misuse(void **state)
{
	char longname[VICI_MAX_NAME + 2];
	struct vici_builder b;
	struct buf out;

	(void)state;
	memset(longname, 'n', sizeof(longname));
	longname[VICI_MAX_NAME + 1] = '\0';
	buf_init(&out, 4096);

#define REFUSED(call, code)                                                                        \
	do {                                                                                       \
		assert_int_equal((call), (code));                                                  \
		assert_int_equal(vici_build_finish(&b), code);                                     \
		assert_int_equal(out.len, 0);                                                      \
		buf_reset(&out);                                                                   \
	} while (0)

	/* Names of packets. */
	REFUSED(vici_build_begin(&b, &out, VICI_CMD_REQUEST, NULL), -EINVAL);
	REFUSED(vici_build_begin(&b, &out, VICI_CMD_REQUEST, ""), -EINVAL);
	REFUSED(vici_build_begin(&b, &out, VICI_EVENT, longname), -EINVAL);
	REFUSED(vici_build_begin(&b, &out, VICI_CMD_REQUEST, "ver\nsion"), -EINVAL);
	REFUSED(vici_build_begin(&b, &out, VICI_CMD_REQUEST, "vers\xc3\xa9"), -EINVAL);
	REFUSED(vici_build_begin(&b, &out, VICI_CMD_RESPONSE, "x"), -EINVAL);
	REFUSED(vici_build_begin(&b, &out, VICI_EVENT_CONFIRM, "x"), -EINVAL);
	REFUSED(vici_build_begin(&b, &out, (enum vici_type)8, NULL), -EINVAL);
	longname[VICI_MAX_NAME] = '\0'; /* 255 is fine */
	vici_build_begin(&b, &out, VICI_EVENT, longname);
	assert_int_equal(vici_build_finish(&b), 0);
	assert_int_equal(out.len, 4 + 2 + VICI_MAX_NAME);
	assert_int_equal((unsigned char)out.data[5], 255);
	buf_reset(&out);
	longname[VICI_MAX_NAME] = 'n';

	/* Elements where no message goes. */
	vici_build_begin(&b, &out, VICI_EVENT_REGISTER, "log");
	REFUSED(vici_build_str(&b, "a", "b"), -EINVAL);
	vici_build_begin(&b, &out, VICI_CMD_UNKNOWN, NULL);
	REFUSED(vici_build_section(&b, "s"), -EINVAL);

	/* Element names. */
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "load-conn");
	REFUSED(vici_build_section(&b, longname), -EINVAL);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "load-conn");
	REFUSED(vici_build_str(&b, "tab\there", "v"), -EINVAL);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "load-conn");
	REFUSED(vici_build_list(&b, NULL), -EINVAL);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "load-conn");
	REFUSED(vici_build_str(&b, "k", NULL), -EINVAL);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "load-conn");
	REFUSED(vici_build_kv(&b, "k", NULL, 3), -EINVAL);

	/* Structure. */
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "x");
	REFUSED(vici_build_section_end(&b), -EINVAL);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "x");
	REFUSED(vici_build_list_end(&b), -EINVAL);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "x");
	REFUSED(vici_build_item_str(&b, "i"), -EINVAL);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "x");
	vici_build_list(&b, "l");
	REFUSED(vici_build_list(&b, "m"), -EINVAL);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "x");
	vici_build_list(&b, "l");
	REFUSED(vici_build_str(&b, "k", "v"), -EINVAL);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "x");
	vici_build_list(&b, "l");
	REFUSED(vici_build_section(&b, "s"), -EINVAL);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "x");
	vici_build_list(&b, "l");
	REFUSED(vici_build_section_end(&b), -EINVAL);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "x");
	vici_build_section(&b, "s");
	REFUSED(vici_build_list_end(&b), -EINVAL);
	/* Left open at finish. */
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "x");
	vici_build_section(&b, "s");
	REFUSED(vici_build_finish(&b), -EINVAL);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "x");
	vici_build_list(&b, "l");
	REFUSED(vici_build_finish(&b), -EINVAL);
	/* Depth: VICI_MAX_DEPTH sections, not one more. */
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "x");
	for (int i = 0; i < VICI_MAX_DEPTH; i++)
		assert_int_equal(vici_build_section(&b, "s"), 0);
	REFUSED(vici_build_section(&b, "s"), -EINVAL);
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "x");
	for (int i = 0; i < VICI_MAX_DEPTH; i++)
		vici_build_section(&b, "s");
	for (int i = 0; i < VICI_MAX_DEPTH; i++)
		vici_build_section_end(&b);
	assert_int_equal(vici_build_finish(&b), 0);
	assert_int_equal(out.len, 4 + 3 + VICI_MAX_DEPTH * 4);
	buf_reset(&out);

	/* After finish, calls are refused and out is left alone. */
	vici_build_begin(&b, &out, VICI_CMD_REQUEST, "x");
	assert_int_equal(vici_build_finish(&b), 0);
	assert_int_equal(vici_build_str(&b, "k", "v"), -EINVAL);
	assert_int_equal(out.len, 7);
#undef REFUSED
	buf_free(&out);
}

/* ---- parser ---- */

static void test_parse_packets(void **state)
{
	struct vici_packet p;
	struct err err;

	(void)state;
	assert_int_equal(vici_packet_parse(VERSION_REQ + 4, sizeof(VERSION_REQ) - 4, &p, &err), 0);
	assert_int_equal(p.type, VICI_CMD_REQUEST);
	assert_string_equal(p.name, "version");
	assert_non_null(p.msg);
	assert_null(vici_first(vici_msg_root(p.msg), VICI_KEY));
	vici_packet_clear(&p);

	assert_int_equal(vici_packet_parse(EVENT_CONFIRM + 4, 1, &p, &err), 0);
	assert_int_equal(p.type, VICI_EVENT_CONFIRM);
	assert_null(p.msg);
	assert_string_equal(p.name, "");
	vici_packet_clear(&p);

	assert_int_equal(vici_packet_parse(REGISTER_LIST_SA + 4, 9, &p, &err), 0);
	assert_int_equal(p.type, VICI_EVENT_REGISTER);
	assert_string_equal(p.name, "list-sa");
	assert_null(p.msg);
	vici_packet_clear(&p);

	assert_int_equal(vici_packet_parse(UNREGISTER_LOG + 4, 5, &p, &err), 0);
	assert_int_equal(p.type, VICI_EVENT_UNREGISTER);
	assert_string_equal(p.name, "log");
	vici_packet_clear(&p);
}

/* A list-sa event as charon streams it for list-sas (abridged): sections
 * and keys interleaved, iterated in order. */
static void test_parse_list_sa_event(void **state)
{
	struct vici_builder b;
	struct vici_packet p;
	const struct vici_node *ike, *children, *c;
	char s[64];
	struct buf out;
	struct err err;
	const char *names[3];
	int n = 0;

	(void)state;
	buf_init(&out, 4096);
	vici_build_begin(&b, &out, VICI_EVENT, "list-sa");
	vici_build_section(&b, "weft-10.0.0.2");
	vici_build_str(&b, "uniqueid", "7");
	vici_build_str(&b, "state", "ESTABLISHED");
	vici_build_section(&b, "child-sas");
	vici_build_section(&b, "pod-1");
	vici_build_str(&b, "state", "INSTALLED");
	vici_build_list(&b, "local-ts");
	vici_build_item_str(&b, "10.5.1.0/24");
	vici_build_list_end(&b);
	vici_build_section_end(&b);
	vici_build_str(&b, "odd", "key between sections");
	vici_build_section(&b, "pod-2");
	vici_build_str(&b, "state", "REKEYING");
	vici_build_section_end(&b);
	vici_build_list(&b, "odd-list");
	vici_build_list_end(&b);
	vici_build_section(&b, "pod-3");
	vici_build_section_end(&b);
	vici_build_section_end(&b);
	vici_build_str(&b, "remote-host", "10.0.0.2");
	vici_build_section_end(&b);
	assert_int_equal(vici_build_finish(&b), 0);

	assert_int_equal(vici_packet_parse(out.data + 4, out.len - 4, &p, &err), 0);
	assert_int_equal(p.type, VICI_EVENT);
	assert_string_equal(p.name, "list-sa");
	ike = vici_first(vici_msg_root(p.msg), VICI_SECTION);
	assert_string_equal(vici_node_name(ike), "weft-10.0.0.2");
	assert_int_equal(vici_get_str(ike, "remote-host", s, sizeof(s)), 0);
	assert_string_equal(s, "10.0.0.2");
	children = vici_find(ike, VICI_SECTION, "child-sas");
	for (c = vici_first(children, VICI_SECTION); c; c = vici_next(c)) {
		assert_int_equal(vici_node_kind(c), VICI_SECTION);
		names[n++] = vici_node_name(c);
	}
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "pod-1");
	assert_string_equal(names[1], "pod-2");
	assert_string_equal(names[2], "pod-3");
	assert_int_equal(
		vici_get_str(vici_find(children, VICI_SECTION, "pod-2"), "state", s, sizeof(s)), 0);
	assert_string_equal(s, "REKEYING");
	assert_string_equal(vici_node_name(vici_first(children, VICI_KEY)), "odd");
	assert_string_equal(vici_node_name(vici_first(children, VICI_LIST)), "odd-list");
	assert_null(vici_find(children, VICI_SECTION, "pod-4"));
	vici_packet_clear(&p);
	buf_free(&out);
}

/* Encode the children of s, in message order, with the builder. */
static void reencode(struct vici_builder *b, const struct vici_node *s)
{
	for (const struct vici_node *n = vici_child(s); n; n = vici_sibling(n)) {
		const char *v;
		size_t len;

		v = vici_node_value(n, &len);
		switch (vici_node_kind(n)) {
		case VICI_SECTION:
			vici_build_section(b, vici_node_name(n));
			reencode(b, n);
			vici_build_section_end(b);
			break;
		case VICI_KEY:
			vici_build_kv(b, vici_node_name(n), v, len);
			break;
		case VICI_LIST:
			vici_build_list(b, vici_node_name(n));
			reencode(b, n);
			vici_build_list_end(b);
			break;
		case VICI_ITEM:
			vici_build_item(b, v, len);
			break;
		}
	}
}

/* Parse, walk every node in order, build again: the same bytes. */
static void roundtrip(const void *frame, size_t len)
{
	struct vici_builder b;
	struct vici_packet p;
	struct buf out;
	struct err err;

	assert_int_equal(vici_packet_parse((const char *)frame + 4, len - 4, &p, &err), 0);
	buf_init(&out, 1 << 20);
	vici_build_begin(&b, &out, p.type, vici_type_named(p.type) ? p.name : NULL);
	if (p.msg)
		reencode(&b, vici_msg_root(p.msg));
	assert_int_equal(vici_build_finish(&b), 0);
	assert_bytes(&out, frame, len);
	vici_packet_clear(&p);
	buf_free(&out);
}

static void test_roundtrip(void **state)
{
	unsigned char readme[4 + 1 + sizeof(README_MSG)] = {0, 0, 0, 1 + sizeof(README_MSG), 1};
	struct vici_packet p;
	const struct vici_node *n;
	char s[32];

	(void)state;
	memcpy(readme + 5, README_MSG, sizeof(README_MSG));
	roundtrip(readme, sizeof(readme));
	roundtrip(LOAD_SHARED, sizeof(LOAD_SHARED));
	roundtrip(VERSION_REQ, sizeof(VERSION_REQ));
	roundtrip(EVENT_CONFIRM, sizeof(EVENT_CONFIRM));
	roundtrip(CHARON_VERSION, sizeof(CHARON_VERSION));

	/* vici_child/vici_sibling see every kind in order. */
	assert_int_equal(vici_packet_parse(readme + 4, sizeof(readme) - 4, &p, NULL), 0);
	n = vici_child(vici_msg_root(p.msg));
	assert_int_equal(vici_node_kind(n), VICI_KEY);
	n = vici_sibling(n);
	assert_int_equal(vici_node_kind(n), VICI_SECTION);
	assert_null(vici_sibling(n));
	n = vici_child(n);
	assert_string_equal(vici_node_name(n), "sub-section");
	n = vici_sibling(n);
	assert_int_equal(vici_node_kind(n), VICI_LIST);
	assert_int_equal(vici_node_kind(vici_child(n)), VICI_ITEM);
	vici_packet_clear(&p);

	assert_int_equal(
		vici_packet_parse(CHARON_VERSION + 4, sizeof(CHARON_VERSION) - 4, &p, NULL), 0);
	assert_int_equal(vici_get_str(vici_msg_root(p.msg), "version", s, sizeof(s)), 0);
	assert_string_equal(s, "5.9.8");
	assert_int_equal(vici_get_str(vici_msg_root(p.msg), "daemon", s, sizeof(s)), 0);
	assert_string_equal(s, "charon");
	vici_packet_clear(&p);
}

/* Duplicate keys (invalid, but possible on the wire): the first wins. */
static void test_parse_duplicate_key(void **state)
{
	static const char msg[] = {3, 1, 'k', 0, 1, 'a', 3, 1, 'k', 0, 1, 'b'};
	struct vici_msg *m;
	char s[4];

	(void)state;
	assert_int_equal(vici_msg_parse(msg, sizeof(msg), &m, NULL), 0);
	assert_int_equal(vici_get_str(vici_msg_root(m), "k", s, sizeof(s)), 0);
	assert_string_equal(s, "a");
	assert_string_equal(
		vici_node_value(vici_next(vici_first(vici_msg_root(m), VICI_KEY)), NULL), "b");
	vici_msg_free(m);
}

static void expect_bad_msg(const void *msg, size_t len, const char *want)
{
	struct vici_msg *m = (struct vici_msg *)1;
	struct err err = {""};
	int r = vici_msg_parse(msg, len, &m, &err);

	if (r != -EBADMSG || !strstr(err.msg, want))
		fail_msg("%d \"%s\", want -EBADMSG with \"%s\"", r, err.msg, want);
	assert_null(m);
}

static void test_parse_truncated_everywhere(void **state)
{
	unsigned char pkt[4 + 1 + sizeof(README_MSG)] = {0, 0, 0, 1 + sizeof(README_MSG), 1};
	struct vici_packet p;
	struct vici_msg *m;
	struct err err;
	size_t total;

	(void)state;
	memcpy(pkt + 5, README_MSG, sizeof(README_MSG));
	/* The message cut at every length: only the element boundaries with
	 * nothing open (0, after key1 = value1, the end) parse. */
	for (size_t k = 0; k <= sizeof(README_MSG); k++) {
		bool ok = k == 0 || k == 14 || k == sizeof(README_MSG);
		int r;

		err.msg[0] = '\0';
		r = vici_msg_parse(README_MSG, k, &m, &err);
		if (ok != (r == 0) || (!ok && (r != -EBADMSG || !err.msg[0])))
			fail_msg("cut at %zu: %d \"%s\"", k, r, err.msg);
		vici_msg_free(m);
	}
	/* The frame: incomplete at every shorter length. */
	for (size_t k = 0; k < sizeof(pkt); k++)
		assert_int_equal(vici_frame(pkt, k, &total), 0);
	assert_int_equal(vici_frame(pkt, sizeof(pkt), &total), 1);
	assert_int_equal(total, sizeof(pkt));
	/* With the next packet's first bytes behind it. */
	{
		unsigned char two[sizeof(pkt) + 3];

		memcpy(two, pkt, sizeof(pkt));
		memcpy(two + sizeof(pkt), pkt, 3);
		assert_int_equal(vici_frame(two, sizeof(two), &total), 1);
		assert_int_equal(total, sizeof(pkt));
	}
	/* The packet cut: the offset in the error counts from the type byte. */
	assert_int_equal(vici_packet_parse(pkt + 4, 1 + 20, &p, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "CMD_RESPONSE packet: byte 15: section start: name of 8 "
					"bytes runs past the end (4 left)"));
	assert_null(p.msg);
	/* Every cut of the packet is an error but the complete one and the
	 * boundaries above. */
	for (size_t k = 0; k <= sizeof(pkt) - 4; k++) {
		bool ok = k == 1 || k == 15 || k == sizeof(pkt) - 4;
		int r = vici_packet_parse(pkt + 4, k, &p, &err);

		if (ok != (r == 0))
			fail_msg("packet cut at %zu: %d \"%s\"", k, r, err.msg);
		vici_packet_clear(&p);
	}
}

static void test_parse_malformed(void **state)
{
	(void)state;
	/* Element types. */
	expect_bad_msg("\x00", 1, "byte 0: unknown element type 0");
	expect_bad_msg("\x07", 1, "byte 0: unknown element type 7");
	expect_bad_msg("\x03\x01k\x00\x00\xff", 6, "byte 5: unknown element type 255");
	/* Unbalanced. */
	expect_bad_msg("\x02", 1, "byte 0: section end without a section");
	expect_bad_msg("\x01\x01s\x02\x02", 5, "byte 4: section end without a section");
	expect_bad_msg("\x01\x01s", 3, "byte 3: 1 section(s) left open");
	expect_bad_msg("\x01\x01s\x01\x01t\x02", 7, "byte 7: 1 section(s) left open");
	expect_bad_msg("\x04\x01l", 3, "byte 3: list left open");
	expect_bad_msg("\x06", 1, "byte 0: list end outside a list");
	expect_bad_msg("\x05\x00\x00", 3, "byte 0: list item outside a list");
	expect_bad_msg("\x04\x01l\x04\x01m\x06\x06", 8, "byte 3: list start inside a list");
	expect_bad_msg("\x04\x01l\x03\x01k\x00\x00\x06", 9, "byte 3: key inside a list");
	expect_bad_msg("\x04\x01l\x01\x01s\x02\x06", 8, "byte 3: section start inside a list");
	expect_bad_msg("\x01\x01s\x04\x01l\x02\x06\x02", 9, "byte 6: section end inside a list");
	/* Lengths past the end. */
	expect_bad_msg("\x01", 1, "byte 0: section start: name length missing");
	expect_bad_msg("\x03\x05key", 5, "byte 0: key: name of 5 bytes runs past the end (3 left)");
	expect_bad_msg("\x03\x01k", 3, "byte 0: key: value length missing");
	expect_bad_msg("\x03\x01k\x00", 4, "byte 0: key: value length missing");
	expect_bad_msg("\x03\x01k\x01\x00vv", 7,
		       "byte 0: key: value of 256 bytes runs past the end (2 left)");
	expect_bad_msg("\x04\x01l\x05\x00\x03v\x06", 8,
		       "byte 3: list item: value of 3 bytes runs past the end (2 left)");
	expect_bad_msg("\x04\xffl", 3, "byte 0: list start: name of 255 bytes runs past the end");
	/* A NUL in a name. */
	expect_bad_msg("\x03\x02k\x00\x00\x00", 6, "byte 0: key: NUL byte in the name");
}

static void test_parse_bounds(void **state)
{
	size_t len = 3 * (VICI_MAX_DEPTH + 1) + (VICI_MAX_DEPTH + 1);
	unsigned char *msg = malloc(3 * 65536 + 16);
	struct vici_msg *m;
	const struct vici_node *n;
	struct err err;
	size_t off = 0;
	int depth = 0;

	(void)state;
	/* VICI_MAX_DEPTH nested sections parse... */
	for (int i = 0; i < VICI_MAX_DEPTH; i++) {
		msg[off++] = 1;
		msg[off++] = 1;
		msg[off++] = 's';
	}
	memset(msg + off, 2, VICI_MAX_DEPTH);
	assert_int_equal(vici_msg_parse(msg, off + VICI_MAX_DEPTH, &m, &err), 0);
	for (n = vici_msg_root(m); (n = vici_first(n, VICI_SECTION)) != NULL;)
		depth++;
	assert_int_equal(depth, VICI_MAX_DEPTH);
	vici_msg_free(m);
	/* ... one more does not, wherever it ends. */
	msg[off++] = 1;
	msg[off++] = 1;
	msg[off++] = 's';
	memset(msg + off, 2, VICI_MAX_DEPTH + 1);
	assert_int_equal(off + VICI_MAX_DEPTH + 1, len);
	expect_bad_msg(msg, len, "byte 96: sections nested deeper than 32");

	/* VICI_MAX_ELEMENTS: a list and 65535 items is the most. */
	off = 0;
	msg[off++] = 4;
	msg[off++] = 0;
	for (int i = 0; i < VICI_MAX_ELEMENTS - 1; i++) {
		msg[off++] = 5;
		msg[off++] = 0;
		msg[off++] = 0;
	}
	msg[off] = 6;
	assert_int_equal(vici_msg_parse(msg, off + 1, &m, &err), 0);
	vici_msg_free(m);
	msg[off++] = 5;
	msg[off++] = 0;
	msg[off++] = 0;
	msg[off++] = 6;
	expect_bad_msg(msg, off, "more than 65536 elements");
	free(msg);
}

static void test_parse_packet_errors(void **state)
{
	struct vici_packet p;
	struct err err;
	char *huge;

	(void)state;
#define BAD_PKT(data, len, code, want)                                                             \
	do {                                                                                       \
		int r_ = vici_packet_parse((data), (len), &p, &err);                               \
		if (r_ != (code) || !strstr(err.msg, (want)))                                      \
			fail_msg("%d \"%s\", want %d with \"%s\"", r_, err.msg, code, want);       \
		assert_null(p.msg);                                                                \
	} while (0)

	BAD_PKT("", 0, -EBADMSG, "empty packet");
	BAD_PKT("\x08", 1, -EBADMSG, "unknown packet type 8");
	BAD_PKT("\xff", 1, -EBADMSG, "unknown packet type 255");
	BAD_PKT("\x00", 1, -EBADMSG, "CMD_REQUEST packet: name length missing");
	BAD_PKT("\x07\x05lo", 4, -EBADMSG,
		"EVENT packet: name of 5 bytes runs past the end (2 left)");
	BAD_PKT("\x07\x02l\x00", 4, -EBADMSG, "EVENT packet: NUL byte in the name");
	BAD_PKT("\x05\x00", 2, -EBADMSG, "EVENT_CONFIRM packet: 1 bytes where none belong");
	BAD_PKT("\x02xyz", 4, -EBADMSG, "CMD_UNKNOWN packet: 3 bytes where none belong");
	BAD_PKT("\x03\x03logx", 6, -EBADMSG, "EVENT_REGISTER packet: 1 bytes where none belong");
	BAD_PKT("\x07\x03log\x02", 6, -EBADMSG,
		"EVENT packet: byte 5: section end without a section");
	huge = calloc(1, VICI_MAX_PACKET + 1);
	huge[0] = VICI_CMD_RESPONSE;
	BAD_PKT(huge, VICI_MAX_PACKET + 1, -EMSGSIZE, "over the 524288 limit");
	free(huge);
#undef BAD_PKT
}

static void test_frame(void **state)
{
	static const unsigned char zero[] = {0, 0, 0, 0, 1};
	static const unsigned char over[] = {0, 0x08, 0, 1};
	static const unsigned char max[] = {0, 0x08, 0, 0};
	static const unsigned char all[] = {0xff, 0xff, 0xff, 0xff};
	size_t total = 0;

	(void)state;
	assert_int_equal(vici_frame(zero, sizeof(zero), &total), -EBADMSG);
	assert_int_equal(vici_frame(over, sizeof(over), &total), -EMSGSIZE);
	assert_int_equal(vici_frame(all, sizeof(all), &total), -EMSGSIZE);
	assert_int_equal(vici_frame(max, sizeof(max), &total), 0); /* wants its 512 KiB */
	assert_int_equal(vici_frame(over, 3, &total), 0);	   /* not judged before 4 bytes */
	assert_int_equal(total, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_readme_example),
		cmocka_unit_test(test_parse_readme_message),
		cmocka_unit_test(test_build_simple_packets),
		cmocka_unit_test(test_build_load_shared),
		cmocka_unit_test(test_build_value_bounds),
		cmocka_unit_test(test_build_packet_bound),
		cmocka_unit_test(test_build_misuse),
		cmocka_unit_test(test_parse_packets),
		cmocka_unit_test(test_parse_list_sa_event),
		cmocka_unit_test(test_parse_duplicate_key),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_parse_truncated_everywhere),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_bounds),
		cmocka_unit_test(test_parse_packet_errors),
		cmocka_unit_test(test_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
