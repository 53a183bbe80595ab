// SPDX-License-Identifier: Apache-2.0
/*
 * The udp data path's packet processing on arbitrary bytes, no sockets:
 *
 *   byte 0 bits 0-1  0: a received message (datagram or UDP GRO train)
 *                    1: a TUN read with a virtio_net_hdr   2: without
 *                    3: a received message whose datagrams get their IPv4
 *                       and TCP/UDP checksums fixed first (reaches coalescing)
 *   byte 0 bit 2     UDP GSO on the send side / coalescing on the receive side
 *   bytes 1-2        receive: sender (bits 0-1 address, bit 2 port, bit 3
 *                    MatchPeerPort) and GRO segment size
 *
 * Everything that comes out is checked: each datagram on the wire is one
 * well-formed IPv4 packet with a valid header checksum (and valid L4
 * checksum when we segmented it), UDP_SEGMENT sends respect the kernel's
 * rules, ICMP messages are valid, every coalesced TUN write becomes a
 * packet with valid checksums once the kernel completes it, and every
 * received packet written to the TUN is for our own subnet, from the
 * sending peer's subnet.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/csum.h"
#include "datapath/gso.h"
#include "datapath/peers.h"
#include "datapath/pkt.h"
#include "datapath/udp_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct udp_tx tx;
static struct udp_rx rx;
static uint64_t ctr[UDP_COUNTERS];
static struct udp_peer_table *tbl;
static uint8_t buf[70000];
static uint8_t scratch[70000];
static bool segmented; /* current TX input is a GSO super-packet */
static bool receiving; /* the current input is a received message */
static uint32_t rx_from; /* its sender's address */

static bool ip_ok(const uint8_t *p, size_t len)
{
	return ip4_check(p, len) == len && csum_fold(csum_partial(p, ip4_hlen(p), 0)) == 0;
}

static bool l4_ok(const uint8_t *p, size_t len)
{
	unsigned hl = ip4_hlen(p);
	uint32_t s = csum_pseudo4(p + IP4_SADDR, p + IP4_DADDR, p[IP4_PROTO], (uint16_t)(len - hl));

	return csum_fold(csum_partial(p + hl, len - hl, s)) == 0;
}

static int check_send(struct udp_tx *t, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < t->n_msgs; i++) {
		struct msghdr *m = &t->msgs[i].msg_hdr;
		const struct sockaddr_in *to = m->msg_name;
		bool known = false;
		size_t len = 0, seg;

		for (size_t j = 0; j < m->msg_iovlen; j++) {
			if (len + m->msg_iov[j].iov_len > sizeof(scratch))
				abort();
			memcpy(scratch + len, m->msg_iov[j].iov_base, m->msg_iov[j].iov_len);
			len += m->msg_iov[j].iov_len;
		}
		for (size_t k = 0; k < tbl->n; k++)
			known |= tbl->by_net[k].addr == to->sin_addr.s_addr;
		if (!known || to->sin_port != htons(8285))
			abort();
		seg = len;
		if (m->msg_control) {
			uint16_t g;

			memcpy(&g, CMSG_DATA(CMSG_FIRSTHDR(m)), 2);
			seg = g;
			if (t->info[i].n_segs < 2 || t->info[i].n_segs > UDP_GSO_MAX_SEGS ||
			    len > UDP_GSO_MAX_BYTES || seg > t->gso_max_dgram)
				abort();
		}
		for (size_t off = 0; off < len; off += seg) {
			size_t dl = len - off < seg ? len - off : seg;
			const uint8_t *d = scratch + off;

			/* One IPv4 packet per datagram, to that peer's subnet. */
			if (ip4_check(d, dl) != dl)
				abort();
			const struct udp_peer *p = udp_peer_lookup(tbl, get_ne32(d + IP4_DADDR));

			if (!p || p->addr != to->sin_addr.s_addr)
				abort();
			if (segmented && (!ip_ok(d, dl) || !l4_ok(d, dl)))
				abort();
		}
	}
	return 0;
}

static int check_tun_write(void *arg, const struct iovec *iov, int iovcnt)
{
	struct vnet_hdr vh = { 0 };
	size_t len = 0, off = (size_t)(uintptr_t)arg;
	uint8_t *p;

	for (int j = 0; j < iovcnt; j++) {
		if (len + iov[j].iov_len > sizeof(scratch))
			abort();
		memcpy(scratch + len, iov[j].iov_base, iov[j].iov_len);
		len += iov[j].iov_len;
	}
	if (len < off)
		abort();
	if (off)
		vnet_hdr_get(scratch, &vh);
	p = scratch + off;
	len -= off;
	if (ip4_check(p, len) != len)
		abort();
	if (receiving) {
		const struct udp_peer *from = udp_peer_lookup(tbl, get_ne32(p + IP4_SADDR));

		if ((get_ne32(p + IP4_DADDR) & rx.local_mask) != rx.local_net || !from ||
		    from->addr != rx_from)
			abort();
	}
	if (p[IP4_PROTO] == IPPROTO_ICMP && p[20] == 3 && p[IP4_TTL] == 8 && vh.flags == 0 &&
	    !memcmp(p + IP4_SADDR, &tx.tun_addr, 4)) {
		/* our net-unreachable */
		if (!ip_ok(p, len) || csum_fold(csum_partial(p + 20, len - 20, 0)) != 0)
			abort();
	}
	if (vh.gso_type == VNET_GSO_TCPV4) {
		if (vh.flags != VNET_F_NEEDS_CSUM || !vh.gso_size || vh.csum_start != 20 ||
		    vh.csum_offset != 16 || len > 65535 || !ip_ok(p, len))
			abort();
		/* Coalesced from verified segments: valid once completed. */
		if (gso_complete_csum(p, len, vh.csum_start, vh.csum_offset) < 0 || !l4_ok(p, len))
			abort();
	} else if (vh.gso_type || vh.flags) {
		abort();
	}
	return 0;
}

