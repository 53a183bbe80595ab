// SPDX-License-Identifier: Apache-2.0
/*
 * weftctl docker-opts: flannel's dist/mk-docker-opts.sh (flannel.md §9) with
 * its options, defaults, output bytes and exit conditions.
 *
 * The script sources the subnet file into a shell that already holds the
 * environment, sets DOCKER_OPT_BIP / _MTU / _IPMASQ from the FLANNEL_*
 * variables, then emits every variable whose name starts with DOCKER_OPT_
 * (from `set`, so in name order) and the combined one. That is modelled
 * here as one variable table: the environment, then the file's assignments,
 * then the three options. The file is parsed, never run: only assignment
 * lines are accepted and shell expansions ($, `) are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/ipnet.h"
#include "core/xmalloc.h"
#include "nl/nl.h"
#include "nl/route.h"
#include "weftctl.h"

#define DEFAULT_ENV_FILE "/run/flannel/subnet.env"
#define DEFAULT_OUT_FILE "/run/docker_opts.env"
#define DEFAULT_KEY "DOCKER_OPTS"
#define OPT_PREFIX "DOCKER_OPT_"
#define ENV_FILE_MAX (64 * 1024)
#define OUT_MAX (4 * 1024 * 1024) /* the environment is part of the input */

extern char **environ;

static void docker_opts_usage(FILE *f)
{
	fprintf(f, "usage: weftctl docker-opts [-f FILE] [-d FILE] [-i] [-c] [-k KEY] [-m]\n\n"
		   "Generate Docker daemon options from flannel's subnet file, as flannel's\n"
		   "mk-docker-opts.sh does (same options, defaults and output).\n\n"
		   "Options:\n"
		   "  -f FILE  subnet file to read (default " DEFAULT_ENV_FILE ")\n"
		   "  -d FILE  file to write, truncated first (default " DEFAULT_OUT_FILE ")\n"
		   "  -i       write each option as its own variable, e.g.\n"
		   "           DOCKER_OPT_MTU=\"--mtu=1450\"\n"
		   "  -c       write the options combined into one variable (DOCKER_OPTS)\n"
		   "  -k KEY   name of the combined variable (default " DEFAULT_KEY "); its value\n"
		   "           in the environment, if any, is put in front of the options\n"
		   "  -m       do not write --ip-masq (for older Docker versions)\n"
		   "Without -i and -c both are written. Short options may be grouped (-ic).\n\n"
		   "From the subnet file: --bip=$FLANNEL_SUBNET, --mtu=$FLANNEL_MTU and\n"
		   "--ip-masq, the inverse of FLANNEL_IPMASQ (flannel masquerades, so Docker\n"
		   "must not). Variables the file does not set are taken from the environment,\n"
		   "and any DOCKER_OPT_* variable of the environment is written too, as the\n"
		   "script does. Output for the subnet file FLANNEL_SUBNET=10.1.74.1/24,\n"
		   "FLANNEL_MTU=1472, FLANNEL_IPMASQ=false:\n"
		   "  DOCKER_OPT_BIP=\"--bip=10.1.74.1/24\"\n"
		   "  DOCKER_OPT_IPMASQ=\"--ip-masq=true\"\n"
		   "  DOCKER_OPT_MTU=\"--mtu=1472\"\n"
		   "  DOCKER_OPTS=\" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472\"\n\n"
		   "The subnet file is read as NAME=VALUE lines (sh quoting, '#' comments,\n"
		   "'export'); it is not run, so lines that are not assignments and $ or `\n"
		   "expansions are errors. Unlike the script, a missing or unreadable subnet\n"
		   "file is an error (the script writes empty options); use -f /dev/null to\n"
		   "take everything from the environment.\n\n"
		   "Exit status: 0 on success; 1 when the subnet file cannot be read or parsed,\n"
		   "FLANNEL_IPMASQ is neither true nor false (unless -m), the output cannot be\n"
		   "written, or, as the script checks last (after writing), the main routing\n"
		   "table already has a route via a gateway to the node's subnet (the\n"
		   "FLANNEL_SUBNET address minus one in its last byte, with its prefix\n"
		   "length), which the Docker bridge would conflict with.\n");
}

