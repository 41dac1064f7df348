/*
 * conf.h — laps.conf: INI sections, typed values with ranges, durations.
 *
 * One parser for laps-agent, laps-get and pam_laps.  Unknown sections and
 * keys are errors naming file:line and the key.  When euid is 0 the file
 * must be owned by root and not group/world-writable.
 */
#ifndef LAPS_CONF_H
#define LAPS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAPS_CONFIG_MAX_SIZE (64 * 1024) /* larger files are refused */
#define LAPS_CONFIG_MAX_LIST 16          /* accounts, recipients, uris */
#define LAPS_ACCOUNT_MAX 32              /* user name length (useradd's limit) */
#define LAPS_DEVICE_MAX 253              /* DNS name length */

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#define LAPS_CONFIG_DEFAULT SYSCONFDIR "/laps/laps.conf"
#define LAPS_STATE_DIR_DEFAULT LOCALSTATEDIR "/lib/laps"

enum laps_method { LAPS_METHOD_SHADOW = 0, LAPS_METHOD_PAM };
enum laps_hash { LAPS_HASH_YESCRYPT = 0, LAPS_HASH_SHA512 };
enum laps_pwmode { LAPS_PWMODE_PASSWORD = 0, LAPS_PWMODE_PASSPHRASE };
enum laps_ldap_tls { LAPS_TLS_STARTTLS = 0, LAPS_TLS_LDAPS, LAPS_TLS_NONE };
enum laps_ldap_bind { LAPS_BIND_SIMPLE = 0, LAPS_BIND_EXTERNAL, LAPS_BIND_GSSAPI };
enum laps_ldap_schema { LAPS_SCHEMA_LAPS = 0, LAPS_SCHEMA_MSLAPS, LAPS_SCHEMA_LEGACY };
enum laps_rest_auth { LAPS_REST_AUTH_CLIENT_SECRET = 0, LAPS_REST_AUTH_PRIVATE_KEY_JWT,
		      LAPS_REST_AUTH_MTLS, LAPS_REST_AUTH_BEARER, LAPS_REST_AUTH_DEVICE_CODE };
enum laps_postauth_action { LAPS_POSTAUTH_RESET = 0, LAPS_POSTAUTH_RESET_LOGOFF,
			    LAPS_POSTAUTH_RESET_REBOOT };
enum laps_yesno { LAPS_NO = 0, LAPS_YES };
enum laps_cert_name { LAPS_CERT_NAME_CN = 0, LAPS_CERT_NAME_SAN };
/* [agent] account_state: the password lock ('!') the agent keeps */
enum laps_account_state { LAPS_ACCOUNT_KEEP = 0, LAPS_ACCOUNT_ENABLED, LAPS_ACCOUNT_DISABLED };
#define LAPS_UID_UNSET 4294967295U /* [agent] account_uid not set */

/* Every string is malloc'd or NULL (unset).  Durations are in seconds. */
struct laps_config {
	char *path; /* the file it was loaded from (for messages) */

	/* [agent] */
	char *accounts[LAPS_CONFIG_MAX_LIST]; /* accounts = a b  (default: lapsadmin) */
	size_t n_accounts;
	enum laps_method method; /* shadow | pam           (default shadow) */
	char *root;              /* alternate root prefix  (default NULL = /) */
	char *state_dir;         /* default LAPS_STATE_DIR_DEFAULT */
	char *metrics_file;      /* Prometheus text file written after each run (NULL = none) */
	int64_t password_age;    /* 1h..3650d             (default 30d) */
	enum laps_hash hash;     /* yescrypt | sha512      (default yescrypt) */
	unsigned hash_cost;      /* 0 = library default; yescrypt 1..11, sha512 rounds 1000..999999999 */
	/* [agent] account management (agent/account_create.c, agent/lockstate.c) */
	enum laps_yesno create_account; /* create missing accounts (default no) */
	unsigned account_uid;	  /* fixed uid; LAPS_UID_UNSET = a system uid (login.defs) */
	char *account_home;	  /* NULL = no home directory (passwd: /nonexistent) */
	char *account_shell;	  /* NULL = /bin/sh */
	char *account_groups[LAPS_CONFIG_MAX_LIST]; /* supplementary groups at creation */
	size_t n_account_groups;
	enum laps_account_state account_state; /* keep | enabled | disabled (default keep) */
	enum laps_yesno allow_uid0;	       /* manage a uid-0 account (default no) */

	/* [password] */
	enum laps_pwmode mode; /* password | passphrase (default password) */
	unsigned length;       /* 8..128                (default 20) */
	unsigned complexity;   /* 1..5 (Windows LAPS)    (default 4) */
	unsigned words;        /* 3..10                 (default 6) */
	char *separator;       /* 0..4 chars; "" = capitalised and joined (default "-") */

	/* [escrow] */
	char *backend;                          /* file | ldap | rest (default file) */
	char *recipients[LAPS_CONFIG_MAX_LIST]; /* files with public-key lines */
	size_t n_recipients;
	unsigned history; /* 0..100 (default 10) */
	char *device;     /* NULL = this host's name, lower-cased (laps_device_name());
			   * a configured name is stored lower-cased */

