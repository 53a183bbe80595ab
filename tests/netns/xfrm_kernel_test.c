// SPDX-License-Identifier: Apache-2.0
/*
 * src/nl/xfrm against the real kernel. Runs inside a network namespace of
 * its own that tests/netns/test_xfrm_kernel.sh creates and removes; never
 * run it in a namespace that matters (it adds and deletes XFRM policies and
 * probe SAs).
 *
 * What the API did is checked twice where it counts: through our own dump
 * and through iproute2 (`ip xfrm`), which reads the kernel independently.
 *
 * Environment: XFRM_PROBE_WANT, what the ESP probe must answer as the
 * script found out with iproute2 (1, 0, -38 for -ENOSYS; unset or
 * "unknown": any answer, but nothing left behind); XFRM_MANY (peers in the
 * many-policies test, default 300); XFRM_TEST_FILTER (cmocka test-name
 * pattern).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernel_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/ipnet.h"
#include "nl/xfrm.h"

static struct nl_xfrm *x;

/* ---- helpers ---- */

/* A shell command that must succeed. */
static void run(const char *cmd)
{
	const char *out = sh("%s 2>&1; echo \"rc=$?\"", cmd);

	if (!strstr(out, "rc=0\n"))
		fail_msg("%s:\n%s", cmd, out);
}

