// SPDX-License-Identifier: Apache-2.0
#include "agent/flags.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/secret_file.h"
#include "core/xmalloc.h"

enum flag_type {
	FT_STRING,
	FT_STRINGS, /* repeatable; each use appends */
	FT_BOOL,
	FT_INT,	  /* Go int: strconv.ParseInt(s, 0, 64) */
	FT_LEVEL, /* klog's Level: strconv.ParseInt(s, 10, 32) */
};

enum {
	FF_META = 1U << 0,   /* --version: no environment, not configuration */
	FF_SECRET = 1U << 1, /* masked by flags_describe */
	FF_HIDDEN = 1U << 2, /* weft-only knobs left out of --help */
};

struct flag_desc {
	const char *name;
	enum flag_type type;
	const char *def; /* parsed like a command-line value; NULL: zero value */
	size_t off;	 /* into struct flags */
	unsigned int fl;
	int64_t min, max; /* FT_INT and FT_LEVEL: every value must be in min..max */
	const char *metavar; /* usage's argument name when not implied by type */
	const char *help;
};

#define FLAG(n, t, d, field, f, h) \
	{ .name = n, .type = t, .def = d, .off = offsetof(struct flags, field), .fl = f, .help = h }
/* Every number has a range: a value outside it is refused, never clamped. */
#define FLAG_RANGE(n, d, field, lo, hi, h)                                                 \
	{ .name = n, .type = FT_INT, .def = d, .off = offsetof(struct flags, field),      \
	  .min = lo, .max = hi, .help = h }
#define FLAG_KLOG(n, t, field, h) \
	{ .name = n, .type = t, .off = offsetof(struct flags, field), .metavar = "value", \
	  .help = h }
#define FLAG_KLOG_RANGE(n, field, lo, hi, h)                                            \
	{ .name = n, .type = FT_LEVEL, .off = offsetof(struct flags, field),           \
	  .metavar = "value", .min = lo, .max = hi, .help = h }

