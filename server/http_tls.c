/*
 * http_tls.c — client certificates: verify, then map to an identity.
 *
 * libmicrohttpd given a trust list (MHD_OPTION_HTTPS_MEM_TRUST) only
 * *requests* a client certificate; GnuTLS completes the handshake whatever
 * the client sends.  So every request that presents a certificate is
 * verified here: gnutls_certificate_verify_peers() against the trust list
 * with the TLS client-authentication key purpose, and the returned status
 * bits must be 0 (the call itself succeeds for an untrusted chain).
 */
#include "config.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "server/fmt.h"
#include "server/http.h"
#include "server/escrowd_conf.h"

/* The mapped name: subject CN or first DNS subjectAltName. */
static int
cert_name(gnutls_x509_crt_t crt, enum laps_cert_name which, char *out, size_t outlen)
{
	size_t len;
	unsigned i, critical;
	int type;

	if (which == LAPS_CERT_NAME_CN) {
		len = outlen;
		if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, out, &len) < 0)
			return LAPS_ERR_AUTH;
		return strlen(out) == len ? 0 : LAPS_ERR_AUTH;
	}
	for (i = 0; i < 64; i++) {
		len = outlen;
		type = gnutls_x509_crt_get_subject_alt_name(crt, i, out, &len, &critical);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE || type < 0)
			break;
		if (type == GNUTLS_SAN_DNSNAME && len < outlen && strlen(out) == len)
			return 0;
	}
	return LAPS_ERR_AUTH;
}

/* Printable ASCII only (for logs and the audit table). */
static void
sanitise(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static int
verify(gnutls_session_t s, char *why, size_t whylen)
{
	gnutls_typed_vdata_st purpose = {.type = GNUTLS_DT_KEY_PURPOSE_OID,
					 .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT};
	gnutls_datum_t txt = {NULL, 0};
	unsigned status = 0;
	int rc;

	rc = gnutls_certificate_verify_peers(s, &purpose, 1, &status);
	if (rc == 0 && status == 0)
		return 0;
	if (rc < 0)
		fmt_trunc(why, whylen, "certificate not verified: %s", gnutls_strerror(rc));
	else if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &txt, 0) == 0)
		fmt_trunc(why, whylen, "%s", (const char *)txt.data);
	else
		fmt_trunc(why, whylen, "certificate not trusted (status 0x%x)", status);
	gnutls_free(txt.data);
	sanitise(why);
	return LAPS_ERR_AUTH;
}

int
http_tls_identity(const struct authz *a, const void *der, size_t len, struct identity *id,
		  char *why, size_t whylen)
{
	gnutls_datum_t d = {(unsigned char *)(uintptr_t)der, (unsigned)len};
	gnutls_x509_crt_t crt = NULL;
	char name[256], subject[512];
	size_t slen = sizeof subject;
	int rc = LAPS_ERR_AUTH;

	if (len > UINT_MAX || gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_x509_crt_get_dn(crt, subject, &slen) < 0) {
		fmt_trunc(why, whylen, "unreadable client certificate");
		goto out;
	}
	sanitise(subject);
	if (cert_name(crt, laps_authz_conf(a->cfg)->cert_name, name, sizeof name) != 0) {
		fmt_trunc(why, whylen, "the certificate has no %s",
			  laps_authz_conf(a->cfg)->cert_name == LAPS_CERT_NAME_CN ? "common name"
										  : "DNS name");
		goto out;
	}
	if ((rc = authz_from_cert(a, name, subject, id)) != 0)
		fmt_trunc(why, whylen, "the certificate name is not a device name");
out:
	gnutls_x509_crt_deinit(crt);
	return rc;
}

bool
http_tls_peer_der(void *tls_session, const void **der, size_t *len)
{
	const gnutls_datum_t *certs;
	unsigned n = 0;

	if (tls_session == NULL ||
	    (certs = gnutls_certificate_get_peers(tls_session, &n)) == NULL || n == 0)
		return false;
	*der = certs[0].data;
	*len = certs[0].size;
	return true;
}

size_t
http_tls_peer_chain(void *tls_session, const void *der[], size_t len[], size_t max)
{
	const gnutls_datum_t *certs;
	unsigned n = 0, i;

	if (tls_session == NULL || (certs = gnutls_certificate_get_peers(tls_session, &n)) == NULL)
		return 0;
	for (i = 0; i < n && i < max; i++) {
		der[i] = certs[i].data;
		len[i] = certs[i].size;
	}
	return i;
}

int
http_tls_peer(const struct authz *a, void *tls_session, struct identity *id, char *why,
	      size_t whylen)
{
	gnutls_session_t s = tls_session;
	const gnutls_datum_t *certs;
	unsigned n = 0;
	int rc;

	if (s == NULL || (certs = gnutls_certificate_get_peers(s, &n)) == NULL || n == 0)
		return 1;
	if ((rc = verify(s, why, whylen)) != 0)
		return rc;
	return http_tls_identity(a, certs[0].data, certs[0].size, id, why, whylen);
}
