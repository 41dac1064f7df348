/*
 * test_agent_shadow.c — the shadow method: line editing (byte for byte),
 * hashing with libxcrypt, the locked/expired/missing checks, and the full
 * set on an alternate root.
 */
#include "config.h"

#include <CUnit/CUnit.h>
#include <crypt.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_schema.h"
#include "agent/account.h"
#include "agent/dynlib.h"
#include "agent/hashjob.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/secret.h"
#include "tests/unit/testutil.h"
#include "agent/agent_conf.h"

/* the suite's temporary directory (laps_test_suite_init) */
static const char *const dir = laps_test_dir;

static const char passwd_txt[] = "root:x:0:0:root:/root:/bin/bash\n"
				 "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
				 "lapsadmin:x:1001:1001::/home/lapsadmin:/bin/bash\n"
				 "locked:x:1002:1002::/home/locked:/bin/bash\n"
				 "expired:x:1003:1003::/home/expired:/bin/bash\n"
				 "noshadow:x:1004:1004::/home/noshadow:/bin/bash\n"
				 "inpasswd:$6$abc$def:1005:1005::/:/bin/sh\n";

static const char shadow_txt[] =
    "root:$y$j9T$abcdefghijklmnop$0123456789012345678901234567890123456789012:19000:0:99999:7:::\n"
    "daemon:*:19000:0:99999:7:::\n"
    "lapsadmin:$6$oldsalt$oldhash:19001:0:99999:7:::\n"
    "locked:!$6$x$y:19002:0:99999:7:::\n"
    "expired:$6$x$y:19003:0:99999:7::1:\n"
    "inpasswd:*:19000:0:99999:7:::\n"
    "# odd trailing line kept as is\n";

/* A tiny root: DIR/NAME/etc/{passwd,shadow}. */
static void
make_root(const char *name, char *root, size_t len)
{
	char p[4400];

	snprintf(root, len, "%s/%s", dir, name);
	snprintf(p, sizeof p, "%s/etc", root);
	CU_ASSERT_EQUAL_FATAL(laps_mkdir_p(p, 0755), 0);
	snprintf(p, sizeof p, "%s/etc/passwd", root);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(p, passwd_txt, 0644), 0);
	snprintf(p, sizeof p, "%s/etc/shadow", root);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(p, shadow_txt, 0640), 0);
}

static char *
slurp(const char *root, const char *rel, size_t *len)
{
	char p[4400], *buf = NULL;

	snprintf(p, sizeof p, "%s%s", root, rel);
	if (laps_file_read(p, 1 << 20, 0, &buf, len) != 0)
		return NULL;
	return buf;
}

