/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_EXTENSION_H
#define WEFT_BACKEND_EXTENSION_H

struct backend_ops;
extern const struct backend_ops extension_backend_ops;

#endif
