/*
 * test_agent_rotate.c — the rotation state machine against a backend that
 * fails on command (a wrapper around the file backend), with the shadow
 * method on an alternate root.  After every scenario the invariant is
 * checked by decrypting the escrow with the admin key and comparing with
 * the shadow hash (crypt_r).
 */
#include "config.h"

#include <CUnit/CUnit.h>
#include <crypt.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_schema.h"
#include "agent/account.h"
#include "agent/journal.h"
#include "agent/lock.h"
#include "agent/rotate.h"
#include "agent/state.h"
#include "agent/status.h"
#include "backends/file_backend.h"
#include "escrow/backend.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/keys.h"
#include "escrow/marker.h"
#include "escrow/seal.h"
#include "escrow/secret.h"
#include "tests/unit/testutil.h"
#include "agent/agent_conf.h"
#include "backends/backend_conf.h"
#include "escrow/escrow_conf.h"

/* Everything laps.conf holds for the agent. */
static const struct laps_conf_schema test_schema = {
    {laps_agent_sections, laps_escrow_sections, laps_backend_sections}, NULL, 0};

/* the suite's temporary directory (laps_test_suite_init, from setup) */
static const char *const dir = laps_test_dir;
static struct laps_privkey admin;

/* ---- a backend that fails on command ---- */
static struct {
	int read_rc, write_rc, confirm_rc;
	int cleartext;
	unsigned writes, confirms;
	char last_password[LAPS_PASSWORD_MAX + 1];
} mock;

static int
m_open(const struct laps_conf *cfg, enum laps_backend_role role, const struct laps_backend_env *env,
       void **ctx)
{
	return laps_backend_file.open(cfg, role, env, ctx);
}
static void
m_close(void *ctx)
{
	laps_backend_file.close(ctx);
}
static int
m_read(void *ctx, const char *d, const char *a, struct laps_record *out, struct laps_version *v)
{
	if (mock.read_rc != 0)
		return laps_seterr(mock.read_rc, "mock: read refused");
	return laps_backend_file.read(ctx, d, a, out, v);
}
static int
m_write(void *ctx, const struct laps_record *rec, const char *pw, const struct laps_version *exp,
	struct laps_version *nv)
{
	mock.writes++;
	mock.last_password[0] = '\0';
	if (pw != NULL)
		snprintf(mock.last_password, sizeof mock.last_password, "%s", pw);
	if (mock.write_rc != 0)
		return laps_seterr(mock.write_rc, "mock: write refused");
	return laps_backend_file.write(ctx, rec, pw, exp, nv);
}
static int
m_confirm(void *ctx, const char *d, const char *a, const char *id, int64_t exp)
{
	mock.confirms++;
	if (mock.confirm_rc != 0)
		return laps_seterr(mock.confirm_rc, "mock: confirm refused");
	return laps_backend_file.confirm(ctx, d, a, id, exp);
}
static int
m_history(void *ctx, const char *d, const char *a, size_t n, struct laps_record_list *out)
{
	return laps_backend_file.history(ctx, d, a, n, out);
}
static int
m_set_expiry(void *ctx, const char *d, const char *a, int64_t when)
{
	return laps_backend_file.set_expiry(ctx, d, a, when);
}
static unsigned
m_caps(void *ctx)
{
	return (laps_backend_file.caps & ~LAPS_BCAP_CLEARTEXT) |
	       (mock.cleartext ? LAPS_BCAP_CLEARTEXT : 0);
}

static const struct laps_backend_ops mock_ops = {
    .name = "mock",
    .caps = LAPS_BCAP_HISTORY | LAPS_BCAP_EXPIRY,
    .open = m_open,
    .close = m_close,
    .read = m_read,
    .write = m_write,
    .confirm = m_confirm,
    .history = m_history,
    .set_expiry = m_set_expiry,
    .caps_of = m_caps,
};

/* ---- fixtures ---- */

static const char shadow_txt[] = "root:*:19000:0:99999:7:::\n"
				 "lapsadmin:*:19001:0:99999:7:::\n"
				 "admin2:*:19001:0:99999:7:::\n";
