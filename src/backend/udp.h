/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_UDP_H
#define WEFT_BACKEND_UDP_H

#include <stdbool.h>

struct backend;
struct backend_ops;
struct udp_proxy_stats;

extern const struct backend_ops udp_backend_ops;

/*
 * The data path's counters and active features (datapath/udp_proxy.h), for
 * /metrics: b must come from udp_backend_ops. False while the data path is
 * not running (before the lease is held).
 */
bool udp_backend_stats(struct backend *b, struct udp_proxy_stats *ret);

#endif
