/*
 * test_ldap.c — the LDAP backend against a real slapd.
 *
 * Driven by tests/integration/ldap_backend.sh, which starts slapd with
 * tests/integration/lib/slapd.sh and exports its variables (LDAP_URI,
 * LDAPS_URI, LDAP_CA, SLAPD_DIR ...).  LDAP_TEST_MODE selects the suites:
 *   (unset)   the main suites (schema modes, TLS, binds, ACLs, CAS, history)
 *   noschema  a directory without the laps/Microsoft schema
 *   down      slapd is killed by this program (SLAPD_PID) while connected
 *   paused    slapd is stopped (SIGSTOP) by the driver: timeouts
 *   gssapi    SASL GSSAPI against a test KDC (ldap_gssapi.sh)
 *   report    the report slot against a slapd with 33 devices and a size
 *             limit of 10 (ldap_backend.sh)
 *   hostile   against tests/integration/hostile_ldap.py (ldap_hostile.sh):
 *             HOSTILE_SILENT_URI (never answers), HOSTILE_STARTTLS_URI
 *             (answers StartTLS, then silent), HOSTILE_NULDN_URI (an entry
 *             DN with a NUL byte), HOSTILE_HUGE_URI (16 MiB values),
 *             HOSTILE_BIG_URI (256 KiB values); the
 *             driver runs this under timeout(1), so a hang fails
 * Without LDAP_URI the program exits 77 (skip).
 */
#include "config.h"

#include <CUnit/CUnit.h>
#include <ldap.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends/ldap_backend.h"
#include "escrow/backend.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/record.h"
#include "escrow/secret.h"
#include "tests/unit/testutil.h"
#include "agent/agent_conf.h"
#include "backends/ldap_conf.h"
#include "escrow/escrow_conf.h"
#include "backends/backend_conf.h"

/* Everything laps.conf holds for the agent. */
static const struct laps_conf_schema test_schema = {
    {laps_agent_sections, laps_escrow_sections, laps_backend_sections}, NULL, 0};

/* The backend env of a test configuration ([agent] accounts, state_dir). */
static const struct laps_backend_env *
test_env(const struct laps_conf *c)
{
	static __thread struct laps_backend_env env;

	laps_agent_backend_env(c, &env);
	return &env;
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v ? v : "";
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

static char path_buf[4096];

/* SLAPD_DIR/<dir>/<name><ext> */
static const char *
slapd_path(const char *dir, const char *name, const char *ext)
{
	(void)snprintf(path_buf, sizeof(path_buf), "%s/%s/%s%s", env("SLAPD_DIR"), dir, name, ext);
	return path_buf;
}

static char state_dir[4096];

enum who { AS_HOST1, AS_HOST2, AS_HOST3, AS_READER, AS_OUTSIDER };

static const char *
who_name(enum who w)
{
	static const char *const n[] = {"host1", "host2", "host3", "reader", "outsider"};

	return n[w];
}

/* A config for one identity; uri may be a space-separated list. */
static struct laps_conf *
mkcfg(enum laps_ldap_schema schema, enum laps_ldap_tls tls, const char *uris, enum who w)
{
	struct laps_conf *cfg = calloc(1, sizeof(*cfg));
	const char *p = uris, *sp;

	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_FATAL(laps_conf_init(cfg, &test_schema) == 0);
	while (*p != '\0') {
		sp = strchr(p, ' ');
		if (sp == NULL)
			sp = p + strlen(p);
		if (sp > p) {
			laps_ldap_conf(cfg)->uri[laps_ldap_conf(cfg)->n_uri] =
			    strndup(p, (size_t)(sp - p));
			CU_ASSERT_FATAL(laps_ldap_conf(cfg)->uri[laps_ldap_conf(cfg)->n_uri] !=
					NULL);
			laps_ldap_conf(cfg)->n_uri++;
		}
		p = *sp ? sp + 1 : sp;
	}
	laps_ldap_conf(cfg)->tls = tls;
	laps_ldap_conf(cfg)->ca_file = xstrdup(env("LDAP_CA"));
	laps_ldap_conf(cfg)->bind = LAPS_BIND_SIMPLE;
	if (w == AS_READER) {
		laps_ldap_conf(cfg)->bind_dn = xstrdup(env("LDAP_READER_DN"));
		laps_ldap_conf(cfg)->bind_secret_file = xstrdup(env("LDAP_READER_SECRET"));
	} else if (w == AS_OUTSIDER) {
		laps_ldap_conf(cfg)->bind_dn = xstrdup(env("LDAP_OUTSIDER_DN"));
		laps_ldap_conf(cfg)->bind_secret_file = xstrdup(env("LDAP_OUTSIDER_SECRET"));
	} else {
		char dn[256];

		(void)snprintf(dn, sizeof(dn), "cn=%s,%s", who_name(w), env("LDAP_DEVICES_BASE"));
		laps_ldap_conf(cfg)->bind_dn = xstrdup(dn);
		laps_ldap_conf(cfg)->bind_secret_file =
		    xstrdup(slapd_path("secrets", who_name(w), ".secret"));
	}
	laps_ldap_conf(cfg)->base = xstrdup(env("LDAP_DEVICES_BASE"));
	laps_ldap_conf(cfg)->filter = xstrdup("(|(cn=%h)(dNSHostName=%f))");
	laps_ldap_conf(cfg)->schema = schema;
	laps_ldap_conf(cfg)->timeout = 3;
	laps_escrow_conf(cfg)->history = 10;
	free(laps_agent_conf(cfg)->state_dir);
	laps_agent_conf(cfg)->state_dir = xstrdup(state_dir);
	return cfg;
}

static void
freecfg(struct laps_conf *cfg)
{
	laps_conf_free(cfg);
	free(cfg);
}

static struct laps_backend *
open_as(struct laps_conf *cfg, enum laps_backend_role role)
{
	struct laps_backend *b = NULL;
	int rc = laps_backend_open(&laps_backend_ldap, cfg, role, test_env(cfg), &b);

	if (rc != 0) {
		char buf[512];

		fprintf(stderr, "open: %s\n", laps_errstr(rc, buf, sizeof(buf)));
	}
	CU_ASSERT_FATAL(rc == 0);
	return b;
}

static int
open_rc(struct laps_conf *cfg, enum laps_backend_role role)
{
	struct laps_backend *b = NULL;
	int rc = laps_backend_open(&laps_backend_ldap, cfg, role, test_env(cfg), &b);

	if (rc == 0)
		laps_backend_close(b);
	return rc;
}

static void
mkrec(struct laps_record *r, const char *device, const char *account, int64_t rotated_at,
      char rid[LAPS_ROTID_HEX + 1])
{
	laps_record_init(r);
	(void)snprintf(r->device, sizeof(r->device), "%s", device);
	(void)snprintf(r->account, sizeof(r->account), "%s", account);
	r->uid = 1001;
	laps_record_new_rotation_id(r->rotation_id);
	if (rid != NULL)
		memcpy(rid, r->rotation_id, LAPS_ROTID_HEX + 1);
	r->rotated_at = rotated_at;
	r->expires_at = rotated_at + 86400;
	r->state = LAPS_STATE_PENDING;
	r->envelope_len = 48;
	r->envelope = malloc(r->envelope_len);
	CU_ASSERT_FATAL(r->envelope != NULL);
	memset(r->envelope, 0x5a, r->envelope_len);
	memcpy(r->envelope, &rotated_at, sizeof(rotated_at));
	(void)snprintf(r->key_ids[0], sizeof(r->key_ids[0]), "0123456789abcdef");
	r->n_key_ids = 1;
}

#define CHECK_RC(expr, want)                                                                       \
	do {                                                                                       \
		int rc_ = (expr);                                                                  \
		if (rc_ != (want)) {                                                               \
			char b_[512];                                                              \
			fprintf(stderr, "%s:%d: %s = %d (%s), want %d\n", __FILE__, __LINE__,      \
				#expr, rc_, laps_errstr(rc_, b_, sizeof(b_)), (want));             \
		}                                                                                  \
		CU_ASSERT_EQUAL(rc_, (want));                                                      \
	} while (0)

/* ------------------------------------------------------------------ */
/* laps schema mode                                                     */

static void
t_laps_end_to_end(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST1);
	struct laps_conf *acfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_READER);
	struct laps_backend *b = open_as(cfg, LAPS_ROLE_AGENT), *a;
	struct laps_record r1, r2, got;
	struct laps_record_list hist = {NULL, 0};
	struct laps_version none = {""}, v1, v2, v;
	char rid1[LAPS_ROTID_HEX + 1], rid2[LAPS_ROTID_HEX + 1];

	laps_record_init(&got);
	CU_ASSERT_STRING_EQUAL(laps_backend_describe(b), "ldap (schema laps)");
	CU_ASSERT(laps_backend_caps(b) & LAPS_BCAP_HISTORY);
	CU_ASSERT(!(laps_backend_caps(b) & LAPS_BCAP_CLEARTEXT));
	CHECK_RC(laps_backend_read(b, "host1", "lapsadmin", &got, &v), LAPS_ERR_NOTFOUND);
	CU_ASSERT_STRING_EQUAL(v.tag, "");

	mkrec(&r1, "host1", "lapsadmin", 1000000, rid1);
	CHECK_RC(laps_backend_write(b, &r1, NULL, &none, &v1), 0);
	CU_ASSERT_STRING_EQUAL(v1.tag, rid1);
	CHECK_RC(laps_backend_read(b, "HOST1", "lapsadmin", &got, &v), 0);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, rid1);
	CU_ASSERT_EQUAL(got.state, LAPS_STATE_PENDING);
	CU_ASSERT_STRING_EQUAL(got.source, "ldap (schema laps)");
	CU_ASSERT_STRING_EQUAL(v.tag, v1.tag);
	CU_ASSERT_EQUAL(got.envelope_len, r1.envelope_len);

	/* a second write expecting "nothing" loses */
	mkrec(&r2, "host1", "lapsadmin", 1000100, rid2);
	CHECK_RC(laps_backend_write(b, &r2, NULL, &none, &v2), LAPS_ERR_CONFLICT);
	/* confirm with the wrong rotation id is a conflict */
	CHECK_RC(laps_backend_confirm(b, "host1", "lapsadmin", rid2, 2000000), LAPS_ERR_CONFLICT);
	CHECK_RC(laps_backend_confirm(b, "host1", "lapsadmin", rid1, 2000000), 0);
	CHECK_RC(laps_backend_confirm(b, "host1", "lapsadmin", rid1, 2000000), 0); /* idempotent */
	CHECK_RC(laps_backend_read(b, "host1", "lapsadmin", &got, &v), 0);
	CU_ASSERT_EQUAL(got.state, LAPS_STATE_CONFIRMED);
	CU_ASSERT_EQUAL(got.expires_at, 2000000);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, rid1);

	/* rotate again: r1 goes to history */
	CHECK_RC(laps_backend_write(b, &r2, NULL, &v, &v2), 0);
	CHECK_RC(laps_backend_confirm(b, "host1", "lapsadmin", rid2, 3000000), 0);
	CHECK_RC(laps_backend_history(b, "host1", "lapsadmin", 10, &hist), 0);
	CU_ASSERT_EQUAL_FATAL(hist.n, 1);
	CU_ASSERT_STRING_EQUAL(hist.v[0].rotation_id, rid1);
	CU_ASSERT_EQUAL(hist.v[0].state, LAPS_STATE_CONFIRMED);
	laps_record_list_free(&hist);

	/* an admin forces a rotation; the agent reads the admin's expiry */
	a = open_as(acfg, LAPS_ROLE_ADMIN);
	CHECK_RC(laps_backend_set_expiry(a, "host1.example.test", "lapsadmin", 1500), 0);
	CHECK_RC(laps_backend_read(b, "host1", "lapsadmin", &got, &v), 0);
	CU_ASSERT_EQUAL(got.expires_at, 1500);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, rid2);
	CHECK_RC(laps_backend_read(a, "host1", "lapsadmin", &got, &v), 0);
	CU_ASSERT_EQUAL(got.expires_at, 1500);
	/* another account on the same device is separate */
	CHECK_RC(laps_backend_read(a, "host1", "other", &got, &v), LAPS_ERR_NOTFOUND);
	/* the admin cannot write records (ACL) */
	CHECK_RC(laps_backend_read(a, "host1", "lapsadmin", &got, &v), 0);
	CHECK_RC(laps_backend_write(a, &r1, NULL, &v, &v1), LAPS_ERR_ACCESS);

	laps_backend_close(a);
	laps_backend_close(b);
	laps_record_clear(&r1);
	laps_record_clear(&r2);
	laps_record_clear(&got);
	freecfg(cfg);
	freecfg(acfg);
}

