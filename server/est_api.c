/*
 * est_api.c — the EST routes of laps-escrowd (RFC 7030), under
 * /.well-known/est/: GET cacerts, POST simpleenroll, POST simplereenroll.
 *
 * Who may enroll what:
 *  - simpleenroll: an admin identity (bearer token or client certificate)
 *    holding the enroll right ([authz] enroll_value, default laps.enroll)
 *    on the requested name, globally or through a unit ("laps.enroll@lab").
 *    The name must be a valid device name, never a name of [authz]
 *    cert_admins (a certificate of ours must never map to an admin), and
 *    not already held: a device with escrow records is renewed by its own
 *    certificate (simplereenroll), never taken over by a new key.
 *    Or a bootstrap certificate ([est] bootstrap_ca, est_boot.h) for
 *    exactly its own name: the name's escrow records may exist (the
 *    certificate is that device's identity), an enrolled device must not
 *    hold it unless an admin allowed re-enrollment.
 *  - simplereenroll: a device identity, for its own name only.
 * Every issuance and every refusal is an audit row (actions est_enroll,
 * est_reenroll) and an event (LAPS-3030..3032).  Nothing is answered
 * unless its audit row was written.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "escrow/err.h"
#include "escrow/secret.h"
#include "escrow/events.h"
#include "escrow/log.h"
#include "escrow/record.h"
#include "server/api_impl.h"
#include "server/escrowd_conf.h"
#include "server/est.h"
#include "server/est_api.h"
#include "server/est_conf.h"
#include "server/enroll_api.h"
#include "server/store_enroll.h"
#include "server/fmt.h"

#define EST_PREFIX "/.well-known/est/"
#define PKCS7_CT "application/pkcs7-mime; smime-type=certs-only"

bool
est_path(const char *path)
{
	return strncmp(path, EST_PREFIX, sizeof EST_PREFIX - 1) == 0;
}

static bool
is_pkcs10(const char *ct)
{
	size_t n = strlen("application/pkcs10");

	if (ct == NULL || strncasecmp(ct, "application/pkcs10", n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Refuse (audit row + event) with t naming the device when known. */
static void
refuse(struct api *api, const struct api_request *req, int status, const char *code,
       const char *detail, const char *action, const char *device, struct api_response *resp)
{
	struct api_target t;

	memset(&t, 0, sizeof t);
	if (device != NULL)
		fmt_trunc(t.device, sizeof t.device, "%s", device);
	(void)api_deny(api, req, status, code, detail, action, device != NULL ? &t : NULL, resp);
}

/* Is name already held by a device (escrow records under exactly it)? */
static int
name_taken(struct api *api, const char *name, bool *taken)
{
	char(*found)[LAPS_DEVICE_MAX + 1];
	size_t n = 0, i;
	int rc;

	*taken = false;
	if ((found = calloc(16, sizeof *found)) == NULL)
		return LAPS_ERR_NOMEM;
	rc = api->store->ops->find(api->store->ctx, name, NULL, found, 16, &n);
	for (i = 0; rc == 0 && i < n; i++)
		if (strcmp(found[i], name) == 0)
			*taken = true;
	free(found);
	return rc;
}

static bool
is_cert_admin(const struct api *api, const char *name)
{
	const struct laps_authz_conf *c = laps_authz_conf(api->cfg);
	size_t i, n = strlen(name);

	for (i = 0; i < c->n_cert_admins; i++)
		if (strncasecmp(c->cert_admins[i], name, n) == 0 && c->cert_admins[i][n] == '=')
			return true;
	return false;
}

/* Held by an enrolled device whose re-enrollment no admin allowed
 * (*held), or permitted by an admin's reenroll (*permit)? */
static int
enrolled_held(struct api *api, const char *name, bool *held, bool *permit)
{
	struct enrolled_device d;
	int rc = store_enrolled_get(api->store, name, &d);

	*held = rc == 0 && !d.reenroll_allowed;
	*permit = rc == 0 && d.reenroll_allowed;
	return rc == LAPS_ERR_NOTFOUND ? 0 : rc;
}

