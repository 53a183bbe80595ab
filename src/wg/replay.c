// SPDX-License-Identifier: Apache-2.0
/*
 * The receive side's anti-replay window (RFC 6479, as the kernel's WireGuard
 * keeps it): a ring of WG_REPLAY_BITS bits indexed by counter + 1, of which
 * the word holding the greatest counter is the newest. Moving forward clears
 * the words passed over (at most the whole ring); a counter further behind
 * than WG_REPLAY_WINDOW cannot be told apart from a stale bit any more, so it
 * is refused. The window is one word short of the ring, so the word of the
 * oldest counter still accepted is never the one being reused.
 */
#include "wg/replay.h"

#include <string.h>

enum {
	WORD_BITS = 64,
	WORDS = WG_REPLAY_BITS / WORD_BITS,
};

_Static_assert((WORDS & (WORDS - 1)) == 0, "the ring's word count is a power of two");
_Static_assert(WG_REPLAY_WINDOW == WG_REPLAY_BITS - WORD_BITS, "window is the ring less a word");

void wg_replay_init(struct wg_replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool wg_replay_accept(struct wg_replay *r, uint64_t counter)
{
	uint64_t pos, word, cur, step, i, mask;

	if (counter >= WG_REJECT_AFTER_MESSAGES)
		return false;
	pos = counter + 1; /* cannot wrap: counter is far below UINT64_MAX */
	if (pos + WG_REPLAY_WINDOW < r->greatest)
		return false; /* too old */
	word = pos / WORD_BITS;
	if (pos > r->greatest) {
		cur = r->greatest / WORD_BITS;
		step = word - cur;
		if (step > WORDS)
			step = WORDS;
		for (i = 1; i <= step; i++)
			r->bits[(cur + i) & (WORDS - 1)] = 0;
		r->greatest = pos;
	}
	mask = 1ULL << (pos % WORD_BITS);
	word &= WORDS - 1;
	if (r->bits[word] & mask)
		return false; /* seen */
	r->bits[word] |= mask;
	return true;
}
