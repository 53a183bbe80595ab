// SPDX-License-Identifier: Apache-2.0
/*
 * The nodes we program, from what the list and the watch show: a Node run by
 * flannel becomes a peer lease, unless its subnet is ours, outside the
 * network, or claimed by another node; a node we cannot use is logged once
 * per reason. Changes are collected in a batch and delivered at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "subnet/kube_mgr_int.h"
#include "subnet/peer_check.h"

/* A node we could not use: logged once per distinct reason. */
struct kbad {
	struct hmap_node node;
	char *name;
	uint64_t why_hash;
};

static uint64_t str_hash(const char *s)
{
	return hmap_hash(s);
}

void kube_mgr_batch_add(struct batch *b, enum lease_event_kind kind, const struct lease *l)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->ev = xreallocarray(b->ev, b->cap, sizeof(*b->ev));
	}
	b->ev[b->n++] = (struct lease_event){ kind, l };
}

static void kpeer_free(struct kpeer *p)
{
	if (!p)
		return;
	lease_attrs_free(&p->lease.attrs);
	free(p->name);
	free(p);
}

static void kpeer_free_node(struct hmap_node *n)
{
	kpeer_free(hmap_entry(n, struct kpeer, node));
}

/* Deliver (once watch() was called) and free what was removed. */
void kube_mgr_batch_flush(struct kube_mgr *m, struct batch *b)
{
	/* at most EVENT_QUEUE_DEPTH events per call, in order */
	for (size_t off = 0; off < b->n && m->emitting && m->base.cbs.peers;
	     off += m->queue_depth)
		m->base.cbs.peers(m->base.cbs.arg, b->ev + off,
				  b->n - off < m->queue_depth ? b->n - off : m->queue_depth);
	while (b->dead) {
		struct kpeer *p = b->dead;

		b->dead = p->next_free;
		kpeer_free(p);
	}
	free(b->ev);
	memset(b, 0, sizeof(*b));
}

void kube_mgr_peer_remove(struct kube_mgr *m, struct kpeer *p, struct batch *b)
{
	hmap_remove(&m->nodes, p->name);
	hmap_remove(&m->leases, p->lease.name);
	kube_mgr_batch_add(b, LEASE_REMOVED, &p->lease);
	p->next_free = b->dead;
	b->dead = p;
}

static void kbad_free(struct hmap_node *n)
{
	struct kbad *k = hmap_entry(n, struct kbad, node);

	free(k->name);
	free(k);
}

static void forget_bad(struct kube_mgr *m, const char *name)
{
	struct hmap_node *n = hmap_remove(&m->bad, name);

	if (n)
		kbad_free(n);
}

/* A node we cannot use: say why, once per node and reason. */
void kube_mgr_note_bad(struct kube_mgr *m, const char *name, const char *why)
{
	struct hmap_node *n = hmap_get(&m->bad, name);
	uint64_t h = str_hash(why);
	struct kbad *k;

	if (n) {
		k = hmap_entry(n, struct kbad, node);
		if (k->why_hash == h)
			return;
	} else {
		k = xcalloc(1, sizeof(*k));
		k->name = xstrdup(name);
		k->node.key = k->name;
		hmap_put(&m->bad, &k->node);
	}
	k->why_hash = h;
	m->stats.bad_entries++;
	log_warnx("ignoring node %s: %s", name, why);
}

/* A node whose object does not decode (name NULL: without one): say why, and
 * stop programming it. */
void kube_mgr_node_refused(struct kube_mgr *m, const char *name, const char *why, struct batch *b)
{
	struct hmap_node *hn = name ? hmap_get(&m->nodes, name) : NULL;

	kube_mgr_note_bad(m, name ? name : "(without a name)", why);
	if (hn)
		kube_mgr_peer_remove(m, hmap_entry(hn, struct kpeer, node), b);
}