/* flannel's own help texts (main.go), so that --help reads the same. */
static const struct flag_desc flag_table[] = {
	FLAG("etcd-endpoints", FT_STRING, "http://127.0.0.1:4001,http://127.0.0.1:2379",
	     etcd_endpoints, 0, "a comma-delimited list of etcd endpoints"),
	FLAG("etcd-prefix", FT_STRING, "/coreos.com/network", etcd_prefix, 0, "etcd prefix"),
	FLAG("etcd-keyfile", FT_STRING, "", etcd_keyfile, 0,
	     "SSL key file used to secure etcd communication"),
	FLAG("etcd-certfile", FT_STRING, "", etcd_certfile, 0,
	     "SSL certification file used to secure etcd communication"),
	FLAG("etcd-cafile", FT_STRING, "", etcd_cafile, 0,
	     "SSL Certificate Authority file used to secure etcd communication"),
	FLAG("etcd-username", FT_STRING, "", etcd_username, 0, "username for BasicAuth to etcd"),
	FLAG("etcd-password", FT_STRING, "", etcd_password, FF_SECRET,
	     "password for BasicAuth to etcd"),
	FLAG("etcd-password-file", FT_STRING, "", etcd_password_file, 0,
	     "file holding the password for BasicAuth to etcd (one trailing newline is "
	     "ignored; at most 4096 bytes); keeps the password out of the command line. "
	     "Not together with -etcd-password"),
	FLAG_RANGE("etcd-watch-idle-timeout", "1500", etcd_watch_idle_timeout, 60, 86400,
		   "seconds without an event or a progress notification after which the etcd watch "
		   "is re-established (weft; etcd sends progress notifications every 10 min by "
		   "default)"),
	FLAG("kube-subnet-mgr", FT_BOOL, "false", kube_subnet_mgr, 0,
	     "contact the Kubernetes API for subnet assignment instead of etcd."),
	FLAG("kube-api-url", FT_STRING, "", kube_api_url, 0,
	     "Kubernetes API server URL. "
	     "Does not need to be specified if flannel is running in a pod."),
	FLAG("kubeconfig-file", FT_STRING, "", kubeconfig_file, 0,
	     "kubeconfig file location. "
	     "Does not need to be specified if flannel is running in a pod."),
	FLAG("kube-annotation-prefix", FT_STRING, "flannel.alpha.coreos.com",
	     kube_annotation_prefix, 0,
	     "Kubernetes annotation prefix. "
	     "Can contain single slash \"/\", otherwise it will be appended at the end."),
	FLAG("iface", FT_STRINGS, NULL, iface, 0,
	     "interface to use (IP or name) for inter-host communication. "
	     "Can be specified multiple times to check each option in order. "
	     "Returns the first match found."),
	FLAG("iface-regex", FT_STRINGS, NULL, iface_regex, 0,
	     "regex expression to match the first interface to use (IP or name) for inter-host "
	     "communication. Can be specified multiple times to check each regex in order. "
	     "Returns the first match found. Regexes are checked after specific interfaces "
	     "specified by the iface option have already been checked."),
	FLAG("iface-can-reach", FT_STRING, "", iface_can_reach, 0,
	     "detect interface to use (IP or name) for inter-host communication based on which "
	     "will be used for provided IP. This is exactly the interface to use of command "
	     "'ip route get <ip-address>'"),
	FLAG("public-ip", FT_STRING, "", public_ip, 0,
	     "IP accessible by other nodes for inter-host communication"),
	FLAG("public-ipv6", FT_STRING, "", public_ipv6, 0,
	     "IPv6 accessible by other nodes for inter-host communication"),
	FLAG("subnet-file", FT_STRING, "/run/flannel/subnet.env", subnet_file, 0,
	     "filename where env variables (subnet, MTU, ... ) will be written to"),
	FLAG_RANGE("subnet-lease-renew-margin", "60", subnet_lease_renew_margin, 1, 24 * 60 - 1,
		   "subnet lease renewal margin, in minutes, ranging from 1 to 1439"),
	FLAG("ip-masq", FT_BOOL, "false", ip_masq, 0,
	     "setup IP masquerade rule for traffic destined outside of overlay network"),
	FLAG("ip-masq-fully-random-disable", FT_BOOL, "false", ip_masq_fully_random_disable, 0,
	     "disable the fully-random source port mapping of the masquerade rules"),
	FLAG_RANGE("iptables-resync", "5", iptables_resync, 1, 86400,
		   "resync period for iptables rules, in seconds, ranging from 1 to 86400"),
	FLAG("iptables-forward-rules", FT_BOOL, "true", iptables_forward_rules, 0,
	     "add default accept rules to FORWARD chain in iptables"),
	FLAG("ip-blackhole-route", FT_BOOL, "false", ip_blackhole_route, 0,
	     "keep a blackhole route for the node's own subnet"),
	FLAG("overlay-peers-only", FT_BOOL, "true", overlay_peers_only, 0,
	     "accept overlay packets (vxlan and udp: the backend's UDP port; ipip: IP protocol "
	     "4) only from the public addresses of the leases in the network, drop them from "
	     "anyone else (weft; false: accept them from anyone, as flanneld)"),
	FLAG("charon-path", FT_STRING, "", charon_path, 0,
	     "ipsec backend: strongSwan's charon executable (default: searched as flanneld "
	     "does)"),
	FLAG("ipsec-run-dir", FT_STRING, "/run/weft/ipsec", ipsec_run_dir, 0,
	     "ipsec backend: weft's directory for charon's config, VICI socket, pid file "
	     "and log"),
	FLAG("net-config-path", FT_STRING, "/etc/kube-flannel/net-conf.json", net_config_path, 0,
	     "path to the network configuration file"),
	FLAG("set-node-network-unavailable", FT_BOOL, "true", set_node_network_unavailable, 0,
	     "set NodeNetworkUnavailable after ready"),
	FLAG("healthz-ip", FT_STRING, "0.0.0.0", healthz_ip, 0,
	     "the IP address for healthz server to listen"),
	FLAG_RANGE("healthz-port", "0", healthz_port, 0, 65535,
		   "the port for healthz server to listen(0 to disable)"),
	FLAG("metrics-ip", FT_STRING, "127.0.0.1", metrics_ip, 0,
	     "the IP address for the metrics server (/metrics and /status) to listen; "
	     "they reveal the node's addresses, subnet and version, so keep it local "
	     "unless a scraper needs it"),
	FLAG_RANGE("metrics-port", "0", metrics_port, 0, 65535,
		   "the port for the metrics server (/metrics and /status) to listen (0 to "
		   "disable); never the healthz port"),
	FLAG("version", FT_BOOL, "false", version, FF_META, "print version and exit"),
	FLAG("log-format", FT_STRING, "text", log_format, 0,
	     "log line format: text (weft's: UTC time, severity, name[pid]) or klog "
	     "(flanneld's: I0629 14:28:35.866793    5522 file.c:123] ...)"),
	FLAG_KLOG_RANGE("v", v, 0, 100, "number for the log level verbosity (0 to 100)"),
	FLAG_KLOG("vmodule", FT_STRING, vmodule,
		  "comma-separated list of pattern=N settings for file-filtered logging (ignored)"),
	FLAG_KLOG("log_backtrace_at", FT_STRING, log_backtrace_at,
		  "when logging hits line file:N, emit a stack trace (ignored)"),
};

