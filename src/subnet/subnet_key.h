/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_SUBNET_SUBNET_KEY_H
#define WEFT_SUBNET_SUBNET_KEY_H

/*
 * The name of a node lease below <prefix>/subnets/ (flannel's MakeSubnetKey /
 * ParseSubnetKey): "10.5.34.0-24", dual stack "10.12.13.0-24&fd00:12:13::-56",
 * IPv6-only "0.0.0.0-0&fc00:0:0:5::-64".
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/ipnet.h"

struct err;

/* "255.255.255.255-31&" + 39 bytes of IPv6 + "-127" + NUL fits. */
#define SUBNET_KEY_STRLEN 64

struct subnet_key {
	struct ip_prefix v4; /* 0.0.0.0/0 (or family 0) for an IPv6-only key */
	struct ip_prefix v6; /* meaningful only when has_v6 */
	bool has_v6;
};

/* False for the IPv6-only placeholder 0.0.0.0/0. */
bool subnet_key_has_v4(const struct subnet_key *k);
bool subnet_key_equal(const struct subnet_key *a, const struct subnet_key *b);

/* Canonical text into buf. -EINVAL if a part is not a network address or has
 * the wrong family, -ERANGE for a length upstream cannot parse back (v4 /32,
 * v6 /128), -ENOSPC if buf is too small (SUBNET_KEY_STRLEN always fits). */
int subnet_key_format(const struct subnet_key *k, char *buf, size_t len);

/* Strict parse of a whole key; 0 or -EINVAL with the reason in err. */
int subnet_key_parse(const char *s, struct subnet_key *ret, struct err *err);
/* Same for a byte string that need not be NUL-terminated (etcd keys are bytes). */
int subnet_key_parse_mem(const char *s, size_t len, struct subnet_key *ret, struct err *err);
/* Parse the last path component of a full etcd key "<prefix>/subnets/<key>". */
int subnet_key_from_etcd_key(const char *key, size_t len, struct subnet_key *ret, struct err *err);
/*
 * The lease a whole etcd key names: key (len bytes, any of them NUL) must be
 * subnets_prefix ("<prefix>/subnets/") followed by a subnet key in exactly its
 * canonical spelling (what subnet_key_format writes), so that no other key
 * (a NUL byte and a tail, a sub-path, another IPv6 spelling) can stand for the
 * same lease. 0; -ENOENT when key is not below the prefix; -EINVAL with the
 * reason in err.
 */
int subnet_key_from_lease_key(const char *subnets_prefix, const char *key, size_t len,
			      struct subnet_key *ret, struct err *err);

#endif
