/*
 * est_key.h — the EST issuing CA's key in a PKCS#11 token through
 * OpenSSL's pkcs11 engine (est_key.c); private to server/est.c.
 */
#ifndef LAPS_SERVER_EST_KEY_H
#define LAPS_SERVER_EST_KEY_H

#include <stdbool.h>

#include <openssl/evp.h>

/* Is [est] ca_key a PKCS#11 URI ("pkcs11:...") rather than a file? */
bool est_key_is_uri(const char *ca_key);

/* Load the private key uri names through the "pkcs11" engine (configured
 * in OpenSSL's configuration).  0 with *out and *engine (kept initialised
 * for the key; est_key_engine_release() after EVP_PKEY_free()), or
 * LAPS_ERR_CONFIG saying what failed. */
int est_key_engine_load(const char *uri, EVP_PKEY **out, void **engine)
    __attribute__((warn_unused_result));
void est_key_engine_release(void *engine);

#endif
