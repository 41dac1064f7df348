/*
 * api_bulk.c — POST /v1/expire, bulk expiry (docs/REST-API.md §5.7).
 *
 * The body names a filter (unit, device name pattern, report status,
 * rotated before a time, account) and optionally dry_run and expires_at.
 * The candidates are the store's report rows (paged) that the filter and
 * the caller's expire right admit; a dry run answers them, otherwise one
 * store transaction sets every expiry and writes one audit row per
 * device (store_ops.expire_many).  At most BULK_MAX matches: more is 422,
 * so that a filter typo cannot expire a whole fleet by accident unnoticed.
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/log.h"
#include "escrow/record.h"
#include "server/api_impl.h"
#include "server/fmt.h"

#define BULK_MAX 10000
#define BULK_BATCH 1000
#define BULK_UNIT_MAX 64

struct bulk_req {
	char unit[BULK_UNIT_MAX];	    /* "" = any */
	char name[LAPS_DEVICE_MAX + 1];	    /* fnmatch pattern, "" = any */
	char account[LAPS_ACCOUNT_MAX + 1]; /* "" = any */
	enum store_report_filter status;
	int64_t rotated_before; /* 0 = any */
	int64_t expires_at;	/* the new expiry */
	bool dry_run;
};

struct bulk_set {
	struct store_summary *v;
	size_t n;
};

/* A string member of at most max - 1 bytes, chars of ok (NULL: any). */
static int
get_str(json_object *o, const char *key, char *out, size_t max, const char *ok)
{
	json_object *v;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return laps_seterr(LAPS_ERR_FORMAT, "filter.%s must be a string", key);
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len >= max || strlen(s) != len || (ok != NULL && strspn(s, ok) != len))
		return laps_seterr(LAPS_ERR_FORMAT,
				   "filter.%s is empty, too long or has a bad character", key);
	memcpy(out, s, len + 1);
	return 0;
}

static int
get_int(json_object *o, const char *key, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	errno = 0;
	if (!json_object_is_type(v, json_type_int) || (*out = json_object_get_int64(v)) < 0 ||
	    *out > 253402300799LL || errno != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "%s must be unix seconds", key);
	return 0;
}

static int
get_status(json_object *f, enum store_report_filter *out)
{
	static const char *const names[] = {"", "pending", "confirmed", "overdue"};
	char v[16] = "";
	int i, rc;

	*out = STORE_REPORT_ALL;
	if ((rc = get_str(f, "status", v, sizeof v, "abcdefghijklmnopqrstuvwxyz")) != 0 ||
	    v[0] == 0)
		return rc;
	for (i = 1; i < 4; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = (enum store_report_filter)i;
			return 0;
		}
	return laps_seterr(LAPS_ERR_FORMAT, "filter.status must be pending, confirmed or overdue");
}

/* Only known members, in f and in the body. */
static bool
members_ok(json_object *o, const char *const *known)
{
	size_t i;

	json_object_object_foreach(o, k, v)
	{
		(void)v;
		for (i = 0; known[i] != NULL && strcmp(known[i], k) != 0; i++)
			;
		if (known[i] == NULL)
			return false;
	}
	return true;
}

/* {"filter":{...},"dry_run":B,"expires_at":N}.  0 or LAPS_ERR_FORMAT. */
static int
bulk_parse(const char *body, size_t len, int64_t now, struct bulk_req *b)
{
	static const char *const top[] = {"filter", "dry_run", "expires_at", NULL};
	static const char *const fk[] = {"unit",   "name",	     "account",
					 "status", "rotated_before", NULL};
	static const char name_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789.-_*?[]!";
	json_object *o = NULL, *f, *v;
	int rc;

	memset(b, 0, sizeof *b);
	b->expires_at = now;
	if ((rc = api_parse_json_object(body, len, &o)) != 0)
		return rc;
	rc = laps_seterr(LAPS_ERR_FORMAT, "expected {\"filter\":{...}} with at least one of "
					  "unit, name, account, status, rotated_before");
	if (!members_ok(o, top) || !json_object_object_get_ex(o, "filter", &f) ||
	    !json_object_is_type(f, json_type_object) || json_object_object_length(f) == 0 ||
	    !members_ok(f, fk))
		goto out;
	if (json_object_object_get_ex(o, "dry_run", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			rc = laps_seterr(LAPS_ERR_FORMAT, "dry_run must be true or false");
			goto out;
		}
		b->dry_run = json_object_get_boolean(v);
	}
	if ((rc = get_str(f, "unit", b->unit, sizeof b->unit,
			  "abcdefghijklmnopqrstuvwxyz0123456789_-")) == 0 &&
	    (rc = get_str(f, "name", b->name, sizeof b->name, name_chars)) == 0 &&
	    (rc = get_str(f, "account", b->account, sizeof b->account, NULL)) == 0 &&
	    (rc = get_status(f, &b->status)) == 0 &&
	    (rc = get_int(f, "rotated_before", &b->rotated_before)) == 0)
		rc = get_int(o, "expires_at", &b->expires_at);
	if (rc == 0 && b->account[0] != '\0' && !laps_record_account_ok(b->account))
		rc = laps_seterr(LAPS_ERR_FORMAT, "filter.account is not an account name");
out:
	json_object_put(o);
	return rc;
}

static bool
unit_known(const struct authz *a, const char *unit)
{
	size_t u;

	for (u = 0; u < a->n_units; u++)
		if (strcmp(a->unit_names[u], unit) == 0)
			return true;
	return false;
}

