// SPDX-License-Identifier: Apache-2.0
/*
 * The overlay filter's rule text (weft's own rule set, TRAFFIC_OVERLAY): what
 * iptables -S and nft list print for it (taken from iptables 1.8.9 and
 * nftables 1.0.6 in a scratch namespace), the transactions that write it,
 * and the peer updates computed from a listing. No root, no kernel.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/ipnet.h"
#include "nft/traffic.h"

static struct ip_prefix pfx(const char *s)
{
	struct ip_prefix p;

	if (ip_prefix_parse(s, &p) != 0)
		fail_msg("bad test prefix %s", s);
	return p;
}

static struct ip_addr peers[300];

/* Peers as the agent passes them: both families, a repeat, an unset one. */
static size_t set_peers(const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ip_addr_parse(v[i], &peers[i]) != 0)
			fail_msg("bad test address %s", v[i]);
	return n;
}

static struct traffic_params params(void)
{
	static const char *const v[] = { "10.200.0.13", "fd00::2", "10.200.0.12", "0.0.0.0",
					 "10.200.0.13" };
	struct traffic_params p = {
		.ipv4 = true,
		.ipv6 = true,
		.network = pfx("10.244.0.0/16"),
		.subnet = pfx("10.244.1.0/24"),
		.network6 = pfx("2001:cafe:42::/56"),
		.subnet6 = pfx("2001:cafe:42:1::/64"),
		.overlay_proto = IPPROTO_UDP,
		.overlay_port = 8472,
		.peers = peers,
	};

	p.npeers = set_peers(v, sizeof(v) / sizeof(v[0]));
	return p;
}

#define GEN(b, call)                         \
	do {                                 \
		buf_init(&(b), 1 << 20);     \
		assert_int_equal((call), 0); \
		assert_non_null((b).data);   \
	} while (0)

static void assert_text(const char *want, struct buf *got)
{
	const char *g = got->data ? got->data : "";

	if (strcmp(want, g) != 0)
		fail_msg("text differs\n--- want\n%s--- got\n%s---", want, g);
	buf_free(got);
}

#define CM "-m comment --comment \"weft overlay peers only\""
#define JUMP4 "-A INPUT ! -i lo -p udp -m udp --dport 8472 " CM " -j WEFT-OVERLAY\n"
#define DROP "-A WEFT-OVERLAY " CM " -j DROP\n"

/* ---- iptables ---- */

static void test_ipt_golden(void **state)
{
	struct traffic_params p = params();
	struct buf b;

	(void)state;
	GEN(b, traffic_ipt_jump_text(&p, AF_INET, TRAFFIC_OVERLAY, &b));
	assert_text(JUMP4, &b);
	/* sorted, no repeat, no unset address, only the family's */
	GEN(b, traffic_ipt_chain_text(&p, AF_INET, TRAFFIC_OVERLAY, true, &b));
	assert_text("-N WEFT-OVERLAY\n"
		    "-A WEFT-OVERLAY -s 10.200.0.12/32 -j RETURN\n"
		    "-A WEFT-OVERLAY -s 10.200.0.13/32 -j RETURN\n" DROP, &b);
	GEN(b, traffic_ipt_chain_text(&p, AF_INET6, TRAFFIC_OVERLAY, true, &b));
	assert_text("-N WEFT-OVERLAY\n"
		    "-A WEFT-OVERLAY -s fd00::2/128 -j RETURN\n" DROP, &b);
	/* the udp backend's port */
	p.overlay_port = 8285;
	GEN(b, traffic_ipt_jump_text(&p, AF_INET6, TRAFFIC_OVERLAY, &b));
	assert_text("-A INPUT ! -i lo -p udp -m udp --dport 8285 " CM " -j WEFT-OVERLAY\n", &b);
	/* no peers: everything is dropped */
	p.npeers = 0;
	GEN(b, traffic_ipt_chain_text(&p, AF_INET, TRAFFIC_OVERLAY, true, &b));
	assert_text("-N WEFT-OVERLAY\n" DROP, &b);
}

