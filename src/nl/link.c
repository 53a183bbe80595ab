// SPDX-License-Identifier: Apache-2.0
/*
 * Links: the vxlan and ipip devices flannel creates, and the few changes it
 * makes to links afterwards (up, MTU, MAC, delete).
 *
 * The vxlan request carries the attributes upstream flannel's netlink library
 * sends, in its order: explicit zero TTL/TOS and explicit "off" for learning,
 * proxy, RSC, L2/L3 miss and the IPv6 zero-checksum knobs, GBP only as a flag
 * when wanted, the destination port only when configured (the kernel then
 * uses 8472). A device made by weft is thus indistinguishable from one made
 * by flanneld, and either daemon can adopt the other's.
 */
#include "nl/link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <string.h>

#include "core/err.h"
#include "nl/build.h"
#include "nl/nl.h"

static const char vxlan_kind[] = "vxlan";
static const char ipip_kind[] = "ipip";

/* IFLA_LINKINFO with the kind, and IFLA_INFO_DATA opened in it; the caller
 * ends both nests. The kind goes without its NUL, as iproute2 and flannel
 * send it. false: no room. */
static bool info_open(struct nlmsghdr *nlh, size_t size, const char *kind,
		      struct nlattr **linkinfo, struct nlattr **data)
{
	*linkinfo = mnl_attr_nest_start_check(nlh, size, IFLA_LINKINFO);
	if (!*linkinfo || !mnl_attr_put_check(nlh, size, IFLA_INFO_KIND, strlen(kind), kind))
		return false;
	*data = mnl_attr_nest_start_check(nlh, size, IFLA_INFO_DATA);
	return *data != NULL;
}

int nl_vxlan_build(struct nlmsghdr *nlh, size_t size, const struct nl_vxlan_params *p)
{
	const struct nl_vxlan_info *v = &p->info;
	struct nlattr *linkinfo, *data;
	struct ifinfomsg *ifi;
	int ret;

	if (!p->name || !*p->name || strlen(p->name) >= IF_NAMESIZE || v->vni > 0xffffff ||
	    v->link < 0)
		return -EINVAL;
	ifi = nl_put_header(nlh, size, sizeof(*ifi));
	if (!ifi)
		return -EMSGSIZE;
	ifi->ifi_family = AF_UNSPEC;
	if (!mnl_attr_put_strz_check(nlh, size, IFLA_IFNAME, p->name))
		return -EMSGSIZE;
	if (p->mtu && !mnl_attr_put_u32_check(nlh, size, IFLA_MTU, p->mtu))
		return -EMSGSIZE;
	if (p->mac && !mnl_attr_put_check(nlh, size, IFLA_ADDRESS, 6, p->mac))
		return -EMSGSIZE;
	if (!info_open(nlh, size, vxlan_kind, &linkinfo, &data))
		return -EMSGSIZE;
	if (!mnl_attr_put_u32_check(nlh, size, IFLA_VXLAN_ID, v->vni))
		return -EMSGSIZE;
	if (v->link && !mnl_attr_put_u32_check(nlh, size, IFLA_VXLAN_LINK, (uint32_t)v->link))
		return -EMSGSIZE;
	if (!ip_addr_is_unset(&v->local)) {
		ret = nl_put_addr(nlh, size,
				  v->local.family == AF_INET ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6,
				  &v->local);
		if (ret < 0)
			return ret;
	}
	if (!mnl_attr_put_u8_check(nlh, size, IFLA_VXLAN_TTL, 0) ||
	    !mnl_attr_put_u8_check(nlh, size, IFLA_VXLAN_TOS, 0) ||
	    !mnl_attr_put_u8_check(nlh, size, IFLA_VXLAN_LEARNING, v->learning) ||
	    !mnl_attr_put_u8_check(nlh, size, IFLA_VXLAN_PROXY, 0) ||
	    !mnl_attr_put_u8_check(nlh, size, IFLA_VXLAN_RSC, 0) ||
	    !mnl_attr_put_u8_check(nlh, size, IFLA_VXLAN_L2MISS, 0) ||
	    !mnl_attr_put_u8_check(nlh, size, IFLA_VXLAN_L3MISS, 0) ||
	    !mnl_attr_put_u8_check(nlh, size, IFLA_VXLAN_UDP_ZERO_CSUM6_TX, 0) ||
	    !mnl_attr_put_u8_check(nlh, size, IFLA_VXLAN_UDP_ZERO_CSUM6_RX, 0))
		return -EMSGSIZE;
	if (v->gbp && !mnl_attr_put_check(nlh, size, IFLA_VXLAN_GBP, 0, NULL))
		return -EMSGSIZE;
	if (v->port && !mnl_attr_put_u16_check(nlh, size, IFLA_VXLAN_PORT, htons(v->port)))
		return -EMSGSIZE;
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return 0;
}

