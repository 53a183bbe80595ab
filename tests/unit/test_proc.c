// SPDX-License-Identifier: Apache-2.0
/*
 * core/proc: real children (/bin/sh, /bin/cat, /bin/sleep), each run bounded.
 * Where a test needs to know that a child is gone, the child prints its pid
 * first (`exec` keeps it the same) and the test asks the kernel afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/proc.h"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run `sh -c script` with a 10 s limit unless timeout_ms says otherwise. */
static int sh(const char *script, const char *in, size_t inlen, struct buf *out, struct buf *err,
	      int timeout_ms, int cancel_fd)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct proc_spec s = {
		.argv = argv,
		.in = in,
		.inlen = inlen,
		.out = out,
		.err = err,
		.timeout_ms = timeout_ms ? timeout_ms : 10000,
		.cancel_fd = cancel_fd,
	};

	return proc_run(&s);
}

/* The pid a child printed on its first line is no process any more. */
static void assert_gone(const struct buf *out)
{
	long pid;

	assert_non_null(out->data);
	pid = strtol(out->data, NULL, 10);
	assert_true(pid > 1);
	assert_int_equal(kill((pid_t)pid, 0), -1);
	assert_int_equal(errno, ESRCH);
}

static void test_status_and_output(void **state)
{
	struct buf out, err;

	(void)state;
	buf_init(&out, 4096);
	buf_init(&err, 4096);
	assert_int_equal(sh("echo out; echo err >&2; exit 3", NULL, 0, &out, &err, 0, -1), 3);
	assert_string_equal(out.data, "out\n");
	assert_string_equal(err.data, "err\n");
	/* Output not wanted: dropped. */
	assert_int_equal(sh("echo dropped; echo dropped >&2", NULL, 0, NULL, NULL, 0, -1), 0);
	/* Ended by a signal: 128 + N. */
	assert_int_equal(sh("kill -TERM $$", NULL, 0, NULL, NULL, 0, -1), 128 + SIGTERM);
	buf_free(&out);
	buf_free(&err);
}

static void test_not_executable(void **state)
{
	const char *argv[] = { "/nonexistent/weft-tool", NULL };
	struct proc_spec s = { .argv = argv, .timeout_ms = 1000, .cancel_fd = -1 };

	(void)state;
	assert_int_equal(proc_run(&s), 127);
	s.timeout_ms = 0;
	assert_int_equal(proc_run(&s), -EINVAL);
}

/* Stdin and stdout both larger than a pipe: neither side may wait on the
 * other. */
static void test_stdin_roundtrip(void **state)
{
	const char *argv[] = { "/bin/cat", NULL };
	size_t n = 3u << 20;
	char *in = malloc(n);
	struct buf out;
	struct proc_spec s = { .argv = argv, .in = in, .inlen = n, .timeout_ms = 10000,
			       .cancel_fd = -1 };

	(void)state;
	assert_non_null(in);
	for (size_t i = 0; i < n; i++)
		in[i] = (char)('a' + i % 26);
	buf_init(&out, 4u << 20);
	s.out = &out;
	assert_int_equal(proc_run(&s), 0);
	assert_int_equal(out.len, n);
	assert_memory_equal(out.data, in, n);
	buf_free(&out);
	free(in);
}

/* A child that never reads its stdin: no SIGPIPE for us, no hang, its own
 * status. */
static void test_child_ignores_stdin(void **state)
{
	size_t n = 4u << 20;
	char *in = calloc(1, n);
	struct buf out;
	int64_t t0;

	(void)state;
	assert_non_null(in);
	buf_init(&out, 4096);
	t0 = mono_ms();
	assert_int_equal(sh("sleep 0.2; echo done; exit 5", in, n, &out, NULL, 0, -1), 5);
	assert_string_equal(out.data, "done\n");
	assert_int_equal(sh("exec 0<&-; exit 0", in, n, NULL, NULL, 0, -1), 0);
	assert_true(mono_ms() - t0 < 5000);
	buf_free(&out);
	free(in);
}

