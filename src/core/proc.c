// SPDX-License-Identifier: Apache-2.0
/*
 * A child process with bounded time and output. The child's exit is watched
 * through a pidfd (or, on kernels before 5.3, by looking every PROC_TICK_MS),
 * so that neither a child that closes its output and hangs nor a grandchild
 * that keeps the output open can hold the caller past the deadline. The
 * child is reaped only once we are done with its pid: until then the pid
 * cannot name another process, and a kill by pid hits our child or nothing.
 */
#include "core/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"

extern char **environ;

#define PROC_TICK_MS  20
#define PROC_CHUNK    4096
#define PROC_BATCH    (64u << 10) /* read per wake-up, so that the deadline is seen */
#define PROC_LEFTOVER 16          /* batches read after the exit (a full pipe is 1 MiB) */

/*
 * The child: stdin, stdout and stderr from in, out and errfd (each >= 3, so
 * that no dup2 overwrites another), nothing else open, no signal blocked and
 * SIGPIPE at its default (the daemon blocks what its loop reads from a
 * signalfd and ignores SIGPIPE; none of it is the tool's). glibc's
 * posix_spawn clones with CLONE_VM | CLONE_VFORK: no copy of our page tables
 * (fork cost about 0.6 ms more per run on the test machine), and an exec
 * that fails comes back as its errno, the child already reaped. 0 or a
 * positive errno.
 */
