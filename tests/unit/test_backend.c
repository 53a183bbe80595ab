// SPDX-License-Identifier: Apache-2.0
/* backend/backend: the table, the base every backend embeds, and the one
 * VtepMAC reader (vxlan) for peers' data and for the previous run's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/vxlan.h"
#include "core/err.h"
#include "subnet/lease.h"
#include "subnet/netconf.h"
#include "subnet/subnet_mgr.h"

static void test_unknown_type(void **state)
{
	struct ext_iface ext = { .name = "eth0", .index = 2, .mtu = 1500 };
	struct netconf nc = { .enable_ipv4 = true, .backend_type = (char *)"nope" };
	struct backend_params p = { .ext = &ext, .nc = &nc };
	struct backend *b = (struct backend *)&p; /* must be reset */
	struct err err = { 0 };

	(void)state;
	assert_int_equal(backend_new("nope", &p, &b, &err), -ENOENT);
	assert_null(b);
	assert_string_equal(err.msg, "unknown backend type 'nope'");
	assert_int_equal(backend_new("", &p, &b, &err), -ENOENT);
	assert_string_equal(err.msg, "unknown backend type ''");
	/* Types are matched exactly: the config lower-cases them before. */
	assert_int_equal(backend_new("VXLAN", &p, &b, &err), -ENOENT);
}

/* alloc needs no kernel: the base is filled, the optional ops are skipped. */
static void test_alloc_through_the_base(void **state)
{
	struct ext_iface ext = { .name = "eth0", .index = 2, .mtu = 1400 };
	struct netconf nc = { .enable_ipv4 = true, .backend_type = (char *)"alloc" };
	struct backend_params p = { .ext = &ext, .nc = &nc };
	struct lease_attrs attrs = { .backend_type = "x" };
	struct lease own = { 0 };
	struct backend_stats st = { .peers_programmed = 7 };
	struct lease_event ev = { .kind = LEASE_ADDED, .lease = &own };
	struct backend *b = NULL;
	struct err err = { 0 };
	unsigned mtu = 0;

	(void)state;
	assert_int_equal(backend_new("alloc", &p, &b, &err), 0);
	assert_non_null(b);
	assert_string_equal(b->ops->type, "alloc");
	assert_string_equal(b->ext.name, "eth0");
	assert_int_equal(b->ext.mtu, 1400);
	assert_int_equal(b->ops->lease_attrs(b, &attrs, &err), 0);
	assert_string_equal(attrs.backend_type, ""); /* upstream leaves it empty */
	assert_int_equal(b->ops->lease_acquired(b, &own, &mtu, &err), 0);
	assert_int_equal(mtu, 1400);
	backend_peers(b, &ev, 1);
	assert_int_equal(backend_start(b), 0);
	backend_dump(b);
	backend_stats(b, &st);
	assert_int_equal(st.peers_programmed, 0);
	assert_int_equal(backend_metrics(b, NULL), 0);
	backend_free(b);
	backend_stats(NULL, &st); /* before a backend exists: zeroes */
	assert_int_equal(st.reconcile_runs, 0);
	backend_free(NULL);
}

/* A new external interface: alloc takes it (its MTU is what it reports), a
 * backend without the op says it cannot follow. */
static int no_create(const struct backend_params *p, struct backend **ret, struct err *err)
{
	(void)p;
	(void)ret;
	return err_set(err, -EINVAL, "not used");
}

static void test_ext_changed(void **state)
{
	struct ext_iface ext = { .name = "eth0", .index = 2, .mtu = 1400 };
	struct ext_iface now = { .name = "eth0", .index = 9, .mtu = 9000 };
	struct netconf nc = { .enable_ipv4 = true, .backend_type = (char *)"alloc" };
	struct backend_params p = { .ext = &ext, .nc = &nc };
	static const struct backend_ops bare = { .type = "bare", .create = no_create };
	struct backend other = { .ops = &bare };
	struct lease own = { 0 };
	struct backend *b = NULL;
	struct err err = { 0 };
	unsigned mtu = 0;

	(void)state;
	assert_int_equal(backend_new("alloc", &p, &b, &err), 0);
	assert_int_equal(backend_ext_changed(b, &now, &err), 0);
	assert_int_equal(b->ext.index, 9);
	assert_int_equal(b->ops->lease_acquired(b, &own, &mtu, &err), 0);
	assert_int_equal(mtu, 9000);
	backend_free(b);
	assert_int_equal(backend_ext_changed(&other, &now, &err), -EOPNOTSUPP);
	assert_string_equal(err.msg, "the bare backend cannot follow a new interface");
	assert_int_equal(other.ext.index, 0);
}

