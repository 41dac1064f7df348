/*
 * api.c — routing, checks and answers of REST v1 (docs/REST-API.md).
 *
 * api_handle: route -> method -> operational endpoints -> rate limit ->
 * authentication -> body checks -> the route's handler.  Handlers decide
 * authorisation (authz.h) and call the store; every denial and every
 * secret read, history read and expire leaves an audit row (api_util.c),
 * in the store transaction of the operation where there is one.  The
 * handlers (api_routes.c, api_list.c) call api_util.c and api_parse.c,
 * never this file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/events.h"
#include "escrow/fileio.h"
#include "server/fmt.h"
#include "escrow/log.h"
#include "escrow/record.h"
#include "server/api.h"
#include "server/api_impl.h"
#include "server/est.h"
#include "server/est_api.h"
#include "server/enroll_api.h"
#include "server/device_api.h"

/* ------------------------------------------------------------------ */
/* Routing                                                             */

struct route_def {
	enum metrics_route route;
	const char *allow; /* methods, as in the Allow header */
	const char *suffix; /* after /v1/devices/{d}/accounts/{a}; NULL: fixed path */
	const char *path;
};

/* clang-format off */
static const struct route_def routes[] = {
    {MR_HEALTHZ, "GET", NULL, "/healthz"},
    {MR_READYZ, "GET", NULL, "/readyz"},
    {MR_METRICS, "GET", NULL, "/metrics"},
    {MR_DEVICES, "GET", NULL, "/v1/devices"},
    {MR_REPORT, "GET", NULL, "/v1/report"},
    {MR_REPORT_SUMMARY, "GET", NULL, "/v1/report/summary"},
    {MR_AUDIT, "GET", NULL, "/v1/audit"},
    {MR_BULK_EXPIRE, "POST", NULL, "/v1/expire"},
    {MR_APPROVALS, "GET", NULL, "/v1/approvals"},
    {MR_APPROVAL_REQUEST, "POST", "/approval-request", NULL},
    {MR_META, "GET", "", NULL},
    {MR_RECORD, "GET, PUT", "/record", NULL},
    {MR_HISTORY, "GET", "/history", NULL},
    {MR_CONFIRM, "POST", "/confirm", NULL},
    {MR_EXPIRE, "POST", "/expire", NULL},
};
/* clang-format on */
#define N_ROUTES (sizeof routes / sizeof routes[0])
/* POST /v1/approvals/{id}/approve|deny (api_approval.c checks the rest) */
static const struct route_def approval_decide_route = {MR_APPROVAL_DECIDE, "POST", NULL, NULL};

/* Split "/v1/devices/D/accounts/A[SUFFIX]": D and A (raw, not checked). */
static bool
split_device_path(const char *path, const char **d, size_t *dlen, const char **a, size_t *alen,
		  const char **suffix)
{
	static const char pre[] = "/v1/devices/";
	const char *p;

	if (strncmp(path, pre, sizeof pre - 1) != 0)
		return false;
	*d = path + sizeof pre - 1;
	*dlen = strcspn(*d, "/");
	if (*dlen == 0 || strncmp(*d + *dlen, "/accounts/", 10) != 0)
		return false;
	*a = *d + *dlen + 10;
	*alen = strcspn(*a, "/");
	if (*alen == 0)
		return false;
	p = *a + *alen;
	*suffix = p;
	return true;
}

static const struct route_def *
find_route(const char *path)
{
	const char *d, *a, *suffix;
	size_t dlen, alen, i;

	if (strlen(path) > API_URL_MAX)
		return NULL;
	for (i = 0; i < N_ROUTES; i++)
		if (routes[i].path != NULL && strcmp(routes[i].path, path) == 0)
			return &routes[i];
	if (strncmp(path, "/v1/approvals/", 14) == 0)
		return &approval_decide_route;
	if (!split_device_path(path, &d, &dlen, &a, &alen, &suffix))
		return NULL;
	for (i = 0; i < N_ROUTES; i++)
		if (routes[i].suffix != NULL && strcmp(routes[i].suffix, suffix) == 0)
			return &routes[i];
	return NULL;
}

