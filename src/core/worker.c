// SPDX-License-Identifier: Apache-2.0
/*
 * A thread per job: jobs are seconds apart, so a thread's start costs
 * nothing worth a queue, and pthread_join on the loop is all the
 * synchronisation the job's data needs (everything the thread wrote is
 * visible after the join). The thread reports its end through an eventfd on
 * the loop.
 */
#include "core/worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/xmalloc.h"

struct worker {
	struct loop *loop;
	int done_fd;   /* eventfd: the job's thread is finishing */
	int cancel_fd; /* eventfd: readable once worker_free runs */
	bool busy;
	pthread_t tid;
	worker_fn *fn, *done;
	void *arg;
};

static void post(int fd)
{
	uint64_t one = 1;

	/* An eventfd write only fails on overflow: it is readable then. */
	if (write(fd, &one, sizeof(one)) < 0) {
	}
}

static void *job_main(void *p)
{
	struct worker *w = p;

	w->fn(w->arg);
	post(w->done_fd);
	return NULL;
}

static void on_done(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct worker *w = arg;
	worker_fn *done;
	uint64_t n;

	(void)loop;
	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 || !w->busy)
		return;
	/* The thread posted as its last act: the join is immediate. */
	pthread_join(w->tid, NULL);
	w->busy = false;
	done = w->done;
	/* done may submit the next job. */
	if (done)
		done(w->arg);
}

int worker_new(struct loop *loop, struct worker **ret)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	int rc;

	w->loop = loop;
	w->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->done_fd < 0 || w->cancel_fd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = loop_add_fd(loop, w->done_fd, LOOP_READ, on_done, w);
	if (rc < 0)
		goto fail;
	*ret = w;
	return 0;
fail:
	if (w->done_fd >= 0)
		close(w->done_fd);
	if (w->cancel_fd >= 0)
		close(w->cancel_fd);
	free(w);
	return rc;
}

int worker_submit(struct worker *w, worker_fn *fn, worker_fn *done, void *arg)
{
	sigset_t all, old;
	int rc;

	if (w->busy)
		return -EBUSY;
	w->fn = fn;
	w->done = done;
	w->arg = arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = -pthread_create(&w->tid, NULL, job_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		w->busy = true;
	return rc;
}

bool worker_busy(const struct worker *w)
{
	return w->busy;
}

int worker_cancel_fd(const struct worker *w)
{
	return w->cancel_fd;
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	if (w->busy) {
		post(w->cancel_fd);
		pthread_join(w->tid, NULL);
	}
	loop_del_fd(w->loop, w->done_fd);
	close(w->done_fd);
	close(w->cancel_fd);
	free(w);
}
