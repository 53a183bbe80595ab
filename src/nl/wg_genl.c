// SPDX-License-Identifier: Apache-2.0
/*
 * The kernel's "wireguard" generic netlink family (linux/wireguard.h).
 *
 * SET_DEVICE: the device's own attributes go in the first message only;
 * peers follow in as many messages as they need. A peer whose allowed IPs
 * do not all fit continues in the next message with only its public key,
 * UPDATE_ONLY when it had it, and the rest of its allowed IPs: never
 * REPLACE_ALLOWEDIPS again, which would drop the first part.
 *
 * GET_DEVICE is a dump whose messages split the same way: a peer may appear
 * again at the start of the next message with more allowed IPs, and is then
 * merged with the previous one.
 */
#include "nl/wg_genl.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/time_types.h>
#include <linux/wireguard.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/xmalloc.h"
#include "nl/build.h"
#include "nl/nl.h"
#include "wg/config.h"

struct wg_genl {
	struct nl *nl;
	uint16_t family;
};

/* No room left for the next item in this message. */
#define NOROOM 1

static bool ifname_ok(const char *ifname)
{
	size_t n = ifname ? strnlen(ifname, IFNAMSIZ) : 0;

	return n > 0 && n < IFNAMSIZ;
}

static struct genlmsghdr *put_genl(struct nlmsghdr *nlh, size_t size, uint8_t cmd, uint8_t version)
{
	struct genlmsghdr *g = nl_put_header(nlh, size, sizeof(*g));

	if (g) {
		g->cmd = cmd;
		g->version = version;
	}
	return g;
}

int wg_genl_family_build(struct nlmsghdr *nlh, size_t size)
{
	if (!put_genl(nlh, size, CTRL_CMD_GETFAMILY, 1))
		return -EMSGSIZE;
	if (!mnl_attr_put_strz_check(nlh, size, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME))
		return -EMSGSIZE;
	return 0;
}

static bool attr_len_is(const struct nlattr *a, size_t len)
{
	return a && mnl_attr_get_payload_len(a) == len;
}

int wg_genl_family_parse(const struct nlmsghdr *nlh, uint16_t *ret_id)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];

	if (nlh->nlmsg_type != GENL_ID_CTRL)
		return -EBADMSG;
	if (nl_parse_attrs(nlh, GENL_HDRLEN, tb, CTRL_ATTR_MAX) < 0)
		return -EBADMSG;
	if (!attr_len_is(tb[CTRL_ATTR_FAMILY_ID], sizeof(uint16_t)))
		return -EBADMSG;
	*ret_id = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	return *ret_id ? 0 : -EBADMSG;
}

/* ---- WG_CMD_SET_DEVICE ---- */

static int put_device(struct nlmsghdr *nlh, size_t size, const struct wg_device_config *c)
{
	if ((c->flags & WG_DEV_HAS_PRIVATE) &&
	    !mnl_attr_put_check(nlh, size, WGDEVICE_A_PRIVATE_KEY, WG_KEY_LEN, c->priv))
		return -EMSGSIZE;
	if ((c->flags & WG_DEV_HAS_PORT) &&
	    !mnl_attr_put_u16_check(nlh, size, WGDEVICE_A_LISTEN_PORT, c->port))
		return -EMSGSIZE;
	if ((c->flags & WG_DEV_HAS_FWMARK) &&
	    !mnl_attr_put_u32_check(nlh, size, WGDEVICE_A_FWMARK, c->fwmark))
		return -EMSGSIZE;
	if ((c->flags & WG_DEV_REPLACE_PEERS) &&
	    !mnl_attr_put_u32_check(nlh, size, WGDEVICE_A_FLAGS, WGDEVICE_F_REPLACE_PEERS))
		return -EMSGSIZE;
	return 0;
}

static bool put_endpoint(struct nlmsghdr *nlh, size_t size, const union wg_endpoint *e)
{
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;

	/* Copied field by field: no stray padding bytes on the wire. */
	switch (e->sa.sa_family) {
	case AF_INET:
		memset(&in4, 0, sizeof(in4));
		in4.sin_family = AF_INET;
		in4.sin_port = e->in4.sin_port;
		in4.sin_addr = e->in4.sin_addr;
		return mnl_attr_put_check(nlh, size, WGPEER_A_ENDPOINT, sizeof(in4), &in4);
	case AF_INET6:
		memset(&in6, 0, sizeof(in6));
		in6.sin6_family = AF_INET6;
		in6.sin6_port = e->in6.sin6_port;
		in6.sin6_flowinfo = e->in6.sin6_flowinfo;
		in6.sin6_addr = e->in6.sin6_addr;
		in6.sin6_scope_id = e->in6.sin6_scope_id;
		return mnl_attr_put_check(nlh, size, WGPEER_A_ENDPOINT, sizeof(in6), &in6);
	default:
		return true; /* none */
	}
}

