/*
 * conf.c — laps.conf: one table-driven INI parser shared by laps-agent,
 * laps-get and pam_laps.
 *
 * The file is parsed in two passes so that a failing parse leaves the
 * caller's struct untouched: every "key = value" line is converted into a
 * pending slot (one per table entry, which also detects duplicates), and
 * only when the whole file is good are the pending values moved into the
 * struct.  Every error names FILE:LINE, the section and the key.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/fileio.h"

#define LINE_MAX_LEN 1024 /* longest accepted line, without the newline */
#define VALUE_SHOW 64	  /* at most this much of a bad value is echoed back */
#define SEPARATOR_MAX 4

/* Enums are stored through an int pointer; make sure that is their size. */
_Static_assert(sizeof(enum laps_method) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_hash) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_pwmode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_ldap_tls) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_ldap_bind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_ldap_schema) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_rest_auth) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_postauth_action) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_yesno) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_cert_name) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_account_state) == sizeof(int), "enum size");

enum cfg_type {
	CT_STRING,	 /* non-empty text */
	CT_PATH,	 /* absolute path */
	CT_NAME,	 /* identifier [a-z0-9_-] (backend names) */
	CT_DEVICE,	 /* DNS-style host name, stored lower-case */
	CT_SEPARATOR,	 /* 0..SEPARATOR_MAX printable non-blank ASCII, may be empty */
	CT_FILTER,	 /* LDAP filter template: %h %f %% */
	CT_URL,		 /* https:// (http:// only to a loopback address) */
	CT_ENUM,	 /* one of names[] */
	CT_UINT,	 /* unsigned in [min,max] */
	CT_DURATION,	 /* duration in [min,max] seconds */
	CT_LIST_ACCOUNT, /* user names */
	CT_LIST_PATH,	 /* absolute paths */
	CT_LIST_LDAPURI, /* ldap:// ldaps:// ldapi:// URIs */
	CT_LIST_WORD,	 /* printable non-blank ASCII words */
	CT_LIST_GROUP,	 /* group names (same rules as user names) */
};

struct cfg_key {
	const char *section;
	const char *key;
	enum cfg_type type;
	size_t off;		  /* the field in struct laps_config */
	size_t count_off;	  /* lists: the size_t element count */
	long long min, max;	  /* CT_UINT, CT_DURATION */
	const char *const *names; /* CT_ENUM: NULL-terminated, index = value */
};

static const char *const sections[] = {
    "agent", "password", "escrow", "file", "ldap", "rest", "post-auth", "laps-get", "graph",
    "server", "store", "oidc", "authz", "limits", NULL,
};

static const char *const method_names[] = {"shadow", "pam", NULL};
static const char *const hash_names[] = {"yescrypt", "sha512", NULL};
static const char *const pwmode_names[] = {"password", "passphrase", NULL};
static const char *const tls_names[] = {"starttls", "ldaps", "none", NULL};
static const char *const bind_names[] = {"simple", "external", "gssapi", NULL};
static const char *const schema_names[] = {"laps", "mslaps", "legacy", NULL};
static const char *const auth_names[] = {"client_credentials", "private_key_jwt", "mtls",
					 "bearer", "device_code", NULL};
static const char *const action_names[] = {"reset", "reset-logoff", "reset-reboot", NULL};
static const char *const yesno_names[] = {"no", "yes", NULL};
static const char *const cert_name_names[] = {"cn", "san", NULL};
static const char *const account_state_names[] = {"keep", "enabled", "disabled", NULL};

#define MIN_S 60LL
#define HOUR_S 3600LL
#define DAY_S 86400LL

/* clang-format off */
#define F(field) offsetof(struct laps_config, field)
#define STR(sec, key, type, field) {sec, key, type, F(field), 0, 0, 0, NULL}
#define LIST(sec, key, type, field, count) {sec, key, type, F(field), F(count), 0, 0, NULL}
#define ENUM(sec, key, field, names) {sec, key, CT_ENUM, F(field), 0, 0, 0, names}
#define UINT(sec, key, field, lo, hi) {sec, key, CT_UINT, F(field), 0, lo, hi, NULL}
#define DUR(sec, key, field, lo, hi) {sec, key, CT_DURATION, F(field), 0, lo, hi, NULL}

