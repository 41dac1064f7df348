/*
 * test_core.c — err, fileio, marker and the backend wrappers.
 */
#include "config.h"

#include <CUnit/CUnit.h>
#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "escrow/backend.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/marker.h"
#include "escrow/secret.h"
#include "tests/unit/testutil.h"

/* the suite's temporary directory (laps_test_suite_init) */
static const char *const dir = laps_test_dir;

/* ---- err ---- */

static void
test_strerror_distinct(void)
{
	int a, b;

	for (a = LAPS_ERR_INTERNAL; a > LAPS_ERR_LAST_; a--) {
		CU_ASSERT_STRING_NOT_EQUAL(laps_strerror(a), "unknown error");
		for (b = a - 1; b > LAPS_ERR_LAST_; b--)
			CU_ASSERT_STRING_NOT_EQUAL(laps_strerror(a), laps_strerror(b));
	}
	CU_ASSERT_STRING_EQUAL(laps_strerror(LAPS_ERR_LAST_), "unknown error");
	CU_ASSERT_STRING_EQUAL(laps_strerror(5), "unknown error");
}

static void
test_seterr_detail(void)
{
	char buf[128];

	laps_clearerr();
	CU_ASSERT_STRING_EQUAL(laps_errdetail(), "");
	CU_ASSERT_EQUAL(laps_seterr(LAPS_ERR_CONFIG, "f.conf:%u: key", 7u), LAPS_ERR_CONFIG);
	CU_ASSERT_STRING_EQUAL(laps_errdetail(), "f.conf:7: key");
	CU_ASSERT_STRING_EQUAL(laps_errstr(LAPS_ERR_CONFIG, buf, sizeof(buf)),
			       "configuration error: f.conf:7: key");
	CU_ASSERT_TRUE(laps_err_transient(LAPS_ERR_UNAVAILABLE));
	CU_ASSERT_TRUE(laps_err_transient(LAPS_ERR_TIMEOUT));
	CU_ASSERT_FALSE(laps_err_transient(LAPS_ERR_AUTH));
	CU_ASSERT_FALSE(laps_err_transient(LAPS_ERR_CONFLICT));
}

/* laps_seterr(rc, "...%s", laps_errdetail()) formats from the buffer it
 * writes: with a long detail this garbled the text (issue 16.9). */
static void
test_seterr_alias(void)
{
	char longd[700], want[800];
	size_t i;

	for (i = 0; i < sizeof(longd) - 1; i++)
		longd[i] = (char)('a' + i % 26);
	longd[sizeof(longd) - 1] = '\0';
	laps_seterr(LAPS_ERR_FORMAT, "%s", longd);
	CU_ASSERT_STRING_EQUAL(laps_errdetail(), longd);
	laps_seterr(LAPS_ERR_FORMAT, "ldap: cn=host1,dc=example: %s", laps_errdetail());
	snprintf(want, sizeof(want), "ldap: cn=host1,dc=example: %s", longd);
	CU_ASSERT_STRING_EQUAL(laps_errdetail(), want);

	/* the prefixing helper */
	laps_seterr(LAPS_ERR_FORMAT, "%s", longd);
	CU_ASSERT_EQUAL(laps_seterr_prefix(LAPS_ERR_IO, "file: %s", "/x/y.json"), LAPS_ERR_IO);
	snprintf(want, sizeof(want), "file: /x/y.json: %s", longd);
	CU_ASSERT_STRING_EQUAL(laps_errdetail(), want);
	laps_clearerr();
	laps_seterr_prefix(LAPS_ERR_IO, "only %d", 1);
	CU_ASSERT_STRING_EQUAL(laps_errdetail(), "only 1");

	/* too long for the detail: cut, marked, never overflowing */
	laps_seterr(LAPS_ERR_FORMAT, "%s", longd);
	laps_seterr_prefix(LAPS_ERR_FORMAT, "%s", longd);
	CU_ASSERT_EQUAL(strlen(laps_errdetail()), LAPS_ERRDETAIL_MAX);
	CU_ASSERT_STRING_EQUAL(laps_errdetail() + LAPS_ERRDETAIL_MAX - 3, "...");
	CU_ASSERT_EQUAL(memcmp(laps_errdetail(), longd, sizeof(longd) - 1), 0);
}

/* ---- escaping (issue 16.5) ---- */

static void
check_escape(const char *in, size_t inlen, const char *want)
{
	char out[256], again[256];

	laps_escape(out, sizeof(out), in, inlen, NULL);
	if (strcmp(out, want) != 0)
		fprintf(stderr, "\n  escape: got '%s', want '%s'\n", out, want);
	CU_ASSERT_STRING_EQUAL(out, want);
	/* idempotent: escaping the output changes nothing */
	laps_escape(again, sizeof(again), out, strlen(out), NULL);
	CU_ASSERT_STRING_EQUAL(again, out);
}

