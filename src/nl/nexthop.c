// SPDX-License-Identifier: Apache-2.0
/*
 * Nexthop objects. Attributes go in the order `ip nexthop replace id N via
 * GW dev DEV` puts them: NHA_ID, NHA_GATEWAY, NHA_OIF. A delete carries the
 * id alone under a zeroed header (the kernel refuses anything else in it).
 */
#include "nl/nexthop.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <limits.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "core/err.h"
#include "nl/build.h"
#include "nl/nl.h"

int nl_nexthop_build(struct nlmsghdr *nlh, size_t size, const struct nl_nexthop *nh)
{
	struct nhmsg *nhm;
	int ret;

	/* Without a gateway the family is still needed: the caller sets
	 * gw.family and leaves the bytes zero. */
	if (!nh->id || !nl_addr_len(nh->gw.family) || nh->oif < 0)
		return -EINVAL;
	nhm = nl_put_header(nlh, size, sizeof(*nhm));
	if (!nhm)
		return -EMSGSIZE;
	nhm->nh_family = nh->gw.family;
	nhm->nh_scope = 0; /* the kernel refuses any other in a request */
	nhm->nh_protocol = nh->protocol;
	nhm->nh_flags = nh->onlink ? RTNH_F_ONLINK : 0;
	if (!mnl_attr_put_u32_check(nlh, size, NHA_ID, nh->id))
		return -EMSGSIZE;
	if (!ip_addr_is_unset(&nh->gw)) {
		ret = nl_put_addr(nlh, size, NHA_GATEWAY, &nh->gw);
		if (ret < 0)
			return ret;
	}
	if (nh->oif && !mnl_attr_put_u32_check(nlh, size, NHA_OIF, (uint32_t)nh->oif))
		return -EMSGSIZE;
	return 0;
}

int nl_nexthop_del_build(struct nlmsghdr *nlh, size_t size, uint32_t id)
{
	if (!id)
		return -EINVAL;
	if (!nl_put_header(nlh, size, sizeof(struct nhmsg)))
		return -EMSGSIZE;
	if (!mnl_attr_put_u32_check(nlh, size, NHA_ID, id))
		return -EMSGSIZE;
	return 0;
}

int nl_nexthop_replace(struct nl *nl, const struct nl_nexthop *nh, struct err *err)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, RTM_NEWNEXTHOP, NLM_F_CREATE | NLM_F_REPLACE);
	int ret;

	ret = nl_nexthop_build(nlh, NL_MSG_MAX, nh);
	if (ret < 0)
		return err_set(err, ret, "bad nexthop");
	return nl_request(nl, nlh, err);
}

int nl_nexthop_del(struct nl *nl, uint32_t id, struct err *err)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, RTM_DELNEXTHOP, 0);
	int ret;

	ret = nl_nexthop_del_build(nlh, NL_MSG_MAX, id);
	if (ret < 0)
		return err_set(err, ret, "bad nexthop id");
	return nl_request(nl, nlh, err);
}

static int nl_nexthop_new_batch(struct nl *nl, const struct nl_nexthop *nh, uint16_t flags)
{
	struct nlmsghdr *nlh = nl_batch_msg(nl, RTM_NEWNEXTHOP, flags);
	int ret;

	if (!nlh)
		return -ENOMEM;
	ret = nl_nexthop_build(nlh, NL_MSG_MAX, nh);
	if (ret < 0)
		nl_batch_cancel(nl);
	return ret;
}

int nl_nexthop_replace_batch(struct nl *nl, const struct nl_nexthop *nh)
{
	return nl_nexthop_new_batch(nl, nh, NLM_F_CREATE | NLM_F_REPLACE);
}

int nl_nexthop_add_batch(struct nl *nl, const struct nl_nexthop *nh)
{
	return nl_nexthop_new_batch(nl, nh, NLM_F_CREATE | NLM_F_EXCL);
}

int nl_nexthop_del_batch(struct nl *nl, uint32_t id)
{
	struct nlmsghdr *nlh = nl_batch_msg(nl, RTM_DELNEXTHOP, 0);
	int ret;

	if (!nlh)
		return -ENOMEM;
	ret = nl_nexthop_del_build(nlh, NL_MSG_MAX, id);
	if (ret < 0)
		nl_batch_cancel(nl);
	return ret;
}

