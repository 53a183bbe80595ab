/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_SUBNET_KUBE_MGR_INT_H
#define WEFT_SUBNET_KUBE_MGR_INT_H

/*
 * The Kubernetes subnet manager's state, shared by its files (not a public
 * header): kube_mgr.c (the ops, new/free), kube_mgr_start.c (net-conf, our
 * node name, the first read of our Node), kube_mgr_peers.c (the nodes we
 * program), kube_mgr_watch.c (list + watch of all Nodes), kube_mgr_acquire.c
 * (our subnet from our Node), kube_mgr_annot.c (the retrying status patch,
 * our annotations kept in place), kube_mgr_cond.c (NetworkUnavailable).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/container_of.h"
#include "core/hmap.h"
#include "core/loop.h"
#include "http/client.h"
#include "kube/node.h"
#include "subnet/lease.h"
#include "subnet/netconf.h"
#include "subnet/subnet_mgr.h"

#define UNARY_TIMEOUT_MS 30000
#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 30000

struct kube_client;

/* One node we program: its lease, keyed by node name (and by lease name in
 * m->leases, which guards against two nodes claiming one subnet). */
struct kpeer {
	struct hmap_node node; /* m->nodes */
	char *name;
	struct lease lease;    /* lease.node: m->leases */
	uint64_t seen_gen;     /* last list that contained it */
	struct kpeer *next_free;
};

struct kube_mgr;

/*
 * A PATCH of our Node's status that is retried with backoff until it goes
 * through: our annotations written again, the NetworkUnavailable condition.
 */
struct status_patch {
	struct kube_mgr *m;
	/* The patch to send; NULL: nothing to send now. */
	char *(*body)(struct kube_mgr *m);
	/* Log the outcome: why NULL when it went through, else why it failed
	 * and when it is tried again. */
	void (*done)(struct kube_mgr *m, const char *why, int64_t retry_ms);
	int64_t timer, backoff_ms;
	struct http_req *req;
};

/* Peer events collected while handling one answer, delivered at once. */
struct batch {
	struct lease_event *ev;
	size_t n, cap;
	struct kpeer *dead; /* removed peers, freed after delivery */
};

struct kube_mgr {
	struct subnet_mgr base;
	struct loop *loop;
	struct kube_client *client;
	struct kube_annots an;
	char *source; /* how we reach the API, for logs */
	char *net_config_path;
	bool set_nnu;
	bool cond_started; /* NetworkUnavailable=False patched (or under way) */
	char *pod_ns, *pod_name;
	char *node_name;

	/* start-up: config, node name, our node */
	struct netconf nc;
	bool have_config;
	bool configured; /* cbs.config was called */
	int64_t start_timer, start_backoff_ms;
	struct http_req *start_req;

	struct kube_node own_node; /* latest version seen */
	bool have_own_node;

	/* acquire */
	struct lease_attrs want;
	bool acquiring, wait_sync, acq_refetch;
	int64_t acq_timer, acq_backoff_ms;
	struct http_req *acq_req;
	char last_acq_err[256];
	struct lease own;
	bool have_own;
	bool own_warned_cidr, own_warned_deleted;

	/* our annotations written again after acquire */
	struct status_patch repatch;
	int64_t repatch_last_ms, repatch_delay_ms; /* slows down a tug of war */

	/* NetworkUnavailable condition */
	struct status_patch cond;

	/* peers: list + watch */
	struct hmap nodes, leases, bad;
	char *rv;	   /* resourceVersion to resume from */
	bool synced;	   /* a full list completed */
	bool emitting;	   /* watch() was called: report changes */
	uint64_t list_gen; /* current list's generation */
	uint64_t own_seen_gen; /* last list that contained our node */
	char *list_continue;
	char *list_rv;
	size_t list_page, list_items, list_changes;
	struct http_req *list_req, *watch_req;
	int64_t lw_timer, lw_backoff_ms;
	bool need_list;
	int watch_fails;
	int64_t watch_started_ms;
	bool watch_got_line;
	long watch_err_code; /* Status.code of an ERROR event / error body */
	char watch_err_msg[256];

