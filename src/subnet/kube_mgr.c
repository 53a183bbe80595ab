// SPDX-License-Identifier: Apache-2.0
/*
 * The Kubernetes subnet manager (flannel.md §5), drop-in compatible with
 * flanneld's: same annotations, same Node fields, same status patches.
 *
 * Start-up: net-conf file → our node name (NODE_NAME, or our Pod's
 * spec.nodeName) → GET our Node → cbs.config. The list + watch of all Nodes
 * starts at that point, as flannel's informer does. acquire: the subnet from
 * spec.podCIDR(s), the annotations patched on nodes/<name>/status when they
 * differ, then cbs.acquired once the first full list is in (so that the
 * backend's first reconcile sees every peer). watch: the known peers, then
 * the NetworkUnavailable=False condition.
 *
 * Where flanneld gives up (no podCIDR yet, API down for more than 30 s,
 * informer not synced within 10 min), we keep retrying with backoff and say
 * why. The watch resumes from the last resourceVersion seen (bookmarks
 * included); a 410 Gone re-lists and diffs against what we knew, so that no
 * change is missed or reported twice. Per node only the lease is kept (tens
 * of bytes plus the backend data), never the object.
 *
 * Differences from flanneld, all on the safe side: a change of either
 * family's annotations re-programs the peer; a podCIDR change replaces the
 * peer's lease; two nodes claiming one subnet are not both programmed; a
 * podCIDR outside the network, or overlapping ours, is refused; our own
 * annotations are written again when someone removes or changes them.
 */
#include "subnet/kube_mgr.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "http/client.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "kube/node.h"
#include "subnet/lease.h"
#include "subnet/netconf.h"
#include "subnet/peer_check.h"

#define UNARY_TIMEOUT_MS 30000
#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 30000
#define WATCH_BACKOFF_MIN_MS 200
#define WATCH_BACKOFF_MAX_MS 10000
#define LIST_PAGE 100
#define LIST_PAGE_MIN 10
#define LIST_MAX_BODY (64u << 20)
#define WATCH_MAX_LINE (16u << 20)
#define WATCH_TIMEOUT_MIN_S 300
#define WATCH_FAILS_BEFORE_RELIST 3
#define REPATCH_DELAY_MS 1000
#define REPATCH_MAX_DELAY_MS 60000

/* One node we program: its lease, keyed by node name (and by lease name in
 * m->leases, which guards against two nodes claiming one subnet). */
struct kpeer {
	struct hmap_node node; /* m->nodes */
	char *name;
	struct lease lease;    /* lease.node: m->leases */
	uint64_t seen_gen;     /* last list that contained it */
	struct kpeer *next_free;
};

/* A node we could not use: logged once per distinct reason. */
struct kube_mgr;

/*
 * A PATCH of our Node's status that is retried with backoff until it goes
 * through: our annotations written again, the NetworkUnavailable condition.
 */
struct status_patch {
	struct kube_mgr *m;
	/* The patch to send; NULL: nothing to send now. */
	char *(*body)(struct kube_mgr *m);
	/* Log the outcome: why NULL when it went through, else why it failed
	 * and when it is tried again. */
	void (*done)(struct kube_mgr *m, const char *why, int64_t retry_ms);
	int64_t timer, backoff_ms;
	struct http_req *req;
};

struct kbad {
	struct hmap_node node;
	char *name;
	uint64_t why_hash;
};

/* Peer events collected while handling one answer, delivered at once. */
struct batch {
	struct lease_event *ev;
	size_t n, cap;
	struct kpeer *dead; /* removed peers, freed after delivery */
};

struct kube_mgr {
	struct subnet_mgr base;
	struct loop *loop;
	struct kube_client *client;
	struct kube_annots an;
	char *source; /* how we reach the API, for logs */
	char *net_config_path;
	bool set_nnu;
	char *pod_ns, *pod_name;
	char *node_name;

	/* start-up: config, node name, our node */
	struct netconf nc;
	bool have_config;
	bool configured; /* cbs.config was called */
	int64_t start_timer, start_backoff_ms;
	struct http_req *start_req;
	char last_start_err[256];

	struct kube_node own_node; /* latest version seen */
	bool have_own_node;

	/* acquire */
	struct lease_attrs want;
	bool acquiring, patched, wait_sync, acq_refetch;
	int64_t acq_timer, acq_backoff_ms;
	struct http_req *acq_req;
	char last_acq_err[256];
	struct lease own;
	bool have_own;
	bool own_warned_cidr, own_warned_deleted;

	/* our annotations written again after acquire */
	struct status_patch repatch;
	int64_t repatch_last_ms, repatch_delay_ms; /* slows down a tug of war */

	/* NetworkUnavailable condition */
	struct status_patch cond;

	/* peers: list + watch */
	struct hmap nodes, leases, bad;
	char *rv;	   /* resourceVersion to resume from */
	bool synced;	   /* a full list completed */
	bool emitting;	   /* watch() was called: report changes */
	uint64_t list_gen; /* current list's generation */
	uint64_t own_seen_gen; /* last list that contained our node */
	char *list_continue;
	char *list_rv;
	size_t list_page, list_items, list_changes;
	struct http_req *list_req, *watch_req;
	int64_t lw_timer, lw_backoff_ms;
	bool need_list;
	int watch_fails;
	int64_t watch_started_ms;
	bool watch_got_line;
	long watch_err_code; /* Status.code of an ERROR event / error body */
	char watch_err_msg[256];

	struct subnet_mgr_stats stats;
};

static const struct subnet_mgr_ops kube_mgr_ops;

static struct kube_mgr *to_mgr(struct subnet_mgr *m)
{
	return (struct kube_mgr *)m;
}

static uint64_t str_hash(const char *s)
{
	return hmap_hash(s);
}

static int64_t backoff_next(int64_t *cur, int64_t min, int64_t max)
{
	int64_t now = *cur ? *cur : min;
	uint32_t r = 0;

	*cur = now * 2 > max ? max : now * 2;
	/* ±20% so that a thousand nodes do not retry in step */
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)rand();
	return now * 8 / 10 + (int64_t)(r % (uint32_t)(now * 4 / 10 + 1));
}

