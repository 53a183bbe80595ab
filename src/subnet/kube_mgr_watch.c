// SPDX-License-Identifier: Apache-2.0
/*
 * The list + watch of all Nodes, as flannel's informer: a list in pages (a
 * smaller page when one is too large), then a watch from its resourceVersion
 * with bookmarks, resumed where it was after an interruption; a 410 Gone or
 * repeated failures re-list, and what the new list no longer has is gone.
 * The nodes themselves go to kube_mgr_peers.c.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "kube/client.h"
#include "subnet/kube_mgr_int.h"

#define WATCH_BACKOFF_MIN_MS 200
#define WATCH_BACKOFF_MAX_MS 10000
#define LIST_PAGE_MIN 10
#define LIST_MAX_BODY (64u << 20)
#define WATCH_MAX_LINE (16u << 20)
#define WATCH_TIMEOUT_MIN_S 300
#define WATCH_FAILS_BEFORE_RELIST 3

static void watch_start(struct kube_mgr *m);

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
		kube_mgr_list_start(m);
	else
		watch_start(m);
	return LOOP_TIMER_STOP;
}

static int64_t lw_retry(struct kube_mgr *m, bool relist)
{
	int64_t ms = kube_mgr_backoff_next(&m->lw_backoff_ms, WATCH_BACKOFF_MIN_MS,
					   WATCH_BACKOFF_MAX_MS);

	m->need_list = m->need_list || relist;
	m->stats.watch_healthy = false;
	loop_timer_set(m->loop, &m->lw_timer, ms, lw_fire, m);
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
		loop_timer_set(m->loop, &m->lw_timer, 0, lw_fire, m);
		return;
	}
	if (err < 0 || status != 200) {
		kube_client_note_error(m->client);
		kube_mgr_describe(err, status, body, len, errmsg, why, sizeof(why));
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
			kube_mgr_node_refused(m, meta_str(it, "name"), e.msg, &b);
			continue;
		}
		kube_mgr_node_upsert(m, &kn, &b);
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
	kube_mgr_batch_flush(m, &b);
	if (m->list_continue) {
		kube_mgr_list_start(m);
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
				kube_mgr_peer_remove(m, p, &b);
		}
		m->list_changes += b.n;
		kube_mgr_batch_flush(m, &b);
		if (m->have_own && m->own_seen_gen != m->list_gen)
			kube_mgr_node_deleted(m, m->node_name, &b);
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
	loop_timer_clear(m->loop, &m->sync_timer);
	if (m->wait_sync) {
		m->wait_sync = false;
		kube_mgr_acquire_complete(m);
	}
	watch_start(m);
}

void kube_mgr_list_start(struct kube_mgr *m)
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
				kube_mgr_node_deleted(m, nm, &b);
			else
				kube_mgr_node_refused(m, nm, e.msg, &b);
			goto out;
		}
		if (!strcmp(type, "DELETED")) {
			kube_mgr_node_deleted(m, kn.name, &b);
			kube_node_free(&kn);
		} else {
			kube_mgr_node_upsert(m, &kn, &b);
		}
		goto out;
	}
	log_debug("kube: ignoring a watch event of type %s", type);
out:
	json_decref(ev);
	kube_mgr_batch_flush(m, &b);
}

static void watch_done(void *arg, int err, long status, const char *body, size_t len,
		       const char *errmsg)
{
	struct kube_mgr *m = arg;
	bool quick = clock_now_ms() - m->watch_started_ms < 1000 && !m->watch_got_line;
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
		kube_mgr_list_start(m);
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
		kube_mgr_describe(err, status, body, len, errmsg, why, sizeof(why));
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
	m->watch_started_ms = clock_now_ms();
	if (kube_request(m->client, &o, watch_done, watch_line, m, &m->watch_req) < 0) {
		m->watch_req = NULL;
		lw_retry(m, false);
	}
	free(rv);
	free(path);
}

void kube_mgr_watch_resume(struct subnet_mgr *base)
{
	struct kube_mgr *m = container_of(base, struct kube_mgr, base);

	/* Not watching, or between attempts (a retry timer or a list under way
	 * brings a new stream anyway). */
	if (!m->watch_req)
		return;
	http_cancel(m->watch_req);
	m->watch_req = NULL;
	m->stats.watch_restarts++;
	log_info("resuming the node watch from resourceVersion %s on a new connection", m->rv);
	watch_start(m);
}

/* flanneld's wait for its informer, with its messages: exit 1, or go on. */
static int64_t sync_timeout(struct loop *loop, int64_t id, void *arg)
{
	struct kube_mgr *m = arg;

	(void)loop;
	(void)id;
	m->sync_timer = 0;
	if (m->synced || m->have_own)
		return LOOP_TIMER_STOP;
	if (!m->cont_unsynced) {
		log_error("Failed to create SubnetManager: error waiting for nodeController to "
			  "sync state: context deadline exceeded (the first list of nodes did not "
			  "complete within %llds; CONT_WHEN_CACHE_NOT_READY=true goes on without it)",
			  (long long)(m->sync_timeout_ms / 1000));
		if (m->base.cbs.acquired)
			m->base.cbs.acquired(m->base.cbs.arg, -ETIMEDOUT, NULL);
		return LOOP_TIMER_STOP;
	}
	log_error("Timed out waiting for node controller sync. Continuing anyway.");
	m->sync_gave_up = true;
	if (m->wait_sync) {
		m->wait_sync = false;
		kube_mgr_acquire_complete(m);
	}
	return LOOP_TIMER_STOP;
}

void kube_mgr_informer_start(struct kube_mgr *m)
{
	/* flanneld turns its informer off for alloc: someone else (a cloud
	 * controller) programs routes, and nothing needs the other nodes. */
	if (m->nc.backend_type && !strcmp(m->nc.backend_type, "alloc")) {
		log_info("Node controller skips sync: the alloc backend needs no other nodes");
		m->informer_off = true;
		m->synced = true;
		return;
	}
	log_info("waiting %llds for the first list of nodes", (long long)(m->sync_timeout_ms / 1000));
	loop_timer_set(m->loop, &m->sync_timer, m->sync_timeout_ms, sync_timeout, m);
	kube_mgr_list_start(m);
}
