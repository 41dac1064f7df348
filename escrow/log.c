/*
 * log.c — logging to stderr/syslog or a sink (pam_syslog in pam_laps).
 */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "escrow/err.h"
#include "escrow/log.h"

static const char *log_ident = "laps";
static unsigned log_dest = LAPS_LOG_TO_STDERR;
static int log_level = LAPS_LOG_NOTICE;
static laps_log_sink log_sink;
static void *log_sink_ctx;
static int log_syslog_open;

void
laps_log_init(const char *ident, unsigned dest)
{
	if (ident != NULL)
		log_ident = ident;
	log_dest = dest;
	if ((dest & LAPS_LOG_TO_SYSLOG) && !log_syslog_open) {
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
		log_syslog_open = 1;
	}
}

void
laps_log_set_level(int level)
{
	if (level < LAPS_LOG_ERR)
		level = LAPS_LOG_ERR;
	if (level > LAPS_LOG_DEBUG)
		level = LAPS_LOG_DEBUG;
	log_level = level;
}

int
laps_log_get_level(void)
{
	return log_level;
}

void
laps_log_set_sink(laps_log_sink sink, void *ctx)
{
	log_sink = sink;
	log_sink_ctx = ctx;
}

static const char *
level_name(int level)
{
	switch (level) {
	case LAPS_LOG_ERR:
		return "error";
	case LAPS_LOG_WARNING:
		return "warning";
	case LAPS_LOG_NOTICE:
		return "notice";
	case LAPS_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

static void
emit(int level, const char *func, const char *msg)
{
	char line[2048];

	/* The function name helps when debugging; it is noise for users. */
	if (log_level >= LAPS_LOG_DEBUG && func != NULL)
		snprintf(line, sizeof(line), "%s: %s", func, msg);
	else
		snprintf(line, sizeof(line), "%s", msg);

	if (log_sink != NULL) {
		log_sink(log_sink_ctx, level, line);
		return;
	}
	if (log_dest & LAPS_LOG_TO_SYSLOG)
		syslog(level, "%s", line);
	if (log_dest & LAPS_LOG_TO_STDERR) {
		if (level <= LAPS_LOG_WARNING)
			fprintf(stderr, "%s: %s: %s\n", log_ident, level_name(level), line);
		else
			fprintf(stderr, "%s: %s\n", log_ident, line);
	}
}

void
laps_log_vmsg(int level, const char *func, const char *fmt, va_list ap)
{
	char msg[1536];

	if (level > log_level)
		return;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	emit(level, func, msg);
}

void
laps_log_msg(int level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	laps_log_vmsg(level, func, fmt, ap);
	va_end(ap);
}

void
laps_log_rc(int level, const char *func, int rc, const char *fmt, ...)
{
	char msg[1024], full[1536], err[1100];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	snprintf(full, sizeof(full), "%s: %s", msg, laps_errstr(rc, err, sizeof(err)));
	emit(level, func, full);
}
