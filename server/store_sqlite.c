/*
 * store_sqlite.c — the embedded default store: one SQLite file in WAL mode.
 *
 * A pool of connections (one per server thread) behind a mutex; every
 * writing call is one BEGIN IMMEDIATE transaction, so writers serialise on
 * the database's write lock and readers keep reading the last commit (WAL).
 * synchronous=FULL: an escrow must be durable before the agent changes the
 * local password.  See store.h for the guarantees.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "escrow/err.h"
#include "server/store.h"
#include "server/store_report.h"

#define BUSY_TIMEOUT_MS 10000

struct sq {
	sqlite3 **conn;
	bool *used;
	unsigned n;
	unsigned history;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static int
sqerr(sqlite3 *db, int src, const char *what)
{
	if (src == SQLITE_BUSY || src == SQLITE_LOCKED)
		return laps_seterr(LAPS_ERR_BUSY, "sqlite: %s: database busy", what);
	if (src == SQLITE_CONSTRAINT)
		return laps_seterr(LAPS_ERR_CONFLICT, "sqlite: %s: %s", what, sqlite3_errmsg(db));
	return laps_seterr(LAPS_ERR_BACKEND, "sqlite: %s: %s", what, sqlite3_errmsg(db));
}

static int
exec(sqlite3 *db, const char *sql)
{
	int src = sqlite3_exec(db, sql, NULL, NULL, NULL);

	return src == SQLITE_OK ? 0 : sqerr(db, src, sql);
}

static int
prep(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	int src = sqlite3_prepare_v2(db, sql, -1, st, NULL);

	return src == SQLITE_OK ? 0 : sqerr(db, src, "prepare");
}

/* Bind NULL-able text. */
static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* Step a statement that returns no rows. */
static int
step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	int src = sqlite3_step(st);

	return src == SQLITE_DONE ? 0 : sqerr(db, src, what);
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t == NULL ? NULL : strdup((const char *)t);
}

static sqlite3 *
acquire(struct sq *s, unsigned *slot)
{
	unsigned i;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		for (i = 0; i < s->n; i++) {
			if (!s->used[i]) {
				s->used[i] = true;
				pthread_mutex_unlock(&s->mu);
				*slot = i;
				return s->conn[i];
			}
		}
		pthread_cond_wait(&s->cv, &s->mu);
	}
}

