/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_SUBNET_ETCD_MGR_H
#define WEFT_SUBNET_ETCD_MGR_H

#include <stdint.h>

#include "core/ipnet.h"
#include "subnet/subnet_mgr.h"

struct loop;
struct err;
struct etcd_config;
struct subnet_env;

struct etcd_mgr_params {
	struct loop *loop;
	const struct etcd_config *etcd;
	const char *prefix;		/* --etcd-prefix */
	const struct subnet_env *prev;	/* subnet.env of the previous run, or NULL */
	int64_t lease_ttl_s;		/* 0 = 24 h */
	int64_t renew_margin_s;		/* renew this long before expiry */
	int64_t renew_retry_s;		/* 0 = 60 */
	const char *node_id;		/* owner records; NULL: etcd_mgr_node_id() */
};

int etcd_mgr_new(const struct etcd_mgr_params *p, const struct subnet_mgr_cbs *cbs,
		 struct subnet_mgr **ret, struct err *err);

/* "<prefix>/<name>" with duplicate slashes collapsed, as Go's path.Join. */
char *etcd_mgr_join(const char *prefix, const char *name);

#endif
