/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_IPSEC_H
#define WEFT_BACKEND_IPSEC_H

#include "backend/backend.h"

#define IPSEC_RUN_DIR_DEFAULT "/run/weft/ipsec"

extern const struct backend_ops ipsec_backend_ops;

#endif
