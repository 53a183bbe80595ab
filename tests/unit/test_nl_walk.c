// SPDX-License-Identifier: Apache-2.0
/*
 * Walking received netlink messages (nl/build.h nl_msg_ok/nl_msg_next):
 * lengths of 2^31 and more, which libmnl's mnl_nlmsg_ok() lets through, end
 * the walk (found by fuzz_nl_reply: 0xffffffff looped forever).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <linux/netlink.h>
#include <string.h>

#include "nl/build.h"

static size_t walk(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	size_t n = 0;

	for (; nl_msg_ok(nlh, len) && n < 100; nlh = nl_msg_next(nlh, &len))
		n++;
	return n;
}

static void test_walk(void **state)
{
	uint32_t buf[64] = { 0 };
	struct nlmsghdr *a = (struct nlmsghdr *)buf, *b = (struct nlmsghdr *)(buf + 5);

	(void)state;
	/* Two messages: 18 bytes (padded to 20) and 16 bytes, the second
	 * without padding at the end of the datagram. */
	a->nlmsg_len = 18;
	b->nlmsg_len = 16;
	assert_int_equal(walk(buf, 36), 2);
	assert_int_equal(walk(buf, 35), 1); /* the second one is cut */
	assert_int_equal(walk(buf, 15), 0);
	static const uint32_t bad[] = { 0x80000000u, 0x80000001u, 0xbfffffffu, 0xfffffffcu,
					0xfffffffdu, 0xffffffffu };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b->nlmsg_len = bad[i];
		assert_int_equal(walk(buf, sizeof(buf)), 1);
		a->nlmsg_len = bad[i];
		assert_int_equal(walk(buf, sizeof(buf)), 0);
		a->nlmsg_len = 18;
	}
	a->nlmsg_len = 0xffffffffu;
	assert_int_equal(walk(buf, sizeof(buf)), 0);
	a->nlmsg_len = 15; /* shorter than a header */
	assert_int_equal(walk(buf, sizeof(buf)), 0);
	a->nlmsg_len = sizeof(buf) + 1;
	assert_int_equal(walk(buf, sizeof(buf)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
