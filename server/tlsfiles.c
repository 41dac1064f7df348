/*
 * tlsfiles.c — laps-escrowd check-config: every file the configuration
 * names opens as the running user and holds what a start needs.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "server/escrowd_conf.h"
#include "server/tlsfiles.h"
#include "server/est.h"
#include "server/est_boot.h"
#include "server/est_conf.h"

#define PEM_MAX (256 * 1024)
#define CERTS_MAX 64

/* The certificates of a PEM file: at least one, else LAPS_ERR_CONFIG. */
static int
load_certs(const char *what, const char *path, gnutls_x509_crt_t *crts, unsigned *n)
{
	gnutls_datum_t d;
	char *buf = NULL;
	size_t len = 0;
	int rc, grc;

	*n = 0;
	if ((rc = laps_file_read(path, PEM_MAX, 0, &buf, &len)) != 0)
		return laps_seterr_prefix(rc, "%s", what);
	d.data = (unsigned char *)buf;
	d.size = (unsigned)len;
	*n = CERTS_MAX;
	grc = gnutls_x509_crt_list_import(crts, n, &d, GNUTLS_X509_FMT_PEM,
					  GNUTLS_X509_CRT_LIST_IMPORT_FAIL_IF_EXCEED);
	laps_file_free(buf, len, 0);
	if (grc < 0 || *n == 0) {
		*n = 0;
		return laps_seterr(LAPS_ERR_CONFIG, "%s %s: no PEM certificate in it (%s)", what,
				   path, grc < 0 ? gnutls_strerror(grc) : "empty");
	}
	return 0;
}

static void
free_certs(gnutls_x509_crt_t *crts, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
}

/* A CA file: certificates, at least one of them a CA. */
static int
check_ca(const char *what, const char *path)
{
	gnutls_x509_crt_t crts[CERTS_MAX];
	unsigned n, i, critical;
	int rc;

	if ((rc = load_certs(what, path, crts, &n)) != 0)
		return rc;
	rc = laps_seterr(LAPS_ERR_CONFIG,
			 "%s %s: no CA certificate in it (%u certificate(s), none with "
			 "basicConstraints CA:TRUE)",
			 what, path, n);
	for (i = 0; i < n; i++)
		if (gnutls_x509_crt_get_ca_status(crts[i], &critical) > 0) {
			laps_clearerr();
			rc = 0;
			break;
		}
	free_certs(crts, n);
	return rc;
}

/* The server's certificate and its key: both load, the key is safe (owned
 * by root, no group/other access, as the start reads it) and they match. */
static int
check_pair(const struct laps_server_conf *s)
{
	gnutls_x509_crt_t crts[CERTS_MAX];
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t d;
	unsigned char kid1[64], kid2[64];
	size_t l1 = sizeof kid1, l2 = sizeof kid2, len = 0;
	char *buf = NULL;
	unsigned n = 0;
	int rc;

	if ((rc = load_certs("[server] cert_file", s->cert_file, crts, &n)) != 0)
		return rc;
	if ((rc = laps_file_read(s->key_file, PEM_MAX, LAPS_FILE_SECRET | LAPS_FILE_OWNER_ROOT,
				 &buf, &len)) != 0) {
		rc = laps_seterr_prefix(rc, "[server] key_file");
		goto out;
	}
	d.data = (unsigned char *)buf;
	d.size = (unsigned)len;
	if (gnutls_x509_privkey_init(&key) < 0 ||
	    gnutls_x509_privkey_import(key, &d, GNUTLS_X509_FMT_PEM) < 0) {
		rc = laps_seterr(LAPS_ERR_CONFIG, "[server] key_file %s: no PEM private key in it",
				 s->key_file);
		goto out;
	}
	if (gnutls_x509_crt_get_key_id(crts[0], 0, kid1, &l1) < 0 ||
	    gnutls_x509_privkey_get_key_id(key, 0, kid2, &l2) < 0 || l1 != l2 ||
	    memcmp(kid1, kid2, l1) != 0) {
		rc = laps_seterr(
		    LAPS_ERR_CONFIG,
		    "[server] cert_file %s and key_file %s do not match (the key is not "
		    "the certificate's)",
		    s->cert_file, s->key_file);
		goto out;
	}
	rc = 0; /* success */
out:
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	if (buf != NULL)
		laps_file_free(buf, len, LAPS_FILE_SECRET);
	free_certs(crts, n);
	return rc;
}

/* sqlite:PATH: its folder exists and this user may create files in it. */
static int
check_store(const char *url)
{
	char dir[4096];
	char *slash;

	if (strncmp(url, "sqlite:", 7) != 0)
		return 0; /* postgresql: checked by connecting, not here */
	if (laps_snprintf(dir, sizeof dir, "%s", url + 7) != 0)
		return laps_seterr(LAPS_ERR_CONFIG, "[store] url: path too long");
	if ((slash = strrchr(dir, '/')) == NULL)
		return 0;
	*slash = '\0';
	if (dir[0] == '\0')
		(void)snprintf(dir, sizeof dir, "/");
	if (access(dir, W_OK | X_OK) != 0)
		return laps_seterr(LAPS_ERR_CONFIG,
				   "[store] url: the database folder %s: %s (laps-escrowd creates "
				   "its files there)",
				   dir, strerror(errno));
	return 0;
}

/* [est]: the issuing CA loads as laps-escrowd will load it. */
static int
check_est(const struct laps_est_conf *e)
{
	struct est_boot *b = NULL;
	struct est_ca *ca = NULL;
	int rc;

	if (e == NULL || e->ca_cert == NULL)
		return 0;
	rc = est_ca_load(e->ca_cert, e->ca_key, &ca);
	est_ca_free(ca);
	if (rc == 0 && e->bootstrap_ca != NULL)
		rc = est_boot_load(e->bootstrap_ca, &b);
	est_boot_free(b);
	return rc;
}

int
escrowd_check_files(const struct laps_conf *cfg, escrowd_check_cb cb, void *arg)
{
	const struct laps_server_conf *s = laps_server_conf(cfg);
	int rc, first = 0;

#define STEP(expr)                                                                                 \
	do {                                                                                       \
		if ((rc = (expr)) != 0) {                                                          \
			if (cb != NULL)                                                            \
				cb(arg, rc);                                                       \
			if (first == 0)                                                            \
				first = rc;                                                        \
		}                                                                                  \
	} while (0)
	STEP(check_pair(s));
	if (s->client_ca != NULL)
		STEP(check_ca("[server] client_ca", s->client_ca));
	if (laps_oidc_conf(cfg)->ca_file != NULL)
		STEP(check_ca("[oidc] ca_file", laps_oidc_conf(cfg)->ca_file));
	STEP(check_store(laps_store_conf(cfg)->url));
	STEP(check_est(laps_est_conf(cfg)));
#undef STEP
	return first;
}
