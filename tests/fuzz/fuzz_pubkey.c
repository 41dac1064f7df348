/*
 * fuzz_pubkey.c — libFuzzer target for the admin key parsers: the input is
 * parsed as a public key line (laps_pubkey_parse) and as a private key file
 * (laps_privkey_parse without a passphrase, so protected files stop before
 * the Argon2id KDF and the fuzzer stays fast).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/keys.h"
#include "escrow/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct laps_pubkey pub;
	struct laps_privkey priv;
	char line[LAPS_PUBKEY_LINE_MAX + 1];
	char *text;
	int rc;

	if (laps_crypto_init() != 0)
		abort();
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	if (size)
		memcpy(text, data, size);
	text[size] = '\0';

	rc = laps_pubkey_parse(text, &pub);
	if (rc == 0) {
		/* what parses formats back to a line that parses to the same key */
		struct laps_pubkey again;
		if (laps_pubkey_format(&pub, line, sizeof line) != 0 ||
		    laps_pubkey_parse(line, &again) != 0 ||
		    memcmp(again.pk, pub.pk, sizeof pub.pk) != 0 ||
		    strcmp(again.comment, pub.comment) != 0 || strcmp(again.id, pub.id) != 0)
			abort();
	} else if (rc != LAPS_ERR_FORMAT) {
		abort();
	}

	rc = laps_privkey_parse(text, size, "fuzz", NULL, &priv);
	if (rc == 0) {
		if (priv.sk == NULL)
			abort();
		laps_privkey_clear(&priv);
	} else if (rc != LAPS_ERR_FORMAT && rc != LAPS_ERR_VERSION && rc != LAPS_ERR_TOOBIG &&
		   rc != LAPS_ERR_PASSPHRASE) {
		abort();
	}
	free(text);
	return 0;
}
