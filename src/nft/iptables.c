// SPDX-License-Identifier: Apache-2.0
/*
 * iptables mode (flannel spec 8.1, 8.2): chain FLANNEL-POSTRTG in nat and
 * FLANNEL-FWD in filter, each reached by one jump appended to the builtin
 * chain. Every write is one `iptables-restore --noflush` transaction per
 * table, fed on a socket as stdin (never a shell): the `:CHAIN - [0:0]` line
 * creates or flushes the chain, existing jumps are deleted and ours appended,
 * then the chain is refilled, so order is guaranteed and there is no moment
 * with a half-filled chain.
 *
 * The check lists the chain with `-S` and compares the whole text (so extra
 * and reordered rules count), plus the jump in the builtin chain; on any
 * difference the set is re-applied. WEFT-OVERLAY (weft's overlay filter) is
 * compared as a set of peers, in any order, before its DROP; a peer change
 * (traffic_peers) writes only the -I / -D lines for what differs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/container_of.h"
#include "core/xmalloc.h"
#include "nft/iptables_int.h"
#include "nft/rules.h"
#include "nft/text.h"
#include "nft/traffic_int.h"

/* ---- the mode ---- */

static struct ipt_mode *to_ipt(struct traffic_mode *base)
{
	return container_of(base, struct ipt_mode, base);
}

static int ipt_create(bool in_use, struct traffic_mode **ret, struct err *err)
{
	struct ipt_mode *m = xcalloc(1, sizeof(*m));

	(void)in_use;
	(void)err;
	ipt_tools_find(m->bin);
	*ret = &m->base;
	return 0;
}

static void ipt_forget(struct traffic_mode *base)
{
	struct ipt_mode *m = to_ipt(base);
	int fi, set;

	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		for (set = 0; set < TRAFFIC_NSET; set++) {
			free(m->ref[fi][set]);
			free(m->ref_jump[fi][set]);
			m->ref[fi][set] = m->ref_jump[fi][set] = NULL;
		}
	}
}

static void ipt_destroy(struct traffic_mode *base)
{
	struct ipt_mode *m = to_ipt(base);

	ipt_forget(base);
	ipt_tools_free(m->bin);
	free(m);
}

/* ---- apply ---- */

/* Keep what the kernel reports after our write, when it is not our text. */
static void take_refs(struct ipt_mode *m, int fi, enum traffic_set set,
		      const struct ipt_rules *r)
{
	const struct ipt_set_def *d = &ipt_sets[set];
	struct buf got, want, jumps;
	unsigned n;

	free(m->ref[fi][set]);
	free(m->ref_jump[fi][set]);
	m->ref[fi][set] = m->ref_jump[fi][set] = NULL;
	buf_init(&got, IPT_OUT_MAX);
	buf_init(&want, IPT_OUT_MAX);
	buf_init(&jumps, IPT_OUT_MAX);
	/* The overlay chain's text changes with the peers: compared as a
	 * peer list, never through a reference. */
	if (set != TRAFFIC_OVERLAY && ipt_list(m, fi, d->table, d->chain, &got, NULL) == 0 &&
	    ipt_chain_text(r, set, &want) == 0 &&
	    strcmp(traffic_text(&got), traffic_text(&want)) != 0)
		m->ref[fi][set] = xstrdup(traffic_text(&got));
	buf_reset(&want);
	if (ipt_list(m, fi, d->table, d->builtin, &got, NULL) == 0 &&
	    traffic_bprintf(&want, "-A %s %s", d->builtin, r->jump) == 0 &&
	    !traffic_has_line(traffic_text(&got), traffic_text(&want), want.len) &&
	    ipt_delete_jumps(traffic_text(&got), d->chain, &jumps, &n) == 0 && n == 1) {
		/* "-D..." back to the "-A..." the listing shows, without "\n" */
		jumps.data[1] = 'A';
		jumps.data[jumps.len - 1] = '\0';
		m->ref_jump[fi][set] = xstrdup(jumps.data);
	}
	buf_free(&got);
	buf_free(&want);
	buf_free(&jumps);
}

