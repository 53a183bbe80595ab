// SPDX-License-Identifier: Apache-2.0
/*
 * ipsec (flannel.md §7.6): strongSwan's charon, our child, negotiates keys
 * with every peer host over IKEv2 with the cluster's PSK, and ESP in tunnel
 * mode carries the pods' traffic between the subnets. One IKE connection
 * with one child per peer, loaded over VICI (ipsec/vici_client.h) from the
 * control loop, never through a swanctl process.
 *
 * Two ESP engines, chosen at start:
 *   - kernel: flannel's way. charon installs the SAs, weft the three XFRM
 *     policies of each peer (ipsec_xfrm.c), and beyond upstream reconciles
 *     them: a deleted one comes back, stale ones go at start;
 *   - userspace: where the kernel has no ESP, charon's kernel-libipsec
 *     carries ESP (in UDP) through its TUN ipsec0 and installs its own
 *     policies and routes; weft installs nothing in XFRM.
 *
 * Beyond upstream: charon is restarted when it dies (its connections
 * reloaded), killed and restarted when it stops answering, and kept apart
 * from any other strongSwan on the host (ipsec/charon.h); a peer whose PSK
 * differs is named in the log.
 */
#include "backend/ipsec.h"
#include "backend/options.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "backend/ipsec_conf.h"
#include "backend/ipsec_ike.h"
#include "backend/ipsec_xfrm.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/container_of.h"
#include "core/err.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/xmalloc.h"
#include "ipsec/charon.h"
#include "ipsec/vici.h"
#include "ipsec/vici_client.h"
#include "nl/link.h"
#include "nl/nl.h"
#include "nl/route.h"
#include "subnet/netconf.h"
#include "subnet/subnet_mgr.h"

#define RECONCILE_PERIOD_MS 5000
#define CONNECT_RETRY_MS 100
#define CONNECT_WARN_MS 10000
#define HUNG_MS 20000	       /* charon not answering VICI this long is killed */
#define AUTH_WARN_EVERY_MS 30000
#define FAIL_LOG_EVERY_MS 60000
#define TUN_DEV "ipsec0"
#define LIBIPSEC_MTU 1400 /* the MTU kernel-libipsec gives ipsec0, and reads with */


struct ipsec_peer {
	struct hmap_node node; /* by lease name */
	char name[SUBNET_KEY_STRLEN];
	struct ipsec_peer_ids ids;
	char conn[IPSEC_NAME_MAX];   /* wanted in charon */
	char loaded[IPSEC_NAME_MAX]; /* in charon as far as we know ("" = none) */
	char psk_id[IP_ADDR_STRLEN + 8];
	int64_t auth_warned_ms;
	int64_t fail_logged_ms;
	uint64_t up_gen; /* the list-sas that last saw a CHILD_SA of it installed */
	unsigned missing; /* listings in a row without its CHILD_SA */
	bool retrying;	  /* initiated again since it was last up (logged once) */
};

/* A connection to take out of charon: its lease went or changed. */
struct ipsec_gone {
	struct ipsec_gone *next;
	char conn[IPSEC_NAME_MAX];
	char psk_id[IP_ADDR_STRLEN + 8]; /* "" = keep the key (the peer stays) */
};

struct ipsec_backend;

/* One VICI request in flight: what its reply is about. */
struct ipsec_req {
	struct ipsec_req *next, **pprev;
	struct ipsec_backend *b;
	enum { REQ_SHARED, REQ_CONN, REQ_UNLOAD, REQ_TERMINATE, REQ_UNSHARE, REQ_REGISTER,
	       REQ_LIST, REQ_INITIATE } kind;
	char lease[SUBNET_KEY_STRLEN];
	char conn[IPSEC_NAME_MAX];
};

struct ipsec_backend {
	struct backend base;
	struct ipsec_conf conf;
	struct ip_prefix network;
	enum backend_engine want_engine;
	bool userspace;
	const char *engine;
	char charon_exe[512];
	char run_dir[512];
	struct charon *charon;
	struct vici_client *vici;
	int64_t connect_timer, connect_since_ms, reconcile_timer;
	bool connect_warned;
	bool local_psk_loaded;
	bool ready; /* our lease is known */
	struct ipsec_peer_ids own;
	struct hmap peers;
	struct ipsec_gone *gone;
	struct ipsec_req *reqs;
	struct ipsec_xfrm *xfrm; /* kernel engine */
	struct nl *nl;
	unsigned mtu;
	bool guard_failed;
	/* figures for /metrics and /status */
	uint64_t charon_starts, vici_errors, auth_failures;
	uint64_t ike_up, child_up, peers_up, ike_up_count, child_up_count; /* last list-sas */
	uint64_t child_retries; /* CHILD_SAs initiated again (retry_children) */
	uint64_t list_gen;
	bool listing;
};

static struct ipsec_backend *to_ipsec(struct backend *base)
{
	return container_of(base, struct ipsec_backend, base);
}

static void peer_free(struct hmap_node *n)
{
	free(hmap_entry(n, struct ipsec_peer, node));
}

