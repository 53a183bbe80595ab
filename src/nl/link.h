/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NL_LINK_H
#define WEFT_NL_LINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/ipnet.h"
#include "nl/nl.h"

struct nl;
struct err;
struct nlmsghdr;

struct nl_vxlan_info {
	uint32_t vni;
	struct ip_addr local; /* IFLA_VXLAN_LOCAL / LOCAL6 */
	struct ip_addr group; /* unset when none */
	int link;	      /* IFLA_VXLAN_LINK: underlay ifindex */
	uint16_t port;	      /* IFLA_VXLAN_PORT, host order (0 = kernel default 8472) */
	bool learning, gbp, l2miss, l3miss, proxy, rsc;
	uint8_t ttl, tos;
};

/* An ipip tunnel's IFLA_INFO_DATA (linux/if_tunnel.h IFLA_IPTUN_*). */
struct nl_ipip_info {
	struct ip_addr local;  /* IFLA_IPTUN_LOCAL; unset when absent, 0.0.0.0 = any */
	struct ip_addr remote; /* IFLA_IPTUN_REMOTE; likewise */
	int link;	       /* IFLA_IPTUN_LINK: underlay ifindex, 0 = any */
	uint8_t ttl, tos;      /* 0 = inherit */
	bool pmtudisc;	       /* IFLA_IPTUN_PMTUDISC (DF set on outer headers) */
	bool collect_md;       /* IFLA_IPTUN_COLLECT_METADATA ("external") */
};

struct nl_link {
	int index;
	char name[IF_NAMESIZE];
	char kind[16]; /* IFLA_INFO_KIND, "" if none */
	unsigned mtu;
	uint8_t mac[6];
	bool up;	   /* IFF_UP set */
	bool is_vxlan;	   /* vxlan filled */
	struct nl_vxlan_info vxlan;
	bool is_ipip;	   /* ipip filled (kind "ipip" with its data) */
	struct nl_ipip_info ipip;
};

struct nl_vxlan_params {
	const char *name;
	struct nl_vxlan_info info; /* learning/gbp/port/local/link/vni used; ttl 0, no miss */
	unsigned mtu;		   /* 0: kernel's choice */
	const uint8_t *mac;	   /* NULL: kernel's random */
};

/* A new ipip device, with the attributes flannel's netlink library sends for
 * netlink.Iptun{Name, Local}: local only (no remote, no link), PMTU discovery,
 * TTL, TOS, encapsulation and protocol all explicitly 0, and IFLA_TXQLEN 0. */
struct nl_ipip_params {
	const char *name;
	struct ip_addr local; /* AF_INET; unset: none (any) */
	unsigned mtu;	      /* 0: none (the kernel's choice) */
};

/* -ENODEV when there is no such link. */
NL_MUST_CHECK int nl_link_get_by_name(struct nl *nl, const char *name, struct nl_link *ret);
NL_MUST_CHECK int nl_link_get_by_index(struct nl *nl, int index, struct nl_link *ret);
typedef int nl_link_cb(const struct nl_link *l, void *arg);
NL_MUST_CHECK int nl_link_dump(struct nl *nl, nl_link_cb *cb, void *arg);

NL_MUST_CHECK int nl_vxlan_create(struct nl *nl, const struct nl_vxlan_params *p, struct err *err);
/* -EOPNOTSUPP when the kernel has no ipip support (no module). */
NL_MUST_CHECK int nl_ipip_create(struct nl *nl, const struct nl_ipip_params *p, struct err *err);
/* A new link of kind ("wireguard") with nothing else; mtu 0 = the kernel's.
 * -EOPNOTSUPP when the kernel has no such kind. */
NL_MUST_CHECK int nl_link_create_kind(struct nl *nl, const char *name, const char *kind,
				      unsigned mtu, struct err *err);
int nl_link_set_up(struct nl *nl, int index, bool up, struct err *err);
int nl_link_set_mtu(struct nl *nl, int index, unsigned mtu, struct err *err);
int nl_link_set_mac(struct nl *nl, int index, const uint8_t mac[6], struct err *err);
int nl_link_delete(struct nl *nl, int index, struct err *err);

/* Parse an RTM_NEWLINK/DELLINK message (dumps and the monitor). */
NL_MUST_CHECK int nl_link_parse(const struct nlmsghdr *nlh, struct nl_link *ret);

#endif
