/*
 * est.h — the PKI objects of laps-escrowd's EST service (RFC 7030): the
 * issuing CA, PKCS#10 requests in, certificates and certs-only PKCS#7 out.
 * OpenSSL 3; no HTTP here (server/est_api.c answers the requests).
 *
 * Everything from outside is size-capped: a request body is at most
 * EST_BODY_MAX bytes of base64, its DER at most EST_DER_MAX.
 */
#ifndef LAPS_SERVER_EST_H
#define LAPS_SERVER_EST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "escrow/record.h"

#define EST_BODY_MAX (16 * 1024)
#define EST_DER_MAX (12 * 1024)
#define EST_CA_PEM_MAX (256 * 1024)
#define EST_SERIAL_HEX 32 /* 16 bytes */

struct est_ca;
struct est_csr;

/* Load the issuing CA: cert_file (PEM: the issuing certificate first, then
 * any chain up to a root) and key_file (PEM, 0600, root-owned when run as
 * root).  The certificate must be a CA and match the key.  0 or
 * LAPS_ERR_CONFIG/IO naming the file.  *out freed with est_ca_free. */
int est_ca_load(const char *cert_file, const char *key_file, struct est_ca **out)
    __attribute__((warn_unused_result));
void est_ca_free(struct est_ca *ca);
/* The certificates of cert_file as PEM (for the TLS trust list); borrowed. */
const char *est_ca_pem(const struct est_ca *ca);

/* Was the certificate der (already verified by the TLS layer) issued and
 * signed by this CA?  False for anything unreadable. */
bool est_ca_issued(const struct est_ca *ca, const void *der, size_t len);

/* The body of GET /cacerts: base64 certs-only PKCS#7 of the CA chain.
 * *out malloc'd, NUL-terminated. */
int est_cacerts(const struct est_ca *ca, char **out, size_t *len)
    __attribute__((warn_unused_result));

/* Parse a request body: base64 (whitespace allowed) DER PKCS#10, its
 * signature verified, an accepted key (RSA 2048..8192, EC P-256/P-384,
 * Ed25519) and exactly one subject common name, which is copied to name.
 * 0 or LAPS_ERR_FORMAT with a detail (laps_errdetail()). */
int est_csr_parse(const char *body, size_t len, struct est_csr **out,
		  char name[LAPS_DEVICE_MAX + 1]) __attribute__((warn_unused_result));
void est_csr_free(struct est_csr *csr);

struct est_issued {
	char *b64; /* certs-only PKCS#7 holding the new certificate, base64, malloc'd */
	size_t len;
	char serial[EST_SERIAL_HEX + 1];
	int64_t not_after;
};

/* Sign a client-authentication certificate for device (subject CN and DNS
 * subjectAltName = device; the request's own subject and extensions are
 * not copied) valid from now - 5 min to now + lifetime (never past the
 * CA's own end).  0 or an error. */
int est_issue(const struct est_ca *ca, const struct est_csr *csr, const char *device, int64_t now,
	      int64_t lifetime, struct est_issued *out) __attribute__((warn_unused_result));
void est_issued_clear(struct est_issued *i);

#endif
