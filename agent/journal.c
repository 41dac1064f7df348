/*
 * journal.c — the rotation journal and the per-account state file.
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

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/journal.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/secret.h"

#define JOURNAL_MAGIC "laps-journal 1"
#define STATE_MAGIC "laps-state 1"

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

static int
valid_account(const char *a)
{
	size_t i, n = strlen(a);

	if (n == 0 || n > LAPS_ACCOUNT_MAX || a[0] == '-' || a[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= 'A' && a[i] <= 'Z') ||
		      (a[i] >= '0' && a[i] <= '9') || a[i] == '_' || a[i] == '-' || a[i] == '.' ||
		      (a[i] == '$' && i == n - 1)))
			return 0;
	return 1;
}

static int
file_path(const char *state_dir, const char *kind, const char *account, char *buf, size_t len)
{
	if (!valid_account(account))
		return laps_seterr(LAPS_ERR_INVALID, "invalid account name");
	return laps_snprintf(buf, len, "%s/%s.%s", state_dir, kind, account);
}

int
laps_journal_path(const char *state_dir, const char *account, char *buf, size_t len)
{
	return file_path(state_dir, "journal", account, buf, len);
}

int
laps_state_path(const char *state_dir, const char *account, char *buf, size_t len)
{
	return file_path(state_dir, "state", account, buf, len);
}

/* Append to a bounded buffer; LAPS_ERR_TOOBIG when it does not fit. */
static int put(char *buf, size_t cap, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int
put(char *buf, size_t cap, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *off, cap - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *off)
		return LAPS_ERR_TOOBIG;
	*off += (size_t)n;
	return 0;
}

static void journal_scrub_fd(int fd);
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
	if ((rc = put(buf, LAPS_JOURNAL_MAX, &off,
		      JOURNAL_MAGIC "\naccount=%s\ndevice=%s\nuid=%u\nrotation_id=%s\n"
				    "rotated_at=%lld\nphase=%s\nreason=%s\npassword=%s\n",
		      j->account, j->device, (unsigned)j->uid, j->rotation_id,
		      (long long)j->rotated_at, laps_journal_phase_name(j->phase), j->reason,
		      hex)) != 0)
		goto out;
	/* The file being replaced (a phase change) holds the same P': keep a
	 * handle on its inode and scrub it once the new journal is in place —
	 * scrubbing first would lose the journal if we died before the rename. */
	oldfd = journal_open_old(path);
	rc = laps_file_write_atomic(path, buf, off, 0600);
	if (rc == 0 && oldfd >= 0)
		journal_scrub_fd(oldfd);
out:
	if (oldfd >= 0)
		close(oldfd);
	laps_secret_free(buf);
	laps_secret_free(hex);
	return rc;
}

/* Iterate "key=value" lines after the magic line.  cb returns 0 or error. */
typedef int (*kv_cb)(void *ctx, const char *key, const char *val, size_t vlen);

static int
parse_kv(const char *buf, size_t len, const char *magic, const char *what, kv_cb cb, void *ctx)
{
	const char *p = buf, *end = buf + len, *eol, *eq;
	char key[32];
	size_t ml = strlen(magic), kl;
	int rc;

	if (len < ml + 1 || memcmp(buf, magic, ml) != 0 || buf[ml] != '\n')
		return laps_seterr(LAPS_ERR_FORMAT, "%s: bad or unsupported magic line", what);
	p = buf + ml + 1;
	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			return laps_seterr(LAPS_ERR_FORMAT, "%s: last line not terminated", what);
		eq = memchr(p, '=', (size_t)(eol - p));
		if (eq == NULL || (kl = (size_t)(eq - p)) == 0 || kl >= sizeof key)
			return laps_seterr(LAPS_ERR_FORMAT, "%s: malformed line", what);
		memcpy(key, p, kl);
		key[kl] = '\0';
		if ((rc = cb(ctx, key, eq + 1, (size_t)(eol - eq - 1))) != 0)
			return rc;
		p = eol + 1;
	}
	return 0;
}