/* ---- variables ---- */

struct var {
	char *name;
	char *value;
};

struct vars {
	struct var *v;
	size_t n, cap;
};

static bool is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* A shell variable name: [A-Za-z_][A-Za-z0-9_]*. */
static size_t name_len(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_name_start(s[0]))
		return 0;
	while (i < n && is_name_char(s[i]))
		i++;
	return i;
}

static struct var *vars_find(const struct vars *vs, const char *name, size_t len)
{
	for (size_t i = 0; i < vs->n; i++)
		if (strlen(vs->v[i].name) == len && !memcmp(vs->v[i].name, name, len))
			return &vs->v[i];
	return NULL;
}

static void vars_set(struct vars *vs, const char *name, size_t nlen, const char *value, size_t vlen)
{
	struct var *v = vars_find(vs, name, nlen);

	if (!v) {
		if (vs->n == vs->cap) {
			vs->cap = vs->cap ? vs->cap * 2 : 64;
			vs->v = xreallocarray(vs->v, vs->cap, sizeof(*vs->v));
		}
		v = &vs->v[vs->n++];
		v->name = xstrndup(name, nlen);
		v->value = NULL;
	}
	free(v->value);
	v->value = xstrndup(value, vlen);
}

/* The value, or "" when unset (the shell's "$NAME"). */
static const char *vars_get(const struct vars *vs, const char *name)
{
	const struct var *v = vars_find(vs, name, strlen(name));

	return v ? v->value : "";
}

static void vars_free(struct vars *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		free(vs->v[i].name);
		free(vs->v[i].value);
	}
	free(vs->v);
}

/* What the shell starts with: every environment entry with a valid name. */
static void vars_from_environ(struct vars *vs)
{
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t n;

		if (!eq)
			continue;
		n = name_len(*e, (size_t)(eq - *e));
		if (n == (size_t)(eq - *e))
			vars_set(vs, *e, n, eq + 1, strlen(eq + 1));
	}
}

static int var_cmp(const void *a, const void *b)
{
	return strcmp(((const struct var *)a)->name, ((const struct var *)b)->name);
}

/* ---- the subnet file ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_operator(char c)
{
	return c == ';' || c == '&' || c == '|' || c == '<' || c == '>' || c == '(' || c == ')';
}

/*
 * One shell word starting at s[*i] (not blank), unquoted into ret (at least
 * n - *i + 1 bytes). Handles '...', "..." and backslashes as sh does; refuses
 * what would need running shell code.
 */
static int parse_word(const char *s, size_t n, size_t *i, char *ret, size_t *ret_len,
		      struct err *err)
{
	size_t o = 0, k = *i;

	while (k < n && !is_blank(s[k])) {
		char c = s[k];

		if (c == '$' || c == '`')
			return err_set(err, -EINVAL, "shell expansion ('%c') is not supported", c);
		if (is_operator(c))
			return err_set(err, -EINVAL, "'%c': not a plain variable assignment", c);
		if (c == '\\') {
			if (k + 1 == n)
				return err_set(err, -EINVAL, "line continuation is not supported");
			ret[o++] = s[k + 1];
			k += 2;
		} else if (c == '\'') {
			const char *q = memchr(s + k + 1, '\'', n - k - 1);

			if (!q)
				return err_set(err, -EINVAL, "unterminated ' quote");
			memcpy(ret + o, s + k + 1, (size_t)(q - (s + k + 1)));
			o += (size_t)(q - (s + k + 1));
			k = (size_t)(q - s) + 1;
		} else if (c == '"') {
			for (k++; k < n && s[k] != '"'; k++) {
				if (s[k] == '$' || s[k] == '`')
					return err_set(err, -EINVAL,
						       "shell expansion ('%c') is not supported",
						       s[k]);
				/* In double quotes a backslash only escapes $ ` " \. */
				if (s[k] == '\\' && k + 1 < n && memchr("$`\"\\", s[k + 1], 4))
					k++;
				ret[o++] = s[k];
			}
			if (k == n)
				return err_set(err, -EINVAL, "unterminated \" quote");
			k++;
		} else {
			ret[o++] = c;
			k++;
		}
	}
	ret[o] = '\0';
	*ret_len = o;
	*i = k;
	return 0;
}

