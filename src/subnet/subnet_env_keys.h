/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_SUBNET_SUBNET_ENV_KEYS_H
#define WEFT_SUBNET_SUBNET_ENV_KEYS_H

/*
 * The keys of the subnet file (subnet/subnet_env.h), one table for its writer
 * and its two readers: the daemon's tolerant one (subnet_env.c) and the CNI
 * plugin's strict one (cni/conf.c), whose parsing rules differ on purpose.
 * A small object of its own, so that the plugin links nothing else of the
 * daemon's.
 */
#include <stddef.h>

enum subnet_env_key {
	SUBNET_ENV_NETWORK,
	SUBNET_ENV_SUBNET,
	SUBNET_ENV_IPV6_NETWORK,
	SUBNET_ENV_IPV6_SUBNET,
	SUBNET_ENV_MTU,
	SUBNET_ENV_IPMASQ,
	SUBNET_ENV_NKEYS
};

/* "FLANNEL_NETWORK", ... indexed by enum subnet_env_key. */
extern const char *const subnet_env_keys[SUBNET_ENV_NKEYS];

/* The key named by s (n bytes, exactly), or -1 for none of them. */
int subnet_env_key(const char *s, size_t n);

#endif
