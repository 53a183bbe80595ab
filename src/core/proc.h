/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_PROC_H
#define WEFT_CORE_PROC_H

/*
 * One run of a helper program (the iptables tools), bounded in time and
 * output: fork + exec of a full path, never a shell. The call blocks its
 * thread until the child is reaped, so the daemon makes it on a worker thread
 * (core/worker.h), never on the control loop.
 */
#include <stddef.h>

#include "core/buf.h"

struct proc_spec {
	const char *const *argv; /* argv[0] is a full path; NULL-terminated */
	const char *in;          /* fed on stdin (a socket); NULL: stdin at EOF */
	size_t inlen;
	struct buf *out, *err;   /* stdout, stderr, each bounded by its buf; NULL: dropped */
	int timeout_ms;          /* > 0: the child is killed after this long */
	int cancel_fd;           /* -1, or an fd whose readability stops the run */
};

/*
 * Returns the exit status (0-255; 127 when the program could not be
 * executed; 128 + N when signal N ended it), or -errno: -ETIMEDOUT after
 * timeout_ms, -ECANCELED once cancel_fd is readable (checked before the fork
 * too), -E2BIG when stdout or stderr outgrew its buffer. In those three cases
 * the child, our own and only that one (by pid), is killed with SIGKILL.
 * Every child is reaped before return. The run ends when the child has
 * exited: output still held open by a grandchild is read as far as it was
 * written, then left alone. A child that does not read all of stdin is fine
 * (no SIGPIPE; the exit status tells).
 */
int proc_run(const struct proc_spec *spec);

#endif
