// SPDX-License-Identifier: Apache-2.0
/*
 * Writing follows upstream's WriteSubnetFile, with the atomicity it lacks
 * (unique temp name, fsync of file and directory, cleanup on failure).
 *
 * Reading mirrors what flanneld does on restart: godotenv.Read, then each
 * value split on ',' and every piece through net.ParseCIDR (which drops host
 * bits), skipping invalid pieces; exactly one valid piece is used, more than
 * one means "ignore the key". Pieces are not trimmed, as upstream does not
 * trim them. Unlike godotenv we go line by line and skip a malformed line
 * instead of rejecting the whole file, and we do not expand $VARIABLES (no
 * legitimate value contains one). FLANNEL_MTU follows the CNI plugin
 * (ParseUint, 32 bits); FLANNEL_IPMASQ is true only for the exact text "true".
 */
#include "subnet/subnet_env.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/file.h"
#include "subnet/subnet_env_keys.h"

/* ---- writing ---- */

static int put_prefix(char *out, size_t outlen, size_t *pos, enum subnet_env_key k,
		      const struct ip_prefix *p, int family, bool first_host, struct err *err)
{
	const char *key = subnet_env_keys[k];
	char a[IP_ADDR_STRLEN];
	struct ip_prefix m;
	struct ip_addr host;
	int n;

	if (p->addr.family != family || ip_prefix_make(&p->addr, p->len, &m) < 0)
		return err_set(err, -EINVAL, "%s: not an %s prefix", key,
			       family == AF_INET ? "IPv4" : "IPv6");
	host = m.addr;
	/* FLANNEL_SUBNET is the first usable address: network + 1. */
	if (first_host && ip_prefix_first_host(&m, &host) < 0)
		return err_set(err, -ERANGE, "%s: no address after the network address", key);
	n = snprintf(out + *pos, outlen - *pos, "%s=%s/%u\n", key, ip_addr_format(&host, a), m.len);
	if (n < 0 || (size_t)n >= outlen - *pos)
		return err_set(err, -ENOSPC, "subnet file content too long");
	*pos += (size_t)n;
	return 0;
}

static int format_env(const struct subnet_env *e, char *out, size_t outlen, size_t *ret_len,
		      struct err *err)
{
	size_t pos = 0;
	int r = 0, n;

	out[0] = '\0';
	if (e->has_network)
		r = put_prefix(out, outlen, &pos, SUBNET_ENV_NETWORK, &e->network, AF_INET, false,
			       err);
	if (r == 0 && e->has_subnet)
		r = put_prefix(out, outlen, &pos, SUBNET_ENV_SUBNET, &e->subnet, AF_INET, true,
			       err);
	if (r == 0 && e->has_ipv6_network)
		r = put_prefix(out, outlen, &pos, SUBNET_ENV_IPV6_NETWORK, &e->ipv6_network,
			       AF_INET6, false, err);
	if (r == 0 && e->has_ipv6_subnet)
		r = put_prefix(out, outlen, &pos, SUBNET_ENV_IPV6_SUBNET, &e->ipv6_subnet, AF_INET6,
			       true, err);
	if (r < 0)
		return r;
	if (e->has_mtu) {
		n = snprintf(out + pos, outlen - pos, "%s=%u\n", subnet_env_keys[SUBNET_ENV_MTU],
			     e->mtu);
		if (n < 0 || (size_t)n >= outlen - pos)
			return err_set(err, -ENOSPC, "subnet file content too long");
		pos += (size_t)n;
	}
	if (e->has_ipmasq) {
		n = snprintf(out + pos, outlen - pos, "%s=%s\n", subnet_env_keys[SUBNET_ENV_IPMASQ],
			     e->ipmasq ? "true" : "false");
		if (n < 0 || (size_t)n >= outlen - pos)
			return err_set(err, -ENOSPC, "subnet file content too long");
		pos += (size_t)n;
	}
	*ret_len = pos;
	return 0;
}

