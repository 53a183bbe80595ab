/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_RANDOM_H
#define WEFT_CORE_RANDOM_H

#include <stddef.h>

/* len bytes from the kernel's CSPRNG (getrandom, interrupted calls
 * resumed); 0 or -errno. */
int random_bytes(void *buf, size_t len);

#endif
