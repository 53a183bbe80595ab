/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_VXLAN_INT_H
#define WEFT_BACKEND_VXLAN_INT_H

/* The vxlan backend's state, shared by vxlan.c (config, peers, ops) and
 * vxlan_dev.c (its devices). Not a public header. */
#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "backend/options.h"
#include "core/container_of.h"
#include "core/hmap.h"
#include "core/mac.h"
#include "nl/neigh.h"
#include "nl/nexthop.h"
#include "nl/route.h"
#include "subnet/subnet_key.h"

struct kstate;

#define DEFAULT_VXLAN_PORT 8472


/* One address family's device. */
struct vx_dev {
	int family;
	bool enabled;
	char name[IF_NAMESIZE];
	int index;
	uint8_t mac[MAC_LEN];
	struct ip_prefix addr; /* our subnet's network address /32 or /128 */
	bool have_addr;
	unsigned mtu;	     /* its underlay's MTU less its family's overhead (mtu.h) */
	unsigned mtu_failed; /* the MTU the kernel last refused, for one warning */
};

/* What one peer wants in the kernel for one family: kept small (thousands of
 * peers), the netlink objects are built from it when needed. */
enum vx_mode { VX_NONE, VX_OVERLAY, VX_DIRECT };

struct vx_fam {
	struct ip_addr pub; /* its public IP: FDB destination, or a direct route's gateway */
	uint8_t mac[MAC_LEN];	    /* its VtepMAC */
	uint8_t mode;	    /* enum vx_mode */
	int direct_oif;	    /* VX_DIRECT: the device its public IP is reached on */
};

struct vx_peer {
	struct hmap_node node;
	struct subnet_key subnet;
	struct vx_fam fam[2]; /* [0] IPv4, [1] IPv6 */
	char name[];	      /* the hmap key */
};

struct vxlan {
	struct backend base;
	/* The MACs our previous run published (backend_params.prev), for a
	 * device that must be created; all zero = none, a random one is made. */
	uint8_t mac_hint[2][MAC_LEN];
	struct vx_cfg cfg;
	struct vx_dev dev[2];
	unsigned mtu;	     /* FLANNEL_MTU: the smallest enabled device's */
	int8_t tx_csum;	     /* on created/adopted devices: 0 turn TX checksum offload
			      * off, 1 on, -1 leave it as it is */
	const char *tx_csum_why; /* why, for the log */
	struct kstate *ks;
	struct hmap peers;
	bool ready;	    /* lease known: devices addressed */
	bool started;	    /* the whole lease set is known: the kernel is ours to program */
	bool use_nexthops;  /* IPv4 routes go through nexthop objects (see nexthop_id) */
	/* desired()'s arrays, freed by desired_done() */
	struct nl_nexthop *d_nexthops;
	struct nl_route *d_routes;
	struct nl_neigh *d_neighs, *d_fdbs;
};

static inline struct vxlan *to_vx(struct backend *base)
{
	return container_of(base, struct vxlan, base);
}

static inline int fam_idx(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

/* kstate's ensure: both devices exist and are ours; once the lease is known
 * they carry our subnet address and are up. */
int vxlan_ensure(void *arg);
/* Our subnet address on d, and nothing else; link up. */
int vxlan_dev_configure(struct vxlan *b, struct vx_dev *d);

/*
 * Whether a kernel of that release (uname -r: "5.4.0-42-generic") is one known
 * to send VXLAN packets with bad outer UDP checksums when TX checksum offload is
 * on and the packets were NATed (iptables MASQUERADE --random-fully, kube-proxy's
 * service SNAT): before 5.7 (flannel #1279, kubernetes #88986; Calico's felix
 * turns the offload off below 5.7 too). false for what does not parse.
 */
bool vxlan_csum_bug_kernel(const char *release);

#endif