int subnet_env_write(const char *path, const struct subnet_env *e, struct err *err)
{
	char dir[PATH_MAX], content[1024];
	const char *slash;
	size_t clen = 0;
	int r;

	if (!path || !*path)
		return err_set(err, -EINVAL, "empty subnet file path");
	slash = strrchr(path, '/');
	if (slash && !slash[1])
		return err_set(err, -EINVAL, "subnet file path %s names a directory", path);
	if (slash && (size_t)(slash - path) >= sizeof(dir))
		return err_set(err, -ENAMETOOLONG, "subnet file path too long");
	r = format_env(e, content, sizeof(content), &clen, err);
	if (r < 0)
		return r;
	/* Directories we create get exactly 0755 whatever the umask, so that
	 * unprivileged readers (Docker tooling) can reach the file. */
	if (slash && slash != path) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		r = file_mkdir_p(dir, 0755, err);
		if (r < 0)
			return r;
	}
	return file_write_atomic(path, content, clen, 0644, err);
}

/* ---- reading ---- */

struct env_val {
	const char *p;
	size_t n;
	bool set;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.';
}

/* One line (without '\n'); malformed lines are skipped. */
static void parse_line(const char *s, size_t n, struct env_val *vals)
{
	size_t i = 0, k, klen, vs, ve;
	int key;

	while (i < n && is_space(s[i]))
		i++;
	if (i == n || s[i] == '#')
		return;
	if (n - i > 7 && memcmp(s + i, "export", 6) == 0 && is_space(s[i + 6])) {
		i += 6;
		while (i < n && is_space(s[i]))
			i++;
	}
	for (k = i; i < n && is_key_char(s[i]); i++)
		;
	klen = i - k;
	while (i < n && is_space(s[i]))
		i++;
	/* godotenv also takes the YAML-ish "KEY: value". */
	if (klen == 0 || i == n || (s[i] != '=' && s[i] != ':'))
		return;
	i++;
	while (i < n && is_space(s[i]))
		i++;
	if (i < n && (s[i] == '"' || s[i] == '\'')) {
		size_t j;

		for (j = i + 1; j < n; j++)
			if (s[j] == s[i] && s[j - 1] != '\\')
				break;
		if (j == n)
			return; /* unterminated quote */
		vs = i + 1;
		ve = j;
	} else {
		vs = i;
		ve = n;
		/* An inline comment needs whitespace before '#'; godotenv takes the last. */
		for (size_t j = n; j-- > vs + 1;) {
			if (s[j] == '#' && is_space(s[j - 1])) {
				ve = j;
				break;
			}
		}
		while (ve > vs && is_space(s[ve - 1]))
			ve--;
	}
	key = subnet_env_key(s + k, klen);
	if (key >= 0)
		vals[key] = (struct env_val){.p = s + vs, .n = ve - vs, .set = true};
}

/* net.ParseCIDR of one piece, keeping the address as written. */
static int parse_cidr(const char *s, size_t n, int family, struct ip_prefix *ret,
		      struct ip_addr *ret_addr)
{
	char tmp[IP_PREFIX_STRLEN];
	char *slash;

	if (n == 0 || n >= sizeof(tmp) || memchr(s, '\0', n))
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (ip_prefix_parse_family(tmp, family, ret) < 0)
		return -EINVAL;
	slash = strchr(tmp, '/');
	*slash = '\0';
	return ip_addr_parse_family(tmp, family, ret_addr);
}

/* Number of valid entries; the first is returned, distinct ones collected. */
static unsigned parse_cidr_list(const struct env_val *v, int family, struct ip_prefix *ret,
				struct ip_addr *ret_addr, struct ip_prefix *uniq, unsigned *n_uniq)
{
	unsigned valid = 0;
	size_t start = 0;

	if (!v->set)
		return 0;
	for (size_t i = 0; i <= v->n; i++) {
		struct ip_prefix p;
		struct ip_addr a;
		bool dup = false;

		if (i < v->n && v->p[i] != ',')
			continue;
		if (parse_cidr(v->p + start, i - start, family, &p, &a) == 0) {
			if (valid++ == 0) {
				*ret = p;
				*ret_addr = a;
			}
			for (unsigned u = 0; uniq && u < *n_uniq; u++)
				dup = dup || ip_prefix_equal(&uniq[u], &p);
			if (uniq && !dup && *n_uniq < SUBNET_ENV_MAX_NETWORKS)
				uniq[(*n_uniq)++] = p;
		}
		start = i + 1;
	}
	return valid;
}

