// SPDX-License-Identifier: Apache-2.0
/*
 * Drives src/nft/traffic for tests/netns/test_traffic_rules.sh, which runs it
 * inside a network namespace of its own (firewall state included) and checks
 * the result with iptables and nft themselves. Never run it in a namespace
 * that matters: it writes the firewall.
 *
 *   traffic_test [options] COMMAND...
 *     --mode ipt|nft               default ipt
 *     --net P --subnet P           IPv4 CLUSTER and POD (enables IPv4)
 *     --net6 P --subnet6 P         IPv6 (enables IPv6)
 *     --old-net P --old-subnet P --old-net6 P --old-subnet6 P
 *                                  the previous subnet.env, for cleanup
 *     --no-masq --no-forward --no-random
 *     --overlay-udp PORT | --overlay-ipip   the overlay filter
 *     --peer ADDR                  an overlay peer (repeatable)
 *   COMMAND: cleanup | apply | check | start (cleanup, then apply)
 *            | peers | peers:N (the --peer ones and N made-up ones of each
 *            family, 10.128.0.0/16 and fd99::/64, from now on; then
 *            traffic_peers, its time printed as "(N ms)")
 *
 * Commands run in order on one object; each prints one line:
 *   "<command> rc=<n>[: <what>]". A negative rc also prints the error on
 * stderr and ends the program with status 1.
 */
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/ipnet.h"
#include "nft/traffic.h"

static void usage(void)
{
	fprintf(stderr, "usage: traffic_test [--mode ipt|nft] [--net P --subnet P] "
			"[--net6 P --subnet6 P] [--old-net P --old-subnet P] "
			"[--old-net6 P --old-subnet6 P] [--no-masq] [--no-forward] "
			"[--no-random] cleanup|apply|check|start...\n");
	exit(2);
}

static void prefix(const char *s, struct ip_prefix *p)
{
	if (ip_prefix_parse(s, p) < 0) {
		fprintf(stderr, "traffic_test: bad prefix %s\n", s);
		exit(2);
	}
}

#define MAX_PEERS 70000

static struct ip_addr peers[2 * MAX_PEERS + 64];
static size_t nfixed;

static void add_peer(const char *s)
{
	if (nfixed >= 64 || ip_addr_parse(s, &peers[nfixed]) < 0) {
		fprintf(stderr, "traffic_test: bad or too many --peer %s\n", s);
		exit(2);
	}
	nfixed++;
}

/* The fixed peers and n made-up ones of each family. */
static size_t make_peers(unsigned long n)
{
	size_t k = nfixed;

	for (unsigned long i = 0; i < n && i < MAX_PEERS; i++) {
		struct ip_addr *a = &peers[k++], *b = &peers[k++];

		a->family = AF_INET;
		a->b[0] = 10;
		a->b[1] = 128;
		a->b[2] = (uint8_t)(i >> 8);
		a->b[3] = (uint8_t)i;
		memset(b, 0, sizeof(*b));
		b->family = AF_INET6;
		b->b[0] = 0xfd;
		b->b[1] = 0x99;
		b->b[14] = (uint8_t)(i >> 8);
		b->b[15] = (uint8_t)i;
	}
	return k;
}

