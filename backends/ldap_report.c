/*
 * ldap_report.c — the LDAP backend's report slot (laps-get report, issue
 * 14): every device entry under [ldap] base with the metadata of its
 * records, in ONE subtree search with the paged-results control (RFC 2696),
 * so a directory of 100,000 devices is read within the server's size limit.
 * Entries are handled one at a time as they arrive (LDAP_MSG_ONE) and
 * freed: memory stays bounded by one page.  Password attributes are never
 * requested and nothing is decrypted.  Each schema turns one entry into
 * rows (struct lschema.report_rows).
 */
#include "config.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ldap_int.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/record.h"
#include "backends/ldap_conf.h"

/* The device name of an entry: its cn, lower-case; false if it is not a
 * valid host name (untrusted: a NUL, a control character ...). */
static bool
device_of(struct lctx *c, LDAPMessage *m, char dev[LAPS_DEVICE_MAX + 1])
{
	struct berval **cn = ldap_get_values_len(c->ld, m, "cn");
	bool ok = false;

	if (cn != NULL && cn[0] != NULL && cn[0]->bv_len > 0 && cn[0]->bv_len <= LAPS_DEVICE_MAX &&
	    memchr(cn[0]->bv_val, '\0', cn[0]->bv_len) == NULL) {
		memcpy(dev, cn[0]->bv_val, cn[0]->bv_len);
		dev[cn[0]->bv_len] = '\0';
		laps_hostname_lower(dev);
		ok = laps_record_device_ok(dev);
	}
	lvals_free(cn, false);
	return ok;
}

/* One entry message: its rows through cb.  An entry we cannot read (bad
 * DN, bad name, oversized) is skipped with a warning: one broken entry
 * must not hide the rest of the fleet. */
static int
report_entry(struct lctx *c, LDAPMessage *m, laps_report_cb cb, void *arg)
{
	char dev[LAPS_DEVICE_MAX + 1];
	struct lentry e;
	int rc;

	memset(&e, 0, sizeof(e));
	if ((rc = lentry_take(c, m, &e)) != 0) {
		log_warn("ldap: report: skipping an entry: %s", laps_errdetail());
		rc = 0;
		goto out;
	}
	if (!device_of(c, m, dev)) {
		log_warn("ldap: report: skipping %s: no valid host name in cn", e.dn);
		goto out;
	}
	rc = c->schema->report_rows(c, dev, &e, cb, arg);
out:
	lentry_free(&e);
	return rc;
}

/* The final result of one page: its code and the cookie of the next page
 * (cookie->bv_len 0: this was the last). */
static int
page_done(struct lctx *c, LDAPMessage *res, struct berval *cookie)
{
	LDAPControl **ctrls = NULL, *pc;
	char *diag = NULL;
	ber_int_t count = 0;
	int lrc = LDAP_OTHER, rc;

	rc = ldap_parse_result(c->ld, res, &lrc, NULL, &diag, NULL, &ctrls, 1);
	if (rc != LDAP_SUCCESS) {
		rc = lconn_error(c, rc, "report search", NULL);
		goto out;
	}
	if (lrc != LDAP_SUCCESS) {
		rc = lconn_error(c, lrc, "report search (paged)", diag);
		goto out;
	}
	ber_memfree(cookie->bv_val);
	cookie->bv_val = NULL;
	cookie->bv_len = 0;
	pc = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);
	if (pc != NULL && ldap_parse_pageresponse_control(c->ld, pc, &count, cookie) != LDAP_SUCCESS) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "ldap: report search on %s: bad paged-results "
						  "response", c->uri);
		goto out;
	}
	rc = 0;
out:
	ldap_controls_free(ctrls);
	ldap_memfree(diag);
	return rc;
}

/* Read one page, streaming its entries to cb. */
static int
report_page(struct lctx *c, int msgid, laps_report_cb cb, void *arg, struct berval *cookie)
{
	LDAPMessage *m = NULL;
	int rc, t;

	for (;;) {
		struct timeval tv = c->tv;

		rc = ldap_result(c->ld, msgid, LDAP_MSG_ONE, &tv, &m);
		if (rc == 0)
			return laps_seterr(LAPS_ERR_TIMEOUT,
					   "ldap: report search on %s: no answer within %ld s",
					   c->uri, (long)c->tv.tv_sec);
		if (rc < 0) {
			int lrc = LDAP_SERVER_DOWN;

			(void)ldap_get_option(c->ld, LDAP_OPT_RESULT_CODE, &lrc);
			return lconn_error(c, lrc, "report search", NULL);
		}
		t = ldap_msgtype(m);
		if (t == LDAP_RES_SEARCH_RESULT)
			return page_done(c, m, cookie); /* frees m */
		rc = t == LDAP_RES_SEARCH_ENTRY ? report_entry(c, m, cb, arg) : 0;
		ldap_msgfree(m); /* references: ignored, never chased */
		if (rc != 0)
			return rc;
	}
}

int
lreport_run(struct lctx *c, laps_report_cb cb, void *arg)
{
	const struct lschema *s = c->schema;
	const char *attrs[] = {"cn", s->cur_attr ? s->cur_attr : s->exp_attr,
			       s->cur_attr ? s->exp_attr : NULL, NULL};
	struct berval cookie = {0, NULL};
	LDAPControl *page = NULL, *ctrls[2] = {NULL, NULL};
	int msgid = -1, rc, lrc;

	if (laps_ldap_conf(c->cfg)->base == NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "ldap: report needs [ldap] base");
	do {
		lrc = ldap_create_page_control(c->ld, LB_REPORT_PAGE, cookie.bv_len ? &cookie : NULL,
					       1, &page);
		if (lrc != LDAP_SUCCESS) {
			rc = lconn_error(c, lrc, "creating the paged-results control", NULL);
			goto out;
		}
		ctrls[0] = page;
		lrc = ldap_search_ext(c->ld, laps_ldap_conf(c->cfg)->base, LDAP_SCOPE_SUBTREE,
				      s->report_filter, (char **)(uintptr_t)attrs, 0, ctrls, NULL,
				      &c->tv, LDAP_NO_LIMIT, &msgid);
		ldap_control_free(page);
		page = NULL;
		if (lrc != LDAP_SUCCESS) {
			rc = lconn_error(c, lrc, "report search", NULL);
			goto out;
		}
		if ((rc = report_page(c, msgid, cb, arg, &cookie)) != 0) {
			(void)ldap_abandon_ext(c->ld, msgid, NULL, NULL);
			goto out;
		}
	} while (cookie.bv_len > 0);
	rc = 0;
out:
	ber_memfree(cookie.bv_val);
	return rc;
}
