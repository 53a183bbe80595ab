// SPDX-License-Identifier: Apache-2.0
#include <string.h>

#include "backend/alloc.h"
#include "backend/backend.h"
#include "backend/hostgw.h"
#include "backend/udp.h"
#include "backend/vxlan.h"

static const struct backend_ops *const backends[] = {
	&alloc_backend_ops,
	&vxlan_backend_ops,
	&hostgw_backend_ops,
	&udp_backend_ops,
};

const struct backend_ops *backend_lookup(const char *type)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (type && !strcmp(backends[i]->type, type))
			return backends[i];
	return NULL;
}
