/*
 * ldap_int.h — private to the LDAP backend (backends/ldap_*.c).
 *
 * The backend is cut along its jobs; each file calls only the files below
 * it in this list, never one above:
 *   ldap_backend.c  the ops table: argument checks, find, and dispatch
 *                   through the per-schema table (struct lschema)
 *   ldap_laps.c     schema laps (this project's schema: sealed records, history)
 *   ldap_ms.c       the Microsoft schemas mslaps and legacy, FILETIME
 *   ldap_report.c   the report slot: a paged search over every device entry
 *   ldap_entry.c    the helpers the above share: entry lookup, value and
 *                   modification lists, filter escaping and templates
 *   ldap_conn.c     connection: URIs and failover, TLS, bind, and the
 *                   bounded request/response helpers every operation uses
 */
#ifndef LAPS_BACKEND_LDAP_INT_H
#define LAPS_BACKEND_LDAP_INT_H

#include <ldap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "backends/ldap_backend.h"
#include "escrow/backend.h"
#include "escrow/record.h"

#define LB_SECRET_FILE_MAX 4096
#define LB_FILTER_MAX 2048
#define LB_DN_MAX 2048
#define LB_VALUES_MAX 256    /* values per attribute we accept */
#define LB_MS_JSON_MAX 4096  /* msLAPS-Password value */
#define LB_CONFLICT_RETRIES 3 /* confirm/set_expiry retry on a lost race */
/* The largest LDAP message read from a server (one entry with all the
 * values we fetch, docs/LDAP.md "Limits"); libldap drops the connection
 * on a larger one before reading it. */
#define LB_MESSAGE_MAX (4 * 1024 * 1024)
#define LB_VALUE_MAX LAPS_RECORD_MAX_JSON /* one attribute value */
#define LB_REPORT_PAGE 500 /* entries per page of the report search */

/* Attribute names */
#define AT_CURRENT "lapsCurrent"
#define AT_ROTID "lapsRotationId"
#define AT_HISTORY "lapsHistory"
#define AT_EXPIRY "lapsExpiration"
#define AT_MSLAPS_PW "msLAPS-Password"
#define AT_MSLAPS_EXP "msLAPS-PasswordExpirationTime"
#define AT_MSLAPS_ENC "msLAPS-EncryptedPassword"
#define AT_MSLAPS_ENC_HIST "msLAPS-EncryptedPasswordHistory"
#define AT_LEGACY_PW "ms-Mcs-AdmPwd"
#define AT_LEGACY_EXP "ms-Mcs-AdmPwdExpirationTime"

/*
 * Returned only inside the backend: a modify lost a race against a
 * concurrent change (a value it deletes was gone, a value it adds was
 * there, an assertion failed).  The detail is set as for LAPS_ERR_CONFLICT.
 * confirm and set_expiry retry on it; the ops table turns it into
 * LAPS_ERR_CONFLICT before it leaves the backend.  Positive, so it can
 * never be mistaken for a LAPS_ERR_* code.
 */
#define LB_RACE_LOST 1

struct lschema;
struct gkdi_source;

/* One open backend. */
struct lctx {
	const struct laps_conf *cfg;
	struct laps_backend_env env; /* from laps_backend_open (borrowed strings) */
	const struct lschema *schema;
	enum laps_backend_role role;
	LDAP *ld;
	const char *uri; /* the URI we are connected to (borrowed from cfg) */
	struct timeval tv;
	unsigned caps;
	char desc[64];
	struct gkdi_source *gkdi; /* encrypted mode: opened on first use */
};

/* One fetched device entry: the values of the schema's attributes. */
struct lentry {
	char *dn;
	struct berval **cur, **rid, **hist, **exp, **pw;
	struct berval **enc; /* encrypted password (admins, schemas with enc_attr) */
};

/* Up to 16 modifications of one entry. */
#define LB_MODS_MAX 16
struct modlist {
	LDAPMod mods[LB_MODS_MAX];
	LDAPMod *ptrs[LB_MODS_MAX + 1];
	size_t n;
};

