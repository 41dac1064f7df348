/*
 * gkdi_key.c — MS-GKDI key material (gkdi_key.h; docs/DPAPI-NG.md).
 *
 * Packed KeyIdentifier (all integers little-endian):
 *   version[4]=1 | "KDSK" | flags[4] | L0[4] | L1[4] | L2[4] | root key GUID[16]
 *   | cbKeyInfo[4] | cbDomain[4] | cbForest[4] | key info | domain | forest
 * Packed GroupKeyEnvelope (MS-GKDI 2.2.4):
 *   version[4] | "KDSK" | flags[4] | L0[4] | L1[4] | L2[4] | root key GUID[16]
 *   | cbKdfAlg cbKdfParams cbSecretAlg cbSecretParams privBits pubBits
 *     cbL1Key cbL2Key cbDomain cbForest (10 x [4])
 *   | KDF alg | KDF params | secret alg | secret params | domain | forest
 *   | L1 key | L2 key
 *
 * The seed key tree (MS-GKDI 3.1.4.1.2), KDF = SP 800-108 counter mode,
 * HMAC with the root key's hash, label "KDS service" (UTF-16LE with NUL),
 * context RKID || L0 || L1 || L2 (int32 little-endian), 512-bit keys:
 *   L0 key          = KDF(RootKeyData, ctx(L0, -1, -1))
 *   L1 key (L0, 31) = KDF(L0 key, ctx(L0, 31, -1) || SD)
 *   L1 key (L0, n)  = KDF(L1 key (L0, n+1), ctx(L0, n, -1))
 *   L2 key (n, 31)  = KDF(L1 key (L0, n), ctx(L0, n, 31))
 *   L2 key (n, m)   = KDF(L2 key (n, m+1), ctx(L0, n, m))
 */
#include "config.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "backends/gkdi_key.h"
#include "escrow/err.h"
#include "escrow/secret.h"

#define KID_HEADER_BYTES 52
#define GKE_HEADER_BYTES 80
#define KDF_ALG_NAME "SP800_108_CTR_HMAC"
#define CTX_BYTES (GKDI_GUID_BYTES + 12)
#define EC_MAX_BYTES 48
#define PRIV_MAX_BYTES GKDI_DH_BYTES_MAX

_Static_assert(GKDI_KEYID_MAX >= KID_HEADER_BYTES + 8 + 3 * GKDI_DH_BYTES_MAX + 2 * GKDI_NAME_MAX,
	       "a DH key identifier with the longest names fits");

/* "KDS service\0" and "KDS public key\0", UTF-16LE. */
static const uint8_t label_kds_service[] = {'K', 0, 'D', 0, 'S', 0, ' ', 0, 's', 0, 'e', 0,
					    'r', 0, 'v', 0, 'i', 0, 'c', 0, 'e', 0, 0,	 0};
static const uint8_t label_kds_public_key[] = {'K', 0, 'D', 0, 'S', 0, ' ', 0, 'p', 0,
					       'u', 0, 'b', 0, 'l', 0, 'i', 0, 'c', 0,
					       ' ', 0, 'k', 0, 'e', 0, 'y', 0, 0,   0};
static const uint8_t label_sha512[] = {'S', 0, 'H', 0, 'A', 0, '5', 0, '1', 0, '2', 0, 0, 0};

/* ---- little helpers ---- */

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* A bounded reader over untrusted bytes. */
struct cur {
	const uint8_t *p;
	size_t len, off;
};

static int
take(struct cur *c, size_t n, const uint8_t **out, const char *what)
{
	if (n > c->len - c->off)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: %s: %zu bytes, only %zu left", what, n,
				   c->len - c->off);
	*out = c->p + c->off;
	c->off += n;
	return 0;
}

static const char *
hash_name(enum gkdi_hash h)
{
	switch (h) {
	case GKDI_HASH_SHA1:
		return "SHA1";
	case GKDI_HASH_SHA256:
		return "SHA256";
	case GKDI_HASH_SHA384:
		return "SHA384";
	case GKDI_HASH_SHA512:
		return "SHA512";
	default:
		return NULL;
	}
}

static const char *
secret_name(enum gkdi_secret s)
{
	switch (s) {
	case GKDI_SECRET_DH:
		return "DH";
	case GKDI_SECRET_ECDH_P256:
		return "ECDH_P256";
	case GKDI_SECRET_ECDH_P384:
		return "ECDH_P384";
	default:
		return NULL;
	}
}

static enum gkdi_secret
secret_from_name(const char *s)
{
	if (strcmp(s, "DH") == 0)
		return GKDI_SECRET_DH;
	if (strcmp(s, "ECDH_P256") == 0)
		return GKDI_SECRET_ECDH_P256;
	if (strcmp(s, "ECDH_P384") == 0)
		return GKDI_SECRET_ECDH_P384;
	return GKDI_SECRET_NONE;
}

static enum gkdi_hash
hash_from_name(const char *s)
{
	if (strcmp(s, "SHA1") == 0)
		return GKDI_HASH_SHA1;
	if (strcmp(s, "SHA256") == 0)
		return GKDI_HASH_SHA256;
	if (strcmp(s, "SHA384") == 0)
		return GKDI_HASH_SHA384;
	if (strcmp(s, "SHA512") == 0)
		return GKDI_HASH_SHA512;
	return GKDI_HASH_NONE;
}

/* EC curve coordinate size, 0 for DH. */
static size_t
ec_bytes(enum gkdi_secret s)
{
	return s == GKDI_SECRET_ECDH_P256 ? 32 : s == GKDI_SECRET_ECDH_P384 ? 48 : 0;
}

static const char *
ec_group_name(enum gkdi_secret s)
{
	return s == GKDI_SECRET_ECDH_P256 ? "P-256" : "P-384";
}

/*
 * A UTF-16LE name of cb bytes (with its NUL): even, NUL-terminated, no NUL
 * inside.  cb 0 (absent) is accepted as the empty name.
 */
static int
check_utf16_name(const uint8_t *p, size_t cb, size_t max, const char *what)
{
	size_t i;

	if (cb == 0)
		return 0;
	if (cb > max)
		return laps_seterr(LAPS_ERR_TOOBIG, "gkdi: %s: %zu bytes (max %zu)", what, cb, max);
	if (cb % 2 != 0 || p[cb - 2] != 0 || p[cb - 1] != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: %s: not a NUL-terminated UTF-16 string",
				   what);
	for (i = 0; i + 2 < cb; i += 2)
		if (p[i] == 0 && p[i + 1] == 0)
			return laps_seterr(LAPS_ERR_FORMAT, "gkdi: %s: NUL inside the name", what);
	return 0;
}

