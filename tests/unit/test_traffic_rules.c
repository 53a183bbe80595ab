// SPDX-License-Identifier: Apache-2.0
/*
 * Traffic rules (spec section 8): the text we generate must equal, byte for
 * byte, what `iptables -S` and `nft list table` print for upstream flannel's
 * rules (8.1 and 8.2 are the e2e golden file; the nft text was taken from
 * nftables 1.0.6 in a scratch namespace), and the transactions we feed to
 * iptables-restore and nft. No root, no kernel: text only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/ipnet.h"
#include "nft/iptables_int.h"
#include "nft/text.h"
#include "nft/traffic.h"

static struct ip_prefix pfx(const char *s)
{
	struct ip_prefix p;

	if (ip_prefix_parse(s, &p) != 0)
		fail_msg("bad test prefix %s", s);
	return p;
}

/* POD 10.244.1.0/24, CLUSTER 10.244.0.0/16; IPv6 2001:cafe:42:1::/64 in
 * 2001:cafe:42::/56. */
static struct traffic_params params(void)
{
	struct traffic_params p = {
		.ipv4 = true,
		.ipv6 = true,
		.network = pfx("10.244.0.0/16"),
		.subnet = pfx("10.244.1.0/24"),
		.network6 = pfx("2001:cafe:42::/56"),
		.subnet6 = pfx("2001:cafe:42:1::/64"),
		.masq = true,
		.forward = true,
	};
	return p;
}

/* Generated text into a fresh buffer (the caller frees). */
#define GEN(b, call)                                 \
	do {                                         \
		buf_init(&(b), 1 << 20);             \
		assert_int_equal((call), 0);         \
		assert_non_null((b).data);           \
	} while (0)

static void assert_text(const char *want, struct buf *got)
{
	if (strcmp(want, got->data) != 0)
		fail_msg("text differs\n--- want\n%s--- got\n%s---", want, got->data);
	buf_free(got);
}

/* ---- iptables -S (8.1, 8.2) ---- */

#define MASQ_JUMP "-A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG\n"
#define MASQ_CHAIN(rf)                                                                        \
	"-N FLANNEL-POSTRTG\n"                                                                \
	"-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment \"flanneld masq\" -j RETURN\n" \
	"-A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16 -m comment --comment \"flanneld masq\" -j RETURN\n" \
	"-A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment \"flanneld masq\" -j RETURN\n" \
	"-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment \"flanneld masq\" -j RETURN\n" \
	"-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE" rf "\n" \
	"-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment \"flanneld masq\" -j MASQUERADE" rf "\n"

#define FWD_JUMP "-A FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD\n"
#define FWD_CHAIN                                                                             \
	"-N FLANNEL-FWD\n"                                                                    \
	"-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT\n" \
	"-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT\n"

/* The e2e golden block of 8.1, in its order: the jump, then the chain. */
static void test_ipt_masq_golden(void **state)
{
	struct traffic_params p = params();
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(traffic_ipt_jump_text(&p, AF_INET, TRAFFIC_MASQ, &b), 0);
	assert_int_equal(traffic_ipt_chain_text(&p, AF_INET, TRAFFIC_MASQ, true, &b), 0);
	assert_text(MASQ_JUMP MASQ_CHAIN(" --random-fully"), &b);

	GEN(b, traffic_ipt_chain_text(&p, AF_INET, TRAFFIC_MASQ, false, &b));
	assert_text(MASQ_CHAIN(""), &b);
}

static void test_ipt_forward_golden(void **state)
{
	struct traffic_params p = params();
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(traffic_ipt_jump_text(&p, AF_INET, TRAFFIC_FORWARD, &b), 0);
	assert_int_equal(traffic_ipt_chain_text(&p, AF_INET, TRAFFIC_FORWARD, true, &b), 0);
	assert_text(FWD_JUMP FWD_CHAIN, &b);
}

/* FLANNEL_SUBNET in subnet.env is the first host (10.244.1.1/24): host bits
 * never reach a rule. */
static void test_ipt_host_bits_dropped(void **state)
{
	struct traffic_params p = params();
	struct buf b;

	(void)state;
	p.subnet = (struct ip_prefix){ .addr = p.subnet.addr, .len = 24 };
	p.subnet.addr.b[3] = 1;
	p.network.addr.b[3] = 7;
	GEN(b, traffic_ipt_chain_text(&p, AF_INET, TRAFFIC_MASQ, false, &b));
	assert_text(MASQ_CHAIN(""), &b);
}

