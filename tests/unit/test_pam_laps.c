/*
 * test_pam_laps.c — pam_laps.so through the real libpam stack (pam_wrapper
 * + libpamtest).  Run by tests/integration/pam_laps.sh, which preloads
 * libpam_wrapper.so and sets:
 *   PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=DIR  (service files written here)
 *   PAM_LAPS_MODULE        the built pam/.libs/pam_laps.so
 *   PAM_WRAPPER_MODULES    directory of pam_matrix.so / pam_set_items.so
 *   PAM_SYSTEM_MODULES     directory of pam_permit.so / pam_deny.so
 *
 * The managed account is the user running the test (it exists in passwd
 * everywhere).  PAM_RUSER/PAM_RHOST/PAM_TTY are set by pam_set_items.so from
 * the environment variables of the same names.
 *
 * Each stack is written in two shapes:
 *   - a real one (sshd-, su-, sudo-like): the session must open whatever
 *     happens inside pam_laps (PAM_SUCCESS);
 *   - a probe, "session [success=done ignore=ignore default=die] pam_laps"
 *     followed by "session required pam_deny.so": the stack returns
 *     PAM_SUCCESS when pam_laps returned PAM_SUCCESS, PAM_SESSION_ERR
 *     (pam_deny) when it returned PAM_IGNORE, and pam_laps' own code
 *     otherwise — so the module's return value is observable.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <libpamtest.h>
#include <security/pam_appl.h>

#include "escrow/marker.h"
#include "tests/unit/testutil.h"

enum stack { STACK_SSHD, STACK_SU, STACK_SUDO, STACK_PROBE };

static char tmp[PATH_MAX];
static const char *svcdir, *module, *wrapmods, *sysmods;
static char me[LAPS_ACCOUNT_MAX + 1];
static uid_t me_uid;
static unsigned svc_seq;

/* snprintf that fails the test run on truncation. */
static void xfmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
xfmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	CU_ASSERT_FATAL(n >= 0 && (size_t)n < len);
}

/* ---------------------------------------------------------------- helpers */

static int
suite_init(void)
{
	struct passwd *pw;
	const char *d;

	svcdir = getenv("PAM_WRAPPER_SERVICE_DIR");
	module = getenv("PAM_LAPS_MODULE");
	wrapmods = getenv("PAM_WRAPPER_MODULES");
	sysmods = getenv("PAM_SYSTEM_MODULES");
	if (svcdir == NULL || module == NULL || wrapmods == NULL || sysmods == NULL ||
	    getenv("PAM_WRAPPER") == NULL) {
		fprintf(stderr, "run me through tests/integration/pam_laps.sh\n");
		return -1;
	}
	if ((pw = getpwuid(getuid())) == NULL || strlen(pw->pw_name) > LAPS_ACCOUNT_MAX)
		return -1;
	memcpy(me, pw->pw_name, strlen(pw->pw_name) + 1);
	me_uid = pw->pw_uid;
	d = laps_test_tmpdir(); /* each call creates a new directory */
	if (strlen(d) >= sizeof(tmp))
		return -1;
	memcpy(tmp, d, strlen(d) + 1);
	unsetenv("PAM_USER");
	unsetenv("PAM_SERVICE");
	return 0;
}

static int
suite_clean(void)
{
	if (tmp[0] != '\0')
		laps_test_rmrf(tmp);
	return 0;
}

/* "<tmp>/<name>" into a static rotating buffer (four at a time). */
static const char *
tpath(const char *name)
{
	static char bufs[4][PATH_MAX];
	static unsigned i;
	char *b = bufs[i++ % 4];

	xfmt(b, PATH_MAX, "%s/%s", tmp, name);
	return b;
}

/* A fresh empty directory <tmp>/<name>, removed first if present.  The
 * path stays valid for the next 15 calls (a test uses a few). */
static const char *
fresh_dir(const char *name)
{
	static char bufs[16][PATH_MAX];
	static unsigned i;
	char *d = bufs[i++ % 16];

	xfmt(d, PATH_MAX, "%s/%s", tmp, name);
	laps_test_rmrf(d);
	CU_ASSERT_FATAL(mkdir(d, 0700) == 0);
	return d;
}

/* Write <tmp>/<name> (mode 0600) with a config; returns its path. */
static const char *
write_conf(const char *name, const char *accounts, const char *state_dir, const char *extra)
{
	static char bufs[8][PATH_MAX];
	static unsigned i;
	char body[2048], *p = bufs[i++ % 8];

	xfmt(p, PATH_MAX, "%s/%s", tmp, name);

	xfmt(body, sizeof(body), "[agent]\naccounts = %s\nstate_dir = %s\n%s", accounts, state_dir,
	     extra != NULL ? extra : "");
	CU_ASSERT_FATAL(laps_test_write_file(p, body, 0600) == 0);
	return p;
}

/*
 * Write a service file of the given shape whose pam_laps line has args;
 * returns its name (unique per call, so pam_wrapper never sees a stale
 * copy) in a static rotating buffer.  base names the service (sshd, su,
 * sudo: becomes PAM_SERVICE as the prefix of the name).
 */
