// SPDX-License-Identifier: Apache-2.0
/*
 * Node objects ↔ leases and annotations (see node.h). The annotation values
 * are byte strings compared exactly, as flannel compares them; backend data
 * is passed through as the annotation's text.
 */
#include "kube/node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json_ci.h"
#include "core/xmalloc.h"
#include "subnet/lease.h"
#include "subnet/subnet_mgr.h"

static const char *const annot_suffix[KA_COUNT] = {
	[KA_MANAGED] = "kube-subnet-manager",
	[KA_BACKEND_TYPE] = "backend-type",
	[KA_BACKEND_DATA] = "backend-data",
	[KA_BACKEND_V6_DATA] = "backend-v6-data",
	[KA_PUBLIC_IP] = "public-ip",
	[KA_PUBLIC_IPV6] = "public-ipv6",
	[KA_PUBLIC_IP_OVERWRITE] = "public-ip-overwrite",
	[KA_PUBLIC_IPV6_OVERWRITE] = "public-ipv6-overwrite",
	[KA_NODE_PUBLIC_IP] = "node-public-ip",
	[KA_NODE_PUBLIC_IPV6] = "node-public-ipv6",
};

/* ---- annotation names ---- */

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* flannel's `(?:[a-z0-9_-]+\.)+[a-z0-9_-]+/(?:[a-z0-9_-]+-)?$`, anchored. */
static bool prefix_valid(const char *p, size_t *ret_name_len)
{
	const char *slash = strchr(p, '/'), *s;
	size_t labels = 0, label_len = 0;

	if (!slash || slash == p || (size_t)(slash - p) > 253)
		return false;
	for (s = p; s < slash; s++) {
		if (*s == '.') {
			if (!label_len)
				return false;
			labels++;
			label_len = 0;
		} else if (label_char(*s)) {
			label_len++;
		} else {
			return false;
		}
	}
	if (!label_len || labels < 1)
		return false;
	for (s = slash + 1; *s; s++)
		if (!label_char(*s))
			return false;
	*ret_name_len = strlen(slash + 1);
	/* empty, or at least one character before the final '-' */
	return *ret_name_len == 0 || (*ret_name_len >= 2 && s[-1] == '-');
}

int kube_annots_init(struct kube_annots *a, const char *prefix, struct err *err)
{
	const char *slash;
	size_t n, name_len;

	memset(a, 0, sizeof(*a));
	if (!prefix || !*prefix)
		prefix = KUBE_DEFAULT_ANNOTATION_PREFIX;
	slash = strchr(prefix, '/');
	if (slash && strchr(slash + 1, '/'))
		return err_set(err, -EINVAL, "annotation prefix \"%s\" may contain at most one '/'",
			       prefix);
	n = strlen(prefix);
	if (n > sizeof(a->prefix) - 3)
		return err_set(err, -EINVAL, "annotation prefix \"%s\" is too long", prefix);
	memcpy(a->prefix, prefix, n + 1);
	if (!slash)
		a->prefix[n++] = '/';
	if (a->prefix[n - 1] != '/' && a->prefix[n - 1] != '-')
		a->prefix[n++] = '-';
	a->prefix[n] = '\0';
	if (!prefix_valid(a->prefix, &name_len))
		return err_set(err, -EINVAL, "annotation prefix \"%s\" (normalised \"%s\") must have "
			       "the form example.com/[name-]", prefix, a->prefix);
	if (name_len + strlen("public-ipv6-overwrite") > 63)
		return err_set(err, -EINVAL, "annotation prefix \"%s\": the name part \"%s\" makes "
			       "annotation names longer than 63 characters", prefix,
			       strchr(a->prefix, '/') + 1);
	for (int i = 0; i < KA_COUNT; i++)
		snprintf(a->name[i], sizeof(a->name[i]), "%s%s", a->prefix, annot_suffix[i]);
	return 0;
}

/* ---- Node objects ---- */

void kube_node_free(struct kube_node *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->resource_version);
	free(n->pod_cidr);
	for (size_t i = 0; i < n->n_pod_cidrs; i++)
		free(n->pod_cidrs[i]);
	free(n->pod_cidrs);
	for (int i = 0; i < KA_COUNT; i++)
		free(n->annot[i]);
	memset(n, 0, sizeof(*n));
}

/* JSON strings are length-counted and may hold "\u0000"; ours are C strings,
 * and "name\u0000x" must not alias "name" (a peer's lease, our own node). */
static bool has_nul(const json_t *v)
{
	return strlen(json_string_value(v)) != json_string_length(v);
}

static int opt_string(const json_t *v, const char *what, char **ret, struct err *err)
{
	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(err, -EINVAL, "%s is not a string", what);
	if (has_nul(v))
		return err_set(err, -EINVAL, "%s contains a NUL byte", what);
	*ret = xstrdup(json_string_value(v));
	return 0;
}

