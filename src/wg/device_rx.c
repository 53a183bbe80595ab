// SPDX-License-Identifier: Apache-2.0
/*
 * The rx thread: peers -> TUN. Each received message (a UDP GRO train of
 * equal-sized datagrams, or one) is split; data messages are opened in
 * place, checked against the replay window and cryptokey routing (the inner
 * source must be in the sending peer's allowed IPs) and queued for
 * coalescing; handshake and cookie messages are queued for the hs thread.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/clock.h"
#include "datapath/gso.h"
#include "datapath/pkt.h"
#include "wg/device_int.h"
#include "wg/device_rx.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define RX_MSGS 32

struct rx_thread {
	struct wg_rx rx;
	uint8_t *bufs;
	size_t n_msgs;
	bool gro;
	struct mmsghdr msgs[RX_MSGS];
	struct iovec iov[RX_MSGS];
	struct sockaddr_in6 names[RX_MSGS];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cmsg[RX_MSGS];
};

static int tun_write(void *arg, const struct iovec *iov, int iovcnt)
{
	struct wg_device *d = arg;
	ssize_t n;

	do {
		n = writev(d->tun.fd, iov, iovcnt);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

int wg_rx_init(struct wg_rx *rx, struct wg_device *d, uint64_t *ctr, wg_rx_write_cb *write,
	       void *arg)
{
	unsigned f = atomic_load(&d->features);

	memset(rx, 0, sizeof(*rx));
	rx->d = d;
	rx->ctr = ctr;
	rx->write = write;
	rx->arg = arg;
	rx->vnet = f & UDP_F_VNET;
	gro_init(&rx->gro, rx->vnet, f & UDP_F_COALESCE);
	return wg_aead_new(&rx->aead);
}

void wg_rx_destroy(struct wg_rx *rx)
{
	wg_aead_free(rx->aead);
	rx->aead = NULL;
}

/* The inner packet at pkt (plen bytes with padding): its real length, or
 * 0 when malformed; *family and *src set. */
static size_t inner_check(const uint8_t *pkt, size_t plen, int *family, const uint8_t **src)
{
	if (plen >= IP4_MIN_HLEN && (pkt[0] >> 4) == 4) {
		unsigned tot = ip4_check(pkt, plen);

		*family = AF_INET;
		*src = pkt + IP4_SADDR;
		return tot;
	}
	if (plen >= 40 && (pkt[0] >> 4) == 6) {
		size_t tot = 40 + (size_t)get_be16(pkt + 4);

		*family = AF_INET6;
		*src = pkt + 8;
		return tot <= plen ? tot : 0;
	}
	return 0;
}

