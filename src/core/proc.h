/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_PROC_H
#define WEFT_CORE_PROC_H

/*
 * One run of a helper program (the daemon's iptables tools, the CNI plugin's
 * delegate), bounded in output and, unless told otherwise, in time:
 * posix_spawn of a full path, never a shell. The call blocks its thread until the
 * child is reaped, so the daemon makes it on a worker thread (core/worker.h),
 * never on the control loop.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define PROC_NO_TIMEOUT (-1)

/* The fields after cancel_fd keep today's behaviour when zero or NULL, so a
 * designated initialiser that leaves them out asks for none of it. */
struct proc_spec {
	const char *const *argv; /* argv[0] is a full path; NULL-terminated */
	const char *in;          /* fed on stdin (a socket); NULL: stdin at EOF */
	size_t inlen;
	struct buf *out, *err;   /* stdout, stderr, each bounded by its buf; NULL: dropped */
	int timeout_ms;          /* > 0: the child is killed after this long;
				  * PROC_NO_TIMEOUT: no deadline */
	int cancel_fd;           /* -1, or an fd whose readability stops the run */
	const char *const *envp; /* the child's environment; NULL: ours */
	bool exec_errno;         /* a failed exec returns -errno, not 127 */
	int *wait_status;        /* NULL, or gets waitpid()'s status of the reaped child */
};

/*
 * Returns the exit status (0-255; 127 when the program could not be
 * executed; 128 + N when signal N ended it), or -errno: -ETIMEDOUT after
 * timeout_ms, -ECANCELED once cancel_fd is readable (checked before the spawn
 * too), -E2BIG when stdout or stderr outgrew its buffer. In those three cases
 * the child, our own and only that one (by pid), is killed with SIGKILL.
 * With exec_errno, a child that could not exec (execve or the set-up before
 * it failed) makes it -errno of that failure (-ENOENT, -EACCES, -ETXTBSY...),
 * without it 127 (*wait_status as of an exit with 127); the wait for the exec
 * is not bounded by timeout_ms. Every child is reaped
 * before return (*wait_status is set then, whatever ended the child). The run
 * ends when the child has exited: output still held open by a grandchild is
 * read as far as it was written, then left alone. A child that does not read
 * all of stdin is fine (no SIGPIPE; the exit status tells).
 */
int proc_run(const struct proc_spec *spec);

#endif