/* "path: <previous detail>" (the detail is copied first: seterr writes it) */
static int
prefix_err(int rc, const char *path)
{
	char d[512];

	snprintf(d, sizeof d, "%s", laps_errdetail());
	return laps_seterr(rc, "%s: %s", path, d);
}

static int
copy_str(char *dst, size_t cap, const char *v, size_t n, const char *what, const char *key)
{
	size_t i;

	if (n >= cap)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: %s too long", what, key);
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] >= 0x7f)
			return laps_seterr(LAPS_ERR_FORMAT, "%s: %s has a control character", what,
					   key);
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

static int
copy_int(long long *out, const char *v, size_t n, long long min, long long max, const char *what,
	 const char *key)
{
	char tmp[24];

	if (n == 0 || n >= sizeof tmp)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: bad %s", what, key);
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	if (laps_parse_int64(tmp, min, max, out) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: bad %s", what, key);
	return 0;
}

static int
valid_rotid(const char *s)
{
	size_t i;

	if (strlen(s) != LAPS_ROTID_HEX)
		return 0;
	for (i = 0; i < LAPS_ROTID_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
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
		rc = copy_str(j->account, sizeof j->account, v, n, w, key);
	} else if (strcmp(key, "device") == 0) {
		bit = J_DEVICE;
		rc = copy_str(j->device, sizeof j->device, v, n, w, key);
	} else if (strcmp(key, "uid") == 0) {
		bit = J_UID;
		if ((rc = copy_int(&x, v, n, 0, UINT32_MAX, w, key)) == 0)
			j->uid = (uint32_t)x;
	} else if (strcmp(key, "rotation_id") == 0) {
		bit = J_ROTID;
		if ((rc = copy_str(j->rotation_id, sizeof j->rotation_id, v, n, w, key)) == 0 &&
		    !valid_rotid(j->rotation_id))
			rc = laps_seterr(LAPS_ERR_FORMAT, "journal: bad rotation_id");
	} else if (strcmp(key, "rotated_at") == 0) {
		bit = J_ROTAT;
		if ((rc = copy_int(&x, v, n, 0, INT64_MAX / 2, w, key)) == 0)
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
		rc = copy_str(j->reason, sizeof j->reason, v, n, w, key);
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
	if ((rc = parse_kv(buf, len, JOURNAL_MAGIC, "journal", journal_kv, &c)) != 0)
		goto fail;
	if (c.seen != J_ALL) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "journal: missing fields");
		goto fail;
	}
	if (!valid_account(j->account)) {
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
		rc = prefix_err(rc, path);
	laps_file_free(buf, len, LAPS_FILE_SECRET);
	return rc;
}

/*
 * Best effort: overwrite the bytes of the open regular file fd (which held
 * P') with zeros and fsync.  A journaling or copy-on-write file system may
 * still keep old blocks; the state directory is root-only either way.
 */
static void
journal_scrub_fd(int fd)
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
	int fd;

	fd = journal_open_old(path);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return laps_seterr(LAPS_ERR_IO, "%s: %s", path, strerror(errno));
	}
	journal_scrub_fd(fd);
	close(fd);
	if (unlink(path) != 0 && errno != ENOENT)
		return laps_seterr(LAPS_ERR_IO, "unlink %s: %s", path, strerror(errno));
	return laps_fsync_dir_of(path);
}

/* ---- state file ---- */

void
laps_state_init(struct laps_agent_state *s, const char *account)
{
	memset(s, 0, sizeof *s);
	if (account != NULL)
		snprintf(s->account, sizeof s->account, "%s", account);
}

