// SPDX-License-Identifier: Apache-2.0
/*
 * External interface selection (flannel.md §6, pkg/ipmatch in flannel). One
 * snapshot of links and addresses is taken through rtnetlink, then the rules
 * run against it; only default routes and --iface-can-reach ask the kernel
 * again. Every candidate that was considered and refused is remembered, so
 * that the caller can log why an interface was chosen (or why none was).
 */
#include "agent/iface.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/flags.h"
#include "core/err.h"
#include "core/re2posix.h"
#include "core/xmalloc.h"
#include "nl/addr.h"
#include "nl/link.h"
#include "nl/nl.h"
#include "nl/route.h"

/* ---- what was tried ---- */

struct trail {
	char buf[480];
	size_t len;
};

static void trail_add(struct trail *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trail_add(struct trail *t, const char *fmt, ...)
{
	size_t room = sizeof(t->buf) - t->len;
	va_list ap;
	int n;

	if (room <= 1)
		return;
	if (t->len) {
		n = snprintf(t->buf + t->len, room, "; ");
		t->len += (size_t)n < room ? (size_t)n : room - 1;
		room = sizeof(t->buf) - t->len;
	}
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n < room ? (size_t)n : room - 1;
}

/* ---- the snapshot ---- */

struct snap {
	struct nl *nl;
	struct nl_link *links; /* sorted by index */
	size_t nlinks, links_cap;
	struct nl_addr *addrs; /* grouped by link, kernel order within a link */
	size_t naddrs, addrs_cap;
	bool want_v4, want_v6;
};

static int snap_link_cb(const struct nl_link *l, void *arg)
{
	struct snap *s = arg;

	if (s->nlinks == s->links_cap) {
		s->links_cap = s->links_cap ? 2 * s->links_cap : 16;
		s->links = xreallocarray(s->links, s->links_cap, sizeof(*s->links));
	}
	s->links[s->nlinks++] = *l;
	return 0;
}

static int snap_addr_cb(const struct nl_addr *a, void *arg)
{
	struct snap *s = arg;

	if (s->naddrs == s->addrs_cap) {
		s->addrs_cap = s->addrs_cap ? 2 * s->addrs_cap : 32;
		s->addrs = xreallocarray(s->addrs, s->addrs_cap, sizeof(*s->addrs));
	}
	s->addrs[s->naddrs++] = *a;
	return 0;
}

static int cmp_link(const void *a, const void *b)
{
	const struct nl_link *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

/* Addresses are sorted by link with their dump position as the tie-break:
 * the kernel's order inside a link (primaries first) is kept. */
struct addr_pos {
	struct nl_addr a;
	size_t pos;
};

static int cmp_addr_pos(const void *a, const void *b)
{
	const struct addr_pos *x = a, *y = b;

	if (x->a.index != y->a.index)
		return (x->a.index > y->a.index) - (x->a.index < y->a.index);
	return (x->pos > y->pos) - (x->pos < y->pos);
}

static bool same_addr(const struct nl_addr *a, const struct nl_addr *b)
{
	return a->index == b->index && a->prefix.len == b->prefix.len &&
	       ip_addr_equal(&a->prefix.addr, &b->prefix.addr);
}

/*
 * A dump the kernel interrupted is restarted by the nl layer, so a record may
 * reach us twice: keep one link per index and, per link, the first of each
 * address.
 */
static void snap_normalize(struct snap *s)
{
	struct addr_pos *v;
	size_t i, j, n = 0;

	qsort(s->links, s->nlinks, sizeof(*s->links), cmp_link);
	for (i = 0; i < s->nlinks; i++)
		if (!n || s->links[n - 1].index != s->links[i].index)
			s->links[n++] = s->links[i];
	s->nlinks = n;

	if (!s->naddrs)
		return;
	v = xcalloc(s->naddrs, sizeof(*v));
	for (i = 0; i < s->naddrs; i++) {
		v[i].a = s->addrs[i];
		v[i].pos = i;
	}
	qsort(v, s->naddrs, sizeof(*v), cmp_addr_pos);
	n = 0;
	for (i = 0; i < s->naddrs; i++) {
		bool dup = false;

		for (j = n; j-- > 0 && s->addrs[j].index == v[i].a.index;)
			if (same_addr(&s->addrs[j], &v[i].a)) {
				dup = true;
				break;
			}
		if (!dup)
			s->addrs[n++] = v[i].a;
	}
	s->naddrs = n;
	free(v);
}

static int snap_load(struct snap *s, struct err *err)
{
	int rc;

	rc = nl_link_dump(s->nl, snap_link_cb, s);
	if (rc < 0)
		return err_set(err, rc, "cannot list interfaces: %s", strerror(-rc));
	rc = nl_addr_dump(s->nl, AF_UNSPEC, 0, snap_addr_cb, s);
	if (rc < 0)
		return err_set(err, rc, "cannot list addresses: %s", strerror(-rc));
	snap_normalize(s);
	return 0;
}

static const struct nl_link *link_by_index(const struct snap *s, int index)
{
	struct nl_link key = { .index = index };

	return bsearch(&key, s->links, s->nlinks, sizeof(*s->links), cmp_link);
}

static const struct nl_link *link_by_name(const struct snap *s, const char *name)
{
	for (size_t i = 0; i < s->nlinks; i++)
		if (!strcmp(s->links[i].name, name))
			return &s->links[i];
	return NULL;
}

/* The link holding address a (whatever its flags), or NULL. */
static const struct nl_link *owner_of(const struct snap *s, const struct ip_addr *a)
{
	for (size_t i = 0; i < s->naddrs; i++)
		if (ip_addr_equal(&s->addrs[i].prefix.addr, a))
			return link_by_index(s, s->addrs[i].index);
	return NULL;
}

/* ---- address preference ---- */

static bool is_loopback(const struct nl_addr *a)
{
	const uint8_t *b = a->prefix.addr.b;
	static const uint8_t lo6[16] = { [15] = 1 };

	if (a->scope == RT_SCOPE_HOST)
		return true;
	if (a->prefix.addr.family == AF_INET)
		return b[0] == 127;
	return !memcmp(b, lo6, 16);
}

static bool is_link_local(const struct nl_addr *a)
{
	const uint8_t *b = a->prefix.addr.b;

	if (a->scope == RT_SCOPE_LINK)
		return true;
	if (a->prefix.addr.family == AF_INET)
		return b[0] == 169 && b[1] == 254;
	return b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
}

static bool is_unicast(const struct ip_addr *a)
{
	static const uint8_t bcast[4] = { 255, 255, 255, 255 };

	if (ip_addr_is_unset(a))
		return false;
	if (a->family == AF_INET)
		return (a->b[0] & 0xf0) != 0xe0 && memcmp(a->b, bcast, 4) != 0;
	if (a->family == AF_INET6)
		return a->b[0] != 0xff;
	return false;
}

/*
 * Rank of an address as the interface address, lower is better; -1 when it
 * can never be one. Ties keep the kernel's order. IFA_F_TEMPORARY has the
 * value of IFA_F_SECONDARY, so for IPv4 the bit puts secondaries last.
 */
static int addr_rank(const struct nl_addr *a, bool allow_loopback)
{
	int rank = 0;

	if (a->flags & (IFA_F_DEPRECATED | IFA_F_DADFAILED))
		return -1;
	if (!is_unicast(&a->prefix.addr))
		return -1;
	if (is_loopback(a)) {
		if (!allow_loopback)
			return -1;
		rank |= 8;
	}
	if (is_link_local(a))
		rank |= 4;
	if (!(a->flags & IFA_F_PERMANENT))
		rank |= 2;
	if (a->flags & IFA_F_TEMPORARY)
		rank |= 1;
	return rank;
}

/* The best usable address of family on link index (matching re if not NULL). */
static const struct nl_addr *best_addr(const struct snap *s, int index, int family,
				       bool allow_loopback, const regex_t *re)
{
	const struct nl_addr *best = NULL;
	int best_rank = INT_MAX;

	for (size_t i = 0; i < s->naddrs; i++) {
		const struct nl_addr *a = &s->addrs[i];
		char txt[IP_ADDR_STRLEN];
		int r;

		if (a->index != index || a->prefix.addr.family != family)
			continue;
		r = addr_rank(a, allow_loopback);
		if (r < 0 || r >= best_rank)
			continue;
		if (re && regexec(re, ip_addr_format(&a->prefix.addr, txt), 0, NULL, 0) != 0)
			continue;
		best = a;
		best_rank = r;
	}
	return best;
}

/* ---- candidates ---- */

struct cand {
	const struct nl_link *link;
	struct ip_addr addr4, addr6; /* set: the address that chose the link */
	bool explicit;		     /* named by the user: loopback addresses count */
};

static void cand_force(struct cand *c, const struct ip_addr *a)
{
	if (a->family == AF_INET)
		c->addr4 = *a;
	else
		c->addr6 = *a;
}

/* Fill ret from c; -errno with the reason when the link cannot be used. */
static int cand_finish(const struct snap *s, const struct cand *c, struct ext_iface *ret,
		       char *reason, size_t reason_len)
{
	const struct nl_addr *a;

	memset(ret, 0, sizeof(*ret));
	snprintf(ret->name, sizeof(ret->name), "%s", c->link->name);
	ret->index = c->link->index;
	ret->mtu = c->link->mtu;
	ret->iface_addr = c->addr4;
	ret->iface_addr6 = c->addr6;
	if (!ret->iface_addr.family) {
		a = best_addr(s, c->link->index, AF_INET, c->explicit, NULL);
		if (a)
			ret->iface_addr = a->prefix.addr;
	}
	if (!ret->iface_addr6.family) {
		a = best_addr(s, c->link->index, AF_INET6, c->explicit, NULL);
		if (a)
			ret->iface_addr6 = a->prefix.addr;
	}
	if (ret->mtu == 0) {
		snprintf(reason, reason_len, "%s has MTU 0", c->link->name);
		return -EINVAL;
	}
	if (s->want_v4 && !ret->iface_addr.family) {
		snprintf(reason, reason_len, "%s has no usable IPv4 address", c->link->name);
		return -EADDRNOTAVAIL;
	}
	if (s->want_v6 && !ret->iface_addr6.family) {
		snprintf(reason, reason_len, "%s has no usable IPv6 address", c->link->name);
		return -EADDRNOTAVAIL;
	}
	return 0;
}

/* ---- rule 1: no --iface* option ---- */

static int by_owner(const struct snap *s, const char *flag, const char *text,
		    const struct ip_addr *a, struct ext_iface *ret, char *rule, size_t rule_len,
		    struct err *err)
{
	struct cand c = { .explicit = true };
	char reason[96];
	int rc;

	c.link = owner_of(s, a);
	if (!c.link)
		return err_set(err, -EADDRNOTAVAIL,
			       "%s %s is not an address of any local interface (give --iface too "
			       "when the public address is NATed)",
			       flag, text);
	cand_force(&c, a);
	rc = cand_finish(s, &c, ret, reason, sizeof(reason));
	if (rc < 0)
		return err_set(err, rc, "%s %s is on %s, but %s", flag, text, c.link->name, reason);
	snprintf(rule, rule_len, "%s %s: address of %s", flag, text, c.link->name);
	return 0;
}

struct defroute {
	int oif;
	uint32_t priority;
	bool multipath; /* a default route without a single output interface */
};

static int defroute_cb(const struct nl_route *r, void *arg)
{
	struct defroute *d = arg;

	if (r->dst.len != 0 || (r->type != RTN_UNICAST && r->type != RTN_UNSPEC))
		return 0;
	if (r->oif <= 0) {
		d->multipath = true;
		return 0;
	}
	if (!d->oif || r->priority < d->priority) {
		d->oif = r->oif;
		d->priority = r->priority;
	}
	return 0;
}

/* The output interface of the family's main-table default route (lowest metric). */
static int default_oif(const struct snap *s, int family, int *ret_oif, struct err *err)
{
	const char *fam = family == AF_INET ? "IPv4" : "IPv6";
	struct defroute d = { 0 };
	int rc;

	rc = nl_route_dump(s->nl, family, 0, defroute_cb, &d);
	if (rc < 0)
		return err_set(err, rc, "cannot list %s routes: %s", fam, strerror(-rc));
	if (!d.oif)
		return err_set(err, -ENETUNREACH,
			       d.multipath ? "the %s default route has no single interface; use "
					     "--iface or --public-ip"
					   : "no %s default route to pick the external interface "
					     "from; use --iface or --public-ip",
			       fam);
	*ret_oif = d.oif;
	return 0;
}

static int by_default_route(const struct snap *s, struct ext_iface *ret, char *rule,
			    size_t rule_len, struct err *err)
{
	int oif4 = 0, oif6 = 0, rc;
	struct cand c = { 0 };
	const char *what;
	char reason[96];

	if (s->want_v4) {
		rc = default_oif(s, AF_INET, &oif4, err);
		if (rc < 0)
			return rc;
	}
	if (s->want_v6) {
		rc = default_oif(s, AF_INET6, &oif6, err);
		if (rc < 0)
			return rc;
	}
	if (oif4 && oif6 && oif4 != oif6) {
		const struct nl_link *l4 = link_by_index(s, oif4), *l6 = link_by_index(s, oif6);

		return err_set(err, -EINVAL,
			       "the IPv4 default route leaves through %s but the IPv6 one through "
			       "%s; dual-stack needs one interface: choose it with --iface",
			       l4 ? l4->name : "?", l6 ? l6->name : "?");
	}
	if (oif4 && oif6)
		what = "IPv4 and IPv6 default routes";
	else
		what = oif4 ? "IPv4 default route" : "IPv6 default route";
	c.link = link_by_index(s, oif4 ? oif4 : oif6);
	if (!c.link)
		return err_set(err, -ENODEV, "the %s leaves through unknown interface %d", what,
			       oif4 ? oif4 : oif6);
	rc = cand_finish(s, &c, ret, reason, sizeof(reason));
	if (rc < 0)
		return err_set(err, rc, "the %s leaves through %s, but %s", what, c.link->name,
			       reason);
	snprintf(rule, rule_len, "the %s", what);
	return 0;
}

/* ---- rules 2-4: --iface, --iface-regex, --iface-can-reach ---- */

static int try_iface(const struct snap *s, const char *v, struct ext_iface *ret, char *rule,
		     size_t rule_len, struct trail *tried)
{
	struct cand c = { .explicit = true };
	char reason[96];
	struct ip_addr a;

	if (ip_addr_parse(v, &a) == 0) {
		c.link = owner_of(s, &a);
		if (!c.link) {
			trail_add(tried, "--iface %s: not a local address", v);
			return -ENOENT;
		}
		cand_force(&c, &a);
		snprintf(rule, rule_len, "--iface %s: address of %s", v, c.link->name);
	} else {
		c.link = link_by_name(s, v);
		if (!c.link) {
			trail_add(tried, "--iface %s: no such interface", v);
			return -ENOENT;
		}
		snprintf(rule, rule_len, "--iface %s", v);
	}
	if (cand_finish(s, &c, ret, reason, sizeof(reason)) < 0) {
		trail_add(tried, "--iface %s: %s", v, reason);
		return -ENOENT;
	}
	return 0;
}

static int try_regex(const struct snap *s, const char *v, struct ext_iface *ret, char *rule,
		     size_t rule_len, struct trail *tried)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	char reason[96], txt[IP_ADDR_STRLEN], *pat;
	struct err rerr = { 0 };
	bool matched = false;
	int rc, cflags;
	regex_t re;

	/* flannel's regexes are Go (RE2) syntax, ours POSIX extended */
	pat = re2_to_posix(v, &cflags, &rerr);
	if (!pat) {
		trail_add(tried, "--iface-regex %s: %s", v, rerr.msg);
		return -EINVAL;
	}
	rc = regcomp(&re, pat, REG_EXTENDED | REG_NOSUB | cflags);
	free(pat);
	if (rc != 0) {
		char msg[80];

		regerror(rc, &re, msg, sizeof(msg));
		trail_add(tried, "--iface-regex %s: invalid: %s", v, msg);
		return -EINVAL;
	}
	/* Addresses first, every interface, ... */
	rc = -ENOENT;
	for (size_t i = 0; i < s->nlinks && rc < 0; i++) {
		for (size_t f = 0; f < 2 && rc < 0; f++) {
			struct cand c = { .link = &s->links[i] };
			const struct nl_addr *a;

			if ((fams[f] == AF_INET && !s->want_v4) ||
			    (fams[f] == AF_INET6 && !s->want_v6))
				continue;
			a = best_addr(s, c.link->index, fams[f], false, &re);
			if (!a)
				continue;
			matched = true;
			ip_addr_format(&a->prefix.addr, txt);
			cand_force(&c, &a->prefix.addr);
			if (cand_finish(s, &c, ret, reason, sizeof(reason)) < 0) {
				trail_add(tried, "--iface-regex %s: address %s of %s: %s", v, txt,
					  c.link->name, reason);
				continue;
			}
			snprintf(rule, rule_len, "--iface-regex %s: address %s of %s", v, txt,
				 c.link->name);
			rc = 0;
		}
	}
	/* ... then names. */
	for (size_t i = 0; i < s->nlinks && rc < 0; i++) {
		struct cand c = { .link = &s->links[i] };

		if (regexec(&re, c.link->name, 0, NULL, 0) != 0)
			continue;
		matched = true;
		if (cand_finish(s, &c, ret, reason, sizeof(reason)) < 0) {
			trail_add(tried, "--iface-regex %s: name %s: %s", v, c.link->name, reason);
			continue;
		}
		snprintf(rule, rule_len, "--iface-regex %s: name of %s", v, c.link->name);
		rc = 0;
	}
	if (!matched)
		trail_add(tried, "--iface-regex %s: no address or interface name matches", v);
	regfree(&re);
	return rc;
}

static int try_can_reach(const struct snap *s, const char *v, const struct ip_addr *dst,
			 struct ext_iface *ret, char *rule, size_t rule_len, struct trail *tried)
{
	struct nl_route r = { 0 };
	struct err rerr = { 0 };
	struct cand c = { 0 };
	char reason[96], src[IP_ADDR_STRLEN] = "";
	int rc;

	rc = nl_route_get(s->nl, dst, &r, &rerr);
	if (rc < 0 || r.oif <= 0) {
		trail_add(tried, "--iface-can-reach %s: no route: %s", v,
			  rc < 0 ? (rerr.msg[0] ? rerr.msg : strerror(-rc)) : "no interface");
		return rc < 0 ? rc : -ENETUNREACH;
	}
	c.link = link_by_index(s, r.oif);
	if (!c.link) {
		trail_add(tried, "--iface-can-reach %s: route via unknown interface %d", v, r.oif);
		return -ENODEV;
	}
	/* The route's source is the address to use, as `ip route get` shows it. */
	if (r.src.family == dst->family) {
		cand_force(&c, &r.src);
		ip_addr_format(&r.src, src);
	}
	if (cand_finish(s, &c, ret, reason, sizeof(reason)) < 0) {
		trail_add(tried, "--iface-can-reach %s: route via %s: %s", v, c.link->name, reason);
		return -ENOENT;
	}
	snprintf(rule, rule_len, "--iface-can-reach %s: route via %s%s%s", v, c.link->name,
		 src[0] ? " src " : "", src);
	return 0;
}

static int by_options(const struct snap *s, const struct iface_select *sel,
		      const struct ip_addr *reach, struct ext_iface *ret, char *rule,
		      size_t rule_len, struct trail *tried, struct err *err)
{
	const struct flags_strv *ifs = sel->ifaces, *res = sel->iface_regex;

	for (size_t i = 0; ifs && i < ifs->n; i++)
		if (try_iface(s, ifs->v[i], ret, rule, rule_len, tried) == 0)
			return 0;
	for (size_t i = 0; res && i < res->n; i++)
		if (try_regex(s, res->v[i], ret, rule, rule_len, tried) == 0)
			return 0;
	if (reach->family &&
	    try_can_reach(s, sel->can_reach, reach, ret, rule, rule_len, tried) == 0)
		return 0;
	return err_set(err, -ENODEV,
		       "no interface matches --iface, --iface-regex or --iface-can-reach: %s",
		       tried->buf);
}

/* ---- entry points ---- */

static bool given(const char *s)
{
	return s && *s;
}

int iface_select(const struct iface_select *sel, struct ext_iface *ret, char *why, size_t why_len,
		 struct err *err)
{
	struct snap s = { .nl = sel->nl, .want_v4 = sel->want_v4, .want_v6 = sel->want_v6 };
	struct ip_addr pub = { 0 }, pub6 = { 0 }, reach = { 0 };
	struct trail tried = { .len = 0 };
	struct nl *own = NULL;
	char rule[256] = "";
	int rc;

	if (why && why_len)
		why[0] = '\0';
	if (!s.want_v4 && !s.want_v6)
		s.want_v4 = true;
	if (given(sel->public_ip) && ip_addr_parse_family(sel->public_ip, AF_INET, &pub) < 0)
		return err_set(err, -EINVAL, "--public-ip '%s' is not an IPv4 address",
			       sel->public_ip);
	if (given(sel->public_ipv6) && ip_addr_parse_family(sel->public_ipv6, AF_INET6, &pub6) < 0)
		return err_set(err, -EINVAL, "--public-ipv6 '%s' is not an IPv6 address",
			       sel->public_ipv6);
	if (given(sel->can_reach) && ip_addr_parse(sel->can_reach, &reach) < 0)
		return err_set(err, -EINVAL, "--iface-can-reach '%s' is not an IP address",
			       sel->can_reach);
	if (!s.nl) {
		rc = nl_open(&own);
		if (rc < 0)
			return err_set(err, rc, "cannot open rtnetlink: %s", strerror(-rc));
		s.nl = own;
	}
	rc = snap_load(&s, err);
	if (rc < 0)
		goto out;
	if ((sel->ifaces && sel->ifaces->n) || (sel->iface_regex && sel->iface_regex->n) ||
	    reach.family)
		rc = by_options(&s, sel, &reach, ret, rule, sizeof(rule), &tried, err);
	else if (pub.family)
		rc = by_owner(&s, "--public-ip", sel->public_ip, &pub, ret, rule, sizeof(rule),
			      err);
	else if (pub6.family)
		rc = by_owner(&s, "--public-ipv6", sel->public_ipv6, &pub6, ret, rule, sizeof(rule),
			      err);
	else
		rc = by_default_route(&s, ret, rule, sizeof(rule), err);
	if (rc < 0)
		goto out;
	memset(&ret->public_ip, 0, sizeof(ret->public_ip));
	memset(&ret->public_ipv6, 0, sizeof(ret->public_ipv6));
	if (s.want_v4)
		ret->public_ip = pub.family ? pub : ret->iface_addr;
	if (s.want_v6)
		ret->public_ipv6 = pub6.family ? pub6 : ret->iface_addr6;
	if (why)
		snprintf(why, why_len, "%s%s%s%s", rule, tried.len ? " (skipped: " : "", tried.buf,
			 tried.len ? ")" : "");
out:
	free(s.links);
	free(s.addrs);
	if (own)
		nl_close(own);
	return rc;
}

int iface_ipv4_forwarding(void)
{
	char buf[8];
	ssize_t n;
	int fd, rc;

	fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	rc = n < 0 ? -errno : -EINVAL;
	close(fd);
	if (n > 0 && (buf[0] == '0' || buf[0] == '1'))
		rc = buf[0] - '0';
	return rc;
}