static void timer_set(struct kube_mgr *m, int64_t *timer, int64_t ms, loop_timer_cb *cb,
		      void *arg)
{
	if (*timer)
		loop_del_timer(m->loop, *timer);
	*timer = loop_add_timer(m->loop, ms, cb, arg);
	if (*timer < 0)
		*timer = 0;
}

static void timer_clear(struct kube_mgr *m, int64_t *timer)
{
	if (*timer)
		loop_del_timer(m->loop, *timer);
	*timer = 0;
}

/* "HTTP 403 (Forbidden: nodes is forbidden: ...)" or the transport error. */
static void describe(int err, long status, const char *body, size_t len, const char *errmsg,
		     char *buf, size_t n)
{
	char st[200];

	if (err < 0) {
		snprintf(buf, n, "%s", errmsg && *errmsg ? errmsg : strerror(-err));
		return;
	}
	kube_status_describe(body, len, st, sizeof(st));
	snprintf(buf, n, "HTTP %ld%s%s%s", status, st[0] ? " (" : "", st, st[0] ? ")" : "");
}

/* GET path; a request that cannot start is answered at once, as a transport
 * error. */
static void unary_get(struct kube_mgr *m, const char *path, http_done_cb *done,
		      struct http_req **req)
{
	struct kube_req_opts o = { .timeout_ms = UNARY_TIMEOUT_MS, .path = path };

	if (kube_request(m->client, &o, done, NULL, m, req) < 0)
		done(m, -EIO, 0, "", 0, "cannot start the request");
}

static char *url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(strlen(s) * 3 + 1), *o = out;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

/* ---- peers ---- */

static void batch_add(struct batch *b, enum lease_event_kind kind, const struct lease *l)
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
static void batch_flush(struct kube_mgr *m, struct batch *b)
{
	if (b->n && m->emitting && m->base.cbs.peers)
		m->base.cbs.peers(m->base.cbs.arg, b->ev, b->n);
	while (b->dead) {
		struct kpeer *p = b->dead;

		b->dead = p->next_free;
		kpeer_free(p);
	}
	free(b->ev);
	memset(b, 0, sizeof(*b));
}

static void peer_remove(struct kube_mgr *m, struct kpeer *p, struct batch *b)
{
	hmap_remove(&m->nodes, p->name);
	hmap_remove(&m->leases, p->lease.name);
	batch_add(b, LEASE_REMOVED, &p->lease);
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
static void note_bad(struct kube_mgr *m, const char *name, const char *why)
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
static void node_refused(struct kube_mgr *m, const char *name, const char *why, struct batch *b)
{
	struct hmap_node *hn = name ? hmap_get(&m->nodes, name) : NULL;

	note_bad(m, name ? name : "(without a name)", why);
	if (hn)
		peer_remove(m, hmap_entry(hn, struct kpeer, node), b);
}

static void own_node_seen(struct kube_mgr *m, struct kube_node *kn);

/* A node as listed or watched (ADDED/MODIFIED). Takes kn. */
static void node_upsert(struct kube_mgr *m, struct kube_node *kn, struct batch *b)
{
	struct hmap_node *hn = hmap_get(&m->nodes, kn->name), *on;
	struct kpeer *p = hn ? hmap_entry(hn, struct kpeer, node) : NULL, *owner;
	struct err err = { 0 };
	struct lease l;
	int rc;

	if (!strcmp(kn->name, m->node_name)) {
		m->own_seen_gen = m->list_gen;
		own_node_seen(m, kn);
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
			peer_remove(m, p, b);
		}
		goto out;
	}
	if (rc < 0) {
		note_bad(m, kn->name, err.msg);
		if (p)
			peer_remove(m, p, b);
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
		batch_add(b, LEASE_ADDED, &p->lease);
		goto out;
	}
	if (p) {
		log_info("node %s: subnet changed from %s to %s", kn->name, p->lease.name, l.name);
		peer_remove(m, p, b);
	}
	p = xcalloc(1, sizeof(*p));
	p->name = xstrdup(kn->name);
	p->node.key = p->name;
	p->lease = l;
	p->lease.node.key = p->lease.name;
	p->seen_gen = m->list_gen;
	hmap_put(&m->nodes, &p->node);
	hmap_put(&m->leases, &p->lease.node);
	batch_add(b, LEASE_ADDED, &p->lease);
	goto out;
conflict:
	lease_attrs_free(&l.attrs);
	note_bad(m, kn->name, err.msg);
	if (p)
		peer_remove(m, p, b);
out:
	kube_node_free(kn);
}

static void node_deleted(struct kube_mgr *m, const char *name, struct batch *b)
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
		peer_remove(m, hmap_entry(hn, struct kpeer, node), b);
}

/* ---- our own node after acquire: keep our annotations in place ---- */

static void status_patch_start(struct status_patch *p);

static int64_t status_patch_fire(struct loop *loop, int64_t id, void *arg)
{
	struct status_patch *p = arg;

	(void)loop;
	(void)id;
	p->timer = 0;
	status_patch_start(p);
	return LOOP_TIMER_STOP;
}

static void status_patch_schedule(struct status_patch *p, int64_t ms)
{
	timer_set(p->m, &p->timer, ms, status_patch_fire, p);
}

static void status_patch_done(void *arg, int err, long status, const char *body, size_t len,
			      const char *errmsg)
{
	struct status_patch *p = arg;
	char why[400];
	int64_t ms;

	p->req = NULL;
	if (err == 0 && status == 200) {
		p->backoff_ms = 0;
		p->done(p->m, NULL, 0);
		return;
	}
	kube_client_note_error(p->m->client);
	describe(err, status, body, len, errmsg, why, sizeof(why));
	ms = backoff_next(&p->backoff_ms, RETRY_MIN_MS, RETRY_MAX_MS);
	p->done(p->m, why, ms);
	status_patch_schedule(p, ms);
}

static void status_patch_start(struct status_patch *p)
{
	struct kube_mgr *m = p->m;
	struct kube_req_opts o = {
		.method = "PATCH",
		.content_type = "application/strategic-merge-patch+json",
		.timeout_ms = UNARY_TIMEOUT_MS,
	};
	char *body, *path;

	if (p->req || !(body = p->body(m)))
		return;
	xasprintf(&path, "/api/v1/nodes/%s/status", m->node_name);
	o.path = path;
	o.body = body;
	if (kube_request(m->client, &o, status_patch_done, NULL, p, &p->req) < 0) {
		p->req = NULL;
		status_patch_schedule(p, RETRY_MAX_MS);
	}
	free(path);
	free(body);
}

