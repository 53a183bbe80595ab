// SPDX-License-Identifier: Apache-2.0
/* subnet.env parser: never crashes on any bytes, and what it reports is
 * internally consistent. */
#include <stdint.h>
#include <stdlib.h>

#include "core/err.h"
#include "subnet/subnet_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct subnet_env e;
	struct err err = {""};

	if (subnet_env_parse((const char *)data, size, &e, &err) < 0)
		return 0;
	if (e.has_subnet &&
	    (e.subnet.addr.family != AF_INET || !ip_prefix_contains(&e.subnet, &e.subnet_addr)))
		abort();
	if (e.has_ipv6_subnet && (e.ipv6_subnet.addr.family != AF_INET6 ||
				  !ip_prefix_contains(&e.ipv6_subnet, &e.ipv6_subnet_addr)))
		abort();
	if (e.has_network && (e.n_networks != 1 || !ip_prefix_equal(&e.network, &e.networks[0])))
		abort();
	if (e.n_networks > SUBNET_ENV_MAX_NETWORKS || e.n_ipv6_networks > SUBNET_ENV_MAX_NETWORKS)
		abort();
	return 0;
}
