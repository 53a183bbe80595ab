// SPDX-License-Identifier: Apache-2.0
/*
 * Neighbours and vxlan FDB entries. Both are RTM_*NEIGH messages; the FDB
 * ones are family AF_BRIDGE with NTF_SELF, which sends them to the vxlan
 * driver itself rather than to a bridge master. Attributes go in the order
 * upstream flannel's library uses: NDA_DST, then NDA_LLADDR.
 */
#include "nl/neigh.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "core/err.h"
#include "nl/build.h"
#include "nl/nl.h"

static int nl_ndmsg_put(struct nlmsghdr *nlh, size_t size, int family, const struct nl_neigh *n,
			uint16_t state, uint8_t flags)
{
	struct ndmsg *ndm;
	int ret;

	if (n->index <= 0 || !nl_addr_len(n->dst.family))
		return -EINVAL;
	ndm = nl_put_header(nlh, size, sizeof(*ndm));
	if (!ndm)
		return -EMSGSIZE;
	ndm->ndm_family = (uint8_t)family;
	ndm->ndm_ifindex = n->index;
	ndm->ndm_state = state;
	ndm->ndm_flags = flags;
	ret = nl_put_addr(nlh, size, NDA_DST, &n->dst);
	if (ret < 0)
		return ret;
	return 0;
}

int nl_neigh_build(struct nlmsghdr *nlh, size_t size, const struct nl_neigh *n, int del)
{
	int ret;

	if (!del && !n->has_mac)
		return -EINVAL;
	ret = nl_ndmsg_put(nlh, size, n->dst.family, n, del ? 0 : NUD_PERMANENT, 0);
	if (ret < 0)
		return ret;
	if (!del && !mnl_attr_put_check(nlh, size, NDA_LLADDR, sizeof(n->mac), n->mac))
		return -EMSGSIZE;
	return 0;
}

int nl_fdb_build(struct nlmsghdr *nlh, size_t size, const struct nl_neigh *n)
{
	int ret;

	/* Without NDA_DST a delete would drop every remote of the MAC. */
	if (!n->has_mac)
		return -EINVAL;
	ret = nl_ndmsg_put(nlh, size, AF_BRIDGE, n, NUD_PERMANENT, NTF_SELF);
	if (ret < 0)
		return ret;
	if (!mnl_attr_put_check(nlh, size, NDA_LLADDR, sizeof(n->mac), n->mac))
		return -EMSGSIZE;
	return 0;
}

enum nl_neigh_op { NL_NEIGH_REPLACE, NL_NEIGH_DEL, NL_FDB_REPLACE, NL_FDB_DEL };

static int nl_neigh_op_build(struct nlmsghdr *nlh, enum nl_neigh_op op, const struct nl_neigh *n)
{
	switch (op) {
	case NL_NEIGH_REPLACE:
		return nl_neigh_build(nlh, NL_MSG_MAX, n, 0);
	case NL_NEIGH_DEL:
		return nl_neigh_build(nlh, NL_MSG_MAX, n, 1);
	default:
		return nl_fdb_build(nlh, NL_MSG_MAX, n);
	}
}

static uint16_t nl_neigh_op_type(enum nl_neigh_op op)
{
	return op == NL_NEIGH_REPLACE || op == NL_FDB_REPLACE ? RTM_NEWNEIGH : RTM_DELNEIGH;
}

static uint16_t nl_neigh_op_flags(enum nl_neigh_op op)
{
	return op == NL_NEIGH_REPLACE || op == NL_FDB_REPLACE ? NLM_F_CREATE | NLM_F_REPLACE : 0;
}

static int nl_neigh_do(struct nl *nl, enum nl_neigh_op op, const struct nl_neigh *n,
		       struct err *err)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, nl_neigh_op_type(op), nl_neigh_op_flags(op));
	int ret;

	ret = nl_neigh_op_build(nlh, op, n);
	if (ret < 0)
		return err_set(err, ret, "bad neighbour entry");
	return nl_request(nl, nlh, err);
}

static int nl_neigh_queue(struct nl *nl, enum nl_neigh_op op, const struct nl_neigh *n)
{
	struct nlmsghdr *nlh = nl_batch_msg(nl, nl_neigh_op_type(op), nl_neigh_op_flags(op));
	int ret;

	if (!nlh)
		return -ENOMEM;
	ret = nl_neigh_op_build(nlh, op, n);
	if (ret < 0)
		nl_batch_cancel(nl);
	return ret;
}

int nl_neigh_replace(struct nl *nl, const struct nl_neigh *n, struct err *err)
{
	return nl_neigh_do(nl, NL_NEIGH_REPLACE, n, err);
}