/* An ASCII algorithm name in UTF-16LE (with NUL) into buf. */
static int
utf16_ascii(const uint8_t *p, size_t cb, char *buf, size_t cap, const char *what)
{
	size_t i, n;
	int rc;

	if (cb == 0)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: %s: missing", what);
	if ((rc = check_utf16_name(p, cb, GKDI_ALG_NAME_MAX, what)) != 0)
		return rc;
	n = cb / 2 - 1;
	if (n >= cap)
		return laps_seterr(LAPS_ERR_TOOBIG, "gkdi: %s: too long", what);
	for (i = 0; i < n; i++) {
		if (p[2 * i + 1] != 0 || p[2 * i] < 0x21 || p[2 * i] > 0x7e)
			return laps_seterr(LAPS_ERR_FORMAT, "gkdi: %s: not a printable ASCII name",
					   what);
		buf[i] = (char)p[2 * i];
	}
	buf[n] = '\0';
	return 0;
}

/* ASCII into UTF-16LE with NUL; returns bytes written (2 * (strlen + 1)). */
static size_t
ascii_utf16(const char *s, uint8_t *out)
{
	size_t i, n = strlen(s);

	for (i = 0; i <= n; i++) {
		out[2 * i] = (uint8_t)s[i];
		out[2 * i + 1] = 0;
	}
	return 2 * (n + 1);
}

/*
 * KDF parameters (MS-GKDI 2.2.1):
 *   0x00000000 | 0x00000001 | cbHashName[4] | 0x00000000 | hash name (UTF-16LE, NUL)
 */
static int
kdf_params_parse(const uint8_t *p, size_t len, enum gkdi_hash *hash)
{
	char name[16];
	uint32_t cb;
	int rc;

	if (len < 16 || rd32(p) != 0 || rd32(p + 4) != 1 || rd32(p + 12) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: KDF parameters: bad header (%zu bytes)",
				   len);
	cb = rd32(p + 8);
	if (cb != len - 16)
		return laps_seterr(LAPS_ERR_FORMAT,
				   "gkdi: KDF parameters: hash name of %u bytes in %zu", cb, len);
	if ((rc = utf16_ascii(p + 16, cb, name, sizeof name, "KDF hash name")) != 0)
		return rc;
	if ((*hash = hash_from_name(name)) == GKDI_HASH_NONE)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "gkdi: KDF hash '%s'", name);
	return 0;
}

/*
 * FFC DH parameters (MS-GKDI 2.2.2):
 *   cbTotal[4] | "DHPM" | key length[4] | p (BE) | g (BE)
 */
static int
dh_params_parse(const uint8_t *p, size_t len, const uint8_t **pp, const uint8_t **gp,
		size_t *keylen)
{
	uint32_t kl;

	if (len < 12 || rd32(p) != len || memcmp(p + 4, "DHPM", 4) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: FFC DH parameters: bad header");
	kl = rd32(p + 8);
	if (kl < 128 || kl > GKDI_DH_BYTES_MAX || 12 + 2 * (size_t)kl != len)
		return laps_seterr(LAPS_ERR_FORMAT,
				   "gkdi: FFC DH parameters: key length %u in %zu bytes", kl, len);
	*pp = p + 12;
	*gp = p + 12 + kl;
	*keylen = kl;
	return 0;
}

/*
 * A public key of the secret agreement algorithm (MS-GKDI 2.2.3):
 *   DH:   "DHPB" | key length[4] | p | g | y (BE)
 *   ECDH: "ECK1" (P-256) or "ECK3" (P-384) | key length[4] | x | y (BE)
 * For DH, p and g must be those of the parameters (dh_p, dh_g, keylen).
 */
static int
pubkey_check(enum gkdi_secret s, const uint8_t *k, size_t len, const uint8_t *dh_p,
	     const uint8_t *dh_g, size_t dh_len)
{
	size_t n = ec_bytes(s);
	uint32_t kl;

	if (len < 8)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: public key: %zu bytes", len);
	kl = rd32(k + 4);
	if (s == GKDI_SECRET_DH) {
		if (memcmp(k, "DHPB", 4) != 0)
			return laps_seterr(LAPS_ERR_FORMAT, "gkdi: DH public key: bad magic");
		if (kl != dh_len || len != 8 + 3 * (size_t)kl)
			return laps_seterr(LAPS_ERR_FORMAT,
					   "gkdi: DH public key: key length %u in %zu bytes", kl,
					   len);
		if (CRYPTO_memcmp(k + 8, dh_p, dh_len) != 0 ||
		    CRYPTO_memcmp(k + 8 + dh_len, dh_g, dh_len) != 0)
			return laps_seterr(
			    LAPS_ERR_FORMAT,
			    "gkdi: DH public key: group differs from the root key's");
		return 0;
	}
	if (memcmp(k, s == GKDI_SECRET_ECDH_P256 ? "ECK1" : "ECK3", 4) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: ECDH public key: wrong curve magic");
	if (kl != n || len != 8 + 2 * n)
		return laps_seterr(LAPS_ERR_FORMAT,
				   "gkdi: ECDH public key: key length %u in %zu bytes", kl, len);
	return 0;
}

/* ---- KeyIdentifier ---- */

int
gkdi_key_id_parse(const uint8_t *buf, size_t len, struct gkdi_key_id *out)
{
	struct gkdi_key_id k;
	struct cur c = {buf, len, 0};
	const uint8_t *h = NULL;
	uint32_t cb_info, cb_dom, cb_for;
	int rc;

	memset(out, 0, sizeof *out);
	memset(&k, 0, sizeof k);
	if (len > GKDI_KEYID_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "gkdi: key identifier: %zu bytes (max %d)", len,
				   GKDI_KEYID_MAX);
	if (buf == NULL || len < KID_HEADER_BYTES)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: key identifier: %zu bytes", len);
	h = buf;
	c.off = KID_HEADER_BYTES;
	k.version = rd32(h);
	if (memcmp(h + 4, GKDI_MAGIC, 4) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: key identifier: magic is not KDSK");
	if (k.version != 1)
		return laps_seterr(LAPS_ERR_VERSION, "gkdi: key identifier: version %u", k.version);
	k.flags = rd32(h + 8);
	k.l0 = (int32_t)rd32(h + 12);
	k.l1 = (int32_t)rd32(h + 16);
	k.l2 = (int32_t)rd32(h + 20);
	if (k.l0 < 0 || k.l1 < 0 || k.l1 > 31 || k.l2 < 0 || k.l2 > 31)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: key identifier: index (%d, %d, %d)",
				   k.l0, k.l1, k.l2);
	memcpy(k.root_key_id, h + 24, GKDI_GUID_BYTES);
	cb_info = rd32(h + 40);
	cb_dom = rd32(h + 44);
	cb_for = rd32(h + 48);
	if (cb_info == 0 || cb_info > 8 + 3 * GKDI_DH_BYTES_MAX)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: key identifier: key info of %u bytes",
				   cb_info);
	if ((rc = take(&c, cb_info, &k.key_info, "key info")) != 0 ||
	    (rc = take(&c, cb_dom, &k.domain, "domain name")) != 0 ||
	    (rc = take(&c, cb_for, &k.forest, "forest name")) != 0)
		return rc;
	k.key_info_len = cb_info;
	k.domain_len = cb_dom;
	k.forest_len = cb_for;
	if ((rc = check_utf16_name(k.domain, cb_dom, GKDI_NAME_MAX, "domain name")) != 0 ||
	    (rc = check_utf16_name(k.forest, cb_for, GKDI_NAME_MAX, "forest name")) != 0)
		return rc;
	if (c.off != len)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: key identifier: %zu trailing bytes",
				   len - c.off);
	*out = k;
	return 0;
}

