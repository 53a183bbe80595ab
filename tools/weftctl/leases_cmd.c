// SPDX-License-Identifier: Apache-2.0
/*
 * weftctl leases: every key below <prefix>/subnets/ with its lease value and
 * remaining etcd lease TTL (flannel.md §4.1-4.4). A listing tool must show a
 * broken store rather than fail on it, so keys or values that do not parse
 * are reported after the table instead of ending the command.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/escape.h"
#include "core/utf8.h"
#include "core/ipnet.h"
#include "core/xmalloc.h"
#include "etcd/etcd.h"
#include "store.h"
#include "subnet/lease.h"
#include "subnet/subnet_key.h"
#include "weftctl.h"

struct row {
	const struct etcd_kv *kv;
	struct subnet_key key;
	struct lease_attrs attrs;
	int64_t ttl; /* meaningful when kv->lease != 0; -1 = lease gone */
};

struct bad_row {
	const struct etcd_kv *kv;
	struct err why;
};

static void leases_usage(FILE *f)
{
	fprintf(f, "usage: weftctl leases [--json] [ETCD OPTIONS]\n\n"
		   "List the subnet leases under <prefix>/subnets/, sorted by subnet:\n"
		   "  SUBNET     the node's IPv4 subnet (\",IPv6 subnet\" on dual stack)\n"
		   "  PUBLIC-IP  the node's public address(es) from the lease value\n"
		   "  BACKEND    BackendType, or '-' when the value has none\n"
		   "  EXPIRES    time left on the key's etcd lease, 'reserved' for a key\n"
		   "             without lease (a reservation), 'expired' if its lease is gone\n"
		   "Keys or values that do not parse are listed last as\n"
		   "'invalid: KEY: REASON' lines; they do not make the command fail.\n\n"
		   "  --json     print a JSON array instead, one object per lease with: key,\n"
		   "             subnet, ipv6_subnet, public_ip, public_ipv6, backend_type,\n"
		   "             backend_data and backend_v6_data (raw JSON), lease (etcd lease\n"
		   "             id in hex, null for a reservation) and ttl_seconds (null for a\n"
		   "             reservation, -1 if the lease is gone); invalid keys are then\n"
		   "             reported on stderr\n\n");
	store_opts_usage(f);
	fprintf(f, "\nExit status: 0 on success, 1 on any error (bad usage, etcd unreachable).\n");
}

void weftctl_format_duration(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s >= 3600)
		snprintf(buf, len, "%" PRId64 "h%" PRId64 "m", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%" PRId64 "m%" PRId64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRId64 "s", s);
}

/* ---- classification and order ---- */

static int row_cmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	bool a4 = subnet_key_has_v4(&a->key), b4 = subnet_key_has_v4(&b->key);
	int c;

	/* IPv6-only keys (0.0.0.0-0&...) after every IPv4 one. */
	if (a4 != b4)
		return a4 ? -1 : 1;
	if (a4) {
		c = ip_addr_cmp(&a->key.v4.addr, &b->key.v4.addr);
		if (c)
			return c;
		if (a->key.v4.len != b->key.v4.len)
			return a->key.v4.len < b->key.v4.len ? -1 : 1;
	}
	if (a->key.has_v6 != b->key.has_v6)
		return a->key.has_v6 ? 1 : -1;
	if (a->key.has_v6) {
		c = ip_addr_cmp(&a->key.v6.addr, &b->key.v6.addr);
		if (c)
			return c;
		if (a->key.v6.len != b->key.v6.len)
			return a->key.v6.len < b->key.v6.len ? -1 : 1;
	}
	return strcmp(a->kv->key, b->kv->key);
}

/* Valid rows are what weftd takes for a lease: the exact key of a subnet,
 * compared as bytes (a key with a NUL byte or another spelling is invalid). */
static void classify(const struct store_kvs *kvs, const char *prefix, struct row *rows,
		     size_t *ret_n, struct bad_row *bad, size_t *ret_nbad)
{
	size_t n = 0, nbad = 0;

	for (size_t i = 0; i < kvs->n; i++) {
		const struct etcd_kv *kv = &kvs->kvs[i];
		struct err e = {{0}};
		struct row *r = &rows[n];

		if (subnet_key_from_lease_key(prefix, kv->key, kv->key_len, &r->key, &e) < 0) {
			bad[nbad].kv = kv;
			err_prefix(&e, 0, "bad subnet key");
			bad[nbad++].why = e;
			continue;
		}
		if (lease_attrs_decode(kv->value, kv->value_len, &r->attrs, &e) < 0) {
			bad[nbad].kv = kv;
			err_prefix(&e, 0, "bad lease value");
			bad[nbad++].why = e;
			continue;
		}
		r->kv = kv;
		r->ttl = -1;
		n++;
	}
	*ret_n = n;
	*ret_nbad = nbad;
}

