/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_SUBNET_KUBE_MGR_H
#define WEFT_SUBNET_KUBE_MGR_H

/*
 * The Kubernetes subnet manager (--kube-subnet-mgr, flannel.md §5): the
 * network config from the net-conf file, our subnet from our Node's
 * spec.podCIDR(s), our lease published as annotations on the Node (status
 * subresource), peers from a list + watch of all Nodes. Behind the same ops
 * table as the etcd manager; API errors are retried with backoff, never fatal.
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/ipnet.h"
#include "subnet/subnet_mgr.h"

struct err;
struct loop;

struct kube_mgr_params {
	struct loop *loop;
	const char *api_url;	       /* --kube-api-url, or NULL/"" */
	const char *kubeconfig;	       /* --kubeconfig-file, or NULL/"" (in-cluster) */
	const char *annotation_prefix; /* --kube-annotation-prefix, NULL/"" = default */
	const char *net_config_path;   /* --net-config-path */
	bool set_node_network_unavailable;
	/* How long the first list of nodes may take: after it, start-up fails
	 * (or goes on without it, with CONT_WHEN_CACHE_NOT_READY=true), as
	 * flanneld's informer sync. 0: flanneld's 10 minutes. */
	int64_t sync_timeout_ms;
};

/*
 * Checks what can be checked without the API (annotation prefix, how to reach
 * the API server and with which credentials, NODE_NAME or POD_NAME and
 * POD_NAMESPACE, EVENT_QUEUE_DEPTH); -errno with err saying what is missing,
 * unreadable or malformed.
 */
int kube_mgr_new(const struct kube_mgr_params *p, const struct subnet_mgr_cbs *cbs,
		 struct subnet_mgr **ret, struct err *err);

#endif