static const struct cfg_key keys[] = {
    LIST("agent", "accounts", CT_LIST_ACCOUNT, accounts, n_accounts),
    ENUM("agent", "method", method, method_names),
    STR("agent", "root", CT_PATH, root),
    STR("agent", "state_dir", CT_PATH, state_dir),
    STR("agent", "metrics_file", CT_PATH, metrics_file),
    DUR("agent", "password_age", password_age, HOUR_S, 3650 * DAY_S),
    ENUM("agent", "hash", hash, hash_names),
    UINT("agent", "hash_cost", hash_cost, 0, 999999999),
    ENUM("agent", "create_account", create_account, yesno_names),
    UINT("agent", "account_uid", account_uid, 0, 4294967294LL),
    STR("agent", "account_home", CT_PATH, account_home),
    STR("agent", "account_shell", CT_PATH, account_shell),
    LIST("agent", "account_groups", CT_LIST_GROUP, account_groups, n_account_groups),
    ENUM("agent", "account_state", account_state, account_state_names),
    ENUM("agent", "allow_uid0", allow_uid0, yesno_names),

    ENUM("password", "mode", mode, pwmode_names),
    UINT("password", "length", length, 8, 128),
    UINT("password", "complexity", complexity, 1, 5),
    UINT("password", "words", words, 3, 10),
    STR("password", "separator", CT_SEPARATOR, separator),

    STR("escrow", "backend", CT_NAME, backend),
    LIST("escrow", "recipients", CT_LIST_PATH, recipients, n_recipients),
    UINT("escrow", "history", history, 0, 100),
    STR("escrow", "device", CT_DEVICE, device),

    STR("file", "dir", CT_PATH, file_dir),

    LIST("ldap", "uri", CT_LIST_LDAPURI, ldap_uri, n_ldap_uri),
    ENUM("ldap", "tls", ldap_tls, tls_names),
    STR("ldap", "ca_file", CT_PATH, ldap_ca_file),
    STR("ldap", "cert_file", CT_PATH, ldap_cert_file),
    STR("ldap", "key_file", CT_PATH, ldap_key_file),
    ENUM("ldap", "bind", ldap_bind, bind_names),
    STR("ldap", "bind_dn", CT_STRING, ldap_bind_dn),
    STR("ldap", "bind_secret_file", CT_PATH, ldap_bind_secret_file),
    STR("ldap", "base", CT_STRING, ldap_base),
    STR("ldap", "filter", CT_FILTER, ldap_filter),
    STR("ldap", "dn", CT_STRING, ldap_dn),
    ENUM("ldap", "schema", ldap_schema, schema_names),
    DUR("ldap", "timeout", ldap_timeout, 1, 300),

    STR("rest", "url", CT_URL, rest_url),
    ENUM("rest", "auth", rest_auth, auth_names),
    STR("rest", "token_url", CT_URL, rest_token_url),
    STR("rest", "device_auth_url", CT_URL, rest_device_auth_url),
    STR("rest", "resource", CT_STRING, rest_resource),
    STR("rest", "pin", CT_STRING, rest_pin),
    STR("rest", "client_id", CT_STRING, rest_client_id),
    STR("rest", "client_secret_file", CT_PATH, rest_client_secret_file),
    STR("rest", "key_file", CT_PATH, rest_key_file),
    STR("rest", "cert_file", CT_PATH, rest_cert_file),
    STR("rest", "key_engine", CT_NAME, rest_key_engine),
    STR("rest", "key_uri", CT_STRING, rest_key_uri),
    STR("rest", "ca_file", CT_PATH, rest_ca_file),
    STR("rest", "bearer_file", CT_PATH, rest_bearer_file),
    STR("rest", "scope", CT_STRING, rest_scope),
    DUR("rest", "timeout", rest_timeout, 1, 300),
    UINT("rest", "retries", rest_retries, 0, 10),
    DUR("rest", "budget", rest_budget, 1, HOUR_S),

    DUR("post-auth", "delay", postauth_delay, 0, 30 * DAY_S),
    ENUM("post-auth", "action", postauth_action, action_names),

    STR("laps-get", "key", CT_PATH, get_key),

    STR("graph", "url", CT_URL, graph_url),
    STR("graph", "token_url", CT_URL, graph_token_url),
    STR("graph", "client_id", CT_STRING, graph_client_id),
    STR("graph", "client_secret_file", CT_PATH, graph_client_secret_file),
    STR("graph", "scope", CT_STRING, graph_scope),
    STR("graph", "ca_file", CT_PATH, graph_ca_file),
    DUR("graph", "timeout", graph_timeout, 1, 300),

    STR("server", "listen", CT_STRING, srv_listen),
    STR("server", "cert_file", CT_PATH, srv_cert_file),
    STR("server", "key_file", CT_PATH, srv_key_file),
    STR("server", "client_ca", CT_PATH, srv_client_ca),
    UINT("server", "threads", srv_threads, 1, 256),
    UINT("server", "max_connections", srv_max_connections, 1, 100000),
    UINT("server", "max_per_ip", srv_max_per_ip, 1, 100000),
    DUR("server", "timeout", srv_timeout, 1, HOUR_S),
    ENUM("server", "metrics", srv_metrics, yesno_names),

    STR("store", "url", CT_STRING, store_url),
    UINT("store", "history_size", store_history, 0, 100),

    STR("oidc", "issuer", CT_URL, oidc_issuer),
    STR("oidc", "audience", CT_STRING, oidc_audience),
    STR("oidc", "ca_file", CT_PATH, oidc_ca_file),
    STR("oidc", "jwks_file", CT_PATH, oidc_jwks_file),
    DUR("oidc", "timeout", oidc_timeout, 1, 60),
    DUR("oidc", "leeway", oidc_leeway, 0, 300),

    STR("authz", "device_claim", CT_STRING, authz_device_claim),
    STR("authz", "device_prefix", CT_STRING, authz_device_prefix),
    ENUM("authz", "cert_name", authz_cert_name, cert_name_names),
    STR("authz", "rights_claim", CT_STRING, authz_rights_claim),
    STR("authz", "device_value", CT_STRING, authz_device_value),
    STR("authz", "read_value", CT_STRING, authz_read_value),
    STR("authz", "secret_value", CT_STRING, authz_secret_value),
    STR("authz", "expire_value", CT_STRING, authz_expire_value),
    STR("authz", "audit_value", CT_STRING, authz_audit_value),
    LIST("authz", "units", CT_LIST_WORD, authz_units, n_authz_units),
    LIST("authz", "cert_admins", CT_LIST_WORD, authz_cert_admins, n_authz_cert_admins),

    UINT("limits", "rate", limit_rate, 1, 100000),
    UINT("limits", "burst", limit_burst, 1, 1000000),
};
/* clang-format on */

#define N_KEYS (sizeof keys / sizeof keys[0])

/* A value parsed from the file, not yet stored. */
struct pending {
	unsigned line; /* 0: not set by this file */
	char *str;
	char *list[LAPS_CONFIG_MAX_LIST];
	size_t n;
	long long num;
};

/* Parser state for one buffer. */
struct parser {
	const char *name; /* file name for messages */
	unsigned line;
	const char *section;  /* current section (points into sections[]), or NULL */
	struct pending *pend; /* N_KEYS slots */
};

static bool
is_list(enum cfg_type t)
{
	return t == CT_LIST_ACCOUNT || t == CT_LIST_PATH || t == CT_LIST_LDAPURI ||
	       t == CT_LIST_WORD || t == CT_LIST_GROUP;
}

static bool
is_string(enum cfg_type t)
{
	return t == CT_STRING || t == CT_PATH || t == CT_NAME || t == CT_DEVICE ||
	       t == CT_SEPARATOR || t == CT_FILTER || t == CT_URL;
}

static char **
field_str(struct laps_config *cfg, const struct cfg_key *k)
{
	return (char **)(void *)((char *)cfg + k->off);
}

static size_t *
field_count(struct laps_config *cfg, const struct cfg_key *k)
{
	return (size_t *)(void *)((char *)cfg + k->count_off);
}

static void
pending_clear(struct pending *p)
{
	size_t i;

	free(p->str);
	for (i = 0; i < p->n; i++)
		free(p->list[i]);
	memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------------ */
/* Durations and numbers                                               */

/* Digits only, no sign, no overflow.  0 or LAPS_ERR_INVALID. */
static int
parse_digits(const char *s, size_t n, long long *out)
{
	long long v = 0;
	size_t i;

	if (n == 0)
		return LAPS_ERR_INVALID;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return LAPS_ERR_INVALID;
		if (v > (LLONG_MAX - (s[i] - '0')) / 10)
			return LAPS_ERR_INVALID;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
laps_config_parse_duration(const char *s, int64_t *out)
{
	long long v, mult = 1;
	size_t n;

	if (s == NULL || out == NULL)
		return LAPS_ERR_INVALID;
	n = strlen(s);
	if (n == 0)
		return LAPS_ERR_INVALID;
	switch (s[n - 1]) {
	case 's':
		mult = 1;
		n--;
		break;
	case 'm':
		mult = MIN_S;
		n--;
		break;
	case 'h':
		mult = HOUR_S;
		n--;
		break;
	case 'd':
		mult = DAY_S;
		n--;
		break;
	case 'w':
		mult = 7 * DAY_S;
		n--;
		break;
	default:
		break;
	}
	if (parse_digits(s, n, &v) != 0)
		return LAPS_ERR_INVALID;
	if (v > INT64_MAX / mult)
		return LAPS_ERR_INVALID;
	*out = (int64_t)(v * mult);
	return 0;
}

/* "30d", "1h", "90s": the largest unit that divides v exactly. */
static void
format_duration(long long v, char *buf, size_t len)
{
	if (v != 0 && v % DAY_S == 0)
		snprintf(buf, len, "%lldd", v / DAY_S);
	else if (v != 0 && v % HOUR_S == 0)
		snprintf(buf, len, "%lldh", v / HOUR_S);
	else if (v != 0 && v % MIN_S == 0)
		snprintf(buf, len, "%lldm", v / MIN_S);
	else
		snprintf(buf, len, "%llds", v);
}

/* ------------------------------------------------------------------ */
/* Value checks.  Each returns NULL when v is fine, else what is wrong. */

static const char *
check_path(const char *v)
{
	if (v[0] != '/')
		return "must be an absolute path";
	if (strlen(v) >= PATH_MAX)
		return "path too long";
	return NULL;
}

static const char *
check_name(const char *v)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++) {
		char c = v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return "must consist of a-z, 0-9, '_' and '-'";
	}
	if (i > 64)
		return "too long (at most 64 characters)";
	return NULL;
}

