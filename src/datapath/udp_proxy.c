// SPDX-License-Identifier: Apache-2.0
#include "datapath/udp_proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "datapath/peers.h"

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define SOCK_BUF_BYTES (7 * 1024 * 1024)
#define TX_BUFS 32 /* TUN reads per batch */
#define RX_MSGS 32 /* messages per recvmmsg */
#define IO_BUF (VNET_HDR_LEN + 65536)

/* ---- features ---- */

static const char *const feature_names[] = {"vnet", "tso", "uso",  "coalesce",
					    "gso",  "gro", "mmsg", "bigbuf"};

const char *udp_features_format(unsigned features, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++) {
		int n;

		if (!(features & (1U << i)))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? " " : "", feature_names[i]);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	if (!off)
		snprintf(buf, len, "none");
	return buf;
}

int udp_features_parse(const char *list, unsigned *ret)
{
	unsigned f = 0;
	const char *p = list;

	while (p && *p) {
		size_t n = strcspn(p, ", ");
		bool found = false;

		if (n == 3 && !strncmp(p, "all", 3)) {
			f |= UDP_F_ALL;
			found = true;
		}
		for (unsigned i = 0; !found && i < sizeof(feature_names) / sizeof(feature_names[0]);
		     i++) {
			if (strlen(feature_names[i]) == n && !strncmp(p, feature_names[i], n)) {
				f |= 1U << i;
				found = true;
			}
		}
		if (n && !found)
			return -EINVAL;
		p += n;
		p += strspn(p, ", ");
	}
	*ret = f;
	return 0;
}

/* ---- setup ---- */

int udp_tun_open(const char *tmpl, unsigned want, struct udp_tun *ret)
{
	unsigned kfeat = 0, off;
	struct ifreq ifr;
	int fd, rc;

	memset(ret, 0, sizeof(*ret));
	ret->fd = -1;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, TUNGETFEATURES, &kfeat) < 0)
		kfeat = 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tmpl);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if ((want & UDP_F_VNET) && (kfeat & IFF_VNET_HDR))
		ifr.ifr_flags |= IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		if (!(ifr.ifr_flags & IFF_VNET_HDR))
			goto fail;
		ifr.ifr_flags &= (short)~IFF_VNET_HDR;
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tmpl);
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			rc = -errno;
			goto fail;
		}
	}
	/* TUNSETIFF fills in the name it chose (flannel%d -> flannel0). */
	snprintf(ret->name, sizeof(ret->name), "%s", ifr.ifr_name);
	if (ifr.ifr_flags & IFF_VNET_HDR) {
		int sz = VNET_HDR_LEN;

		if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
			rc = -errno;
			goto fail;
		}
		ret->features |= UDP_F_VNET;
		if (want & UDP_F_COALESCE)
			ret->features |= UDP_F_COALESCE;
		/* Most first; the kernel refuses a set it does not know whole. */
		off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN;
		if ((want & UDP_F_TSO) && (want & UDP_F_USO) &&
		    ioctl(fd, TUNSETOFFLOAD, off | TUN_F_USO4 | TUN_F_USO6) == 0)
			ret->features |= UDP_F_TSO | UDP_F_USO;
		else if ((want & UDP_F_TSO) && ioctl(fd, TUNSETOFFLOAD, off) == 0)
			ret->features |= UDP_F_TSO;
		else if ((want & UDP_F_USO) &&
			 ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6) == 0)
			ret->features |= UDP_F_USO;
	}
	ret->fd = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

static int buf_size(int fd, int opt)
{
	int v = 0;
	socklen_t l = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, opt, &v, &l) < 0 ? 0 : v;
}

unsigned udp_sock_setup(int fd, unsigned want)
{
	unsigned f = 0;
	socklen_t l;
	int v;

	if (want & UDP_F_BIGBUF) {
		v = SOCK_BUF_BYTES;
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) == 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == 0) {
			f |= UDP_F_BIGBUF;
		} else {
			/* Without CAP_NET_ADMIN: as much as [rw]mem_max allows. */
			(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
		}
	}
	/* Outer IPv4 packets as the kernel's tunnels send them (vxlan,
	 * WireGuard): without DF, at the interface's MTU, fragmented by a
	 * narrower hop on the way. A learned path MTU below the interface's
	 * would make every UDP_SEGMENT send of full-sized segments fail
	 * (EINVAL: segment larger than the path), and with DF a hop that drops
	 * ICMP would black-hole them. (IPv6 routers never fragment: IPv6 keeps
	 * the default, path MTU discovery.) */
	v = IP_PMTUDISC_INTERFACE;
	(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
	v = 0;
	if ((want & UDP_F_GSO) && setsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, sizeof(v)) == 0)
		f |= UDP_F_GSO;
	/* getsockopt(UDP_GRO) arrived with Linux 5.12, after UDP_GRO's fixes:
	 * wireguard-go trusts UDP_GRO only where it answers. */
	v = 1;
	l = sizeof(v);
	if ((want & UDP_F_GRO) && setsockopt(fd, SOL_UDP, UDP_GRO, &v, sizeof(v)) == 0) {
		if (getsockopt(fd, SOL_UDP, UDP_GRO, &v, &l) == 0 && v)
			f |= UDP_F_GRO;
		else
			v = 0, (void)setsockopt(fd, SOL_UDP, UDP_GRO, &v, sizeof(v));
	}
	if ((want & UDP_F_MMSG) && sendmmsg(fd, NULL, 0, 0) == 0 &&
	    recvmmsg(fd, NULL, 0, MSG_DONTWAIT, NULL) == 0)
		f |= UDP_F_MMSG;
	return f;
}

