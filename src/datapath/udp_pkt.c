// SPDX-License-Identifier: Apache-2.0
#include "datapath/udp_pkt.h"

#include <errno.h>
#include <netinet/udp.h>
#include <string.h>

#include "datapath/csum.h"
#include "datapath/peers.h"
#include "datapath/pkt.h"

static const char *const counter_names[UDP_COUNTERS] = {
	[UDP_TX_PACKETS] = "tx_packets",
	[UDP_TX_BYTES] = "tx_bytes",
	[UDP_TX_TUN_READS] = "tx_tun_reads",
	[UDP_TX_SENDS] = "tx_sends",
	[UDP_TX_GSO_SENDS] = "tx_gso_sends",
	[UDP_TX_SEGMENTED] = "tx_segmented",
	[UDP_RX_PACKETS] = "rx_packets",
	[UDP_RX_BYTES] = "rx_bytes",
	[UDP_RX_RECVS] = "rx_recvs",
	[UDP_RX_DATAGRAMS] = "rx_datagrams",
	[UDP_RX_GRO_TRAINS] = "rx_gro_trains",
	[UDP_RX_TUN_WRITES] = "rx_tun_writes",
	[UDP_RX_COALESCED] = "rx_coalesced",
	[UDP_RX_COALESCED_SEGS] = "rx_coalesced_segs",
	[UDP_RX_CSUM_BAD] = "rx_csum_bad",
	[UDP_ICMP_SENT] = "icmp_sent",
	[UDP_ICMP_RATELIMITED] = "icmp_ratelimited",
	[UDP_IO_ERRORS] = "io_errors",
	[UDP_DROP_NO_PEER] = "drop_no_peer",
	[UDP_DROP_TTL] = "drop_ttl",
	[UDP_DROP_SPOOFED_SOURCE] = "drop_spoofed_source",
	[UDP_DROP_UNKNOWN_SENDER] = "drop_unknown_sender",
	[UDP_DROP_FOREIGN_DEST] = "drop_foreign_destination",
	[UDP_DROP_MALFORMED] = "drop_malformed",
	[UDP_DROP_NOT_IPV4] = "drop_not_ipv4",
	[UDP_DROP_TUN_WRITE_ERROR] = "drop_tun_write_error",
	[UDP_DROP_SEND_ERROR] = "drop_send_error",
};

const char *udp_counter_name(enum udp_counter c)
{
	return (unsigned)c < UDP_COUNTERS ? counter_names[c] : "?";
}

/* Decrement the TTL with the RFC 1624 checksum fix; false when it would
 * reach zero (flannel drops those silently). */
static bool ttl_dec(uint8_t *ip)
{
	uint16_t old, new;

	if (ip[IP4_TTL] <= 1)
		return false;
	old = get_ne16(ip + IP4_TTL);
	ip[IP4_TTL]--;
	new = get_ne16(ip + IP4_TTL);
	put_ne16(ip + IP4_CSUM, csum_replace16(get_ne16(ip + IP4_CSUM), old, new));
	return true;
}

/* ---- TX ---- */

static int64_t no_clock(void)
{
	return 0;
}

void udp_tx_init(struct udp_tx *tx)
{
	tx->n_msgs = tx->n_iov = tx->n_hdrs = 0;
	tx->gso_max_segs = UDP_GSO_MAX_SEGS;
	tx->gso_max_dgram = 1472;
	tx->now_ms = no_clock;
	icmp_limit_init(&tx->icmp, 100, 20);
}

void udp_gso_cmsg(struct msghdr *m, union udp_gso_cmsg *cm, uint16_t seg_size, bool gso)
{
	m->msg_control = NULL;
	m->msg_controllen = 0;
	if (gso) {
		struct cmsghdr *c = &cm->align;

		memset(cm->buf, 0, sizeof(cm->buf));
		m->msg_control = cm->buf;
		m->msg_controllen = sizeof(cm->buf);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		memcpy(CMSG_DATA(c), &seg_size, sizeof(uint16_t));
	}
}

void udp_tx_flush(struct udp_tx *tx)
{
	for (size_t i = 0; i < tx->n_msgs; i++)
		udp_gso_cmsg(&tx->msgs[i].msg_hdr, &tx->cmsg[i], tx->info[i].seg_size,
			     tx->info[i].n_segs > 1);
	if (tx->n_msgs)
		tx->send(tx, tx->arg);
	tx->n_msgs = tx->n_iov = tx->n_hdrs = 0;
}