int kube_node_from_json(const json_t *obj, const struct kube_annots *a, struct kube_node *ret,
			struct err *err)
{
	struct kube_node n = { 0 };
	const json_t *meta, *spec, *ann, *cidrs, *v;
	size_t i;
	int rc;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(obj))
		return err_set(err, -EINVAL, "the node is not a JSON object");
	meta = json_object_get(obj, "metadata");
	if (!json_is_object(meta))
		return err_set(err, -EINVAL, "the node has no metadata");
	rc = opt_string(json_object_get(meta, "name"), "metadata.name", &n.name, err);
	if (rc < 0)
		goto fail;
	if (!n.name || !*n.name || strlen(n.name) > 253) {
		rc = err_set(err, -EINVAL, "the node has no valid metadata.name");
		goto fail;
	}
	rc = opt_string(json_object_get(meta, "resourceVersion"), "metadata.resourceVersion",
			&n.resource_version, err);
	if (rc < 0)
		goto fail;
	ann = json_object_get(meta, "annotations");
	if (ann && !json_is_null(ann) && !json_is_object(ann)) {
		rc = err_set(err, -EINVAL, "node %s: metadata.annotations is not an object", n.name);
		goto fail;
	}
	for (int k = 0; k < KA_COUNT; k++) {
		v = json_object_get(ann, a->name[k]);
		if (v && (!json_is_string(v) || has_nul(v))) {
			rc = err_set(err, -EINVAL, "node %s: annotation %s %s", n.name, a->name[k],
				     json_is_string(v) ? "contains a NUL byte" : "is not a string");
			goto fail;
		}
		if (v)
			n.annot[k] = xstrdup(json_string_value(v));
	}
	spec = json_object_get(obj, "spec");
	if (spec && !json_is_null(spec) && !json_is_object(spec)) {
		rc = err_set(err, -EINVAL, "node %s: spec is not an object", n.name);
		goto fail;
	}
	rc = opt_string(json_object_get(spec, "podCIDR"), "spec.podCIDR", &n.pod_cidr, err);
	if (rc < 0)
		goto fail;
	cidrs = json_object_get(spec, "podCIDRs");
	if (cidrs && !json_is_null(cidrs)) {
		if (!json_is_array(cidrs) || json_array_size(cidrs) > 16) {
			rc = err_set(err, -EINVAL, "node %s: spec.podCIDRs is not a short list", n.name);
			goto fail;
		}
		n.pod_cidrs = xcalloc(json_array_size(cidrs) + 1, sizeof(char *));
		json_array_foreach(cidrs, i, v) {
			if (!json_is_string(v) || has_nul(v)) {
				rc = err_set(err, -EINVAL, "node %s: spec.podCIDRs[%zu] %s", n.name, i,
					     json_is_string(v) ? "contains a NUL byte"
							       : "is not a string");
				goto fail;
			}
			n.pod_cidrs[n.n_pod_cidrs++] = xstrdup(json_string_value(v));
		}
	}
	*ret = n;
	return 0;
fail:
	kube_node_free(&n);
	return rc;
}

int kube_node_cidrs(const struct kube_node *n, struct ip_prefix *ret_v4, bool *ret_has_v4,
		    struct ip_prefix *ret_v6, bool *ret_has_v6, struct err *err)
{
	const char *single[1] = { n->pod_cidr };
	const char *const *list = (const char *const *)n->pod_cidrs;
	size_t count = n->n_pod_cidrs;

	*ret_has_v4 = *ret_has_v6 = false;
	memset(ret_v4, 0, sizeof(*ret_v4));
	memset(ret_v6, 0, sizeof(*ret_v6));
	if (count == 0) {
		if (!n->pod_cidr || !*n->pod_cidr)
			return err_set(err, -ENOENT, "node \"%s\" pod cidr not assigned "
				       "(spec.podCIDR is empty)", n->name);
		list = single;
		count = 1;
	} else if (count > 2) {
		return err_set(err, -EINVAL, "node \"%s\" pod cidrs should be IPv4/IPv6 only or "
			       "dualstack (spec.podCIDRs has %zu entries)", n->name, count);
	}
	for (size_t i = 0; i < count; i++) {
		struct ip_prefix p;
		bool *has;

		if (ip_prefix_parse(list[i], &p) < 0)
			return err_set(err, -EINVAL, "node \"%s\": podCIDR \"%s\" is not a CIDR",
				       n->name, list[i]);
		has = p.addr.family == AF_INET ? ret_has_v4 : ret_has_v6;
		if (*has)
			return err_set(err, -EINVAL, "node \"%s\": two IPv%c podCIDRs", n->name,
				       p.addr.family == AF_INET ? '4' : '6');
		*has = true;
		*(p.addr.family == AF_INET ? ret_v4 : ret_v6) = p;
	}
	return 0;
}