	/* [file] */
	char *file_dir; /* dir (default LOCALSTATEDIR/lib/laps/escrow) */

	/* [ldap] */
	char *ldap_uri[LAPS_CONFIG_MAX_LIST]; /* uri = ldap://a ldap://b (failover order) */
	size_t n_ldap_uri;
	enum laps_ldap_tls ldap_tls;   /* starttls | ldaps | none (default starttls) */
	char *ldap_ca_file;
	char *ldap_cert_file;          /* client certificate (optional) */
	char *ldap_key_file;           /* its key */
	enum laps_ldap_bind ldap_bind; /* simple | external | gssapi (default simple) */
	char *ldap_bind_dn;
	char *ldap_bind_secret_file;
	char *ldap_base;
	char *ldap_filter;             /* template with %h (short host) and %f (FQDN) */
	char *ldap_dn;                 /* explicit device entry DN */
	enum laps_ldap_schema ldap_schema; /* laps | mslaps | legacy (default laps) */
	int64_t ldap_timeout;          /* 1s..300s (default 10s) */

	/* [rest] */
	char *rest_url;                /* https:// base URL of laps-escrowd (before /v1) */
	enum laps_rest_auth rest_auth; /* client_credentials | private_key_jwt | mtls | bearer |
					* device_code (laps-get only) */
	char *rest_token_url;
	char *rest_device_auth_url;    /* RFC 8628 device authorization endpoint (device_code) */
	char *rest_resource;           /* RFC 8707 resource indicator sent with token requests */
	char *rest_pin;                /* public-key pin: sha256//BASE64[;sha256//...] */
	char *rest_client_id;
	char *rest_client_secret_file;
	char *rest_key_file;
	char *rest_cert_file;
	char *rest_key_engine;         /* OpenSSL engine id for key_uri (auth = mtls) */
	char *rest_key_uri;            /* engine key (pkcs11:...) instead of key_file */
	char *rest_ca_file;
	char *rest_bearer_file;
	char *rest_scope;
	int64_t rest_timeout; /* 1s..300s (default 10s) */
	unsigned rest_retries; /* 0..10 (default 3): attempts after the first */
	int64_t rest_budget;   /* 1s..1h (default 120s): all requests of one run */

	/* [post-auth] */
	int64_t postauth_delay;                  /* 0..30d (default 0 = post-auth rotation off) */
	enum laps_postauth_action postauth_action; /* reset | reset-logoff | reset-reboot */

	/* [laps-get] (laps-get.conf) */
	char *get_key;     /* admin private key file; NULL = laps-get uses
			    * ~/.config/laps/admin.key (absolute path when set) */

	/* [graph] (laps-get --source graph: Windows LAPS in Entra ID, read-only) */
	char *graph_url;                /* default https://graph.microsoft.com/v1.0 */
	char *graph_token_url;          /* OAuth2 token endpoint (client credentials) */
	char *graph_client_id;
	char *graph_client_secret_file; /* root/owner-only file */
	char *graph_scope;              /* default https://graph.microsoft.com/.default */
	char *graph_ca_file;            /* extra CA bundle (tests) */
	int64_t graph_timeout;          /* 1s..300s (default 10s) */

	/* laps-escrowd (laps-escrowd.conf; see man/laps-escrowd.8) */
	/* [server] */
	char *srv_listen;          /* ADDRESS:PORT, [IPV6]:PORT (default 127.0.0.1:8443) */
	char *srv_cert_file;       /* server certificate chain (PEM) */
	char *srv_key_file;        /* its private key (PEM) */
	char *srv_client_ca;       /* CA for client certificates (mTLS); NULL = none */
	unsigned srv_threads;      /* 1..256 (default 4) */
	unsigned srv_max_connections; /* 1..100000 (default 512) */
	unsigned srv_max_per_ip;   /* 1..100000 (default 64) */
	int64_t srv_timeout;       /* 1s..1h per-connection idle timeout (default 30s) */
	enum laps_yesno srv_metrics; /* yes | no (default yes) */
	/* [store] */
	char *store_url;           /* sqlite:/path | postgresql:CONNINFO */
	unsigned store_history;    /* history_size 0..100 (default 10) */
	/* [oidc] */
	char *oidc_issuer;
	char *oidc_audience;
	char *oidc_ca_file;
	char *oidc_jwks_file;      /* static JWKS instead of discovery (tests, air-gapped) */
	int64_t oidc_timeout;      /* 1s..60s (default 5s) */
	int64_t oidc_leeway;       /* 0..300s (default 60s) */
	/* [authz] */
	char *authz_device_claim;  /* default client_id */
	char *authz_device_prefix; /* stripped from the device claim; NULL = none */
	enum laps_cert_name authz_cert_name; /* cn | san (default cn) */
	char *authz_rights_claim;  /* default scope */
	char *authz_device_value;  /* default laps.device */
	char *authz_read_value;    /* default laps.read */
	char *authz_secret_value;  /* default laps.secret */
	char *authz_expire_value;  /* default laps.expire */
	char *authz_audit_value;   /* default laps.audit */
	char *authz_units[LAPS_CONFIG_MAX_LIST]; /* NAME:PATTERN items */
	size_t n_authz_units;
	char *authz_cert_admins[LAPS_CONFIG_MAX_LIST]; /* CERTNAME=VALUE,VALUE items */
	size_t n_authz_cert_admins;
	/* [limits] */
	unsigned limit_rate;       /* requests/s per identity 1..100000 (default 20) */
	unsigned limit_burst;      /* 1..1000000 (default 100) */
};

