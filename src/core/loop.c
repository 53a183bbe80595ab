// SPDX-License-Identifier: Apache-2.0
#include "core/loop.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/xmalloc.h"

#define LOOP_MAX_EVENTS 64

/*
 * Registered fds live in an array indexed by fd, as in ae. Each registration
 * gets a generation number that also travels in epoll_event.data, so an event
 * fetched before its fd was removed (and maybe re-added by a callback) in the
 * same batch is recognised as stale and dropped.
 */
struct loop_fdh {
	loop_fd_cb *cb;
	void *arg;
	uint32_t events;
	uint32_t gen; /* 0: slot unused */
};

/* Timers: a doubly linked list sorted by deadline, ties in insertion order. */
struct loop_timer {
	struct loop_timer *prev, *next;
	int64_t id;
	int64_t when_ns;
	loop_timer_cb *cb;
	void *arg;
};

struct loop_sig {
	loop_signal_cb *cb;
	void *arg;
	bool was_blocked; /* blocked before we took it: keep it blocked on removal */
	bool was_ignored; /* SIG_IGN discards a signal before signalfd sees it */
};

struct loop {
	int epfd;
	int sigfd;
	bool stop;

	struct loop_fdh *fds;
	size_t nfds;
	uint32_t next_gen;

	struct loop_timer timers; /* sentinel of the pending list */
	struct loop_timer due;    /* sentinel of the timers detached for this pass */
	struct loop_timer *running;
	bool running_deleted;
	int64_t next_timer_id;

	struct loop_sig sigs[_NSIG];
	sigset_t sigmask;

	loop_hook_cb *before_sleep;
	void *before_sleep_arg;
};

static void tlist_init(struct loop_timer *head)
{
	head->prev = head->next = head;
}

static bool tlist_empty(const struct loop_timer *head)
{
	return head->next == head;
}

static void tlist_unlink(struct loop_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->prev = t->next = t;
}

static void tlist_insert_after(struct loop_timer *pos, struct loop_timer *t)
{
	t->prev = pos;
	t->next = pos->next;
	pos->next->prev = t;
	pos->next = t;
}

/* Walk from the tail: new timers usually expire last. */
static void timer_insert_sorted(struct loop *loop, struct loop_timer *t)
{
	struct loop_timer *pos = loop->timers.prev;

	while (pos != &loop->timers && pos->when_ns > t->when_ns)
		pos = pos->prev;
	tlist_insert_after(pos, t);
}

static void timer_arm(struct loop *loop, struct loop_timer *t, int64_t ms)
{
	/* Clamp so that absurd intervals cannot overflow the deadline. */
	if (ms > INT64_MAX / CLOCK_NS_PER_MS / 2)
		ms = INT64_MAX / CLOCK_NS_PER_MS / 2;
	t->when_ns = clock_now_ns() + ms * CLOCK_NS_PER_MS;
	timer_insert_sorted(loop, t);
}

int loop_new(struct loop **ret_loop)
{
	struct loop *loop;
	int r;

	loop = xcalloc(1, sizeof(*loop));
	loop->sigfd = -1;
	tlist_init(&loop->timers);
	tlist_init(&loop->due);
	sigemptyset(&loop->sigmask);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		r = -errno;
		free(loop);
		return r;
	}
	*ret_loop = loop;
	return 0;
}

void loop_free(struct loop *loop)
{
	struct loop_timer *t;
	int signo;

	if (!loop)
		return;
	for (signo = 1; signo < _NSIG; signo++)
		if (loop->sigs[signo].cb)
			loop_del_signal(loop, signo);
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	while (!tlist_empty(&loop->timers)) {
		t = loop->timers.next;
		tlist_unlink(t);
		free(t);
	}
	free(loop->fds);
	close(loop->epfd);
	free(loop);
}

static uint32_t to_epoll(uint32_t events)
{
	return (events & LOOP_READ ? EPOLLIN : 0) | (events & LOOP_WRITE ? EPOLLOUT : 0);
}

static struct loop_fdh *fd_slot(struct loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->nfds || !loop->fds[fd].gen)
		return NULL;
	return &loop->fds[fd];
}

