/*
 * api_routes.c — the handlers of REST v1 (docs/REST-API.md §4-5) and their
 * authorisation (§3).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "server/fmt.h"
#include "escrow/log.h"
#include "escrow/record.h"
#include "server/api_impl.h"

static const char *const no_params[] = {NULL};

/* ------------------------------------------------------------------ */
/* Authorisation                                                       */

/* A device on its own device.  0 to go on. */
static int
need_own_device(struct api *api, const struct api_request *req, const struct api_target *t,
		const char *action, struct api_response *resp)
{
	const struct identity *id = req->id;

	if (id->kind == ID_DEVICE && strcmp(id->device, t->device) == 0)
		return 0;
	if (id->kind == ID_DEVICE)
		return api_deny(api, req, 403, "forbidden",
				"a device may only use its own device's records", action, t, resp);
	return api_deny(api, req, 403, "forbidden", "only the device itself may do this", action,
			t, resp);
}

/* An admin with right on t's device.  Invisible devices are 404. */
static int
need_right(struct api *api, const struct api_request *req, const struct api_target *t,
	   unsigned right, const char *action, struct api_response *resp)
{
	unsigned rights;

	if (req->id->kind == ID_DEVICE)
		return api_deny_device(api, req, action, t, resp);
	rights = authz_rights_on(&api->authz, req->id, t->device);
	if (rights == 0)
		return api_deny(api, req, 404, "not_found", "no such record", action, t, resp);
	if ((rights & right) == 0)
		return api_deny(api, req, 403, "forbidden", "the right for this is missing", action,
				t, resp);
	return 0;
}

/* If-Match (optional): 0 = none, else the version; -1 on a 400. */
static int
if_match(const struct api_request *req, int64_t *version, struct api_response *resp)
{
	*version = 0;
	if (req->if_match == NULL)
		return 0;
	if (api_parse_etag(req->if_match, version) != 0)
		return api_problem(resp, 400, "invalid_header", laps_errdetail());
	if (*version == 0)
		*version = INT64_MAX; /* well-formed but not ours: can never match */
	return 0;
}

static void
answer_entry(struct api_response *resp, int status, const struct store_entry *e)
{
	char *meta = NULL;

	if (api_metadata(e, &meta) != 0) {
		api_problem(resp, 500, "internal", "a stored record does not parse");
		return;
	}
	api_take_body(resp, status, meta);
	api_set_etag(resp, e->version);
}

/* ------------------------------------------------------------------ */
/* Device routes                                                       */

void
api_h_meta(struct api *api, const struct api_request *req, const struct api_target *t,
	   struct api_response *resp)
{
	struct store_entry e = {0};
	int rc;

	if (api_params_check(req, no_params, resp) != 0)
		return;
	if (req->id->kind == ID_DEVICE) {
		if (need_own_device(api, req, t, "read_metadata", resp) != 0)
			return;
	} else if (need_right(api, req, t, AUTHZ_READ, "read_metadata", resp) != 0) {
		return;
	}
	if ((rc = api->store->ops->get(api->store->ctx, t->device, t->account, NULL, &e)) != 0) {
		api_store_problem(resp, rc);
		return;
	}
	answer_entry(resp, 200, &e);
	store_entry_clear(&e);
}

/* Preconditions of a PUT: *expected -1 = create, else the version. */
static int
put_precondition(const struct api_request *req, int64_t *expected, struct api_response *resp)
{
	if (req->if_match != NULL && req->if_none_match != NULL)
		return api_problem(resp, 400, "invalid_header",
				   "send If-Match or If-None-Match, not both");
	if (req->if_none_match != NULL) {
		if (strcmp(req->if_none_match, "*") != 0)
			return api_problem(resp, 400, "invalid_header",
					   "If-None-Match must be * (create)");
		*expected = -1;
		return 0;
	}
	if (req->if_match == NULL)
		return api_problem(resp, 428, "precondition_required",
				   "send If-Match: ETAG (update) or If-None-Match: * (create)");
	return if_match(req, expected, resp);
}

static int
put_body(const struct api_request *req, const struct api_target *t, struct laps_record *rec,
	 char **json, struct api_response *resp)
{
	char detail[400];

	if (laps_record_parse(req->body, req->body_len, rec) != 0) {
		fmt_trunc(detail, sizeof detail, "%s", laps_errdetail());
		return api_problem(resp, 422, "invalid_record", detail);
	}
	if (strcmp(rec->device, t->device) != 0 || strcmp(rec->account, t->account) != 0)
		return api_problem(resp, 422, "record_mismatch",
				   "the record's device and account must equal the path");
	if (laps_record_serialise(rec, json) != 0)
		return api_problem(resp, 500, "internal", "cannot serialise the record");
	return 0;
}