#define MASQ6_CHAIN                                                                           \
	"-N FLANNEL-POSTRTG\n"                                                                \
	"-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment \"flanneld masq\" -j RETURN\n" \
	"-A FLANNEL-POSTRTG -s 2001:cafe:42:1::/64 -d 2001:cafe:42::/56 -m comment --comment \"flanneld masq\" -j RETURN\n" \
	"-A FLANNEL-POSTRTG -s 2001:cafe:42::/56 -d 2001:cafe:42:1::/64 -m comment --comment \"flanneld masq\" -j RETURN\n" \
	"-A FLANNEL-POSTRTG ! -s 2001:cafe:42::/56 -d 2001:cafe:42:1::/64 -m comment --comment \"flanneld masq\" -j RETURN\n" \
	"-A FLANNEL-POSTRTG -s 2001:cafe:42::/56 ! -d ff00::/8 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully\n" \
	"-A FLANNEL-POSTRTG ! -s 2001:cafe:42::/56 -d 2001:cafe:42::/56 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully\n"

static void test_ipt_ipv6_golden(void **state)
{
	struct traffic_params p = params();
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(traffic_ipt_jump_text(&p, AF_INET6, TRAFFIC_MASQ, &b), 0);
	assert_int_equal(traffic_ipt_chain_text(&p, AF_INET6, TRAFFIC_MASQ, true, &b), 0);
	assert_text(MASQ_JUMP MASQ6_CHAIN, &b);

	GEN(b, traffic_ipt_chain_text(&p, AF_INET6, TRAFFIC_FORWARD, true, &b));
	assert_text("-N FLANNEL-FWD\n"
		    "-A FLANNEL-FWD -s 2001:cafe:42::/56 -m comment --comment \"flanneld forward\" -j ACCEPT\n"
		    "-A FLANNEL-FWD -d 2001:cafe:42::/56 -m comment --comment \"flanneld forward\" -j ACCEPT\n",
		    &b);
}

/* ---- iptables-restore payloads ---- */

#define MASQ_RULES(rf)                                                                        \
	"-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment \"flanneld masq\" -j RETURN\n" \
	"-A FLANNEL-POSTRTG -s 10.244.1.0/24 -d 10.244.0.0/16 -m comment --comment \"flanneld masq\" -j RETURN\n" \
	"-A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment \"flanneld masq\" -j RETURN\n" \
	"-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.1.0/24 -m comment --comment \"flanneld masq\" -j RETURN\n" \
	"-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE" rf "\n" \
	"-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment \"flanneld masq\" -j MASQUERADE" rf "\n"

static void test_restore_first_apply(void **state)
{
	struct traffic_params p = params();
	struct buf b;

	(void)state;
	/* A fresh POSTROUTING: nothing to delete. */
	GEN(b, traffic_ipt_restore_text(&p, AF_INET, TRAFFIC_MASQ, true, "-P POSTROUTING ACCEPT\n",
					&b));
	assert_text("*nat\n"
		    ":FLANNEL-POSTRTG - [0:0]\n"
		    MASQ_JUMP
		    MASQ_RULES(" --random-fully")
		    "COMMIT\n", &b);

	GEN(b, traffic_ipt_restore_text(&p, AF_INET, TRAFFIC_FORWARD, true, NULL, &b));
	assert_text("*filter\n"
		    ":FLANNEL-FWD - [0:0]\n"
		    FWD_JUMP
		    "-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT\n"
		    "-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT\n"
		    "COMMIT\n", &b);
}

/* Re-apply: every jump to our chain (ours, a duplicate, an older form) is
 * deleted and ours appended, so it ends last; other rules are left alone. */
