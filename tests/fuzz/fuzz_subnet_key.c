// SPDX-License-Identifier: Apache-2.0
/* Subnet key parser: never crashes, and whatever it accepts formats back to a
 * key that parses to the same subnets. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "subnet/subnet_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[SUBNET_KEY_STRLEN];
	struct subnet_key k, k2;
	struct err err = {""};

	if (subnet_key_from_etcd_key((const char *)data, size, &k, &err) < 0) {
		if (!err.msg[0])
			abort(); /* every rejection carries a reason */
	}
	if (subnet_key_parse_mem((const char *)data, size, &k, &err) < 0)
		return 0;
	if (subnet_key_format(&k, buf, sizeof(buf)) < 0)
		abort();
	if (subnet_key_parse(buf, &k2, &err) < 0 || !subnet_key_equal(&k, &k2))
		abort();
	/* Only non-canonical IPv6 text may differ from the input. */
	if (!k.has_v6 && (strlen(buf) != size || memcmp(buf, data, size) != 0))
		abort();
	return 0;
}
