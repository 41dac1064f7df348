/*
 * account_shadow.c — the `shadow` method: edit <root>/etc/shadow in place
 * the way shadow-utils does.
 *
 *   1. lock <root>/etc/.pwd.lock (lckpwdf semantics: a POSIX write lock on
 *      that file, created 0600; lckpwdf() itself cannot take a root prefix)
 *   2. read <root>/etc/shadow, replace only the target line's hash field and
 *      last-change day, keep every other byte
 *   3. write <root>/etc/shadow+ with shadow's owner, group and mode, fsync,
 *      rename over shadow, fsync the directory
 *   4. verify by re-reading the file and comparing the stored hash string
 *      with the one written (the hash cost is not paid twice)
 */

#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/dynlib.h"
#include "agent/etcfile.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "agent/agent_conf.h"

#define PWD_LOCK_WAIT_MS 15000 /* lckpwdf waits 15 s too */

void
laps_hash_digest(const char *hash, uint8_t digest[LAPS_HASH_DIGEST_BYTES])
{
	crypto_generichash(digest, LAPS_HASH_DIGEST_BYTES, (const unsigned char *)hash,
			   strlen(hash), NULL, 0);
}

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

/* libcrypt, loaded when a password is hashed (agent/dynlib.h) */
static __typeof__(crypt_gensalt_ra) *fn_crypt_gensalt_ra;
static __typeof__(crypt_r) *fn_crypt_r;

static int
shadow_load(void)
{
	static const struct laps_dynsym syms[] = {
	    {"crypt_gensalt_ra", &fn_crypt_gensalt_ra},
	    {"crypt_r", &fn_crypt_r},
	};

	return laps_dynlib_load("libcrypt.so.1", syms, sizeof syms / sizeof syms[0],
				"method = shadow", 0);
}

