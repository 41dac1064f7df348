/*
 * test_conf_sections.c — the components' configuration sections and each
 * program's schema, against the real tables: [agent] [password]
 * [post-auth] (agent/agent_conf.c), [escrow] (escrow/escrow_conf.c),
 * [file] [ldap] [rest] [graph] (backends/NAME_conf.c), [laps-get]
 * (laps-get/lapsget_conf.c), [server] [store] [oidc] [authz] [limits]
 * (server/escrowd_conf.c): defaults, every key, enum spellings, value
 * checks and ranges of each key, the rules each program applies
 * (laps_agent_validate, laps_backend_conf_validate, pam_laps'
 * laps_agent_conf_validate_accounts, laps_escrowd_conf_validate), which
 * sections each program's file may hold, and the shipped examples.
 *
 * The generic parser itself (syntax, every error of the format, size caps,
 * owner/mode) is tested with a table of its own by test_conf.c.  Here
 * laps.conf's sections are parsed with laps-get's schema unless a test says
 * otherwise: it is the one that holds all of them ([agent] [password]
 * [post-auth] [laps-get] [escrow] and the backends').
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "agent/agent_conf.h"
#include "agent/agent_schema.h"
#include "backends/backend_conf.h"
#include "backends/file_conf.h"
#include "backends/graph_conf.h"
#include "backends/ldap_conf.h"
#include "backends/rest_conf.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/escrow_conf.h"
#include "laps-get/lapsget_conf.h"
#include "server/escrowd_conf.h"
#include "tests/unit/conftest.h"
#include "server/est_conf.h"
#include "server/notify.h"
#include "server/policy.h"
#include "tests/unit/testutil.h"

#define NAME LAPS_CONFTEST_NAME

/* laps.conf as pam_laps reads it (pam/pam_laps.c: the schema is static there). */
static const struct laps_conf_schema pam_schema = {
    {laps_agent_sections}, NULL, LAPS_CONF_SKIP_UNKNOWN};

static struct laps_conf cfg;

static int
parse(const char *text)
{
	return laps_conf_parse(&cfg, NAME, text, strlen(text));
}

#define detail_has conftest_detail_has
#define EXPECT_ERR(text, n1, n2, n3)                                                               \
	conftest_err(__LINE__, &laps_get_schema, text, strlen(text), n1, n2, n3)
#define EXPECT_ERR_S(schema, text, n1, n2, n3)                                                     \
	conftest_err(__LINE__, schema, text, strlen(text), n1, n2, n3)
#define EXPECT_OK(text) conftest_ok(__LINE__, &laps_get_schema, text)
#define EXPECT_OK_S(schema, text) conftest_ok(__LINE__, schema, text)

static int
setup(void)
{
	return laps_conf_init(&cfg, &laps_get_schema) == 0 ? 0 : -1;
}

static int
teardown(void)
{
	laps_conf_free(&cfg);
	return 0;
}

/* Each test starts with fresh defaults of schema. */
static void
reset_with(const struct laps_conf_schema *schema)
{
	laps_conf_free(&cfg);
	CU_ASSERT_FATAL(laps_conf_init(&cfg, schema) == 0);
}

static void
reset(void)
{
	reset_with(&laps_get_schema);
}

/* ------------------------------------------------------------------ */
/* laps.conf's sections                                                */

static void
test_defaults(void)
{
	reset();
	CU_ASSERT_PTR_NULL(cfg.path);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->n_accounts, 1);
	CU_ASSERT_STRING_EQUAL(laps_agent_conf(&cfg)->accounts[0], "lapsadmin");
	CU_ASSERT_PTR_NULL(laps_agent_conf(&cfg)->accounts[1]);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->method, LAPS_METHOD_SHADOW);
	CU_ASSERT_PTR_NULL(laps_agent_conf(&cfg)->root);
	CU_ASSERT_STRING_EQUAL(laps_agent_conf(&cfg)->state_dir, LAPS_STATE_DIR_DEFAULT);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->password_age, 30 * 86400);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->hash, LAPS_HASH_YESCRYPT);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->hash_cost, 0);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->create_account, LAPS_NO);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->account_uid, LAPS_UID_UNSET);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->account_state, LAPS_ACCOUNT_KEEP);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->allow_uid0, LAPS_NO);
	CU_ASSERT_EQUAL(laps_password_conf(&cfg)->mode, LAPS_PWMODE_PASSWORD);
	CU_ASSERT_EQUAL(laps_password_conf(&cfg)->length, 20);
	CU_ASSERT_EQUAL(laps_password_conf(&cfg)->complexity, 4);
	CU_ASSERT_EQUAL(laps_password_conf(&cfg)->words, 6);
	CU_ASSERT_STRING_EQUAL(laps_password_conf(&cfg)->separator, "-");
	CU_ASSERT_STRING_EQUAL(laps_escrow_conf(&cfg)->backend, "file");
	CU_ASSERT_EQUAL(laps_escrow_conf(&cfg)->n_recipients, 0);
	CU_ASSERT_EQUAL(laps_escrow_conf(&cfg)->history, 10);
	CU_ASSERT_PTR_NULL(laps_escrow_conf(&cfg)->device);
	CU_ASSERT_STRING_EQUAL(laps_file_conf(&cfg)->dir, LAPS_STATE_DIR_DEFAULT "/escrow");
	CU_ASSERT_EQUAL(laps_ldap_conf(&cfg)->n_uri, 0);
	CU_ASSERT_EQUAL(laps_ldap_conf(&cfg)->tls, LAPS_TLS_STARTTLS);
	CU_ASSERT_EQUAL(laps_ldap_conf(&cfg)->bind, LAPS_BIND_SIMPLE);
	CU_ASSERT_EQUAL(laps_ldap_conf(&cfg)->schema, LAPS_SCHEMA_LAPS);
	CU_ASSERT_EQUAL(laps_ldap_conf(&cfg)->timeout, 10);
	CU_ASSERT_PTR_NULL(laps_ldap_conf(&cfg)->filter);
	CU_ASSERT_PTR_NULL(laps_rest_conf(&cfg)->url);
	CU_ASSERT_EQUAL(laps_rest_conf(&cfg)->auth, LAPS_REST_AUTH_CLIENT_SECRET);
	CU_ASSERT_EQUAL(laps_rest_conf(&cfg)->timeout, 10);
	CU_ASSERT_EQUAL(laps_rest_conf(&cfg)->retries, 3);
	CU_ASSERT_EQUAL(laps_rest_conf(&cfg)->budget, 120);
	CU_ASSERT_EQUAL(laps_postauth_conf(&cfg)->delay, 0);
	CU_ASSERT_EQUAL(laps_postauth_conf(&cfg)->action, LAPS_POSTAUTH_RESET);
	CU_ASSERT_PTR_NULL(laps_get_conf(&cfg)->key);
	CU_ASSERT_STRING_EQUAL(laps_graph_conf(&cfg)->url, "https://graph.microsoft.com/v1.0");
	CU_ASSERT_STRING_EQUAL(laps_graph_conf(&cfg)->scope,
			       "https://graph.microsoft.com/.default");
	CU_ASSERT_EQUAL(laps_graph_conf(&cfg)->timeout, 10);
	/* An empty file changes nothing but the path. */
	CU_ASSERT_EQUAL(laps_conf_parse(&cfg, NAME, "", 0), 0);
	CU_ASSERT_STRING_EQUAL(cfg.path, NAME);
	CU_ASSERT_EQUAL(laps_password_conf(&cfg)->length, 20);

	/* The same defaults whichever program reads laps.conf. */
	reset_with(&laps_agent_schema);
	CU_ASSERT_STRING_EQUAL(laps_agent_conf(&cfg)->accounts[0], "lapsadmin");
	CU_ASSERT_STRING_EQUAL(laps_escrow_conf(&cfg)->backend, "file");
	CU_ASSERT_EQUAL(laps_ldap_conf(&cfg)->timeout, 10);
	reset_with(&pam_schema);
	CU_ASSERT_STRING_EQUAL(laps_agent_conf(&cfg)->state_dir, LAPS_STATE_DIR_DEFAULT);
	CU_ASSERT_EQUAL(laps_postauth_conf(&cfg)->delay, 0);
}

static const char every_key[] =
    "# every key of laps.conf\n"
    "; both comment styles\n"
    "\n"
    "[agent]\n"
    "accounts = root_admin\tsvc-x  backup$\n"
    "method = pam\n"
    "root = /tmp/alt-root\n"
    "state_dir = /var/lib/laps-test\n"
    "password_age = 2w\n"
    "hash = sha512\n"
    "hash_cost = 5000\n"
    "  [ password ]  \n"
    "mode=passphrase\n"
    "length = 32\n"
    "complexity = 5\n"
    "words = 7\n"
    "separator = ::\n"
    "[escrow]\n"
    "backend = ldap\n"
    "recipients = /etc/laps/a.pub /etc/laps/b.pub\n"
    "history = 0\n"
    "device = WS-42.Example.ORG\n"
    "[file]\n"
    "dir = /srv/escrow\n"
    "[ldap]\n"
    "uri = ldaps://127.0.0.1:636 ldaps://dc2.example.org\n"
    "tls = ldaps\n"
    "ca_file = /etc/ssl/ca.pem\n"
    "cert_file = /etc/laps/client.crt\n"
    "key_file = /etc/laps/client.key\n"
    "bind = external\n"
    "bind_dn = cn=agent,dc=example,dc=org\n"
    "bind_secret_file = /etc/laps/bind.secret\n"
    "base = ou=Hosts, dc=example, dc=org\n"
    "filter = (&(objectClass=device)(|(cn=%h)(dNSHostName=%f))(x=100%%))\n"
    "dn = cn=ws-42,ou=Hosts,dc=example,dc=org\n"
    "schema = legacy\n"
    "timeout = 2m\n"
    "[rest]\n"
    "url = https://escrow.example.org:8443/v1\n"
    "auth = mtls\n"
    "token_url = http://127.0.0.1:9000/token\n"
    "client_id = ws-42\n"
    "client_secret_file = /etc/laps/client.secret\n"
    "key_file = /etc/laps/rest.key\n"
    "cert_file = /etc/laps/rest.crt\n"
    "ca_file = /etc/laps/rest-ca.pem\n"
    "bearer_file = /etc/laps/bearer\n"
    "scope = laps.write laps.read\n"
    "timeout = 45\n"
    "retries = 7\n"
    "[post-auth]\n"
    "delay = 8h\n"
    "action = reset-logoff\n"
    "[laps-get]\n"
    "key = /home/alice/.config/laps/admin.key\n"
    "[graph]\n"
    "url = https://graph.example.com/beta\n"
    "token_url = https://login.example.com/tenant/oauth2/v2.0/token\n"
    "client_id = 0000-1111\n"
    "client_secret_file = /home/alice/graph.secret\n"
    "scope = https://graph.example.com/.default\n"
    "ca_file = /tmp/ca.pem\n"
    "timeout = 1s\n";

/* The keys every_key lacks (issue 13's account management, the REST extras). */
static const char every_key_more[] = "[agent]\n"
				     "metrics_file = /var/lib/node_exporter/laps.prom\n"
				     "create_account = yes\n"
				     "account_uid = 990\n"
				     "account_home = /home/x\n"
				     "account_shell = /bin/bash\n"
				     "account_groups = sudo wheel\n"
				     "account_state = disabled\n"
				     "allow_uid0 = yes\n"
				     "[rest]\n"
				     "device_auth_url = https://login.example.org/device\n"
				     "resource = https://escrow.example.org\n"
				     "pin = sha256//AAAA;sha256//BBBB\n"
				     "key_engine = pkcs11\n"
				     "key_uri = pkcs11:object=dev;type=private\n"
				     "budget = 1h\n";