/* ---- VICI requests ---- */

static void vici_reset(struct ipsec_backend *b);
static void sync_charon(struct ipsec_backend *b);

static struct ipsec_req *req_new(struct ipsec_backend *b, int kind, const char *lease,
				 const char *conn)
{
	struct ipsec_req *r = xcalloc(1, sizeof(*r));

	r->b = b;
	r->kind = kind;
	snprintf(r->lease, sizeof(r->lease), "%s", lease ? lease : "");
	snprintf(r->conn, sizeof(r->conn), "%s", conn ? conn : "");
	r->next = b->reqs;
	if (b->reqs)
		b->reqs->pprev = &r->next;
	r->pprev = &b->reqs;
	b->reqs = r;
	return r;
}

static void req_free(struct ipsec_req *r)
{
	*r->pprev = r->next;
	if (r->next)
		r->next->pprev = r->pprev;
	free(r);
}

static void on_reply(struct vici_client *c, int status, const struct vici_msg *reply, void *arg);

/* Send what out holds; false when it could not be queued (the caller
 * stops, and the next sync sends what is still missing). */
static bool send_req(struct ipsec_backend *b, struct buf *out, int built, int kind,
		     const char *lease, const char *conn)
{
	struct ipsec_req *r;
	int rc;

	if (built < 0) {
		log_warnx("ipsec: cannot encode a VICI request for %s: %s", conn && *conn ? conn : "charon",
			  strerror(-built));
		buf_reset(out);
		return false;
	}
	r = req_new(b, kind, lease, conn);
	rc = vici_client_request(b->vici, out->data, out->len, on_reply, r);
	buf_reset(out);
	if (rc < 0) {
		req_free(r);
		b->vici_errors++;
		log_warnx("ipsec: cannot send to charon: %s", strerror(-rc));
		return false;
	}
	return true;
}

static struct ipsec_peer *peer_by_conn(struct ipsec_backend *b, const char *conn)
{
	size_t it;

	for (struct hmap_node *n = hmap_first(&b->peers, &it); n; n = hmap_next(&b->peers, n, &it)) {
		struct ipsec_peer *p = hmap_entry(n, struct ipsec_peer, node);

		if (!strcmp(p->conn, conn) || !strcmp(p->loaded, conn))
			return p;
	}
	return NULL;
}

static void count_sas(struct ipsec_backend *b, const struct vici_msg *m)
{
	const struct vici_node *root = vici_msg_root(m);

	/* list-sa: { <ike name> { state = ESTABLISHED, child-sas { <name> { state } } } } */
	for (const struct vici_node *ike = vici_first(root, VICI_SECTION); ike;
	     ike = vici_next(ike)) {
		const struct vici_node *children;
		char state[32];

		if (vici_node_kind(ike) != VICI_SECTION)
			continue;
		if (vici_get_str(ike, "state", state, sizeof(state)) == 0 &&
		    !strcmp(state, "ESTABLISHED"))
			b->ike_up_count++;
		children = vici_find(ike, VICI_SECTION, "child-sas");
		for (const struct vici_node *ch = children ? vici_first(children, VICI_SECTION) : NULL;
		     ch; ch = vici_next(ch)) {
			struct ipsec_peer *p;

			if (vici_node_kind(ch) != VICI_SECTION ||
			    vici_get_str(ch, "state", state, sizeof(state)) < 0 ||
			    strcmp(state, "INSTALLED"))
				continue;
			b->child_up_count++;
			if ((p = peer_by_conn(b, vici_node_name(ike))))
				p->up_gen = b->list_gen;
		}
	}
}

static void on_log(struct ipsec_backend *b, const struct vici_msg *m)
{
	const struct vici_node *root = vici_msg_root(m);
	char ike[IPSEC_NAME_MAX], msg[512];
	struct ipsec_peer *p;
	int64_t now;

	if (vici_get_str(root, "msg", msg, sizeof(msg)) < 0 ||
	    (!strstr(msg, "AUTHENTICATION_FAILED") && !strstr(msg, "MAC mismatched")))
		return;
	b->auth_failures++;
	if (vici_get_str(root, "ikesa-name", ike, sizeof(ike)) < 0 || !(p = peer_by_conn(b, ike)))
		return;
	now = clock_now_ms();
	if (p->auth_warned_ms && now - p->auth_warned_ms < AUTH_WARN_EVERY_MS)
		return;
	p->auth_warned_ms = now;
	log_warnx("ipsec: peer %s (%s): authentication failed: \"%s\"; does it have another PSK?",
		  p->name, ike, msg);
}

static void on_event(struct vici_client *c, const char *name, const struct vici_msg *m, void *arg)
{
	struct ipsec_backend *b = arg;

	(void)c;
	if (!m)
		return;
	if (!strcmp(name, "log"))
		on_log(b, m);
	else if (!strcmp(name, "list-sa") && b->listing)
		count_sas(b, m);
}

