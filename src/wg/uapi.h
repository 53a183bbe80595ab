/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_WG_UAPI_H
#define WEFT_WG_UAPI_H

/*
 * The cross-platform userspace configuration protocol (wireguard.com/xplatform),
 * the text `wg` speaks over /var/run/wireguard/<device>.sock:
 *
 *   get=1\n\n            -> key=value lines of the device, then errno=0\n\n
 *   set=1\n<lines>\n     -> errno=0\n\n (or errno=<positive errno>)
 *
 * Keys are hex (64 digits); endpoints "a.b.c.d:port" or "[v6]:port". Pure:
 * text in, struct wg_device_config out and back.
 */
#include <stddef.h>

#include "wg/config.h"

struct buf;
struct err;

/* Longest request accepted (a set with thousands of peers fits). */
#define WG_UAPI_MAX_REQUEST (1024 * 1024)

enum wg_uapi_op { WG_UAPI_GET = 1, WG_UAPI_SET = 2 };

/*
 * Parse one whole request (len bytes, ending with the empty line). For set,
 * *ret receives the change. -EINVAL with err naming the line (a key never
 * appears in err); -EPROTO for an unknown operation or a protocol_version
 * other than 1.
 */
int wg_uapi_parse(const char *text, size_t len, enum wg_uapi_op *op, struct wg_device_config *ret,
		  struct err *err);

/* A get's reply for state c (keys included: the socket is root's only),
 * ending with "errno=0\n\n". */
void wg_uapi_format_get(const struct wg_device_config *c, struct buf *out);
/* "errno=<n>\n\n" for a result (0 or a negative errno). */
void wg_uapi_format_errno(int rc, struct buf *out);
/* A set request that applies c (what `wg set` would send); for tests. */
void wg_uapi_format_set(const struct wg_device_config *c, struct buf *out);

/* Parse a get's reply into c (what `wg show` reads); for tests and tools. */
int wg_uapi_parse_get_reply(const char *text, size_t len, struct wg_device_config *c,
			    struct err *err);

#endif
