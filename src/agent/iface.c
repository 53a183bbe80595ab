// SPDX-License-Identifier: Apache-2.0
#include "agent/iface.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/flags.h"
#include "core/err.h"

/* Interface names are at most IF_NAMESIZE - 1 bytes; longer input is cut. */
static void copy_name(char *dst, const char *src)
{
	size_t n = strnlen(src, IF_NAMESIZE - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int iface_mtu(const char *name, unsigned *ret)
{
	struct ifreq ifr = { 0 };
	int fd, rc = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	copy_name(ifr.ifr_name, name);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		rc = -errno;
	else
		*ret = (unsigned)ifr.ifr_mtu;
	close(fd);
	return rc;
}

static void sockaddr_to_ip(const struct sockaddr *sa, struct ip_addr *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (sa->sa_family == AF_INET) {
		ret->family = AF_INET;
		memcpy(ret->b, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		ret->family = AF_INET6;
		memcpy(ret->b, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
	}
}

static bool usable6(const struct ip_addr *a)
{
	/* Global unicast only: not link-local fe80::/10, not loopback. */
	return !(a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80) && !(a->b[0] == 0 && a->b[15] == 1);
}

/* Fill name/index/mtu and the first addresses of each family for ifname. */
static int describe(struct ifaddrs *all, const char *ifname, struct ext_iface *ret)
{
	memset(ret, 0, sizeof(*ret));
	copy_name(ret->name, ifname);
	ret->index = (int)if_nametoindex(ifname);
	if (ret->index == 0)
		return -ENODEV;
	for (struct ifaddrs *i = all; i; i = i->ifa_next) {
		struct ip_addr a;

		if (!i->ifa_addr || strcmp(i->ifa_name, ifname))
			continue;
		sockaddr_to_ip(i->ifa_addr, &a);
		if (a.family == AF_INET && !ret->iface_addr.family)
			ret->iface_addr = a;
		else if (a.family == AF_INET6 && !ret->iface_addr6.family && usable6(&a))
			ret->iface_addr6 = a;
	}
	return iface_mtu(ifname, &ret->mtu);
}

/* The interface holding address a exactly, or NULL. */
static const char *owner_of(struct ifaddrs *all, const struct ip_addr *a)
{
	for (struct ifaddrs *i = all; i; i = i->ifa_next) {
		struct ip_addr x;

		if (!i->ifa_addr)
			continue;
		sockaddr_to_ip(i->ifa_addr, &x);
		if (x.family && ip_addr_equal(&x, a))
			return i->ifa_name;
	}
	return NULL;
}

static int default_route_iface(const char *route_file, char *ret, size_t len)
{
	char line[512], name[IF_NAMESIZE + 1];
	unsigned long dst, gw, flags, mask;
	FILE *f = fopen(route_file, "re");
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		int refcnt, use, metric;

		if (sscanf(line, "%16s %lx %lx %lx %d %d %d %lx", name, &dst, &gw, &flags, &refcnt,
			   &use, &metric, &mask) != 8)
			continue;
		if (dst == 0 && mask == 0 && (flags & 1 /* RTF_UP */)) {
			snprintf(ret, len, "%s", name);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

int iface_select(const struct iface_select *sel, struct ext_iface *ret, char *why, size_t why_len,
		 struct err *err)
{
	struct ifaddrs *all = NULL;
	struct ip_addr pub = { 0 }, pub6 = { 0 };
	const char *chosen = NULL;
	char defname[IF_NAMESIZE + 1];
	int rc;

	if (sel->public_ip && *sel->public_ip &&
	    ip_addr_parse_family(sel->public_ip, AF_INET, &pub) < 0)
		return err_set(err, -EINVAL, "--public-ip '%s' is not an IPv4 address",
			       sel->public_ip);
	if (sel->public_ipv6 && *sel->public_ipv6 &&
	    ip_addr_parse_family(sel->public_ipv6, AF_INET6, &pub6) < 0)
		return err_set(err, -EINVAL, "--public-ipv6 '%s' is not an IPv6 address",
			       sel->public_ipv6);
	if (getifaddrs(&all) < 0)
		return err_set(err, -errno, "cannot list interfaces: %s", strerror(errno));

	for (size_t i = 0; sel->ifaces && i < sel->ifaces->n && !chosen; i++) {
		const char *v = sel->ifaces->v[i];
		struct ip_addr a;

		if (ip_addr_parse(v, &a) == 0) {
			chosen = owner_of(all, &a);
			if (chosen)
				snprintf(why, why_len, "--iface %s: the interface holding it", v);
		} else if (if_nametoindex(v)) {
			chosen = v;
			snprintf(why, why_len, "--iface %s", v);
		}
	}
	if (sel->ifaces && sel->ifaces->n && !chosen) {
		rc = err_set(err, -ENODEV, "no interface matches any --iface value");
		goto out;
	}
	if (!chosen && pub.family) {
		chosen = owner_of(all, &pub);
		if (!chosen) {
			rc = err_set(err, -EADDRNOTAVAIL,
				     "--public-ip %s is not an address of any local interface "
				     "(give --iface too when the public address is NATed)",
				     sel->public_ip);
			goto out;
		}
		snprintf(why, why_len, "the interface holding --public-ip %s", sel->public_ip);
	}
	if (!chosen && pub6.family) {
		chosen = owner_of(all, &pub6);
		if (chosen)
			snprintf(why, why_len, "the interface holding --public-ipv6 %s",
				 sel->public_ipv6);
	}
	if (!chosen) {
		rc = default_route_iface(sel->route_file ? sel->route_file : "/proc/net/route",
					 defname, sizeof(defname));
		if (rc < 0) {
			rc = err_set(err, -ENODEV,
				     "no default route to pick the external interface from; use "
				     "--iface or --public-ip");
			goto out;
		}
		chosen = defname;
		snprintf(why, why_len, "the interface of the default route");
	}
	rc = describe(all, chosen, ret);
	if (rc < 0) {
		err_set(err, rc, "interface %s: %s", chosen, strerror(-rc));
		goto out;
	}
	if (ret->mtu == 0) {
		rc = err_set(err, -EINVAL, "interface %s has MTU 0", chosen);
		goto out;
	}
	ret->public_ip = pub.family ? pub : ret->iface_addr;
	ret->public_ipv6 = pub6.family ? pub6 : ret->iface_addr6;
	rc = 0;
out:
	freeifaddrs(all);
	return rc;
}
