// SPDX-License-Identifier: Apache-2.0
/*
 * The hs thread: handshake and cookie messages (queued by the rx thread),
 * initiations asked for by the data path, the protocol's timers, and the
 * packets staged while a session was being made. It holds d->mu while it
 * works on peers, so that configuration changes never race a handshake.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/container_of.h"
#include "wg/device_int.h"
#include "wg/device_rx.h"

#define HS_MAX_SLEEP_MS 1000

struct hs {
	struct wg_device *d;
	uint64_t *ctr;
	struct wg_aead *aead;
	uint8_t buf[WG_DATA_HDR_LEN + WG_STAGED_SLOT + 16 + WG_TAG_LEN];
	uint8_t pkt[WG_STAGED_SLOT];
	struct wg_hs_msg m;
};

bool wg_hs_enqueue(struct wg_device *d, const uint8_t *msg, size_t len,
		   const union wg_endpoint *from)
{
	struct wg_hs_msg *m;
	bool was_empty;

	if (len > sizeof(m->data))
		return false;
	pthread_mutex_lock(&d->q_mu);
	if (d->q_n == WG_HSQ_MAX) {
		pthread_mutex_unlock(&d->q_mu);
		return false;
	}
	m = &d->q[(d->q_head + d->q_n) % WG_HSQ_MAX];
	memcpy(m->data, msg, len);
	m->len = (uint16_t)len;
	m->from = *from;
	was_empty = d->q_n++ == 0;
	pthread_mutex_unlock(&d->q_mu);
	if (was_empty)
		wg_hs_kick(d);
	return true;
}

/* The oldest queued message into *m; its depth before the pop, 0 = none. */
static size_t dequeue(struct wg_device *d, struct wg_hs_msg *m)
{
	size_t depth;

	pthread_mutex_lock(&d->q_mu);
	depth = d->q_n;
	if (depth) {
		*m = d->q[d->q_head];
		d->q_head = (d->q_head + 1) % WG_HSQ_MAX;
		d->q_n--;
	}
	pthread_mutex_unlock(&d->q_mu);
	return depth;
}

static unsigned jitter(void)
{
	uint16_t r = 0;

	(void)wg_random(&r, sizeof(r));
	return r % (WG_MAX_JITTER_MS + 1);
}

static void realtime(int64_t *sec, long *nsec)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	*sec = ts.tv_sec;
	*nsec = ts.tv_nsec;
}

/* The source address bytes and port as on the wire, for cookies. */
static size_t src_bytes(const union wg_endpoint *e, uint8_t out[18])
{
	if (e->sa.sa_family == AF_INET) {
		memcpy(out, &e->in4.sin_addr, 4);
		memcpy(out + 4, &e->in4.sin_port, 2);
		return 6;
	}
	memcpy(out, &e->in6.sin6_addr, 16);
	memcpy(out + 16, &e->in6.sin6_port, 2);
	return 18;
}

static struct wg_noise_peer *by_key(void *arg, const uint8_t pub[WG_KEY_LEN])
{
	struct wg_device *d = arg;

	for (struct wg_peer *p = d->peers; p; p = p->next)
		if (!memcmp(p->pub, pub, WG_KEY_LEN))
			return &p->noise;
	return NULL;
}

static struct wg_noise_peer *by_index(void *arg, uint32_t idx)
{
	struct wg_device *d = arg;
	struct wg_peer *p = wg_index_find(d, idx);

	return p && p->hs_index == idx ? &p->noise : NULL;
}

static void send_msg(struct hs *h, const void *msg, size_t len, const union wg_endpoint *ep)
{
	if (wg_send_to(h->d, msg, len, ep) < 0)
		h->ctr[WG_DROP_SEND_ERROR]++;
}

/* Send an initiation to p (d->mu held). A retry bypasses the rate limit of
 * one per REKEY_TIMEOUT. */
