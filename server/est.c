/*
 * est.c — issuing CA, PKCS#10 parsing and certificate issuance for EST
 * (RFC 7030 §4.1-4.2) on OpenSSL 3.  See est.h.
 *
 * The server decides what it signs: the requested key (after its proof of
 * possession, the request's signature, verifies) and the device name the
 * caller has already authorised; nothing else of the request is copied.
 */
#include "config.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "server/est.h"
#include "server/est_key.h"

#define BACKDATE_S 300

struct est_ca {
	X509 *cert;
	STACK_OF(X509) * chain; /* cert_file's certificates, the issuing one first */
	EVP_PKEY *key;
	void *engine; /* the key's engine (a pkcs11: ca_key), else NULL */
	char *pem;
};

struct est_csr {
	X509_REQ *req;
};

/* ------------------------------------------------------------------ */
/* The CA                                                              */

static int
load_chain(struct est_ca *ca, const char *path)
{
	char *pem = NULL;
	size_t len = 0;
	BIO *b = NULL;
	X509 *x;
	int rc;

	if ((rc = laps_file_read(path, EST_CA_PEM_MAX, 0, &pem, &len)) != 0)
		return rc;
	ca->pem = pem;
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (ca->chain = sk_X509_new_null()) == NULL)
		goto nomem;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (sk_X509_push(ca->chain, x) <= 0) {
			X509_free(x);
			goto nomem;
		}
	BIO_free(b);
	if (sk_X509_num(ca->chain) == 0)
		return laps_seterr(LAPS_ERR_CONFIG, "[est] ca_cert %s: no PEM certificate", path);
	ca->cert = sk_X509_value(ca->chain, 0);
	if (X509_check_ca(ca->cert) < 1)
		return laps_seterr(LAPS_ERR_CONFIG, "[est] ca_cert %s: not a CA certificate", path);
	return 0;
nomem:
	BIO_free(b);
	return laps_seterr(LAPS_ERR_NOMEM, "[est] ca_cert: out of memory");
}

static int
load_key(struct est_ca *ca, const char *path)
{
	char *pem = NULL;
	size_t len = 0;
	BIO *b;
	int rc;

	if (est_key_is_uri(path)) { /* in a PKCS#11 token: never read here */
		if ((rc = est_key_engine_load(path, &ca->key, &ca->engine)) != 0)
			return rc;
		if (X509_check_private_key(ca->cert, ca->key) != 1)
			return laps_seterr(LAPS_ERR_CONFIG,
					   "[est] ca_key: the token's key does not match [est] "
					   "ca_cert");
		return 0;
	}
	if ((rc = laps_file_read(path, EST_CA_PEM_MAX, LAPS_FILE_SECRET | LAPS_FILE_OWNER_ROOT,
				 &pem, &len)) != 0)
		return rc;
	if ((b = BIO_new_mem_buf(pem, (int)len)) != NULL)
		ca->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	laps_file_free(pem, len, LAPS_FILE_SECRET);
	if (ca->key == NULL)
		return laps_seterr(LAPS_ERR_CONFIG,
				   "[est] ca_key %s: not an unencrypted PEM private key", path);
	if (X509_check_private_key(ca->cert, ca->key) != 1)
		return laps_seterr(LAPS_ERR_CONFIG, "[est] ca_key %s: does not match [est] ca_cert",
				   path);
	return 0;
}

int
est_ca_load(const char *cert_file, const char *key_file, struct est_ca **out)
{
	struct est_ca *ca;
	int rc;

	*out = NULL;
	if ((ca = calloc(1, sizeof *ca)) == NULL)
		return LAPS_ERR_NOMEM;
	if ((rc = load_chain(ca, cert_file)) != 0 || (rc = load_key(ca, key_file)) != 0) {
		est_ca_free(ca);
		return rc;
	}
	*out = ca; /* success */
	return 0;
}

