/*
 * store_pg.c — the fleet store: PostgreSQL through libpq, so that several
 * stateless laps-escrowd instances share one database.
 *
 * `[store] url = postgresql:CONNINFO` — CONNINFO is a libpq keyword/value
 * string ("host=db.example port=5432 dbname=laps user=laps
 * passfile=/etc/laps/pgpass sslmode=verify-full") or, written as
 * postgresql://..., a libpq URI.  A password in it is refused: passwords go
 * in a libpq passfile (0600), never in the config, argv or the logs.
 *
 * A pool of nconn connections behind a mutex (libpq is thread-safe with one
 * PGconn per thread at a time).  Every call is one READ COMMITTED
 * transaction; writers first lock the current row (SELECT ... FOR UPDATE:
 * no spurious conflicts for confirm/expire, and the idempotency check sees
 * the newest row), and compare-and-set is still one conditional UPDATE on
 * version whose 0 rows answer LAPS_ERR_CONFLICT.  Migrations run under a
 * transaction-level advisory lock, so instances starting together apply
 * each one once.  A connection that broke is reset when next used; a call
 * whose BEGIN found it broken is retried once on the fresh connection.
 * Errors: server down -> LAPS_ERR_UNAVAILABLE, unique violation /
 * serialization failure -> LAPS_ERR_CONFLICT, deadlock / lock or statement
 * timeout -> LAPS_ERR_BUSY.  Messages carry PostgreSQL's primary message
 * only (never the statement, parameters or conninfo).
 */
#include "config.h"

#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escrow/err.h"
#include "server/store.h"
#include "server/store_report.h"

/* advisory lock key of the migrations: "LAPSMIGR" */
#define MIGRATION_LOCK "4c4150534d494752"
#define CONNINFO_MAX 4096