/*
 * A schema mode: its attributes (NULL = not used) and its operations.  The
 * "_once" slots may return LB_RACE_LOST (retried by the ops table).
 */
struct lschema {
	const char *name; /* as in `[ldap] schema` */
	unsigned caps;
	bool single_account; /* one account per device (the Microsoft schemas) */
	const char *cur_attr, *rid_attr, *hist_attr, *exp_attr;
	const char *pw_attr; /* clear-text password: fetched for admins only, wiped */
	const char *enc_attr; /* encrypted password (DPAPI-NG): fetched for admins */
	int (*read)(struct lctx *c, const char *device, const char *account,
		    struct laps_record *out, struct laps_version *ver);
	int (*write)(struct lctx *c, const struct laps_record *rec, const char *password,
		     const struct laps_version *expected, struct laps_version *newver);
	int (*confirm_once)(struct lctx *c, const char *device, const char *account,
			    const char *rotation_id, int64_t expires_at);
	int (*set_expiry_once)(struct lctx *c, const char *device, const char *account,
			       int64_t when);
	/* NULL: the mode keeps no history */
	int (*history)(struct lctx *c, const char *device, const char *account, size_t n,
		       struct laps_record_list *out);
	/* clear-text modes: the password attribute's value (locked memory,
	 * *out freed with laps_secret_free) and its parser */
	int (*pw_encode)(const char *account, int64_t rotated_at, const char *password,
			 char **out, size_t *outlen);
	int (*pw_decode)(const struct lentry *e, const char *account, struct laps_record *rec);
	/* report: the filter of device entries, and one entry's rows */
	const char *report_filter;
	int (*report_rows)(struct lctx *c, const char *device, const struct lentry *e,
			   laps_report_cb cb, void *arg);
};

extern const struct lschema lschema_laps, lschema_mslaps, lschema_legacy;

/* ---- ldap_conn.c ---- */

/* Before the process's first libldap call: keep Cyrus SASL from loading
 * its plugins unless the bind is GSSAPI. */
void lconn_sasl_prepare(const struct laps_conf *cfg);

/* ldap_check.c: check-config's checks of [ldap] ca_file, cert_file and
 * key_file with GnuTLS (the library libldap uses here): each parses, the CA
 * file holds a CA certificate, the certificate and the key are a pair.
 * Contacts nothing.  0 or LAPS_ERR_CONFIG naming the key and the file. */
int lcheck_tls_files(const struct laps_conf *cfg);

/* Try every URI in order; the first that connects and binds wins. */
int lconn_connect(struct lctx *c) __attribute__((warn_unused_result));
void lconn_close(struct lctx *c);
/* Set the detail "what on URI: ldap error (n): server message" and return
 * the mapped code.  diag may be NULL (then the handle's diagnostic). */
int lconn_error(struct lctx *c, int ldap_rc, const char *what, const char *diag);
/* Wait (bounded by the timeout) for the whole result of msgid; *res is the
 * chain (ldap_msgfree). */
int lconn_wait(struct lctx *c, int msgid, const char *what, LDAPMessage **res)
    __attribute__((warn_unused_result));
/* Parse and free a final result: LDAP code in *lrc, server message
 * (ldap_memfree) in *diag. */
int lconn_parse_final(struct lctx *c, LDAPMessage *res, const char *what, int *lrc, char **diag)
    __attribute__((warn_unused_result));
/* Run a modify.  A lost race is LB_RACE_LOST; *lrc_out (optional) gets
 * the LDAP code. */
int lconn_modify(struct lctx *c, const char *dn, struct modlist *ml, LDAPControl **ctrls,
		 const char *what, int *lrc_out) __attribute__((warn_unused_result));
/* Tell "attribute not set" from "not allowed to see it" (a compare is
 * answered insufficientAccess): 0 or LAPS_ERR_ACCESS. */
int lconn_probe_access(struct lctx *c, const char *dn, const char *attr)
    __attribute__((warn_unused_result));

/* ---- ldap_laps.c ---- */

