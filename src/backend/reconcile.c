// SPDX-License-Identifier: Apache-2.0
/*
 * One reconcile pass. For each kind of object, an index over the desired
 * array (keyed the way the kernel keys the object) is built, and the kernel's
 * dump is streamed through it: a wanted object is marked seen and compared,
 * an owned object nothing wants is kept aside for deletion; no copy of the
 * dump is kept. What was never seen is missing. All corrections go out in one
 * netlink batch, in an order the kernel accepts: nexthops, neighbours and FDB
 * entries, then the routes that use them; deletions last, routes first.
 */
#include "backend/reconcile.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/hmap.h"
#include "core/mac.h"
#include "core/xmalloc.h"
#include "nl/nl.h"

#define KEY_MAX 18

/* State of a desired object during a pass. */
enum seen {
	UNSEEN,	 /* not (yet) in the kernel */
	SEEN,	 /* in the kernel as wanted */
	FIXING,	 /* in the kernel, different: a replace is queued */
	BLOCKED, /* its key is taken by an object that is not ours: leave it */
};

typedef size_t key_fn(const void *item, uint8_t *key);

/* Open addressing over the indexes of a desired array. */
struct index {
	const char *items;
	size_t n, size;
	key_fn *key;
	struct slot {
		uint32_t item; /* index + 1; 0: empty */
		uint32_t hash; /* of its key, so that most probes compare no key */
	} *slot;
	size_t mask;
	uint8_t *seen; /* enum seen, per item */
};

/* A queued change, for its ACK. */
struct op {
	const void *item;
	uint8_t kind; /* enum rc_kind */
	bool del;
};

#define VEC(type)                                                                          \
	struct {                                                                           \
		type *v;                                                                   \
		size_t n, cap;                                                             \
	}

struct pass {
	struct nl *nl;
	const struct rc_scope *scope;
	rc_note_cb *note;
	void *arg;
	struct rc_stats *st;
	struct index nexthops, neighs, fdbs, routes;
	VEC(struct op) ops;
	size_t ops_sent; /* ops before this index belong to committed batches */
	/* Owned by us, wanted by nobody: deleted at the end. */
	VEC(struct nl_route) stale_routes;
	VEC(struct nl_nexthop) stale_nexthops;
	VEC(struct nl_neigh) stale_neighs;
	VEC(struct nl_neigh) stale_fdbs;
	int error; /* a socket failure: the pass is over */
};

static void *vec_grow(void *v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 64;
	return xreallocarray(v, *cap, size);
}

#define VEC_PUSH(vec)                                                                      \
	((vec).v = vec_grow((vec).v, (vec).n, &(vec).cap, sizeof(*(vec).v)), &(vec).v[(vec).n++])

const char *rc_kind_name(enum rc_kind k)
{
	static const char *const names[] = { "route", "neighbour", "fdb entry", "nexthop" };

	return k < RC_KINDS ? names[k] : "?";
}

uint32_t rc_nexthop_id(const struct ip_addr *a)
{
	if (a->family != AF_INET)
		return 0;
	return (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];
}

/* ---- keys and the index ---- */

static size_t addr_bytes(const struct ip_addr *a)
{
	return ip_family_bits(a->family) / 8;
}

static size_t route_key(const void *item, uint8_t *k)
{
	const struct nl_route *r = item;
	size_t n = addr_bytes(&r->dst.addr);

	k[0] = r->dst.addr.family;
	k[1] = r->dst.len;
	memcpy(k + 2, r->dst.addr.b, n);
	return 2 + n;
}

static size_t neigh_key(const void *item, uint8_t *k)
{
	const struct nl_neigh *nb = item;
	size_t n = addr_bytes(&nb->dst);

	k[0] = nb->dst.family;
	memcpy(k + 1, nb->dst.b, n);
	return 1 + n;
}

static size_t fdb_key(const void *item, uint8_t *k)
{
	memcpy(k, ((const struct nl_neigh *)item)->mac, 6);
	return 6;
}

static size_t nexthop_key(const void *item, uint8_t *k)
{
	memcpy(k, &((const struct nl_nexthop *)item)->id, 4);
	return 4;
}

