/*
 * gkdi_key.h — MS-GKDI (Group Key Distribution) key material: the packed
 * structures (KeyIdentifier, GroupKeyEnvelope, KDF and secret agreement
 * parameters, DH and ECDH public keys), the target security descriptor of
 * a "SID=..." protection descriptor, the L0/L1/L2 seed key tree and the key
 * encryption key (KEK) of a DPAPI-NG blob.  OpenSSL 3 only.  Byte layouts
 * and derivation steps: docs/DPAPI-NG.md.
 *
 * Parsers return views: their pointers point into the caller's buffer and
 * are valid while it lives; nothing is allocated.  Every length field is
 * checked against the input and against the caps below.  Functions return 0
 * or a negative LAPS_ERR_* (escrow/err.h) with a detail naming the field.
 *
 * Secrets: seed keys, group private keys and KEKs.  Fixed-size outputs are
 * written into caller buffers (wipe them with OPENSSL_cleanse or
 * laps_wipe); allocated outputs that hold a seed key come from
 * laps_secret_alloc() and are released with laps_secret_free().
 */
#ifndef LAPS_GKDI_KEY_H
#define LAPS_GKDI_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GKDI_GUID_BYTES 16
#define GKDI_SEED_BYTES 64 /* every L0, L1 and L2 seed key */
#define GKDI_KEK_BYTES 32
#define GKDI_MAGIC "KDSK"

/* Caps on untrusted input (bytes). */
#define GKDI_KEYID_MAX 4096    /* a packed KeyIdentifier */
#define GKDI_ENVELOPE_MAX 8192 /* a packed GroupKeyEnvelope */
#define GKDI_NAME_MAX 512      /* a UTF-16LE domain or forest name, with its NUL */
#define GKDI_ALG_NAME_MAX 64   /* a UTF-16LE algorithm name, with its NUL */
#define GKDI_DH_BYTES_MAX 512  /* FFC DH key length (4096-bit p) */
#define GKDI_TARGET_SD_MAX 256 /* the security descriptor of one SID rule */
#define GKDI_SID_MAX 184       /* "S-1-" + 48-bit authority + 15 sub-authorities */

/* dwFlags of KeyIdentifier and GroupKeyEnvelope (MS-GKDI 2.2.4, "bit 31" = LSB). */
#define GKDI_FLAG_PUBLIC_KEY 0x1u /* the key info / L2 key is a public key */
#define GKDI_FLAG_ENCRYPT 0x2u	  /* the key may be used to encrypt */

enum gkdi_hash {
	GKDI_HASH_NONE = 0,
	GKDI_HASH_SHA1,
	GKDI_HASH_SHA256,
	GKDI_HASH_SHA384,
	GKDI_HASH_SHA512,
};

enum gkdi_secret {
	GKDI_SECRET_NONE = 0,
	GKDI_SECRET_DH,	       /* FFC DH, "DH" */
	GKDI_SECRET_ECDH_P256, /* "ECDH_P256" */
	GKDI_SECRET_ECDH_P384, /* "ECDH_P384" */
};

/* A packed MS-GKDI KeyIdentifier (the keyIdentifier of a DPAPI-NG blob). */
struct gkdi_key_id {
	uint32_t version; /* 1 */
	uint32_t flags;
	int32_t l0, l1, l2;
	uint8_t root_key_id[GKDI_GUID_BYTES]; /* GUID, wire (mixed-endian) bytes */
	const uint8_t *key_info;	      /* public key path: the writer's public key;
						 seed key path: the KDF context */
	size_t key_info_len;
	const uint8_t *domain; /* UTF-16LE with its 2-byte NUL */
	size_t domain_len;
	const uint8_t *forest;
	size_t forest_len;
};

