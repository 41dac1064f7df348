/*
 * rotate.c — the rotation state machine (see rotate.h, docs/AGENT.md).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/account_create.h"
#include "agent/lockstate.h"
#include "agent/due.h"
#include "agent/fault.h"
#include "agent/hashjob.h"
#include "agent/inputs.h"
#include "agent/journal.h"
#include "agent/lock.h"
#include "agent/postauth.h"
#include "agent/rotate.h"
#include "agent/state.h"
#include "escrow/backend.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/events.h"
#include "escrow/fileio.h"
#include "escrow/keys.h"
#include "escrow/log.h"
#include "escrow/marker.h"
#include "escrow/record.h"
#include "escrow/seal.h"
#include "escrow/secret.h"
#include "agent/agent_conf.h"
#include "backends/backend_conf.h"
#include "escrow/escrow_conf.h"

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

/*
 * Remember the first failure of the run.  Every failure is said once: by
 * note_error() just before (which sets a->noted), or here with the error's
 * detail, so that no non-zero exit is silent.
 */
static int
fail(struct laps_agent *a, int rc, enum laps_stage stage)
{
	char err[512];

	if (!a->noted)
		log_event(rc == LAPS_ERR_LOCKED ? LAPS_EV_LOCKED : LAPS_EV_RUN_FAILED, "%s",
			  laps_errstr(rc, err, sizeof err));
	a->noted = false;
	if (a->rc == 0) {
		a->rc = rc;
		a->stage = stage;
	}
	return rc;
}

int
laps_agent_init(struct laps_agent *a, const struct laps_conf *cfg,
		const struct laps_backend_ops *ops)
{
	int rc;

	memset(a, 0, sizeof *a);
	a->cfg = cfg;
	a->ops = ops;
	a->lock_wait = LAPS_LOCK_WAIT_DEFAULT;
	a->shutdown_path = LAPS_SHUTDOWN_PATH;
	a->loginctl_path = LAPS_LOGINCTL_PATH;
	a->proc_dir = "/proc";
	if ((rc = laps_snprintf(a->state_dir, sizeof a->state_dir, "%s",
				laps_agent_conf(cfg)->state_dir != NULL
				    ? laps_agent_conf(cfg)->state_dir
				    : LAPS_STATE_DIR_DEFAULT)) != 0)
		return laps_seterr(LAPS_ERR_CONFIG, "state_dir too long");
	if (laps_escrow_conf(cfg)->device != NULL && laps_escrow_conf(cfg)->device[0] != '\0') {
		if ((rc = laps_snprintf(a->device, sizeof a->device, "%s",
					laps_escrow_conf(cfg)->device)) != 0)
			return laps_seterr(LAPS_ERR_CONFIG, "[escrow] device too long");
		laps_hostname_lower(a->device);
	} else if ((rc = laps_device_name(a->device, sizeof a->device)) != 0) {
		return rc;
	}
	if ((rc = laps_passgen_policy_from_config(cfg, &a->policy)) != 0)
		return rc;
	return 0;
}

void
laps_agent_free(struct laps_agent *a)
{
	if (a->backend != NULL)
		laps_backend_close(a->backend);
	a->backend = NULL;
	laps_wipe(a->keys, sizeof a->keys);
	a->n_keys = 0;
	a->keys_loaded = false;
}

int
laps_agent_load_keys(struct laps_agent *a)
{
	size_t i;
	int rc;

	if (a->keys_loaded)
		return 0;
	a->n_keys = 0;
	if (laps_escrow_conf(a->cfg)->n_recipients == 0 && laps_backend_conf_cleartext(a->cfg)) {
		/* the backend stores clear text: nothing to seal to */
		a->keys_loaded = true;
		return 0;
	}
	for (i = 0; i < laps_escrow_conf(a->cfg)->n_recipients; i++) {
		rc = laps_pubkey_load_file(laps_escrow_conf(a->cfg)->recipients[i], a->keys,
					   LAPS_MAX_RECIPIENTS, &a->n_keys);
		if (rc != 0)
			return rc;
	}
	if (a->n_keys == 0)
		return laps_seterr(LAPS_ERR_CONFIG, "[escrow] recipients: no public keys loaded");
	a->keys_loaded = true;
	return 0;
}

