// SPDX-License-Identifier: Apache-2.0
/*
 * The udp data path's packet work, without sockets: checksums (against a
 * plain textbook implementation written here), TTL decrement, TSO/USO
 * segmentation, receive coalescing (including a round trip through
 * segmentation), ICMP net-unreachable, the TX and RX processing with the
 * anti-spoofing decisions, the peer table and its generation swap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/csum.h"
#include "datapath/gso.h"
#include "datapath/icmp.h"
#include "datapath/peers.h"
#include "datapath/udp_pkt.h"

/* ---- an independent checksum: 16-bit big-endian words, one at a time ---- */

static uint32_t ref_sum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Host-order checksum of a buffer (the wire value, big-endian). */
static uint16_t ref_csum(const uint8_t *p, size_t n)
{
	return ref_fold(ref_sum(p, n, 0));
}

static bool ref_ip_ok(const uint8_t *ip)
{
	return ref_csum(ip, (size_t)(ip[0] & 15) * 4) == 0;
}

/* Full L4 checksum check (TCP or UDP) over an IPv4 packet. */
static bool ref_l4_ok(const uint8_t *ip)
{
	unsigned hl = (ip[0] & 15) * 4u, tot = (unsigned)(ip[2] << 8 | ip[3]);
	uint8_t ph[12];
	uint32_t s;

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	ph[10] = (uint8_t)((tot - hl) >> 8);
	ph[11] = (uint8_t)(tot - hl);
	s = ref_sum(ph, 12, 0);
	s = ref_sum(ip + hl, tot - hl, s);
	return ref_fold(s) == 0;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wbe16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wbe32(uint8_t *p, uint32_t v)
{
	wbe16(p, (uint16_t)(v >> 16));
	wbe16(p + 2, (uint16_t)v);
}

static uint32_t rnd(void)
{
	static uint32_t x = 2463534242u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

static void fill_rand(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

/* ---- packet builders ---- */

struct tcp_opts {
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	unsigned optlen; /* TCP options bytes, multiple of 4 */
	uint8_t ttl;
	uint16_t id;
	uint16_t frag; /* flags + offset; default DF */
	bool no_df;
};

/* IPv4 + TCP packet with payload, checksums valid. Returns length. */
static size_t build_tcp(uint8_t *b, const struct tcp_opts *o, const uint8_t *payload, size_t plen)
{
	unsigned thl = 20 + o->optlen;
	size_t tot = 20 + thl + plen;

	memset(b, 0, 20 + thl);
	b[0] = 0x45;
	wbe16(b + 2, (uint16_t)tot);
	wbe16(b + 4, o->id);
	wbe16(b + 6, o->frag ? o->frag : (o->no_df ? 0 : 0x4000));
	b[8] = o->ttl ? o->ttl : 64;
	b[9] = IPPROTO_TCP;
	memcpy(b + 12, &(uint32_t){ ip4(o->src) }, 4);
	memcpy(b + 16, &(uint32_t){ ip4(o->dst) }, 4);
	wbe16(b + 10, ref_csum(b, 20));
	wbe16(b + 20, o->sport);
	wbe16(b + 22, o->dport);
	wbe32(b + 24, o->seq);
	wbe32(b + 28, o->ack);
	b[32] = (uint8_t)((thl / 4) << 4);
	b[33] = o->flags ? o->flags : 0x10;
	wbe16(b + 34, o->win ? o->win : 512);
	for (unsigned i = 0; i < o->optlen; i++)
		b[40 + i] = (uint8_t)(i % 4 < 2 ? 1 : 0x42 + i); /* NOPs and bytes */
	memcpy(b + 20 + thl, payload, plen);
	{
		uint8_t ph[12];
		uint32_t s;

		memcpy(ph, b + 12, 8);
		ph[8] = 0;
		ph[9] = 6;
		wbe16(ph + 10, (uint16_t)(thl + plen));
		s = ref_sum(ph, 12, 0);
		s = ref_sum(b + 20, thl + plen, s);
		wbe16(b + 36, ref_fold(s));
	}
	return tot;
}

static size_t build_udp(uint8_t *b, const char *src, const char *dst, const uint8_t *payload,
			size_t plen)
{
	size_t tot = 28 + plen;
	uint8_t ph[12];
	uint32_t s;

	memset(b, 0, 28);
	b[0] = 0x45;
	wbe16(b + 2, (uint16_t)tot);
	wbe16(b + 6, 0x4000);
	b[8] = 64;
	b[9] = IPPROTO_UDP;
	memcpy(b + 12, &(uint32_t){ ip4(src) }, 4);
	memcpy(b + 16, &(uint32_t){ ip4(dst) }, 4);
	wbe16(b + 10, ref_csum(b, 20));
	wbe16(b + 20, 5000);
	wbe16(b + 22, 6000);
	wbe16(b + 24, (uint16_t)(8 + plen));
	memcpy(b + 28, payload, plen);
	memcpy(ph, b + 12, 8);
	ph[8] = 0;
	ph[9] = 17;
	wbe16(ph + 10, (uint16_t)(8 + plen));
	s = ref_sum(ph, 12, 0);
	s = ref_sum(b + 20, 8 + plen, s);
	wbe16(b + 26, ref_fold(s) ? ref_fold(s) : 0xffff);
	return tot;
}

/* ---- checksums ---- */

static void test_csum_partial_matches_reference(void **state)
{
	uint8_t buf[1600 + 8];

	(void)state;
	for (int round = 0; round < 2000; round++) {
		size_t off = rnd() % 8, len = rnd() % 1600;

		fill_rand(buf, sizeof(buf));
		assert_int_equal(csum_fold(csum_partial(buf + off, len, 0)), htons(ref_csum(buf + off, len)));
		/* Two pieces, the split at an even offset. */
		size_t cut = (rnd() % (len + 1)) & ~(size_t)1;
		uint32_t s = csum_partial(buf + off, cut, 0);

		s = csum_partial(buf + off + cut, len - cut, s);
		assert_int_equal(csum_fold(s), htons(ref_csum(buf + off, len)));
	}
	/* All ones: carries everywhere. */
	memset(buf, 0xff, sizeof(buf));
	for (size_t len = 0; len < 300; len++)
		assert_int_equal(csum_fold(csum_partial(buf, len, 0)), htons(ref_csum(buf, len)));
}

static void test_ttl_incremental_matches_full(void **state)
{
	uint8_t h[20];

	(void)state;
	for (int round = 0; round < 20000; round++) {
		uint16_t old, new, inc;

		fill_rand(h, sizeof(h));
		h[0] = 0x45;
		h[8] = (uint8_t)(2 + rnd() % 254);
		wbe16(h + 10, 0);
		wbe16(h + 10, ref_csum(h, 20));
		memcpy(&old, h + 8, 2);
		h[8]--;
		memcpy(&new, h + 8, 2);
		memcpy(&inc, h + 10, 2);
		inc = csum_replace16(inc, old, new);
		memcpy(h + 10, &inc, 2);
		assert_true(ref_ip_ok(h));
		/* and equal to a full recompute */
		wbe16(h + 10, 0);
		assert_int_equal(htons(ref_csum(h, 20)), inc);
	}
}

static void test_ip4_header_and_pseudo(void **state)
{
	uint8_t b[100], pl[20];
	struct tcp_opts o = { .src = "10.244.1.2", .dst = "10.244.2.3", .sport = 1, .dport = 2 };
	size_t n;

	(void)state;
	fill_rand(pl, sizeof(pl));
	n = build_tcp(b, &o, pl, sizeof(pl));
	assert_int_equal(csum_ip4_header(b, 20), htons(be16(b + 10)));
	/* The TCP checksum from the pieces equals the stored one. */
	uint32_t s = csum_pseudo4(b + 12, b + 16, 6, (uint16_t)(n - 20));
	uint8_t t[80];

	memcpy(t, b + 20, n - 20);
	t[16] = t[17] = 0;
	assert_int_equal(csum_fold(csum_partial(t, n - 20, s)), htons(be16(b + 36)));
}

/* ---- segmentation ---- */

static uint8_t super[70000];
static uint8_t payload[70000];
static uint8_t hdrs[GSO_MAX_SEGS * GSO_MAX_HDR];
static struct gso_seg segs[GSO_MAX_SEGS];

/* A segment materialized as one packet. */
static size_t seg_pkt(const struct gso_seg *s, uint8_t *out)
{
	memcpy(out, s->hdr, s->hdr_len);
	memcpy(out + s->hdr_len, s->payload, s->len);
	return s->hdr_len + s->len;
}

static void test_segment_tcp(void **state)
{
	struct tcp_opts o = { .src = "10.244.1.2", .dst = "10.244.2.3", .sport = 40000, .dport = 5201,
			      .seq = 0xfffff000, .ack = 77, .flags = 0x10 | 0x08 | 0x01 | 0x80,
			      .optlen = 12, .id = 0xfffe };
	size_t plen = 10000, n;
	unsigned mss = 1448;
	int k;

	(void)state;
	fill_rand(payload, plen);
	n = build_tcp(super, &o, payload, plen);
	k = gso_segment(super, n, VNET_GSO_TCPV4 | VNET_GSO_ECN, mss, hdrs, segs, GSO_MAX_SEGS);
	assert_int_equal(k, 7);
	for (int i = 0; i < k; i++) {
		uint8_t p[1600];
		size_t len = seg_pkt(&segs[i], p);
		size_t want = i < 6 ? mss : plen - 6 * mss;
		uint8_t fl = p[33];

		assert_int_equal(segs[i].len, want);
		assert_int_equal(be16(p + 2), len);
		assert_int_equal(len, 20 + 32 + want);
		assert_int_equal(be16(p + 4), (uint16_t)(0xfffe + i));
		assert_true(ref_ip_ok(p));
		assert_true(ref_l4_ok(p));
		assert_int_equal(be32(p + 24), (uint32_t)(0xfffff000u + (uint32_t)i * mss));
		assert_int_equal(be32(p + 28), 77);
		assert_memory_equal(p + 40, super + 40, 12); /* options */
		assert_memory_equal(p + 52, payload + (size_t)i * mss, want);
		assert_int_equal(fl & 0x10, 0x10);
		assert_int_equal(!!(fl & 0x80), i == 0); /* CWR first only */
		assert_int_equal(!!(fl & 0x09), i == k - 1); /* FIN, PSH last only */
		if (i == k - 1)
			assert_int_equal(fl & 0x09, 0x09);
	}
}

static void test_segment_udp(void **state)
{
	size_t plen = 3000, n;
	int k;

	(void)state;
	fill_rand(payload, plen);
	n = build_udp(super, "10.244.1.2", "10.244.2.3", payload, plen);
	k = gso_segment(super, n, VNET_GSO_UDP_L4, 1200, hdrs, segs, GSO_MAX_SEGS);
	assert_int_equal(k, 3);
	for (int i = 0; i < k; i++) {
		uint8_t p[1600];
		size_t len = seg_pkt(&segs[i], p);

		assert_int_equal(be16(p + 2), len);
		assert_int_equal(be16(p + 24), len - 20);
		assert_true(ref_ip_ok(p));
		assert_true(ref_l4_ok(p));
		assert_memory_equal(p + 28, payload + i * 1200, segs[i].len);
	}
}

static void test_segment_small_and_bad(void **state)
{
	struct tcp_opts o = { .src = "10.244.1.2", .dst = "10.244.2.3", .sport = 1, .dport = 2 };
	size_t n;

	(void)state;
	fill_rand(payload, 100);
	n = build_tcp(super, &o, payload, 100);
	/* One segment only: checksum recomputed, same packet. */
	assert_int_equal(gso_segment(super, n, VNET_GSO_TCPV4, 1448, hdrs, segs, 4), 1);
	assert_int_equal(segs[0].len, 100);
	/* Malformed or not what the type says. */
	assert_int_equal(gso_segment(super, n, VNET_GSO_TCPV4, 0, hdrs, segs, 4), -EINVAL);
	assert_int_equal(gso_segment(super, n, VNET_GSO_UDP_L4, 10, hdrs, segs, 4), -EINVAL);
	assert_int_equal(gso_segment(super, n, VNET_GSO_TCPV6, 10, hdrs, segs, 4), -EINVAL);
	assert_int_equal(gso_segment(super, n, VNET_GSO_TCPV4, 10, hdrs, segs, 4), -E2BIG);
	assert_int_equal(gso_segment(super, 30, VNET_GSO_TCPV4, 10, hdrs, segs, 4), -EINVAL);
	super[32] = 0xf0; /* doff 60 > packet */
	assert_int_equal(gso_segment(super, 60, VNET_GSO_TCPV4, 10, hdrs, segs, 4), -EINVAL);
	n = build_tcp(super, &o, payload, 100);
	wbe16(super + 6, 0x2000); /* MF */
	assert_int_equal(gso_segment(super, n, VNET_GSO_TCPV4, 10, hdrs, segs, 40), -EINVAL);
	super[0] = 0x65;
	assert_int_equal(gso_segment(super, n, VNET_GSO_TCPV4, 10, hdrs, segs, 40), -EINVAL);
}

static void test_complete_csum(void **state)
{
	struct tcp_opts o = { .src = "10.244.1.2", .dst = "10.244.2.3", .sport = 1, .dport = 2 };
	uint8_t b[400];
	size_t n;
	uint16_t seed;

	(void)state;
	fill_rand(payload, 333);
	n = build_tcp(b, &o, payload, 333);
	/* CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum. */
	seed = csum_fold_raw(csum_pseudo4(b + 12, b + 16, 6, (uint16_t)(n - 20)));
	memcpy(b + 36, &seed, 2);
	assert_false(ref_l4_ok(b));
	assert_int_equal(gso_complete_csum(b, n, 20, 16), 0);
	assert_true(ref_l4_ok(b));
	assert_int_equal(gso_complete_csum(b, n, 20, 400), -EINVAL);
	assert_int_equal(gso_complete_csum(b, n, (unsigned)n, 0), -EINVAL);
	/* UDP */
	n = build_udp(b, "10.244.1.2", "10.244.2.3", payload, 77);
	seed = csum_fold_raw(csum_pseudo4(b + 12, b + 16, 17, (uint16_t)(n - 20)));
	memcpy(b + 26, &seed, 2);
	assert_int_equal(gso_complete_csum(b, n, 20, 6), 0);
	assert_true(ref_l4_ok(b));
}

/* ---- coalescing ---- */

struct capture {
	int writes;
	size_t len[64];
	uint8_t pkt[64][66000];
	struct vnet_hdr vh[64];
	bool fail;
};

static struct capture cap;

static int capture_write(void *arg, const struct iovec *iov, int iovcnt)
{
	struct capture *c = arg;
	size_t off = 0;
	uint8_t tmp[VNET_HDR_LEN + 66000];

	if (c->fail)
		return -EIO;
	assert_true(c->writes < 64);
	for (int i = 0; i < iovcnt; i++) {
		assert_true(off + iov[i].iov_len <= sizeof(tmp));
		memcpy(tmp + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	vnet_hdr_get(tmp, &c->vh[c->writes]);
	memcpy(c->pkt[c->writes], tmp + VNET_HDR_LEN, off - VNET_HDR_LEN);
	c->len[c->writes++] = off - VNET_HDR_LEN;
	return 0;
}

static struct gro gro;
static uint8_t segbufs[256][1600];

/* Segment a super-packet into segbufs and queue them all. */
static int queue_segments(const struct tcp_opts *o, size_t plen, unsigned mss, int first_buf)
{
	size_t n = build_tcp(super, o, payload, plen);
	int k = gso_segment(super, n, VNET_GSO_TCPV4, mss, hdrs, segs, GSO_MAX_SEGS);

	assert_true(k > 0 && first_buf + k <= 256);
	for (int i = 0; i < k; i++) {
		size_t len = seg_pkt(&segs[i], segbufs[first_buf + i]);

		gro_add(&gro, segbufs[first_buf + i], (uint16_t)len);
	}
	return k;
}

static int gro_setup(void **state)
{
	(void)state;
	memset(&cap, 0, sizeof(cap));
	gro_init(&gro, true, true);
	return 0;
}

static void test_coalesce_round_trip(void **state)
{
	struct tcp_opts o = { .src = "10.244.1.2", .dst = "10.244.2.3", .sport = 40000, .dport = 5201,
			      .seq = 1000, .ack = 5, .flags = 0x18, .optlen = 12, .id = 7 };
	size_t plen = 20000;
	unsigned mss = 1420;
	int k;

	(void)state;
	static uint8_t orig[32][1600];

	fill_rand(payload, plen);
	k = queue_segments(&o, plen, mss, 0);
	for (int i = 0; i < k; i++)
		memcpy(orig[i], segbufs[i], sizeof(orig[i])); /* the head is patched in place */
	gro_flush(&gro, capture_write, &cap);
	assert_int_equal(cap.writes, 1);
	assert_int_equal(gro.stats.coalesced, 1);
	assert_int_equal(gro.stats.coalesced_segs, k);

	struct vnet_hdr *vh = &cap.vh[0];
	uint8_t *p = cap.pkt[0];
	size_t len = cap.len[0];

	assert_int_equal(vh->flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(vh->gso_type, VNET_GSO_TCPV4);
	assert_int_equal(vh->gso_size, mss);
	assert_int_equal(vh->hdr_len, 20 + 32);
	assert_int_equal(vh->csum_start, 20);
	assert_int_equal(vh->csum_offset, 16);
	assert_int_equal(len, 20 + 32 + plen);
	assert_int_equal(be16(p + 2), len);
	assert_true(ref_ip_ok(p));
	assert_int_equal(p[33], 0x18); /* PSH of the last segment */
	assert_memory_equal(p + 52, payload, plen);
	/* As the kernel would: the field holds the pseudo sum; completing it
	 * gives a valid checksum over the whole super-packet. */
	{
		uint8_t c[66000];

		memcpy(c, p, len);
		assert_int_equal(gso_complete_csum(c, len, vh->csum_start, vh->csum_offset), 0);
		assert_true(ref_l4_ok(c));
	}
	/* And cutting it again gives back the very segments. */
	{
		static uint8_t h2[GSO_MAX_SEGS * GSO_MAX_HDR];
		static struct gso_seg s2[GSO_MAX_SEGS];
		int k2 = gso_segment(p, len, vh->gso_type, vh->gso_size, h2, s2, GSO_MAX_SEGS);

		assert_int_equal(k2, k);
		for (int i = 0; i < k; i++) {
			uint8_t a[1600];
			size_t al = seg_pkt(&s2[i], a);

			assert_int_equal(al, be16(orig[i] + 2));
			assert_memory_equal(a, orig[i], al);
		}
	}
}

static void test_coalesce_rules(void **state)
{
	struct tcp_opts o = { .src = "10.244.1.2", .dst = "10.244.2.3", .sport = 1, .dport = 2,
			      .seq = 100, .ack = 5, .flags = 0x10, .optlen = 0 };
	struct tcp_opts o2 = o;
	uint8_t pl[1000];

	(void)state;
	fill_rand(payload, 4000);
	fill_rand(pl, sizeof(pl));

	/* A gap in sequence numbers: two writes. */
	queue_segments(&o, 2000, 1000, 0);
	o2.seq = 100 + 2000 + 1;
	queue_segments(&o2, 2000, 1000, 2);
	gro_flush(&gro, capture_write, &cap);
	assert_int_equal(cap.writes, 2);
	assert_int_equal(cap.vh[0].gso_type, VNET_GSO_TCPV4);
	assert_int_equal(cap.vh[1].gso_type, VNET_GSO_TCPV4);

	/* PSH in the middle ends the run; then a new one starts. */
	memset(&cap, 0, sizeof(cap));
	o2 = o;
	o2.flags = 0x18;
	size_t l = build_tcp(segbufs[0], &o, pl, 1000);

	gro_add(&gro, segbufs[0], (uint16_t)l);
	o2.seq = 1100;
	l = build_tcp(segbufs[1], &o2, pl, 1000);
	gro_add(&gro, segbufs[1], (uint16_t)l);
	o2.seq = 2100;
	o2.flags = 0x10;
	l = build_tcp(segbufs[2], &o2, pl, 1000);
	gro_add(&gro, segbufs[2], (uint16_t)l);
	gro_flush(&gro, capture_write, &cap);
	assert_int_equal(cap.writes, 2);
	assert_int_equal(cap.len[0], 40 + 2000);
	assert_int_equal(cap.pkt[0][33], 0x18);
	assert_int_equal(cap.len[1], 40 + 1000);
	assert_int_equal(cap.vh[1].gso_type, VNET_GSO_NONE);
	assert_int_equal(cap.vh[1].flags, 0);

	/* A shorter segment can only be last. */
	memset(&cap, 0, sizeof(cap));
	o2 = o;
	l = build_tcp(segbufs[0], &o2, pl, 1000);
	gro_add(&gro, segbufs[0], (uint16_t)l);
	o2.seq += 1000;
	l = build_tcp(segbufs[1], &o2, pl, 500);
	gro_add(&gro, segbufs[1], (uint16_t)l);
	o2.seq += 500;
	l = build_tcp(segbufs[2], &o2, pl, 500);
	gro_add(&gro, segbufs[2], (uint16_t)l);
	gro_flush(&gro, capture_write, &cap);
	assert_int_equal(cap.writes, 2);
	assert_int_equal(cap.len[0], 40 + 1500);
	assert_int_equal(cap.len[1], 40 + 500);

	/* Different options, ack, window, TTL or no DF: no coalescing. */
	struct tcp_opts var[5];

	for (int v = 0; v < 5; v++) {
		memset(&cap, 0, sizeof(cap));
		var[v] = o;
		l = build_tcp(segbufs[0], &o, pl, 1000);
		gro_add(&gro, segbufs[0], (uint16_t)l);
		var[v].seq = 1100;
		switch (v) {
		case 0: var[v].ack = 6; break;
		case 1: var[v].win = 999; break;
		case 2: var[v].ttl = 63; break;
		case 3: var[v].optlen = 4; break;
		case 4: var[v].no_df = true; break;
		}
		l = build_tcp(segbufs[1], &var[v], pl, 1000);
		gro_add(&gro, segbufs[1], (uint16_t)l);
		gro_flush(&gro, capture_write, &cap);
		assert_int_equal(cap.writes, 2);
	}

	/* A bad TCP checksum: not coalesced, written as it is (the kernel drops it). */
	memset(&cap, 0, sizeof(cap));
	l = build_tcp(segbufs[0], &o, pl, 1000);
	gro_add(&gro, segbufs[0], (uint16_t)l);
	o2 = o;
	o2.seq = 1100;
	l = build_tcp(segbufs[1], &o2, pl, 1000);
	segbufs[1][100] ^= 1;
	gro_add(&gro, segbufs[1], (uint16_t)l);
	gro_flush(&gro, capture_write, &cap);
	assert_int_equal(cap.writes, 2);
	assert_int_equal(gro.stats.csum_bad, 1);
	assert_int_equal(cap.pkt[1][100], segbufs[1][100]);
	assert_int_equal(cap.vh[1].flags, 0);
}

static void test_coalesce_interleaved_flows_keep_order(void **state)
{
	struct tcp_opts a = { .src = "10.244.1.2", .dst = "10.244.2.3", .sport = 1, .dport = 2, .seq = 0 };
	struct tcp_opts b = a;
	uint8_t pl[1000];
	size_t l;

	(void)state;
	b.sport = 7;
	b.seq = 5000;
	fill_rand(pl, sizeof(pl));
	for (int i = 0; i < 6; i++) {
		struct tcp_opts *o = i % 2 ? &b : &a;

		l = build_tcp(segbufs[i], o, pl, 1000);
		gro_add(&gro, segbufs[i], (uint16_t)l);
		o->seq += 1000;
	}
	/* A pure ACK of flow a in between closes a's run: a's next data
	 * starts a new one, written after the ACK. */
	a.flags = 0x10;
	l = build_tcp(segbufs[6], &a, pl, 0);
	gro_add(&gro, segbufs[6], (uint16_t)l);
	l = build_tcp(segbufs[7], &a, pl, 1000);
	gro_add(&gro, segbufs[7], (uint16_t)l);
	gro_flush(&gro, capture_write, &cap);
	assert_int_equal(cap.writes, 4);
	assert_int_equal(cap.len[0], 40 + 3000);
	assert_int_equal(be16(cap.pkt[0] + 20), 1);
	assert_int_equal(cap.len[1], 40 + 3000);
	assert_int_equal(be16(cap.pkt[1] + 20), 7);
	assert_int_equal(cap.len[2], 40);
	assert_int_equal(cap.len[3], 40 + 1000);
	assert_int_equal(be32(cap.pkt[3] + 24), 3000);
}

static void test_coalesce_limits(void **state)
{
	struct tcp_opts o = { .src = "10.244.1.2", .dst = "10.244.2.3", .sport = 1, .dport = 2 };
	uint8_t pl[1400];
	size_t l;

	(void)state;
	fill_rand(pl, sizeof(pl));
	/* 100 segments of 100 bytes: at most GRO_MAX_SEGS per write. */
	for (int i = 0; i < 100; i++) {
		l = build_tcp(segbufs[i], &o, pl, 100);
		gro_add(&gro, segbufs[i], (uint16_t)l);
		o.seq += 100;
	}
	gro_flush(&gro, capture_write, &cap);
	assert_int_equal(cap.writes, 2);
	assert_int_equal(cap.len[0], 40 + GRO_MAX_SEGS * 100);
	/* 50 segments of 1400: at most 65535 bytes per write. */
	memset(&cap, 0, sizeof(cap));
	for (int i = 0; i < 50; i++) {
		l = build_tcp(segbufs[i], &o, pl, 1400);
		gro_add(&gro, segbufs[i], (uint16_t)l);
		o.seq += 1400;
	}
	gro_flush(&gro, capture_write, &cap);
	assert_int_equal(cap.writes, 2);
	assert_true(cap.len[0] <= 65535);
	assert_int_equal(cap.len[0], 40 + 46 * 1400);
	/* Coalescing off: one write per packet, no virtio header work. */
	gro_init(&gro, false, false);
	for (int i = 0; i < 3; i++) {
		l = build_tcp(segbufs[i], &o, pl, 1000);
		gro_add(&gro, segbufs[i], (uint16_t)l);
		o.seq += 1000;
	}
	gro_flush(&gro, capture_write, &cap);
	assert_int_equal(gro.stats.writes, 3);
	/* A failing writer counts its packets. */
	gro_init(&gro, true, true);
	cap.fail = true;
	for (int i = 0; i < 3; i++) {
		l = build_tcp(segbufs[i], &o, pl, 1000);
		gro_add(&gro, segbufs[i], (uint16_t)l);
		o.seq += 1000;
	}
	gro_flush(&gro, capture_write, &cap);
	assert_int_equal(gro.stats.write_errors, 3);
}

/* ---- ICMP ---- */

static void test_icmp_net_unreachable(void **state)
{
	struct tcp_opts o = { .src = "10.244.1.2", .dst = "10.244.99.3", .sport = 1, .dport = 2 };
	uint8_t b[200], out[ICMP_UNREACH_MAX];
	size_t l, n;

	(void)state;
	l = build_tcp(b, &o, payload, 50);
	n = icmp_net_unreach(b, l, ip4("10.244.1.0"), out);
	assert_int_equal(n, 20 + 8 + 28);
	assert_int_equal(out[0], 0x45);
	assert_int_equal(be16(out + 2), n);
	assert_int_equal(out[8], 8); /* TTL */
	assert_int_equal(out[9], IPPROTO_ICMP);
	assert_memory_equal(out + 12, &(uint32_t){ ip4("10.244.1.0") }, 4);
	assert_memory_equal(out + 16, b + 12, 4);
	assert_true(ref_ip_ok(out));
	assert_int_equal(out[20], 3);
	assert_int_equal(out[21], 0);
	assert_int_equal(ref_csum(out + 20, n - 20), 0);
	assert_memory_equal(out + 28, b, 28); /* IP header + 8 bytes */

	/* An echo request gets one (ping shows "Destination Net Unreachable"). */
	memset(b, 0, 28);
	b[0] = 0x45;
	wbe16(b + 2, 28);
	b[8] = 64;
	b[9] = 1;
	memcpy(b + 12, &(uint32_t){ ip4("10.244.1.2") }, 4);
	memcpy(b + 16, &(uint32_t){ ip4("10.244.99.3") }, 4);
	b[20] = 8;
	assert_true(icmp_may_reply(b, 28));
	/* Never about ICMP errors. */
	for (uint8_t t = 0; t < 20; t++) {
		b[20] = t;
		assert_int_equal(icmp_may_reply(b, 28), !(t == 3 || t == 4 || t == 5 || t == 11 || t == 12));
	}
	/* Never about non-first fragments, odd sources or multicast. */
	l = build_tcp(b, &o, payload, 50);
	wbe16(b + 6, 0x2000); /* first fragment: yes */
	assert_true(icmp_may_reply(b, l));
	wbe16(b + 6, 0x0010);
	assert_false(icmp_may_reply(b, l));
	o.src = "0.0.0.0";
	l = build_tcp(b, &o, payload, 50);
	assert_false(icmp_may_reply(b, l));
	o.src = "10.244.1.2";
	o.dst = "224.0.0.5";
	l = build_tcp(b, &o, payload, 50);
	assert_false(icmp_may_reply(b, l));
	/* A short packet quotes what there is. */
	o.dst = "10.244.99.3";
	l = build_tcp(b, &o, payload, 0);
	assert_int_equal(icmp_net_unreach(b, 24, ip4("10.244.1.0"), out), 0); /* tot_len > len */
	wbe16(b + 2, 24);
	wbe16(b + 10, 0);
	assert_int_equal(icmp_net_unreach(b, 24, ip4("10.244.1.0"), out), 28 + 24);
}

static void test_icmp_rate_limit(void **state)
{
	struct icmp_limit l;
	int ok = 0;

	(void)state;
	icmp_limit_init(&l, 10, 5);
	for (int i = 0; i < 20; i++)
		ok += icmp_limit_take(&l, 1000);
	assert_int_equal(ok, 5);
	assert_false(icmp_limit_take(&l, 1050)); /* 0.5 token */
	assert_true(icmp_limit_take(&l, 1100));	 /* 1 token after 100 ms */
	assert_false(icmp_limit_take(&l, 1100));
	ok = 0;
	for (int i = 0; i < 20; i++)
		ok += icmp_limit_take(&l, 100000); /* refilled to the burst only */
	assert_int_equal(ok, 5);
}

/* ---- peer table ---- */

static struct udp_peer_entry ent(const char *net, unsigned len, const char *pub)
{
	struct udp_peer_entry e = { .net = ip4(net), .mask = htonl(len ? ~0U << (32 - len) : 0),
				    .addr = ip4(pub), .port = htons(8285) };
	return e;
}

static void test_peer_table_lookup(void **state)
{
	struct udp_peer_entry e[] = {
		ent("10.244.7.0", 24, "192.168.0.7"),	ent("10.244.1.0", 24, "192.168.0.1"),
		ent("10.244.200.0", 24, "192.168.0.200"), ent("10.244.1.128", 25, "192.168.0.99"),
		ent("10.244.0.0", 24, "192.168.0.1"),	ent("10.245.0.0", 16, "192.168.0.5"),
	};
	size_t dropped;
	struct udp_peer_table *t = udp_peer_table_new(e, 6, &dropped);
	const struct udp_peer *p;

	(void)state;
	assert_int_equal(dropped, 1); /* the /25 inside 10.244.1.0/24 */
	assert_int_equal(t->n, 5);
	assert_int_equal(t->n_senders, 4); /* 192.168.0.1 twice */
	p = udp_peer_lookup(t, ip4("10.244.1.200"));
	assert_non_null(p);
	assert_int_equal(p->addr, ip4("192.168.0.1"));
	assert_int_equal(udp_peer_lookup(t, ip4("10.244.7.255"))->addr, ip4("192.168.0.7"));
	assert_int_equal(udp_peer_lookup(t, ip4("10.244.0.0"))->addr, ip4("192.168.0.1"));
	assert_int_equal(udp_peer_lookup(t, ip4("10.245.99.1"))->addr, ip4("192.168.0.5"));
	assert_null(udp_peer_lookup(t, ip4("10.244.8.0")));
	assert_null(udp_peer_lookup(t, ip4("10.243.255.255")));
	assert_null(udp_peer_lookup(t, ip4("10.246.0.0")));
	assert_null(udp_peer_lookup(t, ip4("0.0.0.0")));
	assert_null(udp_peer_lookup(t, ip4("255.255.255.255")));

	/* Anti-spoofing */
	assert_int_equal(udp_peer_check_source(t, ip4("192.168.0.7"), htons(8285), ip4("10.244.7.9"), true),
			 UDP_SRC_OK);
	/* both of .1's subnets */
	assert_int_equal(udp_peer_check_source(t, ip4("192.168.0.1"), htons(8285), ip4("10.244.0.3"), true),
			 UDP_SRC_OK);
	assert_int_equal(udp_peer_check_source(t, ip4("192.168.0.1"), htons(8285), ip4("10.244.1.3"), true),
			 UDP_SRC_OK);
	/* a peer claiming another peer's pod, or an address outside all subnets */
	assert_int_equal(udp_peer_check_source(t, ip4("192.168.0.7"), htons(8285), ip4("10.244.1.3"), true),
			 UDP_SRC_SPOOFED);
	assert_int_equal(udp_peer_check_source(t, ip4("192.168.0.7"), htons(8285), ip4("8.8.8.8"), true),
			 UDP_SRC_SPOOFED);
	/* not a peer: other address, or a peer's address from another port */
	assert_int_equal(udp_peer_check_source(t, ip4("192.168.0.8"), htons(8285), ip4("10.244.7.9"), true),
			 UDP_SRC_UNKNOWN_SENDER);
	assert_int_equal(udp_peer_check_source(t, ip4("192.168.0.7"), htons(9999), ip4("10.244.7.9"), true),
			 UDP_SRC_UNKNOWN_SENDER);
	/* Without port matching (the default): a peer's address from any port
	 * (a NAT rewrote it) is that peer; other addresses stay strangers. */
	assert_int_equal(udp_peer_check_source(t, ip4("192.168.0.7"), htons(9999), ip4("10.244.7.9"), false),
			 UDP_SRC_OK);
	assert_int_equal(udp_peer_check_source(t, ip4("192.168.0.1"), htons(1), ip4("10.244.1.3"), false),
			 UDP_SRC_OK);
	assert_int_equal(udp_peer_check_source(t, ip4("192.168.0.7"), htons(9999), ip4("10.244.1.3"), false),
			 UDP_SRC_SPOOFED);
	assert_int_equal(udp_peer_check_source(t, ip4("192.168.0.200"), htons(65535), ip4("10.244.7.9"), false),
			 UDP_SRC_SPOOFED);
	assert_int_equal(udp_peer_check_source(t, ip4("192.168.0.8"), htons(8285), ip4("10.244.7.9"), false),
			 UDP_SRC_UNKNOWN_SENDER);
	assert_int_equal(udp_peer_check_source(t, ip4("192.168.0.6"), htons(65535), ip4("10.244.7.9"), false),
			 UDP_SRC_UNKNOWN_SENDER);
	assert_int_equal(udp_peer_check_source(t, ip4("255.255.255.255"), htons(65535), ip4("10.244.7.9"), false),
			 UDP_SRC_UNKNOWN_SENDER);
	assert_int_equal(udp_peer_check_source(t, ip4("0.0.0.0"), 0, ip4("10.244.7.9"), false),
			 UDP_SRC_UNKNOWN_SENDER);
	udp_peer_table_free(t);

	/* Many peers: binary search against a linear scan. */
	static struct udp_peer_entry many[4000];
	for (int i = 0; i < 4000; i++) {
		char s[32];

		snprintf(s, sizeof(s), "10.%d.%d.0", 100 + i / 256, i % 256);
		many[i] = ent(s, 24, "192.168.1.1");
		many[i].addr = htonl(0xc0a80000u + (uint32_t)i);
	}
	t = udp_peer_table_new(many, 4000, &dropped);
	assert_int_equal(dropped, 0);
	for (int r = 0; r < 20000; r++) {
		uint32_t a = htonl(0x0a000000u | (rnd() & 0x00ffffff));
		const struct udp_peer *want = NULL;

		for (int i = 0; i < 4000; i++)
			if ((a & many[i].mask) == many[i].net)
				want = (const void *)&many[i];
		p = udp_peer_lookup(t, a);
		if (!want)
			assert_null(p);
		else
			assert_int_equal(p->addr, ((const struct udp_peer_entry *)want)->addr);
	}
	udp_peer_table_free(t);
}

static void test_peer_generations(void **state)
{
	struct udp_peers ps;
	struct udp_peer_entry e = ent("10.244.1.0", 24, "192.168.0.1");
	const struct udp_peer_table *r0, *r1;

	(void)state;
	udp_peers_init(&ps, 2);
	assert_int_equal(atomic_load(&ps.cur)->gen, 1);
	r0 = udp_peers_enter(&ps, 0); /* reader 0 holds gen 1 */
	r1 = udp_peers_enter(&ps, 1);
	assert_ptr_equal(r0, r1);
	udp_peers_publish(&ps, udp_peer_table_new(&e, 1, NULL));
	assert_int_equal(atomic_load(&ps.cur)->gen, 2);
	assert_int_equal(udp_peers_reclaim(&ps), 1); /* both hold gen 1 */
	assert_int_equal(r0->gen, 1);			/* still readable */
	r0 = udp_peers_enter(&ps, 0);
	assert_int_equal(r0->gen, 2);
	assert_non_null(udp_peer_lookup(r0, ip4("10.244.1.1")));
	assert_int_equal(udp_peers_reclaim(&ps), 1); /* reader 1 still at 1 */
	udp_peers_offline(&ps, 1);		       /* blocks: holds nothing */
	assert_int_equal(udp_peers_reclaim(&ps), 0);
	/* Several generations behind one reader. */
	udp_peers_publish(&ps, udp_peer_table_new(NULL, 0, NULL));
	udp_peers_publish(&ps, udp_peer_table_new(&e, 1, NULL));
	udp_peers_publish(&ps, udp_peer_table_new(NULL, 0, NULL));
	assert_int_equal(udp_peers_reclaim(&ps), 3); /* reader 0 at 2 */
	r0 = udp_peers_enter(&ps, 0);
	assert_int_equal(r0->gen, 5);
	assert_int_equal(udp_peers_reclaim(&ps), 0);
	udp_peers_destroy(&ps);
}

/* Readers spin on lookups while the control side swaps tables as fast as
 * it can; under ASan a table freed too early is a use-after-free. */
struct stress {
	struct udp_peers *ps;
	unsigned r;
	atomic_bool *stop;
	atomic_ulong lookups;
};

static void *stress_reader(void *arg)
{
	struct stress *s = arg;

	while (!atomic_load(s->stop)) {
		const struct udp_peer_table *t = udp_peers_enter(s->ps, s->r);

		for (int i = 0; i < 50; i++) {
			const struct udp_peer *p = udp_peer_lookup(t, ip4("10.244.1.1"));

			if (p && p->port != htons(8285))
				abort();
			atomic_fetch_add_explicit(&s->lookups, 1, memory_order_relaxed);
		}
		if (atomic_load_explicit(&s->lookups, memory_order_relaxed) % 7 == 0)
			udp_peers_offline(s->ps, s->r);
	}
	udp_peers_offline(s->ps, s->r);
	return NULL;
}

static void test_peer_generations_threads(void **state)
{
	struct udp_peers ps;
	atomic_bool stop = false;
	struct stress st[2];
	pthread_t th[2];
	struct udp_peer_entry e = ent("10.244.1.0", 24, "192.168.0.1");

	(void)state;
	udp_peers_init(&ps, 2);
	for (unsigned i = 0; i < 2; i++) {
		st[i] = (struct stress){ .ps = &ps, .r = i, .stop = &stop };
		assert_int_equal(pthread_create(&th[i], NULL, stress_reader, &st[i]), 0);
	}
	/* At least 20000 swaps, and until both readers got going. */
	for (int i = 0; i < 20000 || atomic_load(&st[0].lookups) < 100000 ||
			atomic_load(&st[1].lookups) < 100000;
	     i++)
		udp_peers_publish(&ps, udp_peer_table_new(i % 2 ? &e : NULL, (size_t)(i % 2), NULL));
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(udp_peers_reclaim(&ps), 0);
	assert_true(st[0].lookups > 0 && st[1].lookups > 0);
	udp_peers_destroy(&ps);
}

/* ---- TX and RX processing ---- */

static struct udp_tx tx;
static struct udp_rx rx;
static uint64_t ctr[UDP_COUNTERS];
static struct udp_peer_table *tbl;

struct sent {
	int msgs;
	struct sockaddr_in to[8192];
	unsigned seg_size[8192];
	size_t len[8192];
	uint8_t data[64][70000];
};

static struct sent sent;

static int fake_send(struct udp_tx *t, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < t->n_msgs; i++) {
		struct msghdr *m = &t->msgs[i].msg_hdr;
		size_t off = 0;
		int k = sent.msgs++;

		assert_true(k < 8192);

		sent.to[k] = *(struct sockaddr_in *)m->msg_name;
		sent.seg_size[k] = 0;
		if (m->msg_control) {
			struct cmsghdr *c = CMSG_FIRSTHDR(m);
			uint16_t g;

			assert_int_equal(c->cmsg_level, SOL_UDP);
			assert_int_equal(c->cmsg_type, UDP_SEGMENT);
			memcpy(&g, CMSG_DATA(c), 2);
			sent.seg_size[k] = g;
		}
		for (size_t j = 0; j < m->msg_iovlen; j++) {
			if (k < 64)
				memcpy(sent.data[k] + off, m->msg_iov[j].iov_base, m->msg_iov[j].iov_len);
			off += m->msg_iov[j].iov_len;
		}
		sent.len[k] = off;
		assert_true(off <= UDP_GSO_MAX_BYTES);
	}
	return 0;
}

static int path_setup(void **state)
{
	struct udp_peer_entry e[] = { ent("10.244.2.0", 24, "192.168.0.2"),
				      ent("10.244.3.0", 24, "192.168.0.3") };

	(void)state;
	memset(ctr, 0, sizeof(ctr));
	memset(&sent, 0, sizeof(sent));
	memset(&cap, 0, sizeof(cap));
	tbl = udp_peer_table_new(e, 2, NULL);
	udp_tx_init(&tx);
	tx.vnet = true;
	tx.gso = true;
	tx.tun_addr = ip4("10.244.1.0");
	tx.port = htons(8285);
	tx.peers = tbl;
	tx.send = fake_send;
	tx.tun_write = capture_write;
	tx.arg = &cap;
	tx.ctr = ctr;
	udp_rx_init(&rx, true, true);
	rx.port = htons(8285);
	rx.match_port = true;
	rx.local_net = ip4("10.244.1.0");
	rx.local_mask = htonl(0xffffff00u);
	rx.peers = tbl;
	rx.tun_write = capture_write;
	rx.arg = &cap;
	rx.ctr = ctr;
	return 0;
}

static int path_teardown(void **state)
{
	(void)state;
	udp_peer_table_free(tbl);
	return 0;
}

static uint8_t tunbuf[8][VNET_HDR_LEN + 70000];

static size_t tun_pkt(int i, const struct vnet_hdr *vh, const uint8_t *pkt, size_t len)
{
	struct vnet_hdr z = { 0 };

	vnet_hdr_put(tunbuf[i], vh ? vh : &z);
	memcpy(tunbuf[i] + VNET_HDR_LEN, pkt, len);
	return VNET_HDR_LEN + len;
}

static void test_tx_plain_packets(void **state)
{
	struct tcp_opts o = { .src = "10.244.1.2", .dst = "10.244.2.3", .sport = 1, .dport = 2, .ttl = 64 };
	uint8_t b[2000];
	size_t l;

	(void)state;
	l = build_tcp(b, &o, payload, 500);
	udp_tx_add(&tx, tunbuf[0], tun_pkt(0, NULL, b, l));
	udp_tx_flush(&tx);
	assert_int_equal(sent.msgs, 1);
	assert_int_equal(sent.to[0].sin_addr.s_addr, ip4("192.168.0.2"));
	assert_int_equal(sent.to[0].sin_port, htons(8285));
	assert_int_equal(sent.seg_size[0], 0);
	assert_int_equal(sent.len[0], l);
	assert_int_equal(sent.data[0][8], 63); /* TTL decremented */
	assert_true(ref_ip_ok(sent.data[0]));
	assert_true(ref_l4_ok(sent.data[0]));
	assert_int_equal(ctr[UDP_TX_PACKETS], 1);

	/* TTL 1: dropped, nothing sent. */
	o.ttl = 1;
	l = build_tcp(b, &o, payload, 500);
	udp_tx_add(&tx, tunbuf[0], tun_pkt(0, NULL, b, l));
	udp_tx_flush(&tx);
	assert_int_equal(sent.msgs, 1);
	assert_int_equal(ctr[UDP_DROP_TTL], 1);

	/* NEEDS_CSUM completed before it leaves. */
	o.ttl = 64;
	l = build_tcp(b, &o, payload, 500);
	uint16_t seed = csum_fold_raw(csum_pseudo4(b + 12, b + 16, 6, (uint16_t)(l - 20)));
	struct vnet_hdr vh = { .flags = VNET_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 16 };

	memcpy(b + 36, &seed, 2);
	udp_tx_add(&tx, tunbuf[0], tun_pkt(0, &vh, b, l));
	udp_tx_flush(&tx);
	assert_int_equal(sent.msgs, 2);
	assert_true(ref_l4_ok(sent.data[1]));

	/* No peer: ICMP back into the TUN, nothing sent. */
	o.dst = "10.244.9.9";
	l = build_tcp(b, &o, payload, 100);
	udp_tx_add(&tx, tunbuf[0], tun_pkt(0, NULL, b, l));
	udp_tx_flush(&tx);
	assert_int_equal(sent.msgs, 2);
	assert_int_equal(ctr[UDP_DROP_NO_PEER], 1);
	assert_int_equal(ctr[UDP_ICMP_SENT], 1);
	assert_int_equal(cap.writes, 1);
	assert_int_equal(cap.vh[0].flags, 0);
	assert_int_equal(cap.pkt[0][20], 3);
	assert_memory_equal(cap.pkt[0] + 16, b + 12, 4);

	/* Not IPv4, truncated, bad virtio header. */
	b[0] = 0x60;
	udp_tx_add(&tx, tunbuf[0], tun_pkt(0, NULL, b, 60));
	assert_int_equal(ctr[UDP_DROP_NOT_IPV4], 1);
	udp_tx_add(&tx, tunbuf[0], 5);
	o.dst = "10.244.2.3";
	l = build_tcp(b, &o, payload, 100);
	udp_tx_add(&tx, tunbuf[0], tun_pkt(0, NULL, b, l) - 1);
	vh.csum_offset = 2000;
	udp_tx_add(&tx, tunbuf[0], tun_pkt(0, &vh, b, l));
	vh = (struct vnet_hdr){ .gso_type = VNET_GSO_TCPV6, .gso_size = 100 };
	udp_tx_add(&tx, tunbuf[0], tun_pkt(0, &vh, b, l));
	/* A checksum inside the IP header would rewrite the address the
	 * peer was chosen by (found by the fuzzer). */
	vh = (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM, .csum_start = 14, .csum_offset = 0 };
	udp_tx_add(&tx, tunbuf[0], tun_pkt(0, &vh, b, l));
	assert_int_equal(ctr[UDP_DROP_MALFORMED], 5);
	udp_tx_flush(&tx);
	assert_int_equal(sent.msgs, 2);
}

static void test_tx_segments_with_udp_gso(void **state)
{
	struct tcp_opts o = { .src = "10.244.1.2", .dst = "10.244.3.3", .sport = 1, .dport = 2, .seq = 9,
			      .optlen = 12 };
	size_t plen = 65000, l;
	unsigned mss = 1420; /* 1472-byte datagrams */
	struct vnet_hdr vh = { .flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_TCPV4,
			       .gso_size = (uint16_t)mss, .csum_start = 20, .csum_offset = 16 };
	size_t total = 0, nseg;

	(void)state;
	fill_rand(payload, plen);
	l = build_tcp(super, &o, payload, plen);
	udp_tx_add(&tx, tunbuf[0], tun_pkt(0, &vh, super, l));
	udp_tx_flush(&tx);
	nseg = (plen + mss - 1) / mss;
	assert_int_equal(ctr[UDP_TX_SEGMENTED], 1);
	assert_int_equal(ctr[UDP_TX_PACKETS], nseg);
	/* 65507 bytes / 1472 = 44 datagrams per send */
	assert_int_equal(sent.msgs, 2);
	assert_int_equal(sent.seg_size[0], 1472);
	assert_int_equal(sent.len[0], 44 * 1472);
	for (int m = 0; m < sent.msgs; m++) {
		assert_int_equal(sent.to[m].sin_addr.s_addr, ip4("192.168.0.3"));
		/* Each datagram in the send is a valid packet. */
		for (size_t off = 0; off < sent.len[m]; off += 1472) {
			uint8_t *p = sent.data[m] + off;

			assert_true(ref_ip_ok(p));
			assert_true(ref_l4_ok(p));
			assert_int_equal(p[8], 63);
			total += be16(p + 2) - 52u;
		}
	}
	assert_int_equal(total, plen);

	/* Without UDP GSO: one message per segment. */
	memset(&sent, 0, sizeof(sent));
	tx.gso = false;
	l = build_tcp(super, &o, payload, plen);
	udp_tx_add(&tx, tunbuf[0], tun_pkt(0, &vh, super, l));
	udp_tx_flush(&tx);
	assert_int_equal(sent.msgs, nseg);
	assert_int_equal(sent.seg_size[0], 0);

	/* Runs of equal-sized plain packets to one peer share a send; a
	 * shorter one ends the run, another peer starts a new one. */
	memset(&sent, 0, sizeof(sent));
	tx.gso = true;
	o.dst = "10.244.2.3";
	for (int i = 0; i < 5; i++) {
		l = build_tcp(super, &o, payload, i == 3 ? 50 : 100);
		o.dst = i == 3 ? "10.244.3.3" : "10.244.2.3";
		udp_tx_add(&tx, tunbuf[i], tun_pkt(i, NULL, super, l));
	}
	udp_tx_flush(&tx);
	assert_int_equal(sent.msgs, 2);
	assert_int_equal(sent.seg_size[0], 152);
	assert_int_equal(sent.len[0], 3 * 152 + 102);
	assert_int_equal(sent.seg_size[1], 0);
	assert_int_equal(sent.to[1].sin_addr.s_addr, ip4("192.168.0.3"));
}

static void test_tx_batch_overflow(void **state)
{
	struct tcp_opts o = { .src = "10.244.1.2", .dst = "10.244.3.3", .sport = 1, .dport = 2 };
	struct vnet_hdr vh = { .gso_type = VNET_GSO_TCPV4, .gso_size = 48 };
	size_t l;

	(void)state;
	/* 4 super-packets of 1365 segments each: the batch fills and is sent
	 * in between, nothing is lost. */
	tx.gso = false;
	fill_rand(payload, 65000);
	l = build_tcp(super, &o, payload, 65000 - 40);
	for (int i = 0; i < 4; i++)
		udp_tx_add(&tx, tunbuf[i], tun_pkt(i, &vh, super, l));
	udp_tx_flush(&tx);
	assert_int_equal(ctr[UDP_TX_PACKETS], 4 * ((65000 - 40 + 47) / 48));
	assert_int_equal(sent.msgs, ctr[UDP_TX_PACKETS]);
	assert_int_equal(ctr[UDP_DROP_MALFORMED], 0);
	/* gso_size 1: too many segments for one packet. */
	vh.gso_size = 1;
	udp_tx_add(&tx, tunbuf[0], tun_pkt(0, &vh, super, l));
	assert_int_equal(ctr[UDP_DROP_MALFORMED], 1);
}

static void test_rx_checks_and_coalesces(void **state)
{
	struct tcp_opts o = { .src = "10.244.2.7", .dst = "10.244.1.2", .sport = 5201, .dport = 40000,
			      .ttl = 63 };
	static uint8_t train[65536];
	size_t l, off = 0;

	(void)state;
	fill_rand(payload, 14200);
	/* A GRO train of 10 segments from peer .2 */
	for (int i = 0; i < 10; i++) {
		l = build_tcp(train + off, &o, payload + i * 1420, 1420);
		o.seq += 1420;
		off += l;
	}
	udp_rx_add(&rx, ip4("192.168.0.2"), htons(8285), train, off, 1460);
	udp_rx_flush(&rx);
	assert_int_equal(ctr[UDP_RX_GRO_TRAINS], 1);
	assert_int_equal(ctr[UDP_RX_DATAGRAMS], 10);
	assert_int_equal(ctr[UDP_RX_PACKETS], 10);
	assert_int_equal(ctr[UDP_RX_TUN_WRITES], 1);
	assert_int_equal(ctr[UDP_RX_COALESCED_SEGS], 10);
	assert_int_equal(cap.writes, 1);
	assert_int_equal(cap.len[0], 40 + 14200);
	assert_int_equal(cap.pkt[0][8], 62); /* TTL decremented again */
	assert_true(ref_ip_ok(cap.pkt[0]));
	assert_memory_equal(cap.pkt[0] + 40, payload, 14200);

	/* From a stranger: dropped as unknown sender. */
	l = build_tcp(train, &o, payload, 100);
	udp_rx_add(&rx, ip4("192.168.0.9"), htons(8285), train, l, 0);
	udp_rx_add(&rx, ip4("192.168.0.2"), htons(1234), train, l, 0);
	assert_int_equal(ctr[UDP_DROP_UNKNOWN_SENDER], 2);
	/* From peer .3 but claiming .2's pod, or a non-cluster address. */
	udp_rx_add(&rx, ip4("192.168.0.3"), htons(8285), train, l, 0);
	o.src = "1.2.3.4";
	l = build_tcp(train, &o, payload, 100);
	udp_rx_add(&rx, ip4("192.168.0.2"), htons(8285), train, l, 0);
	assert_int_equal(ctr[UDP_DROP_SPOOFED_SOURCE], 2);
	/* TTL 1 and garbage */
	o.src = "10.244.2.7";
	o.ttl = 1;
	l = build_tcp(train, &o, payload, 100);
	udp_rx_add(&rx, ip4("192.168.0.2"), htons(8285), train, l, 0);
	assert_int_equal(ctr[UDP_DROP_TTL], 1);
	memset(train, 0x45, 30);
	udp_rx_add(&rx, ip4("192.168.0.2"), htons(8285), train, 30, 0);
	assert_int_equal(ctr[UDP_DROP_MALFORMED], 1);
	udp_rx_flush(&rx);
	assert_int_equal(cap.writes, 1);
	/* Trailing bytes after the IP total length are not written. */
	o.ttl = 64;
	l = build_tcp(train, &o, payload, 100);
	udp_rx_add(&rx, ip4("192.168.0.2"), htons(8285), train, l + 7, 0);
	udp_rx_flush(&rx);
	assert_int_equal(cap.writes, 2);
	assert_int_equal(cap.len[1], l);
	assert_int_equal(cap.vh[1].gso_type, VNET_GSO_NONE);
}

/* A peer may send only to our own subnet: not on through us to another
 * peer, the underlay or the world (we would route and masquerade it). */
static void test_rx_foreign_destination(void **state)
{
	struct tcp_opts o = { .src = "10.244.2.7", .dst = "10.244.1.2", .sport = 5201, .dport = 40000,
			      .ttl = 63 };
	static const char *const away[] = { "10.244.3.3", "10.200.0.1", "8.8.8.8", "10.244.0.255",
					    "10.244.2.1", "255.255.255.255", "224.0.0.1" };
	static const uint8_t dst[4] = { 10, 244, 1, 2 };
	static uint8_t train[65536];
	size_t l, off = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(away) / sizeof(away[0]); i++) {
		o.dst = away[i];
		l = build_tcp(train, &o, payload, 100);
		udp_rx_add(&rx, ip4("192.168.0.2"), htons(8285), train, l, 0);
	}
	udp_rx_flush(&rx);
	assert_int_equal(ctr[UDP_DROP_FOREIGN_DEST], 7);
	assert_int_equal(ctr[UDP_RX_PACKETS], 0);
	assert_int_equal(cap.writes, 0);
	/* Both ends of our subnet are ours. */
	o.dst = "10.244.1.0";
	l = build_tcp(train, &o, payload, 100);
	udp_rx_add(&rx, ip4("192.168.0.2"), htons(8285), train, l, 0);
	o.dst = "10.244.1.255";
	l = build_tcp(train, &o, payload, 100);
	udp_rx_add(&rx, ip4("192.168.0.2"), htons(8285), train, l, 0);
	udp_rx_flush(&rx);
	assert_int_equal(ctr[UDP_RX_PACKETS], 2);
	assert_int_equal(ctr[UDP_DROP_FOREIGN_DEST], 7);

	/* In a GRO train each datagram is checked: segment 4 of 8 goes
	 * elsewhere (same sender, same inner source as the rest). */
	memset(ctr, 0, sizeof(ctr));
	memset(&cap, 0, sizeof(cap));
	fill_rand(payload, 8 * 1000);
	for (int i = 0; i < 8; i++) {
		o.dst = i == 3 ? "10.244.3.3" : "10.244.1.2";
		l = build_tcp(train + off, &o, payload + i * 1000, 1000);
		o.seq += 1000;
		off += l;
	}
	udp_rx_add(&rx, ip4("192.168.0.2"), htons(8285), train, off, 1040);
	udp_rx_flush(&rx);
	assert_int_equal(ctr[UDP_RX_GRO_TRAINS], 1);
	assert_int_equal(ctr[UDP_RX_DATAGRAMS], 8);
	assert_int_equal(ctr[UDP_DROP_FOREIGN_DEST], 1);
	assert_int_equal(ctr[UDP_RX_PACKETS], 7);
	for (int w = 0; w < cap.writes; w++)
		assert_memory_equal(cap.pkt[w] + 16, dst, 4);

	/* An rx nobody gave a subnet delivers nothing. */
	memset(ctr, 0, sizeof(ctr));
	udp_rx_init(&rx, true, true);
	o.dst = "10.244.1.2";
	l = build_tcp(train, &o, payload, 100);
	udp_rx_add(&rx, ip4("192.168.0.2"), htons(8285), train, l, 0);
	o.dst = "0.0.0.0";
	l = build_tcp(train, &o, payload, 100);
	udp_rx_add(&rx, ip4("192.168.0.2"), htons(8285), train, l, 0);
	udp_rx_flush(&rx);
	assert_int_equal(ctr[UDP_DROP_FOREIGN_DEST], 2);
}

/* Port matching is a choice: by default a peer's address is enough. */
static void test_rx_match_port(void **state)
{
	struct tcp_opts o = { .src = "10.244.2.7", .dst = "10.244.1.2", .sport = 5201, .dport = 40000,
			      .ttl = 63 };
	uint8_t b[2000];
	size_t l;

	(void)state;
	l = build_tcp(b, &o, payload, 100);
	rx.match_port = false;
	udp_rx_add(&rx, ip4("192.168.0.2"), htons(40000), b, l, 0);
	udp_rx_flush(&rx);
	assert_int_equal(ctr[UDP_RX_PACKETS], 1);
	/* ... but still its own pods only, and only from a peer's address */
	o.src = "10.244.3.7";
	l = build_tcp(b, &o, payload, 100);
	udp_rx_add(&rx, ip4("192.168.0.2"), htons(40000), b, l, 0);
	udp_rx_add(&rx, ip4("192.168.0.9"), htons(8285), b, l, 0);
	assert_int_equal(ctr[UDP_DROP_SPOOFED_SOURCE], 1);
	assert_int_equal(ctr[UDP_DROP_UNKNOWN_SENDER], 1);
	rx.match_port = true;
	o.src = "10.244.2.7";
	l = build_tcp(b, &o, payload, 100);
	udp_rx_add(&rx, ip4("192.168.0.2"), htons(40000), b, l, 0);
	udp_rx_add(&rx, ip4("192.168.0.2"), htons(8285), b, l, 0);
	udp_rx_flush(&rx);
	assert_int_equal(ctr[UDP_DROP_UNKNOWN_SENDER], 2);
	assert_int_equal(ctr[UDP_RX_PACKETS], 2);
}

static void test_counter_names(void **state)
{
	(void)state;
	for (int i = 0; i < UDP_COUNTERS; i++)
		assert_non_null(udp_counter_name(i));
	assert_string_equal(udp_counter_name(UDP_DROP_SPOOFED_SOURCE), "drop_spoofed_source");
	assert_string_equal(udp_counter_name(UDP_DROP_UNKNOWN_SENDER), "drop_unknown_sender");
	assert_string_equal(udp_counter_name(UDP_DROP_FOREIGN_DEST), "drop_foreign_destination");
	assert_string_equal(udp_counter_name(UDP_COUNTERS), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_partial_matches_reference),
		cmocka_unit_test(test_ttl_incremental_matches_full),
		cmocka_unit_test(test_ip4_header_and_pseudo),
		cmocka_unit_test(test_segment_tcp),
		cmocka_unit_test(test_segment_udp),
		cmocka_unit_test(test_segment_small_and_bad),
		cmocka_unit_test(test_complete_csum),
		cmocka_unit_test_setup(test_coalesce_round_trip, gro_setup),
		cmocka_unit_test_setup(test_coalesce_rules, gro_setup),
		cmocka_unit_test_setup(test_coalesce_interleaved_flows_keep_order, gro_setup),
		cmocka_unit_test_setup(test_coalesce_limits, gro_setup),
		cmocka_unit_test(test_icmp_net_unreachable),
		cmocka_unit_test(test_icmp_rate_limit),
		cmocka_unit_test(test_peer_table_lookup),
		cmocka_unit_test(test_peer_generations),
		cmocka_unit_test(test_peer_generations_threads),
		cmocka_unit_test_setup_teardown(test_tx_plain_packets, path_setup, path_teardown),
		cmocka_unit_test_setup_teardown(test_tx_segments_with_udp_gso, path_setup, path_teardown),
		cmocka_unit_test_setup_teardown(test_tx_batch_overflow, path_setup, path_teardown),
		cmocka_unit_test_setup_teardown(test_rx_checks_and_coalesces, path_setup, path_teardown),
		cmocka_unit_test_setup_teardown(test_rx_foreign_destination, path_setup, path_teardown),
		cmocka_unit_test_setup_teardown(test_rx_match_port, path_setup, path_teardown),
		cmocka_unit_test(test_counter_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
