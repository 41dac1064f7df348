/*
 * store.h — laps-escrowd's storage interface.
 *
 * A store is a const table of function pointers (struct store_ops), found by
 * the scheme of `[store] url`: "sqlite:/path" (server/store_sqlite.c) or
 * "postgresql:CONNINFO" (server/store_pg.c, libpq).  Every implementation
 * runs the same numbered migrations (server/store_schema.c: one SQL text per
 * dialect and version, recorded in the schema_migrations table) and keeps
 * the same guarantees:
 *
 *  - every call is one transaction; the audit row passed in (if any) is
 *    inserted in that transaction, so an operation and its audit row commit
 *    or fail together (a failed audit insert fails the call);
 *  - compare-and-set is one conditional UPDATE ... WHERE device AND account
 *    AND version (0 rows -> LAPS_ERR_CONFLICT), never read-then-write; the
 *    previous current record moves to history and history is trimmed to
 *    history_size in the same transaction;
 *  - seq is strictly increasing per (device, account): 1 for the first
 *    record, +1 for every new rotation; confirm/expire keep it;
 *  - version changes on every change of the current record (the ETag);
 *  - the audit table is append-only (the schema refuses UPDATE/DELETE).
 *
 * Implementations are thread-safe: laps-escrowd calls them from
 * libmicrohttpd's thread pool (each keeps a pool of connections).
 * Transient failures: LAPS_ERR_UNAVAILABLE (database down / connection
 * lost), LAPS_ERR_BUSY (lock or statement timeout, deadlock).  A commit
 * whose answer was lost reports UNAVAILABLE although it may have landed:
 * the client's retry with the same rotation id is idempotent.
 * Devices are lower-case (the caller checks names with
 * laps_record_device_ok/account_ok before calling).
 */
#ifndef LAPS_SERVER_STORE_H
#define LAPS_SERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "escrow/conf.h"
#include "escrow/record.h"

#define STORE_PAGE_MAX 1000
#define STORE_HISTORY_MAX 100
#define STORE_QUERY_ROWS 1000 /* rows of store_ops.query kept */

/* One audit row.  Strings may be NULL (stored as NULL) except actor, kind,
 * action and outcome. */
struct store_audit {
	int64_t time;
	const char *actor;   /* "device:ws01", token sub, certificate subject, "-" */
	const char *kind;    /* "device" | "admin" | "anonymous" */
	const char *device;
	const char *account;
	const char *action;  /* read_secret, read_history, expire, write, ... */
	const char *outcome; /* "allowed" | "denied" */
	int status;          /* the HTTP status answered */
	const char *peer;    /* peer address */
	const char *jti;     /* token id */
	const char *detail;  /* short reason for denials; never a secret */
	/* get/history only (rotate after read, server/policy.c): > 0 = in the
	 * same transaction, before the audit row, the current record's
	 * expires_at becomes min(expires_at, expire_by) (a change bumps the
	 * version); the entry returned is the record after that. */
	int64_t expire_by;
};

/* The current record (or a history record). */
struct store_entry {
	char *json;      /* canonical record JSON (FORMAT.md 1.4), malloc'd */
	size_t json_len;
	int64_t seq;
	int64_t version; /* current records only; 0 in history */
};

struct store_entry_list {
	struct store_entry *v; /* newest first (seq descending) */
	size_t n;
};

/* store_put outcomes (struct store_put_result.result) */
enum store_put_outcome {
	STORE_PUT_CREATED = 0, /* new (device, account) */
	STORE_PUT_UPDATED,     /* a new rotation replaced the current record */
	STORE_PUT_SAME,        /* idempotent retry: same rotation id and envelope, nothing written */
	STORE_PUT_REUSED       /* same rotation id, different envelope/key ids (LAPS_ERR_CONFLICT) */
};

struct store_put_result {
	enum store_put_outcome result;
	int64_t seq;
	int64_t version;
};

/* One line of the report. */
struct store_summary {
	char device[LAPS_DEVICE_MAX + 1];
	char account[LAPS_ACCOUNT_MAX + 1];
	enum laps_record_state state;
	int64_t rotated_at, expires_at, seq;
	int health; /* enum store_health (server/store_report.h); report_query only */
};

enum store_report_filter { STORE_REPORT_ALL = 0, STORE_REPORT_PENDING, STORE_REPORT_CONFIRMED,
			   STORE_REPORT_OVERDUE };

/* An audit row read back. */
struct store_audit_row {
	int64_t id, time;
	int status;
	char *actor, *kind, *device, *account, *action, *outcome, *peer, *jti; /* malloc'd or NULL */
};

