/*
 * api_approval.c — the two-person rule (docs/REST-API.md §5.8):
 *
 *   POST /v1/devices/{d}/accounts/{a}/approval-request  {"reason":"INC-1234"}
 *   GET  /v1/approvals                                   pending requests
 *   POST /v1/approvals/{id}/approve | /deny               {}
 *
 * and the gate in front of a secret or history read of a device under
 * [policy] approval: the reader needs an approved, unexpired request of
 * its own for that device and account, or a break-glass read
 * (Laps-Break-Glass: REASON, allowed when [policy] break_glass = yes,
 * audited as action "break_glass_read").  Nobody approves their own
 * request; a request is decided once, before its approval_ttl passes, and
 * an approval lets its requester read for approval_ttl.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/record.h"
#include "server/api_impl.h"
#include "server/fmt.h"
#include "server/policy.h"

#define APPROVALS_MAX 1000

/* Printable ASCII without quotes or backslashes, 1..STORE_REASON_MAX. */
static bool
reason_ok(const char *r)
{
	size_t i;

	for (i = 0; r[i] != '\0'; i++)
		if ((unsigned char)r[i] < 0x20 || (unsigned char)r[i] > 0x7e || r[i] == '"' ||
		    r[i] == '\\')
			return false;
	return i > 0 && i <= STORE_REASON_MAX;
}

int
api_approval_gate(struct api *api, const struct api_request *req, const struct api_target *t,
		  const char **action, struct api_response *resp)
{
	const struct laps_policy_conf *p = laps_policy_conf(api->cfg);
	int rc;

	if (!policy_needs_approval(&api->authz, t->device))
		return 0;
	rc = api->store->ops->approval_valid(api->store->ctx, t->device, t->account, req->id->actor,
					     req->now);
	if (rc == 0)
		return 0;
	if (rc != LAPS_ERR_NOTFOUND)
		return api_store_problem(resp, rc);
	if (req->break_glass != NULL) {
		if (p->break_glass != LAPS_YES)
			return api_deny(api, req, 403, "break_glass_disabled",
					"break-glass reads are not allowed here ([policy] "
					"break_glass)",
					*action, t, resp);
		if (!reason_ok(req->break_glass))
			return api_problem(resp, 400, "invalid_header",
					   "Laps-Break-Glass must carry a reason (printable, at "
					   "most 200 characters)");
		*action = "break_glass_read";
		return 0;
	}
	return api_deny(api, req, 403, "approval_required",
			"a second administrator must approve this read: request it "
			"(POST .../approval-request) and have it approved",
			*action, t, resp);
}

static json_object *
approval_json(const struct store_approval *a)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "id", json_object_new_int64(a->id));
	json_object_object_add(o, "device", json_object_new_string(a->device));
	json_object_object_add(o, "account", json_object_new_string(a->account));
	json_object_object_add(o, "requester", json_object_new_string(a->requester));
	json_object_object_add(o, "reason", json_object_new_string(a->reason));
	json_object_object_add(o, "state", json_object_new_string(a->state));
	json_object_object_add(o, "created_at", json_object_new_int64(a->created_at));
	json_object_object_add(o, "expires_at", json_object_new_int64(a->expires_at));
	if (a->decided_by[0] != '\0')
		json_object_object_add(o, "decided_by", json_object_new_string(a->decided_by));
	return o;
}

static void
answer_json(struct api_response *resp, int status, json_object *o)
{
	api_take_body(resp, status,
		      o != NULL ? strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN))
				: NULL);
	json_object_put(o);
}

/* {"reason":"..."} */
static int
parse_reason(const struct api_request *req, char reason[STORE_REASON_MAX + 1])
{
	json_object *o = NULL, *v;
	int rc;

	if ((rc = api_parse_json_object(req->body, req->body_len, &o)) != 0)
		return rc;
	rc = laps_seterr(LAPS_ERR_FORMAT, "expected {\"reason\":\"...\"} (printable, 1..200)");
	if (json_object_object_length(o) == 1 && json_object_object_get_ex(o, "reason", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v) &&
	    reason_ok(json_object_get_string(v))) {
		memcpy(reason, json_object_get_string(v),
		       (size_t)json_object_get_string_len(v) + 1);
		rc = 0;
	}
	json_object_put(o);
	return rc;
}

void
api_h_approval_request(struct api *api, const struct api_request *req, const struct api_target *t,
		       struct api_response *resp)
{
	struct store_approval a;
	struct store_audit au;
	char detail[300];
	int rc;

	if (req->id->kind == ID_DEVICE) {
		api_deny_device(api, req, "approval_request", t, resp);
		return;
	}
	if ((authz_rights_on(&api->authz, req->id, t->device) & AUTHZ_SECRET) == 0) {
		api_deny(api, req, 403, "forbidden", "the secret right for this device is missing",
			 "approval_request", t, resp);
		return;
	}
	memset(&a, 0, sizeof a);
	if (parse_reason(req, a.reason) != 0) {
		fmt_trunc(detail, sizeof detail, "%s", laps_errdetail());
		api_problem(resp, 400, "malformed_json", detail);
		return;
	}
	memcpy(a.device, t->device, sizeof a.device);
	memcpy(a.account, t->account, sizeof a.account);
	fmt_trunc(a.requester, sizeof a.requester, "%s", req->id->actor);
	fmt_trunc(a.state, sizeof a.state, "pending");
	a.created_at = req->now;
	a.expires_at = req->now + laps_policy_conf(api->cfg)->approval_ttl;
	api_audit_fill(req, "approval_request", "allowed", t->device, t->account, 201, a.reason,
		       &au);
	if ((rc = api->store->ops->approval_create(api->store->ctx, &a, &au)) != 0) {
		api_store_problem(resp, rc);
		return;
	}
	metrics_audit_write(1);
	api_audit_log(&au);
	answer_json(resp, 201, approval_json(&a));
}

