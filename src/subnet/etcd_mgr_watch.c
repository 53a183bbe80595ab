// SPDX-License-Identifier: Apache-2.0
/*
 * The etcd manager's peers: the acquire listing as the first snapshot, then
 * one prefix watch that resumes from the last revision seen after any
 * disconnect and, when that revision was compacted, re-lists and diffs so
 * that no change is missed. The same watch follows our own key.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "etcd/etcd.h"
#include "subnet/etcd_mgr_int.h"
#include "subnet/peer_check.h"

#define WATCH_BACKOFF_MIN_MS 100
#define WATCH_BACKOFF_MAX_MS 5000

/*
 * What we keep per peer: its name, subnet and a hash of its value, enough to
 * tell a change from a repeat and to report a removal. The attributes go to
 * the backend with each event and are not kept here (thousands of peers).
 */
struct peer_rec {
	struct hmap_node node;
	struct subnet_key subnet;
	uint64_t value_hash;
	char name[]; /* the hmap key */
};

static void emit(struct etcd_mgr *m, struct lease_event *ev, size_t n)
{
	if (n && m->base.cbs.peers)
		m->base.cbs.peers(m->base.cbs.arg, ev, n);
}

static bool is_own(const struct etcd_mgr *m, const struct lease *l)
{
	return m->have_own && subnet_key_equal(&l->subnet, &m->own.subnet);
}

static void peer_free_node(struct hmap_node *n)
{
	free(hmap_entry(n, struct peer_rec, node));
}

/* Record a peer's lease; true when it is new or its value changed. */
static bool peer_upsert(struct etcd_mgr *m, const struct lease *l)
{
	struct hmap_node *old = hmap_get(&m->peers, l->name);
	struct peer_rec *rec;
	size_t len;

	if (old) {
		rec = hmap_entry(old, struct peer_rec, node);
		if (rec->value_hash == l->value_hash)
			return false;
		rec->value_hash = l->value_hash;
		return true;
	}
	len = strlen(l->name) + 1;
	rec = xmalloc(sizeof(*rec) + len);
	memcpy(rec->name, l->name, len);
	rec->node.key = rec->name;
	rec->subnet = l->subnet;
	rec->value_hash = l->value_hash;
	hmap_put(&m->peers, &rec->node);
	return true;
}

/* A removed peer as an event sees it: name and subnet, no attributes. */
static void lease_of_rec(const struct peer_rec *rec, struct lease *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->name, sizeof(ret->name), "%s", rec->name);
	ret->subnet = rec->subnet;
	ret->value_hash = rec->value_hash;
}

/*
 * A peer's lease (canonical name) as listed or watched: routable, or noted
 * once per key and revision and refused. Accepting forgets an earlier note.
 */
static bool peer_usable(struct etcd_mgr *m, const struct lease *l)
{
	struct err err = { 0 };
	char *key = etcd_mgr_key_of(m, l->name);
	bool ok = peer_subnet_check(&m->nc, m->have_own ? &m->own.subnet : NULL, &l->subnet,
				    &err) == 0;

	if (ok)
		etcd_mgr_forget_bad(m, key, strlen(key));
	else
		etcd_mgr_note_bad(m, key, strlen(key), l->mod_revision, err.msg);
	free(key);
	return ok;
}

/*
 * The events one listing or watch response makes, and the leases they point
 * at, kept until the backend has seen them.
 */
struct batch {
	struct lease *leases; /* decoded, one per key-value of the response */
	struct lease *gone;   /* removed peers, as events see them */
	size_t n_gone;
	struct lease_event *evs;
	size_t n_evs;
};

static void batch_init(struct batch *b, size_t n_kvs, size_t max_gone)
{
	b->leases = xcalloc(n_kvs + 1, sizeof(*b->leases));
	b->gone = xcalloc(max_gone + 1, sizeof(*b->gone));
	b->n_gone = 0;
	b->evs = xcalloc(n_kvs + max_gone + 1, sizeof(*b->evs));
	b->n_evs = 0;
}

static void batch_free(struct batch *b, size_t n_kvs)
{
	for (size_t i = 0; i < n_kvs; i++)
		etcd_mgr_lease_clear(&b->leases[i]);
	free(b->leases);
	free(b->gone);
	free(b->evs);
}

/* A peer's lease as listed or watched: false when refused; an event when new or changed. */
static bool peer_take(struct etcd_mgr *m, const struct lease *l, struct lease_event *evs,
		      size_t *n_evs)
{
	if (!peer_usable(m, l))
		return false;
	if (peer_upsert(m, l))
		evs[(*n_evs)++] = (struct lease_event){ LEASE_ADDED, l };
	return true;
}

/* A peer's record, already out of m->peers, freed into a removal event. */
static void peer_gone(struct hmap_node *n, struct batch *b)
{
	struct lease *l = &b->gone[b->n_gone++];

	lease_of_rec(hmap_entry(n, struct peer_rec, node), l);
	peer_free_node(n);
	b->evs[b->n_evs++] = (struct lease_event){ LEASE_REMOVED, l };
}

