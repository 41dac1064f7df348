/*
 * file.c — the `file` escrow backend (docs/FORMAT.md section 1.4).
 *
 *   DIR/                              [file] dir, 0700
 *     DEVICE/                         lower-case device name, 0700
 *       .lock                         flock()ed during every update, 0600
 *       ACCOUNT.json                  the current record, 0600
 *       ACCOUNT.history/              0700
 *         ROTATED_AT-ROTATION_ID.json older records, 0600
 *
 * Every file holds one record in its JSON form plus a newline.  Updates
 * (write, confirm, set_expiry) hold an exclusive flock on DEVICE/.lock for
 * the whole read-compare-write, so the compare-and-set is atomic against
 * other processes; the files themselves are replaced atomically (temp file,
 * fsync, rename), so readers never need the lock for the current record.
 * History is ordered by the rotated_at inside each file, never by names or
 * readdir order.
 *
 * Version tag: "ROTATION_ID-STATE-HASH" where HASH is the hex BLAKE2b-128 of
 * the current file's bytes; any change of the file changes the tag.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "backends/file_backend.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/record.h"
#include "backends/file_conf.h"
#include "escrow/escrow_conf.h"

#define FILE_HASH_BYTES 16
#define FILE_HISTORY_SCAN_MAX 4096 /* refuse history directories larger than this */
#define FILE_LOCK_NAME ".lock"
#define FILE_CURRENT_SUFFIX ".json"
#define FILE_HISTORY_SUFFIX ".history"

struct file_ctx {
	char *dir;
	unsigned history;
	char desc[64 + PATH_MAX];
};

/* ---------------------------------------------------------------------- */
/* Names and paths                                                        */

/* Lower-cased, validated copy of a device name. */
static int
norm_device(const char *in, char out[LAPS_DEVICE_MAX + 1])
{
	size_t n;

	if (in == NULL || (n = strnlen(in, LAPS_DEVICE_MAX + 1)) == 0 || n > LAPS_DEVICE_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "file: invalid device name");
	memcpy(out, in, n + 1);
	laps_hostname_lower(out);
	if (!laps_record_device_ok(out))
		return laps_seterr(LAPS_ERR_INVALID, "file: invalid device name");
	return 0;
}

static int
check_account(const char *account)
{
	if (!laps_record_account_ok(account))
		return laps_seterr(LAPS_ERR_INVALID, "file: invalid account name");
	return 0;
}

static int
dev_path(const struct file_ctx *c, const char *dev, const char *name, char *buf, size_t len)
{
	int rc;

	if (name == NULL)
		rc = laps_snprintf(buf, len, "%s/%s", c->dir, dev);
	else
		rc = laps_snprintf(buf, len, "%s/%s/%s", c->dir, dev, name);
	if (rc != 0)
		return laps_seterr(LAPS_ERR_TOOBIG, "file: path too long under %s", c->dir);
	return 0;
}

static int
cur_path(const struct file_ctx *c, const char *dev, const char *acct, char *buf, size_t len)
{
	if (laps_snprintf(buf, len, "%s/%s/%s" FILE_CURRENT_SUFFIX, c->dir, dev, acct) != 0)
		return laps_seterr(LAPS_ERR_TOOBIG, "file: path too long under %s", c->dir);
	return 0;
}

static int
hist_path(const struct file_ctx *c, const char *dev, const char *acct, char *buf, size_t len)
{
	if (laps_snprintf(buf, len, "%s/%s/%s" FILE_HISTORY_SUFFIX, c->dir, dev, acct) != 0)
		return laps_seterr(LAPS_ERR_TOOBIG, "file: path too long under %s", c->dir);
	return 0;
}

