/*
 * fuzz_est.c — EST request bodies (server/est.c est_csr_parse(): base64,
 * DER PKCS#10, proof of possession, key policy, subject common name) and
 * the issuance that follows a parse (est_issue()) with a throw-away CA
 * made at start-up.
 *
 * Properties: a parse either fails or yields a NUL-terminated name of
 * 1..LAPS_DEVICE_MAX bytes; issuing for a parsed request (under a valid
 * device name) succeeds and yields a non-empty base64 text.
 */
#include "config.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escrow/record.h"
#include "server/est.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct est_ca *ca;

static void
write_pem(const char *path, EVP_PKEY *k, X509 *x)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		abort();
	if (k != NULL)
		PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	if (x != NULL)
		PEM_write_X509(f, x);
	fclose(f);
}

/* A self-signed P-256 CA in a temporary directory, loaded by est_ca_load. */
static void
make_ca(void)
{
	char dir[] = "/tmp/fuzz_est.XXXXXX", cert[64], key[64];
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	umask(077); /* the key file must be 0600 (est_ca_load) */
	if (k == NULL || x == NULL || mkdtemp(dir) == NULL)
		abort();
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"fuzz CA", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	X509_sign(x, k, EVP_sha256());
	snprintf(cert, sizeof cert, "%s/ca.crt", dir);
	snprintf(key, sizeof key, "%s/ca.key", dir);
	write_pem(cert, NULL, x);
	write_pem(key, k, NULL);
	if (est_ca_load(cert, key, &ca) != 0)
		abort();
	unlink(cert);
	unlink(key);
	rmdir(dir);
	X509_free(x);
	EVP_PKEY_free(k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[LAPS_DEVICE_MAX + 1];
	struct est_csr *csr = NULL;
	struct est_issued out;
	int n;

	if (ca == NULL)
		make_ca();
	if (est_csr_parse((const char *)data, size, &csr, name) != 0)
		return 0;
	n = (int)strlen(name);
	if (n < 1 || n > LAPS_DEVICE_MAX)
		abort();
	if (est_issue(ca, csr, "fuzz-device", 1700000000, 3600, &out) != 0)
		abort();
	if (out.b64 == NULL || out.len == 0 || strlen(out.b64) != out.len)
		abort();
	est_issued_clear(&out);
	est_csr_free(csr);
	return 0;
}