/* The server assigns seq (docs/REST-API.md §4.2): a version 2 body's seq is
 * replaced by 1 on a create, by the current record's seq + 1 on an update,
 * and *json re-serialised, so that the stored record, Laps-Seq and the
 * metadata agree.  An update whose If-Match is already stale is answered
 * 412 here, so that the seq read is the one the compare-and-set replaces;
 * a retry of the current rotation is left to the store (idempotent).
 * Version 1 bodies have no seq member and are stored as sent. */
static int
put_assign_seq(struct api *api, const struct api_target *t, int64_t expected,
	       struct laps_record *rec, char **json, struct api_response *resp)
{
	struct store_entry e = {0};
	struct laps_record cur;
	uint64_t want = 1;
	int rc = 0;

	laps_record_init(&cur);
	if (rec->seq == 0)
		goto out;
	if (expected >= 0) {
		rc = api->store->ops->get(api->store->ctx, t->device, t->account, NULL, &e);
		if (rc == LAPS_ERR_NOTFOUND)
			rc = laps_seterr(LAPS_ERR_CONFLICT, "no current record");
		if (rc != 0) {
			rc = api_store_problem(resp, rc);
			goto out;
		}
		if (laps_record_parse(e.json, e.json_len, &cur) != 0) {
			rc = api_problem(resp, 500, "internal", "a stored record does not parse");
			goto out;
		}
		if (strcmp(cur.rotation_id, rec->rotation_id) == 0)
			goto out; /* a retry: the store compares, nothing is written */
		if (e.version != expected) {
			rc = api_store_problem(resp, LAPS_ERR_CONFLICT);
			goto out;
		}
		want = (uint64_t)e.seq + 1;
	}
	if (rec->seq != want) {
		rec->seq = want;
		free(*json);
		*json = NULL;
		if (laps_record_serialise(rec, json) != 0)
			rc = api_problem(resp, 500, "internal", "cannot serialise the record");
	}
out:
	laps_record_clear(&cur);
	store_entry_clear(&e);
	return rc;
}

void
api_h_put(struct api *api, const struct api_request *req, const struct api_target *t,
	  struct api_response *resp)
{
	struct laps_record rec;
	struct store_put_result res;
	struct store_audit a;
	struct store_entry e = {0};
	char *json = NULL;
	int64_t expected = 0;
	int rc;

	laps_record_init(&rec);
	if (api_params_check(req, no_params, resp) != 0 ||
	    need_own_device(api, req, t, "write", resp) != 0 ||
	    put_precondition(req, &expected, resp) != 0 ||
	    put_body(req, t, &rec, &json, resp) != 0 ||
	    put_assign_seq(api, t, expected, &rec, &json, resp) != 0)
		goto out;
	api_audit_fill(req, "write", "allowed", t->device, t->account, 200, NULL, &a);
	rc = api->store->ops->put(api->store->ctx, &rec, json, expected, &a, &res);
	if (rc == LAPS_ERR_CONFLICT && res.result == STORE_PUT_REUSED) {
		api_problem(resp, 409, "rotation_reused",
			    "the current record has this rotation id with another envelope");
		goto out;
	}
	if (rc != 0) {
		api_store_problem(resp, rc);
		goto out;
	}
	metrics_audit_write(1);
	if ((rc = api->store->ops->get(api->store->ctx, t->device, t->account, NULL, &e)) != 0) {
		api_store_problem(resp, rc);
		goto out;
	}
	answer_entry(resp, res.result == STORE_PUT_CREATED ? 201 : 200, &e);
	if (res.result == STORE_PUT_CREATED)
		fmt_trunc(resp->location, sizeof resp->location,
				    "/v1/devices/%s/accounts/%s", t->device, t->account);
out:
	store_entry_clear(&e);
	free(json);
	laps_record_clear(&rec);
}

void
api_h_confirm(struct api *api, const struct api_request *req, const struct api_target *t,
	      struct api_response *resp)
{
	char rotid[LAPS_ROTID_HEX + 1], detail[300];
	struct store_audit a;
	struct store_entry e = {0};
	int64_t expires_at = 0, expected = 0;
	bool mismatch = false;
	int rc;

	if (api_params_check(req, no_params, resp) != 0 ||
	    need_own_device(api, req, t, "confirm", resp) != 0 || if_match(req, &expected, resp) != 0)
		return;
	if (api_parse_confirm(req->body, req->body_len, rotid, &expires_at) != 0) {
		fmt_trunc(detail, sizeof detail, "%s", laps_errdetail());
		api_problem(resp, 400, "malformed_json", detail);
		return;
	}
	api_audit_fill(req, "confirm", "allowed", t->device, t->account, 200, NULL, &a);
	rc = api->store->ops->confirm(api->store->ctx, t->device, t->account, rotid, expires_at,
				      expected, &a, &mismatch, &e);
	if (rc == LAPS_ERR_CONFLICT && mismatch) {
		api_problem(resp, 409, "rotation_mismatch",
			    "the current record is another rotation");
		return;
	}
	if (rc != 0) {
		api_store_problem(resp, rc);
		return;
	}
	metrics_audit_write(1);
	answer_entry(resp, 200, &e);
	store_entry_clear(&e);
}

