/*
 * status.c — `laps-agent status`: gather, then print (see status.h).
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/due.h"
#include "agent/enroll.h"
#include "agent/status.h"
#include "escrow/backend.h"
#include "escrow/err.h"
#include "agent/agent_conf.h"

/* ---- gathering ---- */

void
laps_status_gather_local(const struct laps_agent *a, const struct laps_conf *cfg,
			 struct laps_status_account *s)
{
	struct laps_journal j;
	struct laps_marker m;
	char path[1200];

	if (laps_state_path(a->state_dir, s->account, path, sizeof path) == 0 &&
	    laps_state_load(path, s->account, &s->state) == 0)
		s->have_state = true;
	laps_journal_init(&j);
	if (laps_journal_path(a->state_dir, s->account, path, sizeof path) == 0 &&
	    laps_journal_load(path, &j) == 0) {
		s->have_journal = true;
		s->journal_phase = j.phase;
		memcpy(s->journal_rotation_id, j.rotation_id, sizeof s->journal_rotation_id);
	}
	laps_journal_clear(&j); /* wipes P' */
	if (laps_marker_path(a->state_dir, s->account, path, sizeof path) == 0 &&
	    laps_marker_load_merged(path, &m) == 0 && strcmp(m.account, s->account) == 0) {
		s->have_marker = true;
		s->last_use = m.opened > m.closed ? m.opened : m.closed;
		memcpy(s->last_use_service, m.service, sizeof s->last_use_service);
		s->have_deadline =
		    laps_due_postauth_deadline(&m, s->have_state ? &s->state : NULL,
					       laps_postauth_conf(cfg)->delay, &s->deadline);
	}
	laps_clearerr();
}

/* The backend's current record: its metadata, or why it could not be read. */
static void
gather_record(struct laps_agent *a, struct laps_status_account *s)
{
	struct laps_record rec;
	struct laps_version ver;
	int rc;

	laps_record_init(&rec);
	laps_clearerr();
	rc = laps_backend_read(a->backend, a->device, s->account, &rec, &ver);
	if (rc == 0) {
		s->have_record = true;
		memcpy(s->record_rotation_id, rec.rotation_id, sizeof s->record_rotation_id);
		s->record_state = rec.state;
		s->record_rotated_at = rec.rotated_at;
		s->record_expires_at = rec.expires_at;
	} else if (rc != LAPS_ERR_NOTFOUND) {
		laps_errstr(rc, s->backend_error, sizeof s->backend_error);
	}
	laps_record_clear(&rec);
}

/* The local account: lock and expiry, or why it cannot be inspected. */
static void
gather_account(const struct laps_conf *cfg, struct laps_status_account *s)
{
	int rc;

	laps_clearerr();
	rc =
	    laps_account_ops_for(laps_agent_conf(cfg)->method)->inspect(cfg, s->account, &s->local);
	s->local_ok = rc == 0;
	if (!s->local_ok)
		laps_errstr(rc, s->local_error, sizeof s->local_error);
}

void
laps_status_gather(struct laps_agent *a, const struct laps_conf *cfg, struct laps_status *st)
{
	size_t i;
	int rc;

	memset(st, 0, sizeof *st);
	snprintf(st->device, sizeof st->device, "%s", a->device);
	snprintf(st->backend, sizeof st->backend, "%s", a->ops != NULL ? a->ops->name : "?");
	laps_clearerr();
	rc = laps_agent_open_backend(a);
	st->reachable = rc == 0;
	if (!st->reachable)
		laps_errstr(rc, st->backend_error, sizeof st->backend_error);
	laps_agent_cert_status(a, cfg, &st->cert);
	for (i = 0; i < laps_agent_conf(cfg)->n_accounts && i < LAPS_CONFIG_MAX_LIST; i++) {
		struct laps_status_account *s = &st->accounts[i];

		snprintf(s->account, sizeof s->account, "%s", laps_agent_conf(cfg)->accounts[i]);
		gather_account(cfg, s);
		laps_status_gather_local(a, cfg, s);
		if (st->reachable)
			gather_record(a, s);
		st->n++;
	}
}

/* ---- text ---- */

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "never");
}

/* The lines about the escrow: what the backend holds, or why we don't know. */
static void
text_escrow(const struct laps_status *st, const struct laps_status_account *s, FILE *f)
{
	char t1[32], t2[32];

	if (!st->reachable) {
		fprintf(f, "  backend: unreachable: %s\n", st->backend_error);
	} else if (s->backend_error[0] != '\0') {
		fprintf(f, "  backend: error: %s\n", s->backend_error);
	} else if (s->have_record) {
		fmt_time(s->record_expires_at, t1, sizeof t1);
		fmt_time(s->record_rotated_at, t2, sizeof t2);
		fprintf(f, "  escrow (backend): %s, rotated %s, expires %s (id %s)\n",
			laps_record_state_name(s->record_state), t2, t1, s->record_rotation_id);
	} else {
		fprintf(f, "  escrow (backend): no record\n");
	}
}