int
gkdi_key_id_pack(const struct gkdi_key_id *k, uint8_t **out, size_t *outlen)
{
	uint8_t *b;
	size_t n;

	*out = NULL;
	*outlen = 0;
	n = KID_HEADER_BYTES + k->key_info_len + k->domain_len + k->forest_len;
	if (n > GKDI_KEYID_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "gkdi: key identifier of %zu bytes", n);
	if ((b = malloc(n)) == NULL)
		return LAPS_ERR_NOMEM;
	wr32(b, k->version);
	memcpy(b + 4, GKDI_MAGIC, 4);
	wr32(b + 8, k->flags);
	wr32(b + 12, (uint32_t)k->l0);
	wr32(b + 16, (uint32_t)k->l1);
	wr32(b + 20, (uint32_t)k->l2);
	memcpy(b + 24, k->root_key_id, GKDI_GUID_BYTES);
	wr32(b + 40, (uint32_t)k->key_info_len);
	wr32(b + 44, (uint32_t)k->domain_len);
	wr32(b + 48, (uint32_t)k->forest_len);
	n = KID_HEADER_BYTES;
	if (k->key_info_len)
		memcpy(b + n, k->key_info, k->key_info_len);
	n += k->key_info_len;
	if (k->domain_len)
		memcpy(b + n, k->domain, k->domain_len);
	n += k->domain_len;
	if (k->forest_len)
		memcpy(b + n, k->forest, k->forest_len);
	n += k->forest_len;
	*out = b;
	*outlen = n;
	return 0;
}

/* ---- GroupKeyEnvelope ---- */

/* The envelope's fixed header (GKE_HEADER_BYTES at h) into e and the ten
 * field lengths into cb. */
static int
envelope_header(const uint8_t *h, struct gkdi_envelope *e, uint32_t cb[10])
{
	size_t i;

	e->version = rd32(h);
	if (memcmp(h + 4, GKDI_MAGIC, 4) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: group key envelope: magic is not KDSK");
	if (e->version != 1)
		return laps_seterr(LAPS_ERR_VERSION, "gkdi: group key envelope: version %u",
				   e->version);
	e->flags = rd32(h + 8);
	e->l0 = (int32_t)rd32(h + 12);
	e->l1 = (int32_t)rd32(h + 16);
	e->l2 = (int32_t)rd32(h + 20);
	if (e->l0 < 0 || e->l1 < 0 || e->l1 > 31 || e->l2 < 0 || e->l2 > 31)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: group key envelope: index (%d, %d, %d)",
				   e->l0, e->l1, e->l2);
	memcpy(e->root_key_id, h + 24, GKDI_GUID_BYTES);
	for (i = 0; i < 10; i++)
		cb[i] = rd32(h + 40 + 4 * i);
	e->private_key_bits = cb[4];
	e->public_key_bits = cb[5];
	return 0;
}

/* The algorithms by name, their parameters, and the keys' lengths as the
 * algorithms want them (the fields were taken: kdf_alg, sec_alg, l1, l2 point
 * into the envelope, cb holds their lengths). */
static int
envelope_algorithms(struct gkdi_envelope *e, const uint32_t cb[10], const uint8_t *kdf_alg,
		    const uint8_t *sec_alg, const uint8_t *l1, const uint8_t *l2)
{
	const uint8_t *dp = NULL, *dg = NULL;
	char name[GKDI_ALG_NAME_MAX];
	size_t dl = 0;
	int rc;

	if ((rc = utf16_ascii(kdf_alg, cb[0], name, sizeof name, "KDF algorithm")) != 0)
		return rc;
	if (strcmp(name, KDF_ALG_NAME) != 0)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "gkdi: KDF algorithm '%s'", name);
	if ((rc = kdf_params_parse(e->kdf_params, e->kdf_params_len, &e->hash)) != 0)
		return rc;
	if ((rc = utf16_ascii(sec_alg, cb[2], name, sizeof name, "secret agreement algorithm")) !=
	    0)
		return rc;
	if ((e->secret = secret_from_name(name)) == GKDI_SECRET_NONE)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "gkdi: secret agreement algorithm '%s'",
				   name);
	if (e->secret == GKDI_SECRET_DH) {
		if ((rc = dh_params_parse(e->secret_params, e->secret_params_len, &dp, &dg, &dl)) !=
		    0)
			return rc;
	} else if (e->secret_params_len != 0) {
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: ECDH with secret agreement parameters");
	}
	if (e->private_key_bits == 0 || e->private_key_bits > 8 * PRIV_MAX_BYTES)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: private key length %u bits",
				   e->private_key_bits);
	if (ec_bytes(e->secret) != 0 && e->private_key_bits != 8 * ec_bytes(e->secret))
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: private key length %u bits for %s",
				   e->private_key_bits, secret_name(e->secret));
	if (cb[6] != 0 && cb[6] != GKDI_SEED_BYTES)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: L1 key of %u bytes", cb[6]);
	e->l1_key = cb[6] ? l1 : NULL;
	e->l2_key = cb[7] ? l2 : NULL;
	e->l2_key_len = cb[7];
	if (e->flags & GKDI_FLAG_PUBLIC_KEY) {
		if (cb[6] != 0)
			return laps_seterr(LAPS_ERR_FORMAT,
					   "gkdi: public key envelope with L1 key");
		if ((rc = pubkey_check(e->secret, l2, cb[7], dp, dg, dl)) != 0)
			return laps_seterr_prefix(rc, "gkdi: group public key");
	} else if (cb[7] != 0 && cb[7] != GKDI_SEED_BYTES) {
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: L2 key of %u bytes", cb[7]);
	}
	return 0;
}

