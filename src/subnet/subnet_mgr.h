/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_SUBNET_SUBNET_MGR_H
#define WEFT_SUBNET_SUBNET_MGR_H

/*
 * A subnet manager hands out this node's lease and tells about the others'.
 * It runs on the loop and reports through callbacks: the network config
 * (once valid), the result of acquire, batches of peer events, and the loss
 * of our own lease. etcd today; the Kubernetes manager joins behind the same
 * ops table.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hmap.h"
#include "subnet/lease.h"
#include "subnet/subnet_key.h"

struct netconf;

struct lease {
	struct hmap_node node; /* keyed by name */
	char name[SUBNET_KEY_STRLEN];
	struct subnet_key subnet;
	struct lease_attrs attrs;
	int64_t expiration;   /* unix seconds; 0 = reservation, never expires */
	int64_t store_lease;  /* etcd lease id, 0 for a reservation */
	int64_t mod_revision; /* store revision of the value */
	uint64_t value_hash;  /* of the stored value's bytes: cheap change detection */
};

enum lease_event_kind { LEASE_ADDED, LEASE_REMOVED };

struct lease_event {
	enum lease_event_kind kind;
	const struct lease *lease; /* valid during the callback only */
};

struct subnet_mgr_cbs {
	void *arg;
	/* The network config, validated; called once. */
	void (*config)(void *arg, const struct netconf *nc);
	/* acquire's result: err 0 and our lease, or why it failed for good. Also
	 * called with err < 0 after our lease expired and could not be taken back
	 * (another node holds its subnet now): the caller exits 1, and a restart
	 * acquires afresh. */
	void (*acquired)(void *arg, int err, const struct lease *own);
	/* Peers added (new or changed) or removed; our own lease never appears. */
	void (*peers)(void *arg, const struct lease_event *ev, size_t n);
	/* Our lease was deleted by someone else: time to shut down. */
	void (*revoked)(void *arg);
};

struct subnet_mgr;

/*
 * What the datastore says about this node before it takes a lease (kube:
 * our Node's annotations, read just before cbs.config). Unset addresses have
 * family 0; prev's strings are owned by the caller (lease_attrs_free).
 */
struct subnet_node_hints {
	struct ip_addr public_ip, public_ipv6; /* replace --public-ip(v6) (flannel.md §2 step 7) */
	struct lease_attrs prev; /* backend type and data our previous run published */
};

struct subnet_mgr_stats {
	uint64_t store_requests, store_errors; /* datastore round trips */
	uint64_t watch_restarts;	       /* watch resumed after an interruption */
	uint64_t relists;		       /* full re-lists (compaction) */
	uint64_t renewals, renew_failures;
	uint64_t bad_entries; /* malformed keys or values seen (once each) */
	uint64_t lease_lost;	 /* our lease expired in the store (out of reach past its TTL) */
	uint64_t lease_regained; /* ... and was taken back */
	int64_t lease_expiration; /* unix seconds; 0 = reservation or none */
	bool watch_healthy;	  /* a watch is open and answered */
};

struct subnet_mgr_ops {
	const char *name;
	/* Fetch the network config, retrying until it is valid. */
	int (*start)(struct subnet_mgr *m);
	/* Take a lease carrying attrs (copied). */
	int (*acquire)(struct subnet_mgr *m, const struct lease_attrs *attrs);
	/* Keep the lease (renewals, own-key watch) and report peers. */
	int (*watch)(struct subnet_mgr *m);
	/* The agent is ready: lease held, rules in, subnet.env written, the
	 * first peer set programmed (kube: clear NetworkUnavailable). May be NULL. */
	void (*ready)(struct subnet_mgr *m);
	/* Peers currently known, for status and tests. */
	size_t (*peer_count)(const struct subnet_mgr *m);
	void (*peers_foreach)(const struct subnet_mgr *m,
			      void (*fn)(void *arg, const struct lease *l), void *arg);
	void (*stats)(const struct subnet_mgr *m, struct subnet_mgr_stats *ret);
	/* Valid from cbs.config on; *ret is filled whole. NULL: nothing known. */
	void (*node_hints)(const struct subnet_mgr *m, struct subnet_node_hints *ret);
	/* Our lease now carries attrs (copied): a new public address after the
	 * external interface changed (agent/underlay.h). Written in the
	 * background, retried until it goes through (etcd: our key, compared on
	 * its revision; kube: our Node's annotations); later renewals carry it.
	 * 0, or -errno when no lease is held. NULL: not supported. */
	int (*update_attrs)(struct subnet_mgr *m, const struct lease_attrs *attrs);
	/* Our address changed (agent/underlay.h): a watch stream opened from the
	 * old one is dead without knowing it. End it and resume where it was.
	 * NULL: nothing to do. */
	void (*resume_watches)(struct subnet_mgr *m);
	void (*free)(struct subnet_mgr *m);
};

struct subnet_mgr {
	const struct subnet_mgr_ops *ops;
	struct subnet_mgr_cbs cbs;
};

#endif
