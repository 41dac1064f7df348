/*
 * account.h — the local account methods behind one small interface.
 *
 *   shadow  edit <root>/etc/shadow the way shadow-utils does (lock
 *           <root>/etc/.pwd.lock, write shadow+, fsync, rename, fsync dir),
 *           hash with libxcrypt (yescrypt or SHA-512).
 *   pam     pam_chauthtok through the dedicated service "laps"
 *           (/etc/pam.d/laps), verified with pam_authenticate.
 *
 * Both rotate fresh ('!', '!!', '*'), locked ('!' + hash) and expired
 * accounts; a locked account stays locked (agent/lockstate.h).  uid 0 is
 * refused unless [agent] allow_uid0 = yes.
 */
#ifndef LAPS_ACCOUNT_H
#define LAPS_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/hashjob.h"
#include "agent/lockstate.h"
#include "escrow/conf.h"
#include "agent/agent_conf.h"

#define LAPS_HASH_DIGEST_BYTES 32	   /* BLAKE2b-256 of the crypt string */
#define LAPS_SHADOW_MAX (16 * 1024 * 1024) /* larger shadow/passwd files are refused */
#define LAPS_HASH_MAX 512		   /* longest crypt string we handle */
#define LAPS_PAM_SERVICE "laps"

/* What the agent knows about a local account. */
struct laps_account_info {
	uint32_t uid;
	bool have_digest;			/* the stored hash could be read */
	uint8_t digest[LAPS_HASH_DIGEST_BYTES]; /* BLAKE2b-256 of the stored hash behind
						 * any lock prefix */
	/* from <root>/etc/shadow when it has the account (have_entry) */
	bool have_entry;
	enum laps_lock_state lock; /* LAPS_LOCK_NONE without an entry */
	long long expire_day;	   /* shadow field 8, -1 = never */
	bool expired;		   /* expire_day <= today */
};

struct laps_account_ops {
	const char *name;
	/* Load the library set() needs (libcrypt, libpam: agent/dynlib.h);
	 * called before anything is escrowed and by check-config, and by
	 * set() itself.  LAPS_ERR_CONFIG when it is missing. */
	int (*load)(void);
	/* Check the account exists and may be rotated; fill *out (uid, digest
	 * of the current hash when readable, lock and expiry state).
	 * LAPS_ERR_ACCOUNT with detail when it may not be rotated. */
	int (*inspect)(const struct laps_conf *cfg, const char *account,
		       struct laps_account_info *out);
	/* Optional (NULL when set() has nothing that can run ahead): start
	 * what set() will compute from password — the shadow method's hash —
	 * so that it overlaps the escrow (agent/hashjob.h).  The job, or NULL
	 * (set() then does it all), goes to set(); the caller frees it with
	 * laps_hashjob_free() before password. */
	struct laps_hashjob *(*prepare)(const struct laps_conf *cfg, const char *password);
	/* Set password on the account and verify it took effect.  On success
	 * *out describes the account afterwards (digest of the new hash when
	 * readable).  The password is borrowed and never copied outside
	 * locked memory.  LAPS_ERR_REFUSED (local policy said no, detail =
	 * PAM's message), LAPS_ERR_VERIFY, LAPS_ERR_IO, LAPS_ERR_ACCOUNT.
	 * want: the lock prefix afterwards (laps_lock_want_for()); job: what
	 * prepare() started for this password, or NULL. */
	int (*set)(const struct laps_conf *cfg, const char *account, const char *password,
		   enum laps_lock_want want, struct laps_hashjob *job,
		   struct laps_account_info *out);
};

extern const struct laps_account_ops laps_account_shadow;
extern const struct laps_account_ops laps_account_pam;

/* The ops for laps_agent_conf(cfg)->method (never NULL). */
const struct laps_account_ops *laps_account_ops_for(enum laps_method m);

/* BLAKE2b-256 of a crypt string (what the state file stores). */
void laps_hash_digest(const char *hash, uint8_t digest[LAPS_HASH_DIGEST_BYTES]);

/* ---- shadow-file helpers (exposed for the unit tests) ---------------- */
/* laps_root_path and the passwd/shadow parsers live in agent/etcfile.c,
 * laps_shadow_load and laps_shadow_hash in agent/shadow_hash.c, the rest
 * in agent/account_shadow.c. */

/* One parsed shadow line; pointers into the caller's buffer are not kept:
 * fields are copied (hash capped at LAPS_HASH_MAX). */
struct laps_shadow_entry {
	char hash[LAPS_HASH_MAX + 1];
	long long lastchg; /* -1 when empty */
	long long expire;  /* -1 when empty */
};

/* "<root><rel>" into buf (root NULL or "" means "/"). */
int laps_root_path(const char *root, const char *rel, char *buf, size_t len)
    __attribute__((warn_unused_result));

/* Load libcrypt for laps_shadow_hash (the shadow method's load()):
 * 0, or LAPS_ERR_CONFIG when it is missing. */
int laps_shadow_load(void) __attribute__((warn_unused_result));

/*
 * Hash password with libxcrypt: prefix "$y$" (yescrypt) or "$6$" (sha512),
 * cost 0 = library default.  *out is malloc'd (free with free(); it holds
 * no secret).  LAPS_ERR_CRYPTO when libxcrypt refuses.
 */
int laps_shadow_hash(enum laps_hash h, unsigned cost, const char *password, char **out)
    __attribute__((warn_unused_result));

/* Find account's line in a shadow buffer.  LAPS_ERR_NOTFOUND, LAPS_ERR_FORMAT
 * (malformed line, duplicate entry). */
int laps_shadow_find(const char *buf, size_t len, const char *account,
		     struct laps_shadow_entry *out) __attribute__((warn_unused_result));

/*
 * A copy of buf in which only account's hash field and last-change day are
 * replaced; every other byte is kept.  *out is malloc'd (no secret: the
 * hash is not one), *outlen its length.
 */
int laps_shadow_replace(const char *buf, size_t len, const char *account, const char *hash,
			long long day, char **out, size_t *outlen)
    __attribute__((warn_unused_result));

/* 0 when account's line has the fields a rotation rewrites (password and
 * last change); LAPS_ERR_FORMAT (naming the account) or LAPS_ERR_NOTFOUND.
 * An empty password field is fine: the account is passwordless and a
 * rotation gives it a managed password. */
int laps_shadow_rewritable(const char *buf, size_t len, const char *account)
    __attribute__((warn_unused_result));

/* Whether an entry may be rotated on day `today`: 0, or LAPS_ERR_ACCOUNT.
 * Fresh, locked and expired entries may (agent/lockstate.h). */
int laps_shadow_check_entry(const char *account, const struct laps_shadow_entry *e, long long today)
    __attribute__((warn_unused_result));

/* uid of account in a passwd buffer, and whether its password field defers
 * to shadow ("x").  LAPS_ERR_NOTFOUND / LAPS_ERR_FORMAT. */
int laps_passwd_find(const char *buf, size_t len, const char *account, uint32_t *uid,
		     bool *shadowed) __attribute__((warn_unused_result));

/* Fill info's lock and expiry fields from a shadow entry. */
void laps_account_info_from_entry(struct laps_account_info *info,
				  const struct laps_shadow_entry *e, long long today);

/* Look the uid up: <root>/etc/passwd when laps_agent_conf(cfg)->root is set, NSS otherwise. */
int laps_account_uid(const struct laps_conf *cfg, const char *account, uint32_t *uid)
    __attribute__((warn_unused_result));

#endif