/* "[export] NAME=WORD [NAME=WORD...] [# comment]", or a blank or comment line. */
static int parse_line(const char *s, size_t n, char *word, struct vars *vs, struct err *err)
{
	bool export = false, first = true;
	const char *name;
	size_t i = 0, len = 0, nl;
	int r;

	for (;;) {
		while (i < n && is_blank(s[i]))
			i++;
		if (i == n || s[i] == '#')
			return 0;
		nl = name_len(s + i, n - i);
		if (first && nl == 6 && !memcmp(s + i, "export", 6) &&
		    (i + 6 == n || is_blank(s[i + 6]))) {
			export = true;
			first = false;
			i += 6;
			continue;
		}
		first = false;
		if (nl == 0 || i + nl == n || s[i + nl] != '=') {
			/* "export NAME" only marks it for export. */
			if (export && nl > 0 && (i + nl == n || is_blank(s[i + nl]))) {
				i += nl;
				continue;
			}
			return err_set(err, -EINVAL, "not a NAME=VALUE assignment");
		}
		name = s + i;
		i += nl + 1;
		r = parse_word(s, n, &i, word, &len, err);
		if (r < 0)
			return r;
		vars_set(vs, name, nl, word, len);
	}
}

static int parse_env_file(const char *path, struct vars *vs, struct err *err)
{
	char *text = NULL, *word = NULL;
	size_t len = 0, pos = 0, line = 0;
	int r;

	r = weftctl_read_input(path, ENV_FILE_MAX, &text, &len);
	if (r < 0)
		return err_set(err, r, "%s: %s", path, strerror(-r));
	if (len > ENV_FILE_MAX) {
		r = err_set(err, -EFBIG, "%s: larger than %d bytes", path, ENV_FILE_MAX);
		goto out;
	}
	word = xmalloc(len + 1);
	while (pos < len) {
		const char *eol = memchr(text + pos, '\n', len - pos);
		size_t n = eol ? (size_t)(eol - (text + pos)) : len - pos;

		line++;
		r = parse_line(text + pos, n, word, vs, err);
		if (r < 0) {
			err_prefix(err, r, "%s:%zu", path, line);
			goto out;
		}
		pos += n + 1;
	}
out:
	free(word);
	free(text);
	return r;
}

/* ---- the options ---- */

/* The script's three assignments; -EINVAL for a FLANNEL_IPMASQ it refuses. */
static int set_docker_opts(struct vars *vs, bool ipmasq, struct err *err)
{
	const char *subnet = vars_get(vs, "FLANNEL_SUBNET");
	const char *mtu = vars_get(vs, "FLANNEL_MTU");
	const char *masq = vars_get(vs, "FLANNEL_IPMASQ");
	char *v;

	if (*subnet) {
		xasprintf(&v, "--bip=%s", subnet);
		vars_set(vs, OPT_PREFIX "BIP", strlen(OPT_PREFIX "BIP"), v, strlen(v));
		free(v);
	}
	if (*mtu) {
		xasprintf(&v, "--mtu=%s", mtu);
		vars_set(vs, OPT_PREFIX "MTU", strlen(OPT_PREFIX "MTU"), v, strlen(v));
		free(v);
	}
	if (*masq && ipmasq) {
		/* flannel masquerades itself, so Docker must not, and vice versa. */
		if (!strcmp(masq, "true"))
			v = "--ip-masq=false";
		else if (!strcmp(masq, "false"))
			v = "--ip-masq=true";
		else
			return err_set(err, -EINVAL,
				       "invalid value of FLANNEL_IPMASQ: '%s' (want true or false)",
				       masq);
		vars_set(vs, OPT_PREFIX "IPMASQ", strlen(OPT_PREFIX "IPMASQ"), v, strlen(v));
	}
	return 0;
}

