/*
 * test_agent_files.c — the agent's own files and pure logic: journal and
 * state file formats, the run lock, the due decision, post-auth helpers.
 */
#include "config.h"

#include <CUnit/CUnit.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/due.h"
#include "agent/journal.h"
#include "agent/lock.h"
#include "agent/postauth.h"
#include "agent/state.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/secret.h"
#include "tests/unit/testutil.h"

/* the suite's temporary directory (laps_test_suite_init) */
static const char *const dir = laps_test_dir;

static void
fill_journal(struct laps_journal *j, const char *pw)
{
	laps_journal_init(j);
	snprintf(j->account, sizeof j->account, "lapsadmin");
	snprintf(j->device, sizeof j->device, "host1");
	j->uid = 1001;
	snprintf(j->rotation_id, sizeof j->rotation_id, "0123456789abcdef0123456789abcdef");
	j->rotated_at = 1700000000;
	j->phase = LAPS_JOURNAL_ESCROWING;
	snprintf(j->reason, sizeof j->reason, "expired");
	j->password = laps_secret_strdup(pw);
	j->pwlen = strlen(pw);
}

static void
test_journal_roundtrip(void)
{
	struct laps_journal j, k;
	struct stat st;
	char path[4200];
	/* every byte a generator may produce, including '=' '#' ':' and spaces */
	const char *pw = "a=b:c#d e{}[]$/()%,.-+;!&@?*";

	CU_ASSERT_EQUAL_FATAL(laps_journal_path(dir, "lapsadmin", path, sizeof path), 0);
	fill_journal(&j, pw);
	CU_ASSERT_EQUAL_FATAL(laps_journal_store(path, &j), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	laps_journal_init(&k);
	CU_ASSERT_EQUAL_FATAL(laps_journal_load(path, &k), 0);
	CU_ASSERT_STRING_EQUAL(k.account, "lapsadmin");
	CU_ASSERT_STRING_EQUAL(k.device, "host1");
	CU_ASSERT_EQUAL(k.uid, 1001);
	CU_ASSERT_STRING_EQUAL(k.rotation_id, j.rotation_id);
	CU_ASSERT_EQUAL(k.rotated_at, 1700000000);
	CU_ASSERT_EQUAL(k.phase, LAPS_JOURNAL_ESCROWING);
	CU_ASSERT_STRING_EQUAL(k.reason, "expired");
	CU_ASSERT_EQUAL(k.pwlen, strlen(pw));
	CU_ASSERT_STRING_EQUAL(k.password, pw);

	/* phase update */
	j.phase = LAPS_JOURNAL_ESCROWED;
	CU_ASSERT_EQUAL(laps_journal_store(path, &j), 0);
	CU_ASSERT_EQUAL(laps_journal_load(path, &k), 0);
	CU_ASSERT_EQUAL(k.phase, LAPS_JOURNAL_ESCROWED);

	/* removal; removing twice is fine; then NOTFOUND */
	CU_ASSERT_EQUAL(laps_journal_remove(path), 0);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	CU_ASSERT_EQUAL(laps_journal_remove(path), 0);
	CU_ASSERT_EQUAL(laps_journal_load(path, &k), LAPS_ERR_NOTFOUND);
	laps_journal_clear(&j);
	laps_journal_clear(&k);
}

/* all n bytes of the file at path are zero (and there are n > 0 of them) */
static int
file_all_zero(const char *path)
{
	unsigned char b[4096];
	ssize_t n, i;
	int fd, zero = 1, any = 0;

	if ((fd = open(path, O_RDONLY)) < 0)
		return 0;
	while ((n = read(fd, b, sizeof b)) > 0) {
		any = 1;
		for (i = 0; i < n; i++)
			zero &= b[i] == 0;
	}
	close(fd);
	return any && zero;
}

/* Replacing and removing a journal leave no copy of P' in the old inodes. */
static void
test_journal_scrubbed(void)
{
	struct laps_journal j;
	char path[4200], old1[4200], old2[4200];

	CU_ASSERT_EQUAL_FATAL(laps_journal_path(dir, "lapsadmin", path, sizeof path), 0);
	snprintf(old1, sizeof old1, "%s/old1", dir);
	snprintf(old2, sizeof old2, "%s/old2", dir);
	fill_journal(&j, "Secret-P4ssword");
	CU_ASSERT_EQUAL_FATAL(laps_journal_store(path, &j), 0);
	/* a second name for the inode about to be replaced */
	CU_ASSERT_EQUAL_FATAL(link(path, old1), 0);
	CU_ASSERT_FALSE(file_all_zero(old1));
	j.phase = LAPS_JOURNAL_ESCROWED;
	CU_ASSERT_EQUAL_FATAL(laps_journal_store(path, &j), 0);
	CU_ASSERT_TRUE(file_all_zero(old1));  /* the escrowing journal: scrubbed */
	CU_ASSERT_FALSE(file_all_zero(path)); /* the new one intact */
	CU_ASSERT_EQUAL_FATAL(link(path, old2), 0);
	CU_ASSERT_EQUAL(laps_journal_remove(path), 0);
	CU_ASSERT_TRUE(file_all_zero(old2));
	unlink(old1);
	unlink(old2);
	/* a FIFO planted at the journal path does not block removal */
	CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
	CU_ASSERT_EQUAL(laps_journal_remove(path), LAPS_ERR_IO);
	unlink(path);
	laps_journal_clear(&j);
}

static void
test_journal_refusals(void)
{
	struct laps_journal j, k;
	char path[4200], link[4200];
	static const char *const bad[] = {
	    "laps-journal 2\n",
	    "laps-journal 1\naccount=a\n",
	    "laps-journal "
	    "1\naccount=a\ndevice=h\nuid=1\nrotation_id=0123456789abcdef0123456789abcdef\n"
	    "rotated_at=1\nphase=bogus\nreason=x\npassword=4142\n",
	    "laps-journal 1\naccount=a\ndevice=h\nuid=1\nrotation_id=XYZ\n"
	    "rotated_at=1\nphase=escrowed\nreason=x\npassword=4142\n",
	    "laps-journal "
	    "1\naccount=a\ndevice=h\nuid=1\nrotation_id=0123456789abcdef0123456789abcdef\n"
	    "rotated_at=1\nphase=escrowed\nreason=x\npassword=41zz\n",
	    "laps-journal "
	    "1\naccount=a\ndevice=h\nuid=1\nrotation_id=0123456789abcdef0123456789abcdef\n"
	    "rotated_at=1\nphase=escrowed\nreason=x\npassword=4142\nextra=1\n",
	    "laps-journal "
	    "1\naccount=a\ndevice=h\nuid=1\nrotation_id=0123456789abcdef0123456789abcdef\n"
	    "rotated_at=1\nphase=escrowed\nreason=x\npassword=4100\n", /* NUL inside */
	    "laps-journal "
	    "1\naccount=a\ndevice=h\nuid=1\nuid=2\nrotation_id=0123456789abcdef0123456789abcdef\n"
	    "rotated_at=1\nphase=escrowed\nreason=x\npassword=4142\n",
	    "laps-journal "
	    "1\naccount=a\ndevice=h\nuid=1\nrotation_id=0123456789abcdef0123456789abcdef\n"
	    "rotated_at=1\nphase=escrowed\nreason=x\npassword=4142", /* unterminated */
	};
	const char *good = "laps-journal 1\naccount=a\ndevice=h\nuid=1\n"
			   "rotation_id=0123456789abcdef0123456789abcdef\n"
			   "rotated_at=1\nphase=escrowed\nreason=x\npassword=4142\n";
	size_t i;

	laps_journal_init(&k);
	CU_ASSERT_EQUAL(laps_journal_parse(good, strlen(good), &k), 0);
	CU_ASSERT_STRING_EQUAL(k.password, "AB");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CU_ASSERT_NOT_EQUAL(laps_journal_parse(bad[i], strlen(bad[i]), &k), 0);
		CU_ASSERT_PTR_NULL(k.password);
	}
	/* group-readable journal refused; symlink refused */
	snprintf(path, sizeof path, "%s/journal.x", dir);
	CU_ASSERT_EQUAL(laps_test_write_file(path, good, 0640), 0);
	CU_ASSERT_EQUAL(laps_journal_load(path, &k), LAPS_ERR_PERM);
	fill_journal(&j, "pw");
	snprintf(path, sizeof path, "%s/target", dir);
	CU_ASSERT_EQUAL(laps_journal_store(path, &j), 0);
	snprintf(link, sizeof link, "%s/journal.lnk", dir);
	CU_ASSERT_EQUAL(symlink(path, link), 0);
	CU_ASSERT_EQUAL(laps_journal_load(link, &k), LAPS_ERR_PERM);
	/* bad account names cannot build paths */
	CU_ASSERT_NOT_EQUAL(laps_journal_path(dir, "../etc", path, sizeof path), 0);
	CU_ASSERT_NOT_EQUAL(laps_journal_path(dir, "a/b", path, sizeof path), 0);
	laps_journal_clear(&j);
	laps_journal_clear(&k);
}

