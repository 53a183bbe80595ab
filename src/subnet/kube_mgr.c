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
 * Where flanneld gives up on its own Node (no podCIDR yet, API down for more
 * than 30 s), we keep retrying with backoff and say why. The first list of
 * all Nodes gets flanneld's 10 minutes, then start-up fails with its message
 * unless CONT_WHEN_CACHE_NOT_READY=true (then we go on without it); the
 * alloc backend lists no Nodes at all, as flanneld turns its informer off.
 * The watch resumes from the last resourceVersion seen (bookmarks included);
 * a 410 Gone re-lists and diffs against what we knew, so that no change is
 * missed or reported twice. Per node only the lease is kept (tens
 * of bytes plus the backend data), never the object.
 *
 * Differences from flanneld, all on the safe side: a change of either
 * family's annotations re-programs the peer; a podCIDR change replaces the
 * peer's lease; two nodes claiming one subnet are not both programmed; a
 * podCIDR outside the network, or overlapping ours, is refused; our own
 * annotations are written again when someone removes or changes them.
 *
 * This file: the ops table, new/free, stats, the hints, and the helpers the
 * other kube_mgr_*.c files share (kube_mgr_int.h says which file does what).
 */
#include "subnet/kube_mgr.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "subnet/kube_mgr_int.h"

#define LIST_PAGE 100
#define EVENT_QUEUE_DEPTH_DEFAULT 5000 /* flanneld's */
#define EVENT_QUEUE_DEPTH_MAX 1000000
#define SYNC_TIMEOUT_MS (10 * 60 * 1000) /* flanneld's nodeControllerSyncTimeout */

static const struct subnet_mgr_ops kube_mgr_ops;

static struct kube_mgr *to_mgr(struct subnet_mgr *m)
{
	return container_of(m, struct kube_mgr, base);
}

int64_t kube_mgr_backoff_next(int64_t *cur, int64_t min, int64_t max)
{
	int64_t now = *cur ? *cur : min;
	uint32_t r = 0;

	*cur = now * 2 > max ? max : now * 2;
	/* ±20% so that a thousand nodes do not retry in step */
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)rand();
	return now * 8 / 10 + (int64_t)(r % (uint32_t)(now * 4 / 10 + 1));
}

/* "HTTP 403 (Forbidden: nodes is forbidden: ...)" or the transport error. */
void kube_mgr_describe(int err, long status, const char *body, size_t len, const char *errmsg,
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
void kube_mgr_get(struct kube_mgr *m, const char *path, http_done_cb *done, struct http_req **req)
{
	struct kube_req_opts o = { .timeout_ms = UNARY_TIMEOUT_MS, .path = path };

	if (kube_request(m->client, &o, done, NULL, m, req) < 0)
		done(m, -EIO, 0, "", 0, "cannot start the request");
}

/* ---- start, acquire, watch ---- */

static int mgr_start(struct subnet_mgr *base)
{
	struct kube_mgr *m = to_mgr(base);

	log_info("kube subnet manager: API server %s; annotation prefix %s", m->source,
		 m->an.prefix);
	kube_mgr_start_step(m);
	return 0;
}

static int mgr_acquire(struct subnet_mgr *base, const struct lease_attrs *attrs)
{
	struct kube_mgr *m = to_mgr(base);

	if (!m->configured || m->acquiring || m->have_own)
		return -EINVAL;
	lease_attrs_free(&m->want);
	lease_attrs_copy(&m->want, attrs);
	m->acquiring = true;
	kube_mgr_acquire_step(m);
	return 0;
}

/* watch: report peers */
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
		kube_mgr_batch_add(&b, LEASE_ADDED, &hmap_entry(n, struct kpeer, node)->lease);
	kube_mgr_batch_flush(m, &b);
	return 0;
}

/* ready: say the network is up (kube_mgr_cond.c), once the agent is ready,
 * as the docs promise (upstream patches after subnet.env and READY=1, before
 * its backend has programmed the peers; weft's ready includes them). */
static void mgr_ready(struct subnet_mgr *base)
{
	struct kube_mgr *m = to_mgr(base);

	if (m->set_nnu && !m->cond_started) {
		m->cond_started = true;
		kube_mgr_status_patch_start(&m->cond);
	}
}

/* ---- the rest of the ops ---- */

