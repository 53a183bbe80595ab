// SPDX-License-Identifier: Apache-2.0
/*
 * The gateway's JSON: int64 fields arrive as JSON strings (numbers are taken
 * too), keys and values as base64. Everything is length-counted: a key may
 * hold any byte, NUL included, and keeps its decoded length.
 */
#include "etcd/etcd_parse.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/err.h"
#include "core/xmalloc.h"

/* An int64 field: absent is 0; present but not an int64 is -EBADMSG. */
static int json_i64(const json_t *obj, const char *key, int64_t *ret)
{
	const json_t *v = json_object_get(obj, key);
	const char *s, *p;
	size_t n;
	char *end;
	long long x;

	*ret = 0;
	if (!v)
		return 0;
	if (json_is_integer(v)) {
		*ret = (int64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -EBADMSG;
	s = json_string_value(v);
	n = json_string_length(v);
	p = s[0] == '-' ? s + 1 : s;
	/* Digits only, and all of them: strtoll alone would take " 12x". */
	if (n == 0 || n > 20 || *p < '0' || *p > '9' ||
	    strspn(p, "0123456789") != n - (size_t)(p - s))
		return -EBADMSG;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || *end)
		return -EBADMSG;
	*ret = (int64_t)x;
	return 0;
}

static int decode_b64_field(const json_t *obj, const char *key, char **ret, size_t *ret_len)
{
	const json_t *v = json_object_get(obj, key);
	long n;

	*ret = NULL;
	*ret_len = 0;
	if (!v) {
		*ret = xstrdup("");
		return 0;
	}
	if (!json_is_string(v))
		return -EBADMSG;
	n = base64_decode_alloc(json_string_value(v), json_string_length(v), ret);
	if (n < 0) {
		*ret = NULL;
		return -EBADMSG;
	}
	*ret_len = (size_t)n;
	return 0;
}

void etcd_kv_free(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	kv->key = kv->value = NULL;
	kv->key_len = kv->value_len = 0;
}

static int kv_decode(const json_t *j, struct etcd_kv *kv, struct err *err)
{
	memset(kv, 0, sizeof(*kv));
	if (!json_is_object(j))
		return err_set(err, -EBADMSG, "not an object");
	if (decode_b64_field(j, "key", &kv->key, &kv->key_len) < 0) {
		etcd_kv_free(kv);
		return err_set(err, -EBADMSG, "\"key\" is not base64");
	}
	if (decode_b64_field(j, "value", &kv->value, &kv->value_len) < 0) {
		etcd_kv_free(kv);
		return err_set(err, -EBADMSG, "\"value\" is not base64");
	}
	if (json_i64(j, "create_revision", &kv->create_revision) < 0 ||
	    json_i64(j, "mod_revision", &kv->mod_revision) < 0 ||
	    json_i64(j, "version", &kv->version) < 0 || json_i64(j, "lease", &kv->lease) < 0) {
		etcd_kv_free(kv);
		return err_set(err, -EBADMSG, "a revision, version or lease is not an int64");
	}
	return 0;
}

void etcd_range_result_free(struct etcd_range_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		etcd_kv_free(&r->kvs[i]);
	free(r->kvs);
	r->kvs = NULL;
	r->n = 0;
}

static int parse_range(const json_t *j, struct etcd_resp *ret, struct err *err)
{
	struct etcd_range_result *res = &ret->range;
	const json_t *kvs = json_object_get(j, "kvs");
	size_t i, n;
	int rc;

	if (kvs && !json_is_array(kvs))
		return err_set(err, -EBADMSG, "range: \"kvs\" is not an array");
	n = json_array_size(kvs);
	res->revision = ret->revision;
	res->kvs = xcalloc(n ? n : 1, sizeof(*res->kvs));
	for (i = 0; i < n; i++) {
		rc = kv_decode(json_array_get(kvs, i), &res->kvs[i], err);
		if (rc < 0) {
			res->n = i;
			etcd_range_result_free(res);
			return err_prefix(err, rc, "range: key-value %zu", i);
		}
	}
	res->n = n;
	res->more = json_is_true(json_object_get(j, "more"));
	return 0;
}

int etcd_parse_ok(enum etcd_resp_kind kind, const char *body, size_t len, struct etcd_resp *ret,
		  struct err *err)
{
	json_error_t jerr;
	json_t *j;
	int rc = 0;

	memset(ret, 0, sizeof(*ret));
	j = json_loadb(body, len, 0, &jerr);
	if (!json_is_object(j)) {
		rc = err_set(err, -EBADMSG, "%s", j ? "not a JSON object" : jerr.text);
		goto out;
	}
	if (json_i64(json_object_get(j, "header"), "revision", &ret->revision) < 0) {
		rc = err_set(err, -EBADMSG, "header.revision is not an int64");
		goto out;
	}
	switch (kind) {
	case ETCD_RESP_RANGE:
		rc = parse_range(j, ret, err);
		break;
	case ETCD_RESP_TXN:
		ret->succeeded = json_is_true(json_object_get(j, "succeeded"));
		break;
	case ETCD_RESP_GRANT:
	case ETCD_RESP_TTL:
		if (json_i64(j, "ID", &ret->id) < 0 || json_i64(j, "TTL", &ret->ttl) < 0) {
			rc = err_set(err, -EBADMSG, "lease ID or TTL is not an int64");
			break;
		}
		/* timetolive leaves TTL out (-1 in proto3, omitted) for no lease. */
		if (kind == ETCD_RESP_TTL && !json_object_get(j, "TTL"))
			ret->ttl = -1;
		break;
	case ETCD_RESP_WRITE:
		break;
	}
out:
	if (rc < 0)
		memset(ret, 0, sizeof(*ret));
	json_decref(j);
	return rc;
}

void etcd_parse_error(const char *body, size_t len, struct etcd_resp_error *ret)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *msg;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(j)) {
		json_decref(j);
		return;
	}
	ret->json = true;
	if (json_i64(j, "code", &ret->code) < 0)
		ret->code = 0;
	msg = json_string_value(json_object_get(j, "message"));
	if (!msg)
		msg = json_string_value(json_object_get(j, "error"));
	if (msg)
		snprintf(ret->message, sizeof(ret->message), "%s", msg);
	json_decref(j);
}