static int too_large(struct err *err, size_t len)
{
	return err_set(err, -EFBIG, "subnet file too large (%zu bytes, max %d)", len,
		       SUBNET_ENV_MAX_SIZE);
}

int subnet_env_parse(const char *buf, size_t len, struct subnet_env *ret, struct err *err)
{
	struct env_val vals[SUBNET_ENV_NKEYS] = {0};
	const struct env_val *mtu = &vals[SUBNET_ENV_MTU], *ipmasq = &vals[SUBNET_ENV_IPMASQ];
	struct subnet_env e = {0};
	struct ip_addr unused;
	size_t pos = 0;

	*ret = e;
	if (len > SUBNET_ENV_MAX_SIZE)
		return too_large(err, len);
	while (pos < len) {
		const char *eol = memchr(buf + pos, '\n', len - pos);
		size_t n = eol ? (size_t)(eol - (buf + pos)) : len - pos;

		parse_line(buf + pos, n, vals);
		pos += n + 1;
	}

	e.has_network = parse_cidr_list(&vals[SUBNET_ENV_NETWORK], AF_INET, &e.network, &unused,
					e.networks, &e.n_networks) == 1;
	e.has_subnet = parse_cidr_list(&vals[SUBNET_ENV_SUBNET], AF_INET, &e.subnet, &e.subnet_addr,
				       NULL, NULL) == 1;
	e.has_ipv6_network =
		parse_cidr_list(&vals[SUBNET_ENV_IPV6_NETWORK], AF_INET6, &e.ipv6_network, &unused,
				e.ipv6_networks, &e.n_ipv6_networks) == 1;
	e.has_ipv6_subnet = parse_cidr_list(&vals[SUBNET_ENV_IPV6_SUBNET], AF_INET6, &e.ipv6_subnet,
					    &e.ipv6_subnet_addr, NULL, NULL) == 1;
	if (!e.has_network)
		e.network = (struct ip_prefix){0};
	if (!e.has_subnet) {
		e.subnet = (struct ip_prefix){0};
		e.subnet_addr = (struct ip_addr){0};
	}
	if (!e.has_ipv6_network)
		e.ipv6_network = (struct ip_prefix){0};
	if (!e.has_ipv6_subnet) {
		e.ipv6_subnet = (struct ip_prefix){0};
		e.ipv6_subnet_addr = (struct ip_addr){0};
	}

	if (mtu->set && mtu->n > 0) {
		uint64_t x = 0;
		size_t i;

		for (i = 0; i < mtu->n; i++) {
			char c = mtu->p[i];

			if (c < '0' || c > '9')
				break;
			x = x * 10 + (uint64_t)(c - '0');
			if (x > UINT32_MAX)
				break;
		}
		if (i == mtu->n) {
			e.has_mtu = true;
			e.mtu = (unsigned)x;
		}
	}
	if (ipmasq->set) {
		e.has_ipmasq = true;
		e.ipmasq = ipmasq->n == 4 && memcmp(ipmasq->p, "true", 4) == 0;
	}
	*ret = e;
	return 0;
}

int subnet_env_read(const char *path, struct subnet_env *ret, struct err *err)
{
	const char *op;
	struct buf b;
	int r;

	*ret = (struct subnet_env){0};
	buf_init(&b, SUBNET_ENV_MAX_SIZE);
	r = file_read_bounded(AT_FDCWD, path, 0, &b, &op);
	if (r == -E2BIG)
		r = too_large(err, SUBNET_ENV_MAX_SIZE + 1); /* one byte past is all we read */
	else if (r == -EISDIR || r == -EINVAL)
		r = err_set(err, -EINVAL, "%s is not a regular file", path);
	else if (r < 0)
		r = err_set(err, r, "%s %s: %s", op, path, strerror(-r));
	else
		r = subnet_env_parse(b.data, b.len, ret, err);
	buf_free(&b);
	return r;
}
