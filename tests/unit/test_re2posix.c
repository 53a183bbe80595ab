// SPDX-License-Identifier: Apache-2.0
/* core/re2posix: flannel's --iface-regex values (Go RE2 syntax) matched by
 * glibc's regcomp. Each case compiles the rewritten pattern and checks which
 * subjects match, as Go's regexp.MatchString would answer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/re2posix.h"

/* Does the RE2 pattern re match s? Fails the test if it is refused. */
static bool match(const char *re, const char *s)
{
	struct err err = { 0 };
	int cflags, rc;
	char *pat = re2_to_posix(re, &cflags, &err);
	regex_t r;

	if (!pat)
		fail_msg("'%s' refused: %s", re, err.msg);
	rc = regcomp(&r, pat, REG_EXTENDED | REG_NOSUB | cflags);
	if (rc != 0)
		fail_msg("'%s' became '%s', which regcomp refuses (%d)", re, pat, rc);
	rc = regexec(&r, s, 0, NULL, 0);
	regfree(&r);
	free(pat);
	return rc == 0;
}

/* The pattern re is refused and the message contains want. */
static void refused(const char *re, const char *want)
{
	struct err err = { 0 };
	int cflags;
	char *pat = re2_to_posix(re, &cflags, &err);

	if (pat)
		fail_msg("'%s' accepted as '%s'", re, pat);
	if (!strstr(err.msg, want))
		fail_msg("'%s': message '%s' lacks '%s'", re, err.msg, want);
}

static void test_plain_ere(void **state)
{
	(void)state;
	/* what flannel's docs show: addresses and names */
	assert_true(match("^192\\.168\\.56\\.", "192.168.56.11"));
	assert_false(match("^192\\.168\\.56\\.", "192.168.5.61"));
	assert_true(match("^eth[0-9]+$", "eth12"));
	assert_false(match("^eth[0-9]+$", "eth"));
	assert_true(match("^(ens|enp)", "enp0s3"));
	assert_true(match("10\\.0\\.[12]\\.", "10.0.2.15"));
}

static void test_icase(void **state)
{
	int cflags;
	struct err err = { 0 };
	char *pat;

	(void)state;
	assert_true(match("(?i)^ETH0$", "eth0"));
	assert_true(match("(?i)^Eth[0-9]$", "ETH1"));
	assert_false(match("^ETH0$", "eth0")); /* case matters without it */
	pat = re2_to_posix("(?i)^eth0", &cflags, &err);
	assert_non_null(pat);
	assert_string_equal(pat, "^eth0");
	assert_int_equal(cflags, REG_ICASE);
	free(pat);
	/* m, s and U change nothing on one-line subjects */
	assert_true(match("(?s)^eth0$", "eth0"));
	assert_true(match("(?im)^ETH0$", "eth0"));
	assert_true(match("(?U)^eth.+$", "eth0"));
}

static void test_classes(void **state)
{
	(void)state;
	assert_true(match("^\\d+\\.\\d+\\.\\d+\\.\\d+$", "10.0.0.1"));
	assert_false(match("^\\d+$", "10a"));
	assert_true(match("^\\D+\\d$", "eth0"));
	assert_true(match("^[\\d.]+$", "10.0.0.1"));
	assert_false(match("^[\\d.]+$", "10.0.0.x"));
	assert_true(match("^\\w+$", "wlan_0"));
	assert_false(match("^\\w+$", "br-1"));
	assert_true(match("^br\\W1$", "br-1"));
	assert_true(match("^a\\sb$", "a b"));
	assert_true(match("^\\S+$", "eth0"));
	assert_true(match("^[[:word:]]+$", "veth_a1"));
	assert_false(match("^[[:word:]]+$", "veth-a1"));
	assert_true(match("^[[:digit:].]+$", "10.1"));
	assert_true(match("^[\\w-]+$", "cni-0_a"));
	assert_true(match("\\beth0\\b", "eth0"));
}

static void test_groups_and_quantifiers(void **state)
{
	(void)state;
	assert_true(match("^(?:eth|ens)[0-9]$", "ens3"));
	assert_true(match("^(?P<kind>eth|ens)[0-9]$", "eth3"));
	assert_true(match("^(?<kind>eth)[0-9]$", "eth3"));
	/* non-greedy quantifiers match what greedy ones match */
	assert_true(match("^eth.*?0$", "eth10"));
	assert_true(match("^eth.+?$", "eth1"));
	assert_false(match("^eth.+?$", "eth"));
	assert_true(match("^eth\\d??$", "eth"));
	assert_true(match("^a{2,3}?$", "aaa"));
	assert_true(match("^a{1000}$", "aaa") == false);
	assert_true(match("^(a+)+b$", "aab"));
	/* addresses as people match them: counts multiply to 81 */
	assert_true(match("^\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}$", "10.0.0.1"));
	assert_false(match("^a{2,3}?$", "a"));
	/* a brace that opens no repetition is text; its '?' is a quantifier */
	assert_true(match("^x}?y$", "xy"));
	assert_true(match("^x}?y$", "x}y"));
}

static void test_escapes(void **state)
{
	(void)state;
	assert_true(match("\\A10\\.0\\z", "10.0"));
	assert_false(match("\\A10\\.0\\z", "110.0"));
	assert_true(match("^\\Q10.0.0.1\\E$", "10.0.0.1"));
	assert_false(match("^\\Q10.0.0.1\\E$", "10a0b0c1"));
	assert_true(match("^\\Qa+b", "a+b"));	 /* \Q to the end */
	assert_true(match("^eth\\x30$", "eth0"));
	assert_true(match("^eth\\x{30}$", "eth0"));
	assert_true(match("^a\\tb$", "a\tb"));
	assert_true(match("^a\\/b$", "a/b"));
	assert_true(match("^a\\\\b$", "a\\b"));
	assert_true(match("^[\\.\\\\]+$", ".\\"));
}

static void test_refused(void **state)
{
	(void)state;
	refused("^\\pL+$", "'\\p': Unicode classes");
	refused("^\\p{Greek}$", "'\\p'");
	refused("^\\PL$", "'\\P'");
	refused("^eth\\1$", "octal escapes");
	refused("^eth(?i)0$", "'(?i)'");
	refused("^(?i:eth)0$", "'(?i:'");
	refused("(?-i)eth", "'(?-i)'");
	refused("^\\x{10000}$", "'\\x'");
	refused("^\\x0$", "'\\x'");
	refused("^\\x00$", "'\\x'");
	refused("^\\C$", "'\\C'");
	refused("^\\e$", "'\\e'");
	refused("^[\\D]$", "a negated class");
	refused("^[\\]]$", "put ']' first");
	refused("^[[:^alpha:]]$", "'[:^alpha:]'");
	/* RE2 refuses these too; glibc would nest them at exponential cost */
	refused("^a++$", "invalid nested repetition operator at '+$'");
	refused("^a*??$", "invalid nested repetition operator");
	refused("^a{2}*$", "invalid nested repetition operator");
	refused("^a+{2}$", "invalid nested repetition operator");
	refused("^a{1001}$", "invalid repeat count");
	refused("^a{2,5000}$", "invalid repeat count");
	refused("^(a{1000}){1000}$", "expression too large");
	refused("^a{200}b{200}$", "expression too large");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_ere), cmocka_unit_test(test_icase),
		cmocka_unit_test(test_classes),	  cmocka_unit_test(test_groups_and_quantifiers),
		cmocka_unit_test(test_escapes),	  cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