static void
release(struct sq *s, unsigned slot)
{
	pthread_mutex_lock(&s->mu);
	s->used[slot] = false;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* End a transaction: COMMIT when rc == 0, else ROLLBACK (keeping rc). */
static int
finish(sqlite3 *db, int rc)
{
	if (rc == 0)
		rc = exec(db, "COMMIT");
	if (rc != 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int
audit_insert(sqlite3 *db, const struct store_audit *a)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (a == NULL)
		return 0;
	if ((rc = prep(db,
		       "INSERT INTO audit (time, actor, kind, device, account, action, outcome,"
		       " status, peer, jti, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
		       &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, a->time);
	bind_text(st, 2, a->actor);
	bind_text(st, 3, a->kind);
	bind_text(st, 4, a->device);
	bind_text(st, 5, a->account);
	bind_text(st, 6, a->action);
	bind_text(st, 7, a->outcome);
	sqlite3_bind_int(st, 8, a->status);
	bind_text(st, 9, a->peer);
	bind_text(st, 10, a->jti);
	bind_text(st, 11, a->detail);
	rc = step_done(db, st, "audit insert");
	/* No constraint on the audit table is about versions: a refused audit
	 * row (a trigger, a CHECK) is a store failure (503), never a 412. */
	if (rc == LAPS_ERR_CONFLICT)
		rc = laps_seterr(LAPS_ERR_BACKEND, "sqlite: audit insert: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* The current record into *out (json, seq, version).  LAPS_ERR_NOTFOUND. */
static int
select_current(sqlite3 *db, const char *device, const char *account, struct store_entry *out)
{
	sqlite3_stmt *st = NULL;
	int rc, src;

	if ((rc = prep(db,
		       "SELECT record, seq, version FROM records WHERE device = ? AND account = ?",
		       &st)) != 0)
		return rc;
	bind_text(st, 1, device);
	bind_text(st, 2, account);
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		rc = laps_seterr(LAPS_ERR_NOTFOUND, "no record for %s/%s", device, account);
	} else if (src != SQLITE_ROW) {
		rc = sqerr(db, src, "select record");
	} else if ((out->json = col_dup(st, 0)) == NULL) {
		rc = LAPS_ERR_NOMEM;
	} else {
		out->json_len = strlen(out->json);
		out->seq = sqlite3_column_int64(st, 1);
		out->version = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Open, migrations                                                    */

static int
migrate(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int64_t have = 0;
	size_t i;
	int rc;

	if ((rc = exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER "
			   "PRIMARY KEY, applied_at BIGINT NOT NULL)")) != 0 ||
	    (rc = exec(db, "BEGIN IMMEDIATE")) != 0)
		return rc;
	if ((rc = prep(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", &st)) != 0)
		return finish(db, rc);
	if (sqlite3_step(st) == SQLITE_ROW)
		have = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (have > (int64_t)store_n_migrations)
		return finish(db, laps_seterr(LAPS_ERR_VERSION,
					      "sqlite: database schema %lld is newer than this "
					      "laps-escrowd knows (%zu)",
					      (long long)have, store_n_migrations));
	for (i = (size_t)have; i < store_n_migrations && rc == 0; i++) {
		if ((rc = exec(db, store_migrations[i].sqlite)) != 0)
			break;
		if ((rc = prep(db, "INSERT INTO schema_migrations VALUES (?, ?)", &st)) != 0)
			break;
		sqlite3_bind_int(st, 1, store_migrations[i].version);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
		rc = step_done(db, st, "schema_migrations");
		sqlite3_finalize(st);
	}
	return finish(db, rc);
}

/*
 * Switch to WAL.  Changing the journal mode needs an exclusive lock and
 * SQLite does not always call the busy handler for it (several servers or
 * pool connections opening a fresh database at once get SQLITE_BUSY at
 * once), so retry for up to BUSY_TIMEOUT_MS.
 */
static int
set_wal(sqlite3 *db)
{
	const struct timespec pause = {0, 10 * 1000 * 1000};
	int rc, waited;

	for (waited = 0;; waited += 10) {
		if ((rc = exec(db, "PRAGMA journal_mode=WAL")) != LAPS_ERR_BUSY ||
		    waited >= BUSY_TIMEOUT_MS)
			return rc;
		nanosleep(&pause, NULL);
	}
}

static int
open_conn(const char *path, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int src, rc;

	src = sqlite3_open_v2(path, &db,
			      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			      NULL);
	if (src != SQLITE_OK) {
		/* the OS reason (permission denied, no such directory) first:
		 * SQLite alone says only "unable to open database file" */
		int oserr = db != NULL ? sqlite3_system_errno(db) : 0;

		rc = laps_seterr(LAPS_ERR_UNAVAILABLE, "sqlite: cannot open %s: %s%s%s%s", path,
				 oserr != 0 ? strerror(oserr) : "",
				 oserr == ENOENT ? " (does its directory exist?)" : "",
				 oserr != 0 ? "; " : "",
				 db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(src));
		sqlite3_close(db);
		return rc;
	}
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	if ((rc = set_wal(db)) != 0 ||
	    (rc = exec(db, "PRAGMA synchronous=FULL")) != 0 ||
	    (rc = exec(db, "PRAGMA foreign_keys=ON")) != 0) {
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

static void
sq_close(void *ctx)
{
	struct sq *s = ctx;
	unsigned i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		sqlite3_close(s->conn[i]);
	free(s->conn);
	free(s->used);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

static int
sq_open(const char *spec, unsigned nconn, unsigned history_size, void **ctx)
{
	struct sq *s = NULL;
	unsigned i;
	int rc = LAPS_ERR_NOMEM;

	*ctx = NULL;
	if (spec[0] != '/')
		return laps_seterr(LAPS_ERR_CONFIG, "sqlite: the path must be absolute");
	if (nconn == 0)
		nconn = 1;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return LAPS_ERR_NOMEM;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->history = history_size;
	if ((s->conn = calloc(nconn, sizeof *s->conn)) == NULL ||
	    (s->used = calloc(nconn, sizeof *s->used)) == NULL)
		goto out;
	for (i = 0; i < nconn; i++) {
		if ((rc = open_conn(spec, &s->conn[i])) != 0)
			goto out;
		s->n++;
		if (i == 0 && (rc = migrate(s->conn[0])) != 0)
			goto out;
	}
	*ctx = s;
	s = NULL; /* success */
	rc = 0;
out:
	sq_close(s);
	return rc;
}

static int
sq_ping(void *ctx)
{
	struct sq *s = ctx;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	int rc = exec(db, "SELECT count(*) FROM schema_migrations");

	release(s, slot);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Records                                                             */

static int update_current(sqlite3 *db, const char *device, const char *account, const char *json,
			  int64_t version);

/* Rotate after read (audit->expire_by): lower the current record's expiry
 * inside the read's transaction; cur becomes the record after it. */
static int
cap_expiry(sqlite3 *db, const char *device, const char *account, const struct store_audit *audit,
	   struct store_entry *cur)
{
	char *json = NULL;
	int rc;

	if (audit == NULL || audit->expire_by <= 0)
		return 0;
	if ((rc = store_record_cap(cur->json, cur->json_len, audit->expire_by, &json)) != 0 ||
	    json == NULL)
		return rc;
	if ((rc = update_current(db, device, account, json, cur->version)) == 0) {
		store_entry_clear(cur);
		rc = select_current(db, device, account, cur);
	}
	free(json);
	return rc;
}

static int
sq_get(void *ctx, const char *device, const char *account, const struct store_audit *audit,
       struct store_entry *out)
{
	struct sq *s = ctx;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	int rc;

	memset(out, 0, sizeof *out);
	if (audit == NULL) {
		rc = select_current(db, device, account, out);
	} else if ((rc = exec(db, "BEGIN IMMEDIATE")) == 0) {
		rc = select_current(db, device, account, out);
		if (rc == 0)
			rc = cap_expiry(db, device, account, audit, out);
		if (rc == 0)
			rc = audit_insert(db, audit);
		if (rc == 0)
			rc = store_fault("read_before_commit");
		rc = finish(db, rc);
	}
	if (rc != 0)
		store_entry_clear(out);
	release(s, slot);
	return rc;
}

/* Idempotency check inside the transaction: the stored record has the
 * same rotation id as rec?  *same set; REUSED is a conflict. */
static int
check_same_rotation(sqlite3 *db, const struct laps_record *rec, struct store_put_result *out,
		    bool *same)
{
	struct store_entry cur = {0};
	struct laps_record r;
	int rc;

	*same = false;
	laps_record_init(&r);
	rc = select_current(db, rec->device, rec->account, &cur);
	if (rc == LAPS_ERR_NOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc != 0 || (rc = laps_record_parse(cur.json, cur.json_len, &r)) != 0)
		goto out;
	if (strcmp(r.rotation_id, rec->rotation_id) != 0)
		goto out;
	*same = true;
	out->seq = cur.seq;
	out->version = cur.version;
	if (store_record_same_secret(&r, rec)) {
		out->result = STORE_PUT_SAME;
	} else {
		out->result = STORE_PUT_REUSED;
		rc = laps_seterr(LAPS_ERR_CONFLICT, "rotation id %s reused with another envelope",
				 rec->rotation_id);
	}
out:
	laps_record_clear(&r);
	store_entry_clear(&cur);
	return rc;
}

static void
bind_record(sqlite3_stmt *st, const struct laps_record *rec, const char *json)
{
	bind_text(st, 1, rec->rotation_id);
	bind_text(st, 2, laps_record_state_name(rec->state));
	sqlite3_bind_int64(st, 3, rec->rotated_at);
	sqlite3_bind_int64(st, 4, rec->expires_at);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	bind_text(st, 6, json);
	bind_text(st, 7, rec->device);
	bind_text(st, 8, rec->account);
}

static int
put_create(sqlite3 *db, const struct laps_record *rec, const char *json)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = prep(db,
		       "INSERT INTO records (rotation_id, state, rotated_at, expires_at, updated_at,"
		       " record, device, account, version, seq) VALUES (?,?,?,?,?,?,?,?,1,1)"
		       " ON CONFLICT (device, account) DO NOTHING",
		       &st)) != 0)
		return rc;
	bind_record(st, rec, json);
	if ((rc = step_done(db, st, "insert record")) == 0 && sqlite3_changes(db) == 0)
		rc = laps_seterr(LAPS_ERR_CONFLICT, "a record exists already");
	sqlite3_finalize(st);
	return rc;
}

/* History move + compare-and-set update + trim. */
static int
put_update(sqlite3 *db, const struct laps_record *rec, const char *json, int64_t expected,
	   unsigned history)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = prep(db,
		       "INSERT INTO history (device, account, seq, rotated_at, record)"
		       " SELECT device, account, seq, rotated_at, record FROM records"
		       " WHERE device = ? AND account = ? AND version = ?",
		       &st)) != 0)
		return rc;
	bind_text(st, 1, rec->device);
	bind_text(st, 2, rec->account);
	sqlite3_bind_int64(st, 3, expected);
	rc = step_done(db, st, "history move");
	sqlite3_finalize(st);
	if (rc != 0 ||
	    (rc = prep(db,
		       "UPDATE records SET rotation_id = ?, state = ?, rotated_at = ?,"
		       " expires_at = ?, updated_at = ?, record = ?, seq = seq + 1,"
		       " version = version + 1 WHERE device = ? AND account = ? AND version = ?",
		       &st)) != 0)
		return rc;
	bind_record(st, rec, json);
	sqlite3_bind_int64(st, 9, expected);
	if ((rc = step_done(db, st, "update record")) == 0 && sqlite3_changes(db) == 0)
		rc = laps_seterr(LAPS_ERR_CONFLICT, "the record changed (version mismatch)");
	sqlite3_finalize(st);
	if (rc != 0 ||
	    (rc = prep(db,
		       "DELETE FROM history WHERE device = ?1 AND account = ?2 AND seq NOT IN"
		       " (SELECT seq FROM history WHERE device = ?1 AND account = ?2"
		       " ORDER BY seq DESC LIMIT ?3)",
		       &st)) != 0)
		return rc;
	bind_text(st, 1, rec->device);
	bind_text(st, 2, rec->account);
	sqlite3_bind_int64(st, 3, history);
	rc = step_done(db, st, "history trim");
	sqlite3_finalize(st);
	return rc;
}

static int
sq_put(void *ctx, const struct laps_record *rec, const char *json, int64_t expected_version,
       const struct store_audit *audit, struct store_put_result *out)
{
	struct sq *s = ctx;
	struct store_entry cur = {0};
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	bool same = false;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = exec(db, "BEGIN IMMEDIATE")) != 0)
		goto out;
	if ((rc = check_same_rotation(db, rec, out, &same)) != 0 || same) {
		if (rc == 0)
			rc = audit_insert(db, audit);
		rc = finish(db, rc);
		goto out;
	}
	if (expected_version < 0) {
		rc = put_create(db, rec, json);
		out->result = STORE_PUT_CREATED;
	} else {
		rc = put_update(db, rec, json, expected_version, s->history);
		out->result = STORE_PUT_UPDATED;
	}
	if (rc == 0 && (rc = select_current(db, rec->device, rec->account, &cur)) == 0) {
		out->seq = cur.seq;
		out->version = cur.version;
		rc = audit_insert(db, audit);
	}
	rc = finish(db, rc);
out:
	store_entry_clear(&cur);
	release(s, slot);
	return rc;
}

/* Replace the current record's JSON (state/expiry) with CAS on version. */
static int
update_current(sqlite3 *db, const char *device, const char *account, const char *json,
	       int64_t version)
{
	struct laps_record r;
	sqlite3_stmt *st = NULL;
	int rc;

	laps_record_init(&r);
	if ((rc = laps_record_parse(json, strlen(json), &r)) != 0)
		return rc;
	if ((rc = prep(db,
		       "UPDATE records SET rotation_id = ?, state = ?, rotated_at = ?,"
		       " expires_at = ?, updated_at = ?, record = ?, version = version + 1"
		       " WHERE device = ? AND account = ? AND version = ?",
		       &st)) == 0) {
		bind_record(st, &r, json);
		bind_text(st, 7, device);
		bind_text(st, 8, account);
		sqlite3_bind_int64(st, 9, version);
		if ((rc = step_done(db, st, "update record")) == 0 && sqlite3_changes(db) == 0)
			rc = laps_seterr(LAPS_ERR_CONFLICT, "the record changed (version mismatch)");
		sqlite3_finalize(st);
	}
	laps_record_clear(&r);
	return rc;
}

/* confirm (rotation_id != NULL) or expire, in one transaction. */
static int
change(struct sq *s, const char *device, const char *account, const char *rotation_id,
       int64_t expires_at, int64_t expected, const struct store_audit *audit, bool *mismatch,
       struct store_entry *out)
{
	struct store_entry cur = {0};
	char *json = NULL;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = exec(db, "BEGIN IMMEDIATE")) != 0)
		goto out;
	if ((rc = select_current(db, device, account, &cur)) != 0)
		goto fin;
	if (expected > 0 && cur.version != expected) {
		rc = laps_seterr(LAPS_ERR_CONFLICT, "the record changed (version mismatch)");
		goto fin;
	}
	rc = rotation_id != NULL ? store_record_confirm(cur.json, cur.json_len, rotation_id,
							expires_at, mismatch, &json)
				 : store_record_expire(cur.json, cur.json_len, expires_at, &json);
	if (rc != 0)
		goto fin;
	if (strcmp(json, cur.json) != 0 &&
	    (rc = update_current(db, device, account, json, cur.version)) != 0)
		goto fin;
	if ((rc = select_current(db, device, account, out)) == 0)
		rc = audit_insert(db, audit);
fin:
	rc = finish(db, rc);
out:
	if (rc != 0)
		store_entry_clear(out);
	free(json);
	store_entry_clear(&cur);
	release(s, slot);
	return rc;
}

static int
sq_confirm(void *ctx, const char *device, const char *account, const char *rotation_id,
	   int64_t expires_at, int64_t expected_version, const struct store_audit *audit,
	   bool *mismatch, struct store_entry *out)
{
	*mismatch = false;
	return change(ctx, device, account, rotation_id, expires_at, expected_version, audit,
		      mismatch, out);
}

static int
sq_expire(void *ctx, const char *device, const char *account, int64_t expires_at,
	  int64_t expected_version, const struct store_audit *audit, struct store_entry *out)
{
	bool mismatch = false;

	return change(ctx, device, account, NULL, expires_at, expected_version, audit, &mismatch,
		      out);
}

/* One device of a bulk expiry, inside the caller's transaction. */
static int
expire_one(sqlite3 *db, const struct store_audit *a, int64_t expires_at)
{
	struct store_entry cur = {0};
	char *json = NULL;
	int rc;

	if ((rc = select_current(db, a->device, a->account, &cur)) == 0 &&
	    (rc = store_record_expire(cur.json, cur.json_len, expires_at, &json)) == 0 &&
	    (strcmp(json, cur.json) == 0 ||
	     (rc = update_current(db, a->device, a->account, json, cur.version)) == 0))
		rc = audit_insert(db, a);
	free(json);
	store_entry_clear(&cur);
	return rc;
}

static int
sq_expire_many(void *ctx, const struct store_audit *audits, size_t n, int64_t expires_at)
{
	struct sq *s = ctx;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	size_t i;
	int rc;

	if ((rc = exec(db, "BEGIN IMMEDIATE")) == 0) {
		for (i = 0; i < n && rc == 0; i++)
			rc = expire_one(db, &audits[i], expires_at);
		rc = finish(db, rc);
	}
	release(s, slot);
	return rc;
}

static int
history_rows(sqlite3 *db, const char *device, const char *account, size_t limit,
	     struct store_entry_list *out)
{
	sqlite3_stmt *st = NULL;
	struct store_entry *e;
	int rc, src;

	if ((out->v = calloc(limit > 0 ? limit : 1, sizeof *out->v)) == NULL)
		return LAPS_ERR_NOMEM;
	if ((rc = prep(db,
		       "SELECT record, seq FROM history WHERE device = ? AND account = ?"
		       " ORDER BY seq DESC LIMIT ?",
		       &st)) != 0)
		return rc;
	bind_text(st, 1, device);
	bind_text(st, 2, account);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
	while ((src = sqlite3_step(st)) == SQLITE_ROW && out->n < limit) {
		e = &out->v[out->n];
		if ((e->json = col_dup(st, 0)) == NULL) {
			rc = LAPS_ERR_NOMEM;
			break;
		}
		e->json_len = strlen(e->json);
		e->seq = sqlite3_column_int64(st, 1);
		out->n++;
	}
	if (rc == 0 && src != SQLITE_DONE && src != SQLITE_ROW)
		rc = sqerr(db, src, "select history");
	sqlite3_finalize(st);
	return rc;
}

static int
sq_history(void *ctx, const char *device, const char *account, size_t limit,
	   const struct store_audit *audit, struct store_entry_list *out)
{
	struct sq *s = ctx;
	struct store_entry cur = {0};
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = exec(db, "BEGIN IMMEDIATE")) != 0)
		goto out;
	if ((rc = select_current(db, device, account, &cur)) == 0 &&
	    (rc = cap_expiry(db, device, account, audit, &cur)) == 0 &&
	    (rc = history_rows(db, device, account, limit, out)) == 0 &&
	    (rc = audit_insert(db, audit)) == 0)
		rc = store_fault("read_before_commit");
	rc = finish(db, rc);
out:
	if (rc != 0)
		store_entry_list_free(out);
	store_entry_clear(&cur);
	release(s, slot);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Listings                                                            */

static int
sq_find(void *ctx, const char *name, const char *after, char (*devices)[LAPS_DEVICE_MAX + 1],
	size_t max, size_t *n)
{
	struct sq *s = ctx;
	sqlite3_stmt *st = NULL;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	const unsigned char *t;
	int rc, src = SQLITE_DONE;

	*n = 0;
	/* ?1 name (NULL = all), ?2 1 when name has no dot, ?3 after, ?4 max */
	if ((rc = prep(db,
		       "SELECT DISTINCT device FROM records WHERE (?1 IS NULL OR device = ?1 OR"
		       " (?2 = 1 AND substr(device, 1, length(?1) + 1) = ?1 || '.'))"
		       " AND (?3 IS NULL OR device > ?3) ORDER BY device LIMIT ?4",
		       &st)) != 0)
		goto out;
	bind_text(st, 1, name);
	sqlite3_bind_int(st, 2, name != NULL && strchr(name, '.') == NULL);
	bind_text(st, 3, after);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
	while (*n < max && (src = sqlite3_step(st)) == SQLITE_ROW) {
		t = sqlite3_column_text(st, 0);
		if (t == NULL || strlen((const char *)t) > LAPS_DEVICE_MAX)
			continue;
		memcpy(devices[*n], t, strlen((const char *)t) + 1);
		(*n)++;
	}
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		rc = sqerr(db, src, "find");
out:
	sqlite3_finalize(st);
	release(s, slot);
	return rc;
}

static void
summary_row(sqlite3_stmt *st, struct store_summary *e)
{
	const unsigned char *d = sqlite3_column_text(st, 0), *a = sqlite3_column_text(st, 1);
	const unsigned char *state = sqlite3_column_text(st, 2);

	memset(e, 0, sizeof *e);
	if (d != NULL && strlen((const char *)d) <= LAPS_DEVICE_MAX)
		memcpy(e->device, d, strlen((const char *)d) + 1);
	if (a != NULL && strlen((const char *)a) <= LAPS_ACCOUNT_MAX)
		memcpy(e->account, a, strlen((const char *)a) + 1);
	e->state = state != NULL && strcmp((const char *)state, "confirmed") == 0
		       ? LAPS_STATE_CONFIRMED
		       : LAPS_STATE_PENDING;
	e->rotated_at = sqlite3_column_int64(st, 3);
	e->expires_at = sqlite3_column_int64(st, 4);
	e->seq = sqlite3_column_int64(st, 5);
}

static int
sq_report(void *ctx, enum store_report_filter filter, int64_t now, const char *after_device,
	  const char *after_account, struct store_summary *out, size_t max, size_t *n)
{
	struct sq *s = ctx;
	sqlite3_stmt *st = NULL;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	int rc, src = SQLITE_DONE;

	*n = 0;
	/* ?1 filter, ?2 now, ?3/?4 after, ?5 max */
	if ((rc = prep(db,
		       "SELECT device, account, state, rotated_at, expires_at, seq FROM records"
		       " WHERE (?1 = 0 OR (?1 = 1 AND state = 'pending') OR"
		       " (?1 = 2 AND state = 'confirmed') OR (?1 = 3 AND expires_at < ?2))"
		       " AND (?3 IS NULL OR device > ?3 OR (device = ?3 AND account > ?4))"
		       " ORDER BY device, account LIMIT ?5",
		       &st)) != 0)
		goto out;
	sqlite3_bind_int(st, 1, (int)filter);
	sqlite3_bind_int64(st, 2, now);
	bind_text(st, 3, after_device);
	bind_text(st, 4, after_account != NULL ? after_account : "");
	sqlite3_bind_int64(st, 5, (sqlite3_int64)max);
	while (*n < max && (src = sqlite3_step(st)) == SQLITE_ROW)
		summary_row(st, &out[(*n)++]);
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		rc = sqerr(db, src, "report");
out:
	sqlite3_finalize(st);
	release(s, slot);
	return rc;
}

/* The sorted, filtered report and its counts (server/store_report.c). */
static int
sq_report_prep(sqlite3 *db, const struct store_report_query *q, size_t max, bool counts,
	       sqlite3_stmt **st)
{
	const sqlite3_int64 ints[STORE_REPORT_PARAMS] = {
	    q->filter,	      q->now,	    q->grace, q->health, 0,
	    q->after ? 1 : 0, q->after_key, 0,	      0,	 (sqlite3_int64)max};
	char sql[4096], bufs[STORE_REPORT_PARAMS][24];
	const char *v[STORE_REPORT_PARAMS];
	int rc, i, n = counts ? STORE_COUNT_PARAMS : STORE_REPORT_PARAMS;

	if ((rc = store_report_sql(sql, sizeof sql, q, false, counts)) != 0 ||
	    (rc = prep(db, sql, st)) != 0)
		return rc;
	store_report_params(q, max, bufs, v); /* the texts ?5, ?8, ?9 */
	for (i = 0; i < n; i++) {
		if (i == 4 || i == 7 || i == 8)
			bind_text(*st, i + 1, v[i]);
		else
			sqlite3_bind_int64(*st, i + 1, ints[i]);
	}
	return 0;
}

static int
sq_report_query(void *ctx, const struct store_report_query *q, struct store_summary *out,
		size_t max, size_t *n)
{
	struct sq *s = ctx;
	sqlite3_stmt *st = NULL;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	int rc, src = SQLITE_DONE;

	*n = 0;
	if ((rc = sq_report_prep(db, q, max, false, &st)) == 0) {
		while (*n < max && (src = sqlite3_step(st)) == SQLITE_ROW) {
			summary_row(st, &out[*n]);
			out[(*n)++].health = sqlite3_column_int(st, 6);
		}
		if (src != SQLITE_DONE && src != SQLITE_ROW)
			rc = sqerr(db, src, "report");
	}
	sqlite3_finalize(st);
	release(s, slot);
	return rc;
}

static int
sq_report_counts(void *ctx, const struct store_report_query *q, int64_t counts[5])
{
	struct sq *s = ctx;
	sqlite3_stmt *st = NULL;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	int rc, h, src = SQLITE_DONE;

	memset(counts, 0, 5 * sizeof counts[0]);
	if ((rc = sq_report_prep(db, q, 0, true, &st)) == 0) {
		while ((src = sqlite3_step(st)) == SQLITE_ROW)
			if ((h = sqlite3_column_int(st, 0)) > 0 && h < 5)
				counts[h] = sqlite3_column_int64(st, 1);
		if (src != SQLITE_DONE)
			rc = sqerr(db, src, "report counts");
	}
	sqlite3_finalize(st);
	release(s, slot);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Approvals (two-person rule)                                         */

#define APPROVAL_COLS                                                                              \
	"id, device, account, requester, reason, state, coalesce(decided_by, ''), created_at,"     \
	" expires_at, coalesce(decided_at, 0)"

static void
col_cpy(sqlite3_stmt *st, int i, char *buf, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t len = t != NULL ? strlen((const char *)t) : 0;

	buf[0] = '\0';
	if (t != NULL && len < size)
		memcpy(buf, t, len + 1);
}

static void
approval_row(sqlite3_stmt *st, struct store_approval *a)
{
	memset(a, 0, sizeof *a);
	a->id = sqlite3_column_int64(st, 0);
	col_cpy(st, 1, a->device, sizeof a->device);
	col_cpy(st, 2, a->account, sizeof a->account);
	col_cpy(st, 3, a->requester, sizeof a->requester);
	col_cpy(st, 4, a->reason, sizeof a->reason);
	col_cpy(st, 5, a->state, sizeof a->state);
	col_cpy(st, 6, a->decided_by, sizeof a->decided_by);
	a->created_at = sqlite3_column_int64(st, 7);
	a->expires_at = sqlite3_column_int64(st, 8);
	a->decided_at = sqlite3_column_int64(st, 9);
}

static int
sq_approval_create(void *ctx, struct store_approval *a, const struct store_audit *audit)
{
	struct sq *s = ctx;
	sqlite3_stmt *st = NULL;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	int rc;

	if ((rc = exec(db, "BEGIN IMMEDIATE")) != 0)
		goto out;
	if ((rc = prep(db,
		       "INSERT INTO approvals (device, account, requester, reason, state,"
		       " created_at, expires_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
		       &st)) == 0) {
		bind_text(st, 1, a->device);
		bind_text(st, 2, a->account);
		bind_text(st, 3, a->requester);
		bind_text(st, 4, a->reason);
		sqlite3_bind_int64(st, 5, a->created_at);
		sqlite3_bind_int64(st, 6, a->expires_at);
		if ((rc = step_done(db, st, "insert approval")) == 0) {
			a->id = sqlite3_last_insert_rowid(db);
			rc = audit_insert(db, audit);
		}
	}
	sqlite3_finalize(st);
	rc = finish(db, rc);
out:
	release(s, slot);
	return rc;
}

/* Rows of sql (bound by bind) into out, at most max. */
static int
approval_rows(sqlite3 *db, sqlite3_stmt *st, struct store_approval *out, size_t max, size_t *n)
{
	int src;

	*n = 0;
	while (*n < max && (src = sqlite3_step(st)) == SQLITE_ROW)
		approval_row(st, &out[(*n)++]);
	if (*n < max && src != SQLITE_DONE)
		return sqerr(db, src, "select approvals");
	return 0;
}

static int
sq_approval_get(void *ctx, int64_t id, struct store_approval *out)
{
	struct sq *s = ctx;
	sqlite3_stmt *st = NULL;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	size_t n = 0;
	int rc;

	if ((rc = prep(db, "SELECT " APPROVAL_COLS " FROM approvals WHERE id = ?", &st)) == 0) {
		sqlite3_bind_int64(st, 1, id);
		rc = approval_rows(db, st, out, 1, &n);
		if (rc == 0 && n == 0)
			rc = laps_seterr(LAPS_ERR_NOTFOUND, "no approval request %lld",
					 (long long)id);
	}
	sqlite3_finalize(st);
	release(s, slot);
	return rc;
}

static int
sq_approval_list(void *ctx, int64_t now, struct store_approval *out, size_t max, size_t *n)
{
	struct sq *s = ctx;
	sqlite3_stmt *st = NULL;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	int rc;

	*n = 0;
	if ((rc = prep(db,
		       "SELECT " APPROVAL_COLS " FROM approvals WHERE state = 'pending' AND"
		       " expires_at > ? ORDER BY id LIMIT ?",
		       &st)) == 0) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
		rc = approval_rows(db, st, out, max, n);
	}
	sqlite3_finalize(st);
	release(s, slot);
	return rc;
}

static int
sq_approval_decide(void *ctx, int64_t id, const char *state, const char *by, int64_t now,
		   int64_t expires_at, const struct store_audit *audit)
{
	struct sq *s = ctx;
	sqlite3_stmt *st = NULL;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	int rc;

	if ((rc = exec(db, "BEGIN IMMEDIATE")) != 0)
		goto out;
	if ((rc = prep(db,
		       "UPDATE approvals SET state = ?, decided_by = ?, decided_at = ?,"
		       " expires_at = ? WHERE id = ? AND state = 'pending' AND expires_at > ?",
		       &st)) == 0) {
		bind_text(st, 1, state);
		bind_text(st, 2, by);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_int64(st, 4, expires_at);
		sqlite3_bind_int64(st, 5, id);
		sqlite3_bind_int64(st, 6, now);
		if ((rc = step_done(db, st, "decide approval")) == 0 && sqlite3_changes(db) == 0)
			rc = laps_seterr(LAPS_ERR_CONFLICT,
					 "the request is no longer pending or has expired");
		if (rc == 0)
			rc = audit_insert(db, audit);
	}
	sqlite3_finalize(st);
	rc = finish(db, rc);
out:
	release(s, slot);
	return rc;
}

static int
sq_approval_valid(void *ctx, const char *device, const char *account, const char *requester,
		  int64_t now)
{
	struct sq *s = ctx;
	sqlite3_stmt *st = NULL;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	int rc, src;

	if ((rc = prep(db,
		       "SELECT 1 FROM approvals WHERE device = ? AND account = ? AND"
		       " requester = ? AND state = 'approved' AND expires_at > ? LIMIT 1",
		       &st)) == 0) {
		bind_text(st, 1, device);
		bind_text(st, 2, account);
		bind_text(st, 3, requester);
		sqlite3_bind_int64(st, 4, now);
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			rc = laps_seterr(LAPS_ERR_NOTFOUND, "no valid approval");
		else if (src != SQLITE_ROW)
			rc = sqerr(db, src, "select approval");
	}
	sqlite3_finalize(st);
	release(s, slot);
	return rc;
}

static int
prune_step(sqlite3 *db, const char *sql, int64_t v)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = prep(db, sql, &st)) == 0) {
		sqlite3_bind_int64(st, 1, v);
		rc = step_done(db, st, "audit prune");
	}
	sqlite3_finalize(st);
	return rc;
}

