// SPDX-License-Identifier: Apache-2.0
/*
 * weftctl reserve / unreserve: reservations are subnet keys without an etcd
 * lease (flannel.md §4.4). Every write is a transaction on what was read
 * (create if absent, or replace at the mod_revision seen), so a node that
 * renews or a second operator acting meanwhile is never overwritten: the
 * command fails and nothing is written.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/ipnet.h"
#include "core/xmalloc.h"
#include "etcd/etcd.h"
#include "store.h"
#include "subnet/lease.h"
#include "subnet/netconf.h"
#include "subnet/subnet_key.h"
#include "weftctl.h"

#define UNRESERVE_TTL_S 86400 /* flanneld's lease duration (flannel.md §4.3) */

static void subnet_help(FILE *f)
{
	fprintf(f, "SUBNET is a network in CIDR form, IPv4 (10.5.34.0/24), dual stack\n"
		   "(10.5.34.0/24,fd00:5:34::/64) or IPv6 only (fd00:5:34::/64), or a subnet key\n"
		   "as stored in etcd (10.5.34.0-24, 10.5.34.0-24&fd00:5:34::-64). It must be a\n"
		   "network address: no host bits set.\n");
}

static void reserve_usage(FILE *f)
{
	fprintf(f, "usage: weftctl reserve [OPTIONS] [ETCD OPTIONS] SUBNET PUBLIC_IP\n\n"
		   "Reserve SUBNET for the node whose public IPv4 address is PUBLIC_IP: write\n"
		   "<prefix>/subnets/<key> without an etcd lease, with the value flanneld would\n"
		   "write ({\"PublicIP\":\"PUBLIC_IP\",\"PublicIPv6\":null}, plus BackendType and\n"
		   "BackendData when given). A node whose public IP matches reuses the key.\n\n");
	subnet_help(f);
	fprintf(f, "\nWhen the key already exists:\n"
		   "  - a lease held by PUBLIC_IP is turned into a reservation: the value is\n"
		   "    re-written unchanged without its etcd lease (the backend options are\n"
		   "    then ignored; the node's own value is kept);\n"
		   "  - a reservation for PUBLIC_IP is left alone (an error if the options ask\n"
		   "    for a different value);\n"
		   "  - a key held by another public IP is refused.\n"
		   "A key whose subnet overlaps SUBNET is refused. If <prefix>/config holds a\n"
		   "valid network config, SUBNET must have its SubnetLen and lie between\n"
		   "SubnetMin and SubnetMax (IPv6 likewise).\n\n"
		   "weftd keeps a reservation it reuses without TTL. Upstream flanneld with\n"
		   "etcd v3 re-writes it with a 24h lease (flannel issue #1329), after which\n"
		   "it is an ordinary lease again.\n\n"
		   "Options:\n"
		   "  --backend-type TYPE   BackendType of the value (e.g. vxlan, host-gw)\n"
		   "  --backend-data JSON   BackendData of the value (one JSON value)\n"
		   "  --public-ipv6 ADDR    PublicIPv6 of the value (default null)\n"
		   "  --force               do not check SUBNET against the network config\n\n");
	store_opts_usage(f);
	fprintf(f, "\nExit status: 0 when the subnet is reserved (also when it already was),\n"
		   "1 on any error (bad usage, refusal, etcd unreachable).\n");
}

static void unreserve_usage(FILE *f)
{
	fprintf(f, "usage: weftctl unreserve [--delete] [ETCD OPTIONS] SUBNET\n\n"
		   "Turn the reservation of SUBNET back into an ordinary lease: the value is\n"
		   "re-written unchanged with a fresh 24h etcd lease. The node holding it keeps\n"
		   "the subnet as long as it renews the lease; otherwise it expires.\n\n");
	subnet_help(f);
	fprintf(f,
		"\nOptions:\n"
		"  --delete   delete the reservation instead\n\n"
		"A key that already has an etcd lease (a live node's lease) is not touched.\n\n");
	store_opts_usage(f);
	fprintf(f, "\nExit status: 0 on success, 1 on any error (bad usage, no such reservation,\n"
		   "the key is not a reservation, etcd unreachable).\n");
}