int
laps_agent_open_backend(struct laps_agent *a)
{
	struct laps_backend_env env;

	if (a->backend != NULL)
		return 0;
	if (a->ops == NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "no backend");
	laps_agent_backend_env(a->cfg, &env);
	return laps_backend_open(a->ops, a->cfg, LAPS_ROLE_AGENT, &env, &a->backend);
}

static const char *
backend_name(const struct laps_agent *a)
{
	return a->ops != NULL ? a->ops->name : "?";
}

/* Record the failure in the state file (best effort) and log it. */
static void note_error(struct laps_agent *a, unsigned ev, const char *account, int rc,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void
note_error(struct laps_agent *a, unsigned ev, const char *account, int rc, const char *fmt, ...)
{
	struct laps_agent_state st;
	char path[1200], what[400], msg[800], err[400];
	va_list ap;
	int lrc;

	laps_errstr(rc, err, sizeof err);
	va_start(ap, fmt);
	if (vsnprintf(what, sizeof what, fmt, ap) < 0)
		what[0] = '\0';
	va_end(ap);
	if (laps_snprintf(msg, sizeof msg, "%s: %s", what, err) != 0)
		msg[sizeof msg - 1] = '\0';
	log_event(ev, "%s: %s", account, msg);
	a->noted = true; /* the fail() that follows need not say it again */
	if (laps_state_path(a->state_dir, account, path, sizeof path) != 0)
		return;
	lrc = laps_state_load(path, account, &st);
	if (lrc != 0 && lrc != LAPS_ERR_NOTFOUND)
		laps_state_init(&st, account);
	snprintf(st.last_error, sizeof st.last_error, "%.*s", (int)(sizeof st.last_error - 1), msg);
	st.last_error_code = rc;
	st.last_error_at = now_s();
	st.last_run = st.last_error_at;
	if (laps_state_store(path, &st) != 0)
		log_event(LAPS_EV_STATE_WRITE_FAILED, "%s: cannot update %s: %s", account, path,
			  laps_errdetail());
}

/*
 * Steps 5-6 for a journal in phase `escrowed`: set P' locally, verify,
 * confirm, state, remove the journal.  Shared by a fresh rotation and by
 * recovery (setting P' again is idempotent).
 */
static int
finish_local(struct laps_agent *a, const char *jpath, const struct laps_journal *j,
	     struct laps_hashjob *job)
{
	const struct laps_account_ops *acct = laps_account_ops_for(laps_agent_conf(a->cfg)->method);
	struct laps_account_info info;
	struct laps_agent_state st;
	char spath[1200];
	int64_t expires;
	int rc;

	if ((rc = laps_fault("before_local_set")) != 0)
		return fail(a, rc, LAPS_STAGE_LOCAL);
	laps_clearerr();
	if ((rc = acct->set(a->cfg, j->account, j->password, laps_lock_want_for(a->cfg, j->lock),
			    job, &info)) != 0) {
		/* journal stays in phase escrowed: the next run retries; the
		 * escrow shows the pending record and, in history, the
		 * password the account still has */
		note_error(a, LAPS_EV_LOCAL_SET_FAILED, j->account, rc,
			   "setting the local password failed (escrow keeps the "
			   "previous password; pending rotation retried next run)");
		return fail(a, rc, LAPS_STAGE_LOCAL);
	}
	if ((rc = laps_fault("after_local_set")) != 0)
		return fail(a, rc, LAPS_STAGE_LOCAL);

	expires = now_s() + laps_agent_conf(a->cfg)->password_age;
	laps_clearerr();
	if ((rc = laps_backend_confirm(a->backend, j->device, j->account, j->rotation_id,
				       expires)) != 0) {
		note_error(a, LAPS_EV_CONFIRM_FAILED, j->account, rc,
			   "local password set but confirming the escrow failed (record stays "
			   "pending with the new password; retried next run)");
		return fail(a, rc, LAPS_STAGE_ESCROW);
	}
	if ((rc = laps_fault("after_confirm")) != 0)
		return fail(a, rc, LAPS_STAGE_INTERNAL);

	if ((rc = laps_state_path(a->state_dir, j->account, spath, sizeof spath)) != 0)
		return fail(a, rc, LAPS_STAGE_INTERNAL);
	laps_state_init(&st, j->account);
	memcpy(st.rotation_id, j->rotation_id, sizeof st.rotation_id);
	st.rotated_at = j->rotated_at;
	st.expires_at = expires;
	st.have_digest = info.have_digest;
	memcpy(st.digest, info.digest, sizeof st.digest);
	snprintf(st.backend, sizeof st.backend, "%s", backend_name(a));
	st.last_run = now_s();
	if ((rc = laps_state_store(spath, &st)) != 0) {
		note_error(a, LAPS_EV_STATE_WRITE_FAILED, j->account, rc,
			   "cannot write the state file");
		return fail(a, rc, LAPS_STAGE_INTERNAL);
	}
	if ((rc = laps_fault("after_state")) != 0)
		return fail(a, rc, LAPS_STAGE_INTERNAL);
	if ((rc = laps_journal_remove(jpath)) != 0) {
		note_error(a, LAPS_EV_JOURNAL_WRITE_FAILED, j->account, rc,
			   "cannot remove the journal");
		return fail(a, rc, LAPS_STAGE_INTERNAL);
	}
	if ((rc = laps_fault("after_journal_removed")) != 0)
		return fail(a, rc, LAPS_STAGE_INTERNAL);
	return 0;
}

/* Drop a journal, reporting (not failing on) a removal error. */
static void
drop_journal(const char *jpath, const char *account)
{
	if (laps_journal_remove(jpath) != 0)
		log_event(LAPS_EV_JOURNAL_WRITE_FAILED, "%s: cannot remove %s: %s", account, jpath,
			  laps_errdetail());
}

/* A run killed while replacing the journal leaves its temporary, which
 * holds P': scrub and remove it (a failure is reported, not fatal). */
static void
sweep_journal_temps(struct laps_agent *a, const char *account)
{
	unsigned n = 0;
	int rc;

	laps_clearerr();
	rc = laps_journal_remove_temps(a->state_dir, account, &n);
	if (n > 0)
		log_event(LAPS_EV_JOURNAL_TEMP_REMOVED,
			  "%s: removed %u stale journal temporar%s (overwritten first)", account, n,
			  n == 1 ? "y" : "ies");
	if (rc != 0) {
		note_error(a, LAPS_EV_JOURNAL_WRITE_FAILED, account, rc,
			   "cannot remove a stale journal temporary");
		fail(a, rc, LAPS_STAGE_INTERNAL);
	}
}

/*
 * The backend's current record for the journal's account, for replay(): an
 * empty rotation id when there is none.  Backend unreachable: an error
 * (reported here), the journal is kept.
 */
static int
read_current(struct laps_agent *a, const struct laps_journal *j, struct laps_record *cur)
{
	struct laps_version ver;
	int rc;

	laps_clearerr();
	if ((rc = laps_agent_open_backend(a)) == 0)
		rc = laps_backend_read(a->backend, j->device, j->account, cur, &ver);
	if (rc == LAPS_ERR_NOTFOUND) {
		cur->rotation_id[0] = '\0';
		rc = 0;
	}
	if (rc != 0) {
		note_error(
		    a, LAPS_EV_RECOVERY_BACKEND_FAILED, j->account, rc,
		    "journal recovery: backend '%s' unreachable (journal kept, local password "
		    "untouched)",
		    backend_name(a));
		fail(a, rc, LAPS_STAGE_ESCROW);
	}
	return rc;
}

/*
 * Recovery of a journal left by a run that died.  Reads the backend: if its
 * current record is the journal's rotation, continue at set-local; else the
 * escrow never took it (or something newer replaced it): drop the journal.
 * Backend unreachable: leave the journal (never set a password that may not
 * be escrowed).  *handled = true when the account must not be looked at
 * again in this run.
 */
static int
replay(struct laps_agent *a, const char *account, bool *handled)
{
	struct laps_journal j;
	struct laps_record cur;
	char jpath[1200];
	int rc;

	*handled = false;
	laps_journal_init(&j);
	laps_record_init(&cur);
	if ((rc = laps_journal_path(a->state_dir, account, jpath, sizeof jpath)) != 0) {
		fail(a, rc, LAPS_STAGE_CONFIG);
		goto out;
	}
	sweep_journal_temps(a, account);
	rc = laps_journal_load(jpath, &j);
	if (rc == LAPS_ERR_NOTFOUND) {
		rc = 0;
		goto out;
	}
	*handled = true;
	if (rc != 0) {
		/* unreadable journal: keep it for the administrator */
		note_error(a, LAPS_EV_JOURNAL_BAD, account, rc,
			   "cannot read the rotation journal (left in place)");
		fail(a, rc, LAPS_STAGE_INTERNAL);
		goto out;
	}
	if (strcmp(j.account, account) != 0) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "%s: journal is for account '%s'", jpath,
				 j.account);
		note_error(a, LAPS_EV_JOURNAL_BAD, account, rc,
			   "bad rotation journal (left in place)");
		fail(a, rc, LAPS_STAGE_INTERNAL);
		goto out;
	}
	log_event(LAPS_EV_ROTATION_RESUMING, "%s: recovering rotation %s (phase %s)", account,
		  j.rotation_id, laps_journal_phase_name(j.phase));
	if ((rc = read_current(a, &j, &cur)) != 0)
		goto out;
	if (strcmp(cur.rotation_id, j.rotation_id) != 0) {
		log_event(LAPS_EV_JOURNAL_DROPPED,
			  "%s: rotation %s never reached the escrow (current %s): dropping its "
			  "journal",
			  account, j.rotation_id, cur.rotation_id[0] ? cur.rotation_id : "none");
		drop_journal(jpath, account);
		*handled = false; /* decide afresh */
		rc = 0;
		goto out;
	}
	if (j.phase != LAPS_JOURNAL_ESCROWED) {
		j.phase = LAPS_JOURNAL_ESCROWED;
		if ((rc = laps_journal_store(jpath, &j)) != 0) {
			note_error(a, LAPS_EV_JOURNAL_WRITE_FAILED, account, rc,
				   "cannot update the journal");
			fail(a, rc, LAPS_STAGE_INTERNAL);
			goto out;
		}
	}
	if ((rc = finish_local(a, jpath, &j, NULL)) == 0) {
		a->rotated++;
		log_event(LAPS_EV_ROTATION_RECOVERED, "%s: rotation %s completed (recovered)",
			  account, j.rotation_id);
	}
