/*
 * pam_laps.c — PAM session module: record that a managed account was used.
 *
 * When a session opens for one of the accounts laps manages (PAM_USER is in
 * [agent] accounts, or in the accounts= argument), the module writes the
 * usage marker <state_dir>/used/<account> (escrow/marker.h, docs/MARKER.md)
 * atomically: time, PAM_SERVICE, PAM_RUSER, PAM_RHOST, PAM_TTY and uid.
 * When the session closes it records the logout time.  laps-agent reads
 * the marker and rotates the password [post-auth] delay after the last use.
 *
 * The module never denies, delays or fails a login because of its own
 * problems: every internal error (config missing or broken, state directory
 * not writable, corrupt marker, account not in passwd, out of memory) is
 * logged (through libescrow's logger, which escapes control characters,
 * into pam_syslog()) and the module returns PAM_IGNORE, which every
 * control value (required, requisite, optional, ...) treats as "no
 * opinion".  PAM_SUCCESS is returned only when the use was recorded.  It
 * never exits or aborts, never writes to stderr and never logs with bare
 * syslog(): libescrow's messages go through a sink that calls pam_syslog().
 *
 * Arguments (linux-pam style: conf= is read first, then the other
 * arguments override what the file says; unknown arguments are logged and
 * ignored):
 *   conf=FILE        laps.conf to read (default LAPS_CONFIG_DEFAULT)
 *   accounts=a,b     managed accounts (overrides [agent] accounts)
 *   state_dir=DIR    state directory (overrides [agent] state_dir)
 *   debug            log at debug level
 *
 * Only pam_sm_open_session and pam_sm_close_session are exported
 * (pam/pam_laps.map, -fvisibility=hidden).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define PAM_SM_SESSION
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "escrow/err.h"
#include "escrow/events.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/marker.h" /* also brings escrow/conf.h */
#include "agent/agent_conf.h"

#define PAM_LAPS_EXPORT __attribute__((visibility("default")))

#define PAM_LAPS_ARG_MAX PATH_MAX	 /* longest accepted argument */
#define PAM_LAPS_PWBUF_MIN 1024		 /* getpwnam_r buffer: first size */
#define PAM_LAPS_PWBUF_MAX (1024 * 1024) /* ... and the largest we try */
#define PAM_LAPS_LOGVAL_MAX 64		 /* PAM items echoed in log lines */

/*
 * laps.conf as the module reads it: the agent's sections; every other
 * section (escrow, the backends') is skipped — the agent's check-config
 * validates the whole file, and the module never denies a login over it.
 */
static const struct laps_conf_schema pam_laps_schema = {
    {laps_agent_sections}, NULL, LAPS_CONF_SKIP_UNKNOWN};

/* The module's arguments; the strings point into argv. */
struct pam_laps_args {
	const char *conf;
	const char *accounts;
	const char *state_dir;
	bool debug;
};

/* Where libescrow's log_*() messages go while the module runs. */
static void
pam_laps_log_sink(void *ctx, int level, const char *msg)
{
	pam_syslog((const pam_handle_t *)ctx, level, "%s", msg);
}

/*
 * Parse argv into *args.  Arguments are trusted (they come from the PAM
 * configuration) but still length-checked; unknown or over-long ones are
 * logged and ignored.  A later duplicate overrides an earlier one.
 */
static void
pam_laps_parse_args(pam_handle_t *pamh, int argc, const char **argv, struct pam_laps_args *args)
{
	int i;

	memset(args, 0, sizeof(*args));
	args->conf = LAPS_CONFIG_DEFAULT;
	for (i = 0; i < argc && argv != NULL; i++) {
		const char *a = argv[i];

		if (a == NULL)
			continue;
		if (strnlen(a, PAM_LAPS_ARG_MAX) >= PAM_LAPS_ARG_MAX) {
			laps_log_event(LAPS_EV_PAM_BAD_ARGUMENT, NULL, "argument %d too long, ignored", i + 1);
			continue;
		}
		if (strncmp(a, "conf=", 5) == 0)
			args->conf = a + 5;
		else if (strncmp(a, "accounts=", 9) == 0)
			args->accounts = a + 9;
		else if (strncmp(a, "state_dir=", 10) == 0)
			args->state_dir = a + 10;
		else if (strcmp(a, "debug") == 0)
			args->debug = true;
		else
			laps_log_event(LAPS_EV_PAM_BAD_ARGUMENT, NULL,
				       "unknown argument '%.64s', ignored", a);
	}
}

/*
 * Load args->conf into *cfg (laps_conf_init'ed by the caller), apply the
 * argument overrides and validate for the PAM module.  Returns 0 or a
 * LAPS_ERR_* with detail.
 */
static int
pam_laps_load_config(const struct pam_laps_args *args, struct laps_conf *cfg)
{
	int rc;

	if ((rc = laps_conf_load(cfg, args->conf, 0)) != 0)
		return rc;
	if (args->accounts != NULL &&
	    (rc = laps_agent_conf_set_accounts_csv(laps_agent_conf(cfg), args->accounts)) != 0)
		return rc;
	if (args->state_dir != NULL &&
	    (rc = laps_agent_conf_set_state_dir(laps_agent_conf(cfg), args->state_dir)) != 0)
		return rc;
	return laps_agent_conf_validate_accounts(cfg);
}

