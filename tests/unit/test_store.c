/*
 * test_store.c — laps-escrowd's store (server/store.h) against SQLite:
 * compare-and-set, idempotent retry, seq, history move and trim, confirm,
 * expire, find, report, audit (append-only, same transaction), migrations,
 * and concurrent writers (exactly one wins each round).
 *
 * LAPS_TEST_STORE_URL (e.g. postgresql:host=/tmp/x dbname=laps) runs the
 * same tests against another store; by default a fresh SQLite file
 * (tests/integration/store_pg.sh runs them against a throw-away
 * PostgreSQL).  LAPS_TEST_STORE_FRESH_URL names a second, empty database
 * for the concurrent-migrations test (default: another SQLite file).
 * The checks that go behind the store's back (append-only audit, a failing
 * audit insert, recorded migrations, dropped connections) use sqlite3 or
 * libpq directly.
 */
#include "config.h"

#include <CUnit/CUnit.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/record.h"
#include "server/store.h"
#include "tests/unit/testutil.h"

#define HISTORY 3

static struct store *st;
static char url[4200];
static char fresh_url[4200];

static bool
is_pg(void)
{
	return strncmp(url, "postgresql:", 11) == 0;
}

/* A direct libpq connection to the test database (PostgreSQL runs only). */
static PGconn *
pg_direct(void)
{
	PGconn *db = PQconnectdb(url + 11);

	CU_ASSERT_FATAL(PQstatus(db) == CONNECTION_OK);
	return db;
}

/* Run sql directly; true when PostgreSQL accepted it. */
static bool
pg_ok(PGconn *db, const char *sql)
{
	PGresult *res = PQexec(db, sql);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

	PQclear(res);
	return ok;
}

/* The first column of the first row of sql as a number (-1 on error). */
static long
pg_num(PGconn *db, const char *sql)
{
	PGresult *res = PQexec(db, sql);
	long v = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

static int
suite_init(void)
{
	const char *env = getenv("LAPS_TEST_STORE_URL");

	if (laps_test_suite_init() != 0)
		return -1;
	if (env != NULL && env[0] != '\0')
		snprintf(url, sizeof url, "%s", env);
	else
		snprintf(url, sizeof url, "sqlite:%s/escrow.db", laps_test_dir);
	env = getenv("LAPS_TEST_STORE_FRESH_URL");
	if (env != NULL && env[0] != '\0')
		snprintf(fresh_url, sizeof fresh_url, "%s", env);
	else
		snprintf(fresh_url, sizeof fresh_url, "sqlite:%s/fresh.db", laps_test_dir);
	return store_open(url, 4, HISTORY, &st) == 0 ? 0 : -1;
}

static int
suite_cleanup(void)
{
	store_close(st);
	st = NULL;
	return laps_test_suite_cleanup();
}

/* A valid record; the envelope byte e makes different secrets. */
static void
mkrec(struct laps_record *r, const char *device, const char *account, unsigned n, uint8_t e)
{
	laps_record_init(r);
	snprintf(r->device, sizeof r->device, "%s", device);
	snprintf(r->account, sizeof r->account, "%s", account);
	r->uid = 1001;
	snprintf(r->rotation_id, sizeof r->rotation_id, "%032x", n);
	r->rotated_at = 1700000000 + n;
	r->expires_at = 1700086400 + n;
	r->state = LAPS_STATE_PENDING;
	r->envelope = malloc(16);
	CU_ASSERT_FATAL(r->envelope != NULL);
	memset(r->envelope, e, 16);
	r->envelope_len = 16;
	snprintf(r->key_ids[0], sizeof r->key_ids[0], "0011223344556677");
	r->n_key_ids = 1;
}

static int
put(const char *device, const char *account, unsigned n, uint8_t e, int64_t expected,
    struct store_put_result *res)
{
	struct laps_record r;
	char *json = NULL;
	int rc;

	mkrec(&r, device, account, n, e);
	CU_ASSERT_FATAL(laps_record_serialise(&r, &json) == 0);
	rc = st->ops->put(st->ctx, &r, json, expected, NULL, res);
	free(json);
	laps_record_clear(&r);
	return rc;
}

static void
test_create_and_cas(void)
{
	struct store_put_result a, b, c;
	struct store_entry e = {0};

	CU_ASSERT_EQUAL(st->ops->get(st->ctx, "cas.example.test", "lapsadmin", NULL, &e),
			LAPS_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(put("cas.example.test", "lapsadmin", 1, 1, -1, &a), 0);
	CU_ASSERT_EQUAL(a.result, STORE_PUT_CREATED);
	CU_ASSERT_EQUAL(a.seq, 1);
	/* create again (another rotation): 412 */
	CU_ASSERT_EQUAL(put("cas.example.test", "lapsadmin", 2, 2, -1, &b), LAPS_ERR_CONFLICT);
	/* stale version: 412 */
	CU_ASSERT_EQUAL(put("cas.example.test", "lapsadmin", 2, 2, a.version + 7, &b),
			LAPS_ERR_CONFLICT);
	CU_ASSERT_EQUAL(put("cas.example.test", "lapsadmin", 2, 2, a.version, &b), 0);
	CU_ASSERT_EQUAL(b.result, STORE_PUT_UPDATED);
	CU_ASSERT_EQUAL(b.seq, 2);
	CU_ASSERT_NOT_EQUAL(b.version, a.version);
	/* the old version is now stale */
	CU_ASSERT_EQUAL(put("cas.example.test", "lapsadmin", 3, 3, a.version, &c),
			LAPS_ERR_CONFLICT);
	CU_ASSERT_EQUAL(st->ops->get(st->ctx, "cas.example.test", "lapsadmin", NULL, &e), 0);
	CU_ASSERT_EQUAL(e.seq, 2);
	CU_ASSERT_EQUAL(e.version, b.version);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.json, "00000000000000000000000000000002"));
	store_entry_clear(&e);
	/* an update of a (device, account) that has no record: 412 */
	CU_ASSERT_EQUAL(put("none.example.test", "lapsadmin", 1, 1, 1, &c), LAPS_ERR_CONFLICT);
}

