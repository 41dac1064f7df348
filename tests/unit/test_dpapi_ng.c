/*
 * test_dpapi_ng.c — DPAPI-NG blobs and MS-GKDI keys (backends/dpapi_ng.h,
 * backends/gkdi_key.h; docs/DPAPI-NG.md).
 *
 * The Windows vectors (16 blobs made on Windows with their KDS root keys,
 * a packed GroupKeyEnvelope and a packed LAPS blob) are read from
 * $LAPS_DPAPI_NG_VECTORS or $top_srcdir/../shared/vectors/dpapi-ng and are
 * never copied into the repository; without them the tests that need them
 * are not registered (the program says so) and the others run.
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backends/dpapi_ng.h"
#include "backends/gkdi_key.h"
#include "escrow/err.h"
#include "escrow/secret.h"
#include "tests/unit/testutil.h"

static char vecdir[4096];

static const char *const vector_names[16] = {
    "kdf_sha1_nonce",	  "kdf_sha256_nonce",	  "kdf_sha384_nonce",	  "kdf_sha512_nonce",
    "kdf_sha1_dh",	  "kdf_sha256_dh",	  "kdf_sha384_dh",	  "kdf_sha512_dh",
    "kdf_sha1_ecdh_p256", "kdf_sha256_ecdh_p256", "kdf_sha384_ecdh_p256", "kdf_sha512_ecdh_p256",
    "kdf_sha1_ecdh_p384", "kdf_sha256_ecdh_p384", "kdf_sha384_ecdh_p384", "kdf_sha512_ecdh_p384",
};

/* ---- helpers ---- */

static int
hexdecode(const char *s, uint8_t **out, size_t *len)
{
	size_t n = strlen(s), i;
	uint8_t *b;
	unsigned v;

	if (n % 2 != 0 || (b = malloc(n / 2 + 1)) == NULL)
		return -1;
	for (i = 0; i < n / 2; i++) {
		char c[3] = {s[2 * i], s[2 * i + 1], 0};
		char *end;

		v = (unsigned)strtoul(c, &end, 16);
		if (*end != '\0') {
			free(b);
			return -1;
		}
		b[i] = (uint8_t)v;
	}
	*out = b;
	*len = n / 2;
	return 0;
}

