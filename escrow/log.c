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

/* A formatted message before escaping; longer ones are cut. */
#define LOG_RAW_MAX 2048

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

/*
 * The one place every message passes: it is escaped with laps_escape() (a
 * server's text, an HTTP body or a PAM item inside it cannot start a new
 * line or send a terminal sequence) and capped at LAPS_LOG_MSG_MAX bytes.
 */
static void
emit(int level, const char *func, const char *raw)
{
	char msg[LAPS_LOG_MSG_MAX + 1], line[LAPS_LOG_MSG_MAX + 128];

	laps_escape(msg, sizeof(msg), raw, strlen(raw), NULL);
	/* The function name helps when debugging; it is noise for users. */
	if (log_level >= LAPS_LOG_DEBUG && func != NULL)
		snprintf(line, sizeof(line), "%.64s: %s", func, msg);
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
	char msg[LOG_RAW_MAX];

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
	char msg[LOG_RAW_MAX], full[LOG_RAW_MAX + LAPS_ERRDETAIL_MAX + 128];
	char err[LAPS_ERRDETAIL_MAX + 96];
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
