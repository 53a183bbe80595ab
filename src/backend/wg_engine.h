/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_WG_ENGINE_H
#define WEFT_BACKEND_WG_ENGINE_H

/*
 * The wireguard backend's two engines behind one shape: a device named
 * name whose configuration is read (get) and changed (set) as one value
 * (wg/config.h). The backend builds the desired state and applies the
 * difference; it never knows which engine runs.
 *
 *   kernel     a `wireguard` link, configured over generic netlink
 *   userspace  weft's own WireGuard (wg/device.h) on a TUN, with the
 *              cross-platform socket /var/run/wireguard/<name>.sock
 */
#include <stdbool.h>

#include "wg/config.h"

struct err;
struct loop;
struct nl;
struct wg_engine;
struct wg_device_stats;

struct wg_engine_ops {
	const char *name;
	int (*get)(struct wg_engine *e, struct wg_device_config *ret, struct err *err);
	int (*set)(struct wg_engine *e, const struct wg_device_config *c, struct err *err);
	/* The data path's counters, when the engine has them (userspace). */
	bool (*stats)(struct wg_engine *e, struct wg_device_stats *ret);
	/* remove: delete the device too (else it stays, configured). */
	void (*close)(struct wg_engine *e, bool remove);
};

struct wg_engine {
	const struct wg_engine_ops *ops;
	char name[16];
	int ifindex;
	bool adopted; /* the device existed already */
};

/* The kernel engine: adopt the wireguard link name or create it.
 * -EOPNOTSUPP when the kernel has no wireguard (err says so). */
int wg_engine_kernel_open(struct nl *nl, const char *name, struct wg_engine **ret,
			  struct err *err);
/* The userspace engine on a TUN name (attached when it exists), its socket
 * in sock_dir. */
int wg_engine_user_open(struct loop *loop, const char *name, const char *sock_dir,
			unsigned features, struct wg_engine **ret, struct err *err);

#endif
