// SPDX-License-Identifier: Apache-2.0
/*
 * Routes. Ours carry rtm_protocol WEFT_RTPROT (the caller passes it), so a
 * dump can tell them from everybody else's and deletes can insist on it.
 */
#include "nl/route.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "core/err.h"
#include "nl/build.h"
#include "nl/nl.h"

static uint32_t nl_route_table(const struct nl_route *r)
{
	return r->table ? r->table : RT_TABLE_MAIN;
}

/* The header and the attributes both NEW and DEL use; del selects the
 * "match anything not given" values the kernel's delete lookup knows. With
 * a nexthop id the hop itself (gateway, device, onlink) is the nexthop
 * object's: the kernel refuses it next to RTA_NH_ID, in a delete too, and a
 * delete with the id matches only routes using that id. */
static int nl_route_put(struct nlmsghdr *nlh, size_t size, const struct nl_route *r, bool del)
{
	int family = r->dst.addr.family;
	uint32_t table = nl_route_table(r);
	bool hop = !r->nh_id; /* gateway, oif and onlink are ours to put */
	struct rtmsg *rtm;
	int ret;

	if (!nl_addr_len(family) || r->dst.len > nl_addr_len(family) * 8)
		return -EINVAL;
	if (hop && (r->oif < 0 || (!ip_addr_is_unset(&r->gw) && r->gw.family != family)))
		return -EINVAL;
	if (!ip_addr_is_unset(&r->src) && r->src.family != family)
		return -EINVAL;
	rtm = nl_put_header(nlh, size, sizeof(*rtm));
	if (!rtm)
		return -EMSGSIZE;
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = r->dst.len;
	/* rtm_table is 8 bits: larger ids go in RTA_TABLE only. */
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = r->protocol;
	if (del) {
		rtm->rtm_scope = RT_SCOPE_NOWHERE; /* any scope */
		rtm->rtm_type = r->type;	   /* 0: any type */
	} else {
		rtm->rtm_scope = r->scope;
		rtm->rtm_type = r->type ? r->type : RTN_UNICAST;
		if (hop && r->onlink)
			rtm->rtm_flags |= RTNH_F_ONLINK;
	}
	if (r->dst.len) {
		ret = nl_put_addr(nlh, size, RTA_DST, &r->dst.addr);
		if (ret < 0)
			return ret;
	}
	if (!ip_addr_is_unset(&r->src)) {
		ret = nl_put_addr(nlh, size, RTA_PREFSRC, &r->src);
		if (ret < 0)
			return ret;
	}
	if (r->nh_id && !mnl_attr_put_u32_check(nlh, size, RTA_NH_ID, r->nh_id))
		return -EMSGSIZE;
	if (hop && !ip_addr_is_unset(&r->gw)) {
		ret = nl_put_addr(nlh, size, RTA_GATEWAY, &r->gw);
		if (ret < 0)
			return ret;
	}
	if (table >= 256 && !mnl_attr_put_u32_check(nlh, size, RTA_TABLE, table))
		return -EMSGSIZE;
	if (r->priority && !mnl_attr_put_u32_check(nlh, size, RTA_PRIORITY, r->priority))
		return -EMSGSIZE;
	if (hop && r->oif && !mnl_attr_put_u32_check(nlh, size, RTA_OIF, (uint32_t)r->oif))
		return -EMSGSIZE;
	return 0;
}

int nl_route_build(struct nlmsghdr *nlh, size_t size, const struct nl_route *r)
{
	return nl_route_put(nlh, size, r, false);
}

int nl_route_del_build(struct nlmsghdr *nlh, size_t size, const struct nl_route *r)
{
	return nl_route_put(nlh, size, r, true);
}

int nl_route_replace(struct nl *nl, const struct nl_route *r, struct err *err)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	int ret;

	ret = nl_route_build(nlh, NL_MSG_MAX, r);
	if (ret < 0)
		return err_set(err, ret, "bad route");
	return nl_request(nl, nlh, err);
}

int nl_route_del(struct nl *nl, const struct nl_route *r, struct err *err)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, RTM_DELROUTE, 0);
	int ret;

	ret = nl_route_del_build(nlh, NL_MSG_MAX, r);
	if (ret < 0)
		return err_set(err, ret, "bad route");
	return nl_request(nl, nlh, err);
}

int nl_route_replace_batch(struct nl *nl, const struct nl_route *r)
{
	struct nlmsghdr *nlh = nl_batch_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	int ret;

	if (!nlh)
		return -ENOMEM;
	ret = nl_route_build(nlh, NL_MSG_MAX, r);
	if (ret < 0)
		nl_batch_cancel(nl);
	return ret;
}

int nl_route_del_batch(struct nl *nl, const struct nl_route *r)
{
	struct nlmsghdr *nlh = nl_batch_msg(nl, RTM_DELROUTE, 0);
	int ret;

	if (!nlh)
		return -ENOMEM;
	ret = nl_route_del_build(nlh, NL_MSG_MAX, r);
	if (ret < 0)
		nl_batch_cancel(nl);
	return ret;
}

/* The first hop of a multipath route stands for the route (weft installs
 * none; this only keeps foreign ones readable). */