/* ---- arguments ---- */

/* One "addr/len" of either family; host bits are an error, not dropped. */
static int parse_cidr(const char *arg, const char *part, struct ip_prefix *ret, struct err *err)
{
	char addr[IP_ADDR_STRLEN + 1], net[IP_PREFIX_STRLEN], what[160];
	const char *slash = strchr(part, '/');
	int family = strchr(part, ':') ? AF_INET6 : AF_INET;
	struct ip_addr a;
	size_t alen;

	/* Name the argument, and the part of it at fault when it has two. */
	if (part == arg)
		snprintf(what, sizeof(what), "SUBNET '%s'", arg);
	else
		snprintf(what, sizeof(what), "SUBNET '%s': '%s'", arg, part);
	if (!slash)
		return err_set(err, -EINVAL, "%s: no '/prefix-length'", what);
	alen = (size_t)(slash - part);
	if (alen >= sizeof(addr) || ip_prefix_parse_family(part, family, ret) < 0)
		return err_set(err, -EINVAL, "%s: not an %s CIDR", what,
			       family == AF_INET ? "IPv4" : "IPv6");
	memcpy(addr, part, alen);
	addr[alen] = '\0';
	if (ip_addr_parse_family(addr, family, &a) < 0)
		return err_set(err, -EINVAL, "%s: not an %s CIDR", what,
			       family == AF_INET ? "IPv4" : "IPv6");
	if (!ip_addr_equal(&a, &ret->addr))
		return err_set(err, -EINVAL, "%s: host bits set (the network address is %s)", what,
			       ip_prefix_format(ret, net));
	return 0;
}

/* CIDR form ("v4", "v4,v6", "v6") or the key form of flannel.md §4.1. */
static int parse_subnet_arg(const char *arg, struct subnet_key *ret, struct err *err)
{
	struct subnet_key k = {0};
	char buf[SUBNET_KEY_STRLEN], first[2 * IP_PREFIX_STRLEN];
	const char *comma;
	struct err e = {{0}};
	int r;

	if (!strchr(arg, '/')) {
		if (subnet_key_parse(arg, ret, &e) < 0)
			return err_set(err, -EINVAL, "SUBNET '%s': %s", arg, e.msg);
		return 0;
	}
	comma = strchr(arg, ',');
	if (comma) {
		if ((size_t)(comma - arg) >= sizeof(first))
			return err_set(err, -EINVAL, "SUBNET '%s': not a CIDR", arg);
		memcpy(first, arg, (size_t)(comma - arg));
		first[comma - arg] = '\0';
		if (strchr(first, ':') || !strchr(comma + 1, ':') || strchr(comma + 1, ','))
			return err_set(err, -EINVAL,
				       "SUBNET '%s': a dual-stack subnet is IPV4_CIDR,IPV6_CIDR",
				       arg);
		r = parse_cidr(arg, first, &k.v4, err);
		if (r == 0)
			r = parse_cidr(arg, comma + 1, &k.v6, err);
		k.has_v6 = true;
	} else if (strchr(arg, ':')) {
		/* IPv6 only: the IPv4 part is the 0.0.0.0/0 placeholder. */
		k.v4.addr.family = AF_INET;
		r = parse_cidr(arg, arg, &k.v6, err);
		k.has_v6 = true;
	} else {
		r = parse_cidr(arg, arg, &k.v4, err);
	}
	if (r < 0)
		return r;
	/* 0.0.0.0/0 is only the IPv6-only placeholder. */
	if ((!k.has_v6 && k.v4.len == 0) || (k.has_v6 && k.v6.len == 0))
		return err_set(err, -EINVAL, "SUBNET '%s': a /0 cannot be a node subnet", arg);
	r = subnet_key_format(&k, buf, sizeof(buf));
	if (r == -ERANGE)
		return err_set(err, -EINVAL,
			       "SUBNET '%s': a /32 (IPv6 /128) subnet cannot be stored: flannel "
			       "cannot parse its key",
			       arg);
	if (r < 0)
		return err_set(err, -EINVAL, "SUBNET '%s': not a valid subnet", arg);
	*ret = k;
	return 0;
}

