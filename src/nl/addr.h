/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NL_ADDR_H
#define WEFT_NL_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ipnet.h"
#include "nl/nl.h"

struct nl;
struct err;
struct nlmsghdr;

struct nl_addr {
	int index;
	struct ip_prefix prefix; /* address (not masked) and prefix length */
	uint8_t scope;		 /* RT_SCOPE_* */
	uint32_t flags;		 /* IFA_F_* (IFA_FLAGS when present) */
};

/* Adds (NLM_F_REPLACE: fine if present) address/len on index. prefix->addr is
 * the address itself: callers pass e.g. 10.5.34.0/32. */
NL_MUST_CHECK int nl_addr_add(struct nl *nl, int index, const struct ip_prefix *addr, struct err *err);
int nl_addr_del(struct nl *nl, int index, const struct ip_prefix *addr, struct err *err);
typedef int nl_addr_cb(const struct nl_addr *a, void *arg);
/* family AF_INET, AF_INET6 or AF_UNSPEC; index 0 = every link. */
NL_MUST_CHECK int nl_addr_dump(struct nl *nl, int family, int index, nl_addr_cb *cb, void *arg);
NL_MUST_CHECK int nl_addr_parse(const struct nlmsghdr *nlh, struct nl_addr *ret);
/* Make want (address/len) the only address of its family on index: the
 * others are deleted (IPv6 link-local ones, the kernel's, are kept), want is
 * added unless present. */
NL_MUST_CHECK int nl_addr_set_only(struct nl *nl, int index, const struct ip_prefix *want,
				   struct err *err);

#endif
