// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hmap.h"

struct entry {
	struct hmap_node node;
	char key[16];
};

static unsigned freed;

static void entry_free(struct hmap_node *n)
{
	freed++;
	free(hmap_entry(n, struct entry, node));
}

static void fill(struct hmap *m, int n)
{
	for (int i = 0; i < n; i++) {
		struct entry *e = calloc(1, sizeof(*e));

		assert_non_null(e);
		snprintf(e->key, sizeof(e->key), "k%d", i);
		e->node.key = e->key;
		assert_null(hmap_put(m, &e->node));
	}
}

/* Every entry goes through free_node once (ASan would see a leak or a double
 * free), and the map is empty and reusable afterwards. */
static void test_clear(void **state)
{
	struct hmap m;
	size_t iter;

	(void)state;
	hmap_init(&m);
	fill(&m, 1000);
	assert_int_equal(m.count, 1000);
	freed = 0;
	hmap_clear(&m, entry_free);
	assert_int_equal(freed, 1000);
	assert_int_equal(m.count, 0);
	assert_null(hmap_first(&m, &iter));
	assert_null(hmap_get(&m, "k1"));
	fill(&m, 3);
	assert_non_null(hmap_get(&m, "k2"));
	freed = 0;
	hmap_clear(&m, entry_free);
	assert_int_equal(freed, 3);
}

static void test_clear_empty(void **state)
{
	struct hmap m;

	(void)state;
	hmap_init(&m);
	freed = 0;
	hmap_clear(&m, entry_free);
	assert_int_equal(freed, 0);
	assert_int_equal(m.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_clear_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
