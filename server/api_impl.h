/*
 * api_impl.h — internals shared by api.c (dispatch), api_util.c (answers,
 * audit, parameters) and api_routes.c (the handlers).  Not for other users.
 */
#ifndef LAPS_SERVER_API_IMPL_H
#define LAPS_SERVER_API_IMPL_H

#include "server/api.h"

struct api_target {
	char device[LAPS_DEVICE_MAX + 1];
	char account[LAPS_ACCOUNT_MAX + 1];
};

/* Answers.  api_problem returns -1 so that "return api_problem(...)" reads
 * as a failure in int functions. */
int api_problem(struct api_response *resp, int status, const char *code, const char *detail);
void api_set_body(struct api_response *resp, int status, const char *json);
void api_take_body(struct api_response *resp, int status, char *json);
void api_set_etag(struct api_response *resp, int64_t version);
/* Map a store error to a problem (404, 412, 503 ...). */
int api_store_problem(struct api_response *resp, int rc);

/* Audit */
void api_audit_fill(const struct api_request *req, const char *action, const char *outcome,
		    const char *device, const char *account, int status, const char *detail,
		    struct store_audit *a);
void api_audit_log(const struct store_audit *a);
/* Deny with status/code and leave an audit row (503 if it cannot be written). */
int api_deny(struct api *api, const struct api_request *req, int status, const char *code,
	     const char *detail, const char *action, const struct api_target *t,
	     struct api_response *resp);
/* A 403 to a client authenticated as a device (a certificate whose name is
 * not in [authz] cert_admins): the detail says so. */
int api_deny_device(struct api *api, const struct api_request *req, const char *action,
		    const struct api_target *t, struct api_response *resp);
int api_unauthenticated(struct api *api, const struct api_request *req,
			struct api_response *resp);

/* Query parameters: every present key must be in allowed (NULL-terminated),
 * none twice.  0 or a 400 problem. */
int api_params_check(const struct api_request *req, const char *const *allowed,
		     struct api_response *resp);
const char *api_param(const struct api_request *req, const char *key);
/* Integer parameter in [lo, hi], dflt when absent. */
int api_param_int(const struct api_request *req, const char *key, long long lo, long long hi,
		  long long dflt, long long *out, struct api_response *resp);

/* Metadata JSON (§4.1) of a stored record. */
int api_metadata(const struct store_entry *e, char **out) __attribute__((warn_unused_result));

/* Escrow policies (api_policy.c).  The expiry a secret/history read of t
 * moves the record to (struct store_audit.expire_by), 0 = none. */
int64_t api_policy_expire_by(struct api *api, const struct api_request *req,
			     const struct api_target *t);
/* Laps-Rotate-By on the answer when expire_by > 0. */
void api_policy_announce(struct api_response *resp, int64_t expire_by);
/* The history body with "rotate_by" added when expire_by > 0 (body is
 * taken; NULL when out of memory). */
char *api_policy_history_body(char *body, int64_t expire_by);

/* The two-person rule (api_approval.c).  The gate before a secret or
 * history read: 0 to go on (*action becomes "break_glass_read" for a
 * break-glass read), else a 403/400 answered and audited. */
int api_approval_gate(struct api *api, const struct api_request *req, const struct api_target *t,
		      const char **action, struct api_response *resp);
void api_h_approval_request(struct api *api, const struct api_request *req,
			    const struct api_target *t, struct api_response *resp);
void api_h_approvals(struct api *api, const struct api_request *req, struct api_response *resp);
void api_h_approval_decide(struct api *api, const struct api_request *req,
			   struct api_response *resp);

/* POST /v1/expire (api_bulk.c) */
void api_h_bulk_expire(struct api *api, const struct api_request *req, struct api_response *resp);
/* A body that is one JSON object, depth-capped (api_parse.c). */
struct json_object;
int api_parse_json_object(const char *body, size_t len, struct json_object **out)
    __attribute__((warn_unused_result));

/* Handlers (api_routes.c) */
void api_h_meta(struct api *api, const struct api_request *req, const struct api_target *t,
		struct api_response *resp);
void api_h_put(struct api *api, const struct api_request *req, const struct api_target *t,
	       struct api_response *resp);
void api_h_record(struct api *api, const struct api_request *req, const struct api_target *t,
		  struct api_response *resp);
void api_h_history(struct api *api, const struct api_request *req, const struct api_target *t,
		   struct api_response *resp);
void api_h_confirm(struct api *api, const struct api_request *req, const struct api_target *t,
		   struct api_response *resp);
void api_h_expire(struct api *api, const struct api_request *req, const struct api_target *t,
		  struct api_response *resp);
void api_h_devices(struct api *api, const struct api_request *req, struct api_response *resp);
void api_h_report(struct api *api, const struct api_request *req, struct api_response *resp);
void api_h_audit(struct api *api, const struct api_request *req, struct api_response *resp);
void api_h_report_summary(struct api *api, const struct api_request *req,
			  struct api_response *resp);
/* api_list.c: a page {"LIST":items,"next_page_token":next} (takes o and
 * items); an admin with right r somewhere, else 403 (audited), 0 to go on. */
char *api_finish_page(struct json_object *o, const char *list, struct json_object *items,
		      const char *next);
int api_need_any(struct api *api, const struct api_request *req, unsigned r, const char *action,
		 struct api_response *resp);

#endif