/* mkdir one level with 0700; an existing directory is fine. */
static int
mkdir_0700(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return laps_seterr(LAPS_ERR_IO, "file: mkdir %s: %s", path, strerror(errno));
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return laps_seterr(LAPS_ERR_IO, "file: %s: not a directory", path);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Locking                                                                */

/*
 * Lock DEVICE/.lock with op (LOCK_EX or LOCK_SH).  create: make the device
 * directory if missing.  Otherwise a missing device directory is
 * LAPS_ERR_NOTFOUND (no detail), and when the lock file cannot be created
 * (read-only access, e.g. an admin reading) *fd is -1 and 0 is returned:
 * readers only need the lock for consistency of history listings.
 */
static int
dev_lock(const struct file_ctx *c, const char *dev, int op, bool create, int *fd)
{
	char path[PATH_MAX];
	int rc, f;

	*fd = -1;
	if ((rc = dev_path(c, dev, NULL, path, sizeof(path))) != 0)
		return rc;
	if (create) {
		if ((rc = mkdir_0700(path)) != 0)
			return rc;
	} else {
		struct stat st;

		if (lstat(path, &st) != 0) {
			if (errno == ENOENT)
				return LAPS_ERR_NOTFOUND;
			return laps_seterr(LAPS_ERR_IO, "file: %s: %s", path, strerror(errno));
		}
		if (!S_ISDIR(st.st_mode))
			return laps_seterr(LAPS_ERR_FORMAT, "file: %s: not a directory", path);
	}
	if ((rc = dev_path(c, dev, FILE_LOCK_NAME, path, sizeof(path))) != 0)
		return rc;
	f = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f < 0 && op == LOCK_SH && (errno == EACCES || errno == EROFS))
		f = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (f < 0) {
		if (op == LOCK_SH && (errno == EACCES || errno == EROFS || errno == ENOENT))
			return 0; /* read without the lock */
		return laps_seterr(LAPS_ERR_IO, "file: open %s: %s", path, strerror(errno));
	}
	while (flock(f, op) != 0) {
		if (errno != EINTR) {
			rc = laps_seterr(LAPS_ERR_IO, "file: flock %s: %s", path, strerror(errno));
			close(f);
			return rc;
		}
	}
	*fd = f;
	return 0;
}

static void
dev_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

/* ---------------------------------------------------------------------- */
/* Reading records                                                        */

static void
make_tag(const struct laps_record *r, const char *bytes, size_t len, struct laps_version *ver)
{
	unsigned char h[FILE_HASH_BYTES];
	char hex[2 * FILE_HASH_BYTES + 1];

	crypto_generichash(h, sizeof(h), (const unsigned char *)bytes, len, NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	/* cannot truncate: 32 + 1 + 9 + 1 + 32 < LAPS_VERSION_MAX */
	(void)snprintf(ver->tag, sizeof(ver->tag), "%s-%s-%s", r->rotation_id,
		       laps_record_state_name(r->state), hex);
}

/*
 * Read and parse the record file at path, which must belong to dev/acct
 * (acct NULL: any account of dev).  *bytes (optional) receives the file
 * contents (malloc'd).  LAPS_ERR_NOTFOUND (no detail) when missing;
 * LAPS_ERR_FORMAT naming the file when corrupt.
 */
static int
read_record_file(const char *path, const char *dev, const char *acct, struct laps_record *out,
		 char **bytes, size_t *blen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (bytes != NULL)
		*bytes = NULL;
	rc = laps_file_read(path, LAPS_RECORD_MAX_JSON, LAPS_FILE_MISSING_OK, &buf, &len);
	if (rc != 0)
		return rc;
	if ((rc = laps_record_parse(buf, len, out)) != 0) {
		if (rc != LAPS_ERR_NOMEM && rc != LAPS_ERR_VERSION)
			rc = LAPS_ERR_FORMAT;
		rc = laps_seterr_prefix(rc, "file: %s", path);
		goto out;
	}
	if (strcmp(out->device, dev) != 0 || (acct != NULL && strcmp(out->account, acct) != 0)) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "file: %s: holds a record of %s/%s", path,
				 out->device, out->account);
		laps_record_clear(out);
		goto out;
	}
	if (bytes != NULL) {
		*bytes = buf;
		*blen = len;
		buf = NULL;
	}
	rc = 0;
out:
	laps_file_free(buf, len, 0);
	return rc;
}