static void
test_escape_rules(void)
{
	static const struct {
		const char *in;
		const char *want;
	} v[] = {
		{"plain text: 1/2 (ok) \\ kept", "plain text: 1/2 (ok) \\ kept"},
		{"a\nlaps-agent: lapsadmin: password rotated",
		 "a\\nlaps-agent: lapsadmin: password rotated"},
		{"cr\rtab\t", "cr\\rtab\\t"},
		{"\x1b[2J\x1b]0;pwned\x07", "\\x1b[2J\\x1b]0;pwned\\x07"},
		{"csi \x9b" "31m", "csi \\x9b31m"},             /* lone C1 byte */
		{"nel \xc2\x85 csi \xc2\x9b", "nel \\xc2\\x85 csi \\xc2\\x9b"}, /* C1 in UTF-8 */
		{"del \x7f", "del \\x7f"},
		{"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x94\x91", "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x94\x91"},
		{"bidi \xe2\x80\xae x", "bidi \\xe2\\x80\\xae x"},
		{"ls \xe2\x80\xa8", "ls \\xe2\\x80\\xa8"},
		{"overlong \xc0\xaf \xe0\x80\xaf", "overlong \\xc0\\xaf \\xe0\\x80\\xaf"},
		{"surrogate \xed\xa0\x80", "surrogate \\xed\\xa0\\x80"},
		{"cut \xc3", "cut \\xc3"},
		{"big \xf4\x90\x80\x80", "big \\xf4\\x90\\x80\\x80"},
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		check_escape(v[i].in, strlen(v[i].in), v[i].want);
	check_escape("nul\0x", 5, "nul\\x00x");
}

static void
test_escape_truncates(void)
{
	char out[16];
	int cut = 0;

	CU_ASSERT_EQUAL(laps_escape(out, sizeof(out), "0123456789abcdef", 16, &cut), 15);
	CU_ASSERT_STRING_EQUAL(out, "0123456789ab...");
	CU_ASSERT_EQUAL(cut, 1);
	/* never cuts an escape or a UTF-8 sequence in half */
	laps_escape(out, sizeof(out), "0123456789\x1b\x1b", 12, &cut);
	CU_ASSERT_STRING_EQUAL(out, "0123456789...");
	laps_escape(out, sizeof(out), "0123456789\xc3\xa9xxxx", 16, &cut);
	CU_ASSERT_STRING_EQUAL(out, "0123456789\xc3\xa9...");
	CU_ASSERT_EQUAL(laps_escape(out, sizeof(out), "exactly15bytes.", 15, &cut), 15);
	CU_ASSERT_STRING_EQUAL(out, "exactly15bytes.");
	CU_ASSERT_EQUAL(cut, 0);
}

/* A detail from a server reaches laps_errstr escaped. */
static void
test_errdetail_escaped(void)
{
	char buf[512];

	laps_seterr(LAPS_ERR_BACKEND, "ldap: server says: %s",
		    "busy\nlaps-agent: lapsadmin: password rotated\x1b[0m\x9b");
	CU_ASSERT_STRING_EQUAL(laps_errdetail(),
			       "ldap: server says: busy\\nlaps-agent: lapsadmin: password "
			       "rotated\\x1b[0m\\x9b");
	laps_errstr(LAPS_ERR_BACKEND, buf, sizeof(buf));
	CU_ASSERT_PTR_NULL(strchr(buf, '\n'));
	CU_ASSERT_PTR_NULL(strchr(buf, '\x1b'));
}

static char sink_buf[4096];
static int sink_lines;

static void
capture_sink(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	snprintf(sink_buf, sizeof(sink_buf), "%s", msg);
	sink_lines++;
}

static void
test_log_escapes(void)
{
	char big[3000];

	laps_log_set_sink(capture_sink, NULL);
	laps_log_set_level(LAPS_LOG_NOTICE);
	sink_lines = 0;
	log_err("ldap: %s", "refused\nlaps-agent: lapsadmin: password rotated");
	CU_ASSERT_EQUAL(sink_lines, 1);
	CU_ASSERT_STRING_EQUAL(sink_buf, "ldap: refused\\nlaps-agent: lapsadmin: password rotated");
	log_warn("pam: ruser=%s", "\x1b]2;x\x07\x9b" "1m caf\xc3\xa9");
	CU_ASSERT_STRING_EQUAL(sink_buf, "pam: ruser=\\x1b]2;x\\x07\\x9b1m caf\xc3\xa9");
	laps_seterr(LAPS_ERR_BACKEND, "%s", "x\ny");
	log_err_rc(LAPS_ERR_BACKEND, "write %s", "a\rb");
	CU_ASSERT_STRING_EQUAL(sink_buf, "write a\\rb: escrow backend error: x\\ny");
	/* capped */
	memset(big, '\x1b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_err("%s", big);
	CU_ASSERT_EQUAL(strlen(sink_buf), LAPS_LOG_MSG_MAX - 1); /* 255 escapes of 4 + "..." */
	CU_ASSERT_STRING_EQUAL(sink_buf + strlen(sink_buf) - 3, "...");
	CU_ASSERT_EQUAL(sink_lines, 4);
	laps_log_set_sink(NULL, NULL);
}

/* ---- fileio ---- */

static void
test_file_read_limits(void)
{
	char path[4200], *buf = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/small", dir);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path, "hello\n", 0600), 0);
	CU_ASSERT_EQUAL(laps_file_read(path, 6, 0, &buf, &len), 0);
	CU_ASSERT_EQUAL(len, 6);
	CU_ASSERT_STRING_EQUAL(buf, "hello\n");
	laps_file_free(buf, len, 0);
	buf = NULL;
	CU_ASSERT_EQUAL(laps_file_read(path, 5, 0, &buf, &len), LAPS_ERR_TOOBIG);
	CU_ASSERT_PTR_NULL(buf);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "small"));

	snprintf(path, sizeof(path), "%s/missing", dir);
	CU_ASSERT_EQUAL(laps_file_read(path, 100, 0, &buf, &len), LAPS_ERR_NOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "missing"));
}

