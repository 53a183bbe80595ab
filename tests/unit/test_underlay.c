// SPDX-License-Identifier: Apache-2.0
/* agent/underlay: what tells two selections of the external interface apart,
 * and what a link or address message means for the one in use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "agent/underlay.h"
#include "core/ipnet.h"
#include "nl/build.h"
#include "nl/nl.h"
#include "../lib/nl_golden.h"

static struct ip_addr addr(const char *s)
{
	struct ip_addr a;

	assert_int_equal(ip_addr_parse(s, &a), 0);
	return a;
}

/* eth0, index 4, 10.200.0.11 on an IPv4 network (a link-local IPv6 address
 * as iface_select finds it, but no public IPv6). */
static struct ext_iface eth0(void)
{
	struct ext_iface e = { .name = "eth0", .index = 4, .mtu = 1500 };

	e.iface_addr = e.public_ip = addr("10.200.0.11");
	e.iface_addr6 = addr("fe80::1");
	return e;
}

static void test_diff_same(void **state)
{
	struct ext_iface a = eth0(), b = eth0();
	char d[200];

	(void)state;
	memset(d, 'x', sizeof(d));
	assert_int_equal(underlay_diff(&a, &b, d, sizeof(d)), 0);
	assert_string_equal(d, "");
}

static void test_diff_recreated(void **state)
{
	struct ext_iface a = eth0(), b = eth0();
	char d[200];

	(void)state;
	b.index = 9;
	assert_int_equal(underlay_diff(&a, &b, d, sizeof(d)), UNDERLAY_INDEX);
	assert_string_equal(d, "index 4 -> 9");
}

static void test_diff_readdressed(void **state)
{
	struct ext_iface a = eth0(), b = eth0();
	char d[200];

	(void)state;
	b.index = 9;
	b.iface_addr = b.public_ip = addr("10.200.0.61");
	assert_int_equal(underlay_diff(&a, &b, d, sizeof(d)),
			 UNDERLAY_INDEX | UNDERLAY_ADDR | UNDERLAY_PUBLIC);
	assert_string_equal(d, "index 4 -> 9, address 10.200.0.11 -> 10.200.0.61, public address "
			       "10.200.0.11 -> 10.200.0.61");
	/* --public-ip fixed: the interface address alone changes. */
	b = eth0();
	b.iface_addr = addr("10.200.0.61");
	assert_int_equal(underlay_diff(&a, &b, d, sizeof(d)), UNDERLAY_ADDR);
	assert_string_equal(d, "address 10.200.0.11 -> 10.200.0.61");
	/* An address gone counts too. */
	memset(&b.iface_addr, 0, sizeof(b.iface_addr));
	assert_int_equal(underlay_diff(&a, &b, d, sizeof(d)), UNDERLAY_ADDR);
	assert_string_equal(d, "address 10.200.0.11 -> none");
}

static void test_diff_families(void **state)
{
	struct ext_iface a = eth0(), b = eth0();
	char d[200];

	(void)state;
	/* IPv4 network: a new link-local IPv6 address is no change. */
	b.iface_addr6 = addr("fe80::2");
	assert_int_equal(underlay_diff(&a, &b, d, sizeof(d)), 0);
	memset(&b.iface_addr6, 0, sizeof(b.iface_addr6));
	assert_int_equal(underlay_diff(&a, &b, d, sizeof(d)), 0);
	/* IPv6 in use: it is one. */
	a.iface_addr6 = a.public_ipv6 = addr("fd00::11");
	b = a;
	b.iface_addr6 = b.public_ipv6 = addr("fd00::61");
	assert_int_equal(underlay_diff(&a, &b, d, sizeof(d)), UNDERLAY_ADDR | UNDERLAY_PUBLIC);
	assert_string_equal(d, "IPv6 address fd00::11 -> fd00::61, public IPv6 address fd00::11 "
			       "-> fd00::61");
}

