// SPDX-License-Identifier: Apache-2.0
/*
 * WireGuard's per-peer timers (whitepaper §6) as the Linux kernel's
 * drivers/net/wireguard/timers.c runs them, but as plain deadlines over a
 * clock the caller passes in. A deadline of 0 is a timer not armed (a
 * "pending" one in the kernel's words); arming never stores 0.
 *
 * The kernel's expiry handlers, and what wg_timers_expire does for each:
 *   retransmit  attempts > max: give up (drop staged packets), stop the
 *               keepalive, arm zero keys if not armed; else count the
 *               attempt and send an initiation (a retry)
 *   keepalive   send one; again in KEEPALIVE_TIMEOUT if data came in
 *               meanwhile (need_another_keepalive)
 *   new hs      send a new (not retry) initiation: the retries count from 0
 *   zero keys   wipe the handshake and every session
 *   persistent  send a keepalive, if still on
 * Sending what they ask for brings the events (any_authenticated_sent,
 * traversal, handshake_initiated) that re-arm or disarm the rest.
 */
#include "wg/timers.h"

#include <string.h>

#include "wg/replay.h"

void wg_timer_consts_default(struct wg_timer_consts *c)
{
	c->rekey_after_ms = WG_REKEY_AFTER_TIME_MS;
	c->reject_after_ms = WG_REJECT_AFTER_TIME_MS;
	c->rekey_timeout_ms = WG_REKEY_TIMEOUT_MS;
	c->keepalive_ms = WG_KEEPALIVE_TIMEOUT_MS;
	c->max_attempts = WG_MAX_HANDSHAKE_ATTEMPTS;
}

static void arm(int64_t *at, int64_t deadline)
{
	*at = deadline != 0 ? deadline : 1;
}

static bool armed(int64_t at)
{
	return at != 0;
}

static bool due(int64_t at, int64_t now)
{
	return armed(at) && at <= now;
}

static unsigned jitter(unsigned jitter_ms)
{
	return jitter_ms <= WG_MAX_JITTER_MS ? jitter_ms : WG_MAX_JITTER_MS;
}

void wg_timers_init(struct wg_timers *t, const struct wg_timer_consts *k, uint32_t persistent_ms)
{
	memset(t, 0, sizeof(*t));
	t->k = k;
	t->persistent_ms = persistent_ms;
}

void wg_timers_set_persistent(struct wg_timers *t, uint32_t persistent_ms, int64_t now)
{
	bool was_off = t->persistent_ms == 0;

	t->persistent_ms = persistent_ms;
	if (persistent_ms == 0)
		t->persistent_at = 0;
	else if (was_off)
		arm(&t->persistent_at, now);
}

void wg_timers_data_sent(struct wg_timers *t, int64_t now, unsigned jitter_ms)
{
	if (!armed(t->new_handshake_at))
		arm(&t->new_handshake_at,
		    now + t->k->keepalive_ms + t->k->rekey_timeout_ms + jitter(jitter_ms));
}

void wg_timers_data_received(struct wg_timers *t, int64_t now)
{
	if (!armed(t->keepalive_at))
		arm(&t->keepalive_at, now + t->k->keepalive_ms);
	else
		t->need_another_keepalive = true;
}

void wg_timers_any_authenticated_sent(struct wg_timers *t, int64_t now)
{
	(void)now;
	t->keepalive_at = 0;
}

void wg_timers_any_authenticated_received(struct wg_timers *t, int64_t now)
{
	(void)now;
	t->new_handshake_at = 0;
}

void wg_timers_any_authenticated_traversal(struct wg_timers *t, int64_t now)
{
	if (t->persistent_ms)
		arm(&t->persistent_at, now + t->persistent_ms);
}

void wg_timers_handshake_queued(struct wg_timers *t)
{
	t->attempts = 0;
}

