/*
 * etcfile.h — the password-file primitives of the shadow method
 * (agent/account_shadow.c), shared with account creation and the lock
 * handling: lckpwdf() semantics under a root prefix, atomic replacement of
 * one of passwd/shadow/group/gshadow with its owner and mode kept, and
 * line/field lookup in such a file.
 */
#ifndef LAPS_ETCFILE_H
#define LAPS_ETCFILE_H

#include <stddef.h>

/* Lock <root>/etc/.pwd.lock (POSIX write lock, waits up to 15 s as
 * lckpwdf() does).  *fd receives the lock; 0, LAPS_ERR_LOCKED, _IO. */
int laps_etc_lock(const char *root, int *fd) __attribute__((warn_unused_result));
void laps_etc_unlock(int fd);

/* Write data to "<path>+" with path's owner, group and mode, fsync,
 * rename over path, fsync the directory.  0, LAPS_ERR_IO, _PERM. */
int laps_etc_replace_file(const char *path, const char *data, size_t len)
    __attribute__((warn_unused_result));

/* The line of name (first field) in buf: [*ls, *le) without '\n'.
 * what names the file in messages.  LAPS_ERR_NOTFOUND, _FORMAT (twice). */
int laps_etc_find_line(const char *buf, size_t len, const char *name, const char *what,
		       const char **ls, const char **le) __attribute__((warn_unused_result));

/* Field n (0-based) of the line [line, eol): [*fs, *fe).  LAPS_ERR_FORMAT. */
int laps_etc_field_span(const char *line, const char *eol, unsigned n, const char **fs,
			const char **fe) __attribute__((warn_unused_result));

#endif