/*
 * charon gives up on a CHILD_SA whose set-up failed and keeps the IKE_SA
 * (userspace ESP: its route through ipsec0 cannot be installed while no
 * local address lies in our subnet, e.g. before cni0 has one): nothing would
 * bring that pair of hosts back. A peer loaded but without an installed
 * CHILD_SA in CHILD_RETRY_LISTINGS listings in a row is initiated again.
 */
#define CHILD_RETRY_LISTINGS 2

static void retry_children(struct ipsec_backend *b)
{
	struct buf out;
	size_t it;

	buf_init(&out, VICI_MAX_PACKET);
	for (struct hmap_node *n = hmap_first(&b->peers, &it); n; n = hmap_next(&b->peers, n, &it)) {
		struct ipsec_peer *p = hmap_entry(n, struct ipsec_peer, node);
		char child[IPSEC_NAME_MAX];

		if (!*p->loaded || p->up_gen == b->list_gen) {
			if (p->retrying && p->up_gen == b->list_gen)
				log_info("ipsec: CHILD_SA with peer %s (%s) installed", p->name,
					 p->loaded);
			p->missing = 0;
			p->retrying = false;
			continue;
		}
		if (++p->missing < CHILD_RETRY_LISTINGS)
			continue;
		p->missing = 0;
		b->child_retries++;
		if (!p->retrying)
			log_info("ipsec: no CHILD_SA with peer %s (%s) for %d s; initiating it "
				 "again (every %d s until it is installed)",
				 p->name, p->loaded, CHILD_RETRY_LISTINGS * RECONCILE_PERIOD_MS / 1000,
				 CHILD_RETRY_LISTINGS * RECONCILE_PERIOD_MS / 1000);
		p->retrying = true;
		if (!send_req(b, &out, ike_initiate(&out, p->loaded, ipsec_child_name(&p->ids, child)),
			      REQ_INITIATE, p->name, p->loaded))
			break;
	}
	buf_free(&out);
}

static void on_reply(struct vici_client *c, int status, const struct vici_msg *reply, void *arg)
{
	struct ipsec_req *r = arg;
	struct ipsec_backend *b = r->b;
	struct hmap_node *node;
	struct ipsec_peer *p;
	char why[256] = "";
	int rc = status;

	(void)c;
	/* list-sas answers with an empty message: no success key */
	if (status == 0 && reply && r->kind != REQ_REGISTER && r->kind != REQ_LIST)
		rc = ike_reply_status(vici_msg_root(reply), why, sizeof(why));
	else if (status < 0)
		snprintf(why, sizeof(why), "%s", strerror(-status));
	if (status == -ECONNRESET || status == -ECANCELED || status == -EPIPE) {
		req_free(r); /* the connection went: all is sent again */
		return;
	}
	switch (r->kind) {
	case REQ_SHARED:
		if (rc < 0) {
			b->vici_errors++;
			log_warnx("ipsec: charon refused the PSK%s%s: %s", *r->lease ? " for " : "",
				  r->lease, why);
			if (!*r->lease)
				b->local_psk_loaded = false;
		}
		break;
	case REQ_CONN:
		node = hmap_get(&b->peers, r->lease);
		p = node ? hmap_entry(node, struct ipsec_peer, node) : NULL;
		if (rc < 0) {
			int64_t now = clock_now_ms();

			b->vici_errors++;
			/* Tried again every reconcile; said again once a minute. */
			if (!p || !p->fail_logged_ms || now - p->fail_logged_ms >= FAIL_LOG_EVERY_MS) {
				log_warnx("ipsec: peer %s: charon refused connection %s: %s", r->lease,
					  r->conn, why);
				if (p)
					p->fail_logged_ms = now;
			}
			if (p && !strcmp(p->loaded, r->conn))
				p->loaded[0] = 0; /* loaded again by the next sync */
		} else {
			log_info("ipsec: peer %s: loaded connection %s", r->lease, r->conn);
		}
		break;
	case REQ_UNLOAD:
		if (rc < 0 && status != -ENOENT)
			log_warnx("ipsec: cannot unload connection %s: %s", r->conn, why);
		else
			log_info("ipsec: unloaded connection %s", r->conn);
		break;
	case REQ_INITIATE: /* the next list-sas tells */
	case REQ_TERMINATE:
	case REQ_UNSHARE:
		/* Nothing to terminate, or no key: fine either way. */
		break;
	case REQ_REGISTER:
		if (rc < 0)
			log_warnx("ipsec: charon has no '%s' event: %s", r->conn, why);
		break;
	case REQ_LIST:
		b->listing = false;
		if (rc == 0) {
			size_t it;

			b->ike_up = b->ike_up_count;
			b->child_up = b->child_up_count;
			b->peers_up = 0;
			for (struct hmap_node *n = hmap_first(&b->peers, &it); n;
			     n = hmap_next(&b->peers, n, &it))
				b->peers_up += hmap_entry(n, struct ipsec_peer, node)->up_gen ==
					       b->list_gen;
			retry_children(b);
		}
		break;
	}
	req_free(r);
}

