// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the network config parser (net-conf.json / etcd
 * <prefix>/config): netconf_load must never crash, leak or read out of bounds,
 * and what it accepts must be internally consistent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "core/err.h"
#include "core/ipnet.h"
#include "subnet/netconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value of the one key of root spelt like name in any ASCII case, when
 * no key could fold to it in a way jansson cannot see (escapes, non-ASCII,
 * duplicates); else NULL. */
static json_t *only_key(json_t *root, const char *name)
{
	json_t *found = NULL, *v;
	const char *k;

	json_object_foreach(root, k, v)
	{
		for (const char *c = k; *c; c++)
			if ((unsigned char)*c >= 0x80)
				return NULL;
		if (strcasecmp(k, name) == 0) {
			if (found || strcmp(k, name) != 0)
				return NULL;
			found = v;
		}
	}
	return found;
}

/* Differential check of the raw scanner against jansson's tree, on inputs
 * where the two must agree. */
static void check_against_jansson(const char *text, size_t size, const struct netconf *nc)
{
	struct ip_prefix p;
	json_t *root, *v, *b;

	root = json_loadb(text, size, 0, NULL);
	if (!root || !json_is_object(root))
		goto out;
	/* flannel parses the raw, undecoded text of Network: escapes differ */
	v = only_key(root, "Network");
	if (v && json_is_string(v) && !memchr(text, '\\', size)) {
		if (ip_prefix_parse(json_string_value(v), &p) < 0 ||
		    !ip_prefix_equal(&p, &nc->network))
			abort();
	}
	v = only_key(root, "Backend");
	if (v && nc->backend_json) {
		b = json_loads(nc->backend_json, JSON_DECODE_ANY, NULL);
		if (!b || !json_equal(b, v))
			abort();
		json_decref(b);
	}
out:
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netconf nc;
	struct err err;
	char *text;

	/* NUL-terminated copy, though the parser must not rely on it */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (netconf_load(text, size, &nc, &err) == 0) {
		/* a checked config always describes something allocatable */
		if (!nc.backend_type || (!nc.enable_ipv4 && !nc.enable_ipv6))
			abort();
		if (nc.enable_ipv4 && (!ip_prefix_contains(&nc.network, &nc.subnet_min) ||
				       !ip_prefix_contains(&nc.network, &nc.subnet_max) ||
				       nc.subnet_len > 30 || nc.subnet_len < nc.network.len + 2U ||
				       !ip_addr_is_aligned(&nc.subnet_min, nc.subnet_len) ||
				       !ip_addr_is_aligned(&nc.subnet_max, nc.subnet_len)))
			abort();
		if (nc.enable_ipv6 &&
		    (!ip_prefix_contains(&nc.ipv6_network, &nc.ipv6_subnet_min) ||
		     !ip_prefix_contains(&nc.ipv6_network, &nc.ipv6_subnet_max) ||
		     nc.ipv6_subnet_len > 126 || nc.ipv6_subnet_len < nc.ipv6_network.len + 2U ||
		     !ip_addr_is_aligned(&nc.ipv6_subnet_min, nc.ipv6_subnet_len) ||
		     !ip_addr_is_aligned(&nc.ipv6_subnet_max, nc.ipv6_subnet_len)))
			abort();
		/* the kept Backend text is still JSON, and no longer than the input */
		if (nc.backend_json) {
			json_t *j =
				json_loads(nc.backend_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

			if (!j || strlen(nc.backend_json) > size)
				abort();
			json_decref(j);
		}
		netconf_free(&nc);
	} else if (nc.backend_type || nc.backend_json) {
		abort(); /* a failed load leaves nothing behind */
	}

	/* parse-only (kube mode) path */
	if (netconf_parse(text, size, &nc, &err) == 0) {
		check_against_jansson(text, size, &nc);
		netconf_free(&nc);
	}
	free(text);
	return 0;
}
