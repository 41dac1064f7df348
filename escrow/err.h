/*
 * err.h — the one error space of laps.
 *
 * Every function that can fail returns 0 (LAPS_OK) or a negative LAPS_ERR_*
 * code.  A human-readable detail (file:line, the key, the LDAP message ...)
 * may be attached with laps_seterr(); it is per-thread and is overwritten by
 * the next failure.  Conversion to exit codes, PAM codes or HTTP statuses
 * happens only at the outer boundary.
 */
#ifndef LAPS_ERR_H
#define LAPS_ERR_H

#include <stdbool.h>
#include <stddef.h>

#define LAPS_OK 0
enum laps_err {
	LAPS_ERR_INTERNAL = -1,      /* bug or unexpected state */
	LAPS_ERR_NOMEM = -2,         /* out of memory */
	LAPS_ERR_INVALID = -3,       /* invalid argument */
	LAPS_ERR_IO = -4,            /* file or system I/O error */
	LAPS_ERR_CONFIG = -5,        /* configuration error (detail: file:line) */
	LAPS_ERR_PERM = -6,          /* unsafe owner/mode, or not root */
	LAPS_ERR_NOTFOUND = -7,      /* no such record / entry / host */
	LAPS_ERR_CONFLICT = -8,      /* compare-and-set lost: changed by someone else */
	LAPS_ERR_FORMAT = -9,        /* malformed input (record, key, marker ...) */
	LAPS_ERR_VERSION = -10,      /* unsupported format version */
	LAPS_ERR_TOOBIG = -11,       /* input exceeds its maximum size */
	LAPS_ERR_CRYPTO = -12,       /* authentication/decryption failed */
	LAPS_ERR_NOTRECIPIENT = -13, /* this key is not a recipient of the envelope */
	LAPS_ERR_PASSPHRASE = -14,   /* wrong or missing passphrase */
	LAPS_ERR_UNAVAILABLE = -15,  /* backend unreachable (transient) */
	LAPS_ERR_TIMEOUT = -16,      /* operation timed out (transient) */
	LAPS_ERR_AUTH = -17,         /* authentication to the backend failed */
	LAPS_ERR_ACCESS = -18,       /* authenticated but not authorised */
	LAPS_ERR_AMBIGUOUS = -19,    /* several entries match */
	LAPS_ERR_UNSUPPORTED = -20,  /* operation not supported by this backend/mode */
	LAPS_ERR_LOCKED = -21,       /* lock held by another process */
	LAPS_ERR_ACCOUNT = -22,      /* local account missing, locked or expired */
	LAPS_ERR_REFUSED = -23,      /* local policy (PAM) refused the password */
	LAPS_ERR_VERIFY = -24,       /* verification after setting failed */
	LAPS_ERR_TLS = -25,          /* TLS handshake / certificate failure */
	LAPS_ERR_SCHEMA = -26,       /* directory schema missing an attribute/class */
	LAPS_ERR_FAULT = -27,        /* injected fault (tests only) */
	LAPS_ERR_BACKEND = -28,      /* other permanent backend error */
	LAPS_ERR_BUSY = -29,         /* server overloaded / rate limited (transient) */
	LAPS_ERR_LAST_ = -30
};

/* Static description of an error code; never NULL. */
const char *laps_strerror(int err);

/* True when retrying later may succeed (unreachable, timeout, busy). */
bool laps_err_transient(int err);

/* Longest detail kept (bytes, without the NUL); longer ones end in "...". */
#define LAPS_ERRDETAIL_MAX 1023

/*
 * Record a detail for the current thread and return err, so that
 *   return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: unknown key '%s'", f, l, k);
 * works.  The detail must never contain a secret.
 *
 * The arguments are formatted into a separate buffer first, so an argument
 * may point into the current detail (laps_errdetail()) without garbling it;
 * to put context in front of the current detail, prefer laps_seterr_prefix.
 * The result is escaped with laps_escape() (it ends up in log lines and on
 * terminals: text from servers and files must not forge lines or send
 * terminal sequences) and capped at LAPS_ERRDETAIL_MAX bytes.
 */
int laps_seterr(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Put "<fmt...>: " in front of the current detail (or set it to "<fmt...>"
 * when there is none) and return err:
 *   return laps_seterr_prefix(rc, "ldap: %s", dn);   -> "ldap: DN: <old detail>"
 */
int laps_seterr_prefix(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The detail recorded by the last laps_seterr() on this thread, or "". */
const char *laps_errdetail(void);

/* Forget the detail (before an operation whose detail you will print). */
void laps_clearerr(void);

/*
 * "strerror: detail" (or just strerror) into buf; returns buf.
 * Convenient for one-line error messages.
 */
const char *laps_errstr(int err, char *buf, size_t len);

/*
 * Escape text from outside (a server's message, a file, a PAM item) for a
 * log line or a terminal.  Copies src (srclen bytes, may contain NUL) into
 * dst (cap >= 4 bytes, always NUL-terminated) and returns the length
 * written.  The rules (docs/SECURITY.md, "Log and terminal injection"):
 *   - LF, CR, TAB become the two characters \n, \r, \t;
 *   - every other C0 control byte (0x00-0x1f) and DEL (0x7f) becomes \xHH;
 *   - a byte that is not part of a valid UTF-8 sequence (shortest form,
 *     no surrogates, at most U+10FFFF) becomes \xHH: so a lone 0x9b (the
 *     8-bit CSI) or 0x85 (NEL) is escaped;
 *   - valid UTF-8 is kept (é, ü, 日本), except the code points terminals or
 *     viewers act on: C1 controls U+0080-U+009F, the line and paragraph
 *     separators U+2028/U+2029, and the bidirectional overrides
 *     U+202A-U+202E and U+2066-U+2069; each of their bytes becomes \xHH;
 *   - the backslash itself is kept as it is, so escaping is idempotent:
 *     escaping escaped text changes nothing (a detail that quotes an
 *     earlier detail is not escaped twice).  The output is for people; it
 *     is not meant to be decoded back.
 * The output is printable ASCII plus valid UTF-8 without the code points
 * above.  When it does not fit, it is cut before a whole escape or UTF-8
 * sequence and ends in "...".  *truncated (may be NULL) says so.
 */
size_t laps_escape(char *dst, size_t cap, const char *src, size_t srclen, int *truncated);

#endif
