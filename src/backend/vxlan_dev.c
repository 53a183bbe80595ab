// SPDX-License-Identifier: Apache-2.0
/*
 * The vxlan backend's devices: flannel.<VNI> / flannel-v6.<VNI> adopted when
 * compatible (flannel's test), else (re)created with the MAC peers know;
 * their address is our subnet's and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "backend/kstate.h"
#include "backend/mtu.h"
#include "backend/vxlan_int.h"
#include "core/err.h"
#include "core/log.h"
#include "nl/addr.h"
#include "nl/ethtool.h"
#include "nl/link.h"
#include "nl/nl.h"
#include "subnet/netconf.h"

static void random_mac(uint8_t mac[MAC_LEN])
{
	if (getrandom(mac, MAC_LEN, 0) != MAC_LEN)
		for (int i = 0; i < MAC_LEN; i++)
			mac[i] = (uint8_t)rand();
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
}

static const struct ip_addr *local_of(const struct vxlan *b, int family)
{
	return family == AF_INET ? &b->base.ext.public_ip : &b->base.ext.public_ipv6;
}

/* flannel's compatibility test for reusing a device as it is. */
static bool dev_compatible(const struct vxlan *b, const struct vx_dev *d,
			   const struct nl_link *l)
{
	const struct nl_vxlan_info *v = &l->vxlan;
	uint16_t want_port = b->cfg.port ? b->cfg.port : DEFAULT_VXLAN_PORT;

	return l->is_vxlan && v->vni == b->cfg.vni && v->link == b->base.ext.index &&
	       ip_addr_equal(&v->local, local_of(b, d->family)) && !v->group.family &&
	       !v->l2miss && !v->l3miss && (v->port == want_port || v->port == b->cfg.port) &&
	       v->gbp == b->cfg.gbp;
}

static void disable_accept_ra(const char *dev)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_ra", dev);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "0", 1) != 1)
			log_debug("cannot write %s", path);
		close(fd);
	}
}

bool vxlan_csum_bug_kernel(const char *release)
{
	unsigned major = 0, minor = 0;

	if (!release || sscanf(release, "%u.%u", &major, &minor) != 2)
		return false;
	return major < 5 || (major == 5 && minor < 7);
}

/* TX checksum offload as decided (vx_create), on a device just created or
 * adopted; a device that has no such switch is left as it is. */
static void dev_tx_csum(const struct vxlan *b, const struct vx_dev *d, bool created)
{
	struct err err = { 0 };
	bool on;
	int rc;

	if (b->tx_csum < 0)
		return;
	rc = ethtool_tx_csum_get(d->name, &on, &err);
	if (rc == 0 && on == (b->tx_csum == 1)) {
		log_info("vxlan: TX checksum offload of %s is %s (%s)", d->name, on ? "on" : "off",
			 b->tx_csum_why);
		return;
	}
	if (rc == 0)
		rc = ethtool_tx_csum_set(d->name, b->tx_csum == 1, &err);
	if (rc < 0) {
		log_warnx("vxlan: cannot turn TX checksum offload of %s %s: %s", d->name,
			  b->tx_csum == 1 ? "on" : "off", err.msg[0] ? err.msg : strerror(-rc));
		return;
	}
	log_info("vxlan: turned TX checksum offload of %s %s %s (%s)", d->name,
		 b->tx_csum == 1 ? "on" : "off",
		 created ? "on creating it" : "on adopting it", b->tx_csum_why);
}

/* The device's MTU: one the kernel refuses (the underlay's MTU went down
 * since we computed ours) is said once and not retried into a failed
 * reconcile: the device works at the MTU it has. */
static void dev_mtu(struct vxlan *b, struct vx_dev *d, const struct nl_link *l)
{
	struct err err = { 0 };
	int rc;

	if (l->mtu == d->mtu || d->mtu_failed == d->mtu)
		return;
	rc = nl_link_set_mtu(kstate_nl(b->ks), l->index, d->mtu, &err);
	if (rc == 0) {
		log_info("vxlan: %s MTU set to %u (was %u)", d->name, d->mtu, l->mtu);
		return;
	}
	d->mtu_failed = d->mtu;
	log_warnx("vxlan: cannot set the MTU of %s to %u (it stays %u): %s; is the MTU of %s "
		  "lower than %u now?",
		  d->name, d->mtu, l->mtu, err.msg[0] ? err.msg : strerror(-rc), b->base.ext.name,
		  d->mtu + mtu_vxlan_overhead(d->family));
}