int
gkdi_envelope_parse(const uint8_t *buf, size_t len, struct gkdi_envelope *out)
{
	struct gkdi_envelope e;
	struct cur c = {buf, len, 0};
	const uint8_t *kdf_alg = NULL, *sec_alg = NULL, *l1 = NULL, *l2 = NULL;
	uint32_t cb[10];
	int rc;

	memset(out, 0, sizeof *out);
	memset(&e, 0, sizeof e);
	if (len > GKDI_ENVELOPE_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "gkdi: group key envelope: %zu bytes (max %d)",
				   len, GKDI_ENVELOPE_MAX);
	if (buf == NULL || len < GKE_HEADER_BYTES)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: group key envelope: %zu bytes", len);
	if ((rc = envelope_header(buf, &e, cb)) != 0)
		return rc;
	c.off = GKE_HEADER_BYTES;
	if ((rc = take(&c, cb[0], &kdf_alg, "KDF algorithm")) != 0 ||
	    (rc = take(&c, cb[1], &e.kdf_params, "KDF parameters")) != 0 ||
	    (rc = take(&c, cb[2], &sec_alg, "secret agreement algorithm")) != 0 ||
	    (rc = take(&c, cb[3], &e.secret_params, "secret agreement parameters")) != 0 ||
	    (rc = take(&c, cb[8], &e.domain, "domain name")) != 0 ||
	    (rc = take(&c, cb[9], &e.forest, "forest name")) != 0 ||
	    (rc = take(&c, cb[6], &l1, "L1 key")) != 0 ||
	    (rc = take(&c, cb[7], &l2, "L2 key")) != 0)
		return rc;
	if (c.off != len)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: group key envelope: %zu trailing bytes",
				   len - c.off);
	e.kdf_params_len = cb[1];
	e.secret_params_len = cb[3];
	e.domain_len = cb[8];
	e.forest_len = cb[9];
	if ((rc = check_utf16_name(e.domain, e.domain_len, GKDI_NAME_MAX, "domain name")) != 0 ||
	    (rc = check_utf16_name(e.forest, e.forest_len, GKDI_NAME_MAX, "forest name")) != 0 ||
	    (rc = envelope_algorithms(&e, cb, kdf_alg, sec_alg, l1, l2)) != 0)
		return rc;
	*out = e;
	return 0;
}

int
gkdi_envelope_pack(const struct gkdi_envelope *e, uint8_t **out, size_t *outlen)
{
	uint8_t alg[2 * 32], sec[2 * 32], *b;
	const char *sname = secret_name(e->secret);
	size_t ca, cs, n, l1len = e->l1_key ? GKDI_SEED_BYTES : 0;
	size_t l2len = e->l2_key ? e->l2_key_len : 0;

	*out = NULL;
	*outlen = 0;
	if (sname == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "gkdi: envelope without algorithm");
	ca = ascii_utf16(KDF_ALG_NAME, alg);
	cs = ascii_utf16(sname, sec);
	n = GKE_HEADER_BYTES + ca + e->kdf_params_len + cs + e->secret_params_len + e->domain_len +
	    e->forest_len + l1len + l2len;
	if (n > GKDI_ENVELOPE_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "gkdi: envelope of %zu bytes", n);
	if ((b = laps_secret_alloc(n)) == NULL)
		return LAPS_ERR_NOMEM;
	wr32(b, e->version);
	memcpy(b + 4, GKDI_MAGIC, 4);
	wr32(b + 8, e->flags);
	wr32(b + 12, (uint32_t)e->l0);
	wr32(b + 16, (uint32_t)e->l1);
	wr32(b + 20, (uint32_t)e->l2);
	memcpy(b + 24, e->root_key_id, GKDI_GUID_BYTES);
	wr32(b + 40, (uint32_t)ca);
	wr32(b + 44, (uint32_t)e->kdf_params_len);
	wr32(b + 48, (uint32_t)cs);
	wr32(b + 52, (uint32_t)e->secret_params_len);
	wr32(b + 56, e->private_key_bits);
	wr32(b + 60, e->public_key_bits);
	wr32(b + 64, (uint32_t)l1len);
	wr32(b + 68, (uint32_t)l2len);
	wr32(b + 72, (uint32_t)e->domain_len);
	wr32(b + 76, (uint32_t)e->forest_len);
	n = GKE_HEADER_BYTES;
#define PUT(ptr, len)                                                                              \
	do {                                                                                       \
		if ((len) != 0)                                                                    \
			memcpy(b + n, (ptr), (len));                                               \
		n += (len);                                                                        \
	} while (0)
	PUT(alg, ca);
	PUT(e->kdf_params, e->kdf_params_len);
	PUT(sec, cs);
	PUT(e->secret_params, e->secret_params_len);
	PUT(e->domain, e->domain_len);
	PUT(e->forest, e->forest_len);
	PUT(e->l1_key, l1len);
	PUT(e->l2_key, l2len);
#undef PUT
	*out = b;
	*outlen = n;
	return 0;
}

/* ---- GUID, SID, security descriptor ---- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
gkdi_guid_parse(const char *s, uint8_t out[GKDI_GUID_BYTES])
{
	/* byte order on the wire for each of the 16 bytes of the text form */
	static const uint8_t pos[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
	uint8_t b[GKDI_GUID_BYTES];
	size_t i, j = 0;
	int hi, lo;

	if (strlen(s) != 36)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: GUID: not 36 characters");
	for (i = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return laps_seterr(LAPS_ERR_FORMAT, "gkdi: GUID: '-' expected");
			i++;
			continue;
		}
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return laps_seterr(LAPS_ERR_FORMAT, "gkdi: GUID: not hexadecimal");
		b[pos[j++]] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	memcpy(out, b, GKDI_GUID_BYTES);
	return 0;
}

/* Decimal digits at *s up to '-' or NUL, at most max; advances *s. */
static int
sid_number(const char **s, uint64_t max, uint64_t *v)
{
	const char *p = *s;
	uint64_t n = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > max)
			return -1;
	}
	if (*p != '-' && *p != '\0')
		return -1;
	*v = n;
	*s = p;
	return 0;
}

/* Binary SID (MS-DTYP 2.4.2.2) of "S-1-A-s1-...-sn" into out (cap >= 68). */
static int
sid_to_bytes(const char *sid, uint8_t *out, size_t *len)
{
	const char *p = sid;
	uint64_t auth, sub;
	size_t n = 0;
	int i;

	if (strlen(sid) > GKDI_SID_MAX || (p[0] != 'S' && p[0] != 's') || p[1] != '-' ||
	    p[2] != '1' || p[3] != '-')
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: SID: not of the form S-1-...");
	p += 4;
	if (sid_number(&p, 0xffffffffffffULL, &auth) != 0 || *p != '-')
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: SID: bad identifier authority");
	out[0] = 1;
	for (i = 0; i < 6; i++)
		out[2 + i] = (uint8_t)(auth >> (8 * (5 - i)));
	while (*p == '-') {
		p++;
		if (n == 15 || sid_number(&p, 0xffffffffULL, &sub) != 0)
			return laps_seterr(LAPS_ERR_FORMAT, "gkdi: SID: bad sub-authority %zu",
					   n + 1);
		wr32(out + 8 + 4 * n, (uint32_t)sub);
		n++;
	}
	if (*p != '\0' || n == 0)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: SID: no sub-authority");
	out[1] = (uint8_t)n;
	*len = 8 + 4 * n;
	return 0;
}

