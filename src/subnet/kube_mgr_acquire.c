// SPDX-License-Identifier: Apache-2.0
/*
 * acquire: our subnet from our Node's spec.podCIDR(s), checked against the
 * config; our annotations patched on nodes/<name>/status when they differ;
 * then, once the first full list is in, our lease reported (cbs.acquired).
 * Until the node controller gives us a podCIDR, and while the API fails, we
 * retry with backoff.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "kube/client.h"
#include "subnet/kube_mgr_int.h"
#include "subnet/peer_check.h"

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
		kube_mgr_acquire_step(m);
		return LOOP_TIMER_STOP;
	}
	/* Our node as it is now (the watch may not have shown it yet). */
	m->acq_refetch = false;
	xasprintf(&path, "/api/v1/nodes/%s", m->node_name);
	kube_mgr_get(m, path, own_get_done, &m->acq_req);
	free(path);
	return LOOP_TIMER_STOP;
}

/* Logged when the reason changes, and at every retry once the backoff is at
 * its maximum (every 30 s). refetch: GET our node before the next attempt. */
static void acquire_retry(struct kube_mgr *m, const char *why, bool refetch)
{
	int64_t ms = kube_mgr_backoff_next(&m->acq_backoff_ms, RETRY_MIN_MS * 3, RETRY_MAX_MS);

	if (strcmp(why, m->last_acq_err) || ms >= RETRY_MAX_MS * 8 / 10)
		log_error("cannot take our subnet: %s; retrying in %lldms", why, (long long)ms);
	snprintf(m->last_acq_err, sizeof(m->last_acq_err), "%s", why);
	m->acq_refetch = refetch;
	loop_timer_set(m->loop, &m->acq_timer, ms, acquire_fire, m);
}

/* The answer to our GET (patch false) or PATCH of our node: the node it shows
 * is taken, then the next step; a failure is retried. */
static void own_answer(struct kube_mgr *m, bool patch, int err, long status, const char *body,
		       size_t len, const char *errmsg)
{
	struct kube_node kn;
	char why[512];
	json_t *o;

	m->acq_req = NULL;
	if (err < 0 || status != 200) {
		char d[400];

		kube_client_note_error(m->client);
		kube_mgr_describe(err, status, body, len, errmsg, d, sizeof(d));
		if (patch) {
			snprintf(why, sizeof(why), "patching the annotations of node %s: %s",
				 m->node_name, d);
			acquire_retry(m, why, status == 404);
		} else {
			snprintf(why, sizeof(why), "cannot get node %s: %s", m->node_name, d);
			acquire_retry(m, why, true);
		}
		return;
	}
	o = json_loadb(body, len, 0, NULL);
	if (kube_node_from_json(o, &m->an, &kn, NULL) == 0)
		kube_mgr_own_node_seen(m, &kn);
	json_decref(o);
	if (patch)
		log_info("annotated node %s with our lease (%s)", m->node_name, m->an.prefix);
	kube_mgr_acquire_step(m);
}

static void own_get_done(void *arg, int err, long status, const char *body, size_t len,
			 const char *errmsg)
{
	own_answer(arg, false, err, status, body, len, errmsg);
}

static void own_patch_done(void *arg, int err, long status, const char *body, size_t len,
			   const char *errmsg)
{
	own_answer(arg, true, err, status, body, len, errmsg);
}

/* One family's podCIDR: there, and inside the network of the config. */
static int pod_cidr_check(const struct kube_mgr *m, bool v6, bool have,
			  const struct ip_prefix *cidr, const struct ip_prefix *net, struct err *err)
{
	char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];

	if (!have)
		return err_set(err, -EINVAL, "node \"%s\" has no IPv%c podCIDR", m->node_name,
			       v6 ? '6' : '4');
	if (!ip_prefix_contains_prefix(net, cidr))
		return err_set(err, -EINVAL, "subnet \"%s\" specified in the flannel net config "
			       "doesn't contain \"%s\" %sPodCIDR of the \"%s\" node",
			       ip_prefix_format(net, a), ip_prefix_format(cidr, b),
			       v6 ? "IPv6 " : "", m->node_name);
	return 0;
}

/* Our subnet(s) from the node, checked against the config. */
static int own_subnet(struct kube_mgr *m, struct subnet_key *ret, struct err *err)
{
	struct ip_prefix v4, v6;
	bool h4, h6;
	char a[IP_PREFIX_STRLEN];
	int rc;

	memset(ret, 0, sizeof(*ret));
	rc = kube_node_cidrs(&m->own_node, &v4, &h4, &v6, &h6, err);
	if (rc < 0)
		return rc;
	if (m->nc.enable_ipv4) {
		rc = pod_cidr_check(m, false, h4, &v4, &m->nc.network, err);
		if (rc < 0)
			return rc;
		ret->v4 = v4;
	} else {
		ip_prefix_parse("0.0.0.0/0", &ret->v4);
	}
	if (m->nc.enable_ipv6) {
		rc = pod_cidr_check(m, true, h6, &v6, &m->nc.ipv6_network, err);
		if (rc < 0)
			return rc;
		ret->v6 = v6;
		ret->has_v6 = true;
	}
	rc = subnet_key_format(ret, a, sizeof(a));
	if (rc < 0)
		return err_set(err, -EINVAL, "node \"%s\": podCIDR cannot be a lease (%s)",
			       m->node_name, rc == -ERANGE ? "prefix too long" : "not a network");
	return 0;
}

void kube_mgr_acquire_step(struct kube_mgr *m)
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
	if (kube_own_patch(&m->an, &m->own_node, &m->want, &body, NULL, NULL, &warn) > 0)
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
	if (!m->synced && !m->sync_gave_up) {
		log_info("waiting for the first list of nodes before reporting our lease");
		m->wait_sync = true;
		return;
	}
	kube_mgr_acquire_complete(m);
}

void kube_mgr_acquire_complete(struct kube_mgr *m)
{
	struct err err = { 0 };
	struct ip_addr pub4, pub6;
	char *body = NULL;

	if (own_subnet(m, &m->own.subnet, &err) < 0) {
		/* The node changed meanwhile: start over. */
		acquire_retry(m, err.msg, true);
		return;
	}
	kube_own_patch(&m->an, &m->own_node, &m->want, &body, &pub4, &pub6,
		       NULL);
	free(body);
	m->acquiring = false;
	lease_attrs_free(&m->own.attrs);
	lease_attrs_copy(&m->own.attrs, &m->want);
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
			kube_mgr_note_bad(m, p->name, err.msg);
			kube_mgr_peer_remove(m, p, &b);
		}
		kube_mgr_batch_flush(m, &b);
	}
	if (m->base.cbs.acquired)
		m->base.cbs.acquired(m->base.cbs.arg, 0, &m->own);
}
