/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_LOG_H
#define WEFT_CORE_LOG_H

#include <stdbool.h>
#include <stdio.h>

struct timespec;

/*
 * Logging in the OpenBSD manner (log.c of ospfd/iked), with klog's -v levels.
 *
 * One line per call, written with a single fwrite under the stream lock, in
 * one of two formats (log_set_format):
 *
 *   text (default):  2024-06-29T14:28:35.866793Z I weftd[5522]: message
 *   klog (flanneld): I0629 14:28:35.866793    5522 agent.c:386] message
 *
 * text: UTC timestamp with microseconds, one severity letter, progname[pid],
 * ": ", the message. Letters: F fatal, E error, W warning, I info, D debug
 * (any -v level >= 1). `grep ' [EF] '` finds every failure.
 *
 * klog: klog's header byte for byte (k8s.io/klog/v2 internal/buffer
 * FormatHeader): the letter (I W E F; V-levels print as I, as in klog),
 * month and day, local time with microseconds, the pid right-aligned in 7
 * columns, the caller's file (basename) and line, "] ", the message.
 *
 * Every function preserves errno. Library layers only use log_debug and
 * below; the caller that decides logs once.
 *
 * The names below are macros passing the caller's file and line to the
 * *_at functions; call them as functions.
 */

/*
 * klog's -v: weft prints at -v=0 what flanneld prints at V(0) and also each
 * peer added or removed (flanneld: V(2)); see docs/operations.md#logging.
 */
#define LOG_V_DEBUG 1 /* log_debug: -v=1 */
#define LOG_V_TRACE 2 /* log_trace: -v=2; higher levels through log_vlevel */

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_KLOG,
};

/* verbosity is klog's -v; progname is copied (truncated to 31 bytes). */
void log_init(int verbosity, const char *progname);
/* NULL restores stderr. The stream is not closed by the logger. */
void log_set_output(FILE *out);
void log_set_format(enum log_format format);
/* "text" or "klog" into *ret: 0, or -EINVAL for any other name. */
int log_format_parse(const char *name, enum log_format *ret);
int log_verbosity(void);
/* true when log_vlevel(level, ...) would print: skip costly formatting. */
bool log_v(int level);
/* Tests only: the clock of the timestamps; NULL restores CLOCK_REALTIME. */
void log_set_clock(void (*now)(struct timespec *ret));

/* The caller's file name without directories where the compiler knows it. */
#ifdef __FILE_NAME__
#define LOG_FILE __FILE_NAME__
#else
#define LOG_FILE __FILE__
#endif

#define log_error(...) log_error_at(LOG_FILE, __LINE__, __VA_ARGS__)
/* Appends ": strerror(err)"; err is a negative or positive errno. */
#define log_error_errno(...) log_error_errno_at(LOG_FILE, __LINE__, __VA_ARGS__)
/* Appends ": strerror(errno)". */
#define log_warn(...) log_warn_at(LOG_FILE, __LINE__, __VA_ARGS__)
#define log_warnx(...) log_warnx_at(LOG_FILE, __LINE__, __VA_ARGS__)
#define log_warn_errno(...) log_warn_errno_at(LOG_FILE, __LINE__, __VA_ARGS__)
#define log_info(...) log_info_at(LOG_FILE, __LINE__, __VA_ARGS__)
#define log_debug(...) log_debug_at(LOG_FILE, __LINE__, __VA_ARGS__)
#define log_trace(...) log_trace_at(LOG_FILE, __LINE__, __VA_ARGS__)
/* klog V(level): level <= 0 prints as I, otherwise as D when -v >= level. */
#define log_vlevel(...) log_vlevel_at(LOG_FILE, __LINE__, __VA_ARGS__)
/* Start-up errors and broken invariants only: log at F and exit(1). fatal
 * appends ": strerror(errno)", fatalx does not. */
#define fatal(...) fatal_at(LOG_FILE, __LINE__, __VA_ARGS__)
#define fatalx(...) fatalx_at(LOG_FILE, __LINE__, __VA_ARGS__)

void log_error_at(const char *file, int line, const char *fmt, ...) LOG_PRINTF(3, 4);
void log_error_errno_at(const char *file, int line, int err, const char *fmt, ...) LOG_PRINTF(4, 5);
void log_warn_at(const char *file, int line, const char *fmt, ...) LOG_PRINTF(3, 4);
void log_warnx_at(const char *file, int line, const char *fmt, ...) LOG_PRINTF(3, 4);
void log_warn_errno_at(const char *file, int line, int err, const char *fmt, ...) LOG_PRINTF(4, 5);
void log_info_at(const char *file, int line, const char *fmt, ...) LOG_PRINTF(3, 4);
void log_debug_at(const char *file, int line, const char *fmt, ...) LOG_PRINTF(3, 4);
void log_trace_at(const char *file, int line, const char *fmt, ...) LOG_PRINTF(3, 4);
void log_vlevel_at(const char *file, int line, int level, const char *fmt, ...) LOG_PRINTF(4, 5);
void fatal_at(const char *file, int line, const char *fmt, ...) LOG_PRINTF(3, 4)
	__attribute__((noreturn));
void fatalx_at(const char *file, int line, const char *fmt, ...) LOG_PRINTF(3, 4)
	__attribute__((noreturn));

#endif
