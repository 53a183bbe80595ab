/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_SUBNET_LEASE_H
#define WEFT_SUBNET_LEASE_H

/*
 * Lease attributes: the value of <prefix>/subnets/<key> (flannel's LeaseAttrs),
 * e.g. {"PublicIP":"10.0.0.2","PublicIPv6":null,"BackendType":"host-gw"}.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/ipnet.h"

struct err;

#define LEASE_JSON_MAX (64 * 1024) /* decode refuses larger values */

struct lease_attrs {
	struct ip_addr public_ip;   /* AF_INET; unset is written as "0.0.0.0" */
	struct ip_addr public_ipv6; /* AF_INET6; unset is written as null */
	char backend_type[32];	    /* "" = omitted */
	char *backend_data;	    /* raw JSON text, owned; NULL or "" = omitted */
	char *backend_v6_data;
};

/* Byte-identical to Go's json.Marshal of flannel's LeaseAttrs. *ret_json is
 * NUL-terminated and freed by the caller. -EINVAL for a wrong address family
 * or backend data that is not exactly one JSON value; -E2BIG when the value
 * would exceed 8 * LEASE_JSON_MAX bytes (no value that decode accepts comes
 * near: Go's escaping at most sixfolds it). */
int lease_attrs_encode(const struct lease_attrs *a, char **ret_json);

/* Go json.Unmarshal semantics (keys matched case-insensitively, last one wins,
 * unknown keys ignored), but a value upstream would drop or misread is an
 * error with the reason in err. Backend data is kept as compact JSON text.
 * *ret is overwritten, not freed; on error it is left empty. */
int lease_attrs_decode(const char *json, size_t len, struct lease_attrs *ret, struct err *err);

bool lease_attrs_equal(const struct lease_attrs *a, const struct lease_attrs *b);
/* Frees the backend data and empties *a; NULL is fine. */
void lease_attrs_free(struct lease_attrs *a);
/* *dst = *src with its own copies of the backend data (dst is overwritten,
 * not freed). */
void lease_attrs_copy(struct lease_attrs *dst, const struct lease_attrs *src);

#endif
