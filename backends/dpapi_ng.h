/*
 * dpapi_ng.h — DPAPI-NG ("CNG DPAPI") blobs as Windows LAPS stores them in
 * msLAPS-EncryptedPassword: a CMS ContentInfo / EnvelopedData with one
 * KEKRecipientInfo (the MS-GKDI key identifier and the protection
 * descriptor "SID=..."), the content key wrapped with AES-256 key wrap
 * (RFC 3394) and the content encrypted with AES-256-GCM; the ciphertext
 * inside the envelope or right after it (the LAPS layout).  Plus the
 * 16-byte msLAPS-EncryptedPassword header and the UTF-16LE JSON payload.
 * OpenSSL 3 only; bytes and decisions in docs/DPAPI-NG.md.
 *
 * Functions return 0 or a negative LAPS_ERR_* (escrow/err.h) with a detail
 * that names what was wrong.  Parsed views point into the caller's buffer.
 * Plaintexts and payloads come from laps_secret_alloc(): NUL-terminated
 * (not counted in the length), released with laps_secret_free().
 */
#ifndef LAPS_DPAPI_NG_H
#define LAPS_DPAPI_NG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/gkdi_key.h"

#define DPAPI_NG_BLOB_MAX 16384	      /* a blob (or attribute value) we accept */
#define DPAPI_NG_PLAINTEXT_MAX 8192   /* a protected secret */
#define DPAPI_NG_CEK_BYTES 32	      /* AES-256 content key */
#define DPAPI_NG_WRAPPED_CEK_BYTES 40 /* RFC 3394 wrap of the CEK */
#define DPAPI_NG_NONCE_BYTES 12	      /* AES-GCM nonce, as Windows writes it */
#define DPAPI_NG_TAG_BYTES 16	      /* AES-GCM tag we write */
#define DPAPI_NG_LAPS_HEADER_BYTES 16 /* msLAPS-EncryptedPassword header */

/* A parsed, not yet authenticated, blob. */
struct dpapi_ng_blob {
	const uint8_t *key_id; /* the packed key identifier (keyIdentifier) */
	size_t key_id_len;
	struct gkdi_key_id kid;	    /* key_id parsed */
	char sid[GKDI_SID_MAX + 1]; /* the protection descriptor's "SID=" value */
	const uint8_t *wrapped_cek; /* DPAPI_NG_WRAPPED_CEK_BYTES */
	uint8_t nonce[DPAPI_NG_NONCE_BYTES];
	unsigned icv_len;	   /* GCM tag length (12..16) */
	const uint8_t *ciphertext; /* ciphertext || tag */
	size_t ciphertext_len;
	bool detached;	/* ciphertext after the CMS structure (the LAPS layout) */
	size_t cms_len; /* bytes of the CMS ContentInfo */
};

/*
 * Parse a blob of len bytes: exactly one KEKRecipientInfo with the
 * Microsoft key attribute, a single "SID" protection descriptor, AES-256
 * key wrap and AES-256-GCM; ciphertext inside the EnvelopedData or after
 * it (not both).  LAPS_ERR_FORMAT / _TOOBIG / _UNSUPPORTED.
 */
int dpapi_ng_blob_parse(const uint8_t *buf, size_t len, struct dpapi_ng_blob *out)
    __attribute__((warn_unused_result));

/*
 * Decrypt with a seed key envelope (GetKey's answer to an authorised
 * reader): KEK (gkdi_kek_unwrap_key), unwrap the CEK, AES-GCM with the tag
 * verified.  *pt / *ptlen as above.  LAPS_ERR_CRYPTO (wrong key, tampered
 * key identifier, CEK or ciphertext), LAPS_ERR_ACCESS (a public-key
 * envelope: not authorised), LAPS_ERR_NOTFOUND (another key).
 */
int dpapi_ng_unprotect(const struct dpapi_ng_blob *b, const struct gkdi_envelope *env, uint8_t **pt,
		       size_t *ptlen) __attribute__((warn_unused_result));

/* The same with the KEK already derived. */
int dpapi_ng_unprotect_kek(const struct dpapi_ng_blob *b, const uint8_t kek[GKDI_KEK_BYTES],
			   uint8_t **pt, size_t *ptlen) __attribute__((warn_unused_result));

/*
 * Test mode standing in for GetKey: decrypt with the KDS root key itself
 * (target security descriptor built from the blob's SID, the envelope for
 * the blob's L0 index derived from the root key).
 */
int dpapi_ng_unprotect_root_key(const struct dpapi_ng_blob *b, const struct gkdi_root_key *rk,
				uint8_t **pt, size_t *ptlen) __attribute__((warn_unused_result));

/*
 * Encrypt ptlen bytes to the protection descriptor "SID=sid" with the
 * envelope GetKey gave for that SID's target security descriptor: a public
 * key envelope (a computer account, as Windows LAPS clients) gives the
 * public key path, a seed envelope the seed key path (gkdi_kek_new).
 * detached: ciphertext after the CMS structure (what Windows LAPS writes
 * and impacket reads) rather than inside it.  *out is malloc'd (not secret).
 */
int dpapi_ng_protect(const struct gkdi_envelope *env, const char *sid, const uint8_t *pt,
		     size_t ptlen, bool detached, uint8_t **out, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * msLAPS-EncryptedPassword (MS-ADA2 2.66): PasswordUpdateTimestamp[8] |
 * EncryptedPasswordSize[4] | Reserved[4] = 0 | blob.  The timestamp is a
 * FILETIME written high 32 bits first, each half little-endian (see
 * docs/DPAPI-NG.md for why); the size little-endian.
 *
 * Split an attribute value: *blob points into v.  LAPS_ERR_FORMAT (size or
 * reserved field), LAPS_ERR_TOOBIG.
 */
int dpapi_ng_laps_split(const uint8_t *v, size_t len, uint64_t *filetime, const uint8_t **blob,
			size_t *bloblen) __attribute__((warn_unused_result));

/* Header + blob; *out is malloc'd. */
int dpapi_ng_laps_join(uint64_t filetime, const uint8_t *blob, size_t bloblen, uint8_t **out,
		       size_t *outlen) __attribute__((warn_unused_result));

/*
 * The plaintext Windows LAPS encrypts: the msLAPS-Password JSON document
 * ({"n","t","p"}) in UTF-16LE followed by a 2-byte NUL.  From UTF-8 json
 * (len bytes, valid UTF-8 without NUL) to *out; and back (the UTF-16LE
 * must end in its NUL and hold no other) to NUL-terminated UTF-8 *json.
 * LAPS_ERR_FORMAT (invalid UTF-8 / UTF-16), LAPS_ERR_TOOBIG.
 */
int dpapi_ng_laps_payload(const char *json, size_t len, uint8_t **out, size_t *outlen)
    __attribute__((warn_unused_result));
int dpapi_ng_laps_payload_json(const uint8_t *p, size_t len, char **json, size_t *jsonlen)
    __attribute__((warn_unused_result));

#endif
