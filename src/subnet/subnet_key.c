// SPDX-License-Identifier: Apache-2.0
/*
 * Upstream parses keys with the end-anchored regex
 *	(\d+\.\d+.\d+.\d+)-(\d+)(?:&([a-f\d:]+)-(\d+))?$
 * then net.ParseIP and strconv.ParseUint(len, 10, 5) for IPv4 (so 0-31) and
 * bitsize 7 for IPv6 (0-127). Consequence: a /32 (or v6 /128) lease has a key
 * no flannel node can parse, so we refuse to format one, and reject it on parse.
 *
 * We accept a subset of what upstream accepts. The regex is not anchored at the
 * start, so upstream finds a key inside any junk ("x10.0.0.0-24", or even
 * "10.0.0.0-24&1.2.3.4-8" read as 1.2.3.4/8); we require the whole component
 * to be a key. Upstream also keeps host bits (10.5.34.1-24 becomes a lease on
 * 10.5.34.1/24, which breaks exact-match lookups): the spec says keys name
 * network addresses, so we reject those, as well as leading zeros in lengths
 * (aliases of the canonical key), /0 subnets other than the IPv6-only
 * placeholder, and a bare 0.0.0.0-0 (a lease covering all of IPv4).
 */
#include "subnet/subnet_key.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

bool subnet_key_has_v4(const struct subnet_key *k)
{
	return k->v4.addr.family == AF_INET && k->v4.len != 0;
}

bool subnet_key_equal(const struct subnet_key *a, const struct subnet_key *b)
{
	if (subnet_key_has_v4(a) != subnet_key_has_v4(b) || a->has_v6 != b->has_v6)
		return false;
	if (subnet_key_has_v4(a) && !ip_prefix_equal(&a->v4, &b->v4))
		return false;
	return !a->has_v6 || ip_prefix_equal(&a->v6, &b->v6);
}

int subnet_key_format(const struct subnet_key *k, char *buf, size_t len)
{
	char v4[IP_ADDR_STRLEN] = "0.0.0.0", v6[IP_ADDR_STRLEN];
	unsigned v4len = 0;
	int n;

	if (k->v4.addr.family != 0) {
		if (k->v4.addr.family != AF_INET || !ip_addr_is_aligned(&k->v4.addr, k->v4.len))
			return -EINVAL;
		if (k->v4.len > 31)
			return -ERANGE;
		ip_addr_format(&k->v4.addr, v4);
		v4len = k->v4.len;
	}
	if (!k->has_v6) {
		/* A bare 0.0.0.0-0 would claim all of IPv4. */
		if (v4len == 0)
			return -EINVAL;
		n = snprintf(buf, len, "%s-%u", v4, v4len);
	} else {
		if (k->v6.addr.family != AF_INET6 || k->v6.len == 0 ||
		    !ip_addr_is_aligned(&k->v6.addr, k->v6.len))
			return -EINVAL;
		if (k->v6.len > 127)
			return -ERANGE;
		n = snprintf(buf, len, "%s-%u&%s-%u", v4, v4len, ip_addr_format(&k->v6.addr, v6),
			     k->v6.len);
	}
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}

/* Decimal without sign or leading zeros (ParseUint would take "024"; that is
 * an alias of the canonical key). */
static int parse_len(const char *s, unsigned max, unsigned *ret, const char *what, struct err *err)
{
	unsigned v = 0;

	if (!*s)
		return err_set(err, -EINVAL, "%s: missing prefix length after '-'", what);
	if (s[0] == '0' && s[1])
		return err_set(err, -EINVAL, "%s: prefix length has a leading zero", what);
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return err_set(err, -EINVAL, "%s: prefix length is not a decimal number",
				       what);
		if (p - s >= 3)
			return err_set(err, -EINVAL, "%s: prefix length too long", what);
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > max)
		return err_set(err, -EINVAL, "%s: prefix length %u out of range (0-%u)", what, v,
			       max);
	*ret = v;
	return 0;
}

/* A dotted quad as Go's net.ParseIP takes it: four 1-3 digit octets, <= 255,
 * no leading zeros. Own code rather than inet_pton to say what was wrong. */
static int parse_quad(const char *s, struct ip_addr *ret, struct err *err)
{
	struct ip_addr a = {.family = AF_INET};
	const char *p = s;

	for (int i = 0; i < 4; i++) {
		unsigned v = 0, nd = 0;

		if (i > 0) {
			if (*p != '.')
				return err_set(err, -EINVAL, "IPv4 part: expected a dotted quad");
			p++;
		}
		for (; *p >= '0' && *p <= '9'; p++, nd++) {
			if (nd == 3)
				return err_set(err, -EINVAL, "IPv4 part: octet too long");
			v = v * 10 + (unsigned)(*p - '0');
		}
		if (nd == 0)
			return err_set(err, -EINVAL, "IPv4 part: expected a dotted quad");
		if (nd > 1 && p[-(int)nd] == '0')
			return err_set(err, -EINVAL, "IPv4 part: octet has a leading zero");
		if (v > 255)
			return err_set(err, -EINVAL, "IPv4 part: octet %u > 255", v);
		a.b[i] = (uint8_t)v;
	}
	if (*p)
		return err_set(err, -EINVAL, "IPv4 part: expected a dotted quad");
	*ret = a;
	return 0;
}

