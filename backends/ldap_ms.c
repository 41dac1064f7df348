/*
 * ldap_ms.c — the Microsoft schema modes: mslaps (Windows LAPS
 * msLAPS-Password with encryption off) and legacy (ms-Mcs-AdmPwd)
 * (FILETIME and the rotation tag: ldap_filetime.c).
 *
 * The device cannot read the password back (AD confidential attribute), so
 * compare-and-set and rotation tracking go through the expiration value
 * (tag + pending bit, see ldap_backend.h) and a small local file in the
 * agent's state directory that remembers which rotation ids this host wrote:
 *   <state_dir>/ldap-<schema>.<account>.rotid: "<newest id>\n<previous id>\n"
 * It is written before the modify, so a crash can never leave the directory
 * holding a rotation the file does not know.  See docs/LDAP.md.
 */
#include "config.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backends/ldap_int.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/escrow_conf.h"
#include "escrow/fileio.h"
#include "escrow/json_secret.h"
#include "escrow/log.h"
#include "escrow/record.h"
#include "escrow/secret.h"

uint64_t
laps_ms_expiration_encode(int64_t expiry, uint32_t tag, int pending)
{
	uint64_t ft = 0;

	if (expiry < 0)
		expiry = 0;
	if (laps_filetime_from_unix(expiry, &ft) != 0)
		ft = LAPS_FILETIME_UNIX_EPOCH;
	return ft + 2ULL * (tag % LAPS_MS_TAG_MOD) + (pending ? 1U : 0U);
}

void
laps_ms_expiration_decode(uint64_t value, int64_t *expiry, uint32_t *tag, int *pending)
{
	uint64_t frac = value % LAPS_FILETIME_PER_SEC;

	*expiry = laps_filetime_to_unix(value);
	*tag = (uint32_t)(frac / 2);
	*pending = (int)(frac & 1);
}

/* ------------------------------------------------------------------ */
/* The local rotation-id file                                           */

static int
rotid_path(const struct lctx *c, const char *account, char *buf, size_t len)
{
	const char *dir = c->env.state_dir ? c->env.state_dir : LAPS_STATE_DIR_DEFAULT;

	return laps_snprintf(buf, len, "%s/ldap-%s.%s.rotid", dir, c->schema->name, account);
}

/* Load up to two ids; missing file = none. */
static void
rotid_load(const struct lctx *c, const char *account, char ids[2][LAPS_ROTID_HEX + 1])
{
	char path[4096], *buf = NULL, *p;
	size_t len = 0, i;

	ids[0][0] = ids[1][0] = '\0';
	if (rotid_path(c, account, path, sizeof(path)) != 0)
		return;
	if (laps_file_read(path, 256, LAPS_FILE_MISSING_OK | LAPS_FILE_OWNER_SELF, &buf, &len) != 0)
		return;
	p = buf;
	for (i = 0; i < 2 && p != NULL; i++) {
		char *nl = strchr(p, '\n');

		if (nl == NULL || (size_t)(nl - p) != LAPS_ROTID_HEX)
			break;
		memcpy(ids[i], p, LAPS_ROTID_HEX);
		ids[i][LAPS_ROTID_HEX] = '\0';
		p = nl + 1;
	}
	laps_file_free(buf, len, 0);
}

static int
rotid_store(const struct lctx *c, const char *account, const char *newest, const char *prev)
{
	char path[4096], data[2 * (LAPS_ROTID_HEX + 1) + 1];
	int rc;

	if ((rc = rotid_path(c, account, path, sizeof(path))) != 0)
		return rc;
	(void)snprintf(data, sizeof(data), "%s\n%s%s", newest, prev, prev[0] ? "\n" : "");
	return laps_file_write_atomic(path, data, strlen(data), 0600);
}

