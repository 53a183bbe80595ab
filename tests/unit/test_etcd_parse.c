// SPDX-License-Identifier: Apache-2.0
/* The etcd JSON gateway's answers as the client decodes them (no network). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "core/err.h"
#include "etcd/etcd_parse.h"

#define HDR "\"header\":{\"revision\":\"42\"}"

static void test_range_nul_key(void **state)
{
	/* "/p/10.5.34.0-24\0x" and "/p/a": the NUL stays inside the key. */
	static const char body[] =
		"{" HDR ",\"kvs\":[{\"key\":\"L3AvMTAuNS4zNC4wLTI0AHg=\",\"value\":\"dgB3\","
		"\"mod_revision\":\"41\",\"lease\":\"7587862104839431433\"},"
		"{\"key\":\"L3AvYQ==\"}],\"more\":true}";
	struct etcd_resp r;
	struct err err = {""};

	(void)state;
	assert_int_equal(etcd_parse_ok(ETCD_RESP_RANGE, body, strlen(body), &r, &err), 0);
	assert_int_equal(r.revision, 42);
	assert_int_equal(r.range.n, 2);
	assert_true(r.range.more);
	assert_int_equal(r.range.kvs[0].key_len, 17);
	assert_memory_equal(r.range.kvs[0].key, "/p/10.5.34.0-24\0x", 18);
	assert_int_equal(r.range.kvs[0].value_len, 3);
	assert_memory_equal(r.range.kvs[0].value, "v\0w", 4);
	assert_int_equal(r.range.kvs[0].mod_revision, 41);
	assert_int_equal(r.range.kvs[0].lease, 7587862104839431433LL);
	assert_int_equal(r.range.kvs[1].key_len, 4);
	assert_string_equal(r.range.kvs[1].value, "");
	etcd_range_result_free(&r.range);
}

static void test_bad_answers(void **state)
{
	static const struct {
		enum etcd_resp_kind kind;
		const char *body, *why;
	} cases[] = {
		{ETCD_RESP_RANGE, "[]", "not a JSON object"},
		{ETCD_RESP_RANGE, "{" HDR ",\"kvs\":{}}", "range: \"kvs\" is not an array"},
		{ETCD_RESP_RANGE, "{" HDR ",\"kvs\":[{\"key\":\"!!\"}]}",
		 "range: key-value 0: \"key\" is not base64"},
		{ETCD_RESP_RANGE, "{" HDR ",\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":\"12x\"}]}",
		 "range: key-value 0: a revision, version or lease is not an int64"},
		{ETCD_RESP_WRITE, "{\"header\":{\"revision\":\" 7\"}}",
		 "header.revision is not an int64"},
		{ETCD_RESP_WRITE, "{\"header\":{\"revision\":\"99999999999999999999\"}}",
		 "header.revision is not an int64"},
		{ETCD_RESP_GRANT, "{" HDR ",\"ID\":true}", "lease ID or TTL is not an int64"},
	};
	struct etcd_resp r;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err.msg[0] = '\0';
		assert_int_equal(etcd_parse_ok(cases[i].kind, cases[i].body, strlen(cases[i].body),
					       &r, &err),
				 -EBADMSG);
		assert_string_equal(err.msg, cases[i].why);
		assert_null(r.range.kvs);
	}
}

static void test_leases_and_txn(void **state)
{
	static const char ttl_gone[] = "{" HDR ",\"ID\":\"5\"}";
	static const char grant[] = "{" HDR ",\"ID\":\"5\",\"TTL\":\"60\"}";
	static const char txn[] = "{" HDR ",\"succeeded\":true}";
	struct etcd_resp r;

	(void)state;
	assert_int_equal(etcd_parse_ok(ETCD_RESP_TTL, ttl_gone, strlen(ttl_gone), &r, NULL), 0);
	assert_int_equal(r.ttl, -1);
	assert_int_equal(etcd_parse_ok(ETCD_RESP_GRANT, grant, strlen(grant), &r, NULL), 0);
	assert_int_equal(r.id, 5);
	assert_int_equal(r.ttl, 60);
	assert_int_equal(etcd_parse_ok(ETCD_RESP_TXN, txn, strlen(txn), &r, NULL), 0);
	assert_true(r.succeeded);
	assert_int_equal(r.revision, 42);
}