int udp_sock_open(uint32_t addr, uint16_t port, unsigned want, struct udp_sock *ret)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = port};
	int fd, rc;

	memset(ret, 0, sizeof(*ret));
	ret->fd = -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	sin.sin_addr.s_addr = addr;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	ret->features = udp_sock_setup(fd, want);
	ret->sndbuf = buf_size(fd, SO_SNDBUF);
	ret->rcvbuf = buf_size(fd, SO_RCVBUF);
	ret->fd = fd;
	return 0;
}

size_t udp_gro_size(struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int v;

			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return v > 0 ? (size_t)v : 0;
		}
	}
	return 0;
}

/* ---- threads ---- */

struct dp_thread {
	struct udp_proxy *p;
	unsigned reader; /* index in the peers' reader table */
	pthread_t tid;
	bool started;
	uint64_t ctr[UDP_COUNTERS];	    /* the thread's own */
	_Atomic uint64_t pub[UDP_COUNTERS]; /* published after each batch */
	_Atomic unsigned features;	    /* what is still active (gso/mmsg may fail) */
};

struct tx_thread {
	struct dp_thread t; /* first: tun_write() gets either thread */
	struct udp_tx tx;
	uint8_t *bufs;
	size_t n_bufs;
	bool mmsg;
};

struct rx_thread {
	struct dp_thread t; /* first */
	struct udp_rx rx;
	uint8_t *bufs;
	size_t n_msgs;
	bool gro;
	struct mmsghdr msgs[RX_MSGS];
	struct iovec iov[RX_MSGS];
	struct sockaddr_in names[RX_MSGS];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cmsg[RX_MSGS];
};

struct udp_proxy {
	struct udp_proxy_config cfg;
	struct udp_peers peers;
	int stop_fd; /* eventfd: readable once stopping */
	atomic_bool stop;
	struct tx_thread *tx;
	struct rx_thread *rx;
};

static void publish(struct dp_thread *t)
{
	for (int i = 0; i < UDP_COUNTERS; i++)
		atomic_store_explicit(&t->pub[i], t->ctr[i], memory_order_relaxed);
}

/* Wait until fd is readable or we stop; holds no peer table meanwhile.
 * After an I/O error (fd broken: the TUN deleted under us) wait 100 ms
 * instead, so that a dead fd cannot make the thread spin. */