static const char *
check_device(const char *v)
{
	size_t i, label = 0;

	for (i = 0; v[i] != '\0'; i++) {
		char c = v[i];
		if (c == '.') {
			if (label == 0)
				return "not a valid host name (empty label)";
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return "not a valid host name (allowed: letters, digits, '-', '_', '.')";
		if (c == '-' && label == 0)
			return "not a valid host name (label starts with '-')";
		if (++label > 63)
			return "not a valid host name (label longer than 63)";
	}
	if (label == 0)
		return "not a valid host name (empty label)";
	if (i > LAPS_DEVICE_MAX)
		return "host name longer than 253 characters";
	return NULL;
}

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

static const char *
check_filter(const char *v)
{
	size_t i;
	int depth = 0;

	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] == '(')
			depth++;
		else if (v[i] == ')' && --depth < 0)
			return "unbalanced parentheses";
		if (v[i] != '%')
			continue;
		i++;
		if (v[i] != 'h' && v[i] != 'f' && v[i] != '%')
			return "unknown escape (allowed: %h short host name, %f FQDN, %%)";
	}
	if (depth != 0)
		return "unbalanced parentheses";
	return NULL;
}

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * https://host[:port][/path...]; http:// only to 127.0.0.1 or [::1] (a
 * test server or a local TLS-terminating proxy).  No credentials in the
 * URL, no blanks.
 */
static const char *
check_url(const char *v)
{
	const char *host;
	size_t hlen, i;

	if (has_prefix(v, "https://")) {
		host = v + 8;
	} else if (has_prefix(v, "http://")) {
		host = v + 7;
		if (!(has_prefix(host, "127.0.0.1") && strchr(":/", host[9]) != NULL) &&
		    !(has_prefix(host, "[::1]") && strchr(":/", host[5]) != NULL))
			return "must be an https:// URL (http:// only to 127.0.0.1 or [::1])";
	} else {
		return "must be an https:// URL";
	}
	hlen = strcspn(host, "/?#");
	if (hlen == 0 || host[0] == ':')
		return "URL without a host";
	if (memchr(host, '@', hlen) != NULL)
		return "URL must not contain credentials";
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] <= 0x20 || v[i] == 0x7f)
			return "URL must not contain blanks";
	return NULL;
}

static const char *
check_ldapuri(const char *v)
{
	const char *rest;

	if (has_prefix(v, "ldap://"))
		rest = v + 7;
	else if (has_prefix(v, "ldaps://"))
		rest = v + 8;
	else if (has_prefix(v, "ldapi://"))
		return NULL;
	else
		return "must be an ldap://, ldaps:// or ldapi:// URI";
	if (rest[0] == '\0' || rest[0] == '/' || rest[0] == ':')
		return "URI without a host";
	if (memchr(rest, '@', strcspn(rest, "/")) != NULL)
		return "URI must not contain credentials";
	return NULL;
}

/* Like useradd: [a-z_][a-z0-9_-]*[$]?, at most LAPS_ACCOUNT_MAX. */
static const char *
check_account(const char *v)
{
	size_t i;

	if (!((v[0] >= 'a' && v[0] <= 'z') || v[0] == '_'))
		return "not a valid user name (must start with a-z or '_')";
	for (i = 1; v[i] != '\0'; i++) {
		char c = v[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
			continue;
		if (c == '$' && v[i + 1] == '\0')
			continue;
		return "not a valid user name (allowed: a-z 0-9 '_' '-', optional final '$')";
	}
	if (i > LAPS_ACCOUNT_MAX)
		return "user name longer than 32 characters";
	return NULL;
}

/* A word of a CT_LIST_WORD list: printable ASCII (no blanks by construction). */
static const char *
check_word(const char *v)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e)
			return "contains a character outside printable ASCII";
	if (i > 255)
		return "longer than 255 characters";
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

static int
perr_key(const struct parser *ps, const struct cfg_key *k, const char *what, const char *value)
{
	if (value != NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: [%s] %s: '%.*s'%s %s", ps->name,
				   ps->line, k->section, k->key, VALUE_SHOW, value,
				   strlen(value) > VALUE_SHOW ? "..." : "", what);
	return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: [%s] %s: %s", ps->name, ps->line, k->section,
			   k->key, what);
}

static int
parse_enum(const struct parser *ps, const struct cfg_key *k, const char *v, struct pending *p)
{
	char allowed[256];
	size_t i, off = 0;

	for (i = 0; k->names[i] != NULL; i++) {
		if (strcmp(v, k->names[i]) == 0) {
			p->num = (long long)i;
			return 0;
		}
	}
	allowed[0] = '\0';
	for (i = 0; k->names[i] != NULL; i++) {
		int n = snprintf(allowed + off, sizeof allowed - off, "%s%s", i ? ", " : "",
				 k->names[i]);
		if (n < 0 || (size_t)n >= sizeof allowed - off)
			break;
		off += (size_t)n;
	}
	return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: [%s] %s: '%.*s'%s is not allowed (allowed: %s)",
			   ps->name, ps->line, k->section, k->key, VALUE_SHOW, v,
			   strlen(v) > VALUE_SHOW ? "..." : "", allowed);
}

