/*
 * fuzz_est_boot.c — presented client certificate chains checked against
 * [est] bootstrap_ca (server/est_boot.c est_boot_verify(): DER parsing of
 * the leaf and the intermediates, chain building, purpose, the subject
 * common name) with a throw-away bootstrap CA made at start-up.
 *
 * Input: up to EST_BOOT_CHAIN_MAX chunks, each a 2-byte big-endian length
 * and that many bytes of DER.  Property: a chain that verifies yields a
 * valid lower-case device name and a non-empty serial; anything else
 * yields an all-zero result.
 */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escrow/record.h"
#include "server/est_boot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct est_boot *boot;

/* A self-signed P-256 CA written to a temporary file, loaded by est_boot_load. */
static void
make_ca(void)
{
	char path[] = "/tmp/fuzz_est_boot.XXXXXX";
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	FILE *f;
	int fd;

	if (k == NULL || x == NULL || (fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL)
		abort();
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"fuzz bootstrap CA", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	X509_sign(x, k, EVP_sha256());
	PEM_write_X509(f, x);
	fclose(f);
	if (est_boot_load(path, &boot) != 0)
		abort();
	unlink(path);
	X509_free(x);
	EVP_PKEY_free(k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const void *der[EST_BOOT_CHAIN_MAX];
	size_t len[EST_BOOT_CHAIN_MAX], n = 0, l;
	struct est_boot_peer p;
	static const struct est_boot_peer zero;

	if (boot == NULL)
		make_ca();
	while (n < EST_BOOT_CHAIN_MAX && size >= 2) {
		l = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (l > size)
			l = size;
		der[n] = data;
		len[n++] = l;
		data += l;
		size -= l;
	}
	if (est_boot_verify(boot, der, len, n, &p)) {
		if (!laps_record_device_ok(p.name) || p.serial[0] == '\0')
			abort();
	} else if (memcmp(&p, &zero, sizeof p) != 0) {
		abort();
	}
	return 0;
}