static void test_diff_name_mtu_truncated(void **state)
{
	struct ext_iface a = eth0(), b = eth0();
	char d[200], small[12];

	(void)state;
	snprintf(b.name, sizeof(b.name), "bond0");
	b.mtu = 9000;
	assert_int_equal(underlay_diff(&a, &b, d, sizeof(d)), UNDERLAY_NAME | UNDERLAY_MTU);
	assert_string_equal(d, "interface eth0 -> bond0, MTU 1500 -> 9000");
	/* Truncated, NUL-terminated, the bits all there. */
	assert_int_equal(underlay_diff(&a, &b, small, sizeof(small)), UNDERLAY_NAME | UNDERLAY_MTU);
	assert_string_equal(small, "interface e");
	assert_int_equal(underlay_diff(&a, &b, NULL, 0), UNDERLAY_NAME | UNDERLAY_MTU);
}

/* An RTM_NEWLINK/RTM_DELLINK as the monitor hears it. */
static struct nlmsghdr *link_msg(uint16_t type, int index, const char *name)
{
	struct nlmsghdr *nlh = msg(type, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	ifi->ifi_flags = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
	return nlh;
}

static struct nlmsghdr *addr_msg(uint16_t type, int index, const char *a, unsigned len)
{
	struct nlmsghdr *nlh = msg(type, 0);
	struct ip_prefix p = { .addr = addr(a), .len = len };