/* A node as listed or watched (ADDED/MODIFIED). Takes kn. */
void kube_mgr_node_upsert(struct kube_mgr *m, struct kube_node *kn, struct batch *b)
{
	struct hmap_node *hn = hmap_get(&m->nodes, kn->name), *on;
	struct kpeer *p = hn ? hmap_entry(hn, struct kpeer, node) : NULL, *owner;
	struct err err = { 0 };
	struct lease l;
	int rc;

	if (!strcmp(kn->name, m->node_name)) {
		m->own_seen_gen = m->list_gen;
		kube_mgr_own_node_seen(m, kn);
		return;
	}
	if (p)
		p->seen_gen = m->list_gen;
	rc = kube_node_to_lease(kn, &m->an, m->nc.enable_ipv4, m->nc.enable_ipv6, &l, &err);
	if (rc == -ENOENT) {
		/* Not (or no longer) run by flannel: not a peer. */
		forget_bad(m, kn->name);
		if (p) {
			log_info("node %s no longer carries %s=true; removing it", kn->name,
				 m->an.name[KA_MANAGED]);
			kube_mgr_peer_remove(m, p, b);
		}
		goto out;
	}
	if (rc < 0) {
		kube_mgr_note_bad(m, kn->name, err.msg);
		if (p)
			kube_mgr_peer_remove(m, p, b);
		goto out;
	}
	if (m->have_own && !strcmp(l.name, m->own.name)) {
		snprintf(err.msg, sizeof(err.msg), "its subnet %s is ours", l.name);
		goto conflict;
	}
	if (peer_subnet_check(&m->nc, m->have_own ? &m->own.subnet : NULL, &l.subnet, &err) < 0)
		goto conflict;
	on = hmap_get(&m->leases, l.name);
	owner = on ? hmap_entry(on, struct kpeer, lease.node) : NULL;
	if (owner && owner != p) {
		snprintf(err.msg, sizeof(err.msg), "node %s already has subnet %s", owner->name,
			 l.name);
		goto conflict;
	}
	forget_bad(m, kn->name);
	if (p && !strcmp(p->lease.name, l.name)) {
		if (lease_attrs_equal(&p->lease.attrs, &l.attrs)) {
			lease_attrs_free(&l.attrs);
			goto out;
		}
		lease_attrs_free(&p->lease.attrs);
		p->lease.attrs = l.attrs;
		kube_mgr_batch_add(b, LEASE_ADDED, &p->lease);
		goto out;
	}
	if (p) {
		log_info("node %s: subnet changed from %s to %s", kn->name, p->lease.name, l.name);
		kube_mgr_peer_remove(m, p, b);
	}
	p = xcalloc(1, sizeof(*p));
	p->name = xstrdup(kn->name);
	p->node.key = p->name;
	p->lease = l;
	p->lease.node.key = p->lease.name;
	p->seen_gen = m->list_gen;
	hmap_put(&m->nodes, &p->node);
	hmap_put(&m->leases, &p->lease.node);
	kube_mgr_batch_add(b, LEASE_ADDED, &p->lease);
	goto out;
conflict:
	lease_attrs_free(&l.attrs);
	kube_mgr_note_bad(m, kn->name, err.msg);
	if (p)
		kube_mgr_peer_remove(m, p, b);
out:
	kube_node_free(kn);
}

void kube_mgr_node_deleted(struct kube_mgr *m, const char *name, struct batch *b)
{
	struct hmap_node *hn;

	if (!strcmp(name, m->node_name)) {
		if (!m->own_warned_deleted)
			log_warnx("our node %s was deleted from the API: peers drop us until it "
				  "is back", name);
		m->own_warned_deleted = true;
		return;
	}
	forget_bad(m, name);
	hn = hmap_get(&m->nodes, name);
	if (hn)
		kube_mgr_peer_remove(m, hmap_entry(hn, struct kpeer, node), b);
}

void kube_mgr_peers_free(struct kube_mgr *m)
{
	/* leases indexes the same kpeers by lease name: freed through nodes. */
	hmap_destroy(&m->leases);
	hmap_clear(&m->nodes, kpeer_free_node);
	hmap_clear(&m->bad, kbad_free);
}