int
laps_shadow_hash(enum laps_hash h, unsigned cost, const char *password, char **out)
{
	const char *prefix = h == LAPS_HASH_SHA512 ? "$6$" : "$y$";
	unsigned char rbytes[16];
	struct crypt_data *cd = NULL;
	char *setting = NULL, *res, *copy;
	int rc = LAPS_ERR_INTERNAL;

	*out = NULL;
	if ((rc = shadow_load()) != 0)
		return rc;
	randombytes_buf(rbytes, sizeof rbytes);
	errno = 0;
	setting = fn_crypt_gensalt_ra(prefix, cost, (const char *)rbytes, (int)sizeof rbytes);
	if (setting == NULL) {
		rc = laps_seterr(LAPS_ERR_CRYPTO, "crypt_gensalt(%s, cost %u): %s", prefix, cost,
				 strerror(errno));
		goto out;
	}
	/* struct crypt_data holds intermediate secrets: locked, wiped on free */
	if ((cd = laps_secret_alloc(sizeof *cd)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	res = fn_crypt_r(password, setting, cd);
	if (res == NULL || res[0] == '*' || strlen(res) > LAPS_HASH_MAX ||
	    strpbrk(res, ":\n") != NULL) {
		rc = laps_seterr(LAPS_ERR_CRYPTO, "crypt_r(%s) failed", prefix);
		goto out;
	}
	if ((copy = strdup(res)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	*out = copy;
	rc = 0;
out:
	laps_wipe(rbytes, sizeof rbytes);
	laps_secret_free(cd);
	free(setting);
	return rc;
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
		return laps_seterr(LAPS_ERR_FORMAT,
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
laps_shadow_check_entry(const char *account, const struct laps_shadow_entry *e, long long today)
{
	/* fresh ('!', '!!', '*'), locked ('!' + hash) and expired (expire
	 * field <= today, as pam_unix decides) entries are all rotated:
	 * lockstate.h says how the lock prefix is kept */
	(void)account;
	(void)e;
	(void)today;
	return 0;
}

void
laps_account_info_from_entry(struct laps_account_info *info, const struct laps_shadow_entry *e,
			     long long today)
{
	info->have_entry = true;
	info->lock = laps_lockstate_classify(e->hash, NULL);
	info->expire_day = e->expire;
	/* pam_unix: expired when today >= expire (expire -1 = never) */
	info->expired = e->expire >= 0 && today >= e->expire;
	laps_hash_digest(laps_lockstate_bare(e->hash), info->digest);
	info->have_digest = true;
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

static int
read_etc_file(const char *root, const char *rel, char **buf, size_t *len)
{
	char path[4200];
	int rc;

	if ((rc = laps_root_path(root, rel, path, sizeof path)) != 0)
		return rc;
	/* shadow holds hashes, not clear-text secrets: ordinary memory */
	rc = laps_file_read(path, LAPS_SHADOW_MAX, 0, buf, len);
	if (rc == LAPS_ERR_NOTFOUND)
		return laps_seterr(LAPS_ERR_ACCOUNT, "%s does not exist", path);
	return rc;
}

int
laps_account_uid(const struct laps_conf *cfg, const char *account, uint32_t *uid)
{
	struct passwd pw, *res = NULL;
	char *buf = NULL;
	size_t len = 0;
	bool shadowed;
	char pwbuf[4096];
	int rc, e;

	if (laps_agent_conf(cfg)->root != NULL && *laps_agent_conf(cfg)->root != '\0' && strcmp(laps_agent_conf(cfg)->root, "/") != 0) {
		if ((rc = read_etc_file(laps_agent_conf(cfg)->root, "/etc/passwd", &buf, &len)) != 0)
			return rc;
		rc = laps_passwd_find(buf, len, account, uid, &shadowed);
		free(buf);
		if (rc == LAPS_ERR_NOTFOUND)
			return laps_seterr(LAPS_ERR_ACCOUNT, "account '%s' not in %s/etc/passwd",
					   account, laps_agent_conf(cfg)->root);
		return rc;
	}
	e = getpwnam_r(account, &pw, pwbuf, sizeof pwbuf, &res);
	if (res == NULL)
		return laps_seterr(LAPS_ERR_ACCOUNT, "account '%s' does not exist%s%s", account,
				   e != 0 ? ": " : "", e != 0 ? strerror(e) : "");
	*uid = (uint32_t)pw.pw_uid;
	return 0;
}

static long long
today(void)
{
	return (long long)(time(NULL) / 86400);
}

/* Read passwd + shadow under root and check the account. */
static int
shadow_inspect(const struct laps_conf *cfg, const char *account, struct laps_account_info *out)
{
	struct laps_shadow_entry e;
	char *pbuf = NULL, *sbuf = NULL;
	size_t plen = 0, slen = 0;
	bool shadowed = false;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = read_etc_file(laps_agent_conf(cfg)->root, "/etc/passwd", &pbuf, &plen)) != 0)
		goto out;
	rc = laps_passwd_find(pbuf, plen, account, &out->uid, &shadowed);
	if (rc == LAPS_ERR_NOTFOUND) {
		rc = laps_seterr(LAPS_ERR_ACCOUNT, "account '%s' does not exist (not in passwd)",
				 account);
		goto out;
	} else if (rc != 0)
		goto out;
	if ((rc = laps_account_check_uid(cfg, account, out->uid)) != 0)
		goto out;
	if (!shadowed) {
		rc = laps_seterr(LAPS_ERR_ACCOUNT,
				 "account '%s': passwd password field is not 'x' "
				 "(the shadow entry would be ignored)",
				 account);
		goto out;
	}
	if ((rc = read_etc_file(laps_agent_conf(cfg)->root, "/etc/shadow", &sbuf, &slen)) != 0)
		goto out;
	rc = laps_shadow_find(sbuf, slen, account, &e);
	if (rc == LAPS_ERR_NOTFOUND) {
		rc = laps_seterr(LAPS_ERR_ACCOUNT, "account '%s' has no shadow entry", account);
		goto out;
	} else if (rc != 0)
		goto out;
	if ((rc = laps_shadow_check_entry(account, &e, today())) != 0)
		goto out;
	/* decided here, before anything is escrowed: set rewrites this line */
	if ((rc = laps_shadow_rewritable(sbuf, slen, account)) != 0)
		goto out;
	laps_account_info_from_entry(out, &e, today());
	rc = 0;
out:
	free(pbuf);
	laps_file_free(sbuf, slen, 0);
	return rc;
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

static struct laps_hashjob *
shadow_prepare(const struct laps_conf *cfg, const char *password)
{
	return laps_hashjob_start(laps_agent_conf(cfg)->hash, laps_agent_conf(cfg)->hash_cost, password);
}

/* The hash of password: the job's when it hashed this one, computed here
 * otherwise (no job: recovery, or no thread could be started). */
static int
shadow_hash_for(const struct laps_conf *cfg, const char *password, struct laps_hashjob *job,
		char **hash)
{
	int rc;

	if (job != NULL && (rc = laps_hashjob_take(job, laps_agent_conf(cfg)->hash, laps_agent_conf(cfg)->hash_cost, password,
						   hash)) != LAPS_ERR_INVALID)
		return rc;
	laps_clearerr();
	return laps_shadow_hash(laps_agent_conf(cfg)->hash, laps_agent_conf(cfg)->hash_cost, password, hash);
}

static int
shadow_set(const struct laps_conf *cfg, const char *account, const char *password,
	   enum laps_lock_want want, struct laps_hashjob *job, struct laps_account_info *out)
{
	struct laps_account_info info;
	struct laps_shadow_entry e;
	char shadow[4200], field[LAPS_HASH_MAX + 16];
	char *hash = NULL, *sbuf = NULL, *nbuf = NULL;
	size_t slen = 0, nlen = 0;
	int lockfd = -1, rc;

	memset(out, 0, sizeof *out);
	if ((rc = laps_root_path(laps_agent_conf(cfg)->root, "/etc/shadow", shadow, sizeof shadow)) != 0)
		goto out;
	/* hash first: the cost is paid without holding the password-file lock */
	if ((rc = shadow_hash_for(cfg, password, job, &hash)) != 0)
		goto out;
	if ((rc = pwd_lock(laps_agent_conf(cfg)->root, &lockfd)) != 0)
		goto out;
	/* re-inspect under the lock: the account may have changed meanwhile */
	if ((rc = shadow_inspect(cfg, account, &info)) != 0)
		goto out;
	if ((rc = laps_file_read(shadow, LAPS_SHADOW_MAX, 0, &sbuf, &slen)) != 0)
		goto out;
	/* the new hash behind the lock prefix the account keeps (or gets) */
	if ((rc = laps_shadow_find(sbuf, slen, account, &e)) != 0 ||
	    (rc = laps_lockstate_compose(e.hash, want, hash, field, sizeof field)) != 0)
		goto out;
	if ((rc = laps_shadow_replace(sbuf, slen, account, field, today(), &nbuf, &nlen)) != 0)
		goto out;
	if ((rc = shadow_replace_file(shadow, nbuf, nlen)) != 0)
		goto out;
	/* verify: re-read and compare the stored hash with the one written */
	laps_file_free(sbuf, slen, 0);
	sbuf = NULL;
	if ((rc = laps_file_read(shadow, LAPS_SHADOW_MAX, 0, &sbuf, &slen)) != 0)
		goto out;
	if ((rc = laps_shadow_find(sbuf, slen, account, &e)) != 0)
		goto out;
	/* the field as written, and so the hash behind its lock prefix */
	if (!laps_secret_equal(e.hash, field) ||
	    !laps_secret_equal(laps_lockstate_bare(e.hash), hash)) {
		rc = laps_seterr(LAPS_ERR_VERIFY, "%s: stored hash for '%s' is not the one written",
				 shadow, account);
		goto out;
	}
	out->uid = info.uid;
	laps_account_info_from_entry(out, &e, today());
	rc = 0;
out:
	pwd_unlock(lockfd);
	laps_wipe(field, sizeof field);
	laps_wipe(&e, sizeof e);
	/* hashes allow offline guessing: wipe every copy of the shadow file */
	if (hash != NULL)
		laps_freezero(hash, strlen(hash));
	laps_file_free(sbuf, slen, 0);
	if (nbuf != NULL)
		laps_freezero(nbuf, nlen);
	return rc;
}

const struct laps_account_ops laps_account_shadow = {
    .name = "shadow",
    .load = shadow_load,
    .inspect = shadow_inspect,
    .prepare = shadow_prepare,
    .set = shadow_set,
};

/* ---- shared with account creation and lock handling (etcfile.h) ---- */

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
laps_etc_find_line(const char *buf, size_t len, const char *name, const char *what,
		   const char **ls, const char **le)
{
	return find_line(buf, len, name, what, ls, le);
}

int
laps_etc_field_span(const char *line, const char *eol, unsigned n, const char **fs,
		    const char **fe)
{
	return field_span(line, eol, n, fs, fe);
}