static char *repatch_body(struct kube_mgr *m)
{
	char *body = NULL;

	if (m->have_own_node)
		kube_own_patch(&m->an, &m->own_node, &m->want, m->own.subnet.has_v6, &body, NULL,
			       NULL, NULL);
	return body;
}

static void repatch_done(struct kube_mgr *m, const char *why, int64_t retry_ms)
{
	if (!why)
		log_info("annotations of node %s written again", m->node_name);
	else
		log_warnx("writing the annotations of node %s again: %s; retrying in %lldms",
			  m->node_name, why, (long long)retry_ms);
}

/* Our node as the API shows it now. Takes kn. */
static void own_node_seen(struct kube_mgr *m, struct kube_node *kn)
{
	kube_node_free(&m->own_node);
	m->own_node = *kn;
	memset(kn, 0, sizeof(*kn));
	m->have_own_node = true;
	m->own_warned_deleted = false;
	if (!m->have_own)
		return;
	{
		struct ip_prefix v4, v6;
		bool h4, h6;
		char *body = NULL;

		if (kube_node_cidrs(&m->own_node, &v4, &h4, &v6, &h6, NULL) < 0 ||
		    (m->nc.enable_ipv4 && !(h4 && ip_prefix_equal(&v4, &m->own.subnet.v4))) ||
		    (m->nc.enable_ipv6 && !(h6 && ip_prefix_equal(&v6, &m->own.subnet.v6)))) {
			if (!m->own_warned_cidr)
				log_warnx("the podCIDR of node %s no longer matches our lease %s; "
					  "restart weftd to take the new one", m->node_name,
					  m->own.name);
			m->own_warned_cidr = true;
			return;
		}
		m->own_warned_cidr = false;
		kube_own_patch(&m->an, &m->own_node, &m->want, m->own.subnet.has_v6, &body, NULL,
			       NULL, NULL);
		if (body && !m->repatch.req && !m->repatch.timer) {
			int64_t now = loop_now_ms();

			/* Someone keeps changing them back: do not fight at full speed. */
			if (m->repatch_last_ms && now - m->repatch_last_ms < REPATCH_MAX_DELAY_MS)
				m->repatch_delay_ms = m->repatch_delay_ms * 2 > REPATCH_MAX_DELAY_MS
							      ? REPATCH_MAX_DELAY_MS
							      : m->repatch_delay_ms * 2;
			else
				m->repatch_delay_ms = REPATCH_DELAY_MS;
			m->repatch_last_ms = now;
			log_warnx("the annotations of node %s were changed or removed; writing "
				  "them again in %lldms", m->node_name,
				  (long long)m->repatch_delay_ms);
			status_patch_schedule(&m->repatch, m->repatch_delay_ms);
		}
		free(body);
	}
}

/* ---- list + watch of all nodes ---- */

static void list_start(struct kube_mgr *m);
static void watch_start(struct kube_mgr *m);
static void acquire_complete(struct kube_mgr *m);

/* metadata.<key> of an object, if it is a string. */
static const char *meta_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

static int64_t lw_fire(struct loop *loop, int64_t id, void *arg)
{
	struct kube_mgr *m = arg;

	(void)loop;
	(void)id;
	m->lw_timer = 0;
	if (m->need_list || !m->rv)
		list_start(m);
	else
		watch_start(m);
	return LOOP_TIMER_STOP;
}

static int64_t lw_retry(struct kube_mgr *m, bool relist)
{
	int64_t ms = backoff_next(&m->lw_backoff_ms, WATCH_BACKOFF_MIN_MS, WATCH_BACKOFF_MAX_MS);

	m->need_list = m->need_list || relist;
	m->stats.watch_healthy = false;
	timer_set(m, &m->lw_timer, ms, lw_fire, m);
	return ms;
}

static void list_page_done(void *arg, int err, long status, const char *body, size_t len,
			   const char *errmsg)
{
	struct kube_mgr *m = arg;
	struct batch b = { 0 };
	const json_t *items, *meta, *it;
	json_t *root = NULL;
	char why[400];
	size_t i;

	m->list_req = NULL;
	if (err < 0 || status != 200) {
		/* Start over: a continue token may have expired meanwhile. */
		free(m->list_continue);
		m->list_continue = NULL;
	}
	if (err == -E2BIG && m->list_page > LIST_PAGE_MIN) {
		m->list_page /= 2;
		log_warnx("a page of %zu nodes exceeds %u MiB; listing %zu at a time", m->list_page * 2,
			  LIST_MAX_BODY >> 20, m->list_page);
		m->need_list = true;
		timer_set(m, &m->lw_timer, 0, lw_fire, m);
		return;
	}
	if (err < 0 || status != 200) {
		kube_client_note_error(m->client);
		describe(err, status, body, len, errmsg, why, sizeof(why));
		if (status == 410)
			log_info("listing nodes: the continue token expired; listing again");
		log_warnx("listing nodes: %s; retrying in %lldms", why,
			  (long long)lw_retry(m, true));
		return;
	}
	root = json_loadb(body, len, 0, NULL);
	items = json_object_get(root, "items");
	meta = json_object_get(root, "metadata");
	if (!json_is_array(items) || !json_is_object(meta) ||
	    !json_is_string(json_object_get(meta, "resourceVersion"))) {
		json_decref(root);
		free(m->list_continue);
		m->list_continue = NULL;
		kube_client_note_error(m->client);
		log_warnx("listing nodes: the answer is not a NodeList; retrying in %lldms",
			  (long long)lw_retry(m, true));
		return;
	}
	if (!m->list_rv)
		m->list_rv = xstrdup(json_string_value(json_object_get(meta, "resourceVersion")));
	json_array_foreach(items, i, it) {
		struct kube_node kn;
		struct err e = { 0 };

		m->list_items++;
		if (kube_node_from_json(it, &m->an, &kn, &e) < 0) {
			node_refused(m, meta_str(it, "name"), e.msg, &b);
			continue;
		}
		node_upsert(m, &kn, &b);
	}
	free(m->list_continue);
	m->list_continue = NULL;
	{
		const char *c = json_string_value(json_object_get(meta, "continue"));

		if (c && *c)
			m->list_continue = xstrdup(c);
	}
	json_decref(root);
	m->list_changes += b.n;
	batch_flush(m, &b);
	if (m->list_continue) {
		list_start(m);
		return;
	}
	/* Complete: whatever we knew and the list no longer has is gone. */
	{
		struct hmap_node *n, *next;
		size_t iter;

		for (n = hmap_first(&m->nodes, &iter); n; n = next) {
			struct kpeer *p = hmap_entry(n, struct kpeer, node);

			next = hmap_next(&m->nodes, n, &iter);
			if (p->seen_gen != m->list_gen)
				peer_remove(m, p, &b);
		}
		m->list_changes += b.n;
		batch_flush(m, &b);
		if (m->have_own && m->own_seen_gen != m->list_gen)
			node_deleted(m, m->node_name, &b);
	}
	free(m->rv);
	m->rv = m->list_rv;
	m->list_rv = NULL;
	m->need_list = false;
	m->lw_backoff_ms = 0;
	m->watch_fails = 0;
	m->stats.watch_healthy = true;
	if (m->synced)
		log_info("re-listed %zu nodes at resourceVersion %s: %zu peers, %zu changes",
			 m->list_items, m->rv, m->nodes.count, m->list_changes);
	else
		log_info("listed %zu nodes at resourceVersion %s: %zu peers", m->list_items, m->rv,
			 m->nodes.count);
	m->synced = true;
	if (m->wait_sync) {
		m->wait_sync = false;
		acquire_complete(m);
	}
	watch_start(m);
}