static bool
pam_laps_is_managed(const struct laps_conf *cfg, const char *user)
{
	size_t i;

	for (i = 0; i < laps_agent_conf(cfg)->n_accounts; i++)
		if (laps_agent_conf(cfg)->accounts[i] != NULL &&
		    strcmp(laps_agent_conf(cfg)->accounts[i], user) == 0)
			return true;
	return false;
}

/*
 * The uid of user from the passwd database (getpwnam_r, with a growing
 * buffer capped at PAM_LAPS_PWBUF_MAX).  0, LAPS_ERR_ACCOUNT (no such
 * user), LAPS_ERR_NOMEM or LAPS_ERR_IO.
 */
static int
pam_laps_lookup_uid(const char *user, uint32_t *uid)
{
	struct passwd pw, *res = NULL;
	char *buf = NULL, *nbuf;
	size_t size = PAM_LAPS_PWBUF_MIN;
	long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	int err, rc = LAPS_ERR_INTERNAL;

	if (sz > 0 && (size_t)sz > size && (size_t)sz <= PAM_LAPS_PWBUF_MAX)
		size = (size_t)sz;
	for (;;) {
		if ((nbuf = realloc(buf, size)) == NULL) {
			rc = LAPS_ERR_NOMEM;
			goto out;
		}
		buf = nbuf;
		err = getpwnam_r(user, &pw, buf, size, &res);
		if (err != ERANGE)
			break;
		if (size >= PAM_LAPS_PWBUF_MAX) {
			rc = laps_seterr(LAPS_ERR_IO, "passwd entry of '%s' too large", user);
			goto out;
		}
		size *= 2;
	}
	if (err != 0 && err != ENOENT && err != ESRCH) {
		rc = laps_seterr(LAPS_ERR_IO, "getpwnam_r(%s): %s", user, strerror(err));
		goto out;
	}
	if (res == NULL) {
		rc = laps_seterr(LAPS_ERR_ACCOUNT, "'%s' is not in the passwd database", user);
		goto out;
	}
	*uid = (uint32_t)pw.pw_uid;
	rc = 0;
out:
	free(buf);
	return rc;
}

/*
 * Copy a PAM item into dst (cap bytes), truncating and replacing control
 * characters with '?', so that neither the marker nor our log lines can be
 * used to inject lines.  A missing item gives "".
 */
static void
pam_laps_copy_item(pam_handle_t *pamh, int type, char *dst, size_t cap)
{
	const void *item = NULL;
	const char *s;
	size_t i;

	dst[0] = '\0';
	if (pam_get_item(pamh, type, &item) != PAM_SUCCESS || item == NULL)
		return;
	s = item;
	for (i = 0; s[i] != '\0' && i + 1 < cap; i++)
		dst[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	dst[i] = '\0';
}

/* Fill a fresh marker for user with the current PAM items. */
static void
pam_laps_fill_marker(pam_handle_t *pamh, const char *user, uint32_t uid, struct laps_marker *m)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->account, user, strlen(user) + 1); /* length checked by the caller */
	m->uid = uid;
	pam_laps_copy_item(pamh, PAM_SERVICE, m->service, sizeof(m->service));
	pam_laps_copy_item(pamh, PAM_RUSER, m->ruser, sizeof(m->ruser));
	pam_laps_copy_item(pamh, PAM_RHOST, m->rhost, sizeof(m->rhost));
	pam_laps_copy_item(pamh, PAM_TTY, m->tty, sizeof(m->tty));
}

static const char *
pam_laps_or(const char *s, const char *dflt)
{
	return s[0] != '\0' ? s : dflt;
}

/* Seconds as "30d", "12h", "15m" or "90s" for the log line; len >= 24. */
static void
pam_laps_fmt_duration(int64_t s, char *buf, size_t len)
{
	long long v = (long long)s;
	char unit = 's';

	if (v > 0 && v % 86400 == 0) {
		v /= 86400;
		unit = 'd';
	} else if (v > 0 && v % 3600 == 0) {
		v /= 3600;
		unit = 'h';
	} else if (v > 0 && v % 60 == 0) {
		v /= 60;
		unit = 'm';
	}
	snprintf(buf, len, "%lld%c", v, unit); /* at most 21 bytes: cannot truncate */
}

/*
 * Record a session open (opening = true) or close of the managed account
 * user in <state_dir>/used/<user> with laps_marker_update (escrow/marker.h:
 * open writes a fresh marker, close sets closed=now keeping the open's
 * fields; serialised by a lock with a bounded wait, never moving a time
 * backwards).  Returns 0 or a LAPS_ERR_* with detail.
 */
