/*
 * lapsget.h — internals of laps-get, the administrators' CLI.
 *
 * main.c parses the command line, loads the configuration and maps
 * LAPS_ERR_* codes to exit statuses; everything else lives in
 * liblapsget.la so that the unit tests link the objects the program runs.
 * Every function returns 0 or a negative LAPS_ERR_* with a laps_seterr()
 * detail unless said otherwise.
 */
#ifndef LAPS_GET_H
#define LAPS_GET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "escrow/backend.h" /* also escrow/conf.h (laps.conf) */
#include "escrow/record.h"
#include "escrow/seal.h"

#define LG_HISTORY_MAX 100 /* --history N is capped here */
#define LG_SOURCE_MAX 64

/* One password as laps-get shows it (current, previous or history). */
struct lg_entry {
	char host[LAPS_DEVICE_MAX + 1];
	char account[LAPS_ACCOUNT_MAX + 1];
	char *password;	 /* laps_secret memory, or NULL when it could not be opened */
	int open_rc;	 /* 0, or why password is NULL (LAPS_ERR_*) */
	char error[512]; /* message for open_rc (no secret) */
	int64_t rotated; /* unix seconds; 0 = unknown */
	int64_t expires; /* unix seconds; 0 = unknown */
	int64_t rotate_by; /* the server rotates it by then after this read; 0 = no */
	bool pending;	 /* state pending (else confirmed) */
	char source[LG_SOURCE_MAX];
	char key_id[LAPS_KEYID_MAX + 1]; /* admin key that opened it; "" = clear text */
	bool encrypted;			 /* decrypted from msLAPS-EncryptedPassword (DPAPI-NG) */
};

/* What a read produced. */
struct lg_result {
	struct lg_entry cur;
	bool has_prev; /* cur is pending and prev holds history[0] */
	struct lg_entry prev;
	struct lg_entry *hist; /* newest first (malloc'd array) */
	size_t n_hist;
	bool want_history;
};

void lg_entry_clear(struct lg_entry *e);

/* laps_seterr(err, "<prefix>: <current detail>") without passing the detail
 * buffer to itself; an empty prefix keeps the detail as it is.  Returns err. */
int lg_seterr_prefix(int err, const char *prefix);
void lg_result_init(struct lg_result *r);
/* Wipes every password and frees the history array. */
void lg_result_clear(struct lg_result *r);

/* Where the admin private key comes from, loaded only when a sealed record
 * has to be opened. */
struct lg_keysrc {
	const char *path;  /* borrowed */
	int passphrase_fd; /* -1 = ask on the terminal */
	struct laps_privkey key;
	bool loaded;
	int load_rc; /* a failed load is not retried (nor asked again) */
	char load_err[512];
};

void lg_keysrc_init(struct lg_keysrc *ks, const char *path, int passphrase_fd);
void lg_keysrc_clear(struct lg_keysrc *ks);
/* Load the key (asking for the passphrase when the file is protected). */
int lg_keysrc_load(struct lg_keysrc *ks) __attribute__((warn_unused_result));

/* --- reading through an escrow backend (read.c) --- */

/*
 * Resolve host (case-insensitively through find() when the backend has it)
 * into device[LAPS_DEVICE_MAX + 1].  LAPS_ERR_NOTFOUND, or LAPS_ERR_AMBIGUOUS
 * with the detail listing the matches.
 */
int lg_resolve_host(struct laps_backend *b, const char *host, char *device, size_t len)
    __attribute__((warn_unused_result));

/*
 * True, with device = host lower-cased, when the backend's find could only
 * answer host itself (LAPS_BCAP_EXACTNAME and a name with a dot): laps-get
 * then reads it without the find round trip.
 */
bool lg_host_exact(struct laps_backend *b, const char *host, char *device, size_t len);

