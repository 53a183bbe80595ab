// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "core/buf.h"
#include "core/metrics.h"
#include "prom_check.h"

static struct metrics *M;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(metrics_new(&M), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	metrics_free(M);
	M = NULL;
	return 0;
}

/* Renders M and compares with want; the output must also pass the validator. */
static void expect_render(const char *want)
{
	struct buf b;
	char why[256];

	buf_init(&b, 1 << 20);
	assert_int_equal(metrics_render(M, &b), 0);
	assert_string_equal(b.data ? b.data : "", want);
	if (prom_check(b.data ? b.data : "", why, sizeof(why)))
		fail_msg("prom_check: %s\n%s", why, b.data);
	buf_free(&b);
}

static void test_counter_and_gauge(void **state)
{
	struct metrics_child *c, *g;

	(void)state;
	assert_int_equal(metrics_counter_new(M, "weft_events_total", "Events seen.", &c), 0);
	assert_int_equal(metrics_gauge_new(M, "weft_temperature", "A gauge.", &g), 0);
	expect_render("# HELP weft_events_total Events seen.\n"
		      "# TYPE weft_events_total counter\n"
		      "weft_events_total 0\n"
		      "# HELP weft_temperature A gauge.\n"
		      "# TYPE weft_temperature gauge\n"
		      "weft_temperature 0\n");
	metrics_inc(c);
	metrics_add(c, 41);
	metrics_add(c, -5); /* counters never go down */
	metrics_set(g, 7);
	metrics_add(g, -12);
	expect_render("# HELP weft_events_total Events seen.\n"
		      "# TYPE weft_events_total counter\n"
		      "weft_events_total 42\n"
		      "# HELP weft_temperature A gauge.\n"
		      "# TYPE weft_temperature gauge\n"
		      "weft_temperature -5\n");
	assert_true(metrics_value(c) == 42.0);
	assert_true(metrics_value(g) == -5.0);
	/* NULL children (a registration that failed) are harmless. */
	metrics_inc(NULL);
	metrics_set_double(NULL, 1);
	assert_true(metrics_value(NULL) == 0.0);
}

static void test_int_saturates_and_promotes_to_double(void **state)
{
	struct metrics_child *c, *g;

	(void)state;
	assert_int_equal(metrics_counter_new(M, "c_total", "C.", &c), 0);
	assert_int_equal(metrics_gauge_new(M, "g", "G.", &g), 0);
	metrics_set(c, INT64_MAX - 1);
	metrics_add(c, 10);
	metrics_set(g, INT64_MIN + 1);
	metrics_add(g, -10);
	expect_render("# HELP c_total C.\n# TYPE c_total counter\nc_total 9223372036854775807\n"
		      "# HELP g G.\n# TYPE g gauge\ng -9223372036854775808\n");
	metrics_set(c, 3);
	metrics_add_double(c, 0.5);
	metrics_add(c, 1); /* stays double */
	metrics_add_double(c, -1.0);
	metrics_add_double(c, NAN);
	metrics_set_double(g, 2.25);
	expect_render("# HELP c_total C.\n# TYPE c_total counter\nc_total 4.5\n"
		      "# HELP g G.\n# TYPE g gauge\ng 2.25\n");
	metrics_set(g, 9); /* back to an integer */
	expect_render("# HELP c_total C.\n# TYPE c_total counter\nc_total 4.5\n"
		      "# HELP g G.\n# TYPE g gauge\ng 9\n");
}

static void test_double_formatting(void **state)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{ 0.5, "0.5" },
		{ 100.0, "100" },
		{ 123456.0, "123456" },
		{ 1e6, "1e+06" },
		{ 1234567.0, "1.234567e+06" },
		{ 0.0001, "0.0001" },
		{ 0.00001, "1e-05" },
		{ -0.25, "-0.25" },
		{ 0.1 + 0.2, "0.30000000000000004" },
		{ 1.0 / 3.0, "0.3333333333333333" },
		{ 1e300, "1e+300" },
		{ 0.0, "0" },
	};
	struct metrics_child *g;
	char want[256];

	(void)state;
	assert_int_equal(metrics_gauge_new(M, "g", "G.", &g), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		metrics_set_double(g, cases[i].v);
		snprintf(want, sizeof(want), "# HELP g G.\n# TYPE g gauge\ng %s\n", cases[i].want);
		expect_render(want);
	}
	metrics_set_double(g, NAN);
	expect_render("# HELP g G.\n# TYPE g gauge\ng NaN\n");
	metrics_set_double(g, INFINITY);
	expect_render("# HELP g G.\n# TYPE g gauge\ng +Inf\n");
	metrics_set_double(g, -INFINITY);
	expect_render("# HELP g G.\n# TYPE g gauge\ng -Inf\n");
}

