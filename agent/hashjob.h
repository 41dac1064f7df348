/*
 * hashjob.h — the shadow method's password hash, computed on a worker
 * thread while the rotation escrows the password.
 *
 * A rotation with method = shadow spends most of its time in two things
 * that do not depend on each other: hashing P' (yescrypt or SHA-512, tens
 * to hundreds of milliseconds by design) and making P' durable elsewhere
 * (the journal's fsyncs, the backend's round trips and the server's own
 * commit).  Started right after P' is generated, the hash runs during that
 * wait; set() then takes the finished hash instead of computing it.
 * Nothing about the order of the protocol changes: the hash is only
 * *written* after the escrow, exactly as before (docs/AGENT.md).
 *
 * The job borrows P' (it must stay unchanged until laps_hashjob_free()),
 * runs on a stack of locked memory that is wiped when the job is freed,
 * and never reports through the caller's error state: a job that failed
 * hands its error to laps_hashjob_take(), a job that could not start is
 * NULL and set() hashes inline, as it always did.
 */
#ifndef LAPS_HASHJOB_H
#define LAPS_HASHJOB_H

#include "agent/agent_conf.h"

struct laps_hashjob;

/* Start hashing password with (h, cost) on a worker thread.  NULL when no
 * thread could be started (not an error: hash inline).  libcrypt must be
 * loaded (the method's load()). */
struct laps_hashjob *laps_hashjob_start(enum laps_hash h, unsigned cost, const char *password);

/*
 * Wait for the job.  When it hashed this password (the same pointer) with
 * (h, cost): 0 and *out the hash (free() it, as laps_shadow_hash's), or
 * the job's error with its detail.  LAPS_ERR_INVALID when the job was for
 * another password or hash (the caller hashes inline).  A job is taken
 * once.
 */
int laps_hashjob_take(struct laps_hashjob *job, enum laps_hash h, unsigned cost,
		      const char *password, char **out) __attribute__((warn_unused_result));

/* Wait for the job if it still runs, wipe and free it.  NULL is fine. */
void laps_hashjob_free(struct laps_hashjob *job);

#endif
