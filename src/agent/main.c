// SPDX-License-Identifier: Apache-2.0
/*
 * weftd: the flanneld-compatible agent. Wiring only; the work lives in the
 * modules.
 *
 * Exit codes (flanneld's, flannel.md §10.3):
 *   0  --version, --help/-h, or a clean shutdown after SIGTERM/SIGINT
 *   1  bad flags or FLANNELD_* environment, or any start-up failure
 * A second SIGTERM/SIGINT during shutdown kills the process at once (the
 * handlers are removed on the first one, restoring the default action).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/flags.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"

#define PROGNAME "weftd"

struct weftd {
	struct flags flags;
	struct loop *loop;
	int64_t start_timer;
	int exit_code;
};

static void on_signal(struct loop *loop, int signo, void *arg)
{
	struct weftd *w = arg;

	log_info("Received SIG%s, shutting down", sigabbrev_np(signo));
	/* Unregistered, so that a second signal takes the default action. */
	loop_del_signal(loop, SIGTERM);
	loop_del_signal(loop, SIGINT);
	if (w->start_timer > 0)
		loop_del_timer(loop, w->start_timer);
	w->exit_code = 0;
	loop_stop(loop);
}

/* The next start-up steps (subnet manager, backend) hang off this timer. */
static int64_t start(struct loop *loop, int64_t id, void *arg)
{
	struct weftd *w = arg;

	(void)id;
	w->start_timer = 0;
	log_error("%s subnet manager not available in this build",
		  w->flags.kube_subnet_mgr ? "kube" : "etcd");
	w->exit_code = 1;
	loop_stop(loop);
	return LOOP_TIMER_STOP;
}

static int setup(struct weftd *w)
{
	char *desc;
	int r;

	desc = flags_describe(&w->flags);
	log_info("weftd %s starting: %s", WEFT_VERSION, desc);
	free(desc);
	if (w->flags.vmodule[0])
		log_debug("-vmodule=%s is accepted for compatibility and ignored",
			  w->flags.vmodule);
	if (w->flags.log_backtrace_at[0])
		log_debug("-log_backtrace_at=%s is accepted for compatibility and ignored",
			  w->flags.log_backtrace_at);

	r = loop_new(&w->loop);
	if (r < 0) {
		log_error_errno(r, "Failed to create the event loop");
		return r;
	}
	log_info("Installing signal handlers");
	r = loop_add_signal(w->loop, SIGTERM, on_signal, w);
	if (r == 0)
		r = loop_add_signal(w->loop, SIGINT, on_signal, w);
	if (r < 0) {
		log_error_errno(r, "Failed to install signal handlers");
		return r;
	}
	w->start_timer = loop_add_timer(w->loop, 0, start, w);
	if (w->start_timer < 0) {
		r = (int)w->start_timer;
		log_error_errno(r, "Failed to schedule start-up");
		return r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct weftd w = { .exit_code = 1 };
	struct err err = { { 0 } };
	int r;

	r = flags_parse(argc, argv, NULL, &w.flags, &err);
	if (r < 0) {
		fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", PROGNAME,
			err.msg, PROGNAME);
		goto out;
	}
	if (r == FLAGS_VERSION) {
		/* flanneld prints its version to stderr too. */
		fprintf(stderr, "%s %s\n", PROGNAME, WEFT_VERSION);
		w.exit_code = 0;
		goto out;
	}
	if (r == FLAGS_HELP) {
		flags_usage(stdout, PROGNAME);
		w.exit_code = 0;
		goto out;
	}

	log_init(w.flags.v, PROGNAME);
	if (setup(&w) < 0)
		goto out;
	r = loop_run(w.loop);
	if (r < 0) {
		log_error_errno(r, "Event loop failed");
		w.exit_code = 1;
	}
	if (w.exit_code == 0)
		log_info("Exiting cleanly...");
out:
	loop_free(w.loop);
	flags_free(&w.flags);
	return w.exit_code;
}
