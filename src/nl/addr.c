// SPDX-License-Identifier: Apache-2.0
/*
 * Interface addresses: the /32 (/128) flannel puts on its vxlan and udp
 * devices, and dumps to find the external interface's addresses.
 */
#include "nl/addr.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "core/err.h"
#include "nl/build.h"
#include "nl/nl.h"

int nl_addr_build(struct nlmsghdr *nlh, size_t size, int index, const struct ip_prefix *addr)
{
	size_t alen = nl_addr_len(addr->addr.family);
	struct ifaddrmsg *ifa;
	struct ip_addr brd;
	int ret;

	if (index <= 0 || !alen || addr->len > alen * 8)
		return -EINVAL;
	ifa = nl_put_header(nlh, size, sizeof(*ifa));
	if (!ifa)
		return -EMSGSIZE;
	ifa->ifa_family = addr->addr.family;
	ifa->ifa_prefixlen = addr->len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)index;
	ret = nl_put_addr(nlh, size, IFA_LOCAL, &addr->addr);
	if (ret < 0)
		return ret;
	ret = nl_put_addr(nlh, size, IFA_ADDRESS, &addr->addr);
	if (ret < 0)
		return ret;
	/* Like flannel's library: an IPv4 subnet big enough to have one gets
	 * its broadcast address (RFC 3021: /31 and /32 have none). */
	if (addr->addr.family == AF_INET && addr->len < 31) {
		brd = addr->addr;
		for (unsigned bit = addr->len; bit < 32; bit++)
			brd.b[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
		ret = nl_put_addr(nlh, size, IFA_BROADCAST, &brd);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int nl_addr_add(struct nl *nl, int index, const struct ip_prefix *addr, struct err *err)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	int ret;

	ret = nl_addr_build(nlh, NL_MSG_MAX, index, addr);
	if (ret < 0)
		return err_set(err, ret, "bad address");
	return nl_request(nl, nlh, err);
}

int nl_addr_del(struct nl *nl, int index, const struct ip_prefix *addr, struct err *err)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, RTM_DELADDR, 0);
	int ret;

	ret = nl_addr_build(nlh, NL_MSG_MAX, index, addr);
	if (ret < 0)
		return err_set(err, ret, "bad address");
	return nl_request(nl, nlh, err);
}

int nl_addr_parse(const struct nlmsghdr *nlh, struct nl_addr *ret_addr)
{
	const struct nlattr *tb[IFA_MAX + 1];
	const struct ifaddrmsg *ifa;
	struct nl_addr a = { 0 };
	uint32_t flags;
	int ret;

	if (nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR)
		return -EINVAL;
	ret = nl_parse_attrs(nlh, sizeof(*ifa), tb, IFA_MAX);
	if (ret < 0)
		return ret;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (!nl_addr_len(ifa->ifa_family))
		return -EAFNOSUPPORT;
	if (ifa->ifa_prefixlen > nl_addr_len(ifa->ifa_family) * 8)
		return -EBADMSG;
	a.index = (int)ifa->ifa_index;
	a.scope = ifa->ifa_scope;
	a.prefix.len = ifa->ifa_prefixlen;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on
	 * point-to-point links and the only one sent for most IPv6. */
	if (!nl_attr_addr(tb[IFA_LOCAL], ifa->ifa_family, &a.prefix.addr) &&
	    !nl_attr_addr(tb[IFA_ADDRESS], ifa->ifa_family, &a.prefix.addr))
		return -EBADMSG;
	/* ifa_flags has 8 bits; IFA_FLAGS has them all when present. */
	a.flags = ifa->ifa_flags;
	if (nl_attr_u32(tb[IFA_FLAGS], &flags))
		a.flags = flags;
	*ret_addr = a;
	return 0;
}

struct nl_addr_dump {
	int family;
	int index;
	nl_addr_cb *cb;
	void *arg;
};

static int nl_addr_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nl_addr_dump *d = arg;
	struct nl_addr a;

	if (nlh->nlmsg_type != RTM_NEWADDR || nl_addr_parse(nlh, &a) < 0)
		return 0;
	if ((d->family != AF_UNSPEC && a.prefix.addr.family != d->family) ||
	    (d->index && a.index != d->index))
		return 0;
	return d->cb(&a, d->arg);
}

int nl_addr_dump(struct nl *nl, int family, int index, nl_addr_cb *cb, void *arg)
{
	struct nl_addr_dump d = { .family = family, .index = index, .cb = cb, .arg = arg };
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (family != AF_UNSPEC && !nl_addr_len(family))
		return -EAFNOSUPPORT;
	nlh = nl_msg_start(nl, RTM_GETADDR, NLM_F_DUMP);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_index = index > 0 ? (uint32_t)index : 0;
	return nl_dump(nl, nlh, nl_addr_dump_cb, &d);
}

struct addr_scan {
	int index;
	const struct ip_prefix *want;
	struct ip_prefix stale[16];
	size_t n_stale;
	bool have;
};

static int scan_addr(const struct nl_addr *a, void *arg)
{
	struct addr_scan *s = arg;

	if (a->index != s->index)
		return 0;
	if (ip_addr_equal(&a->prefix.addr, &s->want->addr) && a->prefix.len == s->want->len)
		s->have = true;
	else if (s->n_stale < 16)
		s->stale[s->n_stale++] = a->prefix;
	return 0;
}

int nl_addr_set_only(struct nl *nl, int index, const struct ip_prefix *want, struct err *err)
{
	struct addr_scan s = { .index = index, .want = want };
	int family = want->addr.family, rc;

	rc = nl_addr_dump(nl, family, index, scan_addr, &s);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < s.n_stale; i++) {
		/* IPv6 link-local addresses belong to the kernel. */
		if (family == AF_INET6 && s.stale[i].addr.b[0] == 0xfe &&
		    (s.stale[i].addr.b[1] & 0xc0) == 0x80)
			continue;
		rc = nl_addr_del(nl, index, &s.stale[i], err);
		if (rc < 0 && rc != -EADDRNOTAVAIL)
			return rc;
	}
	if (!s.have) {
		rc = nl_addr_add(nl, index, want, err);
		if (rc < 0 && rc != -EEXIST)
			return rc;
	}
	return 0;
}
