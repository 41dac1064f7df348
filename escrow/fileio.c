/*
 * fileio.c — safe file reading and atomic replacement.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/secret.h"

static int
check_owner_mode(const char *path, const struct stat *st, unsigned flags)
{
	uid_t euid = geteuid();

	if (!S_ISREG(st->st_mode))
		return laps_seterr(LAPS_ERR_PERM, "%s: not a regular file", path);
	if ((flags & LAPS_FILE_SECRET) && (st->st_mode & 077) != 0)
		return laps_seterr(LAPS_ERR_PERM,
				   "%s: mode %04o gives group/other access to a secret (use 0600)",
				   path, (unsigned)(st->st_mode & 07777));
	if ((flags & LAPS_FILE_OWNER_ROOT) && euid == 0) {
		if (st->st_uid != 0)
			return laps_seterr(LAPS_ERR_PERM, "%s: not owned by root (uid %u)", path,
					   (unsigned)st->st_uid);
		if ((st->st_mode & 022) != 0)
			return laps_seterr(LAPS_ERR_PERM, "%s: group- or world-writable (mode %04o)",
					   path, (unsigned)(st->st_mode & 07777));
	}
	if ((flags & LAPS_FILE_OWNER_SELF) && st->st_uid != euid && st->st_uid != 0)
		return laps_seterr(LAPS_ERR_PERM, "%s: owned by uid %u, not by you", path,
				   (unsigned)st->st_uid);
	return 0;
}

/* A buffer of cap bytes for file contents: locked memory for secrets. */
static char *
buf_alloc(size_t cap, unsigned flags)
{
	return (flags & LAPS_FILE_SECRET) ? laps_secret_alloc(cap) : malloc(cap);
}

/*
 * Grow *buf (cap bytes, the first `used` of them read) to newcap, keeping
 * what was read and wiping the old copy.  0 or LAPS_ERR_NOMEM.
 */
static int
buf_grow(char **buf, size_t used, size_t newcap, unsigned flags)
{
	char *nb;

	if ((nb = buf_alloc(newcap, flags)) == NULL)
		return LAPS_ERR_NOMEM;
	memcpy(nb, *buf, used);
	laps_file_free(*buf, used, flags);
	*buf = nb;
	return 0;
}

/*
 * Read fd to its end into a buffer sized from st_size (plus one byte, so a
 * file that grew after fstat is noticed), growing it when the file grew, but
 * never past max + 1.  Only what is read is ever written to the buffer.
 */