out:
	laps_record_clear(&cur);
	laps_journal_clear(&j);
	return rc;
}

/* Seal P' into rec (no recipients: only for a backend storing clear text). */
static int
seal_record(struct laps_agent *a, struct laps_record *rec, const struct laps_journal *j)
{
	struct laps_seal_ad ad;
	size_t i;

	if (a->n_keys == 0) {
		if (!(laps_backend_caps(a->backend) & LAPS_BCAP_CLEARTEXT))
			return laps_seterr(LAPS_ERR_CONFIG,
					   "[escrow] recipients: none, and backend '%s' does not "
					   "store the password in clear",
					   backend_name(a));
		return 0; /* nothing is sealed */
	}
	for (i = 0; i < a->n_keys && i < LAPS_MAX_RECIPIENTS; i++)
		memcpy(rec->key_ids[i], a->keys[i].id, sizeof rec->key_ids[i]);
	rec->n_key_ids = i;
	laps_seal_ad_from_record(&ad, rec);
	return laps_seal(a->keys, a->n_keys, &ad, j->password, j->pwlen, &rec->envelope,
			 &rec->envelope_len);
}

/* Step 4: seal P' to the recipients and write the record as pending,
 * compare-and-set against ver (cur_seq: the current record's seq, 0 when
 * none).  0 or the seal/backend error. */
