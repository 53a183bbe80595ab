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
 *   COMMAND: cleanup | apply | check | start (cleanup, then apply)
 *
 * Commands run in order on one object; each prints one line:
 *   "<command> rc=<n>[: <what>]". A negative rc also prints the error on
 * stderr and ends the program with status 1.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