/* Queue one datagram of iovcnt (1 or 2) pieces, dlen bytes, to peer p. */
static void tx_emit(struct udp_tx *tx, const struct udp_peer *p, const void *a, size_t alen,
		    const void *b, size_t blen)
{
	size_t dlen = alen + blen, i = tx->n_msgs;
	struct udp_tx_msg_info *in = i ? &tx->info[i - 1] : NULL;
	struct sockaddr_in *last = i ? &tx->addrs[i - 1] : NULL;
	int pieces = blen ? 2 : 1;

	if (tx->gso && in && !in->closed && last->sin_addr.s_addr == p->addr &&
	    last->sin_port == p->port && in->n_segs < tx->gso_max_segs && dlen <= in->seg_size &&
	    in->seg_size <= tx->gso_max_dgram && in->bytes + dlen <= UDP_GSO_MAX_BYTES) {
		/* The message is the last one: its iovec ends at n_iov. */
		tx->msgs[i - 1].msg_hdr.msg_iovlen += (size_t)pieces;
		in->n_segs++;
		in->bytes += (uint32_t)dlen;
		if (dlen < in->seg_size)
			in->closed = true;
	} else {
		struct msghdr *m = &tx->msgs[i].msg_hdr;

		memset(m, 0, sizeof(*m));
		tx->addrs[i].sin_family = AF_INET;
		tx->addrs[i].sin_port = p->port;
		tx->addrs[i].sin_addr.s_addr = p->addr;
		m->msg_name = &tx->addrs[i];
		m->msg_namelen = sizeof(tx->addrs[i]);
		m->msg_iov = &tx->iov[tx->n_iov];
		m->msg_iovlen = (size_t)pieces;
		tx->info[i].seg_size = (uint16_t)dlen;
		tx->info[i].n_segs = 1;
		tx->info[i].bytes = (uint32_t)dlen;
		tx->info[i].closed = false;
		tx->n_msgs++;
	}
	tx->iov[tx->n_iov].iov_base = (void *)(uintptr_t)a;
	tx->iov[tx->n_iov++].iov_len = alen;
	if (blen) {
		tx->iov[tx->n_iov].iov_base = (void *)(uintptr_t)b;
		tx->iov[tx->n_iov++].iov_len = blen;
	}
	tx->ctr[UDP_TX_PACKETS]++;
	tx->ctr[UDP_TX_BYTES] += dlen;
}

static void tx_unreachable(struct udp_tx *tx, const uint8_t *pkt, size_t len)
{
	size_t off = tx->vnet ? VNET_HDR_LEN : 0, n;
	struct iovec iov;

	if (!icmp_may_reply(pkt, len))
		return;
	if (!icmp_limit_take(&tx->icmp, tx->now_ms())) {
		tx->ctr[UDP_ICMP_RATELIMITED]++;
		return;
	}
	memset(tx->icmp_buf, 0, off); /* GSO_NONE, checksums done */
	n = icmp_net_unreach(pkt, len, tx->tun_addr, tx->icmp_buf + off);
	if (!n)
		return;
	iov.iov_base = tx->icmp_buf;
	iov.iov_len = off + n;
	if (tx->tun_write(tx->arg, &iov, 1) < 0)
		tx->ctr[UDP_DROP_TUN_WRITE_ERROR]++;
	else
		tx->ctr[UDP_ICMP_SENT]++;
}

void udp_tx_add(struct udp_tx *tx, uint8_t *buf, size_t len)
{
	struct vnet_hdr vh = {0};
	const struct udp_peer *p;
	uint8_t *pkt = buf;
	unsigned tot;
	int n;

	tx->ctr[UDP_TX_TUN_READS]++;
	if (tx->vnet) {
		if (len < VNET_HDR_LEN) {
			tx->ctr[UDP_DROP_MALFORMED]++;
			return;
		}
		vnet_hdr_get(buf, &vh);
		pkt += VNET_HDR_LEN;
		len -= VNET_HDR_LEN;
	}
	tot = ip4_check(pkt, len);
	if (!tot) {
		tx->ctr[len && (pkt[0] >> 4) != 4 ? UDP_DROP_NOT_IPV4 : UDP_DROP_MALFORMED]++;
		return;
	}
	p = udp_peer_lookup(tx->peers, get_ne32(pkt + IP4_DADDR));
	if (!p) {
		tx->ctr[UDP_DROP_NO_PEER]++;
		tx_unreachable(tx, pkt, tot);
		return;
	}
	if (!ttl_dec(pkt)) {
		tx->ctr[UDP_DROP_TTL]++;
		return;
	}
	if ((vh.gso_type & (uint8_t)~VNET_GSO_ECN) == VNET_GSO_NONE) {
		/* The checksum lives in the L4 header, never in the IP header
		 * the peer was chosen by. */
		if ((vh.flags & VNET_F_NEEDS_CSUM) &&
		    (vh.csum_start < ip4_hlen(pkt) ||
		     gso_complete_csum(pkt, tot, vh.csum_start, vh.csum_offset) < 0)) {
			tx->ctr[UDP_DROP_MALFORMED]++;
			return;
		}
		if (tx->n_msgs == UDP_TX_MAX_MSGS || tx->n_iov == UDP_TX_MAX_IOV)
			udp_tx_flush(tx);
		tx_emit(tx, p, pkt, tot, NULL, 0);
		return;
	}
	for (int again = 0;; again++) {
		size_t room = GSO_MAX_SEGS - tx->n_hdrs;

		if (room > UDP_TX_MAX_MSGS - tx->n_msgs)
			room = UDP_TX_MAX_MSGS - tx->n_msgs;
		if (room > (UDP_TX_MAX_IOV - tx->n_iov) / 2)
			room = (UDP_TX_MAX_IOV - tx->n_iov) / 2;
		n = gso_segment(pkt, tot, vh.gso_type, vh.gso_size,
				tx->hdrs + tx->n_hdrs * GSO_MAX_HDR, tx->segs, room);
		if (n != -E2BIG || again || tx->n_msgs == 0)
			break;
		udp_tx_flush(tx);
	}
	if (n < 0) {
		tx->ctr[UDP_DROP_MALFORMED]++;
		return;
	}
	tx->n_hdrs += (size_t)n;
	tx->ctr[UDP_TX_SEGMENTED]++;
	for (int i = 0; i < n; i++)
		tx_emit(tx, p, tx->segs[i].hdr, tx->segs[i].hdr_len, tx->segs[i].payload,
			tx->segs[i].len);
}