static void
t_laps_history_order_and_trim(void)
{
	static const int64_t times[] = {100, 500, 200, 400, 300, 600};
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST2);
	struct laps_backend *b;
	struct laps_record r, got;
	struct laps_record_list hist = {NULL, 0};
	struct laps_version ver = {""}, nv;
	char rids[6][LAPS_ROTID_HEX + 1];
	size_t i;

	laps_escrow_conf(cfg)->history = 3;
	b = open_as(cfg, LAPS_ROLE_AGENT);
	laps_record_init(&got);
	for (i = 0; i < 6; i++) {
		mkrec(&r, "host2", "hist", times[i], rids[i]);
		CHECK_RC(laps_backend_write(b, &r, NULL, &ver, &nv), 0);
		ver = nv;
		laps_record_clear(&r);
	}
	CHECK_RC(laps_backend_read(b, "host2", "hist", &got, &ver), 0);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, rids[5]);
	CHECK_RC(laps_backend_history(b, "host2", "hist", 10, &hist), 0);
	/* the newest three by rotated_at among 100,500,200,400,300: 500,400,300 */
	CU_ASSERT_EQUAL_FATAL(hist.n, 3);
	CU_ASSERT_STRING_EQUAL(hist.v[0].rotation_id, rids[1]);
	CU_ASSERT_STRING_EQUAL(hist.v[1].rotation_id, rids[3]);
	CU_ASSERT_STRING_EQUAL(hist.v[2].rotation_id, rids[4]);
	laps_record_list_free(&hist);
	CHECK_RC(laps_backend_history(b, "host2", "hist", 2, &hist), 0);
	CU_ASSERT_EQUAL(hist.n, 2);
	laps_record_list_free(&hist);

	/* a pushed record older than everything kept is not kept */
	mkrec(&r, "host2", "hist", 50, rids[0]);
	CHECK_RC(laps_backend_write(b, &r, NULL, &ver, &nv), 0);
	ver = nv;
	laps_record_clear(&r);
	mkrec(&r, "host2", "hist", 700, rids[1]);
	CHECK_RC(laps_backend_write(b, &r, NULL, &ver, &nv), 0);
	laps_record_clear(&r);
	CHECK_RC(laps_backend_history(b, "host2", "hist", 10, &hist), 0);
	CU_ASSERT_EQUAL_FATAL(hist.n, 3);
	CU_ASSERT_EQUAL(hist.v[0].rotated_at, 600);
	CU_ASSERT_EQUAL(hist.v[1].rotated_at, 500);
	CU_ASSERT_EQUAL(hist.v[2].rotated_at, 400);
	laps_record_list_free(&hist);

	laps_backend_close(b);
	laps_record_clear(&got);
	freecfg(cfg);
}

/* Format 2 records: history is ordered and trimmed by seq, even when the
 * clock stepped back (rotated_at decreasing). */
static void
t_laps_history_by_seq(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST2);
	struct laps_backend *b;
	struct laps_record r;
	struct laps_record_list hist = {NULL, 0};
	struct laps_version ver = {""}, nv;
	uint64_t i;

	laps_escrow_conf(cfg)->history = 3;
	b = open_as(cfg, LAPS_ROLE_AGENT);
	for (i = 1; i <= 6; i++) {
		mkrec(&r, "host2", "seqhist", 10000 - (int64_t)i * 100, NULL);
		r.seq = i;
		CHECK_RC(laps_backend_write(b, &r, NULL, &ver, &nv), 0);
		ver = nv;
		laps_record_clear(&r);
	}
	CHECK_RC(laps_backend_history(b, "host2", "seqhist", 10, &hist), 0);
	/* current is seq 6; history keeps 5, 4, 3 although they are older by time */
	CU_ASSERT_EQUAL_FATAL(hist.n, 3);
	CU_ASSERT_EQUAL(hist.v[0].seq, 5);
	CU_ASSERT_EQUAL(hist.v[1].seq, 4);
	CU_ASSERT_EQUAL(hist.v[2].seq, 3);
	laps_record_list_free(&hist);
	laps_backend_close(b);
	freecfg(cfg);
}

static void
t_laps_history_zero(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST2);
	struct laps_backend *b;
	struct laps_record r;
	struct laps_record_list hist = {NULL, 0};
	struct laps_version ver = {""}, nv;
	int i;

	laps_escrow_conf(cfg)->history = 0;
	b = open_as(cfg, LAPS_ROLE_AGENT);
	for (i = 0; i < 3; i++) {
		mkrec(&r, "host2", "nohist", 100 + i, NULL);
		CHECK_RC(laps_backend_write(b, &r, NULL, &ver, &nv), 0);
		ver = nv;
		laps_record_clear(&r);
	}
	CHECK_RC(laps_backend_history(b, "host2", "nohist", 10, &hist), 0);
	CU_ASSERT_EQUAL(hist.n, 0);
	laps_record_list_free(&hist);
	laps_backend_close(b);
	freecfg(cfg);
}

