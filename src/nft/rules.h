/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NFT_RULES_H
#define WEFT_NFT_RULES_H

/*
 * What both modes of the traffic module read from the parameters, per
 * family and rule set.
 */
#include <stdbool.h>

#include "core/ipnet.h"
#include "nft/traffic.h"

/* Family index: 0 = IPv4, 1 = IPv6. */
#define TRAFFIC_NFAM 2
#define TRAFFIC_NSET 2

int traffic_fam_index(int af);       /* AF_INET 0, AF_INET6 1, else -1 */
bool traffic_set_on(const struct traffic_params *p, int fi, enum traffic_set set);
/* The set's prefixes for family fi, host bits cleared: network, and the pod
 * subnet (masquerade only; pod may be NULL). -EINVAL when unusable. */
int traffic_prefixes(const struct traffic_params *p, int fi, enum traffic_set set,
		     char net[IP_PREFIX_STRLEN], char pod[IP_PREFIX_STRLEN]);

#endif
