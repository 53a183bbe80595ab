// SPDX-License-Identifier: Apache-2.0
/* The gateway paths per etcd API generation: /v3/ (3.4+) and /v3beta/ (3.3,
 * whose lease revoke and time-to-live sit under kv/). The switch on a 404 is
 * exercised against a fake 3.3 gateway in tests/integration/test_etcd33.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "etcd/etcd.h"

static void test_v3_paths(void **state)
{
	(void)state;
	assert_string_equal(etcd_api_path(ETCD_API_V3, ETCD_CALL_RANGE), "/v3/kv/range");
	assert_string_equal(etcd_api_path(ETCD_API_V3, ETCD_CALL_TXN), "/v3/kv/txn");
	assert_string_equal(etcd_api_path(ETCD_API_V3, ETCD_CALL_GRANT), "/v3/lease/grant");
	assert_string_equal(etcd_api_path(ETCD_API_V3, ETCD_CALL_REVOKE), "/v3/lease/revoke");
	assert_string_equal(etcd_api_path(ETCD_API_V3, ETCD_CALL_TTL), "/v3/lease/timetolive");
	assert_string_equal(etcd_api_path(ETCD_API_V3, ETCD_CALL_WATCH), "/v3/watch");
	assert_string_equal(etcd_api_path(ETCD_API_V3, ETCD_CALL_AUTH), "/v3/auth/authenticate");
}

static void test_v3beta_paths(void **state)
{
	(void)state;
	assert_string_equal(etcd_api_path(ETCD_API_V3BETA, ETCD_CALL_RANGE), "/v3beta/kv/range");
	assert_string_equal(etcd_api_path(ETCD_API_V3BETA, ETCD_CALL_PUT), "/v3beta/kv/put");
	assert_string_equal(etcd_api_path(ETCD_API_V3BETA, ETCD_CALL_DELETE),
			    "/v3beta/kv/deleterange");
	assert_string_equal(etcd_api_path(ETCD_API_V3BETA, ETCD_CALL_COMPACT),
			    "/v3beta/kv/compaction");
	assert_string_equal(etcd_api_path(ETCD_API_V3BETA, ETCD_CALL_GRANT), "/v3beta/lease/grant");
	assert_string_equal(etcd_api_path(ETCD_API_V3BETA, ETCD_CALL_REVOKE),
			    "/v3beta/kv/lease/revoke");
	assert_string_equal(etcd_api_path(ETCD_API_V3BETA, ETCD_CALL_TTL),
			    "/v3beta/kv/lease/timetolive");
	assert_string_equal(etcd_api_path(ETCD_API_V3BETA, ETCD_CALL_WATCH), "/v3beta/watch");
	assert_string_equal(etcd_api_path(ETCD_API_V3BETA, ETCD_CALL_AUTH),
			    "/v3beta/auth/authenticate");
}

static void test_every_call_has_both(void **state)
{
	(void)state;
	for (int c = ETCD_CALL_RANGE; c <= ETCD_CALL_AUTH; c++) {
		const char *a = etcd_api_path(ETCD_API_V3, c), *b = etcd_api_path(ETCD_API_V3BETA, c);

		assert_non_null(a);
		assert_non_null(b);
		assert_true(!strncmp(a, "/v3/", 4));
		assert_true(!strncmp(b, "/v3beta/", 8));
	}
	assert_null(etcd_api_path(ETCD_API_V3BETA + 1, ETCD_CALL_RANGE));
	assert_null(etcd_api_path(ETCD_API_V3, ETCD_CALL_AUTH + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v3_paths),
		cmocka_unit_test(test_v3beta_paths),
		cmocka_unit_test(test_every_call_has_both),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
