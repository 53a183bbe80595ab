// SPDX-License-Identifier: Apache-2.0
/* wg/timers: the per-peer timers as the kernel's timers.c runs them, on a
 * fake clock (plain milliseconds), and the session-age rules of its send.c
 * and receive.c at their boundaries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>

#include "wg/replay.h"
#include "wg/timers.h"

static const int64_t T0 = 1000000; /* the fake clock's start */

static void test_defaults(void **state)
{
	struct wg_timer_consts k;
	struct wg_timers t;

	(void)state;
	wg_timer_consts_default(&k);
	assert_int_equal(k.rekey_after_ms, 120000);
	assert_int_equal(k.reject_after_ms, 180000);
	assert_int_equal(k.rekey_timeout_ms, 5000);
	assert_int_equal(k.keepalive_ms, 10000);
	assert_int_equal(k.max_attempts, 18); /* REKEY_ATTEMPT_TIME / REKEY_TIMEOUT */
	wg_timers_init(&t, &k, 0);
	assert_int_equal(wg_timers_next(&t), 0);
	assert_int_equal(wg_timers_expire(&t, T0, 0), 0);
	assert_int_equal(wg_timers_expire(&t, INT64_MAX, 0), 0);
	/* with no persistent keepalive, traffic arms nothing of its own */
	wg_timers_any_authenticated_traversal(&t, T0);
	wg_timers_any_authenticated_sent(&t, T0);
	wg_timers_any_authenticated_received(&t, T0);
	assert_int_equal(wg_timers_next(&t), 0);
}

static void test_new_handshake(void **state)
{
	struct wg_timer_consts k;
	struct wg_timers t;

	(void)state;
	wg_timer_consts_default(&k);
	wg_timers_init(&t, &k, 0);
	/* data sent, nothing back: KEEPALIVE + REKEY_TIMEOUT + jitter */
	wg_timers_data_sent(&t, T0, 100);
	assert_int_equal(t.new_handshake_at, T0 + 15100);
	assert_int_equal(wg_timers_next(&t), T0 + 15100);
	/* more data does not push it back while it is pending */
	wg_timers_data_sent(&t, T0 + 5000, 0);
	assert_int_equal(t.new_handshake_at, T0 + 15100);
	assert_int_equal(wg_timers_expire(&t, T0 + 15099, 0), 0);
	t.attempts = 7;
	assert_int_equal(wg_timers_expire(&t, T0 + 15100, 0), WG_TA_NEW_HANDSHAKE);
	assert_int_equal(t.attempts, 0); /* a new handshake, not a retry */
	assert_int_equal(wg_timers_next(&t), 0);
	assert_int_equal(wg_timers_expire(&t, T0 + 20000, 0), 0);
	/* anything authenticated back disarms it, and then data arms it anew */
	wg_timers_data_sent(&t, T0 + 20000, 0);
	wg_timers_any_authenticated_received(&t, T0 + 20001);
	assert_int_equal(wg_timers_next(&t), 0);
	assert_int_equal(wg_timers_expire(&t, T0 + 40000, 0), 0);
	wg_timers_data_sent(&t, T0 + 40000, 333);
	assert_int_equal(wg_timers_next(&t), T0 + 40000 + 15333);
	/* the jitter is bounded */
	wg_timers_any_authenticated_received(&t, T0 + 40000);
	wg_timers_data_sent(&t, T0 + 50000, 5000);
	assert_int_equal(wg_timers_next(&t), T0 + 50000 + 15000 + WG_MAX_JITTER_MS);
}

