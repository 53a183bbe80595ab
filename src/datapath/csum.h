/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_DATAPATH_CSUM_H
#define WEFT_DATAPATH_CSUM_H

/*
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * Sums are taken over 16-bit words in the host's byte order: the one's
 * complement sum is byte-order independent, so a checksum computed this way
 * and stored with memcpy (put_ne16) is the right value on the wire. Values
 * mixed into a sum (pseudo-header fields) must therefore be in network order.
 *
 * A "partial" sum is an unfolded 32-bit accumulator; csum_fold makes the
 * final (inverted) 16-bit checksum of it.
 */
#include <stddef.h>
#include <stdint.h>

/* Add len bytes at buf to sum. Odd lengths are padded with a zero byte, so
 * only the last piece of a multi-piece sum may be odd-sized. */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);

/* a + b with end-around carry. */
static inline uint32_t csum_add(uint32_t a, uint32_t b)
{
	a += b;
	return a + (a < b);
}

/* Fold to 16 bits, not inverted (the value a CHECKSUM_PARTIAL field holds). */
static inline uint16_t csum_fold_raw(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The checksum to store: folded and inverted. */
static inline uint16_t csum_fold(uint32_t sum)
{
	return (uint16_t)~csum_fold_raw(sum);
}

/* IPv4 pseudo-header sum; saddr/daddr point at the 4 address bytes, len is
 * the L4 length (header + payload) in host order. */
uint32_t csum_pseudo4(const uint8_t *saddr, const uint8_t *daddr, uint8_t proto, uint16_t len);

/* Checksum of an IPv4 header of hlen bytes, computed as if its checksum field
 * were zero. */
uint16_t csum_ip4_header(const uint8_t *ip, unsigned hlen);

/* RFC 1624 eqn. 3: fix the checksum at *check (native view, see above)
 * after one 16-bit word changed from old to new (native views too). */
static inline uint16_t csum_replace16(uint16_t check, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t)~check;

	sum += (uint16_t)~old;
	sum += new;
	return csum_fold(sum);
}

#endif