static void
test_idempotent_retry(void)
{
	struct store_put_result a, b, c;

	CU_ASSERT_EQUAL(put("idem.example.test", "lapsadmin", 1, 1, -1, &a), 0);
	/* the same PUT again (its answer was lost): same version, nothing written */
	CU_ASSERT_EQUAL(put("idem.example.test", "lapsadmin", 1, 1, -1, &b), 0);
	CU_ASSERT_EQUAL(b.result, STORE_PUT_SAME);
	CU_ASSERT_EQUAL(b.version, a.version);
	CU_ASSERT_EQUAL(b.seq, 1);
	/* same rotation id, another envelope: refused */
	CU_ASSERT_EQUAL(put("idem.example.test", "lapsadmin", 1, 9, a.version, &c),
			LAPS_ERR_CONFLICT);
	CU_ASSERT_EQUAL(c.result, STORE_PUT_REUSED);
}

static void
test_history_trim_seq(void)
{
	struct store_put_result r = {0};
	struct store_entry_list h = {0};
	int64_t ver = -1;
	unsigned i;

	for (i = 1; i <= 6; i++) {
		CU_ASSERT_EQUAL_FATAL(put("hist.example.test", "lapsadmin", i, (uint8_t)i, ver, &r),
				      0);
		CU_ASSERT_EQUAL(r.seq, (int64_t)i);
		ver = r.version;
	}
	CU_ASSERT_EQUAL(st->ops->history(st->ctx, "hist.example.test", "lapsadmin", 100, NULL, &h),
			0);
	/* current is 6; history holds the newest HISTORY older ones: 5 4 3 */
	CU_ASSERT_EQUAL_FATAL(h.n, HISTORY);
	CU_ASSERT_EQUAL(h.v[0].seq, 5);
	CU_ASSERT_EQUAL(h.v[1].seq, 4);
	CU_ASSERT_EQUAL(h.v[2].seq, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(h.v[0].json, "00000000000000000000000000000005"));
	store_entry_list_free(&h);
	CU_ASSERT_EQUAL(st->ops->history(st->ctx, "hist.example.test", "lapsadmin", 1, NULL, &h), 0);
	CU_ASSERT_EQUAL(h.n, 1);
	store_entry_list_free(&h);
	CU_ASSERT_EQUAL(st->ops->history(st->ctx, "nohist.example.test", "lapsadmin", 5, NULL, &h),
			LAPS_ERR_NOTFOUND);
}