/* "<prefix>/subnets/<key>" */
static char *full_key(const struct store *s, const struct subnet_key *k)
{
	char name[SUBNET_KEY_STRLEN], *key;

	/* parse_subnet_arg already formatted it once: this cannot fail. */
	if (subnet_key_format(k, name, sizeof(name)) < 0)
		name[0] = '\0';
	xasprintf(&key, "%s%s", store_subnets_prefix(s), name);
	return key;
}

/* ---- reserve ---- */

static bool prefix_in_range(const struct ip_prefix *p, unsigned len, const struct ip_addr *min,
			    const struct ip_addr *max)
{
	return p->len == len && ip_addr_cmp(&p->addr, min) >= 0 && ip_addr_cmp(&p->addr, max) <= 0;
}

static int check_family(const char *what, const struct ip_prefix *p, unsigned len,
			const struct ip_addr *min, const struct ip_addr *max, const char *cfg,
			struct err *err)
{
	char a[IP_PREFIX_STRLEN], lo[IP_ADDR_STRLEN], hi[IP_ADDR_STRLEN];

	if (prefix_in_range(p, len, min, max))
		return 0;
	ip_prefix_format(p, a);
	if (p->len != len)
		return err_set(err, -ERANGE,
			       "%s subnet %s: prefix length /%u, but %s sets %sSubnetLen %u", what,
			       a, p->len, cfg, strcmp(what, "IPv6") ? "" : "IPv6", len);
	return err_set(err, -ERANGE, "%s subnet %s lies outside %s's range %s - %s", what, a, cfg,
		       ip_addr_format(min, lo), ip_addr_format(max, hi));
}

/* flanneld's compatibility test (etcd mode), so that the node will keep it. */
static int check_config(struct store *s, const struct subnet_key *k, struct err *err)
{
	const char *cfg = store_config_key(s);
	struct store_kvs kvs = {0};
	struct netconf nc;
	struct err e = {{0}};
	int r;

	r = store_get(s, cfg, &kvs, err);
	if (r < 0)
		return r;
	if (kvs.n == 0) {
		fprintf(stderr,
			"weftctl: warning: %s does not exist; SUBNET not checked against "
			"a network config\n",
			cfg);
		goto out;
	}
	if (netconf_load(kvs.kvs[0].value, kvs.kvs[0].value_len, &nc, &e) < 0) {
		fprintf(stderr,
			"weftctl: warning: %s is not a valid network config (%s); SUBNET "
			"not checked against it\n",
			cfg, e.msg);
		goto out;
	}
	if (nc.enable_ipv4 && !subnet_key_has_v4(k))
		r = err_set(err, -ERANGE, "%s enables IPv4: SUBNET needs an IPv4 part", cfg);
	else if (!nc.enable_ipv4 && subnet_key_has_v4(k))
		r = err_set(err, -ERANGE, "%s disables IPv4: SUBNET must be IPv6 only", cfg);
	else if (nc.enable_ipv4)
		r = check_family("IPv4", &k->v4, nc.subnet_len, &nc.subnet_min, &nc.subnet_max, cfg,
				 err);
	if (r == 0 && nc.enable_ipv6 && !k->has_v6)
		r = err_set(err, -ERANGE, "%s enables IPv6: SUBNET needs an IPv6 part", cfg);
	else if (r == 0 && !nc.enable_ipv6 && k->has_v6)
		r = err_set(err, -ERANGE,
			    "%s does not enable IPv6: SUBNET must not have an IPv6 "
			    "part",
			    cfg);
	else if (r == 0 && nc.enable_ipv6)
		r = check_family("IPv6", &k->v6, nc.ipv6_subnet_len, &nc.ipv6_subnet_min,
				 &nc.ipv6_subnet_max, cfg, err);
	netconf_free(&nc);
out:
	store_kvs_free(&kvs);
	return r;
}

static bool keys_overlap(const struct subnet_key *a, const struct subnet_key *b)
{
	if (subnet_key_has_v4(a) && subnet_key_has_v4(b) && ip_prefix_overlaps(&a->v4, &b->v4))
		return true;
	return a->has_v6 && b->has_v6 && ip_prefix_overlaps(&a->v6, &b->v6);
}

