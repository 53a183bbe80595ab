// SPDX-License-Identifier: Apache-2.0
/*
 * weftctl config: network config (net-conf.json, etcd <prefix>/config) tools.
 * check and put share one read-and-validate step (config_load), so put never
 * stores a config that check would refuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/options.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/file.h"
#include "core/ipnet.h"
#include "core/xmalloc.h"
#include "store.h"
#include "subnet/etcd_mgr.h"
#include "subnet/netconf.h"
#include "weftctl.h"

static void config_usage(FILE *f)
{
	fprintf(f, "usage: weftctl config check FILE|-\n"
		   "       weftctl config put [--dry-run] [ETCD OPTIONS] FILE|-\n\n"
		   "  check FILE   validate a network config as flanneld does in etcd mode\n"
		   "               and print the values it would use ('-' reads stdin)\n"
		   "  put FILE     validate it the same way, then write it to <prefix>/config\n"
		   "               in etcd and print the values and the key written\n\n"
		   "Run 'weftctl config put --help' for the options of put.\n");
}

static void config_put_usage(FILE *f)
{
	fprintf(f, "usage: weftctl config put [--dry-run] [ETCD OPTIONS] FILE|-\n\n"
		   "Validate the network config in FILE ('-' reads stdin) exactly as 'weftctl\n"
		   "config check' does, then write it to <prefix>/config (by default\n"
		   "/coreos.com/network/config), replacing what is there. The bytes of FILE are\n"
		   "stored unchanged, so flanneld and weftd read the very text given. Prints the\n"
		   "values the daemons will use, then the key written.\n\n"
		   "An invalid config (bad JSON, a bad field: the message names it) is refused\n"
		   "and nothing is written. Daemons read the config when they start (one still\n"
		   "waiting for a config retries every second): changing Backend or Network\n"
		   "under running nodes takes a restart of every node.\n\n"
		   "Options:\n"
		   "  --dry-run   validate and show what would be written, but do not contact\n"
		   "              etcd\n\n");
	store_opts_usage(f);
	fprintf(f, "\nExit status: 0 when written (or valid, with --dry-run), 1 on any error\n"
		   "(bad usage, unreadable or invalid config, etcd unreachable).\n");
}

int weftctl_read_input(const char *path, size_t max, char **ret, size_t *ret_len)
{
	struct buf b;
	int fd, r;

	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0)
		return -errno;
	/* One byte past max: the caller's parser says "larger than". */
	buf_init(&b, max + 1);
	r = file_read_fd(fd, &b);
	if (fd != STDIN_FILENO)
		close(fd);
	if (r < 0 && r != -E2BIG) {
		buf_free(&b);
		return r;
	}
	*ret = b.data;
	*ret_len = b.len;
	return 0;
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

/* What a path is called in messages. */
static const char *input_name(const char *path)
{
	return strcmp(path, "-") ? path : "<stdin>";
}

/*
 * The step check and put share: read path ('-': stdin) and validate it as
 * flanneld does in etcd mode. Reports its own errors and the missing-Backend
 * warning as "weftctl: NAME: ..."; on success the caller owns *ret_text (the
 * bytes as read) and *ret_nc.
 */
static int config_load(const char *path, char **ret_text, size_t *ret_len, struct netconf *ret_nc)
{
	struct err err = {{0}};
	const char *name = input_name(path);
	char *text = NULL;
	size_t len = 0;
	int r;

	r = weftctl_read_input(path, NETCONF_MAX_SIZE, &text, &len);
	if (r < 0) {
		fprintf(stderr, "weftctl: %s: %s\n", name, strerror(-r));
		return r;
	}
	r = netconf_load(text, len, ret_nc, &err);
	if (r < 0) {
		fprintf(stderr, "weftctl: %s: %s\n", name, err.msg);
		goto out;
	}
	/* What weftd's backend_new checks before any host-dependent step. */
	r = backend_options_check(ret_nc->backend_type, ret_nc, &err);
	if (r < 0) {
		fprintf(stderr, "weftctl: %s: Backend: %s\n", name, err.msg);
		netconf_free(ret_nc);
		goto out;
	}
	if (ret_nc->backend_defaulted)
		fprintf(stderr, "weftctl: warning: %s: Backend not set; flannel defaults to udp\n",
			name);
	*ret_text = text;
	*ret_len = len;
	text = NULL;
out:
	free(text);
	return r;
}

static int config_check(int argc, char **argv)
{
	struct netconf nc;
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
	r = config_load(argv[1], &text, &len, &nc);
	if (r < 0)
		return r;
	print_netconf(stdout, &nc);
	netconf_free(&nc);
	free(text);
	return 0;
}

static int config_put(int argc, char **argv)
{
	bool dry_run = false;
	const struct cmd_opt opts[] = {
		{.name = "dry-run", .flag = &dry_run},
		{0},
	};
	struct store_opts so;
	struct store *s = NULL;
	struct err err = {{0}};
	struct netconf nc;
	bool have_nc = false;
	char **pos = xcalloc((size_t)argc + 1, sizeof(*pos));
	char *text = NULL, *key = NULL;
	size_t len = 0;
	int npos = 0, r;

	r = store_args_parse(argc, argv, opts, &so, pos, &npos, &err);
	if (r == 1) {
		config_put_usage(stdout);
		r = 0;
		goto out;
	}
	if (r == 0 && npos == 0)
		r = err_set(&err, -EINVAL, "no FILE given ('-' reads stdin)");
	if (r == 0 && npos > 1)
		r = err_set(&err, -EINVAL, "unexpected argument '%s'", pos[1]);
	if (r < 0) {
		fprintf(stderr, "weftctl: config put: %s\n", err.msg);
		fprintf(stderr, "Run 'weftctl config put --help' for usage.\n");
		goto out;
	}
	r = config_load(pos[0], &text, &len, &nc);
	if (r < 0)
		goto out;
	have_nc = true;
	/* The key the daemons read: flanneld's join of the prefix and "config". */
	key = etcd_mgr_join(so.prefix, "config");
	if (!dry_run) {
		r = store_open(&so, &s, &err);
		if (r == 0)
			r = store_put(s, key, text, len, 0, &err);
		if (r < 0) {
			fprintf(stderr, "weftctl: config put: %s (nothing written)\n", err.msg);
			goto out;
		}
	}
	print_netconf(stdout, &nc);
	if (dry_run)
		printf("Dry run: would write %zu bytes to %s (etcd %s); nothing written\n", len,
		       key, so.endpoints);
	else
		printf("Wrote %zu bytes to %s (etcd %s)\n", len, key, so.endpoints);
out:
	if (have_nc)
		netconf_free(&nc);
	store_close(s);
	free(key);
	free(text);
	free(pos);
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
	if (!strcmp(argv[1], "put"))
		return config_put(argc - 1, argv + 1);
	fprintf(stderr, "weftctl: config: unknown subcommand '%s'\n", argv[1]);
	config_usage(stderr);
	return -EINVAL;
}
