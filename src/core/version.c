// SPDX-License-Identifier: Apache-2.0
#include "core/version.h"

const char weft_version[] = WEFT_VERSION;
