/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_DATAPATH_PEERS_H
#define WEFT_DATAPATH_PEERS_H

/*
 * The udp data path's peer table and how it changes under running threads.
 *
 * A table is immutable once built: peers sorted by subnet, so that a
 * destination address finds its peer by binary search (O(log n)), and the
 * peers' (public address, port) pairs sorted for the sender check. The
 * control side builds a new table for every change and publishes it; the
 * data-path threads pick up the current table at the top of each batch.
 *
 * Reclamation is quiescent-state based (QSBR, the simplest RCU): each reader
 * announces the newest generation it has seen at the top of each batch, or
 * that it holds nothing (before it blocks). A retired table is freed once
 * every reader has moved past its generation. Readers never take a lock or
 * write anything shared but their own announcement, once per batch.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Addresses, masks and ports are in network byte order, as in packets. */
struct udp_peer {
	uint32_t net;  /* subnet network address */
	uint32_t mask; /* subnet mask */
	uint32_t addr; /* public address */
	uint16_t port; /* UDP port */
};

struct udp_peer_table {
	uint64_t gen;
	size_t n;
	struct udp_peer *by_net; /* sorted by subnet */
	uint64_t *senders;	 /* (addr << 16 | port), host order, sorted, unique */
	size_t n_senders;
	struct udp_peer_table *retired_next;
};

struct udp_peer_entry {
	uint32_t net, mask, addr; /* network order */
	uint16_t port;		  /* network order */
};

/* Build a table of n entries (copied, any order). Entries whose subnet
 * overlaps an earlier one in address order are left out; *ret_dropped
 * (optional) counts them. Allocates (control side only). */
struct udp_peer_table *udp_peer_table_new(const struct udp_peer_entry *e, size_t n,
					  size_t *ret_dropped);
void udp_peer_table_free(struct udp_peer_table *t);

/* The peer whose subnet holds daddr (network order), or NULL. */
const struct udp_peer *udp_peer_lookup(const struct udp_peer_table *t, uint32_t daddr);

enum udp_src_verdict {
	UDP_SRC_OK,
	UDP_SRC_UNKNOWN_SENDER, /* the datagram is not from any peer's address (and port) */
	UDP_SRC_SPOOFED,	/* from a peer, but the inner source is not in its subnet */
};

/* Anti-spoofing: may a datagram from addr:port (network order) carry a packet
 * whose source is saddr? The sender is a peer by its address alone, or by
 * address and port with match_port (a NAT that rewrites source ports then
 * makes its datagrams unknown). */
enum udp_src_verdict udp_peer_check_source(const struct udp_peer_table *t, uint32_t addr,
					   uint16_t port, uint32_t saddr, bool match_port);

/* ---- publication and reclamation ---- */

#define UDP_PEERS_MAX_READERS 8
#define UDP_PEERS_OFFLINE UINT64_MAX

struct udp_peers_reader {
	_Atomic uint64_t seen; /* newest generation seen, or UDP_PEERS_OFFLINE */
	char pad[56];	       /* one cache line per reader */
};

struct udp_peers {
	_Atomic(struct udp_peer_table *) cur;
	_Atomic uint64_t gen; /* the generation of cur, published after it */
	struct udp_peers_reader readers[UDP_PEERS_MAX_READERS];
	unsigned n_readers;
	/* control side only */
	struct udp_peer_table *retired; /* newest first */
	uint64_t next_gen;
};

/* Starts with an empty table of generation 1; n_readers <= MAX_READERS, all
 * offline. */
void udp_peers_init(struct udp_peers *p, unsigned n_readers);
/* Frees the current and every retired table: readers must be gone. */
void udp_peers_destroy(struct udp_peers *p);

/* Control side: make t current (taking ownership; its gen is assigned here)
 * and retire the previous one. */
void udp_peers_publish(struct udp_peers *p, struct udp_peer_table *t);
/* Control side: free the retired tables no reader can hold any more. Returns
 * how many remain retired. */
size_t udp_peers_reclaim(struct udp_peers *p);

/* Reader r, at the top of a batch (holding no table): announce and return the
 * current table, valid until the reader's next enter or offline. */
const struct udp_peer_table *udp_peers_enter(struct udp_peers *p, unsigned r);
/* Reader r is about to block: it holds no table until its next enter. */
void udp_peers_offline(struct udp_peers *p, unsigned r);

#endif
