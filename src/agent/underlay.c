// SPDX-License-Identifier: Apache-2.0
/*
 * Following the external interface while weftd runs (agent/underlay.h): a
 * monitor of link and address changes, a settling timer, the selection run
 * again, and the backend and our lease moved to what it finds.
 */
#include "agent/underlay.h"

#include <errno.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/flags.h"
#include "agent/iface.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "nl/addr.h"
#include "nl/link.h"
#include "nl/monitor.h"
#include "subnet/lease.h"
#include "subnet/netconf.h"
#include "subnet/subnet_mgr.h"

/* Changes come in bursts (link, then its addresses, then routes): select
 * once they have settled. */
#define SETTLE_MS 300
/* While the interface is missing, routes (default route, --iface-can-reach)
 * may bring it back without a link or address event: look again this often. */
#define MISSING_RETRY_MS 2000

/* ---- what changed (pure, unit-tested) ---- */

struct text {
	char *buf;
	size_t len, off;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->off + 1 >= t->len)
		return;
	if (t->off) {
		n = snprintf(t->buf + t->off, t->len - t->off, ", ");
		t->off += (size_t)n < t->len - t->off ? (size_t)n : t->len - t->off - 1;
	}
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->off, t->len - t->off, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->off += (size_t)n < t->len - t->off ? (size_t)n : t->len - t->off - 1;
}

static const char *addr_text(const struct ip_addr *a, char *buf)
{
	return a->family ? ip_addr_format(a, buf) : "none";
}

static bool addr_diff(struct text *t, const char *what, const struct ip_addr *a,
		      const struct ip_addr *b)
{
	char x[IP_ADDR_STRLEN], y[IP_ADDR_STRLEN];

	if (a->family == b->family && (!a->family || ip_addr_equal(a, b)))
		return false;
	text_add(t, "%s %s -> %s", what, addr_text(a, x), addr_text(b, y));
	return true;
}

unsigned underlay_diff(const struct ext_iface *old, const struct ext_iface *now, char *buf,
		       size_t len)
{
	struct text t = { buf, len, 0 };
	bool v4 = old->public_ip.family || now->public_ip.family;
	bool v6 = old->public_ipv6.family || now->public_ipv6.family;
	unsigned d = 0;

	if (len)
		buf[0] = 0;
	if (strncmp(old->name, now->name, sizeof(old->name))) {
		d |= UNDERLAY_NAME;
		text_add(&t, "interface %.*s -> %.*s", (int)sizeof(old->name), old->name,
			 (int)sizeof(now->name), now->name);
	}
	if (old->index != now->index) {
		d |= UNDERLAY_INDEX;
		text_add(&t, "index %d -> %d", old->index, now->index);
	}
	/* An interface address counts only for a family in use (one with a
	 * public address): a link-local IPv6 address coming and going on an
	 * IPv4 network changes nothing. */
	if ((v4 && addr_diff(&t, "address", &old->iface_addr, &now->iface_addr)) |
	    (v6 && addr_diff(&t, "IPv6 address", &old->iface_addr6, &now->iface_addr6)))
		d |= UNDERLAY_ADDR;
	if (addr_diff(&t, "public address", &old->public_ip, &now->public_ip) |
	    addr_diff(&t, "public IPv6 address", &old->public_ipv6, &now->public_ipv6))
		d |= UNDERLAY_PUBLIC;
	if (old->mtu != now->mtu) {
		d |= UNDERLAY_MTU;
		text_add(&t, "MTU %u -> %u", old->mtu, now->mtu);
	}
	return d;
}

/* An address the interface in use carries for a family in use. */
static bool is_ours(const struct ext_iface *cur, const struct ip_addr *a)
{
	return (cur->public_ip.family && cur->iface_addr.family &&
		ip_addr_equal(a, &cur->iface_addr)) ||
	       (cur->public_ipv6.family && cur->iface_addr6.family &&
		ip_addr_equal(a, &cur->iface_addr6));
}

