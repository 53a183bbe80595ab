// SPDX-License-Identifier: Apache-2.0
/*
 * The etcd client against a real etcd (started by test_etcd_client.sh, which
 * passes ETCD_ENDPOINT and, for TLS, ETCD_CAFILE/ETCD_CERTFILE/ETCD_KEYFILE).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/loop.h"
#include "etcd/etcd.h"

struct ctx {
	struct loop *loop;
	struct etcd *etcd;
	int done;
	int err;
	int64_t rev, id, ttl;
	bool ok;
	struct etcd_range_result range;
	char values[16][64];
	int types[16];
	int nevents;
	int64_t compact;
	int64_t timer;
};

static char run_prefix[32];

/* Keys under a per-process prefix, so that runs against one etcd never meet. */
static const char *K(const char *key)
{
	static char bufs[8][128];
	static unsigned n;
	char *b = bufs[n++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s%s", run_prefix, key);
	return b;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int64_t timeout_cb(struct loop *loop, int64_t id, void *arg)
{
	struct ctx *c = arg;

	(void)id;
	c->err = -ETIMEDOUT;
	loop_stop(loop);
	return LOOP_TIMER_STOP;
}

/* Run the loop until a callback sets done (or 10 s pass: a failure). */
static void run_until_done(struct ctx *c, int want)
{
	int64_t t = loop_add_timer(c->loop, 10000, timeout_cb, c);

	while (c->done < want && c->err != -ETIMEDOUT) {
		loop_run(c->loop);
	}
	loop_del_timer(c->loop, t);
	assert_int_not_equal(c->err, -ETIMEDOUT);
}

static void stop_if_done(struct ctx *c)
{
	c->done++;
	loop_stop(c->loop);
}

static void write_cb(void *arg, int err, int64_t rev, bool ok)
{
	struct ctx *c = arg;

	c->err = err;
	c->rev = rev;
	c->ok = ok;
	stop_if_done(c);
}

static void range_cb(void *arg, int err, const struct etcd_range_result *res)
{
	struct ctx *c = arg;

	c->err = err;
	memset(&c->range, 0, sizeof(c->range));
	if (res) {
		c->range.revision = res->revision;
		c->range.n = res->n;
		c->range.kvs = calloc(res->n + 1, sizeof(*res->kvs));
		for (size_t i = 0; i < res->n; i++) {
			c->range.kvs[i] = res->kvs[i];
			c->range.kvs[i].key = strdup(res->kvs[i].key);
			c->range.kvs[i].value = strdup(res->kvs[i].value);
		}
	}
	stop_if_done(c);
}

static void lease_cb(void *arg, int err, int64_t id, int64_t ttl)
{
	struct ctx *c = arg;

	c->err = err;
	c->id = id;
	c->ttl = ttl;
	stop_if_done(c);
}

static void watch_cb(void *arg, int err, const struct etcd_watch_result *res)
{
	struct ctx *c = arg;

	c->err = err;
	if (res) {
		c->rev = res->revision;
		c->compact = res->compact_revision;
		for (size_t i = 0; i < res->n && c->nevents < 16; i++) {
			c->types[c->nevents] = res->events[i].type;
			snprintf(c->values[c->nevents], sizeof(c->values[0]), "%s=%s",
				 res->events[i].kv.key ? res->events[i].kv.key : "?",
				 res->events[i].kv.value ? res->events[i].kv.value : "");
			c->nevents++;
		}
	}
	stop_if_done(c);
}

static int setup_with(void **state, const char *endpoints)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct etcd_config cfg = {
		.endpoints = endpoints,
		.cafile = env("ETCD_CAFILE"),
		.certfile = env("ETCD_CERTFILE"),
		.keyfile = env("ETCD_KEYFILE"),
		.username = env("ETCD_USERNAME"),
		.password = env("ETCD_PASSWORD"),
		.request_timeout_ms = 3000,
	};
	struct err err = { 0 };

	assert_int_equal(loop_new(&c->loop), 0);
	assert_int_equal(etcd_new(c->loop, &cfg, &c->etcd, &err), 0);
	*state = c;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, env("ETCD_ENDPOINT"));
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	etcd_range_result_free(&c->range);
	etcd_free(c->etcd);
	loop_free(c->loop);
	free(c);
	return 0;
}

