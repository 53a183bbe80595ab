// SPDX-License-Identifier: Apache-2.0
#include "datapath/gso.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "datapath/csum.h"
#include "datapath/pkt.h"

void vnet_hdr_get(const uint8_t *p, struct vnet_hdr *ret)
{
	ret->flags = p[0];
	ret->gso_type = p[1];
	memcpy(&ret->hdr_len, p + 2, 2);
	memcpy(&ret->gso_size, p + 4, 2);
	memcpy(&ret->csum_start, p + 6, 2);
	memcpy(&ret->csum_offset, p + 8, 2);
}

void vnet_hdr_put(uint8_t *p, const struct vnet_hdr *h)
{
	p[0] = h->flags;
	p[1] = h->gso_type;
	memcpy(p + 2, &h->hdr_len, 2);
	memcpy(p + 4, &h->gso_size, 2);
	memcpy(p + 6, &h->csum_start, 2);
	memcpy(p + 8, &h->csum_offset, 2);
}

unsigned ip4_check(const uint8_t *pkt, size_t len)
{
	unsigned hl, tot;

	if (len < IP4_MIN_HLEN || (pkt[0] >> 4) != 4)
		return 0;
	hl = ip4_hlen(pkt);
	tot = get_be16(pkt + IP4_TOTLEN);
	if (hl < IP4_MIN_HLEN || tot < hl || tot > len)
		return 0;
	return tot;
}

int gso_complete_csum(uint8_t *pkt, size_t len, unsigned csum_start, unsigned csum_offset)
{
	uint16_t c;

	if ((size_t)csum_start + csum_offset + 2 > len || csum_offset & 1)
		return -EINVAL;
	c = csum_fold(csum_partial(pkt + csum_start, len - csum_start, 0));
	put_ne16(pkt + csum_start + csum_offset, c ? c : 0xffff);
	return 0;
}

int gso_segment(const uint8_t *pkt, size_t len, uint8_t gso_type, unsigned gso_size, uint8_t *hdrs,
		struct gso_seg *segs, size_t max_segs)
{
	uint8_t type = gso_type & (uint8_t)~VNET_GSO_ECN;
	unsigned hl, l4hl, tot, payload, n;
	uint16_t id;
	uint32_t seq = 0;
	uint8_t proto;