/* The rules one set should hold, once the tools are known to be there. */
static int wanted_rules(struct ipt_mode *m, const struct traffic_params *p, int fi,
			enum traffic_set set, struct ipt_rules *ret, struct err *err)
{
	const struct ipt_set_def *d = &ipt_sets[set];
	int rc;

	rc = ipt_need_tools(m, fi, d->what, err);
	if (rc < 0)
		return rc;
	ipt_probe(m, fi);
	rc = ipt_build(p, fi, set, ipt_random_fully(m, fi, p), ret);
	if (rc < 0)
		return err_set(err, rc, "%s %s rules: bad network or subnet", ipt_fam_name[fi],
			       d->what);
	return 0;
}

static int apply_set(struct ipt_mode *m, const struct traffic_params *p, int fi,
		     enum traffic_set set, struct err *err)
{
	const struct ipt_set_def *d = &ipt_sets[set];
	struct buf listing, payload;
	struct ipt_rules r;
	int rc, attempt;

	rc = wanted_rules(m, p, fi, set, &r, err);
	if (rc < 0)
		return rc;
	buf_init(&listing, IPT_OUT_MAX);
	buf_init(&payload, IPT_OUT_MAX);
	/* A jump deleted by someone else between our listing and the restore
	 * fails the transaction; one more round settles it. */
	for (attempt = 0; attempt < 2; attempt++) {
		rc = ipt_list(m, fi, d->table, d->builtin, &listing, err);
		if (rc > 0)
			rc = -EIO;
		if (rc < 0)
			goto out;
		buf_reset(&payload);
		rc = traffic_ipt_restore_text(p, fi ? AF_INET6 : AF_INET, set,
					      ipt_random_fully(m, fi, p), traffic_text(&listing),
					      &payload);
		if (rc < 0) {
			err_set(err, rc, "%s %s rules: payload too large", ipt_fam_name[fi],
				d->what);
			goto out;
		}
		rc = ipt_restore(m, fi, payload.data, err);
		if (rc == 0)
			break;
	}
	if (rc < 0)
		goto out;
	take_refs(m, fi, set, &r);
out:
	ipt_rules_free(&r);
	buf_free(&listing);
	buf_free(&payload);
	return rc;
}

