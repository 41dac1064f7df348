/*
 * store_schema.c — the numbered schema migrations of laps-escrowd's store.
 *
 * Version n is store_migrations[n-1].  A store applies, in one transaction
 * each, every version above the highest one in schema_migrations and
 * records it there.  Both dialects describe the same tables and columns;
 * only the syntax of identity columns and of the append-only guard differs.
 * Never edit a released migration: add the next one.
 */
#include "config.h"

#include <stddef.h>

#include "server/store.h"

/* clang-format off */
#define V1_TABLES \
	"CREATE TABLE records (" \
	" device TEXT NOT NULL, account TEXT NOT NULL," \
	" version BIGINT NOT NULL, seq BIGINT NOT NULL," \
	" rotation_id TEXT NOT NULL, state TEXT NOT NULL," \
	" rotated_at BIGINT NOT NULL, expires_at BIGINT NOT NULL," \
	" updated_at BIGINT NOT NULL, record TEXT NOT NULL," \
	" PRIMARY KEY (device, account));" \
	"CREATE TABLE history (" \
	" device TEXT NOT NULL, account TEXT NOT NULL, seq BIGINT NOT NULL," \
	" rotated_at BIGINT NOT NULL, record TEXT NOT NULL," \
	" PRIMARY KEY (device, account, seq));" \
	"CREATE INDEX records_expires ON records (expires_at);"

#define V1_AUDIT_COLUMNS \
	" time BIGINT NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL," \
	" device TEXT, account TEXT, action TEXT NOT NULL, outcome TEXT NOT NULL," \
	" status INTEGER NOT NULL, peer TEXT, jti TEXT, detail TEXT);" \
	"CREATE INDEX audit_device ON audit (device, id);" \
	"CREATE INDEX audit_actor ON audit (actor, id);"

/* Enrollment (server/store_enroll.c): tokens stored as SHA-256 only, and
 * the devices laps-escrowd has issued certificates to. */
#define V_ENROLL \
	"CREATE TABLE enroll_tokens (" \
	" id TEXT PRIMARY KEY, hash TEXT NOT NULL, unit TEXT NOT NULL," \
	" name_pattern TEXT, uses_max BIGINT NOT NULL, uses_left BIGINT NOT NULL," \
	" expires_at BIGINT NOT NULL, created_at BIGINT NOT NULL, created_by TEXT NOT NULL," \
	" revoked_at BIGINT);" \
	"CREATE TABLE enrolled_devices (" \
	" device TEXT PRIMARY KEY, enrolled_at BIGINT NOT NULL, renewed_at BIGINT NOT NULL," \
	" serial TEXT NOT NULL, not_after BIGINT NOT NULL, via TEXT NOT NULL," \
	" disabled_at BIGINT, reenroll_allowed BIGINT NOT NULL);"

#define V3_APPROVAL_COLUMNS \
	" device TEXT NOT NULL, account TEXT NOT NULL, requester TEXT NOT NULL," \
	" reason TEXT NOT NULL, state TEXT NOT NULL, decided_by TEXT," \
	" created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, decided_at BIGINT);" \
	"CREATE INDEX approvals_state ON approvals (state, expires_at);" \
	"CREATE INDEX approvals_device ON approvals (device, account, requester);"

#define V3_PRUNE_TABLE \
	"CREATE TABLE audit_prune (cutoff BIGINT NOT NULL);" \
	"INSERT INTO audit_prune (cutoff) VALUES (0);" \
	"CREATE INDEX audit_time ON audit (time);"

const struct store_migration store_migrations[] = {
    {1,
     V1_TABLES
     "CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT," V1_AUDIT_COLUMNS
     "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
     " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
     "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
     " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;",

     V1_TABLES
     "CREATE TABLE audit (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY," V1_AUDIT_COLUMNS
     "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
     " $$BEGIN RAISE EXCEPTION 'audit is append-only'; END$$;"
     "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit"
     " FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();"},
    {2, V_ENROLL, V_ENROLL},
    /* escrow policies (issue 24): approval requests (two-person rule);
     * audit retention: a row may be deleted only while audit_prune.cutoff
     * is above its time, and the cutoff is above 0 only inside the prune's
     * own transaction (store_ops.audit_prune), so the log stays
     * append-only for everything else */
    {3,
     "CREATE TABLE approvals (id INTEGER PRIMARY KEY AUTOINCREMENT," V3_APPROVAL_COLUMNS
     V3_PRUNE_TABLE
     "DROP TRIGGER audit_no_delete;"
     "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
     " WHEN old.time >= (SELECT cutoff FROM audit_prune)"
     " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;",

     "CREATE TABLE approvals (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
     V3_APPROVAL_COLUMNS
     V3_PRUNE_TABLE
     "DROP TRIGGER audit_no_change ON audit;"
     "CREATE TRIGGER audit_no_change BEFORE UPDATE OR TRUNCATE ON audit"
     " FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();"
     "CREATE FUNCTION audit_delete_guard() RETURNS trigger LANGUAGE plpgsql AS"
     " $$BEGIN IF OLD.time >= (SELECT cutoff FROM audit_prune) THEN"
     " RAISE EXCEPTION 'audit is append-only'; END IF; RETURN OLD; END$$;"
     "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
     " FOR EACH ROW EXECUTE FUNCTION audit_delete_guard();"},
};
/* clang-format on */

const size_t store_n_migrations = sizeof store_migrations / sizeof store_migrations[0];
