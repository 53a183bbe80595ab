// SPDX-License-Identifier: Apache-2.0
/* etcd JSON gateway answers (range, put/delete, txn, lease grant and
 * timetolive, error bodies): the parser the client runs, on bytes. The first
 * byte picks the kind ('0'..'5', modulo 6); the rest is the body. Decoded
 * keys and values are length-counted and NUL-terminated; a refusal says why
 * and leaves nothing behind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "etcd/etcd_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct etcd_resp zero;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data + 1;
	struct etcd_resp res;
	struct err err = {""};
	unsigned kind;

	if (size == 0)
		return 0;
	kind = (unsigned)data[0] % 6;
	size--;
	if (kind == 5) {
		struct etcd_resp_error re;

		etcd_parse_error(body, size, &re);
		if (!memchr(re.message, '\0', sizeof(re.message)))
			abort();
		if (!re.json && (re.code || re.message[0]))
			abort();
		return 0;
	}
	if (etcd_parse_ok((enum etcd_resp_kind)kind, body, size, &res, &err) < 0) {
		if (!err.msg[0] || memcmp(&res, &zero, sizeof(res)) != 0)
			abort();
		return 0;
	}
	if (kind != ETCD_RESP_RANGE && (res.range.kvs || res.range.n))
		abort();
	for (size_t i = 0; i < res.range.n; i++) {
		const struct etcd_kv *kv = &res.range.kvs[i];

		if (!kv->key || !kv->value || kv->key[kv->key_len] || kv->value[kv->value_len])
			abort();
	}
	if (kind == ETCD_RESP_RANGE && res.range.revision != res.revision)
		abort();
	etcd_range_result_free(&res.range);
	return 0;
}