static void
test_confirm_expire(void)
{
	struct store_put_result a, b;
	struct store_entry e = {0};
	bool mismatch = false;
	char other[LAPS_ROTID_HEX + 1];

	CU_ASSERT_EQUAL(put("conf.example.test", "lapsadmin", 1, 1, -1, &a), 0);
	snprintf(other, sizeof other, "%032x", 2);
	CU_ASSERT_EQUAL(st->ops->confirm(st->ctx, "conf.example.test", "lapsadmin", other, 5, 0,
					 NULL, &mismatch, &e),
			LAPS_ERR_CONFLICT);
	CU_ASSERT_TRUE(mismatch);
	snprintf(other, sizeof other, "%032x", 1);
	CU_ASSERT_EQUAL(st->ops->confirm(st->ctx, "conf.example.test", "lapsadmin", other,
					 1800000000, 0, NULL, &mismatch, &e),
			0);
	CU_ASSERT_FALSE(mismatch);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.json, "\"state\":\"confirmed\""));
	/* the confirm never pushes the pending record's expiry later: it was
	 * 1700086401 (mkrec), and may have been moved there by an admin */
	CU_ASSERT_PTR_NOT_NULL(strstr(e.json, "\"expires_at\":1700086401"));
	CU_ASSERT_EQUAL(e.seq, 1);
	CU_ASSERT_NOT_EQUAL(e.version, a.version);
	/* an earlier expiry in the confirm is taken */
	store_entry_clear(&e);
	CU_ASSERT_EQUAL(put("conf2.example.test", "lapsadmin", 1, 1, -1, &b), 0);
	CU_ASSERT_EQUAL(st->ops->confirm(st->ctx, "conf2.example.test", "lapsadmin", other,
					 1700000100, 0, NULL, &mismatch, &e),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.json, "\"expires_at\":1700000100"));
	/* a PUT with the pre-confirm version is stale now */
	CU_ASSERT_EQUAL(put("conf.example.test", "lapsadmin", 2, 2, a.version, &b),
			LAPS_ERR_CONFLICT);
	/* expire with a stale expected version: 412; with the right one: ok */
	store_entry_clear(&e);
	CU_ASSERT_EQUAL(st->ops->expire(st->ctx, "conf.example.test", "lapsadmin", 42, a.version,
					NULL, &e),
			LAPS_ERR_CONFLICT);
	CU_ASSERT_EQUAL(st->ops->expire(st->ctx, "conf.example.test", "lapsadmin", 42, 0, NULL, &e),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.json, "\"expires_at\":42"));
	store_entry_clear(&e);
	CU_ASSERT_EQUAL(st->ops->expire(st->ctx, "nope.example.test", "lapsadmin", 42, 0, NULL, &e),
			LAPS_ERR_NOTFOUND);
}