/* N processes write with the same expected version: exactly one wins. */
static void
t_laps_cas_race(void)
{
	enum { N = 8 };
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST3);
	struct laps_backend *b = open_as(cfg, LAPS_ROLE_AGENT);
	struct laps_record r, got;
	struct laps_version ver = {""}, nv;
	pid_t pids[N];
	int i, wins = 0, conflicts = 0, other = 0, pfd[2];
	char winner[LAPS_ROTID_HEX + 1] = "";

	laps_record_init(&got);
	mkrec(&r, "host3", "race", 1000, NULL);
	CHECK_RC(laps_backend_write(b, &r, NULL, &ver, &nv), 0);
	laps_record_clear(&r);
	laps_backend_close(b);
	CU_ASSERT_FATAL(pipe(pfd) == 0);
	for (i = 0; i < N; i++) {
		pids[i] = fork();
		CU_ASSERT_FATAL(pids[i] >= 0);
		if (pids[i] == 0) {
			struct laps_backend *cb = NULL;
			struct laps_version cv;
			int rc;

			close(pfd[0]);
			laps_test_random_reseed((uint64_t)getpid() * 7919u);
			if (laps_backend_open(&laps_backend_ldap, cfg, LAPS_ROLE_AGENT,
					      test_env(cfg), &cb) != 0)
				_exit(3);
			mkrec(&r, "host3", "race", 2000 + i, NULL);
			rc = laps_backend_write(cb, &r, NULL, &nv, &cv);
			if (rc == 0 &&
			    write(pfd[1], r.rotation_id, LAPS_ROTID_HEX) != LAPS_ROTID_HEX)
				_exit(4);
			laps_backend_close(cb);
			_exit(rc == 0 ? 0 : rc == LAPS_ERR_CONFLICT ? 1 : 2);
		}
	}
	close(pfd[1]);
	for (i = 0; i < N; i++) {
		int st = 0;

		(void)waitpid(pids[i], &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			wins++;
		else if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
			conflicts++;
		else
			other++;
	}
	if (read(pfd[0], winner, LAPS_ROTID_HEX) != LAPS_ROTID_HEX)
		winner[0] = '\0';
	winner[LAPS_ROTID_HEX] = '\0';
	close(pfd[0]);
	CU_ASSERT_EQUAL(wins, 1);
	CU_ASSERT_EQUAL(conflicts, N - 1);
	CU_ASSERT_EQUAL(other, 0);
	/* the directory holds the winner's record */
	b = open_as(cfg, LAPS_ROLE_AGENT);
	CHECK_RC(laps_backend_read(b, "host3", "race", &got, &ver), 0);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, winner);
	laps_backend_close(b);
	laps_record_clear(&got);
	freecfg(cfg);
}

/* Two creators racing ("no record yet"): the assertion control lets one win. */
static void
t_laps_create_race(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST3);
	struct laps_backend *b1 = open_as(cfg, LAPS_ROLE_AGENT),
			    *b2 = open_as(cfg, LAPS_ROLE_AGENT);
	struct laps_record r1, r2;
	struct laps_version none = {""}, nv;

	mkrec(&r1, "host3", "create", 10, NULL);
	mkrec(&r2, "host3", "create", 11, NULL);
	CHECK_RC(laps_backend_write(b1, &r1, NULL, &none, &nv), 0);
	CHECK_RC(laps_backend_write(b2, &r2, NULL, &none, &nv), LAPS_ERR_CONFLICT);
	laps_record_clear(&r1);
	laps_record_clear(&r2);
	laps_backend_close(b1);
	laps_backend_close(b2);
	freecfg(cfg);
}

/* A write whose expected rotation id is stale (an older, non-empty one) is
 * a conflict, and changes nothing: decided by the backend's own check, not
 * by a race. */
static void
t_laps_stale_expected(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST3);
	struct laps_backend *b = open_as(cfg, LAPS_ROLE_AGENT);
	struct laps_record r1, r2, r3, got;
	struct laps_record_list hist = {NULL, 0};
	struct laps_version none = {""}, v1, v2, v3, v;
	char rid2[LAPS_ROTID_HEX + 1];

	laps_record_init(&got);
	mkrec(&r1, "host3", "stale", 100, NULL);
	mkrec(&r2, "host3", "stale", 200, rid2);
	mkrec(&r3, "host3", "stale", 300, NULL);
	CHECK_RC(laps_backend_write(b, &r1, NULL, &none, &v1), 0);
	CHECK_RC(laps_backend_write(b, &r2, NULL, &v1, &v2), 0);
	CU_ASSERT_STRING_NOT_EQUAL(v1.tag, "");
	/* v1 is stale now: r3 must not replace r2 */
	memset(&v3, 0, sizeof(v3));
	CHECK_RC(laps_backend_write(b, &r3, NULL, &v1, &v3), LAPS_ERR_CONFLICT);
	CU_ASSERT(strstr(laps_errdetail(), rid2) != NULL);
	CU_ASSERT_STRING_EQUAL(v3.tag, "");
	CHECK_RC(laps_backend_read(b, "host3", "stale", &got, &v), 0);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, rid2);
	CU_ASSERT_STRING_EQUAL(v.tag, v2.tag);
	CHECK_RC(laps_backend_history(b, "host3", "stale", 10, &hist), 0);
	CU_ASSERT_EQUAL(hist.n, 1); /* only r1: r2 was not pushed */
	laps_record_list_free(&hist);
	/* a made-up expected id: the same */
	(void)snprintf(v.tag, sizeof(v.tag), "%s", "00112233445566778899aabbccddeeff");
	CHECK_RC(laps_backend_write(b, &r3, NULL, &v, &v3), LAPS_ERR_CONFLICT);
	/* confirm with the stale id: a conflict too, not retried into success */
	CHECK_RC(laps_backend_confirm(b, "host3", "stale", r1.rotation_id, 999), LAPS_ERR_CONFLICT);
	CHECK_RC(laps_backend_read(b, "host3", "stale", &got, &v), 0);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, rid2);
	CU_ASSERT_EQUAL(got.state, LAPS_STATE_PENDING);
	laps_record_clear(&r1);
	laps_record_clear(&r2);
	laps_record_clear(&r3);
	laps_record_clear(&got);
	laps_backend_close(b);
	freecfg(cfg);
}

/* Is a Cyrus SASL plugin (…/sasl2/lib*.so) mapped into this process? */
static bool
sasl_plugin_mapped(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	bool found = false;

	CU_ASSERT_FATAL(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "/sasl2/") != NULL && strstr(line, name) != NULL)
			found = true;
	fclose(f);
	return found;
}

/* A simple bind (and EXTERNAL) loads no SASL plugin (issue 10.2). */
static void
t_no_sasl_plugins(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST1);
	struct laps_backend *b = open_as(cfg, LAPS_ROLE_AGENT);

	CU_ASSERT(!sasl_plugin_mapped("lib"));
	laps_backend_close(b);
	freecfg(cfg);
}

/* ------------------------------------------------------------------ */
/* TLS, binds, failover                                                 */

static void
t_ldaps(void)
{
	struct laps_conf *cfg = mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_LDAPS, env("LDAPS_URI"), AS_HOST1);
	struct laps_backend *b = open_as(cfg, LAPS_ROLE_AGENT);
	struct laps_record got;
	struct laps_version v;

	laps_record_init(&got);
	CHECK_RC(laps_backend_read(b, "host1", "lapsadmin", &got, &v), 0);
	laps_record_clear(&got);
	laps_backend_close(b);
	freecfg(cfg);
}

static void
t_wrong_ca(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST1);

	free(laps_ldap_conf(cfg)->ca_file);
	laps_ldap_conf(cfg)->ca_file = xstrdup(env("LDAP_WRONG_CA"));
	CHECK_RC(open_rc(cfg, LAPS_ROLE_AGENT), LAPS_ERR_TLS);
	freecfg(cfg);
	cfg = mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_LDAPS, env("LDAPS_URI"), AS_HOST1);
	free(laps_ldap_conf(cfg)->ca_file);
	laps_ldap_conf(cfg)->ca_file = xstrdup(env("LDAP_WRONG_CA"));
	CHECK_RC(open_rc(cfg, LAPS_ROLE_AGENT), LAPS_ERR_TLS);
	freecfg(cfg);
	/* tls = ldaps with an ldap:// URI is a configuration error, not a downgrade */
	cfg = mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_LDAPS, env("LDAP_URI"), AS_HOST1);
	CHECK_RC(open_rc(cfg, LAPS_ROLE_AGENT), LAPS_ERR_CONFIG);
	freecfg(cfg);
}

/* The server's certificate names 127.0.0.1, not "localhost.invalid". */
static void
t_hostname_checked(void)
{
	char uri[256];
	const char *port = strrchr(env("LDAPS_URI"), ':');
	struct laps_conf *cfg;

	CU_ASSERT_FATAL(port != NULL);
	(void)snprintf(uri, sizeof(uri), "ldaps://127.0.0.2%s", port);
	cfg = mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_LDAPS, uri, AS_HOST1);
	/* slapd listens on 127.0.0.1 only: 127.0.0.2 is refused, but if the
	 * kernel routed it the certificate would not match; either way no bind */
	CU_ASSERT_NOT_EQUAL(open_rc(cfg, LAPS_ROLE_AGENT), 0);
	freecfg(cfg);
}

static int warned;

static void
log_sink(void *ctx, int level, const char *msg)
{
	if (level <= LAPS_LOG_WARNING && strstr(msg, "tls = none") != NULL)
		warned++;
}

static void
t_tls_none_warns(void)
{
	struct laps_conf *cfg = mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_NONE, env("LDAP_URI"), AS_HOST1);

	warned = 0;
	laps_log_set_sink(log_sink, NULL);
	CHECK_RC(open_rc(cfg, LAPS_ROLE_AGENT), 0);
	laps_log_set_sink(NULL, NULL);
	CU_ASSERT_EQUAL(warned, 1);
	freecfg(cfg);
	/* StartTLS (the default) does not warn */
	cfg = mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST1);
	warned = 0;
	laps_log_set_sink(log_sink, NULL);
	CHECK_RC(open_rc(cfg, LAPS_ROLE_AGENT), 0);
	laps_log_set_sink(NULL, NULL);
	CU_ASSERT_EQUAL(warned, 0);
	freecfg(cfg);
}

