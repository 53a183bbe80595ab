/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_LOOP_H
#define WEFT_CORE_LOOP_H

#include <stdint.h>

#include "core/clock.h"

/*
 * The daemon's single-threaded event loop, shaped like Redis ae: epoll fd
 * handlers, CLOCK_MONOTONIC timers whose callback returns the next interval,
 * a before-sleep hook and signals routed through a signalfd.
 *
 * One iteration: before-sleep hook, epoll_wait (timeout = nearest timer, or
 * forever), fd callbacks, due timers. Every registration may be added or
 * removed from inside any callback; an event that was already fetched for an
 * fd removed meanwhile is dropped, never delivered to a later owner of the
 * same fd number.
 *
 * Functions return 0 (or an id) on success and a negative errno on failure.
 */

struct loop;

/* Event bits, for loop_add_fd/loop_mod_fd and passed to the callback. */
#define LOOP_READ  (1U << 0)
#define LOOP_WRITE (1U << 1)
#define LOOP_ERROR (1U << 2) /* reported only; also sets the registered READ/WRITE */
#define LOOP_HUP   (1U << 3) /* idem: the handler's read/write then sees EOF/error */

#define LOOP_TIMER_STOP (-1)

typedef void loop_fd_cb(struct loop *loop, int fd, uint32_t events, void *arg);
/* Returns the next interval in ms (0 = next iteration) or LOOP_TIMER_STOP. */
typedef int64_t loop_timer_cb(struct loop *loop, int64_t id, void *arg);
typedef void loop_signal_cb(struct loop *loop, int signo, void *arg);
typedef void loop_hook_cb(struct loop *loop, void *arg);

int loop_new(struct loop **ret_loop);
/* Restores the signal mask, closes the loop's own fds; caller fds stay open. */
void loop_free(struct loop *loop);

int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_cb *cb, void *arg);
int loop_mod_fd(struct loop *loop, int fd, uint32_t events);
/* Also fine after the fd was closed (the kernel already dropped it). */
int loop_del_fd(struct loop *loop, int fd);

/* Returns the timer id (> 0) or a negative errno. */
int64_t loop_add_timer(struct loop *loop, int64_t ms, loop_timer_cb *cb, void *arg);
/* -ENOENT when the id is unknown or already finished. */
int loop_del_timer(struct loop *loop, int64_t id);
/* For a timer kept in *timer (0 = none): replace it by a new one (0 when it
 * cannot be added), or delete it. */
void loop_timer_set(struct loop *loop, int64_t *timer, int64_t ms, loop_timer_cb *cb, void *arg);
void loop_timer_clear(struct loop *loop, int64_t *timer);

void loop_set_before_sleep(struct loop *loop, loop_hook_cb *cb, void *arg);

/*
 * Blocks signo in the calling thread and delivers it through the loop; an
 * ignored signal is reset to SIG_DFL (as Go's signal.Notify does). Threads
 * created afterwards inherit the mask, which keeps process-directed signals
 * on the signalfd. Removal restores the previous mask and disposition, so a
 * second SIGTERM after loop_del_signal(SIGTERM) kills the process at once.
 */
int loop_add_signal(struct loop *loop, int signo, loop_signal_cb *cb, void *arg);
int loop_del_signal(struct loop *loop, int signo);

/* Runs until loop_stop; returns 0, or a negative errno if epoll fails. */
int loop_run(struct loop *loop);
/* Takes effect at the end of the current iteration. */
void loop_stop(struct loop *loop);

/* The epoll_wait timeout the next iteration would use (-1 = none); for tests. */
int loop_poll_timeout(struct loop *loop);

#endif
