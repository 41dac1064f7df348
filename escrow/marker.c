/*
 * marker.c — the post-authentication usage marker (see marker.h and
 * docs/MARKER.md).  Linked into pam_laps: never exits or aborts.
 */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/marker.h"

#define MARKER_MAGIC "laps-marker 1"

/*
 * The same rule as laps_record_account_ok(); not shared because pam_laps
 * links this object, and record.o would drag json-c into the module
 * (tests/integration/pam_symbols.sh checks its imports).
 */
static int
valid_account(const char *a)
{
	size_t n = strlen(a), i;

	if (n == 0 || n > LAPS_ACCOUNT_MAX || a[0] == '.' || a[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = a[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || (c == '$' && i == n - 1)))
			return 0;
	}
	return 1;
}

int
laps_marker_path(const char *state_dir, const char *account, char *buf, size_t len)
{
	if (state_dir == NULL || account == NULL || !valid_account(account))
		return laps_seterr(LAPS_ERR_INVALID, "marker: bad account name");
	if (laps_snprintf(buf, len, "%s/used/%s", state_dir, account) != 0)
		return laps_seterr(LAPS_ERR_TOOBIG, "marker: path too long");
	return 0;
}

static int
printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int
set_field(char *dst, size_t cap, const char *v, size_t vlen, const char *key)
{
	if (vlen >= cap)
		return laps_seterr(LAPS_ERR_FORMAT, "marker: value of '%s' too long", key);
	if (!printable(v, vlen))
		return laps_seterr(LAPS_ERR_FORMAT, "marker: control character in '%s'", key);
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
	return 0;
}

static int
set_int(int64_t *dst, const char *v, size_t vlen, long long max, const char *key)
{
	char tmp[24];
	long long x;

	if (vlen == 0 || vlen >= sizeof(tmp))
		return laps_seterr(LAPS_ERR_FORMAT, "marker: bad number in '%s'", key);
	memcpy(tmp, v, vlen);
	tmp[vlen] = '\0';
	if (tmp[0] == '+' || tmp[0] == '-' || laps_parse_int64(tmp, 0, max, &x) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "marker: bad number in '%s'", key);
	*dst = x;
	return 0;
}

enum marker_field {
	F_ACCOUNT = 1, F_UID = 2, F_OPENED = 4, F_CLOSED = 8, F_SERVICE = 16,
	F_RUSER = 32, F_RHOST = 64, F_TTY = 128, F_ALL = 255
};

/* The first line: the magic, or a clear error for another version. */
static int
check_header(const char *p, size_t llen)
{
	if (llen > 12 && memcmp(p, "laps-marker ", 12) == 0 &&
	    (llen != strlen(MARKER_MAGIC) || memcmp(p, MARKER_MAGIC, llen) != 0))
		return laps_seterr(LAPS_ERR_VERSION, "marker: unsupported version line '%.*s'",
				   (int)(llen > 40 ? 40 : llen), p);
	if (llen != strlen(MARKER_MAGIC) || memcmp(p, MARKER_MAGIC, llen) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "marker: missing '%s' header", MARKER_MAGIC);
	return 0;
}

/* One "key=value" line (llen bytes at p, no newline) into *m; *bit receives
 * the field's bit; seen: the bits of the fields already read (duplicates
 * are refused). */
static int
parse_line(struct laps_marker *m, const char *p, size_t llen, unsigned seen, unsigned *bit)
{
	const char *eq, *val;
	size_t klen, vlen;
	int64_t v;
	int rc;

	if ((eq = memchr(p, '=', llen)) == NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "marker: line without '='");
	klen = (size_t)(eq - p);
	val = eq + 1;
	vlen = llen - klen - 1;
#define KEY(s) (klen == sizeof(s) - 1 && memcmp(p, s, klen) == 0)
	if (KEY("account")) {
		*bit = F_ACCOUNT;
		rc = set_field(m->account, sizeof(m->account), val, vlen, "account");
		if (rc == 0 && !valid_account(m->account))
			rc = laps_seterr(LAPS_ERR_FORMAT, "marker: bad account name");
	} else if (KEY("uid")) {
		*bit = F_UID;
		rc = set_int(&v, val, vlen, 4294967294LL, "uid");
		m->uid = (uint32_t)v;
	} else if (KEY("opened")) {
		*bit = F_OPENED;
		rc = set_int(&m->opened, val, vlen, INT64_MAX / 2, "opened");
	} else if (KEY("closed")) {
		*bit = F_CLOSED;
		rc = set_int(&m->closed, val, vlen, INT64_MAX / 2, "closed");
	} else if (KEY("service")) {
		*bit = F_SERVICE;
		rc = set_field(m->service, sizeof(m->service), val, vlen, "service");
	} else if (KEY("ruser")) {
		*bit = F_RUSER;
		rc = set_field(m->ruser, sizeof(m->ruser), val, vlen, "ruser");
	} else if (KEY("rhost")) {
		*bit = F_RHOST;
		rc = set_field(m->rhost, sizeof(m->rhost), val, vlen, "rhost");
	} else if (KEY("tty")) {
		*bit = F_TTY;
		rc = set_field(m->tty, sizeof(m->tty), val, vlen, "tty");
	} else {
		rc = laps_seterr(LAPS_ERR_FORMAT, "marker: unknown key '%.*s'",
				 (int)(klen > 32 ? 32 : klen), p);
	}
#undef KEY
	if (rc == 0 && (seen & *bit) != 0)
		rc = laps_seterr(LAPS_ERR_FORMAT, "marker: duplicate key '%.*s'", (int)klen, p);
	return rc;
}

