/*
 * journal.h — the agent's on-disk files under <state_dir>:
 *
 *   journal.<account>  the rotation in flight: rotation id, phase, record
 *                      metadata and the new password P' (hex).  Exists
 *                      only between "about to escrow" and "confirmed".
 *   state.<account>    what this host last confirmed (agent/state.h).
 *
 * Both are text files "key=value" per line after a magic first line, mode
 * 0600, owned by root, opened with O_NOFOLLOW, replaced atomically (temp +
 * fsync + rename + fsync dir).  Formats: docs/AGENT.md.
 */
#ifndef LAPS_JOURNAL_H
#define LAPS_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/account.h"
#include "escrow/record.h"

#define LAPS_JOURNAL_MAX 4096

enum laps_journal_phase { LAPS_JOURNAL_ESCROWING = 0, LAPS_JOURNAL_ESCROWED = 1 };

struct laps_journal {
	char account[LAPS_ACCOUNT_MAX + 1];
	char device[LAPS_DEVICE_MAX + 1];
	uint32_t uid;
	char rotation_id[LAPS_ROTID_HEX + 1];
	int64_t rotated_at;
	enum laps_journal_phase phase;
	char reason[32]; /* why the rotation started (due reason name) */
	enum laps_lock_state lock; /* the account's lock state when it started
				    * (optional key `lock`, default none) */
	char *password;	 /* P': locked memory (laps_secret_*), NUL-terminated */
	size_t pwlen;
};

/* Zero; laps_journal_clear wipes and frees the password. */
void laps_journal_init(struct laps_journal *j);
void laps_journal_clear(struct laps_journal *j);

/* "<state_dir>/journal.<account>" */
int laps_journal_path(const char *state_dir, const char *account, char *buf, size_t len)
    __attribute__((warn_unused_result));

/* Write atomically (0600, fsync file + dir).  The serialised text, which
 * holds P', lives only in locked memory. */
int laps_journal_store(const char *path, const struct laps_journal *j)
    __attribute__((warn_unused_result));

/* Read and strictly parse (root-owned 0600 file, O_NOFOLLOW, size cap).
 * LAPS_ERR_NOTFOUND when there is no journal; LAPS_ERR_FORMAT names the
 * offending key.  *j is cleared first. */
int laps_journal_load(const char *path, struct laps_journal *j) __attribute__((warn_unused_result));

/* Parse from a buffer (for the unit tests and the loader). */
int laps_journal_parse(const char *buf, size_t len, struct laps_journal *j)
    __attribute__((warn_unused_result));

/* Overwrite the file's bytes with zeros, fsync, unlink, fsync the
 * directory.  A missing file is fine.  0 or LAPS_ERR_IO. */
int laps_journal_remove(const char *path) __attribute__((warn_unused_result));

/*
 * Scrub and remove the temporaries a killed journal write left behind
 * (<state_dir>/journal.<account>.tmp.XXXXXXXX, laps_file_write_atomic):
 * they may hold P'.  A file of that name that is a complete journal of
 * another account is left alone.  *removed counts them.  Call with the run
 * lock held.  0 or LAPS_ERR_IO.
 */
int laps_journal_remove_temps(const char *state_dir, const char *account, unsigned *removed)
    __attribute__((warn_unused_result));

const char *laps_journal_phase_name(enum laps_journal_phase p);

#endif
