// SPDX-License-Identifier: Apache-2.0
/*
 * A WireGuard device's configuration as a value, and the minimal change
 * between two of them. The diff never replaces the peer list: a peer that is
 * left alone keeps its sessions, so that reconciling thousands of peers
 * costs nothing for the ones already right.
 */
#include "wg/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ipnet.h"
#include "core/xmalloc.h"

/* Zero memory the compiler may not elide (keys). */
static void config_wipe(void *p, size_t len)
{
	if (p && len)
		explicit_bzero(p, len);
}

/* Constant-time equality of two keys (a psk or a private key). */
static bool key_equal(const uint8_t *a, const uint8_t *b)
{
	volatile uint8_t d = 0;

	for (size_t i = 0; i < WG_KEY_LEN; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

void wg_device_config_clear(struct wg_device_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_peers; i++) {
		free(c->peers[i].allowed);
		config_wipe(c->peers[i].psk, sizeof(c->peers[i].psk));
	}
	free(c->peers);
	config_wipe(c, sizeof(*c));
}

struct wg_peer_config *wg_device_config_add_peer(struct wg_device_config *c)
{
	struct wg_peer_config *p;

	c->peers = xreallocarray(c->peers, c->n_peers + 1, sizeof(*c->peers));
	p = &c->peers[c->n_peers++];
	memset(p, 0, sizeof(*p));
	return p;
}

void wg_peer_config_add_allowed(struct wg_peer_config *p, const struct wg_allowed_ip *a)
{
	p->allowed = xreallocarray(p->allowed, p->n_allowed + 1, sizeof(*p->allowed));
	p->allowed[p->n_allowed++] = *a;
}

struct wg_peer_config *wg_device_config_find(const struct wg_device_config *c,
					     const uint8_t pub[WG_KEY_LEN])
{
	for (size_t i = 0; i < c->n_peers; i++)
		if (memcmp(c->peers[i].pub, pub, WG_KEY_LEN) == 0)
			return &c->peers[i];
	return NULL;
}

/* An allowed IP as comparable bytes: family, cidr, network address (no
 * padding, so memcmp orders and compares them). */
struct aip_key {
	uint8_t family; /* 4 or 6; 0 for a family we do not know */
	uint8_t cidr;
	uint8_t b[16];
};

static void aip_key(const struct wg_allowed_ip *a, struct aip_key *k)
{
	unsigned bits = 0;

	memset(k, 0, sizeof(*k));
	if (a->family == AF_INET) {
		k->family = 4;
		memcpy(k->b, &a->addr.v4, 4);
		bits = 32;
	} else if (a->family == AF_INET6) {
		k->family = 6;
		memcpy(k->b, &a->addr.v6, 16);
		bits = 128;
	}
	k->cidr = a->cidr;
	if (k->cidr > bits)
		k->cidr = (uint8_t)bits;
	for (unsigned bit = k->cidr; bit < bits; bit++)
		k->b[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
}

static int aip_key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct aip_key));
}

/* The peer's allowed IPs as a sorted set, without duplicates; *n its size. */
static struct aip_key *aip_set(const struct wg_peer_config *p, size_t *n)
{
	struct aip_key *k;
	size_t out = 0;

	if (!p->n_allowed) {
		*n = 0;
		return NULL;
	}
	k = xreallocarray(NULL, p->n_allowed, sizeof(*k));
	for (size_t i = 0; i < p->n_allowed; i++)
		aip_key(&p->allowed[i], &k[i]);
	qsort(k, p->n_allowed, sizeof(*k), aip_key_cmp);
	for (size_t i = 0; i < p->n_allowed; i++)
		if (out == 0 || aip_key_cmp(&k[out - 1], &k[i]) != 0)
			k[out++] = k[i];
	*n = out;
	return k;
}

static bool allowed_equal(const struct wg_peer_config *a, const struct wg_peer_config *b)
{
	struct aip_key *ka, *kb;
	size_t na, nb;
	bool eq;

	ka = aip_set(a, &na);
	kb = aip_set(b, &nb);
	eq = na == nb && (na == 0 || memcmp(ka, kb, na * sizeof(*ka)) == 0);
	free(ka);
	free(kb);
	return eq;
}

static bool endpoint_equal(const union wg_endpoint *a, const union wg_endpoint *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	switch (a->sa.sa_family) {
	case AF_INET:
		return a->in4.sin_port == b->in4.sin_port &&
		       a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr;
	case AF_INET6:
		return a->in6.sin6_port == b->in6.sin6_port &&
		       a->in6.sin6_scope_id == b->in6.sin6_scope_id &&
		       memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
	default:
		return true;
	}
}

static bool endpoint_set(const union wg_endpoint *e)
{
	return e->sa.sa_family == AF_INET || e->sa.sa_family == AF_INET6;
}

const char *wg_allowed_ip_format(const struct wg_allowed_ip *a, char *buf, size_t len)
{
	struct aip_key k;
	struct ip_addr ip = {0};
	char s[IP_ADDR_STRLEN];

	aip_key(a, &k);
	if (!k.family) {
		snprintf(buf, len, "(family %d)", a->family);
		return buf;
	}
	ip.family = k.family == 4 ? AF_INET : AF_INET6;
	memcpy(ip.b, k.b, sizeof(ip.b));
	snprintf(buf, len, "%s/%u", ip_addr_format(&ip, s), k.cidr);
	return buf;
}