static void test_keepalive(void **state)
{
	struct wg_timer_consts k;
	struct wg_timers t;

	(void)state;
	wg_timer_consts_default(&k);
	wg_timers_init(&t, &k, 0);
	/* data received, nothing sent back: keepalive after KEEPALIVE_TIMEOUT */
	wg_timers_data_received(&t, T0);
	assert_int_equal(wg_timers_next(&t), T0 + 10000);
	assert_false(t.need_another_keepalive);
	assert_int_equal(wg_timers_expire(&t, T0 + 9999, 0), 0);
	assert_int_equal(wg_timers_expire(&t, T0 + 10000, 0), WG_TA_SEND_KEEPALIVE);
	assert_int_equal(wg_timers_next(&t), 0);
	/* more data while pending: not pushed back, but one more keepalive after */
	wg_timers_data_received(&t, T0 + 20000);
	wg_timers_data_received(&t, T0 + 25000);
	assert_true(t.need_another_keepalive);
	assert_int_equal(wg_timers_next(&t), T0 + 30000);
	assert_int_equal(wg_timers_expire(&t, T0 + 30000, 0), WG_TA_SEND_KEEPALIVE);
	assert_false(t.need_another_keepalive);
	assert_int_equal(wg_timers_next(&t), T0 + 40000);
	assert_int_equal(wg_timers_expire(&t, T0 + 40000, 0), WG_TA_SEND_KEEPALIVE);
	assert_int_equal(wg_timers_next(&t), 0);
	/* late expiry: re-armed from when it ran, not from when it was due */
	wg_timers_data_received(&t, T0 + 50000);
	wg_timers_data_received(&t, T0 + 50001);
	assert_int_equal(wg_timers_expire(&t, T0 + 65000, 0), WG_TA_SEND_KEEPALIVE);
	assert_int_equal(wg_timers_next(&t), T0 + 75000);
	/* anything authenticated sent disarms it */
	wg_timers_any_authenticated_sent(&t, T0 + 70000);
	assert_int_equal(wg_timers_next(&t), 0);
	assert_int_equal(wg_timers_expire(&t, T0 + 90000, 0), 0);
	wg_timers_data_received(&t, T0 + 90000);
	wg_timers_any_authenticated_sent(&t, T0 + 90001);
	assert_int_equal(wg_timers_expire(&t, T0 + 100000, 0), 0);
}

/* Drive retransmits to the end, the caller sending each initiation asked
 * for (and saying so); count the initiations. */
static unsigned retransmit_until_give_up(struct wg_timers *t, int64_t *now, unsigned jitter)
{
	unsigned inits = 0, got;
	int64_t was;

	for (;;) {
		was = wg_timers_next(t);
		assert_true(was > *now);
		*now = was;
		assert_int_equal(wg_timers_expire(t, *now - 1, jitter), 0);
		got = wg_timers_expire(t, *now, jitter);
		if (got & WG_TA_GIVE_UP) {
			assert_int_equal(got & WG_TA_SEND_INIT, 0);
			return inits;
		}
		assert_true(got & WG_TA_SEND_INIT);
		inits++;
		assert_true(inits < 1000);
		assert_int_equal(t->retransmit_at, *now + t->k->rekey_timeout_ms + jitter);
		wg_timers_any_authenticated_traversal(t, *now);
		wg_timers_any_authenticated_sent(t, *now);
		wg_timers_handshake_initiated(t, *now, jitter);
	}
}

static void test_retransmit_give_up(void **state)
{
	struct wg_timer_consts k;
	struct wg_timers t;
	int64_t now = T0;
	unsigned retries;

	(void)state;
	wg_timer_consts_default(&k);
	wg_timers_init(&t, &k, 0);
	/* the first initiation: not a retry */
	wg_timers_handshake_queued(&t);
	wg_timers_handshake_initiated(&t, now, 200);
	assert_int_equal(wg_timers_next(&t), T0 + 5200);
	assert_int_equal(wg_timers_expire(&t, T0 + 5199, 200), 0);
	assert_int_equal(wg_timers_expire(&t, T0 + 5200, 200), WG_TA_SEND_INIT);
	assert_int_equal(t.attempts, 1);
	now = T0 + 5200;
	wg_timers_handshake_initiated(&t, now, 200);
	retries = retransmit_until_give_up(&t, &now, 200);
	/* retried while attempts <= MAX: MAX + 1 retries (and the first), as the
	 * kernel's "after MAX_TIMER_HANDSHAKES + 2 attempts, giving up" */
	assert_int_equal(1 + retries, WG_MAX_HANDSHAKE_ATTEMPTS + 1);
	assert_int_equal(t.attempts, WG_MAX_HANDSHAKE_ATTEMPTS + 1);
	assert_int_equal(now, T0 + (int64_t)(WG_MAX_HANDSHAKE_ATTEMPTS + 2) * 5200);
	assert_int_equal(t.retransmit_at, 0);
	/* a zero-keys deadline for what a half handshake left */
	assert_int_equal(t.zero_keys_at, now + 3 * 180000);
	assert_int_equal(wg_timers_next(&t), now + 3 * 180000);
	assert_int_equal(wg_timers_expire(&t, now + 3 * 180000, 0), WG_TA_ZERO_KEYS);
	assert_int_equal(wg_timers_next(&t), 0);
}