static uint8_t *
read_file(const char *name, size_t *len)
{
	char path[4200];
	uint8_t *b = NULL;
	FILE *f;
	long n;

	snprintf(path, sizeof path, "%s/%s", vecdir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (b = malloc((size_t)n)) != NULL && fread(b, 1, (size_t)n, f) == (size_t)n) {
		*len = (size_t)n;
	} else {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

/* One vector: its root key (owning the decoded buffers) and its blob. */
struct vec {
	struct gkdi_root_key rk;
	char kdf_alg[32], secret_alg[32];
	uint8_t *kdf_params, *secret_params, *data, *blob;
	size_t blob_len;
};

static void
vec_free(struct vec *v)
{
	free(v->kdf_params);
	free(v->secret_params);
	free(v->data);
	free(v->blob);
	memset(v, 0, sizeof *v);
}

static const char *
jstr(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int
vec_load(const char *name, struct vec *v)
{
	char path[4200];
	json_object *o, *n;
	const char *s;
	int rc = -1;

	memset(v, 0, sizeof *v);
	snprintf(path, sizeof path, "%s/%s.json", vecdir, name);
	if ((o = json_object_from_file(path)) == NULL)
		return -1;
	if ((s = jstr(o, "RootKeyId")) == NULL || gkdi_guid_parse(s, v->rk.id) != 0)
		goto out;
	if ((s = jstr(o, "KdfAlgorithm")) == NULL)
		goto out;
	snprintf(v->kdf_alg, sizeof v->kdf_alg, "%s", s);
	if ((s = jstr(o, "SecretAgreementAlgorithm")) == NULL)
		goto out;
	snprintf(v->secret_alg, sizeof v->secret_alg, "%s", s);
	v->rk.kdf_alg = v->kdf_alg;
	v->rk.secret_alg = v->secret_alg;
	if ((s = jstr(o, "KdfParameters")) == NULL ||
	    hexdecode(s, &v->kdf_params, &v->rk.kdf_params_len) != 0 ||
	    (s = jstr(o, "SecretAgreementParameters")) == NULL ||
	    hexdecode(s, &v->secret_params, &v->rk.secret_params_len) != 0 ||
	    (s = jstr(o, "RootKeyData")) == NULL || hexdecode(s, &v->data, &v->rk.data_len) != 0 ||
	    (s = jstr(o, "Data")) == NULL || hexdecode(s, &v->blob, &v->blob_len) != 0)
		goto out;
	v->rk.kdf_params = v->kdf_params;
	v->rk.secret_params = v->secret_params;
	v->rk.data = v->data;
	if (!json_object_object_get_ex(o, "PrivateKeyLength", &n))
		goto out;
	v->rk.private_key_bits = (uint32_t)json_object_get_int(n);
	if (!json_object_object_get_ex(o, "PublicKeyLength", &n))
		goto out;
	v->rk.public_key_bits = (uint32_t)json_object_get_int(n);
	if (!json_object_object_get_ex(o, "Version", &n))
		goto out;
	v->rk.version = (uint32_t)json_object_get_int(n);
	rc = 0;
out:
	json_object_put(o);
	if (rc != 0)
		vec_free(v);
	return rc;
}

/* ---- the Windows vectors ---- */

static void
test_windows_vectors(void)
{
	size_t i, ptlen = 0, opened = 0;
	struct dpapi_ng_blob b;
	uint8_t *pt = NULL;
	struct vec v;
	char buf[256];
	int rc;

	for (i = 0; i < 16; i++) {
		bool seed = strstr(vector_names[i], "nonce") != NULL;

		CU_ASSERT_FATAL(vec_load(vector_names[i], &v) == 0);
		rc = dpapi_ng_blob_parse(v.blob, v.blob_len, &b);
		CU_ASSERT_EQUAL(rc, 0);
		if (rc != 0) {
			fprintf(stderr, "%s: %s\n", vector_names[i],
				laps_errstr(rc, buf, sizeof buf));
			vec_free(&v);
			continue;
		}
		/* the path the file name says, the ciphertext inside the envelope */
		CU_ASSERT_EQUAL(!(b.kid.flags & GKDI_FLAG_PUBLIC_KEY), seed);
		CU_ASSERT_FALSE(b.detached);
		CU_ASSERT_EQUAL(memcmp(b.kid.root_key_id, v.rk.id, GKDI_GUID_BYTES), 0);
		CU_ASSERT_EQUAL(strncmp(b.sid, "S-1-5-", 6), 0);
		rc = dpapi_ng_unprotect_root_key(&b, &v.rk, &pt, &ptlen);
		if (rc != 0)
			fprintf(stderr, "%s: %s\n", vector_names[i],
				laps_errstr(rc, buf, sizeof buf));
		CU_ASSERT_EQUAL(rc, 0);
		if (rc == 0) {
			CU_ASSERT_EQUAL(ptlen, 1);
			CU_ASSERT_EQUAL(pt[0], 0x00);
			opened += ptlen == 1 && pt[0] == 0;
		}
		laps_secret_free(pt);
		pt = NULL;
		vec_free(&v);
	}
	CU_ASSERT_EQUAL(opened, 16);
	fprintf(stderr, "(%zu of 16 Windows vectors open from the root key) ", opened);
}

/* Flip one bit at off: the blob must no longer open (and give no plaintext). */
static int
open_flipped(const struct vec *v, size_t off)
{
	struct dpapi_ng_blob b;
	uint8_t *copy, *pt = NULL;
	size_t ptlen = 0;
	int rc;

	copy = malloc(v->blob_len);
	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, v->blob, v->blob_len);
	copy[off] ^= 0x01;
	rc = dpapi_ng_blob_parse(copy, v->blob_len, &b);
	if (rc == 0)
		rc = dpapi_ng_unprotect_root_key(&b, &v->rk, &pt, &ptlen);
	CU_ASSERT_PTR_NULL(pt);
	CU_ASSERT_EQUAL(ptlen, 0);
	laps_secret_free(pt);
	free(copy);
	return rc;
}

static void
test_tampered(void)
{
	static const char *const which[] = {"kdf_sha256_nonce", "kdf_sha512_dh",
					    "kdf_sha256_ecdh_p256", "kdf_sha384_ecdh_p384"};
	struct dpapi_ng_blob b;
	struct vec v;
	size_t i, ki;

	for (i = 0; i < 4; i++) {
		CU_ASSERT_FATAL(vec_load(which[i], &v) == 0);
		CU_ASSERT_FATAL(dpapi_ng_blob_parse(v.blob, v.blob_len, &b) == 0);
		/* the tag (last byte), the ciphertext (first byte) */
		CU_ASSERT_EQUAL(open_flipped(&v, v.blob_len - 1), LAPS_ERR_CRYPTO);
		CU_ASSERT_EQUAL(open_flipped(&v, (size_t)(b.ciphertext - v.blob)), LAPS_ERR_CRYPTO);
		/* the wrapped content key */
		CU_ASSERT_EQUAL(open_flipped(&v, (size_t)(b.wrapped_cek - v.blob) + 5),
				LAPS_ERR_CRYPTO);
		/* the key identifier: the last byte of the key info (a public key's y,
		 * or the seed path's KDF context), and the L2 index (another key) */
		ki = (size_t)(b.kid.key_info - v.blob) + b.kid.key_info_len - 1;
		CU_ASSERT_NOT_EQUAL(open_flipped(&v, ki), 0);
		CU_ASSERT_NOT_EQUAL(open_flipped(&v, (size_t)(b.key_id - v.blob) + 20), 0);
		/* the nonce (inside the GCM parameters) */
		CU_ASSERT_EQUAL(open_flipped(&v, (size_t)(b.ciphertext - v.blob) - 8),
				LAPS_ERR_CRYPTO);
		vec_free(&v);
	}
}

/* Every truncation of a blob is refused (and none crashes). */
static void
test_truncated(void)
{
	struct dpapi_ng_blob b;
	struct vec v;
	size_t n;

	CU_ASSERT_FATAL(vec_load("kdf_sha512_dh", &v) == 0);
	for (n = 0; n < v.blob_len; n++)
		CU_ASSERT_NOT_EQUAL(dpapi_ng_blob_parse(v.blob, n, &b), 0);
	vec_free(&v);
}

/* The packed GroupKeyEnvelope (a GetKey answer) and the packed LAPS blob. */
static void
test_envelope_vector(void)
{
	static const uint8_t l1_head[8] = {0x9c, 0x8f, 0x03, 0x85, 0xd7, 0x46, 0x06, 0x2a};
	static const uint8_t l2_head[8] = {0x1b, 0xac, 0x68, 0xa1, 0xa7, 0xc8, 0xb9, 0xac};
	uint8_t id[GKDI_GUID_BYTES], *buf, *again = NULL, *pt = NULL;
	struct gkdi_envelope e;
	struct dpapi_ng_blob b;
	size_t len, alen = 0, ptlen = 0, blen;
	uint8_t *blob;
	char ebuf[256], *json = NULL;
	size_t jlen = 0;
	int rc;

	CU_ASSERT_FATAL((buf = read_file("group_key_envelope", &len)) != NULL);
	CU_ASSERT_FATAL(gkdi_guid_parse("d778c271-9025-9a82-f6dc-b8960b8ad8c5", id) == 0);
	rc = gkdi_envelope_parse(buf, len, &e);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(e.version, 1);
	CU_ASSERT_EQUAL(e.flags, GKDI_FLAG_ENCRYPT);
	CU_ASSERT_EQUAL(e.l0, 361);
	CU_ASSERT_EQUAL(e.l1, 17);
	CU_ASSERT_EQUAL(e.l2, 8);
	CU_ASSERT_EQUAL(memcmp(e.root_key_id, id, GKDI_GUID_BYTES), 0);
	CU_ASSERT_EQUAL(e.hash, GKDI_HASH_SHA512);
	CU_ASSERT_EQUAL(e.secret, GKDI_SECRET_DH);
	CU_ASSERT_EQUAL(e.secret_params_len, 524);
	CU_ASSERT_EQUAL(e.private_key_bits, 512);
	CU_ASSERT_EQUAL(e.public_key_bits, 2048);
	CU_ASSERT_EQUAL(e.domain_len, 24);
	CU_ASSERT_EQUAL(memcmp(e.domain, "d\0o\0m\0a\0i\0n\0.\0t\0e\0s\0t\0\0\0", 24), 0);
	CU_ASSERT_EQUAL(e.forest_len, 24);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e.l1_key);
	CU_ASSERT_EQUAL(memcmp(e.l1_key, l1_head, 8), 0);
	CU_ASSERT_EQUAL_FATAL(e.l2_key_len, GKDI_SEED_BYTES);
	CU_ASSERT_EQUAL(memcmp(e.l2_key, l2_head, 8), 0);
	/* packs back to the same bytes */
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_pack(&e, &again, &alen), 0);
	CU_ASSERT_EQUAL(alen, len);
	CU_ASSERT_EQUAL(memcmp(again, buf, len), 0);
	laps_secret_free(again);
	/* each truncation and a wrong magic are refused */
	for (alen = 0; alen < len; alen++)
		CU_ASSERT_NOT_EQUAL(gkdi_envelope_parse(buf, alen, &e), 0);
	buf[5] ^= 1;
	CU_ASSERT_EQUAL(gkdi_envelope_parse(buf, len, &e), LAPS_ERR_FORMAT);
	buf[5] ^= 1;

	/* the LAPS-layout blob: DH public key path, ciphertext after the CMS */
	CU_ASSERT_FATAL((blob = read_file("dpapi_ng_blob", &blen)) != NULL);
	CU_ASSERT_EQUAL_FATAL(dpapi_ng_blob_parse(blob, blen, &b), 0);
	CU_ASSERT_TRUE(b.detached);
	CU_ASSERT_EQUAL(b.cms_len, 0x451);
	CU_ASSERT_EQUAL(b.ciphertext_len, blen - 0x451);
	CU_ASSERT_EQUAL(b.icv_len, 16);
	CU_ASSERT_EQUAL(b.kid.flags, GKDI_FLAG_PUBLIC_KEY | GKDI_FLAG_ENCRYPT);
	CU_ASSERT_EQUAL(b.kid.l0, 361);
	CU_ASSERT_EQUAL(b.kid.l1, 16);
	CU_ASSERT_EQUAL(b.kid.l2, 3);
	CU_ASSERT_EQUAL(memcmp(b.kid.root_key_id, id, GKDI_GUID_BYTES), 0);
	CU_ASSERT_EQUAL(b.kid.key_info_len, 776);
	CU_ASSERT_STRING_EQUAL(b.sid, "S-1-5-21-3337337973-3297078028-437386066-512");
	/* the GetKey answer (L1 key (361, 16), L2 key (361, 17, 8)) opens this
	 * blob of (361, 16, 3): the walk from an L1 key, the DH public key path,
	 * the detached ciphertext, the LAPS payload */
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_parse(buf, len, &e), 0);
	rc = dpapi_ng_unprotect(&b, &e, &pt, &ptlen);
	if (rc != 0)
		fprintf(stderr, "%s\n", laps_errstr(rc, ebuf, sizeof ebuf));
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL_FATAL(dpapi_ng_laps_payload_json(pt, ptlen, &json, &jlen), 0);
	CU_ASSERT_EQUAL(strncmp(json, "{\"n\":\"Administrator\",\"t\":\"", 26), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\",\"p\":\""));
	laps_secret_free(json);
	laps_secret_free(pt);
	free(blob);
	free(buf);
}

