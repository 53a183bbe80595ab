// SPDX-License-Identifier: Apache-2.0
/*
 * The tx thread: TUN -> peers. One TUN read at a time: cryptokey routing on
 * the inner destination, a TSO super-packet cut into segments, each segment
 * sealed into its own data message in the batch's output area, and runs of
 * equal-sized messages to one endpoint merged into one UDP_SEGMENT send.
 * Without a session the segments are staged on the peer and the hs thread
 * is asked for a handshake.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "datapath/gso.h"
#include "datapath/pkt.h"
#include "datapath/udp_pkt.h"
#include "wg/device_int.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define TX_READS 16 /* TUN reads per batch */
#define TX_MSGS 256
/* Output of one read at most: 64 KB of payload plus, per segment, a header,
 * padding and a tag. */
#define TX_READ_OUT (65536 + GSO_MAX_SEGS * (WG_DATA_HDR_LEN + 15 + WG_TAG_LEN + GSO_MAX_HDR))
#define TX_OUT_BYTES (4 * TX_READ_OUT)
#define UDP_GSO_SEGS 64
#define UDP_GSO_BYTES 65507

struct tx_info {
	uint16_t seg;
	uint16_t n;
	uint32_t bytes;
	bool closed;
	const struct wg_peer *peer;
};

struct tx {
	struct wg_device *d;
	struct wg_thread *t;
	struct wg_aead *aead;
	bool vnet, gso, mmsg;
	uint8_t *in;
	uint8_t *out;
	size_t out_used;
	size_t n_msgs;
	struct mmsghdr msgs[TX_MSGS];
	struct iovec iov[TX_MSGS];
	struct sockaddr_in6 n6[TX_MSGS];
	struct sockaddr_in n4[TX_MSGS];
	union udp_gso_cmsg cmsg[TX_MSGS];
	struct tx_info info[TX_MSGS];
	uint8_t hdrs[GSO_MAX_SEGS * GSO_MAX_HDR];
	struct gso_seg segs[GSO_MAX_SEGS];
};