static void
test_every_key(void)
{
	const struct laps_agent_conf *a;
	const struct laps_ldap_conf *l;
	const struct laps_rest_conf *r;
	const struct laps_graph_conf *g;

	reset();
	CU_ASSERT_EQUAL_FATAL(parse(every_key), 0);
	CU_ASSERT_STRING_EQUAL(cfg.path, NAME);
	a = laps_agent_conf(&cfg);
	CU_ASSERT_EQUAL_FATAL(a->n_accounts, 3);
	CU_ASSERT_STRING_EQUAL(a->accounts[0], "root_admin");
	CU_ASSERT_STRING_EQUAL(a->accounts[1], "svc-x");
	CU_ASSERT_STRING_EQUAL(a->accounts[2], "backup$");
	CU_ASSERT_EQUAL(a->method, LAPS_METHOD_PAM);
	CU_ASSERT_STRING_EQUAL(a->root, "/tmp/alt-root");
	CU_ASSERT_STRING_EQUAL(a->state_dir, "/var/lib/laps-test");
	CU_ASSERT_EQUAL(a->password_age, 14 * 86400);
	CU_ASSERT_EQUAL(a->hash, LAPS_HASH_SHA512);
	CU_ASSERT_EQUAL(a->hash_cost, 5000);
	CU_ASSERT_EQUAL(laps_password_conf(&cfg)->mode, LAPS_PWMODE_PASSPHRASE);
	CU_ASSERT_EQUAL(laps_password_conf(&cfg)->length, 32);
	CU_ASSERT_EQUAL(laps_password_conf(&cfg)->complexity, 5);
	CU_ASSERT_EQUAL(laps_password_conf(&cfg)->words, 7);
	CU_ASSERT_STRING_EQUAL(laps_password_conf(&cfg)->separator, "::");
	CU_ASSERT_STRING_EQUAL(laps_escrow_conf(&cfg)->backend, "ldap");
	CU_ASSERT_EQUAL_FATAL(laps_escrow_conf(&cfg)->n_recipients, 2);
	CU_ASSERT_STRING_EQUAL(laps_escrow_conf(&cfg)->recipients[0], "/etc/laps/a.pub");
	CU_ASSERT_STRING_EQUAL(laps_escrow_conf(&cfg)->recipients[1], "/etc/laps/b.pub");
	CU_ASSERT_EQUAL(laps_escrow_conf(&cfg)->history, 0);
	CU_ASSERT_STRING_EQUAL(laps_escrow_conf(&cfg)->device, "ws-42.example.org");
	CU_ASSERT_STRING_EQUAL(laps_file_conf(&cfg)->dir, "/srv/escrow");
	l = laps_ldap_conf(&cfg);
	CU_ASSERT_EQUAL_FATAL(l->n_uri, 2);
	CU_ASSERT_STRING_EQUAL(l->uri[0], "ldaps://127.0.0.1:636");
	CU_ASSERT_STRING_EQUAL(l->uri[1], "ldaps://dc2.example.org");
	CU_ASSERT_EQUAL(l->tls, LAPS_TLS_LDAPS);
	CU_ASSERT_STRING_EQUAL(l->ca_file, "/etc/ssl/ca.pem");
	CU_ASSERT_STRING_EQUAL(l->cert_file, "/etc/laps/client.crt");
	CU_ASSERT_STRING_EQUAL(l->key_file, "/etc/laps/client.key");
	CU_ASSERT_EQUAL(l->bind, LAPS_BIND_EXTERNAL);
	CU_ASSERT_STRING_EQUAL(l->bind_dn, "cn=agent,dc=example,dc=org");
	CU_ASSERT_STRING_EQUAL(l->bind_secret_file, "/etc/laps/bind.secret");
	CU_ASSERT_STRING_EQUAL(l->base, "ou=Hosts, dc=example, dc=org");
	CU_ASSERT_STRING_EQUAL(l->filter,
			       "(&(objectClass=device)(|(cn=%h)(dNSHostName=%f))(x=100%%))");
	CU_ASSERT_STRING_EQUAL(l->dn, "cn=ws-42,ou=Hosts,dc=example,dc=org");
	CU_ASSERT_EQUAL(l->schema, LAPS_SCHEMA_LEGACY);
	CU_ASSERT_EQUAL(l->timeout, 120);
	r = laps_rest_conf(&cfg);
	CU_ASSERT_STRING_EQUAL(r->url, "https://escrow.example.org:8443/v1");
	CU_ASSERT_EQUAL(r->auth, LAPS_REST_AUTH_MTLS);
	CU_ASSERT_STRING_EQUAL(r->token_url, "http://127.0.0.1:9000/token");
	CU_ASSERT_STRING_EQUAL(r->client_id, "ws-42");
	CU_ASSERT_STRING_EQUAL(r->client_secret_file, "/etc/laps/client.secret");
	CU_ASSERT_STRING_EQUAL(r->key_file, "/etc/laps/rest.key");
	CU_ASSERT_STRING_EQUAL(r->cert_file, "/etc/laps/rest.crt");
	CU_ASSERT_STRING_EQUAL(r->ca_file, "/etc/laps/rest-ca.pem");
	CU_ASSERT_STRING_EQUAL(r->bearer_file, "/etc/laps/bearer");
	CU_ASSERT_STRING_EQUAL(r->scope, "laps.write laps.read");
	CU_ASSERT_EQUAL(r->timeout, 45);
	CU_ASSERT_EQUAL(r->retries, 7);
	CU_ASSERT_EQUAL(laps_postauth_conf(&cfg)->delay, 8 * 3600);
	CU_ASSERT_EQUAL(laps_postauth_conf(&cfg)->action, LAPS_POSTAUTH_RESET_LOGOFF);
	CU_ASSERT_STRING_EQUAL(laps_get_conf(&cfg)->key, "/home/alice/.config/laps/admin.key");
	g = laps_graph_conf(&cfg);
	CU_ASSERT_STRING_EQUAL(g->url, "https://graph.example.com/beta");
	CU_ASSERT_STRING_EQUAL(g->token_url, "https://login.example.com/tenant/oauth2/v2.0/token");
	CU_ASSERT_STRING_EQUAL(g->client_id, "0000-1111");
	CU_ASSERT_STRING_EQUAL(g->client_secret_file, "/home/alice/graph.secret");
	CU_ASSERT_STRING_EQUAL(g->scope, "https://graph.example.com/.default");
	CU_ASSERT_STRING_EQUAL(g->ca_file, "/tmp/ca.pem");
	CU_ASSERT_EQUAL(g->timeout, 1);

	/* The remaining keys (a second file: account management, REST extras). */
	CU_ASSERT_EQUAL_FATAL(parse(every_key_more), 0);
	CU_ASSERT_STRING_EQUAL(a->metrics_file, "/var/lib/node_exporter/laps.prom");
	CU_ASSERT_EQUAL(a->create_account, LAPS_YES);
	CU_ASSERT_EQUAL(a->account_uid, 990);
	CU_ASSERT_STRING_EQUAL(a->account_home, "/home/x");
	CU_ASSERT_STRING_EQUAL(a->account_shell, "/bin/bash");
	CU_ASSERT_EQUAL_FATAL(a->n_account_groups, 2);
	CU_ASSERT_STRING_EQUAL(a->account_groups[0], "sudo");
	CU_ASSERT_STRING_EQUAL(a->account_groups[1], "wheel");
	CU_ASSERT_EQUAL(a->account_state, LAPS_ACCOUNT_DISABLED);
	CU_ASSERT_EQUAL(a->allow_uid0, LAPS_YES);
	CU_ASSERT_STRING_EQUAL(r->device_auth_url, "https://login.example.org/device");
	CU_ASSERT_STRING_EQUAL(r->resource, "https://escrow.example.org");
	CU_ASSERT_STRING_EQUAL(r->pin, "sha256//AAAA;sha256//BBBB");
	CU_ASSERT_STRING_EQUAL(r->key_engine, "pkcs11");
	CU_ASSERT_STRING_EQUAL(r->key_uri, "pkcs11:object=dev;type=private");
	CU_ASSERT_EQUAL(r->budget, 3600);
	/* untouched by the second file */
	CU_ASSERT_EQUAL(r->retries, 7);

	/* The agent reads the same file: [laps-get] is another program's. */
	reset_with(&laps_agent_schema);
	CU_ASSERT_EQUAL_FATAL(parse(every_key), 0);
	CU_ASSERT_PTR_NULL(laps_get_conf(&cfg));
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->n_accounts, 3);
	CU_ASSERT_EQUAL(laps_ldap_conf(&cfg)->timeout, 120);
	CU_ASSERT_STRING_EQUAL(laps_graph_conf(&cfg)->client_id, "0000-1111");
	/* So does pam_laps: only the agent's sections are read. */
	reset_with(&pam_schema);
	CU_ASSERT_EQUAL_FATAL(parse(every_key), 0);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->n_accounts, 3);
	CU_ASSERT_EQUAL(laps_postauth_conf(&cfg)->delay, 8 * 3600);
	CU_ASSERT_PTR_NULL(laps_escrow_conf(&cfg));
	CU_ASSERT_PTR_NULL(laps_ldap_conf(&cfg));
}

static void
test_enum_spellings(void)
{
	static const struct {
		const char *text;
		const struct laps_conf_section *sec;
		size_t off;
		int want;
	} cases[] = {
	    {"[agent]\nmethod = shadow\n", &laps_agent_section,
	     offsetof(struct laps_agent_conf, method), LAPS_METHOD_SHADOW},
	    {"[agent]\nhash = yescrypt\n", &laps_agent_section,
	     offsetof(struct laps_agent_conf, hash), LAPS_HASH_YESCRYPT},
	    {"[agent]\naccount_state = keep\n", &laps_agent_section,
	     offsetof(struct laps_agent_conf, account_state), LAPS_ACCOUNT_KEEP},
	    {"[agent]\naccount_state = enabled\n", &laps_agent_section,
	     offsetof(struct laps_agent_conf, account_state), LAPS_ACCOUNT_ENABLED},
	    {"[agent]\ncreate_account = no\n", &laps_agent_section,
	     offsetof(struct laps_agent_conf, create_account), LAPS_NO},
	    {"[password]\nmode = password\n", &laps_password_section,
	     offsetof(struct laps_password_conf, mode), LAPS_PWMODE_PASSWORD},
	    {"[ldap]\ntls = none\n", &laps_ldap_section, offsetof(struct laps_ldap_conf, tls),
	     LAPS_TLS_NONE},
	    {"[ldap]\ntls = starttls\n", &laps_ldap_section, offsetof(struct laps_ldap_conf, tls),
	     LAPS_TLS_STARTTLS},
	    {"[ldap]\nbind = gssapi\n", &laps_ldap_section, offsetof(struct laps_ldap_conf, bind),
	     LAPS_BIND_GSSAPI},
	    {"[ldap]\nbind = simple\n", &laps_ldap_section, offsetof(struct laps_ldap_conf, bind),
	     LAPS_BIND_SIMPLE},
	    {"[ldap]\nschema = mslaps\n", &laps_ldap_section,
	     offsetof(struct laps_ldap_conf, schema), LAPS_SCHEMA_MSLAPS},
	    {"[ldap]\nschema = laps\n", &laps_ldap_section, offsetof(struct laps_ldap_conf, schema),
	     LAPS_SCHEMA_LAPS},
	    {"[rest]\nauth = client_credentials\n", &laps_rest_section,
	     offsetof(struct laps_rest_conf, auth), LAPS_REST_AUTH_CLIENT_SECRET},
	    {"[rest]\nauth = device_code\n", &laps_rest_section,
	     offsetof(struct laps_rest_conf, auth), LAPS_REST_AUTH_DEVICE_CODE},
	    {"[rest]\nauth = private_key_jwt\n", &laps_rest_section,
	     offsetof(struct laps_rest_conf, auth), LAPS_REST_AUTH_PRIVATE_KEY_JWT},
	    {"[rest]\nauth = bearer\n", &laps_rest_section, offsetof(struct laps_rest_conf, auth),
	     LAPS_REST_AUTH_BEARER},
	    {"[post-auth]\naction = reset\n", &laps_postauth_section,
	     offsetof(struct laps_postauth_conf, action), LAPS_POSTAUTH_RESET},
	    {"[post-auth]\naction = reset-reboot\n", &laps_postauth_section,
	     offsetof(struct laps_postauth_conf, action), LAPS_POSTAUTH_RESET_REBOOT},
	};
	size_t i;
	char *sec;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		reset();
		sec = laps_conf_get(&cfg, cases[i].sec);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sec);
		/* Start from a value different from the wanted one. */
		*(int *)(void *)(sec + cases[i].off) = 99;
		CU_ASSERT_EQUAL(parse(cases[i].text), 0);
		CU_ASSERT_EQUAL(*(int *)(void *)(sec + cases[i].off), cases[i].want);
	}
}

