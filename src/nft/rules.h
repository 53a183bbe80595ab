/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NFT_RULES_H
#define WEFT_NFT_RULES_H

/*
 * Shared by both modes of the traffic module: the parameters per family and
 * rule set, and flannel's rule sets described once, for iptables_rules.c and
 * nftables_rules.c to spell in their tool's words.
 */
#include <stdbool.h>

#include "core/ipnet.h"
#include "nft/traffic.h"

/* Family index: 0 = IPv4, 1 = IPv6. */
#define TRAFFIC_NFAM 2
#define TRAFFIC_NSET 3

int traffic_fam_index(int af);       /* AF_INET 0, AF_INET6 1, else -1 */
/* TRAFFIC_OVERLAY: the family is on and p has an overlay rule for it
 * (UDP, or IPIP for IPv4). */
bool traffic_set_on(const struct traffic_params *p, int fi, enum traffic_set set);
/* The set's prefixes for family fi, host bits cleared: network, and the pod
 * subnet (masquerade only; pod may be NULL). -EINVAL when unusable. */
int traffic_prefixes(const struct traffic_params *p, int fi, enum traffic_set set,
		     char net[IP_PREFIX_STRLEN], char pod[IP_PREFIX_STRLEN]);

/* The overlay peers of family fi (p->peers of that family, unset ones
 * left out), sorted and without repeats, into a new array (*ret, NULL when
 * none; the caller frees). Returns their number. */
size_t traffic_peer_list(const struct traffic_params *p, int fi, struct ip_addr **ret);
/* Does sorted v[0..n) hold a? */
bool traffic_peer_find(const struct ip_addr *v, size_t n, const struct ip_addr *a);

#define TRAFFIC_MAX_RULES 6

/* What a rule matches on: the cluster network, the pod subnet, multicast. */
enum traffic_addr { TRAFFIC_ANY, TRAFFIC_CLUSTER, TRAFFIC_POD, TRAFFIC_MCAST };
enum traffic_verdict { TRAFFIC_RETURN, TRAFFIC_MASQUERADE, TRAFFIC_ACCEPT };

struct traffic_match {
	enum traffic_addr addr; /* TRAFFIC_ANY: no match */
	bool negate;            /* anything but addr */
};

struct traffic_rule {
	bool mark;              /* what kube-proxy marked for NAT itself */
	struct traffic_match src, dst;
	enum traffic_verdict verdict;
};

/* One set of one family: its rules in order and the prefixes they name. */
struct traffic_rule_set {
	struct traffic_rule rule[TRAFFIC_MAX_RULES];
	unsigned n;
	char cluster[IP_PREFIX_STRLEN], pod[IP_PREFIX_STRLEN];
	const char *mcast;
};

/* The set for family fi; upstream_nft: as upstream's nftables mode has it,
 * which differs in one rule (rules.c). 0 or -EINVAL (unusable prefixes). */
int traffic_rule_set(const struct traffic_params *p, int fi, enum traffic_set set,
		     bool upstream_nft, struct traffic_rule_set *ret);
/* The prefix a match names, host bits cleared. */
const char *traffic_rule_addr(const struct traffic_rule_set *rs, enum traffic_addr a);

#endif
