/*
 * ldap_backend.c — the LDAP escrow backend's ops table: OpenLDAP and Active
 * Directory, schema modes laps (ldap_laps.c), mslaps and legacy
 * (ldap_ms.c), the report (ldap_report.c), over the connection of
 * ldap_conn.c and the entry helpers of ldap_entry.c.  This file checks the
 * arguments, finds devices by name, and dispatches through the per-schema
 * table (struct lschema, ldap_int.h); the files it dispatches to never call
 * back into it.  See docs/LDAP.md.
 */
#include "config.h"

#include <ldap.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ldap_int.h"
#include "escrow/backend.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/record.h"
#include "backends/ldap_conf.h"

/* ------------------------------------------------------------------ */
/* The ops table                                                        */

static const struct lschema *
schema_of(enum laps_ldap_schema s)
{
	switch (s) {
	case LAPS_SCHEMA_MSLAPS:
		return &lschema_mslaps;
	case LAPS_SCHEMA_LEGACY:
		return &lschema_legacy;
	default:
		return &lschema_laps;
	}
}

/* LB_RACE_LOST never leaves the backend. */
static int
public_rc(int rc)
{
	return rc == LB_RACE_LOST ? LAPS_ERR_CONFLICT : rc;
}

static void
backend_close(void *vctx)
{
	struct lctx *c = vctx;

	if (c == NULL)
		return;
	lconn_close(c);
	lenc_close(c);
	free(c);
}

/*
 * libldap writes to its sockets with write(): a server that dies under us
 * would kill the process with SIGPIPE instead of giving LAPS_ERR_UNAVAILABLE.
 * Ignore SIGPIPE unless the program installed its own handler.
 */
static void
ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL &&
	    !(sa.sa_flags & SA_SIGINFO)) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		(void)sigemptyset(&sa.sa_mask);
		(void)sigaction(SIGPIPE, &sa, NULL);
	}
}

static int
backend_open(const struct laps_conf *cfg, enum laps_backend_role role,
	     const struct laps_backend_env *env, void **out)
{
	const struct lschema *s = schema_of(laps_ldap_conf(cfg)->schema);
	struct lctx *c;
	int rc;

	*out = NULL;
	if (s->single_account && role == LAPS_ROLE_AGENT && env->n_accounts > 1)
		return laps_seterr(
		    LAPS_ERR_UNSUPPORTED,
		    "ldap: schema %s stores one account per device (%zu configured); "
		    "use schema = laps for several accounts",
		    s->name, env->n_accounts);
	ignore_sigpipe();
	lconn_sasl_prepare(cfg);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return LAPS_ERR_NOMEM;
	c->cfg = cfg;
	c->env = *env;
	c->schema = s;
	c->role = role;
	c->tv.tv_sec = laps_ldap_conf(cfg)->timeout > 0 ? (time_t)laps_ldap_conf(cfg)->timeout : 10;
	c->tv.tv_usec = 0;
	c->caps = s->caps;
	/* encrypted Windows LAPS: msLAPS-EncryptedPasswordHistory */
	if (s->enc_attr != NULL && (laps_ldap_conf(cfg)->encrypt_to != NULL ||
				    laps_ldap_conf(cfg)->gkdi_root_key_file != NULL))
		c->caps |= LAPS_BCAP_HISTORY;
	(void)snprintf(c->desc, sizeof(c->desc), "ldap (schema %s)", s->name);
	if (laps_ldap_conf(cfg)->tls == LAPS_TLS_NONE)
		log_warn("ldap: tls = none: the directory connection is not encrypted or "
			 "authenticated (bind secrets%s travel in clear)",
			 s->pw_attr != NULL ? " and passwords" : "");
	if ((rc = lconn_connect(c)) != 0) {
		backend_close(c);
		return rc;
	}
	*out = c; /* success */
	return 0;
}

static bool
args_ok(const char *device, const char *account)
{
	return device != NULL && account != NULL && laps_record_device_ok(device) &&
	       laps_record_account_ok(account);
}

static int
backend_read(void *vctx, const char *device, const char *account, struct laps_record *out,
	     struct laps_version *ver)
{
	struct lctx *c = vctx;

	ver->tag[0] = '\0';
	if (!args_ok(device, account))
		return laps_seterr(LAPS_ERR_INVALID, "ldap: invalid device or account name");
	return public_rc(c->schema->read(c, device, account, out, ver));
}

static int
backend_write(void *vctx, const struct laps_record *rec, const char *password,
	      const struct laps_version *expected, struct laps_version *newver)
{
	struct lctx *c = vctx;

	if (!args_ok(rec->device, rec->account))
		return laps_seterr(LAPS_ERR_INVALID, "ldap: invalid device or account name");
	return public_rc(c->schema->write(c, rec, password, expected, newver));
}

static int
backend_confirm(void *vctx, const char *device, const char *account, const char *rotation_id,
		int64_t expires_at)
{
	struct lctx *c = vctx;
	int rc = LAPS_ERR_INTERNAL, i;

	if (!args_ok(device, account) || rotation_id == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "ldap: invalid arguments");
	/* a lost race against set_expiry is retried; a different rotation is not */
	for (i = 0; i < LB_CONFLICT_RETRIES; i++) {
		rc = c->schema->confirm_once(c, device, account, rotation_id, expires_at);
		if (rc != LB_RACE_LOST)
			break;
	}
	return public_rc(rc);
}

static int
backend_history(void *vctx, const char *device, const char *account, size_t n,
		struct laps_record_list *out)
{
	struct lctx *c = vctx;

