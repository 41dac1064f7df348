/*
 * metrics.c — Prometheus text exposition of laps-escrowd's counters.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "server/metrics.h"
#include "server/notify.h"

static const char *const route_names[MR_COUNT_] = {
    [MR_UNKNOWN] = "unknown",
    [MR_HEALTHZ] = "/healthz",
    [MR_READYZ] = "/readyz",
    [MR_METRICS] = "/metrics",
    [MR_DEVICES] = "/v1/devices",
    [MR_META] = "/v1/devices/{device}/accounts/{account}",
    [MR_RECORD] = "/v1/devices/{device}/accounts/{account}/record",
    [MR_HISTORY] = "/v1/devices/{device}/accounts/{account}/history",
    [MR_CONFIRM] = "/v1/devices/{device}/accounts/{account}/confirm",
    [MR_EXPIRE] = "/v1/devices/{device}/accounts/{account}/expire",
    [MR_REPORT] = "/v1/report",
    [MR_AUDIT] = "/v1/audit",
    [MR_BULK_EXPIRE] = "/v1/expire",
    [MR_APPROVAL_REQUEST] = "/v1/devices/{device}/accounts/{account}/approval-request",
    [MR_APPROVALS] = "/v1/approvals",
    [MR_APPROVAL_DECIDE] = "/v1/approvals/{id}/{decision}",
    [MR_REPORT_SUMMARY] = "/v1/report/summary",
};
static const char *const method_names[MM_COUNT_] = {"GET", "PUT", "POST", "OTHER"};
/* statuses counted; anything else counts as 0 ("other") */
static const int statuses[] = {200, 201, 400, 401, 403, 404, 405, 409, 412, 413,
			       415, 422, 428, 429, 500, 503, 0};
#define N_STATUS (sizeof statuses / sizeof statuses[0])
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

static unsigned long long requests[MR_COUNT_][MM_COUNT_][N_STATUS];
static unsigned long long hist[MR_COUNT_][N_BUCKETS + 1];
static unsigned long long hist_sum_us[MR_COUNT_];
static unsigned long long store_errors, audit_ok, audit_failed, rate_limited;
static unsigned long long auth_fail_token, auth_fail_cert, auth_fail_identity;

#define ADD(x, n) __atomic_add_fetch(&(x), (n), __ATOMIC_RELAXED)
#define GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

const char *
metrics_route_name(enum metrics_route r)
{
	return (unsigned)r < MR_COUNT_ ? route_names[r] : "unknown";
}

void
metrics_request(enum metrics_route r, enum metrics_method m, int status, double seconds)
{
	size_t s, b;

	if ((unsigned)r >= MR_COUNT_)
		r = MR_UNKNOWN;
	if ((unsigned)m >= MM_COUNT_)
		m = MM_OTHER;
	for (s = 0; s + 1 < N_STATUS && statuses[s] != status; s++)
		;
	ADD(requests[r][m][s], 1);
	for (b = 0; b < N_BUCKETS && seconds > buckets[b]; b++)
		;
	ADD(hist[r][b], 1);
	ADD(hist_sum_us[r], (unsigned long long)(seconds * 1e6));
}

void
metrics_store_error(void)
{
	ADD(store_errors, 1);
}

void
metrics_audit_write(int ok)
{
	if (ok)
		ADD(audit_ok, 1);
	else
		ADD(audit_failed, 1);
}

void
metrics_auth_failure(const char *reason)
{
	if (strcmp(reason, "token") == 0)
		ADD(auth_fail_token, 1);
	else if (strcmp(reason, "certificate") == 0)
		ADD(auth_fail_cert, 1);
	else
		ADD(auth_fail_identity, 1);
}

void
metrics_rate_limited(void)
{
	ADD(rate_limited, 1);
}

struct buf {
	char *p;
	size_t len, cap;
	int err;
};

