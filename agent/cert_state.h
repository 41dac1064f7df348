/*
 * cert_state.h — <state_dir>/cert: what the agent last did with its mTLS
 * certificate ([rest] auth = mtls): when it last enrolled or renewed, and
 * the last renewal that failed (when, why).  `laps-agent status` shows it;
 * a "key=value" file like state.<account> (agent/kvfile.h), 0600, replaced
 * atomically.  Format: docs/AGENT.md.
 */
#ifndef LAPS_CERT_STATE_H
#define LAPS_CERT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/state.h"

struct laps_cert_state {
	int64_t renewed_at; /* last enrollment or renewal that worked; 0 = never */
	int64_t failed_at;  /* last renewal (or enrollment) that failed; 0 = none */
	int failed_code;    /* its LAPS_ERR_* (negative) */
	char failed[LAPS_STATE_ERR_MAX + 1]; /* its reason (one line, no secret) */
	bool last_ok;	    /* the newest outcome was a success (both can fall
			     * in one second: the times cannot order them) */
};

/* What `laps-agent status` shows of the certificate (agent/enroll.c fills it). */
struct laps_cert_status {
	bool managed; /* backend = rest, auth = mtls, cert_file and key_file set */
	char cert_file[1024];
	bool have_times; /* the certificate was read */
	int64_t not_before, not_after;
	int64_t renew_from; /* 2/3 of its lifetime: run renews from then on */
	char error[400];    /* why it could not be read ("" = it was) */
	bool have_state;    /* <state_dir>/cert read */
	struct laps_cert_state state;
};

/* LAPS_ERR_NOTFOUND when there is none (*s zeroed). */
int laps_cert_state_load(const char *state_dir, struct laps_cert_state *s)
    __attribute__((warn_unused_result));
int laps_cert_state_parse(const char *buf, size_t len, struct laps_cert_state *s)
    __attribute__((warn_unused_result));
int laps_cert_state_store(const char *state_dir, const struct laps_cert_state *s)
    __attribute__((warn_unused_result));

/* Record an outcome at now: rc == 0 a success (renewed_at), else a failure
 * with why.  Logged, never returned: the state file only informs. */
void laps_cert_state_note(const char *state_dir, int64_t now, int rc, const char *why);

#endif