static void vici_closed(struct vici_client *c, int error, void *arg);

static void register_event(struct ipsec_backend *b, const char *event)
{
	struct ipsec_req *r = req_new(b, REQ_REGISTER, NULL, event);

	if (vici_client_register(b->vici, event, true, on_reply, r) < 0)
		req_free(r);
}

static int64_t connect_cb(struct loop *loop, int64_t id, void *arg)
{
	struct ipsec_backend *b = arg;
	struct vici_client_cbs cbs = { .event = on_event, .close = vici_closed, .arg = b };
	int rc;

	(void)id;
	if (b->vici || !charon_pid(b->charon)) {
		b->connect_timer = 0;
		return LOOP_TIMER_STOP;
	}
	rc = vici_client_connect(loop, charon_vici_path(b->charon), &cbs, &b->vici);
	if (rc < 0) {
		if (!b->connect_warned && clock_now_ms() - b->connect_since_ms > CONNECT_WARN_MS) {
			b->connect_warned = true;
			log_warnx("ipsec: charon (pid %d) has not opened %s after %d s: %s; see "
				  "%s/charon.log", (int)charon_pid(b->charon),
				  charon_vici_path(b->charon), CONNECT_WARN_MS / 1000, strerror(-rc),
				  b->run_dir);
		}
		return CONNECT_RETRY_MS;
	}
	b->connect_timer = 0;
	log_info("ipsec: talking to charon (pid %d) over %s", (int)charon_pid(b->charon),
		 charon_vici_path(b->charon));
	register_event(b, "log");
	register_event(b, "list-sa");
	sync_charon(b);
	return LOOP_TIMER_STOP;
}

static void start_connecting(struct ipsec_backend *b)
{
	b->connect_since_ms = clock_now_ms();
	b->connect_warned = false;
	loop_timer_set(b->base.loop, &b->connect_timer, CONNECT_RETRY_MS, connect_cb, b);
}

/* Charon forgot everything (a restart) or the socket went: all is loaded
 * again on the next connection. */
static void vici_reset(struct ipsec_backend *b)
{
	size_t it;

	if (b->vici) {
		vici_client_free(b->vici);
		b->vici = NULL;
	}
	/* A freed client calls no callback: their requests are ours to free. */
	while (b->reqs)
		req_free(b->reqs);
	b->local_psk_loaded = false;
	b->listing = false;
	for (struct hmap_node *n = hmap_first(&b->peers, &it); n; n = hmap_next(&b->peers, n, &it))
		hmap_entry(n, struct ipsec_peer, node)->loaded[0] = 0;
	while (b->gone) {
		struct ipsec_gone *g = b->gone;

		b->gone = g->next;
		free(g);
	}
}

static void vici_closed(struct vici_client *c, int error, void *arg)
{
	struct ipsec_backend *b = arg;

	(void)c;
	log_warnx("ipsec: lost the VICI connection to charon: %s", strerror(error < 0 ? -error : error));
	b->vici_errors++;
	vici_reset(b);
	if (charon_pid(b->charon))
		start_connecting(b);
}

/* Bring charon's connections to what the leases want. */
static void sync_charon(struct ipsec_backend *b)
{
	char own[IP_ADDR_STRLEN];
	struct buf out;
	size_t it;

	if (!b->vici || !b->ready)
		return;
	buf_init(&out, VICI_MAX_PACKET);
	if (!b->local_psk_loaded) {
		ip_addr_format(&b->own.local_ip, own);
		if (!send_req(b, &out, ike_load_shared(&out, "weft-local", b->conf.psk, own),
			      REQ_SHARED, NULL, NULL))
			goto out;
		b->local_psk_loaded = true;
	}
	while (b->gone) {
		struct ipsec_gone *g = b->gone;

		if (!send_req(b, &out, ike_unload_conn(&out, g->conn), REQ_UNLOAD, NULL, g->conn) ||
		    !send_req(b, &out, ike_terminate(&out, g->conn), REQ_TERMINATE, NULL, g->conn))
			goto out;
		if (*g->psk_id &&
		    !send_req(b, &out, ike_unload_shared(&out, g->psk_id), REQ_UNSHARE, NULL, NULL))
			goto out;
		b->gone = g->next;
		free(g);
	}
	for (struct hmap_node *n = hmap_first(&b->peers, &it); n; n = hmap_next(&b->peers, n, &it)) {
		struct ipsec_peer *p = hmap_entry(n, struct ipsec_peer, node);
		char ip[IP_ADDR_STRLEN];

		if (!strcmp(p->loaded, p->conn))
			continue;
		ip_addr_format(&p->ids.remote_ip, ip);
		if (!send_req(b, &out, ike_load_shared(&out, p->psk_id, b->conf.psk, ip), REQ_SHARED,
			      p->name, NULL) ||
		    !send_req(b, &out, ike_load_conn(&out, &b->conf, &p->ids, b->userspace), REQ_CONN,
			      p->name, p->conn))
			goto out;
		snprintf(p->loaded, sizeof(p->loaded), "%s", p->conn);
	}
out:
	buf_free(&out);
}

