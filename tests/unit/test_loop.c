// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/loop.h"

/* Shared scratch state for one test; reset by setup. */
struct rec {
	struct loop *loop;
	int order[32];
	int norder;
	int fires;
	int iterations;
	int stop_at_iteration; /* before-sleep stops the loop on this call (0: never) */
	int64_t ids[8];
	int fd_calls[4];
	uint32_t last_events;
	int last_signo;
	int nsignals;
	int fds[4];
};

static struct rec R;

static int setup(void **state)
{
	(void)state;
	memset(&R, 0, sizeof(R));
	for (int i = 0; i < 4; i++)
		R.fds[i] = -1;
	assert_int_equal(loop_new(&R.loop), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	loop_free(R.loop);
	for (int i = 0; i < 4; i++)
		if (R.fds[i] >= 0)
			close(R.fds[i]);
	return 0;
}

static void count_iterations(struct loop *loop, void *arg)
{
	(void)arg;
	if (++R.iterations == R.stop_at_iteration)
		loop_stop(loop);
}

static int64_t tick(struct loop *loop, int64_t id, void *arg)
{
	(void)loop;
	(void)id;
	(void)arg;
	return 0;
}

/*
 * Runs exactly n iterations without blocking: a 0 ms ticker keeps epoll_wait
 * from sleeping and before-sleep stops the loop on its call n + 1.
 */
static void run_iterations(int n)
{
	int64_t id = loop_add_timer(R.loop, 0, tick, NULL);

	assert_true(id > 0);
	R.iterations = 0;
	R.stop_at_iteration = n + 1;
	loop_set_before_sleep(R.loop, count_iterations, NULL);
	assert_int_equal(loop_run(R.loop), 0);
	assert_int_equal(R.iterations, n + 1);
	assert_int_equal(loop_del_timer(R.loop, id), 0);
}

static int64_t record_once(struct loop *loop, int64_t id, void *arg)
{
	(void)loop;
	(void)id;
	R.order[R.norder++] = (int)(intptr_t)arg;
	return LOOP_TIMER_STOP;
}

static int64_t record_and_stop(struct loop *loop, int64_t id, void *arg)
{
	record_once(loop, id, arg);
	loop_stop(loop);
	return LOOP_TIMER_STOP;
}

static void test_timers_fire_in_deadline_order(void **state)
{
	static const int ms[] = { 100, 25, 75, 0, 50 }; /* out of order, 25 ms apart */
	int attempt;

	(void)state;
	/*
	 * Deadlines are taken at add time, so a scheduler stall between the adds
	 * could legitimately reorder them: retry such a run, skip if it persists.
	 */
	for (attempt = 0; attempt < 5; attempt++) {
		int64_t t0 = clock_now_ms();

		for (int i = 0; i < 5; i++) {
			loop_timer_cb *cb = ms[i] == 100 ? record_and_stop : record_once;

			R.ids[i] = loop_add_timer(R.loop, ms[i], cb, (void *)(intptr_t)ms[i]);
			assert_true(R.ids[i] > 0);
		}
		if (clock_now_ms() - t0 < 20)
			break;
		for (int i = 0; i < 5; i++)
			assert_int_equal(loop_del_timer(R.loop, R.ids[i]), 0);
	}
	if (attempt == 5)
		skip();
	assert_int_equal(loop_run(R.loop), 0);
	assert_int_equal(R.norder, 5);
	assert_int_equal(R.order[0], 0);
	assert_int_equal(R.order[1], 25);
	assert_int_equal(R.order[2], 50);
	assert_int_equal(R.order[3], 75);
	assert_int_equal(R.order[4], 100);
	/* All finished: nothing left to wait for. */
	assert_int_equal(loop_poll_timeout(R.loop), -1);
}

static void test_equal_deadlines_fire_in_insertion_order(void **state)
{
	(void)state;
	for (intptr_t i = 1; i <= 5; i++)
		assert_true(loop_add_timer(R.loop, 0, record_once, (void *)i) > 0);
	run_iterations(1);
	assert_int_equal(R.norder, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(R.order[i], i + 1);
}

static int64_t repeat_three(struct loop *loop, int64_t id, void *arg)
{
	(void)id;
	(void)arg;
	if (++R.fires == 3) {
		loop_stop(loop);
		return LOOP_TIMER_STOP;
	}
	return 5;
}

static void test_timer_repeats_by_returned_interval(void **state)
{
	int64_t t0 = clock_now_ms(), id;

	(void)state;
	id = loop_add_timer(R.loop, 5, repeat_three, NULL);
	assert_true(id > 0);
	assert_int_equal(loop_run(R.loop), 0);
	assert_int_equal(R.fires, 3);
	/* Three 5 ms intervals never complete early on a monotonic clock. */
	assert_true(clock_now_ms() - t0 >= 15);
	/* Stopped timers are gone. */
	assert_int_equal(loop_del_timer(R.loop, id), -ENOENT);
}

static int64_t zero_repeat(struct loop *loop, int64_t id, void *arg)
{
	(void)loop;
	(void)id;
	(void)arg;
	R.fires++;
	return 0;
}

/* loop_timer_set replaces the timer a slot holds; loop_timer_clear empties it. */
static void test_timer_slot(void **state)
{
	int64_t slot = 0, first;

	(void)state;
	loop_timer_clear(R.loop, &slot); /* an empty slot: nothing to do */
	assert_int_equal(slot, 0);
	loop_timer_set(R.loop, &slot, 10, record_and_stop, (void *)(intptr_t)1);
	first = slot;
	assert_true(first > 0);
	loop_timer_set(R.loop, &slot, 0, record_and_stop, (void *)(intptr_t)2);
	assert_true(slot > 0 && slot != first);
	assert_int_equal(loop_del_timer(R.loop, first), -ENOENT); /* replaced: gone */
	assert_int_equal(loop_run(R.loop), 0);
	assert_int_equal(R.norder, 1);
	assert_int_equal(R.order[0], 2);
	/* A slot naming a timer that already fired is cleared all the same. */
	loop_timer_clear(R.loop, &slot);
	assert_int_equal(slot, 0);
	loop_timer_set(R.loop, &slot, 1000, record_and_stop, (void *)(intptr_t)3);
	first = slot;
	loop_timer_clear(R.loop, &slot);
	assert_int_equal(slot, 0);
	assert_int_equal(loop_del_timer(R.loop, first), -ENOENT);
}

static void test_zero_interval_waits_for_next_iteration(void **state)
{
	(void)state;
	assert_true(loop_add_timer(R.loop, 0, zero_repeat, NULL) > 0);
	assert_int_equal(loop_poll_timeout(R.loop), 0);
	/* A timer re-armed with 0 runs once per iteration, it cannot starve the fds. */
	run_iterations(4);
	assert_int_equal(R.fires, 4);
}

static void test_cancel_before_run(void **state)
{
	int64_t a;

	(void)state;
	a = loop_add_timer(R.loop, 5, record_once, (void *)1);
	assert_true(a > 0);
	assert_true(loop_add_timer(R.loop, 20, record_and_stop, (void *)2) > 0);
	assert_int_equal(loop_del_timer(R.loop, a), 0);
	assert_int_equal(loop_del_timer(R.loop, a), -ENOENT);
	assert_int_equal(loop_del_timer(R.loop, 999), -ENOENT);
	assert_int_equal(loop_run(R.loop), 0);
	assert_int_equal(R.norder, 1);
	assert_int_equal(R.order[0], 2);
}

static int64_t cancel_other(struct loop *loop, int64_t id, void *arg)
{
	(void)id;
	R.order[R.norder++] = (int)(intptr_t)arg;
	/* ids[1] is due in this same pass; ids[2] is pending. */
	assert_int_equal(loop_del_timer(loop, R.ids[1]), 0);
	assert_int_equal(loop_del_timer(loop, R.ids[2]), 0);
	return LOOP_TIMER_STOP;
}

static int64_t cancel_self(struct loop *loop, int64_t id, void *arg)
{
	(void)arg;
	R.fires++;
	assert_int_equal(loop_del_timer(loop, id), 0);
	assert_int_equal(loop_del_timer(loop, id), -ENOENT);
	/* The cancel wins over the returned interval. */
	return 1;
}

static void test_cancel_from_inside_callbacks(void **state)
{
	(void)state;
	R.ids[0] = loop_add_timer(R.loop, 0, cancel_other, (void *)1);
	R.ids[1] = loop_add_timer(R.loop, 0, record_once, (void *)2);
	R.ids[2] = loop_add_timer(R.loop, 5, record_once, (void *)3);
	R.ids[3] = loop_add_timer(R.loop, 0, cancel_self, NULL);
	assert_true(loop_add_timer(R.loop, 20, record_and_stop, (void *)4) > 0);
	assert_int_equal(loop_run(R.loop), 0);
	assert_int_equal(R.norder, 2);
	assert_int_equal(R.order[0], 1);
	assert_int_equal(R.order[1], 4);
	assert_int_equal(R.fires, 1);
}

static void never(struct loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop;
	(void)fd;
	(void)events;
	(void)arg;
	R.fd_calls[3]++;
}

static void test_idle_loop_blocks(void **state)
{
	int64_t t0;
	int timeout;

	(void)state;
	/* Nothing scheduled: epoll_wait would block with no timeout. */
	R.fds[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_int_equal(loop_add_fd(R.loop, R.fds[0], LOOP_READ, never, NULL), 0);
	assert_int_equal(loop_poll_timeout(R.loop), -1);

	/* A 50 ms timer: the loop sleeps until it, in one or two iterations, never spins. */
	t0 = clock_now_ms();
	assert_true(loop_add_timer(R.loop, 50, record_and_stop, (void *)1) > 0);
	timeout = loop_poll_timeout(R.loop);
	assert_true(timeout <= 50);
	assert_true(timeout >= 50 - (clock_now_ms() - t0) - 1);
	loop_set_before_sleep(R.loop, count_iterations, NULL);
	assert_int_equal(loop_run(R.loop), 0);
	assert_int_equal(R.norder, 1);
	assert_true(R.iterations <= 2);
	assert_true(clock_now_ms() - t0 >= 50);
}

static void on_fd(struct loop *loop, int fd, uint32_t events, void *arg)
{
	int i = (int)(intptr_t)arg;
	uint64_t v;

	R.fd_calls[i]++;
	R.last_events = events;
	if (events & LOOP_READ)
		assert_int_equal(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	loop_stop(loop);
}

static void test_fd_readiness(void **state)
{
	uint64_t one = 1;

	(void)state;
	R.fds[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(R.fds[0] >= 0);
	assert_int_equal(loop_add_fd(R.loop, R.fds[0], LOOP_READ, on_fd, (void *)0), 0);
	assert_int_equal(loop_add_fd(R.loop, R.fds[0], LOOP_READ, on_fd, (void *)0), -EEXIST);
	assert_int_equal(write(R.fds[0], &one, sizeof(one)), (ssize_t)sizeof(one));
	assert_int_equal(loop_run(R.loop), 0);
	assert_int_equal(R.fd_calls[0], 1);
	assert_int_equal(R.last_events, LOOP_READ);

	/* Drained: one more iteration does not call it again. */
	run_iterations(1);
	assert_int_equal(R.fd_calls[0], 1);
}

static void test_mod_fd_and_write_readiness(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	R.fds[0] = p[0];
	R.fds[1] = p[1];
	/* Registered with no interest: nothing is delivered. */
	assert_int_equal(loop_add_fd(R.loop, p[1], 0, on_fd, (void *)1), 0);
	run_iterations(1);
	assert_int_equal(R.fd_calls[1], 0);
	assert_int_equal(loop_mod_fd(R.loop, p[1], LOOP_WRITE), 0);
	assert_int_equal(loop_mod_fd(R.loop, p[0], LOOP_READ), -ENOENT);
	loop_set_before_sleep(R.loop, NULL, NULL);
	assert_int_equal(loop_run(R.loop), 0);
	assert_int_equal(R.fd_calls[1], 1);
	assert_int_equal(R.last_events, LOOP_WRITE);
	assert_int_equal(loop_del_fd(R.loop, p[1]), 0);
	assert_int_equal(loop_del_fd(R.loop, p[1]), -ENOENT);
}

static void on_hup(struct loop *loop, int fd, uint32_t events, void *arg)
{
	char c;

	(void)arg;
	R.fd_calls[0]++;
	R.last_events = events;
	assert_int_equal(read(fd, &c, 1), 0);
	assert_int_equal(loop_del_fd(loop, fd), 0);
	loop_stop(loop);
}

static void test_hangup_reported_with_read(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	R.fds[0] = p[0];
	close(p[1]);
	assert_int_equal(loop_add_fd(R.loop, p[0], LOOP_READ, on_hup, NULL), 0);
	assert_int_equal(loop_run(R.loop), 0);
	assert_int_equal(R.fd_calls[0], 1);
	assert_true(R.last_events & LOOP_HUP);
	assert_true(R.last_events & LOOP_READ);
}

/* Whichever of fds[0]/fds[1] fires first removes the other. */
static void remove_other(struct loop *loop, int fd, uint32_t events, void *arg)
{
	int i = (int)(intptr_t)arg;
	uint64_t v;

	(void)events;
	R.fd_calls[i]++;
	assert_int_equal(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	assert_int_equal(loop_del_fd(loop, R.fds[1 - i]), 0);
}

static void test_remove_other_ready_fd_in_callback(void **state)
{
	uint64_t one = 1;

	(void)state;
	for (int i = 0; i < 2; i++) {
		R.fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		assert_int_equal(loop_add_fd(R.loop, R.fds[i], LOOP_READ, remove_other,
					     (void *)(intptr_t)i),
				 0);
		assert_int_equal(write(R.fds[i], &one, sizeof(one)), (ssize_t)sizeof(one));
	}
	/* Both are ready in the same epoll batch; only the first callback may run. */
	run_iterations(1);
	assert_int_equal(R.fd_calls[0] + R.fd_calls[1], 1);
}

/* Remove the other fd, close it and register a new, idle fd under the same number. */
static void remove_and_reuse(struct loop *loop, int fd, uint32_t events, void *arg)
{
	int i = (int)(intptr_t)arg, other = R.fds[1 - i], fresh;
	uint64_t v;

	(void)events;
	R.fd_calls[i]++;
	assert_int_equal(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	assert_int_equal(loop_del_fd(loop, other), 0);
	fresh = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(fresh >= 0);
	assert_int_equal(dup3(fresh, other, O_CLOEXEC), other);
	close(fresh);
	assert_int_equal(loop_add_fd(loop, other, LOOP_READ, never, NULL), 0);
}

static void test_stale_event_not_delivered_to_reused_fd(void **state)
{
	uint64_t one = 1;

	(void)state;
	for (int i = 0; i < 2; i++) {
		R.fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		assert_int_equal(loop_add_fd(R.loop, R.fds[i], LOOP_READ, remove_and_reuse,
					     (void *)(intptr_t)i),
				 0);
		assert_int_equal(write(R.fds[i], &one, sizeof(one)), (ssize_t)sizeof(one));
	}
	run_iterations(1);
	assert_int_equal(R.fd_calls[0] + R.fd_calls[1], 1);
	assert_int_equal(R.fd_calls[3], 0);
	/* The new registration works normally afterwards. */
	for (int i = 0; i < 2; i++)
		if (R.fd_calls[i] == 0)
			assert_int_equal(write(R.fds[i], &one, sizeof(one)), (ssize_t)sizeof(one));
	run_iterations(1);
	assert_int_equal(R.fd_calls[3], 1);
}

static void test_del_fd_after_close(void **state)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	(void)state;
	assert_int_equal(loop_add_fd(R.loop, fd, LOOP_READ, never, NULL), 0);
	close(fd);
	assert_int_equal(loop_del_fd(R.loop, fd), 0);
	assert_int_equal(loop_add_fd(R.loop, -1, LOOP_READ, never, NULL), -EINVAL);
}

static void on_sig(struct loop *loop, int signo, void *arg)
{
	(void)arg;
	R.last_signo = signo;
	if (++R.nsignals == 2)
		loop_stop(loop);
}

static bool blocked(int signo)
{
	sigset_t cur;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, signo) == 1;
}

static void test_signals_via_signalfd(void **state)
{
	(void)state;
	assert_false(blocked(SIGUSR1));
	assert_int_equal(loop_add_signal(R.loop, SIGUSR1, on_sig, NULL), 0);
	assert_int_equal(loop_add_signal(R.loop, SIGUSR1, on_sig, NULL), -EEXIST);
	assert_int_equal(loop_add_signal(R.loop, SIGUSR2, on_sig, NULL), 0);
	assert_true(blocked(SIGUSR1));
	/* Blocked, so raise() leaves it pending for the signalfd instead of killing us. */
	assert_int_equal(raise(SIGUSR1), 0);
	run_iterations(1);
	assert_int_equal(R.nsignals, 1);
	assert_int_equal(R.last_signo, SIGUSR1);
	assert_int_equal(kill(getpid(), SIGUSR2), 0);
	loop_set_before_sleep(R.loop, NULL, NULL);
	assert_int_equal(loop_run(R.loop), 0);
	assert_int_equal(R.nsignals, 2);
	assert_int_equal(R.last_signo, SIGUSR2);

	/* Removal restores the mask; loop_free restores the rest. */
	assert_int_equal(loop_del_signal(R.loop, SIGUSR1), 0);
	assert_int_equal(loop_del_signal(R.loop, SIGUSR1), -ENOENT);
	assert_false(blocked(SIGUSR1));
	assert_true(blocked(SIGUSR2));
	loop_free(R.loop);
	R.loop = NULL;
	assert_false(blocked(SIGUSR2));
}

static void test_ignored_signal_is_routed_and_restored(void **state)
{
	struct sigaction sa;

	(void)state;
	signal(SIGUSR1, SIG_IGN);
	assert_int_equal(loop_add_signal(R.loop, SIGUSR1, on_sig, NULL), 0);
	assert_int_equal(raise(SIGUSR1), 0);
	run_iterations(1);
	assert_int_equal(R.nsignals, 1);
	assert_int_equal(loop_del_signal(R.loop, SIGUSR1), 0);
	assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
	assert_true(sa.sa_handler == SIG_IGN);
	signal(SIGUSR1, SIG_DFL);
}

static void test_signal_errors(void **state)
{
	(void)state;
	assert_int_equal(loop_add_signal(R.loop, SIGKILL, on_sig, NULL), -EINVAL);
	assert_int_equal(loop_add_signal(R.loop, 0, on_sig, NULL), -EINVAL);
	assert_int_equal(loop_add_signal(R.loop, SIGUSR1, NULL, NULL), -EINVAL);
	assert_int_equal(loop_del_signal(R.loop, SIGUSR2), -ENOENT);
	assert_true(loop_add_timer(R.loop, -1, record_once, NULL) < 0);
	assert_true(loop_add_timer(R.loop, 1, NULL, NULL) < 0);
}

static void stop_now(struct loop *loop, void *arg)
{
	(void)arg;
	R.iterations++;
	loop_stop(loop);
}

static void test_stop_from_before_sleep_skips_wait(void **state)
{
	(void)state;
	/* A pending 10 s timer would block; stopping in the hook must not wait. */
	assert_true(loop_add_timer(R.loop, 10000, record_once, NULL) > 0);
	loop_set_before_sleep(R.loop, stop_now, NULL);
	assert_int_equal(loop_run(R.loop), 0);
	assert_int_equal(R.iterations, 1);
	assert_int_equal(R.norder, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timers_fire_in_deadline_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_equal_deadlines_fire_in_insertion_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timer_repeats_by_returned_interval, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_zero_interval_waits_for_next_iteration, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timer_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_before_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_from_inside_callbacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_loop_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_readiness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mod_fd_and_write_readiness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hangup_reported_with_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_other_ready_fd_in_callback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stale_event_not_delivered_to_reused_fd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_del_fd_after_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signals_via_signalfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ignored_signal_is_routed_and_restored, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_signal_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_from_before_sleep_skips_wait, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