/* The current record of dev/acct and its tag (ver->tag "" when missing). */
static int
read_current(const struct file_ctx *c, const char *dev, const char *acct, struct laps_record *out,
	     struct laps_version *ver, char **bytes, size_t *blen)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len = 0;
	int rc;

	ver->tag[0] = '\0';
	if ((rc = cur_path(c, dev, acct, path, sizeof(path))) != 0)
		return rc;
	if ((rc = read_record_file(path, dev, acct, out, &buf, &len)) != 0)
		return rc;
	make_tag(out, buf, len, ver);
	if (bytes != NULL) {
		*bytes = buf;
		*blen = len;
	} else {
		free(buf);
	}
	return 0;
}

/* Serialise r plus a newline and atomically replace path with it. */
static int
store_record(const char *path, const struct laps_record *r, struct laps_version *ver)
{
	char *json = NULL, *line = NULL;
	size_t n;
	int rc;

	if ((rc = laps_record_serialise(r, &json)) != 0)
		return rc;
	n = strlen(json);
	if ((line = malloc(n + 2)) == NULL) {
		rc = laps_seterr(LAPS_ERR_NOMEM, "file: store");
		goto out;
	}
	memcpy(line, json, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	if ((rc = laps_file_write_atomic(path, line, n + 1, 0600)) != 0)
		goto out;
	if (ver != NULL)
		make_tag(r, line, n + 1, ver);
	rc = 0;
out:
	free(json);
	free(line);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* History directory                                                      */

struct hist_entry {
	uint64_t seq;
	int64_t rotated_at;
	char rotation_id[LAPS_ROTID_HEX + 1];
	char name[NAME_MAX + 1];
};

static bool
is_record_name(const char *name)
{
	size_t n = strlen(name), s = strlen(FILE_CURRENT_SUFFIX);

	return name[0] != '.' && n > s && strcmp(name + n - s, FILE_CURRENT_SUFFIX) == 0;
}

static int
hist_entry_cmp(const void *a, const void *b)
{
	const struct hist_entry *x = a, *y = b;

	/* the order of laps_record_cmp_newest_first (docs/FORMAT.md 1.6) */
	if (x->seq != y->seq)
		return x->seq > y->seq ? -1 : 1;
	if (x->rotated_at != y->rotated_at)
		return x->rotated_at > y->rotated_at ? -1 : 1;
	return -strcmp(x->rotation_id, y->rotation_id);
}

/*
 * Delete history files beyond the newest keep.  Best effort: unreadable or
 * corrupt files are left alone (history() reports them), failures are
 * logged, never returned — the new current record is already written.
 */
static void
hist_trim(const struct file_ctx *c, const char *dev, const char *acct, unsigned keep)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct hist_entry *v = NULL, *nv;
	struct laps_record r;
	struct dirent *de;
	size_t n = 0, cap = 0, i;
	DIR *d = NULL;

	laps_record_init(&r);
	if (hist_path(c, dev, acct, dir, sizeof(dir)) != 0)
		return;
	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT)
			log_warn("cannot open %s: %s", dir, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_record_name(de->d_name))
			continue;
		if (n >= FILE_HISTORY_SCAN_MAX) {
			log_warn("%s: more than %d files; not trimmed", dir, FILE_HISTORY_SCAN_MAX);
			goto out;
		}
		if (laps_snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) != 0)
			continue;
		if (read_record_file(path, dev, acct, &r, NULL, NULL) != 0) {
			log_warn("%s", laps_errdetail());
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto out;
			v = nv;
		}
		v[n].seq = r.seq;
		v[n].rotated_at = r.rotated_at;
		memcpy(v[n].rotation_id, r.rotation_id, sizeof(v[n].rotation_id));
		(void)snprintf(v[n].name, sizeof(v[n].name), "%s", de->d_name);
		n++;
		laps_record_clear(&r);
	}
	if (n > keep) {
		qsort(v, n, sizeof(*v), hist_entry_cmp);
		for (i = keep; i < n; i++) {
			if (laps_snprintf(path, sizeof(path), "%s/%s", dir, v[i].name) != 0)
				continue;
			if (unlink(path) != 0 && errno != ENOENT)
				log_warn("cannot remove %s: %s", path, strerror(errno));
		}
		(void)laps_fsync_dir_of(path);
	}
out:
	laps_record_clear(&r);
	free(v);
	closedir(d);
}

