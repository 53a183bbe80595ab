/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_DATAPATH_UDP_PROXY_H
#define WEFT_DATAPATH_UDP_PROXY_H

/*
 * The udp backend's data path: a TUN device and a UDP socket joined by two
 * threads, TX (TUN -> socket) and RX (socket -> TUN). Each thread drains its
 * input in batches until it would block, then polls; it allocates nothing
 * after start, takes no lock, and logs nothing (counters instead).
 *
 * Peer changes arrive as whole new tables (udp_proxy_set_peers, see
 * peers.h); the threads switch at their next batch and the old table is
 * freed once both have moved on (udp_proxy_reclaim, from the control loop).
 *
 * Kernel features are probed when the TUN and the socket are opened; every
 * one has a fallback, down to flannel's plain path (one packet per
 * syscall, no offloads):
 *
 *   vnet      TUN with IFF_VNET_HDR (needed by tso, uso and coalesce)
 *   tso       TUN hands over TCP super-packets (TUNSETOFFLOAD CSUM|TSO4|TSO_ECN),
 *             segmented here
 *   uso       ... and UDP ones (TUN_F_USO4|USO6, Linux 6.2)
 *   coalesce  consecutive TCP segments of a flow written as one GSO packet
 *   gso       UDP_SEGMENT: one send per run of datagrams to a peer (Linux 4.18)
 *   gro       UDP_GRO: trains of datagrams per receive (Linux >= 5.12 trusted)
 *   mmsg      sendmmsg/recvmmsg batches
 *   bigbuf    7 MB socket buffers (SO_*BUFFORCE as root)
 */
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath/udp_pkt.h"

struct udp_peer_table;
struct udp_proxy;

enum udp_feature {
	UDP_F_VNET = 1U << 0,
	UDP_F_TSO = 1U << 1,
	UDP_F_USO = 1U << 2,
	UDP_F_COALESCE = 1U << 3,
	UDP_F_GSO = 1U << 4,
	UDP_F_GRO = 1U << 5,
	UDP_F_MMSG = 1U << 6,
	UDP_F_BIGBUF = 1U << 7,
	UDP_F_ALL = (1U << 8) - 1,
};

/* "vnet tso ..." for the set bits, "none" when empty. */
const char *udp_features_format(unsigned features, char *buf, size_t len);
/* A comma- or space-separated list of feature names ("all" too). 0 or
 * -EINVAL (unknown name). */
int udp_features_parse(const char *list, unsigned *ret);

struct udp_tun {
	int fd;
	char name[IF_NAMESIZE];
	unsigned features; /* UDP_F_VNET/TSO/USO/COALESCE obtained */
};

/* Open a TUN (IFF_TUN|IFF_NO_PI, non-blocking) named after tmpl
 * ("flannel%d": the first free one), with as many of the wanted TUN
 * features as the kernel allows. 0 or -errno. */
int udp_tun_open(const char *tmpl, unsigned want, struct udp_tun *ret);

struct udp_sock {
	int fd;
	unsigned features;  /* UDP_F_GSO/GRO/MMSG/BIGBUF obtained */
	int sndbuf, rcvbuf; /* as the kernel reports them */
};

/* A UDP socket bound to addr:port (network order), with as many of the
 * wanted socket features as the kernel allows. 0 or -errno. */
int udp_sock_open(uint32_t addr, uint16_t port, unsigned want, struct udp_sock *ret);
/* The socket features of want (UDP_F_GSO/GRO/MMSG/BIGBUF) on a bound UDP
 * socket of either family, as far as the kernel allows; returns those set. */
unsigned udp_sock_setup(int fd, unsigned want);
/* The UDP_GRO segment size of a received message (0: one datagram). */
struct msghdr;
size_t udp_gro_size(struct msghdr *m);

struct udp_proxy_config {
	int tun_fd;
	int sock_fd;
	unsigned features;	/* of the TUN and the socket */
	uint32_t tun_addr;	/* network order */
	uint16_t port;		/* network order */
	unsigned gso_max_dgram; /* path MTU - 28 */
	uint32_t local_net;	/* network order: our subnet, the only inner */
	uint32_t local_mask;	/* destination delivered (see udp_rx) */
	bool match_port;	/* peers by address and port (see udp_rx) */
};

/* Start the threads (fds stay the caller's). 0 or -errno (then nothing is
 * left allocated). */
int udp_proxy_start(const struct udp_proxy_config *c, struct udp_proxy **ret);
/* Stop and join the threads, free everything. NULL is fine. */
void udp_proxy_stop(struct udp_proxy *p);

/* Make t (owned from here) the peer table. Control thread only. */
void udp_proxy_set_peers(struct udp_proxy *p, struct udp_peer_table *t);
/* Free tables no thread holds any more; returns how many wait still. */
size_t udp_proxy_reclaim(struct udp_proxy *p);

struct udp_proxy_stats {
	uint64_t c[UDP_COUNTERS]; /* both threads summed */
	unsigned features;	  /* active now (gso/mmsg may drop out at run time) */
	uint64_t peers_gen;	  /* current table generation */
	size_t peers;		  /* entries in it */
};

/* A snapshot, as of each thread's last finished batch. Control thread only
 * (it reads the current peer table, which only that thread frees). */
void udp_proxy_stats(struct udp_proxy *p, struct udp_proxy_stats *ret);

#endif