#define FLAG_COUNT (sizeof(flag_table) / sizeof(flag_table[0]))

enum flag_src { SRC_DEFAULT, SRC_CMDLINE, SRC_ENV };

/* Where a value came from, for error messages. */
struct flag_origin {
	enum flag_src src;
	char env[64];
};

static void *flag_field(struct flags *f, const struct flag_desc *d)
{
	return (char *)f + d->off;
}

static const void *flag_cfield(const struct flags *f, const struct flag_desc *d)
{
	return (const char *)f + d->off;
}

/* FLANNELD_ + name upper-cased, '-' and '.' as '_' (coreos/pkg flagutil). */
static void flag_env_name(const struct flag_desc *d, char *buf, size_t size)
{
	size_t i, n = (size_t)snprintf(buf, size, "FLANNELD_%s", d->name);

	for (i = sizeof("FLANNELD_") - 1; i < n && i < size; i++) {
		if (buf[i] == '-' || buf[i] == '.')
			buf[i] = '_';
		else if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (char)(buf[i] - 'a' + 'A');
	}
}

static const char *origin_text(const struct flag_origin *o, char *buf, size_t size)
{
	switch (o->src) {
	case SRC_CMDLINE:
		return "on the command line";
	case SRC_ENV:
		snprintf(buf, size, "from %s", o->env);
		return buf;
	default:
		return "in the built-in defaults";
	}
}

/* Go's strconv.underscoreOK: '_' only between digits (or after a base prefix). */
static bool underscore_ok(const char *s)
{
	char saw = '^';
	bool hex = false;
	size_t i = 0, n;

	if (*s == '+' || *s == '-')
		s++;
	n = strlen(s);
	if (n >= 2 && s[0] == '0' && strchr("bBoOxX", s[1])) {
		i = 2;
		saw = '0';
		hex = s[1] == 'x' || s[1] == 'X';
	}
	for (; i < n; i++) {
		char c = s[i];

		if ((c >= '0' && c <= '9') ||
		    (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))) {
			saw = '0';
			continue;
		}
		if (c == '_') {
			if (saw != '0')
				return false;
			saw = '_';
			continue;
		}
		if (saw == '_')
			return false;
		saw = '!';
	}
	return saw != '_';
}