static void
test_state_roundtrip(void)
{
	struct laps_agent_state s, t;
	char path[4200];
	size_t i;

	laps_state_init(&s, "lapsadmin");
	CU_ASSERT_EQUAL_FATAL(laps_state_path(dir, "lapsadmin", path, sizeof path), 0);
	CU_ASSERT_EQUAL(laps_state_load(path, "lapsadmin", &t), LAPS_ERR_NOTFOUND);
	snprintf(s.rotation_id, sizeof s.rotation_id, "00112233445566778899aabbccddeeff");
	s.rotated_at = 1700000000;
	s.expires_at = 1702592000;
	s.have_digest = true;
	for (i = 0; i < LAPS_HASH_DIGEST_BYTES; i++)
		s.digest[i] = (uint8_t)(i * 7);
	snprintf(s.backend, sizeof s.backend, "file");
	s.last_error_at = 5;
	snprintf(s.last_error, sizeof s.last_error, "line one\nline two"); /* flattened */
	CU_ASSERT_EQUAL_FATAL(laps_state_store(path, &s), 0);
	CU_ASSERT_EQUAL_FATAL(laps_state_load(path, "lapsadmin", &t), 0);
	CU_ASSERT_STRING_EQUAL(t.rotation_id, s.rotation_id);
	CU_ASSERT_EQUAL(t.rotated_at, s.rotated_at);
	CU_ASSERT_EQUAL(t.expires_at, s.expires_at);
	CU_ASSERT_TRUE(t.have_digest);
	CU_ASSERT_EQUAL(memcmp(t.digest, s.digest, sizeof s.digest), 0);
	CU_ASSERT_STRING_EQUAL(t.backend, "file");
	CU_ASSERT_STRING_EQUAL(t.last_error, "line one line two");
	/* a state file for another account is refused */
	CU_ASSERT_EQUAL(laps_state_load(path, "admin2", &t), LAPS_ERR_FORMAT);
	/* no digest */
	s.have_digest = false;
	CU_ASSERT_EQUAL(laps_state_store(path, &s), 0);
	CU_ASSERT_EQUAL(laps_state_load(path, "lapsadmin", &t), 0);
	CU_ASSERT_FALSE(t.have_digest);
}