const char *wg_endpoint_format(const union wg_endpoint *e, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN];

	switch (e->sa.sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &e->in4.sin_addr, s, sizeof(s));
		snprintf(buf, len, "%s:%u", s, ntohs(e->in4.sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &e->in6.sin6_addr, s, sizeof(s));
		if (e->in6.sin6_scope_id)
			snprintf(buf, len, "[%s%%%u]:%u", s, e->in6.sin6_scope_id,
				 ntohs(e->in6.sin6_port));
		else
			snprintf(buf, len, "[%s]:%u", s, ntohs(e->in6.sin6_port));
		break;
	default:
		snprintf(buf, len, "(none)");
		break;
	}
	return buf;
}

/* Peers sorted by public key, for lookups in O(log n) (thousands of peers). */
static int peer_ptr_cmp(const void *a, const void *b)
{
	const struct wg_peer_config *const *pa = a, *const *pb = b;

	return memcmp((*pa)->pub, (*pb)->pub, WG_KEY_LEN);
}

static const struct wg_peer_config **peer_index(const struct wg_device_config *c)
{
	const struct wg_peer_config **idx;

	if (!c->n_peers)
		return NULL;
	idx = xreallocarray(NULL, c->n_peers, sizeof(*idx));
	for (size_t i = 0; i < c->n_peers; i++)
		idx[i] = &c->peers[i];
	qsort(idx, c->n_peers, sizeof(*idx), peer_ptr_cmp);
	return idx;
}

static const struct wg_peer_config *peer_lookup(const struct wg_peer_config **idx, size_t n,
						const uint8_t pub[WG_KEY_LEN])
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(idx[mid]->pub, pub, WG_KEY_LEN);

		if (c == 0)
			return idx[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool peer_in_sync(const struct wg_peer_config *want, const struct wg_peer_config *have)
{
	/* No endpoint wanted: whatever the peer roamed to is right. */
	if (endpoint_set(&want->endpoint) && !endpoint_equal(&want->endpoint, &have->endpoint))
		return false;
	if (want->keepalive_s != have->keepalive_s)
		return false;
	if (!key_equal(want->psk, have->psk))
		return false;
	return allowed_equal(want, have);
}

size_t wg_device_config_diff(const struct wg_device_config *want,
			     const struct wg_device_config *have, struct wg_device_config *ret)
{
	const struct wg_peer_config **have_idx = peer_index(have);
	const struct wg_peer_config **want_idx = peer_index(want);
	const struct wg_peer_config *h;
	struct wg_peer_config *p;
	size_t n = 0;

	memset(ret, 0, sizeof(*ret));
	if ((want->flags & WG_DEV_HAS_PRIVATE) && !key_equal(want->priv, have->priv)) {
		ret->flags |= WG_DEV_HAS_PRIVATE;
		memcpy(ret->priv, want->priv, WG_KEY_LEN);
		n++;
	}
	if ((want->flags & WG_DEV_HAS_PORT) && want->port != have->port) {
		ret->flags |= WG_DEV_HAS_PORT;
		ret->port = want->port;
		n++;
	}
	if ((want->flags & WG_DEV_HAS_FWMARK) && want->fwmark != have->fwmark) {
		ret->flags |= WG_DEV_HAS_FWMARK;
		ret->fwmark = want->fwmark;
		n++;
	}
	/* Stale peers go first, so that an allowed IP moving to another peer
	 * is never briefly claimed twice in the result's order. */
	for (size_t i = 0; i < have->n_peers; i++) {
		h = &have->peers[i];
		if (peer_lookup(want_idx, want->n_peers, h->pub))
			continue;
		p = wg_device_config_add_peer(ret);
		memcpy(p->pub, h->pub, WG_KEY_LEN);
		p->flags = WG_PEER_REMOVE;
		n++;
	}
	for (size_t i = 0; i < want->n_peers; i++) {
		const struct wg_peer_config *w = &want->peers[i];

		h = peer_lookup(have_idx, have->n_peers, w->pub);
		if (h && peer_in_sync(w, h))
			continue;
		p = wg_device_config_add_peer(ret);
		memcpy(p->pub, w->pub, WG_KEY_LEN);
		memcpy(p->psk, w->psk, WG_KEY_LEN);
		p->flags = WG_PEER_REPLACE_ALLOWED_IPS | WG_PEER_HAS_PSK | WG_PEER_HAS_KEEPALIVE;
		p->endpoint = w->endpoint;
		p->keepalive_s = w->keepalive_s;
		if (w->n_allowed) {
			p->allowed = xreallocarray(NULL, w->n_allowed, sizeof(*p->allowed));
			memcpy(p->allowed, w->allowed, w->n_allowed * sizeof(*p->allowed));
			p->n_allowed = w->n_allowed;
		}
		n++;
	}
	free(have_idx);
	free(want_idx);
	return n;
}
