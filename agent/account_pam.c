/*
 * account_pam.c — the `pam` method: pam_chauthtok through the dedicated
 * service "laps" (/etc/pam.d/laps, see examples/pam.d-laps), so sites with
 * pam_sss, pwquality etc. rotate through their own password stack; verified
 * with pam_authenticate through the same service.
 *
 * The conversation answers every PAM_PROMPT_ECHO_OFF prompt ("New
 * password:", "Retype new password:") with the new password and refuses any
 * other prompt, so a stack that asks for something unexpected (an old
 * password, an OTP) fails instead of hanging.  Error and info messages are
 * kept to explain a refusal (pwquality: "The password is shorter than ...").
 */

#include "config.h"

#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/account.h"
#include "agent/dynlib.h"
#include "agent/lockstate.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "agent/agent_conf.h"

#define PAM_MSG_MAX 200

/* libpam, loaded when a password is set (agent/dynlib.h) */
static __typeof__(pam_start) *fn_pam_start;
static __typeof__(pam_chauthtok) *fn_pam_chauthtok;
static __typeof__(pam_authenticate) *fn_pam_authenticate;
static __typeof__(pam_end) *fn_pam_end;
static __typeof__(pam_strerror) *fn_pam_strerror;

struct conv_ctx {
	const char *password;
	char msg[PAM_MSG_MAX + 1]; /* last error/info message, sanitised */
	int unexpected;		   /* a prompt we do not answer */
};

static void
keep_msg(struct conv_ctx *c, const char *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; m[i] != '\0' && i < PAM_MSG_MAX; i++)
		c->msg[i] = (m[i] >= 0x20 && m[i] < 0x7f) ? m[i] : ' ';
	c->msg[i] = '\0';
}

static int
conv_fn(int n, const struct pam_message **msg, struct pam_response **resp, void *appdata)
{
	struct conv_ctx *c = appdata;
	struct pam_response *r;
	int i;

	*resp = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((r = calloc((size_t)n, sizeof *r)) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			/* PAM frees responses with free(): an ordinary heap copy,
			 * which the modules overwrite before freeing */
			if ((r[i].resp = strdup(c->password)) == NULL)
				goto fail;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			keep_msg(c, msg[i]->msg);
			break;
		default:
			c->unexpected = 1;
			keep_msg(c, msg[i]->msg);
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++)
		if (r[i].resp != NULL)
			laps_freezero(r[i].resp, strlen(r[i].resp));
	free(r);
	return PAM_CONV_ERR;
}

/* Map a PAM failure to our error space, naming the step and PAM's words. */
static int
pam_fail(pam_handle_t *pamh, int prc, const char *step, const char *account,
	 const struct conv_ctx *c)
{
	const char *ps = fn_pam_strerror(pamh, prc);
	int err;

	if (c->unexpected)
		return laps_seterr(LAPS_ERR_REFUSED,
				   "pam service '%s': %s for '%s': unexpected prompt '%s' "
				   "(the stack must only ask for the new password)",
				   LAPS_PAM_SERVICE, step, account, c->msg);
	switch (prc) {
	case PAM_USER_UNKNOWN:
		err = LAPS_ERR_ACCOUNT;
		break;
	case PAM_AUTH_ERR:
		err = LAPS_ERR_VERIFY;
		break;
	case PAM_ABORT:
	case PAM_BUF_ERR:
	case PAM_SYSTEM_ERR:
	case PAM_AUTHINFO_UNAVAIL:
		err = LAPS_ERR_IO;
		break;
	default:
		/* PAM_AUTHTOK_ERR (pwquality), PAM_PERM_DENIED, ... */
		err = LAPS_ERR_REFUSED;
		break;
	}
	return laps_seterr(err, "pam service '%s': %s for '%s': %s%s%s", LAPS_PAM_SERVICE, step,
			   account, ps != NULL ? ps : "error", c->msg[0] ? ": " : "", c->msg);
}

static int
pam_load(void)
{
	static const struct laps_dynsym syms[] = {
	    {"pam_start", &fn_pam_start},
	    {"pam_chauthtok", &fn_pam_chauthtok},
	    {"pam_authenticate", &fn_pam_authenticate},
	    {"pam_end", &fn_pam_end},
	    {"pam_strerror", &fn_pam_strerror},
	};

	return laps_dynlib_load("libpam.so.0", syms, sizeof syms / sizeof syms[0], "method = pam",
				LAPS_DYNLIB_INTERPOSABLE);
}