static const char passwd_txt[] = "root:x:0:0::/root:/bin/sh\n"
				 "lapsadmin:x:1001:1001::/:/bin/sh\n"
				 "admin2:x:1002:1002::/:/bin/sh\n";

struct fixture {
	char base[4200];
	struct laps_conf cfg;
	struct laps_agent agent;
	struct laps_backend *admin_b;
};

static int
setup(void)
{
	struct laps_pubkey pub;
	char path[4200], line[LAPS_PUBKEY_LINE_MAX];

	if (laps_test_suite_init() != 0 || laps_key_generate(&admin, "test") != 0)
		return -1;
	laps_pubkey_from_privkey(&pub, &admin);
	if (laps_pubkey_format(&pub, line, sizeof line) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/admin.pub", dir);
	return laps_test_write_file(path, line, 0644);
}

static int
teardown(void)
{
	laps_privkey_clear(&admin);
	return laps_test_suite_cleanup();
}

/* extra: more laps.conf lines (sections after [file]) */
static void
fx_init_conf(struct fixture *f, const char *name, const char *accounts, const char *extra)
{
	char p[4400];
	char cfgtxt[32768];

	memset(&mock, 0, sizeof mock);
	snprintf(f->base, sizeof f->base, "%s/%s", dir, name);
	snprintf(p, sizeof p, "%s/root/etc", f->base);
	CU_ASSERT_EQUAL_FATAL(laps_mkdir_p(p, 0755), 0);
	snprintf(p, sizeof p, "%s/root/etc/passwd", f->base);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(p, passwd_txt, 0644), 0);
	snprintf(p, sizeof p, "%s/root/etc/shadow", f->base);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(p, shadow_txt, 0640), 0);
	snprintf(cfgtxt, sizeof cfgtxt,
		 "[agent]\naccounts = %s\nroot = %s/root\nstate_dir = %s/state\nhash = sha512\n"
		 "hash_cost = 1000\n[escrow]\nbackend = file\nrecipients = %s/admin.pub\n"
		 "device = host1\n[file]\ndir = %s/escrow\n%s",
		 accounts, f->base, f->base, dir, f->base, extra);
	CU_ASSERT_EQUAL_FATAL(laps_conf_init(&f->cfg, &test_schema), 0);
	CU_ASSERT_EQUAL_FATAL(laps_conf_parse(&f->cfg, "test.conf", cfgtxt, strlen(cfgtxt)), 0);
	CU_ASSERT_EQUAL_FATAL(laps_agent_validate(&f->cfg), 0);
	CU_ASSERT_EQUAL_FATAL(laps_agent_init(&f->agent, &f->cfg, &mock_ops), 0);
	f->agent.lock_wait = 0;
	CU_ASSERT_EQUAL_FATAL(
	    laps_backend_open(&laps_backend_file, &f->cfg, LAPS_ROLE_ADMIN, NULL, &f->admin_b), 0);
}

static void
fx_init(struct fixture *f, const char *name, const char *accounts)
{
	fx_init_conf(f, name, accounts, "");
}

static void
fx_free(struct fixture *f)
{
	laps_backend_close(f->admin_b);
	laps_agent_free(&f->agent);
	laps_conf_free(&f->cfg);
}

static char *
shadow_now(struct fixture *f)
{
	char p[4400], *buf = NULL;
	size_t len;

	snprintf(p, sizeof p, "%s/root/etc/shadow", f->base);
	if (laps_file_read(p, 1 << 20, 0, &buf, &len) != 0)
		return NULL;
	return buf;
}

static int
pw_matches(struct fixture *f, const char *account, const char *pw)
{
	struct laps_shadow_entry e;
	struct crypt_data cd;
	char *s = shadow_now(f);
	int ok = 0;

	if (s != NULL && laps_shadow_find(s, strlen(s), account, &e) == 0) {
		memset(&cd, 0, sizeof cd);
		ok = strcmp(crypt_r(pw, e.hash, &cd), e.hash) == 0;
	}
	free(s);
	return ok;
}

