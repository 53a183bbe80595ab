// SPDX-License-Identifier: Apache-2.0
/*
 * An expired lease taken back. When etcd is out of reach for longer than our
 * lease's TTL, etcd expires our key; once it is back, the watch (or a
 * re-list) shows the key gone at or after our expiration: etcd_mgr_own_lost()
 * comes here instead of shutting down (flannel would exit 0 and stay down
 * under Restart=on-failure). The same key is created again if it is still
 * absent (create-if-absent, a fresh etcd lease, our owner record beside it),
 * then renewals resume; the watch never stopped, and the backend's devices
 * and routes were never touched. A subnet taken by another node meanwhile
 * ends the agent with 1 (acquired(err)), so that a restart acquires afresh.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "etcd/etcd.h"
#include "subnet/etcd_mgr_int.h"

#define REGAIN_RETRY_MIN_MS 500
#define REGAIN_RETRY_MAX_MS 5000

/* What the key holds now, while its owner record is read. */
struct regain_seen {
	struct etcd_mgr *m;
	char pub[IP_ADDR_STRLEN];
	bool ours; /* our public address */
	int64_t lease, mod_revision;
};

static void regain_grant(struct etcd_mgr *m);

static void revoke_done(void *arg, int rc, int64_t rev, bool ok)
{
	(void)arg;
	(void)rc;
	(void)rev;
	(void)ok;
}

static int64_t regain_fire(struct loop *loop, int64_t id, void *arg)
{
	struct etcd_mgr *m = arg;

	(void)loop;
	(void)id;
	m->regain_timer = 0;
	if (m->regaining && !m->gone)
		regain_grant(m);
	return LOOP_TIMER_STOP;
}

/* A transient failure (etcd flapping): log, back off, try again. */
static void regain_again(struct etcd_mgr *m, const char *what)
{
	log_warnx("taking lease %s back: %s: %s; retrying in %lldms", m->own.name, what,
		  etcd_strerror(m->etcd), (long long)m->regain_backoff_ms);
	loop_timer_set(m->loop, &m->regain_timer, m->regain_backoff_ms, regain_fire, m);
	m->regain_backoff_ms *= 2;
	if (m->regain_backoff_ms > REGAIN_RETRY_MAX_MS)
		m->regain_backoff_ms = REGAIN_RETRY_MAX_MS;
}

/* Stop keeping our lease: no renewals, no watch, no regain; report once. */
static void stop_all(struct etcd_mgr *m)
{
	m->gone = true;
	m->regaining = false;
	loop_timer_clear(m->loop, &m->renew_timer);
	loop_timer_clear(m->loop, &m->regain_timer);
	etcd_watch_cancel(m->watch);
	m->watch = NULL;
}

static void taken_report(struct etcd_mgr *m, const char *pub, const char *node, const char *host)
{
	log_error("lease %s expired while etcd was out of reach, and its subnet was taken "
		  "meanwhile by another node (public IP %s, node ID %s, host %s); exiting "
		  "with 1 so that a restart acquires a fresh subnet",
		  m->own.name, pub[0] ? pub : "unreadable", node && node[0] ? node : "unknown",
		  host && host[0] ? host : "unknown");
	if (m->base.cbs.acquired)
		m->base.cbs.acquired(m->base.cbs.arg, -EADDRINUSE, NULL);
}

static void taken_owner_got(void *arg, int rc, const struct etcd_range_result *res)
{
	struct regain_seen *s = arg;
	char *node = NULL, *host = NULL;

	if (rc == 0 && res->n == 1)
		etcd_mgr_owner_decode(res->kvs[0].value, res->kvs[0].value_len, &node, &host, NULL);
	taken_report(s->m, s->pub, node, host);
	free(node);
	free(host);
	free(s);
}

/* Name the taker (its owner record, when it has one), then report. */
static void taken(struct etcd_mgr *m, struct regain_seen *s)
{
	char *okey = etcd_mgr_owner_key(m, m->own.name);

	stop_all(m);
	if (etcd_get(m->etcd, okey, taken_owner_got, s) < 0)
		taken_owner_got(s, -EIO, NULL);
	free(okey);
}

void etcd_mgr_own_taken(struct etcd_mgr *m, const struct lease *l)
{
	struct regain_seen *s = xcalloc(1, sizeof(*s));

	s->m = m;
	if (l->attrs.public_ip.family && !ip_addr_is_unset(&l->attrs.public_ip))
		ip_addr_format(&l->attrs.public_ip, s->pub);
	else if (l->attrs.public_ipv6.family)
		ip_addr_format(&l->attrs.public_ipv6, s->pub);
	taken(m, s);
}

static void regain_done(struct etcd_mgr *m, int64_t lease, int64_t rev, int64_t expiration)
{
	int64_t failing = m->renew_failing_since;

	m->regaining = false;
	m->own.store_lease = lease;
	m->own.mod_revision = rev;
	m->own.expiration = expiration;
	m->renew_failing_since = 0;
	m->stats.lease_regained++;
	if (failing)
		log_info("regained lease %s: the same subnet, a new etcd lease (renewals had "
			 "failed for %llds); renewing again",
			 m->own.name, (long long)(etcd_mgr_now_s() - failing));
	else
		log_info("regained lease %s: the same subnet, a new etcd lease; renewing again",
			 m->own.name);
	etcd_mgr_renew_schedule(m, expiration - m->margin_s - etcd_mgr_now_s());
}

