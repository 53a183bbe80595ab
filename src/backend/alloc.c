// SPDX-License-Identifier: Apache-2.0
/*
 * alloc (flannel.md §7.8): only holds a lease. No device, no data path, peers
 * are not programmed; FLANNEL_MTU is the interface MTU.
 */
#include "backend/alloc.h"

#include <stdlib.h>

#include "backend/backend.h"
#include "core/xmalloc.h"
#include "subnet/lease.h"

static int alloc_create(const struct backend_params *p, struct backend **ret, struct err *err)
{
	struct backend *b = xcalloc(1, sizeof(*b));

	(void)err;
	backend_base_init(b, p);
	*ret = b;
	return 0;
}

static int alloc_lease_attrs(struct backend *b, struct lease_attrs *attrs, struct err *err)
{
	(void)b;
	(void)err;
	attrs->backend_type[0] = '\0'; /* upstream leaves BackendType empty */
	return 0;
}

static int alloc_lease_acquired(struct backend *b, const struct lease *own, unsigned *ret_mtu,
				struct err *err)
{
	(void)own;
	(void)err;
	*ret_mtu = b->ext.mtu;
	return 0;
}

/* No device, no peers: only the MTU we report follows the interface. */
static int alloc_ext_changed(struct backend *b, const struct ext_iface *ext, struct err *err)
{
	(void)err;
	b->ext = *ext;
	return 0;
}

static void alloc_destroy(struct backend *b)
{
	free(b);
}

const struct backend_ops alloc_backend_ops = {
	.type = "alloc",
	.create = alloc_create,
	.lease_attrs = alloc_lease_attrs,
	.lease_acquired = alloc_lease_acquired,
	.peers = NULL,
	.ext_changed = alloc_ext_changed,
	.destroy = alloc_destroy,
};
