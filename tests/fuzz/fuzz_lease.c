// SPDX-License-Identifier: Apache-2.0
/* Lease JSON: decode never crashes; what decodes re-encodes, decodes to the
 * same attributes and re-encodes to the same bytes. The input is also tried
 * as raw backend data for the Go-compatible compactor. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "subnet/lease.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_stable(const char *json)
{
	struct lease_attrs b = {0}, c = {0};
	struct err err = {""};
	char *j2 = NULL;

	if (lease_attrs_decode(json, strlen(json), &b, &err) < 0)
		abort();
	if (lease_attrs_encode(&b, &j2) < 0 || strcmp(json, j2) != 0)
		abort();
	if (lease_attrs_decode(j2, strlen(j2), &c, &err) < 0 || !lease_attrs_equal(&b, &c))
		abort();
	lease_attrs_free(&b);
	lease_attrs_free(&c);
	free(j2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lease_attrs a = {0}, raw = {.backend_type = "vxlan"};
	struct err err = {""};
	char *json = NULL, *s;

	if (lease_attrs_decode((const char *)data, size, &a, &err) == 0) {
		if (lease_attrs_encode(&a, &json) < 0)
			abort();
		check_stable(json);
		free(json);
		json = NULL;
	} else if (!err.msg[0]) {
		abort();
	}
	lease_attrs_free(&a);

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	raw.backend_data = s;
	if (lease_attrs_encode(&raw, &json) == 0) {
		check_stable(json);
		free(json);
	}
	free(s);
	return 0;
}
