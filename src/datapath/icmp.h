/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_DATAPATH_ICMP_H
#define WEFT_DATAPATH_ICMP_H

/*
 * ICMP "destination unreachable / net unreachable" for packets the udp data
 * path has no peer for, as flannel's proxy writes them back into the TUN:
 * IP TTL 8, source = the TUN's address, quoting the offender's IP header and
 * 8 bytes. Never about ICMP errors, non-first fragments, or sources that are
 * not one host (RFC 1812 4.3.2.7); rate limited by a token bucket.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ICMP_UNREACH_MAX (20 + 8 + 60 + 8) /* largest message built */

/* Does pkt (a valid IPv4 packet of len bytes) deserve an error? */
bool icmp_may_reply(const uint8_t *pkt, size_t len);

/* Build the message into out (ICMP_UNREACH_MAX bytes) from src (network
 * order). Returns its length, or 0 when pkt does not deserve one. */
size_t icmp_net_unreach(const uint8_t *pkt, size_t len, uint32_t src, uint8_t *out);

struct icmp_limit {
	uint32_t tokens; /* in 1/1000 of a message */
	uint32_t rate;	 /* messages per second */
	uint32_t burst;	 /* messages */
	int64_t last_ms;
};

void icmp_limit_init(struct icmp_limit *l, uint32_t rate, uint32_t burst);
/* Take one token at now_ms (monotonic); false when the bucket is empty. */
bool icmp_limit_take(struct icmp_limit *l, int64_t now_ms);

#endif