static int
parse_number(const struct parser *ps, const struct cfg_key *k, const char *v, struct pending *p)
{
	char lo[32], hi[32], got[32];
	long long n;
	int64_t d;

	if (k->type == CT_DURATION) {
		format_duration(k->min, lo, sizeof lo);
		format_duration(k->max, hi, sizeof hi);
		if (laps_config_parse_duration(v, &d) != 0)
			return laps_seterr(LAPS_ERR_CONFIG,
					   "%s:%u: [%s] %s: '%.*s'%s is not a duration "
					   "(N, Ns, Nm, Nh, Nd or Nw; range %s..%s)",
					   ps->name, ps->line, k->section, k->key, VALUE_SHOW, v,
					   strlen(v) > VALUE_SHOW ? "..." : "", lo, hi);
		n = d;
		format_duration(n, got, sizeof got);
	} else {
		snprintf(lo, sizeof lo, "%lld", k->min);
		snprintf(hi, sizeof hi, "%lld", k->max);
		if (parse_digits(v, strlen(v), &n) != 0)
			return laps_seterr(
			    LAPS_ERR_CONFIG,
			    "%s:%u: [%s] %s: '%.*s'%s is not a number (range %s..%s)", ps->name,
			    ps->line, k->section, k->key, VALUE_SHOW, v,
			    strlen(v) > VALUE_SHOW ? "..." : "", lo, hi);
		snprintf(got, sizeof got, "%lld", n);
	}
	if (n < k->min || n > k->max)
		return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: [%s] %s: %s is out of range %s..%s",
				   ps->name, ps->line, k->section, k->key, got, lo, hi);
	p->num = n;
	return 0;
}

static int
parse_list(const struct parser *ps, const struct cfg_key *k, const char *v, struct pending *p)
{
	const char *(*check)(const char *);
	const char *why;
	char *item;
	size_t len, i;

	check = k->type == CT_LIST_ACCOUNT || k->type == CT_LIST_GROUP ? check_account
		: k->type == CT_LIST_PATH				    ? check_path
		: k->type == CT_LIST_WORD				    ? check_word
									    : check_ldapuri;
	for (;;) {
		v += strspn(v, " \t");
		if (*v == '\0')
			break;
		len = strcspn(v, " \t");
		if (p->n == LAPS_CONFIG_MAX_LIST)
			return perr_key(ps, k, "too many values (at most 16)", NULL);
		item = strndup(v, len);
		if (item == NULL)
			return LAPS_ERR_NOMEM;
		p->list[p->n++] = item; /* owned by p from here */
		if ((why = check(item)) != NULL)
			return perr_key(ps, k, why, item);
		for (i = 0; i + 1 < p->n; i++)
			if (strcmp(p->list[i], item) == 0)
				return perr_key(ps, k, "is listed twice", item);
		v += len;
	}
	return 0;
}

static int
parse_string(const struct parser *ps, const struct cfg_key *k, const char *v, struct pending *p)
{
	const char *why = NULL;
	char *s;

	switch (k->type) {
	case CT_PATH:
		why = check_path(v);
		break;
	case CT_NAME:
		why = check_name(v);
		break;
	case CT_DEVICE:
		why = check_device(v);
		break;
	case CT_SEPARATOR:
		why = check_separator(v);
		break;
	case CT_FILTER:
		why = check_filter(v);
		break;
	case CT_URL:
		why = check_url(v);
		break;
	default:
		break;
	}
	if (why != NULL)
		return perr_key(ps, k, why, v);
	if ((s = strdup(v)) == NULL)
		return LAPS_ERR_NOMEM;
	if (k->type == CT_DEVICE)
		laps_hostname_lower(s);
	p->str = s;
	return 0;
}

static const struct cfg_key *
find_key(const char *section, const char *key, size_t *idx)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, key) == 0) {
			*idx = i;
			return &keys[i];
		}
	}
	return NULL;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static int
parse_section(struct parser *ps, char *line)
{
	char *end = line + strlen(line) - 1; /* line is trimmed and starts with '[' */
	char *name;
	size_t i;

	if (*end != ']')
		return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: %.*s: section header without ']'",
				   ps->name, ps->line, VALUE_SHOW, line);
	*end = '\0';
	name = trim(line + 1);
	for (i = 0; sections[i] != NULL; i++) {
		if (strcmp(name, sections[i]) == 0) {
			ps->section = sections[i];
			return 0;
		}
	}
	return laps_seterr(LAPS_ERR_CONFIG,
			   "%s:%u: [%.*s]: unknown section (known: agent, password, escrow, file, "
			   "ldap, rest, post-auth, laps-get, graph)",
			   ps->name, ps->line, VALUE_SHOW, name);
}

static int
parse_line(struct parser *ps, char *raw)
{
	const struct cfg_key *k;
	struct pending *p;
	char *line, *eq, *key, *value;
	size_t idx;
	int rc;

	line = trim(raw);
	if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
		return 0;
	if (line[0] == '[')
		return parse_section(ps, line);

	if ((eq = strchr(line, '=')) == NULL) {
		if (ps->section == NULL)
			return laps_seterr(LAPS_ERR_CONFIG,
					   "%s:%u: %.*s: missing '=' (expected key = value)",
					   ps->name, ps->line, VALUE_SHOW, line);
		return laps_seterr(LAPS_ERR_CONFIG,
				   "%s:%u: [%s] %.*s: missing '=' (expected key = value)", ps->name,
				   ps->line, ps->section, VALUE_SHOW, line);
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (key[0] == '\0')
		return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: [%s] missing key before '='", ps->name,
				   ps->line, ps->section ? ps->section : "");
	if (ps->section == NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: %.*s: key before any [section]",
				   ps->name, ps->line, VALUE_SHOW, key);
	if ((k = find_key(ps->section, key, &idx)) == NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "%s:%u: [%s] %.*s: unknown key", ps->name,
				   ps->line, ps->section, VALUE_SHOW, key);
	p = &ps->pend[idx];
	if (p->line != 0)
		return laps_seterr(LAPS_ERR_CONFIG,
				   "%s:%u: [%s] %s: duplicate key (first set on line %u)", ps->name,
				   ps->line, k->section, k->key, p->line);
	if (value[0] == '\0' && k->type != CT_SEPARATOR)
		return perr_key(ps, k, "empty value", NULL);

	p->line = ps->line;
	if (is_list(k->type))
		rc = parse_list(ps, k, value, p);
	else if (k->type == CT_ENUM)
		rc = parse_enum(ps, k, value, p);
	else if (k->type == CT_UINT || k->type == CT_DURATION)
		rc = parse_number(ps, k, value, p);
	else
		rc = parse_string(ps, k, value, p);
	return rc;
}

/* Move one pending value into cfg.  Cannot fail. */
static void
apply(struct laps_config *cfg, const struct cfg_key *k, struct pending *p)
{
	char **sp;
	size_t *np, i;

	if (is_list(k->type)) {
		sp = field_str(cfg, k);
		np = field_count(cfg, k);
		for (i = 0; i < *np; i++) {
			free(sp[i]);
			sp[i] = NULL;
		}
		for (i = 0; i < p->n; i++) {
			sp[i] = p->list[i];
			p->list[i] = NULL;
		}
		*np = p->n;
		p->n = 0;
	} else if (is_string(k->type)) {
		sp = field_str(cfg, k);
		free(*sp);
		*sp = p->str;
		p->str = NULL;
	} else if (k->type == CT_ENUM) {
		*(int *)(void *)((char *)cfg + k->off) = (int)p->num;
	} else if (k->type == CT_UINT) {
		*(unsigned *)(void *)((char *)cfg + k->off) = (unsigned)p->num;
	} else {
		*(int64_t *)(void *)((char *)cfg + k->off) = (int64_t)p->num;
	}
}

