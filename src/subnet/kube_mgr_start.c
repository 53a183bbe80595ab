// SPDX-License-Identifier: Apache-2.0
/*
 * Start-up: the net-conf file, our node name (NODE_NAME, or our Pod's
 * spec.nodeName), then GET our Node, after which the list + watch of all
 * Nodes starts and cbs.config is called. Each step is retried with backoff.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/file.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "kube/client.h"
#include "subnet/kube_mgr_int.h"

static int64_t start_fire(struct loop *loop, int64_t id, void *arg)
{
	struct kube_mgr *m = arg;

	(void)loop;
	(void)id;
	m->start_timer = 0;
	kube_mgr_start_step(m);
	return LOOP_TIMER_STOP;
}

static void start_retry(struct kube_mgr *m, const char *why)
{
	int64_t ms = kube_mgr_backoff_next(&m->start_backoff_ms, RETRY_MIN_MS, RETRY_MAX_MS);

	log_warnx("%s; retrying in %lldms", why, (long long)ms);
	loop_timer_set(m->loop, &m->start_timer, ms, start_fire, m);
}

static int read_netconf(struct kube_mgr *m, struct err *err)
{
	struct buf buf;
	int rc;

	/* One byte past the limit, for netconf_parse to say "larger than". */
	buf_init(&buf, NETCONF_MAX_SIZE + 1);
	rc = file_read_bounded(AT_FDCWD, m->net_config_path, 0, &buf, NULL);
	if (rc < 0 && rc != -E2BIG) {
		/* -EINVAL: a FIFO or a device, refused without waiting on it */
		rc = err_set(err, rc, "cannot read the net-conf file %s: %s", m->net_config_path,
			     rc == -EINVAL ? "not a regular file" : strerror(-rc));
		goto out;
	}
	rc = netconf_parse(buf.data, buf.len, &m->nc, err);
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
	buf_free(&buf);
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
		kube_mgr_describe(err, status, body, len, errmsg, d, sizeof(d));
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
	kube_mgr_start_step(m);
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
		kube_mgr_describe(err, status, body, len, errmsg, d, sizeof(d));
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
	kube_mgr_own_node_seen(m, &kn);
	/* The informer: runs from now on, whatever the agent does. */
	kube_mgr_informer_start(m);
	m->configured = true;
	if (m->base.cbs.config)
		m->base.cbs.config(m->base.cbs.arg, &m->nc);
}

void kube_mgr_start_step(struct kube_mgr *m)
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
		kube_mgr_get(m, path, pod_done, &m->start_req);
		free(path);
		return;
	}
	xasprintf(&path, "/api/v1/nodes/%s", m->node_name);
	kube_mgr_get(m, path, node_done, &m->start_req);
	free(path);
}
