/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_WORKER_H
#define WEFT_CORE_WORKER_H

/*
 * Blocking work off the control loop: one job at a time runs fn(arg) on a
 * thread of its own, then done(arg) runs on the loop. From submit until done
 * the job's data belongs to the thread; the loop must not touch it (nor what
 * fn works on) in between. The thread starts with every signal blocked, so
 * that signals stay with the loop's signalfd.
 */
#include <stdbool.h>

struct loop;
struct worker;

typedef void worker_fn(void *arg);

int worker_new(struct loop *loop, struct worker **ret);

/* -EBUSY while the previous job has not reached its done callback. */
int worker_submit(struct worker *w, worker_fn *fn, worker_fn *done, void *arg);
bool worker_busy(const struct worker *w);

/*
 * Readable once worker_free has begun: a job that waits on something (a
 * child process, core/proc.h) polls it too and gives up early.
 */
int worker_cancel_fd(const struct worker *w);

/* Cancels and joins a running job (its done callback is not called), then
 * frees. Call before loop_free. NULL is fine. */
void worker_free(struct worker *w);

#endif
