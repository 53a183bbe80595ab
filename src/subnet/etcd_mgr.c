// SPDX-License-Identifier: Apache-2.0
/*
 * The etcd subnet manager: flannel's key layout and lease life cycle
 * (flannel.md §4), with its known holes closed:
 *  - a lost creation race picks again instead of failing;
 *  - a key without an etcd lease is a reservation: reused as it is, never
 *    given a TTL, never renewed;
 *  - one prefix watch serves peers and our own key; it resumes from the last
 *    revision seen after any disconnect and, when that revision was
 *    compacted, re-lists and diffs so that no change is missed;
 *  - transient etcd errors are retried with backoff, never fatal;
 *  - keys are bytes: a key names a lease only when what follows the prefix is
 *    exactly the canonical text of a subnet key, so that no other key (with a
 *    NUL byte, another spelling) can stand for ours or a peer's;
 *  - a peer outside the network, or overlapping our subnet, is refused.
 *
 * It decides what to retry, so it is also the layer that logs those retries.
 */
#include "subnet/etcd_mgr.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/err.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "etcd/etcd.h"
#include "subnet/netconf.h"
#include "subnet/peer_check.h"
#include "subnet/subnet_env.h"

#define DEFAULT_TTL_S (24 * 3600)
#define DEFAULT_RETRY_S 60
#define CONFIG_RETRY_MS 1000
#define ACQUIRE_RETRY_MIN_MS 1000
#define ACQUIRE_RETRY_MAX_MS 5000
#define ACQUIRE_MAX_RACES 100
#define WATCH_BACKOFF_MIN_MS 100
#define WATCH_BACKOFF_MAX_MS 5000
#define MAX_CANDIDATES 100

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

struct bad_key {
	struct hmap_node node;
	char *key;
	int64_t mod_revision;
};

struct etcd_mgr {
	struct subnet_mgr base;
	struct loop *loop;
	struct etcd *etcd;
	char *config_key;
	char *subnets_prefix; /* "<prefix>/subnets/" */
	struct netconf nc;
	bool have_config;
	struct subnet_env prev;
	bool have_prev;
	int64_t ttl_s, margin_s, retry_s;

	/* acquire */
	struct lease_attrs want;
	char *want_json;
	struct lease *snapshot; /* leases listed by the current attempt */
	size_t n_snapshot;
	int64_t snapshot_rev;
	char pick_name[SUBNET_KEY_STRLEN];
	struct subnet_key pick;
	int64_t granted;
	int64_t reuse_rev;	 /* mod_revision of our old lease being reused */
	int64_t reuse_old_lease; /* its etcd lease, revoked once replaced */
	int races;
	int64_t acquire_backoff_ms;
	bool acquiring;

	/* our lease */
	struct lease own;
	bool have_own;
	int64_t renew_timer;
	bool renewing;

	/* peers */
	struct hmap peers;
	struct hmap bad_keys;
	struct etcd_watch *watch;
	int64_t watch_rev; /* next revision the watch must deliver */
	int64_t watch_backoff_ms;
	int64_t watch_timer;
	bool watching;
	bool relisting;
	bool need_relist; /* the retry timer must re-list, not just resume */

	int64_t timer; /* config / acquire retry */
	bool gone;     /* revoked: report once */
	struct subnet_mgr_stats stats;
};

static const struct subnet_mgr_ops etcd_mgr_ops;

static struct etcd_mgr *to_mgr(struct subnet_mgr *m)
{
	return (struct etcd_mgr *)m;
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

char *etcd_mgr_join(const char *prefix, const char *name)
{
	char *joined, *out, *p;

	xasprintf(&joined, "/%s/%s", prefix, name);
	for (out = p = joined; *p; p++) {
		if (*p == '/' && out > joined && out[-1] == '/')
			continue;
		*out++ = *p;
	}
	/* Go's path.Join drops a trailing slash; keep "/" alone intact. */
	if (out > joined + 1 && out[-1] == '/')
		out--;
	*out = '\0';
	return joined;
}

/* ---- lease records ---- */

static void lease_clear(struct lease *l)
{
	lease_attrs_free(&l->attrs);
	memset(l, 0, sizeof(*l));
}

/*
 * A key or value written by someone else that we cannot use: one log line per
 * key and revision, however often it is listed again.
 */
static void note_bad(struct etcd_mgr *m, const char *key, size_t len, int64_t rev,
		     const char *why)
{
	char *text = escape_bytes(key, len);
	struct hmap_node *n = hmap_get(&m->bad_keys, text);
	struct bad_key *b;

	if (n) {
		b = hmap_entry(n, struct bad_key, node);
		free(text);
		if (b->mod_revision == rev)
			return;
		b->mod_revision = rev;
	} else {
		b = xcalloc(1, sizeof(*b));
		b->key = text;
		b->node.key = b->key;
		b->mod_revision = rev;
		hmap_put(&m->bad_keys, &b->node);
	}
	m->stats.bad_entries++;
	log_warnx("ignoring %s (revision %lld): %s", b->key, (long long)rev, why);
}

static void bad_key_free(struct hmap_node *n)
{
	struct bad_key *b = hmap_entry(n, struct bad_key, node);

	free(b->key);
	free(b);
}

static void forget_bad(struct etcd_mgr *m, const char *key, size_t len)
{
	char *text;
	struct hmap_node *n;

	if (!m->bad_keys.count)
		return;
	text = escape_bytes(key, len);
	n = hmap_remove(&m->bad_keys, text);
	free(text);
	if (n)
		bad_key_free(n);
}

/* The lease a key names (subnet_key_from_lease_key), with its canonical name. */
static int key_subnet(const struct etcd_mgr *m, const char *key, size_t len,
		      struct subnet_key *ret, char name[SUBNET_KEY_STRLEN], struct err *err)
{
	int rc = subnet_key_from_lease_key(m->subnets_prefix, key, len, ret, err);

