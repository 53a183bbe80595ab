/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_TESTS_LIB_IP_CHECK_H
#define WEFT_TESTS_LIB_IP_CHECK_H

/* Addresses and prefixes from text for C tests, failing the test on bad
 * text. Include after cmocka.h. */
#include "core/ipnet.h"

static inline struct ip_addr addr(const char *s)
{
	struct ip_addr a;

	if (ip_addr_parse(s, &a) < 0)
		fail_msg("bad address %s", s);
	return a;
}

static inline struct ip_prefix prefix(const char *s)
{
	struct ip_prefix p;

	if (ip_prefix_parse(s, &p) < 0)
		fail_msg("bad prefix %s", s);
	return p;
}

#endif