static void
test_syntax(void)
{
	reset();
	/* CRLF line ends, blank lines with blanks, trailing blanks, no final newline. */
	CU_ASSERT_EQUAL(parse("\r\n  \t\r\n[password]\r\n\tlength\t=\t24  \r\nwords=4"), 0);
	CU_ASSERT_EQUAL(laps_password_conf(&cfg)->length, 24);
	CU_ASSERT_EQUAL(laps_password_conf(&cfg)->words, 4);
	/* A UTF-8 byte order mark at the start is skipped. */
	CU_ASSERT_EQUAL(parse("\xef\xbb\xbf[password]\nlength = 25\n"), 0);
	CU_ASSERT_EQUAL(laps_password_conf(&cfg)->length, 25);
	/* An empty separator is allowed and means capitalised-and-joined. */
	CU_ASSERT_EQUAL(parse("[password]\nseparator =\n"), 0);
	CU_ASSERT_STRING_EQUAL(laps_password_conf(&cfg)->separator, "");
	/* '#' inside a value is part of it (comments only on their own line). */
	CU_ASSERT_EQUAL(parse("[password]\nseparator = #\n"), 0);
	CU_ASSERT_STRING_EQUAL(laps_password_conf(&cfg)->separator, "#");
	/* A section may be opened again; keys accumulate. */
	CU_ASSERT_EQUAL(parse("[agent]\nhash = sha512\n[password]\nlength = 9\n[agent]\nmethod = "
			      "pam\n"),
			0);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->hash, LAPS_HASH_SHA512);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->method, LAPS_METHOD_PAM);
	/* A list replaces the default, it does not append. */
	CU_ASSERT_EQUAL(parse("[agent]\naccounts = a b\n"), 0);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->n_accounts, 2);
	CU_ASSERT_STRING_EQUAL(laps_agent_conf(&cfg)->accounts[0], "a");
	CU_ASSERT_STRING_EQUAL(laps_agent_conf(&cfg)->accounts[1], "b");
	CU_ASSERT_EQUAL(parse("[agent]\naccounts = c\n"), 0);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->n_accounts, 1);
	CU_ASSERT_STRING_EQUAL(laps_agent_conf(&cfg)->accounts[0], "c");
	CU_ASSERT_PTR_NULL(laps_agent_conf(&cfg)->accounts[1]);
}

static void
test_layering(void)
{
	reset();
	/* A second file overrides only what it sets (laps-get: user then system). */
	CU_ASSERT_EQUAL(laps_conf_parse(&cfg, "one.conf", "[password]\nlength = 30\n", 23), 0);
	CU_ASSERT_EQUAL(parse("[password]\nwords = 4\n"), 0);
	CU_ASSERT_EQUAL(laps_password_conf(&cfg)->length, 30);
	CU_ASSERT_EQUAL(laps_password_conf(&cfg)->words, 4);
	CU_ASSERT_STRING_EQUAL(cfg.path, NAME);
}

static void
test_error_leaves_config_untouched(void)
{
	reset();
	CU_ASSERT_EQUAL(parse("[password]\nlength = 30\n[agent]\naccounts = x\n"), 0);
	CU_ASSERT_EQUAL(parse("[password]\nlength = 40\nseparator = +\n[agent]\naccounts = y "
			      "z\n[escrow]\ndevice = h\nbogus = 1\n"),
			LAPS_ERR_CONFIG);
	CU_ASSERT_EQUAL(laps_password_conf(&cfg)->length, 30);
	CU_ASSERT_STRING_EQUAL(laps_password_conf(&cfg)->separator, "-");
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->n_accounts, 1);
	CU_ASSERT_STRING_EQUAL(laps_agent_conf(&cfg)->accounts[0], "x");
	CU_ASSERT_PTR_NULL(laps_escrow_conf(&cfg)->device);
	CU_ASSERT_STRING_EQUAL(cfg.path, NAME);
}

/*
 * The errors of the old test that name a key of a real section.  Those
 * about the format alone (line and file size, NUL and control bytes, a
 * missing ']', a NULL name) are in test_conf.c with its own table.
 */
static void
test_errors(void)
{
	/* Changed on purpose (2012fcd): the list of known sections is the
	 * schema's; [server] & co. are no section of laps.conf any more. */
	EXPECT_ERR("[agent]\n[bogus]\n", NAME ":2:", "[bogus]", "unknown section");
	EXPECT_ERR("[agent]\n[bogus]\n",
		   "(known: agent, password, post-auth, laps-get, escrow, "
		   "file, ldap, rest, graph)",
		   NULL, NULL);
	EXPECT_ERR_S(&laps_agent_schema, "[agent]\n[bogus]\n",
		     "(known: agent, password, post-auth, escrow, file, ldap, rest, graph, "
		     "laps-get)",
		     NULL, NULL);
	EXPECT_ERR("[agent\n", NAME ":1:", "[agent", "]");
	EXPECT_ERR("[]\n", NAME ":1:", "[]", "unknown section");
	EXPECT_ERR("[agent]\nmethod = pam\nfoo = 1\n", NAME ":3:", "[agent] foo", "unknown key");
	/* A key that exists, but in another section. */
	EXPECT_ERR("[password]\nhash = sha512\n", NAME ":2:", "[password] hash", "unknown key");
	EXPECT_ERR("# c\naccounts = x\n[agent]\n", NAME ":2:", "accounts", "before any [section]");
	EXPECT_ERR("[agent]\n\nhash yescrypt\n", NAME ":3:", "[agent] hash", "missing '='");
	EXPECT_ERR("[agent]\n= yescrypt\n", NAME ":2:", "[agent]", "missing key");
	EXPECT_ERR("[agent]\nhash =\n", NAME ":2:", "[agent] hash", "empty value");
	EXPECT_ERR("[rest]\nauth = mtls\nkey_engine = /usr/lib/evil.so\n",
		   NAME ":3:", "[rest] key_engine", "a-z, 0-9");
	EXPECT_ERR("[agent]\naccounts =   \t\n", NAME ":2:", "[agent] accounts", "empty value");
	EXPECT_ERR("[password]\nlength = 7\n", NAME ":2:", "[password] length", "8..128");
	EXPECT_ERR("[agent]\npassword_age = 59m\n", NAME ":2:", "[agent] password_age",
		   "1h..3650d");
	EXPECT_ERR("[password]\nlength = twenty\n", NAME ":2:", "[password] length",
		   "not a number");
	EXPECT_ERR("[password]\nlength = -8\n", NAME ":2:", "[password] length", "8..128");
	EXPECT_ERR("[agent]\nhash = md5\n", NAME ":2:", "[agent] hash",
		   "allowed: yescrypt, sha512");
	EXPECT_ERR("[agent]\nmethod = Shadow\n", NAME ":2:", "[agent] method",
		   "allowed: shadow, pam");
	EXPECT_ERR("[agent]\naccount_state = locked\n", NAME ":2:", "[agent] account_state",
		   "keep, enabled, disabled");
	EXPECT_ERR("[agent]\nallow_uid0 = true\n", NAME ":2:", "[agent] allow_uid0", "no, yes");
	EXPECT_ERR("[ldap]\ntls = off\n", NAME ":2:", "[ldap] tls", "starttls, ldaps, none");
	EXPECT_ERR("[ldap]\nbind = anonymous\n", NAME ":2:", "[ldap] bind",
		   "simple, external, gssapi");
	EXPECT_ERR("[ldap]\nschema = ad\n", NAME ":2:", "[ldap] schema", "laps, mslaps, legacy");
	EXPECT_ERR("[rest]\nauth = basic\n", NAME ":2:", "[rest] auth",
		   "client_credentials, private_key_jwt, mtls, bearer, device_code");
	EXPECT_ERR("[post-auth]\naction = logoff\n", NAME ":2:", "[post-auth] action",
		   "reset, reset-logoff, reset-reboot");
	EXPECT_ERR("[password]\nmode = pin\n", NAME ":2:", "[password] mode",
		   "password, passphrase");
	EXPECT_ERR("[agent]\nhash = sha512\n# again\nhash = yescrypt\n", NAME ":4:", "[agent] hash",
		   "first set on line 2");
	/* Duplicate across two openings of the same section. */
	EXPECT_ERR("[ldap]\nuri = ldap://a\n[agent]\n[ldap]\nuri = ldap://b\n",
		   NAME ":5:", "[ldap] uri", "line 2");
}