/* 2 = current matches, 1 = pending current doesn't but previous does, 0 = broken */
static int
invariant(struct fixture *f, const char *account, enum laps_record_state *state)
{
	struct laps_record r;
	struct laps_record_list h = {NULL, 0};
	struct laps_seal_ad ad;
	char *pw = NULL;
	size_t n;
	int res = 0;

	laps_record_init(&r);
	if (laps_backend_read(f->admin_b, "host1", account, &r, NULL) != 0)
		goto out;
	if (state != NULL)
		*state = r.state;
	laps_seal_ad_from_record(&ad, &r);
	if (laps_seal_open(&admin, &ad, r.envelope, r.envelope_len, &pw, &n) == 0 &&
	    pw_matches(f, account, pw)) {
		res = 2;
		goto out;
	}
	laps_secret_free(pw);
	pw = NULL;
	if (r.state != LAPS_STATE_PENDING ||
	    laps_backend_history(f->admin_b, "host1", account, 1, &h) != 0 || h.n == 0)
		goto out;
	laps_seal_ad_from_record(&ad, &h.v[0]);
	if (laps_seal_open(&admin, &ad, h.v[0].envelope, h.v[0].envelope_len, &pw, &n) == 0 &&
	    pw_matches(f, account, pw))
		res = 1;
out:
	laps_secret_free(pw);
	laps_record_list_free(&h);
	laps_record_clear(&r);
	return res;
}

static int
journal_phase(struct fixture *f, const char *account)
{
	struct laps_journal j;
	char p[4400];
	int rc, ph;

	snprintf(p, sizeof p, "%s/state/journal.%s", f->base, account);
	laps_journal_init(&j);
	rc = laps_journal_load(p, &j);
	ph = rc == 0 ? (int)j.phase : -1;
	laps_journal_clear(&j);
	return ph;
}

/* ---- tests ---- */

static void
test_rotate_and_nothing_due(void)
{
	struct fixture f;
	enum laps_record_state st;
	char *before;

	fx_init(&f, "basic", "lapsadmin admin2");
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), 0);
	CU_ASSERT_EQUAL(f.agent.rotated, 2);
	CU_ASSERT_EQUAL(invariant(&f, "lapsadmin", &st), 2);
	CU_ASSERT_EQUAL(st, LAPS_STATE_CONFIRMED);
	CU_ASSERT_EQUAL(invariant(&f, "admin2", &st), 2);
	CU_ASSERT_EQUAL(journal_phase(&f, "lapsadmin"), -1);
	/* nothing due: no write, no change */
	before = shadow_now(&f);
	mock.writes = 0;
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), 0);
	CU_ASSERT_EQUAL(f.agent.rotated, 0);
	CU_ASSERT_EQUAL(mock.writes, 0);
	{
		char *after = shadow_now(&f);

		CU_ASSERT_STRING_EQUAL(before, after);
		free(after);
	}
	free(before);
	/* forced, one account only */
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, LAPS_RUN_FORCE, "admin2"), 0);
	CU_ASSERT_EQUAL(f.agent.rotated, 1);
	CU_ASSERT_EQUAL(mock.writes, 1);
	CU_ASSERT_EQUAL(invariant(&f, "admin2", NULL), 2);
	/* format v2: each rotation's seq is the previous one's + 1 */
	{
		struct laps_record_list h = {NULL, 0};
		struct laps_record r;

		laps_record_init(&r);
		CU_ASSERT_EQUAL(laps_backend_read(f.admin_b, "host1", "admin2", &r, NULL), 0);
		CU_ASSERT_EQUAL(r.seq, 2);
		CU_ASSERT_EQUAL(laps_backend_history(f.admin_b, "host1", "admin2", 5, &h), 0);
		CU_ASSERT(h.n == 1 && h.v[0].seq == 1);
		laps_record_list_free(&h);
		laps_record_clear(&r);
	}
	fx_free(&f);
}

