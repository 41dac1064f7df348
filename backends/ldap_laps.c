/*
 * ldap_laps.c — schema mode laps: this project's schema (schema/laps.ldif).
 *
 * A device entry holds, per account, one lapsCurrent value (the sealed
 * record as JSON), one lapsRotationId value "<account>:<rotation id>" (the
 * compare-and-set handle), lapsHistory values (older records) and an
 * optional lapsExpiration "<account>:<unix seconds>" that overrides the
 * record's expires_at (admins write it to force a rotation).  See
 * docs/LDAP.md.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "backends/ldap_int.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/record.h"
#include "escrow/escrow_conf.h"

/* "<account>:<rotation id>" */
#define RID_VALUE_MAX (LAPS_ACCOUNT_MAX + LAPS_ROTID_HEX + 2)

/* Parse the lapsCurrent value of account: *idx is its index in e->cur, -1
 * if none. rec filled when found. */
static int
find_current(const struct lentry *e, const char *account, struct laps_record *rec, ssize_t *idx)
{
	struct laps_record tmp;
	size_t i;
	int rc;

	*idx = -1;
	laps_record_init(&tmp);
	for (i = 0; e->cur != NULL && e->cur[i] != NULL && i < LB_VALUES_MAX; i++) {
		rc = laps_record_parse(e->cur[i]->bv_val, e->cur[i]->bv_len, &tmp);
		if (rc != 0) {
			log_warn("ldap: %s: ignoring an unreadable %s value: %s", e->dn, AT_CURRENT,
				 laps_errdetail());
			continue;
		}
		if (strcmp(tmp.account, account) != 0)
			continue;
		if (*idx >= 0) {
			laps_record_clear(&tmp);
			return laps_seterr(LAPS_ERR_FORMAT,
					   "ldap: %s holds two %s values for account %s", e->dn,
					   AT_CURRENT, account);
		}
		*idx = (ssize_t)i;
		laps_record_clear(rec);
		*rec = tmp;
		laps_record_init(&tmp);
	}
	laps_record_clear(&tmp);
	return 0;
}

/* "<account>:<something>" values of v for account: indices into v. */
static size_t
prefixed_values(struct berval **v, const char *account, size_t *idx, size_t max)
{
	size_t i, n = 0, al = strlen(account);

	for (i = 0; v != NULL && v[i] != NULL && n < max; i++) {
		if (v[i]->bv_len > al && memcmp(v[i]->bv_val, account, al) == 0 &&
		    v[i]->bv_val[al] == ':')
			idx[n++] = i;
	}
	return n;
}

/* The authoritative expiry of account from lapsExpiration, if any. */
static bool
expiry_of(const struct lentry *e, const char *account, int64_t *when)
{
	size_t idx[4], n, al = strlen(account), vl;
	char buf[32];
	long long v;

	n = prefixed_values(e->exp, account, idx, 4);
	if (n == 0)
		return false;
	vl = e->exp[idx[0]]->bv_len - al - 1;
	if (vl >= sizeof(buf))
		return false;
	memcpy(buf, e->exp[idx[0]]->bv_val + al + 1, vl);
	buf[vl] = '\0';
	if (laps_parse_int64(buf, 0, INT64_MAX, &v) != 0)
		return false;
	*when = (int64_t)v;
	return true;
}

static int
read_laps(struct lctx *c, const char *device, const char *account, struct laps_record *out,
	  struct laps_version *ver)
{
	struct lentry e;
	struct laps_record rec;
	ssize_t idx;
	int64_t when;
	int rc;