int nl_neigh_del(struct nl *nl, const struct nl_neigh *n, struct err *err)
{
	return nl_neigh_do(nl, NL_NEIGH_DEL, n, err);
}

int nl_fdb_replace(struct nl *nl, const struct nl_neigh *n, struct err *err)
{
	return nl_neigh_do(nl, NL_FDB_REPLACE, n, err);
}

int nl_fdb_del(struct nl *nl, const struct nl_neigh *n, struct err *err)
{
	return nl_neigh_do(nl, NL_FDB_DEL, n, err);
}

int nl_neigh_replace_batch(struct nl *nl, const struct nl_neigh *n)
{
	return nl_neigh_queue(nl, NL_NEIGH_REPLACE, n);
}

int nl_neigh_del_batch(struct nl *nl, const struct nl_neigh *n)
{
	return nl_neigh_queue(nl, NL_NEIGH_DEL, n);
}

int nl_fdb_replace_batch(struct nl *nl, const struct nl_neigh *n)
{
	return nl_neigh_queue(nl, NL_FDB_REPLACE, n);
}

int nl_fdb_del_batch(struct nl *nl, const struct nl_neigh *n)
{
	return nl_neigh_queue(nl, NL_FDB_DEL, n);
}

int nl_neigh_parse(const struct nlmsghdr *nlh, struct nl_neigh *ret_neigh)
{
	const struct nlattr *tb[NDA_MAX + 1];
	const struct ndmsg *ndm;
	struct nl_neigh n = { 0 };
	int ret;

	if (nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH)
		return -EINVAL;
	ret = nl_parse_attrs(nlh, sizeof(*ndm), tb, NDA_MAX);
	if (ret < 0)
		return ret;
	ndm = mnl_nlmsg_get_payload(nlh);
	n.index = ndm->ndm_ifindex;
	n.state = ndm->ndm_state;
	n.flags = ndm->ndm_flags;
	n.fdb = ndm->ndm_family == AF_BRIDGE;
	/* FDB entries carry a remote of either family: go by the length. */
	nl_attr_addr(tb[NDA_DST], n.fdb ? AF_UNSPEC : ndm->ndm_family, &n.dst);
	if (tb[NDA_LLADDR] && mnl_attr_get_payload_len(tb[NDA_LLADDR]) == sizeof(n.mac)) {
		memcpy(n.mac, mnl_attr_get_payload(tb[NDA_LLADDR]), sizeof(n.mac));
		n.has_mac = true;
	}
	*ret_neigh = n;
	return 0;
}

struct nl_neigh_dump {
	int family; /* AF_UNSPEC: IPv4 and IPv6 */
	int index;
	bool fdb;
	nl_neigh_cb *cb;
	void *arg;
};

static int nl_neigh_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nl_neigh_dump *d = arg;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct nl_neigh n;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ndm))
		return 0;
	/* Filter here too: not every kernel filters dumps. */
	if (d->fdb ? ndm->ndm_family != AF_BRIDGE
		   : (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) ||
			     (d->family != AF_UNSPEC && ndm->ndm_family != d->family))
		return 0;
	if (d->index && ndm->ndm_ifindex != d->index)
		return 0;
	if (nl_neigh_parse(nlh, &n) < 0)
		return 0;
	return d->cb(&n, d->arg);
}

int nl_neigh_dump(struct nl *nl, int family, int index, nl_neigh_cb *cb, void *arg)
{
	struct nl_neigh_dump d = { .family = family, .index = index, .cb = cb, .arg = arg };
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	if (family != AF_UNSPEC && !nl_addr_len(family))
		return -EAFNOSUPPORT;
	nlh = nl_msg_start(nl, RTM_GETNEIGH, NLM_F_DUMP);
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (uint8_t)family;
	/* Strict checking wants the device filter as an attribute, not in
	 * ndm_ifindex. */
	if (index > 0)
		mnl_attr_put_u32(nlh, NDA_IFINDEX, (uint32_t)index);
	return nl_dump(nl, nlh, nl_neigh_dump_cb, &d);
}

int nl_fdb_dump(struct nl *nl, int index, nl_neigh_cb *cb, void *arg)
{
	struct nl_neigh_dump d = { .index = index, .fdb = true, .cb = cb, .arg = arg };
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	nlh = nl_msg_start(nl, RTM_GETNEIGH, NLM_F_DUMP);
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_BRIDGE;
	/* The bridge dump takes the port (here the vxlan device) from
	 * ndm_ifindex, as `bridge fdb show dev X` does. */
	ndm->ndm_ifindex = index > 0 ? index : 0;
	return nl_dump(nl, nlh, nl_neigh_dump_cb, &d);
}
