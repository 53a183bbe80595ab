/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_AGENT_IFACE_H
#define WEFT_AGENT_IFACE_H

/*
 * External interface selection (flannel.md §6): --iface (name or address,
 * in order), else the interface that carries --public-ip, else the one of the
 * IPv4 default route. Reports every step it took through the explanation so
 * that the caller can log why an interface was chosen.
 */
#include <stddef.h>

#include "backend/backend.h"

struct err;
struct flags_strv;

struct iface_select {
	const struct flags_strv *ifaces; /* --iface values, in order */
	const char *public_ip;		 /* --public-ip, or NULL/"" */
	const char *public_ipv6;	 /* --public-ipv6, or NULL/"" */
	const char *route_file;		 /* NULL: /proc/net/route (tests point elsewhere) */
};

int iface_select(const struct iface_select *sel, struct ext_iface *ret, char *why, size_t why_len,
		 struct err *err);

#endif