int
gkdi_target_sd(const char *sid, uint8_t *out, size_t cap, size_t *len)
{
	uint8_t s[68], world[12], system[12];
	size_t sl, wl, yl, acl_len, n;
	int rc;

	*len = 0;
	if ((rc = sid_to_bytes(sid, s, &sl)) != 0)
		return rc;
	if (sid_to_bytes("S-1-1-0", world, &wl) != 0 || sid_to_bytes("S-1-5-18", system, &yl) != 0)
		return LAPS_ERR_INTERNAL;
	acl_len = 8 + (8 + sl) + (8 + wl);
	n = 20 + acl_len + 2 * yl;
	if (n > cap)
		return laps_seterr(LAPS_ERR_TOOBIG, "gkdi: security descriptor of %zu bytes", n);
	memset(out, 0, n);
	/* header: revision 1, control SE_SELF_RELATIVE | SE_DACL_PRESENT */
	out[0] = 1;
	out[2] = 0x04;
	out[3] = 0x80;
	wr32(out + 4, (uint32_t)(20 + acl_len));      /* owner */
	wr32(out + 8, (uint32_t)(20 + acl_len + yl)); /* group */
	wr32(out + 12, 0);			      /* no SACL */
	wr32(out + 16, 20);			      /* DACL */
	/* ACL: revision 2, size, 2 ACEs */
	out[20] = 2;
	out[22] = (uint8_t)acl_len;
	out[23] = (uint8_t)(acl_len >> 8);
	out[24] = 2;
	/* ACCESS_ALLOWED_ACE (type 0, flags 0): sid 0x3, then S-1-1-0 0x2 */
	n = 28;
	out[n + 2] = (uint8_t)(8 + sl);
	wr32(out + n + 4, 3);
	memcpy(out + n + 8, s, sl);
	n += 8 + sl;
	out[n + 2] = (uint8_t)(8 + wl);
	wr32(out + n + 4, 2);
	memcpy(out + n + 8, world, wl);
	n += 8 + wl;
	memcpy(out + n, system, yl);
	n += yl;
	memcpy(out + n, system, yl);
	n += yl;
	*len = n;
	return 0;
}

/* ---- the KDFs ---- */

static int
kbkdf(enum gkdi_hash hash, const uint8_t *key, size_t keylen, const uint8_t *label, size_t labellen,
      const uint8_t *context, size_t ctxlen, uint8_t *out, size_t outlen)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[7], *p = params;
	const char *md = hash_name(hash);
	int rc = LAPS_ERR_CRYPTO;

	if (md == NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "gkdi: no KDF hash");
	if ((kdf = EVP_KDF_fetch(NULL, "KBKDF", NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, (char *)"counter", 0);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, (char *)"HMAC", 0);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, keylen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)label, labellen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)context, ctxlen);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, outlen, params) != 1)
		goto out;
	rc = 0;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	if (rc != 0)
		return laps_seterr(rc, "gkdi: SP 800-108 KDF (%s) failed", md);
	return rc;
}

int
gkdi_kdf(enum gkdi_hash hash, const uint8_t *key, size_t keylen, const uint8_t *context,
	 size_t ctxlen, uint8_t *out, size_t outlen)
{
	return kbkdf(hash, key, keylen, label_kds_service, sizeof label_kds_service, context,
		     ctxlen, out, outlen);
}

static void
kdf_context(uint8_t ctx[CTX_BYTES], const uint8_t rkid[GKDI_GUID_BYTES], int32_t l0, int32_t l1,
	    int32_t l2)
{
	memcpy(ctx, rkid, GKDI_GUID_BYTES);
	wr32(ctx + 16, (uint32_t)l0);
	wr32(ctx + 20, (uint32_t)l1);
	wr32(ctx + 24, (uint32_t)l2);
}

/* One step down the tree: key = KDF(key, ctx(l0, l1, l2)), in place. */
static int
tree_step(enum gkdi_hash hash, const uint8_t rkid[GKDI_GUID_BYTES], int32_t l0, int32_t l1,
	  int32_t l2, uint8_t key[GKDI_SEED_BYTES])
{
	uint8_t ctx[CTX_BYTES], next[GKDI_SEED_BYTES];
	int rc;

	kdf_context(ctx, rkid, l0, l1, l2);
	rc = gkdi_kdf(hash, key, GKDI_SEED_BYTES, ctx, sizeof ctx, next, sizeof next);
	if (rc == 0)
		memcpy(key, next, GKDI_SEED_BYTES);
	OPENSSL_cleanse(next, sizeof next);
	return rc;
}

int
gkdi_envelope_from_root_key(const struct gkdi_root_key *rk, const uint8_t *sd, size_t sdlen,
			    int32_t l0, uint8_t **out, size_t *outlen)
{
	struct gkdi_envelope e, chk;
	uint8_t ctx[CTX_BYTES + GKDI_TARGET_SD_MAX], l0key[GKDI_SEED_BYTES], l1key[GKDI_SEED_BYTES];
	uint8_t empty[2] = {0, 0};
	const uint8_t *dp, *dg;
	size_t dl;
	int rc;

	*out = NULL;
	*outlen = 0;
	memset(&e, 0, sizeof e);
	if (rk->kdf_alg == NULL || strcmp(rk->kdf_alg, KDF_ALG_NAME) != 0)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "gkdi: root key KDF algorithm");
	if (sdlen > GKDI_TARGET_SD_MAX || l0 < 0 || rk->data_len == 0)
		return laps_seterr(LAPS_ERR_INVALID, "gkdi: root key derivation arguments");
	if ((rc = kdf_params_parse(rk->kdf_params, rk->kdf_params_len, &e.hash)) != 0)
		return rc;
	if (rk->secret_alg == NULL || (e.secret = secret_from_name(rk->secret_alg)) == 0)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "gkdi: root key secret agreement '%s'",
				   rk->secret_alg ? rk->secret_alg : "");
	if (e.secret == GKDI_SECRET_DH &&
	    (rc = dh_params_parse(rk->secret_params, rk->secret_params_len, &dp, &dg, &dl)) != 0)
		return rc;
	kdf_context(ctx, rk->id, l0, -1, -1);
	if ((rc = gkdi_kdf(e.hash, rk->data, rk->data_len, ctx, CTX_BYTES, l0key, sizeof l0key)) !=
	    0)
		goto out;
	kdf_context(ctx, rk->id, l0, 31, -1);
	memcpy(ctx + CTX_BYTES, sd, sdlen);
	if ((rc = gkdi_kdf(e.hash, l0key, sizeof l0key, ctx, CTX_BYTES + sdlen, l1key,
			   sizeof l1key)) != 0)
		goto out;
	e.version = rk->version;
	e.flags = GKDI_FLAG_ENCRYPT;
	e.l0 = l0;
	e.l1 = 31;
	e.l2 = 31;
	memcpy(e.root_key_id, rk->id, GKDI_GUID_BYTES);
	e.kdf_params = rk->kdf_params;
	e.kdf_params_len = rk->kdf_params_len;
	e.secret_params = rk->secret_params;
	e.secret_params_len = rk->secret_params_len;
	e.private_key_bits = rk->private_key_bits;
	e.public_key_bits = rk->public_key_bits;
	e.domain = e.forest = empty;
	e.domain_len = e.forest_len = sizeof empty;
	e.l1_key = l1key;
	if ((rc = gkdi_envelope_pack(&e, out, outlen)) != 0)
		goto out;
	/* what we hand out must parse like a domain controller's answer */
	if ((rc = gkdi_envelope_parse(*out, *outlen, &chk)) != 0) {
		laps_secret_free(*out);
		*out = NULL;
		*outlen = 0;
		goto out;
	}
	/* success */
