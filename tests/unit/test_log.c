// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"

#define LINE_RE                                                                              \
	"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z "                     \
	"[FEWID] tlog\\[[0-9]+\\]: "

static FILE *out;

static int setup(void **state)
{
	(void)state;
	out = tmpfile();
	assert_non_null(out);
	log_set_output(out);
	log_init(0, "tlog");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_output(NULL);
	fclose(out);
	return 0;
}

/* Everything logged so far; caller frees. */
static char *slurp(void)
{
	long n;
	char *buf;

	fflush(out);
	n = ftell(out);
	assert_true(n >= 0);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	rewind(out);
	assert_int_equal(fread(buf, 1, (size_t)n, out), (size_t)n);
	fseek(out, 0, SEEK_END);
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static bool matches(const char *re, const char *s)
{
	regex_t rx;
	int r;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE), 0);
	r = regexec(&rx, s, 0, NULL, 0);
	regfree(&rx);
	return r == 0;
}

static void test_line_format(void **state)
{
	char *s;

	(void)state;
	log_info("hello %s %d", "world", 42);
	s = slurp();
	assert_true(matches(LINE_RE "hello world 42\n$", s));
	assert_true(matches(" I tlog\\[", s));
	assert_int_equal(count_lines(s), 1);
	free(s);
}

static void test_pid_in_line(void **state)
{
	char want[64], *s;

	(void)state;
	snprintf(want, sizeof(want), " tlog[%ld]: ", (long)getpid());
	log_warnx("x");
	s = slurp();
	assert_non_null(strstr(s, want));
	free(s);
}

static void test_levels_v0(void **state)
{
	char *s;

	(void)state;
	log_error("e");
	log_warnx("w");
	log_info("i");
	log_debug("d");
	log_trace("t");
	log_vlevel(1, "v1");
	log_vlevel(0, "v0");
	s = slurp();
	assert_int_equal(count_lines(s), 4);
	assert_true(matches(LINE_RE "e$", s));
	assert_true(matches(" E tlog\\[[0-9]+\\]: e$", s));
	assert_true(matches(" W tlog\\[[0-9]+\\]: w$", s));
	assert_true(matches(" I tlog\\[[0-9]+\\]: i$", s));
	assert_true(matches(" I tlog\\[[0-9]+\\]: v0$", s));
	assert_null(strstr(s, ": d\n"));
	assert_null(strstr(s, ": t\n"));
	assert_null(strstr(s, ": v1\n"));
	assert_false(log_v(1));
	free(s);
}

static void test_levels_v1_v2_v3(void **state)
{
	char *s;

	(void)state;
	log_init(1, "tlog");
	log_debug("d1");
	log_trace("t1");
	log_init(2, "tlog");
	log_trace("t2");
	log_vlevel(3, "v3-hidden");
	log_init(3, "tlog");
	log_vlevel(3, "v3");
	assert_true(log_v(3));
	assert_false(log_v(4));
	assert_int_equal(log_verbosity(), 3);
	s = slurp();
	assert_int_equal(count_lines(s), 3);
	assert_true(matches(" D tlog\\[[0-9]+\\]: d1$", s));
	assert_true(matches(" D tlog\\[[0-9]+\\]: t2$", s));
	assert_true(matches(" D tlog\\[[0-9]+\\]: v3$", s));
	assert_null(strstr(s, "t1"));
	assert_null(strstr(s, "hidden"));
	free(s);
}

static void test_warn_appends_errno_and_preserves_it(void **state)
{
	char *s;

	(void)state;
	errno = ENOENT;
	log_warn("open %s", "/nope");
	assert_int_equal(errno, ENOENT);
	errno = EAGAIN;
	log_warnx("plain");
	assert_int_equal(errno, EAGAIN);
	log_info("info");
	log_error("error");
	log_debug("hidden");
	assert_int_equal(errno, EAGAIN);
	s = slurp();
	assert_true(matches(" W tlog\\[[0-9]+\\]: open /nope: No such file or directory$", s));
	assert_true(matches(": plain$", s));
	free(s);
}

static void test_errno_variants(void **state)
{
	char *s;

	(void)state;
	errno = EINTR;
	log_warn_errno(-EACCES, "neg %d", 1);
	log_warn_errno(EACCES, "pos %d", 2);
	log_error_errno(-ENOMEM, "err");
	assert_int_equal(errno, EINTR);
	s = slurp();
	assert_true(matches(" W tlog\\[[0-9]+\\]: neg 1: Permission denied$", s));
	assert_true(matches(" W tlog\\[[0-9]+\\]: pos 2: Permission denied$", s));
	assert_true(matches(" E tlog\\[[0-9]+\\]: err: Cannot allocate memory$", s));
	free(s);
}

static void test_one_line_per_call(void **state)
{
	char *s;

	(void)state;
	log_info("multi\nline\r\x1b[31mred");
	s = slurp();
	assert_int_equal(count_lines(s), 1);
	assert_true(matches(": multi line  \\[31mred$", s));
	free(s);
}

static void test_truncation(void **state)
{
	char big[10000], *s;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
	s = slurp();
	assert_int_equal(count_lines(s), 1);
	assert_true(strlen(s) <= 4096);
	assert_true(matches("aaa\\.\\.\\.$", s));
	free(s);
}

static void test_fatal_exits_1(void **state)
{
	pid_t pid;
	int st;
	char *s;

	(void)state;
	fflush(out);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		errno = EPERM;
		fatal("cannot %s", "start");
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		fatalx("invariant %d", 7);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 1);
	fseek(out, 0, SEEK_END);
	s = slurp();
	assert_true(matches(LINE_RE "cannot start: Operation not permitted$", s));
	assert_true(matches(" F tlog\\[[0-9]+\\]: invariant 7$", s));
	free(s);
}

#define THREADS 4
#define PER_THREAD 300

static void *spam(void *arg)
{
	for (int i = 0; i < PER_THREAD; i++)
		log_info("thread %ld line %d %s", (long)(intptr_t)arg, i,
			 "padding-padding-padding-padding-padding-padding-padding");
	return NULL;
}

static void test_threads_keep_lines_whole(void **state)
{
	pthread_t t[THREADS];
	char *s, *line, *save = NULL;
	int n = 0;

	(void)state;
	for (intptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, spam, (void *)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	s = slurp();
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_true(matches(LINE_RE "thread [0-9] line [0-9]+ padding(-padding){6}$",
				    line));
		n++;
	}
	assert_int_equal(n, THREADS * PER_THREAD);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pid_in_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_levels_v0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_levels_v1_v2_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_warn_appends_errno_and_preserves_it, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_errno_variants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_line_per_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fatal_exits_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_keep_lines_whole, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
