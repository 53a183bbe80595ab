/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_SUBNET_PEER_CHECK_H
#define WEFT_SUBNET_PEER_CHECK_H

/*
 * Whether a peer's subnet may be routed to it: one rule for the etcd and the
 * Kubernetes managers. A lease is written by whoever can write the store or
 * a Node, and a backend turns it into routes: a peer claiming 0.0.0.0/1, or
 * a part of our own subnet, would take over traffic that is not its own.
 */
#include "subnet/subnet_key.h"

struct err;
struct netconf;

/*
 * 0 when every subnet of peer in an enabled family lies inside that family's
 * network (Network, IPv6Network) and none overlaps ours (own may be NULL
 * before our lease is known); else -EDOM with the reason in err. A family
 * that is not enabled is not looked at: the backends do not route it.
 */
int peer_subnet_check(const struct netconf *nc, const struct subnet_key *own,
		      const struct subnet_key *peer, struct err *err);

#endif
