// SPDX-License-Identifier: Apache-2.0
/*
 * One route per peer (route_net.h): host-gw's peer handling, shared with
 * ipip. The backend says what route a lease calls for; this keeps the set,
 * programs lease events in one batch and lets kstate reconcile the rest.
 */
#include "backend/route_net.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/kstate.h"
#include "core/err.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "nl/nexthop.h"
#include "nl/nl.h"
#include "nl/route.h"
#include "subnet/subnet_mgr.h"

#define RECONCILE_PERIOD_MS 10000

struct rn_peer {
	struct hmap_node node;
	char name[SUBNET_KEY_STRLEN];
	struct nl_route route[2]; /* [0] IPv4, [1] IPv6; dst family 0 = none */
};

struct route_net {
	const struct route_net_ops *ops;
	void *arg;
	bool family_on[2];
	struct kstate *ks;
	struct hmap peers;
	bool started;	   /* the whole lease set is known: the kernel is ours to program */
	bool use_nexthops; /* IPv4 routes go through nexthop objects (rc_nexthop_id) */
	/* desired()'s arrays, freed by desired_done() */
	struct nl_route *scratch;
	struct nl_nexthop *scratch_nh;
};

/* The nexthop object an IPv4 route (nh_id set) goes through. */
static void route_nexthop(const struct nl_route *r, struct nl_nexthop *nh)
{
	memset(nh, 0, sizeof(*nh));
	nh->id = r->nh_id;
	nh->gw = r->gw;
	nh->oif = r->oif;
	nh->onlink = r->onlink;
	nh->protocol = WEFT_RTPROT;
}

static int rn_ensure(void *arg)
{
	struct route_net *rn = arg;

	return rn->ops->ensure ? rn->ops->ensure(rn->arg) : 0;
}

static void desired_done(void *arg)
{
	struct route_net *rn = arg;

	free(rn->scratch);
	free(rn->scratch_nh);
	rn->scratch = NULL;
	rn->scratch_nh = NULL;
}

static bool desired(void *arg, int family, struct rc_desired *want, struct rc_scope *scope)
{
	struct route_net *rn = arg;
	int fi = family == AF_INET6;
	const struct hmap_node *hn;
	size_t iter, n = 0, nn = 0;

	if (!rn->family_on[fi] || !rn->started)
		return false;
	desired_done(rn);
	rn->scratch = xreallocarray(NULL, rn->peers.count + 1, sizeof(*rn->scratch));
	rn->scratch_nh = xreallocarray(NULL, rn->peers.count + 1, sizeof(*rn->scratch_nh));
	for (hn = hmap_first(&rn->peers, &iter); hn; hn = hmap_next(&rn->peers, hn, &iter)) {
		const struct rn_peer *p = hmap_entry(hn, struct rn_peer, node);

		if (!p->route[fi].dst.addr.family)
			continue;
		rn->scratch[n++] = p->route[fi];
		if (p->route[fi].nh_id)
			route_nexthop(&p->route[fi], &rn->scratch_nh[nn++]);
	}
	*want = (struct rc_desired){
		.routes = rn->scratch, .n_routes = n,
		.nexthops = rn->scratch_nh, .n_nexthops = nn,
	};
	scope->family = family;
	scope->dev_index = 0; /* only routes and nexthops marked WEFT_RTPROT are ours */
	scope->nexthops = family == AF_INET && rn->use_nexthops;
	return true;
}

static bool concerns(void *arg, const struct nlmsghdr *nlh)
{
	struct route_net *rn = arg;
	struct nl_route r;
	struct nl_nexthop nh;

	if (nlh->nlmsg_type == RTM_DELNEXTHOP)
		return nl_nexthop_parse(nlh, &nh) == 0 && nh.protocol == WEFT_RTPROT;
	if (nlh->nlmsg_type == RTM_DELROUTE)
		return nl_route_parse(nlh, &r) == 0 && r.protocol == WEFT_RTPROT;
	return rn->ops->concerns && rn->ops->concerns(rn->arg, nlh);
}

static const struct kstate_ops rn_kstate_ops = {
	.ensure = rn_ensure,
	.desired = desired,
	.desired_done = desired_done,
	.concerns = concerns,
};