static const void *index_item(const struct index *x, size_t i)
{
	return x->items + i * x->size;
}

/* FNV-1a mixes poorly into its low bits, which pick the slot: fold the
 * high half in. */
static uint32_t key_hash(const uint8_t *k, size_t len)
{
	uint64_t h = hmap_hash_bytes(k, len);

	return (uint32_t)(h ^ (h >> 32));
}

static void index_build(struct index *x, const void *items, size_t n, size_t size, key_fn *key)
{
	size_t cap = 16;

	while (cap < n * 2)
		cap <<= 1;
	x->items = items;
	x->n = n;
	x->size = size;
	x->key = key;
	x->mask = cap - 1;
	x->slot = xcalloc(cap, sizeof(*x->slot));
	x->seen = xcalloc(n ? n : 1, 1);
	for (size_t i = 0; i < n; i++) {
		uint8_t k[KEY_MAX], k2[KEY_MAX];
		size_t len = key(index_item(x, i), k), h;
		uint32_t hash = key_hash(k, len);

		for (h = hash & x->mask; x->slot[h].item; h = (h + 1) & x->mask)
			if (x->slot[h].hash == hash &&
			    key(index_item(x, x->slot[h].item - 1), k2) == len && !memcmp(k, k2, len))
				break;
		if (x->slot[h].item) {
			x->seen[i] = SEEN; /* a duplicate: the first one is the one wanted */
		} else {
			x->slot[h].item = (uint32_t)i + 1;
			x->slot[h].hash = hash;
		}
	}
}

/* Index of the desired item with the same key as actual, or -1. */
static long index_find(const struct index *x, const void *actual)
{
	uint8_t k[KEY_MAX], k2[KEY_MAX];
	size_t len = x->key(actual, k), h;
	uint32_t hash = key_hash(k, len);

	for (h = hash & x->mask; x->slot[h].item; h = (h + 1) & x->mask) {
		size_t i = x->slot[h].item - 1;

		if (x->slot[h].hash == hash && x->key(index_item(x, i), k2) == len &&
		    !memcmp(k, k2, len))
			return (long)i;
	}
	return -1;
}

static void index_free(struct index *x)
{
	free(x->slot);
	free(x->seen);
}

/* ---- describing objects ---- */

static void describe(enum rc_kind kind, const void *item, char *buf, size_t len)
{
	char a[IP_PREFIX_STRLEN], b[IP_ADDR_STRLEN], mac[MAC_STRLEN];

	switch (kind) {
	case RC_ROUTE: {
		const struct nl_route *r = item;

		snprintf(buf, len, "%s%s%s%s", ip_prefix_format(&r->dst, a),
			 r->gw.family ? " via " : "", r->gw.family ? ip_addr_format(&r->gw, b) : "",
			 r->onlink ? " onlink" : "");
		break;
	}
	case RC_NEXTHOP: {
		const struct nl_nexthop *nh = item;

		snprintf(buf, len, "id %u via %s%s", nh->id, ip_addr_format(&nh->gw, b),
			 nh->onlink ? " onlink" : "");
		break;
	}
	case RC_NEIGH:
	case RC_FDB: {
		const struct nl_neigh *n = item;

		mac_format(n->mac, mac);
		ip_addr_format(&n->dst, a);
		if (kind == RC_NEIGH)
			snprintf(buf, len, "%s lladdr %s", a, mac);
		else
			snprintf(buf, len, "%s dst %s", mac, a);
		break;
	}
	default:
		snprintf(buf, len, "?");
	}
}

static void note(struct pass *p, enum rc_kind kind, const void *item, const char *why)
{
	char what[160];

	if (!p->note || p->st->noted >= RC_NOTES_MAX)
		return;
	p->st->noted++;
	describe(kind, item, what, sizeof(what));
	p->note(p->arg, kind, what, why);
}

/* ---- the batch ---- */

static void failed(struct pass *p, enum rc_kind kind, const void *item, bool del,
		   const char *why)
{
	struct rc_stats *st = p->st;
	char what[160];

	st->failed++;
	if (st->first_failure[0])
		return;
	describe(kind, item, what, sizeof(what));
	snprintf(st->first_failure, sizeof(st->first_failure), "%s %s %s: %.200s",
		 del ? "deleting" : "setting", rc_kind_name(kind), what, why);
}