/* simpleenroll: may req->id (tok: its enrollment token, or NULL) have
 * name?  0 to go on (else answered). */
static int
may_enroll(struct api *api, const struct api_request *req, const struct enroll_token *tok,
	   const char *name, struct api_response *resp)
{
	const char *action = "est_enroll";
	bool boot = req->bootstrap[0] != '\0';
	bool taken = false, held = false, permit = false;
	int rc;

	if (req->id->kind == ID_DEVICE) {
		refuse(api, req, 403, "forbidden",
		       "a device renews its certificate with simplereenroll", action, name, resp);
		return -1;
	}
	if ((authz_rights_on(&api->authz, req->id, name) & AUTHZ_ENROLL) == 0) {
		refuse(api, req, 403, "forbidden", "the enroll right for this name is missing",
		       action, name, resp);
		return -1;
	}
	if (boot && strcmp(name, req->bootstrap) != 0) {
		refuse(api, req, 403, "forbidden",
		       "the request must name the device of the bootstrap certificate", action,
		       name, resp);
		return -1;
	}
	if (tok != NULL && tok->pattern[0] != '\0' &&
	    fnmatch(tok->pattern, name, FNM_CASEFOLD) != 0) {
		refuse(api, req, 403, "forbidden",
		       "the name does not match the token's name pattern", action, name, resp);
		return -1;
	}
	if (is_cert_admin(api, name)) {
		refuse(api, req, 403, "forbidden",
		       "the name is an administrator's ([authz] cert_admins)", action, name, resp);
		return -1;
	}
	if ((rc = name_taken(api, name, &taken)) != 0 ||
	    (rc = enrolled_held(api, name, &held, &permit)) != 0)
		return api_store_problem(resp, rc);
	if ((taken && !permit && !boot) || held) { /* a re-imaged device keeps its records */
		refuse(api, req, 409, "name_taken",
		       "a device already holds this name; it renews with its own certificate",
		       action, name, resp);
		return -1;
	}
	return 0;
}

/* simplereenroll: a device for its own name.  0 to go on. */
static int
may_reenroll(struct api *api, const struct api_request *req, const char *name,
	     struct api_response *resp)
{
	if (req->id->kind != ID_DEVICE) {
		refuse(api, req, 403, "forbidden",
		       "simplereenroll is authenticated by the device's current certificate",
		       "est_reenroll", name, resp);
		return -1;
	}
	if (strcmp(req->id->device, name) != 0) {
		refuse(api, req, 403, "forbidden",
		       "the request must name the device of the current certificate",
		       "est_reenroll", name, resp);
		return -1;
	}
	return 0;
}

/* Issue, audit, answer. */
static void
issue(struct api *api, const struct api_request *req, const struct est_csr *csr, const char *name,
      bool re, struct api_response *resp)
{
	const char *action = re ? "est_reenroll" : "est_enroll";
	struct enrolled_device d;
	struct est_issued out;
	struct store_audit a;
	char detail[96];
	int rc;

	if (est_issue(api->est_ca, csr, name, req->now, laps_est_conf(api->cfg)->lifetime, &out) !=
	    0) {
		api_problem(resp, 500, "internal", "the certificate could not be signed");
		return;
	}
	fmt_trunc(detail, sizeof detail, "serial=%s not_after=%lld", out.serial,
		  (long long)out.not_after);
	api_audit_fill(req, action, "allowed", name, NULL, 200, detail, &a);
	memset(&d, 0, sizeof d);
	fmt_trunc(d.device, sizeof d.device, "%s", name);
	fmt_trunc(d.serial, sizeof d.serial, "%s", out.serial);
	fmt_trunc(d.via, sizeof d.via, "%s", req->id->jti[0] != '\0' ? req->id->jti : "admin");
	d.enrolled_at = req->now;
	d.not_after = out.not_after;
	rc = re ? store_enrolled_renew(api->store, &d, &a) : store_enrolled_new(api->store, &d, &a);
	metrics_audit_write(rc == 0);
	if (rc != 0) {
		est_issued_clear(&out);
		if (rc == LAPS_ERR_CONFLICT && re)
			refuse(api, req, 403, "device_disabled", "the device is disabled", action,
			       name, resp);
		else if (rc == LAPS_ERR_CONFLICT)
			refuse(api, req, 409, "name_taken", "a device already holds this name",
			       action, name, resp);
		else
			api_store_problem(resp, rc == LAPS_ERR_NOTFOUND ? LAPS_ERR_BACKEND : rc);
		return;
	}
	api_audit_log(&a);
	free(resp->body);
	resp->status = 200;
	resp->body = out.b64;
	resp->body_len = out.len;
	resp->content_type = PKCS7_CT;
}

