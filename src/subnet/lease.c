// SPDX-License-Identifier: Apache-2.0
/*
 * Lease values must be byte-identical to what flannel's Go code writes, and
 * must be read the way Go reads them, so this file carries a small JSON
 * scanner that mirrors encoding/json instead of round-tripping through
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

#include "core/hex.h"
#include "core/err.h"
#include "core/xmalloc.h"

#define JSON_MAX_DEPTH 10000 /* encoding/json's maxNestingDepth */

static const char hexdig[] = "0123456789abcdef";

/* ---- growable output buffer ---- */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_put(struct buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = xreallocarray(b->p, cap, 1);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

static void buf_putc(struct buf *b, char c)
{
	buf_put(b, &c, 1);
}

/* ---- UTF-8, as Go's utf8.DecodeRune: 0 for an invalid sequence ---- */

static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *ret)
{
	uint32_t r, min;
	size_t len;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*ret = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2, r = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, r = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, r = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		r = r << 6 | (s[i] & 0x3f);
	}
	if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
		return 0;
	*ret = r;
	return len;
}

static void utf8_put(struct buf *b, uint32_t r)
{
	unsigned char out[4];
	size_t n;

	if (r < 0x80) {
		out[0] = (unsigned char)r, n = 1;
	} else if (r < 0x800) {
		out[0] = (unsigned char)(0xc0 | r >> 6), n = 2;
	} else if (r < 0x10000) {
		out[0] = (unsigned char)(0xe0 | r >> 12), n = 3;
	} else {
		out[0] = (unsigned char)(0xf0 | r >> 18), n = 4;
	}
	for (size_t i = 1; i < n; i++)
		out[i] = (unsigned char)(0x80 | ((r >> (6 * (n - 1 - i))) & 0x3f));
	buf_put(b, out, n);
}

/* ---- Go encoding: strings and RawMessage compaction ---- */

/* encoding/json appendString with escapeHTML = true. */
static void go_put_string(struct buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[6] = {'\\', 'u', '0', '0', 0, 0};
	size_t i = 0, start = 0;

	buf_putc(b, '"');
	while (i < n) {
		unsigned char c = s[i];
		uint32_t r;
		size_t len;

		if (c < 0x80) {
			if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' &&
			    c != '&') {
				i++;
				continue;
			}
			buf_put(b, s + start, i - start);
			switch (c) {
			case '"':
			case '\\':
				buf_putc(b, '\\');
				buf_putc(b, (char)c);
				break;
			case '\b':
				buf_puts(b, "\\b");
				break;
			case '\f':
				buf_puts(b, "\\f");
				break;
			case '\n':
				buf_puts(b, "\\n");
				break;
			case '\r':
				buf_puts(b, "\\r");
				break;
			case '\t':
				buf_puts(b, "\\t");
				break;
			default:
				esc[4] = hexdig[c >> 4];
				esc[5] = hexdig[c & 0xf];
				buf_put(b, esc, sizeof(esc));
			}
			start = ++i;
			continue;
		}
		len = utf8_decode(s + i, n - i, &r);
		if (len == 0) {
			buf_put(b, s + start, i - start);
			buf_puts(b, "\\ufffd");
			start = ++i;
			continue;
		}
		if (r == 0x2028 || r == 0x2029) {
			buf_put(b, s + start, i - start);
			buf_puts(b, r == 0x2028 ? "\\u2028" : "\\u2029");
			i += len;
			start = i;
			continue;
		}
		i += len;
	}
	buf_put(b, s + start, n - start);
	buf_putc(b, '"');
}

/* ---- JSON scanner with encoding/json's grammar ---- */

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws(const unsigned char *s, size_t n, size_t i)
{
	while (i < n && is_ws(s[i]))
		i++;
	return i;
}

/* s[i] == '"'. Index after the closing quote, or 0 if invalid. */
static size_t scan_string(const unsigned char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '"')
			return i + 1;
		if (s[i] < 0x20)
			return 0;
		if (s[i] != '\\')
			continue;
		if (++i >= n)
			return 0;
		if (s[i] == 'u') {
			if (n - i < 5)
				return 0;
			for (int k = 1; k <= 4; k++)
				if (hex_digit(s[i + k]) < 0)
					return 0;
			i += 4;
		} else if (!strchr("\"\\/bfnrt", s[i]) || s[i] == '\0') {
			return 0;
		}
	}
	return 0;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; index after it, or 0. */
static size_t scan_number(const unsigned char *s, size_t n, size_t i)
{
	if (i < n && s[i] == '-')
		i++;
	if (i >= n || !is_digit(s[i]))
		return 0;
	if (s[i] == '0') {
		i++;
	} else {
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && s[i] == '.') {
		if (++i >= n || !is_digit(s[i]))
			return 0;
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !is_digit(s[i]))
			return 0;
		while (i < n && is_digit(s[i]))
			i++;
	}
	return i;
}

