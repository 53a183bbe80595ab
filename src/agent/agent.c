// SPDX-License-Identifier: Apache-2.0
/*
 * The agent wires the subnet manager to a backend. Everything after start-up
 * runs on one loop; each step's callback starts the next. Only the firewall
 * rules are set up and checked on a worker thread (a firewall tool may hang).
 * A failure before the lease is held ends the process with 1; after that,
 * only a signal (0), the loss of our lease (0, "lease revoked") or, when our
 * lease expired and its subnet was taken meanwhile, acquired's error (1)
 * ends it. An expired lease whose subnet is still free is taken back by the
 * subnet manager, without telling us: the data path stays as it is.
 */
#include "agent/agent.h"

#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "agent/flags.h"
#include "agent/agent_int.h"
#include "agent/iface.h"
#include "agent/notify.h"
#include "agent/status.h"
#include "agent/underlay.h"
#include "backend/backend.h"
#include "backend/conf.h"
#include "core/err.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/worker.h"
#include "core/xmalloc.h"
#include "etcd/etcd.h"
#include "nl/nl.h"
#include "nl/route.h"
#include "subnet/etcd_mgr.h"
#include "subnet/kube_mgr.h"
#include "subnet/netconf.h"
#include "subnet/subnet_env.h"
#include "subnet/subnet_mgr.h"


static void agent_exit(struct agent *a, int code)
{
	a->exit_code = code;
	loop_stop(a->loop);
}

static void on_signal(struct loop *loop, int signo, void *arg)
{
	struct agent *a = arg;

	log_info("Received SIG%s, shutting down", sigabbrev_np(signo));
	/* Unregistered, so that a second signal takes the default action. */
	loop_del_signal(loop, SIGTERM);
	loop_del_signal(loop, SIGINT);
	agent_exit(a, 0);
}

#define ENV_SECONDS_MAX (366 * 86400)

/* WEFT_TEST_* knobs for the tests' short leases. */
static int64_t env_seconds(const char *name, int64_t dflt)
{
	const char *v = getenv(name);
	char *end;
	long long n;

	if (!v || !*v)
		return dflt;
	errno = 0;
	n = strtoll(v, &end, 10);
	/* Bounded like the flags, so that n * 1000 (ms) cannot overflow. */
	if (errno || end == v || *end || n < 0 || n > ENV_SECONDS_MAX) {
		log_warnx("ignoring %s=%s: not a number of seconds in 0..%d", name, v,
			  ENV_SECONDS_MAX);
		return dflt;
	}
	log_warnx("test knob %s=%lld in effect", name, n);
	return n;
}

struct name_list {
	const char **v;
	size_t n;
};