static void test_give_up_keeps_zero_keys(void **state)
{
	struct wg_timer_consts k;
	struct wg_timers t;
	int64_t now = T0;

	(void)state;
	wg_timer_consts_default(&k);
	k.max_attempts = 2;
	k.rekey_timeout_ms = 100;
	wg_timers_init(&t, &k, 0);
	/* a session derived earlier: its zero-keys deadline stays as it is */
	wg_timers_session_derived(&t, T0);
	wg_timers_handshake_queued(&t);
	wg_timers_handshake_initiated(&t, now, 0);
	assert_int_equal(retransmit_until_give_up(&t, &now, 0), 3);
	assert_int_equal(t.attempts, 3);
	assert_int_equal(now, T0 + 400);
	assert_int_equal(t.zero_keys_at, T0 + 540000);
	/* giving up again needs a new handshake: the retries count from 0 */
	now = T0 + 1000;
	wg_timers_handshake_queued(&t);
	wg_timers_handshake_initiated(&t, now, 0);
	assert_int_equal(retransmit_until_give_up(&t, &now, 0), 3);
	/* giving up stops a pending keepalive (data came in, nothing sent since) */
	k.max_attempts = 0;
	now = T0 + 2000;
	wg_timers_handshake_queued(&t);
	wg_timers_handshake_initiated(&t, now, 0);
	assert_int_equal(wg_timers_expire(&t, now + 100, 0), WG_TA_SEND_INIT);
	wg_timers_data_received(&t, now + 150);
	assert_int_equal(t.keepalive_at, now + 150 + 10000);
	assert_int_equal(wg_timers_expire(&t, now + 200, 0), WG_TA_GIVE_UP);
	assert_int_equal(t.keepalive_at, 0);
	assert_int_equal(t.attempts, 1);
	assert_int_equal(t.zero_keys_at, T0 + 540000);
}

static void test_retransmit_complete_and_requeue(void **state)
{
	struct wg_timer_consts k;
	struct wg_timers t;
	int64_t now = T0;
	unsigned i;

	(void)state;
	wg_timer_consts_default(&k);
	k.max_attempts = 3;
	wg_timers_init(&t, &k, 0);
	wg_timers_handshake_queued(&t);
	wg_timers_handshake_initiated(&t, now, 10);
	now += 5010;
	assert_int_equal(wg_timers_expire(&t, now, 0), WG_TA_SEND_INIT);
	assert_int_equal(t.attempts, 1);
	/* a caller that sends the retry late still gets REKEY_TIMEOUT + jitter from then */
	wg_timers_handshake_initiated(&t, now + 3, 7);
	assert_int_equal(wg_timers_next(&t), now + 3 + 5007);
	/* the response: retransmit off, count reset */
	wg_timers_handshake_complete(&t, now + 100);
	assert_int_equal(t.attempts, 0);
	assert_int_equal(wg_timers_next(&t), 0);
	assert_int_equal(wg_timers_expire(&t, now + 100000, 0), 0);
	/* data keeps asking for a handshake while the peer is away: each new
	 * request restarts the count (the kernel's is_retry false), so it never
	 * gives up while traffic lasts */
	now += 200000;
	wg_timers_handshake_queued(&t);
	wg_timers_handshake_initiated(&t, now, 0);
	for (i = 0; i < 10; i++) {
		now += 5000;
		assert_int_equal(wg_timers_expire(&t, now, 0), WG_TA_SEND_INIT);
		wg_timers_handshake_initiated(&t, now, 0);
		wg_timers_handshake_queued(&t);
	}
	/* without it, MAX + 1 retries and then the end */
	for (i = 0; i < 4; i++) {
		now += 5000;
		assert_int_equal(wg_timers_expire(&t, now, 0), WG_TA_SEND_INIT);
	}
	now += 5000;
	assert_int_equal(wg_timers_expire(&t, now, 0), WG_TA_GIVE_UP);
	assert_int_equal(wg_timers_next(&t), now + 540000);
}

static void test_zero_keys(void **state)
{
	struct wg_timer_consts k;
	struct wg_timers t;

	(void)state;
	wg_timer_consts_default(&k);
	wg_timers_init(&t, &k, 0);
	wg_timers_session_derived(&t, T0);
	assert_int_equal(wg_timers_next(&t), T0 + 540000);
	/* every new session pushes it back */
	wg_timers_session_derived(&t, T0 + 120000);
	assert_int_equal(wg_timers_next(&t), T0 + 660000);
	assert_int_equal(wg_timers_expire(&t, T0 + 659999, 0), 0);
	assert_int_equal(wg_timers_expire(&t, T0 + 660000, 0), WG_TA_ZERO_KEYS);
	assert_int_equal(wg_timers_next(&t), 0);
	/* shortened constants */
	k.reject_after_ms = 1000;
	wg_timers_session_derived(&t, T0);
	assert_int_equal(wg_timers_next(&t), T0 + 3000);
}

