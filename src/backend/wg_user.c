// SPDX-License-Identifier: Apache-2.0
/*
 * The wireguard backend's userspace engine: weft's own WireGuard
 * (wg/device.h) on a persistent TUN, so that a restart of weftd finds its
 * device, addresses and routes in place, and the cross-platform socket for
 * `wg show` (wg/uapi_server.h).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/wg_engine.h"
#include "core/container_of.h"
#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "wg/device.h"
#include "wg/uapi_server.h"

struct user_engine {
	struct wg_engine base;
	struct wg_device *dev;
	struct wg_uapi_server *uapi;
};

static struct user_engine *to_u(struct wg_engine *e)
{
	return container_of(e, struct user_engine, base);
}

static int u_get(struct wg_engine *e, struct wg_device_config *ret, struct err *err)
{
	(void)err;
	wg_device_get(to_u(e)->dev, ret);
	return 0;
}

static int u_set(struct wg_engine *e, const struct wg_device_config *c, struct err *err)
{
	return wg_device_set(to_u(e)->dev, c, err);
}

static bool u_stats(struct wg_engine *e, struct wg_device_stats *ret)
{
	wg_device_stats(to_u(e)->dev, ret);
	return true;
}

static void u_close(struct wg_engine *e, bool remove)
{
	struct user_engine *u = to_u(e);

	wg_uapi_server_close(u->uapi);
	wg_device_close(u->dev, remove);
	free(u);
}

/* The socket's view of the device. */
static void uapi_get(void *arg, struct wg_device_config *ret)
{
	wg_device_get(arg, ret);
}

static int uapi_set(void *arg, const struct wg_device_config *c, struct err *err)
{
	return wg_device_set(arg, c, err);
}

static const struct wg_uapi_ops uapi_ops = {
	.get = uapi_get,
	.set = uapi_set,
};

static const struct wg_engine_ops user_ops = {
	.name = "userspace",
	.get = u_get,
	.set = u_set,
	.stats = u_stats,
	.close = u_close,
};

int wg_engine_user_open(struct loop *loop, const char *name, const char *sock_dir,
			unsigned features, struct wg_engine **ret, struct err *err)
{
	struct wg_device_params p = {.ifname = name, .features = features, .persist = true};
	struct user_engine *u = xcalloc(1, sizeof(*u));
	const char *knob = getenv("WEFT_WG_TEST_REKEY_MS");
	struct wg_timer_consts k;
	int rc;

	/* Test knob: sessions rekeyed after this many ms instead of 120 s (an
	 * interop test crosses a rekey without waiting minutes). */
	if (knob && *knob) {
		char *end;
		long ms = strtol(knob, &end, 10);

		if (*end || ms <= 0 || ms > WG_REKEY_AFTER_TIME_MS) {
			log_warnx("ignoring WEFT_WG_TEST_REKEY_MS=%s (1 to %d ms)", knob,
				  WG_REKEY_AFTER_TIME_MS);
		} else {
			wg_timer_consts_default(&k);
			k.rekey_after_ms = ms;
			k.reject_after_ms = ms + 60000;
			p.timers = &k;
			log_warnx("test knob WEFT_WG_TEST_REKEY_MS=%s in effect", knob);
		}
	}
	u->base.ops = &user_ops;
	snprintf(u->base.name, sizeof(u->base.name), "%s", name);
	u->base.adopted = if_nametoindex(name) != 0;
	rc = wg_device_open(&p, &u->dev, err);
	if (rc < 0)
		goto fail;
	u->base.ifindex = wg_device_ifindex(u->dev);
	rc = wg_uapi_server_open(loop, sock_dir, name, &uapi_ops, u->dev, &u->uapi, err);
	if (rc < 0)
		goto fail;
	*ret = &u->base;
	return 0;
fail:
	wg_device_close(u->dev, false);
	free(u);
	return rc;
}