	tot = ip4_check(pkt, len);
	if (!tot || gso_size == 0)
		return -EINVAL;
	hl = ip4_hlen(pkt);
	proto = pkt[IP4_PROTO];
	/* Only a first fragment can be a GSO packet. */
	if (get_be16(pkt + IP4_FRAG) & (IP4_MF | IP4_OFFMASK))
		return -EINVAL;
	if (type == VNET_GSO_TCPV4 && proto == IPPROTO_TCP) {
		if (tot < hl + TCP_MIN_HLEN)
			return -EINVAL;
		l4hl = tcp_hlen(pkt + hl);
		if (l4hl < TCP_MIN_HLEN || hl + l4hl > tot)
			return -EINVAL;
		seq = get_be32(pkt + hl + TCP_SEQ);
	} else if (type == VNET_GSO_UDP_L4 && proto == IPPROTO_UDP) {
		l4hl = UDP_HLEN;
		if (hl + l4hl > tot)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (hl + l4hl > GSO_MAX_HDR)
		return -EINVAL;
	payload = tot - hl - l4hl;
	n = payload ? (payload + gso_size - 1) / gso_size : 1;
	if (n > max_segs)
		return -E2BIG;
	id = get_be16(pkt + IP4_ID);
	for (unsigned i = 0, off = 0; i < n; i++) {
		uint8_t *h = hdrs + (size_t)i * GSO_MAX_HDR, *l4 = h + hl;
		unsigned seglen = payload - off < gso_size ? payload - off : gso_size;
		bool last = i == n - 1;
		const uint8_t *data = pkt + hl + l4hl + off;
		uint32_t sum;

		memcpy(h, pkt, hl + l4hl);
		put_be16(h + IP4_TOTLEN, (uint16_t)(hl + l4hl + seglen));
		put_be16(h + IP4_ID, (uint16_t)(id + i));
		put_ne16(h + IP4_CSUM, csum_ip4_header(h, hl));
		if (proto == IPPROTO_TCP) {
			put_be32(l4 + TCP_SEQ, seq + i * gso_size);
			if (!last)
				l4[TCP_FLAGS] &= (uint8_t) ~(TCPF_FIN | TCPF_PSH);
			if (i > 0)
				l4[TCP_FLAGS] &= (uint8_t)~TCPF_CWR;
			put_ne16(l4 + TCP_CSUM, 0);
			sum = csum_pseudo4(h + IP4_SADDR, h + IP4_DADDR, IPPROTO_TCP,
					   (uint16_t)(l4hl + seglen));
			sum = csum_partial(l4, l4hl, sum);
			put_ne16(l4 + TCP_CSUM, csum_fold(csum_partial(data, seglen, sum)));
		} else {
			uint16_t c;

			put_be16(l4 + UDP_LEN, (uint16_t)(UDP_HLEN + seglen));
			put_ne16(l4 + UDP_CSUM, 0);
			sum = csum_pseudo4(h + IP4_SADDR, h + IP4_DADDR, IPPROTO_UDP,
					   (uint16_t)(UDP_HLEN + seglen));
			sum = csum_partial(l4, UDP_HLEN, sum);
			c = csum_fold(csum_partial(data, seglen, sum));
			put_ne16(l4 + UDP_CSUM, c ? c : 0xffff);
		}
		segs[i].hdr = h;
		segs[i].hdr_len = hl + l4hl;
		segs[i].payload = data;
		segs[i].len = seglen;
		off += seglen;
	}
	return (int)n;
}

/* ---- coalescing ---- */

void gro_init(struct gro *g, bool vnet, bool coalesce)
{
	g->vnet = vnet;
	g->coalesce = coalesce && vnet;
	g->n_pkts = g->n_items = 0;
	memset(g->slots, 0, sizeof(g->slots));
	memset(&g->stats, 0, sizeof(g->stats));
}

/* A packet the kernel's TCP GRO would consider: no IP options, not a
 * fragment, DF (so IDs do not matter), a data segment carrying only ACK and
 * maybe PSH. */
static void classify(struct gro_pkt *p)
{
	const uint8_t *ip = p->data, *tcp = ip + IP4_MIN_HLEN;
	unsigned thl;

	p->can = false;
	if (p->len <= IP4_MIN_HLEN + TCP_MIN_HLEN || ip[0] != 0x45 ||
	    ip[IP4_PROTO] != IPPROTO_TCP || (get_be16(ip + IP4_FRAG) & ~IP4_DF) != 0 ||
	    !(get_be16(ip + IP4_FRAG) & IP4_DF))
		return;
	thl = tcp_hlen(tcp);
	if (thl < TCP_MIN_HLEN || IP4_MIN_HLEN + thl >= p->len)
		return;
	if ((tcp[TCP_FLAGS] & (uint8_t)~TCPF_PSH) != TCPF_ACK)
		return;
	p->thl = (uint8_t)thl;
	p->plen = (uint16_t)(p->len - IP4_MIN_HLEN - thl);
	p->seq = get_be32(tcp + TCP_SEQ);
	p->can = true;
}

static unsigned flow_slot(const uint8_t *ip)
{
	uint32_t h = get_ne32(ip + IP4_SADDR) * 0x9e3779b1u;

	h ^= get_ne32(ip + IP4_DADDR) * 0x85ebca77u;
	h ^= get_ne32(ip + IP4_MIN_HLEN) * 0xc2b2ae3du; /* ports */
	return (h >> 16) % GRO_SLOTS;
}

static bool same_flow(const uint8_t *a, const uint8_t *b)
{
	return !memcmp(a + IP4_SADDR, b + IP4_SADDR, 8) &&
	       !memcmp(a + IP4_MIN_HLEN, b + IP4_MIN_HLEN, 4);
}

/* IPv4 header and TCP checksums of a candidate, checked once. */
static bool verify(struct gro *g, struct gro_pkt *p)
{
	const uint8_t *ip = p->data;
	uint32_t sum;

	if (p->verified)
		return true;
	if (csum_fold(csum_partial(ip, IP4_MIN_HLEN, 0)) != 0)
		goto bad;
	sum = csum_pseudo4(ip + IP4_SADDR, ip + IP4_DADDR, IPPROTO_TCP,
			   (uint16_t)(p->len - IP4_MIN_HLEN));
	if (csum_fold(csum_partial(ip + IP4_MIN_HLEN, p->len - IP4_MIN_HLEN, sum)) != 0)
		goto bad;
	p->verified = true;
	return true;
bad:
	g->stats.csum_bad++;
	p->can = false;
	return false;
}

static bool can_append(struct gro *g, struct gro_item *it, struct gro_pkt *p)
{
	struct gro_pkt *h = &g->pkts[it->head];
	const uint8_t *a = h->data, *b = p->data;
	const uint8_t *ta = a + IP4_MIN_HLEN, *tb = b + IP4_MIN_HLEN;

	if (it->closed || !h->can || it->count >= GRO_MAX_SEGS)
		return false;
	if (p->seq != it->next_seq || p->plen > it->gso_size || it->total + p->plen > 65535)
		return false;
	/* Same TOS and TTL, same ACK number, window and TCP header length,
	 * identical options. */
	if (a[IP4_TOS] != b[IP4_TOS] || a[IP4_TTL] != b[IP4_TTL] || h->thl != p->thl ||
	    memcmp(ta + TCP_ACK, tb + TCP_ACK, 4) || memcmp(ta + TCP_WIN, tb + TCP_WIN, 2) ||
	    memcmp(ta + TCP_MIN_HLEN, tb + TCP_MIN_HLEN, h->thl - TCP_MIN_HLEN))
		return false;
	return verify(g, h) && verify(g, p);
}

static void item_new(struct gro *g, uint16_t pi)
{
	struct gro_item *it = &g->items[g->n_items++];
	struct gro_pkt *p = &g->pkts[pi];

	it->head = it->tail = pi;
	it->count = 1;
	it->closed = !p->can;
	it->psh = false;
	if (p->can) {
		it->gso_size = p->plen;
		it->next_seq = p->seq + p->plen;
		it->total = p->len;
		if (p->data[IP4_MIN_HLEN + TCP_FLAGS] & TCPF_PSH)
			it->closed = true;
		g->slots[flow_slot(p->data)] = (uint16_t)g->n_items;
	}
}

/* The flow's latest item, if the slot still holds it. */
static struct gro_item *flow_item(struct gro *g, const uint8_t *pkt)
{
	uint16_t s = g->slots[flow_slot(pkt)];
	struct gro_item *it = s ? &g->items[s - 1] : NULL;