static void collect_name(void *arg, const struct lease *l)
{
	struct name_list *nl = arg;

	/* The record may be built for this call only: keep a copy. */
	nl->v[nl->n++] = xstrdup(l->name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* SIGUSR1: one line with the peer view, sorted, for operators and tests. */
static void on_dump(struct loop *loop, int signo, void *arg)
{
	struct agent *a = arg;
	size_t n = a->mgr->ops->peer_count(a->mgr), len = 0;
	struct name_list nl = { xcalloc(n + 1, sizeof(char *)), 0 };
	char *line;

	(void)loop;
	(void)signo;
	a->mgr->ops->peers_foreach(a->mgr, collect_name, &nl);
	qsort(nl.v, nl.n, sizeof(*nl.v), cmp_str);
	for (size_t i = 0; i < nl.n; i++)
		len += strlen(nl.v[i]) + 1;
	line = xcalloc(len + 1, 1);
	for (size_t i = 0, off = 0; i < nl.n; i++)
		off += (size_t)snprintf(line + off, len + 1 - off, "%s%s", i ? " " : "", nl.v[i]);
	log_info("peer view: %zu peers: %s", nl.n, line);
	free(line);
	for (size_t i = 0; i < nl.n; i++)
		free((char *)(uintptr_t)nl.v[i]);
	free(nl.v);
	backend_dump(a->backend);
}

/* ---- subnet manager callbacks ---- */

static backend_done_fn on_prepared;

/* The backend cannot go on (extension: PostStartupCommand failed, which ends
 * flanneld too); it has logged why. */
static void on_backend_fail(void *arg)
{
	struct agent *a = arg;

	log_error("backend %s failed; exiting", a->nc->backend_type);
	agent_exit(a, 1);
}

/*
 * flanneld's check (flannel.md §2 step 6), with its message: in iptables mode
 * a family's bridge-nf-call file must exist, i.e. br_netfilter is loaded;
 * without it pods on one bridge bypass the host's iptables rules (Services
 * break). Only a missing file stops us, as only that stops flanneld.
 */
static bool br_netfilter_missing(const struct netconf *nc)
{
	static const char *const files[2] = { "/proc/sys/net/bridge/bridge-nf-call-iptables",
					      "/proc/sys/net/bridge/bridge-nf-call-ip6tables" };
	struct stat st;

	if (nc->enable_nftables)
		return false;
	for (int i = 0; i < 2; i++) {
		if (!(i == 0 ? nc->enable_ipv4 : nc->enable_ipv6))
			continue;
		if (stat(files[i], &st) < 0 && errno == ENOENT) {
			log_error("Failed to check br_netfilter: stat %s: no such file or directory "
				  "(load the module: modprobe br_netfilter)",
				  files[i]);
			return true;
		}
	}
	return false;
}

static void on_config(void *arg, const struct netconf *nc)
{
	struct agent *a = arg;
	struct iface_select sel = {
		.ifaces = &a->flags->iface,
		.iface_regex = &a->flags->iface_regex,
		.can_reach = a->flags->iface_can_reach,
		.public_ip = a->flags->public_ip,
		.public_ipv6 = a->flags->public_ipv6,
		.want_v4 = nc->enable_ipv4,
		.want_v6 = nc->enable_ipv6,
	};
	char why[768] = "", pub[IP_ADDR_STRLEN], pub6[IP_ADDR_STRLEN];
	struct err err = { 0 };
	/* what the manager knows of this node (kube: our Node's annotations) */
	struct subnet_node_hints hints = { 0 };
	char hint4[IP_ADDR_STRLEN], hint6[IP_ADDR_STRLEN];
	struct backend_params bp = { .loop = a->loop, .ext = &a->ext, .nc = nc, .prev = &hints.prev,
				     .charon_path = a->flags->charon_path,
				     .ipsec_run_dir = a->flags->ipsec_run_dir,
				     .fail = on_backend_fail, .fail_arg = a };
	int rc;

	a->nc = nc;
	/* node-public-ip(v6) replace --public-ip(v6) (flannel §2 step 7) */
	if (a->mgr->ops->node_hints) {
		a->mgr->ops->node_hints(a->mgr, &hints);
		if (hints.public_ip.family)
			sel.public_ip = ip_addr_format(&hints.public_ip, hint4);
		if (hints.public_ipv6.family)
			sel.public_ipv6 = ip_addr_format(&hints.public_ipv6, hint6);
	}
	if (nc->backend_defaulted)
		log_warnx("the network config has no Backend; using udp, as flannel does");
	log_info("network config: %s%s%s, backend %s", nc->enable_ipv4 ? "IPv4" : "",
		 nc->enable_ipv4 && nc->enable_ipv6 ? " and " : "", nc->enable_ipv6 ? "IPv6" : "",
		 nc->backend_type);
	if (br_netfilter_missing(nc))
		goto fail;
	rc = iface_select(&sel, &a->ext, why, sizeof(why), &err);
	if (rc < 0) {
		log_error("cannot pick the external interface: %s", err.msg);
		goto fail;
	}
	log_info("using interface %s (%s), MTU %u, public address %s%s%s", a->ext.name, why,
		 a->ext.mtu,
		 a->ext.public_ip.family ? ip_addr_format(&a->ext.public_ip, pub) : "(none)",
		 a->ext.public_ipv6.family ? ", public IPv6 " : "",
		 a->ext.public_ipv6.family ? ip_addr_format(&a->ext.public_ipv6, pub6) : "");
	if (nc->enable_ipv4) {
		rc = iface_ipv4_forwarding();
		if (rc == 0)
			log_warnx("IPv4 forwarding is disabled (net.ipv4.ip_forward=0): traffic "
				  "between pods on different hosts will be dropped; enable it with "
				  "'sysctl -w net.ipv4.ip_forward=1'");
		else if (rc < 0)
			log_warn_errno(rc, "cannot read net.ipv4.ip_forward, ignoring");
	}
	if (nc->enable_ipv4 && !a->ext.public_ip.family) {
		log_error("interface %s has no IPv4 address and --public-ip is not set",
			  a->ext.name);
		goto fail;
	}
	if (nc->enable_ipv6 && !a->ext.public_ipv6.family) {
		log_error("IPv6 is enabled but interface %s has no global IPv6 address and "
			  "--public-ipv6 is not set",
			  a->ext.name);
		goto fail;
	}
	rc = backend_new(nc->backend_type, &bp, &a->backend, &err);
	if (rc == -ENOENT) {
		log_error("%s", err.msg);
		goto fail;
	}
	if (rc < 0) {
		log_error("backend %s: %s", nc->backend_type, err.msg);
		goto fail;
	}
	lease_attrs_free(&hints.prev);
	/* on_prepared follows, at once unless the backend has work to do first */
	rc = backend_prepare(a->backend, on_prepared, a);
	if (rc < 0) {
		log_error_errno(rc, "backend %s: cannot prepare", nc->backend_type);
		agent_exit(a, 1);
	}
	return;
fail:
	lease_attrs_free(&hints.prev);
	agent_exit(a, 1);
}

/* The backend is ready to say what our lease carries: ask for the lease. */
static void on_prepared(void *arg, int rc, const struct err *perr)
{
	struct agent *a = arg;
	struct lease_attrs attrs = { 0 };
	struct err err = { 0 };

	if (rc < 0) {
		log_error_errno(rc, "backend %s%s%s", a->nc->backend_type,
				perr && perr->msg[0] ? ": " : "", perr ? perr->msg : "");
		agent_exit(a, 1);
		return;
	}
	if (a->nc->enable_ipv4)
		attrs.public_ip = a->ext.public_ip;
	else
		ip_addr_parse("0.0.0.0", &attrs.public_ip);
	if (a->nc->enable_ipv6)
		attrs.public_ipv6 = a->ext.public_ipv6;
	rc = a->backend->ops->lease_attrs(a->backend, &attrs, &err);
	if (rc == 0)
		rc = a->mgr->ops->acquire(a->mgr, &attrs);
	lease_attrs_free(&attrs);
	if (rc < 0) {
		log_error_errno(rc, "cannot start acquiring a lease%s%s", err.msg[0] ? ": " : "",
				err.msg);
		agent_exit(a, 1);
	}
}

static void subnet_env_of(const struct agent *a, const struct lease *own, unsigned mtu,
			  struct subnet_env *ret)
{
	struct subnet_env env = { 0 };

	if (a->nc->enable_ipv4) {
		env.has_network = env.has_subnet = true;
		env.network = a->nc->network;
		env.subnet = own->subnet.v4;
	}
	if (a->nc->enable_ipv6) {
		env.has_ipv6_network = env.has_ipv6_subnet = true;
		env.ipv6_network = a->nc->ipv6_network;
		env.ipv6_subnet = own->subnet.v6;
	}
	env.has_mtu = env.has_ipmasq = true;
	env.mtu = mtu;
	env.ipmasq = a->flags->ip_masq;
	*ret = env;
}

/* ---- traffic rules and the blackhole route ---- */

/*
 * The overlay filter (--overlay-peers-only): what a backend receives from
 * its peers and anyone could forge. vxlan and udp take frames or packets
 * from whoever reaches their UDP port, ipip from whoever sends IP protocol
 * 4: filtered. wireguard is not: every packet it takes is authenticated by
 * the peer's key (one a non-peer does not have), and it answers handshake
 * floods with cookies; host-gw has no tunnel, ipsec authenticates (IKE,
 * ESP), an extension's transport is its own.
 */
static void overlay_params(const struct agent *a, struct traffic_params *p)
{
	const char *type = a->nc ? a->nc->backend_type : "";
	uint64_t port = 0;
	json_t *o;

	if (!a->flags->overlay_peers_only || !type)
		return;
	if (strcmp(type, "ipip") == 0) {
		p->overlay_proto = IPPROTO_IPIP;
		return;
	}
	if (strcmp(type, "vxlan") != 0 && strcmp(type, "udp") != 0)
		return;
	/* The backend has validated Backend.Port already. */
	o = backend_conf_object(a->nc->backend_json, NULL);
	if (o && backend_conf_uint(o, "Port", 65535, &port, NULL) < 0)
		port = 0;
	json_decref(o);
	p->overlay_proto = IPPROTO_UDP;
	p->overlay_port = port ? (uint16_t)port : strcmp(type, "udp") == 0 ? 8285 : 8472;
}

/* The peers' public addresses as the overlay filter needs them (subnet
 * managers keep no attributes), by lease name. */
struct overlay_peer {
	struct hmap_node node;
	struct ip_addr pub, pub6;
	char name[]; /* the hmap key */
};

struct overlay_peers {
	struct hmap map;
	size_t naddr; /* addresses set, over all peers */
	bool dirty;   /* changed since the last snapshot given to the rules */
};

static void overlay_peer_free(struct hmap_node *n)
{
	free(hmap_entry(n, struct overlay_peer, node));
}

static void overlay_peers_free(struct overlay_peers *op)
{
	if (!op)
		return;
	hmap_clear(&op->map, overlay_peer_free);
	hmap_destroy(&op->map);
	free(op);
}

static size_t addr_count(const struct overlay_peer *r)
{
	return !ip_addr_is_unset(&r->pub) + !ip_addr_is_unset(&r->pub6);
}

/* One lease event; dirty when an address came, went or changed. */
static void overlay_peers_event(struct agent *a, const struct lease_event *ev)
{
	struct overlay_peers *op = a->overlay;
	const struct lease *l = ev->lease;
	struct hmap_node *n;
	struct overlay_peer *r;
	size_t len;

	if (!op) {
		op = a->overlay = xcalloc(1, sizeof(*op));
		hmap_init(&op->map);
	}
	n = hmap_get(&op->map, l->name);
	r = n ? hmap_entry(n, struct overlay_peer, node) : NULL;
	if (ev->kind == LEASE_REMOVED) {
		if (!r)
			return;
		op->naddr -= addr_count(r);
		op->dirty = true;
		overlay_peer_free(hmap_remove(&op->map, l->name));
		return;
	}
	if (r && ip_addr_equal(&r->pub, &l->attrs.public_ip) &&
	    ip_addr_equal(&r->pub6, &l->attrs.public_ipv6))
		return;
	if (!r) {
		len = strlen(l->name) + 1;
		r = xcalloc(1, sizeof(*r) + len);
		memcpy(r->name, l->name, len);
		r->node.key = r->name;
		hmap_put(&op->map, &r->node);
	} else {
		op->naddr -= addr_count(r);
	}
	r->pub = l->attrs.public_ip;
	r->pub6 = l->attrs.public_ipv6;
	op->naddr += addr_count(r);
	op->dirty = true;
}

/* Every peer address now, for one rules job (the caller frees *ret). */
static size_t overlay_peers_snapshot(struct agent *a, struct ip_addr **ret)
{
	struct overlay_peers *op = a->overlay;
	const struct hmap_node *n;
	size_t iter, k = 0;

	*ret = NULL;
	if (!op)
		return 0;
	op->dirty = false;
	*ret = xcalloc(op->naddr + 1, sizeof(**ret));
	for (n = hmap_first(&op->map, &iter); n; n = hmap_next(&op->map, n, &iter)) {
		const struct overlay_peer *r = hmap_entry(n, const struct overlay_peer, node);

		if (!ip_addr_is_unset(&r->pub) && k < op->naddr)
			(*ret)[k++] = r->pub;
		if (!ip_addr_is_unset(&r->pub6) && k < op->naddr)
			(*ret)[k++] = r->pub6;
	}
	return k;
}

static void traffic_params_from(const struct agent *a, const struct subnet_env *env,
				struct traffic_params *p)
{
	memset(p, 0, sizeof(*p));
	p->ipv4 = env->has_network && env->has_subnet;
	p->ipv6 = env->has_ipv6_network && env->has_ipv6_subnet;
	p->network = env->network;
	p->subnet = env->subnet;
	p->network6 = env->ipv6_network;
	p->subnet6 = env->ipv6_subnet;
	p->masq = a->flags->ip_masq;
	p->forward = a->flags->iptables_forward_rules;
	p->fully_random_disable = a->flags->ip_masq_fully_random_disable;
	overlay_params(a, p);
}

/* Metric of our blackhole route: above the bridge's own route for the subnet
 * (metric 0), so that the blackhole only takes effect where no bridge holds it
 * and a replace never touches the bridge's route. */
#define BLACKHOLE_METRIC 1000

struct bh_find {
	const struct ip_prefix *dst;
	bool found;
};

static int find_blackhole(const struct nl_route *r, void *arg)
{
	struct bh_find *f = arg;

	if (r->type == RTN_BLACKHOLE && ip_prefix_equal(&r->dst, f->dst))
		f->found = true;
	return 0;
}

/* `blackhole <our subnet>` in the main table (--ip-blackhole-route): a packet
 * for an address of ours that no pod holds is dropped here, not routed out. */
static void ensure_blackhole(struct agent *a)
{
	struct nl *nl = NULL;
	struct err err = { 0 };
	const struct ip_prefix *p[2] = { NULL, NULL };
	int rc;

	if (!a->flags->ip_blackhole_route || !a->own.held)
		return;
	if (a->nc->enable_ipv4)
		p[0] = &a->own.subnet.v4;
	if (a->nc->enable_ipv6)
		p[1] = &a->own.subnet.v6;
	rc = nl_open(&nl);
	if (rc < 0) {
		log_warn_errno(rc, "blackhole route: cannot open netlink, ignoring");
		return;
	}
	for (int i = 0; i < 2; i++) {
		struct nl_route r = { .type = RTN_BLACKHOLE, .protocol = WEFT_RTPROT,
				      .priority = BLACKHOLE_METRIC };
		struct bh_find f = { .dst = p[i] };
		char s[IP_PREFIX_STRLEN];

		if (!p[i])
			continue;
		r.dst = *p[i];
		rc = nl_route_dump(nl, p[i]->addr.family, 0, find_blackhole, &f);
		if (rc == 0 && f.found)
			continue;
		rc = nl_route_replace(nl, &r, &err);
		if (rc < 0) {
			log_warnx("blackhole route %s: %s, retrying", ip_prefix_format(p[i], s),
				  err.msg[0] ? err.msg : strerror(-rc));
			continue;
		}
		a->blackhole_restores++;
		log_info("blackhole route %s installed", ip_prefix_format(p[i], s));
	}
	nl_close(nl);
}

/*
 * Every firewall tool run happens on a worker thread (core/worker.h): an
 * iptables waiting for the xtables lock, or hung, then delays the rules and
 * nothing else; /healthz, lease renewals, watch events and the netlink
 * monitor stay on the loop. While a job runs, the job and the traffic
 * object belong to the thread; the loop reads the result in rules_done.
 * Checks never overlap: a period that finds the last one still running
 * skips its own.
 */
#define RULES_APPLY_ATTEMPTS 3

struct rules_job {
	struct agent *a;  /* for rules_done, on the loop */
	bool setup;       /* start-up: cleanup, then apply; otherwise a check */
	bool peers_only;  /* not setup: only the overlay peers changed */
	struct ip_addr *peers; /* p.peers, owned */
	int64_t ms;       /* how long the job ran */
	struct traffic *t;
	struct traffic_params p, old;
	bool have_old;
	/* results */
	int cleanup_rc;
	char cleanup_what[1024];
	struct err cleanup_err;
	int rc;
	char what[512];
	struct err err;
	int failed_attempts; /* setup: applies that failed before the last one */
	struct err attempt_err[RULES_APPLY_ATTEMPTS - 1];
};

/* On the worker thread: no logging, no agent state. */
static void rules_run(void *arg)
{
	struct rules_job *j = arg;
	int64_t t0 = clock_now_ms();

	if (j->peers_only) {
		j->rc = traffic_peers(j->t, &j->p, j->what, sizeof(j->what), &j->err);
		j->ms = clock_now_ms() - t0;
		return;
	}
	if (!j->setup) {
		j->rc = traffic_check(j->t, &j->p, j->what, sizeof(j->what), &j->err);
		return;
	}
	j->cleanup_rc = traffic_cleanup(j->t, &j->p, j->have_old ? &j->old : NULL,
					j->cleanup_what, sizeof(j->cleanup_what), &j->cleanup_err);
	/* Another tool changing the same tables at the same moment (kube-proxy,
	 * a second agent in tests) makes an iptables-restore fail now and then:
	 * try a few times before giving up. */
	for (int attempt = 1;; attempt++) {
		j->rc = traffic_apply(j->t, &j->p, &j->err);
		if (j->rc == 0 || j->rc == -ECANCELED || attempt == RULES_APPLY_ATTEMPTS)
			break;
		j->attempt_err[j->failed_attempts++] = j->err;
	}
}

static void rules_done(void *arg);

static int rules_submit_kind(struct agent *a, bool setup, bool peers_only)
{
	struct rules_job *j = a->rules_job;

	free(j->peers);
	memset(j, 0, sizeof(*j));
	j->a = a;
	j->setup = setup;
	j->peers_only = peers_only;
	j->t = a->traffic;
	j->p = a->tp;
	/* Every job sees the peers of now: a check restores them too. */
	if (j->p.overlay_proto) {
		j->p.npeers = overlay_peers_snapshot(a, &j->peers);
		j->p.peers = j->peers;
	}
	if (setup && a->have_prev) {
		traffic_params_from(a, &a->prev, &j->old);
		j->have_old = true;
	}
	a->rules_started_ms = clock_now_ms();
	return worker_submit(a->worker, rules_run, rules_done, j);
}

static int rules_submit(struct agent *a, bool setup)
{
	return rules_submit_kind(a, setup, false);
}

/* The lease set changed: bring the overlay peers in line now, unless the
 * worker is busy (rules_done comes back here) or the rules are not in yet
 * (their setup took the peers of its time; rules_done comes back too). */
static void overlay_peers_sync(struct agent *a)
{
	int rc;

	if (!a->overlay || !a->overlay->dirty || !a->tp.overlay_proto || !a->resync_timer ||
	    worker_busy(a->worker))
		return;
	rc = rules_submit_kind(a, false, true);
	if (rc < 0)
		log_warn_errno(rc, "overlay peers: cannot start a thread; the next check will");
}

/* A peer update still running after this long is reported as a stall. */
#define PEERS_JOB_QUIET_MS 10000

static int64_t resync(struct loop *loop, int64_t id, void *arg)
{
	struct agent *a = arg;
	int rc;

	(void)loop;
	(void)id;
	if (worker_busy(a->worker) && a->rules_job->peers_only &&
	    clock_now_ms() - a->rules_started_ms < PEERS_JOB_QUIET_MS) {
		/* A peer update is running (it takes milliseconds): this period's
		 * check waits for the next one. */
	} else if (worker_busy(a->worker)) {
		if (!a->rules_stalled)
			log_warnx("checking traffic rules: the check started %llds ago is still "
				  "running (a firewall tool is slow or hung); not starting another",
				  (long long)(clock_now_ms() - a->rules_started_ms) / 1000);
		a->rules_stalled = true;
	} else {
		a->rule_checks++;
		rc = rules_submit(a, false);
		if (rc < 0) {
			a->rule_errors++;
			log_warn_errno(rc, "checking traffic rules: cannot start a thread, retrying");
		}
	}
	ensure_blackhole(a);
	return a->flags->iptables_resync * 1000;
}

static void start_done(struct agent *a);

/* On the loop: the job's thread has ended. */
static void rules_done(void *arg)
{
	struct rules_job *j = arg;
	struct agent *a = j->a;
	const char *mode = a->nc->enable_nftables ? "nftables" : "iptables";

	if (j->peers_only) {
		if (a->rules_stalled)
			log_info("updating the overlay peers: the slow update ended after %llds",
				 (long long)(clock_now_ms() - a->rules_started_ms) / 1000);
		a->rules_stalled = false;
		if (j->rc < 0) {
			a->rule_errors++;
			log_warnx("updating the overlay peers: %s; the next check retries",
				  j->err.msg);
		} else if (j->rc > 0) {
			log_info("overlay peers updated in %lld ms: %s", (long long)j->ms, j->what);
		}
		overlay_peers_sync(a);
		return;
	}
	if (!j->setup) {
		if (a->rules_stalled)
			log_info("checking traffic rules: the slow check ended after %llds",
				 (long long)(clock_now_ms() - a->rules_started_ms) / 1000);
		a->rules_stalled = false;
		if (j->rc < 0) {
			a->rule_errors++;
			log_warnx("checking traffic rules: %s, retrying", j->err.msg);
		} else if (j->rc > 0) {
			a->rule_restores++;
			log_warnx("traffic rules were missing or altered, restored: %s", j->what);
		}
		overlay_peers_sync(a);
		return;
	}
	if (j->cleanup_rc < 0)
		log_warnx("cleaning old traffic rules: %s, ignoring", j->cleanup_err.msg);
	else if (j->cleanup_rc > 0)
		log_info("cleaned old traffic rules: %s", j->cleanup_what);
	for (int i = 0; i < j->failed_attempts; i++)
		log_warnx("installing traffic rules: %s; trying again", j->attempt_err[i].msg);
	if (j->rc < 0) {
		log_error("installing traffic rules (%s mode): %s", mode, j->err.msg);
		agent_exit(a, 1);
		return;
	}
	log_info("traffic rules installed (%s mode%s%s%s)", mode, a->tp.masq ? ", masquerade" : "",
		 a->tp.forward ? ", forward accept" : "",
		 a->tp.overlay_proto ? ", overlay from peers only" : "");
	ensure_blackhole(a);
	/* --iptables-resync is 1..86400 (flags.c): always a period, never an overflow. */
	a->resync_timer = loop_add_timer(a->loop, a->flags->iptables_resync * 1000, resync, a);
	start_done(a);
	overlay_peers_sync(a);
}

/* Clean what the other mode and the previous network left, then install our
 * rules (flannel.md §2 steps 10-11), on the worker; start_done follows. 0 or
 * -errno, logged. */
static int traffic_setup(struct agent *a, const struct subnet_env *now)
{
	struct err err = { 0 };
	int rc;

	rc = traffic_new(a->nc->enable_nftables, &a->traffic, &err);
	if (rc < 0) {
		log_error("traffic rules: %s", err.msg);
		return rc;
	}
	rc = worker_new(a->loop, &a->worker);
	if (rc < 0) {
		log_error_errno(rc, "traffic rules: cannot set up a worker");
		return rc;
	}
	/* At shutdown, a tool still running is killed, not waited for. */
	traffic_set_cancel_fd(a->traffic, worker_cancel_fd(a->worker));
	a->rules_job = xcalloc(1, sizeof(*a->rules_job));
	traffic_params_from(a, now, &a->tp);
	rc = rules_submit(a, true);
	if (rc < 0)
		log_error_errno(rc, "traffic rules: cannot start a thread");
	return rc;
}

static void on_acquired(void *arg, int rc, const struct lease *own)
{
	struct agent *a = arg;
	struct err err = { 0 };
	unsigned mtu = 0;

	if (rc < 0) {
		if (a->own.held) /* expired, and taken meanwhile (the manager said by whom) */
			log_error("lease %s is lost and cannot be taken back; exiting",
				  a->own.name);
		else
			log_error_errno(rc, "failed to acquire a lease");
		agent_exit(a, 1);
		return;
	}
	rc = a->backend->ops->lease_acquired(a->backend, own, &mtu, &err);
	if (rc < 0) {
		log_error("backend %s: %s", a->backend->ops->type, err.msg);
		agent_exit(a, 1);
		return;
	}
	a->own.held = true;
	a->own.subnet = own->subnet;
	memcpy(a->own.name, own->name, sizeof(a->own.name));
	a->mtu = mtu;
	/* Peers first: watch() delivers the lease set it listed, and start()
	 * programs all of it in one batch (a failure there is retried by the
	 * backend's reconcile loop). subnet.env is written last, once the rules
	 * are in (start_done), so that the first pod it lets start can already
	 * reach every peer. The loop keeps serving meanwhile. */
	rc = a->mgr->ops->watch(a->mgr);
	if (rc < 0) {
		log_error_errno(rc, "cannot watch leases");
		agent_exit(a, 1);
		return;
	}
	rc = backend_start(a->backend);
	if (rc < 0)
		log_warn_errno(rc, "backend %s: first reconcile failed, retrying",
			       a->backend->ops->type);
	/* From now on a recreated or readdressed interface is followed (logged
	 * either way; weftd goes on without it when it cannot start). */
	if (!a->underlay)
		underlay_start(a, &a->underlay);
	subnet_env_of(a, own, mtu, &a->env);
	if (traffic_setup(a, &a->env) < 0)
		agent_exit(a, 1);
}

/* The rules are in: write subnet.env, then say we are ready. */
static void start_done(struct agent *a)
{
	struct err err = { 0 };
	int rc;

	rc = subnet_env_write(a->flags->subnet_file, &a->env, &err);
	if (rc < 0) {
		log_error("cannot write %s: %s", a->flags->subnet_file, err.msg);
		agent_exit(a, 1);
		return;
	}
	a->ready = true;
	if (a->status)
		status_lease(a->status);
	log_info("lease %s held; wrote %s (MTU %u)", a->own.name, a->flags->subnet_file, a->mtu);
	rc = sd_notify_ready();
	if (rc < 0)
		log_warn_errno(rc, "sd_notify READY=1 to $NOTIFY_SOCKET failed, ignoring");
	else if (rc > 0)
		log_info("told the service manager we are ready");
	if (a->mgr->ops->ready)
		a->mgr->ops->ready(a->mgr);
}

/* A large batch (the initial listing, a re-list) is summed up in one line;
 * each peer is still there at debug level. */
#define PEERS_LISTED_MAX 16

static void on_peers(void *arg, const struct lease_event *ev, size_t n)
{
	struct agent *a = arg;
	size_t added = 0;

	for (size_t i = 0; i < n; i++) {
		const struct lease *l = ev[i].lease;
		char pub[IP_ADDR_STRLEN], pub6[IP_ADDR_STRLEN], line[SUBNET_KEY_STRLEN + 160];
		bool has4 = l->attrs.public_ip.family && !ip_addr_is_unset(&l->attrs.public_ip);
		bool has6 = l->attrs.public_ipv6.family != 0;

		added += ev[i].kind == LEASE_ADDED;
		if (ev[i].kind == LEASE_ADDED)
			snprintf(line, sizeof(line), "peer added: %s public %s%s%s backend %s", l->name,
				 has4 || !has6 ? ip_addr_format(&l->attrs.public_ip, pub) : "",
				 has4 && has6 ? "," : "",
				 has6 ? ip_addr_format(&l->attrs.public_ipv6, pub6) : "",
				 l->attrs.backend_type[0] ? l->attrs.backend_type : "(none)");
		else
			snprintf(line, sizeof(line), "peer removed: %s", l->name);
		if (n > PEERS_LISTED_MAX)
			log_debug("%s", line);
		else
			log_info("%s", line);
	}
	if (n > PEERS_LISTED_MAX)
		log_info("peers: %zu added or changed, %zu removed (each one at -v=1)", added,
			 n - added);
	backend_peers(a->backend, ev, n);
	for (size_t i = 0; i < n; i++)
		overlay_peers_event(a, &ev[i]);
	overlay_peers_sync(a);
}

/* An operator deleted our key or revoked its etcd lease while it was valid
 * (an expiry is taken back by the subnet manager instead). */
static void on_revoked(void *arg)
{
	struct agent *a = arg;

	log_info("lease revoked; shutting down");
	agent_exit(a, 0);
}

/* ---- start-up ---- */

static void read_previous(struct agent *a)
{
	struct err err = { 0 };
	char s[IP_PREFIX_STRLEN];
	int rc;

	rc = subnet_env_read(a->flags->subnet_file, &a->prev, &err);
	if (rc == -ENOENT)
		return;
	if (rc < 0) {
		log_warnx("ignoring the previous subnet file %s: %s", a->flags->subnet_file,
			  err.msg);
		return;
	}
	a->have_prev = true;
	if (a->prev.has_subnet)
		log_info("previous subnet from %s: %s", a->flags->subnet_file,
			 ip_prefix_format(&a->prev.subnet, s));
}

/* What either subnet manager tells the agent. */
static struct subnet_mgr_cbs mgr_cbs(struct agent *a)
{
	return (struct subnet_mgr_cbs){
		.arg = a,
		.config = on_config,
		.acquired = on_acquired,
		.peers = on_peers,
		.revoked = on_revoked,
	};
}

static int start_etcd(struct agent *a)
{
	const struct flags *f = a->flags;
	int64_t watch_idle_s = env_seconds("WEFT_TEST_WATCH_IDLE", 0);
	struct etcd_config ec = {
		.endpoints = f->etcd_endpoints,
		.cafile = f->etcd_cafile,
		.username = f->etcd_username,
		.password = f->etcd_password,
		.watch_idle_ms = (watch_idle_s ? watch_idle_s : f->etcd_watch_idle_timeout) * 1000,
	};
	struct etcd_mgr_params p = {
		.loop = a->loop,
		.etcd = &ec,
		.prefix = f->etcd_prefix,
		.prev = a->have_prev ? &a->prev : NULL,
		.lease_ttl_s = env_seconds("WEFT_TEST_LEASE_TTL", 0),
		.renew_margin_s =
			env_seconds("WEFT_TEST_RENEW_MARGIN", f->subnet_lease_renew_margin * 60),
		.renew_retry_s = env_seconds("WEFT_TEST_RENEW_RETRY", 0),
	};
	struct subnet_mgr_cbs cbs = mgr_cbs(a);
	struct err err = { 0 };
	int rc;

	/* As flanneld: a client certificate needs both halves. */
	if (f->etcd_certfile[0] && f->etcd_keyfile[0]) {
		ec.certfile = f->etcd_certfile;
		ec.keyfile = f->etcd_keyfile;
	} else if (f->etcd_certfile[0] || f->etcd_keyfile[0]) {
		log_warnx("--etcd-certfile and --etcd-keyfile must be given together; connecting "
			  "without a client certificate");
	}
	rc = etcd_mgr_new(&p, &cbs, &a->mgr, &err);
	if (rc < 0) {
		log_error("etcd: %s", err.msg);
		return rc;
	}
	log_info("using etcd at %s, prefix %s", f->etcd_endpoints, f->etcd_prefix);
	return a->mgr->ops->start(a->mgr);
}

/* ---- kube mode: the Kubernetes subnet manager (subnet/kube_mgr.h) ---- */
static int start_kube(struct agent *a)
{
	const struct flags *f = a->flags;
	struct kube_mgr_params p = {
		.loop = a->loop,
		.api_url = f->kube_api_url,
		.kubeconfig = f->kubeconfig_file,
		.annotation_prefix = f->kube_annotation_prefix,
		.net_config_path = f->net_config_path,
		.set_node_network_unavailable = f->set_node_network_unavailable,
		.sync_timeout_ms = env_seconds("WEFT_TEST_KUBE_SYNC_TIMEOUT", 0) * 1000,
	};
	struct subnet_mgr_cbs cbs = mgr_cbs(a);
	struct err err = { 0 };
	int rc;

	rc = kube_mgr_new(&p, &cbs, &a->mgr, &err);
	if (rc < 0) {
		log_error("kube subnet manager: %s", err.msg);
		return rc;
	}
	return a->mgr->ops->start(a->mgr);
}
/* ---- end kube mode ---- */

int agent_run(const struct flags *flags)
{
	struct agent a = { .flags = flags, .exit_code = 1 };
	int rc;

	read_previous(&a);
	rc = loop_new(&a.loop);
	if (rc < 0) {
		log_error_errno(rc, "cannot create the event loop");
		return 1;
	}
	rc = loop_add_signal(a.loop, SIGTERM, on_signal, &a);
	if (rc == 0)
		rc = loop_add_signal(a.loop, SIGINT, on_signal, &a);
	if (rc < 0) {
		log_error_errno(rc, "cannot install signal handlers");
		goto out;
	}
	if (flags->healthz_port > 0 || flags->metrics_port > 0) {
		struct err err = { 0 };

		if (status_start(&a, &a.status, &err) < 0) {
			log_error("%s", err.msg);
			goto out;
		}
		if (flags->healthz_port > 0)
			log_info("serving /healthz and /readyz on %s:%lld", flags->healthz_ip,
				 (long long)flags->healthz_port);
		if (flags->metrics_port > 0)
			log_info("serving /metrics and /status on %s:%lld", flags->metrics_ip,
				 (long long)flags->metrics_port);
	}
	if (flags->kube_subnet_mgr ? start_kube(&a) < 0 : start_etcd(&a) < 0)
		goto out;
	rc = loop_add_signal(a.loop, SIGUSR1, on_dump, &a);
	if (rc < 0)
		log_warn_errno(rc, "cannot install the SIGUSR1 handler, ignoring");
	rc = loop_run(a.loop);
	if (rc < 0) {
		log_error_errno(rc, "event loop failed");
		a.exit_code = 1;
	}
	if (a.exit_code == 0)
		log_info("Exiting cleanly...");
out:
	if (a.resync_timer > 0)
		loop_del_timer(a.loop, a.resync_timer);
	underlay_free(a.underlay);
	status_free(a.status);
	worker_free(a.worker); /* first: it may still be using the traffic object */
	if (a.rules_job)
		free(a.rules_job->peers);
	free(a.rules_job);
	overlay_peers_free(a.overlay);
	traffic_free(a.traffic);
	if (a.mgr)
		a.mgr->ops->free(a.mgr);
	backend_free(a.backend);
	loop_free(a.loop);
	return a.exit_code;
}