	laps_record_init(&rec);
	if ((rc = lentry_fetch(c, device, &e)) != 0)
		return rc;
	if ((rc = find_current(&e, account, &rec, &idx)) != 0)
		goto out;
	if (idx < 0) {
		if (e.cur == NULL && e.rid == NULL &&
		    (rc = lconn_probe_access(c, e.dn, AT_ROTID)) != 0)
			goto out;
		rc = laps_seterr(LAPS_ERR_NOTFOUND, "ldap: %s has no record for %s", e.dn, account);
		goto out;
	}
	if (expiry_of(&e, account, &when))
		rec.expires_at = when;
	(void)snprintf(rec.source, sizeof(rec.source), "%s", c->desc);
	(void)snprintf(ver->tag, sizeof(ver->tag), "%s", rec.rotation_id);
	laps_record_clear(out);
	*out = rec; /* success: ownership passes */
	laps_record_init(&rec);
	rc = 0;
out:
	laps_record_clear(&rec);
	lentry_free(&e);
	return rc;
}

/* ------------------------------------------------------------------ */
/* History trimming: a pure plan                                        */

static int
histval_cmp_oldest_first(const void *a, const void *b)
{
	const struct laps_ldap_histval *x = a, *y = b;

	/* the reverse of laps_record_cmp_newest_first */
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->rotated_at != y->rotated_at)
		return x->rotated_at < y->rotated_at ? -1 : 1;
	return strcmp(x->rotation_id, y->rotation_id);
}

void
laps_ldap_history_plan(struct laps_ldap_histval *v, size_t n, size_t keep)
{
	size_t i, first_kept = n > keep ? n - keep : 0;

	qsort(v, n, sizeof(v[0]), histval_cmp_oldest_first);
	for (i = 0; i < n; i++)
		v[i].keep = i >= first_kept;
}

/* ------------------------------------------------------------------ */
/* Write                                                                */

/* Everything one write's modify points into. */
struct writeplan {
	struct modlist ml;
	struct laps_record cur; /* the current record of the account, if any */
	ssize_t idx;            /* its index in e.cur, -1 if none */
	struct berval newcur, newrid, oldrid;
	struct berval *v_newcur[2], *v_newrid[2], *v_oldcur[2], *v_oldrid[2], *v_addhist[2];
	struct berval *v_delhist[LB_VALUES_MAX + 2];
	char ridbuf[RID_VALUE_MAX], oldridbuf[RID_VALUE_MAX];
	struct laps_ldap_histval hv[LB_VALUES_MAX + 1];
	LDAPControl *ctrl; /* the creation assertion (ldap_control_free) */
};

/* The compare-and-set precondition: the account's current rotation is
 * the expected one ("" = none). */
static int
check_expected(struct lctx *c, const struct lentry *e, const struct laps_record *rec,
	       const struct laps_version *expected, struct writeplan *w)
{
	int rc;

	if ((rc = find_current(e, rec->account, &w->cur, &w->idx)) != 0)
		return rc;
	if (w->idx < 0 && e->cur == NULL && e->rid == NULL &&
	    (rc = lconn_probe_access(c, e->dn, AT_ROTID)) != 0)
		return rc;
	if ((w->idx < 0) != (expected->tag[0] == '\0') ||
	    (w->idx >= 0 && strcmp(w->cur.rotation_id, expected->tag) != 0))
		return laps_seterr(LAPS_ERR_CONFLICT,
				   "ldap: %s: the current record of %s is %s, expected %s", e->dn,
				   rec->account, w->idx >= 0 ? w->cur.rotation_id : "(none)",
				   expected->tag[0] ? expected->tag : "(none)");
	return 0;
}

/* Replace current + rotation id: delete the exact old values (the CAS), or
 * on creation assert that the account has no rotation id yet. */