static int spawn(const struct proc_spec *s, int in, int out, int errfd, pid_t *pid)
{
	union {
		const char *const *c;
		char *const *v;
	} args = { .c = s->argv }, env = { .c = s->envp };
	int fds[3] = { in, out, errfd }, r;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;

	if ((r = posix_spawn_file_actions_init(&fa)) != 0)
		return r;
	if ((r = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return r;
	}
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	for (int i = 0; i < 3 && r == 0; i++)
		r = posix_spawn_file_actions_adddup2(&fa, fds[i], i);
	if (r == 0)
		r = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (r == 0)
		r = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (r == 0)
		r = posix_spawnattr_setsigmask(&at, &none);
	if (r == 0)
		r = posix_spawnattr_setsigdefault(&at, &dfl);
	if (r == 0)
		r = posix_spawn(pid, s->argv[0], &fa, &at, args.v, s->envp ? env.v : environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return r;
}

/* *fd moved to a descriptor >= 3 (close-on-exec), for spawn. */
static int fd_above_stdio(int *fd)
{
	int n;

	if (*fd >= 3)
		return 0;
	n = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (n < 0)
		return -errno;
	close(*fd);
	*fd = n;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

/*
 * Read what there is into b (NULL: drop it), at most PROC_BATCH. 0: nothing
 * more for now, or EOF (*fd is then closed); 1: the batch is used up;
 * -E2BIG past b's bound; -errno.
 */
static int drain(int *fd, struct buf *b)
{
	char chunk[PROC_CHUNK];
	size_t got = 0;
	ssize_t n;

	while (got < PROC_BATCH) {
		n = read(*fd, chunk, sizeof(chunk));
		if (n > 0) {
			got += (size_t)n;
			if (b && buf_append(b, chunk, (size_t)n) < 0)
				return -E2BIG;
			continue;
		}
		if (n == 0) {
			close_fd(fd);
			return 0;
		}
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? 0 : -errno;
	}
	return 1;
}

/* Once the child has exited, what it wrote is in the pipe: take that, but
 * not what a grandchild may go on writing. */
static int drain_leftover(int *fd, struct buf *b)
{
	int rc = 1;

	for (int i = 0; i < PROC_LEFTOVER && *fd >= 0 && rc == 1; i++)
		rc = drain(fd, b);
	return rc < 0 ? rc : 0;
}

static void send_some(int *fd, const struct proc_spec *s, size_t *off)
{
	ssize_t w = send(*fd, s->in + *off, s->inlen - *off, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (w > 0)
		*off += (size_t)w;
	/* EPIPE: the child stopped reading; its exit status says why. */
	if ((w < 0 && errno != EAGAIN && errno != EINTR) || *off == s->inlen)
		close_fd(fd);
}

int proc_run(const struct proc_spec *s)
{
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, pidfd = -1;
	int rc = 0, status = 0, r;
	size_t off = 0;
	int64_t deadline = 0;
	pid_t pid = -1;

	if (!s->argv || !s->argv[0] || (s->timeout_ms <= 0 && s->timeout_ms != PROC_NO_TIMEOUT))
		return -EINVAL;
	if (s->cancel_fd >= 0 && readable(s->cancel_fd))
		return -ECANCELED;
	/* A socket as stdin: MSG_NOSIGNAL instead of a SIGPIPE when the child
	 * exits without reading everything. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, inp) < 0 ||
	    pipe2(outp, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(errp, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = -errno;
		goto out;
	}
	/* The child's ends must block: not every tool copes with EAGAIN. */
	if (fcntl(outp[1], F_SETFL, 0) < 0 || fcntl(errp[1], F_SETFL, 0) < 0) {
		rc = -errno;
		goto out;
	}
	if ((r = fd_above_stdio(&inp[1])) < 0 || (r = fd_above_stdio(&outp[1])) < 0 ||
	    (r = fd_above_stdio(&errp[1])) < 0) {
		rc = r;
		goto out;
	}
	if (s->timeout_ms > 0)
		deadline = clock_now_ms() + s->timeout_ms;
	r = spawn(s, inp[1], outp[1], errp[1], &pid);
	if (r != 0) {
		pid = -1;
		if (r == ENOMEM || r == EAGAIN) {
			rc = -r; /* no child at all */
			goto out;
		}
		/* The program could not be executed: what a child that failed
		 * its exec would have told, 127 (or the errno when asked). */
		if (s->wait_status)
			*s->wait_status = 127 << 8;
		rc = s->exec_errno ? -r : 127;
		goto out;
	}
	close_fd(&inp[1]);
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	if (!s->in || s->inlen == 0)
		close_fd(&inp[0]);
	pidfd = pidfd_open(pid, 0); /* -1: look for the exit every PROC_TICK_MS */

	for (;;) {
		struct pollfd pfd[5];
		int n = 0, i_in = -1, i_out = -1, i_err = -1, i_pid = -1, i_cancel = -1;
		int timeout = -1;
		pid_t w;

		if (s->timeout_ms > 0) {
			int64_t left = deadline - clock_now_ms();

			if (left <= 0) {
				rc = -ETIMEDOUT;
				goto out;
			}
			timeout = (int)left; /* <= timeout_ms */
		}
		if (inp[0] >= 0) {
			i_in = n;
			pfd[n++] = (struct pollfd){ .fd = inp[0], .events = POLLOUT };
		}
		if (outp[0] >= 0) {
			i_out = n;
			pfd[n++] = (struct pollfd){ .fd = outp[0], .events = POLLIN };
		}
		if (errp[0] >= 0) {
			i_err = n;
			pfd[n++] = (struct pollfd){ .fd = errp[0], .events = POLLIN };
		}
		if (pidfd >= 0) {
			i_pid = n;
			pfd[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		}
		if (s->cancel_fd >= 0) {
			i_cancel = n;
			pfd[n++] = (struct pollfd){ .fd = s->cancel_fd, .events = POLLIN };
		}
		if (pidfd < 0 && (timeout < 0 || timeout > PROC_TICK_MS))
			timeout = PROC_TICK_MS;
		r = poll(pfd, (nfds_t)n, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (i_cancel >= 0 && pfd[i_cancel].revents) {
			rc = -ECANCELED;
			goto out;
		}
		if (i_in >= 0 && pfd[i_in].revents)
			send_some(&inp[0], s, &off);
		if (i_out >= 0 && pfd[i_out].revents && (rc = drain(&outp[0], s->out)) < 0)
			goto out;
		if (i_err >= 0 && pfd[i_err].revents && (rc = drain(&errp[0], s->err)) < 0)
			goto out;
		if (i_pid >= 0 && !pfd[i_pid].revents)
			continue;
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			/* ECHILD: reaped behind our back (SIGCHLD ignored). */
			rc = -errno;
			pid = -1;
			goto out;
		}
	}
	pid = -1; /* reaped */
	if (s->wait_status)
		*s->wait_status = status;
	if ((rc = drain_leftover(&outp[0], s->out)) < 0 ||
	    (rc = drain_leftover(&errp[0], s->err)) < 0)
		goto out;
	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else
		rc = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
out:
	if (pid > 0) {
		/* Our own child, not yet reaped: the pid is still its. */
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (s->wait_status)
			*s->wait_status = status;
	}
	close_fd(&pidfd);
	close_fd(&inp[0]);
	close_fd(&inp[1]);
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	return rc;
}