static void
test_value_types(void)
{
	char line[128];

	/* paths */
	EXPECT_ERR("[agent]\nstate_dir = var/lib/laps\n", NAME ":2:", "[agent] state_dir",
		   "absolute");
	EXPECT_ERR("[escrow]\nrecipients = /a.pub b.pub\n", NAME ":2:", "[escrow] recipients",
		   "'b.pub'");
	EXPECT_ERR("[escrow]\nrecipients = /a.pub /a.pub\n", NAME ":2:", "[escrow] recipients",
		   "listed twice");
	EXPECT_ERR("[laps-get]\nkey = ~/.config/laps/admin.key\n", NAME ":2:", "[laps-get] key",
		   "absolute");
	/* URLs */
	EXPECT_OK("[rest]\nurl = https://h\n");
	EXPECT_OK("[rest]\ntoken_url = http://127.0.0.1\n");
	EXPECT_OK("[rest]\ntoken_url = http://127.0.0.1:8080/v1\n");
	/* [rest] url: one rule (https:// only) and one message, whatever the host */
	EXPECT_ERR("[rest]\nurl = http://localhost\n", NAME ":2:", "[rest] url",
		   "TLS is never optional");
	EXPECT_ERR("[rest]\nurl = http://127.0.0.1\n", NAME ":2:", "[rest] url",
		   "TLS is never optional");
	EXPECT_ERR("[rest]\nurl = http://[::1]:8080/v1\n", NAME ":2:", "[rest] url",
		   "TLS is never optional");
	EXPECT_OK("[graph]\ntoken_url = http://[::1]:9000/token\n");
	EXPECT_ERR("[rest]\nurl = http://escrow.example.org/v1\n", NAME ":2:", "[rest] url",
		   "https://");
	EXPECT_ERR("[rest]\nurl = http://127.0.0.1.evil.example/\n", NAME ":2:", "[rest] url",
		   "https://");
	EXPECT_ERR("[rest]\nurl = ftp://h/\n", NAME ":2:", "[rest] url", "https://");
	EXPECT_ERR("[rest]\nurl = https://\n", NAME ":2:", "[rest] url", "without a host");
	EXPECT_ERR("[rest]\nurl = https:///x\n", NAME ":2:", "[rest] url", "without a host");
	EXPECT_ERR("[graph]\nurl = https://u:p@h/\n", NAME ":2:", "[graph] url", "credentials");
	EXPECT_ERR("[rest]\ntoken_url = https://h/a b\n", NAME ":2:", "[rest] token_url", "blanks");
	/* LDAP URIs */
	EXPECT_OK("[ldap]\nuri = ldap://a ldaps://b:636 ldapi://%2Frun%2Fslapd.sock\n");
	EXPECT_ERR("[ldap]\nuri = ldap://a http://b\n", NAME ":2:", "[ldap] uri", "'http://b'");
	EXPECT_ERR("[ldap]\nuri = ldap://\n", NAME ":2:", "[ldap] uri", "without a host");
	EXPECT_ERR("[ldap]\nuri = ldap://u:p@h\n", NAME ":2:", "[ldap] uri", "credentials");
	/* accounts like useradd */
	EXPECT_OK("[agent]\naccounts = _a a0 a-b a_b a$\n");
	EXPECT_ERR("[agent]\naccounts = Admin\n", NAME ":2:", "[agent] accounts", "'Admin'");
	EXPECT_ERR("[agent]\naccounts = ok 1abc\n", NAME ":2:", "[agent] accounts", "'1abc'");
	EXPECT_ERR("[agent]\naccounts = a$b\n", NAME ":2:", "[agent] accounts", "'a$b'");
	EXPECT_ERR("[agent]\naccounts = -a\n", NAME ":2:", "[agent] accounts", "'-a'");
	EXPECT_ERR("[agent]\naccounts = a.b\n", NAME ":2:", "[agent] accounts", "'a.b'");
	EXPECT_OK("[agent]\naccounts = abcdefghijklmnopqrstuvwxyz012345\n");
	EXPECT_ERR("[agent]\naccounts = abcdefghijklmnopqrstuvwxyz0123456\n",
		   NAME ":2:", "[agent] accounts", "longer than 32");
	EXPECT_ERR("[agent]\naccounts = a b a\n", NAME ":2:", "[agent] accounts", "listed twice");
	/* groups follow the same rule */
	EXPECT_ERR("[agent]\naccount_groups = sudo Wheel\n", NAME ":2:", "[agent] account_groups",
		   "'Wheel'");
	/* list length: 16 fine, 17 not */
	EXPECT_OK("[agent]\naccounts = a b c d e f g h i j k l m n o p\n");
	EXPECT_ERR("[agent]\naccounts = a b c d e f g h i j k l m n o p q\n",
		   NAME ":2:", "[agent] accounts", "at most 16");
	/* separator */
	EXPECT_OK("[password]\nseparator = .-_+\n");
	EXPECT_ERR("[password]\nseparator = -----\n", NAME ":2:", "[password] separator",
		   "at most 4");
	EXPECT_ERR("[password]\nseparator = a b\n", NAME ":2:", "[password] separator",
		   "printable");
	EXPECT_ERR("[password]\nseparator = \xc3\xa9\n", NAME ":2:", "[password] separator",
		   "printable");
	/* filter template */
	EXPECT_ERR("[ldap]\nfilter = (cn=%u)\n", NAME ":2:", "[ldap] filter", "%h");
	EXPECT_ERR("[ldap]\nfilter = (cn=%h\n", NAME ":2:", "[ldap] filter", "parenthes");
	EXPECT_ERR("[ldap]\nfilter = (cn=%\n", NAME ":2:", "[ldap] filter", "escape");
	EXPECT_ERR("[ldap]\nfilter = cn=%h)(\n", NAME ":2:", "[ldap] filter", "parenthes");
	/* backend names and devices */
	EXPECT_ERR("[escrow]\nbackend = LDAP\n", NAME ":2:", "[escrow] backend", "a-z");
	EXPECT_ERR("[escrow]\ndevice = -ws\n", NAME ":2:", "[escrow] device", "host name");
	EXPECT_ERR("[escrow]\ndevice = ws..example\n", NAME ":2:", "[escrow] device", "host name");
	EXPECT_ERR("[escrow]\ndevice = ws/1\n", NAME ":2:", "[escrow] device", "host name");
	EXPECT_ERR("[escrow]\ndevice = a-very-long-label-that-goes-on-and-on-for-more-than-"
		   "sixty-three-chars.example\n",
		   NAME ":2:", "[escrow] device", "63");
	/* An over-long value is echoed shortened. */
	snprintf(line, sizeof line, "[agent]\nhash = %0100d\n", 1);
	EXPECT_ERR(line, NAME ":2:", "...", NULL);
}

/* In a file: an overflowing or malformed duration names the key. */
static void
test_durations(void)
{
	EXPECT_ERR("[post-auth]\ndelay = 106751991167301d\n", NAME ":2:", "[post-auth] delay",
		   "not a duration");
	EXPECT_ERR("[ldap]\ntimeout = 10q\n", NAME ":2:", "[ldap] timeout", "1s..5m");
}

struct range_case {
	const struct laps_conf_schema *schema;
	const struct laps_conf_section *sec;
	const char *key, *lo, *hi, *below, *above; /* below NULL: none */
	size_t off;
	int kind; /* 0 unsigned, 1 int64 */
	long long lo_v, hi_v;
};

/* Each bound of each number key of cases, and one past it. */
static void
check_ranges(const struct range_case *cases, size_t n)
{
	char text[256], key[64];
	long long got;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct range_case *c = &cases[i];
		const char *vals[2] = {c->lo, c->hi};
		long long want[2] = {c->lo_v, c->hi_v};
		char *sec;
		int j;

		snprintf(key, sizeof key, "[%s] %s", c->sec->name, c->key);
		for (j = 0; j < 2; j++) {
			reset_with(c->schema);
			snprintf(text, sizeof text, "[%s]\n%s = %s\n", c->sec->name, c->key,
				 vals[j]);
			CU_ASSERT_EQUAL(parse(text), 0);
			sec = laps_conf_get(&cfg, c->sec);
			CU_ASSERT_PTR_NOT_NULL_FATAL(sec);
			got = c->kind == 0 ? (long long)*(unsigned *)(void *)(sec + c->off)
					   : (long long)*(int64_t *)(void *)(sec + c->off);
			if (got != want[j])
				fprintf(stderr, "\n  %s = %s gave %lld\n", key, vals[j], got);
			CU_ASSERT_EQUAL(got, want[j]);
		}
		if (c->below != NULL) {
			snprintf(text, sizeof text, "[%s]\n%s = %s\n", c->sec->name, c->key,
				 c->below);
			EXPECT_ERR_S(c->schema, text, NAME ":2:", key, "out of range");
		}
		snprintf(text, sizeof text, "[%s]\n%s = %s\n", c->sec->name, c->key, c->above);
		EXPECT_ERR_S(c->schema, text, NAME ":2:", key, "out of range");
	}
}

#define U(sch, sec, st, k, f, lo, hi, below, above)                                                \
	{                                                                                          \
		sch, sec, k, #lo, #hi, below, above, offsetof(st, f), 0, lo, hi                    \
	}
#define D(sch, sec, st, k, f, lo, hi, below, above, lov, hiv)                                      \
	{                                                                                          \
		sch, sec, k, lo, hi, below, above, offsetof(st, f), 1, lov, hiv                    \
	}

static void
test_ranges(void)
{
#define G &laps_get_schema
	static const struct range_case cases[] = {
	    U(G, &laps_password_section, struct laps_password_conf, "length", length, 8, 128, "7",
	      "129"),
	    U(G, &laps_password_section, struct laps_password_conf, "complexity", complexity, 1, 5,
	      "0", "6"),
	    U(G, &laps_password_section, struct laps_password_conf, "words", words, 3, 10, "2",
	      "11"),
	    U(G, &laps_escrow_section, struct laps_escrow_conf, "history", history, 0, 100, NULL,
	      "101"),
	    U(G, &laps_rest_section, struct laps_rest_conf, "retries", retries, 0, 10, NULL, "11"),
	    U(G, &laps_agent_section, struct laps_agent_conf, "hash_cost", hash_cost, 0, 999999999,
	      NULL, "1000000000"),
	    U(G, &laps_agent_section, struct laps_agent_conf, "account_uid", account_uid, 0,
	      4294967294, NULL, "4294967295"),
	    D(G, &laps_agent_section, struct laps_agent_conf, "password_age", password_age, "1h",
	      "3650d", "3599", "3651d", 3600, 3650LL * 86400),
	    D(G, &laps_ldap_section, struct laps_ldap_conf, "timeout", timeout, "1s", "300s", "0",
	      "301", 1, 300),
	    D(G, &laps_rest_section, struct laps_rest_conf, "timeout", timeout, "1", "5m", "0s",
	      "301s", 1, 300),
	    D(G, &laps_rest_section, struct laps_rest_conf, "budget", budget, "1s", "1h", "0",
	      "3601", 1, 3600),
	    D(G, &laps_graph_section, struct laps_graph_conf, "timeout", timeout, "1s", "300", "0m",
	      "6m", 1, 300),
	    D(G, &laps_postauth_section, struct laps_postauth_conf, "delay", delay, "0", "30d",
	      NULL, "2592001", 0, 30LL * 86400),
	};
#undef G

	check_ranges(cases, sizeof cases / sizeof cases[0]);
}

