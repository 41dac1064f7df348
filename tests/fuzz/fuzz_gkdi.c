/*
 * fuzz_gkdi.c — libFuzzer target for the MS-GKDI parsers: the input is
 * parsed as a packed GroupKeyEnvelope (GetKey's answer) and as a packed
 * KeyIdentifier; what parses must pack back to the same bytes.  An
 * envelope that parses is also asked for a few keys of its tree, which
 * walks the derivation with whatever indices and keys it carries.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/gkdi_key.h"
#include "escrow/err.h"
#include "escrow/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gkdi_envelope env;
	struct gkdi_key_id kid;
	uint8_t *again = NULL, key[GKDI_SEED_BYTES];
	size_t alen = 0;
	int rc;

	if (laps_crypto_init() != 0)
		abort();
	if (gkdi_envelope_parse(data, size, &env) == 0) {
		if (gkdi_envelope_pack(&env, &again, &alen) != 0 || alen != size ||
		    memcmp(again, data, size) != 0)
			abort();
		laps_secret_free(again);
		/* the node itself and the oldest key of its L0 */
		rc = gkdi_l2_key(&env, env.root_key_id, env.l0, env.l1, env.l2, key);
		if (rc == 0)
			rc = gkdi_l2_key(&env, env.root_key_id, env.l0, 0, 0, key);
		if (rc != 0 && rc != LAPS_ERR_NOTFOUND && rc != LAPS_ERR_ACCESS)
			abort();
		laps_wipe(key, sizeof key);
	}
	if (gkdi_key_id_parse(data, size, &kid) == 0) {
		if (gkdi_key_id_pack(&kid, &again, &alen) != 0 || alen != size ||
		    memcmp(again, data, size) != 0)
			abort();
		free(again);
	}
	return 0;
}
