/*
 * account_create.h — automatic account management ([agent]
 * create_account, account_uid, account_home, account_shell,
 * account_groups, account_state, allow_uid0; Windows LAPS 24H2's
 * AutomaticAccountManagement* for Linux).
 *
 * Creation writes <root>/etc/{group,gshadow,shadow,passwd} the way
 * shadow-utils does (useradd -r -U): the password-file lock
 * (<root>/etc/.pwd.lock) plus each file's "<file>.lock" (link(2) of a
 * file holding our pid), every file replaced atomically through
 * "<file>+" with its owner and mode, passwd last so that the account
 * appears only once its other entries exist.  Only the new lines and the
 * member lists of account_groups change; every other byte is kept.
 */
#ifndef LAPS_ACCOUNT_CREATE_H
#define LAPS_ACCOUNT_CREATE_H

#include <stdbool.h>

#include "agent/account.h"
#include "escrow/conf.h"
#include "agent/agent_conf.h"

/* Values of <root>/etc/login.defs the creation uses (defaults as shadow-utils). */
struct laps_login_defs {
	unsigned long sys_uid_min, sys_uid_max;		  /* 101, 999 */
	unsigned long sys_gid_min, sys_gid_max;		  /* 101, 999 */
	long pass_min_days, pass_max_days, pass_warn_age; /* 0, 99999, 7 */
};

/* Parse login.defs text (missing keys keep the defaults).  0 or
 * LAPS_ERR_FORMAT naming the line. */
int laps_login_defs_parse(const char *buf, size_t len, struct laps_login_defs *out)
    __attribute__((warn_unused_result));

#define ACCOUNT_PATH_MAX 4096 /* longest account_home / account_shell */

/*
 * [agent] account_home and account_shell (either may be NULL: not set):
 * absolute, at most ACCOUNT_PATH_MAX bytes, no ':', no control character,
 * no '.' or '..' component.  0, or LAPS_ERR_CONFIG with a detail naming
 * the key.  laps-agent check-config and laps_account_create() call it.
 */
int laps_account_create_check(const char *home, const char *shell)
    __attribute__((warn_unused_result));

/*
 * Create account under laps_agent_conf(cfg)->root when it is in neither <root>/etc/passwd
 * nor (without a root prefix) NSS.  *created says whether it was.
 * LAPS_ERR_ACCOUNT when a leftover entry (shadow, group, gshadow) or a
 * missing supplementary group stops it, LAPS_ERR_LOCKED, LAPS_ERR_IO.
 */
int laps_account_create(const struct laps_conf *cfg, const char *account, bool *created)
    __attribute__((warn_unused_result));

/*
 * Everything before a rotation decision: create the account when
 * configured and missing, inspect it (acct->inspect), and apply
 * [agent] account_state to its lock prefix when it is not `keep`.
 */
int laps_account_prepare(const struct laps_conf *cfg, const char *account,
			 const struct laps_account_ops *acct, struct laps_account_info *info)
    __attribute__((warn_unused_result));

#endif
