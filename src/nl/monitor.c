// SPDX-License-Identifier: Apache-2.0
/*
 * The rtnetlink event socket. Notifications carry the originator's port id
 * and sequence number, not ours, so unlike requests they are not matched:
 * the only check is that the kernel (port 0) sent the datagram.
 */
#include "nl/monitor.h"

#include <errno.h>
#include <stdbool.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nl/build.h"

#define NL_MON_RX_SIZE (64 * 1024)
#define NL_MON_RCVBUF  (8 * 1024 * 1024) /* 20k peers change at once on resync */
/* Datagrams per nl_monitor_read(): the loop is level-triggered and comes
 * back, and other fds get their turn meanwhile. */
#define NL_MON_BUDGET 4096

struct nl_monitor {
	struct mnl_socket *sock;
	struct nl_monitor_cbs cbs;
	uint8_t rx[NL_MON_RX_SIZE] __attribute__((aligned(8)));
};

static const unsigned nl_mon_groups[] = {
	RTNLGRP_LINK,	    RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
	RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,	 RTNLGRP_NEIGH,
};

int nl_monitor_open(const struct nl_monitor_cbs *cbs, struct nl_monitor **ret_m)
{
	struct nl_monitor *m;
	int fd, val, ret;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cbs = *cbs;
	m->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!m->sock) {
		ret = -errno;
		goto out;
	}
	if (mnl_socket_bind(m->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	for (size_t i = 0; i < sizeof(nl_mon_groups) / sizeof(nl_mon_groups[0]); i++) {
		val = (int)nl_mon_groups[i];
		if (mnl_socket_setsockopt(m->sock, NETLINK_ADD_MEMBERSHIP, &val, sizeof(val)) < 0) {
			ret = -errno;
			goto out;
		}
	}
	/* Nexthop objects (deleting one takes its routes along, without a
	 * route notification); kernels before 5.3 have no such group. */
	val = RTNLGRP_NEXTHOP;
	(void)mnl_socket_setsockopt(m->sock, NETLINK_ADD_MEMBERSHIP, &val, sizeof(val));
	fd = mnl_socket_get_fd(m->sock);
	val = NL_MON_RCVBUF;
	/* FORCE needs CAP_NET_ADMIN; plain SO_RCVBUF is capped by rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &val, sizeof(val)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &val, sizeof(val));
	*ret_m = m;
	m = NULL;
	ret = 0;
out:
	nl_monitor_close(m);
	return ret;
}

int nl_monitor_fd(const struct nl_monitor *m)
{
	return mnl_socket_get_fd(m->sock);
}

/* Up to budget messages; *ret_drained tells whether the socket ran empty. */
static int nl_monitor_read_some(struct nl_monitor *m, int budget, bool *ret_drained)
{
	const struct nlmsghdr *nlh;
	struct sockaddr_nl addr;
	struct iovec iov = { .iov_base = m->rx, .iov_len = sizeof(m->rx) };
	struct msghdr msg;
	ssize_t n;
	size_t len;

	*ret_drained = false;
	for (; budget > 0; budget--) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &addr;
		msg.msg_namelen = sizeof(addr);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		n = recvmsg(mnl_socket_get_fd(m->sock), &msg, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				*ret_drained = true;
				return 0;
			}
			if (errno == ENOBUFS) {
				/* The kernel dropped events: only a resync helps. */
				if (m->cbs.overflow)
					m->cbs.overflow(m->cbs.arg);
				continue;
			}
			return -errno;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			/* Bigger than any event we know of; lost all the same. */
			if (m->cbs.overflow)
				m->cbs.overflow(m->cbs.arg);
			continue;
		}
		if (msg.msg_namelen != sizeof(addr) || addr.nl_pid != 0)
			continue;
		len = (size_t)n;
		for (nlh = (const struct nlmsghdr *)m->rx; nl_msg_ok(nlh, len);
		     nlh = nl_msg_next(nlh, &len)) {
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
				continue; /* NOOP, DONE, ERROR: not events */
			if (m->cbs.msg)
				m->cbs.msg(m->cbs.arg, nlh);
		}
	}
	return 0;
}

int nl_monitor_read(struct nl_monitor *m)
{
	bool drained;

	return nl_monitor_read_some(m, NL_MON_BUDGET, &drained);
}

int nl_monitor_drain(struct nl_monitor *m)
{
	bool drained = false;
	int ret = 0;

	while (!drained && ret == 0)
		ret = nl_monitor_read_some(m, NL_MON_BUDGET, &drained);
	return ret;
}

void nl_monitor_close(struct nl_monitor *m)
{
	if (!m)
		return;
	if (m->sock)
		mnl_socket_close(m->sock);
	free(m);
}