int
laps_marker_parse(const char *buf, size_t len, struct laps_marker *out)
{
	struct laps_marker m;
	const char *p, *end, *nl;
	unsigned seen = 0, bit = 0;
	int rc, first = 1;

	if (buf == NULL || out == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "marker: bad arguments");
	if (len > LAPS_MARKER_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "marker: larger than %d bytes", LAPS_MARKER_MAX);
	if (memchr(buf, '\0', len) != NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "marker: NUL byte");
	memset(&m, 0, sizeof(m));
	for (p = buf, end = buf + len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return laps_seterr(LAPS_ERR_FORMAT, "marker: last line not terminated");
		if (first) {
			first = 0;
			rc = check_header(p, (size_t)(nl - p));
		} else {
			rc = parse_line(&m, p, (size_t)(nl - p), seen, &bit);
			seen |= bit;
		}
		if (rc != 0)
			return rc;
	}
	if (first)
		return laps_seterr(LAPS_ERR_FORMAT, "marker: empty");
	if ((seen & F_ALL) != F_ALL)
		return laps_seterr(LAPS_ERR_FORMAT, "marker: missing field(s)");
	*out = m;
	return 0;
}

/* Copy a PAM-supplied value, replacing control characters and truncating. */
static void
clean_copy(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; src != NULL && src[i] != '\0' && i + 1 < cap; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? '?' : src[i];
	dst[i] = '\0';
}

int
laps_marker_format(const struct laps_marker *m, char *buf, size_t len, size_t *outlen)
{
	char service[LAPS_MARKER_FIELD_MAX + 1], ruser[LAPS_MARKER_FIELD_MAX + 1];
	char rhost[LAPS_MARKER_FIELD_MAX + 1], tty[LAPS_MARKER_FIELD_MAX + 1];
	int n;

	if (m == NULL || buf == NULL || !valid_account(m->account) || m->opened < 0 ||
	    m->closed < 0)
		return laps_seterr(LAPS_ERR_INVALID, "marker: bad fields");
	clean_copy(service, sizeof(service), m->service);
	clean_copy(ruser, sizeof(ruser), m->ruser);
	clean_copy(rhost, sizeof(rhost), m->rhost);
	clean_copy(tty, sizeof(tty), m->tty);
	n = snprintf(buf, len,
		     MARKER_MAGIC "\naccount=%s\nuid=%u\nopened=%lld\nclosed=%lld\n"
				  "service=%s\nruser=%s\nrhost=%s\ntty=%s\n",
		     m->account, (unsigned)m->uid, (long long)m->opened, (long long)m->closed,
		     service, ruser, rhost, tty);
	if (n < 0 || (size_t)n >= len)
		return laps_seterr(LAPS_ERR_TOOBIG, "marker: buffer too small");
	if (outlen != NULL)
		*outlen = (size_t)n;
	return 0;
}

int
laps_marker_load(const char *path, struct laps_marker *out)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = laps_file_read(path, LAPS_MARKER_MAX, LAPS_FILE_MISSING_OK | LAPS_FILE_OWNER_ROOT,
				 &buf, &len)) != 0)
		return rc;
	rc = laps_marker_parse(buf, len, out);
	laps_file_free(buf, len, 0);
	return rc;
}