/* The buffer follows the file, not the cap (issue 10: a 16 MiB cap used to
 * allocate and wipe 16 MiB for a 100-byte shadow file). */
static void
test_file_read_sized_from_file(void)
{
	char path[4200], big[3000], *buf = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/sized", dir);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path, "root:*:19000:0:99999:7:::\n", 0600), 0);
	CU_ASSERT_EQUAL_FATAL(laps_file_read(path, 16 * 1024 * 1024, 0, &buf, &len), 0);
	CU_ASSERT_EQUAL(len, 26);
	CU_ASSERT_STRING_EQUAL(buf, "root:*:19000:0:99999:7:::\n");
	CU_ASSERT(malloc_usable_size(buf) < 4096);
	laps_file_free(buf, len, 0);
	buf = NULL;
	/* exactly at the cap, and one byte over it */
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path, big, 0600), 0);
	CU_ASSERT_EQUAL(laps_file_read(path, sizeof big - 1, 0, &buf, &len), 0);
	CU_ASSERT_EQUAL(len, sizeof big - 1);
	CU_ASSERT_EQUAL(buf != NULL ? strlen(buf) : 0, sizeof big - 1);
	laps_file_free(buf, len, 0);
	buf = NULL;
	CU_ASSERT_EQUAL(laps_file_read(path, sizeof big - 2, 0, &buf, &len), LAPS_ERR_TOOBIG);
	CU_ASSERT_PTR_NULL(buf);
	/* a file whose size fstat does not know (procfs says 0) grows the
	 * buffer as it is read, still capped */
	CU_ASSERT_EQUAL(laps_file_read("/proc/self/status", 1 << 20, 0, &buf, &len), 0);
	CU_ASSERT(len > 256 && buf != NULL && strlen(buf) == len && strstr(buf, "Pid:") != NULL);
	laps_file_free(buf, len, 0);
	buf = NULL;
	CU_ASSERT_EQUAL(laps_file_read("/proc/self/status", 300, 0, &buf, &len), LAPS_ERR_TOOBIG);
	CU_ASSERT_PTR_NULL(buf);
	/* locked memory for secrets, same sizes */
	CU_ASSERT_EQUAL(laps_file_read("/proc/self/status", 1 << 20, LAPS_FILE_SECRET, &buf, &len),
			LAPS_ERR_PERM); /* 0444: group/other may read it */
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0600), 0);
	CU_ASSERT_EQUAL(laps_file_read(path, 1 << 24, LAPS_FILE_SECRET, &buf, &len), 0);
	CU_ASSERT_EQUAL(len, sizeof big - 1);
	laps_file_free(buf, len, LAPS_FILE_SECRET);
}

static void
test_file_read_symlink_and_secret_mode(void)
{
	char path[4200], link[4200], fifo[4200], *buf = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/secret", dir);
	snprintf(link, sizeof(link), "%s/secret.link", dir);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path, "s3cret", 0640), 0);
	CU_ASSERT_EQUAL(laps_file_read(path, 100, LAPS_FILE_SECRET, &buf, &len), LAPS_ERR_PERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "0640"));
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0600), 0);
	CU_ASSERT_EQUAL(laps_file_read(path, 100, LAPS_FILE_SECRET, &buf, &len), 0);
	CU_ASSERT_STRING_EQUAL(buf, "s3cret");
	laps_file_free(buf, len, LAPS_FILE_SECRET);
	buf = NULL;
	CU_ASSERT_EQUAL_FATAL(symlink(path, link), 0);
	/* a FIFO is refused at once instead of blocking the reader */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
	CU_ASSERT_EQUAL(laps_file_read(fifo, 100, 0, &buf, &len), LAPS_ERR_PERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "not a regular file"));
	CU_ASSERT_EQUAL(laps_file_read(link, 100, LAPS_FILE_SECRET, &buf, &len), LAPS_ERR_PERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "symbolic link"));
	CU_ASSERT_PTR_NULL(buf);
}

static void
test_file_read_owner_root(void)
{
	char path[4200], *buf = NULL;
	size_t len;

	if (geteuid() != 0) {
		fprintf(stderr, "(not root: owner checks only partly exercised) ");
		return;
	}
	snprintf(path, sizeof(path), "%s/owned", dir);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path, "x", 0644), 0);
	CU_ASSERT_EQUAL(laps_file_read(path, 10, LAPS_FILE_OWNER_ROOT, &buf, &len), 0);
	laps_file_free(buf, len, 0);
	buf = NULL;
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0664), 0);
	CU_ASSERT_EQUAL(laps_file_read(path, 10, LAPS_FILE_OWNER_ROOT, &buf, &len), LAPS_ERR_PERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "writable"));
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0644), 0);
	CU_ASSERT_EQUAL_FATAL(chown(path, 65534, 65534), 0);
	CU_ASSERT_EQUAL(laps_file_read(path, 10, LAPS_FILE_OWNER_ROOT, &buf, &len), LAPS_ERR_PERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "not owned by root"));
}

/* Lock files: never block on a FIFO, never follow a symlink, as root only
 * root-owned and not group/world-writable (issue 16.6, 16.8). */
