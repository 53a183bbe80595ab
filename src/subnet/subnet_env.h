/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_SUBNET_SUBNET_ENV_H
#define WEFT_SUBNET_SUBNET_ENV_H

/*
 * The subnet file (/run/flannel/subnet.env) read by the CNI plugin, Docker
 * tooling and by the daemon itself on restart:
 *	FLANNEL_NETWORK=10.244.0.0/16
 *	FLANNEL_SUBNET=10.244.1.1/24
 *	FLANNEL_IPV6_NETWORK=2001:cafe:42::/56
 *	FLANNEL_IPV6_SUBNET=2001:cafe:42::1/64
 *	FLANNEL_MTU=1450
 *	FLANNEL_IPMASQ=true
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/ipnet.h"

struct err;

#define SUBNET_ENV_MAX_SIZE (64 * 1024)
#define SUBNET_ENV_MAX_NETWORKS 16

struct subnet_env {
	bool has_network, has_subnet, has_ipv6_network, has_ipv6_subnet, has_mtu, has_ipmasq;
	struct ip_prefix network; /* masked: 10.244.0.0/16 */
	struct ip_prefix ipv6_network;
	/*
	 * The node subnet, masked (10.244.1.0/24): the file says network + 1
	 * (10.244.1.1/24); the writer derives that from subnet and the reader
	 * masks it, as upstream's net.ParseCIDR does. subnet_addr is the address
	 * as written (10.244.1.1); only the reader fills it.
	 */
	struct ip_prefix subnet;
	struct ip_prefix ipv6_subnet;
	struct ip_addr subnet_addr;
	struct ip_addr ipv6_subnet_addr;
	unsigned mtu;
	bool ipmasq;
	/* Reader only: every valid FLANNEL_NETWORK / FLANNEL_IPV6_NETWORK entry,
	 * duplicates removed (the CNI plugin adds a route per entry, while the
	 * daemon only uses has_network, set for exactly one entry). */
	unsigned n_networks, n_ipv6_networks;
	struct ip_prefix networks[SUBNET_ENV_MAX_NETWORKS];
	struct ip_prefix ipv6_networks[SUBNET_ENV_MAX_NETWORKS];
};

/* Atomically replace path (temp file + fsync + rename + directory fsync),
 * mode 0644, creating missing parent directories 0755. On failure before the
 * rename the old file is untouched and no temp file is left. */
int subnet_env_write(const char *path, const struct subnet_env *e, struct err *err);

/* Tolerant dotenv reading (comments, blank lines, "export ", quotes, spaces
 * around '='). Per key, comma-separated entries are parsed as CIDRs, invalid
 * ones skipped; more than one valid entry leaves the key unset. Unknown keys
 * are ignored. -ENOENT when the file does not exist, -EFBIG over 64 KiB. */
int subnet_env_read(const char *path, struct subnet_env *ret, struct err *err);
int subnet_env_parse(const char *buf, size_t len, struct subnet_env *ret, struct err *err);

#endif
