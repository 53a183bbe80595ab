// SPDX-License-Identifier: Apache-2.0
/*
 * XFRM policies of the kernel ESP engine, over nl/xfrm.h. Upstream adds
 * them on a peer's arrival and deletes them on its departure, and
 * documents that a policy deleted by hand stays deleted and that stale
 * ones survive a restart; here the wanted set is compared with the
 * kernel's every reconcile.
 */
#include "backend/ipsec_xfrm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/err.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "nl/xfrm.h"

struct ipsec_xfrm {
	struct nl_xfrm *nl;
	struct ip_prefix network;
	struct nl_xfrm_policy *want;
	size_t n_want, cap;
	uint64_t runs, added, removed, errors;
	size_t in_kernel; /* ours found by the last reconcile */
};

int ipsec_xfrm_esp_probe(void)
{
	struct nl_xfrm *nl;
	struct err err = { 0 };
	int rc;

	if ((rc = nl_xfrm_open(&nl, &err)) < 0)
		return rc;
	rc = nl_xfrm_esp_probe(nl, &err);
	if (rc < 0)
		log_debug("ipsec: ESP probe: %s", err.msg);
	nl_xfrm_close(nl);
	return rc;
}

int ipsec_xfrm_new(const struct ip_prefix *network, struct ipsec_xfrm **ret, struct err *err)
{
	struct ipsec_xfrm *x = xcalloc(1, sizeof(*x));
	int rc;

	if ((rc = nl_xfrm_open(&x->nl, err)) < 0) {
		free(x);
		return rc;
	}
	x->network = *network;
	*ret = x;
	return 0;
}

void ipsec_xfrm_free(struct ipsec_xfrm *x)
{
	if (!x)
		return;
	nl_xfrm_close(x->nl);
	free(x->want);
	free(x);
}

static const char *dir_name(uint8_t dir)
{
	return dir == NL_XFRM_IN ? "in" : dir == NL_XFRM_OUT ? "out" : "fwd";
}

static void describe(const struct nl_xfrm_policy *p, char *buf, size_t len)
{
	char s[IP_PREFIX_STRLEN], d[IP_PREFIX_STRLEN], ts[IP_ADDR_STRLEN], td[IP_ADDR_STRLEN];

	snprintf(buf, len, "%s %s -> %s via %s -> %s reqid %u", dir_name(p->dir),
		 ip_prefix_format(&p->src, s), ip_prefix_format(&p->dst, d),
		 ip_addr_format(&p->tmpl_src, ts), ip_addr_format(&p->tmpl_dst, td), p->reqid);
}

static void install(struct ipsec_xfrm *x, const struct nl_xfrm_policy *p)
{
	struct err err = { 0 };
	char what[256];

	if (nl_xfrm_policy_update(x->nl, p, &err) < 0) {
		x->errors++;
		describe(p, what, sizeof(what));
		log_warnx("ipsec: cannot install the XFRM policy %s: %s", what, err.msg);
	}
}

static void uninstall(struct ipsec_xfrm *x, const struct nl_xfrm_policy *p)
{
	struct err err = { 0 };
	char what[256];
	int rc = nl_xfrm_policy_del(x->nl, p, &err);

	if (rc < 0 && rc != -ENOENT) {
		x->errors++;
		describe(p, what, sizeof(what));
		log_warnx("ipsec: cannot remove the XFRM policy %s: %s", what, err.msg);
	}
}

static int peer_policies(const struct ipsec_peer_ids *p, struct nl_xfrm_policy pol[3])
{
	return nl_xfrm_peer_policies(&p->local_net, &p->local_ip, &p->remote_net, &p->remote_ip,
				     IPSEC_REQID, pol);
}

void ipsec_xfrm_add_peer(struct ipsec_xfrm *x, const struct ipsec_peer_ids *p)
{
	struct nl_xfrm_policy pol[NL_XFRM_PEER_POLICIES];

	if (peer_policies(p, pol) < 0)
		return;
	if (x->n_want + NL_XFRM_PEER_POLICIES > x->cap) {
		x->cap = x->cap ? 2 * x->cap : 48;
		x->want = xreallocarray(x->want, x->cap, sizeof(*x->want));
	}
	for (int i = 0; i < NL_XFRM_PEER_POLICIES; i++) {
		x->want[x->n_want++] = pol[i];
		install(x, &pol[i]);
	}
}

void ipsec_xfrm_remove_peer(struct ipsec_xfrm *x, const struct ipsec_peer_ids *p)
{
	struct nl_xfrm_policy pol[NL_XFRM_PEER_POLICIES];

	if (peer_policies(p, pol) < 0)
		return;
	for (int i = 0; i < NL_XFRM_PEER_POLICIES; i++) {
		for (size_t k = 0; k < x->n_want; k++) {
			if (nl_xfrm_policy_same(&x->want[k], &pol[i])) {
				x->want[k] = x->want[--x->n_want];
				break;
			}
		}
		uninstall(x, &pol[i]);
	}
}

struct scan {
	struct ipsec_xfrm *x;
	bool *seen;		      /* per wanted policy */
	struct nl_xfrm_policy *stale; /* ours, unwanted */
	size_t n_stale, cap;
	size_t ours;
};

static int scan_cb(const struct nl_xfrm_policy *p, void *arg)
{
	struct scan *s = arg;
	struct ipsec_xfrm *x = s->x;

	if (!nl_xfrm_policy_is_ours(p, IPSEC_REQID) ||
	    !ip_prefix_contains_prefix(&x->network, &p->src) ||
	    !ip_prefix_contains_prefix(&x->network, &p->dst))
		return 0;
	s->ours++;
	for (size_t k = 0; k < x->n_want; k++) {
		if (nl_xfrm_policy_same(p, &x->want[k])) {
			s->seen[k] = true;
			return 0;
		}
	}
	if (s->n_stale == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->stale = xreallocarray(s->stale, s->cap, sizeof(*s->stale));
	}
	s->stale[s->n_stale++] = *p;
	return 0;
}

void ipsec_xfrm_reconcile(struct ipsec_xfrm *x)
{
	struct scan s = { .x = x };
	struct err err = { 0 };
	char what[256];
	unsigned skipped = 0;

	if (!x)
		return;
	x->runs++;
	s.seen = xcalloc(x->n_want + 1, sizeof(*s.seen));
	if (nl_xfrm_policy_dump(x->nl, scan_cb, &s, &skipped, &err) < 0) {
		x->errors++;
		log_warnx("ipsec: cannot read the kernel's XFRM policies: %s", err.msg);
		goto out;
	}
	x->in_kernel = s.ours - s.n_stale;
	for (size_t i = 0; i < s.n_stale; i++) {
		describe(&s.stale[i], what, sizeof(what));
		log_info("ipsec: removing the stale XFRM policy %s", what);
		uninstall(x, &s.stale[i]);
		x->removed++;
	}
	for (size_t k = 0; k < x->n_want; k++) {
		if (s.seen[k])
			continue;
		describe(&x->want[k], what, sizeof(what));
		log_info("ipsec: the XFRM policy %s is missing; installing it again", what);
		install(x, &x->want[k]);
		x->added++;
	}
out:
	free(s.seen);
	free(s.stale);
}

void ipsec_xfrm_report(const struct ipsec_xfrm *x, struct backend_stats *ret)
{
	ret->reconcile_runs += x->runs;
	ret->corrections[0] += x->added + x->removed;
	ret->netlink_errors += x->errors;
}
