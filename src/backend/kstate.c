// SPDX-License-Identifier: Apache-2.0
#include "backend/kstate.h"

#include <errno.h>
#include <linux/netlink.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "backend/backend.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "nl/monitor.h"
#include "nl/nexthop.h"
#include "nl/nl.h"

#define KICK_DELAY_MS 20
/* The periodic reconcile is a backstop (kernel events trigger one at once):
 * for very large peer sets it is spaced out so that it costs at most
 * 1/PERIOD_COST_SHARE of a CPU. */
#define PERIOD_COST_SHARE 200

struct kstate {
	struct loop *loop;
	const struct kstate_ops *ops;
	void *arg;
	const char *who;
	struct nl *nl;
	struct nl_monitor *mon;
	int64_t period_ms;
	int64_t last_run_us; /* how long the last full reconcile took */
	int64_t period_timer, kick_timer;
	bool running;
	bool draining; /* reading what the kernel said about our own run */
	struct kstate_stats stats;
};

static void note(void *arg, enum rc_kind kind, const char *what, const char *why)
{
	struct kstate *k = arg;

	/* The first run adopts and cleans what a previous run left: say so once
	 * per object, it is what an operator wants to know after a restart. */
	log_info("%s: %s %s: %s, fixing", k->who, rc_kind_name(kind), what, why);
}

/* "routes +5000 -2, neighbours +5000 -0, ..." for the kinds that changed. */
static void summarize(const unsigned added[RC_KINDS], const unsigned removed[RC_KINDS], char *buf,
		      size_t len)
{
	static const char *const plural[RC_KINDS] = { "routes", "neighbours", "fdb entries",
						      "nexthops" };
	size_t off = 0;

	buf[0] = 0;
	for (int kind = 0; kind < RC_KINDS && off < len; kind++)
		if (added[kind] || removed[kind])
			off += (size_t)snprintf(buf + off, len - off, "%s%s +%u -%u",
						off ? ", " : "", plural[kind], added[kind],
						removed[kind]);
}

static int run(struct kstate *k, bool initial)
{
	static const int families[] = { AF_INET, AF_INET6 };
	unsigned added[RC_KINDS] = { 0 }, removed[RC_KINDS] = { 0 }, noted = 0;
	int64_t t0 = clock_now_us();
	size_t objects = 0, changes = 0;
	char summary[200];
	double ms;
	int rc;

	if (k->running)
		return 0;
	k->running = true;
	k->stats.runs++;
	rc = k->ops->ensure(k->arg);
	if (rc < 0) {
		log_warn_errno(rc, "%s: cannot set up the device", k->who);
		k->stats.failures++;
		goto out;
	}
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		struct rc_desired want = { 0 };
		struct rc_scope scope = { 0 };
		struct rc_stats st;

		if (!k->ops->desired(k->arg, families[i], &want, &scope))
			continue;
		scope.initial = initial;
		rc = reconcile(k->nl, &scope, &want, note, k, &st);
		if (rc < 0) {
			log_warn_errno(rc, "%s: reconcile failed", k->who);
			k->stats.failures++;
			continue;
		}
		objects += want.n_routes + want.n_neighs + want.n_fdbs + want.n_nexthops;
		noted += st.noted;
		for (int kind = 0; kind < RC_KINDS; kind++) {
			k->stats.corrections[kind] += st.added[kind] + st.removed[kind];
			added[kind] += st.added[kind];
			removed[kind] += st.removed[kind];
			changes += st.added[kind] + st.removed[kind];
		}
		k->stats.failures += st.failed;
		if (st.failed)
			log_warnx("%s: %u kernel changes failed (first: %s); retrying at the next "
				  "reconcile",
				  k->who, st.failed, st.first_failure);
	}
	rc = 0;
	ms = (double)(clock_now_us() - t0) / 1000.0;
	summarize(added, removed, summary, sizeof(summary));
	if (initial)
		log_info("%s: programmed %zu kernel objects for the lease set in %.1f ms%s%s", k->who,
			 objects, ms, changes ? ": " : " (all were in place)", summary);
	else if (changes > noted)
		log_info("%s: reconcile made %zu kernel changes (%s), %zu not listed above", k->who,
			 changes, summary, changes - noted);
	log_debug("%s: reconcile took %.2f ms (%zu objects wanted, %zu changes)", k->who, ms,
		  objects, changes);
	if (!changes) /* what a check costs, not a first programming */
		k->last_run_us = clock_now_us() - t0;
out:
	if (k->ops->desired_done)
		k->ops->desired_done(k->arg);
	/* A full reconcile of thousands of peers allocates and frees megabytes:
	 * hand the free pages back rather than keep the high-water mark. */
	malloc_trim(0);
	k->running = false;
	/* The monitor heard about every change of the run. A large run floods
	 * it, and the overflow would ask for a full reconcile that finds nothing
	 * to do: read it empty now, ignoring that overflow (a foreign change lost
	 * in it waits for the next period). Deletions still count: somebody else
	 * may have made them. */
	k->draining = true;
	if (nl_monitor_drain(k->mon) < 0)
		kstate_kick(k);
	k->draining = false;
	return rc;
}