void
est_ca_free(struct est_ca *ca)
{
	if (ca == NULL)
		return;
	sk_X509_pop_free(ca->chain, X509_free);
	EVP_PKEY_free(ca->key);
	est_key_engine_release(ca->engine);
	free(ca->pem);
	free(ca);
}

const char *
est_ca_pem(const struct est_ca *ca)
{
	return ca->pem;
}

bool
est_ca_issued(const struct est_ca *ca, const void *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;
	bool yes;

	if (len > EST_DER_MAX * 4 || (x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return false;
	yes = X509_check_issued(ca->cert, x) == X509_V_OK &&
	      X509_verify(x, X509_get0_pubkey(ca->cert)) == 1;
	X509_free(x);
	return yes;
}

/* ------------------------------------------------------------------ */
/* base64 and PKCS#7                                                   */

/* Base64 with 64-character lines (RFC 7030 §4.1.3 answers). */
static int
b64_encode(const unsigned char *der, size_t len, char **out, size_t *outlen)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	size_t cap = len / 48 * 65 + 130;
	int n = 0, total = 0;
	char *buf;

	*out = NULL;
	if (ctx == NULL || len > INT32_MAX / 2 || (buf = malloc(cap)) == NULL) {
		EVP_ENCODE_CTX_free(ctx);
		return LAPS_ERR_NOMEM;
	}
	EVP_EncodeInit(ctx);
	if (EVP_EncodeUpdate(ctx, (unsigned char *)buf, &n, der, (int)len) != 1) {
		EVP_ENCODE_CTX_free(ctx);
		free(buf);
		return LAPS_ERR_NOMEM;
	}
	total = n;
	EVP_EncodeFinal(ctx, (unsigned char *)buf + total, &n);
	total += n;
	buf[total] = '\0';
	EVP_ENCODE_CTX_free(ctx);
	*out = buf;
	*outlen = (size_t)total;
	return 0;
}

/* A certs-only PKCS#7 (signedData without signers) of certs, base64. */
static int
certs_only(STACK_OF(X509) * certs, char **out, size_t *len)
{
	PKCS7 *p7 = PKCS7_new();
	unsigned char *der = NULL;
	int i, n, rc = LAPS_ERR_NOMEM;

	if (p7 == NULL || PKCS7_set_type(p7, NID_pkcs7_signed) != 1 ||
	    PKCS7_content_new(p7, NID_pkcs7_data) != 1)
		goto out;
	for (i = 0; i < sk_X509_num(certs); i++)
		if (PKCS7_add_certificate(p7, sk_X509_value(certs, i)) != 1)
			goto out;
	if ((n = i2d_PKCS7(p7, &der)) <= 0)
		goto out;
	rc = b64_encode(der, (size_t)n, out, len);
out:
	OPENSSL_free(der);
	PKCS7_free(p7);
	return rc;
}

int
est_cacerts(const struct est_ca *ca, char **out, size_t *len)
{
	return certs_only(ca->chain, out, len);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */

static int
b64_decode(const char *body, size_t len, unsigned char *der, size_t *derlen)
{
	EVP_ENCODE_CTX *ctx;
	int n = 0, m = 0, rc;

	if (len > EST_BODY_MAX)
		return laps_seterr(LAPS_ERR_FORMAT, "the request is over %d bytes", EST_BODY_MAX);
	if ((ctx = EVP_ENCODE_CTX_new()) == NULL)
		return LAPS_ERR_NOMEM;
	EVP_DecodeInit(ctx);
	rc = EVP_DecodeUpdate(ctx, der, &n, (const unsigned char *)body, (int)len);
	if (rc >= 0)
		rc = EVP_DecodeFinal(ctx, der + n, &m);
	EVP_ENCODE_CTX_free(ctx);
	if (rc < 0 || n + m == 0)
		return laps_seterr(LAPS_ERR_FORMAT, "the body is not base64 (RFC 7030 §4.2.1)");
	*derlen = (size_t)(n + m);
	return 0;
}

/* RSA 2048..8192, EC P-256/P-384, Ed25519. */
static int
key_ok(EVP_PKEY *pk)
{
	char group[32];
	size_t glen = 0;
	int bits = EVP_PKEY_get_bits(pk);

	if (EVP_PKEY_is_a(pk, "RSA") && bits >= 2048 && bits <= 8192)
		return 0;
	if (EVP_PKEY_is_a(pk, "ED25519"))
		return 0;
	if (EVP_PKEY_is_a(pk, "EC") &&
	    EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
					   &glen) == 1 &&
	    (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0))
		return 0;
	return laps_seterr(LAPS_ERR_FORMAT,
			   "the request's key is not RSA 2048-8192, EC P-256/P-384 "
			   "or Ed25519");
}

/* The one subject CN, as UTF-8 without NUL, into name. */
static int
subject_cn(X509_REQ *req, char name[LAPS_DEVICE_MAX + 1])
{
	const X509_NAME *subj = X509_REQ_get_subject_name(req);
	unsigned char *utf = NULL;
	int i, n;

	if (subj == NULL || (i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1)) < 0 ||
	    X509_NAME_get_index_by_NID(subj, NID_commonName, i) >= 0)
		return laps_seterr(LAPS_ERR_FORMAT, "the request's subject must hold exactly one "
						    "common name (the device name)");
	n = ASN1_STRING_to_UTF8(&utf, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)));
	if (n <= 0 || n > LAPS_DEVICE_MAX || memchr(utf, 0, (size_t)n) != NULL) {
		OPENSSL_free(utf);
		return laps_seterr(LAPS_ERR_FORMAT,
				   "the request's common name is not a device name");
	}
	memcpy(name, utf, (size_t)n);
	name[n] = '\0';
	OPENSSL_free(utf);
	return 0;
}

