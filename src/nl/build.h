/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NL_BUILD_H
#define WEFT_NL_BUILD_H

/*
 * Internal to src/nl (and its unit test): the message builders, split from
 * the send path so that the exact bytes weft puts on the wire can be checked
 * without a kernel, and the batch hooks the typed *_batch() wrappers use.
 *
 * Every builder appends to a message whose nlmsghdr is already in place
 * (type, flags, seq), never writes past size bytes from nlh, and returns 0,
 * -EINVAL for a request that makes no sense, or -EMSGSIZE when it does not
 * fit.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#include "nl/nl.h"

struct nl_vxlan_params;
struct nl_ipip_params;
struct nl_route;
struct nl_neigh;
struct nl_nexthop;
struct ip_prefix;
struct ip_addr;
struct nlattr;

/* RTM_NEWLINK for a new vxlan device (flags: NLM_F_CREATE | NLM_F_EXCL). */
int nl_vxlan_build(struct nlmsghdr *nlh, size_t size, const struct nl_vxlan_params *p);
/* RTM_NEWLINK for a new ipip device (flags: NLM_F_CREATE | NLM_F_EXCL). */
int nl_ipip_build(struct nlmsghdr *nlh, size_t size, const struct nl_ipip_params *p);
/* RTM_NEWROUTE: the whole route. */
int nl_route_build(struct nlmsghdr *nlh, size_t size, const struct nl_route *r);
/* RTM_DELROUTE: only the keys the kernel matches on. */
int nl_route_del_build(struct nlmsghdr *nlh, size_t size, const struct nl_route *r);
/* RTM_NEWNEIGH / RTM_DELNEIGH for an ARP/ND entry (del: no lladdr, no state). */
int nl_neigh_build(struct nlmsghdr *nlh, size_t size, const struct nl_neigh *n, int del);
/* RTM_NEWNEIGH / RTM_DELNEIGH for a vxlan FDB entry (both: mac and dst). */
int nl_fdb_build(struct nlmsghdr *nlh, size_t size, const struct nl_neigh *n);
/* RTM_NEWADDR / RTM_DELADDR. */
int nl_addr_build(struct nlmsghdr *nlh, size_t size, int index, const struct ip_prefix *addr);
/* RTM_NEWNEXTHOP: family from nh->gw.family (set even without a gateway). */
int nl_nexthop_build(struct nlmsghdr *nlh, size_t size, const struct nl_nexthop *nh);
/* RTM_DELNEXTHOP: the id only. */
int nl_nexthop_del_build(struct nlmsghdr *nlh, size_t size, uint32_t id);

/* nl_open() for another netlink protocol (NETLINK_GENERIC: wg_genl.c), with
 * the same request, ACK and dump handling. */
NL_MUST_CHECK int nl_open_proto(int protocol, struct nl **ret);

/* nl_request() that also passes the answer's data messages (a GET's
 * reply) to cb. */
int nl_talk(struct nl *nl, struct nlmsghdr *msg, nl_dump_cb *cb, void *arg, struct err *err);

/* The request socket, for tests that need to shrink its buffers. */
int nl_fd(const struct nl *nl);

/* The rcvbuf bytes one ACK is assumed to take when sizing batch chunks
 * (0: the default). Tests set 1 to make the kernel drop ACKs. */
void nl_set_ack_cost(struct nl *nl, size_t cost);

/* How many times dumps were restarted (NLM_F_DUMP_INTR, lost messages):
 * for tests. */
unsigned nl_dump_restarts(const struct nl *nl);

/* The fuzzer's stand-in for the kernel: with io set, requests go to
 * io->send (0 or -errno) instead of the socket, and answers come from
 * io->recv, which fills buf with one datagram as the kernel would send it
 * and returns its length (more than cap: truncated) or -errno (-EAGAIN:
 * nothing queued; never blocks). NULL restores the socket. */
struct nl_io {
	int (*send)(void *arg, const void *buf, size_t len);
	long (*recv)(void *arg, void *buf, size_t cap, bool dontwait);
	void *arg;
};
void nl_set_io(struct nl *nl, const struct nl_io *io);

/* Drop the batch message that nl_batch_msg() just handed out (its builder
 * failed), so that it is never sent and gets no done() call. */
void nl_batch_cancel(struct nl *nl);

/*
 * Walking the messages of a received datagram or a collected dump. libmnl's
 * mnl_nlmsg_ok() compares nlmsg_len as a signed int, so a length of 2^31 or
 * more passes it, and mnl_nlmsg_next() then stands still (0xffffffff aligns
 * to 0: an endless loop) or jumps gigabytes (found by fuzz_nl_reply). These
 * take the length unsigned; the last message may lack its padding.
 */
static inline bool nl_msg_ok(const struct nlmsghdr *nlh, size_t len)
{
	return len >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) && nlh->nlmsg_len <= len;
}

static inline const struct nlmsghdr *nl_msg_next(const struct nlmsghdr *nlh, size_t *len)
{
	size_t step = ((size_t)nlh->nlmsg_len + 3) & ~(size_t)3;

	if (step > *len)
		step = *len;
	*len -= step;
	return (const struct nlmsghdr *)((const char *)nlh + step);
}

/* Address bytes: 4 for AF_INET, 16 for AF_INET6, 0 otherwise. */
size_t nl_addr_len(int family);

/* Attributes into tb[0..max] (types above max are skipped, unset ones NULL)
 * after hdrlen bytes of family header. -EBADMSG when the header is short. */
int nl_parse_attrs(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb,
		   uint16_t max);
int nl_parse_nested(const struct nlattr *nest, const struct nlattr **tb, uint16_t max);
/* Typed getters that check the payload length; false when absent or short.
 * nl_attr_addr: family AF_UNSPEC takes it from the length (4 or 16). */
bool nl_attr_addr(const struct nlattr *a, int family, struct ip_addr *ret);
bool nl_attr_u32(const struct nlattr *a, uint32_t *ret);
bool nl_attr_u8(const struct nlattr *a, uint8_t *ret);
/* Bounded puts: an address attribute of the address's own width, and the
 * family header (NULL when it does not fit in size). */
int nl_put_addr(struct nlmsghdr *nlh, size_t size, uint16_t type, const struct ip_addr *a);
void *nl_put_header(struct nlmsghdr *nlh, size_t size, size_t len);

#endif
