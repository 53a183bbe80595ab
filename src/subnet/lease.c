// SPDX-License-Identifier: Apache-2.0
/*
 * Lease values must be byte-identical to what flannel's Go code writes, and
 * must be read the way Go reads them, so a small JSON scanner that mirrors
 * encoding/json (lease_json.c) is used instead of round-tripping through
 * jansson (which would renumber reals, reject big integers and re-escape).
 *
 * Go details reproduced:
 *  - json.Marshal HTML-escapes: '<' '>' '&' become \u003c \u003e \u0026 and
 *    U+2028/U+2029 become \u2028/\u2029, in strings and inside RawMessage.
 *  - A RawMessage is validated and compacted (whitespace outside strings
 *    dropped); invalid backend data makes Marshal fail.
 *  - Strings: \" \\ \b \f \n \r \t, other controls as \u00XX, invalid UTF-8
 *    bytes as \ufffd (Go >= 1.22).
 *  - Unmarshal matches keys exactly or case-insensitively (Unicode simple
 *    folding: K (Kelvin) matches k, the dotless i matches i), the last
 *    duplicate wins, unknown keys are ignored, nesting is limited to 10000.
 *  - "BackendType":null leaves the field as it was; "BackendData":null is kept
 *    as the RawMessage "null" (and written back as null); "PublicIPv6":null
 *    unsets it; "PublicIP":null is an error (ip.IP4 cannot parse it).
 *
 * Where upstream is sloppier we report an error instead: a missing PublicIP
 * (Go leaves 0.0.0.0), PublicIP given as IPv6 (upstream panics in FromIP),
 * PublicIPv6 given as IPv4, or an IPv6 address that Go would print as a dotted
 * quad (IPv4-mapped, or ::/96 with a 4-byte value), since such a lease would
 * not survive a round trip through flannel byte-for-byte.
 */
#include "subnet/lease.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json_go.h"
#include "core/xmalloc.h"
#include "core/utf8.h"
#include "subnet/lease_json_int.h"

enum field {
	F_NONE,
	F_PUBLIC_IP,
	F_PUBLIC_IPV6,
	F_BACKEND_TYPE,
	F_BACKEND_DATA,
	F_BACKEND_V6_DATA
};

static const char *const field_names[] = {
	[F_PUBLIC_IP] = "PUBLICIP",
	[F_PUBLIC_IPV6] = "PUBLICIPV6",
	[F_BACKEND_TYPE] = "BACKENDTYPE",
	[F_BACKEND_DATA] = "BACKENDDATA",
	[F_BACKEND_V6_DATA] = "BACKENDV6DATA",
};

/* Go folds each rune with ToUpper(SimpleFold(r)); the only non-ASCII runes
 * that land on ASCII letters are the Kelvin sign, long s and dotless i. */
static enum field match_field(const char *key, size_t n)
{
	char folded[16];
	size_t fn = 0;

	for (size_t i = 0; i < n;) {
		const unsigned char *s = (const unsigned char *)key;
		uint32_t r = 0;
		size_t len = utf8_decode(s + i, n - i, &r);
		char c;

		if (len == 0 || fn == sizeof(folded))
			return F_NONE;
		if (r < 0x80)
			c = (char)(r >= 'a' && r <= 'z' ? r - 32 : r);
		else if (r == 0x212a)
			c = 'K';
		else if (r == 0x17f)
			c = 'S';
		else if (r == 0x131)
			c = 'I';
		else
			return F_NONE;
		folded[fn++] = c;
		i += len;
	}
	for (size_t f = F_PUBLIC_IP; f <= F_BACKEND_V6_DATA; f++)
		if (strlen(field_names[f]) == fn && memcmp(field_names[f], folded, fn) == 0)
			return (enum field)f;
	return F_NONE;
}

/* Go prints an IP6 whose big.Int value has exactly 4 bytes, or an
 * IPv4-mapped one, as a dotted quad; such a lease cannot round-trip. */
static bool v6_prints_as_v4(const struct ip_addr *a)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	static const uint8_t zero[12];

	return memcmp(a->b, mapped, 12) == 0 || (memcmp(a->b, zero, 12) == 0 && a->b[12] != 0);
}

/* The raw text of a string value without its quotes, as ip.IP4/IP6's
 * UnmarshalJSON see it (no unescaping: an escape makes the address invalid). */
static int parse_ip_value(const unsigned char *v, size_t vn, int family, struct ip_addr *ret)
{
	char tmp[IP_ADDR_STRLEN];

	if (vn < 2 || v[0] != '"' || vn - 2 >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, v + 1, vn - 2);
	tmp[vn - 2] = '\0';
	if (memchr(tmp, '\0', vn - 2))
		return -EINVAL;
	return ip_addr_parse_family(tmp, family, ret);
}