/*
 * strconv.ParseInt(s, base, bits) for base 0 or 10: sign, then with base 0 a
 * 0x/0o/0b prefix or a leading 0 for octal, and '_' separators. Returns 0,
 * -EINVAL ("parse error") or -ERANGE ("value out of range").
 */
static int go_parse_int(const char *s0, int base, int bits, int64_t *ret)
{
	const char *s = s0;
	bool neg = false, base0 = base == 0, underscores = false;
	uint64_t n = 0, limit = 1ULL << (bits - 1);

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!*s)
		return -EINVAL;
	if (base0) {
		base = 10;
		if (s[0] == '0') {
			bool three = s[1] && s[2];

			if (three && (s[1] == 'b' || s[1] == 'B')) {
				base = 2;
				s += 2;
			} else if (three && (s[1] == 'o' || s[1] == 'O')) {
				base = 8;
				s += 2;
			} else if (three && (s[1] == 'x' || s[1] == 'X')) {
				base = 16;
				s += 2;
			} else {
				base = 8;
				s += 1;
			}
		}
	}
	for (; *s; s++) {
		unsigned int d;
		char c = *s;

		if (c == '_' && base0) {
			underscores = true;
			continue;
		}
		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'z')
			d = (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'Z')
			d = (unsigned int)(c - 'A' + 10);
		else
			return -EINVAL;
		if (d >= (unsigned int)base)
			return -EINVAL;
		/* Go reports range as soon as the magnitude overflows. */
		if (n > (UINT64_MAX - d) / (unsigned int)base)
			return -ERANGE;
		n = n * (unsigned int)base + d;
	}
	if (underscores && !underscore_ok(s0))
		return -EINVAL;
	if (neg ? n > limit : n >= limit)
		return -ERANGE;
	*ret = neg ? (int64_t)(0 - n) : (int64_t)n;
	return 0;
}

/* Go's strconv.ParseBool. */
static int go_parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i])) {
			*ret = true;
			return 0;
		}
		if (!strcmp(s, no[i])) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int flag_set(struct flags *f, const struct flag_desc *d, const char *value,
		    const struct flag_origin *o, struct err *err)
{
	void *p = flag_field(f, d);
	char where[96];
	int64_t n;
	bool b;
	int r;

	switch (d->type) {
	case FT_STRING:
		free(*(char **)p);
		*(char **)p = xstrdup(value);
		return 0;
	case FT_STRINGS: {
		struct flags_strv *sv = p;

		sv->v = xreallocarray(sv->v, sv->n + 1, sizeof(*sv->v));
		sv->v[sv->n++] = xstrdup(value);
		return 0;
	}
	case FT_BOOL:
		if (go_parse_bool(value, &b) < 0)
			return err_set(err, -EINVAL,
				       "invalid boolean value \"%.64s\" for flag -%s %s: "
				       "parse error (want true/false, t/f or 1/0)",
				       value, d->name, origin_text(o, where, sizeof(where)));
		*(bool *)p = b;
		return 0;
	case FT_INT:
	case FT_LEVEL:
		if (d->type == FT_INT)
			r = go_parse_int(value, 0, 64, &n);
		else
			r = go_parse_int(value, 10, 32, &n);
		if (r == 0 && (n < d->min || n > d->max))
			r = -EDOM;
		if (r < 0)
			return err_set(err, r == -EDOM ? -ERANGE : -EINVAL,
				       "invalid value \"%.64s\" for flag -%s %s: %s (must be an "
				       "integer in %lld..%lld)",
				       value, d->name, origin_text(o, where, sizeof(where)),
				       r == -EDOM     ? "out of range"
				       : r == -ERANGE ? "value out of range"
						      : "parse error",
				       (long long)d->min, (long long)d->max);
		if (d->type == FT_INT)
			*(int64_t *)p = n;
		else
			*(int *)p = (int)n;
		return 0;
	}
	return -EINVAL;
}

