/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_RECONCILE_H
#define WEFT_BACKEND_RECONCILE_H

/*
 * Desired kernel state against actual: read what the kernel has (one dump per
 * object kind), compare with what the leases call for, apply the difference
 * in one netlink batch (one ACK checked per change).
 * Ownership decides what may be removed: routes and nexthop objects carrying
 * WEFT_RTPROT, and routes, permanent neighbours and FDB entries on our own
 * device.
 */
#include <stdbool.h>
#include <stddef.h>

#include "nl/neigh.h"
#include "nl/nexthop.h"
#include "nl/route.h"

struct nl;

struct rc_desired {
	/* Routes may name a nexthop (nh_id) that is among nexthops; one taken
	 * by somebody else's object is left alone and the route installed with
	 * its gateway instead. */
	const struct nl_nexthop *nexthops;
	size_t n_nexthops;
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
	bool nexthops; /* we own nexthop objects of family (WEFT_RTPROT ones) */
	bool initial;  /* first programming: missing objects are expected, not noted */
};

enum rc_kind { RC_ROUTE, RC_NEIGH, RC_FDB, RC_NEXTHOP, RC_KINDS };

/* At most this many corrections per run are passed to the note callback;
 * the counts in rc_stats cover all of them. */
#define RC_NOTES_MAX 20

struct rc_stats {
	unsigned added[RC_KINDS];   /* missing or different: (re)installed */
	unsigned removed[RC_KINDS]; /* ours but not wanted: deleted */
	unsigned failed;
	unsigned noted;		    /* corrections passed to note */
	char first_failure[400];    /* what the first failed change was, and why */
};

/* Called for each correction (up to RC_NOTES_MAX), so that the caller can
 * log what was wrong. */
typedef void rc_note_cb(void *arg, enum rc_kind kind, const char *what, const char *why);

int reconcile(struct nl *nl, const struct rc_scope *scope, const struct rc_desired *want,
	      rc_note_cb *note, void *arg, struct rc_stats *ret);

const char *rc_kind_name(enum rc_kind k);

/*
 * The nexthop object an IPv4 peer's route goes through has the peer's subnet
 * address as its id: deterministic (a restart adopts what is there) and
 * unique per peer. Why nexthop objects at all: the kernel files a plain IPv4
 * route's gateway information under its device only, so thousands of routes
 * with distinct gateways make each insert walk one long hash chain.
 */
uint32_t rc_nexthop_id(const struct ip_addr *subnet_addr);

#endif