static void
t_bad_secret(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST1);
	char p[8192];

	(void)snprintf(p, sizeof(p), "%s/wrong.secret", state_dir);
	CU_ASSERT_FATAL(laps_test_write_file(p, "not-the-password\n", 0600) == 0);
	free(laps_ldap_conf(cfg)->bind_secret_file);
	laps_ldap_conf(cfg)->bind_secret_file = xstrdup(p);
	CHECK_RC(open_rc(cfg, LAPS_ROLE_AGENT), LAPS_ERR_AUTH);
	/* a group-readable secret file is refused before anything is sent */
	CU_ASSERT_FATAL(chmod(p, 0640) == 0);
	CHECK_RC(open_rc(cfg, LAPS_ROLE_AGENT), LAPS_ERR_PERM);
	freecfg(cfg);
}

static void
t_external_cert(void)
{
	struct laps_conf *cfg = mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_LDAPS, env("LDAPS_URI"), AS_HOST1);
	struct laps_backend *b;
	struct laps_record r, got;
	struct laps_version none = {""}, nv, v;

	laps_record_init(&got);
	laps_ldap_conf(cfg)->bind = LAPS_BIND_EXTERNAL;
	free(laps_ldap_conf(cfg)->bind_dn);
	free(laps_ldap_conf(cfg)->bind_secret_file);
	laps_ldap_conf(cfg)->bind_dn = laps_ldap_conf(cfg)->bind_secret_file = NULL;
	laps_ldap_conf(cfg)->cert_file = xstrdup(slapd_path("tls", "host1", ".pem"));
	laps_ldap_conf(cfg)->key_file = xstrdup(slapd_path("tls", "host1", ".key"));
	b = open_as(cfg, LAPS_ROLE_AGENT);
	/* bound as host1's entry through the certificate: may write its own */
	mkrec(&r, "host1", "external", 42, NULL);
	CHECK_RC(laps_backend_write(b, &r, NULL, &none, &nv), 0);
	CHECK_RC(laps_backend_read(b, "host1", "external", &got, &v), 0);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, r.rotation_id);
	/* ... and not host2's */
	(void)snprintf(r.device, sizeof(r.device), "host2");
	CHECK_RC(laps_backend_write(b, &r, NULL, &none, &nv), LAPS_ERR_ACCESS);
	laps_record_clear(&r);
	laps_record_clear(&got);
	laps_backend_close(b);
	freecfg(cfg);
}

static void
t_external_ldapi(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAPI_URI"), AS_HOST1);
	struct laps_backend *b;
	struct laps_record got;
	struct laps_version v;

	laps_record_init(&got);
	laps_ldap_conf(cfg)->bind = LAPS_BIND_EXTERNAL;
	b = open_as(cfg, LAPS_ROLE_ADMIN);
	CHECK_RC(laps_backend_read(b, "host1", "external", &got, &v), 0);
	laps_record_clear(&got);
	laps_backend_close(b);
	freecfg(cfg);
}

static void
t_failover(void)
{
	char uris[1024];
	struct laps_conf *cfg;
	struct laps_backend *b;
	struct laps_record got;
	struct laps_version v;

	laps_record_init(&got);
	(void)snprintf(uris, sizeof(uris), "%s %s", env("LDAP_DEAD_URI"), env("LDAP_URI"));
	cfg = mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, uris, AS_HOST1);
	b = open_as(cfg, LAPS_ROLE_AGENT);
	CHECK_RC(laps_backend_read(b, "host1", "lapsadmin", &got, &v), 0);
	laps_backend_close(b);
	freecfg(cfg);
	/* only dead servers: transient error */
	cfg = mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_DEAD_URI"), AS_HOST1);
	CHECK_RC(open_rc(cfg, LAPS_ROLE_AGENT), LAPS_ERR_UNAVAILABLE);
	freecfg(cfg);
	laps_record_clear(&got);
}

/* ------------------------------------------------------------------ */
/* ACLs, lookup                                                         */

static void
t_acl_other_device(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST2);
	struct laps_conf *ocfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_OUTSIDER);
	struct laps_backend *b = open_as(cfg, LAPS_ROLE_AGENT), *o;
	struct laps_record r, got;
	struct laps_record_list hist = {NULL, 0};
	struct laps_version none = {""}, nv, v;

	laps_record_init(&got);
	/* host1 has records (earlier tests); host2 must not see or change them */
	CHECK_RC(laps_backend_read(b, "host1", "lapsadmin", &got, &v), LAPS_ERR_ACCESS);
	CHECK_RC(laps_backend_history(b, "host1", "lapsadmin", 5, &hist), LAPS_ERR_ACCESS);
	mkrec(&r, "host1", "intruder", 5, NULL);
	CHECK_RC(laps_backend_write(b, &r, NULL, &none, &nv), LAPS_ERR_ACCESS);
	CHECK_RC(laps_backend_set_expiry(b, "host1", "lapsadmin", 1), LAPS_ERR_ACCESS);
	/* an authenticated user outside the readers group sees nothing either */
	o = open_as(ocfg, LAPS_ROLE_ADMIN);
	CHECK_RC(laps_backend_read(o, "host1", "lapsadmin", &got, &v), LAPS_ERR_ACCESS);
	laps_backend_close(o);
	laps_record_clear(&r);
	laps_record_clear(&got);
	laps_backend_close(b);
	freecfg(cfg);
	freecfg(ocfg);
}

