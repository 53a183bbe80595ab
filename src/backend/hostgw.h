/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_HOSTGW_H
#define WEFT_BACKEND_HOSTGW_H

struct backend_ops;
extern const struct backend_ops hostgw_backend_ops;

#endif