/* A packed MS-GKDI GroupKeyEnvelope (GetKey's answer, MS-GKDI 2.2.4). */
struct gkdi_envelope {
	uint32_t version;
	uint32_t flags;
	int32_t l0, l1, l2;
	uint8_t root_key_id[GKDI_GUID_BYTES];
	enum gkdi_hash hash;	 /* from the KDF parameters */
	enum gkdi_secret secret; /* from the secret agreement algorithm */
	const uint8_t *kdf_params;
	size_t kdf_params_len;
	const uint8_t *secret_params; /* DH: FFC DH parameters; ECDH: none */
	size_t secret_params_len;
	uint32_t private_key_bits, public_key_bits;
	const uint8_t *domain, *forest; /* UTF-16LE with NUL */
	size_t domain_len, forest_len;
	const uint8_t *l1_key; /* NULL or GKDI_SEED_BYTES (secret) */
	const uint8_t *l2_key; /* NULL, a seed key (GKDI_SEED_BYTES, secret) or,
				  with GKDI_FLAG_PUBLIC_KEY, the group public key */
	size_t l2_key_len;
};

/*
 * A KDS root key (an msKds-ProvRootKey object: msKds-RootKeyData and its
 * parameters).  All pointers are borrowed.  Only the domain controller and
 * this project's tests hold one: production readers get a GroupKeyEnvelope
 * from GetKey instead.
 */
struct gkdi_root_key {
	uint8_t id[GKDI_GUID_BYTES];
	uint32_t version;
	const char *kdf_alg; /* "SP800_108_CTR_HMAC" */
	const uint8_t *kdf_params;
	size_t kdf_params_len;
	const char *secret_alg; /* "DH", "ECDH_P256", "ECDH_P384" */
	const uint8_t *secret_params;
	size_t secret_params_len;
	uint32_t private_key_bits, public_key_bits;
	const uint8_t *data; /* msKds-RootKeyData (secret) */
	size_t data_len;
};

/* Parse a packed KeyIdentifier.  LAPS_ERR_FORMAT / _TOOBIG / _VERSION. */
int gkdi_key_id_parse(const uint8_t *buf, size_t len, struct gkdi_key_id *out)
    __attribute__((warn_unused_result));

