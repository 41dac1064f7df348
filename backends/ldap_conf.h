/*
 * ldap_conf.h — [ldap]: the directory, how to bind, where the device's entry
 * is and which schema it uses (ldap_conf.c declares the keys and rules; the
 * module's code reads the struct).
 */
#ifndef LAPS_LDAP_CONF_H
#define LAPS_LDAP_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "backends/backend_conf.h"
#include "escrow/conf.h"

enum laps_ldap_tls { LAPS_TLS_STARTTLS = 0, LAPS_TLS_LDAPS, LAPS_TLS_NONE };
enum laps_ldap_bind { LAPS_BIND_SIMPLE = 0, LAPS_BIND_EXTERNAL, LAPS_BIND_GSSAPI };
enum laps_ldap_schema { LAPS_SCHEMA_LAPS = 0, LAPS_SCHEMA_MSLAPS, LAPS_SCHEMA_LEGACY };

/* Every string is malloc'd or NULL (unset). */
struct laps_ldap_conf {
	char *uri[LAPS_CONFIG_MAX_LIST]; /* uri = ldap://a ldap://b (failover order) */
	size_t n_uri;
	enum laps_ldap_tls tls; /* starttls | ldaps | none (default starttls) */
	char *ca_file;
	char *cert_file;	  /* client certificate (optional) */
	char *key_file;		  /* its key */
	enum laps_ldap_bind bind; /* simple | external | gssapi (default simple) */
	char *bind_dn;
	char *bind_secret_file;
	char *base;
	char *filter;		      /* template with %h (short host) and %f (FQDN) */
	char *dn;		      /* explicit device entry DN */
	enum laps_ldap_schema schema; /* laps | mslaps | legacy (default laps) */
	int64_t timeout;	      /* 1s..300s (default 10s) */
	char *encrypt_to;	      /* mslaps: encrypt to this SID (msLAPS-EncryptedPassword) */
	char *gkdi_root_key_file;     /* TEST/LAB ONLY: a KDS root key standing in for GetKey */
	char *gkdi_server;  /* GetKey's domain controller (default: the first uri's host) */
	unsigned gkdi_port; /* its ISDKey TCP port (0, the default: the endpoint mapper) */
};

extern const struct laps_conf_section laps_ldap_section;
extern const struct laps_backend_conf laps_ldap_backend_conf;

static inline struct laps_ldap_conf *
laps_ldap_conf(const struct laps_conf *c)
{
	return (struct laps_ldap_conf *)laps_conf_get(c, &laps_ldap_section);
}

/* Names for enum values (for messages and status output). */
const char *laps_ldap_schema_name(enum laps_ldap_schema s);
const char *laps_ldap_tls_name(enum laps_ldap_tls t);
const char *laps_ldap_bind_name(enum laps_ldap_bind b);

#endif
