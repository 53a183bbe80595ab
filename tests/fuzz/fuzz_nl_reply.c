// SPDX-License-Identifier: Apache-2.0
/*
 * Netlink replies, as the kernel would send them, from arbitrary bytes: the
 * reply matching and ACK/DONE/extended-ACK parsing of nl.c (requests, dumps
 * with their restarts, batches), the link/route/neigh/fdb/nexthop/addr
 * dump callbacks (links with their vxlan or ipip data), and the parse functions the netlink monitor's consumers
 * call on notifications.
 *
 *   byte 0   operation (below, modulo their count)
 *   byte 1   bit 0: stamp every message with the sequence number of the
 *            request it answers and our port id (the kernel's addressing;
 *            without it most input is stale and skipped);
 *            bit 1: batches of 8 requests instead of 3
 *   then     datagrams, each a 2-byte little-endian length and that many
 *            bytes; the last one may be short. After the last one the
 *            "socket" is empty (-EAGAIN: no wait, no timeout).
 *
 * Whatever the bytes, every call returns 0 or a negative errno, every
 * object handed to a callback has NUL-terminated names and known families,
 * and nothing reads or writes out of bounds (ASan) or is undefined (UBSan).
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "backend/ipip.h"
#include "core/err.h"
#include "core/ipnet.h"
#include "nl/addr.h"
#include "nl/build.h"
#include "nl/link.h"
#include "nl/neigh.h"
#include "nl/nexthop.h"
#include "nl/nl.h"
#include "nl/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SENT 64

struct kernel {
	const uint8_t *data;
	size_t left;
	bool stamp;
	uint32_t portid;
	uint32_t seqs[MAX_SENT]; /* of the requests in the last send */
	size_t n_seqs;
	size_t k; /* messages stamped so far */
};

static struct kernel k;
static struct nl *nl;

static int k_send(void *arg, const void *buf, size_t len)
{
	struct kernel *kk = arg;
	const struct nlmsghdr *nlh = buf;
	size_t l = len;

	kk->n_seqs = 0;
	kk->k = 0;
	for (; nl_msg_ok(nlh, l); nlh = nl_msg_next(nlh, &l))
		if (kk->n_seqs < MAX_SENT)
			kk->seqs[kk->n_seqs++] = nlh->nlmsg_seq;
	return 0;
}

static long k_recv(void *arg, void *buf, size_t cap, bool dontwait)
{
	struct kernel *kk = arg;
	size_t n;

	(void)dontwait;
	if (kk->left < 2)
		return -EAGAIN;
	n = (size_t)kk->data[0] | (size_t)kk->data[1] << 8;
	kk->data += 2;
	kk->left -= 2;
	if (n > kk->left)
		n = kk->left;
	if (n > cap) {
		/* Too big for the buffer: the kernel truncates, we say so. */
		memcpy(buf, kk->data, cap);
		kk->data += n;
		kk->left -= n;
		return (long)cap + 1;
	}
	memcpy(buf, kk->data, n);
	kk->data += n;
	kk->left -= n;
	if (kk->stamp && kk->n_seqs) {
		const struct nlmsghdr *nlh = buf;
		size_t l = n;

		for (; nl_msg_ok(nlh, l); nlh = nl_msg_next(nlh, &l)) {
			struct nlmsghdr *w = (struct nlmsghdr *)(uintptr_t)nlh;

			w->nlmsg_seq = kk->seqs[kk->k++ % kk->n_seqs];
			w->nlmsg_pid = kk->portid;
		}
	}
	return (long)n;
}

static const struct nl_io io = { .send = k_send, .recv = k_recv, .arg = &k };

static void check_rc(int rc)
{
	if (rc > 0 || rc < -4095)
		abort();
}

static void check_str(const char *s, size_t size)
{
	if (!memchr(s, '\0', size))
		abort();
}

static void check_addr(const struct ip_addr *a)
{
	if (a->family != 0 && a->family != AF_INET && a->family != AF_INET6)
		abort();
}

static const struct ip_addr ipip_local = { .family = AF_INET, .b = { 10, 200, 0, 11 } };

static int on_link(const struct nl_link *l, void *arg)
{
	(void)arg;
	check_str(l->name, sizeof(l->name));
	check_str(l->kind, sizeof(l->kind));
	check_addr(&l->vxlan.local);
	check_addr(&l->vxlan.group);
	/* ipip addresses are IPv4 or unset, and upstream's keep-or-recreate
	 * test reads them. */
	if ((l->ipip.local.family && l->ipip.local.family != AF_INET) ||
	    (l->ipip.remote.family && l->ipip.remote.family != AF_INET))
		abort();
	if (ipip_link_compatible(l, &ipip_local) && (!l->is_ipip || !strcmp(l->kind, "") ||
						     !ip_addr_is_unset(&l->ipip.remote)))
		abort();
	return 0;
}

