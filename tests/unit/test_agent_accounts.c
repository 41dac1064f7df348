/*
 * test_agent_accounts.c — locked, fresh and expired accounts
 * (agent/lockstate.c, the shadow method's set) and automatic account
 * creation (agent/account_create.c) on alternate roots: every field of
 * the new entries, every other byte of passwd/shadow/group/gshadow kept,
 * a second run changes nothing.
 */
#include "config.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_schema.h"
#include "agent/account.h"
#include "agent/account_create.h"
#include "agent/lockstate.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "tests/unit/testutil.h"
#include "agent/agent_conf.h"

static const char *const dir = laps_test_dir;

static const char passwd_txt[] = "root:x:0:0:root:/root:/bin/bash\n"
				 "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
				 "sysuser:x:999:999::/nonexistent:/usr/sbin/nologin\n"
				 "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n"
				 "fresh1:x:1001:1001::/home/f1:/bin/bash\n"
				 "fresh2:x:1002:1002::/home/f2:/bin/bash\n"
				 "fresh3:x:1003:1003::/home/f3:/bin/bash\n"
				 "fresh4:x:1004:1004::/home/f4:/bin/bash\n"
				 "locked:x:1005:1005::/home/locked:/bin/bash\n"
				 "locked2:x:1006:1006::/home/locked2:/bin/bash\n"
				 "expired:x:1007:1007::/home/expired:/bin/bash\n"
				 "toor:x:0:0::/root:/bin/sh\n";

static const char shadow_txt[] = "root:$6$r$roothash:19000:0:99999:7:::\n"
				 "daemon:*:19000:0:99999:7:::\n"
				 "sysuser:!:19000::::::\n"
				 "alice:$6$a$alicehash:19001:0:99999:7:::\n"
				 "fresh1:!:19002:0:99999:7:::\n"
				 "fresh2:!!:19003:0:99999:7:::\n"
				 "fresh3:*:19004:0:99999:7:::\n"
				 "fresh4:!*:19005:0:99999:7:::\n"
				 "locked:!$6$l$lockedhash:19006:0:99999:7:::\n"
				 "locked2:!!$6$l$lockedhash:19006:0:99999:7:::\n"
				 "expired:$6$e$expiredhash:19007:0:99999:7::1:\n"
				 "toor:$6$t$toorhash:19008:0:99999:7:::\n";

static const char group_txt[] = "root:x:0:\n"
				"daemon:x:1:\n"
				"sudo:x:27:alice\n"
				"wheel:x:10:\n"
				"sysuser:x:999:\n"
				"alice:x:1000:\n";

static const char gshadow_txt[] = "root:*::\n"
				  "daemon:*::\n"
				  "sudo:*::alice\n"
				  "wheel:*::\n"
				  "sysuser:!::\n"
				  "alice:!::\n";

static const char login_defs_txt[] = "# login.defs\n"
				     "PASS_MAX_DAYS\t90\n"
				     "PASS_MIN_DAYS 1\n"
				     "PASS_WARN_AGE   14\n"
				     "SYS_UID_MIN 100\n"
				     "SYS_UID_MAX 999\n"
				     "SYS_GID_MIN\t100\n"
				     "SYS_GID_MAX 999\n"
				     "ENCRYPT_METHOD SHA512\n";

static void
put(const char *root, const char *rel, const char *txt, unsigned mode)
{
	char p[4400];

	snprintf(p, sizeof p, "%s%s", root, rel);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(p, txt, mode), 0);
}

static void
make_root(const char *name, char *root, size_t len)
{
	char p[4400];

	snprintf(root, len, "%s/%s", dir, name);
	snprintf(p, sizeof p, "%s/etc", root);
	CU_ASSERT_EQUAL_FATAL(laps_mkdir_p(p, 0755), 0);
	put(root, "/etc/passwd", passwd_txt, 0644);
	put(root, "/etc/shadow", shadow_txt, 0640);
	put(root, "/etc/group", group_txt, 0644);
	put(root, "/etc/gshadow", gshadow_txt, 0640);
	put(root, "/etc/login.defs", login_defs_txt, 0644);
}

