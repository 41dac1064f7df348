/*
 * ldap_msenc.c — the encrypted Windows LAPS attribute of schema mslaps:
 * msLAPS-EncryptedPassword = 16-byte header + DPAPI-NG blob of the
 * msLAPS-Password JSON document (UTF-16LE + NUL), protected to the SID of
 * [ldap] encrypt_to with a group key from gkdi_source (docs/LDAP.md
 * "Encrypted passwords", docs/DPAPI-NG.md).  Called by ldap_ms.c.
 */
#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/dpapi_ng.h"
#include "backends/gkdi_source.h"
#include "backends/ldap_conf.h"
#include "backends/ldap_int.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
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

/* GetKey over RPC from gkdi_server, or else the host of the first uri. */
static int
source_rpc(struct lctx *c)
{
	const struct laps_ldap_conf *l = laps_ldap_conf(c->cfg);
	LDAPURLDesc *lud = NULL;
	int rc;

	if (l->gkdi_server != NULL)
		return gkdi_source_open_rpc(l->gkdi_server, l->gkdi_port, (int)l->timeout,
					    &c->gkdi);
	if (l->n_uri == 0 || ldap_url_parse(l->uri[0], &lud) != LDAP_URL_SUCCESS ||
	    lud->lud_host == NULL || lud->lud_host[0] == '\0')
		rc = laps_seterr(LAPS_ERR_CONFIG,
				 "[ldap] gkdi_server is needed: the first uri names no host");
	else
		rc = gkdi_source_open_rpc(lud->lud_host, l->gkdi_port, (int)l->timeout, &c->gkdi);
	ldap_free_urldesc(lud);
	return rc;
}

