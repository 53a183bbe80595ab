/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_MTU_H
#define WEFT_BACKEND_MTU_H

/*
 * The MTU chain of a tunnel: a pod's packet gets the encapsulation's bytes
 * around it and leaves through the external interface, so a tunnel device's
 * MTU (and FLANNEL_MTU) is the underlay's MTU less what its encapsulation
 * adds over that underlay's address family. Backend.MTU (vxlan, wireguard:
 * upstream's "desired MTU for the outgoing packets") replaces the
 * interface's MTU in that sum, and cannot be above it: outer packets larger
 * than the interface takes would be fragmented or dropped.
 */
#include <stdbool.h>
#include <sys/socket.h>

struct err;

/* Bytes around a pod's packet: outer IP (20 or 40) + UDP 8 + VXLAN 8 + the
 * inner Ethernet header 14. The kernel caps a vxlan device at its lower
 * device's MTU less these (VXLAN_HEADROOM, VXLAN6_HEADROOM). */
#define VXLAN_OVERHEAD_V4 50
#define VXLAN_OVERHEAD_V6 70

/* The smallest packet each family must carry (RFC 791, RFC 8200); the kernel
 * drops IPv6 from a device whose MTU falls below 1280. */
#define MTU_MIN_V4 68
#define MTU_MIN_V6 1280

struct mtu_in {
	const char *backend; /* its Type, for messages: "vxlan" */
	const char *iface;   /* the external interface: "eth0" */
	unsigned iface_mtu;  /* its MTU */
	unsigned conf_mtu;   /* Backend.MTU; 0: not set */
};

/*
 * *ret = (Backend.MTU, else the interface's MTU) - overhead: the MTU of a
 * device carrying `family` (AF_INET, AF_INET6) packets with `overhead` bytes
 * added. -EINVAL with err giving the numbers when Backend.MTU is above the
 * interface's MTU, or when what is left is below what the family needs.
 */
int mtu_tunnel(const struct mtu_in *in, unsigned overhead, int family, unsigned *ret,
	       struct err *err);

/* The vxlan overhead over an underlay of that family. */
static inline unsigned mtu_vxlan_overhead(int family)
{
	return family == AF_INET6 ? VXLAN_OVERHEAD_V6 : VXLAN_OVERHEAD_V4;
}

/* FLANNEL_MTU where pods reach peers through several devices (dual stack):
 * the smallest of them, so that a pod's packet fits whichever it takes.
 * mtu[i] of 0 is skipped; 0 if all are. */
unsigned mtu_smallest(const unsigned *mtu, int n);

#endif
