// SPDX-License-Identifier: Apache-2.0
/*
 * Upstream decodes stdin with json.Unmarshal into its NetConf struct and reads
 * subnet.env with its own strict line parser (flannel.go); both are mirrored
 * here, messages included, so that logs read the same. Where upstream would
 * panic (a known subnet.env key without '=') we return an error instead.
 */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/json_ci.h"
#include "core/xmalloc.h"
#include "subnet/subnet_env_keys.h"
#include "gojson.h"
#include "result.h"

bool cni_valid_name(const char *s)
{
	if (!isalnum((unsigned char)s[0]))
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	default:
		return "null";
	}
}

/* A string member of NetConf; *ret is left alone when absent or null. */
static int get_string(json_t *root, const char *key, const char **ret, struct cni_error *e)
{
	json_t *v = json_get_ci(root, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return cni_fail(e, CNI_ERR_DECODE,
				"failed to load netconf: json: cannot unmarshal %s into Go struct "
				"field NetConf.%s of type string",
				json_kind(v), key);
	*ret = json_string_value(v);
	return 0;
}

/* A map[string]interface{} member of NetConf. */
static int get_object(json_t *root, const char *key, json_t **ret, struct cni_error *e)
{
	json_t *v = json_get_ci(root, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return cni_fail(e, CNI_ERR_DECODE,
				"failed to load netconf: json: cannot unmarshal %s into Go struct "
				"field NetConf.%s of type map[string]interface {}",
				json_kind(v), key);
	*ret = v;
	return 0;
}

int cni_conf_parse(const char *buf, size_t len, struct cni_conf *ret, struct cni_error *e)
{
	struct cni_conf c = {
		.name = "",
		.cni_version = "",
		.subnet_file = "",
		.data_dir = "",
	};
	json_error_t jerr;
	json_t *v;
	int r;

	*ret = c;
	c.root = gojson_loadb(buf, len, &jerr);
	if (!c.root)
		return cni_fail(e, CNI_ERR_DECODE, "error unmarshall network config: %s",
				jerr.text);
	if (!json_is_object(c.root)) {
		r = cni_fail(e, CNI_ERR_DECODE,
			     "error unmarshall network config: json: cannot unmarshal %s into Go "
			     "value of type main.NetConf",
			     json_kind(c.root));
		goto out;
	}
	if ((r = get_string(c.root, "name", &c.name, e)) < 0)
		goto out;
	if (!*c.name) {
		r = cni_fail(e, CNI_ERR_INVALID_CONFIG, "missing network name");
		goto out;
	}
	if (!cni_valid_name(c.name)) {
		r = cni_fail(e, CNI_ERR_INVALID_CONFIG, "invalid characters found in network name");
		cni_set_details(e, "%s", c.name);
		goto out;
	}
	if ((r = get_string(c.root, "cniVersion", &c.cni_version, e)) < 0 ||
	    (r = get_string(c.root, "subnetFile", &c.subnet_file, e)) < 0 ||
	    (r = get_string(c.root, "dataDir", &c.data_dir, e)) < 0 ||
	    (r = get_object(c.root, "delegate", &c.delegate, e)) < 0 ||
	    (r = get_object(c.root, "ipam", &c.ipam, e)) < 0 ||
	    (r = get_object(c.root, "runtimeConfig", &c.runtime_config, e)) < 0)
		goto out;
	if (!*c.subnet_file)
		c.subnet_file = CNI_DEFAULT_SUBNET_FILE;
	if (!*c.data_dir)
		c.data_dir = CNI_DEFAULT_DATA_DIR;
	v = json_get_ci(c.root, "prevResult");
	c.prev_result = v && !json_is_null(v) ? v : NULL;
	*ret = c;
	return 0;
out:
	json_decref(c.root);
	return r;
}

void cni_conf_free(struct cni_conf *c)
{
	json_decref(c->root);
	c->root = NULL;
}

/* ---- subnet.env ---- */

/* net.ParseCIDR: the network, host bits dropped. why gets Go's message. */
static int parse_cidr(const char *s, size_t n, struct ip_prefix *ret, char *why, size_t whylen)
{
	char tmp[IP_PREFIX_STRLEN + 1];

	if (n < sizeof(tmp) && !memchr(s, '\0', n)) {
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		if (ip_prefix_parse(tmp, ret) == 0)
			return 0;
	}
	snprintf(why, whylen, "invalid CIDR address: %.*s", (int)(n > 256 ? 256 : n), s);
	return -EINVAL;
}

static int parse_list(const char *v, size_t n, struct ip_prefix **list, unsigned *count, char *why,
		      size_t whylen)
{
	size_t start = 0;

	*count = 0; /* a repeated line replaces the list */
	for (size_t i = 0; i <= n; i++) {
		struct ip_prefix p;
		bool dup = false;

		if (i < n && v[i] != ',')
			continue;
		if (parse_cidr(v + start, i - start, &p, why, whylen) < 0)
			return -EINVAL;
		for (unsigned k = 0; k < *count && !dup; k++)
			dup = ip_prefix_equal(&(*list)[k], &p);
		if (!dup) {
			*list = xreallocarray(*list, *count + 1, sizeof(**list));
			(*list)[(*count)++] = p;
		}
		start = i + 1;
	}
	return 0;
}

/* strconv.ParseUint(v, 10, 32) */
static int parse_mtu(const char *v, size_t n, unsigned *ret, char *why, size_t whylen)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
		x = x * 10 + (uint64_t)(v[i] - '0');
		if (x > UINT32_MAX)
			break;
	}
	if (n == 0 || i < n) {
		bool range = n > 0 && x > UINT32_MAX;

		for (; range && i < n; i++)
			range = v[i] >= '0' && v[i] <= '9';
		snprintf(why, whylen, "strconv.ParseUint: parsing \"%.*s\": %s",
			 (int)(n > 64 ? 64 : n), v,
			 range ? "value out of range" : "invalid syntax");
		return -EINVAL;
	}
	*ret = (unsigned)x;
	return 0;
}