static size_t scan_literal(const unsigned char *s, size_t n, size_t i)
{
	static const char *const lits[] = {"true", "false", "null"};

	for (size_t k = 0; k < sizeof(lits) / sizeof(lits[0]); k++) {
		size_t l = strlen(lits[k]);

		if (n - i >= l && memcmp(s + i, lits[k], l) == 0)
			return i + l;
	}
	return 0;
}

/*
 * One value starting at s[i] (no leading whitespace), already inside `depth`
 * containers. Iterative so hostile nesting cannot exhaust the C stack; one bit
 * per level says object (1) or array (0). Index after the value, or 0.
 */
static size_t scan_value(const unsigned char *s, size_t n, size_t i, unsigned depth)
{
	uint8_t is_obj[JSON_MAX_DEPTH / 8 + 1];
	unsigned top = 0; /* containers opened here */

	for (;;) {
		bool closed = false, obj;

		if (i >= n)
			return 0;
		switch (s[i]) {
		case '{':
		case '[':
			if (depth + top + 1 > JSON_MAX_DEPTH)
				return 0;
			if (s[i] == '{')
				is_obj[top / 8] |= (uint8_t)(1U << (top % 8));
			else
				is_obj[top / 8] &= (uint8_t) ~(1U << (top % 8));
			top++;
			obj = s[i] == '{';
			i = skip_ws(s, n, i + 1);
			if (i < n && s[i] == (obj ? '}' : ']')) {
				top--;
				i++;
				closed = true;
				break;
			}
			if (obj) {
				if (i >= n || s[i] != '"' || !(i = scan_string(s, n, i)))
					return 0;
				i = skip_ws(s, n, i);
				if (i >= n || s[i] != ':')
					return 0;
				i = skip_ws(s, n, i + 1);
			}
			continue;
		case '"':
			i = scan_string(s, n, i);
			break;
		case 't':
		case 'f':
		case 'n':
			i = scan_literal(s, n, i);
			break;
		default:
			i = scan_number(s, n, i);
			break;
		}
		if (!closed && i == 0)
			return 0;
		/* A value ended: close containers or move to the next element. */
		for (;;) {
			if (top == 0)
				return i;
			obj = is_obj[(top - 1) / 8] & (1U << ((top - 1) % 8));
			i = skip_ws(s, n, i);
			if (i >= n)
				return 0;
			if (s[i] == (obj ? '}' : ']')) {
				top--;
				i++;
				continue;
			}
			if (s[i] != ',')
				return 0;
			i = skip_ws(s, n, i + 1);
			if (obj) {
				if (i >= n || s[i] != '"' || !(i = scan_string(s, n, i)))
					return 0;
				i = skip_ws(s, n, i);
				if (i >= n || s[i] != ':')
					return 0;
				i = skip_ws(s, n, i + 1);
			}
			break;
		}
	}
}

/*
 * encoding/json appendCompact(escape = true) of a RawMessage: exactly one
 * value, optionally surrounded by whitespace. -EINVAL if invalid.
 */