static int
read_all(int fd, const char *path, off_t size, size_t max, unsigned flags, char **out,
	 size_t *outlen)
{
	size_t cap, newcap, got = 0;
	char *buf = NULL;
	ssize_t n;
	int rc = LAPS_ERR_INTERNAL;

	cap = (size > 0 ? (size_t)size : 0) + 1;
	if (cap < 256)
		cap = 256 > max + 1 ? max + 1 : 256; /* /proc-like files say 0 */
	if ((buf = buf_alloc(cap, flags)) == NULL)
		return laps_seterr(LAPS_ERR_NOMEM, "%s: out of memory", path);
	for (;;) {
		if (got == cap) {
			if (cap > max) {
				rc = laps_seterr(LAPS_ERR_TOOBIG, "%s: larger than %zu bytes",
						 path, max);
				goto out;
			}
			newcap = cap > (max + 1) / 2 ? max + 1 : 2 * cap;
			if ((rc = buf_grow(&buf, got, newcap, flags)) != 0) {
				rc = laps_seterr(rc, "%s: out of memory", path);
				goto out;
			}
			cap = newcap;
		}
		n = read(fd, buf + got, cap - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = laps_seterr(LAPS_ERR_IO, "%s: read: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == cap && (rc = buf_grow(&buf, got, got + 1, flags)) != 0) { /* room for NUL */
		rc = laps_seterr(rc, "%s: out of memory", path);
		goto out;
	}
	buf[got] = '\0';
	*out = buf;
	*outlen = got;
	buf = NULL; /* success: ownership passes to the caller */
	rc = 0;
out:
	if (buf != NULL)
		laps_file_free(buf, got, flags);
	return rc;
}

int
laps_file_read(const char *path, size_t max, unsigned flags, char **out, size_t *len)
{
	struct stat st;
	size_t got = 0;
	int fd = -1, rc = LAPS_ERR_INTERNAL;

	if (out == NULL || path == NULL || max == SIZE_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "laps_file_read: no path");
	*out = NULL;
	if (len != NULL)
		*len = 0;

	/* O_NONBLOCK: a FIFO planted at path must not hang us before the
	 * regular-file check below; cleared again once we know it is a file. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
		if (errno == ENOENT) {
			rc = (flags & LAPS_FILE_MISSING_OK)
				 ? LAPS_ERR_NOTFOUND
				 : laps_seterr(LAPS_ERR_NOTFOUND, "%s: no such file", path);
		} else if (errno == ELOOP) {
			rc = laps_seterr(LAPS_ERR_PERM, "%s: is a symbolic link (refused)", path);
		} else if (errno == EACCES) {
			rc = laps_seterr(LAPS_ERR_PERM, "%s: %s", path, strerror(errno));
		} else {
			rc = laps_seterr(LAPS_ERR_IO, "%s: %s", path, strerror(errno));
		}
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = laps_seterr(LAPS_ERR_IO, "%s: fstat: %s", path, strerror(errno));
		goto out;
	}
	if ((rc = check_owner_mode(path, &st, flags)) != 0)
		goto out;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		rc = laps_seterr(LAPS_ERR_IO, "%s: fcntl: %s", path, strerror(errno));
		goto out;
	}
	if ((unsigned long long)st.st_size > (unsigned long long)max) {
		rc = laps_seterr(LAPS_ERR_TOOBIG, "%s: larger than %zu bytes", path, max);
		goto out;
	}
	if ((rc = read_all(fd, path, st.st_size, max, flags, out, &got)) != 0)
		goto out;
	if (len != NULL)
		*len = got;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

void
laps_file_free(char *buf, size_t len, unsigned flags)
{
	size_t usable;

	if (buf == NULL)
		return;
	if (flags & LAPS_FILE_SECRET) {
		laps_secret_free(buf); /* knows its size and wipes all of it */
		return;
	}
	/* Wipe what was read (len) and its NUL.  Older callers passed the
	 * read cap here; never wipe past the allocation for them. */
	usable = malloc_usable_size(buf);
	laps_freezero(buf, len < usable ? len + 1 : usable);
}

int
laps_lockfile_open(const char *path, int *fd)
{
	struct stat st;
	int lfd, rc;

	*fd = -1;
	/* O_RDWR|O_NONBLOCK: a FIFO planted at path opens at once (and is
	 * refused below) instead of blocking until someone opens the other end */
	lfd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0600);
	if (lfd < 0) {
		if (errno == ELOOP)
			return laps_seterr(LAPS_ERR_PERM, "%s: is a symbolic link (refused)", path);
		return laps_seterr(errno == EACCES ? LAPS_ERR_PERM : LAPS_ERR_IO, "%s: %s", path,
				   strerror(errno));
	}
	if (fstat(lfd, &st) != 0) {
		rc = laps_seterr(LAPS_ERR_IO, "%s: fstat: %s", path, strerror(errno));
		close(lfd);
		return rc;
	}
	if ((rc = check_owner_mode(path, &st, LAPS_FILE_OWNER_ROOT)) != 0) {
		close(lfd);
		return rc;
	}
	*fd = lfd;
	return 0;
}

static int
dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return laps_snprintf(dir, len, ".");
	if (slash == path)
		return laps_snprintf(dir, len, "/");
	n = (size_t)(slash - path);
	if (n >= len)
		return LAPS_ERR_TOOBIG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

int
laps_fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	int fd, rc = 0;

	if (dir_of(path, dir, sizeof(dir)) != 0)
		return laps_seterr(LAPS_ERR_TOOBIG, "%s: path too long", path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return laps_seterr(LAPS_ERR_IO, "%s: %s", dir, strerror(errno));
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = laps_seterr(LAPS_ERR_IO, "fsync %s: %s", dir, strerror(errno));
	close(fd);
	return rc;
}

/*
 * A suffix for temporary file names.  Not a secret, only has to make clashes
 * unlikely (O_EXCL catches the rest).  getrandom() with a pid/time/counter
 * fallback instead of libsodium: pam_laps links this and must not reach
 * code that can abort.
 */
static uint32_t
tmp_suffix(void)
{
	static uint32_t counter;
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint32_t)getpid() * 2654435761u ^ (uint32_t)time(NULL) ^ ++counter * 40503u;
	return r;
}