/* unlocked | locked | fresh | unknown (not in the local shadow file) */
static const char *
lock_name(const struct laps_status_account *s)
{
	if (!s->local_ok || !s->local.have_entry)
		return "unknown";
	return s->local.lock == LAPS_LOCK_LOCKED  ? "locked"
	       : s->local.lock == LAPS_LOCK_FRESH ? "fresh"
						  : "unlocked";
}

static void
text_local(const struct laps_status_account *s, FILE *f)
{
	const struct laps_account_info *l = &s->local;

	if (!s->local_ok)
		fprintf(f, "  local account: error: %s\n", s->local_error);
	else if (!l->have_entry)
		fprintf(f, "  local account: uid %u (lock and expiry unknown: not in the shadow file)\n",
			(unsigned)l->uid);
	else if (l->expire_day >= 0)
		fprintf(f, "  local account: uid %u, %s, %s (expire day %lld)\n", (unsigned)l->uid,
			lock_name(s), l->expired ? "expired" : "not expired", l->expire_day);
	else
		fprintf(f, "  local account: uid %u, %s, not expired\n", (unsigned)l->uid,
			lock_name(s));
}

static void
text_account(const struct laps_status *st, const struct laps_status_account *s, FILE *f)
{
	const struct laps_agent_state *ls = &s->state;
	char t1[32];

	fprintf(f, "account: %s\n", s->account);
	fmt_time(s->have_state ? ls->rotated_at : 0, t1, sizeof t1);
	fprintf(f, "  last rotation (state file): %s%s%s%s\n", t1,
		s->have_state && ls->rotation_id[0] ? " (id " : "",
		s->have_state ? ls->rotation_id : "", s->have_state && ls->rotation_id[0] ? ")" : "");
	text_escrow(st, s, f);
	if (s->have_journal)
		fprintf(f, "  pending journal: phase %s, rotation %s\n",
			laps_journal_phase_name(s->journal_phase), s->journal_rotation_id);
	else
		fprintf(f, "  pending journal: none\n");
	if (s->have_state && ls->last_error_at != 0) {
		fmt_time(ls->last_error_at, t1, sizeof t1);
		fprintf(f, "  last error: %s: %s\n", t1, ls->last_error);
	} else {
		fprintf(f, "  last error: none\n");
	}
	if (s->have_marker) {
		fmt_time(s->last_use, t1, sizeof t1);
		fprintf(f, "  last use: %s via %s\n", t1,
			s->last_use_service[0] ? s->last_use_service : "?");
		if (s->have_deadline) {
			fmt_time(s->deadline, t1, sizeof t1);
			fprintf(f, "  post-auth rotation due: %s\n", t1);
		}
	}
	text_local(s, f);
}

/* The mTLS certificate: expiry, renewal point, last renewal and failure. */
static void
text_cert(const struct laps_cert_status *c, FILE *f)
{
	const struct laps_cert_state *cs = &c->state;
	char t1[32], t2[32];

	if (!c->managed)
		return;
	if (c->have_times) {
		fmt_time(c->not_after, t1, sizeof t1);
		fmt_time(c->renew_from, t2, sizeof t2);
		fprintf(f, "certificate: %s\n  expires: %s\n  renewal due from: %s\n", c->cert_file,
			t1, t2);
	} else {
		fprintf(f, "certificate: %s\n  error: %s\n", c->cert_file, c->error);
	}
	fmt_time(c->have_state ? cs->renewed_at : 0, t1, sizeof t1);
	fprintf(f, "  last enrollment or renewal: %s\n", t1);
	if (c->have_state && cs->failed_at != 0) {
		fmt_time(cs->failed_at, t1, sizeof t1);
		fprintf(f, "  last renewal failure: %s: %s%s\n", t1, cs->failed,
			cs->last_ok ? " (renewed since)" : "");
	} else {
		fprintf(f, "  last renewal failure: none\n");
	}
}

int
laps_status_print_text(const struct laps_status *st, FILE *f)
{
	size_t i;

	fprintf(f, "device: %s\nbackend: %s\n", st->device, st->backend);
	text_cert(&st->cert, f);
	for (i = 0; i < st->n; i++)
		text_account(st, &st->accounts[i], f);
	if (fflush(f) != 0 || ferror(f))
		return laps_seterr(LAPS_ERR_IO, "status: cannot write the output");
	return 0;
}

