/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_DATAPATH_UDP_PKT_H
#define WEFT_DATAPATH_UDP_PKT_H

/*
 * What the udp data path does to packets, without any I/O (so that unit
 * tests and the fuzzer drive it directly):
 *
 *  TX  (TUN -> peers) udp_tx_add() takes one TUN read (a virtio_net_hdr
 *      first when the TUN has one), finds the peer, decrements the TTL,
 *      completes a partial checksum or segments a TSO/USO super-packet, and
 *      queues the datagrams into a batch of sendmmsg messages, merging runs
 *      of equal-sized datagrams to one peer into UDP_SEGMENT messages. No
 *      peer: an ICMP net-unreachable goes back into the TUN. udp_tx_flush()
 *      hands the batch to the sender callback.
 *
 *  RX  (peers -> TUN) udp_rx_add() takes one received message (a UDP GRO
 *      train of seg_size datagrams, or one datagram), checks the sender and
 *      each inner source against the peer table and each inner destination
 *      against our own subnet, decrements the TTL and queues the packets for
 *      coalescing; udp_rx_flush() writes them.
 *
 * Every datagram on the wire is one plain IPv4 packet with valid checksums
 * (flannel's format), whatever the TUN offloads.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "datapath/gso.h"
#include "datapath/icmp.h"

struct udp_peer_table;

enum udp_counter {
	UDP_TX_PACKETS, /* inner packets queued to peers (after segmentation) */
	UDP_TX_BYTES,
	UDP_TX_TUN_READS, /* TUN reads that returned a packet */
	UDP_TX_SENDS,	  /* send syscalls */
	UDP_TX_GSO_SENDS, /* messages sent with UDP_SEGMENT */
	UDP_TX_SEGMENTED, /* TSO/USO super-packets cut in userspace */
	UDP_RX_PACKETS,	  /* inner packets written to the TUN */
	UDP_RX_BYTES,
	UDP_RX_RECVS,	       /* receive syscalls that returned data */
	UDP_RX_DATAGRAMS,      /* datagrams received (GRO trains counted per datagram) */
	UDP_RX_GRO_TRAINS,     /* received messages holding more than one datagram */
	UDP_RX_TUN_WRITES,     /* TUN writes */
	UDP_RX_COALESCED,      /* TUN writes carrying more than one TCP segment */
	UDP_RX_COALESCED_SEGS, /* segments in those */
	UDP_RX_CSUM_BAD,       /* segments not coalesced for a bad checksum (written as they are) */
	UDP_ICMP_SENT,	       /* net-unreachable messages written to the TUN */
	UDP_ICMP_RATELIMITED,
	UDP_IO_ERRORS,		 /* failed TUN reads and socket receives */
	UDP_DROP_NO_PEER,	 /* no peer owns the destination */
	UDP_DROP_TTL,		 /* TTL would reach zero */
	UDP_DROP_SPOOFED_SOURCE, /* inner source outside the sending peer's subnet */
	UDP_DROP_UNKNOWN_SENDER, /* datagram not from a peer's address (and port) */
	UDP_DROP_FOREIGN_DEST,	 /* inner destination outside our own subnet */
	UDP_DROP_MALFORMED,	 /* not a valid IPv4 packet, bad virtio header, truncated */
	UDP_DROP_NOT_IPV4,	 /* TUN handed us something else (IPv6) */
	UDP_DROP_TUN_WRITE_ERROR,
	UDP_DROP_SEND_ERROR,
	UDP_COUNTERS
};

/* "tx_packets", ..., "drop_send_error". */
const char *udp_counter_name(enum udp_counter c);

/* Most segments in one UDP_SEGMENT send (wireguard-go's and old kernels'
 * UDP_MAX_SEGMENTS), and most payload bytes (one IPv4 datagram). */
#define UDP_GSO_MAX_SEGS 64
#define UDP_GSO_MAX_BYTES 65507

#define UDP_TX_MAX_MSGS GSO_MAX_SEGS
#define UDP_TX_MAX_IOV (2 * GSO_MAX_SEGS)

/* A UDP_SEGMENT control message's room. */
union udp_gso_cmsg {
	char buf[CMSG_SPACE(sizeof(uint16_t))];
	struct cmsghdr align;
};

