// SPDX-License-Identifier: Apache-2.0
/*
 * The cross-platform userspace protocol (wireguard.com/xplatform): "key=value"
 * lines, device keys first, each "public_key" starting a peer, an empty line
 * ending the request. Every byte comes from whoever can open the socket, so
 * lines are bounded, numbers range-checked and keys exactly 64 hex digits;
 * an error names the line and key, never a value (it may be key material).
 *
 * What `wg` (wireguard-tools) sends and reads, as captured from it, is in
 * tests/unit/test_wg_uapi.c.
 */
#include "wg/uapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/hex.h"

/* The longest valid line is an IPv6 endpoint with a scope id (about 70
 * bytes); anything much longer is not a line of this protocol. */
#define UAPI_LINE_MAX 256
#define UAPI_KEY_MAX 32 /* longest key: persistent_keepalive_interval (29) */

/* One line split into key and value (not NUL-terminated in the input: the
 * copies here are). */
struct uapi_line {
	size_t no; /* 1-based */
	char key[UAPI_KEY_MAX + 1];
	char value[UAPI_LINE_MAX + 1];
};

/* Whether a key may be named in an error: only when it looks like one
 * (lowercase letters and '_'); anything else may be a key's hex that lost
 * its line. */
static bool nameable(const char *key)
{
	return strspn(key, "abcdefghijklmnopqrstuvwxyz_") == strlen(key);
}

/*
 * The next line of text[*off..len): 1 with l filled, 0 for the empty line
 * (the end of a request), or -EINVAL.
 */
static int next_line(const char *text, size_t len, size_t *off, struct uapi_line *l,
		     struct err *err)
{
	const char *s = text + *off, *nl, *eq;
	size_t n, klen;

	l->no++;
	nl = memchr(s, '\n', len - *off);
	if (!nl)
		return err_set(err, -EINVAL,
			       "line %zu: not terminated (no empty line ends the request)", l->no);
	n = (size_t)(nl - s);
	*off += n + 1;
	if (n == 0)
		return 0;
	if (n > UAPI_LINE_MAX)
		return err_set(err, -EINVAL, "line %zu: longer than %d bytes", l->no,
			       UAPI_LINE_MAX);
	if (memchr(s, '\0', n))
		return err_set(err, -EINVAL, "line %zu: NUL byte", l->no);
	eq = memchr(s, '=', n);
	/* Not shown: a key line that lost its '=' is still key material. */
	if (!eq)
		return err_set(err, -EINVAL, "line %zu: no '='", l->no);
	klen = (size_t)(eq - s);
	if (klen == 0)
		return err_set(err, -EINVAL, "line %zu: empty key", l->no);
	if (klen > UAPI_KEY_MAX)
		return err_set(err, -EINVAL, "line %zu: unknown key (%zu bytes, not shown)", l->no,
			       klen);
	memcpy(l->key, s, klen);
	l->key[klen] = '\0';
	memcpy(l->value, eq + 1, n - klen - 1);
	l->value[n - klen - 1] = '\0';
	return 1;
}

/* A decimal number of at most max: digits only, no sign, no space. */
static int parse_num(const struct uapi_line *l, uint64_t max, uint64_t *ret, struct err *err)
{
	const char *v = l->value;
	uint64_t n = 0;

	if (!*v)
		return err_set(err, -EINVAL, "line %zu: %s: empty value", l->no, l->key);
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return err_set(err, -EINVAL, "line %zu: %s: not a decimal number", l->no,
				       l->key);
		if (n > (max - (uint64_t)(*v - '0')) / 10)
			return err_set(err, -EINVAL, "line %zu: %s: out of range 0..%" PRIu64,
				       l->no, l->key, max);
		n = n * 10 + (uint64_t)(*v - '0');
	}
	*ret = n;
	return 0;
}

