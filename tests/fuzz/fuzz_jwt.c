/*
 * fuzz_jwt.c — libFuzzer target for server/jwt.c: JWKS parsing and token
 * parsing/verification.
 *
 * Input without a NUL byte: verified as a token against a fixed keyset
 * (ES256 "es", RS256 "rs", EdDSA "ed"; the seeds token-* are signed by it,
 * so the claim checks are reached) and parsed as a JWKS.  Input with a NUL:
 * the part before it is parsed as a JWKS and the part after it verified as
 * a token against that keyset.
 *
 * Input starting with byte 0x01 (the signing mode, so that the claim
 * checks -- iss, aud strings and arrays, exp/nbf/iat, typ, scope words --
 * run on fuzzed claims and not only on the committed seeds): byte 1 picks
 * the verifier's options and a header; the rest is the payload, or
 * "HEADER\nPAYLOAD".  The harness signs it with its own Ed25519 key
 * (fixed seed, deterministic signatures), which its keyset trusts.
 */
#include "config.h"

#include "server/jwt.h"
#include "tests/fuzz/jwt_signer.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char fixed_jwks[] =
	"{\"keys\":[{\"kty\":\"EC\",\"x\":\"sgvkAvFHrFVbk2anHlS1WSa-"
	"bx5pPS9_DYLA6MQg9Q8\",\"y\":\"XxwG-x8YxXO3l0YU31YxavJ-AqGc8iaCN0gBS4zlG8I\",\"crv\":\"P-"
	"256\",\"kid\":\"es\",\"alg\":\"ES256\",\"use\":\"sig\"},{\"kty\":\"RSA\",\"n\":\"kTEC9a8rtvcb7Xtkkaq"
	"igTG2x1bMVcE0hhstdu9PG7-hi2XMLms7aieYep7BhJsf-y-ES-dOKTy9hhSwTQNSKHM3y1RRUCAODvW"
	"7EaZI-"
	"2SjYnjpWJBCFz5MeLzKD99SAYC3Y6mDnSO9aemUfq06mt6xIPvxXkpzimjPRuVTCKXd3U0nWU_GAVJsK"
	"wY1_7g-i4REvpKh6J3kzGdkVZHoJ-8AsRdcTWSB8R6XovR0wWFwy4b8SdUFGdzlR-Bz3s00u6TPbo-Ti"
	"H9FRdYmHEKypcW1wxzrsK8i3P3xDJQbGEDVvs79AMDjnp4jP9Uzk_jU1IADLO9daFovCLcLif1ysQ\",\""
	"e\":\"AQAB\",\"kid\":\"rs\",\"alg\":\"RS256\",\"use\":\"sig\"},{\"crv\":\"Ed25519\",\"x\":\"72-"
	"IPSYTKAnMEa-Mu8gv3a-cVDhPqSHUFb3-"
	"gXDI19w\",\"kty\":\"OKP\",\"kid\":\"ed\",\"alg\":\"EdDSA\",\"use\":\"sig\"}]}";

static struct jwt_keyset *fixed;
static struct jwt_keyset *signing_ks;

#define SIGN_MAX 16384

static void
signing_init(void)
{
	char jwks[512];

	fuzz_sign_init(jwks, sizeof jwks);
	if (jwt_jwks_parse(jwks, strlen(jwks), &signing_ks) != 0)
		abort();
}

/* b64url(header) "." b64url(payload) "." b64url(Ed25519 signature) */
static void
sign_and_verify(unsigned opts, const char *hdr, size_t hlen, const char *pay, size_t plen)
{
	static const char *const headers[] = {
	    "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"fz\"}",
	    "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\"}",
	    "{\"alg\":\"EdDSA\",\"typ\":\"application/at+jwt\",\"kid\":\"fz\"}",
	    "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"fz\"}",
	};
	static const char *const auds[] = {"https://laps-escrowd.test", "laps"};
	struct jwt_verifier_config cfg = {.issuer = "https://issuer.test",
					  .audience = auds[(opts >> 2) & 1],
					  .leeway = (opts & 0x08) ? 0 : 60,
					  .require_at_jwt = (opts & 0x10) == 0};
	static char tok[3 * SIGN_MAX];
	struct jwt_claims *c = NULL;
	size_t n;

	if (hdr == NULL) {
		hdr = headers[opts & 3];
		hlen = strlen(hdr);
	}
	n = fuzz_sign_token(hdr, hlen, pay, plen, tok, sizeof tok);
	if (jwt_verify_keyset(signing_ks, &cfg, tok, n, 1800000100, &c) == 0) {
		if (c == NULL)
			abort();
		(void)jwt_claim_str(c, "sub");
		(void)jwt_claim_str(c, "client_id");
		(void)jwt_claim_has(c, "scope", "laps.device");
		(void)jwt_claim_has(c, "scope", "laps.secret@eu");
		(void)jwt_claim_has(c, "groups", "laps-admins");
		(void)jwt_claim_has(c, "roles", "laps.read");
		(void)jwt_claim_int(c, "exp", 0);
		(void)jwt_claim_int(c, "iat", -1);
		jwt_claims_free(c);
	} else if (c != NULL) {
		abort();
	}
}

static void
try_token(const struct jwt_keyset *ks, const char *tok, size_t len)
{
	struct jwt_verifier_config cfg = {.issuer = "https://issuer.test",
					  .audience = "https://laps-escrowd.test",
					  .leeway = 60,
					  .require_at_jwt = true};
	struct jwt_claims *c = NULL;

	if (jwt_verify_keyset(ks, &cfg, tok, len, 1800000100, &c) == 0) {
		(void)jwt_claim_str(c, "sub");
		(void)jwt_claim_has(c, "scope", "laps.device");
		(void)jwt_claim_has(c, "groups", "laps-admins");
		(void)jwt_claim_int(c, "exp", 0);
		jwt_claims_free(c);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jwt_keyset *ks = NULL;
	const char *s = (const char *)data;
	const char *nul = memchr(s, '\0', size);

	if (fixed == NULL && jwt_jwks_parse(fixed_jwks, strlen(fixed_jwks), &fixed) != 0)
		abort();
	if (signing_ks == NULL)
		signing_init();
	if (size >= 2 && data[0] == 0x01) {
		const char *p = s + 2, *nl = memchr(p, '\n', size - 2);

		if (size - 2 > SIGN_MAX)
			return 0;
		if (nl == NULL)
			sign_and_verify(data[1], NULL, 0, p, size - 2);
		else
			sign_and_verify(data[1], p, (size_t)(nl - p), nl + 1,
					size - 2 - (size_t)(nl - p) - 1);
		return 0;
	}
	if (nul == NULL) {
		try_token(fixed, s, size);
		if (jwt_jwks_parse(s, size, &ks) == 0)
			jwt_keyset_free(ks);
		return 0;
	}
	if (jwt_jwks_parse(s, (size_t)(nul - s), &ks) == 0) {
		try_token(ks, nul + 1, size - (size_t)(nul - s) - 1);
		jwt_keyset_free(ks);
	}
	return 0;
}
