// SPDX-License-Identifier: Apache-2.0
/*
 * A kubeconfig file's bytes (YAML through libyaml, or JSON): kubeconfig_parse
 * never crashes, fails with a message, and what it accepts is usable (an
 * http(s) server with a host; data lengths match). The YAML tree is also
 * dumped as JSON and read back as YAML: it must come back equal, which
 * checks the event-to-tree builder (keys, nesting, types).
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "kube/kubeconfig.h"
#include "kube/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_config(const struct kubeconfig *k)
{
	if (!k->server || !k->source)
		abort();
	if (strncmp(k->server, "https://", 8) && strncmp(k->server, "http://", 7))
		abort();
	if (!k->ca_data != !k->ca_len || !k->cert_data != !k->cert_len ||
	    !k->key_data != !k->key_len)
		abort();
	/* *-data wins over its file. */
	if ((k->ca_data && k->ca_file) || (k->cert_data && k->cert_file) ||
	    (k->key_data && k->key_file))
		abort();
}

/* A \uD800-\uDFFF escape, as jansson writes characters above U+FFFF (it
 * may also be text after an escaped backslash: then the check is skipped). */
static bool has_surrogate_escape(const char *s)
{
	for (const char *p = strstr(s, "\\u"); p; p = strstr(p + 2, "\\u"))
		if ((p[2] == 'd' || p[2] == 'D') && p[3] && strchr("89abAB", p[3]))
			return true;
	return false;
}

/* yaml(dump(tree)) == tree, for trees JSON text can carry back into YAML. */
static void check_round_trip(const json_t *tree)
{
	struct err err = {""};
	json_t *again = NULL;
	char *s = json_dumps(tree, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII);

	if (!s)
		abort();
	/* YAML has no surrogate escapes, so characters above U+FFFF can't go
	 * back; jansson writes DEL unescaped, which YAML text may not hold. */
	if (!has_surrogate_escape(s) && !strchr(s, 0x7f)) {
		if (yaml_parse(s, strlen(s), &again, &err) < 0 || !json_equal(tree, again)) {
			fprintf(stderr, "round trip: %s\n%s\n", err.msg, s);
			abort();
		}
		json_decref(again);
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct kubeconfig k;
	struct err err = {""};
	json_t *tree = NULL;

	if (kubeconfig_parse(text, size, "/etc/kube", NULL, &k, &err) == 0) {
		check_config(&k);
		kubeconfig_free(&k);
	} else if (!err.msg[0] || k.server) {
		abort();
	}
	err.msg[0] = '\0';
	if (kubeconfig_parse(text, size, NULL, "https://[fd00::1]:6443/", &k, &err) == 0) {
		if (strcmp(k.server, "https://[fd00::1]:6443"))
			abort();
		kubeconfig_free(&k);
	} else if (!err.msg[0]) {
		abort();
	}

	err.msg[0] = '\0';
	if (yaml_parse(text, size, &tree, &err) == 0) {
		check_round_trip(tree);
		json_decref(tree);
	} else if (!err.msg[0] || tree) {
		abort();
	}
	return 0;
}
