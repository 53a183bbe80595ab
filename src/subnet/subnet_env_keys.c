// SPDX-License-Identifier: Apache-2.0
#include "subnet/subnet_env_keys.h"

#include <string.h>

const char *const subnet_env_keys[SUBNET_ENV_NKEYS] = {
	[SUBNET_ENV_NETWORK] = "FLANNEL_NETWORK",
	[SUBNET_ENV_SUBNET] = "FLANNEL_SUBNET",
	[SUBNET_ENV_IPV6_NETWORK] = "FLANNEL_IPV6_NETWORK",
	[SUBNET_ENV_IPV6_SUBNET] = "FLANNEL_IPV6_SUBNET",
	[SUBNET_ENV_MTU] = "FLANNEL_MTU",
	[SUBNET_ENV_IPMASQ] = "FLANNEL_IPMASQ",
};

int subnet_env_key(const char *s, size_t n)
{
	for (int k = 0; k < SUBNET_ENV_NKEYS; k++)
		if (strlen(subnet_env_keys[k]) == n && memcmp(subnet_env_keys[k], s, n) == 0)
			return k;
	return -1;
}
