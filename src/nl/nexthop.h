/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NL_NEXTHOP_H
#define WEFT_NL_NEXTHOP_H

/*
 * Nexthop objects (RTM_*NEXTHOP, `ip nexthop`, Linux 5.3+): a gateway and
 * device kept once under an id, which routes then name with RTA_NH_ID
 * (struct nl_route's nh_id). Only single nexthops are described here; groups,
 * blackholes and FDB nexthops are not.
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/ipnet.h"
#include "nl/nl.h"

struct nl;
struct err;
struct nlmsghdr;

struct nl_nexthop {
	uint32_t id;	   /* NHA_ID, never 0 */
	struct ip_addr gw; /* NHA_GATEWAY; its family is the nexthop's family (nhm_family).
			    * All-zero bytes: a device-only nexthop (no NHA_GATEWAY). */
	int oif;	   /* NHA_OIF, 0: none (the kernel then refuses the nexthop) */
	bool onlink;	   /* RTNH_F_ONLINK in nhm_flags */
	uint8_t protocol;  /* nhm_protocol (WEFT_RTPROT for ours) */
};

/* Add or replace (NLM_F_CREATE | NLM_F_REPLACE); routes using the id follow. */
NL_MUST_CHECK int nl_nexthop_replace(struct nl *nl, const struct nl_nexthop *nh, struct err *err);
/* Delete by id (the kernel removes the routes using it too). -ENOENT: no such id. */
int nl_nexthop_del(struct nl *nl, uint32_t id, struct err *err);

/* Queue into the current batch (see nl.h) instead of sending now. */
NL_MUST_CHECK int nl_nexthop_replace_batch(struct nl *nl, const struct nl_nexthop *nh);
/* Create only (NLM_F_EXCL): -EEXIST when the id is taken, by whomever. */
NL_MUST_CHECK int nl_nexthop_add_batch(struct nl *nl, const struct nl_nexthop *nh);
NL_MUST_CHECK int nl_nexthop_del_batch(struct nl *nl, uint32_t id);

typedef int nl_nexthop_cb(const struct nl_nexthop *nh, void *arg);
/* Nexthops of family (AF_UNSPEC: all); only single nexthops with a gateway
 * or device are passed (groups, blackholes and FDB nexthops are skipped).
 * -EOPNOTSUPP when the kernel has no nexthop objects. */
NL_MUST_CHECK int nl_nexthop_dump(struct nl *nl, int family, nl_nexthop_cb *cb, void *arg);
/* RTM_NEWNEXTHOP / RTM_DELNEXTHOP into ret. -EINVAL: another message type;
 * -EBADMSG: malformed; -EOPNOTSUPP: a group, blackhole or FDB nexthop, or
 * one with neither gateway nor device (not describable here). */
NL_MUST_CHECK int nl_nexthop_parse(const struct nlmsghdr *nlh, struct nl_nexthop *ret);

#endif