/* The value of the expiration attribute, parsed. */
static int
expiration_of(const struct lctx *c, const struct lentry *e, uint64_t *value)
{
	if (lvals_count(e->exp) == 0)
		return LAPS_ERR_NOTFOUND;
	if (lvals_count(e->exp) > 1)
		return laps_seterr(LAPS_ERR_FORMAT, "ldap: %s: several %s values", e->dn,
				   c->schema->exp_attr);
	if (laps_filetime_parse_dec(e->exp[0]->bv_val, e->exp[0]->bv_len, value) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "ldap: %s: %s is not a FILETIME", e->dn,
				   c->schema->exp_attr);
	return 0;
}

/* The rotation id for the expiration value: one this host wrote with the
 * same tag, or else a derived one (16 zeros + the value in hex) that the
 * agent will not recognise as its own. */
static void
rotation_id_of(const struct lctx *c, const char *account, uint64_t value,
	       char out[LAPS_ROTID_HEX + 1])
{
	char ids[2][LAPS_ROTID_HEX + 1];
	int64_t exp;
	uint32_t tag;
	int pending, i;

	laps_ms_expiration_decode(value, &exp, &tag, &pending);
	if (c->role == LAPS_ROLE_AGENT) {
		rotid_load(c, account, ids);
		for (i = 0; i < 2; i++) {
			if (ids[i][0] != '\0' && laps_ms_rotation_tag(ids[i]) == tag) {
				memcpy(out, ids[i], LAPS_ROTID_HEX + 1);
				return;
			}
		}
	}
	(void)snprintf(out, LAPS_ROTID_HEX + 1, "%016" PRIx64 "%016" PRIx64, (uint64_t)0, value);
}

/* ------------------------------------------------------------------ */
/* Password values                                                      */

/* A control character (laps-get prints the password on a terminal)? */
static bool
has_control(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return true;
	return false;
}

/* The three members of a parsed msLAPS-Password object, checked. */
static int
mslaps_members(json_object *o, char account[LAPS_ACCOUNT_MAX + 1], uint64_t *ft,
	       const char **ps)
{
	json_object *n = NULL, *t = NULL, *p = NULL;
	const char *ns, *ts;
	size_t plen;

	if (json_object_object_length(o) != 3 || !json_object_object_get_ex(o, "n", &n) ||
	    !json_object_object_get_ex(o, "t", &t) || !json_object_object_get_ex(o, "p", &p) ||
	    !json_object_is_type(n, json_type_string) ||
	    !json_object_is_type(t, json_type_string) || !json_object_is_type(p, json_type_string))
		return laps_seterr(LAPS_ERR_FORMAT, "%s: not {\"n\":..,\"t\":..,\"p\":..}",
				   AT_MSLAPS_PW);
	ns = json_object_get_string(n);
	ts = json_object_get_string(t);
	*ps = json_object_get_string(p);
	plen = (size_t)json_object_get_string_len(p);
	if (strlen(ns) != (size_t)json_object_get_string_len(n) || strlen(ns) == 0 ||
	    strlen(ns) > LAPS_ACCOUNT_MAX)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: bad account name", AT_MSLAPS_PW);
	if (strlen(ts) != (size_t)json_object_get_string_len(t) ||
	    laps_filetime_parse_hex(ts, strlen(ts), ft) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: \"t\" is not a hex FILETIME", AT_MSLAPS_PW);
	if (strlen(*ps) != plen || plen == 0 || plen > LAPS_PASSWORD_MAX)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: bad password length", AT_MSLAPS_PW);
	if (has_control(*ps, plen))
		return laps_seterr(LAPS_ERR_FORMAT, "%s: the password contains a control character",
				   AT_MSLAPS_PW);
	memcpy(account, ns, strlen(ns) + 1);
	return 0;
}