/*
 * History trimming, a pure function (tests/unit/test_ldap_unit.c): the
 * account's lapsHistory values plus the record being pushed (idx =
 * LAPS_LDAP_HIST_PUSHED) compete; the newest `keep` survive, in the order
 * of docs/FORMAT.md 1.6 taken from inside each value (seq, then rotated_at
 * for version 1 records, then rotation id) — never by server order
 * (multi-valued attributes have none).
 */
#define LAPS_LDAP_HIST_PUSHED SIZE_MAX
struct laps_ldap_histval {
	size_t idx;         /* index into the entry's lapsHistory values, or PUSHED */
	uint64_t seq;       /* 0: a version 1 record */
	int64_t rotated_at;
	char rotation_id[LAPS_ROTID_HEX + 1];
	bool keep;          /* set by laps_ldap_history_plan */
};
/* Sort v[0..n) oldest first and set keep on the newest `keep` of them. */
void laps_ldap_history_plan(struct laps_ldap_histval *v, size_t n, size_t keep);

/* ---- ldap_msenc.c (encrypted Windows LAPS, docs/LDAP.md) ---- */

/* Whether the agent writes msLAPS-EncryptedPassword ([ldap] encrypt_to). */
bool lenc_enabled(const struct lctx *c);
/* The msLAPS-EncryptedPassword value of the msLAPS-Password JSON document
 * json (len bytes) written at rotated_at: header + DPAPI-NG blob to the
 * encrypt_to SID (*out malloc'd, not secret). */
int lenc_encode(struct lctx *c, const char *json, size_t len, int64_t rotated_at, uint8_t **out,
		size_t *outlen) __attribute__((warn_unused_result));
/* Decrypt one msLAPS-EncryptedPassword value to its JSON document (*json
 * from laps_secret_alloc, NUL-terminated).  A clear error when the group
 * key cannot be obtained. */
int lenc_decode(struct lctx *c, const struct berval *v, char **json, size_t *jsonlen)
    __attribute__((warn_unused_result));
void lenc_close(struct lctx *c);

/* The history the agent writes (ldap_msenc.c explains the local file):
 * val[0] is the new value, val[1..n) the previous ones; ptr the
 * NULL-terminated list of those (an empty list: leave the attribute). */
#define LENC_HIST_MAX 12 /* Windows LAPS' largest PasswordHistorySize */
struct lenc_hist {
	struct berval val[LENC_HIST_MAX + 1];
	char rid[LENC_HIST_MAX + 1][LAPS_ROTID_HEX + 1];
	struct berval *ptr[LENC_HIST_MAX + 1];
	size_t n;
};
/* Before the modify: record the new value (dir_has_ours/dir_tag: whether
 * the directory's expiration value exists and its rotation tag) and plan
 * the history of at most keep previous values. */
int lenc_hist_plan(struct lctx *c, const char *account, bool dir_has_ours, uint32_t dir_tag,
		   const char *rotation_id, const uint8_t *val, size_t len, size_t keep,
		   struct lenc_hist *h) __attribute__((warn_unused_result));
void lenc_hist_free(struct lenc_hist *h);

/* ---- ldap_report.c ---- */

/* The report slot: one paged subtree search under [ldap] base. */
int lreport_run(struct lctx *c, laps_report_cb cb, void *arg) __attribute__((warn_unused_result));

/* ---- ldap_entry.c ---- */

/* Fetch the device's entry with the schema's attributes in one search. */
int lentry_fetch(struct lctx *c, const char *device, struct lentry *e)
    __attribute__((warn_unused_result));
void lentry_free(struct lentry *e);
/* Copy the schema's values out of one entry message (sizes checked first). */
int lentry_take(struct lctx *c, LDAPMessage *m, struct lentry *e)
    __attribute__((warn_unused_result));
size_t lvals_count(struct berval **v);
void lvals_free(struct berval **v, bool wipe);
/* Add an operation with values vals (NULL-terminated, borrowed). */
int modlist_add(struct modlist *ml, int op, const char *attr, struct berval **vals)
    __attribute__((warn_unused_result));
/* RFC 4515 escaping of v into out: bytes written, or -1 if it does not fit. */
int lfilter_escape(const char *v, char *out, size_t outlen);

#endif
