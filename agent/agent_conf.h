/*
 * agent_conf.h — the agent's sections of laps.conf: [agent], [password],
 * [post-auth] (agent_conf.c declares their keys and rules).
 *
 * pam_laps and laps-get link this too (agent/libagent_conf.la, which needs
 * only escrow/): they read the accounts the agent manages, its state
 * directory and the post-authentication delay.
 */
#ifndef LAPS_AGENT_CONF_H
#define LAPS_AGENT_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "escrow/conf.h"

enum laps_method { LAPS_METHOD_SHADOW = 0, LAPS_METHOD_PAM };
enum laps_hash { LAPS_HASH_YESCRYPT = 0, LAPS_HASH_SHA512 };
enum laps_pwmode { LAPS_PWMODE_PASSWORD = 0, LAPS_PWMODE_PASSPHRASE };
enum laps_postauth_action {
	LAPS_POSTAUTH_RESET = 0,
	LAPS_POSTAUTH_RESET_LOGOFF,
	LAPS_POSTAUTH_RESET_REBOOT
};
/* [agent] account_state: the password lock ('!') the agent keeps */
enum laps_account_state { LAPS_ACCOUNT_KEEP = 0, LAPS_ACCOUNT_ENABLED, LAPS_ACCOUNT_DISABLED };
#define LAPS_UID_UNSET 4294967295U /* [agent] account_uid not set */

/* [agent].  Every string is malloc'd or NULL (unset).  Durations in seconds. */
struct laps_agent_conf {
	char *accounts[LAPS_CONFIG_MAX_LIST]; /* accounts = a b  (default: lapsadmin) */
	size_t n_accounts;
	enum laps_method method; /* shadow | pam           (default shadow) */
	char *root;		 /* alternate root prefix  (default NULL = /) */
	char *state_dir;	 /* default LAPS_STATE_DIR_DEFAULT */
	char *metrics_file;	 /* Prometheus text file written after each run (NULL = none) */
	int64_t password_age;	 /* 1h..3650d             (default 30d) */
	enum laps_hash hash;	 /* yescrypt | sha512      (default yescrypt) */
	unsigned hash_cost; /* 0 = library default; yescrypt 1..11, sha512 rounds 1000..999999999 */
	/* account management (agent/account_create.c, agent/lockstate.c) */
	enum laps_yesno create_account; /* create missing accounts (default no) */
	unsigned account_uid;		/* fixed uid; LAPS_UID_UNSET = a system uid (login.defs) */
	char *account_home;		/* NULL = no home directory (passwd: /nonexistent) */
	char *account_shell;		/* NULL = /bin/sh */
	char *account_groups[LAPS_CONFIG_MAX_LIST]; /* supplementary groups at creation */
	size_t n_account_groups;
	enum laps_account_state account_state; /* keep | enabled | disabled (default keep) */
	enum laps_yesno allow_uid0;	       /* manage a uid-0 account (default no) */
};

/* [password] */
struct laps_password_conf {
	enum laps_pwmode mode; /* password | passphrase (default password) */
	unsigned length;       /* 8..128                (default 20) */
	unsigned complexity;   /* 1..5 (Windows LAPS)    (default 4) */
	unsigned words;	       /* 3..10                 (default 6) */
	char *separator;       /* 0..4 chars; "" = capitalised and joined (default "-") */
};

/* [post-auth] */
struct laps_postauth_conf {
	int64_t delay;			  /* 0..30d (default 0 = post-auth rotation off) */
	enum laps_postauth_action action; /* reset | reset-logoff | reset-reboot */
};

extern const struct laps_conf_section laps_agent_section, laps_password_section,
    laps_postauth_section;
/* The three, NULL-terminated (for a struct laps_conf_schema). */
extern const struct laps_conf_section *const laps_agent_sections[];

static inline struct laps_agent_conf *
laps_agent_conf(const struct laps_conf *c)
{
	return (struct laps_agent_conf *)laps_conf_get(c, &laps_agent_section);
}

static inline struct laps_password_conf *
laps_password_conf(const struct laps_conf *c)
{
	return (struct laps_password_conf *)laps_conf_get(c, &laps_password_section);
}

static inline struct laps_postauth_conf *
laps_postauth_conf(const struct laps_conf *c)
{
	return (struct laps_postauth_conf *)laps_conf_get(c, &laps_postauth_section);
}

/*
 * The rules of the three sections for the agent: at least one account, a
 * state directory, hash_cost in range for the hash, the account-creation
 * keys only with create_account = yes.  0 or LAPS_ERR_CONFIG naming the key.
 */
int laps_agent_conf_validate(const struct laps_conf *c) __attribute__((warn_unused_result));

/* The rules pam_laps needs: at least one account, a state directory. */
int laps_agent_conf_validate_accounts(const struct laps_conf *c)
    __attribute__((warn_unused_result));

struct laps_backend_env;
/* Fill env from [agent] accounts and state_dir (borrowed from c, which must
 * outlive env's use): what a backend is told when it is opened. */
void laps_agent_backend_env(const struct laps_conf *c, struct laps_backend_env *env);

/*
 * Overrides of [agent] from pam_laps' arguments.  set_accounts_csv: replace
 * accounts with the comma-separated names in s (each a valid user name as in
 * accounts, at most LAPS_CONFIG_MAX_LIST).  set_state_dir: an absolute path.
 * On error a is unchanged; 0, LAPS_ERR_INVALID (with detail) or
 * LAPS_ERR_NOMEM.
 */
int laps_agent_conf_set_accounts_csv(struct laps_agent_conf *a, const char *s)
    __attribute__((warn_unused_result));
int laps_agent_conf_set_state_dir(struct laps_agent_conf *a, const char *dir)
    __attribute__((warn_unused_result));

/* Names for enum values (for messages and status output). */
const char *laps_method_name(enum laps_method m);
const char *laps_hash_name(enum laps_hash h);
const char *laps_postauth_action_name(enum laps_postauth_action a);
const char *laps_pwmode_name(enum laps_pwmode m);
const char *laps_account_state_name(enum laps_account_state s);

#endif