static int
state_kv(void *ctx, const char *key, const char *v, size_t n)
{
	struct laps_agent_state *s = ctx;
	const char *w = "state";
	char hex[2 * LAPS_HASH_DIGEST_BYTES + 1];
	long long x;
	size_t bl;
	int rc;

	if (strcmp(key, "account") == 0)
		return copy_str(s->account, sizeof s->account, v, n, w, key);
	if (strcmp(key, "rotation_id") == 0) {
		if ((rc = copy_str(s->rotation_id, sizeof s->rotation_id, v, n, w, key)) != 0)
			return rc;
		if (n != 0 && !valid_rotid(s->rotation_id))
			return laps_seterr(LAPS_ERR_FORMAT, "state: bad rotation_id");
		return 0;
	}
	if (strcmp(key, "backend") == 0)
		return copy_str(s->backend, sizeof s->backend, v, n, w, key);
	if (strcmp(key, "last_error") == 0)
		return copy_str(s->last_error, sizeof s->last_error, v, n, w, key);
	if (strcmp(key, "hash_digest") == 0) {
		if (n == 0) {
			s->have_digest = false;
			return 0;
		}
		if ((rc = copy_str(hex, sizeof hex, v, n, w, key)) != 0)
			return rc;
		if (n != 2 * LAPS_HASH_DIGEST_BYTES ||
		    sodium_hex2bin(s->digest, sizeof s->digest, hex, n, NULL, &bl, NULL) != 0 ||
		    bl != LAPS_HASH_DIGEST_BYTES)
			return laps_seterr(LAPS_ERR_FORMAT, "state: bad hash_digest");
		s->have_digest = true;
		return 0;
	}
	if (strcmp(key, "rotated_at") == 0 || strcmp(key, "expires_at") == 0 ||
	    strcmp(key, "last_run") == 0 || strcmp(key, "last_error_at") == 0) {
		if ((rc = copy_int(&x, v, n, 0, INT64_MAX / 2, w, key)) != 0)
			return rc;
		if (key[0] == 'r')
			s->rotated_at = x;
		else if (key[0] == 'e')
			s->expires_at = x;
		else if (strcmp(key, "last_run") == 0)
			s->last_run = x;
		else
			s->last_error_at = x;
		return 0;
	}
	return laps_seterr(LAPS_ERR_FORMAT, "state: unknown key '%.31s'", key);
}

int
laps_state_parse(const char *buf, size_t len, struct laps_agent_state *s)
{
	char account[LAPS_ACCOUNT_MAX + 1];
	int rc;

	memcpy(account, s->account, sizeof account);
	laps_state_init(s, account);
	if ((rc = parse_kv(buf, len, STATE_MAGIC, "state", state_kv, s)) != 0)
		return rc;
	if (account[0] != '\0' && strcmp(account, s->account) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "state: file is for account '%s'", s->account);
	return 0;
}

int
laps_state_load(const char *path, const char *account, struct laps_agent_state *s)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	laps_state_init(s, account);
	rc = laps_file_read(path, LAPS_STATE_MAX, LAPS_FILE_OWNER_ROOT | LAPS_FILE_MISSING_OK, &buf,
			    &len);
	if (rc != 0)
		return rc;
	rc = laps_state_parse(buf, len, s);
	if (rc != 0) {
		rc = prefix_err(rc, path);
		laps_state_init(s, account);
	}
	free(buf);
	return rc;
}

int
laps_state_store(const char *path, const struct laps_agent_state *s)
{
	char buf[LAPS_STATE_MAX];
	char hex[2 * LAPS_HASH_DIGEST_BYTES + 1] = "";
	char err[LAPS_STATE_ERR_MAX + 1];
	size_t off = 0, i;
	int rc;

	if (s->have_digest)
		sodium_bin2hex(hex, sizeof hex, s->digest, sizeof s->digest);
	/* the error text must stay on one line */
	for (i = 0; s->last_error[i] != '\0' && i < LAPS_STATE_ERR_MAX; i++)
		err[i] = ((unsigned char)s->last_error[i] < 0x20 ||
			  (unsigned char)s->last_error[i] >= 0x7f)
			     ? ' '
			     : s->last_error[i];
	err[i] = '\0';
	if ((rc = put(buf, sizeof buf, &off,
		      STATE_MAGIC "\naccount=%s\nrotation_id=%s\nrotated_at=%lld\nexpires_at=%lld\n"
				  "hash_digest=%s\nbackend=%s\nlast_run=%lld\nlast_error_at=%lld\n"
				  "last_error=%s\n",
		      s->account, s->rotation_id, (long long)s->rotated_at,
		      (long long)s->expires_at, hex, s->backend, (long long)s->last_run,
		      (long long)s->last_error_at, err)) != 0)
		return rc;
	return laps_file_write_atomic(path, buf, off, 0600);
}
