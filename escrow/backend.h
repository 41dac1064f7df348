/*
 * backend.h — the common escrow backend interface.
 *
 * A backend is a const table of function pointers (struct laps_backend_ops)
 * with a name and capability bits; backends/registry.c lists them in a
 * NULL-terminated array (`file`) or as loadable modules, and
 * laps_backend_load() (backends/registry.h) finds them by the name used in
 * `[escrow] backend`.  Code in escrow/ knows
 * nothing about LDAP or HTTP.
 *
 * Records are keyed by (device, account).  Device names are compared
 * case-insensitively and stored lower-case.
 */
#ifndef LAPS_BACKEND_H
#define LAPS_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "escrow/conf.h"
#include "escrow/record.h"

/* Capabilities */
#define LAPS_BCAP_HISTORY 0x01    /* keeps older records (history slot) */
#define LAPS_BCAP_EXPIRY 0x02     /* admins can write the expiry (set_expiry slot) */
#define LAPS_BCAP_CAS 0x04        /* write is a real atomic compare-and-set */
#define LAPS_BCAP_AUDIT 0x08      /* the server audits secret reads */
#define LAPS_BCAP_FIND 0x10       /* find slot: look devices up by name */
#define LAPS_BCAP_CLEARTEXT 0x20  /* stores the password in clear (Microsoft schema
				   * modes): write() needs the password argument */
#define LAPS_BCAP_WRITEONLY 0x40  /* the device cannot read back the secret
				   * (AD confidential attributes) */
#define LAPS_BCAP_REPORT 0x80 /* report slot: stream every device/account's metadata */
#define LAPS_BCAP_READONLY 0x100  /* a source laps-get reads (graph): write and
				   * confirm are absent, the agent refuses it */
#define LAPS_BCAP_ANYACCOUNT 0x200 /* Windows accounts: names match case-
				    * insensitively, and read/history accept
				    * account NULL: the newest of any account */
#define LAPS_BCAP_EXACTNAME 0x400 /* read/history/set_expiry name a device exactly
				   * (case-insensitively) and find returns device
				   * names: a name with a dot, which is nobody's
				   * first label, can only find itself */
#define LAPS_BCAP_LOCALOPEN                                                                        \
	0x800 /* open contacts nothing (it reads and checks its                                    \
	       * files, e.g. a client certificate and its key):                                    \
	       * check-config opens and closes it */

/* Opaque compare-and-set token. tag[0] == '\0' means "no record exists". */
#define LAPS_VERSION_MAX 512
struct laps_version {
	char tag[LAPS_VERSION_MAX];
};

/* One row of a report (laps-get report): metadata only, never a secret. */
struct laps_report_row {
	char device[LAPS_DEVICE_MAX + 1];
	char account[LAPS_ACCOUNT_MAX + 1]; /* "" when has_record is false */
	bool has_record;                    /* false: a device entry with no record ("never") */
	enum laps_record_state state;
	int64_t rotated_at, expires_at;     /* unix seconds */
	uint64_t seq;                       /* 0 when the source has none */
};
/* Called once per row; return 0 to go on, a LAPS_ERR_* to stop (returned by report()). */
typedef int (*laps_report_cb)(void *arg, const struct laps_report_row *row);

/* A bulk expiry's filter (laps-get expire; laps-escrowd's POST /v1/expire).
 * Strings NULL = any. */
struct laps_expire_filter {
	const char *unit;	/* an administrative unit of the server */
	const char *name;	/* device name pattern (fnmatch, case-insensitive) */
	const char *account;	/* exact account name */
	const char *status;	/* "pending" | "confirmed" | "overdue" */
	int64_t rotated_before; /* rotated before (unix seconds); 0 = any */
	int64_t expires_at;	/* the new expiry; 0 = now */
	bool dry_run;		/* only list what would be expired */
};

/* An approval operation (laps-get request|approvals|approve|deny;
 * laps-escrowd's two-person rule). */
struct laps_approval_op {
	const char *verb;		       /* "request" | "list" | "approve" | "deny" */
	const char *device, *account, *reason; /* request */
	int64_t id;			       /* approve, deny */
};

/* Who is opening: the agent on a device, or an admin tool (laps-get). */
enum laps_backend_role { LAPS_ROLE_AGENT = 0, LAPS_ROLE_ADMIN };