/* Copy the previous current record's exact bytes into history. */
static int
hist_push(const struct file_ctx *c, const char *dev, const char *acct,
	  const struct laps_record *prev, const char *bytes, size_t len)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int rc;

	if ((rc = hist_path(c, dev, acct, dir, sizeof(dir))) != 0)
		return rc;
	if ((rc = mkdir_0700(dir)) != 0)
		return rc;
	if (laps_snprintf(path, sizeof(path), "%s/%020" PRId64 "-%s" FILE_CURRENT_SUFFIX, dir,
			  prev->rotated_at, prev->rotation_id) != 0)
		return laps_seterr(LAPS_ERR_TOOBIG, "file: path too long under %s", c->dir);
	return laps_file_write_atomic(path, bytes, len, 0600);
}

/* ---------------------------------------------------------------------- */
/* The operations                                                         */

static int
file_open(const struct laps_conf *cfg, enum laps_backend_role role,
	  const struct laps_backend_env *env, void **ctxp)
{
	struct file_ctx *c = NULL;
	struct stat st;
	int rc;

	*ctxp = NULL;
	(void)role;
	(void)env;
	if (cfg == NULL || laps_file_conf(cfg)->dir == NULL || laps_file_conf(cfg)->dir[0] == '\0')
		return laps_seterr(LAPS_ERR_CONFIG, "[file] dir: not set");
	if (strlen(laps_file_conf(cfg)->dir) > PATH_MAX - 512)
		return laps_seterr(LAPS_ERR_CONFIG, "[file] dir: path too long");
	if ((rc = laps_mkdir_p(laps_file_conf(cfg)->dir, 0700)) != 0)
		return rc;
	if (stat(laps_file_conf(cfg)->dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return laps_seterr(LAPS_ERR_CONFIG, "[file] dir: %s is not a directory",
				   laps_file_conf(cfg)->dir);
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->dir = strdup(laps_file_conf(cfg)->dir)) == NULL) {
		free(c);
		return laps_seterr(LAPS_ERR_NOMEM, "file: open");
	}
	c->history = laps_escrow_conf(cfg)->history;
	(void)snprintf(c->desc, sizeof(c->desc), "file (%s)", c->dir);
	*ctxp = c;
	/* success */
	return 0;
}

static void
file_close(void *ctx)
{
	struct file_ctx *c = ctx;

	if (c == NULL)
		return;
	free(c->dir);
	free(c);
}

static int
file_read(void *ctx, const char *device, const char *account, struct laps_record *out,
	  struct laps_version *ver)
{
	struct file_ctx *c = ctx;
	char dev[LAPS_DEVICE_MAX + 1];
	struct laps_record r;
	int rc;

	ver->tag[0] = '\0';
	laps_record_init(&r);
	if ((rc = norm_device(device, dev)) != 0 || (rc = check_account(account)) != 0)
		return rc;
	if ((rc = read_current(c, dev, account, &r, ver, NULL, NULL)) != 0) {
		laps_record_clear(&r);
		if (rc == LAPS_ERR_NOTFOUND)
			return laps_seterr(rc, "file: no record for %s/%s", dev, account);
		return rc;
	}
	(void)snprintf(r.source, sizeof(r.source), "file");
	laps_record_clear(out);
	memcpy(out, &r, sizeof(r));
	/* success */
	return 0;
}

