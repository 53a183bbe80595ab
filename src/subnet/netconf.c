// SPDX-License-Identifier: Apache-2.0
/*
 * flannel's pkg/subnet/config.go: ParseConfig and CheckNetworkConfig.
 *
 * jansson validates the text; a small scanner then walks the (now known
 * valid) raw bytes once more, because Go's decoder semantics need two things
 * a jansson tree loses: the document order of keys (the last of several keys
 * that fold to the same field wins, whatever their case), and the undecoded
 * bytes of a value (flannel's IP types parse the raw JSON with the quotes
 * trimmed, so "10.0.0.0\/8" is refused there and must be here).
 */
#include "subnet/netconf.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "core/json_go.h"
#include "core/xmalloc.h"

struct span {
	const char *p;
	size_t n;
};

enum field {
	F_NONE,
	F_NETWORK,
	F_IPV6_NETWORK,
	F_NETWORKS,
	F_IPV6_NETWORKS,
	F_ENABLE_IPV4,
	F_ENABLE_IPV6,
	F_ENABLE_NFTABLES,
	F_SUBNET_LEN,
	F_SUBNET_MIN,
	F_SUBNET_MAX,
	F_IPV6_SUBNET_LEN,
	F_IPV6_SUBNET_MIN,
	F_IPV6_SUBNET_MAX,
	F_BACKEND,
	F_COUNT,
};

/* The JSON names of flannel's subnet.Config fields (BackendType is `json:"-"`). */
static const char *const field_names[F_COUNT] = {
	[F_NETWORK] = "Network",
	[F_IPV6_NETWORK] = "IPv6Network",
	[F_NETWORKS] = "Networks",
	[F_IPV6_NETWORKS] = "IPv6Networks",
	[F_ENABLE_IPV4] = "EnableIPv4",
	[F_ENABLE_IPV6] = "EnableIPv6",
	[F_ENABLE_NFTABLES] = "EnableNFTables",
	[F_SUBNET_LEN] = "SubnetLen",
	[F_SUBNET_MIN] = "SubnetMin",
	[F_SUBNET_MAX] = "SubnetMax",
	[F_IPV6_SUBNET_LEN] = "IPv6SubnetLen",
	[F_IPV6_SUBNET_MIN] = "IPv6SubnetMin",
	[F_IPV6_SUBNET_MAX] = "IPv6SubnetMax",
	[F_BACKEND] = "Backend",
};

/* ---- raw scanner; only ever run on text jansson accepted ---- */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && is_ws(*p))
		p++;
	return p;
}

/* p is at an opening quote; returns the byte after the closing one. */
static const char *skip_string(const char *p, const char *end)
{
	p++;
	while (p < end && *p != '"')
		p += (*p == '\\' && end - p > 1) ? 2 : 1;
	return p < end ? p + 1 : end;
}

/* Iterative, so nesting depth costs no stack. */
static const char *skip_value(const char *p, const char *end)
{
	size_t depth = 0;

	if (p < end && *p == '"')
		return skip_string(p, end);
	if (p < end && *p != '{' && *p != '[') {
		while (p < end && !is_ws(*p) && *p != ',' && *p != '}' && *p != ']')
			p++;
		return p;
	}
	while (p < end) {
		char c = *p;

		if (c == '"') {
			p = skip_string(p, end);
			continue;
		}
		p++;
		if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth == 0)
			break;
	}
	return p;
}

/* Iterates the members of an object or the elements of an array. */
struct iter {
	const char *p, *end;
};

static void iter_init(struct iter *it, struct span container)
{
	it->p = container.p + 1; /* past '{' or '[' */
	it->end = container.p + container.n;
}

static struct span next_value(struct iter *it)
{
	struct span v;

	v.p = skip_ws(it->p, it->end);
	it->p = skip_value(v.p, it->end);
	v.n = (size_t)(it->p - v.p);
	return v;
}