int route_net_new(struct loop *loop, const struct route_net_ops *ops, void *arg,
		  const bool family_on[2], bool nexthops, struct route_net **ret)
{
	struct route_net *rn = xcalloc(1, sizeof(*rn));
	int rc;

	rn->ops = ops;
	rn->arg = arg;
	rn->family_on[0] = family_on[0];
	rn->family_on[1] = family_on[1];
	hmap_init(&rn->peers);
	rc = kstate_new(loop, &rn_kstate_ops, rn, RECONCILE_PERIOD_MS, ops->type, &rn->ks);
	if (rc < 0) {
		route_net_free(rn);
		return rc;
	}
	rn->use_nexthops = nexthops && rn->family_on[0] && kstate_has_nexthops(rn->ks);
	*ret = rn;
	return 0;
}

static void route_for(const struct route_net *rn, const struct lease *l, int fi,
		      struct nl_route *r)
{
	memset(r, 0, sizeof(*r));
	if (!rn->family_on[fi])
		return;
	rn->ops->route(rn->arg, l, fi, r);
	if (!r->dst.addr.family)
		return;
	r->protocol = WEFT_RTPROT;
	if (fi == 0 && rn->use_nexthops)
		r->nh_id = rc_nexthop_id(&r->dst.addr);
}

/* Lease events go out as one batch; its ACKs are matched back to peers. */
struct rn_batch {
	const char *who;
	const char **peer; /* per queued request */
	bool *nexthop_add; /* per queued request: a new route's nexthop (its id may be taken) */
	size_t n, cap;
	unsigned failed;
	struct kstate *ks;
};

static void rn_queued(struct rn_batch *q, int rc, const char *peer, bool nexthop_add)
{
	if (rc < 0) {
		log_warnx("%s: peer %s: cannot build a kernel request: %s", q->who, peer,
			  strerror(-rc));
		kstate_kick(q->ks);
		return;
	}
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 16;
		q->peer = xreallocarray(q->peer, q->cap, sizeof(*q->peer));
		q->nexthop_add = xreallocarray(q->nexthop_add, q->cap, sizeof(*q->nexthop_add));
	}
	q->peer[q->n] = peer;
	q->nexthop_add[q->n++] = nexthop_add;
}

static void rn_batch_done(void *arg, size_t index, int error, const struct err *err)
{
	struct rn_batch *q = arg;

	/* Deleting what is already gone is fine. */
	if (!error || error == -ESRCH || error == -ENOENT)
		return;
	q->failed++;
	if (error == -EEXIST && q->nexthop_add[index]) {
		log_debug("%s: peer %s: its nexthop id is taken; reconciling", q->who,
			  q->peer[index]);
		return;
	}
	if (q->failed == 1)
		log_warnx("%s: route for %s: %s; reconciling", q->who, q->peer[index],
			  err && err->msg[0] ? err->msg : strerror(-error));
}

static void route_remove(struct route_net *rn, struct rn_batch *q, const struct rn_peer *p,
			 int f)
{
	struct nl *nl = kstate_nl(rn->ks);

	if (!p->route[f].dst.addr.family)
		return;
	rn_queued(q, nl_route_del_batch(nl, &p->route[f]), p->name, false);
	if (p->route[f].nh_id)
		rn_queued(q, nl_nexthop_del_batch(nl, p->route[f].nh_id), p->name, false);
}

/* fresh: no route of ours for this peer before, so that its nexthop id must
 * be free; one another program holds is left alone (the reconcile this
 * provokes routes the peer by its gateway instead). */
static void route_apply(struct route_net *rn, struct rn_batch *q, const struct rn_peer *p,
			int f, bool fresh)
{
	struct nl *nl = kstate_nl(rn->ks);
	struct nl_nexthop nh;

	if (!p->route[f].dst.addr.family)
		return;
	if (p->route[f].nh_id) {
		route_nexthop(&p->route[f], &nh);
		rn_queued(q, fresh ? nl_nexthop_add_batch(nl, &nh) : nl_nexthop_replace_batch(nl, &nh),
			  p->name, fresh);
	}
	rn_queued(q, nl_route_replace_batch(nl, &p->route[f]), p->name, false);
}

