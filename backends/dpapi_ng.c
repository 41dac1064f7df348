/*
 * dpapi_ng.c — DPAPI-NG blobs (dpapi_ng.h; docs/DPAPI-NG.md).
 *
 *   ContentInfo ::= SEQUENCE { id-envelopedData, [0] EXPLICIT EnvelopedData }
 *   EnvelopedData ::= SEQUENCE { version 2, recipientInfos SET OF {
 *       [2] KEKRecipientInfo ::= { version 4,
 *           KEKIdentifier ::= { keyIdentifier OCTET STRING (MS-GKDI key id),
 *                               date GeneralizedTime OPTIONAL,
 *                               other { 1.3.6.1.4.1.311.74.1,
 *                                       { 1.3.6.1.4.1.311.74.1.1,
 *                                         {{{ UTF8 "SID", UTF8 "S-1-..." }}} } } },
 *           { aes256-wrap }, encryptedKey OCTET STRING (40) } },
 *     EncryptedContentInfo ::= { id-data, { aes256-gcm, { nonce OCTET STRING (12),
 *                                           icvLen INTEGER DEFAULT 12 } },
 *                                [0] IMPLICIT ciphertext || tag OPTIONAL } }
 *   [ciphertext || tag after the ContentInfo when [0] is absent: the LAPS layout]
 *
 * The DER is read by a small bounded reader and written by hand: OpenSSL's
 * CMS cannot express this (AES-GCM inside EnvelopedData, a KEK recipient
 * keyed by an external key identifier that only GetKey resolves).
 */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "backends/dpapi_ng.h"
#include "backends/gkdi_key.h"
#include "escrow/err.h"
#include "escrow/secret.h"

/* DER contents of the object identifiers. */
static const uint8_t oid_enveloped_data[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03};
static const uint8_t oid_data[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
static const uint8_t oid_ms_key_attr[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x4a, 0x01};
static const uint8_t oid_ms_sid[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x4a, 0x01, 0x01};
static const uint8_t oid_aes256_wrap[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2d};
static const uint8_t oid_aes256_gcm[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2e};

/* ---- a bounded DER reader ---- */

struct der {
	const uint8_t *p;
	size_t len, off;
};

static int
der_peek(const struct der *d)
{
	return d->off < d->len ? d->p[d->off] : -1;
}

/* The next element, which must have tag; its contents in *in. */
static int
der_next(struct der *d, uint8_t tag, struct der *in, const char *what)
{
	size_t n, i, l = 0, left = d->len - d->off;
	const uint8_t *p = d->p + d->off;

	if (left < 2)
		return laps_seterr(LAPS_ERR_FORMAT, "dpapi-ng: %s: truncated", what);
	if (p[0] != tag)
		return laps_seterr(LAPS_ERR_FORMAT, "dpapi-ng: %s: tag 0x%02x, expected 0x%02x",
				   what, p[0], tag);
	if (p[1] < 0x80) {
		l = p[1];
		n = 2;
	} else {
		n = p[1] & 0x7f;
		if (n == 0 || n > 3)
			return laps_seterr(LAPS_ERR_FORMAT,
					   "dpapi-ng: %s: unsupported length encoding", what);
		if (left < 2 + n)
			return laps_seterr(LAPS_ERR_FORMAT, "dpapi-ng: %s: truncated length", what);
		for (i = 0; i < n; i++)
			l = l << 8 | p[2 + i];
		if (l < 0x80 || (n > 1 && p[2] == 0))
			return laps_seterr(LAPS_ERR_FORMAT, "dpapi-ng: %s: non-minimal length",
					   what);
		n += 2;
	}
	if (l > left - n)
		return laps_seterr(LAPS_ERR_FORMAT, "dpapi-ng: %s: length %zu, only %zu bytes left",
				   what, l, left - n);
	in->p = p + n;
	in->len = l;
	in->off = 0;
	d->off += n + l;
	return 0;
}

static int
der_end(const struct der *d, const char *what)
{
	if (d->off != d->len)
		return laps_seterr(LAPS_ERR_FORMAT, "dpapi-ng: %s: %zu unexpected trailing bytes",
				   what, d->len - d->off);
	return 0;
}

static int
der_oid(struct der *d, const uint8_t *oid, size_t oidlen, const char *what)
{
	struct der o;
	int rc;

	if ((rc = der_next(d, 0x06, &o, what)) != 0)
		return rc;
	if (o.len != oidlen || memcmp(o.p, oid, oidlen) != 0)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "dpapi-ng: %s: unexpected OID", what);
	return 0;
}

