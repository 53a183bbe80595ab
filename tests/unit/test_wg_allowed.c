// SPDX-License-Identifier: Apache-2.0
/* wg/allowed: cryptokey routing's longest-prefix match, both families. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "wg/allowed.h"

static int P1, P2, P3, P4; /* peers: only their addresses matter */

static struct wg_allowed_entry e4(const char *a, unsigned cidr, void *peer)
{
	struct wg_allowed_entry e = {.ip = {.family = AF_INET, .cidr = (uint8_t)cidr}, .peer = peer};

	assert_int_equal(inet_pton(AF_INET, a, &e.ip.addr.v4), 1);
	return e;
}

static struct wg_allowed_entry e6(const char *a, unsigned cidr, void *peer)
{
	struct wg_allowed_entry e = {.ip = {.family = AF_INET6, .cidr = (uint8_t)cidr}, .peer = peer};

	assert_int_equal(inet_pton(AF_INET6, a, &e.ip.addr.v6), 1);
	return e;
}

static void *look(const struct wg_allowed_table *t, const char *a)
{
	uint8_t b[16];
	int fam = strchr(a, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(fam, a, b), 1);
	return wg_allowed_lookup(t, fam, b);
}

static void test_v4(void **state)
{
	struct wg_allowed_entry e[] = {
		e4("10.244.1.0", 24, &P1), e4("10.244.2.7", 24, &P2), /* host bits ignored */
		e4("10.244.0.0", 16, &P3), e4("10.244.2.128", 25, &P4),
	};
	struct wg_allowed_table *t = wg_allowed_build(e, 4);

	(void)state;
	assert_ptr_equal(look(t, "10.244.1.5"), &P1);
	assert_ptr_equal(look(t, "10.244.2.5"), &P2);
	assert_ptr_equal(look(t, "10.244.2.200"), &P4); /* the longer prefix */
	assert_ptr_equal(look(t, "10.244.99.1"), &P3);
	assert_null(look(t, "10.245.0.1"));
	assert_null(look(t, "fd00::1")); /* no IPv6 entries */
	wg_allowed_free(t);
}

static void test_v6_and_boundaries(void **state)
{
	struct wg_allowed_entry e[] = {
		e6("fd10:244:0:5::", 64, &P1), e6("fd10:244::", 56, &P2),
		e6("fd10:244:0:5::42", 128, &P3), e4("0.0.0.0", 0, &P4),
	};
	struct wg_allowed_table *t = wg_allowed_build(e, 4);

	(void)state;
	/* /64 exactly: the low half ignored, the high half compared. */
	assert_ptr_equal(look(t, "fd10:244:0:5:ffff:ffff:ffff:ffff"), &P1);
	assert_ptr_equal(look(t, "fd10:244:0:5::42"), &P3);
	assert_ptr_equal(look(t, "fd10:244:0:6::1"), &P2);
	assert_null(look(t, "fd10:245::1"));
	assert_ptr_equal(look(t, "192.0.2.1"), &P4); /* /0 matches every IPv4 */
	wg_allowed_free(t);
}

static void test_later_wins(void **state)
{
	struct wg_allowed_entry e[] = {e4("10.1.0.0", 16, &P1), e4("10.1.0.0", 16, &P2)};
	struct wg_allowed_table *t = wg_allowed_build(e, 2), *empty = wg_allowed_build(NULL, 0);

	(void)state;
	assert_ptr_equal(look(t, "10.1.2.3"), &P2);
	assert_null(look(empty, "10.1.2.3"));
	assert_null(wg_allowed_lookup(NULL, AF_INET, (const uint8_t *)"\x0a\x01\x02\x03"));
	wg_allowed_free(t);
	wg_allowed_free(empty);
}

/* Against a linear scan over random tables. */
static void test_model(void **state)
{
	enum { N = 200, Q = 5000 };
	struct wg_allowed_entry *e = calloc(N, sizeof(*e));
	int peers[N];

	(void)state;
	srand(7);
	for (int round = 0; round < 20; round++) {
		struct wg_allowed_table *t;

		for (int i = 0; i < N; i++) {
			uint32_t a = htonl(0x0a000000u | ((uint32_t)rand() & 0xffffff));

			e[i].ip.family = AF_INET;
			e[i].ip.cidr = (uint8_t)(8 + rand() % 25);
			memcpy(&e[i].ip.addr.v4, &a, 4);
			e[i].peer = &peers[i];
		}
		t = wg_allowed_build(e, N);
		for (int q = 0; q < Q; q++) {
			uint32_t a = htonl(0x0a000000u | ((uint32_t)rand() & 0xffffff));
			void *want = NULL;
			int best_len = -1;

			for (int i = 0; i < N; i++) {
				uint32_t m = e[i].ip.cidr ? ~0u << (32 - e[i].ip.cidr) : 0, n;

				memcpy(&n, &e[i].ip.addr.v4, 4);
				/* Longest wins; on equal prefixes the later entry. */
				if ((ntohl(a) & m) == (ntohl(n) & m) && e[i].ip.cidr >= best_len) {
					best_len = e[i].ip.cidr;
					want = e[i].peer;
				}
			}
			assert_ptr_equal(wg_allowed_lookup(t, AF_INET, (const uint8_t *)&a), want);
		}
		wg_allowed_free(t);
	}
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4),
		cmocka_unit_test(test_v6_and_boundaries),
		cmocka_unit_test(test_later_wins),
		cmocka_unit_test(test_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