int
laps_ldap_mslaps_parse(const char *json, size_t len, char account[LAPS_ACCOUNT_MAX + 1],
		       uint64_t *ft, char **password)
{
	json_object *o = NULL;
	const char *ps = NULL;
	uint64_t v = 0;
	int rc;

	*password = NULL;
	if (len > LB_MS_JSON_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "%s: longer than %d bytes", AT_MSLAPS_PW,
				   LB_MS_JSON_MAX);
	if (memchr(json, '\0', len) != NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: contains a NUL byte", AT_MSLAPS_PW);
	if ((rc = laps_json_parse_secret(json, len, LB_MS_JSON_MAX, 4, AT_MSLAPS_PW, &o)) != 0) {
		if (rc == LAPS_ERR_NOMEM)
			return rc;
		return laps_seterr(LAPS_ERR_FORMAT, "%s: not {\"n\":..,\"t\":..,\"p\":..}",
				   AT_MSLAPS_PW);
	}
	if ((rc = mslaps_members(o, account, &v, &ps)) != 0)
		goto out;
	if ((*password = laps_secret_strdup(ps)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	*ft = v;
	rc = 0; /* success: *password is the caller's */
out:
	/* every string: "p" may also hide under another key or in a nested value */
	laps_json_free_secret(o);
	return rc;
}

/* legacy: ms-Mcs-AdmPwd holds the password itself. */
static int
legacy_pw_decode(const struct lentry *e, const char *account, struct laps_record *rec)
{
	(void)account;
	if (e->pw[0]->bv_len == 0 || e->pw[0]->bv_len > LAPS_PASSWORD_MAX ||
	    has_control(e->pw[0]->bv_val, e->pw[0]->bv_len)) /* NUL included */
		return laps_seterr(LAPS_ERR_FORMAT, "ldap: %s: bad %s value", e->dn, AT_LEGACY_PW);
	rec->password = laps_secret_strndup(e->pw[0]->bv_val, e->pw[0]->bv_len);
	return rec->password ? 0 : LAPS_ERR_NOMEM;
}

/* The msLAPS-Password JSON document json (from attribute attr) into rec. */
static int
mslaps_json_decode(const struct lentry *e, const char *attr, const char *json, size_t len,
		   const char *account, struct laps_record *rec)
{
	char who[LAPS_ACCOUNT_MAX + 1];
	uint64_t ft = 0;
	int rc;

	rc = laps_ldap_mslaps_parse(json, len, who, &ft, &rec->password);
	if (rc != 0)
		return laps_seterr_prefix(rc, "ldap: %s", e->dn);
	if (strcasecmp(who, account) != 0) {
		laps_secret_free(rec->password);
		rec->password = NULL;
		return laps_seterr(LAPS_ERR_NOTFOUND,
				   "ldap: %s: %s is for account %s, not %s (one account per "
				   "device in the Microsoft schema modes)",
				   e->dn, attr, who, account);
	}
	rec->rotated_at = laps_filetime_to_unix(ft);
	return 0;
}

static int
mslaps_pw_decode(const struct lentry *e, const char *account, struct laps_record *rec)
{
	return mslaps_json_decode(e, AT_MSLAPS_PW, e->pw[0]->bv_val, e->pw[0]->bv_len, account,
				  rec);
}

/* msLAPS-EncryptedPassword: decrypted with the group key (ldap_msenc.c). */
static int
mslaps_enc_decode(struct lctx *c, const struct lentry *e, const char *account,
		  struct laps_record *rec)
{
	char *json = NULL;
	size_t len = 0;
	int rc;

	if ((rc = lenc_decode(c, e->enc[0], &json, &len)) != 0)
		return laps_seterr_prefix(rc, "%s", e->dn);
	rc = mslaps_json_decode(e, AT_MSLAPS_ENC, json, len, account, rec);
	laps_secret_free(json);
	if (rc == 0)
		rec->encrypted = true;
	return rc;
}

/* JSON string escaping into dst (6 bytes per input byte at most). */
static size_t
json_escape(char *dst, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)ch;
		} else if (ch < 0x20) {
			memcpy(dst + o, "\\u00", 4);
			o += 4;
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		} else {
			dst[o++] = (char)ch;
		}
	}
	return o;
}

