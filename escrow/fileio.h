/*
 * fileio.h — safe file I/O: O_NOFOLLOW|O_CLOEXEC, fstat checks, size caps,
 * atomic replacement (temp file + fsync + rename + fsync of the directory).
 */
#ifndef LAPS_FILEIO_H
#define LAPS_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* laps_file_read flags */
#define LAPS_FILE_SECRET 0x1    /* result in locked memory (laps_secret_free); refuse
				 * if group/other have any access */
#define LAPS_FILE_OWNER_ROOT 0x2 /* when euid is 0: refuse unless owned by root and not
				 * group/world-writable */
#define LAPS_FILE_OWNER_SELF 0x4 /* refuse unless owned by euid (or root) */
#define LAPS_FILE_MISSING_OK 0x8 /* a missing file is LAPS_ERR_NOTFOUND, no detail */

/*
 * Read a whole regular file of at most max bytes.  *out is NUL-terminated
 * (malloc'd, or locked memory with LAPS_FILE_SECRET); *len excludes the NUL.
 * The buffer is sized from the file (fstat), not from max: max only caps
 * it, so a generous cap costs nothing for a small file.
 * Errors: LAPS_ERR_NOTFOUND, LAPS_ERR_PERM (owner/mode, symlink), LAPS_ERR_TOOBIG,
 * LAPS_ERR_IO; the detail names the path.
 */
int laps_file_read(const char *path, size_t max, unsigned flags, char **out, size_t *len)
    __attribute__((warn_unused_result));

/* Free what laps_file_read returned, with the same flags and the length it
 * stored in *len: the bytes read are wiped (the whole locked buffer with
 * LAPS_FILE_SECRET), then freed. */
void laps_file_free(char *buf, size_t len, unsigned flags);

/*
 * Atomically replace path with data (mode applied to the new file, owner is
 * the caller): write "path.tmp.XXXXXXXX" (8 lowercase hex digits) with
 * O_EXCL|O_NOFOLLOW, fsync, rename, fsync the directory.  On failure the
 * temporary is overwritten with zeros and removed.  A process killed
 * between its creation and the rename leaves it behind: callers that write
 * secrets sweep such temporaries (agent/journal.c).  Returns 0 or
 * LAPS_ERR_IO with detail.
 */
int laps_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
    __attribute__((warn_unused_result));

/*
 * Open (creating it 0600) a lock file for flock/fcntl locking: O_NOFOLLOW,
 * never blocking on a FIFO, refused unless a regular file and, when euid is
 * 0, root-owned and not group/world-writable.  *fd on success.
 * LAPS_ERR_PERM (symlink, not a regular file, owner/mode) or LAPS_ERR_IO;
 * the detail names the path and what is wrong.
 */
int laps_lockfile_open(const char *path, int *fd) __attribute__((warn_unused_result));

/* Overwrite the regular file open at fd with zeros and fsync (best effort:
 * journaling or copy-on-write file systems may keep old blocks). */
void laps_file_scrub_fd(int fd);

/* Scrub (as above) and unlink path; O_NOFOLLOW, never blocks on a FIFO
 * (which is an error, as a symlink is).  A missing file is fine.  0 or
 * LAPS_ERR_IO. */
int laps_file_scrub_unlink(const char *path) __attribute__((warn_unused_result));

/* mkdir -p with mode for the missing components; existing ones untouched. */
int laps_mkdir_p(const char *path, mode_t mode) __attribute__((warn_unused_result));

/* fsync the directory containing path. */
int laps_fsync_dir_of(const char *path);

/* snprintf that reports truncation: 0, or LAPS_ERR_TOOBIG. */
int laps_snprintf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), warn_unused_result));

/* Parse a decimal integer in [min,max]; whole string must be consumed. 0 or LAPS_ERR_INVALID. */
int laps_parse_int64(const char *s, long long min, long long max, long long *out)
    __attribute__((warn_unused_result));

/* Lower-case a host name in place (ASCII); returns s. */
char *laps_hostname_lower(char *s);

/*
 * This host's device id when [escrow] device is not set: gethostname(),
 * lower-cased (no DNS lookup).  0 or LAPS_ERR_IO.
 */
int laps_device_name(char *buf, size_t len) __attribute__((warn_unused_result));

#endif
