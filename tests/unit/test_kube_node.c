// SPDX-License-Identifier: Apache-2.0
/*
 * Node objects as flannel's kube subnet manager reads and writes them:
 * annotation prefix normalisation (flannel's annotations_test.go cases), Node
 * JSON → lease (nodeToLease), the podCIDR rules of AcquireLease, the exact
 * annotation and condition patches, and the VTEP MAC recovered on restart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "backend/vxlan.h"
#include "core/err.h"
#include "kube/node.h"
#include "subnet/lease.h"
#include "subnet/subnet_mgr.h"

#define A "flannel.alpha.coreos.com/"

static struct kube_annots an;

static int setup(void **state)
{
	(void)state;
	return kube_annots_init(&an, NULL, NULL);
}

/* ---- prefix ---- */

static void prefix_is(const char *in, const char *want)
{
	struct kube_annots a;
	struct err err = { 0 };

	if (kube_annots_init(&a, in, &err) < 0)
		fail_msg("prefix \"%s\": %s", in, err.msg);
	assert_string_equal(a.prefix, want);
}

static void prefix_bad(const char *in, const char *want)
{
	struct kube_annots a;
	struct err err = { 0 };

	if (kube_annots_init(&a, in, &err) != -EINVAL)
		fail_msg("prefix \"%s\" accepted as \"%s\"", in, a.prefix);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
}

static void test_prefix(void **state)
{
	(void)state;
	assert_string_equal(an.prefix, A);
	assert_string_equal(an.name[KA_MANAGED], A "kube-subnet-manager");
	assert_string_equal(an.name[KA_BACKEND_TYPE], A "backend-type");
	assert_string_equal(an.name[KA_BACKEND_DATA], A "backend-data");
	assert_string_equal(an.name[KA_BACKEND_V6_DATA], A "backend-v6-data");
	assert_string_equal(an.name[KA_PUBLIC_IP], A "public-ip");
	assert_string_equal(an.name[KA_PUBLIC_IPV6], A "public-ipv6");
	assert_string_equal(an.name[KA_PUBLIC_IP_OVERWRITE], A "public-ip-overwrite");
	assert_string_equal(an.name[KA_PUBLIC_IPV6_OVERWRITE], A "public-ipv6-overwrite");
	assert_string_equal(an.name[KA_NODE_PUBLIC_IP], A "node-public-ip");
	assert_string_equal(an.name[KA_NODE_PUBLIC_IPV6], A "node-public-ipv6");
	prefix_is("", A);
	prefix_is("flannel.alpha.coreos.com", A);
	prefix_is("example.com", "example.com/");
	prefix_is("example.com/", "example.com/");
	prefix_is("example.com/flannel", "example.com/flannel-");
	prefix_is("example.com/flannel-", "example.com/flannel-");
	prefix_is("sub.example.com/my_flannel", "sub.example.com/my_flannel-");
	/* flannel's annotations_test.go */
	prefix_is("flannel.alpha.coreos.com/prefix", "flannel.alpha.coreos.com/prefix-");
	prefix_is("org.com", "org.com/");
	prefix_is("org9.com", "org9.com/");
	prefix_is("org.com/9", "org.com/9-");
	prefix_bad("org", "example.com/[name-]");
	prefix_bad("org/", "example.com/[name-]");
	prefix_bad("org/prefix", "example.com/[name-]");
	prefix_bad("org.COM", "example.com/[name-]");
	prefix_bad("org.com/PREFIX", "example.com/[name-]");
	prefix_bad("example.com/flannel/x", "at most one '/'");
	prefix_bad("flannel", "example.com/[name-]");
	prefix_bad("Example.com", "example.com/[name-]");
	prefix_bad("example..com", "example.com/[name-]");
	prefix_bad(".example.com", "example.com/[name-]");
	prefix_bad("example.com/fl.annel", "example.com/[name-]");
	prefix_bad("example.com/-", "example.com/[name-]");
	prefix_bad("/flannel", "example.com/[name-]");
	prefix_bad("example.com/a-very-long-name-that-goes-on-and-on-and-on",
		   "longer than 63 characters");
}

/* ---- Node JSON ---- */