/* "addr-len" of one family; s is modified (the '-' is cut). */
static int parse_part(char *s, int family, struct ip_prefix *ret, struct err *err)
{
	const char *what = family == AF_INET ? "IPv4 part" : "IPv6 part";
	struct ip_addr a = {0};
	unsigned len = 0;
	char *dash;
	int r;

	dash = strchr(s, '-');
	if (!dash)
		return err_set(err, -EINVAL, "%s: missing '-' before the prefix length", what);
	*dash = '\0';
	if (!*s)
		return err_set(err, -EINVAL, "%s: empty address", what);
	if (family == AF_INET) {
		r = parse_quad(s, &a, err);
		if (r < 0)
			return r;
	} else {
		/* Upstream's regex: only lowercase hex and ':' (no zone, no dotted tail). */
		if (strspn(s, "0123456789abcdef:") != strlen(s))
			return err_set(err, -EINVAL,
				       "IPv6 part: only lowercase hex digits and ':' allowed");
		if (ip_addr_parse_family(s, AF_INET6, &a) < 0)
			return err_set(err, -EINVAL, "IPv6 part: not an IPv6 address");
	}
	r = parse_len(dash + 1, family == AF_INET ? 31 : 127, &len, what, err);
	if (r < 0)
		return r;
	if (!ip_addr_is_aligned(&a, len))
		return err_set(err, -EINVAL,
			       "%s: address has host bits set (a key names a network)", what);
	return ip_prefix_make(&a, len, ret);
}

int subnet_key_parse_mem(const char *s, size_t len, struct subnet_key *ret, struct err *err)
{
	struct subnet_key k = {0};
	char buf[SUBNET_KEY_STRLEN];
	char *amp;
	int r;

	if (len == 0)
		return err_set(err, -EINVAL, "empty subnet key");
	if (len >= sizeof(buf))
		return err_set(err, -EINVAL, "subnet key too long (%zu bytes, max %zu)", len,
			       sizeof(buf) - 1);
	if (memchr(s, '\0', len))
		return err_set(err, -EINVAL, "subnet key contains a NUL byte");
	memcpy(buf, s, len);
	buf[len] = '\0';

	amp = strchr(buf, '&');
	if (amp) {
		*amp = '\0';
		if (strchr(amp + 1, '&'))
			return err_set(err, -EINVAL, "subnet key has more than one '&'");
	}
	r = parse_part(buf, AF_INET, &k.v4, err);
	if (r < 0)
		return r;
	if (amp) {
		r = parse_part(amp + 1, AF_INET6, &k.v6, err);
		if (r < 0)
			return r;
		if (k.v6.len == 0)
			return err_set(err, -EINVAL, "IPv6 part: a /0 cannot be a node subnet");
		k.has_v6 = true;
	}
	if (k.v4.len == 0 && !k.has_v6)
		return err_set(err, -EINVAL,
			       "IPv4 part: 0.0.0.0-0 is only valid before an IPv6 part");
	*ret = k;
	return 0;
}

int subnet_key_parse(const char *s, struct subnet_key *ret, struct err *err)
{
	if (!s)
		return err_set(err, -EINVAL, "empty subnet key");
	/* strnlen bounds the scan; anything longer is rejected as too long. */
	return subnet_key_parse_mem(s, strnlen(s, SUBNET_KEY_STRLEN), ret, err);
}

int subnet_key_from_etcd_key(const char *key, size_t len, struct subnet_key *ret, struct err *err)
{
	const char *base = key;

	for (size_t i = len; i > 0; i--) {
		if (key[i - 1] == '/') {
			base = key + i;
			break;
		}
	}
	return subnet_key_parse_mem(base, len - (size_t)(base - key), ret, err);
}

int subnet_key_from_lease_key(const char *subnets_prefix, const char *key, size_t len,
			      struct subnet_key *ret, struct err *err)
{
	size_t plen = strlen(subnets_prefix);
	char name[SUBNET_KEY_STRLEN];
	struct subnet_key k;
	int r;

	if (!key || len < plen || memcmp(key, subnets_prefix, plen) != 0)
		return err_set(err, -ENOENT, "not below %s", subnets_prefix);
	r = subnet_key_parse_mem(key + plen, len - plen, &k, err);
	if (r < 0)
		return r;
	if (subnet_key_format(&k, name, sizeof(name)) < 0)
		return err_set(err, -EINVAL, "subnet key cannot be written back");
	if (strlen(name) != len - plen || memcmp(name, key + plen, len - plen) != 0)
		return err_set(err, -EINVAL, "not the canonical spelling of subnet key %s", name);
	*ret = k;
	return 0;
}
