/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_SUBNET_NETCONF_H
#define WEFT_SUBNET_NETCONF_H

/*
 * The flannel network config: net-conf.json in kube mode, <prefix>/config in
 * etcd. Decoded with Go encoding/json semantics (keys match case-insensitively,
 * the last duplicate wins, unknown keys are ignored, types are checked), so
 * every node computes the same ranges from the same text as flannel does.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/ipnet.h"

#define NETCONF_MAX_SIZE (1024 * 1024)

struct err;

struct netconf {
	bool enable_ipv4; /* true unless the config says false */
	bool enable_ipv6;
	bool enable_nftables;
	/* Absent fields stay zero (family 0 / length 0 / unset address) after
	 * netconf_parse; netconf_check fills in the computed defaults. */
	struct ip_prefix network, ipv6_network;
	unsigned subnet_len, ipv6_subnet_len; /* values above UINT_MAX saturate */
	struct ip_addr subnet_min, subnet_max;
	struct ip_addr ipv6_subnet_min, ipv6_subnet_max;
	/* Backend "Type", lower-cased; "" for `Backend: {}` or null (flannel then
	 * fails with "unknown backend type"); "udp" when Backend is absent. */
	char *backend_type;
	/* The Backend value, whitespace removed, for the backend to decode; NULL
	 * when absent. */
	char *backend_json;
	bool backend_defaulted; /* Backend absent: the caller should warn */
};

/* Decode only, as flannel's kube subnet manager does. On error *ret is left
 * empty (nothing to free) and err names the field. -EINVAL, or -E2BIG above
 * NETCONF_MAX_SIZE bytes. json need not be NUL-terminated. */
int netconf_parse(const char *json, size_t len, struct netconf *ret, struct err *err);

/* flannel's CheckNetworkConfig (etcd mode): fill in the defaults and validate.
 * Also refuses a config with neither family enabled. 0 or -EINVAL. */
int netconf_check(struct netconf *nc, struct err *err);

/* netconf_parse then netconf_check. On error *ret is left empty. */
int netconf_load(const char *json, size_t len, struct netconf *ret, struct err *err);

void netconf_free(struct netconf *nc);

#endif