int kstate_run(struct kstate *k)
{
	return run(k, false);
}

int kstate_start(struct kstate *k)
{
	return run(k, true);
}

static int64_t period_next(const struct kstate *k)
{
	int64_t spaced_ms = k->last_run_us * PERIOD_COST_SHARE / 1000;

	return spaced_ms > k->period_ms ? spaced_ms : k->period_ms;
}

static int64_t period_fire(struct loop *loop, int64_t id, void *arg)
{
	struct kstate *k = arg;

	(void)loop;
	(void)id;
	kstate_run(k);
	return period_next(k);
}

static int64_t kick_fire(struct loop *loop, int64_t id, void *arg)
{
	struct kstate *k = arg;

	(void)loop;
	(void)id;
	k->kick_timer = 0;
	kstate_run(k);
	return LOOP_TIMER_STOP;
}

void kstate_kick(struct kstate *k)
{
	if (!k->kick_timer)
		k->kick_timer = loop_add_timer(k->loop, KICK_DELAY_MS, kick_fire, k);
}

void kstate_commit(struct kstate *k, nl_batch_done *done, void *arg)
{
	int rc;

	if (!nl_batch_pending(k->nl))
		return;
	rc = nl_batch_commit(k->nl, done, arg);
	if (rc < 0)
		log_warn_errno(rc, "%s: programming peers", k->who);
	if (rc != 0)
		kstate_kick(k);
}

static void mon_msg(void *arg, const struct nlmsghdr *nlh)
{
	struct kstate *k = arg;

	/* What we did ourselves (peer events, reconciles) is no drift. */
	if (nlh->nlmsg_pid && nlh->nlmsg_pid == nl_portid(k->nl))
		return;
	if (!k->running && k->ops->concerns(k->arg, nlh))
		kstate_kick(k);
}

static void mon_overflow(void *arg)
{
	struct kstate *k = arg;

	if (k->draining)
		return;
	log_debug("%s: netlink monitor overflowed; full reconcile", k->who);
	kstate_kick(k);
}

static void mon_readable(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct kstate *k = arg;

	(void)loop;
	(void)fd;
	(void)events;
	/* A failed read means events may be lost: reconcile from a dump. */
	if (nl_monitor_read(k->mon) < 0)
		kstate_kick(k);
}

int kstate_new(struct loop *loop, const struct kstate_ops *ops, void *arg, int64_t period_ms,
	       const char *who, struct kstate **ret)
{
	struct nl_monitor_cbs cbs = { 0 };
	struct kstate *k = xcalloc(1, sizeof(*k));
	int rc;

	k->loop = loop;
	k->ops = ops;
	k->arg = arg;
	k->who = who;
	k->period_ms = period_ms;
	rc = nl_open(&k->nl);
	if (rc < 0)
		goto fail;
	cbs.arg = k;
	cbs.msg = mon_msg;
	cbs.overflow = mon_overflow;
	rc = nl_monitor_open(&cbs, &k->mon);
	if (rc < 0)
		goto fail;
	rc = loop_add_fd(loop, nl_monitor_fd(k->mon), LOOP_READ, mon_readable, k);
	if (rc < 0)
		goto fail;
	k->period_timer = loop_add_timer(loop, period_ms, period_fire, k);
	*ret = k;
	return 0;
fail:
	kstate_free(k);
	return rc;
}

void kstate_free(struct kstate *k)
{
	if (!k)
		return;
	if (k->period_timer > 0)
		loop_del_timer(k->loop, k->period_timer);
	if (k->kick_timer > 0)
		loop_del_timer(k->loop, k->kick_timer);
	if (k->mon) {
		loop_del_fd(k->loop, nl_monitor_fd(k->mon));
		nl_monitor_close(k->mon);
	}
	nl_close(k->nl);
	free(k);
}

struct nl *kstate_nl(struct kstate *k)
{
	return k->nl;
}

void kstate_report(const struct kstate *k, struct backend_stats *ret)
{
	ret->reconcile_runs = k->stats.runs;
	for (int kind = 0; kind < RC_KINDS; kind++)
		ret->corrections[kind] = k->stats.corrections[kind];
	ret->netlink_errors = k->stats.failures;
}

static int nexthop_seen(const struct nl_nexthop *nh, void *arg)
{
	(void)nh;
	(void)arg;
	return 0;
}

bool kstate_has_nexthops(struct kstate *k)
{
	int rc = nl_nexthop_dump(k->nl, AF_INET, nexthop_seen, NULL);

	if (rc == 0)
		return true;
	log_info("%s: no nexthop objects (%s): IPv4 routes name their gateway directly", k->who,
		 strerror(-rc));
	return false;
}

const struct kstate_stats *kstate_stats(const struct kstate *k)
{
	return &k->stats;
}
