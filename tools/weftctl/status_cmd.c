// SPDX-License-Identifier: Apache-2.0
/*
 * weftctl status: ask a running weftd for its state through the metrics
 * listener's /status (src/agent/status.c) and print it for people. One
 * request through weft's own HTTP client on a private loop, run until the
 * request completes or times out. The answer is treated as untrusted input
 * (bounded, types checked, control characters not echoed): any HTTP server
 * may sit on that port.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "http/client.h"
#include "store.h"
#include "weftctl.h"

#define DEFAULT_METRICS "http://127.0.0.1:8082" /* weftd --metrics-port in contrib/ */
#define STATUS_TIMEOUT_MS 5000
#define STATUS_MAX_BODY (64 * 1024)

static void status_usage(FILE *f)
{
	fprintf(f,
		"usage: weftctl status [--json] [--metrics URL|HOST:PORT]\n\n"
		"Show the state of the weftd on this node, read from /status on its metrics\n"
		"listener (weftd --metrics-ip/--metrics-port; not the health port):\n"
		"  Ready           yes once the traffic rules are installed and the subnet\n"
		"                  file is written (what /readyz reports)\n"
		"  Lease           the node's subnet (and IPv6 subnet), 'none' before one\n"
		"                  is held\n"
		"  Public IP, Backend, Interface, MTU\n"
		"  Peers           other nodes' leases known, and those programmed into the\n"
		"                  kernel by the backend\n"
		"  Lease expires   time left on the node's etcd lease, 'never\n"
		"                  (reservation)' for a key without TTL, or 'never (the\n"
		"                  Node's podCIDR)' with --kube-subnet-mgr\n"
		"  etcd watch      whether the watch on the subnet leases is open and\n"
		"                  answering ('Node watch', on the Kubernetes Nodes, with\n"
		"                  --kube-subnet-mgr)\n\n"
		"Options:\n"
		"  --metrics URL|HOST:PORT  where weftd's metrics listener is (default\n"
		"                           " DEFAULT_METRICS ", the port the\n"
		"                           manifests in contrib/ give --metrics-port);\n"
		"                           a HOST:PORT means http://HOST:PORT\n"
		"  --json                   print the daemon's JSON answer unchanged\n\n"
		"The request times out after %d s. Proxy variables (http_proxy ...) are\n"
		"ignored: the metrics listener is a node-local endpoint.\n\n"
		"Exit status: 0 when the daemon is ready; 1 when it answers but is not ready\n"
		"yet, when it cannot be reached or does not answer as weftd does, and on bad\n"
		"usage.\n",
		STATUS_TIMEOUT_MS / 1000);
}

/* ---- the request ---- */

struct body {
	char *p; /* NUL-terminated */
	size_t len;
};

struct fetch {
	struct loop *loop;
	bool done;
	int err;
	long status;
	struct body body;
	char errmsg[256];
};

static void fetch_done(void *arg, int err, long status, const char *body, size_t len,
		       const char *errmsg)
{
	struct fetch *f = arg;

	f->done = true;
	f->err = err;
	f->status = status;
	if (err == 0) {
		f->body.p = xmalloc(len + 1);
		memcpy(f->body.p, body, len);
		f->body.p[len] = '\0';
		f->body.len = len;
	}
	snprintf(f->errmsg, sizeof(f->errmsg), "%s", errmsg ? errmsg : "");
	loop_stop(f->loop);
}

/* Bounds the wait should the client's own timers not fire. */
static int64_t guard_cb(struct loop *loop, int64_t id, void *arg)
{
	(void)id;
	(void)arg;
	loop_stop(loop);
	return LOOP_TIMER_STOP;
}

/* "http://host:port/status" from a URL or HOST:PORT; any path given is replaced. */
static char *status_url(const char *arg)
{
	const char *scheme = strstr(arg, "://");
	const char *host = scheme ? scheme + 3 : arg;
	size_t end = (size_t)(host - arg) + strcspn(host, "/?#");
	char *url;

	if (scheme)
		xasprintf(&url, "%.*s/status", (int)end, arg);
	else
		xasprintf(&url, "http://%.*s/status", (int)end, arg);
	return url;
}

