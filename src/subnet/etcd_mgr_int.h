/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_SUBNET_ETCD_MGR_INT_H
#define WEFT_SUBNET_ETCD_MGR_INT_H

/*
 * The etcd manager's state, shared by the files of src/subnet/etcd_mgr*.c
 * (not a public header): etcd_mgr.c (object, key layout, timers), _config.c,
 * _alloc.c, _lease.c (acquire and renew), _owner.c (who holds a lease),
 * _regain.c (an expired lease taken back), _watch.c (peers), _bad.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/container_of.h"
#include "core/hmap.h"
#include "core/loop.h"
#include "subnet/netconf.h"
#include "subnet/subnet_env.h"
#include "subnet/subnet_key.h"
#include "subnet/subnet_mgr.h"

struct err;
struct etcd;
struct etcd_kv;
struct etcd_watch;

struct etcd_mgr {
	struct subnet_mgr base;
	struct loop *loop;
	struct etcd *etcd;
	char *config_key;
	char *subnets_prefix; /* "<prefix>/subnets/" */
	char *owners_prefix;  /* "<prefix>/weft/owners/": who holds each lease (weft only) */
	char *node_id, *hostname;
	char *owner_json; /* {"NodeID":..,"Hostname":..}: written next to our lease */
	/* etcd refused us <prefix>/weft/owners/ (a role scoped to subnets/, as
	 * flannel needs): leases are written without owner records from then on. */
	bool owners_denied;
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
	int64_t granted_at;	 /* when the grant was asked for: our expiration counts from it */
	int64_t reuse_rev;	 /* mod_revision of our old lease being reused */
	int64_t reuse_old_lease; /* its etcd lease, revoked once replaced */
	size_t reuse_idx;	 /* its place in the snapshot, while its owner is read */
	int races;
	int64_t acquire_backoff_ms;
	bool acquiring;

	/* our lease */
	struct lease own;
	bool have_own;
	int64_t renew_timer;
	bool renewing;
	int64_t renew_failing_since; /* unix seconds of the first failure in a row; 0 */

	/* an expired lease being taken back (etcd_mgr_regain.c) */
	bool regaining;
	int64_t regain_granted;
	int64_t regain_granted_at;
	int64_t regain_backoff_ms;
	int64_t regain_timer;
	int64_t update_timer; /* etcd_mgr_update.c: new attributes written, retried */
	bool updating, update_again;

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

	int64_t timer;			      /* config / acquire retry */
	void (*timer_fn)(struct etcd_mgr *m); /* the step it retries */
	bool gone;			      /* revoked: report once */
	struct subnet_mgr_stats stats;
};

static inline struct etcd_mgr *etcd_mgr_of(struct subnet_mgr *base)
{
	return container_of(base, struct etcd_mgr, base);
}

static inline int64_t etcd_mgr_now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- etcd_mgr.c: keys, lease records, timers ---- */

/* Frees the attributes and empties *l. */
void etcd_mgr_lease_clear(struct lease *l);
/* Frees the leases listed by the current acquire attempt. */
void etcd_mgr_snapshot_free(struct etcd_mgr *m);
/* "<prefix>/subnets/<name>", freed by the caller. */
char *etcd_mgr_key_of(const struct etcd_mgr *m, const char *name);
/* The lease a key names (subnet_key_from_lease_key), with its canonical name. */
int etcd_mgr_key_subnet(const struct etcd_mgr *m, const char *key, size_t len,
			struct subnet_key *ret, char name[SUBNET_KEY_STRLEN], struct err *err);
/* One stored lease decoded: 0, -ENOENT (not under subnets/) or -EINVAL (noted). */
int etcd_mgr_lease_from_kv(struct etcd_mgr *m, const struct etcd_kv *kv, struct lease *ret);
/* (Re)arms the config / acquire retry timer to call fn(m). */
void etcd_mgr_schedule(struct etcd_mgr *m, int64_t ms, void (*fn)(struct etcd_mgr *m));

/* ---- etcd_mgr_config.c ---- */

/* ops->start: fetch the network config, retrying until it is valid. */
int etcd_mgr_start(struct subnet_mgr *base);

/* ---- etcd_mgr_alloc.c ---- */

/* Does the subnet fit the network config (family, length, range)? */
bool etcd_mgr_compatible(const struct netconf *nc, const struct subnet_key *k);
/* m->pick: the previous subnet if it is free, else a random free one; -ENOSPC. */
int etcd_mgr_alloc_pick(struct etcd_mgr *m);