/*
 * Make sure the device exists and is ours: adopt a compatible one (keeping its
 * MAC unless we already published another), else create it with our MAC.
 */
static int dev_ensure(struct vxlan *b, struct vx_dev *d, bool *ret_created)
{
	struct nl *nl = kstate_nl(b->ks);
	struct nl_link l;
	struct err err = { 0 };
	bool have_mac = d->index != 0 || d->mac[0] || d->mac[1] || d->mac[2];
	int rc;

	*ret_created = false;
	rc = nl_link_get_by_name(nl, d->name, &l);
	if (rc == 0 && dev_compatible(b, d, &l)) {
		if (!have_mac)
			memcpy(d->mac, l.mac, MAC_LEN);
		else if (memcmp(d->mac, l.mac, MAC_LEN) &&
			 (rc = nl_link_set_mac(nl, l.index, d->mac, &err)) < 0)
			return rc;
		if (!d->index)
			dev_tx_csum(b, d, false);
		d->index = l.index;
		dev_mtu(b, d, &l);
		if (!l.up && b->ready && (rc = nl_link_set_up(nl, l.index, true, &err)) < 0)
			return rc;
		return 0;
	}
	if (rc == 0) {
		log_info("vxlan: %s exists with other settings; recreating it", d->name);
		rc = nl_link_delete(nl, l.index, &err);
		if (rc < 0)
			return rc;
	} else if (rc != -ENODEV) {
		return rc;
	}
	if (!have_mac) {
		/* kube mode: the MAC our Node's annotation still publishes (reboot). */
		const uint8_t *hint = b->mac_hint[fam_idx(d->family)];

		if (mac_valid(hint)) {
			char mac[MAC_STRLEN];

			memcpy(d->mac, hint, MAC_LEN);
			log_info("vxlan: creating %s with MAC %s, as published before", d->name,
				 mac_format(d->mac, mac));
		} else {
			random_mac(d->mac);
		}
	}
	struct nl_vxlan_params p = {
		.name = d->name,
		.info = {
			.vni = b->cfg.vni,
			.local = *local_of(b, d->family),
			.link = b->base.ext.index,
			.port = b->cfg.port,
			.learning = b->cfg.learning,
			.gbp = b->cfg.gbp,
		},
		.mtu = d->mtu,
		.mac = d->mac,
	};
	rc = nl_vxlan_create(nl, &p, &err);
	if (rc < 0) {
		log_warnx("vxlan: cannot create %s: %s", d->name, err.msg[0] ? err.msg : strerror(-rc));
		return rc;
	}
	rc = nl_link_get_by_name(nl, d->name, &l);
	if (rc < 0)
		return rc;
	d->index = l.index;
	*ret_created = true;
	disable_accept_ra(d->name);
	dev_tx_csum(b, d, true);
	if (l.mtu != d->mtu)
		log_warnx("vxlan: %s was created with MTU %u, not %u", d->name, l.mtu, d->mtu);
	return 0;
}

/* Our subnet address on the device, and nothing else (flannel removes other
 * addresses of the network from it); link up. */
int vxlan_dev_configure(struct vxlan *b, struct vx_dev *d)
{
	struct nl *nl = kstate_nl(b->ks);
	struct err err = { 0 };
	int rc;

	rc = nl_addr_set_only(nl, d->index, &d->addr, &err);
	if (rc < 0)
		return rc;
	return nl_link_set_up(nl, d->index, true, &err);
}

int vxlan_ensure(void *arg)
{
	struct vxlan *b = arg;

	for (int i = 0; i < 2; i++) {
		struct vx_dev *d = &b->dev[i];
		bool created;
		int rc;

		if (!d->enabled)
			continue;
		rc = dev_ensure(b, d, &created);
		if (rc < 0)
			return rc;
		if (created && b->ready)
			log_warnx("vxlan: %s was missing; recreated it with MAC kept, re-programming "
				  "peers",
				  d->name);
		if (b->ready) {
			rc = vxlan_dev_configure(b, d);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}