static int
plan_current(struct lctx *c, const struct lentry *e, const struct laps_record *rec,
	     const char *json, struct writeplan *w)
{
	char acct_esc[3 * LAPS_ACCOUNT_MAX + 1], assertion[256];
	int rc, lrc;

	(void)snprintf(w->ridbuf, sizeof(w->ridbuf), "%s:%s", rec->account, rec->rotation_id);
	w->newcur.bv_val = (char *)(uintptr_t)json;
	w->newcur.bv_len = strlen(json);
	w->newrid.bv_val = w->ridbuf;
	w->newrid.bv_len = strlen(w->ridbuf);
	w->v_newcur[0] = &w->newcur, w->v_newcur[1] = NULL;
	w->v_newrid[0] = &w->newrid, w->v_newrid[1] = NULL;
	if (w->idx >= 0) {
		(void)snprintf(w->oldridbuf, sizeof(w->oldridbuf), "%s:%s", rec->account,
			       w->cur.rotation_id);
		w->oldrid.bv_val = w->oldridbuf;
		w->oldrid.bv_len = strlen(w->oldridbuf);
		w->v_oldcur[0] = e->cur[w->idx], w->v_oldcur[1] = NULL;
		w->v_oldrid[0] = &w->oldrid, w->v_oldrid[1] = NULL;
		if ((rc = modlist_add(&w->ml, LDAP_MOD_DELETE, AT_CURRENT, w->v_oldcur)) != 0 ||
		    (rc = modlist_add(&w->ml, LDAP_MOD_DELETE, AT_ROTID, w->v_oldrid)) != 0)
			return rc;
	} else {
		if (lfilter_escape(rec->account, acct_esc, sizeof(acct_esc)) < 0)
			return laps_seterr(LAPS_ERR_INVALID, "ldap: account name too long");
		(void)snprintf(assertion, sizeof(assertion), "(!(%s=%s:*))", AT_ROTID, acct_esc);
		lrc = ldap_create_assertion_control(c->ld, assertion, 1, &w->ctrl);
		if (lrc != LDAP_SUCCESS)
			return lconn_error(c, lrc, "creating the assertion control", NULL);
	}
	if ((rc = modlist_add(&w->ml, LDAP_MOD_ADD, AT_CURRENT, w->v_newcur)) != 0 ||
	    (rc = modlist_add(&w->ml, LDAP_MOD_ADD, AT_ROTID, w->v_newrid)) != 0)
		return rc;
	return 0;
}

static bool
bv_equal(const struct berval *a, const struct berval *b)
{
	return a->bv_len == b->bv_len && memcmp(a->bv_val, b->bv_val, a->bv_len) == 0;
}

/* The account's history values (by the rotated_at inside each value) and
 * the pushed current record, if it is not there already: into w->hv. */
static size_t
gather_history(const struct lentry *e, const char *account, struct writeplan *w)
{
	struct laps_record tmp;
	bool dup = false;
	size_t i, nh = 0;

	laps_record_init(&tmp);
	for (i = 0; e->hist != NULL && e->hist[i] != NULL && i < LB_VALUES_MAX; i++) {
		if (w->idx >= 0 && bv_equal(e->hist[i], e->cur[w->idx]))
			dup = true;
		if (laps_record_parse(e->hist[i]->bv_val, e->hist[i]->bv_len, &tmp) != 0) {
			log_warn("ldap: %s: ignoring an unreadable %s value", e->dn, AT_HISTORY);
			continue;
		}
		if (strcmp(tmp.account, account) == 0) {
			w->hv[nh].idx = i;
			w->hv[nh].seq = tmp.seq;
			w->hv[nh].rotated_at = tmp.rotated_at;
			memcpy(w->hv[nh].rotation_id, tmp.rotation_id, sizeof(w->hv[nh].rotation_id));
			nh++;
		}
		laps_record_clear(&tmp);
	}
	if (w->idx >= 0 && !dup) {
		w->hv[nh].idx = LAPS_LDAP_HIST_PUSHED;
		w->hv[nh].seq = w->cur.seq;
		w->hv[nh].rotated_at = w->cur.rotated_at;
		memcpy(w->hv[nh].rotation_id, w->cur.rotation_id, sizeof(w->hv[nh].rotation_id));
		nh++;
	}
	return nh;
}

/* Push the current record into history and trim it to laps_escrow_conf(cfg)->history,
 * keeping the newest (seq, then rotated_at; never by server order). */
