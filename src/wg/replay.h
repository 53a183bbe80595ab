/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_WG_REPLAY_H
#define WEFT_WG_REPLAY_H

/*
 * The anti-replay window of a receiving session (whitepaper §5.4.6, RFC 6479
 * style, as the kernel's): counters more than WG_REPLAY_WINDOW behind the
 * greatest seen are refused, every counter is accepted at most once, and
 * counters at or beyond WG_REJECT_AFTER_MESSAGES never are. Check only after
 * the packet authenticated. Not thread-safe: one session's receiver owns it.
 */
#include <stdbool.h>
#include <stdint.h>

#define WG_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ULL << 13))
#define WG_REPLAY_BITS 8192			      /* bitmap size */
#define WG_REPLAY_WINDOW (WG_REPLAY_BITS - 64)	      /* counters tolerated behind */

struct wg_replay {
	uint64_t greatest; /* greatest counter accepted + 1; 0 = none yet */
	uint64_t bits[WG_REPLAY_BITS / 64];
};

void wg_replay_init(struct wg_replay *r);
/* Accept counter (true, and remember it) or refuse it (false). */
bool wg_replay_accept(struct wg_replay *r, uint64_t counter);

#endif