static void initiate(struct hs *h, struct wg_peer *p, int64_t now, bool retry)
{
	struct wg_device *d = h->d;
	uint8_t msg[WG_INIT_LEN], ts[WG_TIMESTAMP_LEN];
	union wg_endpoint ep;
	int64_t sec;
	long nsec;

	if (!d->st.has_key || !p->noise.ss_ok)
		return;
	pthread_mutex_lock(&p->mu);
	if (!retry)
		wg_timers_handshake_queued(&p->timers);
	ep = p->ep;
	pthread_mutex_unlock(&p->mu);
	if (!retry && p->last_init_sent_ms && now - p->last_init_sent_ms < d->k.rekey_timeout_ms)
		return;
	pthread_mutex_lock(&p->mu);
	pthread_mutex_unlock(&p->mu);
	if (ep.sa.sa_family == AF_UNSPEC)
		return;
	if (p->hs_index)
		wg_index_del(d, p->hs_index);
	p->hs_index = wg_index_new(d, p);
	realtime(&sec, &nsec);
	wg_tai64n(ts, sec, nsec);
	if (wg_noise_init_create(&d->st, &p->noise, p->hs_index, ts, now, msg) < 0) {
		wg_index_del(d, p->hs_index);
		p->hs_index = 0;
		return;
	}
	p->last_init_sent_ms = now;
	pthread_mutex_lock(&p->mu);
	wg_timers_handshake_initiated(&p->timers, now, jitter());
	wg_timers_any_authenticated_sent(&p->timers, now);
	wg_timers_any_authenticated_traversal(&p->timers, now);
	pthread_mutex_unlock(&p->mu);
	send_msg(h, msg, sizeof(msg), &ep);
	h->ctr[WG_HANDSHAKE_SENT]++;
}

/* Seal and send what p has staged, while it has a session. */
static void flush_staged(struct hs *h, struct wg_peer *p, int64_t now)
{
	for (;;) {
		union wg_endpoint ep;
		size_t len, n;

		pthread_mutex_lock(&p->mu);
		if (!p->staged_n || !p->cur.valid || !p->cur.confirmed) {
			pthread_mutex_unlock(&p->mu);
			return;
		}
		len = p->staged_len[p->staged_head];
		memcpy(h->pkt, p->staged + (size_t)p->staged_head * WG_STAGED_SLOT, len);
		p->staged_head = (p->staged_head + 1) % WG_STAGED_MAX;
		p->staged_n--;
		pthread_mutex_unlock(&p->mu);
		n = wg_peer_seal_one(h->d, h->aead, p, h->pkt, len, h->buf, &ep, now);
		if (!n) {
			h->ctr[WG_DROP_NO_SESSION]++;
			return;
		}
		send_msg(h, h->buf, n, &ep);
		h->ctr[WG_TX_PACKETS]++;
		h->ctr[WG_TX_BYTES] += len;
	}
}

static void keepalive(struct hs *h, struct wg_peer *p, int64_t now)
{
	union wg_endpoint ep;
	size_t n = wg_peer_seal_one(h->d, h->aead, p, NULL, 0, h->buf, &ep, now);

	if (!n) {
		pthread_mutex_lock(&p->mu);
		p->want_init = true;
		pthread_mutex_unlock(&p->mu);
		return;
	}
	send_msg(h, h->buf, n, &ep);
	h->ctr[WG_KEEPALIVE_SENT]++;
}

static void new_session(struct wg_session *s, const struct wg_keypair *kp, bool confirmed,
			int64_t now)
{
	memset(s, 0, sizeof(*s));
	s->valid = true;
	s->confirmed = confirmed;
	s->kp = *kp;
	s->birth_ms = now;
	wg_replay_init(&s->replay);
}

/* mac1/mac2 of a handshake message: true to go on. */
static bool macs_ok(struct hs *h, const struct wg_hs_msg *m, bool under_load, int64_t now)
{
	struct wg_device *d = h->d;
	uint8_t src[18], reply[WG_COOKIE_LEN];
	size_t sl = src_bytes(&m->from, src);

	switch (wg_cookie_check(&d->cc, m->data, m->len, src, sl, under_load, now)) {
	case WG_MAC_OK:
		return true;
	case WG_MAC_NEED_COOKIE:
		if (wg_cookie_reply_create(&d->cc, m->data, m->len, src, sl, now, reply) == 0) {
			send_msg(h, reply, sizeof(reply), &m->from);
			h->ctr[WG_COOKIE_SENT]++;
		}
		return false;
	default:
		h->ctr[WG_DROP_BAD_MAC]++;
		return false;
	}
}