static void
test_lockfile_open(void)
{
	char path[4200], link[4200];
	int fd = -1;

	snprintf(path, sizeof(path), "%s/lk", dir);
	CU_ASSERT_EQUAL(laps_lockfile_open(path, &fd), 0); /* created */
	CU_ASSERT(fd >= 0);
	if (fd >= 0)
		close(fd);
	fd = -1;
	CU_ASSERT_EQUAL(laps_lockfile_open(path, &fd), 0); /* existing */
	if (fd >= 0)
		close(fd);
	fd = -1;
	snprintf(link, sizeof(link), "%s/lk.link", dir);
	CU_ASSERT_EQUAL_FATAL(symlink(path, link), 0);
	CU_ASSERT_EQUAL(laps_lockfile_open(link, &fd), LAPS_ERR_PERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "symbolic link"));
	CU_ASSERT_EQUAL(fd, -1);
	snprintf(link, sizeof(link), "%s/lk.fifo", dir);
	CU_ASSERT_EQUAL_FATAL(mkfifo(link, 0600), 0);
	CU_ASSERT_EQUAL(laps_lockfile_open(link, &fd), LAPS_ERR_PERM); /* returns at once */
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "lk.fifo: not a regular file"));
	CU_ASSERT_EQUAL(fd, -1);
	if (geteuid() != 0)
		return;
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0666), 0);
	CU_ASSERT_EQUAL(laps_lockfile_open(path, &fd), LAPS_ERR_PERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "writable"));
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0600), 0);
	CU_ASSERT_EQUAL_FATAL(chown(path, 65534, 65534), 0);
	CU_ASSERT_EQUAL(laps_lockfile_open(path, &fd), LAPS_ERR_PERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "not owned by root"));
	CU_ASSERT_EQUAL(fd, -1);
}

static void
test_write_atomic(void)
{
	char path[4200], *buf = NULL;
	size_t len;
	struct stat st;

	snprintf(path, sizeof(path), "%s/atomic", dir);
	CU_ASSERT_EQUAL(laps_file_write_atomic(path, "one", 3, 0600), 0);
	CU_ASSERT_EQUAL(laps_file_write_atomic(path, "second", 6, 0600), 0);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(laps_file_read(path, 100, 0, &buf, &len), 0);
	CU_ASSERT_STRING_EQUAL(buf, "second");
	laps_file_free(buf, len, 0);
	/* into a directory that does not exist: an error, nothing left behind */
	snprintf(path, sizeof(path), "%s/nodir/atomic", dir);
	CU_ASSERT_EQUAL(laps_file_write_atomic(path, "x", 1, 0600), LAPS_ERR_IO);
}

static void
test_mkdir_p_and_parse_int(void)
{
	char path[4200];
	struct stat st;
	long long v = 0;

	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	CU_ASSERT_EQUAL(laps_mkdir_p(path, 0700), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_TRUE(S_ISDIR(st.st_mode));
	CU_ASSERT_EQUAL(laps_mkdir_p(path, 0700), 0);

	CU_ASSERT_EQUAL(laps_parse_int64("42", 0, 100, &v), 0);
	CU_ASSERT_EQUAL(v, 42);
	CU_ASSERT_EQUAL(laps_parse_int64("101", 0, 100, &v), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_parse_int64("4x", 0, 100, &v), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_parse_int64(" 4", 0, 100, &v), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_parse_int64("", 0, 100, &v), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_parse_int64("99999999999999999999", 0, 100, &v), LAPS_ERR_INVALID);
}

/* ---- secret ---- */

static void
test_secret_memory(void)
{
	char *s = laps_secret_strdup("pa55word");

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s, "pa55word");
	CU_ASSERT_TRUE(laps_secret_equal(s, "pa55word"));
	CU_ASSERT_FALSE(laps_secret_equal(s, "pa55wore"));
	CU_ASSERT_FALSE(laps_secret_equal(s, "pa55word2"));
	laps_secret_free(s);
	s = laps_secret_strndup("abcdef", 3);
	CU_ASSERT_STRING_EQUAL(s, "abc");
	laps_secret_free(s);

	/* the wiping realloc (libcurl's allocator) keeps the content when it
	 * grows and the prefix when it shrinks; NULL is malloc */
	s = laps_wipe_realloc(NULL, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memcpy(s, "token=x", 8);
	s = laps_wipe_realloc(s, 4096);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s, "token=x");
	s = laps_wipe_realloc(s, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(memcmp(s, "tok", 3), 0);
	laps_wipe_free(s);
	laps_wipe_free(NULL);
}

/* ---- marker ---- */

static void
fill_marker(struct laps_marker *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->account, sizeof(m->account), "lapsadmin");
	m->uid = 1001;
	m->opened = 1700000000;
	m->closed = 0;
	snprintf(m->service, sizeof(m->service), "sshd");
	snprintf(m->ruser, sizeof(m->ruser), "alice");
	snprintf(m->rhost, sizeof(m->rhost), "192.0.2.7");
	snprintf(m->tty, sizeof(m->tty), "pts/0");
}