/* GET url; on success *ret_body (NUL-terminated) and the HTTP status. */
static int fetch(const char *url, struct body *ret_body, long *ret_status, struct err *err)
{
	const struct http_opts o = {
		.url = url,
		.timeout_ms = STATUS_TIMEOUT_MS,
		.connect_timeout_ms = STATUS_TIMEOUT_MS,
		.max_body = STATUS_MAX_BODY,
	};
	struct fetch f = { 0 };
	struct http *h = NULL;
	int64_t guard = 0;
	int r;

	r = loop_new(&f.loop);
	if (r < 0)
		return err_set(err, r, "cannot create an event loop: %s", strerror(-r));
	r = http_new(f.loop, &h);
	if (r < 0) {
		err_set(err, r, "cannot set up the HTTP client: %s", strerror(-r));
		goto out;
	}
	r = http_start(h, &o, fetch_done, NULL, &f, NULL);
	if (r < 0) {
		err_set(err, r, "%s: not a valid http:// or https:// URL", url);
		goto out;
	}
	guard = loop_add_timer(f.loop, STATUS_TIMEOUT_MS + 1000, guard_cb, &f);
	if (guard < 0) {
		r = err_set(err, (int)guard, "cannot set a timer: %s", strerror((int)-guard));
		goto out;
	}
	r = loop_run(f.loop);
	if (r < 0) {
		err_set(err, r, "event loop failed: %s", strerror(-r));
		goto out;
	}
	if (!f.done)
		r = err_set(err, -ETIMEDOUT, "cannot reach weftd at %s: no answer in %d s", url,
			    STATUS_TIMEOUT_MS / 1000);
	else if (f.err == -E2BIG)
		r = err_set(err, -E2BIG, "%s: answer larger than %d bytes", url, STATUS_MAX_BODY);
	else if (f.err < 0)
		r = err_set(err, f.err, "cannot reach weftd at %s: %s", url, f.errmsg);
	if (r == 0) {
		*ret_body = f.body;
		*ret_status = f.status;
		f.body.p = NULL;
	}
out:
	if (guard > 0)
		loop_del_timer(f.loop, guard);
	http_free(h); /* cancels the request if it is still in flight */
	loop_free(f.loop);
	free(f.body.p);
	return r;
}

/* ---- the summary ---- */

