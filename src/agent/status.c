// SPDX-License-Identifier: Apache-2.0
#include "core/version.h"
#include "agent/status.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/flags.h"
#include "core/err.h"
#include "core/metrics.h"
#include "http/server.h"
#include "subnet/netconf.h"

struct status {
	struct agent *a;
	struct http_server *health;  /* --healthz-ip/--healthz-port: /healthz, /readyz */
	struct http_server *metrics; /* --metrics-ip/--metrics-port: /metrics, /status */
	struct metrics *m;	     /* NULL unless metrics is */
	struct metrics_family *lease_info;
	bool backend_registered; /* the backend's own families */
};

/* ---- HTTP ---- */

static int healthz(void *arg, const struct http_server_req *req, struct http_server_resp *resp)
{
	(void)arg;
	(void)req;
	return buf_append(&resp->body, "flanneld is running", 19);
}

static int readyz(void *arg, const struct http_server_req *req, struct http_server_resp *resp)
{
	struct status *s = arg;
	static const char ready[] = "flanneld is ready", not_ready[] = "flanneld is not ready yet";

	(void)req;
	if (s->a->ready)
		return buf_append(&resp->body, ready, sizeof(ready) - 1);
	resp->status = 503;
	return buf_append(&resp->body, not_ready, sizeof(not_ready) - 1);
}

static int metrics_page(void *arg, const struct http_server_req *req,
			struct http_server_resp *resp)
{
	struct status *s = arg;

	(void)req;
	resp->content_type = METRICS_CONTENT_TYPE;
	return metrics_render(s->m, &resp->body);
}

static struct backend_stats be_stats(const struct agent *a);
static struct subnet_mgr_stats mgr_stats(const struct agent *a);

static const char *backend_type_of(const struct agent *a)
{
	return a->backend ? a->backend->ops->type : "";
}

/* /status: what `weftctl status` shows, as JSON. */
static int status_page(void *arg, const struct http_server_req *req,
		       struct http_server_resp *resp)
{
	struct status *s = arg;
	const struct agent *a = s->a;
	struct backend_stats bs = be_stats(a);
	struct subnet_mgr_stats ms = mgr_stats(a);
	char v4[IP_PREFIX_STRLEN] = "", v6[IP_PREFIX_STRLEN] = "", pub[IP_ADDR_STRLEN] = "";
	json_t *j;
	char *text;
	int rc;

	(void)req;
	if (a->own.held && subnet_key_has_v4(&a->own.subnet))
		ip_prefix_format(&a->own.subnet.v4, v4);
	if (a->own.held && a->own.subnet.has_v6)
		ip_prefix_format(&a->own.subnet.v6, v6);
	if (a->ext.public_ip.family)
		ip_addr_format(&a->ext.public_ip, pub);
	j = json_pack("{s:s, s:b, s:s?, s:s?, s:s?, s:s, s:s, s:I, s:I, s:I, s:I, s:b, s:I}",
		      "version", weft_version, "ready", a->ready, "subnet", v4[0] ? v4 : NULL,
		      "ipv6_subnet", v6[0] ? v6 : NULL, "public_ip", pub[0] ? pub : NULL,
		      "backend", backend_type_of(a), "interface", a->ext.name,
		      "mtu", (json_int_t)a->mtu, "peers_known",
		      (json_int_t)(a->mgr ? a->mgr->ops->peer_count(a->mgr) : 0),
		      "peers_programmed", (json_int_t)bs.peers_programmed, "lease_expiry",
		      (json_int_t)ms.lease_expiration, "watch_healthy", ms.watch_healthy,
		      "reconcile_runs", (json_int_t)bs.reconcile_runs);
	if (!j)
		return -ENOMEM;
	if (bs.engine)
		json_object_set_new(j, "engine", json_string(bs.engine));
	/* Where leases live ("etcd" or "kube"): weftctl words its lines by it. */
	if (a->mgr)
		json_object_set_new(j, "store", json_string(a->mgr->ops->name));
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return -ENOMEM;
	resp->content_type = "application/json";
	rc = buf_append(&resp->body, text, strlen(text));
	if (rc == 0)
		rc = buf_append(&resp->body, "\n", 1);
	free(text);
	return rc;
}

/* ---- metric sources, read at scrape time ---- */

static struct subnet_mgr_stats mgr_stats(const struct agent *a)
{
	struct subnet_mgr_stats st = { 0 };

	if (a->mgr && a->mgr->ops->stats)
		a->mgr->ops->stats(a->mgr, &st);
	return st;
}

static struct backend_stats be_stats(const struct agent *a)
{
	struct backend_stats st;

	backend_stats(a->backend, &st);
	return st;
}