static void
t_lookup(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_READER);
	struct laps_backend *b = open_as(cfg, LAPS_ROLE_ADMIN);
	char devs[4][LAPS_DEVICE_MAX + 1];
	struct laps_record got;
	struct laps_version v;
	size_t n = 0;

	laps_record_init(&got);
	CHECK_RC(laps_backend_find(b, "HOST1", devs, 4, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_STRING_EQUAL(devs[0], "host1");
	CHECK_RC(laps_backend_find(b, "host1.example.test", devs, 4, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	CHECK_RC(laps_backend_find(b, "host1.elsewhere.test", devs, 4, &n), LAPS_ERR_NOTFOUND);
	CHECK_RC(laps_backend_find(b, "nohost", devs, 4, &n), LAPS_ERR_NOTFOUND);
	CHECK_RC(laps_backend_find(b, "host*", devs, 4, &n), LAPS_ERR_INVALID);
	/* an ambiguous filter is an error naming the filter */
	free(laps_ldap_conf(cfg)->filter);
	laps_ldap_conf(cfg)->filter = xstrdup("(objectClass=device)");
	CHECK_RC(laps_backend_read(b, "host1", "lapsadmin", &got, &v), LAPS_ERR_AMBIGUOUS);
	CU_ASSERT(strstr(laps_errdetail(), "(objectClass=device)") != NULL);
	free(laps_ldap_conf(cfg)->filter);
	laps_ldap_conf(cfg)->filter = xstrdup("(cn=%h)");
	CHECK_RC(laps_backend_read(b, "nohost", "lapsadmin", &got, &v), LAPS_ERR_NOTFOUND);
	/* explicit DN */
	free(laps_ldap_conf(cfg)->base);
	laps_ldap_conf(cfg)->base = NULL;
	laps_ldap_conf(cfg)->dn = xstrdup("cn=%h,ou=devices,dc=example,dc=test");
	CHECK_RC(laps_backend_read(b, "host1", "lapsadmin", &got, &v), 0);
	CHECK_RC(laps_backend_read(b, "host9", "lapsadmin", &got, &v), LAPS_ERR_NOTFOUND);
	laps_record_clear(&got);
	laps_backend_close(b);
	freecfg(cfg);
}

/* A connection bound as the rootdn (to plant hostile entries), or NULL. */
static LDAP *
root_conn(void)
{
	LDAP *ld = NULL;
	struct berval cred;
	char *sec = NULL;
	size_t slen = 0;
	int v3 = LDAP_VERSION3, rc;

	if (laps_file_read(env("LDAP_ROOT_SECRET"), 4096, 0, &sec, &slen) != 0)
		return NULL;
	while (slen > 0 && (sec[slen - 1] == '\n' || sec[slen - 1] == '\r'))
		sec[--slen] = '\0';
	cred.bv_val = sec;
	cred.bv_len = slen;
	rc = ldap_initialize(&ld, env("LDAP_URI"));
	if (rc == LDAP_SUCCESS)
		(void)ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	if (rc == LDAP_SUCCESS)
		rc = ldap_sasl_bind_s(ld, env("LDAP_ROOT_DN"), LDAP_SASL_SIMPLE, &cred, NULL, NULL,
				      NULL);
	laps_file_free(sec, slen, 0);
	if (rc != LDAP_SUCCESS) {
		if (ld != NULL)
			(void)ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	return ld;
}

/*
 * find() output is shown to the administrator ("several hosts match: ...")
 * and used as a device name: a cn with a terminal escape sequence is skipped,
 * a valid one beside it is still found.
 */
static void
t_find_untrusted_cn(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_READER);
	struct laps_backend *b;
	char devs[4][LAPS_DEVICE_MAX + 1], dn[512];
	char *oc_v[] = {(char *)(uintptr_t) "device", (char *)(uintptr_t) "lapsMsCompat", NULL};
	char *dns_v[] = {(char *)(uintptr_t) "hostile.example.test", NULL};
	struct berval cn_bv = {11, (char *)(uintptr_t) "bad\x1b[2Jname"}, *cn_v[] = {&cn_bv, NULL};
	LDAPMod oc = {LDAP_MOD_ADD, (char *)(uintptr_t) "objectClass", {oc_v}};
	LDAPMod dns = {LDAP_MOD_ADD, (char *)(uintptr_t) "dNSHostName", {dns_v}};
	LDAPMod cn = {LDAP_MOD_ADD | LDAP_MOD_BVALUES, (char *)(uintptr_t) "cn", {NULL}};
	LDAPMod *mods[] = {&oc, &cn, &dns, NULL};
	LDAP *ld = root_conn();
	size_t n = 9;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ld);
	cn.mod_bvalues = cn_v;
	(void)snprintf(dn, sizeof(dn), "cn=bad\\1B[2Jname,%s", env("LDAP_DEVICES_BASE"));
	CU_ASSERT_EQUAL_FATAL(ldap_add_ext_s(ld, dn, mods, NULL, NULL), LDAP_SUCCESS);
	b = open_as(cfg, LAPS_ROLE_ADMIN);
	CHECK_RC(laps_backend_find(b, "hostile", devs, 4, &n), LAPS_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(n, 0);
	CHECK_RC(laps_backend_find(b, "hostile.example.test", devs, 4, &n), LAPS_ERR_NOTFOUND);
	CHECK_RC(laps_backend_find(b, "host1", devs, 4, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	laps_backend_close(b);
	CU_ASSERT_EQUAL(ldap_delete_ext_s(ld, dn, NULL, NULL), LDAP_SUCCESS);
	(void)ldap_unbind_ext_s(ld, NULL, NULL);
	freecfg(cfg);
}

/* ------------------------------------------------------------------ */
/* Microsoft schema modes                                               */

/* Every log line (any level) of a Microsoft-mode run, to check no
 * password or bind secret ever reaches a log message. */
static char ms_log[65536];

static void
ms_log_sink(void *ctx, int level, const char *msg)
{
	size_t n = strlen(ms_log);

	(void)ctx;
	(void)level;
	(void)snprintf(ms_log + n, sizeof(ms_log) - n, "%s\n", msg);
}

static void
ms_end_to_end(enum laps_ldap_schema schema, const char *device, const char *password)
{
	struct laps_conf *cfg = mkcfg(schema, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST1);
	struct laps_conf *acfg = mkcfg(schema, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_READER);
	struct laps_backend *b, *a;
	struct laps_record r1, r2, got;
	struct laps_record_list hist = {NULL, 0};
	struct laps_version none = {""}, v1, v2, v;
	char rid1[LAPS_ROTID_HEX + 1], rid2[LAPS_ROTID_HEX + 1], desc[64];
	unsigned caps;

	(void)snprintf(desc, sizeof(desc), "ldap (schema %s)",
		       schema == LAPS_SCHEMA_MSLAPS ? "mslaps" : "legacy");
	laps_record_init(&got);
	ms_log[0] = '\0';
	laps_log_set_sink(ms_log_sink, NULL);
	laps_log_set_level(LAPS_LOG_DEBUG);
	if (strcmp(device, "host1") != 0) {
		char dn[256];

		(void)snprintf(dn, sizeof(dn), "cn=%s,%s", device, env("LDAP_DEVICES_BASE"));
		free(laps_ldap_conf(cfg)->bind_dn);
		free(laps_ldap_conf(cfg)->bind_secret_file);
		laps_ldap_conf(cfg)->bind_dn = xstrdup(dn);
		laps_ldap_conf(cfg)->bind_secret_file =
		    xstrdup(slapd_path("secrets", device, ".secret"));
	}
	b = open_as(cfg, LAPS_ROLE_AGENT);
	caps = laps_backend_caps(b);
	CU_ASSERT(caps & LAPS_BCAP_CLEARTEXT);
	CU_ASSERT(caps & LAPS_BCAP_WRITEONLY);
	CU_ASSERT(!(caps & LAPS_BCAP_HISTORY));
	CU_ASSERT_STRING_EQUAL(laps_backend_describe(b), desc);
	CHECK_RC(laps_backend_read(b, device, "lapsadmin", &got, &v), LAPS_ERR_NOTFOUND);

	mkrec(&r1, device, "lapsadmin", 1704067200, rid1);
	CHECK_RC(laps_backend_write(b, &r1, NULL, &none, &v1), LAPS_ERR_INVALID); /* no password */
	CHECK_RC(laps_backend_write(b, &r1, password, &none, &v1), 0);
	CHECK_RC(laps_backend_read(b, device, "lapsadmin", &got, &v), 0);
	CU_ASSERT_STRING_EQUAL(v.tag, v1.tag);
	CU_ASSERT_EQUAL(got.state, LAPS_STATE_PENDING);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, rid1); /* recognised through the local file */
	CU_ASSERT_EQUAL(got.expires_at, 1704067200);   /* pending: due at the rotation time */
	CU_ASSERT_PTR_NULL(got.password);
	CU_ASSERT_STRING_EQUAL(got.source, desc);

	/* the device can write but not read the password (AD confidential) */
	a = open_as(cfg, LAPS_ROLE_ADMIN);
	CHECK_RC(laps_backend_read(a, device, "lapsadmin", &got, &v), 0);
	CU_ASSERT_PTR_NULL(got.password);
	laps_backend_close(a);

	CHECK_RC(laps_backend_confirm(b, device, "lapsadmin", "00000000000000000000000000000001",
				      1704153600),
		 LAPS_ERR_CONFLICT);
	CHECK_RC(laps_backend_confirm(b, device, "lapsadmin", rid1, 1704153600), 0);
	CHECK_RC(laps_backend_confirm(b, device, "lapsadmin", rid1, 1704153600), 0);
	CHECK_RC(laps_backend_read(b, device, "lapsadmin", &got, &v), 0);
	CU_ASSERT_EQUAL(got.state, LAPS_STATE_CONFIRMED);
	CU_ASSERT_EQUAL(got.expires_at, 1704153600);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, rid1);

	/* the admin reads the password */
	a = open_as(acfg, LAPS_ROLE_ADMIN);
	CHECK_RC(laps_backend_read(a, device, "lapsadmin", &got, &v), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got.password);
	CU_ASSERT_STRING_EQUAL(got.password, password);
	CU_ASSERT_STRING_EQUAL(got.source, desc);
	CU_ASSERT_EQUAL(got.expires_at, 1704153600);
	CU_ASSERT_EQUAL(got.state, LAPS_STATE_CONFIRMED);
	if (schema == LAPS_SCHEMA_MSLAPS) {
		CU_ASSERT_EQUAL(got.rotated_at, 1704067200);
		CHECK_RC(laps_backend_read(a, device, "someoneelse", &got, &v), LAPS_ERR_NOTFOUND);
	}
	/* the admin forces a rotation; the agent sees the expiry, same rotation */
	CHECK_RC(laps_backend_set_expiry(a, device, "lapsadmin", 1700000000), 0);
	CHECK_RC(laps_backend_read(b, device, "lapsadmin", &got, &v), 0);
	CU_ASSERT_EQUAL(got.expires_at, 1700000000);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, rid1);
	CU_ASSERT_EQUAL(got.state, LAPS_STATE_CONFIRMED);
	CHECK_RC(laps_backend_history(a, device, "lapsadmin", 5, &hist), LAPS_ERR_UNSUPPORTED);

	/* compare-and-set: a stale version loses */
	mkrec(&r2, device, "lapsadmin", 1704200000, rid2);
	CHECK_RC(laps_backend_write(b, &r2, "stale-writer", &v1, &v2), LAPS_ERR_CONFLICT);
	CU_ASSERT_PTR_NULL(strstr(laps_errdetail(), "stale-writer"));
	CHECK_RC(laps_backend_write(b, &r2, "second-Pa55", &v, &v2), 0);
	CHECK_RC(laps_backend_read(a, device, "lapsadmin", &got, &v), 0);
	CU_ASSERT_STRING_EQUAL(got.password, "second-Pa55");
	CU_ASSERT_EQUAL(got.state, LAPS_STATE_PENDING);
	CHECK_RC(laps_backend_read(b, device, "lapsadmin", &got, &v), 0);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, rid2);
	/* a rotation written by someone else (another host's file) is not ours */
	laps_backend_close(a);
	laps_backend_close(b);
	{
		char other[8192];

		(void)snprintf(other, sizeof(other), "%s/other", state_dir);
		CU_ASSERT_FATAL(laps_mkdir_p(other, 0700) == 0);
		free(laps_agent_conf(cfg)->state_dir);
		laps_agent_conf(cfg)->state_dir = xstrdup(other);
		b = open_as(cfg, LAPS_ROLE_AGENT);
		CHECK_RC(laps_backend_read(b, device, "lapsadmin", &got, &v), 0);
		CU_ASSERT_STRING_NOT_EQUAL(got.rotation_id, rid2);
		laps_backend_close(b);
	}

	/* one account per device */
	free(laps_agent_conf(cfg)->accounts[0]);
	laps_agent_conf(cfg)->accounts[0] = xstrdup("lapsadmin");
	laps_agent_conf(cfg)->accounts[1] = xstrdup("second");
	laps_agent_conf(cfg)->n_accounts = 2;
	CHECK_RC(open_rc(cfg, LAPS_ROLE_AGENT), LAPS_ERR_UNSUPPORTED);

	/* no password (nor the bind secret) in any log line, at debug level */
	laps_log_set_sink(NULL, NULL);
	laps_log_set_level(LAPS_LOG_NOTICE);
	CU_ASSERT_PTR_NULL(strstr(ms_log, password));
	CU_ASSERT_PTR_NULL(strstr(ms_log, "second-Pa55"));
	CU_ASSERT_PTR_NULL(strstr(ms_log, "stale-writer"));
	{
		char *sec = NULL;
		size_t slen = 0;

		if (laps_file_read(laps_ldap_conf(cfg)->bind_secret_file, 4096, LAPS_FILE_SECRET,
				   &sec, &slen) == 0) {
			while (slen > 0 && (sec[slen - 1] == '\n' || sec[slen - 1] == '\r'))
				sec[--slen] = '\0';
			CU_ASSERT(slen > 0 && strstr(ms_log, sec) == NULL);
			laps_file_free(sec, slen, LAPS_FILE_SECRET);
		}
	}

	laps_record_clear(&r1);
	laps_record_clear(&r2);
	laps_record_clear(&got);
	freecfg(cfg);
	freecfg(acfg);
}

static void
t_mslaps(void)
{
	ms_end_to_end(LAPS_SCHEMA_MSLAPS, "host1", "Pa\"ss\\w0rd{x}");
}

static void
t_legacy(void)
{
	ms_end_to_end(LAPS_SCHEMA_LEGACY, "host2", "Legacy-Pa55word!");
}

/* The raw msLAPS-Password value is what Windows LAPS writes. */
static void
t_mslaps_raw(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_MSLAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_READER);
	struct laps_backend *b = open_as(cfg, LAPS_ROLE_ADMIN);
	LDAP *ld = NULL;
	LDAPMessage *res = NULL, *e;
	struct berval **v;
	const char *attrs[] = {"msLAPS-Password", NULL};
	char *secret = NULL;
	size_t slen = 0;
	struct berval cred;
	int vers = 3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;

	laps_backend_close(b);
	CU_ASSERT_FATAL(ldap_initialize(&ld, env("LDAP_URI")) == LDAP_SUCCESS);
	(void)ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &vers);
	(void)ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
	(void)ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, env("LDAP_CA"));
	(void)ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
	CU_ASSERT_FATAL(ldap_start_tls_s(ld, NULL, NULL) == LDAP_SUCCESS);
	CU_ASSERT_FATAL(
	    laps_file_read(env("LDAP_READER_SECRET"), 256, LAPS_FILE_SECRET, &secret, &slen) == 0);
	cred.bv_val = secret;
	cred.bv_len = strcspn(secret, "\n");
	CU_ASSERT_FATAL(ldap_sasl_bind_s(ld, env("LDAP_READER_DN"), LDAP_SASL_SIMPLE, &cred, NULL,
					 NULL, NULL) == LDAP_SUCCESS);
	laps_file_free(secret, slen, LAPS_FILE_SECRET);
	CU_ASSERT_FATAL(ldap_search_ext_s(ld, "cn=host1,ou=devices,dc=example,dc=test",
					  LDAP_SCOPE_BASE, "(objectClass=*)",
					  (char **)(uintptr_t)attrs, 0, NULL, NULL, NULL, 1,
					  &res) == LDAP_SUCCESS);
	e = ldap_first_entry(ld, res);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	v = ldap_get_values_len(ld, e, "msLAPS-Password");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	/* {"n":"lapsadmin","t":"<hex FILETIME of 1704200000>","p":"second-Pa55"} */
	CU_ASSERT_EQUAL(
	    v[0]->bv_len,
	    strlen("{\"n\":\"lapsadmin\",\"t\":\"1da3d7aa981a000\",\"p\":\"second-Pa55\"}"));
	CU_ASSERT(memcmp(v[0]->bv_val,
			 "{\"n\":\"lapsadmin\",\"t\":\"1da3d7aa981a000\",\"p\":\"second-Pa55\"}",
			 v[0]->bv_len) == 0);
	ldap_value_free_len(v);
	ldap_msgfree(res);
	ldap_unbind_ext_s(ld, NULL, NULL);
	freecfg(cfg);
}