	if (rc == 0)
		rc = subnet_key_format(ret, name, SUBNET_KEY_STRLEN);
	return rc;
}

/*
 * Decode one stored lease. 0; -ENOENT for a key outside <prefix>/subnets/;
 * -EINVAL after noting it once. A bad note stays until the caller accepts the
 * lease (forget_bad), so that a refusal made later is not logged twice.
 */
static int lease_from_kv(struct etcd_mgr *m, const struct etcd_kv *kv, struct lease *ret)
{
	struct err err = { 0 };
	int rc;

	memset(ret, 0, sizeof(*ret));
	rc = key_subnet(m, kv->key, kv->key_len, &ret->subnet, ret->name, &err);
	if (rc == -ENOENT)
		return rc;
	if (rc < 0) {
		note_bad(m, kv->key, kv->key_len, kv->mod_revision, err.msg);
		return rc;
	}
	rc = lease_attrs_decode(kv->value, kv->value_len, &ret->attrs, &err);
	if (rc < 0) {
		note_bad(m, kv->key, kv->key_len, kv->mod_revision, err.msg);
		memset(ret, 0, sizeof(*ret));
		return rc;
	}
	ret->value_hash = hmap_hash_bytes(kv->value, kv->value_len);
	ret->node.key = ret->name;
	ret->store_lease = kv->lease;
	ret->mod_revision = kv->mod_revision;
	ret->expiration = 0;
	return 0;
}

static char *key_of(const struct etcd_mgr *m, const char *name)
{
	char *k;

	xasprintf(&k, "%s%s", m->subnets_prefix, name);
	return k;
}

/* ---- config ---- */

static void schedule(struct etcd_mgr *m, int64_t ms, loop_timer_cb *cb)
{
	if (m->timer)
		loop_del_timer(m->loop, m->timer);
	m->timer = loop_add_timer(m->loop, ms, cb, m);
}

static void config_fetch(struct etcd_mgr *m);

static int64_t config_retry(struct loop *loop, int64_t id, void *arg)
{
	struct etcd_mgr *m = arg;

	(void)loop;
	(void)id;
	m->timer = 0;
	config_fetch(m);
	return LOOP_TIMER_STOP;
}

static void config_got(void *arg, int rc, const struct etcd_range_result *res)
{
	struct etcd_mgr *m = arg;
	struct err err = { 0 };
	struct netconf nc;

	if (rc < 0) {
		log_warnx("cannot read %s: %s; retrying in 1s", m->config_key,
			  etcd_strerror(m->etcd));
		goto retry;
	}
	if (res->n == 0) {
		log_warnx("network config %s not found in etcd (create it with the v3 API, e.g. "
			  "weftctl config put); retrying in 1s",
			  m->config_key);
		goto retry;
	}
	if (netconf_load(res->kvs[0].value, res->kvs[0].value_len, &nc, &err) < 0) {
		log_warnx("invalid network config %s: %s; retrying in 1s", m->config_key, err.msg);
		goto retry;
	}
	m->nc = nc;
	m->have_config = true;
	if (m->base.cbs.config)
		m->base.cbs.config(m->base.cbs.arg, &m->nc);
	return;
retry:
	schedule(m, CONFIG_RETRY_MS, config_retry);
}

static void config_fetch(struct etcd_mgr *m)
{
	if (etcd_get(m->etcd, m->config_key, config_got, m) < 0)
		schedule(m, CONFIG_RETRY_MS, config_retry);
}

static int mgr_start(struct subnet_mgr *base)
{
	config_fetch(to_mgr(base));
	return 0;
}

/* ---- compatibility and allocation (flannel.md §4.5) ---- */

static bool v4_in_range(const struct netconf *nc, const struct ip_prefix *p)
{
	return p->addr.family == AF_INET && p->len == nc->subnet_len &&
	       ip_addr_cmp(&p->addr, &nc->subnet_min) >= 0 &&
	       ip_addr_cmp(&p->addr, &nc->subnet_max) <= 0;
}

static bool v6_in_range(const struct netconf *nc, const struct ip_prefix *p)
{
	return p->addr.family == AF_INET6 && p->len == nc->ipv6_subnet_len &&
	       ip_addr_cmp(&p->addr, &nc->ipv6_subnet_min) >= 0 &&
	       ip_addr_cmp(&p->addr, &nc->ipv6_subnet_max) <= 0;
}

static bool compatible(const struct netconf *nc, const struct subnet_key *k)
{
	if (nc->enable_ipv4 ? !v4_in_range(nc, &k->v4) : subnet_key_has_v4(k))
		return false;
	if (nc->enable_ipv6)
		return k->has_v6 && v6_in_range(nc, &k->v6);
	return !k->has_v6;
}

/* Does any listed lease overlap k (in either family)? */
static bool taken(const struct etcd_mgr *m, const struct subnet_key *k)
{
	for (size_t i = 0; i < m->n_snapshot; i++) {
		const struct subnet_key *o = &m->snapshot[i].subnet;

		if (subnet_key_has_v4(k) && subnet_key_has_v4(o) && ip_prefix_overlaps(&k->v4, &o->v4))
			return true;
		if (k->has_v6 && o->has_v6 && ip_prefix_overlaps(&k->v6, &o->v6))
			return true;
	}
	return false;
}

static uint32_t random_below(uint32_t n)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)rand();
	return n ? r % n : 0;
}

