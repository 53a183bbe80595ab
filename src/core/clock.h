/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_CLOCK_H
#define WEFT_CORE_CLOCK_H

/*
 * CLOCK_MONOTONIC, for deadlines and durations. Header-only, so that what
 * needs a clock (core/proc, linked into the CNI plugin too) does not pull in
 * the event loop.
 */
#include <stdint.h>
#include <time.h>

#define CLOCK_NS_PER_MS 1000000LL

static inline int64_t clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* In ms. */
static inline int64_t clock_now_ms(void)
{
	return clock_now_ns() / CLOCK_NS_PER_MS;
}

/* In microseconds (for measuring how long work took). */
static inline int64_t clock_now_us(void)
{
	return clock_now_ns() / 1000;
}

#endif