static void test_restore_reapply(void **state)
{
	struct traffic_params p = params();
	const char *listing =
		"-P POSTROUTING ACCEPT\n"
		MASQ_JUMP
		"-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n"
		"-A POSTROUTING -j FLANNEL-POSTRTG\n"
		"-A POSTROUTING -s 10.0.0.0/8 -j FLANNEL-POSTRTG-X\n"
		MASQ_JUMP;
	struct buf b;

	(void)state;
	GEN(b, traffic_ipt_restore_text(&p, AF_INET, TRAFFIC_MASQ, false, listing, &b));
	assert_text("*nat\n"
		    ":FLANNEL-POSTRTG - [0:0]\n"
		    "-D POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG\n"
		    "-D POSTROUTING -j FLANNEL-POSTRTG\n"
		    "-D POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG\n"
		    MASQ_JUMP
		    MASQ_RULES("")
		    "COMMIT\n", &b);

	GEN(b, traffic_ipt_restore_text(&p, AF_INET, TRAFFIC_FORWARD, true,
					"-P FORWARD ACCEPT\n"
					"-A FORWARD -j KUBE-FORWARD\n" FWD_JUMP, &b));
	assert_text("*filter\n"
		    ":FLANNEL-FWD - [0:0]\n"
		    "-D FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD\n"
		    FWD_JUMP
		    "-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT\n"
		    "-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT\n"
		    "COMMIT\n", &b);
}

static void test_restore_ipv6(void **state)
{
	struct traffic_params p = params();
	struct buf b;

	(void)state;
	GEN(b, traffic_ipt_restore_text(&p, AF_INET6, TRAFFIC_MASQ, true, MASQ_JUMP, &b));
	assert_text("*nat\n"
		    ":FLANNEL-POSTRTG - [0:0]\n"
		    "-D POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG\n"
		    MASQ_JUMP
		    "-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment \"flanneld masq\" -j RETURN\n"
		    "-A FLANNEL-POSTRTG -s 2001:cafe:42:1::/64 -d 2001:cafe:42::/56 -m comment --comment \"flanneld masq\" -j RETURN\n"
		    "-A FLANNEL-POSTRTG -s 2001:cafe:42::/56 -d 2001:cafe:42:1::/64 -m comment --comment \"flanneld masq\" -j RETURN\n"
		    "-A FLANNEL-POSTRTG ! -s 2001:cafe:42::/56 -d 2001:cafe:42:1::/64 -m comment --comment \"flanneld masq\" -j RETURN\n"
		    "-A FLANNEL-POSTRTG -s 2001:cafe:42::/56 ! -d ff00::/8 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully\n"
		    "-A FLANNEL-POSTRTG ! -s 2001:cafe:42::/56 -d 2001:cafe:42::/56 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully\n"
		    "COMMIT\n", &b);
}

/* ---- nft list table (8.3) ---- */

#define NFT4_POSTRTG(fr)                                                          \
	"\tchain postrtg {\n"                                                     \
	"\t\tcomment \"chain to manage traffic masquerading by flannel\"\n"       \
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"         \
	"\t\tmeta mark 0x00004000 return\n"                                       \
	"\t\tip saddr 10.244.1.0/24 ip daddr 10.244.0.0/16 return\n"              \
	"\t\tip saddr 10.244.0.0/16 ip daddr 10.244.1.0/24 return\n"              \
	"\t\tip saddr != 10.244.1.0/24 ip daddr 10.244.0.0/16 return\n"           \
	"\t\tip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade" fr "\n"   \
	"\t\tip saddr != 10.244.0.0/16 ip daddr 10.244.0.0/16 masquerade" fr "\n" \
	"\t}\n"
#define NFT4_FORWARD                                                  \
	"\tchain forward {\n"                                         \
	"\t\tcomment \"chain to accept flannel traffic\"\n"           \
	"\t\ttype filter hook forward priority filter; policy accept;\n" \
	"\t\tip saddr 10.244.0.0/16 accept\n"                         \
	"\t\tip daddr 10.244.0.0/16 accept\n"                         \
	"\t}\n"

static void test_nft_table_golden(void **state)
{
	struct traffic_params p = params();
	struct buf b;

	(void)state;
	GEN(b, traffic_nft_table_text(&p, AF_INET, true, &b));
	assert_text("table ip flannel-ipv4 {\n"
		    "\tcomment \"rules for flannel-ipv4\"\n"
		    NFT4_POSTRTG(" fully-random")
		    "\n"
		    NFT4_FORWARD
		    "}\n", &b);

	GEN(b, traffic_nft_table_text(&p, AF_INET, false, &b));
	assert_text("table ip flannel-ipv4 {\n"
		    "\tcomment \"rules for flannel-ipv4\"\n"
		    NFT4_POSTRTG("")
		    "\n"
		    NFT4_FORWARD
		    "}\n", &b);
}

