/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_TESTS_NETNS_KERNEL_CHECK_H
#define WEFT_TESTS_NETNS_KERNEL_CHECK_H

/*
 * Helpers of the C programs that check src/nl against the real kernel
 * (nl_kernel_test.c, xfrm_kernel_test.c): addresses from text, iproute2's
 * view of the kernel, and assertions on it. Include after cmocka.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../lib/ip_check.h"

/* Output of a shell command (iproute2), NUL-terminated; valid until the
 * next call. */
static inline const char *sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *sh(const char *fmt, ...)
{
	static char out[1 << 20];
	char cmd[512];
	size_t len = 0, n;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		fail_msg("popen %s", cmd);
	while (len < sizeof(out) - 1 && (n = fread(out + len, 1, sizeof(out) - 1 - len, f)) > 0)
		len += n;
	out[len] = '\0';
	pclose(f);
	return out;
}

#define assert_contains(hay, needle)                                                      \
	do {                                                                              \
		const char *h_ = (hay), *n_ = (needle);                                   \
		if (!strstr(h_, n_))                                                      \
			fail_msg("expected \"%s\" in:\n%s", n_, h_);                     \
	} while (0)

#define assert_lacks(hay, needle)                                                         \
	do {                                                                              \
		const char *h_ = (hay), *n_ = (needle);                                   \
		if (strstr(h_, n_))                                                       \
			fail_msg("did not expect \"%s\" in:\n%s", n_, h_);               \
	} while (0)

#endif