static int node_of(const char *json, struct kube_node *n, struct err *err)
{
	json_t *o = json_loads(json, 0, NULL);
	int rc;

	assert_non_null(o);
	rc = kube_node_from_json(o, &an, n, err);
	json_decref(o);
	return rc;
}

static void nul_refused(const char *json, const char *want)
{
	json_t *o = json_loads(json, JSON_ALLOW_NUL, NULL);
	struct kube_node n;
	struct err err = { 0 };

	assert_non_null(o);
	assert_int_equal(kube_node_from_json(o, &an, &n, &err), -EINVAL);
	json_decref(o);
	if (strcmp(err.msg, want))
		fail_msg("message \"%s\", want \"%s\"", err.msg, want);
	assert_null(n.name);
}

static const char vx_node[] =
	"{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"n1\",\"resourceVersion\":\"42\","
	"\"labels\":{\"x\":\"y\"},\"annotations\":{"
	"\"" A "backend-data\":\"{\\\"VNI\\\":1,\\\"VtepMAC\\\":\\\"12:c6:65:89:b4:e3\\\"}\","
	"\"" A "backend-type\":\"vxlan\",\"" A "kube-subnet-manager\":\"true\","
	"\"" A "public-ip\":\"10.0.0.11\",\"node.alpha.kubernetes.io/ttl\":\"0\"}},"
	"\"spec\":{\"podCIDR\":\"10.244.1.0/24\",\"podCIDRs\":[\"10.244.1.0/24\"]},"
	"\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.11\"}],"
	"\"images\":[{\"names\":[\"a\"],\"sizeBytes\":1}]}}";

static void test_from_json(void **state)
{
	struct kube_node n;
	struct err err = { 0 };

	(void)state;
	assert_int_equal(node_of(vx_node, &n, &err), 0);
	assert_string_equal(n.name, "n1");
	assert_string_equal(n.resource_version, "42");
	assert_string_equal(n.pod_cidr, "10.244.1.0/24");
	assert_int_equal(n.n_pod_cidrs, 1);
	assert_string_equal(n.annot[KA_BACKEND_TYPE], "vxlan");
	assert_string_equal(n.annot[KA_PUBLIC_IP], "10.0.0.11");
	assert_null(n.annot[KA_PUBLIC_IPV6]);
	kube_node_free(&n);
	kube_node_free(&n); /* twice is fine */

	assert_int_equal(node_of("{\"metadata\":{\"name\":\"n\"}}", &n, &err), 0);
	assert_null(n.pod_cidr);
	assert_null(n.annot[KA_MANAGED]);
	kube_node_free(&n);

	assert_int_equal(node_of("{\"metadata\":{}}", &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "metadata.name"));
	assert_int_equal(node_of("{\"spec\":{}}", &n, &err), -EINVAL);
	assert_int_equal(node_of("{\"metadata\":{\"name\":\"n\",\"annotations\":{\"" A
				 "public-ip\":7}}}", &n, &err), -EINVAL);
	assert_string_equal(err.msg, "node n: annotation " A "public-ip is not a string");
	assert_int_equal(node_of("{\"metadata\":{\"name\":\"n\",\"annotations\":[]}}", &n, &err),
			 -EINVAL);
	assert_int_equal(node_of("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDRs\":\"x\"}}", &n,
				 &err), -EINVAL);
	assert_int_equal(node_of("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDRs\":[1]}}", &n,
				 &err), -EINVAL);
	assert_string_equal(err.msg, "node n: spec.podCIDRs[0] is not a string");
	assert_int_equal(node_of("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDR\":false}}", &n,
				 &err), -EINVAL);
	assert_null(n.name);
	/* A "\u0000" (jansson keeps it with JSON_ALLOW_NUL) must not cut a name
	 * or value short: "n1\0x" is not node n1, "true\0x" is not "true". */
	nul_refused("{\"metadata\":{\"name\":\"n1\\u0000x\"}}", "metadata.name contains a NUL byte");
	nul_refused("{\"metadata\":{\"name\":\"n\",\"resourceVersion\":\"1\\u0000\"}}",
		    "metadata.resourceVersion contains a NUL byte");
	nul_refused("{\"metadata\":{\"name\":\"n\",\"annotations\":{\"" A
		    "kube-subnet-manager\":\"true\\u0000x\"}}}",
		    "node n: annotation " A "kube-subnet-manager contains a NUL byte");
	nul_refused("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDR\":\"10.0.0.0/24\\u0000\"}}",
		    "spec.podCIDR contains a NUL byte");
	nul_refused("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDRs\":[\"10.0.0.0/24\\u0000x\"]}}",
		    "node n: spec.podCIDRs[0] contains a NUL byte");
}

