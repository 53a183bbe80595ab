// SPDX-License-Identifier: Apache-2.0
/* Lease JSON: decode never crashes; what decodes re-encodes, decodes to the
 * same attributes and re-encodes to the same bytes. The input is also tried
 * as raw backend data for the Go-compatible compactor, and as a peer's
 * BackendData for the backends that read one (vxlan's VtepMAC, wireguard's
 * PublicKey and Port). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/vxlan.h"
#include "backend/wg_conf.h"
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
	{
		uint8_t mac[MAC_LEN], pub[WG_KEY_LEN];
		struct err werr = {""};
		uint16_t port = 0;

		vxlan_data_vtep_mac(s, mac);
		if (wg_peer_data_parse(s, 51820, pub, &port, &werr) == 0) {
			char *back = wg_lease_data(pub, port);
			uint8_t pub2[WG_KEY_LEN];
			uint16_t port2 = 0;

			/* What a peer's data says, written again, reads the same. */
			if (wg_peer_data_parse(back, 51820, pub2, &port2, &werr) < 0 ||
			    memcmp(pub, pub2, WG_KEY_LEN) || port != port2)
				abort();
			free(back);
		} else if (!werr.msg[0]) {
			abort();
		}
	}
	raw.backend_data = s;
	if (lease_attrs_encode(&raw, &json) == 0) {
		check_stable(json);
		free(json);
	}
	free(s);
	return 0;
}
