/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NFT_NFTABLES_INT_H
#define WEFT_NFT_NFTABLES_INT_H

/*
 * Inside nftables mode: the names nftables.c shares with the rule text
 * (nftables_rules.c).
 */
#include "nft/rules.h"

extern const char *const nftm_family[TRAFFIC_NFAM]; /* "ip", "ip6" */
extern const char *const nftm_table[TRAFFIC_NFAM];  /* "flannel-ipv4", "flannel-ipv6" */

#define NFTM_POSTRTG_SPEC "type nat hook postrouting priority srcnat"
#define NFTM_PEER_SET "overlay-peers"

#endif
