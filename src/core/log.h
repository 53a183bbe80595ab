/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_LOG_H
#define WEFT_CORE_LOG_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Logging in the OpenBSD manner (log.c of ospfd/iked), with klog's -v levels.
 *
 * One line per call, written with a single fwrite under the stream lock:
 *
 *   2024-06-29T14:28:35.866793Z I weftd[5522]: message
 *
 * UTC timestamp with microseconds, one severity letter, progname[pid], ": ",
 * the message. Letters: F fatal, E error, W warning, I info, D debug (any
 * -v level >= 1). `grep ' [EF] '` finds every failure.
 *
 * Every function preserves errno. Library layers only use log_debug and
 * below; the caller that decides logs once.
 */

#define LOG_V_DEBUG 1 /* log_debug: -v=1 */
#define LOG_V_TRACE 2 /* log_trace: -v=2; higher levels through log_vlevel */

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* verbosity is klog's -v; progname is copied (truncated to 31 bytes). */
void log_init(int verbosity, const char *progname);
/* NULL restores stderr. The stream is not closed by the logger. */
void log_set_output(FILE *out);
int log_verbosity(void);
/* true when log_vlevel(level, ...) would print: skip costly formatting. */
bool log_v(int level);

void log_error(const char *fmt, ...) LOG_PRINTF(1, 2);
/* Appends ": strerror(err)"; err is a negative or positive errno. */
void log_error_errno(int err, const char *fmt, ...) LOG_PRINTF(2, 3);
/* Appends ": strerror(errno)". */
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn_errno(int err, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_trace(const char *fmt, ...) LOG_PRINTF(1, 2);
/* klog V(level): level <= 0 prints as I, otherwise as D when -v >= level. */
void log_vlevel(int level, const char *fmt, ...) LOG_PRINTF(2, 3);

/* Start-up errors and broken invariants only: log at F and exit(1). */
void fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

#endif
