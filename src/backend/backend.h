/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_BACKEND_H
#define WEFT_BACKEND_BACKEND_H

/*
 * A backend turns leases into a data path: it says what our lease carries
 * (BackendType, BackendData), sets up its devices once the lease is known,
 * and programs each peer. Picked at run time by the config's Backend.Type
 * from the table in backend.c; the agent knows backends only through this
 * header. How to add one: docs/style.md, "Adding a backend".
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
struct metrics;
struct backend_ops;

/* The external interface: where encapsulated traffic leaves this host. */
struct ext_iface {
	char name[IF_NAMESIZE];
	int index;
	unsigned mtu;
	struct ip_addr iface_addr;  /* the interface's IPv4 address (unset if none) */
	struct ip_addr iface_addr6; /* its IPv6 address (unset if none) */
	struct ip_addr public_ip;   /* what peers use to reach us: --public-ip or iface_addr */
	struct ip_addr public_ipv6;
};

/* What a backend reports for /metrics and /status. */
struct backend_stats {
	uint64_t peers_programmed;  /* peers whose kernel state is in place */
	uint64_t reconcile_runs;
	uint64_t corrections[4];    /* route, neighbour, fdb entry, nexthop: added + removed */
	uint64_t netlink_errors;    /* failed kernel changes and reconcile failures */
	const char *engine;	    /* the data path's engine where a backend has a choice
				     * (wireguard: "kernel" or "userspace"), else NULL */
};

/* What a backend is created with. */
struct backend_params {
	struct loop *loop;
	const struct ext_iface *ext;
	const struct netconf *nc;
	/*
	 * The lease attributes our previous run published, where the subnet
	 * manager keeps them (kube: our Node's backend-type/backend-data
	 * annotations), or NULL. vxlan recreates a missing device with the MAC
	 * it finds there, so that a host reboot keeps the MAC peers know.
	 */
	const struct lease_attrs *prev;
	/* ipsec: charon's executable ("" or NULL: search) and weft's directory
	 * for it (NULL: IPSEC_RUN_DIR_DEFAULT). */
	const char *charon_path;
	const char *ipsec_run_dir;
	/* Called (through backend_fail) when the backend cannot go on after
	 * lease_acquired has returned; the agent exits 1. The backend has
	 * logged why. NULL: nothing is called. */
	void (*fail)(void *arg);
	void *fail_arg;
};

/*
 * The base every backend embeds: its create calls backend_base_init first,
 * backend_new sets ops. A backend reaches its own state with container_of
 * from the functions of its ops table.
 */
struct backend {
	const struct backend_ops *ops;
	struct loop *loop;
	struct ext_iface ext;
	void (*fail)(void *arg);
	void *fail_arg;
};

/* How an asynchronous prepare ends, on the loop: rc 0, or -errno with err
 * saying why (err is valid for the call only). */
typedef void backend_done_fn(void *arg, int rc, const struct err *err);

struct backend_ops {
	const char *type; /* Backend.Type, lower case */
	/* Check the config and set up what needs no lease; *ret embeds a struct backend. */
	int (*create)(const struct backend_params *p, struct backend **ret, struct err *err);
	/* Work that must end before lease_attrs and may take long (extension:
	 * PreStartupCommand), done off the loop; done runs on the loop once,
	 * unless destroy comes first. Returns 0 (done will follow) or -errno
	 * (done will not). May be NULL: nothing to prepare. */
	int (*prepare)(struct backend *b, backend_done_fn *done, void *arg);
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
	/* Counters for /metrics and /status; may be NULL (nothing to report). */
	void (*stats)(struct backend *b, struct backend_stats *ret);
	/* Register the backend's own metric families, read at scrape time from b
	 * (which outlives m's scrapes). May be NULL. */
	int (*metrics)(struct backend *b, struct metrics *m);
	/* The external interface changed under us (recreated with another
	 * index, another address; agent/underlay.h): take ext as b->ext,
	 * re-point devices and routes (what named the old index names the new
	 * one) and reconcile, from the peers the backend keeps (subnet managers
	 * need not keep peers' attributes: no replay follows). 0; -EOPNOTSUPP
	 * with err saying why when this backend cannot follow without a
	 * restart; other -errno with err (the backend's reconcile keeps
	 * retrying). May be NULL: as -EOPNOTSUPP. */
	int (*ext_changed)(struct backend *b, const struct ext_iface *ext, struct err *err);
	void (*destroy)(struct backend *b);
};

/*
 * The backend for Backend.Type (lower case), created: -ENOENT with err
 * naming the type when there is none, else what its create returned.
 */
int backend_new(const char *type, const struct backend_params *p, struct backend **ret,
		struct err *err);
void backend_free(struct backend *b);
/* For create: loop, a copy of ext and the fail callback from p. */
void backend_base_init(struct backend *b, const struct backend_params *p);
/* The backend cannot go on (it has logged why): the agent's fail callback. */
void backend_fail(struct backend *b);

/* The ops a backend may leave NULL, called only where set; backend_prepare
 * without the op calls done(arg, 0, NULL) at once. */
int backend_prepare(struct backend *b, backend_done_fn *done, void *arg);
void backend_peers(struct backend *b, const struct lease_event *ev, size_t n);
int backend_start(struct backend *b);
void backend_dump(struct backend *b);
/* Zeroes *ret first; b may be NULL (no backend yet). */
void backend_stats(struct backend *b, struct backend_stats *ret);
int backend_metrics(struct backend *b, struct metrics *m);
/* ops->ext_changed, or -EOPNOTSUPP with err when the backend has none. */
int backend_ext_changed(struct backend *b, const struct ext_iface *ext, struct err *err);

/* Where a backend can run its data path in the kernel or in userspace
 * (wireguard, ipsec): what the operator asked for in the environment
 * variable name, "auto", "kernel" or "userspace" (unset or empty: auto;
 * anything else is warned about and taken as auto). */
enum backend_engine { BACKEND_ENGINE_AUTO, BACKEND_ENGINE_KERNEL, BACKEND_ENGINE_USERSPACE };
enum backend_engine backend_engine_from_env(const char *name);

/* The families a data path's counters go into (udp, wireguard). */
struct metrics_family;
struct backend_counter_families {
	struct metrics_family *packets, *bytes, *drops, *events;
};
/* Where the counter named name goes: "tx_packets"/"rx_packets" and
 * "tx_bytes"/"rx_bytes" into packets/bytes with the label "tx" or "rx",
 * "drop_<reason>" into drops with the label <reason>, anything else into
 * events with its own name. NULL when that family was not registered. */
struct metrics_family *backend_counter_family(const struct backend_counter_families *f,
					      const char *name, const char **ret_label);

#endif
