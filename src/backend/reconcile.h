/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_RECONCILE_H
#define WEFT_BACKEND_RECONCILE_H

/*
 * Desired kernel state against actual: read what the kernel has (one dump per
 * object kind), compare with what the leases call for, apply the difference.
 * Ownership decides what may be removed: routes carrying WEFT_RTPROT anywhere,
 * and routes, permanent neighbours and FDB entries on our own device.
 */
#include <stddef.h>

#include "nl/neigh.h"
#include "nl/route.h"

struct nl;

struct rc_desired {
	const struct nl_route *routes;
	size_t n_routes;
	const struct nl_neigh *neighs; /* permanent neighbours on dev_index */
	size_t n_neighs;
	const struct nl_neigh *fdbs; /* FDB entries on dev_index */
	size_t n_fdbs;
};

struct rc_scope {
	int family;    /* AF_INET or AF_INET6 */
	int dev_index; /* our device (vxlan), 0 when none (host-gw) */
};

enum rc_kind { RC_ROUTE, RC_NEIGH, RC_FDB, RC_KINDS };

struct rc_stats {
	unsigned added[RC_KINDS];   /* missing or different: (re)installed */
	unsigned removed[RC_KINDS]; /* ours but not wanted: deleted */
	unsigned failed;
};

/* Called for each correction, so that the caller can log what was wrong. */
typedef void rc_note_cb(void *arg, enum rc_kind kind, const char *what, const char *why);

int reconcile(struct nl *nl, const struct rc_scope *scope, const struct rc_desired *want,
	      rc_note_cb *note, void *arg, struct rc_stats *ret);

const char *rc_kind_name(enum rc_kind k);

#endif
