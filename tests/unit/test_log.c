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
#include <time.h>
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
	log_set_format(LOG_FORMAT_TEXT);
	log_set_clock(NULL);
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

/* ---- the klog format ---- */

/* 2024-12-06T02:10:13.123456789Z */
static void clock_dec6(struct timespec *ret)
{
	ret->tv_sec = 1733451013;
	ret->tv_nsec = 123456789;
}

/* 2024-01-31T23:59:59.999999999Z: a month ends, microseconds truncate. */
static void clock_jan31(struct timespec *ret)
{
	ret->tv_sec = 1706745599;
	ret->tv_nsec = 999999999;
}

static void set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

/* klog's pid column: right-aligned in 7, built without printf's padding. */
static void pid_column(char *ret, size_t size)
{
	char digits[32];
	size_t n, i = 0;

	snprintf(digits, sizeof(digits), "%ld", (long)getpid());
	n = strlen(digits);
	assert_true(n >= 1 && n <= 7 && size > 7);
	for (; i < 7 - n; i++)
		ret[i] = ' ';
	memcpy(ret + i, digits, n + 1);
}

static int setup_klog(void **state)
{
	setup(state);
	set_tz("UTC");
	log_set_clock(clock_dec6);
	log_set_format(LOG_FORMAT_KLOG);
	return 0;
}

static void test_klog_header_bytes(void **state)
{
	char pid[16], want[256], *s;
	int line;

	(void)state;
	pid_column(pid, sizeof(pid));
	line = __LINE__ + 1;
	log_info("hello %s %d", "world", 42);
	s = slurp();
	/* Lmmdd hh:mm:ss.uuuuuu PPPPPPP file:line] msg */
	snprintf(want, sizeof(want), "I1206 02:10:13.123456 %s test_log.c:%d] hello world 42\n",
		 pid, line);
	assert_string_equal(s, want);
	/* Fixed columns: letter 0, time 1..20, ' ' 21, pid 22..28, ' ' 29. */
	assert_int_equal(s[21], ' ');
	assert_int_equal(s[29], ' ');
	assert_int_equal(strncmp(s + 30, "test_log.c:", 11), 0);
	free(s);
}

static void test_klog_severities(void **state)
{
	char pid[16], want[1024], *s;
	int l;

	(void)state;
	pid_column(pid, sizeof(pid));
	log_init(3, "tlog");
	l = __LINE__ + 1;
	log_error("e");
	log_error_errno(-ENOENT, "ee");
	log_warn_errno(EACCES, "we");
	log_warnx("w");
	log_info("i");
	log_debug("d");
	log_trace("t");
	log_vlevel(3, "v3");
	log_vlevel(4, "v4-hidden");
	log_vlevel(0, "v0");
	s = slurp();
	/* Debug and V-levels print as I, as klog's V(n).Info does. */
	snprintf(want, sizeof(want),
		 "E1206 02:10:13.123456 %s test_log.c:%d] e\n"
		 "E1206 02:10:13.123456 %s test_log.c:%d] ee: No such file or directory\n"
		 "W1206 02:10:13.123456 %s test_log.c:%d] we: Permission denied\n"
		 "W1206 02:10:13.123456 %s test_log.c:%d] w\n"
		 "I1206 02:10:13.123456 %s test_log.c:%d] i\n"
		 "I1206 02:10:13.123456 %s test_log.c:%d] d\n"
		 "I1206 02:10:13.123456 %s test_log.c:%d] t\n"
		 "I1206 02:10:13.123456 %s test_log.c:%d] v3\n"
		 "I1206 02:10:13.123456 %s test_log.c:%d] v0\n",
		 pid, l, pid, l + 1, pid, l + 2, pid, l + 3, pid, l + 4, pid, l + 5, pid, l + 6,
		 pid, l + 7, pid, l + 9);
	assert_string_equal(s, want);
	free(s);
}

static void test_klog_fatal(void **state)
{
	char pid[16], want[256], *s;
	pid_t child;
	int st, l;

	(void)state;
	fflush(out);
	l = __LINE__ + 4;
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		fatalx("invariant %d", 7);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	fseek(out, 0, SEEK_END);
	s = slurp();
	/* The child's pid: take it from the line, check the rest byte for byte. */
	snprintf(pid, sizeof(pid), "%7ld", (long)child);
	snprintf(want, sizeof(want), "F1206 02:10:13.123456 %s test_log.c:%d] invariant 7\n", pid,
		 l);
	assert_string_equal(s, want);
	free(s);
}