static void test_ipt_ipip_and_off(void **state)
{
	struct traffic_params p = params();
	struct buf b;

	(void)state;
	p.overlay_proto = IPPROTO_IPIP;
	p.overlay_port = 0;
	GEN(b, traffic_ipt_jump_text(&p, AF_INET, TRAFFIC_OVERLAY, &b));
	assert_text("-A INPUT ! -i lo -p 4 " CM " -j WEFT-OVERLAY\n", &b);
	/* ipip carries IPv4 only */
	buf_init(&b, 1 << 20);
	assert_int_equal(traffic_ipt_jump_text(&p, AF_INET6, TRAFFIC_OVERLAY, &b), -EINVAL);
	/* the filter off, or the family */
	p.overlay_proto = 0;
	assert_int_equal(traffic_ipt_jump_text(&p, AF_INET, TRAFFIC_OVERLAY, &b), -EINVAL);
	p.overlay_proto = IPPROTO_UDP;
	p.ipv4 = false;
	assert_int_equal(traffic_ipt_chain_text(&p, AF_INET, TRAFFIC_OVERLAY, true, &b), -EINVAL);
	assert_null(b.data);
	buf_free(&b);
}

/* The jump goes first in INPUT (ahead of an ACCEPT for the port), old jumps
 * deleted, the chain filled in one transaction. */
static void test_ipt_restore(void **state)
{
	struct traffic_params p = params();
	struct buf b;
	const char *input = "-P INPUT ACCEPT\n"
			    "-A INPUT -p udp -m udp --dport 8472 -j ACCEPT\n"
			    "-A INPUT ! -i lo -p udp -m udp --dport 9999 " CM " -j WEFT-OVERLAY\n";

	(void)state;
	GEN(b, traffic_ipt_restore_text(&p, AF_INET, TRAFFIC_OVERLAY, true, input, &b));
	assert_text("*filter\n"
		    ":WEFT-OVERLAY - [0:0]\n"
		    "-D INPUT ! -i lo -p udp -m udp --dport 9999 " CM " -j WEFT-OVERLAY\n"
		    "-I INPUT 1 ! -i lo -p udp -m udp --dport 8472 " CM " -j WEFT-OVERLAY\n"
		    "-A WEFT-OVERLAY -s 10.200.0.12/32 -j RETURN\n"
		    "-A WEFT-OVERLAY -s 10.200.0.13/32 -j RETURN\n" DROP
		    "COMMIT\n", &b);
}

static void test_ipt_peers_delta(void **state)
{
	struct traffic_params p = params();
	unsigned added, removed;
	struct buf b;

	(void)state;
	/* .99 extra, .13 missing */
	GEN(b, traffic_ipt_peers_text(&p, AF_INET,
				      "-N WEFT-OVERLAY\n"
				      "-A WEFT-OVERLAY -s 10.200.0.99/32 -j RETURN\n"
				      "-A WEFT-OVERLAY -s 10.200.0.12/32 -j RETURN\n" DROP,
				      &b, &added, &removed));
	assert_text("*filter\n"
		    "-D WEFT-OVERLAY -s 10.200.0.99/32 -j RETURN\n"
		    "-I WEFT-OVERLAY 1 -s 10.200.0.13/32 -j RETURN\n"
		    "COMMIT\n", &b);
	assert_int_equal(added, 1);
	assert_int_equal(removed, 1);
	/* in line, whatever the order: nothing to write */
	buf_init(&b, 1 << 20);
	assert_int_equal(traffic_ipt_peers_text(&p, AF_INET,
						"-N WEFT-OVERLAY\n"
						"-A WEFT-OVERLAY -s 10.200.0.13/32 -j RETURN\n"
						"-A WEFT-OVERLAY -s 10.200.0.12/32 -j RETURN\n" DROP,
						&b, &added, &removed), 0);
	assert_int_equal(added + removed, 0);
	assert_null(b.data);
	/* IPv6 */
	assert_int_equal(traffic_ipt_peers_text(&p, AF_INET6, "-N WEFT-OVERLAY\n" DROP, &b, &added,
						&removed), 0);
	assert_int_equal(added, 1);
	assert_text("*filter\n-I WEFT-OVERLAY 1 -s fd00::2/128 -j RETURN\nCOMMIT\n", &b);
}