#define assert_ok(call, e)                                                                         \
	do {                                                                                       \
		int r_ = (call);                                                                   \
		if (r_ != 0)                                                                       \
			fail_msg("%s = %d (%s)", #call, r_, (e).msg);                              \
	} while (0)

/* How many times needle occurs in hay. */
static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* ---- the kernel's policies, through our dump ---- */

#define MAX_POL 4096
static struct nl_xfrm_policy pol[MAX_POL];
static size_t npol;

static int collect(const struct nl_xfrm_policy *p, void *arg)
{
	(void)arg;
	if (npol >= MAX_POL)
		return -E2BIG;
	pol[npol++] = *p;
	return 0;
}

static void dump_all(void)
{
	struct err e = {""};
	unsigned skipped = 99;

	npol = 0;
	assert_ok(nl_xfrm_policy_dump(x, collect, NULL, &skipped, &e), e);
	assert_int_equal(skipped, 0);
}

static bool same_key(const struct nl_xfrm_policy *a, const struct nl_xfrm_policy *b)
{
	return a->dir == b->dir && ip_prefix_equal(&a->src, &b->src) &&
	       ip_prefix_equal(&a->dst, &b->dst);
}

/* The dumped policy of want's direction and selector, or NULL. */
static const struct nl_xfrm_policy *find(const struct nl_xfrm_policy *want)
{
	for (size_t i = 0; i < npol; i++)
		if (same_key(&pol[i], want))
			return &pol[i];
	return NULL;
}

static size_t count_ours(void)
{
	size_t n = 0;

	for (size_t i = 0; i < npol; i++)
		n += nl_xfrm_policy_is_ours(&pol[i], NL_XFRM_REQID);
	return n;
}

/* The peer's three: our subnet 10.244.1.0/24 on 192.168.50.1, theirs
 * 10.244.<k>.0/24 on 192.168.50.<k>. */
static void peer(int k, struct nl_xfrm_policy ret[NL_XFRM_PEER_POLICIES])
{
	char s[IP_PREFIX_STRLEN], a[IP_ADDR_STRLEN];
	struct ip_prefix ours = prefix("10.244.1.0/24"), theirs;
	struct ip_addr our_ip = addr("192.168.50.1"), peer_ip;

	snprintf(s, sizeof(s), "10.244.%d.0/24", k);
	snprintf(a, sizeof(a), "192.168.50.%d", k);
	theirs = prefix(s);
	peer_ip = addr(a);
	assert_int_equal(
		nl_xfrm_peer_policies(&ours, &our_ip, &theirs, &peer_ip, NL_XFRM_REQID, ret), 0);
}

static void update_all(const struct nl_xfrm_policy *p, size_t n)
{
	struct err e = {""};

	for (size_t i = 0; i < n; i++)
		assert_ok(nl_xfrm_policy_update(x, &p[i], &e), e);
}

static void del_all(const struct nl_xfrm_policy *p, size_t n)
{
	struct err e = {""};

	for (size_t i = 0; i < n; i++)
		assert_ok(nl_xfrm_policy_del(x, &p[i], &e), e);
}

/*
 * What the ipsec backend will do: remove the policies that are ours and
 * not wanted, (re)install the wanted ones missing or different. Returns
 * how many requests it took.
 */
static int reconcile(const struct nl_xfrm_policy *want, size_t nwant)
{
	const struct nl_xfrm_policy *have;
	struct err e = {""};
	int changes = 0;
	bool wanted;

	dump_all();
	for (size_t i = 0; i < npol; i++) {
		if (!nl_xfrm_policy_is_ours(&pol[i], NL_XFRM_REQID))
			continue;
		wanted = false;
		for (size_t j = 0; j < nwant && !wanted; j++)
			wanted = same_key(&pol[i], &want[j]);
		if (!wanted) {
			assert_ok(nl_xfrm_policy_del(x, &pol[i], &e), e);
			changes++;
		}
	}
	for (size_t j = 0; j < nwant; j++) {
		have = find(&want[j]);
		if (!have || !nl_xfrm_policy_same(have, &want[j])) {
			assert_ok(nl_xfrm_policy_update(x, &want[j], &e), e);
			changes++;
		}
	}
	return changes;
}

/* ---- tests ---- */

static void test_probe(void **state)
{
	const char *want = getenv("XFRM_PROBE_WANT");
	struct err e = {""};
	int ret;

	(void)state;
	ret = nl_xfrm_esp_probe(x, &e);
	printf("# ESP probe: %d (%s)\n", ret, e.msg[0] ? e.msg : "no message");
	if (want && strcmp(want, "unknown") != 0)
		assert_int_equal(ret, atoi(want));
	else
		assert_true(ret == 0 || ret == 1 || ret == -ENOSYS);
	/* No SA left behind, whatever the answer. */
	assert_string_equal(sh("ip xfrm state list"), "");
	/* And again: the probe can run twice (no SPI or address left taken). */
	assert_int_equal(nl_xfrm_esp_probe(x, &e), ret);
	assert_string_equal(sh("ip xfrm state list"), "");
}

/* Policies with an ESP template go in whether or not the kernel has the
 * ESP type: templates are checked by protocol number only. */
static void test_peer_round_trip(void **state)
{
	struct nl_xfrm_policy p[NL_XFRM_PEER_POLICIES];
	const struct nl_xfrm_policy *have;
	const char *ip;

	(void)state;
	peer(2, p);
	update_all(p, NL_XFRM_PEER_POLICIES);
	dump_all();
	assert_int_equal(npol, 3);
	for (int i = 0; i < NL_XFRM_PEER_POLICIES; i++) {
		have = find(&p[i]);
		assert_non_null(have);
		assert_true(nl_xfrm_policy_same(have, &p[i]));
		assert_true(nl_xfrm_policy_is_ours(have, NL_XFRM_REQID));
		assert_int_equal(have->ntmpl, 1);
		assert_true(have->esp_tunnel);
		assert_false(have->extra);
		assert_int_equal(have->priority, 0);
		assert_int_not_equal(have->index, 0);
	}

	/* iproute2 reads the same: selectors, directions, templates. */
	ip = sh("ip xfrm policy list");
	assert_int_equal(count(ip, "\tdir "), 3);
	assert_contains(ip, "src 10.244.1.0/24 dst 10.244.2.0/24 \n"
			    "\tdir out priority 0 ptype main \n"
			    "\ttmpl src 192.168.50.1 dst 192.168.50.2\n"
			    "\t\tproto esp reqid 11 mode tunnel\n");
	assert_contains(ip, "src 10.244.2.0/24 dst 10.244.1.0/24 \n"
			    "\tdir in priority 0 ptype main \n"
			    "\ttmpl src 192.168.50.2 dst 192.168.50.1\n"
			    "\t\tproto esp reqid 11 mode tunnel\n");
	assert_contains(ip, "src 10.244.2.0/24 dst 10.244.1.0/24 \n"
			    "\tdir fwd priority 0 ptype main \n"
			    "\ttmpl src 192.168.50.2 dst 192.168.50.1\n"
			    "\t\tproto esp reqid 11 mode tunnel\n");
	assert_lacks(ip, "mark");
	del_all(p, NL_XFRM_PEER_POLICIES);
	assert_string_equal(sh("ip xfrm policy list"), "");
}

static void test_update_replaces(void **state)
{
	struct nl_xfrm_policy p[NL_XFRM_PEER_POLICIES], moved[NL_XFRM_PEER_POLICIES];
	uint32_t index[NL_XFRM_PEER_POLICIES];
	const struct nl_xfrm_policy *have;

	(void)state;
	peer(2, p);
	update_all(p, NL_XFRM_PEER_POLICIES);
	dump_all();
	for (int i = 0; i < NL_XFRM_PEER_POLICIES; i++)
		index[i] = find(&p[i])->index;

	/* The same again: still three, unchanged. */
	update_all(p, NL_XFRM_PEER_POLICIES);
	dump_all();
	assert_int_equal(npol, 3);
	for (int i = 0; i < NL_XFRM_PEER_POLICIES; i++)
		assert_true(nl_xfrm_policy_same(find(&p[i]), &p[i]));
	assert_int_equal(count(sh("ip xfrm policy list"), "\tdir "), 3);

	/* The peer moved to another public address: replaced in place
	 * (same selector, the kernel keeps the policy's index). */
	memcpy(moved, p, sizeof(moved));
	moved[0].tmpl_dst = addr("192.168.60.2");
	moved[1].tmpl_src = addr("192.168.60.2");
	moved[2].tmpl_src = addr("192.168.60.2");
	update_all(moved, NL_XFRM_PEER_POLICIES);
	dump_all();
	assert_int_equal(npol, 3);
	for (int i = 0; i < NL_XFRM_PEER_POLICIES; i++) {
		have = find(&moved[i]);
		assert_true(nl_xfrm_policy_same(have, &moved[i]));
		assert_false(nl_xfrm_policy_same(have, &p[i]));
		assert_int_equal(have->index, index[i]);
	}
	assert_lacks(sh("ip xfrm policy list"), "192.168.50.2");
	assert_int_equal(count(sh("ip xfrm policy list"), "192.168.60.2"), 3);
	del_all(moved, NL_XFRM_PEER_POLICIES);
	assert_string_equal(sh("ip xfrm policy list"), "");
}

static void test_delete(void **state)
{
	struct nl_xfrm_policy p[NL_XFRM_PEER_POLICIES];
	struct err e = {""};

	(void)state;
	peer(2, p);
	update_all(p, NL_XFRM_PEER_POLICIES);
	assert_ok(nl_xfrm_policy_del(x, &p[0], &e), e);
	dump_all();
	assert_int_equal(npol, 2);
	assert_null(find(&p[0]));
	assert_non_null(find(&p[1]));
	assert_non_null(find(&p[2]));
	assert_lacks(sh("ip xfrm policy list"), "dir out");
	assert_int_equal(count(sh("ip xfrm policy list"), "\tdir "), 2);

	/* Gone: -ENOENT, and err says which. */
	assert_int_equal(nl_xfrm_policy_del(x, &p[0], &e), -ENOENT);
	assert_contains(e.msg, "deleting xfrm policy out 10.244.1.0/24 -> 10.244.2.0/24");

	/* The in and fwd policies share a selector: deleting one leaves the
	 * other. */
	assert_ok(nl_xfrm_policy_del(x, &p[2], &e), e);
	dump_all();
	assert_int_equal(npol, 1);
	assert_non_null(find(&p[1]));
	assert_ok(nl_xfrm_policy_del(x, &p[1], &e), e);
	assert_string_equal(sh("ip xfrm policy list"), "");
}

/* Someone else's policies (added with iproute2): decoded as not ours,
 * never touched by a reconcile, while ours are put right around them. */
#define FOREIGN_RE                                                                                 \
	"ip xfrm policy add src 10.99.1.0/24 dst 10.99.2.0/24 dir out "                            \
	"tmpl src 192.168.50.1 dst 192.168.50.9 proto esp reqid 12 mode tunnel"
#define FOREIGN_MARK                                                                               \
	"ip xfrm policy add src 10.99.3.0/24 dst 10.99.4.0/24 dir in mark 5 "                      \
	"tmpl src 192.168.50.9 dst 192.168.50.1 proto esp reqid 11 mode tunnel"
#define FOREIGN_PLAIN "ip xfrm policy add src 10.96.0.1/16 dst 10.97.0.0/16 dir fwd"
#define FOREIGN_TRANSPORT                                                                          \
	"ip xfrm policy add src 10.95.0.0/16 dst 10.94.0.0/16 dir out "                            \
	"tmpl src 192.168.50.1 dst 192.168.50.9 proto esp reqid 11 mode transport"

static void test_foreign(void **state)
{
	struct nl_xfrm_policy want[2 * NL_XFRM_PEER_POLICIES], stale[NL_XFRM_PEER_POLICIES];
	struct nl_xfrm_policy probe = {0};
	const struct nl_xfrm_policy *f;
	struct ip_addr nine;
	char before[8192];
	struct err e = {""};

	(void)state;
	run(FOREIGN_RE);
	run(FOREIGN_MARK);
	run(FOREIGN_PLAIN);
	run(FOREIGN_TRANSPORT);
	snprintf(before, sizeof(before), "%s", sh("ip xfrm policy list"));

	dump_all();
	assert_int_equal(npol, 4);
	assert_int_equal(count_ours(), 0);

	probe.dir = NL_XFRM_OUT;
	probe.src = prefix("10.99.1.0/24");
	probe.dst = prefix("10.99.2.0/24");
	f = find(&probe);
	assert_non_null(f);
	assert_int_equal(f->reqid, 12);
	assert_int_equal(f->ntmpl, 1);
	assert_true(f->esp_tunnel);
	assert_false(f->extra);
	nine = addr("192.168.50.9");
	assert_true(ip_addr_equal(&f->tmpl_dst, &nine));

	probe.dir = NL_XFRM_IN;
	probe.src = prefix("10.99.3.0/24");
	probe.dst = prefix("10.99.4.0/24");
	f = find(&probe);
	assert_non_null(f);
	assert_int_equal(f->reqid, NL_XFRM_REQID);
	assert_true(f->extra); /* the mark */

	probe.dir = NL_XFRM_FWD;
	probe.src = prefix("10.96.0.0/16");
	probe.src.addr.b[3] = 1; /* host bits, as added */
	probe.dst = prefix("10.97.0.0/16");
	f = find(&probe);
	assert_non_null(f);
	assert_int_equal(f->ntmpl, 0);
	assert_true(f->extra); /* the host bits */

	probe.dir = NL_XFRM_OUT;
	probe.src = prefix("10.95.0.0/16");
	probe.dst = prefix("10.94.0.0/16");
	f = find(&probe);
	assert_non_null(f);
	assert_false(f->esp_tunnel);

	/* Peers 2 and 3 wanted; peer 4's policies are ours but stale. */
	peer(2, want);
	peer(3, want + NL_XFRM_PEER_POLICIES);
	peer(4, stale);
	update_all(stale, NL_XFRM_PEER_POLICIES);
	update_all(want, 2); /* part of peer 2 already there */
	assert_int_equal(reconcile(want, 6), 3 + 4);
	dump_all();
	assert_int_equal(npol, 4 + 6);
	assert_int_equal(count_ours(), 6);
	for (int i = 0; i < 6; i++)
		assert_true(nl_xfrm_policy_same(find(&want[i]), &want[i]));
	for (int i = 0; i < NL_XFRM_PEER_POLICIES; i++)
		assert_null(find(&stale[i]));
	/* Nothing to do the second time. */
	assert_int_equal(reconcile(want, 6), 0);

	/* Someone removed one of ours and damaged another: put right. */
	run("ip xfrm policy delete src 10.244.1.0/24 dst 10.244.3.0/24 dir out");
	run("ip xfrm policy update src 10.244.3.0/24 dst 10.244.1.0/24 dir in "
	    "tmpl src 192.168.50.3 dst 192.168.50.1 proto esp reqid 11 mode transport");
	assert_int_equal(reconcile(want, 6), 2);
	dump_all();
	for (int i = 0; i < 6; i++)
		assert_true(nl_xfrm_policy_same(find(&want[i]), &want[i]));

	/* Nothing wanted any more: ours go, the others stay exactly. */
	assert_int_equal(reconcile(NULL, 0), 6);
	assert_string_equal(sh("ip xfrm policy list"), before);

	/* The functions can still remove a dumped foreign policy by its
	 * exact selector (host bits included), when told to. */
	dump_all();
	probe.dir = NL_XFRM_FWD;
	probe.src = prefix("10.96.0.0/16");
	probe.src.addr.b[3] = 1;
	probe.dst = prefix("10.97.0.0/16");
	assert_ok(nl_xfrm_policy_del(x, find(&probe), &e), e);
	assert_lacks(sh("ip xfrm policy list"), "10.96.0.1/16");

	run("ip xfrm policy flush");
	assert_string_equal(sh("ip xfrm policy list"), "");
}

static void test_ipv6(void **state)
{
	struct ip_prefix ours = prefix("fd00:1::/64"), theirs = prefix("fd00:2::/64");
	struct ip_addr our_ip = addr("2001:db8::1"), peer_ip = addr("2001:db8::2");
	struct nl_xfrm_policy p[NL_XFRM_PEER_POLICIES];

	(void)state;
	assert_int_equal(nl_xfrm_peer_policies(&ours, &our_ip, &theirs, &peer_ip, NL_XFRM_REQID, p),
			 0);
	update_all(p, NL_XFRM_PEER_POLICIES);
	dump_all();
	assert_int_equal(npol, 3);
	for (int i = 0; i < NL_XFRM_PEER_POLICIES; i++)
		assert_true(nl_xfrm_policy_same(find(&p[i]), &p[i]));
	assert_contains(sh("ip xfrm policy list"), "src fd00:1::/64 dst fd00:2::/64 \n"
						   "\tdir out priority 0 ptype main \n"
						   "\ttmpl src 2001:db8::1 dst 2001:db8::2\n");
	del_all(p, NL_XFRM_PEER_POLICIES);
	assert_string_equal(sh("ip xfrm policy list"), "");
}

/* Enough policies that the kernel's dump takes several messages. */
static void test_many(void **state)
{
	const char *s = getenv("XFRM_MANY");
	int n = s ? atoi(s) : 300;
	struct ip_prefix ours = prefix("10.244.1.0/24"), theirs = prefix("10.0.0.0/24");
	struct ip_addr our_ip = addr("192.168.50.1"), peer_ip = addr("172.16.0.0");
	size_t total = (size_t)n * NL_XFRM_PEER_POLICIES;
	struct nl_xfrm_policy *p;

	(void)state;
	/* Peer k: 10.<1 + k / 250>.<k % 250>.0/24 on 172.16.<k / 250>.<1 + k % 250>. */
	assert_true(n > 0 && n <= 1000 && total <= MAX_POL);
	p = calloc(total, sizeof(*p));
	assert_non_null(p);
	for (int k = 0; k < n; k++) {
		theirs.addr.b[1] = (uint8_t)(1 + k / 250);
		theirs.addr.b[2] = (uint8_t)(k % 250);
		peer_ip.b[2] = (uint8_t)(k / 250);
		peer_ip.b[3] = (uint8_t)(1 + k % 250);
		assert_int_equal(nl_xfrm_peer_policies(&ours, &our_ip, &theirs, &peer_ip,
						       NL_XFRM_REQID, p + (size_t)k * 3),
				 0);
	}
	update_all(p, total);
	dump_all();
	assert_int_equal(npol, total);
	assert_int_equal(count_ours(), total);
	for (size_t i = 0; i < total; i++) {
		const struct nl_xfrm_policy *have = find(&p[i]);

		assert_non_null(have);
		assert_true(nl_xfrm_policy_same(have, &p[i]));
	}
	assert_int_equal(count(sh("ip xfrm policy list"), "\tdir "), (int)total);
	assert_int_equal(reconcile(p, total), 0);
	del_all(p, total);
	assert_string_equal(sh("ip xfrm policy list"), "");
	free(p);
}

/* Every test starts from an empty policy database, so that one that failed
 * half way does not fail the next. (SAs are not flushed: a probe SA left
 * behind must show.) */
static int fresh(void **state)
{
	(void)state;
	return system("ip xfrm policy flush") == 0 ? 0 : -1;
}

static int group_setup(void **state)
{
	struct err e = {""};

	(void)state;
	if (nl_xfrm_open(&x, &e) < 0) {
		fprintf(stderr, "nl_xfrm_open: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nl_xfrm_close(x);
	nl_xfrm_close(NULL);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_probe, fresh),
		cmocka_unit_test_setup(test_peer_round_trip, fresh),
		cmocka_unit_test_setup(test_update_replaces, fresh),
		cmocka_unit_test_setup(test_delete, fresh),
		cmocka_unit_test_setup(test_foreign, fresh),
		cmocka_unit_test_setup(test_ipv6, fresh),
		cmocka_unit_test_setup(test_many, fresh),
	};
	const char *filter = getenv("XFRM_TEST_FILTER");

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (filter)
		cmocka_set_test_filter(filter);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