/* The other packed structures, through an envelope that carries them. */
static void
test_key_structures(void)
{
	uint8_t *params, *dhkey, *eckey, *kdfp, *packed = NULL;
	size_t plen, dlen, elen, kdflen, pklen = 0;
	struct gkdi_envelope e, p;
	uint8_t empty[2] = {0, 0};

	CU_ASSERT_FATAL((params = read_file("ffc_dh_parameters", &plen)) != NULL);
	CU_ASSERT_FATAL((dhkey = read_file("ffc_dh_key", &dlen)) != NULL);
	CU_ASSERT_FATAL((eckey = read_file("ecdh_key", &elen)) != NULL);
	CU_ASSERT_EQUAL(hexdecode("00000000010000000E000000000000005300480041003200350036000000",
				  &kdfp, &kdflen),
			0);
	memset(&e, 0, sizeof e);
	e.version = 1;
	e.flags = GKDI_FLAG_PUBLIC_KEY | GKDI_FLAG_ENCRYPT;
	e.kdf_params = kdfp;
	e.kdf_params_len = kdflen;
	e.secret = GKDI_SECRET_DH;
	e.secret_params = params;
	e.secret_params_len = plen;
	e.private_key_bits = 512;
	e.public_key_bits = 2048;
	e.domain = e.forest = empty;
	e.domain_len = e.forest_len = 2;
	e.l2_key = dhkey;
	e.l2_key_len = dlen;
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_pack(&e, &packed, &pklen), 0);
	CU_ASSERT_EQUAL(gkdi_envelope_parse(packed, pklen, &p), 0);
	CU_ASSERT_EQUAL(p.secret, GKDI_SECRET_DH);
	CU_ASSERT_EQUAL(p.hash, GKDI_HASH_SHA256);
	laps_secret_free(packed);
	/* a DH key of another group is refused */
	dhkey[20] ^= 1;
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_pack(&e, &packed, &pklen), 0);
	CU_ASSERT_EQUAL(gkdi_envelope_parse(packed, pklen, &p), LAPS_ERR_FORMAT);
	laps_secret_free(packed);
	/* the P-256 key */
	e.secret = GKDI_SECRET_ECDH_P256;
	e.secret_params = NULL;
	e.secret_params_len = 0;
	e.private_key_bits = e.public_key_bits = 256;
	e.l2_key = eckey;
	e.l2_key_len = elen;
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_pack(&e, &packed, &pklen), 0);
	CU_ASSERT_EQUAL(gkdi_envelope_parse(packed, pklen, &p), 0);
	CU_ASSERT_EQUAL(p.secret, GKDI_SECRET_ECDH_P256);
	laps_secret_free(packed);
	/* as a P-384 key it has the wrong magic */
	e.secret = GKDI_SECRET_ECDH_P384;
	e.private_key_bits = e.public_key_bits = 384;
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_pack(&e, &packed, &pklen), 0);
	CU_ASSERT_EQUAL(gkdi_envelope_parse(packed, pklen, &p), LAPS_ERR_FORMAT);
	laps_secret_free(packed);
	free(kdfp);
	free(params);
	free(dhkey);
	free(eckey);
}