/* "a lease (expires in 23h59m)" or "a reservation", for messages. */
static void describe_holder(struct store *s, const struct etcd_kv *kv, char *buf, size_t len)
{
	char d[32];
	int64_t ttl = -1;

	if (!kv->lease) {
		snprintf(buf, len, "a reservation");
		return;
	}
	if (store_lease_ttls(s, &kv->lease, 1, &ttl, NULL) < 0 || ttl < 0) {
		snprintf(buf, len, "a lease (etcd lease %016" PRIx64 ")", (uint64_t)kv->lease);
		return;
	}
	weftctl_format_duration(ttl, d, sizeof(d));
	snprintf(buf, len, "a lease (etcd lease %016" PRIx64 ", expires in %s)",
		 (uint64_t)kv->lease, d);
}

struct reserve_args {
	struct subnet_key key;
	char subnet[2 * IP_PREFIX_STRLEN];
	char public_ip[IP_ADDR_STRLEN];
	struct lease_attrs attrs;
	char *value;	 /* encoded attrs */
	bool value_opts; /* --backend-* or --public-ipv6 given */
	bool force;
};

static int reserve_parse(int npos, char **pos, const char *backend_type, const char *backend_data,
			 const char *public_ipv6, struct reserve_args *a, struct err *err)
{
	int r;

	if (npos != 2)
		return err_set(err, -EINVAL,
			       npos < 2 ? "missing argument: expected SUBNET and "
					  "PUBLIC_IP"
					: "too many arguments: expected SUBNET and "
					  "PUBLIC_IP");
	r = parse_subnet_arg(pos[0], &a->key, err);
	if (r < 0)
		return r;
	weftctl_format_subnet(&a->key, a->subnet, sizeof(a->subnet));
	if (ip_addr_parse_family(pos[1], AF_INET, &a->attrs.public_ip) < 0)
		return err_set(err, -EINVAL, "PUBLIC_IP '%s': not an IPv4 address", pos[1]);
	ip_addr_format(&a->attrs.public_ip, a->public_ip);
	if (public_ipv6 && ip_addr_parse_family(public_ipv6, AF_INET6, &a->attrs.public_ipv6) < 0)
		return err_set(err, -EINVAL, "--public-ipv6 '%s': not an IPv6 address",
			       public_ipv6);
	if (backend_type) {
		if (strlen(backend_type) >= sizeof(a->attrs.backend_type))
			return err_set(err, -EINVAL, "--backend-type '%s': longer than %zu bytes",
				       backend_type, sizeof(a->attrs.backend_type) - 1);
		memcpy(a->attrs.backend_type, backend_type, strlen(backend_type) + 1);
	}
	if (backend_data)
		a->attrs.backend_data = xstrdup(backend_data);
	r = lease_attrs_encode(&a->attrs, &a->value);
	if (r < 0) {
		if (backend_data)
			return err_set(err, r, "--backend-data '%s': not exactly one JSON value",
				       backend_data);
		return err_set(err, r, "cannot encode the lease value: %s", strerror(-r));
	}
	a->value_opts = backend_type || backend_data || public_ipv6;
	return 0;
}

/* The key exists: convert a live lease of the same node, or refuse. */
static int reserve_existing(struct store *s, const struct reserve_args *a, const struct etcd_kv *kv,
			    struct err *err)
{
	struct lease_attrs cur = {0};
	struct err e = {{0}};
	char holder[96], ip[IP_ADDR_STRLEN];
	bool ok;
	int r;