#define MGR_READER(field)                                                                  \
	static double read_mgr_##field(void *arg)                                          \
	{                                                                                  \
		return (double)mgr_stats(((struct status *)arg)->a).field;                 \
	}
MGR_READER(store_requests)
MGR_READER(store_errors)
MGR_READER(watch_restarts)
MGR_READER(relists)
MGR_READER(renewals)
MGR_READER(renew_failures)
MGR_READER(bad_entries)
MGR_READER(lease_lost)
MGR_READER(lease_regained)
MGR_READER(lease_expiration)
MGR_READER(watch_healthy)

#define BE_READER(name, expr)                                                              \
	static double read_be_##name(void *arg)                                            \
	{                                                                                  \
		struct backend_stats st = be_stats(((struct status *)arg)->a);             \
		return (double)(expr);                                                     \
	}
BE_READER(programmed, st.peers_programmed)
BE_READER(runs, st.reconcile_runs)
BE_READER(routes, st.corrections[0])
BE_READER(neighs, st.corrections[1])
BE_READER(fdbs, st.corrections[2])
BE_READER(nexthops, st.corrections[3])
BE_READER(nl_errors, st.netlink_errors)

#define AGENT_READER(name, expr)                                                           \
	static double read_agent_##name(void *arg)                                         \
	{                                                                                  \
		const struct agent *a = ((struct status *)arg)->a;                         \
		return (double)(expr);                                                     \
	}
AGENT_READER(ready, a->ready)
AGENT_READER(peers_known, a->mgr ? a->mgr->ops->peer_count(a->mgr) : 0)
AGENT_READER(rule_checks, a->rule_checks)
AGENT_READER(rule_restores, a->rule_restores)
AGENT_READER(rule_errors, a->rule_errors)
AGENT_READER(blackhole_restores, a->blackhole_restores)

struct metric_def {
	bool counter;
	const char *name, *help;
	metrics_read_cb *read;
};

static const struct metric_def defs[] = {
	{ false, "weft_ready", "1 when rules are in place and the subnet file is written",
	  read_agent_ready },
	{ false, "weft_lease_expiry_timestamp_seconds",
	  "When our lease expires (unix time); 0 for a reservation or no lease",
	  read_mgr_lease_expiration },
	{ false, "weft_peers_known", "Peer leases known to the subnet manager",
	  read_agent_peers_known },
	{ false, "weft_peers_programmed", "Peers whose kernel state the backend has in place",
	  read_be_programmed },
	{ true, "weft_reconcile_runs_total", "Full reconciles of kernel state", read_be_runs },
	{ true, "weft_netlink_errors_total", "Kernel changes or dumps that failed",
	  read_be_nl_errors },
	{ true, "weft_etcd_requests_total", "Requests sent to etcd", read_mgr_store_requests },
	{ true, "weft_etcd_errors_total", "etcd requests that failed", read_mgr_store_errors },
	{ true, "weft_etcd_watch_restarts_total", "Lease watches resumed after an interruption",
	  read_mgr_watch_restarts },
	{ true, "weft_etcd_relists_total", "Full lease re-lists after a compaction",
	  read_mgr_relists },
	{ false, "weft_etcd_watch_healthy", "1 while the lease watch is open and answering",
	  read_mgr_watch_healthy },
	{ true, "weft_etcd_malformed_entries_total",
	  "Lease keys or values that could not be read (each counted once)",
	  read_mgr_bad_entries },
	{ true, "weft_lease_lost_total",
	  "Times our lease expired in the store (out of reach for longer than its TTL)",
	  read_mgr_lease_lost },
	{ true, "weft_lease_regained_total",
	  "Times an expired lease of ours was taken back (the same subnet)",
	  read_mgr_lease_regained },
	{ true, "weft_lease_renewals_total", "Successful lease renewals", read_mgr_renewals },
	{ true, "weft_lease_renewal_failures_total", "Failed lease renewal attempts",
	  read_mgr_renew_failures },
	{ true, "weft_rules_checks_total", "Checks of the masquerade/forward rules",
	  read_agent_rule_checks },
	{ true, "weft_rules_reapplied_total",
	  "Times the rules were found missing or altered and applied again",
	  read_agent_rule_restores },
	{ true, "weft_rules_errors_total", "Rule checks or applications that failed",
	  read_agent_rule_errors },
	{ true, "weft_blackhole_route_restores_total", "Times the blackhole route was re-added",
	  read_agent_blackhole_restores },
};