static const struct flag_desc *flag_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < FLAG_COUNT; i++)
		if (strlen(flag_table[i].name) == len && !strncmp(flag_table[i].name, name, len))
			return &flag_table[i];
	return NULL;
}

static int apply_defaults(struct flags *f, struct err *err)
{
	const struct flag_origin o = { .src = SRC_DEFAULT };
	int r;

	for (size_t i = 0; i < FLAG_COUNT; i++) {
		const struct flag_desc *d = &flag_table[i];

		if (d->def) {
			r = flag_set(f, d, d->def, &o, err);
			if (r < 0)
				return r;
		} else if (d->type == FT_STRING) {
			*(char **)flag_field(f, d) = xstrdup("");
		}
	}
	return 0;
}

/*
 * Go's FlagSet.parseOne, looped: "-" or a non-flag ends the flags, "--" is
 * consumed and ends them, a bool takes a value only as -flag=value, other
 * flags as -flag=value or -flag value. -h/-help (undefined here, as in Go)
 * ask for usage.
 */
static int parse_args(int argc, char **argv, struct flags *f, bool *set, struct flag_origin *orig,
		      const struct flag_origin *origin, struct err *err)
{
	const struct flag_desc *bare_bool = NULL;
	int i, r;

	for (i = 1; i < argc; i++) {
		const char *s = argv[i], *name, *eq, *value;
		const struct flag_desc *d;
		size_t len;

		if (s[0] != '-' || s[1] == '\0')
			break;
		name = s + 1;
		if (*name == '-') {
			name++;
			if (*name == '\0') {
				i++;
				bare_bool = NULL;
				break;
			}
		}
		if (*name == '\0' || *name == '-' || *name == '=')
			return err_set(err, -EINVAL, "bad flag syntax: %s", s);
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		d = flag_lookup(name, len);
		if (!d) {
			if ((len == 1 && name[0] == 'h') || (len == 4 && !strncmp(name, "help", 4)))
				return FLAGS_HELP;
			return err_set(err, -EINVAL, "flag provided but not defined: -%.*s",
				       (int)len, name);
		}
		bare_bool = NULL;
		if (eq) {
			value = eq + 1;
		} else if (d->type == FT_BOOL) {
			value = "true";
			bare_bool = d;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			return err_set(err, -EINVAL, "flag needs an argument: -%s", d->name);
		}
		r = flag_set(f, d, value, origin, err);
		if (r < 0)
			return r;
		set[d - flag_table] = true;
		orig[d - flag_table] = *origin;
	}
	if (i < argc) {
		bool dummy;

		/* `-ip-masq false` is a classic Go-flag trap: say so. */
		if (bare_bool && go_parse_bool(argv[i], &dummy) == 0)
			return err_set(err, -EINVAL,
				       "unexpected argument \"%.64s\": no positional arguments are "
				       "accepted (a boolean flag takes its value as -%s=%s)",
				       argv[i], bare_bool->name, argv[i]);
		return err_set(err, -EINVAL,
			       "unexpected argument \"%.64s\": no positional arguments are "
			       "accepted",
			       argv[i]);
	}
	return 0;
}

static const char *env_lookup(char **envp, const char *name)
{
	size_t len = strlen(name);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, len) && (*envp)[len] == '=')
			return *envp + len + 1;
	return NULL;
}

static int apply_env(char **envp, struct flags *f, const bool *set, struct flag_origin *orig,
		     struct err *err)
{
	int r;

	for (size_t i = 0; i < FLAG_COUNT; i++) {
		const struct flag_desc *d = &flag_table[i];
		struct flag_origin o = { .src = SRC_ENV };
		const char *value;

		if (set[i] || (d->fl & FF_META))
			continue;
		flag_env_name(d, o.env, sizeof(o.env));
		value = env_lookup(envp, o.env);
		if (!value || !*value)
			continue;
		r = flag_set(f, d, value, &o, err);
		if (r < 0)
			return r;
		orig[i] = o;
	}
	return 0;
}