void route_net_peers(struct route_net *rn, const struct lease_event *ev, size_t n)
{
	const char *type = rn->ops->type;
	struct rn_batch q = { .who = type, .ks = rn->ks };
	struct rn_peer **gone = xcalloc(n + 1, sizeof(*gone));
	size_t n_gone = 0;

	for (size_t i = 0; i < n; i++) {
		const struct lease *l = ev[i].lease;
		struct hmap_node *hn = hmap_get(&rn->peers, l->name);
		struct rn_peer *old = hn ? hmap_entry(hn, struct rn_peer, node) : NULL, *p;

		if (ev[i].kind == LEASE_REMOVED || strcmp(l->attrs.backend_type, type)) {
			if (ev[i].kind != LEASE_REMOVED)
				log_warnx("%s: ignoring peer %s of backend type '%s'", type, l->name,
					  l->attrs.backend_type);
			if (!old)
				continue;
			hmap_remove(&rn->peers, l->name);
			for (int f = 0; f < 2 && rn->started; f++)
				route_remove(rn, &q, old, f);
			gone[n_gone++] = old;
			continue;
		}
		p = xcalloc(1, sizeof(*p));
		memcpy(p->name, l->name, sizeof(p->name));
		p->node.key = p->name;
		/* Before start() the set is only recorded: the first reconcile
		 * programs all of it in one batch. */
		for (int f = 0; f < 2; f++) {
			route_for(rn, l, f, &p->route[f]);
			if (!rn->started ||
			    (old && !memcmp(&old->route[f], &p->route[f], sizeof(p->route[f]))))
				continue;
			/* A route to another subnet leaves the old one behind. */
			if (old && old->route[f].dst.addr.family &&
			    memcmp(&old->route[f].dst, &p->route[f].dst, sizeof(p->route[f].dst)))
				route_remove(rn, &q, old, f);
			route_apply(rn, &q, p, f, !old || !old->route[f].dst.addr.family);
		}
		hmap_put(&rn->peers, &p->node);
		if (old)
			gone[n_gone++] = old;
	}
	kstate_commit(rn->ks, rn_batch_done, &q);
	for (size_t i = 0; i < n_gone; i++)
		free(gone[i]);
	free(gone);
	free(q.peer);
	free(q.nexthop_add);
}

int route_net_start(struct route_net *rn)
{
	rn->started = true;
	return kstate_start(rn->ks);
}

void route_net_stats(struct route_net *rn, struct backend_stats *ret)
{
	const struct hmap_node *hn;
	size_t iter;

	for (hn = hmap_first(&rn->peers, &iter); hn; hn = hmap_next(&rn->peers, hn, &iter)) {
		const struct rn_peer *p = hmap_entry(hn, struct rn_peer, node);

		ret->peers_programmed +=
			rn->started && (p->route[0].dst.addr.family || p->route[1].dst.addr.family);
	}
	kstate_report(rn->ks, ret);
}

void route_net_move_oif(struct route_net *rn, int from, int to)
{
	struct hmap_node *hn;
	size_t iter;

	for (hn = hmap_first(&rn->peers, &iter); hn; hn = hmap_next(&rn->peers, hn, &iter)) {
		struct rn_peer *p = hmap_entry(hn, struct rn_peer, node);

		for (int f = 0; f < 2; f++)
			if (p->route[f].dst.addr.family && p->route[f].oif == from)
				p->route[f].oif = to;
	}
}

int route_net_run(struct route_net *rn)
{
	return kstate_run(rn->ks);
}

struct nl *route_net_nl(struct route_net *rn)
{
	return kstate_nl(rn->ks);
}

static void rn_peer_free(struct hmap_node *n)
{
	free(hmap_entry(n, struct rn_peer, node));
}

void route_net_free(struct route_net *rn)
{
	if (!rn)
		return;
	kstate_free(rn->ks);
	hmap_clear(&rn->peers, rn_peer_free);
	desired_done(rn);
	free(rn);
}