static void cidrs_err(const char *spec, int want_rc, const char *want)
{
	char json[512];
	struct kube_node n;
	struct ip_prefix v4, v6;
	bool h4, h6;
	struct err err = { 0 };

	snprintf(json, sizeof(json), "{\"metadata\":{\"name\":\"n\"},\"spec\":%s}", spec);
	assert_int_equal(node_of(json, &n, &err), 0);
	assert_int_equal(kube_node_cidrs(&n, &v4, &h4, &v6, &h6, &err), want_rc);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	kube_node_free(&n);
}

static void test_cidrs(void **state)
{
	struct kube_node n;
	struct ip_prefix v4, v6;
	bool h4, h6;
	struct err err = { 0 };
	char s[IP_PREFIX_STRLEN];

	(void)state;
	/* podCIDRs wins over podCIDR; host bits are dropped as ParseCIDR does. */
	assert_int_equal(node_of("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDR\":\"10.9.9.0/24\","
				 "\"podCIDRs\":[\"fd00:1::5/64\",\"10.244.1.7/24\"]}}", &n, &err), 0);
	assert_int_equal(kube_node_cidrs(&n, &v4, &h4, &v6, &h6, &err), 0);
	assert_true(h4 && h6);
	assert_string_equal(ip_prefix_format(&v4, s), "10.244.1.0/24");
	assert_string_equal(ip_prefix_format(&v6, s), "fd00:1::/64");
	kube_node_free(&n);
	assert_int_equal(node_of("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podCIDR\":\"fd00::/64\"}}",
				 &n, &err), 0);
	assert_int_equal(kube_node_cidrs(&n, &v4, &h4, &v6, &h6, &err), 0);
	assert_true(!h4 && h6);
	kube_node_free(&n);

	cidrs_err("{}", -ENOENT, "node \"n\" pod cidr not assigned");
	cidrs_err("{\"podCIDR\":\"\",\"podCIDRs\":[]}", -ENOENT, "pod cidr not assigned");
	cidrs_err("{\"podCIDRs\":[\"10.0.1.0/24\",\"fd00::/64\",\"10.0.2.0/24\"]}", -EINVAL,
		  "pod cidrs should be IPv4/IPv6 only or dualstack (spec.podCIDRs has 3 entries)");
	cidrs_err("{\"podCIDRs\":[\"10.0.1.0/24\",\"10.0.2.0/24\"]}", -EINVAL, "two IPv4 podCIDRs");
	cidrs_err("{\"podCIDR\":\"10.0.1.0\"}", -EINVAL, "podCIDR \"10.0.1.0\" is not a CIDR");
}