static void list_sas(struct ipsec_backend *b)
{
	struct buf out;

	if (!b->vici || b->listing)
		return;
	buf_init(&out, VICI_MAX_PACKET);
	b->ike_up_count = b->child_up_count = 0;
	b->list_gen++;
	if (send_req(b, &out, ike_command(&out, "list-sas"), REQ_LIST, NULL, NULL))
		b->listing = true;
	buf_free(&out);
}

/* ---- charon's life ---- */

static void charon_event(void *arg, enum charon_event ev, int status)
{
	struct ipsec_backend *b = arg;

	switch (ev) {
	case CHARON_STARTED:
		b->charon_starts++;
		log_info("ipsec: started %s (pid %d, %s ESP, config in %s)", b->charon_exe, status,
			 b->engine, b->run_dir);
		start_connecting(b);
		break;
	case CHARON_EXITED:
		if (WIFSIGNALED(status))
			log_warnx("ipsec: charon was killed by signal %d; starting it again",
				  WTERMSIG(status));
		else
			log_warnx("ipsec: charon exited with status %d; starting it again (see "
				  "%s/charon.log)", WEXITSTATUS(status), b->run_dir);
		loop_timer_clear(b->base.loop, &b->connect_timer);
		vici_reset(b);
		break;
	case CHARON_FAILED:
		log_error("ipsec: cannot start %s: %s failed: %s", b->charon_exe,
			  charon_failure(b->charon), strerror(-status));
		break;
	}
}

/* ---- reconcile ---- */

static void tun_mtu(struct ipsec_backend *b)
{
	struct nl_link l;
	struct err err = { 0 };

	if (!b->nl || nl_link_get_by_name(b->nl, TUN_DEV, &l) < 0 || l.mtu == b->mtu)
		return;
	if (nl_link_set_mtu(b->nl, l.index, b->mtu, &err) == 0)
		log_info("ipsec: %s MTU set to %u (was %u)", TUN_DEV, b->mtu, l.mtu);
	else
		log_warnx("ipsec: %s: %s", TUN_DEV, err.msg);
}

/*
 * Userspace ESP only: an unreachable route for the Network in the main
 * table. charon's routes through ipsec0 (table 220, rule 220) come first;
 * while charon is down or before a peer's SA is in place, pod traffic for
 * other hosts then stops here instead of leaving by the default route in
 * the clear. Kernel ESP needs none: weft's XFRM policies stay and want ESP.
 * Kept after weftd exits (fail closed).
 */
static void guard_route(struct ipsec_backend *b)
{
	struct nl_route r = {
		.dst = b->network,
		.protocol = WEFT_RTPROT,
		.type = RTN_UNREACHABLE,
	};
	struct err err = { 0 };

	if (!b->nl || nl_route_replace(b->nl, &r, &err) == 0) {
		b->guard_failed = false;
		return;
	}
	if (!b->guard_failed)
		log_warnx("ipsec: cannot install the unreachable route for the Network (pod "
			  "traffic could leave unencrypted while charon is down): %s", err.msg);
	b->guard_failed = true;
}

static int64_t reconcile_cb(struct loop *loop, int64_t id, void *arg)
{
	struct ipsec_backend *b = arg;

	(void)loop;
	(void)id;
	if (b->vici && vici_client_pending(b->vici) &&
	    vici_client_oldest_ms(b->vici) > HUNG_MS) {
		log_warnx("ipsec: charon (pid %d) has not answered VICI for %d s; killing it",
			  (int)charon_pid(b->charon), HUNG_MS / 1000);
		charon_kill(b->charon);
		return RECONCILE_PERIOD_MS;
	}
	sync_charon(b);
	list_sas(b);
	if (b->userspace) {
		tun_mtu(b);
		guard_route(b);
	} else
		ipsec_xfrm_reconcile(b->xfrm);
	return RECONCILE_PERIOD_MS;
}

/* Our side of the peer's connection, once our lease is known. */
static void peer_bind(struct ipsec_backend *b, struct ipsec_peer *p)
{
	if (!b->ready)
		return;
	p->ids.local_ip = b->own.local_ip;
	p->ids.local_net = b->own.local_net;
	ipsec_conn_name(&p->ids, p->conn);
}

/* ---- backend ops ---- */

static void ipsec_destroy(struct backend *base);

