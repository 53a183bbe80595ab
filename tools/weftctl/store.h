/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_WEFTCTL_STORE_H
#define WEFT_WEFTCTL_STORE_H

/*
 * weftctl's view of etcd: the options every etcd command shares (flanneld's
 * names, FLANNELD_* fallbacks and defaults), a small argv parser for them and
 * the command's own options, and synchronous wrappers that run one request of
 * the asynchronous client (src/etcd) to completion on a private loop.
 *
 * Every function returns 0 or a negative errno; on failure err says what went
 * wrong, naming the etcd endpoint when the store could not be reached.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct err;
struct etcd_kv;
struct etcd_range_result;
struct store;

/* The etcd options; NULL = not given (store_args_parse fills them all). */
struct store_opts {
	const char *endpoints;
	const char *prefix;
	const char *cafile, *certfile, *keyfile;
	const char *username, *password;
	const char *password_file; /* read by store_open */
};

/* A command's own option: a boolean (flag set) or one taking a value (val set). */
struct cmd_opt {
	const char *name; /* without dashes */
	const char **val;
	bool *flag;
};

/*
 * Parses argv[1..] (argv[0] names the command). Options may stand anywhere;
 * "-name" equals "--name"; values come as "--name value" or "--name=value";
 * "--" ends the options. Positional arguments are stored in order into pos,
 * which must hold argc entries. When so is set, the etcd options are accepted
 * and, once parsed, any left unset come from FLANNELD_ETCD_* (non-empty
 * values) and then flanneld's defaults. opts ends with a NULL name (or is
 * NULL). Returns 0, 1 when help was asked for (-h, --help, or "help" first),
 * or -EINVAL with the offending argument named in err.
 */
int store_args_parse(int argc, char **argv, const struct cmd_opt *opts, struct store_opts *so,
		     char **pos, int *ret_npos, struct err *err);

/* The etcd options' help text, for a command's usage. */
void store_opts_usage(FILE *f);

int store_open(const struct store_opts *so, struct store **ret, struct err *err);
/* NULL is fine. */
void store_close(struct store *s);

/* "<prefix>/subnets/" and "<prefix>/config", as flanneld joins them. */
const char *store_subnets_prefix(const struct store *s);
const char *store_config_key(const struct store *s);

/* A range answer copied out of the client; free with store_kvs_free. */
struct store_kvs {
	struct etcd_kv *kvs;
	size_t n;
	int64_t revision;
};

void store_kvs_free(struct store_kvs *r);

int store_get(struct store *s, const char *key, struct store_kvs *ret, struct err *err);
int store_get_prefix(struct store *s, const char *prefix, struct store_kvs *ret, struct err *err);
/* lease 0 writes a key without an etcd lease. */
int store_put(struct store *s, const char *key, const char *value, size_t len, int64_t lease,
	      struct err *err);
int store_delete(struct store *s, const char *key, struct err *err);
/* Transactions: *ret_ok says whether the compare held (nothing written if not). */
int store_create(struct store *s, const char *key, const char *value, size_t len, int64_t lease,
		 bool *ret_ok, struct err *err);
int store_replace(struct store *s, const char *key, int64_t mod_revision, const char *value,
		  size_t len, int64_t lease, bool *ret_ok, struct err *err);
int store_lease_grant(struct store *s, int64_t ttl, int64_t *ret_id, struct err *err);
int store_lease_revoke(struct store *s, int64_t id, struct err *err);
/* Remaining TTL of each lease id (-1: no such lease; also for id 0). Runs a
 * bounded number of requests concurrently. */
int store_lease_ttls(struct store *s, const int64_t *ids, size_t n, int64_t *ret_ttls,
		     struct err *err);

#endif