enum kv_kind { KV_SKIPPED, KV_OWN, KV_PEER };

/*
 * A key-value as listed or watched, decoded into l: ours updates our lease, a
 * peer's is taken (peer_take). What it was, for the re-list's bookkeeping.
 */
static enum kv_kind kv_take(struct etcd_mgr *m, const struct etcd_kv *kv, struct lease *l,
			    struct batch *b)
{
	if (etcd_mgr_lease_from_kv(m, kv, l) < 0)
		return KV_SKIPPED;
	if (is_own(m, l)) {
		etcd_mgr_forget_bad(m, kv->key, kv->key_len);
		etcd_mgr_own_update(m, l);
		return KV_OWN;
	}
	return peer_take(m, l, b->evs, &b->n_evs) ? KV_PEER : KV_SKIPPED;
}

static void watch_start(struct etcd_mgr *m);
static void watch_backoff(struct etcd_mgr *m);

static void relist_done(void *arg, int rc, const struct etcd_range_result *res)
{
	struct etcd_mgr *m = arg;
	struct batch b;
	struct hmap seen;
	struct hmap_node *nodes, *n, *next;
	size_t iter;
	bool own_seen = false;

	m->relisting = false;
	if (rc < 0) {
		log_warnx("re-listing leases: %s; retrying in %lldms", etcd_strerror(m->etcd),
			  (long long)m->watch_backoff_ms);
		m->need_relist = true;
		watch_backoff(m);
		return;
	}
	m->need_relist = false;
	hmap_init(&seen);
	nodes = xcalloc(res->n + 1, sizeof(*nodes));
	batch_init(&b, res->n, m->peers.count);
	for (size_t i = 0; i < res->n && !m->gone; i++) {
		switch (kv_take(m, &res->kvs[i], &b.leases[i], &b)) {
		case KV_OWN:
			own_seen = true;
			break;
		case KV_PEER:
			nodes[i].key = b.leases[i].name;
			hmap_put(&seen, &nodes[i]);
			break;
		case KV_SKIPPED:
			break;
		}
	}
	/* Removed while we were not looking: known before, absent now. */
	for (n = hmap_first(&m->peers, &iter); n; n = next) {
		next = hmap_next(&m->peers, n, &iter);
		if (hmap_get(&seen, n->key))
			continue;
		hmap_remove(&m->peers, n->key);
		peer_gone(n, &b);
	}
	if (m->gone) { /* our subnet was taken: nothing more to follow */
		batch_free(&b, res->n);
		free(nodes);
		hmap_destroy(&seen);
		return;
	}
	m->watch_rev = res->revision + 1;
	log_info("re-listed %zu leases at revision %lld: %zu changes", res->n,
		 (long long)res->revision, b.n_evs);
	emit(m, b.evs, b.n_evs);
	batch_free(&b, res->n);
	free(nodes);
	hmap_destroy(&seen);
	if (m->have_own && !own_seen && !m->regaining) {
		etcd_mgr_own_lost(m, "our lease is gone from etcd");
		if (m->gone)
			return;
	}
	watch_start(m);
}

static void relist(struct etcd_mgr *m)
{
	m->relisting = true;
	if (etcd_get_prefix(m->etcd, m->subnets_prefix, relist_done, m) < 0)
		relist_done(m, -EIO, NULL);
}

static int64_t watch_retry(struct loop *loop, int64_t id, void *arg)
{
	struct etcd_mgr *m = arg;

	(void)loop;
	(void)id;
	m->watch_timer = 0;
	if (m->relisting)
		return LOOP_TIMER_STOP;
	if (m->need_relist)
		relist(m);
	else
		watch_start(m);
	return LOOP_TIMER_STOP;
}

static void watch_backoff(struct etcd_mgr *m)
{
	loop_timer_set(m->loop, &m->watch_timer, m->watch_backoff_ms, watch_retry, m);
	m->watch_backoff_ms *= 2;
	if (m->watch_backoff_ms > WATCH_BACKOFF_MAX_MS)
		m->watch_backoff_ms = WATCH_BACKOFF_MAX_MS;
}

