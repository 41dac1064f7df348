/*
 * agent_conf.c — [agent], [password] and [post-auth]: their keys, defaults
 * and rules.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_conf.h"
#include "escrow/backend.h"
#include "escrow/conf.h"
#include "escrow/err.h"

_Static_assert(sizeof(enum laps_method) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_hash) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_pwmode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_postauth_action) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_account_state) == sizeof(int), "enum size");

#define HOUR_S 3600LL
#define DAY_S 86400LL
#define SEPARATOR_MAX 4

static const char *const method_names[] = {"shadow", "pam", NULL};
static const char *const hash_names[] = {"yescrypt", "sha512", NULL};
static const char *const pwmode_names[] = {"password", "passphrase", NULL};
static const char *const action_names[] = {"reset", "reset-logoff", "reset-reboot", NULL};
static const char *const account_state_names[] = {"keep", "enabled", "disabled", NULL};

/* [password] separator: 0..4 printable non-blank ASCII characters. */
static const char *
check_separator(const char *v)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c <= 0x20 || c >= 0x7f)
			return "must be printable ASCII without blanks";
	}
	if (i > SEPARATOR_MAX)
		return "at most 4 characters";
	return NULL;
}

/* clang-format off */
#define S struct laps_agent_conf
static const struct laps_conf_key agent_keys[] = {
    LAPS_CONF_KEY_LIST("accounts", S, accounts, n_accounts, laps_conf_check_account),
    LAPS_CONF_KEY_ENUM("method", S, method, method_names),
    LAPS_CONF_KEY_STR("root", LAPS_CONF_PATH, S, root, NULL),
    LAPS_CONF_KEY_STR("state_dir", LAPS_CONF_PATH, S, state_dir, NULL),
    LAPS_CONF_KEY_STR("metrics_file", LAPS_CONF_PATH, S, metrics_file, NULL),
    LAPS_CONF_KEY_DURATION("password_age", S, password_age, HOUR_S, 3650 * DAY_S),
    LAPS_CONF_KEY_ENUM("hash", S, hash, hash_names),
    LAPS_CONF_KEY_UINT("hash_cost", S, hash_cost, 0, 999999999),
    LAPS_CONF_KEY_YESNO("create_account", S, create_account),
    LAPS_CONF_KEY_UINT("account_uid", S, account_uid, 0, 4294967294LL),
    LAPS_CONF_KEY_STR("account_home", LAPS_CONF_PATH, S, account_home, NULL),
    LAPS_CONF_KEY_STR("account_shell", LAPS_CONF_PATH, S, account_shell, NULL),
    LAPS_CONF_KEY_LIST("account_groups", S, account_groups, n_account_groups,
		       laps_conf_check_account),
    LAPS_CONF_KEY_ENUM("account_state", S, account_state, account_state_names),
    LAPS_CONF_KEY_YESNO("allow_uid0", S, allow_uid0),
};
#undef S
#define S struct laps_password_conf
static const struct laps_conf_key password_keys[] = {
    LAPS_CONF_KEY_ENUM("mode", S, mode, pwmode_names),
    LAPS_CONF_KEY_UINT("length", S, length, 8, 128),
    LAPS_CONF_KEY_UINT("complexity", S, complexity, 1, 5),
    LAPS_CONF_KEY_UINT("words", S, words, 3, 10),
    LAPS_CONF_KEY_STRF("separator", LAPS_CONF_STRING, S, separator, check_separator,
		       LAPS_CONF_EMPTY_OK),
};
#undef S
#define S struct laps_postauth_conf
static const struct laps_conf_key postauth_keys[] = {
    LAPS_CONF_KEY_DURATION("delay", S, delay, 0, 30 * DAY_S),
    LAPS_CONF_KEY_ENUM("action", S, action, action_names),
};
#undef S
/* clang-format on */

static int
agent_defaults(void *p)
{
	struct laps_agent_conf *a = p;

	a->method = LAPS_METHOD_SHADOW;
	a->password_age = 30 * DAY_S;
	a->hash = LAPS_HASH_YESCRYPT;
	a->account_uid = LAPS_UID_UNSET;
	if ((a->accounts[0] = strdup("lapsadmin")) == NULL)
		return LAPS_ERR_NOMEM;
	a->n_accounts = 1;
	if ((a->state_dir = strdup(LAPS_STATE_DIR_DEFAULT)) == NULL)
		return LAPS_ERR_NOMEM;
	return 0;
}