static void
test_free_reinit(void)
{
	struct laps_conf c;

	memset(&c, 0, sizeof c);
	laps_conf_free(&c); /* zeroed struct: nothing to free */
	laps_conf_free(NULL);
	CU_ASSERT_EQUAL(laps_conf_init(NULL, &laps_get_schema), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL_FATAL(laps_conf_init(&c, &laps_get_schema), 0);
	CU_ASSERT_EQUAL(laps_conf_parse(&c, NAME, every_key, strlen(every_key)), 0);
	CU_ASSERT_EQUAL(laps_conf_parse(&c, NAME, every_key_more, strlen(every_key_more)), 0);
	laps_conf_free(&c);
	CU_ASSERT_PTR_NULL(c.path);
	CU_ASSERT_PTR_NULL(laps_agent_conf(&c));
	CU_ASSERT_EQUAL(c.n, 0);
	CU_ASSERT_EQUAL_FATAL(laps_conf_init(&c, &laps_get_schema), 0);
	CU_ASSERT_EQUAL(laps_password_conf(&c)->length, 20);
	laps_conf_free(&c);
}

static void
test_names(void)
{
	CU_ASSERT_STRING_EQUAL(laps_method_name(LAPS_METHOD_SHADOW), "shadow");
	CU_ASSERT_STRING_EQUAL(laps_method_name(LAPS_METHOD_PAM), "pam");
	CU_ASSERT_STRING_EQUAL(laps_method_name((enum laps_method)7), "unknown");
	CU_ASSERT_STRING_EQUAL(laps_hash_name(LAPS_HASH_YESCRYPT), "yescrypt");
	CU_ASSERT_STRING_EQUAL(laps_hash_name(LAPS_HASH_SHA512), "sha512");
	CU_ASSERT_STRING_EQUAL(laps_hash_name((enum laps_hash) - 1), "unknown");
	CU_ASSERT_STRING_EQUAL(laps_ldap_schema_name(LAPS_SCHEMA_LAPS), "laps");
	CU_ASSERT_STRING_EQUAL(laps_ldap_schema_name(LAPS_SCHEMA_MSLAPS), "mslaps");
	CU_ASSERT_STRING_EQUAL(laps_ldap_schema_name(LAPS_SCHEMA_LEGACY), "legacy");
	CU_ASSERT_STRING_EQUAL(laps_postauth_action_name(LAPS_POSTAUTH_RESET), "reset");
	CU_ASSERT_STRING_EQUAL(laps_postauth_action_name(LAPS_POSTAUTH_RESET_LOGOFF),
			       "reset-logoff");
	CU_ASSERT_STRING_EQUAL(laps_postauth_action_name(LAPS_POSTAUTH_RESET_REBOOT),
			       "reset-reboot");
	CU_ASSERT_STRING_EQUAL(laps_postauth_action_name((enum laps_postauth_action)3), "unknown");
	CU_ASSERT_STRING_EQUAL(laps_pwmode_name(LAPS_PWMODE_PASSPHRASE), "passphrase");
	CU_ASSERT_STRING_EQUAL(laps_ldap_tls_name(LAPS_TLS_NONE), "none");
	CU_ASSERT_STRING_EQUAL(laps_ldap_bind_name(LAPS_BIND_GSSAPI), "gssapi");
	CU_ASSERT_STRING_EQUAL(laps_rest_auth_name(LAPS_REST_AUTH_PRIVATE_KEY_JWT),
			       "private_key_jwt");
	CU_ASSERT_STRING_EQUAL(laps_account_state_name(LAPS_ACCOUNT_DISABLED), "disabled");
	CU_ASSERT_STRING_EQUAL(laps_account_state_name((enum laps_account_state)3), "unknown");
	CU_ASSERT_STRING_EQUAL(laps_cert_name_name(LAPS_CERT_NAME_SAN), "san");
	CU_ASSERT_STRING_EQUAL(laps_cert_name_name((enum laps_cert_name)2), "unknown");
}

/* ------------------------------------------------------------------ */
/* Each program's file holds its own sections                         */

/* Changed on purpose in 2012fcd: each program's schema has only its own
 * sections (one struct with every section accepted them all in every
 * file). */
static void
test_schemas(void)
{
	static const char *const server_sections[] = {
	    "[server]\nthreads = 4\n", "[store]\nhistory_size = 10\n", "[oidc]\nleeway = 60s\n",
	    "[authz]\ncert_name = cn\n", "[limits]\nrate = 20\n"};
	static const char *const laps_conf_sections[] = {"[agent]\naccounts = lapsadmin\n",
							 "[password]\nlength = 20\n",
							 "[post-auth]\ndelay = 0\n",
							 "[escrow]\nbackend = file\n",
							 "[file]\ndir = /x\n",
							 "[ldap]\ntimeout = 10\n",
							 "[rest]\nretries = 3\n",
							 "[graph]\ntimeout = 10\n",
							 "[laps-get]\nkey = /k\n"};
	size_t i;

	/* laps.conf (the agent, laps-get) refuses laps-escrowd's sections ... */
	for (i = 0; i < sizeof server_sections / sizeof server_sections[0]; i++) {
		EXPECT_OK_S(&laps_escrowd_schema, server_sections[i]);
		EXPECT_ERR_S(&laps_agent_schema, server_sections[i], NAME ":1:", "unknown section",
			     "known: agent,");
		EXPECT_ERR_S(&laps_get_schema, server_sections[i], NAME ":1:", "unknown section",
			     NULL);
	}
	/* ... and laps-escrowd.conf the agent's, the backends' and laps-get's. */
	for (i = 0; i < sizeof laps_conf_sections / sizeof laps_conf_sections[0]; i++) {
		EXPECT_OK_S(&laps_agent_schema, laps_conf_sections[i]);
		EXPECT_OK_S(&laps_get_schema, laps_conf_sections[i]);
		EXPECT_ERR_S(&laps_escrowd_schema, laps_conf_sections[i],
			     NAME ":1:", "unknown section",
			     "(known: server, store, oidc, authz, limits, console, est, policy, notify)");
	}

	/* [laps-get] is another program's section in the agent's laps.conf:
	 * not interpreted (laps-get checks it), but not refused either. */
	reset_with(&laps_agent_schema);
	CU_ASSERT_EQUAL(parse("[laps-get]\nkey = relative/admin.key\nno_such_key = 1\n"
			      "[agent]\naccounts = a\n"),
			0);
	CU_ASSERT_PTR_NULL(laps_get_conf(&cfg));
	CU_ASSERT_STRING_EQUAL(laps_agent_conf(&cfg)->accounts[0], "a");
	EXPECT_ERR_S(&laps_agent_schema, "[laps-get]\nkey\n", NAME ":2:", "[laps-get] key",
		     "missing '='");
	/* laps-get checks it. */
	EXPECT_ERR("[laps-get]\nkey = relative/admin.key\n", NAME ":2:", "[laps-get] key",
		   "absolute");
	EXPECT_ERR("[laps-get]\nno_such_key = 1\n", NAME ":2:", "[laps-get] no_such_key",
		   "unknown key");
}

/* Changed on purpose in 2012fcd: pam_laps reads only the agent's sections
 * and skips the others (the agent's check-config validates them); what it
 * reads is checked as before. */
static void
test_pam_schema(void)
{
	reset_with(&pam_schema);
	CU_ASSERT_EQUAL(cfg.n, 3);
	/* Sections it does not own, even with values the agent would refuse, and
	 * laps-escrowd's: skipped. */
	CU_ASSERT_EQUAL(parse("[escrow]\nbackend = NoSuch\nrecipients = relative\n"
			      "[ldap]\ntls = off\nbogus = 1\n"
			      "[rest]\nurl = http://escrow.example.org/\n"
			      "[server]\nthreads = 0\n"
			      "[some-future-section]\nk = v\n"
			      "[agent]\naccounts = adm1 adm2\nstate_dir = /run/laps\n"
			      "[post-auth]\ndelay = 1h\n"),
			0);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->n_accounts, 2);
	CU_ASSERT_STRING_EQUAL(laps_agent_conf(&cfg)->state_dir, "/run/laps");
	CU_ASSERT_EQUAL(laps_postauth_conf(&cfg)->delay, 3600);
	CU_ASSERT_PTR_NULL(laps_escrow_conf(&cfg));
	CU_ASSERT_EQUAL(laps_agent_conf_validate_accounts(&cfg), 0);
	/* The agent refuses the same file. */
	EXPECT_ERR_S(&laps_agent_schema, "[escrow]\nbackend = NoSuch\n",
		     NAME ":2:", "[escrow] backend", "a-z");
	EXPECT_ERR_S(&laps_agent_schema, "[server]\nthreads = 0\n", NAME ":1:", "[server]",
		     "unknown section");
	/* Its own sections are checked as ever. */
	EXPECT_ERR_S(&pam_schema, "[ldap]\nx = y\n[agent]\naccounts = Root\n",
		     NAME ":4:", "[agent] accounts", "'Root'");
	EXPECT_ERR_S(&pam_schema, "[agent]\nbogus = 1\n", NAME ":2:", "[agent] bogus",
		     "unknown key");
	EXPECT_ERR_S(&pam_schema, "[post-auth]\ndelay = 31d\n", NAME ":2:", "[post-auth] delay",
		     "out of range");
	EXPECT_ERR_S(&pam_schema, "[agent]\nstate_dir = relative\n",
		     NAME ":2:", "[agent] state_dir", "absolute");
	/* A line must still have the key = value shape, a header be a word. */
	EXPECT_ERR_S(&pam_schema, "[ldap]\nnot a key value line\n", NAME ":2:", "missing '='",
		     "[ldap]");
	EXPECT_ERR_S(&pam_schema, "[]\n", NAME ":1:", "unknown section", NULL);
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */

/* Parse text into a fresh config of schema and run check on it (the check
 * and schema come together, as USE_AGENT ... below). */
static int
validate_text(const struct laps_conf_schema *schema, int (*check)(const struct laps_conf *),
	      const char *text)
{
	int rc;

	reset_with(schema);
	rc = parse(text);
	if (rc != 0) {
		fprintf(stderr, "\n  parse failed: %s\n", laps_errdetail());
		return LAPS_ERR_INTERNAL;
	}
	laps_clearerr();
	return check(&cfg);
}

/* The old LAPS_USE_* purposes, as each program now validates. */
static int
use_agent(const struct laps_conf *c)
{
	return laps_agent_validate(c);
}

static int
use_get(const struct laps_conf *c)
{
	return laps_backend_conf_validate(c, LAPS_ROLE_ADMIN);
}

/* laps-get --source graph: the backend replaced before validation (laps-get/main.c). */
static int
use_get_graph(const struct laps_conf *c)
{
	int rc;

	if ((rc = laps_conf_set_string(&laps_escrow_conf(c)->backend, "graph")) != 0)
		return rc;
	return laps_backend_conf_validate(c, LAPS_ROLE_ADMIN);
}

static int
use_pam(const struct laps_conf *c)
{
	return laps_agent_conf_validate_accounts(c);
}

static int
use_server(const struct laps_conf *c)
{
	return laps_escrowd_conf_validate(c);
}

#define USE_AGENT &laps_agent_schema, use_agent
#define USE_GET &laps_get_schema, use_get
#define USE_GET_GRAPH &laps_get_schema, use_get_graph
#define USE_PAM &pam_schema, use_pam
#define USE_SERVER &laps_escrowd_schema, use_server

#define V_OK(text, use) CU_ASSERT_EQUAL(validate_text(use, text), 0)
#define V_ERR(text, use, n1, n2)                                                                   \
	do {                                                                                       \
		CU_ASSERT_EQUAL(validate_text(use, text), LAPS_ERR_CONFIG);                        \
		CU_ASSERT(detail_has(NAME));                                                       \
		CU_ASSERT(detail_has(n1));                                                         \
		if ((n2) != NULL)                                                                  \
			CU_ASSERT(detail_has((const char *)(n2)));                                 \
	} while (0)

#define RCP "[escrow]\nrecipients = /etc/laps/a.pub\n"
#define LDAPB "[escrow]\nbackend = ldap\nrecipients = /r\n[ldap]\nuri = ldap://h\n"
#define LDAPOK LDAPB "bind = gssapi\n"
#define RESTOK "[escrow]\nbackend = rest\nrecipients = /r\n[rest]\nurl = https://h/v1\n"

static void
test_validate_agent(void)
{
	struct laps_conf other;

	reset_with(&laps_agent_schema);
	/* The defaults lack recipients. */
	CU_ASSERT_EQUAL(laps_agent_validate(&cfg), LAPS_ERR_CONFIG);
	CU_ASSERT(detail_has("(defaults)"));
	CU_ASSERT(detail_has("[escrow] recipients"));
	CU_ASSERT_EQUAL(laps_agent_validate(NULL), LAPS_ERR_INVALID);
	/* Adapted: no "use" argument any more; a configuration of another
	 * program's schema is the caller's error the old bad use was. */
	CU_ASSERT_FATAL(laps_conf_init(&other, &laps_escrowd_schema) == 0);
	CU_ASSERT_EQUAL(laps_agent_validate(&other), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_agent_conf_validate_accounts(&other), LAPS_ERR_INVALID);
	laps_conf_free(&other);

	V_OK(RCP, USE_AGENT);
	V_ERR("[escrow]\nbackend = nosuch\nrecipients = /r\n", USE_AGENT, "[escrow] backend",
	      "nosuch");
	/* a misspelt backend: the agent lists only those it can use */
	V_ERR("[escrow]\nbackend = ldpa\nrecipients = /r\n", USE_AGENT, "[escrow] backend",
	      "file, ldap, rest");
	CU_ASSERT(!detail_has("graph"));
	V_ERR("[escrow]\nbackend = ldpa\n", USE_GET, "[escrow] backend", "graph");
	/* graph is a read-only source: laps-get may use it, the agent may not */
#define GRAPHOK "[graph]\ntoken_url = https://t/\nclient_id = c\nclient_secret_file = /s\n"
	V_ERR("[escrow]\nbackend = graph\nrecipients = /r\n" GRAPHOK, USE_AGENT, "[escrow] backend",
	      "read-only");
	V_OK("[escrow]\nbackend = graph\n" GRAPHOK, USE_GET);
	V_ERR("[escrow]\nbackend = graph\n", USE_GET, "[graph] token_url", NULL);
	/* hash_cost depends on hash */
	V_OK(RCP "[agent]\nhash_cost = 1\n", USE_AGENT);
	V_OK(RCP "[agent]\nhash_cost = 11\n", USE_AGENT);
	V_ERR(RCP "[agent]\nhash_cost = 12\n", USE_AGENT, "[agent] hash_cost", "1..11");
	V_ERR(RCP "[agent]\nhash = sha512\nhash_cost = 999\n", USE_AGENT, "[agent] hash_cost",
	      "1000..999999999");
	V_OK(RCP "[agent]\nhash = sha512\nhash_cost = 1000\n", USE_AGENT);
	V_OK(RCP "[agent]\nhash = sha512\nhash_cost = 999999999\n", USE_AGENT);
	V_OK(RCP "[agent]\nhash = sha512\n", USE_AGENT);

	/* account management (issue 13) */
	V_OK(RCP
	     "[agent]\ncreate_account = yes\naccount_uid = 990\naccount_home = /home/x\n"
	     "account_shell = /bin/bash\naccount_groups = sudo wheel\naccount_state = disabled\n",
	     USE_AGENT);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->create_account, LAPS_YES);
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->account_uid, 990);
	CU_ASSERT_STRING_EQUAL(laps_agent_conf(&cfg)->account_home, "/home/x");
	CU_ASSERT_STRING_EQUAL(laps_agent_conf(&cfg)->account_shell, "/bin/bash");
	CU_ASSERT_EQUAL_FATAL(laps_agent_conf(&cfg)->n_account_groups, 2);
	CU_ASSERT_STRING_EQUAL(laps_agent_conf(&cfg)->account_groups[1], "wheel");
	CU_ASSERT_EQUAL(laps_agent_conf(&cfg)->account_state, LAPS_ACCOUNT_DISABLED);
	V_ERR(RCP "[agent]\naccount_uid = 990\n", USE_AGENT, "[agent] create_account",
	      "only with create_account = yes");
	V_ERR(RCP "[agent]\ncreate_account = yes\naccount_uid = 0\n", USE_AGENT,
	      "[agent] account_uid", "allow_uid0");
	V_OK(RCP "[agent]\ncreate_account = yes\naccount_uid = 0\nallow_uid0 = yes\n", USE_AGENT);
	V_ERR(RCP "[agent]\naccounts = a b\ncreate_account = yes\naccount_uid = 990\n", USE_AGENT,
	      "[agent] account_uid", "exactly one account");
	/* recipients: optional only where the backend stores clear text */
	V_OK("[escrow]\nbackend = ldap\n[ldap]\nuri = ldap://h\nbind = gssapi\ndn = cn=x\n"
	     "schema = mslaps\n",
	     USE_AGENT);
	V_OK("[escrow]\nbackend = ldap\n[ldap]\nuri = ldap://h\nbind = gssapi\ndn = cn=x\n"
	     "schema = legacy\n",
	     USE_AGENT);
	V_ERR("[escrow]\nbackend = ldap\n[ldap]\nuri = ldap://h\nbind = gssapi\ndn = cn=x\n",
	      USE_AGENT, "[escrow] recipients", "mslaps or legacy");
	V_ERR("[escrow]\nbackend = file\n", USE_AGENT, "[escrow] recipients", "required");

	/* ldap */
	V_ERR("[escrow]\nbackend = ldap\nrecipients = /r\n", USE_AGENT, "[ldap] uri", "required");
	V_ERR(LDAPOK, USE_AGENT, "[ldap] dn", "base and filter");
	V_ERR(LDAPOK "base = dc=x\n", USE_AGENT, "[ldap] dn", "base and filter");
	V_OK(LDAPOK "base = dc=x\nfilter = (cn=%h)\n", USE_AGENT);
	V_OK(LDAPOK "dn = cn=h,dc=x\n", USE_AGENT);
	V_ERR(LDAPB "dn = cn=h\nbind = simple\n", USE_AGENT, "[ldap] bind_dn", "simple");
	V_ERR("[escrow]\nbackend = ldap\nrecipients = /r\n[ldap]\nuri = ldap://h\ndn = x\n",
	      USE_AGENT, "[ldap] bind_dn", "simple");
	V_ERR(LDAPB "dn = cn=h\nbind = simple\nbind_dn = cn=a\n", USE_AGENT,
	      "[ldap] bind_secret_file", "simple");
	V_OK(LDAPB "dn = cn=h\nbind = simple\nbind_dn = cn=a\nbind_secret_file = /s\n", USE_AGENT);
	V_ERR(LDAPOK "dn = cn=h\ntls = ldaps\n", USE_AGENT, "[ldap] uri", "ldaps");
	V_ERR("[escrow]\nbackend = ldap\nrecipients = /r\n[ldap]\nuri = ldaps://h\nbind = "
	      "gssapi\ndn = x\n",
	      USE_AGENT, "[ldap] tls", "ldaps");
	V_OK("[escrow]\nbackend = ldap\nrecipients = /r\n[ldap]\nuri = ldaps://h\ntls = "
	     "ldaps\nbind = gssapi\ndn = x\n",
	     USE_AGENT);
	V_OK(LDAPOK "dn = cn=h\ntls = none\n", USE_AGENT);
	V_ERR(LDAPOK "dn = cn=h\ncert_file = /c\n", USE_AGENT, "[ldap] key_file", "together");
	V_ERR(LDAPOK "dn = cn=h\nkey_file = /k\n", USE_AGENT, "[ldap] cert_file", "together");
	V_OK(LDAPB "dn = cn=h\nbind = external\ncert_file = /c\nkey_file = /k\n", USE_AGENT);

	/* rest */
	V_ERR("[escrow]\nbackend = rest\nrecipients = /r\n", USE_AGENT, "[rest] url", "required");
	V_ERR(RESTOK, USE_AGENT, "[rest] token_url", "OAuth2");
	V_ERR(RESTOK "token_url = https://t/\n", USE_AGENT, "[rest] client_id", "OAuth2");
	V_ERR(RESTOK "token_url = https://t/\nclient_id = c\n", USE_AGENT,
	      "[rest] client_secret_file", "client_secret");
	V_OK(RESTOK "token_url = https://t/\nclient_id = c\nclient_secret_file = /s\n", USE_AGENT);
	V_ERR(RESTOK "auth = private_key_jwt\ntoken_url = https://t/\nclient_id = c\n", USE_AGENT,
	      "[rest] key_file", "private_key_jwt");
	V_OK(RESTOK "auth = private_key_jwt\ntoken_url = https://t/\nclient_id = c\nkey_file = "
		    "/k\n",
	     USE_AGENT);
	V_ERR(RESTOK "auth = mtls\nkey_file = /k\n", USE_AGENT, "[rest] cert_file", "mtls");
	V_ERR(RESTOK "auth = mtls\ncert_file = /c\n", USE_AGENT, "[rest] key_file", "mtls");
	V_OK(RESTOK "auth = mtls\ncert_file = /c\nkey_file = /k\n", USE_AGENT);
	/* an engine-held key: key_uri and key_engine together, instead of key_file */