static void watch_event(void *arg, int rc, const struct etcd_watch_result *res)
{
	struct etcd_mgr *m = arg;
	struct batch b;

	if (rc < 0) {
		m->watch = NULL;
		m->stats.watch_restarts++;
		m->stats.watch_healthy = false;
		log_warnx("lease watch interrupted: %s; resuming from revision %lld in %lldms",
			  etcd_strerror(m->etcd), (long long)m->watch_rev,
			  (long long)m->watch_backoff_ms);
		watch_backoff(m);
		return;
	}
	if (res->compact_revision > 0) {
		m->watch = NULL;
		m->stats.relists++;
		m->stats.watch_healthy = false;
		log_info("revision %lld was compacted (now %lld); re-listing leases",
			 (long long)m->watch_rev, (long long)res->compact_revision);
		relist(m);
		return;
	}
	m->watch_backoff_ms = WATCH_BACKOFF_MIN_MS;
	m->stats.watch_healthy = true;
	if (res->created)
		return;
	batch_init(&b, res->n, res->n);
	for (size_t i = 0; i < res->n; i++) {
		const struct etcd_event *ev = &res->events[i];
		struct lease *l = &b.leases[i];
		struct hmap_node *n;

		if (!ev->kv.key)
			continue;
		if (ev->type != ETCD_EVENT_DELETE) {
			kv_take(m, &ev->kv, l, &b);
			if (m->gone) { /* our subnet was taken; the watch is cancelled */
				batch_free(&b, res->n);
				return;
			}
			continue;
		}
		etcd_mgr_forget_bad(m, ev->kv.key, ev->kv.key_len);
		/* Only the exact key of a lease removes it. */
		if (etcd_mgr_key_subnet(m, ev->kv.key, ev->kv.key_len, &l->subnet, l->name,
					NULL) < 0)
			continue;
		if (is_own(m, l)) {
			/* Older than what we wrote last (the expiry of a lease we
			 * took back since): history. */
			if (ev->kv.mod_revision && ev->kv.mod_revision < m->own.mod_revision)
				continue;
			/* Revoked (the agent ends), or expired (taken back, the
			 * watch goes on). */
			etcd_mgr_own_lost(m, "our lease was deleted from etcd");
			if (m->gone) {
				batch_free(&b, res->n);
				return;
			}
			continue;
		}
		n = hmap_remove(&m->peers, l->name);
		if (n)
			peer_gone(n, &b);
	}
	if (res->revision >= m->watch_rev)
		m->watch_rev = res->revision + 1;
	emit(m, b.evs, b.n_evs);
	batch_free(&b, res->n);
}

static void watch_start(struct etcd_mgr *m)
{
	if (m->gone)
		return;
	if (etcd_watch(m->etcd, m->subnets_prefix, true, m->watch_rev, watch_event, m,
		       &m->watch) < 0) {
		m->watch = NULL;
		watch_backoff(m);
	}
}

void etcd_mgr_watch_resume(struct subnet_mgr *base)
{
	struct etcd_mgr *m = etcd_mgr_of(base);

	/* Not watching, or between attempts (a retry timer or a re-list
	 * brings a new stream anyway). */
	if (!m->watch)
		return;
	etcd_watch_cancel(m->watch);
	m->watch = NULL;
	m->stats.watch_restarts++;
	log_info("resuming the lease watch from revision %lld on a new connection",
		 (long long)m->watch_rev);
	watch_start(m);
}

int etcd_mgr_watch(struct subnet_mgr *base)
{
	struct etcd_mgr *m = etcd_mgr_of(base);
	struct lease_event *evs;
	size_t nev = 0;

	if (!m->have_own || m->watching)
		return -EINVAL;
	m->watching = true;
	/* The listing made by acquire is the first snapshot; the watch starts
	 * right after it, so nothing between the two is lost. */
	evs = xcalloc(m->n_snapshot + 1, sizeof(*evs));
	for (size_t i = 0; i < m->n_snapshot; i++) {
		/* Occupied-only entries (unreadable values) are not peers. */
		if (is_own(m, &m->snapshot[i]) || !m->snapshot[i].attrs.public_ip.family)
			continue;
		peer_take(m, &m->snapshot[i], evs, &nev);
	}
	m->watch_rev = m->snapshot_rev + 1;
	emit(m, evs, nev);
	etcd_mgr_snapshot_free(m);
	free(evs);
	/* The listing's JSON tree and the first programming were the peak; give
	 * the freed heap back so that RSS shows what we keep. */
	malloc_trim(0);
	m->watch_backoff_ms = WATCH_BACKOFF_MIN_MS;
	watch_start(m);
	if (m->own.store_lease)
		etcd_mgr_renew_schedule(m, m->own.expiration - m->margin_s - etcd_mgr_now_s());
	return 0;
}

size_t etcd_mgr_peer_count(const struct subnet_mgr *base)
{
	return container_of(base, const struct etcd_mgr, base)->peers.count;
}

void etcd_mgr_peers_foreach(const struct subnet_mgr *base,
			    void (*fn)(void *arg, const struct lease *l), void *arg)
{
	const struct etcd_mgr *m = container_of(base, const struct etcd_mgr, base);
	const struct hmap_node *n;
	size_t iter;

	for (n = hmap_first(&m->peers, &iter); n; n = hmap_next(&m->peers, n, &iter)) {
		struct lease l;

		lease_of_rec(hmap_entry(n, const struct peer_rec, node), &l);
		fn(arg, &l);
	}
}

void etcd_mgr_peers_clear(struct etcd_mgr *m)
{
	hmap_clear(&m->peers, peer_free_node);
}
