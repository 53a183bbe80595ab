// SPDX-License-Identifier: Apache-2.0
/* wg/replay: the anti-replay window of a receiving session, case by case and
 * against a plain model (every counter seen, and the greatest) over random
 * sequences. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wg/replay.h"

#define W WG_REPLAY_WINDOW

static void test_first_and_zero(void **state)
{
	struct wg_replay r;

	(void)state;
	wg_replay_init(&r);
	assert_true(wg_replay_accept(&r, 0));
	assert_false(wg_replay_accept(&r, 0));
	assert_int_equal(r.greatest, 1);
	/* A first counter that is not 0: everything in the window behind it is
	 * still open, 0 included when it is close enough. */
	wg_replay_init(&r);
	assert_true(wg_replay_accept(&r, 100));
	assert_true(wg_replay_accept(&r, 0));
	assert_false(wg_replay_accept(&r, 0));
	assert_true(wg_replay_accept(&r, 99));
	assert_false(wg_replay_accept(&r, 100));
}

static void test_in_order_and_duplicates(void **state)
{
	struct wg_replay r;
	uint64_t i;

	(void)state;
	wg_replay_init(&r);
	for (i = 0; i < 3 * WG_REPLAY_BITS; i++)
		assert_true(wg_replay_accept(&r, i));
	assert_int_equal(r.greatest, 3 * WG_REPLAY_BITS);
	/* every one of them once only: those in the window as seen, the rest as too old */
	for (i = 0; i < 3 * WG_REPLAY_BITS; i++)
		assert_false(wg_replay_accept(&r, i));
	assert_int_equal(r.greatest, 3 * WG_REPLAY_BITS);
}

static void test_out_of_order_in_window(void **state)
{
	struct wg_replay r;
	uint64_t i;

	(void)state;
	wg_replay_init(&r);
	/* evens upwards, then odds downwards: all are new */
	for (i = 0; i <= 2 * W; i += 2)
		assert_true(wg_replay_accept(&r, i + 10000));
	for (i = 2 * W - 1; i > W; i -= 2)
		assert_true(wg_replay_accept(&r, i + 10000));
	for (i = 2 * W - 1; i > W; i -= 2)
		assert_false(wg_replay_accept(&r, i + 10000));
	for (i = W; i <= 2 * W; i += 2)
		assert_false(wg_replay_accept(&r, i + 10000));
}

static void test_window_edge(void **state)
{
	struct wg_replay r;
	const uint64_t top = 50000;

	(void)state;
	wg_replay_init(&r);
	assert_true(wg_replay_accept(&r, top));
	/* exactly WINDOW behind the greatest is the oldest still taken */
	assert_false(wg_replay_accept(&r, top - W - 1));
	assert_true(wg_replay_accept(&r, top - W));
	assert_false(wg_replay_accept(&r, top - W));
	assert_true(wg_replay_accept(&r, top - 1));
	/* one step forward moves the edge by one */
	assert_true(wg_replay_accept(&r, top + 1));
	assert_false(wg_replay_accept(&r, top - W));
	assert_true(wg_replay_accept(&r, top + 1 - W));
	/* each position of the word boundary near the edge */
	wg_replay_init(&r);
	assert_true(wg_replay_accept(&r, 64 * 200 + 63));
	assert_true(wg_replay_accept(&r, 64 * 200 + 63 - W));
	assert_false(wg_replay_accept(&r, 64 * 200 + 62 - W));
}

static void test_jumps(void **state)
{
	struct wg_replay r;
	uint64_t i;

	(void)state;
	wg_replay_init(&r);
	for (i = 0; i < 64 * 5; i++)
		assert_true(wg_replay_accept(&r, i));
	/* a jump of less than the ring: bits behind it stay, words passed over are clear */
	assert_true(wg_replay_accept(&r, 1000));
	assert_false(wg_replay_accept(&r, 100));
	for (i = 64 * 5; i < 1000; i++)
		assert_true(wg_replay_accept(&r, i));
	/* exactly one ring forward: the same ring slots, all stale, must be open */
	assert_true(wg_replay_accept(&r, 1000 + WG_REPLAY_BITS));
	for (i = 1000 + WG_REPLAY_BITS - W; i < 1000 + WG_REPLAY_BITS; i++)
		assert_true(wg_replay_accept(&r, i));
	/* far beyond the ring (many times over, and by a huge amount) */
	assert_true(wg_replay_accept(&r, 100 * (uint64_t)WG_REPLAY_BITS + 7));
	for (i = 100 * (uint64_t)WG_REPLAY_BITS + 7 - W; i < 100 * (uint64_t)WG_REPLAY_BITS + 7;
	     i++)
		assert_true(wg_replay_accept(&r, i));
	assert_true(wg_replay_accept(&r, 1ULL << 62));
	for (i = (1ULL << 62) - W; i < (1ULL << 62); i += 3)
		assert_true(wg_replay_accept(&r, i));
	assert_false(wg_replay_accept(&r, (1ULL << 62) - W - 1));
	assert_false(wg_replay_accept(&r, 1000));
}