/* A small non-negative INTEGER. */
static int
der_uint(struct der *d, unsigned max, unsigned *v, const char *what)
{
	struct der i;
	int rc;

	if ((rc = der_next(d, 0x02, &i, what)) != 0)
		return rc;
	if (i.len != 1 || i.p[0] > max || i.p[0] & 0x80)
		return laps_seterr(LAPS_ERR_FORMAT, "dpapi-ng: %s: unexpected value", what);
	*v = i.p[0];
	return 0;
}

/* The protection descriptor: { 1.3.6.1.4.1.311.74.1.1, {{{ "SID", sid }}} }. */
static int
parse_protection_descriptor(struct der *attr, char sid[GKDI_SID_MAX + 1])
{
	struct der pd, a, b, c, t, v;
	int rc;

	if ((rc = der_next(attr, 0x30, &pd, "protection descriptor")) != 0 ||
	    (rc = der_end(attr, "key attribute")) != 0)
		return rc;
	if ((rc = der_oid(&pd, oid_ms_sid, sizeof oid_ms_sid, "protection descriptor type")) != 0)
		return laps_seterr_prefix(rc, "only SID protection descriptors are supported");
	if ((rc = der_next(&pd, 0x30, &a, "protection descriptor rules")) != 0 ||
	    (rc = der_end(&pd, "protection descriptor")) != 0 ||
	    (rc = der_next(&a, 0x30, &b, "protection descriptor rule")) != 0 ||
	    (rc = der_end(&a, "protection descriptor rules")) != 0 ||
	    (rc = der_next(&b, 0x30, &c, "protection descriptor term")) != 0 ||
	    (rc = der_end(&b, "protection descriptor rule")) != 0 ||
	    (rc = der_next(&c, 0x0c, &t, "protection descriptor name")) != 0 ||
	    (rc = der_next(&c, 0x0c, &v, "protection descriptor value")) != 0 ||
	    (rc = der_end(&c, "protection descriptor term")) != 0)
		return laps_seterr_prefix(rc, "only one SID=... rule is supported");
	if (t.len != 3 || memcmp(t.p, "SID", 3) != 0)
		return laps_seterr(LAPS_ERR_UNSUPPORTED,
				   "dpapi-ng: protection descriptor is not SID=...");
	if (v.len == 0 || v.len > GKDI_SID_MAX || memchr(v.p, '\0', v.len) != NULL)
		return laps_seterr(LAPS_ERR_FORMAT,
				   "dpapi-ng: protection descriptor SID of %zu "
				   "bytes",
				   v.len);
	memcpy(sid, v.p, v.len);
	sid[v.len] = '\0';
	return 0;
}