/* A peer's first part: everything but its allowed IPs. */
static bool put_peer_head(struct nlmsghdr *nlh, size_t size, const struct wg_peer_config *p)
{
	uint32_t flags = 0;

	if (p->flags & WG_PEER_REMOVE)
		flags |= WGPEER_F_REMOVE_ME;
	if (p->flags & WG_PEER_UPDATE_ONLY)
		flags |= WGPEER_F_UPDATE_ONLY;
	if ((p->flags & WG_PEER_REPLACE_ALLOWED_IPS) && !(p->flags & WG_PEER_REMOVE))
		flags |= WGPEER_F_REPLACE_ALLOWEDIPS;
	if (flags && !mnl_attr_put_u32_check(nlh, size, WGPEER_A_FLAGS, flags))
		return false;
	if (p->flags & WG_PEER_REMOVE)
		return true;
	if ((p->flags & WG_PEER_HAS_PSK) &&
	    !mnl_attr_put_check(nlh, size, WGPEER_A_PRESHARED_KEY, WG_KEY_LEN, p->psk))
		return false;
	if (!put_endpoint(nlh, size, &p->endpoint))
		return false;
	if ((p->flags & WG_PEER_HAS_KEEPALIVE) &&
	    !mnl_attr_put_u16_check(nlh, size, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
				    p->keepalive_s))
		return false;
	return mnl_attr_put_u32_check(nlh, size, WGPEER_A_PROTOCOL_VERSION, 1);
}

/* One allowed IP; -EINVAL for a family or cidr the kernel would refuse,
 * NOROOM, or 0. */
static int put_allowed(struct nlmsghdr *nlh, size_t size, const struct wg_allowed_ip *a)
{
	size_t alen = nl_addr_len(a->family);
	struct nlattr *nest;

	if (!alen || a->cidr > alen * 8)
		return -EINVAL;
	nest = mnl_attr_nest_start_check(nlh, size, 0);
	if (!nest)
		return NOROOM;
	if (!mnl_attr_put_u16_check(nlh, size, WGALLOWEDIP_A_FAMILY, (uint16_t)a->family) ||
	    !mnl_attr_put_check(nlh, size, WGALLOWEDIP_A_IPADDR, alen, &a->addr) ||
	    !mnl_attr_put_u8_check(nlh, size, WGALLOWEDIP_A_CIDR_MASK, a->cidr)) {
		mnl_attr_nest_cancel(nlh, nest);
		return NOROOM;
	}
	mnl_attr_nest_end(nlh, nest);
	return 0;
}

/*
 * As much of peer cur->peer as fits: 0 when the peer is done (the cursor
 * moves to the next), NOROOM when the message is full (the cursor says
 * where the peer continues; *progress tells whether anything went in), or
 * -EINVAL.
 */
static int put_peer(struct nlmsghdr *nlh, size_t size, const struct wg_peer_config *p,
		    struct wg_genl_cursor *cur, bool *progress)
{
	struct nlattr *peer, *ips;
	size_t j = cur->allowed;
	bool head = !cur->cont;
	int rc = 0;

