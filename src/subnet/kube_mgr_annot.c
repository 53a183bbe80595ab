// SPDX-License-Identifier: Apache-2.0
/*
 * Our own node after acquire: our annotations kept in place (written again,
 * with a growing delay, when someone changes or removes them), and the
 * PATCH of our Node's status that is retried until it goes through, which
 * kube_mgr_cond.c uses too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "kube/client.h"
#include "subnet/kube_mgr_int.h"

#define REPATCH_DELAY_MS 1000
#define REPATCH_MAX_DELAY_MS 60000

static int64_t status_patch_fire(struct loop *loop, int64_t id, void *arg)
{
	struct status_patch *p = arg;

	(void)loop;
	(void)id;
	p->timer = 0;
	kube_mgr_status_patch_start(p);
	return LOOP_TIMER_STOP;
}

static void status_patch_schedule(struct status_patch *p, int64_t ms)
{
	loop_timer_set(p->m->loop, &p->timer, ms, status_patch_fire, p);
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
	kube_mgr_describe(err, status, body, len, errmsg, why, sizeof(why));
	ms = kube_mgr_backoff_next(&p->backoff_ms, RETRY_MIN_MS, RETRY_MAX_MS);
	p->done(p->m, why, ms);
	status_patch_schedule(p, ms);
}

void kube_mgr_status_patch_start(struct status_patch *p)
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
		kube_own_patch(&m->an, &m->own_node, &m->want, &body, NULL,
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

void kube_mgr_annot_init(struct kube_mgr *m)
{
	m->repatch = (struct status_patch){ .m = m, .body = repatch_body, .done = repatch_done };
}

/*
 * Our lease carries new attributes (a new public address): they become what
 * our annotations must say, and the patch that keeps them in place sends
 * them now. A patch under way with the old ones is followed by another once
 * our node comes back with them (kube_mgr_own_node_seen).
 */
int kube_mgr_update_attrs(struct subnet_mgr *base, const struct lease_attrs *attrs)
{
	struct kube_mgr *m = container_of(base, struct kube_mgr, base);
	char pub[IP_ADDR_STRLEN];

	if (!m->have_own)
		return -ENOENT;
	lease_attrs_free(&m->want);
	lease_attrs_copy(&m->want, attrs);
	lease_attrs_free(&m->own.attrs);
	lease_attrs_copy(&m->own.attrs, attrs);
	log_info("node %s: our lease now publishes %s; patching its annotations", m->node_name,
		 attrs->public_ip.family ? ip_addr_format(&attrs->public_ip, pub) : "no IPv4");
	loop_timer_clear(m->loop, &m->repatch.timer);
	m->repatch.backoff_ms = 0;
	kube_mgr_status_patch_start(&m->repatch);
	return 0;
}

/* Our node as the API shows it now. Takes kn. */
void kube_mgr_own_node_seen(struct kube_mgr *m, struct kube_node *kn)
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
		kube_own_patch(&m->an, &m->own_node, &m->want, &body, NULL,
			       NULL, NULL);
		if (body && !m->repatch.req && !m->repatch.timer) {
			int64_t now = clock_now_ms();

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