static int
parse_kek_recipient(struct der *ris, struct dpapi_ng_blob *b)
{
	struct der ri, kekid, keyid, other, alg, ek, skip;
	unsigned v;
	int rc;

	if ((rc = der_next(ris, 0xa2, &ri, "KEKRecipientInfo")) != 0)
		return laps_seterr_prefix(rc, "expected one KEK recipient");
	if ((rc = der_end(ris, "recipient infos")) != 0)
		return laps_seterr_prefix(rc, "more than one recipient");
	if ((rc = der_uint(&ri, 127, &v, "KEKRecipientInfo version")) != 0)
		return rc;
	if (v != 4)
		return laps_seterr(LAPS_ERR_VERSION, "dpapi-ng: KEKRecipientInfo version %u", v);
	if ((rc = der_next(&ri, 0x30, &kekid, "KEKIdentifier")) != 0 ||
	    (rc = der_next(&kekid, 0x04, &keyid, "keyIdentifier")) != 0)
		return rc;
	if (der_peek(&kekid) == 0x18 && (rc = der_next(&kekid, 0x18, &skip, "date")) != 0)
		return rc;
	if ((rc = der_next(&kekid, 0x30, &other, "KEKIdentifier other")) != 0 ||
	    (rc = der_end(&kekid, "KEKIdentifier")) != 0 ||
	    (rc = der_oid(&other, oid_ms_key_attr, sizeof oid_ms_key_attr, "key attribute")) != 0 ||
	    (rc = parse_protection_descriptor(&other, b->sid)) != 0)
		return rc;
	if ((rc = gkdi_key_id_parse(keyid.p, keyid.len, &b->kid)) != 0)
		return rc;
	b->key_id = keyid.p;
	b->key_id_len = keyid.len;
	if ((rc = der_next(&ri, 0x30, &alg, "key encryption algorithm")) != 0 ||
	    (rc = der_oid(&alg, oid_aes256_wrap, sizeof oid_aes256_wrap,
			  "key encryption algorithm")) != 0)
		return rc;
	if (der_peek(&alg) == 0x05 && (rc = der_next(&alg, 0x05, &skip, "NULL parameters")) != 0)
		return rc;
	if ((rc = der_end(&alg, "key encryption algorithm")) != 0 ||
	    (rc = der_next(&ri, 0x04, &ek, "encryptedKey")) != 0 ||
	    (rc = der_end(&ri, "KEKRecipientInfo")) != 0)
		return rc;
	if (ek.len != DPAPI_NG_WRAPPED_CEK_BYTES)
		return laps_seterr(LAPS_ERR_FORMAT, "dpapi-ng: encryptedKey of %zu bytes", ek.len);
	b->wrapped_cek = ek.p;
	return 0;
}

static int
parse_content_info(struct der *ed, struct dpapi_ng_blob *b)
{
	struct der eci, alg, gcm, nonce, ct;
	unsigned icv = 12; /* RFC 5084 default */
	int rc;

	if ((rc = der_next(ed, 0x30, &eci, "EncryptedContentInfo")) != 0 ||
	    (rc = der_oid(&eci, oid_data, sizeof oid_data, "content type")) != 0 ||
	    (rc = der_next(&eci, 0x30, &alg, "content encryption algorithm")) != 0 ||
	    (rc = der_oid(&alg, oid_aes256_gcm, sizeof oid_aes256_gcm,
			  "content encryption algorithm")) != 0 ||
	    (rc = der_next(&alg, 0x30, &gcm, "GCM parameters")) != 0 ||
	    (rc = der_end(&alg, "content encryption algorithm")) != 0 ||
	    (rc = der_next(&gcm, 0x04, &nonce, "GCM nonce")) != 0)
		return rc;
	if (der_peek(&gcm) == 0x02 && (rc = der_uint(&gcm, 16, &icv, "GCM ICV length")) != 0)
		return rc;
	if ((rc = der_end(&gcm, "GCM parameters")) != 0)
		return rc;
	if (nonce.len != DPAPI_NG_NONCE_BYTES)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "dpapi-ng: GCM nonce of %zu bytes",
				   nonce.len);
	if (icv < 12)
		return laps_seterr(LAPS_ERR_FORMAT, "dpapi-ng: GCM ICV length %u", icv);
	memcpy(b->nonce, nonce.p, DPAPI_NG_NONCE_BYTES);
	b->icv_len = icv;
	if (der_peek(&eci) == 0x80) {
		if ((rc = der_next(&eci, 0x80, &ct, "encryptedContent")) != 0)
			return rc;
		b->ciphertext = ct.p;
		b->ciphertext_len = ct.len;
	}
	return der_end(&eci, "EncryptedContentInfo");
}