static void
test_escrow_failures_leave_local_untouched(void)
{
	static const int codes[] = {LAPS_ERR_UNAVAILABLE, LAPS_ERR_CONFLICT, LAPS_ERR_ACCESS};
	struct fixture f;
	char *before, *after;
	size_t i;

	fx_init(&f, "escrowfail", "lapsadmin");
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), 0);
	for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		before = shadow_now(&f);
		mock.write_rc = codes[i];
		CU_ASSERT_EQUAL(laps_agent_run(&f.agent, LAPS_RUN_FORCE, NULL), codes[i]);
		CU_ASSERT_EQUAL(f.agent.stage, LAPS_STAGE_ESCROW);
		after = shadow_now(&f);
		CU_ASSERT_STRING_EQUAL(before, after);
		CU_ASSERT_EQUAL(journal_phase(&f, "lapsadmin"), -1);
		CU_ASSERT_EQUAL(invariant(&f, "lapsadmin", NULL), 2);
		free(before);
		free(after);
	}
	/* unreachable on read */
	mock.write_rc = 0;
	mock.read_rc = LAPS_ERR_TIMEOUT;
	before = shadow_now(&f);
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), LAPS_ERR_TIMEOUT);
	CU_ASSERT_EQUAL(f.agent.stage, LAPS_STAGE_ESCROW);
	after = shadow_now(&f);
	CU_ASSERT_STRING_EQUAL(before, after);
	free(before);
	free(after);
	fx_free(&f);
}

static void
test_confirm_failure_then_recovery(void)
{
	struct fixture f;
	enum laps_record_state st;

	fx_init(&f, "confirmfail", "lapsadmin");
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), 0);
	mock.confirm_rc = LAPS_ERR_UNAVAILABLE;
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, LAPS_RUN_FORCE, NULL), LAPS_ERR_UNAVAILABLE);
	CU_ASSERT_EQUAL(f.agent.stage, LAPS_STAGE_ESCROW);
	/* the account has P', the pending record holds P' */
	CU_ASSERT_EQUAL(invariant(&f, "lapsadmin", &st), 2);
	CU_ASSERT_EQUAL(st, LAPS_STATE_PENDING);
	CU_ASSERT_EQUAL(journal_phase(&f, "lapsadmin"), LAPS_JOURNAL_ESCROWED);
	/* backend unreachable during recovery: journal kept, nothing changes */
	mock.confirm_rc = 0;
	mock.read_rc = LAPS_ERR_UNAVAILABLE;
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), LAPS_ERR_UNAVAILABLE);
	CU_ASSERT_EQUAL(f.agent.stage, LAPS_STAGE_ESCROW);
	CU_ASSERT_EQUAL(journal_phase(&f, "lapsadmin"), LAPS_JOURNAL_ESCROWED);
	/* reachable again: the recovery finishes the same rotation */
	mock.read_rc = 0;
	mock.writes = 0;
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), 0);
	CU_ASSERT_EQUAL(mock.writes, 0); /* no new escrow write: same rotation */
	CU_ASSERT_EQUAL(invariant(&f, "lapsadmin", &st), 2);
	CU_ASSERT_EQUAL(st, LAPS_STATE_CONFIRMED);
	CU_ASSERT_EQUAL(journal_phase(&f, "lapsadmin"), -1);
	fx_free(&f);
}

static void
test_stale_journal_dropped(void)
{
	struct fixture f;
	struct laps_journal j;
	char p[4400], *before, *after;

	fx_init(&f, "stale", "lapsadmin");
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), 0);
	/* a journal whose rotation never reached the escrow */
	laps_journal_init(&j);
	snprintf(j.account, sizeof j.account, "lapsadmin");
	snprintf(j.device, sizeof j.device, "host1");
	j.uid = 1001;
	laps_record_new_rotation_id(j.rotation_id);
	j.rotated_at = 1700000000;
	j.phase = LAPS_JOURNAL_ESCROWING;
	snprintf(j.reason, sizeof j.reason, "forced");
	j.password = laps_secret_strdup("never-escrowed-pw");
	j.pwlen = strlen(j.password);
	snprintf(p, sizeof p, "%s/state/journal.lapsadmin", f.base);
	CU_ASSERT_EQUAL_FATAL(laps_journal_store(p, &j), 0);
	before = shadow_now(&f);
	mock.writes = 0;
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), 0);
	after = shadow_now(&f);
	CU_ASSERT_EQUAL(journal_phase(&f, "lapsadmin"), -1);
	CU_ASSERT_STRING_EQUAL(before, after); /* nothing due afterwards */
	CU_ASSERT_FALSE(pw_matches(&f, "lapsadmin", "never-escrowed-pw"));
	CU_ASSERT_EQUAL(invariant(&f, "lapsadmin", NULL), 2);
	free(before);
	free(after);
	laps_journal_clear(&j);
	fx_free(&f);
}