static int
source(struct lctx *c)
{
	const char *file = laps_ldap_conf(c->cfg)->gkdi_root_key_file;
	int rc;

	if (c->gkdi != NULL)
		return 0;
	rc = file != NULL ? gkdi_source_open(file, &c->gkdi) : source_rpc(c);
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
		if (rc != LAPS_ERR_ACCESS) /* the DC's refusal says it all */
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

/* ------------------------------------------------------------------ */
/* History (msLAPS-EncryptedPasswordHistory)                            */

/*
 * The device cannot read msLAPS-EncryptedPassword back (write-only, as in
 * AD), so it keeps the values it wrote, newest first, in
 *   <state_dir>/ldap-mslaps.<account>.enc: "<rotation id> <value hex>\n"...
 * (ciphertext only: nothing secret).  The file is written before the
 * modify; the newest line counts as the directory's current value only
 * when the expiration value carries its rotation tag (the modify went
 * through), so a value that never reached the directory never becomes
 * history.  The history attribute is replaced with the lines after the
 * current one: the previous values, at most [escrow] history (Windows
 * LAPS allows 12).
 */
#define LENC_CACHE_MAX (LENC_HIST_MAX + 2)
#define LENC_LINE_MAX (LAPS_ROTID_HEX + 2 + 2 * DPAPI_NG_BLOB_MAX + 1)

static int
cache_path(const struct lctx *c, const char *account, char *buf, size_t len)
{
	const char *dir = c->env.state_dir ? c->env.state_dir : LAPS_STATE_DIR_DEFAULT;

	return laps_snprintf(buf, len, "%s/ldap-%s.%s.enc", dir, c->schema->name, account);
}

void
lenc_hist_free(struct lenc_hist *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free(h->val[i].bv_val);
	memset(h, 0, sizeof *h);
}

static int
unhex(const char *s, size_t n, struct berval *out)
{
	const char *end = NULL;
	size_t got = 0;
	char *b;

	if (n % 2 != 0 || n / 2 > DPAPI_NG_BLOB_MAX + DPAPI_NG_LAPS_HEADER_BYTES ||
	    (b = malloc(n / 2 + 1)) == NULL)
		return -1;
	/* hex digits only: no sign, space or 0x that sscanf's %x would take */
	if (sodium_hex2bin((unsigned char *)b, n / 2 + 1, s, n, NULL, &got, &end) != 0 ||
	    got != n / 2 || end != s + n) {
		free(b);
		return -1;
	}
	out->bv_val = b;
	out->bv_len = n / 2;
	return 0;
}

/* Load the file (missing or damaged lines: fewer entries). */
static void
cache_load(const struct lctx *c, const char *account, struct lenc_hist *h)
{
	char path[4096], *buf = NULL, *p, *nl;
	size_t len = 0;

	memset(h, 0, sizeof *h);
	if (cache_path(c, account, path, sizeof path) != 0 ||
	    laps_file_read(path, LENC_CACHE_MAX * LENC_LINE_MAX, LAPS_FILE_MISSING_OK |
			   LAPS_FILE_OWNER_SELF, &buf, &len) != 0)
		return;
	for (p = buf; h->n < LENC_CACHE_MAX && (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		if (nl - p < LAPS_ROTID_HEX + 2 || p[LAPS_ROTID_HEX] != ' ' ||
		    unhex(p + LAPS_ROTID_HEX + 1, (size_t)(nl - p) - LAPS_ROTID_HEX - 1,
			  &h->val[h->n]) != 0)
			break;
		memcpy(h->rid[h->n], p, LAPS_ROTID_HEX);
		h->rid[h->n][LAPS_ROTID_HEX] = '\0';
		h->n++;
	}
	laps_file_free(buf, len, 0);
}

static int
cache_store(const struct lctx *c, const char *account, const struct lenc_hist *h)
{
	static const char hx[] = "0123456789abcdef";
	char path[4096], *buf;
	size_t i, j, o = 0, need = 1;
	int rc;

	if ((rc = cache_path(c, account, path, sizeof path)) != 0)
		return rc;
	for (i = 0; i < h->n; i++)
		need += LAPS_ROTID_HEX + 2 + 2 * h->val[i].bv_len;
	if ((buf = malloc(need)) == NULL)
		return LAPS_ERR_NOMEM;
	for (i = 0; i < h->n; i++) {
		memcpy(buf + o, h->rid[i], LAPS_ROTID_HEX);
		o += LAPS_ROTID_HEX;
		buf[o++] = ' ';
		for (j = 0; j < h->val[i].bv_len; j++) {
			buf[o++] = hx[(unsigned char)h->val[i].bv_val[j] >> 4];
			buf[o++] = hx[(unsigned char)h->val[i].bv_val[j] & 15];
		}
		buf[o++] = '\n';
	}
	rc = laps_file_write_atomic(path, buf, o, 0600);
	free(buf);
	return rc;
}

int
lenc_hist_plan(struct lctx *c, const char *account, bool dir_has_ours, uint32_t dir_tag,
	       const char *rotation_id, const uint8_t *val, size_t len, size_t keep,
	       struct lenc_hist *h)
{
	struct lenc_hist old;
	size_t i = 0;
	int rc;

	if (keep > LENC_HIST_MAX)
		keep = LENC_HIST_MAX;
	memset(h, 0, sizeof *h);
	cache_load(c, account, &old);
	/* the newest line is in the directory only if its tag is there, and
	 * a rewrite of the same rotation replaces it */
	if (old.n > 0 && (!dir_has_ours || laps_ms_rotation_tag(old.rid[0]) != dir_tag ||
			  strcmp(old.rid[0], rotation_id) == 0))
		i = 1;
	if ((h->val[0].bv_val = malloc(len)) == NULL) {
		lenc_hist_free(&old);
		return LAPS_ERR_NOMEM;
	}
	memcpy(h->val[0].bv_val, val, len);
	h->val[0].bv_len = len;
	memcpy(h->rid[0], rotation_id, LAPS_ROTID_HEX + 1);
	h->n = 1;
	for (; i < old.n && h->n <= keep; i++) {
		h->val[h->n] = old.val[i];
		memcpy(h->rid[h->n], old.rid[i], LAPS_ROTID_HEX + 1);
		old.val[i].bv_val = NULL;
		h->n++;
	}
	lenc_hist_free(&old);
	if ((rc = cache_store(c, account, h)) != 0) {
		lenc_hist_free(h);
		return laps_seterr_prefix(rc, "ldap: cannot keep the encrypted values for history");
	}
	for (i = 1; i < h->n; i++)
		h->ptr[i - 1] = &h->val[i];
	h->ptr[h->n - 1] = NULL;
	return 0;
}