int nl_vxlan_create(struct nl *nl, const struct nl_vxlan_params *p, struct err *err)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	int ret;

	ret = nl_vxlan_build(nlh, NL_MSG_MAX, p);
	if (ret < 0)
		return err_set(err, ret, "bad vxlan device parameters");
	return nl_request(nl, nlh, err);
}

/*
 * What flannel's library sends for netlink.Iptun{Name, Local}: the name, a
 * TXQLEN of 0 (its LinkAttrs literal leaves TxQLen 0, which it sends), then
 * the kind and the tunnel data in its order.
 */
int nl_ipip_build(struct nlmsghdr *nlh, size_t size, const struct nl_ipip_params *p)
{
	struct nlattr *linkinfo, *data;
	struct ifinfomsg *ifi;
	int ret;

	if (!p->name || !*p->name || strlen(p->name) >= IF_NAMESIZE ||
	    (p->local.family && p->local.family != AF_INET))
		return -EINVAL;
	ifi = nl_put_header(nlh, size, sizeof(*ifi));
	if (!ifi)
		return -EMSGSIZE;
	ifi->ifi_family = AF_UNSPEC;
	if (!mnl_attr_put_strz_check(nlh, size, IFLA_IFNAME, p->name))
		return -EMSGSIZE;
	if (p->mtu && !mnl_attr_put_u32_check(nlh, size, IFLA_MTU, p->mtu))
		return -EMSGSIZE;
	if (!mnl_attr_put_u32_check(nlh, size, IFLA_TXQLEN, 0))
		return -EMSGSIZE;
	if (!info_open(nlh, size, ipip_kind, &linkinfo, &data))
		return -EMSGSIZE;
	if (p->local.family) {
		ret = nl_put_addr(nlh, size, IFLA_IPTUN_LOCAL, &p->local);
		if (ret < 0)
			return ret;
	}
	/* PMTUDISC 0: the kernel then leaves DF off the outer header
	 * ("nopmtudisc"), as on flanneld's device. Ports in network order. */
	if (!mnl_attr_put_u8_check(nlh, size, IFLA_IPTUN_PMTUDISC, 0) ||
	    !mnl_attr_put_u8_check(nlh, size, IFLA_IPTUN_TTL, 0) ||
	    !mnl_attr_put_u8_check(nlh, size, IFLA_IPTUN_TOS, 0) ||
	    !mnl_attr_put_u16_check(nlh, size, IFLA_IPTUN_ENCAP_TYPE, 0) ||
	    !mnl_attr_put_u16_check(nlh, size, IFLA_IPTUN_ENCAP_FLAGS, 0) ||
	    !mnl_attr_put_u16_check(nlh, size, IFLA_IPTUN_ENCAP_SPORT, htons(0)) ||
	    !mnl_attr_put_u16_check(nlh, size, IFLA_IPTUN_ENCAP_DPORT, htons(0)) ||
	    !mnl_attr_put_u8_check(nlh, size, IFLA_IPTUN_PROTO, 0))
		return -EMSGSIZE;
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return 0;
}

int nl_ipip_create(struct nl *nl, const struct nl_ipip_params *p, struct err *err)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	int ret;

	ret = nl_ipip_build(nlh, NL_MSG_MAX, p);
	if (ret < 0)
		return err_set(err, ret, "bad ipip device parameters");
	return nl_request(nl, nlh, err);
}

int nl_link_create_kind(struct nl *nl, const char *name, const char *kind, unsigned mtu,
			struct err *err)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *li;

	if (!name || !*name || strlen(name) >= IF_NAMESIZE || !kind || !*kind)
		return err_set(err, -EINVAL, "bad link name or kind");
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	mnl_attr_nest_end(nlh, li);
	return nl_request(nl, nlh, err);
}

/* RTM_NEWLINK on an existing link: the caller adds what changes. */
static struct nlmsghdr *nl_link_change(struct nl *nl, int index, unsigned flags, unsigned change)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
	return nlh;
}

int nl_link_set_up(struct nl *nl, int index, bool up, struct err *err)
{
	if (index <= 0)
		return err_set(err, -EINVAL, "bad link index %d", index);
	return nl_request(nl, nl_link_change(nl, index, up ? IFF_UP : 0, IFF_UP), err);
}