static void test_labels_in_creation_order(void **state)
{
	static const char *const labels[] = { "kind", "family", NULL };
	struct metrics_family *f, *empty;
	struct metrics_child *route, *neigh, *again;

	(void)state;
	assert_int_equal(metrics_family_add(M, METRICS_COUNTER, "weft_reconcile_corrections_total",
					    "Kernel objects fixed.", labels, &f),
			 0);
	/* Families without children are left out, as the Go client does. */
	assert_int_equal(metrics_family_add(M, METRICS_GAUGE, "weft_unused", "Nothing yet.", labels,
					    &empty),
			 0);
	assert_int_equal(metrics_child(f, (const char *const[]){ "route", "ipv4" }, &route), 0);
	assert_int_equal(metrics_child(f, (const char *const[]){ "neigh", "ipv6" }, &neigh), 0);
	assert_int_equal(metrics_child(f, (const char *const[]){ "route", "ipv4" }, &again), 0);
	assert_ptr_equal(route, again);
	metrics_add(neigh, 2);
	metrics_inc(route);
	expect_render("# HELP weft_reconcile_corrections_total Kernel objects fixed.\n"
		      "# TYPE weft_reconcile_corrections_total counter\n"
		      "weft_reconcile_corrections_total{kind=\"route\",family=\"ipv4\"} 1\n"
		      "weft_reconcile_corrections_total{kind=\"neigh\",family=\"ipv6\"} 2\n");

	/* Removing a child, then adding one: the new one goes last. */
	metrics_child_del(route);
	assert_int_equal(metrics_child(f, (const char *const[]){ "fdb", "ipv4" }, &route), 0);
	metrics_child_del(NULL);
	expect_render("# HELP weft_reconcile_corrections_total Kernel objects fixed.\n"
		      "# TYPE weft_reconcile_corrections_total counter\n"
		      "weft_reconcile_corrections_total{kind=\"neigh\",family=\"ipv6\"} 2\n"
		      "weft_reconcile_corrections_total{kind=\"fdb\",family=\"ipv4\"} 0\n");
	metrics_child_del(route);
	metrics_child_del(neigh);
	assert_int_equal(metrics_child(f, (const char *const[]){ "a", "b" }, &route), 0);
	expect_render("# HELP weft_reconcile_corrections_total Kernel objects fixed.\n"
		      "# TYPE weft_reconcile_corrections_total counter\n"
		      "weft_reconcile_corrections_total{kind=\"a\",family=\"b\"} 0\n");
}

static void test_escaping(void **state)
{
	static const char *const labels[] = { "v", NULL };
	struct metrics_family *f;
	struct metrics_child *c;

	(void)state;
	assert_int_equal(metrics_family_add(M, METRICS_GAUGE, "weft:odd_name",
					    "Line one\nback\\slash \"quoted\"", labels, &f),
			 0);
	assert_int_equal(metrics_child(f, (const char *const[]){ "a\\b\"c\nd" }, &c), 0);
	assert_int_equal(metrics_child(f, (const char *const[]){ "" }, &c), 0);
	assert_int_equal(metrics_child(f, (const char *const[]){ "x{y}=z, \xc3\xa9" }, &c), 0);
	expect_render("# HELP weft:odd_name Line one\\nback\\\\slash \"quoted\"\n"
		      "# TYPE weft:odd_name gauge\n"
		      "weft:odd_name{v=\"a\\\\b\\\"c\\nd\"} 0\n"
		      "weft:odd_name{v=\"\"} 0\n"
		      "weft:odd_name{v=\"x{y}=z, \xc3\xa9\"} 0\n");
}

static double read_double(void *arg)
{
	return *(const double *)arg;
}