static void list_start(struct kube_mgr *m)
{
	struct kube_req_opts o = { .timeout_ms = 5 * UNARY_TIMEOUT_MS, .max_body = LIST_MAX_BODY };
	char *path, *cont = NULL;

	if (m->watch_req) {
		http_cancel(m->watch_req);
		m->watch_req = NULL;
	}
	if (!m->list_continue) {
		/* A new list: a new generation, a fresh snapshot. */
		m->list_gen++;
		m->list_items = m->list_changes = 0;
		free(m->list_rv);
		m->list_rv = NULL;
	} else {
		cont = url_escape(m->list_continue);
	}
	xasprintf(&path, "/api/v1/nodes?limit=%zu%s%s", m->list_page, cont ? "&continue=" : "",
		  cont ? cont : "");
	o.path = path;
	if (kube_request(m->client, &o, list_page_done, NULL, m, &m->list_req) < 0) {
		m->list_req = NULL;
		free(m->list_continue);
		m->list_continue = NULL;
		lw_retry(m, true);
	}
	free(path);
	free(cont);
}

static void set_rv(struct kube_mgr *m, const json_t *obj)
{
	const char *rv = meta_str(obj, "resourceVersion");

	if (rv && *rv && (!m->rv || strcmp(rv, m->rv))) {
		free(m->rv);
		m->rv = xstrdup(rv);
	}
}

static void watch_done(void *arg, int err, long status, const char *body, size_t len,
		       const char *errmsg);

static void watch_line(void *arg, const char *line, size_t len)
{
	struct kube_mgr *m = arg;
	struct batch b = { 0 };
	json_t *ev = json_loadb(line, len, 0, NULL);
	const char *type = json_string_value(json_object_get(ev, "type"));
	const json_t *obj = json_object_get(ev, "object");

	if (!type || !json_is_object(obj)) {
		/* An error body (a Status) answered instead of a stream. */
		m->watch_err_code = kube_status_describe(line, len, m->watch_err_msg,
							 sizeof(m->watch_err_msg));
		goto out;
	}
	m->watch_got_line = true;
	if (!strcmp(type, "ERROR")) {
		char *s = json_dumps(obj, JSON_COMPACT);

		m->watch_err_code = kube_status_describe(s ? s : "", s ? strlen(s) : 0,
							 m->watch_err_msg, sizeof(m->watch_err_msg));
		if (!m->watch_err_code)
			m->watch_err_code = -1;
		free(s);
		/* The server ends the stream after an ERROR; do not wait for it. */
		json_decref(ev);
		http_cancel(m->watch_req);
		m->watch_req = NULL;
		watch_done(m, 0, 200, "", 0, NULL);
		return;
	}
	m->stats.watch_healthy = true;
	m->lw_backoff_ms = 0;
	m->watch_fails = 0;
	if (!strcmp(type, "BOOKMARK")) {
		set_rv(m, obj);
		goto out;
	}
	if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED") || !strcmp(type, "DELETED")) {
		struct kube_node kn;
		struct err e = { 0 };

		set_rv(m, obj);
		if (kube_node_from_json(obj, &m->an, &kn, &e) < 0) {
			const char *nm = meta_str(obj, "name");

			if (nm && !strcmp(type, "DELETED"))
				node_deleted(m, nm, &b);
			else
				node_refused(m, nm, e.msg, &b);
			goto out;
		}
		if (!strcmp(type, "DELETED")) {
			node_deleted(m, kn.name, &b);
			kube_node_free(&kn);
		} else {
			node_upsert(m, &kn, &b);
		}
		goto out;
	}
	log_debug("kube: ignoring a watch event of type %s", type);
out:
	json_decref(ev);
	batch_flush(m, &b);
}

static void watch_done(void *arg, int err, long status, const char *body, size_t len,
		       const char *errmsg)
{
	struct kube_mgr *m = arg;
	bool quick = loop_now_ms() - m->watch_started_ms < 1000 && !m->watch_got_line;
	char why[400];

	m->watch_req = NULL;
	if (len && !m->watch_err_code)
		m->watch_err_code = kube_status_describe(body, len, m->watch_err_msg,
							 sizeof(m->watch_err_msg));
	if (err == 0 && (status == 410 || m->watch_err_code == 410)) {
		m->stats.relists++;
		m->stats.watch_healthy = false;
		log_info("node watch: resourceVersion %s is too old (410 Gone%s%s); re-listing nodes",
			 m->rv, m->watch_err_msg[0] ? ": " : "", m->watch_err_msg);
		m->need_list = true;
		m->lw_backoff_ms = 0;
		list_start(m);
		return;
	}
	m->stats.watch_restarts++;
	if (err == 0 && status == 200 && !m->watch_err_code && !quick) {
		/* The server ended it (timeoutSeconds): carry on where we were. */
		log_info("node watch ended; resuming from resourceVersion %s", m->rv);
		m->watch_fails = 0;
		watch_start(m);
		return;
	}
	kube_client_note_error(m->client);
	if (err < 0)
		describe(err, status, body, len, errmsg, why, sizeof(why));
	else if (m->watch_err_code)
		snprintf(why, sizeof(why), "HTTP %ld, Status %ld (%s)", status, m->watch_err_code,
			 m->watch_err_msg);
	else
		snprintf(why, sizeof(why), "HTTP %ld%s", status,
			 quick ? ", closed at once" : "");
	if (++m->watch_fails >= WATCH_FAILS_BEFORE_RELIST) {
		m->stats.relists++;
		log_warnx("node watch interrupted: %s; %d failures in a row, re-listing in %lldms",
			  why, m->watch_fails, (long long)lw_retry(m, true));
		return;
	}
	log_warnx("node watch interrupted: %s; resuming from resourceVersion %s in %lldms", why,
		  m->rv, (long long)lw_retry(m, false));
}

