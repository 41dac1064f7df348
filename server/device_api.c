/*
 * device_api.c — enrolled devices (see device_api.h).  Changing a device
 * (disable, enable, reenroll) needs the enroll right on it (globally or
 * through its unit); listing needs the read or the enroll right, and
 * shows only the devices the caller holds one of them on.  Records stay
 * readable by admins whatever the device's state.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/record.h"
#include "server/api_impl.h"
#include "server/device_api.h"
#include "server/fmt.h"
#include "server/store_enroll.h"

#define PATH_BASE "/v1/enrolled-devices"
#define LIST_MAX 1000

bool
device_path(const char *path)
{
	size_t n = sizeof PATH_BASE - 1;

	return strncmp(path, PATH_BASE, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int
device_gate(struct api *api, const struct api_request *req, struct api_response *resp)
{
	struct enrolled_device d;
	struct api_target t;
	int rc;

	if (req->id == NULL || req->id->kind != ID_DEVICE || api->store->ops->query == NULL)
		return 0;
	rc = store_enrolled_get(api->store, req->id->device, &d);
	if (rc == LAPS_ERR_NOTFOUND || (rc == 0 && d.disabled_at == 0))
		return 0;
	if (rc != 0)
		return api_store_problem(resp, rc);
	memset(&t, 0, sizeof t);
	fmt_trunc(t.device, sizeof t.device, "%s", req->id->device);
	return api_deny(api, req, 403, "device_disabled", "this device is disabled", "authenticate",
			&t, resp);
}

static json_object *
device_json(const struct enrolled_device *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "device", json_object_new_string(d->device));
	json_object_object_add(
	    o, "status", json_object_new_string(d->disabled_at != 0 ? "disabled" : "enabled"));
	json_object_object_add(o, "serial", json_object_new_string(d->serial));
	json_object_object_add(o, "via", json_object_new_string(d->via));
	json_object_object_add(o, "enrolled_at", json_object_new_int64(d->enrolled_at));
	json_object_object_add(o, "renewed_at", json_object_new_int64(d->renewed_at));
	json_object_object_add(o, "not_after", json_object_new_int64(d->not_after));
	json_object_object_add(o, "disabled_at",
			       d->disabled_at != 0 ? json_object_new_int64(d->disabled_at) : NULL);
	json_object_object_add(o, "reenroll_allowed", json_object_new_boolean(d->reenroll_allowed));
	return o;
}

static void
answer_json(struct api_response *resp, int status, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	api_take_body(resp, status, s != NULL ? strdup(s) : NULL);
	json_object_put(o);
}

static void
device_list(struct api *api, const struct api_request *req, struct api_response *resp)
{
	static const char *const allowed[] = {"status", NULL};
	const char *status = api_param(req, "status");
	struct enrolled_device *v = NULL;
	json_object *o, *arr;
	size_t n = 0, i;
	int rc;

	if (api_params_check(req, allowed, resp) != 0)
		return;
	if (status != NULL && strcmp(status, "enabled") != 0 && strcmp(status, "disabled") != 0) {
		api_problem(resp, 400, "invalid_parameter", "status is enabled or disabled");
		return;
	}
	if ((rc = store_enrolled_list(api->store, NULL, LIST_MAX, &v, &n)) != 0) {
		api_store_problem(resp, rc);
		return;
	}
	o = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		if ((authz_rights_on(&api->authz, req->id, v[i].device) &
		     (AUTHZ_READ | AUTHZ_ENROLL)) == 0)
			continue;
		if (status != NULL && (strcmp(status, "disabled") == 0) != (v[i].disabled_at != 0))
			continue;
		json_object_array_add(arr, device_json(&v[i]));
	}
	json_object_object_add(o, "devices", arr);
	free(v);
	answer_json(resp, 200, o);
}

static void
device_change(struct api *api, const struct api_request *req, const char *dev, const char *op,
	      struct api_response *resp)
{
	static const char *const ops[] = {"disable", "enable", "reenroll"};
	char action[32];
	struct enrolled_device d;
	struct api_target t;
	struct store_audit a;
	size_t w;
	int rc;

	for (w = 0; w < 3 && strcmp(op, ops[w]) != 0; w++)
		;
	memset(&t, 0, sizeof t);
	if (w == 3 || strlen(dev) > LAPS_DEVICE_MAX) {
		api_problem(resp, 404, "not_found", "no such resource");
		return;
	}
	fmt_trunc(t.device, sizeof t.device, "%s", dev);
	laps_hostname_lower(t.device);
	fmt_trunc(action, sizeof action, "device_%s", op);
	if ((authz_rights_on(&api->authz, req->id, t.device) & AUTHZ_ENROLL) == 0) {
		(void)api_deny(api, req, 403, "forbidden",
			       "the enroll right on this device is missing", action, &t, resp);
		return;
	}
	if ((rc = store_enrolled_get(api->store, t.device, &d)) != 0) {
		if (rc == LAPS_ERR_NOTFOUND)
			api_problem(resp, 404, "not_found", "no such enrolled device");
		else
			api_store_problem(resp, rc);
		return;
	}
	api_audit_fill(req, action, "allowed", t.device, NULL, 200, NULL, &a);
	if ((rc = store_enrolled_change(api->store, t.device, (enum enrolled_change)w, req->now,
					&a)) != 0 ||
	    (rc = store_enrolled_get(api->store, t.device, &d)) != 0) {
		api_store_problem(resp, rc);
		return;
	}
	api_audit_log(&a);
	answer_json(resp, 200, device_json(&d));
}

void
device_handle(struct api *api, const struct api_request *req, struct api_response *resp)
{
	const char *rest = req->path + sizeof PATH_BASE - 1, *slash;
	char dev[LAPS_DEVICE_MAX + 2];
	size_t len;

	if (req->id->kind != ID_ADMIN) {
		(void)api_deny_device(api, req, "enrolled_devices", NULL, resp);
		return;
	}
	if (*rest == '\0') {
		if (strcmp(req->method, "GET") != 0) {
			resp->allow = "GET";
			api_problem(resp, 405, "method_not_allowed", "GET");
			return;
		}
		device_list(api, req, resp);
		return;
	}
	rest++;
	if ((slash = strchr(rest, '/')) == NULL || (len = (size_t)(slash - rest)) == 0 ||
	    len > LAPS_DEVICE_MAX) {
		api_problem(resp, 404, "not_found", "no such resource");
		return;
	}
	if (strcmp(req->method, "POST") != 0) {
		resp->allow = "POST";
		api_problem(resp, 405, "method_not_allowed", "POST");
		return;
	}
	memcpy(dev, rest, len);
	dev[len] = '\0';
	device_change(api, req, dev, slash + 1, resp);
}
