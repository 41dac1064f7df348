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
 *  - simplereenroll: a device identity, for its own name only.
 * Every issuance and every refusal is an audit row (actions est_enroll,
 * est_reenroll) and an event (LAPS-3030..3032).  Nothing is answered
 * unless its audit row was written.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "escrow/err.h"
#include "escrow/events.h"
#include "escrow/log.h"
#include "escrow/record.h"
#include "server/api_impl.h"
#include "server/escrowd_conf.h"
#include "server/est.h"
#include "server/est_api.h"
#include "server/est_conf.h"
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

/* simpleenroll: may req->id have name?  0 to go on (else answered). */
static int
may_enroll(struct api *api, const struct api_request *req, const char *name,
	   struct api_response *resp)
{
	const char *action = "est_enroll";
	bool taken = false;
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
	if (is_cert_admin(api, name)) {
		refuse(api, req, 403, "forbidden",
		       "the name is an administrator's ([authz] cert_admins)", action, name, resp);
		return -1;
	}
	if ((rc = name_taken(api, name, &taken)) != 0)
		return api_store_problem(resp, rc);
	if (taken) {
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
      const char *action, struct api_response *resp)
{
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
	rc = api->store->ops->audit_append(api->store->ctx, &a);
	metrics_audit_write(rc == 0);
	if (rc != 0) {
		est_issued_clear(&out);
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

static void
enroll(struct api *api, const struct api_request *req, bool re, struct api_response *resp)
{
	const char *action = re ? "est_reenroll" : "est_enroll";
	char name[LAPS_DEVICE_MAX + 1], detail[300];
	struct est_csr *csr = NULL;

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
	} else if ((re ? may_reenroll(api, req, name, resp) : may_enroll(api, req, name, resp)) ==
		   0) {
		issue(api, req, csr, name, action, resp);
	}
	est_csr_free(csr);
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