int
laps_marker_store(const char *path, const struct laps_marker *m)
{
	char buf[LAPS_MARKER_MAX + 1];
	size_t len = 0;
	int rc;

	if ((rc = laps_marker_format(m, buf, sizeof(buf), &len)) != 0)
		return rc;
	return laps_file_write_atomic(path, buf, len, 0600);
}

void (*laps_marker_test_hold)(void);

static int64_t
monotonic_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Take the update lock "<dir of path>/.lock" within LAPS_MARKER_LOCK_WAIT_MS.
 * *fd is the locked descriptor, or -1 with a detail when it could not be
 * had (then the caller goes on without it).  The file is opened without
 * following links and without blocking (a FIFO planted there must not
 * hang a login) and must be a regular file.
 */
static int
lock_take(const char *path, int *fd)
{
	char lpath[4096];
	const char *slash = strrchr(path, '/');
	int64_t deadline;
	struct stat st;
	int lfd = -1, rc;

	*fd = -1;
	if (slash == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "marker: %s: no directory", path);
	if (laps_snprintf(lpath, sizeof(lpath), "%.*s/.lock", (int)(slash - path), path) != 0)
		return laps_seterr(LAPS_ERR_TOOBIG, "marker: lock path too long");
	lfd = open(lpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
	if (lfd < 0)
		return laps_seterr(LAPS_ERR_IO, "%s: %s", lpath, strerror(errno));
	if (fstat(lfd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = laps_seterr(LAPS_ERR_PERM, "%s: not a regular file", lpath);
		goto fail;
	}
	deadline = monotonic_ms() + LAPS_MARKER_LOCK_WAIT_MS;
	for (;;) {
		struct timespec nap = {0, 10 * 1000 * 1000};

		if (flock(lfd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			rc = laps_seterr(LAPS_ERR_IO, "flock %s: %s", lpath, strerror(errno));
			goto fail;
		}
		if (monotonic_ms() >= deadline) {
			rc = laps_seterr(LAPS_ERR_LOCKED, "%s: still held after %d ms", lpath,
					 LAPS_MARKER_LOCK_WAIT_MS);
			goto fail;
		}
		(void)nanosleep(&nap, NULL);
	}
	*fd = lfd;
	return 0;
fail:
	close(lfd);
	return rc;
}

/* The merge of laps_marker_update (see marker.h): *m from fresh and the
 * marker read from disk (old_rc its load result). */
static void
merge(struct laps_marker *m, const struct laps_marker *fresh, const struct laps_marker *old,
      int old_rc, bool opening, int64_t now, const char *path)
{
	bool usable = old_rc == 0 && strcmp(old->account, fresh->account) == 0;

	if (!usable && old_rc != LAPS_ERR_NOTFOUND)
		log_warn_rc(old_rc == 0 ? LAPS_ERR_FORMAT : old_rc, "%s: unusable marker replaced",
			    path);
	if (opening) {
		*m = *fresh;
		m->opened = now;
		m->closed = 0;
		if (usable && old->opened > now)
			m->opened = old->opened; /* never backwards */
		return;
	}
	if (usable) {
		*m = *old; /* keep who/where/when of the last open */
		m->closed = old->closed > now ? old->closed : now;
		return;
	}
	*m = *fresh; /* none or unusable: a session opened before pam_laps was on */
	m->opened = now;
	m->closed = now;
}

/*
 * Side markers.  An update that cannot take the lock (a close holding it
 * through slow fsyncs) writes the main marker anyway, but a later write by
 * the lock holder may rename an older view over it.  So it also writes its
 * result to a file of its own, "<dir>/.<account>.unlocked.<pid>.<ns>",
 * that only it writes: the next locked update merges every side marker of
 * the account into what it read and deletes them after its write, and
 * readers (laps-agent, status) merge them too (laps_marker_load_merged),
 * so the use survives any later write.
 */
#define SIDE_TAG ".unlocked."
#define SIDE_MAX 16 /* side markers merged (and deleted) per locked update */

struct side_list {
	char name[SIDE_MAX][300];
	size_t n;
};

/* b into a (both of one account): the later open's who/where/opened, the
 * later close. */
static void
merge_side(struct laps_marker *a, const struct laps_marker *b)
{
	int64_t closed = a->closed > b->closed ? a->closed : b->closed;

	if (b->opened > a->opened)
		*a = *b;
	a->closed = closed;
}

/* Merge the side markers of path's account into *m (rc: the main marker's
 * load result, updated: NOTFOUND becomes 0 when a side marker exists).
 * Their paths into *sl when sl is not NULL. */
static int
side_merge(const char *path, struct laps_marker *m, int rc, struct side_list *sl)
{
	const char *slash = strrchr(path, '/');
	char dir[4096], prefix[300], full[4400];
	struct laps_marker side;
	struct dirent *de;
	size_t pl;
	DIR *d;

	if (slash == NULL || (size_t)(slash - path) >= sizeof dir ||
	    laps_snprintf(prefix, sizeof prefix, ".%s" SIDE_TAG, slash + 1) != 0)
		return rc;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if ((d = opendir(dir)) == NULL)
		return rc;
	pl = strlen(prefix);
	while ((de = readdir(d)) != NULL && (sl == NULL || sl->n < SIDE_MAX)) {
		if (strncmp(de->d_name, prefix, pl) != 0 ||
		    laps_snprintf(full, sizeof full, "%s/%s", dir, de->d_name) != 0 ||
		    laps_marker_load(full, &side) != 0 || strcmp(side.account, slash + 1) != 0)
			continue;
		if (rc == LAPS_ERR_NOTFOUND) {
			*m = side;
			rc = 0;
		} else if (rc == 0 && strcmp(m->account, side.account) == 0) {
			merge_side(m, &side);
		}
		if (sl != NULL && strlen(de->d_name) < sizeof sl->name[0])
			memcpy(sl->name[sl->n++], de->d_name, strlen(de->d_name) + 1);
	}
	closedir(d);
	laps_clearerr();
	return rc;
}

int
laps_marker_load_merged(const char *path, struct laps_marker *out)
{
	int rc;

	memset(out, 0, sizeof *out);
	rc = laps_marker_load(path, out);
	if (rc != 0 && rc != LAPS_ERR_NOTFOUND)
		return rc;
	rc = side_merge(path, out, rc, NULL);
	return rc == LAPS_ERR_NOTFOUND ? laps_seterr(rc, "%s: no marker", path) : rc;
}

/* Write m to a side marker of its own (the update ran without the lock). */
static int
side_store(const char *path, const struct laps_marker *m)
{
	const char *slash = strrchr(path, '/');
	char side[4400];
	struct timespec ts;

	if (slash == NULL)
		return LAPS_ERR_INVALID;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	if (laps_snprintf(side, sizeof side, "%.*s/.%s" SIDE_TAG "%ld.%lld%09ld",
			  (int)(slash - path), path, slash + 1, (long)getpid(),
			  (long long)ts.tv_sec, (long)ts.tv_nsec) != 0)
		return LAPS_ERR_TOOBIG;
	return laps_marker_store(side, m);
}

static void
side_remove(const char *path, const struct side_list *sl)
{
	const char *slash = strrchr(path, '/');
	char full[4400];
	size_t i;

	for (i = 0; slash != NULL && i < sl->n; i++)
		if (laps_snprintf(full, sizeof full, "%.*s/%s", (int)(slash - path), path,
				  sl->name[i]) == 0)
			(void)unlink(full);
}

int
laps_marker_update(const char *path, const struct laps_marker *fresh, bool opening, int64_t now)
{
	struct laps_marker old, m;
	struct side_list sl;
	int lfd = -1, rc, src;

	if (path == NULL || fresh == NULL || now < 0)
		return laps_seterr(LAPS_ERR_INVALID, "marker update: bad arguments");
	if ((rc = lock_take(path, &lfd)) != 0)
		log_warn_rc(rc, "updating %s without its lock", path);
	laps_clearerr();
	memset(&old, 0, sizeof(old));
	sl.n = 0;
	rc = laps_marker_load(path, &old);
	if (!opening && rc != 0 && rc != LAPS_ERR_NOTFOUND && rc != LAPS_ERR_FORMAT &&
	    rc != LAPS_ERR_VERSION && rc != LAPS_ERR_TOOBIG)
		goto out; /* a close that cannot read it (I/O, permissions) changes nothing */
	if (lfd >= 0 && (rc == 0 || rc == LAPS_ERR_NOTFOUND))
		rc = side_merge(path, &old, rc, &sl);
	merge(&m, fresh, &old, rc, opening, now, path);
	if (laps_marker_test_hold != NULL)
		laps_marker_test_hold();
	rc = laps_marker_store(path, &m);
	if (lfd >= 0 && rc == 0)
		side_remove(path, &sl); /* merged into what was just written */
	if (lfd < 0 && (src = side_store(path, &m)) != 0)
		log_warn_rc(src, "%s: no side marker for an update without the lock", path);
out:
	if (lfd >= 0)
		close(lfd); /* releases the flock */
	return rc;
}
