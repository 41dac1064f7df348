/*
 * jwt_signer.c — see jwt_signer.h.
 */
#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/fileio.h"
#include "tests/fuzz/jwt_signer.h"

static unsigned char sign_sk[crypto_sign_SECRETKEYBYTES];

void
fuzz_sign_init(char *jwks, size_t cap)
{
	unsigned char seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	char x[64];
	int n;

	if (sodium_init() < 0)
		abort();
	memset(seed, 0x5a, sizeof seed);
	crypto_sign_seed_keypair(pk, sign_sk, seed);
	sodium_bin2base64(x, sizeof x, pk, sizeof pk, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	n = snprintf(jwks, cap,
		     "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"kid\":\"fz\","
		     "\"alg\":\"EdDSA\",\"use\":\"sig\"}]}",
		     x);
	if (n < 0 || (size_t)n >= cap)
		abort();
}

void
fuzz_sign_jwks_file(char *dir_template, char *path, size_t cap)
{
	char jwks[512];
	int n;

	fuzz_sign_init(jwks, sizeof jwks);
	if (mkdtemp(dir_template) == NULL)
		abort();
	n = snprintf(path, cap, "%s/jwks.json", dir_template);
	if (n < 0 || (size_t)n >= cap ||
	    laps_file_write_atomic(path, jwks, strlen(jwks), 0600) != 0)
		abort();
}

static size_t
b64(char *out, size_t cap, const void *in, size_t len)
{
	if (sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING) > cap)
		abort();
	sodium_bin2base64(out, cap, in, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return strlen(out);
}

size_t
fuzz_sign_token(const char *hdr, size_t hlen, const void *pay, size_t plen, char *tok, size_t cap)
{
	unsigned char sig[crypto_sign_BYTES];
	size_t n;

	n = b64(tok, cap, hdr, hlen);
	if (n + 1 >= cap)
		abort();
	tok[n++] = '.';
	n += b64(tok + n, cap - n, pay, plen);
	crypto_sign_detached(sig, NULL, (const unsigned char *)tok, n, sign_sk);
	if (n + 1 >= cap)
		abort();
	tok[n++] = '.';
	n += b64(tok + n, cap - n, sig, sizeof sig);
	return n;
}