static void
test_local_failure_keeps_pending(void)
{
	struct fixture f;
	enum laps_record_state st;
	char p[4400];

	fx_init(&f, "localfail", "lapsadmin");
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), 0);
	snprintf(p, sizeof p, "%s/root/etc/shadow+", f.base);
	CU_ASSERT_EQUAL_FATAL(mkdir(p, 0700), 0); /* shadow cannot be replaced */
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, LAPS_RUN_FORCE, NULL), LAPS_ERR_IO);
	CU_ASSERT_EQUAL(f.agent.stage, LAPS_STAGE_LOCAL);
	CU_ASSERT_EQUAL(invariant(&f, "lapsadmin", &st), 1); /* pending + previous */
	CU_ASSERT_EQUAL(st, LAPS_STATE_PENDING);
	CU_ASSERT_EQUAL(journal_phase(&f, "lapsadmin"), LAPS_JOURNAL_ESCROWED);
	rmdir(p);
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), 0);
	CU_ASSERT_EQUAL(invariant(&f, "lapsadmin", &st), 2);
	CU_ASSERT_EQUAL(st, LAPS_STATE_CONFIRMED);
	fx_free(&f);
}

static void
test_cleartext_backend_gets_password(void)
{
	struct fixture f;
	struct laps_record r;
	struct laps_seal_ad ad;
	char *pw = NULL;
	size_t n;

	fx_init(&f, "cleartext", "lapsadmin");
	mock.cleartext = 1;
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), 0);
	CU_ASSERT_NOT_EQUAL(mock.last_password[0], '\0');
	CU_ASSERT_TRUE(pw_matches(&f, "lapsadmin", mock.last_password));
	laps_record_init(&r);
	CU_ASSERT_EQUAL_FATAL(laps_backend_read(f.admin_b, "host1", "lapsadmin", &r, NULL), 0);
	laps_seal_ad_from_record(&ad, &r);
	CU_ASSERT_EQUAL(laps_seal_open(&admin, &ad, r.envelope, r.envelope_len, &pw, &n), 0);
	CU_ASSERT_STRING_EQUAL(pw, mock.last_password);
	laps_secret_free(pw);
	laps_record_clear(&r);
	/* a sealed-only backend never sees the clear text */
	mock.cleartext = 0;
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, LAPS_RUN_FORCE, NULL), 0);
	CU_ASSERT_EQUAL(mock.last_password[0], '\0');
	fx_free(&f);
}

static int
fd_all_zero(int fd)
{
	unsigned char b[512];
	ssize_t n, i;
	int zero = 1, any = 0;

	if (lseek(fd, 0, SEEK_SET) != 0)
		return 0;
	while ((n = read(fd, b, sizeof b)) > 0) {
		any = 1;
		for (i = 0; i < n; i++)
			zero &= b[i] == 0;
	}
	return any && zero;
}

/* issue 16.7: a run killed while replacing the journal leaves
 * journal.<account>.tmp.XXXXXXXX holding P'; the next run scrubs and
 * removes it, and leaves alone what only looks like one. */