static void on_init(struct hs *h, const struct wg_hs_msg *m, bool under_load, int64_t now)
{
	struct wg_device *d = h->d;
	uint8_t resp[WG_RESP_LEN];
	struct wg_noise_peer *np;
	struct wg_keypair kp;
	struct wg_peer *p;
	uint32_t idx;

	if (!macs_ok(h, m, under_load, now))
		return;
	if (wg_noise_init_consume(&d->st, m->data, by_key, d, &np) < 0) {
		h->ctr[WG_DROP_BAD_HANDSHAKE]++;
		return;
	}
	p = container_of(np, struct wg_peer, noise);
	/* At most INITIATIONS_PER_SECOND answered per peer. */
	if (p->last_init_consumed_ms &&
	    now - p->last_init_consumed_ms < 1000 / WG_INITIATIONS_PER_SECOND) {
		wg_noise_peer_clear(np);
		h->ctr[WG_DROP_BAD_HANDSHAKE]++;
		return;
	}
	p->last_init_consumed_ms = now;
	h->ctr[WG_HANDSHAKE_RECEIVED]++;
	/* Our initiation crossed theirs: each side answers the other and
	 * forgets its own, so neither response is taken and neither session
	 * is confirmed until a retry REKEY_TIMEOUT later (the kernel's way).
	 * Beyond wg, the side with the greater public key starts again
	 * shortly unless the peer has confirmed our answer by then. */
	if (p->hs_index && memcmp(d->st.pub, p->pub, WG_KEY_LEN) > 0) {
		p->crossed_ms = now;
		p->reinit_at_ms = now + WG_CROSSED_REINIT_MS;
	}
	if (p->hs_index)
		wg_index_del(d, p->hs_index);
	p->hs_index = 0;
	idx = wg_index_new(d, p);
	if (wg_noise_resp_create(&d->st, np, idx, now, resp) < 0 || wg_noise_derive(np, &kp) < 0) {
		wg_index_del(d, idx);
		h->ctr[WG_DROP_BAD_HANDSHAKE]++;
		return;
	}
	pthread_mutex_lock(&p->mu);
	wg_session_drop(d, &p->next_s);
	new_session(&p->next_s, &kp, false, now);
	p->ep = m->from;
	realtime(&p->last_hs_sec, &p->last_hs_nsec);
	wg_timers_session_derived(&p->timers, now);
	wg_timers_any_authenticated_received(&p->timers, now);
	wg_timers_any_authenticated_sent(&p->timers, now);
	wg_timers_any_authenticated_traversal(&p->timers, now);
	pthread_mutex_unlock(&p->mu);
	wg_wipe(&kp, sizeof(kp));
	send_msg(h, resp, sizeof(resp), &m->from);
	h->ctr[WG_HANDSHAKE_SENT]++;
	h->ctr[WG_HANDSHAKE_DONE]++;
}

static void on_resp(struct hs *h, const struct wg_hs_msg *m, bool under_load, int64_t now)
{
	struct wg_device *d = h->d;
	struct wg_noise_peer *np;
	struct wg_keypair kp;
	struct wg_peer *p;
	bool staged;

	if (!macs_ok(h, m, under_load, now))
		return;
	if (wg_noise_resp_consume(&d->st, m->data, by_index, d, &np) < 0 ||
	    wg_noise_derive(np, &kp) < 0) {
		h->ctr[WG_DROP_BAD_HANDSHAKE]++;
		return;
	}
	p = container_of(np, struct wg_peer, noise);
	p->hs_index = 0; /* the index now names the session */
	h->ctr[WG_HANDSHAKE_RECEIVED]++;
	h->ctr[WG_HANDSHAKE_DONE]++;
	pthread_mutex_lock(&p->mu);
	wg_session_drop(d, &p->prev);
	wg_session_drop(d, &p->next_s);
	p->prev = p->cur;
	new_session(&p->cur, &kp, true, now);
	p->ep = m->from;
	realtime(&p->last_hs_sec, &p->last_hs_nsec);
	wg_timers_handshake_complete(&p->timers, now);
	wg_timers_session_derived(&p->timers, now);
	p->lastminute = false;
	wg_timers_any_authenticated_received(&p->timers, now);
	wg_timers_any_authenticated_traversal(&p->timers, now);
	staged = p->staged_n > 0;
	pthread_mutex_unlock(&p->mu);
	wg_wipe(&kp, sizeof(kp));
	/* The responder may use the session only once it hears on it. */
	if (staged)
		flush_staged(h, p, now);
	else
		keepalive(h, p, now);
}

static void on_cookie(struct hs *h, const struct wg_hs_msg *m, int64_t now)
{
	struct wg_peer *p = wg_index_find(h->d, wg_get_le32(m->data + 4));

	if (!p || wg_cookie_reply_consume(&p->noise, m->data, now) < 0)
		h->ctr[WG_DROP_BAD_MAC]++;
}

