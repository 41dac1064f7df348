/*
 * ldap_conf.c — [ldap]: its keys, defaults and rules.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "backends/ldap_conf.h"
#include "escrow/err.h"

_Static_assert(sizeof(enum laps_ldap_tls) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_ldap_bind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_ldap_schema) == sizeof(int), "enum size");

static const char *const tls_names[] = {"starttls", "ldaps", "none", NULL};
static const char *const bind_names[] = {"simple", "external", "gssapi", NULL};
static const char *const schema_names[] = {"laps", "mslaps", "legacy", NULL};

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* An LDAP filter template: balanced parentheses, escapes %h %f %%. */
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

/* A SID "S-1-<authority>-<sub>..." (digits, 1 to 15 sub-authorities). */
static const char *
check_sid(const char *v)
{
	size_t i, dashes = 0;

	if (strncmp(v, "S-1-", 4) != 0)
		return "must be a SID like S-1-5-21-...-512";
	for (i = 4; v[i] != '\0'; i++) {
		if (v[i] == '-' && v[i - 1] != '-' && v[i + 1] != '\0')
			dashes++;
		else if (v[i] < '0' || v[i] > '9')
			return "must be a SID like S-1-5-21-...-512 (digits and dashes)";
	}
	if (i == 4 || dashes < 1 || dashes > 15 || i > 184)
		return "must be a SID like S-1-5-21-...-512 (an authority and 1 to 15 "
		       "sub-authorities)";
	return NULL;
}

/* clang-format off */
#define S struct laps_ldap_conf
static const struct laps_conf_key ldap_keys[] = {
    LAPS_CONF_KEY_LIST("uri", S, uri, n_uri, check_ldapuri),
    LAPS_CONF_KEY_ENUM("tls", S, tls, tls_names),
    LAPS_CONF_KEY_STR("ca_file", LAPS_CONF_PATH, S, ca_file, NULL),
    LAPS_CONF_KEY_STR("cert_file", LAPS_CONF_PATH, S, cert_file, NULL),
    LAPS_CONF_KEY_STR("key_file", LAPS_CONF_PATH, S, key_file, NULL),
    LAPS_CONF_KEY_ENUM("bind", S, bind, bind_names),
    LAPS_CONF_KEY_STR("bind_dn", LAPS_CONF_STRING, S, bind_dn, NULL),
    LAPS_CONF_KEY_STR("bind_secret_file", LAPS_CONF_PATH, S, bind_secret_file, NULL),
    LAPS_CONF_KEY_STR("base", LAPS_CONF_STRING, S, base, NULL),
    LAPS_CONF_KEY_STR("filter", LAPS_CONF_STRING, S, filter, check_filter),
    LAPS_CONF_KEY_STR("dn", LAPS_CONF_STRING, S, dn, NULL),
    LAPS_CONF_KEY_ENUM("schema", S, schema, schema_names),
    LAPS_CONF_KEY_DURATION("timeout", S, timeout, 1, 300),
    LAPS_CONF_KEY_STR("encrypt_to", LAPS_CONF_STRING, S, encrypt_to, check_sid),
    LAPS_CONF_KEY_STR("gkdi_root_key_file", LAPS_CONF_PATH, S, gkdi_root_key_file, NULL),
    LAPS_CONF_KEY_STR("gkdi_server", LAPS_CONF_STRING, S, gkdi_server, NULL),
    LAPS_CONF_KEY_UINT("gkdi_port", S, gkdi_port, 1, 65535),
};
#undef S
/* clang-format on */

static int
ldap_defaults(void *p)
{
	struct laps_ldap_conf *l = p;

	l->tls = LAPS_TLS_STARTTLS;
	l->bind = LAPS_BIND_SIMPLE;
	l->schema = LAPS_SCHEMA_LAPS;
	l->timeout = 10;
	return 0;
}

const struct laps_conf_section laps_ldap_section = {"ldap", ldap_keys,
						    sizeof ldap_keys / sizeof ldap_keys[0],
						    sizeof(struct laps_ldap_conf), ldap_defaults};

static int
ldap_validate(const struct laps_conf *c, enum laps_backend_role role)
{
	const struct laps_ldap_conf *l = laps_ldap_conf(c);
	size_t i;

	if (l->n_uri == 0)
		return laps_conf_err(c, "ldap", "uri", "required when backend = ldap");
	for (i = 0; i < l->n_uri; i++) {
		const char *u = l->uri[i];
		if (l->tls == LAPS_TLS_LDAPS && !has_prefix(u, "ldaps://"))
			return laps_conf_err(c, "ldap", "uri",
					     "every URI must be ldaps:// when tls = ldaps");
		if (l->tls != LAPS_TLS_LDAPS && has_prefix(u, "ldaps://"))
			return laps_conf_err(c, "ldap", "tls",
					     "must be ldaps when a URI is ldaps:// (starttls and "
					     "none need ldap://)");
	}
	if (role == LAPS_ROLE_AGENT) {
		if (l->dn == NULL && (l->base == NULL || l->filter == NULL))
			return laps_conf_err(c, "ldap", "dn",
					     "the device entry needs dn, or base and filter");
	} else if (l->base == NULL && l->dn == NULL) {
		return laps_conf_err(c, "ldap", "base", "required to look devices up");
	}
	if (l->bind == LAPS_BIND_SIMPLE) {
		if (l->bind_dn == NULL)
			return laps_conf_err(c, "ldap", "bind_dn", "required when bind = simple");
		if (l->bind_secret_file == NULL)
			return laps_conf_err(c, "ldap", "bind_secret_file",
					     "required when bind = simple");
	}
	if (l->encrypt_to != NULL && l->schema != LAPS_SCHEMA_MSLAPS)
		return laps_conf_err(c, "ldap", "encrypt_to",
				     "needs schema = mslaps (msLAPS-EncryptedPassword)");
	if ((l->cert_file == NULL) != (l->key_file == NULL))
		return laps_conf_err(c, "ldap", l->cert_file == NULL ? "cert_file" : "key_file",
				     "cert_file and key_file must be set together");
	return 0;
}

static bool
ldap_cleartext(const struct laps_conf *c)
{
	return laps_ldap_conf(c)->schema != LAPS_SCHEMA_LAPS;
}

const struct laps_backend_conf laps_ldap_backend_conf = {"ldap", &laps_ldap_section, ldap_validate,
							 ldap_cleartext, 0};

const char *
laps_ldap_schema_name(enum laps_ldap_schema s)
{
	return laps_conf_enum_name(schema_names, (int)s);
}

const char *
laps_ldap_tls_name(enum laps_ldap_tls t)
{
	return laps_conf_enum_name(tls_names, (int)t);
}

const char *
laps_ldap_bind_name(enum laps_ldap_bind b)
{
	return laps_conf_enum_name(bind_names, (int)b);
}
