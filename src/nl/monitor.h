/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NL_MONITOR_H
#define WEFT_NL_MONITOR_H

/*
 * A non-blocking rtnetlink socket subscribed to link, address, route and
 * neighbour groups (IPv4 and IPv6), with a large receive buffer. The owner
 * polls its fd and calls nl_monitor_read(): each message goes to cb. When the
 * kernel dropped messages (ENOBUFS), overflow() is called: the owner must
 * resync from a full dump, since events were lost.
 */
#include <stdint.h>

#include "nl/nl.h"

struct nlmsghdr;
struct nl_monitor;

struct nl_monitor_cbs {
	void *arg;
	void (*msg)(void *arg, const struct nlmsghdr *nlh);
	void (*overflow)(void *arg);
};

NL_MUST_CHECK int nl_monitor_open(const struct nl_monitor_cbs *cbs, struct nl_monitor **ret);
int nl_monitor_fd(const struct nl_monitor *m);
/* Reads everything available now; 0 or -errno (other than EAGAIN/ENOBUFS). */
NL_MUST_CHECK int nl_monitor_read(struct nl_monitor *m);
/* Reads until the socket is empty (nl_monitor_read stops after a budget, to
 * share the loop); 0 or -errno. */
NL_MUST_CHECK int nl_monitor_drain(struct nl_monitor *m);
void nl_monitor_close(struct nl_monitor *m);

#endif