/*
 * Up to MAX_CANDIDATES free subnets of one family between min and max, one
 * chosen at random. The used set is hashed, so that the walk costs O(leases +
 * steps) rather than O(leases × steps).
 */
static int pick_family(const struct etcd_mgr *m, int family, struct ip_prefix *ret)
{
	const struct netconf *nc = &m->nc;
	const struct ip_addr *min = family == AF_INET ? &nc->subnet_min : &nc->ipv6_subnet_min;
	const struct ip_addr *max = family == AF_INET ? &nc->subnet_max : &nc->ipv6_subnet_max;
	unsigned len = family == AF_INET ? nc->subnet_len : nc->ipv6_subnet_len;
	struct ip_prefix cand[MAX_CANDIDATES], p;
	const struct ip_prefix **odd = NULL;
	size_t n = 0, n_odd = 0;
	struct hmap used;
	struct hmap_node *nodes;
	char (*names)[IP_PREFIX_STRLEN];
	int rc = -ENOSPC;

	hmap_init(&used);
	nodes = xcalloc(m->n_snapshot + 1, sizeof(*nodes));
	names = xcalloc(m->n_snapshot + 1, sizeof(*names));
	odd = xcalloc(m->n_snapshot + 1, sizeof(*odd));
	for (size_t i = 0; i < m->n_snapshot; i++) {
		const struct subnet_key *k = &m->snapshot[i].subnet;
		const struct ip_prefix *lp = family == AF_INET ? &k->v4 : &k->v6;

		if (family == AF_INET ? !subnet_key_has_v4(k) : !k->has_v6)
			continue;
		if (lp->len == len) {
			ip_prefix_format(lp, names[i]);
			nodes[i].key = names[i];
			hmap_put(&used, &nodes[i]);
		} else {
			odd[n_odd++] = lp; /* other lengths: checked by overlap */
		}
	}
	if (ip_prefix_make(min, len, &p) < 0)
		goto out;
	while (n < MAX_CANDIDATES && ip_addr_cmp(&p.addr, max) <= 0) {
		char name[IP_PREFIX_STRLEN];
		bool busy = hmap_get(&used, ip_prefix_format(&p, name)) != NULL;

		for (size_t i = 0; !busy && i < n_odd; i++)
			busy = ip_prefix_overlaps(&p, odd[i]);
		if (!busy)
			cand[n++] = p;
		if (ip_prefix_next(&p, &p) < 0)
			break;
	}
	if (n) {
		*ret = cand[random_below((uint32_t)n)];
		rc = 0;
	}
out:
	hmap_destroy(&used);
	free(nodes);
	free(names);
	free(odd);
	return rc;
}

/* ---- acquire ---- */

static void acquire_list(struct etcd_mgr *m);
static void acquire_finish(struct etcd_mgr *m, const struct lease *own);

static void snapshot_free(struct etcd_mgr *m)
{
	for (size_t i = 0; i < m->n_snapshot; i++)
		lease_clear(&m->snapshot[i]);
	free(m->snapshot);
	m->snapshot = NULL;
	m->n_snapshot = 0;
}

static int64_t acquire_retry(struct loop *loop, int64_t id, void *arg)
{
	struct etcd_mgr *m = arg;

	(void)loop;
	(void)id;
	m->timer = 0;
	acquire_list(m);
	return LOOP_TIMER_STOP;
}

/* A transient failure: log, back off, start over from the listing. */
static void acquire_again(struct etcd_mgr *m, const char *what)
{
	log_warnx("acquiring a lease: %s: %s; retrying in %lldms", what, etcd_strerror(m->etcd),
		  (long long)m->acquire_backoff_ms);
	schedule(m, m->acquire_backoff_ms, acquire_retry);
	m->acquire_backoff_ms *= 2;
	if (m->acquire_backoff_ms > ACQUIRE_RETRY_MAX_MS)
		m->acquire_backoff_ms = ACQUIRE_RETRY_MAX_MS;
}

static void acquire_fail(struct etcd_mgr *m, int rc)
{
	m->acquiring = false;
	snapshot_free(m);
	if (m->base.cbs.acquired)
		m->base.cbs.acquired(m->base.cbs.arg, rc, NULL);
}

static void revoke_done(void *arg, int rc, int64_t rev, bool ok)
{
	(void)arg;
	(void)rc;
	(void)rev;
	(void)ok;
}

