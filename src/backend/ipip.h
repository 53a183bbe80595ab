/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_IPIP_H
#define WEFT_BACKEND_IPIP_H

/*
 * ipip (flannel.md §7.5): one kernel IP-in-IP device, flannel.ipip, whose
 * local address is the external interface's IPv4 address; per peer a route
 * to its subnet via its public IP, onlink, on that device (the gateway is
 * the tunnel's far end). DirectRouting routes peers on our own L2 network on
 * the external interface instead, unencapsulated. IPv4 only.
 *
 * The pure parts (config, what the lease and routes carry, when an existing
 * device is kept) are declared here for the unit tests.
 */
#include <stdbool.h>

#include "core/ipnet.h"

struct backend_ops;
struct err;
struct ext_iface;
struct lease;
struct lease_attrs;
struct netconf;
struct nl_link;
struct nl_route;

extern const struct backend_ops ipip_backend_ops;

#define IPIP_DEV_NAME "flannel.ipip"
#define IPIP_OVERHEAD 20 /* the outer IPv4 header: FLANNEL_MTU = MTU - 20 */

struct ipip_cfg {
	bool direct_routing;
	unsigned mtu; /* the device's and FLANNEL_MTU: the external interface's - 20 */
};

/*
 * The network config's Backend (JSON text, NULL = absent) and families, and
 * the external interface, into *ret. Errors name what is wrong: a
 * Backend.DirectRouting that is not a boolean, EnableIPv6 (ipip is IPv4
 * only), EnableIPv4 off, an interface without an IPv4 address or with an MTU
 * too small for the tunnel.
 */
int ipip_conf_parse(const char *backend_json, const struct netconf *nc,
		    const struct ext_iface *ext, struct ipip_cfg *ret, struct err *err);

/* Our lease's BackendType "ipip" and no BackendData, as upstream. */
void ipip_lease_attrs_fill(struct lease_attrs *attrs);

/*
 * The route to the IPv4 subnet of peer l: via its public IP, onlink, on
 * oif (flannel.ipip, or the external interface for a DirectRouting peer on
 * our L2), protocol WEFT_RTPROT. false (r zeroed) when the lease has no IPv4
 * subnet or no public IP.
 */
bool ipip_peer_route(const struct lease *l, int oif, struct nl_route *r);

/* Whether an existing ipip link can be kept as flannel.ipip (upstream's
 * test): local is ours, remote is none or any. */
bool ipip_link_compatible(const struct nl_link *link, const struct ip_addr *local);

#endif