static int fd_ctl(struct loop *loop, int op, int fd, uint32_t events, uint32_t gen)
{
	struct epoll_event ev = {
		.events = to_epoll(events),
		.data.u64 = (uint64_t)gen << 32 | (uint32_t)fd,
	};

	return epoll_ctl(loop->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_cb *cb, void *arg)
{
	uint32_t gen;
	int r;

	if (fd < 0 || !cb)
		return -EINVAL;
	if (fd_slot(loop, fd))
		return -EEXIST;
	if ((size_t)fd >= loop->nfds) {
		size_t n = loop->nfds ? loop->nfds : 16;

		while (n <= (size_t)fd)
			n *= 2;
		loop->fds = xreallocarray(loop->fds, n, sizeof(*loop->fds));
		for (size_t i = loop->nfds; i < n; i++)
			loop->fds[i] = (struct loop_fdh){ 0 };
		loop->nfds = n;
	}
	gen = ++loop->next_gen;
	if (!gen)
		gen = ++loop->next_gen;
	r = fd_ctl(loop, EPOLL_CTL_ADD, fd, events, gen);
	if (r < 0)
		return r;
	loop->fds[fd] = (struct loop_fdh){ .cb = cb, .arg = arg, .events = events, .gen = gen };
	return 0;
}

int loop_mod_fd(struct loop *loop, int fd, uint32_t events)
{
	struct loop_fdh *h = fd_slot(loop, fd);
	int r;

	if (!h)
		return -ENOENT;
	r = fd_ctl(loop, EPOLL_CTL_MOD, fd, events, h->gen);
	if (r < 0)
		return r;
	h->events = events;
	return 0;
}

int loop_del_fd(struct loop *loop, int fd)
{
	struct loop_fdh *h = fd_slot(loop, fd);
	int r;

	if (!h)
		return -ENOENT;
	*h = (struct loop_fdh){ 0 };
	r = fd_ctl(loop, EPOLL_CTL_DEL, fd, 0, 0);
	/* A closed fd has already left the epoll set. */
	if (r == -EBADF || r == -ENOENT)
		r = 0;
	return r;
}

int64_t loop_add_timer(struct loop *loop, int64_t ms, loop_timer_cb *cb, void *arg)
{
	struct loop_timer *t;

	if (ms < 0 || !cb)
		return -EINVAL;
	t = xcalloc(1, sizeof(*t));
	t->id = ++loop->next_timer_id;
	t->cb = cb;
	t->arg = arg;
	timer_arm(loop, t, ms);
	return t->id;
}

static struct loop_timer *tlist_find(struct loop_timer *head, int64_t id)
{
	struct loop_timer *t;

	for (t = head->next; t != head; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

int loop_del_timer(struct loop *loop, int64_t id)
{
	struct loop_timer *t;

	if (loop->running && loop->running->id == id) {
		if (loop->running_deleted)
			return -ENOENT;
		/* Freed by the dispatcher once the callback returns. */
		loop->running_deleted = true;
		return 0;
	}
	t = tlist_find(&loop->timers, id);
	if (!t)
		t = tlist_find(&loop->due, id);
	if (!t)
		return -ENOENT;
	tlist_unlink(t);
	free(t);
	return 0;
}

void loop_timer_set(struct loop *loop, int64_t *timer, int64_t ms, loop_timer_cb *cb, void *arg)
{
	loop_timer_clear(loop, timer);
	*timer = loop_add_timer(loop, ms, cb, arg);
	if (*timer < 0)
		*timer = 0;
}

void loop_timer_clear(struct loop *loop, int64_t *timer)
{
	if (*timer > 0)
		loop_del_timer(loop, *timer);
	*timer = 0;
}

void loop_set_before_sleep(struct loop *loop, loop_hook_cb *cb, void *arg)
{
	loop->before_sleep = cb;
	loop->before_sleep_arg = arg;
}

static void signal_ready(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si[8];
	ssize_t n;

	(void)events;
	(void)arg;
	for (;;) {
		n = read(fd, si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++) {
			uint32_t signo = si[i].ssi_signo;

			/* Re-check: an earlier callback may have removed it. */
			if (signo < _NSIG && loop->sigs[signo].cb)
				loop->sigs[signo].cb(loop, (int)signo, loop->sigs[signo].arg);
		}
		if ((size_t)n < sizeof(si))
			return;
	}
}

/* Point the signalfd at loop->sigmask, creating it on first use. */
static int sigfd_update(struct loop *loop)
{
	int fd, r;

	if (loop->sigfd >= 0)
		return signalfd(loop->sigfd, &loop->sigmask, 0) < 0 ? -errno : 0;
	fd = signalfd(-1, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = loop_add_fd(loop, fd, LOOP_READ, signal_ready, NULL);
	if (r < 0) {
		close(fd);
		return r;
	}
	loop->sigfd = fd;
	return 0;
}

int loop_add_signal(struct loop *loop, int signo, loop_signal_cb *cb, void *arg)
{
	struct sigaction sa;
	sigset_t one, old;
	bool ignored = false;
	int r;

	if (signo <= 0 || signo >= _NSIG || signo == SIGKILL || signo == SIGSTOP || !cb)
		return -EINVAL;
	if (loop->sigs[signo].cb)
		return -EEXIST;
	sigemptyset(&one);
	sigaddset(&one, signo);
	r = pthread_sigmask(SIG_BLOCK, &one, &old);
	if (r)
		return -r;
	sigaddset(&loop->sigmask, signo);
	r = sigfd_update(loop);
	if (r < 0) {
		sigdelset(&loop->sigmask, signo);
		if (!sigismember(&old, signo))
			pthread_sigmask(SIG_UNBLOCK, &one, NULL);
		return r;
	}
	/* Like Go's signal.Notify, asking for a signal un-ignores it. */
	if (sigaction(signo, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) {
		sa.sa_handler = SIG_DFL;
		ignored = sigaction(signo, &sa, NULL) == 0;
	}
	loop->sigs[signo] = (struct loop_sig){
		.cb = cb,
		.arg = arg,
		.was_blocked = sigismember(&old, signo) == 1,
		.was_ignored = ignored,
	};
	return 0;
}

int loop_del_signal(struct loop *loop, int signo)
{
	struct loop_sig old;
	struct sigaction sa;
	sigset_t one;

	if (signo <= 0 || signo >= _NSIG || !loop->sigs[signo].cb)
		return -ENOENT;
	old = loop->sigs[signo];
	loop->sigs[signo] = (struct loop_sig){ 0 };
	sigdelset(&loop->sigmask, signo);
	/* Cannot fail for a valid fd and mask; the fd stays open for reuse. */
	sigfd_update(loop);
	if (old.was_ignored && sigaction(signo, NULL, &sa) == 0) {
		sa.sa_handler = SIG_IGN;
		sigaction(signo, &sa, NULL);
	}
	if (!old.was_blocked) {
		sigemptyset(&one);
		sigaddset(&one, signo);
		pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	}
	return 0;
}

int loop_poll_timeout(struct loop *loop)
{
	int64_t diff, ms;

	if (tlist_empty(&loop->timers))
		return -1;
	diff = loop->timers.next->when_ns - clock_now_ns();
	if (diff <= 0)
		return 0;
	/* Round up: waking before the deadline would cost an empty iteration. */
	ms = (diff + CLOCK_NS_PER_MS - 1) / CLOCK_NS_PER_MS;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void dispatch_fds(struct loop *loop, const struct epoll_event *evs, int n)
{
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)evs[i].data.u64;
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32), got = 0;
		struct loop_fdh *h = fd_slot(loop, fd);

		/* Removed, or removed and re-added, by an earlier callback. */
		if (!h || h->gen != gen)
			continue;
		if (evs[i].events & EPOLLIN)
			got |= LOOP_READ;
		if (evs[i].events & EPOLLOUT)
			got |= LOOP_WRITE;
		if (evs[i].events & EPOLLERR)
			got |= LOOP_ERROR | (h->events & (LOOP_READ | LOOP_WRITE));
		if (evs[i].events & (EPOLLHUP | EPOLLRDHUP))
			got |= LOOP_HUP | (h->events & (LOOP_READ | LOOP_WRITE));
		h->cb(loop, fd, got, h->arg);
	}
}

static void dispatch_timers(struct loop *loop)
{
	int64_t now = clock_now_ns(), next;
	struct loop_timer *t;

	/*
	 * Detach everything due now first: timers armed or re-armed by these
	 * callbacks (even with 0 ms) wait for the next iteration instead of
	 * starving the fds.
	 */
	while (!tlist_empty(&loop->timers) && loop->timers.next->when_ns <= now) {
		t = loop->timers.next;
		tlist_unlink(t);
		tlist_insert_after(loop->due.prev, t);
	}
	while (!tlist_empty(&loop->due)) {
		t = loop->due.next;
		tlist_unlink(t);
		loop->running = t;
		loop->running_deleted = false;
		next = t->cb(loop, t->id, t->arg);
		loop->running = NULL;
		if (loop->running_deleted || next < 0)
			free(t);
		else
			timer_arm(loop, t, next);
	}
}

int loop_run(struct loop *loop)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	int n;

	loop->stop = false;
	while (!loop->stop) {
		if (loop->before_sleep)
			loop->before_sleep(loop, loop->before_sleep_arg);
		if (loop->stop)
			break;
		n = epoll_wait(loop->epfd, evs, LOOP_MAX_EVENTS, loop_poll_timeout(loop));
		if (n < 0) {
			if (errno != EINTR)
				return -errno;
			n = 0;
		}
		dispatch_fds(loop, evs, n);
		dispatch_timers(loop);
	}
	return 0;
}

void loop_stop(struct loop *loop)
{
	loop->stop = true;
}