static void nl_route_first_hop(const struct nlattr *mp, struct nl_route *r)
{
	const struct rtnexthop *nh = mnl_attr_get_payload(mp);
	size_t len = mnl_attr_get_payload_len(mp);
	const struct nlattr *a;

	if (len < sizeof(*nh) || nh->rtnh_len < sizeof(*nh) || nh->rtnh_len > len)
		return;
	if (!r->oif)
		r->oif = nh->rtnh_ifindex;
	if (nh->rtnh_flags & RTNH_F_ONLINK)
		r->onlink = true;
	/* Attributes of the hop follow its header, up to rtnh_len. */
	for (a = (const struct nlattr *)((const char *)nh + RTNH_ALIGN(sizeof(*nh)));
	     mnl_attr_ok(a, (int)((const char *)nh + nh->rtnh_len - (const char *)a));
	     a = mnl_attr_next(a)) {
		if (mnl_attr_get_type(a) == RTA_GATEWAY && ip_addr_is_unset(&r->gw))
			nl_attr_addr(a, r->dst.addr.family, &r->gw);
	}
}

int nl_route_parse(const struct nlmsghdr *nlh, struct nl_route *ret_route)
{
	const struct nlattr *tb[RTA_MAX + 1];
	const struct rtmsg *rtm;
	struct nl_route r = { 0 };
	uint32_t u32;
	int ret;

	if (nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE)
		return -EINVAL;
	ret = nl_parse_attrs(nlh, sizeof(*rtm), tb, RTA_MAX);
	if (ret < 0)
		return ret;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (!nl_addr_len(rtm->rtm_family))
		return -EAFNOSUPPORT; /* MPLS and friends */
	if (rtm->rtm_dst_len > nl_addr_len(rtm->rtm_family) * 8)
		return -EBADMSG;
	r.dst.addr.family = rtm->rtm_family;
	r.dst.len = rtm->rtm_dst_len;
	if (tb[RTA_DST] && !nl_attr_addr(tb[RTA_DST], rtm->rtm_family, &r.dst.addr))
		return -EBADMSG;
	nl_attr_addr(tb[RTA_GATEWAY], rtm->rtm_family, &r.gw);
	nl_attr_addr(tb[RTA_PREFSRC], rtm->rtm_family, &r.src);
	if (nl_attr_u32(tb[RTA_OIF], &u32))
		r.oif = (int)u32;
	r.table = rtm->rtm_table;
	if (nl_attr_u32(tb[RTA_TABLE], &u32))
		r.table = u32;
	if (nl_attr_u32(tb[RTA_PRIORITY], &u32))
		r.priority = u32;
	/* Dumps (in nexthop_compat_mode) also show the nexthop's via, dev and
	 * onlink: read them as for any route. */
	if (nl_attr_u32(tb[RTA_NH_ID], &u32))
		r.nh_id = u32;
	r.protocol = rtm->rtm_protocol;
	r.scope = rtm->rtm_scope;
	r.type = rtm->rtm_type;
	r.onlink = (rtm->rtm_flags & RTNH_F_ONLINK) != 0;
	if (tb[RTA_MULTIPATH])
		nl_route_first_hop(tb[RTA_MULTIPATH], &r);
	*ret_route = r;
	return 0;
}

struct nl_route_dump {
	int family;
	uint32_t table;
	nl_route_cb *cb;
	void *arg;
};

static int nl_route_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nl_route_dump *d = arg;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nl_route r;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return 0;
	if (rtm->rtm_flags & RTM_F_CLONED)
		return 0; /* route cache / exceptions, not configuration */
	if (nl_route_parse(nlh, &r) < 0)
		return 0;
	/* Kernels without strict checking dump every table and family. */
	if (r.table != d->table || (d->family != AF_UNSPEC && r.dst.addr.family != d->family))
		return 0;
	return d->cb(&r, d->arg);
}

int nl_route_dump(struct nl *nl, int family, uint32_t table, nl_route_cb *cb, void *arg)
{
	struct nl_route_dump d = { .family = family, .table = table ? table : RT_TABLE_MAIN,
				   .cb = cb, .arg = arg };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (family != AF_UNSPEC && !nl_addr_len(family))
		return -EAFNOSUPPORT;
	nlh = nl_msg_start(nl, RTM_GETROUTE, NLM_F_DUMP);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	/* With strict checking (set in nl_open) the kernel filters by table. */
	rtm->rtm_table = d.table < 256 ? (uint8_t)d.table : RT_TABLE_UNSPEC;
	if (d.table >= 256)
		mnl_attr_put_u32(nlh, RTA_TABLE, d.table);
	return nl_dump(nl, nlh, nl_route_dump_cb, &d);
}

struct nl_route_get {
	struct nl_route *route;
	bool found;
};

static int nl_route_get_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_route_get *g = arg;

	if (nlh->nlmsg_type != RTM_NEWROUTE || g->found)
		return 0;
	if (nl_route_parse(nlh, g->route) < 0)
		return -EBADMSG;
	g->found = true;
	return 0;
}

int nl_route_get(struct nl *nl, const struct ip_addr *dst, struct nl_route *ret_route,
		 struct err *err)
{
	struct nl_route_get g = { .route = ret_route };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int ret;

	if (!nl_addr_len(dst->family))
		return err_set(err, -EINVAL, "route get: no address");
	nlh = nl_msg_start(nl, RTM_GETROUTE, 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = dst->family;
	rtm->rtm_dst_len = (uint8_t)(nl_addr_len(dst->family) * 8);
	mnl_attr_put(nlh, RTA_DST, nl_addr_len(dst->family), dst->b);
	ret = nl_talk(nl, nlh, nl_route_get_cb, &g, err);
	if (ret < 0)
		return ret;
	if (!g.found)
		return err_set(err, -ENOENT, "route get: the kernel sent no route");
	return 0;
}

int nl_route_direct_oif(struct nl *nl, const struct ip_addr *dst, struct err *err)
{
	struct nl_route via;
	int ret = nl_route_get(nl, dst, &via, err);

	if (ret < 0)
		return ret;
	return !via.gw.family && via.type != RTN_LOCAL && via.oif > 0 ? via.oif : 0;
}