static void test_reject_limit(void **state)
{
	struct wg_replay r;
	const uint64_t last = WG_REJECT_AFTER_MESSAGES - 1;

	(void)state;
	wg_replay_init(&r);
	assert_false(wg_replay_accept(&r, WG_REJECT_AFTER_MESSAGES));
	assert_false(wg_replay_accept(&r, WG_REJECT_AFTER_MESSAGES + 1));
	assert_false(wg_replay_accept(&r, UINT64_MAX));
	assert_int_equal(r.greatest, 0);
	assert_true(wg_replay_accept(&r, last));
	assert_false(wg_replay_accept(&r, last));
	assert_true(wg_replay_accept(&r, last - 1));
	assert_true(wg_replay_accept(&r, last - W));
	assert_false(wg_replay_accept(&r, last - W - 1));
	assert_false(wg_replay_accept(&r, WG_REJECT_AFTER_MESSAGES));
	assert_false(wg_replay_accept(&r, UINT64_MAX));
}

/* The model: a set of the counters accepted (open addressing, 0 reserved for
 * empty so counters are stored + 1) and the greatest + 1. */
#define SET_SIZE (1U << 15)

struct model {
	uint64_t slot[SET_SIZE];
	uint64_t greatest; /* + 1, 0 = none */
};

static bool model_seen_add(struct model *m, uint64_t c, bool add)
{
	uint64_t key = c + 1;
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 49) & (SET_SIZE - 1);

	while (m->slot[i]) {
		if (m->slot[i] == key)
			return true;
		i = (i + 1) & (SET_SIZE - 1);
	}
	if (add)
		m->slot[i] = key;
	return false;
}

static bool model_accept(struct model *m, uint64_t c)
{
	if (c >= WG_REJECT_AFTER_MESSAGES)
		return false;
	if (m->greatest && c + 1 < m->greatest && m->greatest - 1 - c > W)
		return false;
	if (model_seen_add(m, c, false))
		return false;
	model_seen_add(m, c, true);
	if (c + 1 > m->greatest)
		m->greatest = c + 1;
	return true;
}

/* xorshift64*: the same sequences on every run */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void test_random_vs_model(void **state)
{
	static struct model m;
	struct wg_replay r;
	uint64_t seed = 0x5eed1234abcdULL, base, c, accepted = 0, refused = 0;
	int seq, i;

	(void)state;
	for (seq = 0; seq < 300; seq++) {
		memset(&m, 0, sizeof(m));
		wg_replay_init(&r);
		base = seq % 3 == 0 ? 0 : rnd(&seed) % (WG_REJECT_AFTER_MESSAGES / 2);
		if (seq % 7 == 1)
			base = WG_REJECT_AFTER_MESSAGES - 20000;
		for (i = 0; i < 6000; i++) {
			uint64_t kind = rnd(&seed) % 100, back;

			if (kind < 50) { /* near the front, either side */
				back = rnd(&seed) % 300;
				c = base + rnd(&seed) % 100;
				c = c > back ? c - back : 0;
				base += rnd(&seed) % 4;
			} else if (kind < 80) { /* around the window's edge */
				back = W - 40 + rnd(&seed) % 80;
				c = base > back ? base - back : rnd(&seed) % 64;
			} else if (kind < 90) { /* a replay of something recent */
				c = base > 64 ? base - rnd(&seed) % 64 : base;
			} else if (kind < 97) { /* a jump of up to a few rings */
				base += rnd(&seed) % (3 * WG_REPLAY_BITS);
				c = base;
			} else { /* anywhere, the reject limit included */
				c = rnd(&seed) % 3 == 0 ? WG_REJECT_AFTER_MESSAGES - rnd(&seed) % 4
							: base + rnd(&seed) % 200;
			}
			if (m.greatest > base)
				base = m.greatest;
			bool want = model_accept(&m, c);

			if (wg_replay_accept(&r, c) != want)
				fail_msg("sequence %d step %d: counter %llu, model says %d", seq, i,
					 (unsigned long long)c, want);
			if (want)
				accepted++;
			else
				refused++;
			assert_int_equal(r.greatest, m.greatest);
		}
	}
	/* the sequences exercised both answers plenty */
	assert_true(accepted > 100000);
	assert_true(refused > 100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_and_zero),
		cmocka_unit_test(test_in_order_and_duplicates),
		cmocka_unit_test(test_out_of_order_in_window),
		cmocka_unit_test(test_window_edge),
		cmocka_unit_test(test_jumps),
		cmocka_unit_test(test_reject_limit),
		cmocka_unit_test(test_random_vs_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
