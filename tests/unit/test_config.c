/*
 * test_config.c — laps.conf parser: defaults, every key type, every error
 * with its FILE:LINE detail, durations, ranges, owner/mode checks and the
 * cross-field validation.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "escrow/conf.h"
#include "escrow/err.h"
#include "tests/unit/testutil.h"

#define NAME "t.conf"

static struct laps_config cfg;

static int
parse(const char *text)
{
	return laps_config_parse(&cfg, NAME, text, strlen(text));
}

static bool
detail_has(const char *needle)
{
	const char *d = laps_errdetail();

	if (strstr(d, needle) != NULL)
		return true;
	fprintf(stderr, "\n  detail \"%s\" lacks \"%s\"\n", d, needle);
	return false;
}

/* text must fail with LAPS_ERR_CONFIG and a detail containing each needle. */
static void
expect_err_at(unsigned srcline, const char *text, size_t len, const char *n1, const char *n2,
	      const char *n3)
{
	struct laps_config c;
	int rc;

	CU_ASSERT_FATAL(laps_config_init(&c) == 0);
	laps_clearerr();
	rc = laps_config_parse(&c, NAME, text, len);
	if (rc != LAPS_ERR_CONFIG)
		fprintf(stderr, "\n  test line %u: rc %d, detail \"%s\"\n", srcline, rc,
			laps_errdetail());
	CU_ASSERT_EQUAL(rc, LAPS_ERR_CONFIG);
	if (n1 != NULL)
		CU_ASSERT(detail_has(n1));
	if (n2 != NULL)
		CU_ASSERT(detail_has(n2));
	if (n3 != NULL)
		CU_ASSERT(detail_has(n3));
	laps_config_free(&c);
}

#define EXPECT_ERR(text, n1, n2, n3) expect_err_at(__LINE__, text, strlen(text), n1, n2, n3)
#define EXPECT_ERRN(text, len, n1, n2, n3) expect_err_at(__LINE__, text, len, n1, n2, n3)

static void
expect_ok_at(unsigned srcline, const char *text)
{
	struct laps_config c;
	int rc;

	CU_ASSERT_FATAL(laps_config_init(&c) == 0);
	rc = laps_config_parse(&c, NAME, text, strlen(text));
	if (rc != 0)
		fprintf(stderr, "\n  test line %u: rc %d, detail \"%s\"\n", srcline, rc,
			laps_errdetail());
	CU_ASSERT_EQUAL(rc, 0);
	laps_config_free(&c);
}

#define EXPECT_OK(text) expect_ok_at(__LINE__, text)

static int
setup(void)
{
	return laps_config_init(&cfg) == 0 ? 0 : -1;
}

static int
teardown(void)
{
	laps_config_free(&cfg);
	return 0;
}

/* Each test starts with fresh defaults. */
static void
reset(void)
{
	laps_config_free(&cfg);
	CU_ASSERT_FATAL(laps_config_init(&cfg) == 0);
}

/* ------------------------------------------------------------------ */

