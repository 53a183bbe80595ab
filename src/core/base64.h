/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_BASE64_H
#define WEFT_CORE_BASE64_H

#include <stddef.h>

/* Standard alphabet with padding (RFC 4648 §4), as etcd's JSON gateway uses. */

/* Bytes needed for the encoding of n bytes, including the NUL. */
size_t base64_encoded_size(size_t n);
/* Writes NUL-terminated text into out (base64_encoded_size(n) bytes). */
void base64_encode(const void *in, size_t n, char *out);
/* Decodes into out (at least len/4*3+1 bytes; NUL-terminated for convenience).
 * Returns the decoded length, or -EINVAL for malformed input. */
long base64_decode(const char *in, size_t len, void *out);
/* Allocating variants (xmalloc). */
char *base64_encode_alloc(const void *in, size_t n);
/* Returns -EINVAL or the length; *ret is NUL-terminated and owned by the caller. */
long base64_decode_alloc(const char *in, size_t len, char **ret);

#endif