static void watch_start(struct kube_mgr *m)
{
	struct kube_req_opts o = { .stream = true, .max_body = WATCH_MAX_LINE };
	uint32_t r = 0;
	long secs;
	char *path, *rv;

	if (m->watch_req || m->list_req)
		return;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)rand();
	/* As client-go: a server-side timeout between 5 and 10 minutes, and a
	 * client-side one a bit later for a connection that died silently. */
	secs = WATCH_TIMEOUT_MIN_S + (long)(r % WATCH_TIMEOUT_MIN_S);
	o.timeout_ms = (secs + 60) * 1000;
	rv = url_escape(m->rv);
	xasprintf(&path,
		  "/api/v1/nodes?watch=1&resourceVersion=%s&allowWatchBookmarks=true"
		  "&timeoutSeconds=%ld",
		  rv, secs);
	o.path = path;
	m->watch_err_code = 0;
	m->watch_err_msg[0] = '\0';
	m->watch_got_line = false;
	m->watch_started_ms = loop_now_ms();
	if (kube_request(m->client, &o, watch_done, watch_line, m, &m->watch_req) < 0) {
		m->watch_req = NULL;
		lw_retry(m, false);
	}
	free(rv);
	free(path);
}

/* ---- start-up: config, node name, our node ---- */

static void start_step(struct kube_mgr *m);

static int64_t start_fire(struct loop *loop, int64_t id, void *arg)
{
	struct kube_mgr *m = arg;

	(void)loop;
	(void)id;
	m->start_timer = 0;
	start_step(m);
	return LOOP_TIMER_STOP;
}

static void start_retry(struct kube_mgr *m, const char *why)
{
	int64_t ms = backoff_next(&m->start_backoff_ms, RETRY_MIN_MS, RETRY_MAX_MS);

	log_warnx("%s; retrying in %lldms", why, (long long)ms);
	timer_set(m, &m->start_timer, ms, start_fire, m);
}

static int read_netconf(struct kube_mgr *m, struct err *err)
{
	char *buf = xmalloc(NETCONF_MAX_SIZE + 1);
	size_t len = 0;
	int fd, rc;

	fd = open(m->net_config_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = err_set(err, -errno, "cannot read the net-conf file %s: %s",
			     m->net_config_path, strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, NETCONF_MAX_SIZE + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_set(err, -errno, "cannot read the net-conf file %s: %s",
				     m->net_config_path, strerror(errno));
			close(fd);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > NETCONF_MAX_SIZE)
			break;
	}
	close(fd);
	rc = netconf_parse(buf, len, &m->nc, err);
	if (rc < 0) {
		err_prefix(err, rc, "net-conf file %s", m->net_config_path);
		goto out;
	}
	if (!m->nc.enable_ipv4 && !m->nc.enable_ipv6)
		rc = err_set(err, -EINVAL, "net-conf file %s: none defined stack (EnableIPv4 and "
			     "EnableIPv6 are both false)", m->net_config_path);
	else if (m->nc.enable_ipv4 && m->nc.network.addr.family != AF_INET)
		rc = err_set(err, -EINVAL, "net-conf file %s: IPv4 is enabled but Network is not "
			     "set", m->net_config_path);
	else if (m->nc.enable_ipv6 && m->nc.ipv6_network.addr.family != AF_INET6)
		rc = err_set(err, -EINVAL, "net-conf file %s: IPv6 is enabled but IPv6Network is "
			     "not set", m->net_config_path);
	if (rc < 0)
		netconf_free(&m->nc);
out:
	free(buf);
	return rc;
}

static void pod_done(void *arg, int err, long status, const char *body, size_t len,
		     const char *errmsg)
{
	struct kube_mgr *m = arg;
	char why[512];
	json_t *o;
	const char *nn;

	m->start_req = NULL;
	if (err < 0 || status != 200) {
		char d[400];

		kube_client_note_error(m->client);
		describe(err, status, body, len, errmsg, d, sizeof(d));
		snprintf(why, sizeof(why), "cannot get pod %s/%s to learn our node name: %s%s",
			 m->pod_ns, m->pod_name, d, status == 404 ? " (check POD_NAME and "
			 "POD_NAMESPACE)" : "");
		start_retry(m, why);
		return;
	}
	o = json_loadb(body, len, 0, NULL);
	nn = json_string_value(json_object_get(json_object_get(o, "spec"), "nodeName"));
	if (!nn || !*nn) {
		json_decref(o);
		snprintf(why, sizeof(why), "pod %s/%s has no spec.nodeName", m->pod_ns,
			 m->pod_name);
		start_retry(m, why);
		return;
	}
	m->node_name = xstrdup(nn);
	json_decref(o);
	log_info("pod %s/%s runs on node %s", m->pod_ns, m->pod_name, m->node_name);
	m->start_backoff_ms = 0;
	start_step(m);
}

