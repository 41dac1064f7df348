/*
 * kvfile.h — helpers shared by the agent's on-disk "key=value" files
 * (journal.<account>, state.<account>; formats in docs/AGENT.md).
 */
#ifndef LAPS_KVFILE_H
#define LAPS_KVFILE_H

#include <stddef.h>

/* 1 when a is an account name usable in a file name (the journal checks it too). */
int laps_kvfile_valid_account(const char *a);

/* "<state_dir>/<kind>.<account>"; LAPS_ERR_INVALID for a bad account name. */
int laps_kvfile_path(const char *state_dir, const char *kind, const char *account, char *buf,
		     size_t len) __attribute__((warn_unused_result));

/* Append to a bounded buffer; LAPS_ERR_TOOBIG when it does not fit. */
int laps_kvfile_put(char *buf, size_t cap, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Iterate "key=value" lines after the magic line.  cb returns 0 or error. */
typedef int (*laps_kvfile_cb)(void *ctx, const char *key, const char *val, size_t vlen);
int laps_kvfile_parse(const char *buf, size_t len, const char *magic, const char *what,
		      laps_kvfile_cb cb, void *ctx);

/* "path: <previous detail>" (the detail is copied first: seterr writes it) */
int laps_kvfile_prefix_err(int rc, const char *path);

/* Copy a value of printable ASCII into dst; LAPS_ERR_FORMAT names what/key. */
int laps_kvfile_copy_str(char *dst, size_t cap, const char *v, size_t n, const char *what,
			 const char *key);
/* Parse a decimal in [min, max]; LAPS_ERR_FORMAT names what/key. */
int laps_kvfile_copy_int(long long *out, const char *v, size_t n, long long min, long long max,
			 const char *what, const char *key);

/* 1 when s is a rotation id (LAPS_ROTID_HEX lowercase hex digits). */
int laps_kvfile_valid_rotid(const char *s);

#endif
