/*
 * rotate.h — the two-phase rotation state machine (docs/AGENT.md).
 *
 * Invariant: at every instant the escrow (current record or history) holds
 * the password the local account actually has.
 *
 *   lock → journal replay → per account: decide → P' → journal(escrowing)
 *   → seal + backend write (pending, CAS) → journal(escrowed) → set local
 *   → verify → backend confirm → state file → remove journal
 *
 * Failures are reported as (LAPS_ERR_* code, stage); main() alone turns the
 * stage into an exit status.
 */
#ifndef LAPS_ROTATE_H
#define LAPS_ROTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/passgen.h"
#include "escrow/backend.h"
#include "escrow/conf.h"
#include "escrow/seal.h"
#include "escrow/escrow_conf.h"

/* Where a failure happened (ordered by how bad it is for the operator). */
enum laps_stage {
	LAPS_STAGE_OK = 0,
	LAPS_STAGE_INTERNAL, /* other/internal: journal/state I/O, post-auth action */
	LAPS_STAGE_CONFIG,   /* configuration, recipient keys */
	LAPS_STAGE_LOCK,     /* another agent holds the run lock */
	LAPS_STAGE_ESCROW,   /* backend unreachable/failed: local password untouched
			      * (or set and escrowed as pending, confirm to retry) */
	LAPS_STAGE_LOCAL     /* local set/verify failed or account unusable: the escrow
			      * keeps the password the account has */
};

#define LAPS_RUN_FORCE 0x1	   /* rotate now (rotate command) */
#define LAPS_RUN_POSTAUTH_ONLY 0x2 /* local checks only; backend only when due */

struct laps_agent {
	const struct laps_conf *cfg;	    /* borrowed */
	const struct laps_backend_ops *ops; /* borrowed (static) */
	struct laps_backend *backend;	    /* opened lazily, owned */
	struct laps_pubkey keys[LAPS_MAX_RECIPIENTS];
	size_t n_keys;
	bool keys_loaded;
	struct laps_passgen_policy policy;
	char device[LAPS_DEVICE_MAX + 1];
	char state_dir[1024];
	unsigned lock_wait;	   /* seconds */
	const char *shutdown_path; /* reset-reboot */
	const char *loginctl_path; /* reset-logoff (optional) */
	const char *proc_dir;	   /* normally /proc */
	/* outcome of the last run: first failure and its stage */
	int rc;
	enum laps_stage stage;
	unsigned rotated; /* rotations completed by the last run */
	bool noted;	  /* the failure at hand was already logged (rotate.c) */
};

/* Prepare (no I/O but the host name).  0 or LAPS_ERR_CONFIG/NOMEM. */
int laps_agent_init(struct laps_agent *a, const struct laps_conf *cfg,
		    const struct laps_backend_ops *ops) __attribute__((warn_unused_result));
/* Close the backend, wipe keys. */
void laps_agent_free(struct laps_agent *a);

/* Load the recipients' public keys from laps_escrow_conf(cfg)->recipients (once). */
int laps_agent_load_keys(struct laps_agent *a) __attribute__((warn_unused_result));
/* Open the backend (once). */
int laps_agent_open_backend(struct laps_agent *a) __attribute__((warn_unused_result));

/*
 * The whole run: lock, replay journals, decide and rotate each account (or
 * only `account` when non-NULL).  flags: LAPS_RUN_*.  Returns 0 or the first
 * failure (a->rc, a->stage).  Other accounts are still processed after one
 * fails.
 */
int laps_agent_run(struct laps_agent *a, unsigned flags, const char *account);

#endif