/* Appends the strings up to NULL; -E2BIG past the buffer's maximum. */
static int put(struct buf *b, ...)
{
	const char *s;
	va_list ap;
	int r = 0;

	va_start(ap, b);
	while (r == 0 && (s = va_arg(ap, const char *)))
		r = buf_append(b, s, strlen(s));
	va_end(ap);
	return r;
}

/* The output file's text: DOCKER_OPT_* lines in name order, then the combined one. */
static int format_output(struct vars *vs, bool indiv, bool combined, const char *key,
			 struct buf *out, struct err *err)
{
	const char *prefix = vars_get(vs, key);
	struct var *opts = xcalloc(vs->n ? vs->n : 1, sizeof(*opts));
	size_t nopts = 0;
	int r = 0;

	for (size_t i = 0; i < vs->n; i++)
		if (!strncmp(vs->v[i].name, OPT_PREFIX, strlen(OPT_PREFIX)))
			opts[nopts++] = vs->v[i];
	qsort(opts, nopts, sizeof(*opts), var_cmp);
	for (size_t i = 0; r == 0 && indiv && i < nopts; i++)
		r = put(out, opts[i].name, "=\"", opts[i].value, "\"\n", NULL);
	if (combined) {
		/* docker_opts="$KEY", plus a space when not empty, then " $VALUE" each. */
		if (r == 0)
			r = put(out, key, "=\"", prefix, *prefix ? " " : "", NULL);
		for (size_t i = 0; r == 0 && i < nopts; i++)
			r = put(out, " ", opts[i].value, NULL);
		if (r == 0)
			r = put(out, "\"\n", NULL);
	}
	free(opts);
	if (r < 0)
		return err_set(err, r, "options longer than %zu bytes", out->max);
	return 0;
}

static int write_file(const char *path, const char *text, size_t len, struct err *err)
{
	int fd, r = 0;

	/* Like the script's redirection: truncate in place (so -d /dev/stdout works). */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return err_set(err, -errno, "%s: %s", path, strerror(errno));
	while (len > 0) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = err_set(err, -errno, "%s: %s", path, strerror(errno));
			goto out;
		}
		text += n;
		len -= (size_t)n;
	}
out:
	if (close(fd) < 0 && r == 0)
		r = err_set(err, -errno, "%s: %s", path, strerror(errno));
	return r;
}

/* ---- the route check ---- */

struct route_match {
	struct ip_prefix want;
	bool found;
	struct nl_route route;
};

static int route_cb(const struct nl_route *r, void *arg)
{
	struct route_match *m = arg;

	if (m->found || r->dst.len != m->want.len || !ip_addr_equal(&r->dst.addr, &m->want.addr) ||
	    ip_addr_is_unset(&r->gw))
		return 0;
	m->found = true;
	m->route = *r;
	return 0;
}

/*
 * The script's last step: FLANNEL_SUBNET with one taken off its last byte
 * ("10.1.74.1/24" -> "10.1.74.0/24"), then `ip route show | grep SUBNET |
 * grep via`. Here: a main-table IPv4 route to exactly that prefix with a
 * gateway. A value that is not a.b.c.d/len cannot name a kernel route, so
 * there is nothing to check. 1 = conflict (described in err), 0 = none.
 */