static int ipsec_create(const struct backend_params *p, struct backend **ret, struct err *err)
{
	const struct netconf *nc = p->nc;
	struct ipsec_backend *b;
	int rc, esp;

	rc = ipsec_options_check_net(nc, err);
	if (rc < 0)
		return rc;
	if (p->ext->public_ip.family != AF_INET)
		return err_set(err, -EINVAL, "the ipsec backend needs an IPv4 public address");
	b = xcalloc(1, sizeof(*b));
	backend_base_init(&b->base, p);
	hmap_init(&b->peers);
	b->network = nc->network;
	rc = ipsec_conf_parse(nc->backend_json, &b->conf, err);
	if (rc < 0)
		goto fail;
	snprintf(b->run_dir, sizeof(b->run_dir), "%s",
		 p->ipsec_run_dir && *p->ipsec_run_dir ? p->ipsec_run_dir : IPSEC_RUN_DIR_DEFAULT);
	rc = charon_find(p->charon_path, b->charon_exe, sizeof(b->charon_exe), err);
	if (rc < 0)
		goto fail;
	b->want_engine = backend_engine_from_env("WEFT_IPSEC_ENGINE");
	esp = b->want_engine == BACKEND_ENGINE_USERSPACE ? 0 : ipsec_xfrm_esp_probe();
	/* Tests: the kernel engine's policies on a kernel without ESP, whose
	 * SAs then never install. */
	if (b->want_engine == BACKEND_ENGINE_KERNEL && getenv("WEFT_IPSEC_TEST_NO_ESP_PROBE") &&
	    !strcmp(getenv("WEFT_IPSEC_TEST_NO_ESP_PROBE"), "1"))
		esp = 1;
	if (b->want_engine == BACKEND_ENGINE_KERNEL && esp != 1) {
		rc = err_set(err, -EOPNOTSUPP, "WEFT_IPSEC_ENGINE=kernel, but this kernel has no "
			     "ESP transform (%s): load esp4, or use the userspace engine",
			     esp < 0 ? strerror(-esp) : "the esp4 module is missing");
		goto fail;
	}
	b->userspace = esp != 1;
	b->engine = b->userspace ? "userspace" : "kernel";
	if (b->want_engine == BACKEND_ENGINE_AUTO && esp < 0)
		log_warnx("ipsec: cannot tell whether the kernel has ESP (%s); using userspace ESP",
			  strerror(-esp));
	b->mtu = ipsec_mtu(p->ext->mtu, b->conf.udp_encap || b->userspace);
	if (!b->mtu) {
		rc = err_set(err, -EINVAL, "MTU %u is too small for the ipsec backend", p->ext->mtu);
		goto fail;
	}
	/* kernel-libipsec reads its TUN in buffers of the MTU it created it
	 * with: a larger packet would arrive cut short and be dropped. */
	if (b->userspace && b->mtu > LIBIPSEC_MTU) {
		log_info("ipsec: FLANNEL_MTU %u, not %u: strongSwan's kernel-libipsec carries "
			 "packets of at most %u bytes", LIBIPSEC_MTU, b->mtu, LIBIPSEC_MTU);
		b->mtu = LIBIPSEC_MTU;
	}
	if ((rc = nl_open(&b->nl)) < 0) {
		err_set(err, rc, "cannot open netlink: %s", strerror(-rc));
		goto fail;
	}
	log_info("IPSec config: UDPEncap=%s ESPProposal=%s; %s ESP%s", b->conf.udp_encap ? "true" : "false",
		 b->conf.esp_proposal, b->engine,
		 b->userspace ? " (strongSwan kernel-libipsec, ESP in UDP, through " TUN_DEV ")" :
				" (kernel XFRM)");
	*ret = &b->base;
	return 0;
fail:
	ipsec_destroy(&b->base);
	return rc;
}

static int ipsec_lease_attrs(struct backend *base, struct lease_attrs *attrs, struct err *err)
{
	(void)base;
	(void)err;
	snprintf(attrs->backend_type, sizeof(attrs->backend_type), "ipsec");
	free(attrs->backend_data);
	free(attrs->backend_v6_data);
	attrs->backend_data = attrs->backend_v6_data = NULL;
	return 0;
}

static int ipsec_lease_acquired(struct backend *base, const struct lease *own, unsigned *ret_mtu,
				struct err *err)
{
	struct ipsec_backend *b = to_ipsec(base);
	struct charon_params cp = {
		.loop = base->loop,
		.exe = b->charon_exe,
		.run_dir = b->run_dir,
		.userspace = b->userspace,
		.event = charon_event,
		.arg = b,
	};
	int rc;

	b->own.local_ip = own->attrs.public_ip;
	b->own.local_net = own->subnet.v4;
	if (!b->userspace) {
		rc = ipsec_xfrm_new(&b->network, &b->xfrm, err);
		if (rc < 0)
			return rc;
	}
	b->ready = true;
	{ /* our own lease, if it came as a peer before we knew it */
		struct hmap_node *self = hmap_remove(&b->peers, own->name);

		if (self)
			peer_free(self);
	}
	{
		size_t it;

		for (struct hmap_node *n = hmap_first(&b->peers, &it); n;
		     n = hmap_next(&b->peers, n, &it)) {
			struct ipsec_peer *p = hmap_entry(n, struct ipsec_peer, node);

			peer_bind(b, p);
			if (b->xfrm)
				ipsec_xfrm_add_peer(b->xfrm, &p->ids);
		}
	}
	if (!b->charon) {
		rc = charon_start(&cp, &b->charon, err);
		if (rc < 0)
			return err_prefix(err, rc, "ipsec: charon");
	}
	if (b->userspace)
		guard_route(b);
	loop_timer_set(base->loop, &b->reconcile_timer, RECONCILE_PERIOD_MS, reconcile_cb, b);
	*ret_mtu = b->mtu;
	return 0;
}