static void test_nft_table_partial(void **state)
{
	struct traffic_params p = params();
	struct buf b;

	(void)state;
	p.masq = false;
	GEN(b, traffic_nft_table_text(&p, AF_INET, true, &b));
	assert_text("table ip flannel-ipv4 {\n\tcomment \"rules for flannel-ipv4\"\n" NFT4_FORWARD
		    "}\n", &b);
	p.masq = true;
	p.forward = false;
	GEN(b, traffic_nft_table_text(&p, AF_INET, true, &b));
	assert_text("table ip flannel-ipv4 {\n\tcomment \"rules for flannel-ipv4\"\n"
		    NFT4_POSTRTG(" fully-random") "}\n", &b);
	/* Neither: the table alone, as upstream creates it at start. */
	p.masq = false;
	GEN(b, traffic_nft_table_text(&p, AF_INET6, true, &b));
	assert_text("table ip6 flannel-ipv6 {\n\tcomment \"rules for flannel-ipv6\"\n}\n", &b);
}

static void test_nft_table_ipv6(void **state)
{
	struct traffic_params p = params();
	struct buf b;

	(void)state;
	GEN(b, traffic_nft_table_text(&p, AF_INET6, true, &b));
	assert_text("table ip6 flannel-ipv6 {\n"
		    "\tcomment \"rules for flannel-ipv6\"\n"
		    "\tchain postrtg {\n"
		    "\t\tcomment \"chain to manage traffic masquerading by flannel\"\n"
		    "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		    "\t\tmeta mark 0x00004000 return\n"
		    "\t\tip6 saddr 2001:cafe:42:1::/64 ip6 daddr 2001:cafe:42::/56 return\n"
		    "\t\tip6 saddr 2001:cafe:42::/56 ip6 daddr 2001:cafe:42:1::/64 return\n"
		    "\t\tip6 saddr != 2001:cafe:42:1::/64 ip6 daddr 2001:cafe:42::/56 return\n"
		    "\t\tip6 saddr 2001:cafe:42::/56 ip6 daddr != ff00::/8 masquerade fully-random\n"
		    "\t\tip6 saddr != 2001:cafe:42::/56 ip6 daddr 2001:cafe:42::/56 masquerade fully-random\n"
		    "\t}\n"
		    "\n"
		    "\tchain forward {\n"
		    "\t\tcomment \"chain to accept flannel traffic\"\n"
		    "\t\ttype filter hook forward priority filter; policy accept;\n"
		    "\t\tip6 saddr 2001:cafe:42::/56 accept\n"
		    "\t\tip6 daddr 2001:cafe:42::/56 accept\n"
		    "\t}\n"
		    "}\n", &b);
}

#define NFT4_CHAINS                                                                                \
	"add chain ip flannel-ipv4 postrtg { comment \"chain to manage traffic masquerading by flannel\" ; type nat hook postrouting priority srcnat ; policy accept ; }\n" \
	"add rule ip flannel-ipv4 postrtg meta mark 0x00004000 return\n"                           \
	"add rule ip flannel-ipv4 postrtg ip saddr 10.244.1.0/24 ip daddr 10.244.0.0/16 return\n"  \
	"add rule ip flannel-ipv4 postrtg ip saddr 10.244.0.0/16 ip daddr 10.244.1.0/24 return\n"  \
	"add rule ip flannel-ipv4 postrtg ip saddr != 10.244.1.0/24 ip daddr 10.244.0.0/16 return\n" \
	"add rule ip flannel-ipv4 postrtg ip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random\n" \
	"add rule ip flannel-ipv4 postrtg ip saddr != 10.244.0.0/16 ip daddr 10.244.0.0/16 masquerade fully-random\n" \
	"add chain ip flannel-ipv4 forward { comment \"chain to accept flannel traffic\" ; type filter hook forward priority filter ; policy accept ; }\n" \
	"add rule ip flannel-ipv4 forward ip saddr 10.244.0.0/16 accept\n"                         \
	"add rule ip flannel-ipv4 forward ip daddr 10.244.0.0/16 accept\n"