static void
test_replace_bytes(void)
{
	char *out = NULL;
	size_t outlen = 0;
	const char *expect = "root:$y$j9T$abcdefghijklmnop$"
			     "0123456789012345678901234567890123456789012:19000:0:99999:7:::\n"
			     "daemon:*:19000:0:99999:7:::\n"
			     "lapsadmin:$y$NEW:20000:0:99999:7:::\n"
			     "locked:!$6$x$y:19002:0:99999:7:::\n"
			     "expired:$6$x$y:19003:0:99999:7::1:\n"
			     "inpasswd:*:19000:0:99999:7:::\n"
			     "# odd trailing line kept as is\n";

	CU_ASSERT_EQUAL_FATAL(laps_shadow_replace(shadow_txt, strlen(shadow_txt), "lapsadmin",
						  "$y$NEW", 20000, &out, &outlen),
			      0);
	CU_ASSERT_EQUAL(outlen, strlen(expect));
	CU_ASSERT_STRING_EQUAL(out, expect);
	free(out);

	/* a prefix of another name must not match; last line without '\n' */
	CU_ASSERT_EQUAL_FATAL(laps_shadow_replace("lapsadmin2:a:1::\nlapsadmin:b:2", 30,
						  "lapsadmin", "H", 7, &out, &outlen),
			      0);
	CU_ASSERT_STRING_EQUAL(out, "lapsadmin2:a:1::\nlapsadmin:H:7");
	free(out);

	CU_ASSERT_EQUAL(
	    laps_shadow_replace(shadow_txt, strlen(shadow_txt), "nobody", "H", 1, &out, &outlen),
	    LAPS_ERR_NOTFOUND);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_EQUAL(laps_shadow_replace("a:b\n", 4, "a", "H", 1, &out, &outlen),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(laps_shadow_replace("a:b:1\na:c:2\n", 12, "a", "H", 1, &out, &outlen),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(laps_shadow_replace("a:b:1\n", 6, "a", "H:x", 1, &out, &outlen),
			LAPS_ERR_INVALID);
}

static void
test_find_and_check(void)
{
	struct laps_shadow_entry e;
	struct laps_account_info info;
	uint8_t dg[LAPS_HASH_DIGEST_BYTES];
	long long today = (long long)(time(NULL) / 86400);
	uint32_t uid = 0;
	bool sh = false;

	CU_ASSERT_EQUAL(laps_shadow_find(shadow_txt, strlen(shadow_txt), "lapsadmin", &e), 0);
	CU_ASSERT_STRING_EQUAL(e.hash, "$6$oldsalt$oldhash");
	CU_ASSERT_EQUAL(e.lastchg, 19001);
	CU_ASSERT_EQUAL(e.expire, -1);
	CU_ASSERT_EQUAL(laps_shadow_check_entry("lapsadmin", &e, today), 0);

	/* locked and expired entries are rotated; the info says which */
	CU_ASSERT_EQUAL(laps_shadow_find(shadow_txt, strlen(shadow_txt), "locked", &e), 0);
	CU_ASSERT_EQUAL(laps_shadow_check_entry("locked", &e, today), 0);
	memset(&info, 0, sizeof info);
	laps_account_info_from_entry(&info, &e, today);
	CU_ASSERT_TRUE(info.have_entry);
	CU_ASSERT_EQUAL(info.lock, LAPS_LOCK_LOCKED);
	CU_ASSERT_FALSE(info.expired);
	/* the digest is the one of the hash behind the '!' */
	laps_hash_digest("$6$x$y", dg);
	CU_ASSERT_EQUAL(memcmp(dg, info.digest, sizeof dg), 0);

	CU_ASSERT_EQUAL(laps_shadow_find(shadow_txt, strlen(shadow_txt), "expired", &e), 0);
	CU_ASSERT_EQUAL(e.expire, 1);
	CU_ASSERT_EQUAL(laps_shadow_check_entry("expired", &e, today), 0);
	laps_account_info_from_entry(&info, &e, today);
	CU_ASSERT_TRUE(info.expired);
	CU_ASSERT_EQUAL(info.lock, LAPS_LOCK_NONE);
	/* pam_unix: expired from the expire day on; the day before is fine */
	e.expire = today;
	laps_account_info_from_entry(&info, &e, today);
	CU_ASSERT_TRUE(info.expired);
	e.expire = today + 1;
	laps_account_info_from_entry(&info, &e, today);
	CU_ASSERT_FALSE(info.expired);

	CU_ASSERT_EQUAL(laps_passwd_find(passwd_txt, strlen(passwd_txt), "lapsadmin", &uid, &sh),
			0);
	CU_ASSERT_EQUAL(uid, 1001);
	CU_ASSERT_TRUE(sh);
	CU_ASSERT_EQUAL(laps_passwd_find(passwd_txt, strlen(passwd_txt), "inpasswd", &uid, &sh), 0);
	CU_ASSERT_FALSE(sh);
	CU_ASSERT_EQUAL(laps_passwd_find(passwd_txt, strlen(passwd_txt), "nobody", &uid, &sh),
			LAPS_ERR_NOTFOUND);
}

static void
check_hash(enum laps_hash h, unsigned cost, const char *prefix)
{
	struct crypt_data cd;
	char *hash = NULL;

	CU_ASSERT_EQUAL_FATAL(laps_shadow_hash(h, cost, "Secret-pw-1", &hash), 0);
	CU_ASSERT_EQUAL(strncmp(hash, prefix, strlen(prefix)), 0);
	memset(&cd, 0, sizeof cd);
	CU_ASSERT_STRING_EQUAL(crypt_r("Secret-pw-1", hash, &cd), hash);
	memset(&cd, 0, sizeof cd);
	CU_ASSERT_STRING_NOT_EQUAL(crypt_r("Secret-pw-2", hash, &cd), hash);
	free(hash);
}

static void
test_hash(void)
{
	char *a = NULL, *b = NULL;

	check_hash(LAPS_HASH_YESCRYPT, 0, "$y$");
	check_hash(LAPS_HASH_YESCRYPT, 3, "$y$");
	check_hash(LAPS_HASH_SHA512, 0, "$6$");
	check_hash(LAPS_HASH_SHA512, 6000, "$6$rounds=6000$");
	/* fresh salt every time */
	CU_ASSERT_EQUAL_FATAL(laps_shadow_hash(LAPS_HASH_SHA512, 0, "x", &a), 0);
	CU_ASSERT_EQUAL_FATAL(laps_shadow_hash(LAPS_HASH_SHA512, 0, "x", &b), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	free(a);
	free(b);
}

/* agent/dynlib.c: all symbols or none, errors that name what needs what */
static void
test_dynlib(void)
{
	__typeof__(crypt_r) *fr = NULL;
	void (*none)(void) = NULL;
	const struct laps_dynsym ok[] = {{"crypt_r", &fr}};
	const struct laps_dynsym partial[] = {{"crypt_r", &fr}, {"laps_no_such_function", &none}};
	struct crypt_data a, b;
	const char *setting = "$6$rounds=1000$0123456789abcdef$";

	CU_ASSERT_EQUAL(laps_dynlib_load("libnosuch-laps.so.9", ok, 1, "method = test", 0),
			LAPS_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "method = test needs libnosuch-laps.so.9"));
	CU_ASSERT_PTR_NULL(fr);
	CU_ASSERT_EQUAL(laps_dynlib_load("libcrypt.so.1", partial, 2, "method = test", 0),
			LAPS_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "laps_no_such_function"));
	CU_ASSERT_PTR_NULL(fr); /* no slot written when one symbol is missing */
	CU_ASSERT_PTR_NULL(none);
	CU_ASSERT_EQUAL_FATAL(laps_dynlib_load("libcrypt.so.1", ok, 1, "method = test", 0), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fr);
	/* loaded before (first slot set): nothing is opened again */
	CU_ASSERT_EQUAL(laps_dynlib_load("libnosuch-laps.so.9", ok, 1, "method = test", 0), 0);
	/* the loaded function hashes as the linked one does */
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	CU_ASSERT_STRING_EQUAL(fr("Secret-pw-1", setting, &a), crypt_r("Secret-pw-1", setting, &b));
	CU_ASSERT_EQUAL(strncmp(a.output, setting, strlen(setting)), 0);
}

static void
cfg_for(struct laps_conf *cfg, const char *root, enum laps_hash h)
{
	CU_ASSERT_EQUAL_FATAL(laps_conf_init(cfg, &laps_agent_schema), 0);
	laps_agent_conf(cfg)->root = strdup(root);
	laps_agent_conf(cfg)->hash = h;
}

/* agent/hashjob.c: the hash computed on a worker, handed over once, for
 * that password only; the worker's error reaches the caller with its
 * detail */
static void
test_hashjob(void)
{
	char pw[] = "Secret-pw-1", same[] = "Secret-pw-1", *hash = NULL;
	struct laps_hashjob *job;
	struct crypt_data cd;

	job = laps_hashjob_start(LAPS_HASH_SHA512, 6000, pw);
	CU_ASSERT_PTR_NOT_NULL_FATAL(job);
	/* another buffer, another hash or cost: not this job's */
	CU_ASSERT_EQUAL(laps_hashjob_take(job, LAPS_HASH_SHA512, 6000, same, &hash),
			LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_hashjob_take(job, LAPS_HASH_YESCRYPT, 6000, pw, &hash),
			LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_hashjob_take(job, LAPS_HASH_SHA512, 7000, pw, &hash),
			LAPS_ERR_INVALID);
	CU_ASSERT_PTR_NULL(hash);
	CU_ASSERT_EQUAL_FATAL(laps_hashjob_take(job, LAPS_HASH_SHA512, 6000, pw, &hash), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hash);
	CU_ASSERT_EQUAL(strncmp(hash, "$6$rounds=6000$", 15), 0);
	memset(&cd, 0, sizeof cd);
	CU_ASSERT_STRING_EQUAL(crypt_r("Secret-pw-1", hash, &cd), hash);
	/* taken once */
	free(hash);
	hash = NULL;
	CU_ASSERT_EQUAL(laps_hashjob_take(job, LAPS_HASH_SHA512, 6000, pw, &hash),
			LAPS_ERR_INVALID);
	laps_hashjob_free(job);

	/* the worker's failure, with the worker's detail */
	job = laps_hashjob_start(LAPS_HASH_YESCRYPT, 99, pw);
	CU_ASSERT_PTR_NOT_NULL_FATAL(job);
	laps_clearerr();
	CU_ASSERT_EQUAL(laps_hashjob_take(job, LAPS_HASH_YESCRYPT, 99, pw, &hash), LAPS_ERR_CRYPTO);
	CU_ASSERT_PTR_NULL(hash);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "crypt_gensalt($y$, cost 99)"));
	laps_hashjob_free(job);

	/* freed without being taken (a failed escrow): waits, wipes, no leak */
	laps_hashjob_free(laps_hashjob_start(LAPS_HASH_YESCRYPT, 0, pw));
	laps_hashjob_free(NULL);
}

