// SPDX-License-Identifier: Apache-2.0
/*
 * Address arithmetic works on the byte array in network order, so IPv4 and
 * IPv6 share one carry loop and no 128-bit integer type is needed.
 */
#include "core/ipnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char hex[] = "0123456789abcdef";

unsigned ip_family_bits(int family)
{
	if (family == AF_INET)
		return 32;
	if (family == AF_INET6)
		return 128;
	return 0;
}

static unsigned addr_bytes(const struct ip_addr *a)
{
	return ip_family_bits(a->family) / 8;
}

int ip_addr_parse_family(const char *s, int family, struct ip_addr *ret)
{
	struct ip_addr a = { 0 };

	if (!s || !*s)
		return -EINVAL;
	/* inet_pton rejects leading-zero octets and trailing junk, as Go does. */
	if ((family == AF_INET || family == AF_UNSPEC) && inet_pton(AF_INET, s, a.b) == 1) {
		a.family = AF_INET;
	} else if ((family == AF_INET6 || family == AF_UNSPEC) &&
		   inet_pton(AF_INET6, s, a.b) == 1) {
		a.family = AF_INET6;
	} else {
		return -EINVAL;
	}
	*ret = a;
	return 0;
}

int ip_addr_parse(const char *s, struct ip_addr *ret)
{
	return ip_addr_parse_family(s, AF_UNSPEC, ret);
}

static void format_v6(const uint8_t *b, char *buf)
{
	unsigned words[8], best_base = 8, best_len = 0, cur_base = 8, cur_len = 0;
	char *p = buf;

	for (unsigned i = 0; i < 8; i++)
		words[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	/* RFC 5952 4.2: compress the longest run of >= 2 zero groups, the first on ties. */
	for (unsigned i = 0; i < 8; i++) {
		if (words[i] == 0) {
			if (cur_len == 0)
				cur_base = i;
			cur_len++;
			if (cur_len > best_len) {
				best_len = cur_len;
				best_base = cur_base;
			}
		} else {
			cur_len = 0;
		}
	}
	if (best_len < 2)
		best_base = 8;
	for (unsigned i = 0; i < 8; i++) {
		if (i == best_base) {
			*p++ = ':';
			*p++ = ':';
			i += best_len - 1;
			continue;
		}
		if (i != 0 && i != best_base + best_len)
			*p++ = ':';
		bool started = false;
		for (int shift = 12; shift >= 0; shift -= 4) {
			unsigned nib = (words[i] >> shift) & 0xf;
			if (nib || started || shift == 0) {
				*p++ = hex[nib];
				started = true;
			}
		}
	}
	*p = '\0';
}

const char *ip_addr_format(const struct ip_addr *a, char *buf)
{
	if (a->family == AF_INET)
		snprintf(buf, IP_ADDR_STRLEN, "%u.%u.%u.%u", a->b[0], a->b[1], a->b[2], a->b[3]);
	else if (a->family == AF_INET6)
		format_v6(a->b, buf);
	else
		buf[0] = '\0';
	return buf;
}

bool ip_addr_is_unset(const struct ip_addr *a)
{
	for (unsigned i = 0; i < addr_bytes(a); i++)
		if (a->b[i])
			return false;
	return true;
}

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, addr_bytes(a)) == 0;
}

int ip_addr_cmp(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->b, b->b, addr_bytes(a));
}

/* Add 1 at bit position `shift` counted from the least significant bit. */
int ip_addr_add_pow2(const struct ip_addr *a, unsigned shift, struct ip_addr *ret)
{
	unsigned n = addr_bytes(a);
	struct ip_addr r = *a;
	unsigned carry;
	int i;

	if (shift >= n * 8)
		return -ERANGE;
	i = (int)n - 1 - (int)(shift / 8);
	carry = 1U << (shift % 8);
	for (; i >= 0 && carry; i--) {
		unsigned v = r.b[i] + carry;
		r.b[i] = v & 0xff;
		carry = v >> 8;
	}
	if (carry)
		return -ERANGE;
	*ret = r;
	return 0;
}

int ip_addr_inc(const struct ip_addr *a, struct ip_addr *ret)
{
	return ip_addr_add_pow2(a, 0, ret);
}

