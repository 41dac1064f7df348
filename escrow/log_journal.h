/*
 * log_journal.h — send log lines to journald over its native protocol, with
 * the event fields of escrow/events.h (LAPS_EVENT_ID, LAPS_EVENT,
 * MESSAGE_ID) next to MESSAGE and PRIORITY.
 *
 * Written here (a datagram of KEY=value lines to
 * /run/systemd/journal/socket, systemd's documented "native protocol")
 * rather than with libsystemd's sd_journal_send: the protocol is a page of
 * code, the programs gain no library (and none that could abort), and
 * nothing changes where systemd is absent.  See docs/EVENTS.md.
 *
 * Only programs call this (laps-agent, laps-escrowd); pam_laps logs through
 * pam_syslog and keeps the "LAPS-<id>" text form.
 */
#ifndef LAPS_LOG_JOURNAL_H
#define LAPS_LOG_JOURNAL_H

#define LAPS_JOURNAL_SOCKET "/run/systemd/journal/socket"

/*
 * When stderr is connected to the journal (systemd sets JOURNAL_STREAM to
 * "<device>:<inode>" of the stream it gives the service, and stderr's fstat
 * matches), log to journald's socket instead of stderr/syslog.  Returns 1
 * when the journal is used, 0 otherwise (nothing changes).  In
 * --enable-fault-injection builds, LAPS_TEST_JOURNAL_SOCKET names the socket.
 */
int laps_log_journal_auto(void);
/* Log to the native-protocol socket at path.  0 or LAPS_ERR_IO. */
int laps_log_journal_open(const char *path) __attribute__((warn_unused_result));
/* Back to stderr/syslog. */
void laps_log_journal_close(void);

#endif