/* A string field, or NULL when absent, null or not a string. */
static const char *str_field(json_t *j, const char *name)
{
	json_t *v = json_object_get(j, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool int_field(json_t *j, const char *name, json_int_t *ret)
{
	json_t *v = json_object_get(j, name);

	if (!json_is_integer(v))
		return false;
	*ret = json_integer_value(v);
	return true;
}

static void put_line(FILE *f, const char *label, const char *value)
{
	fprintf(f, "%-15s ", label);
	weftctl_put_sanitized(f, value);
	fputc('\n', f);
}

static void print_summary(FILE *f, json_t *j, bool ready)
{
	const char *v4 = str_field(j, "subnet"), *v6 = str_field(j, "ipv6_subnet");
	const char *store = str_field(j, "store"), *s;
	bool kube = store && !strcmp(store, "kube");
	json_int_t n, m, expiry;
	char buf[160], dur[32];

	put_line(f, "Ready:", ready ? "yes" : "no");
	if (v4 && v6)
		snprintf(buf, sizeof(buf), "%s, %s", v4, v6);
	else
		snprintf(buf, sizeof(buf), "%s", v4 ? v4 : v6 ? v6 : "none (no subnet held yet)");
	put_line(f, "Lease:", buf);
	s = str_field(j, "public_ip");
	put_line(f, "Public IP:", s && *s ? s : "-");
	s = str_field(j, "backend");
	if (s && *s && str_field(j, "engine")) {
		snprintf(buf, sizeof(buf), "%s (%s engine)", s, str_field(j, "engine"));
		put_line(f, "Backend:", buf);
	} else {
		put_line(f, "Backend:", s && *s ? s : "-");
	}
	s = str_field(j, "interface");
	put_line(f, "Interface:", s && *s ? s : "-");
	if (int_field(j, "mtu", &n) && n > 0)
		snprintf(buf, sizeof(buf), "%" PRId64, (int64_t)n);
	else
		snprintf(buf, sizeof(buf), "-");
	put_line(f, "MTU:", buf);
	if (!int_field(j, "peers_known", &n))
		n = 0;
	if (!int_field(j, "peers_programmed", &m))
		m = 0;
	snprintf(buf, sizeof(buf), "%" PRId64 " known, %" PRId64 " programmed", (int64_t)n,
		 (int64_t)m);
	put_line(f, "Peers:", buf);
	if (!v4 && !v6) {
		snprintf(buf, sizeof(buf), "-");
	} else if (kube) {
		snprintf(buf, sizeof(buf), "never (the Node's podCIDR)");
	} else if (!int_field(j, "lease_expiry", &expiry) || expiry <= 0) {
		snprintf(buf, sizeof(buf), "never (reservation)");
	} else {
		int64_t left = (int64_t)expiry - (int64_t)time(NULL);

		weftctl_format_duration(left < 0 ? -left : left, dur, sizeof(dur));
		snprintf(buf, sizeof(buf), left >= 0 ? "in %s" : "%s ago (not renewed)", dur);
	}
	put_line(f, "Lease expires:", buf);
	put_line(f, kube ? "Node watch:" : "etcd watch:",
		 json_is_true(json_object_get(j, "watch_healthy")) ? "healthy" : "not healthy");
	s = str_field(j, "version");
	if (s)
		put_line(f, "Version:", s);
}

int cmd_status(int argc, char **argv)
{
	const char *metrics = DEFAULT_METRICS, *healthz = NULL;
	bool json = false, ready;
	const struct cmd_opt opts[] = {
		{.name = "metrics", .val = &metrics},
		{.name = "healthz", .val = &healthz}, /* gone: refused with a pointer */
		{.name = "json", .flag = &json},
		{0},
	};
	struct body body = {0};
	struct err err = {{0}};
	json_error_t jerr;
	json_t *j = NULL, *jr;
	char **pos = xcalloc((size_t)argc + 1, sizeof(*pos));
	char *url = NULL;
	long status = 0;
	int npos = 0, r;

	r = store_args_parse(argc, argv, opts, NULL, pos, &npos, &err);
	if (r == 1) {
		status_usage(stdout);
		r = 0;
		goto out;
	}
	if (r == 0 && npos > 0)
		r = err_set(&err, -EINVAL, "unexpected argument '%s'", pos[0]);
	if (r == 0 && healthz)
		r = err_set(&err, -EINVAL,
			    "--healthz is gone: /status moved from weftd's health port to its "
			    "metrics listener (weftd --metrics-port); use --metrics");
	if (r == 0 && !*metrics)
		r = err_set(&err, -EINVAL, "--metrics: empty address");
	if (r < 0) {
		fprintf(stderr, "weftctl: status: %s\n", err.msg);
		fprintf(stderr, "Run 'weftctl status --help' for usage.\n");
		goto out;
	}
	url = status_url(metrics);
	r = fetch(url, &body, &status, &err);
	if (r < 0) {
		fprintf(stderr, "weftctl: status: %s\n", err.msg);
		goto out;
	}
	if (status != 200) {
		fprintf(stderr, "weftctl: status: %s: HTTP %ld%s\n", url, status,
			status == 404 ? " (not weftd's metrics listener? /status is on weftd "
					"--metrics-port, not the health port; flanneld has none)"
				      : "");
		r = -EPROTO;
		goto out;
	}
	j = json_loadb(body.p, body.len, 0, &jerr);
	jr = j ? json_object_get(j, "ready") : NULL;
	if (!json_is_object(j) || !json_is_boolean(jr)) {
		fprintf(stderr, "weftctl: status: %s: not a weftd status answer", url);
		if (!j) {
			fputs(": ", stderr);
			weftctl_put_sanitized(stderr, jerr.text);
		}
		fputc('\n', stderr);
		r = -EPROTO;
		goto out;
	}
	ready = json_is_true(jr);
	if (json)
		fwrite(body.p, 1, body.len, stdout);
	else
		print_summary(stdout, j, ready);
	if (!ready) {
		fprintf(stderr, "weftctl: status: weftd at %s is not ready\n", url);
		r = -EAGAIN;
	}
out:
	json_decref(j);
	free(body.p);
	free(url);
	free(pos);
	return r;
}
