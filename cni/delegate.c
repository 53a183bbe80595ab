// SPDX-License-Identifier: Apache-2.0
/*
 * flannel_linux.go's doCmdAdd and getDelegateIPAM. Routes are the one place
 * where upstream's value is a Go struct (libcni types.Route) rather than a
 * map: input routes are decoded into it and encoded back, which drops unknown
 * keys, normalises addresses and orders keys dst, gw, mtu, advmss, priority,
 * table, scope.
 */
#include "delegate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "core/buf.h"
#include "core/json_ci.h"
#include "gojson.h"
#include "result.h"

static const char *const route_keys[] = {
	"dst", "gw", "mtu", "advmss", "priority", "table", "scope", NULL,
};

int delegate_check(const struct cni_conf *c, struct cni_error *e)
{
	json_t *t;

	if (!c->delegate)
		return 0;
	t = json_object_get(c->delegate, "type");
	if (t && !json_is_string(t))
		return cni_fail(
			e, CNI_ERR_INVALID_CONFIG,
			"'delegate' dictionary, if present, must have (string) 'type' field");
	if (json_object_get(c->delegate, "name"))
		return cni_fail(e, CNI_ERR_INVALID_CONFIG,
				"'delegate' dictionary must not have 'name' field, it'll be set by "
				"flannel");
	if (json_object_get(c->delegate, "ipam"))
		return cni_fail(e, CNI_ERR_INVALID_CONFIG,
				"'delegate' dictionary must not have 'ipam' field, it'll be set by "
				"flannel");
	return 0;
}

const char *delegate_type(const json_t *d)
{
	json_t *t = json_object_get(d, "type");

	if (!t)
		t = json_get_ci(d, "type");
	return json_string_value(t); /* NULL unless a string */
}

static int set_new(json_t *obj, const char *key, json_t *v)
{
	return json_object_set_new(obj, key, v) < 0 ? -ENOMEM : 0;
}

#define ROUTE_ERR                                                                                  \
	"failed to assemble Delegate IPAM: failed to read IPAM routes: "                           \
	"failed to parse ipam.routes: "

static const char *kind(const json_t *v)
{
	if (json_is_number(v))
		return "number";
	if (json_is_boolean(v))
		return "bool";
	return json_is_string(v) ? "string" : json_is_array(v) ? "array" : "object";
}

/* An int field of libcni's route struct; null is the zero value. */
static int route_int(const json_t *in, const char *key, bool pointer, json_t *out,
		     struct cni_error *e)
{
	json_t *v = json_get_ci(in, key);
	double d;

	if (!v || json_is_null(v))
		return 0;
	d = json_number_value(v);
	if (!json_is_number(v) || d != floor(d) || fabs(d) >= 9.2e18)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG,
				ROUTE_ERR
				"json: cannot unmarshal %s into Go struct field route.%s of "
				"type int",
				kind(v), key);
	/* omitempty: a plain int is dropped when zero, a *int only when nil */
	if (d == 0 && !pointer)
		return 0;
	return set_new(out, key, json_integer((json_int_t)d));
}

