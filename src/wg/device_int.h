/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_WG_DEVICE_INT_H
#define WEFT_WG_DEVICE_INT_H

/*
 * Internal to src/wg/device*.c: the device, its peers and the locks.
 *
 * Locks, always taken in this order: d->mu (configuration, the peer list,
 * our identity, every peer's handshake state: control and hs thread only),
 * then a peer's mu (its sessions, endpoint, timers, counters, staged
 * packets: all threads, held briefly, never across crypto), then d->idx_mu
 * (the receiver-index table). The data threads never take d->mu; they reach
 * peers through the allowed-IPs table and the index table, and a removed
 * peer is freed only after both have passed a quiescent state (core/qsbr.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/qsbr.h"
#include "datapath/udp_proxy.h"
#include "wg/allowed.h"
#include "wg/device.h"
#include "wg/noise.h"
#include "wg/replay.h"
#include "wg/timers.h"

#define WG_STAGED_MAX 16   /* packets held per peer while a session is made */
#define WG_STAGED_SLOT 9216 /* largest inner packet staged (jumbo MTU) */
#define WG_HSQ_MAX 1024	   /* handshake messages queued for the hs thread */
#define WG_HSQ_LOAD (WG_HSQ_MAX / 8) /* "under load" past this depth: cookies */
#define WG_INITIATIONS_PER_SECOND 50  /* per peer, as the kernel */
#define WG_CROSSED_REINIT_MS 50       /* > 1000 / WG_INITIATIONS_PER_SECOND */
#define WG_IO_BUF (VNET_HDR_LEN + 65536)
#define WG_READER_TX 0
#define WG_READER_RX 1

struct wg_session {
	bool valid;
	bool confirmed; /* may send: initiator at once, responder once data arrived */
	struct wg_keypair kp;
	int64_t birth_ms;
	uint64_t send_next;
	struct wg_replay replay;
};

struct wg_peer {
	struct qsbr_node qnode;
	struct wg_device *dev;
	struct wg_peer *next; /* d->peers (d->mu) */
	uint8_t pub[WG_KEY_LEN];
	bool has_psk;

	/* d->mu */
	struct wg_noise_peer noise;
	struct wg_allowed_ip *allowed;
	size_t n_allowed;
	int64_t last_init_sent_ms;
	int64_t last_init_consumed_ms;
	uint32_t hs_index; /* registered index of the handshake in progress, 0 = none */
	int64_t reinit_at_ms; /* a crossed handshake is redone then, 0 = none */
	int64_t crossed_ms;

	/* mu */
	pthread_mutex_t mu;
	struct wg_session cur, prev, next_s;
	union wg_endpoint ep;
	struct wg_timers timers;
	uint16_t keepalive_s;
	uint64_t rx_bytes, tx_bytes;
	int64_t last_hs_sec;
	long last_hs_nsec;
	bool want_init; /* asks the hs thread for an initiation */
	bool lastminute; /* the late rekey on receive was asked for (once per session) */
	uint8_t *staged; /* WG_STAGED_MAX slots, allocated on first use */
	uint16_t staged_len[WG_STAGED_MAX];
	unsigned staged_head, staged_n;
};

struct wg_hs_msg {
	uint8_t data[WG_INIT_LEN];
	uint16_t len;
	union wg_endpoint from;
};

struct wg_idx_slot {
	uint32_t idx; /* 0 = empty */
	struct wg_peer *peer;
};

struct wg_thread {
	pthread_t tid;
	bool started;
	uint64_t ctr[WG_COUNTERS];
	_Atomic uint64_t pub[WG_COUNTERS];
};

struct wg_device {
	char name[IF_NAMESIZE];
	int ifindex;
	bool persist;
	struct udp_tun tun;
	int sock_fd;	/* -1 until a port is set */
	int sock_family;
	unsigned sock_features;
	_Atomic unsigned features; /* active: gso may drop out */
	uint16_t port;
	unsigned want;
	struct wg_timer_consts k;