struct store_audit_query {
	const char *device, *actor, *action; /* NULL = any */
	int64_t since, until;                /* until 0 = no upper bound */
	int64_t before_id;                   /* paging: rows with id < before_id; 0 = from the newest */
};

/* The answer of store_ops.query: rows x cols text cells, row-major
 * (a cell NULL for SQL NULL), and the rows a command changed. */
struct store_rows {
	char **cell;
	size_t rows, cols;
	int64_t changed;
};

/* An approval request (two-person rule, server/policy.h). */
#define STORE_REASON_MAX 200
#define STORE_ACTOR_MAX 255
struct store_approval {
	int64_t id;
	char device[LAPS_DEVICE_MAX + 1];
	char account[LAPS_ACCOUNT_MAX + 1];
	char requester[STORE_ACTOR_MAX + 1];
	char reason[STORE_REASON_MAX + 1];
	char state[12];			      /* pending | approved | denied */
	char decided_by[STORE_ACTOR_MAX + 1]; /* "" while pending */
	int64_t created_at, expires_at, decided_at;
};

struct store_report_query; /* server/store_report.h */

struct store_ops {
	const char *scheme; /* "sqlite", "postgresql" */

	/* required: open (connections, migrations).  spec is the url after
	 * "scheme:".  nconn: connections in the pool (>= the server threads). */
	int (*open)(const char *spec, unsigned nconn, unsigned history_size, void **ctx);
	void (*close)(void *ctx);
	/* required: 0 when the database answers a query. */
	int (*ping)(void *ctx);

	/* required: current record.  LAPS_ERR_NOTFOUND when none. */
	int (*get)(void *ctx, const char *device, const char *account,
		   const struct store_audit *audit, struct store_entry *out);

	/* required: make rec (whose canonical JSON is json) current.
	 * expected_version < 0: create (LAPS_ERR_CONFLICT when one exists);
	 * else compare-and-set against it.  Idempotent retry: see STORE_PUT_SAME. */
	int (*put)(void *ctx, const struct laps_record *rec, const char *json,
		   int64_t expected_version, const struct store_audit *audit,
		   struct store_put_result *out);

	/* required: confirm the current record if it is rotation_id
	 * (LAPS_ERR_CONFLICT otherwise; *mismatch set true), optional CAS
	 * (expected_version 0 = any).  out receives the new current record. */
	int (*confirm)(void *ctx, const char *device, const char *account, const char *rotation_id,
		       int64_t expires_at, int64_t expected_version,
		       const struct store_audit *audit, bool *mismatch, struct store_entry *out);

	/* required: set expires_at of the current record. */
	int (*expire)(void *ctx, const char *device, const char *account, int64_t expires_at,
		      int64_t expected_version, const struct store_audit *audit,
		      struct store_entry *out);

	/* required: up to limit history records, newest first; LAPS_ERR_NOTFOUND
	 * when the (device, account) has no current record. */
	int (*history)(void *ctx, const char *device, const char *account, size_t limit,
		       const struct store_audit *audit, struct store_entry_list *out);

	/* required: distinct device names > after (NULL = from the start),
	 * sorted, at most max.  name NULL = all; else equal, or first label
	 * equal when name has no dot (name is lower-case). */
	int (*find)(void *ctx, const char *name, const char *after,
		    char (*devices)[LAPS_DEVICE_MAX + 1], size_t max, size_t *n);

	/* required: (device, account) pairs after (after_device, after_account)
	 * (NULL = from the start), sorted, at most max. */
	int (*report)(void *ctx, enum store_report_filter filter, int64_t now,
		      const char *after_device, const char *after_account,
		      struct store_summary *out, size_t max, size_t *n);

	/* optional (server/store_report.h; NULL: the report's sort, health,
	 * q and summary are 501): the report sorted and filtered as q says,
	 * at most max rows; the counts of each health (counts[STORE_HEALTH_OK..
	 * STORE_HEALTH_STUCK]) over every row q's filters match. */
	int (*report_query)(void *ctx, const struct store_report_query *q,
			    struct store_summary *out, size_t max, size_t *n);
	int (*report_counts)(void *ctx, const struct store_report_query *q, int64_t counts[5]);

	/* required (bulk expiry, POST /v1/expire): in ONE transaction, set
	 * expires_at of the current record of every audits[i].device /
	 * .account and insert audits[i]; n >= 1.  Any failure (a record that
	 * is gone included: LAPS_ERR_NOTFOUND) rolls all of it back. */
	int (*expire_many)(void *ctx, const struct store_audit *audits, size_t n,
			   int64_t expires_at);