/* ---- JSON ---- */

static void
add_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

static void
add_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

/* The local account's lock and expiry. */
static void
json_account_state(json_object *o, const struct laps_status_account *s)
{
	add_str(o, "account_lock", lock_name(s));
	if (s->local_ok && s->local.have_entry) {
		json_object_object_add(o, "account_expired",
				       json_object_new_boolean(s->local.expired));
		if (s->local.expire_day >= 0)
			add_int(o, "account_expire_day", s->local.expire_day);
	}
	if (!s->local_ok)
		add_str(o, "account_error", s->local_error);
}

/* The local files' part of one account object. */
static void
json_local(json_object *o, const struct laps_status_account *s)
{
	const struct laps_agent_state *ls = &s->state;

	json_object_object_add(o, "state_file", json_object_new_boolean(s->have_state));
	if (s->have_state) {
		add_str(o, "last_rotation_id", ls->rotation_id);
		add_int(o, "last_rotation", ls->rotated_at);
		add_int(o, "local_expires", ls->expires_at);
		json_object_object_add(o, "last_error", ls->last_error_at
							    ? json_object_new_string(ls->last_error)
							    : NULL);
		add_int(o, "last_error_at", ls->last_error_at);
	}
	json_object_object_add(
	    o, "pending_journal",
	    s->have_journal ? json_object_new_string(laps_journal_phase_name(s->journal_phase))
			    : NULL);
	if (s->have_journal)
		add_str(o, "pending_rotation_id", s->journal_rotation_id);
}

/* The backend's part of one account object. */
static void
json_escrow(json_object *o, const struct laps_status *st, const struct laps_status_account *s)
{
	json_object_object_add(o, "backend_reachable", json_object_new_boolean(st->reachable));
	if (!st->reachable)
		add_str(o, "backend_error", st->backend_error);
	else if (s->backend_error[0] != '\0')
		add_str(o, "backend_error", s->backend_error);
	if (s->have_record) {
		add_str(o, "record_rotation_id", s->record_rotation_id);
		add_str(o, "record_state", laps_record_state_name(s->record_state));
		add_int(o, "expires", s->record_expires_at);
		add_int(o, "rotated_at", s->record_rotated_at);
	} else if (st->reachable && s->backend_error[0] == '\0') {
		add_str(o, "record_state", "none");
	}
}

static json_object *
json_account(const struct laps_status *st, const struct laps_status_account *s)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	add_str(o, "account", s->account);
	json_account_state(o, s);
	json_local(o, s);
	json_escrow(o, st, s);
	if (s->have_marker) {
		add_int(o, "last_use", s->last_use);
		if (s->have_deadline)
			add_int(o, "postauth_deadline", s->deadline);
	}
	return o;
}

/* "certificate": the mTLS certificate (absent unless rest with mtls). */
static json_object *
json_cert(const struct laps_cert_status *c)
{
	const struct laps_cert_state *cs = &c->state;
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	add_str(o, "file", c->cert_file);
	if (c->have_times) {
		add_int(o, "not_before", c->not_before);
		add_int(o, "not_after", c->not_after);
		add_int(o, "renew_from", c->renew_from);
	} else {
		add_str(o, "error", c->error);
	}
	add_int(o, "last_renewal", c->have_state ? cs->renewed_at : 0);
	add_int(o, "last_failure_at", c->have_state ? cs->failed_at : 0);
	json_object_object_add(
	    o, "last_failure",
	    c->have_state && cs->failed_at != 0 ? json_object_new_string(cs->failed) : NULL);
	return o;
}

int
laps_status_print_json(const struct laps_status *st, FILE *f)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array(), *o;
	size_t i;
	int rc = LAPS_ERR_NOMEM;

	if (root == NULL || arr == NULL)
		goto out;
	add_str(root, "device", st->device);
	add_str(root, "backend", st->backend);
	if (st->cert.managed) {
		if ((o = json_cert(&st->cert)) == NULL)
			goto out;
		json_object_object_add(root, "certificate", o);
	}
	json_object_object_add(root, "accounts", arr);
	arr = NULL; /* owned by root now */
	for (i = 0; i < st->n; i++) {
		if ((o = json_account(st, &st->accounts[i])) == NULL)
			goto out;
		json_object_array_add(json_object_object_get(root, "accounts"), o);
	}
	fprintf(f, "%s\n",
		json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	rc = (fflush(f) != 0 || ferror(f))
		 ? laps_seterr(LAPS_ERR_IO, "status: cannot write the output")
		 : 0;
out:
	json_object_put(arr);
	json_object_put(root);
	return rc;
}