static int route_normalise(const json_t *in, json_t **ret, struct cni_error *e)
{
	char a[IP_ADDR_STRLEN], buf[IP_PREFIX_STRLEN + 8], *slash;
	struct ip_prefix p;
	struct ip_addr addr;
	json_t *out, *v;
	int r;

	*ret = NULL;
	if (!json_is_object(in))
		return cni_fail(e, CNI_ERR_INVALID_CONFIG,
				ROUTE_ERR
				"json: cannot unmarshal %s into Go value of type types.Route",
				json_is_null(in) ? "null" : kind(in));
	/* dst: types.IPNet keeps the address as written ("10.96.0.1/12"). */
	v = json_get_ci(in, "dst");
	if (!json_is_string(v))
		return cni_fail(e, CNI_ERR_INVALID_CONFIG,
				ROUTE_ERR "route without a \"dst\" string");
	if (json_string_length(v) >= sizeof(buf) || ip_prefix_parse(json_string_value(v), &p) < 0)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, ROUTE_ERR "invalid CIDR address: %s",
				json_string_value(v));
	snprintf(buf, sizeof(buf), "%s", json_string_value(v));
	slash = strchr(buf, '/');
	*slash = '\0';
	if (ip_addr_parse(buf, &addr) < 0)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, ROUTE_ERR "invalid CIDR address: %s",
				json_string_value(v));
	out = json_object();
	snprintf(buf, sizeof(buf), "%s/%u", ip_addr_format(&addr, a), p.len);
	if ((r = set_new(out, "dst", json_string(buf))) < 0)
		goto out;

	v = json_get_ci(in, "gw");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v)) {
			r = cni_fail(e, CNI_ERR_INVALID_CONFIG,
				     ROUTE_ERR "json: cannot unmarshal %s into Go struct field "
					       "route.gw of type net.IP",
				     kind(v));
			goto out;
		}
		if (json_string_length(v) > 0) {
			if (ip_addr_parse(json_string_value(v), &addr) < 0) {
				r = cni_fail(e, CNI_ERR_INVALID_CONFIG,
					     ROUTE_ERR "invalid IP address: %s",
					     json_string_value(v));
				goto out;
			}
			if ((r = set_new(out, "gw", json_string(ip_addr_format(&addr, a)))) < 0)
				goto out;
		}
	}
	if ((r = route_int(in, "mtu", false, out, e)) < 0 ||
	    (r = route_int(in, "advmss", false, out, e)) < 0 ||
	    (r = route_int(in, "priority", false, out, e)) < 0 ||
	    (r = route_int(in, "table", true, out, e)) < 0 ||
	    (r = route_int(in, "scope", true, out, e)) < 0)
		goto out;
	*ret = out;
	return 0;
out:
	json_decref(out);
	return r;
}

static int route_to(json_t *routes, const struct ip_prefix *nw)
{
	char buf[IP_PREFIX_STRLEN];
	json_t *rt = json_object();

	if (set_new(rt, "dst", json_string(ip_prefix_format(nw, buf))) < 0 ||
	    json_array_append_new(routes, rt) < 0)
		return -ENOMEM;
	return 0;
}

static int range_of(json_t *ranges, const struct ip_prefix *sn)
{
	char buf[IP_PREFIX_STRLEN];
	json_t *set = json_array(), *range = json_object();

	if (set_new(range, "subnet", json_string(ip_prefix_format(sn, buf))) < 0 ||
	    json_array_append_new(set, range) < 0 || json_array_append_new(ranges, set) < 0)
		return -ENOMEM;
	return 0;
}

static int build_ipam(const struct cni_conf *c, const struct flannel_env *env, json_t **ret,
		      struct cni_error *e)
{
	json_t *ipam, *ranges, *routes, *in;
	int r = 0;

	ipam = c->ipam ? json_deep_copy(c->ipam) : json_object();
	if (!json_object_get(ipam, "type"))
		r = set_new(ipam, "type", json_string(DELEGATE_DEFAULT_IPAM));

	ranges = json_array();
	if (r == 0 && env->has_sn)
		r = range_of(ranges, &env->sn);
	if (r == 0 && env->has_ip6_sn)
		r = range_of(ranges, &env->ip6_sn);
	if (r == 0)
		r = set_new(ipam, "ranges", ranges);
	else
		json_decref(ranges);