static void
test_lock(void)
{
	char sd[4200], lp[4300];
	struct stat st;
	int fd1 = -1, fd2 = -1, pfd[2];
	char res = 0;
	pid_t pid;
	int status;

	snprintf(sd, sizeof sd, "%s/state", dir);
	CU_ASSERT_EQUAL_FATAL(laps_lock_acquire(sd, 0, &fd1), 0);
	snprintf(lp, sizeof lp, "%s/lock", sd);
	CU_ASSERT_EQUAL(stat(lp, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	/* a second holder (another open file description) cannot get it */
	CU_ASSERT_EQUAL(laps_lock_acquire(sd, 0, &fd2), LAPS_ERR_LOCKED);
	CU_ASSERT_EQUAL(fd2, -1);
	/* nor can another process (result through a pipe: the exit status
	 * may be valgrind's) */
	CU_ASSERT_EQUAL_FATAL(pipe(pfd), 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		int f = -1;
		char r = laps_lock_acquire(sd, 0, &f) == LAPS_ERR_LOCKED ? 'L' : 'x';

		_exit(write(pfd[1], &r, 1) == 1 ? 0 : 1);
	}
	close(pfd[1]);
	CU_ASSERT_EQUAL(read(pfd[0], &res, 1), 1);
	CU_ASSERT_EQUAL(res, 'L');
	close(pfd[0]);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	laps_lock_release(fd1);
	CU_ASSERT_EQUAL(laps_lock_acquire(sd, 0, &fd2), 0);
	laps_lock_release(fd2);
	/* a symlinked lock file is refused */
	CU_ASSERT_EQUAL(unlink(lp), 0);
	CU_ASSERT_EQUAL(symlink("/etc/passwd", lp), 0);
	CU_ASSERT_EQUAL(laps_lock_acquire(sd, 0, &fd2), LAPS_ERR_PERM);
	unlink(lp);
}

/* ---- due ---- */

static void
test_due(void)
{
	struct laps_due_input in;
	struct laps_record rec;
	struct laps_agent_state st;
	struct laps_account_info local;
	struct laps_marker m;
	int64_t dl;

	laps_record_init(&rec);
	snprintf(rec.rotation_id, sizeof rec.rotation_id, "00112233445566778899aabbccddeeff");
	rec.rotated_at = 1000;
	rec.expires_at = 5000;
	laps_state_init(&st, "lapsadmin");
	memcpy(st.rotation_id, rec.rotation_id, sizeof st.rotation_id);
	st.rotated_at = 1000;
	st.have_digest = true;
	memset(st.digest, 0xab, sizeof st.digest);
	memset(&local, 0, sizeof local);
	local.have_digest = true;
	memset(local.digest, 0xab, sizeof local.digest);
	memset(&m, 0, sizeof m);

	memset(&in, 0, sizeof in);
	in.now = 2000;
	in.backend_read = true;
	in.rec = &rec;
	in.state = &st;
	in.local = &local;
	CU_ASSERT_EQUAL(laps_due_decide(&in), LAPS_DUE_NONE);
	in.forced = true;
	CU_ASSERT_EQUAL(laps_due_decide(&in), LAPS_DUE_FORCED);
	in.forced = false;
	in.rec = NULL;
	CU_ASSERT_EQUAL(laps_due_decide(&in), LAPS_DUE_NO_RECORD);
	in.rec = &rec;
	in.now = 5000; /* expiry reached */
	CU_ASSERT_EQUAL(laps_due_decide(&in), LAPS_DUE_EXPIRED);
	in.now = 2000;
	rec.rotation_id[0] = 'f';
	CU_ASSERT_EQUAL(laps_due_decide(&in), LAPS_DUE_ROTID);
	rec.rotation_id[0] = '0';
	in.state = NULL; /* host never confirmed one */
	CU_ASSERT_EQUAL(laps_due_decide(&in), LAPS_DUE_ROTID);
	in.state = &st;
	local.digest[3] ^= 1;
	CU_ASSERT_EQUAL(laps_due_decide(&in), LAPS_DUE_HASH_CHANGED);
	local.have_digest = false; /* unreadable (pam_sss): no opinion */
	CU_ASSERT_EQUAL(laps_due_decide(&in), LAPS_DUE_NONE);
	local.have_digest = true;
	local.digest[3] ^= 1;

	/* post-auth */
	in.marker = &m;
	in.postauth_delay = 300;
	m.opened = 900; /* before the last rotation */
	CU_ASSERT_EQUAL(laps_due_decide(&in), LAPS_DUE_NONE);
	CU_ASSERT_FALSE(laps_due_postauth_deadline(&m, &st, 300, &dl));
	m.opened = 1800; /* after it; deadline 2100 > now */
	CU_ASSERT_EQUAL(laps_due_decide(&in), LAPS_DUE_NONE);
	CU_ASSERT_TRUE(laps_due_postauth_deadline(&m, &st, 300, &dl));
	CU_ASSERT_EQUAL(dl, 2100);
	in.now = 2100;
	CU_ASSERT_EQUAL(laps_due_decide(&in), LAPS_DUE_POSTAUTH);
	m.closed = 2000; /* the close counts as the last use */
	CU_ASSERT_EQUAL(laps_due_decide(&in), LAPS_DUE_NONE);
	in.now = 2300;
	CU_ASSERT_EQUAL(laps_due_decide(&in), LAPS_DUE_POSTAUTH);
	/* opened before the rotation, closed after it (session ended by
	 * reset-logoff): not a new use */
	m.opened = 900;
	m.closed = 1500;
	in.now = 9000;
	in.rec = &rec;
	rec.expires_at = 99999;
	CU_ASSERT_EQUAL(laps_due_decide(&in), LAPS_DUE_NONE);
	CU_ASSERT_FALSE(laps_due_postauth_deadline(&m, &st, 300, &dl));
	m.opened = 1800;
	m.closed = 2000;
	in.postauth_delay = 0; /* off */
	in.now = 9000;
	in.backend_read = false; /* post-auth-only: expiry not looked at */
	CU_ASSERT_EQUAL(laps_due_decide(&in), LAPS_DUE_NONE);
	CU_ASSERT_STRING_EQUAL(laps_due_reason_name(LAPS_DUE_POSTAUTH), "post-auth");
}

/* ---- post-auth helpers ---- */

static void
test_postauth_describe(void)
{
	struct laps_marker m;
	char buf[512];

	memset(&m, 0, sizeof m);
	snprintf(m.account, sizeof m.account, "lapsadmin");
	m.opened = 1700000000;
	snprintf(m.service, sizeof m.service, "sudo");
	snprintf(m.ruser, sizeof m.ruser, "bob");
	laps_postauth_describe(&m, buf, sizeof buf);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "via sudo by bob on ?"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "2023-11-14T22:13:20Z"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "session still open"));
}

