/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_WG_TIMERS_H
#define WEFT_WG_TIMERS_H

/*
 * The protocol's timers (whitepaper §6), per peer, as pure state over a
 * clock the caller passes in (milliseconds, monotonic): events arm and
 * disarm deadlines, wg_timers_expire() says what is due, as the kernel's
 * timers do:
 *
 *   retransmit  handshake initiated, no response: retry after REKEY_TIMEOUT
 *               plus jitter, give up after REKEY_ATTEMPT_TIME
 *   keepalive   data received and nothing sent back for KEEPALIVE_TIMEOUT
 *   new hs      data sent and nothing received for KEEPALIVE + REKEY_TIMEOUT
 *   zero keys   no new session for 3 x REJECT_AFTER_TIME: wipe every key
 *   persistent  nothing sent for PersistentKeepalive seconds
 *
 * and the session-age rules (rekey and reject after time or messages). No
 * I/O, no locks: the caller serialises access to one peer.
 */
#include <stdbool.h>
#include <stdint.h>

#define WG_REKEY_AFTER_MESSAGES (1ULL << 60)
#define WG_REKEY_AFTER_TIME_MS 120000
#define WG_REJECT_AFTER_TIME_MS 180000
#define WG_REKEY_ATTEMPT_TIME_MS 90000
#define WG_REKEY_TIMEOUT_MS 5000
#define WG_KEEPALIVE_TIMEOUT_MS 10000
#define WG_MAX_JITTER_MS 333
#define WG_MAX_HANDSHAKE_ATTEMPTS (WG_REKEY_ATTEMPT_TIME_MS / WG_REKEY_TIMEOUT_MS)

/* The constants a peer's timers use: the defaults above, or shorter ones
 * in tests (a rekey within seconds; see wg_timer_consts_default). */
struct wg_timer_consts {
	int64_t rekey_after_ms, reject_after_ms, rekey_timeout_ms, keepalive_ms;
	unsigned max_attempts;
};
void wg_timer_consts_default(struct wg_timer_consts *c);

enum wg_timer_action {
	WG_TA_SEND_INIT = 1U << 0,     /* retransmit: send a new initiation */
	WG_TA_GIVE_UP = 1U << 1,       /* retransmit: attempts exhausted, drop staged packets */
	WG_TA_SEND_KEEPALIVE = 1U << 2, /* keepalive or persistent keepalive due */
	WG_TA_NEW_HANDSHAKE = 1U << 3, /* no answer to our data: initiate */
	WG_TA_ZERO_KEYS = 1U << 4,     /* wipe sessions and handshake */
};

struct wg_timers {
	const struct wg_timer_consts *k;
	int64_t retransmit_at, keepalive_at, new_handshake_at, zero_keys_at, persistent_at;
	unsigned attempts;
	bool need_another_keepalive;
	uint32_t persistent_ms; /* 0 = off */
};

void wg_timers_init(struct wg_timers *t, const struct wg_timer_consts *k, uint32_t persistent_ms);
/* Off to on makes a keepalive due at now (the kernel sends one at once);
 * 0 turns it off. */
void wg_timers_set_persistent(struct wg_timers *t, uint32_t persistent_ms, int64_t now);

/* Events, named after the kernel's hooks. jitter_ms in [0, WG_MAX_JITTER_MS]. */
void wg_timers_data_sent(struct wg_timers *t, int64_t now, unsigned jitter_ms);
void wg_timers_data_received(struct wg_timers *t, int64_t now);
void wg_timers_any_authenticated_sent(struct wg_timers *t, int64_t now);
void wg_timers_any_authenticated_received(struct wg_timers *t, int64_t now);
void wg_timers_any_authenticated_traversal(struct wg_timers *t, int64_t now);
/* A new handshake asked for (not a retry: data with no session, a rekey, a
 * NEW_HANDSHAKE): the count of retries starts again, as the kernel's
 * wg_packet_send_queued_handshake_initiation(peer, false) does, rate-limited
 * or not. Retries (SEND_INIT) are counted by wg_timers_expire. */
void wg_timers_handshake_queued(struct wg_timers *t);
/* Any initiation sent, retries too: retransmit armed anew. */
void wg_timers_handshake_initiated(struct wg_timers *t, int64_t now, unsigned jitter_ms);
void wg_timers_handshake_complete(struct wg_timers *t, int64_t now);
void wg_timers_session_derived(struct wg_timers *t, int64_t now);
/* A peer removed, or the device going down: disarm everything. */
void wg_timers_stop(struct wg_timers *t);

/* What is due at now (WG_TA_* bits); deadlines that fired are re-armed or
 * disarmed as the kernel does. A retransmit that fires gives SEND_INIT
 * (attempts counted, retransmit re-armed with jitter_ms as sending the
 * initiation would) or, past the limit, GIVE_UP. */
unsigned wg_timers_expire(struct wg_timers *t, int64_t now, unsigned jitter_ms);
/* The earliest armed deadline, or 0 when none. */
int64_t wg_timers_next(const struct wg_timers *t);

/* Session-age rules for the current sending session (birth_ms when derived,
 * counter the next to send). */
/* May it still send? (younger than REJECT_AFTER_TIME, counter below
 * REJECT_AFTER_MESSAGES) */
bool wg_session_send_ok(const struct wg_timer_consts *k, int64_t birth_ms, uint64_t counter,
			int64_t now);
/* May it still receive? (younger than REJECT_AFTER_TIME) */
bool wg_session_recv_ok(const struct wg_timer_consts *k, int64_t birth_ms, int64_t now);
/* Sending on it: start a new handshake? (REKEY_AFTER_MESSAGES, or we
 * initiated it and it is older than REKEY_AFTER_TIME) */
bool wg_session_rekey_on_send(const struct wg_timer_consts *k, bool initiator, int64_t birth_ms,
			      uint64_t counter, int64_t now);
/* Receiving on it: start a new handshake? (we initiated it and it is older
 * than REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT) */
bool wg_session_rekey_on_recv(const struct wg_timer_consts *k, bool initiator, int64_t birth_ms,
			      int64_t now);

#endif