/* m's control message: UDP_SEGMENT of seg_size in cm when gso, else none. */
void udp_gso_cmsg(struct msghdr *m, union udp_gso_cmsg *cm, uint16_t seg_size, bool gso);

struct udp_tx;
/* Send tx->msgs[0 .. tx->n_msgs); returns 0 (the sender counts its own
 * failures). */
typedef int udp_tx_send_cb(struct udp_tx *tx, void *arg);
/* Write one packet (iovec, virtio_net_hdr included when the TUN has one) to
 * the TUN; 0 or < 0. */
typedef int udp_tun_write_cb(void *arg, const struct iovec *iov, int iovcnt);

struct udp_tx_msg_info {
	uint16_t seg_size; /* size of each datagram but the last */
	uint16_t n_segs;
	uint32_t bytes;
	bool closed; /* a shorter datagram ended it */
};

struct udp_tx {
	/* set by the owner */
	bool vnet;		/* reads start with a virtio_net_hdr */
	bool gso;		/* UDP_SEGMENT may be used */
	unsigned gso_max_segs;	/* <= UDP_GSO_MAX_SEGS */
	unsigned gso_max_dgram; /* largest datagram sent with UDP_SEGMENT (path MTU - 28) */
	uint32_t tun_addr;	/* network order: ICMP source */
	uint16_t port;		/* network order: the peers' port */
	const struct udp_peer_table *peers;
	udp_tx_send_cb *send;
	udp_tun_write_cb *tun_write;
	void *arg;
	int64_t (*now_ms)(void); /* monotonic clock for the ICMP limit */
	uint64_t *ctr;		 /* UDP_COUNTERS counters */
	struct icmp_limit icmp;

	/* the batch */
	size_t n_msgs, n_iov, n_hdrs;
	struct mmsghdr msgs[UDP_TX_MAX_MSGS];
	struct udp_tx_msg_info info[UDP_TX_MAX_MSGS];
	struct sockaddr_in addrs[UDP_TX_MAX_MSGS];
	union udp_gso_cmsg cmsg[UDP_TX_MAX_MSGS];
	struct iovec iov[UDP_TX_MAX_IOV];
	uint8_t hdrs[GSO_MAX_SEGS * GSO_MAX_HDR];
	struct gso_seg segs[GSO_MAX_SEGS];
	uint8_t icmp_buf[VNET_HDR_LEN + ICMP_UNREACH_MAX];
};

/* Defaults (no batch, ICMP limit 100/s burst 20); the owner then sets the
 * fields above. */
void udp_tx_init(struct udp_tx *tx);
/* One TUN read of len bytes (buf is modified in place and must stay
 * untouched until the next flush). */
void udp_tx_add(struct udp_tx *tx, uint8_t *buf, size_t len);
/* Finish the batch (UDP_SEGMENT control messages) and hand it to send. */
void udp_tx_flush(struct udp_tx *tx);

struct udp_rx {
	/* set by the owner */
	uint16_t port; /* network order: the peers' port */
	bool match_port; /* a sender is a peer by address and port, not address alone */
	/* Network order: our subnet. Only packets to it are delivered, or a
	 * peer could relay through us to anywhere we route (and masquerade).
	 * udp_rx_init leaves a value that matches no address. */
	uint32_t local_net, local_mask;
	const struct udp_peer_table *peers;
	udp_tun_write_cb *tun_write;
	void *arg;
	uint64_t *ctr;
	struct gro gro;
};

/* vnet: TUN writes carry a virtio_net_hdr; coalesce: GSO writes allowed. */
void udp_rx_init(struct udp_rx *rx, bool vnet, bool coalesce);
/* One received message from addr:port (network order): len bytes of
 * datagrams of seg_size bytes each (the last may be shorter; 0 = one
 * datagram). data is modified in place and must stay untouched until the
 * next flush (a flush may happen inside when the batch is full). */
void udp_rx_add(struct udp_rx *rx, uint32_t addr, uint16_t port, uint8_t *data, size_t len,
		size_t seg_size);
void udp_rx_flush(struct udp_rx *rx);

#endif