static int
sq_audit_prune(void *ctx, int64_t before, int64_t *n)
{
	struct sq *s = ctx;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	int rc;

	*n = 0;
	if ((rc = exec(db, "BEGIN IMMEDIATE")) == 0) {
		if ((rc = prune_step(db, "UPDATE audit_prune SET cutoff = ?", before)) == 0 &&
		    (rc = prune_step(db, "DELETE FROM audit WHERE time < ?", before)) == 0) {
			*n = sqlite3_changes(db);
			rc = prune_step(db, "UPDATE audit_prune SET cutoff = ?", 0);
		}
		rc = finish(db, rc);
	}
	release(s, slot);
	return rc;
}

static int
sq_audit_append(void *ctx, const struct store_audit *audit)
{
	struct sq *s = ctx;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	int rc;

	if ((rc = exec(db, "BEGIN IMMEDIATE")) == 0)
		rc = finish(db, audit_insert(db, audit));
	release(s, slot);
	return rc;
}

static int
audit_row(sqlite3_stmt *st, struct store_audit_row *r)
{
	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(st, 0);
	r->time = sqlite3_column_int64(st, 1);
	r->actor = col_dup(st, 2);
	r->kind = col_dup(st, 3);
	r->device = col_dup(st, 4);
	r->account = col_dup(st, 5);
	r->action = col_dup(st, 6);
	r->outcome = col_dup(st, 7);
	r->status = sqlite3_column_int(st, 8);
	r->peer = col_dup(st, 9);
	r->jti = col_dup(st, 10);
	if (r->actor == NULL || r->kind == NULL || r->action == NULL || r->outcome == NULL) {
		store_audit_row_clear(r);
		return LAPS_ERR_NOMEM;
	}
	return 0;
}