static void
test_marker_roundtrip(void)
{
	struct laps_marker m, r;
	char buf[LAPS_MARKER_MAX + 1], path[4200];
	size_t len = 0;

	fill_marker(&m);
	CU_ASSERT_EQUAL_FATAL(laps_marker_format(&m, buf, sizeof(buf), &len), 0);
	CU_ASSERT_STRING_EQUAL(buf, "laps-marker 1\naccount=lapsadmin\nuid=1001\nopened=1700000000\n"
				    "closed=0\nservice=sshd\nruser=alice\nrhost=192.0.2.7\ntty=pts/0\n");
	CU_ASSERT_EQUAL(laps_marker_parse(buf, len, &r), 0);
	CU_ASSERT_EQUAL(memcmp(&m, &r, sizeof(m)), 0);

	CU_ASSERT_EQUAL(laps_marker_path(dir, "lapsadmin", path, sizeof(path)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(path, "/used/lapsadmin"));
	CU_ASSERT_EQUAL(laps_marker_path(dir, "../etc", path, sizeof(path)), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_marker_path(dir, "a/b", path, sizeof(path)), LAPS_ERR_INVALID);

	snprintf(path, sizeof(path), "%s/used", dir);
	CU_ASSERT_EQUAL_FATAL(laps_mkdir_p(path, 0700), 0);
	CU_ASSERT_EQUAL_FATAL(laps_marker_path(dir, "lapsadmin", path, sizeof(path)), 0);
	CU_ASSERT_EQUAL(laps_marker_load(path, &r), LAPS_ERR_NOTFOUND);
	m.closed = 1700000300;
	CU_ASSERT_EQUAL(laps_marker_store(path, &m), 0);
	CU_ASSERT_EQUAL(laps_marker_load(path, &r), 0);
	CU_ASSERT_EQUAL(r.closed, 1700000300);
	CU_ASSERT_STRING_EQUAL(r.rhost, "192.0.2.7");
}

/* ---- marker updates: lock and monotonic (issue 16.12) ---- */

static int hold_pipe = -1;
static struct timespec hold_for = {0, 300 * 1000 * 1000};

/* The close's write held back: tell the parent the marker was read (the
 * lock is held), then wait a while (hold_for) before writing. */
static void
hold_close(void)
{
	struct timespec t = hold_for;

	if (write(hold_pipe, "L", 1) != 1)
		_exit(3);
	nanosleep(&t, NULL);
}

static void
marker_dir(const char *name, char *path, size_t len)
{
	char d[4200];

	snprintf(d, sizeof(d), "%s/%s/used", dir, name);
	CU_ASSERT_EQUAL_FATAL(laps_mkdir_p(d, 0700), 0);
	snprintf(path, len, "%s/lapsadmin", d);
}

/*
 * The race of issue 16.12, made deterministic: an old session's close has
 * read the marker (opened = T1) and its write is held back; meanwhile the
 * second admin's login opens (T2).  The newer login's time must survive.
 * Without the lock the open writes first and the close's write puts T1
 * back.
 */
static void
test_marker_close_races_open(void)
{
	struct laps_marker fresh, r;
	char path[4300], c;
	int pfd[2], status = 0;
	pid_t pid;

	fill_marker(&fresh);
	marker_dir("race", path, sizeof(path));
	CU_ASSERT_EQUAL_FATAL(laps_marker_update(path, &fresh, true, 1000), 0); /* old login */
	CU_ASSERT_EQUAL_FATAL(pipe(pfd), 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		hold_pipe = pfd[1];
		laps_marker_test_hold = hold_close;
		_exit(laps_marker_update(path, &fresh, false, 1500) == 0 ? 0 : 1);
	}
	close(pfd[1]);
	CU_ASSERT_EQUAL(read(pfd[0], &c, 1), 1); /* the close has read opened=1000 */
	snprintf(fresh.ruser, sizeof(fresh.ruser), "bob");
	CU_ASSERT_EQUAL(laps_marker_update(path, &fresh, true, 2000), 0); /* the new login */
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(pfd[0]);
	CU_ASSERT_EQUAL_FATAL(laps_marker_load(path, &r), 0);
	CU_ASSERT_EQUAL(r.opened, 2000);
	CU_ASSERT_STRING_EQUAL(r.ruser, "bob");
	CU_ASSERT_EQUAL(r.closed, 0);
}

/*
 * Issue 22.7: the close holds the lock for 1.5 s (its fsyncs under I/O
 * pressure), well past LAPS_MARKER_LOCK_WAIT_MS: the new login gives up
 * waiting and writes without the lock, then the close renames its older
 * view (opened = T1) over it.  The login's use must survive: readers merge
 * it (laps_marker_load_merged), and the next locked update writes it into
 * the marker itself and removes the side marker.
 */
static void
test_marker_close_holds_lock_long(void)
{
	struct laps_marker fresh, r;
	char path[4300], side[4300], c;
	int pfd[2], status = 0;
	pid_t pid;
	DIR *d;
	struct dirent *de;
	int sides = 0;

	fill_marker(&fresh);
	marker_dir("longhold", path, sizeof(path));
	CU_ASSERT_EQUAL_FATAL(laps_marker_update(path, &fresh, true, 1000), 0); /* old login */
	CU_ASSERT_EQUAL_FATAL(pipe(pfd), 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		hold_pipe = pfd[1];
		hold_for.tv_sec = 1;
		hold_for.tv_nsec = 500 * 1000 * 1000;
		laps_marker_test_hold = hold_close;
		_exit(laps_marker_update(path, &fresh, false, 1500) == 0 ? 0 : 1);
	}
	close(pfd[1]);
	CU_ASSERT_EQUAL(read(pfd[0], &c, 1), 1); /* the close holds the lock, opened=1000 read */
	snprintf(fresh.ruser, sizeof(fresh.ruser), "bob");
	CU_ASSERT_EQUAL(laps_marker_update(path, &fresh, true, 2000), 0); /* gives up waiting */
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(pfd[0]);
	/* the close's older view is on disk; a reader still sees bob's login */
	CU_ASSERT_EQUAL_FATAL(laps_marker_load_merged(path, &r), 0);
	CU_ASSERT_EQUAL(r.opened, 2000);
	CU_ASSERT_STRING_EQUAL(r.ruser, "bob");
	/* the next locked update (another close) keeps it, in the marker itself */
	snprintf(fresh.ruser, sizeof(fresh.ruser), "carol");
	CU_ASSERT_EQUAL(laps_marker_update(path, &fresh, false, 2500), 0);
	CU_ASSERT_EQUAL_FATAL(laps_marker_load(path, &r), 0);
	CU_ASSERT_EQUAL(r.opened, 2000);
	CU_ASSERT_STRING_EQUAL(r.ruser, "bob");
	CU_ASSERT_EQUAL(r.closed, 2500);
	snprintf(side, sizeof(side), "%s/longhold/used", dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d = opendir(side));
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".unlocked.") != NULL)
			sides++;
	closedir(d);
	CU_ASSERT_EQUAL(sides, 0); /* merged, then removed */
}