static void test_error_body(void **state)
{
	static const char body[] =
		"{\"error\":\"x\",\"code\":16,\"message\":\"invalid auth token\"}";
	struct etcd_resp_error re;

	(void)state;
	etcd_parse_error(body, strlen(body), &re);
	assert_true(re.json);
	assert_int_equal(re.code, 16);
	assert_string_equal(re.message, "invalid auth token");
	etcd_parse_error("<html>", 6, &re);
	assert_false(re.json);
	assert_int_equal(re.code, 0);
	assert_string_equal(re.message, "");
}

static void test_watch_lines(void **state)
{
	static const char events[] =
		"{\"result\":{" HDR ",\"events\":[{\"kv\":{\"key\":\"YQB4\",\"value\":\"dg==\"}},"
		"{\"type\":\"DELETE\",\"kv\":{\"key\":\"Yg==\",\"mod_revision\":\"43\"}},"
		"{\"kv\":{\"key\":\"!\"}}]}}";
	/* Only a cancellation ends a watch: a compact revision elsewhere is ignored. */
	static const char progress[] = "{\"result\":{" HDR ",\"compact_revision\":\"9\"}}";
	static const char compacted[] =
		"{\"result\":{" HDR ",\"canceled\":true,\"compact_revision\":\"9\"}}";
	static const char canceled[] = "{\"result\":{" HDR ",\"canceled\":true}}";
	static const char error[] = "{\"error\":{\"message\":\"\"}}";
	struct etcd_watch_msg m;
	struct err err = {""};

	(void)state;
	assert_int_equal(etcd_parse_watch_line(events, strlen(events), &m, &err), 0);
	assert_int_equal(m.kind, ETCD_WATCH_EVENTS);
	assert_int_equal(m.res.n, 3);
	assert_int_equal(m.events[0].type, ETCD_EVENT_PUT);
	assert_int_equal(m.events[0].kv.key_len, 3);
	assert_memory_equal(m.events[0].kv.key, "a\0x", 4);
	assert_int_equal(m.events[1].type, ETCD_EVENT_DELETE);
	assert_int_equal(m.events[1].kv.mod_revision, 43);
	assert_null(m.events[2].kv.key); /* undecodable: skipped, revision still counts */
	etcd_watch_msg_free(&m);

	assert_int_equal(etcd_parse_watch_line(progress, strlen(progress), &m, &err), 0);
	assert_int_equal(m.kind, ETCD_WATCH_EVENTS);
	assert_int_equal(m.res.n, 0);
	assert_int_equal(m.res.compact_revision, 0);
	assert_int_equal(m.res.revision, 42);
	etcd_watch_msg_free(&m);

	assert_int_equal(etcd_parse_watch_line(compacted, strlen(compacted), &m, &err), 0);
	assert_int_equal(m.kind, ETCD_WATCH_COMPACTED);
	assert_int_equal(m.res.compact_revision, 9);
	etcd_watch_msg_free(&m);

	assert_int_equal(etcd_parse_watch_line(canceled, strlen(canceled), &m, &err), -ECANCELED);
	assert_int_equal(m.kind, ETCD_WATCH_CANCELED);
	assert_string_equal(err.msg, "canceled by the server: (no reason)");
	etcd_watch_msg_free(&m);

	assert_int_equal(etcd_parse_watch_line(error, strlen(error), &m, &err), -EBADMSG);
	assert_int_equal(m.kind, ETCD_WATCH_ERROR);
	assert_string_equal(err.msg, "malformed watch response: no result and no error message");
	etcd_watch_msg_free(&m);
	assert_int_equal(etcd_parse_watch_line("{", 1, &m, &err), -EBADMSG);
	assert_string_equal(err.msg, "malformed watch response: not JSON");
	etcd_watch_msg_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_nul_key),  cmocka_unit_test(test_bad_answers),
		cmocka_unit_test(test_leases_and_txn), cmocka_unit_test(test_error_body),
		cmocka_unit_test(test_watch_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