static void forget(struct ipsec_backend *b, struct ipsec_peer *p, bool drop_key)
{
	struct ipsec_gone *g;

	if (!*p->loaded)
		return;
	g = xcalloc(1, sizeof(*g));
	snprintf(g->conn, sizeof(g->conn), "%s", p->loaded);
	if (drop_key)
		snprintf(g->psk_id, sizeof(g->psk_id), "%s", p->psk_id);
	g->next = b->gone;
	b->gone = g;
	p->loaded[0] = 0;
}

static void ipsec_peers(struct backend *base, const struct lease_event *ev, size_t n)
{
	struct ipsec_backend *b = to_ipsec(base);

	for (size_t i = 0; i < n; i++) {
		const struct lease *l = ev[i].lease;
		struct hmap_node *old_node = hmap_get(&b->peers, l->name);
		struct ipsec_peer *old = old_node ? hmap_entry(old_node, struct ipsec_peer, node) : NULL;
		struct ipsec_peer *p;
		char ip[IP_ADDR_STRLEN];

		if (ev[i].kind == LEASE_REMOVED || strcmp(l->attrs.backend_type, "ipsec") ||
		    !subnet_key_has_v4(&l->subnet) || l->attrs.public_ip.family != AF_INET) {
			if (ev[i].kind == LEASE_ADDED && strcmp(l->attrs.backend_type, "ipsec"))
				log_warnx("ipsec: ignoring lease %s of type '%s'", l->name,
					  l->attrs.backend_type);
			if (old) {
				forget(b, old, true);
				if (b->xfrm)
					ipsec_xfrm_remove_peer(b->xfrm, &old->ids);
				hmap_remove(&b->peers, l->name);
				peer_free(&old->node);
			}
			continue;
		}
		/* upstream ignores events for its own subnet */
		if (b->ready && ip_prefix_equal(&l->subnet.v4, &b->own.local_net))
			continue;
		p = xcalloc(1, sizeof(*p));
		memcpy(p->name, l->name, sizeof(p->name));
		p->node.key = p->name;
		p->ids.remote_ip = l->attrs.public_ip;
		p->ids.remote_net = l->subnet.v4;
		peer_bind(b, p);
		snprintf(p->psk_id, sizeof(p->psk_id), "weft-%s", ip_addr_format(&p->ids.remote_ip, ip));
		if (old) {
			/* Same connection: keep it; else the old one goes first. */
			if (!strcmp(old->conn, p->conn)) {
				free(p);
				continue;
			}
			forget(b, old, !ip_addr_equal(&old->ids.remote_ip, &p->ids.remote_ip));
			if (b->xfrm)
				ipsec_xfrm_remove_peer(b->xfrm, &old->ids);
			hmap_remove(&b->peers, l->name);
			peer_free(&old->node);
		}
		hmap_put(&b->peers, &p->node);
		if (b->xfrm && b->ready)
			ipsec_xfrm_add_peer(b->xfrm, &p->ids);
	}
	sync_charon(b);
}

static int ipsec_start(struct backend *base)
{
	struct ipsec_backend *b = to_ipsec(base);

	/* The initial lease set is known: stale policies can go. */
	if (b->xfrm)
		ipsec_xfrm_reconcile(b->xfrm);
	return 0;
}

static size_t loaded_count(const struct ipsec_backend *b)
{
	size_t it, n = 0;

	for (struct hmap_node *h = hmap_first(&b->peers, &it); h; h = hmap_next(&b->peers, h, &it))
		n += *hmap_entry(h, struct ipsec_peer, node)->loaded != 0;
	return n;
}

static void ipsec_dump(struct backend *base)
{
	struct ipsec_backend *b = to_ipsec(base);

	log_info("ipsec: %s ESP, charon pid %d (started %llu times), %zu peers, %zu connections "
		 "loaded, %llu peers up, %llu IKE SAs established, %llu child SAs installed, %llu "
		 "authentication failures seen, %llu VICI errors, %llu CHILD_SAs initiated again",
		 b->engine, (int)charon_pid(b->charon), (unsigned long long)b->charon_starts,
		 b->peers.count, loaded_count(b), (unsigned long long)b->peers_up,
		 (unsigned long long)b->ike_up,
		 (unsigned long long)b->child_up, (unsigned long long)b->auth_failures,
		 (unsigned long long)b->vici_errors, (unsigned long long)b->child_retries);
}

static void ipsec_stats(struct backend *base, struct backend_stats *ret)
{
	struct ipsec_backend *b = to_ipsec(base);

	ret->peers_programmed = loaded_count(b);
	ret->engine = b->engine;
	if (b->xfrm)
		ipsec_xfrm_report(b->xfrm, ret);
}

/* ---- /metrics ---- */

static double read_engine_kernel(void *arg)
{
	return !((struct ipsec_backend *)arg)->userspace;
}

