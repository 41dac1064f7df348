/*
 * jwt.h — verification of OAuth 2.0 JWT access tokens (RFC 9068) for
 * laps-escrowd: JWS compact serialisation (RFC 7515) with ES256, RS256
 * (modulus >= 2048 bits) or EdDSA (Ed25519), keys from a JWKS (RFC 7517)
 * found by OpenID Connect discovery or read from a file.
 *
 * Refused: alg "none" and every HS* (a public key is no shared secret), an
 * alg that does not match the key's kty/crv/alg, a "crit" header, a kid that
 * is still unknown after one rate-limited JWKS refresh, tokens over
 * JWT_TOKEN_MAX bytes, JWKS over JWT_JWKS_MAX bytes, non-canonical base64url.
 * Checked: the signature, iss (exact), aud (string or array member), exp and
 * iat (both required), nbf (if present), iat not in the future, each with
 * the configured leeway, and typ "at+jwt" / "application/at+jwt" (case-
 * insensitive) unless require_at_jwt is false.  Scopes and the identity are
 * the caller's business (jwt_claim_*).
 *
 * Implemented with OpenSSL 3 EVP, json-c and libcurl; see
 * docs/DESIGN-NOTES.md for why not cjose.  Error details (laps_errdetail)
 * say what was wrong, never contain the token.
 */
#ifndef LAPS_SERVER_JWT_H
#define LAPS_SERVER_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JWT_TOKEN_MAX 8192	   /* bytes of a compact token */
#define JWT_JWKS_MAX 65536	   /* bytes of a JWKS or a discovery document */
#define JWT_JWKS_KEYS_MAX 64	   /* keys kept from one JWKS */
#define JWT_JSON_DEPTH_MAX 16	   /* nesting of any JSON we parse */
#define JWT_RSA_BITS_MIN 2048
#define JWT_RSA_BITS_MAX 8192

struct jwt_verifier; /* thread-safe (a mutex around the key cache) */

struct jwt_verifier_config {
	const char *issuer;	     /* required: expected iss, also the discovery base (https) */
	const char *audience;	     /* required: expected aud (string or array member) */
	const char *jwks_file;	     /* optional: static JWKS file instead of discovery */
	const char *ca_file;	     /* CA bundle for discovery/JWKS over HTTPS (verified TLS);
				      * NULL: the system's */
	long timeout_ms;	     /* per HTTP fetch (<= 0: 10000) */
	int64_t leeway;		     /* seconds of clock skew allowed for exp/nbf/iat */
	int64_t refresh_min_interval; /* seconds between JWKS fetches (<= 0: 60) */
	bool require_at_jwt;	     /* RFC 9068 typ "at+jwt" (set it true: the default) */
};

/*
 * A verifier for one issuer and audience; the strings are copied.  With
 * jwks_file the keys are read now (errors: that file's); otherwise they are
 * fetched on the first jwt_verify (or jwt_verifier_refresh).
 * Returns 0, LAPS_ERR_INVALID (config), LAPS_ERR_NOMEM, or the file's errors.
 */
int jwt_verifier_new(const struct jwt_verifier_config *cfg, struct jwt_verifier **out)
    __attribute__((warn_unused_result));
void jwt_verifier_free(struct jwt_verifier *v);

/*
 * Fetch the issuer's keys now (discovery, then jwks_uri), whatever the rate
 * limit says; for start-up and readiness checks.  Returns 0 or the fetch's
 * error (LAPS_ERR_UNAVAILABLE, _TIMEOUT, _TLS, _FORMAT, _TOOBIG ...); a
 * failure keeps the keys already known.
 */
int jwt_verifier_refresh(struct jwt_verifier *v, int64_t now) __attribute__((warn_unused_result));

struct jwt_claims; /* opaque: the verified payload */

/*
 * Verify token[0..len) at time now (seconds since the epoch).  On success
 * *out holds the claims (free with jwt_claims_free).  Returns 0;
 * LAPS_ERR_AUTH for every problem of the token (the detail says which);
 * LAPS_ERR_UNAVAILABLE, _TIMEOUT, _TLS or _FORMAT when no keys could be
 * obtained from the issuer at all (a server answers 503, not 401);
 * LAPS_ERR_NOMEM.  An unknown kid triggers one JWKS fetch, at most once per
 * refresh_min_interval.
 */
int jwt_verify(struct jwt_verifier *v, const char *token, size_t len, int64_t now,
	       struct jwt_claims **out) __attribute__((warn_unused_result));

/* The string claim name, or NULL if absent or not a string.  Valid until
 * jwt_claims_free. */
const char *jwt_claim_str(const struct jwt_claims *c, const char *name);

/* True if claim name is a string equal to value, or an array containing that
 * string, or (for "scope" and "scp" strings) a space-separated list
 * containing it. */
bool jwt_claim_has(const struct jwt_claims *c, const char *name, const char *value);

/* The integer claim name, or dflt if absent or not an integer. */
int64_t jwt_claim_int(const struct jwt_claims *c, const char *name, int64_t dflt);

void jwt_claims_free(struct jwt_claims *c);

/* ---- pure parsing and verification, for tests and the fuzzer ---- */

struct jwt_keyset;

/*
 * Parse a JWKS (at most JWT_JWKS_MAX bytes).  Keys that are not for
 * signatures or of an unsupported type are skipped; a usable key with bad
 * material is an error.  Returns 0, LAPS_ERR_TOOBIG, LAPS_ERR_FORMAT (also
 * when no key is usable), LAPS_ERR_NOMEM.
 */
int jwt_jwks_parse(const char *json, size_t len, struct jwt_keyset **out)
    __attribute__((warn_unused_result));
size_t jwt_keyset_count(const struct jwt_keyset *ks);
void jwt_keyset_free(struct jwt_keyset *ks);

/*
 * The issuer's OpenID Connect discovery document (at most JWT_JWKS_MAX
 * bytes): its issuer must be exactly issuer, its jwks_uri https.  *jwks_uri
 * (malloc'd) on success; LAPS_ERR_FORMAT, LAPS_ERR_TOOBIG, LAPS_ERR_NOMEM.
 */
int jwt_discovery_parse(const char *json, size_t len, const char *issuer, char **jwks_uri)
    __attribute__((warn_unused_result));

/*
 * jwt_verify against a fixed keyset (no fetching; an unknown kid is
 * LAPS_ERR_AUTH).  cfg->issuer and cfg->audience are required.
 */
int jwt_verify_keyset(const struct jwt_keyset *ks, const struct jwt_verifier_config *cfg,
		      const char *token, size_t len, int64_t now, struct jwt_claims **out)
    __attribute__((warn_unused_result));

#endif