static size_t mgr_peer_count(const struct subnet_mgr *base)
{
	return container_of(base, const struct kube_mgr, base)->nodes.count;
}

static void mgr_peers_foreach(const struct subnet_mgr *base,
			      void (*fn)(void *arg, const struct lease *l), void *arg)
{
	const struct kube_mgr *m = container_of(base, const struct kube_mgr, base);
	const struct hmap_node *n;
	size_t iter;

	for (n = hmap_first(&m->nodes, &iter); n; n = hmap_next(&m->nodes, n, &iter))
		fn(arg, &hmap_entry(n, const struct kpeer, node)->lease);
}

static void mgr_stats(const struct subnet_mgr *base, struct subnet_mgr_stats *ret)
{
	const struct kube_mgr *m = container_of(base, const struct kube_mgr, base);
	const struct kube_client_stats *cs = kube_client_stats(m->client);

	*ret = m->stats;
	ret->store_requests = cs->requests;
	ret->store_errors = cs->errors;
	ret->lease_expiration = 0;
	ret->watch_healthy = m->informer_off ||
			     (m->stats.watch_healthy && (m->watch_req || m->list_req));
}

/* What our Node says about ourselves: the node-public-ip(v6) annotations and
 * the backend type and data our previous run published on it. */
static void mgr_node_hints(const struct subnet_mgr *base, struct subnet_node_hints *ret)
{
	const struct kube_mgr *m = container_of(base, const struct kube_mgr, base);
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
	loop_timer_clear(m->loop, &m->start_timer);
	loop_timer_clear(m->loop, &m->acq_timer);
	loop_timer_clear(m->loop, &m->repatch.timer);
	loop_timer_clear(m->loop, &m->cond.timer);
	loop_timer_clear(m->loop, &m->lw_timer);
	loop_timer_clear(m->loop, &m->sync_timer);
	kube_mgr_peers_free(m);
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
	.ready = mgr_ready,
	.peer_count = mgr_peer_count,
	.peers_foreach = mgr_peers_foreach,
	.stats = mgr_stats,
	.node_hints = mgr_node_hints,
	.update_attrs = kube_mgr_update_attrs,
	.resume_watches = kube_mgr_watch_resume,
	.free = mgr_free,
};

/*
 * EVENT_QUEUE_DEPTH as flanneld reads it (strconv.Atoi: an optional sign and
 * decimal digits; anything else fails start-up; <= 0 means the default).
 * flanneld sizes its event channel with it; we have no channel (events go
 * to the backend as they are decoded), so it bounds how many go in one call.
 */
static int queue_depth_from_env(size_t *ret, struct err *err)
{
	const char *v = getenv("EVENT_QUEUE_DEPTH");
	long long n;
	char *end;

	*ret = EVENT_QUEUE_DEPTH_DEFAULT;
	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (end == v || *end || errno == ERANGE || isspace((unsigned char)*v))
		return err_set(err, -EINVAL, "env EVENT_QUEUE_DEPTH=%s format error: %s", v,
			       errno == ERANGE ? "value out of range" : "not an integer");
	if (n > 0)
		*ret = n > EVENT_QUEUE_DEPTH_MAX ? EVENT_QUEUE_DEPTH_MAX : (size_t)n;
	return 0;
}

int kube_mgr_new(const struct kube_mgr_params *p, const struct subnet_mgr_cbs *cbs,
		 struct subnet_mgr **ret, struct err *err)
{
	struct kube_mgr *m = xcalloc(1, sizeof(*m));
	struct kubeconfig kc = { 0 };
	const char *node = getenv("NODE_NAME"), *cont = getenv("CONT_WHEN_CACHE_NOT_READY");
	int rc;

	m->base.ops = &kube_mgr_ops;
	m->base.cbs = *cbs;
	m->loop = p->loop;
	m->set_nnu = p->set_node_network_unavailable;
	m->list_page = LIST_PAGE;
	kube_mgr_annot_init(m);
	kube_mgr_cond_init(m);
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
	rc = queue_depth_from_env(&m->queue_depth, err);
	if (rc < 0)
		goto fail;
	m->sync_timeout_ms = p->sync_timeout_ms > 0 ? p->sync_timeout_ms : SYNC_TIMEOUT_MS;
	m->cont_unsynced = cont && !strcmp(cont, "true");
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