static void batch_done(void *arg, size_t index, int error, const struct err *err)
{
	struct pass *p = arg;
	const struct op *op = &p->ops.v[p->ops_sent + index];

	/* Deleting what is already gone is success. */
	if (op->del && (error == -ESRCH || error == -ENOENT))
		error = 0;
	if (error)
		failed(p, op->kind, op->item, op->del,
		       err && err->msg[0] ? err->msg : strerror(-error));
	else if (op->del)
		p->st->removed[op->kind]++;
	else
		p->st->added[op->kind]++;
}

static void flush(struct pass *p)
{
	int rc;

	if (p->error || !nl_batch_pending(p->nl))
		return;
	rc = nl_batch_commit(p->nl, batch_done, p);
	if (rc < 0)
		p->error = rc;
	p->ops_sent = p->ops.n;
}

static int queue_one(struct pass *p, enum rc_kind kind, const void *obj, bool del)
{
	switch (kind) {
	case RC_ROUTE:
		return del ? nl_route_del_batch(p->nl, obj) : nl_route_replace_batch(p->nl, obj);
	case RC_NEIGH:
		return del ? nl_neigh_del_batch(p->nl, obj) : nl_neigh_replace_batch(p->nl, obj);
	case RC_FDB:
		return del ? nl_fdb_del_batch(p->nl, obj) : nl_fdb_replace_batch(p->nl, obj);
	case RC_NEXTHOP:
		return del ? nl_nexthop_del_batch(p->nl, ((const struct nl_nexthop *)obj)->id)
			   : nl_nexthop_replace_batch(p->nl, obj);
	default:
		return -EINVAL;
	}
}

/*
 * Queue one change. obj is what is sent; item is what describes it (they
 * differ only for a route sent without its blocked nexthop).
 */
static void queue(struct pass *p, enum rc_kind kind, const void *obj, const void *item, bool del)
{
	struct op *op;
	int rc;

	if (p->error)
		return;
	rc = queue_one(p, kind, obj, del);
	if (rc == -ENOMEM) { /* the batch is full: send it and go on */
		flush(p);
		if (p->error)
			return;
		rc = queue_one(p, kind, obj, del);
	}
	if (rc < 0) { /* never sent: a request that cannot be built */
		failed(p, kind, item, del, strerror(-rc));
		return;
	}
	op = VEC_PUSH(p->ops);
	*op = (struct op){ item, (uint8_t)kind, del };
}

/* ---- nexthops ---- */

static bool nexthop_same(const struct nl_nexthop *a, const struct nl_nexthop *b)
{
	return ip_addr_equal(&a->gw, &b->gw) && a->oif == b->oif && a->onlink == b->onlink &&
	       a->protocol == b->protocol;
}

static int seen_nexthop(const struct nl_nexthop *nh, void *arg)
{
	struct pass *p = arg;
	long i = index_find(&p->nexthops, nh);
	const struct nl_nexthop *want;

	if (nh->gw.family && nh->gw.family != p->scope->family)
		return 0;
	if (i < 0) {
		if (nh->protocol == WEFT_RTPROT)
			*VEC_PUSH(p->stale_nexthops) = *nh;
		return 0;
	}
	want = index_item(&p->nexthops, (size_t)i);
	if (nh->protocol != WEFT_RTPROT) {
		p->nexthops.seen[i] = BLOCKED;
		return 0;
	}
	if (nexthop_same(nh, want)) {
		p->nexthops.seen[i] = SEEN;
		return 0;
	}
	if (p->nexthops.seen[i] == UNSEEN) {
		p->nexthops.seen[i] = FIXING;
		note(p, RC_NEXTHOP, want, "was different");
		queue(p, RC_NEXTHOP, want, want, false);
	}
	return 0;
}

/* ---- neighbours and FDB entries ---- */