static void
test_exec_and_reboot(void)
{
	char script[4200], out[4300], cmd[9000], *buf = NULL;
	size_t len = 0;
	char *argv_rel[] = {(char *)"true", NULL};

	/* relative paths are refused: no PATH lookup ever */
	CU_ASSERT_EQUAL(laps_exec_wait(argv_rel), LAPS_ERR_INVALID);
	snprintf(script, sizeof script, "%s/fake-shutdown", dir);
	snprintf(out, sizeof out, "%s/shutdown.args", dir);
	snprintf(cmd, sizeof cmd, "#!/bin/sh\necho \"$@\" > %s\nenv | wc -l >> %s\n", out, out);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(script, cmd, 0755), 0);
	CU_ASSERT_EQUAL(laps_postauth_schedule_reboot(script, "lapsadmin"), 0);
	CU_ASSERT_EQUAL_FATAL(laps_file_read(out, 4096, 0, &buf, &len), 0);
	CU_ASSERT_EQUAL(strncmp(buf, "-r +1 laps: rebooting", 21), 0);
	free(buf);
	/* a failing command is reported */
	snprintf(cmd, sizeof cmd, "#!/bin/sh\nexit 3\n");
	CU_ASSERT_EQUAL(laps_test_write_file(script, cmd, 0755), 0);
	CU_ASSERT_EQUAL(laps_postauth_schedule_reboot(script, "lapsadmin"), LAPS_ERR_IO);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "status 3"));
}

