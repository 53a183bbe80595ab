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

#include "core/version.h"
#include "agent/agent.h"
#include "agent/flags.h"
#include "core/err.h"
#include "core/log.h"

#define PROGNAME "weftd"

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
	int r, code = 1;

	/* A peer that resets a TLS connection must yield EPIPE, not kill us:
	 * OpenSSL writes with write(), not send(MSG_NOSIGNAL). Children get
	 * SIGPIPE back (core/proc.c child_exec). */
	signal(SIGPIPE, SIG_IGN);
	r = flags_parse(argc, argv, NULL, &flags, &err);
	if (r < 0) {
		fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", PROGNAME,
			err.msg, PROGNAME);
		goto out;
	}
	if (r == FLAGS_VERSION) {
		/* flanneld prints its version to stderr too. */
		fprintf(stderr, "%s %s\n", PROGNAME, weft_version);
		code = 0;
		goto out;
	}
	if (r == FLAGS_HELP) {
		flags_usage(stdout, PROGNAME);
		code = 0;
		goto out;
	}
	/* Fixed thresholds: large transient buffers (lease listings, kernel dumps)
	 * come from mmap and go back to the kernel when freed, instead of glibc
	 * raising the threshold and keeping them in the heap for good. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024);
	log_init(flags.v, PROGNAME);
	log_startup(&flags);
	code = agent_run(&flags);
out:
	flags_free(&flags);
	return code;
}