/* 64 hex digits (either case). The value never goes into err. */
static int parse_key(const struct uapi_line *l, uint8_t key[WG_KEY_LEN], struct err *err)
{
	uint8_t k[WG_KEY_LEN];
	int hi, lo;

	if (strlen(l->value) != 2 * WG_KEY_LEN)
		return err_set(err, -EINVAL, "line %zu: %s: not %d hex digits", l->no, l->key,
			       2 * WG_KEY_LEN);
	for (size_t i = 0; i < WG_KEY_LEN; i++) {
		hi = hex_digit((unsigned char)l->value[2 * i]);
		lo = hex_digit((unsigned char)l->value[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			explicit_bzero(k, sizeof(k));
			return err_set(err, -EINVAL, "line %zu: %s: not %d hex digits", l->no,
				       l->key, 2 * WG_KEY_LEN);
		}
		k[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(key, k, WG_KEY_LEN);
	explicit_bzero(k, sizeof(k));
	return 0;
}

static int parse_true(const struct uapi_line *l, struct err *err)
{
	if (strcmp(l->value, "true") != 0)
		return err_set(err, -EINVAL, "line %zu: %s: only \"true\" is valid", l->no, l->key);
	return 0;
}

/* "a.b.c.d:port", "[v6]:port" or "[v6%scope]:port" (numeric scope id). */
static int parse_endpoint(const struct uapi_line *l, union wg_endpoint *ret, struct err *err)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *v = l->value, *close, *port, *pct;
	union wg_endpoint e;
	struct uapi_line pl;
	uint64_t num, scope = 0;
	size_t hlen;
	int rc;

	memset(&e, 0, sizeof(e));
	if (v[0] == '[') {
		close = strchr(v, ']');
		if (!close || close[1] != ':')
			return err_set(err, -EINVAL, "line %zu: endpoint: not [address]:port",
				       l->no);
		hlen = (size_t)(close - v - 1);
		port = close + 2;
		pct = memchr(v + 1, '%', hlen);
		if (pct) {
			pl.no = l->no;
			snprintf(pl.key, sizeof(pl.key), "endpoint scope id");
			snprintf(pl.value, sizeof(pl.value), "%.*s", (int)(close - pct - 1),
				 pct + 1);
			rc = parse_num(&pl, UINT32_MAX, &scope, err);
			if (rc < 0)
				return rc;
			hlen = (size_t)(pct - v - 1);
		}
		if (hlen == 0 || hlen >= sizeof(host))
			return err_set(err, -EINVAL, "line %zu: endpoint: bad IPv6 address", l->no);
		memcpy(host, v + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &e.in6.sin6_addr) != 1)
			return err_set(err, -EINVAL, "line %zu: endpoint: bad IPv6 address", l->no);
		e.in6.sin6_family = AF_INET6;
		e.in6.sin6_scope_id = (uint32_t)scope;
	} else {
		port = strrchr(v, ':');
		if (!port)
			return err_set(err, -EINVAL, "line %zu: endpoint: not address:port", l->no);
		hlen = (size_t)(port - v);
		port++;
		if (hlen == 0 || hlen >= sizeof(host))
			return err_set(err, -EINVAL, "line %zu: endpoint: bad IPv4 address", l->no);
		memcpy(host, v, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, &e.in4.sin_addr) != 1)
			return err_set(err, -EINVAL, "line %zu: endpoint: bad IPv4 address", l->no);
		e.in4.sin_family = AF_INET;
	}
	pl.no = l->no;
	snprintf(pl.key, sizeof(pl.key), "endpoint port");
	snprintf(pl.value, sizeof(pl.value), "%s", port);
	rc = parse_num(&pl, 65535, &num, err);
	if (rc < 0)
		return rc;
	if (num == 0)
		return err_set(err, -EINVAL, "line %zu: endpoint: port 0", l->no);
	if (e.sa.sa_family == AF_INET)
		e.in4.sin_port = htons((uint16_t)num);
	else
		e.in6.sin6_port = htons((uint16_t)num);
	*ret = e;
	return 0;
}