struct pg {
	PGconn **conn;
	bool *used;
	unsigned n;
	unsigned history;
	char *conninfo;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* ------------------------------------------------------------------ */
/* Errors and small helpers                                            */

static bool
sqlstate_is(const PGresult *res, const char *state)
{
	const char *s = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return s != NULL && strncmp(s, state, strlen(state)) == 0;
}

/* The LAPS_ERR_* of a failed result (res may be NULL: no answer). */
static int
pgerr(PGconn *db, const PGresult *res, const char *what)
{
	const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	size_t len;

	if (msg == NULL) {
		msg = PQerrorMessage(db);
		len = strcspn(msg, "\n");
	} else {
		len = strlen(msg);
	}
	if (PQstatus(db) != CONNECTION_OK || sqlstate_is(res, "08") ||
	    sqlstate_is(res, "57P01") || sqlstate_is(res, "57P02") || sqlstate_is(res, "57P03"))
		return laps_seterr(LAPS_ERR_UNAVAILABLE, "postgresql: %s: %.*s", what, (int)len,
				   msg);
	if (sqlstate_is(res, "23505") || sqlstate_is(res, "40001"))
		return laps_seterr(LAPS_ERR_CONFLICT, "postgresql: %s: %.*s", what, (int)len, msg);
	if (sqlstate_is(res, "40P01") || sqlstate_is(res, "55P03") || sqlstate_is(res, "57014"))
		return laps_seterr(LAPS_ERR_BUSY, "postgresql: %s: %.*s", what, (int)len, msg);
	return laps_seterr(LAPS_ERR_BACKEND, "postgresql: %s: %.*s", what, (int)len, msg);
}

/* Run sql with text parameters (NULL = SQL NULL).  *out (may be NULL)
 * receives a tuples result; a command result is cleared.  *changed
 * (may be NULL) receives the number of rows a command touched. */
static int
run(PGconn *db, const char *what, const char *sql, int n, const char *const *v,
    PGresult **out, long *changed)
{
	PGresult *res = PQexecParams(db, sql, n, NULL, v, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		rc = pgerr(db, res, what);
		PQclear(res);
		return rc;
	}
	if (changed != NULL)
		*changed = strtol(PQcmdTuples(res), NULL, 10);
	if (out != NULL && st == PGRES_TUPLES_OK)
		*out = res;
	else
		PQclear(res);
	return 0;
}

static int
cmd(PGconn *db, const char *sql)
{
	PGresult *res = PQexec(db, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = pgerr(db, res, sql);
	PQclear(res);
	return rc;
}

static int64_t
val64(const PGresult *res, int row, int col)
{
	const char *s = PQgetvalue(res, row, col);
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	return errno != 0 || end == s ? 0 : (int64_t)v;
}

static char *
valdup(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : strdup(PQgetvalue(res, row, col));
}

/* Copy a bounded text column into buf[size]. */
static void
valcpy(const PGresult *res, int row, int col, char *buf, size_t size)
{
	const char *s = PQgetvalue(res, row, col);
	size_t len = strlen(s);

	buf[0] = '\0';
	if (len < size)
		memcpy(buf, s, len + 1);
}

#define I64(buf, v) (snprintf((buf), sizeof(buf), "%lld", (long long)(v)), (const char *)(buf))

/* Session settings: a hung peer or lock holder must not hold a server
 * thread forever. */
static int
session_setup(PGconn *db)
{
	int rc;

	if ((rc = cmd(db, "SET client_min_messages = warning")) == 0 &&
	    (rc = cmd(db, "SET lock_timeout = '10s'")) == 0 &&
	    (rc = cmd(db, "SET statement_timeout = '30s'")) == 0)
		rc = cmd(db, "SET idle_in_transaction_session_timeout = '60s'");
	return rc;
}

/* Reset a broken connection; true when it works again. */
static bool
reconnect(PGconn *db)
{
	PQreset(db);
	return PQstatus(db) == CONNECTION_OK && session_setup(db) == 0;
}

static PGconn *
acquire(struct pg *s, unsigned *slot)
{
	unsigned i;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		for (i = 0; i < s->n; i++) {
			if (!s->used[i]) {
				s->used[i] = true;
				pthread_mutex_unlock(&s->mu);
				*slot = i;
				if (PQstatus(s->conn[i]) != CONNECTION_OK)
					(void)reconnect(s->conn[i]);
				return s->conn[i];
			}
		}
		pthread_cond_wait(&s->cv, &s->mu);
	}
}

static void
release(struct pg *s, unsigned slot)
{
	pthread_mutex_lock(&s->mu);
	s->used[slot] = false;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* BEGIN; a connection found broken here (the server restarted since it
 * was last used) is reset and BEGIN tried once more: nothing ran yet. */
static int
begin(PGconn *db)
{
	int rc = cmd(db, "BEGIN");

	if (rc != 0 && PQstatus(db) != CONNECTION_OK && reconnect(db))
		rc = cmd(db, "BEGIN");
	return rc;
}

/* End a transaction: COMMIT when rc == 0, else ROLLBACK (keeping rc).  A
 * failed COMMIT leaves the outcome unknown to the caller: the client's
 * retry (same rotation id) is idempotent. */
static int
finish(PGconn *db, int rc)
{
	PGresult *res;

	if (rc == 0)
		rc = cmd(db, "COMMIT");
	if (rc != 0 && PQstatus(db) == CONNECTION_OK) {
		res = PQexec(db, "ROLLBACK");
		PQclear(res);
	}
	return rc;
}

static int
audit_insert(PGconn *db, const struct store_audit *a)
{
	char t[24], status[24];
	const char *v[11];

	if (a == NULL)
		return 0;
	v[0] = I64(t, a->time);
	v[1] = a->actor;
	v[2] = a->kind;
	v[3] = a->device;
	v[4] = a->account;
	v[5] = a->action;
	v[6] = a->outcome;
	v[7] = I64(status, a->status);
	v[8] = a->peer;
	v[9] = a->jti;
	v[10] = a->detail;
	return run(db, "audit insert",
		   "INSERT INTO audit (time, actor, kind, device, account, action, outcome,"
		   " status, peer, jti, detail) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
		   11, v, NULL, NULL);
}

/* The current record into *out (json, seq, version); lock: FOR UPDATE.
 * LAPS_ERR_NOTFOUND when none. */
static int
select_current(PGconn *db, const char *device, const char *account, bool lock,
	       struct store_entry *out)
{
	const char *v[2] = {device, account};
	PGresult *res = NULL;
	int rc;

	rc = run(db, "select record",
		 lock ? "SELECT record, seq, version FROM records WHERE device = $1 AND"
			" account = $2 FOR UPDATE"
		      : "SELECT record, seq, version FROM records WHERE device = $1 AND"
			" account = $2",
		 2, v, &res, NULL);
	if (rc != 0)
		return rc;
	if (PQntuples(res) == 0)
		rc = laps_seterr(LAPS_ERR_NOTFOUND, "no record for %s/%s", device, account);
	else if ((out->json = valdup(res, 0, 0)) == NULL)
		rc = LAPS_ERR_NOMEM;
	else {
		out->json_len = strlen(out->json);
		out->seq = val64(res, 0, 1);
		out->version = val64(res, 0, 2);
	}
	PQclear(res);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Open, migrations                                                    */

static int
migrate_locked(PGconn *db)
{
	PGresult *res = NULL;
	char ver[24], now[24];
	const char *v[2];
	int64_t have;
	size_t i;
	int rc;

	if ((rc = cmd(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER"
			  " PRIMARY KEY, applied_at BIGINT NOT NULL)")) != 0 ||
	    (rc = run(db, "schema version", "SELECT coalesce(max(version), 0) FROM "
					      "schema_migrations", 0, NULL, &res, NULL)) != 0)
		return rc;
	have = val64(res, 0, 0);
	PQclear(res);
	if (have > (int64_t)store_n_migrations)
		return laps_seterr(LAPS_ERR_VERSION,
				   "postgresql: database schema %lld is newer than this "
				   "laps-escrowd knows (%zu)",
				   (long long)have, store_n_migrations);
	for (i = (size_t)have; i < store_n_migrations && rc == 0; i++) {
		if ((rc = cmd(db, store_migrations[i].postgresql)) != 0)
			break;
		v[0] = I64(ver, store_migrations[i].version);
		v[1] = I64(now, time(NULL));
		rc = run(db, "schema_migrations", "INSERT INTO schema_migrations VALUES ($1, $2)",
			 2, v, NULL, NULL);
	}
	return rc;
}

/* All migrations in one transaction under an advisory lock: instances
 * starting at the same time wait for each other and apply each once. */
static int
migrate(PGconn *db)
{
	int rc;

	if ((rc = begin(db)) != 0)
		return rc;
	if ((rc = cmd(db, "SELECT pg_advisory_xact_lock(x'" MIGRATION_LOCK "'::bigint)")) == 0)
		rc = migrate_locked(db);
	return finish(db, rc);
}

/* The conninfo without a password: one is refused (passfile instead). */
static int
check_conninfo(const char *spec, char **out)
{
	PQconninfoOption *opts = NULL, *o;
	char *err = NULL;
	int rc = 0;

	*out = NULL;
	if (strlen(spec) > CONNINFO_MAX)
		return laps_seterr(LAPS_ERR_CONFIG, "postgresql: the conninfo is too long");
	/* "postgresql://..." was split at the scheme's colon: put it back */
	if (strncmp(spec, "//", 2) == 0) {
		if ((*out = malloc(strlen(spec) + sizeof "postgresql:")) == NULL)
			return LAPS_ERR_NOMEM;
		memcpy(*out, "postgresql:", sizeof "postgresql:" - 1);
		memcpy(*out + sizeof "postgresql:" - 1, spec, strlen(spec) + 1);
	} else if ((*out = strdup(spec)) == NULL) {
		return LAPS_ERR_NOMEM;
	}
	if ((opts = PQconninfoParse(*out, &err)) == NULL) {
		/* libpq's message may quote the string: name the problem only */
		rc = laps_seterr(LAPS_ERR_CONFIG, "postgresql: the conninfo does not parse");
		goto out;
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL)
			rc = laps_seterr(LAPS_ERR_CONFIG,
					 "postgresql: a password in the conninfo; put it in a "
					 "passfile (passfile=PATH, mode 0600)");
out:
	PQfreemem(err);
	PQconninfoFree(opts);
	if (rc != 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

static int
open_conn(const char *conninfo, PGconn **out)
{
	/* defaults first: the conninfo (expanded from dbname) overrides them */
	static const char *const keys[] = {"connect_timeout", "application_name",
					   "client_encoding", "dbname", NULL};
	const char *vals[] = {"10", "laps-escrowd", "UTF8", conninfo, NULL};
	PGconn *db = PQconnectdbParams(keys, vals, 1);
	int rc;

	*out = NULL;
	if (db == NULL)
		return LAPS_ERR_NOMEM;
	if (PQstatus(db) != CONNECTION_OK) {
		rc = pgerr(db, NULL, "connect");
		PQfinish(db);
		return rc;
	}
	if ((rc = session_setup(db)) != 0) {
		PQfinish(db);
		return rc;
	}
	*out = db;
	return 0;
}

static void
pg_close(void *ctx)
{
	struct pg *s = ctx;
	unsigned i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		PQfinish(s->conn[i]);
	free(s->conn);
	free(s->used);
	free(s->conninfo);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

static int
pg_open(const char *spec, unsigned nconn, unsigned history_size, void **ctx)
{
	struct pg *s = NULL;
	unsigned i;
	int rc = LAPS_ERR_NOMEM;

	*ctx = NULL;
	if (!PQisthreadsafe())
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "postgresql: libpq is not thread-safe");
	if (nconn == 0)
		nconn = 1;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return LAPS_ERR_NOMEM;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->history = history_size;
	if ((rc = check_conninfo(spec, &s->conninfo)) != 0)
		goto out;
	rc = LAPS_ERR_NOMEM;
	if ((s->conn = calloc(nconn, sizeof *s->conn)) == NULL ||
	    (s->used = calloc(nconn, sizeof *s->used)) == NULL)
		goto out;
	for (i = 0; i < nconn; i++) {
		if ((rc = open_conn(s->conninfo, &s->conn[i])) != 0)
			goto out;
		s->n++;
		if (i == 0 && (rc = migrate(s->conn[0])) != 0)
			goto out;
	}
	*ctx = s;
	s = NULL; /* success */
	rc = 0;
out:
	pg_close(s);
	return rc;
}

static int
pg_ping(void *ctx)
{
	struct pg *s = ctx;
	unsigned slot;
	PGconn *db = acquire(s, &slot);
	int rc = cmd(db, "SELECT count(*) FROM schema_migrations");

	release(s, slot);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Records                                                             */

static int update_current(PGconn *db, const char *device, const char *account, const char *json,
			  int64_t version);

/* Rotate after read (audit->expire_by): lower the current record's expiry
 * inside the read's transaction (the row was selected FOR UPDATE); cur
 * becomes the record after it. */
static int
cap_expiry(PGconn *db, const char *device, const char *account, const struct store_audit *audit,
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
		rc = select_current(db, device, account, false, cur);
	}
	free(json);
	return rc;
}

static bool
caps(const struct store_audit *audit)
{
	return audit != NULL && audit->expire_by > 0;
}

static int
pg_get(void *ctx, const char *device, const char *account, const struct store_audit *audit,
       struct store_entry *out)
{
	struct pg *s = ctx;
	unsigned slot;
	PGconn *db = acquire(s, &slot);
	int rc;

	memset(out, 0, sizeof *out);
	if (audit == NULL) {
		/* one statement: no transaction, retried on a fresh connection */
		rc = select_current(db, device, account, false, out);
		if (rc != 0 && PQstatus(db) != CONNECTION_OK && reconnect(db))
			rc = select_current(db, device, account, false, out);
	} else if ((rc = begin(db)) == 0) {
		rc = select_current(db, device, account, caps(audit), out);
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

/* Idempotency check inside the transaction (the row locked): the stored
 * record has the same rotation id as rec?  *same set; REUSED is a
 * conflict.  *exists tells whether there is a current record. */
static int
check_same_rotation(PGconn *db, const struct laps_record *rec, bool lock,
		    struct store_put_result *out, bool *same)
{
	struct store_entry cur = {0};
	struct laps_record r;
	int rc;

	*same = false;
	laps_record_init(&r);
	rc = select_current(db, rec->device, rec->account, lock, &cur);
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

/* Parameters $1..$8 of records writes (as in store_sqlite.c). */
struct recvals {
	char rotated[24], expires[24], updated[24], expected[24];
	const char *v[9];
};

static void
rec_values(struct recvals *b, const struct laps_record *rec, const char *json,
	   const char *device, const char *account)
{
	b->v[0] = rec->rotation_id;
	b->v[1] = laps_record_state_name(rec->state);
	b->v[2] = I64(b->rotated, rec->rotated_at);
	b->v[3] = I64(b->expires, rec->expires_at);
	b->v[4] = I64(b->updated, time(NULL));
	b->v[5] = json;
	b->v[6] = device;
	b->v[7] = account;
	b->v[8] = NULL;
}

static int
put_create(PGconn *db, const struct laps_record *rec, const char *json)
{
	struct recvals b;
	long changed = 0;
	int rc;

	rec_values(&b, rec, json, rec->device, rec->account);
	rc = run(db, "insert record",
		 "INSERT INTO records (rotation_id, state, rotated_at, expires_at, updated_at,"
		 " record, device, account, version, seq) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,1,1)"
		 " ON CONFLICT (device, account) DO NOTHING",
		 8, b.v, NULL, &changed);
	if (rc == 0 && changed == 0)
		rc = laps_seterr(LAPS_ERR_CONFLICT, "a record exists already");
	return rc;
}

/* History move + compare-and-set update + trim. */
static int
put_update(PGconn *db, const struct laps_record *rec, const char *json, int64_t expected,
	   unsigned history)
{
	struct recvals b;
	char hist[24];
	const char *v[3] = {rec->device, rec->account, NULL};
	long changed = 0;
	int rc;

	rec_values(&b, rec, json, rec->device, rec->account);
	b.v[8] = I64(b.expected, expected);
	v[2] = b.v[8];
	if ((rc = run(db, "history move",
		      "INSERT INTO history (device, account, seq, rotated_at, record)"
		      " SELECT device, account, seq, rotated_at, record FROM records"
		      " WHERE device = $1 AND account = $2 AND version = $3",
		      3, v, NULL, NULL)) != 0 ||
	    (rc = run(db, "update record",
		      "UPDATE records SET rotation_id = $1, state = $2, rotated_at = $3,"
		      " expires_at = $4, updated_at = $5, record = $6, seq = seq + 1,"
		      " version = version + 1 WHERE device = $7 AND account = $8 AND version = $9",
		      9, b.v, NULL, &changed)) != 0)
		return rc;
	if (changed == 0)
		return laps_seterr(LAPS_ERR_CONFLICT, "the record changed (version mismatch)");
	v[2] = I64(hist, history);
	return run(db, "history trim",
		   "DELETE FROM history WHERE device = $1 AND account = $2 AND seq NOT IN"
		   " (SELECT seq FROM history WHERE device = $1 AND account = $2"
		   " ORDER BY seq DESC LIMIT $3::bigint)",
		   3, v, NULL, NULL);
}

/* One attempt of put in its transaction. */
static int
put_tx(struct pg *s, PGconn *db, const struct laps_record *rec, const char *json,
       int64_t expected_version, const struct store_audit *audit, struct store_put_result *out)
{
	struct store_entry cur = {0};
	bool same = false;
	int rc;

	if ((rc = check_same_rotation(db, rec, true, out, &same)) != 0 || same)
		goto out;
	if (expected_version < 0) {
		rc = put_create(db, rec, json);
		out->result = STORE_PUT_CREATED;
		/* a concurrent create won; if it was this very rotation (a
		 * retry racing its original), answer as a retry would */
		if (rc == LAPS_ERR_CONFLICT && check_same_rotation(db, rec, false, out, &same) == 0 &&
		    same)
			rc = 0;
	} else {
		rc = put_update(db, rec, json, expected_version, s->history);
		out->result = STORE_PUT_UPDATED;
	}
	if (rc == 0 && !same &&
	    (rc = select_current(db, rec->device, rec->account, false, &cur)) == 0) {
		out->seq = cur.seq;
		out->version = cur.version;
	}
out:
	if (rc == 0)
		rc = audit_insert(db, audit);
	store_entry_clear(&cur);
	return finish(db, rc);
}

static int
pg_put(void *ctx, const struct laps_record *rec, const char *json, int64_t expected_version,
       const struct store_audit *audit, struct store_put_result *out)
{
	struct pg *s = ctx;
	unsigned slot;
	PGconn *db = acquire(s, &slot);
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = begin(db)) == 0)
		rc = put_tx(s, db, rec, json, expected_version, audit, out);
	release(s, slot);
	return rc;
}

/* Replace the current record's JSON (state/expiry) with CAS on version. */
static int
update_current(PGconn *db, const char *device, const char *account, const char *json,
	       int64_t version)
{
	struct laps_record r;
	struct recvals b;
	long changed = 0;
	int rc;

	laps_record_init(&r);
	if ((rc = laps_record_parse(json, strlen(json), &r)) != 0)
		return rc;
	rec_values(&b, &r, json, device, account);
	b.v[8] = I64(b.expected, version);
	rc = run(db, "update record",
		 "UPDATE records SET rotation_id = $1, state = $2, rotated_at = $3,"
		 " expires_at = $4, updated_at = $5, record = $6, version = version + 1"
		 " WHERE device = $7 AND account = $8 AND version = $9",
		 9, b.v, NULL, &changed);
	if (rc == 0 && changed == 0)
		rc = laps_seterr(LAPS_ERR_CONFLICT, "the record changed (version mismatch)");
	laps_record_clear(&r);
	return rc;
}

/* confirm (rotation_id != NULL) or expire, in one transaction. */
static int
change(struct pg *s, const char *device, const char *account, const char *rotation_id,
       int64_t expires_at, int64_t expected, const struct store_audit *audit, bool *mismatch,
       struct store_entry *out)
{
	struct store_entry cur = {0};
	char *json = NULL;
	unsigned slot;
	PGconn *db = acquire(s, &slot);
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = begin(db)) != 0)
		goto out;
	if ((rc = select_current(db, device, account, true, &cur)) != 0)
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
	if ((rc = select_current(db, device, account, false, out)) == 0)
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
pg_confirm(void *ctx, const char *device, const char *account, const char *rotation_id,
	   int64_t expires_at, int64_t expected_version, const struct store_audit *audit,
	   bool *mismatch, struct store_entry *out)
{
	*mismatch = false;
	return change(ctx, device, account, rotation_id, expires_at, expected_version, audit,
		      mismatch, out);
}

static int
pg_expire(void *ctx, const char *device, const char *account, int64_t expires_at,
	  int64_t expected_version, const struct store_audit *audit, struct store_entry *out)
{
	bool mismatch = false;

	return change(ctx, device, account, NULL, expires_at, expected_version, audit, &mismatch,
		      out);
}

static int
history_rows(PGconn *db, const char *device, const char *account, size_t limit,
	     struct store_entry_list *out)
{
	char lim[24];
	const char *v[3] = {device, account, I64(lim, limit)};
	PGresult *res = NULL;
	struct store_entry *e;
	int rc, i;

	if ((out->v = calloc(limit > 0 ? limit : 1, sizeof *out->v)) == NULL)
		return LAPS_ERR_NOMEM;
	if ((rc = run(db, "select history",
		      "SELECT record, seq FROM history WHERE device = $1 AND account = $2"
		      " ORDER BY seq DESC LIMIT $3::bigint",
		      3, v, &res, NULL)) != 0)
		return rc;
	for (i = 0; i < PQntuples(res) && out->n < limit; i++) {
		e = &out->v[out->n];
		if ((e->json = valdup(res, i, 0)) == NULL) {
			rc = LAPS_ERR_NOMEM;
			break;
		}
		e->json_len = strlen(e->json);
		e->seq = val64(res, i, 1);
		out->n++;
	}
	PQclear(res);
	return rc;
}

/* One device of a bulk expiry, inside the caller's transaction. */
static int
expire_one(PGconn *db, const struct store_audit *a, int64_t expires_at)
{
	struct store_entry cur = {0};
	char *json = NULL;
	int rc;

	if ((rc = select_current(db, a->device, a->account, true, &cur)) == 0 &&
	    (rc = store_record_expire(cur.json, cur.json_len, expires_at, &json)) == 0 &&
	    (strcmp(json, cur.json) == 0 ||
	     (rc = update_current(db, a->device, a->account, json, cur.version)) == 0))
		rc = audit_insert(db, a);
	free(json);
	store_entry_clear(&cur);
	return rc;
}

static int
pg_expire_many(void *ctx, const struct store_audit *audits, size_t n, int64_t expires_at)
{
	struct pg *s = ctx;
	unsigned slot;
	PGconn *db = acquire(s, &slot);
	size_t i;
	int rc;

	if ((rc = begin(db)) == 0) {
		for (i = 0; i < n && rc == 0; i++)
			rc = expire_one(db, &audits[i], expires_at);
		rc = finish(db, rc);
	}
	release(s, slot);
	return rc;
}

static int
pg_history(void *ctx, const char *device, const char *account, size_t limit,
	   const struct store_audit *audit, struct store_entry_list *out)
{
	struct pg *s = ctx;
	struct store_entry cur = {0};
	unsigned slot;
	PGconn *db = acquire(s, &slot);
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = begin(db)) != 0)
		goto out;
	if ((rc = select_current(db, device, account, caps(audit), &cur)) == 0 &&
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
/* Listings (single statements: a broken connection is retried once)   */

static int
query(struct pg *s, const char *what, const char *sql, int n, const char *const *v,
      PGresult **res)
{
	unsigned slot;
	PGconn *db = acquire(s, &slot);
	int rc = run(db, what, sql, n, v, res, NULL);

	if (rc != 0 && PQstatus(db) != CONNECTION_OK && reconnect(db))
		rc = run(db, what, sql, n, v, res, NULL);
	release(s, slot);
	return rc;
}

static int
pg_find(void *ctx, const char *name, const char *after, char (*devices)[LAPS_DEVICE_MAX + 1],
	size_t max, size_t *n)
{
	char lim[24];
	const char *v[4] = {name, name != NULL && strchr(name, '.') == NULL ? "1" : "0", after,
			    I64(lim, max)};
	PGresult *res = NULL;
	int rc, i;

	*n = 0;
	/* $1 name (NULL = all), $2 1 when name has no dot, $3 after, $4 max */
	if ((rc = query(ctx, "find",
			"SELECT DISTINCT device FROM records WHERE ($1::text IS NULL OR"
			" device = $1::text OR ($2::int = 1 AND substr(device, 1,"
			" length($1::text) + 1) = $1::text || '.'))"
			" AND ($3::text IS NULL OR device > $3::text) ORDER BY device"
			" LIMIT $4::bigint",
			4, v, &res)) != 0)
		return rc;
	for (i = 0; i < PQntuples(res) && *n < max; i++) {
		valcpy(res, i, 0, devices[*n], LAPS_DEVICE_MAX + 1);
		if (devices[*n][0] != '\0')
			(*n)++;
	}
	PQclear(res);
	return 0;
}

static void
summary_row(const PGresult *res, int i, struct store_summary *e)
{
	memset(e, 0, sizeof *e);
	valcpy(res, i, 0, e->device, sizeof e->device);
	valcpy(res, i, 1, e->account, sizeof e->account);
	e->state = strcmp(PQgetvalue(res, i, 2), "confirmed") == 0 ? LAPS_STATE_CONFIRMED
								   : LAPS_STATE_PENDING;
	e->rotated_at = val64(res, i, 3);
	e->expires_at = val64(res, i, 4);
	e->seq = val64(res, i, 5);
}

static int
pg_report(void *ctx, enum store_report_filter filter, int64_t now, const char *after_device,
	  const char *after_account, struct store_summary *out, size_t max, size_t *n)
{
	char f[24], t[24], lim[24];
	const char *v[5] = {I64(f, filter), I64(t, now), after_device,
			    after_account != NULL ? after_account : "", I64(lim, max)};
	PGresult *res = NULL;
	int rc, i;

	*n = 0;
	/* $1 filter, $2 now, $3/$4 after, $5 max */
	if ((rc = query(ctx, "report",
			"SELECT device, account, state, rotated_at, expires_at, seq FROM records"
			" WHERE ($1::int = 0 OR ($1::int = 1 AND state = 'pending') OR"
			" ($1::int = 2 AND state = 'confirmed') OR"
			" ($1::int = 3 AND expires_at < $2::bigint))"
			" AND ($3::text IS NULL OR device > $3::text OR"
			" (device = $3::text AND account > $4::text))"
			" ORDER BY device, account LIMIT $5::bigint",
			5, v, &res)) != 0)
		return rc;
	for (i = 0; i < PQntuples(res) && *n < max; i++)
		summary_row(res, i, &out[(*n)++]);
	PQclear(res);
	return 0;
}

/* The sorted, filtered report and its counts (server/store_report.c). */
static int
pg_report_query(void *ctx, const struct store_report_query *q, struct store_summary *out,
		size_t max, size_t *n)
{
	char sql[4096], bufs[STORE_REPORT_PARAMS][24];
	const char *v[STORE_REPORT_PARAMS];
	PGresult *res = NULL;
	int rc, i;

	*n = 0;
	if ((rc = store_report_sql(sql, sizeof sql, q, true, false)) != 0)
		return rc;
	store_report_params(q, max, bufs, v);
	if ((rc = query(ctx, "report", sql, STORE_REPORT_PARAMS, v, &res)) != 0)
		return rc;
	for (i = 0; i < PQntuples(res) && *n < max; i++) {
		summary_row(res, i, &out[*n]);
		out[(*n)++].health = (int)val64(res, i, 6);
	}
	PQclear(res);
	return 0;
}

static int
pg_report_counts(void *ctx, const struct store_report_query *q, int64_t counts[5])
{
	char sql[4096], bufs[STORE_REPORT_PARAMS][24];
	const char *v[STORE_REPORT_PARAMS];
	PGresult *res = NULL;
	int rc, i;
	int64_t h;

	memset(counts, 0, 5 * sizeof counts[0]);
	if ((rc = store_report_sql(sql, sizeof sql, q, true, true)) != 0)
		return rc;
	store_report_params(q, 0, bufs, v);
	if ((rc = query(ctx, "report counts", sql, STORE_COUNT_PARAMS, v, &res)) != 0)
		return rc;
	for (i = 0; i < PQntuples(res); i++)
		if ((h = val64(res, i, 0)) > 0 && h < 5)
			counts[h] = val64(res, i, 1);
	PQclear(res);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Approvals (two-person rule)                                         */

#define APPROVAL_COLS                                                                              \
	"id, device, account, requester, reason, state, coalesce(decided_by, ''), created_at,"     \
	" expires_at, coalesce(decided_at, 0)"

static void
approval_row(const PGresult *res, int i, struct store_approval *a)
{
	memset(a, 0, sizeof *a);
	a->id = val64(res, i, 0);
	valcpy(res, i, 1, a->device, sizeof a->device);
	valcpy(res, i, 2, a->account, sizeof a->account);
	valcpy(res, i, 3, a->requester, sizeof a->requester);
	valcpy(res, i, 4, a->reason, sizeof a->reason);
	valcpy(res, i, 5, a->state, sizeof a->state);
	valcpy(res, i, 6, a->decided_by, sizeof a->decided_by);
	a->created_at = val64(res, i, 7);
	a->expires_at = val64(res, i, 8);
	a->decided_at = val64(res, i, 9);
}

static int
pg_approval_create(void *ctx, struct store_approval *a, const struct store_audit *audit)
{
	struct pg *s = ctx;
	char c[24], e[24];
	const char *v[6] = {a->device,
			    a->account,
			    a->requester,
			    a->reason,
			    I64(c, a->created_at),
			    I64(e, a->expires_at)};
	PGresult *res = NULL;
	unsigned slot;
	PGconn *db = acquire(s, &slot);
	int rc;

	if ((rc = begin(db)) == 0) {
		rc = run(db, "insert approval",
			 "INSERT INTO approvals (device, account, requester, reason, state,"
			 " created_at, expires_at) VALUES ($1, $2, $3, $4, 'pending', $5, $6)"
			 " RETURNING id",
			 6, v, &res, NULL);
		if (rc == 0 && PQntuples(res) == 1) {
			a->id = val64(res, 0, 0);
			rc = audit_insert(db, audit);
		} else if (rc == 0) {
			rc = laps_seterr(LAPS_ERR_BACKEND, "postgresql: insert approval: no id");
		}
		PQclear(res);
		rc = finish(db, rc);
	}
	release(s, slot);
	return rc;
}

static int
pg_approval_get(void *ctx, int64_t id, struct store_approval *out)
{
	char i64[24];
	const char *v[1] = {I64(i64, id)};
	PGresult *res = NULL;
	int rc;

	if ((rc = query(ctx, "select approval",
			"SELECT " APPROVAL_COLS " FROM approvals WHERE id = $1", 1, v, &res)) != 0)
		return rc;
	if (PQntuples(res) == 0)
		rc = laps_seterr(LAPS_ERR_NOTFOUND, "no approval request %lld", (long long)id);
	else
		approval_row(res, 0, out);
	PQclear(res);
	return rc;
}

static int
pg_approval_list(void *ctx, int64_t now, struct store_approval *out, size_t max, size_t *n)
{
	char t[24], m[24];
	const char *v[2] = {I64(t, now), I64(m, max)};
	PGresult *res = NULL;
	int i, rc;

	*n = 0;
	if ((rc = query(ctx, "select approvals",
			"SELECT " APPROVAL_COLS " FROM approvals WHERE state = 'pending' AND"
			" expires_at > $1::bigint ORDER BY id LIMIT $2::bigint",
			2, v, &res)) != 0)
		return rc;
	for (i = 0; i < PQntuples(res) && *n < max; i++)
		approval_row(res, i, &out[(*n)++]);
	PQclear(res);
	return 0;
}

static int
pg_approval_decide(void *ctx, int64_t id, const char *state, const char *by, int64_t now,
		   int64_t expires_at, const struct store_audit *audit)
{
	struct pg *s = ctx;
	char i64[24], t[24], e[24];
	const char *v[5] = {state, by, I64(t, now), I64(e, expires_at), I64(i64, id)};
	unsigned slot;
	PGconn *db = acquire(s, &slot);
	long changed = 0;
	int rc;

	if ((rc = begin(db)) == 0) {
		rc =
		    run(db, "decide approval",
			"UPDATE approvals SET state = $1, decided_by = $2, decided_at = $3::bigint,"
			" expires_at = $4::bigint WHERE id = $5::bigint AND state = 'pending' AND"
			" expires_at > $3::bigint",
			5, v, NULL, &changed);
		if (rc == 0 && changed == 0)
			rc = laps_seterr(LAPS_ERR_CONFLICT,
					 "the request is no longer pending or has expired");
		if (rc == 0)
			rc = audit_insert(db, audit);
		rc = finish(db, rc);
	}
	release(s, slot);
	return rc;
}

static int
pg_approval_valid(void *ctx, const char *device, const char *account, const char *requester,
		  int64_t now)
{
	char t[24];
	const char *v[4] = {device, account, requester, I64(t, now)};
	PGresult *res = NULL;
	int rc;

	if ((rc =
		 query(ctx, "select approval",
		       "SELECT 1 FROM approvals WHERE device = $1 AND account = $2 AND"
		       " requester = $3 AND state = 'approved' AND expires_at > $4::bigint LIMIT 1",
		       4, v, &res)) != 0)
		return rc;
	if (PQntuples(res) == 0)
		rc = laps_seterr(LAPS_ERR_NOTFOUND, "no valid approval");
	PQclear(res);
	return rc;
}

static int
pg_audit_prune(void *ctx, int64_t before, int64_t *n)
{
	struct pg *s = ctx;
	char b[24];
	const char *v[1] = {I64(b, before)};
	unsigned slot;
	PGconn *db = acquire(s, &slot);
	long changed = 0;
	int rc;

	*n = 0;
	if ((rc = begin(db)) == 0) {
		if ((rc = run(db, "audit prune", "UPDATE audit_prune SET cutoff = $1::bigint", 1, v,
			      NULL, NULL)) == 0 &&
		    (rc = run(db, "audit prune", "DELETE FROM audit WHERE time < $1::bigint", 1, v,
			      NULL, &changed)) == 0) {
			*n = changed;
			rc = cmd(db, "UPDATE audit_prune SET cutoff = 0");
		}
		rc = finish(db, rc);
	}
	release(s, slot);
	return rc;
}

static int
pg_audit_append(void *ctx, const struct store_audit *audit)
{
	struct pg *s = ctx;
	unsigned slot;
	PGconn *db = acquire(s, &slot);
	int rc;

	if ((rc = begin(db)) == 0)
		rc = finish(db, audit_insert(db, audit));
	release(s, slot);
	return rc;
}

static int
audit_row(const PGresult *res, int i, struct store_audit_row *r)
{
	memset(r, 0, sizeof *r);
	r->id = val64(res, i, 0);
	r->time = val64(res, i, 1);
	r->actor = valdup(res, i, 2);
	r->kind = valdup(res, i, 3);
	r->device = valdup(res, i, 4);
	r->account = valdup(res, i, 5);
	r->action = valdup(res, i, 6);
	r->outcome = valdup(res, i, 7);
	r->status = (int)val64(res, i, 8);
	r->peer = valdup(res, i, 9);
	r->jti = valdup(res, i, 10);
	if (r->actor == NULL || r->kind == NULL || r->action == NULL || r->outcome == NULL) {
		store_audit_row_clear(r);
		return LAPS_ERR_NOMEM;
	}
	return 0;
}

static int
pg_audit_query(void *ctx, const struct store_audit_query *q, struct store_audit_row *out,
	       size_t max, size_t *n)
{
	char since[24], until[24], before[24], lim[24];
	const char *v[7] = {q->device,	       q->actor,	   q->action,	     I64(since, q->since),
			    I64(until, q->until), I64(before, q->before_id), I64(lim, max)};
	PGresult *res = NULL;
	int rc, i;

	*n = 0;
	if ((rc = query(ctx, "audit query",
			"SELECT id, time, actor, kind, device, account, action, outcome, status,"
			" peer, jti FROM audit WHERE ($1::text IS NULL OR device = $1::text) AND"
			" ($2::text IS NULL OR actor = $2::text) AND"
			" ($3::text IS NULL OR action = $3::text) AND time >= $4::bigint AND"
			" ($5::bigint = 0 OR time < $5::bigint) AND"
			" ($6::bigint = 0 OR id < $6::bigint) ORDER BY id DESC LIMIT $7::bigint",
			7, v, &res)) != 0)
		return rc;
	for (i = 0; rc == 0 && i < PQntuples(res) && *n < max; i++)
		if ((rc = audit_row(res, i, &out[*n])) == 0)
			(*n)++;
	PQclear(res);
	return rc;
}

static int
query_rows(const PGresult *res, struct store_rows *out)
{
	size_t r, c, rows = (size_t)PQntuples(res), cols = (size_t)PQnfields(res);

	if (rows > STORE_QUERY_ROWS)
		rows = STORE_QUERY_ROWS;
	out->cols = cols;
	if (rows == 0 || cols == 0)
		return 0;
	if ((out->cell = calloc(rows * cols, sizeof *out->cell)) == NULL)
		return LAPS_ERR_NOMEM;
	out->rows = rows;
	for (r = 0; r < rows; r++)
		for (c = 0; c < cols; c++)
			out->cell[r * cols + c] = valdup(res, (int)r, (int)c);
	return 0;
}

static int
pg_query(void *ctx, const char *sql, size_t n, const char *const *params,
	 const struct store_audit *audit, struct store_rows *out)
{
	struct pg *s = ctx;
	unsigned slot;
	PGconn *db = acquire(s, &slot);
	PGresult *res = NULL;
	long changed = 0;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = begin(db)) == 0) {
		rc = run(db, "query", sql, (int)n, params, &res, &changed);
		if (rc == 0 && res != NULL)
			rc = query_rows(res, out);
		out->changed = changed;
		PQclear(res);
		if (rc == 0 && audit != NULL)
			rc = audit_insert(db, audit);
		rc = finish(db, rc);
	}
	if (rc != 0)
		store_rows_free(out);
	release(s, slot);
	return rc;
}

const struct store_ops store_pg_ops = {
    .scheme = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .ping = pg_ping,
    .get = pg_get,
    .put = pg_put,
    .confirm = pg_confirm,
    .expire = pg_expire,
    .history = pg_history,
    .find = pg_find,
    .report = pg_report,
    .report_query = pg_report_query,
    .report_counts = pg_report_counts,
    .expire_many = pg_expire_many,
    .approval_create = pg_approval_create,
    .approval_get = pg_approval_get,
    .approval_list = pg_approval_list,
    .approval_decide = pg_approval_decide,
    .approval_valid = pg_approval_valid,
    .audit_prune = pg_audit_prune,
    .audit_append = pg_audit_append,
    .audit_query = pg_audit_query,
    .query = pg_query,
};
