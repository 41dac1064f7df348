/*
 * metrics.h — Prometheus counters and histograms of laps-escrowd
 * (docs/REST-API.md §9).  Lock-free (atomic adds); labels are route
 * templates and statuses, never names from requests.
 */
#ifndef LAPS_SERVER_METRICS_H
#define LAPS_SERVER_METRICS_H

#include <stddef.h>

/* clang-format off */
enum metrics_route {
	MR_UNKNOWN = 0, MR_HEALTHZ, MR_READYZ, MR_METRICS, MR_DEVICES, MR_META, MR_RECORD,
	MR_HISTORY, MR_CONFIRM, MR_EXPIRE, MR_REPORT, MR_AUDIT, MR_BULK_EXPIRE,
	MR_APPROVAL_REQUEST, MR_APPROVALS, MR_APPROVAL_DECIDE, MR_REPORT_SUMMARY, MR_COUNT_
};
/* clang-format on */
enum metrics_method { MM_GET = 0, MM_PUT, MM_POST, MM_OTHER, MM_COUNT_ };

const char *metrics_route_name(enum metrics_route r);
void metrics_request(enum metrics_route r, enum metrics_method m, int status, double seconds);
void metrics_store_error(void);
void metrics_audit_write(int ok);
void metrics_auth_failure(const char *reason); /* "token", "certificate", "identity" */
void metrics_rate_limited(void);
/* Render the text exposition format; malloc'd into *out. 0 or LAPS_ERR_NOMEM. */
int metrics_render(char **out, size_t *len) __attribute__((warn_unused_result));

#endif
