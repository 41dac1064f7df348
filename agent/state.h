/*
 * state.h — the per-account state file, <state_dir>/state.<account>: what
 * this host last confirmed: rotation id, time, BLAKE2b-256 digest of the
 * hash it set, last error.  A "key=value" text file like the journal
 * (agent/journal.h): 0600, root-owned, replaced atomically.  Format:
 * docs/AGENT.md.
 */
#ifndef LAPS_STATE_H
#define LAPS_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/account.h"
#include "escrow/conf.h"
#include "escrow/record.h"

#define LAPS_STATE_MAX 4096
#define LAPS_STATE_ERR_MAX 255

struct laps_agent_state {
	char account[LAPS_ACCOUNT_MAX + 1];
	char rotation_id[LAPS_ROTID_HEX + 1]; /* last confirmed; "" = none */
	int64_t rotated_at;		      /* its rotation time; 0 = never */
	int64_t expires_at;		      /* expiry confirmed with it (informational) */
	bool have_digest;
	uint8_t digest[LAPS_HASH_DIGEST_BYTES]; /* of the crypt string the agent set */
	char backend[32];			/* backend it was escrowed to */
	int64_t last_run;			/* last run that looked at this account */
	int64_t last_error_at;			/* 0 = no error */
	char last_error[LAPS_STATE_ERR_MAX + 1];
	int last_error_code; /* its LAPS_ERR_* (negative); 0 = none or not recorded */
};

void laps_state_init(struct laps_agent_state *s, const char *account);
/* "<state_dir>/state.<account>" */
int laps_state_path(const char *state_dir, const char *account, char *buf, size_t len)
    __attribute__((warn_unused_result));
/* LAPS_ERR_NOTFOUND when there is none (s initialised for account). */
int laps_state_load(const char *path, const char *account, struct laps_agent_state *s)
    __attribute__((warn_unused_result));
int laps_state_parse(const char *buf, size_t len, struct laps_agent_state *s)
    __attribute__((warn_unused_result));
int laps_state_store(const char *path, const struct laps_agent_state *s)
    __attribute__((warn_unused_result));

#endif
