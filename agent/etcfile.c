/*
 * etcfile.c — the password-file primitives (etcfile.h) and the parsers of
 * passwd and shadow lines (account.h) that the shadow method
 * (agent/account_shadow.c), account creation (agent/account_create.c) and
 * the lock handling (agent/lockstate.c) share.  Calls nothing of theirs.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/etcfile.h"
#include "escrow/err.h"
#include "escrow/fileio.h"

#define PWD_LOCK_WAIT_MS 15000 /* lckpwdf waits 15 s too */

int
laps_root_path(const char *root, const char *rel, char *buf, size_t len)
{
	size_t rl;

	if (root == NULL || *root == '\0' || strcmp(root, "/") == 0)
		return laps_snprintf(buf, len, "%s", rel);
	rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	if (rl > 4096)
		return laps_seterr(LAPS_ERR_TOOBIG, "root path too long");
	return laps_snprintf(buf, len, "%.*s%s", (int)rl, root, rel);
}

/* The [start, end) of field n (0-based) of a line [line, eol). */
static int
field_span(const char *line, const char *eol, unsigned n, const char **fs, const char **fe)
{
	const char *p = line, *q;
	unsigned i;

	for (i = 0;; i++) {
		q = memchr(p, ':', (size_t)(eol - p));
		if (q == NULL)
			q = eol;
		if (i == n) {
			*fs = p;
			*fe = q;
			return 0;
		}
		if (q == eol)
			return LAPS_ERR_FORMAT;
		p = q + 1;
	}
}

/* Locate account's line: ls, le = start and end (excluding '\n'). */
static int
find_line(const char *buf, size_t len, const char *account, const char *what, const char **ls,
	  const char **le)
{
	const char *p = buf, *end = buf + len, *eol, *found = NULL, *found_end = NULL;
	size_t alen = strlen(account);

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > alen && memcmp(p, account, alen) == 0 && p[alen] == ':') {
			if (found != NULL)
				return laps_seterr(LAPS_ERR_FORMAT, "%s: duplicate entry for '%s'",
						   what, account);
			found = p;
			found_end = eol;
		}
		p = eol + 1;
	}
	if (found == NULL)
		return laps_seterr(LAPS_ERR_NOTFOUND, "%s: no entry for '%s'", what, account);
	*ls = found;
	*le = found_end;
	return 0;
}

static int
parse_day(const char *s, const char *e, long long *out)
{
	char tmp[24];
	size_t n = (size_t)(e - s);

	if (n == 0) {
		*out = -1;
		return 0;
	}
	if (n >= sizeof tmp)
		return LAPS_ERR_FORMAT;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (laps_parse_int64(tmp, -1, 100000000, out) != 0)
		return LAPS_ERR_FORMAT;
	return 0;
}

int
laps_shadow_find(const char *buf, size_t len, const char *account, struct laps_shadow_entry *out)
{
	const char *ls, *le, *fs, *fe;
	size_t n;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = find_line(buf, len, account, "shadow", &ls, &le)) != 0)
		return rc;
	if (field_span(ls, le, 1, &fs, &fe) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "shadow: entry for '%s' has no hash field",
				   account);
	n = (size_t)(fe - fs);
	if (n > LAPS_HASH_MAX)
		return laps_seterr(LAPS_ERR_FORMAT, "shadow: hash of '%s' too long", account);
	memcpy(out->hash, fs, n);
	out->hash[n] = '\0';
	out->lastchg = -1;
	out->expire = -1;
	if (field_span(ls, le, 2, &fs, &fe) == 0 && parse_day(fs, fe, &out->lastchg) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "shadow: bad last-change field for '%s'",
				   account);
	if (field_span(ls, le, 7, &fs, &fe) == 0 && parse_day(fs, fe, &out->expire) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "shadow: bad expire field for '%s'", account);
	return 0;
}

/* The spans of account's hash [hs, he) and last-change day [ds, de): the
 * fields a rotation rewrites.  One check for inspect and set alike. */
static int
rewrite_spans(const char *buf, size_t len, const char *account, const char **hs, const char **he,
	      const char **ds, const char **de)
{
	const char *ls, *le;
	int rc;

	if ((rc = find_line(buf, len, account, "shadow", &ls, &le)) != 0)
		return rc;
	if (field_span(ls, le, 1, hs, he) != 0 || field_span(ls, le, 2, ds, de) != 0)
		return laps_seterr(
		    LAPS_ERR_FORMAT,
		    "shadow: entry for '%s' has fewer than 3 fields (name, password, "
		    "last change); refusing to rotate a malformed entry",
		    account);
	return 0;
}

int
laps_shadow_rewritable(const char *buf, size_t len, const char *account)
{
	const char *hs, *he, *ds, *de;

	return rewrite_spans(buf, len, account, &hs, &he, &ds, &de);
}