/* laps_config_validate purposes */
enum laps_config_use {
	LAPS_USE_AGENT = 0, /* laps-agent: accounts, recipients, a known backend and its keys */
	LAPS_USE_GET,       /* laps-get with a backend: the backend's keys (ldap: base or dn) */
	LAPS_USE_PAM,       /* pam_laps: accounts and state_dir */
	LAPS_USE_GET_GRAPH, /* laps-get --source graph: [graph] url token_url client_id
			     * client_secret_file */
	LAPS_USE_SERVER     /* laps-escrowd: [server] cert_file key_file, [store] url,
			     * [oidc] issuer+audience together, units well-formed */
};

/*
 * Cross-field checks after loading, for a given program: e.g. the agent
 * needs recipients and a known backend; backend ldap needs uri and dn or
 * base+filter; bind simple needs bind_dn and bind_secret_file; hash_cost in
 * range for the hash.  LAPS_ERR_CONFIG with a detail naming file and key.
 */
int laps_config_validate(const struct laps_config *cfg, enum laps_config_use use)
    __attribute__((warn_unused_result));

/* laps_config_load flags */
#define LAPS_CONFIG_CHECK_OWNER 0x1 /* apply the root-owner/mode check even if euid != 0 */
#define LAPS_CONFIG_NO_OWNER 0x2    /* skip owner/mode checks (laps-get user files) */

/* Fill cfg with the defaults above.  0 or LAPS_ERR_NOMEM. */
int laps_config_init(struct laps_config *cfg) __attribute__((warn_unused_result));

/*
 * Parse path into *cfg (which must have been laps_config_init'ed; values in
 * the file override).  On error returns LAPS_ERR_CONFIG (or _PERM, _IO,
 * _NOTFOUND, _TOOBIG) with a detail "FILE:LINE: [section] key: what".
 */
int laps_config_load(struct laps_config *cfg, const char *path, unsigned flags)
    __attribute__((warn_unused_result));

/* Same, from a buffer; name is used in messages. */
int laps_config_parse(struct laps_config *cfg, const char *name, const char *buf, size_t len)
    __attribute__((warn_unused_result));

/* Free every string; cfg can be init'ed again. */
void laps_config_free(struct laps_config *cfg);

/*
 * Parse a duration: plain seconds or a number with s/m/h/d/w suffix
 * ("90s", "15m", "12h", "30d").  0 or LAPS_ERR_INVALID.
 */
int laps_config_parse_duration(const char *s, int64_t *out) __attribute__((warn_unused_result));

/*
 * Overrides from pam_laps' arguments (here so that they are fuzzed with the
 * rest of the parser).  laps_config_set_accounts_csv: replace the account
 * list with the comma-separated names in s (each 1..LAPS_ACCOUNT_MAX
 * characters, at most LAPS_CONFIG_MAX_LIST, each a valid user name as in
 * [agent] accounts).  laps_config_set_state_dir: an absolute path.  On error cfg is
 * unchanged; 0, LAPS_ERR_INVALID (with detail) or LAPS_ERR_NOMEM.
 */
int laps_config_set_accounts_csv(struct laps_config *cfg, const char *s)
    __attribute__((warn_unused_result));
int laps_config_set_state_dir(struct laps_config *cfg, const char *dir)
    __attribute__((warn_unused_result));

/*
 * Whether the configured backend stores the password in clear (ldap with
 * schema mslaps or legacy): then [escrow] recipients are optional for the
 * agent and nothing is sealed when none are given.
 */
bool laps_config_cleartext_backend(const struct laps_config *cfg);

/* Names for enum values (for messages and status output). */
const char *laps_method_name(enum laps_method m);
const char *laps_hash_name(enum laps_hash h);
const char *laps_ldap_schema_name(enum laps_ldap_schema s);
const char *laps_postauth_action_name(enum laps_postauth_action a);
const char *laps_pwmode_name(enum laps_pwmode m);
const char *laps_ldap_tls_name(enum laps_ldap_tls t);
const char *laps_ldap_bind_name(enum laps_ldap_bind b);
const char *laps_rest_auth_name(enum laps_rest_auth a);
const char *laps_cert_name_name(enum laps_cert_name c);
const char *laps_account_state_name(enum laps_account_state s);

#endif