/* "address/cidr", host bits cleared (the network form the kernel keeps). */
static int parse_allowed(const struct uapi_line *l, struct wg_allowed_ip *ret, struct err *err)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(l->value, '/');
	struct wg_allowed_ip a;
	struct uapi_line pl;
	unsigned bits;
	uint64_t cidr;
	size_t hlen;
	uint8_t *b;
	int rc;

	memset(&a, 0, sizeof(a));
	if (!slash)
		return err_set(err, -EINVAL, "line %zu: allowed_ip: not address/cidr", l->no);
	hlen = (size_t)(slash - l->value);
	if (hlen == 0 || hlen >= sizeof(host))
		return err_set(err, -EINVAL, "line %zu: allowed_ip: bad address", l->no);
	memcpy(host, l->value, hlen);
	host[hlen] = '\0';
	if (strchr(host, ':')) {
		if (inet_pton(AF_INET6, host, &a.addr.v6) != 1)
			return err_set(err, -EINVAL, "line %zu: allowed_ip: bad IPv6 address",
				       l->no);
		a.family = AF_INET6;
		bits = 128;
		b = a.addr.v6.s6_addr;
	} else {
		if (inet_pton(AF_INET, host, &a.addr.v4) != 1)
			return err_set(err, -EINVAL, "line %zu: allowed_ip: bad IPv4 address",
				       l->no);
		a.family = AF_INET;
		bits = 32;
		b = (uint8_t *)&a.addr.v4.s_addr;
	}
	pl.no = l->no;
	snprintf(pl.key, sizeof(pl.key), "allowed_ip cidr");
	snprintf(pl.value, sizeof(pl.value), "%s", slash + 1);
	rc = parse_num(&pl, bits, &cidr, err);
	if (rc < 0)
		return rc;
	a.cidr = (uint8_t)cidr;
	for (unsigned bit = a.cidr; bit < bits; bit++)
		b[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	*ret = a;
	return 0;
}

static int parse_protocol_version(const struct uapi_line *l, struct err *err)
{
	if (strcmp(l->value, "1") != 0)
		return err_set(err, -EPROTO, "line %zu: protocol_version: only 1 is supported",
			       l->no);
	return 0;
}

static int unknown_key(const struct uapi_line *l, const char *where, struct err *err)
{
	if (!nameable(l->key))
		return err_set(err, -EINVAL, "line %zu: unknown key (%zu bytes, not shown)%s",
			       l->no, strlen(l->key), where);
	return err_set(err, -EINVAL, "line %zu: unknown key \"%s\"%s", l->no, l->key, where);
}

/* One line of a set request. */
static int set_line(const struct uapi_line *l, struct wg_device_config *c,
		    struct wg_peer_config **peer, struct err *err)
{
	struct wg_peer_config *p = *peer;
	struct wg_allowed_ip a;
	uint64_t num;
	int rc;

	if (!strcmp(l->key, "public_key")) {
		uint8_t pub[WG_KEY_LEN];

		rc = parse_key(l, pub, err);
		if (rc < 0)
			return rc;
		p = wg_device_config_add_peer(c);
		memcpy(p->pub, pub, WG_KEY_LEN);
		*peer = p;
		return 0;
	}
	if (!p) {
		if (!strcmp(l->key, "private_key")) {
			rc = parse_key(l, c->priv, err);
			if (rc == 0)
				c->flags |= WG_DEV_HAS_PRIVATE;
			return rc;
		}
		if (!strcmp(l->key, "listen_port")) {
			rc = parse_num(l, 65535, &num, err);
			if (rc == 0) {
				c->port = (uint16_t)num;
				c->flags |= WG_DEV_HAS_PORT;
			}
			return rc;
		}
		if (!strcmp(l->key, "fwmark")) {
			rc = parse_num(l, UINT32_MAX, &num, err);
			if (rc == 0) {
				c->fwmark = (uint32_t)num;
				c->flags |= WG_DEV_HAS_FWMARK;
			}
			return rc;
		}
		if (!strcmp(l->key, "replace_peers")) {
			rc = parse_true(l, err);
			if (rc == 0)
				c->flags |= WG_DEV_REPLACE_PEERS;
			return rc;
		}
		return unknown_key(l, " (before any public_key)", err);
	}
	if (!strcmp(l->key, "remove")) {
		rc = parse_true(l, err);
		if (rc == 0)
			p->flags |= WG_PEER_REMOVE;
		return rc;
	}
	if (!strcmp(l->key, "update_only")) {
		rc = parse_true(l, err);
		if (rc == 0)
			p->flags |= WG_PEER_UPDATE_ONLY;
		return rc;
	}
	if (!strcmp(l->key, "preshared_key")) {
		rc = parse_key(l, p->psk, err);
		if (rc == 0)
			p->flags |= WG_PEER_HAS_PSK;
		return rc;
	}
	if (!strcmp(l->key, "endpoint"))
		return parse_endpoint(l, &p->endpoint, err);
	if (!strcmp(l->key, "persistent_keepalive_interval")) {
		rc = parse_num(l, 65535, &num, err);
		if (rc == 0) {
			p->keepalive_s = (uint16_t)num;
			p->flags |= WG_PEER_HAS_KEEPALIVE;
		}
		return rc;
	}
	if (!strcmp(l->key, "replace_allowed_ips")) {
		rc = parse_true(l, err);
		if (rc == 0)
			p->flags |= WG_PEER_REPLACE_ALLOWED_IPS;
		return rc;
	}
	if (!strcmp(l->key, "allowed_ip")) {
		rc = parse_allowed(l, &a, err);
		if (rc == 0)
			wg_peer_config_add_allowed(p, &a);
		return rc;
	}
	if (!strcmp(l->key, "protocol_version"))
		return parse_protocol_version(l, err);
	return unknown_key(l, " (in a peer)", err);
}