static int
password_defaults(void *p)
{
	struct laps_password_conf *pw = p;

	pw->mode = LAPS_PWMODE_PASSWORD;
	pw->length = 20;
	pw->complexity = 4;
	pw->words = 6;
	if ((pw->separator = strdup("-")) == NULL)
		return LAPS_ERR_NOMEM;
	return 0;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
const struct laps_conf_section laps_agent_section = {
    "agent", agent_keys, N(agent_keys), sizeof(struct laps_agent_conf), agent_defaults};
const struct laps_conf_section laps_password_section = {"password", password_keys, N(password_keys),
							sizeof(struct laps_password_conf),
							password_defaults};
const struct laps_conf_section laps_postauth_section = {
    "post-auth", postauth_keys, N(postauth_keys), sizeof(struct laps_postauth_conf), NULL};

const struct laps_conf_section *const laps_agent_sections[] = {
    &laps_agent_section, &laps_password_section, &laps_postauth_section, NULL};

/* ------------------------------------------------------------------ */
/* Rules                                                               */

static int
validate_hash_cost(const struct laps_conf *c, const struct laps_agent_conf *a)
{
	unsigned lo, hi;

	if (a->hash_cost == 0)
		return 0; /* library default */
	if (a->hash == LAPS_HASH_YESCRYPT) {
		lo = 1;
		hi = 11;
	} else {
		lo = 1000;
		hi = 999999999;
	}
	if (a->hash_cost < lo || a->hash_cost > hi)
		return laps_seterr(LAPS_ERR_CONFIG,
				   "%s: [agent] hash_cost: %u is out of range %u..%u for hash = %s",
				   laps_conf_name(c), a->hash_cost, lo, hi,
				   laps_hash_name(a->hash));
	return 0;
}

static int
validate_account_mgmt(const struct laps_conf *c, const struct laps_agent_conf *a)
{
	if (a->account_uid != LAPS_UID_UNSET && a->n_accounts != 1)
		return laps_conf_err(c, "agent", "account_uid",
				     "a fixed uid needs exactly one account in accounts");
	if (a->account_uid == 0 && a->allow_uid0 != LAPS_YES)
		return laps_conf_err(c, "agent", "account_uid", "0 (root) needs allow_uid0 = yes");
	if (a->create_account != LAPS_YES &&
	    (a->account_uid != LAPS_UID_UNSET || a->account_home != NULL ||
	     a->account_shell != NULL || a->n_account_groups > 0))
		return laps_conf_err(c, "agent", "create_account",
				     "account_uid, account_home, account_shell and account_groups "
				     "apply only with create_account = yes");
	return 0;
}

int
laps_agent_conf_validate_accounts(const struct laps_conf *c)
{
	const struct laps_agent_conf *a = laps_agent_conf(c);

	if (a == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "laps_agent_conf_validate: no [agent]");
	if (a->n_accounts == 0)
		return laps_conf_err(c, "agent", "accounts", "at least one account is required");
	if (a->state_dir == NULL)
		return laps_conf_err(c, "agent", "state_dir", "not set");
	return 0;
}

int
laps_agent_conf_validate(const struct laps_conf *c)
{
	int rc;

	if ((rc = laps_agent_conf_validate_accounts(c)) != 0)
		return rc;
	if ((rc = validate_hash_cost(c, laps_agent_conf(c))) != 0)
		return rc;
	return validate_account_mgmt(c, laps_agent_conf(c));
}

const char *
laps_method_name(enum laps_method m)
{
	return laps_conf_enum_name(method_names, (int)m);
}

const char *
laps_hash_name(enum laps_hash h)
{
	return laps_conf_enum_name(hash_names, (int)h);
}

const char *
laps_postauth_action_name(enum laps_postauth_action a)
{
	return laps_conf_enum_name(action_names, (int)a);
}

const char *
laps_pwmode_name(enum laps_pwmode m)
{
	return laps_conf_enum_name(pwmode_names, (int)m);
}

const char *
laps_account_state_name(enum laps_account_state s)
{
	return laps_conf_enum_name(account_state_names, (int)s);
}

void
laps_agent_backend_env(const struct laps_conf *c, struct laps_backend_env *env)
{
	const struct laps_agent_conf *a = laps_agent_conf(c);

	memset(env, 0, sizeof *env);
	if (a == NULL)
		return;
	env->state_dir = a->state_dir;
	env->accounts = a->accounts;
	env->n_accounts = a->n_accounts;
}

int
laps_agent_conf_set_accounts_csv(struct laps_agent_conf *a, const char *s)
{
	return laps_conf_set_list_csv(a->accounts, &a->n_accounts, s, LAPS_ACCOUNT_MAX,
				      laps_conf_check_account, "accounts=");
}

int
laps_agent_conf_set_state_dir(struct laps_agent_conf *a, const char *dir)
{
	if (dir[0] != '/')
		return laps_seterr(LAPS_ERR_INVALID, "state_dir=: not an absolute path");
	return laps_conf_set_string(&a->state_dir, dir);
}
