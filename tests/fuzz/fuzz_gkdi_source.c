/*
 * fuzz_gkdi_source.c — libFuzzer target for the test-only KDS root key
 * file of [ldap] gkdi_root_key_file (backends/gkdi_source.c): the input is
 * parsed as the JSON root key; one that parses is asked for a writer's key
 * and for a reader's key, which runs the envelope derivation with the
 * parsed algorithms and parameters.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/gkdi_source.h"
#include "escrow/err.h"
#include "escrow/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gkdi_source *s = NULL;
	struct gkdi_key_id kid;
	uint8_t *env = NULL;
	size_t envlen = 0;

	if (laps_crypto_init() != 0)
		abort();
	if (gkdi_source_parse((const char *)data, size, &s) != 0)
		return 0;
	if (gkdi_source_writer_key(s, "S-1-5-21-1-2-3-512", 1700000000, &env, &envlen) == 0)
		laps_secret_free(env);
	env = NULL;
	memset(&kid, 0, sizeof kid);
	kid.l0 = 361;
	if (gkdi_source_reader_key(s, "S-1-5-21-1-2-3-512", &kid, &env, &envlen) == 0)
		laps_secret_free(env);
	gkdi_source_close(s);
	return 0;
}