int wg_uapi_parse(const char *text, size_t len, enum wg_uapi_op *op, struct wg_device_config *ret,
		  struct err *err)
{
	struct wg_device_config c = {0};
	struct wg_peer_config *peer = NULL;
	struct uapi_line l = {0};
	enum wg_uapi_op o;
	size_t off = 0;
	int rc;

	memset(ret, 0, sizeof(*ret));
	if (len > WG_UAPI_MAX_REQUEST) {
		rc = err_set(err, -EMSGSIZE, "request longer than %d bytes", WG_UAPI_MAX_REQUEST);
		goto out;
	}
	rc = next_line(text, len, &off, &l, err);
	if (rc < 0)
		goto out;
	if (rc == 0) {
		rc = err_set(err, -EINVAL, "line 1: empty (no operation)");
		goto out;
	}
	if (!strcmp(l.key, "get")) {
		o = WG_UAPI_GET;
	} else if (!strcmp(l.key, "set")) {
		o = WG_UAPI_SET;
	} else {
		if (nameable(l.key))
			rc = err_set(err, -EPROTO, "line 1: unknown operation \"%s\"", l.key);
		else
			rc = err_set(err, -EPROTO, "line 1: unknown operation (not shown)");
		goto out;
	}
	if (strcmp(l.value, "1") != 0) {
		rc = err_set(err, -EPROTO, "line 1: %s: only version 1 is supported", l.key);
		goto out;
	}
	for (;;) {
		rc = next_line(text, len, &off, &l, err);
		if (rc < 0)
			goto out;
		if (rc == 0)
			break;
		if (o == WG_UAPI_GET) {
			rc = err_set(err, -EINVAL, "line %zu: get takes no keys", l.no);
			goto out;
		}
		rc = set_line(&l, &c, &peer, err);
		if (rc < 0)
			goto out;
	}
	if (off != len) {
		rc = err_set(err, -EINVAL, "%zu bytes after the empty line that ends the request",
			     len - off);
		goto out;
	}
	*op = o;
	*ret = c;
	memset(&c, 0, sizeof(c));
	rc = 0;
out:
	explicit_bzero(&l, sizeof(l));
	wg_device_config_clear(&c);
	return rc;
}

/* One line of a get's reply (what wg's userspace_get_device accepts). */
static int get_line(const struct uapi_line *l, struct wg_device_config *c,
		    struct wg_peer_config **peer, struct err *err)
{
	struct wg_peer_config *p = *peer;
	uint64_t num;
	int rc;

