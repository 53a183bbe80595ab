// SPDX-License-Identifier: Apache-2.0
/*
 * The extension backend's command lines and data, as upstream's
 * pkg/backend/extension (flannel.md §7.9) makes them. What upstream does,
 * read from its source (extension.go, runCmd since 2026-03):
 *
 *   args := strings.Fields(cmd)              split on Unicode white space
 *   envMap := os.Environ() + extra vars      later entries win
 *   args[i] = os.Expand(args[i], envMap[k])  after the split: a value with
 *                                            spaces stays one argument, an
 *                                            empty one an empty argument
 *   exec.Command(args[0], args[1:]...)       PATH lookup, no shell
 *   cmd.Env = append(os.Environ(), extra...) exec keeps the last of a name
 *   stdin = <data> + "\n"; CombinedOutput, strings.TrimSpace
 *
 * os.Expand, from Go's os/env.go: "$" followed by '{' takes everything up
 * to the first '}' as the name ("${}" and an unterminated "${" are bad
 * syntax: "${}" vanishes, "${" vanishes and what follows stays); followed by
 * one of * # $ @ ! ? - 0-9 that one character is the name ("$$" is the
 * variable named "$", normally unset: ""); followed by [A-Za-z0-9_] the
 * longest such run is the name; followed by anything else, or at the very
 * end, the "$" stays as it is. An unset name expands to "".
 */
#include "backend/ext_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/conf.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json_go.h"
#include "core/xmalloc.h"
#include "subnet/lease_json_int.h"

static const char *const keys[EXT_CMD_KINDS] = {
	[EXT_PRE_STARTUP] = "PreStartupCommand",
	[EXT_POST_STARTUP] = "PostStartupCommand",
	[EXT_SUBNET_ADD] = "SubnetAddCommand",
	[EXT_SUBNET_REMOVE] = "SubnetRemoveCommand",
};

const char *ext_cmd_key(enum ext_cmd_kind kind)
{
	return (unsigned)kind < EXT_CMD_KINDS ? keys[kind] : "?";
}

/* ---- white space (unicode.IsSpace) ---- */

/* Length of the white-space rune that starts s (n bytes), or 0. Every
 * multi-byte one starts with a lead byte, which no valid sequence can hold
 * as a continuation byte, so matching bytes is decoding runes. */
static size_t space_len(const unsigned char *s, size_t n)
{
	if (n == 0)
		return 0;
	switch (s[0]) {
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case ' ':
		return 1;
	case 0xc2: /* U+0085, U+00A0 */
		return n >= 2 && (s[1] == 0x85 || s[1] == 0xa0) ? 2 : 0;
	case 0xe1: /* U+1680 */
		return n >= 3 && s[1] == 0x9a && s[2] == 0x80 ? 3 : 0;
	case 0xe2:
		if (n < 3)
			return 0;
		if (s[1] == 0x80) /* U+2000..U+200A, U+2028, U+2029, U+202F */
			return (s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 ||
					       s[2] == 0xaf
				       ? 3
				       : 0;
		return s[1] == 0x81 && s[2] == 0x9f ? 3 : 0; /* U+205F */
	case 0xe3:					     /* U+3000 */
		return n >= 3 && s[1] == 0x80 && s[2] == 0x80 ? 3 : 0;
	default:
		return 0;
	}
}

/* Length of a white-space rune that ends s[0..n), or 0 (DecodeLastRune: the
 * rune starts at the nearest lead byte, so again a byte match). */
static size_t space_len_last(const unsigned char *s, size_t n)
{
	for (size_t w = 1; w <= 3 && w <= n; w++)
		if (space_len(s + n - w, w) == w)
			return w;
	return 0;
}

void ext_cmd_trim_space(const char *s, size_t len, size_t *start, size_t *end)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t a = 0, b = len, w;

	while (a < b && (w = space_len(u + a, b - a)) > 0)
		a += w;
	while (b > a && (w = space_len_last(u + a, b - a)) > 0)
		b -= w;
	*start = a;
	*end = b;
}

size_t ext_cmd_fields(const char *s, size_t len, char ***ret, size_t **ret_len)
{
	const unsigned char *u = (const unsigned char *)s;
	char **v = xcalloc(1, sizeof(*v));
	size_t *lens = NULL, n = 0, i = 0, w;

	while (i < len) {
		size_t start;

		while (i < len && (w = space_len(u + i, len - i)) > 0)
			i += w;
		if (i == len)
			break;
		start = i;
		while (i < len && space_len(u + i, len - i) == 0)
			i++;
		v = xreallocarray(v, n + 2, sizeof(*v));
		lens = xreallocarray(lens, n + 1, sizeof(*lens));
		v[n] = xmalloc(i - start + 1);
		memcpy(v[n], s + start, i - start);
		v[n][i - start] = '\0';
		lens[n++] = i - start;
		v[n] = NULL;
	}
	*ret = v;
	if (ret_len)
		*ret_len = lens;
	else
		free(lens);
	return n;
}