out:
	OPENSSL_cleanse(l0key, sizeof l0key);
	OPENSSL_cleanse(l1key, sizeof l1key);
	return rc;
}

int
gkdi_l2_key(const struct gkdi_envelope *env, const uint8_t root_key_id[GKDI_GUID_BYTES], int32_t l0,
	    int32_t l1, int32_t l2, uint8_t out[GKDI_SEED_BYTES])
{
	uint8_t key[GKDI_SEED_BYTES];
	int32_t cl1, cl2;
	int rc = 0;

	if (env->flags & GKDI_FLAG_PUBLIC_KEY)
		return laps_seterr(LAPS_ERR_ACCESS,
				   "gkdi: the domain controller gave only the group public key "
				   "(not authorised to decrypt)");
	if (memcmp(env->root_key_id, root_key_id, GKDI_GUID_BYTES) != 0 || env->l0 != l0)
		return laps_seterr(LAPS_ERR_NOTFOUND,
				   "gkdi: the group key is for another root key or L0 index");
	if (l1 < 0 || l1 > 31 || l2 < 0 || l2 > 31)
		return laps_seterr(LAPS_ERR_FORMAT, "gkdi: index (%d, %d)", l1, l2);
	if (l1 > env->l1 || (l1 == env->l1 && env->l2_key == NULL && env->l1_key == NULL))
		return laps_seterr(LAPS_ERR_NOTFOUND,
				   "gkdi: key (%d, %d, %d) is newer than the "
				   "group key (%d, %d, %d)",
				   l0, l1, l2, env->l0, env->l1, env->l2);
	if (l1 == env->l1 && env->l2_key != NULL && l2 <= env->l2) {
		memcpy(key, env->l2_key, GKDI_SEED_BYTES);
		cl1 = l1;
		cl2 = env->l2;
	} else {
		if (env->l1_key == NULL)
			return laps_seterr(LAPS_ERR_NOTFOUND,
					   "gkdi: group key has no L1 key to derive (%d, %d) from",
					   l1, l2);
		/* the L1 key is for L1 when L2 is 31, else for L1 - 1 (MS-GKDI 2.2.4) */
		cl1 = env->l2 == 31 ? env->l1 : env->l1 - 1;
		if (l1 > cl1)
			return laps_seterr(LAPS_ERR_NOTFOUND,
					   "gkdi: key (%d, %d, %d) is newer than the group key", l0,
					   l1, l2);
		memcpy(key, env->l1_key, GKDI_SEED_BYTES);
		while (cl1 > l1)
			if ((rc = tree_step(env->hash, root_key_id, l0, --cl1, -1, key)) != 0)
				goto out;
		cl2 = 31;
		if ((rc = tree_step(env->hash, root_key_id, l0, cl1, cl2, key)) != 0)
			goto out;
	}
	while (cl2 > l2)
		if ((rc = tree_step(env->hash, root_key_id, l0, cl1, --cl2, key)) != 0)
			goto out;
	memcpy(out, key, GKDI_SEED_BYTES);
	/* success */
out:
	OPENSSL_cleanse(key, sizeof key);
	return rc;
}

/* ---- secret agreement ---- */

/* The group private key from an L2 seed key: KDF(L2, algorithm name, bits). */
static int
group_private_key(const struct gkdi_envelope *env, const uint8_t l2[GKDI_SEED_BYTES], uint8_t *priv,
		  size_t *privlen)
{
	uint8_t name[2 * 16];
	size_t nl = ascii_utf16(secret_name(env->secret), name);

	*privlen = (env->private_key_bits + 7) / 8;
	return gkdi_kdf(env->hash, l2, GKDI_SEED_BYTES, name, nl, priv, *privlen);
}

/* 0 < d < order of the curve (big-endian scalar). */
static int
ec_scalar_ok(enum gkdi_secret s, const uint8_t *d, size_t dlen)
{
	EC_GROUP *g = NULL;
	BIGNUM *bn = NULL;
	int ok = 0;

	g = EC_GROUP_new_by_curve_name(s == GKDI_SECRET_ECDH_P256 ? NID_X9_62_prime256v1
								  : NID_secp384r1);
	bn = BN_bin2bn(d, (int)dlen, NULL);
	if (g != NULL && bn != NULL && !BN_is_zero(bn) && BN_cmp(bn, EC_GROUP_get0_order(g)) < 0)
		ok = 1;
	BN_clear_free(bn);
	EC_GROUP_free(g);
	return ok;
}

/* An EVP_PKEY from an EC private scalar, or from the public point x || y. */
static EVP_PKEY *
ec_pkey(enum gkdi_secret s, const uint8_t *priv, size_t privlen, const uint8_t *xy, size_t n)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *d = NULL;
	uint8_t pt[1 + 2 * EC_MAX_BYTES];

	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, ec_group_name(s), 0))
		goto out;
	if (priv != NULL) {
		if ((d = BN_secure_new()) == NULL || BN_bin2bn(priv, (int)privlen, d) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d))
			goto out;
	} else {
		pt[0] = 0x04;
		memcpy(pt + 1, xy, 2 * n);
		if (!OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * n))
			goto out;
	}
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, priv != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
			      params) != 1)
		pkey = NULL;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_clear_free(d);
	return pkey;
}

/* An EVP_PKEY for FFC DH (p, g) with a private x or a public y. */
static EVP_PKEY *
dh_pkey(const uint8_t *p, const uint8_t *g, size_t kl, const uint8_t *x, size_t xlen,
	const uint8_t *y)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bp = NULL, *bg = NULL, *bk = NULL;

	if ((bld = OSSL_PARAM_BLD_new()) == NULL || (bp = BN_bin2bn(p, (int)kl, NULL)) == NULL ||
	    (bg = BN_bin2bn(g, (int)kl, NULL)) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, bp) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, bg))
		goto out;
	if (x != NULL) {
		if ((bk = BN_secure_new()) == NULL || BN_bin2bn(x, (int)xlen, bk) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bk))
			goto out;
	} else if ((bk = BN_bin2bn(y, (int)kl, NULL)) == NULL ||
		   !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, bk)) {
		goto out;
	}
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, x != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
			      params) != 1)
		pkey = NULL;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(bp);
	BN_free(bg);
	BN_clear_free(bk);
	return pkey;
}

/*
 * Shared secret of our private key priv and the peer's public key blob
 * (checked by pubkey_check): ECDH x coordinate, or DH y^x mod p padded to
 * the key length.  shared (cap >= GKDI_DH_BYTES_MAX) is secret.
 */