/* Returns false after the last element; *key is left alone for arrays. */
static bool iter_next(struct iter *it, struct span *key, struct span *val)
{
	const char *p = skip_ws(it->p, it->end);

	if (p < it->end && *p == ',')
		p = skip_ws(p + 1, it->end);
	if (p >= it->end || *p == '}' || *p == ']')
		return false;
	if (key) {
		key->p = p;
		p = skip_string(p, it->end);
		key->n = (size_t)(p - key->p);
		p = skip_ws(p, it->end);
		if (p < it->end) /* the ':' */
			p++;
	}
	it->p = p;
	*val = next_value(it);
	return val->n > 0;
}

/* ---- value decoding ---- */

/* The JSON string at s (quotes included) decoded, or NULL. Strings without
 * escapes are copied; the rest go through jansson. */
static char *decode_string(struct span s, size_t *ret_len)
{
	json_t *j;
	char *out;

	if (!memchr(s.p, '\\', s.n)) {
		*ret_len = s.n - 2;
		return xstrndup(s.p + 1, s.n - 2);
	}
	j = json_loadb(s.p, s.n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!j || !json_is_string(j)) {
		json_decref(j);
		return NULL;
	}
	*ret_len = json_string_length(j);
	out = xmalloc(*ret_len + 1);
	memcpy(out, json_string_value(j), *ret_len);
	out[*ret_len] = '\0';
	json_decref(j);
	return out;
}

static int ascii_upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* Go's foldName: ASCII is upper-cased and other runes become
 * ToUpper(ToLower(r)); the only non-ASCII runes that land on an ASCII letter
 * are U+0130 and U+0131 (I), U+017F (S) and the Kelvin sign U+212A (K). */
static int fold_rune(const unsigned char *s, size_t n, size_t *used)
{
	if (s[0] < 0x80) {
		*used = 1;
		return ascii_upper(s[0]);
	}
	if (n >= 2 && s[0] == 0xc4 && (s[1] == 0xb0 || s[1] == 0xb1)) {
		*used = 2;
		return 'I';
	}
	if (n >= 2 && s[0] == 0xc5 && s[1] == 0xbf) {
		*used = 2;
		return 'S';
	}
	if (n >= 3 && s[0] == 0xe2 && s[1] == 0x84 && s[2] == 0xaa) {
		*used = 3;
		return 'K';
	}
	*used = 1;
	return -1;
}

static bool key_is(const char *key, size_t n, const char *field)
{
	const unsigned char *s = (const unsigned char *)key;
	size_t i = 0, used;

	for (; *field; field++) {
		if (i >= n || fold_rune(s + i, n - i, &used) != ascii_upper(*field))
			return false;
		i += used;
	}
	return i == n;
}

/* Index of the first of names[0..count) the key folds to, or -1. */
static int lookup_key(struct span key, const char *const *names, int count)
{
	int found = -1;
	size_t n;
	char *k;

	/* No name survives more than 6 bytes of escape per letter. */
	if (key.n > 6 * 16 + 2)
		return -1;
	k = decode_string(key, &n);
	if (!k)
		return -1;
	for (int i = 0; i < count; i++) {
		if (names[i] && key_is(k, n, names[i])) {
			found = i;
			break;
		}
	}
	free(k);
	return found;
}

static const char *kind(struct span v)
{
	return json_go_type_name(v.p[0]);
}