static void node_done(void *arg, int err, long status, const char *body, size_t len,
		      const char *errmsg)
{
	struct kube_mgr *m = arg;
	struct kube_node kn;
	struct err e = { 0 };
	char why[512], d[400];
	json_t *o;
	int rc;

	m->start_req = NULL;
	if (err < 0 || status != 200) {
		kube_client_note_error(m->client);
		describe(err, status, body, len, errmsg, d, sizeof(d));
		snprintf(why, sizeof(why), "cannot get node %s: %s%s", m->node_name, d,
			 status == 404 ? " (check NODE_NAME)" : "");
		start_retry(m, why);
		return;
	}
	o = json_loadb(body, len, 0, NULL);
	rc = kube_node_from_json(o, &m->an, &kn, &e);
	json_decref(o);
	if (rc < 0) {
		snprintf(why, sizeof(why), "node %s: %s", m->node_name, e.msg);
		start_retry(m, why);
		return;
	}
	m->start_backoff_ms = 0;
	own_node_seen(m, &kn);
	/* The informer: runs from now on, whatever the agent does. */
	list_start(m);
	m->configured = true;
	if (m->base.cbs.config)
		m->base.cbs.config(m->base.cbs.arg, &m->nc);
}

static void start_step(struct kube_mgr *m)
{
	struct err err = { 0 };
	char *path;

	if (!m->have_config) {
		if (read_netconf(m, &err) < 0) {
			start_retry(m, err.msg);
			return;
		}
		m->have_config = true;
		m->start_backoff_ms = 0;
	}
	if (!m->node_name) {
		xasprintf(&path, "/api/v1/namespaces/%s/pods/%s", m->pod_ns, m->pod_name);
		unary_get(m, path, pod_done, &m->start_req);
		free(path);
		return;
	}
	xasprintf(&path, "/api/v1/nodes/%s", m->node_name);
	unary_get(m, path, node_done, &m->start_req);
	free(path);
}

static int mgr_start(struct subnet_mgr *base)
{
	struct kube_mgr *m = to_mgr(base);

	log_info("kube subnet manager: API server %s; annotation prefix %s", m->source,
		 m->an.prefix);
	start_step(m);
	return 0;
}

/* ---- acquire ---- */

static void acquire_step(struct kube_mgr *m);

static void own_get_done(void *arg, int err, long status, const char *body, size_t len,
			 const char *errmsg);

static int64_t acquire_fire(struct loop *loop, int64_t id, void *arg)
{
	struct kube_mgr *m = arg;
	char *path;

	(void)loop;
	(void)id;
	m->acq_timer = 0;
	if (!m->acq_refetch) {
		acquire_step(m);
		return LOOP_TIMER_STOP;
	}
	/* Our node as it is now (the watch may not have shown it yet). */
	m->acq_refetch = false;
	xasprintf(&path, "/api/v1/nodes/%s", m->node_name);
	unary_get(m, path, own_get_done, &m->acq_req);
	free(path);
	return LOOP_TIMER_STOP;
}

/* Logged when the reason changes, and at every retry once the backoff is at
 * its maximum (every 30 s). refetch: GET our node before the next attempt. */
static void acquire_retry(struct kube_mgr *m, const char *why, bool refetch)
{
	int64_t ms = backoff_next(&m->acq_backoff_ms, RETRY_MIN_MS * 3, RETRY_MAX_MS);

	if (strcmp(why, m->last_acq_err) || ms >= RETRY_MAX_MS * 8 / 10)
		log_error("cannot take our subnet: %s; retrying in %lldms", why, (long long)ms);
	snprintf(m->last_acq_err, sizeof(m->last_acq_err), "%s", why);
	m->acq_refetch = refetch;
	timer_set(m, &m->acq_timer, ms, acquire_fire, m);
}

/*
 * The answer to our GET or PATCH of our node: 0 with the node it shows taken,
 * or -EAGAIN with the failure ("<what> <node>: <why>") logged and the next
 * attempt scheduled (refetch: see acquire_retry).
 */
static int own_answer(struct kube_mgr *m, const char *what, bool refetch, int err, long status,
		      const char *body, size_t len, const char *errmsg)
{
	struct kube_node kn;
	char why[512];
	json_t *o;

	m->acq_req = NULL;
	if (err < 0 || status != 200) {
		char d[400];

		kube_client_note_error(m->client);
		describe(err, status, body, len, errmsg, d, sizeof(d));
		snprintf(why, sizeof(why), "%s %s: %s", what, m->node_name, d);
		acquire_retry(m, why, refetch);
		return -EAGAIN;
	}
	o = json_loadb(body, len, 0, NULL);
	if (kube_node_from_json(o, &m->an, &kn, NULL) == 0)
		own_node_seen(m, &kn);
	json_decref(o);
	return 0;
}

static void own_get_done(void *arg, int err, long status, const char *body, size_t len,
			 const char *errmsg)
{
	struct kube_mgr *m = arg;

	if (own_answer(m, "cannot get node", true, err, status, body, len, errmsg) == 0)
		acquire_step(m);
}

static void own_patch_done(void *arg, int err, long status, const char *body, size_t len,
			   const char *errmsg)
{
	struct kube_mgr *m = arg;

	if (own_answer(m, "patching the annotations of node", status == 404, err, status, body,
		       len, errmsg) < 0)
		return;
	log_info("annotated node %s with our lease (%s)", m->node_name, m->an.prefix);
	m->patched = true;
	acquire_step(m);
}

/* Our subnet(s) from the node, checked against the config. */
static int own_subnet(struct kube_mgr *m, struct subnet_key *ret, struct err *err)
{
	struct ip_prefix v4, v6;
	bool h4, h6;
	char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];
	int rc;

	memset(ret, 0, sizeof(*ret));
	rc = kube_node_cidrs(&m->own_node, &v4, &h4, &v6, &h6, err);
	if (rc < 0)
		return rc;
	if (m->nc.enable_ipv4) {
		if (!h4)
			return err_set(err, -EINVAL, "node \"%s\" has no IPv4 podCIDR",
				       m->node_name);
		if (!ip_prefix_contains_prefix(&m->nc.network, &v4))
			return err_set(err, -EINVAL, "subnet \"%s\" specified in the flannel net "
				       "config doesn't contain \"%s\" PodCIDR of the \"%s\" node",
				       ip_prefix_format(&m->nc.network, a),
				       ip_prefix_format(&v4, b), m->node_name);
		ret->v4 = v4;
	} else {
		ip_prefix_parse("0.0.0.0/0", &ret->v4);
	}
	if (m->nc.enable_ipv6) {
		if (!h6)
			return err_set(err, -EINVAL, "node \"%s\" has no IPv6 podCIDR",
				       m->node_name);
		if (!ip_prefix_contains_prefix(&m->nc.ipv6_network, &v6))
			return err_set(err, -EINVAL, "subnet \"%s\" specified in the flannel net "
				       "config doesn't contain \"%s\" IPv6 PodCIDR of the \"%s\" "
				       "node", ip_prefix_format(&m->nc.ipv6_network, a),
				       ip_prefix_format(&v6, b), m->node_name);
		ret->v6 = v6;
		ret->has_v6 = true;
	}
	rc = subnet_key_format(ret, a, sizeof(a));
	if (rc < 0)
		return err_set(err, -EINVAL, "node \"%s\": podCIDR cannot be a lease (%s)",
			       m->node_name, rc == -ERANGE ? "prefix too long" : "not a network");
	return 0;
}

