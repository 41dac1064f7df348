/*
 * rest_conf.c — [rest]: its keys, defaults and rules.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "backends/rest_conf.h"
#include "escrow/err.h"

_Static_assert(sizeof(enum laps_rest_auth) == sizeof(int), "enum size");
_Static_assert(sizeof(enum laps_rest_key_store) == sizeof(int), "enum size");

static const char *const auth_names[] = {
    "client_credentials", "private_key_jwt", "mtls", "bearer", "device_code", NULL};

static const char *const key_store_names[] = {"file", "tpm", "auto", NULL};

#define HOUR_S 3600LL

/* [rest] url: https:// only, to every host (a device's escrow service is
 * never reached in clear, not even on 127.0.0.1), then the common URL
 * rules.  One rule, one message: the same text as validate_urls. */
#define REST_URL_HTTPS "must be an https:// URL (TLS is never optional, not even to 127.0.0.1)"

static const char *
check_rest_url(const char *v)
{
	if (strncmp(v, "https://", 8) != 0)
		return REST_URL_HTTPS;
	return laps_conf_check_url(v);
}

/* clang-format off */
#define S struct laps_rest_conf
static const struct laps_conf_key rest_keys[] = {
    LAPS_CONF_KEY_STR("url", LAPS_CONF_STRING, S, url, check_rest_url),
    LAPS_CONF_KEY_ENUM("auth", S, auth, auth_names),
    LAPS_CONF_KEY_STR("token_url", LAPS_CONF_URL, S, token_url, NULL),
    LAPS_CONF_KEY_STR("device_auth_url", LAPS_CONF_URL, S, device_auth_url, NULL),
    LAPS_CONF_KEY_STR("resource", LAPS_CONF_STRING, S, resource, NULL),
    LAPS_CONF_KEY_STR("pin", LAPS_CONF_STRING, S, pin, NULL),
    LAPS_CONF_KEY_STR("client_id", LAPS_CONF_STRING, S, client_id, NULL),
    LAPS_CONF_KEY_STR("client_secret_file", LAPS_CONF_PATH, S, client_secret_file, NULL),
    LAPS_CONF_KEY_STR("key_file", LAPS_CONF_PATH, S, key_file, NULL),
    LAPS_CONF_KEY_STR("cert_file", LAPS_CONF_PATH, S, cert_file, NULL),
    LAPS_CONF_KEY_STR("key_engine", LAPS_CONF_NAME, S, key_engine, NULL),
    LAPS_CONF_KEY_STR("key_uri", LAPS_CONF_STRING, S, key_uri, NULL),
    LAPS_CONF_KEY_ENUM("key_store", S, key_store, key_store_names),
    LAPS_CONF_KEY_STR("ca_file", LAPS_CONF_PATH, S, ca_file, NULL),
    LAPS_CONF_KEY_STR("bearer_file", LAPS_CONF_PATH, S, bearer_file, NULL),
    LAPS_CONF_KEY_STR("scope", LAPS_CONF_STRING, S, scope, NULL),
    LAPS_CONF_KEY_DURATION("timeout", S, timeout, 1, 300),
    LAPS_CONF_KEY_UINT("retries", S, retries, 0, 10),
    LAPS_CONF_KEY_DURATION("budget", S, budget, 1, HOUR_S),
};
#undef S
/* clang-format on */

static int
rest_defaults(void *p)
{
	struct laps_rest_conf *r = p;

	r->auth = LAPS_REST_AUTH_CLIENT_SECRET;
	r->timeout = 10;
	r->retries = 3;
	r->budget = 120;
	return 0;
}

const struct laps_conf_section laps_rest_section = {"rest", rest_keys,
						    sizeof rest_keys / sizeof rest_keys[0],
						    sizeof(struct laps_rest_conf), rest_defaults};

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

#define ERR(key, what) laps_conf_err(c, "rest", key, what)

/* The mTLS key held by an OpenSSL engine (a PKCS#11 token, a TPM): key_uri
 * names it, key_engine loads it; one without the other means nothing. */
static int
validate_key(const struct laps_conf *c, const struct laps_rest_conf *r)
{
	if (r->key_uri == NULL && r->key_engine == NULL)
		return 0;
	if (r->key_uri == NULL)
		return ERR("key_engine", "needs key_uri (the key the engine loads)");
	if (r->key_engine == NULL)
		return ERR("key_uri", "needs key_engine (the OpenSSL engine that loads it, e.g. "
				      "pkcs11)");
	if (r->auth != LAPS_REST_AUTH_MTLS)
		return ERR("key_uri", "only used with auth = mtls");
	if (r->key_file != NULL)
		return ERR("key_uri",
			   "key_file and key_uri are exclusive (a file or an engine key)");
	return 0;
}

