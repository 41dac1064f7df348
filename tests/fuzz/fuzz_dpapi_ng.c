/*
 * fuzz_dpapi_ng.c — libFuzzer target for the DPAPI-NG blob parser
 * (dpapi_ng_blob_parse), and for what laps-get does with an attribute
 * value before and after it: the msLAPS-EncryptedPassword header and the
 * UTF-16LE payload.  A blob that parses and names the fuzzer's own root key
 * is decrypted with the seed envelope of that key, so malformed key info
 * (public keys off the curve, DH values out of range) reaches the
 * agreement code; it must fail cleanly.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/dpapi_ng.h"
#include "backends/gkdi_key.h"
#include "escrow/err.h"
#include "escrow/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The synthetic root key the seed corpus tests/fuzz/corpus/dpapi_ng was made with. */
static uint8_t rk_data[64];
static const uint8_t kdfp[] = {0, 0,   0, 0,   1, 0,   0, 0,   14, 0,	0, 0,	0, 0, 0,
			       0, 'S', 0, 'H', 0, 'A', 0, '2', 0,  '5', 0, '6', 0, 0, 0};
static uint8_t *gke;
static size_t gke_len;
static const char sid[] = "S-1-5-21-1-2-3-512";

static void
setup(void)
{
	struct gkdi_root_key rk;
	uint8_t sd[GKDI_TARGET_SD_MAX];
	size_t i, sdlen;

	if (laps_crypto_init() != 0)
		abort();
	memset(&rk, 0, sizeof rk);
	for (i = 0; i < sizeof rk_data; i++)
		rk_data[i] = (uint8_t)(i * 7 + 1);
	rk.version = 1;
	if (gkdi_guid_parse("0123abcd-0001-0002-0304-05060708090a", rk.id) != 0)
		abort();
	rk.kdf_alg = "SP800_108_CTR_HMAC";
	rk.kdf_params = kdfp;
	rk.kdf_params_len = sizeof kdfp;
	rk.secret_alg = "ECDH_P256";
	rk.private_key_bits = rk.public_key_bits = 256;
	rk.data = rk_data;
	rk.data_len = sizeof rk_data;
	if (gkdi_target_sd(sid, sd, sizeof sd, &sdlen) != 0 ||
	    gkdi_envelope_from_root_key(&rk, sd, sdlen, 400, &gke, &gke_len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dpapi_ng_blob b;
	struct gkdi_envelope env;
	struct gkdi_key_id kid;
	const uint8_t *bp;
	uint8_t *pt = NULL;
	size_t ptlen = 0, blen;
	uint64_t ft;
	char *json = NULL;
	size_t jlen = 0;

	if (gke == NULL)
		setup();
	if (dpapi_ng_laps_split(data, size, &ft, &bp, &blen) == 0) {
		data = bp;
		size = blen;
	}
	if (dpapi_ng_laps_payload_json(data, size, &json, &jlen) == 0) {
		if (strlen(json) != jlen)
			abort();
		laps_secret_free(json);
	}
	if (dpapi_ng_blob_parse(data, size, &b) != 0)
		return 0;
	/* what parsed is consistent */
	if (gkdi_key_id_parse(b.key_id, b.key_id_len, &kid) != 0 || b.ciphertext_len <= b.icv_len ||
	    strlen(b.sid) == 0 || (b.detached && b.cms_len + b.ciphertext_len != size) ||
	    (!b.detached && b.cms_len != size))
		abort();
	if (gkdi_envelope_parse(gke, gke_len, &env) != 0)
		abort();
	if (dpapi_ng_unprotect(&b, &env, &pt, &ptlen) == 0) {
		if (pt == NULL || ptlen != b.ciphertext_len - b.icv_len)
			abort();
		laps_secret_free(pt);
	} else if (pt != NULL || ptlen != 0) {
		abort();
	}
	return 0;
}