static void setup(void)
{
	struct udp_peer_entry e[3];
	const char *nets[3] = { "10.244.2.0", "10.244.3.0", "10.245.0.0" };
	const char *pubs[3] = { "192.168.0.2", "192.168.0.3", "192.168.0.2" };

	for (int i = 0; i < 3; i++) {
		inet_pton(AF_INET, nets[i], &e[i].net);
		inet_pton(AF_INET, pubs[i], &e[i].addr);
		e[i].mask = htonl(i == 2 ? 0xffff0000u : 0xffffff00u);
		e[i].port = htons(8285);
	}
	tbl = udp_peer_table_new(e, 3, NULL);
}

/* Fix the IPv4 header and TCP/UDP checksums of every datagram in place. */
static void fix_checksums(uint8_t *d, size_t len, size_t seg)
{
	for (size_t off = 0; off < len; off += seg) {
		uint8_t *p = d + off;
		size_t dl = len - off < seg ? len - off : seg;
		unsigned tot = ip4_check(p, dl), hl;
		uint32_t s;

		if (!tot)
			continue;
		hl = ip4_hlen(p);
		put_ne16(p + IP4_CSUM, csum_ip4_header(p, hl));
		if (p[IP4_PROTO] == IPPROTO_TCP && tot >= hl + 20) {
			put_ne16(p + hl + TCP_CSUM, 0);
			s = csum_pseudo4(p + IP4_SADDR, p + IP4_DADDR, IPPROTO_TCP, (uint16_t)(tot - hl));
			put_ne16(p + hl + TCP_CSUM, csum_fold(csum_partial(p + hl, tot - hl, s)));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned mode, flag;

	if (!tbl)
		setup();
	if (size < 3 || size - 3 > sizeof(buf))
		return 0;
	mode = data[0] & 3;
	flag = data[0] & 4;
	memset(ctr, 0, sizeof(ctr));
	memcpy(buf, data + 3, size - 3);
	size -= 3;
	if (mode == 1 || mode == 2) {
		udp_tx_init(&tx);
		tx.vnet = mode == 1;
		tx.gso = flag;
		tx.gso_max_dgram = 1472;
		inet_pton(AF_INET, "10.244.1.0", &tx.tun_addr);
		tx.port = htons(8285);
		tx.peers = tbl;
		tx.send = check_send;
		tx.tun_write = check_tun_write;
		tx.arg = (void *)(uintptr_t)(tx.vnet ? VNET_HDR_LEN : 0);
		tx.ctr = ctr;
		receiving = false;
		segmented = tx.vnet && size >= VNET_HDR_LEN && (buf[1] & 0x7f) != VNET_GSO_NONE;
		udp_tx_add(&tx, buf, size);
		udp_tx_flush(&tx);
	} else {
		static const char *const from[4] = { "192.168.0.2", "192.168.0.3", "192.168.0.9",
						     "192.168.0.2" };
		uint32_t addr;
		uint16_t port = (data[1] & 4) ? htons(1) : htons(8285);
		size_t seg = (size_t)data[2] * 8;

		inet_pton(AF_INET, from[data[1] & 3], &addr);
		if (mode == 3)
			fix_checksums(buf, size, seg && seg <= size ? seg : size);
		udp_rx_init(&rx, true, flag);
		rx.port = htons(8285);
		rx.match_port = data[1] & 8;
		inet_pton(AF_INET, "10.244.1.0", &rx.local_net);
		rx.local_mask = htonl(0xffffff00u);
		rx.peers = tbl;
		receiving = true;
		rx_from = addr;
		rx.tun_write = check_tun_write;
		rx.arg = (void *)(uintptr_t)VNET_HDR_LEN;
		rx.ctr = ctr;
		udp_rx_add(&rx, addr, port, buf, size, seg);
		udp_rx_flush(&rx);
		/* Every datagram is accounted for exactly once. */
		if (ctr[UDP_RX_PACKETS] + ctr[UDP_DROP_MALFORMED] + ctr[UDP_DROP_TTL] +
			    ctr[UDP_DROP_SPOOFED_SOURCE] + ctr[UDP_DROP_UNKNOWN_SENDER] +
			    ctr[UDP_DROP_FOREIGN_DEST] !=
		    ctr[UDP_RX_DATAGRAMS])
			abort();
	}
	return 0;
}
