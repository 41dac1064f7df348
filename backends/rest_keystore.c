/*
 * rest_keystore.c — the device key in a file or in the TPM 2.0 (see
 * rest_keystore.h).
 *
 * What is on disk with key_store = tpm: key_file holds the TSS2 PRIVATE KEY
 * PEM the provider encodes — the public area and the private area of the
 * key, the latter encrypted by the TPM under its storage primary key (derived
 * from the TPM's own seed, which never leaves it).  Loading that blob on
 * another TPM fails (TPM2_Load refuses a private area another seed wrapped);
 * on this TPM it gives a handle the TPM signs with, never the scalar.
 *
 * Signing: OpenSSL 3.0 fetches a signature implementation by the query
 * alone, and with "default" preferred (needed: else the TLS transcript
 * hashes would run in the TPM, which has room for three objects) it takes
 * default's ECDSA, hands it the exportable public half of the TPM key and
 * fails ("missing private key").  So every user — the CSR, libssl's
 * CertificateVerify, the JWT — gets a stand-in: an EC key holding the TPM
 * key's public point whose EC_KEY_METHOD signs by asking the tpm2 provider
 * explicitly ("provider=tpm2").  A key with its own method is a "foreign"
 * key that OpenSSL 3.0 signs through the method, never through a provider.
 * The method API is deprecated in OpenSSL 3 (and still the only hook that
 * libssl honours for a key it is handed): hence the suppression below.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "config.h"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/store.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/rest_secret.h"
#include "backends/rest_conf.h"
#include "backends/rest_keystore.h"
#include "escrow/err.h"
#include "escrow/fileio.h"

#define KEYSTORE_FILE_MAX 65536
#define TPM_PROPQ "provider=tpm2"

static OSSL_PROVIDER *prov_default, *prov_tpm2;
static EC_KEY_METHOD *tpm_method; /* the stand-in's method (process lifetime) */
static int tpm_index = -1;	  /* EC_KEY ex_data: the TPM key (EVP_PKEY *) */

/* The last OpenSSL reason, for messages. */
static const char *
ossl_reason(void)
{
	const char *s = ERR_reason_error_string(ERR_peek_last_error());

	return s != NULL ? s : "no reason given";
}

static bool
tpm_named(void)
{
	const char *t = secure_getenv(REST_TPM_TCTI_ENV);

	return t != NULL && t[0] != '\0';
}

bool
rest_keystore_is_tpm(int key_store)
{
	if (key_store == LAPS_REST_KEY_STORE_TPM)
		return true;
	if (key_store != LAPS_REST_KEY_STORE_AUTO)
		return false;
	return access(REST_TPM_DEVICE, F_OK) == 0 || tpm_named();
}

/* The tpm2 provider next to default, once per process; default stays the
 * preferred implementation of everything but the TPM key's operations. */
static int
tpm_init(void)
{
	if (prov_tpm2 != NULL)
		return 0;
	if (access(REST_TPM_DEVICE, F_OK) != 0 && !tpm_named())
		return laps_seterr(LAPS_ERR_UNSUPPORTED,
				   "[rest] key_store = tpm: no TPM 2.0 here (%s does not exist and "
				   "%s is not set)",
				   REST_TPM_DEVICE, REST_TPM_TCTI_ENV);
	if (prov_default == NULL && (prov_default = OSSL_PROVIDER_load(NULL, "default")) == NULL)
		return laps_seterr(LAPS_ERR_CRYPTO, "OpenSSL's default provider: %s",
				   ossl_reason());
	if ((prov_tpm2 = OSSL_PROVIDER_load(NULL, "tpm2")) == NULL) {
		int rc =
		    laps_seterr(LAPS_ERR_UNSUPPORTED,
				"[rest] key_store = tpm: OpenSSL's tpm2 provider (Debian "
				"package tpm2-openssl) did not load or cannot reach the TPM "
				"(%s): %s",
				tpm_named() ? REST_TPM_TCTI_ENV : REST_TPM_DEVICE, ossl_reason());
		ERR_clear_error();
		return rc;
	}
	if (EVP_set_default_properties(NULL, "?provider=default") != 1)
		return laps_seterr(LAPS_ERR_CRYPTO, "OpenSSL default properties");
	return 0;
}

/* EC_KEY_METHOD sign: the DER ECDSA signature of dgst, made by the TPM. */
static int
tpm_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig, unsigned int *siglen,
	 const BIGNUM *kinv, const BIGNUM *r, EC_KEY *ec)
{
	EVP_PKEY *tk = EC_KEY_get_ex_data(ec, tpm_index);
	EVP_PKEY_CTX *c;
	size_t n = (size_t)ECDSA_size(ec);
	int ok;

	(void)type;
	(void)kinv;
	(void)r;
	if (tk == NULL || (c = EVP_PKEY_CTX_new_from_pkey(NULL, tk, TPM_PROPQ)) == NULL)
		return 0;
	ok = EVP_PKEY_sign_init(c) == 1 && EVP_PKEY_sign(c, sig, &n, dgst, (size_t)dlen) == 1;
	EVP_PKEY_CTX_free(c);
	*siglen = ok ? (unsigned int)n : 0;
	return ok;
}