static int
escrow_pending(struct laps_agent *a, const struct laps_journal *j, const struct laps_version *ver,
	       uint64_t cur_seq)
{
	struct laps_record rec;
	struct laps_version newver;
	int rc;

	laps_record_init(&rec);
	memcpy(rec.device, j->device, sizeof rec.device);
	memcpy(rec.account, j->account, sizeof rec.account);
	rec.uid = j->uid;
	memcpy(rec.rotation_id, j->rotation_id, sizeof rec.rotation_id);
	rec.seq = cur_seq + 1; /* the current record's + 1, under the CAS on ver */
	rec.rotated_at = j->rotated_at;
	rec.expires_at = j->rotated_at + laps_agent_conf(a->cfg)->password_age;
	rec.state = LAPS_STATE_PENDING;
	laps_clearerr();
	rc = seal_record(a, &rec, j);
	if (rc == 0)
		rc = laps_backend_write(
		    a->backend, &rec,
		    (laps_backend_caps(a->backend) & LAPS_BCAP_CLEARTEXT) ? j->password : NULL, ver,
		    &newver);
	laps_record_clear(&rec);
	return rc;
}

/* What a rotation needs before anything is written: the recipient keys, the
 * library the method sets passwords with, the journal's path.  0, or the
 * error already reported through fail(). */