	routes = json_array();
	in = c->ipam ? json_object_get(c->ipam, "routes") : NULL;
	if (r == 0 && in && !json_is_null(in) && !json_is_array(in))
		r = cni_fail(e, CNI_ERR_INVALID_CONFIG,
			     ROUTE_ERR "json: cannot unmarshal %s into Go value of type "
				       "[]types.Route",
			     kind(in));
	for (size_t i = 0; r == 0 && json_is_array(in) && i < json_array_size(in); i++) {
		json_t *rt;

		r = route_normalise(json_array_get(in, i), &rt, e);
		if (r == 0 && json_array_append_new(routes, rt) < 0)
			r = -ENOMEM;
	}
	for (unsigned i = 0; r == 0 && i < env->n_nws; i++)
		r = route_to(routes, &env->nws[i]);
	for (unsigned i = 0; r == 0 && i < env->n_ip6_nws; i++)
		r = route_to(routes, &env->ip6_nws[i]);
	if (r == 0)
		r = set_new(ipam, "routes", routes);
	else
		json_decref(routes);

	if (r < 0) {
		json_decref(ipam);
		if (!e || !e->code)
			cni_fail(e, CNI_ERR_INTERNAL, "failed to assemble Delegate IPAM: %s",
				 strerror(-r));
		return r;
	}
	*ret = ipam;
	return 0;
}

int delegate_build(const struct cni_conf *c, const struct flannel_env *env, json_t **ret,
		   struct cni_error *e)
{
	json_t *d, *ipam = NULL, *t;
	int r = 0;

	*ret = NULL;
	d = c->delegate ? json_deep_copy(c->delegate) : json_object();
	if (c->runtime_config)
		r = set_new(d, "runtimeConfig", json_deep_copy(c->runtime_config));
	if (r == 0)
		r = set_new(d, "name", json_string(c->name));
	if (r == 0 && !json_object_get(d, "type"))
		r = set_new(d, "type", json_string(DELEGATE_DEFAULT_TYPE));
	/* flanneld masquerades (FLANNEL_IPMASQ=true): then the bridge must not. */
	if (r == 0 && !json_object_get(d, "ipMasq"))
		r = set_new(d, "ipMasq", json_boolean(!env->ipmasq));
	if (r == 0 && !json_object_get(d, "mtu"))
		r = set_new(d, "mtu", json_integer(env->mtu));
	t = json_object_get(d, "type");
	if (r == 0 && json_is_string(t) && !strcmp(json_string_value(t), "bridge") &&
	    !json_object_get(d, "isGateway"))
		r = set_new(d, "isGateway", json_true());
	if (r == 0 && *c->cni_version)
		r = set_new(d, "cniVersion", json_string(c->cni_version));
	if (r < 0) {
		cni_fail(e, CNI_ERR_INTERNAL, "building the delegate configuration: %s",
			 strerror(-r));
		goto out;
	}
	if ((r = build_ipam(c, env, &ipam, e)) < 0)
		goto out;
	if ((r = set_new(d, "ipam", ipam)) < 0) {
		cni_fail(e, CNI_ERR_INTERNAL, "building the delegate configuration: %s",
			 strerror(-r));
		goto out;
	}
	*ret = d;
	return 0;
out:
	json_decref(d);
	return r;
}

int delegate_encode(const json_t *d, struct buf *out, struct cni_error *e)
{
	const json_t *routes = json_object_get(json_object_get(d, "ipam"), "routes");
	size_t n = json_array_size(routes);
	const json_t *fixed[256];
	struct gojson_opts opts = {.fixed = fixed, .fixed_keys = route_keys};
	int r;

	/* The routes upstream built as types.Route values (more than 256 routes
	 * just come out with sorted keys: the delegate reads them the same). */
	for (size_t i = 0; i < n && opts.n_fixed < sizeof(fixed) / sizeof(fixed[0]); i++)
		fixed[opts.n_fixed++] = json_array_get(routes, i);
	r = gojson_encode(d, out, &opts);
	if (r == -E2BIG)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG,
				"the delegate configuration exceeds %d bytes", DELEGATE_MAX_SIZE);
	if (r < 0)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG,
				"the delegate configuration cannot be encoded: %s", strerror(-r));
	return 0;
}
