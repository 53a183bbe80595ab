/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CNI_DELEGATE_H
#define WEFT_CNI_DELEGATE_H

/*
 * The delegate's network configuration (spec §11.3), built from the plugin's
 * own configuration and subnet.env, and its bytes: what upstream's
 * json.Marshal produces, so that the file stored for DEL is the same.
 */
#include <jansson.h>

struct buf;
struct cni_conf;
struct cni_error;
struct flannel_env;

#define DELEGATE_DEFAULT_TYPE "bridge"
#define DELEGATE_DEFAULT_IPAM "host-local"
#define DELEGATE_MAX_SIZE (8 * 1024 * 1024)

/* Upstream's checks of the "delegate" dictionary (code 7): "type", if
 * present, is a string; "name" and "ipam" are not there. */
int delegate_check(const struct cni_conf *c, struct cni_error *e);

/*
 * delegate + runtimeConfig, name, type (default bridge), ipMasq (= not
 * FLANNEL_IPMASQ), mtu (= FLANNEL_MTU), isGateway (bridge only), cniVersion,
 * and ipam = the plugin's ipam with type defaulting to host-local, ranges
 * replaced by the subnets and routes = its routes (normalised as libcni's
 * types.Route) followed by one per network. Keys given in the delegate win.
 * Returns a new reference in *ret.
 */
int delegate_build(const struct cni_conf *c, const struct flannel_env *env, json_t **ret,
		   struct cni_error *e);

/* Append the bytes json.Marshal would give for d (a delegate built above, or
 * one read back from the state directory) to out. */
int delegate_encode(const json_t *d, struct buf *out, struct cni_error *e);

/* The "type" of a configuration, matched as libcni's types.NetConf does
 * (case-insensitively); NULL unless it is a string. */
const char *delegate_type(const json_t *d);

#endif
