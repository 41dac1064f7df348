/*
 * due.c — the rotation decision.
 */
#include "config.h"

#include <string.h>

#include "agent/due.h"
#include "agent/state.h"

const char *
laps_due_reason_name(enum laps_due_reason r)
{
	switch (r) {
	case LAPS_DUE_FORCED:
		return "forced";
	case LAPS_DUE_NO_RECORD:
		return "no-record";
	case LAPS_DUE_EXPIRED:
		return "expired";
	case LAPS_DUE_ROTID:
		return "rotation-id-mismatch";
	case LAPS_DUE_HASH_CHANGED:
		return "local-hash-changed";
	case LAPS_DUE_POSTAUTH:
		return "post-auth";
	case LAPS_DUE_NONE:
		break;
	}
	return "none";
}

bool
laps_due_postauth_deadline(const struct laps_marker *m, const struct laps_agent_state *st,
			   int64_t delay, int64_t *deadline)
{
	int64_t last;

	if (m == NULL || delay <= 0)
		return false;
	last = m->opened > m->closed ? m->opened : m->closed;
	if (m->opened <= 0 || last <= 0)
		return false;
	/* the session must have started (authenticated) after the last
	 * rotation: a session opened before it only knew the old password,
	 * and its close (e.g. ended by reset-logoff) is not a new use */
	if (st != NULL && st->rotation_id[0] != '\0' && m->opened <= st->rotated_at)
		return false;
	*deadline = last + delay;
	return true;
}

enum laps_due_reason
laps_due_decide(const struct laps_due_input *in)
{
	const struct laps_agent_state *st = in->state;
	int64_t deadline;

	if (in->forced)
		return LAPS_DUE_FORCED;
	if (in->backend_read) {
		if (in->rec == NULL)
			return LAPS_DUE_NO_RECORD;
		if (in->rec->expires_at <= in->now)
			return LAPS_DUE_EXPIRED;
		if (st == NULL || st->rotation_id[0] == '\0' ||
		    strcmp(st->rotation_id, in->rec->rotation_id) != 0)
			return LAPS_DUE_ROTID;
	}
	if (st != NULL && st->have_digest && in->local != NULL && in->local->have_digest &&
	    memcmp(st->digest, in->local->digest, LAPS_HASH_DIGEST_BYTES) != 0)
		return LAPS_DUE_HASH_CHANGED;
	if (laps_due_postauth_deadline(in->marker, st, in->postauth_delay, &deadline) &&
	    in->now >= deadline)
		return LAPS_DUE_POSTAUTH;
	return LAPS_DUE_NONE;
}
