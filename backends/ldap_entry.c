/*
 * ldap_entry.c — the helpers the LDAP backend's ops table (ldap_backend.c)
 * and its schema modes (ldap_laps.c, ldap_ms.c, ldap_report.c) share:
 * filter escaping and templates, value lists, modification lists, and the
 * lookup of a device's entry with the schema's attributes (sizes checked,
 * the clear-text password wiped in the message).  Over the connection of
 * ldap_conn.c; calls nothing of the files above it.  See docs/LDAP.md.
 */
#include "config.h"

#include <lber.h>
#include <ldap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backends/ldap_int.h"
#include "escrow/err.h"
#include "escrow/record.h"
#include "escrow/secret.h"
#include "backends/ldap_conf.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

int
lfilter_escape(const char *v, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; v[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch == '*' || ch == '(' || ch == ')' || ch == '\\' || ch < 0x20 || ch >= 0x7f) {
			if (o + 3 >= outlen)
				return -1;
			(void)snprintf(out + o, 4, "\\%02x", ch);
			o += 3;
		} else {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
	return (int)o;
}

/* Expand %h/%f/%% in tmpl; esc selects RFC 4515 escaping (filters) versus
 * verbatim (DN templates: the device is validated to host-name characters,
 * which need no DN escaping). */
static int
template_expand(const char *tmpl, const char *device, bool esc, char *out, size_t outlen)
{
	char shorth[LAPS_DEVICE_MAX + 1], buf[3 * LAPS_DEVICE_MAX + 1];
	const char *dot, *p, *val;
	size_t o = 0, n;

	if (strlen(device) > LAPS_DEVICE_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "ldap: device name too long");
	dot = strchr(device, '.');
	n = dot ? (size_t)(dot - device) : strlen(device);
	memcpy(shorth, device, n);
	shorth[n] = '\0';
	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '%') {
			if (o + 1 >= outlen)
				return laps_seterr(LAPS_ERR_TOOBIG,
						   "ldap: expanded template too long");
			out[o++] = *p;
			continue;
		}
		p++;
		if (*p == 'h')
			val = shorth;
		else if (*p == 'f')
			val = device;
		else if (*p == '%')
			val = "%";
		else
			return laps_seterr(
			    LAPS_ERR_CONFIG,
			    "ldap: template '%s': unknown sequence '%%%c' (use %%h, %%f, %%%%)",
			    tmpl, *p ? *p : ' ');
		if (esc && *p != '%') {
			if (lfilter_escape(val, buf, sizeof(buf)) < 0)
				return laps_seterr(LAPS_ERR_TOOBIG, "ldap: value too long");
			val = buf;
		}
		n = strlen(val);
		if (o + n >= outlen)
			return laps_seterr(LAPS_ERR_TOOBIG, "ldap: expanded template too long");
		memcpy(out + o, val, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

int
laps_ldap_filter_expand(const char *tmpl, const char *device, char *out, size_t outlen)
{
	return template_expand(tmpl, device, true, out, outlen);
}

void
lvals_free(struct berval **v, bool wipe)
{
	size_t i;

	if (v == NULL)
		return;
	if (wipe)
		for (i = 0; v[i] != NULL; i++)
			if (v[i]->bv_val != NULL)
				laps_wipe(v[i]->bv_val, v[i]->bv_len);
	ldap_value_free_len(v);
}

void
lentry_free(struct lentry *e)
{
	ldap_memfree(e->dn);
	lvals_free(e->cur, false);
	lvals_free(e->rid, false);
	lvals_free(e->hist, false);
	lvals_free(e->exp, false);
	lvals_free(e->pw, true);
	lvals_free(e->enc, false);
	memset(e, 0, sizeof(*e));
}

size_t
lvals_count(struct berval **v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

int
modlist_add(struct modlist *ml, int op, const char *attr, struct berval **vals)
{
	if (ml->n >= LB_MODS_MAX)
		return laps_seterr(LAPS_ERR_INTERNAL, "ldap: too many modifications");
	ml->mods[ml->n].mod_op = op | LDAP_MOD_BVALUES;
	ml->mods[ml->n].mod_type = (char *)(uintptr_t)attr;
	ml->mods[ml->n].mod_bvalues = vals;
	ml->ptrs[ml->n] = &ml->mods[ml->n];
	ml->n++;
	ml->ptrs[ml->n] = NULL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Entry lookup                                                         */

/* Attributes to fetch for the mode (the password only for admins). */
static void
mode_attrs(const struct lctx *c, const char *attrs[7])
{
	const struct lschema *s = c->schema;
	const char *all[6] = {s->cur_attr,
			      s->rid_attr,
			      s->hist_attr,
			      s->exp_attr,
			      c->role == LAPS_ROLE_ADMIN ? s->pw_attr : NULL,
			      c->role == LAPS_ROLE_ADMIN ? s->enc_attr : NULL};
	size_t i, n = 0;

	for (i = 0; i < 6; i++)
		if (all[i] != NULL)
			attrs[n++] = all[i];
	attrs[n] = NULL;
}

/*
 * libldap keeps each received entry (its BER encoding) in the result
 * message, and ldap_msgfree() frees it unwiped.  After the password values
 * were copied out (ldap_get_values_len, wiped by lentry_free), wipe them
 * inside the message: ldap_get_attribute_ber() returns values that point
 * into the message's own buffer (parsed in place, not copied).
 */
static void
wipe_message_attr(LDAP *ld, LDAPMessage *m, const char *attr)
{
	BerElement *ber = NULL;
	struct berval dn, a, *vals = NULL;
	size_t i, alen = strlen(attr);
	int n = 0;

	if (ldap_get_dn_ber(ld, m, &ber, &dn) != LDAP_SUCCESS)
		goto out;
	while (n++ < LB_VALUES_MAX &&
	       ldap_get_attribute_ber(ld, m, ber, &a, &vals) == LDAP_SUCCESS && a.bv_val != NULL) {
		/* "attr" or "attr;option" */
		if (vals != NULL && a.bv_len >= alen && strncasecmp(a.bv_val, attr, alen) == 0 &&
		    (a.bv_len == alen || a.bv_val[alen] == ';')) {
			for (i = 0; vals[i].bv_val != NULL; i++)
				laps_wipe(vals[i].bv_val, vals[i].bv_len);
		}
		ber_memfree(vals);
		vals = NULL;
	}
out:
	ber_memfree(vals);
	if (ber != NULL)
		ber_free(ber, 0);
}

/* Search base, scope and filter for device. */
static int
lookup_of(const struct lctx *c, const char *device, char base[LB_DN_MAX],
	  char filter[LB_FILTER_MAX], int *scope)
{
	const struct laps_conf *cfg = c->cfg;
	const char *tmpl;
	int rc;

	if (laps_ldap_conf(cfg)->dn != NULL) {
		if ((rc = template_expand(laps_ldap_conf(cfg)->dn, device, false, base,
					  LB_DN_MAX)) != 0)
			return rc;
		(void)snprintf(filter, LB_FILTER_MAX, "(objectClass=*)");
		*scope = LDAP_SCOPE_BASE;
		return 0;
	}
	if (laps_ldap_conf(cfg)->base == NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "ldap: set dn or base (+ filter)");
	tmpl = laps_ldap_conf(cfg)->filter ? laps_ldap_conf(cfg)->filter
					   : "(|(cn=%h)(dNSHostName=%f))";
	if ((rc = template_expand(tmpl, device, true, filter, LB_FILTER_MAX)) != 0)
		return rc;
	(void)snprintf(base, LB_DN_MAX, "%s", laps_ldap_conf(cfg)->base);
	*scope = LDAP_SCOPE_SUBTREE;
	return 0;
}

/*
 * Check the sizes in one entry message before anything is copied out of it
 * (the values are looked at in place): at most LB_VALUES_MAX values per
 * attribute, each at most LB_VALUE_MAX bytes.  The message itself is capped
 * at LB_MESSAGE_MAX by the connection (ldap_conn.c).
 */
static int
entry_sizes_ok(struct lctx *c, LDAPMessage *m, const char *dn)
{
	BerElement *ber = NULL;
	struct berval bdn, a, *vals = NULL;
	size_t i;
	int n = 0, rc = 0;

	if (ldap_get_dn_ber(c->ld, m, &ber, &bdn) != LDAP_SUCCESS)
		return laps_seterr(LAPS_ERR_FORMAT, "ldap: %s: unreadable entry on %s", dn, c->uri);
	while (rc == 0 && ldap_get_attribute_ber(c->ld, m, ber, &a, &vals) == LDAP_SUCCESS &&
	       a.bv_val != NULL) {
		if (++n > LB_VALUES_MAX)
			rc = laps_seterr(LAPS_ERR_TOOBIG, "ldap: %s: more than %d attributes", dn,
					 LB_VALUES_MAX);
		for (i = 0; rc == 0 && vals != NULL && vals[i].bv_val != NULL; i++) {
			if (i >= LB_VALUES_MAX)
				rc = laps_seterr(
				    LAPS_ERR_TOOBIG, "ldap: %s: %.*s has more than %d values", dn,
				    (int)(a.bv_len > 64 ? 64 : a.bv_len), a.bv_val, LB_VALUES_MAX);
			else if (vals[i].bv_len > LB_VALUE_MAX)
				rc = laps_seterr(
				    LAPS_ERR_TOOBIG,
				    "ldap: %s: a value of %.*s is longer than %d bytes", dn,
				    (int)(a.bv_len > 64 ? 64 : a.bv_len), a.bv_val, LB_VALUE_MAX);
		}
		ber_memfree(vals);
		vals = NULL;
	}
	ber_memfree(vals);
	ber_free(ber, 0);
	return rc;
}

int
lentry_take(struct lctx *c, LDAPMessage *m, struct lentry *e)
{
	const struct lschema *s = c->schema;
	int rc;

	/* NULL for a DN libldap cannot return as a string (a NUL byte in it) */
	if ((e->dn = ldap_get_dn(c->ld, m)) == NULL)
		return laps_seterr(LAPS_ERR_FORMAT,
				   "ldap: an entry on %s has an unreadable DN (a NUL byte?)",
				   c->uri);
	if ((rc = entry_sizes_ok(c, m, e->dn)) != 0)
		return rc;
	if (s->cur_attr != NULL)
		e->cur = ldap_get_values_len(c->ld, m, s->cur_attr);
	if (s->rid_attr != NULL)
		e->rid = ldap_get_values_len(c->ld, m, s->rid_attr);
	if (s->hist_attr != NULL)
		e->hist = ldap_get_values_len(c->ld, m, s->hist_attr);
	if (s->exp_attr != NULL)
		e->exp = ldap_get_values_len(c->ld, m, s->exp_attr);
	if (s->pw_attr != NULL && c->role == LAPS_ROLE_ADMIN)
		e->pw = ldap_get_values_len(c->ld, m, s->pw_attr);
	if (s->enc_attr != NULL && c->role == LAPS_ROLE_ADMIN)
		e->enc = ldap_get_values_len(c->ld, m, s->enc_attr);
	return 0;
}

/* The search's final result: 0 for exactly one entry. */
static int
search_outcome(struct lctx *c, LDAPMessage *m, int nent, const char *base, const char *filter)
{
	char *diag = NULL, what[LB_FILTER_MAX + 32];
	int rc, lrc;

	rc = ldap_parse_result(c->ld, m, &lrc, NULL, &diag, NULL, NULL, 0);
	if (rc != LDAP_SUCCESS)
		return lconn_error(c, rc, "search", NULL);
	if (lrc == LDAP_SIZELIMIT_EXCEEDED || nent > 1)
		rc =
		    laps_seterr(LAPS_ERR_AMBIGUOUS, "ldap: several entries under %s match %s on %s",
				base, filter, c->uri);
	else if (lrc == LDAP_NO_SUCH_OBJECT)
		rc = laps_seterr(LAPS_ERR_NOTFOUND, "ldap: no entry %s on %s%s%s", base, c->uri,
				 diag && *diag ? ": " : "", diag ? diag : "");
	else if (lrc != LDAP_SUCCESS) {
		(void)snprintf(what, sizeof(what), "search %s", filter);
		rc = lconn_error(c, lrc, what, diag);
	} else if (nent == 0)
		rc = laps_seterr(LAPS_ERR_NOTFOUND, "ldap: no entry matches %s under %s on %s",
				 filter, base, c->uri);
	else
		rc = 0;
	ldap_memfree(diag);
	return rc;
}

int
lentry_fetch(struct lctx *c, const char *device, struct lentry *e)
{
	char filter[LB_FILTER_MAX], base[LB_DN_MAX];
	const char *attrs[7];
	LDAPMessage *res = NULL, *m;
	int scope = LDAP_SCOPE_BASE, msgid, rc, nent = 0, take = 0;
	bool final = false;

	memset(e, 0, sizeof(*e));
	if (!laps_record_device_ok(device))
		return laps_seterr(LAPS_ERR_INVALID, "ldap: invalid device name");
	mode_attrs(c, attrs);
	if ((rc = lookup_of(c, device, base, filter, &scope)) != 0)
		return rc;
	if (c->ld == NULL && (rc = lconn_connect(c)) != 0)
		return rc;
	rc = ldap_search_ext(c->ld, base, scope, filter, (char **)(uintptr_t)attrs, 0, NULL, NULL,
			     &c->tv, 2, &msgid);
	if (rc != LDAP_SUCCESS)
		return lconn_error(c, rc, "search", NULL);
	if ((rc = lconn_wait(c, msgid, "search", &res)) != 0)
		return rc;
	for (m = ldap_first_message(c->ld, res); m != NULL; m = ldap_next_message(c->ld, m)) {
		int t = ldap_msgtype(m);

		if (t == LDAP_RES_SEARCH_ENTRY && ++nent == 1)
			take = lentry_take(c, m, e);
		else if (t == LDAP_RES_SEARCH_RESULT && !final) {
			rc = search_outcome(c, m, nent, base, filter);
			final = true;
		}
		/* LDAP_RES_SEARCH_REFERENCE: ignored, never chased */
	}
	/* the clear-text password (Microsoft modes) is in the message too */
	if (c->schema->pw_attr != NULL && c->role == LAPS_ROLE_ADMIN)
		for (m = ldap_first_entry(c->ld, res); m != NULL; m = ldap_next_entry(c->ld, m))
			wipe_message_attr(c->ld, m, c->schema->pw_attr);
	ldap_msgfree(res);
	if (!final)
		rc = laps_seterr(LAPS_ERR_UNAVAILABLE, "ldap: search on %s: no final result",
				 c->uri);
	else if (rc == 0 && take != 0)
		rc = take;
	if (rc != 0)
		lentry_free(e);
	return rc;
}