static ECDSA_SIG *
tpm_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *ec)
{
	unsigned char der[160];
	const unsigned char *p = der;
	unsigned int n = 0;

	if ((size_t)ECDSA_size(ec) > sizeof der ||
	    tpm_sign(0, dgst, dlen, der, &n, kinv, r, ec) != 1)
		return NULL;
	return d2i_ECDSA_SIG(NULL, &p, (long)n);
}

static void
free_tpm_key(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	EVP_PKEY_free(ptr);
}

/* The stand-in of TPM key tk (taken over: freed with the stand-in). */
static EVP_PKEY *
stand_in(EVP_PKEY *tk)
{
	unsigned char pub[133];
	size_t n = 0;
	EC_KEY *ec = NULL;
	EVP_PKEY *k = NULL;

	if (tpm_method == NULL) {
		tpm_index = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, free_tpm_key);
		if (tpm_index < 0 ||
		    (tpm_method = EC_KEY_METHOD_new(EC_KEY_get_default_method())) == NULL)
			goto fail;
		EC_KEY_METHOD_set_sign(tpm_method, tpm_sign, NULL, tpm_sign_sig);
	}
	if (EVP_PKEY_get_octet_string_param(tk, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &n) !=
		1 ||
	    (ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1)) == NULL ||
	    EC_KEY_oct2key(ec, pub, n, NULL) != 1 || EC_KEY_set_method(ec, tpm_method) != 1 ||
	    EC_KEY_set_ex_data(ec, tpm_index, tk) != 1)
		goto fail;
	tk = NULL; /* the EC_KEY's now (freed with it) */
	if ((k = EVP_PKEY_new()) == NULL || EVP_PKEY_assign_EC_KEY(k, ec) != 1)
		goto fail;
	return k; /* success */
fail:
	EVP_PKEY_free(k); /* never holds ec here */
	EC_KEY_free(ec);
	EVP_PKEY_free(tk);
	return NULL;
}

/* The TPM key behind a stand-in; NULL for any other key. */
static EVP_PKEY *
tpm_key_of(EVP_PKEY *k)
{
	const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(k);

	if (ec == NULL || tpm_method == NULL || EC_KEY_get_method(ec) != tpm_method)
		return NULL;
	return EC_KEY_get_ex_data(ec, tpm_index);
}

int
rest_keystore_keygen(bool tpm, EVP_PKEY **out)
{
	int rc;

	*out = NULL;
	if (tpm && (rc = tpm_init()) != 0)
		return rc;
	if ((*out = EVP_PKEY_Q_keygen(NULL, tpm ? TPM_PROPQ : NULL, "EC", "P-256")) == NULL ||
	    (tpm && (*out = stand_in(*out)) == NULL)) {
		rc = laps_seterr(LAPS_ERR_CRYPTO, "cannot make a P-256 key%s: %s",
				 tpm ? " in the TPM" : "", ossl_reason());
		ERR_clear_error();
		return rc;
	}
	return 0;
}

/* The TPM key's blob as the provider encodes it, checked to be one. */
static int
write_tpm(EVP_PKEY *k, BIO *out)
{
	OSSL_ENCODER_CTX *e = NULL;
	BIO *m = BIO_new(BIO_s_mem());
	BUF_MEM *b = NULL;
	int rc = LAPS_ERR_CRYPTO;

	if ((k = tpm_key_of(k)) != NULL)
		e = OSSL_ENCODER_CTX_new_for_pkey(k, OSSL_KEYMGMT_SELECT_KEYPAIR, "PEM", NULL,
						  TPM_PROPQ);
	if (m == NULL || e == NULL || OSSL_ENCODER_to_bio(e, m) != 1) {
		rc = laps_seterr(LAPS_ERR_CRYPTO, "cannot encode the TPM key: %s", ossl_reason());
		goto out;
	}
	BIO_get_mem_ptr(m, &b);
	if (b->length <= strlen(REST_TPM_PEM_LABEL) ||
	    memcmp(b->data, REST_TPM_PEM_LABEL, strlen(REST_TPM_PEM_LABEL)) != 0) {
		rc = laps_seterr(LAPS_ERR_CRYPTO, "the TPM key did not encode as a TSS2 blob");
		goto out;
	}
	if (BIO_write(out, b->data, (int)b->length) != (int)b->length)
		goto out;
	rc = 0; /* success */
out:
	ERR_clear_error();
	OSSL_ENCODER_CTX_free(e);
	BIO_free(m);
	return rc;
}