static int
plan_history(struct lctx *c, const struct lentry *e, const char *account, struct writeplan *w)
{
	size_t i, nh, ndel = 0;
	int rc;

	nh = gather_history(e, account, w);
	laps_ldap_history_plan(w->hv, nh, laps_escrow_conf(c->cfg)->history);
	for (i = 0; i < nh; i++) {
		if (w->hv[i].idx == LAPS_LDAP_HIST_PUSHED && w->hv[i].keep) {
			w->v_addhist[0] = e->cur[w->idx], w->v_addhist[1] = NULL;
			if ((rc = modlist_add(&w->ml, LDAP_MOD_ADD, AT_HISTORY, w->v_addhist)) != 0)
				return rc;
		} else if (w->hv[i].idx != LAPS_LDAP_HIST_PUSHED && !w->hv[i].keep) {
			w->v_delhist[ndel++] = e->hist[w->hv[i].idx];
		}
	}
	w->v_delhist[ndel] = NULL;
	if (ndel > 0)
		return modlist_add(&w->ml, LDAP_MOD_DELETE, AT_HISTORY, w->v_delhist);
	return 0;
}

static int
write_laps(struct lctx *c, const struct laps_record *rec, const char *password,
	   const struct laps_version *expected, struct laps_version *newver)
{
	struct lentry e;
	struct writeplan *w;
	LDAPControl *ctrls[2] = {NULL, NULL};
	char *json = NULL;
	int rc, lrc = LDAP_SUCCESS;

	(void)password; /* sealed records only */
	memset(&e, 0, sizeof(e));
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return LAPS_ERR_NOMEM;
	laps_record_init(&w->cur);
	if ((rc = laps_record_serialise(rec, &json)) != 0)
		goto out;
	if ((rc = lentry_fetch(c, rec->device, &e)) != 0 ||
	    (rc = check_expected(c, &e, rec, expected, w)) != 0 ||
	    (rc = plan_current(c, &e, rec, json, w)) != 0 ||
	    (rc = plan_history(c, &e, rec->account, w)) != 0)
		goto out;
	ctrls[0] = w->ctrl;
	rc = lconn_modify(c, e.dn, &w->ml, w->ctrl ? ctrls : NULL, "write", &lrc);
	if (rc != 0 && w->ctrl != NULL && lrc == LDAP_UNAVAILABLE_CRITICAL_EXTENSION) {
		/* Active Directory has no assertion control: the creation race
		 * is then not detected (documented in docs/LDAP.md) */
		log_debug("ldap: %s: no assertion control, writing without it", c->uri);
		rc = lconn_modify(c, e.dn, &w->ml, NULL, "write", NULL);
	}
	if (rc != 0)
		goto out;
	(void)snprintf(newver->tag, sizeof(newver->tag), "%s", rec->rotation_id);
out:
	if (w->ctrl != NULL)
		ldap_control_free(w->ctrl);
	free(json);
	laps_record_clear(&w->cur);
	free(w);
	lentry_free(&e);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Confirm, set expiry, history                                         */

/* The modify that replaces account's lapsExpiration values with when. */
struct expmods {
	struct berval *del[LB_VALUES_MAX + 1], addbv, *add[2];
	char buf[LAPS_ACCOUNT_MAX + 32];
};

static int
plan_expiry(const struct lentry *e, const char *account, int64_t when, struct modlist *ml,
	    struct expmods *x)
{
	size_t idx[LB_VALUES_MAX], n, i;
	int rc;

	n = prefixed_values(e->exp, account, idx, LB_VALUES_MAX);
	for (i = 0; i < n; i++)
		x->del[i] = e->exp[idx[i]];
	x->del[n] = NULL;
	if (n > 0 && (rc = modlist_add(ml, LDAP_MOD_DELETE, AT_EXPIRY, x->del)) != 0)
		return rc;
	(void)snprintf(x->buf, sizeof(x->buf), "%s:%" PRId64, account, when);
	x->addbv.bv_val = x->buf;
	x->addbv.bv_len = strlen(x->buf);
	x->add[0] = &x->addbv;
	x->add[1] = NULL;
	return modlist_add(ml, LDAP_MOD_ADD, AT_EXPIRY, x->add);
}

/* The current record of account as confirmed with expires_at, replacing
 * the old value when it differs. */
static int
plan_confirmed(const struct lentry *e, ssize_t idx, const struct laps_record *cur,
	       int64_t expires_at, struct modlist *ml, struct berval *newcur,
	       struct berval *v_old[2], struct berval *v_new[2], char **json)
{
	struct laps_record conf;
	int rc;

	laps_record_init(&conf);
	if ((rc = laps_record_copy(&conf, cur)) != 0)
		goto out;
	conf.state = LAPS_STATE_CONFIRMED;
	conf.expires_at = expires_at;
	conf.source[0] = '\0';
	if ((rc = laps_record_serialise(&conf, json)) != 0)
		goto out;
	newcur->bv_val = *json;
	newcur->bv_len = strlen(*json);
	v_old[0] = e->cur[idx], v_old[1] = NULL;
	v_new[0] = newcur, v_new[1] = NULL;
	if (!bv_equal(newcur, e->cur[idx]) &&
	    ((rc = modlist_add(ml, LDAP_MOD_DELETE, AT_CURRENT, v_old)) != 0 ||
	     (rc = modlist_add(ml, LDAP_MOD_ADD, AT_CURRENT, v_new)) != 0))
		goto out;
	rc = 0;
out:
	laps_record_clear(&conf);
	return rc;
}

static int
confirm_laps(struct lctx *c, const char *device, const char *account, const char *rotation_id,
	     int64_t expires_at)
{
	struct lentry e;
	struct laps_record cur;
	struct modlist ml;
	struct expmods x;
	struct berval newcur, *v_old[2], *v_new[2];
	char *json = NULL;
	ssize_t idx;
	int64_t when;
	int rc;

	laps_record_init(&cur);
	memset(&ml, 0, sizeof(ml));
	if ((rc = lentry_fetch(c, device, &e)) != 0)
		return rc;
	if ((rc = find_current(&e, account, &cur, &idx)) != 0)
		goto out;
	if (idx < 0 || strcmp(cur.rotation_id, rotation_id) != 0) {
		rc = laps_seterr(LAPS_ERR_CONFLICT,
				 "ldap: %s: the current record of %s is %s, not %s", e.dn, account,
				 idx >= 0 ? cur.rotation_id : "(none)", rotation_id);
		goto out;
	}
	if (cur.state == LAPS_STATE_CONFIRMED && expiry_of(&e, account, &when) &&
	    when == expires_at) {
		rc = 0; /* already done (a retried confirm) */
		goto out;
	}
	if ((rc = plan_confirmed(&e, idx, &cur, expires_at, &ml, &newcur, v_old, v_new, &json)) !=
		0 ||
	    (rc = plan_expiry(&e, account, expires_at, &ml, &x)) != 0)
		goto out;
	rc = lconn_modify(c, e.dn, &ml, NULL, "confirm", NULL);
out:
	free(json);
	laps_record_clear(&cur);
	lentry_free(&e);
	return rc;
}

static int
set_expiry_laps(struct lctx *c, const char *device, const char *account, int64_t when)
{
	struct lentry e;
	struct laps_record cur;
	struct modlist ml;
	struct expmods x;
	ssize_t idx;
	int rc;

	laps_record_init(&cur);
	memset(&ml, 0, sizeof(ml));
	if ((rc = lentry_fetch(c, device, &e)) != 0)
		return rc;
	if ((rc = find_current(&e, account, &cur, &idx)) != 0)
		goto out;
	if (idx < 0) {
		if (e.cur == NULL && (rc = lconn_probe_access(c, e.dn, AT_ROTID)) != 0)
			goto out;
		rc = laps_seterr(LAPS_ERR_NOTFOUND, "ldap: %s has no record for %s", e.dn, account);
		goto out;
	}
	if ((rc = plan_expiry(&e, account, when, &ml, &x)) != 0)
		goto out;
	rc = lconn_modify(c, e.dn, &ml, NULL, "set expiry", NULL);
out:
	laps_record_clear(&cur);
	lentry_free(&e);
	return rc;
}

static int
history_laps(struct lctx *c, const char *device, const char *account, size_t n,
	     struct laps_record_list *out)
{
	struct lentry e;
	struct laps_record_list l = {NULL, 0};
	struct laps_record tmp;
	size_t i;
	int rc;

	laps_record_init(&tmp);
	if ((rc = lentry_fetch(c, device, &e)) != 0)
		return rc;
	if (e.hist == NULL && e.cur == NULL &&
	    (rc = lconn_probe_access(c, e.dn, AT_HISTORY)) != 0)
		goto out;
	for (i = 0; e.hist != NULL && e.hist[i] != NULL && i < LB_VALUES_MAX; i++) {
		if (laps_record_parse(e.hist[i]->bv_val, e.hist[i]->bv_len, &tmp) != 0) {
			log_warn("ldap: %s: ignoring an unreadable %s value: %s", e.dn, AT_HISTORY,
				 laps_errdetail());
			continue;
		}
		if (strcmp(tmp.account, account) == 0) {
			(void)snprintf(tmp.source, sizeof(tmp.source), "%s", c->desc);
			if ((rc = laps_record_list_push(&l, &tmp)) != 0)
				goto out;
		}
		laps_record_clear(&tmp);
	}
	laps_record_list_sort(&l);
	while (l.n > n)
		laps_record_clear(&l.v[--l.n]);
	laps_record_list_free(out);
	*out = l; /* success */
	l.v = NULL;
	l.n = 0;
	rc = 0;
out:
	laps_record_clear(&tmp);
	laps_record_list_free(&l);
	lentry_free(&e);
	return rc;
}

/* Report: one row per lapsCurrent value (the account's current record),
 * lapsExpiration overriding its expiry; a device without any: one row
 * without a record. */
static int
report_laps(struct lctx *c, const char *device, const struct lentry *e, laps_report_cb cb,
	    void *arg)
{
	struct laps_report_row row;
	struct laps_record tmp;
	size_t i, n = 0;
	int64_t when;
	int rc = 0;

	laps_record_init(&tmp);
	for (i = 0; e->cur != NULL && e->cur[i] != NULL && i < LB_VALUES_MAX && rc == 0; i++) {
		if (laps_record_parse(e->cur[i]->bv_val, e->cur[i]->bv_len, &tmp) != 0) {
			log_warn("ldap: report: %s: ignoring an unreadable %s value: %s", e->dn,
				 AT_CURRENT, laps_errdetail());
			continue;
		}
		memset(&row, 0, sizeof(row));
		(void)snprintf(row.device, sizeof(row.device), "%s", device);
		(void)snprintf(row.account, sizeof(row.account), "%s", tmp.account);
		row.has_record = true;
		row.state = tmp.state;
		row.rotated_at = tmp.rotated_at;
		row.expires_at = expiry_of(e, tmp.account, &when) ? when : tmp.expires_at;
		row.seq = tmp.seq;
		laps_record_clear(&tmp);
		n++;
		rc = cb(arg, &row);
	}
	laps_record_clear(&tmp);
	if (rc == 0 && n == 0) {
		memset(&row, 0, sizeof(row));
		(void)snprintf(row.device, sizeof(row.device), "%s", device);
		rc = cb(arg, &row);
	}
	(void)c;
	return rc;
}

const struct lschema lschema_laps = {
    .name = "laps",
    .caps = LAPS_BCAP_HISTORY | LAPS_BCAP_EXPIRY | LAPS_BCAP_CAS | LAPS_BCAP_FIND |
	    LAPS_BCAP_REPORT,
    .cur_attr = AT_CURRENT,
    .rid_attr = AT_ROTID,
    .hist_attr = AT_HISTORY,
    .exp_attr = AT_EXPIRY,
    .read = read_laps,
    .write = write_laps,
    .confirm_once = confirm_laps,
    .set_expiry_once = set_expiry_laps,
    .history = history_laps,
    .report_filter = "(objectClass=lapsDevice)",
    .report_rows = report_laps,
};
