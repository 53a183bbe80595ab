// SPDX-License-Identifier: Apache-2.0
/*
 * weftctl config: network config (net-conf.json, etcd <prefix>/config) tools.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/ipnet.h"
#include "core/xmalloc.h"
#include "subnet/netconf.h"
#include "weftctl.h"

static void config_usage(FILE *f)
{
	fprintf(f, "usage: weftctl config check FILE|-\n\n"
		   "  check FILE   validate a network config as flanneld does in etcd mode\n"
		   "               and print the values it would use ('-' reads stdin)\n");
}

/* Reads at most max bytes; a longer input comes back as max + 1 bytes so
 * that the parser can refuse it by size. */
static int read_input(const char *path, size_t max, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 4096;
	char *buf = NULL;
	ssize_t n;
	int fd, r = 0;

	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0)
		return -errno;
	buf = xmalloc(cap);
	for (;;) {
		if (len == cap) {
			if (cap > max)
				break;
			cap *= 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = buf;
	*ret_len = len > max ? max + 1 : len;
	buf = NULL;
out:
	if (fd != STDIN_FILENO)
		close(fd);
	free(buf);
	return r;
}

static void print_netconf(FILE *f, const struct netconf *nc)
{
	char buf[IP_PREFIX_STRLEN];

	if (nc->enable_ipv4) {
		fprintf(f, "Network: %s\n", ip_prefix_format(&nc->network, buf));
		fprintf(f, "SubnetLen: %u\n", nc->subnet_len);
		fprintf(f, "SubnetMin: %s\n", ip_addr_format(&nc->subnet_min, buf));
		fprintf(f, "SubnetMax: %s\n", ip_addr_format(&nc->subnet_max, buf));
	}
	if (nc->enable_ipv6) {
		fprintf(f, "IPv6Network: %s\n", ip_prefix_format(&nc->ipv6_network, buf));
		fprintf(f, "IPv6SubnetLen: %u\n", nc->ipv6_subnet_len);
		fprintf(f, "IPv6SubnetMin: %s\n", ip_addr_format(&nc->ipv6_subnet_min, buf));
		fprintf(f, "IPv6SubnetMax: %s\n", ip_addr_format(&nc->ipv6_subnet_max, buf));
	}
	fprintf(f, "EnableIPv4: %s\n", nc->enable_ipv4 ? "true" : "false");
	fprintf(f, "EnableIPv6: %s\n", nc->enable_ipv6 ? "true" : "false");
	fprintf(f, "EnableNFTables: %s\n", nc->enable_nftables ? "true" : "false");
	fprintf(f, "Backend: %s\n", *nc->backend_type ? nc->backend_type : "\"\"");
}

static int config_check(int argc, char **argv)
{
	struct err err = {{0}};
	struct netconf nc;
	const char *name;
	char *text = NULL;
	size_t len = 0;
	int r;

	if (argc == 2 && weftctl_is_help(argv[1])) {
		config_usage(stdout);
		return 0;
	}
	if (argc != 2) {
		config_usage(stderr);
		return -EINVAL;
	}
	name = strcmp(argv[1], "-") ? argv[1] : "<stdin>";
	r = read_input(argv[1], NETCONF_MAX_SIZE, &text, &len);
	if (r < 0) {
		fprintf(stderr, "weftctl: %s: %s\n", name, strerror(-r));
		return r;
	}
	r = netconf_load(text, len, &nc, &err);
	if (r < 0) {
		fprintf(stderr, "weftctl: %s: %s\n", name, err.msg);
		goto out;
	}
	if (nc.backend_defaulted)
		fprintf(stderr, "weftctl: warning: %s: Backend not set; flannel defaults to udp\n",
			name);
	print_netconf(stdout, &nc);
	netconf_free(&nc);
out:
	free(text);
	return r;
}

int cmd_config(int argc, char **argv)
{
	if (argc < 2) {
		config_usage(stderr);
		return -EINVAL;
	}
	if (weftctl_is_help(argv[1])) {
		config_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "check"))
		return config_check(argc - 1, argv + 1);
	fprintf(stderr, "weftctl: config: unknown subcommand '%s'\n", argv[1]);
	config_usage(stderr);
	return -EINVAL;
}