int
dpapi_ng_blob_parse(const uint8_t *buf, size_t len, struct dpapi_ng_blob *out)
{
	struct dpapi_ng_blob b;
	struct der top = {buf, len, 0}, ci, ex, ed, ris, skip;
	unsigned v;
	int rc;

	memset(out, 0, sizeof *out);
	memset(&b, 0, sizeof b);
	if (len > DPAPI_NG_BLOB_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "dpapi-ng: blob of %zu bytes (max %d)", len,
				   DPAPI_NG_BLOB_MAX);
	if ((rc = der_next(&top, 0x30, &ci, "ContentInfo")) != 0 ||
	    (rc = der_oid(&ci, oid_enveloped_data, sizeof oid_enveloped_data, "content type")) !=
		0 ||
	    (rc = der_next(&ci, 0xa0, &ex, "content")) != 0 ||
	    (rc = der_end(&ci, "ContentInfo")) != 0 ||
	    (rc = der_next(&ex, 0x30, &ed, "EnvelopedData")) != 0 ||
	    (rc = der_end(&ex, "content")) != 0 ||
	    (rc = der_uint(&ed, 127, &v, "EnvelopedData version")) != 0)
		return rc;
	if (v != 2)
		return laps_seterr(LAPS_ERR_VERSION, "dpapi-ng: EnvelopedData version %u", v);
	if (der_peek(&ed) == 0xa0 && (rc = der_next(&ed, 0xa0, &skip, "originatorInfo")) != 0)
		return rc;
	if ((rc = der_next(&ed, 0x31, &ris, "recipientInfos")) != 0 ||
	    (rc = parse_kek_recipient(&ris, &b)) != 0 || (rc = parse_content_info(&ed, &b)) != 0)
		return rc;
	if (der_peek(&ed) == 0xa1 && (rc = der_next(&ed, 0xa1, &skip, "unprotectedAttrs")) != 0)
		return rc;
	if ((rc = der_end(&ed, "EnvelopedData")) != 0)
		return rc;
	b.cms_len = top.off;
	if (b.ciphertext == NULL) {
		b.detached = true;
		b.ciphertext = buf + top.off;
		b.ciphertext_len = len - top.off;
	} else if (top.off != len) {
		return laps_seterr(
		    LAPS_ERR_FORMAT,
		    "dpapi-ng: ciphertext inside the envelope and %zu bytes after it",
		    len - top.off);
	}
	if (b.ciphertext_len < b.icv_len + 1)
		return laps_seterr(LAPS_ERR_FORMAT, "dpapi-ng: ciphertext of %zu bytes",
				   b.ciphertext_len);
	if (b.ciphertext_len - b.icv_len > DPAPI_NG_PLAINTEXT_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "dpapi-ng: ciphertext of %zu bytes",
				   b.ciphertext_len);
	*out = b;
	return 0;
}

/* ---- decryption ---- */

static int
aes_key_wrap(bool wrap, const uint8_t kek[GKDI_KEK_BYTES], const uint8_t *in, size_t inlen,
	     uint8_t *out, size_t outlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n = 0, f = 0, rc = LAPS_ERR_CRYPTO;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_wrap(), NULL, kek, NULL, wrap ? 1 : 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)inlen) != 1 || (size_t)n != outlen ||
	    EVP_CipherFinal_ex(ctx, out + n, &f) != 1 || f != 0)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (rc != 0) {
		OPENSSL_cleanse(out, outlen);
		return laps_seterr(rc, wrap ? "dpapi-ng: AES key wrap failed"
					    : "dpapi-ng: AES key unwrap failed (wrong key, or the "
					      "key identifier or wrapped key was altered)");
	}
	return 0;
}

int
dpapi_ng_unprotect_kek(const struct dpapi_ng_blob *b, const uint8_t kek[GKDI_KEK_BYTES],
		       uint8_t **pt, size_t *ptlen)
{
	uint8_t cek[DPAPI_NG_CEK_BYTES], *p = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	size_t n = b->ciphertext_len - b->icv_len;
	int l = 0, f = 0, rc;

	*pt = NULL;
	*ptlen = 0;
	if ((rc = aes_key_wrap(false, kek, b->wrapped_cek, DPAPI_NG_WRAPPED_CEK_BYTES, cek,
			       sizeof cek)) != 0)
		return rc;
	rc = LAPS_ERR_NOMEM;
	if ((p = laps_secret_alloc(n + 1)) == NULL)
		goto out;
	rc = LAPS_ERR_CRYPTO;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, DPAPI_NG_NONCE_BYTES, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, cek, b->nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, p, &l, b->ciphertext, (int)n) != 1 || (size_t)l != n ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)b->icv_len,
				(void *)(b->ciphertext + n)) != 1) {
		rc = laps_seterr(rc, "dpapi-ng: AES-GCM setup failed");
		goto out;
	}
	if (EVP_DecryptFinal_ex(ctx, p + l, &f) != 1 || f != 0) {
		rc = laps_seterr(rc, "dpapi-ng: AES-GCM tag mismatch (ciphertext altered)");
		goto out;
	}
	*pt = p;
	*ptlen = n;
	p = NULL;
	rc = 0;
	/* success */