/* Backend data is passed through, but must be one JSON value (or absent). */
static int backend_data(const char *v, const char *annot, char **ret, struct err *err)
{
	json_t *j;

	*ret = NULL;
	if (!v || !*v)
		return 0;
	j = json_loads(v, JSON_DECODE_ANY, NULL);
	if (!j)
		return err_set(err, -EINVAL, "annotation %s is not JSON", annot);
	json_decref(j);
	*ret = xstrdup(v);
	return 0;
}

int kube_node_to_lease(const struct kube_node *n, const struct kube_annots *a, bool enable_v4,
		       bool enable_v6, struct lease *ret, struct err *err)
{
	struct lease l = { 0 };
	struct ip_prefix v4, v6;
	bool has_v4, has_v6;
	const char *bt = n->annot[KA_BACKEND_TYPE] ? n->annot[KA_BACKEND_TYPE] : "";
	int rc;

	memset(ret, 0, sizeof(*ret));
	if (!n->annot[KA_MANAGED] || strcmp(n->annot[KA_MANAGED], "true"))
		return -ENOENT;
	rc = kube_node_cidrs(n, &v4, &has_v4, &v6, &has_v6, err);
	if (rc < 0)
		return -EINVAL;
	if (strlen(bt) >= sizeof(l.attrs.backend_type))
		return err_set(err, -EINVAL, "annotation %s is too long", a->name[KA_BACKEND_TYPE]);
	memcpy(l.attrs.backend_type, bt, strlen(bt) + 1);
	if (enable_v4) {
		const char *pub = n->annot[KA_PUBLIC_IP];

		if (!pub || ip_addr_parse_family(pub, AF_INET, &l.attrs.public_ip) < 0) {
			rc = err_set(err, -EINVAL, "annotation %s \"%s\" is not an IPv4 address",
				     a->name[KA_PUBLIC_IP], pub ? pub : "");
			goto fail;
		}
		if (!has_v4) {
			rc = err_set(err, -EINVAL, "node \"%s\" has no IPv4 podCIDR", n->name);
			goto fail;
		}
		l.subnet.v4 = v4;
		rc = backend_data(n->annot[KA_BACKEND_DATA], a->name[KA_BACKEND_DATA],
				  &l.attrs.backend_data, err);
		if (rc < 0)
			goto fail;
	} else {
		ip_prefix_parse("0.0.0.0/0", &l.subnet.v4);
		ip_addr_parse("0.0.0.0", &l.attrs.public_ip);
	}
	if (enable_v6) {
		const char *pub = n->annot[KA_PUBLIC_IPV6];

		if (!pub || ip_addr_parse_family(pub, AF_INET6, &l.attrs.public_ipv6) < 0) {
			rc = err_set(err, -EINVAL, "annotation %s \"%s\" is not an IPv6 address",
				     a->name[KA_PUBLIC_IPV6], pub ? pub : "");
			goto fail;
		}
		if (!has_v6) {
			rc = err_set(err, -EINVAL, "node \"%s\" has no IPv6 podCIDR", n->name);
			goto fail;
		}
		l.subnet.v6 = v6;
		l.subnet.has_v6 = true;
		rc = backend_data(n->annot[KA_BACKEND_V6_DATA], a->name[KA_BACKEND_V6_DATA],
				  &l.attrs.backend_v6_data, err);
		if (rc < 0)
			goto fail;
	}
	rc = subnet_key_format(&l.subnet, l.name, sizeof(l.name));
	if (rc < 0) {
		rc = err_set(err, -EINVAL, "node \"%s\": its podCIDRs cannot form a lease (%s)",
			     n->name, rc == -ERANGE ? "prefix too long" : "not a network");
		goto fail;
	}
	*ret = l;
	ret->node.key = ret->name; /* not l.name: l dies with this frame */
	return 0;
fail:
	lease_attrs_free(&l.attrs);
	return rc;
}

/* ---- our own node ---- */

/* The published address: the overwrite annotation when it is a valid
 * address of the family, else the detected one. */
static void published(const struct kube_node *n, enum kube_annot ow, int family,
		      const struct ip_addr *detected, const struct kube_annots *a,
		      struct ip_addr *ret, bool *ret_bad, struct err *warn)
{
	const char *v = n->annot[ow];

	*ret = *detected;
	if (!v || !*v)
		return;
	if (ip_addr_parse_family(v, family, ret) < 0) {
		*ret = *detected;
		*ret_bad = true;
		err_set(warn, 1, "annotation %s \"%s\" is not an IPv%c address, ignoring it",
			a->name[ow], v, family == AF_INET ? '4' : '6');
	}
}