static void test_nft_apply_text(void **state)
{
	struct traffic_params p = params();
	struct buf b;

	(void)state;
	GEN(b, traffic_nft_apply_text(&p, AF_INET, true, false, &b));
	assert_text("add table ip flannel-ipv4 { comment \"rules for flannel-ipv4\" ; }\n"
		    "flush table ip flannel-ipv4\n"
		    NFT4_CHAINS, &b);
	GEN(b, traffic_nft_apply_text(&p, AF_INET, true, true, &b));
	assert_text("add table ip flannel-ipv4 { comment \"rules for flannel-ipv4\" ; }\n"
		    "delete table ip flannel-ipv4\n"
		    "add table ip flannel-ipv4 { comment \"rules for flannel-ipv4\" ; }\n"
		    NFT4_CHAINS, &b);
}

/* ---- running the tools, with fakes on PATH (no root, no kernel) ---- */

/*
 * Fake iptables: prints a version, logs its arguments and lists a chain from
 * the file list.<last argument>; hangs (recording its pid) when the file
 * "hang" exists, and fails as on a lock wait that ran out when "locked" does. Fake iptables-restore: keeps its stdin and arguments, and
 * fails like the real one when the file "fail" exists; its version is 1.6.1
 * unless the file "restore-version" says otherwise.
 */
static const char fake_ipt[] =
	"#!/bin/sh\n"
	"PATH=/usr/bin:/bin d=${0%/*}\n"
	"case \"$*\" in *--version*) echo 'iptables v1.8.9 (fake)'; exit 0;; esac\n"
	"[ -f \"$d/hang\" ] && { echo $$ >\"$d/hang-pid\"; exec sleep 30; }\n"
	"[ -f \"$d/locked\" ] && { echo 'Another app is currently holding the xtables lock. "
	"Stopped waiting after 10s.' >&2; exit 4; }\n"
	"echo \"$*\" >>\"$d/calls\"\n"
	"for last; do :; done\n"
	"[ -f \"$d/list.$last\" ] && exec cat \"$d/list.$last\"\n"
	"echo 'iptables: No chain/target/match by that name.' >&2\n"
	"exit 1\n";
static const char fake_restore[] =
	"#!/bin/sh\n"
	"PATH=/usr/bin:/bin d=${0%/*}\n"
	"v=$(cat \"$d/restore-version\" 2>/dev/null || echo 1.6.1)\n"
	"case \"$*\" in *--version*) echo \"iptables-restore v$v (fake)\"; exit 0;; esac\n"
	"echo \"$*\" >\"$d/restore-args\"\n"
	"cat >\"$d/payload\"\n"
	"[ -f \"$d/fail\" ] || exit 0\n"
	"echo 'iptables-restore: line 3 failed: Bad rule' >&2\n"
	"exit 1\n";

struct fake {
	char dir[64];
	char *old_path;
};

static void put_file(const struct fake *f, const char *name, const char *text, mode_t mode)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *get_file(const struct fake *f, const char *name)
{
	static char text[8192];
	char path[128];
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	fp = fopen(path, "r");
	if (!fp)
		return NULL;
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	fclose(fp);
	return text;
}

static void drop_file(const struct fake *f, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	unlink(path);
}

static int fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	const char *path = getenv("PATH");

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/weft-traffic.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->old_path = strdup(path ? path : "/usr/bin:/bin");
	setenv("PATH", f->dir, 1);
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;
	static const char *const names[] = { "iptables", "iptables-restore", "calls", "payload",
					     "restore-args", "fail", "list.POSTROUTING",
					     "list.FLANNEL-POSTRTG", "hang", "hang-pid",
					     "restore-version", "locked" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		drop_file(f, names[i]);
	rmdir(f->dir);
	setenv("PATH", f->old_path, 1);
	free(f->old_path);
	free(f);
	return 0;
}

static struct traffic_params v4_masq(void)
{
	struct traffic_params p = params();

	p.ipv6 = false;
	p.forward = false;
	return p;
}

static void test_exec_missing_binary(void **state)
{
	struct fake *f = *state;
	struct traffic_params p = v4_masq();
	struct err err = { { 0 } };
	struct traffic *t = NULL;

	put_file(f, "iptables", fake_ipt, 0755);
	assert_int_equal(traffic_new(false, &t, &err), 0);
	assert_int_equal(traffic_apply(t, &p, &err), -ENOENT);
	assert_string_equal(err.msg, "iptables-restore not found in PATH "
				     "(needed for IPv4 masquerading rules)");
	traffic_free(t);
}

