/*
 * api_list.c — the paged admin listings of REST v1: device search (§5.1),
 * and audit log (§5.6); the report (§5.5) is in api_report.c.  Limited admins: the store pages are
 * filtered by the admin's units, fetching further pages until this page
 * is full or the store is exhausted.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "server/fmt.h"
#include "escrow/record.h"
#include "server/api_impl.h"

#define BATCH 256

char *
api_finish_page(json_object *o, const char *list, json_object *items, const char *next)
{
	const char *s;
	char *out = NULL;

	json_object_object_add(o, list, items);
	json_object_object_add(o, "next_page_token", next != NULL ? json_object_new_string(next)
								  : NULL);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						  JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s != NULL)
		out = strdup(s);
	json_object_put(o);
	return out;
}

/* Admin with right r somewhere, else a 403 with audit.  0 to go on. */
int
api_need_any(struct api *api, const struct api_request *req, unsigned r, const char *action,
	     struct api_response *resp)
{
	if (req->id->kind == ID_ADMIN && (authz_rights_any(req->id, api->authz.n_units) & r) != 0)
		return 0;
	if (req->id->kind == ID_DEVICE)
		return api_deny_device(api, req, action, NULL, resp);
	return api_deny(api, req, 403, "forbidden", "the right for this is missing", action, NULL,
			resp);
}

/* name: lower-cased device name or short name; page_token: a device name. */
static int
devices_params(const struct api_request *req, char *name, char *after, long long *size,
	       struct api_response *resp)
{
	static const char *const allowed[] = {"name", "page_size", "page_token", NULL};
	const char *v;

	if (api_params_check(req, allowed, resp) != 0 ||
	    api_param_int(req, "page_size", 1, STORE_PAGE_MAX, API_PAGE_DEFAULT, size, resp) != 0)
		return -1;
	name[0] = after[0] = '\0';
	if ((v = api_param(req, "name")) != NULL) {
		if (laps_snprintf(name, LAPS_DEVICE_MAX + 1, "%s", v) != 0 ||
		    !laps_record_device_ok(laps_hostname_lower(name)))
			return api_problem(resp, 400, "invalid_parameter",
					   "name is not a valid device name");
	}
	if ((v = api_param(req, "page_token")) != NULL &&
	    (laps_snprintf(after, LAPS_DEVICE_MAX + 1, "%s", v) != 0 || !laps_record_device_ok(after)))
		return api_problem(resp, 400, "invalid_parameter", "bad page_token");
	return 0;
}

void
api_h_devices(struct api *api, const struct api_request *req, struct api_response *resp)
{
	char name[LAPS_DEVICE_MAX + 1], after[LAPS_DEVICE_MAX + 1], (*batch)[LAPS_DEVICE_MAX + 1];
	json_object *o = json_object_new_object(), *items = json_object_new_array();
	long long size, taken = 0;
	size_t n, i;
	int rc = 0;

	batch = malloc(BATCH * sizeof *batch);
	if (o == NULL || items == NULL || batch == NULL) {
		api_problem(resp, 500, "internal", "out of memory");
		goto out;
	}
	if (devices_params(req, name, after, &size, resp) != 0 ||
	    api_need_any(api, req, AUTHZ_READ, "find", resp) != 0)
		goto out;
	do {
		rc = api->store->ops->find(api->store->ctx, name[0] ? name : NULL,
					   after[0] ? after : NULL, batch, BATCH, &n);
		for (i = 0; rc == 0 && i < n && taken < size; i++) {
			memcpy(after, batch[i], sizeof after);
			if (authz_rights_on(&api->authz, req->id, batch[i]) & AUTHZ_READ) {
				json_object_array_add(items, json_object_new_string(batch[i]));
				taken++;
			}
		}
	} while (rc == 0 && n == BATCH && taken < size);
	if (rc != 0) {
		api_store_problem(resp, rc);
		goto out;
	}
	api_take_body(resp, 200,
		      api_finish_page(o, "devices", items,
				      taken == size && (i < n || n == BATCH) ? after : NULL));
	o = items = NULL;
out:
	free(batch);
	json_object_put(items);
	json_object_put(o);
}