enum metrics_route
api_route_of(const char *path)
{
	const struct route_def *r = find_route(path);

	return r != NULL ? r->route : MR_UNKNOWN;
}

size_t
api_body_cap(const char *method, const char *path)
{
	if (strcmp(method, "PUT") == 0 && api_route_of(path) == MR_RECORD)
		return API_BODY_MAX_RECORD;
	if (est_path(path))
		return EST_BODY_MAX;
	return API_BODY_MAX_OTHER;
}

enum metrics_method
api_method_of(const char *method)
{
	if (strcmp(method, "GET") == 0)
		return MM_GET;
	if (strcmp(method, "PUT") == 0)
		return MM_PUT;
	if (strcmp(method, "POST") == 0)
		return MM_POST;
	return MM_OTHER;
}

static bool
method_allowed(const struct route_def *r, const char *method)
{
	const char *p = r->allow;
	size_t n = strlen(method), len;

	while (*p != '\0') {
		len = strcspn(p, ",");
		if (len == n && strncmp(p, method, n) == 0)
			return true;
		p += len;
		p += strspn(p, ", ");
	}
	return false;
}

/* Device and account from the path into t; 0 or a 400 problem. */
static int
target_of(const struct api_request *req, struct api_target *t, struct api_response *resp)
{
	const char *d, *a, *suffix;
	size_t dlen, alen;

	if (!split_device_path(req->path, &d, &dlen, &a, &alen, &suffix) ||
	    dlen > LAPS_DEVICE_MAX || alen > LAPS_ACCOUNT_MAX)
		return api_problem(resp, 400, "invalid_parameter",
				   "the device or account name in the path is too long");
	memcpy(t->device, d, dlen);
	t->device[dlen] = '\0';
	memcpy(t->account, a, alen);
	t->account[alen] = '\0';
	laps_hostname_lower(t->device);
	if (!laps_record_device_ok(t->device))
		return api_problem(resp, 400, "invalid_parameter",
				   "the device in the path is not a valid device name");
	if (!laps_record_account_ok(t->account))
		return api_problem(resp, 400, "invalid_parameter",
				   "the account in the path is not a valid account name");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Operational endpoints                                               */

static void
ops_endpoint(struct api *api, enum metrics_route route, struct api_response *resp)
{
	char *text = NULL;
	size_t len = 0;

	switch (route) {
	case MR_HEALTHZ:
		api_set_body(resp, 200, "{\"status\":\"ok\"}");
		return;
	case MR_READYZ:
		if (api->store->ops->ping(api->store->ctx) != 0) {
			metrics_store_error();
			resp->retry_after = 5;
			api_problem(resp, 503, "unavailable", "the store does not answer");
			return;
		}
		api_set_body(resp, 200, "{\"status\":\"ready\"}");
		return;
	default:
		break;
	}
	if (!api->metrics) {
		api_problem(resp, 404, "not_found", "no such resource");
		return;
	}
	if (metrics_render(&text, &len) != 0) {
		api_problem(resp, 500, "internal", "out of memory");
		return;
	}
	resp->status = 200;
	resp->body = text;
	resp->body_len = len;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */

static bool
is_json(const char *ct)
{
	size_t n = strlen("application/json");

	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Rate limit, authentication, body checks.  0 to go on. */
static int
gate(struct api *api, const struct api_request *req, struct api_response *resp)
{
	char key[AUTHZ_NAME_MAX + 64];
	unsigned retry;

	if (api->rl != NULL) {
		fmt_trunc(key, sizeof key, "%s", req->id != NULL ? req->id->actor : "");
		if (req->id == NULL)
			fmt_trunc(key, sizeof key, "peer:%s", req->peer);
		if ((retry = ratelimit_take(api->rl, key, req->now_ms)) != 0) {
			metrics_rate_limited();
			log_event(LAPS_EV_RATE_LIMITED, "rate limited: %s", key);
			resp->retry_after = retry;
			return api_problem(resp, 429, "rate_limited", "too many requests; retry later");
		}
	}
	if (req->id == NULL)
		return api_unauthenticated(api, req, resp);
	if (device_gate(api, req, resp) != 0)
		return -1;
	if (req->too_many_params)
		return api_problem(resp, 400, "invalid_parameter", "too many query parameters");
	if (req->body_too_big)
		return api_problem(resp, 413, "body_too_large", "the request body is too large");
	if (strcmp(req->method, "GET") != 0 && !is_json(req->content_type))
		return api_problem(resp, 415, "unsupported_media_type",
				   "send the body as Content-Type: application/json");
	if (strcmp(req->method, "GET") == 0 && req->body_len > 0)
		return api_problem(resp, 400, "invalid_parameter", "a GET has no body");
	return 0;
}

static void
dispatch(struct api *api, const struct api_request *req, enum metrics_route route,
	 struct api_response *resp)
{
	struct api_target t;

	switch (route) {
	case MR_DEVICES:
		api_h_devices(api, req, resp);
		return;
	case MR_REPORT:
		api_h_report(api, req, resp);
		return;
	case MR_REPORT_SUMMARY:
		api_h_report_summary(api, req, resp);
		return;
	case MR_AUDIT:
		api_h_audit(api, req, resp);
		return;
	case MR_BULK_EXPIRE:
		api_h_bulk_expire(api, req, resp);
		return;
	case MR_APPROVALS:
		api_h_approvals(api, req, resp);
		return;
	case MR_APPROVAL_DECIDE:
		api_h_approval_decide(api, req, resp);
		return;
	default:
		break;
	}
	memset(&t, 0, sizeof t);
	if (target_of(req, &t, resp) != 0)
		return;
	if (route == MR_META)
		api_h_meta(api, req, &t, resp);
	else if (route == MR_APPROVAL_REQUEST)
		api_h_approval_request(api, req, &t, resp);
	else if (route == MR_RECORD && strcmp(req->method, "PUT") == 0)
		api_h_put(api, req, &t, resp);
	else if (route == MR_RECORD)
		api_h_record(api, req, &t, resp);
	else if (route == MR_HISTORY)
		api_h_history(api, req, &t, resp);
	else if (route == MR_CONFIRM)
		api_h_confirm(api, req, &t, resp);
	else
		api_h_expire(api, req, &t, resp);
}

void
api_handle(struct api *api, const struct api_request *req, struct api_response *resp)
{
	const struct route_def *r;

	memset(resp, 0, sizeof *resp);
	laps_clearerr();
	if (est_path(req->path)) {
		est_handle(api, req, resp);
		return;
	}
	if (enroll_path(req->path) || device_path(req->path)) {
		if (gate(api, req, resp) != 0)
			return;
		if (enroll_path(req->path))
			enroll_handle(api, req, resp);
		else
			device_handle(api, req, resp);
		return;
	}
	r = find_route(req->path);
	resp->route = r != NULL ? r->route : MR_UNKNOWN;
	if (r == NULL) {
		api_problem(resp, 404, "not_found", "no such resource");
		return;
	}
	if (!method_allowed(r, req->method)) {
		resp->allow = r->allow;
		api_problem(resp, 405, "method_not_allowed", "method not allowed on this resource");
		return;
	}
	if (r->route == MR_HEALTHZ || r->route == MR_READYZ || r->route == MR_METRICS) {
		ops_endpoint(api, r->route, resp);
		return;
	}
	if (gate(api, req, resp) != 0)
		return;
	dispatch(api, req, r->route, resp);
}

void
api_response_clear(struct api_response *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	memset(resp, 0, sizeof *resp);
}
