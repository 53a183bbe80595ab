/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_ETCD_ETCD_PARSE_H
#define WEFT_ETCD_ETCD_PARSE_H

/*
 * The JSON gateway's answers decoded from bytes, with no network and no loop:
 * the client (etcd.c) calls these, and so do the fuzz targets. Internal to
 * src/etcd and its tests.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etcd/etcd.h"

struct err;

enum etcd_resp_kind {
	ETCD_RESP_RANGE,
	ETCD_RESP_WRITE, /* put, deleterange, revoke, compaction: the revision only */
	ETCD_RESP_TXN,
	ETCD_RESP_GRANT,
	ETCD_RESP_TTL,
};

/* A decoded 200 answer; what is meaningful depends on the kind. */
struct etcd_resp {
	int64_t revision;		/* header.revision */
	bool succeeded;			/* txn: the compare held */
	int64_t id, ttl;		/* grant and timetolive (ttl -1: no such lease) */
	struct etcd_range_result range; /* range; etcd_range_result_free */
};

/* A 200 answer's body. 0, or -EBADMSG with the reason in err (*ret empty). */
int etcd_parse_ok(enum etcd_resp_kind kind, const char *body, size_t len, struct etcd_resp *ret,
		  struct err *err);

/* Another status's body: the gRPC code (0 when absent), the message ("" when
 * absent), and whether the body was JSON at all. */
struct etcd_resp_error {
	int64_t code;
	bool json;
	char message[200];
};
void etcd_parse_error(const char *body, size_t len, struct etcd_resp_error *ret);

/* One line of a watch stream. */
enum etcd_watch_msg_kind {
	ETCD_WATCH_ERROR,     /* {"error": ...} or garbage: message in err */
	ETCD_WATCH_CANCELED,  /* canceled by the server: reason in err */
	ETCD_WATCH_COMPACTED, /* the start revision was compacted: res.compact_revision */
	ETCD_WATCH_CREATED,
	ETCD_WATCH_EVENTS, /* events (none: a progress notification) */
};

struct etcd_watch_msg {
	enum etcd_watch_msg_kind kind;
	struct etcd_watch_result res; /* res.events points into events */
	struct etcd_event *events;    /* an undecodable event has kv.key NULL */
};

/* Always fills *ret (free it with etcd_watch_msg_free); returns 0, or
 * -EBADMSG / -ECANCELED for ERROR / CANCELED with the reason in err. */
int etcd_parse_watch_line(const char *line, size_t len, struct etcd_watch_msg *ret,
			  struct err *err);
void etcd_watch_msg_free(struct etcd_watch_msg *m);

/* Frees key and value; NULL-safe fields. */
void etcd_kv_free(struct etcd_kv *kv);

#endif
