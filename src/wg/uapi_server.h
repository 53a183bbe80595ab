/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_WG_UAPI_SERVER_H
#define WEFT_WG_UAPI_SERVER_H

/*
 * The cross-platform configuration socket of a userspace device,
 * <dir>/<ifname>.sock (dir: /var/run/wireguard, where wg looks), served
 * from the control loop: requests read without blocking and bounded
 * (WG_UAPI_MAX_REQUEST), each answered whole. The socket is root's only
 * (mode 0600): a get reveals the private key, as with any userspace
 * WireGuard.
 */
#include "wg/config.h"

struct err;
struct loop;
struct wg_uapi_server;

struct wg_uapi_ops {
	/* The device's state (the caller clears it). */
	void (*get)(void *arg, struct wg_device_config *ret);
	/* Apply a change: 0 or -errno (err says why; logged by the server's
	 * owner through the callback's own means). */
	int (*set)(void *arg, const struct wg_device_config *c, struct err *err);
};

/* -EADDRINUSE when another live process serves that socket. */
int wg_uapi_server_open(struct loop *loop, const char *dir, const char *ifname,
			const struct wg_uapi_ops *ops, void *arg, struct wg_uapi_server **ret,
			struct err *err);
/* Close every connection and remove the socket. NULL is fine. */
void wg_uapi_server_close(struct wg_uapi_server *s);
/* The socket's path. */
const char *wg_uapi_server_path(const struct wg_uapi_server *s);

#endif
