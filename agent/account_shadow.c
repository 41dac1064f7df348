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
 *
 * The file primitives and line parsers are agent/etcfile.c's, the hash is
 * agent/shadow_hash.c's (or agent/hashjob.c's worker's); this file holds
 * the method's table and what only it does.
 */

#include "config.h"

#include <pwd.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/account.h"
#include "agent/etcfile.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "agent/agent_conf.h"

void
laps_hash_digest(const char *hash, uint8_t digest[LAPS_HASH_DIGEST_BYTES])
{
	crypto_generichash(digest, LAPS_HASH_DIGEST_BYTES, (const unsigned char *)hash,
			   strlen(hash), NULL, 0);
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

	if (laps_agent_conf(cfg)->root != NULL && *laps_agent_conf(cfg)->root != '\0' &&
	    strcmp(laps_agent_conf(cfg)->root, "/") != 0) {
		if ((rc = read_etc_file(laps_agent_conf(cfg)->root, "/etc/passwd", &buf, &len)) !=
		    0)
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

static struct laps_hashjob *
shadow_prepare(const struct laps_conf *cfg, const char *password)
{
	return laps_hashjob_start(laps_agent_conf(cfg)->hash, laps_agent_conf(cfg)->hash_cost,
				  password);
}

/* The hash of password: the job's when it hashed this one, computed here
 * otherwise (no job: recovery, or no thread could be started). */
static int
shadow_hash_for(const struct laps_conf *cfg, const char *password, struct laps_hashjob *job,
		char **hash)
{
	int rc;

	if (job != NULL && (rc = laps_hashjob_take(job, laps_agent_conf(cfg)->hash,
						   laps_agent_conf(cfg)->hash_cost, password,
						   hash)) != LAPS_ERR_INVALID)
		return rc;
	laps_clearerr();
	return laps_shadow_hash(laps_agent_conf(cfg)->hash, laps_agent_conf(cfg)->hash_cost,
				password, hash);
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
	if ((rc = laps_root_path(laps_agent_conf(cfg)->root, "/etc/shadow", shadow,
				 sizeof shadow)) != 0)
		goto out;
	/* hash first: the cost is paid without holding the password-file lock */
	if ((rc = shadow_hash_for(cfg, password, job, &hash)) != 0)
		goto out;
	if ((rc = laps_etc_lock(laps_agent_conf(cfg)->root, &lockfd)) != 0)
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
	if ((rc = laps_etc_replace_file(shadow, nbuf, nlen)) != 0)
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
	laps_etc_unlock(lockfd);
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
    .load = laps_shadow_load,
    .inspect = shadow_inspect,
    .prepare = shadow_prepare,
    .set = shadow_set,
};