static int
agree(const struct gkdi_envelope *env, const uint8_t *priv, size_t privlen, const uint8_t *peer,
      size_t peerlen, uint8_t *shared, size_t *sharedlen)
{
	const uint8_t *dp = NULL, *dg = NULL;
	EVP_PKEY *mine = NULL, *theirs = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t dl = 0, n = ec_bytes(env->secret), len;
	int rc;

	if (env->secret == GKDI_SECRET_DH &&
	    (rc = dh_params_parse(env->secret_params, env->secret_params_len, &dp, &dg, &dl)) != 0)
		return rc;
	if ((rc = pubkey_check(env->secret, peer, peerlen, dp, dg, dl)) != 0)
		return rc;
	rc = LAPS_ERR_CRYPTO;
	if (n != 0) {
		if (privlen != n || !ec_scalar_ok(env->secret, priv, privlen)) {
			rc = laps_seterr(LAPS_ERR_CRYPTO, "gkdi: EC private key out of range");
			goto out;
		}
		mine = ec_pkey(env->secret, priv, privlen, NULL, n);
		theirs = ec_pkey(env->secret, NULL, 0, peer + 8, n);
	} else {
		mine = dh_pkey(dp, dg, dl, priv, privlen, NULL);
		theirs = dh_pkey(dp, dg, dl, NULL, 0, peer + 8 + 2 * dl);
	}
	if (mine == NULL || theirs == NULL) {
		rc =
		    laps_seterr(LAPS_ERR_CRYPTO, "gkdi: %s key rejected", secret_name(env->secret));
		goto out;
	}
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 || (n == 0 && EVP_PKEY_CTX_set_dh_pad(ctx, 1) != 1) ||
	    EVP_PKEY_derive_set_peer_ex(ctx, theirs, 1) != 1 ||
	    EVP_PKEY_derive(ctx, NULL, &len) != 1 || len > GKDI_DH_BYTES_MAX ||
	    EVP_PKEY_derive(ctx, shared, &len) != 1) {
		rc = laps_seterr(LAPS_ERR_CRYPTO, "gkdi: %s agreement failed",
				 secret_name(env->secret));
		goto out;
	}
	*sharedlen = len;
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(mine);
	EVP_PKEY_free(theirs);
	return rc;
}

/*
 * From the shared secret to the KEK:
 *   secret = SP 800-56A concat KDF(H, Z, "SHA512" || "KDS public key" || "KDS service")
 *            with H = SHA-256 (DH, P-256) or SHA-384 (P-384), |secret| = |H|
 *   KEK    = KDF(hash, secret, "KDS service", "KDS public key", 256 bits)
 */
static int
kek_from_shared(const struct gkdi_envelope *env, const uint8_t *z, size_t zlen,
		uint8_t kek[GKDI_KEK_BYTES])
{
	uint8_t info[sizeof label_sha512 + sizeof label_kds_public_key + sizeof label_kds_service];
	uint8_t secret[48];
	const char *md = env->secret == GKDI_SECRET_ECDH_P384 ? "SHA384" : "SHA256";
	size_t slen = env->secret == GKDI_SECRET_ECDH_P384 ? 48 : 32, o = 0;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[4];
	int rc = LAPS_ERR_CRYPTO;

	memcpy(info, label_sha512, sizeof label_sha512);
	o += sizeof label_sha512;
	memcpy(info + o, label_kds_public_key, sizeof label_kds_public_key);
	o += sizeof label_kds_public_key;
	memcpy(info + o, label_kds_service, sizeof label_kds_service);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, zlen);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof info);
	params[3] = OSSL_PARAM_construct_end();
	if ((kdf = EVP_KDF_fetch(NULL, "SSKDF", NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL ||
	    EVP_KDF_derive(kctx, secret, slen, params) != 1) {
		rc = laps_seterr(LAPS_ERR_CRYPTO, "gkdi: SP 800-56A concatenation KDF failed");
		goto out;
	}
	rc = gkdi_kdf(env->hash, secret, slen, label_kds_public_key, sizeof label_kds_public_key,
		      kek, GKDI_KEK_BYTES);
out:
	OPENSSL_cleanse(secret, sizeof secret);
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rc;
}

/* The public key blob (MS-GKDI 2.2.3) of a private key; out cap >= 8 + 3 * DH max. */
static int
public_key_blob(const struct gkdi_envelope *env, const uint8_t *priv, size_t privlen, uint8_t *out,
		size_t *outlen)
{
	const uint8_t *dp, *dg;
	size_t dl, n = ec_bytes(env->secret), len;
	BN_CTX *bctx = NULL;
	BIGNUM *bp = NULL, *bg = NULL, *bx = NULL, *by = NULL;
	EVP_PKEY *pk = NULL;
	uint8_t pt[1 + 2 * EC_MAX_BYTES];
	EC_GROUP *grp = NULL;
	EC_POINT *pub = NULL;
	int rc = LAPS_ERR_CRYPTO;

	if (n != 0) {
		grp = EC_GROUP_new_by_curve_name(
		    env->secret == GKDI_SECRET_ECDH_P256 ? NID_X9_62_prime256v1 : NID_secp384r1);
		if (!ec_scalar_ok(env->secret, priv, privlen) || grp == NULL ||
		    (bctx = BN_CTX_secure_new()) == NULL || (bx = BN_secure_new()) == NULL ||
		    BN_bin2bn(priv, (int)privlen, bx) == NULL ||
		    (pub = EC_POINT_new(grp)) == NULL ||
		    EC_POINT_mul(grp, pub, bx, NULL, NULL, bctx) != 1 ||
		    EC_POINT_point2oct(grp, pub, POINT_CONVERSION_UNCOMPRESSED, pt, sizeof pt,
				       bctx) != 1 + 2 * n)
			goto out;
		memcpy(out, env->secret == GKDI_SECRET_ECDH_P256 ? "ECK1" : "ECK3", 4);
		wr32(out + 4, (uint32_t)n);
		memcpy(out + 8, pt + 1, 2 * n);
		*outlen = 8 + 2 * n;
		rc = 0;
		goto out;
	}
	if ((rc = dh_params_parse(env->secret_params, env->secret_params_len, &dp, &dg, &dl)) != 0)
		goto out;
	rc = LAPS_ERR_CRYPTO;
	if ((bctx = BN_CTX_secure_new()) == NULL || (bp = BN_bin2bn(dp, (int)dl, NULL)) == NULL ||
	    (bg = BN_bin2bn(dg, (int)dl, NULL)) == NULL || (bx = BN_secure_new()) == NULL ||
	    BN_bin2bn(priv, (int)privlen, bx) == NULL || BN_is_zero(bx) ||
	    (by = BN_new()) == NULL || BN_mod_exp_mont_consttime(by, bg, bx, bp, bctx, NULL) != 1)
		goto out;
	memcpy(out, "DHPB", 4);
	wr32(out + 4, (uint32_t)dl);
	memcpy(out + 8, dp, dl);
	memcpy(out + 8 + dl, dg, dl);
	if (BN_bn2binpad(by, out + 8 + 2 * dl, (int)dl) != (int)dl)
		goto out;
	len = 8 + 3 * dl;
	*outlen = len;
	rc = 0;
out:
	if (rc == LAPS_ERR_CRYPTO)
		laps_seterr(rc, "gkdi: %s public key computation failed", secret_name(env->secret));
	EVP_PKEY_free(pk);
	EC_POINT_free(pub);
	EC_GROUP_free(grp);
	BN_free(bp);
	BN_free(bg);
	BN_clear_free(bx);
	BN_free(by);
	BN_CTX_free(bctx);
	return rc;
}

int
gkdi_envelope_public(const struct gkdi_envelope *env, int32_t l1, int32_t l2, uint8_t **out,
		     size_t *outlen)
{
	uint8_t l2key[GKDI_SEED_BYTES], priv[PRIV_MAX_BYTES], pub[8 + 3 * GKDI_DH_BYTES_MAX];
	struct gkdi_envelope e;
	size_t privlen = 0, publen = 0;
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = gkdi_l2_key(env, env->root_key_id, env->l0, l1, l2, l2key)) != 0)
		return rc;
	if ((rc = group_private_key(env, l2key, priv, &privlen)) != 0 ||
	    (rc = public_key_blob(env, priv, privlen, pub, &publen)) != 0)
		goto out;
	e = *env;
	e.flags = GKDI_FLAG_PUBLIC_KEY | GKDI_FLAG_ENCRYPT;
	e.l1 = l1;
	e.l2 = l2;
	e.l1_key = NULL;
	e.l2_key = pub;
	e.l2_key_len = publen;
	rc = gkdi_envelope_pack(&e, out, outlen);
