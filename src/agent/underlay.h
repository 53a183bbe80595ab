/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_AGENT_UNDERLAY_H
#define WEFT_AGENT_UNDERLAY_H

/*
 * Following the external interface while weftd runs. A VM's NIC unplugged
 * and plugged back, a bond or netplan rebuilt: the interface is deleted and
 * created again (another index, perhaps another address), and every device
 * and route weftd made on it is gone with it. From the first lease on, an
 * rtnetlink monitor (nl/monitor.h) hears link and address changes; one that
 * touches the interface in use (deleted, renamed, an address of ours
 * removed, a new link of its name) or, while it is missing, any new link or
 * address, runs the selection of agent/iface.h again after a short settling
 * delay (and every few seconds while nothing usable is found). When the
 * result differs from what is in use (index, name, interface or public
 * addresses) the backend follows it (backend_ext_changed), a new address
 * restarts the datastore's watch (its stream from the old address is dead:
 * subnet_mgr_ops.resume_watches), and a new public address goes into our
 * lease (subnet_mgr_ops.update_attrs) so that peers follow too. A backend that
 * cannot follow in place ends weftd with 1, for the service manager to start
 * it again on the new interface. The same interface found again unchanged
 * (link down and up, an address deleted and added back) needs nothing.
 * Every step is logged, prefixed "underlay:".
 */
#include <stdbool.h>
#include <stddef.h>

#include "backend/backend.h"

struct agent;
struct nlmsghdr;
struct underlay;

/* What differs between two selections (underlay_diff). */
enum underlay_change {
	UNDERLAY_INDEX = 1 << 0,  /* another link (recreated) */
	UNDERLAY_NAME = 1 << 1,	  /* another name (another interface, or renamed) */
	UNDERLAY_ADDR = 1 << 2,	  /* the interface's IPv4 or IPv6 address */
	UNDERLAY_PUBLIC = 1 << 3, /* the public address of either family */
	UNDERLAY_MTU = 1 << 4,
};

/*
 * The underlay_change bits telling old from now; buf (NUL-terminated,
 * truncated to len) says what changed, e.g. "index 4 -> 9, address
 * 10.200.0.11 -> 10.200.0.50". 0 and "" when nothing did. Interface
 * addresses count only for the families in use, those with a public address
 * in old or now (iface_select sets it only for the wanted families).
 */
unsigned underlay_diff(const struct ext_iface *old, const struct ext_iface *now, char *buf,
		       size_t len);

/* What a monitor message means for the interface in use. */
enum underlay_event {
	UNDERLAY_EV_NONE,    /* nothing to do */
	UNDERLAY_EV_LOST,    /* the interface or an address of ours went away */
	UNDERLAY_EV_RECHECK, /* a link of its name, an address on it: select again */
	UNDERLAY_EV_MAYBE,   /* it is missing and another link changed: select again */
};

/*
 * Classify nlh against cur, the interface in use; missing: it is known to be
 * gone, so that any new link or address may be the one. Addresses of a
 * family not in use (no public address) are ignored. what (NUL-terminated,
 * truncated to len) says what happened for the log, e.g. "interface eth0
 * (index 4) was deleted".
 */
enum underlay_event underlay_classify(const struct ext_iface *cur, bool missing,
				      const struct nlmsghdr *nlh, char *what, size_t len);

/*
 * Start following a's external interface (a->ext, with the selection a's
 * flags and a's subnet manager's node hints give), on a's loop. Called once
 * the backend has started. 0, or a negative errno (logged; weftd goes on
 * without following).
 */
int underlay_start(struct agent *a, struct underlay **ret);
void underlay_free(struct underlay *u);

#endif
