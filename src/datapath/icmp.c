// SPDX-License-Identifier: Apache-2.0
#include "datapath/icmp.h"

#include <netinet/in.h>
#include <string.h>

#include "datapath/csum.h"
#include "datapath/gso.h"
#include "datapath/pkt.h"

#define ICMP_DEST_UNREACH 3
#define ICMP_NET_UNREACH 0
#define ICMP_TTL 8

static bool icmp_is_error(uint8_t type)
{
	/* dest unreachable, source quench, redirect, time exceeded,
	 * parameter problem */
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

bool icmp_may_reply(const uint8_t *pkt, size_t len)
{
	unsigned tot = ip4_check(pkt, len), hl;
	uint8_t s0 = pkt[IP4_SADDR];
	uint32_t saddr;

	if (!tot)
		return false;
	hl = ip4_hlen(pkt);
	if (get_be16(pkt + IP4_FRAG) & IP4_OFFMASK)
		return false;
	/* A source that names one host: not 0.0.0.0/8, loopback, multicast,
	 * class E or broadcast. */
	saddr = get_be32(pkt + IP4_SADDR);
	if (s0 == 0 || s0 == 127 || s0 >= 224 || saddr == 0xffffffff)
		return false;
	if (pkt[IP4_DADDR] >= 224)
		return false;
	if (pkt[IP4_PROTO] == IPPROTO_ICMP) {
		/* Without the type we cannot tell an error from a query. */
		if (tot < hl + 1 || icmp_is_error(pkt[hl]))
			return false;
	}
	return true;
}

size_t icmp_net_unreach(const uint8_t *pkt, size_t len, uint32_t src, uint8_t *out)
{
	unsigned tot, hl, quote;
	size_t n;

	if (!icmp_may_reply(pkt, len))
		return 0;
	tot = ip4_check(pkt, len);
	hl = ip4_hlen(pkt);
	quote = tot < hl + 8 ? tot : hl + 8;
	n = 20 + 8 + quote;
	memset(out, 0, 28);
	out[0] = 0x45;
	put_be16(out + IP4_TOTLEN, (uint16_t)n);
	out[IP4_TTL] = ICMP_TTL;
	out[IP4_PROTO] = IPPROTO_ICMP;
	memcpy(out + IP4_SADDR, &src, 4);
	memcpy(out + IP4_DADDR, pkt + IP4_SADDR, 4);
	put_ne16(out + IP4_CSUM, csum_ip4_header(out, 20));
	out[20] = ICMP_DEST_UNREACH;
	out[21] = ICMP_NET_UNREACH;
	memcpy(out + 28, pkt, quote);
	put_ne16(out + 22, csum_fold(csum_partial(out + 20, n - 20, 0)));
	return n;
}

void icmp_limit_init(struct icmp_limit *l, uint32_t rate, uint32_t burst)
{
	l->rate = rate;
	l->burst = burst;
	l->tokens = burst * 1000;
	l->last_ms = 0;
}

bool icmp_limit_take(struct icmp_limit *l, int64_t now_ms)
{
	uint64_t add;

	if (now_ms > l->last_ms) {
		add = (uint64_t)(now_ms - l->last_ms) * l->rate;
		l->tokens = add >= (uint64_t)l->burst * 1000 - l->tokens
				    ? l->burst * 1000
				    : l->tokens + (uint32_t)add;
		l->last_ms = now_ms;
	}
	if (l->tokens < 1000)
		return false;
	l->tokens -= 1000;
	return true;
}
