// SPDX-License-Identifier: Apache-2.0
/*
 * The userspace device's control side: opening the TUN and the socket,
 * applying configuration changes, reading the state back, the receiver
 * index table and the helpers the three threads share.
 */
#include "wg/device.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/container_of.h"
#include "core/err.h"
#include "core/xmalloc.h"
#include "wg/device_int.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

static const char *const counter_names[WG_COUNTERS] = {
	"tx_packets",	       "tx_bytes",	     "rx_packets",
	"rx_bytes",	       "tx_sends",	     "tx_gso_sends",
	"tx_segmented",	       "rx_recvs",	     "rx_gro_trains",
	"rx_tun_writes",       "rx_coalesced",	     "handshake_sent",
	"handshake_received",  "handshake_done",     "cookie_sent",
	"keepalive_sent",      "drop_no_peer",	     "drop_no_session",
	"drop_bad_mac",	       "drop_bad_handshake", "drop_unknown_index",
	"drop_bad_auth",       "drop_replay",	     "drop_source",
	"drop_malformed",      "drop_hs_queue",	     "drop_send_error",
	"drop_tun_write_error", "io_errors",
};

const char *wg_counter_name(enum wg_counter c)
{
	return (unsigned)c < WG_COUNTERS ? counter_names[c] : "?";
}

void wg_thread_publish(struct wg_thread *t)
{
	for (int i = 0; i < WG_COUNTERS; i++)
		atomic_store_explicit(&t->pub[i], t->ctr[i], memory_order_relaxed);
}

/* ---- endpoints ---- */

socklen_t wg_endpoint_to_sock(const struct wg_device *d, const union wg_endpoint *ep,
			      struct sockaddr_in6 *ret6, struct sockaddr_in *ret4)
{
	if (d->sock_family == AF_INET) {
		if (ep->sa.sa_family != AF_INET)
			return 0;
		*ret4 = ep->in4;
		return sizeof(*ret4);
	}
	if (ep->sa.sa_family == AF_INET6) {
		*ret6 = ep->in6;
		return sizeof(*ret6);
	}
	if (ep->sa.sa_family != AF_INET)
		return 0;
	memset(ret6, 0, sizeof(*ret6));
	ret6->sin6_family = AF_INET6;
	ret6->sin6_port = ep->in4.sin_port;
	ret6->sin6_addr.s6_addr[10] = 0xff;
	ret6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&ret6->sin6_addr.s6_addr[12], &ep->in4.sin_addr, 4);
	return sizeof(*ret6);
}

void wg_endpoint_from_sock(const struct sockaddr *sa, union wg_endpoint *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (sa->sa_family == AF_INET) {
		memcpy(&ret->in4, sa, sizeof(ret->in4));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			ret->in4.sin_family = AF_INET;
			ret->in4.sin_port = s6->sin6_port;
			memcpy(&ret->in4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			ret->in6 = *s6;
			ret->in6.sin6_flowinfo = 0;
		}
	}
}

bool wg_endpoint_equal(const union wg_endpoint *a, const union wg_endpoint *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in4.sin_port == b->in4.sin_port &&
		       a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return a->in6.sin6_port == b->in6.sin6_port &&
		       !memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) &&
		       a->in6.sin6_scope_id == b->in6.sin6_scope_id;
	return true;
}

int wg_send_to(struct wg_device *d, const void *buf, size_t len, const union wg_endpoint *ep)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	socklen_t sl = wg_endpoint_to_sock(d, ep, &s6, &s4);
	ssize_t n;

	if (d->detached && d->test_send && sl) {
		d->test_send(d->test_arg, buf, len, ep);
		return 0;
	}
	if (!sl || d->sock_fd < 0)
		return -EDESTADDRREQ;
	do {
		n = sendto(d->sock_fd, buf, len, 0,
			   d->sock_family == AF_INET ? (struct sockaddr *)&s4 : (struct sockaddr *)&s6,
			   sl);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

void wg_hs_kick(struct wg_device *d)
{
	uint64_t one = 1;

	if (d->hs_fd < 0)
		return;
	if (write(d->hs_fd, &one, sizeof(one)) < 0) {
		/* Only fails on overflow: it is readable then. */
	}
}

/* ---- receiver indexes: open addressing, linear probing ---- */

static size_t idx_slot(const struct wg_device *d, uint32_t idx)
{
	/* Indexes are random: their low bits are a fine hash. */
	return (size_t)(idx * 2654435761U) & (d->idx_cap - 1);
}

static void idx_insert(struct wg_device *d, uint32_t idx, struct wg_peer *p)
{
	size_t i = idx_slot(d, idx);

	while (d->idx[i].idx)
		i = (i + 1) & (d->idx_cap - 1);
	d->idx[i].idx = idx;
	d->idx[i].peer = p;
	d->idx_n++;
}

static void idx_grow(struct wg_device *d)
{
	struct wg_idx_slot *old = d->idx;
	size_t old_cap = d->idx_cap;

	d->idx_cap = old_cap ? old_cap * 2 : 64;
	d->idx = xcalloc(d->idx_cap, sizeof(*d->idx));
	d->idx_n = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].idx)
			idx_insert(d, old[i].idx, old[i].peer);
	free(old);
}