static void __attribute__((format(printf, 2, 3)))
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *np;

	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = LAPS_ERR_INTERNAL;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		if ((np = realloc(b->p, b->cap * 2)) == NULL) {
			b->err = LAPS_ERR_NOMEM;
			return;
		}
		b->p = np;
		b->cap *= 2;
	}
}

static void
render_requests(struct buf *b)
{
	size_t r, m, s;
	unsigned long long v;

	put(b, "# HELP laps_escrowd_requests_total Requests by route template, method and "
	       "status (status 0: other).\n# TYPE laps_escrowd_requests_total counter\n");
	for (r = 0; r < MR_COUNT_; r++)
		for (m = 0; m < MM_COUNT_; m++)
			for (s = 0; s < N_STATUS; s++)
				if ((v = GET(requests[r][m][s])) != 0)
					put(b,
					    "laps_escrowd_requests_total{route=\"%s\",method=\"%s\","
					    "status=\"%d\"} %llu\n",
					    route_names[r], method_names[m], statuses[s], v);
}

static void
render_histogram(struct buf *b)
{
	size_t r, i;
	unsigned long long cum;

	put(b, "# HELP laps_escrowd_request_duration_seconds Time from the request's "
	       "last byte to its response.\n"
	       "# TYPE laps_escrowd_request_duration_seconds histogram\n");
	for (r = 0; r < MR_COUNT_; r++) {
		for (cum = 0, i = 0; i <= N_BUCKETS; i++)
			cum += GET(hist[r][i]);
		if (cum == 0)
			continue;
		for (cum = 0, i = 0; i < N_BUCKETS; i++) {
			cum += GET(hist[r][i]);
			put(b,
			    "laps_escrowd_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
			    "%llu\n",
			    route_names[r], buckets[i], cum);
		}
		cum += GET(hist[r][N_BUCKETS]);
		put(b,
		    "laps_escrowd_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
		    "laps_escrowd_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
		    "laps_escrowd_request_duration_seconds_count{route=\"%s\"} %llu\n",
		    route_names[r], cum, route_names[r], (double)GET(hist_sum_us[r]) / 1e6,
		    route_names[r], cum);
	}
}

int
metrics_render(char **out, size_t *len)
{
	struct buf b = {malloc(4096), 0, 4096, 0};
	char nbuf[1024];

	if (b.p == NULL)
		return LAPS_ERR_NOMEM;
	render_requests(&b);
	render_histogram(&b);
	put(&b,
	    "# HELP laps_escrowd_store_errors_total Store operations that failed (not 404/412).\n"
	    "# TYPE laps_escrowd_store_errors_total counter\n"
	    "laps_escrowd_store_errors_total %llu\n"
	    "# HELP laps_escrowd_audit_writes_total Audit rows written or failed.\n"
	    "# TYPE laps_escrowd_audit_writes_total counter\n"
	    "laps_escrowd_audit_writes_total{outcome=\"ok\"} %llu\n"
	    "laps_escrowd_audit_writes_total{outcome=\"failed\"} %llu\n"
	    "# HELP laps_escrowd_auth_failures_total Refused credentials by kind.\n"
	    "# TYPE laps_escrowd_auth_failures_total counter\n"
	    "laps_escrowd_auth_failures_total{reason=\"token\"} %llu\n"
	    "laps_escrowd_auth_failures_total{reason=\"certificate\"} %llu\n"
	    "laps_escrowd_auth_failures_total{reason=\"identity\"} %llu\n"
	    "# HELP laps_escrowd_rate_limited_total Requests answered 429.\n"
	    "# TYPE laps_escrowd_rate_limited_total counter\n"
	    "laps_escrowd_rate_limited_total %llu\n",
	    GET(store_errors), GET(audit_ok), GET(audit_failed), GET(auth_fail_token),
	    GET(auth_fail_cert), GET(auth_fail_identity), GET(rate_limited));
	notify_metrics(nbuf, sizeof nbuf);
	put(&b, "%s", nbuf);
	if (b.err != 0) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
