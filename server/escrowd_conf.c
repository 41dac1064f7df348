/*
 * escrowd_conf.c — laps-escrowd.conf's sections: keys, defaults, rules.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/conf.h"
#include "escrow/err.h"
#include "server/escrowd_conf.h"
#include "server/est_conf.h"
#include "server/notify.h"
#include "server/policy.h"

_Static_assert(sizeof(enum laps_cert_name) == sizeof(int), "enum size");

#define HOUR_S 3600LL

static const char *const cert_name_names[] = {"cn", "san", NULL};

/* clang-format off */
#define S struct laps_server_conf
static const struct laps_conf_key server_keys[] = {
    LAPS_CONF_KEY_STR("listen", LAPS_CONF_STRING, S, listen, NULL),
    LAPS_CONF_KEY_STR("cert_file", LAPS_CONF_PATH, S, cert_file, NULL),
    LAPS_CONF_KEY_STR("key_file", LAPS_CONF_PATH, S, key_file, NULL),
    LAPS_CONF_KEY_STR("client_ca", LAPS_CONF_PATH, S, client_ca, NULL),
    LAPS_CONF_KEY_UINT("threads", S, threads, 1, 256),
    LAPS_CONF_KEY_UINT("max_connections", S, max_connections, 1, 100000),
    LAPS_CONF_KEY_UINT("max_per_ip", S, max_per_ip, 1, 100000),
    LAPS_CONF_KEY_DURATION("timeout", S, timeout, 1, HOUR_S),
    LAPS_CONF_KEY_YESNO("metrics", S, metrics),
};
#undef S
#define S struct laps_store_conf
static const struct laps_conf_key store_keys[] = {
    LAPS_CONF_KEY_STR("url", LAPS_CONF_STRING, S, url, NULL),
    LAPS_CONF_KEY_UINT("history_size", S, history_size, 0, 100),
    LAPS_CONF_KEY_UINT("history_keep", S, history_keep, 0, 100),
    LAPS_CONF_KEY_DURATION("audit_retention", S, audit_retention, 0, 36500LL * 86400),
};
#undef S
#define S struct laps_oidc_conf
static const struct laps_conf_key oidc_keys[] = {
    LAPS_CONF_KEY_STR("issuer", LAPS_CONF_URL, S, issuer, NULL),
    LAPS_CONF_KEY_STR("audience", LAPS_CONF_STRING, S, audience, NULL),
    LAPS_CONF_KEY_STR("ca_file", LAPS_CONF_PATH, S, ca_file, NULL),
    LAPS_CONF_KEY_STR("jwks_file", LAPS_CONF_PATH, S, jwks_file, NULL),
    LAPS_CONF_KEY_DURATION("timeout", S, timeout, 1, 60),
    LAPS_CONF_KEY_DURATION("leeway", S, leeway, 0, 300),
};
#undef S
#define S struct laps_authz_conf
static const struct laps_conf_key authz_keys[] = {
    LAPS_CONF_KEY_STR("device_claim", LAPS_CONF_STRING, S, device_claim, NULL),
    LAPS_CONF_KEY_STR("device_prefix", LAPS_CONF_STRING, S, device_prefix, NULL),
    LAPS_CONF_KEY_ENUM("cert_name", S, cert_name, cert_name_names),
    LAPS_CONF_KEY_STR("rights_claim", LAPS_CONF_STRING, S, rights_claim, NULL),
    LAPS_CONF_KEY_STR("device_value", LAPS_CONF_STRING, S, device_value, NULL),
    LAPS_CONF_KEY_STR("read_value", LAPS_CONF_STRING, S, read_value, NULL),
    LAPS_CONF_KEY_STR("secret_value", LAPS_CONF_STRING, S, secret_value, NULL),
    LAPS_CONF_KEY_STR("expire_value", LAPS_CONF_STRING, S, expire_value, NULL),
    LAPS_CONF_KEY_STR("audit_value", LAPS_CONF_STRING, S, audit_value, NULL),
    LAPS_CONF_KEY_STR("enroll_value", LAPS_CONF_STRING, S, enroll_value, NULL),
    LAPS_CONF_KEY_STR("approve_value", LAPS_CONF_STRING, S, approve_value, NULL),
    LAPS_CONF_KEY_LIST("units", S, units, n_units, NULL),
    LAPS_CONF_KEY_LIST("cert_admins", S, cert_admins, n_cert_admins, NULL),
};
#undef S
#define S struct laps_limits_conf
static const struct laps_conf_key limits_keys[] = {
    LAPS_CONF_KEY_UINT("rate", S, rate, 1, 100000),
    LAPS_CONF_KEY_UINT("burst", S, burst, 1, 1000000),
};
#undef S
#define S struct laps_console_conf
static const struct laps_conf_key console_keys[] = {
    LAPS_CONF_KEY_YESNO("enable", S, enable),
    LAPS_CONF_KEY_STR("dir", LAPS_CONF_PATH, S, dir, NULL),
    LAPS_CONF_KEY_STR("client_id", LAPS_CONF_STRING, S, client_id, NULL),
    LAPS_CONF_KEY_STR("scope", LAPS_CONF_STRING, S, scope, NULL),
};
#undef S
/* clang-format on */