int nl_link_set_mtu(struct nl *nl, int index, unsigned mtu, struct err *err)
{
	struct nlmsghdr *nlh;

	if (index <= 0 || !mtu)
		return err_set(err, -EINVAL, "bad link index %d or MTU %u", index, mtu);
	nlh = nl_link_change(nl, index, 0, 0);
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_request(nl, nlh, err);
}

int nl_link_set_mac(struct nl *nl, int index, const uint8_t mac[6], struct err *err)
{
	struct nlmsghdr *nlh;

	if (index <= 0)
		return err_set(err, -EINVAL, "bad link index %d", index);
	nlh = nl_link_change(nl, index, 0, 0);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	return nl_request(nl, nlh, err);
}

int nl_link_delete(struct nl *nl, int index, struct err *err)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (index <= 0)
		return err_set(err, -EINVAL, "bad link index %d", index);
	nlh = nl_msg_start(nl, RTM_DELLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	return nl_request(nl, nlh, err);
}

/* Copy a string attribute that may or may not carry its NUL. */
static void nl_attr_strcpy(const struct nlattr *a, char *buf, size_t size)
{
	size_t len = mnl_attr_get_payload_len(a);
	const char *s = mnl_attr_get_payload(a);
	const char *nul = memchr(s, '\0', len);

	if (nul)
		len = (size_t)(nul - s);
	if (len >= size)
		len = size - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
}

static int nl_vxlan_parse(const struct nlattr *nest, struct nl_vxlan_info *v)
{
	const struct nlattr *tb[IFLA_VXLAN_MAX + 1];
	uint32_t u32;
	uint8_t u8;
	int ret;

	ret = nl_parse_nested(nest, tb, IFLA_VXLAN_MAX);
	if (ret < 0)
		return ret;
	if (nl_attr_u32(tb[IFLA_VXLAN_ID], &u32))
		v->vni = u32;
	if (nl_attr_u32(tb[IFLA_VXLAN_LINK], &u32))
		v->link = (int)u32;
	if (!nl_attr_addr(tb[IFLA_VXLAN_LOCAL], AF_INET, &v->local))
		nl_attr_addr(tb[IFLA_VXLAN_LOCAL6], AF_INET6, &v->local);
	if (!nl_attr_addr(tb[IFLA_VXLAN_GROUP], AF_INET, &v->group))
		nl_attr_addr(tb[IFLA_VXLAN_GROUP6], AF_INET6, &v->group);
	if (tb[IFLA_VXLAN_PORT] && mnl_attr_get_payload_len(tb[IFLA_VXLAN_PORT]) >= 2)
		v->port = ntohs(mnl_attr_get_u16(tb[IFLA_VXLAN_PORT]));
	if (nl_attr_u8(tb[IFLA_VXLAN_TTL], &u8))
		v->ttl = u8;
	if (nl_attr_u8(tb[IFLA_VXLAN_TOS], &u8))
		v->tos = u8;
	if (nl_attr_u8(tb[IFLA_VXLAN_LEARNING], &u8))
		v->learning = u8 != 0;
	if (nl_attr_u8(tb[IFLA_VXLAN_PROXY], &u8))
		v->proxy = u8 != 0;
	if (nl_attr_u8(tb[IFLA_VXLAN_RSC], &u8))
		v->rsc = u8 != 0;
	if (nl_attr_u8(tb[IFLA_VXLAN_L2MISS], &u8))
		v->l2miss = u8 != 0;
	if (nl_attr_u8(tb[IFLA_VXLAN_L3MISS], &u8))
		v->l3miss = u8 != 0;
	v->gbp = tb[IFLA_VXLAN_GBP] != NULL; /* a flag: present means on */
	return 0;
}

static int nl_ipip_parse(const struct nlattr *nest, struct nl_ipip_info *t)
{
	const struct nlattr *tb[IFLA_IPTUN_MAX + 1];
	uint32_t u32;
	uint8_t u8;
	int ret;

	ret = nl_parse_nested(nest, tb, IFLA_IPTUN_MAX);
	if (ret < 0)
		return ret;
	nl_attr_addr(tb[IFLA_IPTUN_LOCAL], AF_INET, &t->local);
	nl_attr_addr(tb[IFLA_IPTUN_REMOTE], AF_INET, &t->remote);
	if (nl_attr_u32(tb[IFLA_IPTUN_LINK], &u32) && u32 <= INT32_MAX)
		t->link = (int)u32;
	if (nl_attr_u8(tb[IFLA_IPTUN_TTL], &u8))
		t->ttl = u8;
	if (nl_attr_u8(tb[IFLA_IPTUN_TOS], &u8))
		t->tos = u8;
	if (nl_attr_u8(tb[IFLA_IPTUN_PMTUDISC], &u8))
		t->pmtudisc = u8 != 0;
	t->collect_md = tb[IFLA_IPTUN_COLLECT_METADATA] != NULL; /* a flag */
	return 0;
}