static int fetch_ttls(struct store *s, struct row *rows, size_t n, struct err *err)
{
	int64_t *ids = xcalloc(n ? n : 1, sizeof(*ids)), *ttls = xcalloc(n ? n : 1, sizeof(*ttls));
	size_t m = 0;
	int r;

	for (size_t i = 0; i < n; i++)
		if (rows[i].kv->lease)
			ids[m++] = rows[i].kv->lease;
	r = store_lease_ttls(s, ids, m, ttls, err);
	if (r < 0)
		goto out;
	m = 0;
	for (size_t i = 0; i < n; i++)
		if (rows[i].kv->lease)
			rows[i].ttl = ttls[m++];
out:
	free(ids);
	free(ttls);
	return r;
}

/* ---- text ---- */

void weftctl_format_subnet(const struct subnet_key *k, char *buf, size_t len)
{
	char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];

	if (subnet_key_has_v4(k) && k->has_v6)
		snprintf(buf, len, "%s,%s", ip_prefix_format(&k->v4, a),
			 ip_prefix_format(&k->v6, b));
	else if (k->has_v6)
		snprintf(buf, len, "%s", ip_prefix_format(&k->v6, b));
	else
		snprintf(buf, len, "%s", ip_prefix_format(&k->v4, a));
}

static void format_public(const struct lease_attrs *l, char *buf, size_t len)
{
	char a[IP_ADDR_STRLEN], b[IP_ADDR_STRLEN];
	bool v4 = !ip_addr_is_unset(&l->public_ip), v6 = l->public_ipv6.family != 0;

	if (v4 && v6)
		snprintf(buf, len, "%s,%s", ip_addr_format(&l->public_ip, a),
			 ip_addr_format(&l->public_ipv6, b));
	else if (v6)
		snprintf(buf, len, "%s", ip_addr_format(&l->public_ipv6, b));
	else if (l->public_ip.family)
		snprintf(buf, len, "%s", ip_addr_format(&l->public_ip, a));
	else
		snprintf(buf, len, "-");
}

static void format_expires(const struct row *r, char *buf, size_t len)
{
	if (!r->kv->lease)
		snprintf(buf, len, "reserved");
	else if (r->ttl < 0)
		snprintf(buf, len, "expired");
	else
		weftctl_format_duration(r->ttl, buf, len);
}

/* Keys are bytes: keep control characters off the terminal. */
void weftctl_put_sanitized(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

/* A key that may hold any byte, NUL included, escaped as weftd logs it. */
static void put_key(FILE *f, const struct etcd_kv *kv)
{
	char *text = escape_bytes(kv->key, kv->key_len);

	fputs(text, f);
	free(text);
}

#define COL_SUBNET 100
#define COL_PUBLIC 100
#define COL_EXPIRES 32

struct text_row {
	char subnet[COL_SUBNET], pub[COL_PUBLIC], expires[COL_EXPIRES];
	const char *backend;
};

static void print_text(FILE *f, const struct row *rows, size_t n, const struct bad_row *bad,
		       size_t nbad)
{
	struct text_row *t = xcalloc(n ? n : 1, sizeof(*t));
	int w_sub = (int)strlen("SUBNET"), w_pub = (int)strlen("PUBLIC-IP");
	int w_be = (int)strlen("BACKEND");

	for (size_t i = 0; i < n; i++) {
		weftctl_format_subnet(&rows[i].key, t[i].subnet, sizeof(t[i].subnet));
		format_public(&rows[i].attrs, t[i].pub, sizeof(t[i].pub));
		format_expires(&rows[i], t[i].expires, sizeof(t[i].expires));
		t[i].backend = rows[i].attrs.backend_type[0] ? rows[i].attrs.backend_type : "-";
		if ((int)strlen(t[i].subnet) > w_sub)
			w_sub = (int)strlen(t[i].subnet);
		if ((int)strlen(t[i].pub) > w_pub)
			w_pub = (int)strlen(t[i].pub);
		if ((int)strlen(t[i].backend) > w_be)
			w_be = (int)strlen(t[i].backend);
	}
	fprintf(f, "%-*s  %-*s  %-*s  %s\n", w_sub, "SUBNET", w_pub, "PUBLIC-IP", w_be, "BACKEND",
		"EXPIRES");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%-*s  %-*s  ", w_sub, t[i].subnet, w_pub, t[i].pub);
		/* BackendType is free text from the store. */
		weftctl_put_sanitized(f, t[i].backend);
		fprintf(f, "%*s  %s\n", w_be - (int)strlen(t[i].backend), "", t[i].expires);
	}
	for (size_t i = 0; i < nbad; i++) {
		fputs("invalid: ", f);
		put_key(f, bad[i].kv);
		fputs(": ", f);
		weftctl_put_sanitized(f, bad[i].why.msg);
		fputc('\n', f);
	}
	free(t);
}

/* ---- JSON ---- */

/* A JSON string; invalid UTF-8 bytes become U+FFFD, as Go's encoder does. */
static void json_put_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	uint32_t rune;

	fputc('"', f);
	while (*p) {
		size_t n = utf8_decode(p, (size_t)(end - p), &rune);

		if (n == 0) {
			fputs("\\ufffd", f);
			p++;
		} else if (n > 1) {
			fwrite(p, 1, n, f);
			p += n;
		} else if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p++, f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
		} else {
			fputc(*p++, f);
		}
	}
	fputc('"', f);
}