static void test_callback_metrics(void **state)
{
	static const char *const labels[] = { "backend", NULL };
	double peers = 3, bytes = 1e7, vx = 1, hg = 0.5;
	struct metrics_family *f;
	struct metrics_child *c;

	(void)state;
	assert_int_equal(metrics_gauge_func_new(M, "weft_peers", "Known peers.", read_double,
						&peers),
			 0);
	assert_int_equal(metrics_counter_func_new(M, "weft_bytes_total", "Bytes.", read_double,
						  &bytes),
			 0);
	assert_int_equal(
		metrics_family_add(M, METRICS_GAUGE, "weft_up", "Per backend.", labels, &f), 0);
	assert_int_equal(metrics_child_func(f, (const char *const[]){ "vxlan" }, read_double, &vx,
					    &c),
			 0);
	assert_int_equal(metrics_child_func(f, (const char *const[]){ "host-gw" }, read_double, &hg,
					    NULL),
			 0);
	assert_int_equal(metrics_child_func(f, (const char *const[]){ "vxlan" }, read_double, &vx,
					    NULL),
			 -EEXIST);
	assert_int_equal(metrics_child_func(f, (const char *const[]){ "udp" }, NULL, NULL, NULL),
			 -EINVAL);
	/* Operations on callback children are ignored. */
	metrics_set(c, 100);
	metrics_add_double(c, 1);
	expect_render("# HELP weft_peers Known peers.\n# TYPE weft_peers gauge\nweft_peers 3\n"
		      "# HELP weft_bytes_total Bytes.\n# TYPE weft_bytes_total counter\n"
		      "weft_bytes_total 1e+07\n"
		      "# HELP weft_up Per backend.\n# TYPE weft_up gauge\n"
		      "weft_up{backend=\"vxlan\"} 1\nweft_up{backend=\"host-gw\"} 0.5\n");
	/* Read at render time, every time. */
	peers = 4;
	bytes = 12345;
	vx = 0;
	expect_render("# HELP weft_peers Known peers.\n# TYPE weft_peers gauge\nweft_peers 4\n"
		      "# HELP weft_bytes_total Bytes.\n# TYPE weft_bytes_total counter\n"
		      "weft_bytes_total 12345\n"
		      "# HELP weft_up Per backend.\n# TYPE weft_up gauge\n"
		      "weft_up{backend=\"vxlan\"} 0\nweft_up{backend=\"host-gw\"} 0.5\n");
	assert_true(metrics_value(c) == 0.0);
}

static void test_invalid_names_rejected(void **state)
{
	static const char *const bad_names[] = { "", "1abc", "a-b", "a b",
						 "a.b", "\xc3\xa9", "a\n" };
	static const char *const good_names[] = { "a", "_", ":", "a:b_c9", "ABC", "__x" };
	static const char *const dup[] = { "a", "a", NULL };
	static const char *const reserved[] = { "__name__", NULL };
	static const char *const colon[] = { "a:b", NULL };
	static const char *const one[] = { "l", NULL };
	struct metrics_family *f;
	struct metrics_child *c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		assert_false(metrics_name_valid(bad_names[i]));
		assert_int_equal(
			metrics_family_add(M, METRICS_GAUGE, bad_names[i], "h", NULL, NULL),
			-EINVAL);
		assert_int_equal(metrics_counter_new(M, bad_names[i], "h", &c), -EINVAL);
	}
	assert_false(metrics_name_valid(NULL));
	for (size_t i = 0; i < sizeof(good_names) / sizeof(good_names[0]); i++)
		assert_true(metrics_name_valid(good_names[i]));
	assert_true(metrics_label_name_valid("kind"));
	assert_true(metrics_label_name_valid("_k9"));
	assert_false(metrics_label_name_valid("__k"));
	assert_false(metrics_label_name_valid("a:b"));
	assert_false(metrics_label_name_valid("9a"));
	assert_false(metrics_label_name_valid(""));

	assert_int_equal(metrics_family_add(M, METRICS_GAUGE, "x", "h", dup, NULL), -EINVAL);
	assert_int_equal(metrics_family_add(M, METRICS_GAUGE, "x", "h", reserved, NULL), -EINVAL);
	assert_int_equal(metrics_family_add(M, METRICS_GAUGE, "x", "h", colon, NULL), -EINVAL);
	assert_int_equal(metrics_family_add(M, METRICS_GAUGE, "x", NULL, NULL, NULL), -EINVAL);
	assert_int_equal(metrics_family_add(M, METRICS_GAUGE, "x", "", NULL, NULL), -EINVAL);
	assert_int_equal(metrics_family_add(M, (enum metrics_type)7, "x", "h", NULL, NULL),
			 -EINVAL);
	assert_int_equal(metrics_gauge_func_new(M, "x", "h", NULL, NULL), -EINVAL);

	assert_int_equal(metrics_family_add(M, METRICS_GAUGE, "x", "h", one, &f), 0);
	assert_int_equal(metrics_family_add(M, METRICS_COUNTER, "x", "h", NULL, NULL), -EEXIST);
	assert_int_equal(metrics_gauge_new(M, "x", "h", &c), -EEXIST);
	/* Label values: as many as names, none NULL. */
	assert_int_equal(metrics_child(f, NULL, &c), -EINVAL);
	assert_int_equal(metrics_child(f, (const char *const[]){ NULL }, &c), -EINVAL);
	/* Nothing half-registered shows up. */
	expect_render("");
}