static int
sq_audit_query(void *ctx, const struct store_audit_query *q, struct store_audit_row *out,
	       size_t max, size_t *n)
{
	struct sq *s = ctx;
	sqlite3_stmt *st = NULL;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	int rc, src = SQLITE_DONE;

	*n = 0;
	if ((rc = prep(db,
		       "SELECT id, time, actor, kind, device, account, action, outcome, status,"
		       " peer, jti FROM audit WHERE (?1 IS NULL OR device = ?1) AND"
		       " (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR action = ?3) AND"
		       " time >= ?4 AND (?5 = 0 OR time < ?5) AND (?6 = 0 OR id < ?6)"
		       " ORDER BY id DESC LIMIT ?7",
		       &st)) != 0)
		goto out;
	bind_text(st, 1, q->device);
	bind_text(st, 2, q->actor);
	bind_text(st, 3, q->action);
	sqlite3_bind_int64(st, 4, q->since);
	sqlite3_bind_int64(st, 5, q->until);
	sqlite3_bind_int64(st, 6, q->before_id);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)max);
	while (rc == 0 && *n < max && (src = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = audit_row(st, &out[*n])) == 0)
			(*n)++;
	if (rc == 0 && src != SQLITE_DONE && src != SQLITE_ROW)
		rc = sqerr(db, src, "audit query");