static int ipt_apply(struct traffic_mode *base, const struct traffic_params *p, struct err *err)
{
	struct ipt_mode *m = to_ipt(base);
	int fi, set, rc;

	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		for (set = 0; set < TRAFFIC_NSET; set++) {
			if (!traffic_set_on(p, fi, (enum traffic_set)set))
				continue;
			rc = apply_set(m, p, fi, (enum traffic_set)set, err);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* ---- check ---- */

/*
 * A set's chain listed into got: 0, 1 when there is no such chain (a listing
 * that fails means that: the message differs between legacy and nft back
 * ends), -EAGAIN when the tool could not get the xtables lock in time, or
 * another -errno (err says why).
 */
static int list_chain(struct ipt_mode *m, int fi, const struct ipt_set_def *d, struct buf *got,
		      struct err *err)
{
	struct err e = { { 0 } };
	int rc = ipt_list(m, fi, d->table, d->chain, got, &e);

	if (rc >= 0 && rc != IPT_EXIT_RESOURCE)
		return rc > 0 ? 1 : 0;
	if (err)
		*err = e;
	return rc < 0 ? rc : -EAGAIN;
}

/* 0: as expected; 1: not (what says how); -errno. */
static int check_set(struct ipt_mode *m, const struct traffic_params *p, int fi,
		     enum traffic_set set, char *what, size_t len, struct err *err)
{
	const struct ipt_set_def *d = &ipt_sets[set];
	const char *tool = ipt_tool_name[fi][0], *ref;
	struct buf got, want, jumps;
	struct ipt_rules r;
	char diff[96];
	int rc, bad = 0;
	unsigned n;

	rc = wanted_rules(m, p, fi, set, &r, err);
	if (rc < 0)
		return rc;
	buf_init(&got, IPT_OUT_MAX);
	buf_init(&want, IPT_OUT_MAX);
	buf_init(&jumps, IPT_OUT_MAX);

	rc = list_chain(m, fi, d, &got, err);
	if (rc < 0)
		goto out;
	if (rc > 0) {
		traffic_note(what, len, "%s %s chain %s missing", tool, d->table, d->chain);
		bad = 1;
	} else if (set == TRAFFIC_OVERLAY) {
		unsigned added, removed;

		rc = traffic_ipt_peers_text(p, fi ? AF_INET6 : AF_INET, traffic_text(&got), &want,
					    &added, &removed);
		if (rc == -E2BIG)
			goto out;
		if (rc < 0) {
			traffic_note(what, len, "%s %s chain %s altered", tool, d->table, d->chain);
			bad = 1;
		} else if (added + removed) {
			traffic_note(what, len, "%s %s chain %s: %u peers missing, %u extra", tool,
				     d->table, d->chain, added, removed);
			bad = 1;
		}
	} else {
		rc = ipt_chain_text(&r, set, &want);
		if (rc < 0)
			goto out;
		ref = m->ref[fi][set] ? m->ref[fi][set] : traffic_text(&want);
		if (strcmp(traffic_text(&got), ref) != 0) {
			traffic_describe_diff(ref, traffic_text(&got), diff, sizeof(diff));
			traffic_note(what, len, "%s %s chain %s altered (%s)", tool, d->table,
				     d->chain, diff);
			bad = 1;
		}
	}

	/* The jump: exactly one, ours. */
	rc = ipt_list(m, fi, d->table, d->builtin, &got, err);
	if (rc > 0)
		rc = -EIO;
	if (rc < 0)
		goto out;
	rc = ipt_delete_jumps(traffic_text(&got), d->chain, &jumps, &n);
	if (rc < 0)
		goto out;
	buf_reset(&want);
	if (m->ref_jump[fi][set])
		rc = traffic_bprintf(&want, "%s", m->ref_jump[fi][set]);
	else
		rc = traffic_bprintf(&want, "-A %s %s", d->builtin, r.jump);
	if (rc < 0)
		goto out;
	if (n == 0) {
		traffic_note(what, len, "%s %s %s jump to %s missing", tool, d->table, d->builtin,
			     d->chain);
		bad = 1;
	} else if (n > 1) {
		traffic_note(what, len, "%s %s %s has %u jumps to %s", tool, d->table, d->builtin,
			     n, d->chain);
		bad = 1;
	} else if (!traffic_has_line(traffic_text(&got), want.data, want.len)) {
		traffic_note(what, len, "%s %s %s jump to %s altered", tool, d->table, d->builtin,
			     d->chain);
		bad = 1;
	}
	rc = bad;
out:
	ipt_rules_free(&r);
	buf_free(&got);
	buf_free(&want);
	buf_free(&jumps);
	return rc;
}

static int ipt_check(struct traffic_mode *base, const struct traffic_params *p, char *what,
		     size_t len, struct err *err)
{
	struct ipt_mode *m = to_ipt(base);
	int fi, set, rc, restored = 0;

	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		for (set = 0; set < TRAFFIC_NSET; set++) {
			if (!traffic_set_on(p, fi, (enum traffic_set)set))
				continue;
			rc = check_set(m, p, fi, (enum traffic_set)set, what, len, err);
			if (rc == 1)
				rc = apply_set(m, p, fi, (enum traffic_set)set, err);
			else if (rc == 0)
				continue;
			if (rc < 0)
				return rc;
			restored = 1;
		}
	}
	return restored;
}

/* ---- cleanup ---- */

/*
 * Remove a set's chain and every rule jumping to it, in one transaction:
 * deleting the jumps first is what lets the chain go (a chain still
 * referenced cannot be deleted; upstream's cleanup trips on exactly that).
 * 0 nothing there, 1 removed, -errno.
 */
static int remove_chain(struct ipt_mode *m, int fi, enum traffic_set set, struct err *err)
{
	const struct ipt_set_def *d = &ipt_sets[set];
	struct buf listing, payload;
	char decl[64];
	bool has_chain;
	unsigned n;
	int rc;

	buf_init(&listing, IPT_OUT_MAX);
	buf_init(&payload, IPT_OUT_MAX);
	rc = ipt_list(m, fi, d->table, NULL, &listing, err);
	if (rc > 0)
		rc = -EIO;
	if (rc < 0)
		goto out;
	snprintf(decl, sizeof(decl), "-N %s", d->chain);
	has_chain = traffic_has_line(traffic_text(&listing), decl, strlen(decl));
	rc = traffic_bprintf(&payload, "*%s\n", d->table);
	if (rc == 0)
		rc = ipt_delete_jumps(traffic_text(&listing), d->chain, &payload, &n);
	if (rc == 0 && has_chain)
		rc = traffic_bprintf(&payload, "-F %s\n-X %s\n", d->chain, d->chain);
	if (rc == 0)
		rc = traffic_bprintf(&payload, "COMMIT\n");
	if (rc < 0) {
		err_set(err, rc, "%s %s: too many rules", ipt_tool_name[fi][0], d->table);
		goto out;
	}
	if (!has_chain && n == 0)
		goto out;
	if (!m->bin[fi].restore) {
		rc = err_set(err, -ENOENT, "%s not found in PATH", ipt_tool_name[fi][1]);
		goto out;
	}
	rc = ipt_restore(m, fi, payload.data, err);
	if (rc == 0)
		rc = 1;
out:
	buf_free(&listing);
	buf_free(&payload);
	return rc;
}

static void ipt_remove_leftovers(struct traffic_mode *base, char *what, size_t len)
{
	struct ipt_mode *m = to_ipt(base);
	struct err e = { { 0 } };
	int fi, set, rc;

	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		if (!m->bin[fi].ipt) {
			traffic_note(what, len, "%s not found in PATH, not looking for "
				     "iptables-mode leftovers", ipt_tool_name[fi][0]);
			continue;
		}
		ipt_probe(m, fi);
		for (set = 0; set < TRAFFIC_NSET; set++) {
			rc = remove_chain(m, fi, (enum traffic_set)set, &e);
			if (rc == 1)
				traffic_note(what, len, "removed %s %s chain %s and its jumps "
					     "(left by iptables mode)", ipt_tool_name[fi][0],
					     ipt_sets[set].table, ipt_sets[set].chain);
			else if (rc < 0)
				traffic_note(what, len, "could not remove iptables-mode leftovers "
					     "(%s), ignoring", e.msg);
		}
	}
}

