/*
 * lockstate.h — the lock and expiry state of a local account as the shadow
 * file shows it, and what the agent does with it (docs/AGENT.md, "Locked,
 * fresh and expired accounts").
 *
 *   fresh   never had a password: '*', '!', '!!', '!*', '*LK*' ... (any
 *           run of '!' followed by nothing or by a '*' placeholder).  Rotated;
 *           the new hash is written without a lock prefix (the account gets
 *           its first, managed password).
 *   locked  '!' (or several) in front of a hash, as usermod -L / passwd -l
 *           leave it.  Rotated and stays locked: the new hash is written
 *           behind the same prefix, so usermod -U later unlocks the escrowed
 *           password.  Verification checks the hash behind the prefix.
 *   none    a usable hash (or the empty field, decided elsewhere).
 *
 * Expiry (shadow field 8, expire day <= today as pam_unix decides) is
 * reported and never changed.
 */
#ifndef LAPS_LOCKSTATE_H
#define LAPS_LOCKSTATE_H

#include <stdbool.h>
#include <stddef.h>

#include "escrow/conf.h"

enum laps_lock_state { LAPS_LOCK_NONE = 0, LAPS_LOCK_FRESH, LAPS_LOCK_LOCKED };

/* What to do with the lock prefix when a new hash is written. */
enum laps_lock_want {
	LAPS_LOCK_WANT_KEEP = 0, /* locked stays locked, fresh and none get no prefix */
	LAPS_LOCK_WANT_LOCKED,	 /* '!' in front of the hash */
	LAPS_LOCK_WANT_UNLOCKED	 /* no prefix */
};

/* Classify a shadow password field; *prefix = number of leading '!'. */
enum laps_lock_state laps_lockstate_classify(const char *field, size_t *prefix);

/* The hash behind the lock prefix (a pointer into field). */
const char *laps_lockstate_bare(const char *field);

/*
 * The field to write for a new hash: hash with the prefix that want asks
 * for, given the current field.  0, LAPS_ERR_TOOBIG.
 */
int laps_lockstate_compose(const char *current, enum laps_lock_want want, const char *hash,
			   char *out, size_t len) __attribute__((warn_unused_result));

/*
 * The field after changing only the lock of current (no new hash):
 * LOCKED adds one '!' when there is none, UNLOCKED removes them from a
 * hash.  A fresh field is never unlocked ('!' would become the empty,
 * password-less field).  0, LAPS_ERR_TOOBIG.
 */
int laps_lockstate_relock(const char *current, enum laps_lock_want want, char *out, size_t len)
    __attribute__((warn_unused_result));

/* The want for a rotation: [agent] account_state, and for keep the state
 * the account had when the rotation started (journal `lock`). */
enum laps_lock_want laps_lock_want_for(const struct laps_conf *cfg, enum laps_lock_state at_start);

/*
 * Change only the lock prefix of account's line in <root>/etc/shadow (under
 * the password-file lock, atomic replace) when want asks for a change.
 * *changed says whether the file was rewritten.  LAPS_ERR_NOTFOUND when
 * the shadow file has no entry for the account.
 */
int laps_lockstate_apply(const struct laps_conf *cfg, const char *account, enum laps_lock_want want,
			 bool *changed) __attribute__((warn_unused_result));

/* uid 0 is refused unless [agent] allow_uid0 = yes.  0 or LAPS_ERR_ACCOUNT. */
int laps_account_check_uid(const struct laps_conf *cfg, const char *account, unsigned uid)
    __attribute__((warn_unused_result));

const char *laps_lock_state_name(enum laps_lock_state s);
/* "none" | "fresh" | "locked" back to the state (journal).  0 or LAPS_ERR_FORMAT. */
int laps_lock_state_parse(const char *s, size_t n, enum laps_lock_state *out)
    __attribute__((warn_unused_result));

#endif
