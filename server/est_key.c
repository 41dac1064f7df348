/*
 * est_key.c — the EST issuing CA's key held by an OpenSSL engine
 * ([est] ca_key = pkcs11:..., [est] ca_key_engine, default "pkcs11"): the
 * key never leaves its token; OpenSSL signs through the engine.
 *
 * This is the same mechanism as the REST backend's [rest] key_engine +
 * key_uri, which hands both to libcurl (CURLOPT_SSLENGINE, CURLOPT_SSLKEY):
 * libcurl calls ENGINE_by_id(), ENGINE_init() and ENGINE_load_private_key()
 * inside itself; laps-escrowd has no libcurl handle to sign with, so it
 * makes the same three calls here (and keeps the engine initialised as
 * long as the key lives: est_key_engine_release()).  The engine and its module are
 * configured in OpenSSL's configuration (OPENSSL_CONF), as for [rest]; the
 * token's PIN comes from the URI (pin-source=file:..., a root-owned 0600
 * file, or pin-value in the 0600 configuration).  Debian 12 has the pkcs11
 * engine (libengine-pkcs11-openssl) and no PKCS#11 provider, hence the
 * engine API, deprecated in OpenSSL 3.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "config.h"

#include <openssl/engine.h>
#include <openssl/evp.h>
#include <string.h>

#include "escrow/err.h"
#include "server/est_key.h"

#define ENGINE_ID "pkcs11"

bool
est_key_is_uri(const char *ca_key)
{
	return ca_key != NULL && strncmp(ca_key, "pkcs11:", 7) == 0;
}

int
est_key_engine_load(const char *uri, EVP_PKEY **out, void **engine)
{
	const char *id = ENGINE_ID;
	ENGINE *e;

	*out = NULL;
	*engine = NULL;
	if ((e = ENGINE_by_id(id)) == NULL)
		return laps_seterr(LAPS_ERR_CONFIG,
				   "[est] ca_key: OpenSSL engine \"%s\" not available "
				   "(configure it in OpenSSL's configuration, OPENSSL_CONF)",
				   id);
	if (ENGINE_init(e) != 1) {
		ENGINE_free(e);
		return laps_seterr(LAPS_ERR_CONFIG,
				   "[est] ca_key: OpenSSL engine \"%s\" failed to initialise", id);
	}
	if ((*out = ENGINE_load_private_key(e, uri, NULL, NULL)) == NULL) {
		est_key_engine_release(e);
		return laps_seterr(LAPS_ERR_CONFIG,
				   "[est] ca_key: engine \"%s\" loaded no private key from the URI "
				   "(wrong token, object, or PIN)",
				   id);
	}
	*engine = e; /* success: initialised until est_key_engine_release() */
	return 0;
}

void
est_key_engine_release(void *engine)
{
	if (engine == NULL)
		return;
	ENGINE_finish(engine);
	ENGINE_free(engine);
}