void
api_h_approvals(struct api *api, const struct api_request *req, struct api_response *resp)
{
	static const char *const no_params[] = {NULL};
	struct store_approval *v = NULL;
	json_object *o = NULL, *arr = NULL;
	size_t n = 0, i;
	int rc;

	if (api_params_check(req, no_params, resp) != 0)
		return;
	if (req->id->kind == ID_DEVICE) {
		api_deny_device(api, req, "approvals", NULL, resp);
		return;
	}
	if ((authz_rights_any(req->id, api->authz.n_units) & AUTHZ_APPROVE) == 0) {
		api_deny(api, req, 403, "forbidden", "the approve right is missing", "approvals",
			 NULL, resp);
		return;
	}
	if ((v = calloc(APPROVALS_MAX, sizeof *v)) == NULL ||
	    (o = json_object_new_object()) == NULL || (arr = json_object_new_array()) == NULL) {
		api_problem(resp, 500, "internal", "out of memory");
		goto out;
	}
	if ((rc = api->store->ops->approval_list(api->store->ctx, req->now, v, APPROVALS_MAX,
						 &n)) != 0) {
		api_store_problem(resp, rc);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (authz_rights_on(&api->authz, req->id, v[i].device) & AUTHZ_APPROVE)
			json_object_array_add(arr, approval_json(&v[i]));
	json_object_object_add(o, "approvals", arr);
	arr = NULL;
	answer_json(resp, 200, o);
	o = NULL;
out:
	json_object_put(arr);
	json_object_put(o);
	free(v);
}

/* "/v1/approvals/ID/approve" -> ID and true; 0 or -1. */
static int
decide_path(const char *path, int64_t *id, bool *approve)
{
	const char *p = path + strlen("/v1/approvals/"), *slash = strchr(p, '/');
	char num[24];
	long long v;

	if (slash == NULL || slash == p || (size_t)(slash - p) >= sizeof num)
		return -1;
	memcpy(num, p, (size_t)(slash - p));
	num[slash - p] = '\0';
	if (laps_parse_int64(num, 1, INT64_MAX, &v) != 0)
		return -1;
	*id = v;
	if (strcmp(slash, "/approve") == 0)
		*approve = true;
	else if (strcmp(slash, "/deny") == 0)
		*approve = false;
	else
		return -1;
	return 0;
}

/* The request may be decided by this caller?  0 to go on. */
static int
may_decide(struct api *api, const struct api_request *req, const struct store_approval *a,
	   const char *action, struct api_response *resp)
{
	struct api_target t;

	memcpy(t.device, a->device, sizeof t.device);
	memcpy(t.account, a->account, sizeof t.account);
	if ((authz_rights_on(&api->authz, req->id, a->device) & AUTHZ_APPROVE) == 0)
		return api_deny(api, req, 403, "forbidden",
				"the approve right for this device is missing", action, &t, resp);
	if (strcmp(a->requester, req->id->actor) == 0)
		return api_deny(api, req, 403, "self_approval", "nobody decides their own request",
				action, &t, resp);
	if (strcmp(a->state, "pending") != 0 || a->expires_at <= req->now)
		return api_deny(api, req, 409, "approval_closed",
				"the request was decided already or has expired", action, &t, resp);
	return 0;
}

void
api_h_approval_decide(struct api *api, const struct api_request *req, struct api_response *resp)
{
	const char *action;
	struct store_approval a;
	struct store_audit au;
	int64_t id = 0, until;
	bool approve = false;
	int rc;

	if (decide_path(req->path, &id, &approve) != 0) {
		api_problem(resp, 404, "not_found", "no such resource");
		return;
	}
	action = approve ? "approval_approve" : "approval_deny";
	if (req->id->kind == ID_DEVICE) {
		api_deny_device(api, req, action, NULL, resp);
		return;
	}
	if ((rc = api->store->ops->approval_get(api->store->ctx, id, &a)) != 0) {
		api_store_problem(resp, rc);
		return;
	}
	if (may_decide(api, req, &a, action, resp) != 0)
		return;
	until = approve ? req->now + laps_policy_conf(api->cfg)->approval_ttl : req->now;
	api_audit_fill(req, action, "allowed", a.device, a.account, 200, NULL, &au);
	rc = api->store->ops->approval_decide(api->store->ctx, id, approve ? "approved" : "denied",
					      req->id->actor, req->now, until, &au);
	if (rc == LAPS_ERR_CONFLICT) {
		api_problem(resp, 409, "approval_closed",
			    "the request was decided already or has expired");
		return;
	}
	if (rc != 0) {
		api_store_problem(resp, rc);
		return;
	}
	metrics_audit_write(1);
	api_audit_log(&au);
	if (api->store->ops->approval_get(api->store->ctx, id, &a) != 0) {
		api_problem(resp, 500, "internal", "the decided request cannot be read back");
		return;
	}
	answer_json(resp, 200, approval_json(&a));
}