/* ------------------------------------------------------------------ */
/* Other directories / server states                                    */

static void
t_noschema(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST1);
	struct laps_backend *b = open_as(cfg, LAPS_ROLE_AGENT);
	struct laps_record r;
	struct laps_version none = {""}, nv;

	mkrec(&r, "host1", "lapsadmin", 10, NULL);
	CHECK_RC(laps_backend_write(b, &r, NULL, &none, &nv), LAPS_ERR_SCHEMA);
	CU_ASSERT(strstr(laps_errdetail(), "schema") != NULL);
	laps_backend_close(b);
	freecfg(cfg);
	cfg = mkcfg(LAPS_SCHEMA_MSLAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST1);
	b = open_as(cfg, LAPS_ROLE_AGENT);
	CHECK_RC(laps_backend_write(b, &r, "pw", &none, &nv), LAPS_ERR_SCHEMA);
	laps_backend_close(b);
	laps_record_clear(&r);
	freecfg(cfg);
}

static void
t_killed(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST1);
	struct laps_backend *b = open_as(cfg, LAPS_ROLE_AGENT);
	struct laps_record got;
	struct laps_version v;
	long long pid = 0;
	int rc;

	laps_record_init(&got);
	CU_ASSERT_FATAL(laps_parse_int64(env("SLAPD_PID"), 2, 4194304, &pid) == 0);
	CU_ASSERT_FATAL(kill((pid_t)pid, SIGKILL) == 0);
	usleep(200000);
	rc = laps_backend_read(b, "host1", "lapsadmin", &got, &v);
	CU_ASSERT(rc == LAPS_ERR_UNAVAILABLE);
	CU_ASSERT(laps_err_transient(rc));
	laps_backend_close(b);
	CHECK_RC(open_rc(cfg, LAPS_ROLE_AGENT), LAPS_ERR_UNAVAILABLE);
	CU_ASSERT(strstr(laps_errdetail(), env("LDAP_URI")) != NULL);
	laps_record_clear(&got);
	freecfg(cfg);
}

static void
t_paused(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST1);
	int rc;

	laps_ldap_conf(cfg)->timeout = 1;
	rc = open_rc(cfg, LAPS_ROLE_AGENT);
	CU_ASSERT(rc == LAPS_ERR_TIMEOUT);
	CU_ASSERT(laps_err_transient(rc));
	freecfg(cfg);
}

/* SASL GSSAPI with a host keytab (KRB5_CLIENT_KTNAME set by ldap_gssapi.sh) */
static void
t_gssapi(void)
{
	struct laps_conf *cfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_HOST1);
	struct laps_backend *b;
	struct laps_record r, got;
	struct laps_version none = {""}, nv, v;

	laps_record_init(&got);
	laps_ldap_conf(cfg)->bind = LAPS_BIND_GSSAPI;
	b = open_as(cfg, LAPS_ROLE_AGENT);
	/* a GSSAPI bind still gets its plugin */
	CU_ASSERT(sasl_plugin_mapped("gssapi"));
	/* bound as host1's entry through host/host1.example.test@LAPS.TEST */
	mkrec(&r, "host1", "kerberos", 77, NULL);
	CHECK_RC(laps_backend_write(b, &r, NULL, &none, &nv), 0);
	CHECK_RC(laps_backend_read(b, "host1", "kerberos", &got, &v), 0);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, r.rotation_id);
	(void)snprintf(r.device, sizeof(r.device), "host2");
	CHECK_RC(laps_backend_write(b, &r, NULL, &none, &nv), LAPS_ERR_ACCESS);
	laps_backend_close(b);
	/* a keytab without the principal: authentication fails */
	if (env("LAPS_TEST_BAD_KEYTAB")[0] != '\0') {
		(void)setenv("KRB5_CLIENT_KTNAME", env("LAPS_TEST_BAD_KEYTAB"), 1);
		(void)setenv("KRB5CCNAME", "MEMORY:laps-test-bad", 1);
		CHECK_RC(open_rc(cfg, LAPS_ROLE_AGENT), LAPS_ERR_AUTH);
	}
	laps_record_clear(&r);
	laps_record_clear(&got);
	freecfg(cfg);
}


/* ------------------------------------------------------------------ */
/* The report slot (issue 14)                                           */

/* A config bound as the rootdn (writes any device's entry). */
static struct laps_conf *
root_cfg(enum laps_ldap_schema schema)
{
	struct laps_conf *cfg = mkcfg(schema, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_READER);

	free(laps_ldap_conf(cfg)->bind_dn);
	free(laps_ldap_conf(cfg)->bind_secret_file);
	laps_ldap_conf(cfg)->bind_dn = xstrdup(env("LDAP_ROOT_DN"));
	laps_ldap_conf(cfg)->bind_secret_file = xstrdup(env("LDAP_ROOT_SECRET"));
	return cfg;
}

#define REPORT_MAX 64
struct report_rows {
	struct laps_report_row v[REPORT_MAX];
	size_t n, calls;
	size_t stop_after; /* 0: never stop */
};

static int
collect_row(void *arg, const struct laps_report_row *row)
{
	struct report_rows *r = arg;

	r->calls++;
	if (r->stop_after > 0 && r->calls >= r->stop_after)
		return LAPS_ERR_IO;
	if (r->n < REPORT_MAX)
		r->v[r->n++] = *row;
	return 0;
}

/* The row of device (*count: how many); an empty row when there is none. */
static const struct laps_report_row *
row_of(const struct report_rows *r, const char *device, size_t *count)
{
	static const struct laps_report_row missing;
	const struct laps_report_row *found = &missing;
	size_t i;

	*count = 0;
	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i].device, device) == 0) {
			found = &r->v[i];
			(*count)++;
		}
	return found;
}