/* Pack a KeyIdentifier; *out is malloc'd (not secret), *outlen its size. */
int gkdi_key_id_pack(const struct gkdi_key_id *kid, uint8_t **out, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * Parse a packed GroupKeyEnvelope: every length, the magic, the indices
 * (L1 and L2 in 0..31), the KDF parameters, the algorithm names (decoded
 * into hash and secret), the secret agreement parameters and, when the
 * envelope carries a public key, that key's structure.
 * LAPS_ERR_FORMAT / _TOOBIG / _VERSION / _UNSUPPORTED (algorithm).
 */
int gkdi_envelope_parse(const uint8_t *buf, size_t len, struct gkdi_envelope *out)
    __attribute__((warn_unused_result));

/*
 * Pack an envelope.  *out comes from laps_secret_alloc (it may hold seed
 * keys): release it with laps_secret_free.
 */
int gkdi_envelope_pack(const struct gkdi_envelope *env, uint8_t **out, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * The GUID "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (as msKds-RootKeyID and
 * the cn of a root key print it) into its 16 wire bytes (the first three
 * groups little-endian).  LAPS_ERR_FORMAT.
 */
int gkdi_guid_parse(const char *s, uint8_t out[GKDI_GUID_BYTES])
    __attribute__((warn_unused_result));

/*
 * The self-relative security descriptor GetKey is asked for and the L1
 * key is bound to, for the protection descriptor "SID=sid": owner and group
 * S-1-5-18, DACL (allow sid 0x3) (allow S-1-1-0 0x2), no SACL (MS-GKDI,
 * MS-DTYP 2.4.6; offsets in the order Windows writes them).  Writes *len
 * bytes into out (cap >= GKDI_TARGET_SD_MAX).  LAPS_ERR_FORMAT (bad SID).
 */
int gkdi_target_sd(const char *sid, uint8_t *out, size_t cap, size_t *len)
    __attribute__((warn_unused_result));

/*
 * Test mode standing in for GetKey: from a KDS root key, the envelope a
 * domain controller would answer to an authorised reader for the L0 index
 * l0 and target security descriptor sd: flags GKDI_FLAG_ENCRYPT, L1 = L2 =
 * 31, the L1 seed key (L0, 31) and no L2 key.  *out as gkdi_envelope_pack.
 * LAPS_ERR_UNSUPPORTED (algorithm), LAPS_ERR_FORMAT (parameters).
 */
int gkdi_envelope_from_root_key(const struct gkdi_root_key *rk, const uint8_t *sd, size_t sdlen,
				int32_t l0, uint8_t **out, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * The L2 seed key (L0, l1, l2) from a seed envelope that holds a key at or
 * above it (MS-GKDI 3.1.4.1.2, 3.2.4.3).  LAPS_ERR_NOTFOUND when the
 * envelope's root key or L0 index differ or the node lies after the
 * envelope's; LAPS_ERR_ACCESS when the envelope carries only a public key
 * (the DC did not consider us authorised); LAPS_ERR_FORMAT when a needed
 * L1/L2 key is missing.
 */
int gkdi_l2_key(const struct gkdi_envelope *env, const uint8_t root_key_id[GKDI_GUID_BYTES],
		int32_t l0, int32_t l1, int32_t l2, uint8_t out[GKDI_SEED_BYTES])
    __attribute__((warn_unused_result));

/*
 * Test mode standing in for GetKey for an unauthorised writer (what a
 * computer account gets): the public-key envelope for (env's L0, l1, l2),
 * derived from a seed envelope: flags GKDI_FLAG_PUBLIC_KEY |
 * GKDI_FLAG_ENCRYPT, no L1 key, L2 = the group public key.  *out as
 * gkdi_envelope_pack (it holds no secret, but is released the same way).
 */
int gkdi_envelope_public(const struct gkdi_envelope *env, int32_t l1, int32_t l2, uint8_t **out,
			 size_t *outlen) __attribute__((warn_unused_result));

/*
 * The KEK of a blob's key identifier from a seed envelope (the reader):
 * seed key path KDF(L2, "KDS service", key_info, 256 bits); public key path
 * the group private key from L2, agreement with the writer's public key in
 * key_info, SP 800-56A concatenation KDF, SP 800-108 KDF.  kek is secret.
 * Errors as gkdi_l2_key, LAPS_ERR_FORMAT (key info), LAPS_ERR_CRYPTO.
 */
int gkdi_kek_unwrap_key(const struct gkdi_envelope *env, const struct gkdi_key_id *kid,
			uint8_t kek[GKDI_KEK_BYTES]) __attribute__((warn_unused_result));

/*
 * A fresh KEK for a writer and the key identifier that names it.  A public
 * key envelope (what GetKey gives a computer account) gives the public key
 * path: a fresh ephemeral key pair agrees with the group public key; its
 * public half goes into the key info.  A seed envelope gives the seed key
 * path with 32 random bytes of key info (at the envelope's L1/L2 indices).
 * *kid_buf (malloc'd, not secret) holds the packed key identifier.
 * LAPS_ERR_INVALID when the envelope is not marked for encryption
 * (GKDI_FLAG_ENCRYPT clear: MS-GKDI says such a key only decrypts).
 */
int gkdi_kek_new(const struct gkdi_envelope *env, uint8_t kek[GKDI_KEK_BYTES], uint8_t **kid_buf,
		 size_t *kid_len) __attribute__((warn_unused_result));

/* The SP 800-108 counter-mode HMAC KDF with the "KDS service" label
 * (exposed for the tests).  LAPS_ERR_CRYPTO. */
int gkdi_kdf(enum gkdi_hash hash, const uint8_t *key, size_t keylen, const uint8_t *context,
	     size_t ctxlen, uint8_t *out, size_t outlen) __attribute__((warn_unused_result));

#endif