/* Local time, as Go's time.Now() that klog formats; the text format stays UTC. */
static void test_klog_local_time(void **state)
{
	char pid[16], want[256], *s;
	int l;

	(void)state;
	pid_column(pid, sizeof(pid));
	set_tz("UTC-2"); /* POSIX: two hours east of UTC */
	log_set_clock(clock_jan31);
	l = __LINE__ + 1;
	log_warnx("w");
	log_set_format(LOG_FORMAT_TEXT);
	log_warnx("t");
	s = slurp();
	snprintf(want, sizeof(want),
		 "W0201 01:59:59.999999 %s test_log.c:%d] w\n"
		 "2024-01-31T23:59:59.999999Z W tlog[%ld]: t\n",
		 pid, l, (long)getpid());
	assert_string_equal(s, want);
	set_tz("UTC");
	free(s);
}

/* The *_at functions keep only the file's basename; no file is klog's "???". */
static void test_klog_file_basename(void **state)
{
	char pid[16], want[512], *s;

	(void)state;
	pid_column(pid, sizeof(pid));
	log_info_at("src/agent/agent.c", 386, "a");
	log_info_at("/abs/path/to/kstate.c", 7, "b");
	log_info_at("plain.c", 1, "c");
	log_info_at(NULL, 5, "d");
	s = slurp();
	snprintf(want, sizeof(want),
		 "I1206 02:10:13.123456 %s agent.c:386] a\n"
		 "I1206 02:10:13.123456 %s kstate.c:7] b\n"
		 "I1206 02:10:13.123456 %s plain.c:1] c\n"
		 "I1206 02:10:13.123456 %s ???:5] d\n",
		 pid, pid, pid, pid);
	assert_string_equal(s, want);
	free(s);
}

/* errno, one line per call and truncation hold in the klog format too. */
static void test_klog_properties(void **state)
{
	char big[10000], *s;

	(void)state;
	errno = EAGAIN;
	log_warn("open %s", "/x");
	assert_int_equal(errno, EAGAIN);
	log_info("multi\nline");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
	s = slurp();
	assert_int_equal(count_lines(s), 3);
	assert_true(matches("^W1206 02:10:13\\.123456 +[0-9]+ test_log\\.c:[0-9]+\\] open /x: "
			    "Resource temporarily unavailable$",
			    s));
	assert_true(matches("\\] multi line$", s));
	assert_true(matches("^I1206 [^]]*\\] a+\\.\\.\\.$", s));
	assert_true(strlen(strrchr(s, 'I')) <= 4096);
	free(s);
}

/* The text format, byte for byte at a fixed time: unchanged by the klog one. */
static void test_text_bytes(void **state)
{
	char want[128], *s;

	(void)state;
	log_set_clock(clock_dec6);
	log_info("hello");
	log_error("bad");
	s = slurp();
	snprintf(want, sizeof(want),
		 "2024-12-06T02:10:13.123456Z I tlog[%ld]: hello\n"
		 "2024-12-06T02:10:13.123456Z E tlog[%ld]: bad\n",
		 (long)getpid(), (long)getpid());
	assert_string_equal(s, want);
	free(s);
}

static void test_format_parse(void **state)
{
	enum log_format f = LOG_FORMAT_KLOG;

	(void)state;
	assert_int_equal(log_format_parse("text", &f), 0);
	assert_int_equal(f, LOG_FORMAT_TEXT);
	assert_int_equal(log_format_parse("klog", &f), 0);
	assert_int_equal(f, LOG_FORMAT_KLOG);
	f = LOG_FORMAT_TEXT;
	assert_int_equal(log_format_parse("KLOG", &f), -EINVAL);
	assert_int_equal(log_format_parse("", &f), -EINVAL);
	assert_int_equal(log_format_parse("json", &f), -EINVAL);
	assert_int_equal(log_format_parse("klog ", &f), -EINVAL);
	assert_int_equal(f, LOG_FORMAT_TEXT);
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
		cmocka_unit_test_setup_teardown(test_klog_header_bytes, setup_klog, teardown),
		cmocka_unit_test_setup_teardown(test_klog_severities, setup_klog, teardown),
		cmocka_unit_test_setup_teardown(test_klog_fatal, setup_klog, teardown),
		cmocka_unit_test_setup_teardown(test_klog_local_time, setup_klog, teardown),
		cmocka_unit_test_setup_teardown(test_klog_file_basename, setup_klog, teardown),
		cmocka_unit_test_setup_teardown(test_klog_properties, setup_klog, teardown),
		cmocka_unit_test_setup_teardown(test_text_bytes, setup, teardown),
		cmocka_unit_test(test_format_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