	if (lease_attrs_decode(kv->value, kv->value_len, &cur, &e) < 0)
		return err_set(err, -EEXIST,
			       "%s exists with a value that is not a lease (%s); "
			       "refusing",
			       kv->key, e.msg);
	describe_holder(s, kv, holder, sizeof(holder));
	if (!ip_addr_equal(&cur.public_ip, &a->attrs.public_ip)) {
		r = err_set(err, -EEXIST, "%s is %s of public IP %s, not %s; refusing", a->subnet,
			    holder, ip_addr_format(&cur.public_ip, ip), a->public_ip);
		goto out;
	}
	if (!kv->lease) {
		r = 0;
		if (a->value_opts && (kv->value_len != strlen(a->value) ||
				      memcmp(kv->value, a->value, kv->value_len)))
			r = err_set(err, -EEXIST,
				    "%s is already reserved for %s with a different "
				    "value (%s); 'weftctl unreserve --delete' it first",
				    a->subnet, a->public_ip, kv->value);
		else
			printf("%s is already reserved for %s (key %s); nothing to do\n", a->subnet,
			       a->public_ip, kv->key);
		goto out;
	}
	if (a->value_opts)
		fprintf(stderr, "weftctl: warning: keeping the value the node wrote; "
				"--backend-type, --backend-data and --public-ipv6 are ignored\n");
	/* Same bytes, no lease; only if nobody (the renewing node) wrote meanwhile. */
	r = store_replace(s, kv->key, kv->mod_revision, kv->value, kv->value_len, 0, &ok, err);
	if (r < 0)
		goto out;
	if (!ok) {
		r = err_set(err, -EAGAIN,
			    "%s changed while it was being converted; nothing "
			    "written, try again",
			    kv->key);
		goto out;
	}
	printf("converted %s of %s into a reservation (key %s, value unchanged)\n", holder,
	       a->subnet, kv->key);
out:
	lease_attrs_free(&cur);
	return r;
}

static int reserve_run(struct store *s, const struct reserve_args *a, struct err *err)
{
	struct store_kvs kvs = {0};
	const struct etcd_kv *exact = NULL;
	char *key = full_key(s, &a->key), other[2 * IP_PREFIX_STRLEN];
	bool ok;
	int r = 0;

	if (!a->force)
		r = check_config(s, &a->key, err);
	if (r == 0)
		r = store_get_prefix(s, store_subnets_prefix(s), &kvs, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < kvs.n; i++) {
		const struct etcd_kv *kv = &kvs.kvs[i];
		struct subnet_key k;

		/* Byte for byte: "<key>\0x" is another key, not this one. */
		if (kv->key_len == strlen(key) && !memcmp(kv->key, key, kv->key_len)) {
			exact = kv;
			continue;
		}
		/* Keys that name no lease for weftd hold no subnet (flanneld skips
		 * unparsable ones too). */
		if (subnet_key_from_lease_key(store_subnets_prefix(s), kv->key, kv->key_len, &k,
					      NULL) < 0)
			continue;
		if (keys_overlap(&a->key, &k)) {
			weftctl_format_subnet(&k, other, sizeof(other));
			r = err_set(err, -EEXIST, "%s overlaps %s (key %s); refusing", a->subnet,
				    other, kv->key);
			goto out;
		}
	}
	if (exact) {
		r = reserve_existing(s, a, exact, err);
		goto out;
	}
	r = store_create(s, key, a->value, strlen(a->value), 0, &ok, err);
	if (r < 0)
		goto out;
	if (!ok) {
		r = err_set(err, -EAGAIN,
			    "%s was created meanwhile by someone else; nothing "
			    "written, try again",
			    key);
		goto out;
	}
	printf("reserved %s for %s (key %s)\n", a->subnet, a->public_ip, key);
out:
	store_kvs_free(&kvs);
	free(key);
	return r;
}