static void
test_marker_update_monotonic(void)
{
	struct laps_marker fresh, r;
	char path[4300], lock[4300];

	fill_marker(&fresh);
	marker_dir("mono", path, sizeof(path));
	/* close without a marker: opened = closed = now */
	CU_ASSERT_EQUAL(laps_marker_update(path, &fresh, false, 500), 0);
	CU_ASSERT_EQUAL_FATAL(laps_marker_load(path, &r), 0);
	CU_ASSERT_EQUAL(r.opened, 500);
	CU_ASSERT_EQUAL(r.closed, 500);
	/* open, close: the close keeps the open's fields */
	CU_ASSERT_EQUAL(laps_marker_update(path, &fresh, true, 3000), 0);
	snprintf(fresh.ruser, sizeof(fresh.ruser), "mallory");
	CU_ASSERT_EQUAL(laps_marker_update(path, &fresh, false, 3100), 0);
	CU_ASSERT_EQUAL_FATAL(laps_marker_load(path, &r), 0);
	CU_ASSERT_EQUAL(r.opened, 3000);
	CU_ASSERT_EQUAL(r.closed, 3100);
	CU_ASSERT_STRING_EQUAL(r.ruser, "alice");
	/* times never move backwards (a clock step, a late writer) */
	CU_ASSERT_EQUAL(laps_marker_update(path, &fresh, false, 3050), 0);
	CU_ASSERT_EQUAL_FATAL(laps_marker_load(path, &r), 0);
	CU_ASSERT_EQUAL(r.closed, 3100);
	CU_ASSERT_EQUAL(laps_marker_update(path, &fresh, true, 2000), 0);
	CU_ASSERT_EQUAL_FATAL(laps_marker_load(path, &r), 0);
	CU_ASSERT_EQUAL(r.opened, 3000);
	CU_ASSERT_EQUAL(r.closed, 0);
	/* a foreign marker is replaced */
	snprintf(fresh.account, sizeof(fresh.account), "other");
	CU_ASSERT_EQUAL(laps_marker_store(path, &fresh), 0);
	fill_marker(&fresh);
	CU_ASSERT_EQUAL(laps_marker_update(path, &fresh, false, 4000), 0);
	CU_ASSERT_EQUAL_FATAL(laps_marker_load(path, &r), 0);
	CU_ASSERT_STRING_EQUAL(r.account, "lapsadmin");
	CU_ASSERT_EQUAL(r.opened, 4000);

	/* a FIFO at the lock's place neither hangs nor stops the update */
	snprintf(lock, sizeof(lock), "%s/mono/used/.lock", dir);
	CU_ASSERT_EQUAL(unlink(lock), 0);
	CU_ASSERT_EQUAL_FATAL(mkfifo(lock, 0600), 0);
	CU_ASSERT_EQUAL(laps_marker_update(path, &fresh, true, 5000), 0);
	CU_ASSERT_EQUAL_FATAL(laps_marker_load(path, &r), 0);
	CU_ASSERT_EQUAL(r.opened, 5000);
	CU_ASSERT_EQUAL(laps_marker_update(NULL, &fresh, true, 1), LAPS_ERR_INVALID);
}

static void
test_marker_control_chars_cleaned(void)
{
	struct laps_marker m, r;
	char buf[LAPS_MARKER_MAX + 1];
	size_t len;

	fill_marker(&m);
	snprintf(m.rhost, sizeof(m.rhost), "evil\nclosed=0");
	CU_ASSERT_EQUAL_FATAL(laps_marker_format(&m, buf, sizeof(buf), &len), 0);
	CU_ASSERT_EQUAL(laps_marker_parse(buf, len, &r), 0);
	CU_ASSERT_STRING_EQUAL(r.rhost, "evil?closed=0");
}

static void
test_marker_bad(void)
{
	static const struct {
		const char *text;
		int rc;
		const char *detail;
	} cases[] = {
		{"", LAPS_ERR_FORMAT, "empty"},
		{"laps-marker 2\n", LAPS_ERR_VERSION, "unsupported"},
		{"hello\n", LAPS_ERR_FORMAT, "header"},
		{"laps-marker 1\naccount=a\n", LAPS_ERR_FORMAT, "missing"},
		{"laps-marker 1\naccount=a", LAPS_ERR_FORMAT, "terminated"},
		{"laps-marker 1\nfoo=1\n", LAPS_ERR_FORMAT, "unknown key"},
		{"laps-marker 1\nuid=-1\n", LAPS_ERR_FORMAT, "uid"},
		{"laps-marker 1\nuid=1x\n", LAPS_ERR_FORMAT, "uid"},
		{"laps-marker 1\nuid=1\nuid=2\n", LAPS_ERR_FORMAT, "duplicate"},
		{"laps-marker 1\naccount=../x\n", LAPS_ERR_FORMAT, "account"},
		{"laps-marker 1\nnoequals\n", LAPS_ERR_FORMAT, "'='"},
		{"laps-marker 1\ntty=a\tb\n", LAPS_ERR_FORMAT, "control"},
	};
	struct laps_marker m;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = laps_marker_parse(cases[i].text, strlen(cases[i].text), &m);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (strstr(laps_errdetail(), cases[i].detail) == NULL) {
			fprintf(stderr, "case %zu: detail '%s' lacks '%s'\n", i, laps_errdetail(),
				cases[i].detail);
			CU_FAIL("detail");
		}
	}
	CU_ASSERT_EQUAL(laps_marker_parse("laps-marker 1\n\0", 15, &m), LAPS_ERR_FORMAT);
}