static void
test_defaults(void)
{
	reset();
	CU_ASSERT_PTR_NULL(cfg.path);
	CU_ASSERT_EQUAL(cfg.n_accounts, 1);
	CU_ASSERT_STRING_EQUAL(cfg.accounts[0], "lapsadmin");
	CU_ASSERT_PTR_NULL(cfg.accounts[1]);
	CU_ASSERT_EQUAL(cfg.method, LAPS_METHOD_SHADOW);
	CU_ASSERT_PTR_NULL(cfg.root);
	CU_ASSERT_STRING_EQUAL(cfg.state_dir, LAPS_STATE_DIR_DEFAULT);
	CU_ASSERT_EQUAL(cfg.password_age, 30 * 86400);
	CU_ASSERT_EQUAL(cfg.hash, LAPS_HASH_YESCRYPT);
	CU_ASSERT_EQUAL(cfg.hash_cost, 0);
	CU_ASSERT_EQUAL(cfg.mode, LAPS_PWMODE_PASSWORD);
	CU_ASSERT_EQUAL(cfg.length, 20);
	CU_ASSERT_EQUAL(cfg.complexity, 4);
	CU_ASSERT_EQUAL(cfg.words, 6);
	CU_ASSERT_STRING_EQUAL(cfg.separator, "-");
	CU_ASSERT_STRING_EQUAL(cfg.backend, "file");
	CU_ASSERT_EQUAL(cfg.n_recipients, 0);
	CU_ASSERT_EQUAL(cfg.history, 10);
	CU_ASSERT_PTR_NULL(cfg.device);
	CU_ASSERT_STRING_EQUAL(cfg.file_dir, LAPS_STATE_DIR_DEFAULT "/escrow");
	CU_ASSERT_EQUAL(cfg.n_ldap_uri, 0);
	CU_ASSERT_EQUAL(cfg.ldap_tls, LAPS_TLS_STARTTLS);
	CU_ASSERT_EQUAL(cfg.ldap_bind, LAPS_BIND_SIMPLE);
	CU_ASSERT_EQUAL(cfg.ldap_schema, LAPS_SCHEMA_LAPS);
	CU_ASSERT_EQUAL(cfg.ldap_timeout, 10);
	CU_ASSERT_PTR_NULL(cfg.ldap_filter);
	CU_ASSERT_PTR_NULL(cfg.rest_url);
	CU_ASSERT_EQUAL(cfg.rest_auth, LAPS_REST_AUTH_CLIENT_SECRET);
	CU_ASSERT_EQUAL(cfg.rest_timeout, 10);
	CU_ASSERT_EQUAL(cfg.rest_retries, 3);
	CU_ASSERT_EQUAL(cfg.postauth_delay, 0);
	CU_ASSERT_EQUAL(cfg.postauth_action, LAPS_POSTAUTH_RESET);
	CU_ASSERT_PTR_NULL(cfg.get_key);
	CU_ASSERT_STRING_EQUAL(cfg.graph_url, "https://graph.microsoft.com/v1.0");
	CU_ASSERT_STRING_EQUAL(cfg.graph_scope, "https://graph.microsoft.com/.default");
	CU_ASSERT_EQUAL(cfg.graph_timeout, 10);
	/* An empty file changes nothing but the path. */
	CU_ASSERT_EQUAL(laps_config_parse(&cfg, NAME, "", 0), 0);
	CU_ASSERT_STRING_EQUAL(cfg.path, NAME);
	CU_ASSERT_EQUAL(cfg.length, 20);
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

static void
test_every_key(void)
{
	reset();
	CU_ASSERT_EQUAL_FATAL(parse(every_key), 0);
	CU_ASSERT_STRING_EQUAL(cfg.path, NAME);
	CU_ASSERT_EQUAL_FATAL(cfg.n_accounts, 3);
	CU_ASSERT_STRING_EQUAL(cfg.accounts[0], "root_admin");
	CU_ASSERT_STRING_EQUAL(cfg.accounts[1], "svc-x");
	CU_ASSERT_STRING_EQUAL(cfg.accounts[2], "backup$");
	CU_ASSERT_EQUAL(cfg.method, LAPS_METHOD_PAM);
	CU_ASSERT_STRING_EQUAL(cfg.root, "/tmp/alt-root");
	CU_ASSERT_STRING_EQUAL(cfg.state_dir, "/var/lib/laps-test");
	CU_ASSERT_EQUAL(cfg.password_age, 14 * 86400);
	CU_ASSERT_EQUAL(cfg.hash, LAPS_HASH_SHA512);
	CU_ASSERT_EQUAL(cfg.hash_cost, 5000);
	CU_ASSERT_EQUAL(cfg.mode, LAPS_PWMODE_PASSPHRASE);
	CU_ASSERT_EQUAL(cfg.length, 32);
	CU_ASSERT_EQUAL(cfg.complexity, 5);
	CU_ASSERT_EQUAL(cfg.words, 7);
	CU_ASSERT_STRING_EQUAL(cfg.separator, "::");
	CU_ASSERT_STRING_EQUAL(cfg.backend, "ldap");
	CU_ASSERT_EQUAL_FATAL(cfg.n_recipients, 2);
	CU_ASSERT_STRING_EQUAL(cfg.recipients[0], "/etc/laps/a.pub");
	CU_ASSERT_STRING_EQUAL(cfg.recipients[1], "/etc/laps/b.pub");
	CU_ASSERT_EQUAL(cfg.history, 0);
	CU_ASSERT_STRING_EQUAL(cfg.device, "ws-42.example.org");
	CU_ASSERT_STRING_EQUAL(cfg.file_dir, "/srv/escrow");
	CU_ASSERT_EQUAL_FATAL(cfg.n_ldap_uri, 2);
	CU_ASSERT_STRING_EQUAL(cfg.ldap_uri[0], "ldaps://127.0.0.1:636");
	CU_ASSERT_STRING_EQUAL(cfg.ldap_uri[1], "ldaps://dc2.example.org");
	CU_ASSERT_EQUAL(cfg.ldap_tls, LAPS_TLS_LDAPS);
	CU_ASSERT_STRING_EQUAL(cfg.ldap_ca_file, "/etc/ssl/ca.pem");
	CU_ASSERT_STRING_EQUAL(cfg.ldap_cert_file, "/etc/laps/client.crt");
	CU_ASSERT_STRING_EQUAL(cfg.ldap_key_file, "/etc/laps/client.key");
	CU_ASSERT_EQUAL(cfg.ldap_bind, LAPS_BIND_EXTERNAL);
	CU_ASSERT_STRING_EQUAL(cfg.ldap_bind_dn, "cn=agent,dc=example,dc=org");
	CU_ASSERT_STRING_EQUAL(cfg.ldap_bind_secret_file, "/etc/laps/bind.secret");
	CU_ASSERT_STRING_EQUAL(cfg.ldap_base, "ou=Hosts, dc=example, dc=org");
	CU_ASSERT_STRING_EQUAL(cfg.ldap_filter,
			       "(&(objectClass=device)(|(cn=%h)(dNSHostName=%f))(x=100%%))");
	CU_ASSERT_STRING_EQUAL(cfg.ldap_dn, "cn=ws-42,ou=Hosts,dc=example,dc=org");
	CU_ASSERT_EQUAL(cfg.ldap_schema, LAPS_SCHEMA_LEGACY);
	CU_ASSERT_EQUAL(cfg.ldap_timeout, 120);
	CU_ASSERT_STRING_EQUAL(cfg.rest_url, "https://escrow.example.org:8443/v1");
	CU_ASSERT_EQUAL(cfg.rest_auth, LAPS_REST_AUTH_MTLS);
	CU_ASSERT_STRING_EQUAL(cfg.rest_token_url, "http://127.0.0.1:9000/token");
	CU_ASSERT_STRING_EQUAL(cfg.rest_client_id, "ws-42");
	CU_ASSERT_STRING_EQUAL(cfg.rest_client_secret_file, "/etc/laps/client.secret");
	CU_ASSERT_STRING_EQUAL(cfg.rest_key_file, "/etc/laps/rest.key");
	CU_ASSERT_STRING_EQUAL(cfg.rest_cert_file, "/etc/laps/rest.crt");
	CU_ASSERT_STRING_EQUAL(cfg.rest_ca_file, "/etc/laps/rest-ca.pem");
	CU_ASSERT_STRING_EQUAL(cfg.rest_bearer_file, "/etc/laps/bearer");
	CU_ASSERT_STRING_EQUAL(cfg.rest_scope, "laps.write laps.read");
	CU_ASSERT_EQUAL(cfg.rest_timeout, 45);
	CU_ASSERT_EQUAL(cfg.rest_retries, 7);
	CU_ASSERT_EQUAL(cfg.postauth_delay, 8 * 3600);
	CU_ASSERT_EQUAL(cfg.postauth_action, LAPS_POSTAUTH_RESET_LOGOFF);
	CU_ASSERT_STRING_EQUAL(cfg.get_key, "/home/alice/.config/laps/admin.key");
	CU_ASSERT_STRING_EQUAL(cfg.graph_url, "https://graph.example.com/beta");
	CU_ASSERT_STRING_EQUAL(cfg.graph_token_url,
			       "https://login.example.com/tenant/oauth2/v2.0/token");
	CU_ASSERT_STRING_EQUAL(cfg.graph_client_id, "0000-1111");
	CU_ASSERT_STRING_EQUAL(cfg.graph_client_secret_file, "/home/alice/graph.secret");
	CU_ASSERT_STRING_EQUAL(cfg.graph_scope, "https://graph.example.com/.default");
	CU_ASSERT_STRING_EQUAL(cfg.graph_ca_file, "/tmp/ca.pem");
	CU_ASSERT_EQUAL(cfg.graph_timeout, 1);
}

static void
test_enum_spellings(void)
{
	static const struct {
		const char *text;
		size_t off;
		int want;
	} cases[] = {
	    {"[agent]\nmethod = shadow\n", offsetof(struct laps_config, method),
	     LAPS_METHOD_SHADOW},
	    {"[agent]\nhash = yescrypt\n", offsetof(struct laps_config, hash), LAPS_HASH_YESCRYPT},
	    {"[password]\nmode = password\n", offsetof(struct laps_config, mode),
	     LAPS_PWMODE_PASSWORD},
	    {"[ldap]\ntls = none\n", offsetof(struct laps_config, ldap_tls), LAPS_TLS_NONE},
	    {"[ldap]\ntls = starttls\n", offsetof(struct laps_config, ldap_tls), LAPS_TLS_STARTTLS},
	    {"[ldap]\nbind = gssapi\n", offsetof(struct laps_config, ldap_bind), LAPS_BIND_GSSAPI},
	    {"[ldap]\nbind = simple\n", offsetof(struct laps_config, ldap_bind), LAPS_BIND_SIMPLE},
	    {"[ldap]\nschema = mslaps\n", offsetof(struct laps_config, ldap_schema),
	     LAPS_SCHEMA_MSLAPS},
	    {"[ldap]\nschema = laps\n", offsetof(struct laps_config, ldap_schema),
	     LAPS_SCHEMA_LAPS},
	    {"[rest]\nauth = client_credentials\n", offsetof(struct laps_config, rest_auth),
	     LAPS_REST_AUTH_CLIENT_SECRET},
	    {"[rest]\nauth = device_code\n", offsetof(struct laps_config, rest_auth),
	     LAPS_REST_AUTH_DEVICE_CODE},
	    {"[rest]\nauth = private_key_jwt\n", offsetof(struct laps_config, rest_auth),
	     LAPS_REST_AUTH_PRIVATE_KEY_JWT},
	    {"[rest]\nauth = bearer\n", offsetof(struct laps_config, rest_auth),
	     LAPS_REST_AUTH_BEARER},
	    {"[post-auth]\naction = reset\n", offsetof(struct laps_config, postauth_action),
	     LAPS_POSTAUTH_RESET},
	    {"[post-auth]\naction = reset-reboot\n", offsetof(struct laps_config, postauth_action),
	     LAPS_POSTAUTH_RESET_REBOOT},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		reset();
		/* Start from a value different from the wanted one. */
		*(int *)(void *)((char *)&cfg + cases[i].off) = 99;
		CU_ASSERT_EQUAL(parse(cases[i].text), 0);
		CU_ASSERT_EQUAL(*(int *)(void *)((char *)&cfg + cases[i].off), cases[i].want);
	}
}

static void
test_syntax(void)
{
	reset();
	/* CRLF line ends, blank lines with blanks, trailing blanks, no final newline. */
	CU_ASSERT_EQUAL(parse("\r\n  \t\r\n[password]\r\n\tlength\t=\t24  \r\nwords=4"), 0);
	CU_ASSERT_EQUAL(cfg.length, 24);
	CU_ASSERT_EQUAL(cfg.words, 4);
	/* A UTF-8 byte order mark at the start is skipped. */
	CU_ASSERT_EQUAL(parse("\xef\xbb\xbf[password]\nlength = 25\n"), 0);
	CU_ASSERT_EQUAL(cfg.length, 25);
	/* An empty separator is allowed and means capitalised-and-joined. */
	CU_ASSERT_EQUAL(parse("[password]\nseparator =\n"), 0);
	CU_ASSERT_STRING_EQUAL(cfg.separator, "");
	/* '#' inside a value is part of it (comments only on their own line). */
	CU_ASSERT_EQUAL(parse("[password]\nseparator = #\n"), 0);
	CU_ASSERT_STRING_EQUAL(cfg.separator, "#");
	/* A section may be opened again; keys accumulate. */
	CU_ASSERT_EQUAL(parse("[agent]\nhash = sha512\n[password]\nlength = 9\n[agent]\nmethod = "
			      "pam\n"),
			0);
	CU_ASSERT_EQUAL(cfg.hash, LAPS_HASH_SHA512);
	CU_ASSERT_EQUAL(cfg.method, LAPS_METHOD_PAM);
	/* A list replaces the default, it does not append. */
	CU_ASSERT_EQUAL(parse("[agent]\naccounts = a b\n"), 0);
	CU_ASSERT_EQUAL(cfg.n_accounts, 2);
	CU_ASSERT_STRING_EQUAL(cfg.accounts[0], "a");
	CU_ASSERT_STRING_EQUAL(cfg.accounts[1], "b");
	CU_ASSERT_EQUAL(parse("[agent]\naccounts = c\n"), 0);
	CU_ASSERT_EQUAL(cfg.n_accounts, 1);
	CU_ASSERT_STRING_EQUAL(cfg.accounts[0], "c");
	CU_ASSERT_PTR_NULL(cfg.accounts[1]);
}

static void
test_layering(void)
{
	reset();
	/* A second file overrides only what it sets (laps-get: user then system). */
	CU_ASSERT_EQUAL(laps_config_parse(&cfg, "one.conf", "[password]\nlength = 30\n", 23), 0);
	CU_ASSERT_EQUAL(parse("[password]\nwords = 4\n"), 0);
	CU_ASSERT_EQUAL(cfg.length, 30);
	CU_ASSERT_EQUAL(cfg.words, 4);
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
	CU_ASSERT_EQUAL(cfg.length, 30);
	CU_ASSERT_STRING_EQUAL(cfg.separator, "-");
	CU_ASSERT_EQUAL(cfg.n_accounts, 1);
	CU_ASSERT_STRING_EQUAL(cfg.accounts[0], "x");
	CU_ASSERT_PTR_NULL(cfg.device);
	CU_ASSERT_STRING_EQUAL(cfg.path, NAME);
}

/* ------------------------------------------------------------------ */

static void
test_errors(void)
{
	char *big;
	size_t i;

	EXPECT_ERR("[agent]\n[bogus]\n", NAME ":2:", "[bogus]", "unknown section");
	EXPECT_ERR("[agent\n", NAME ":1:", "[agent", "]");
	EXPECT_ERR("[]\n", NAME ":1:", "[]", "unknown section");
	EXPECT_ERR("[agent]\nmethod = pam\nfoo = 1\n", NAME ":3:", "[agent] foo", "unknown key");
	/* A key that exists, but in another section. */
	EXPECT_ERR("[password]\nhash = sha512\n", NAME ":2:", "[password] hash", "unknown key");
	EXPECT_ERR("# c\naccounts = x\n[agent]\n", NAME ":2:", "accounts", "before any [section]");
	EXPECT_ERR("[agent]\n\nhash yescrypt\n", NAME ":3:", "[agent] hash", "missing '='");
	EXPECT_ERR("[agent]\n= yescrypt\n", NAME ":2:", "[agent]", "missing key");
	EXPECT_ERR("[agent]\nhash =\n", NAME ":2:", "[agent] hash", "empty value");
	EXPECT_ERR("[rest]\nauth = mtls\nkey_engine = /usr/lib/evil.so\n", NAME ":3:",
		   "[rest] key_engine", "a-z, 0-9");
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
	EXPECT_ERRN("[agent]\nhash = sha\0"
		    "512\n",
		    19, NAME ":2:", "NUL", NULL);
	EXPECT_ERRN("[agent]\n\0\n", 10, NAME ":2:", "NUL", NULL);
	EXPECT_ERR("[agent]\nhash = sha\x01"
		   "512\n",
		   NAME ":2:", "control character", NULL);

	/* Line length: 1024 characters are fine, 1025 are not. */
	big = malloc(LAPS_CONFIG_MAX_SIZE + 2);
	CU_ASSERT_FATAL(big != NULL);
	memcpy(big, "[agent]\n#", 9);
	memset(big + 9, 'x', 1023);
	memcpy(big + 9 + 1023, "\n", 2);
	EXPECT_OK(big);
	memcpy(big + 9 + 1023, "x\n", 3);
	EXPECT_ERR(big, NAME ":2:", "longer than 1024", NULL);
	/* Too long without a newline at the end, too. */
	big[9 + 1024] = '\0';
	EXPECT_ERR(big, NAME ":2:", "longer than 1024", NULL);

	/* File size: exactly the maximum is fine, one more byte is not. */
	for (i = 0; i < LAPS_CONFIG_MAX_SIZE; i++)
		big[i] = (i % 64 == 63) ? '\n' : '#';
	big[LAPS_CONFIG_MAX_SIZE] = '\0';
	EXPECT_OK(big);
	big[LAPS_CONFIG_MAX_SIZE] = '\n';
	big[LAPS_CONFIG_MAX_SIZE + 1] = '\0';
	EXPECT_ERR(big, NAME, "larger than 65536", NULL);
	free(big);

	/* The name defaults when NULL; NULL buffer only with length 0. */
	reset();
	CU_ASSERT_EQUAL(laps_config_parse(&cfg, NULL, "[x]\n", 4), LAPS_ERR_CONFIG);
	CU_ASSERT(detail_has("(config):1:"));
	CU_ASSERT_EQUAL(laps_config_parse(&cfg, NAME, NULL, 0), 0);
	CU_ASSERT_EQUAL(laps_config_parse(&cfg, NAME, NULL, 5), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_config_parse(NULL, NAME, "", 0), LAPS_ERR_INVALID);
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
	EXPECT_OK("[rest]\nurl = http://127.0.0.1\n");
	EXPECT_OK("[rest]\nurl = http://127.0.0.1:8080/v1\n");
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

static void
test_durations(void)
{
	static const struct {
		const char *s;
		int64_t want;
	} good[] = {
	    {"0", 0},
	    {"90s", 90},
	    {"15m", 900},
	    {"12h", 43200},
	    {"30d", 2592000},
	    {"2w", 1209600},
	    {"42", 42},
	    {"007m", 420},
	    {"9223372036854775807", INT64_MAX},
	    {"9223372036854775807s", INT64_MAX},
	    {"106751991167300d", 106751991167300LL * 86400},
	    {"15250284452471w", 15250284452471LL * 604800},
	};
	static const char *const bad[] = {
	    "",
	    "s",
	    "d",
	    "10x",
	    "10S",
	    "-5",
	    "+5",
	    "1.5h",
	    " 5",
	    "5 ",
	    "5 s",
	    "1h30m",
	    "h1",
	    "5ss",
	    "9223372036854775808",
	    "99999999999999999999999",
	    "106751991167301d",
	    "15250284452472w",
	    "153722867280912931m",
	};
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		v = -1;
		CU_ASSERT_EQUAL(laps_config_parse_duration(good[i].s, &v), 0);
		CU_ASSERT_EQUAL(v, good[i].want);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = -1;
		if (laps_config_parse_duration(bad[i], &v) != LAPS_ERR_INVALID)
			fprintf(stderr, "\n  duration \"%s\" accepted\n", bad[i]);
		CU_ASSERT_EQUAL(laps_config_parse_duration(bad[i], &v), LAPS_ERR_INVALID);
		CU_ASSERT_EQUAL(v, -1);
	}
	CU_ASSERT_EQUAL(laps_config_parse_duration(NULL, &v), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_config_parse_duration("1", NULL), LAPS_ERR_INVALID);
	/* In a file: an overflowing duration is an error naming the key. */
	EXPECT_ERR("[post-auth]\ndelay = 106751991167301d\n", NAME ":2:", "[post-auth] delay",
		   "not a duration");
	EXPECT_ERR("[ldap]\ntimeout = 10q\n", NAME ":2:", "[ldap] timeout", "1s..5m");
}

struct range_case {
	const char *section, *key, *lo, *hi, *below, *above; /* below/above NULL: none */
	size_t off;
	int kind; /* 0 unsigned, 1 int64 */
	long long lo_v, hi_v;
};

static void
test_ranges(void)
{
#define U(s, k, f, lo, hi, below, above)                                                           \
	{                                                                                          \
		s, k, #lo, #hi, below, above, offsetof(struct laps_config, f), 0, lo, hi           \
	}
#define D(s, k, f, lo, hi, below, above, lov, hiv)                                                 \
	{                                                                                          \
		s, k, lo, hi, below, above, offsetof(struct laps_config, f), 1, lov, hiv           \
	}
	static const struct range_case cases[] = {
	    U("password", "length", length, 8, 128, "7", "129"),
	    U("password", "complexity", complexity, 1, 5, "0", "6"),
	    U("password", "words", words, 3, 10, "2", "11"),
	    U("escrow", "history", history, 0, 100, NULL, "101"),
	    U("rest", "retries", rest_retries, 0, 10, NULL, "11"),
	    U("agent", "hash_cost", hash_cost, 0, 999999999, NULL, "1000000000"),
	    D("agent", "password_age", password_age, "1h", "3650d", "3599", "3651d", 3600,
	      3650LL * 86400),
	    D("ldap", "timeout", ldap_timeout, "1s", "300s", "0", "301", 1, 300),
	    D("rest", "timeout", rest_timeout, "1", "5m", "0s", "301s", 1, 300),
	    D("graph", "timeout", graph_timeout, "1s", "300", "0m", "6m", 1, 300),
	    D("post-auth", "delay", postauth_delay, "0", "30d", NULL, "2592001", 0, 30LL * 86400),
	};
	char text[256], key[64];
	long long got;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct range_case *c = &cases[i];
		const char *vals[2] = {c->lo, c->hi};
		long long want[2] = {c->lo_v, c->hi_v};
		int j;

		snprintf(key, sizeof key, "[%s] %s", c->section, c->key);
		for (j = 0; j < 2; j++) {
			reset();
			snprintf(text, sizeof text, "[%s]\n%s = %s\n", c->section, c->key, vals[j]);
			CU_ASSERT_EQUAL(parse(text), 0);
			got = c->kind == 0 ? (long long)*(unsigned *)(void *)((char *)&cfg + c->off)
					   : (long long)*(int64_t *)(void *)((char *)&cfg + c->off);
			if (got != want[j])
				fprintf(stderr, "\n  %s = %s gave %lld\n", key, vals[j], got);
			CU_ASSERT_EQUAL(got, want[j]);
		}
		if (c->below != NULL) {
			snprintf(text, sizeof text, "[%s]\n%s = %s\n", c->section, c->key,
				 c->below);
			EXPECT_ERR(text, NAME ":2:", key, "out of range");
		}
		snprintf(text, sizeof text, "[%s]\n%s = %s\n", c->section, c->key, c->above);
		EXPECT_ERR(text, NAME ":2:", key, "out of range");
	}
#undef U
#undef D
}