/*
 * What the opening program tells a backend beyond the backend's own
 * section: the accounts the host manages ([agent] accounts; the Microsoft
 * schemas hold one) and the agent's state directory (where ldap keeps its
 * rotation ids for write-only attributes).  Borrowed for the backend's
 * life.  Filled from the configuration by laps_agent_backend_env()
 * (agent/agent_conf.h).
 */
struct laps_backend_env {
	const char *state_dir; /* NULL = LAPS_STATE_DIR_DEFAULT */
	char *const *accounts; /* NULL when n_accounts is 0 */
	size_t n_accounts;
	/* laps-get --break-glass --reason R: the reason, sent with an admin's
	 * reads (rest: Laps-Break-Glass); NULL = an ordinary read */
	const char *break_glass;
};

struct laps_backend_ops {
	const char *name; /* as in laps.conf */
	unsigned caps;    /* LAPS_BCAP_* — may be refined per instance, see caps() */

	/* required: connect/prepare.  *ctx is the backend's own state; env is
	 * never NULL (the wrapper passes an empty one for NULL). */
	int (*open)(const struct laps_conf *cfg, enum laps_backend_role role,
		    const struct laps_backend_env *env, void **ctx);
	/* required: release everything (ctx may be NULL). */
	void (*close)(void *ctx);

	/* required: the current record and its version.  LAPS_ERR_NOTFOUND when
	 * the device/account has none (ver->tag set to "").  out->source is set. */
	int (*read)(void *ctx, const char *device, const char *account, struct laps_record *out,
		    struct laps_version *ver);

	/* required unless LAPS_BCAP_READONLY: make rec the current record, pushing the previous current
	 * record into history (trimmed to cfg history, ordered by rotated_at).
	 * Atomic compare-and-set against *expected: LAPS_ERR_CONFLICT when the
	 * current version differs (expected->tag "" = must not exist yet).
	 * password: the clear text, used only by LAPS_BCAP_CLEARTEXT backends,
	 * otherwise ignored (may be NULL).  *newver receives the new version. */
	int (*write)(void *ctx, const struct laps_record *rec, const char *password,
		     const struct laps_version *expected, struct laps_version *newver);

	/* required unless LAPS_BCAP_READONLY: mark the current record confirmed with this expiry.
	 * LAPS_ERR_CONFLICT when the current record is not rotation_id. */
	int (*confirm)(void *ctx, const char *device, const char *account, const char *rotation_id,
		       int64_t expires_at);

	/* optional (LAPS_BCAP_HISTORY): up to n older records, newest first. */
	int (*history)(void *ctx, const char *device, const char *account, size_t n,
		       struct laps_record_list *out);

	/* optional (LAPS_BCAP_EXPIRY): set the expiry the agent reads. */
	int (*set_expiry)(void *ctx, const char *device, const char *account, int64_t when);

	/* optional (LAPS_BCAP_FIND): device names matching name case-insensitively
	 * (exact host name or FQDN whose first label matches). */
	int (*find)(void *ctx, const char *name, char (*devices)[LAPS_DEVICE_MAX + 1], size_t max,
		    size_t *n);

	/* optional (LAPS_BCAP_REPORT): stream every device/account's
	 * metadata in bounded memory; never decrypts, never needs a private key. */
	int (*report)(void *ctx, laps_report_cb cb, void *arg);

	/* optional: instance capabilities (e.g. ldap mslaps adds CLEARTEXT). */
	unsigned (*caps_of)(void *ctx);

	/* optional: "ldap (schema mslaps)" etc., for laps-get's "source". */
	const char *(*describe)(void *ctx);

	/* optional: check-config's checks of what the backend reads locally,
	 * contacting nothing: certificates parse, a client certificate and its
	 * key are a pair, a CA file holds a CA (ldap; rest does the same in its
	 * open, LAPS_BCAP_LOCALOPEN).  0 or LAPS_ERR_CONFIG naming the key and
	 * the file. */
	int (*check)(const struct laps_conf *cfg);

	/* optional: expire every account f matches in one audited step (a
	 * dry run only lists them); each matched row through cb, *count
	 * their number. */
	int (*expire_many)(void *ctx, const struct laps_expire_filter *f, laps_report_cb cb,
			   void *arg, size_t *count);

	/* optional: an approval operation; *answer (malloc'd) the server's
	 * JSON answer: the request ({"id",...}) or {"approvals":[...]}. */
	int (*approval)(void *ctx, const struct laps_approval_op *op, char **answer);

