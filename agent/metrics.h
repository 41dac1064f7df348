/*
 * metrics.h — the agent's metrics in the Prometheus text format, written
 * after every run (rotate or run, success or failure) to [agent]
 * metrics_file for node_exporter's textfile collector (docs/MONITORING.md).
 *
 * The per-account values come from the struct `laps-agent status` fills
 * (laps_status_gather_local: state.<account>, journal.<account>, the
 * pam_laps usage marker); nothing is asked of the backend, so the file is written
 * when the backend is down too — which is when it matters.
 */
#ifndef LAPS_AGENT_METRICS_H
#define LAPS_AGENT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "agent/rotate.h"
#include "escrow/conf.h"
#include "agent/agent_conf.h"

/* Mode of the file: metrics hold no secret and node_exporter need not run as root. */
#define LAPS_METRICS_MODE 0644

/* One run of the agent. */
struct laps_metrics_run {
	int64_t started;      /* unix seconds */
	struct timespec mono; /* CLOCK_MONOTONIC at the start */
	double duration;      /* seconds */
	int exit_code;	      /* laps-agent's exit status */
	unsigned rotated;     /* rotations completed */
	int cert_renewal;     /* 0 none tried, 1 renewed, -1 failed (agent/enroll.h) */
};

/* One managed account, as the state directory shows it after the run. */
struct laps_metrics_account {
	char account[LAPS_ACCOUNT_MAX + 1];
	int64_t last_rotation; /* last confirmed rotation; 0 = never */
	int64_t expires;       /* expiry confirmed with it; 0 = none */
	int64_t next_due;      /* min(expires, post-auth deadline); 0 = due now */
	int last_error_code;   /* -LAPS_ERR_* (positive) since the last success; 0 = none */
	int64_t last_error_at; /* 0 = none */
	bool journal_pending;  /* a rotation journal is waiting for the next run */
};

/* Note the start of a run. */
void laps_metrics_run_begin(struct laps_metrics_run *r);

/*
 * One account's values, from laps_status_gather_local (the state file, the
 * journal, the usage marker — what `laps-agent status` shows).  Missing
 * files are "never"/0.
 */
void laps_metrics_gather(const struct laps_agent *a, const char *account,
			 struct laps_metrics_account *m);

/*
 * Render the text format: HELP and TYPE for every family, label values
 * escaped.  *out is malloc'd (free it).  0 or LAPS_ERR_NOMEM.
 */
int laps_metrics_render(const struct laps_metrics_run *run, const char *device, const char *backend,
			const struct laps_metrics_account *acc, size_t n, char **out, size_t *len)
    __attribute__((warn_unused_result));

/*
 * After a run: finish *r with exit_code and a->rotated, gather every
 * account, write laps_agent_conf(cfg)->metrics_file atomically.  Nothing when metrics_file
 * is not set.  A failure is logged (LAPS-1060) and returned; it never
 * changes the run's exit status.
 */
int laps_agent_metrics_write(const struct laps_agent *a, struct laps_metrics_run *r, int exit_code);

#endif
