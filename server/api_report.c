/*
 * api_report.c — GET /v1/report (docs/REST-API.md §5.5) sorted and filtered
 * by the store over the whole fleet, and GET /v1/report/summary (§5.5.1),
 * the counts of each status.  Limited admins: the store pages are filtered
 * by the admin's units as in api_list.c; their counts are the visible rows
 * counted here (an admin with the read right everywhere gets the store's
 * GROUP BY).
 */
#include "config.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/record.h"
#include "server/api_impl.h"
#include "server/fmt.h"
#include "server/store_report.h"

#define BATCH 256
#define GRACE_DEFAULT 86400
#define GRACE_MAX (3650LL * 86400)

static const char *const health_names[] = {"", "ok", "due", "overdue", "stuck", NULL};

/* The index of v in names (from 1), or -1. */
static int
name_index(const char *v, const char *const *names)
{
	int i;

	for (i = 1; names[i] != NULL; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return -1;
}

/* q: a device name prefix, lower case letters, digits, '.' and '-'. */
static int
prefix_param(const struct api_request *req, char *out, struct api_response *resp)
{
	const char *v = api_param(req, "q");
	size_t i;

	out[0] = '\0';
	if (v == NULL)
		return 0;
	for (i = 0; v[i] != '\0'; i++)
		if (i >= LAPS_DEVICE_MAX ||
		    !(islower((unsigned char)v[i]) || isdigit((unsigned char)v[i]) || v[i] == '.' ||
		      v[i] == '-'))
			return api_problem(resp, 400, "invalid_parameter",
					   "q is not the start of a device name");
	memcpy(out, v, i + 1);
	return 0;
}

/* status, health, grace, q: the filters of the report and the summary. */
static int
filter_params(const struct api_request *req, struct store_report_query *q, char *prefix,
	      struct api_response *resp)
{
	static const char *const status_names[] = {"", "pending", "confirmed", "overdue", NULL};
	long long grace;
	const char *v;
	int i;

	if (api_param_int(req, "grace", 0, GRACE_MAX, GRACE_DEFAULT, &grace, resp) != 0 ||
	    prefix_param(req, prefix, resp) != 0)
		return -1;
	q->grace = grace;
	q->prefix = prefix;
	if ((v = api_param(req, "status")) != NULL) {
		if ((i = name_index(v, status_names)) < 0)
			return api_problem(resp, 400, "invalid_parameter",
					   "status must be pending, confirmed or overdue");
		q->filter = (enum store_report_filter)i;
	}
	if ((v = api_param(req, "health")) != NULL) {
		if ((i = name_index(v, health_names)) < 0)
			return api_problem(resp, 400, "invalid_parameter",
					   "health must be ok, due, overdue or stuck");
		q->health = (enum store_health)i;
	}
	return 0;
}

/* page_token: "device/account", or "KEY:device/account" for sort != device. */
static int
token_param(const char *v, struct store_report_query *q, char *dev, char *acct,
	    struct api_response *resp)
{
	const char *colon = strchr(v, ':'), *p = v;
	char key[24];
	long long k;
	size_t len;

	if (colon != NULL) {
		len = (size_t)(colon - v);
		if (len == 0 || len >= sizeof key || q->sort == STORE_SORT_DEVICE)
			return api_problem(resp, 400, "invalid_parameter", "bad page_token");
		memcpy(key, v, len);
		key[len] = '\0';
		if (laps_parse_int64(key, INT64_MIN, INT64_MAX, &k) != 0)
			return api_problem(resp, 400, "invalid_parameter", "bad page_token");
		q->after_key = k;
		p = colon + 1;
	} else if (q->sort != STORE_SORT_DEVICE) {
		return api_problem(resp, 400, "invalid_parameter", "bad page_token");
	}
	len = strcspn(p, "/");
	if (len == 0 || len > LAPS_DEVICE_MAX || p[len] != '/' ||
	    laps_snprintf(acct, LAPS_ACCOUNT_MAX + 1, "%s", p + len + 1) != 0)
		return api_problem(resp, 400, "invalid_parameter", "bad page_token");
	memcpy(dev, p, len);
	dev[len] = '\0';
	if (!laps_record_device_ok(dev) || !laps_record_account_ok(acct))
		return api_problem(resp, 400, "invalid_parameter", "bad page_token");
	q->after = true;
	q->after_device = dev;
	q->after_account = acct;
	return 0;
}

static int
report_params(const struct api_request *req, struct store_report_query *q, char *prefix, char *dev,
	      char *acct, long long *size, struct api_response *resp)
{
	static const char *const allowed[] = {"status", "health",    "grace",	   "q", "sort",
					      "order",	"page_size", "page_token", NULL};
	static const char *const sorts[] = {"device", "rotated_at", "expires_at", "health", NULL};
	const char *v;
	int i;

	if (api_params_check(req, allowed, resp) != 0 ||
	    api_param_int(req, "page_size", 1, STORE_PAGE_MAX, API_PAGE_DEFAULT, size, resp) != 0 ||
	    filter_params(req, q, prefix, resp) != 0)
		return -1;
	if ((v = api_param(req, "sort")) != NULL) {
		if ((i = name_index(v, sorts)) < 0 && strcmp(v, "device") != 0)
			return api_problem(resp, 400, "invalid_parameter",
					   "sort must be device, rotated_at, expires_at or health");
		q->sort = i < 0 ? STORE_SORT_DEVICE : (enum store_report_sort)i;
	}
	if ((v = api_param(req, "order")) != NULL) {
		if (strcmp(v, "asc") != 0 && strcmp(v, "desc") != 0)
			return api_problem(resp, 400, "invalid_parameter",
					   "order must be asc or desc");
		q->desc = strcmp(v, "desc") == 0;
	}
	if ((v = api_param(req, "page_token")) != NULL)
		return token_param(v, q, dev, acct, resp);
	return 0;
}

static json_object *
entry_json(const struct store_summary *s, int64_t now)
{
	json_object *e = json_object_new_object();

	if (e == NULL)
		return NULL;
	json_object_object_add(e, "device", json_object_new_string(s->device));
	json_object_object_add(e, "account", json_object_new_string(s->account));
	json_object_object_add(e, "state",
			       json_object_new_string(laps_record_state_name(s->state)));
	json_object_object_add(e, "rotated_at", json_object_new_int64(s->rotated_at));
	json_object_object_add(e, "expires_at", json_object_new_int64(s->expires_at));
	json_object_object_add(e, "seq", json_object_new_int64(s->seq));
	json_object_object_add(e, "overdue", json_object_new_boolean(s->expires_at < now));
	if (s->health > 0 && s->health < STORE_HEALTH_N)
		json_object_object_add(e, "health",
				       json_object_new_string(health_names[s->health]));
	return e;
}

/* The sort key of a row, as the store compares it (store_report.c). */
static int64_t
sort_key(const struct store_summary *s, enum store_report_sort sort)
{
	switch (sort) {
	case STORE_SORT_ROTATED:
		return s->rotated_at;
	case STORE_SORT_EXPIRES:
		return s->expires_at;
	case STORE_SORT_HEALTH:
		return s->health;
	default:
		return 0;
	}
}

/* The next page token after row s, into next. */
static void
next_token(char *next, size_t size, const struct store_summary *s, enum store_report_sort sort)
{
	if (sort == STORE_SORT_DEVICE)
		fmt_trunc(next, size, "%s/%s", s->device, s->account);
	else
		fmt_trunc(next, size, "%lld:%s/%s", (long long)sort_key(s, sort), s->device,
			  s->account);
}

/* Visible rows of q into items, at most size; next: the token or "". */
static int
report_rows(struct api *api, const struct api_request *req, struct store_report_query *q,
	    long long size, json_object *items, char *next, size_t next_size)
{
	char dev[LAPS_DEVICE_MAX + 1], acct[LAPS_ACCOUNT_MAX + 1];
	struct store_summary *batch = malloc(BATCH * sizeof *batch);
	long long taken = 0;
	size_t n = 0, i = 0;
	int rc = 0;

	if (batch == NULL)
		return LAPS_ERR_NOMEM;
	next[0] = '\0';
	do {
		rc = api->store->ops->report_query(api->store->ctx, q, batch, BATCH, &n);
		for (i = 0; rc == 0 && i < n && taken < size; i++) {
			memcpy(dev, batch[i].device, sizeof dev);
			memcpy(acct, batch[i].account, sizeof acct);
			q->after = true;
			q->after_key = sort_key(&batch[i], q->sort);
			q->after_device = dev;
			q->after_account = acct;
			if (authz_rights_on(&api->authz, req->id, dev) & AUTHZ_READ) {
				json_object_array_add(items, entry_json(&batch[i], q->now));
				taken++;
			}
		}
	} while (rc == 0 && n == BATCH && taken < size);
	if (rc == 0 && taken == size && (i < n || n == BATCH))
		next_token(next, next_size, &batch[i - 1], q->sort);
	free(batch);
	return rc;
}

void
api_h_report(struct api *api, const struct api_request *req, struct api_response *resp)
{
	char dev[LAPS_DEVICE_MAX + 1], acct[LAPS_ACCOUNT_MAX + 1], prefix[LAPS_DEVICE_MAX + 1];
	char next[LAPS_DEVICE_MAX + LAPS_ACCOUNT_MAX + 32];
	json_object *o = json_object_new_object(), *items = json_object_new_array();
	struct store_report_query q = {.now = req->now, .grace = GRACE_DEFAULT};
	long long size;
	int rc;

	if (o == NULL || items == NULL) {
		api_problem(resp, 500, "internal", "out of memory");
		goto out;
	}
	if (report_params(req, &q, prefix, dev, acct, &size, resp) != 0 ||
	    api_need_any(api, req, AUTHZ_READ, "report", resp) != 0)
		goto out;
	if (api->store->ops->report_query == NULL) {
		api_problem(resp, 501, "not_implemented", "this store cannot sort the report");
		goto out;
	}
	if ((rc = report_rows(api, req, &q, size, items, next, sizeof next)) != 0) {
		api_store_problem(resp, rc);
		goto out;
	}
	api_take_body(resp, 200, api_finish_page(o, "entries", items, next[0] ? next : NULL));
	o = items = NULL;
out:
	json_object_put(items);
	json_object_put(o);
}

/* Counts of the rows visible to a limited admin, page by page. */
static int
count_visible(struct api *api, const struct api_request *req, struct store_report_query *q,
	      int64_t counts[STORE_HEALTH_N])
{
	char dev[LAPS_DEVICE_MAX + 1], acct[LAPS_ACCOUNT_MAX + 1];
	struct store_summary *batch = malloc(BATCH * sizeof *batch);
	size_t n = 0, i;
	int rc;

	if (batch == NULL)
		return LAPS_ERR_NOMEM;
	memset(counts, 0, STORE_HEALTH_N * sizeof counts[0]);
	do {
		rc = api->store->ops->report_query(api->store->ctx, q, batch, BATCH, &n);
		for (i = 0; rc == 0 && i < n; i++)
			if (batch[i].health > 0 && batch[i].health < STORE_HEALTH_N &&
			    (authz_rights_on(&api->authz, req->id, batch[i].device) & AUTHZ_READ))
				counts[batch[i].health]++;
		if (rc == 0 && n > 0) {
			memcpy(dev, batch[n - 1].device, sizeof dev);
			memcpy(acct, batch[n - 1].account, sizeof acct);
			q->after = true;
			q->after_device = dev;
			q->after_account = acct;
		}
	} while (rc == 0 && n == BATCH);
	free(batch);
	return rc;
}

static char *
summary_body(const int64_t counts[STORE_HEALTH_N], int64_t now, int64_t grace)
{
	json_object *o = json_object_new_object(), *c = json_object_new_object();
	const char *s;
	char *out = NULL;
	int64_t total = 0;
	int h;

	if (o == NULL || c == NULL) {
		json_object_put(c);
		json_object_put(o);
		return NULL;
	}
	for (h = STORE_HEALTH_OK; h < STORE_HEALTH_N; h++) {
		json_object_object_add(c, health_names[h], json_object_new_int64(counts[h]));
		total += counts[h];
	}
	json_object_object_add(o, "counts", c);
	json_object_object_add(o, "total", json_object_new_int64(total));
	json_object_object_add(o, "now", json_object_new_int64(now));
	json_object_object_add(o, "grace", json_object_new_int64(grace));
	if ((s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) != NULL)
		out = strdup(s);
	json_object_put(o);
	return out;
}

void
api_h_report_summary(struct api *api, const struct api_request *req, struct api_response *resp)
{
	static const char *const allowed[] = {"status", "health", "grace", "q", NULL};
	struct store_report_query q = {.now = req->now, .grace = GRACE_DEFAULT};
	int64_t counts[STORE_HEALTH_N];
	char prefix[LAPS_DEVICE_MAX + 1], *body;
	int rc;

	if (api_params_check(req, allowed, resp) != 0 ||
	    filter_params(req, &q, prefix, resp) != 0 ||
	    api_need_any(api, req, AUTHZ_READ, "report", resp) != 0)
		return;
	if (api->store->ops->report_counts == NULL || api->store->ops->report_query == NULL) {
		api_problem(resp, 501, "not_implemented", "this store cannot count the report");
		return;
	}
	if (req->id->global & AUTHZ_READ)
		rc = api->store->ops->report_counts(api->store->ctx, &q, counts);
	else
		rc = count_visible(api, req, &q, counts);
	if (rc != 0) {
		api_store_problem(resp, rc);
		return;
	}
	if ((body = summary_body(counts, q.now, q.grace)) == NULL)
		api_problem(resp, 500, "internal", "out of memory");
	else
		api_take_body(resp, 200, body);
}