/* The identity of an enrollment token: the enroll right on its unit. */
static void
token_identity(const struct api *api, const struct enroll_token *t, struct identity *id)
{
	size_t u;

	memset(id, 0, sizeof *id);
	id->kind = ID_ADMIN;
	fmt_trunc(id->actor, sizeof id->actor, "enroll-token:%s", t->id);
	fmt_trunc(id->jti, sizeof id->jti, "enroll-token:%s", t->id);
	for (u = 0; u < api->authz.n_units; u++)
		if (strcmp(api->authz.unit_names[u], t->unit) == 0)
			id->unit_rights[u] = AUTHZ_ENROLL;
}

/* An enrollment token in Authorization (simpleenroll only): r is req with
 * the token's identity.  0 to go on with *tok filled, 1 when there is no
 * token, -1 when answered. */
static int
token_auth(struct api *api, const struct api_request *req, struct api_request *r,
	   struct identity *id, struct enroll_token *tok, struct api_response *resp)
{
	char token[ENROLL_TOKEN_MAX + 1], why[200];
	int rc;

	if (!enroll_token_of(req->authorization, token))
		return 1;
	rc = enroll_token_check(api, token, req->now, tok, why, sizeof why);
	sodium_memzero(token, sizeof token);
	*r = *req;
	if (rc == LAPS_ERR_AUTH) {
		r->id = NULL;
		r->auth_kind = "enrollment token";
		r->auth_error = why;
		return api_unauthenticated(api, r, resp);
	}
	if (rc != 0)
		return api_store_problem(resp, rc);
	token_identity(api, tok, id);
	r->id = id;
	r->auth_error = NULL;
	return 0;
}

/* A bootstrap certificate (no enrollment token, no identity): r is req
 * with the enroll right for its own name only (may_enroll() checks the
 * name), the actor and via naming the certificate. */
static void
boot_identity(const struct api_request *req, struct api_request *r, struct identity *id)
{
	memset(id, 0, sizeof *id);
	id->kind = ID_ADMIN;
	fmt_trunc(id->actor, sizeof id->actor, "bootstrap:%s", req->bootstrap);
	fmt_trunc(id->jti, sizeof id->jti, "bootstrap:%s", req->bootstrap_serial);
	id->global = AUTHZ_ENROLL;
	*r = *req;
	r->id = id;
	r->auth_error = NULL;
}

/* Take one use of the token (the last check: two instances racing for
 * the last use cannot both win).  0 to go on. */
static int
take_use(struct api *api, const struct api_request *req, const struct enroll_token *tok,
	 const char *name, struct api_response *resp)
{
	int rc = store_enroll_token_use(api->store, tok->id, req->now);

	if (rc == LAPS_ERR_CONFLICT) {
		refuse(api, req, 403, "token_exhausted",
		       "the enrollment token is used up, expired or revoked", "est_enroll", name,
		       resp);
		return -1;
	}
	if (rc != 0)
		return api_store_problem(resp, rc);
	return 0;
}