void ext_cmd_strv_free(char **v)
{
	if (!v)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

/* ---- os.Expand ---- */

static bool shell_special(unsigned char c)
{
	return c != '\0' && strchr("*#$@!?-0123456789", c);
}

static bool alnum_(unsigned char c)
{
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

/* getShellName of s[0..n), n >= 1: the name's span and the bytes used. */
static void shell_name(const char *s, size_t n, size_t *name_off, size_t *name_len, size_t *used)
{
	size_t i;

	*name_off = 0;
	*name_len = 0;
	if (s[0] == '{') {
		if (n > 2 && shell_special((unsigned char)s[1]) && s[2] == '}') {
			*name_off = 1;
			*name_len = 1;
			*used = 3;
			return;
		}
		for (i = 1; i < n; i++) {
			if (s[i] == '}') {
				if (i == 1) {
					*used = 2; /* bad syntax: "${}" goes */
					return;
				}
				*name_off = 1;
				*name_len = i - 1;
				*used = i + 1;
				return;
			}
		}
		*used = 1; /* bad syntax: "${" goes */
		return;
	}
	if (shell_special((unsigned char)s[0])) {
		*name_len = 1;
		*used = 1;
		return;
	}
	for (i = 0; i < n && alnum_((unsigned char)s[i]); i++)
		;
	*name_len = i;
	*used = i;
}

/* envMap[name]: the last entry whose name (up to its first '=') matches. */
static const char *env_lookup(const char *const *env, size_t n, const char *name, size_t len)
{
	for (size_t i = n; i-- > 0;) {
		const char *e = env[i], *eq = strchr(e, '=');
		size_t klen = eq ? (size_t)(eq - e) : strlen(e);

		if (klen == len && !memcmp(e, name, len))
			return eq ? eq + 1 : "";
	}
	return "";
}

char *ext_cmd_expand(const char *s, size_t len, const char *const *env, size_t n, size_t *ret_len)
{
	struct buf b;
	size_t i = 0;

	buf_init(&b, SIZE_MAX / 4); /* not SIZE_MAX: buf adds 1 */
	buf_append(&b, "", 0);
	for (size_t j = 0; j < len; j++) {
		size_t off, nlen, used;

		if (s[j] != '$' || j + 1 >= len)
			continue;
		buf_append(&b, s + i, j - i);
		shell_name(s + j + 1, len - j - 1, &off, &nlen, &used);
		if (nlen == 0 && used > 0)
			; /* bad syntax: eaten */
		else if (nlen == 0)
			buf_append(&b, "$", 1);
		else
			buf_puts(&b, env_lookup(env, n, s + j + 1 + off, nlen));
		j += used;
		i = j + 1;
	}
	buf_append(&b, s + i, len - i);
	*ret_len = b.len;
	return b.data;
}

/* ---- the child's environment (exec's dedupEnv) ---- */

/* The name of an entry as dedupEnv takes it: up to the first '=', or the
 * second one when the entry starts with '='. false: no '=' at all. */
static bool env_name(const char *e, size_t *ret_len)
{
	const char *eq = strchr(e[0] == '=' ? e + 1 : e, '=');

	if (!eq)
		return false;
	*ret_len = (size_t)(eq - e);
	return true;
}

const char **ext_cmd_env(const char *const *env, size_t n)
{
	const char **out = xcalloc(n + 1, sizeof(*out));
	size_t m = 0;

	/* From the end, keeping the first (last) of each name, then reversed. */
	for (size_t i = n; i-- > 0;) {
		const char *e = env[i];
		size_t klen, k2;
		bool dup = false;

		if (!env_name(e, &klen)) {
			if (*e)
				out[m++] = e;
			continue;
		}
		for (size_t k = 0; k < m && !dup; k++)
			dup = env_name(out[k], &k2) && k2 == klen && !memcmp(out[k], e, klen);
		if (!dup)
			out[m++] = e;
	}
	for (size_t i = 0; i < m / 2; i++) {
		const char *t = out[i];

		out[i] = out[m - 1 - i];
		out[m - 1 - i] = t;
	}
	out[m] = NULL;
	return out;
}

/* ---- exec.LookPath ---- */

/* Go's findExecutable: not a directory, and executable for us. */
static int executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0)
		return 0;
	if (errno != ENOSYS && errno != EPERM)
		return -errno;
	return st.st_mode & 0111 ? 0 : -EACCES;
}