static const char *
write_service(enum stack kind, const char *base, const char *args)
{
	static char names[4][64];
	char *name = names[svc_seq % 4], path[PATH_MAX], body[8192];
	const char *dir;
	FILE *f;

	/* pam_wrapper copies PAM_WRAPPER_SERVICE_DIR once, when it initialises,
	 * into the directory it then reads (PAM_WRAPPER_RUNTIME_DIR): services
	 * written later go there. */
	dir = getenv("PAM_WRAPPER_RUNTIME_DIR");
	if (dir == NULL || dir[0] == '\0')
		dir = svcdir;
	xfmt(name, 64, "%s%u", base, ++svc_seq);
	xfmt(path, sizeof(path), "%s/%s", dir, name);
	switch (kind) {
	case STACK_SSHD:
		xfmt(body, sizeof(body),
		     "auth     required %s/pam_matrix.so passdb=%s\n"
		     "account  required %s/pam_permit.so\n"
		     "session  required %s/pam_set_items.so\n"
		     "session  required %s %s\n"
		     "session  required %s/pam_permit.so\n",
		     wrapmods, tpath("passdb"), sysmods, wrapmods, module, args, sysmods);
		break;
	case STACK_SU:
		xfmt(body, sizeof(body),
		     "auth     sufficient %s/pam_matrix.so passdb=%s\n"
		     "auth     required %s/pam_deny.so\n"
		     "account  required %s/pam_permit.so\n"
		     "session  required %s/pam_set_items.so\n"
		     "session  required %s/pam_permit.so\n"
		     "session  optional %s %s\n",
		     wrapmods, tpath("passdb"), sysmods, sysmods, wrapmods, sysmods, module, args);
		break;
	case STACK_SUDO:
		xfmt(body, sizeof(body),
		     "account  required %s/pam_permit.so\n"
		     "session  required %s/pam_set_items.so\n"
		     "session  required %s/pam_permit.so\n"
		     "session  required %s %s\n",
		     sysmods, wrapmods, sysmods, module, args);
		break;
	case STACK_PROBE:
		xfmt(body, sizeof(body),
		     "session  required %s/pam_set_items.so\n"
		     "session  [success=done ignore=ignore default=die] %s %s\n"
		     "session  required %s/pam_deny.so\n",
		     wrapmods, module, args, sysmods);
		break;
	}
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(body, f);
	CU_ASSERT_FATAL(fclose(f) == 0);
	return name;
}

/* Set (value != NULL) or unset the environment read by pam_set_items.so. */
static void
set_items(const char *ruser, const char *rhost, const char *tty)
{
	const char *names[3] = {"PAM_RUSER", "PAM_RHOST", "PAM_TTY"};
	const char *vals[3] = {ruser, rhost, tty};
	int i;

	for (i = 0; i < 3; i++) {
		if (vals[i] != NULL)
			setenv(names[i], vals[i], 1);
		else
			unsetenv(names[i]);
	}
}

/* Run one operation on service as user; returns the PAM result. */
static int
run_op(const char *service, const char *user, enum pamtest_ops op)
{
	struct pam_testcase tests[] = {pam_test(op, PAM_SUCCESS)};
	enum pamtest_err perr;

	perr = run_pamtest(service, user, NULL, tests, NULL);
	if (perr != PAMTEST_ERR_OK && perr != PAMTEST_ERR_CASE)
		printf("run_pamtest(%s, %s): %s\n", service, user, pamtest_strerror(perr));
	return perr == PAMTEST_ERR_OK	  ? PAM_SUCCESS
	       : perr == PAMTEST_ERR_CASE ? tests[0].op_rv
					  : -1;
}

static const char *
marker_path(const char *state_dir, const char *account)
{
	static char p[PATH_MAX];

	xfmt(p, sizeof(p), "%s/used/%s", state_dir, account);
	return p;
}

static int
load_marker(const char *state_dir, const char *account, struct laps_marker *m)
{
	memset(m, 0, sizeof(*m));
	return laps_marker_load(marker_path(state_dir, account), m);
}

static int
exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

/* Number of entries in dir (other than . and .. and the markers' .lock),
 * -1 if it does not exist. */
static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    strcmp(e->d_name, ".lock") != 0)
			n++;
	closedir(d);
	return n;
}

/*
 * The pam_syslog() log.  Under pam_wrapper (PAM_WRAPPER_DEBUGLEVEL=2) each
 * message goes to stderr as "PWRAP_...: SYSLOG(<priority>): <message>";
 * pam_laps.sh sends stderr to $PAM_LAPS_TEST_LOG.  log_mark() returns the
 * current end of the log, log_has(mark, s) tells whether s was logged
 * since.  Without PAM_LAPS_TEST_LOG the log checks are skipped (log_has
 * says yes).
 */
static long
log_mark(void)
{
	const char *p = getenv("PAM_LAPS_TEST_LOG");
	struct stat st;

	fflush(stderr);
	if (p == NULL || stat(p, &st) != 0)
		return -1;
	return (long)st.st_size;
}

