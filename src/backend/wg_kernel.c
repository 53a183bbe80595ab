// SPDX-License-Identifier: Apache-2.0
/*
 * The wireguard backend's kernel engine: a `wireguard` link, adopted when
 * it exists (so a restart keeps its sessions), configured over generic
 * netlink (nl/wg_genl.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/wg_engine.h"
#include "core/container_of.h"
#include "core/err.h"
#include "core/xmalloc.h"
#include "nl/link.h"
#include "nl/nl.h"
#include "nl/wg_genl.h"

struct kernel_engine {
	struct wg_engine base;
	struct nl *nl;
	struct wg_genl *g;
};

static struct kernel_engine *to_k(struct wg_engine *e)
{
	return container_of(e, struct kernel_engine, base);
}

static int k_get(struct wg_engine *e, struct wg_device_config *ret, struct err *err)
{
	return wg_genl_get(to_k(e)->g, e->name, ret, err);
}

static int k_set(struct wg_engine *e, const struct wg_device_config *c, struct err *err)
{
	return wg_genl_set(to_k(e)->g, e->name, c, err);
}

static void k_close(struct wg_engine *e, bool remove)
{
	struct kernel_engine *k = to_k(e);

	if (remove && e->ifindex > 0)
		nl_link_delete(k->nl, e->ifindex, NULL);
	wg_genl_close(k->g);
	free(k);
}

static const struct wg_engine_ops kernel_ops = {
	.name = "kernel",
	.get = k_get,
	.set = k_set,
	.close = k_close,
};

int wg_engine_kernel_open(struct nl *nl, const char *name, struct wg_engine **ret,
			  struct err *err)
{
	struct kernel_engine *k = xcalloc(1, sizeof(*k));
	bool adopted = false;
	struct nl_link l;
	int rc;

	/* The family first (resolving it loads the module where it can be):
	 * without it, whatever has our name (the userspace engine's TUN) must
	 * stay. */
	rc = wg_genl_open(&k->g, err);
	if (rc < 0)
		goto fail;
	rc = nl_link_get_by_name(nl, name, &l);
	if (rc == 0 && strcmp(l.kind, "wireguard")) {
		/* Something else by our name (the userspace engine's TUN from
		 * a run before the module was there): replace it. */
		(void)nl_link_delete(nl, l.index, NULL);
		rc = -ENODEV;
	}
	if (rc == -ENODEV) {
		rc = nl_link_create_kind(nl, name, "wireguard", 0, err);
		if (rc == -EOPNOTSUPP || rc == -ENOTSUP) {
			rc = err_set(err, -EOPNOTSUPP, "the kernel has no wireguard link type");
			goto fail;
		}
		if (rc < 0) {
			err_prefix(err, rc, "cannot create %s", name);
			goto fail;
		}
		rc = nl_link_get_by_name(nl, name, &l);
	} else if (rc == 0) {
		adopted = true;
	}
	if (rc < 0) {
		err_set(err, rc, "cannot find %s: %s", name, strerror(-rc));
		goto fail;
	}
	k->base.ops = &kernel_ops;
	snprintf(k->base.name, sizeof(k->base.name), "%s", name);
	k->base.ifindex = l.index;
	k->base.adopted = adopted;
	k->nl = nl;
	*ret = &k->base;
	return 0;
fail:
	wg_genl_close(k->g);
	free(k);
	return rc;
}