static void test_exec_apply_and_check(void **state)
{
	struct fake *f = *state;
	struct traffic_params p = v4_masq();
	struct err err = { { 0 } };
	struct traffic *t = NULL;
	char what[256], *s;

	put_file(f, "iptables", fake_ipt, 0755);
	put_file(f, "iptables-restore", fake_restore, 0755);
	put_file(f, "list.POSTROUTING", "-P POSTROUTING ACCEPT\n", 0644);
	assert_int_equal(traffic_new(false, &t, &err), 0);

	/* A failing transaction: the tool's complaint reaches err. iptables
	 * 1.8.9 gets a bounded wait (-w 10) and --random-fully; the fake restore
	 * (1.6.1) gets no wait at all. */
	put_file(f, "fail", "", 0644);
	assert_int_equal(traffic_apply(t, &p, &err), -EIO);
	assert_string_equal(err.msg, "iptables-restore --noflush: exit status 1: "
				     "iptables-restore: line 3 failed: Bad rule");
	drop_file(f, "fail");

	/* The payload arrives on stdin, complete. */
	assert_int_equal(traffic_apply(t, &p, &err), 0);
	assert_string_equal(get_file(f, "restore-args"), "--noflush\n");
	assert_string_equal(get_file(f, "payload"), "*nat\n"
						     ":FLANNEL-POSTRTG - [0:0]\n"
						     MASQ_JUMP
						     MASQ_RULES(" --random-fully")
						     "COMMIT\n");
	s = get_file(f, "calls");
	assert_non_null(s);
	assert_non_null(strstr(s, "-w 10 -t nat -S POSTROUTING\n"));

	/* Installed as expected: check only reads. */
	put_file(f, "list.FLANNEL-POSTRTG", MASQ_CHAIN(" --random-fully"), 0644);
	put_file(f, "list.POSTROUTING", "-P POSTROUTING ACCEPT\n" MASQ_JUMP, 0644);
	drop_file(f, "payload");
	assert_int_equal(traffic_check(t, &p, what, sizeof(what), &err), 0);
	assert_string_equal(what, "");
	assert_null(get_file(f, "payload"));

	/* Chain gone: check says so and re-applies, deleting the old jump. */
	drop_file(f, "list.FLANNEL-POSTRTG");
	assert_int_equal(traffic_check(t, &p, what, sizeof(what), &err), 1);
	assert_string_equal(what, "iptables nat chain FLANNEL-POSTRTG missing");
	assert_string_equal(get_file(f, "payload"),
			    "*nat\n"
			    ":FLANNEL-POSTRTG - [0:0]\n"
			    "-D POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG\n"
			    MASQ_JUMP
			    MASQ_RULES(" --random-fully")
			    "COMMIT\n");

	/* --ip-masq-fully-random-disable */
	p.fully_random_disable = true;
	put_file(f, "list.FLANNEL-POSTRTG", MASQ_CHAIN(""), 0644);
	assert_int_equal(traffic_check(t, &p, what, sizeof(what), &err), 0);
	traffic_free(t);
}

