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
 *
 * The jobs are split over files that share etcd_mgr_int.h: this one holds the
 * object, its key layout and the retry timer; _config.c, _alloc.c, _lease.c
 * (acquire and renew), _watch.c (peers) and _bad.c (the bad-key log).
 */
#include "subnet/etcd_mgr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/xmalloc.h"
#include "etcd/etcd.h"
#include "subnet/etcd_mgr_int.h"

#define DEFAULT_TTL_S (24 * 3600)
#define DEFAULT_RETRY_S 60

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

/* ---- keys and lease records ---- */

void etcd_mgr_lease_clear(struct lease *l)
{
	lease_attrs_free(&l->attrs);
	memset(l, 0, sizeof(*l));
}

void etcd_mgr_snapshot_free(struct etcd_mgr *m)
{
	for (size_t i = 0; i < m->n_snapshot; i++)
		etcd_mgr_lease_clear(&m->snapshot[i]);
	free(m->snapshot);
	m->snapshot = NULL;
	m->n_snapshot = 0;
}

/* The lease a key names (subnet_key_from_lease_key), with its canonical name. */
int etcd_mgr_key_subnet(const struct etcd_mgr *m, const char *key, size_t len,
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
int etcd_mgr_lease_from_kv(struct etcd_mgr *m, const struct etcd_kv *kv, struct lease *ret)
{
	struct err err = { 0 };
	int rc;

	memset(ret, 0, sizeof(*ret));
	rc = etcd_mgr_key_subnet(m, kv->key, kv->key_len, &ret->subnet, ret->name, &err);
	if (rc == -ENOENT)
		return rc;
	if (rc < 0) {
		etcd_mgr_note_bad(m, kv->key, kv->key_len, kv->mod_revision, err.msg);
		return rc;
	}
	rc = lease_attrs_decode(kv->value, kv->value_len, &ret->attrs, &err);
	if (rc < 0) {
		etcd_mgr_note_bad(m, kv->key, kv->key_len, kv->mod_revision, err.msg);
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

char *etcd_mgr_key_of(const struct etcd_mgr *m, const char *name)
{
	char *k;

	xasprintf(&k, "%s%s", m->subnets_prefix, name);
	return k;
}

/* ---- timers ---- */

static int64_t retry_fire(struct loop *loop, int64_t id, void *arg)
{
	struct etcd_mgr *m = arg;

	(void)loop;
	(void)id;
	m->timer = 0;
	m->timer_fn(m);
	return LOOP_TIMER_STOP;
}

void etcd_mgr_schedule(struct etcd_mgr *m, int64_t ms, void (*fn)(struct etcd_mgr *m))
{
	m->timer_fn = fn;
	loop_timer_set(m->loop, &m->timer, ms, retry_fire, m);
}

/* ---- the object ---- */

static void mgr_stats(const struct subnet_mgr *base, struct subnet_mgr_stats *ret)
{
	const struct etcd_mgr *m = container_of(base, const struct etcd_mgr, base);
	const struct etcd_stats *es = etcd_stats(m->etcd);

	*ret = m->stats;
	ret->store_requests = es->requests;
	ret->store_errors = es->errors;
	ret->lease_expiration = m->have_own ? m->own.expiration : 0;
}

static void mgr_free(struct subnet_mgr *base)
{
	struct etcd_mgr *m = etcd_mgr_of(base);

	if (!m)
		return;
	loop_timer_clear(m->loop, &m->timer);
	loop_timer_clear(m->loop, &m->renew_timer);
	loop_timer_clear(m->loop, &m->update_timer);
	loop_timer_clear(m->loop, &m->watch_timer);
	loop_timer_clear(m->loop, &m->regain_timer);
	etcd_free(m->etcd); /* also ends the watch, without callbacks */
	etcd_mgr_peers_clear(m);
	etcd_mgr_bad_clear(m);
	etcd_mgr_snapshot_free(m);
	etcd_mgr_lease_clear(&m->own);
	lease_attrs_free(&m->want);
	free(m->want_json);
	netconf_free(&m->nc);
	free(m->config_key);
	free(m->subnets_prefix);
	free(m->owners_prefix);
	free(m->node_id);
	free(m->hostname);
	free(m->owner_json);
	free(m);
}

static const struct subnet_mgr_ops etcd_mgr_ops = {
	.name = "etcd",
	.start = etcd_mgr_start,
	.acquire = etcd_mgr_acquire,
	.watch = etcd_mgr_watch,
	.peer_count = etcd_mgr_peer_count,
	.peers_foreach = etcd_mgr_peers_foreach,
	.stats = mgr_stats,
	.update_attrs = etcd_mgr_update_attrs,
	.resume_watches = etcd_mgr_watch_resume,
	.free = mgr_free,
};

int etcd_mgr_new(const struct etcd_mgr_params *p, const struct subnet_mgr_cbs *cbs,
		 struct subnet_mgr **ret, struct err *err)
{
	struct etcd_mgr *m = xcalloc(1, sizeof(*m));
	char *sub, host[256] = "";
	int rc;

	m->base.ops = &etcd_mgr_ops;
	m->base.cbs = *cbs;
	m->loop = p->loop;
	if (p->node_id)
		m->node_id = xstrdup(p->node_id);
	else if ((rc = etcd_mgr_node_id(&m->node_id, err)) < 0)
		goto fail;
	rc = etcd_new(p->loop, p->etcd, &m->etcd, err);
	if (rc < 0)
		goto fail;
	/* The host name is for people reading the record; the node ID decides. */
	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	for (char *c = host; *c; c++)
		if (*c <= ' ' || *c > '~')
			*c = '?';
	m->hostname = xstrdup(host);
	m->owner_json = etcd_mgr_owner_encode(m->node_id, m->hostname);
	m->config_key = etcd_mgr_join(p->prefix, "config");
	sub = etcd_mgr_join(p->prefix, "subnets");
	xasprintf(&m->subnets_prefix, "%s/", sub);
	free(sub);
	sub = etcd_mgr_join(p->prefix, "weft/owners");
	xasprintf(&m->owners_prefix, "%s/", sub);
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
fail:
	free(m->node_id);
	free(m);
	return rc;
}