static bool wait_readable(struct dp_thread *t, int fd, bool error)
{
	struct pollfd pfd[2] = {
		{.fd = t->p->stop_fd, .events = POLLIN},
		{.fd = fd, .events = POLLIN},
	};

	publish(t);
	udp_peers_offline(&t->p->peers, t->reader);
	while (poll(pfd, error ? 1 : 2, error ? 100 : -1) < 0)
		if (errno != EINTR)
			return false;
	return !(pfd[0].revents & POLLIN);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* arg: the calling thread (struct dp_thread is first in both kinds). */
static int tun_write(void *arg, const struct iovec *iov, int iovcnt)
{
	struct dp_thread *t = arg;
	ssize_t n;

	do {
		n = writev(t->p->cfg.tun_fd, iov, iovcnt);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static int tx_send(struct udp_tx *tx, void *arg)
{
	struct tx_thread *tt = arg;
	int fd = tt->t.p->cfg.sock_fd;
	size_t i = 0;

	while (i < tx->n_msgs) {
		int r;

		if (tt->mmsg) {
			r = sendmmsg(fd, tx->msgs + i, (unsigned)(tx->n_msgs - i), 0);
		} else {
			r = sendmsg(fd, &tx->msgs[i].msg_hdr, 0) < 0 ? -1 : 1;
		}
		tt->t.ctr[UDP_TX_SENDS]++;
		if (r > 0) {
			for (size_t k = i; k < i + (size_t)r; k++)
				if (tx->info[k].n_segs > 1)
					tt->t.ctr[UDP_TX_GSO_SENDS]++;
			i += (size_t)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == ENOSYS && tt->mmsg) {
			tt->mmsg = false;
			atomic_fetch_and(&tt->t.features, ~(unsigned)UDP_F_MMSG);
			continue;
		}
		/* EIO: the egress device cannot do UDP GSO (wireguard-go's
		 * signal); send single datagrams from the next batch on. */
		if (errno == EIO && tx->info[i].n_segs > 1 && tx->gso) {
			tx->gso = false;
			atomic_fetch_and(&tt->t.features, ~(unsigned)UDP_F_GSO);
		}
		tt->t.ctr[UDP_DROP_SEND_ERROR] += tx->info[i].n_segs;
		i++;
	}
	return 0;
}

static void *tx_main(void *arg)
{
	struct tx_thread *tt = arg;
	struct udp_proxy *p = tt->t.p;
	int fd = p->cfg.tun_fd;

	while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		bool empty = false, error = false;
		size_t i = 0;

		tt->tx.peers = udp_peers_enter(&p->peers, tt->t.reader);
		while (i < tt->n_bufs) {
			uint8_t *b = tt->bufs + i * IO_BUF;
			ssize_t n = read(fd, b, IO_BUF);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				error = errno != EAGAIN;
				if (error)
					tt->t.ctr[UDP_IO_ERRORS]++;
				empty = true;
				break;
			}
			udp_tx_add(&tt->tx, b, (size_t)n);
			if (!tt->mmsg)
				udp_tx_flush(&tt->tx);
			i++;
		}
		udp_tx_flush(&tt->tx);
		if (empty && !wait_readable(&tt->t, fd, error))
			break;
		if (!empty)
			publish(&tt->t);
	}
	publish(&tt->t);
	udp_peers_offline(&p->peers, tt->t.reader);
	return NULL;
}

static void rx_reset_msgs(struct rx_thread *rt, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct msghdr *m = &rt->msgs[i].msg_hdr;

		m->msg_name = &rt->names[i];
		m->msg_namelen = sizeof(rt->names[i]);
		m->msg_iov = &rt->iov[i];
		m->msg_iovlen = 1;
		m->msg_control = rt->gro ? rt->cmsg[i].buf : NULL;
		m->msg_controllen = rt->gro ? sizeof(rt->cmsg[i].buf) : 0;
		m->msg_flags = 0;
		rt->iov[i].iov_base = rt->bufs + i * IO_BUF;
		rt->iov[i].iov_len = IO_BUF;
	}
}

static void *rx_main(void *arg)
{
	struct rx_thread *rt = arg;
	struct udp_proxy *p = rt->t.p;
	int fd = p->cfg.sock_fd;

	while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		int n;

		rx_reset_msgs(rt, rt->n_msgs);
		if (rt->n_msgs > 1) {
			n = recvmmsg(fd, rt->msgs, (unsigned)rt->n_msgs, MSG_DONTWAIT, NULL);
		} else {
			ssize_t r = recvmsg(fd, &rt->msgs[0].msg_hdr, MSG_DONTWAIT);

			n = r < 0 ? -1 : 1;
			if (r >= 0)
				rt->msgs[0].msg_len = (unsigned)r;
		}
		if (n < 0) {
			bool error = errno != EAGAIN;

			if (errno == EINTR)
				continue;
			if (error)
				rt->t.ctr[UDP_IO_ERRORS]++;
			if (!wait_readable(&rt->t, fd, error))
				break;
			continue;
		}
		rt->t.ctr[UDP_RX_RECVS]++;
		rt->rx.peers = udp_peers_enter(&p->peers, rt->t.reader);
		for (int i = 0; i < n; i++) {
			struct msghdr *m = &rt->msgs[i].msg_hdr;
			const struct sockaddr_in *from = &rt->names[i];

			if ((m->msg_flags & MSG_TRUNC) || from->sin_family != AF_INET) {
				rt->t.ctr[UDP_DROP_MALFORMED]++;
				continue;
			}
			udp_rx_add(&rt->rx, from->sin_addr.s_addr, from->sin_port,
				   rt->iov[i].iov_base, rt->msgs[i].msg_len,
				   rt->gro ? udp_gro_size(m) : 0);
		}
		udp_rx_flush(&rt->rx);
		publish(&rt->t);
	}
	publish(&rt->t);
	udp_peers_offline(&p->peers, rt->t.reader);
	return NULL;
}

