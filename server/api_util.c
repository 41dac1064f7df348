/*
 * api_util.c — problem+json answers, audit rows for denials, query
 * parameters and the metadata document of REST v1.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/events.h"
#include "escrow/fileio.h"
#include "server/fmt.h"
#include "escrow/log.h"
#include "escrow/record.h"
#include "server/api_impl.h"
#include "server/notify.h"

static const struct {
	int status;
	const char *title;
} titles[] = {
    {400, "Bad request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not found"},
    {405, "Method not allowed"},
    {409, "Conflict"},
    {412, "Precondition failed"},
    {413, "Content too large"},
    {414, "URI too long"},
    {431, "Request header fields too large"},
    {415, "Unsupported media type"},
    {422, "Unprocessable content"},
    {428, "Precondition required"},
    {429, "Too many requests"},
    {500, "Internal server error"},
    {503, "Service unavailable"},
};

static const char *
title_of(int status)
{
	size_t i;

	for (i = 0; i < sizeof titles / sizeof titles[0]; i++)
		if (titles[i].status == status)
			return titles[i].title;
	return "Error";
}

static char *
to_string(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);

	return s != NULL ? strdup(s) : NULL;
}

int
api_problem(struct api_response *resp, int status, const char *code, const char *detail)
{
	json_object *o = json_object_new_object();
	char type[128];

	free(resp->body);
	resp->body = NULL;
	resp->status = status;
	resp->content_type = "application/problem+json";
	fmt_trunc(type, sizeof type, "https://laps.invalid/problems/%s", code);
	if (o != NULL) {
		json_object_object_add(o, "type", json_object_new_string(type));
		json_object_object_add(o, "title", json_object_new_string(title_of(status)));
		json_object_object_add(o, "status", json_object_new_int(status));
		json_object_object_add(o, "detail", json_object_new_string(detail));
		json_object_object_add(o, "code", json_object_new_string(code));
		resp->body = to_string(o);
		json_object_put(o);
	}
	resp->body_len = resp->body != NULL ? strlen(resp->body) : 0;
	if (status == 401)
		resp->www_authenticate = true;
	return -1;
}

void
api_take_body(struct api_response *resp, int status, char *json)
{
	free(resp->body);
	resp->body = json;
	if (json == NULL) {
		api_problem(resp, 500, "internal", "out of memory");
		return;
	}
	resp->status = status;
	resp->body_len = strlen(json);
	resp->content_type = "application/json";
}

void
api_set_body(struct api_response *resp, int status, const char *json)
{
	api_take_body(resp, status, strdup(json));
}

void
api_set_etag(struct api_response *resp, int64_t version)
{
	fmt_trunc(resp->etag, sizeof resp->etag, "\"v%lld\"", (long long)version);
}

int
api_store_problem(struct api_response *resp, int rc)
{
	char buf[256];

	switch (rc) {
	case LAPS_ERR_NOTFOUND:
		return api_problem(resp, 404, "not_found", "no such record");
	case LAPS_ERR_CONFLICT:
		return api_problem(resp, 412, "version_mismatch",
				   "the record changed since it was read (or exists already)");
	case LAPS_ERR_NOMEM:
		return api_problem(resp, 500, "internal", "out of memory");
	default:
		break;
	}
	metrics_store_error();
	log_event(LAPS_EV_STORE_FAILED, "store: %s", laps_errstr(rc, buf, sizeof buf));
	resp->retry_after = 5;
	return api_problem(resp, 503, "unavailable", "the store failed; nothing was changed");
}

/* ------------------------------------------------------------------ */
/* Audit                                                               */

void
api_audit_fill(const struct api_request *req, const char *action, const char *outcome,
	       const char *device, const char *account, int status, const char *detail,
	       struct store_audit *a)
{
	const struct identity *id = req->id;

	memset(a, 0, sizeof *a);
	a->time = req->now;
	a->actor = id != NULL ? id->actor : "-";
	a->kind = id == NULL ? "anonymous" : id->kind == ID_DEVICE ? "device" : "admin";
	a->jti = id != NULL && id->jti[0] != '\0' ? id->jti : NULL;
	a->device = device;
	a->account = account;
	a->action = action;
	a->outcome = outcome;
	a->status = status;
	a->peer = req->peer;
	a->detail = detail;
}

/* The event of an audit line (docs/EVENTS.md): by outcome, then action. */
static unsigned
audit_event(const struct store_audit *a)
{
	bool est = strncmp(a->action, "est_", 4) == 0;

	if (strcmp(a->action, "est_bootstrap") == 0)
		return LAPS_EV_EST_BOOTSTRAP_ONLY;
	if (strcmp(a->outcome, "allowed") != 0)
		return est ? LAPS_EV_EST_REFUSED : LAPS_EV_ACCESS_DENIED;
	if (est)
		return strcmp(a->action, "est_reenroll") == 0 ? LAPS_EV_EST_RENEWED
							      : LAPS_EV_EST_ENROLLED;
	if (strcmp(a->action, "break_glass_read") == 0)
		return LAPS_EV_BREAK_GLASS_READ;
	if (strcmp(a->action, "read_secret") == 0 || strcmp(a->action, "read_history") == 0)
		return LAPS_EV_SECRET_READ;
	if (strcmp(a->action, "expire") == 0)
		return LAPS_EV_EXPIRY_SET;
	return LAPS_EV_RECORD_CHANGED;
}