static int
log_has(long mark, const char *needle)
{
	const char *p = getenv("PAM_LAPS_TEST_LOG");
	char buf[65536];
	size_t n;
	FILE *f;

	if (p == NULL || mark < 0)
		return 1;
	fflush(stderr);
	if ((f = fopen(p, "r")) == NULL || fseek(f, mark, SEEK_SET) != 0) {
		if (f != NULL)
			fclose(f);
		return 0;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* ------------------------------------------------------- recording tests */

/* sshd-like stack: auth, account, open; fields; close keeps the open's
 * fields and sets closed. */
static void
test_sshd_open_close(void)
{
	const char *state = fresh_dir("st-sshd"), *conf, *svc;
	char args[PATH_MAX + 8], passdb[256];
	struct laps_marker m, m2;
	struct stat st;
	time_t t0, t1, t2, t3;
	char line[512];
	long mark;

	xfmt(passdb, sizeof(passdb), "%s:secret:sshd\n", me);
	CU_ASSERT_FATAL(laps_test_write_file(tpath("passdb"), passdb, 0600) == 0);
	conf = write_conf("sshd.conf", me, state, "[post-auth]\ndelay = 1h\n");
	xfmt(args, sizeof(args), "conf=%s", conf);
	svc = write_service(STACK_SSHD, "sshd", args);
	set_items(NULL, "192.0.2.7", "ssh");
	{
		const char *pw[] = {"secret", NULL};
		struct pamtest_conv_data conv = {.in_echo_off = pw};
		struct pam_testcase tests[] = {
		    pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
		    pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
		    pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
		};
		mark = log_mark();
		t0 = time(NULL);
		CU_ASSERT_EQUAL(run_pamtest(svc, me, &conv, tests, NULL), PAMTEST_ERR_OK);
		t1 = time(NULL);
	}
	/* One LOG_NOTICE line saying who used the account. */
	xfmt(line, sizeof(line),
	     "SYSLOG(5): LAPS-2001 managed account %s used: service=%s ruser=- rhost=192.0.2.7 tty=ssh "
	     "uid=%u; password rotation after 1h\n",
	     me, svc, (unsigned)me_uid);
	CU_ASSERT(log_has(mark, line));
	CU_ASSERT(!log_has(mark, "\nlaps: ")); /* nothing on stderr outside pam_syslog */
	CU_ASSERT_FATAL(load_marker(state, me, &m) == 0);
	CU_ASSERT_STRING_EQUAL(m.account, me);
	CU_ASSERT_EQUAL(m.uid, (uint32_t)me_uid);
	CU_ASSERT(m.opened >= (int64_t)t0 && m.opened <= (int64_t)t1);
	CU_ASSERT_EQUAL(m.closed, 0);
	CU_ASSERT_STRING_EQUAL(m.service, svc);
	CU_ASSERT_STRING_EQUAL(m.ruser, "");
	CU_ASSERT_STRING_EQUAL(m.rhost, "192.0.2.7");
	CU_ASSERT_STRING_EQUAL(m.tty, "ssh");
	CU_ASSERT(stat(marker_path(state, me), &st) == 0 && (st.st_mode & 07777) == 0600);
	CU_ASSERT(stat(tpath("st-sshd/used"), &st) == 0 && (st.st_mode & 07777) == 0700);
	CU_ASSERT_EQUAL(count_entries(tpath("st-sshd/used")), 1); /* no temp file left */
	/* the update lock beside the markers (issue 16.12) */
	CU_ASSERT(stat(tpath("st-sshd/used/.lock"), &st) == 0 && S_ISREG(st.st_mode) &&
		  (st.st_mode & 07777) == 0600);

	/* Different items at close time: the marker keeps those of the open. */
	set_items("mallory", "198.51.100.1", "pts/9");
	mark = log_mark();
	t2 = time(NULL);
	CU_ASSERT_EQUAL(run_op(svc, me, PAMTEST_CLOSE_SESSION), PAM_SUCCESS);
	t3 = time(NULL);
	xfmt(line, sizeof(line), "SYSLOG(6): LAPS-2002 session of managed account %s closed\n", me);
	CU_ASSERT(log_has(mark, line));
	CU_ASSERT_FATAL(load_marker(state, me, &m2) == 0);
	CU_ASSERT(m2.closed >= (int64_t)t2 && m2.closed <= (int64_t)t3);
	CU_ASSERT_EQUAL(m2.opened, m.opened);
	CU_ASSERT_STRING_EQUAL(m2.service, svc);
	CU_ASSERT_STRING_EQUAL(m2.ruser, "");
	CU_ASSERT_STRING_EQUAL(m2.rhost, "192.0.2.7");
	CU_ASSERT_STRING_EQUAL(m2.tty, "ssh");
	CU_ASSERT_EQUAL(m2.uid, (uint32_t)me_uid);
}

/* su-like stack ("session optional"), open and close in one handle. */
static void
test_su_open_close(void)
{
	const char *state = fresh_dir("st-su"), *conf, *svc;
	char args[PATH_MAX + 8];
	struct laps_marker m;
	time_t t0, t1;
	struct pam_testcase tests[] = {
	    pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
	    pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
	};

	conf = write_conf("su.conf", me, state, NULL);
	xfmt(args, sizeof(args), "conf=%s", conf);
	svc = write_service(STACK_SU, "su", args);
	set_items("alice", NULL, "pts/3");
	t0 = time(NULL);
	CU_ASSERT_EQUAL(run_pamtest(svc, me, NULL, tests, NULL), PAMTEST_ERR_OK);
	t1 = time(NULL);
	CU_ASSERT_FATAL(load_marker(state, me, &m) == 0);
	CU_ASSERT_STRING_EQUAL(m.service, svc);
	CU_ASSERT_STRING_EQUAL(m.ruser, "alice");
	CU_ASSERT_STRING_EQUAL(m.rhost, "");
	CU_ASSERT_STRING_EQUAL(m.tty, "pts/3");
	CU_ASSERT(m.opened >= (int64_t)t0 && m.opened <= (int64_t)t1);
	CU_ASSERT(m.closed >= m.opened && m.closed <= (int64_t)t1);
}

/* sudo-like stack ("session required" last): open only, closed stays 0. */
static void
test_sudo_open(void)
{
	const char *state = fresh_dir("st-sudo"), *conf, *svc;
	char args[PATH_MAX + 8], line[512];
	struct laps_marker m;
	long mark;

	conf = write_conf("sudo.conf", me, state, NULL);
	xfmt(args, sizeof(args), "conf=%s", conf);
	svc = write_service(STACK_SUDO, "sudo", args);
	set_items("bob", NULL, "pts/1");
	mark = log_mark();
	CU_ASSERT_EQUAL(run_op(svc, me, PAMTEST_OPEN_SESSION), PAM_SUCCESS);
	CU_ASSERT_FATAL(load_marker(state, me, &m) == 0);
	CU_ASSERT_STRING_EQUAL(m.ruser, "bob");
	CU_ASSERT_STRING_EQUAL(m.tty, "pts/1");
	CU_ASSERT_EQUAL(m.closed, 0);
	xfmt(line, sizeof(line),
	     "SYSLOG(5): LAPS-2001 managed account %s used: service=%s ruser=bob rhost=- tty=pts/1 uid=%u; "
	     "post-auth rotation off\n",
	     me, svc, (unsigned)me_uid);
	CU_ASSERT(log_has(mark, line));
}

/* The probe itself: a recorded use makes pam_laps return PAM_SUCCESS. */
static void
test_probe_managed_success(void)
{
	const char *state = fresh_dir("st-probe"), *conf;
	char args[PATH_MAX + 8];

	conf = write_conf("probe.conf", me, state, NULL);
	xfmt(args, sizeof(args), "conf=%s", conf);
	set_items(NULL, NULL, NULL);
	CU_ASSERT_EQUAL(run_op(write_service(STACK_PROBE, "probe", args), me, PAMTEST_OPEN_SESSION),
			PAM_SUCCESS);
	CU_ASSERT_EQUAL(
	    run_op(write_service(STACK_PROBE, "probe", args), me, PAMTEST_CLOSE_SESSION),
	    PAM_SUCCESS);
	CU_ASSERT(exists(marker_path(state, me)));
}

/* An unmanaged user: no marker, PAM_IGNORE, the session opens. */
static void
test_unmanaged(void)
{
	const char *state = fresh_dir("st-unmanaged"), *conf;
	char args[PATH_MAX + 8];

	conf = write_conf("unmanaged.conf", me, state, NULL);
	xfmt(args, sizeof(args), "conf=%s", conf);
	set_items("alice", "192.0.2.8", "pts/4");
	CU_ASSERT_EQUAL(
	    run_op(write_service(STACK_SSHD, "sshd", args), "alice", PAMTEST_OPEN_SESSION),
	    PAM_SUCCESS);
	CU_ASSERT_EQUAL(
	    run_op(write_service(STACK_PROBE, "probe", args), "alice", PAMTEST_OPEN_SESSION),
	    PAM_SESSION_ERR);
	CU_ASSERT_EQUAL(
	    run_op(write_service(STACK_PROBE, "probe", args), "alice", PAMTEST_CLOSE_SESSION),
	    PAM_SESSION_ERR);
	CU_ASSERT(count_entries(tpath("st-unmanaged/used")) <= 0);
	CU_ASSERT(!exists(marker_path(state, "alice")));
}

/* accounts= replaces the config's list (both ways). */
static void
test_accounts_override(void)
{
	const char *state = fresh_dir("st-accounts"), *conf;
	char args[2 * PATH_MAX];

	conf = write_conf("acc1.conf", "someoneelse", state, NULL);
	xfmt(args, sizeof(args), "conf=%s accounts=other,%s", conf, me);
	set_items(NULL, NULL, NULL);
	CU_ASSERT_EQUAL(run_op(write_service(STACK_PROBE, "probe", args), me, PAMTEST_OPEN_SESSION),
			PAM_SUCCESS);
	CU_ASSERT(exists(marker_path(state, me)));

	state = fresh_dir("st-accounts");
	conf = write_conf("acc2.conf", me, state, NULL);
	xfmt(args, sizeof(args), "conf=%s accounts=other", conf);
	CU_ASSERT_EQUAL(run_op(write_service(STACK_PROBE, "probe", args), me, PAMTEST_OPEN_SESSION),
			PAM_SESSION_ERR);
	CU_ASSERT(!exists(marker_path(state, me)));
}

/* state_dir= replaces the config's directory. */
static void
test_state_dir_override(void)
{
	char a[PATH_MAX], b[PATH_MAX], args[3 * PATH_MAX];
	const char *conf;

	xfmt(a, sizeof(a), "%s", fresh_dir("st-a"));
	xfmt(b, sizeof(b), "%s", fresh_dir("st-b"));
	conf = write_conf("sd.conf", me, a, NULL);
	xfmt(args, sizeof(args), "conf=%s state_dir=%s debug", conf, b);
	set_items(NULL, NULL, NULL);
	CU_ASSERT_EQUAL(run_op(write_service(STACK_SUDO, "sudo", args), me, PAMTEST_OPEN_SESSION),
			PAM_SUCCESS);
	CU_ASSERT(exists(marker_path(b, me)));
	CU_ASSERT(!exists(marker_path(a, me)));
}

/* An unknown argument is ignored: the module still records. */
static void
test_unknown_argument(void)
{
	const char *state = fresh_dir("st-unknown"), *conf;
	char args[PATH_MAX + 64];
	long mark;

	conf = write_conf("unknown.conf", me, state, NULL);
	xfmt(args, sizeof(args), "frobnicate=1 conf=%s nodebug", conf);
	set_items(NULL, NULL, NULL);
	mark = log_mark();
	CU_ASSERT_EQUAL(run_op(write_service(STACK_SUDO, "sudo", args), me, PAMTEST_OPEN_SESSION),
			PAM_SUCCESS);
	CU_ASSERT_EQUAL(run_op(write_service(STACK_PROBE, "probe", args), me, PAMTEST_OPEN_SESSION),
			PAM_SUCCESS);
	CU_ASSERT(exists(marker_path(state, me)));
	CU_ASSERT(log_has(mark, "SYSLOG(3): LAPS-2005 unknown argument 'frobnicate=1', ignored"));
	CU_ASSERT(log_has(mark, "SYSLOG(3): LAPS-2005 unknown argument 'nodebug', ignored"));
}

/* Over-long and control-character PAM items are truncated / replaced. */
static void
test_hostile_items(void)
{
	const char *state = fresh_dir("st-items"), *conf;
	char args[PATH_MAX + 8], rhost[401];
	struct laps_marker m;

	memset(rhost, 'h', 400);
	rhost[400] = '\0';
	conf = write_conf("items.conf", me, state, NULL);
	xfmt(args, sizeof(args), "conf=%s", conf);
	set_items("eve\ninjected=1", rhost, "pts/\x1b[2J");
	CU_ASSERT_EQUAL(run_op(write_service(STACK_SUDO, "sudo", args), me, PAMTEST_OPEN_SESSION),
			PAM_SUCCESS);
	CU_ASSERT_FATAL(load_marker(state, me, &m) == 0);
	CU_ASSERT_STRING_EQUAL(m.ruser, "eve?injected=1");
	CU_ASSERT_EQUAL(strlen(m.rhost), LAPS_MARKER_FIELD_MAX);
	CU_ASSERT_STRING_EQUAL(m.tty, "pts/?[2J");
}

/* An 8-bit CSI (0x9b) and UTF-8 C1 in a PAM item reach the log escaped
 * (issue 16.5); valid UTF-8 stays. */
static void
test_hostile_items_logged_escaped(void)
{
	const char *state = fresh_dir("st-c1"), *conf;
	char args[PATH_MAX + 8];
	long mark;

	conf = write_conf("c1.conf", me, state, NULL);
	xfmt(args, sizeof(args), "conf=%s", conf);
	set_items("eve\x9b" "31m\xc2\x9b" "0m", "caf\xc3\xa9.example", "pts/1");
	mark = log_mark();
	CU_ASSERT_EQUAL(run_op(write_service(STACK_SUDO, "sudo", args), me, PAMTEST_OPEN_SESSION),
			PAM_SUCCESS);
	CU_ASSERT(log_has(mark, "ruser=eve\\x9b31m\\xc2\\x9b0m rhost=caf\xc3\xa9.example tty=pts/1"));
	CU_ASSERT(!log_has(mark, "\x9b"));
}

/* A corrupt marker is replaced on open and on close. */
static void
test_corrupt_marker(void)
{
	const char *state = fresh_dir("st-corrupt"), *conf, *svc;
	char args[PATH_MAX + 8], used[PATH_MAX];
	struct laps_marker m;
	time_t t0, t1;
	long mark;

	conf = write_conf("corrupt.conf", me, state, NULL);
	xfmt(args, sizeof(args), "conf=%s", conf);
	xfmt(used, sizeof(used), "%s/used", state);
	CU_ASSERT_FATAL(mkdir(used, 0700) == 0);
	set_items("carol", NULL, "tty1");

	CU_ASSERT_FATAL(laps_test_write_file(marker_path(state, me), "garbage\n\x01", 0600) == 0);
	svc = write_service(STACK_SUDO, "sudo", args);
	CU_ASSERT_EQUAL(run_op(svc, me, PAMTEST_OPEN_SESSION), PAM_SUCCESS);
	CU_ASSERT_FATAL(load_marker(state, me, &m) == 0);
	CU_ASSERT_STRING_EQUAL(m.ruser, "carol");
	CU_ASSERT_EQUAL(m.closed, 0);

	CU_ASSERT_FATAL(laps_test_write_file(marker_path(state, me), "laps-marker 7\n", 0600) == 0);
	mark = log_mark();
	t0 = time(NULL);
	CU_ASSERT_EQUAL(
	    run_op(write_service(STACK_PROBE, "probe", args), me, PAMTEST_CLOSE_SESSION),
	    PAM_SUCCESS);
	t1 = time(NULL);
	CU_ASSERT_FATAL(load_marker(state, me, &m) == 0);
	CU_ASSERT(m.closed >= (int64_t)t0 && m.closed <= (int64_t)t1);
	CU_ASSERT_EQUAL(m.opened, m.closed);
	CU_ASSERT_STRING_EQUAL(m.tty, "tty1");
	/* libescrow's log_warn() reached pam_syslog() at LOG_WARNING, not stderr */
	CU_ASSERT(log_has(mark, "SYSLOG(4): "));
	CU_ASSERT(log_has(mark, "unusable marker replaced"));
	CU_ASSERT(!log_has(mark, "\nlaps: "));
}

/* Close without any marker (session opened before pam_laps was enabled). */
static void
test_close_without_marker(void)
{
	const char *state = fresh_dir("st-nomarker"), *conf;
	char args[PATH_MAX + 8];
	struct laps_marker m;

	conf = write_conf("nomarker.conf", me, state, NULL);
	xfmt(args, sizeof(args), "conf=%s", conf);
	set_items(NULL, NULL, "tty2");
	CU_ASSERT_EQUAL(run_op(write_service(STACK_SUDO, "sudo", args), me, PAMTEST_CLOSE_SESSION),
			PAM_SUCCESS);
	CU_ASSERT_FATAL(load_marker(state, me, &m) == 0);
	CU_ASSERT(m.closed > 0);
	CU_ASSERT_EQUAL(m.opened, m.closed);
	CU_ASSERT_STRING_EQUAL(m.tty, "tty2");
}

/* ------------------------------------------------------------ failures */

/*
 * The failure contract: with these arguments, for user, the sshd-, su- and
 * sudo-like stacks open and close the session (PAM_SUCCESS), pam_laps
 * returns PAM_IGNORE (the probe gives pam_deny's PAM_SESSION_ERR), and
 * nothing appears under check_dir/used (when check_dir is not NULL).
 */
static void
expect_ignored(const char *args, const char *user, const char *check_dir, const char *logged)
{
	char used[PATH_MAX];
	int before = -1;
	const char *pw[] = {"secret", NULL};
	struct pamtest_conv_data conv = {.in_echo_off = pw};
	struct pam_testcase su[] = {
	    pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
	    pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
	    pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
	    pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
	};
	char passdb[128];
	long mark;

	xfmt(passdb, sizeof(passdb), "%s:secret:any\n", user);
	CU_ASSERT_FATAL(laps_test_write_file(tpath("passdb"), passdb, 0600) == 0);
	if (check_dir != NULL) {
		xfmt(used, sizeof(used), "%s/used", check_dir);
		before = count_entries(used);
	}
	set_items("alice", "192.0.2.9", "pts/5");
	mark = log_mark();
	CU_ASSERT_EQUAL(run_op(write_service(STACK_SSHD, "sshd", args), user, PAMTEST_OPEN_SESSION),
			PAM_SUCCESS);
	CU_ASSERT_EQUAL(run_op(write_service(STACK_SUDO, "sudo", args), user, PAMTEST_OPEN_SESSION),
			PAM_SUCCESS);
	CU_ASSERT_EQUAL(
	    run_op(write_service(STACK_SUDO, "sudo", args), user, PAMTEST_CLOSE_SESSION),
	    PAM_SUCCESS);
	CU_ASSERT_EQUAL(run_pamtest(write_service(STACK_SU, "su", args), user, &conv, su, NULL),
			PAMTEST_ERR_OK);
	CU_ASSERT_EQUAL(
	    run_op(write_service(STACK_PROBE, "probe", args), user, PAMTEST_OPEN_SESSION),
	    PAM_SESSION_ERR);
	CU_ASSERT_EQUAL(
	    run_op(write_service(STACK_PROBE, "probe", args), user, PAMTEST_CLOSE_SESSION),
	    PAM_SESSION_ERR);
	if (check_dir != NULL)
		CU_ASSERT_EQUAL(count_entries(used), before);
	/* The reason is logged through pam_syslog at LOG_ERR; nothing on stderr. */
	if (!log_has(mark, logged)) {
		printf("not logged: %s\n", logged);
		CU_FAIL("expected log message missing");
	}
	CU_ASSERT(!log_has(mark, "\nlaps: "));
}

static void
test_fail_missing_config(void)
{
	const char *state = fresh_dir("st-f1");
	char args[2 * PATH_MAX];

	xfmt(args, sizeof(args), "conf=%s state_dir=%s accounts=%s", tpath("nonexistent.conf"),
	     state, me);
	expect_ignored(args, me, state, "nonexistent.conf: not recording account use: ");
}

static void
test_fail_broken_config(void)
{
	const char *state = fresh_dir("st-f2");
	char args[PATH_MAX + 8], body[PATH_MAX + 64];

	xfmt(body, sizeof(body), "[agent]\nacounts = %s\nstate_dir = %s\n", me, state);
	CU_ASSERT_FATAL(laps_test_write_file(tpath("broken.conf"), body, 0600) == 0);
	xfmt(args, sizeof(args), "conf=%s", tpath("broken.conf"));
	expect_ignored(args, me, state, "acounts");

	CU_ASSERT_FATAL(laps_test_write_file(tpath("garbage.conf"),
					     "\x7f"
					     "ELF\x01\x02\n",
					     0600) == 0);
	xfmt(args, sizeof(args), "conf=%s", tpath("garbage.conf"));
	expect_ignored(args, me, state, "garbage.conf: not recording account use: ");
}

/* As root, a group/world-writable config is refused: still no failure. */
static void
test_fail_unsafe_config(void)
{
	const char *state = fresh_dir("st-f3"), *conf;
	char args[PATH_MAX + 8];

	if (geteuid() != 0)
		return; /* the owner/mode check applies to root only */
	conf = write_conf("unsafe.conf", me, state, NULL);
	CU_ASSERT_FATAL(chmod(conf, 0666) == 0);
	xfmt(args, sizeof(args), "conf=%s", conf);
	expect_ignored(args, me, state, "unsafe.conf: not recording account use: ");
}

/* The state directory cannot be written: it is a regular file, the
 * marker's place is taken by a directory, or (non-root) it is read-only. */
static void
test_fail_unwritable_state(void)
{
	const char *conf, *state;
	char args[PATH_MAX + 8], used[PATH_MAX];
	struct stat st;

	CU_ASSERT_FATAL(laps_test_write_file(tpath("statefile"), "x", 0600) == 0);
	conf = write_conf("sf.conf", me, tpath("statefile"), NULL);
	xfmt(args, sizeof(args), "conf=%s", conf);
	expect_ignored(args, me, NULL,
		       "SYSLOG(3): LAPS-2003 cannot record session open of managed account ");

	state = fresh_dir("st-f4");
	xfmt(used, sizeof(used), "%s/used", state);
	CU_ASSERT_FATAL(mkdir(used, 0700) == 0);
	CU_ASSERT_FATAL(mkdir(marker_path(state, me), 0700) == 0);
	conf = write_conf("sd4.conf", me, state, NULL);
	xfmt(args, sizeof(args), "conf=%s", conf);
	expect_ignored(args, me, state, "Is a directory");
	CU_ASSERT(stat(marker_path(state, me), &st) == 0 && S_ISDIR(st.st_mode));

	if (geteuid() != 0) {
		state = fresh_dir("st-f5");
		CU_ASSERT_FATAL(chmod(state, 0500) == 0);
		conf = write_conf("sd5.conf", me, state, NULL);
		xfmt(args, sizeof(args), "conf=%s", conf);
		expect_ignored(args, me, state, "Permission denied");
		CU_ASSERT(chmod(state, 0700) == 0);
	}
}

/* A managed account that is not in the passwd database. */
static void
test_fail_not_in_passwd(void)
{
	const char *state = fresh_dir("st-f6"), *conf;
	char args[PATH_MAX + 8];

	CU_ASSERT_FATAL(getpwnam("lapsnosuchuser") == NULL);
	conf = write_conf("nopw.conf", "lapsnosuchuser", state, NULL);
	xfmt(args, sizeof(args), "conf=%s", conf);
	expect_ignored(args, "lapsnosuchuser", state,
		       "'lapsnosuchuser' is not in the passwd database");
	CU_ASSERT(!exists(marker_path(state, "lapsnosuchuser")));
}

/* Bad argument values: empty account names, a relative state_dir. */
static void
test_fail_bad_argument_values(void)
{
	const char *state = fresh_dir("st-f7"), *conf;
	char args[PATH_MAX + 64];

	conf = write_conf("badargs.conf", me, state, NULL);
	xfmt(args, sizeof(args), "conf=%s accounts=,,", conf);
	expect_ignored(args, me, state, "accounts=: empty or over-long name");
	xfmt(args, sizeof(args), "conf=%s state_dir=relative/dir", conf);
	expect_ignored(args, me, state, "state_dir=: not an absolute path");
	xfmt(args, sizeof(args), "conf=%s accounts=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,%s", conf, me);
	expect_ignored(args, me, state, "accounts=: more than 16 names");
}

/* ------------------------------------------------------------- exports */

/* The module exports the session entry points and nothing of libescrow. */
static void
test_exports(void)
{
	void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	static const char *const hidden[] = {"laps_conf_load",
					     "laps_marker_store",
					     "laps_marker_load",
					     "laps_log_set_sink",
					     "laps_file_write_atomic",
					     "laps_seterr",
					     "pam_sm_authenticate",
					     "pam_sm_setcred",
					     "pam_sm_acct_mgmt",
					     "pam_sm_chauthtok",
					     NULL};
	size_t i;

	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT(dlsym(h, "pam_sm_open_session") != NULL);
	CU_ASSERT(dlsym(h, "pam_sm_close_session") != NULL);
	for (i = 0; hidden[i] != NULL; i++) {
		if (dlsym(h, hidden[i]) != NULL) {
			fprintf(stderr, "exported: %s\n", hidden[i]);
			CU_FAIL("internal symbol exported");
		}
	}
	dlclose(h);
}

static CU_TestInfo session_tests[] = {
    {"sshd-like: open, fields, close keeps fields", test_sshd_open_close},
    {"su-like: open and close", test_su_open_close},
    {"sudo-like: open", test_sudo_open},
    {"probe: managed use returns PAM_SUCCESS", test_probe_managed_success},
    {"unmanaged user: no marker, PAM_IGNORE", test_unmanaged},
    {"accounts= overrides the config", test_accounts_override},
    {"state_dir= overrides the config", test_state_dir_override},
    {"unknown argument is ignored", test_unknown_argument},
    {"hostile PAM items truncated and cleaned", test_hostile_items},
    {"hostile PAM items logged escaped", test_hostile_items_logged_escaped},
    {"corrupt marker replaced", test_corrupt_marker},
    {"close without marker", test_close_without_marker},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo failure_tests[] = {
    {"missing config", test_fail_missing_config},
    {"broken config", test_fail_broken_config},
    {"unsafe config mode (root)", test_fail_unsafe_config},
    {"unwritable state directory", test_fail_unwritable_state},
    {"managed account not in passwd", test_fail_not_in_passwd},
    {"bad argument values", test_fail_bad_argument_values},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo export_tests[] = {
    {"only pam_sm_open/close_session exported", test_exports},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"session", suite_init, suite_clean, NULL, NULL, session_tests},
    {"failures", suite_init, suite_clean, NULL, NULL, failure_tests},
    {"exports", suite_init, suite_clean, NULL, NULL, export_tests},
    CU_SUITE_INFO_NULL,
};

/*
 * End-to-end helper for tests/integration/pam_postauth.sh: with
 * PAM_LAPS_E2E_USER, _CONF, _STATE and _OP (open | close) set, run only
 * that session operation through an sshd-like stack and check the marker.
 */
static void
test_e2e_session(void)
{
	const char *user = getenv("PAM_LAPS_E2E_USER"), *conf = getenv("PAM_LAPS_E2E_CONF");
	const char *state = getenv("PAM_LAPS_E2E_STATE"), *op = getenv("PAM_LAPS_E2E_OP");
	bool opening;
	struct laps_marker m;
	struct passwd *pw;
	char args[PATH_MAX + 8];

	CU_ASSERT_FATAL(user != NULL && conf != NULL && state != NULL && op != NULL);
	opening = strcmp(op, "open") == 0;
	CU_ASSERT_FATAL(opening || strcmp(op, "close") == 0);
	CU_ASSERT_FATAL((pw = getpwnam(user)) != NULL);
	xfmt(args, sizeof(args), "conf=%s", conf);
	set_items(NULL, "192.0.2.10", "pts/7");
	CU_ASSERT_EQUAL(run_op(write_service(STACK_SSHD, "sshd", args), user,
			       opening ? PAMTEST_OPEN_SESSION : PAMTEST_CLOSE_SESSION),
			PAM_SUCCESS);
	CU_ASSERT_FATAL(load_marker(state, user, &m) == 0);
	CU_ASSERT_EQUAL(m.uid, (uint32_t)pw->pw_uid);
	CU_ASSERT_STRING_EQUAL(m.rhost, "192.0.2.10");
	if (opening) {
		CU_ASSERT_EQUAL(m.closed, 0);
	} else {
		CU_ASSERT(m.closed > 0);
	}
}

static CU_TestInfo e2e_tests[] = {
    {"session for laps-agent", test_e2e_session},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo e2e_suites[] = {
    {"e2e", suite_init, suite_clean, NULL, NULL, e2e_tests},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	if (getenv("PAM_LAPS_E2E_USER") != NULL)
		return laps_test_main(argc, argv, e2e_suites);
	return laps_test_main(argc, argv, suites);
}