static int on_route(const struct nl_route *r, void *arg)
{
	(void)arg;
	check_addr(&r->dst.addr);
	check_addr(&r->gw);
	check_addr(&r->src);
	if (r->dst.len > ip_family_bits(r->dst.addr.family))
		abort();
	return 0;
}

static int on_neigh(const struct nl_neigh *n, void *arg)
{
	(void)arg;
	check_addr(&n->dst);
	return 0;
}

static int on_nexthop(const struct nl_nexthop *nh, void *arg)
{
	(void)arg;
	check_addr(&nh->gw);
	return 0;
}

static int on_addr(const struct nl_addr *a, void *arg)
{
	(void)arg;
	check_addr(&a->prefix.addr);
	if (a->prefix.len > ip_family_bits(a->prefix.addr.family))
		abort();
	return 0;
}

/* Every datagram's messages through every parse function (what the
 * monitor's consumers do with notifications). */
static void parse_all(void)
{
	uint8_t buf[65536] __attribute__((aligned(8)));
	long n;

	while ((n = k_recv(&k, buf, sizeof(buf), true)) >= 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		size_t l = n > (long)sizeof(buf) ? sizeof(buf) : (size_t)n;

		for (; nl_msg_ok(nlh, l); nlh = nl_msg_next(nlh, &l)) {
			struct nl_link li;
			struct nl_route r;
			struct nl_neigh ne;
			struct nl_nexthop nh;
			struct nl_addr a;

			if (nl_link_parse(nlh, &li) == 0)
				on_link(&li, NULL);
			if (nl_route_parse(nlh, &r) == 0)
				on_route(&r, NULL);
			if (nl_neigh_parse(nlh, &ne) == 0)
				on_neigh(&ne, NULL);
			if (nl_nexthop_parse(nlh, &nh) == 0)
				on_nexthop(&nh, NULL);
			if (nl_addr_parse(nlh, &a) == 0)
				on_addr(&a, NULL);
		}
	}
}

static void batch(unsigned n)
{
	struct nl_route r = { .protocol = WEFT_RTPROT };
	struct nl_neigh ne = { .index = 3, .mac = { 2, 0, 0, 0, 0, 1 }, .state = 0x80 };
	int rc;

	ip_prefix_parse("10.244.2.0/24", &r.dst);
	ip_addr_parse("10.244.2.0", &r.gw);
	ip_addr_parse("10.244.2.0", &ne.dst);
	r.oif = 3;
	for (unsigned i = 0; i < n; i++) {
		if (i % 2)
			rc = nl_neigh_replace_batch(nl, &ne);
		else
			rc = nl_route_replace_batch(nl, &r);
		check_rc(rc);
	}
	rc = nl_batch_commit(nl, NULL, NULL);
	if (rc > (int)n || rc < -4095)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err err = { 0 };
	struct nl_link l;
	struct nl_route r;
	struct ip_addr dst;
	struct ip_prefix p;

	if (!nl) {
		if (nl_open(&nl) < 0)
			abort();
		nl_set_io(nl, &io);
	}
	if (size < 2)
		return 0;
	memset(&k, 0, sizeof(k));
	k.data = data + 2;
	k.left = size - 2;
	k.stamp = data[1] & 1;
	k.portid = nl_portid(nl);
	switch (data[0] % 12) {
	case 0:
		check_rc(nl_link_dump(nl, on_link, NULL));
		break;
	case 1:
		check_rc(nl_route_dump(nl, AF_INET, 0, on_route, NULL));
		break;
	case 2:
		check_rc(nl_neigh_dump(nl, AF_INET, 3, on_neigh, NULL));
		break;
	case 3:
		check_rc(nl_fdb_dump(nl, 3, on_neigh, NULL));
		break;
	case 4:
		check_rc(nl_nexthop_dump(nl, AF_INET, on_nexthop, NULL));
		break;
	case 5:
		check_rc(nl_addr_dump(nl, AF_UNSPEC, 0, on_addr, NULL));
		break;
	case 6:
		if (nl_link_get_by_index(nl, 3, &l) == 0)
			on_link(&l, NULL);
		break;
	case 7:
		if (nl_link_get_by_name(nl, "flannel.1", &l) == 0)
			on_link(&l, NULL);
		break;
	case 8:
		ip_addr_parse("192.0.2.1", &dst);
		if (nl_route_get(nl, &dst, &r, &err) == 0)
			on_route(&r, NULL);
		check_str(err.msg, sizeof(err.msg));
		break;
	case 9:
		/* One request and its ACK (with an extended ACK, maybe). */
		ip_prefix_parse("10.244.1.0/32", &p);
		check_rc(nl_addr_add(nl, 3, &p, &err));
		check_str(err.msg, sizeof(err.msg));
		break;
	case 10:
		batch(data[1] & 2 ? 8 : 3);
		break;
	default:
		parse_all();
		break;
	}
	return 0;
}