void
api_audit_log(const struct store_audit *a)
{
	notify_audit(a);
	laps_log_event(audit_event(a), "audit",
		     "actor=%s kind=%s action=%s device=%s account=%s outcome=%s status=%d "
		     "peer=%s jti=%s%s%s",
		     a->actor, a->kind, a->action, a->device != NULL ? a->device : "-",
		     a->account != NULL ? a->account : "-", a->outcome, a->status,
		     a->peer != NULL ? a->peer : "-", a->jti != NULL ? a->jti : "-",
		     a->detail != NULL ? " detail=" : "", a->detail != NULL ? a->detail : "");
}

int
api_deny(struct api *api, const struct api_request *req, int status, const char *code,
	 const char *detail, const char *action, const struct api_target *t,
	 struct api_response *resp)
{
	struct store_audit a;
	int rc;

	api_audit_fill(req, action, "denied", t != NULL ? t->device : NULL,
		       t != NULL ? t->account : NULL, status, detail, &a);
	rc = api->store->ops->audit_append(api->store->ctx, &a);
	metrics_audit_write(rc == 0);
	api_audit_log(&a);
	if (rc != 0)
		return api_store_problem(resp, rc == LAPS_ERR_NOTFOUND ? LAPS_ERR_BACKEND : rc);
	return api_problem(resp, status, code, detail);
}

int
api_deny_device(struct api *api, const struct api_request *req, const char *action,
		const struct api_target *t, struct api_response *resp)
{
	char detail[300];

	fmt_trunc(detail, sizeof detail,
		  "this client was taken for the device '%s' (its certificate name is not in "
		  "[authz] cert_admins): a device may not do this",
		  req->id->device);
	return api_deny(api, req, 403, "forbidden", detail, action, t, resp);
}

int
api_unauthenticated(struct api *api, const struct api_request *req, struct api_response *resp)
{
	char detail[300];

	if (req->auth_error == NULL)
		return api_problem(resp, 401, "unauthenticated",
				   "send a bearer access token or a client certificate");
	metrics_auth_failure(req->auth_kind != NULL ? req->auth_kind : "identity");
	fmt_trunc(detail, sizeof detail, "%s refused: %s",
			    req->auth_kind != NULL ? req->auth_kind : "credential", req->auth_error);
	resp->invalid_token = true;
	return api_deny(api, req, 401, "unauthenticated", detail,
			req->bootstrap[0] != '\0' ? "est_bootstrap" : "authenticate", NULL, resp);
}

/* ------------------------------------------------------------------ */
/* Query parameters                                                    */

int
api_params_check(const struct api_request *req, const char *const *allowed,
		 struct api_response *resp)
{
	size_t i, j;
	bool ok;

	for (i = 0; i < req->n_params; i++) {
		for (ok = false, j = 0; allowed[j] != NULL && !ok; j++)
			ok = strcmp(req->params[i].key, allowed[j]) == 0;
		if (!ok)
			return api_problem(resp, 400, "invalid_parameter", "unknown query parameter");
		for (j = 0; j < i; j++)
			if (strcmp(req->params[i].key, req->params[j].key) == 0)
				return api_problem(resp, 400, "invalid_parameter",
						   "a query parameter is repeated");
	}
	return 0;
}

const char *
api_param(const struct api_request *req, const char *key)
{
	size_t i;

	for (i = 0; i < req->n_params; i++)
		if (strcmp(req->params[i].key, key) == 0)
			return req->params[i].value != NULL ? req->params[i].value : "";
	return NULL;
}

int
api_param_int(const struct api_request *req, const char *key, long long lo, long long hi,
	      long long dflt, long long *out, struct api_response *resp)
{
	const char *v = api_param(req, key);
	char detail[128];

	*out = dflt;
	if (v == NULL)
		return 0;
	if (laps_parse_int64(v, lo, hi, out) != 0) {
		fmt_trunc(detail, sizeof detail, "%s must be an integer in %lld..%lld",
				    key, lo, hi);
		return api_problem(resp, 400, "invalid_parameter", detail);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Metadata                                                            */

int
api_metadata(const struct store_entry *e, char **out)
{
	struct laps_record r;
	json_object *o = NULL, *keys;
	size_t i;
	int rc;

	*out = NULL;
	laps_record_init(&r);
	if ((rc = laps_record_parse(e->json, e->json_len, &r)) != 0)
		goto out;
	rc = LAPS_ERR_NOMEM;
	if ((o = json_object_new_object()) == NULL || (keys = json_object_new_array()) == NULL)
		goto out;
	json_object_object_add(o, "device", json_object_new_string(r.device));
	json_object_object_add(o, "account", json_object_new_string(r.account));
	json_object_object_add(o, "uid", json_object_new_int64(r.uid));
	json_object_object_add(o, "rotation_id", json_object_new_string(r.rotation_id));
	json_object_object_add(o, "state", json_object_new_string(laps_record_state_name(r.state)));
	json_object_object_add(o, "rotated_at", json_object_new_int64(r.rotated_at));
	json_object_object_add(o, "expires_at", json_object_new_int64(r.expires_at));
	json_object_object_add(o, "seq", json_object_new_int64(e->seq));
	for (i = 0; i < r.n_key_ids; i++)
		json_object_array_add(keys, json_object_new_string(r.key_ids[i]));
	json_object_object_add(o, "key_ids", keys);
	if ((*out = to_string(o)) != NULL)
		rc = 0;
out:
	json_object_put(o);
	laps_record_clear(&r);
	return rc;
}
