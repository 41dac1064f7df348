/*
 * rest_auth.h — how the REST backend authenticates ([rest] auth =):
 *
 *   client_credentials  OAuth 2.0 client credentials, client_secret_basic,
 *                       the secret from client_secret_file
 *   private_key_jwt     client credentials with an RFC 7523 assertion signed
 *                       by the device's own key (key_file; ES256 for P-256,
 *                       RS256 for RSA, EdDSA for Ed25519), a fresh jti, a
 *                       60 s lifetime and aud = token_url
 *   mtls                the TLS client certificate is the credential
 *   bearer              a token read from bearer_file
 *   device_code         laps-get only: an administrator signs in with the
 *                       OAuth 2.0 device authorization grant (RFC 8628);
 *                       the tokens are cached in $XDG_CACHE_HOME/laps/
 *                       (or ~/.cache/laps/), mode 0600, and refreshed with
 *                       the refresh token
 *
 * A token is requested once per run and reused; after a 401 the backend
 * calls rest_auth_refresh once.  Files with secrets must be root-owned and
 * not group/world-accessible when running as root (the agent), owned by the
 * user otherwise (laps-get).  Tokens and secrets live in laps_secret memory.
 */
#ifndef LAPS_BACKEND_REST_AUTH_H
#define LAPS_BACKEND_REST_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "backends/rest_secret.h"
#include "backends/rest_http.h"
#include "escrow/backend.h"

struct rest_auth; /* opaque */

/* h is borrowed (token requests go through it). */
int rest_auth_new(const struct laps_conf *cfg, enum laps_backend_role role, struct rest_http *h,
		  struct rest_auth **out) __attribute__((warn_unused_result));
void rest_auth_free(struct rest_auth *a);

/*
 * The whole "Authorization: Bearer ..." header for the next request (owned
 * by a; valid until the next call), or *hdr = NULL when TLS carries the
 * credential (mtls).  Gets a token the first time.  LAPS_ERR_AUTH (the
 * issuer refused), LAPS_ERR_PERM (a secret file's owner/mode), transport
 * errors as rest_http_send.
 */
int rest_auth_header(struct rest_auth *a, const char **hdr) __attribute__((warn_unused_result));

/* After a 401: drop the token and get a new one, once per run.
 * LAPS_ERR_AUTH when that is not possible (bearer, mtls, done already). */
int rest_auth_refresh(struct rest_auth *a) __attribute__((warn_unused_result));

/* rest_auth_read_secret: backends/rest_secret.h */

/* For tests/fuzz/fuzz_rest_files.c: the device flow's token cache file as
 * laps-get reads it (its bytes, n at most 64 KiB): 0 with *expires_at and
 * whether it holds a refresh token, else LAPS_ERR_FORMAT or LAPS_ERR_TOOBIG.
 * The tokens are wiped before it returns. */
int rest_auth_cache_check(const char *buf, size_t n, int64_t *expires_at, bool *has_refresh)
    __attribute__((warn_unused_result));

/* Exposed for the unit tests: the signed RFC 7523 assertion for client_id
 * and aud with the PEM private key in pem[0..len) (alg by key type); *out is
 * malloc'd. */
int rest_auth_assertion(const char *pem, size_t len, const char *client_id, const char *aud,
			int64_t now, char **out) __attribute__((warn_unused_result));

#endif