/* Our key now holds the value we want at revision rev: that is our lease. */
static void acquire_won(struct etcd_mgr *m, int64_t rev, const char *how)
{
	struct lease own = { 0 };

	own.subnet = m->pick;
	memcpy(own.name, m->pick_name, sizeof(own.name));
	own.attrs = m->want;
	own.store_lease = m->granted;
	own.mod_revision = rev;
	own.expiration = m->granted ? now_s() + m->ttl_s : 0;
	log_info("acquired lease %s (%s)", own.name, how);
	acquire_finish(m, &own);
}

/* The create transaction's answer. */
static void acquire_created(void *arg, int rc, int64_t rev, bool ok)
{
	struct etcd_mgr *m = arg;

	if (rc < 0) {
		/* Unknown outcome: the listing on retry finds our key if it was written. */
		acquire_again(m, "creating the lease");
		return;
	}
	if (!ok) {
		etcd_lease_revoke(m->etcd, m->granted, revoke_done, m);
		m->granted = 0;
		if (++m->races >= ACQUIRE_MAX_RACES) {
			log_warnx("lost %d creation races in a row; giving up", m->races);
			acquire_fail(m, -EBUSY);
			return;
		}
		log_info("subnet %s was taken by another node meanwhile; picking again",
			 m->pick_name);
		acquire_list(m);
		return;
	}
	acquire_won(m, rev, "new");
}

static void acquire_reused(void *arg, int rc, int64_t rev, bool ok);

/*
 * An etcd lease was granted for the key we are about to write: create it (a new
 * subnet, reuse_rev 0) or replace our old lease exactly as listed.
 */
static void acquire_granted(void *arg, int rc, int64_t id, int64_t ttl)
{
	struct etcd_mgr *m = arg;
	char *key;

	(void)ttl;
	if (rc < 0) {
		acquire_again(m, "granting an etcd lease");
		return;
	}
	m->granted = id;
	key = key_of(m, m->pick_name);
	if (m->reuse_rev) {
		if (etcd_replace(m->etcd, key, m->reuse_rev, m->want_json,
				 strlen(m->want_json), id, acquire_reused, m) < 0)
			acquire_again(m, "writing our lease");
	} else if (etcd_create(m->etcd, key, m->want_json, strlen(m->want_json), id,
			       acquire_created, m) < 0) {
		acquire_again(m, "starting the create transaction");
	}
	free(key);
}

static void create_pick(struct etcd_mgr *m)
{
	subnet_key_format(&m->pick, m->pick_name, sizeof(m->pick_name));
	if (etcd_lease_grant(m->etcd, m->ttl_s, acquire_granted, m) < 0)
		acquire_again(m, "granting an etcd lease");
}

/* Steps 4 and 5: the previous subnet if it is free, else a random free one. */
static void acquire_allocate(struct etcd_mgr *m)
{
	const struct netconf *nc = &m->nc;
	struct subnet_key k = { 0 };
	int rc;

	if (m->have_prev) {
		bool usable = true;

		if (nc->enable_ipv4) {
			usable = m->prev.has_subnet;
			k.v4 = m->prev.subnet;
		} else {
			ip_prefix_parse("0.0.0.0/0", &k.v4);
		}
		if (nc->enable_ipv6) {
			usable = usable && m->prev.has_ipv6_subnet;
			k.v6 = m->prev.ipv6_subnet;
			k.has_v6 = true;
		}
		if (usable && compatible(nc, &k) && !taken(m, &k)) {
			m->pick = k;
			subnet_key_format(&k, m->pick_name, sizeof(m->pick_name));
			log_info("reusing the previous subnet %s from the subnet file",
				 m->pick_name);
			create_pick(m);
			return;
		}
	}
	memset(&k, 0, sizeof(k));
	if (nc->enable_ipv4) {
		rc = pick_family(m, AF_INET, &k.v4);
		if (rc < 0)
			goto out_of_subnets;
	} else {
		ip_prefix_parse("0.0.0.0/0", &k.v4);
	}
	if (nc->enable_ipv6) {
		rc = pick_family(m, AF_INET6, &k.v6);
		if (rc < 0)
			goto out_of_subnets;
		k.has_v6 = true;
	}
	m->pick = k;
	create_pick(m);
	return;
out_of_subnets:
	/* Leases expire and nodes leave: keep trying rather than exit. */
	log_warnx("out of subnets: every subnet between SubnetMin and SubnetMax is leased; "
		  "retrying in %dms", ACQUIRE_RETRY_MAX_MS);
	schedule(m, ACQUIRE_RETRY_MAX_MS, acquire_retry);
}

/* Our old lease, found by public address, is being written back. */
static void acquire_reused(void *arg, int rc, int64_t rev, bool ok)
{
	struct etcd_mgr *m = arg;

	if (rc < 0) {
		acquire_again(m, "renewing our previous lease");
		return;
	}
	if (!ok) {
		/* Changed under us since the listing: look again. */
		if (m->granted)
			etcd_lease_revoke(m->etcd, m->granted, revoke_done, m);
		m->granted = 0;
		acquire_list(m);
		return;
	}
	if (m->granted && m->reuse_old_lease && m->reuse_old_lease != m->granted)
		etcd_lease_revoke(m->etcd, m->reuse_old_lease, revoke_done, m);
	m->reuse_old_lease = 0;
	acquire_won(m, rev, m->granted ? "reused, matched by public address" : "reservation");
}