/*
 * Distribution packages of flanneld (Fedora, CentOS, openSUSE) ship an
 * environment file with FLANNEL_ETCD_ENDPOINTS (older: FLANNEL_ETCD),
 * FLANNEL_ETCD_PREFIX (older: FLANNEL_ETCD_KEY) and FLANNEL_OPTIONS, which
 * their unit's wrapper turns into a command line:
 *   flanneld -etcd-endpoints=$EP -etcd-prefix=$PREFIX $FLANNEL_OPTIONS
 * weftd reads them itself with that precedence: the real command line, then
 * FLANNEL_OPTIONS (split at whitespace, as systemd splits an unbraced $VAR),
 * then the two etcd variables, then FLANNELD_*, then the defaults.
 */
#define FLANNEL_OPTIONS_MAX_WORDS 128

static int apply_flannel_options(const char *value, struct flags *f, bool *set,
				 struct flag_origin *orig, struct err *err)
{
	const struct flag_origin origin = { .src = SRC_ENV, .env = "FLANNEL_OPTIONS" };
	char *copy = xstrdup(value), *save = NULL, *w;
	char *words[FLANNEL_OPTIONS_MAX_WORDS + 1];
	int n = 0, r;

	words[n++] = (char *)"FLANNEL_OPTIONS";
	for (w = strtok_r(copy, " \t\n\r\v\f", &save); w; w = strtok_r(NULL, " \t\n\r\v\f", &save)) {
		if (n > FLANNEL_OPTIONS_MAX_WORDS) {
			r = err_set(err, -E2BIG, "FLANNEL_OPTIONS: more than %d words",
				    FLANNEL_OPTIONS_MAX_WORDS);
			goto out;
		}
		words[n++] = w;
	}
	r = parse_args(n, words, f, set, orig, &origin, err);
	if (r == FLAGS_HELP)
		r = err_set(err, -EINVAL, "FLANNEL_OPTIONS: -h/-help is not an option to keep "
			    "in an environment file");
	else if (r < 0) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		r = err_set(err, r, "FLANNEL_OPTIONS: %s", msg);
	}
out:
	free(copy);
	return r;
}

static int apply_distro_etcd(char **envp, const char *flag, const char *var, const char *older,
			     struct flags *f, bool *set, struct flag_origin *orig, struct err *err)
{
	const struct flag_desc *d = flag_lookup(flag, strlen(flag));
	struct flag_origin o = { .src = SRC_ENV };
	const char *value = env_lookup(envp, var);
	int r;

	if (set[d - flag_table])
		return 0;
	snprintf(o.env, sizeof(o.env), "%s", var);
	if (!value || !*value) {
		value = env_lookup(envp, older);
		snprintf(o.env, sizeof(o.env), "%s", older);
	}
	if (!value || !*value)
		return 0;
	r = flag_set(f, d, value, &o, err);
	if (r < 0)
		return r;
	set[d - flag_table] = true;
	orig[d - flag_table] = o;
	return 0;
}

static int apply_distro_env(int argc, char **argv, char **envp, struct flags *f, bool *set,
			    struct flag_origin *orig, struct err *err)
{
	const struct flag_origin cmdline = { .src = SRC_CMDLINE };
	const char *opts = env_lookup(envp, "FLANNEL_OPTIONS");
	int r;

	if (opts && opts[strspn(opts, " \t\n\r\v\f")]) {
		/* Start again: FLANNEL_OPTIONS first, the command line over it. */
		flags_free(f);
		memset(f, 0, sizeof(*f));
		memset(set, 0, FLAG_COUNT * sizeof(*set));
		memset(orig, 0, FLAG_COUNT * sizeof(*orig));
		r = apply_defaults(f, err);
		if (r < 0)
			return r;
		r = apply_flannel_options(opts, f, set, orig, err);
		if (r < 0)
			return r;
		r = parse_args(argc, argv, f, set, orig, &cmdline, err);
		if (r != 0)
			return r < 0 ? r : -EINVAL;
	}
	r = apply_distro_etcd(envp, "etcd-endpoints", "FLANNEL_ETCD_ENDPOINTS", "FLANNEL_ETCD", f,
			      set, orig, err);
	if (r < 0)
		return r;
	return apply_distro_etcd(envp, "etcd-prefix", "FLANNEL_ETCD_PREFIX", "FLANNEL_ETCD_KEY", f,
				 set, orig, err);
}