static int
file_write(void *ctx, const struct laps_record *rec, const char *password,
	   const struct laps_version *expected, struct laps_version *newver)
{
	struct file_ctx *c = ctx;
	struct laps_record cur;
	struct laps_version curver, nv;
	char path[PATH_MAX], *bytes = NULL;
	const char *want;
	size_t blen = 0;
	bool have_cur;
	int rc, fd = -1;

	(void)password; /* sealed records only */
	laps_record_init(&cur);
	want = expected != NULL ? expected->tag : "";
	if ((rc = laps_record_validate(rec)) != 0)
		return rc;
	if (rec->envelope == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "file: record has no envelope");
	if ((rc = cur_path(c, rec->device, rec->account, path, sizeof(path))) != 0)
		return rc;
	if ((rc = dev_lock(c, rec->device, LOCK_EX, true, &fd)) != 0)
		return rc;

	rc = read_current(c, rec->device, rec->account, &cur, &curver, &bytes, &blen);
	if (rc != 0 && rc != LAPS_ERR_NOTFOUND)
		goto out;
	have_cur = rc == 0;
	if (!have_cur && want[0] != '\0') {
		rc = laps_seterr(LAPS_ERR_CONFLICT, "file: %s/%s: record was removed", rec->device,
				 rec->account);
		goto out;
	}
	if (have_cur && strcmp(want, curver.tag) != 0) {
		rc = laps_seterr(LAPS_ERR_CONFLICT, "file: %s/%s: changed by someone else (now %s)",
				 rec->device, rec->account, cur.rotation_id);
		goto out;
	}
	/* seq strictly increases (docs/FORMAT.md 1.6); a retry of the same
	 * rotation keeps it */
	if (have_cur && strcmp(cur.rotation_id, rec->rotation_id) != 0 && cur.seq > 0 &&
	    rec->seq <= cur.seq) {
		rc = laps_seterr(LAPS_ERR_CONFLICT,
				 "file: %s/%s: seq %" PRIu64 " is not above the current %" PRIu64,
				 rec->device, rec->account, rec->seq, cur.seq);
		goto out;
	}
	/* Rewriting the same rotation (a retry) replaces it without history. */
	if (have_cur && c->history > 0 && strcmp(cur.rotation_id, rec->rotation_id) != 0) {
		if ((rc = hist_push(c, rec->device, rec->account, &cur, bytes, blen)) != 0)
			goto out;
	}
	if ((rc = store_record(path, rec, &nv)) != 0)
		goto out;
	if (have_cur)
		hist_trim(c, rec->device, rec->account, c->history);
	if (newver != NULL)
		memcpy(newver, &nv, sizeof(nv));
	rc = 0;
out:
	dev_unlock(fd);
	free(bytes);
	laps_record_clear(&cur);
	return rc;
}

/* Load the current record under an exclusive lock, let fn change it, store it. */
static int
file_update(struct file_ctx *c, const char *device, const char *account,
	    int (*fn)(struct laps_record *r, const void *arg), const void *arg)
{
	char dev[LAPS_DEVICE_MAX + 1], path[PATH_MAX];
	struct laps_record cur;
	struct laps_version ver;
	int rc, fd = -1;

	laps_record_init(&cur);
	if ((rc = norm_device(device, dev)) != 0 || (rc = check_account(account)) != 0)
		return rc;
	if ((rc = cur_path(c, dev, account, path, sizeof(path))) != 0)
		return rc;
	if ((rc = dev_lock(c, dev, LOCK_EX, false, &fd)) != 0)
		goto out;
	if ((rc = read_current(c, dev, account, &cur, &ver, NULL, NULL)) != 0)
		goto out;
	if ((rc = fn(&cur, arg)) != 0)
		goto out;
	rc = store_record(path, &cur, NULL);
out:
	if (rc == LAPS_ERR_NOTFOUND)
		rc = laps_seterr(rc, "file: no record for %s/%s", dev, account);
	dev_unlock(fd);
	laps_record_clear(&cur);
	return rc;
}

struct confirm_arg {
	const char *rotation_id;
	int64_t expires_at;
};

static int
confirm_fn(struct laps_record *r, const void *arg)
{
	const struct confirm_arg *a = arg;

	if (strcmp(r->rotation_id, a->rotation_id) != 0)
		return laps_seterr(LAPS_ERR_CONFLICT, "file: %s/%s: current rotation is %s, not %s",
				   r->device, r->account, r->rotation_id, a->rotation_id);
	r->state = LAPS_STATE_CONFIRMED;
	r->expires_at = a->expires_at;
	return 0;
}

static int
expiry_fn(struct laps_record *r, const void *arg)
{
	r->expires_at = *(const int64_t *)arg;
	return 0;
}

static int
file_confirm(void *ctx, const char *device, const char *account, const char *rotation_id,
	     int64_t expires_at)
{
	struct confirm_arg a = {rotation_id, expires_at};

	if (rotation_id == NULL || strnlen(rotation_id, LAPS_ROTID_HEX + 1) != LAPS_ROTID_HEX)
		return laps_seterr(LAPS_ERR_INVALID, "file: confirm: invalid rotation id");
	if (expires_at < 0)
		return laps_seterr(LAPS_ERR_INVALID, "file: confirm: negative expiry");
	return file_update(ctx, device, account, confirm_fn, &a);
}