static void
test_stale_journal_temporaries_removed(void)
{
	struct fixture f;
	struct laps_journal j;
	char tmp[4400], other[4400], foreign[4400];
	int fd;

	fx_init(&f, "jtemps", "lapsadmin");
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), 0);
	laps_journal_init(&j);
	snprintf(j.account, sizeof j.account, "lapsadmin");
	snprintf(j.device, sizeof j.device, "host1");
	j.uid = 1001;
	laps_record_new_rotation_id(j.rotation_id);
	j.rotated_at = 1700000000;
	j.phase = LAPS_JOURNAL_ESCROWED;
	snprintf(j.reason, sizeof j.reason, "forced");
	j.password = laps_secret_strdup("left-behind-P4ss");
	j.pwlen = strlen(j.password);
	/* what laps_file_write_atomic leaves when killed before its rename */
	snprintf(tmp, sizeof tmp, "%s/state/journal.lapsadmin.tmp.0badf00d", f.base);
	CU_ASSERT_EQUAL_FATAL(laps_journal_store(tmp, &j), 0);
	fd = open(tmp, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FALSE(fd_all_zero(fd));
	/* not a temporary's name: kept */
	snprintf(other, sizeof other, "%s/state/journal.lapsadmin.tmp.0badf00", f.base);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(other, "x", 0600), 0);
	/* the complete journal of an account named like a temporary: kept */
	snprintf(j.account, sizeof j.account, "lapsadmin.tmp.12345678");
	snprintf(foreign, sizeof foreign, "%s/state/journal.lapsadmin.tmp.12345678", f.base);
	CU_ASSERT_EQUAL_FATAL(laps_journal_store(foreign, &j), 0);

	mock.writes = 0;
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), 0);
	CU_ASSERT_EQUAL(access(tmp, F_OK), -1);
	CU_ASSERT_TRUE(fd_all_zero(fd)); /* overwritten before it was unlinked */
	CU_ASSERT_EQUAL(access(other, F_OK), 0);
	CU_ASSERT_EQUAL(access(foreign, F_OK), 0);
	CU_ASSERT_EQUAL(mock.writes, 0); /* nothing else happened */
	CU_ASSERT_EQUAL(invariant(&f, "lapsadmin", NULL), 2);
	close(fd);
	laps_journal_clear(&j);
	fx_free(&f);
}

/* Backdate the last rotation in the state file and plant a usage marker in
 * used/lapsadmin naming `owner`, opened after that rotation and more than
 * the post-auth delay (1h) ago. */
static void
plant_old_use(struct fixture *f, const char *owner)
{
	struct laps_agent_state st;
	struct laps_marker m;
	char p[4400];
	int64_t now = (int64_t)time(NULL);

	snprintf(p, sizeof p, "%s/state/state.lapsadmin", f->base);
	CU_ASSERT_EQUAL_FATAL(laps_state_load(p, "lapsadmin", &st), 0);
	st.rotated_at = now - 7200;
	CU_ASSERT_EQUAL_FATAL(laps_state_store(p, &st), 0);
	memset(&m, 0, sizeof m);
	snprintf(m.account, sizeof m.account, "%s", owner);
	m.uid = 1001;
	m.opened = now - 5000;
	snprintf(m.service, sizeof m.service, "sshd");
	snprintf(p, sizeof p, "%s/state/used", f->base);
	CU_ASSERT_EQUAL_FATAL(laps_mkdir_p(p, 0700), 0);
	snprintf(p, sizeof p, "%s/state/used/lapsadmin", f->base);
	CU_ASSERT_EQUAL_FATAL(laps_marker_store(p, &m), 0);
}

/* issue 16.14: a marker in used/lapsadmin whose account= names another
 * account is not a use of lapsadmin (rotate.c compares the two). */
static void
test_foreign_marker_ignored(void)
{
	struct fixture f;

	fx_init_conf(&f, "foreignmarker", "lapsadmin admin2", "[post-auth]\ndelay = 1h\n");
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), 0);
	CU_ASSERT_EQUAL(f.agent.rotated, 2);
	plant_old_use(&f, "admin2");
	mock.writes = 0;
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), 0);
	CU_ASSERT_EQUAL(f.agent.rotated, 0);
	CU_ASSERT_EQUAL(mock.writes, 0);
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, LAPS_RUN_POSTAUTH_ONLY, NULL), 0);
	CU_ASSERT_EQUAL(f.agent.rotated, 0);
	CU_ASSERT_EQUAL(mock.writes, 0);
	/* the control: the same marker naming lapsadmin is a use, and rotates */
	plant_old_use(&f, "lapsadmin");
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, LAPS_RUN_POSTAUTH_ONLY, NULL), 0);
	CU_ASSERT_EQUAL(f.agent.rotated, 1);
	CU_ASSERT_EQUAL(mock.writes, 1);
	CU_ASSERT_EQUAL(invariant(&f, "lapsadmin", NULL), 2);
	fx_free(&f);
}

