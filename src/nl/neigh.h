/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NL_NEIGH_H
#define WEFT_NL_NEIGH_H

/*
 * Neighbours (ARP/ND entries) and bridge FDB entries, both RTM_*NEIGH:
 *   neighbour: family AF_INET/AF_INET6, NDA_DST ip -> NDA_LLADDR mac
 *   fdb:       family AF_BRIDGE, NTF_SELF, NDA_LLADDR mac -> NDA_DST remote ip
 * (`ip neigh replace ... nud permanent`, `bridge fdb replace ... self permanent`).
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/ipnet.h"
#include "nl/nl.h"

struct nl;
struct err;
struct nlmsghdr;

struct nl_neigh {
	int index;
	struct ip_addr dst; /* neighbour: the IP; fdb: the remote VTEP IP */
	uint8_t mac[6];
	bool has_mac;
	uint16_t state; /* NUD_* */
	uint8_t flags;	/* NTF_* */
	bool fdb;	/* AF_BRIDGE entry */
};

NL_MUST_CHECK int nl_neigh_replace(struct nl *nl, const struct nl_neigh *n, struct err *err); /* permanent */
int nl_neigh_del(struct nl *nl, const struct nl_neigh *n, struct err *err);
NL_MUST_CHECK int nl_fdb_replace(struct nl *nl, const struct nl_neigh *n, struct err *err);	/* self permanent */
int nl_fdb_del(struct nl *nl, const struct nl_neigh *n, struct err *err);
typedef int nl_neigh_cb(const struct nl_neigh *n, void *arg);
/* Neighbours of family on index (0 = all). */
NL_MUST_CHECK int nl_neigh_dump(struct nl *nl, int family, int index, nl_neigh_cb *cb, void *arg);
/* FDB entries of the bridge port / vxlan device index. */
NL_MUST_CHECK int nl_fdb_dump(struct nl *nl, int index, nl_neigh_cb *cb, void *arg);
NL_MUST_CHECK int nl_neigh_parse(const struct nlmsghdr *nlh, struct nl_neigh *ret);

NL_MUST_CHECK int nl_neigh_replace_batch(struct nl *nl, const struct nl_neigh *n);
NL_MUST_CHECK int nl_neigh_del_batch(struct nl *nl, const struct nl_neigh *n);
NL_MUST_CHECK int nl_fdb_replace_batch(struct nl *nl, const struct nl_neigh *n);
NL_MUST_CHECK int nl_fdb_del_batch(struct nl *nl, const struct nl_neigh *n);

#endif
