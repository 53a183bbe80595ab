/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_ETCD_ETCD_H
#define WEFT_ETCD_ETCD_H

/*
 * An etcd v3 client over its JSON gateway (/v3/kv/..., /v3/lease/...,
 * /v3/watch), asynchronous on the daemon's loop. Keys and values are bytes
 * on the wire (base64); what comes back from etcd is length-counted (a key
 * may hold a NUL byte: never read one as a C string) and NUL-terminated for
 * convenience. Keys we send are C strings we built ourselves.
 *
 * Unary requests fail over: a transport error moves to the next endpoint and
 * retries there, once per endpoint. A callback's err is 0 or a negative errno;
 * while a callback runs, etcd_strerror() says what went wrong.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct err;
struct etcd;
struct etcd_watch;

struct etcd_config {
	const char *endpoints; /* comma-separated URLs */
	const char *cafile, *certfile, *keyfile;
	const char *username, *password;
	long request_timeout_ms; /* 0 = 10 s */
	size_t max_response;     /* 0 = 64 MiB (a range over 20,000 leases is ~8 MiB) */
	/* A watch that delivers neither an event nor a progress notification for
	 * this long is ended with -ETIMEDOUT (and the next request goes to the
	 * next endpoint). etcd notifies an idle watch every 10 min by default
	 * (--experimental-watch-progress-notify-interval), but skips a period in
	 * which events were sent, so a healthy watch may be silent for almost
	 * two periods. 0 = 25 min. */
	long watch_idle_ms;
};

struct etcd_kv {
	char *key; /* key_len bytes (may contain NUL), then a NUL */
	size_t key_len;
	char *value;
	size_t value_len;
	int64_t create_revision, mod_revision, version, lease;
};

struct etcd_range_result {
	int64_t revision; /* store revision the answer reflects */
	struct etcd_kv *kvs;
	size_t n;
	bool more;
};

enum etcd_event_type { ETCD_EVENT_PUT, ETCD_EVENT_DELETE };

struct etcd_event {
	enum etcd_event_type type;
	struct etcd_kv kv; /* for DELETE: key and mod_revision only */
};

/* One watch response: events (possibly none: a progress notification). */
struct etcd_watch_result {
	int64_t revision; /* header revision */
	const struct etcd_event *events;
	size_t n;
	int64_t compact_revision; /* > 0: the start revision was compacted; watch ended */
	bool created; /* the watch was set up; no events, revision is not a resume point */
};

typedef void etcd_range_cb(void *arg, int err, const struct etcd_range_result *res);
/* revision of the write; for txn, succeeded says whether the compare held. */
typedef void etcd_write_cb(void *arg, int err, int64_t revision, bool succeeded);
/* Lease grant: id and granted ttl. Time-to-live: ttl in seconds, -1 when the
 * lease does not exist (etcd's answer for lease 0 too). */
typedef void etcd_lease_cb(void *arg, int err, int64_t id, int64_t ttl);
/* Called for every response; err != 0 (or compact_revision > 0) ends the watch,
 * after which the handle is gone. */
typedef void etcd_watch_cb(void *arg, int err, const struct etcd_watch_result *res);

int etcd_new(struct loop *loop, const struct etcd_config *cfg, struct etcd **ret,
	     struct err *err);
/* Cancels everything in flight without calling back. */
void etcd_free(struct etcd *e);
const char *etcd_strerror(const struct etcd *e);
/* The endpoint requests go to now. */
const char *etcd_endpoint(const struct etcd *e);

int etcd_get(struct etcd *e, const char *key, etcd_range_cb *cb, void *arg);
int etcd_get_prefix(struct etcd *e, const char *prefix, etcd_range_cb *cb, void *arg);
int etcd_put(struct etcd *e, const char *key, const char *value, size_t len, int64_t lease,
	     etcd_write_cb *cb, void *arg);
int etcd_delete(struct etcd *e, const char *key, etcd_write_cb *cb, void *arg);
/* If(version(key) == 0) Then(Put(key, value, lease)): create only if absent. */
int etcd_create(struct etcd *e, const char *key, const char *value, size_t len, int64_t lease,
		etcd_write_cb *cb, void *arg);
/* If(mod_revision(key) == rev) Then(Put): replace exactly what was read. */
int etcd_replace(struct etcd *e, const char *key, int64_t mod_revision, const char *value,
		 size_t len, int64_t lease, etcd_write_cb *cb, void *arg);
/* One put of a transaction: value (len bytes) at key, with an etcd lease or 0. */
struct etcd_txn_put {
	const char *key;
	const char *value;
	size_t len;
	int64_t lease;
};
/* If(mod_revision(cmp_key) == mod_revision) Then(every put, in order), one
 * transaction; mod_revision 0 means "cmp_key is absent" (version == 0). */
int etcd_txn_puts(struct etcd *e, const char *cmp_key, int64_t mod_revision,
		  const struct etcd_txn_put *puts, size_t n, etcd_write_cb *cb, void *arg);
int etcd_lease_grant(struct etcd *e, int64_t ttl, etcd_lease_cb *cb, void *arg);
int etcd_lease_revoke(struct etcd *e, int64_t id, etcd_write_cb *cb, void *arg);
int etcd_lease_ttl(struct etcd *e, int64_t id, etcd_lease_cb *cb, void *arg);
/* Compact the store up to rev (tests and weftctl). */
int etcd_compact(struct etcd *e, int64_t rev, etcd_write_cb *cb, void *arg);

/* Watch key (or every key under it when prefix) from start_revision, with
 * progress notifications. */
int etcd_watch(struct etcd *e, const char *key, bool prefix, int64_t start_revision,
	       etcd_watch_cb *cb, void *arg, struct etcd_watch **ret);
/* Ends a watch without calling back. NULL is fine. */
void etcd_watch_cancel(struct etcd_watch *w);

void etcd_range_result_free(struct etcd_range_result *r);

struct etcd_stats {
	uint64_t requests;     /* HTTP requests sent (retries included) */
	uint64_t errors;       /* requests that failed (transport or etcd error) */
	uint64_t failovers;    /* switches to the next endpoint */
	uint64_t watches;      /* watch streams started */
	uint64_t api_switches; /* 404s that moved an endpoint between /v3/ and /v3beta/ */
};
const struct etcd_stats *etcd_stats(const struct etcd *e);

/*
 * The gateway's API generation: etcd 3.4 and later serve /v3/, 3.3 only
 * /v3beta/. Each endpoint starts at /v3/ and moves to the other on an HTTP
 * 404 (once per request). etcd_api_path is the path of a call under one.
 */
enum etcd_api { ETCD_API_V3, ETCD_API_V3BETA };
enum etcd_call {
	ETCD_CALL_RANGE,
	ETCD_CALL_PUT,
	ETCD_CALL_DELETE,
	ETCD_CALL_TXN,
	ETCD_CALL_GRANT,
	ETCD_CALL_REVOKE,
	ETCD_CALL_TTL,
	ETCD_CALL_COMPACT,
	ETCD_CALL_WATCH,
	ETCD_CALL_AUTH,
};
const char *etcd_api_path(enum etcd_api api, enum etcd_call call);
/* The API generation endpoint i (of the list given at creation) is using. */
enum etcd_api etcd_endpoint_api(const struct etcd *e, unsigned i);

#endif
