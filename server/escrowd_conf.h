/*
 * escrowd_conf.h — laps-escrowd.conf: [server], [store], [oidc], [authz],
 * [limits], [console] (escrowd_conf.c declares their keys and rules; man/laps-escrowd.8
 * documents them).
 */
#ifndef LAPS_ESCROWD_CONF_H
#define LAPS_ESCROWD_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "escrow/conf.h"

enum laps_cert_name { LAPS_CERT_NAME_CN = 0, LAPS_CERT_NAME_SAN };

/* [server].  Every string is malloc'd or NULL (unset).  Durations in seconds. */
struct laps_server_conf {
	char *listen;		  /* ADDRESS:PORT, [IPV6]:PORT (default 127.0.0.1:8443) */
	char *cert_file;	  /* server certificate chain (PEM) */
	char *key_file;		  /* its private key (PEM) */
	char *client_ca;	  /* CA for client certificates (mTLS); NULL = none */
	unsigned threads;	  /* 1..256 (default 4) */
	unsigned max_connections; /* 1..100000 (default 512) */
	unsigned max_per_ip;	  /* 1..100000 (default 64) */
	int64_t timeout;	  /* 1s..1h per-connection idle timeout (default 30s) */
	enum laps_yesno metrics;  /* yes | no (default yes) */
};

/* [store] */
struct laps_store_conf {
	char *url;	       /* sqlite:/path | postgresql:CONNINFO */
	unsigned history_size; /* 0..100 (default 10) */
	unsigned history_keep; /* 0..100, overrides history_size; 101 = unset */
	int64_t audit_retention; /* 0 = keep forever (default); else 1d..100y: daily prune */
};

/* [oidc] (optional) */
struct laps_oidc_conf {
	char *issuer;
	char *audience;
	char *ca_file;
	char *jwks_file; /* static JWKS instead of discovery (tests, air-gapped) */
	int64_t timeout; /* 1s..60s (default 5s) */
	int64_t leeway;	 /* 0..300s (default 60s) */
};

/* [authz] */
struct laps_authz_conf {
	char *device_claim;		   /* default client_id */
	char *device_prefix;		   /* stripped from the device claim; NULL = none */
	enum laps_cert_name cert_name;	   /* cn | san (default cn) */
	char *rights_claim;		   /* default scope */
	char *device_value;		   /* default laps.device */
	char *read_value;		   /* default laps.read */
	char *secret_value;		   /* default laps.secret */
	char *expire_value;		   /* default laps.expire */
	char *audit_value;		   /* default laps.audit */
	char *enroll_value;		   /* default laps.enroll (EST, server/est_api.c) */
	char *approve_value;		   /* default laps.approve (server/policy.h) */
	char *units[LAPS_CONFIG_MAX_LIST]; /* NAME:PATTERN items */
	size_t n_units;
	char *cert_admins[LAPS_CONFIG_MAX_LIST]; /* CERTNAME=VALUE,VALUE items */
	size_t n_cert_admins;
};

/* [limits] */
struct laps_limits_conf {
	unsigned rate;	/* requests/s per identity 1..100000 (default 20) */
	unsigned burst; /* 1..1000000 (default 100) */
};

/* [console] (server/console.c serves it) */
struct laps_console_conf {
	enum laps_yesno enable; /* serve /console/ (default no) */
	char *dir;		/* its files (default PKGDATADIR/console) */
	char *client_id;	/* the console's public client at the issuer (laps-console) */
	char *scope;		/* scope it asks for (default "openid") */
};

extern const struct laps_conf_section laps_server_section, laps_store_section, laps_oidc_section,
    laps_authz_section, laps_limits_section, laps_console_section;
/* laps-escrowd.conf's sections, NULL-terminated. */
extern const struct laps_conf_section *const laps_escrowd_sections[];
/* Its schema (these sections, nothing else). */
extern const struct laps_conf_schema laps_escrowd_schema;

static inline struct laps_server_conf *
laps_server_conf(const struct laps_conf *c)
{
	return (struct laps_server_conf *)laps_conf_get(c, &laps_server_section);
}

static inline struct laps_store_conf *
laps_store_conf(const struct laps_conf *c)
{
	return (struct laps_store_conf *)laps_conf_get(c, &laps_store_section);
}

static inline struct laps_oidc_conf *
laps_oidc_conf(const struct laps_conf *c)
{
	return (struct laps_oidc_conf *)laps_conf_get(c, &laps_oidc_section);
}

static inline struct laps_authz_conf *
laps_authz_conf(const struct laps_conf *c)
{
	return (struct laps_authz_conf *)laps_conf_get(c, &laps_authz_section);
}

static inline struct laps_limits_conf *
laps_limits_conf(const struct laps_conf *c)
{
	return (struct laps_limits_conf *)laps_conf_get(c, &laps_limits_section);
}

static inline struct laps_console_conf *
laps_console_conf(const struct laps_conf *c)
{
	return (struct laps_console_conf *)laps_conf_get(c, &laps_console_section);
}

/*
 * The cross-section rules: cert and key files, a store URL of a known kind,
 * issuer and audience together, some way to authenticate, burst >= rate,
 * well-formed units and cert_admins.  0 or LAPS_ERR_CONFIG naming the key.
 */
int laps_escrowd_conf_validate(const struct laps_conf *c) __attribute__((warn_unused_result));

const char *laps_cert_name_name(enum laps_cert_name c);

#endif