/* Anything but peers and the DROP at the end: the caller writes it whole. */
static void test_ipt_peers_foreign(void **state)
{
	static const char *const bad[] = {
		/* no DROP */
		"-N WEFT-OVERLAY\n-A WEFT-OVERLAY -s 10.200.0.12/32 -j RETURN\n",
		/* a rule after the DROP */
		"-N WEFT-OVERLAY\n" DROP "-A WEFT-OVERLAY -s 10.200.0.12/32 -j RETURN\n",
		/* a prefix, not an address */
		"-N WEFT-OVERLAY\n-A WEFT-OVERLAY -s 10.200.0.0/24 -j RETURN\n" DROP,
		/* an ACCEPT */
		"-N WEFT-OVERLAY\n-A WEFT-OVERLAY -s 10.200.0.12/32 -j ACCEPT\n" DROP,
		/* another chain's rule */
		"-N WEFT-OVERLAY\n-A OTHER -s 10.200.0.12/32 -j RETURN\n" DROP,
		/* a repeat */
		"-N WEFT-OVERLAY\n-A WEFT-OVERLAY -s 10.200.0.12/32 -j RETURN\n"
		"-A WEFT-OVERLAY -s 10.200.0.12/32 -j RETURN\n" DROP,
		/* an IPv6 peer in the IPv4 chain */
		"-N WEFT-OVERLAY\n-A WEFT-OVERLAY -s fd00::2/128 -j RETURN\n" DROP,
		/* a DROP without our comment */
		"-N WEFT-OVERLAY\n-A WEFT-OVERLAY -j DROP\n",
	};
	struct traffic_params p = params();
	unsigned added, removed;
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (traffic_ipt_peers_text(&p, AF_INET, bad[i], &b, &added, &removed) != -EINVAL)
			fail_msg("listing %zu taken:\n%s", i, bad[i]);
	p.overlay_proto = 0;
	assert_int_equal(traffic_ipt_peers_text(&p, AF_INET, "-N WEFT-OVERLAY\n" DROP, &b, &added,
						&removed), -EINVAL);
	buf_free(&b);
}

/* ---- nftables ---- */

#define NFT_SET4 "\tset overlay-peers {\n\t\ttype ipv4_addr\n\t}\n"
#define NFT_CHAIN4                                                                  \
	"\tchain overlay-input {\n"                                                 \
	"\t\tcomment \"weft: only peers may send to the overlay port\"\n"           \
	"\t\ttype filter hook input priority filter; policy accept;\n"             \
	"\t\tiif != \"lo\" udp dport 8472 ip saddr != @overlay-peers counter drop\n" \
	"\t}\n"

/* Terse and stateless, as the check lists it: no elements, no counts. */
static void test_nft_table(void **state)
{
	struct traffic_params p = params();
	struct buf b;

	(void)state;
	GEN(b, traffic_nft_table_text(&p, AF_INET, true, &b));
	assert_text("table ip flannel-ipv4 {\n"
		    "\tcomment \"rules for flannel-ipv4\"\n" NFT_SET4 "\n" NFT_CHAIN4 "}\n", &b);
	/* with flannel's chains: the set first, the chains in their order */
	p.forward = true;
	GEN(b, traffic_nft_table_text(&p, AF_INET, true, &b));
	assert_text("table ip flannel-ipv4 {\n"
		    "\tcomment \"rules for flannel-ipv4\"\n" NFT_SET4 "\n"
		    "\tchain forward {\n"
		    "\t\tcomment \"chain to accept flannel traffic\"\n"
		    "\t\ttype filter hook forward priority filter; policy accept;\n"
		    "\t\tip saddr 10.244.0.0/16 accept\n"
		    "\t\tip daddr 10.244.0.0/16 accept\n"
		    "\t}\n\n" NFT_CHAIN4 "}\n", &b);
	p.forward = false;
	GEN(b, traffic_nft_table_text(&p, AF_INET6, true, &b));
	assert_text("table ip6 flannel-ipv6 {\n"
		    "\tcomment \"rules for flannel-ipv6\"\n"
		    "\tset overlay-peers {\n\t\ttype ipv6_addr\n\t}\n\n"
		    "\tchain overlay-input {\n"
		    "\t\tcomment \"weft: only peers may send to the overlay port\"\n"
		    "\t\ttype filter hook input priority filter; policy accept;\n"
		    "\t\tiif != \"lo\" udp dport 8472 ip6 saddr != @overlay-peers counter drop\n"
		    "\t}\n}\n", &b);
	/* ipip: listed by name, IPv4 only */
	p.overlay_proto = IPPROTO_IPIP;
	GEN(b, traffic_nft_table_text(&p, AF_INET, true, &b));
	assert_non_null(strstr(b.data, "\t\tiif != \"lo\" ip protocol ipencap ip saddr != "
				       "@overlay-peers counter drop\n"));
	buf_free(&b);
	GEN(b, traffic_nft_table_text(&p, AF_INET6, true, &b));
	assert_text("table ip6 flannel-ipv6 {\n\tcomment \"rules for flannel-ipv6\"\n}\n", &b);
}

