/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_IPNET_H
#define WEFT_CORE_IPNET_H

/*
 * IPv4/IPv6 addresses and prefixes, and the subnet arithmetic flannel's
 * allocator needs. Addresses are stored in network byte order; an IPv4
 * address uses the first 4 bytes of b[].
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define IP_ADDR_STRLEN 46   /* INET6_ADDRSTRLEN */
#define IP_PREFIX_STRLEN 50 /* address + "/128" */

struct ip_addr {
	uint8_t family; /* AF_INET or AF_INET6; 0 = unset */
	uint8_t b[16];
};

struct ip_prefix {
	struct ip_addr addr; /* network address once masked */
	uint8_t len;
};

/* Width in bits of the family: 32 or 128 (0 when unset). */
unsigned ip_family_bits(int family);

/* Parse a dotted quad or an IPv6 address (no prefix). 0 or -EINVAL. */
int ip_addr_parse(const char *s, struct ip_addr *ret);
/* Same, but only accept the given family. */
int ip_addr_parse_family(const char *s, int family, struct ip_addr *ret);

/* Format: dotted quad, or IPv6 in RFC 5952 form (lowercase, longest run of two
 * or more zero groups compressed, first run on ties, never embedded IPv4).
 * Returns buf; buf must hold IP_ADDR_STRLEN bytes. "" for an unset address. */
const char *ip_addr_format(const struct ip_addr *a, char *buf);

bool ip_addr_is_unset(const struct ip_addr *a); /* family 0, or all-zero bytes */
bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b);
/* Order: by family, then numerically. */
int ip_addr_cmp(const struct ip_addr *a, const struct ip_addr *b);

/* a + n, where n is given as 2^shift (shift < width). -ERANGE on overflow. */
int ip_addr_add_pow2(const struct ip_addr *a, unsigned shift, struct ip_addr *ret);
/* a + 1 / a - 1. -ERANGE on overflow/underflow. */
int ip_addr_inc(const struct ip_addr *a, struct ip_addr *ret);
int ip_addr_dec(const struct ip_addr *a, struct ip_addr *ret);

/* Parse "addr/len"; host bits are dropped (Go's net.ParseCIDR). 0 or -EINVAL. */
int ip_prefix_parse(const char *s, struct ip_prefix *ret);
int ip_prefix_parse_family(const char *s, int family, struct ip_prefix *ret);
/* "addr/len"; buf must hold IP_PREFIX_STRLEN bytes. Returns buf. */
const char *ip_prefix_format(const struct ip_prefix *p, char *buf);

/* Build a prefix from an address and a length, zeroing host bits. -EINVAL if
 * len exceeds the family width. */
int ip_prefix_make(const struct ip_addr *a, unsigned len, struct ip_prefix *ret);
/* True when the address has no bits set below len (it is a network address). */
bool ip_addr_is_aligned(const struct ip_addr *a, unsigned len);

bool ip_prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b);
bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a);
/* outer contains all of inner (same family, outer->len <= inner->len). */
bool ip_prefix_contains_prefix(const struct ip_prefix *outer, const struct ip_prefix *inner);
bool ip_prefix_overlaps(const struct ip_prefix *a, const struct ip_prefix *b);

/* The next prefix of the same length (p + 2^(width-len)). -ERANGE past the end
 * of the address space. */
int ip_prefix_next(const struct ip_prefix *p, struct ip_prefix *ret);
/* Last address of the prefix (all host bits set). */
void ip_prefix_last(const struct ip_prefix *p, struct ip_addr *ret);
/* Network address + 1: the first usable address (FLANNEL_SUBNET form). */
int ip_prefix_first_host(const struct ip_prefix *p, struct ip_addr *ret);

#endif