/* {"n": account, "t": FILETIME hex, "p": password}, in locked memory. */
static int
mslaps_pw_encode(const char *account, int64_t rotated_at, const char *password, char **out,
		 size_t *outlen)
{
	char tbuf[LAPS_FILETIME_HEX_MAX], *v;
	uint64_t ft = 0;
	size_t o = 0;

	if (laps_filetime_from_unix(rotated_at, &ft) != 0)
		return LAPS_ERR_INVALID;
	if ((v = laps_secret_alloc(64 + strlen(account) * 6 + strlen(password) * 6)) == NULL)
		return LAPS_ERR_NOMEM;
	memcpy(v + o, "{\"n\":\"", 6), o += 6;
	o += json_escape(v + o, account);
	memcpy(v + o, "\",\"t\":\"", 7), o += 7;
	laps_filetime_format_hex(ft, tbuf);
	memcpy(v + o, tbuf, strlen(tbuf)), o += strlen(tbuf);
	memcpy(v + o, "\",\"p\":\"", 7), o += 7;
	o += json_escape(v + o, password);
	memcpy(v + o, "\"}", 2), o += 2;
	*out = v;
	*outlen = o;
	return 0;
}

static int
legacy_pw_encode(const char *account, int64_t rotated_at, const char *password, char **out,
		 size_t *outlen)
{
	uint64_t ft;

	(void)account;
	if (laps_filetime_from_unix(rotated_at, &ft) != 0)
		return LAPS_ERR_INVALID;
	if ((*out = laps_secret_strdup(password)) == NULL)
		return LAPS_ERR_NOMEM;
	*outlen = strlen(password);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Read                                                                 */

static int
read_ms(struct lctx *c, const char *device, const char *account, struct laps_record *out,
	struct laps_version *ver)
{
	struct lentry e;
	struct laps_record rec;
	uint64_t value;
	uint32_t tag;
	int64_t exp;
	int pending, rc;

	laps_record_init(&rec);
	if ((rc = lentry_fetch(c, device, &e)) != 0)
		return rc;
	rc = expiration_of(c, &e, &value);
	if (rc == LAPS_ERR_NOTFOUND) {
		if ((rc = lconn_probe_access(c, e.dn, c->schema->exp_attr)) != 0)
			goto out;
		rc = laps_seterr(LAPS_ERR_NOTFOUND, "ldap: %s has no %s", e.dn,
				 c->schema->exp_attr);
		goto out;
	}
	if (rc != 0)
		goto out;
	laps_ms_expiration_decode(value, &exp, &tag, &pending);
	(void)snprintf(rec.device, sizeof(rec.device), "%s", device);
	laps_hostname_lower(rec.device);
	(void)snprintf(rec.account, sizeof(rec.account), "%s", account);
	rotation_id_of(c, account, value, rec.rotation_id);
	rec.expires_at = exp;
	rec.state = pending ? LAPS_STATE_PENDING : LAPS_STATE_CONFIRMED;
	/* admins: the password, when readable and set (else metadata only);
	 * the encrypted attribute first (Windows LAPS clears the other) */
	if (c->role == LAPS_ROLE_ADMIN && lvals_count(e.enc) == 1)
		rc = mslaps_enc_decode(c, &e, account, &rec);
	else if (c->role == LAPS_ROLE_ADMIN && lvals_count(e.pw) == 1)
		rc = c->schema->pw_decode(&e, account, &rec);
	if (rc != 0)
		goto out;
	(void)snprintf(rec.source, sizeof(rec.source), "%s", c->desc);
	(void)snprintf(ver->tag, sizeof(ver->tag), "ft:%" PRIu64, value);
	laps_record_clear(out);
	*out = rec; /* success */
	laps_record_init(&rec);
	rc = 0;
out:
	laps_record_clear(&rec);
	lentry_free(&e);
	return rc;
}

/* ------------------------------------------------------------------ */
/* History (encrypted mode: msLAPS-EncryptedPasswordHistory)             */

/* One history value decrypted into rec. */
static int
hist_record(struct lctx *c, const struct lentry *e, const char *device, const char *account,
	    const struct berval *v, struct laps_record *rec)
{
	char *json = NULL;
	size_t len = 0;
	uint64_t ft = 0;
	int rc;

	if ((rc = lenc_decode(c, v, &json, &len)) != 0)
		return laps_seterr_prefix(rc, "%s: %s", e->dn, AT_MSLAPS_ENC_HIST);
	rc = mslaps_json_decode(e, AT_MSLAPS_ENC_HIST, json, len, account, rec);
	laps_secret_free(json);
	if (rc != 0)
		return rc;
	rec->encrypted = true;
	(void)snprintf(rec->device, sizeof(rec->device), "%s", device);
	laps_hostname_lower(rec->device);
	(void)snprintf(rec->account, sizeof(rec->account), "%s", account);
	if (laps_filetime_from_unix(rec->rotated_at, &ft) != 0)
		ft = 0;
	(void)snprintf(rec->rotation_id, sizeof(rec->rotation_id), "%016" PRIx64 "%016" PRIx64,
		       (uint64_t)0, ft);
	rec->state = LAPS_STATE_CONFIRMED;
	(void)snprintf(rec->source, sizeof(rec->source), "%s", c->desc);
	return 0;
}

static int
history_ms(struct lctx *c, const char *device, const char *account, size_t n,
	   struct laps_record_list *out)
{
	struct laps_record rec;
	struct lentry e;
	size_t i;
	int rc;

	if (!(c->caps & LAPS_BCAP_HISTORY) || c->role != LAPS_ROLE_ADMIN)
		return laps_seterr(LAPS_ERR_UNSUPPORTED,
				   "ldap: schema %s keeps history only when encrypted "
				   "(msLAPS-EncryptedPasswordHistory)",
				   c->schema->name);
	if ((rc = lentry_fetch(c, device, &e)) != 0)
		return rc;
	for (i = 0; rc == 0 && i < lvals_count(e.hist); i++) {
		laps_record_init(&rec);
		if ((rc = hist_record(c, &e, device, account, e.hist[i], &rec)) == 0)
			rc = laps_record_list_push(out, &rec);
		laps_record_clear(&rec);
	}
	laps_record_list_sort(out);
	for (i = n; rc == 0 && i < out->n; i++)
		laps_record_clear(&out->v[i]);
	if (rc == 0 && out->n > n)
		out->n = n;
	lentry_free(&e);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Write                                                                */

/* The compare-and-set precondition on the expiration value; *exists and
 * *value describe what the entry holds. */
static int
check_expected(struct lctx *c, const struct lentry *e, const struct laps_version *expected,
	       bool *exists, uint64_t *value)
{
	char buf[LAPS_FILETIME_DEC_MAX];
	int rc;

	rc = expiration_of(c, e, value);
	if (rc != 0 && rc != LAPS_ERR_NOTFOUND)
		return rc;
	*exists = rc == 0;
	if (!*exists && (rc = lconn_probe_access(c, e->dn, c->schema->exp_attr)) != 0)
		return rc;
	if (*exists != (expected->tag[0] != '\0') ||
	    (*exists && (strncmp(expected->tag, "ft:", 3) != 0 ||
			 strcmp(expected->tag + 3, laps_filetime_format_dec(*value, buf)) != 0)))
		return laps_seterr(LAPS_ERR_CONFLICT, "ldap: %s: %s is %s, expected %s", e->dn,
				   c->schema->exp_attr, *exists ? buf : "(none)",
				   expected->tag[0] ? expected->tag : "(none)");
	return 0;
}

/* Remember the rotation id before the directory can hold it (agents). */
static void
remember_rotation(struct lctx *c, const struct laps_record *rec, bool exists, uint64_t value)
{
	char ids[2][LAPS_ROTID_HEX + 1], cur[LAPS_ROTID_HEX + 1] = "";
	int rc;

	if (c->role != LAPS_ROLE_AGENT)
		return;
	rotid_load(c, rec->account, ids);
	if (exists)
		rotation_id_of(c, rec->account, value, cur);
	if (strncmp(cur, "0000000000000000", 16) == 0)
		cur[0] = '\0'; /* derived: not ours */
	if ((rc = rotid_store(c, rec->account, rec->rotation_id, cur)) != 0)
		log_warn_rc(rc, "ldap: cannot record the rotation id locally; the next run "
				"will not recognise this rotation");
}

/* Encrypted mode: the history to write with the new value (ldap_msenc.c). */
static int
enc_history(struct lctx *c, const struct laps_record *rec, bool exists, uint64_t value,
	    const uint8_t *val, size_t len, struct lenc_hist *h)
{
	size_t keep = laps_escrow_conf(c->cfg)->history;
	int64_t exp;
	uint32_t tag = 0;
	int pending;

	if (keep == 0)
		return 0;
	if (exists)
		laps_ms_expiration_decode(value, &exp, &tag, &pending);
	return lenc_hist_plan(c, rec->account, exists, tag, rec->rotation_id, val, len, keep, h);
}

static int
write_ms(struct lctx *c, const struct laps_record *rec, const char *password,
	 const struct laps_version *expected, struct laps_version *newver)
{
	const char *exp_attr = c->schema->exp_attr;
	struct lentry e;
	struct modlist ml;
	struct berval oldexp, newexp, pwbv, encbv, *v_old[2], *v_new[2], *v_pw[2], *v_enc[2];
	char newbuf[LAPS_FILETIME_DEC_MAX], *pwval = NULL;
	uint8_t *encval = NULL;
	size_t pwlen = 0, enclen = 0;
	struct lenc_hist hist = {0};
	uint64_t value = 0;
	bool exists = false;
	int rc;

	memset(&ml, 0, sizeof(ml));
	memset(&e, 0, sizeof(e));
	if (password == NULL || password[0] == '\0' || strlen(password) > LAPS_PASSWORD_MAX)
		return laps_seterr(LAPS_ERR_INVALID,
				   "ldap: schema %s stores the password itself: write() needs it",
				   c->schema->name);
	if ((rc = lentry_fetch(c, rec->device, &e)) != 0 ||
	    (rc = check_expected(c, &e, expected, &exists, &value)) != 0)
		goto out;
	remember_rotation(c, rec, exists, value);
	if ((rc = c->schema->pw_encode(rec->account, rec->rotated_at, password, &pwval, &pwlen)) != 0)
		goto out;
	pwbv.bv_val = pwval, pwbv.bv_len = pwlen;
	v_pw[0] = &pwbv, v_pw[1] = NULL;
	if (lenc_enabled(c)) {
		if ((rc = lenc_encode(c, pwval, pwlen, rec->rotated_at, &encval, &enclen)) != 0)
			goto out;
		encbv.bv_val = (char *)encval, encbv.bv_len = enclen;
		v_enc[0] = &encbv, v_enc[1] = NULL;
		if ((rc = enc_history(c, rec, exists, value, encval, enclen, &hist)) != 0)
			goto out;
	}
	/* pending: the expiry is the rotation time, i.e. due again unless confirmed */
	(void)laps_filetime_format_dec(
	    laps_ms_expiration_encode(rec->rotated_at, laps_ms_rotation_tag(rec->rotation_id), 1),
	    newbuf);
	newexp.bv_val = newbuf, newexp.bv_len = strlen(newbuf);
	v_new[0] = &newexp, v_new[1] = NULL;
	if (exists) {
		oldexp = *e.exp[0];
		v_old[0] = &oldexp, v_old[1] = NULL;
		if ((rc = modlist_add(&ml, LDAP_MOD_DELETE, exp_attr, v_old)) != 0)
			goto out;
	}
	if ((rc = modlist_add(&ml, LDAP_MOD_ADD, exp_attr, v_new)) != 0)
		goto out;
	/* encrypted: never the clear text, and an older one removed (a replace
	 * without values deletes the attribute if present) */
	if (encval != NULL && hist.n > 1 &&
	    (rc = modlist_add(&ml, LDAP_MOD_REPLACE, c->schema->hist_attr, hist.ptr)) != 0)
		goto out;
	if (encval != NULL &&
	    (rc = modlist_add(&ml, LDAP_MOD_REPLACE, c->schema->enc_attr, v_enc)) == 0)
		rc = modlist_add(&ml, LDAP_MOD_REPLACE, c->schema->pw_attr, NULL);
	else if (encval == NULL)
		rc = modlist_add(&ml, LDAP_MOD_REPLACE, c->schema->pw_attr, v_pw);
	if (rc != 0 || (rc = lconn_modify(c, e.dn, &ml, NULL, "write", NULL)) != 0)
		goto out;
	(void)snprintf(newver->tag, sizeof(newver->tag), "ft:%s", newbuf);
out:
	if (pwval != NULL)
		laps_secret_free(pwval);
	free(encval);
	lenc_hist_free(&hist);
	lentry_free(&e);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Confirm and set expiry                                               */

/* Replace the expiration value (CAS on the old value). */
static int
replace_expiration(struct lctx *c, const struct lentry *e, uint64_t newvalue, const char *what)
{
	struct modlist ml;
	struct berval oldexp, newexp, *v_old[2], *v_new[2];
	char newbuf[LAPS_FILETIME_DEC_MAX];
	int rc;

	memset(&ml, 0, sizeof(ml));
	(void)laps_filetime_format_dec(newvalue, newbuf);
	oldexp = *e->exp[0];
	newexp.bv_val = newbuf;
	newexp.bv_len = strlen(newbuf);
	v_old[0] = &oldexp, v_old[1] = NULL;
	v_new[0] = &newexp, v_new[1] = NULL;
	if ((rc = modlist_add(&ml, LDAP_MOD_DELETE, c->schema->exp_attr, v_old)) != 0 ||
	    (rc = modlist_add(&ml, LDAP_MOD_ADD, c->schema->exp_attr, v_new)) != 0)
		return rc;
	return lconn_modify(c, e->dn, &ml, NULL, what, NULL);
}

static int
confirm_ms(struct lctx *c, const char *device, const char *account, const char *rotation_id,
	   int64_t expires_at)
{
	struct lentry e;
	uint64_t value;
	uint32_t tag;
	int64_t exp;
	int pending, rc;

	(void)account;
	if ((rc = lentry_fetch(c, device, &e)) != 0)
		return rc;
	if ((rc = expiration_of(c, &e, &value)) != 0) {
		if (rc == LAPS_ERR_NOTFOUND)
			rc = laps_seterr(LAPS_ERR_CONFLICT, "ldap: %s: no %s to confirm", e.dn,
					 c->schema->exp_attr);
		goto out;
	}
	laps_ms_expiration_decode(value, &exp, &tag, &pending);
	if (tag != laps_ms_rotation_tag(rotation_id)) {
		rc = laps_seterr(LAPS_ERR_CONFLICT,
				 "ldap: %s: %s belongs to another rotation than %s", e.dn,
				 c->schema->exp_attr, rotation_id);
		goto out;
	}
	if (!pending && exp == expires_at) {
		rc = 0; /* already confirmed */
		goto out;
	}
	rc = replace_expiration(c, &e, laps_ms_expiration_encode(expires_at, tag, 0), "confirm");
out:
	lentry_free(&e);
	return rc;
}

static int
set_expiry_ms(struct lctx *c, const char *device, const char *account, int64_t when)
{
	struct lentry e;
	uint64_t value;
	uint32_t tag;
	int64_t exp;
	int pending, rc;

	(void)account;
	if ((rc = lentry_fetch(c, device, &e)) != 0)
		return rc;
	rc = expiration_of(c, &e, &value);
	if (rc == LAPS_ERR_NOTFOUND) {
		if ((rc = lconn_probe_access(c, e.dn, c->schema->exp_attr)) == 0)
			rc = laps_seterr(LAPS_ERR_NOTFOUND, "ldap: %s has no %s", e.dn,
					 c->schema->exp_attr);
		goto out;
	}
	if (rc != 0)
		goto out;
	laps_ms_expiration_decode(value, &exp, &tag, &pending);
	rc = replace_expiration(c, &e, laps_ms_expiration_encode(when, tag, pending),
				"set expiry");
out:
	lentry_free(&e);
	return rc;
}

/* Report: the expiration value says pending/confirmed and the expiry; the
 * rotation time is known only while pending (then it is the expiry), and
 * the account name only from the password value, which is never read: the
 * row names the first configured account. */
static int
report_ms(struct lctx *c, const char *device, const struct lentry *e, laps_report_cb cb,
	  void *arg)
{
	struct laps_report_row row;
	uint64_t value;
	uint32_t tag;
	int pending, rc;

	memset(&row, 0, sizeof(row));
	(void)snprintf(row.device, sizeof(row.device), "%s", device);
	rc = expiration_of(c, e, &value);
	if (rc == LAPS_ERR_NOTFOUND)
		return cb(arg, &row);
	if (rc != 0) {
		log_warn("ldap: report: %s: %s", e->dn, laps_errdetail());
		return 0;
	}
	laps_ms_expiration_decode(value, &row.expires_at, &tag, &pending);
	(void)snprintf(row.account, sizeof(row.account), "%s",
		       c->env.n_accounts > 0 ? c->env.accounts[0] : "");
	row.has_record = true;
	row.state = pending ? LAPS_STATE_PENDING : LAPS_STATE_CONFIRMED;
	row.rotated_at = pending ? row.expires_at : 0;
	return cb(arg, &row);
}

#define MS_CAPS                                                                                    \
	(LAPS_BCAP_EXPIRY | LAPS_BCAP_CAS | LAPS_BCAP_FIND | LAPS_BCAP_CLEARTEXT |                 \
	 LAPS_BCAP_WRITEONLY | LAPS_BCAP_REPORT)

const struct lschema lschema_mslaps = {
    .name = "mslaps",
    .caps = MS_CAPS,
    .single_account = true,
    .exp_attr = AT_MSLAPS_EXP,
    .hist_attr = AT_MSLAPS_ENC_HIST,
    .pw_attr = AT_MSLAPS_PW,
    .enc_attr = AT_MSLAPS_ENC,
    .read = read_ms,
    .write = write_ms,
    .confirm_once = confirm_ms,
    .set_expiry_once = set_expiry_ms,
    .history = history_ms,
    .pw_encode = mslaps_pw_encode,
    .pw_decode = mslaps_pw_decode,
    .report_filter = "(|(objectClass=computer)(objectClass=lapsMsCompat))",
    .report_rows = report_ms,
};

const struct lschema lschema_legacy = {
    .name = "legacy",
    .caps = MS_CAPS,
    .single_account = true,
    .exp_attr = AT_LEGACY_EXP,
    .pw_attr = AT_LEGACY_PW,
    .read = read_ms,
    .write = write_ms,
    .confirm_once = confirm_ms,
    .set_expiry_once = set_expiry_ms,
    .pw_encode = legacy_pw_encode,
    .pw_decode = legacy_pw_decode,
    .report_filter = "(|(objectClass=computer)(objectClass=lapsMsCompat))",
    .report_rows = report_ms,
};
