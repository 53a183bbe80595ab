// SPDX-License-Identifier: Apache-2.0
#include "wg/allowed.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/container_of.h"
#include "core/xmalloc.h"

/* An address as a 128-bit number (IPv4 in the low half), masked. */
struct key128 {
	uint64_t hi, lo;
};

struct slot {
	struct key128 k;
	void *peer;
	size_t order; /* position in the input: the later one wins */
};

struct group {
	uint8_t cidr;
	size_t off, n; /* into slots */
};

struct family_table {
	struct group *groups; /* longest prefix first */
	size_t n_groups;
	struct slot *slots;
};

struct wg_allowed_table {
	struct qsbr_node node;
	struct family_table f4, f6;
};

static struct key128 key_of(int family, const uint8_t *a)
{
	struct key128 k = {0, 0};

	if (family == AF_INET) {
		k.lo = (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 | (uint64_t)a[2] << 8 | a[3];
		return k;
	}
	for (int i = 0; i < 8; i++) {
		k.hi = k.hi << 8 | a[i];
		k.lo = k.lo << 8 | a[8 + i];
	}
	return k;
}

static struct key128 mask(struct key128 k, int family, unsigned cidr)
{
	unsigned bits = family == AF_INET ? cidr + 96 : cidr; /* as a 128-bit prefix */

	if (bits == 0)
		return (struct key128){0, 0};
	if (bits <= 64) {
		k.hi &= ~0ULL << (64 - bits); /* bits >= 1: a shift below 64 */
		k.lo = 0;
	} else if (bits < 128) {
		k.lo &= ~0ULL << (128 - bits);
	}
	return k;
}

static int key_cmp(struct key128 a, struct key128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

struct tmp {
	uint8_t cidr;
	struct slot s;
};

static int tmp_cmp(const void *pa, const void *pb)
{
	const struct tmp *a = pa, *b = pb;
	int c;

	if (a->cidr != b->cidr)
		return a->cidr > b->cidr ? -1 : 1;
	c = key_cmp(a->s.k, b->s.k);
	if (c)
		return c;
	return a->s.order > b->s.order ? -1 : (a->s.order < b->s.order); /* newest first */
}

static void build_family(struct family_table *ft, const struct wg_allowed_entry *e, size_t n,
			 int family)
{
	struct tmp *t = xcalloc(n ? n : 1, sizeof(*t));
	size_t m = 0, out = 0;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *a;

		if (e[i].ip.family != family)
			continue;
		a = family == AF_INET ? (const uint8_t *)&e[i].ip.addr.v4
				      : (const uint8_t *)&e[i].ip.addr.v6;
		t[m].cidr = e[i].ip.cidr;
		t[m].s.k = mask(key_of(family, a), family, e[i].ip.cidr);
		t[m].s.peer = e[i].peer;
		t[m].s.order = i;
		m++;
	}
	qsort(t, m, sizeof(*t), tmp_cmp);
	ft->slots = xcalloc(m ? m : 1, sizeof(*ft->slots));
	ft->groups = xcalloc(m ? m : 1, sizeof(*ft->groups));
	for (size_t i = 0; i < m; i++) {
		struct group *g;

		/* Equal prefixes: only the newest (sorted first) stays. */
		if (i && t[i].cidr == t[i - 1].cidr && !key_cmp(t[i].s.k, t[i - 1].s.k))
			continue;
		g = ft->n_groups ? &ft->groups[ft->n_groups - 1] : NULL;
		if (!g || g->cidr != t[i].cidr) {
			g = &ft->groups[ft->n_groups++];
			g->cidr = t[i].cidr;
			g->off = out;
			g->n = 0;
		}
		ft->slots[out++] = t[i].s;
		g->n++;
	}
	free(t);
}

struct wg_allowed_table *wg_allowed_build(const struct wg_allowed_entry *e, size_t n)
{
	struct wg_allowed_table *t = xcalloc(1, sizeof(*t));

	build_family(&t->f4, e, n, AF_INET);
	build_family(&t->f6, e, n, AF_INET6);
	return t;
}

void wg_allowed_free(struct wg_allowed_table *t)
{
	if (!t)
		return;
	free(t->f4.slots);
	free(t->f4.groups);
	free(t->f6.slots);
	free(t->f6.groups);
	free(t);
}

struct qsbr_node *wg_allowed_node(struct wg_allowed_table *t)
{
	return &t->node;
}

void wg_allowed_free_node(struct qsbr_node *n)
{
	wg_allowed_free(container_of(n, struct wg_allowed_table, node));
}

void *wg_allowed_lookup(const struct wg_allowed_table *t, int family, const uint8_t *addr)
{
	const struct family_table *ft;
	struct key128 k;

	if (!t || (family != AF_INET && family != AF_INET6))
		return NULL;
	ft = family == AF_INET ? &t->f4 : &t->f6;
	k = key_of(family, addr);
	for (size_t g = 0; g < ft->n_groups; g++) {
		const struct group *gr = &ft->groups[g];
		struct key128 mk = mask(k, family, gr->cidr);
		size_t lo = 0, hi = gr->n;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = key_cmp(ft->slots[gr->off + mid].k, mk);

			if (!c)
				return ft->slots[gr->off + mid].peer;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return NULL;
}