static void
test_find_report(void)
{
	struct store_put_result r;
	char dev[8][LAPS_DEVICE_MAX + 1];
	struct store_summary sum[4];
	size_t n = 0;

	CU_ASSERT_EQUAL(put("ws01.a.test", "lapsadmin", 1, 1, -1, &r), 0);
	CU_ASSERT_EQUAL(put("ws01.b.test", "lapsadmin", 1, 1, -1, &r), 0);
	CU_ASSERT_EQUAL(put("ws01", "lapsadmin", 1, 1, -1, &r), 0);
	CU_ASSERT_EQUAL(put("ws010.a.test", "lapsadmin", 1, 1, -1, &r), 0);
	CU_ASSERT_EQUAL(st->ops->find(st->ctx, "ws01", NULL, dev, 8, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_STRING_EQUAL(dev[0], "ws01");
	CU_ASSERT_STRING_EQUAL(dev[1], "ws01.a.test");
	CU_ASSERT_STRING_EQUAL(dev[2], "ws01.b.test");
	CU_ASSERT_EQUAL(st->ops->find(st->ctx, "ws01", "ws01.a.test", dev, 8, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(st->ops->find(st->ctx, "ws01.a.test", NULL, dev, 8, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	/* '_' and '%' are literal, not LIKE patterns */
	CU_ASSERT_EQUAL(st->ops->find(st->ctx, "ws0_", NULL, dev, 8, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	/* report: paged in (device, account) order */
	CU_ASSERT_EQUAL(st->ops->report(st->ctx, STORE_REPORT_ALL, 0, NULL, NULL, sum, 2, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(st->ops->report(st->ctx, STORE_REPORT_ALL, 0, sum[1].device,
					sum[1].account, sum + 2, 2, &n),
			0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_TRUE(strcmp(sum[1].device, sum[2].device) < 0);
	/* overdue: expires_at < now; the test records expire in 2023 except the
	 * one test_confirm_expire expired (42) */
	CU_ASSERT_EQUAL(st->ops->report(st->ctx, STORE_REPORT_OVERDUE, 1600000000, NULL, NULL, sum,
					4, &n),
			0);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(sum[0].device, "conf.example.test");
	CU_ASSERT_EQUAL(st->ops->report(st->ctx, STORE_REPORT_PENDING, 0, NULL, NULL, sum, 4, &n),
			0);
	CU_ASSERT_EQUAL(n, 4);
}

static int
count_audit(const char *device)
{
	struct store_audit_query q = {.device = device};
	struct store_audit_row rows[50];
	size_t n = 0, i;

	CU_ASSERT_EQUAL_FATAL(st->ops->audit_query(st->ctx, &q, rows, 50, &n), 0);
	for (i = 0; i < n; i++)
		store_audit_row_clear(&rows[i]);
	return (int)n;
}

/*
 * Rule "no audit row, no secret": with every audit insert failing, a
 * secret read and a history read fail as a store failure (not "not found",
 * not "conflict": the server answers 503) and hand out nothing.
 */
static void
audit_fail_reads(const struct store_audit *base)
{
	struct store_audit a = *base;
	struct store_entry e = {0};
	struct store_entry_list h = {0};
	int rc;

	a.action = "read_secret";
	a.outcome = "allowed";
	a.status = 200;
	rc = st->ops->get(st->ctx, "aud.example.test", "lapsadmin", &a, &e);
	if (rc == 0)
		fprintf(stderr, "rule 'no audit row, no secret' broken: a secret read succeeded "
				"without its audit row\n");
	CU_ASSERT_NOT_EQUAL(rc, 0);
	CU_ASSERT_NOT_EQUAL(rc, LAPS_ERR_NOTFOUND);
	CU_ASSERT_NOT_EQUAL(rc, LAPS_ERR_CONFLICT);
	CU_ASSERT_PTR_NULL(e.json);
	store_entry_clear(&e);
	a.action = "read_history";
	rc = st->ops->history(st->ctx, "aud.example.test", "lapsadmin", 10, &a, &h);
	if (rc == 0)
		fprintf(stderr, "rule 'no audit row, no secret' broken: a history read succeeded "
				"without its audit row\n");
	CU_ASSERT_NOT_EQUAL(rc, 0);
	CU_ASSERT_NOT_EQUAL(rc, LAPS_ERR_NOTFOUND);
	CU_ASSERT_NOT_EQUAL(rc, LAPS_ERR_CONFLICT);
	CU_ASSERT_EQUAL(h.n, 0);
	CU_ASSERT_PTR_NULL(h.v);
	store_entry_list_free(&h);
}

/* PostgreSQL: append-only audit (UPDATE, DELETE, TRUNCATE refused), and a
 * failing audit insert fails the operation and its change. */
static void
audit_pg(struct store_audit *a)
{
	PGconn *db = pg_direct();
	struct store_entry e = {0};

	CU_ASSERT_FALSE(pg_ok(db, "UPDATE audit SET actor = 'x'"));
	CU_ASSERT_FALSE(pg_ok(db, "DELETE FROM audit"));
	CU_ASSERT_FALSE(pg_ok(db, "TRUNCATE audit"));
	CU_ASSERT_EQUAL(pg_num(db, "SELECT count(*) FROM audit WHERE device = 'aud.example.test'"),
			2);
	CU_ASSERT_TRUE_FATAL(pg_ok(db, "CREATE FUNCTION audit_fail() RETURNS trigger LANGUAGE "
				       "plpgsql AS $$BEGIN RAISE EXCEPTION 'disk full'; END$$"));
	CU_ASSERT_TRUE_FATAL(pg_ok(db, "CREATE TRIGGER audit_fail BEFORE INSERT ON audit FOR "
				       "EACH ROW EXECUTE FUNCTION audit_fail()"));
	a->outcome = "allowed";
	a->action = "expire";
	CU_ASSERT_NOT_EQUAL(st->ops->expire(st->ctx, "aud.example.test", "lapsadmin", 7, 0, a, &e),
			    0);
	CU_ASSERT_EQUAL(st->ops->get(st->ctx, "aud.example.test", "lapsadmin", NULL, &e), 0);
	CU_ASSERT_PTR_NULL(strstr(e.json, "\"expires_at\":7,"));
	store_entry_clear(&e);
	audit_fail_reads(a);
	CU_ASSERT_TRUE(pg_ok(db, "DROP TRIGGER audit_fail ON audit"));
	CU_ASSERT_TRUE(pg_ok(db, "DROP FUNCTION audit_fail()"));
	PQfinish(db);
}

static void
test_audit(void)
{
	struct store_audit a = {.time = 1, .actor = "alice", .kind = "admin",
				.device = "aud.example.test", .account = "lapsadmin",
				.action = "read_secret", .outcome = "allowed", .status = 200,
				.peer = "127.0.0.1", .jti = "j1"};
	struct store_put_result r;
	struct store_entry e = {0};
	sqlite3 *db = NULL;
	char path[4200];

	CU_ASSERT_EQUAL(put("aud.example.test", "lapsadmin", 1, 1, -1, &r), 0);
	CU_ASSERT_EQUAL(st->ops->get(st->ctx, "aud.example.test", "lapsadmin", &a, &e), 0);
	store_entry_clear(&e);
	CU_ASSERT_EQUAL(count_audit("aud.example.test"), 1);
	/* a read of a missing record writes nothing (the transaction rolls back) */
	CU_ASSERT_EQUAL(st->ops->get(st->ctx, "aud.example.test", "other", &a, &e),
			LAPS_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(count_audit("aud.example.test"), 1);
	a.outcome = "denied";
	a.status = 403;
	CU_ASSERT_EQUAL(st->ops->audit_append(st->ctx, &a), 0);
	CU_ASSERT_EQUAL(count_audit("aud.example.test"), 2);
	if (is_pg()) {
		audit_pg(&a);
		return;
	}
	/* append-only: the schema refuses UPDATE and DELETE */
	snprintf(path, sizeof path, "%s", url + 7);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &db), SQLITE_OK);
	CU_ASSERT_NOT_EQUAL(sqlite3_exec(db, "UPDATE audit SET actor = 'x'", NULL, NULL, NULL),
			    SQLITE_OK);
	CU_ASSERT_NOT_EQUAL(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, NULL), SQLITE_OK);
	/* a failing audit insert fails the operation and its change */
	CU_ASSERT_EQUAL(sqlite3_exec(db,
				     "CREATE TRIGGER audit_fail BEFORE INSERT ON audit BEGIN "
				     "SELECT RAISE(ABORT, 'disk full'); END",
				     NULL, NULL, NULL),
			SQLITE_OK);
	a.outcome = "allowed";
	a.action = "expire";
	CU_ASSERT_NOT_EQUAL(st->ops->expire(st->ctx, "aud.example.test", "lapsadmin", 7, 0, &a, &e),
			    0);
	CU_ASSERT_EQUAL(st->ops->get(st->ctx, "aud.example.test", "lapsadmin", NULL, &e), 0);
	CU_ASSERT_PTR_NULL(strstr(e.json, "\"expires_at\":7,"));
	store_entry_clear(&e);
	audit_fail_reads(&a);
	CU_ASSERT_EQUAL(sqlite3_exec(db, "DROP TRIGGER audit_fail", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
migrations_pg(void)
{
	PGconn *db = pg_direct();
	struct store *again = NULL;

	CU_ASSERT_EQUAL(pg_num(db, "SELECT count(*) FROM schema_migrations"),
			(long)store_n_migrations);
	CU_ASSERT_EQUAL(pg_num(db, "SELECT max(version) FROM schema_migrations"),
			(long)store_n_migrations);
	/* a database from a newer laps-escrowd is refused */
	CU_ASSERT_TRUE(pg_ok(db, "INSERT INTO schema_migrations VALUES (999, 0)"));
	CU_ASSERT_EQUAL(store_open(url, 1, HISTORY, &again), LAPS_ERR_VERSION);
	CU_ASSERT_TRUE(pg_ok(db, "DELETE FROM schema_migrations WHERE version = 999"));
	CU_ASSERT_EQUAL(store_open(url, 1, HISTORY, &again), 0);
	store_close(again);
	PQfinish(db);
}

static void
test_migrations_recorded(void)
{
	struct store *again = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;

	/* reopening applies nothing twice */
	CU_ASSERT_EQUAL_FATAL(store_open(url, 1, HISTORY, &again), 0);
	CU_ASSERT_EQUAL(again->ops->ping(again->ctx), 0);
	store_close(again);
	if (is_pg()) {
		migrations_pg();
		return;
	}
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(url + 7, &db), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(
	    sqlite3_prepare_v2(db, "SELECT count(*), max(version) FROM schema_migrations", -1, &q,
			       NULL),
	    SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_step(q), SQLITE_ROW);
	CU_ASSERT_EQUAL(sqlite3_column_int(q, 0), (int)store_n_migrations);
	CU_ASSERT_EQUAL(sqlite3_column_int(q, 1), (int)store_n_migrations);
	sqlite3_finalize(q);
	/* a database from a newer laps-escrowd is refused */
	CU_ASSERT_EQUAL(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (999, 0)", NULL,
				     NULL, NULL),
			SQLITE_OK);
	CU_ASSERT_EQUAL(store_open(url, 1, HISTORY, &again), LAPS_ERR_VERSION);
	CU_ASSERT_EQUAL(sqlite3_exec(db, "DELETE FROM schema_migrations WHERE version = 999", NULL,
				     NULL, NULL),
			SQLITE_OK);
	sqlite3_close(db);
	CU_ASSERT_EQUAL(store_open(url, 1, HISTORY, &again), 0);
	store_close(again);
}

/* Concurrent writers: each round, THREADS threads try to replace the same
 * version; exactly one may win. */
#define THREADS 6
#define ROUNDS 25

struct racer {
	unsigned id;
	int64_t expected;
	unsigned round;
	int rc;
	pthread_barrier_t *bar;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	struct store_put_result res;

	pthread_barrier_wait(r->bar);
	r->rc = put("race.example.test", "lapsadmin", 1000 + r->round * THREADS + r->id,
		    (uint8_t)r->id, r->expected, &res);
	return NULL;
}

static void
test_concurrent_writers(void)
{
	pthread_t th[THREADS];
	struct racer rs[THREADS];
	pthread_barrier_t bar;
	struct store_put_result first;
	struct store_entry e = {0};
	unsigned round, i, wins, lost_other;
	int64_t ver;

	CU_ASSERT_EQUAL_FATAL(put("race.example.test", "lapsadmin", 1, 1, -1, &first), 0);
	ver = first.version;
	for (round = 0; round < ROUNDS; round++) {
		pthread_barrier_init(&bar, NULL, THREADS);
		for (i = 0; i < THREADS; i++) {
			rs[i] = (struct racer){.id = i, .expected = ver, .round = round, .bar = &bar};
			CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, race, &rs[i]), 0);
		}
		wins = lost_other = 0;
		for (i = 0; i < THREADS; i++) {
			pthread_join(th[i], NULL);
			if (rs[i].rc == 0)
				wins++;
			else if (rs[i].rc != LAPS_ERR_CONFLICT)
				lost_other++;
		}
		pthread_barrier_destroy(&bar);
		CU_ASSERT_EQUAL(wins, 1);
		CU_ASSERT_EQUAL(lost_other, 0);
		CU_ASSERT_EQUAL_FATAL(st->ops->get(st->ctx, "race.example.test", "lapsadmin", NULL,
						   &e),
				      0);
		CU_ASSERT_EQUAL(e.seq, (int64_t)round + 2); /* one new rotation per round */
		ver = e.version;
		store_entry_clear(&e);
	}
}

/* Several instances starting at once on an empty database: every open
 * succeeds and each migration is applied once (PostgreSQL: the advisory
 * lock; SQLite: BEGIN IMMEDIATE). */
#define OPENERS 6

struct opener {
	pthread_barrier_t *bar;
	struct store *s;
	int rc;
	char err[256];
};

static void *
open_one(void *arg)
{
	struct opener *o = arg;

	pthread_barrier_wait(o->bar);
	o->rc = store_open(fresh_url, 1, HISTORY, &o->s);
	snprintf(o->err, sizeof o->err, "%s", o->rc != 0 ? laps_errdetail() : "");
	return NULL;
}

static void
test_concurrent_migrations(void)
{
	pthread_t th[OPENERS];
	struct opener o[OPENERS];
	pthread_barrier_t bar;
	struct store_put_result r;
	unsigned i;

	pthread_barrier_init(&bar, NULL, OPENERS);
	for (i = 0; i < OPENERS; i++) {
		o[i] = (struct opener){.bar = &bar};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, open_one, &o[i]), 0);
	}
	for (i = 0; i < OPENERS; i++) {
		pthread_join(th[i], NULL);
		if (o[i].rc != 0)
			fprintf(stderr, "open %u: %s\n", i, o[i].err);
		CU_ASSERT_EQUAL(o[i].rc, 0);
	}
	pthread_barrier_destroy(&bar);
	/* the schema works through every one of them */
	for (i = 0; i < OPENERS; i++) {
		if (o[i].s == NULL)
			continue;
		CU_ASSERT_EQUAL(o[i].s->ops->ping(o[i].s->ctx), 0);
		if (i == 0) {
			struct store *keep = st;

			st = o[0].s;
			CU_ASSERT_EQUAL(put("mig.example.test", "lapsadmin", 1, 1, -1, &r), 0);
			st = keep;
		}
	}
	for (i = 0; i < OPENERS; i++)
		store_close(o[i].s);
	if (is_pg()) {
		PGconn *db = PQconnectdb(fresh_url + 11);

		CU_ASSERT_EQUAL(pg_num(db, "SELECT count(*) FROM schema_migrations"),
				(long)store_n_migrations);
		PQfinish(db);
	}
}

/* PostgreSQL: the server drops every connection of the pool (a restart,
 * a failover); the next calls reconnect and work. */
static void
test_pg_reconnect(void)
{
	struct store_put_result r;
	struct store_entry e = {0};
	PGconn *db;

	if (!is_pg())
		return;
	db = pg_direct();
	CU_ASSERT_EQUAL(put("reco.example.test", "lapsadmin", 1, 1, -1, &r), 0);
	CU_ASSERT(pg_num(db, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
			     " WHERE application_name = 'laps-escrowd'") >= 1);
	CU_ASSERT_EQUAL(st->ops->get(st->ctx, "reco.example.test", "lapsadmin", NULL, &e), 0);
	store_entry_clear(&e);
	CU_ASSERT(pg_num(db, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
			     " WHERE application_name = 'laps-escrowd'") >= 1);
	CU_ASSERT_EQUAL(put("reco.example.test", "lapsadmin", 2, 2, r.version, &r), 0);
	CU_ASSERT_EQUAL(r.seq, 2);
	CU_ASSERT_EQUAL(st->ops->ping(st->ctx), 0);
	PQfinish(db);
}

static void
test_open_errors(void)
{
	struct store *s = NULL;

	CU_ASSERT_EQUAL(store_open("mysql:x", 1, 1, &s), LAPS_ERR_CONFIG);
	CU_ASSERT_EQUAL(store_open("sqlite:relative.db", 1, 1, &s), LAPS_ERR_CONFIG);
	CU_ASSERT_NOT_EQUAL(store_open("sqlite:/nonexistent-dir/x/escrow.db", 1, 1, &s), 0);
	CU_ASSERT_PTR_NULL(s);
	/* postgresql: a password in the config is refused (passfile instead),
	 * a server that does not answer is "unavailable" (transient) */
	CU_ASSERT_EQUAL(store_open("postgresql:host=127.0.0.1 dbname=laps password=hunter2", 1, 1,
				   &s),
			LAPS_ERR_CONFIG);
	CU_ASSERT_PTR_NULL(strstr(laps_errdetail(), "hunter2"));
	CU_ASSERT_EQUAL(store_open("postgresql://laps:hunter2@127.0.0.1/laps", 1, 1, &s),
			LAPS_ERR_CONFIG);
	CU_ASSERT_EQUAL(store_open("postgresql:host=127.0.0.1 port=1 connect_timeout=3", 1, 1, &s),
			LAPS_ERR_UNAVAILABLE);
	CU_ASSERT_EQUAL(store_open("postgresql:host='unterminated", 1, 1, &s), LAPS_ERR_CONFIG);
	CU_ASSERT_PTR_NULL(s);
}

static CU_TestInfo tests[] = {
    {"create and compare-and-set", test_create_and_cas},
    {"idempotent retry", test_idempotent_retry},
    {"history move, trim and seq", test_history_trim_seq},
    {"confirm and expire", test_confirm_expire},
    {"find and report", test_find_report},
    {"audit rows", test_audit},
    {"migrations", test_migrations_recorded},
    {"concurrent writers: one wins", test_concurrent_writers},
    {"instances migrating at once", test_concurrent_migrations},
    {"postgresql: dropped connections", test_pg_reconnect},
    {"open errors", test_open_errors},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"store", suite_init, suite_cleanup, NULL, NULL, tests},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	return laps_test_main(argc, argv, suites);
}