static int register_metrics(struct status *s)
{
	static const char *const kind_label[] = { "kind", NULL };
	static const char *const version_label[] = { "version", NULL };
	static const char *const lease_labels[] = { "subnet", "ipv6_subnet", "backend", NULL };
	static const struct {
		const char *kind;
		metrics_read_cb *read;
	} kinds[] = { { "route", read_be_routes },
		      { "neighbour", read_be_neighs },
		      { "fdb", read_be_fdbs },
		      { "nexthop", read_be_nexthops } };
	const char *version[] = { weft_version, NULL };
	struct metrics_family *f;
	struct metrics_child *c;
	int rc;

	rc = metrics_family_add(s->m, METRICS_GAUGE, "weft_build_info",
				"Build information; the value is always 1", version_label, &f);
	if (rc < 0 || (rc = metrics_child(f, version, &c)) < 0)
		return rc;
	metrics_set(c, 1);
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		rc = defs[i].counter ? metrics_counter_func_new(s->m, defs[i].name, defs[i].help,
								defs[i].read, s)
				     : metrics_gauge_func_new(s->m, defs[i].name, defs[i].help,
							      defs[i].read, s);
		if (rc < 0)
			return rc;
	}
	rc = metrics_family_add(s->m, METRICS_COUNTER, "weft_reconcile_corrections_total",
				"Kernel objects found missing, different or stale and fixed",
				kind_label, &f);
	for (size_t i = 0; rc == 0 && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *v[] = { kinds[i].kind, NULL };

		rc = metrics_child_func(f, v, kinds[i].read, s, NULL);
	}
	if (rc < 0)
		return rc;
	return metrics_family_add(s->m, METRICS_GAUGE, "weft_lease_info",
				  "Our lease; the value is always 1", lease_labels, &s->lease_info);
}

void status_lease(struct status *s)
{
	char v4[IP_PREFIX_STRLEN] = "", v6[IP_PREFIX_STRLEN] = "";
	const struct agent *a = s->a;
	struct metrics_child *c;

	/* The backend's own families, once it is known. */
	if (s->m && a->backend && !s->backend_registered) {
		s->backend_registered = true;
		backend_metrics(a->backend, s->m);
	}
	if (!s->lease_info || !a->own.held)
		return;
	if (subnet_key_has_v4(&a->own.subnet))
		ip_prefix_format(&a->own.subnet.v4, v4);
	if (a->own.subnet.has_v6)
		ip_prefix_format(&a->own.subnet.v6, v6);
	const char *vals[] = { v4, v6, backend_type_of(a), NULL };
	if (metrics_child(s->lease_info, vals, &c) == 0)
		metrics_set(c, 1);
}

/* One listener with its routes; err says which listener failed. */
static int listen_on(struct status *s, const char *what, const char *ip, int64_t port,
		     const char *const paths[2], http_server_handler *const handlers[2],
		     struct http_server **ret, struct err *err)
{
	int rc;

	rc = http_server_new(s->a->loop, ip, (uint16_t)port, NULL, ret);
	if (rc < 0)
		return err_set(err, rc, "%s listener: cannot listen on %s:%lld: %s", what, ip,
			       (long long)port, strerror(-rc));
	for (int i = 0; i < 2; i++) {
		rc = http_server_route(*ret, paths[i], handlers[i], s);
		if (rc < 0)
			return err_set(err, rc, "%s listener: cannot register %s: %s", what,
				       paths[i], strerror(-rc));
	}
	return 0;
}

int status_start(struct agent *a, struct status **ret, struct err *err)
{
	static const char *const health_paths[2] = { "/healthz", "/readyz" };
	static http_server_handler *const health_handlers[2] = { healthz, readyz };
	static const char *const metrics_paths[2] = { "/metrics", "/status" };
	static http_server_handler *const metrics_handlers[2] = { metrics_page, status_page };
	const struct flags *f = a->flags;
	struct status *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return err_set(err, -ENOMEM, "out of memory");
	s->a = a;
	if (f->healthz_port > 0) {
		rc = listen_on(s, "health", f->healthz_ip, f->healthz_port, health_paths,
			       health_handlers, &s->health, err);
		if (rc < 0)
			goto fail;
	}
	if (f->metrics_port > 0) {
		rc = metrics_new(&s->m);
		if (rc == 0)
			rc = register_metrics(s);
		if (rc < 0) {
			err_set(err, rc, "cannot register metrics: %s", strerror(-rc));
			goto fail;
		}
		rc = listen_on(s, "metrics", f->metrics_ip, f->metrics_port, metrics_paths,
			       metrics_handlers, &s->metrics, err);
		if (rc < 0)
			goto fail;
	}
	*ret = s;
	return 0;
fail:
	status_free(s);
	return rc;
}

void status_free(struct status *s)
{
	if (!s)
		return;
	http_server_free(s->health);
	http_server_free(s->metrics);
	metrics_free(s->m);
	free(s);
}
