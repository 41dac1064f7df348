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
#include "tests/fuzz/jwt_signer.h"
#include "server/auth_token.h"
#include "server/authz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CONFIGS 2
static struct laps_conf cfgs[CONFIGS];
static struct authz authz[CONFIGS];
static struct auth_token *tokens[CONFIGS];

static void
setup(void)
{
	static const char *const extra[CONFIGS] = {
	    "[authz]\nunits = eu:*.eu.example.test\n",
	    "[authz]\nrights_claim = groups\ndevice_claim = azp\ndevice_prefix = host/\n"
	    "device_value = laps-device\nsecret_value = laps-secret\n"
	    "units = eu:*.eu.example.test lab:lab-*\n",
	};
	char dir[] = "/tmp/fuzz_token.XXXXXX", path[64], text[2048];
	unsigned i;

	fuzz_sign_jwks_file(dir, path, sizeof path);
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
	static char tok[3 * 8192];
	struct identity id;
	char why[256];
	size_t n;
	int rc;

	if (tokens[0] == NULL)
		setup();
	if (size < 1 || size > 8192)
		return 0;
	n = fuzz_sign_token(FUZZ_SIGN_HEADER, strlen(FUZZ_SIGN_HEADER), data + 1, size - 1, tok,
			    sizeof tok);
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