static void tx_flush(struct tx *tx)
{
	int fd = tx->d->sock_fd;
	size_t i = 0;

	for (size_t k = 0; k < tx->n_msgs; k++)
		udp_gso_cmsg(&tx->msgs[k].msg_hdr, &tx->cmsg[k], tx->info[k].seg, tx->info[k].n > 1);
	while (i < tx->n_msgs) {
		int r;

		if (tx->mmsg)
			r = sendmmsg(fd, tx->msgs + i, (unsigned)(tx->n_msgs - i), 0);
		else
			r = sendmsg(fd, &tx->msgs[i].msg_hdr, 0) < 0 ? -1 : 1;
		tx->t->ctr[WG_TX_SENDS]++;
		if (r > 0) {
			for (size_t k = i; k < i + (size_t)r; k++)
				if (tx->info[k].n > 1)
					tx->t->ctr[WG_TX_GSO_SENDS]++;
			i += (size_t)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		/* EIO: the egress device cannot do UDP GSO; single datagrams
		 * from the next batch on. */
		if (errno == EIO && tx->info[i].n > 1 && tx->gso) {
			tx->gso = false;
			atomic_fetch_and(&tx->d->features, ~(unsigned)UDP_F_GSO);
		}
		tx->t->ctr[WG_DROP_SEND_ERROR] += tx->info[i].n;
		i++;
	}
	tx->n_msgs = 0;
	tx->out_used = 0;
}

/* Queue the message of len bytes at buf (the end of the output area) to
 * ep, merged into the last message when it continues its run. */
static void tx_queue(struct tx *tx, const struct wg_peer *p, const union wg_endpoint *ep,
		     uint8_t *buf, size_t len)
{
	struct tx_info *last = tx->n_msgs ? &tx->info[tx->n_msgs - 1] : NULL;
	struct msghdr *m;
	socklen_t sl;

	if (last && tx->gso && last->peer == p && !last->closed && len <= last->seg &&
	    last->n < UDP_GSO_SEGS && last->bytes + len <= UDP_GSO_BYTES &&
	    (uint8_t *)tx->iov[tx->n_msgs - 1].iov_base + tx->iov[tx->n_msgs - 1].iov_len == buf) {
		tx->iov[tx->n_msgs - 1].iov_len += len;
		last->n++;
		last->bytes += (uint32_t)len;
		last->closed = len < last->seg;
		return;
	}
	if (tx->n_msgs == TX_MSGS)
		return; /* the caller flushes before this can happen */
	m = &tx->msgs[tx->n_msgs].msg_hdr;
	memset(m, 0, sizeof(*m));
	sl = wg_endpoint_to_sock(tx->d, ep, &tx->n6[tx->n_msgs], &tx->n4[tx->n_msgs]);
	if (!sl) {
		tx->t->ctr[WG_DROP_SEND_ERROR]++;
		return;
	}
	m->msg_name = tx->d->sock_family == AF_INET ? (void *)&tx->n4[tx->n_msgs]
						    : (void *)&tx->n6[tx->n_msgs];
	m->msg_namelen = sl;
	tx->iov[tx->n_msgs].iov_base = buf;
	tx->iov[tx->n_msgs].iov_len = len;
	m->msg_iov = &tx->iov[tx->n_msgs];
	m->msg_iovlen = 1;
	tx->info[tx->n_msgs] = (struct tx_info){
		.seg = (uint16_t)len, .n = 1, .bytes = (uint32_t)len, .peer = p};
	tx->n_msgs++;
}

/* Counters for n packets on p's current session: reserved, with its key,
 * or false (staging). Peer mu taken here. */
static bool reserve(struct wg_device *d, struct wg_peer *p, unsigned n, size_t wire_bytes,
		    int64_t now, uint64_t *ctr, uint8_t key[WG_KEY_LEN], uint32_t *remote,
		    union wg_endpoint *ep)
{
	bool ok;

	pthread_mutex_lock(&p->mu);
	ok = p->cur.valid && p->cur.confirmed && p->ep.sa.sa_family != AF_UNSPEC &&
	     wg_session_send_ok(&d->k, p->cur.birth_ms, p->cur.send_next + n, now);
	if (ok) {
		*ctr = p->cur.send_next;
		p->cur.send_next += n;
		memcpy(key, p->cur.kp.send, WG_KEY_LEN);
		*remote = p->cur.kp.remote_index;
		*ep = p->ep;
		if (wg_session_rekey_on_send(&d->k, p->cur.kp.initiator, p->cur.birth_ms, *ctr + n,
					     now))
			p->want_init = true;
		wg_timers_data_sent(&p->timers, now, (unsigned)(now % (WG_MAX_JITTER_MS + 1)));
		wg_timers_any_authenticated_sent(&p->timers, now);
		wg_timers_any_authenticated_traversal(&p->timers, now);
		p->tx_bytes += wire_bytes;
	} else {
		p->want_init = true;
	}
	pthread_mutex_unlock(&p->mu);
	return ok;
}

static void stage(struct tx *tx, struct wg_peer *p, const struct gso_seg *segs, int n,
		  const uint8_t *pkt, size_t len)
{
	uint8_t *tmp = tx->out + tx->out_used; /* scratch: room is kept for a whole read */

	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < (n ? n : 1); i++) {
		const uint8_t *s = pkt;
		size_t l = len;

		if (n) {
			memcpy(tmp, segs[i].hdr, segs[i].hdr_len);
			memcpy(tmp + segs[i].hdr_len, segs[i].payload, segs[i].len);
			s = tmp;
			l = segs[i].hdr_len + segs[i].len;
		}
		if (!wg_peer_stage(p, s, l))
			tx->t->ctr[WG_DROP_NO_SESSION]++;
	}
	p->want_init = true;
	pthread_mutex_unlock(&p->mu);
	wg_hs_kick(tx->d);
}