/* Returns 1 on failure, which ends the run. */
static int report(const char *cmd, int rc, const char *what, const struct err *err)
{
	if (rc < 0) {
		printf("%s rc=%d\n", cmd, rc);
		fflush(stdout);
		fprintf(stderr, "traffic_test: %s: %s\n", cmd, err->msg);
		return 1;
	}
	if (what && what[0])
		printf("%s rc=%d: %s\n", cmd, rc, what);
	else
		printf("%s rc=%d\n", cmd, rc);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "net", required_argument, NULL, 'n' },
		{ "subnet", required_argument, NULL, 's' },
		{ "net6", required_argument, NULL, 'N' },
		{ "subnet6", required_argument, NULL, 'S' },
		{ "old-net", required_argument, NULL, 'o' },
		{ "old-subnet", required_argument, NULL, 'p' },
		{ "old-net6", required_argument, NULL, 'O' },
		{ "old-subnet6", required_argument, NULL, 'P' },
		{ "no-masq", no_argument, NULL, 'M' },
		{ "no-forward", no_argument, NULL, 'F' },
		{ "no-random", no_argument, NULL, 'R' },
		{ "overlay-udp", required_argument, NULL, 'U' },
		{ "overlay-ipip", no_argument, NULL, 'I' },
		{ "peer", required_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	struct traffic_params now = { .masq = true, .forward = true }, old = { 0 };
	struct err err = { { 0 } };
	struct traffic *t = NULL;
	bool nft = false, has_old = false;
	char what[1024];
	int c, rc, i, failed = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (strcmp(optarg, "nft") != 0 && strcmp(optarg, "ipt") != 0)
				usage();
			nft = strcmp(optarg, "nft") == 0;
			break;
		case 'n':
			prefix(optarg, &now.network);
			now.ipv4 = true;
			break;
		case 's':
			prefix(optarg, &now.subnet);
			break;
		case 'N':
			prefix(optarg, &now.network6);
			now.ipv6 = true;
			break;
		case 'S':
			prefix(optarg, &now.subnet6);
			break;
		case 'o':
			prefix(optarg, &old.network);
			old.ipv4 = has_old = true;
			break;
		case 'p':
			prefix(optarg, &old.subnet);
			break;
		case 'O':
			prefix(optarg, &old.network6);
			old.ipv6 = has_old = true;
			break;
		case 'P':
			prefix(optarg, &old.subnet6);
			break;
		case 'M':
			now.masq = false;
			break;
		case 'F':
			now.forward = false;
			break;
		case 'R':
			now.fully_random_disable = true;
			break;
		case 'U':
			now.overlay_proto = IPPROTO_UDP;
			now.overlay_port = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case 'I':
			now.overlay_proto = IPPROTO_IPIP;
			break;
		case 'E':
			add_peer(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	/* The previous run had the same switches; only the prefixes moved. */
	old.masq = true;
	old.forward = now.forward;
	old.fully_random_disable = now.fully_random_disable;

	now.peers = peers;
	now.npeers = make_peers(0);
	rc = traffic_new(nft, &t, &err);
	if (report("new", rc, NULL, &err))
		return 1;
	for (i = optind; i < argc && !failed; i++) {
		const char *cmd = argv[i];

		what[0] = '\0';
		if (strcmp(cmd, "cleanup") == 0 || strcmp(cmd, "start") == 0) {
			rc = traffic_cleanup(t, &now, has_old ? &old : NULL, what, sizeof(what),
					     &err);
			failed = report("cleanup", rc, what, &err);
			if (failed)
				break;
		}
		if (strcmp(cmd, "apply") == 0 || strcmp(cmd, "start") == 0) {
			rc = traffic_apply(t, &now, &err);
			failed = report("apply", rc, NULL, &err);
		} else if (strcmp(cmd, "peers") == 0 || strncmp(cmd, "peers:", 6) == 0) {
			int64_t t0;
			char label[64];

			if (cmd[5] == ':')
				now.npeers = make_peers(strtoul(cmd + 6, NULL, 10));
			t0 = clock_now_ms();
			rc = traffic_peers(t, &now, what, sizeof(what), &err);
			snprintf(label, sizeof(label), "%s (%lld ms)", cmd,
				 (long long)(clock_now_ms() - t0));
			failed = report(label, rc, what, &err);
		} else if (strcmp(cmd, "check") == 0) {
			rc = traffic_check(t, &now, what, sizeof(what), &err);
			failed = report("check", rc, what, &err);
		} else if (strcmp(cmd, "cleanup") != 0 && strcmp(cmd, "start") != 0) {
			usage();
		}
	}
	traffic_free(t);
	return failed;
}
