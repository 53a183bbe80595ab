/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_DATAPATH_GSO_H
#define WEFT_DATAPATH_GSO_H

/*
 * Segmentation and coalescing of IPv4 TCP/UDP packets, for a TUN device
 * opened with IFF_VNET_HDR: pure functions over caller-owned memory, no
 * allocation, no I/O.
 *
 * TX: the TUN hands over TSO/USO "super-packets" (up to 64 KB, one set of
 * headers) described by a virtio_net_hdr; gso_segment() cuts them into
 * wire-sized packets with their own headers and full checksums, exactly as
 * the kernel's tcp4/udp4 GSO would. gso_complete_csum() finishes a
 * CHECKSUM_PARTIAL packet.
 *
 * RX: struct gro collects the packets of a receive batch and coalesces
 * consecutive TCP segments of one flow (the kernel's GRO rules) into one
 * super-packet per flow run; gro_flush() hands each result to a writer as an
 * iovec that references the receive buffers (headers patched in place).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* The 10-byte struct virtio_net_hdr, fields in host order (legacy TUN
 * without TUNSETVNETBE/LE on a little-endian host, or any host in practice:
 * virtio 1.0 is little-endian and so is every host weft targets). */
#define VNET_HDR_LEN 10
#define VNET_F_NEEDS_CSUM 1
#define VNET_F_DATA_VALID 2
#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_UDP 3
#define VNET_GSO_TCPV6 4
#define VNET_GSO_UDP_L4 5
#define VNET_GSO_ECN 0x80

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

void vnet_hdr_get(const uint8_t *p, struct vnet_hdr *ret);
void vnet_hdr_put(uint8_t *p, const struct vnet_hdr *h);

/* Room for one segment's headers (IPv4 + TCP, both with options). */
#define GSO_MAX_HDR 128
/* Most segments one super-packet may make: 64 KB at TCP's smallest MSS (48)
 * is 1366; anything beyond is refused as malformed. */
#define GSO_MAX_SEGS 2048

/* Valid IPv4 header at the start of len bytes, whose total length fits;
 * returns that total length (the packet without trailing padding), or 0. */
unsigned ip4_check(const uint8_t *pkt, size_t len);

/* Finish a CHECKSUM_PARTIAL packet: the 16-bit field at csum_start +
 * csum_offset holds the pseudo-header sum; sum from csum_start to the end and
 * store the checksum (0 is sent as 0xffff, as the kernel does). 0 or -EINVAL
 * when the offsets do not fit the packet. */
int gso_complete_csum(uint8_t *pkt, size_t len, unsigned csum_start, unsigned csum_offset);

struct gso_seg {
	const uint8_t *hdr; /* this segment's IP + L4 headers */
	unsigned hdr_len;
	const uint8_t *payload; /* slice of the super-packet */
	unsigned len;
};

/*
 * Cut an IPv4 super-packet (pkt, len: from the IP header; gso_type
 * VNET_GSO_TCPV4 or VNET_GSO_UDP_L4 with or without VNET_GSO_ECN; gso_size =
 * payload bytes per segment) into segments. Per segment: IPv4 total length,
 * ID + i, header checksum; TCP sequence number + i * gso_size, FIN and PSH
 * only on the last segment, CWR only on the first, full TCP checksum; UDP
 * length and full checksum. hdrs holds GSO_MAX_HDR bytes per segment.
 * Returns the number of segments (a packet not longer than one segment gives
 * one, with its checksum completed), -EINVAL when malformed, -E2BIG beyond
 * max_segs.
 */
int gso_segment(const uint8_t *pkt, size_t len, uint8_t gso_type, unsigned gso_size, uint8_t *hdrs,
		struct gso_seg *segs, size_t max_segs);

/* ---- receive-side coalescing ---- */

#define GRO_MAX_PKTS 4096 /* packets per batch (a 64 KB train of 20-byte packets fits) */
#define GRO_MAX_SEGS 64	  /* segments per coalesced packet */
#define GRO_SLOTS 64	  /* flow table of a batch (collisions only cost coalescing) */
#define GRO_MAX_IOV (GRO_MAX_SEGS + 1)

struct gro_pkt {
	uint8_t *data;
	uint16_t len;
	uint16_t plen; /* TCP payload length (coalescible packets) */
	uint32_t seq;  /* TCP sequence number */
	uint8_t thl;   /* TCP header length */
	bool can;      /* a candidate: TCP, no IP options, DF, ACK[|PSH], payload */
	bool verified; /* IP and TCP checksums checked and good */
	uint16_t next; /* next packet of the item, 0 = none (index + 1) */
};

struct gro_item {
	uint16_t head, tail; /* packet indices */
	uint16_t count;
	uint16_t gso_size; /* payload of the first segment */
	uint32_t next_seq;
	uint32_t total; /* IP total length once coalesced */
	bool closed;	/* takes no more segments (PSH, short one, ...) */
	bool psh;
};

struct gro_stats {
	uint64_t packets; /* packets handed to the writer (segments counted) */
	uint64_t bytes;
	uint64_t writes;    /* writer calls */
	uint64_t coalesced; /* writes that carried more than one segment */
	uint64_t coalesced_segs;
	uint64_t csum_bad;     /* candidates not coalesced for a bad checksum */
	uint64_t write_errors; /* packets of writes the writer failed */
};

struct gro {
	bool coalesce; /* false: every packet is written alone */
	bool vnet;     /* writes carry a virtio_net_hdr */
	size_t n_pkts, n_items;
	struct gro_pkt pkts[GRO_MAX_PKTS];
	struct gro_item items[GRO_MAX_PKTS];
	uint16_t slots[GRO_SLOTS]; /* item index + 1 of the flow's latest item */
	uint8_t vh[VNET_HDR_LEN];
	struct iovec iov[GRO_MAX_IOV + 1];
	struct gro_stats stats;
};

/* A writer returns 0, or < 0 when the write failed (counted). */
typedef int gro_write_cb(void *arg, const struct iovec *iov, int iovcnt);

void gro_init(struct gro *g, bool vnet, bool coalesce);
static inline size_t gro_room(const struct gro *g)
{
	return GRO_MAX_PKTS - g->n_pkts;
}
/* Queue one IPv4 packet (already validated by ip4_check, trimmed to its total
 * length). The memory must stay untouched until gro_flush. */
void gro_add(struct gro *g, uint8_t *pkt, uint16_t len);
/* Write everything queued, in arrival order per flow, and empty the batch. */
void gro_flush(struct gro *g, gro_write_cb *write, void *arg);

#endif