static void tx_read(struct tx *tx, uint8_t *buf, size_t len, int64_t now)
{
	const struct wg_allowed_table *at = atomic_load(&tx->d->allowed);
	struct vnet_hdr vh = {0};
	uint8_t key[WG_KEY_LEN];
	union wg_endpoint ep;
	struct wg_peer *p;
	uint8_t *pkt = buf;
	size_t wire = 0;
	uint32_t remote;
	uint64_t ctr;
	int n = 0, family;

	if (tx->vnet) {
		if (len < VNET_HDR_LEN) {
			tx->t->ctr[WG_DROP_MALFORMED]++;
			return;
		}
		vnet_hdr_get(buf, &vh);
		pkt += VNET_HDR_LEN;
		len -= VNET_HDR_LEN;
	}
	if (len >= IP4_MIN_HLEN && (pkt[0] >> 4) == 4) {
		unsigned tot = ip4_check(pkt, len);

		if (!tot)
			goto malformed;
		len = tot;
		family = AF_INET;
		p = wg_allowed_lookup(at, AF_INET, pkt + IP4_DADDR);
	} else if (len >= 40 && (pkt[0] >> 4) == 6) {
		size_t tot = 40 + (size_t)get_be16(pkt + 4);

		if (tot > len)
			goto malformed;
		len = tot;
		family = AF_INET6;
		p = wg_allowed_lookup(at, AF_INET6, pkt + 24);
	} else {
		goto malformed;
	}
	if (!p) {
		tx->t->ctr[WG_DROP_NO_PEER]++;
		return;
	}
	if ((vh.gso_type & (uint8_t)~VNET_GSO_ECN) != VNET_GSO_NONE) {
		if (family != AF_INET)
			goto malformed;
		n = gso_segment(pkt, len, vh.gso_type, vh.gso_size, tx->hdrs, tx->segs,
				GSO_MAX_SEGS);
		if (n <= 0)
			goto malformed;
		tx->t->ctr[WG_TX_SEGMENTED]++;
		for (int i = 0; i < n; i++)
			wire += WG_DATA_HDR_LEN + wg_padded(tx->segs[i].hdr_len + tx->segs[i].len) +
				WG_TAG_LEN;
	} else {
		if ((vh.flags & VNET_F_NEEDS_CSUM) &&
		    gso_complete_csum(pkt, len, vh.csum_start, vh.csum_offset) < 0)
			goto malformed;
		wire = WG_DATA_HDR_LEN + wg_padded(len) + WG_TAG_LEN;
	}
	if (!reserve(tx->d, p, n ? (unsigned)n : 1, wire, now, &ctr, key, &remote, &ep)) {
		stage(tx, p, tx->segs, n, pkt, len);
		return;
	}
	for (int i = 0; i < (n ? n : 1); i++) {
		uint8_t *m = tx->out + tx->out_used;
		size_t l = n ? tx->segs[i].hdr_len + tx->segs[i].len : len, pl = wg_padded(l);

		m[0] = WG_MSG_DATA;
		m[1] = m[2] = m[3] = 0;
		wg_put_le32(m + 4, remote);
		wg_put_le64(m + 8, ctr + (uint64_t)i);
		if (n) {
			memcpy(m + WG_DATA_HDR_LEN, tx->segs[i].hdr, tx->segs[i].hdr_len);
			memcpy(m + WG_DATA_HDR_LEN + tx->segs[i].hdr_len, tx->segs[i].payload,
			       tx->segs[i].len);
		} else {
			memcpy(m + WG_DATA_HDR_LEN, pkt, len);
		}
		memset(m + WG_DATA_HDR_LEN + l, 0, pl - l);
		if (wg_aead_seal(tx->aead, key, ctr + (uint64_t)i, NULL, 0, m + WG_DATA_HDR_LEN, pl,
				 m + WG_DATA_HDR_LEN) < 0) {
			tx->t->ctr[WG_DROP_SEND_ERROR]++;
			continue;
		}
		tx->out_used += WG_DATA_HDR_LEN + pl + WG_TAG_LEN;
		if (tx->n_msgs == TX_MSGS)
			tx_flush(tx);
		tx_queue(tx, p, &ep, m, WG_DATA_HDR_LEN + pl + WG_TAG_LEN);
		tx->t->ctr[WG_TX_PACKETS]++;
		tx->t->ctr[WG_TX_BYTES] += l;
	}
	wg_wipe(key, sizeof(key));
	return;
malformed:
	tx->t->ctr[WG_DROP_MALFORMED]++;
}

void *wg_tx_main(void *arg)
{
	struct wg_device *d = arg;
	unsigned f = atomic_load(&d->features);
	struct tx *tx = calloc(1, sizeof(*tx));
	int fd = d->tun.fd;

	if (!tx)
		return NULL;
	tx->d = d;
	tx->t = &d->tx;
	tx->vnet = f & UDP_F_VNET;
	tx->gso = f & UDP_F_GSO;
	tx->mmsg = f & UDP_F_MMSG;
	tx->in = malloc(WG_IO_BUF);
	tx->out = malloc(TX_OUT_BYTES);
	if (!tx->in || !tx->out || wg_aead_new(&tx->aead) < 0)
		goto out;
	while (!atomic_load_explicit(&d->stop, memory_order_relaxed)) {
		bool empty = false, error = false;
		int64_t now = clock_now_ms();

		qsbr_quiescent(&d->qsbr, WG_READER_TX);
		for (int i = 0; i < TX_READS; i++) {
			ssize_t n = read(fd, tx->in, WG_IO_BUF);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				error = errno != EAGAIN;
				if (error)
					tx->t->ctr[WG_IO_ERRORS]++;
				empty = true;
				break;
			}
			/* Room for a whole read's output, always. */
			if (tx->out_used + TX_READ_OUT > TX_OUT_BYTES)
				tx_flush(tx);
			tx_read(tx, tx->in, (size_t)n, now);
			if (!tx->mmsg)
				tx_flush(tx);
		}
		tx_flush(tx);
		if (empty && !wg_thread_wait(d, tx->t, WG_READER_TX, fd, error))
			break;
		if (!empty)
			wg_thread_publish(tx->t);
	}
out:
	wg_thread_publish(tx->t);
	qsbr_offline(&d->qsbr, WG_READER_TX);
	wg_aead_free(tx->aead);
	free(tx->in);
	free(tx->out);
	free(tx);
	return NULL;
}