static void incompatible_deleted(void *arg, int rc, int64_t rev, bool ok)
{
	struct etcd_mgr *m = arg;

	(void)rev;
	(void)ok;
	if (rc < 0) {
		acquire_again(m, "deleting our incompatible lease");
		return;
	}
	acquire_list(m); /* list again: the snapshot must not contain it */
}

static bool ours(const struct lease_attrs *want, const struct lease_attrs *a)
{
	if (want->public_ip.family && !ip_addr_is_unset(&want->public_ip))
		return a->public_ip.family && ip_addr_equal(&a->public_ip, &want->public_ip);
	/* IPv6-only: every node says 0.0.0.0; match on the IPv6 address. */
	return want->public_ipv6.family && a->public_ipv6.family &&
	       ip_addr_equal(&a->public_ipv6, &want->public_ipv6);
}

static void acquire_listed(void *arg, int rc, const struct etcd_range_result *res)
{
	struct etcd_mgr *m = arg;
	struct lease *mine = NULL;
	size_t n = 0;

	if (rc < 0) {
		acquire_again(m, "listing leases");
		return;
	}
	snapshot_free(m);
	m->reuse_rev = 0; /* set below only when our old lease is found */
	m->snapshot = xcalloc(res->n + 1, sizeof(*m->snapshot));
	for (size_t i = 0; i < res->n; i++) {
		const struct etcd_kv *kv = &res->kvs[i];
		struct lease *l = &m->snapshot[n];

		if (lease_from_kv(m, kv, l) == 0) {
			n++;
			continue;
		}
		/* A valid key with a value we cannot read still occupies its subnet:
		 * keep it (with empty attributes, so it never matches as ours). */
		lease_clear(l);
		if (key_subnet(m, kv->key, kv->key_len, &l->subnet, l->name, NULL) == 0) {
			l->mod_revision = kv->mod_revision;
			n++;
		}
	}
	m->n_snapshot = n;
	m->snapshot_rev = res->revision;
	m->acquire_backoff_ms = ACQUIRE_RETRY_MIN_MS;

	for (size_t i = 0; i < n && !mine; i++)
		if (ours(&m->want, &m->snapshot[i].attrs))
			mine = &m->snapshot[i];
	if (mine) {
		m->pick = mine->subnet;
		memcpy(m->pick_name, mine->name, sizeof(m->pick_name));
		if (!compatible(&m->nc, &mine->subnet)) {
			char *key = key_of(m, mine->name);

			if (mine->store_lease == 0) {
				log_warnx("reservation %s for our public address does not fit the "
					  "network config; leaving it alone and allocating another",
					  mine->name);
				free(key);
				acquire_allocate(m);
				return;
			}
			log_info("lease %s is not compatible with the current config, deleting",
				 mine->name);
			if (etcd_delete(m->etcd, key, incompatible_deleted, m) < 0)
				acquire_again(m, "deleting our incompatible lease");
			free(key);
			return;
		}
		m->reuse_rev = mine->mod_revision;
		m->reuse_old_lease = mine->store_lease;
		if (mine->store_lease == 0) {
			/* A reservation: keep it TTL-less (upstream issue #1329). */
			char *key = key_of(m, mine->name);
			struct lease_attrs cur = mine->attrs;
			bool same = lease_attrs_equal(&cur, &m->want);

			m->granted = 0;
			if (same) {
				acquire_reused(m, 0, mine->mod_revision, true);
			} else if (etcd_replace(m->etcd, key, mine->mod_revision, m->want_json,
						strlen(m->want_json), 0, acquire_reused, m) < 0) {
				acquire_again(m, "writing our reservation");
			}
			free(key);
			return;
		}
		if (etcd_lease_grant(m->etcd, m->ttl_s, acquire_granted, m) < 0)
			acquire_again(m, "granting an etcd lease");
		return;
	}
	acquire_allocate(m);
}

static void acquire_list(struct etcd_mgr *m)
{
	if (etcd_get_prefix(m->etcd, m->subnets_prefix, acquire_listed, m) < 0)
		acquire_again(m, "listing leases");
}

static int mgr_acquire(struct subnet_mgr *base, const struct lease_attrs *attrs)
{
	struct etcd_mgr *m = to_mgr(base);
	int rc;

	if (!m->have_config || m->acquiring)
		return -EBUSY;
	lease_attrs_free(&m->want);
	free(m->want_json);
	m->want_json = NULL;
	m->want = *attrs;
	m->want.backend_data = attrs->backend_data ? xstrdup(attrs->backend_data) : NULL;
	m->want.backend_v6_data = attrs->backend_v6_data ? xstrdup(attrs->backend_v6_data) : NULL;
	rc = lease_attrs_encode(&m->want, &m->want_json);
	if (rc < 0)
		return rc;
	m->acquiring = true;
	m->races = 0;
	m->acquire_backoff_ms = ACQUIRE_RETRY_MIN_MS;
	acquire_list(m);
	return 0;
}

