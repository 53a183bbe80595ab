// SPDX-License-Identifier: Apache-2.0
#include "backend/reconcile.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/hmap.h"
#include "core/xmalloc.h"
#include "nl/nl.h"

#define KEYLEN 64

struct item {
	struct hmap_node node;
	char key[KEYLEN];
	union {
		struct nl_route r;
		struct nl_neigh n;
	} u;
	bool wanted; /* actual item matched by a desired one */
};

struct actual {
	struct hmap map;
	struct item *items;
	size_t n, cap;
};

const char *rc_kind_name(enum rc_kind k)
{
	static const char *const names[] = { "route", "neighbour", "fdb entry" };

	return k < RC_KINDS ? names[k] : "?";
}

static void actual_init(struct actual *a)
{
	memset(a, 0, sizeof(*a));
	hmap_init(&a->map);
}

static void actual_free(struct actual *a)
{
	hmap_destroy(&a->map);
	free(a->items);
}

static struct item *actual_push(struct actual *a)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->items = xreallocarray(a->items, a->cap, sizeof(*a->items));
	}
	memset(&a->items[a->n], 0, sizeof(a->items[0]));
	return &a->items[a->n++];
}

/* Items move when the array grows: index them only once the dump is done. */
static void actual_index(struct actual *a)
{
	for (size_t i = 0; i < a->n; i++) {
		a->items[i].node.key = a->items[i].key;
		hmap_put(&a->map, &a->items[i].node);
	}
}

static void route_key(const struct nl_route *r, char *buf)
{
	ip_prefix_format(&r->dst, buf);
}