	if (!strcmp(l->key, "public_key") ||
	    (!p && (!strcmp(l->key, "private_key") || !strcmp(l->key, "listen_port") ||
		    !strcmp(l->key, "fwmark"))))
		return set_line(l, c, peer, err);
	if (!strcmp(l->key, "private_key") || !strcmp(l->key, "listen_port") ||
	    !strcmp(l->key, "fwmark"))
		return err_set(err, -EINVAL, "line %zu: device key %s after a peer", l->no, l->key);
	if (!p) {
		/* wg ignores what it does not know: so do we, outside peers
		 * too, but a peer's key without a peer is a broken reply. */
		if (!strcmp(l->key, "preshared_key") || !strcmp(l->key, "endpoint") ||
		    !strcmp(l->key, "allowed_ip") || !strcmp(l->key, "protocol_version") ||
		    !strcmp(l->key, "persistent_keepalive_interval") ||
		    !strncmp(l->key, "last_handshake_time_", 20) || !strcmp(l->key, "rx_bytes") ||
		    !strcmp(l->key, "tx_bytes"))
			return err_set(err, -EINVAL, "line %zu: %s before any public_key", l->no,
				       l->key);
		return 0;
	}
	if (!strcmp(l->key, "last_handshake_time_sec")) {
		rc = parse_num(l, INT64_MAX, &num, err);
		if (rc == 0)
			p->last_handshake_sec = (int64_t)num;
		return rc;
	}
	if (!strcmp(l->key, "last_handshake_time_nsec")) {
		rc = parse_num(l, 999999999, &num, err);
		if (rc == 0)
			p->last_handshake_nsec = (long)num;
		return rc;
	}
	if (!strcmp(l->key, "rx_bytes"))
		return parse_num(l, UINT64_MAX, &p->rx_bytes, err);
	if (!strcmp(l->key, "tx_bytes"))
		return parse_num(l, UINT64_MAX, &p->tx_bytes, err);
	if (!strcmp(l->key, "preshared_key") || !strcmp(l->key, "endpoint") ||
	    !strcmp(l->key, "persistent_keepalive_interval") || !strcmp(l->key, "allowed_ip") ||
	    !strcmp(l->key, "protocol_version"))
		return set_line(l, c, peer, err);
	return 0;
}

int wg_uapi_parse_get_reply(const char *text, size_t len, struct wg_device_config *ret,
			    struct err *err)
{
	struct wg_device_config c = {0};
	struct wg_peer_config *peer = NULL;
	struct uapi_line l = {0};
	bool have_errno = false;
	uint64_t code = 0;
	size_t off = 0;
	int rc;

	memset(ret, 0, sizeof(*ret));
	if (len > WG_UAPI_MAX_REQUEST) {
		rc = err_set(err, -EMSGSIZE, "reply longer than %d bytes", WG_UAPI_MAX_REQUEST);
		goto out;
	}
	for (;;) {
		rc = next_line(text, len, &off, &l, err);
		if (rc < 0)
			goto out;
		if (rc == 0)
			break;
		if (have_errno) {
			rc = err_set(err, -EINVAL, "line %zu: after errno", l.no);
			goto out;
		}
		if (!strcmp(l.key, "errno")) {
			rc = parse_num(&l, INT32_MAX, &code, err);
			if (rc < 0)
				goto out;
			have_errno = true;
			continue;
		}
		rc = get_line(&l, &c, &peer, err);
		if (rc < 0)
			goto out;
	}
	if (!have_errno) {
		rc = err_set(err, -EPROTO, "line %zu: reply ends without errno", l.no);
		goto out;
	}
	if (off != len) {
		rc = err_set(err, -EINVAL, "%zu bytes after the empty line that ends the reply",
			     len - off);
		goto out;
	}
	if (code > 4095) {
		rc = err_set(err, -EPROTO, "errno %" PRIu64 " out of range", code);
		goto out;
	}
	if (code) {
		rc = err_set(err, -(int)code, "device answered: %s", strerror((int)code));
		goto out;
	}
	*ret = c;
	memset(&c, 0, sizeof(c));
	rc = 0;
out:
	explicit_bzero(&l, sizeof(l));
	wg_device_config_clear(&c);
	return rc;
}

/* ---- formatting ---- */