/*
 * Read the current record of device/account (account NULL: the newest of any
 * account, for a LAPS_BCAP_ANYACCOUNT source) and open it with the key from
 * ks.  When the record is pending, prev is filled from history[0]; with
 * history_n > 0 up to history_n older entries go into res->hist (entries that
 * cannot be opened keep password NULL and an error text).  Errors opening the
 * current record are returned: LAPS_ERR_NOTRECIPIENT (detail names the key
 * ids the record is sealed to and this key's id), LAPS_ERR_CRYPTO,
 * LAPS_ERR_FORMAT, LAPS_ERR_PASSPHRASE ...
 */
int lg_read(struct laps_backend *b, const char *device, const char *account, struct lg_keysrc *ks,
	    size_t history_n, bool want_history, struct lg_result *res)
    __attribute__((warn_unused_result));

/* Open one record into e (password in laps_secret memory). */
int lg_open_record(const struct laps_record *rec, struct lg_keysrc *ks, const char *source,
		   struct lg_entry *e) __attribute__((warn_unused_result));

/* --- report (report.c) --- */

enum lg_status {
	LG_STATUS_OK = 0,  /* not expired (or a rotation pending for less than the grace) */
	LG_STATUS_DUE,	   /* expired: the agent rotates it at its next run */
	LG_STATUS_OVERDUE, /* expired for longer than the grace */
	LG_STATUS_STUCK,   /* pending for longer than the grace */
	LG_STATUS_NEVER,   /* a device entry with no record */
	LG_STATUS_COUNT
};

/* The status of a row at time now (pure: no I/O, no clock). */
enum lg_status lg_report_status(const struct laps_report_row *row, int64_t now, int64_t grace);
const char *lg_status_name(enum lg_status s);
/* "overdue,stuck" into a mask of 1u << LG_STATUS_*.  LAPS_ERR_INVALID. */
int lg_status_parse_list(const char *s, unsigned *mask) __attribute__((warn_unused_result));

enum lg_report_format { LG_REPORT_TABLE = 0, LG_REPORT_JSON, LG_REPORT_CSV };

struct lg_report_opts {
	enum lg_report_format format;
	int64_t now, grace;   /* unix seconds, seconds */
	unsigned status_mask; /* rows shown: 1u << LG_STATUS_* */
};

struct lg_report_summary {
	size_t count[LG_STATUS_COUNT]; /* every row, shown or not */
	size_t total;
};

/* Write the report of every row of b on stdout; *sum counts them all. */
int lg_report(struct laps_backend *b, const struct lg_report_opts *o, struct lg_report_summary *sum)
    __attribute__((warn_unused_result));

/* --- output (output.c) --- */

struct json_object;
/* Plain text: the password alone (stdout) + notes (stderr). */
/* laps-get/policy.c: the earliest "rotated by" a read of res announced
 * (rotate after read), 0 = none; and its notice on stderr in text mode. */
int64_t lg_rotate_by(const struct lg_result *res);
void lg_print_rotate_notice(const struct lg_result *res, const char *progname);

/* laps-get expire --filter KEY=VALUE ... [--status S] [--dry-run] [--yes]
 * (policy.c): the filter's strings are borrowed from argv. */
struct lg_bulk_opts {
	struct laps_expire_filter f;
	bool dry_run, yes;
};
/* One --filter KEY=VALUE (name, unit, account, rotated-before). */
int lg_bulk_filter(struct lg_bulk_opts *b, const char *arg) __attribute__((warn_unused_result));
/* List what matches (a dry run on the server), then unless --dry-run ask
 * (a terminal) or take --yes, and expire them in one server step.  A
 * non-terminal standard input without --yes is refused. */
int lg_bulk_run(struct laps_backend *b, const struct lg_bulk_opts *o, const char *progname)
    __attribute__((warn_unused_result));

/* laps-get request HOST --reason R | approvals | approve ID | deny ID
 * (policy.c; laps-escrowd's two-person rule). */
struct lg_approval_opts {
	const char *verb;   /* "request" | "list" | "approve" | "deny" */
	const char *reason; /* request */
	int64_t id;	    /* approve, deny */
	bool json;	    /* print the server's JSON answer as it is */
};
int lg_approval_run(struct laps_backend *b, const struct lg_approval_opts *o, const char *device,
		    const char *account, const char *progname) __attribute__((warn_unused_result));