static int fail_env(struct cni_error *e, unsigned code, const char *why)
{
	return cni_fail(e, code,
			"failed to load flannel 'subnet.env' file: %s. Check the flannel pod log "
			"for this node.",
			why);
}

static int parse_line(const char *path, unsigned lineno, const char *s, size_t n,
		      struct flannel_env *env, char *why, size_t whylen)
{
	const char *eq = memchr(s, '=', n);
	size_t klen = eq ? (size_t)(eq - s) : n, vlen;
	const char *v = eq ? eq + 1 : NULL;
	int key = subnet_env_key(s, klen);

	if (key < 0)
		return 0;
	if (!eq) {
		snprintf(why, whylen, "%s: line %u: %s has no value", path, lineno,
			 subnet_env_keys[key]);
		return -EINVAL;
	}
	vlen = n - klen - 1;
	switch (key) {
	case SUBNET_ENV_NETWORK:
		return parse_list(v, vlen, &env->nws, &env->n_nws, why, whylen);
	case SUBNET_ENV_IPV6_NETWORK:
		return parse_list(v, vlen, &env->ip6_nws, &env->n_ip6_nws, why, whylen);
	case SUBNET_ENV_SUBNET:
		env->has_sn = false;
		if (parse_cidr(v, vlen, &env->sn, why, whylen) < 0)
			return -EINVAL;
		env->has_sn = true;
		return 0;
	case SUBNET_ENV_IPV6_SUBNET:
		env->has_ip6_sn = false;
		if (parse_cidr(v, vlen, &env->ip6_sn, why, whylen) < 0)
			return -EINVAL;
		env->has_ip6_sn = true;
		return 0;
	case SUBNET_ENV_MTU:
		if (parse_mtu(v, vlen, &env->mtu, why, whylen) < 0)
			return -EINVAL;
		env->has_mtu = true;
		return 0;
	default:
		env->ipmasq = vlen == 4 && !memcmp(v, "true", 4);
		env->has_ipmasq = true;
		return 0;
	}
}

int flannel_env_parse(const char *path, const char *buf, size_t len, struct flannel_env *ret,
		      struct cni_error *e)
{
	struct flannel_env env = {0};
	char why[1024], missing[256] = "";
	unsigned lineno = 0;
	size_t pos = 0;
	int r = 0;

	*ret = env;
	/* bufio.ScanLines: '\n' ends a line, one '\r' before it is dropped, and a
	 * last line without '\n' still counts. */
	while (pos < len) {
		const char *eol = memchr(buf + pos, '\n', len - pos);
		size_t n = eol ? (size_t)(eol - (buf + pos)) : len - pos;
		size_t adv = n + (eol ? 1 : 0);

		if (n > 0 && buf[pos + n - 1] == '\r')
			n--;
		lineno++;
		if (parse_line(path, lineno, buf + pos, n, &env, why, sizeof(why)) < 0) {
			r = fail_env(e, CNI_ERR_INVALID_CONFIG, why);
			goto out;
		}
		pos += adv;
	}

	/* upstream's subnetEnv.missing(), in its order */
	snprintf(missing, sizeof(missing), "%s%s%s%s",
		 !env.n_nws && !env.n_ip6_nws ? ", FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK" : "",
		 !env.has_sn && !env.has_ip6_sn ? ", FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET" : "",
		 !env.has_mtu ? ", FLANNEL_MTU" : "", !env.has_ipmasq ? ", FLANNEL_IPMASQ" : "");
	if (missing[0]) {
		snprintf(why, sizeof(why), "%s is missing %s", path, missing + 2);
		r = fail_env(e, CNI_ERR_INVALID_CONFIG, why);
		goto out;
	}
	*ret = env;
	return 0;
out:
	flannel_env_free(&env);
	return r;
}

/* Go's os.PathError text: "open <path>: no such file or directory". */
static void go_errno(char *buf, size_t size, const char *op, const char *path, int err)
{
	size_t n;

	snprintf(buf, size, "%s %s: %s", op, path, strerror(err));
	n = strlen(op) + strlen(path) + 3;
	if (n < size)
		buf[n] = (char)tolower((unsigned char)buf[n]);
}

int flannel_env_load(const char *path, struct flannel_env *ret, struct cni_error *e)
{
	const char *op;
	char why[1024];
	struct buf b;
	int r;

	*ret = (struct flannel_env){0};
	buf_init(&b, FLANNEL_ENV_MAX_SIZE);
	r = file_read_bounded(AT_FDCWD, path, 0, &b, &op);
	if (r == -E2BIG) {
		snprintf(why, sizeof(why), "%s is larger than %d bytes", path,
			 FLANNEL_ENV_MAX_SIZE);
		r = fail_env(e, CNI_ERR_INVALID_CONFIG, why);
	} else if (r < 0) {
		go_errno(why, sizeof(why), op, path, -r);
		r = fail_env(e, CNI_ERR_IO, why);
	} else {
		r = flannel_env_parse(path, b.data, b.len, ret, e);
	}
	buf_free(&b);
	return r;
}

void flannel_env_free(struct flannel_env *env)
{
	free(env->nws);
	free(env->ip6_nws);
	env->nws = env->ip6_nws = NULL;
	env->n_nws = env->n_ip6_nws = 0;
}
