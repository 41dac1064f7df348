/*
 * log.c — logging to stderr/syslog or a sink (pam_syslog in pam_laps).
 */

#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "escrow/err.h"
#include "escrow/events.h"
#include "escrow/log.h"

static const char *log_ident = "laps";
static unsigned log_dest = LAPS_LOG_TO_STDERR;
static int log_level = LAPS_LOG_NOTICE;
static laps_log_sink log_sink;
static void *log_sink_ctx;
static laps_log_writer log_writer;
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

void
laps_log_set_writer(laps_log_writer writer)
{
	log_writer = writer;
}

const char *
laps_log_ident(void)
{
	return log_ident;
}

const char *
laps_log_level_name(int level)
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
 * An event's identifier comes first ("LAPS-1001 "), so that it is the first
 * word after "ident[pid]: " in syslog and grep '^LAPS-' finds it in a sink.
 */
static void
emit(int level, const char *func, const struct laps_event_def *ev, unsigned evid, const char *raw)
{
	char msg[LAPS_LOG_MSG_MAX + 1], line[LAPS_LOG_MSG_MAX + 128], tag[16] = "";

	laps_escape(msg, sizeof(msg), raw, strlen(raw), NULL);
	if (evid != LAPS_EV_NONE)
		snprintf(tag, sizeof tag, "LAPS-%04u ", ev != NULL ? ev->id : 0);
	/* The function name helps when debugging; it is noise for users. */
	if (log_level >= LAPS_LOG_DEBUG && func != NULL)
		snprintf(line, sizeof(line), "%s%.64s: %s", tag, func, msg);
	else
		snprintf(line, sizeof(line), "%s%s", tag, msg);

	if (log_sink != NULL) {
		log_sink(log_sink_ctx, level, line);
		return;
	}
	if (log_writer != NULL && log_writer(level, ev, func, line) == 0)
		return;
	if (log_dest & LAPS_LOG_TO_SYSLOG)
		syslog(level, "%s", line);
	if (log_dest & LAPS_LOG_TO_STDERR) {
		if (level <= LAPS_LOG_WARNING)
			fprintf(stderr, "%s: %s: %s\n", log_ident, laps_log_level_name(level),
				line);
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
	emit(level, func, NULL, LAPS_EV_NONE, msg);
}

void
laps_log_msg(int level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	laps_log_vmsg(level, func, fmt, ap);
	va_end(ap);
}

/* Format fmt/ap, append ": <error of rc>" when with_rc, and emit. */
static void
emit_rc(int level, const char *func, const struct laps_event_def *ev, unsigned evid, bool with_rc,
	int rc, const char *fmt, va_list ap)
{
	char msg[LOG_RAW_MAX], full[LOG_RAW_MAX + LAPS_ERRDETAIL_MAX + 128];
	char err[LAPS_ERRDETAIL_MAX + 96];

	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	if (!with_rc) {
		emit(level, func, ev, evid, msg);
		return;
	}
	snprintf(full, sizeof(full), "%s: %s", msg, laps_errstr(rc, err, sizeof(err)));
	emit(level, func, ev, evid, full);
}

void
laps_log_rc(int level, const char *func, int rc, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	emit_rc(level, func, NULL, LAPS_EV_NONE, true, rc, fmt, ap);
	va_end(ap);
}

/* An unknown id is a programming error: logged loudly, never dropped. */
static int
event_level(const struct laps_event_def *ev)
{
	return ev != NULL ? ev->level : LAPS_LOG_ERR;
}

void
laps_log_event(unsigned evid, const char *func, const char *fmt, ...)
{
	const struct laps_event_def *ev = laps_event_get(evid);
	va_list ap;

	if (event_level(ev) > log_level)
		return;
	va_start(ap, fmt);
	emit_rc(event_level(ev), func, ev, evid != LAPS_EV_NONE ? evid : 1, false, 0, fmt, ap);
	va_end(ap);
}

void
laps_log_event_rc(unsigned evid, const char *func, int rc, const char *fmt, ...)
{
	const struct laps_event_def *ev = laps_event_get(evid);
	va_list ap;

	if (event_level(ev) > log_level)
		return;
	va_start(ap, fmt);
	emit_rc(event_level(ev), func, ev, evid != LAPS_EV_NONE ? evid : 1, true, rc, fmt, ap);
	va_end(ap);
}