int
laps_config_parse(struct laps_config *cfg, const char *name, const char *buf, size_t len)
{
	struct parser ps;
	struct pending *pend = NULL;
	char line[LINE_MAX_LEN + 1];
	char *path = NULL;
	const char *p, *end, *nl;
	size_t n, i;
	int rc = LAPS_ERR_INTERNAL;

	if (cfg == NULL || (buf == NULL && len != 0))
		return laps_seterr(LAPS_ERR_INVALID, "laps_config_parse: no config or buffer");
	if (name == NULL)
		name = "(config)";
	if (len > LAPS_CONFIG_MAX_SIZE)
		return laps_seterr(LAPS_ERR_CONFIG, "%s: file is larger than %u bytes", name,
				   (unsigned)LAPS_CONFIG_MAX_SIZE);

	if ((pend = calloc(N_KEYS, sizeof *pend)) == NULL || (path = strdup(name)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	memset(&ps, 0, sizeof ps);
	ps.name = name;
	ps.pend = pend;

	p = buf;
	end = buf + len;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a UTF-8 byte order mark written by some editors */
	while (p < end) {
		ps.line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > LINE_MAX_LEN) {
			rc = laps_seterr(LAPS_ERR_CONFIG, "%s:%u: line longer than %u characters",
					 name, ps.line, (unsigned)LINE_MAX_LEN);
			goto out;
		}
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c == '\0') {
				rc = laps_seterr(LAPS_ERR_CONFIG, "%s:%u: NUL byte in line", name,
						 ps.line);
				goto out;
			}
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				rc = laps_seterr(LAPS_ERR_CONFIG,
						 "%s:%u: control character 0x%02x in line", name,
						 ps.line, c);
				goto out;
			}
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if ((rc = parse_line(&ps, line)) != 0)
			goto out;
		p = nl != NULL ? nl + 1 : end;
	}

	/* The whole file is good: store it. */
	for (i = 0; i < N_KEYS; i++)
		if (pend[i].line != 0)
			apply(cfg, &keys[i], &pend[i]);
	free(cfg->path);
	cfg->path = path;
	path = NULL;
	rc = 0; /* success */
out:
	if (pend != NULL) {
		for (i = 0; i < N_KEYS; i++)
			pending_clear(&pend[i]);
		free(pend);
	}
	free(path);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */

/*
 * Read path refusing anything but a regular root-owned file that is not
 * group/world-writable, whoever we run as (LAPS_CONFIG_CHECK_OWNER).  The
 * checks are made on the opened descriptor, so nothing can be swapped in
 * between.
 */