static char *
slurp(const char *root, const char *rel)
{
	char p[4400], *buf = NULL;
	size_t len = 0;

	snprintf(p, sizeof p, "%s%s", root, rel);
	if (laps_file_read(p, 1 << 20, 0, &buf, &len) != 0)
		return NULL;
	return buf;
}

static void
cfg_for(struct laps_conf *cfg, const char *root)
{
	CU_ASSERT_EQUAL_FATAL(laps_conf_init(cfg, &laps_agent_schema), 0);
	laps_agent_conf(cfg)->root = strdup(root);
	laps_agent_conf(cfg)->hash = LAPS_HASH_SHA512;
	laps_agent_conf(cfg)->hash_cost = 1000;
}

/* The password field of account in root's shadow (static buffer). */
static const char *
field_of(const char *root, const char *account)
{
	static struct laps_shadow_entry e;
	char *buf = slurp(root, "/etc/shadow");

	memset(&e, 0, sizeof e);
	if (buf == NULL || laps_shadow_find(buf, strlen(buf), account, &e) != 0)
		snprintf(e.hash, sizeof e.hash, "(none)");
	free(buf);
	return e.hash;
}

/* buf without account's line (for byte-for-byte comparisons). */
static char *
without(const char *buf, const char *account)
{
	char *out = strdup(buf), *p, *eol;
	size_t alen = strlen(account);

	for (p = out; p != NULL && *p != '\0'; p = eol) {
		eol = strchr(p, '\n');
		eol = eol != NULL ? eol + 1 : p + strlen(p);
		if (strncmp(p, account, alen) == 0 && p[alen] == ':') {
			memmove(p, eol, strlen(eol) + 1);
			eol = p;
		}
	}
	return out;
}

static bool
crypt_ok(const char *pw, const char *hash)
{
	struct crypt_data cd;
	const char *r;

	memset(&cd, 0, sizeof cd);
	r = crypt_r(pw, hash, &cd);
	return r != NULL && strcmp(r, hash) == 0;
}

