/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_OPTIONS_H
#define WEFT_BACKEND_OPTIONS_H

/*
 * What the network config's Backend says, judged without a host: the type
 * known, each option of the right type and range, the families the backend
 * carries. One validator for weftd (backend_new runs it before a backend's
 * create) and weftctl config check/put, with the same messages, so that a
 * config etcd accepts is one every weftd starts with. What depends on the
 * host (the interface's MTU and addresses, charon, kernel modules) is
 * checked by the backend's create only.
 */
#include <stdbool.h>
#include <stdint.h>

struct err;
struct netconf;

/* type: Backend.Type, lower case (NULL as ""). */
int backend_options_check(const char *type, const struct netconf *nc, struct err *err);

/* The vxlan and udp options, for their backends. */
struct vx_cfg {
	uint32_t vni;
	uint16_t port;
	bool gbp, learning, direct_routing;
	unsigned mtu; /* Backend.MTU; 0: the external interface's */
	/* Backend.DisableTxChecksumOffload: -1 not set (the kernel's version
	 * decides, vxlan_csum_bug_kernel), else false / true. */
	int8_t tx_csum_off;
};
int vxlan_options_parse(const char *json, struct vx_cfg *ret, struct err *err);

#define DEFAULT_UDP_PORT 8285

struct udp_cfg {
	uint16_t port;
	bool fast_path;
	bool match_port;
};
int udp_options_parse(const char *json, struct udp_cfg *ret, struct err *err);

/* ipip: DirectRouting, and IPv4 only (upstream's limit, refused up front). */
int ipip_options_parse(const char *json, const struct netconf *nc, bool *ret_direct_routing,
		       struct err *err);
/* ipsec carries IPv4 only, as upstream. */
int ipsec_options_check_net(const struct netconf *nc, struct err *err);

#endif
