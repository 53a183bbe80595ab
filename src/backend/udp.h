/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_UDP_H
#define WEFT_BACKEND_UDP_H

struct backend_ops;
extern const struct backend_ops udp_backend_ops;

#endif