static int seen_neigh(const struct nl_neigh *n, void *arg)
{
	struct pass *p = arg;
	const struct nl_neigh *want;
	long i;

	if (n->index != p->scope->dev_index || !(n->state & NUD_PERMANENT))
		return 0;
	i = index_find(&p->neighs, n);
	if (i < 0) {
		*VEC_PUSH(p->stale_neighs) = *n;
		return 0;
	}
	want = index_item(&p->neighs, (size_t)i);
	if (n->has_mac && !memcmp(n->mac, want->mac, 6)) {
		p->neighs.seen[i] = SEEN;
		return 0;
	}
	if (p->neighs.seen[i] == UNSEEN) {
		p->neighs.seen[i] = FIXING;
		note(p, RC_NEIGH, want, "had another MAC");
		queue(p, RC_NEIGH, want, want, false);
	}
	return 0;
}

static int seen_fdb(const struct nl_neigh *n, void *arg)
{
	struct pass *p = arg;
	const struct nl_neigh *want;
	long i;

	if (n->index != p->scope->dev_index || !n->has_mac || !n->dst.family)
		return 0;
	i = index_find(&p->fdbs, n);
	if (i < 0) {
		*VEC_PUSH(p->stale_fdbs) = *n;
		return 0;
	}
	want = index_item(&p->fdbs, (size_t)i);
	if (ip_addr_equal(&n->dst, &want->dst)) {
		p->fdbs.seen[i] = SEEN;
		return 0;
	}
	/* Another destination for the MAC: that pairing goes too. */
	*VEC_PUSH(p->stale_fdbs) = *n;
	if (p->fdbs.seen[i] == UNSEEN) {
		p->fdbs.seen[i] = FIXING;
		note(p, RC_FDB, want, "pointed elsewhere");
		queue(p, RC_FDB, want, want, false);
	}
	return 0;
}

/* ---- routes ---- */

/* The route as it is sent: without its nexthop object when that one is not
 * ours to use. */
static struct nl_route effective(const struct pass *p, const struct nl_route *r)
{
	struct nl_route e = *r;
	struct nl_nexthop key = { .id = r->nh_id };
	long i;

	if (!e.nh_id)
		return e;
	i = p->scope->nexthops ? index_find(&p->nexthops, &key) : -1;
	if (i < 0 || p->nexthops.seen[i] == BLOCKED)
		e.nh_id = 0;
	return e;
}

/*
 * The metric the kernel files a route under: an IPv6 route sent without one
 * gets 1024 (IP6_RT_PRIO_USER), an IPv4 route keeps 0. Comparing the raw
 * numbers saw every wanted IPv6 route as "different" and, its metric not
 * being the wanted 0, also as stale: the replace was followed by a delete,
 * and the route came and went at each pass.
 */
static uint32_t route_metric(const struct nl_route *r)
{
	if (r->priority == 0 && r->dst.addr.family == AF_INET6)
		return 1024;
	return r->priority;
}

static bool route_same(const struct nl_route *a, const struct nl_route *b)
{
	return ip_addr_equal(&a->gw, &b->gw) && a->oif == b->oif && a->onlink == b->onlink &&
	       a->protocol == b->protocol && a->nh_id == b->nh_id &&
	       (a->type ? a->type : RTN_UNICAST) == (b->type ? b->type : RTN_UNICAST);
}

static int seen_route(const struct nl_route *r, void *arg)
{
	struct pass *p = arg;
	const struct nl_route *want;
	struct nl_route e;
	long i;

	/* Unicast only: a blackhole route for our own subnet is ours too, but it
	 * is kept by the agent, not by the peer reconcile. */
	if (r->type && r->type != RTN_UNICAST)
		return 0;
	if (r->protocol != WEFT_RTPROT &&
	    !(p->scope->dev_index && r->oif == p->scope->dev_index && r->protocol != RTPROT_KERNEL))
		return 0;
	i = index_find(&p->routes, r);
	if (i < 0) {
		*VEC_PUSH(p->stale_routes) = *r;
		return 0;
	}
	want = index_item(&p->routes, (size_t)i);
	e = effective(p, want);
	if (route_same(r, &e) && route_metric(r) == route_metric(&e)) {
		p->routes.seen[i] = SEEN;
		return 0;
	}
	/* A replace only takes the place of a route with the same metric. */
	if (route_metric(r) != route_metric(&e))
		*VEC_PUSH(p->stale_routes) = *r;
	if (p->routes.seen[i] == UNSEEN) {
		p->routes.seen[i] = FIXING;
		note(p, RC_ROUTE, want, "was different");
		queue(p, RC_ROUTE, &e, want, false);
	}
	return 0;
}