static int
read_root_owned(const char *path, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd, rc = LAPS_ERR_INTERNAL;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return laps_seterr(LAPS_ERR_NOTFOUND, "%s: no such file", path);
		if (errno == ELOOP)
			return laps_seterr(LAPS_ERR_PERM, "%s: is a symbolic link", path);
		if (errno == EACCES)
			return laps_seterr(LAPS_ERR_PERM, "%s: %s", path, strerror(errno));
		return laps_seterr(LAPS_ERR_IO, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rc = laps_seterr(LAPS_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = laps_seterr(LAPS_ERR_PERM, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != 0) {
		rc = laps_seterr(LAPS_ERR_PERM, "%s: not owned by root (uid %u)", path,
				 (unsigned)st.st_uid);
		goto out;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		rc = laps_seterr(LAPS_ERR_PERM, "%s: group or world writable (mode %04o)", path,
				 (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((buf = malloc(LAPS_CONFIG_MAX_SIZE + 2)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	/* Read one byte past the cap to notice a file that grew. */
	while (len < LAPS_CONFIG_MAX_SIZE + 1) {
		r = read(fd, buf + len, LAPS_CONFIG_MAX_SIZE + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = laps_seterr(LAPS_ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > LAPS_CONFIG_MAX_SIZE) {
		rc = laps_seterr(LAPS_ERR_TOOBIG, "%s: larger than %u bytes", path,
				 (unsigned)LAPS_CONFIG_MAX_SIZE);
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = 0; /* success */
out:
	free(buf);
	close(fd);
	return rc;
}

int
laps_config_load(struct laps_config *cfg, const char *path, unsigned flags)
{
	char *buf = NULL;
	size_t len = 0;
	unsigned fflags = 0;
	bool own_reader;
	int rc;

	if (cfg == NULL || path == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "laps_config_load: no config or path");
	/* fileio applies the root-owner check only when euid is 0; with
	 * CHECK_OWNER it must apply whoever we are, so read it ourselves. */
	own_reader = (flags & LAPS_CONFIG_CHECK_OWNER) && !(flags & LAPS_CONFIG_NO_OWNER);
	if (own_reader) {
		rc = read_root_owned(path, &buf, &len);
	} else {
		if (!(flags & LAPS_CONFIG_NO_OWNER))
			fflags = LAPS_FILE_OWNER_ROOT;
		rc = laps_file_read(path, LAPS_CONFIG_MAX_SIZE, fflags, &buf, &len);
	}
	if (rc == LAPS_ERR_TOOBIG)
		return laps_seterr(LAPS_ERR_CONFIG, "%s: file is larger than %u bytes", path,
				   (unsigned)LAPS_CONFIG_MAX_SIZE);
	if (rc != 0)
		return rc;
	rc = laps_config_parse(cfg, path, buf, len);
	if (own_reader)
		free(buf);
	else
		laps_file_free(buf, len, fflags);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Defaults, free, names                                               */

void
laps_config_free(struct laps_config *cfg)
{
	size_t i, j;
	char **sp;
	size_t *np;

	if (cfg == NULL)
		return;
	for (i = 0; i < N_KEYS; i++) {
		sp = field_str(cfg, &keys[i]);
		if (is_list(keys[i].type)) {
			np = field_count(cfg, &keys[i]);
			for (j = 0; j < LAPS_CONFIG_MAX_LIST; j++)
				free(sp[j]);
			*np = 0;
		} else if (is_string(keys[i].type)) {
			free(*sp);
		}
	}
	free(cfg->path);
	memset(cfg, 0, sizeof *cfg);
}

int
laps_config_init(struct laps_config *cfg)
{
	if (cfg == NULL)
		return LAPS_ERR_INVALID;
	memset(cfg, 0, sizeof *cfg);

	cfg->method = LAPS_METHOD_SHADOW;
	cfg->password_age = 30 * DAY_S;
	cfg->hash = LAPS_HASH_YESCRYPT;
	cfg->hash_cost = 0;
	cfg->create_account = LAPS_NO;
	cfg->account_uid = LAPS_UID_UNSET;
	cfg->account_state = LAPS_ACCOUNT_KEEP;
	cfg->allow_uid0 = LAPS_NO;
	cfg->mode = LAPS_PWMODE_PASSWORD;
	cfg->length = 20;
	cfg->complexity = 4;
	cfg->words = 6;
	cfg->history = 10;
	cfg->ldap_tls = LAPS_TLS_STARTTLS;
	cfg->ldap_bind = LAPS_BIND_SIMPLE;
	cfg->ldap_schema = LAPS_SCHEMA_LAPS;
	cfg->ldap_timeout = 10;
	cfg->rest_auth = LAPS_REST_AUTH_CLIENT_SECRET;
	cfg->rest_timeout = 10;
	cfg->rest_retries = 3;
	cfg->rest_budget = 120;
	cfg->postauth_delay = 0;
	cfg->postauth_action = LAPS_POSTAUTH_RESET;
	cfg->graph_timeout = 10;
	cfg->srv_threads = 4;
	cfg->srv_max_connections = 512;
	cfg->srv_max_per_ip = 64;
	cfg->srv_timeout = 30;
	cfg->srv_metrics = LAPS_YES;
	cfg->store_history = 10;
	cfg->oidc_timeout = 5;
	cfg->oidc_leeway = 60;
	cfg->authz_cert_name = LAPS_CERT_NAME_CN;
	cfg->limit_rate = 20;
	cfg->limit_burst = 100;

	if ((cfg->accounts[0] = strdup("lapsadmin")) == NULL)
		goto nomem;
	cfg->n_accounts = 1;
	if ((cfg->state_dir = strdup(LAPS_STATE_DIR_DEFAULT)) == NULL ||
	    (cfg->separator = strdup("-")) == NULL || (cfg->backend = strdup("file")) == NULL ||
	    (cfg->file_dir = strdup(LAPS_STATE_DIR_DEFAULT "/escrow")) == NULL ||
	    (cfg->graph_url = strdup("https://graph.microsoft.com/v1.0")) == NULL ||
	    (cfg->graph_scope = strdup("https://graph.microsoft.com/.default")) == NULL)
		goto nomem;
	if ((cfg->srv_listen = strdup("127.0.0.1:8443")) == NULL ||
	    (cfg->store_url = strdup("sqlite:" LOCALSTATEDIR "/lib/laps-escrowd/escrow.db")) == NULL ||
	    (cfg->authz_device_claim = strdup("client_id")) == NULL ||
	    (cfg->authz_rights_claim = strdup("scope")) == NULL ||
	    (cfg->authz_device_value = strdup("laps.device")) == NULL ||
	    (cfg->authz_read_value = strdup("laps.read")) == NULL ||
	    (cfg->authz_secret_value = strdup("laps.secret")) == NULL ||
	    (cfg->authz_expire_value = strdup("laps.expire")) == NULL ||
	    (cfg->authz_audit_value = strdup("laps.audit")) == NULL)
		goto nomem;
	return 0;
nomem:
	laps_config_free(cfg);
	return LAPS_ERR_NOMEM;
}

static const char *
enum_name(const char *const *names, size_t n, int v)
{
	if (v < 0 || (size_t)v >= n)
		return "unknown";
	return names[v];
}

#define NAMES_COUNT(a) (sizeof(a) / sizeof((a)[0]) - 1)

const char *
laps_method_name(enum laps_method m)
{
	return enum_name(method_names, NAMES_COUNT(method_names), (int)m);
}

const char *
laps_hash_name(enum laps_hash h)
{
	return enum_name(hash_names, NAMES_COUNT(hash_names), (int)h);
}

const char *
laps_ldap_schema_name(enum laps_ldap_schema s)
{
	return enum_name(schema_names, NAMES_COUNT(schema_names), (int)s);
}

const char *
laps_postauth_action_name(enum laps_postauth_action a)
{
	return enum_name(action_names, NAMES_COUNT(action_names), (int)a);
}

const char *
laps_pwmode_name(enum laps_pwmode m)
{
	return enum_name(pwmode_names, NAMES_COUNT(pwmode_names), (int)m);
}

const char *
laps_ldap_tls_name(enum laps_ldap_tls t)
{
	return enum_name(tls_names, NAMES_COUNT(tls_names), (int)t);
}

const char *
laps_ldap_bind_name(enum laps_ldap_bind b)
{
	return enum_name(bind_names, NAMES_COUNT(bind_names), (int)b);
}

const char *
laps_rest_auth_name(enum laps_rest_auth a)
{
	return enum_name(auth_names, NAMES_COUNT(auth_names), (int)a);
}

const char *
laps_cert_name_name(enum laps_cert_name c)
{
	return enum_name(cert_name_names, NAMES_COUNT(cert_name_names), (int)c);
}

const char *
laps_account_state_name(enum laps_account_state s)
{
	return enum_name(account_state_names, NAMES_COUNT(account_state_names), (int)s);
}

/* ------------------------------------------------------------------ */
/* Cross-field validation                                              */

#define VNAME(cfg) ((cfg)->path != NULL ? (cfg)->path : "(defaults)")

static int
verr(const struct laps_config *cfg, const char *section, const char *key, const char *what)
{
	return laps_seterr(LAPS_ERR_CONFIG, "%s: [%s] %s: %s", VNAME(cfg), section, key, what);
}

static int
validate_ldap(const struct laps_config *cfg, enum laps_config_use use)
{
	size_t i;

	if (cfg->n_ldap_uri == 0)
		return verr(cfg, "ldap", "uri", "required when backend = ldap");
	for (i = 0; i < cfg->n_ldap_uri; i++) {
		const char *u = cfg->ldap_uri[i];
		if (cfg->ldap_tls == LAPS_TLS_LDAPS && !has_prefix(u, "ldaps://"))
			return verr(cfg, "ldap", "uri",
				    "every URI must be ldaps:// when tls = ldaps");
		if (cfg->ldap_tls != LAPS_TLS_LDAPS && has_prefix(u, "ldaps://"))
			return verr(cfg, "ldap", "tls",
				    "must be ldaps when a URI is ldaps:// (starttls and none "
				    "need ldap://)");
	}
	if (use == LAPS_USE_AGENT) {
		if (cfg->ldap_dn == NULL && (cfg->ldap_base == NULL || cfg->ldap_filter == NULL))
			return verr(cfg, "ldap", "dn",
				    "the device entry needs dn, or base and filter");
	} else if (cfg->ldap_base == NULL && cfg->ldap_dn == NULL) {
		return verr(cfg, "ldap", "base", "required to look devices up");
	}
	if (cfg->ldap_bind == LAPS_BIND_SIMPLE) {
		if (cfg->ldap_bind_dn == NULL)
			return verr(cfg, "ldap", "bind_dn", "required when bind = simple");
		if (cfg->ldap_bind_secret_file == NULL)
			return verr(cfg, "ldap", "bind_secret_file", "required when bind = simple");
	}
	if ((cfg->ldap_cert_file == NULL) != (cfg->ldap_key_file == NULL))
		return verr(cfg, "ldap", cfg->ldap_cert_file == NULL ? "cert_file" : "key_file",
			    "cert_file and key_file must be set together");
	return 0;
}

/* The mTLS key held by an OpenSSL engine (a PKCS#11 token, a TPM): key_uri
 * names it, key_engine loads it; one without the other means nothing. */
static int
validate_rest_key(const struct laps_config *cfg)
{
	if (cfg->rest_key_uri == NULL && cfg->rest_key_engine == NULL)
		return 0;
	if (cfg->rest_key_uri == NULL)
		return verr(cfg, "rest", "key_engine", "needs key_uri (the key the engine loads)");
	if (cfg->rest_key_engine == NULL)
		return verr(cfg, "rest", "key_uri",
			    "needs key_engine (the OpenSSL engine that loads it, e.g. pkcs11)");
	if (cfg->rest_auth != LAPS_REST_AUTH_MTLS)
		return verr(cfg, "rest", "key_uri", "only used with auth = mtls");
	if (cfg->rest_key_file != NULL)
		return verr(cfg, "rest", "key_uri",
			    "key_file and key_uri are exclusive (a file or an engine key)");
	return 0;
}

static int
validate_rest(const struct laps_config *cfg, enum laps_config_use use)
{
	int rc;

	if ((rc = validate_rest_key(cfg)) != 0)
		return rc;
	if (cfg->rest_url == NULL)
		return verr(cfg, "rest", "url", "required when backend = rest");
	if (!has_prefix(cfg->rest_url, "https://"))
		return verr(cfg, "rest", "url", "must be an https:// URL (TLS is never optional)");
	if ((cfg->rest_token_url != NULL && !has_prefix(cfg->rest_token_url, "https://")) ||
	    (cfg->rest_device_auth_url != NULL &&
	     !has_prefix(cfg->rest_device_auth_url, "https://")))
		return verr(cfg, "rest", cfg->rest_device_auth_url != NULL &&
					 !has_prefix(cfg->rest_device_auth_url, "https://")
				     ? "device_auth_url" : "token_url",
			    "must be an https:// URL");
	if (cfg->rest_pin != NULL && !has_prefix(cfg->rest_pin, "sha256//"))
		return verr(cfg, "rest", "pin", "must be sha256//BASE64 (several joined by ';')");
	switch (cfg->rest_auth) {
	case LAPS_REST_AUTH_CLIENT_SECRET:
	case LAPS_REST_AUTH_PRIVATE_KEY_JWT:
		if (cfg->rest_token_url == NULL)
			return verr(cfg, "rest", "token_url", "required for OAuth2 auth");
		if (cfg->rest_client_id == NULL)
			return verr(cfg, "rest", "client_id", "required for OAuth2 auth");
		if (cfg->rest_auth == LAPS_REST_AUTH_CLIENT_SECRET &&
		    cfg->rest_client_secret_file == NULL)
			return verr(cfg, "rest", "client_secret_file",
				    "required when auth = client_credentials");
		if (cfg->rest_auth == LAPS_REST_AUTH_PRIVATE_KEY_JWT && cfg->rest_key_file == NULL)
			return verr(cfg, "rest", "key_file",
				    "required when auth = private_key_jwt");
		break;
	case LAPS_REST_AUTH_MTLS:
		if (cfg->rest_cert_file == NULL)
			return verr(cfg, "rest", "cert_file", "required when auth = mtls");
		if (cfg->rest_key_file == NULL && cfg->rest_key_uri == NULL)
			return verr(cfg, "rest", "key_file",
				    "required when auth = mtls (or key_uri with key_engine)");
		break;
	case LAPS_REST_AUTH_BEARER:
		if (cfg->rest_bearer_file == NULL)
			return verr(cfg, "rest", "bearer_file", "required when auth = bearer");
		break;
	case LAPS_REST_AUTH_DEVICE_CODE:
		if (use == LAPS_USE_AGENT)
			return verr(cfg, "rest", "auth",
				    "device_code is an administrator's sign-in (laps-get only)");
		if (cfg->rest_token_url == NULL || cfg->rest_device_auth_url == NULL ||
		    cfg->rest_client_id == NULL)
			return verr(cfg, "rest", cfg->rest_token_url == NULL ? "token_url"
						 : cfg->rest_device_auth_url == NULL ? "device_auth_url"
										     : "client_id",
				    "required when auth = device_code");
		break;
	default:
		return verr(cfg, "rest", "auth", "unknown value");
	}
	return 0;
}

static int
validate_graph(const struct laps_config *cfg)
{
	if (cfg->graph_url == NULL)
		return verr(cfg, "graph", "url", "required for --source graph");
	if (cfg->graph_token_url == NULL)
		return verr(cfg, "graph", "token_url", "required for --source graph");
	if (cfg->graph_client_id == NULL)
		return verr(cfg, "graph", "client_id", "required for --source graph");
	if (cfg->graph_client_secret_file == NULL)
		return verr(cfg, "graph", "client_secret_file", "required for --source graph");
	return 0;
}

static int
validate_backend(const struct laps_config *cfg, enum laps_config_use use)
{
	if (cfg->backend == NULL)
		return verr(cfg, "escrow", "backend", "not set");
	if (strcmp(cfg->backend, "file") == 0) {
		if (cfg->file_dir == NULL)
			return verr(cfg, "file", "dir", "required when backend = file");
		return 0;
	}
	if (strcmp(cfg->backend, "ldap") == 0)
		return validate_ldap(cfg, use);
	if (strcmp(cfg->backend, "rest") == 0)
		return validate_rest(cfg, use);
	if (strcmp(cfg->backend, "graph") == 0) {
		if (use == LAPS_USE_AGENT)
			return verr(cfg, "escrow", "backend",
				    "graph is read-only (laps-get only); the agent needs file, "
				    "ldap or rest");
		return validate_graph(cfg);
	}
	return laps_seterr(LAPS_ERR_CONFIG,
			   "%s: [escrow] backend: unknown backend '%s' "
			   "(known: file, ldap, rest, graph)",
			   VNAME(cfg), cfg->backend);
}

static int
validate_hash_cost(const struct laps_config *cfg)
{
	unsigned lo, hi;

	if (cfg->hash_cost == 0)
		return 0; /* library default */
	if (cfg->hash == LAPS_HASH_YESCRYPT) {
		lo = 1;
		hi = 11;
	} else {
		lo = 1000;
		hi = 999999999;
	}
	if (cfg->hash_cost < lo || cfg->hash_cost > hi)
		return laps_seterr(LAPS_ERR_CONFIG,
				   "%s: [agent] hash_cost: %u is out of range %u..%u for hash = %s",
				   VNAME(cfg), cfg->hash_cost, lo, hi, laps_hash_name(cfg->hash));
	return 0;
}

/* [authz] units: NAME:PATTERN, NAME of [a-z0-9_-] (the part after '@' in a right). */
static int
validate_units(const struct laps_config *cfg)
{
	const char *u, *colon;
	size_t i, j;

	for (i = 0; i < cfg->n_authz_units; i++) {
		u = cfg->authz_units[i];
		colon = strchr(u, ':');
		if (colon == NULL || colon == u || colon[1] == '\0')
			return verr(cfg, "authz", "units", "each item must be NAME:PATTERN");
		for (j = 0; u + j < colon; j++)
			if (!((u[j] >= 'a' && u[j] <= 'z') || (u[j] >= '0' && u[j] <= '9') ||
			      u[j] == '_' || u[j] == '-'))
				return verr(cfg, "authz", "units",
					    "a unit name is made of a-z 0-9 '_' '-'");
	}
	for (i = 0; i < cfg->n_authz_cert_admins; i++) {
		u = cfg->authz_cert_admins[i];
		colon = strchr(u, '=');
		if (colon == NULL || colon == u || colon[1] == '\0')
			return verr(cfg, "authz", "cert_admins",
				    "each item must be CERTNAME=VALUE[,VALUE...]");
	}
	return 0;
}

static int
validate_server(const struct laps_config *cfg)
{
	if (cfg->srv_listen == NULL)
		return verr(cfg, "server", "listen", "required (ADDRESS:PORT)");
	if (cfg->srv_cert_file == NULL)
		return verr(cfg, "server", "cert_file", "required (laps-escrowd is HTTPS only)");
	if (cfg->srv_key_file == NULL)
		return verr(cfg, "server", "key_file", "required (laps-escrowd is HTTPS only)");
	if (cfg->store_url == NULL ||
	    (strncmp(cfg->store_url, "sqlite:/", 8) != 0 &&
	     strncmp(cfg->store_url, "postgresql:", 11) != 0))
		return verr(cfg, "store", "url", "must be sqlite:/PATH or postgresql:CONNINFO");
	if ((cfg->oidc_issuer == NULL) != (cfg->oidc_audience == NULL))
		return verr(cfg, "oidc", cfg->oidc_issuer == NULL ? "issuer" : "audience",
			    "issuer and audience go together");
	if (cfg->oidc_issuer == NULL && cfg->srv_client_ca == NULL)
		return verr(cfg, "server", "client_ca",
			    "no way to authenticate anyone: set [server] client_ca or [oidc] issuer");
	if (cfg->limit_burst < cfg->limit_rate)
		return verr(cfg, "limits", "burst", "must be at least [limits] rate");
	return validate_units(cfg);
}

bool
laps_config_cleartext_backend(const struct laps_config *cfg)
{
	return cfg->backend != NULL && strcmp(cfg->backend, "ldap") == 0 &&
	       cfg->ldap_schema != LAPS_SCHEMA_LAPS;
}

static int
validate_account_mgmt(const struct laps_config *cfg)
{
	if (cfg->account_uid != LAPS_UID_UNSET && cfg->n_accounts != 1)
		return verr(cfg, "agent", "account_uid",
			    "a fixed uid needs exactly one account in accounts");
	if (cfg->account_uid == 0 && cfg->allow_uid0 != LAPS_YES)
		return verr(cfg, "agent", "account_uid", "0 (root) needs allow_uid0 = yes");
	if (cfg->create_account != LAPS_YES &&
	    (cfg->account_uid != LAPS_UID_UNSET || cfg->account_home != NULL ||
	     cfg->account_shell != NULL || cfg->n_account_groups > 0))
		return verr(cfg, "agent", "create_account",
			    "account_uid, account_home, account_shell and account_groups "
			    "apply only with create_account = yes");
	return 0;
}

int
laps_config_validate(const struct laps_config *cfg, enum laps_config_use use)
{
	int rc;

	if (cfg == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "laps_config_validate: no config");
	switch (use) {
	case LAPS_USE_AGENT:
		if (cfg->n_accounts == 0)
			return verr(cfg, "agent", "accounts", "at least one account is required");
		if (cfg->state_dir == NULL)
			return verr(cfg, "agent", "state_dir", "not set");
		if ((rc = validate_hash_cost(cfg)) != 0 || (rc = validate_account_mgmt(cfg)) != 0)
			return rc;
		if (cfg->n_recipients == 0 && !laps_config_cleartext_backend(cfg))
			return verr(cfg, "escrow", "recipients",
				    "at least one recipient key file is required (optional only "
				    "with backend = ldap and schema = mslaps or legacy)");
		return validate_backend(cfg, use);
	case LAPS_USE_GET:
		return validate_backend(cfg, use);
	case LAPS_USE_GET_GRAPH:
		return validate_graph(cfg);
	case LAPS_USE_SERVER:
		return validate_server(cfg);
	case LAPS_USE_PAM:
		if (cfg->n_accounts == 0)
			return verr(cfg, "agent", "accounts", "at least one account is required");
		if (cfg->state_dir == NULL)
			return verr(cfg, "agent", "state_dir", "not set");
		return 0;
	default:
		return laps_seterr(LAPS_ERR_INVALID, "laps_config_validate: unknown use %d",
				   (int)use);
	}
}

/* ------------------------------------------------------------------ */
/* Overrides from pam_laps arguments (accounts=, state_dir=)           */

int
laps_config_set_accounts_csv(struct laps_config *cfg, const char *s)
{
	char *list[LAPS_CONFIG_MAX_LIST];
	size_t n = 0, i, len;
	const char *p = s, *comma, *why;
	int rc = LAPS_ERR_INTERNAL;

	memset(list, 0, sizeof(list));
	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len > LAPS_ACCOUNT_MAX) {
			rc = laps_seterr(
			    LAPS_ERR_INVALID,
			    "accounts=: empty or over-long name (at most %d characters)",
			    LAPS_ACCOUNT_MAX);
			goto out;
		}
		if (n == LAPS_CONFIG_MAX_LIST) {
			rc = laps_seterr(LAPS_ERR_INVALID, "accounts=: more than %d names",
					 LAPS_CONFIG_MAX_LIST);
			goto out;
		}
		if ((list[n] = strndup(p, len)) == NULL) {
			rc = LAPS_ERR_NOMEM;
			goto out;
		}
		if ((why = check_account(list[n])) != NULL) {
			rc = laps_seterr(LAPS_ERR_INVALID, "accounts=: '%.32s': %s", list[n], why);
			free(list[n]);
			list[n] = NULL;
			goto out;
		}
		n++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	for (i = 0; i < cfg->n_accounts; i++) {
		free(cfg->accounts[i]);
		cfg->accounts[i] = NULL;
	}
	for (i = 0; i < n; i++) {
		cfg->accounts[i] = list[i];
		list[i] = NULL; /* success: owned by cfg */
	}
	cfg->n_accounts = n;
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(list[i]);
	return rc;
}

int
laps_config_set_state_dir(struct laps_config *cfg, const char *dir)
{
	char *copy;

	if (dir[0] != '/')
		return laps_seterr(LAPS_ERR_INVALID, "state_dir=: not an absolute path");
	if ((copy = strdup(dir)) == NULL)
		return LAPS_ERR_NOMEM;
	free(cfg->state_dir);
	cfg->state_dir = copy;
	return 0;
}