/* ---- without the vectors ---- */

/* The SD of seed_key.json's SID, byte for byte (it is short: inline). */
static void
test_target_sd(void)
{
	static const char *sd_hex = "0100048054000000600000000000000014000000020040000200000000002"
				    "400030000000105000000000005150000001A084482EEE8B0C8E6E8BD52"
				    "4F0400000000140002000000010100000000000100000000010100000000"
				    "000512000000010100000000000512000000";
	uint8_t sd[GKDI_TARGET_SD_MAX], *want;
	size_t len, wlen;

	CU_ASSERT_EQUAL_FATAL(hexdecode(sd_hex, &want, &wlen), 0);
	CU_ASSERT_EQUAL(
	    gkdi_target_sd("S-1-5-21-2185496602-3367037166-1388177638-1103", sd, sizeof sd, &len),
	    0);
	CU_ASSERT_EQUAL(len, wlen);
	CU_ASSERT_EQUAL(memcmp(sd, want, wlen), 0);
	free(want);
	CU_ASSERT_EQUAL(gkdi_target_sd("S-1-5-18", sd, sizeof sd, &len), 0);
	CU_ASSERT_EQUAL(len, 20 + 8 + 20 + 20 + 12 + 12);
	CU_ASSERT_EQUAL(gkdi_target_sd("S-1-5", sd, sizeof sd, &len), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(gkdi_target_sd("S-2-5-18", sd, sizeof sd, &len), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(gkdi_target_sd("S-1-5-4294967296", sd, sizeof sd, &len), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(gkdi_target_sd("S-1-5-18-", sd, sizeof sd, &len), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(gkdi_target_sd("S-1-5--18", sd, sizeof sd, &len), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(
	    gkdi_target_sd("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", sd, sizeof sd, &len),
	    LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(
	    gkdi_target_sd("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15", sd, sizeof sd, &len), 0);
}

static void
test_guid(void)
{
	static const uint8_t want[16] = {0xf1, 0xe5, 0x91, 0x24, 0x35, 0xc9, 0xc4, 0x27,
					 0x22, 0xba, 0xb8, 0x5f, 0x61, 0xb2, 0x47, 0x68};
	uint8_t g[16];

	CU_ASSERT_EQUAL(gkdi_guid_parse("2491e5f1-c935-27c4-22ba-b85f61b24768", g), 0);
	CU_ASSERT_EQUAL(memcmp(g, want, 16), 0);
	CU_ASSERT_EQUAL(gkdi_guid_parse("2491e5f1-c935-27c4-22ba-b85f61b2476", g), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(gkdi_guid_parse("2491e5f1xc935-27c4-22ba-b85f61b24768", g),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(gkdi_guid_parse("2491e5f1-c935-27c4-22ba-b85f61b2476g", g),
			LAPS_ERR_FORMAT);
}

/* A synthetic root key per secret agreement algorithm (no vectors needed). */
struct synth {
	struct gkdi_root_key rk;
	uint8_t data[64], kdfp[64], *params;
	size_t params_len;
};

static void
synth_root_key(struct synth *s, const char *hash, const char *secret)
{
	static const uint8_t hdr[16] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *p = NULL, *g = NULL;
	size_t i, n = strlen(hash), kl;

	memset(s, 0, sizeof s->rk);
	s->params = NULL;
	s->params_len = 0;
	for (i = 0; i < sizeof s->data; i++)
		s->data[i] = (uint8_t)(i * 7 + 1);
	memcpy(s->kdfp, hdr, 16);
	s->kdfp[8] = (uint8_t)(2 * (n + 1));
	for (i = 0; i <= n; i++) {
		s->kdfp[16 + 2 * i] = (uint8_t)hash[i];
		s->kdfp[17 + 2 * i] = 0;
	}
	s->rk.version = 1;
	CU_ASSERT_EQUAL(gkdi_guid_parse("0123abcd-0001-0002-0304-05060708090a", s->rk.id), 0);
	s->rk.kdf_alg = "SP800_108_CTR_HMAC";
	s->rk.kdf_params = s->kdfp;
	s->rk.kdf_params_len = 16 + 2 * (n + 1);
	s->rk.secret_alg = secret;
	s->rk.data = s->data;
	s->rk.data_len = sizeof s->data;
	if (strcmp(secret, "DH") == 0) {
		/* the RFC 7919 ffdhe2048 group, from OpenSSL, as FFC DH parameters */
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
		CU_ASSERT_FATAL(ctx != NULL && EVP_PKEY_paramgen_init(ctx) == 1);
		CU_ASSERT_FATAL(EVP_PKEY_CTX_set_group_name(ctx, "ffdhe2048") == 1);
		CU_ASSERT_FATAL(EVP_PKEY_paramgen(ctx, &pk) == 1);
		CU_ASSERT_FATAL(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_FFC_P, &p) == 1);
		CU_ASSERT_FATAL(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_FFC_G, &g) == 1);
		kl = 256;
		s->params_len = 12 + 2 * kl;
		CU_ASSERT_FATAL((s->params = calloc(1, s->params_len)) != NULL);
		s->params[0] = (uint8_t)s->params_len;
		s->params[1] = (uint8_t)(s->params_len >> 8);
		memcpy(s->params + 4, "DHPM", 4);
		s->params[9] = 1; /* 256 */
		CU_ASSERT(BN_bn2binpad(p, s->params + 12, (int)kl) == (int)kl);
		CU_ASSERT(BN_bn2binpad(g, s->params + 12 + kl, (int)kl) == (int)kl);
		s->rk.secret_params = s->params;
		s->rk.secret_params_len = s->params_len;
		s->rk.private_key_bits = 512;
		s->rk.public_key_bits = 2048;
		BN_free(p);
		BN_free(g);
		EVP_PKEY_free(pk);
		EVP_PKEY_CTX_free(ctx);
	} else {
		s->rk.private_key_bits = s->rk.public_key_bits =
		    strcmp(secret, "ECDH_P256") == 0 ? 256 : 384;
	}
}

static void
roundtrip_one(const struct synth *s, bool public_path, bool detached)
{
	static const char sid[] = "S-1-5-21-1004336348-1177238915-682003330-512";
	static const uint8_t msg[] = "{\"n\":\"root\",\"t\":\"1dc2a5b3c4d5e6f\",\"p\":\"x\"}";
	uint8_t sd[GKDI_TARGET_SD_MAX], *seed = NULL, *pub = NULL, *blob = NULL, *pt = NULL;
	struct gkdi_envelope se, pe;
	struct dpapi_ng_blob b;
	size_t sdlen, seedlen = 0, publen = 0, bloblen = 0, ptlen = 0;
	char ebuf[256];
	int rc;

	CU_ASSERT_EQUAL_FATAL(gkdi_target_sd(sid, sd, sizeof sd, &sdlen), 0);
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_from_root_key(&s->rk, sd, sdlen, 400, &seed, &seedlen),
			      0);
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_parse(seed, seedlen, &se), 0);
	if (public_path) {
		/* what GetKey gives a computer account: the public key of (400, 12, 5) */
		rc = gkdi_envelope_public(&se, 12, 5, &pub, &publen);
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		CU_ASSERT_EQUAL_FATAL(gkdi_envelope_parse(pub, publen, &pe), 0);
		CU_ASSERT_TRUE(pe.flags & GKDI_FLAG_PUBLIC_KEY);
		CU_ASSERT_PTR_NULL(pe.l1_key);
		rc = dpapi_ng_protect(&pe, sid, msg, sizeof msg - 1, detached, &blob, &bloblen);
	} else {
		rc = dpapi_ng_protect(&se, sid, msg, sizeof msg - 1, detached, &blob, &bloblen);
	}
	if (rc != 0)
		fprintf(stderr, "protect: %s\n", laps_errstr(rc, ebuf, sizeof ebuf));
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL_FATAL(dpapi_ng_blob_parse(blob, bloblen, &b), 0);
	CU_ASSERT_EQUAL(b.detached, detached);
	CU_ASSERT_EQUAL(!!(b.kid.flags & GKDI_FLAG_PUBLIC_KEY), public_path);
	CU_ASSERT_EQUAL(b.kid.l0, 400);
	CU_ASSERT_EQUAL(b.kid.l1, public_path ? 12 : 31);
	CU_ASSERT_EQUAL(b.kid.l2, public_path ? 5 : 31);
	CU_ASSERT_STRING_EQUAL(b.sid, sid);
	/* the reader: from the root key alone, as for the Windows vectors */
	rc = dpapi_ng_unprotect_root_key(&b, &s->rk, &pt, &ptlen);
	if (rc != 0)
		fprintf(stderr, "unprotect: %s\n", laps_errstr(rc, ebuf, sizeof ebuf));
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(ptlen, sizeof msg - 1);
	CU_ASSERT_EQUAL(memcmp(pt, msg, sizeof msg - 1), 0);
	laps_secret_free(pt);
	pt = NULL;
	/* and from the seed envelope GetKey would give a reader */
	CU_ASSERT_EQUAL(dpapi_ng_unprotect(&b, &se, &pt, &ptlen), 0);
	laps_secret_free(pt);
	pt = NULL;
	/* a public key envelope cannot decrypt: not authorised */
	if (public_path)
		CU_ASSERT_EQUAL(dpapi_ng_unprotect(&b, &pe, &pt, &ptlen), LAPS_ERR_ACCESS);
	/* the last byte (tag) altered */
	blob[bloblen - 1] ^= 0x80;
	CU_ASSERT_EQUAL_FATAL(dpapi_ng_blob_parse(blob, bloblen, &b), 0);
	CU_ASSERT_EQUAL(dpapi_ng_unprotect_root_key(&b, &s->rk, &pt, &ptlen), LAPS_ERR_CRYPTO);
	CU_ASSERT_PTR_NULL(pt);
	free(blob);
	laps_secret_free(pub);
	laps_secret_free(seed);
}

static void
test_roundtrip(void)
{
	static const char *const algs[][2] = {
	    {"SHA256", "DH"}, {"SHA512", "ECDH_P256"}, {"SHA1", "ECDH_P384"}, {"SHA384", "DH"}};
	struct synth s;
	size_t i;

	for (i = 0; i < 4; i++) {
		synth_root_key(&s, algs[i][0], algs[i][1]);
		roundtrip_one(&s, false, false);
		roundtrip_one(&s, false, true);
		roundtrip_one(&s, true, false);
		roundtrip_one(&s, true, true);
		free(s.params);
	}
}

/* The tree walk: an envelope for (L0, 20, 9) gives every older key of its L0. */
static void
test_tree_walk(void)
{
	uint8_t sd[GKDI_TARGET_SD_MAX], *seed = NULL, *mid = NULL, a[64], b[64];
	struct gkdi_envelope se, me;
	struct synth s;
	size_t sdlen, seedlen = 0, midlen = 0;
	uint8_t l2_20_9[64];
	int32_t l1, l2;

	synth_root_key(&s, "SHA256", "ECDH_P256");
	CU_ASSERT_EQUAL_FATAL(gkdi_target_sd("S-1-5-32-544", sd, sizeof sd, &sdlen), 0);
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_from_root_key(&s.rk, sd, sdlen, 7, &seed, &seedlen), 0);
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_parse(seed, seedlen, &se), 0);
	/* an envelope with only the L2 key (7, 20, 9) */
	CU_ASSERT_EQUAL_FATAL(gkdi_l2_key(&se, s.rk.id, 7, 20, 9, l2_20_9), 0);
	me = se;
	me.l1 = 20;
	me.l2 = 9;
	me.l2_key = l2_20_9;
	me.l2_key_len = 64;
	me.l1_key = NULL; /* only the L2 key: older L1s are out of reach */
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_pack(&me, &mid, &midlen), 0);
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_parse(mid, midlen, &me), 0);
	/* same L1, older L2: from the L2 key */
	for (l2 = 0; l2 <= 9; l2++) {
		CU_ASSERT_EQUAL(gkdi_l2_key(&me, s.rk.id, 7, 20, l2, a), 0);
		CU_ASSERT_EQUAL(gkdi_l2_key(&se, s.rk.id, 7, 20, l2, b), 0);
		CU_ASSERT_EQUAL(memcmp(a, b, 64), 0);
	}
	/* newer L2 of the same L1, a newer L1, another L0 or root key: not found */
	CU_ASSERT_EQUAL(gkdi_l2_key(&me, s.rk.id, 7, 20, 10, a), LAPS_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(gkdi_l2_key(&me, s.rk.id, 7, 21, 0, a), LAPS_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(gkdi_l2_key(&me, s.rk.id, 8, 20, 0, a), LAPS_ERR_NOTFOUND);
	/* an older L1 needs the L1 key, which this envelope lacks */
	CU_ASSERT_EQUAL(gkdi_l2_key(&me, s.rk.id, 7, 19, 0, a), LAPS_ERR_NOTFOUND);
	/* the root-key envelope reaches every (L1, L2) of its L0 and they differ */
	for (l1 = 0; l1 < 32; l1 += 31) {
		CU_ASSERT_EQUAL(gkdi_l2_key(&se, s.rk.id, 7, l1, 0, a), 0);
		CU_ASSERT_EQUAL(gkdi_l2_key(&se, s.rk.id, 7, l1, 1, b), 0);
		CU_ASSERT_NOT_EQUAL(memcmp(a, b, 64), 0);
	}
	laps_secret_free(mid);
	laps_secret_free(seed);
}

static void
test_laps_header(void)
{
	static const uint8_t blob[3] = {0x30, 0x01, 0x00};
	static const uint8_t want[19] = {0xb2, 0xa1, 0xd9, 0x01, 0xf6, 0xe5, 0xd4, 0xc3, 3,   0,
					 0,    0,    0,	   0,	 0,    0,    0x30, 0x01, 0x00};
	const uint8_t *bp;
	uint8_t *v = NULL;
	uint64_t ft;
	size_t len = 0, blen;

	CU_ASSERT_EQUAL_FATAL(dpapi_ng_laps_join(0x01d9a1b2c3d4e5f6ULL, blob, 3, &v, &len), 0);
	CU_ASSERT_EQUAL(len, 19);
	CU_ASSERT_EQUAL(memcmp(v, want, 19), 0);
	CU_ASSERT_EQUAL(dpapi_ng_laps_split(v, len, &ft, &bp, &blen), 0);
	CU_ASSERT_EQUAL(ft, 0x01d9a1b2c3d4e5f6ULL);
	CU_ASSERT_EQUAL(blen, 3);
	CU_ASSERT_PTR_EQUAL(bp, v + 16);
	v[12] = 1; /* reserved */
	CU_ASSERT_EQUAL(dpapi_ng_laps_split(v, len, &ft, &bp, &blen), LAPS_ERR_FORMAT);
	v[12] = 0;
	v[8] = 4; /* size */
	CU_ASSERT_EQUAL(dpapi_ng_laps_split(v, len, &ft, &bp, &blen), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(dpapi_ng_laps_split(v, 16, &ft, &bp, &blen), LAPS_ERR_FORMAT);
	free(v);
}

static void
test_payload(void)
{
	static const char json[] = "{\"n\":\"Administrator\",\"t\":\"1d8161b41c41cde\","
				   "\"p\":\"A6a3#7%eb!5\"}";
	static const char uni[] = "p\xc3\xa4ss \xe6\x97\xa5 \xf0\x9f\x94\x91";
	uint8_t *u = NULL;
	char *back = NULL;
	size_t ulen = 0, blen = 0;

	CU_ASSERT_EQUAL_FATAL(dpapi_ng_laps_payload(json, sizeof json - 1, &u, &ulen), 0);
	CU_ASSERT_EQUAL(ulen, 2 * (sizeof json - 1) + 2);
	CU_ASSERT_EQUAL(memcmp(u, "{\0\"\0n\0", 6), 0);
	CU_ASSERT_EQUAL(u[ulen - 2], 0);
	CU_ASSERT_EQUAL(u[ulen - 1], 0);
	CU_ASSERT_EQUAL_FATAL(dpapi_ng_laps_payload_json(u, ulen, &back, &blen), 0);
	CU_ASSERT_EQUAL(blen, sizeof json - 1);
	CU_ASSERT_STRING_EQUAL(back, json);
	laps_secret_free(back);
	back = NULL;
	/* the terminator is required */
	CU_ASSERT_EQUAL(dpapi_ng_laps_payload_json(u, ulen - 2, &back, &blen), LAPS_ERR_FORMAT);
	laps_secret_free(u);
	u = NULL;
	/* outside ASCII, a surrogate pair */
	CU_ASSERT_EQUAL_FATAL(dpapi_ng_laps_payload(uni, sizeof uni - 1, &u, &ulen), 0);
	CU_ASSERT_EQUAL(ulen, 2 * 9 + 2);
	CU_ASSERT_EQUAL(u[2], 0xe4);
	CU_ASSERT_EQUAL(u[14], 0x3d);
	CU_ASSERT_EQUAL(u[15], 0xd8);
	CU_ASSERT_EQUAL_FATAL(dpapi_ng_laps_payload_json(u, ulen, &back, &blen), 0);
	CU_ASSERT_STRING_EQUAL(back, uni);
	laps_secret_free(back);
	back = NULL;
	/* an unpaired surrogate, an embedded NUL */
	u[16] = 0x41;
	u[17] = 0x00;
	CU_ASSERT_EQUAL(dpapi_ng_laps_payload_json(u, ulen, &back, &blen), LAPS_ERR_FORMAT);
	u[0] = u[1] = 0;
	CU_ASSERT_EQUAL(dpapi_ng_laps_payload_json(u, ulen, &back, &blen), LAPS_ERR_FORMAT);
	laps_secret_free(u);
	u = NULL;
	/* invalid UTF-8 */
	CU_ASSERT_EQUAL(dpapi_ng_laps_payload("a\xc3", 2, &u, &ulen), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(dpapi_ng_laps_payload("\xed\xa0\x80", 3, &u, &ulen), LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NULL(u);
}

/* Agent side to laps-get side: payload, blob, header, and back. */
static void
test_attribute_roundtrip(void)
{
	static const char sid[] = "S-1-5-21-1-2-3-1105";
	static const char json[] =
	    "{\"n\":\"root\",\"t\":\"1dc2a5b3c4d5e6f\",\"p\":\"s3cr\\\"et\"}";
	uint8_t sd[GKDI_TARGET_SD_MAX], *seed = NULL, *pub = NULL, *u = NULL, *blob = NULL;
	uint8_t *attr = NULL, *pt = NULL;
	const uint8_t *bp;
	struct gkdi_envelope se, pe;
	struct dpapi_ng_blob b;
	struct synth s;
	size_t sdlen, seedlen, publen, ulen, bloblen, attrlen, blen, ptlen, jlen;
	uint64_t ft;
	char *back = NULL;

	synth_root_key(&s, "SHA512", "DH");
	CU_ASSERT_EQUAL_FATAL(gkdi_target_sd(sid, sd, sizeof sd, &sdlen), 0);
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_from_root_key(&s.rk, sd, sdlen, 361, &seed, &seedlen),
			      0);
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_parse(seed, seedlen, &se), 0);
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_public(&se, 16, 3, &pub, &publen), 0);
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_parse(pub, publen, &pe), 0);
	CU_ASSERT_EQUAL_FATAL(dpapi_ng_laps_payload(json, sizeof json - 1, &u, &ulen), 0);
	CU_ASSERT_EQUAL_FATAL(dpapi_ng_protect(&pe, sid, u, ulen, true, &blob, &bloblen), 0);
	CU_ASSERT_EQUAL_FATAL(
	    dpapi_ng_laps_join(0x01dc2a5b3c4d5e6fULL, blob, bloblen, &attr, &attrlen), 0);
	/* laps-get */
	CU_ASSERT_EQUAL_FATAL(dpapi_ng_laps_split(attr, attrlen, &ft, &bp, &blen), 0);
	CU_ASSERT_EQUAL(ft, 0x01dc2a5b3c4d5e6fULL);
	CU_ASSERT_EQUAL_FATAL(dpapi_ng_blob_parse(bp, blen, &b), 0);
	CU_ASSERT_TRUE(b.detached);
	CU_ASSERT_EQUAL_FATAL(dpapi_ng_unprotect(&b, &se, &pt, &ptlen), 0);
	CU_ASSERT_EQUAL_FATAL(dpapi_ng_laps_payload_json(pt, ptlen, &back, &jlen), 0);
	CU_ASSERT_STRING_EQUAL(back, json);
	laps_secret_free(back);
	laps_secret_free(pt);
	free(attr);
	free(blob);
	laps_secret_free(u);
	laps_secret_free(pub);
	laps_secret_free(seed);
	free(s.params);
}

/* The key identifier and blob parsers are strict (each refusal names a field). */
static void
test_strict(void)
{
	struct dpapi_ng_blob b;
	struct gkdi_key_id k;
	struct vec v;
	uint8_t *kid, *big;
	size_t n;

	CU_ASSERT_FATAL(vec_load("kdf_sha256_ecdh_p256", &v) == 0);
	CU_ASSERT_EQUAL_FATAL(dpapi_ng_blob_parse(v.blob, v.blob_len, &b), 0);
	n = b.key_id_len;
	CU_ASSERT_FATAL((kid = malloc(n + 1)) != NULL);
	memcpy(kid, b.key_id, n);
	CU_ASSERT_EQUAL(gkdi_key_id_parse(kid, n, &k), 0);
	CU_ASSERT_EQUAL(k.key_info_len, 72);
	CU_ASSERT_EQUAL(memcmp(k.key_info, "ECK1", 4), 0);
	kid[n] = 0; /* a trailing byte */
	CU_ASSERT_EQUAL(gkdi_key_id_parse(kid, n + 1, &k), LAPS_ERR_FORMAT);
	kid[4] = 'X'; /* magic */
	CU_ASSERT_EQUAL(gkdi_key_id_parse(kid, n, &k), LAPS_ERR_FORMAT);
	kid[4] = 'K';
	kid[0] = 2; /* version */
	CU_ASSERT_EQUAL(gkdi_key_id_parse(kid, n, &k), LAPS_ERR_VERSION);
	kid[0] = 1;
	kid[16] = 32; /* L1 index */
	CU_ASSERT_EQUAL(gkdi_key_id_parse(kid, n, &k), LAPS_ERR_FORMAT);
	kid[16] = b.key_id[16];
	kid[44] ^= 1; /* the domain name's length, now odd */
	CU_ASSERT_NOT_EQUAL(gkdi_key_id_parse(kid, n, &k), 0);
	kid[44] ^= 1;
	kid[n - 2] = 'x'; /* the forest name's NUL */
	CU_ASSERT_EQUAL(gkdi_key_id_parse(kid, n, &k), LAPS_ERR_FORMAT);
	free(kid);
	/* ciphertext inside the envelope and a byte after it */
	CU_ASSERT_FATAL((big = malloc(v.blob_len + 1)) != NULL);
	memcpy(big, v.blob, v.blob_len);
	big[v.blob_len] = 0;
	CU_ASSERT_EQUAL(dpapi_ng_blob_parse(big, v.blob_len + 1, &b), LAPS_ERR_FORMAT);
	/* another content encryption algorithm (aes256-CBC) */
	memcpy(big, v.blob, v.blob_len);
	{
		static const uint8_t gcm[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2e};
		uint8_t *o = memmem(big, v.blob_len, gcm, sizeof gcm);

		CU_ASSERT_FATAL(o != NULL);
		o[8] = 0x2a;
		CU_ASSERT_EQUAL(dpapi_ng_blob_parse(big, v.blob_len, &b), LAPS_ERR_UNSUPPORTED);
	}
	free(big);
	vec_free(&v);
}

/* A group key not marked for encryption is refused to a writer. */
static void
test_decrypt_only_key(void)
{
	uint8_t sd[GKDI_TARGET_SD_MAX], *seed = NULL, *blob = NULL;
	struct gkdi_envelope se;
	struct synth s;
	size_t sdlen, seedlen, bloblen = 0;

	synth_root_key(&s, "SHA256", "ECDH_P384");
	CU_ASSERT_EQUAL_FATAL(gkdi_target_sd("S-1-5-32-544", sd, sizeof sd, &sdlen), 0);
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_from_root_key(&s.rk, sd, sdlen, 9, &seed, &seedlen), 0);
	CU_ASSERT_EQUAL_FATAL(gkdi_envelope_parse(seed, seedlen, &se), 0);
	se.flags &= ~GKDI_FLAG_ENCRYPT;
	CU_ASSERT_EQUAL(
	    dpapi_ng_protect(&se, "S-1-5-32-544", (const uint8_t *)"x", 1, true, &blob, &bloblen),
	    LAPS_ERR_INVALID);
	CU_ASSERT_PTR_NULL(blob);
	laps_secret_free(seed);
}