out:
	OPENSSL_cleanse(l2key, sizeof l2key);
	OPENSSL_cleanse(priv, sizeof priv);
	return rc;
}

int
gkdi_kek_unwrap_key(const struct gkdi_envelope *env, const struct gkdi_key_id *kid,
		    uint8_t kek[GKDI_KEK_BYTES])
{
	uint8_t l2key[GKDI_SEED_BYTES], priv[PRIV_MAX_BYTES], shared[GKDI_DH_BYTES_MAX];
	size_t privlen = 0, sharedlen = 0;
	int rc;

	if ((rc = gkdi_l2_key(env, kid->root_key_id, kid->l0, kid->l1, kid->l2, l2key)) != 0)
		return rc;
	if (!(kid->flags & GKDI_FLAG_PUBLIC_KEY)) {
		rc = gkdi_kdf(env->hash, l2key, sizeof l2key, kid->key_info, kid->key_info_len, kek,
			      GKDI_KEK_BYTES);
		goto out;
	}
	if ((rc = group_private_key(env, l2key, priv, &privlen)) != 0 ||
	    (rc = agree(env, priv, privlen, kid->key_info, kid->key_info_len, shared,
			&sharedlen)) != 0) {
		rc = laps_seterr_prefix(rc, "gkdi: key info");
		goto out;
	}
	rc = kek_from_shared(env, shared, sharedlen, kek);
out:
	OPENSSL_cleanse(l2key, sizeof l2key);
	OPENSSL_cleanse(priv, sizeof priv);
	OPENSSL_cleanse(shared, sizeof shared);
	return rc;
}

/* A fresh private key for the writer's side of the agreement. */
static int
ephemeral_private_key(const struct gkdi_envelope *env, uint8_t *priv, size_t *privlen)
{
	size_t n = ec_bytes(env->secret);
	int i;

	*privlen = n ? n : (env->private_key_bits + 7) / 8;
	for (i = 0; i < 64; i++) {
		if (RAND_priv_bytes(priv, (int)*privlen) != 1)
			return laps_seterr(LAPS_ERR_CRYPTO, "gkdi: no random bytes");
		if (n ? ec_scalar_ok(env->secret, priv, n) : priv[0] != 0)
			return 0;
	}
	return laps_seterr(LAPS_ERR_CRYPTO, "gkdi: no usable ephemeral key");
}

int
gkdi_kek_new(const struct gkdi_envelope *env, uint8_t kek[GKDI_KEK_BYTES], uint8_t **kid_buf,
	     size_t *kid_len)
{
	uint8_t priv[PRIV_MAX_BYTES], shared[GKDI_DH_BYTES_MAX], l2key[GKDI_SEED_BYTES];
	uint8_t info[8 + 3 * GKDI_DH_BYTES_MAX];
	size_t privlen = 0, sharedlen = 0, infolen = 0;
	struct gkdi_key_id kid;
	int rc;

	*kid_buf = NULL;
	*kid_len = 0;
	memset(&kid, 0, sizeof kid);
	if (!(env->flags & GKDI_FLAG_ENCRYPT))
		return laps_seterr(LAPS_ERR_INVALID,
				   "gkdi: the group key is for decryption only (flag 0x2 clear)");
	if (env->flags & GKDI_FLAG_PUBLIC_KEY) {
		/* public key path: what a computer account (not a reader) does */
		if ((rc = ephemeral_private_key(env, priv, &privlen)) != 0 ||
		    (rc = agree(env, priv, privlen, env->l2_key, env->l2_key_len, shared,
				&sharedlen)) != 0 ||
		    (rc = kek_from_shared(env, shared, sharedlen, kek)) != 0 ||
		    (rc = public_key_blob(env, priv, privlen, info, &infolen)) != 0)
			goto out;
	} else {
		/* seed key path: a writer that may also read */
		infolen = 32;
		if (RAND_bytes(info, (int)infolen) != 1) {
			rc = laps_seterr(LAPS_ERR_CRYPTO, "gkdi: no random bytes");
			goto out;
		}
		if ((rc = gkdi_l2_key(env, env->root_key_id, env->l0, env->l1, env->l2, l2key)) !=
			0 ||
		    (rc = gkdi_kdf(env->hash, l2key, sizeof l2key, info, infolen, kek,
				   GKDI_KEK_BYTES)) != 0)
			goto out;
	}
	kid.version = 1;
	kid.flags = env->flags;
	kid.l0 = env->l0;
	kid.l1 = env->l1;
	kid.l2 = env->l2;
	memcpy(kid.root_key_id, env->root_key_id, GKDI_GUID_BYTES);
	kid.key_info = info;
	kid.key_info_len = infolen;
	kid.domain = env->domain;
	kid.domain_len = env->domain_len;
	kid.forest = env->forest;
	kid.forest_len = env->forest_len;
	rc = gkdi_key_id_pack(&kid, kid_buf, kid_len);
out:
	if (rc != 0)
		OPENSSL_cleanse(kek, GKDI_KEK_BYTES);
	OPENSSL_cleanse(priv, sizeof priv);
	OPENSSL_cleanse(shared, sizeof shared);
	OPENSSL_cleanse(l2key, sizeof l2key);
	return rc;
}
