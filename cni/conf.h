/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CNI_CONF_H
#define WEFT_CNI_CONF_H

/*
 * The plugin's two inputs: the network configuration on stdin (spec §11.1)
 * and flanneld's subnet.env (§11.2).
 */
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/ipnet.h"

struct cni_error;

#define CNI_DEFAULT_SUBNET_FILE "/run/flannel/subnet.env"
#define CNI_DEFAULT_DATA_DIR "/var/lib/cni/flannel"
#define CNI_MAX_INPUT (1024 * 1024)
#define FLANNEL_ENV_MAX_SIZE (64 * 1024)

/*
 * Top-level keys match case-insensitively (the last match wins), as Go's
 * json.Unmarshal into upstream's NetConf struct does; keys inside delegate,
 * ipam and runtimeConfig are map keys and match exactly. A null value counts
 * as absent; an empty subnetFile or dataDir means the default.
 */
struct cni_conf {
	json_t *root; /* the whole document; the pointers below borrow from it */
	const char *name;
	const char *cni_version; /* as given, "" when absent */
	const char *subnet_file;
	const char *data_dir;
	json_t *delegate;	/* object or NULL */
	json_t *ipam;		/* object or NULL */
	json_t *runtime_config; /* object or NULL */
	json_t *prev_result;	/* any JSON value or NULL */
};

/* Decode stdin. Errors: CNI code 6 (not JSON, or a known key of the wrong
 * type) and 7 (name missing or invalid). */
int cni_conf_parse(const char *buf, size_t len, struct cni_conf *ret, struct cni_error *e);
void cni_conf_free(struct cni_conf *c);

/* The names allowed for a network and a container id:
 * [A-Za-z0-9][A-Za-z0-9_.-]* (libcni's utils.cniReg). */
bool cni_valid_name(const char *s);

/*
 * subnet.env as the plugin reads it: KEY=VALUE lines split at the first '='
 * (nothing trimmed, no quotes or comments; unknown keys ignored; a repeated
 * key replaces the earlier one). FLANNEL_NETWORK and FLANNEL_IPV6_NETWORK are
 * comma-separated CIDR lists (duplicates dropped); the subnets are single
 * CIDRs with the host part dropped (10.244.1.1/24 -> 10.244.1.0/24). Any
 * invalid value is an error, unlike the daemon's tolerant reader.
 */
struct flannel_env {
	struct ip_prefix *nws, *ip6_nws;
	unsigned n_nws, n_ip6_nws;
	bool has_sn, has_ip6_sn, has_mtu, has_ipmasq;
	struct ip_prefix sn, ip6_sn;
	unsigned mtu;
	bool ipmasq;
};

/* Read and check path. The message is upstream's: "failed to load flannel
 * 'subnet.env' file: <why>. Check the flannel pod log for this node.", with
 * code 5 when the file cannot be read and 7 when its content is wrong. */
int flannel_env_load(const char *path, struct flannel_env *ret, struct cni_error *e);
/* The parser alone; path only names the file in messages. */
int flannel_env_parse(const char *path, const char *buf, size_t len, struct flannel_env *ret,
		      struct cni_error *e);
void flannel_env_free(struct flannel_env *env);

#endif
