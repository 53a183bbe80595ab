/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_ALLOC_H
#define WEFT_BACKEND_ALLOC_H

struct backend_ops;
extern const struct backend_ops alloc_backend_ops;

#endif