/* A u32 attribute of exactly its size (nl_attr_u32 takes longer ones). */
static bool nl_nexthop_u32(const struct nlattr *a, uint32_t *ret)
{
	if (!a || mnl_attr_get_payload_len(a) != sizeof(uint32_t))
		return false;
	*ret = mnl_attr_get_u32(a);
	return true;
}

/* libmnl stops quietly at an attribute that overruns the message, so one
 * cut short would read as absent: the attributes must fill the payload. */
static bool nl_nexthop_attrs_whole(const struct nlmsghdr *nlh)
{
	const char *p = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct nhmsg));
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nhmsg))
		p = (const char *)mnl_attr_next(a);
	return p == (const char *)mnl_nlmsg_get_payload_tail(nlh);
}

int nl_nexthop_parse(const struct nlmsghdr *nlh, struct nl_nexthop *ret_nh)
{
	const struct nlattr *tb[NHA_MAX + 1];
	const struct nhmsg *nhm;
	struct nl_nexthop nh = { 0 };
	uint32_t u32;
	int ret;

	if (nlh->nlmsg_type != RTM_NEWNEXTHOP && nlh->nlmsg_type != RTM_DELNEXTHOP)
		return -EINVAL;
	ret = nl_parse_attrs(nlh, sizeof(*nhm), tb, NHA_MAX);
	if (ret < 0)
		return ret;
	if (!nl_nexthop_attrs_whole(nlh))
		return -EBADMSG;
	nhm = mnl_nlmsg_get_payload(nlh);
	if (!nl_nexthop_u32(tb[NHA_ID], &nh.id) || !nh.id)
		return -EBADMSG;
	if (tb[NHA_GROUP] || tb[NHA_BLACKHOLE] || tb[NHA_FDB])
		return -EOPNOTSUPP;
	if (!nl_addr_len(nhm->nh_family))
		return -EBADMSG; /* a single nexthop is IPv4 or IPv6 */
	nh.gw.family = nhm->nh_family;
	if (tb[NHA_GATEWAY] && !nl_attr_addr(tb[NHA_GATEWAY], nhm->nh_family, &nh.gw))
		return -EBADMSG;
	if (tb[NHA_OIF]) {
		if (!nl_nexthop_u32(tb[NHA_OIF], &u32) || u32 > INT_MAX)
			return -EBADMSG;
		nh.oif = (int)u32;
	}
	if (!nh.oif && ip_addr_is_unset(&nh.gw))
		return -EOPNOTSUPP;
	nh.onlink = (nhm->nh_flags & RTNH_F_ONLINK) != 0;
	nh.protocol = nhm->nh_protocol;
	*ret_nh = nh;
	return 0;
}

struct nl_nexthop_dump {
	int family;
	nl_nexthop_cb *cb;
	void *arg;
	int cb_error; /* the caller's own error: passed on as it is */
};

static int nl_nexthop_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_nexthop_dump *d = arg;
	struct nl_nexthop nh;
	int ret;

	if (nlh->nlmsg_type != RTM_NEWNEXTHOP)
		return 0;
	if (nl_nexthop_parse(nlh, &nh) < 0)
		return 0; /* groups, blackholes, FDB nexthops */
	/* The kernel filters by nh_family too; not every kernel may. */
	if (d->family != AF_UNSPEC && nh.gw.family != d->family)
		return 0;
	ret = d->cb(&nh, d->arg);
	if (ret < 0)
		d->cb_error = ret;
	return ret;
}

int nl_nexthop_dump(struct nl *nl, int family, nl_nexthop_cb *cb, void *arg)
{
	struct nl_nexthop_dump d = { .family = family, .cb = cb, .arg = arg };
	struct nlmsghdr *nlh;
	struct nhmsg *nhm;
	int ret;

	if (family != AF_UNSPEC && !nl_addr_len(family))
		return -EAFNOSUPPORT;
	nlh = nl_msg_start(nl, RTM_GETNEXTHOP, NLM_F_DUMP);
	nhm = mnl_nlmsg_put_extra_header(nlh, sizeof(*nhm));
	nhm->nh_family = (uint8_t)family;
	ret = nl_dump(nl, nlh, nl_nexthop_dump_cb, &d);
	/* Kernels before 5.3 know no RTM_GETNEXTHOP: -EOPNOTSUPP from
	 * rtnetlink, -EINVAL from some paths. Our request is fixed, so either
	 * means the feature is missing. */
	if (!d.cb_error && (ret == -EINVAL || ret == -EOPNOTSUPP))
		return -EOPNOTSUPP;
	return ret;
}