int lg_print_text(const struct lg_result *res, const char *progname)
    __attribute__((warn_unused_result));
/* JSON on stdout; the serialised buffer is wiped after writing. */
int lg_print_json(const struct lg_result *res) __attribute__((warn_unused_result));
/*
 * Build the JSON text (for tests): *out is malloc'd; free with
 * laps_freezero(*out, strlen(*out) + 1).
 */
int lg_json_string(const struct lg_result *res, char **out) __attribute__((warn_unused_result));

/* --- times (when.c) --- */

/*
 * Parse --expire's WHEN: "now", "+DURATION" (laps_config_parse_duration) or
 * an ISO 8601 date/time in UTC or with an offset: YYYY-MM-DD,
 * YYYY-MM-DDTHH:MM[:SS[.frac]](Z|+HH:MM|-HH:MM).  LAPS_ERR_INVALID.
 */
int lg_parse_when(const char *s, int64_t now, int64_t *out) __attribute__((warn_unused_result));
/* ISO 8601 timestamp (with a time and zone) into *out.  LAPS_ERR_INVALID. */
int lg_parse_iso8601(const char *s, int64_t *out) __attribute__((warn_unused_result));
/* "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes).  Returns buf. */
const char *lg_format_time(int64_t t, char *buf, size_t len);

/* --- passphrases (passphrase.c) --- */

/*
 * Read a passphrase: from fd (fd >= 0; up to a newline or EOF) or from
 * /dev/tty without echo after printing prompt there.  *out is laps_secret
 * memory.  LAPS_ERR_PASSPHRASE when empty or missing, LAPS_ERR_TOOBIG when
 * longer than LAPS_PASSWORD_MAX, LAPS_ERR_IO without a terminal.
 */
int lg_read_passphrase(int fd, const char *prompt, char **out) __attribute__((warn_unused_result));

/* --- keygen (keygen.c) --- */

struct lg_keygen_opts {
	const char *out_path;
	const char *comment; /* NULL = user@host */
	int passphrase_fd;   /* -1 = terminal */
	bool no_passphrase;
};

/* Create the key pair; prints the public line on stdout. */
int lg_keygen(const struct lg_keygen_opts *o, const char *progname)
    __attribute__((warn_unused_result));

/* --- enrollment tokens and enrolled devices (enroll.c) --- */

enum lg_admin_cmd {
	LG_TOKEN_CREATE = 0,
	LG_TOKEN_LIST,
	LG_TOKEN_REVOKE,
	LG_DEVICE_LIST, /* the device commands come last */
	LG_DEVICE_DISABLE,
	LG_DEVICE_ENABLE,
	LG_DEVICE_REENROLL
};

struct lg_admin_opts {
	enum lg_admin_cmd cmd;
	const char *unit, *name_pattern; /* create */
	long long uses;			 /* create: 1..1000000 */
	int64_t expires_in;		 /* create: seconds */
	const char *status;		 /* device list: NULL, "enabled" or "disabled" */
	const char *operand;		 /* revoke: token id; disable ...: HOST */
	bool json, help;
};

/*
 * "enroll-token VERB ..." or "device VERB ..." (argv[0] is the group) into
 * *o; -c/--config and -s/--source into *config, *source.  LAPS_ERR_INVALID.
 */
int lg_admin_parse(int argc, char **argv, struct lg_admin_opts *o, const char **config,
		   const char **source) __attribute__((warn_unused_result));
/* Print the server's answer to o's command (answer[0..len), JSON, outside
 * input: parsed with caps and wiped; what names the route in messages).
 * LAPS_ERR_FORMAT when it is not the answer expected.  (fuzz_get_admin.c) */
int lg_admin_show(const char *answer, size_t len, const struct lg_admin_opts *o, const char *what)
    __attribute__((warn_unused_result));
/* Run it through b's admin slot and print the answer (a new token once,
 * alone on stdout).  403: LAPS_ERR_ACCESS, 404: LAPS_ERR_NOTFOUND ... */
int lg_admin_run(struct laps_backend *b, const struct lg_admin_opts *o)
    __attribute__((warn_unused_result));

#endif
