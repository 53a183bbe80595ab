// SPDX-License-Identifier: Apache-2.0
/* The MTU chain of a tunnel (see mtu.h). */
#include "backend/mtu.h"

#include <errno.h>
#include <sys/socket.h>

#include "core/err.h"

int mtu_tunnel(const struct mtu_in *in, unsigned overhead, int family, unsigned *ret,
	       struct err *err)
{
	unsigned base = in->conf_mtu ? in->conf_mtu : in->iface_mtu;
	unsigned min = family == AF_INET6 ? MTU_MIN_V6 : MTU_MIN_V4;
	int v = family == AF_INET6 ? 6 : 4;

	*ret = 0;
	if (in->conf_mtu && in->conf_mtu > in->iface_mtu)
		return err_set(err, -EINVAL,
			       "Backend.MTU %u is above what %s allows for %s: %u (%s MTU %u; "
			       "pods then get %u - %u = %u)",
			       in->conf_mtu, in->iface, in->backend, in->iface_mtu, in->iface,
			       in->iface_mtu, in->iface_mtu, overhead,
			       in->iface_mtu > overhead ? in->iface_mtu - overhead : 0);
	if (base < overhead + min)
		return err_set(err, -EINVAL,
			       "%s%s %u is too small for %s over IPv%d: %u - %u leaves %d, "
			       "below the %u IPv%d needs",
			       in->conf_mtu ? "Backend.MTU" : in->iface,
			       in->conf_mtu ? "" : "'s MTU", base, in->backend, v, base, overhead,
			       (int)base - (int)overhead, min, v);
	*ret = base - overhead;
	return 0;
}

unsigned mtu_smallest(const unsigned *mtu, int n)
{
	unsigned m = 0;

	for (int i = 0; i < n; i++)
		if (mtu[i] && (!m || mtu[i] < m))
			m = mtu[i];
	return m;
}
