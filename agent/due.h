/*
 * due.h — when to rotate.  Pure functions of their inputs (no I/O), so the
 * unit tests can walk every case.
 */
#ifndef LAPS_DUE_H
#define LAPS_DUE_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/account.h"
#include "agent/journal.h"
#include "agent/state.h"
#include "escrow/marker.h"
#include "escrow/record.h"

enum laps_due_reason {
	LAPS_DUE_NONE = 0,
	LAPS_DUE_FORCED,       /* rotate on the command line */
	LAPS_DUE_NO_RECORD,    /* the backend has no record for the account */
	LAPS_DUE_EXPIRED,      /* the backend's expiry passed (admins can force it) */
	LAPS_DUE_ROTID,	       /* escrowed rotation id is not the one this host confirmed */
	LAPS_DUE_HASH_CHANGED, /* the local hash is not the one the agent set */
	LAPS_DUE_POSTAUTH      /* used after the last rotation, and the delay passed */
};

struct laps_due_input {
	int64_t now;
	bool forced;
	/* backend (ignored when !backend_read: post-auth-only checks) */
	bool backend_read;
	const struct laps_record *rec; /* NULL: no record */
	/* local */
	const struct laps_agent_state *state;  /* NULL: this host never confirmed one */
	const struct laps_account_info *local; /* current account (digest if readable) */
	const struct laps_marker *marker;      /* NULL: no usage marker */
	int64_t postauth_delay;		       /* 0: post-auth rotation off */
};

/* The first reason that applies, in the order of the enum (FORCED first). */
enum laps_due_reason laps_due_decide(const struct laps_due_input *in);

/*
 * Post-authentication deadline: last use (max(opened, closed)) + delay, when
 * delay > 0, a marker exists and the session was opened after the last
 * confirmed rotation (opened > state->rotated_at; no state: any use counts;
 * a close after the rotation of a session opened before it does not count).
 * Returns true and *deadline when there is one (it may lie in the future).
 */
bool laps_due_postauth_deadline(const struct laps_marker *m, const struct laps_agent_state *st,
				int64_t delay, int64_t *deadline);

const char *laps_due_reason_name(enum laps_due_reason r);

#endif