static int start_thread(struct dp_thread *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	/* Signals belong to the control loop's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = -pthread_create(&t->tid, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	t->started = rc == 0;
	return rc;
}

int udp_proxy_start(const struct udp_proxy_config *c, struct udp_proxy **ret)
{
	struct udp_proxy *p = xcalloc(1, sizeof(*p));
	struct tx_thread *tt;
	struct rx_thread *rt;
	int rc;

	p->cfg = *c;
	udp_peers_init(&p->peers, 2);
	atomic_init(&p->stop, false);
	p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->stop_fd < 0) {
		rc = -errno;
		goto fail;
	}

	tt = p->tx = xcalloc(1, sizeof(*tt));
	tt->t.p = p;
	tt->t.reader = 0;
	tt->mmsg = c->features & UDP_F_MMSG;
	tt->n_bufs = tt->mmsg ? TX_BUFS : 1;
	tt->bufs = xmalloc(tt->n_bufs * IO_BUF);
	udp_tx_init(&tt->tx);
	tt->tx.vnet = c->features & UDP_F_VNET;
	tt->tx.gso = c->features & UDP_F_GSO;
	tt->tx.gso_max_dgram = c->gso_max_dgram;
	tt->tx.tun_addr = c->tun_addr;
	tt->tx.port = c->port;
	tt->tx.send = tx_send;
	tt->tx.tun_write = tun_write;
	tt->tx.arg = tt;
	tt->tx.now_ms = mono_ms;
	tt->tx.ctr = tt->t.ctr;
	tt->tx.peers = atomic_load(&p->peers.cur);
	atomic_init(&tt->t.features, c->features);

	rt = p->rx = xcalloc(1, sizeof(*rt));
	rt->t.p = p;
	rt->t.reader = 1;
	rt->gro = c->features & UDP_F_GRO;
	rt->n_msgs = c->features & UDP_F_MMSG ? RX_MSGS : 1;
	rt->bufs = xmalloc(rt->n_msgs * IO_BUF);
	udp_rx_init(&rt->rx, c->features & UDP_F_VNET, c->features & UDP_F_COALESCE);
	rt->rx.port = c->port;
	rt->rx.match_port = c->match_port;
	rt->rx.local_net = c->local_net & c->local_mask;
	rt->rx.local_mask = c->local_mask;
	rt->rx.tun_write = tun_write;
	rt->rx.arg = &rt->t;
	rt->rx.ctr = rt->t.ctr;
	rt->rx.peers = atomic_load(&p->peers.cur);
	atomic_init(&rt->t.features, c->features);

	rc = start_thread(&tt->t, tx_main, tt);
	if (rc == 0)
		rc = start_thread(&rt->t, rx_main, rt);
	if (rc < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	udp_proxy_stop(p);
	return rc;
}

/* Also undoes a udp_proxy_start that failed part-way. */
void udp_proxy_stop(struct udp_proxy *p)
{
	uint64_t one = 1;

	if (!p)
		return;
	atomic_store(&p->stop, true);
	if (p->stop_fd >= 0 && write(p->stop_fd, &one, sizeof(one)) < 0) {
		/* An eventfd write only fails on overflow: it is readable. */
	}
	if (p->tx && p->tx->t.started)
		pthread_join(p->tx->t.tid, NULL);
	if (p->rx && p->rx->t.started)
		pthread_join(p->rx->t.tid, NULL);
	if (p->tx) {
		free(p->tx->bufs);
		free(p->tx);
	}
	if (p->rx) {
		free(p->rx->bufs);
		free(p->rx);
	}
	udp_peers_destroy(&p->peers);
	if (p->stop_fd >= 0)
		close(p->stop_fd);
	free(p);
}

void udp_proxy_set_peers(struct udp_proxy *p, struct udp_peer_table *t)
{
	udp_peers_publish(&p->peers, t);
}

size_t udp_proxy_reclaim(struct udp_proxy *p)
{
	return udp_peers_reclaim(&p->peers);
}

void udp_proxy_stats(struct udp_proxy *p, struct udp_proxy_stats *ret)
{
	struct dp_thread *th[2] = {&p->tx->t, &p->rx->t};
	const struct udp_peer_table *t = atomic_load(&p->peers.cur);

	memset(ret, 0, sizeof(*ret));
	ret->features = UDP_F_ALL;
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < UDP_COUNTERS; i++)
			ret->c[i] += atomic_load_explicit(&th[k]->pub[i], memory_order_relaxed);
		ret->features &= atomic_load(&th[k]->features);
	}
	/* Only the control thread frees tables, and it is the caller. */
	ret->peers_gen = t->gen;
	ret->peers = t->n;
}