	*progress = false;
	peer = mnl_attr_nest_start_check(nlh, size, 0);
	if (!peer)
		return NOROOM;
	if (!mnl_attr_put_check(nlh, size, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, p->pub))
		goto cancel;
	if (head && !put_peer_head(nlh, size, p))
		goto cancel;
	if (!head && (p->flags & WG_PEER_UPDATE_ONLY) &&
	    !mnl_attr_put_u32_check(nlh, size, WGPEER_A_FLAGS, WGPEER_F_UPDATE_ONLY))
		goto cancel;
	if (!(p->flags & WG_PEER_REMOVE) && j < p->n_allowed) {
		ips = mnl_attr_nest_start_check(nlh, size, WGPEER_A_ALLOWEDIPS);
		for (; ips && j < p->n_allowed; j++) {
			rc = put_allowed(nlh, size, &p->allowed[j]);
			if (rc < 0)
				goto cancel;
			if (rc == NOROOM)
				break;
		}
		if (ips && j > cur->allowed)
			mnl_attr_nest_end(nlh, ips);
		else if (ips)
			mnl_attr_nest_cancel(nlh, ips);
	}
	if (!head && j == cur->allowed)
		goto cancel; /* nothing of this peer went in */
	mnl_attr_nest_end(nlh, peer);
	*progress = true;
	if (!(p->flags & WG_PEER_REMOVE) && j < p->n_allowed) {
		cur->cont = true;
		cur->allowed = j;
		return NOROOM;
	}
	cur->peer++;
	cur->allowed = 0;
	cur->cont = false;
	return 0;
cancel:
	mnl_attr_nest_cancel(nlh, peer);
	return rc < 0 ? rc : NOROOM;
}

int wg_genl_set_build(struct nlmsghdr *nlh, size_t size, const char *ifname,
		      const struct wg_device_config *c, struct wg_genl_cursor *cur)
{
	bool progress = false, more, any_peer = false;
	struct nlattr *peers;
	int rc;

	if (!ifname_ok(ifname))
		return -EINVAL;
	if (!put_genl(nlh, size, WG_CMD_SET_DEVICE, WG_GENL_VERSION) ||
	    !mnl_attr_put_strz_check(nlh, size, WGDEVICE_A_IFNAME, ifname))
		return -EMSGSIZE;
	if (!cur->started) {
		rc = put_device(nlh, size, c);
		if (rc < 0)
			return rc;
		cur->started = true;
		progress = true;
	}
	if (cur->peer >= c->n_peers)
		return 0;
	peers = mnl_attr_nest_start_check(nlh, size, WGDEVICE_A_PEERS);
	for (rc = 0; peers && rc == 0 && cur->peer < c->n_peers;) {
		rc = put_peer(nlh, size, &c->peers[cur->peer], cur, &more);
		if (rc < 0)
			return rc;
		progress |= more;
		any_peer |= more;
	}
	if (!progress)
		return -EMSGSIZE;
	if (peers) {
		/* Empty when only the device's attributes fitted. */
		if (any_peer)
			mnl_attr_nest_end(nlh, peers);
		else
			mnl_attr_nest_cancel(nlh, peers);
	}
	return cur->peer < c->n_peers ? 1 : 0;
}

/* ---- WG_CMD_GET_DEVICE ---- */

int wg_genl_get_build(struct nlmsghdr *nlh, size_t size, const char *ifname)
{
	if (!ifname_ok(ifname))
		return -EINVAL;
	if (!put_genl(nlh, size, WG_CMD_GET_DEVICE, WG_GENL_VERSION) ||
	    !mnl_attr_put_strz_check(nlh, size, WGDEVICE_A_IFNAME, ifname))
		return -EMSGSIZE;
	return 0;
}

/* Attributes that fill [p, p + len) exactly: libmnl's walkers stop quietly
 * at one that overruns, which would lose peers without a word. */
static bool attrs_whole(const void *p, size_t len)
{
	const struct nlattr *a = p;
	long rem = (long)len;

	while (mnl_attr_ok(a, (int)rem)) {
		rem -= (long)MNL_ALIGN(a->nla_len);
		a = mnl_attr_next(a);
	}
	return rem <= 0;
}

static bool nest_whole(const struct nlattr *nest)
{
	return attrs_whole(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest));
}

static int parse_allowed(const struct nlattr *nest, struct wg_peer_config *p, struct err *err)
{
	const struct nlattr *tb[WGALLOWEDIP_A_MAX + 1];
	struct wg_allowed_ip a;
	size_t alen;

	memset(&a, 0, sizeof(a));
	if (!nest_whole(nest) || nl_parse_nested(nest, tb, WGALLOWEDIP_A_MAX) < 0)
		return err_set(err, -EBADMSG, "WGPEER_A_ALLOWEDIPS: bad nesting");
	if (!attr_len_is(tb[WGALLOWEDIP_A_FAMILY], sizeof(uint16_t)) ||
	    !attr_len_is(tb[WGALLOWEDIP_A_CIDR_MASK], sizeof(uint8_t)))
		return err_set(err, -EBADMSG, "WGALLOWEDIP_A_FAMILY/CIDR_MASK missing or bad");
	a.family = mnl_attr_get_u16(tb[WGALLOWEDIP_A_FAMILY]);
	a.cidr = mnl_attr_get_u8(tb[WGALLOWEDIP_A_CIDR_MASK]);
	alen = nl_addr_len(a.family);
	if (!alen || a.cidr > alen * 8)
		return err_set(err, -EBADMSG, "WGALLOWEDIP_A_FAMILY %d/cidr %u", a.family, a.cidr);
	if (!attr_len_is(tb[WGALLOWEDIP_A_IPADDR], alen))
		return err_set(err, -EBADMSG, "WGALLOWEDIP_A_IPADDR missing or bad");
	memcpy(&a.addr, mnl_attr_get_payload(tb[WGALLOWEDIP_A_IPADDR]), alen);
	wg_peer_config_add_allowed(p, &a);
	return 0;
}