int
est_csr_parse(const char *body, size_t len, struct est_csr **out, char name[LAPS_DEVICE_MAX + 1])
{
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t derlen = 0;
	X509_REQ *req = NULL;
	EVP_PKEY *pk;
	int rc;

	*out = NULL;
	name[0] = '\0';
	if ((der = malloc(len / 4 * 3 + 4)) == NULL)
		return LAPS_ERR_NOMEM;
	if ((rc = b64_decode(body, len, der, &derlen)) != 0)
		goto out;
	rc = laps_seterr(LAPS_ERR_FORMAT, "the body is not one DER PKCS#10 request");
	p = der;
	if (derlen > EST_DER_MAX || (req = d2i_X509_REQ(NULL, &p, (long)derlen)) == NULL ||
	    p != der + derlen)
		goto out;
	rc = laps_seterr(LAPS_ERR_FORMAT, "the request's signature does not verify");
	if ((pk = X509_REQ_get0_pubkey(req)) == NULL || X509_REQ_verify(req, pk) != 1)
		goto out;
	if ((rc = key_ok(pk)) != 0 || (rc = subject_cn(req, name)) != 0)
		goto out;
	if ((*out = malloc(sizeof **out)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	(*out)->req = req;
	req = NULL; /* success */
	rc = 0;
out:
	X509_REQ_free(req);
	free(der);
	return rc;
}

void
est_csr_free(struct est_csr *csr)
{
	if (csr == NULL)
		return;
	X509_REQ_free(csr->req);
	free(csr);
}

/* ------------------------------------------------------------------ */
/* Issuing                                                             */

static int
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = e != NULL && X509_add_ext(x, e, -1) == 1;

	X509_EXTENSION_free(e);
	return ok ? 0 : LAPS_ERR_INTERNAL;
}

static int
set_serial(X509 *x, char hex[EST_SERIAL_HEX + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char b[EST_SERIAL_HEX / 2];
	BIGNUM *bn = NULL;
	size_t i;
	int rc = LAPS_ERR_INTERNAL;

	if (RAND_bytes(b, sizeof b) != 1)
		return rc;
	b[0] = (b[0] & 0x7f) | 0x40; /* positive, full length */
	for (i = 0; i < sizeof b; i++) {
		hex[2 * i] = digits[b[i] >> 4];
		hex[2 * i + 1] = digits[b[i] & 15];
	}
	hex[EST_SERIAL_HEX] = '\0';
	if ((bn = BN_bin2bn(b, sizeof b, NULL)) != NULL &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL)
		rc = 0;
	BN_free(bn);
	return rc;
}

static int
set_names_times(const struct est_ca *ca, X509 *x, const char *device, int64_t now, int64_t lifetime,
		int64_t *not_after)
{
	X509_NAME *n = X509_NAME_new();
	int64_t end = now + lifetime;
	struct tm tm;
	time_t ca_end;
	int rc = LAPS_ERR_INTERNAL;

	if (ASN1_TIME_to_tm(X509_get0_notAfter(ca->cert), &tm) == 1 && (ca_end = timegm(&tm)) < end)
		end = ca_end; /* never past the CA's own end */
	if (end <= now) {
		X509_NAME_free(n);
		return laps_seterr(LAPS_ERR_CONFIG, "the EST CA certificate has expired");
	}
	if (n != NULL &&
	    X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8,
				       (const unsigned char *)device, -1, -1, 0) == 1 &&
	    X509_set_subject_name(x, n) == 1 &&
	    X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) == 1 &&
	    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(now - BACKDATE_S)) != NULL &&
	    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)end) != NULL)
		rc = 0;
	X509_NAME_free(n);
	*not_after = end;
	return rc;
}