/* ---- backend wrappers, with a minimal in-memory ops table ---- */

static int fake_calls;
static char fake_last_device[LAPS_DEVICE_MAX + 1];

static int
fake_open(const struct laps_conf *cfg, enum laps_backend_role role,
	  const struct laps_backend_env *env, void **ctx)
{
	*ctx = &fake_calls;
	return 0;
}
static void
fake_close(void *ctx)
{
}
static int
fake_read(void *ctx, const char *device, const char *account, struct laps_record *out,
	  struct laps_version *ver)
{
	fake_calls++;
	snprintf(fake_last_device, sizeof(fake_last_device), "%s", device);
	return LAPS_ERR_NOTFOUND;
}
/* A backend that hands back whatever record it is told to (fake_rec), as a
 * directory would after an admin copied a value between entries. */
static struct laps_record fake_rec;
static int
fake_read_rec(void *ctx, const char *device, const char *account, struct laps_record *out,
	      struct laps_version *ver)
{
	snprintf(ver->tag, sizeof(ver->tag), "v1");
	return laps_record_copy(out, &fake_rec);
}
static int
fake_history(void *ctx, const char *device, const char *account, size_t n,
	     struct laps_record_list *out)
{
	struct laps_record r;
	int rc;

	laps_record_init(&r);
	if ((rc = laps_record_copy(&r, &fake_rec)) != 0)
		return rc;
	snprintf(r.device, sizeof(r.device), "%s", device); /* one of its own ... */
	r.rotated_at = 1;
	rc = laps_record_list_push(out, &r);
	laps_record_clear(&r);
	if (rc == 0)
		rc = laps_record_list_push(out, &fake_rec); /* ... and fake_rec */
	return rc;
}

static int
fake_write(void *ctx, const struct laps_record *rec, const char *pw,
	   const struct laps_version *exp, struct laps_version *nv)
{
	return 0;
}
static int
fake_confirm(void *ctx, const char *d, const char *a, const char *r, int64_t e)
{
	fake_calls++;
	return 0;
}

static const struct laps_backend_ops fake_ops = {
	.name = "fake", .caps = LAPS_BCAP_CLEARTEXT, .open = fake_open, .close = fake_close,
	.read = fake_read, .write = fake_write, .confirm = fake_confirm,
};
static const struct laps_backend_ops moved_ops = {
	.name = "moved", .open = fake_open, .close = fake_close, .read = fake_read_rec,
	.write = fake_write, .confirm = fake_confirm, .history = fake_history,
};
static const struct laps_backend_ops broken_ops = {.name = "broken", .open = fake_open};

