// SPDX-License-Identifier: Apache-2.0
/*
 * The etcd manager's own lease: acquired (our old lease found by public
 * address and reused, else a subnet picked and created, a lost creation race
 * picking again) and then kept: renewed before it expires, followed when an
 * operator edits it, reported once when it is gone. Beside our lease goes
 * our owner record (etcd_mgr_owner.c): a lease found by public address is
 * reused only when no record names another node.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
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

/* Owner records are weft's own: where etcd's role does not let us write
 * them, the lease is written alone, as flannel writes it, once it said so. */
void etcd_mgr_owners_denied(struct etcd_mgr *m)
{
	if (m->owners_denied)
		return;
	m->owners_denied = true;
	log_warnx("etcd refuses us %s (permission denied): leases are written without owner "
		  "records, so a second node with our public IP cannot be detected; grant "
		  "this user readwrite on that prefix to turn the check on",
		  m->owners_prefix);
}

struct write_own {
	struct etcd_mgr *m;
	char *name;
	int64_t mod_revision, lease;
	void (*cb)(void *arg, int err, int64_t rev, bool ok);
	void *arg;
};

static int write_own(struct etcd_mgr *m, const char *name, int64_t mod_revision, int64_t lease,
		     void (*cb)(void *arg, int err, int64_t rev, bool ok), void *arg);

static void write_own_done(void *arg, int rc, int64_t rev, bool ok)
{
	struct write_own *w = arg;

	if (rc == -EACCES && !w->m->owners_denied) {
		etcd_mgr_owners_denied(w->m);
		rc = write_own(w->m, w->name, w->mod_revision, w->lease, w->cb, w->arg);
		if (rc == 0)
			goto out;
		w->cb(w->arg, rc, 0, false);
		goto out;
	}
	w->cb(w->arg, rc, rev, ok);
out:
	free(w->name);
	free(w);
}

static int write_own(struct etcd_mgr *m, const char *name, int64_t mod_revision, int64_t lease,
		     void (*cb)(void *arg, int err, int64_t rev, bool ok), void *arg)
{
	char *key = etcd_mgr_key_of(m, name), *owner = etcd_mgr_owner_key(m, name);
	struct etcd_txn_put puts[2] = {
		{ key, m->want_json, strlen(m->want_json), lease },
		{ owner, m->owner_json, strlen(m->owner_json), lease },
	};
	/* A reservation stays the operator's: no TTL-less owner record. */
	size_t n = lease && !m->owners_denied ? 2 : 1;
	struct write_own *w = NULL;
	int rc;

	if (n == 2) {
		w = xcalloc(1, sizeof(*w));
		*w = (struct write_own){ m, xstrdup(name), mod_revision, lease, cb, arg };
	}
	rc = etcd_txn_puts(m->etcd, key, mod_revision, puts, n, w ? write_own_done : cb,
			   w ? (void *)w : arg);
	if (rc < 0 && w) {
		free(w->name);
		free(w);
	}
	free(key);
	free(owner);
	return rc;
}

int etcd_mgr_write_own(struct etcd_mgr *m, const char *name, int64_t mod_revision, int64_t lease,
		       void (*cb)(void *arg, int err, int64_t rev, bool ok), void *arg)
{
	return write_own(m, name, mod_revision, lease, cb, arg);
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
	own.expiration = m->granted ? m->granted_at + m->ttl_s : 0;
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

	(void)ttl;
	if (rc < 0) {
		acquire_again(m, "granting an etcd lease");
		return;
	}
	m->granted = id;
	if (m->reuse_rev) {
		if (etcd_mgr_write_own(m, m->pick_name, m->reuse_rev, id, acquire_reused, m) < 0)
			acquire_again(m, "writing our lease");
	} else if (etcd_mgr_write_own(m, m->pick_name, 0, id, acquire_created, m) < 0) {
		acquire_again(m, "starting the create transaction");
	}
}

/* Our expiration counts from before the grant: never later than etcd's. */
static void acquire_grant(struct etcd_mgr *m)
{
	m->granted_at = etcd_mgr_now_s();
	if (etcd_lease_grant(m->etcd, m->ttl_s, acquire_granted, m) < 0)
		acquire_again(m, "granting an etcd lease");
}