enum underlay_event underlay_classify(const struct ext_iface *cur, bool missing,
				      const struct nlmsghdr *nlh, char *what, size_t len)
{
	char s[IP_ADDR_STRLEN];

	if (len)
		what[0] = 0;
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK: {
		struct nl_link l;
		bool same_name;

		if (nl_link_parse(nlh, &l) < 0)
			return UNDERLAY_EV_NONE;
		same_name = !strncmp(l.name, cur->name, sizeof(l.name));
		if (nlh->nlmsg_type == RTM_DELLINK) {
			if (l.index != cur->index)
				return UNDERLAY_EV_NONE;
			snprintf(what, len, "interface %s (index %d) was deleted", cur->name,
				 cur->index);
			return UNDERLAY_EV_LOST;
		}
		if (l.index == cur->index && !same_name) {
			snprintf(what, len, "interface %s (index %d) was renamed to %s", cur->name,
				 cur->index, l.name);
			return UNDERLAY_EV_LOST;
		}
		if (same_name && l.index != cur->index) {
			snprintf(what, len, "a new interface %s (index %d) appeared", l.name,
				 l.index);
			return UNDERLAY_EV_RECHECK;
		}
		if (missing) {
			snprintf(what, len, "interface %s (index %d) changed", l.name, l.index);
			return UNDERLAY_EV_MAYBE;
		}
		return UNDERLAY_EV_NONE;
	}
	case RTM_NEWADDR:
	case RTM_DELADDR: {
		struct nl_addr a;

		if (nl_addr_parse(nlh, &a) < 0)
			return UNDERLAY_EV_NONE;
		/* Only the families in use (those with a public address). */
		if (!(a.prefix.addr.family == AF_INET ? cur->public_ip.family
						      : cur->public_ipv6.family))
			return UNDERLAY_EV_NONE;
		if (nlh->nlmsg_type == RTM_DELADDR) {
			if (a.index != cur->index || !is_ours(cur, &a.prefix.addr))
				return UNDERLAY_EV_NONE;
			snprintf(what, len, "address %s was removed from %s",
				 ip_addr_format(&a.prefix.addr, s), cur->name);
			return UNDERLAY_EV_LOST;
		}
		if (a.index != cur->index && !missing)
			return UNDERLAY_EV_NONE;
		snprintf(what, len, "address %s was added to index %d",
			 ip_addr_format(&a.prefix.addr, s), a.index);
		return UNDERLAY_EV_RECHECK;
	}
	default:
		return UNDERLAY_EV_NONE;
	}
}

/* ---- the watcher ---- */

struct underlay {
	struct agent *a;
	struct nl_monitor *mon;
	int64_t timer;
	/* the selection, as on_config made it (strings copied) */
	char *public_ip, *public_ipv6;
	struct iface_select sel;
	bool missing;		      /* the interface in use went away */
	bool settling;		      /* timer armed by an event (else: a retry while missing) */
	char last_fail[256];	      /* the last failed selection logged, not to repeat it */
	struct lease_attrs published; /* what our lease carries */
};

static void fail_exit(struct agent *a)
{
	a->exit_code = 1;
	loop_stop(a->loop);
}

/* What our lease carries with a->ext, as on_prepared builds it. */
static int lease_attrs_now(struct agent *a, struct lease_attrs *ret, struct err *err)
{
	memset(ret, 0, sizeof(*ret));
	if (a->nc->enable_ipv4)
		ret->public_ip = a->ext.public_ip;
	else
		ip_addr_parse("0.0.0.0", &ret->public_ip);
	if (a->nc->enable_ipv6)
		ret->public_ipv6 = a->ext.public_ipv6;
	return a->backend->ops->lease_attrs(a->backend, ret, err);
}

/* Our lease says what peers must use to reach us now. */
static void update_lease(struct underlay *u)
{
	struct agent *a = u->a;
	struct lease_attrs attrs;
	struct err err = { 0 };
	char pub[IP_ADDR_STRLEN];
	int rc;

	rc = lease_attrs_now(a, &attrs, &err);
	if (rc < 0) {
		log_warnx("underlay: cannot say what our lease carries now: %s", err.msg);
		goto out;
	}
	if (lease_attrs_equal(&attrs, &u->published))
		goto out;
	if (!a->mgr->ops->update_attrs) {
		log_warnx("underlay: the %s subnet manager cannot update our lease; peers keep "
			  "the old address until weftd restarts",
			  a->mgr->ops->name);
		goto out;
	}
	log_info("underlay: updating lease %s to public address %s so that peers follow",
		 a->own.name, addr_text(&attrs.public_ip, pub));
	rc = a->mgr->ops->update_attrs(a->mgr, &attrs);
	if (rc < 0) {
		log_warn_errno(rc, "underlay: cannot update lease %s", a->own.name);
		goto out;
	}
	lease_attrs_free(&u->published);
	lease_attrs_copy(&u->published, &attrs);
out:
	lease_attrs_free(&attrs);
}