	/* optional: a request of the server's own administration API
	 * (laps-escrowd's /v1/enroll-tokens and /v1/enrolled-devices, for
	 * laps-get enroll-token and device).  method "GET" or "POST"; path
	 * from the server's root, already percent-encoded; body JSON (a POST
	 * without one sends "{}").  A 2xx answer: 0 and *answer its body
	 * (malloc'd, NUL-terminated, may hold a secret: free it with
	 * laps_freezero(*answer, *len + 1)), NULL when empty.  Any other: the
	 * LAPS_ERR_* of the status (401 AUTH, 403 ACCESS, 404 NOTFOUND, 409
	 * CONFLICT ...) with a detail naming the route and the server's reason. */
	int (*admin)(void *ctx, const char *method, const char *path, const char *body,
		     char **answer, size_t *len);
};

/* An open backend. */
struct laps_backend {
	const struct laps_backend_ops *ops;
	void *ctx;
	const struct laps_conf *cfg; /* borrowed; must outlive the backend */
	struct laps_backend_env env; /* a copy; its strings are borrowed */
};

/* Open ops with cfg (and env, may be NULL: no accounts, the default state
 * directory).  On success *out is malloc'd (laps_backend_close). */
int laps_backend_open(const struct laps_backend_ops *ops, const struct laps_conf *cfg,
		      enum laps_backend_role role, const struct laps_backend_env *env,
		      struct laps_backend **out) __attribute__((warn_unused_result));
void laps_backend_close(struct laps_backend *b);

/* Wrappers: validate arguments, lower-case the device, return
 * LAPS_ERR_UNSUPPORTED for a missing optional slot (and for write/confirm on
 * a read-only backend).  read and history take account NULL only when the
 * backend has LAPS_BCAP_ANYACCOUNT.  laps_backend_read and
 * laps_backend_history also check that every record they return names the
 * device (case-insensitively) and account asked for (any account for NULL;
 * case-insensitively with LAPS_BCAP_ANYACCOUNT): a record found in
 * another's entry is LAPS_ERR_FORMAT ("record for host2/lapsadmin found in
 * host1's entry ..."), *out cleared, never returned. */
unsigned laps_backend_caps(const struct laps_backend *b);
const char *laps_backend_describe(const struct laps_backend *b);
int laps_backend_read(struct laps_backend *b, const char *device, const char *account,
		      struct laps_record *out, struct laps_version *ver)
    __attribute__((warn_unused_result));
int laps_backend_write(struct laps_backend *b, const struct laps_record *rec,
		       const char *password, const struct laps_version *expected,
		       struct laps_version *newver) __attribute__((warn_unused_result));
int laps_backend_confirm(struct laps_backend *b, const char *device, const char *account,
			 const char *rotation_id, int64_t expires_at)
    __attribute__((warn_unused_result));
int laps_backend_history(struct laps_backend *b, const char *device, const char *account,
			 size_t n, struct laps_record_list *out) __attribute__((warn_unused_result));
int laps_backend_set_expiry(struct laps_backend *b, const char *device, const char *account,
			    int64_t when) __attribute__((warn_unused_result));
int laps_backend_find(struct laps_backend *b, const char *name,
		      char (*devices)[LAPS_DEVICE_MAX + 1], size_t max, size_t *n)
    __attribute__((warn_unused_result));
/* Every row of the source, in the source's order, through cb (see the
 * report slot).  LAPS_ERR_UNSUPPORTED without the slot; cb's error stops it. */
int laps_backend_report(struct laps_backend *b, laps_report_cb cb, void *arg)
    __attribute__((warn_unused_result));
/* The approval slot (LAPS_ERR_UNSUPPORTED without it). */
int laps_backend_approval(struct laps_backend *b, const struct laps_approval_op *op, char **answer)
    __attribute__((warn_unused_result));
/* The expire_many slot (LAPS_ERR_UNSUPPORTED without it). */
int laps_backend_expire_many(struct laps_backend *b, const struct laps_expire_filter *f,
			     laps_report_cb cb, void *arg, size_t *count)
    __attribute__((warn_unused_result));
/* The admin slot (see there).  LAPS_ERR_UNSUPPORTED without it. */
int laps_backend_admin(struct laps_backend *b, const char *method, const char *path,
		       const char *body, char **answer, size_t *len)
    __attribute__((warn_unused_result));

#endif
