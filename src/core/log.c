// SPDX-License-Identifier: Apache-2.0
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * The logger's settings are the one place where a global is the right shape:
 * every layer logs and none should have to carry a context for it. They are
 * written by log_init/log_set_output before any thread starts.
 */
static int log_level_v;
static char log_name[32] = "weftd";
static FILE *log_out;
static enum log_format log_fmt = LOG_FORMAT_TEXT;
static void (*log_clock)(struct timespec *ret);

#define LOG_LINE_MAX 4096

void log_init(int verbosity, const char *progname)
{
	int saved_errno = errno;

	log_level_v = verbosity;
	if (progname && *progname)
		snprintf(log_name, sizeof(log_name), "%s", progname);
	errno = saved_errno;
}

void log_set_output(FILE *out)
{
	log_out = out;
}

void log_set_format(enum log_format format)
{
	log_fmt = format;
}

int log_format_parse(const char *name, enum log_format *ret)
{
	if (!strcmp(name, "text"))
		*ret = LOG_FORMAT_TEXT;
	else if (!strcmp(name, "klog"))
		*ret = LOG_FORMAT_KLOG;
	else
		return -EINVAL;
	return 0;
}

void log_set_clock(void (*now)(struct timespec *ret))
{
	log_clock = now;
}

int log_verbosity(void)
{
	return log_level_v;
}

bool log_v(int level)
{
	return level <= log_level_v;
}

/* Add n bytes reported by snprintf to *len, clamping at cap - 1 on truncation. */
static bool log_advance(size_t *len, size_t cap, int n)
{
	if (n < 0)
		return false;
	if ((size_t)n >= cap - *len) {
		*len = cap - 1;
		return true;
	}
	*len += (size_t)n;
	return false;
}

/* weft's own: "2024-06-29T14:28:35.866793Z I weftd[5522]: " (UTC). */
static bool log_header_text(char *line, size_t cap, size_t *len, char sev,
			    const struct timespec *ts)
{
	struct tm tm;

	gmtime_r(&ts->tv_sec, &tm);
	*len = strftime(line, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	return log_advance(len, cap,
			   snprintf(line + *len, cap - *len, ".%06ldZ %c %s[%ld]: ",
				    ts->tv_nsec / 1000, sev, log_name, (long)getpid()));
}

/*
 * klog's "Lmmdd hh:mm:ss.uuuuuu threadid file:line] " (klog/v2
 * internal/buffer FormatHeader): local time, as Go's time.Now(); the
 * "threadid" column is the pid, as klog prints it, padded to 7 columns.
 * klog has no debug letter: its V-levels print as I.
 */
static bool log_header_klog(char *line, size_t cap, size_t *len, char sev,
			    const struct timespec *ts, const char *file, int lineno)
{
	const char *slash;
	struct tm tm;

	if (!file)
		file = "???";
	slash = strrchr(file, '/');
	if (slash)
		file = slash + 1;
	localtime_r(&ts->tv_sec, &tm);
	*len = 0;
	return log_advance(len, cap,
			   snprintf(line, cap, "%c%02d%02d %02d:%02d:%02d.%06ld %7ld %s:%d] ",
				    sev == 'D' ? 'I' : sev, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				    tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000, (long)getpid(), file,
				    lineno < 0 ? 0 : lineno));
}

static void __attribute__((format(printf, 5, 0)))
log_emit(char sev, const char *file, int lineno, int errnum, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], ebuf[128];
	const size_t cap = sizeof(line) - 1; /* keep one byte for the '\n' */
	FILE *out = log_out ? log_out : stderr;
	size_t len, msg_start, i;
	bool trunc;
	struct timespec ts;

	if (log_clock)
		log_clock(&ts);
	else
		clock_gettime(CLOCK_REALTIME, &ts);
	if (log_fmt == LOG_FORMAT_KLOG)
		trunc = log_header_klog(line, cap, &len, sev, &ts, file, lineno);
	else
		trunc = log_header_text(line, cap, &len, sev, &ts);
	msg_start = len;
	if (!trunc)
		trunc |= log_advance(&len, cap, vsnprintf(line + len, cap - len, fmt, ap));
	if (!trunc && errnum) {
		/* GNU strerror_r: thread-safe, may return a static string. */
		const char *es = strerror_r(errnum, ebuf, sizeof(ebuf));

		trunc |= log_advance(&len, cap, snprintf(line + len, cap - len, ": %s", es));
	}
	/* One entry per line, whatever a peer put in an error string. */
	for (i = msg_start; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			line[i] = ' ';
	}
	if (trunc && len >= 3)
		memcpy(line + len - 3, "...", 3);
	line[len++] = '\n';

	/* A single write under the stream lock keeps lines whole across threads. */
	flockfile(out);
	fwrite_unlocked(line, 1, len, out);
	fflush_unlocked(out);
	funlockfile(out);
}

#define LOG_BODY(sev, errnum)                                                                      \
	do {                                                                                       \
		int saved_errno = errno;                                                           \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_emit((sev), file, line, (errnum), fmt, ap);                                    \
		va_end(ap);                                                                        \
		errno = saved_errno;                                                               \
	} while (0)

void log_error_at(const char *file, int line, const char *fmt, ...)
{
	LOG_BODY('E', 0);
}

void log_error_errno_at(const char *file, int line, int err, const char *fmt, ...)
{
	LOG_BODY('E', abs(err));
}

void log_warn_at(const char *file, int line, const char *fmt, ...)
{
	LOG_BODY('W', errno);
}

void log_warnx_at(const char *file, int line, const char *fmt, ...)
{
	LOG_BODY('W', 0);
}

void log_warn_errno_at(const char *file, int line, int err, const char *fmt, ...)
{
	LOG_BODY('W', abs(err));
}

void log_info_at(const char *file, int line, const char *fmt, ...)
{
	LOG_BODY('I', 0);
}

void log_debug_at(const char *file, int line, const char *fmt, ...)
{
	if (log_level_v < LOG_V_DEBUG)
		return;
	LOG_BODY('D', 0);
}

void log_trace_at(const char *file, int line, const char *fmt, ...)
{
	if (log_level_v < LOG_V_TRACE)
		return;
	LOG_BODY('D', 0);
}

void log_vlevel_at(const char *file, int line, int level, const char *fmt, ...)
{
	if (level > log_level_v)
		return;
	LOG_BODY(level <= 0 ? 'I' : 'D', 0);
}

void fatal_at(const char *file, int line, const char *fmt, ...)
{
	LOG_BODY('F', errno);
	exit(1);
}

void fatalx_at(const char *file, int line, const char *fmt, ...)
{
	LOG_BODY('F', 0);
	exit(1);
}
