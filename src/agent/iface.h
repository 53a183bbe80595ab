/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_AGENT_IFACE_H
#define WEFT_AGENT_IFACE_H

/*
 * External interface and public address selection (flannel.md §6).
 *
 * Without any --iface* option: the interface that carries --public-ip (an
 * error if no interface does), else the one carrying --public-ipv6, else the
 * interface of the default route (IPv4 and/or IPv6 as the network wants; with
 * both, the two default routes must leave through the same interface).
 *
 * Otherwise the first candidate that works, in this order: each --iface value
 * (an address: the interface holding it; else a name), each --iface-regex
 * (POSIX extended; matched against every usable address of the wanted
 * families, then against the interface names), then --iface-can-reach (the
 * route the kernel would use to reach that address: its interface and its
 * source address). A candidate works when its MTU is not zero and it has a
 * usable address for each wanted family.
 *
 * The interface address of a family is the address that chose the interface
 * (--iface IP, --public-ip, the --iface-regex match, the can-reach route's
 * source) or else the interface's best usable address: global before
 * link-local, permanent before dynamic, primary/non-temporary before
 * secondary/temporary, kernel order otherwise; deprecated, DAD-failed and
 * non-unicast addresses never; loopback ones only when the interface was named
 * explicitly (--iface name or address, --public-ip owner).
 *
 * The public address is --public-ip / --public-ipv6 when given, else the
 * interface address; it is only set for the wanted families.
 */
#include <stdbool.h>
#include <stddef.h>

#include "backend/backend.h"

struct err;
struct flags_strv;
struct nl;

struct iface_select {
	const struct flags_strv *ifaces;      /* --iface values, in order (may be NULL) */
	const struct flags_strv *iface_regex; /* --iface-regex values, in order (may be NULL) */
	const char *can_reach;		      /* --iface-can-reach, or NULL/"" */
	const char *public_ip;		      /* --public-ip, or NULL/"" */
	const char *public_ipv6;	      /* --public-ipv6, or NULL/"" */
	bool want_v4, want_v6;		      /* families the network uses (none: IPv4) */
	struct nl *nl;			      /* NULL: a socket is opened for the call */
};

/*
 * Fill ret, and why (always NUL-terminated, truncated to why_len) with the
 * rule that chose the interface and the candidates skipped before it, e.g.
 * "--iface-regex ^10\.9\.: address 10.9.0.2 of eth1". 0, or a negative errno
 * with err naming everything that was tried.
 */
int iface_select(const struct iface_select *sel, struct ext_iface *ret, char *why, size_t why_len,
		 struct err *err);

/* /proc/sys/net/ipv4/ip_forward: 1 on, 0 off, or a negative errno. */
int iface_ipv4_forwarding(void);

#endif
