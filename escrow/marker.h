/*
 * marker.h — the post-authentication usage marker.
 *
 * pam_laps writes <state_dir>/used/<account> atomically when a session of a
 * managed account opens (and again when it closes); laps-agent reads it and
 * rotates at last use + [post-auth] delay.  Text format, one "key=value"
 * per line, documented in docs/MARKER.md:
 *
 *   laps-marker 1
 *   account=lapsadmin
 *   uid=1001
 *   opened=1700000000        (unix seconds of the last session open)
 *   closed=1700000300        (latest close, 0 when the last write was an
 *                             open; may be older than opened: MARKER.md)
 *   service=sshd
 *   ruser=alice              (PAM_RUSER, may be empty)
 *   rhost=192.0.2.7          (PAM_RHOST, may be empty)
 *   tty=pts/0                (PAM_TTY, may be empty)
 *
 * Values are printable ASCII (no control characters); longer values are
 * refused by the parser; the writer truncates over-long PAM items.
 */
#ifndef LAPS_MARKER_H
#define LAPS_MARKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "escrow/conf.h"

#define LAPS_MARKER_VERSION 1
#define LAPS_MARKER_MAX 4096
#define LAPS_MARKER_FIELD_MAX 255

struct laps_marker {
	char account[LAPS_ACCOUNT_MAX + 1];
	uint32_t uid;
	int64_t opened;
	int64_t closed;
	char service[LAPS_MARKER_FIELD_MAX + 1];
	char ruser[LAPS_MARKER_FIELD_MAX + 1];
	char rhost[LAPS_MARKER_FIELD_MAX + 1];
	char tty[LAPS_MARKER_FIELD_MAX + 1];
};

/* "<state_dir>/used/<account>" into buf (the used/ directory holds only
 * markers, so a systemd path unit can watch it).  LAPS_ERR_TOOBIG / _INVALID. */
int laps_marker_path(const char *state_dir, const char *account, char *buf, size_t len)
    __attribute__((warn_unused_result));
/* Strict parse; LAPS_ERR_FORMAT / _VERSION / _TOOBIG with detail. */
int laps_marker_parse(const char *buf, size_t len, struct laps_marker *out)
    __attribute__((warn_unused_result));
/* Serialise into buf (NUL-terminated); *outlen excludes the NUL. */
int laps_marker_format(const struct laps_marker *m, char *buf, size_t len, size_t *outlen)
    __attribute__((warn_unused_result));
/* Read and parse the marker file (O_NOFOLLOW, size cap).  NOTFOUND if none. */
int laps_marker_load(const char *path, struct laps_marker *out) __attribute__((warn_unused_result));
/* Atomically write the marker file, mode 0600.  Never exits or aborts. */
int laps_marker_store(const char *path, const struct laps_marker *m)
    __attribute__((warn_unused_result));

/*
 * Record a session open (opening) or close at time now in the marker at
 * path: the read-modify-write pam_laps does.  fresh carries account, uid
 * and the PAM items (its opened/closed are ignored).
 *   open:  fresh, opened = now, closed = 0;
 *   close: the marker on disk with closed = now (who/where/when of the
 *          last open kept), or fresh with opened = closed = now when there
 *          is none or it is unusable (logged).
 * Serialised against other updates by flock() on "<dir of path>/.lock"
 * (created 0600; a non-regular file there is refused), taken with a
 * bounded wait of LAPS_MARKER_LOCK_WAIT_MS: when the lock cannot be had the
 * update goes ahead without it (logged) rather than lose the use, and also
 * writes its result to a side marker of its own, which the next locked
 * update merges (and removes) and readers merge, so that a lock holder's
 * later write of an older view cannot erase it.  And
 * monotonic: opened and closed never move backwards, so a close that
 * raced a newer login never puts back the older opened time.
 * Never blocks longer than the wait, never exits.  0 or LAPS_ERR_*.
 */
#define LAPS_MARKER_LOCK_WAIT_MS 500
int laps_marker_update(const char *path, const struct laps_marker *fresh, bool opening,
		       int64_t now) __attribute__((warn_unused_result));

/* The marker as laps_marker_load, with the side markers of updates that
 * ran without the lock (see marker.c) merged in: the later open's fields
 * and opened time, the later closed time.  NOTFOUND when neither exists. */
int laps_marker_load_merged(const char *path, struct laps_marker *out)
    __attribute__((warn_unused_result));

/* Tests only (NULL in production): called by laps_marker_update between
 * reading the marker and writing it back, with the lock held. */
extern void (*laps_marker_test_hold)(void);

#endif