static void rx_data(struct wg_rx *rx, const union wg_endpoint *from, uint8_t *dg, size_t len,
		    int64_t now)
{
	struct wg_device *d = rx->d;
	uint32_t idx = wg_get_le32(dg + 4);
	uint64_t counter = wg_get_le64(dg + 8);
	uint8_t key[WG_KEY_LEN], *pkt = dg + WG_DATA_HDR_LEN;
	size_t plen = len - WG_DATA_HDR_LEN - WG_TAG_LEN, tot;
	struct wg_session *s;
	const uint8_t *src;
	struct wg_peer *p;
	bool ok, kick = false;
	int family;

	p = idx == rx->last_idx ? rx->last_peer : wg_index_find(d, idx);
	if (!p) {
		rx->ctr[WG_DROP_UNKNOWN_INDEX]++;
		return;
	}
	rx->last_idx = idx;
	rx->last_peer = p;
	pthread_mutex_lock(&p->mu);
	s = wg_session_find(p, idx);
	ok = s && wg_session_recv_ok(&d->k, s->birth_ms, now) &&
	     counter < WG_REJECT_AFTER_MESSAGES;
	if (ok)
		memcpy(key, s->kp.recv, WG_KEY_LEN);
	pthread_mutex_unlock(&p->mu);
	if (!ok) {
		rx->ctr[WG_DROP_UNKNOWN_INDEX]++;
		return;
	}
	ok = wg_aead_open(rx->aead, key, counter, NULL, 0, pkt, plen + WG_TAG_LEN, pkt) == 0;
	wg_wipe(key, sizeof(key));
	if (!ok) {
		rx->ctr[WG_DROP_BAD_AUTH]++;
		return;
	}
	pthread_mutex_lock(&p->mu);
	s = wg_session_find(p, idx);
	if (!s || !wg_replay_accept(&s->replay, counter)) {
		pthread_mutex_unlock(&p->mu);
		rx->ctr[WG_DROP_REPLAY]++;
		return;
	}
	if (s == &p->next_s) {
		/* The initiator used the session we answered: it is confirmed,
		 * and the current one becomes the previous. */
		wg_session_drop(d, &p->prev);
		p->prev = p->cur;
		p->cur = p->next_s;
		p->cur.confirmed = true;
		memset(&p->next_s, 0, sizeof(p->next_s));
		s = &p->cur;
		kick = p->staged_n > 0;
	}
	if (s == &p->cur && !p->lastminute &&
	    wg_session_rekey_on_recv(&d->k, s->kp.initiator, s->birth_ms, now)) {
		p->lastminute = true;
		p->want_init = true;
		kick = true;
	}
	if (!wg_endpoint_equal(&p->ep, from))
		p->ep = *from;
	wg_timers_any_authenticated_received(&p->timers, now);
	wg_timers_any_authenticated_traversal(&p->timers, now);
	if (plen)
		wg_timers_data_received(&p->timers, now);
	p->rx_bytes += len;
	pthread_mutex_unlock(&p->mu);
	if (kick)
		wg_hs_kick(d);
	if (!plen)
		return; /* a keepalive */
	tot = inner_check(pkt, plen, &family, &src);
	if (!tot) {
		rx->ctr[WG_DROP_MALFORMED]++;
		return;
	}
	if (wg_allowed_lookup(atomic_load(&d->allowed), family, src) != p) {
		rx->ctr[WG_DROP_SOURCE]++;
		return;
	}
	rx->ctr[WG_RX_PACKETS]++;
	rx->ctr[WG_RX_BYTES] += tot;
	if (family == AF_INET) {
		if (gro_room(&rx->gro) == 0)
			wg_rx_flush(rx);
		gro_add(&rx->gro, pkt, (uint16_t)tot);
		return;
	}
	/* IPv6: written alone, with an empty virtio header. */
	{
		static uint8_t vh[VNET_HDR_LEN]; /* never written */
		struct iovec iov[2] = {{vh, VNET_HDR_LEN}, {pkt, tot}};

		rx->ctr[WG_RX_TUN_WRITES]++;
		if (rx->write(rx->arg, rx->vnet ? iov : iov + 1, rx->vnet ? 2 : 1) < 0)
			rx->ctr[WG_DROP_TUN_WRITE_ERROR]++;
	}
}

void wg_rx_datagram(struct wg_rx *rx, const union wg_endpoint *from, uint8_t *dg, size_t len,
		    int64_t now)
{
	if (len < 4 || dg[1] || dg[2] || dg[3]) {
		rx->ctr[WG_DROP_MALFORMED]++;
		return;
	}
	switch (dg[0]) {
	case WG_MSG_DATA:
		if (len < WG_DATA_MIN_LEN) {
			rx->ctr[WG_DROP_MALFORMED]++;
			return;
		}
		rx_data(rx, from, dg, len, now);
		return;
	case WG_MSG_INIT:
	case WG_MSG_RESP:
	case WG_MSG_COOKIE:
		if (len != (dg[0] == WG_MSG_INIT	   ? WG_INIT_LEN
			    : dg[0] == WG_MSG_RESP ? WG_RESP_LEN
						   : WG_COOKIE_LEN)) {
			rx->ctr[WG_DROP_MALFORMED]++;
			return;
		}
		if (!wg_hs_enqueue(rx->d, dg, len, from))
			rx->ctr[WG_DROP_HS_QUEUE]++;
		return;
	default:
		rx->ctr[WG_DROP_MALFORMED]++;
	}
}