	pthread_mutex_t mu;
	struct wg_static st;
	struct wg_cookie_checker cc;
	struct wg_peer *peers;
	size_t n_peers;
	_Atomic(struct wg_allowed_table *) allowed;
	struct qsbr qsbr;

	pthread_mutex_t idx_mu;
	struct wg_idx_slot *idx;
	size_t idx_cap, idx_n;

	pthread_mutex_t q_mu;
	struct wg_hs_msg *q;
	size_t q_head, q_n;

	bool detached;
	void (*test_send)(void *arg, const uint8_t *buf, size_t len, const union wg_endpoint *to);
	void *test_arg;
	int stop_fd, hs_fd; /* eventfds */
	atomic_bool stop;
	bool running;
	struct wg_thread tx, rx, hs;
};

/* device.c */
void wg_thread_publish(struct wg_thread *t);
/* Register a fresh random receiver index for p (idx_mu taken here). */
uint32_t wg_index_new(struct wg_device *d, struct wg_peer *p);
void wg_index_del(struct wg_device *d, uint32_t idx);
struct wg_peer *wg_index_find(struct wg_device *d, uint32_t idx);
/* Sessions and the handshake in progress gone (and the staged packets when
 * staged); d->mu held. */
void wg_peer_forget(struct wg_device *d, struct wg_peer *p, bool staged);
/* A data-path thread about to block on fd (or, after an I/O error, to sleep
 * 100 ms): counters published, reader offline. False when stopping. */
bool wg_thread_wait(struct wg_device *d, struct wg_thread *t, unsigned reader, int fd, bool error);
/* Drop a session (its index unregistered); peer mu held. */
void wg_session_drop(struct wg_device *d, struct wg_session *s);
/* The session whose local index is idx, or NULL; peer mu held. */
struct wg_session *wg_session_find(struct wg_peer *p, uint32_t idx);
/* Send one datagram to ep; 0 or -errno. */
int wg_send_to(struct wg_device *d, const void *buf, size_t len, const union wg_endpoint *ep);
/* Wake the hs thread. */
void wg_hs_kick(struct wg_device *d);
/* Endpoint as the socket wants it (IPv4-mapped on an IPv6 socket). */
socklen_t wg_endpoint_to_sock(const struct wg_device *d, const union wg_endpoint *ep,
			      struct sockaddr_in6 *ret6, struct sockaddr_in *ret4);
/* The socket's address as an endpoint (mapped IPv4 unwrapped). */
void wg_endpoint_from_sock(const struct sockaddr *sa, union wg_endpoint *ret);
bool wg_endpoint_equal(const union wg_endpoint *a, const union wg_endpoint *b);

/* Seal one inner packet for p into out (WG_DATA_HDR_LEN + padded + tag);
 * returns the message length, or 0 when p has no usable session (the
 * caller stages the packet and asks for a handshake). Peer mu NOT held. */
size_t wg_peer_seal_one(struct wg_device *d, struct wg_aead *a, struct wg_peer *p,
			const uint8_t *pkt, size_t len, uint8_t *out, union wg_endpoint *ret_ep,
			int64_t now);
/* Padded plaintext length of an inner packet of len bytes. */
static inline size_t wg_padded(size_t len)
{
	return (len + 15) & ~(size_t)15;
}

/* device_tx.c, device_rx.c, device_hs.c: the thread bodies */
void *wg_tx_main(void *arg);
void *wg_rx_main(void *arg);
void *wg_hs_main(void *arg);
/* Queue a handshake message for the hs thread; false when full. */
bool wg_hs_enqueue(struct wg_device *d, const uint8_t *msg, size_t len,
		   const union wg_endpoint *from);
/* Stage pkt on p (peer mu held); false when full (dropped). */
bool wg_peer_stage(struct wg_peer *p, const uint8_t *pkt, size_t len);

#endif