static void test_timeout_kills(void **state)
{
	struct buf out;
	int64_t t0, took;

	(void)state;
	buf_init(&out, 4096);
	t0 = mono_ms();
	assert_int_equal(sh("echo $$; exec sleep 30", NULL, 0, &out, NULL, 300, -1), -ETIMEDOUT);
	took = mono_ms() - t0;
	assert_true(took >= 290 && took < 3000);
	assert_gone(&out);
	buf_free(&out);
}

/* Output closed, child still running: the deadline still holds (waiting
 * for EOF and then for the exit without a limit would hang here). */
static void test_timeout_after_output_closed(void **state)
{
	struct buf out;
	int64_t t0, took;

	(void)state;
	buf_init(&out, 4096);
	t0 = mono_ms();
	assert_int_equal(sh("echo $$; exec sleep 30 >&- 2>&-", NULL, 0, &out, NULL, 300, -1),
			 -ETIMEDOUT);
	took = mono_ms() - t0;
	assert_true(took >= 290 && took < 3000);
	assert_gone(&out);
	buf_free(&out);
}

/* The child exits but a grandchild keeps stdout open: the run ends with the
 * child, with what the child wrote. */
static void test_grandchild_holds_output(void **state)
{
	struct buf out;
	int64_t t0;

	(void)state;
	buf_init(&out, 4096);
	t0 = mono_ms();
	assert_int_equal(sh("sleep 2 & echo mine", NULL, 0, &out, NULL, 10000, -1), 0);
	assert_true(mono_ms() - t0 < 1500);
	assert_string_equal(out.data, "mine\n");
	buf_free(&out);
}

/* Endless output: stopped at the bound, not at the deadline. */
static void test_output_bound(void **state)
{
	struct buf out, err;
	int64_t t0;

	(void)state;
	buf_init(&out, 64u << 10);
	buf_init(&err, 64u << 10);
	t0 = mono_ms();
	assert_int_equal(sh("echo $$; exec yes", NULL, 0, &out, NULL, 10000, -1), -E2BIG);
	assert_true(mono_ms() - t0 < 5000);
	assert_true(out.len <= 64u << 10);
	assert_gone(&out);
	buf_reset(&out);
	assert_int_equal(sh("echo $$; exec yes >&2", NULL, 0, &out, &err, 10000, -1), -E2BIG);
	assert_gone(&out);
	buf_free(&out);
	buf_free(&err);
}

static void test_cancel(void **state)
{
	struct itimerspec its = { .it_value = { .tv_nsec = 200 * 1000000L } };
	struct buf out;
	int64_t t0, took;
	uint64_t one = 1;
	int tfd, efd;

	(void)state;
	buf_init(&out, 4096);
	/* Mid-run. */
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	assert_true(tfd >= 0);
	assert_int_equal(timerfd_settime(tfd, 0, &its, NULL), 0);
	t0 = mono_ms();
	assert_int_equal(sh("echo $$; exec sleep 30", NULL, 0, &out, NULL, 10000, tfd), -ECANCELED);
	took = mono_ms() - t0;
	assert_true(took >= 150 && took < 3000);
	assert_gone(&out);
	close(tfd);
	/* Already readable: nothing starts. */
	efd = eventfd(0, EFD_CLOEXEC);
	assert_true(efd >= 0);
	assert_int_equal(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
	buf_reset(&out);
	assert_int_equal(sh("echo ran", NULL, 0, &out, NULL, 10000, efd), -ECANCELED);
	assert_int_equal(out.len, 0);
	close(efd);
	buf_free(&out);
}

/* The ignored signals this process was started with (GNU make, for one,
 * starts its commands with signals 32 and 33 ignored), as /proc shows them. */
/* A SigIgn mask of /proc/<pid>/status (the line), without glibc's two
 * internal signals (32, 33): posix_spawn leaves them ignored in the child,
 * and every glibc program installs its own handlers for them at start. */
static unsigned long long sigign_of(const char *status)
{
	const char *p = strstr(status, "SigIgn:");

	assert_non_null(p);
	return strtoull(p + 7, NULL, 16) & ~(3ULL << 31);
}

static unsigned long long own_sigign(void)
{
	char line[128], all[4096] = "";
	FILE *f = fopen("/proc/self/status", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "SigIgn:", 7))
			snprintf(all, sizeof(all), "%s", line);
	fclose(f);
	return sigign_of(all);
}

