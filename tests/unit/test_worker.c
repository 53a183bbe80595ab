// SPDX-License-Identifier: Apache-2.0
/*
 * core/worker on a real loop: the job runs on another thread while the loop
 * goes on serving timers; done comes back on the loop's thread; one job at a
 * time; freeing cancels a job that waits on a child (core/proc) and joins it
 * without calling done.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/proc.h"
#include "core/worker.h"

struct job {
	struct worker *w;
	pthread_t ran_on, done_on;
	int64_t ms;      /* how long the job takes (sleep) */
	int runs, dones;
	int ticks_at_done;
	int rc;          /* proc job: proc_run's result */
	sigset_t mask;   /* the job thread's signal mask */
	int64_t took_ms;
	char pidfile[64];
};

static int ticks;

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_job(void *arg)
{
	struct job *j = arg;
	struct timespec ts = { .tv_sec = j->ms / 1000, .tv_nsec = (j->ms % 1000) * 1000000L };

	j->ran_on = pthread_self();
	pthread_sigmask(SIG_SETMASK, NULL, &j->mask);
	nanosleep(&ts, NULL);
	j->runs++;
}

static void stop_done(void *arg)
{
	struct job *j = arg;

	j->done_on = pthread_self();
	j->dones++;
	j->ticks_at_done = ticks;
}

static int64_t tick(struct loop *loop, int64_t id, void *arg)
{
	(void)loop;
	(void)id;
	(void)arg;
	ticks++;
	return 10;
}

static int64_t stop_later(struct loop *loop, int64_t id, void *arg)
{
	struct job *j = arg;

	(void)id;
	if (j->dones == 0)
		return 10;
	loop_stop(loop);
	return LOOP_TIMER_STOP;
}

static void test_job_off_loop(void **state)
{
	struct loop *loop;
	struct worker *w;
	struct job j = { .ms = 300 };

	(void)state;
	ticks = 0;
	assert_int_equal(loop_new(&loop), 0);
	assert_int_equal(worker_new(loop, &w), 0);
	assert_false(worker_busy(w));
	assert_int_equal(worker_submit(w, sleep_job, stop_done, &j), 0);
	assert_true(worker_busy(w));
	/* One job at a time. */
	assert_int_equal(worker_submit(w, sleep_job, stop_done, &j), -EBUSY);
	assert_true(loop_add_timer(loop, 10, tick, NULL) > 0);
	assert_true(loop_add_timer(loop, 10, stop_later, &j) > 0);
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(j.runs, 1);
	assert_int_equal(j.dones, 1);
	assert_false(worker_busy(w));
	/* Not on the loop's thread; done is. */
	assert_false(pthread_equal(j.ran_on, pthread_self()));
	assert_true(pthread_equal(j.done_on, pthread_self()));
	/* The loop kept running its timers while the job slept 300 ms. */
	assert_true(j.ticks_at_done >= 10);
	/* Every signal blocked in the job's thread. */
	assert_int_equal(sigismember(&j.mask, SIGTERM), 1);
	assert_int_equal(sigismember(&j.mask, SIGCHLD), 1);
	/* Free again for the next job. */
	j.ms = 0;
	j.dones = 0;
	assert_int_equal(worker_submit(w, sleep_job, stop_done, &j), 0);
	assert_true(loop_add_timer(loop, 10, stop_later, &j) > 0);
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(j.runs, 2);
	assert_int_equal(j.dones, 1);
	worker_free(w);
	loop_free(loop);
}

/* done may submit the next job. */
static void again_done(void *arg)
{
	struct job *j = arg;

	j->dones++;
	if (j->dones < 3)
		assert_int_equal(worker_submit(j->w, sleep_job, again_done, j), 0);
}

static void test_submit_from_done(void **state)
{
	struct loop *loop;
	struct job j = { .ms = 10 };

	(void)state;
	assert_int_equal(loop_new(&loop), 0);
	assert_int_equal(worker_new(loop, &j.w), 0);
	assert_int_equal(worker_submit(j.w, sleep_job, again_done, &j), 0);
	assert_true(loop_add_timer(loop, 10, stop_later, &j) > 0);
	while (j.dones < 3) {
		assert_int_equal(loop_run(loop), 0);
		if (j.dones < 3)
			assert_true(loop_add_timer(loop, 10, stop_later, &j) > 0);
	}
	assert_int_equal(j.runs, 3);
	assert_false(worker_busy(j.w));
	worker_free(j.w);
	loop_free(loop);
}

static void proc_job(void *arg)
{
	struct job *j = arg;
	const char *argv[] = { "/bin/sh", "-c", "echo $$ >\"$0.tmp\"; mv \"$0.tmp\" \"$0\"; "
			       "exec sleep 30", j->pidfile, NULL };
	struct proc_spec s = { .argv = argv, .timeout_ms = 60000,
			       .cancel_fd = worker_cancel_fd(j->w) };

	j->rc = proc_run(&s);
	j->runs++;
}

static void never_done(void *arg)
{
	(void)arg;
	fail_msg("done called for a cancelled job");
}

/* Freed while the job waits on a child: the child is killed, the thread
 * joined, done never called. */
static void test_free_cancels(void **state)
{
	struct loop *loop;
	struct job j = { 0 };
	struct timespec ts = { .tv_nsec = 10 * 1000000L };
	char text[32] = "";
	int64_t t0;
	long pid = 0;
	FILE *f;

	(void)state;
	snprintf(j.pidfile, sizeof(j.pidfile), "/tmp/weft-worker-test.%d", (int)getpid());
	unlink(j.pidfile);
	assert_int_equal(loop_new(&loop), 0);
	assert_int_equal(worker_new(loop, &j.w), 0);
	assert_int_equal(worker_submit(j.w, proc_job, never_done, &j), 0);
	/* Until the child runs (it says so with its pid). */
	for (t0 = mono_ms(); !(f = fopen(j.pidfile, "r")) && mono_ms() - t0 < 5000;)
		nanosleep(&ts, NULL);
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	unlink(j.pidfile);
	pid = strtol(text, NULL, 10);
	assert_true(pid > 1);
	assert_int_equal(kill((pid_t)pid, 0), 0);
	t0 = mono_ms();
	worker_free(j.w);
	j.took_ms = mono_ms() - t0;
	assert_true(j.took_ms < 2000);
	assert_int_equal(j.runs, 1);
	assert_int_equal(j.rc, -ECANCELED);
	assert_int_equal(kill((pid_t)pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	loop_free(loop);
	worker_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_off_loop),
		cmocka_unit_test(test_submit_from_done),
		cmocka_unit_test(test_free_cancels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