static int
server_defaults(void *p)
{
	struct laps_server_conf *s = p;

	s->threads = 4;
	s->max_connections = 512;
	s->max_per_ip = 64;
	s->timeout = 30;
	s->metrics = LAPS_YES;
	return (s->listen = strdup("127.0.0.1:8443")) == NULL ? LAPS_ERR_NOMEM : 0;
}

static int
store_defaults(void *p)
{
	struct laps_store_conf *s = p;

	s->history_size = 10;
	s->history_keep = 101; /* unset: history_size */
	return (s->url = strdup("sqlite:" LOCALSTATEDIR "/lib/laps-escrowd/escrow.db")) == NULL
		   ? LAPS_ERR_NOMEM
		   : 0;
}

static int
oidc_defaults(void *p)
{
	struct laps_oidc_conf *o = p;

	o->timeout = 5;
	o->leeway = 60;
	return 0;
}

static int
authz_defaults(void *p)
{
	struct laps_authz_conf *a = p;

	a->cert_name = LAPS_CERT_NAME_CN;
	if ((a->device_claim = strdup("client_id")) == NULL ||
	    (a->rights_claim = strdup("scope")) == NULL ||
	    (a->device_value = strdup("laps.device")) == NULL ||
	    (a->read_value = strdup("laps.read")) == NULL ||
	    (a->secret_value = strdup("laps.secret")) == NULL ||
	    (a->expire_value = strdup("laps.expire")) == NULL ||
	    (a->audit_value = strdup("laps.audit")) == NULL ||
	    (a->enroll_value = strdup("laps.enroll")) == NULL ||
	    (a->approve_value = strdup("laps.approve")) == NULL)
		return LAPS_ERR_NOMEM;
	return 0;
}

static int
limits_defaults(void *p)
{
	struct laps_limits_conf *l = p;

	l->rate = 20;
	l->burst = 100;
	return 0;
}

