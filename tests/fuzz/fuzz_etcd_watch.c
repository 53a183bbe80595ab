// SPDX-License-Identifier: Apache-2.0
/* etcd watch stream lines, as the client parses them, and the keys they
 * carry as the etcd subnet manager reads them: never a crash; every message
 * is one consistent kind; a key the lease-key parser accepts is exactly the
 * prefix and the canonical text of its subnet, byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "etcd/etcd_parse.h"
#include "subnet/subnet_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PREFIX "/coreos.com/network/subnets/"

static void check_key(const struct etcd_kv *kv)
{
	char name[SUBNET_KEY_STRLEN];
	struct subnet_key k;
	struct err err = {""};
	size_t plen = strlen(PREFIX);

	if (subnet_key_from_lease_key(PREFIX, kv->key, kv->key_len, &k, &err) < 0) {
		if (!err.msg[0])
			abort();
		return;
	}
	if (subnet_key_format(&k, name, sizeof(name)) < 0)
		abort();
	if (kv->key_len != plen + strlen(name) || memcmp(kv->key, PREFIX, plen) ||
	    memcmp(kv->key + plen, name, strlen(name)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etcd_watch_msg msg;
	struct err err = {""};
	int rc = etcd_parse_watch_line((const char *)data, size, &msg, &err);

	switch (msg.kind) {
	case ETCD_WATCH_ERROR:
	case ETCD_WATCH_CANCELED:
		if (rc >= 0 || !err.msg[0] || msg.res.n || msg.events)
			abort();
		break;
	case ETCD_WATCH_COMPACTED:
		if (rc < 0 || msg.res.compact_revision <= 0 || msg.res.n)
			abort();
		break;
	case ETCD_WATCH_CREATED:
		if (rc < 0 || !msg.res.created || msg.res.compact_revision || msg.res.n)
			abort();
		break;
	case ETCD_WATCH_EVENTS:
		if (rc < 0 || msg.res.created || msg.res.compact_revision ||
		    msg.res.events != msg.events || (msg.res.n && !msg.events))
			abort();
		for (size_t i = 0; i < msg.res.n; i++) {
			const struct etcd_kv *kv = &msg.events[i].kv;

			if (!kv->key)
				continue; /* undecodable: skipped by the client */
			if (!kv->value || kv->key[kv->key_len] || kv->value[kv->value_len])
				abort();
			check_key(kv);
		}
		break;
	default:
		abort();
	}
	etcd_watch_msg_free(&msg);
	return 0;
}