int cmd_reserve(int argc, char **argv)
{
	const char *backend_type = NULL, *backend_data = NULL, *public_ipv6 = NULL;
	struct reserve_args a = {0};
	const struct cmd_opt opts[] = {
		{.name = "backend-type", .val = &backend_type},
		{.name = "backend-data", .val = &backend_data},
		{.name = "public-ipv6", .val = &public_ipv6},
		{.name = "force", .flag = &a.force},
		{0},
	};
	struct store_opts so;
	struct store *s = NULL;
	struct err err = {{0}};
	char **pos = xcalloc((size_t)argc + 1, sizeof(*pos));
	int npos = 0, r;

	r = store_args_parse(argc, argv, opts, &so, pos, &npos, &err);
	if (r == 1) {
		reserve_usage(stdout);
		r = 0;
		goto out;
	}
	if (r == 0)
		r = reserve_parse(npos, pos, backend_type, backend_data, public_ipv6, &a, &err);
	if (r < 0) {
		fprintf(stderr, "weftctl: reserve: %s\n", err.msg);
		fprintf(stderr, "Run 'weftctl reserve --help' for usage.\n");
		goto out;
	}
	r = store_open(&so, &s, &err);
	if (r == 0)
		r = reserve_run(s, &a, &err);
	if (r < 0)
		fprintf(stderr, "weftctl: reserve: %s\n", err.msg);
out:
	store_close(s);
	lease_attrs_free(&a.attrs);
	free(a.value);
	free(pos);
	return r;
}

/* ---- unreserve ---- */

static int unreserve_run(struct store *s, const struct subnet_key *k, bool del, struct err *err)
{
	struct store_kvs kvs = {0};
	const struct etcd_kv *kv;
	char *key = full_key(s, k), subnet[2 * IP_PREFIX_STRLEN], holder[96];
	int64_t id = 0;
	bool ok;
	int r;

	weftctl_format_subnet(k, subnet, sizeof(subnet));
	r = store_get(s, key, &kvs, err);
	if (r < 0)
		goto out;
	if (kvs.n == 0) {
		r = err_set(err, -ENOENT, "no reservation for %s (key %s does not exist)", subnet,
			    key);
		goto out;
	}
	kv = &kvs.kvs[0];
	if (kv->lease) {
		describe_holder(s, kv, holder, sizeof(holder));
		r = err_set(err, -EEXIST, "%s is %s, not a reservation; nothing to do", subnet,
			    holder);
		goto out;
	}
	if (del) {
		/* etcd.h has no conditional delete; the window is one round trip. */
		r = store_delete(s, key, err);
		if (r == 0)
			printf("deleted the reservation of %s (key %s)\n", subnet, key);
		goto out;
	}
	r = store_lease_grant(s, UNRESERVE_TTL_S, &id, err);
	if (r < 0)
		goto out;
	r = store_replace(s, key, kv->mod_revision, kv->value, kv->value_len, id, &ok, err);
	if (r == 0 && !ok)
		r = err_set(err, -EAGAIN, "%s changed meanwhile; nothing written, try again", key);
	if (r < 0) {
		/* Nothing uses the fresh lease; an error here changes nothing. */
		store_lease_revoke(s, id, NULL);
		goto out;
	}
	printf("%s is no longer reserved: key %s now has etcd lease %016" PRIx64
	       " and expires in 24h0m unless its node renews it\n",
	       subnet, key, (uint64_t)id);
out:
	store_kvs_free(&kvs);
	free(key);
	return r;
}

int cmd_unreserve(int argc, char **argv)
{
	bool del = false;
	const struct cmd_opt opts[] = {
		{.name = "delete", .flag = &del},
		{0},
	};
	struct store_opts so;
	struct store *s = NULL;
	struct subnet_key k;
	struct err err = {{0}};
	char **pos = xcalloc((size_t)argc + 1, sizeof(*pos));
	int npos = 0, r;

	r = store_args_parse(argc, argv, opts, &so, pos, &npos, &err);
	if (r == 1) {
		unreserve_usage(stdout);
		r = 0;
		goto out;
	}
	if (r == 0 && npos != 1)
		r = err_set(&err, -EINVAL,
			    npos ? "too many arguments: expected SUBNET"
				 : "missing argument: expected SUBNET");
	if (r == 0)
		r = parse_subnet_arg(pos[0], &k, &err);
	if (r < 0) {
		fprintf(stderr, "weftctl: unreserve: %s\n", err.msg);
		fprintf(stderr, "Run 'weftctl unreserve --help' for usage.\n");
		goto out;
	}
	r = store_open(&so, &s, &err);
	if (r == 0)
		r = unreserve_run(s, &k, del, &err);
	if (r < 0)
		fprintf(stderr, "weftctl: unreserve: %s\n", err.msg);
out:
	store_close(s);
	free(pos);
	return r;
}
