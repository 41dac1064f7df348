/*
 * ldap_msenc.c — the encrypted Windows LAPS attribute of schema mslaps:
 * msLAPS-EncryptedPassword = 16-byte header + DPAPI-NG blob of the
 * msLAPS-Password JSON document (UTF-16LE + NUL), protected to the SID of
 * [ldap] encrypt_to with a group key from gkdi_source (docs/LDAP.md
 * "Encrypted passwords", docs/DPAPI-NG.md).  Called by ldap_ms.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "backends/dpapi_ng.h"
#include "backends/gkdi_source.h"
#include "backends/ldap_conf.h"
#include "backends/ldap_int.h"
#include "escrow/err.h"
#include "escrow/secret.h"

bool
lenc_enabled(const struct lctx *c)
{
	return c->schema->enc_attr != NULL && laps_ldap_conf(c->cfg)->encrypt_to != NULL;
}

void
lenc_close(struct lctx *c)
{
	gkdi_source_close(c->gkdi);
	c->gkdi = NULL;
}

static int
source(struct lctx *c)
{
	int rc;

	if (c->gkdi != NULL)
		return 0;
	rc = gkdi_source_open(laps_ldap_conf(c->cfg)->gkdi_root_key_file, &c->gkdi);
	return rc == 0
		   ? 0
		   : laps_seterr_prefix(rc, "ldap: %s: cannot get the group key", AT_MSLAPS_ENC);
}

int
lenc_encode(struct lctx *c, const char *json, size_t len, int64_t rotated_at, uint8_t **out,
	    size_t *outlen)
{
	const char *sid = laps_ldap_conf(c->cfg)->encrypt_to;
	uint8_t *pt = NULL, *gke = NULL, *blob = NULL;
	size_t ptlen = 0, gkelen = 0, bloblen = 0;
	struct gkdi_envelope env;
	uint64_t ft;
	int rc;

	*out = NULL;
	if ((rc = laps_filetime_from_unix(rotated_at, &ft)) != 0 || (rc = source(c)) != 0)
		return rc;
	if ((rc = dpapi_ng_laps_payload(json, len, &pt, &ptlen)) != 0)
		goto out;
	if ((rc = gkdi_source_writer_key(c->gkdi, sid, rotated_at, &gke, &gkelen)) != 0 ||
	    (rc = gkdi_envelope_parse(gke, gkelen, &env)) != 0) {
		rc = laps_seterr_prefix(rc, "ldap: %s: the group key for %s", AT_MSLAPS_ENC, sid);
		goto out;
	}
	/* the ciphertext after the envelope: what Windows LAPS writes */
	if ((rc = dpapi_ng_protect(&env, sid, pt, ptlen, true, &blob, &bloblen)) != 0 ||
	    (rc = dpapi_ng_laps_join(ft, blob, bloblen, out, outlen)) != 0)
		rc = laps_seterr_prefix(rc, "ldap: %s: encrypting", AT_MSLAPS_ENC);
out:
	laps_secret_free(pt);
	laps_secret_free(gke);
	free(blob);
	return rc;
}

int
lenc_decode(struct lctx *c, const struct berval *v, char **json, size_t *jsonlen)
{
	struct dpapi_ng_blob b;
	struct gkdi_envelope env;
	const uint8_t *blob;
	uint8_t *gke = NULL, *pt = NULL;
	size_t bloblen, gkelen = 0, ptlen = 0;
	uint64_t ft;
	int rc;

	*json = NULL;
	if ((rc = dpapi_ng_laps_split((const uint8_t *)v->bv_val, v->bv_len, &ft, &blob,
				      &bloblen)) != 0 ||
	    (rc = dpapi_ng_blob_parse(blob, bloblen, &b)) != 0)
		return laps_seterr_prefix(rc, "ldap: %s", AT_MSLAPS_ENC);
	if ((rc = source(c)) != 0)
		return rc;
	if ((rc = gkdi_source_reader_key(c->gkdi, b.sid, &b.kid, &gke, &gkelen)) != 0 ||
	    (rc = gkdi_envelope_parse(gke, gkelen, &env)) != 0) {
		rc = laps_seterr_prefix(rc, "ldap: %s: cannot get the group key of %s",
					AT_MSLAPS_ENC, b.sid);
		goto out;
	}
	rc = dpapi_ng_unprotect(&b, &env, &pt, &ptlen);
	if (rc == LAPS_ERR_ACCESS)
		rc = laps_seterr(LAPS_ERR_ACCESS,
				 "ldap: %s: not authorised: the key service gives the key of %s "
				 "only to its members",
				 AT_MSLAPS_ENC, b.sid);
	else if (rc != 0)
		rc = laps_seterr_prefix(rc, "ldap: %s: decrypting", AT_MSLAPS_ENC);
	else if ((rc = dpapi_ng_laps_payload_json(pt, ptlen, json, jsonlen)) != 0)
		rc = laps_seterr_prefix(rc, "ldap: %s: the decrypted value", AT_MSLAPS_ENC);
out:
	laps_secret_free(gke);
	laps_secret_free(pt);
	return rc;
}
