/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NL_ROUTE_H
#define WEFT_NL_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ipnet.h"
#include "nl/nl.h"

struct nl;
struct err;
struct nlmsghdr;

struct nl_route {
	struct ip_prefix dst; /* 0.0.0.0/0 for a default route */
	struct ip_addr gw;    /* unset: none */
	struct ip_addr src;   /* preferred source (RTA_PREFSRC), unset: none */
	int oif;	      /* 0: none */
	uint32_t nh_id;	      /* 0: none; otherwise RTA_NH_ID, and the builder omits gateway,
			       * oif and onlink, which the kernel refuses together with an id */
	uint32_t table;	      /* 0 = RT_TABLE_MAIN */
	uint8_t protocol;     /* RTPROT_*; WEFT_RTPROT for ours */
	uint8_t scope;	      /* RT_SCOPE_UNIVERSE unless set */
	uint8_t type;	      /* RTN_UNICAST unless set (RTN_BLACKHOLE ...) */
	bool onlink;	      /* RTNH_F_ONLINK */
	uint32_t priority;    /* metric */
};

/* Add or replace (NLM_F_CREATE | NLM_F_REPLACE). */
NL_MUST_CHECK int nl_route_replace(struct nl *nl, const struct nl_route *r, struct err *err);
/* Delete matching dst/table (and gw/oif/protocol when set; with nh_id, the
 * route must use that nexthop id). */
int nl_route_del(struct nl *nl, const struct nl_route *r, struct err *err);
typedef int nl_route_cb(const struct nl_route *r, void *arg);
/* Main-table (table 0 means main) routes of family; cloned/cache entries skipped. */
NL_MUST_CHECK int nl_route_dump(struct nl *nl, int family, uint32_t table, nl_route_cb *cb, void *arg);
/* `ip route get dst`: the route the kernel would use (oif, gw, prefsrc). */
NL_MUST_CHECK int nl_route_get(struct nl *nl, const struct ip_addr *dst, struct nl_route *ret, struct err *err);
/* flannel's DirectRouting test: the interface index the kernel reaches dst on
 * without a gateway (not a local address), 0 when it needs one, or -errno of
 * the lookup. */
NL_MUST_CHECK int nl_route_direct_oif(struct nl *nl, const struct ip_addr *dst, struct err *err);
NL_MUST_CHECK int nl_route_parse(const struct nlmsghdr *nlh, struct nl_route *ret);

/* Queue into the current batch (see nl.h) instead of sending now. */
NL_MUST_CHECK int nl_route_replace_batch(struct nl *nl, const struct nl_route *r);
NL_MUST_CHECK int nl_route_del_batch(struct nl *nl, const struct nl_route *r);

#endif