static void test_render_bounded(void **state)
{
	struct metrics_child *c;
	struct buf b;

	(void)state;
	assert_int_equal(
		metrics_counter_new(M, "a_rather_long_metric_name_total", "Help text.", &c), 0);
	buf_init(&b, 40);
	assert_int_equal(buf_append(&b, "prefix\n", 7), 0);
	assert_int_equal(metrics_render(M, &b), -E2BIG);
	assert_int_equal(b.len, 7);
	assert_string_equal(b.data, "prefix\n");
	buf_free(&b);

	/* Appends after what the buffer holds. */
	buf_init(&b, 4096);
	assert_int_equal(buf_append(&b, "# x\n", 4), 0);
	assert_int_equal(metrics_render(M, &b), 0);
	assert_string_equal(b.data, "# x\n"
				    "# HELP a_rather_long_metric_name_total Help text.\n"
				    "# TYPE a_rather_long_metric_name_total counter\n"
				    "a_rather_long_metric_name_total 0\n");
	buf_free(&b);
}

/* The validator itself: it must say no, or the checks above prove nothing. */
static void test_validator_rejects(void **state)
{
	static const char *const bad[] = {
		"m 1", /* no final newline */
		"m 1\n", /* no HELP/TYPE */
		"# TYPE m gauge\nm 1\n", /* no HELP */
		"# HELP m h\nm 1\n", /* no TYPE */
		"# HELP m h\n# TYPE m gauge\nm 1\n# HELP m h\n",
		"# HELP m h\n# TYPE m gauge\n# TYPE m gauge\nm 1\n",
		"# HELP m h\n# TYPE m gauge\nm\n",
		"# HELP m h\n# TYPE m gauge\nm one\n",
		"# HELP m h\n# TYPE m gauge\nm 1 x\n",
		"# HELP m h\n# TYPE m gauge\nm{a=\"1\"} 1\nm{a=\"1\"} 2\n",
		"# HELP m h\n# TYPE m gauge\nm{a=\"1\",b=\"2\"} 1\nm{b=\"2\",a=\"1\"} 2\n",
		"# HELP m h\n# TYPE m gauge\nm{a=\"1\",a=\"2\"} 1\n",
		"# HELP m h\n# TYPE m gauge\nm{__a=\"1\"} 1\n",
		"# HELP m h\n# TYPE m gauge\nm{a=1} 1\n",
		"# HELP m h\n# TYPE m gauge\nm{a=\"1} 1\n",
		"# HELP m h\n# TYPE m gauge\nm{a=\"\\t\"} 1\n",
		"# HELP m h\n# TYPE m gauge\nm{a=\"1\" 1\n",
		"# HELP m bad \\q escape\n# TYPE m gauge\nm 1\n",
		"# HELP m h\n# TYPE m widget\nm 1\n",
		"# HELP m h\n# TYPE m counter\nm -1\n",
		"# HELP 1m h\n# TYPE 1m gauge\n1m 1\n",
		"# HELP m h\n# TYPE m gauge\nm 1\r\n",
		"# HELP m h\n# TYPE m gauge\n# HELP n h\n# TYPE n gauge\nn 1\nm 1\n",
		"# HELP m h\n# TYPE m gauge\nm 1\n# HELP n h\n# TYPE n gauge\nn 1\nm 2\n",
		"# HELP m h\n# TYPE m gauge\nm{} Inf\n",
	};
	static const char *const good[] = {
		"",
		"# just a comment\n\n# HELP m h\n# TYPE m gauge\nm 1\n",
		"# HELP m h\n# TYPE m gauge\nm{} 1 1700000000000\n",
		"# HELP m h\n# TYPE m gauge\nm{a=\"1\",} -Inf\nm{a=\"2\"} NaN\nm{a=\"3\"} 1.5e-3\n",
		"# TYPE m histogram\n# HELP m h\nm_bucket{le=\"+Inf\"} 1\nm_sum 2\nm_count 1\n",
		"# HELP m h\n# TYPE m summary\nm{quantile=\"0.5\"} 1\nm_sum 2\nm_count 1\n",
	};
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (prom_check(bad[i], why, sizeof(why)) == 0)
			fail_msg("accepted bad input %zu: %s", i, bad[i]);
		assert_true(strncmp(why, "line ", 5) == 0);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (prom_check(good[i], why, sizeof(why)))
			fail_msg("rejected good input %zu: %s", i, why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counter_and_gauge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int_saturates_and_promotes_to_double, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_double_formatting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_labels_in_creation_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_names_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_bounded, setup, teardown),
		cmocka_unit_test(test_validator_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