static void acquire_step(struct kube_mgr *m)
{
	struct kube_req_opts o = { .timeout_ms = UNARY_TIMEOUT_MS };
	struct subnet_key k;
	struct err err = { 0 }, warn = { 0 };
	char *body = NULL, *path;

	if (!m->acquiring || m->acq_req)
		return;
	if (!m->have_own_node || own_subnet(m, &k, &err) < 0) {
		/* Perhaps not assigned yet (the node controller may be late): ask again. */
		acquire_retry(m, m->have_own_node ? err.msg : "our node is unknown", true);
		return;
	}
	if (kube_own_patch(&m->an, &m->own_node, &m->want, k.has_v6, &body, NULL, NULL, &warn) > 0)
		log_warnx("node %s: %s", m->node_name, warn.msg);
	if (body) {
		xasprintf(&path, "/api/v1/nodes/%s/status", m->node_name);
		o.path = path;
		o.method = "PATCH";
		o.body = body;
		o.content_type = "application/strategic-merge-patch+json";
		if (kube_request(m->client, &o, own_patch_done, NULL, m, &m->acq_req) < 0) {
			m->acq_req = NULL;
			acquire_retry(m, "cannot start the PATCH request", false);
		}
		free(path);
		free(body);
		return;
	}
	m->last_acq_err[0] = '\0';
	if (!m->synced) {
		log_info("waiting for the first list of nodes before reporting our lease");
		m->wait_sync = true;
		return;
	}
	acquire_complete(m);
}

static void acquire_complete(struct kube_mgr *m)
{
	struct err err = { 0 };
	struct ip_addr pub4, pub6;
	char *body = NULL;

	if (own_subnet(m, &m->own.subnet, &err) < 0) {
		/* The node changed meanwhile: start over. */
		acquire_retry(m, err.msg, true);
		return;
	}
	kube_own_patch(&m->an, &m->own_node, &m->want, m->own.subnet.has_v6, &body, &pub4, &pub6,
		       NULL);
	free(body);
	m->acquiring = false;
	lease_attrs_free(&m->own.attrs);
	m->own.attrs = m->want;
	m->own.attrs.backend_data = m->want.backend_data ? xstrdup(m->want.backend_data) : NULL;
	m->own.attrs.backend_v6_data =
		m->want.backend_v6_data ? xstrdup(m->want.backend_v6_data) : NULL;
	m->own.attrs.public_ip = pub4;
	m->own.attrs.public_ipv6 = pub6;
	subnet_key_format(&m->own.subnet, m->own.name, sizeof(m->own.name));
	m->own.node.key = m->own.name;
	m->own.expiration = 0; /* kube leases live as long as the node */
	m->have_own = true;
	log_info("acquired lease %s from the podCIDR of node %s", m->own.name, m->node_name);
	/* A peer claiming (part of) our subnet is dropped now that we know it. */
	{
		struct hmap_node *hn, *next;
		struct batch b = { 0 };
		size_t iter;

		for (hn = hmap_first(&m->nodes, &iter); hn; hn = next) {
			struct kpeer *p = hmap_entry(hn, struct kpeer, node);

			next = hmap_next(&m->nodes, hn, &iter);
			if (!strcmp(p->lease.name, m->own.name))
				snprintf(err.msg, sizeof(err.msg), "its subnet %s is ours",
					 p->lease.name);
			else if (peer_subnet_check(&m->nc, &m->own.subnet, &p->lease.subnet,
						   &err) == 0)
				continue;
			note_bad(m, p->name, err.msg);
			peer_remove(m, p, &b);
		}
		batch_flush(m, &b);
	}
	if (m->base.cbs.acquired)
		m->base.cbs.acquired(m->base.cbs.arg, 0, &m->own);
}

static int mgr_acquire(struct subnet_mgr *base, const struct lease_attrs *attrs)
{
	struct kube_mgr *m = to_mgr(base);

	if (!m->configured || m->acquiring || m->have_own)
		return -EINVAL;
	lease_attrs_free(&m->want);
	m->want = *attrs;
	m->want.backend_data = attrs->backend_data ? xstrdup(attrs->backend_data) : NULL;
	m->want.backend_v6_data = attrs->backend_v6_data ? xstrdup(attrs->backend_v6_data) : NULL;
	m->acquiring = true;
	acquire_step(m);
	return 0;
}

/* ---- watch: report peers, then say the network is up ---- */

static char *cond_body(struct kube_mgr *m)
{
	(void)m;
	return kube_condition_patch(time(NULL));
}

static void cond_done(struct kube_mgr *m, const char *why, int64_t retry_ms)
{
	if (!why)
		log_info("node %s: condition NetworkUnavailable=False (FlannelIsUp) set",
			 m->node_name);
	else
		log_warnx("setting NetworkUnavailable=False on node %s: %s; retrying in %lldms",
			  m->node_name, why, (long long)retry_ms);
}

static int mgr_watch(struct subnet_mgr *base)
{
	struct kube_mgr *m = to_mgr(base);
	struct batch b = { 0 };
	struct hmap_node *n;
	size_t iter;

	if (!m->have_own || m->emitting)
		return -EINVAL;
	m->emitting = true;
	for (n = hmap_first(&m->nodes, &iter); n; n = hmap_next(&m->nodes, n, &iter))
		batch_add(&b, LEASE_ADDED, &hmap_entry(n, struct kpeer, node)->lease);
	batch_flush(m, &b);
	if (m->set_nnu)
		status_patch_start(&m->cond);
	return 0;
}

/* ---- the rest of the ops ---- */