static void test_nft_apply(void **state)
{
	struct traffic_params p = params();
	struct buf b;

	(void)state;
	GEN(b, traffic_nft_apply_text(&p, AF_INET, true, false, &b));
	assert_text("add table ip flannel-ipv4 { comment \"rules for flannel-ipv4\" ; }\n"
		    "flush table ip flannel-ipv4\n"
		    "add set ip flannel-ipv4 overlay-peers { type ipv4_addr ; }\n"
		    "flush set ip flannel-ipv4 overlay-peers\n"
		    "add chain ip flannel-ipv4 overlay-input { comment \"weft: only peers may send "
		    "to the overlay port\" ; type filter hook input priority filter ; policy "
		    "accept ; }\n"
		    "add rule ip flannel-ipv4 overlay-input iif != \"lo\" udp dport 8472 ip saddr != "
		    "@overlay-peers counter drop\n"
		    "add element ip flannel-ipv4 overlay-peers { 10.200.0.12, 10.200.0.13 }\n", &b);
	/* ipip written as a number; no peers, no element command */
	p.overlay_proto = IPPROTO_IPIP;
	p.npeers = 0;
	GEN(b, traffic_nft_apply_text(&p, AF_INET, true, true, &b));
	assert_non_null(strstr(b.data, "delete table ip flannel-ipv4\n"));
	assert_non_null(strstr(b.data, "overlay-input iif != \"lo\" ip protocol 4 ip saddr != "
				       "@overlay-peers counter drop\n"));
	assert_null(strstr(b.data, "element"));
	buf_free(&b);
}

/* Many peers: commands of 64 elements, one transaction. */
static void test_nft_apply_chunks(void **state)
{
	struct traffic_params p = params();
	struct buf b;
	const char *s;
	unsigned lines = 0;

	(void)state;
	for (size_t i = 0; i < 130; i++) {
		peers[i].family = AF_INET;
		memcpy(peers[i].b, (uint8_t[]){ 10, 128, (uint8_t)(i >> 8), (uint8_t)i }, 4);
	}
	p.npeers = 130;
	GEN(b, traffic_nft_apply_text(&p, AF_INET, true, false, &b));
	for (s = b.data; (s = strstr(s, "add element ")); s++)
		lines++;
	assert_int_equal(lines, 3);
	assert_non_null(strstr(b.data, "10.128.0.63 }\nadd element ip flannel-ipv4 overlay-peers "
				       "{ 10.128.0.64, "));
	assert_non_null(strstr(b.data, "{ 10.128.0.128, 10.128.0.129 }\n"));
	buf_free(&b);
}

#define NFT_LIST4(elems)                                                                   \
	"table ip flannel-ipv4 {\n\tset overlay-peers {\n\t\ttype ipv4_addr\n" elems "\t}\n}\n"