static void lease_err(const char *annots, const char *spec, bool v4, bool v6, int want_rc,
		      const char *want)
{
	char json[1024];
	struct kube_node n;
	struct lease l;
	struct err err = { 0 };

	snprintf(json, sizeof(json), "{\"metadata\":{\"name\":\"n\",\"annotations\":{%s}},\"spec\":%s}",
		 annots, spec);
	assert_int_equal(node_of(json, &n, &err), 0);
	assert_int_equal(kube_node_to_lease(&n, &an, v4, v6, &l, &err), want_rc);
	if (want && !strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	assert_null(l.attrs.backend_data);
	kube_node_free(&n);
}

#define MANAGED "\"" A "kube-subnet-manager\":\"true\""

static void test_to_lease(void **state)
{
	struct kube_node n;
	struct lease l;
	struct err err = { 0 };
	char s[IP_ADDR_STRLEN];

	(void)state;
	assert_int_equal(node_of(vx_node, &n, &err), 0);
	assert_int_equal(kube_node_to_lease(&n, &an, true, false, &l, &err), 0);
	assert_string_equal(l.name, "10.244.1.0-24");
	/* The key is the returned lease's name, not the callee's dead copy of it
	 * (equal bytes there only by luck). */
	assert_ptr_equal(l.node.key, l.name);
	assert_string_equal(l.node.key, l.name);
	assert_string_equal(ip_addr_format(&l.attrs.public_ip, s), "10.0.0.11");
	assert_int_equal(l.attrs.public_ipv6.family, 0);
	assert_string_equal(l.attrs.backend_type, "vxlan");
	assert_string_equal(l.attrs.backend_data, "{\"VNI\":1,\"VtepMAC\":\"12:c6:65:89:b4:e3\"}");
	assert_null(l.attrs.backend_v6_data);
	assert_false(l.subnet.has_v6);
	lease_attrs_free(&l.attrs);
	kube_node_free(&n);

	/* Dual stack and IPv6-only. */
	assert_int_equal(node_of("{\"metadata\":{\"name\":\"d\",\"annotations\":{" MANAGED ","
				 "\"" A "backend-type\":\"host-gw\",\"" A "backend-data\":\"null\","
				 "\"" A "public-ip\":\"10.0.0.2\",\"" A "public-ipv6\":\"fd00::2\","
				 "\"" A "backend-v6-data\":\"null\"}},\"spec\":{\"podCIDRs\":"
				 "[\"10.244.2.0/24\",\"fd00:2::/64\"]}}", &n, &err), 0);
	assert_int_equal(kube_node_to_lease(&n, &an, true, true, &l, &err), 0);
	assert_string_equal(l.name, "10.244.2.0-24&fd00:2::-64");
	assert_string_equal(ip_addr_format(&l.attrs.public_ipv6, s), "fd00::2");
	assert_string_equal(l.attrs.backend_data, "null");
	lease_attrs_free(&l.attrs);
	assert_int_equal(kube_node_to_lease(&n, &an, false, true, &l, &err), 0);
	assert_string_equal(l.name, "0.0.0.0-0&fd00:2::-64");
	assert_string_equal(ip_addr_format(&l.attrs.public_ip, s), "0.0.0.0");
	assert_null(l.attrs.backend_data);
	lease_attrs_free(&l.attrs);
	/* IPv4 only: the IPv6 part is not looked at. */
	assert_int_equal(kube_node_to_lease(&n, &an, true, false, &l, &err), 0);
	assert_string_equal(l.name, "10.244.2.0-24");
	lease_attrs_free(&l.attrs);
	kube_node_free(&n);

	/* Not ours: ignored without a reason. */
	lease_err("", "{\"podCIDR\":\"10.0.1.0/24\"}", true, false, -ENOENT, NULL);
	lease_err("\"" A "kube-subnet-manager\":\"True\"", "{}", true, false, -ENOENT, NULL);
	/* Ours, but unusable. */
	lease_err(MANAGED, "{\"podCIDR\":\"10.0.1.0/24\"}", true, false, -EINVAL,
		  "annotation " A "public-ip \"\" is not an IPv4 address");
	lease_err(MANAGED ",\"" A "public-ip\":\"fd00::1\"", "{\"podCIDR\":\"10.0.1.0/24\"}", true,
		  false, -EINVAL, "\"fd00::1\" is not an IPv4 address");
	lease_err(MANAGED ",\"" A "public-ip\":\"10.0.0.1\"", "{}", true, false, -EINVAL,
		  "pod cidr not assigned");
	lease_err(MANAGED ",\"" A "public-ip\":\"10.0.0.1\"", "{\"podCIDR\":\"fd00::/64\"}", true,
		  false, -EINVAL, "node \"n\" has no IPv4 podCIDR");
	lease_err(MANAGED ",\"" A "public-ip\":\"10.0.0.1\",\"" A "backend-data\":\"{x\"",
		  "{\"podCIDR\":\"10.0.1.0/24\"}", true, false, -EINVAL,
		  "annotation " A "backend-data is not JSON");
	lease_err(MANAGED ",\"" A "public-ip\":\"10.0.0.1\"", "{\"podCIDR\":\"10.0.1.0/24\"}", true,
		  true, -EINVAL, "annotation " A "public-ipv6 \"\" is not an IPv6 address");
	lease_err(MANAGED ",\"" A "public-ip\":\"10.0.0.1\",\"" A "public-ipv6\":\"fd00::1\"",
		  "{\"podCIDR\":\"10.0.1.0/24\"}", true, true, -EINVAL, "has no IPv6 podCIDR");
	lease_err(MANAGED ",\"" A "public-ip\":\"10.0.0.1\"", "{\"podCIDR\":\"10.0.1.1/32\"}", true,
		  false, -EINVAL, "cannot form a lease (prefix too long)");
	lease_err(MANAGED ",\"" A "public-ip\":\"10.0.0.1\",\"" A "backend-type\":"
		  "\"a-backend-type-name-that-is-far-too-long\"", "{\"podCIDR\":\"10.0.1.0/24\"}", true,
		  false, -EINVAL, "is too long");
}

/* ---- our own patches ---- */

static void own_patch_is(const char *annots, const struct lease_attrs *attrs, const char *want,
			 int want_rc)
{
	char json[2048];
	struct kube_node n;
	struct err err = { 0 }, warn = { 0 };
	char *body = NULL;

	snprintf(json, sizeof(json), "{\"metadata\":{\"name\":\"n\",\"annotations\":{%s}}}", annots);
	assert_int_equal(node_of(json, &n, &err), 0);
	assert_int_equal(kube_own_patch(&an, &n, attrs, &body, NULL, NULL, &warn),
			 want_rc);
	if (!want)
		assert_null(body);
	else if (!body || strcmp(body, want))
		fail_msg("patch %s, want %s", body ? body : "(none)", want);
	free(body);
	kube_node_free(&n);
}

static void test_own_patch(void **state)
{
	struct lease_attrs vx = { 0 }, hg = { 0 }, v6 = { 0 };
	struct kube_node n;
	struct err err = { 0 }, warn = { 0 };
	struct ip_addr p4, p6;
	char *body, s[IP_ADDR_STRLEN];

	(void)state;
	ip_addr_parse("10.0.0.11", &vx.public_ip);
	snprintf(vx.backend_type, sizeof(vx.backend_type), "vxlan");
	vx.backend_data = "{\"VNI\":1,\"VtepMAC\":\"12:c6:65:89:b4:e3\"}";
	/* A fresh node: everything, in flannel's names. */
	own_patch_is("", &vx,
		     "{\"metadata\":{\"annotations\":{\"" A "backend-type\":\"vxlan\",\"" A
		     "backend-data\":\"{\\\"VNI\\\":1,\\\"VtepMAC\\\":\\\"12:c6:65:89:b4:e3\\\"}\",\"" A
		     "public-ip\":\"10.0.0.11\",\"" A "kube-subnet-manager\":\"true\"}}}", 0);
	/* Already there: nothing to send. */
	own_patch_is("\"" A "backend-type\":\"vxlan\",\"" A "backend-data\":\"{\\\"VNI\\\":1,"
		     "\\\"VtepMAC\\\":\\\"12:c6:65:89:b4:e3\\\"}\",\"" A "public-ip\":\"10.0.0.11\","
		     MANAGED, &vx, NULL, 0);
	/* Only what differs. */
	own_patch_is("\"" A "backend-type\":\"vxlan\",\"" A "backend-data\":\"{\\\"VNI\\\":1,"
		     "\\\"VtepMAC\\\":\\\"12:c6:65:89:b4:e3\\\"}\",\"" A "public-ip\":\"10.0.0.99\","
		     MANAGED, &vx,
		     "{\"metadata\":{\"annotations\":{\"" A "public-ip\":\"10.0.0.11\"}}}", 0);
	/* public-ip-overwrite wins; a bad one is ignored and reported. */
	own_patch_is("\"" A "public-ip-overwrite\":\"192.0.2.1\"", &vx,
		     "{\"metadata\":{\"annotations\":{\"" A "backend-type\":\"vxlan\",\"" A
		     "backend-data\":\"{\\\"VNI\\\":1,\\\"VtepMAC\\\":\\\"12:c6:65:89:b4:e3\\\"}\",\"" A
		     "public-ip\":\"192.0.2.1\",\"" A "kube-subnet-manager\":\"true\"}}}", 0);
	assert_int_equal(node_of("{\"metadata\":{\"name\":\"n\",\"annotations\":{\"" A
				 "public-ip-overwrite\":\"nope\"}}}", &n, &err), 0);
	assert_int_equal(kube_own_patch(&an, &n, &vx, &body, &p4, &p6, &warn), 1);
	assert_non_null(strstr(warn.msg, "public-ip-overwrite \"nope\" is not an IPv4 address"));
	assert_non_null(strstr(body, "\"10.0.0.11\""));
	assert_string_equal(ip_addr_format(&p4, s), "10.0.0.11");
	assert_int_equal(p6.family, 0);
	free(body);
	kube_node_free(&n);

	/* host-gw: backend-data "null", as Go marshals a nil RawMessage. */
	ip_addr_parse("10.0.0.12", &hg.public_ip);
	snprintf(hg.backend_type, sizeof(hg.backend_type), "host-gw");
	own_patch_is("", &hg,
		     "{\"metadata\":{\"annotations\":{\"" A "backend-type\":\"host-gw\",\"" A
		     "backend-data\":\"null\",\"" A "public-ip\":\"10.0.0.12\",\"" A
		     "kube-subnet-manager\":\"true\"}}}", 0);
	/* host-gw dual stack: the v6 group too. */
	ip_addr_parse("fd00::12", &hg.public_ipv6);
	own_patch_is("", &hg,
		     "{\"metadata\":{\"annotations\":{\"" A "backend-type\":\"host-gw\",\"" A
		     "backend-data\":\"null\",\"" A "public-ip\":\"10.0.0.12\",\"" A
		     "backend-v6-data\":\"null\",\"" A "public-ipv6\":\"fd00::12\",\"" A
		     "kube-subnet-manager\":\"true\"}}}", 0);
	/* vxlan IPv6-only: no v4 group (its data is null). */
	ip_addr_parse("0.0.0.0", &v6.public_ip);
	ip_addr_parse("fd00::13", &v6.public_ipv6);
	snprintf(v6.backend_type, sizeof(v6.backend_type), "vxlan");
	v6.backend_v6_data = "{\"VNI\":1,\"VtepMAC\":\"0e:00:00:00:00:13\"}";
	own_patch_is("\"" A "public-ipv6-overwrite\":\"2001:db8::13\"", &v6,
		     "{\"metadata\":{\"annotations\":{\"" A "backend-type\":\"vxlan\",\"" A
		     "backend-v6-data\":\"{\\\"VNI\\\":1,\\\"VtepMAC\\\":\\\"0e:00:00:00:00:13\\\"}\",\""
		     A "public-ipv6\":\"2001:db8::13\",\"" A "kube-subnet-manager\":\"true\"}}}", 0);
	/* wireguard dual stack: both groups, as upstream's AcquireLease writes
	 * them (the v4 group whenever its data is not null). */
	{
		struct lease_attrs wg = { 0 };

		ip_addr_parse("10.0.0.15", &wg.public_ip);
		ip_addr_parse("fd00::15", &wg.public_ipv6);
		snprintf(wg.backend_type, sizeof(wg.backend_type), "wireguard");
		wg.backend_data = "{\"PublicKey\":\"k\",\"Port\":51820}";
		wg.backend_v6_data = "{\"PublicKey\":\"k\",\"Port\":51821}";
		own_patch_is("", &wg,
			     "{\"metadata\":{\"annotations\":{\"" A "backend-type\":\"wireguard\",\"" A
			     "backend-data\":\"{\\\"PublicKey\\\":\\\"k\\\",\\\"Port\\\":51820}\",\"" A
			     "public-ip\":\"10.0.0.15\",\"" A
			     "backend-v6-data\":\"{\\\"PublicKey\\\":\\\"k\\\",\\\"Port\\\":51821}\",\"" A
			     "public-ipv6\":\"fd00::15\",\"" A "kube-subnet-manager\":\"true\"}}}", 0);
	}
	/* udp: no backend type (empty string, as flannel writes it). */
	{
		struct lease_attrs udp = { 0 };

		ip_addr_parse("10.0.0.14", &udp.public_ip);
		own_patch_is("", &udp,
			     "{\"metadata\":{\"annotations\":{\"" A "backend-type\":\"\",\"" A
			     "backend-data\":\"null\",\"" A "public-ip\":\"10.0.0.14\",\"" A
			     "kube-subnet-manager\":\"true\"}}}", 0);
	}
}

static void test_condition(void **state)
{
	char *body = kube_condition_patch(1719671315);

	(void)state;
	assert_string_equal(body,
			    "{\"status\":{\"conditions\":[{\"type\":\"NetworkUnavailable\","
			    "\"status\":\"False\",\"lastHeartbeatTime\":\"2024-06-29T14:28:35Z\","
			    "\"lastTransitionTime\":\"2024-06-29T14:28:35Z\",\"reason\":\"FlannelIsUp\","
			    "\"message\":\"Flannel is running on this node\"}]}}");
	free(body);
}

/* The VXLAN MAC a node's annotations still publish, as the daemon gets it:
 * the kube manager's previous lease attributes, read by the vxlan backend.
 * -ENOENT when there is none usable (absent, not JSON, no VtepMAC, not a
 * unicast MAC): the backend then makes a random one. */
static int kube_node_vtep_mac(const struct kube_node *n, int family, uint8_t ret_mac[6])
{
	struct lease_attrs prev;
	int rc;

	kube_node_prev_attrs(n, &prev);
	rc = vxlan_data_vtep_mac(family == AF_INET6 ? prev.backend_v6_data : prev.backend_data,
				 ret_mac);
	lease_attrs_free(&prev);
	return rc < 0 ? -ENOENT : 0;
}

static void test_vtep_mac(void **state)
{
	struct kube_node n;
	struct err err = { 0 };
	uint8_t mac[6];
	struct ip_addr a;
	static const uint8_t want[6] = { 0x12, 0xc6, 0x65, 0x89, 0xb4, 0xe3 };

	(void)state;
	assert_int_equal(node_of(vx_node, &n, &err), 0);
	assert_int_equal(kube_node_vtep_mac(&n, AF_INET, mac), 0);
	assert_memory_equal(mac, want, 6);
	assert_int_equal(kube_node_vtep_mac(&n, AF_INET6, mac), -ENOENT);
	assert_int_equal(kube_node_public_ip_hint(&n, AF_INET, &a), -ENOENT);
	kube_node_free(&n);
	assert_int_equal(node_of("{\"metadata\":{\"name\":\"n\",\"annotations\":{\"" A
				 "backend-v6-data\":\"{\\\"vtepmac\\\":\\\"0E:2A:00:00:00:01\\\"}\","
				 "\"" A "backend-data\":\"{\\\"VtepMAC\\\":\\\"01:00:5e:00:00:01\\\"}\","
				 "\"" A "node-public-ip\":\"192.0.2.7\",\"" A "node-public-ipv6\":\"x\"}}}",
				 &n, &err), 0);
	assert_int_equal(kube_node_vtep_mac(&n, AF_INET6, mac), 0);
	assert_int_equal(mac[0], 0x0e);
	assert_int_equal(kube_node_vtep_mac(&n, AF_INET, mac), -ENOENT); /* multicast */
	assert_int_equal(kube_node_public_ip_hint(&n, AF_INET, &a), 0);
	assert_int_equal(kube_node_public_ip_hint(&n, AF_INET6, &a), -EINVAL);
	kube_node_free(&n);
	assert_int_equal(node_of("{\"metadata\":{\"name\":\"n\",\"annotations\":{\"" A
				 "backend-data\":\"null\"}}}", &n, &err), 0);
	assert_int_equal(kube_node_vtep_mac(&n, AF_INET, mac), -ENOENT);
	kube_node_free(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_from_json),
		cmocka_unit_test(test_cidrs),
		cmocka_unit_test(test_to_lease),
		cmocka_unit_test(test_own_patch),
		cmocka_unit_test(test_condition),
		cmocka_unit_test(test_vtep_mac),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
