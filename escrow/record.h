/*
 * record.h — the escrow record: one rotation of one account on one device.
 *
 * JSON (json-c) form documented in docs/FORMAT.md.  Parsing is strict:
 * unknown format version, missing fields, wrong types, unknown fields and
 * oversized input are errors (LAPS_ERR_VERSION / LAPS_ERR_FORMAT /
 * LAPS_ERR_TOOBIG, detail names the field), never crashes.
 */
#ifndef LAPS_RECORD_H
#define LAPS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "escrow/conf.h"

#define LAPS_RECORD_VERSION 2     /* written when seq > 0 */
#define LAPS_RECORD_VERSION_MIN 1 /* still read (no seq member) */
#define LAPS_RECORD_SEQ_MAX 9007199254740991ULL /* 2^53 - 1: exact in every JSON reader */
#define LAPS_RECORD_MAX_JSON (64 * 1024) /* larger input is refused */
#define LAPS_ROTID_BYTES 16
#define LAPS_ROTID_HEX (2 * LAPS_ROTID_BYTES) /* rotation id: 32 lowercase hex chars */
#define LAPS_KEYID_MAX 16                      /* key id: 16 lowercase hex chars */
#define LAPS_MAX_RECIPIENTS 32
#define LAPS_ENVELOPE_MAX (16 * 1024)
#define LAPS_PASSWORD_MAX 256 /* longest password/passphrase handled anywhere */

enum laps_record_state { LAPS_STATE_PENDING = 0, LAPS_STATE_CONFIRMED = 1 };

struct laps_record {
	char device[LAPS_DEVICE_MAX + 1];   /* lower-case host name */
	char account[LAPS_ACCOUNT_MAX + 1];
	uint32_t uid;
	char rotation_id[LAPS_ROTID_HEX + 1];
	uint64_t seq;       /* per-account sequence number, 1..LAPS_RECORD_SEQ_MAX,
			     * strictly increasing with every rotation (format v2);
			     * 0 = a version 1 record, which has none */
	int64_t rotated_at; /* unix seconds */
	int64_t expires_at; /* unix seconds */
	enum laps_record_state state;
	uint8_t *envelope; /* sealed password (malloc'd), see seal.h; NULL in the
			    * clear-text Microsoft schema modes */
	size_t envelope_len;
	char key_ids[LAPS_MAX_RECIPIENTS][LAPS_KEYID_MAX + 1]; /* recipients it is sealed to */
	size_t n_key_ids;
	char *password; /* clear text in locked memory (laps_secret_*): only set when
			 * a clear-text schema (mslaps/legacy) was read back; NULL otherwise */
	char source[64]; /* filled by backends on read: e.g. "ldap (schema mslaps)" */
	int64_t rotate_by; /* not serialised: set on an admin read when the server
			    * announced that this read makes the password rotate by
			    * then (laps-escrowd's Laps-Rotate-By); 0 = none */
	bool encrypted;	 /* password was decrypted from msLAPS-EncryptedPassword */
};

struct laps_record_list {
	struct laps_record *v; /* newest first */
	size_t n;
};

/* Zero-initialise. */
void laps_record_init(struct laps_record *r);
/* Free envelope, wipe+free password, re-initialise. */
void laps_record_clear(struct laps_record *r);
/* Deep copy (dst is cleared first).  0 or LAPS_ERR_NOMEM. */
int laps_record_copy(struct laps_record *dst, const struct laps_record *src)
    __attribute__((warn_unused_result));

/* New random rotation id (lowercase hex) into id[LAPS_ROTID_HEX + 1]. */
void laps_record_new_rotation_id(char id[LAPS_ROTID_HEX + 1]);

/* Parse JSON (len bytes, need not be NUL-terminated) into *out (cleared first). */
int laps_record_parse(const char *json, size_t len, struct laps_record *out)
    __attribute__((warn_unused_result));
/* Serialise to compact JSON; *json is malloc'd and NUL-terminated.  Format
 * version 2 with "seq" when r->seq > 0, version 1 (no "seq") when it is 0. */
int laps_record_serialise(const struct laps_record *r, char **json)
    __attribute__((warn_unused_result));
/* Check the fields of an in-memory record (lengths, charset, state). */
int laps_record_validate(const struct laps_record *r) __attribute__((warn_unused_result));

const char *laps_record_state_name(enum laps_record_state s);

/*
 * Name checks used by the parser and by backends that build file names or
 * filters from them (docs/FORMAT.md section 1):
 *   device:  1..LAPS_DEVICE_MAX chars, dot-separated labels of 1..63 chars
 *            of [a-z0-9_-] (lower-case only; no leading/trailing/double dot)
 *   account: 1..LAPS_ACCOUNT_MAX chars of [A-Za-z0-9._-], optionally ending
 *            in '$'; the first char is not '.' or '-'
 * No '/', no "..", no leading dot, so both are safe as a path component.
 */
bool laps_record_device_ok(const char *device);
bool laps_record_account_ok(const char *account);

/*
 * History order (docs/FORMAT.md 1.5): negative when a is newer than b.
 * Newer = higher seq; equal seq (both 0: version 1 records) = later
 * rotated_at; then the higher rotation id.  A record with a seq is newer
 * than every version 1 record (seq 0) of the account.  Backends that order
 * or trim history themselves use this, never server or directory order.
 */
int laps_record_cmp_newest_first(const struct laps_record *a, const struct laps_record *b);
/* Sort newest first with laps_record_cmp_newest_first. */
void laps_record_list_sort(struct laps_record_list *l);
/* Append a deep copy of r.  0 or LAPS_ERR_NOMEM. */
int laps_record_list_push(struct laps_record_list *l, const struct laps_record *r)
    __attribute__((warn_unused_result));
void laps_record_list_free(struct laps_record_list *l);

#endif