int ip_addr_dec(const struct ip_addr *a, struct ip_addr *ret)
{
	unsigned n = addr_bytes(a);
	struct ip_addr r = *a;
	int i;

	if (n == 0)
		return -ERANGE;
	for (i = (int)n - 1; i >= 0; i--) {
		if (r.b[i]--)
			break;
	}
	if (i < 0)
		return -ERANGE;
	*ret = r;
	return 0;
}

/* Byte i's mask for a prefix of length len. */
static uint8_t byte_mask(unsigned i, unsigned len)
{
	if (len >= (i + 1) * 8)
		return 0xff;
	if (len <= i * 8)
		return 0;
	return (uint8_t)(0xff << (8 - (len - i * 8)));
}

bool ip_addr_is_aligned(const struct ip_addr *a, unsigned len)
{
	for (unsigned i = 0; i < addr_bytes(a); i++)
		if (a->b[i] & ~byte_mask(i, len))
			return false;
	return true;
}

int ip_prefix_make(const struct ip_addr *a, unsigned len, struct ip_prefix *ret)
{
	struct ip_prefix p = { .addr = *a, .len = (uint8_t)len };
	unsigned n = addr_bytes(a);

	if (n == 0 || len > n * 8)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		p.addr.b[i] &= byte_mask(i, len);
	for (unsigned i = n; i < sizeof(p.addr.b); i++)
		p.addr.b[i] = 0;
	*ret = p;
	return 0;
}

int ip_prefix_parse_family(const char *s, int family, struct ip_prefix *ret)
{
	char addr[IP_ADDR_STRLEN];
	const char *slash, *d;
	struct ip_addr a;
	unsigned len = 0;
	size_t alen;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash)
		return -EINVAL;
	alen = (size_t)(slash - s);
	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (ip_addr_parse_family(addr, family, &a) < 0)
		return -EINVAL;
	d = slash + 1;
	if (!*d)
		return -EINVAL;
	/* Leading zeros are fine, as in Go's ParseCIDR; the value is bounded. */
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			return -EINVAL;
		len = len * 10 + (unsigned)(*d - '0');
		if (len > 128)
			return -EINVAL;
	}
	return ip_prefix_make(&a, len, ret);
}

int ip_prefix_parse(const char *s, struct ip_prefix *ret)
{
	return ip_prefix_parse_family(s, AF_UNSPEC, ret);
}

const char *ip_prefix_format(const struct ip_prefix *p, char *buf)
{
	char a[IP_ADDR_STRLEN];

	if (!p->addr.family) {
		buf[0] = '\0';
		return buf;
	}
	snprintf(buf, IP_PREFIX_STRLEN, "%s/%u", ip_addr_format(&p->addr, a), p->len);
	return buf;
}

bool ip_prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return a->len == b->len && ip_addr_equal(&a->addr, &b->addr);
}

bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
	if (p->addr.family != a->family || !p->addr.family)
		return false;
	for (unsigned i = 0; i < addr_bytes(a); i++) {
		uint8_t m = byte_mask(i, p->len);
		if ((a->b[i] & m) != (p->addr.b[i] & m))
			return false;
	}
	return true;
}

bool ip_prefix_contains_prefix(const struct ip_prefix *outer, const struct ip_prefix *inner)
{
	return outer->len <= inner->len && ip_prefix_contains(outer, &inner->addr);
}

bool ip_prefix_overlaps(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return ip_prefix_contains(a, &b->addr) || ip_prefix_contains(b, &a->addr);
}

int ip_prefix_next(const struct ip_prefix *p, struct ip_prefix *ret)
{
	unsigned width = ip_family_bits(p->addr.family);
	struct ip_prefix r = *p;

	if (width == 0 || p->len == 0 || p->len > width)
		return -ERANGE;
	if (ip_addr_add_pow2(&p->addr, width - p->len, &r.addr) < 0)
		return -ERANGE;
	*ret = r;
	return 0;
}

void ip_prefix_last(const struct ip_prefix *p, struct ip_addr *ret)
{
	struct ip_addr r = p->addr;

	for (unsigned i = 0; i < addr_bytes(&r); i++)
		r.b[i] |= (uint8_t)~byte_mask(i, p->len);
	*ret = r;
}

int ip_prefix_first_host(const struct ip_prefix *p, struct ip_addr *ret)
{
	return ip_addr_inc(&p->addr, ret);
}