out:
	EVP_CIPHER_CTX_free(ctx);
	laps_secret_free(p);
	OPENSSL_cleanse(cek, sizeof cek);
	return rc;
}

int
dpapi_ng_unprotect(const struct dpapi_ng_blob *b, const struct gkdi_envelope *env, uint8_t **pt,
		   size_t *ptlen)
{
	uint8_t kek[GKDI_KEK_BYTES];
	int rc;

	*pt = NULL;
	*ptlen = 0;
	if ((rc = gkdi_kek_unwrap_key(env, &b->kid, kek)) == 0)
		rc = dpapi_ng_unprotect_kek(b, kek, pt, ptlen);
	OPENSSL_cleanse(kek, sizeof kek);
	return rc;
}

int
dpapi_ng_unprotect_root_key(const struct dpapi_ng_blob *b, const struct gkdi_root_key *rk,
			    uint8_t **pt, size_t *ptlen)
{
	uint8_t sd[GKDI_TARGET_SD_MAX], *gke = NULL;
	struct gkdi_envelope env;
	size_t sdlen, gkelen = 0;
	int rc;

	*pt = NULL;
	*ptlen = 0;
	if ((rc = gkdi_target_sd(b->sid, sd, sizeof sd, &sdlen)) != 0 ||
	    (rc = gkdi_envelope_from_root_key(rk, sd, sdlen, b->kid.l0, &gke, &gkelen)) != 0 ||
	    (rc = gkdi_envelope_parse(gke, gkelen, &env)) != 0)
		goto out;
	rc = dpapi_ng_unprotect(b, &env, pt, ptlen);
out:
	laps_secret_free(gke);
	return rc;
}

/* ---- encryption: a small DER writer ---- */

/* Header of tag and length len into h (>= 5 bytes); returns its size. */
static size_t
der_hdr(uint8_t *h, uint8_t tag, size_t len)
{
	h[0] = tag;
	if (len < 0x80) {
		h[1] = (uint8_t)len;
		return 2;
	}
	if (len < 0x100) {
		h[1] = 0x81;
		h[2] = (uint8_t)len;
		return 3;
	}
	if (len < 0x10000) {
		h[1] = 0x82;
		h[2] = (uint8_t)(len >> 8);
		h[3] = (uint8_t)len;
		return 4;
	}
	h[1] = 0x83;
	h[2] = (uint8_t)(len >> 16);
	h[3] = (uint8_t)(len >> 8);
	h[4] = (uint8_t)len;
	return 5;
}

struct dbuf {
	uint8_t *p;
	size_t len, cap;
	bool fail;
};

static void
db_put(struct dbuf *d, const void *s, size_t n)
{
	if (d->fail)
		return;
	if (n > d->cap - d->len) {
		d->fail = true;
		return;
	}
	if (n)
		memcpy(d->p + d->len, s, n);
	d->len += n;
}

/* tag + length + contents (a finished buffer) appended to d. */
static void
db_tlv(struct dbuf *d, uint8_t tag, const void *c, size_t n)
{
	uint8_t h[5];

	db_put(d, h, der_hdr(h, tag, n));
	db_put(d, c, n);
}

/* Wrap d's contents from offset start in tag (moving them). */
static void
db_wrap(struct dbuf *d, size_t start, uint8_t tag)
{
	uint8_t h[5];
	size_t hl, n;

	if (d->fail)
		return;
	n = d->len - start;
	hl = der_hdr(h, tag, n);
	if (hl > d->cap - d->len) {
		d->fail = true;
		return;
	}
	memmove(d->p + start + hl, d->p + start, n);
	memcpy(d->p + start, h, hl);
	d->len += hl;
}