static void test_persistent(void **state)
{
	struct wg_timer_consts k;
	struct wg_timers t;

	(void)state;
	wg_timer_consts_default(&k);
	wg_timers_init(&t, &k, 25000);
	assert_int_equal(wg_timers_next(&t), 0);
	/* every authenticated packet either way pushes it back */
	wg_timers_any_authenticated_traversal(&t, T0);
	assert_int_equal(wg_timers_next(&t), T0 + 25000);
	wg_timers_any_authenticated_traversal(&t, T0 + 10000);
	assert_int_equal(wg_timers_next(&t), T0 + 35000);
	assert_int_equal(wg_timers_expire(&t, T0 + 34999, 0), 0);
	assert_int_equal(wg_timers_expire(&t, T0 + 35000, 0), WG_TA_SEND_KEEPALIVE);
	assert_int_equal(wg_timers_next(&t), 0);
	/* sending that keepalive re-arms it */
	wg_timers_any_authenticated_traversal(&t, T0 + 35000);
	wg_timers_any_authenticated_sent(&t, T0 + 35000);
	assert_int_equal(wg_timers_next(&t), T0 + 60000);
	/* another interval: the pending deadline stays, the next packet uses it */
	wg_timers_set_persistent(&t, 5000, T0 + 40000);
	assert_int_equal(wg_timers_next(&t), T0 + 60000);
	wg_timers_any_authenticated_traversal(&t, T0 + 41000);
	assert_int_equal(wg_timers_next(&t), T0 + 46000);
	/* off: disarmed, and traffic no longer arms it */
	wg_timers_set_persistent(&t, 0, T0 + 42000);
	assert_int_equal(wg_timers_next(&t), 0);
	wg_timers_any_authenticated_traversal(&t, T0 + 43000);
	assert_int_equal(wg_timers_next(&t), 0);
	assert_int_equal(wg_timers_expire(&t, T0 + 100000, 0), 0);
	/* off to on: a keepalive due at once */
	wg_timers_set_persistent(&t, 15000, T0 + 200000);
	assert_int_equal(wg_timers_next(&t), T0 + 200000);
	assert_int_equal(wg_timers_expire(&t, T0 + 200000, 0), WG_TA_SEND_KEEPALIVE);
	wg_timers_any_authenticated_traversal(&t, T0 + 200000);
	assert_int_equal(wg_timers_next(&t), T0 + 215000);
	/* a deadline is never 0, which means none */
	wg_timers_init(&t, &k, 0);
	wg_timers_set_persistent(&t, 1000, 0);
	assert_int_equal(wg_timers_next(&t), 1);
}

static void test_next_and_stop(void **state)
{
	struct wg_timer_consts k;
	struct wg_timers t;

	(void)state;
	wg_timer_consts_default(&k);
	wg_timers_init(&t, &k, 25000);
	wg_timers_session_derived(&t, T0); /* T0 + 540000 */
	assert_int_equal(wg_timers_next(&t), T0 + 540000);
	wg_timers_any_authenticated_traversal(&t, T0); /* T0 + 25000 */
	assert_int_equal(wg_timers_next(&t), T0 + 25000);
	wg_timers_data_sent(&t, T0, 0); /* T0 + 15000 */
	assert_int_equal(wg_timers_next(&t), T0 + 15000);
	wg_timers_data_received(&t, T0); /* T0 + 10000 */
	assert_int_equal(wg_timers_next(&t), T0 + 10000);
	wg_timers_handshake_initiated(&t, T0, 1); /* T0 + 5001 */
	assert_int_equal(wg_timers_next(&t), T0 + 5001);
	/* several due at one time: all said at once */
	assert_int_equal(wg_timers_expire(&t, T0 + 15000, 0),
			 WG_TA_SEND_INIT | WG_TA_SEND_KEEPALIVE | WG_TA_NEW_HANDSHAKE);
	assert_int_equal(wg_timers_next(&t), T0 + 20000); /* the retransmit, re-armed */
	wg_timers_handshake_complete(&t, T0 + 15000);
	assert_int_equal(wg_timers_next(&t), T0 + 25000);
	wg_timers_stop(&t);
	assert_int_equal(wg_timers_next(&t), 0);
	assert_int_equal(wg_timers_expire(&t, INT64_MAX, 0), 0);
}