	/* required (approvals): a new pending request (a->id set) with its
	 * audit row, one transaction. */
	int (*approval_create)(void *ctx, struct store_approval *a,
			       const struct store_audit *audit);
	/* required: one request by id.  LAPS_ERR_NOTFOUND. */
	int (*approval_get)(void *ctx, int64_t id, struct store_approval *out);
	/* required: pending requests with expires_at > now, oldest first, at most max. */
	int (*approval_list)(void *ctx, int64_t now, struct store_approval *out, size_t max,
			     size_t *n);
	/* required: decide a pending, unexpired request (state "approved" or
	 * "denied", by, expires_at the read window) with its audit row, one
	 * transaction; LAPS_ERR_CONFLICT when it is no longer pending or has
	 * expired (nothing written). */
	int (*approval_decide)(void *ctx, int64_t id, const char *state, const char *by,
			       int64_t now, int64_t expires_at, const struct store_audit *audit);
	/* required: 0 when requester holds an approved request for (device,
	 * account) whose expires_at > now, else LAPS_ERR_NOTFOUND. */
	int (*approval_valid)(void *ctx, const char *device, const char *account,
			      const char *requester, int64_t now);

	/* required (retention): delete the audit rows older than before (time
	 * < before), in one transaction that lifts the append-only guard for
	 * exactly those rows; *n their number. */
	int (*audit_prune)(void *ctx, int64_t before, int64_t *n);

	/* required: append one audit row in its own transaction. */
	int (*audit_append)(void *ctx, const struct store_audit *audit);

	/* required: audit rows newest first (id descending), at most max. */
	int (*audit_query)(void *ctx, const struct store_audit_query *q,
			   struct store_audit_row *out, size_t max, size_t *n);

	/* optional: one parameterised statement of SQL common to both
	 * dialects (parameters $1..$n, text, NULL = SQL NULL), then the audit
	 * row if any, in one transaction.  For tables of later migrations
	 * whose logic lives beside its user (server/store_enroll.c).  out
	 * freed with store_rows_free. */
	int (*query)(void *ctx, const char *sql, size_t n, const char *const *params,
		     const struct store_audit *audit, struct store_rows *out);
};

/* An open store. */
struct store {
	const struct store_ops *ops;
	void *ctx;
};

/* Open the store named by url ("sqlite:/path", "postgresql:conninfo").
 * LAPS_ERR_CONFIG for an unknown scheme.  *out malloc'd (store_close). */
int store_open(const char *url, unsigned nconn, unsigned history_size, struct store **out)
    __attribute__((warn_unused_result));
void store_close(struct store *s);

/* server/store_util.c: */
void store_entry_clear(struct store_entry *e);
void store_entry_list_free(struct store_entry_list *l);
void store_audit_row_clear(struct store_audit_row *r);
void store_rows_free(struct store_rows *r);

/* Helpers shared by implementations. */
/* The canonical JSON of json's record with state confirmed/expiry changed.
 * *out malloc'd.  LAPS_ERR_CONFLICT (*mismatch) when rotation_id differs. */
int store_record_confirm(const char *json, size_t len, const char *rotation_id,
			 int64_t expires_at, bool *mismatch, char **out)
    __attribute__((warn_unused_result));
int store_record_expire(const char *json, size_t len, int64_t expires_at, char **out)
    __attribute__((warn_unused_result));
/* The canonical JSON with expires_at lowered to expire_by, or *out NULL when
 * the record already expires by then (nothing to change). */
int store_record_cap(const char *json, size_t len, int64_t expire_by, char **out)
    __attribute__((warn_unused_result));
/* True when the two records have the same envelope and key ids. */
bool store_record_same_secret(const struct laps_record *a, const struct laps_record *b);

/* server/escrowd_fault.c: with ./configure --enable-fault-injection,
 * LAPS_ESCROWD_FAULT=STEP:kill|fail makes store_fault(STEP) raise SIGKILL
 * or return LAPS_ERR_FAULT (tests only; the variable holds no secret);
 * otherwise store_fault is 0.  Steps: "read_before_commit" (a secret or
 * history read, its expiry move and audit row written, not committed). */
#ifdef LAPS_FAULT_INJECTION
int store_fault(const char *step) __attribute__((warn_unused_result));
#else
#define store_fault(step) ((void)(step), 0)
#endif

/* The implementations (registered in store.c). */
extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops; /* server/store_pg.c (libpq), when built */

/* Schema migrations (server/store_schema.c): version n (1-based) is
 * store_migrations[n-1]; each has the SQL of every dialect. */
struct store_migration {
	int version;
	const char *sqlite;
	const char *postgresql;
};
extern const struct store_migration store_migrations[];
extern const size_t store_n_migrations;

#endif