static void
enroll(struct api *api, const struct api_request *req0, bool re, struct api_response *resp)
{
	const char *action = re ? "est_reenroll" : "est_enroll";
	char name[LAPS_DEVICE_MAX + 1], detail[300];
	const struct api_request *req = req0;
	struct enroll_token tok, *tokp = NULL;
	struct est_csr *csr = NULL;
	struct api_request r;
	struct identity id;
	int rc;

	memset(&id, 0, sizeof id);
	if (!re && (rc = token_auth(api, req0, &r, &id, &tok, resp)) <= 0) {
		if (rc < 0)
			return;
		req = &r;
		tokp = &tok;
	} else if (!re && req0->id == NULL && req0->bootstrap[0] != '\0') {
		boot_identity(req0, &r, &id);
		req = &r;
	}
	if (req->id == NULL) {
		api_unauthenticated(api, req, resp);
		return;
	}
	if (req->body_too_big) {
		api_problem(resp, 413, "body_too_large", "the request is too large");
		return;
	}
	if (!is_pkcs10(req->content_type)) {
		api_problem(resp, 415, "unsupported_media_type",
			    "send the request as Content-Type: application/pkcs10 (base64 DER)");
		return;
	}
	if (est_csr_parse(req->body, req->body_len, &csr, name) != 0) {
		fmt_trunc(detail, sizeof detail, "%s", laps_errdetail());
		refuse(api, req, 400, "invalid_request", detail, action, NULL, resp);
		return;
	}
	laps_hostname_lower(name);
	if (!laps_record_device_ok(name)) {
		refuse(api, req, 400, "invalid_request",
		       "the request's common name is not a valid device name", action, NULL, resp);
	} else if ((re ? may_reenroll(api, req, name, resp)
		       : may_enroll(api, req, tokp, name, resp)) == 0) {
		if (tokp == NULL || take_use(api, req, tokp, name, resp) == 0)
			issue(api, req, csr, name, re, resp);
	}
	est_csr_free(csr);
	laps_wipe(&id, sizeof id);
}

static void
cacerts(struct api *api, struct api_response *resp)
{
	char *b64 = NULL;
	size_t len = 0;

	if (est_cacerts(api->est_ca, &b64, &len) != 0) {
		api_problem(resp, 500, "internal", "out of memory");
		return;
	}
	resp->status = 200;
	resp->body = b64;
	resp->body_len = len;
	resp->content_type = PKCS7_CT;
}

/* The rate limit of api.c's gate, for EST's routes.  0 to go on. */
static int
rate_limit(struct api *api, const struct api_request *req, struct api_response *resp)
{
	char key[AUTHZ_NAME_MAX + 64];
	unsigned retry;

	if (api->rl == NULL)
		return 0;
	if (req->id != NULL)
		fmt_trunc(key, sizeof key, "%s", req->id->actor);
	else
		fmt_trunc(key, sizeof key, "peer:%s", req->peer);
	if ((retry = ratelimit_take(api->rl, key, req->now_ms)) == 0)
		return 0;
	metrics_rate_limited();
	log_event(LAPS_EV_RATE_LIMITED, "rate limited: %s", key);
	resp->retry_after = retry;
	return api_problem(resp, 429, "rate_limited", "too many requests; retry later");
}

void
est_handle(struct api *api, const struct api_request *req, struct api_response *resp)
{
	const char *op = req->path + sizeof EST_PREFIX - 1;
	bool get = strcmp(op, "cacerts") == 0;
	bool re = strcmp(op, "simplereenroll") == 0;

	if (api->est_ca == NULL || (!get && !re && strcmp(op, "simpleenroll") != 0)) {
		api_problem(resp, 404, "not_found", "no such resource");
		return;
	}
	if (strcmp(req->method, get ? "GET" : "POST") != 0) {
		resp->allow = get ? "GET" : "POST";
		api_problem(resp, 405, "method_not_allowed", "method not allowed on this resource");
		return;
	}
	if (rate_limit(api, req, resp) != 0)
		return;
	if (get)
		cacerts(api, resp);
	else
		enroll(api, req, re, resp);
}