/* ------------------------------------------------------------------ */
/* Admin routes on one record                                          */

void
api_h_record(struct api *api, const struct api_request *req, const struct api_target *t,
	     struct api_response *resp)
{
	const char *action = "read_secret";
	struct store_audit a;
	struct store_entry e = {0};
	int rc;

	if (api_params_check(req, no_params, resp) != 0 ||
	    need_right(api, req, t, AUTHZ_SECRET, "read_secret", resp) != 0 ||
	    api_approval_gate(api, req, t, &action, resp) != 0)
		return;
	api_audit_fill(req, action, "allowed", t->device, t->account, 200,
		       strcmp(action, "break_glass_read") == 0 ? req->break_glass : NULL, &a);
	a.expire_by = api_policy_expire_by(api, req, t);
	if ((rc = api->store->ops->get(api->store->ctx, t->device, t->account, &a, &e)) != 0) {
		api_store_problem(resp, rc);
		return;
	}
	metrics_audit_write(1);
	api_audit_log(&a);
	api_take_body(resp, 200, e.json);
	e.json = NULL;
	api_set_etag(resp, e.version);
	fmt_trunc(resp->seq, sizeof resp->seq, "%lld", (long long)e.seq);
	api_policy_announce(resp, a.expire_by);
}

static char *
join_history(const struct store_entry_list *h)
{
	size_t i, len = sizeof "{\"records\":[]}";
	char *out, *p;

	for (i = 0; i < h->n; i++)
		len += h->v[i].json_len + 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	p = out;
	memcpy(p, "{\"records\":[", 12);
	p += 12;
	for (i = 0; i < h->n; i++) {
		if (i > 0)
			*p++ = ',';
		memcpy(p, h->v[i].json, h->v[i].json_len);
		p += h->v[i].json_len;
	}
	memcpy(p, "]}", 3);
	return out;
}

void
api_h_history(struct api *api, const struct api_request *req, const struct api_target *t,
	      struct api_response *resp)
{
	static const char *const allowed[] = {"limit", NULL};
	const char *action = "read_history";
	struct store_entry_list h = {0};
	struct store_audit a;
	long long limit;
	int rc;

	if (api_params_check(req, allowed, resp) != 0 ||
	    api_param_int(req, "limit", 1, STORE_HISTORY_MAX, API_HISTORY_DEFAULT, &limit, resp) != 0 ||
	    need_right(api, req, t, AUTHZ_SECRET, "read_history", resp) != 0 ||
	    api_approval_gate(api, req, t, &action, resp) != 0)
		return;
	api_audit_fill(req, action, "allowed", t->device, t->account, 200,
		       strcmp(action, "break_glass_read") == 0 ? req->break_glass : NULL, &a);
	a.expire_by = api_policy_expire_by(api, req, t);
	rc = api->store->ops->history(api->store->ctx, t->device, t->account, (size_t)limit, &a, &h);
	if (rc != 0) {
		api_store_problem(resp, rc);
		return;
	}
	metrics_audit_write(1);
	api_audit_log(&a);
	api_take_body(resp, 200, api_policy_history_body(join_history(&h), a.expire_by));
	api_policy_announce(resp, a.expire_by);
	store_entry_list_free(&h);
}

void
api_h_expire(struct api *api, const struct api_request *req, const struct api_target *t,
	     struct api_response *resp)
{
	struct store_audit a;
	struct store_entry e = {0};
	char detail[300];
	int64_t when = req->now, expected = 0;
	bool has = false;
	int rc;

	if (api_params_check(req, no_params, resp) != 0 ||
	    need_right(api, req, t, AUTHZ_EXPIRE, "expire", resp) != 0 ||
	    if_match(req, &expected, resp) != 0)
		return;
	if (api_parse_expire(req->body, req->body_len, &has, &when) != 0) {
		fmt_trunc(detail, sizeof detail, "%s", laps_errdetail());
		api_problem(resp, 400, "malformed_json", detail);
		return;
	}
	if (!has)
		when = req->now;
	api_audit_fill(req, "expire", "allowed", t->device, t->account, 200, NULL, &a);
	rc = api->store->ops->expire(api->store->ctx, t->device, t->account, when, expected, &a, &e);
	if (rc != 0) {
		api_store_problem(resp, rc);
		return;
	}
	metrics_audit_write(1);
	api_audit_log(&a);
	answer_entry(resp, 200, &e);
	store_entry_clear(&e);
}