static int go_compact(struct buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i, end, start;
	bool in_str = false;

	i = skip_ws(s, n, 0);
	end = scan_value(s, n, i, 0);
	if (end == 0 || skip_ws(s, n, end) != n)
		return -EINVAL;
	/* Valid, so a simple pass that tracks string state is enough. */
	for (start = i; i < end; i++) {
		unsigned char c = s[i];

		if (!in_str) {
			if (is_ws(c)) {
				buf_put(b, s + start, i - start);
				start = i + 1;
			} else if (c == '"') {
				in_str = true;
			}
			continue;
		}
		if (c == '\\') {
			i++; /* the escaped byte cannot end the string */
		} else if (c == '"') {
			in_str = false;
		} else if (c == '<' || c == '>' || c == '&') {
			char esc[6] = {'\\', 'u', '0', '0', hexdig[c >> 4], hexdig[c & 0xf]};

			buf_put(b, s + start, i - start);
			buf_put(b, esc, sizeof(esc));
			start = i + 1;
		} else if (c == 0xe2 && end - i > 2 && s[i + 1] == 0x80 &&
			   (s[i + 2] & ~1) == 0xa8) {
			buf_put(b, s + start, i - start);
			buf_puts(b, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
			i += 2;
			start = i + 1;
		}
	}
	buf_put(b, s + start, end - start);
	return 0;
}

/* ---- Go decoding helpers ---- */

static int get_u4(const unsigned char *s, size_t n, size_t i)
{
	int v = 0;

	if (n - i < 6 || s[i] != '\\' || s[i + 1] != 'u')
		return -1;
	for (int k = 2; k < 6; k++)
		v = v << 4 | hex_digit(s[i + k]);
	return v;
}

/* Unquote a scanned string span [s, s + n) (quotes included) like Go's
 * unquoteBytes: invalid UTF-8 and lone surrogates become U+FFFD. */
static void go_unquote(struct buf *b, const unsigned char *s, size_t n)
{
	size_t i = 1, end = n - 1;

	buf_put(b, "", 0);
	while (i < end) {
		unsigned char c = s[i];
		uint32_t r;
		size_t len;
		int u, u2;

		if (c == '\\') {
			switch (s[i + 1]) {
			case 'b':
				buf_putc(b, '\b');
				break;
			case 'f':
				buf_putc(b, '\f');
				break;
			case 'n':
				buf_putc(b, '\n');
				break;
			case 'r':
				buf_putc(b, '\r');
				break;
			case 't':
				buf_putc(b, '\t');
				break;
			case 'u':
				u = get_u4(s, end, i);
				i += 6;
				if (u >= 0xd800 && u < 0xe000) {
					u2 = get_u4(s, end, i);
					if (u < 0xdc00 && u2 >= 0xdc00 && u2 < 0xe000) {
						i += 6;
						utf8_put(b, 0x10000 +
								    (((uint32_t)u - 0xd800) << 10) +
								    ((uint32_t)u2 - 0xdc00));
					} else {
						utf8_put(b, 0xfffd);
					}
				} else {
					utf8_put(b, (uint32_t)u);
				}
				continue;
			default: /* " \ / */
				buf_putc(b, (char)s[i + 1]);
			}
			i += 2;
			continue;
		}
		if (c < 0x80) {
			buf_putc(b, (char)c);
			i++;
			continue;
		}
		len = utf8_decode(s + i, end - i, &r);
		if (len == 0) {
			utf8_put(b, 0xfffd);
			i++;
		} else {
			buf_put(b, s + i, len);
			i += len;
		}
	}
}

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
	struct buf b = {0};
	int r = 0;

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
		go_unquote(&b, v, vn);
		if (b.len >= sizeof(a->backend_type))
			r = err_set(err, -EINVAL, "BackendType is too long (%zu bytes, max %zu)",
				    b.len, sizeof(a->backend_type) - 1);
		else if (memchr(b.p, '\0', b.len))
			r = err_set(err, -EINVAL, "BackendType contains a NUL character");
		else
			memcpy(a->backend_type, b.p, b.len + 1);
		free(b.p);
		break;
	case F_BACKEND_DATA:
	case F_BACKEND_V6_DATA:
		/* Already validated; compaction cannot fail. */
		buf_put(&b, "", 0);
		go_compact(&b, (const char *)v, vn);
		if (f == F_BACKEND_DATA) {
			free(a->backend_data);
			a->backend_data = b.p;
		} else {
			free(a->backend_v6_data);
			a->backend_v6_data = b.p;
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
	i = skip_ws(s, len, 0);
	if (i == len)
		return err_set(err, -EINVAL, "lease value is empty");
	end = scan_value(s, len, i, 0);
	if (end == 0)
		return err_set(err, -EINVAL, "lease value is not valid JSON");
	if (skip_ws(s, len, end) != len)
		return err_set(err, -EINVAL, "lease value has data after the JSON value");
	if (s[i] != '{')
		return err_set(err, -EINVAL, "lease value is %s, not an object", json_kind(s[i]));

	/* Valid, so the walk below needs no bounds checks of its own. */
	i = skip_ws(s, len, i + 1);
	r = 0;
	while (s[i] != '}') {
		struct buf key = {0};
		size_t kend, vstart, vend;
		enum field f;

		kend = scan_string(s, len, i);
		go_unquote(&key, s + i, kend - i);
		f = match_field(key.p, key.len);
		free(key.p);
		vstart = skip_ws(s, len, skip_ws(s, len, kend) + 1);
		vend = scan_value(s, len, vstart, 1);
		r = decode_field(f, s + vstart, vend - vstart, &a, &seen_ip, err);
		if (r < 0)
			goto out;
		i = skip_ws(s, len, vend);
		if (s[i] == ',')
			i = skip_ws(s, len, i + 1);
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
	char ip[IP_ADDR_STRLEN] = "0.0.0.0";
	struct buf b = {0};
	size_t tlen;
	int r = -EINVAL;

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
	buf_puts(&b, "{\"PublicIP\":\"");
	buf_puts(&b, ip);
	buf_puts(&b, "\",\"PublicIPv6\":");
	if (a->public_ipv6.family) {
		buf_putc(&b, '"');
		buf_puts(&b, ip_addr_format(&a->public_ipv6, ip));
		buf_putc(&b, '"');
	} else {
		buf_puts(&b, "null");
	}
	if (tlen) {
		buf_puts(&b, ",\"BackendType\":");
		go_put_string(&b, a->backend_type, tlen);
	}
	if (a->backend_data && *a->backend_data) {
		buf_puts(&b, ",\"BackendData\":");
		if (go_compact(&b, a->backend_data, strlen(a->backend_data)) < 0)
			goto out;
	}
	if (a->backend_v6_data && *a->backend_v6_data) {
		buf_puts(&b, ",\"BackendV6Data\":");
		if (go_compact(&b, a->backend_v6_data, strlen(a->backend_v6_data)) < 0)
			goto out;
	}
	buf_putc(&b, '}');
	*ret_json = b.p;
	b.p = NULL;
	r = 0;
out:
	free(b.p);
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
