/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_ROUTE_NET_H
#define WEFT_BACKEND_ROUTE_NET_H

/*
 * Peers reached by one route each, flannel's RouteNetwork
 * (pkg/backend/route_network.go), shared by host-gw and ipip: the route each
 * lease of our backend type calls for is kept per peer, lease events go out
 * as one netlink batch, and kstate reconciles the whole set (a deleted route
 * comes back, stale ones go at start). Routes carry WEFT_RTPROT; only those
 * are ours, foreign routes are left alone.
 */
#include <stdbool.h>
#include <stddef.h>

struct backend_stats;
struct lease;
struct lease_event;
struct loop;
struct nl;
struct nl_route;
struct nlmsghdr;
struct route_net;

struct route_net_ops {
	const char *type; /* the BackendType of the peers we route; also the log prefix */
	/* The route to l's subnet in family fi (0: IPv4, 1: IPv6) into r, which
	 * comes zeroed: dst, gw, oif, onlink. dst left unset: no route.
	 * route_net sets protocol and the nexthop id. */
	void (*route)(void *arg, const struct lease *l, int fi, struct nl_route *r);
	/* kstate's ensure: devices in place before routes (NULL: none). */
	int (*ensure)(void *arg);
	/* Kernel events besides our own deleted routes and nexthops that call
	 * for a reconcile (NULL: none). */
	bool (*concerns)(void *arg, const struct nlmsghdr *nlh);
};

/*
 * family_on: [0] IPv4, [1] IPv6. nexthops: IPv4 routes go through nexthop
 * objects (rc_nexthop_id) when the kernel has them; each nexthop takes its
 * route's gateway, oif and onlink.
 */
int route_net_new(struct loop *loop, const struct route_net_ops *ops, void *arg,
		  const bool family_on[2], bool nexthops, struct route_net **ret);
void route_net_free(struct route_net *rn);
/* The socket kernel state goes through (for the backend's devices). */
struct nl *route_net_nl(struct route_net *rn);
void route_net_peers(struct route_net *rn, const struct lease_event *ev, size_t n);
/* The whole lease set is known: the first reconcile. */
int route_net_start(struct route_net *rn);
void route_net_stats(struct route_net *rn, struct backend_stats *ret);
/* A device was recreated: the routes kept on index from go to index to. */
void route_net_move_oif(struct route_net *rn, int from, int to);
/* Reconcile now (devices, then routes): 0 or -errno. */
int route_net_run(struct route_net *rn);

#endif
