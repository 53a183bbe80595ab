/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_AGENT_FLAGS_H
#define WEFT_AGENT_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * flanneld's command line (flannel.md §1): Go `flag` syntax, then the
 * FLANNELD_* environment for every flag not given on the command line.
 * One descriptor table in flags.c drives parsing, the environment and usage.
 */

struct err;

/* A repeatable flag's values, in the order given. */
struct flags_strv {
	char **v;
	size_t n;
};

/* Parsed values. Strings are owned and never NULL after a successful parse. */
struct flags {
	char *etcd_endpoints;
	char *etcd_prefix;
	char *etcd_keyfile;
	char *etcd_certfile;
	char *etcd_cafile;
	char *etcd_username;
	char *etcd_password; /* also read from etcd_password_file */
	char *etcd_password_file;
	bool kube_subnet_mgr;
	char *kube_api_url;
	char *kubeconfig_file;
	char *kube_annotation_prefix;
	struct flags_strv iface;
	struct flags_strv iface_regex;
	char *iface_can_reach;
	char *public_ip;
	char *public_ipv6;
	char *subnet_file;
	int64_t subnet_lease_renew_margin; /* minutes, 1..1439 */
	int64_t etcd_watch_idle_timeout; /* seconds, 60..86400 */
	bool ip_masq;
	bool ip_masq_fully_random_disable;
	int64_t iptables_resync; /* seconds, 1..86400 */
	bool iptables_forward_rules;
	bool ip_blackhole_route;
	bool overlay_peers_only; /* weft: the overlay port only from peers */
	char *net_config_path;
	char *charon_path;   /* ipsec: "" = search as upstream */
	char *ipsec_run_dir; /* ipsec: charon's config, socket, pid file, log */
	bool set_node_network_unavailable;
	char *healthz_ip;
	int64_t healthz_port; /* 0..65535, 0 disables */
	/* /metrics and /status: their own listener, never the health one */
	char *metrics_ip;
	int64_t metrics_port; /* 0..65535, 0 disables */
	bool version;
	char *log_format; /* "text" or "klog" (log_format_parse) */
	/* klog's flags: -v is honoured, the other two are accepted and ignored. */
	int v; /* 0..100 */
	char *vmodule;
	char *log_backtrace_at;
};

/* Positive returns of flags_parse: print and exit 0. */
#define FLAGS_HELP    1
#define FLAGS_VERSION 2

/*
 * argv[0] is the program name. envp NULL means `environ`. Returns 0,
 * FLAGS_HELP, FLAGS_VERSION (decided before the environment is read, as in
 * flanneld), or a negative errno with err set; ret is then empty. Whatever
 * the result, flags_free(ret) is safe.
 */
int flags_parse(int argc, char **argv, char **envp, struct flags *ret, struct err *err);
void flags_usage(FILE *out, const char *progname);
/* "name=value ..." for every flag, secrets masked; caller frees. */
char *flags_describe(const struct flags *f);
void flags_free(struct flags *f);

#endif
