// SPDX-License-Identifier: Apache-2.0
/*
 * VICI from arbitrary bytes, as charon's socket could deliver them. The
 * first byte steers; the rest is a stream of frames (length prefix, packet).
 *
 * - Every whole frame is parsed (vici_packet_parse); when that succeeds the
 *   tree is walked with every query and encoded again with the builder: when
 *   every name is one the builder accepts, the bytes must come out the same
 *   (parser and builder agree on the format).
 * - The stream without its first frame's prefix is parsed as one packet too.
 * - The stream goes through the client (ipsec/vici_client) on a socketpair
 *   and the real loop, in pieces of 1..256 bytes (sizes from a generator
 *   seeded by the first byte), with requests waiting for answers (bits 0-1:
 *   commands, bits 2-3: event registrations); then the peer closes. Bits 4-6
 *   name a callback count at which the client frees itself from inside that
 *   callback (0: never). Unless freed, every request's callback must have
 *   run exactly once and the close callback once, after them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/loop.h"
#include "ipsec/vici.h"
#include "ipsec/vici_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- parser and builder ---- */

static bool name_ok(const char *s, bool need)
{
	size_t n = strlen(s);

	if (n == 0 && need)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* Encode the children of s again; *names_ok is cleared by a name the
 * builder refuses. Depth is bounded by the parser (VICI_MAX_DEPTH). */
static void encode(struct vici_builder *b, const struct vici_node *s, bool *names_ok)
{
	for (const struct vici_node *n = vici_child(s); n; n = vici_sibling(n)) {
		const char *name = vici_node_name(n), *v;
		size_t len;
		char small[8];
		int r;

		if (!name_ok(name, false))
			*names_ok = false;
		switch (vici_node_kind(n)) {
		case VICI_SECTION:
			if (vici_find(s, VICI_SECTION, name) == NULL)
				abort();
			vici_build_section(b, name);
			encode(b, n, names_ok);
			vici_build_section_end(b);
			break;
		case VICI_KEY:
			v = vici_node_value(n, &len);
			if (!v || v[len] != '\0')
				abort();
			r = vici_get_str(s, name, small, sizeof(small));
			if (r != 0 && r != -ENOSPC && r != -EINVAL)
				abort();
			vici_build_kv(b, name, v, len);
			break;
		case VICI_LIST:
			if (vici_node_value(n, &len) != NULL ||
			    vici_child(n) != vici_first(n, VICI_ITEM))
				abort();
			vici_build_list(b, name);
			for (const struct vici_node *i = vici_first(n, VICI_ITEM); i;
			     i = vici_next(i)) {
				v = vici_node_value(i, &len);
				vici_build_item(b, v, len);
			}
			vici_build_list_end(b);
			break;
		case VICI_ITEM:
			abort(); /* items only in lists */
		}
	}
}

static void packet(const uint8_t *p, size_t len)
{
	struct vici_builder b;
	struct vici_packet pkt;
	struct err err;
	struct buf out;
	bool names_ok;
	int r;

	if (vici_packet_parse(p, len, &pkt, &err) != 0)
		return;
	names_ok = vici_type_named(pkt.type) ? name_ok(pkt.name, true) : true;
	buf_init(&out, 4 + VICI_MAX_PACKET);
	vici_build_begin(&b, &out, pkt.type, vici_type_named(pkt.type) ? pkt.name : NULL);
	if (pkt.msg)
		encode(&b, vici_msg_root(pkt.msg), &names_ok);
	r = vici_build_finish(&b);
	if (names_ok && (r != 0 || out.len != 4 + len || memcmp(out.data + 4, p, len) != 0))
		abort();
	if (!names_ok && r != -EINVAL)
		abort();
	buf_free(&out);
	vici_packet_clear(&pkt);
}

/* ---- the client ---- */

static struct {
	struct loop *loop;
	struct vici_client *c;
	int requests, replies, closes, calls, free_at;
	bool freed;
} F;

static void count(struct vici_client *c)
{
	if (++F.calls == F.free_at) {
		vici_client_free(c);
		F.freed = true;
	}
}

static void on_reply(struct vici_client *c, int status, const struct vici_msg *reply, void *arg)
{
	(void)arg;
	if (F.freed || F.closes || (status && reply))
		abort();
	F.replies++;
	count(c);
}

static void on_event(struct vici_client *c, const char *name, const struct vici_msg *msg, void *arg)
{
	(void)arg;
	if (F.freed || F.closes || !name || !msg)
		abort();
	count(c);
}

static void on_close(struct vici_client *c, int error, void *arg)
{
	(void)arg;
	if (F.freed || F.closes || error >= 0 || vici_client_pending(c))
		abort();
	F.closes++;
	count(c);
}

static int64_t stop(struct loop *loop, int64_t id, void *arg)
{
	(void)id;
	(void)arg;
	loop_stop(loop);
	return LOOP_TIMER_STOP;
}

static void spin(void)
{
	loop_add_timer(F.loop, 0, stop, NULL);
	loop_run(F.loop);
}

static void client(uint8_t ctl, const uint8_t *p, size_t len)
{
	static const struct vici_client_cbs cbs = {.event = on_event, .close = on_close};
	struct loop *loop = F.loop;
	uint32_t seed = ctl * 2654435761u;
	size_t off = 0;
	int sv[2];

	if (!loop && loop_new(&loop) < 0)
		abort();
	memset(&F, 0, sizeof(F));
	F.loop = loop;
	F.free_at = (ctl >> 4) & 7;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    vici_client_adopt(F.loop, sv[0], &cbs, &F.c) < 0)
		abort();
	for (int i = 0; i < (ctl & 3); i++)
		F.requests += vici_client_command(F.c, "list-sas", on_reply, NULL) == 0;
	for (int i = 0; i < ((ctl >> 2) & 3); i++)
		F.requests += vici_client_register(F.c, "list-sa", true, on_reply, NULL) == 0;
	while (off < len && !F.freed) {
		size_t k;
		ssize_t w;

		seed = seed * 1103515245u + 12345u;
		k = 1 + (seed >> 16) % 256;
		if (k > len - off)
			k = len - off;
		w = send(sv[1], p + off, k, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EAGAIN)
			break; /* the client closed its end */
		spin();
	}
	close(sv[1]);
	for (int i = 0; i < 64 && !F.freed && !F.closes; i++)
		spin();
	if (!F.freed) {
		/* The peer's close is always noticed; every request answered once. */
		if (F.closes != 1 || F.replies != F.requests)
			abort();
		vici_client_free(F.c);
	}
	F.c = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 1, total;

	if (size < 1)
		return 0;
	while (vici_frame(data + off, size - off, &total) == 1) {
		packet(data + off + 4, total - 4);
		off += total;
	}
	if (size >= 5)
		packet(data + 5, size - 5);
	client(data[0], data + 1, size - 1);
	return 0;
}