static int
rotation_inputs(struct laps_agent *a, const char *account, char *jpath, size_t len)
{
	int rc;

	if ((rc = laps_agent_load_keys(a)) != 0) {
		note_error(a, LAPS_EV_KEYS_FAILED, account, rc, "cannot load the recipient keys");
		return fail(a, rc, LAPS_STAGE_CONFIG);
	}
	if ((rc = laps_account_ops_for(laps_agent_conf(a->cfg)->method)->load()) != 0 ||
	    (rc = laps_journal_path(a->state_dir, account, jpath, len)) != 0)
		return fail(a, rc, LAPS_STAGE_CONFIG);
	return 0;
}

/* Step 3 after P': a rotation id and the journal, phase escrowing.  0, or
 * the error already reported through fail(). */
static int
journal_escrowing(struct laps_agent *a, const char *account, enum laps_due_reason reason,
		  const struct laps_account_info *info, const char *jpath, struct laps_journal *j)
{
	int rc;

	snprintf(j->account, sizeof j->account, "%s", account);
	memcpy(j->device, a->device, sizeof j->device);
	j->uid = info->uid;
	laps_record_new_rotation_id(j->rotation_id);
	j->rotated_at = now_s();
	j->phase = LAPS_JOURNAL_ESCROWING;
	snprintf(j->reason, sizeof j->reason, "%s", laps_due_reason_name(reason));
	j->lock = info->lock;
	if ((rc = laps_journal_store(jpath, j)) != 0) {
		note_error(a, LAPS_EV_JOURNAL_WRITE_FAILED, account, rc,
			   "cannot write the rotation journal (nothing changed)");
		return fail(a, rc, LAPS_STAGE_INTERNAL);
	}
	if ((rc = laps_fault("after_journal")) != 0) {
		drop_journal(jpath, account);
		return fail(a, rc, LAPS_STAGE_ESCROW);
	}
	return 0;
}

/* Steps 3-6: a fresh rotation.  cur/ver: the backend's current record. */
static int
rotate_account(struct laps_agent *a, const char *account, enum laps_due_reason reason,
	       const struct laps_account_info *info, const struct laps_version *ver,
	       uint64_t cur_seq)
{
	const struct laps_account_ops *acct = laps_account_ops_for(laps_agent_conf(a->cfg)->method);
	struct laps_hashjob *job = NULL;
	struct laps_journal j;
	char jpath[1200];
	int rc;

	laps_journal_init(&j);
	if ((rc = rotation_inputs(a, account, jpath, sizeof jpath)) != 0)
		goto out;
	/* 3. P' (what set() computes from it starts now, to overlap steps 3-4:
	 * agent/hashjob.h), rotation id, journal (escrowing) */
	if ((rc = laps_passgen_generate(&a->policy, &j.password, &j.pwlen)) != 0) {
		note_error(a, LAPS_EV_PASSGEN_FAILED, account, rc, "password generation failed");
		fail(a, rc, LAPS_STAGE_INTERNAL);
		goto out;
	}
	if (acct->prepare != NULL)
		job = acct->prepare(a->cfg, j.password);
	if ((rc = journal_escrowing(a, account, reason, info, jpath, &j)) != 0)
		goto out;

	/* 4. seal and escrow as pending, compare-and-set */
	if ((rc = escrow_pending(a, &j, ver, cur_seq)) == 0)
		rc = laps_fault("after_escrow_write");
	if (rc != 0) {
		drop_journal(jpath, account);
		note_error(a, LAPS_EV_ESCROW_FAILED, account, rc,
			   "escrow to backend '%s' failed (local password unchanged)",
			   backend_name(a));
		fail(a, rc, LAPS_STAGE_ESCROW);
		goto out;
	}

	/* 5. journal escrowed, set locally, verify; 6. confirm */
	j.phase = LAPS_JOURNAL_ESCROWED;
	if ((rc = laps_journal_store(jpath, &j)) != 0) {
		/* the journal still says escrowing: recovery finds the record */
		note_error(a, LAPS_EV_JOURNAL_WRITE_FAILED, account, rc,
			   "cannot update the journal (recovered next run)");
		fail(a, rc, LAPS_STAGE_INTERNAL);
		goto out;
	}
	if ((rc = laps_fault("after_journal_escrowed")) != 0) {
		fail(a, rc, LAPS_STAGE_LOCAL);
		goto out;
	}
	if ((rc = finish_local(a, jpath, &j, job)) != 0)
		goto out;
	a->rotated++;
	log_event(LAPS_EV_ROTATED, "%s: password rotated (reason %s, rotation %s, backend %s)",
		  account, laps_due_reason_name(reason), j.rotation_id, backend_name(a));
	rc = 0;
out:
	laps_hashjob_free(job); /* first: the job borrows P' */
	laps_journal_clear(&j);
	return rc;
}