/* ---- peers ---- */

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
	char *key = key_of(m, l->name);
	bool ok = peer_subnet_check(&m->nc, m->have_own ? &m->own.subnet : NULL, &l->subnet,
				    &err) == 0;

	if (ok)
		forget_bad(m, key, strlen(key));
	else
		note_bad(m, key, strlen(key), l->mod_revision, err.msg);
	free(key);
	return ok;
}

static void own_update(struct etcd_mgr *m, const struct lease *l);
static void own_lost(struct etcd_mgr *m, const char *why);
static void watch_start(struct etcd_mgr *m);
static void watch_backoff(struct etcd_mgr *m);

static void relist_done(void *arg, int rc, const struct etcd_range_result *res)
{
	struct etcd_mgr *m = arg;
	struct lease_event *evs;
	struct hmap seen;
	struct hmap_node *nodes, *n, *next;
	size_t nev = 0, iter;
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
	evs = xcalloc(res->n + m->peers.count + 1, sizeof(*evs));
	struct lease *tmp = xcalloc(res->n + 1, sizeof(*tmp));
	for (size_t i = 0; i < res->n; i++) {
		if (lease_from_kv(m, &res->kvs[i], &tmp[i]) < 0)
			continue;
		if (is_own(m, &tmp[i])) {
			forget_bad(m, res->kvs[i].key, res->kvs[i].key_len);
			own_seen = true;
			own_update(m, &tmp[i]);
			continue;
		}
		if (!peer_usable(m, &tmp[i]))
			continue;
		nodes[i].key = tmp[i].name;
		hmap_put(&seen, &nodes[i]);
		if (peer_upsert(m, &tmp[i]))
			evs[nev++] = (struct lease_event){ LEASE_ADDED, &tmp[i] };
	}
	/* Removed while we were not looking: known before, absent now. */
	struct lease *gone = xcalloc(m->peers.count + 1, sizeof(*gone));
	size_t ngone = 0;
	for (n = hmap_first(&m->peers, &iter); n; n = next) {
		next = hmap_next(&m->peers, n, &iter);
		if (hmap_get(&seen, n->key))
			continue;
		lease_of_rec(hmap_entry(n, struct peer_rec, node), &gone[ngone]);
		hmap_remove(&m->peers, n->key);
		peer_free_node(n);
		evs[nev++] = (struct lease_event){ LEASE_REMOVED, &gone[ngone++] };
	}
	m->watch_rev = res->revision + 1;
	log_info("re-listed %zu leases at revision %lld: %zu changes", res->n,
		 (long long)res->revision, nev);
	emit(m, evs, nev);
	for (size_t i = 0; i < res->n; i++)
		lease_clear(&tmp[i]);
	free(tmp);
	free(gone);
	free(evs);
	free(nodes);
	hmap_destroy(&seen);
	if (m->have_own && !own_seen) {
		own_lost(m, "our lease is gone from etcd");
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
	if (m->watch_timer)
		loop_del_timer(m->loop, m->watch_timer);
	m->watch_timer = loop_add_timer(m->loop, m->watch_backoff_ms, watch_retry, m);
	m->watch_backoff_ms *= 2;
	if (m->watch_backoff_ms > WATCH_BACKOFF_MAX_MS)
		m->watch_backoff_ms = WATCH_BACKOFF_MAX_MS;
}

static void watch_event(void *arg, int rc, const struct etcd_watch_result *res)
{
	struct etcd_mgr *m = arg;
	struct lease_event *evs;
	struct lease *tmp, *gone;
	size_t nev = 0, ngone = 0;

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
	evs = xcalloc(res->n + 1, sizeof(*evs));
	tmp = xcalloc(res->n + 1, sizeof(*tmp));
	gone = xcalloc(res->n + 1, sizeof(*gone));
	for (size_t i = 0; i < res->n; i++) {
		const struct etcd_event *ev = &res->events[i];

		if (!ev->kv.key)
			continue;
		if (ev->type == ETCD_EVENT_DELETE) {
			struct hmap_node *n;

			forget_bad(m, ev->kv.key, ev->kv.key_len);
			/* Only the exact key of a lease removes it. */
			if (key_subnet(m, ev->kv.key, ev->kv.key_len, &tmp[i].subnet, tmp[i].name,
				       NULL) < 0)
				continue;
			if (is_own(m, &tmp[i])) {
				free(evs);
				free(tmp);
				free(gone);
				own_lost(m, "our lease was deleted from etcd");
				return;
			}
			n = hmap_remove(&m->peers, tmp[i].name);
			if (n) {
				lease_of_rec(hmap_entry(n, struct peer_rec, node), &gone[ngone]);
				peer_free_node(n);
				evs[nev++] = (struct lease_event){ LEASE_REMOVED, &gone[ngone++] };
			}
			continue;
		}
		if (lease_from_kv(m, &ev->kv, &tmp[i]) < 0)
			continue;
		if (is_own(m, &tmp[i])) {
			forget_bad(m, ev->kv.key, ev->kv.key_len);
			own_update(m, &tmp[i]);
			continue;
		}
		if (!peer_usable(m, &tmp[i]))
			continue;
		if (peer_upsert(m, &tmp[i]))
			evs[nev++] = (struct lease_event){ LEASE_ADDED, &tmp[i] };
	}
	if (res->revision >= m->watch_rev)
		m->watch_rev = res->revision + 1;
	emit(m, evs, nev);
	for (size_t i = 0; i < res->n; i++)
		lease_clear(&tmp[i]);
	free(gone);
	free(tmp);
	free(evs);
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

/* ---- our lease: renewals and loss ---- */

static void renew_schedule(struct etcd_mgr *m, int64_t delay_s);

static void own_lost(struct etcd_mgr *m, const char *why)
{
	if (m->gone)
		return;
	m->gone = true;
	log_warnx("lease %s revoked: %s", m->own.name, why);
	if (m->renew_timer) {
		loop_del_timer(m->loop, m->renew_timer);
		m->renew_timer = 0;
	}
	etcd_watch_cancel(m->watch);
	m->watch = NULL;
	if (m->base.cbs.revoked)
		m->base.cbs.revoked(m->base.cbs.arg);
}

/* Our key changed in etcd (our own renewal, or an operator's edit). */
static void own_update(struct etcd_mgr *m, const struct lease *l)
{
	bool was_reserved = m->own.store_lease == 0;

	m->own.mod_revision = l->mod_revision;
	if (l->store_lease == m->own.store_lease)
		return;
	m->own.store_lease = l->store_lease;
	if (l->store_lease == 0) {
		m->own.expiration = 0;
		if (m->renew_timer) {
			loop_del_timer(m->loop, m->renew_timer);
			m->renew_timer = 0;
		}
		log_info("lease %s is now a reservation: no more renewals", m->own.name);
	} else if (was_reserved) {
		/* Someone attached a TTL: keep it alive from now on. */
		m->own.expiration = now_s() + m->ttl_s;
		log_info("reservation %s became a lease with a TTL; renewing it", m->own.name);
		renew_schedule(m, 0);
	}
}

struct renew_ctx {
	struct etcd_mgr *m;
	int64_t granted;
	int64_t old_lease;
};

static void renew_fail(struct etcd_mgr *m, const char *what)
{
	m->stats.renew_failures++;
	log_warnx("renewing lease %s: %s: %s; retrying in %llds", m->own.name, what,
		  etcd_strerror(m->etcd), (long long)m->retry_s);
	m->renewing = false;
	renew_schedule(m, m->retry_s);
}

static void renew_put(void *arg, int rc, int64_t rev, bool ok)
{
	struct renew_ctx *c = arg;
	struct etcd_mgr *m = c->m;

	if (rc < 0 || !ok) {
		if (c->granted)
			etcd_lease_revoke(m->etcd, c->granted, revoke_done, m);
		free(c);
		if (rc < 0) {
			renew_fail(m, "writing the key");
		} else {
			/* The key changed since we last saw it; the watch brings the new
			 * state (deleted: revoked; reservation: no renewal). Retry soon. */
			log_info("lease %s changed in etcd while renewing; retrying", m->own.name);
			m->renewing = false;
			renew_schedule(m, 1);
		}
		return;
	}
	m->own.store_lease = c->granted;
	m->own.mod_revision = rev;
	m->own.expiration = now_s() + m->ttl_s;
	m->renewing = false;
	m->stats.renewals++;
	if (c->old_lease)
		etcd_lease_revoke(m->etcd, c->old_lease, revoke_done, m);
	log_info("renewed lease %s: expires in %llds", m->own.name, (long long)m->ttl_s);
	free(c);
	renew_schedule(m, m->ttl_s - m->margin_s);
}

static void renew_granted(void *arg, int rc, int64_t id, int64_t ttl)
{
	struct renew_ctx *c = arg;
	struct etcd_mgr *m = c->m;
	char *key;

	(void)ttl;
	if (rc < 0) {
		free(c);
		renew_fail(m, "granting an etcd lease");
		return;
	}
	if (m->own.store_lease == 0 || m->gone) {
		/* Became a reservation (or was revoked) meanwhile. */
		etcd_lease_revoke(m->etcd, id, revoke_done, m);
		free(c);
		m->renewing = false;
		return;
	}
	c->granted = id;
	c->old_lease = m->own.store_lease;
	key = key_of(m, m->own.name);
	if (etcd_replace(m->etcd, key, m->own.mod_revision, m->want_json, strlen(m->want_json), id,
			 renew_put, c) < 0)
		renew_put(c, -EIO, 0, false);
	free(key);
}

static int64_t renew_fire(struct loop *loop, int64_t id, void *arg)
{
	struct etcd_mgr *m = arg;
	struct renew_ctx *c;

	(void)loop;
	(void)id;
	m->renew_timer = 0;
	if (m->own.store_lease == 0 || m->gone || m->renewing)
		return LOOP_TIMER_STOP;
	m->renewing = true;
	c = xcalloc(1, sizeof(*c));
	c->m = m;
	if (etcd_lease_grant(m->etcd, m->ttl_s, renew_granted, c) < 0) {
		free(c);
		renew_fail(m, "granting an etcd lease");
	}
	return LOOP_TIMER_STOP;
}

static void renew_schedule(struct etcd_mgr *m, int64_t delay_s)
{
	if (m->renew_timer)
		loop_del_timer(m->loop, m->renew_timer);
	if (delay_s < 0)
		delay_s = 0;
	m->renew_timer = loop_add_timer(m->loop, delay_s * 1000, renew_fire, m);
}

/* ---- acquire result → own lease; watch ---- */

static void acquire_finish(struct etcd_mgr *m, const struct lease *own)
{
	m->acquiring = false;
	lease_clear(&m->own);
	m->own = *own;
	/* want stays ours too: both point at the same backend data. */
	m->own.attrs.backend_data = own->attrs.backend_data ? xstrdup(own->attrs.backend_data)
							    : NULL;
	m->own.attrs.backend_v6_data =
		own->attrs.backend_v6_data ? xstrdup(own->attrs.backend_v6_data) : NULL;
	m->own.node.key = m->own.name;
	m->have_own = true;
	if (m->base.cbs.acquired)
		m->base.cbs.acquired(m->base.cbs.arg, 0, &m->own);
}

static int mgr_watch(struct subnet_mgr *base)
{
	struct etcd_mgr *m = to_mgr(base);
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
		if (!peer_usable(m, &m->snapshot[i]))
			continue;
		if (peer_upsert(m, &m->snapshot[i]))
			evs[nev++] = (struct lease_event){ LEASE_ADDED, &m->snapshot[i] };
	}
	m->watch_rev = m->snapshot_rev + 1;
	emit(m, evs, nev);
	snapshot_free(m);
	free(evs);
	/* The listing's JSON tree and the first programming were the peak; give
	 * the freed heap back so that RSS shows what we keep. */
	malloc_trim(0);
	m->watch_backoff_ms = WATCH_BACKOFF_MIN_MS;
	watch_start(m);
	if (m->own.store_lease)
		renew_schedule(m, m->own.expiration - m->margin_s - now_s());
	return 0;
}

static size_t mgr_peer_count(const struct subnet_mgr *base)
{
	return ((const struct etcd_mgr *)base)->peers.count;
}

static void mgr_peers_foreach(const struct subnet_mgr *base,
			      void (*fn)(void *arg, const struct lease *l), void *arg)
{
	const struct etcd_mgr *m = (const struct etcd_mgr *)base;
	const struct hmap_node *n;
	size_t iter;

	for (n = hmap_first(&m->peers, &iter); n; n = hmap_next(&m->peers, n, &iter)) {
		struct lease l;

		lease_of_rec(hmap_entry(n, const struct peer_rec, node), &l);
		fn(arg, &l);
	}
}

static void mgr_stats(const struct subnet_mgr *base, struct subnet_mgr_stats *ret)
{
	const struct etcd_mgr *m = (const struct etcd_mgr *)base;
	const struct etcd_stats *es = etcd_stats(m->etcd);

	*ret = m->stats;
	ret->store_requests = es->requests;
	ret->store_errors = es->errors;
	ret->lease_expiration = m->have_own ? m->own.expiration : 0;
}

static void mgr_free(struct subnet_mgr *base)
{
	struct etcd_mgr *m = to_mgr(base);

	if (!m)
		return;
	if (m->timer)
		loop_del_timer(m->loop, m->timer);
	if (m->renew_timer)
		loop_del_timer(m->loop, m->renew_timer);
	if (m->watch_timer)
		loop_del_timer(m->loop, m->watch_timer);
	etcd_free(m->etcd); /* also ends the watch, without callbacks */
	hmap_clear(&m->peers, peer_free_node);
	hmap_clear(&m->bad_keys, bad_key_free);
	snapshot_free(m);
	lease_clear(&m->own);
	lease_attrs_free(&m->want);
	free(m->want_json);
	netconf_free(&m->nc);
	free(m->config_key);
	free(m->subnets_prefix);
	free(m);
}

static const struct subnet_mgr_ops etcd_mgr_ops = {
	.name = "etcd",
	.start = mgr_start,
	.acquire = mgr_acquire,
	.watch = mgr_watch,
	.peer_count = mgr_peer_count,
	.peers_foreach = mgr_peers_foreach,
	.stats = mgr_stats,
	.free = mgr_free,
};

int etcd_mgr_new(const struct etcd_mgr_params *p, const struct subnet_mgr_cbs *cbs,
		 struct subnet_mgr **ret, struct err *err)
{
	struct etcd_mgr *m = xcalloc(1, sizeof(*m));
	char *sub;
	int rc;

	m->base.ops = &etcd_mgr_ops;
	m->base.cbs = *cbs;
	m->loop = p->loop;
	rc = etcd_new(p->loop, p->etcd, &m->etcd, err);
	if (rc < 0) {
		free(m);
		return rc;
	}
	m->config_key = etcd_mgr_join(p->prefix, "config");
	sub = etcd_mgr_join(p->prefix, "subnets");
	xasprintf(&m->subnets_prefix, "%s/", sub);
	free(sub);
	if (p->prev) {
		m->prev = *p->prev;
		m->have_prev = true;
	}
	m->ttl_s = p->lease_ttl_s > 0 ? p->lease_ttl_s : DEFAULT_TTL_S;
	m->margin_s = p->renew_margin_s;
	if (m->margin_s >= m->ttl_s)
		m->margin_s = m->ttl_s / 2;
	m->retry_s = p->renew_retry_s > 0 ? p->renew_retry_s : DEFAULT_RETRY_S;
	hmap_init(&m->peers);
	hmap_init(&m->bad_keys);
	*ret = &m->base;
	return 0;
}