/* The server really has a size limit below the number of devices. */
static void
check_plain_search_limited(void)
{
	struct laps_conf *cfg = root_cfg(LAPS_SCHEMA_LAPS);
	LDAP *ld = NULL;
	LDAPMessage *res = NULL;
	char *secret = NULL;
	size_t slen = 0;
	struct berval cred;
	int vers = 3;

	CU_ASSERT_FATAL(ldap_initialize(&ld, env("LDAP_URI")) == LDAP_SUCCESS);
	(void)ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &vers);
	CU_ASSERT_FATAL(laps_file_read(env("LDAP_READER_SECRET"), 256, LAPS_FILE_SECRET, &secret,
				       &slen) == 0);
	cred.bv_val = secret;
	cred.bv_len = strcspn(secret, "\n");
	CU_ASSERT_FATAL(ldap_sasl_bind_s(ld, env("LDAP_READER_DN"), LDAP_SASL_SIMPLE, &cred, NULL,
					 NULL, NULL) == LDAP_SUCCESS);
	laps_file_free(secret, slen, LAPS_FILE_SECRET);
	CU_ASSERT_EQUAL(ldap_search_ext_s(ld, env("LDAP_DEVICES_BASE"), LDAP_SCOPE_SUBTREE,
					  "(objectClass=lapsDevice)", NULL, 0, NULL, NULL, NULL, 0,
					  &res),
			LDAP_SIZELIMIT_EXCEEDED);
	ldap_msgfree(res);
	ldap_unbind_ext_s(ld, NULL, NULL);
	freecfg(cfg);
}

static void
t_report_laps(void)
{
	struct laps_conf *wcfg = root_cfg(LAPS_SCHEMA_LAPS);
	struct laps_conf *rcfg =
	    mkcfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_READER);
	struct laps_backend *w = open_as(wcfg, LAPS_ROLE_AGENT), *b;
	struct report_rows *rows = calloc(1, sizeof(*rows));
	const struct laps_report_row *row;
	struct laps_record r;
	struct laps_version none = {""}, v;
	size_t count;

	CU_ASSERT_FATAL(rows != NULL);
	check_plain_search_limited();
	/* dev00003: pending, seq 7; dev00017: confirmed, expiry overridden;
	 * host2: two accounts */
	mkrec(&r, "dev00003", "lapsadmin", 1000, NULL);
	r.seq = 7;
	CHECK_RC(laps_backend_write(w, &r, NULL, &none, &v), 0);
	laps_record_clear(&r);
	mkrec(&r, "dev00017", "lapsadmin", 2000, NULL);
	CHECK_RC(laps_backend_write(w, &r, NULL, &none, &v), 0);
	CHECK_RC(laps_backend_confirm(w, "dev00017", "lapsadmin", r.rotation_id, 5000), 0);
	CHECK_RC(laps_backend_set_expiry(w, "dev00017", "lapsadmin", 4000), 0);
	laps_record_clear(&r);
	mkrec(&r, "host2", "a1", 10, NULL);
	CHECK_RC(laps_backend_write(w, &r, NULL, &none, &v), 0);
	laps_record_clear(&r);
	mkrec(&r, "host2", "a2", 20, NULL);
	CHECK_RC(laps_backend_write(w, &r, NULL, &none, &v), 0);
	laps_record_clear(&r);
	laps_backend_close(w);

	b = open_as(rcfg, LAPS_ROLE_ADMIN);
	CU_ASSERT(laps_backend_caps(b) & LAPS_BCAP_REPORT);
	CHECK_RC(laps_backend_report(b, collect_row, rows), 0);
	/* 33 devices, host2 twice: 34 rows, past the size limit of 10 */
	CU_ASSERT_EQUAL(rows->n, 34);
	row = row_of(rows, "dev00003", &count);
	CU_ASSERT_EQUAL(count, 1);
	CU_ASSERT(row->has_record);
	CU_ASSERT_STRING_EQUAL(row->account, "lapsadmin");
	CU_ASSERT_EQUAL(row->state, LAPS_STATE_PENDING);
	CU_ASSERT_EQUAL(row->rotated_at, 1000);
	CU_ASSERT_EQUAL(row->expires_at, 1000 + 86400);
	CU_ASSERT_EQUAL(row->seq, 7);
	row = row_of(rows, "dev00017", &count);
	CU_ASSERT_EQUAL(count, 1);
	CU_ASSERT_EQUAL(row->state, LAPS_STATE_CONFIRMED);
	CU_ASSERT_EQUAL(row->expires_at, 4000); /* lapsExpiration wins */
	row = row_of(rows, "host2", &count);
	CU_ASSERT_EQUAL(count, 2);
	row = row_of(rows, "dev00030", &count);
	CU_ASSERT_EQUAL(count, 1);
	CU_ASSERT(!row->has_record);
	CU_ASSERT_STRING_EQUAL(row->account, "");
	row = row_of(rows, "dev00001", &count);
	CU_ASSERT(count == 1 && !row->has_record);

	/* a callback error stops the search and is returned; the handle
	 * stays usable */
	memset(rows, 0, sizeof(*rows));
	rows->stop_after = 15;
	CHECK_RC(laps_backend_report(b, collect_row, rows), LAPS_ERR_IO);
	CU_ASSERT_EQUAL(rows->calls, 15);
	CHECK_RC(laps_backend_read(b, "dev00003", "lapsadmin", &r, &v), 0);
	laps_record_clear(&r);
	laps_backend_close(b);
	free(rows);
	freecfg(wcfg);
	freecfg(rcfg);
}

static void
t_report_ms(void)
{
	static const enum laps_ldap_schema modes[] = {LAPS_SCHEMA_MSLAPS, LAPS_SCHEMA_LEGACY};
	size_t i;

	for (i = 0; i < 2; i++) {
		struct laps_conf *wcfg = root_cfg(modes[i]);
		struct laps_conf *rcfg =
		    mkcfg(modes[i], LAPS_TLS_STARTTLS, env("LDAP_URI"), AS_READER);
		struct laps_backend *w = open_as(wcfg, LAPS_ROLE_ADMIN), *b;
		struct report_rows *rows = calloc(1, sizeof(*rows));
		const struct laps_report_row *row;
		struct laps_record r;
		struct laps_version none = {""}, v;
		const char *dev = i == 0 ? "dev00021" : "dev00022";
		size_t count;

		CU_ASSERT_FATAL(rows != NULL);
		mkrec(&r, dev, "lapsadmin", 1704067200, NULL);
		CHECK_RC(laps_backend_write(w, &r, "Secret-Pa55", &none, &v), 0);
		laps_record_clear(&r);
		laps_backend_close(w);
		b = open_as(rcfg, LAPS_ROLE_ADMIN);
		CHECK_RC(laps_backend_report(b, collect_row, rows), 0);
		CU_ASSERT_EQUAL(rows->n, 33);
		row = row_of(rows, dev, &count);
		CU_ASSERT_EQUAL(count, 1);
		CU_ASSERT(row->has_record);
		CU_ASSERT_EQUAL(row->state, LAPS_STATE_PENDING);
		CU_ASSERT_EQUAL(row->expires_at, 1704067200);
		CU_ASSERT_EQUAL(row->rotated_at, 1704067200);
		CU_ASSERT_STRING_EQUAL(row->account, "lapsadmin");
		row = row_of(rows, "dev00005", &count);
		CU_ASSERT(count == 1 && !row->has_record);
		laps_backend_close(b);
		free(rows);
		freecfg(wcfg);
		freecfg(rcfg);
	}
}

/* ------------------------------------------------------------------ */
/* Hostile servers (ldap_hostile.sh)                                    */

/* A config against the hostile server(s) uris, 2 s timeout. */
static struct laps_conf *
hostile_cfg(enum laps_ldap_schema schema, enum laps_ldap_tls tls, const char *uris)
{
	struct laps_conf *cfg = mkcfg(schema, tls, uris, AS_HOST1);

	laps_ldap_conf(cfg)->timeout = 2;
	return cfg;
}

static char hostile_uri_buf[1024];

/* "ldaps://127.0.0.1:PORT" for the silent server's ldap:// URI. */
static const char *
as_ldaps(const char *uri)
{
	const char *port = strrchr(uri, ':');

	(void)snprintf(hostile_uri_buf, sizeof(hostile_uri_buf), "ldaps://127.0.0.1%s",
		       port ? port : "");
	return hostile_uri_buf;
}

/* StartTLS accepted, then silence: bounded by the timeout, not a spin. */
static void
t_hostile_starttls_silent(void)
{
	struct laps_conf *cfg =
	    hostile_cfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("HOSTILE_STARTTLS_URI"));

	CHECK_RC(open_rc(cfg, LAPS_ROLE_AGENT), LAPS_ERR_TIMEOUT);
	freecfg(cfg);
}

/* An ldaps:// peer that never speaks TLS. */
static void
t_hostile_ldaps_silent(void)
{
	struct laps_conf *cfg =
	    hostile_cfg(LAPS_SCHEMA_LAPS, LAPS_TLS_LDAPS, as_ldaps(env("HOSTILE_SILENT_URI")));

	CHECK_RC(open_rc(cfg, LAPS_ROLE_ADMIN), LAPS_ERR_TIMEOUT);
	freecfg(cfg);
}

/* A server that never answers at all (plain LDAP): the bind is bounded. */
static void
t_hostile_silent_plain(void)
{
	struct laps_conf *cfg =
	    hostile_cfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, env("HOSTILE_SILENT_URI"));

	CHECK_RC(open_rc(cfg, LAPS_ROLE_AGENT), LAPS_ERR_TIMEOUT);
	freecfg(cfg);
}