/* The key exists again: ours (an earlier attempt of ours got through) or taken. */
static void seen_owner_got(void *arg, int rc, const struct etcd_range_result *res)
{
	struct regain_seen *s = arg;
	struct etcd_mgr *m = s->m;
	char *node = NULL, *host = NULL;
	bool mine;

	if (!m->regaining || m->gone) {
		free(s);
		return;
	}
	if (rc == -EACCES)
		etcd_mgr_owners_denied(m); /* judged by the value alone, as flannel would */
	else if (rc < 0) {
		free(s);
		regain_again(m, "reading the owner record of our subnet");
		return;
	}
	mine = s->ours;
	if (mine && rc == 0 && res->n == 1 &&
	    etcd_mgr_owner_decode(res->kvs[0].value, res->kvs[0].value_len, &node, &host, NULL) ==
		    0)
		mine = strcmp(node, m->node_id) == 0;
	free(node);
	free(host);
	if (!mine) {
		taken(m, s);
		return;
	}
	/* Written by one of our attempts whose answer was lost: adopt it and
	 * renew at once (its expiration is not known here). */
	regain_done(m, s->lease, s->mod_revision, etcd_mgr_now_s());
	free(s);
}

static void regain_checked(void *arg, int rc, const struct etcd_range_result *res)
{
	struct etcd_mgr *m = arg;
	struct regain_seen *s;
	struct lease l;
	char *okey;

	if (!m->regaining || m->gone)
		return;
	if (rc < 0) {
		regain_again(m, "reading our subnet's key");
		return;
	}
	if (res->n == 0) {
		regain_grant(m); /* gone again meanwhile: create it now */
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->m = m;
	s->lease = res->kvs[0].lease;
	s->mod_revision = res->kvs[0].mod_revision;
	if (etcd_mgr_lease_from_kv(m, &res->kvs[0], &l) == 0) {
		s->ours = s->lease && etcd_mgr_ours(&m->want, &l.attrs);
		if (l.attrs.public_ip.family && !ip_addr_is_unset(&l.attrs.public_ip))
			ip_addr_format(&l.attrs.public_ip, s->pub);
		else if (l.attrs.public_ipv6.family)
			ip_addr_format(&l.attrs.public_ipv6, s->pub);
		etcd_mgr_lease_clear(&l);
	}
	okey = etcd_mgr_owner_key(m, m->own.name);
	if (etcd_get(m->etcd, okey, seen_owner_got, s) < 0) {
		free(s);
		regain_again(m, "reading the owner record of our subnet");
	}
	free(okey);
}

static void regain_created(void *arg, int rc, int64_t rev, bool ok)
{
	struct etcd_mgr *m = arg;
	char *key;

	if (!m->regaining || m->gone)
		return;
	if (rc < 0) {
		/* Unknown outcome: the next attempt finds our key if it was written. */
		regain_again(m, "creating our key again");
		return;
	}
	if (!ok) {
		etcd_lease_revoke(m->etcd, m->regain_granted, revoke_done, m);
		m->regain_granted = 0;
		key = etcd_mgr_key_of(m, m->own.name);
		if (etcd_get(m->etcd, key, regain_checked, m) < 0)
			regain_again(m, "reading our subnet's key");
		free(key);
		return;
	}
	regain_done(m, m->regain_granted, rev, m->regain_granted_at + m->ttl_s);
}

static void regain_granted(void *arg, int rc, int64_t id, int64_t ttl)
{
	struct etcd_mgr *m = arg;

	(void)ttl;
	if (!m->regaining || m->gone) {
		if (rc == 0)
			etcd_lease_revoke(m->etcd, id, revoke_done, m);
		return;
	}
	if (rc < 0) {
		regain_again(m, "granting an etcd lease");
		return;
	}
	m->regain_granted = id;
	if (etcd_mgr_write_own(m, m->own.name, 0, id, regain_created, m) < 0)
		regain_again(m, "starting the create transaction");
}

static void regain_grant(struct etcd_mgr *m)
{
	m->regain_granted_at = etcd_mgr_now_s();
	if (etcd_lease_grant(m->etcd, m->ttl_s, regain_granted, m) < 0)
		regain_again(m, "granting an etcd lease");
}

bool etcd_mgr_loss_is_expiry(const struct lease *own, int64_t now)
{
	return own->store_lease != 0 && own->expiration != 0 && now >= own->expiration;
}

void etcd_mgr_regain(struct etcd_mgr *m, const char *why)
{
	int64_t now = etcd_mgr_now_s();

	m->regaining = true;
	m->stats.lease_lost++;
	loop_timer_clear(m->loop, &m->renew_timer);
	log_warnx("lease %s expired in etcd (%s; %llds past its expiry, renewals failing for "
		  "%llds): etcd was out of reach for longer than the lease TTL (%llds); taking "
		  "the same subnet back, the data path stays up",
		  m->own.name, why, (long long)(now - m->own.expiration),
		  (long long)(m->renew_failing_since ? now - m->renew_failing_since : 0),
		  (long long)m->ttl_s);
	m->regain_backoff_ms = REGAIN_RETRY_MIN_MS;
	regain_grant(m);
}
