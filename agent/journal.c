/*
 * journal.c — the rotation journal, journal.<account> (the state file is
 * state.c).
 *
 * Why P' is on disk: between the escrow write and the local set the only
 * copies of the new password are the escrowed envelope (which this host
 * cannot open: it holds only the recipients' public keys) and this
 * process's memory.  If the agent dies there, the next run must be able to
 * finish setting exactly the password that was escrowed, or the escrow and
 * the account would disagree.  So P' sits in a root-only 0600 file for the
 * few moments of a rotation and is overwritten and unlinked afterwards.
 * Root can read /etc/shadow's replacement anyway; the file gives an
 * attacker who is already root nothing they could not set themselves.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/journal.h"
#include "agent/kvfile.h"
#include "agent/lockstate.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/secret.h"

#define JOURNAL_MAGIC "laps-journal 1"

void
laps_journal_init(struct laps_journal *j)
{
	memset(j, 0, sizeof *j);
}

void
laps_journal_clear(struct laps_journal *j)
{
	laps_secret_free(j->password);
	laps_wipe(j, sizeof *j);
	laps_journal_init(j);
}

const char *
laps_journal_phase_name(enum laps_journal_phase p)
{
	return p == LAPS_JOURNAL_ESCROWED ? "escrowed" : "escrowing";
}

int
laps_journal_path(const char *state_dir, const char *account, char *buf, size_t len)
{
	return laps_kvfile_path(state_dir, "journal", account, buf, len);
}

static int journal_open_old(const char *path);

int
laps_journal_store(const char *path, const struct laps_journal *j)
{
	char *buf = NULL, *hex = NULL;
	size_t off = 0, hexlen;
	int rc = LAPS_ERR_INTERNAL, oldfd = -1;

	if (j->password == NULL || j->pwlen == 0 || j->pwlen > LAPS_PASSWORD_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "journal: no password");
	hexlen = 2 * j->pwlen + 1;
	if ((buf = laps_secret_alloc(LAPS_JOURNAL_MAX)) == NULL ||
	    (hex = laps_secret_alloc(hexlen)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	sodium_bin2hex(hex, hexlen, (const unsigned char *)j->password, j->pwlen);
	if ((rc = laps_kvfile_put(buf, LAPS_JOURNAL_MAX, &off,
		      JOURNAL_MAGIC "\naccount=%s\ndevice=%s\nuid=%u\nrotation_id=%s\n"
				    "rotated_at=%lld\nphase=%s\nreason=%s\nlock=%s\npassword=%s\n",
		      j->account, j->device, (unsigned)j->uid, j->rotation_id,
		      (long long)j->rotated_at, laps_journal_phase_name(j->phase), j->reason,
		      laps_lock_state_name(j->lock), hex)) != 0)
		goto out;
	/* The file being replaced (a phase change) holds the same P': keep a
	 * handle on its inode and scrub it once the new journal is in place —
	 * scrubbing first would lose the journal if we died before the rename. */
	oldfd = journal_open_old(path);
	rc = laps_file_write_atomic(path, buf, off, 0600);
	if (rc == 0 && oldfd >= 0)
		laps_file_scrub_fd(oldfd);
out:
	if (oldfd >= 0)
		close(oldfd);
	laps_secret_free(buf);
	laps_secret_free(hex);
	return rc;
}

#define J_ACCOUNT 0x01
#define J_DEVICE 0x02
#define J_UID 0x04
#define J_ROTID 0x08
#define J_ROTAT 0x10
#define J_PHASE 0x20
#define J_REASON 0x40
#define J_PASSWORD 0x80
#define J_ALL 0xff
#define J_LOCK 0x100 /* optional: journals written before it existed lack it */

struct jctx {
	struct laps_journal *j;
	unsigned seen;
};