static int
file_set_expiry(void *ctx, const char *device, const char *account, int64_t when)
{
	if (when < 0)
		return laps_seterr(LAPS_ERR_INVALID, "file: set_expiry: negative time");
	return file_update(ctx, device, account, expiry_fn, &when);
}

static int
file_history(void *ctx, const char *device, const char *account, size_t n,
	     struct laps_record_list *out)
{
	struct file_ctx *c = ctx;
	struct laps_record_list l = {NULL, 0};
	char dev[LAPS_DEVICE_MAX + 1], dir[PATH_MAX], path[PATH_MAX];
	struct laps_record r;
	struct dirent *de;
	size_t seen = 0;
	DIR *d = NULL;
	int rc, fd = -1;

	laps_record_init(&r);
	if ((rc = norm_device(device, dev)) != 0 || (rc = check_account(account)) != 0)
		return rc;
	if ((rc = hist_path(c, dev, account, dir, sizeof(dir))) != 0)
		return rc;
	rc = dev_lock(c, dev, LOCK_SH, false, &fd);
	if (rc == LAPS_ERR_NOTFOUND)
		goto done; /* no device: no history */
	if (rc != 0)
		goto out;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			goto done;
		rc = laps_seterr(LAPS_ERR_IO, "file: %s: %s", dir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_record_name(de->d_name))
			continue;
		if (++seen > FILE_HISTORY_SCAN_MAX) {
			rc = laps_seterr(LAPS_ERR_TOOBIG, "file: %s: more than %d files", dir,
					 FILE_HISTORY_SCAN_MAX);
			goto out;
		}
		if ((rc = laps_snprintf(path, sizeof(path), "%s/%s", dir, de->d_name)) != 0) {
			rc = laps_seterr(LAPS_ERR_TOOBIG, "file: path too long in %s", dir);
			goto out;
		}
		rc = read_record_file(path, dev, account, &r, NULL, NULL);
		if (rc == LAPS_ERR_NOTFOUND)
			continue; /* removed meanwhile (lock not available) */
		if (rc != 0)
			goto out;
		(void)snprintf(r.source, sizeof(r.source), "file");
		if ((rc = laps_record_list_push(&l, &r)) != 0)
			goto out;
		laps_record_clear(&r);
	}
done:
	laps_record_list_sort(&l);
	while (l.n > n)
		laps_record_clear(&l.v[--l.n]);
	*out = l;
	l.v = NULL;
	l.n = 0;
	/* success */
	rc = 0;
out:
	if (d != NULL)
		closedir(d);
	dev_unlock(fd);
	laps_record_clear(&r);
	laps_record_list_free(&l);
	return rc;
}

/* name matches dev: same name, or dev's first label is name (both any case) */
static bool
name_matches(const char *name, const char *dev)
{
	size_t n = strlen(name);

	if (strcasecmp(name, dev) == 0)
		return true;
	return strchr(name, '.') == NULL && strncasecmp(name, dev, n) == 0 && dev[n] == '.';
}