void wg_rx_message(struct wg_rx *rx, const union wg_endpoint *from, uint8_t *data, size_t len,
		   size_t seg, int64_t now)
{
	if (!seg || seg >= len) {
		wg_rx_datagram(rx, from, data, len, now);
		return;
	}
	rx->ctr[WG_RX_GRO_TRAINS]++;
	for (size_t off = 0; off < len; off += seg)
		wg_rx_datagram(rx, from, data + off, len - off < seg ? len - off : seg, now);
}

void wg_rx_flush(struct wg_rx *rx)
{
	struct gro_stats *s = &rx->gro.stats;
	uint64_t w = s->writes, c = s->coalesced, e = s->write_errors;

	gro_flush(&rx->gro, rx->write, rx->arg);
	/* The end of a batch: the cached peer may be freed once the reader
	 * announces its next quiescent state. */
	rx->last_idx = 0;
	rx->last_peer = NULL;
	rx->ctr[WG_RX_TUN_WRITES] += s->writes - w;
	rx->ctr[WG_RX_COALESCED] += s->coalesced - c;
	rx->ctr[WG_DROP_TUN_WRITE_ERROR] += s->write_errors - e;
}

/* ---- the thread ---- */

static void reset_msgs(struct rx_thread *rt)
{
	for (size_t i = 0; i < rt->n_msgs; i++) {
		struct msghdr *m = &rt->msgs[i].msg_hdr;

		m->msg_name = &rt->names[i];
		m->msg_namelen = sizeof(rt->names[i]);
		m->msg_iov = &rt->iov[i];
		m->msg_iovlen = 1;
		m->msg_control = rt->gro ? rt->cmsg[i].buf : NULL;
		m->msg_controllen = rt->gro ? sizeof(rt->cmsg[i].buf) : 0;
		m->msg_flags = 0;
		rt->iov[i].iov_base = rt->bufs + i * WG_IO_BUF;
		rt->iov[i].iov_len = WG_IO_BUF;
	}
}

void *wg_rx_main(void *arg)
{
	struct wg_device *d = arg;
	unsigned f = atomic_load(&d->features);
	struct rx_thread *rt = calloc(1, sizeof(*rt));
	int fd = d->sock_fd;

	if (!rt)
		return NULL;
	rt->gro = f & UDP_F_GRO;
	rt->n_msgs = f & UDP_F_MMSG ? RX_MSGS : 1;
	rt->bufs = malloc(rt->n_msgs * WG_IO_BUF);
	if (!rt->bufs || wg_rx_init(&rt->rx, d, d->rx.ctr, tun_write, d) < 0)
		goto out;
	while (!atomic_load_explicit(&d->stop, memory_order_relaxed)) {
		int64_t now;
		int n;

		reset_msgs(rt);
		n = recvmmsg(fd, rt->msgs, (unsigned)rt->n_msgs, MSG_DONTWAIT, NULL);
		if (n < 0) {
			bool error = errno != EAGAIN;

			if (errno == EINTR)
				continue;
			if (error)
				d->rx.ctr[WG_IO_ERRORS]++;
			if (!wg_thread_wait(d, &d->rx, WG_READER_RX, fd, error))
				break;
			continue;
		}
		d->rx.ctr[WG_RX_RECVS]++;
		qsbr_quiescent(&d->qsbr, WG_READER_RX);
		now = clock_now_ms();
		for (int i = 0; i < n; i++) {
			struct msghdr *m = &rt->msgs[i].msg_hdr;
			union wg_endpoint from;

			if (m->msg_flags & MSG_TRUNC) {
				d->rx.ctr[WG_DROP_MALFORMED]++;
				continue;
			}
			wg_endpoint_from_sock((struct sockaddr *)&rt->names[i], &from);
			wg_rx_message(&rt->rx, &from, rt->iov[i].iov_base, rt->msgs[i].msg_len,
				      rt->gro ? udp_gro_size(m) : 0, now);
		}
		wg_rx_flush(&rt->rx);
		wg_thread_publish(&d->rx);
	}
out:
	wg_thread_publish(&d->rx);
	qsbr_offline(&d->qsbr, WG_READER_RX);
	wg_rx_destroy(&rt->rx);
	free(rt->bufs);
	free(rt);
	return NULL;
}
