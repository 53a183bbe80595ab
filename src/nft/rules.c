// SPDX-License-Identifier: Apache-2.0
/*
 * The parameters as both modes read them (rules.h).
 */
#include "nft/rules.h"

#include <errno.h>

int traffic_fam_index(int af)
{
	if (af == AF_INET)
		return 0;
	if (af == AF_INET6)
		return 1;
	return -1;
}

static bool fam_on(const struct traffic_params *p, int fi)
{
	return fi == 0 ? p->ipv4 : p->ipv6;
}

bool traffic_set_on(const struct traffic_params *p, int fi, enum traffic_set set)
{
	if (!fam_on(p, fi))
		return false;
	return set == TRAFFIC_MASQ ? p->masq : p->forward;
}

static int norm_prefix(const struct ip_prefix *in, int af, char out[IP_PREFIX_STRLEN])
{
	struct ip_prefix p;

	if (in->addr.family != af || ip_prefix_make(&in->addr, in->len, &p) < 0)
		return -EINVAL;
	ip_prefix_format(&p, out);
	return 0;
}

int traffic_prefixes(const struct traffic_params *p, int fi, enum traffic_set set,
		     char net[IP_PREFIX_STRLEN], char pod[IP_PREFIX_STRLEN])
{
	int af = fi == 0 ? AF_INET : AF_INET6;

	if (fi < 0 || fi >= TRAFFIC_NFAM)
		return -EINVAL;
	if (norm_prefix(fi == 0 ? &p->network : &p->network6, af, net) < 0)
		return -EINVAL;
	if (set == TRAFFIC_MASQ && pod &&
	    norm_prefix(fi == 0 ? &p->subnet : &p->subnet6, af, pod) < 0)
		return -EINVAL;
	return 0;
}