void etcd_watch_msg_free(struct etcd_watch_msg *m)
{
	for (size_t i = 0; i < m->res.n; i++)
		etcd_kv_free(&m->events[i].kv);
	free(m->events);
	memset(m, 0, sizeof(*m));
}

int etcd_parse_watch_line(const char *line, size_t len, struct etcd_watch_msg *ret, struct err *err)
{
	const json_t *result, *events;
	json_t *j;
	size_t n;
	int rc = 0;

	memset(ret, 0, sizeof(*ret));
	ret->kind = ETCD_WATCH_ERROR;
	j = json_loadb(line, len, 0, NULL);
	result = json_object_get(j, "result");
	if (!json_is_object(result)) {
		const char *msg =
			json_string_value(json_object_get(json_object_get(j, "error"), "message"));

		if (!j)
			msg = "malformed watch response: not JSON";
		else if (!msg || !*msg)
			msg = "malformed watch response: no result and no error message";
		rc = err_set(err, -EBADMSG, "%s", msg);
		goto out;
	}
	if (json_i64(json_object_get(result, "header"), "revision", &ret->res.revision) < 0 ||
	    json_i64(result, "compact_revision", &ret->res.compact_revision) < 0) {
		rc = err_set(err, -EBADMSG, "watch response: a revision is not an int64");
		goto out;
	}
	if (json_is_true(json_object_get(result, "canceled"))) {
		const char *reason;

		if (ret->res.compact_revision > 0) {
			ret->kind = ETCD_WATCH_COMPACTED;
			goto out;
		}
		reason = json_string_value(json_object_get(result, "cancel_reason"));
		ret->kind = ETCD_WATCH_CANCELED;
		ret->res.compact_revision = 0;
		rc = err_set(err, -ECANCELED, "canceled by the server: %s",
			     reason && *reason ? reason : "(no reason)");
		goto out;
	}
	/* Only a cancellation may carry a compact revision. */
	ret->res.compact_revision = 0;
	if (json_is_true(json_object_get(result, "created"))) {
		ret->kind = ETCD_WATCH_CREATED;
		ret->res.created = true;
		goto out;
	}
	ret->kind = ETCD_WATCH_EVENTS;
	events = json_object_get(result, "events");
	n = json_array_size(events);
	if (n)
		ret->events = xcalloc(n, sizeof(*ret->events));
	for (size_t i = 0; i < n; i++) {
		const json_t *ev = json_array_get(events, i);
		const char *type = json_string_value(json_object_get(ev, "type"));

		/* PUT is proto3's default: the gateway leaves it out. */
		ret->events[i].type =
			type && !strcmp(type, "DELETE") ? ETCD_EVENT_DELETE : ETCD_EVENT_PUT;
		/* An undecodable event still advances the revision: kv.key stays NULL. */
		kv_decode(json_object_get(ev, "kv"), &ret->events[i].kv, NULL);
	}
	ret->res.events = ret->events;
	ret->res.n = n;
out:
	json_decref(j);
	return rc;
}