/* set() takes the job prepare() started for its password, and hashes
 * itself when handed a job for another one */
static void
test_set_with_job(void)
{
	struct laps_conf cfg;
	struct laps_account_info info;
	struct laps_shadow_entry e;
	struct laps_hashjob *job;
	struct crypt_data cd;
	char root[4200], pw[] = "Job-Passw0rd-1", other[] = "Job-Passw0rd-1", *now, *hash = NULL;
	size_t nlen = 0;

	make_root("r4", root, sizeof root);
	cfg_for(&cfg, root, LAPS_HASH_SHA512);
	laps_agent_conf(&cfg)->hash_cost = 6000;
	CU_ASSERT_PTR_NOT_NULL_FATAL(laps_account_shadow.prepare);
	CU_ASSERT_PTR_NULL(laps_account_pam.prepare); /* pam_unix hashes itself */

	job = laps_account_shadow.prepare(&cfg, pw);
	CU_ASSERT_PTR_NOT_NULL_FATAL(job);
	CU_ASSERT_EQUAL_FATAL(
	    laps_account_shadow.set(&cfg, "lapsadmin", pw, LAPS_LOCK_WANT_KEEP, job, &info), 0);
	/* set() took it: nothing is left to take */
	CU_ASSERT_EQUAL(laps_hashjob_take(job, laps_agent_conf(&cfg)->hash,
					  laps_agent_conf(&cfg)->hash_cost, pw, &hash),
			LAPS_ERR_INVALID);
	laps_hashjob_free(job);
	now = slurp(root, "/etc/shadow", &nlen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(now);
	CU_ASSERT_EQUAL_FATAL(laps_shadow_find(now, nlen, "lapsadmin", &e), 0);
	CU_ASSERT_EQUAL(strncmp(e.hash, "$6$rounds=6000$", 15), 0);
	memset(&cd, 0, sizeof cd);
	CU_ASSERT_STRING_EQUAL(crypt_r(pw, e.hash, &cd), e.hash);
	free(now);

	/* a job for another buffer is left alone: set() hashes its password */
	job = laps_account_shadow.prepare(&cfg, other);
	CU_ASSERT_PTR_NOT_NULL_FATAL(job);
	CU_ASSERT_EQUAL_FATAL(laps_account_shadow.set(&cfg, "lapsadmin", "Inline-pw-2",
						      LAPS_LOCK_WANT_KEEP, job, &info),
			      0);
	CU_ASSERT_EQUAL(laps_hashjob_take(job, laps_agent_conf(&cfg)->hash,
					  laps_agent_conf(&cfg)->hash_cost, other, &hash),
			0);
	CU_ASSERT_PTR_NOT_NULL(hash);
	now = slurp(root, "/etc/shadow", &nlen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(now);
	CU_ASSERT_EQUAL_FATAL(laps_shadow_find(now, nlen, "lapsadmin", &e), 0);
	memset(&cd, 0, sizeof cd);
	CU_ASSERT_STRING_EQUAL(crypt_r("Inline-pw-2", e.hash, &cd), e.hash);
	CU_ASSERT_STRING_NOT_EQUAL(e.hash, hash);
	free(hash);
	free(now);
	laps_hashjob_free(job);
	laps_conf_free(&cfg);
}

/* The whole set on an alternate root: only lapsadmin's hash and day change. */
static void
test_set_alternate_root(void)
{
	struct laps_conf cfg;
	struct laps_account_info info, after;
	struct laps_shadow_entry e;
	struct crypt_data cd;
	struct stat st;
	char root[4200], p[4400], expect[2048];
	char *before = NULL, *now = NULL, *hash_line;
	size_t blen = 0, nlen = 0;
	uint8_t dg[LAPS_HASH_DIGEST_BYTES];

	make_root("r1", root, sizeof root);
	snprintf(p, sizeof p, "%s/etc/shadow", root);
	if (geteuid() == 0)
		CU_ASSERT_EQUAL(chown(p, 0, 42), 0);
	CU_ASSERT_EQUAL(chmod(p, 0640), 0);
	cfg_for(&cfg, root, LAPS_HASH_SHA512);

	CU_ASSERT_EQUAL_FATAL(laps_account_shadow.inspect(&cfg, "lapsadmin", &info), 0);
	CU_ASSERT_EQUAL(info.uid, 1001);
	CU_ASSERT_TRUE(info.have_digest);
	laps_hash_digest("$6$oldsalt$oldhash", dg);
	CU_ASSERT_EQUAL(memcmp(dg, info.digest, sizeof dg), 0);

	before = slurp(root, "/etc/shadow", &blen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(before);
	CU_ASSERT_EQUAL_FATAL(laps_account_shadow.set(&cfg, "lapsadmin", "N3w-Passw0rd!",
						      LAPS_LOCK_WANT_KEEP, NULL, &after),
			      0);
	now = slurp(root, "/etc/shadow", &nlen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(now);

	/* the new hash verifies with crypt_r */
	CU_ASSERT_EQUAL_FATAL(laps_shadow_find(now, nlen, "lapsadmin", &e), 0);
	memset(&cd, 0, sizeof cd);
	CU_ASSERT_STRING_EQUAL(crypt_r("N3w-Passw0rd!", e.hash, &cd), e.hash);
	CU_ASSERT_EQUAL(e.lastchg, (long long)(time(NULL) / 86400));
	laps_hash_digest(e.hash, dg);
	CU_ASSERT_TRUE(after.have_digest);
	CU_ASSERT_EQUAL(memcmp(dg, after.digest, sizeof dg), 0);

	/* everything else byte for byte: rebuild the expected file */
	hash_line = strstr(before, "lapsadmin:");
	CU_ASSERT_PTR_NOT_NULL_FATAL(hash_line);
	snprintf(expect, sizeof expect, "%.*slapsadmin:%s:%lld%s", (int)(hash_line - before),
		 before, e.hash, e.lastchg, strstr(hash_line, ":0:99999:7:::\nlocked"));
	CU_ASSERT_STRING_EQUAL(now, expect);

	/* owner, group and mode kept; no shadow+ left behind */
	CU_ASSERT_EQUAL(stat(p, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0640);
	if (geteuid() == 0)
		CU_ASSERT_EQUAL(st.st_gid, 42);
	snprintf(p, sizeof p, "%s/etc/shadow+", root);
	CU_ASSERT_NOT_EQUAL(access(p, F_OK), 0);
	snprintf(p, sizeof p, "%s/etc/.pwd.lock", root);
	CU_ASSERT_EQUAL(stat(p, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);

	free(before);
	free(now);
	laps_conf_free(&cfg);
}

/* Refusals leave the file untouched and name the cause. */
static void
test_set_refusals(void)
{
	struct laps_conf cfg;
	struct laps_account_info info;
	char root[4200], p[4400];
	char *before = NULL, *now = NULL;
	size_t blen = 0, nlen = 0;
	static const char *const bad[] = {"nobody", "noshadow", "inpasswd"};
	size_t i;

	make_root("r2", root, sizeof root);
	cfg_for(&cfg, root, LAPS_HASH_YESCRYPT);
	before = slurp(root, "/etc/shadow", &blen);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		laps_clearerr();
		CU_ASSERT_EQUAL(laps_account_shadow.set(&cfg, bad[i], "pw-123456789",
							LAPS_LOCK_WANT_KEEP, NULL, &info),
				LAPS_ERR_ACCOUNT);
		CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), bad[i]));
	}
	now = slurp(root, "/etc/shadow", &nlen);
	CU_ASSERT_EQUAL(blen, nlen);
	CU_ASSERT_STRING_EQUAL(before, now);
	free(now);

	/* shadow not replaceable: shadow+ is a directory -> LAPS_ERR_IO, untouched */
	snprintf(p, sizeof p, "%s/etc/shadow+", root);
	CU_ASSERT_EQUAL_FATAL(mkdir(p, 0700), 0);
	CU_ASSERT_EQUAL(laps_account_shadow.set(&cfg, "lapsadmin", "pw-123456789",
						LAPS_LOCK_WANT_KEEP, NULL, &info),
			LAPS_ERR_IO);
	now = slurp(root, "/etc/shadow", &nlen);
	CU_ASSERT_STRING_EQUAL(before, now);
	free(now);
	rmdir(p);

	/* missing shadow file altogether */
	snprintf(p, sizeof p, "%s/etc/shadow", root);
	CU_ASSERT_EQUAL(unlink(p), 0);
	CU_ASSERT_EQUAL(laps_account_shadow.inspect(&cfg, "lapsadmin", &info), LAPS_ERR_ACCOUNT);

	free(before);
	laps_conf_free(&cfg);
}

/* A lock held by someone else (lckpwdf semantics) is honoured. */
static void
test_pwd_lock_held(void)
{
	struct laps_conf cfg;
	struct laps_account_info info;
	struct flock fl;
	char root[4200], p[4400];
	char *before = NULL, *now = NULL;
	size_t blen = 0, nlen = 0;
	int fd, pfd[2];
	pid_t pid;
	char c;

	make_root("r3", root, sizeof root);
	cfg_for(&cfg, root, LAPS_HASH_SHA512);
	snprintf(p, sizeof p, "%s/etc/.pwd.lock", root);
	CU_ASSERT_EQUAL_FATAL(pipe(pfd), 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		fd = open(p, O_WRONLY | O_CREAT, 0600);
		memset(&fl, 0, sizeof fl);
		fl.l_type = F_WRLCK;
		if (fd < 0 || fcntl(fd, F_SETLK, &fl) != 0)
			_exit(1);
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		sleep(30);
		_exit(0);
	}
	close(pfd[1]);
	CU_ASSERT_EQUAL(read(pfd[0], &c, 1), 1);
	close(pfd[0]);
	/* held by another process: the set waits (15 s, like lckpwdf) and
	 * gives up without touching the file */
	before = slurp(root, "/etc/shadow", &blen);
	CU_ASSERT_EQUAL(laps_account_shadow.set(&cfg, "lapsadmin", "pw-123456789",
						LAPS_LOCK_WANT_KEEP, NULL, &info),
			LAPS_ERR_LOCKED);
	now = slurp(root, "/etc/shadow", &nlen);
	CU_ASSERT_STRING_EQUAL(before, now);
	free(before);
	free(now);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* released: the set goes through */
	CU_ASSERT_EQUAL(laps_account_shadow.set(&cfg, "lapsadmin", "pw-123456789",
						LAPS_LOCK_WANT_KEEP, NULL, &info),
			0);
	laps_conf_free(&cfg);
}

int
main(int argc, char **argv)
{
	static CU_TestInfo tests[] = {
	    {"replace keeps every other byte", test_replace_bytes},
	    {"find, locked, expired, passwd", test_find_and_check},
	    {"hash yescrypt/sha512 + crypt_r", test_hash},
	    {"libraries loaded on first use", test_dynlib},
	    {"hash job on a worker thread", test_hashjob},
	    {"set takes the prepared hash", test_set_with_job},
	    {"set on alternate root", test_set_alternate_root},
	    {"refusals leave shadow untouched", test_set_refusals},
	    {"pwd lock", test_pwd_lock_held},
	    CU_TEST_INFO_NULL,
	};
	static CU_SuiteInfo suites[] = {
	    {"agent_shadow", laps_test_suite_init, laps_test_suite_cleanup, NULL, NULL, tests},
	    CU_SUITE_INFO_NULL,
	};

	return laps_test_main(argc, argv, suites);
}