/* Initiations asked for, timers, staged packets; returns the next deadline. */
static int64_t tick(struct hs *h, int64_t now)
{
	struct wg_device *d = h->d;
	int64_t next = now + HS_MAX_SLEEP_MS;

	for (struct wg_peer *p = d->peers; p; p = p->next) {
		unsigned act;
		bool want, staged;
		int64_t t;

		pthread_mutex_lock(&p->mu);
		want = p->want_init;
		p->want_init = false;
		act = wg_timers_expire(&p->timers, now, jitter());
		if (act & WG_TA_GIVE_UP) {
			h->ctr[WG_DROP_NO_SESSION] += p->staged_n;
			p->staged_n = 0;
		}
		pthread_mutex_unlock(&p->mu);
		if (act & WG_TA_ZERO_KEYS)
			wg_peer_forget(d, p, false);
		if (p->reinit_at_ms && now >= p->reinit_at_ms) {
			bool settled;

			p->reinit_at_ms = 0;
			pthread_mutex_lock(&p->mu);
			settled = p->cur.valid && p->cur.confirmed && p->cur.birth_ms >= p->crossed_ms;
			pthread_mutex_unlock(&p->mu);
			if (!settled)
				act |= WG_TA_SEND_INIT;
		}
		if (act & (WG_TA_SEND_INIT | WG_TA_NEW_HANDSHAKE))
			initiate(h, p, now, act & WG_TA_SEND_INIT);
		else if (want)
			initiate(h, p, now, false);
		if (act & WG_TA_SEND_KEEPALIVE)
			keepalive(h, p, now);
		pthread_mutex_lock(&p->mu);
		staged = p->staged_n && p->cur.valid && p->cur.confirmed;
		t = wg_timers_next(&p->timers);
		pthread_mutex_unlock(&p->mu);
		if (staged)
			flush_staged(h, p, now);
		if (t && t < next)
			next = t;
		if (p->reinit_at_ms && p->reinit_at_ms < next)
			next = p->reinit_at_ms;
	}
	return next;
}

/* Handshake messages queued, then initiations, timers, staged packets;
 * returns the next deadline. */
static int64_t hs_pass(struct hs *h, int64_t now)
{
	struct wg_device *d = h->d;
	size_t depth;
	int64_t next;

	pthread_mutex_lock(&d->mu);
	while ((depth = dequeue(d, &h->m))) {
		bool load = depth > WG_HSQ_LOAD;

		if (h->m.data[0] == WG_MSG_INIT)
			on_init(h, &h->m, load, now);
		else if (h->m.data[0] == WG_MSG_RESP)
			on_resp(h, &h->m, load, now);
		else
			on_cookie(h, &h->m, now);
	}
	next = tick(h, now);
	pthread_mutex_unlock(&d->mu);
	qsbr_reclaim(&d->qsbr);
	return next;
}

static struct hs *hs_new(struct wg_device *d)
{
	struct hs *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->d = d;
	h->ctr = d->hs.ctr;
	if (wg_aead_new(&h->aead) < 0) {
		free(h);
		return NULL;
	}
	return h;
}

static void hs_free(struct hs *h)
{
	wg_aead_free(h->aead);
	wg_wipe(h, sizeof(*h));
	free(h);
}

void wg_device_hs_run(struct wg_device *d, int64_t now)
{
	struct hs *h = hs_new(d);

	if (!h)
		return;
	hs_pass(h, now);
	wg_thread_publish(&d->hs);
	hs_free(h);
}

void *wg_hs_main(void *arg)
{
	struct wg_device *d = arg;
	struct hs *h = hs_new(d);

	if (!h)
		return NULL;
	while (!atomic_load_explicit(&d->stop, memory_order_relaxed)) {
		struct pollfd pfd[2] = {
			{.fd = d->stop_fd, .events = POLLIN},
			{.fd = d->hs_fd, .events = POLLIN},
		};
		int64_t next = hs_pass(h, clock_now_ms()), now;
		uint64_t v;

		wg_thread_publish(&d->hs);
		now = clock_now_ms();
		if (poll(pfd, 2, next > now ? (int)(next - now) : 0) > 0 && (pfd[1].revents & POLLIN))
			while (read(d->hs_fd, &v, sizeof(v)) > 0) {
			}
	}
	wg_thread_publish(&d->hs);
	hs_free(h);
	return NULL;
}