static int
build_blob(const uint8_t *kid, size_t kidlen, const char *sid, const uint8_t *wrapped,
	   const uint8_t *nonce, const uint8_t *ct, size_t ctlen, bool detached, uint8_t **out,
	   size_t *outlen)
{
	struct dbuf d = {NULL, 0, 0, false};
	size_t s_ci, s_ed, s_ris, s_ri, s_kekid, s_other, s_pd, s_r, s_alg, s_eci, s_gcm, r1, r2;
	uint8_t icv = DPAPI_NG_TAG_BYTES;

	d.cap = kidlen + strlen(sid) + ctlen + 512;
	if ((d.p = malloc(d.cap)) == NULL)
		return LAPS_ERR_NOMEM;
	s_ci = d.len;
	db_tlv(&d, 0x06, oid_enveloped_data, sizeof oid_enveloped_data);
	s_ed = d.len;
	db_tlv(&d, 0x02, "\x02", 1);
	s_ris = d.len;
	s_ri = d.len;
	db_tlv(&d, 0x02, "\x04", 1);
	s_kekid = d.len;
	db_tlv(&d, 0x04, kid, kidlen);
	s_other = d.len;
	db_tlv(&d, 0x06, oid_ms_key_attr, sizeof oid_ms_key_attr);
	s_pd = d.len;
	db_tlv(&d, 0x06, oid_ms_sid, sizeof oid_ms_sid);
	s_r = d.len;
	db_tlv(&d, 0x0c, "SID", 3);
	db_tlv(&d, 0x0c, sid, strlen(sid));
	db_wrap(&d, s_r, 0x30); /* term */
	db_wrap(&d, s_r, 0x30); /* rule */
	db_wrap(&d, s_r, 0x30); /* rules */
	db_wrap(&d, s_pd, 0x30);
	db_wrap(&d, s_other, 0x30);
	db_wrap(&d, s_kekid, 0x30);
	s_alg = d.len;
	db_tlv(&d, 0x06, oid_aes256_wrap, sizeof oid_aes256_wrap);
	db_wrap(&d, s_alg, 0x30);
	db_tlv(&d, 0x04, wrapped, DPAPI_NG_WRAPPED_CEK_BYTES);
	db_wrap(&d, s_ri, 0xa2);
	db_wrap(&d, s_ris, 0x31);
	s_eci = d.len;
	db_tlv(&d, 0x06, oid_data, sizeof oid_data);
	s_alg = d.len;
	db_tlv(&d, 0x06, oid_aes256_gcm, sizeof oid_aes256_gcm);
	s_gcm = d.len;
	db_tlv(&d, 0x04, nonce, DPAPI_NG_NONCE_BYTES);
	db_tlv(&d, 0x02, &icv, 1);
	db_wrap(&d, s_gcm, 0x30);
	db_wrap(&d, s_alg, 0x30);
	if (!detached)
		db_tlv(&d, 0x80, ct, ctlen);
	db_wrap(&d, s_eci, 0x30);
	db_wrap(&d, s_ed, 0x30);
	db_wrap(&d, s_ed, 0xa0);
	db_wrap(&d, s_ci, 0x30);
	if (detached)
		db_put(&d, ct, ctlen);
	r1 = d.len;
	r2 = d.cap;
	if (d.fail) {
		free(d.p);
		return laps_seterr(LAPS_ERR_INTERNAL, "dpapi-ng: blob of %zu > %zu bytes", r1, r2);
	}
	*out = d.p;
	*outlen = d.len;
	return 0;
}