int
laps_shadow_replace(const char *buf, size_t len, const char *account, const char *hash,
		    long long day, char **out, size_t *outlen)
{
	const char *hs = NULL, *he = NULL, *ds = NULL, *de = NULL;
	char daybuf[24];
	size_t dlen, hlen, n, off;
	char *res;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (strpbrk(hash, ":\n") != NULL || (hlen = strlen(hash)) > LAPS_HASH_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "hash contains ':' or newline");
	if ((rc = rewrite_spans(buf, len, account, &hs, &he, &ds, &de)) != 0)
		return rc;
	if ((rc = laps_snprintf(daybuf, sizeof daybuf, "%lld", day)) != 0)
		return rc;
	dlen = strlen(daybuf);
	/* prefix up to the hash, new hash, ':', [old hash end .. day start) is
	 * just ":", new day, rest from the end of the day field */
	n = (size_t)(hs - buf) + hlen + 1 + dlen + (len - (size_t)(de - buf));
	if ((res = malloc(n + 1)) == NULL)
		return LAPS_ERR_NOMEM;
	off = 0;
	memcpy(res + off, buf, (size_t)(hs - buf));
	off += (size_t)(hs - buf);
	memcpy(res + off, hash, hlen);
	off += hlen;
	res[off++] = ':';
	memcpy(res + off, daybuf, dlen);
	off += dlen;
	memcpy(res + off, de, len - (size_t)(de - buf));
	off += len - (size_t)(de - buf);
	res[off] = '\0';
	*out = res;
	*outlen = off;
	return 0;
}

int
laps_passwd_find(const char *buf, size_t len, const char *account, uint32_t *uid, bool *shadowed)
{
	const char *ls, *le, *fs, *fe;
	char tmp[16];
	long long v;
	size_t n;
	int rc;

	if ((rc = find_line(buf, len, account, "passwd", &ls, &le)) != 0)
		return rc;
	if (field_span(ls, le, 1, &fs, &fe) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "passwd: malformed entry for '%s'", account);
	*shadowed = (fe - fs == 1 && *fs == 'x');
	if (field_span(ls, le, 2, &fs, &fe) != 0 || (n = (size_t)(fe - fs)) == 0 || n >= sizeof tmp)
		return laps_seterr(LAPS_ERR_FORMAT, "passwd: malformed uid for '%s'", account);
	memcpy(tmp, fs, n);
	tmp[n] = '\0';
	if (laps_parse_int64(tmp, 0, UINT32_MAX - 1, &v) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "passwd: malformed uid for '%s'", account);
	*uid = (uint32_t)v;
	return 0;
}

/* lckpwdf() semantics under a root prefix; *fd receives the lock fd. */
static int
pwd_lock(const char *root, int *fd)
{
	struct flock fl;
	char path[4200];
	unsigned waited = 0;
	int lfd, rc;

	*fd = -1;
	if ((rc = laps_root_path(root, "/etc/.pwd.lock", path, sizeof path)) != 0)
		return rc;
	if ((rc = laps_lockfile_open(path, &lfd)) != 0)
		return rc;
	for (;;) {
		memset(&fl, 0, sizeof fl);
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(lfd, F_SETLK, &fl) == 0)
			break;
		if ((errno != EACCES && errno != EAGAIN) || waited >= PWD_LOCK_WAIT_MS) {
			rc = laps_seterr(LAPS_ERR_LOCKED, "%s: %s", path,
					 errno == EACCES || errno == EAGAIN
					     ? "held by another process"
					     : strerror(errno));
			close(lfd);
			return rc;
		}
		usleep(100 * 1000);
		waited += 100;
	}
	*fd = lfd;
	return 0;
}

static void
pwd_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing releases the POSIX lock */
}

/* Write data to <shadow>+ with shadow's owner/group/mode, fsync, rename. */
static int
shadow_replace_file(const char *shadow, const char *data, size_t len)
{
	char tmp[4300];
	struct stat st;
	ssize_t w;
	size_t off = 0;
	int fd = -1, rc;

	if ((rc = laps_snprintf(tmp, sizeof tmp, "%s+", shadow)) != 0)
		return rc;
	if (lstat(shadow, &st) != 0)
		return laps_seterr(LAPS_ERR_IO, "%s: %s", shadow, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return laps_seterr(LAPS_ERR_PERM, "%s: not a regular file", shadow);
	/* a stale shadow+ from a crashed writer: we hold the lock, remove it */
	if (unlink(tmp) != 0 && errno != ENOENT)
		return laps_seterr(LAPS_ERR_IO, "%s: %s", tmp, strerror(errno));
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return laps_seterr(LAPS_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
	if (fchown(fd, st.st_uid, st.st_gid) != 0 || fchmod(fd, st.st_mode & 07777) != 0) {
		rc =
		    laps_seterr(LAPS_ERR_IO, "%s: cannot set owner/mode: %s", tmp, strerror(errno));
		goto fail;
	}
	while (off < len) {
		w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = laps_seterr(LAPS_ERR_IO, "write %s: %s", tmp,
					 w < 0 ? strerror(errno) : "short write");
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		rc = laps_seterr(LAPS_ERR_IO, "fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = laps_seterr(LAPS_ERR_IO, "close %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, shadow) != 0) {
		rc = laps_seterr(LAPS_ERR_IO, "rename %s: %s", tmp, strerror(errno));
		goto fail;
	}
	return laps_fsync_dir_of(shadow);
fail:
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	return rc;
}

/* ---- shared with the method, account creation and lock handling (etcfile.h) ---- */

int
laps_etc_lock(const char *root, int *fd)
{
	return pwd_lock(root, fd);
}

void
laps_etc_unlock(int fd)
{
	pwd_unlock(fd);
}

int
laps_etc_replace_file(const char *path, const char *data, size_t len)
{
	return shadow_replace_file(path, data, len);
}

int
laps_etc_find_line(const char *buf, size_t len, const char *name, const char *what, const char **ls,
		   const char **le)
{
	return find_line(buf, len, name, what, ls, le);
}

int
laps_etc_field_span(const char *line, const char *eol, unsigned n, const char **fs, const char **fe)
{
	return field_span(line, eol, n, fs, fe);
}