/* ---- the pass ---- */

static void queue_missing(struct pass *p, enum rc_kind kind, struct index *x)
{
	for (size_t i = 0; i < x->n && !p->error; i++) {
		const void *item = index_item(x, i);

		if (x->seen[i] != UNSEEN)
			continue;
		if (!p->scope->initial)
			note(p, kind, item, "missing");
		if (kind == RC_ROUTE) {
			struct nl_route e = effective(p, item);

			queue(p, kind, &e, item, false);
		} else {
			queue(p, kind, item, item, false);
		}
	}
}

static void queue_stale(struct pass *p, enum rc_kind kind, const void *v, size_t n, size_t size)
{
	for (size_t i = 0; i < n && !p->error; i++) {
		const void *item = (const char *)v + i * size;

		note(p, kind, item, "no lease wants it");
		queue(p, kind, item, item, true);
	}
}

int reconcile(struct nl *nl, const struct rc_scope *scope, const struct rc_desired *want,
	      rc_note_cb *note_cb, void *arg, struct rc_stats *st)
{
	struct pass p = { .nl = nl, .scope = scope, .note = note_cb, .arg = arg, .st = st };
	int rc;

	memset(st, 0, sizeof(*st));
	index_build(&p.nexthops, want->nexthops, scope->nexthops ? want->n_nexthops : 0,
		    sizeof(*want->nexthops), nexthop_key);
	index_build(&p.neighs, want->neighs, scope->dev_index ? want->n_neighs : 0,
		    sizeof(*want->neighs), neigh_key);
	index_build(&p.fdbs, want->fdbs, scope->dev_index ? want->n_fdbs : 0, sizeof(*want->fdbs),
		    fdb_key);
	index_build(&p.routes, want->routes, want->n_routes, sizeof(*want->routes), route_key);

	if (scope->nexthops) {
		rc = nl_nexthop_dump(nl, scope->family, seen_nexthop, &p);
		if (rc < 0)
			goto out;
		queue_missing(&p, RC_NEXTHOP, &p.nexthops);
	}
	/* Neighbour and FDB entry before the route that will use them. */
	if (scope->dev_index) {
		rc = nl_neigh_dump(nl, scope->family, scope->dev_index, seen_neigh, &p);
		if (rc < 0)
			goto out;
		queue_missing(&p, RC_NEIGH, &p.neighs);
		rc = nl_fdb_dump(nl, scope->dev_index, seen_fdb, &p);
		if (rc < 0)
			goto out;
		queue_missing(&p, RC_FDB, &p.fdbs);
	}
	rc = nl_route_dump(nl, scope->family, 0, seen_route, &p);
	if (rc < 0)
		goto out;
	queue_missing(&p, RC_ROUTE, &p.routes);

	/* What we own but nothing asks for (peers that are gone): routes first,
	 * then what they used. */
	queue_stale(&p, RC_ROUTE, p.stale_routes.v, p.stale_routes.n, sizeof(struct nl_route));
	queue_stale(&p, RC_NEXTHOP, p.stale_nexthops.v, p.stale_nexthops.n,
		    sizeof(struct nl_nexthop));
	queue_stale(&p, RC_NEIGH, p.stale_neighs.v, p.stale_neighs.n, sizeof(struct nl_neigh));
	queue_stale(&p, RC_FDB, p.stale_fdbs.v, p.stale_fdbs.n, sizeof(struct nl_neigh));
	rc = 0;
out:
	/* Also after a failed dump: what was queued is right, and nothing may
	 * stay behind in the socket's batch. */
	flush(&p);
	if (rc == 0)
		rc = p.error;
	index_free(&p.nexthops);
	index_free(&p.neighs);
	index_free(&p.fdbs);
	index_free(&p.routes);
	free(p.ops.v);
	free(p.stale_routes.v);
	free(p.stale_nexthops.v);
	free(p.stale_neighs.v);
	free(p.stale_fdbs.v);
	return rc;
}
