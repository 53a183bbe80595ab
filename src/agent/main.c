// SPDX-License-Identifier: Apache-2.0
/*
 * weftd: the flanneld-compatible agent. Wiring only; the work lives in the
 * modules.
 *
 * Exit codes (flanneld's, flannel.md §10.3):
 *   0  --version, --help/-h, a clean shutdown after SIGTERM/SIGINT, or our
 *      lease was revoked (deleted from etcd by someone else)
 *   1  bad flags or FLANNELD_* environment, or any start-up failure
 * A second SIGTERM/SIGINT during shutdown kills the process at once (the
 * handlers are removed on the first one, restoring the default action).
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/version.h"
#include "agent/agent.h"
#include "agent/flags.h"
#include "core/err.h"
#include "core/log.h"

#define PROGNAME "weftd"

/*
 * The name we were run as, without directories: "flanneld" when installed
 * under upstream's name. It names us in --help's usage line (flanneld prints
 * its argv[0] there), in flag errors and in the text log format; --version
 * and the start-up line always say weftd.
 */
static const char *prog_name(const char *argv0)
{
	const char *slash;

	if (!argv0 || !*argv0)
		return PROGNAME;
	slash = strrchr(argv0, '/');
	if (slash)
		argv0 = slash + 1;
	return *argv0 ? argv0 : PROGNAME;
}

static void log_startup(const struct flags *f)
{
	char *desc = flags_describe(f);

	log_info("weftd %s starting: %s", weft_version, desc);
	free(desc);
	if (f->vmodule[0])
		log_debug("-vmodule=%s is accepted for compatibility and ignored", f->vmodule);
	if (f->log_backtrace_at[0])
		log_debug("-log_backtrace_at=%s is accepted for compatibility and ignored",
			  f->log_backtrace_at);
}

int main(int argc, char **argv)
{
	struct flags flags;
	struct err err = { { 0 } };
	const char *prog = prog_name(argc > 0 ? argv[0] : NULL);
	enum log_format log_format = LOG_FORMAT_TEXT;
	int r, code = 1;

	/* A peer that resets a TLS connection must yield EPIPE, not kill us:
	 * OpenSSL writes with write(), not send(MSG_NOSIGNAL). Children get
	 * SIGPIPE back (core/proc.c child_exec). */
	signal(SIGPIPE, SIG_IGN);
	r = flags_parse(argc, argv, NULL, &flags, &err);
	if (r < 0) {
		fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", prog, err.msg,
			prog);
		goto out;
	}
	if (r == FLAGS_VERSION) {
		/* flanneld prints its version to stderr too. */
		fprintf(stderr, "%s %s\n", PROGNAME, weft_version);
		code = 0;
		goto out;
	}
	if (r == FLAGS_HELP) {
		flags_usage(stdout, prog);
		code = 0;
		goto out;
	}
	/* Fixed thresholds: large transient buffers (lease listings, kernel dumps)
	 * come from mmap and go back to the kernel when freed, instead of glibc
	 * raising the threshold and keeping them in the heap for good. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024);
	/* flags_parse checked the name. */
	log_format_parse(flags.log_format, &log_format);
	log_set_format(log_format);
	log_init(flags.v, prog);
	log_startup(&flags);
	code = agent_run(&flags);
out:
	flags_free(&flags);
	return code;
}