/* ------------------------------------------------------------------ */
/* Files: owner and mode                                              */

static void
test_load(void)
{
	char dir[2048], path[4096], want[4200];
	int rc;

	snprintf(dir, sizeof dir, "%s", laps_test_tmpdir());
	snprintf(path, sizeof path, "%s/laps.conf", dir);

	reset();
	CU_ASSERT_EQUAL(laps_config_load(&cfg, path, LAPS_CONFIG_NO_OWNER), LAPS_ERR_NOTFOUND);
	CU_ASSERT(detail_has(path));

	CU_ASSERT_FATAL(laps_test_write_file(path, "[password]\nlength = 33\n", 0644) == 0);
	CU_ASSERT_EQUAL(laps_config_load(&cfg, path, LAPS_CONFIG_NO_OWNER), 0);
	CU_ASSERT_EQUAL(cfg.length, 33);
	CU_ASSERT_STRING_EQUAL(cfg.path, path);

	/* A parse error names the file by its path and the line. */
	CU_ASSERT_FATAL(laps_test_write_file(path, "[password]\n\nlength = 3\n", 0644) == 0);
	rc = laps_config_load(&cfg, path, LAPS_CONFIG_NO_OWNER);
	CU_ASSERT_EQUAL(rc, LAPS_ERR_CONFIG);
	snprintf(want, sizeof want, "%s:3: [password] length", path);
	CU_ASSERT(detail_has(want));
	CU_ASSERT_EQUAL(cfg.length, 33);

	/* Too large on disk: LAPS_ERR_CONFIG naming the file. */
	{
		char *big = malloc(LAPS_CONFIG_MAX_SIZE + 2);
		CU_ASSERT_FATAL(big != NULL);
		memset(big, '#', LAPS_CONFIG_MAX_SIZE + 1);
		big[LAPS_CONFIG_MAX_SIZE + 1] = '\0';
		CU_ASSERT_FATAL(laps_test_write_file(path, big, 0644) == 0);
		free(big);
	}
	CU_ASSERT_EQUAL(laps_config_load(&cfg, path, LAPS_CONFIG_NO_OWNER), LAPS_ERR_CONFIG);
	CU_ASSERT(detail_has(path));
	CU_ASSERT(detail_has("larger than 65536"));
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL(laps_config_load(&cfg, path, LAPS_CONFIG_CHECK_OWNER),
				LAPS_ERR_CONFIG);
		CU_ASSERT(detail_has("larger than 65536"));
	}

	CU_ASSERT_EQUAL(laps_config_load(NULL, path, 0), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_config_load(&cfg, NULL, 0), LAPS_ERR_INVALID);
	laps_test_rmrf(dir);
}

