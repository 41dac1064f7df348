/*
 * ldap_backend.h — the LDAP escrow backend (OpenLDAP, Active Directory)
 * and its FILETIME helpers.  Configuration, schema modes and what an
 * administrator sees are described in docs/LDAP.md.
 */
#ifndef LAPS_BACKEND_LDAP_H
#define LAPS_BACKEND_LDAP_H

#include <stddef.h>
#include <stdint.h>

#include "escrow/backend.h"

extern const struct laps_backend_ops laps_backend_ldap;

/*
 * FILETIME: 100 ns intervals since 1601-01-01T00:00:00Z, as Windows and
 * Active Directory store times (msLAPS-PasswordExpirationTime,
 * ms-Mcs-AdmPwdExpirationTime, the "t" of msLAPS-Password).
 * FILETIME = (unix + 11644473600) * 10^7.
 */
#define LAPS_FILETIME_UNIX_EPOCH 116444736000000000ULL /* FILETIME of 1970-01-01 */
#define LAPS_FILETIME_PER_SEC 10000000ULL
#define LAPS_FILETIME_DEC_MAX 21 /* buffer for a decimal FILETIME (20 digits + NUL) */
#define LAPS_FILETIME_HEX_MAX 17 /* buffer for a hex FILETIME (16 digits + NUL) */

/* unix seconds -> FILETIME.  0, or LAPS_ERR_INVALID if out of range
 * (before 1601 or beyond uint64). */
int laps_filetime_from_unix(int64_t unix_seconds, uint64_t *ft) __attribute__((warn_unused_result));
/* FILETIME -> unix seconds, rounding down to whole seconds (never fails). */
int64_t laps_filetime_to_unix(uint64_t ft);

/* Decimal form (as in the expiration attributes), no leading zeros.
 * buf must hold LAPS_FILETIME_DEC_MAX bytes. Returns buf. */
char *laps_filetime_format_dec(uint64_t ft, char buf[LAPS_FILETIME_DEC_MAX]);
/* Lower-case hex, no leading zeros (the "t" of msLAPS-Password).
 * buf must hold LAPS_FILETIME_HEX_MAX bytes. Returns buf. */
char *laps_filetime_format_hex(uint64_t ft, char buf[LAPS_FILETIME_HEX_MAX]);
/* Parse the decimal / hex (either case) forms; the whole string (len bytes)
 * must be digits.  0 or LAPS_ERR_FORMAT. */
int laps_filetime_parse_dec(const char *s, size_t len, uint64_t *ft)
    __attribute__((warn_unused_result));
int laps_filetime_parse_hex(const char *s, size_t len, uint64_t *ft)
    __attribute__((warn_unused_result));

/*
 * Microsoft schema modes: the expiration value also carries the rotation
 * tag and the pending bit in its sub-second part (docs/LDAP.md):
 *   value = FILETIME(expiry seconds) + 2 * tag + pending,
 *   tag   = (first 8 hex digits of the rotation id) mod 4999999.
 */
#define LAPS_MS_TAG_MOD 4999999U
uint32_t laps_ms_rotation_tag(const char *rotation_id);
uint64_t laps_ms_expiration_encode(int64_t expiry_unix_seconds, uint32_t tag, int pending);
void laps_ms_expiration_decode(uint64_t value, int64_t *expiry, uint32_t *tag, int *pending);

/*
 * Expand a filter template: %h = short host name (first label), %f = the
 * full device name, %% = '%'; substituted values are escaped per RFC 4515.
 * out holds outlen bytes.  0, LAPS_ERR_CONFIG (unknown %-sequence) or
 * LAPS_ERR_TOOBIG.
 */
int laps_ldap_filter_expand(const char *tmpl, const char *device, char *out, size_t outlen)
    __attribute__((warn_unused_result));

/*
 * Parse a msLAPS-Password value (untrusted: len bytes, not NUL-terminated)
 * {"n": account, "t": FILETIME hex, "p": password} — exactly these three
 * string members, nothing after the object, at most 4096 bytes.  On success
 * account (NUL-terminated), *ft and *password (locked memory, the caller
 * frees it with laps_secret_free) are set; the parser's copies of the
 * password are wiped.  0, LAPS_ERR_FORMAT, LAPS_ERR_TOOBIG or LAPS_ERR_NOMEM.
 */
int laps_ldap_mslaps_parse(const char *json, size_t len, char account[LAPS_ACCOUNT_MAX + 1],
			   uint64_t *ft, char **password) __attribute__((warn_unused_result));

/* Map an LDAP result code to LAPS_ERR_* (no detail). */
int laps_ldap_map_error(int ldap_rc);

#endif
