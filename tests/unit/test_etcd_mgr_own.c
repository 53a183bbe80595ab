// SPDX-License-Identifier: Apache-2.0
/* The owner record weft writes beside its lease (etcd_mgr_owner.c): the node's
 * identity, the record's bytes, and what is refused when read back; and how a
 * lost key is told apart: expired (taken back) or revoked (etcd_mgr_regain.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "subnet/etcd_mgr_int.h"

static void test_node_id_env(void **state)
{
	struct err err = {""};
	char *id = NULL, big[300];

	(void)state;
	setenv("WEFT_NODE_ID", "host-7.example", 1);
	assert_int_equal(etcd_mgr_node_id(&id, &err), 0);
	assert_string_equal(id, "host-7.example");
	free(id);

	setenv("WEFT_NODE_ID", "two words", 1);
	assert_int_equal(etcd_mgr_node_id(&id, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "WEFT_NODE_ID"));
	setenv("WEFT_NODE_ID", "tab\there", 1);
	assert_int_equal(etcd_mgr_node_id(&id, &err), -EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	setenv("WEFT_NODE_ID", big, 1);
	assert_int_equal(etcd_mgr_node_id(&id, &err), -EINVAL);
	big[253] = '\0'; /* the longest accepted */
	setenv("WEFT_NODE_ID", big, 1);
	assert_int_equal(etcd_mgr_node_id(&id, &err), 0);
	assert_int_equal(strlen(id), 253);
	free(id);

	/* Unset or empty: the machine id, else the host name; never empty. */
	setenv("WEFT_NODE_ID", "", 1);
	assert_int_equal(etcd_mgr_node_id(&id, &err), 0);
	assert_true(strlen(id) > 0);
	assert_null(strchr(id, '\n'));
	free(id);
	unsetenv("WEFT_NODE_ID");
}

static void test_encode(void **state)
{
	char *s;

	(void)state;
	s = etcd_mgr_owner_encode("0123abcd", "node1");
	assert_string_equal(s, "{\"NodeID\":\"0123abcd\",\"Hostname\":\"node1\"}");
	free(s);
	s = etcd_mgr_owner_encode("a\"b", "");
	assert_string_equal(s, "{\"NodeID\":\"a\\\"b\",\"Hostname\":\"\"}");
	free(s);
}

static void check_decode(const char *v, int want, const char *node, const char *host,
			 const char *msg)
{
	struct err err = {""};
	char *n = (char *)1, *h = (char *)1;
	int rc = etcd_mgr_owner_decode(v, strlen(v), &n, &h, &err);

	if (rc != want)
		fail_msg("%s: %d, wanted %d (%s)", v, rc, want, err.msg);
	if (rc == 0) {
		assert_string_equal(n, node);
		assert_string_equal(h, host);
	} else {
		assert_null(n);
		assert_null(h);
		if (!strstr(err.msg, msg))
			fail_msg("%s: \"%s\" lacks \"%s\"", v, err.msg, msg);
	}
	free(n);
	free(h);
}

static void test_decode(void **state)
{
	char big[5000];

	(void)state;
	check_decode("{\"NodeID\":\"abc\",\"Hostname\":\"h1\"}", 0, "abc", "h1", NULL);
	check_decode("{\"Hostname\":\"h1\",\"NodeID\":\"abc\",\"Extra\":1}", 0, "abc", "h1", NULL);
	check_decode("{\"NodeID\":\"abc\"}", 0, "abc", "", NULL);
	check_decode("{\"NodeID\":\"abc\",\"Hostname\":null}", 0, "abc", "", NULL);
	check_decode("{\"Hostname\":\"h1\"}", -EINVAL, NULL, NULL, "no NodeID");
	check_decode("{\"NodeID\":\"\"}", -EINVAL, NULL, NULL, "no NodeID");
	check_decode("{\"NodeID\":7}", -EINVAL, NULL, NULL, "NodeID: not a string");
	check_decode("{\"NodeID\":\"a\\u0000b\"}", -EINVAL, NULL, NULL, "owner record");
	check_decode("{\"NodeID\":\"a\",\"NodeID\":\"b\"}", -EINVAL, NULL, NULL, "owner record");
	check_decode("[\"abc\"]", -EINVAL, NULL, NULL, "not a JSON object");
	check_decode("{\"NodeID\":", -EINVAL, NULL, NULL, "owner record");
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{\"NodeID\":\"x\"}", 14);
	check_decode(big, -EINVAL, NULL, NULL, "at most 4096");
}

static void test_loss_is_expiry(void **state)
{
	struct lease own = { 0 };

	(void)state;
	own.store_lease = 0x1234;
	own.expiration = 1000;
	assert_false(etcd_mgr_loss_is_expiry(&own, 999)); /* still valid: revoked */
	assert_false(etcd_mgr_loss_is_expiry(&own, 0));
	assert_true(etcd_mgr_loss_is_expiry(&own, 1000)); /* at the expiration */
	assert_true(etcd_mgr_loss_is_expiry(&own, 90000));
	/* A reservation never expires: its key gone is a revoke. */
	own.store_lease = 0;
	own.expiration = 0;
	assert_false(etcd_mgr_loss_is_expiry(&own, 90000));
	/* No expiration known: never an expiry. */
	own.store_lease = 0x1234;
	assert_false(etcd_mgr_loss_is_expiry(&own, 90000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loss_is_expiry),
		cmocka_unit_test(test_node_id_env),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