/* Delete the rules `old` computed that its chain still holds (with either
 * MASQUERADE form, since the random-fully choice may have changed). */
static int delete_old_rules(struct ipt_mode *m, const struct traffic_params *old, int fi,
			    enum traffic_set set, char *what, size_t len, struct err *err)
{
	const struct ipt_set_def *d = &ipt_sets[set];
	struct ipt_rules r[2];
	struct buf listing, payload;
	char line[IPT_RULE_MAX + 32], net[IP_PREFIX_STRLEN], pod[IP_PREFIX_STRLEN];
	unsigned i, v, n = 0;
	int rc;

	if (ipt_build(old, fi, set, false, &r[0]) < 0 || ipt_build(old, fi, set, true, &r[1]) < 0)
		return 0;
	rc = ipt_need_tools(m, fi, d->what, err);
	if (rc < 0)
		return rc;
	ipt_probe(m, fi);
	buf_init(&listing, IPT_OUT_MAX);
	buf_init(&payload, IPT_OUT_MAX);
	rc = ipt_list(m, fi, d->table, d->chain, &listing, NULL);
	if (rc != 0) {
		rc = rc > 0 ? 0 : rc; /* no chain, nothing to delete */
		goto out;
	}
	rc = traffic_bprintf(&payload, "*%s\n", d->table);
	for (i = 0; i < r[0].n && rc == 0; i++) {
		for (v = 0; v < 2 && rc == 0; v++) {
			if (v == 1 && strcmp(r[0].rule[i], r[1].rule[i]) == 0)
				break;
			snprintf(line, sizeof(line), "-A %s %s", d->chain, r[v].rule[i]);
			if (!traffic_has_line(traffic_text(&listing), line, strlen(line)))
				continue;
			rc = traffic_bprintf(&payload, "-D %s %s\n", d->chain, r[v].rule[i]);
			n++;
		}
	}
	if (rc == 0)
		rc = traffic_bprintf(&payload, "COMMIT\n");
	if (rc < 0 || n == 0)
		goto out;
	rc = ipt_restore(m, fi, payload.data, err);
	if (rc < 0) {
		err_prefix(err, rc, "deleting the rules of the previous %s network",
			   ipt_fam_name[fi]);
		goto out;
	}
	traffic_prefixes(old, fi, set, net, pod);
	if (set == TRAFFIC_MASQ)
		traffic_note(what, len, "deleted %u %s rule%s for the previous network %s, "
			     "subnet %s", n, ipt_tool_name[fi][0], n == 1 ? "" : "s", net, pod);
	else
		traffic_note(what, len, "deleted %u %s rule%s for the previous network %s", n,
			     ipt_tool_name[fi][0], n == 1 ? "" : "s", net);
out:
	buf_free(&listing);
	buf_free(&payload);
	return rc;
}

