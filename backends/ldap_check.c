/*
 * ldap_check.c — check-config for [ldap]: the TLS files as libldap (GnuTLS
 * on Debian) will load them, checked without contacting the directory.
 *
 * libldap builds its TLS context only when it connects, and then says no
 * more than "Can't contact LDAP server" about a CA file without a CA or a
 * client key of another certificate: check-config says which file and why
 * before a run fails on it.
 */
#include "config.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stddef.h>

#include "backends/ldap_conf.h"
#include "backends/ldap_int.h"
#include "escrow/conf.h"
#include "escrow/err.h"

#define CA_LIST_MAX 256 /* certificates read from one CA file */

/* At least one certificate of ca_file says it is a CA. */
static int
check_ca(const char *path)
{
	gnutls_x509_crt_t *crts = NULL;
	gnutls_datum_t data = {NULL, 0};
	unsigned n = 0, i, critical = 0;
	int rc, found = 0;

	if ((rc = gnutls_load_file(path, &data)) < 0)
		return laps_seterr(LAPS_ERR_CONFIG, "[ldap] ca_file %s: %s", path,
				   gnutls_strerror(rc));
	rc = gnutls_x509_crt_list_import2(&crts, &n, &data, GNUTLS_X509_FMT_PEM, 0);
	gnutls_free(data.data);
	if (rc < 0 || n == 0)
		return laps_seterr(LAPS_ERR_CONFIG, "[ldap] ca_file %s: no certificate (%s)", path,
				   rc < 0 ? gnutls_strerror(rc) : "empty");
	for (i = 0; i < n && i < CA_LIST_MAX; i++)
		if (gnutls_x509_crt_get_ca_status(crts[i], &critical) > 0)
			found = 1;
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	if (!found)
		return laps_seterr(LAPS_ERR_CONFIG,
				   "[ldap] ca_file %s: no CA certificate in it (none has the CA "
				   "basic constraint)",
				   path);
	return 0;
}

/* cert_file parses and key_file is its key. */
static int
check_pair(const char *cert, const char *key)
{
	gnutls_certificate_credentials_t cred;
	int rc;

	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return LAPS_ERR_NOMEM;
	rc = gnutls_certificate_set_x509_key_file2(cred, cert, key, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(cred);
	if (rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
		return laps_seterr(LAPS_ERR_CONFIG,
				   "[ldap] cert_file %s and key_file %s do not match (the key is "
				   "not the certificate's)",
				   cert, key);
	if (rc < 0)
		return laps_seterr(LAPS_ERR_CONFIG, "[ldap] cert_file %s, key_file %s: %s", cert,
				   key, gnutls_strerror(rc));
	return 0;
}

int
lcheck_tls_files(const struct laps_conf *cfg)
{
	const struct laps_ldap_conf *l = laps_ldap_conf(cfg);
	int rc;

	if (l == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "ldap: no [ldap] section");
	if (l->tls == LAPS_TLS_NONE)
		return 0;
	if (l->ca_file != NULL && (rc = check_ca(l->ca_file)) != 0)
		return rc;
	if (l->cert_file != NULL && l->key_file != NULL &&
	    (rc = check_pair(l->cert_file, l->key_file)) != 0)
		return rc;
	return 0;
}