static double read_engine_user(void *arg)
{
	return ((struct ipsec_backend *)arg)->userspace;
}

#define READER(name, expr)                                \
	static double name(void *arg)                     \
	{                                                 \
		const struct ipsec_backend *b = arg;      \
		return (double)(expr);                    \
	}
READER(read_starts, b->charon_starts)
READER(read_conns, loaded_count(b))
READER(read_ike, b->ike_up)
READER(read_peers_up, b->peers_up)
READER(read_child, b->child_up)
READER(read_auth, b->auth_failures)
READER(read_vici_errors, b->vici_errors)
READER(read_child_retries, b->child_retries)

static int ipsec_metrics(struct backend *base, struct metrics *m)
{
	struct ipsec_backend *b = to_ipsec(base);
	static const char *const engine_label[] = { "engine", NULL };
	struct metrics_family *eng = NULL;
	int rc;

	if ((rc = metrics_family_add(m, METRICS_GAUGE, "weft_ipsec_engine",
				     "1 for the ESP engine in use: kernel (XFRM) or userspace "
				     "(strongSwan kernel-libipsec).", engine_label, &eng)) < 0 ||
	    (rc = metrics_child_func(eng, (const char *const[]){ "kernel" }, read_engine_kernel, b,
				     NULL)) < 0 ||
	    (rc = metrics_child_func(eng, (const char *const[]){ "userspace" }, read_engine_user, b,
				     NULL)) < 0 ||
	    (rc = metrics_counter_func_new(m, "weft_ipsec_charon_starts_total",
					   "Times charon was started (1 + restarts).", read_starts,
					   b)) < 0 ||
	    (rc = metrics_gauge_func_new(m, "weft_ipsec_connections",
					 "Peer connections loaded into charon.", read_conns, b)) < 0 ||
	    (rc = metrics_gauge_func_new(m, "weft_ipsec_ike_sas",
					 "IKE SAs established, at the last look (every 5 s); two "
					 "peers that start at once may hold two.",
					 read_ike, b)) < 0 ||
	    (rc = metrics_gauge_func_new(m, "weft_ipsec_peers_up",
					 "Peers with a CHILD_SA installed, at the last look (every "
					 "5 s).", read_peers_up, b)) < 0 ||
	    (rc = metrics_gauge_func_new(m, "weft_ipsec_child_sas",
					 "Child SAs installed, at the last look (every 5 s).",
					 read_child, b)) < 0 ||
	    (rc = metrics_counter_func_new(m, "weft_ipsec_auth_failures_total",
					   "IKE authentication failures charon reported (a peer "
					   "with another PSK).", read_auth, b)) < 0 ||
	    (rc = metrics_counter_func_new(m, "weft_ipsec_vici_errors_total",
					   "VICI requests charon refused, and lost connections.",
					   read_vici_errors, b)) < 0 ||
	    (rc = metrics_counter_func_new(m, "weft_ipsec_child_retries_total",
					   "CHILD_SAs initiated again: a loaded peer without one "
					   "for 10 s.", read_child_retries, b)) < 0)
		return rc;
	return 0;
}

/* Same public address: charon's connections stay as they are. Another one
 * is in every SA and policy we installed: only a restart follows it. */
static int ipsec_ext_changed(struct backend *base, const struct ext_iface *ext,
			     struct err *err)
{
	char a[IP_ADDR_STRLEN], c[IP_ADDR_STRLEN];

	if (!ip_addr_equal(&ext->public_ip, &base->ext.public_ip))
		return err_set(err, -EOPNOTSUPP,
			       "the ipsec backend cannot move its SAs from %s to %s in place",
			       ip_addr_format(&base->ext.public_ip, a),
			       ip_addr_format(&ext->public_ip, c));
	base->ext = *ext;
	return 0;
}

static void ipsec_destroy(struct backend *base)
{
	struct ipsec_backend *b = to_ipsec(base);

	loop_timer_clear(base->loop, &b->connect_timer);
	loop_timer_clear(base->loop, &b->reconcile_timer);
	vici_reset(b);
	while (b->reqs)
		req_free(b->reqs);
	if (b->charon)
		log_info("ipsec: stopping charon (pid %d)", (int)charon_pid(b->charon));
	charon_stop(b->charon);
	ipsec_xfrm_free(b->xfrm);
	if (b->nl)
		nl_close(b->nl);
	hmap_clear(&b->peers, peer_free);
	hmap_destroy(&b->peers);
	ipsec_conf_clear(&b->conf);
	free(b);
}

const struct backend_ops ipsec_backend_ops = {
	.type = "ipsec",
	.create = ipsec_create,
	.lease_attrs = ipsec_lease_attrs,
	.lease_acquired = ipsec_lease_acquired,
	.peers = ipsec_peers,
	.start = ipsec_start,
	.dump = ipsec_dump,
	.stats = ipsec_stats,
	.metrics = ipsec_metrics,
	.ext_changed = ipsec_ext_changed,
	.destroy = ipsec_destroy,
};
