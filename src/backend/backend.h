/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_BACKEND_H
#define WEFT_BACKEND_BACKEND_H

/*
 * A backend turns leases into a data path: it says what our lease carries
 * (BackendType, BackendData), sets up its devices once the lease is known,
 * and programs each peer. Picked at run time by the config's Backend.Type.
 */
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ipnet.h"

struct err;
struct loop;
struct netconf;
struct lease;
struct lease_attrs;
struct lease_event;
struct backend;

/* The external interface: where encapsulated traffic leaves this host. */
struct ext_iface {
	char name[IF_NAMESIZE];
	int index;
	unsigned mtu;
	struct ip_addr iface_addr;  /* the interface's IPv4 address (unset if none) */
	struct ip_addr iface_addr6; /* its IPv6 address (unset if none) */
	struct ip_addr public_ip;   /* what peers use to reach us: --public-ip or iface_addr */
	struct ip_addr public_ipv6;
	/*
	 * vxlan only: the MAC to create flannel.<VNI> ([0]) / flannel-v6.<VNI> ([1])
	 * with when the device does not exist; all zero = a random one. The kube
	 * manager fills it from our Node's backend-data annotations so that a host
	 * reboot keeps the MAC peers know. An existing device keeps its own MAC.
	 */
	uint8_t vtep_mac_hint[2][6];
};

/* What a backend reports for /metrics. */
struct backend_stats {
	uint64_t peers_programmed;  /* peers whose kernel state is in place */
	uint64_t reconcile_runs;
	uint64_t corrections[4];    /* route, neighbour, fdb entry, nexthop: added + removed */
	uint64_t netlink_errors;    /* failed kernel changes and reconcile failures */
};

struct backend_ops {
	const char *type;
	int (*create)(struct loop *loop, const struct ext_iface *ext, const struct netconf *nc,
		      struct backend **ret, struct err *err);
	/* Fill BackendType and BackendData of our lease (public IPs are set by the caller). */
	int (*lease_attrs)(struct backend *b, struct lease_attrs *attrs, struct err *err);
	/* Our lease is known: set up devices; *ret_mtu is FLANNEL_MTU. */
	int (*lease_acquired)(struct backend *b, const struct lease *own, unsigned *ret_mtu,
			      struct err *err);
	/* Peers added or removed (may be NULL: the backend ignores peers). */
	void (*peers)(struct backend *b, const struct lease_event *ev, size_t n);
	/* The initial lease set has been delivered: take over the kernel state
	 * (remove what no lease wants). May be NULL. */
	int (*start)(struct backend *b);
	/* SIGUSR1: log the data path's state and counters (may be NULL). */
	void (*dump)(struct backend *b);
	/* Counters for /metrics; may be NULL (nothing to report). */
	void (*stats)(struct backend *b, struct backend_stats *ret);
	void (*destroy)(struct backend *b);
};

/* The backend for a lower-cased Backend.Type, or NULL. */
const struct backend_ops *backend_lookup(const char *type);

#endif