out:
	sqlite3_finalize(st);
	release(s, slot);
	return rc;
}

/* Rows of a stepped statement into out (at most STORE_QUERY_ROWS). */
static int
query_rows(sqlite3 *db, sqlite3_stmt *st, struct store_rows *out)
{
	size_t c, cols = (size_t)sqlite3_column_count(st);
	char **cell;
	int src;

	out->cols = cols;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->rows == STORE_QUERY_ROWS)
			continue;
		if ((cell = realloc(out->cell,
				    (out->rows + 1) * (cols ? cols : 1) * sizeof *cell)) == NULL)
			return LAPS_ERR_NOMEM;
		out->cell = cell;
		for (c = 0; c < cols; c++)
			cell[out->rows * cols + c] = col_dup(st, (int)c);
		out->rows++;
	}
	if (src != SQLITE_DONE)
		return sqerr(db, src, "query");
	out->changed = sqlite3_changes(db);
	return 0;
}

static int
sq_query(void *ctx, const char *sql, size_t n, const char *const *params,
	 const struct store_audit *audit, struct store_rows *out)
{
	struct sq *s = ctx;
	sqlite3_stmt *st = NULL;
	unsigned slot;
	sqlite3 *db = acquire(s, &slot);
	char name[32];
	size_t i;
	int rc, idx;

	memset(out, 0, sizeof *out);
	if ((rc = exec(db, "BEGIN IMMEDIATE")) != 0)
		goto out;
	if ((rc = prep(db, sql, &st)) == 0) {
		for (i = 0; i < n; i++) {
			snprintf(name, sizeof name, "$%zu", i + 1);
			if ((idx = sqlite3_bind_parameter_index(st, name)) > 0)
				bind_text(st, idx, params[i]);
		}
		rc = query_rows(db, st, out);
	}
	sqlite3_finalize(st);
	if (rc == 0 && audit != NULL)
		rc = audit_insert(db, audit);
	rc = finish(db, rc);
out:
	if (rc != 0)
		store_rows_free(out);
	release(s, slot);
	return rc;
}

const struct store_ops store_sqlite_ops = {
    .scheme = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .ping = sq_ping,
    .get = sq_get,
    .put = sq_put,
    .confirm = sq_confirm,
    .expire = sq_expire,
    .history = sq_history,
    .find = sq_find,
    .report = sq_report,
    .report_query = sq_report_query,
    .report_counts = sq_report_counts,
    .expire_many = sq_expire_many,
    .approval_create = sq_approval_create,
    .approval_get = sq_approval_get,
    .approval_list = sq_approval_list,
    .approval_decide = sq_approval_decide,
    .approval_valid = sq_approval_valid,
    .audit_prune = sq_audit_prune,
    .audit_append = sq_audit_append,
    .audit_query = sq_audit_query,
    .query = sq_query,
};
