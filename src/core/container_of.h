/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_CONTAINER_OF_H
#define WEFT_CORE_CONTAINER_OF_H

#include <stddef.h>
#include <stdint.h>

/*
 * The struct that embeds member at ptr. Implementations reach their own
 * state from a base struct (struct backend, struct subnet_mgr) this way;
 * only functions from their own ops table do it, so the type is known.
 */
#define container_of(ptr, type, member)                                                    \
	((type *)(void *)((uintptr_t)(ptr) - offsetof(type, member)))

#endif