static void want(json_t *patch, const struct kube_node *n, const struct kube_annots *a,
		 enum kube_annot k, const char *value)
{
	if (n->annot[k] && !strcmp(n->annot[k], value))
		return;
	json_object_set_new(patch, a->name[k], json_string(value));
}

int kube_own_patch(const struct kube_annots *a, const struct kube_node *n,
		   const struct lease_attrs *attrs, char **ret_body,
		   struct ip_addr *ret_public_ip, struct ip_addr *ret_public_ipv6, struct err *warn)
{
	const char *bt = attrs->backend_type;
	const char *bd = attrs->backend_data && *attrs->backend_data ? attrs->backend_data : "null";
	const char *bd6 = attrs->backend_v6_data && *attrs->backend_v6_data
				  ? attrs->backend_v6_data : "null";
	bool has_pub6 = attrs->public_ipv6.family == AF_INET6, bad = false;
	struct ip_addr pub4, pub6 = { 0 }, zero4;
	char s[IP_ADDR_STRLEN];
	json_t *ann = json_object(), *body;
	bool v4_group, v6_group;

	*ret_body = NULL;
	ip_addr_parse("0.0.0.0", &zero4);
	published(n, KA_PUBLIC_IP_OVERWRITE, AF_INET,
		  attrs->public_ip.family == AF_INET ? &attrs->public_ip : &zero4, a, &pub4, &bad,
		  warn);
	if (has_pub6)
		published(n, KA_PUBLIC_IPV6_OVERWRITE, AF_INET6, &attrs->public_ipv6, a, &pub6,
			  &bad, warn);
	/* flannel's rules for which groups are written (kube.go AcquireLease). */
	v4_group = (!strcmp(bt, "vxlan") && strcmp(bd, "null")) || strcmp(bt, "vxlan");
	v6_group = (!strcmp(bt, "vxlan") && strcmp(bd6, "null")) ||
		   (!strcmp(bt, "wireguard") && strcmp(bd6, "null") && has_pub6) ||
		   (!strcmp(bt, "host-gw") && has_pub6) || (!strcmp(bt, "extension") && has_pub6);
	want(ann, n, a, KA_BACKEND_TYPE, bt);
	if (v4_group) {
		want(ann, n, a, KA_BACKEND_DATA, bd);
		want(ann, n, a, KA_PUBLIC_IP, ip_addr_format(&pub4, s));
	}
	if (v6_group && has_pub6) {
		want(ann, n, a, KA_BACKEND_V6_DATA, bd6);
		want(ann, n, a, KA_PUBLIC_IPV6, ip_addr_format(&pub6, s));
	}
	want(ann, n, a, KA_MANAGED, "true");
	if (ret_public_ip)
		*ret_public_ip = attrs->public_ip.family == AF_INET ? pub4 : attrs->public_ip;
	if (ret_public_ipv6)
		*ret_public_ipv6 = has_pub6 ? pub6 : attrs->public_ipv6;
	if (json_object_size(ann) == 0) {
		json_decref(ann);
		return bad;
	}
	body = json_pack("{s:{s:o}}", "metadata", "annotations", ann);
	*ret_body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!*ret_body)
		abort(); /* jansson only fails on out-of-memory */
	return bad;
}

char *kube_condition_patch(time_t now)
{
	char ts[32], *body;
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* Field order as Go marshals v1.NodeCondition. */
	xasprintf(&body,
		  "{\"status\":{\"conditions\":[{\"type\":\"NetworkUnavailable\",\"status\":\"False\","
		  "\"lastHeartbeatTime\":\"%s\",\"lastTransitionTime\":\"%s\","
		  "\"reason\":\"FlannelIsUp\",\"message\":\"Flannel is running on this node\"}]}}",
		  ts, ts);
	return body;
}

void kube_node_prev_attrs(const struct kube_node *n, struct lease_attrs *ret)
{
	const char *type = n->annot[KA_BACKEND_TYPE];

	memset(ret, 0, sizeof(*ret));
	if (type && strlen(type) < sizeof(ret->backend_type))
		memcpy(ret->backend_type, type, strlen(type) + 1);
	if (n->annot[KA_BACKEND_DATA])
		ret->backend_data = xstrdup(n->annot[KA_BACKEND_DATA]);
	if (n->annot[KA_BACKEND_V6_DATA])
		ret->backend_v6_data = xstrdup(n->annot[KA_BACKEND_V6_DATA]);
}

int kube_node_public_ip_hint(const struct kube_node *n, int family, struct ip_addr *ret)
{
	const char *v = n->annot[family == AF_INET6 ? KA_NODE_PUBLIC_IPV6 : KA_NODE_PUBLIC_IP];

	if (!v || !*v)
		return -ENOENT;
	return ip_addr_parse_family(v, family, ret) < 0 ? -EINVAL : 0;
}