static void json_put_prefix(FILE *f, const struct ip_prefix *p, bool present)
{
	char buf[IP_PREFIX_STRLEN];

	if (present)
		fprintf(f, "\"%s\"", ip_prefix_format(p, buf));
	else
		fputs("null", f);
}

/* Backend data is kept as validated, compact JSON text by lease_attrs_decode. */
static void json_put_raw(FILE *f, const char *raw)
{
	fputs(raw && *raw ? raw : "null", f);
}

static void print_json(FILE *f, const struct row *rows, size_t n)
{
	char buf[IP_ADDR_STRLEN];

	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		const struct lease_attrs *a = &r->attrs;

		fputs(i ? ",\n  {" : "\n  {", f);
		fputs("\"key\":", f);
		json_put_string(f, r->kv->key);
		fputs(",\"subnet\":", f);
		json_put_prefix(f, &r->key.v4, subnet_key_has_v4(&r->key));
		fputs(",\"ipv6_subnet\":", f);
		json_put_prefix(f, &r->key.v6, r->key.has_v6);
		if (a->public_ip.family)
			fprintf(f, ",\"public_ip\":\"%s\"", ip_addr_format(&a->public_ip, buf));
		else
			fputs(",\"public_ip\":null", f);
		if (a->public_ipv6.family)
			fprintf(f, ",\"public_ipv6\":\"%s\"", ip_addr_format(&a->public_ipv6, buf));
		else
			fputs(",\"public_ipv6\":null", f);
		fputs(",\"backend_type\":", f);
		if (a->backend_type[0])
			json_put_string(f, a->backend_type);
		else
			fputs("null", f);
		fputs(",\"backend_data\":", f);
		json_put_raw(f, a->backend_data);
		fputs(",\"backend_v6_data\":", f);
		json_put_raw(f, a->backend_v6_data);
		if (r->kv->lease)
			fprintf(f, ",\"lease\":\"%016" PRIx64 "\",\"ttl_seconds\":%" PRId64 "}",
				(uint64_t)r->kv->lease, r->ttl < 0 ? (int64_t)-1 : r->ttl);
		else
			fputs(",\"lease\":null,\"ttl_seconds\":null}", f);
	}
	fputs(n ? "\n]\n" : "]\n", f);
}

int cmd_leases(int argc, char **argv)
{
	bool json = false;
	const struct cmd_opt opts[] = {
		{.name = "json", .flag = &json},
		{0},
	};
	struct store_opts so;
	struct store_kvs kvs = {0};
	struct store *s = NULL;
	struct err err = {{0}};
	struct row *rows = NULL;
	struct bad_row *bad = NULL;
	size_t n = 0, nbad = 0;
	char **pos = xcalloc((size_t)argc + 1, sizeof(*pos));
	int npos = 0, r;

	r = store_args_parse(argc, argv, opts, &so, pos, &npos, &err);
	if (r == 1) {
		leases_usage(stdout);
		r = 0;
		goto out;
	}
	if (r == 0 && npos > 0)
		r = err_set(&err, -EINVAL, "unexpected argument '%s'", pos[0]);
	if (r < 0) {
		fprintf(stderr, "weftctl: leases: %s\n", err.msg);
		fprintf(stderr, "Run 'weftctl leases --help' for usage.\n");
		goto out;
	}
	r = store_open(&so, &s, &err);
	if (r == 0)
		r = store_get_prefix(s, store_subnets_prefix(s), &kvs, &err);
	if (r < 0) {
		fprintf(stderr, "weftctl: leases: %s\n", err.msg);
		goto out;
	}
	rows = xcalloc(kvs.n ? kvs.n : 1, sizeof(*rows));
	bad = xcalloc(kvs.n ? kvs.n : 1, sizeof(*bad));
	classify(&kvs, store_subnets_prefix(s), rows, &n, bad, &nbad);
	r = fetch_ttls(s, rows, n, &err);
	if (r < 0) {
		fprintf(stderr, "weftctl: leases: %s\n", err.msg);
		goto out;
	}
	qsort(rows, n, sizeof(*rows), row_cmp);
	if (json) {
		print_json(stdout, rows, n);
		for (size_t i = 0; i < nbad; i++) {
			fputs("weftctl: leases: invalid: ", stderr);
			put_key(stderr, bad[i].kv);
			fputs(": ", stderr);
			weftctl_put_sanitized(stderr, bad[i].why.msg);
			fputc('\n', stderr);
		}
	} else {
		print_text(stdout, rows, n, bad, nbad);
	}
out:
	for (size_t i = 0; rows && i < n; i++)
		lease_attrs_free(&rows[i].attrs);
	free(rows);
	free(bad);
	store_kvs_free(&kvs);
	store_close(s);
	free(pos);
	return r;
}