static int
console_defaults(void *p)
{
	struct laps_console_conf *k = p;

	k->enable = LAPS_NO;
	if ((k->dir = strdup(PKGDATADIR "/console")) == NULL ||
	    (k->client_id = strdup("laps-console")) == NULL ||
	    (k->scope = strdup("openid")) == NULL)
		return LAPS_ERR_NOMEM;
	return 0;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
const struct laps_conf_section laps_server_section = {
    "server", server_keys, N(server_keys), sizeof(struct laps_server_conf), server_defaults};
const struct laps_conf_section laps_store_section = {
    "store", store_keys, N(store_keys), sizeof(struct laps_store_conf), store_defaults};
const struct laps_conf_section laps_oidc_section = {"oidc", oidc_keys, N(oidc_keys),
						    sizeof(struct laps_oidc_conf), oidc_defaults};
const struct laps_conf_section laps_authz_section = {
    "authz", authz_keys, N(authz_keys), sizeof(struct laps_authz_conf), authz_defaults};
const struct laps_conf_section laps_limits_section = {
    "limits", limits_keys, N(limits_keys), sizeof(struct laps_limits_conf), limits_defaults};
const struct laps_conf_section laps_console_section = {
    "console", console_keys, N(console_keys), sizeof(struct laps_console_conf), console_defaults};

const struct laps_conf_section *const laps_escrowd_sections[] = {&laps_server_section,
								 &laps_store_section,
								 &laps_oidc_section,
								 &laps_authz_section,
								 &laps_limits_section,
								 &laps_console_section,
								 &laps_est_section,
								 &laps_policy_section,
								 &laps_notify_section,
								 NULL};

const struct laps_conf_schema laps_escrowd_schema = {{laps_escrowd_sections}, NULL, 0};

/* ------------------------------------------------------------------ */
/* Rules                                                               */

/* [authz] units: NAME:PATTERN, NAME of [a-z0-9_-] (the part after '@' in a right). */
static int
validate_units(const struct laps_conf *c, const struct laps_authz_conf *a)
{
	const char *u, *colon;
	size_t i, j;

	for (i = 0; i < a->n_units; i++) {
		u = a->units[i];
		colon = strchr(u, ':');
		if (colon == NULL || colon == u || colon[1] == '\0')
			return laps_conf_err(c, "authz", "units", "each item must be NAME:PATTERN");
		for (j = 0; u + j < colon; j++)
			if (!((u[j] >= 'a' && u[j] <= 'z') || (u[j] >= '0' && u[j] <= '9') ||
			      u[j] == '_' || u[j] == '-'))
				return laps_conf_err(c, "authz", "units",
						     "a unit name is made of a-z 0-9 '_' '-'");
	}
	for (i = 0; i < a->n_cert_admins; i++) {
		u = a->cert_admins[i];
		colon = strchr(u, '=');
		if (colon == NULL || colon == u || colon[1] == '\0')
			return laps_conf_err(c, "authz", "cert_admins",
					     "each item must be CERTNAME=VALUE[,VALUE...]");
	}
	return 0;
}

/* Is unit one of [authz] units' names? ([policy] names units.) */
static bool
authz_unit_known(const struct laps_conf *c, const char *unit)
{
	const struct laps_authz_conf *a = laps_authz_conf(c);
	size_t i, n = strlen(unit);

	for (i = 0; i < a->n_units; i++)
		if (strncmp(a->units[i], unit, n) == 0 && a->units[i][n] == ':')
			return true;
	return false;
}

int
laps_escrowd_conf_validate(const struct laps_conf *c)
{
	const struct laps_server_conf *s = laps_server_conf(c);
	const struct laps_store_conf *st = laps_store_conf(c);
	const struct laps_oidc_conf *o = laps_oidc_conf(c);
	const struct laps_limits_conf *l = laps_limits_conf(c);

	if (s == NULL || st == NULL || o == NULL || l == NULL || laps_authz_conf(c) == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "laps_escrowd_conf_validate: not a "
						     "laps-escrowd configuration");
	if (s->listen == NULL)
		return laps_conf_err(c, "server", "listen", "required (ADDRESS:PORT)");
	if (s->cert_file == NULL)
		return laps_conf_err(c, "server", "cert_file",
				     "required (laps-escrowd is HTTPS only)");
	if (s->key_file == NULL)
		return laps_conf_err(c, "server", "key_file",
				     "required (laps-escrowd is HTTPS only)");
	if (st->url == NULL ||
	    (strncmp(st->url, "sqlite:/", 8) != 0 && strncmp(st->url, "postgresql:", 11) != 0))
		return laps_conf_err(c, "store", "url",
				     "must be sqlite:/PATH or postgresql:CONNINFO");
	if ((o->issuer == NULL) != (o->audience == NULL))
		return laps_conf_err(c, "oidc", o->issuer == NULL ? "issuer" : "audience",
				     "issuer and audience go together");
	if (o->issuer == NULL && s->client_ca == NULL && laps_est_conf(c)->ca_cert == NULL)
		return laps_conf_err(c, "server", "client_ca",
				     "no way to authenticate anyone: set [server] client_ca or "
				     "[oidc] issuer");
	if (st->audit_retention > 0 && st->audit_retention < 86400)
		return laps_conf_err(c, "store", "audit_retention",
				     "at least 1d (or 0: keep the audit log forever)");
	if (laps_console_conf(c) != NULL && laps_console_conf(c)->enable == LAPS_YES &&
	    o->issuer == NULL)
		return laps_conf_err(c, "console", "enable",
				     "the console signs in through [oidc] issuer: set it");
	if (l->burst < l->rate)
		return laps_conf_err(c, "limits", "burst", "must be at least [limits] rate");
	if (laps_est_conf_validate(c) != 0)
		return LAPS_ERR_CONFIG;
	if (validate_units(c, laps_authz_conf(c)) != 0)
		return LAPS_ERR_CONFIG;
	if (policy_conf_validate(c, authz_unit_known) != 0)
		return LAPS_ERR_CONFIG;
	return notify_conf_validate(c);
}

const char *
laps_cert_name_name(enum laps_cert_name c)
{
	return laps_conf_enum_name(cert_name_names, (int)c);
}