#define ENG "auth = mtls\ncert_file = /c\n"
#define URI "key_uri = pkcs11:object=dev;type=private\n"
	V_OK(RESTOK ENG "key_engine = pkcs11\n" URI, USE_AGENT);
	V_ERR(RESTOK ENG URI, USE_AGENT, "[rest] key_uri", "needs key_engine");
	V_ERR(RESTOK ENG "key_engine = pkcs11\n", USE_AGENT, "[rest] key_engine", "needs key_uri");
	V_ERR(RESTOK ENG "key_engine = pkcs11\nkey_file = /k\n" URI, USE_AGENT, "[rest] key_uri",
	      "exclusive");
	V_ERR(RESTOK "auth = bearer\nbearer_file = /b\nkey_engine = pkcs11\n" URI, USE_AGENT,
	      "[rest] key_uri", "auth = mtls");
	V_ERR(RESTOK "auth = mtls\nkey_engine = pkcs11\n" URI, USE_AGENT, "[rest] cert_file",
	      "mtls");
	/* key_store: the TPM-wrapped blob is key_file, for mtls or private_key_jwt */
	V_OK(RESTOK "auth = mtls\ncert_file = /c\nkey_file = /k\nkey_store = tpm\n", USE_AGENT);
	V_OK(RESTOK "auth = mtls\ncert_file = /c\nkey_file = /k\nkey_store = auto\n", USE_AGENT);
	V_OK(RESTOK "auth = private_key_jwt\ntoken_url = https://t/\nclient_id = c\nkey_file = "
		    "/k\nkey_store = tpm\n",
	     USE_AGENT);
	V_ERR(RESTOK ENG "key_engine = pkcs11\n" URI "key_store = tpm\n", USE_AGENT,
	      "[rest] key_store", "must be file");
	V_ERR(RESTOK "auth = bearer\nbearer_file = /b\nkey_store = tpm\n", USE_AGENT,
	      "[rest] key_store", "mtls or private_key_jwt");
#undef URI
#undef ENG
	V_ERR(RESTOK "auth = bearer\n", USE_AGENT, "[rest] bearer_file", "bearer");
	V_OK(RESTOK "auth = bearer\nbearer_file = /b\n", USE_AGENT);
	/* device_code is an administrator's sign-in: laps-get only */
#define DEV "auth = device_code\ntoken_url = https://t/\nclient_id = c\n"
	V_ERR(RESTOK DEV "device_auth_url = https://d/\n", USE_AGENT, "[rest] auth",
	      "laps-get only");
	V_OK(RESTOK DEV "device_auth_url = https://d/\n", USE_GET);
	V_ERR(RESTOK DEV, USE_GET, "[rest] device_auth_url", "device_code");
#undef DEV
}