/* reset-logoff: processes of the uid die (root only: needs setuid) */
static void
test_end_sessions(void)
{
	const uid_t uid = 3999123; /* unused on any sane system */
	size_t left = 99;
	pid_t pid, other;
	int status;

	CU_ASSERT_EQUAL(laps_postauth_end_sessions(0, "root", "/proc", NULL, NULL),
			LAPS_ERR_INVALID);
	if (geteuid() != 0) {
		fprintf(stderr, "(end_sessions: not root, skipped) ");
		return;
	}
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		/* ignores SIGTERM: must be SIGKILLed */
		signal(SIGTERM, SIG_IGN);
		if (setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0)
			_exit(1);
		for (;;)
			pause();
	}
	other = fork();
	CU_ASSERT_FATAL(other >= 0);
	if (other == 0) {
		for (;;)
			pause(); /* stays root: must survive */
	}
	/* wait until the child runs as uid (bounded) */
	{
		char p[64], b[2048];
		FILE *f;
		int i, ok = 0;

		snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
		for (i = 0; i < 100 && !ok; i++) {
			if ((f = fopen(p, "r")) != NULL) {
				while (fgets(b, sizeof b, f) != NULL)
					if (strncmp(b, "Uid:\t3999123", 12) == 0)
						ok = 1;
				fclose(f);
			}
			if (!ok)
				usleep(20000);
		}
		CU_ASSERT_TRUE_FATAL(ok);
	}
	CU_ASSERT_EQUAL(laps_postauth_end_sessions(uid, "ghost", "/proc", NULL, &left), 0);
	CU_ASSERT_EQUAL(left, 0);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CU_ASSERT_EQUAL(waitpid(other, &status, WNOHANG), 0); /* still alive */
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
}

int
main(int argc, char **argv)
{
	static CU_TestInfo tests[] = {
	    {"journal round trip", test_journal_roundtrip},
	    {"journal refusals", test_journal_refusals},
	    {"journal scrubbed", test_journal_scrubbed},
	    {"state round trip", test_state_roundtrip},
	    {"run lock", test_lock},
	    {"due decision", test_due},
	    {"post-auth describe", test_postauth_describe},
	    {"exec and reboot", test_exec_and_reboot},
	    {"end sessions", test_end_sessions},
	    CU_TEST_INFO_NULL,
	};
	static CU_SuiteInfo suites[] = {
	    {"agent_files", laps_test_suite_init, laps_test_suite_cleanup, NULL, NULL, tests},
	    CU_SUITE_INFO_NULL,
	};

	return laps_test_main(argc, argv, suites);
}