static struct wg_idx_slot *idx_lookup(struct wg_device *d, uint32_t idx)
{
	size_t i;

	if (!d->idx_cap || !idx)
		return NULL;
	for (i = idx_slot(d, idx); d->idx[i].idx; i = (i + 1) & (d->idx_cap - 1))
		if (d->idx[i].idx == idx)
			return &d->idx[i];
	return NULL;
}

uint32_t wg_index_new(struct wg_device *d, struct wg_peer *p)
{
	uint32_t idx = 0;

	pthread_mutex_lock(&d->idx_mu);
	if ((d->idx_n + 1) * 2 > d->idx_cap)
		idx_grow(d);
	do {
		if (wg_random(&idx, sizeof(idx)) < 0)
			idx = (uint32_t)rand() ^ (uint32_t)clock();
	} while (!idx || idx_lookup(d, idx));
	idx_insert(d, idx, p);
	pthread_mutex_unlock(&d->idx_mu);
	return idx;
}

void wg_index_del(struct wg_device *d, uint32_t idx)
{
	struct wg_idx_slot *s;
	size_t i, j;

	pthread_mutex_lock(&d->idx_mu);
	s = idx_lookup(d, idx);
	if (!s)
		goto out;
	/* Backward-shift deletion keeps every probe chain whole. */
	i = (size_t)(s - d->idx);
	d->idx[i].idx = 0;
	d->idx_n--;
	for (j = (i + 1) & (d->idx_cap - 1); d->idx[j].idx; j = (j + 1) & (d->idx_cap - 1)) {
		size_t home = idx_slot(d, d->idx[j].idx);

		/* Move j into the hole i when its home is not in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			d->idx[i] = d->idx[j];
			d->idx[j].idx = 0;
			i = j;
		}
	}
out:
	pthread_mutex_unlock(&d->idx_mu);
}

struct wg_peer *wg_index_find(struct wg_device *d, uint32_t idx)
{
	struct wg_idx_slot *s;
	struct wg_peer *p;

	pthread_mutex_lock(&d->idx_mu);
	s = idx_lookup(d, idx);
	p = s ? s->peer : NULL;
	pthread_mutex_unlock(&d->idx_mu);
	return p;
}

/* ---- sessions ---- */

void wg_session_drop(struct wg_device *d, struct wg_session *s)
{
	if (s->valid && s->kp.local_index)
		wg_index_del(d, s->kp.local_index);
	wg_wipe(s, sizeof(*s));
}

struct wg_session *wg_session_find(struct wg_peer *p, uint32_t idx)
{
	if (p->cur.valid && p->cur.kp.local_index == idx)
		return &p->cur;
	if (p->next_s.valid && p->next_s.kp.local_index == idx)
		return &p->next_s;
	if (p->prev.valid && p->prev.kp.local_index == idx)
		return &p->prev;
	return NULL;
}

size_t wg_peer_seal_one(struct wg_device *d, struct wg_aead *a, struct wg_peer *p,
			const uint8_t *pkt, size_t len, uint8_t *out, union wg_endpoint *ret_ep,
			int64_t now)
{
	uint8_t key[WG_KEY_LEN];
	size_t plen = wg_padded(len);
	uint32_t remote;
	uint64_t ctr;
	bool ok;

	pthread_mutex_lock(&p->mu);
	ok = p->cur.valid && p->cur.confirmed && p->ep.sa.sa_family != AF_UNSPEC &&
	     wg_session_send_ok(&d->k, p->cur.birth_ms, p->cur.send_next, now);
	if (ok) {
		ctr = p->cur.send_next++;
		memcpy(key, p->cur.kp.send, sizeof(key));
		remote = p->cur.kp.remote_index;
		*ret_ep = p->ep;
		if (wg_session_rekey_on_send(&d->k, p->cur.kp.initiator, p->cur.birth_ms, ctr, now))
			p->want_init = true;
		if (len)
			wg_timers_data_sent(&p->timers, now, (unsigned)(now % (WG_MAX_JITTER_MS + 1)));
		wg_timers_any_authenticated_sent(&p->timers, now);
		wg_timers_any_authenticated_traversal(&p->timers, now);
		p->tx_bytes += WG_DATA_HDR_LEN + plen + WG_TAG_LEN;
	}
	pthread_mutex_unlock(&p->mu);
	if (!ok)
		return 0;
	out[0] = WG_MSG_DATA;
	out[1] = out[2] = out[3] = 0;
	wg_put_le32(out + 4, remote);
	wg_put_le64(out + 8, ctr);
	if (len)
		memmove(out + WG_DATA_HDR_LEN, pkt, len);
	memset(out + WG_DATA_HDR_LEN + len, 0, plen - len);
	if (wg_aead_seal(a, key, ctr, NULL, 0, out + WG_DATA_HDR_LEN, plen,
			 out + WG_DATA_HDR_LEN) < 0)
		plen = SIZE_MAX;
	wg_wipe(key, sizeof(key));
	return plen == SIZE_MAX ? 0 : WG_DATA_HDR_LEN + plen + WG_TAG_LEN;
}

bool wg_peer_stage(struct wg_peer *p, const uint8_t *pkt, size_t len)
{
	unsigned slot;

	if (len > WG_STAGED_SLOT)
		return false;
	if (!p->staged)
		p->staged = malloc((size_t)WG_STAGED_MAX * WG_STAGED_SLOT);
	if (!p->staged)
		return false;
	if (p->staged_n == WG_STAGED_MAX) {
		/* Keep the newest, as the kernel does. */
		p->staged_head = (p->staged_head + 1) % WG_STAGED_MAX;
		p->staged_n--;
	}
	slot = (p->staged_head + p->staged_n) % WG_STAGED_MAX;
	memcpy(p->staged + (size_t)slot * WG_STAGED_SLOT, pkt, len);
	p->staged_len[slot] = (uint16_t)len;
	p->staged_n++;
	return true;
}

/* ---- socket ---- */

static int sock_open(uint16_t port, unsigned want, int *ret_fd, int *ret_family,
		     unsigned *ret_feat)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd, v, family = AF_INET6, rc;
	unsigned f;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd >= 0) {
		v = 0;
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v));
		if (bind(fd, (struct sockaddr *)&s6, sizeof(s6)) < 0) {
			rc = -errno;
			close(fd);
			return rc;
		}
	} else {
		/* IPv6 off in this kernel: IPv4 only. */
		family = AF_INET;
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
		if (fd < 0)
			return -errno;
		if (bind(fd, (struct sockaddr *)&s4, sizeof(s4)) < 0) {
			rc = -errno;
			close(fd);
			return rc;
		}
	}
	f = udp_sock_setup(fd, want);
	*ret_fd = fd;
	*ret_family = family;
	*ret_feat = f;
	return 0;
}