int
rest_keystore_write(EVP_PKEY *k, bool tpm, BIO *out)
{
	if (tpm)
		return write_tpm(k, out);
	if (PEM_write_bio_PrivateKey(out, k, NULL, NULL, 0, NULL, NULL) != 1)
		return laps_seterr(LAPS_ERR_CRYPTO, "cannot write the key as PEM");
	return 0;
}

/* The one private key of a TSS2 blob, through OSSL_STORE (the file loader
 * and the tpm2 provider's decoder). */
static int
load_tpm(BIO *bio, const char *path, EVP_PKEY **out)
{
	OSSL_STORE_CTX *s;
	OSSL_STORE_INFO *i;

	s = OSSL_STORE_attach(bio, "file", NULL, "?" TPM_PROPQ, NULL, NULL, NULL, NULL, NULL);
	if (s == NULL || OSSL_STORE_expect(s, OSSL_STORE_INFO_PKEY) != 1)
		goto out;
	while (*out == NULL && !OSSL_STORE_eof(s)) {
		if ((i = OSSL_STORE_load(s)) == NULL)
			continue;
		if (OSSL_STORE_INFO_get_type(i) == OSSL_STORE_INFO_PKEY)
			*out = OSSL_STORE_INFO_get1_PKEY(i);
		OSSL_STORE_INFO_free(i);
	}
	if (*out != NULL)
		*out = stand_in(*out);
out:
	if (*out == NULL)
		(void)laps_seterr(LAPS_ERR_CRYPTO,
				  "[rest] key_file %s: the TPM does not load this key (made by "
				  "another TPM, or damaged): %s",
				  path, ossl_reason());
	ERR_clear_error();
	if (s != NULL)
		OSSL_STORE_close(s);
	return *out != NULL ? 0 : LAPS_ERR_CRYPTO;
}

int
rest_keystore_load(const char *path, bool tpm, EVP_PKEY **out)
{
	char *pem = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int rc;

	*out = NULL;
	if (tpm && (rc = tpm_init()) != 0)
		return rc;
	if ((rc = rest_auth_read_secret(path, "key_file", KEYSTORE_FILE_MAX, &pem, &len)) != 0)
		return rc;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		rc = laps_seterr(LAPS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (tpm && (len <= strlen(REST_TPM_PEM_LABEL) ||
		    memcmp(pem, REST_TPM_PEM_LABEL, strlen(REST_TPM_PEM_LABEL)) != 0))
		rc = laps_seterr(LAPS_ERR_CONFIG,
				 "[rest] key_file %s: key_store = tpm, but it holds no TPM-wrapped "
				 "key (TSS2 PRIVATE KEY); enroll again to make one",
				 path);
	else if (tpm)
		rc = load_tpm(bio, path, out);
	else if ((*out = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL)
		rc = laps_seterr(LAPS_ERR_FORMAT, "[rest] key_file %s: no PEM private key in it",
				 path);
out:
	ERR_clear_error();
	BIO_free(bio);
	laps_file_free(pem, len, rest_secret_flags());
	return rc;
}

int
rest_keystore_match(const char *cert_file, const char *key_file, EVP_PKEY *k)
{
	FILE *f = fopen(cert_file, "re");
	X509 *x = NULL;
	int rc;

	if (f == NULL || (x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		rc = laps_seterr(LAPS_ERR_CONFIG, "[rest] cert_file %s: no PEM certificate in it",
				 cert_file);
	else if (EVP_PKEY_eq(X509_get0_pubkey(x), k) != 1)
		rc = laps_seterr(LAPS_ERR_CONFIG,
				 "[rest] cert_file %s and key_file %s do not match (the key is "
				 "not the certificate's)",
				 cert_file, key_file);
	else
		rc = 0;
	ERR_clear_error();
	X509_free(x);
	if (f != NULL)
		fclose(f);
	return rc;
}

/* CURLOPT_SSL_CTX_FUNCTION: the chain and the key into the connection's
 * SSL_CTX (libcurl has set no client pair: CURLOPT_SSLCERT is unset). */
static CURLcode
on_ssl_ctx(CURL *curl, void *sslctx, void *arg)
{
	const struct rest_keystore_tls *t = arg;
	SSL_CTX *ctx = sslctx;

	(void)curl;
	if (SSL_CTX_use_certificate_chain_file(ctx, t->cert_file) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, t->key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		return CURLE_SSL_CERTPROBLEM;
	}
	return CURLE_OK;
}

int
rest_keystore_curl(void *curl, const struct rest_keystore_tls *t)
{
	if (curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, (void *)t) != CURLE_OK)
		return laps_seterr(LAPS_ERR_UNSUPPORTED,
				   "a TPM key needs libcurl built with OpenSSL (CURLOPT_SSL_CTX_"
				   "FUNCTION)");
	return 0;
}
