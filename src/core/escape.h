/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_ESCAPE_H
#define WEFT_CORE_ESCAPE_H

#include <stddef.h>

/*
 * Bytes from outside (an etcd key may hold any byte, NUL included) as one
 * printable line: bytes outside printable ASCII, space and the backslash as
 * \xNN, so that distinct inputs stay distinct. Returns a malloc'd string.
 */
char *escape_bytes(const char *s, size_t len);

#endif