static void
set_shadow_line(struct fixture *f, const char *line)
{
	char p[4400], txt[1024];

	snprintf(txt, sizeof txt, "root:*:19000:0:99999:7:::\n%s\nadmin2:*:19001:0:99999:7:::\n",
		 line);
	snprintf(p, sizeof p, "%s/root/etc/shadow", f->base);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(p, txt, 0640), 0);
}

/* issue 16.11: an empty password field.  `lapsadmin:` alone passed the
 * pre-escrow check and was refused at set time, leaving a pending record
 * retried every run; now decided before anything is escrowed.  A
 * well-formed line with an empty password (a passwordless account) is
 * rotated: it gets a managed password. */
static void
test_empty_password_field(void)
{
	struct fixture f;
	struct laps_shadow_entry e;
	enum laps_record_state st;
	char *s;

	fx_init(&f, "emptypw", "lapsadmin");
	set_shadow_line(&f, "lapsadmin:");
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(f.agent.stage, LAPS_STAGE_LOCAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "fewer than 3 fields"));
	CU_ASSERT_EQUAL(mock.writes, 0); /* nothing escrowed */
	CU_ASSERT_EQUAL(journal_phase(&f, "lapsadmin"), -1);
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(mock.writes, 0); /* and not on the next run either */
	s = shadow_now(&f);
	CU_ASSERT_PTR_NOT_NULL(s != NULL ? strstr(s, "\nlapsadmin:\n") : NULL);
	free(s);

	set_shadow_line(&f, "lapsadmin::19001:0:99999:7:::");
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), 0);
	CU_ASSERT_EQUAL(mock.writes, 1);
	CU_ASSERT_EQUAL(invariant(&f, "lapsadmin", &st), 2);
	CU_ASSERT_EQUAL(st, LAPS_STATE_CONFIRMED);
	s = shadow_now(&f);
	CU_ASSERT_EQUAL(s != NULL ? laps_shadow_find(s, strlen(s), "lapsadmin", &e) : -1, 0);
	CU_ASSERT_EQUAL(strncmp(e.hash, "$6$", 3), 0);
	free(s);
	fx_free(&f);
}

/* status: one gathered result, rendered by the text and the JSON printer
 * (issue 9.6); a journal's password never reaches either. */