/* Load path with flags into a fresh config; returns the result code. */
static int
load_fresh(const char *path, unsigned flags)
{
	struct laps_config c;
	int rc;

	if (laps_config_init(&c) != 0)
		return LAPS_ERR_NOMEM;
	laps_clearerr();
	rc = laps_config_load(&c, path, flags);
	if (rc == 0 && c.length != 21)
		rc = LAPS_ERR_INTERNAL;
	laps_config_free(&c);
	return rc;
}

static void
test_owner_mode(void)
{
	static const unsigned flag_sets[] = {0, LAPS_CONFIG_CHECK_OWNER};
	char dir[2048], path[4096], link[4096];
	size_t i;

	if (geteuid() != 0) {
		fprintf(stderr, "\n  (owner/mode checks need root: skipped)\n");
		return;
	}
	snprintf(dir, sizeof dir, "%s", laps_test_tmpdir());
	snprintf(path, sizeof path, "%s/laps.conf", dir);
	snprintf(link, sizeof link, "%s/link.conf", dir);
	CU_ASSERT_FATAL(laps_test_write_file(path, "[password]\nlength = 21\n", 0644) == 0);
	CU_ASSERT_FATAL(chown(path, 0, 0) == 0);
	CU_ASSERT_FATAL(symlink(path, link) == 0);

	for (i = 0; i < 2; i++) {
		unsigned fl = flag_sets[i];

		CU_ASSERT_FATAL(chown(path, 0, 0) == 0);
		CU_ASSERT_FATAL(chmod(path, 0644) == 0);
		CU_ASSERT_EQUAL(load_fresh(path, fl), 0);
		CU_ASSERT_FATAL(chmod(path, 0600) == 0);
		CU_ASSERT_EQUAL(load_fresh(path, fl), 0);

		CU_ASSERT_FATAL(chmod(path, 0666) == 0);
		CU_ASSERT_EQUAL(load_fresh(path, fl), LAPS_ERR_PERM);
		CU_ASSERT(detail_has(path));
		CU_ASSERT_FATAL(chmod(path, 0664) == 0);
		CU_ASSERT_EQUAL(load_fresh(path, fl), LAPS_ERR_PERM);
		CU_ASSERT(detail_has(path));
		/* ... but not with NO_OWNER (laps-get user files). */
		CU_ASSERT_EQUAL(load_fresh(path, fl | LAPS_CONFIG_NO_OWNER), 0);

		CU_ASSERT_FATAL(chmod(path, 0644) == 0);
		CU_ASSERT_FATAL(chown(path, 65534, 0) == 0);
		CU_ASSERT_EQUAL(load_fresh(path, fl), LAPS_ERR_PERM);
		CU_ASSERT(detail_has(path));
		CU_ASSERT(detail_has("root"));
		CU_ASSERT_FATAL(chown(path, 0, 65534) == 0);
		CU_ASSERT_EQUAL(load_fresh(path, fl), 0); /* group other than root is fine */
		CU_ASSERT_FATAL(chown(path, 65534, 65534) == 0);
		CU_ASSERT_EQUAL(load_fresh(path, fl | LAPS_CONFIG_NO_OWNER), 0);

		/* A symbolic link is refused even to a good file. */
		CU_ASSERT_FATAL(chown(path, 0, 0) == 0);
		CU_ASSERT_EQUAL(load_fresh(link, fl), LAPS_ERR_PERM);
		CU_ASSERT(detail_has(link));
		CU_ASSERT_EQUAL(load_fresh(link, fl | LAPS_CONFIG_NO_OWNER), LAPS_ERR_PERM);

		/* Not a regular file. */
		CU_ASSERT_EQUAL(load_fresh(dir, fl), LAPS_ERR_PERM);
	}
	laps_test_rmrf(dir);
}