static size_t mgr_peer_count(const struct subnet_mgr *base)
{
	return ((const struct kube_mgr *)base)->nodes.count;
}

static void mgr_peers_foreach(const struct subnet_mgr *base,
			      void (*fn)(void *arg, const struct lease *l), void *arg)
{
	const struct kube_mgr *m = (const struct kube_mgr *)base;
	const struct hmap_node *n;
	size_t iter;

	for (n = hmap_first(&m->nodes, &iter); n; n = hmap_next(&m->nodes, n, &iter))
		fn(arg, &hmap_entry(n, const struct kpeer, node)->lease);
}

static void mgr_stats(const struct subnet_mgr *base, struct subnet_mgr_stats *ret)
{
	const struct kube_mgr *m = (const struct kube_mgr *)base;
	const struct kube_client_stats *cs = kube_client_stats(m->client);

	*ret = m->stats;
	ret->store_requests = cs->requests;
	ret->store_errors = cs->errors;
	ret->lease_expiration = 0;
	ret->watch_healthy = m->stats.watch_healthy && (m->watch_req || m->list_req);
}

/* What our Node says about ourselves: the node-public-ip(v6) annotations and
 * the backend type and data our previous run published on it. */
static void mgr_node_hints(const struct subnet_mgr *base, struct subnet_node_hints *ret)
{
	const struct kube_mgr *m = (const struct kube_mgr *)base;
	const char *v;

	memset(ret, 0, sizeof(*ret));
	if (!m->have_own_node)
		return;
	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;
		struct ip_addr *a = f ? &ret->public_ipv6 : &ret->public_ip;
		int rc = kube_node_public_ip_hint(&m->own_node, family, a);

		v = m->own_node.annot[f ? KA_NODE_PUBLIC_IPV6 : KA_NODE_PUBLIC_IP];
		if (rc == 0)
			log_info("node %s: using %s=%s as the public address", m->node_name,
				 m->an.name[f ? KA_NODE_PUBLIC_IPV6 : KA_NODE_PUBLIC_IP], v);
		else if (rc == -EINVAL)
			log_warnx("node %s: %s=\"%s\" is not an IPv%c address, ignoring it",
				  m->node_name, m->an.name[f ? KA_NODE_PUBLIC_IPV6 : KA_NODE_PUBLIC_IP],
				  v, f ? '6' : '4');
		if (rc < 0)
			memset(a, 0, sizeof(*a));
	}
	kube_node_prev_attrs(&m->own_node, &ret->prev);
}

static void mgr_free(struct subnet_mgr *base)
{
	struct kube_mgr *m = to_mgr(base);

	if (!m)
		return;
	kube_client_free(m->client); /* cancels every request, no callbacks */
	timer_clear(m, &m->start_timer);
	timer_clear(m, &m->acq_timer);
	timer_clear(m, &m->repatch.timer);
	timer_clear(m, &m->cond.timer);
	timer_clear(m, &m->lw_timer);
	/* leases indexes the same kpeers by lease name: freed through nodes. */
	hmap_destroy(&m->leases);
	hmap_clear(&m->nodes, kpeer_free_node);
	hmap_clear(&m->bad, kbad_free);
	kube_node_free(&m->own_node);
	lease_attrs_free(&m->want);
	lease_attrs_free(&m->own.attrs);
	netconf_free(&m->nc);
	free(m->rv);
	free(m->list_rv);
	free(m->list_continue);
	free(m->source);
	free(m->net_config_path);
	free(m->pod_ns);
	free(m->pod_name);
	free(m->node_name);
	free(m);
}

static const struct subnet_mgr_ops kube_mgr_ops = {
	.name = "kube",
	.start = mgr_start,
	.acquire = mgr_acquire,
	.watch = mgr_watch,
	.peer_count = mgr_peer_count,
	.peers_foreach = mgr_peers_foreach,
	.stats = mgr_stats,
	.node_hints = mgr_node_hints,
	.free = mgr_free,
};

int kube_mgr_new(const struct kube_mgr_params *p, const struct subnet_mgr_cbs *cbs,
		 struct subnet_mgr **ret, struct err *err)
{
	struct kube_mgr *m = xcalloc(1, sizeof(*m));
	struct kubeconfig kc = { 0 };
	const char *node = getenv("NODE_NAME");
	int rc;

	m->base.ops = &kube_mgr_ops;
	m->base.cbs = *cbs;
	m->loop = p->loop;
	m->set_nnu = p->set_node_network_unavailable;
	m->list_page = LIST_PAGE;
	m->repatch = (struct status_patch){ .m = m, .body = repatch_body, .done = repatch_done };
	m->cond = (struct status_patch){ .m = m, .body = cond_body, .done = cond_done };
	hmap_init(&m->nodes);
	hmap_init(&m->leases);
	hmap_init(&m->bad);
	rc = kube_annots_init(&m->an, p->annotation_prefix, err);
	if (rc < 0)
		goto fail;
	if (!p->net_config_path || !*p->net_config_path) {
		rc = err_set(err, -EINVAL, "--net-config-path is empty");
		goto fail;
	}
	m->net_config_path = xstrdup(p->net_config_path);
	if (node && *node) {
		m->node_name = xstrdup(node);
	} else {
		const char *pn = getenv("POD_NAME"), *ns = getenv("POD_NAMESPACE");

		if (!pn || !*pn || !ns || !*ns) {
			rc = err_set(err, -EINVAL, "NODE_NAME is not set, so env variables POD_NAME "
				     "and POD_NAMESPACE must be set");
			goto fail;
		}
		m->pod_name = xstrdup(pn);
		m->pod_ns = xstrdup(ns);
	}
	rc = kubeconfig_resolve(p->kubeconfig, p->api_url, NULL, &kc, err);
	if (rc < 0)
		goto fail;
	rc = kube_client_new(p->loop, &kc, &m->client, err);
	if (rc < 0)
		goto fail;
	xasprintf(&m->source, "%s, %s%s%s%s", kc.server, kc.source,
		  kc.cert_data || kc.cert_file ? ", client certificate" : "",
		  kc.token || kc.token_file ? ", bearer token" : "",
		  kc.insecure ? ", TLS NOT VERIFIED" : "");
	kubeconfig_free(&kc);
	*ret = &m->base;
	return 0;
fail:
	kubeconfig_free(&kc);
	mgr_free(&m->base);
	return rc;
}