static void mac_str(const uint8_t *m, char *buf)
{
	snprintf(buf, KEYLEN, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static bool route_same(const struct nl_route *a, const struct nl_route *b)
{
	return ip_addr_equal(&a->gw, &b->gw) && a->oif == b->oif && a->onlink == b->onlink &&
	       a->protocol == b->protocol && (a->type ? a->type : RTN_UNICAST) ==
						  (b->type ? b->type : RTN_UNICAST);
}

struct dump_ctx {
	const struct rc_scope *scope;
	struct actual *a;
};

static int collect_route(const struct nl_route *r, void *arg)
{
	struct dump_ctx *c = arg;
	struct item *it;

	/* Unicast only: a blackhole route for our own subnet is ours too, but it
	 * is kept by the agent, not by the peer reconcile. */
	if (r->type && r->type != RTN_UNICAST)
		return 0;
	if (r->protocol != WEFT_RTPROT &&
	    !(c->scope->dev_index && r->oif == c->scope->dev_index && r->protocol != RTPROT_KERNEL))
		return 0;
	it = actual_push(c->a);
	it->u.r = *r;
	route_key(r, it->key);
	return 0;
}

static int collect_neigh(const struct nl_neigh *n, void *arg)
{
	struct dump_ctx *c = arg;
	struct item *it;

	if (n->index != c->scope->dev_index || !(n->state & NUD_PERMANENT))
		return 0;
	it = actual_push(c->a);
	it->u.n = *n;
	ip_addr_format(&n->dst, it->key);
	return 0;
}

static int collect_fdb(const struct nl_neigh *n, void *arg)
{
	struct dump_ctx *c = arg;
	struct item *it;

	if (n->index != c->scope->dev_index || !n->has_mac || !n->dst.family)
		return 0;
	it = actual_push(c->a);
	it->u.n = *n;
	mac_str(n->mac, it->key);
	return 0;
}

static void describe_route(const struct nl_route *r, char *buf, size_t len)
{
	char d[IP_PREFIX_STRLEN], g[IP_ADDR_STRLEN];

	snprintf(buf, len, "%s%s%s%s", ip_prefix_format(&r->dst, d), r->gw.family ? " via " : "",
		 r->gw.family ? ip_addr_format(&r->gw, g) : "", r->onlink ? " onlink" : "");
}

static void describe_neigh(enum rc_kind k, const struct nl_neigh *n, char *buf, size_t len)
{
	char ip[IP_ADDR_STRLEN], mac[KEYLEN];

	mac_str(n->mac, mac);
	ip_addr_format(&n->dst, ip);
	if (k == RC_NEIGH)
		snprintf(buf, len, "%s lladdr %s", ip, mac);
	else
		snprintf(buf, len, "%s dst %s", mac, ip);
}

/* Deleting what is already gone is success. */
static int gone_ok(int rc)
{
	return rc == -ESRCH || rc == -ENOENT ? 0 : rc;
}

int reconcile(struct nl *nl, const struct rc_scope *scope, const struct rc_desired *want,
	      rc_note_cb *note, void *arg, struct rc_stats *st)
{
	struct actual routes, neighs, fdbs;
	struct dump_ctx c = { .scope = scope };
	char what[160], key[KEYLEN];
	struct err err = { 0 };
	int rc;

	memset(st, 0, sizeof(*st));
	actual_init(&routes);
	actual_init(&neighs);
	actual_init(&fdbs);

	c.a = &routes;
	rc = nl_route_dump(nl, scope->family, 0, collect_route, &c);
	if (rc < 0)
		goto out;
	actual_index(&routes);
	if (scope->dev_index) {
		c.a = &neighs;
		rc = nl_neigh_dump(nl, scope->family, scope->dev_index, collect_neigh, &c);
		if (rc < 0)
			goto out;
		actual_index(&neighs);
		c.a = &fdbs;
		rc = nl_fdb_dump(nl, scope->dev_index, collect_fdb, &c);
		if (rc < 0)
			goto out;
		actual_index(&fdbs);
	}

	/* Neighbour and FDB entry before the route that will use them. */
	for (size_t i = 0; i < want->n_neighs; i++) {
		const struct nl_neigh *n = &want->neighs[i];
		struct hmap_node *hn = hmap_get(&neighs.map, ip_addr_format(&n->dst, key));
		struct item *it = hn ? hmap_entry(hn, struct item, node) : NULL;

		if (it) {
			it->wanted = true;
			if (it->u.n.has_mac && !memcmp(it->u.n.mac, n->mac, 6))
				continue;
		}
		describe_neigh(RC_NEIGH, n, what, sizeof(what));
		if (note)
			note(arg, RC_NEIGH, what, it ? "had another MAC" : "missing");
		if (nl_neigh_replace(nl, n, &err) < 0)
			st->failed++;
		else
			st->added[RC_NEIGH]++;
	}
	for (size_t i = 0; i < want->n_fdbs; i++) {
		const struct nl_neigh *n = &want->fdbs[i];
		struct hmap_node *hn;
		struct item *it;

		mac_str(n->mac, key);
		hn = hmap_get(&fdbs.map, key);
		it = hn ? hmap_entry(hn, struct item, node) : NULL;
		if (it) {
			it->wanted = true;
			if (ip_addr_equal(&it->u.n.dst, &n->dst))
				continue;
			/* Another destination: the stale pairing must go too. */
			nl_fdb_del(nl, &it->u.n, &err);
		}
		describe_neigh(RC_FDB, n, what, sizeof(what));
		if (note)
			note(arg, RC_FDB, what, it ? "pointed elsewhere" : "missing");
		if (nl_fdb_replace(nl, n, &err) < 0)
			st->failed++;
		else
			st->added[RC_FDB]++;
	}
	for (size_t i = 0; i < want->n_routes; i++) {
		const struct nl_route *r = &want->routes[i];
		struct hmap_node *hn;
		struct item *it;

		route_key(r, key);
		hn = hmap_get(&routes.map, key);
		it = hn ? hmap_entry(hn, struct item, node) : NULL;
		if (it) {
			it->wanted = true;
			if (route_same(&it->u.r, r))
				continue;
		}
		describe_route(r, what, sizeof(what));
		if (note)
			note(arg, RC_ROUTE, what, it ? "was different" : "missing");
		if (nl_route_replace(nl, r, &err) < 0)
			st->failed++;
		else
			st->added[RC_ROUTE]++;
	}

	/* What we own but nothing asks for: peers that are gone. Routes first. */
	for (size_t i = 0; i < routes.n; i++) {
		if (routes.items[i].wanted)
			continue;
		describe_route(&routes.items[i].u.r, what, sizeof(what));
		if (note)
			note(arg, RC_ROUTE, what, "no lease wants it");
		if (gone_ok(nl_route_del(nl, &routes.items[i].u.r, &err)) < 0)
			st->failed++;
		else
			st->removed[RC_ROUTE]++;
	}
	for (size_t i = 0; i < neighs.n; i++) {
		if (neighs.items[i].wanted)
			continue;
		describe_neigh(RC_NEIGH, &neighs.items[i].u.n, what, sizeof(what));
		if (note)
			note(arg, RC_NEIGH, what, "no lease wants it");
		if (gone_ok(nl_neigh_del(nl, &neighs.items[i].u.n, &err)) < 0)
			st->failed++;
		else
			st->removed[RC_NEIGH]++;
	}
	for (size_t i = 0; i < fdbs.n; i++) {
		if (fdbs.items[i].wanted)
			continue;
		describe_neigh(RC_FDB, &fdbs.items[i].u.n, what, sizeof(what));
		if (note)
			note(arg, RC_FDB, what, "no lease wants it");
		if (gone_ok(nl_fdb_del(nl, &fdbs.items[i].u.n, &err)) < 0)
			st->failed++;
		else
			st->removed[RC_FDB]++;
	}
	rc = 0;
out:
	actual_free(&routes);
	actual_free(&neighs);
	actual_free(&fdbs);
	return rc;
}