/* One PAM transaction: chauthtok (set) or authenticate (verify). */
static int
pam_do(const char *account, const char *password, int set)
{
	struct conv_ctx c;
	struct pam_conv conv;
	pam_handle_t *pamh = NULL;
	int prc, rc;

	if ((rc = pam_load()) != 0)
		return rc;
	memset(&c, 0, sizeof c);
	c.password = password;
	conv.conv = conv_fn;
	conv.appdata_ptr = &c;
	prc = fn_pam_start(LAPS_PAM_SERVICE, account, &conv, &pamh);
	if (prc != PAM_SUCCESS)
		return laps_seterr(LAPS_ERR_IO, "pam_start(%s): %s", LAPS_PAM_SERVICE,
				   fn_pam_strerror(pamh, prc));
	if (set)
		prc = fn_pam_chauthtok(pamh, PAM_SILENT);
	else
		prc = fn_pam_authenticate(pamh, PAM_SILENT);
	if (prc != PAM_SUCCESS)
		rc = pam_fail(pamh, prc, set ? "pam_chauthtok" : "pam_authenticate", account, &c);
	else
		rc = 0;
	if (!set && rc == LAPS_ERR_REFUSED)
		rc = laps_seterr(LAPS_ERR_VERIFY, "%s", laps_errdetail()); /* same detail */
	fn_pam_end(pamh, prc);
	return rc;
}

/* Digest of the shadow hash when <root>/etc/shadow has the account
 * (pam_unix stacks); otherwise no digest (pam_sss, test modules). */
static void
pam_digest(const struct laps_conf *cfg, const char *account, struct laps_account_info *out,
	   struct laps_shadow_entry *e, bool *have_entry)
{
	char path[4200];
	char *buf = NULL;
	size_t len = 0;

	*have_entry = false;
	out->have_digest = false;
	if (laps_root_path(laps_agent_conf(cfg)->root, "/etc/shadow", path, sizeof path) != 0)
		return;
	if (laps_file_read(path, LAPS_SHADOW_MAX, LAPS_FILE_MISSING_OK, &buf, &len) != 0) {
		laps_clearerr();
		return;
	}
	if (laps_shadow_find(buf, len, account, e) == 0) {
		*have_entry = true;
		laps_account_info_from_entry(out, e, (long long)(time(NULL) / 86400));
	}
	laps_clearerr();
	laps_file_free(buf, len, 0); /* wipes: it held hashes */
}

static int
pam_inspect(const struct laps_conf *cfg, const char *account, struct laps_account_info *out)
{
	struct laps_shadow_entry e;
	bool have_entry;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = laps_account_uid(cfg, account, &out->uid)) != 0)
		return rc;
	if ((rc = laps_account_check_uid(cfg, account, out->uid)) != 0)
		return rc;
	pam_digest(cfg, account, out, &e, &have_entry);
	if (have_entry)
		return laps_shadow_check_entry(account, &e, (long long)(time(NULL) / 86400));
	return 0;
}

/*
 * pam_chauthtok writes an unlocked hash (pam_unix drops a '!' prefix).
 * When <root>/etc/shadow has the account, the lock is put back afterwards
 * (after pam_authenticate verified the new password, which a locked entry
 * would refuse).  Accounts PAM keeps elsewhere (pam_sss) keep whatever
 * their store does: nothing can be preserved there.
 */
static int
pam_set(const struct laps_conf *cfg, const char *account, const char *password,
	enum laps_lock_want want, struct laps_hashjob *job, struct laps_account_info *out)
{
	struct laps_account_info before;
	struct laps_shadow_entry e;
	bool have_entry, changed = false;
	int rc;

	(void)job; /* pam_unix hashes inside pam_chauthtok: no prepare() */
	memset(out, 0, sizeof *out);
	if ((rc = pam_inspect(cfg, account, &before)) != 0)
		return rc;
	if ((rc = pam_do(account, password, 1)) != 0)
		return rc;
	if ((rc = pam_do(account, password, 0)) != 0)
		return rc;
	if (want == LAPS_LOCK_WANT_KEEP && before.lock == LAPS_LOCK_LOCKED)
		want = LAPS_LOCK_WANT_LOCKED;
	if (before.have_entry && want != LAPS_LOCK_WANT_KEEP) {
		rc = laps_lockstate_apply(cfg, account, want, &changed);
		if (rc != 0)
			return laps_seterr(rc == LAPS_ERR_NOTFOUND ? LAPS_ERR_ACCOUNT : rc,
					   "pam: password set but the lock of '%s' could not be "
					   "restored: %s",
					   account, laps_errdetail());
	}
	out->uid = before.uid;
	pam_digest(cfg, account, out, &e, &have_entry);
	laps_wipe(&e, sizeof e);
	return 0;
}

const struct laps_account_ops laps_account_pam = {
    .name = "pam",
    .load = pam_load,
    .inspect = pam_inspect,
    .set = pam_set,
};
