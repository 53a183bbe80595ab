/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_CONF_H
#define WEFT_BACKEND_CONF_H

/*
 * Reading a backend's options from the config's Backend object: keys are
 * matched as Go's encoding/json does (case-insensitively), null or absent
 * leaves the default, a wrong type or range is an error naming the key
 * ("Backend.Port must be ...").
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct err;

/* The Backend value (NULL: absent, an empty object); NULL with err when it
 * is not a JSON object. The caller json_decref()s it. */
json_t *backend_conf_object(const char *json, struct err *err);
int backend_conf_uint(const json_t *o, const char *key, uint64_t max, uint64_t *ret,
		      struct err *err);
int backend_conf_bool(const json_t *o, const char *key, bool *ret, struct err *err);
/* *ret points into o (valid while o is). */
int backend_conf_string(const json_t *o, const char *key, const char **ret, struct err *err);

#endif
