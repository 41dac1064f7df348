/*
 * backend_files.c — check-config for the agent and laps-get: the files the
 * configured backend's section names, opened as the user who runs it.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "backends/backend_files.h"
#include "backends/graph_conf.h"
#include "backends/ldap_conf.h"
#include "backends/rest_conf.h"
#include "escrow/err.h"
#include "escrow/escrow_conf.h"
#include "escrow/fileio.h"

/* One file a run will open: it opens as this user; a secret one passes the
 * owner/mode checks of escrow/fileio; a certificate file holds a PEM
 * certificate.  0 or the refusal. */
static int
check_file(const char *path, bool secret, bool cert)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = laps_file_read(path, 1 << 20, secret ? LAPS_FILE_SECRET | LAPS_FILE_OWNER_SELF : 0,
			    &buf, &len);
	if (rc != 0)
		return rc;
	if (cert && strstr(buf, "-----BEGIN CERTIFICATE-----") == NULL)
		rc = laps_seterr(LAPS_ERR_CONFIG, "%s: no PEM certificate in it", path);
	laps_file_free(buf, len, secret ? LAPS_FILE_SECRET : 0);
	return rc;
}

int
laps_backend_check_files(const struct laps_conf *cfg, laps_backend_file_cb cb, void *arg)
{
	const char *backend = laps_escrow_conf(cfg)->backend;
	bool ldap = backend != NULL && strcmp(backend, "ldap") == 0;
	bool rest = backend != NULL && strcmp(backend, "rest") == 0;
	bool graph = backend != NULL && strcmp(backend, "graph") == 0;
	const struct {
		bool used;
		const char *what, *path;
		bool secret, cert;
	} files[] = {
	    {ldap, "[ldap] ca_file", laps_ldap_conf(cfg)->ca_file, false, true},
	    {ldap, "[ldap] cert_file", laps_ldap_conf(cfg)->cert_file, false, true},
	    {ldap, "[ldap] key_file", laps_ldap_conf(cfg)->key_file, true, false},
	    {ldap, "[ldap] bind_secret_file", laps_ldap_conf(cfg)->bind_secret_file, true, false},
	    {ldap, "[ldap] gkdi_root_key_file", laps_ldap_conf(cfg)->gkdi_root_key_file, true,
	     false},
	    {rest, "[rest] ca_file", laps_rest_conf(cfg)->ca_file, false, true},
	    {rest, "[rest] cert_file", laps_rest_conf(cfg)->cert_file, false, true},
	    {rest, "[rest] key_file", laps_rest_conf(cfg)->key_file, true, false},
	    {rest, "[rest] client_secret_file", laps_rest_conf(cfg)->client_secret_file, true,
	     false},
	    {rest, "[rest] bearer_file", laps_rest_conf(cfg)->bearer_file, true, false},
	    {graph, "[graph] ca_file", laps_graph_conf(cfg)->ca_file, false, true},
	    {graph, "[graph] client_secret_file", laps_graph_conf(cfg)->client_secret_file, true,
	     false},
	};
	size_t i;
	int rc, first = 0;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		if (!files[i].used || files[i].path == NULL)
			continue;
		if ((rc = check_file(files[i].path, files[i].secret, files[i].cert)) == 0)
			continue;
		if (cb != NULL)
			cb(arg, files[i].what, rc);
		if (first == 0)
			first = rc;
	}
	return first;
}
