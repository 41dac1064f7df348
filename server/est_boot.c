/*
 * est_boot.c — [est] bootstrap_ca: verifying a device's existing
 * certificate with OpenSSL 3 (see est_boot.h).
 *
 * The TLS layer (GnuTLS) has the bootstrap CA in its trust list only so
 * that the handshake asks for and accepts such certificates; whether one
 * is a bootstrap certificate is decided here, against the bootstrap CAs
 * alone: chain, validity now, TLS client purpose.  A bootstrap CA may be
 * an intermediate (partial chains are accepted: the configured file is
 * the trust).
 */
#include "config.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "server/est.h"
#include "server/est_boot.h"

struct est_boot {
	X509_STORE *store;
	char *pem;
};

/* Every certificate of pem into the store; each must be a CA. */
static int
add_anchors(struct est_boot *b, const char *path, size_t len)
{
	BIO *bio = BIO_new_mem_buf(b->pem, (int)len);
	int n = 0, rc = 0;
	X509 *x;

	if (bio == NULL)
		return LAPS_ERR_NOMEM;
	while (rc == 0 && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_check_ca(x) < 1)
			rc = laps_seterr(LAPS_ERR_CONFIG,
					 "[est] bootstrap_ca %s: certificate %d is not a CA", path,
					 n + 1);
		else if (X509_STORE_add_cert(b->store, x) != 1)
			rc = LAPS_ERR_NOMEM;
		X509_free(x);
		n++;
	}
	BIO_free(bio);
	if (rc == 0 && n == 0)
		rc =
		    laps_seterr(LAPS_ERR_CONFIG, "[est] bootstrap_ca %s: no PEM certificate", path);
	return rc;
}

int
est_boot_load(const char *file, struct est_boot **out)
{
	struct est_boot *b;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((b = calloc(1, sizeof *b)) == NULL)
		return LAPS_ERR_NOMEM;
	if ((rc = laps_file_read(file, EST_CA_PEM_MAX, 0, &b->pem, &len)) == 0) {
		if ((b->store = X509_STORE_new()) == NULL ||
		    X509_STORE_set_flags(b->store, X509_V_FLAG_PARTIAL_CHAIN) != 1 ||
		    X509_STORE_set_purpose(b->store, X509_PURPOSE_SSL_CLIENT) != 1)
			rc = LAPS_ERR_NOMEM;
		else
			rc = add_anchors(b, file, len);
	}
	if (rc != 0) {
		est_boot_free(b);
		return rc;
	}
	*out = b; /* success */
	return 0;
}

void
est_boot_free(struct est_boot *b)
{
	if (b == NULL)
		return;
	X509_STORE_free(b->store);
	free(b->pem);
	free(b);
}

const char *
est_boot_pem(const struct est_boot *b)
{
	return b->pem;
}

static X509 *
cert_of(const void *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;

	if (len > EST_DER_MAX * 4 || (x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return NULL;
	if (p != (const unsigned char *)der + len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* The leaf's subject CN (exactly one) and serial into out. */
static bool
peer_names(X509 *leaf, struct est_boot_peer *out)
{
	const X509_NAME *subj = X509_get_subject_name(leaf);
	const ASN1_INTEGER *sn = X509_get0_serialNumber(leaf);
	unsigned char *utf = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int i, n;
	bool ok = false;

	if (subj == NULL || (i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1)) < 0 ||
	    X509_NAME_get_index_by_NID(subj, NID_commonName, i) >= 0)
		return false;
	n = ASN1_STRING_to_UTF8(&utf, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)));
	if (n > 0 && n <= LAPS_DEVICE_MAX && memchr(utf, 0, (size_t)n) == NULL &&
	    (bn = ASN1_INTEGER_to_BN(sn, NULL)) != NULL && (hex = BN_bn2hex(bn)) != NULL &&
	    strlen(hex) <= EST_BOOT_SERIAL_MAX) {
		memcpy(out->name, utf, (size_t)n);
		out->name[n] = '\0';
		memcpy(out->serial, hex, strlen(hex) + 1);
		laps_hostname_lower(out->name);
		ok = laps_record_device_ok(out->name);
	}
	OPENSSL_free(utf);
	OPENSSL_free(hex);
	BN_free(bn);
	return ok;
}

bool
est_boot_verify(const struct est_boot *b, const void *const der[], const size_t len[], size_t n,
		struct est_boot_peer *out)
{
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *leaf = n > 0 ? cert_of(der[0], len[0]) : NULL, *x;
	size_t i;
	bool ok = false;

	memset(out, 0, sizeof *out);
	if (untrusted == NULL || ctx == NULL || leaf == NULL)
		goto out;
	for (i = 1; i < n && i < EST_BOOT_CHAIN_MAX; i++)
		if ((x = cert_of(der[i], len[i])) != NULL && sk_X509_push(untrusted, x) <= 0)
			X509_free(x);
	if (X509_STORE_CTX_init(ctx, b->store, leaf, untrusted) != 1 ||
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) != 1)
		goto out;
	ok = X509_verify_cert(ctx) == 1 && peer_names(leaf, out);
out:
	if (!ok)
		memset(out, 0, sizeof *out);
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	return ok;
}