/* After a post-auth rotation: log who used the account, then act. */
static void
postauth_act(struct laps_agent *a, const char *account, uint32_t uid, const struct laps_marker *m)
{
	char desc[1400];
	int rc;

	laps_postauth_describe(m, desc, sizeof desc);
	log_event(LAPS_EV_POSTAUTH_ROTATION, "%s: post-authentication rotation: %s; action %s",
		  account, desc, laps_postauth_action_name(laps_postauth_conf(a->cfg)->action));
	switch (laps_postauth_conf(a->cfg)->action) {
	case LAPS_POSTAUTH_RESET:
		return;
	case LAPS_POSTAUTH_RESET_LOGOFF:
		if ((rc = laps_postauth_end_sessions((uid_t)uid, account, a->proc_dir,
						     a->loginctl_path, NULL)) != 0) {
			note_error(a, LAPS_EV_POSTAUTH_ACTION_FAILED, account, rc,
				   "post-auth: ending sessions failed");
			fail(a, rc, LAPS_STAGE_INTERNAL);
		}
		return;
	case LAPS_POSTAUTH_RESET_REBOOT:
		if ((rc = laps_postauth_schedule_reboot(a->shutdown_path, account)) != 0) {
			note_error(a, LAPS_EV_POSTAUTH_ACTION_FAILED, account, rc,
				   "post-auth: scheduling the reboot failed");
			fail(a, rc, LAPS_STAGE_INTERNAL);
		}
		return;
	}
}

/* The state file, when there is a readable one (an unreadable one is
 * ignored with a warning: that leads to a rotation, never to skipping one). */
static bool
load_state(const struct laps_agent *a, const char *account, struct laps_agent_state *st)
{
	char path[1200], err[400];
	int rc;

	if (laps_state_path(a->state_dir, account, path, sizeof path) != 0)
		return false;
	rc = laps_state_load(path, account, st);
	if (rc != 0 && rc != LAPS_ERR_NOTFOUND)
		log_event(LAPS_EV_STATE_UNREADABLE, "%s: ignoring unreadable state file: %s", account,
			  laps_errstr(rc, err, sizeof err));
	return rc == 0;
}

/* The usage marker, when post-auth is on and used/<account> is a readable
 * marker of this very account (one naming another account is no use of
 * this one). */
static bool
load_marker(const struct laps_agent *a, const char *account, struct laps_marker *m)
{
	char path[1200], err[400];
	int rc;

	if (laps_postauth_conf(a->cfg)->delay <= 0 ||
	    laps_marker_path(a->state_dir, account, path, sizeof path) != 0)
		return false;
	rc = laps_marker_load_merged(path, m);
	if (rc != 0 && rc != LAPS_ERR_NOTFOUND)
		log_event(LAPS_EV_MARKER_UNREADABLE, "%s: ignoring unreadable usage marker: %s",
			  account, laps_errstr(rc, err, sizeof err));
	return rc == 0 && strcmp(m->account, account) == 0;
}

