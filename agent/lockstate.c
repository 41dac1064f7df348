/*
 * lockstate.c — lock and expiry state of local accounts (lockstate.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/account.h"
#include "agent/etcfile.h"
#include "agent/lockstate.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "agent/agent_conf.h"

enum laps_lock_state
laps_lockstate_classify(const char *field, size_t *prefix)
{
	size_t p = strspn(field, "!");

	if (prefix != NULL)
		*prefix = p;
	/* '*' never starts a crypt hash: a placeholder ("*", "!*", "*LK*") */
	if (field[p] == '*' || (p > 0 && field[p] == '\0'))
		return LAPS_LOCK_FRESH;
	return p > 0 ? LAPS_LOCK_LOCKED : LAPS_LOCK_NONE;
}

const char *
laps_lockstate_bare(const char *field)
{
	return field + strspn(field, "!");
}

int
laps_lockstate_compose(const char *current, enum laps_lock_want want, const char *hash, char *out,
		       size_t len)
{
	size_t prefix = 0, n = 0;
	enum laps_lock_state st = laps_lockstate_classify(current, &prefix);

	switch (want) {
	case LAPS_LOCK_WANT_KEEP:
		n = st == LAPS_LOCK_LOCKED ? prefix : 0;
		break;
	case LAPS_LOCK_WANT_LOCKED:
		n = st == LAPS_LOCK_LOCKED ? prefix : 1;
		break;
	case LAPS_LOCK_WANT_UNLOCKED:
		n = 0;
		break;
	}
	if (n > 8)
		n = 8;
	return laps_snprintf(out, len, "%.*s%s", (int)n, "!!!!!!!!", hash);
}

int
laps_lockstate_relock(const char *current, enum laps_lock_want want, char *out, size_t len)
{
	size_t prefix = 0;
	enum laps_lock_state st = laps_lockstate_classify(current, &prefix);

	if (want == LAPS_LOCK_WANT_LOCKED && prefix == 0)
		return laps_snprintf(out, len, "!%s", current);
	if (want == LAPS_LOCK_WANT_UNLOCKED && st == LAPS_LOCK_LOCKED)
		return laps_snprintf(out, len, "%s", current + prefix);
	return laps_snprintf(out, len, "%s", current);
}

enum laps_lock_want
laps_lock_want_for(const struct laps_conf *cfg, enum laps_lock_state at_start)
{
	switch (laps_agent_conf(cfg)->account_state) {
	case LAPS_ACCOUNT_ENABLED:
		return LAPS_LOCK_WANT_UNLOCKED;
	case LAPS_ACCOUNT_DISABLED:
		return LAPS_LOCK_WANT_LOCKED;
	case LAPS_ACCOUNT_KEEP:
		break;
	}
	/* locked when the rotation started: locked afterwards, even if a
	 * PAM module unlocked it and the agent died before re-locking */
	return at_start == LAPS_LOCK_LOCKED ? LAPS_LOCK_WANT_LOCKED : LAPS_LOCK_WANT_KEEP;
}

/* Replace field 1 (the password) of account's line; every other byte kept. */
static int
replace_password_field(const char *buf, size_t len, const char *account, const char *field,
		       char **out, size_t *outlen)
{
	const char *ls, *le, *fs, *fe;
	size_t flen = strlen(field), n;
	char *res;
	int rc;

	*out = NULL;
	if ((rc = laps_etc_find_line(buf, len, account, "shadow", &ls, &le)) != 0)
		return rc;
	if ((rc = laps_etc_field_span(ls, le, 1, &fs, &fe)) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "shadow: entry for '%s' has no hash field",
				   account);
	n = (size_t)(fs - buf) + flen + (len - (size_t)(fe - buf));
	if ((res = malloc(n + 1)) == NULL)
		return LAPS_ERR_NOMEM;
	memcpy(res, buf, (size_t)(fs - buf));
	memcpy(res + (fs - buf), field, flen);
	memcpy(res + (fs - buf) + flen, fe, len - (size_t)(fe - buf));
	res[n] = '\0';
	*out = res;
	*outlen = n;
	return 0;
}

int
laps_lockstate_apply(const struct laps_conf *cfg, const char *account, enum laps_lock_want want,
		     bool *changed)
{
	struct laps_shadow_entry e;
	char path[4200], field[LAPS_HASH_MAX + 2];
	char *buf = NULL, *nbuf = NULL;
	size_t len = 0, nlen = 0;
	int lockfd = -1, rc;

	*changed = false;
	if (want == LAPS_LOCK_WANT_KEEP)
		return 0;
	if ((rc = laps_root_path(laps_agent_conf(cfg)->root, "/etc/shadow", path, sizeof path)) !=
	    0)
		return rc;
	if ((rc = laps_etc_lock(laps_agent_conf(cfg)->root, &lockfd)) != 0)
		goto out;
	if ((rc = laps_file_read(path, LAPS_SHADOW_MAX, 0, &buf, &len)) != 0)
		goto out;
	if ((rc = laps_shadow_find(buf, len, account, &e)) != 0)
		goto out;
	if ((rc = laps_lockstate_relock(e.hash, want, field, sizeof field)) != 0)
		goto out;
	if (strcmp(field, e.hash) == 0) {
		rc = 0;
		goto out;
	}
	if (strlen(field) > LAPS_HASH_MAX) {
		rc = laps_seterr(LAPS_ERR_TOOBIG, "shadow: hash of '%s' too long", account);
		goto out;
	}
	if ((rc = replace_password_field(buf, len, account, field, &nbuf, &nlen)) != 0 ||
	    (rc = laps_etc_replace_file(path, nbuf, nlen)) != 0)
		goto out;
	*changed = true;
	rc = 0;
out:
	laps_etc_unlock(lockfd);
	laps_wipe(&e, sizeof e);
	laps_wipe(field, sizeof field);
	laps_file_free(buf, LAPS_SHADOW_MAX + 1, 0);
	if (nbuf != NULL)
		laps_freezero(nbuf, nlen);
	return rc;
}

int
laps_account_check_uid(const struct laps_conf *cfg, const char *account, unsigned uid)
{
	if (uid == 0 && laps_agent_conf(cfg)->allow_uid0 != LAPS_YES)
		return laps_seterr(LAPS_ERR_ACCOUNT,
				   "account '%s' has uid 0; refusing to manage it (set [agent] "
				   "allow_uid0 = yes to allow)",
				   account);
	return 0;
}

static const char *const lock_names[] = {"none", "fresh", "locked"};

const char *
laps_lock_state_name(enum laps_lock_state s)
{
	if ((unsigned)s >= sizeof lock_names / sizeof lock_names[0])
		return "unknown";
	return lock_names[s];
}

int
laps_lock_state_parse(const char *s, size_t n, enum laps_lock_state *out)
{
	size_t i;

	for (i = 0; i < sizeof lock_names / sizeof lock_names[0]; i++) {
		if (strlen(lock_names[i]) == n && memcmp(s, lock_names[i], n) == 0) {
			*out = (enum laps_lock_state)i;
			return 0;
		}
	}
	return laps_seterr(LAPS_ERR_FORMAT, "unknown lock state");
}
