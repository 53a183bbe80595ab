// SPDX-License-Identifier: Apache-2.0
#include "backend/conf.h"

#include <errno.h>

#include "core/err.h"
#include "core/json_ci.h"

json_t *backend_conf_object(const char *json, struct err *err)
{
	json_t *o = json ? json_loads(json, 0, NULL) : json_object();

	if (!json_is_object(o)) {
		json_decref(o);
		err_set(err, -EINVAL, "Backend must be a JSON object");
		return NULL;
	}
	return o;
}

int backend_conf_uint(const json_t *o, const char *key, uint64_t max, uint64_t *ret,
		      struct err *err)
{
	const json_t *v = json_get_ci(o, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return err_set(err, -EINVAL, "Backend.%s must be an integer between 0 and %llu", key,
			       (unsigned long long)max);
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

int backend_conf_bool(const json_t *o, const char *key, bool *ret, struct err *err)
{
	const json_t *v = json_get_ci(o, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return err_set(err, -EINVAL, "Backend.%s must be true or false", key);
	*ret = json_is_true(v);
	return 0;
}

int backend_conf_string(const json_t *o, const char *key, const char **ret, struct err *err)
{
	const json_t *v = json_get_ci(o, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(err, -EINVAL, "Backend.%s must be a string", key);
	*ret = json_string_value(v);
	return 0;
}
