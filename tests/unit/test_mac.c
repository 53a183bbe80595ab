// SPDX-License-Identifier: Apache-2.0
/* core/mac: the one MAC parser and validity rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "core/mac.h"

static int parse(const char *s, uint8_t mac[MAC_LEN])
{
	return mac_parse(s, strlen(s), mac);
}

static void test_parse_good(void **state)
{
	static const uint8_t want[MAC_LEN] = { 0x12, 0xc6, 0x65, 0x89, 0xb4, 0xe3 };
	uint8_t mac[MAC_LEN];
	char buf[MAC_STRLEN];

	(void)state;
	assert_int_equal(parse("12:c6:65:89:b4:e3", mac), 0);
	assert_memory_equal(mac, want, MAC_LEN);
	assert_int_equal(parse("12:C6:65:89:B4:E3", mac), 0);
	assert_memory_equal(mac, want, MAC_LEN);
	assert_string_equal(mac_format(mac, buf), "12:c6:65:89:b4:e3");
	/* Locally administered and the highest unicast address are fine. */
	assert_int_equal(parse("02:00:00:00:00:01", mac), 0);
	assert_int_equal(parse("fe:ff:ff:ff:ff:ff", mac), 0);
	assert_string_equal(mac_format(mac, buf), "fe:ff:ff:ff:ff:ff");
	assert_int_equal(parse("00:00:00:00:00:01", mac), 0);
}

static void test_parse_not_a_station(void **state)
{
	static const char *const bad[] = {
		"00:00:00:00:00:00", /* the VXLAN default destination */
		"01:00:5e:00:00:01", /* IPv4 multicast */
		"33:33:00:00:00:01", /* IPv6 multicast */
		"ff:ff:ff:ff:ff:ff", /* broadcast */
		"03:00:00:00:00:00", /* group bit with the local bit */
	};
	uint8_t mac[MAC_LEN] = { 9, 9, 9, 9, 9, 9 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], mac), -EADDRNOTAVAIL);
		assert_int_equal(mac[0], 9); /* untouched */
	}
}

static void test_parse_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"12:c6:65:89:b4",
		"12:c6:65:89:b4:e3:",
		"12:c6:65:89:b4:e3 ",
		" 12:c6:65:89:b4:e3",
		"12-c6-65-89-b4-e3",
		"12c6.6589.b4e3",
		"1:c6:65:89:b4:e3a",
		"12:c6:65:89:b4:g3",
		"12:c6:65:89:b4:+3",
		"12:c6:65:89:b4: 3",
		"12::6:65:89:b4:e3",
		"12:c6:65:89:b4:e3:00:01",
		"0x12:c6:65:89:b4:e",
	};
	uint8_t mac[MAC_LEN] = { 9, 9, 9, 9, 9, 9 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], mac), -EINVAL);
		assert_int_equal(mac[0], 9);
	}
	/* Length-counted: a NUL inside (JSON "\u0000") or a shorter length. */
	assert_int_equal(mac_parse("12:c6:65:89:b4:e3\0x", 19, mac), -EINVAL);
	assert_int_equal(mac_parse("12:c6:65:89:b4:e\0", 17, mac), -EINVAL);
	assert_int_equal(mac_parse("12:c6:65:89:b4:e3", 16, mac), -EINVAL);
	assert_int_equal(mac_parse(NULL, 17, mac), -EINVAL);
	assert_int_equal(mac[0], 9);
}

static void test_valid(void **state)
{
	(void)state;
	assert_true(mac_valid((const uint8_t[]){ 0x02, 0, 0, 0, 0, 1 }));
	assert_true(mac_valid((const uint8_t[]){ 0, 0, 0, 0, 0, 1 }));
	assert_false(mac_valid((const uint8_t[]){ 0, 0, 0, 0, 0, 0 }));
	assert_false(mac_valid((const uint8_t[]){ 0x01, 0, 0x5e, 0, 0, 1 }));
	assert_false(mac_valid((const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_not_a_station),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