static void
test_classify(void)
{
	static const struct {
		const char *field;
		enum laps_lock_state st;
		size_t prefix;
	} v[] = {
	    {"!", LAPS_LOCK_FRESH, 1},	       {"!!", LAPS_LOCK_FRESH, 2},
	    {"*", LAPS_LOCK_FRESH, 0},	       {"!*", LAPS_LOCK_FRESH, 1},
	    {"*LK*", LAPS_LOCK_FRESH, 0},      {"!$6$s$h", LAPS_LOCK_LOCKED, 1},
	    {"!!$y$j$h", LAPS_LOCK_LOCKED, 2}, {"$6$s$h", LAPS_LOCK_NONE, 0},
	    {"", LAPS_LOCK_NONE, 0},
	};
	char out[64];
	size_t i, prefix;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		CU_ASSERT_EQUAL(laps_lockstate_classify(v[i].field, &prefix), v[i].st);
		CU_ASSERT_EQUAL(prefix, v[i].prefix);
	}
	CU_ASSERT_STRING_EQUAL(laps_lockstate_bare("!!$6$s$h"), "$6$s$h");
	/* compose: keep */
	CU_ASSERT_EQUAL(
	    laps_lockstate_compose("!$6$o$h", LAPS_LOCK_WANT_KEEP, "$6$n$h", out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "!$6$n$h");
	CU_ASSERT_EQUAL(
	    laps_lockstate_compose("!!$6$o$h", LAPS_LOCK_WANT_KEEP, "$6$n$h", out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "!!$6$n$h");
	CU_ASSERT_EQUAL(laps_lockstate_compose("!", LAPS_LOCK_WANT_KEEP, "$6$n$h", out, sizeof out),
			0);
	CU_ASSERT_STRING_EQUAL(out, "$6$n$h");
	CU_ASSERT_EQUAL(
	    laps_lockstate_compose("!*", LAPS_LOCK_WANT_KEEP, "$6$n$h", out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "$6$n$h");
	/* compose: forced */
	CU_ASSERT_EQUAL(
	    laps_lockstate_compose("$6$o$h", LAPS_LOCK_WANT_LOCKED, "$6$n$h", out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "!$6$n$h");
	CU_ASSERT_EQUAL(
	    laps_lockstate_compose("!$6$o$h", LAPS_LOCK_WANT_UNLOCKED, "$6$n$h", out, sizeof out),
	    0);
	CU_ASSERT_STRING_EQUAL(out, "$6$n$h");
	/* relock: never turns '!' into the empty (password-less) field */
	CU_ASSERT_EQUAL(laps_lockstate_relock("!", LAPS_LOCK_WANT_UNLOCKED, out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "!");
	CU_ASSERT_EQUAL(laps_lockstate_relock("!$6$o$h", LAPS_LOCK_WANT_UNLOCKED, out, sizeof out),
			0);
	CU_ASSERT_STRING_EQUAL(out, "$6$o$h");
	CU_ASSERT_EQUAL(laps_lockstate_relock("$6$o$h", LAPS_LOCK_WANT_LOCKED, out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "!$6$o$h");
	CU_ASSERT_EQUAL(laps_lockstate_relock("*", LAPS_LOCK_WANT_LOCKED, out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "!*");
	CU_ASSERT_EQUAL(laps_lockstate_compose("!$6$o$h", LAPS_LOCK_WANT_KEEP, "$6$n$h", out, 4),
			LAPS_ERR_TOOBIG);
}

static void
test_want(void)
{
	struct laps_conf cfg;

	CU_ASSERT_EQUAL_FATAL(laps_conf_init(&cfg, &laps_agent_schema), 0);
	CU_ASSERT_EQUAL(laps_lock_want_for(&cfg, LAPS_LOCK_NONE), LAPS_LOCK_WANT_KEEP);
	CU_ASSERT_EQUAL(laps_lock_want_for(&cfg, LAPS_LOCK_FRESH), LAPS_LOCK_WANT_KEEP);
	/* locked when the rotation began: locked after a recovery too */
	CU_ASSERT_EQUAL(laps_lock_want_for(&cfg, LAPS_LOCK_LOCKED), LAPS_LOCK_WANT_LOCKED);
	laps_agent_conf(&cfg)->account_state = LAPS_ACCOUNT_ENABLED;
	CU_ASSERT_EQUAL(laps_lock_want_for(&cfg, LAPS_LOCK_LOCKED), LAPS_LOCK_WANT_UNLOCKED);
	laps_agent_conf(&cfg)->account_state = LAPS_ACCOUNT_DISABLED;
	CU_ASSERT_EQUAL(laps_lock_want_for(&cfg, LAPS_LOCK_NONE), LAPS_LOCK_WANT_LOCKED);
	laps_conf_free(&cfg);
}

/* Each state through the shadow method's set: the expected field, the
 * escrowable password verifies behind the prefix, other lines kept. */
static void
set_one(const char *root, const char *account, enum laps_lock_want want, const char *prefix,
	long long expire)
{
	struct laps_conf cfg;
	struct laps_account_info info, after;
	struct laps_shadow_entry e;
	char *before, *now, *b1, *n1;
	const char *f;

	cfg_for(&cfg, root);
	before = slurp(root, "/etc/shadow");
	CU_ASSERT_EQUAL_FATAL(laps_account_shadow.inspect(&cfg, account, &info), 0);
	CU_ASSERT_EQUAL(
	    laps_account_shadow.set(&cfg, account, "Pw-for-the-test-1", want, NULL, &after), 0);
	now = slurp(root, "/etc/shadow");
	f = field_of(root, account);
	CU_ASSERT_EQUAL(strncmp(f, prefix, strlen(prefix)), 0);
	CU_ASSERT_EQUAL(f[strlen(prefix)], '$');
	CU_ASSERT_TRUE(crypt_ok("Pw-for-the-test-1", laps_lockstate_bare(f)));
	CU_ASSERT_EQUAL_FATAL(laps_shadow_find(now, strlen(now), account, &e), 0);
	CU_ASSERT_EQUAL(e.expire, expire);
	CU_ASSERT_EQUAL(after.expired, expire >= 0);
	b1 = without(before, account);
	n1 = without(now, account);
	CU_ASSERT_STRING_EQUAL(b1, n1);
	free(b1);
	free(n1);
	free(before);
	free(now);
	laps_conf_free(&cfg);
}

static void
test_set_states(void)
{
	char root[4200];

	make_root("states", root, sizeof root);
	set_one(root, "fresh1", LAPS_LOCK_WANT_KEEP, "", -1);
	set_one(root, "fresh2", LAPS_LOCK_WANT_KEEP, "", -1);
	set_one(root, "fresh3", LAPS_LOCK_WANT_KEEP, "", -1);
	set_one(root, "fresh4", LAPS_LOCK_WANT_KEEP, "", -1);
	set_one(root, "locked", LAPS_LOCK_WANT_KEEP, "!", -1);
	set_one(root, "locked2", LAPS_LOCK_WANT_KEEP, "!!", -1);
	set_one(root, "expired", LAPS_LOCK_WANT_KEEP, "", 1);
	/* configured states */
	set_one(root, "alice", LAPS_LOCK_WANT_LOCKED, "!", -1);
	set_one(root, "locked", LAPS_LOCK_WANT_UNLOCKED, "", -1);
}

static void
test_uid0(void)
{
	struct laps_conf cfg;
	struct laps_account_info info;
	char root[4200], *before, *now;

	make_root("uid0", root, sizeof root);
	cfg_for(&cfg, root);
	before = slurp(root, "/etc/shadow");
	laps_clearerr();
	CU_ASSERT_EQUAL(laps_account_shadow.inspect(&cfg, "toor", &info), LAPS_ERR_ACCOUNT);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "allow_uid0"));
	CU_ASSERT_EQUAL(laps_account_shadow.set(&cfg, "toor", "pw-1234567890", LAPS_LOCK_WANT_KEEP,
						NULL, &info),
			LAPS_ERR_ACCOUNT);
	now = slurp(root, "/etc/shadow");
	CU_ASSERT_STRING_EQUAL(before, now);
	free(now);
	laps_agent_conf(&cfg)->allow_uid0 = LAPS_YES;
	CU_ASSERT_EQUAL(laps_account_shadow.inspect(&cfg, "toor", &info), 0);
	CU_ASSERT_EQUAL(info.uid, 0);
	free(before);
	laps_conf_free(&cfg);
}

static void
test_apply(void)
{
	struct laps_conf cfg;
	char root[4200], *before, *now, *b1, *n1;
	bool changed = false;

	make_root("apply", root, sizeof root);
	cfg_for(&cfg, root);
	before = slurp(root, "/etc/shadow");
	CU_ASSERT_EQUAL(laps_lockstate_apply(&cfg, "alice", LAPS_LOCK_WANT_LOCKED, &changed), 0);
	CU_ASSERT_TRUE(changed);
	CU_ASSERT_STRING_EQUAL(field_of(root, "alice"), "!$6$a$alicehash");
	CU_ASSERT_EQUAL(laps_lockstate_apply(&cfg, "alice", LAPS_LOCK_WANT_LOCKED, &changed), 0);
	CU_ASSERT_FALSE(changed);
	CU_ASSERT_EQUAL(laps_lockstate_apply(&cfg, "alice", LAPS_LOCK_WANT_UNLOCKED, &changed), 0);
	CU_ASSERT_TRUE(changed);
	now = slurp(root, "/etc/shadow");
	/* lock + unlock: the file is back to its bytes */
	CU_ASSERT_STRING_EQUAL(before, now);
	free(now);
	CU_ASSERT_EQUAL(laps_lockstate_apply(&cfg, "fresh1", LAPS_LOCK_WANT_UNLOCKED, &changed), 0);
	CU_ASSERT_FALSE(changed);
	CU_ASSERT_STRING_EQUAL(field_of(root, "fresh1"), "!");
	CU_ASSERT_EQUAL(laps_lockstate_apply(&cfg, "nobody", LAPS_LOCK_WANT_LOCKED, &changed),
			LAPS_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(laps_lockstate_apply(&cfg, "locked", LAPS_LOCK_WANT_UNLOCKED, &changed), 0);
	now = slurp(root, "/etc/shadow");
	b1 = without(before, "locked");
	n1 = without(now, "locked");
	CU_ASSERT_STRING_EQUAL(b1, n1);
	CU_ASSERT_STRING_EQUAL(field_of(root, "locked"), "$6$l$lockedhash");
	free(b1);
	free(n1);
	free(now);
	free(before);
	laps_conf_free(&cfg);
}

static void
test_login_defs(void)
{
	struct laps_login_defs d;

	CU_ASSERT_EQUAL(laps_login_defs_parse(login_defs_txt, strlen(login_defs_txt), &d), 0);
	CU_ASSERT_EQUAL(d.sys_uid_min, 100);
	CU_ASSERT_EQUAL(d.sys_uid_max, 999);
	CU_ASSERT_EQUAL(d.pass_max_days, 90);
	CU_ASSERT_EQUAL(d.pass_min_days, 1);
	CU_ASSERT_EQUAL(d.pass_warn_age, 14);
	CU_ASSERT_EQUAL(laps_login_defs_parse("", 0, &d), 0);
	CU_ASSERT_EQUAL(d.sys_uid_min, 101);
	CU_ASSERT_EQUAL(d.sys_gid_max, 999);
	CU_ASSERT_EQUAL(d.pass_max_days, 99999);
	CU_ASSERT_EQUAL(laps_login_defs_parse("SYS_UID_MIN abc\n", 16, &d), LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "login.defs:1"));
	CU_ASSERT_EQUAL(laps_login_defs_parse("SYS_UID_MIN 900\nSYS_UID_MAX 800\n", 32, &d),
			LAPS_ERR_FORMAT);
}

/* "<prefix><line>\n" must be the last line of the file. */
static void
assert_last_line(const char *buf, const char *line)
{
	size_t bl = strlen(buf), ll = strlen(line);

	CU_ASSERT_FATAL(bl > ll + 1);
	CU_ASSERT_EQUAL(buf[bl - 1], '\n');
	CU_ASSERT_EQUAL(strncmp(buf + bl - 1 - ll, line, ll), 0);
	CU_ASSERT_EQUAL(buf[bl - 2 - ll], '\n');
}

static void
test_create(void)
{
	struct laps_conf cfg;
	struct stat st;
	char root[4200], p[4400], want[256], *f[4], *g[4];
	static const char *const rel[4] = {"/etc/passwd", "/etc/shadow", "/etc/group",
					   "/etc/gshadow"};
	bool created = false;
	int i;

	make_root("create", root, sizeof root);
	cfg_for(&cfg, root);
	laps_agent_conf(&cfg)->create_account = LAPS_YES;
	laps_agent_conf(&cfg)->account_home = strdup("/home/lapsadmin");
	laps_agent_conf(&cfg)->account_shell = strdup("/bin/bash");
	laps_agent_conf(&cfg)->account_groups[0] = strdup("sudo");
	laps_agent_conf(&cfg)->account_groups[1] = strdup("wheel");
	laps_agent_conf(&cfg)->n_account_groups = 2;
	snprintf(p, sizeof p, "%s/home", root);
	CU_ASSERT_EQUAL_FATAL(laps_mkdir_p(p, 0755), 0);

	CU_ASSERT_EQUAL_FATAL(laps_account_create(&cfg, "lapsadmin", &created), 0);
	CU_ASSERT_TRUE(created);
	for (i = 0; i < 4; i++)
		CU_ASSERT_PTR_NOT_NULL_FATAL(f[i] = slurp(root, rel[i]));
	/* system uid: the highest free one in SYS_UID_MIN..SYS_UID_MAX (999 is
	 * taken, by uid and gid), gid = uid */
	assert_last_line(f[0],
			 "lapsadmin:x:998:998:laps managed account:/home/lapsadmin:/bin/bash");
	snprintf(want, sizeof want, "lapsadmin:!:%lld:1:90:14:::", (long long)(time(NULL) / 86400));
	assert_last_line(f[1], want);
	assert_last_line(f[2], "lapsadmin:x:998:");
	assert_last_line(f[3], "lapsadmin:!::");
	/* the supplementary groups, and nothing else */
	CU_ASSERT_PTR_NOT_NULL(strstr(f[2], "\nsudo:x:27:alice,lapsadmin\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(f[2], "\nwheel:x:10:lapsadmin\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(f[3], "\nsudo:*::alice,lapsadmin\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(f[3], "\nwheel:*::lapsadmin\n"));
	g[0] = without(f[0], "lapsadmin");
	CU_ASSERT_STRING_EQUAL(g[0], passwd_txt);
	g[1] = without(f[1], "lapsadmin");
	CU_ASSERT_STRING_EQUAL(g[1], shadow_txt);
	free(g[0]);
	free(g[1]);
	/* modes kept, no lock or temporary file left */
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", root, rel[i]);
		CU_ASSERT_EQUAL(stat(p, &st), 0);
		CU_ASSERT_EQUAL(st.st_mode & 0777, i % 2 ? 0640 : 0644);
		snprintf(p, sizeof p, "%s%s.lock", root, rel[i]);
		CU_ASSERT_NOT_EQUAL(access(p, F_OK), 0);
		snprintf(p, sizeof p, "%s%s+", root, rel[i]);
		CU_ASSERT_NOT_EQUAL(access(p, F_OK), 0);
	}
	snprintf(p, sizeof p, "%s/home/lapsadmin", root);
	CU_ASSERT_EQUAL(stat(p, &st), 0);
	CU_ASSERT_TRUE(S_ISDIR(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	if (geteuid() == 0)
		CU_ASSERT_EQUAL(st.st_uid, 998);

	/* twice: nothing changes */
	CU_ASSERT_EQUAL(laps_account_create(&cfg, "lapsadmin", &created), 0);
	CU_ASSERT_FALSE(created);
	for (i = 0; i < 4; i++) {
		g[i] = slurp(root, rel[i]);
		CU_ASSERT_STRING_EQUAL(f[i], g[i]);
		free(g[i]);
		free(f[i]);
	}
	laps_conf_free(&cfg);
}

static void
test_create_refusals(void)
{
	struct laps_conf cfg;
	char root[4200], *before, *now;
	bool created = true;

	make_root("refuse", root, sizeof root);
	cfg_for(&cfg, root);
	laps_agent_conf(&cfg)->create_account = LAPS_YES;
	before = slurp(root, "/etc/group");
	/* a fixed uid in use */
	laps_agent_conf(&cfg)->account_uid = 1000;
	laps_clearerr();
	CU_ASSERT_EQUAL(laps_account_create(&cfg, "newadm", &created), LAPS_ERR_ACCOUNT);
	CU_ASSERT_FALSE(created);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "1000"));
	/* a missing supplementary group: nothing written */
	laps_agent_conf(&cfg)->account_uid = 1500;
	laps_agent_conf(&cfg)->account_groups[0] = strdup("nosuchgroup");
	laps_agent_conf(&cfg)->n_account_groups = 1;
	CU_ASSERT_EQUAL(laps_account_create(&cfg, "newadm", &created), LAPS_ERR_ACCOUNT);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "nosuchgroup"));
	now = slurp(root, "/etc/group");
	CU_ASSERT_STRING_EQUAL(before, now);
	free(now);
	CU_ASSERT_STRING_EQUAL(field_of(root, "newadm"), "(none)");
	/* a leftover group of that name */
	CU_ASSERT_EQUAL(laps_account_create(&cfg, "sudo", &created), LAPS_ERR_ACCOUNT);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "group"));
	/* a fixed uid, gid = uid when free; no gshadow file is fine */
	free(laps_agent_conf(&cfg)->account_groups[0]);
	laps_agent_conf(&cfg)->account_groups[0] = NULL;
	laps_agent_conf(&cfg)->n_account_groups = 0;
	snprintf(root + strlen(root), sizeof root - strlen(root), "%s", "");
	{
		char p[4400];

		snprintf(p, sizeof p, "%s/etc/gshadow", root);
		CU_ASSERT_EQUAL(unlink(p), 0);
	}
	CU_ASSERT_EQUAL(laps_account_create(&cfg, "newadm", &created), 0);
	CU_ASSERT_TRUE(created);
	now = slurp(root, "/etc/passwd");
	assert_last_line(now, "newadm:x:1500:1500:laps managed account:/nonexistent:/bin/sh");
	free(now);
	free(before);
	laps_conf_free(&cfg);
}

/* prepare = create + inspect + account_state */
static void
test_prepare(void)
{
	struct laps_conf cfg;
	struct laps_account_info info;
	char root[4200];

	make_root("prepare", root, sizeof root);
	cfg_for(&cfg, root);
	laps_agent_conf(&cfg)->create_account = LAPS_YES;
	CU_ASSERT_EQUAL(laps_account_prepare(&cfg, "newadm", &laps_account_shadow, &info), 0);
	CU_ASSERT_EQUAL(info.lock, LAPS_LOCK_FRESH);
	CU_ASSERT_EQUAL(info.uid, 998);
	laps_agent_conf(&cfg)->account_state = LAPS_ACCOUNT_DISABLED;
	CU_ASSERT_EQUAL(laps_account_prepare(&cfg, "alice", &laps_account_shadow, &info), 0);
	CU_ASSERT_EQUAL(info.lock, LAPS_LOCK_LOCKED);
	CU_ASSERT_STRING_EQUAL(field_of(root, "alice"), "!$6$a$alicehash");
	laps_agent_conf(&cfg)->account_state = LAPS_ACCOUNT_ENABLED;
	CU_ASSERT_EQUAL(laps_account_prepare(&cfg, "alice", &laps_account_shadow, &info), 0);
	CU_ASSERT_EQUAL(info.lock, LAPS_LOCK_NONE);
	CU_ASSERT_STRING_EQUAL(field_of(root, "alice"), "$6$a$alicehash");
	laps_conf_free(&cfg);
}

int
main(int argc, char **argv)
{
	static CU_TestInfo tests[] = {
	    {"classify, compose, relock", test_classify},
	    {"lock wanted per account_state", test_want},
	    {"set: fresh, locked, expired", test_set_states},
	    {"uid 0 refused unless allowed", test_uid0},
	    {"apply account_state to the lock", test_apply},
	    {"login.defs", test_login_defs},
	    {"create in an alternate root", test_create},
	    {"create refusals", test_create_refusals},
	    {"prepare", test_prepare},
	    CU_TEST_INFO_NULL,
	};
	static CU_SuiteInfo suites[] = {
	    {"agent_accounts", laps_test_suite_init, laps_test_suite_cleanup, NULL, NULL, tests},
	    CU_SUITE_INFO_NULL,
	};

	return laps_test_main(argc, argv, suites);
}
