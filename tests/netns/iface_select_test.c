// SPDX-License-Identifier: Apache-2.0
/*
 * Driver for tests/netns/test_iface_select.sh: runs iface_select() once in
 * the current network namespace with weftd's own flag parser and prints the
 * result as key=value lines.
 *
 *   iface_select_test FAMILIES [WEFTD FLAGS...]
 *
 * FAMILIES is 4, 6 or 46 (the network's EnableIPv4/EnableIPv6). Prints
 * name, index, mtu, addr, addr6, public, public6 and why, exit 0; or
 * "error=<message>" and exit 1 (2 for a usage error).
 */
#include <stdio.h>
#include <string.h>

#include "agent/flags.h"
#include "agent/iface.h"
#include "core/err.h"

static const char *fmt(const struct ip_addr *a, char *buf)
{
	return a->family ? ip_addr_format(a, buf) : "";
}

int main(int argc, char **argv)
{
	char *envp[] = { NULL };
	struct flags flags;
	struct err err = { { 0 } };
	struct ext_iface ext;
	char why[768], b[4][IP_ADDR_STRLEN];
	struct iface_select sel = { 0 };
	int rc, code = 2;

	if (argc < 2 || strspn(argv[1], "46") != strlen(argv[1]) || !argv[1][0]) {
		fprintf(stderr, "usage: %s 4|6|46 [weftd flags]\n", argv[0]);
		return 2;
	}
	sel.want_v4 = strchr(argv[1], '4') != NULL;
	sel.want_v6 = strchr(argv[1], '6') != NULL;
	argv[1] = argv[0];
	rc = flags_parse(argc - 1, argv + 1, envp, &flags, &err);
	if (rc != 0) {
		fprintf(stderr, "flags: %s\n", rc < 0 ? err.msg : "help/version");
		goto out;
	}
	sel.ifaces = &flags.iface;
	sel.iface_regex = &flags.iface_regex;
	sel.can_reach = flags.iface_can_reach;
	sel.public_ip = flags.public_ip;
	sel.public_ipv6 = flags.public_ipv6;
	rc = iface_select(&sel, &ext, why, sizeof(why), &err);
	if (rc < 0) {
		printf("error=%s\n", err.msg);
		code = 1;
		goto out;
	}
	printf("name=%s\nindex=%d\nmtu=%u\naddr=%s\naddr6=%s\npublic=%s\npublic6=%s\nwhy=%s\n",
	       ext.name, ext.index, ext.mtu, fmt(&ext.iface_addr, b[0]),
	       fmt(&ext.iface_addr6, b[1]), fmt(&ext.public_ip, b[2]), fmt(&ext.public_ipv6, b[3]),
	       why);
	printf("forwarding=%d\n", iface_ipv4_forwarding());
	code = 0;
out:
	flags_free(&flags);
	return code;
}