static int
pam_laps_record(pam_handle_t *pamh, const struct laps_conf *cfg, const char *user, bool opening)
{
	char path[PATH_MAX], dir[PATH_MAX], delay[32];
	struct laps_marker m;
	uint32_t uid = 0;
	time_t now;
	int rc;

	if (strlen(user) > LAPS_ACCOUNT_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "account name too long");
	if ((rc = pam_laps_lookup_uid(user, &uid)) != 0)
		return rc;
	if ((rc = laps_marker_path(laps_agent_conf(cfg)->state_dir, user, path, sizeof(path))) != 0)
		return rc;
	if ((rc = laps_snprintf(dir, sizeof(dir), "%s/used", laps_agent_conf(cfg)->state_dir)) != 0)
		return laps_seterr(rc, "%s/used: path too long", laps_agent_conf(cfg)->state_dir);
	if ((rc = laps_mkdir_p(dir, 0700)) != 0)
		return rc;
	if ((now = time(NULL)) == (time_t)-1)
		return laps_seterr(LAPS_ERR_IO, "time: %s", strerror(errno));

	pam_laps_fill_marker(pamh, user, uid, &m);
	/* locked, bounded wait, monotonic: a close never erases a newer login */
	if ((rc = laps_marker_update(path, &m, opening, (int64_t)now)) != 0)
		return rc;

	if (opening) {
		pam_laps_fmt_duration(laps_postauth_conf(cfg)->delay, delay, sizeof(delay));
		laps_log_event(
		    LAPS_EV_ACCOUNT_USED, NULL,
		    "managed account %s used: service=%.*s ruser=%.*s rhost=%.*s tty=%.*s "
		    "uid=%u; %s%s",
		    user, PAM_LAPS_LOGVAL_MAX, pam_laps_or(m.service, "-"), PAM_LAPS_LOGVAL_MAX,
		    pam_laps_or(m.ruser, "-"), PAM_LAPS_LOGVAL_MAX, pam_laps_or(m.rhost, "-"),
		    PAM_LAPS_LOGVAL_MAX, pam_laps_or(m.tty, "-"), (unsigned)uid,
		    laps_postauth_conf(cfg)->delay > 0 ? "password rotation after "
						       : "post-auth rotation off",
		    laps_postauth_conf(cfg)->delay > 0 ? delay : "");
	} else {
		laps_log_event(LAPS_EV_SESSION_CLOSED, NULL, "session of managed account %s closed",
			       user);
	}
	return 0;
}

/*
 * The common body of open and close.  Returns PAM_SUCCESS when the use
 * was recorded, PAM_IGNORE otherwise (not a managed account, or any error,
 * which is logged): never a failure code.
 */
static int
pam_laps_session(pam_handle_t *pamh, int argc, const char **argv, bool opening)
{
	struct pam_laps_args args;
	struct laps_conf cfg;
	const void *item = NULL;
	const char *user;
	char err[512];
	int rc, ret = PAM_IGNORE, cfg_ok = 0;

	/* Every message goes through libescrow's logger (escaped, capped:
	 * PAM items and file contents come from outside) into pam_syslog. */
	laps_log_set_sink(pam_laps_log_sink, pamh);
	laps_log_set_level(LAPS_LOG_INFO);
	pam_laps_parse_args(pamh, argc, argv, &args);
	laps_log_set_level(args.debug ? LAPS_LOG_DEBUG : LAPS_LOG_INFO);
	laps_clearerr();

	if ((rc = laps_conf_init(&cfg, &pam_laps_schema)) != 0) {
		laps_log_event(LAPS_EV_PAM_CONFIG_FAILED, NULL, "cannot initialise: %s",
			   laps_errstr(rc, err, sizeof(err)));
		goto out;
	}
	cfg_ok = 1;
	if ((rc = pam_laps_load_config(&args, &cfg)) != 0) {
		laps_log_event(LAPS_EV_PAM_CONFIG_FAILED, NULL, "%s: not recording account use: %s",
			       args.conf,
			   laps_errstr(rc, err, sizeof(err)));
		goto out;
	}
	if (pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS || item == NULL ||
	    *(const char *)item == '\0') {
		if (args.debug)
			laps_log_msg(LOG_DEBUG, NULL, "no PAM_USER, nothing to record");
		goto out;
	}
	user = item;
	if (!pam_laps_is_managed(&cfg, user)) {
		if (args.debug)
			laps_log_msg(LOG_DEBUG, NULL, "%.64s is not a managed account", user);
		goto out;
	}
	laps_clearerr();
	if ((rc = pam_laps_record(pamh, &cfg, user, opening)) != 0) {
		laps_log_event(LAPS_EV_USE_NOT_RECORDED, NULL,
			       "cannot record %s of managed account %s: %s",
			   opening ? "session open" : "session close", user,
			   laps_errstr(rc, err, sizeof(err)));
		goto out;
	}
	ret = PAM_SUCCESS;
out:
	if (cfg_ok)
		laps_conf_free(&cfg);
	laps_clearerr();
	laps_log_set_sink(NULL, NULL); /* pamh must not outlive this call */
	return ret;
}

PAM_LAPS_EXPORT int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	return pam_laps_session(pamh, argc, argv, true);
}

PAM_LAPS_EXPORT int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	return pam_laps_session(pamh, argc, argv, false);
}
