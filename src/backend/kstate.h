/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_KSTATE_H
#define WEFT_BACKEND_KSTATE_H

/*
 * Keeps the kernel in the state a backend wants: a full reconcile at start,
 * every period, and shortly after any kernel change that touches our objects
 * (seen on an rtnetlink monitor socket), or when the monitor lost events.
 * The backend supplies its devices and desired state through kstate_ops.
 */
#include <stdbool.h>
#include <stdint.h>

#include "backend/reconcile.h"
#include "nl/nl.h"

struct loop;
struct nl;
struct nlmsghdr;
struct kstate;

struct kstate_ops {
	/* Make sure devices exist and are configured (recreating them if
	 * needed); 0 or -errno. */
	int (*ensure)(void *arg);
	/* Desired state and scope for family (AF_INET / AF_INET6); false when
	 * that family is not in use. The arrays stay valid until the next call. */
	bool (*desired)(void *arg, int family, struct rc_desired *want, struct rc_scope *scope);
	/* The arrays given by desired() are no longer needed (may be NULL). */
	void (*desired_done)(void *arg);
	/* Does a monitor message concern us (our device, our routes)? */
	bool (*concerns)(void *arg, const struct nlmsghdr *nlh);
};

struct kstate_stats {
	uint64_t runs;
	uint64_t corrections[RC_KINDS]; /* added + removed, by kind */
	uint64_t failures;
};

int kstate_new(struct loop *loop, const struct kstate_ops *ops, void *arg, int64_t period_ms,
	       const char *who, struct kstate **ret);
void kstate_free(struct kstate *k);
struct nl *kstate_nl(struct kstate *k);
/* Reconcile soon (debounced). */
void kstate_kick(struct kstate *k);
/* Send the backend's queued netlink batch (lease events), done() per request
 * as nl_batch_commit; any failure asks for a reconcile. */
void kstate_commit(struct kstate *k, nl_batch_done *done, void *arg);
/* Reconcile now; 0 or -errno. */
int kstate_run(struct kstate *k);
/* The first programming of a whole lease set: reconcile now, and sum up what
 * was added instead of noting each missing object. */
int kstate_start(struct kstate *k);
const struct kstate_stats *kstate_stats(const struct kstate *k);
/* Whether the kernel has nexthop objects (Linux 5.3+); logged once when not. */
bool kstate_has_nexthops(struct kstate *k);
/* Fill the reconcile part of a backend's /metrics counters. */
struct backend_stats;
void kstate_report(const struct kstate *k, struct backend_stats *ret);

#endif
