// SPDX-License-Identifier: Apache-2.0
/* The owner record beside a lease (written by any etcd client): the decoder
 * never crashes, every refusal says why, and what it accepts encodes back to a
 * record that decodes to the same node. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "subnet/etcd_mgr_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err err = {""};
	char *node, *host, *node2, *host2, *again;

	if (etcd_mgr_owner_decode((const char *)data, size, &node, &host, &err) < 0) {
		if (!err.msg[0] || node || host)
			abort();
		return 0;
	}
	if (!node[0])
		abort(); /* no NodeID is refused */
	again = etcd_mgr_owner_encode(node, host);
	if (etcd_mgr_owner_decode(again, strlen(again), &node2, &host2, &err) < 0 ||
	    strcmp(node, node2) || strcmp(host, host2))
		abort();
	free(again);
	free(node);
	free(host);
	free(node2);
	free(host2);
	return 0;
}