static const char *json_kind(unsigned char c)
{
	switch (c) {
	case '{':
		return "an object";
	case '[':
		return "an array";
	case '"':
		return "a string";
	case 't':
	case 'f':
		return "a boolean";
	case 'n':
		return "null";
	default:
		return "a number";
	}
}

static int decode_field(enum field f, const unsigned char *v, size_t vn, struct lease_attrs *a,
			bool *seen_ip, struct err *err)
{
	struct buf b;
	int r = 0;

	buf_init(&b, LEASE_JSON_BUF_MAX);
	switch (f) {
	case F_PUBLIC_IP:
		if (v[0] != '"')
			return err_set(err, -EINVAL, "PublicIP is %s, not a string",
				       json_kind(v[0]));
		if (parse_ip_value(v, vn, AF_INET, &a->public_ip) < 0)
			return err_set(err, -EINVAL, "PublicIP %.*s is not an IPv4 address",
				       (int)(vn > 60 ? 60 : vn), (const char *)v);
		*seen_ip = true;
		break;
	case F_PUBLIC_IPV6:
		if (v[0] == 'n') {
			a->public_ipv6 = (struct ip_addr){0};
			break;
		}
		if (v[0] != '"')
			return err_set(err, -EINVAL, "PublicIPv6 is %s, not a string or null",
				       json_kind(v[0]));
		if (parse_ip_value(v, vn, AF_INET6, &a->public_ipv6) < 0)
			return err_set(err, -EINVAL, "PublicIPv6 %.*s is not an IPv6 address",
				       (int)(vn > 60 ? 60 : vn), (const char *)v);
		if (v6_prints_as_v4(&a->public_ipv6))
			return err_set(err, -EINVAL, "PublicIPv6 %.*s is IPv4-mapped/compatible",
				       (int)vn, (const char *)v);
		break;
	case F_BACKEND_TYPE:
		if (v[0] == 'n')
			break; /* Go: null leaves a string unchanged */
		if (v[0] != '"')
			return err_set(err, -EINVAL, "BackendType is %s, not a string",
				       json_kind(v[0]));
		if ((r = lease_json_unquote(&b, v, vn)) < 0)
			r = err_set(err, r, "BackendType does not fit in %d bytes",
				    LEASE_JSON_BUF_MAX);
		else if (b.len >= sizeof(a->backend_type))
			r = err_set(err, -EINVAL, "BackendType is too long (%zu bytes, max %zu)",
				    b.len, sizeof(a->backend_type) - 1);
		else if (memchr(b.data, '\0', b.len))
			r = err_set(err, -EINVAL, "BackendType contains a NUL character");
		else
			memcpy(a->backend_type, b.data, b.len + 1);
		buf_free(&b);
		break;
	case F_BACKEND_DATA:
	case F_BACKEND_V6_DATA:
		/* Already validated and at most LEASE_JSON_MAX bytes: compaction
		 * cannot fail (the checks are belt and braces). */
		if ((r = buf_append(&b, "", 0)) < 0 ||
		    (r = lease_json_compact(&b, (const char *)v, vn)) < 0) {
			buf_free(&b);
			return err_set(err, r, "backend data does not fit in %d bytes",
				       LEASE_JSON_BUF_MAX);
		}
		if (f == F_BACKEND_DATA) {
			free(a->backend_data);
			a->backend_data = b.data;
		} else {
			free(a->backend_v6_data);
			a->backend_v6_data = b.data;
		}
		break;
	case F_NONE:
		break;
	}
	return r;
}

int lease_attrs_decode(const char *json, size_t len, struct lease_attrs *ret, struct err *err)
{
	const unsigned char *s = (const unsigned char *)json;
	struct lease_attrs a = {0};
	bool seen_ip = false;
	size_t i, end;
	int r;

	*ret = (struct lease_attrs){0};
	if (len > LEASE_JSON_MAX)
		return err_set(err, -EINVAL, "lease value too large (%zu bytes, max %d)", len,
			       LEASE_JSON_MAX);
	/* Go validates the whole document before decoding anything. */
	i = lease_json_skip_ws(s, len, 0);
	if (i == len)
		return err_set(err, -EINVAL, "lease value is empty");
	end = lease_json_scan_value(s, len, i, 0);
	if (end == 0)
		return err_set(err, -EINVAL, "lease value is not valid JSON");
	if (lease_json_skip_ws(s, len, end) != len)
		return err_set(err, -EINVAL, "lease value has data after the JSON value");
	if (s[i] != '{')
		return err_set(err, -EINVAL, "lease value is %s, not an object", json_kind(s[i]));

	/* Valid, so the walk below needs no bounds checks of its own. */
	i = lease_json_skip_ws(s, len, i + 1);
	r = 0;
	while (s[i] != '}') {
		size_t kend, vstart, vend;
		struct buf key;
		enum field f;

		buf_init(&key, LEASE_JSON_BUF_MAX);
		kend = lease_json_scan_string(s, len, i);
		r = lease_json_unquote(&key, s + i, kend - i);
		f = match_field(key.data, key.len);
		buf_free(&key);
		if (r < 0) {
			r = err_set(err, r, "a key does not fit in %d bytes", LEASE_JSON_BUF_MAX);
			goto out;
		}
		vstart = lease_json_skip_ws(s, len, lease_json_skip_ws(s, len, kend) + 1);
		vend = lease_json_scan_value(s, len, vstart, 1);
		r = decode_field(f, s + vstart, vend - vstart, &a, &seen_ip, err);
		if (r < 0)
			goto out;
		i = lease_json_skip_ws(s, len, vend);
		if (s[i] == ',')
			i = lease_json_skip_ws(s, len, i + 1);
	}
	if (!seen_ip) {
		r = err_set(err, -EINVAL, "PublicIP is missing");
		goto out;
	}
	*ret = a;
	return 0;
out:
	lease_attrs_free(&a);
	return r;
}

