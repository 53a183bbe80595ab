// SPDX-License-Identifier: Apache-2.0
/*
 * What the Kubernetes API server sends, through the parsers weftd uses on it
 * (src/kube/node.c, client.c), the way the kube manager reaches them:
 *
 *  - each line as one watch event ({"type":..., "object":...}; an ERROR's
 *    object and a line that is no event go to kube_status_describe);
 *  - the whole input as a Node (GET of our node) or a NodeList (items[]).
 *
 * Every Node that decodes goes through podCIDRs, node-to-lease (IPv4, IPv6,
 * dual stack), the VXLAN MAC and public-IP hints, and our own patch. None may
 * crash; what they accept must hold together (a name without NUL, a lease
 * that encodes, a patch that is a JSON object).
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/vxlan.h"
#include "core/err.h"
#include "core/ipnet.h"
#include "kube/client.h"
#include "kube/node.h"
#include "subnet/lease.h"
#include "subnet/subnet_mgr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kube_annots annots[2];
static bool annots_ready;

static void describe(const char *s, size_t len)
{
	char buf[300];

	memset(buf, 'x', sizeof(buf));
	kube_status_describe(s, len, buf, sizeof(buf));
	if (!memchr(buf, '\0', sizeof(buf)))
		abort();
}

static void check_lease(const struct kube_node *n, const struct kube_annots *a, bool v4, bool v6)
{
	struct lease l;
	struct err err = {""};
	char *json = NULL;
	int rc = kube_node_to_lease(n, a, v4, v6, &l, &err);

	if (rc == -ENOENT)
		return;
	if (rc < 0) {
		if (!err.msg[0])
			abort();
		return;
	}
	if (!l.name[0] || l.node.key != l.name)
		abort();
	if (v4 && l.attrs.public_ip.family != AF_INET)
		abort();
	if (v6 && (!l.subnet.has_v6 || l.attrs.public_ipv6.family != AF_INET6))
		abort();
	/* A peer's attributes must be writable as flannel's lease JSON. */
	if (lease_attrs_encode(&l.attrs, &json) < 0)
		abort();
	free(json);
	lease_attrs_free(&l.attrs);
}

static void check_own_patch(const struct kube_node *n, const struct kube_annots *a)
{
	struct lease_attrs attrs = {.backend_type = "vxlan"};
	struct ip_addr p4, p6;
	struct err warn = {""};
	char *body = NULL;
	json_t *j;

	ip_addr_parse("10.0.0.1", &attrs.public_ip);
	ip_addr_parse("fd00::1", &attrs.public_ipv6);
	attrs.backend_data = (char *)"{\"VNI\":1,\"VtepMAC\":\"12:c6:65:89:b4:e3\"}";
	attrs.backend_v6_data = (char *)"{\"VNI\":1,\"VtepMAC\":\"12:c6:65:89:b4:e4\"}";
	if (kube_own_patch(a, n, &attrs, &body, &p4, &p6, &warn) < 0)
		abort();
	if (body) {
		j = json_loads(body, 0, NULL);
		if (!json_is_object(j))
			abort();
		json_decref(j);
		free(body);
	}
}

static void check_node(const json_t *obj)
{
	for (int i = 0; i < 2; i++) {
		struct kube_node n;
		struct err err = {""};
		struct ip_prefix v4, v6;
		struct ip_addr hint;
		struct lease_attrs prev;
		uint8_t mac[6];
		bool h4, h6;

		if (kube_node_from_json(obj, &annots[i], &n, &err) < 0) {
			if (!err.msg[0] || n.name)
				abort();
			continue;
		}
		if (!n.name || !*n.name || strlen(n.name) > 253)
			abort();
		if (kube_node_cidrs(&n, &v4, &h4, &v6, &h6, &err) == 0 && !h4 && !h6)
			abort();
		check_lease(&n, &annots[i], true, false);
		check_lease(&n, &annots[i], false, true);
		check_lease(&n, &annots[i], true, true);
		kube_node_prev_attrs(&n, &prev);
		vxlan_data_vtep_mac(prev.backend_data, mac);
		vxlan_data_vtep_mac(prev.backend_v6_data, mac);
		lease_attrs_free(&prev);
		if (kube_node_public_ip_hint(&n, AF_INET, &hint) == 0 && hint.family != AF_INET)
			abort();
		if (kube_node_public_ip_hint(&n, AF_INET6, &hint) == 0 && hint.family != AF_INET6)
			abort();
		check_own_patch(&n, &annots[i]);
		kube_node_free(&n);
	}
}

/* kube_mgr_watch.c's watch_line. */
static void watch_line(const char *line, size_t len)
{
	json_t *ev = json_loadb(line, len, 0, NULL);
	const char *type = json_string_value(json_object_get(ev, "type"));
	const json_t *obj = json_object_get(ev, "object");

	if (!type || !json_is_object(obj)) {
		describe(line, len);
	} else if (!strcmp(type, "ERROR")) {
		char *s = json_dumps(obj, JSON_COMPACT);

		describe(s ? s : "", s ? strlen(s) : 0);
		free(s);
	} else {
		check_node(obj);
	}
	json_decref(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *p = text, *end = text + size, *nl;
	json_t *root, *items, *it;
	size_t i;

	if (!annots_ready) {
		if (kube_annots_init(&annots[0], NULL, NULL) < 0 ||
		    kube_annots_init(&annots[1], "example.com/weft-", NULL) < 0)
			abort();
		annots_ready = true;
	}
	/* The stream hands over one line at a time, newline stripped. */
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		watch_line(p, (size_t)((nl ? nl : end) - p));
		p = nl ? nl + 1 : end;
	}
	root = json_loadb(text, size, 0, NULL);
	items = json_object_get(root, "items");
	if (json_is_array(items)) {
		json_array_foreach(items, i, it) check_node(it);
	} else if (root) {
		check_node(root);
	}
	json_decref(root);
	describe(text, size);
	return 0;
}