static json_object *
audit_json(const struct store_audit_row *r)
{
	json_object *e = json_object_new_object();

#define S(x) ((x) != NULL ? json_object_new_string(x) : NULL)
	if (e == NULL)
		return NULL;
	json_object_object_add(e, "id", json_object_new_int64(r->id));
	json_object_object_add(e, "time", json_object_new_int64(r->time));
	json_object_object_add(e, "actor", S(r->actor));
	json_object_object_add(e, "kind", S(r->kind));
	json_object_object_add(e, "device", S(r->device));
	json_object_object_add(e, "account", S(r->account));
	json_object_object_add(e, "action", S(r->action));
	json_object_object_add(e, "outcome", S(r->outcome));
	json_object_object_add(e, "status", json_object_new_int(r->status));
	json_object_object_add(e, "peer", S(r->peer));
	json_object_object_add(e, "jti", S(r->jti));
#undef S
	return e;
}

static int
audit_params(const struct api_request *req, struct store_audit_query *q, long long *size,
	     struct api_response *resp)
{
	static const char *const allowed[] = {"device", "actor", "action", "since", "until",
					      "page_size", "page_token", NULL};
	/* the actions of docs/REST-API.md §6: a typo is refused, not an empty list */
	/* clang-format off */
	static const char *const actions[] = {
	    "read_metadata", "write",	     "confirm", "find",	 "report",
	    "read_secret",   "read_history", "expire",	"audit", "authenticate",
	    "est_enroll", "est_reenroll", "est_bootstrap", "enroll_token_create", "enroll_token_revoke",
	    "device_disable", "device_enable", "device_reenroll",
	    /* escrow policies (server/api_approval.c) */
	    "approval_request", "approval_approve", "approval_deny", "approvals",
	    "break_glass_read", NULL};
	/* clang-format on */
	long long since, until, token;
	const char *action;
	size_t i;

	if (api_params_check(req, allowed, resp) != 0 ||
	    api_param_int(req, "page_size", 1, STORE_PAGE_MAX, API_PAGE_DEFAULT, size, resp) != 0 ||
	    api_param_int(req, "since", 0, 253402300799LL, 0, &since, resp) != 0 ||
	    api_param_int(req, "until", 0, 253402300799LL, 0, &until, resp) != 0 ||
	    api_param_int(req, "page_token", 1, INT64_MAX, 0, &token, resp) != 0)
		return -1;
	if ((action = api_param(req, "action")) != NULL) {
		for (i = 0; actions[i] != NULL && strcmp(actions[i], action) != 0; i++)
			;
		if (actions[i] == NULL)
			return api_problem(resp, 400, "invalid_parameter",
					   "action: not an audit action (docs/REST-API.md §6)");
	}
	memset(q, 0, sizeof *q);
	q->device = api_param(req, "device");
	q->actor = api_param(req, "actor");
	q->action = api_param(req, "action");
	q->since = since;
	q->until = until;
	q->before_id = token;
	return 0;
}

/* Rows about devices outside the admin's audit units are invisible. */
static bool
audit_visible(struct api *api, const struct identity *id, const struct store_audit_row *r)
{
	if (id->global & AUTHZ_AUDIT)
		return true;
	return r->device != NULL && (authz_rights_on(&api->authz, id, r->device) & AUTHZ_AUDIT);
}

void
api_h_audit(struct api *api, const struct api_request *req, struct api_response *resp)
{
	json_object *o = json_object_new_object(), *items = json_object_new_array();
	struct store_audit_row *batch = calloc(BATCH, sizeof *batch);
	struct store_audit_query q;
	long long size, taken = 0;
	size_t n = 0, i = 0, j;
	char next[32];
	int rc = 0;

	if (o == NULL || items == NULL || batch == NULL) {
		api_problem(resp, 500, "internal", "out of memory");
		goto out;
	}
	if (audit_params(req, &q, &size, resp) != 0 ||
	    api_need_any(api, req, AUTHZ_AUDIT, "audit", resp) != 0)
		goto out;
	do {
		rc = api->store->ops->audit_query(api->store->ctx, &q, batch, BATCH, &n);
		for (i = 0; rc == 0 && i < n && taken < size; i++) {
			q.before_id = batch[i].id;
			if (audit_visible(api, req->id, &batch[i])) {
				json_object_array_add(items, audit_json(&batch[i]));
				taken++;
			}
		}
		for (j = 0; j < n; j++)
			store_audit_row_clear(&batch[j]);
	} while (rc == 0 && n == BATCH && taken < size);
	if (rc != 0) {
		api_store_problem(resp, rc);
		goto out;
	}
	fmt_trunc(next, sizeof next, "%lld", (long long)q.before_id);
	api_take_body(resp, 200,
		      api_finish_page(o, "entries", items,
				      taken == size && (i < n || n == BATCH) ? next : NULL));
	o = items = NULL;
out:
	free(batch);
	json_object_put(items);
	json_object_put(o);
}