static const struct flag_origin *origin_of(const struct flag_origin *orig, const char *name)
{
	return &orig[flag_lookup(name, strlen(name)) - flag_table];
}

/* Checks between flags; each flag's own range was checked as it was set. */
static int validate(const struct flags *f, const struct flag_origin *orig, struct err *err)
{
	char w1[96], w2[96];
	enum log_format lf;

	if (log_format_parse(f->log_format, &lf) < 0)
		return err_set(err, -EINVAL,
			       "invalid value \"%.64s\" for flag -log-format %s: want text or klog",
			       f->log_format,
			       origin_text(origin_of(orig, "log-format"), w1, sizeof(w1)));
	if (f->etcd_password[0] && f->etcd_password_file[0])
		return err_set(err, -EINVAL,
			       "flags -etcd-password (%s) and -etcd-password-file (%s) are both "
			       "set: give the password one way",
			       origin_text(origin_of(orig, "etcd-password"), w1, sizeof(w1)),
			       origin_text(origin_of(orig, "etcd-password-file"), w2, sizeof(w2)));
	/* One listener cannot be both: /metrics and /status must not ride on the
	 * health port, which is open to the whole network by default. */
	if (f->metrics_port && f->metrics_port == f->healthz_port)
		return err_set(err, -EINVAL,
			       "flag -metrics-port %lld (%s) equals -healthz-port (%s): "
			       "/metrics and /status need a port of their own",
			       (long long)f->metrics_port,
			       origin_text(origin_of(orig, "metrics-port"), w1, sizeof(w1)),
			       origin_text(origin_of(orig, "healthz-port"), w2, sizeof(w2)));
	return 0;
}

int flags_parse(int argc, char **argv, char **envp, struct flags *ret, struct err *err)
{
	const struct flag_origin cmdline = { .src = SRC_CMDLINE };
	struct flag_origin orig[FLAG_COUNT] = { 0 };
	bool set[FLAG_COUNT] = { false };
	int r;

	memset(ret, 0, sizeof(*ret));
	r = apply_defaults(ret, err);
	if (r < 0)
		goto out;
	r = parse_args(argc, argv, ret, set, orig, &cmdline, err);
	if (r != 0)
		goto out;
	/* flanneld checks --version before reading FLANNELD_*. */
	if (ret->version) {
		r = FLAGS_VERSION;
		goto out;
	}
	r = apply_distro_env(argc, argv, envp ? envp : environ, ret, set, orig, err);
	if (r < 0)
		goto out;
	r = apply_env(envp ? envp : environ, ret, set, orig, err);
	if (r < 0)
		goto out;
	r = validate(ret, orig, err);
	if (r == 0 && ret->etcd_password_file[0]) {
		char *pw = NULL;

		r = secret_file_read("-etcd-password-file", ret->etcd_password_file, &pw, err);
		if (r == 0) {
			free(ret->etcd_password);
			ret->etcd_password = pw;
		}
	}
out:
	if (r < 0)
		flags_free(ret);
	return r;
}

/* The zero values Go's PrintDefaults leaves out. */
static bool def_is_zero(const char *def)
{
	return !def || !strcmp(def, "") || !strcmp(def, "0") || !strcmp(def, "false");
}

