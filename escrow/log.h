/*
 * log.h — logging to stderr and/or syslog, or to a caller-supplied sink
 * (pam_laps passes one that calls pam_syslog).  Messages never contain
 * secrets.  The macros add the calling function's name at debug level.
 */
#ifndef LAPS_LOG_H
#define LAPS_LOG_H

#include <stdarg.h>

enum laps_log_level {
	LAPS_LOG_ERR = 3,     /* same numbers as syslog priorities */
	LAPS_LOG_WARNING = 4,
	LAPS_LOG_NOTICE = 5,
	LAPS_LOG_INFO = 6,
	LAPS_LOG_DEBUG = 7
};

#define LAPS_LOG_TO_STDERR 0x1
#define LAPS_LOG_TO_SYSLOG 0x2

/*
 * Every message is escaped with laps_escape() (escrow/err.h: control
 * characters, invalid UTF-8 and C1/bidi code points become \n or \xHH) and
 * capped at LAPS_LOG_MSG_MAX bytes (ending in "..." when cut), so text from
 * outside cannot forge a log line or reach a terminal as a control sequence.
 * The sink and stderr/syslog receive the escaped line.
 */
#define LAPS_LOG_MSG_MAX 1024

typedef void (*laps_log_sink)(void *ctx, int level, const char *msg);

struct laps_event_def;
/*
 * A structured writer (the journald one, escrow/log_journal.h) takes the
 * place of stderr and syslog while it is set and returns 0; it gets the
 * event's row (NULL for a line without one), the function name and the
 * escaped line.  A non-zero return falls back to stderr/syslog for the line.
 * A sink (laps_log_set_sink) still comes first.
 */
typedef int (*laps_log_writer)(int level, const struct laps_event_def *ev, const char *func,
			       const char *line);

/* ident: program name; dest: LAPS_LOG_TO_* bits. Safe to call again. */
void laps_log_init(const char *ident, unsigned dest);
/* Messages above level are dropped (default LAPS_LOG_NOTICE). */
void laps_log_set_level(int level);
int laps_log_get_level(void);
/* Route every message to sink instead (NULL restores stderr/syslog). */
void laps_log_set_sink(laps_log_sink sink, void *ctx);
/* Install a structured writer (NULL removes it). */
void laps_log_set_writer(laps_log_writer writer);
/* The ident given to laps_log_init ("laps" before). */
const char *laps_log_ident(void);
/* "error", "warning", "notice", "info" or "debug". */
const char *laps_log_level_name(int level);

void laps_log_msg(int level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void laps_log_vmsg(int level, const char *func, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* As laps_log_msg, appending ": <laps_strerror(rc)>[: <detail>]". */
void laps_log_rc(int level, const char *func, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * An outcome with a stable identifier (escrow/events.h, docs/EVENTS.md):
 * logged at the event's own severity as "LAPS-<id> <message>", and, with
 * the journald writer, with LAPS_EVENT_ID, LAPS_EVENT and MESSAGE_ID fields.
 * An id missing from the table logs at error level as "LAPS-0000".
 */
void laps_log_event(unsigned ev, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* As laps_log_event, appending ": <laps_strerror(rc)>[: <detail>]". */
void laps_log_event_rc(unsigned ev, const char *func, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* log_event(LAPS_EV_ROTATED, "%s: password rotated", account) */
#define log_event(ev, ...) laps_log_event((ev), __func__, __VA_ARGS__)
#define log_event_rc(ev, rc, ...) laps_log_event_rc((ev), __func__, (rc), __VA_ARGS__)

#define log_err(...) laps_log_msg(LAPS_LOG_ERR, __func__, __VA_ARGS__)
#define log_warn(...) laps_log_msg(LAPS_LOG_WARNING, __func__, __VA_ARGS__)
#define log_notice(...) laps_log_msg(LAPS_LOG_NOTICE, __func__, __VA_ARGS__)
#define log_info(...) laps_log_msg(LAPS_LOG_INFO, __func__, __VA_ARGS__)
#define log_debug(...) laps_log_msg(LAPS_LOG_DEBUG, __func__, __VA_ARGS__)
/* With an error code: log_err_rc(rc, "cannot read %s", path) */
#define log_err_rc(rc, ...) laps_log_rc(LAPS_LOG_ERR, __func__, (rc), __VA_ARGS__)
#define log_warn_rc(rc, ...) laps_log_rc(LAPS_LOG_WARNING, __func__, (rc), __VA_ARGS__)

#endif