/* A short printable rendering of untrusted text for an error message. */
static const char *excerpt(struct span s, char *buf, size_t size)
{
	size_t n = s.n < size - 1 ? s.n : size - 4, i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.p[i];

		buf[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	if (n < s.n)
		memcpy(buf + i, "...", 4);
	else
		buf[i] = '\0';
	return buf;
}

/* flannel's IP types do bytes.Trim(raw, "\"") and parse what is left. */
static struct span trim_quotes(struct span s)
{
	while (s.n && s.p[0] == '"') {
		s.p++;
		s.n--;
	}
	while (s.n && s.p[s.n - 1] == '"')
		s.n--;
	return s;
}

static bool span_cstr(struct span s, char *buf, size_t size)
{
	if (s.n >= size || memchr(s.p, '\0', s.n))
		return false;
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	return true;
}

static int parse_bool(struct span v, const char *name, bool *ret, struct err *err)
{
	if (v.p[0] == 't')
		*ret = true;
	else if (v.p[0] == 'f')
		*ret = false;
	else if (v.p[0] != 'n') /* null leaves a Go bool alone */
		return err_set(err, -EINVAL, "%s: expected a boolean, got %s", name, kind(v));
	return 0;
}

/* Go's strconv.ParseUint on the literal: digits only, no sign, fraction or
 * exponent, at most 2^64-1. */
static int parse_uint(struct span v, const char *name, unsigned *ret, struct err *err)
{
	char ex[40];
	uint64_t n = 0;

	if (v.p[0] == 'n')
		return 0;
	if (v.p[0] < '0' || v.p[0] > '9')
		goto bad;
	for (size_t i = 0; i < v.n; i++) {
		unsigned d = (unsigned)(v.p[i] - '0');

		if (d > 9 || n > (UINT64_MAX - d) / 10)
			goto bad;
		n = n * 10 + d;
	}
	/* Anything this large fails CheckNetworkConfig's "> 30" test anyway. */
	*ret = n > UINT_MAX ? UINT_MAX : (unsigned)n;
	return 0;
bad:
	if (v.p[0] == '"' || v.p[0] == '{' || v.p[0] == '[' || v.p[0] == 't' || v.p[0] == 'f')
		return err_set(err, -EINVAL, "%s: expected an unsigned integer, got %s", name,
			       kind(v));
	return err_set(err, -EINVAL, "%s: expected an unsigned integer, got number %s", name,
		       excerpt(v, ex, sizeof(ex)));
}

/* family 0 accepts either (flannel's IP6Net takes IPv4 CIDRs too). */
static int parse_net(struct span v, int family, const char *name, struct ip_prefix *ret,
		     struct err *err)
{
	struct span t = trim_quotes(v);
	char buf[64], ex[64];
	struct ip_prefix p;

	if (!span_cstr(t, buf, sizeof(buf)) || ip_prefix_parse(buf, &p) < 0)
		return err_set(err, -EINVAL, "%s: invalid CIDR address: %s", name,
			       excerpt(t, ex, sizeof(ex)));
	if (family && p.addr.family != family)
		return err_set(err, -EINVAL, "%s: %s is not an %s network", name, buf,
			       family == AF_INET ? "IPv4" : "IPv6");
	*ret = p;
	return 0;
}

static int parse_net_list(struct span v, int family, const char *name, struct err *err)
{
	struct ip_prefix p;
	struct span e;
	struct iter it;
	int r;

	if (v.p[0] == 'n')
		return 0;
	if (v.p[0] != '[')
		return err_set(err, -EINVAL, "%s: expected an array, got %s", name, kind(v));
	iter_init(&it, v);
	while (iter_next(&it, NULL, &e)) {
		r = parse_net(e, family, name, &p, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool is_v4_mapped(const struct ip_addr *a)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return a->family == AF_INET6 && memcmp(a->b, prefix, sizeof(prefix)) == 0;
}

static int parse_addr(struct span v, const char *name, struct ip_addr *ret, struct err *err)
{
	struct span t = trim_quotes(v);
	char buf[64], ex[64];

	if (!span_cstr(t, buf, sizeof(buf)) || ip_addr_parse(buf, ret) < 0)
		return err_set(err, -EINVAL, "%s: invalid IP address: %s", name,
			       excerpt(t, ex, sizeof(ex)));
	return 0;
}

/* flannel's ip.IP4: net.ParseIP then To4, so IPv4-mapped IPv6 is accepted. */
static int parse_ip4(struct span v, const char *name, struct ip_addr *ret, struct err *err)
{
	struct ip_addr a;
	char buf[IP_ADDR_STRLEN];
	int r;

	r = parse_addr(v, name, &a, err);
	if (r < 0)
		return r;
	if (is_v4_mapped(&a)) {
		memmove(a.b, a.b + 12, 4);
		memset(a.b + 4, 0, 12);
		a.family = AF_INET;
	}
	if (a.family != AF_INET)
		return err_set(err, -EINVAL, "%s: %s is not an IPv4 address", name,
			       ip_addr_format(&a, buf));
	*ret = a;
	return 0;
}

/* flannel's *ip.IP6: null means absent; IPv4 becomes IPv4-mapped (To16). */
static int parse_ip6(struct span v, const char *name, struct ip_addr *ret, struct err *err)
{
	struct ip_addr a;
	int r;

	if (v.p[0] == 'n') {
		memset(ret, 0, sizeof(*ret));
		return 0;
	}
	r = parse_addr(v, name, &a, err);
	if (r < 0)
		return r;
	if (a.family == AF_INET) {
		memmove(a.b + 12, a.b, 4);
		memset(a.b, 0, 10);
		a.b[10] = a.b[11] = 0xff;
		a.family = AF_INET6;
	}
	*ret = a;
	return 0;
}

/* Whitespace outside strings dropped; key order, duplicates and escapes kept,
 * so the backend decodes exactly what flannel's would. */
static char *compact(struct span v)
{
	const char *p = v.p, *end = v.p + v.n, *q;
	char *out = xmalloc(v.n + 1), *o = out;

	while (p < end) {
		if (*p == '"') {
			q = skip_string(p, end);
			memcpy(o, p, (size_t)(q - p));
			o += q - p;
			p = q;
		} else if (is_ws(*p)) {
			p++;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

/* Lower-cased as Go's strings.ToLower does for anything that could name a
 * backend (U+0130 and U+212A lower to ASCII). A NUL is spelt out, so that
 * "vxlan\u0000" cannot pass for "vxlan". */
static char *backend_type_lower(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = xmalloc(6 * n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (u[i] >= 'A' && u[i] <= 'Z') {
			*o++ = (char)(u[i] - 'A' + 'a');
		} else if (u[i] == 0) {
			memcpy(o, "\\u0000", 6);
			o += 6;
		} else if (n - i >= 2 && u[i] == 0xc4 && u[i + 1] == 0xb0) {
			*o++ = 'i';
			i++;
		} else if (n - i >= 3 && u[i] == 0xe2 && u[i + 1] == 0x84 && u[i + 2] == 0xaa) {
			*o++ = 'k';
			i += 2;
		} else {
			*o++ = (char)u[i];
		}
	}
	*o = '\0';
	return out;
}

/* flannel's parseBackendType: decode {Type string} from the raw value. A null
 * Backend decodes to an empty type, as in Go. */
static int parse_backend(struct span v, struct netconf *nc, struct err *err)
{
	static const char *const type_key[] = {"Type"};
	char *type = NULL;
	struct span key, val;
	struct iter it;
	size_t len = 0;
	int r = 0;

	nc->backend_json = compact(v);
	if (v.p[0] != '{' && v.p[0] != 'n') {
		r = err_set(err, -EINVAL,
			    "error decoding Backend property of config: expected an object, got %s",
			    kind(v));
		goto out;
	}
	if (v.p[0] == '{') {
		iter_init(&it, v);
		while (iter_next(&it, &key, &val)) {
			if (lookup_key(key, type_key, 1) < 0 || val.p[0] == 'n')
				continue;
			if (val.p[0] != '"') {
				r = err_set(err, -EINVAL,
					    "error decoding Backend property of config: "
					    "Type: expected a string, got %s",
					    kind(val));
				goto out;
			}
			free(type);
			type = decode_string(val, &len);
			if (!type) {
				r = err_set(err, -EINVAL,
					    "error decoding Backend property of "
					    "config: bad Type string");
				goto out;
			}
		}
	}
	nc->backend_type = backend_type_lower(type ? type : "", type ? len : 0);
out:
	free(type);
	return r;
}

static int parse_field(enum field f, struct span v, struct netconf *nc, struct err *err)
{
	const char *name = field_names[f];

	switch (f) {
	case F_NETWORK:
		return parse_net(v, AF_INET, name, &nc->network, err);
	case F_IPV6_NETWORK:
		return parse_net(v, AF_INET6, name, &nc->ipv6_network, err);
	case F_NETWORKS:
		return parse_net_list(v, AF_INET, name, err);
	case F_IPV6_NETWORKS:
		return parse_net_list(v, 0, name, err);
	case F_ENABLE_IPV4:
		return parse_bool(v, name, &nc->enable_ipv4, err);
	case F_ENABLE_IPV6:
		return parse_bool(v, name, &nc->enable_ipv6, err);
	case F_ENABLE_NFTABLES:
		return parse_bool(v, name, &nc->enable_nftables, err);
	case F_SUBNET_LEN:
		return parse_uint(v, name, &nc->subnet_len, err);
	case F_IPV6_SUBNET_LEN:
		return parse_uint(v, name, &nc->ipv6_subnet_len, err);
	case F_SUBNET_MIN:
		return parse_ip4(v, name, &nc->subnet_min, err);
	case F_SUBNET_MAX:
		return parse_ip4(v, name, &nc->subnet_max, err);
	case F_IPV6_SUBNET_MIN:
		return parse_ip6(v, name, &nc->ipv6_subnet_min, err);
	case F_IPV6_SUBNET_MAX:
		return parse_ip6(v, name, &nc->ipv6_subnet_max, err);
	default:
		return 0;
	}
}

int netconf_parse(const char *json, size_t len, struct netconf *ret, struct err *err)
{
	struct netconf nc = {.enable_ipv4 = true}; /* set before decoding, as flannel does */
	struct span doc, key, val, backend = {NULL, 0};
	const char *nul;
	json_error_t jerr;
	struct iter it;
	json_t *root;
	json_type type;
	int f, r = 0;

	memset(ret, 0, sizeof(*ret));
	if (len > NETCONF_MAX_SIZE)
		return err_set(err, -E2BIG, "config is larger than 1 MiB (%zu bytes)", len);
	if (!json) {
		json = "";
		len = 0;
	}
	/* jansson 2.14 skips a raw NUL after a number ("[1\0,2]" loads); JSON
	 * never has one, Go refuses it, and the scanner below must not see it. */
	nul = memchr(json, '\0', len);
	if (nul)
		return err_set(err, -EINVAL, "invalid JSON: NUL byte at offset %zu",
			       (size_t)(nul - json));
	root = json_loadb(json, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!root)
		return err_set(err, -EINVAL, "invalid JSON at line %d, column %d: %s", jerr.line,
			       jerr.column, jerr.text);
	type = json_typeof(root);
	json_decref(root);
	doc.p = skip_ws(json, json + len);
	doc.n = (size_t)(json + len - doc.p);
	/* Go decodes a top-level null into the struct as a no-op. */
	if (type != JSON_OBJECT && type != JSON_NULL)
		return err_set(err, -EINVAL, "config must be a JSON object, got %s", kind(doc));
	if (type == JSON_OBJECT) {
		iter_init(&it, doc);
		while (iter_next(&it, &key, &val)) {
			f = lookup_key(key, field_names, F_COUNT);
			if (f == F_BACKEND)
				backend = val; /* a RawMessage: the last one wins */
			else if (f > 0)
				r = parse_field((enum field)f, val, &nc, err);
			if (r < 0)
				goto out;
		}
	}
	if (backend.p) {
		r = parse_backend(backend, &nc, err);
	} else {
		nc.backend_type = xstrdup("udp");
		nc.backend_defaulted = true;
	}
out:
	if (r < 0)
		netconf_free(&nc);
	else
		*ret = nc;
	return r;
}

struct family_rules {
	int family;
	const char *net_name, *min_name, *max_name;
	unsigned max_len;     /* SubnetLen must be less than /(max_len + 1) */
	unsigned max_prefix;  /* smallest network that still has four subnets */
	unsigned default_len; /* per-node length for big enough networks */
	const char *too_long, *too_few, *too_small;
};

static const struct family_rules rules_v4 = {
	.family = AF_INET,
	.net_name = "Network",
	.min_name = "SubnetMin",
	.max_name = "SubnetMax",
	.max_len = 30,
	.max_prefix = 28,
	.default_len = 24,
	.too_long = "SubnetLen must be less than /31",
	.too_few = "SubnetLen: network must be able to accommodate at least four subnets",
	.too_small = "Network: network is too small. Minimum useful network prefix is /28",
};

static const struct family_rules rules_v6 = {
	.family = AF_INET6,
	.net_name = "IPv6Network",
	.min_name = "IPv6SubnetMin",
	.max_name = "IPv6SubnetMax",
	.max_len = 126,
	.max_prefix = 124,
	.default_len = 64,
	.too_long = "IPv6SubnetLen: SubnetLen must be less than /127",
	.too_few = "IPv6SubnetLen: network must be able to accommodate at least four subnets",
	.too_small = "IPv6Network is too small. Minimum useful network prefix is /124",
};

/* CheckNetworkConfig for one family, messages as upstream's. */
static int check_family(const struct family_rules *rl, const struct ip_prefix *net, unsigned *len,
			struct ip_addr *min, struct ip_addr *max, struct err *err)
{
	unsigned width = ip_family_bits(rl->family);
	char buf[IP_ADDR_STRLEN];
	struct ip_prefix last_subnet;
	struct ip_addr last;

	/* An absent network, or the zero address with length 0, is "empty". */
	if (net->addr.family != rl->family || (net->len == 0 && ip_addr_is_unset(&net->addr)))
		return err_set(err, -EINVAL,
			       "please define a correct %s parameter in the flannel config",
			       rl->net_name);
	if (*len > 0) {
		if (*len > rl->max_len)
			return err_set(err, -EINVAL, "%s", rl->too_long);
		/* the first subnet is never handed out, so two would leave one */
		if (*len < net->len + 2U)
			return err_set(err, -EINVAL, "%s", rl->too_few);
	} else {
		if (net->len > rl->max_prefix)
			return err_set(err, -EINVAL, "%s", rl->too_small);
		*len = net->len <= rl->default_len - 2 ? rl->default_len : net->len + 2U;
	}

	/* The default minimum skips the subnet holding the network address. */
	if (ip_addr_is_unset(min)) {
		if (ip_addr_add_pow2(&net->addr, width - *len, min) < 0)
			return err_set(err, -ERANGE, "%s out of range", rl->min_name);
	} else if (!ip_prefix_contains(net, min)) {
		return err_set(err, -EINVAL, "%s is not in the range of the %s", rl->min_name,
			       rl->net_name);
	}
	if (ip_addr_is_unset(max)) {
		ip_prefix_last(net, &last);
		if (ip_prefix_make(&last, *len, &last_subnet) < 0)
			return err_set(err, -ERANGE, "%s out of range", rl->max_name);
		*max = last_subnet.addr;
	} else if (!ip_prefix_contains(net, max)) {
		return err_set(err, -EINVAL, "%s is not in the range of the %s", rl->max_name,
			       rl->net_name);
	}

	if (!ip_addr_is_aligned(min, *len))
		return err_set(err, -EINVAL, "%s is not on a SubnetLen boundary: %s", rl->min_name,
			       ip_addr_format(min, buf));
	if (!ip_addr_is_aligned(max, *len))
		return err_set(err, -EINVAL, "%s is not on a SubnetLen boundary: %s", rl->max_name,
			       ip_addr_format(max, buf));
	return 0;
}

int netconf_check(struct netconf *nc, struct err *err)
{
	int r;

	/* flanneld's GetIPFamily refuses this right after reading the config. */
	if (!nc->enable_ipv4 && !nc->enable_ipv6)
		return err_set(err, -EINVAL,
			       "none defined stack: EnableIPv4 and EnableIPv6 are both false");
	if (nc->enable_ipv4) {
		r = check_family(&rules_v4, &nc->network, &nc->subnet_len, &nc->subnet_min,
				 &nc->subnet_max, err);
		if (r < 0)
			return r;
	}
	if (nc->enable_ipv6) {
		r = check_family(&rules_v6, &nc->ipv6_network, &nc->ipv6_subnet_len,
				 &nc->ipv6_subnet_min, &nc->ipv6_subnet_max, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int netconf_load(const char *json, size_t len, struct netconf *ret, struct err *err)
{
	int r;

	r = netconf_parse(json, len, ret, err);
	if (r < 0)
		return r;
	r = netconf_check(ret, err);
	if (r < 0)
		netconf_free(ret);
	return r;
}

void netconf_free(struct netconf *nc)
{
	if (!nc)
		return;
	free(nc->backend_type);
	free(nc->backend_json);
	memset(nc, 0, sizeof(*nc));
}
