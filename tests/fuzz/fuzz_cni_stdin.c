// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the CNI plugin's stdin: the bytes are the network
 * configuration a runtime sends, and go the way cni/main.c and cni/cmd.c take
 * them (the parts that need no delegate, no files, no kernel):
 *   - cni_conf_parse, then the version checks of the front door;
 *   - ADD: delegate_check, delegate_build against a fixed dual-stack
 *     subnet.env, delegate_encode (the bytes stored for DEL and CHECK);
 *   - CHECK: the stored bytes read back (gojson_loadb), the configuration's
 *     prevResult set into them and encoded again;
 *   - the same bytes taken as a stored file (a damaged or planted state file);
 *   - every error printed as the CNI error object.
 * Invariants: no crash, leak or undefined behaviour; every error object and
 * every encoded configuration is JSON; encoding what was stored and read back
 * gives the stored bytes again (CHECK and DEL send what ADD stored).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../cni/conf.h"
#include "../../cni/delegate.h"
#include "../../cni/gojson.h"
#include "../../cni/result.h"
#include "../../cni/version.h"
#include "core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char subnet_env[] = "FLANNEL_NETWORK=10.244.0.0/16,10.245.0.0/16\n"
				 "FLANNEL_SUBNET=10.244.1.1/24\n"
				 "FLANNEL_IPV6_NETWORK=fd00:10:244::/56\n"
				 "FLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\n"
				 "FLANNEL_MTU=1450\n"
				 "FLANNEL_IPMASQ=true\n";

static void must_be_json(const char *s, size_t len)
{
	/* Integers as reals: Go writes 1e20 as 100000000000000000000, which is
	 * JSON but overflows jansson's integers. */
	json_t *j = json_loadb(s, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, NULL);

	if (!j)
		abort();
	json_decref(j);
}

/* The error object main() prints must be JSON whatever the message holds. */
static void print_error(const struct cni_error *e, const char *version)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (!e->code || e->raw)
		abort(); /* every failure here sets a code, none passes raw bytes */
	f = open_memstream(&out, &len);
	if (!f)
		return;
	cni_error_print(f, e, version);
	fclose(f);
	must_be_json(out, len);
	free(out);
}

/* The delegate's bytes as stored by ADD, read back by CHECK (and DEL). */
static void stored_roundtrip(const char *stored, size_t len, const json_t *prev_result)
{
	struct cni_error e = {0};
	json_error_t jerr;
	struct buf again;
	json_t *d;

	buf_init(&again, DELEGATE_MAX_SIZE);
	d = gojson_loadb(stored, len, &jerr);
	if (!json_is_object(d) || !delegate_type(d))
		goto out;
	if (prev_result && json_object_set(d, "prevResult", (json_t *)(uintptr_t)prev_result) < 0)
		goto out;
	if (delegate_encode(d, &again, &e) < 0) {
		print_error(&e, CNI_VERSION_LATEST);
		goto out;
	}
	must_be_json(again.data, again.len);
out:
	json_decref(d);
	buf_free(&again);
}

static void add_path(const struct cni_conf *c)
{
	struct flannel_env env;
	struct cni_error e = {0};
	struct buf conf, again;
	json_t *d = NULL, *back = NULL;

	buf_init(&conf, DELEGATE_MAX_SIZE);
	buf_init(&again, DELEGATE_MAX_SIZE);
	if (flannel_env_parse("subnet.env", subnet_env, sizeof(subnet_env) - 1, &env, &e) < 0)
		abort();
	if (delegate_check(c, &e) < 0 || delegate_build(c, &env, &d, &e) < 0 ||
	    delegate_encode(d, &conf, &e) < 0) {
		print_error(&e, CNI_VERSION_LATEST);
		goto out;
	}
	if (!delegate_type(d))
		abort(); /* ADD needs a plugin to look for */
	must_be_json(conf.data, conf.len);

	/* DEL and CHECK send what ADD stored: reading it back and encoding it
	 * again must give the same bytes. */
	back = gojson_loadb(conf.data, conf.len, NULL);
	if (!back || delegate_encode(back, &again, &e) < 0 || again.len != conf.len ||
	    memcmp(again.data, conf.data, conf.len) != 0)
		abort();
	stored_roundtrip(conf.data, conf.len, c->prev_result);
out:
	flannel_env_free(&env);
	json_decref(d);
	json_decref(back);
	buf_free(&conf);
	buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cni_conf c;
	struct cni_error e = {0};
	const char *buf = (const char *)data;
	int cmp;

	if (size > CNI_MAX_INPUT)
		return 0; /* main() refuses more before parsing */
	if (cni_conf_parse(buf, size, &c, &e) < 0) {
		if (c.root)
			abort(); /* nothing kept on failure */
		print_error(&e, CNI_VERSION_LATEST);
		goto stored;
	}
	if (!cni_valid_name(c.name) || !*c.subnet_file || !*c.data_dir)
		abort();
	/* The front door's version checks (main.c check_version). */
	(void)cni_version_cmp(c.cni_version, "0.4.0", &cmp);
	(void)cni_version_supported(*c.cni_version ? c.cni_version : "0.1.0");
	add_path(&c);
	cni_conf_free(&c);
stored:
	stored_roundtrip(buf, size, NULL);
	return 0;
}