void wg_timers_handshake_initiated(struct wg_timers *t, int64_t now, unsigned jitter_ms)
{
	arm(&t->retransmit_at, now + t->k->rekey_timeout_ms + jitter(jitter_ms));
}

void wg_timers_handshake_complete(struct wg_timers *t, int64_t now)
{
	(void)now;
	t->retransmit_at = 0;
	t->attempts = 0;
}

void wg_timers_session_derived(struct wg_timers *t, int64_t now)
{
	arm(&t->zero_keys_at, now + 3 * t->k->reject_after_ms);
}

void wg_timers_stop(struct wg_timers *t)
{
	t->retransmit_at = 0;
	t->keepalive_at = 0;
	t->new_handshake_at = 0;
	t->zero_keys_at = 0;
	t->persistent_at = 0;
	t->need_another_keepalive = false;
}

unsigned wg_timers_expire(struct wg_timers *t, int64_t now, unsigned jitter_ms)
{
	unsigned due_now = 0;

	if (due(t->retransmit_at, now)) {
		t->retransmit_at = 0;
		if (t->attempts > t->k->max_attempts) {
			due_now |= WG_TA_GIVE_UP;
			t->keepalive_at = 0;
			if (!armed(t->zero_keys_at))
				arm(&t->zero_keys_at, now + 3 * t->k->reject_after_ms);
		} else {
			t->attempts++;
			due_now |= WG_TA_SEND_INIT;
			wg_timers_handshake_initiated(t, now, jitter_ms);
		}
	}
	if (due(t->keepalive_at, now)) {
		t->keepalive_at = 0;
		due_now |= WG_TA_SEND_KEEPALIVE;
		if (t->need_another_keepalive) {
			t->need_another_keepalive = false;
			arm(&t->keepalive_at, now + t->k->keepalive_ms);
		}
	}
	if (due(t->new_handshake_at, now)) {
		t->new_handshake_at = 0;
		t->attempts = 0;
		due_now |= WG_TA_NEW_HANDSHAKE;
	}
	if (due(t->zero_keys_at, now)) {
		t->zero_keys_at = 0;
		due_now |= WG_TA_ZERO_KEYS;
	}
	if (due(t->persistent_at, now)) {
		t->persistent_at = 0;
		if (t->persistent_ms)
			due_now |= WG_TA_SEND_KEEPALIVE;
	}
	return due_now;
}

int64_t wg_timers_next(const struct wg_timers *t)
{
	const int64_t at[] = {t->retransmit_at, t->keepalive_at, t->new_handshake_at,
			      t->zero_keys_at, t->persistent_at};
	int64_t next = 0;
	size_t i;

	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		if (armed(at[i]) && (next == 0 || at[i] < next))
			next = at[i];
	return next;
}

/* The kernel's wg_birthdate_has_expired: old once birth + age <= now. */
static bool expired(int64_t birth_ms, int64_t age_ms, int64_t now)
{
	return birth_ms + age_ms <= now;
}

bool wg_session_send_ok(const struct wg_timer_consts *k, int64_t birth_ms, uint64_t counter,
			int64_t now)
{
	return !expired(birth_ms, k->reject_after_ms, now) && counter < WG_REJECT_AFTER_MESSAGES;
}

bool wg_session_recv_ok(const struct wg_timer_consts *k, int64_t birth_ms, int64_t now)
{
	return !expired(birth_ms, k->reject_after_ms, now);
}

bool wg_session_rekey_on_send(const struct wg_timer_consts *k, bool initiator, int64_t birth_ms,
			      uint64_t counter, int64_t now)
{
	return counter > WG_REKEY_AFTER_MESSAGES ||
	       (initiator && expired(birth_ms, k->rekey_after_ms, now));
}

bool wg_session_rekey_on_recv(const struct wg_timer_consts *k, bool initiator, int64_t birth_ms,
			      int64_t now)
{
	return initiator &&
	       expired(birth_ms, k->reject_after_ms - k->keepalive_ms - k->rekey_timeout_ms, now);
}