static void test_session_age(void **state)
{
	struct wg_timer_consts k;
	const int64_t b = T0;

	(void)state;
	wg_timer_consts_default(&k);
	/* sending: younger than REJECT_AFTER_TIME, counter below REJECT_AFTER_MESSAGES */
	assert_true(wg_session_send_ok(&k, b, 0, b));
	assert_true(wg_session_send_ok(&k, b, 0, b + 179999));
	assert_false(wg_session_send_ok(&k, b, 0, b + 180000));
	assert_true(wg_session_send_ok(&k, b, WG_REJECT_AFTER_MESSAGES - 1, b));
	assert_false(wg_session_send_ok(&k, b, WG_REJECT_AFTER_MESSAGES, b));
	assert_false(wg_session_send_ok(&k, b, UINT64_MAX, b));
	/* receiving: the same age */
	assert_true(wg_session_recv_ok(&k, b, b + 179999));
	assert_false(wg_session_recv_ok(&k, b, b + 180000));
	/* rekey on send: past REKEY_AFTER_MESSAGES either side */
	assert_false(wg_session_rekey_on_send(&k, false, b, WG_REKEY_AFTER_MESSAGES, b));
	assert_true(wg_session_rekey_on_send(&k, false, b, WG_REKEY_AFTER_MESSAGES + 1, b));
	assert_true(wg_session_rekey_on_send(&k, true, b, WG_REKEY_AFTER_MESSAGES + 1, b));
	/* ... or REKEY_AFTER_TIME old, for the initiator only */
	assert_false(wg_session_rekey_on_send(&k, true, b, 5, b + 119999));
	assert_true(wg_session_rekey_on_send(&k, true, b, 5, b + 120000));
	assert_false(wg_session_rekey_on_send(&k, false, b, 5, b + 120000));
	assert_false(wg_session_rekey_on_send(&k, false, b, 5, b + 1000000));
	/* rekey on receive: the initiator, REJECT - KEEPALIVE - REKEY_TIMEOUT old */
	assert_false(wg_session_rekey_on_recv(&k, true, b, b + 164999));
	assert_true(wg_session_rekey_on_recv(&k, true, b, b + 165000));
	assert_false(wg_session_rekey_on_recv(&k, false, b, b + 165000));
	assert_false(wg_session_rekey_on_recv(&k, false, b, b + 1000000));
	/* shortened constants move every boundary */
	k.rekey_after_ms = 2000;
	k.reject_after_ms = 3000;
	k.keepalive_ms = 1000;
	k.rekey_timeout_ms = 500;
	assert_true(wg_session_send_ok(&k, b, 0, b + 2999));
	assert_false(wg_session_send_ok(&k, b, 0, b + 3000));
	assert_false(wg_session_recv_ok(&k, b, b + 3000));
	assert_false(wg_session_rekey_on_send(&k, true, b, 0, b + 1999));
	assert_true(wg_session_rekey_on_send(&k, true, b, 0, b + 2000));
	assert_false(wg_session_rekey_on_recv(&k, true, b, b + 1499));
	assert_true(wg_session_rekey_on_recv(&k, true, b, b + 1500));
}

static void test_short_consts(void **state)
{
	struct wg_timer_consts k = {
		.rekey_after_ms = 2000,
		.reject_after_ms = 3000,
		.rekey_timeout_ms = 200,
		.keepalive_ms = 500,
		.max_attempts = 1,
	};
	struct wg_timers t;
	int64_t now = T0;

	(void)state;
	wg_timers_init(&t, &k, 0);
	wg_timers_data_sent(&t, now, 3);
	assert_int_equal(wg_timers_next(&t), now + 703);
	wg_timers_data_received(&t, now);
	assert_int_equal(wg_timers_next(&t), now + 500);
	wg_timers_session_derived(&t, now);
	assert_int_equal(t.zero_keys_at, now + 9000);
	wg_timers_stop(&t);
	wg_timers_handshake_queued(&t);
	wg_timers_handshake_initiated(&t, now, 0);
	assert_int_equal(retransmit_until_give_up(&t, &now, 0), 2);
	assert_int_equal(now, T0 + 600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_new_handshake),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_retransmit_give_up),
		cmocka_unit_test(test_give_up_keeps_zero_keys),
		cmocka_unit_test(test_retransmit_complete_and_requeue),
		cmocka_unit_test(test_zero_keys),
		cmocka_unit_test(test_persistent),
		cmocka_unit_test(test_next_and_stop),
		cmocka_unit_test(test_session_age),
		cmocka_unit_test(test_short_consts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