static void putf(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(struct buf *out, const char *fmt, ...)
{
	char line[UAPI_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* A full buffer (out->max) truncates the text: the caller's bound. */
	if (n > 0 && (size_t)n < sizeof(line))
		(void)buf_append(out, line, (size_t)n);
	explicit_bzero(line, sizeof(line));
}

static void put_key(struct buf *out, const char *name, const uint8_t key[WG_KEY_LEN])
{
	static const char digits[] = "0123456789abcdef";
	char hex[2 * WG_KEY_LEN + 1];

	for (size_t i = 0; i < WG_KEY_LEN; i++) {
		hex[2 * i] = digits[key[i] >> 4];
		hex[2 * i + 1] = digits[key[i] & 0xf];
	}
	hex[2 * WG_KEY_LEN] = '\0';
	putf(out, "%s=%s\n", name, hex);
	explicit_bzero(hex, sizeof(hex));
}

static void put_endpoint(struct buf *out, const union wg_endpoint *e)
{
	char s[80];

	if (e->sa.sa_family != AF_INET && e->sa.sa_family != AF_INET6)
		return;
	putf(out, "endpoint=%s\n", wg_endpoint_format(e, s, sizeof(s)));
}

static void put_allowed(struct buf *out, const struct wg_peer_config *p)
{
	char s[64];

	for (size_t i = 0; i < p->n_allowed; i++) {
		if (p->allowed[i].family != AF_INET && p->allowed[i].family != AF_INET6)
			continue;
		putf(out, "allowed_ip=%s\n", wg_allowed_ip_format(&p->allowed[i], s, sizeof(s)));
	}
}

void wg_uapi_format_get(const struct wg_device_config *c, struct buf *out)
{
	if (c->flags & WG_DEV_HAS_PRIVATE)
		put_key(out, "private_key", c->priv);
	if (c->flags & WG_DEV_HAS_PORT)
		putf(out, "listen_port=%u\n", c->port);
	if (c->flags & WG_DEV_HAS_FWMARK)
		putf(out, "fwmark=%u\n", c->fwmark);
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct wg_peer_config *p = &c->peers[i];

		put_key(out, "public_key", p->pub);
		/* As wireguard-go: always, all zero when there is none. */
		put_key(out, "preshared_key", p->psk);
		putf(out, "protocol_version=1\n");
		put_endpoint(out, &p->endpoint);
		putf(out, "last_handshake_time_sec=%" PRId64 "\n",
		     p->last_handshake_sec < 0 ? 0 : p->last_handshake_sec);
		putf(out, "last_handshake_time_nsec=%ld\n",
		     p->last_handshake_nsec < 0 || p->last_handshake_nsec > 999999999
			     ? 0
			     : p->last_handshake_nsec);
		putf(out, "tx_bytes=%" PRIu64 "\n", p->tx_bytes);
		putf(out, "rx_bytes=%" PRIu64 "\n", p->rx_bytes);
		putf(out, "persistent_keepalive_interval=%u\n", p->keepalive_s);
		put_allowed(out, p);
	}
	putf(out, "errno=0\n\n");
}

void wg_uapi_format_errno(int rc, struct buf *out)
{
	putf(out, "errno=%d\n\n", rc < 0 ? -rc : rc);
}

void wg_uapi_format_set(const struct wg_device_config *c, struct buf *out)
{
	putf(out, "set=1\n");
	if (c->flags & WG_DEV_HAS_PRIVATE)
		put_key(out, "private_key", c->priv);
	if (c->flags & WG_DEV_HAS_PORT)
		putf(out, "listen_port=%u\n", c->port);
	if (c->flags & WG_DEV_HAS_FWMARK)
		putf(out, "fwmark=%u\n", c->fwmark);
	if (c->flags & WG_DEV_REPLACE_PEERS)
		putf(out, "replace_peers=true\n");
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct wg_peer_config *p = &c->peers[i];

		put_key(out, "public_key", p->pub);
		if (p->flags & WG_PEER_REMOVE) {
			putf(out, "remove=true\n");
			continue;
		}
		if (p->flags & WG_PEER_UPDATE_ONLY)
			putf(out, "update_only=true\n");
		if (p->flags & WG_PEER_HAS_PSK)
			put_key(out, "preshared_key", p->psk);
		put_endpoint(out, &p->endpoint);
		if (p->flags & WG_PEER_HAS_KEEPALIVE)
			putf(out, "persistent_keepalive_interval=%u\n", p->keepalive_s);
		if (p->flags & WG_PEER_REPLACE_ALLOWED_IPS)
			putf(out, "replace_allowed_ips=true\n");
		put_allowed(out, p);
	}
	putf(out, "\n");
}