static void test_vtep_mac(void **state)
{
	static const uint8_t want[MAC_LEN] = { 0x12, 0xc6, 0x65, 0x89, 0xb4, 0xe3 };
	uint8_t mac[MAC_LEN] = { 0 };

	(void)state;
	assert_int_equal(vxlan_data_vtep_mac("{\"VNI\":1,\"VtepMAC\":\"12:c6:65:89:b4:e3\"}", mac),
			 0);
	assert_memory_equal(mac, want, MAC_LEN);
	/* Keys are matched as Go does: case-insensitively. */
	memset(mac, 0, sizeof(mac));
	assert_int_equal(vxlan_data_vtep_mac("{\"vtepmac\":\"12:C6:65:89:B4:E3\"}", mac), 0);
	assert_memory_equal(mac, want, MAC_LEN);
	memset(mac, 0, sizeof(mac));
	assert_int_equal(vxlan_data_vtep_mac(NULL, mac), -ENOENT);
	assert_int_equal(vxlan_data_vtep_mac("null", mac), -ENOENT);
	assert_int_equal(vxlan_data_vtep_mac("{\"VtepMAC\"", mac), -ENOENT);
	assert_int_equal(vxlan_data_vtep_mac("{\"VNI\":1}", mac), -ENOENT);
	assert_int_equal(vxlan_data_vtep_mac("{\"VtepMAC\":7}", mac), -ENOENT);
	assert_int_equal(vxlan_data_vtep_mac("{\"VtepMAC\":\"12:c6:65:89:b4\"}", mac), -EINVAL);
	assert_int_equal(vxlan_data_vtep_mac("{\"VtepMAC\":\"01:00:5e:00:00:01\"}", mac),
			 -EADDRNOTAVAIL);
	assert_int_equal(vxlan_data_vtep_mac("{\"VtepMAC\":\"00:00:00:00:00:00\"}", mac),
			 -EADDRNOTAVAIL);
	/* Written only on success. */
	static const uint8_t zero[MAC_LEN] = { 0 };
	assert_memory_equal(mac, zero, MAC_LEN);
}

/* A data path's counters sorted into their families by name. */
static void test_counter_family(void **state)
{
	int fam[4];
	struct backend_counter_families f = {(void *)&fam[0], (void *)&fam[1], (void *)&fam[2],
					     (void *)&fam[3]};
	const char *label;

	(void)state;
	assert_ptr_equal(backend_counter_family(&f, "tx_packets", &label), &fam[0]);
	assert_string_equal(label, "tx");
	assert_ptr_equal(backend_counter_family(&f, "rx_bytes", &label), &fam[1]);
	assert_string_equal(label, "rx");
	assert_ptr_equal(backend_counter_family(&f, "drop_no_peer", &label), &fam[2]);
	assert_string_equal(label, "no_peer");
	assert_ptr_equal(backend_counter_family(&f, "tx_gso_sends", &label), &fam[3]);
	assert_string_equal(label, "tx_gso_sends");
	f.drops = NULL;
	assert_null(backend_counter_family(&f, "drop_replay", &label));
}

static void test_engine_from_env(void **state)
{
	(void)state;
	unsetenv("WEFT_TEST_ENGINE");
	assert_int_equal(backend_engine_from_env("WEFT_TEST_ENGINE"), BACKEND_ENGINE_AUTO);
	setenv("WEFT_TEST_ENGINE", "", 1);
	assert_int_equal(backend_engine_from_env("WEFT_TEST_ENGINE"), BACKEND_ENGINE_AUTO);
	setenv("WEFT_TEST_ENGINE", "auto", 1);
	assert_int_equal(backend_engine_from_env("WEFT_TEST_ENGINE"), BACKEND_ENGINE_AUTO);
	setenv("WEFT_TEST_ENGINE", "kernel", 1);
	assert_int_equal(backend_engine_from_env("WEFT_TEST_ENGINE"), BACKEND_ENGINE_KERNEL);
	setenv("WEFT_TEST_ENGINE", "userspace", 1);
	assert_int_equal(backend_engine_from_env("WEFT_TEST_ENGINE"), BACKEND_ENGINE_USERSPACE);
	setenv("WEFT_TEST_ENGINE", "Kernel", 1); /* warned about, then auto */
	assert_int_equal(backend_engine_from_env("WEFT_TEST_ENGINE"), BACKEND_ENGINE_AUTO);
	unsetenv("WEFT_TEST_ENGINE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_alloc_through_the_base),
		cmocka_unit_test(test_ext_changed),
		cmocka_unit_test(test_vtep_mac),
		cmocka_unit_test(test_counter_family),
		cmocka_unit_test(test_engine_from_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