static void
test_validate_other(void)
{
	/* laps-get needs the backend's keys but no recipients. */
	V_OK("", USE_GET);
	V_ERR("[escrow]\nbackend = ldap\n", USE_GET, "[ldap] uri", NULL);
	V_ERR("[escrow]\nbackend = ldap\n[ldap]\nuri = ldap://h\nbind = gssapi\n", USE_GET,
	      "[ldap] base", "required");
	V_OK("[escrow]\nbackend = ldap\n[ldap]\nuri = ldap://h\nbind = gssapi\nbase = dc=x\n",
	     USE_GET);
	V_ERR("[escrow]\nbackend = rest\n", USE_GET, "[rest] url", NULL);
	V_ERR("[escrow]\nbackend = x\n", USE_GET, "[escrow] backend", "file, ldap, rest, graph");

	/* laps-get --source graph */
	V_ERR("", USE_GET_GRAPH, "[graph] token_url", "graph");
	V_ERR("[graph]\ntoken_url = https://t/\n", USE_GET_GRAPH, "[graph] client_id", NULL);
	V_ERR("[graph]\ntoken_url = https://t/\nclient_id = c\n", USE_GET_GRAPH,
	      "[graph] client_secret_file", NULL);
	V_OK("[graph]\ntoken_url = https://t/\nclient_id = c\nclient_secret_file = /s\n",
	     USE_GET_GRAPH);

	/* pam_laps: the defaults are enough. */
	V_OK("", USE_PAM);
	reset_with(&pam_schema);
	free(laps_agent_conf(&cfg)->state_dir);
	laps_agent_conf(&cfg)->state_dir = NULL;
	CU_ASSERT_EQUAL(laps_agent_conf_validate_accounts(&cfg), LAPS_ERR_CONFIG);
	CU_ASSERT(detail_has("[agent] state_dir"));
}

/* pam_laps' accounts= and state_dir= overrides */
static void
test_pam_overrides(void)
{
	struct laps_conf c;
	struct laps_agent_conf *a;
	char long_name[LAPS_ACCOUNT_MAX + 2];

	CU_ASSERT_EQUAL_FATAL(laps_conf_init(&c, &pam_schema), 0);
	a = laps_agent_conf(&c);
	CU_ASSERT_EQUAL(laps_agent_conf_set_accounts_csv(a, "adm1,adm2"), 0);
	CU_ASSERT_EQUAL(a->n_accounts, 2);
	CU_ASSERT_STRING_EQUAL(a->accounts[0], "adm1");
	CU_ASSERT_STRING_EQUAL(a->accounts[1], "adm2");
	/* errors leave the list as it was */
	CU_ASSERT_EQUAL(laps_agent_conf_set_accounts_csv(a, "a,,b"), LAPS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "accounts="));
	CU_ASSERT_EQUAL(laps_agent_conf_set_accounts_csv(a, ""), LAPS_ERR_INVALID);
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	CU_ASSERT_EQUAL(laps_agent_conf_set_accounts_csv(a, long_name), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_agent_conf_set_accounts_csv(a, "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q"),
			LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(a->n_accounts, 2);
	CU_ASSERT_STRING_EQUAL(a->accounts[1], "adm2");
	CU_ASSERT_EQUAL(laps_agent_conf_set_state_dir(a, "relative"), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_agent_conf_set_state_dir(a, "/run/laps"), 0);
	CU_ASSERT_STRING_EQUAL(a->state_dir, "/run/laps");
	CU_ASSERT_EQUAL(laps_agent_conf_validate_accounts(&c), 0);
	/* names follow the same rule as [agent] accounts */
	CU_ASSERT_EQUAL(laps_agent_conf_set_accounts_csv(a, "ok,../etc"), LAPS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "'../etc'"));
	CU_ASSERT_EQUAL(laps_agent_conf_set_accounts_csv(a, "Root"), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(a->n_accounts, 2);
	laps_conf_free(&c);
}

/* ------------------------------------------------------------------ */
/* laps-escrowd.conf                                                   */

static void
test_escrowd_defaults(void)
{
	const struct laps_authz_conf *z;

	reset_with(&laps_escrowd_schema);
	CU_ASSERT_EQUAL(cfg.n, 9); /* with [console] [est] [policy] [notify] */
	CU_ASSERT_PTR_NULL(laps_est_conf(&cfg)->ca_cert); /* EST off by default */
	CU_ASSERT_EQUAL(laps_est_conf(&cfg)->lifetime, 30 * 86400);
	CU_ASSERT_PTR_NULL(laps_notify_conf(&cfg)->webhook);
	CU_ASSERT_EQUAL(laps_notify_conf(&cfg)->queue, 1000);
	CU_ASSERT_EQUAL(laps_notify_conf(&cfg)->retries, 5);
	CU_ASSERT_EQUAL(laps_notify_conf(&cfg)->timeout, 5);
	CU_ASSERT_EQUAL(laps_policy_conf(&cfg)->rotate_after_read, -1);
	CU_ASSERT_EQUAL(laps_policy_conf(&cfg)->n_read_units, 0);
	CU_ASSERT_EQUAL(laps_policy_conf(&cfg)->n_approval, 0);
	CU_ASSERT_EQUAL(laps_policy_conf(&cfg)->approval_ttl, 3600);
	CU_ASSERT_EQUAL(laps_policy_conf(&cfg)->break_glass, LAPS_NO);
	CU_ASSERT_STRING_EQUAL(laps_server_conf(&cfg)->listen, "127.0.0.1:8443");
	CU_ASSERT_PTR_NULL(laps_server_conf(&cfg)->cert_file);
	CU_ASSERT_PTR_NULL(laps_server_conf(&cfg)->key_file);
	CU_ASSERT_PTR_NULL(laps_server_conf(&cfg)->client_ca);
	CU_ASSERT_EQUAL(laps_server_conf(&cfg)->threads, 4);
	CU_ASSERT_EQUAL(laps_server_conf(&cfg)->max_connections, 512);
	CU_ASSERT_EQUAL(laps_server_conf(&cfg)->max_per_ip, 64);
	CU_ASSERT_EQUAL(laps_server_conf(&cfg)->timeout, 30);
	CU_ASSERT_EQUAL(laps_server_conf(&cfg)->metrics, LAPS_YES);
	CU_ASSERT_STRING_EQUAL(laps_store_conf(&cfg)->url,
			       "sqlite:" LOCALSTATEDIR "/lib/laps-escrowd/escrow.db");
	CU_ASSERT_EQUAL(laps_store_conf(&cfg)->history_size, 10);
	CU_ASSERT_PTR_NULL(laps_oidc_conf(&cfg)->issuer);
	CU_ASSERT_PTR_NULL(laps_oidc_conf(&cfg)->audience);
	CU_ASSERT_EQUAL(laps_oidc_conf(&cfg)->timeout, 5);
	CU_ASSERT_EQUAL(laps_oidc_conf(&cfg)->leeway, 60);
	z = laps_authz_conf(&cfg);
	CU_ASSERT_STRING_EQUAL(z->device_claim, "client_id");
	CU_ASSERT_PTR_NULL(z->device_prefix);
	CU_ASSERT_EQUAL(z->cert_name, LAPS_CERT_NAME_CN);
	CU_ASSERT_STRING_EQUAL(z->rights_claim, "scope");
	CU_ASSERT_STRING_EQUAL(z->device_value, "laps.device");
	CU_ASSERT_STRING_EQUAL(z->read_value, "laps.read");
	CU_ASSERT_STRING_EQUAL(z->secret_value, "laps.secret");
	CU_ASSERT_STRING_EQUAL(z->expire_value, "laps.expire");
	CU_ASSERT_STRING_EQUAL(z->audit_value, "laps.audit");
	CU_ASSERT_STRING_EQUAL(z->enroll_value, "laps.enroll");
	CU_ASSERT_STRING_EQUAL(z->approve_value, "laps.approve");
	CU_ASSERT_EQUAL(z->n_units, 0);
	CU_ASSERT_EQUAL(z->n_cert_admins, 0);
	CU_ASSERT_EQUAL(laps_limits_conf(&cfg)->rate, 20);
	CU_ASSERT_EQUAL(laps_limits_conf(&cfg)->burst, 100);
	/* [console]: off unless asked for. */
	CU_ASSERT_EQUAL(laps_console_conf(&cfg)->enable, LAPS_NO);
	CU_ASSERT_STRING_EQUAL(laps_console_conf(&cfg)->dir, PKGDATADIR "/console");
	CU_ASSERT_STRING_EQUAL(laps_console_conf(&cfg)->client_id, "laps-console");
	CU_ASSERT_STRING_EQUAL(laps_console_conf(&cfg)->scope, "openid");
	/* None of laps.conf's sections. */
	CU_ASSERT_PTR_NULL(laps_agent_conf(&cfg));
	CU_ASSERT_PTR_NULL(laps_escrow_conf(&cfg));
	CU_ASSERT_PTR_NULL(laps_ldap_conf(&cfg));
}

static const char escrowd_every_key[] = "[server]\n"
					"listen = [::1]:9443\n"
					"cert_file = /etc/laps/server.crt\n"
					"key_file = /etc/laps/server.key\n"
					"client_ca = /etc/laps/client-ca.crt\n"
					"threads = 8\n"
					"max_connections = 1000\n"
					"max_per_ip = 10\n"
					"timeout = 2m\n"
					"metrics = no\n"
					"[store]\n"
					"url = postgresql:host=db dbname=laps\n"
					"history_size = 0\n"
					"[oidc]\n"
					"issuer = https://idp.example.org/realms/laps\n"
					"audience = https://laps.example.org\n"
					"ca_file = /etc/ssl/idp.pem\n"
					"jwks_file = /etc/laps/jwks.json\n"
					"timeout = 30s\n"
					"leeway = 0\n"
					"[authz]\n"
					"device_claim = sub\n"
					"device_prefix = device:\n"
					"cert_name = san\n"
					"rights_claim = roles\n"
					"device_value = d\n"
					"read_value = r\n"
					"secret_value = s\n"
					"expire_value = e\n"
					"audit_value = a\n"
					"units = eu:*.eu.example.com us:*.us.example.com\n"
					"cert_admins = ops=laps.read,laps.secret\n"
					"[limits]\n"
					"rate = 5\n"
					"burst = 5\n"
					"[console]\n"
					"enable = yes\n"
					"dir = /srv/console\n"
					"client_id = helpdesk-web\n"
					"scope = openid laps.read\n";