/* ---- RX ---- */

void udp_rx_init(struct udp_rx *rx, bool vnet, bool coalesce)
{
	/* (d & 0) is never ~0: nothing is delivered until the owner sets it. */
	rx->local_net = ~0U;
	rx->local_mask = 0;
	gro_init(&rx->gro, vnet, coalesce);
}

void udp_rx_flush(struct udp_rx *rx)
{
	struct gro_stats *s = &rx->gro.stats;

	gro_flush(&rx->gro, rx->tun_write, rx->arg);
	rx->ctr[UDP_RX_PACKETS] += s->packets;
	rx->ctr[UDP_RX_TUN_WRITES] += s->writes;
	rx->ctr[UDP_RX_COALESCED] += s->coalesced;
	rx->ctr[UDP_RX_COALESCED_SEGS] += s->coalesced_segs;
	rx->ctr[UDP_RX_CSUM_BAD] += s->csum_bad;
	rx->ctr[UDP_DROP_TUN_WRITE_ERROR] += s->write_errors;
	memset(s, 0, sizeof(*s));
}

void udp_rx_add(struct udp_rx *rx, uint32_t addr, uint16_t port, uint8_t *data, size_t len,
		size_t seg_size)
{
	enum udp_src_verdict v = UDP_SRC_UNKNOWN_SENDER;
	uint32_t last_src = 0;
	bool have_last = false;
	size_t n;

	if (!len)
		return;
	if (!seg_size || seg_size > len)
		seg_size = len;
	n = (len + seg_size - 1) / seg_size;
	if (n > 1)
		rx->ctr[UDP_RX_GRO_TRAINS]++;
	if (gro_room(&rx->gro) < n)
		udp_rx_flush(rx);
	for (size_t off = 0; off < len; off += seg_size) {
		uint8_t *d = data + off;
		size_t dl = len - off < seg_size ? len - off : seg_size;
		unsigned tot = ip4_check(d, dl);
		uint32_t src;

		rx->ctr[UDP_RX_DATAGRAMS]++;
		if (!tot) {
			rx->ctr[UDP_DROP_MALFORMED]++;
			continue;
		}
		/* A train is one sender and mostly one flow: remember the
		 * verdict for the last inner source. */
		src = get_ne32(d + IP4_SADDR);
		if (!have_last || src != last_src) {
			v = udp_peer_check_source(rx->peers, addr, port, src, rx->match_port);
			last_src = src;
			have_last = true;
		}
		if (v != UDP_SRC_OK) {
			rx->ctr[v == UDP_SRC_SPOOFED ? UDP_DROP_SPOOFED_SOURCE
						     : UDP_DROP_UNKNOWN_SENDER]++;
			continue;
		}
		if ((get_ne32(d + IP4_DADDR) & rx->local_mask) != rx->local_net) {
			rx->ctr[UDP_DROP_FOREIGN_DEST]++;
			continue;
		}
		if (!ttl_dec(d)) {
			rx->ctr[UDP_DROP_TTL]++;
			continue;
		}
		rx->ctr[UDP_RX_BYTES] += tot;
		gro_add(&rx->gro, d, (uint16_t)tot);
	}
}