	/* flanneld's informer: off for the alloc backend (someone else routes);
	 * the first list must complete within sync_timeout_ms, else start-up
	 * fails, or goes on when cont_unsynced (CONT_WHEN_CACHE_NOT_READY). */
	bool informer_off, cont_unsynced, sync_gave_up;
	int64_t sync_timeout_ms, sync_timer;
	/* EVENT_QUEUE_DEPTH: the most peer events handed over in one call */
	size_t queue_depth;

	struct subnet_mgr_stats stats;
};

/* kube_mgr.c: helpers */

/* The next retry delay (±20%) from *cur, which doubles up to max. */
int64_t kube_mgr_backoff_next(int64_t *cur, int64_t min, int64_t max);
/* A failed answer in words: "HTTP 403 (Forbidden: ...)" or the transport error. */
void kube_mgr_describe(int err, long status, const char *body, size_t len, const char *errmsg,
		       char *buf, size_t n);
/* GET path with done(m, ...); a request that cannot start is answered at once. */
void kube_mgr_get(struct kube_mgr *m, const char *path, http_done_cb *done, struct http_req **req);

/* kube_mgr_start.c */

/* The next start-up step: net-conf, our node name, our Node, then cbs.config. */
void kube_mgr_start_step(struct kube_mgr *m);

/* kube_mgr_peers.c */

/* Queue a peer event in b. */
void kube_mgr_batch_add(struct batch *b, enum lease_event_kind kind, const struct lease *l);
/* Deliver b's events (once watch() was called) and free the peers it removed. */
void kube_mgr_batch_flush(struct kube_mgr *m, struct batch *b);
/* Stop programming p (freed by the flush of b). */
void kube_mgr_peer_remove(struct kube_mgr *m, struct kpeer *p, struct batch *b);
/* A node we cannot use: say why, once per node and reason. */
void kube_mgr_note_bad(struct kube_mgr *m, const char *name, const char *why);
/* A node whose object does not decode (name NULL: without one). */
void kube_mgr_node_refused(struct kube_mgr *m, const char *name, const char *why, struct batch *b);
/* A node as listed or watched (ADDED/MODIFIED). Takes kn. */
void kube_mgr_node_upsert(struct kube_mgr *m, struct kube_node *kn, struct batch *b);
/* A node deleted from the API. */
void kube_mgr_node_deleted(struct kube_mgr *m, const char *name, struct batch *b);
/* Free the peer table and the bad-node notes. */
void kube_mgr_peers_free(struct kube_mgr *m);

/* kube_mgr_watch.c */

/* List all nodes (the next page, or a new list), then watch from there. */
void kube_mgr_list_start(struct kube_mgr *m);
/* Start the informer (the first list, bounded by sync_timeout_ms), or say
 * that the alloc backend needs none. */
void kube_mgr_informer_start(struct kube_mgr *m);

/* kube_mgr_acquire.c */

/* The next acquire step: our subnet from our Node, our annotations patched. */
void kube_mgr_acquire_step(struct kube_mgr *m);
/* Take our lease and report it (once the first full list is in). */
void kube_mgr_acquire_complete(struct kube_mgr *m);

/* kube_mgr_annot.c */

/* Send p's patch now, unless one is under way or there is nothing to send. */
void kube_mgr_status_patch_start(struct status_patch *p);
/* Our node as the API shows it now; writes our annotations again if needed. Takes kn. */
void kube_mgr_own_node_seen(struct kube_mgr *m, struct kube_node *kn);
/* Set up m->repatch. */
void kube_mgr_annot_init(struct kube_mgr *m);
/* ops->update_attrs: our annotations patched with attrs (public-ip,
 * backend-data...), through m->repatch. */
int kube_mgr_update_attrs(struct subnet_mgr *base, const struct lease_attrs *attrs);
/* kube_mgr_watch.c, ops->resume_watches: the node watch ended and started
 * again, from the resourceVersion it had reached. */
void kube_mgr_watch_resume(struct subnet_mgr *base);

/* kube_mgr_cond.c */

/* Set up m->cond. */
void kube_mgr_cond_init(struct kube_mgr *m);

#endif