static void
test_backend_wrappers(void)
{
	struct laps_conf cfg;
	struct laps_backend *b = NULL;
	struct laps_record_list l;
	struct laps_record rec;
	struct laps_version v;
	char devs[2][LAPS_DEVICE_MAX + 1];
	size_t n = 7;

	memset(&cfg, 0, sizeof(cfg));
	CU_ASSERT_EQUAL(laps_backend_open(&broken_ops, &cfg, LAPS_ROLE_AGENT, NULL, &b),
			LAPS_ERR_INTERNAL);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_EQUAL_FATAL(laps_backend_open(&fake_ops, &cfg, LAPS_ROLE_AGENT, NULL, &b), 0);
	CU_ASSERT_STRING_EQUAL(laps_backend_describe(b), "fake");
	fake_calls = 0;
	CU_ASSERT_EQUAL(laps_backend_read(b, "Host1.Example.TEST", "lapsadmin", &rec, &v),
			LAPS_ERR_NOTFOUND);
	CU_ASSERT_STRING_EQUAL(fake_last_device, "host1.example.test");
	CU_ASSERT_EQUAL(laps_backend_read(b, "", "lapsadmin", &rec, &v), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_backend_read(b, "h", "", &rec, &v), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(fake_calls, 1);
	CU_ASSERT_EQUAL(laps_backend_confirm(b, "h", "lapsadmin", "short", 0), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_backend_confirm(b, "h", "lapsadmin",
					     "0123456789abcdef0123456789abcdef", 0),
			0);
	CU_ASSERT_EQUAL(laps_backend_history(b, "h", "lapsadmin", 5, &l), LAPS_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(laps_backend_set_expiry(b, "h", "lapsadmin", 0), LAPS_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(laps_backend_find(b, "h", devs, 2, &n), LAPS_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(n, 0);
	laps_backend_close(b);
}

/* Issue 16.3: a record found in another device's or account's entry is
 * refused by the shared read path, whatever the backend. */
static void
test_backend_record_place(void)
{
	struct laps_conf cfg;
	struct laps_backend *b = NULL;
	struct laps_record_list l = {NULL, 0};
	struct laps_record rec;
	struct laps_version v;

	memset(&cfg, 0, sizeof(cfg));
	laps_record_init(&rec);
	laps_record_init(&fake_rec);
	snprintf(fake_rec.device, sizeof(fake_rec.device), "host2.example.test");
	snprintf(fake_rec.account, sizeof(fake_rec.account), "lapsadmin");
	snprintf(fake_rec.rotation_id, sizeof(fake_rec.rotation_id), "%032d", 7);
	fake_rec.rotated_at = 1700000000;
	fake_rec.password = laps_secret_strdup("host2-password");
	CU_ASSERT_EQUAL_FATAL(laps_backend_open(&moved_ops, &cfg, LAPS_ROLE_ADMIN, NULL, &b), 0);

	/* the same device (any case) and account: returned */
	CU_ASSERT_EQUAL(laps_backend_read(b, "HOST2.example.test", "lapsadmin", &rec, &v), 0);
	CU_ASSERT_STRING_EQUAL(rec.password, "host2-password");
	CU_ASSERT_STRING_EQUAL(v.tag, "v1");

	/* the short host name of an FQDN device (find's semantics): returned;
	 * another short name, a label prefix or another dotted name: refused */
	CU_ASSERT_EQUAL(laps_backend_read(b, "host2", "lapsadmin", &rec, &v), 0);
	CU_ASSERT_STRING_EQUAL(rec.password, "host2-password");
	CU_ASSERT_EQUAL(laps_backend_read(b, "host1", "lapsadmin", &rec, &v), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(laps_backend_read(b, "host", "lapsadmin", &rec, &v), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(laps_backend_read(b, "host2.example", "lapsadmin", &rec, &v),
			LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NULL(rec.password);

	/* host2's record in host1's entry: an error naming what was found */
	laps_clearerr();
	CU_ASSERT_EQUAL(laps_backend_read(b, "host1.example.test", "lapsadmin", &rec, &v),
			LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "record for host2.example.test/lapsadmin "
							 "found in host1.example.test's entry"));
	CU_ASSERT_PTR_NULL(rec.password); /* nothing of host2 handed out */
	CU_ASSERT_STRING_EQUAL(rec.device, "");
	CU_ASSERT_STRING_EQUAL(v.tag, "");

	/* another account of the same device; account names are case-sensitive */
	CU_ASSERT_EQUAL(laps_backend_read(b, "host2.example.test", "root", &rec, &v),
			LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "host2.example.test/lapsadmin"));
	CU_ASSERT_EQUAL(laps_backend_read(b, "host2.example.test", "LapsAdmin", &rec, &v),
			LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NULL(rec.password);

	/* history: one foreign record refuses the whole list */
	CU_ASSERT_EQUAL(laps_backend_history(b, "host2.example.test", "lapsadmin", 5, &l), 0);
	CU_ASSERT_EQUAL(l.n, 2);
	laps_record_list_free(&l);
	CU_ASSERT_EQUAL(laps_backend_history(b, "host1.example.test", "lapsadmin", 5, &l),
			LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "found in host1.example.test's entry"));
	CU_ASSERT_EQUAL(l.n, 0);
	CU_ASSERT_PTR_NULL(l.v);

	laps_backend_close(b);
	laps_record_clear(&rec);
	laps_record_clear(&fake_rec);
}

static CU_TestInfo err_tests[] = {
	{"strerror distinct", test_strerror_distinct},
	{"seterr detail", test_seterr_detail},
	{"seterr from its own detail", test_seterr_alias},
	{"escape rules", test_escape_rules},
	{"escape truncates", test_escape_truncates},
	{"error detail escaped", test_errdetail_escaped},
	{"logger escapes", test_log_escapes},
	CU_TEST_INFO_NULL,
};
static CU_TestInfo fileio_tests[] = {
	{"buffer sized from the file", test_file_read_sized_from_file},
	{"read limits", test_file_read_limits},
	{"symlink and secret mode", test_file_read_symlink_and_secret_mode},
	{"owner root", test_file_read_owner_root},
	{"lock files", test_lockfile_open},
	{"write atomic", test_write_atomic},
	{"mkdir -p and parse int", test_mkdir_p_and_parse_int},
	{"secret memory", test_secret_memory},
	CU_TEST_INFO_NULL,
};
static CU_TestInfo marker_tests[] = {
    {"round trip", test_marker_roundtrip},
    {"control characters cleaned", test_marker_control_chars_cleaned},
    {"malformed", test_marker_bad},
    {"close racing a newer open", test_marker_close_races_open},
    {"close holding the lock past the wait", test_marker_close_holds_lock_long},
    {"update monotonic, lock file", test_marker_update_monotonic},
    CU_TEST_INFO_NULL,
};
static CU_TestInfo backend_tests[] = {
	{"wrappers", test_backend_wrappers},
	{"record bound to its place", test_backend_record_place},
	CU_TEST_INFO_NULL,
};
static CU_SuiteInfo suites[] = {
	{"err", NULL, NULL, NULL, NULL, err_tests},
	{"fileio", laps_test_suite_init, laps_test_suite_cleanup, NULL, NULL, fileio_tests},
	{"marker", laps_test_suite_init, laps_test_suite_cleanup, NULL, NULL, marker_tests},
	{"backend", NULL, NULL, NULL, NULL, backend_tests},
	CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	return laps_test_main(argc, argv, suites);
}