static bool set_params_differ(const struct traffic_params *a, const struct traffic_params *b,
			      int fi, enum traffic_set set)
{
	char na[IP_PREFIX_STRLEN], pa[IP_PREFIX_STRLEN], nb[IP_PREFIX_STRLEN],
		pb[IP_PREFIX_STRLEN];

	if (traffic_prefixes(a, fi, set, na, pa) < 0 || traffic_prefixes(b, fi, set, nb, pb) < 0)
		return true;
	return strcmp(na, nb) != 0 || (set == TRAFFIC_MASQ && strcmp(pa, pb) != 0);
}

static int ipt_cleanup(struct traffic_mode *base, const struct traffic_params *now,
		       const struct traffic_params *old, char *what, size_t len, struct err *err)
{
	struct ipt_mode *m = to_ipt(base);
	struct err e = { { 0 } };
	int fi, set, rc;

	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		for (set = 0; set < TRAFFIC_NSET; set++) {
			enum traffic_set s = (enum traffic_set)set;

			if (!traffic_set_on(now, fi, s)) {
				/* Off now: our chain, if any, goes entirely. Without
				 * the tools there can be nothing of ours. */
				if (!m->bin[fi].ipt)
					continue;
				ipt_probe(m, fi);
				rc = remove_chain(m, fi, s, &e);
				if (rc < 0)
					traffic_note(what, len, "could not check for %s %s rules "
						     "to remove (%s), ignoring", ipt_fam_name[fi],
						     ipt_sets[s].what, e.msg);
				else if (rc == 1)
					traffic_note(what, len, "removed %s %s chain %s and its "
						     "jumps (%s %s is off)", ipt_tool_name[fi][0],
						     ipt_sets[s].table, ipt_sets[s].chain,
						     ipt_fam_name[fi], ipt_sets[s].what);
				continue;
			}
			/* The overlay chain is written whole by every apply,
			 * its jumps replaced: nothing of old to delete. */
			if (s == TRAFFIC_OVERLAY || !old || !traffic_set_on(old, fi, s) ||
			    !set_params_differ(now, old, fi, s))
				continue;
			rc = delete_old_rules(m, old, fi, s, what, len, err);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* ---- overlay peers ---- */

#define IPT_PEER_DELETES_MAX 64

/* One family's peer rules: only what differs, in one transaction; the chain
 * whole when it is missing or holds anything else. 0, 1 or -errno. */
static int peers_family(struct ipt_mode *m, const struct traffic_params *p, int fi, char *what,
			size_t len, struct err *err)
{
	const struct ipt_set_def *d = &ipt_sets[TRAFFIC_OVERLAY];
	const char *tool = ipt_tool_name[fi][0];
	struct buf got, payload;
	struct err e = { { 0 } };
	unsigned added = 0, removed = 0;
	int rc;

	rc = ipt_need_tools(m, fi, d->what, err);
	if (rc < 0)
		return rc;
	ipt_probe(m, fi);
	buf_init(&got, IPT_OUT_MAX);
	buf_init(&payload, IPT_OUT_MAX);
	rc = list_chain(m, fi, d, &got, err);
	if (rc < 0)
		goto out;
	if (rc > 0) {
		traffic_note(what, len, "%s %s chain %s missing", tool, d->table, d->chain);
		goto whole;
	}
	rc = traffic_ipt_peers_text(p, fi ? AF_INET6 : AF_INET, traffic_text(&got), &payload,
				    &added, &removed);
	if (rc == -E2BIG) {
		err_set(err, rc, "%s overlay peers: payload too large", ipt_fam_name[fi]);
		goto out;
	}
	if (rc < 0) {
		traffic_note(what, len, "%s %s chain %s altered", tool, d->table, d->chain);
		goto whole;
	}
	if (added + removed == 0)
		goto out;
	/* Each -D looks its rule up: past a few dozen, writing the chain
	 * whole (one flush, one append each) is the cheaper transaction. */
	if (removed > IPT_PEER_DELETES_MAX) {
		traffic_note(what, len, "%s peers: %u added, %u removed", ipt_fam_name[fi], added,
			     removed);
		goto whole;
	}
	rc = ipt_restore(m, fi, payload.data, &e);
	if (rc == -ECANCELED) {
		if (err)
			*err = e;
		goto out;
	}
	if (rc == 0) {
		traffic_note(what, len, "%s peers: %u added, %u removed", ipt_fam_name[fi], added,
			     removed);
		rc = 1;
		goto out;
	}
	/* The chain changed under us: write it whole. */
	traffic_note(what, len, "%s peer update failed (%s)", ipt_fam_name[fi], e.msg);
whole:
	rc = apply_set(m, p, fi, TRAFFIC_OVERLAY, err);
	if (rc == 0) {
		traffic_note(what, len, "%s %s chain %s rewritten", tool, d->table, d->chain);
		rc = 1;
	}
out:
	buf_free(&got);
	buf_free(&payload);
	return rc;
}

static int ipt_peers(struct traffic_mode *base, const struct traffic_params *p, char *what,
		     size_t len, struct err *err)
{
	struct ipt_mode *m = to_ipt(base);
	int fi, rc, changed = 0;

	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		if (!traffic_set_on(p, fi, TRAFFIC_OVERLAY))
			continue;
		rc = peers_family(m, p, fi, what, len, err);
		if (rc < 0)
			return rc;
		changed |= rc;
	}
	return changed;
}

const struct traffic_mode_ops traffic_ipt_ops = {
	.create = ipt_create,
	.destroy = ipt_destroy,
	.forget = ipt_forget,
	.cleanup = ipt_cleanup,
	.remove_leftovers = ipt_remove_leftovers,
	.apply = ipt_apply,
	.check = ipt_check,
	.peers = ipt_peers,
};
