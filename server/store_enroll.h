/*
 * store_enroll.h — enrollment tokens and enrolled devices in the store
 * (migration 2 of server/store_schema.c), through store_ops.query: the
 * same SQL on SQLite and PostgreSQL.  Every call is one transaction; the
 * audit row passed in (if any) commits with it.
 */
#ifndef LAPS_SERVER_STORE_ENROLL_H
#define LAPS_SERVER_STORE_ENROLL_H

#include <stdbool.h>
#include <stdint.h>

#include "escrow/record.h"
#include "server/store.h"

#define ENROLL_ID_HEX 16
#define ENROLL_HASH_HEX 64
#define ENROLL_UNIT_MAX 63
#define ENROLL_PATTERN_MAX 255

struct enroll_token {
	char id[ENROLL_ID_HEX + 1];
	char hash[ENROLL_HASH_HEX + 1];
	char unit[ENROLL_UNIT_MAX + 1];
	char pattern[ENROLL_PATTERN_MAX + 1]; /* "" = none */
	char created_by[256];
	int64_t uses_max, uses_left, expires_at, created_at, revoked_at; /* revoked_at 0 = no */
};

struct enrolled_device {
	char device[LAPS_DEVICE_MAX + 1];
	char serial[40];
	char via[64];
	int64_t enrolled_at, renewed_at, not_after, disabled_at; /* disabled_at 0 = enabled */
	bool reenroll_allowed;
};

/* LAPS_ERR_UNSUPPORTED when the store has no query op. */
int store_enroll_token_add(struct store *s, const struct enroll_token *t,
			   const struct store_audit *a) __attribute__((warn_unused_result));
/* LAPS_ERR_NOTFOUND when no token has this id. */
int store_enroll_token_get(struct store *s, const char *id, struct enroll_token *t)
    __attribute__((warn_unused_result));
/* Take one use: LAPS_ERR_CONFLICT when none is left, expired or revoked. */
int store_enroll_token_use(struct store *s, const char *id, int64_t now)
    __attribute__((warn_unused_result));
/* Every token, newest first (at most STORE_QUERY_ROWS); *v malloc'd. */
int store_enroll_token_list(struct store *s, struct enroll_token **v, size_t *n)
    __attribute__((warn_unused_result));
/* LAPS_ERR_NOTFOUND when no token has this id. */
int store_enroll_token_revoke(struct store *s, const char *id, int64_t now,
			      const struct store_audit *a) __attribute__((warn_unused_result));

/* LAPS_ERR_NOTFOUND when the device never enrolled. */
int store_enrolled_get(struct store *s, const char *device, struct enrolled_device *d)
    __attribute__((warn_unused_result));
/* A first enrollment of d->device: inserted, or replacing a row whose
 * re-enrollment an admin allowed; LAPS_ERR_CONFLICT (nothing written, no
 * audit row) when the name is held.  Atomic. */
int store_enrolled_new(struct store *s, const struct enrolled_device *d,
		       const struct store_audit *a) __attribute__((warn_unused_result));
/* A renewal: serial/not_after/renewed_at of an enabled device (a device
 * enrolled elsewhere gets its row); LAPS_ERR_CONFLICT when disabled. */
int store_enrolled_renew(struct store *s, const struct enrolled_device *d,
			 const struct store_audit *a) __attribute__((warn_unused_result));

enum enrolled_change { ENROLLED_DISABLE = 0, ENROLLED_ENABLE, ENROLLED_REENROLL };
/* Disable / enable a device, or allow its next simpleenroll (a re-imaged
 * machine).  LAPS_ERR_NOTFOUND when the device never enrolled. */
int store_enrolled_change(struct store *s, const char *device, enum enrolled_change what,
			  int64_t now, const struct store_audit *a)
    __attribute__((warn_unused_result));
/* Enrolled devices after `after` (NULL: from the start), by name, at most
 * max; *v malloc'd. */
int store_enrolled_list(struct store *s, const char *after, size_t max, struct enrolled_device **v,
			size_t *n) __attribute__((warn_unused_result));

#endif