static void
test_status_gather_then_print(void)
{
	struct fixture f;
	struct laps_status *st = calloc(1, sizeof *st);
	struct laps_journal j;
	json_object *doc = NULL, *acc, *v;
	char *buf = NULL, p[4400];
	size_t len = 0;
	FILE *mf;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	fx_init(&f, "status", "lapsadmin admin2");
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, LAPS_RUN_FORCE, "lapsadmin"), 0);
	/* admin2: a journal in flight (its password must not be printed) */
	laps_journal_init(&j);
	snprintf(j.account, sizeof j.account, "admin2");
	snprintf(j.device, sizeof j.device, "host1");
	laps_record_new_rotation_id(j.rotation_id);
	j.rotated_at = 1700000000;
	snprintf(j.reason, sizeof j.reason, "forced");
	j.password = laps_secret_strdup("Never-Printed-9");
	j.pwlen = strlen(j.password);
	snprintf(p, sizeof p, "%s/state/journal.admin2", f.base);
	CU_ASSERT_EQUAL_FATAL(laps_journal_store(p, &j), 0);

	laps_status_gather(&f.agent, &f.cfg, st);
	CU_ASSERT_STRING_EQUAL(st->device, "host1");
	CU_ASSERT_TRUE(st->reachable);
	CU_ASSERT_EQUAL_FATAL(st->n, 2);
	CU_ASSERT_TRUE(st->accounts[0].have_state && st->accounts[0].have_record);
	CU_ASSERT_STRING_EQUAL(st->accounts[0].state.rotation_id,
			       st->accounts[0].record_rotation_id);
	CU_ASSERT_EQUAL(st->accounts[0].record_state, LAPS_STATE_CONFIRMED);
	CU_ASSERT_FALSE(st->accounts[1].have_record);
	CU_ASSERT_TRUE(st->accounts[1].have_journal);
	CU_ASSERT_STRING_EQUAL(st->accounts[1].journal_rotation_id, j.rotation_id);

	CU_ASSERT_PTR_NOT_NULL_FATAL(mf = open_memstream(&buf, &len));
	CU_ASSERT_EQUAL(laps_status_print_text(st, mf), 0);
	fclose(mf);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "account: lapsadmin\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "  escrow (backend): confirmed, rotated "));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "account: admin2\n  last rotation (state file): never\n"
					   "  escrow (backend): no record\n  pending journal: phase "
					   "escrowing, rotation "));
	CU_ASSERT_PTR_NULL(strstr(buf, "Never-Printed-9"));
	free(buf);
	buf = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mf = open_memstream(&buf, &len));
	CU_ASSERT_EQUAL(laps_status_print_json(st, mf), 0);
	fclose(mf);
	CU_ASSERT_PTR_NULL(strstr(buf, "Never-Printed-9"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc = json_tokener_parse(buf));
	CU_ASSERT_TRUE(json_object_object_get_ex(doc, "accounts", &v) &&
		       json_object_array_length(v) == 2);
	acc = json_object_array_get_idx(v, 0);
	CU_ASSERT_TRUE(json_object_object_get_ex(acc, "record_state", &v) &&
		       strcmp(json_object_get_string(v), "confirmed") == 0);
	CU_ASSERT_TRUE(json_object_object_get_ex(acc, "pending_journal", &v) && v == NULL);
	json_object_object_get_ex(doc, "accounts", &v);
	acc = json_object_array_get_idx(v, 1);
	CU_ASSERT_TRUE(json_object_object_get_ex(acc, "pending_journal", &v) &&
		       strcmp(json_object_get_string(v), "escrowing") == 0);
	CU_ASSERT_TRUE(json_object_object_get_ex(acc, "record_state", &v) &&
		       strcmp(json_object_get_string(v), "none") == 0);
	json_object_put(doc);
	free(buf);
	free(st);
	unlink(p);
	laps_journal_clear(&j);
	fx_free(&f);
}

static void
test_lock_held(void)
{
	struct fixture f;
	char sd[4400];
	int fd = -1;

	fx_init(&f, "lock", "lapsadmin");
	snprintf(sd, sizeof sd, "%s/state", f.base);
	CU_ASSERT_EQUAL_FATAL(laps_lock_acquire(sd, 0, &fd), 0);
	CU_ASSERT_EQUAL(laps_agent_run(&f.agent, 0, NULL), LAPS_ERR_LOCKED);
	CU_ASSERT_EQUAL(f.agent.stage, LAPS_STAGE_LOCK);
	CU_ASSERT_EQUAL(mock.writes, 0);
	laps_lock_release(fd);
	fx_free(&f);
}

int
main(int argc, char **argv)
{
	static CU_TestInfo tests[] = {
	    {"rotate, nothing due, forced", test_rotate_and_nothing_due},
	    {"escrow failures leave local untouched", test_escrow_failures_leave_local_untouched},
	    {"confirm failure, recovery", test_confirm_failure_then_recovery},
	    {"stale journal dropped", test_stale_journal_dropped},
	    {"local failure keeps pending", test_local_failure_keeps_pending},
	    {"cleartext backends get the password", test_cleartext_backend_gets_password},
	    {"run lock held", test_lock_held},
	    {"stale journal temporaries removed", test_stale_journal_temporaries_removed},
	    {"foreign usage marker ignored", test_foreign_marker_ignored},
	    {"empty password field", test_empty_password_field},
	    {"status: gather, then print", test_status_gather_then_print},
	    CU_TEST_INFO_NULL,
	};
	static CU_SuiteInfo suites[] = {
	    {"agent_rotate", setup, teardown, NULL, NULL, tests},
	    CU_SUITE_INFO_NULL,
	};

	return laps_test_main(argc, argv, suites);
}