int lease_attrs_encode(const struct lease_attrs *a, char **ret_json)
{
	char ip[IP_ADDR_STRLEN] = "0.0.0.0", ip6[IP_ADDR_STRLEN];
	struct buf b;
	size_t tlen;
	int r;

	*ret_json = NULL;
	if (a->public_ip.family != 0 && a->public_ip.family != AF_INET)
		return -EINVAL;
	if (a->public_ipv6.family != 0 &&
	    (a->public_ipv6.family != AF_INET6 || v6_prints_as_v4(&a->public_ipv6)))
		return -EINVAL;
	tlen = strnlen(a->backend_type, sizeof(a->backend_type));
	if (tlen == sizeof(a->backend_type))
		return -EINVAL;

	if (a->public_ip.family)
		ip_addr_format(&a->public_ip, ip);
	buf_init(&b, LEASE_JSON_BUF_MAX);
	if ((r = buf_puts(&b, "{\"PublicIP\":\"")) < 0 || (r = buf_puts(&b, ip)) < 0 ||
	    (r = buf_puts(&b, "\",\"PublicIPv6\":")) < 0)
		goto out;
	if (a->public_ipv6.family) {
		if ((r = buf_puts(&b, "\"")) < 0 ||
		    (r = buf_puts(&b, ip_addr_format(&a->public_ipv6, ip6))) < 0 ||
		    (r = buf_puts(&b, "\"")) < 0)
			goto out;
	} else if ((r = buf_puts(&b, "null")) < 0) {
		goto out;
	}
	if (tlen && ((r = buf_puts(&b, ",\"BackendType\":")) < 0 ||
		     (r = json_go_put_string(&b, a->backend_type, tlen)) < 0))
		goto out;
	if (a->backend_data && *a->backend_data &&
	    ((r = buf_puts(&b, ",\"BackendData\":")) < 0 ||
	     (r = lease_json_compact(&b, a->backend_data, strlen(a->backend_data))) < 0))
		goto out;
	if (a->backend_v6_data && *a->backend_v6_data &&
	    ((r = buf_puts(&b, ",\"BackendV6Data\":")) < 0 ||
	     (r = lease_json_compact(&b, a->backend_v6_data, strlen(a->backend_v6_data))) < 0))
		goto out;
	if ((r = buf_puts(&b, "}")) < 0)
		goto out;
	*ret_json = b.data;
	return 0;
out:
	buf_free(&b);
	return r;
}

static bool str_eq(const char *a, const char *b)
{
	/* NULL and "" both mean "omitted". */
	return strcmp(a ? a : "", b ? b : "") == 0;
}

bool lease_attrs_equal(const struct lease_attrs *a, const struct lease_attrs *b)
{
	struct ip_addr zero4 = {.family = AF_INET};
	const struct ip_addr *ia = a->public_ip.family ? &a->public_ip : &zero4;
	const struct ip_addr *ib = b->public_ip.family ? &b->public_ip : &zero4;

	return ip_addr_equal(ia, ib) && ip_addr_equal(&a->public_ipv6, &b->public_ipv6) &&
	       strncmp(a->backend_type, b->backend_type, sizeof(a->backend_type)) == 0 &&
	       str_eq(a->backend_data, b->backend_data) &&
	       str_eq(a->backend_v6_data, b->backend_v6_data);
}

void lease_attrs_free(struct lease_attrs *a)
{
	if (!a)
		return;
	free(a->backend_data);
	free(a->backend_v6_data);
	*a = (struct lease_attrs){0};
}

void lease_attrs_copy(struct lease_attrs *dst, const struct lease_attrs *src)
{
	*dst = *src;
	dst->backend_data = src->backend_data ? xstrdup(src->backend_data) : NULL;
	dst->backend_v6_data = src->backend_v6_data ? xstrdup(src->backend_v6_data) : NULL;
}