/* Two hostile URIs: both tried, then LAPS_ERR_TIMEOUT; a hostile one
 * before the real slapd: failover to slapd. */
static void
t_hostile_failover(void)
{
	char uris[2048];
	struct laps_conf *cfg;
	struct laps_backend *b;
	struct laps_record got;
	struct laps_version v;

	(void)snprintf(uris, sizeof(uris), "%s %s", env("HOSTILE_STARTTLS_URI"),
		       env("HOSTILE_SILENT_URI"));
	cfg = hostile_cfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, uris);
	CHECK_RC(open_rc(cfg, LAPS_ROLE_AGENT), LAPS_ERR_TIMEOUT);
	CU_ASSERT(strstr(laps_errdetail(), "all 2 servers failed") != NULL);
	freecfg(cfg);

	(void)snprintf(uris, sizeof(uris), "%s %s", env("HOSTILE_STARTTLS_URI"), env("LDAP_URI"));
	cfg = hostile_cfg(LAPS_SCHEMA_LAPS, LAPS_TLS_STARTTLS, uris);
	b = open_as(cfg, LAPS_ROLE_AGENT);
	laps_record_init(&got);
	CHECK_RC(laps_backend_read(b, "host1", "nobody", &got, &v), LAPS_ERR_NOTFOUND);
	laps_backend_close(b);
	freecfg(cfg);
}

static const enum laps_ldap_schema all_schemas[] = {LAPS_SCHEMA_LAPS, LAPS_SCHEMA_MSLAPS,
						     LAPS_SCHEMA_LEGACY};

/* An entry DN with a NUL byte: a clear error in every schema mode and
 * role, never a crash (ldap_get_dn returns NULL). */
static void
t_hostile_nul_dn(void)
{
	size_t i;
	int role;

	for (i = 0; i < 3; i++) {
		for (role = LAPS_ROLE_AGENT; role <= LAPS_ROLE_ADMIN; role++) {
			struct laps_conf *cfg =
			    hostile_cfg(all_schemas[i], LAPS_TLS_NONE, env("HOSTILE_NULDN_URI"));
			struct laps_backend *b = open_as(cfg, (enum laps_backend_role)role);
			struct laps_record got, r;
			struct laps_version v, none = {""};

			laps_record_init(&got);
			CHECK_RC(laps_backend_read(b, "host1", "lapsadmin", &got, &v),
				 LAPS_ERR_FORMAT);
			CU_ASSERT(strstr(laps_errdetail(), "DN") != NULL);
			mkrec(&r, "host1", "lapsadmin", 100, NULL);
			CHECK_RC(laps_backend_write(b, &r, "pw", &none, &v), LAPS_ERR_FORMAT);
			CHECK_RC(laps_backend_confirm(b, "host1", "lapsadmin", r.rotation_id, 5),
				 LAPS_ERR_FORMAT);
			CHECK_RC(laps_backend_set_expiry(b, "host1", "lapsadmin", 5),
				 LAPS_ERR_FORMAT);
			laps_record_clear(&r);
			laps_backend_close(b);
			freecfg(cfg);
		}
	}
}

/* 16 MiB values (an answer over the message cap) and 256 KiB values (over
 * the value cap): LAPS_ERR_TOOBIG, nothing copied. */
static void
t_hostile_huge_value(void)
{
	size_t i;

	for (i = 0; i < 6; i++) {
		struct laps_conf *cfg =
		    hostile_cfg(all_schemas[i % 3], LAPS_TLS_NONE,
				env(i < 3 ? "HOSTILE_HUGE_URI" : "HOSTILE_BIG_URI"));
		struct laps_backend *b = open_as(cfg, LAPS_ROLE_ADMIN);
		struct laps_record got;
		struct laps_version v;

		laps_record_init(&got);
		CHECK_RC(laps_backend_read(b, "host1", "lapsadmin", &got, &v), LAPS_ERR_TOOBIG);
		laps_record_clear(&got);
		laps_backend_close(b);
		freecfg(cfg);
	}
}

static int
suite_init(void)
{
	const char *t = laps_test_tmpdir();

	(void)snprintf(state_dir, sizeof(state_dir), "%s", t);
	return laps_crypto_init() == 0 ? 0 : 1;
}

static int
suite_clean(void)
{
	laps_test_rmrf(state_dir);
	return 0;
}

static CU_TestInfo main_tests[] = {
    {"laps: write pending, confirm, read, history, set_expiry", t_laps_end_to_end},
    {"laps: history ordered by rotated_at and trimmed", t_laps_history_order_and_trim},
    {"laps: history = 0", t_laps_history_zero},
    {"laps: history ordered and trimmed by seq", t_laps_history_by_seq},
    {"laps: CAS race, exactly one writer wins", t_laps_cas_race},
    {"laps: creation race (assertion control)", t_laps_create_race},
    {"laps: stale expected rotation id is a conflict", t_laps_stale_expected},
    {"simple bind: no SASL plugin loaded", t_no_sasl_plugins},
    {"LDAPS", t_ldaps},
    {"wrong CA refused (StartTLS and LDAPS)", t_wrong_ca},
    {"host name / address checked", t_hostname_checked},
    {"tls = none warns", t_tls_none_warns},
    {"wrong bind secret, unsafe secret file", t_bad_secret},
    {"SASL EXTERNAL with a client certificate", t_external_cert},
    {"SASL EXTERNAL over ldapi", t_external_ldapi},
    {"failover: first URI dead", t_failover},
    {"ACL: other device and outsider refused", t_acl_other_device},
    {"find, ambiguous and explicit DN lookups", t_lookup},
    {"find skips a hostile cn", t_find_untrusted_cn},
    {"mslaps end to end", t_mslaps},
    {"mslaps raw value as Windows LAPS writes it", t_mslaps_raw},
    {"legacy end to end", t_legacy},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo noschema_tests[] = {
    {"missing schema is LAPS_ERR_SCHEMA", t_noschema},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo down_tests[] = {
    {"slapd killed: LAPS_ERR_UNAVAILABLE", t_killed},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo paused_tests[] = {
    {"slapd stopped: LAPS_ERR_TIMEOUT", t_paused},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo gssapi_tests[] = {
    {"SASL GSSAPI with the host keytab", t_gssapi},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo report_tests[] = {
    {"report, schema laps: paged past the size limit", t_report_laps},
    {"report, schemas mslaps and legacy", t_report_ms},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo report_suites[] = {
    {"ldap_report", suite_init, suite_clean, NULL, NULL, report_tests},
    CU_SUITE_INFO_NULL,
};

static CU_TestInfo hostile_tests[] = {
    {"StartTLS accepted, then silence: LAPS_ERR_TIMEOUT", t_hostile_starttls_silent},
    {"ldaps:// peer that never speaks TLS: LAPS_ERR_TIMEOUT", t_hostile_ldaps_silent},
    {"server that never answers: LAPS_ERR_TIMEOUT", t_hostile_silent_plain},
    {"failover past hostile servers", t_hostile_failover},
    {"entry DN with a NUL byte: an error, no crash", t_hostile_nul_dn},
    {"16 MiB and 256 KiB values: LAPS_ERR_TOOBIG", t_hostile_huge_value},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo hostile_suites[] = {
    {"ldap_hostile", suite_init, suite_clean, NULL, NULL, hostile_tests},
    CU_SUITE_INFO_NULL,
};

static CU_SuiteInfo gssapi_suites[] = {
    {"ldap_gssapi", suite_init, suite_clean, NULL, NULL, gssapi_tests},
    CU_SUITE_INFO_NULL,
};

static CU_SuiteInfo main_suites[] = {
    {"ldap", suite_init, suite_clean, NULL, NULL, main_tests},
    CU_SUITE_INFO_NULL,
};
static CU_SuiteInfo noschema_suites[] = {
    {"ldap_noschema", suite_init, suite_clean, NULL, NULL, noschema_tests},
    CU_SUITE_INFO_NULL,
};
static CU_SuiteInfo down_suites[] = {
    {"ldap_down", suite_init, suite_clean, NULL, NULL, down_tests},
    CU_SUITE_INFO_NULL,
};
static CU_SuiteInfo paused_suites[] = {
    {"ldap_paused", suite_init, suite_clean, NULL, NULL, paused_tests},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	const char *mode = env("LDAP_TEST_MODE");

	if (env("LDAP_URI")[0] == '\0') {
		fprintf(stderr,
			"test_ldap: LDAP_URI not set (run tests/integration/ldap_backend.sh)\n");
		return 77;
	}
	laps_test_random_deterministic((uint64_t)getpid());
	if (strcmp(mode, "noschema") == 0)
		return laps_test_main(argc, argv, noschema_suites);
	if (strcmp(mode, "down") == 0)
		return laps_test_main(argc, argv, down_suites);
	if (strcmp(mode, "paused") == 0)
		return laps_test_main(argc, argv, paused_suites);
	if (strcmp(mode, "gssapi") == 0)
		return laps_test_main(argc, argv, gssapi_suites);
	if (strcmp(mode, "report") == 0)
		return laps_test_main(argc, argv, report_suites);
	if (strcmp(mode, "hostile") == 0)
		return laps_test_main(argc, argv, hostile_suites);
	return laps_test_main(argc, argv, main_suites);
}