/* Move the backend, the datastore's watch and our lease to now. */
static void follow(struct underlay *u, const struct ext_iface *now, unsigned changed)
{
	struct agent *a = u->a;
	struct ext_iface old = a->ext;
	struct err err = { 0 };
	int rc;

	a->ext = *now;
	rc = backend_ext_changed(a->backend, now, &err);
	if (rc == -EOPNOTSUPP) {
		log_error("underlay: %s; exiting so that the service manager starts weftd again "
			  "on %s",
			  err.msg, now->name);
		fail_exit(a);
		return;
	}
	if (rc < 0)
		log_warnx("underlay: backend %s on %s: %s; its reconcile keeps retrying",
			  a->backend->ops->type, now->name, err.msg);
	else
		log_info("underlay: backend %s now uses %s (index %d): devices and routes "
			 "recreated on it",
			 a->backend->ops->type, now->name, now->index);
	/* A new address: streams from the old one hear nothing any more. */
	if ((changed & (UNDERLAY_ADDR | UNDERLAY_PUBLIC)) && a->mgr->ops->resume_watches)
		a->mgr->ops->resume_watches(a->mgr);
	if (changed & UNDERLAY_MTU)
		log_warnx("underlay: the MTU of %s is %u now (was %u); FLANNEL_MTU stays %u until "
			  "weftd restarts",
			  now->name, now->mtu, old.mtu, a->mtu);
	update_lease(u);
}

static int64_t check(struct loop *loop, int64_t id, void *arg);

static void schedule(struct underlay *u, int64_t ms)
{
	loop_timer_set(u->a->loop, &u->timer, ms, check, u);
}

/* Select once the burst an event belongs to has settled; an event also cuts
 * short the slower retry while the interface is missing. */
static void settle(struct underlay *u)
{
	if (u->timer && u->settling)
		return;
	u->settling = true;
	schedule(u, SETTLE_MS);
}

static int64_t check(struct loop *loop, int64_t id, void *arg)
{
	struct underlay *u = arg;
	struct agent *a = u->a;
	struct ext_iface now = { 0 };
	char why[768] = "", diff[400];
	struct err err = { 0 };
	unsigned changed;

	(void)loop;
	(void)id;
	u->timer = 0;
	u->settling = false;
	if (iface_select(&u->sel, &now, why, sizeof(why), &err) < 0) {
		if (!u->missing) {
			log_debug("underlay: selection failed (%s); %s still in use", err.msg,
				  a->ext.name);
			return LOOP_TIMER_STOP;
		}
		if (strcmp(u->last_fail, err.msg)) {
			log_warnx("underlay: waiting for the external interface to come back: %s",
				  err.msg);
			snprintf(u->last_fail, sizeof(u->last_fail), "%s", err.msg);
		}
		schedule(u, MISSING_RETRY_MS);
		return LOOP_TIMER_STOP;
	}
	/* Both families wanted: a selection without one is not usable yet. */
	if ((a->nc->enable_ipv4 && !now.public_ip.family) ||
	    (a->nc->enable_ipv6 && !now.public_ipv6.family)) {
		if (u->missing)
			schedule(u, MISSING_RETRY_MS);
		return LOOP_TIMER_STOP;
	}
	changed = underlay_diff(&a->ext, &now, diff, sizeof(diff));
	if (!changed) {
		if (u->missing)
			log_info("underlay: %s is back as it was (%s); nothing to redo", now.name,
				 why);
		u->missing = false;
		u->last_fail[0] = 0;
		return LOOP_TIMER_STOP;
	}
	log_info("underlay: selected %s again (%s): %s", now.name, why, diff);
	u->missing = false;
	u->last_fail[0] = 0;
	follow(u, &now, changed);
	return LOOP_TIMER_STOP;
}