int
dpapi_ng_protect(const struct gkdi_envelope *env, const char *sid, const uint8_t *pt, size_t ptlen,
		 bool detached, uint8_t **out, size_t *outlen)
{
	uint8_t kek[GKDI_KEK_BYTES], cek[DPAPI_NG_CEK_BYTES], wrapped[DPAPI_NG_WRAPPED_CEK_BYTES];
	uint8_t nonce[DPAPI_NG_NONCE_BYTES], sd[GKDI_TARGET_SD_MAX], *ct = NULL, *kid = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	size_t sdlen, kidlen = 0;
	int l = 0, f = 0, rc;

	*out = NULL;
	*outlen = 0;
	if (ptlen == 0 || ptlen > DPAPI_NG_PLAINTEXT_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "dpapi-ng: plaintext of %zu bytes", ptlen);
	if ((rc = gkdi_target_sd(sid, sd, sizeof sd, &sdlen)) != 0)
		return rc;
	if ((ct = malloc(ptlen + DPAPI_NG_TAG_BYTES)) == NULL)
		return LAPS_ERR_NOMEM;
	if (RAND_priv_bytes(cek, sizeof cek) != 1 || RAND_bytes(nonce, sizeof nonce) != 1) {
		rc = laps_seterr(LAPS_ERR_CRYPTO, "dpapi-ng: no random bytes");
		goto out;
	}
	rc = LAPS_ERR_CRYPTO;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, DPAPI_NG_NONCE_BYTES, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, cek, nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, ct, &l, pt, (int)ptlen) != 1 || (size_t)l != ptlen ||
	    EVP_EncryptFinal_ex(ctx, ct + l, &f) != 1 || f != 0 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, DPAPI_NG_TAG_BYTES, ct + ptlen) != 1) {
		rc = laps_seterr(rc, "dpapi-ng: AES-GCM encryption failed");
		goto out;
	}
	if ((rc = gkdi_kek_new(env, kek, &kid, &kidlen)) != 0 ||
	    (rc = aes_key_wrap(true, kek, cek, sizeof cek, wrapped, sizeof wrapped)) != 0)
		goto out;
	rc = build_blob(kid, kidlen, sid, wrapped, nonce, ct, ptlen + DPAPI_NG_TAG_BYTES, detached,
			out, outlen);
out:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(kek, sizeof kek);
	OPENSSL_cleanse(cek, sizeof cek);
	free(ct);
	free(kid);
	return rc;
}

/* ---- msLAPS-EncryptedPassword ---- */

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

int
dpapi_ng_laps_split(const uint8_t *v, size_t len, uint64_t *filetime, const uint8_t **blob,
		    size_t *bloblen)
{
	uint32_t size;

	*filetime = 0;
	*blob = NULL;
	*bloblen = 0;
	if (len > DPAPI_NG_LAPS_HEADER_BYTES + DPAPI_NG_BLOB_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "msLAPS-EncryptedPassword: %zu bytes", len);
	if (len <= DPAPI_NG_LAPS_HEADER_BYTES)
		return laps_seterr(LAPS_ERR_FORMAT, "msLAPS-EncryptedPassword: %zu bytes", len);
	size = rd32(v + 8);
	if (size != len - DPAPI_NG_LAPS_HEADER_BYTES)
		return laps_seterr(LAPS_ERR_FORMAT,
				   "msLAPS-EncryptedPassword: size field %u, %zu bytes follow",
				   size, len - DPAPI_NG_LAPS_HEADER_BYTES);
	if (rd32(v + 12) != 0)
		return laps_seterr(LAPS_ERR_FORMAT,
				   "msLAPS-EncryptedPassword: reserved field is not zero");
	/* high 32 bits first (docs/DPAPI-NG.md, "The header") */
	*filetime = (uint64_t)rd32(v) << 32 | rd32(v + 4);
	*blob = v + DPAPI_NG_LAPS_HEADER_BYTES;
	*bloblen = size;
	return 0;
}

int
dpapi_ng_laps_join(uint64_t filetime, const uint8_t *blob, size_t bloblen, uint8_t **out,
		   size_t *outlen)
{
	uint8_t *v;

	*out = NULL;
	*outlen = 0;
	if (bloblen == 0 || bloblen > DPAPI_NG_BLOB_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "msLAPS-EncryptedPassword: blob of %zu bytes",
				   bloblen);
	if ((v = malloc(DPAPI_NG_LAPS_HEADER_BYTES + bloblen)) == NULL)
		return LAPS_ERR_NOMEM;
	wr32(v, (uint32_t)(filetime >> 32));
	wr32(v + 4, (uint32_t)filetime);
	wr32(v + 8, (uint32_t)bloblen);
	wr32(v + 12, 0);
	memcpy(v + DPAPI_NG_LAPS_HEADER_BYTES, blob, bloblen);
	*out = v;
	*outlen = DPAPI_NG_LAPS_HEADER_BYTES + bloblen;
	return 0;
}