static int
journal_kv(void *ctx, const char *key, const char *v, size_t n)
{
	struct jctx *c = ctx;
	struct laps_journal *j = c->j;
	const char *w = "journal";
	unsigned bit;
	long long x;
	int rc;

	if (strcmp(key, "account") == 0) {
		bit = J_ACCOUNT;
		rc = laps_kvfile_copy_str(j->account, sizeof j->account, v, n, w, key);
	} else if (strcmp(key, "device") == 0) {
		bit = J_DEVICE;
		rc = laps_kvfile_copy_str(j->device, sizeof j->device, v, n, w, key);
	} else if (strcmp(key, "uid") == 0) {
		bit = J_UID;
		if ((rc = laps_kvfile_copy_int(&x, v, n, 0, UINT32_MAX, w, key)) == 0)
			j->uid = (uint32_t)x;
	} else if (strcmp(key, "rotation_id") == 0) {
		bit = J_ROTID;
		if ((rc = laps_kvfile_copy_str(j->rotation_id, sizeof j->rotation_id, v, n, w, key)) == 0 &&
		    !laps_kvfile_valid_rotid(j->rotation_id))
			rc = laps_seterr(LAPS_ERR_FORMAT, "journal: bad rotation_id");
	} else if (strcmp(key, "rotated_at") == 0) {
		bit = J_ROTAT;
		if ((rc = laps_kvfile_copy_int(&x, v, n, 0, INT64_MAX / 2, w, key)) == 0)
			j->rotated_at = x;
	} else if (strcmp(key, "phase") == 0) {
		bit = J_PHASE;
		rc = 0;
		if (n == 9 && memcmp(v, "escrowing", 9) == 0)
			j->phase = LAPS_JOURNAL_ESCROWING;
		else if (n == 8 && memcmp(v, "escrowed", 8) == 0)
			j->phase = LAPS_JOURNAL_ESCROWED;
		else
			rc = laps_seterr(LAPS_ERR_FORMAT, "journal: unknown phase");
	} else if (strcmp(key, "reason") == 0) {
		bit = J_REASON;
		rc = laps_kvfile_copy_str(j->reason, sizeof j->reason, v, n, w, key);
	} else if (strcmp(key, "lock") == 0) {
		bit = J_LOCK;
		rc = laps_lock_state_parse(v, n, &j->lock);
	} else if (strcmp(key, "password") == 0) {
		bit = J_PASSWORD;
		if (n == 0 || n % 2 != 0 || n / 2 > LAPS_PASSWORD_MAX)
			return laps_seterr(LAPS_ERR_FORMAT, "journal: bad password field");
		if (j->password != NULL)
			return laps_seterr(LAPS_ERR_FORMAT, "journal: duplicate key password");
		if ((j->password = laps_secret_alloc(n / 2 + 1)) == NULL)
			return LAPS_ERR_NOMEM;
		if (sodium_hex2bin((unsigned char *)j->password, n / 2, v, n, NULL, &j->pwlen,
				   NULL) != 0 ||
		    j->pwlen != n / 2 || strlen(j->password) != j->pwlen)
			return laps_seterr(LAPS_ERR_FORMAT, "journal: bad password field");
		rc = 0;
	} else {
		return laps_seterr(LAPS_ERR_FORMAT, "journal: unknown key '%.31s'", key);
	}
	if (rc != 0)
		return rc;
	if (c->seen & bit)
		return laps_seterr(LAPS_ERR_FORMAT, "journal: duplicate key %s", key);
	c->seen |= bit;
	return 0;
}

int
laps_journal_parse(const char *buf, size_t len, struct laps_journal *j)
{
	struct jctx c;
	int rc;

	laps_journal_clear(j);
	c.j = j;
	c.seen = 0;
	if ((rc = laps_kvfile_parse(buf, len, JOURNAL_MAGIC, "journal", journal_kv, &c)) != 0)
		goto fail;
	if ((c.seen & J_ALL) != J_ALL) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "journal: missing fields");
		goto fail;
	}
	if (!laps_kvfile_valid_account(j->account)) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "journal: bad account");
		goto fail;
	}
	return 0;
fail:
	laps_journal_clear(j);
	return rc;
}

int
laps_journal_load(const char *path, struct laps_journal *j)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	laps_journal_clear(j);
	rc = laps_file_read(path, LAPS_JOURNAL_MAX,
			    LAPS_FILE_SECRET | LAPS_FILE_OWNER_ROOT | LAPS_FILE_MISSING_OK, &buf,
			    &len);
	if (rc != 0)
		return rc;
	rc = laps_journal_parse(buf, len, j);
	if (rc != 0)
		rc = laps_kvfile_prefix_err(rc, path);
	laps_file_free(buf, len, LAPS_FILE_SECRET);
	return rc;
}

/* The journal file currently at path, opened for scrubbing, or -1. */
static int
journal_open_old(const char *path)
{
	/* O_NONBLOCK: a FIFO planted at path must not block the agent */
	return open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

int
laps_journal_remove(const char *path)
{
	int rc;

	if ((rc = laps_file_scrub_unlink(path)) != 0)
		return rc;
	return laps_fsync_dir_of(path);
}

/* "journal.<account>.tmp." followed by exactly 8 lowercase hex digits */
static bool
is_journal_temp(const char *name, const char *account)
{
	size_t al = strlen(account), i;

	if (strncmp(name, "journal.", 8) != 0 || strncmp(name + 8, account, al) != 0 ||
	    strncmp(name + 8 + al, ".tmp.", 5) != 0)
		return false;
	name += 8 + al + 5;
	for (i = 0; i < 8; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return name[8] == '\0';
}

/* Whether path is a complete journal of another account (whose name happens
 * to look like "<account>.tmp.XXXXXXXX"): that one must not be touched. */
static bool
is_foreign_journal(const char *path, const char *account)
{
	struct laps_journal j;
	bool foreign;

	laps_journal_init(&j);
	foreign = laps_journal_load(path, &j) == 0 && strcmp(j.account, account) != 0;
	laps_journal_clear(&j);
	laps_clearerr();
	return foreign;
}

int
laps_journal_remove_temps(const char *state_dir, const char *account, unsigned *removed)
{
	struct dirent *de;
	char path[4200];
	DIR *d;
	int rc = 0;

	*removed = 0;
	if (!laps_kvfile_valid_account(account))
		return laps_seterr(LAPS_ERR_INVALID, "invalid account name");
	if ((d = opendir(state_dir)) == NULL)
		return errno == ENOENT ? 0
				       : laps_seterr(LAPS_ERR_IO, "%s: %s", state_dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!is_journal_temp(de->d_name, account))
			continue;
		if ((rc = laps_snprintf(path, sizeof path, "%s/%s", state_dir, de->d_name)) != 0) {
			rc = laps_seterr(rc, "%s: path too long", state_dir);
			break;
		}
		if (is_foreign_journal(path, account))
			continue;
		if ((rc = laps_file_scrub_unlink(path)) != 0)
			break;
		(*removed)++;
	}
	closedir(d);
	if (rc == 0 && *removed > 0)
		rc = laps_fsync_dir_of(path);
	return rc;
}
