/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_JSON_CI_H
#define WEFT_CORE_JSON_CI_H

#include <jansson.h>

/* Go's encoding/json matches object keys case-insensitively; the value of the
 * last matching key wins (jansson keeps insertion order). NULL when absent. */
json_t *json_get_ci(const json_t *obj, const char *key);

#endif