static bool
bulk_match(struct api *api, const struct api_request *req, const struct bulk_req *b,
	   const struct store_summary *s)
{
	if ((authz_rights_on(&api->authz, req->id, s->device) & AUTHZ_EXPIRE) == 0)
		return false;
	if (b->unit[0] != '\0' && !authz_device_in_unit(&api->authz, b->unit, s->device))
		return false;
	if (b->name[0] != '\0' && fnmatch(b->name, s->device, FNM_CASEFOLD) != 0)
		return false;
	if (b->account[0] != '\0' && strcmp(b->account, s->account) != 0)
		return false;
	return b->rotated_before == 0 || s->rotated_at < b->rotated_before;
}

/* Every matching (device, account) into *set (malloc'd).  0, a store
 * error, or LAPS_ERR_TOOBIG past BULK_MAX. */
static int
bulk_collect(struct api *api, const struct api_request *req, const struct bulk_req *b,
	     struct bulk_set *set)
{
	char dev[LAPS_DEVICE_MAX + 1] = "", acct[LAPS_ACCOUNT_MAX + 1] = "";
	struct store_summary *batch = malloc(BULK_BATCH * sizeof *batch);
	size_t n = 0, i;
	int rc = LAPS_ERR_NOMEM;

	set->n = 0;
	if (batch == NULL || (set->v = malloc(BULK_MAX * sizeof *set->v)) == NULL)
		goto out;
	do {
		rc = api->store->ops->report(api->store->ctx, b->status, req->now,
					     dev[0] ? dev : NULL, acct, batch, BULK_BATCH, &n);
		for (i = 0; rc == 0 && i < n; i++) {
			memcpy(dev, batch[i].device, sizeof dev);
			memcpy(acct, batch[i].account, sizeof acct);
			if (!bulk_match(api, req, b, &batch[i]))
				continue;
			if (set->n == BULK_MAX)
				rc = LAPS_ERR_TOOBIG;
			else
				set->v[set->n++] = batch[i];
		}
	} while (rc == 0 && n == BULK_BATCH);
out:
	free(batch);
	return rc;
}

static char *
bulk_answer(const struct bulk_req *b, const struct bulk_set *set, int64_t now)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array(), *e;
	char *out = NULL;
	size_t i;

	if (o == NULL || a == NULL)
		goto out;
	for (i = 0; i < set->n; i++) {
		const struct store_summary *s = &set->v[i];

		if ((e = json_object_new_object()) == NULL)
			goto out;
		json_object_object_add(e, "device", json_object_new_string(s->device));
		json_object_object_add(e, "account", json_object_new_string(s->account));
		json_object_object_add(e, "state",
				       json_object_new_string(laps_record_state_name(s->state)));
		json_object_object_add(e, "rotated_at", json_object_new_int64(s->rotated_at));
		json_object_object_add(e, "expires_at", json_object_new_int64(s->expires_at));
		json_object_object_add(e, "seq", json_object_new_int64(s->seq));
		json_object_object_add(e, "overdue", json_object_new_boolean(s->expires_at < now));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "dry_run", json_object_new_boolean(b->dry_run));
	json_object_object_add(o, "count", json_object_new_int64((int64_t)set->n));
	json_object_object_add(o, "expires_at", json_object_new_int64(b->expires_at));
	json_object_object_add(o, "entries", a);
	a = NULL;
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
out:
	json_object_put(a);
	json_object_put(o);
	return out;
}

/* One transaction: every expiry and one audit row per device. */
static int
bulk_apply(struct api *api, const struct api_request *req, const struct bulk_req *b,
	   const struct bulk_set *set)
{
	struct store_audit *audits;
	size_t i;
	int rc;

	if (set->n == 0)
		return 0;
	if ((audits = calloc(set->n, sizeof *audits)) == NULL)
		return LAPS_ERR_NOMEM;
	for (i = 0; i < set->n; i++)
		api_audit_fill(req, "expire", "allowed", set->v[i].device, set->v[i].account, 200,
			       "bulk expiry", &audits[i]);
	rc = api->store->ops->expire_many(api->store->ctx, audits, set->n, b->expires_at);
	metrics_audit_write(rc == 0);
	if (rc == 0)
		for (i = 0; i < set->n; i++)
			api_audit_log(&audits[i]);
	free(audits);
	return rc;
}

void
api_h_bulk_expire(struct api *api, const struct api_request *req, struct api_response *resp)
{
	static const char *const no_params[] = {NULL};
	struct bulk_set set = {NULL, 0};
	struct bulk_req b;
	char detail[300];
	int rc;

	if (api_params_check(req, no_params, resp) != 0)
		return;
	if (req->id->kind == ID_DEVICE) {
		api_deny_device(api, req, "expire", NULL, resp);
		return;
	}
	if ((authz_rights_any(req->id, api->authz.n_units) & AUTHZ_EXPIRE) == 0) {
		api_deny(api, req, 403, "forbidden", "the expire right is missing", "expire", NULL,
			 resp);
		return;
	}
	if (bulk_parse(req->body, req->body_len, req->now, &b) != 0) {
		fmt_trunc(detail, sizeof detail, "%s", laps_errdetail());
		api_problem(resp, 400, "malformed_json", detail);
		return;
	}
	if (b.unit[0] != '\0' && !unit_known(&api->authz, b.unit)) {
		api_problem(resp, 400, "invalid_parameter", "filter.unit is not a configured unit");
		return;
	}
	if ((rc = bulk_collect(api, req, &b, &set)) == LAPS_ERR_TOOBIG)
		api_problem(resp, 422, "too_many_matches",
			    "the filter matches more than 10000 accounts: narrow it");
	else if (rc != 0 || (!b.dry_run && (rc = bulk_apply(api, req, &b, &set)) != 0))
		api_store_problem(resp, rc);
	else
		api_take_body(resp, 200, bulk_answer(&b, &set, req->now));
	free(set.v);
}