static void create_pick(struct etcd_mgr *m)
{
	subnet_key_format(&m->pick, m->pick_name, sizeof(m->pick_name));
	acquire_grant(m);
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

bool etcd_mgr_ours(const struct lease_attrs *want, const struct lease_attrs *a)
{
	if (want->public_ip.family && !ip_addr_is_unset(&want->public_ip))
		return a->public_ip.family && ip_addr_equal(&a->public_ip, &want->public_ip);
	/* IPv6-only: every node says 0.0.0.0; match on the IPv6 address. */
	return want->public_ipv6.family && a->public_ipv6.family &&
	       ip_addr_equal(&a->public_ipv6, &want->public_ipv6);
}

/* Our old lease (found by public address, its owner checked) written back. */
static void acquire_reuse(struct etcd_mgr *m, const struct lease *mine)
{
	m->reuse_rev = mine->mod_revision;
	m->reuse_old_lease = mine->store_lease;
	if (mine->store_lease == 0) {
		/* A reservation: keep it TTL-less (upstream issue #1329). */
		m->granted = 0;
		if (lease_attrs_equal(&mine->attrs, &m->want))
			acquire_reused(m, 0, mine->mod_revision, true);
		else if (etcd_mgr_write_own(m, mine->name, mine->mod_revision, 0, acquire_reused,
					    m) < 0)
			acquire_again(m, "writing our reservation");
		return;
	}
	acquire_grant(m);
}

/* Another node's owner record stands on the lease of our public address. */
static void acquire_refuse(struct etcd_mgr *m, const struct lease *mine, const char *node,
			   const char *host)
{
	char pub[IP_ADDR_STRLEN], *key = etcd_mgr_key_of(m, mine->name),
				  *okey = etcd_mgr_owner_key(m, mine->name);
	const struct ip_addr *ip =
		mine->attrs.public_ip.family && !ip_addr_is_unset(&mine->attrs.public_ip)
			? &mine->attrs.public_ip
			: &mine->attrs.public_ipv6;

	log_error("public IP %s is already used by lease %s of another node (node ID %s, "
		  "host %s; this node is %s): two nodes with one public IP would share one "
		  "subnet; refusing to start. Give each node its own public address "
		  "(--public-ip, --iface, --iface-regex); if that node is gone for good "
		  "(re-installed with a new machine-id), let its lease expire or delete %s and %s",
		  ip_addr_format(ip, pub), mine->name, node, host[0] ? host : "unknown", m->node_id,
		  key, okey);
	free(key);
	free(okey);
	acquire_fail(m, -EADDRINUSE);
}

static void owner_got(void *arg, int rc, const struct etcd_range_result *res)
{
	struct etcd_mgr *m = arg;
	const struct lease *mine;
	char *node = NULL, *host = NULL;
	struct err err = { 0 };

	mine = &m->snapshot[m->reuse_idx];
	if (rc == -EACCES) {
		etcd_mgr_owners_denied(m);
		acquire_reuse(m, mine);
		return;
	}
	if (rc < 0) {
		acquire_again(m, "reading the owner record of our previous lease");
		return;
	}
	if (res->n == 0) {
		/* flannel, an older weft, or an operator's reservation. */
		if (mine->store_lease)
			log_info("lease %s for our public address has no owner record (written by "
				 "flannel or an older weft): reusing it as flannel does; that it "
				 "is this node's cannot be verified",
				 mine->name);
		acquire_reuse(m, mine);
		return;
	}
	if (etcd_mgr_owner_decode(res->kvs[0].value, res->kvs[0].value_len, &node, &host,
				  &err) < 0) {
		log_warnx("lease %s: %s; reusing the lease as flannel does", mine->name, err.msg);
		acquire_reuse(m, mine);
		return;
	}
	if (strcmp(node, m->node_id) == 0)
		acquire_reuse(m, mine);
	else
		acquire_refuse(m, mine, node, host);
	free(node);
	free(host);
}

static void owner_read(struct etcd_mgr *m)
{
	char *okey = etcd_mgr_owner_key(m, m->pick_name);

	if (etcd_get(m->etcd, okey, owner_got, m) < 0)
		acquire_again(m, "reading the owner record of our previous lease");
	free(okey);
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
		if (etcd_mgr_ours(&m->want, &m->snapshot[i].attrs))
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
		m->reuse_idx = (size_t)(mine - m->snapshot);
		owner_read(m);
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

/*
 * Our key is gone. At or after our expiration (which counts from before the
 * grant, so never later than etcd's), with renewals failing, etcd expired it:
 * we were out of reach for longer than the TTL; take it back. Before it,
 * someone deleted it or revoked its etcd lease: an operator's revoke.
 */
void etcd_mgr_own_lost(struct etcd_mgr *m, const char *why)
{
	if (m->gone || m->regaining)
		return;
	if (etcd_mgr_loss_is_expiry(&m->own, etcd_mgr_now_s())) {
		etcd_mgr_regain(m, why);
		return;
	}
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

	if (m->regaining || m->gone)
		return; /* the regain's own transaction decides */
	if (l->mod_revision < m->own.mod_revision)
		return; /* older than what we wrote last: history */
	if (!etcd_mgr_ours(&m->want, &l->attrs) && l->store_lease != m->own.store_lease) {
		/* Another node's lease on our subnet: ours expired and was taken. */
		etcd_mgr_own_taken(m, l);
		return;
	}
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
	int64_t granted_at;
	int64_t old_lease;
};

static void renew_fail(struct etcd_mgr *m, const char *what)
{
	m->stats.renew_failures++;
	if (!m->renew_failing_since)
		m->renew_failing_since = etcd_mgr_now_s();
	log_warnx("renewing lease %s: %s: %s; retrying in %llds", m->own.name, what,
		  etcd_strerror(m->etcd), (long long)m->retry_s);
	m->renewing = false;
	etcd_mgr_renew_schedule(m, m->retry_s);
}

/* Our key changed under a renewal: gone (lost: expired or revoked), or edited. */
static void renew_checked(void *arg, int rc, const struct etcd_range_result *res)
{
	struct etcd_mgr *m = arg;

	m->renewing = false;
	if (m->gone || m->regaining)
		return;
	if (rc < 0) {
		renew_fail(m, "reading our key");
		return;
	}
	if (res->n == 0) {
		etcd_mgr_own_lost(m, "our key was gone when we renewed it");
		return;
	}
	/* Edited: the watch brings the new state (a reservation: no renewal). */
	log_info("lease %s changed in etcd while renewing; retrying", m->own.name);
	etcd_mgr_renew_schedule(m, 1);
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
			/* The key changed since we last saw it: look at it. */
			char *key = etcd_mgr_key_of(m, m->own.name);

			if (etcd_get(m->etcd, key, renew_checked, m) < 0)
				renew_checked(m, -EIO, NULL);
			free(key);
		}
		return;
	}
	m->own.store_lease = c->granted;
	m->own.mod_revision = rev;
	m->own.expiration = c->granted_at + m->ttl_s;
	m->renewing = false;
	m->renew_failing_since = 0;
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

	(void)ttl;
	if (rc < 0) {
		free(c);
		renew_fail(m, "granting an etcd lease");
		return;
	}
	if (m->own.store_lease == 0 || m->gone || m->regaining) {
		/* Became a reservation (or was revoked, or expired) meanwhile. */
		etcd_lease_revoke(m->etcd, id, revoke_done, m);
		free(c);
		m->renewing = false;
		return;
	}
	c->granted = id;
	c->old_lease = m->own.store_lease;
	if (etcd_mgr_write_own(m, m->own.name, m->own.mod_revision, id, renew_put, c) < 0)
		renew_put(c, -EIO, 0, false);
}

static int64_t renew_fire(struct loop *loop, int64_t id, void *arg)
{
	struct etcd_mgr *m = arg;
	struct renew_ctx *c;

	(void)loop;
	(void)id;
	m->renew_timer = 0;
	if (m->own.store_lease == 0 || m->gone || m->regaining || m->renewing)
		return LOOP_TIMER_STOP;
	m->renewing = true;
	c = xcalloc(1, sizeof(*c));
	c->m = m;
	c->granted_at = etcd_mgr_now_s();
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
