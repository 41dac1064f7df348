/*
 * rest_conf.h — [rest]: laps-escrowd's URL, how to authenticate to it,
 * timeouts and retries (rest_conf.c declares the keys and rules; the
 * module's code reads the struct).
 */
#ifndef LAPS_REST_CONF_H
#define LAPS_REST_CONF_H

#include <stdint.h>

#include "backends/backend_conf.h"
#include "escrow/conf.h"

enum laps_rest_auth {
	LAPS_REST_AUTH_CLIENT_SECRET = 0,
	LAPS_REST_AUTH_PRIVATE_KEY_JWT,
	LAPS_REST_AUTH_MTLS,
	LAPS_REST_AUTH_BEARER,
	LAPS_REST_AUTH_DEVICE_CODE
};

/* Where the device key of key_file lives (backends/rest_keystore.c). */
enum laps_rest_key_store {
	LAPS_REST_KEY_STORE_FILE = 0, /* a PEM private key in key_file */
	LAPS_REST_KEY_STORE_TPM,      /* created in the TPM 2.0; key_file is its wrapped blob */
	LAPS_REST_KEY_STORE_AUTO      /* tpm when there is one (rest_keystore_is_tpm) */
};

/* Every string is malloc'd or NULL (unset). */
struct laps_rest_conf {
	char *url;		  /* https:// base URL of laps-escrowd (before /v1) */
	enum laps_rest_auth auth; /* client_credentials | private_key_jwt | mtls | bearer |
				   * device_code (laps-get only) */
	char *token_url;
	char *device_auth_url; /* RFC 8628 device authorization endpoint (device_code) */
	char *resource;	       /* RFC 8707 resource indicator sent with token requests */
	char *pin;	       /* public-key pin: sha256//BASE64[;sha256//...] */
	char *client_id;
	char *client_secret_file;
	char *key_file;
	char *cert_file;
	char *key_engine; /* OpenSSL engine id for key_uri (auth = mtls) */
	char *key_uri;	  /* engine key (pkcs11:...) instead of key_file */
	enum laps_rest_key_store key_store; /* file | tpm | auto (default file) */
	char *ca_file;
	char *bearer_file;
	char *scope;
	int64_t timeout;  /* 1s..300s (default 10s) */
	unsigned retries; /* 0..10 (default 3): attempts after the first */
	int64_t budget;	  /* 1s..1h (default 120s): all requests of one run */
};

extern const struct laps_conf_section laps_rest_section;
extern const struct laps_backend_conf laps_rest_backend_conf;

static inline struct laps_rest_conf *
laps_rest_conf(const struct laps_conf *c)
{
	return (struct laps_rest_conf *)laps_conf_get(c, &laps_rest_section);
}

/* The name of an auth value (for messages). */
const char *laps_rest_auth_name(enum laps_rest_auth a);

#endif