static void range_reset(struct ctx *c)
{
	etcd_range_result_free(&c->range);
	c->done = 0;
}

static void test_put_get_delete(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(etcd_put(c->etcd, K("/t/kv/a"), "value-a", 7, 0, write_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);
	assert_true(c->rev > 0);

	range_reset(c);
	assert_int_equal(etcd_get(c->etcd, K("/t/kv/a"), range_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);
	assert_int_equal(c->range.n, 1);
	assert_string_equal(c->range.kvs[0].key, K("/t/kv/a"));
	assert_string_equal(c->range.kvs[0].value, "value-a");
	assert_int_equal(c->range.kvs[0].version, 1);
	assert_int_equal(c->range.kvs[0].lease, 0);

	c->done = 0;
	assert_int_equal(etcd_delete(c->etcd, K("/t/kv/a"), write_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);

	range_reset(c);
	assert_int_equal(etcd_get(c->etcd, K("/t/kv/a"), range_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);
	assert_int_equal(c->range.n, 0);
}

static void test_prefix(void **state)
{
	struct ctx *c = *state;
	const char *keys[] = { "/t/p/subnets/1", "/t/p/subnets/2", "/t/p/subnets/3",
			       "/t/p/subnetsX", "/t/p/config" };


	for (size_t i = 0; i < 5; i++) {
		c->done = 0;
		assert_int_equal(etcd_put(c->etcd, K(keys[i]), "v", 1, 0, write_cb, c), 0);
		run_until_done(c, 1);
		assert_int_equal(c->err, 0);
	}
	range_reset(c);
	assert_int_equal(etcd_get_prefix(c->etcd, K("/t/p/subnets/"), range_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);
	assert_int_equal(c->range.n, 3);
	assert_string_equal(c->range.kvs[2].key, K("/t/p/subnets/3"));
}

static void test_create_txn(void **state)
{
	struct ctx *c = *state;

	c->done = 0;
	assert_int_equal(etcd_create(c->etcd, K("/t/txn/k"), "first", 5, 0, write_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);
	assert_true(c->ok);

	c->done = 0;
	assert_int_equal(etcd_create(c->etcd, K("/t/txn/k"), "second", 6, 0, write_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);
	assert_false(c->ok); /* compare failed: the key exists */

	range_reset(c);
	assert_int_equal(etcd_get(c->etcd, K("/t/txn/k"), range_cb, c), 0);
	run_until_done(c, 1);
	assert_string_equal(c->range.kvs[0].value, "first");

	/* Replace by mod_revision: the right one succeeds, a stale one fails. */
	int64_t mod = c->range.kvs[0].mod_revision;
	c->done = 0;
	assert_int_equal(etcd_replace(c->etcd, K("/t/txn/k"), mod - 1, "x", 1, 0, write_cb, c), 0);
	run_until_done(c, 1);
	assert_false(c->ok);
	c->done = 0;
	assert_int_equal(etcd_replace(c->etcd, K("/t/txn/k"), mod, "third", 5, 0, write_cb, c), 0);
	run_until_done(c, 1);
	assert_true(c->ok);
}

/* etcd_txn_puts: two keys in one transaction, on one etcd lease, under one compare. */
static void test_txn_puts(void **state)
{
	struct ctx *c = *state;
	char a[128], b[128];
	struct etcd_txn_put ops[2] = { { a, "va", 2, 0 }, { b, "vb", 2, 0 } };
	int64_t mod, id;

	snprintf(a, sizeof(a), "%s", K("/t/txn2/subnets/k"));
	snprintf(b, sizeof(b), "%s", K("/t/txn2/owners/k"));
	c->done = 0;
	assert_int_equal(etcd_lease_grant(c->etcd, 60, lease_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);
	id = c->id;
	ops[0].lease = ops[1].lease = id;

	/* Absent: both written, on the lease. */
	c->done = 0;
	assert_int_equal(etcd_txn_puts(c->etcd, a, 0, ops, 2, write_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);
	assert_true(c->ok);
	mod = c->rev;
	range_reset(c);
	assert_int_equal(etcd_get(c->etcd, b, range_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->range.n, 1);
	assert_string_equal(c->range.kvs[0].value, "vb");
	assert_int_equal(c->range.kvs[0].lease, id);
	assert_int_equal(c->range.kvs[0].mod_revision, mod);

	/* Present now: "absent" fails, and nothing is written. */
	ops[1].value = "changed";
	ops[1].len = 7;
	c->done = 0;
	assert_int_equal(etcd_txn_puts(c->etcd, a, 0, ops, 2, write_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);
	assert_false(c->ok);
	/* A stale revision fails too; the right one writes both. */
	c->done = 0;
	assert_int_equal(etcd_txn_puts(c->etcd, a, mod - 1, ops, 2, write_cb, c), 0);
	run_until_done(c, 1);
	assert_false(c->ok);
	range_reset(c);
	assert_int_equal(etcd_get(c->etcd, b, range_cb, c), 0);
	run_until_done(c, 1);
	assert_string_equal(c->range.kvs[0].value, "vb");
	c->done = 0;
	assert_int_equal(etcd_txn_puts(c->etcd, a, mod, ops, 2, write_cb, c), 0);
	run_until_done(c, 1);
	assert_true(c->ok);
	range_reset(c);
	assert_int_equal(etcd_get(c->etcd, b, range_cb, c), 0);
	run_until_done(c, 1);
	assert_string_equal(c->range.kvs[0].value, "changed");

	/* Revoking the lease takes both keys. */
	c->done = 0;
	assert_int_equal(etcd_lease_revoke(c->etcd, id, write_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);
	range_reset(c);
	assert_int_equal(etcd_get(c->etcd, a, range_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->range.n, 0);
	range_reset(c);
	assert_int_equal(etcd_get(c->etcd, b, range_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->range.n, 0);
}

static void test_leases(void **state)
{
	struct ctx *c = *state;
	int64_t id;

	c->done = 0;
	assert_int_equal(etcd_lease_grant(c->etcd, 120, lease_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);
	assert_true(c->id != 0);
	assert_int_equal(c->ttl, 120);
	id = c->id;

	c->done = 0;
	assert_int_equal(etcd_put(c->etcd, K("/t/lease/k"), "v", 1, id, write_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);

	range_reset(c);
	assert_int_equal(etcd_get(c->etcd, K("/t/lease/k"), range_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->range.kvs[0].lease, id);

	c->done = 0;
	assert_int_equal(etcd_lease_ttl(c->etcd, id, lease_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);
	assert_true(c->ttl > 100 && c->ttl <= 120);

	/* Lease 0 (a key without lease) answers TTL -1, as flannel relies on. */
	c->done = 0;
	assert_int_equal(etcd_lease_ttl(c->etcd, 0, lease_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);
	assert_int_equal(c->ttl, -1);

	c->done = 0;
	assert_int_equal(etcd_lease_revoke(c->etcd, id, write_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);

	/* Revoking deleted the attached key. */
	range_reset(c);
	assert_int_equal(etcd_get(c->etcd, K("/t/lease/k"), range_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->range.n, 0);

	/* Revoking again: etcd says the lease is not found. */
	c->done = 0;
	assert_int_equal(etcd_lease_revoke(c->etcd, id, write_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, -ENOENT);
	assert_true(strlen(etcd_strerror(c->etcd)) > 0);
}

static void test_watch(void **state)
{
	struct ctx *c = *state;
	struct ctx w = { .loop = c->loop };
	struct etcd_watch *h;
	int64_t start;

	range_reset(c);
	assert_int_equal(etcd_get(c->etcd, K("/t/w/"), range_cb, c), 0);
	run_until_done(c, 1);
	start = c->range.revision + 1;

	assert_int_equal(c->err, 0); /* no point watching when etcd refuses us */
	assert_int_equal(etcd_watch(c->etcd, K("/t/w/"), true, start, watch_cb, &w, &h), 0);
	c->done = 0;
	assert_int_equal(etcd_put(c->etcd, K("/t/w/one"), "1", 1, 0, write_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);
	c->done = 0;
	assert_int_equal(etcd_put(c->etcd, K("/t/wX"), "outside", 7, 0, write_cb, c), 0);
	run_until_done(c, 1);
	c->done = 0;
	assert_int_equal(etcd_delete(c->etcd, K("/t/w/one"), write_cb, c), 0);
	run_until_done(c, 1);

	while (w.nevents < 2)
		run_until_done(&w, w.done + 1);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.nevents, 2);
	assert_int_equal(w.types[0], ETCD_EVENT_PUT);
	assert_string_equal(w.values[0], K("/t/w/one=1"));
	assert_int_equal(w.types[1], ETCD_EVENT_DELETE);
	assert_string_equal(w.values[1], K("/t/w/one="));
	etcd_watch_cancel(h);
}

static void test_watch_compacted(void **state)
{
	struct ctx *c = *state;
	struct ctx w = { .loop = c->loop };
	struct etcd_watch *h;
	int64_t rev;

	c->done = 0;
	assert_int_equal(etcd_put(c->etcd, K("/t/c/k"), "1", 1, 0, write_cb, c), 0);
	run_until_done(c, 1);
	c->done = 0;
	assert_int_equal(etcd_put(c->etcd, K("/t/c/k"), "2", 1, 0, write_cb, c), 0);
	run_until_done(c, 1);
	rev = c->rev;
	c->done = 0;
	assert_int_equal(etcd_compact(c->etcd, rev, write_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);

	assert_int_equal(etcd_watch(c->etcd, K("/t/c/"), true, rev - 1, watch_cb, &w, &h), 0);
	/* "created" comes first, then the cancellation naming the compaction. */
	while (w.compact == 0 && w.err == 0)
		run_until_done(&w, w.done + 1);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.compact, rev);
	/* The watch ended by itself: the handle is gone, nothing more arrives. */
}

static void test_failover(void **state)
{
	struct ctx *c;
	char eps[512];

	/* Port 1 on loopback refuses; the second endpoint answers. */
	snprintf(eps, sizeof(eps), "%s,%s", strncmp(env("ETCD_ENDPOINT"), "https", 5) ?
		 "http://127.0.0.1:1" : "https://127.0.0.1:1", env("ETCD_ENDPOINT"));
	setup_with(state, eps);
	c = *state;
	assert_int_equal(etcd_put(c->etcd, K("/t/fo"), "v", 1, 0, write_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, 0);
	teardown(state);
}

static void test_unreachable(void **state)
{
	struct ctx *c;

	setup_with(state, "http://127.0.0.1:1");
	c = *state;
	assert_int_equal(etcd_put(c->etcd, K("/t/x"), "v", 1, 0, write_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, -ECONNREFUSED);
	assert_non_null(strstr(etcd_strerror(c->etcd), "127.0.0.1:1"));
	teardown(state);
}

static void test_response_limit(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct etcd_config cfg = {
		.endpoints = env("ETCD_ENDPOINT"),
		.cafile = env("ETCD_CAFILE"),
		.certfile = env("ETCD_CERTFILE"),
		.keyfile = env("ETCD_KEYFILE"),
		.username = env("ETCD_USERNAME"),
		.password = env("ETCD_PASSWORD"),
		.max_response = 64,
	};
	char big[512];

	(void)state;
	assert_int_equal(loop_new(&c->loop), 0);
	assert_int_equal(etcd_new(c->loop, &cfg, &c->etcd, NULL), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(etcd_put(c->etcd, K("/t/big"), big, strlen(big), 0, write_cb, c), 0);
	run_until_done(c, 1);
	c->done = 0;
	assert_int_equal(etcd_get(c->etcd, K("/t/big"), range_cb, c), 0);
	run_until_done(c, 1);
	assert_int_equal(c->err, -E2BIG);
	*state = c;
	teardown(state);
}

static void test_bad_endpoints(void **state)
{
	struct loop *loop;
	struct etcd *e = NULL;
	struct err err = { 0 };
	struct etcd_config cfg = { .endpoints = "127.0.0.1:2379" };

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	assert_int_equal(etcd_new(loop, &cfg, &e, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "127.0.0.1:2379"));
	cfg.endpoints = " , ";
	assert_int_equal(etcd_new(loop, &cfg, &e, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "no etcd endpoint"));
	loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_txn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_txn_puts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_compacted, setup, teardown),
		cmocka_unit_test(test_failover),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_response_limit),
		cmocka_unit_test(test_bad_endpoints),
	};

	snprintf(run_prefix, sizeof(run_prefix), "/run%d", (int)getpid());
	if (!env("ETCD_ENDPOINT")) {
		fprintf(stderr, "ETCD_ENDPOINT is not set (run through test_etcd_client.sh)\n");
		return 1;
	}
	return cmocka_run_group_tests_name("etcd_client", tests, NULL, NULL);
}
