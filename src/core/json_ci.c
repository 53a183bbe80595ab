// SPDX-License-Identifier: Apache-2.0
#include "core/json_ci.h"

#include <stdint.h>
#include <strings.h>

json_t *json_get_ci(const json_t *obj, const char *key)
{
	json_t *found = NULL, *v;
	const char *k;

	if (!json_is_object(obj))
		return NULL;
	/* json_object_foreach wants a non-const object; reading only. */
	json_object_foreach((json_t *)(uintptr_t)obj, k, v)
		if (!strcasecmp(k, key))
			found = v;
	return found;
}
