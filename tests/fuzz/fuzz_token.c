/*
 * fuzz_token.c — bearer tokens to identities (server/auth_token.c): the
 * harness signs the fuzzed claims with a key its JWKS file trusts, so every
 * input passes the signature and reaches jwt.c's claim checks (iss, aud
 * string or array, exp/nbf/iat) and then auth_token.c's mapping (rights
 * claim values, per unit; device claim minus prefix), against configs
 * parsed from text.
 *
 * Input: byte 0 picks the config (default claims: scope and client_id; or
 * groups and azp with a device prefix); the rest is the claims JSON.
 * Properties: success is a device with a valid device name or an admin
 * with a subject; a refusal always says why.
 */
#include "config.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/record.h"
#include "server/escrowd_conf.h"
#include "server/auth_token.h"
#include "server/authz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CONFIGS 2
static struct laps_conf cfgs[CONFIGS];
static struct authz authz[CONFIGS];
static struct auth_token *tokens[CONFIGS];
static unsigned char sign_sk[crypto_sign_SECRETKEYBYTES];

static void
setup(void)
{
	static const char *const extra[CONFIGS] = {
	    "[authz]\nunits = eu:*.eu.example.test\n",
	    "[authz]\nrights_claim = groups\ndevice_claim = azp\ndevice_prefix = host/\n"
	    "device_value = laps-device\nsecret_value = laps-secret\n"
	    "units = eu:*.eu.example.test lab:lab-*\n",
	};
	unsigned char seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	char dir[] = "/tmp/fuzz_token.XXXXXX", path[64], x[64], text[2048], jwks[512];
	unsigned i;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		abort();
	memset(seed, 0x5a, sizeof seed);
	crypto_sign_seed_keypair(pk, sign_sk, seed);
	sodium_bin2base64(x, sizeof x, pk, sizeof pk, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(jwks, sizeof jwks,
		 "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"kid\":\"fz\","
		 "\"alg\":\"EdDSA\",\"use\":\"sig\"}]}",
		 x);
	snprintf(path, sizeof path, "%s/jwks.json", dir);
	if (laps_file_write_atomic(path, jwks, strlen(jwks), 0600) != 0)
		abort();
	for (i = 0; i < CONFIGS; i++) {
		snprintf(
		    text, sizeof text,
		    "[oidc]\nissuer = https://issuer.test\naudience = https://laps-escrowd.test\n"
		    "jwks_file = %s\nleeway = 60s\n%s",
		    path, extra[i]);
		if (laps_conf_init(&cfgs[i], &laps_escrowd_schema) != 0 ||
		    laps_conf_parse(&cfgs[i], "fuzz.conf", text, strlen(text)) != 0 ||
		    authz_init(&authz[i], &cfgs[i]) != 0 ||
		    auth_token_new(&cfgs[i], &authz[i], &tokens[i]) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char hdr[] = "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"fz\"}";
	static char tok[3 * 8192];
	unsigned char sig[crypto_sign_BYTES];
	struct identity id;
	char why[256];
	size_t n;
	int rc;

	if (tokens[0] == NULL)
		setup();
	if (size < 1 || size > 8192)
		return 0;
	sodium_bin2base64(tok, sizeof tok, (const unsigned char *)hdr, sizeof hdr - 1,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	n = strlen(tok);
	tok[n++] = '.';
	sodium_bin2base64(tok + n, sizeof tok - n, data + 1, size - 1,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	n += strlen(tok + n);
	crypto_sign_detached(sig, NULL, (const unsigned char *)tok, n, sign_sk);
	tok[n++] = '.';
	sodium_bin2base64(tok + n, sizeof tok - n, sig, sizeof sig,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	n += strlen(tok + n);
	why[0] = '\0';
	rc = auth_token_verify(tokens[data[0] % CONFIGS], tok, n, 1800000000, &id, why, sizeof why);
	if (rc == 0) {
		if (id.kind == ID_DEVICE ? !laps_record_device_ok(id.device)
					 : id.kind != ID_ADMIN || id.actor[0] == '\0')
			abort();
	} else if (rc != LAPS_ERR_AUTH || why[0] == '\0') {
		abort();
	}
	laps_clearerr();
	return 0;
}