/*
 * As a non-root user, the check applies only with LAPS_CONFIG_CHECK_OWNER:
 * a file owned by that user is read without the flag and refused with it.
 */
static void
test_check_owner_not_root(void)
{
	char dir[2048], path[4096];
	pid_t pid;
	int status = -1;

	if (geteuid() != 0) {
		fprintf(stderr, "\n  (needs root to switch users: skipped)\n");
		return;
	}
	snprintf(dir, sizeof dir, "%s", laps_test_tmpdir());
	snprintf(path, sizeof path, "%s/user.conf", dir);
	CU_ASSERT_FATAL(chmod(dir, 0755) == 0);
	CU_ASSERT_FATAL(laps_test_write_file(path, "[password]\nlength = 21\n", 0644) == 0);
	CU_ASSERT_FATAL(chown(path, 65534, 65534) == 0);

	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		int code = 0;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(10);
		if (load_fresh(path, 0) != 0)
			code |= 1;
		if (load_fresh(path, LAPS_CONFIG_CHECK_OWNER) != LAPS_ERR_PERM)
			code |= 2;
		if (strstr(laps_errdetail(), "not owned by root") == NULL)
			code |= 4;
		if (load_fresh(path, LAPS_CONFIG_CHECK_OWNER | LAPS_CONFIG_NO_OWNER) != 0)
			code |= 8;
		_exit(code);
	}
	CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
	CU_ASSERT(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fprintf(stderr, "\n  child exit code %d\n", WEXITSTATUS(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
	laps_test_rmrf(dir);
}

/* ------------------------------------------------------------------ */
/* Cross-field validation                                             */

/* Parse text into a fresh config and validate for use. */
static int
validate_text(const char *text, enum laps_config_use use)
{
	int rc;

	reset();
	rc = parse(text);
	if (rc != 0) {
		fprintf(stderr, "\n  parse failed: %s\n", laps_errdetail());
		return LAPS_ERR_INTERNAL;
	}
	laps_clearerr();
	return laps_config_validate(&cfg, use);
}

#define V_OK(text, use) CU_ASSERT_EQUAL(validate_text(text, use), 0)
#define V_ERR(text, use, n1, n2)                                                                   \
	do {                                                                                       \
		CU_ASSERT_EQUAL(validate_text(text, use), LAPS_ERR_CONFIG);                        \
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
	reset();
	/* The defaults lack recipients. */
	CU_ASSERT_EQUAL(laps_config_validate(&cfg, LAPS_USE_AGENT), LAPS_ERR_CONFIG);
	CU_ASSERT(detail_has("(defaults)"));
	CU_ASSERT(detail_has("[escrow] recipients"));
	CU_ASSERT_EQUAL(laps_config_validate(NULL, LAPS_USE_AGENT), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_config_validate(&cfg, (enum laps_config_use)42), LAPS_ERR_INVALID);

	V_OK(RCP, LAPS_USE_AGENT);
	V_ERR("[escrow]\nbackend = nosuch\nrecipients = /r\n", LAPS_USE_AGENT, "[escrow] backend",
	      "nosuch");
	/* graph is a read-only source: laps-get may use it, the agent may not */
#define GRAPHOK "[graph]\ntoken_url = https://t/\nclient_id = c\nclient_secret_file = /s\n"
	V_ERR("[escrow]\nbackend = graph\nrecipients = /r\n" GRAPHOK, LAPS_USE_AGENT,
	      "[escrow] backend", "read-only");
	V_OK("[escrow]\nbackend = graph\n" GRAPHOK, LAPS_USE_GET);
	V_ERR("[escrow]\nbackend = graph\n", LAPS_USE_GET, "[graph] token_url", NULL);
	/* hash_cost depends on hash */
	V_OK(RCP "[agent]\nhash_cost = 1\n", LAPS_USE_AGENT);
	V_OK(RCP "[agent]\nhash_cost = 11\n", LAPS_USE_AGENT);
	V_ERR(RCP "[agent]\nhash_cost = 12\n", LAPS_USE_AGENT, "[agent] hash_cost", "1..11");
	V_ERR(RCP "[agent]\nhash = sha512\nhash_cost = 999\n", LAPS_USE_AGENT, "[agent] hash_cost",
	      "1000..999999999");
	V_OK(RCP "[agent]\nhash = sha512\nhash_cost = 1000\n", LAPS_USE_AGENT);
	V_OK(RCP "[agent]\nhash = sha512\nhash_cost = 999999999\n", LAPS_USE_AGENT);
	V_OK(RCP "[agent]\nhash = sha512\n", LAPS_USE_AGENT);

	/* account management (issue 13) */
	V_OK(RCP "[agent]\ncreate_account = yes\naccount_uid = 990\naccount_home = /home/x\n"
		 "account_shell = /bin/bash\naccount_groups = sudo wheel\naccount_state = disabled\n",
	     LAPS_USE_AGENT);
	CU_ASSERT_EQUAL(cfg.create_account, LAPS_YES);
	CU_ASSERT_EQUAL(cfg.account_uid, 990);
	CU_ASSERT_STRING_EQUAL(cfg.account_home, "/home/x");
	CU_ASSERT_STRING_EQUAL(cfg.account_shell, "/bin/bash");
	CU_ASSERT_EQUAL_FATAL(cfg.n_account_groups, 2);
	CU_ASSERT_STRING_EQUAL(cfg.account_groups[1], "wheel");
	CU_ASSERT_EQUAL(cfg.account_state, LAPS_ACCOUNT_DISABLED);
	V_ERR(RCP "[agent]\naccount_uid = 990\n", LAPS_USE_AGENT, "[agent] create_account",
	      "only with create_account = yes");
	V_ERR(RCP "[agent]\ncreate_account = yes\naccount_uid = 0\n", LAPS_USE_AGENT,
	      "[agent] account_uid", "allow_uid0");
	V_OK(RCP "[agent]\ncreate_account = yes\naccount_uid = 0\nallow_uid0 = yes\n",
	     LAPS_USE_AGENT);
	V_ERR(RCP "[agent]\naccounts = a b\ncreate_account = yes\naccount_uid = 990\n",
	      LAPS_USE_AGENT, "[agent] account_uid", "exactly one account");
	/* recipients: optional only where the backend stores clear text */
	V_OK("[escrow]\nbackend = ldap\n[ldap]\nuri = ldap://h\nbind = gssapi\ndn = cn=x\n"
	     "schema = mslaps\n",
	     LAPS_USE_AGENT);
	V_OK("[escrow]\nbackend = ldap\n[ldap]\nuri = ldap://h\nbind = gssapi\ndn = cn=x\n"
	     "schema = legacy\n",
	     LAPS_USE_AGENT);
	V_ERR("[escrow]\nbackend = ldap\n[ldap]\nuri = ldap://h\nbind = gssapi\ndn = cn=x\n",
	      LAPS_USE_AGENT, "[escrow] recipients", "mslaps or legacy");
	V_ERR("[escrow]\nbackend = file\n", LAPS_USE_AGENT, "[escrow] recipients", "required");

	/* ldap */
	V_ERR("[escrow]\nbackend = ldap\nrecipients = /r\n", LAPS_USE_AGENT, "[ldap] uri",
	      "required");
	V_ERR(LDAPOK, LAPS_USE_AGENT, "[ldap] dn", "base and filter");
	V_ERR(LDAPOK "base = dc=x\n", LAPS_USE_AGENT, "[ldap] dn", "base and filter");
	V_OK(LDAPOK "base = dc=x\nfilter = (cn=%h)\n", LAPS_USE_AGENT);
	V_OK(LDAPOK "dn = cn=h,dc=x\n", LAPS_USE_AGENT);
	V_ERR(LDAPB "dn = cn=h\nbind = simple\n", LAPS_USE_AGENT, "[ldap] bind_dn", "simple");
	V_ERR("[escrow]\nbackend = ldap\nrecipients = /r\n[ldap]\nuri = ldap://h\ndn = x\n",
	      LAPS_USE_AGENT, "[ldap] bind_dn", "simple");
	V_ERR(LDAPB "dn = cn=h\nbind = simple\nbind_dn = cn=a\n", LAPS_USE_AGENT,
	      "[ldap] bind_secret_file", "simple");
	V_OK(LDAPB "dn = cn=h\nbind = simple\nbind_dn = cn=a\nbind_secret_file = /s\n",
	     LAPS_USE_AGENT);
	V_ERR(LDAPOK "dn = cn=h\ntls = ldaps\n", LAPS_USE_AGENT, "[ldap] uri", "ldaps");
	V_ERR("[escrow]\nbackend = ldap\nrecipients = /r\n[ldap]\nuri = ldaps://h\nbind = "
	      "gssapi\ndn = x\n",
	      LAPS_USE_AGENT, "[ldap] tls", "ldaps");
	V_OK("[escrow]\nbackend = ldap\nrecipients = /r\n[ldap]\nuri = ldaps://h\ntls = "
	     "ldaps\nbind = gssapi\ndn = x\n",
	     LAPS_USE_AGENT);
	V_OK(LDAPOK "dn = cn=h\ntls = none\n", LAPS_USE_AGENT);
	V_ERR(LDAPOK "dn = cn=h\ncert_file = /c\n", LAPS_USE_AGENT, "[ldap] key_file", "together");
	V_ERR(LDAPOK "dn = cn=h\nkey_file = /k\n", LAPS_USE_AGENT, "[ldap] cert_file", "together");
	V_OK(LDAPB "dn = cn=h\nbind = external\ncert_file = /c\nkey_file = /k\n", LAPS_USE_AGENT);

	/* rest */
	V_ERR("[escrow]\nbackend = rest\nrecipients = /r\n", LAPS_USE_AGENT, "[rest] url",
	      "required");
	V_ERR(RESTOK, LAPS_USE_AGENT, "[rest] token_url", "OAuth2");
	V_ERR(RESTOK "token_url = https://t/\n", LAPS_USE_AGENT, "[rest] client_id", "OAuth2");
	V_ERR(RESTOK "token_url = https://t/\nclient_id = c\n", LAPS_USE_AGENT,
	      "[rest] client_secret_file", "client_secret");
	V_OK(RESTOK "token_url = https://t/\nclient_id = c\nclient_secret_file = /s\n",
	     LAPS_USE_AGENT);
	V_ERR(RESTOK "auth = private_key_jwt\ntoken_url = https://t/\nclient_id = c\n",
	      LAPS_USE_AGENT, "[rest] key_file", "private_key_jwt");
	V_OK(RESTOK "auth = private_key_jwt\ntoken_url = https://t/\nclient_id = c\nkey_file = "
		    "/k\n",
	     LAPS_USE_AGENT);
	V_ERR(RESTOK "auth = mtls\nkey_file = /k\n", LAPS_USE_AGENT, "[rest] cert_file", "mtls");
	V_ERR(RESTOK "auth = mtls\ncert_file = /c\n", LAPS_USE_AGENT, "[rest] key_file", "mtls");
	V_OK(RESTOK "auth = mtls\ncert_file = /c\nkey_file = /k\n", LAPS_USE_AGENT);
	/* an engine-held key: key_uri and key_engine together, instead of key_file */
#define ENG "auth = mtls\ncert_file = /c\n"
#define URI "key_uri = pkcs11:object=dev;type=private\n"
	V_OK(RESTOK ENG "key_engine = pkcs11\n" URI, LAPS_USE_AGENT);
	V_ERR(RESTOK ENG URI, LAPS_USE_AGENT, "[rest] key_uri", "needs key_engine");
	V_ERR(RESTOK ENG "key_engine = pkcs11\n", LAPS_USE_AGENT, "[rest] key_engine",
	      "needs key_uri");
	V_ERR(RESTOK ENG "key_engine = pkcs11\nkey_file = /k\n" URI, LAPS_USE_AGENT,
	      "[rest] key_uri", "exclusive");
	V_ERR(RESTOK "auth = bearer\nbearer_file = /b\nkey_engine = pkcs11\n" URI,
	      LAPS_USE_AGENT, "[rest] key_uri", "auth = mtls");
	V_ERR(RESTOK "auth = mtls\nkey_engine = pkcs11\n" URI, LAPS_USE_AGENT, "[rest] cert_file",
	      "mtls");
#undef URI
#undef ENG
	V_ERR(RESTOK "auth = bearer\n", LAPS_USE_AGENT, "[rest] bearer_file", "bearer");
	V_OK(RESTOK "auth = bearer\nbearer_file = /b\n", LAPS_USE_AGENT);
}

static void
test_validate_other(void)
{
	/* laps-get needs the backend's keys but no recipients. */
	V_OK("", LAPS_USE_GET);
	V_ERR("[escrow]\nbackend = ldap\n", LAPS_USE_GET, "[ldap] uri", NULL);
	V_ERR("[escrow]\nbackend = ldap\n[ldap]\nuri = ldap://h\nbind = gssapi\n", LAPS_USE_GET,
	      "[ldap] base", "required");
	V_OK("[escrow]\nbackend = ldap\n[ldap]\nuri = ldap://h\nbind = gssapi\nbase = dc=x\n",
	     LAPS_USE_GET);
	V_ERR("[escrow]\nbackend = rest\n", LAPS_USE_GET, "[rest] url", NULL);
	V_ERR("[escrow]\nbackend = x\n", LAPS_USE_GET, "[escrow] backend", "file, ldap, rest, graph");

	/* laps-get --source graph */
	V_ERR("", LAPS_USE_GET_GRAPH, "[graph] token_url", "graph");
	V_ERR("[graph]\ntoken_url = https://t/\n", LAPS_USE_GET_GRAPH, "[graph] client_id", NULL);
	V_ERR("[graph]\ntoken_url = https://t/\nclient_id = c\n", LAPS_USE_GET_GRAPH,
	      "[graph] client_secret_file", NULL);
	V_OK("[graph]\ntoken_url = https://t/\nclient_id = c\nclient_secret_file = /s\n",
	     LAPS_USE_GET_GRAPH);

	/* pam_laps: the defaults are enough. */
	V_OK("", LAPS_USE_PAM);
	reset();
	free(cfg.state_dir);
	cfg.state_dir = NULL;
	CU_ASSERT_EQUAL(laps_config_validate(&cfg, LAPS_USE_PAM), LAPS_ERR_CONFIG);
	CU_ASSERT(detail_has("[agent] state_dir"));
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
}

static void
test_free_reinit(void)
{
	struct laps_config c;

	memset(&c, 0, sizeof c);
	laps_config_free(&c); /* zeroed struct: nothing to free */
	laps_config_free(NULL);
	CU_ASSERT_EQUAL(laps_config_init(NULL), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL_FATAL(laps_config_init(&c), 0);
	CU_ASSERT_EQUAL(laps_config_parse(&c, NAME, every_key, strlen(every_key)), 0);
	laps_config_free(&c);
	CU_ASSERT_PTR_NULL(c.path);
	CU_ASSERT_PTR_NULL(c.accounts[0]);
	CU_ASSERT_EQUAL(c.n_accounts, 0);
	CU_ASSERT_EQUAL_FATAL(laps_config_init(&c), 0);
	CU_ASSERT_EQUAL(c.length, 20);
	laps_config_free(&c);
}

/* The shipped examples parse and validate. */
static void
test_examples(void)
{
	static const char *const files[] = {"examples/laps.conf", "examples/laps-get.conf"};
	size_t i;
	int rc;

	for (i = 0; i < 2; i++) {
		reset();
		rc = laps_config_load(&cfg, laps_test_srcpath(files[i]), LAPS_CONFIG_NO_OWNER);
		if (rc != 0)
			fprintf(stderr, "\n  %s: %s\n", files[i], laps_errdetail());
		CU_ASSERT_EQUAL(rc, 0);
		rc = laps_config_validate(&cfg, i == 0 ? LAPS_USE_AGENT : LAPS_USE_GET);
		if (rc != 0)
			fprintf(stderr, "\n  %s: %s\n", files[i], laps_errdetail());
		CU_ASSERT_EQUAL(rc, 0);
	}
}

static CU_TestInfo parse_tests[] = {
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

static CU_TestInfo file_tests[] = {
    {"load", test_load},
    {"owner and mode (root)", test_owner_mode},
    {"check owner when not root", test_check_owner_not_root},
    {"shipped examples", test_examples},
    CU_TEST_INFO_NULL,
};

/* pam_laps' accounts= and state_dir= overrides */
static void
test_pam_overrides(void)
{
	struct laps_config c;
	char long_name[LAPS_ACCOUNT_MAX + 2];

	CU_ASSERT_EQUAL_FATAL(laps_config_init(&c), 0);
	CU_ASSERT_EQUAL(laps_config_set_accounts_csv(&c, "adm1,adm2"), 0);
	CU_ASSERT_EQUAL(c.n_accounts, 2);
	CU_ASSERT_STRING_EQUAL(c.accounts[0], "adm1");
	CU_ASSERT_STRING_EQUAL(c.accounts[1], "adm2");
	/* errors leave the list as it was */
	CU_ASSERT_EQUAL(laps_config_set_accounts_csv(&c, "a,,b"), LAPS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "accounts="));
	CU_ASSERT_EQUAL(laps_config_set_accounts_csv(&c, ""), LAPS_ERR_INVALID);
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	CU_ASSERT_EQUAL(laps_config_set_accounts_csv(&c, long_name), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_config_set_accounts_csv(&c, "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q"),
			LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(c.n_accounts, 2);
	CU_ASSERT_STRING_EQUAL(c.accounts[1], "adm2");
	CU_ASSERT_EQUAL(laps_config_set_state_dir(&c, "relative"), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_config_set_state_dir(&c, "/run/laps"), 0);
	CU_ASSERT_STRING_EQUAL(c.state_dir, "/run/laps");
	CU_ASSERT_EQUAL(laps_config_validate(&c, LAPS_USE_PAM), 0);
	/* names follow the same rule as [agent] accounts */
	CU_ASSERT_EQUAL(laps_config_set_accounts_csv(&c, "ok,../etc"), LAPS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "'../etc'"));
	CU_ASSERT_EQUAL(laps_config_set_accounts_csv(&c, "Root"), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(c.n_accounts, 2);
	laps_config_free(&c);
}

static CU_TestInfo validate_tests[] = {
    {"agent", test_validate_agent},
    {"pam overrides", test_pam_overrides},
    {"laps-get, graph, pam", test_validate_other},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"config-parse", setup, teardown, NULL, NULL, parse_tests},
    {"config-file", setup, teardown, NULL, NULL, file_tests},
    {"config-validate", setup, teardown, NULL, NULL, validate_tests},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	return laps_test_main(argc, argv, suites);
}