/* Laid out like Go's flag.PrintDefaults, in table order. */
void flags_usage(FILE *out, const char *progname)
{
	static const char *const type_names[] = {
		[FT_STRING] = "string", [FT_STRINGS] = "value", [FT_BOOL] = "",
		[FT_INT] = "int",	[FT_LEVEL] = "value",
	};

	fprintf(out, "Usage: %s [OPTION]...\n", progname);
	for (size_t i = 0; i < FLAG_COUNT; i++) {
		const struct flag_desc *d = &flag_table[i];
		const char *type = d->metavar ? d->metavar : type_names[d->type];
		int n;

		if (d->fl & FF_HIDDEN)
			continue;
		n = fprintf(out, "  -%s%s%s", d->name, *type ? " " : "", type);
		fputs(n <= 4 ? "\t" : "\n    \t", out);
		fputs(d->help, out);
		if (!def_is_zero(d->def)) {
			if (d->type == FT_STRING)
				fprintf(out, " (default \"%s\")", d->def);
			else
				fprintf(out, " (default %s)", d->def);
		}
		fputc('\n', out);
	}
	fputs("\nFlags may be written -flag or --flag, with -flag=value or -flag value (booleans\n"
	      "only -flag=value). Any flag not given on the command line is read from the\n"
	      "environment as FLANNELD_<NAME>, upper-cased with '-' and '.' as '_'\n"
	      "(e.g. FLANNELD_ETCD_PREFIX); empty values are ignored. Distribution\n"
	      "environment files work too: FLANNEL_OPTIONS (flags, split at whitespace;\n"
	      "the command line wins over them), then FLANNEL_ETCD_ENDPOINTS (or\n"
	      "FLANNEL_ETCD) and FLANNEL_ETCD_PREFIX (or FLANNEL_ETCD_KEY), both over\n"
	      "FLANNELD_*.\n",
	      out);
}

struct sbuf {
	char *s;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3))) sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
}

char *flags_describe(const struct flags *f)
{
	struct sbuf b = { .s = xmalloc(256), .cap = 256 };

	b.s[0] = '\0';
	for (size_t i = 0; i < FLAG_COUNT; i++) {
		const struct flag_desc *d = &flag_table[i];
		const void *p = flag_cfield(f, d);
		const char *sep = b.len ? " " : "";

		if (d->fl & FF_META)
			continue;
		switch (d->type) {
		case FT_STRING: {
			const char *s = *(char *const *)p ? *(char *const *)p : "";

			if ((d->fl & FF_SECRET) && *s)
				s = "<hidden>";
			sbuf_printf(&b, "%s%s=%s", sep, d->name, s);
			break;
		}
		case FT_STRINGS: {
			const struct flags_strv *sv = p;

			sbuf_printf(&b, "%s%s=[", sep, d->name);
			for (size_t j = 0; j < sv->n; j++)
				sbuf_printf(&b, "%s%s", j ? "," : "", sv->v[j]);
			sbuf_printf(&b, "]");
			break;
		}
		case FT_BOOL:
			sbuf_printf(&b, "%s%s=%s", sep, d->name,
				    *(const bool *)p ? "true" : "false");
			break;
		case FT_INT:
			sbuf_printf(&b, "%s%s=%lld", sep, d->name, (long long)*(const int64_t *)p);
			break;
		case FT_LEVEL:
			sbuf_printf(&b, "%s%s=%d", sep, d->name, *(const int *)p);
			break;
		}
	}
	return b.s;
}

void flags_free(struct flags *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < FLAG_COUNT; i++) {
		const struct flag_desc *d = &flag_table[i];
		void *p = flag_field(f, d);

		if (d->type == FT_STRING) {
			char *str = *(char **)p;

			if (str && (d->fl & FF_SECRET))
				explicit_bzero(str, strlen(str));
			free(str);
		} else if (d->type == FT_STRINGS) {
			struct flags_strv *sv = p;

			for (size_t j = 0; j < sv->n; j++)
				free(sv->v[j]);
			free(sv->v);
		}
	}
	memset(f, 0, sizeof(*f));
}