int nl_link_parse(const struct nlmsghdr *nlh, struct nl_link *ret_link)
{
	const struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];
	const struct ifinfomsg *ifi;
	struct nl_link l = { 0 };
	uint32_t mtu;
	int ret;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return -EINVAL;
	ret = nl_parse_attrs(nlh, sizeof(*ifi), tb, IFLA_MAX);
	if (ret < 0)
		return ret;
	ifi = mnl_nlmsg_get_payload(nlh);
	l.index = ifi->ifi_index;
	l.up = (ifi->ifi_flags & IFF_UP) != 0;
	if (tb[IFLA_IFNAME])
		nl_attr_strcpy(tb[IFLA_IFNAME], l.name, sizeof(l.name));
	if (nl_attr_u32(tb[IFLA_MTU], &mtu))
		l.mtu = mtu;
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == sizeof(l.mac))
		memcpy(l.mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), sizeof(l.mac));
	if (tb[IFLA_LINKINFO]) {
		ret = nl_parse_nested(tb[IFLA_LINKINFO], li, IFLA_INFO_MAX);
		if (ret < 0)
			return ret;
		if (li[IFLA_INFO_KIND])
			nl_attr_strcpy(li[IFLA_INFO_KIND], l.kind, sizeof(l.kind));
		if (!strcmp(l.kind, vxlan_kind) && li[IFLA_INFO_DATA]) {
			ret = nl_vxlan_parse(li[IFLA_INFO_DATA], &l.vxlan);
			if (ret < 0)
				return ret;
			l.is_vxlan = true;
		}
		if (!strcmp(l.kind, ipip_kind) && li[IFLA_INFO_DATA]) {
			ret = nl_ipip_parse(li[IFLA_INFO_DATA], &l.ipip);
			if (ret < 0)
				return ret;
			l.is_ipip = true;
		}
	}
	*ret_link = l;
	return 0;
}

struct nl_link_get {
	struct nl_link *link;
	bool found;
};

static int nl_link_get_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_link_get *g = arg;
	int ret;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	ret = nl_link_parse(nlh, g->link);
	if (ret < 0)
		return ret;
	g->found = true;
	return 0;
}

/* RTM_GETLINK for one link; -ENODEV from the kernel when there is none. */
static int nl_link_get(struct nl *nl, struct nlmsghdr *nlh, struct nl_link *ret_link)
{
	struct nl_link_get g = { .link = ret_link };
	int ret;

	ret = nl_talk(nl, nlh, nl_link_get_cb, &g, NULL);
	if (ret < 0)
		return ret;
	return g.found ? 0 : -ENODEV;
}

static struct nlmsghdr *nl_getlink_start(struct nl *nl, uint16_t flags, int index)
{
	struct nlmsghdr *nlh = nl_msg_start(nl, RTM_GETLINK, flags);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	/* Statistics are most of a link message and we never read them. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nlh;
}

int nl_link_get_by_name(struct nl *nl, const char *name, struct nl_link *ret_link)
{
	struct nlmsghdr *nlh;

	if (!name || !*name || strlen(name) >= IF_NAMESIZE)
		return -ENODEV; /* no link can have that name */
	nlh = nl_getlink_start(nl, 0, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nl_link_get(nl, nlh, ret_link);
}

int nl_link_get_by_index(struct nl *nl, int index, struct nl_link *ret_link)
{
	if (index <= 0)
		return -ENODEV;
	return nl_link_get(nl, nl_getlink_start(nl, 0, index), ret_link);
}

struct nl_link_dump {
	nl_link_cb *cb;
	void *arg;
};

static int nl_link_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_link_dump *d = arg;
	struct nl_link l;

	if (nlh->nlmsg_type != RTM_NEWLINK || nl_link_parse(nlh, &l) < 0)
		return 0; /* skip what we cannot read rather than lose the rest */
	return d->cb(&l, d->arg);
}

int nl_link_dump(struct nl *nl, nl_link_cb *cb, void *arg)
{
	struct nl_link_dump d = { .cb = cb, .arg = arg };

	return nl_dump(nl, nl_getlink_start(nl, NLM_F_DUMP, 0), nl_link_dump_cb, &d);
}