	return it && same_flow(g->pkts[it->head].data, pkt) ? it : NULL;
}

void gro_add(struct gro *g, uint8_t *pkt, uint16_t len)
{
	struct gro_item *it = NULL;
	struct gro_pkt *p;
	uint16_t pi;

	if (g->n_pkts >= GRO_MAX_PKTS)
		return; /* callers check gro_room() first */
	pi = (uint16_t)g->n_pkts++;
	p = &g->pkts[pi];
	p->data = pkt;
	p->len = len;
	p->next = 0;
	p->verified = false;
	p->can = false;
	if (g->coalesce && len >= IP4_MIN_HLEN + 4 && pkt[0] == 0x45 &&
	    pkt[IP4_PROTO] == IPPROTO_TCP) {
		classify(p);
		it = flow_item(g, pkt);
	}
	if (it && p->can && can_append(g, it, p)) {
		g->pkts[it->tail].next = (uint16_t)(pi + 1);
		it->tail = pi;
		it->count++;
		it->next_seq += p->plen;
		it->total += p->plen;
		if (pkt[IP4_MIN_HLEN + TCP_FLAGS] & TCPF_PSH)
			it->closed = it->psh = true;
		if (p->plen < it->gso_size)
			it->closed = true;
		return;
	}
	/* Nothing of this flow may join an item older than this packet. */
	if (it)
		it->closed = true;
	item_new(g, pi);
}

static void write_item(struct gro *g, struct gro_item *it, gro_write_cb *write, void *arg)
{
	struct gro_pkt *h = &g->pkts[it->head];
	struct vnet_hdr vh = {0};
	int n = 0;

	if (g->vnet) {
		g->iov[n].iov_base = g->vh;
		g->iov[n++].iov_len = VNET_HDR_LEN;
	}
	g->iov[n].iov_base = h->data;
	g->iov[n++].iov_len = h->len;
	if (it->count > 1) {
		uint8_t *ip = h->data, *tcp = ip + IP4_MIN_HLEN;

		for (uint16_t i = h->next; i; i = g->pkts[i - 1].next) {
			struct gro_pkt *p = &g->pkts[i - 1];

			g->iov[n].iov_base = p->data + IP4_MIN_HLEN + p->thl;
			g->iov[n++].iov_len = p->plen;
		}
		put_be16(ip + IP4_TOTLEN, (uint16_t)it->total);
		put_ne16(ip + IP4_CSUM, csum_ip4_header(ip, IP4_MIN_HLEN));
		if (it->psh)
			tcp[TCP_FLAGS] |= TCPF_PSH;
		/* CHECKSUM_PARTIAL: the folded, non-inverted pseudo-header sum. */
		put_ne16(tcp + TCP_CSUM,
			 csum_fold_raw(csum_pseudo4(ip + IP4_SADDR, ip + IP4_DADDR, IPPROTO_TCP,
						    (uint16_t)(it->total - IP4_MIN_HLEN))));
		vh.flags = VNET_F_NEEDS_CSUM;
		vh.gso_type = VNET_GSO_TCPV4;
		vh.hdr_len = (uint16_t)(IP4_MIN_HLEN + h->thl);
		vh.gso_size = it->gso_size;
		vh.csum_start = IP4_MIN_HLEN;
		vh.csum_offset = TCP_CSUM;
	}
	if (g->vnet)
		vnet_hdr_put(g->vh, &vh);
	if (write(arg, g->iov, n) < 0) {
		g->stats.write_errors += it->count;
		return;
	}
	g->stats.writes++;
	g->stats.packets += it->count;
	g->stats.bytes += it->count > 1 ? it->total : h->len;
	if (it->count > 1) {
		g->stats.coalesced++;
		g->stats.coalesced_segs += it->count;
	}
}

void gro_flush(struct gro *g, gro_write_cb *write, void *arg)
{
	for (size_t i = 0; i < g->n_items; i++)
		write_item(g, &g->items[i], write, arg);
	g->n_pkts = g->n_items = 0;
	memset(g->slots, 0, sizeof(g->slots));
}