/* ---- etcd_mgr_lease.c: acquire and renew ---- */

/* ops->acquire: list, pick or reuse, write our key. */
int etcd_mgr_acquire(struct subnet_mgr *base, const struct lease_attrs *attrs);
/* Our key changed in etcd (our own renewal, or an operator's edit). */
void etcd_mgr_own_update(struct etcd_mgr *m, const struct lease *l);
/* Our lease is gone: stop renewing and watching, report once. */
void etcd_mgr_own_lost(struct etcd_mgr *m, const char *why);
/* Renew our lease in delay_s seconds (now when negative). */
void etcd_mgr_renew_schedule(struct etcd_mgr *m, int64_t delay_s);

/* Did a, a lease's attributes, come from us (same public address)? */
bool etcd_mgr_ours(const struct lease_attrs *want, const struct lease_attrs *a);
/*
 * Write our lease under name: the subnet key with want_json and, when lease is
 * not 0, the owner key with owner_json, both with that etcd lease, in one
 * transaction that holds only if the subnet key's mod_revision is still
 * mod_revision (0: the key must be absent).
 */
int etcd_mgr_write_own(struct etcd_mgr *m, const char *name, int64_t mod_revision, int64_t lease,
		       void (*cb)(void *arg, int err, int64_t rev, bool ok), void *arg);
/* etcd refused <prefix>/weft/owners/: say so once, go on without records. */
void etcd_mgr_owners_denied(struct etcd_mgr *m);

/* ---- etcd_mgr_owner.c: who holds a lease ---- */

/* This node's identity: $WEFT_NODE_ID, else /etc/machine-id, else the host name. */
int etcd_mgr_node_id(char **ret, struct err *err);
/* {"NodeID":..,"Hostname":..}, freed by the caller. */
char *etcd_mgr_owner_encode(const char *node_id, const char *hostname);
/* An owner record read back: NodeID and Hostname (either may be empty); -EINVAL. */
int etcd_mgr_owner_decode(const char *value, size_t len, char **node_id, char **hostname,
			  struct err *err);
/* "<prefix>/weft/owners/<name>", freed by the caller. */
char *etcd_mgr_owner_key(const struct etcd_mgr *m, const char *name);

/* ---- etcd_mgr_regain.c: an expired lease taken back ---- */

/*
 * Our key is gone at now: an expiry (a lease with a TTL, at or after its
 * expiration, which counts from before the grant and so is never later than
 * etcd's) rather than a revoke (a reservation, or before the expiration)?
 */
bool etcd_mgr_loss_is_expiry(const struct lease *own, int64_t now);
/* Our key expired in etcd (out of reach past its TTL): create it again. */
void etcd_mgr_regain(struct etcd_mgr *m, const char *why);
/* Our key holds another node's lease: log who, and report the failure (exit 1). */
void etcd_mgr_own_taken(struct etcd_mgr *m, const struct lease *l);

/* ---- etcd_mgr_update.c: our lease's attributes changed ---- */

/* ops->update_attrs: our key rewritten with attrs under our etcd lease. */
int etcd_mgr_update_attrs(struct subnet_mgr *base, const struct lease_attrs *attrs);

/* ---- etcd_mgr_watch.c: peers ---- */

/* ops->watch: the acquire listing as first peers, then the prefix watch. */
int etcd_mgr_watch(struct subnet_mgr *base);
/* ops->resume_watches: the prefix watch ended and started again, from the
 * revision it had reached. */
void etcd_mgr_watch_resume(struct subnet_mgr *base);
/* ops->peer_count and ops->peers_foreach. */
size_t etcd_mgr_peer_count(const struct subnet_mgr *base);
void etcd_mgr_peers_foreach(const struct subnet_mgr *base,
			    void (*fn)(void *arg, const struct lease *l), void *arg);
/* Frees every peer record. */
void etcd_mgr_peers_clear(struct etcd_mgr *m);

/* ---- etcd_mgr_bad.c: the bad-key log ---- */

/* Log a key or value we cannot use, once per key and revision. */
void etcd_mgr_note_bad(struct etcd_mgr *m, const char *key, size_t len, int64_t rev,
		       const char *why);
/* The key is usable again: a later refusal is logged anew. */
void etcd_mgr_forget_bad(struct etcd_mgr *m, const char *key, size_t len);
/* Frees every note. */
void etcd_mgr_bad_clear(struct etcd_mgr *m);

#endif
