// SPDX-License-Identifier: Apache-2.0
/*
 * The etcd manager's own lease: acquired (our old lease found by public
 * address and reused, else a subnet picked and created, a lost creation race
 * picking again) and then kept: renewed before it expires, followed when an
 * operator edits it, reported once when it is gone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "etcd/etcd.h"
#include "subnet/etcd_mgr_int.h"

#define ACQUIRE_RETRY_MIN_MS 1000
#define ACQUIRE_RETRY_MAX_MS 5000
#define ACQUIRE_MAX_RACES 100

/* ---- acquire ---- */

static void acquire_list(struct etcd_mgr *m);

/* A transient failure: log, back off, start over from the listing. */
static void acquire_again(struct etcd_mgr *m, const char *what)
{
	log_warnx("acquiring a lease: %s: %s; retrying in %lldms", what, etcd_strerror(m->etcd),
		  (long long)m->acquire_backoff_ms);
	etcd_mgr_schedule(m, m->acquire_backoff_ms, acquire_list);
	m->acquire_backoff_ms *= 2;
	if (m->acquire_backoff_ms > ACQUIRE_RETRY_MAX_MS)
		m->acquire_backoff_ms = ACQUIRE_RETRY_MAX_MS;
}

static void acquire_fail(struct etcd_mgr *m, int rc)
{
	m->acquiring = false;
	etcd_mgr_snapshot_free(m);
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

/* Our write of the key lost to a change made since the listing: let its etcd lease go. */
static void acquire_drop_granted(struct etcd_mgr *m)
{
	if (m->granted)
		etcd_lease_revoke(m->etcd, m->granted, revoke_done, m);
	m->granted = 0;
}

static void acquire_finish(struct etcd_mgr *m, const struct lease *own)
{
	m->acquiring = false;
	etcd_mgr_lease_clear(&m->own);
	m->own = *own;
	/* want stays ours too: both point at the same backend data. */
	lease_attrs_copy(&m->own.attrs, &own->attrs);
	m->own.node.key = m->own.name;
	m->have_own = true;
	if (m->base.cbs.acquired)
		m->base.cbs.acquired(m->base.cbs.arg, 0, &m->own);
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
	own.expiration = m->granted ? etcd_mgr_now_s() + m->ttl_s : 0;
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
		acquire_drop_granted(m);
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
	key = etcd_mgr_key_of(m, m->pick_name);
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

/* Steps 4 and 5 (etcd_mgr_alloc_pick), then the create. */
static void acquire_allocate(struct etcd_mgr *m)
{
	if (etcd_mgr_alloc_pick(m) < 0) {
		/* Leases expire and nodes leave: keep trying rather than exit. */
		log_warnx("out of subnets: every subnet between SubnetMin and SubnetMax is leased; "
			  "retrying in %dms", ACQUIRE_RETRY_MAX_MS);
		etcd_mgr_schedule(m, ACQUIRE_RETRY_MAX_MS, acquire_list);
		return;
	}
	create_pick(m);
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
		acquire_drop_granted(m);
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
	etcd_mgr_snapshot_free(m);
	m->reuse_rev = 0; /* set below only when our old lease is found */
	m->snapshot = xcalloc(res->n + 1, sizeof(*m->snapshot));
	for (size_t i = 0; i < res->n; i++) {
		const struct etcd_kv *kv = &res->kvs[i];
		struct lease *l = &m->snapshot[n];

		if (etcd_mgr_lease_from_kv(m, kv, l) == 0) {
			n++;
			continue;
		}
		/* A valid key with a value we cannot read still occupies its subnet:
		 * keep it (with empty attributes, so it never matches as ours). */
		etcd_mgr_lease_clear(l);
		if (etcd_mgr_key_subnet(m, kv->key, kv->key_len, &l->subnet, l->name, NULL) == 0) {
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
		if (!etcd_mgr_compatible(&m->nc, &mine->subnet)) {
			char *key = etcd_mgr_key_of(m, mine->name);

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
			char *key = etcd_mgr_key_of(m, mine->name);
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

int etcd_mgr_acquire(struct subnet_mgr *base, const struct lease_attrs *attrs)
{
	struct etcd_mgr *m = etcd_mgr_of(base);
	int rc;

	if (!m->have_config || m->acquiring)
		return -EBUSY;
	lease_attrs_free(&m->want);
	free(m->want_json);
	m->want_json = NULL;
	lease_attrs_copy(&m->want, attrs);
	rc = lease_attrs_encode(&m->want, &m->want_json);
	if (rc < 0)
		return rc;
	m->acquiring = true;
	m->races = 0;
	m->acquire_backoff_ms = ACQUIRE_RETRY_MIN_MS;
	acquire_list(m);
	return 0;
}

/* ---- our lease: renewals and loss ---- */

void etcd_mgr_own_lost(struct etcd_mgr *m, const char *why)
{
	if (m->gone)
		return;
	m->gone = true;
	log_warnx("lease %s revoked: %s", m->own.name, why);
	loop_timer_clear(m->loop, &m->renew_timer);
	etcd_watch_cancel(m->watch);
	m->watch = NULL;
	if (m->base.cbs.revoked)
		m->base.cbs.revoked(m->base.cbs.arg);
}

/* Our key changed in etcd (our own renewal, or an operator's edit). */
void etcd_mgr_own_update(struct etcd_mgr *m, const struct lease *l)
{
	bool was_reserved = m->own.store_lease == 0;

	m->own.mod_revision = l->mod_revision;
	if (l->store_lease == m->own.store_lease)
		return;
	m->own.store_lease = l->store_lease;
	if (l->store_lease == 0) {
		m->own.expiration = 0;
		loop_timer_clear(m->loop, &m->renew_timer);
		log_info("lease %s is now a reservation: no more renewals", m->own.name);
	} else if (was_reserved) {
		/* Someone attached a TTL: keep it alive from now on. */
		m->own.expiration = etcd_mgr_now_s() + m->ttl_s;
		log_info("reservation %s became a lease with a TTL; renewing it", m->own.name);
		etcd_mgr_renew_schedule(m, 0);
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
	etcd_mgr_renew_schedule(m, m->retry_s);
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
			etcd_mgr_renew_schedule(m, 1);
		}
		return;
	}
	m->own.store_lease = c->granted;
	m->own.mod_revision = rev;
	m->own.expiration = etcd_mgr_now_s() + m->ttl_s;
	m->renewing = false;
	m->stats.renewals++;
	if (c->old_lease)
		etcd_lease_revoke(m->etcd, c->old_lease, revoke_done, m);
	log_info("renewed lease %s: expires in %llds", m->own.name, (long long)m->ttl_s);
	free(c);
	etcd_mgr_renew_schedule(m, m->ttl_s - m->margin_s);
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
	key = etcd_mgr_key_of(m, m->own.name);
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

void etcd_mgr_renew_schedule(struct etcd_mgr *m, int64_t delay_s)
{
	if (delay_s < 0)
		delay_s = 0;
	loop_timer_set(m->loop, &m->renew_timer, delay_s * 1000, renew_fire, m);
}