/* ---- threads ---- */

static int thread_start(struct wg_thread *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = -pthread_create(&t->tid, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	t->started = rc == 0;
	return rc;
}

static void threads_stop(struct wg_device *d)
{
	uint64_t v;

	if (!d->running)
		return;
	atomic_store(&d->stop, true);
	wg_hs_kick(d);
	v = 1;
	if (write(d->stop_fd, &v, sizeof(v)) < 0) {
		/* readable anyway */
	}
	if (d->tx.started)
		pthread_join(d->tx.tid, NULL);
	if (d->rx.started)
		pthread_join(d->rx.tid, NULL);
	if (d->hs.started)
		pthread_join(d->hs.tid, NULL);
	d->tx.started = d->rx.started = d->hs.started = false;
	/* Drain the stop event for a later start. */
	while (read(d->stop_fd, &v, sizeof(v)) > 0) {
	}
	atomic_store(&d->stop, false);
	d->running = false;
}

static int threads_start(struct wg_device *d)
{
	int rc;

	if (d->running || d->sock_fd < 0)
		return 0;
	d->running = true;
	rc = thread_start(&d->hs, wg_hs_main, d);
	if (rc == 0)
		rc = thread_start(&d->tx, wg_tx_main, d);
	if (rc == 0)
		rc = thread_start(&d->rx, wg_rx_main, d);
	if (rc < 0)
		threads_stop(d);
	return rc;
}

/* ---- open, close ---- */

int wg_device_open(const struct wg_device_params *p, struct wg_device **ret, struct err *err)
{
	struct wg_device *d;
	int rc;

	rc = wg_crypto_load(err);
	if (rc < 0)
		return rc;
	d = xcalloc(1, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", p->ifname);
	d->persist = p->persist;
	d->want = p->features;
	d->sock_fd = -1;
	d->stop_fd = d->hs_fd = -1;
	d->tun.fd = -1;
	if (p->timers)
		d->k = *p->timers;
	else
		wg_timer_consts_default(&d->k);
	pthread_mutex_init(&d->mu, NULL);
	pthread_mutex_init(&d->idx_mu, NULL);
	pthread_mutex_init(&d->q_mu, NULL);
	qsbr_init(&d->qsbr, 2);
	atomic_init(&d->stop, false);
	atomic_init(&d->allowed, wg_allowed_build(NULL, 0));
	d->q = xcalloc(WG_HSQ_MAX, sizeof(*d->q));
	wg_static_init(&d->st, NULL);
	wg_cookie_checker_init(&d->cc, &d->st);
	d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->hs_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->stop_fd < 0 || d->hs_fd < 0) {
		rc = err_set(err, -errno, "eventfd: %s", strerror(errno));
		goto fail;
	}
	d->detached = p->detached;
	d->test_send = p->test_send;
	d->test_arg = p->test_arg;
	if (d->detached) {
		d->sock_family = AF_INET6;
		*ret = d;
		return 0;
	}
	/* Only IPv4 super-packets are cut here (datapath/gso.h): no TSO6. */
	rc = udp_tun_open(d->name, d->want & (UDP_F_VNET | UDP_F_TSO | UDP_F_COALESCE), &d->tun);
	if (rc < 0) {
		err_set(err, rc, "cannot open TUN device %s: %s", d->name, strerror(-rc));
		goto fail;
	}
	if (d->persist && ioctl(d->tun.fd, TUNSETPERSIST, 1) < 0) {
		rc = err_set(err, -errno, "cannot make %s persistent: %s", d->name,
			     strerror(errno));
		goto fail;
	}
	d->ifindex = (int)if_nametoindex(d->name);
	atomic_init(&d->features, d->tun.features);
	*ret = d;
	return 0;
fail:
	wg_device_close(d, false);
	return rc;
}

static void peer_free_node(struct qsbr_node *n)
{
	struct wg_peer *p = container_of(n, struct wg_peer, qnode);

	pthread_mutex_destroy(&p->mu);
	free(p->allowed);
	free(p->staged);
	wg_wipe(p, sizeof(*p));
	free(p);
}

void wg_device_close(struct wg_device *d, bool remove)
{
	struct wg_peer *p, *next;

	if (!d)
		return;
	threads_stop(d);
	for (p = d->peers; p; p = next) {
		next = p->next;
		peer_free_node(&p->qnode);
	}
	qsbr_destroy(&d->qsbr);
	wg_allowed_free(atomic_load(&d->allowed));
	if (d->tun.fd >= 0) {
		if (!d->persist || remove)
			(void)ioctl(d->tun.fd, TUNSETPERSIST, 0);
		close(d->tun.fd);
	}
	if (d->sock_fd >= 0)
		close(d->sock_fd);
	if (d->stop_fd >= 0)
		close(d->stop_fd);
	if (d->hs_fd >= 0)
		close(d->hs_fd);
	free(d->idx);
	free(d->q);
	pthread_mutex_destroy(&d->mu);
	pthread_mutex_destroy(&d->idx_mu);
	pthread_mutex_destroy(&d->q_mu);
	wg_wipe(d, sizeof(*d));
	free(d);
}

const char *wg_device_name(const struct wg_device *d)
{
	return d->name;
}

int wg_device_ifindex(const struct wg_device *d)
{
	return d->ifindex;
}

/* ---- configuration ---- */

static struct wg_peer *peer_find(struct wg_device *d, const uint8_t pub[WG_KEY_LEN])
{
	for (struct wg_peer *p = d->peers; p; p = p->next)
		if (!memcmp(p->pub, pub, WG_KEY_LEN))
			return p;
	return NULL;
}

void wg_peer_forget(struct wg_device *d, struct wg_peer *p, bool staged)
{
	if (p->hs_index)
		wg_index_del(d, p->hs_index);
	p->hs_index = 0;
	wg_noise_peer_clear(&p->noise);
	pthread_mutex_lock(&p->mu);
	wg_session_drop(d, &p->cur);
	wg_session_drop(d, &p->prev);
	wg_session_drop(d, &p->next_s);
	if (staged)
		p->staged_n = 0;
	pthread_mutex_unlock(&p->mu);
}

bool wg_thread_wait(struct wg_device *d, struct wg_thread *t, unsigned reader, int fd, bool error)
{
	struct pollfd pfd[2] = {
		{.fd = d->stop_fd, .events = POLLIN},
		{.fd = fd, .events = POLLIN},
	};

	wg_thread_publish(t);
	qsbr_offline(&d->qsbr, reader);
	while (poll(pfd, error ? 1 : 2, error ? 100 : -1) < 0)
		if (errno != EINTR)
			return false;
	return !(pfd[0].revents & POLLIN);
}

static void publish_allowed(struct wg_device *d)
{
	struct wg_allowed_entry *e;
	struct wg_allowed_table *t, *old;
	size_t n = 0, k = 0;

	for (struct wg_peer *p = d->peers; p; p = p->next)
		n += p->n_allowed;
	e = xcalloc(n ? n : 1, sizeof(*e));
	/* The list is newest first and a later entry wins an equal prefix:
	 * fill from the end, so that the newest peer wins, as in wg. */
	k = n;
	for (struct wg_peer *p = d->peers; p; p = p->next)
		for (size_t i = p->n_allowed; i-- > 0;) {
			e[--k].ip = p->allowed[i];
			e[k].peer = p;
		}
	t = wg_allowed_build(e, n);
	free(e);
	old = atomic_exchange(&d->allowed, t);
	qsbr_retire(&d->qsbr, wg_allowed_node(old), wg_allowed_free_node);
	qsbr_reclaim(&d->qsbr);
}

static void peer_remove(struct wg_device *d, struct wg_peer *p)
{
	struct wg_peer **pp;

	for (pp = &d->peers; *pp && *pp != p; pp = &(*pp)->next) {
	}
	if (*pp)
		*pp = p->next;
	d->n_peers--;
	wg_peer_forget(d, p, true);
	pthread_mutex_lock(&p->mu);
	wg_timers_stop(&p->timers);
	pthread_mutex_unlock(&p->mu);
	p->n_allowed = 0;
	qsbr_retire(&d->qsbr, &p->qnode, peer_free_node);
}

static struct wg_peer *peer_add(struct wg_device *d, const uint8_t pub[WG_KEY_LEN])
{
	struct wg_peer *p = xcalloc(1, sizeof(*p));

	p->dev = d;
	memcpy(p->pub, pub, WG_KEY_LEN);
	pthread_mutex_init(&p->mu, NULL);
	wg_noise_peer_init(&p->noise, &d->st, pub, NULL);
	wg_timers_init(&p->timers, &d->k, 0);
	p->next = d->peers;
	d->peers = p;
	d->n_peers++;
	return p;
}

static bool allowed_valid(const struct wg_allowed_ip *a)
{
	return (a->family == AF_INET && a->cidr <= 32) || (a->family == AF_INET6 && a->cidr <= 128);
}

static int apply_peer(struct wg_device *d, const struct wg_peer_config *pc, bool *allowed_changed,
		      struct err *err)
{
	static const uint8_t zero[WG_KEY_LEN];
	struct wg_peer *p = peer_find(d, pc->pub);
	int64_t now = clock_now_ms();

	if (pc->flags & WG_PEER_REMOVE) {
		if (p) {
			peer_remove(d, p);
			*allowed_changed = true;
		}
		return 0;
	}
	if (!p && (pc->flags & WG_PEER_UPDATE_ONLY))
		return 0;
	for (size_t i = 0; i < pc->n_allowed; i++)
		if (!allowed_valid(&pc->allowed[i]))
			return err_set(err, -EINVAL, "allowed IP %zu of a peer is invalid", i);
	if (!p) {
		/* Our own public key is no peer (wg refuses it silently). */
		if (d->st.has_key && !memcmp(pc->pub, d->st.pub, WG_KEY_LEN))
			return 0;
		p = peer_add(d, pc->pub);
	}
	if (pc->flags & WG_PEER_HAS_PSK) {
		bool has = !wg_equal(pc->psk, zero, WG_KEY_LEN);

		if (has != p->has_psk || (has && !wg_equal(pc->psk, p->noise.psk, WG_KEY_LEN))) {
			wg_noise_peer_init(&p->noise, &d->st, p->pub, has ? pc->psk : NULL);
			p->has_psk = has;
		}
	}
	pthread_mutex_lock(&p->mu);
	if (pc->endpoint.sa.sa_family == AF_INET || pc->endpoint.sa.sa_family == AF_INET6) {
		/* Beyond wg: a peer with an endpoint and no session gets a
		 * handshake at once, so that a restarted device has its
		 * sessions back before the peers notice (they would wait for
		 * KEEPALIVE + REKEY_TIMEOUT). */
		if (!p->cur.valid && !p->ep.sa.sa_family)
			p->want_init = true;
		p->ep = pc->endpoint;
	}
	if (pc->flags & WG_PEER_HAS_KEEPALIVE) {
		p->keepalive_s = pc->keepalive_s;
		wg_timers_set_persistent(&p->timers, (uint32_t)pc->keepalive_s * 1000, now);
	}
	pthread_mutex_unlock(&p->mu);
	if (pc->flags & WG_PEER_REPLACE_ALLOWED_IPS) {
		p->n_allowed = 0;
		*allowed_changed = true;
	}
	if (pc->n_allowed) {
		p->allowed = xreallocarray(p->allowed, p->n_allowed + pc->n_allowed,
					   sizeof(*p->allowed));
		memcpy(p->allowed + p->n_allowed, pc->allowed, pc->n_allowed * sizeof(*pc->allowed));
		p->n_allowed += pc->n_allowed;
		*allowed_changed = true;
	}
	/* A new keepalive interval sends one at once, as wg does. */
	if ((pc->flags & WG_PEER_HAS_KEEPALIVE) && pc->keepalive_s) {
		pthread_mutex_lock(&p->mu);
		if (!p->cur.valid)
			p->want_init = true;
		pthread_mutex_unlock(&p->mu);
		wg_hs_kick(d);
	}
	return 0;
}

static int set_port(struct wg_device *d, uint16_t port, struct err *err)
{
	int fd = -1, family = AF_INET6, rc;
	unsigned f = 0;

	if (d->detached) {
		d->port = port;
		return 0;
	}
	if (d->sock_fd >= 0 && port == d->port && port)
		return 0;
	rc = sock_open(port, d->want, &fd, &family, &f);
	if (rc < 0)
		return err_set(err, rc, "cannot bind UDP port %u: %s", port, strerror(-rc));
	threads_stop(d);
	if (d->sock_fd >= 0)
		close(d->sock_fd);
	d->sock_fd = fd;
	d->sock_family = family;
	d->sock_features = f;
	if (!port) {
		struct sockaddr_in6 sa;
		socklen_t l = sizeof(sa);

		if (getsockname(fd, (struct sockaddr *)&sa, &l) == 0)
			port = ntohs(sa.sin6_port);
	}
	d->port = port;
	atomic_store(&d->features, d->tun.features | f);
	return threads_start(d);
}

static void set_private(struct wg_device *d, const uint8_t priv[WG_KEY_LEN])
{
	static const uint8_t zero[WG_KEY_LEN];
	bool none = wg_equal(priv, zero, WG_KEY_LEN);
	struct wg_peer *p, *next;

	if (none ? !d->st.has_key : (d->st.has_key && wg_equal(priv, d->st.priv, WG_KEY_LEN)))
		return;
	wg_static_init(&d->st, none ? NULL : priv);
	wg_cookie_checker_init(&d->cc, &d->st);
	for (p = d->peers; p; p = next) {
		next = p->next;
		/* A peer with our own public key cannot be one. */
		if (d->st.has_key && !memcmp(p->pub, d->st.pub, WG_KEY_LEN)) {
			peer_remove(d, p);
			continue;
		}
		wg_peer_forget(d, p, true);
		wg_noise_peer_init(&p->noise, &d->st, p->pub, p->has_psk ? p->noise.psk : NULL);
	}
}

int wg_device_set(struct wg_device *d, const struct wg_device_config *c, struct err *err)
{
	bool allowed_changed = false;
	int rc = 0;

	pthread_mutex_lock(&d->mu);
	if (c->flags & WG_DEV_HAS_PRIVATE)
		set_private(d, c->priv);
	if (c->flags & WG_DEV_REPLACE_PEERS) {
		while (d->peers)
			peer_remove(d, d->peers);
		allowed_changed = true;
	}
	for (size_t i = 0; rc == 0 && i < c->n_peers; i++)
		rc = apply_peer(d, &c->peers[i], &allowed_changed, err);
	if (allowed_changed)
		publish_allowed(d);
	pthread_mutex_unlock(&d->mu);
	if (rc == 0 && ((c->flags & WG_DEV_HAS_PORT) || (d->sock_fd < 0 && !d->detached)))
		rc = set_port(d, (c->flags & WG_DEV_HAS_PORT) ? c->port : d->port, err);
	wg_hs_kick(d);
	return rc;
}

void wg_device_get(struct wg_device *d, struct wg_device_config *ret)
{
	memset(ret, 0, sizeof(*ret));
	pthread_mutex_lock(&d->mu);
	if (d->st.has_key) {
		ret->flags |= WG_DEV_HAS_PRIVATE;
		memcpy(ret->priv, d->st.priv, WG_KEY_LEN);
		memcpy(ret->pub, d->st.pub, WG_KEY_LEN);
	}
	ret->flags |= WG_DEV_HAS_PORT;
	ret->port = d->port;
	/* Oldest first, as they were added. */
	size_t n = d->n_peers, k = n;
	if (n) {
		ret->peers = xcalloc(n, sizeof(*ret->peers));
		ret->n_peers = n;
	}
	for (struct wg_peer *p = d->peers; p && k; p = p->next) {
		struct wg_peer_config *pc = &ret->peers[--k];

		memcpy(pc->pub, p->pub, WG_KEY_LEN);
		if (p->has_psk) {
			pc->flags |= WG_PEER_HAS_PSK;
			memcpy(pc->psk, p->noise.psk, WG_KEY_LEN);
		}
		if (p->n_allowed) {
			pc->allowed = xcalloc(p->n_allowed, sizeof(*pc->allowed));
			memcpy(pc->allowed, p->allowed, p->n_allowed * sizeof(*p->allowed));
			pc->n_allowed = p->n_allowed;
		}
		pthread_mutex_lock(&p->mu);
		pc->endpoint = p->ep;
		pc->keepalive_s = p->keepalive_s;
		pc->flags |= WG_PEER_HAS_KEEPALIVE;
		pc->rx_bytes = p->rx_bytes;
		pc->tx_bytes = p->tx_bytes;
		pc->last_handshake_sec = p->last_hs_sec;
		pc->last_handshake_nsec = p->last_hs_nsec;
		pthread_mutex_unlock(&p->mu);
	}
	pthread_mutex_unlock(&d->mu);
}

void wg_device_stats(struct wg_device *d, struct wg_device_stats *ret)
{
	struct wg_thread *th[3] = {&d->tx, &d->rx, &d->hs};

	memset(ret, 0, sizeof(*ret));
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < WG_COUNTERS; i++)
			ret->c[i] += atomic_load_explicit(&th[k]->pub[i], memory_order_relaxed);
	ret->features = atomic_load(&d->features);
	pthread_mutex_lock(&d->mu);
	ret->peers = d->n_peers;
	for (struct wg_peer *p = d->peers; p; p = p->next) {
		pthread_mutex_lock(&p->mu);
		ret->sessions += p->cur.valid;
		pthread_mutex_unlock(&p->mu);
	}
	pthread_mutex_unlock(&d->mu);
}