/* Decide and, when due, rotate one account. */
static void
process_account(struct laps_agent *a, const char *account, unsigned flags)
{
	const struct laps_account_ops *acct = laps_account_ops_for(laps_agent_conf(a->cfg)->method);
	struct laps_due_input in;
	struct laps_agent_state st;
	struct laps_account_info info;
	struct laps_marker marker;
	struct laps_record cur;
	struct laps_version ver;
	enum laps_due_reason reason;
	bool have_state, have_marker, have_rec = false, handled, postauth_due;
	int64_t deadline;
	int rc;

	laps_record_init(&cur);
	memset(&ver, 0, sizeof ver);
	if (replay(a, account, &handled) != 0 || handled)
		goto out;

	/* local facts */
	have_state = load_state(a, account, &st);
	have_marker = load_marker(a, account, &marker);
	laps_clearerr();
	if ((rc = laps_account_prepare(a->cfg, account, acct, &info)) != 0) {
		note_error(a, LAPS_EV_ACCOUNT_UNUSABLE, account, rc,
			   "local account cannot be rotated");
		fail(a, rc, LAPS_STAGE_LOCAL);
		goto out;
	}

	memset(&in, 0, sizeof in);
	in.now = now_s();
	in.forced = (flags & LAPS_RUN_FORCE) != 0;
	in.state = have_state ? &st : NULL;
	in.local = &info;
	in.marker = have_marker ? &marker : NULL;
	in.postauth_delay = laps_postauth_conf(a->cfg)->delay;

	if ((flags & LAPS_RUN_POSTAUTH_ONLY) && !in.forced) {
		in.backend_read = false;
		if (laps_due_decide(&in) == LAPS_DUE_NONE)
			goto out; /* nothing due locally: the backend is not contacted */
	}
	/* the backend's record: its expiry and rotation id decide */
	laps_clearerr();
	if ((rc = laps_agent_open_backend(a)) == 0)
		rc = laps_backend_read(a->backend, a->device, account, &cur, &ver);
	if (rc == LAPS_ERR_NOTFOUND) {
		ver.tag[0] = '\0';
		rc = 0;
	} else if (rc == 0) {
		have_rec = true;
	}
	if (rc != 0) {
		note_error(a, LAPS_EV_BACKEND_READ_FAILED, account, rc,
			   "cannot read the escrow from backend '%s' (local password untouched)",
			   backend_name(a));
		fail(a, rc, LAPS_STAGE_ESCROW);
		goto out;
	}
	in.backend_read = true;
	in.rec = have_rec ? &cur : NULL;
	reason = laps_due_decide(&in);
	if (reason == LAPS_DUE_NONE)
		goto out;
	log_event(LAPS_EV_ROTATION_DUE, "%s: rotation due: %s", account,
		  laps_due_reason_name(reason));
	/* the post-auth deadline may have passed even when another reason
	 * came first (e.g. expired): the action is owed either way */
	postauth_due = have_marker &&
		       laps_due_postauth_deadline(&marker, have_state ? &st : NULL,
						  laps_postauth_conf(a->cfg)->delay, &deadline) &&
		       in.now >= deadline;
	if (rotate_account(a, account, reason, &info, &ver, have_rec ? cur.seq : 0) != 0)
		goto out;
	if (postauth_due)
		postauth_act(a, account, info.uid, &marker);
out:
	laps_record_clear(&cur);
}

/* laps_agent_check_inputs callback: one line per refused input. */
static void
say_refused_input(void *arg, const char *what, int rc)
{
	struct laps_agent *a = arg;
	char err[512];

	log_event(LAPS_EV_INPUT_REFUSED, "%s: %s", what, laps_errstr(rc, err, sizeof err));
	a->noted = true;
}

int
laps_agent_run(struct laps_agent *a, unsigned flags, const char *account)
{
	int lockfd = -1, rc;
	size_t i;

	a->rc = 0;
	a->stage = LAPS_STAGE_OK;
	a->noted = false;
	a->rotated = 0;
	if ((rc = laps_agent_check_inputs(a->cfg, a->state_dir, say_refused_input, a)) != 0)
		return fail(a, rc, LAPS_STAGE_CONFIG);
	if ((rc = laps_lock_acquire(a->state_dir, a->lock_wait, &lockfd)) != 0)
		return fail(a, rc, rc == LAPS_ERR_LOCKED ? LAPS_STAGE_LOCK : LAPS_STAGE_INTERNAL);
	if ((rc = laps_fault("after_lock")) != 0) {
		fail(a, rc, LAPS_STAGE_INTERNAL);
		goto out;
	}
	for (i = 0; i < laps_agent_conf(a->cfg)->n_accounts; i++) {
		if (account != NULL && strcmp(account, laps_agent_conf(a->cfg)->accounts[i]) != 0)
			continue;
		process_account(a, laps_agent_conf(a->cfg)->accounts[i], flags);
	}
out:
	laps_lock_release(lockfd);
	return a->rc;
}
