/*
 * fuzz_est_answer.c — the agent's EST client's check of a server answer
 * (backends/rest_est.c laps_est_parse_answer(): base64, DER PKCS#7
 * certs-only, the certificate for the request's key, its name, validity),
 * with a key made at start-up.
 *
 * Property: no crash, no leak; an answer is accepted only if it holds a
 * certificate for that key (which a fuzzer cannot forge), so every input
 * is refused.
 */
#include "config.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>

#include "backends/rest_est.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *key;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (key == NULL && (key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		abort();
	if (laps_est_parse_answer((const char *)data, size, key, "testhost") == 0)
		abort();
	return 0;
}