	if (!args_ok(device, account))
		return laps_seterr(LAPS_ERR_INVALID, "ldap: invalid device or account name");
	if (c->schema->history == NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED,
				   "ldap: schema %s keeps no history (Windows LAPS keeps history "
				   "only for encrypted passwords)",
				   c->schema->name);
	return public_rc(c->schema->history(c, device, account, n, out));
}

static int
backend_set_expiry(void *vctx, const char *device, const char *account, int64_t when)
{
	struct lctx *c = vctx;
	int rc = LAPS_ERR_INTERNAL, i;

	if (!args_ok(device, account))
		return laps_seterr(LAPS_ERR_INVALID, "ldap: invalid device or account name");
	for (i = 0; i < LB_CONFLICT_RETRIES; i++) {
		rc = c->schema->set_expiry_once(c, device, account, when);
		if (rc != LB_RACE_LOST)
			break;
	}
	return public_rc(rc);
}

/* Copy a found entry's cn into devices[*found] if it is a valid name. */
static void
find_take(struct lctx *c, LDAPMessage *m, char (*devices)[LAPS_DEVICE_MAX + 1], size_t max,
	  size_t *found)
{
	struct berval **cn = ldap_get_values_len(c->ld, m, "cn");

	if (cn != NULL && cn[0] != NULL && cn[0]->bv_len <= LAPS_DEVICE_MAX && *found < max) {
		memcpy(devices[*found], cn[0]->bv_val, cn[0]->bv_len);
		devices[*found][cn[0]->bv_len] = '\0';
		laps_hostname_lower(devices[*found]);
		/* untrusted: shown to the user, used as a device name; a NUL,
		 * control character ... is skipped */
		if (strlen(devices[*found]) == cn[0]->bv_len &&
		    laps_record_device_ok(devices[*found]))
			(*found)++;
	}
	lvals_free(cn, false);
}

/* The filter that finds name: a short name matches cn or the first label
 * of dNSHostName; an FQDN must match dNSHostName when the entry has one. */
static int
find_filter(const char *name, char filter[LB_FILTER_MAX])
{
	const char *tmpl = strchr(name, '.') != NULL
			       ? "(|(dNSHostName=%f)(&(cn=%h)(!(dNSHostName=*))))"
			       : "(|(cn=%h)(dNSHostName=%f)(dNSHostName=%h.*))";

	return laps_ldap_filter_expand(tmpl, name, filter, LB_FILTER_MAX);
}

static int
backend_find(void *vctx, const char *name, char (*devices)[LAPS_DEVICE_MAX + 1], size_t max,
	     size_t *n)
{
	struct lctx *c = vctx;
	char filter[LB_FILTER_MAX], *diag = NULL;
	const char *attrs[] = {"cn", NULL};
	LDAPMessage *res = NULL, *m;
	int msgid, rc, lrc;
	size_t found = 0;

	*n = 0;
	if (name == NULL || !laps_record_device_ok(name))
		return laps_seterr(LAPS_ERR_INVALID, "ldap: invalid host name");
	if (laps_ldap_conf(c->cfg)->base == NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "ldap: find needs [ldap] base");
	if ((rc = find_filter(name, filter)) != 0)
		return rc;
	rc =
	    ldap_search_ext(c->ld, laps_ldap_conf(c->cfg)->base, LDAP_SCOPE_SUBTREE, filter,
			    (char **)(uintptr_t)attrs, 0, NULL, NULL, &c->tv, (int)max + 1, &msgid);
	if (rc != LDAP_SUCCESS)
		return lconn_error(c, rc, "search", NULL);
	if ((rc = lconn_wait(c, msgid, "search", &res)) != 0)
		return rc;
	for (m = ldap_first_message(c->ld, res); m != NULL; m = ldap_next_message(c->ld, m)) {
		int t = ldap_msgtype(m);

		if (t == LDAP_RES_SEARCH_ENTRY) {
			find_take(c, m, devices, max, &found);
		} else if (t == LDAP_RES_SEARCH_RESULT) {
			rc = ldap_parse_result(c->ld, m, &lrc, NULL, &diag, NULL, NULL, 0);
			if (rc == LDAP_SUCCESS && lrc != LDAP_SUCCESS &&
			    lrc != LDAP_SIZELIMIT_EXCEEDED) {
				rc = lconn_error(c, lrc, "search", diag);
				goto out;
			}
		}
	}
	*n = found;
	rc = found > 0 ? 0
		       : laps_seterr(LAPS_ERR_NOTFOUND, "ldap: no device matches %s under %s",
				     filter, laps_ldap_conf(c->cfg)->base);
out:
	ldap_memfree(diag);
	ldap_msgfree(res);
	return rc;
}

static int
backend_report(void *vctx, laps_report_cb cb, void *arg)
{
	struct lctx *c = vctx;

	if (cb == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "ldap: report without a callback");
	return lreport_run(c, cb, arg);
}

static unsigned
backend_caps_of(void *vctx)
{
	const struct lctx *c = vctx;

	return c->caps;
}

static const char *
backend_describe(void *vctx)
{
	const struct lctx *c = vctx;

	return c->desc;
}

const struct laps_backend_ops laps_backend_ldap = {
    .name = "ldap",
    .caps = LAPS_BCAP_HISTORY | LAPS_BCAP_EXPIRY | LAPS_BCAP_CAS | LAPS_BCAP_FIND |
	    LAPS_BCAP_REPORT,
    .open = backend_open,
    .close = backend_close,
    .read = backend_read,
    .write = backend_write,
    .confirm = backend_confirm,
    .history = backend_history,
    .set_expiry = backend_set_expiry,
    .find = backend_find,
    .report = backend_report,
    .check = lcheck_tls_files,
    .caps_of = backend_caps_of,
    .describe = backend_describe,
};
