/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_KUBE_NODE_H
#define WEFT_KUBE_NODE_H

/*
 * Node objects as flannel's kube subnet manager reads and writes them
 * (flannel.md §5): annotation names under a normalised prefix, the few fields
 * of a Node we keep, Node → lease, and the patches we send for our own node.
 * Pure functions: no I/O, no logging.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/ipnet.h"

struct err;
struct lease;
struct lease_attrs;

#define KUBE_DEFAULT_ANNOTATION_PREFIX "flannel.alpha.coreos.com"

enum kube_annot {
	KA_MANAGED,		  /* kube-subnet-manager */
	KA_BACKEND_TYPE,	  /* backend-type */
	KA_BACKEND_DATA,	  /* backend-data */
	KA_BACKEND_V6_DATA,	  /* backend-v6-data */
	KA_PUBLIC_IP,		  /* public-ip */
	KA_PUBLIC_IPV6,		  /* public-ipv6 */
	KA_PUBLIC_IP_OVERWRITE,	  /* public-ip-overwrite */
	KA_PUBLIC_IPV6_OVERWRITE, /* public-ipv6-overwrite */
	KA_NODE_PUBLIC_IP,	  /* node-public-ip */
	KA_NODE_PUBLIC_IPV6,	  /* node-public-ipv6 */
	KA_COUNT
};

struct kube_annots {
	char prefix[256];	 /* normalised: ends with '/' or '-' */
	char name[KA_COUNT][320]; /* full annotation names */
};

/*
 * flannel's newAnnotations: at most one '/'; none: '/' appended; then '-'
 * appended unless it ends with '/' or '-'. The part before '/' must be a DNS
 * subdomain and the rest a valid start of an annotation name (the longest
 * name must stay within 63 characters). "" means the default prefix.
 */
int kube_annots_init(struct kube_annots *a, const char *prefix, struct err *err);

/* The fields of a Node that matter to us; everything else is dropped. */
struct kube_node {
	char *name;
	char *resource_version;
	char *pod_cidr;	   /* spec.podCIDR, or NULL */
	char **pod_cidrs;  /* spec.podCIDRs */
	size_t n_pod_cidrs;
	char *annot[KA_COUNT]; /* values of our annotations; NULL when absent */
};

/* From a Node object (metadata.name is required). Wrong types are errors. */
int kube_node_from_json(const json_t *obj, const struct kube_annots *a, struct kube_node *ret,
			struct err *err);
void kube_node_free(struct kube_node *n);

/*
 * The node's pod subnets, as flannel reads them: spec.podCIDRs when not
 * empty (one or two, at most one per family), else spec.podCIDR. Errors: none
 * assigned ("pod cidr not assigned"), three or more, unparsable, two of one
 * family.
 */
int kube_node_cidrs(const struct kube_node *n, struct ip_prefix *ret_v4, bool *ret_has_v4,
		    struct ip_prefix *ret_v6, bool *ret_has_v6, struct err *err);

/*
 * A peer's lease (flannel's nodeToLease): -ENOENT when the node does not carry
 * "<prefix>kube-subnet-manager": "true" (ignore it silently), -EINVAL with the
 * reason when it does but something is unusable (public IP, podCIDR,
 * backend data that is not JSON). ret->attrs owns its strings.
 */
int kube_node_to_lease(const struct kube_node *n, const struct kube_annots *a, bool enable_v4,
		       bool enable_v6, struct lease *ret, struct err *err);

/*
 * Our own annotations (flannel's AcquireLease rules): the JSON body of a
 * strategic-merge patch of metadata.annotations holding only the values that
 * differ from the node's, or NULL in *ret_body when nothing differs. ret_public_ip /
 * ret_public_ipv6 (may be NULL) get the public addresses published, which are
 * the *-overwrite annotations when set. An overwrite that is not an address of
 * its family is ignored, and reported in warn (may be NULL) with return 1.
 */
int kube_own_patch(const struct kube_annots *a, const struct kube_node *n,
		   const struct lease_attrs *attrs, char **ret_body,
		   struct ip_addr *ret_public_ip, struct ip_addr *ret_public_ipv6, struct err *warn);

/* The strategic-merge patch of status.conditions that flanneld sends after
 * start: NetworkUnavailable=False, reason FlannelIsUp, both times = now. */
char *kube_condition_patch(time_t now);

/*
 * The lease attributes the node's annotations still carry from an earlier
 * run: backend-type (left empty when too long), backend-data and
 * backend-v6-data as written (not checked: the backend reads them). Public
 * addresses are left unset. ret owns its strings (lease_attrs_free).
 */
void kube_node_prev_attrs(const struct kube_node *n, struct lease_attrs *ret);

/* node-public-ip / node-public-ipv6: 0, -ENOENT when absent, -EINVAL when not
 * an address of the family. */
int kube_node_public_ip_hint(const struct kube_node *n, int family, struct ip_addr *ret);

#endif
