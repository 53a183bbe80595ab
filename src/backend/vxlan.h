/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_VXLAN_H
#define WEFT_BACKEND_VXLAN_H

struct backend_ops;
extern const struct backend_ops vxlan_backend_ops;

#endif