static int parse_endpoint(const struct nlattr *a, union wg_endpoint *e, struct err *err)
{
	size_t len = mnl_attr_get_payload_len(a);
	sa_family_t family;

	if (len < sizeof(family))
		return err_set(err, -EBADMSG, "WGPEER_A_ENDPOINT too short");
	memcpy(&family, mnl_attr_get_payload(a), sizeof(family));
	memset(e, 0, sizeof(*e));
	if (family == AF_INET && len == sizeof(e->in4))
		memcpy(&e->in4, mnl_attr_get_payload(a), len);
	else if (family == AF_INET6 && len == sizeof(e->in6))
		memcpy(&e->in6, mnl_attr_get_payload(a), len);
	else
		return err_set(err, -EBADMSG, "WGPEER_A_ENDPOINT: family %u, %zu bytes", family,
			       len);
	return 0;
}

static int parse_peer(const struct nlattr *nest, struct wg_device_config *c, struct err *err)
{
	const struct nlattr *tb[WGPEER_A_MAX + 1], *pos;
	struct wg_peer_config *p;
	struct __kernel_timespec ts;
	int rc;

	if (!nest_whole(nest) || nl_parse_nested(nest, tb, WGPEER_A_MAX) < 0)
		return err_set(err, -EBADMSG, "WGDEVICE_A_PEERS: bad nesting");
	if (!attr_len_is(tb[WGPEER_A_PUBLIC_KEY], WG_KEY_LEN))
		return err_set(err, -EBADMSG, "WGPEER_A_PUBLIC_KEY missing or bad");
	/* The kernel repeats a peer whose allowed IPs did not fit. */
	p = c->n_peers ? &c->peers[c->n_peers - 1] : NULL;
	if (!p || memcmp(p->pub, mnl_attr_get_payload(tb[WGPEER_A_PUBLIC_KEY]), WG_KEY_LEN)) {
		p = wg_device_config_add_peer(c);
		memcpy(p->pub, mnl_attr_get_payload(tb[WGPEER_A_PUBLIC_KEY]), WG_KEY_LEN);
	}
	if (tb[WGPEER_A_PRESHARED_KEY]) {
		if (!attr_len_is(tb[WGPEER_A_PRESHARED_KEY], WG_KEY_LEN))
			return err_set(err, -EBADMSG, "WGPEER_A_PRESHARED_KEY bad");
		memcpy(p->psk, mnl_attr_get_payload(tb[WGPEER_A_PRESHARED_KEY]), WG_KEY_LEN);
		p->flags |= WG_PEER_HAS_PSK;
	}
	if (tb[WGPEER_A_ENDPOINT]) {
		rc = parse_endpoint(tb[WGPEER_A_ENDPOINT], &p->endpoint, err);
		if (rc < 0)
			return rc;
	}
	if (tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]) {
		if (!attr_len_is(tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL], sizeof(uint16_t)))
			return err_set(err, -EBADMSG, "WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL bad");
		p->keepalive_s = mnl_attr_get_u16(tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]);
		p->flags |= WG_PEER_HAS_KEEPALIVE;
	}
	if (tb[WGPEER_A_LAST_HANDSHAKE_TIME]) {
		if (!attr_len_is(tb[WGPEER_A_LAST_HANDSHAKE_TIME], sizeof(ts)))
			return err_set(err, -EBADMSG, "WGPEER_A_LAST_HANDSHAKE_TIME bad");
		memcpy(&ts, mnl_attr_get_payload(tb[WGPEER_A_LAST_HANDSHAKE_TIME]), sizeof(ts));
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec > 999999999)
			return err_set(err, -EBADMSG, "WGPEER_A_LAST_HANDSHAKE_TIME out of range");
		p->last_handshake_sec = ts.tv_sec;
		p->last_handshake_nsec = (long)ts.tv_nsec;
	}
	if (tb[WGPEER_A_RX_BYTES]) {
		if (!attr_len_is(tb[WGPEER_A_RX_BYTES], sizeof(uint64_t)))
			return err_set(err, -EBADMSG, "WGPEER_A_RX_BYTES bad");
		p->rx_bytes = mnl_attr_get_u64(tb[WGPEER_A_RX_BYTES]);
	}
	if (tb[WGPEER_A_TX_BYTES]) {
		if (!attr_len_is(tb[WGPEER_A_TX_BYTES], sizeof(uint64_t)))
			return err_set(err, -EBADMSG, "WGPEER_A_TX_BYTES bad");
		p->tx_bytes = mnl_attr_get_u64(tb[WGPEER_A_TX_BYTES]);
	}
	if (tb[WGPEER_A_ALLOWEDIPS]) {
		if (!nest_whole(tb[WGPEER_A_ALLOWEDIPS]))
			return err_set(err, -EBADMSG, "WGPEER_A_ALLOWEDIPS: bad nesting");
		mnl_attr_for_each_nested(pos, tb[WGPEER_A_ALLOWEDIPS])
		{
			rc = parse_allowed(pos, p, err);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int wg_genl_get_parse(const struct nlmsghdr *nlh, uint16_t family, struct wg_device_config *c,
		      struct err *err)
{
	const struct nlattr *tb[WGDEVICE_A_MAX + 1], *pos;
	const struct genlmsghdr *g;
	int rc;

	if (nlh->nlmsg_type != family)
		return err_set(err, -EBADMSG, "message type %u, not the wireguard family",
			       nlh->nlmsg_type);
	if (nl_parse_attrs(nlh, GENL_HDRLEN, tb, WGDEVICE_A_MAX) < 0 ||
	    !attrs_whole((const char *)mnl_nlmsg_get_payload(nlh) + GENL_HDRLEN,
			 mnl_nlmsg_get_payload_len(nlh) - GENL_HDRLEN))
		return err_set(err, -EBADMSG, "malformed WG_CMD_GET_DEVICE message");
	g = mnl_nlmsg_get_payload(nlh);
	if (g->cmd != WG_CMD_GET_DEVICE)
		return err_set(err, -EBADMSG, "command %u, not WG_CMD_GET_DEVICE", g->cmd);
	if (tb[WGDEVICE_A_PRIVATE_KEY]) {
		if (!attr_len_is(tb[WGDEVICE_A_PRIVATE_KEY], WG_KEY_LEN))
			return err_set(err, -EBADMSG, "WGDEVICE_A_PRIVATE_KEY bad");
		memcpy(c->priv, mnl_attr_get_payload(tb[WGDEVICE_A_PRIVATE_KEY]), WG_KEY_LEN);
		c->flags |= WG_DEV_HAS_PRIVATE;
	}
	if (tb[WGDEVICE_A_PUBLIC_KEY]) {
		if (!attr_len_is(tb[WGDEVICE_A_PUBLIC_KEY], WG_KEY_LEN))
			return err_set(err, -EBADMSG, "WGDEVICE_A_PUBLIC_KEY bad");
		memcpy(c->pub, mnl_attr_get_payload(tb[WGDEVICE_A_PUBLIC_KEY]), WG_KEY_LEN);
	}
	if (tb[WGDEVICE_A_LISTEN_PORT]) {
		if (!attr_len_is(tb[WGDEVICE_A_LISTEN_PORT], sizeof(uint16_t)))
			return err_set(err, -EBADMSG, "WGDEVICE_A_LISTEN_PORT bad");
		c->port = mnl_attr_get_u16(tb[WGDEVICE_A_LISTEN_PORT]);
		c->flags |= WG_DEV_HAS_PORT;
	}
	if (tb[WGDEVICE_A_FWMARK]) {
		if (!attr_len_is(tb[WGDEVICE_A_FWMARK], sizeof(uint32_t)))
			return err_set(err, -EBADMSG, "WGDEVICE_A_FWMARK bad");
		c->fwmark = mnl_attr_get_u32(tb[WGDEVICE_A_FWMARK]);
		c->flags |= WG_DEV_HAS_FWMARK;
	}
	if (tb[WGDEVICE_A_PEERS]) {
		if (!nest_whole(tb[WGDEVICE_A_PEERS]))
			return err_set(err, -EBADMSG, "WGDEVICE_A_PEERS: bad nesting");
		mnl_attr_for_each_nested(pos, tb[WGDEVICE_A_PEERS])
		{
			rc = parse_peer(pos, c, err);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* ---- I/O ---- */

struct family_answer {
	uint16_t id;
};

static int family_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct family_answer *a = arg;

	if (wg_genl_family_parse(nlh, &a->id) < 0)
		return -EBADMSG;
	return 0;
}

int wg_genl_open(struct wg_genl **ret, struct err *err)
{
	struct family_answer ans = {0};
	struct wg_genl *g = xcalloc(1, sizeof(*g));
	struct nlmsghdr *nlh;
	int rc;

	rc = nl_open_proto(NETLINK_GENERIC, &g->nl);
	if (rc < 0) {
		err_set(err, rc, "generic netlink socket: %s", strerror(-rc));
		goto out;
	}
	nlh = nl_msg_start(g->nl, GENL_ID_CTRL, 0);
	rc = wg_genl_family_build(nlh, NL_MSG_MAX);
	if (rc < 0)
		goto out;
	rc = nl_talk(g->nl, nlh, family_cb, &ans, err);
	if (rc == -ENOENT) {
		rc = err_set(err, -EOPNOTSUPP,
			     "no \"%s\" generic netlink family (kernel without wireguard)",
			     WG_GENL_NAME);
		goto out;
	}
	if (rc < 0) {
		err_prefix(err, rc, "resolving the \"%s\" generic netlink family", WG_GENL_NAME);
		goto out;
	}
	if (!ans.id) {
		rc = err_set(err, -EBADMSG, "the controller did not say the \"%s\" family id",
			     WG_GENL_NAME);
		goto out;
	}
	g->family = ans.id;
	*ret = g;
	g = NULL;
out:
	wg_genl_close(g);
	return rc;
}

void wg_genl_close(struct wg_genl *g)
{
	if (!g)
		return;
	nl_close(g->nl);
	free(g);
}

uint16_t wg_genl_family(const struct wg_genl *g)
{
	return g->family;
}

int wg_genl_set(struct wg_genl *g, const char *ifname, const struct wg_device_config *c,
		struct err *err)
{
	struct wg_genl_cursor cur = {0};
	struct nlmsghdr *nlh;
	unsigned n = 0;
	int rc, more;

	do {
		nlh = nl_msg_start(g->nl, g->family, 0);
		more = wg_genl_set_build(nlh, NL_MSG_MAX, ifname, c, &cur);
		if (more < 0) {
			rc = err_set(err, more, "WG_CMD_SET_DEVICE for %s: bad configuration",
				     ifname_ok(ifname) ? ifname : "?");
			goto out;
		}
		n++;
		rc = nl_request(g->nl, nlh, err);
		if (rc < 0) {
			err_prefix(err, rc, "WG_CMD_SET_DEVICE %s (message %u)", ifname, n);
			goto out;
		}
	} while (more);
out:
	/* The request buffer held keys. */
	explicit_bzero(nlh, NL_MSG_MAX);
	return rc;
}

struct get_ctx {
	uint16_t family;
	struct wg_device_config *c;
	struct err *err;
};

static int get_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct get_ctx *x = arg;

	return wg_genl_get_parse(nlh, x->family, x->c, x->err);
}

int wg_genl_get(struct wg_genl *g, const char *ifname, struct wg_device_config *ret,
		struct err *err)
{
	struct get_ctx x = {.family = g->family, .c = ret, .err = err};
	struct nlmsghdr *nlh;
	int rc;

	memset(ret, 0, sizeof(*ret));
	nlh = nl_msg_start(g->nl, g->family, NLM_F_DUMP);
	rc = wg_genl_get_build(nlh, NL_MSG_MAX, ifname);
	if (rc < 0)
		return err_set(err, rc, "WG_CMD_GET_DEVICE: bad device name");
	rc = nl_dump(g->nl, nlh, get_cb, &x);
	if (rc < 0) {
		wg_device_config_clear(ret);
		if (rc != -EBADMSG)
			err_set(err, rc, "WG_CMD_GET_DEVICE %s: %s", ifname, strerror(-rc));
	}
	return rc;
}