static int route_check(const char *subnet, struct err *err)
{
	struct route_match m;
	char addr[IP_ADDR_STRLEN], gw[IP_ADDR_STRLEN], dev[IF_NAMESIZE] = "";
	const char *slash = strchr(subnet, '/');
	struct nl *nl = NULL;
	char *end;
	long len;
	int r;

	memset(&m, 0, sizeof(m));
	if (!slash || (size_t)(slash - subnet) >= sizeof(addr))
		return 0;
	memcpy(addr, subnet, (size_t)(slash - subnet));
	addr[slash - subnet] = '\0';
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || len < 0 || len > 32 ||
	    ip_addr_parse_family(addr, AF_INET, &m.want.addr) < 0 || m.want.addr.b[3] == 0)
		return 0;
	m.want.addr.b[3]--;
	m.want.len = (unsigned)len;
	r = nl_open(&nl);
	if (r == 0)
		r = nl_route_dump(nl, AF_INET, 0, route_cb, &m);
	nl_close(nl);
	if (r < 0) {
		fprintf(stderr,
			"weftctl: docker-opts: warning: cannot read the routing table (%s); "
			"route check skipped\n",
			strerror(-r));
		return 0;
	}
	if (!m.found)
		return 0;
	if (m.route.oif)
		if_indextoname((unsigned)m.route.oif, dev);
	ip_addr_format(&m.route.gw, gw);
	err_set(err, 1, "your routing table already contains the subnet: %s/%u via %s%s%s",
		ip_addr_format(&m.want.addr, addr), m.want.len, gw, dev[0] ? " dev " : "", dev);
	return 1;
}

/* ---- the command ---- */

int cmd_docker_opts(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *env_file = DEFAULT_ENV_FILE, *out_file = DEFAULT_OUT_FILE, *key = DEFAULT_KEY;
	bool indiv = false, combined = false, ipmasq = true;
	struct vars vs = {0};
	struct err err = {{0}};
	struct buf out;
	int c, r = 0;

	if (argc > 1 && !strcmp(argv[1], "help")) {
		docker_opts_usage(stdout);
		return 0;
	}
	/* The script's getopts "f:d:icmk:": grouping and -fFILE work the same. */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:f:d:icmk:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			env_file = optarg;
			break;
		case 'd':
			out_file = optarg;
			break;
		case 'i':
			indiv = true;
			break;
		case 'c':
			combined = true;
			break;
		case 'm':
			ipmasq = false;
			break;
		case 'k':
			key = optarg;
			break;
		case 'h':
			docker_opts_usage(stdout);
			return 0;
		case ':':
			r = err_set(&err, -EINVAL, "option '-%c' needs a value", optopt);
			break;
		default:
			if (optopt)
				r = err_set(&err, -EINVAL, "unknown option '-%c'", optopt);
			else
				r = err_set(&err, -EINVAL, "unknown option '%s'", argv[optind - 1]);
			break;
		}
		if (r < 0)
			break;
	}
	if (r == 0 && optind < argc)
		r = err_set(&err, -EINVAL, "unexpected argument '%s'", argv[optind]);
	if (r == 0 && (!*key || name_len(key, strlen(key)) != strlen(key)))
		r = err_set(&err, -EINVAL, "-k '%s': not a valid variable name", key);
	if (r == 0 && !*out_file)
		r = err_set(&err, -EINVAL, "-d: empty file name");
	if (r < 0) {
		fprintf(stderr, "weftctl: docker-opts: %s\n", err.msg);
		fprintf(stderr, "Run 'weftctl docker-opts --help' for usage.\n");
		return r;
	}
	if (!indiv && !combined)
		indiv = combined = true;

	buf_init(&out, OUT_MAX);
	vars_from_environ(&vs);
	r = parse_env_file(env_file, &vs, &err);
	if (r == 0)
		r = set_docker_opts(&vs, ipmasq, &err);
	if (r == 0)
		r = format_output(&vs, indiv, combined, key, &out, &err);
	if (r == 0)
		r = write_file(out_file, out.data, out.len, &err);
	if (r < 0) {
		fprintf(stderr, "weftctl: docker-opts: %s\n", err.msg);
		goto out;
	}
	/* After writing, as the script: the options are there even when this fails. */
	if (route_check(vars_get(&vs, "FLANNEL_SUBNET"), &err) > 0) {
		fprintf(stderr,
			"weftctl: docker-opts: %s (%s is written all the same, as by "
			"mk-docker-opts.sh)\n",
			err.msg, out_file);
		r = -EEXIST;
	}
out:
	buf_free(&out);
	vars_free(&vs);
	return r;
}