/* iptables-restore >= 1.6.2 takes a bounded wait too. */
static void test_exec_restore_wait_limit(void **state)
{
	struct fake *f = *state;
	struct traffic_params p = v4_masq();
	struct err err = { { 0 } };
	struct traffic *t = NULL;

	put_file(f, "iptables", fake_ipt, 0755);
	put_file(f, "iptables-restore", fake_restore, 0755);
	put_file(f, "restore-version", "1.6.2\n", 0644);
	put_file(f, "list.POSTROUTING", "-P POSTROUTING ACCEPT\n", 0644);
	assert_int_equal(traffic_new(false, &t, &err), 0);
	assert_int_equal(traffic_apply(t, &p, &err), 0);
	assert_string_equal(get_file(f, "restore-args"), "--noflush -w 10\n");
	traffic_free(t);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A hung tool is killed (by its pid, which is gone afterwards) as soon as the
 * cancel fd turns readable, and the calls after it run nothing. */
static void test_exec_cancel(void **state)
{
	struct fake *f = *state;
	struct traffic_params p = v4_masq();
	struct itimerspec its = { .it_value = { .tv_nsec = 200 * 1000000L } };
	struct err err = { { 0 } };
	struct traffic *t = NULL;
	char what[256], *s;
	int64_t t0, took;
	int tfd;
	long pid;

	put_file(f, "iptables", fake_ipt, 0755);
	put_file(f, "iptables-restore", fake_restore, 0755);
	put_file(f, "list.POSTROUTING", "-P POSTROUTING ACCEPT\n", 0644);
	assert_int_equal(traffic_new(false, &t, &err), 0);
	assert_int_equal(traffic_apply(t, &p, &err), 0);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	assert_true(tfd >= 0);
	traffic_set_cancel_fd(t, tfd);
	put_file(f, "hang", "", 0644);
	assert_int_equal(timerfd_settime(tfd, 0, &its, NULL), 0);
	t0 = mono_ms();
	assert_int_equal(traffic_check(t, &p, what, sizeof(what), &err), -ECANCELED);
	took = mono_ms() - t0;
	assert_true(took >= 150 && took < 5000);
	assert_string_equal(err.msg, "iptables -w 10 -t nat -S FLANNEL-POSTRTG: "
				     "stopped (shutting down)");
	s = get_file(f, "hang-pid");
	assert_non_null(s);
	pid = strtol(s, NULL, 10);
	assert_true(pid > 1);
	assert_int_equal(kill((pid_t)pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	/* Still cancelled: nothing runs, nothing waits. */
	drop_file(f, "hang-pid");
	t0 = mono_ms();
	assert_int_equal(traffic_apply(t, &p, &err), -ECANCELED);
	assert_true(mono_ms() - t0 < 1000);
	assert_null(get_file(f, "hang-pid"));
	traffic_free(t);
	close(tfd);
}

/* A lock wait that ran out is an error of the check, not a missing chain:
 * nothing is re-applied. */
static void test_exec_lock_timeout(void **state)
{
	struct fake *f = *state;
	struct traffic_params p = v4_masq();
	struct err err = { { 0 } };
	struct traffic *t = NULL;
	char what[256];

	put_file(f, "iptables", fake_ipt, 0755);
	put_file(f, "iptables-restore", fake_restore, 0755);
	put_file(f, "list.POSTROUTING", "-P POSTROUTING ACCEPT\n", 0644);
	assert_int_equal(traffic_new(false, &t, &err), 0);
	assert_int_equal(traffic_apply(t, &p, &err), 0);
	drop_file(f, "payload");
	put_file(f, "locked", "", 0644);
	assert_int_equal(traffic_check(t, &p, what, sizeof(what), &err), -EAGAIN);
	assert_string_equal(err.msg, "iptables -w 10 -t nat -S FLANNEL-POSTRTG: exit status 4: "
				     "Another app is currently holding the xtables lock. "
				     "Stopped waiting after 10s.");
	assert_string_equal(what, "");
	assert_null(get_file(f, "payload"));
	traffic_free(t);
}

/* ---- parameters, parsers, helpers ---- */

static void test_bad_params(void **state)
{
	struct traffic_params p = params();
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	p.subnet6 = (struct ip_prefix){ 0 };
	assert_int_equal(traffic_ipt_chain_text(&p, AF_INET6, TRAFFIC_MASQ, true, &b), -EINVAL);
	assert_int_equal(traffic_nft_table_text(&p, AF_INET6, true, &b), -EINVAL);
	/* forward needs only the network */
	assert_int_equal(traffic_ipt_chain_text(&p, AF_INET6, TRAFFIC_FORWARD, true, &b), 0);
	/* a v4 prefix where v6 belongs */
	p.network6 = pfx("10.0.0.0/8");
	assert_int_equal(traffic_ipt_jump_text(&p, AF_INET6, TRAFFIC_FORWARD, &b), -EINVAL);
	assert_int_equal(traffic_ipt_jump_text(&p, AF_UNIX, TRAFFIC_FORWARD, &b), -EINVAL);
	buf_free(&b);
	/* A bounded buffer that is too small says so. */
	buf_init(&b, 64);
	p = params();
	assert_int_equal(traffic_nft_table_text(&p, AF_INET, true, &b), -E2BIG);
	buf_free(&b);
}

/* The API refuses unusable parameters before touching anything (no root
 * needed: the nftables context does not talk to the kernel until asked). */
static void test_api_rejects_bad_params(void **state)
{
	struct traffic_params p = params();
	struct traffic *t = NULL;
	struct err err = { { 0 } };
	char what[256];

	(void)state;
	assert_int_equal(traffic_new(true, &t, &err), 0);
	p.network = (struct ip_prefix){ 0 };
	assert_int_equal(traffic_apply(t, &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "IPv4 masquerading"));
	assert_int_equal(traffic_check(t, &p, what, sizeof(what), &err), -EINVAL);
	assert_int_equal(traffic_cleanup(t, &p, NULL, what, sizeof(what), &err), -EINVAL);
	assert_int_equal(traffic_apply(t, NULL, &err), -EINVAL);
	traffic_free(t);
	traffic_free(NULL);
}

static void test_parse_version(void **state)
{
	unsigned v[3] = { 0 };

	(void)state;
	assert_int_equal(ipt_parse_version("iptables v1.8.9 (nf_tables)\n", v), 0);
	assert_int_equal(v[0], 1);
	assert_int_equal(v[1], 8);
	assert_int_equal(v[2], 9);
	assert_int_equal(ipt_parse_version("iptables-restore v1.6.1\n", v), 0);
	assert_int_equal(v[1], 6);
	assert_int_equal(v[2], 1);
	/* a 'v' in the name before the version */
	assert_int_equal(ipt_parse_version("iptables-save v1.8.7 (legacy)\n", v), 0);
	assert_int_equal(v[2], 7);
	assert_int_equal(ipt_parse_version("xtables-legacy-multi v1.4.21\n", v), 0);
	assert_int_equal(v[2], 21);
	assert_int_equal(ipt_parse_version("iptables v1.8\n", v), -EINVAL);
	assert_int_equal(ipt_parse_version("", v), -EINVAL);
	assert_int_equal(ipt_parse_version("v.1.2", v), -EINVAL);
}

static void test_describe_diff(void **state)
{
	char d[96];

	(void)state;
	traffic_describe_diff("-N X\n-A X a\n-A X b\n", "-N X\n", d, sizeof(d));
	assert_string_equal(d, "2 lines missing");
	traffic_describe_diff("-N X\n-A X a\n", "-N X\n-A X a\n-A X z\n", d, sizeof(d));
	assert_string_equal(d, "1 unexpected line");
	traffic_describe_diff("-N X\n-A X a\n", "-N X\n-A X b\n", d, sizeof(d));
	assert_string_equal(d, "1 line missing, 1 unexpected");
	traffic_describe_diff("-N X\n-A X a\n-A X b\n", "-N X\n-A X b\n-A X a\n", d, sizeof(d));
	assert_string_equal(d, "lines reordered or repeated");
}

static void test_note(void **state)
{
	char w[32] = "";

	(void)state;
	traffic_note(w, sizeof(w), "one");
	traffic_note(w, sizeof(w), "two %d", 2);
	assert_string_equal(w, "one; two 2");
	traffic_note(w, sizeof(w), "a long note that will not fit");
	assert_int_equal(strlen(w), sizeof(w) - 1);
	traffic_note(NULL, 0, "ignored");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipt_masq_golden),
		cmocka_unit_test(test_ipt_forward_golden),
		cmocka_unit_test(test_ipt_host_bits_dropped),
		cmocka_unit_test(test_ipt_ipv6_golden),
		cmocka_unit_test(test_restore_first_apply),
		cmocka_unit_test(test_restore_reapply),
		cmocka_unit_test(test_restore_ipv6),
		cmocka_unit_test(test_nft_table_golden),
		cmocka_unit_test(test_nft_table_partial),
		cmocka_unit_test(test_nft_table_ipv6),
		cmocka_unit_test(test_nft_apply_text),
		cmocka_unit_test_setup_teardown(test_exec_missing_binary, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_exec_apply_and_check, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_exec_restore_wait_limit, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_exec_cancel, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_exec_lock_timeout, fake_setup, fake_teardown),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_api_rejects_bad_params),
		cmocka_unit_test(test_parse_version),
		cmocka_unit_test(test_describe_diff),
		cmocka_unit_test(test_note),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