void
laps_file_scrub_fd(int fd)
{
	char zero[512];
	struct stat st;
	off_t left;
	ssize_t w;

	memset(zero, 0, sizeof zero);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	if (lseek(fd, 0, SEEK_SET) != 0)
		return;
	for (left = st.st_size; left > 0; left -= w) {
		w = write(fd, zero, left > (off_t)sizeof zero ? sizeof zero : (size_t)left);
		if (w <= 0)
			break;
	}
	(void)fsync(fd);
}

/* Scrub and unlink; 0 or an errno value, the error detail untouched. */
static int
scrub_unlink(const char *path)
{
	int fd;

	/* O_NONBLOCK: a FIFO planted at path must not block us */
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 0 : errno; /* a FIFO without reader: ENXIO */
	laps_file_scrub_fd(fd);
	close(fd);
	if (unlink(path) != 0 && errno != ENOENT)
		return errno;
	return 0;
}

int
laps_file_scrub_unlink(const char *path)
{
	int e = scrub_unlink(path);

	if (e != 0)
		return laps_seterr(LAPS_ERR_IO, "%s: %s", path, strerror(e));
	return 0;
}

int
laps_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	const char *p = data;
	size_t done = 0;
	ssize_t n;
	int fd = -1, rc = LAPS_ERR_INTERNAL, tries;
	uint32_t r;

	if (path == NULL || (data == NULL && len > 0))
		return laps_seterr(LAPS_ERR_INVALID, "laps_file_write_atomic: bad arguments");
	for (tries = 0; tries < 16; tries++) {
		r = tmp_suffix();
		if (laps_snprintf(tmp, sizeof(tmp), "%s.tmp.%08x", path, (unsigned)r) != 0)
			return laps_seterr(LAPS_ERR_TOOBIG, "%s: path too long", path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = laps_seterr(LAPS_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode & 07777) != 0) { /* umask may have narrowed it; never widen */
		rc = laps_seterr(LAPS_ERR_IO, "%s: fchmod: %s", tmp, strerror(errno));
		goto out;
	}
	while (done < len) {
		n = write(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = laps_seterr(LAPS_ERR_IO, "%s: write: %s", tmp, strerror(errno));
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0) {
		rc = laps_seterr(LAPS_ERR_IO, "%s: fsync: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = laps_seterr(LAPS_ERR_IO, "%s: close: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = laps_seterr(LAPS_ERR_IO, "rename %s -> %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	rc = laps_fsync_dir_of(path);
out:
	if (fd >= 0) {
		if (rc != 0)
			laps_file_scrub_fd(fd); /* what was written may be a secret */
		close(fd);
	}
	if (rc != 0 && tmp[0] != '\0')
		(void)scrub_unlink(tmp); /* keeps the detail of rc */
	return rc;
}

int
laps_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t i, n;
	struct stat st;

	if (path == NULL || *path == '\0')
		return laps_seterr(LAPS_ERR_INVALID, "mkdir: empty path");
	n = strlen(path);
	if (n >= sizeof(buf))
		return laps_seterr(LAPS_ERR_TOOBIG, "%s: path too long", path);
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) != 0) {
			if (errno != EEXIST)
				return laps_seterr(LAPS_ERR_IO, "mkdir %s: %s", buf, strerror(errno));
			if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
				return laps_seterr(LAPS_ERR_IO, "%s: exists and is not a directory",
						   buf);
		}
		if (i < n)
			buf[i] = '/';
	}
	return 0;
}

int
laps_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return LAPS_ERR_TOOBIG;
	return 0;
}

int
laps_parse_int64(const char *s, long long min, long long max, long long *out)
{
	char *end = NULL;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return LAPS_ERR_INVALID;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return LAPS_ERR_INVALID;
	*out = v;
	return 0;
}

char *
laps_hostname_lower(char *s)
{
	char *p;

	for (p = s; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

int
laps_device_name(char *buf, size_t len)
{
	char host[256];

	if (gethostname(host, sizeof(host)) != 0)
		return laps_seterr(LAPS_ERR_IO, "gethostname: %s", strerror(errno));
	host[sizeof(host) - 1] = '\0';
	laps_hostname_lower(host);
	if (laps_snprintf(buf, len, "%s", host) != 0)
		return laps_seterr(LAPS_ERR_TOOBIG, "host name too long");
	return 0;
}