static void test_nft_peers_delta(void **state)
{
	struct traffic_params p = params();
	unsigned added, removed;
	struct buf b;

	(void)state;
	GEN(b, traffic_nft_peers_text(&p, AF_INET,
				      NFT_LIST4("\t\telements = { 10.200.0.12, 10.200.0.99,\n"
						"\t\t\t     10.200.0.100 }\n"),
				      &b, &added, &removed));
	assert_text("delete element ip flannel-ipv4 overlay-peers { 10.200.0.99, 10.200.0.100 }\n"
		    "add element ip flannel-ipv4 overlay-peers { 10.200.0.13 }\n", &b);
	assert_int_equal(added, 1);
	assert_int_equal(removed, 2);
	/* an empty set has no elements line */
	GEN(b, traffic_nft_peers_text(&p, AF_INET, NFT_LIST4(""), &b, &added, &removed));
	assert_text("add element ip flannel-ipv4 overlay-peers { 10.200.0.12, 10.200.0.13 }\n", &b);
	/* in line: nothing */
	buf_init(&b, 1 << 20);
	assert_int_equal(traffic_nft_peers_text(&p, AF_INET,
						NFT_LIST4("\t\telements = { 10.200.0.13, "
							  "10.200.0.12 }\n"),
						&b, &added, &removed), 0);
	assert_int_equal(added + removed, 0);
	assert_null(b.data);
	/* IPv6 */
	GEN(b, traffic_nft_peers_text(&p, AF_INET6,
				      "table ip6 flannel-ipv6 {\n\tset overlay-peers {\n"
				      "\t\ttype ipv6_addr\n\t\telements = { 2001:db8::5 }\n\t}\n}\n",
				      &b, &added, &removed));
	assert_text("delete element ip6 flannel-ipv6 overlay-peers { 2001:db8::5 }\n"
		    "add element ip6 flannel-ipv6 overlay-peers { fd00::2 }\n", &b);
}

static void test_nft_peers_foreign(void **state)
{
	static const char *const bad[] = {
		NFT_LIST4("\t\telements = { 10.200.0.0/24 }\n"),      /* an interval */
		NFT_LIST4("\t\telements = { 10.200.0.12, fd00::1 }\n"), /* another family */
		"table ip flannel-ipv4 {\n\tset overlay-peers {\n\t\telements = { 10.200.0.12,\n",
		NFT_LIST4("\t\telements = { 10.200.0.12 timeout 1s }\n"),
	};
	struct traffic_params p = params();
	unsigned added, removed;
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (traffic_nft_peers_text(&p, AF_INET, bad[i], &b, &added, &removed) != -EINVAL)
			fail_msg("listing %zu taken:\n%s", i, bad[i]);
	p.overlay_proto = IPPROTO_IPIP;
	assert_int_equal(traffic_nft_peers_text(&p, AF_INET6, NFT_LIST4(""), &b, &added, &removed),
			 -EINVAL);
	buf_free(&b);
}

/* The API refuses an overlay it cannot write, before touching anything. */
static void test_api_rejects(void **state)
{
	struct traffic_params p = params();
	struct traffic *t = NULL;
	struct err err = { { 0 } };
	char what[256];

	(void)state;
	assert_int_equal(traffic_new(true, &t, &err), 0);
	p.overlay_port = 0;
	assert_int_equal(traffic_apply(t, &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "overlay UDP port 0"));
	p.overlay_proto = IPPROTO_TCP;
	assert_int_equal(traffic_peers(t, &p, what, sizeof(what), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "overlay protocol 6"));
	p = params();
	p.peers = NULL;
	assert_int_equal(traffic_check(t, &p, what, sizeof(what), &err), -EINVAL);
	traffic_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipt_golden),
		cmocka_unit_test(test_ipt_ipip_and_off),
		cmocka_unit_test(test_ipt_restore),
		cmocka_unit_test(test_ipt_peers_delta),
		cmocka_unit_test(test_ipt_peers_foreign),
		cmocka_unit_test(test_nft_table),
		cmocka_unit_test(test_nft_apply),
		cmocka_unit_test(test_nft_apply_chunks),
		cmocka_unit_test(test_nft_peers_delta),
		cmocka_unit_test(test_nft_peers_foreign),
		cmocka_unit_test(test_api_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
