/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_VXLAN_H
#define WEFT_BACKEND_VXLAN_H

#include <stdint.h>

#include "core/mac.h"

struct backend_ops;
extern const struct backend_ops vxlan_backend_ops;

/*
 * The VtepMAC of vxlan BackendData (a peer's, or what our previous run
 * published): 0; -ENOENT when data is NULL, not JSON or has no VtepMAC
 * string; mac_parse's -EINVAL / -EADDRNOTAVAIL for one that is malformed,
 * multicast or all zero. ret is written only on 0.
 */
int vxlan_data_vtep_mac(const char *data, uint8_t ret[MAC_LEN]);

#endif