/* key_store = tpm | auto: the TPM-wrapped blob is key_file, for the mTLS
 * pair or the private_key_jwt assertion; an engine key is something else. */
static int
validate_key_store(const struct laps_conf *c, const struct laps_rest_conf *r)
{
	if (r->key_store == LAPS_REST_KEY_STORE_FILE)
		return 0;
	if (r->key_uri != NULL)
		return ERR("key_store", "key_uri names an engine key: key_store must be file");
	if (r->auth != LAPS_REST_AUTH_MTLS && r->auth != LAPS_REST_AUTH_PRIVATE_KEY_JWT)
		return ERR("key_store", "only used with auth = mtls or private_key_jwt");
	return 0;
}

static int
validate_urls(const struct laps_conf *c, const struct laps_rest_conf *r)
{
	if (r->url == NULL)
		return ERR("url", "required when backend = rest");
	if (!has_prefix(r->url, "https://"))
		return ERR("url", REST_URL_HTTPS);
	if (r->device_auth_url != NULL && !has_prefix(r->device_auth_url, "https://"))
		return ERR("device_auth_url", "must be an https:// URL");
	if (r->token_url != NULL && !has_prefix(r->token_url, "https://"))
		return ERR("token_url", "must be an https:// URL");
	if (r->pin != NULL && !has_prefix(r->pin, "sha256//"))
		return ERR("pin", "must be sha256//BASE64 (several joined by ';')");
	return 0;
}

static int
validate_auth(const struct laps_conf *c, const struct laps_rest_conf *r,
	      enum laps_backend_role role)
{
	switch (r->auth) {
	case LAPS_REST_AUTH_CLIENT_SECRET:
	case LAPS_REST_AUTH_PRIVATE_KEY_JWT:
		if (r->token_url == NULL)
			return ERR("token_url", "required for OAuth2 auth");
		if (r->client_id == NULL)
			return ERR("client_id", "required for OAuth2 auth");
		if (r->auth == LAPS_REST_AUTH_CLIENT_SECRET && r->client_secret_file == NULL)
			return ERR("client_secret_file", "required when auth = client_credentials");
		if (r->auth == LAPS_REST_AUTH_PRIVATE_KEY_JWT && r->key_file == NULL)
			return ERR("key_file", "required when auth = private_key_jwt");
		return 0;
	case LAPS_REST_AUTH_MTLS:
		if (r->cert_file == NULL)
			return ERR("cert_file", "required when auth = mtls");
		if (r->key_file == NULL && r->key_uri == NULL)
			return ERR("key_file",
				   "required when auth = mtls (or key_uri with key_engine)");
		return 0;
	case LAPS_REST_AUTH_BEARER:
		if (r->bearer_file == NULL)
			return ERR("bearer_file", "required when auth = bearer");
		return 0;
	case LAPS_REST_AUTH_DEVICE_CODE:
		if (role == LAPS_ROLE_AGENT)
			return ERR("auth",
				   "device_code is an administrator's sign-in (laps-get only)");
		if (r->token_url == NULL)
			return ERR("token_url", "required when auth = device_code");
		if (r->device_auth_url == NULL)
			return ERR("device_auth_url", "required when auth = device_code");
		if (r->client_id == NULL)
			return ERR("client_id", "required when auth = device_code");
		return 0;
	default:
		return ERR("auth", "unknown value");
	}
}

static int
rest_validate(const struct laps_conf *c, enum laps_backend_role role)
{
	const struct laps_rest_conf *r = laps_rest_conf(c);
	int rc;

	if ((rc = validate_key(c, r)) != 0 || (rc = validate_key_store(c, r)) != 0 ||
	    (rc = validate_urls(c, r)) != 0)
		return rc;
	return validate_auth(c, r, role);
}

const struct laps_backend_conf laps_rest_backend_conf = {"rest", &laps_rest_section, rest_validate,
							 NULL, 0};

const char *
laps_rest_auth_name(enum laps_rest_auth a)
{
	return laps_conf_enum_name(auth_names, (int)a);
}
