// SPDX-License-Identifier: Apache-2.0
/* backend/mtu: a tunnel device's MTU from its underlay family and
 * Backend.MTU, FLANNEL_MTU over several devices; and the kernels the vxlan
 * backend turns TX checksum offload off on (backend/vxlan_int.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "backend/mtu.h"
#include "backend/vxlan_int.h"
#include "backend/wg_conf.h"
#include "core/err.h"

static int tunnel(unsigned iface_mtu, unsigned conf_mtu, unsigned overhead, int family,
		  unsigned *ret, struct err *err)
{
	const struct mtu_in in = { "vxlan", "eth0", iface_mtu, conf_mtu };

	memset(err, 0, sizeof(*err));
	*ret = 12345;
	return mtu_tunnel(&in, overhead, family, ret, err);
}

/* vxlan: 50 bytes over IPv4, 70 over IPv6 (the kernel's cap, 1430 on a 1500
 * link: the device flannel-v6.1 cannot be 1450). */
static void test_vxlan_per_family(void **state)
{
	struct err err;
	unsigned m;

	(void)state;
	assert_int_equal(mtu_vxlan_overhead(AF_INET), 50);
	assert_int_equal(mtu_vxlan_overhead(AF_INET6), 70);
	assert_int_equal(tunnel(1500, 0, mtu_vxlan_overhead(AF_INET), AF_INET, &m, &err), 0);
	assert_int_equal(m, 1450);
	assert_int_equal(tunnel(1500, 0, mtu_vxlan_overhead(AF_INET6), AF_INET6, &m, &err), 0);
	assert_int_equal(m, 1430);
	assert_int_equal(tunnel(9000, 0, mtu_vxlan_overhead(AF_INET6), AF_INET6, &m, &err), 0);
	assert_int_equal(m, 8930);
	/* Backend.MTU replaces the interface's, per family too. */
	assert_int_equal(tunnel(1500, 1400, mtu_vxlan_overhead(AF_INET), AF_INET, &m, &err), 0);
	assert_int_equal(m, 1350);
	assert_int_equal(tunnel(1500, 1400, mtu_vxlan_overhead(AF_INET6), AF_INET6, &m, &err), 0);
	assert_int_equal(m, 1330);
	/* Equal to the interface's: allowed. */
	assert_int_equal(tunnel(1500, 1500, 50, AF_INET, &m, &err), 0);
	assert_int_equal(m, 1450);
	/* wireguard: 80 for either family, as upstream. */
	assert_int_equal(tunnel(1500, 0, WG_OVERHEAD, AF_INET6, &m, &err), 0);
	assert_int_equal(m, 1420);
}

static void test_above_interface(void **state)
{
	struct err err;
	unsigned m;

	(void)state;
	assert_int_equal(tunnel(1500, 1501, 50, AF_INET, &m, &err), -EINVAL);
	assert_int_equal(m, 0);
	assert_string_equal(err.msg, "Backend.MTU 1501 is above what eth0 allows for vxlan: 1500 "
				     "(eth0 MTU 1500; pods then get 1500 - 50 = 1450)");
	assert_int_equal(tunnel(1500, 9000, 70, AF_INET6, &m, &err), -EINVAL);
	assert_string_equal(err.msg, "Backend.MTU 9000 is above what eth0 allows for vxlan: 1500 "
				     "(eth0 MTU 1500; pods then get 1500 - 70 = 1430)");
}

static void test_too_small(void **state)
{
	struct err err;
	unsigned m;

	(void)state;
	/* IPv4 needs 68: 118 - 50 is the least. */
	assert_int_equal(tunnel(118, 0, 50, AF_INET, &m, &err), 0);
	assert_int_equal(m, 68);
	assert_int_equal(tunnel(117, 0, 50, AF_INET, &m, &err), -EINVAL);
	assert_string_equal(err.msg, "eth0's MTU 117 is too small for vxlan over IPv4: "
				     "117 - 50 leaves 67, below the 68 IPv4 needs");
	/* IPv6 needs 1280: a 1340 link leaves 1270 for flannel-v6.1. */
	assert_int_equal(tunnel(1350, 0, 70, AF_INET6, &m, &err), 0);
	assert_int_equal(m, 1280);
	assert_int_equal(tunnel(1500, 1340, 70, AF_INET6, &m, &err), -EINVAL);
	assert_string_equal(err.msg, "Backend.MTU 1340 is too small for vxlan over IPv6: "
				     "1340 - 70 leaves 1270, below the 1280 IPv6 needs");
	assert_int_equal(tunnel(40, 0, 50, AF_INET, &m, &err), -EINVAL);
	assert_string_equal(err.msg, "eth0's MTU 40 is too small for vxlan over IPv4: "
				     "40 - 50 leaves -10, below the 68 IPv4 needs");
}

/* Dual stack: the smaller device, so that a pod's packet fits either. */
static void test_smallest(void **state)
{
	const unsigned both[] = { 1450, 1430 }, v4[] = { 1450, 0 }, v6[] = { 0, 1430 },
		       none[] = { 0, 0 };

	(void)state;
	assert_int_equal(mtu_smallest(both, 2), 1430);
	assert_int_equal(mtu_smallest(v4, 2), 1450);
	assert_int_equal(mtu_smallest(v6, 2), 1430);
	assert_int_equal(mtu_smallest(none, 2), 0);
}

static void test_csum_bug_kernel(void **state)
{
	(void)state;
	assert_true(vxlan_csum_bug_kernel("3.10.0-1160.el7.x86_64"));
	assert_true(vxlan_csum_bug_kernel("4.19.0-27-amd64"));
	assert_true(vxlan_csum_bug_kernel("5.4.0-42-generic"));
	assert_true(vxlan_csum_bug_kernel("5.6.19"));
	assert_false(vxlan_csum_bug_kernel("5.7.0"));
	assert_false(vxlan_csum_bug_kernel("5.10.0-30-amd64"));
	assert_false(vxlan_csum_bug_kernel("6.8.0-51-generic"));
	assert_false(vxlan_csum_bug_kernel("10.0"));
	assert_false(vxlan_csum_bug_kernel(""));
	assert_false(vxlan_csum_bug_kernel("x.y"));
	assert_false(vxlan_csum_bug_kernel(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vxlan_per_family), cmocka_unit_test(test_above_interface),
		cmocka_unit_test(test_too_small),	 cmocka_unit_test(test_smallest),
		cmocka_unit_test(test_csum_bug_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
