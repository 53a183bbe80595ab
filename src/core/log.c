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

static void __attribute__((format(printf, 3, 0)))
log_emit(char sev, int errnum, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], ebuf[128];
	const size_t cap = sizeof(line) - 1; /* keep one byte for the '\n' */
	FILE *out = log_out ? log_out : stderr;
	size_t len, msg_start, i;
	bool trunc = false;
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = strftime(line, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	trunc |= log_advance(&len, cap,
			     snprintf(line + len, cap - len, ".%06ldZ %c %s[%ld]: ",
				      ts.tv_nsec / 1000, sev, log_name, (long)getpid()));
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

#define LOG_BODY(sev, errnum)                       \
	do {                                        \
		int saved_errno = errno;            \
		va_list ap;                         \
		va_start(ap, fmt);                  \
		log_emit((sev), (errnum), fmt, ap); \
		va_end(ap);                         \
		errno = saved_errno;                \
	} while (0)

void log_error(const char *fmt, ...)
{
	LOG_BODY('E', 0);
}

void log_error_errno(int err, const char *fmt, ...)
{
	LOG_BODY('E', abs(err));
}

void log_warn(const char *fmt, ...)
{
	LOG_BODY('W', errno);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY('W', 0);
}

void log_warn_errno(int err, const char *fmt, ...)
{
	LOG_BODY('W', abs(err));
}

void log_info(const char *fmt, ...)
{
	LOG_BODY('I', 0);
}

void log_debug(const char *fmt, ...)
{
	if (log_level_v < LOG_V_DEBUG)
		return;
	LOG_BODY('D', 0);
}

void log_trace(const char *fmt, ...)
{
	if (log_level_v < LOG_V_TRACE)
		return;
	LOG_BODY('D', 0);
}

void log_vlevel(int level, const char *fmt, ...)
{
	if (level > log_level_v)
		return;
	LOG_BODY(level <= 0 ? 'I' : 'D', 0);
}

void fatal(const char *fmt, ...)
{
	LOG_BODY('F', errno);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY('F', 0);
	exit(1);
}