	assert_int_equal(nl_addr_build(nlh, sizeof(buf), index, &p), 0);
	nlh->nlmsg_type = type;
	return nlh;
}

static void test_classify_links(void **state)
{
	struct ext_iface cur = eth0();
	char what[160];

	(void)state;
	/* Ours deleted: lost, said with its name and index. */
	assert_int_equal(underlay_classify(&cur, false, link_msg(RTM_DELLINK, 4, "eth0"), what,
					   sizeof(what)),
			 UNDERLAY_EV_LOST);
	assert_string_equal(what, "interface eth0 (index 4) was deleted");
	/* Another link deleted: nothing, missing or not. */
	assert_int_equal(underlay_classify(&cur, true, link_msg(RTM_DELLINK, 5, "flannel.1"), what,
					   sizeof(what)),
			 UNDERLAY_EV_NONE);
	assert_string_equal(what, "");
	/* A new eth0: select again. */
	assert_int_equal(underlay_classify(&cur, true, link_msg(RTM_NEWLINK, 9, "eth0"), what,
					   sizeof(what)),
			 UNDERLAY_EV_RECHECK);
	assert_string_equal(what, "a new interface eth0 (index 9) appeared");
	assert_int_equal(underlay_classify(&cur, false, link_msg(RTM_NEWLINK, 9, "eth0"), what,
					   sizeof(what)),
			 UNDERLAY_EV_RECHECK);
	/* Ours renamed: lost. */
	assert_int_equal(underlay_classify(&cur, false, link_msg(RTM_NEWLINK, 4, "old0"), what,
					   sizeof(what)),
			 UNDERLAY_EV_LOST);
	assert_string_equal(what, "interface eth0 (index 4) was renamed to old0");
	/* Ours changed (down, up): nothing, as before. */
	assert_int_equal(underlay_classify(&cur, false, link_msg(RTM_NEWLINK, 4, "eth0"), what,
					   sizeof(what)),
			 UNDERLAY_EV_NONE);
	/* Another link: only while ours is missing (a regex may match it). */
	assert_int_equal(underlay_classify(&cur, false, link_msg(RTM_NEWLINK, 7, "eth1"), what,
					   sizeof(what)),
			 UNDERLAY_EV_NONE);
	assert_int_equal(underlay_classify(&cur, true, link_msg(RTM_NEWLINK, 7, "eth1"), what,
					   sizeof(what)),
			 UNDERLAY_EV_MAYBE);
	assert_string_equal(what, "interface eth1 (index 7) changed");
}

static void test_classify_addrs(void **state)
{
	struct ext_iface cur = eth0();
	char what[160];

	(void)state;
	/* Our address removed: lost. */
	assert_int_equal(underlay_classify(&cur, false, addr_msg(RTM_DELADDR, 4, "10.200.0.11", 24),
					   what, sizeof(what)),
			 UNDERLAY_EV_LOST);
	assert_string_equal(what, "address 10.200.0.11 was removed from eth0");
	/* Another address of ours removed, or ours on another link: nothing. */
	assert_int_equal(underlay_classify(&cur, false, addr_msg(RTM_DELADDR, 4, "10.200.0.99", 24),
					   what, sizeof(what)),
			 UNDERLAY_EV_NONE);
	assert_int_equal(underlay_classify(&cur, false, addr_msg(RTM_DELADDR, 5, "10.200.0.11", 24),
					   what, sizeof(what)),
			 UNDERLAY_EV_NONE);
	/* IPv6 not in use: its link-local address is no concern. */
	assert_int_equal(underlay_classify(&cur, false, addr_msg(RTM_DELADDR, 4, "fe80::1", 64),
					   what, sizeof(what)),
			 UNDERLAY_EV_NONE);
	assert_int_equal(underlay_classify(&cur, true, addr_msg(RTM_NEWADDR, 4, "fe80::1", 64),
					   what, sizeof(what)),
			 UNDERLAY_EV_NONE);
	/* ... in use, it is. */
	cur.iface_addr6 = cur.public_ipv6 = addr("fd00::11");
	assert_int_equal(underlay_classify(&cur, false, addr_msg(RTM_DELADDR, 4, "fd00::11", 64),
					   what, sizeof(what)),
			 UNDERLAY_EV_LOST);
	assert_string_equal(what, "address fd00::11 was removed from eth0");
	/* An address added on ours: select again; elsewhere only while missing. */
	assert_int_equal(underlay_classify(&cur, false, addr_msg(RTM_NEWADDR, 4, "10.200.0.11", 24),
					   what, sizeof(what)),
			 UNDERLAY_EV_RECHECK);
	assert_string_equal(what, "address 10.200.0.11 was added to index 4");
	assert_int_equal(underlay_classify(&cur, false, addr_msg(RTM_NEWADDR, 9, "10.200.0.11", 24),
					   what, sizeof(what)),
			 UNDERLAY_EV_NONE);
	assert_int_equal(underlay_classify(&cur, true, addr_msg(RTM_NEWADDR, 9, "10.200.0.11", 24),
					   what, sizeof(what)),
			 UNDERLAY_EV_RECHECK);
}

static void test_classify_other(void **state)
{
	struct ext_iface cur = eth0();
	struct nlmsghdr *nlh;
	char what[160];

	(void)state;
	/* Routes and neighbours are not ours to hear. */
	nlh = msg(RTM_DELROUTE, 0);
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtmsg));
	assert_int_equal(underlay_classify(&cur, true, nlh, what, sizeof(what)), UNDERLAY_EV_NONE);
	/* A message too short for its header is ignored, not read past. */
	nlh = link_msg(RTM_DELLINK, 4, "eth0");
	nlh->nlmsg_len = sizeof(*nlh) + 4;
	assert_int_equal(underlay_classify(&cur, false, nlh, what, sizeof(what)),
			 UNDERLAY_EV_NONE);
	nlh = addr_msg(RTM_DELADDR, 4, "10.200.0.11", 24);
	nlh->nlmsg_len = sizeof(*nlh) + 2;
	assert_int_equal(underlay_classify(&cur, false, nlh, what, sizeof(what)),
			 UNDERLAY_EV_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_same),
		cmocka_unit_test(test_diff_recreated),
		cmocka_unit_test(test_diff_readdressed),
		cmocka_unit_test(test_diff_families),
		cmocka_unit_test(test_diff_name_mtu_truncated),
		cmocka_unit_test(test_classify_links),
		cmocka_unit_test(test_classify_addrs),
		cmocka_unit_test(test_classify_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