int ext_cmd_lookpath(const char *name, const char *path_env, char **ret, struct err *err)
{
	const char *p = path_env ? path_env : "";

	*ret = NULL;
	if (!*name)
		return err_set(err, -ENOENT, "exec: no command");
	if (strchr(name, '/')) {
		*ret = xstrdup(name);
		return 0;
	}
	/* filepath.SplitList: "" has no entry at all, else every piece between
	 * colons is one, an empty one meaning "." (so does a trailing ':'). */
	for (bool more = *p != '\0'; more;) {
		const char *colon = strchrnul(p, ':');
		size_t dlen = (size_t)(colon - p);
		char *cand;

		if (dlen == 0)
			xasprintf(&cand, "./%s", name);
		else
			xasprintf(&cand, "%.*s/%s", (int)dlen, p, name);
		if (executable(cand) == 0) {
			if (cand[0] != '/') {
				free(cand);
				return err_set(err, -EPERM,
					       "exec: \"%s\": cannot run executable found relative "
					       "to current directory",
					       name);
			}
			*ret = cand;
			return 0;
		}
		free(cand);
		more = *colon != '\0';
		p = colon + 1;
	}
	return err_set(err, -ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}

/* ---- configuration ---- */

int ext_conf_parse(const char *json, struct ext_conf *ret, struct err *err)
{
	struct ext_conf c = {0};
	json_t *o;
	int rc = 0;

	memset(ret, 0, sizeof(*ret));
	o = backend_conf_object(json, err);
	if (!o)
		return -EINVAL;
	for (int k = 0; k < EXT_CMD_KINDS; k++) {
		const char *s = NULL;
		char **f;
		size_t nf;

		if ((rc = backend_conf_string(o, keys[k], &s, err)) < 0)
			goto out;
		if (!s || !*s)
			continue;
		nf = ext_cmd_fields(s, strlen(s), &f, NULL);
		ext_cmd_strv_free(f);
		if (nf == 0) {
			rc = err_set(err, -EINVAL,
				     "Backend.%s has no program to run (only white space)",
				     keys[k]);
			goto out;
		}
		c.cmd[k] = xstrdup(s);
	}
	*ret = c;
	memset(&c, 0, sizeof(c));
out:
	ext_conf_free(&c);
	json_decref(o);
	return rc;
}

void ext_conf_free(struct ext_conf *c)
{
	for (int k = 0; k < EXT_CMD_KINDS; k++) {
		free(c->cmd[k]);
		c->cmd[k] = NULL;
	}
}

/* ---- lease data ---- */

int ext_cmd_backend_data(const char *out, size_t len, size_t max, char **ret)
{
	struct buf b;
	size_t a, e;
	int rc;

	*ret = NULL;
	ext_cmd_trim_space(out, len, &a, &e);
	buf_init(&b, max);
	rc = json_go_put_string(&b, out + a, e - a);
	if (rc < 0) {
		buf_free(&b);
		return rc;
	}
	*ret = b.data;
	return 0;
}

int ext_cmd_peer_stdin(const char *data, size_t max, struct buf *ret, struct err *err)
{
	size_t n = data ? strlen(data) : 0;
	const unsigned char *u = (const unsigned char *)data;
	int rc;

	buf_init(ret, max);
	if (n == 0 || !strcmp(data, "null"))
		return buf_append(ret, "\n", 1);
	if (data[0] != '"')
		return err_set(err, -EINVAL,
			       "json: cannot unmarshal %s into Go value of type string",
			       json_go_type_name(data[0]));
	if (lease_json_scan_string(u, n, 0) != n)
		return err_set(err, -EINVAL, "BackendData is not one JSON string");
	rc = lease_json_unquote(ret, u, n);
	if (rc == 0)
		rc = buf_append(ret, "\n", 1);
	if (rc < 0)
		return err_set(err, rc, "BackendData is longer than %zu bytes", max);
	return 0;
}

/* ---- logging help ---- */

char *ext_cmd_log_text(const char *s, size_t len, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	struct buf b;

	buf_init(&b, SIZE_MAX / 4); /* not SIZE_MAX: buf adds 1 */
	buf_append(&b, "", 0);
	for (size_t i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};

		if (c == '\n')
			buf_append(&b, "\\n", 2);
		else if (c == '\t')
			buf_append(&b, "\\t", 2);
		else if (c == '\\')
			buf_append(&b, "\\\\", 2);
		else if (c >= 0x20 && c < 0x7f)
			buf_append(&b, &c, 1);
		else
			buf_append(&b, e, 4);
	}
	if (len > max)
		buf_append(&b, "...", 3);
	return b.data;
}