static CU_TestInfo tests_all[] = {
    {"target security descriptor of a SID", test_target_sd},
    {"root key GUID", test_guid},
    {"L0/L1/L2 tree walk", test_tree_walk},
    {"encrypt/decrypt round trip, every path", test_roundtrip},
    {"msLAPS-EncryptedPassword header", test_laps_header},
    {"UTF-16LE JSON payload", test_payload},
    {"attribute value round trip", test_attribute_roundtrip},
    {"a decrypt-only group key is refused to a writer", test_decrypt_only_key},
    {"16 Windows vectors open from the root key", test_windows_vectors},
    {"tampered tag, ciphertext, key or key identifier fails", test_tampered},
    {"every truncation is refused", test_truncated},
    {"packed GroupKeyEnvelope and LAPS blob", test_envelope_vector},
    {"packed DH parameters, DH and ECDH keys", test_key_structures},
    {"key identifier and blob parsers are strict", test_strict},
    CU_TEST_INFO_NULL,
};
#define VECTOR_TESTS 6 /* the last six need the vectors */

static CU_SuiteInfo suites[] = {
    {"dpapi_ng", NULL, NULL, NULL, NULL, tests_all},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	const char *d = getenv("LAPS_DPAPI_NG_VECTORS");
	struct stat st;
	size_t n;

	if (d != NULL && *d != '\0')
		snprintf(vecdir, sizeof vecdir, "%s", d);
	else
		snprintf(vecdir, sizeof vecdir, "%s",
			 laps_test_srcpath("../shared/vectors/dpapi-ng"));
	if (laps_crypto_init() != 0)
		return 99;
	if (stat(vecdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		for (n = 0; tests_all[n].pName != NULL; n++)
			;
		tests_all[n - VECTOR_TESTS] = (CU_TestInfo)CU_TEST_INFO_NULL;
		fprintf(stderr, "%s: absent: the %d Windows-vector tests are skipped\n", vecdir,
			VECTOR_TESTS);
	}
	return laps_test_main(argc, argv, suites);
}