/* The child gets an empty signal mask, whatever the caller blocks (the
 * daemon blocks SIGTERM for its signalfd), and SIGPIPE at its default: it
 * ignores exactly what our own parent had us ignore, no more. */
static void test_child_signal_state(void **state)
{
	unsigned long long ign;
	sigset_t term, old;
	struct buf out;

	(void)state;
	ign = own_sigign();
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old);
	signal(SIGPIPE, SIG_IGN);
	buf_init(&out, 4096);
	assert_int_equal(sh("kill -TERM $$; sleep 5", NULL, 0, NULL, NULL, 0, -1), 128 + SIGTERM);
	assert_int_equal(sh("grep -E '^(SigBlk|SigIgn)' /proc/self/status", NULL, 0, &out, NULL, 0,
			    -1),
			 0);
	assert_non_null(strstr(out.data, "SigBlk:\t0000000000000000\n"));
	assert_true(sigign_of(out.data) == ign);
	assert_false(sigign_of(out.data) & (1ULL << (SIGPIPE - 1)));
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	buf_free(&out);
}

/* No fd of ours reaches the child. */
static void test_no_fd_leak(void **state)
{
	struct buf out;
	int efd;

	(void)state;
	efd = eventfd(0, 0); /* deliberately without CLOEXEC */
	assert_true(efd >= 0);
	buf_init(&out, 4096);
	assert_int_equal(sh("ls /proc/self/fd | sort -n | tr '\\n' ' '", NULL, 0, &out, NULL, 0, -1),
			 0);
	/* ls's own directory fd is the one extra */
	assert_string_equal(out.data, "0 1 2 3 ");
	close(efd);
	buf_free(&out);
}

/* The fields the CNI plugin's delegate runs use: an environment of their
 * own, execve's errno, the raw wait status and no deadline. */
static void test_env_errno_status(void **state)
{
	const char *sh_argv[] = { "/bin/sh", "-c", "echo \"$WEFT_X\"; kill -KILL $$", NULL };
	const char *envp[] = { "WEFT_X=given", NULL };
	const char *missing[] = { "/nonexistent/weft-tool", NULL };
	const char *notexec[] = { "/etc/passwd", NULL }; /* no x bit: EACCES, root too */
	int status = -1;
	struct buf out;
	struct proc_spec s = {
		.argv = sh_argv,
		.out = &out,
		.timeout_ms = PROC_NO_TIMEOUT,
		.cancel_fd = -1,
		.envp = envp,
		.exec_errno = true,
		.wait_status = &status,
	};

	(void)state;
	buf_init(&out, 4096);
	assert_int_equal(proc_run(&s), 128 + SIGKILL);
	assert_string_equal(out.data, "given\n");
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	s.argv = missing;
	assert_int_equal(proc_run(&s), -ENOENT);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 127);
	s.argv = notexec;
	assert_int_equal(proc_run(&s), -EACCES);
	/* Without exec_errno: 127, as before. */
	s.argv = missing;
	s.exec_errno = false;
	assert_int_equal(proc_run(&s), 127);
	s.timeout_ms = -2;
	assert_int_equal(proc_run(&s), -EINVAL);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_and_output),
		cmocka_unit_test(test_not_executable),
		cmocka_unit_test(test_stdin_roundtrip),
		cmocka_unit_test(test_child_ignores_stdin),
		cmocka_unit_test(test_timeout_kills),
		cmocka_unit_test(test_timeout_after_output_closed),
		cmocka_unit_test(test_grandchild_holds_output),
		cmocka_unit_test(test_output_bound),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_child_signal_state),
		cmocka_unit_test(test_no_fd_leak),
		cmocka_unit_test(test_env_errno_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
