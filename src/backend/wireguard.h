/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_WIREGUARD_H
#define WEFT_BACKEND_WIREGUARD_H

#include "backend/backend.h"

extern const struct backend_ops wireguard_backend_ops;

#endif