static int
set_extensions(const struct est_ca *ca, X509 *x, const char *device, bool rsa)
{
	char san[LAPS_DEVICE_MAX + 8];
	X509V3_CTX ctx;

	X509V3_set_ctx(&ctx, ca->cert, x, NULL, NULL, 0);
	snprintf(san, sizeof san, "DNS:%s", device);
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, &ctx, NID_key_usage,
		    rsa ? "critical,digitalSignature,keyEncipherment"
			: "critical,digitalSignature") != 0 ||
	    add_ext(x, &ctx, NID_ext_key_usage, "clientAuth") != 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, &ctx, NID_subject_alt_name, san) != 0)
		return LAPS_ERR_INTERNAL;
	/* an authority key id only when the CA certificate has a key id */
	if (X509_get0_subject_key_id(ca->cert) != NULL &&
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid") != 0)
		return LAPS_ERR_INTERNAL;
	return 0;
}

int
est_issue(const struct est_ca *ca, const struct est_csr *csr, const char *device, int64_t now,
	  int64_t lifetime, struct est_issued *out)
{
	EVP_PKEY *pk = X509_REQ_get0_pubkey(csr->req);
	STACK_OF(X509) *one = NULL;
	X509 *x = X509_new();
	bool eddsa = EVP_PKEY_is_a(ca->key, "ED25519") || EVP_PKEY_is_a(ca->key, "ED448");
	int rc = LAPS_ERR_INTERNAL;

	memset(out, 0, sizeof *out);
	if (x == NULL || pk == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_pubkey(x, pk) != 1 || (rc = set_serial(x, out->serial)) != 0 ||
	    (rc = set_names_times(ca, x, device, now, lifetime, &out->not_after)) != 0 ||
	    (rc = set_extensions(ca, x, device, EVP_PKEY_is_a(pk, "RSA"))) != 0)
		goto out;
	rc = laps_seterr(LAPS_ERR_INTERNAL, "signing the certificate failed");
	if (X509_sign(x, ca->key, eddsa ? NULL : EVP_sha256()) <= 0 ||
	    (one = sk_X509_new_null()) == NULL || sk_X509_push(one, x) <= 0)
		goto out;
	rc = certs_only(one, &out->b64, &out->len);
out:
	sk_X509_free(one);
	X509_free(x);
	return rc;
}

void
est_issued_clear(struct est_issued *i)
{
	free(i->b64);
	memset(i, 0, sizeof *i);
}