static void
test_escrowd_every_key(void)
{
	const struct laps_server_conf *s;
	const struct laps_oidc_conf *o;
	const struct laps_authz_conf *z;

	reset_with(&laps_escrowd_schema);
	CU_ASSERT_EQUAL_FATAL(parse(escrowd_every_key), 0);
	s = laps_server_conf(&cfg);
	CU_ASSERT_STRING_EQUAL(s->listen, "[::1]:9443");
	CU_ASSERT_STRING_EQUAL(s->cert_file, "/etc/laps/server.crt");
	CU_ASSERT_STRING_EQUAL(s->key_file, "/etc/laps/server.key");
	CU_ASSERT_STRING_EQUAL(s->client_ca, "/etc/laps/client-ca.crt");
	CU_ASSERT_EQUAL(s->threads, 8);
	CU_ASSERT_EQUAL(s->max_connections, 1000);
	CU_ASSERT_EQUAL(s->max_per_ip, 10);
	CU_ASSERT_EQUAL(s->timeout, 120);
	CU_ASSERT_EQUAL(s->metrics, LAPS_NO);
	CU_ASSERT_STRING_EQUAL(laps_store_conf(&cfg)->url, "postgresql:host=db dbname=laps");
	CU_ASSERT_EQUAL(laps_store_conf(&cfg)->history_size, 0);
	o = laps_oidc_conf(&cfg);
	CU_ASSERT_STRING_EQUAL(o->issuer, "https://idp.example.org/realms/laps");
	CU_ASSERT_STRING_EQUAL(o->audience, "https://laps.example.org");
	CU_ASSERT_STRING_EQUAL(o->ca_file, "/etc/ssl/idp.pem");
	CU_ASSERT_STRING_EQUAL(o->jwks_file, "/etc/laps/jwks.json");
	CU_ASSERT_EQUAL(o->timeout, 30);
	CU_ASSERT_EQUAL(o->leeway, 0);
	z = laps_authz_conf(&cfg);
	CU_ASSERT_STRING_EQUAL(z->device_claim, "sub");
	CU_ASSERT_STRING_EQUAL(z->device_prefix, "device:");
	CU_ASSERT_EQUAL(z->cert_name, LAPS_CERT_NAME_SAN);
	CU_ASSERT_STRING_EQUAL(z->rights_claim, "roles");
	CU_ASSERT_STRING_EQUAL(z->device_value, "d");
	CU_ASSERT_STRING_EQUAL(z->read_value, "r");
	CU_ASSERT_STRING_EQUAL(z->secret_value, "s");
	CU_ASSERT_STRING_EQUAL(z->expire_value, "e");
	CU_ASSERT_STRING_EQUAL(z->audit_value, "a");
	CU_ASSERT_EQUAL_FATAL(z->n_units, 2);
	CU_ASSERT_STRING_EQUAL(z->units[0], "eu:*.eu.example.com");
	CU_ASSERT_STRING_EQUAL(z->units[1], "us:*.us.example.com");
	CU_ASSERT_EQUAL_FATAL(z->n_cert_admins, 1);
	CU_ASSERT_STRING_EQUAL(z->cert_admins[0], "ops=laps.read,laps.secret");
	CU_ASSERT_EQUAL(laps_limits_conf(&cfg)->rate, 5);
	CU_ASSERT_EQUAL(laps_limits_conf(&cfg)->burst, 5);
	CU_ASSERT_EQUAL(laps_console_conf(&cfg)->enable, LAPS_YES);
	CU_ASSERT_STRING_EQUAL(laps_console_conf(&cfg)->dir, "/srv/console");
	CU_ASSERT_STRING_EQUAL(laps_console_conf(&cfg)->client_id, "helpdesk-web");
	CU_ASSERT_STRING_EQUAL(laps_console_conf(&cfg)->scope, "openid laps.read");
	CU_ASSERT_EQUAL(laps_escrowd_conf_validate(&cfg), 0);

	/* value checks */
	EXPECT_ERR_S(&laps_escrowd_schema, "[authz]\ncert_name = dn\n",
		     NAME ":2:", "[authz] cert_name", "allowed: cn, san");
	EXPECT_ERR_S(&laps_escrowd_schema, "[server]\nmetrics = on\n",
		     NAME ":2:", "[server] metrics", "allowed: no, yes");
	EXPECT_ERR_S(&laps_escrowd_schema, "[server]\ncert_file = server.crt\n",
		     NAME ":2:", "[server] cert_file", "absolute");
	EXPECT_ERR_S(&laps_escrowd_schema, "[oidc]\nissuer = http://idp.example.org/\n",
		     NAME ":2:", "[oidc] issuer", "https://");
	EXPECT_ERR_S(&laps_escrowd_schema, "[authz]\nunits = a:x a:x\n",
		     NAME ":2:", "[authz] units", "listed twice");
	EXPECT_ERR_S(&laps_escrowd_schema, "[limits]\nrate = 5\nrate = 6\n",
		     NAME ":3:", "[limits] rate", "first set on line 2");
}

static void
test_escrowd_ranges(void)
{
#define E &laps_escrowd_schema
	static const struct range_case cases[] = {
	    U(E, &laps_server_section, struct laps_server_conf, "threads", threads, 1, 256, "0",
	      "257"),
	    U(E, &laps_server_section, struct laps_server_conf, "max_connections", max_connections,
	      1, 100000, "0", "100001"),
	    U(E, &laps_server_section, struct laps_server_conf, "max_per_ip", max_per_ip, 1, 100000,
	      "0", "100001"),
	    D(E, &laps_server_section, struct laps_server_conf, "timeout", timeout, "1s", "1h", "0",
	      "3601", 1, 3600),
	    U(E, &laps_store_section, struct laps_store_conf, "history_size", history_size, 0, 100,
	      NULL, "101"),
	    D(E, &laps_oidc_section, struct laps_oidc_conf, "timeout", timeout, "1", "1m", "0s",
	      "61", 1, 60),
	    D(E, &laps_oidc_section, struct laps_oidc_conf, "leeway", leeway, "0", "5m", NULL,
	      "301s", 0, 300),
	    U(E, &laps_limits_section, struct laps_limits_conf, "rate", rate, 1, 100000, "0",
	      "100001"),
	    U(E, &laps_limits_section, struct laps_limits_conf, "burst", burst, 1, 1000000, "0",
	      "1000001"),
	};
#undef E

	check_ranges(cases, sizeof cases / sizeof cases[0]);
}

#define SRV "[server]\ncert_file = /c\nkey_file = /k\nclient_ca = /ca\n"

static void
test_validate_server(void)
{
	struct laps_conf other;

	/* The defaults lack the certificate. */
	reset_with(&laps_escrowd_schema);
	CU_ASSERT_EQUAL(laps_escrowd_conf_validate(&cfg), LAPS_ERR_CONFIG);
	CU_ASSERT(detail_has("(defaults)"));
	CU_ASSERT(detail_has("[server] cert_file"));
	/* Not a laps-escrowd configuration. */
	CU_ASSERT_EQUAL(laps_escrowd_conf_validate(NULL), LAPS_ERR_INVALID);
	CU_ASSERT_FATAL(laps_conf_init(&other, &laps_agent_schema) == 0);
	CU_ASSERT_EQUAL(laps_escrowd_conf_validate(&other), LAPS_ERR_INVALID);
	laps_conf_free(&other);

	V_OK(SRV, USE_SERVER);
	V_ERR("[server]\nkey_file = /k\nclient_ca = /ca\n", USE_SERVER, "[server] cert_file",
	      "HTTPS");
	V_ERR("[server]\ncert_file = /c\nclient_ca = /ca\n", USE_SERVER, "[server] key_file",
	      "HTTPS");
	V_ERR(SRV "[store]\nurl = mysql:x\n", USE_SERVER, "[store] url", "sqlite:/");
	V_ERR(SRV "[store]\nurl = sqlite:relative.db\n", USE_SERVER, "[store] url", "postgresql:");
	V_OK(SRV "[store]\nurl = postgresql:dbname=laps\n", USE_SERVER);
	V_ERR(SRV "[oidc]\nissuer = https://i/\n", USE_SERVER, "[oidc] audience", "together");
	V_ERR(SRV "[console]\nenable = yes\n", USE_SERVER, "[console] enable", "[oidc] issuer");
	V_OK(SRV "[console]\nenable = yes\n[oidc]\nissuer = https://i/\naudience = a\n",
	     USE_SERVER);
	V_OK(SRV "[console]\nenable = no\ndir = /srv/console\n", USE_SERVER);
	V_ERR(SRV "[oidc]\naudience = a\n", USE_SERVER, "[oidc] issuer", "together");
	V_ERR("[server]\ncert_file = /c\nkey_file = /k\n", USE_SERVER, "[server] client_ca",
	      "[oidc] issuer");
	V_OK("[server]\ncert_file = /c\nkey_file = /k\n[oidc]\nissuer = https://i/\n"
	     "audience = a\n",
	     USE_SERVER);
	V_ERR(SRV "[limits]\nrate = 101\n", USE_SERVER, "[limits] burst", "rate");
	V_OK(SRV "[limits]\nrate = 100\n", USE_SERVER);
	V_ERR(SRV "[authz]\nunits = eu\n", USE_SERVER, "[authz] units", "NAME:PATTERN");
	V_ERR(SRV "[authz]\nunits = :x\n", USE_SERVER, "[authz] units", "NAME:PATTERN");
	V_ERR(SRV "[authz]\nunits = eu:\n", USE_SERVER, "[authz] units", "NAME:PATTERN");
	V_ERR(SRV "[authz]\nunits = EU:x\n", USE_SERVER, "[authz] units", "a-z 0-9");
	V_OK(SRV "[authz]\nunits = eu-1_x:*.example.com\n", USE_SERVER);
	V_ERR(SRV "[authz]\ncert_admins = ops\n", USE_SERVER, "[authz] cert_admins",
	      "CERTNAME=VALUE");
	V_ERR(SRV "[authz]\ncert_admins = =laps.read\n", USE_SERVER, "[authz] cert_admins",
	      "CERTNAME=VALUE");
	V_OK(SRV "[authz]\ncert_admins = ops=laps.read\n", USE_SERVER);
}

/* ------------------------------------------------------------------ */
/* The shipped examples parse and validate.                            */

static void
check_example(const char *file, const struct laps_conf_schema *schema,
	      int (*check)(const struct laps_conf *))
{
	int rc;

	reset_with(schema);
	rc = laps_conf_load(&cfg, laps_test_srcpath(file), LAPS_CONFIG_NO_OWNER);
	if (rc != 0)
		fprintf(stderr, "\n  %s: %s\n", file, laps_errdetail());
	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0)
		return;
	rc = check(&cfg);
	if (rc != 0)
		fprintf(stderr, "\n  %s: %s\n", file, laps_errdetail());
	CU_ASSERT_EQUAL(rc, 0);
}

static void
test_examples(void)
{
	check_example("examples/laps.conf", USE_AGENT);
	check_example("examples/laps-get.conf", USE_GET);
	check_example("examples/laps-escrowd.conf", USE_SERVER);
	/* laps.conf as laps-get and pam_laps read it, too */
	check_example("examples/laps.conf", USE_GET);
	check_example("examples/laps.conf", USE_PAM);
	/* Each example is one program's file: laps-escrowd.conf is not laps.conf. */
	reset_with(&laps_agent_schema);
	CU_ASSERT_EQUAL(laps_conf_load(&cfg, laps_test_srcpath("examples/laps-escrowd.conf"),
				       LAPS_CONFIG_NO_OWNER),
			LAPS_ERR_CONFIG);
	CU_ASSERT(detail_has("[server]: unknown section"));
	reset_with(&laps_escrowd_schema);
	CU_ASSERT_EQUAL(
	    laps_conf_load(&cfg, laps_test_srcpath("examples/laps.conf"), LAPS_CONFIG_NO_OWNER),
	    LAPS_ERR_CONFIG);
	CU_ASSERT(detail_has("[agent]: unknown section"));
}

/* ------------------------------------------------------------------ */

static CU_TestInfo lapsconf_tests[] = {
    {"defaults", test_defaults},
    {"every key", test_every_key},
    {"enum spellings", test_enum_spellings},
    {"syntax", test_syntax},
    {"layering", test_layering},
    {"error leaves config untouched", test_error_leaves_config_untouched},
    {"errors name file:line and key", test_errors},
    {"value types", test_value_types},
    {"durations", test_durations},
    {"ranges at both ends", test_ranges},
    {"free and re-init", test_free_reinit},
    {"names", test_names},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo schema_tests[] = {
    {"each program's own sections", test_schemas},
    {"pam_laps skips what it does not own", test_pam_schema},
    {"shipped examples", test_examples},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo validate_tests[] = {
    {"agent", test_validate_agent},
    {"pam overrides", test_pam_overrides},
    {"laps-get, graph, pam", test_validate_other},
    {"server", test_validate_server},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo escrowd_tests[] = {
    {"defaults", test_escrowd_defaults},
    {"every key", test_escrowd_every_key},
    {"ranges at both ends", test_escrowd_ranges},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"laps.conf-sections", setup, teardown, NULL, NULL, lapsconf_tests},
    {"laps-escrowd.conf-sections", setup, teardown, NULL, NULL, escrowd_tests},
    {"schemas", setup, teardown, NULL, NULL, schema_tests},
    {"validate", setup, teardown, NULL, NULL, validate_tests},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	return laps_test_main(argc, argv, suites);
}