static void mon_msg(void *arg, const struct nlmsghdr *nlh)
{
	struct underlay *u = arg;
	char what[160];

	switch (underlay_classify(&u->a->ext, u->missing, nlh, what, sizeof(what))) {
	case UNDERLAY_EV_NONE:
		return;
	case UNDERLAY_EV_LOST:
		log_warnx("underlay: %s; the overlay is cut off until it comes back", what);
		u->missing = true;
		break;
	case UNDERLAY_EV_RECHECK:
		/* Once per burst: a new link comes with several messages. */
		if (!u->timer || !u->settling)
			log_info("underlay: %s; selecting the external interface again", what);
		break;
	case UNDERLAY_EV_MAYBE:
		log_debug("underlay: %s; selecting the external interface again", what);
		break;
	}
	settle(u);
}

/* Events were lost: look again. */
static void mon_overflow(void *arg)
{
	settle(arg);
}

static void mon_readable(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct underlay *u = arg;

	(void)loop;
	(void)fd;
	(void)events;
	if (nl_monitor_read(u->mon) < 0)
		mon_overflow(u);
}

int underlay_start(struct agent *a, struct underlay **ret)
{
	struct nl_monitor_cbs cbs = { 0 };
	struct subnet_node_hints hints = { 0 };
	struct underlay *u = xcalloc(1, sizeof(*u));
	char s[IP_ADDR_STRLEN];
	struct err err = { 0 };
	int rc;

	u->a = a;
	u->public_ip = xstrdup(a->flags->public_ip ? a->flags->public_ip : "");
	u->public_ipv6 = xstrdup(a->flags->public_ipv6 ? a->flags->public_ipv6 : "");
	/* node-public-ip(v6) replace --public-ip(v6), as in on_config. */
	if (a->mgr->ops->node_hints) {
		a->mgr->ops->node_hints(a->mgr, &hints);
		if (hints.public_ip.family) {
			free(u->public_ip);
			u->public_ip = xstrdup(ip_addr_format(&hints.public_ip, s));
		}
		if (hints.public_ipv6.family) {
			free(u->public_ipv6);
			u->public_ipv6 = xstrdup(ip_addr_format(&hints.public_ipv6, s));
		}
		lease_attrs_free(&hints.prev);
	}
	u->sel = (struct iface_select){
		.ifaces = &a->flags->iface,
		.iface_regex = &a->flags->iface_regex,
		.can_reach = a->flags->iface_can_reach,
		.public_ip = u->public_ip,
		.public_ipv6 = u->public_ipv6,
		.want_v4 = a->nc->enable_ipv4,
		.want_v6 = a->nc->enable_ipv6,
	};
	rc = lease_attrs_now(a, &u->published, &err);
	if (rc < 0) {
		log_warnx("underlay: not following %s: %s", a->ext.name, err.msg);
		goto fail;
	}
	cbs.arg = u;
	cbs.msg = mon_msg;
	cbs.overflow = mon_overflow;
	rc = nl_monitor_open(&cbs, &u->mon);
	if (rc < 0) {
		log_warn_errno(rc, "underlay: not following %s: cannot open a netlink monitor",
			       a->ext.name);
		goto fail;
	}
	rc = loop_add_fd(a->loop, nl_monitor_fd(u->mon), LOOP_READ, mon_readable, u);
	if (rc < 0) {
		log_warn_errno(rc, "underlay: not following %s", a->ext.name);
		goto fail;
	}
	log_info("underlay: following %s (index %d) for changes", a->ext.name, a->ext.index);
	*ret = u;
	return 0;
fail:
	underlay_free(u);
	return rc;
}

void underlay_free(struct underlay *u)
{
	if (!u)
		return;
	loop_timer_clear(u->a->loop, &u->timer);
	if (u->mon) {
		loop_del_fd(u->a->loop, nl_monitor_fd(u->mon));
		nl_monitor_close(u->mon);
	}
	lease_attrs_free(&u->published);
	free(u->public_ip);
	free(u->public_ipv6);
	free(u);
}
