// SPDX-License-Identifier: Apache-2.0
#include "datapath/peers.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

static int cmp_net(const void *a, const void *b)
{
	uint32_t x = ntohl(((const struct udp_peer *)a)->net);
	uint32_t y = ntohl(((const struct udp_peer *)b)->net);

	return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t sender_key(uint32_t addr, uint16_t port)
{
	return (uint64_t)ntohl(addr) << 16 | ntohs(port);
}

struct udp_peer_table *udp_peer_table_new(const struct udp_peer_entry *e, size_t n,
					  size_t *ret_dropped)
{
	struct udp_peer_table *t = xcalloc(1, sizeof(*t));
	size_t kept = 0, dropped = 0;

	t->by_net = xcalloc(n + 1, sizeof(*t->by_net));
	t->senders = xcalloc(n + 1, sizeof(*t->senders));
	for (size_t i = 0; i < n; i++) {
		t->by_net[i].mask = e[i].mask;
		t->by_net[i].net = e[i].net & e[i].mask;
		t->by_net[i].addr = e[i].addr;
		t->by_net[i].port = e[i].port;
	}
	qsort(t->by_net, n, sizeof(*t->by_net), cmp_net);
	/* Sorted by start, a subnet overlaps an earlier one exactly when it
	 * starts inside the last one kept. */
	for (size_t i = 0; i < n; i++) {
		struct udp_peer *p = &t->by_net[i];

		if (kept && (p->net & t->by_net[kept - 1].mask) == t->by_net[kept - 1].net) {
			dropped++;
			continue;
		}
		if (kept && (t->by_net[kept - 1].net & p->mask) == p->net) {
			dropped++;
			continue;
		}
		t->by_net[kept++] = *p;
	}
	t->n = kept;
	for (size_t i = 0; i < kept; i++)
		t->senders[i] = sender_key(t->by_net[i].addr, t->by_net[i].port);
	qsort(t->senders, kept, sizeof(*t->senders), cmp_u64);
	for (size_t i = 0; i < kept; i++)
		if (!t->n_senders || t->senders[t->n_senders - 1] != t->senders[i])
			t->senders[t->n_senders++] = t->senders[i];
	if (ret_dropped)
		*ret_dropped = dropped;
	return t;
}

void udp_peer_table_free(struct udp_peer_table *t)
{
	if (!t)
		return;
	free(t->by_net);
	free(t->senders);
	free(t);
}

const struct udp_peer *udp_peer_lookup(const struct udp_peer_table *t, uint32_t daddr)
{
	uint32_t a = ntohl(daddr);
	size_t lo = 0, hi = t->n;

	/* The last subnet starting at or before a. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ntohl(t->by_net[mid].net) <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	return (daddr & t->by_net[lo - 1].mask) == t->by_net[lo - 1].net ? &t->by_net[lo - 1]
									 : NULL;
}

/* Keys sort by address first: without the port, any key in
 * [addr:0, addr:65535] is a match. */
static bool is_sender(const struct udp_peer_table *t, uint32_t addr, uint16_t port,
		      bool match_port)
{
	uint64_t lo = sender_key(addr, match_port ? port : 0);
	uint64_t hi = match_port ? lo : lo | 0xffff;
	size_t a = 0, b = t->n_senders;

	/* The first key >= lo. */
	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (t->senders[mid] < lo)
			a = mid + 1;
		else
			b = mid;
	}
	return a < t->n_senders && t->senders[a] <= hi;
}

enum udp_src_verdict udp_peer_check_source(const struct udp_peer_table *t, uint32_t addr,
					   uint16_t port, uint32_t saddr, bool match_port)
{
	const struct udp_peer *p = udp_peer_lookup(t, saddr);

	if (p && p->addr == addr && (!match_port || p->port == port))
		return UDP_SRC_OK;
	/* Several leases may share one public address: any of them is fine. */
	if (is_sender(t, addr, port, match_port))
		return UDP_SRC_SPOOFED;
	return UDP_SRC_UNKNOWN_SENDER;
}

/* ---- QSBR ---- */

void udp_peers_init(struct udp_peers *p, unsigned n_readers)
{
	struct udp_peer_table *t = udp_peer_table_new(NULL, 0, NULL);

	memset(p, 0, sizeof(*p));
	p->n_readers = n_readers < UDP_PEERS_MAX_READERS ? n_readers : UDP_PEERS_MAX_READERS;
	for (unsigned i = 0; i < UDP_PEERS_MAX_READERS; i++)
		atomic_init(&p->readers[i].seen, UDP_PEERS_OFFLINE);
	t->gen = 1;
	p->next_gen = 2;
	atomic_init(&p->cur, t);
	atomic_init(&p->gen, 1);
}

void udp_peers_destroy(struct udp_peers *p)
{
	struct udp_peer_table *t, *next;

	for (t = p->retired; t; t = next) {
		next = t->retired_next;
		udp_peer_table_free(t);
	}
	p->retired = NULL;
	udp_peer_table_free(atomic_load(&p->cur));
	atomic_store(&p->cur, NULL);
}

void udp_peers_publish(struct udp_peers *p, struct udp_peer_table *t)
{
	struct udp_peer_table *old;

	t->gen = p->next_gen++;
	/* Table first, then its generation: a reader that sees gen g finds a
	 * table at least as new as g. */
	old = atomic_exchange(&p->cur, t);
	atomic_store(&p->gen, t->gen);
	old->retired_next = p->retired;
	p->retired = old;
	udp_peers_reclaim(p);
}

size_t udp_peers_reclaim(struct udp_peers *p)
{
	uint64_t min = UDP_PEERS_OFFLINE;
	struct udp_peer_table **pp, *t;
	size_t left = 0;

	for (unsigned i = 0; i < p->n_readers; i++) {
		uint64_t s = atomic_load(&p->readers[i].seen);

		if (s < min)
			min = s;
	}
	/* A reader that announced s holds a table of generation >= s, so every
	 * retired table older than the smallest announcement is free. */
	for (pp = &p->retired; (t = *pp);) {
		if (t->gen < min) {
			*pp = t->retired_next;
			udp_peer_table_free(t);
		} else {
			pp = &t->retired_next;
			left++;
		}
	}
	return left;
}

const struct udp_peer_table *udp_peers_enter(struct udp_peers *p, unsigned r)
{
	/* seq_cst throughout: the announcement must be visible before the
	 * table is read, or reclaim could miss a reader that just woke up. */
	atomic_store(&p->readers[r].seen, atomic_load(&p->gen));
	return atomic_load(&p->cur);
}

void udp_peers_offline(struct udp_peers *p, unsigned r)
{
	atomic_store(&p->readers[r].seen, UDP_PEERS_OFFLINE);
}