/* One UTF-8 sequence at s (n bytes left): the code point, or -1. */
static long
utf8_decode(const unsigned char *s, size_t n, size_t *used)
{
	unsigned long c;
	size_t len, i;

	if (s[0] < 0x80) {
		*used = 1;
		return s[0];
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return -1;
	}
	if (len > n)
		return -1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*used = len;
	return (long)c;
}

int
dpapi_ng_laps_payload(const char *json, size_t len, uint8_t **out, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)json;
	uint8_t *u = NULL;
	size_t i = 0, o = 0, used;
	long c;
	unsigned long v;

	*out = NULL;
	*outlen = 0;
	if (len == 0 || len > DPAPI_NG_PLAINTEXT_MAX / 2 - 1)
		return laps_seterr(LAPS_ERR_TOOBIG, "dpapi-ng: payload of %zu bytes", len);
	/* at most 2 UTF-16 bytes per UTF-8 byte, plus the NUL */
	if ((u = laps_secret_alloc(2 * len + 2)) == NULL)
		return LAPS_ERR_NOMEM;
	while (i < len) {
		if (s[i] == 0 || (c = utf8_decode(s + i, len - i, &used)) < 0) {
			laps_secret_free(u);
			return laps_seterr(LAPS_ERR_FORMAT,
					   "dpapi-ng: payload: invalid UTF-8 at byte %zu", i);
		}
		i += used;
		if (c >= 0x10000) {
			v = (unsigned long)c - 0x10000;
			u[o++] = (uint8_t)(0xd800 | v >> 10);
			u[o++] = (uint8_t)((0xd800 | v >> 10) >> 8);
			u[o++] = (uint8_t)(0xdc00 | (v & 0x3ff));
			u[o++] = (uint8_t)((0xdc00 | (v & 0x3ff)) >> 8);
		} else {
			u[o++] = (uint8_t)c;
			u[o++] = (uint8_t)((unsigned long)c >> 8);
		}
	}
	u[o++] = 0;
	u[o++] = 0;
	*out = u;
	*outlen = o;
	return 0;
}

int
dpapi_ng_laps_payload_json(const uint8_t *p, size_t len, char **json, size_t *jsonlen)
{
	char *s = NULL;
	size_t i, o = 0;
	unsigned long c, d;

	*json = NULL;
	*jsonlen = 0;
	if (len > DPAPI_NG_PLAINTEXT_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "dpapi-ng: payload of %zu bytes", len);
	if (len < 4 || len % 2 != 0 || p[len - 2] != 0 || p[len - 1] != 0)
		return laps_seterr(LAPS_ERR_FORMAT,
				   "dpapi-ng: payload is not NUL-terminated UTF-16LE");
	/* at most 3 UTF-8 bytes per UTF-16 unit (4 per surrogate pair) */
	if ((s = laps_secret_alloc(len / 2 * 3 + 1)) == NULL)
		return LAPS_ERR_NOMEM;
	for (i = 0; i + 2 < len; i += 2) {
		c = (unsigned long)p[i] | (unsigned long)p[i + 1] << 8;
		if (c == 0)
			goto bad;
		if (c >= 0xdc00 && c <= 0xdfff)
			goto bad;
		if (c >= 0xd800 && c <= 0xdbff) {
			if (i + 4 >= len)
				goto bad;
			d = (unsigned long)p[i + 2] | (unsigned long)p[i + 3] << 8;
			if (d < 0xdc00 || d > 0xdfff)
				goto bad;
			c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
			i += 2;
		}
		if (c < 0x80) {
			s[o++] = (char)c;
		} else if (c < 0x800) {
			s[o++] = (char)(0xc0 | c >> 6);
			s[o++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			s[o++] = (char)(0xe0 | c >> 12);
			s[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
			s[o++] = (char)(0x80 | (c & 0x3f));
		} else {
			s[o++] = (char)(0xf0 | c >> 18);
			s[o++] = (char)(0x80 | ((c >> 12) & 0x3f));
			s[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
			s[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	s[o] = '\0';
	*json = s;
	*jsonlen = o;
	return 0;
bad:
	laps_secret_free(s);
	return laps_seterr(LAPS_ERR_FORMAT, "dpapi-ng: payload: invalid UTF-16 at byte %zu", i);
}