static int
file_find(void *ctx, const char *name, char (*devices)[LAPS_DEVICE_MAX + 1], size_t max, size_t *n)
{
	struct file_ctx *c = ctx;
	struct dirent *de;
	struct stat st;
	size_t found = 0, i;
	DIR *d;

	*n = 0;
	if (name == NULL || name[0] == '\0' || strnlen(name, LAPS_DEVICE_MAX + 1) > LAPS_DEVICE_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "file: find: invalid name");
	if ((d = opendir(c->dir)) == NULL)
		return laps_seterr(LAPS_ERR_IO, "file: %s: %s", c->dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!laps_record_device_ok(de->d_name) || !name_matches(name, de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		/* keep the max alphabetically first names, sorted */
		for (i = found; i > 0 && strcmp(devices[i - 1], de->d_name) > 0; i--) {
			if (i < max)
				memcpy(devices[i], devices[i - 1], sizeof(devices[i]));
		}
		if (i < max) {
			/* laps_record_device_ok: at most LAPS_DEVICE_MAX chars */
			memcpy(devices[i], de->d_name, strlen(de->d_name) + 1);
			if (found < max)
				found++;
		}
	}
	closedir(d);
	*n = found;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Report                                                                 */

/* The row of one ACCOUNT.json of dev.  A record that does not read is
 * logged and skipped (the report goes on); 1 when skipped. */
static int
report_record(const struct file_ctx *c, const char *dev, const char *acct,
	      struct laps_report_row *row)
{
	struct laps_record r;
	struct laps_version ver;
	char err[512];
	int rc;

	laps_record_init(&r);
	rc = read_current(c, dev, acct, &r, &ver, NULL, NULL);
	if (rc == LAPS_ERR_NOMEM)
		return rc;
	if (rc != 0) {
		log_warn("file: report: %s/%s skipped: %s", dev, acct,
			 laps_errstr(rc, err, sizeof(err)));
		return 1;
	}
	memset(row, 0, sizeof(*row));
	memcpy(row->device, dev, strlen(dev) + 1);
	memcpy(row->account, acct, strlen(acct) + 1);
	row->has_record = true;
	row->state = r.state;
	row->rotated_at = r.rotated_at;
	row->expires_at = r.expires_at;
	row->seq = r.seq;
	laps_record_clear(&r);
	return 0;
}

/* The account name of a current-record file name ("ACCOUNT.json"), or false. */
static bool
account_of(const char *name, char acct[LAPS_ACCOUNT_MAX + 1])
{
	size_t n = strlen(name), s = sizeof(FILE_CURRENT_SUFFIX) - 1;

	if (name[0] == '.' || n <= s || n - s > LAPS_ACCOUNT_MAX ||
	    strcmp(name + n - s, FILE_CURRENT_SUFFIX) != 0)
		return false;
	memcpy(acct, name, n - s);
	acct[n - s] = '\0';
	return laps_record_account_ok(acct);
}

/* Every account of device dev (a "never" row when it has none). */
static int
report_device(const struct file_ctx *c, int dirfd_, const char *dev, laps_report_cb cb,
	      void *arg)
{
	struct laps_report_row row;
	char acct[LAPS_ACCOUNT_MAX + 1];
	struct dirent *de;
	size_t rows = 0;
	DIR *d;
	int fd, rc = 0;

	if ((fd = openat(dirfd_, dev, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (d = fdopendir(fd)) == NULL) {
		rc = laps_seterr(LAPS_ERR_IO, "file: %s/%s: %s", c->dir, dev, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!account_of(de->d_name, acct))
			continue;
		if ((rc = report_record(c, dev, acct, &row)) == 1) {
			rc = 0;
			continue;
		}
		if (rc == 0 && (rc = cb(arg, &row)) == 0)
			rows++;
	}
	closedir(d);
	if (rc == 0 && rows == 0) {
		memset(&row, 0, sizeof(row));
		memcpy(row.device, dev, strlen(dev) + 1);
		rc = cb(arg, &row);
	}
	return rc;
}

/* Streams: one directory entry at a time, nothing kept between devices. */
static int
file_report(void *ctx, laps_report_cb cb, void *arg)
{
	struct file_ctx *c = ctx;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	if ((d = opendir(c->dir)) == NULL)
		return laps_seterr(LAPS_ERR_IO, "file: %s: %s", c->dir, strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!laps_record_device_ok(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		rc = report_device(c, dirfd(d), de->d_name, cb, arg);
	}
	closedir(d);
	return rc;
}

static const char *
file_describe(void *ctx)
{
	struct file_ctx *c = ctx;

	return c != NULL ? c->desc : "file";
}

const struct laps_backend_ops laps_backend_file = {
    .name = "file",
    .caps = LAPS_BCAP_HISTORY | LAPS_BCAP_EXPIRY | LAPS_BCAP_CAS | LAPS_BCAP_FIND |
	    LAPS_BCAP_REPORT,
    .open = file_open,
    .close = file_close,
    .read = file_read,
    .write = file_write,
    .confirm = file_confirm,
    .history = file_history,
    .set_expiry = file_set_expiry,
    .find = file_find,
    .report = file_report,
    .caps_of = NULL,
    .describe = file_describe,
};
