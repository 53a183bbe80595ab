/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_WG_DEVICE_H
#define WEFT_WG_DEVICE_H

/*
 * weft's userspace WireGuard: one device, a TUN and a UDP socket (IPv6 with
 * IPv4-mapped addresses, or IPv4 only where IPv6 is off), moved by three
 * threads:
 *
 *   tx  TUN -> peers: cryptokey routing on the inner destination, TSO
 *       super-packets cut into segments (datapath/gso.h), each sealed into
 *       its own data message, runs of equal-sized messages to one endpoint
 *       sent with one UDP_SEGMENT send.
 *   rx  peers -> TUN: UDP_GRO trains split, data messages opened in place,
 *       replay window and cryptokey check on the inner source, TCP segments
 *       coalesced back into one GSO write (datapath/gso.h). Handshake and
 *       cookie messages go to the hs thread through a bounded queue.
 *   hs  handshakes (macs, cookies under load, Noise), the protocol's timers
 *       (retransmit, keepalive, rekey, key expiry), packets staged while a
 *       session is being made.
 *
 * No thread allocates per packet. Configuration (wg_device_set/get, the
 * same change/state shape as the cross-platform protocol and the kernel)
 * may be called from any one control thread at any time.
 */
#include <stdbool.h>
#include <stdint.h>

#include "wg/config.h"
#include "wg/timers.h"

struct err;
struct wg_device;

struct wg_device_params {
	const char *ifname;  /* the TUN's name: created, or attached when it exists */
	unsigned features;   /* UDP_F_* wanted (datapath/udp_proxy.h) */
	bool persist;	     /* leave the TUN in place when the device closes */
	const struct wg_timer_consts *timers; /* NULL: the protocol's */
	/* Tests and the fuzzer: no TUN, no socket, no threads; what the device
	 * would send goes to test_send (see device_rx.h for driving it). */
	bool detached;
	void (*test_send)(void *arg, const uint8_t *buf, size_t len, const union wg_endpoint *to);
	void *test_arg;
};

/* Open the TUN and start the threads (no key, no port, no peers yet). 0 or
 * -errno with err naming what failed. */
int wg_device_open(const struct wg_device_params *p, struct wg_device **ret, struct err *err);
/* Stop the threads, close the socket and the TUN, wipe keys. A persistent
 * TUN stays (with its addresses and routes) unless remove. NULL is fine. */
void wg_device_close(struct wg_device *d, bool remove);

/* Apply a change (as a set). -EINVAL/-EADDRINUSE... with err. */
int wg_device_set(struct wg_device *d, const struct wg_device_config *change, struct err *err);
/* The current state, keys and counters included (caller clears it). */
void wg_device_get(struct wg_device *d, struct wg_device_config *ret);

const char *wg_device_name(const struct wg_device *d);
int wg_device_ifindex(const struct wg_device *d);

enum wg_counter {
	WG_TX_PACKETS,	 /* inner packets sealed and sent */
	WG_TX_BYTES,	 /* inner bytes */
	WG_RX_PACKETS,	 /* inner packets opened and written */
	WG_RX_BYTES,
	WG_TX_SENDS,	 /* send syscalls */
	WG_TX_GSO_SENDS, /* ... with UDP_SEGMENT */
	WG_TX_SEGMENTED, /* TSO super-packets cut here */
	WG_RX_RECVS,
	WG_RX_GRO_TRAINS,
	WG_RX_TUN_WRITES,
	WG_RX_COALESCED,
	WG_HANDSHAKE_SENT,     /* initiations and responses */
	WG_HANDSHAKE_RECEIVED, /* valid ones */
	WG_HANDSHAKE_DONE,     /* sessions made */
	WG_COOKIE_SENT,	       /* cookie replies (under load) */
	WG_KEEPALIVE_SENT,
	WG_DROP_NO_PEER,       /* no peer's allowed IPs hold the destination */
	WG_DROP_NO_SESSION,    /* staged packets dropped (queue full, handshake gave up) */
	WG_DROP_BAD_MAC,       /* handshake messages failing mac1 (or mac2 under load) */
	WG_DROP_BAD_HANDSHAKE, /* failing Noise: unknown key, replayed, forged */
	WG_DROP_UNKNOWN_INDEX, /* data for no current session */
	WG_DROP_BAD_AUTH,      /* data failing its tag */
	WG_DROP_REPLAY,	       /* data counter replayed or too old */
	WG_DROP_SOURCE,	       /* inner source not in the sending peer's allowed IPs */
	WG_DROP_MALFORMED,     /* not a WireGuard message, bad inner packet */
	WG_DROP_HS_QUEUE,      /* handshake queue full */
	WG_DROP_SEND_ERROR,
	WG_DROP_TUN_WRITE_ERROR,
	WG_IO_ERRORS,
	WG_COUNTERS
};

/* "tx_packets", ... as in the enum, lower case. */
const char *wg_counter_name(enum wg_counter c);

struct wg_device_stats {
	uint64_t c[WG_COUNTERS];
	unsigned features; /* UDP_F_* active */
	size_t peers;
	size_t sessions; /* peers with a current session */
};

void wg_device_stats(struct wg_device *d, struct wg_device_stats *ret);

#endif
