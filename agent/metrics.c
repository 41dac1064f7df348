/*
 * metrics.c — the Prometheus text file of the agent (see metrics.h and
 * docs/MONITORING.md for the metric names).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/metrics.h"
#include "agent/state.h"
#include "agent/status.h"
#include "escrow/err.h"
#include "escrow/events.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "agent/agent_conf.h"

/* A bounded output buffer; ok turns false when it is full. */
struct mbuf {
	char *p;
	size_t len, cap;
	bool ok;
};

static void put(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
put(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!b->ok)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->ok = false;
		return;
	}
	b->len += (size_t)n;
}

/* A label value: \ " and newline escaped as the text format wants. */
static void
put_label(struct mbuf *b, const char *v)
{
	for (; *v != '\0' && b->ok; v++) {
		if (*v == '\\')
			put(b, "\\\\");
		else if (*v == '"')
			put(b, "\\\"");
		else if (*v == '\n')
			put(b, "\\n");
		else
			put(b, "%c", *v);
	}
}

static void
family(struct mbuf *b, const char *name, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

void
laps_metrics_run_begin(struct laps_metrics_run *r)
{
	memset(r, 0, sizeof *r);
	r->started = (int64_t)time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &r->mono);
}

void
laps_metrics_gather(const struct laps_agent *a, const char *account, struct laps_metrics_account *m)
{
	struct laps_status_account s;
	bool rotated;

	memset(m, 0, sizeof *m);
	memset(&s, 0, sizeof s);
	snprintf(m->account, sizeof m->account, "%s", account);
	snprintf(s.account, sizeof s.account, "%s", account);
	laps_status_gather_local(a, a->cfg, &s); /* what `status` shows */
	rotated = s.have_state && s.state.rotated_at != 0;
	if (s.have_state) {
		m->last_rotation = s.state.rotated_at;
		m->expires = s.state.expires_at;
		m->last_error_at = s.state.last_error_at;
		m->last_error_code = s.state.last_error_at != 0 ? -s.state.last_error_code : 0;
	}
	m->journal_pending = s.have_journal;
	m->next_due = rotated ? m->expires : 0;
	if (rotated && s.have_deadline && s.deadline < m->next_due)
		m->next_due = s.deadline;
}

/* The value of one per-account family. */
typedef long long (*acc_value)(const struct laps_metrics_account *m);

static long long
v_last_rotation(const struct laps_metrics_account *m)
{
	return m->last_rotation;
}
static long long
v_expires(const struct laps_metrics_account *m)
{
	return m->expires;
}
static long long
v_next_due(const struct laps_metrics_account *m)
{
	return m->next_due;
}
static long long
v_error_code(const struct laps_metrics_account *m)
{
	return m->last_error_code;
}
static long long
v_error_at(const struct laps_metrics_account *m)
{
	return m->last_error_at;
}
static long long
v_journal(const struct laps_metrics_account *m)
{
	return m->journal_pending ? 1 : 0;
}

/* One per-account family: a sample per account. */
static void
account_family(struct mbuf *b, const char *name, const char *help,
	       const struct laps_metrics_account *acc, size_t n, acc_value value)
{
	size_t i;

	put(b, "# HELP laps_agent_account_%s %s\n# TYPE laps_agent_account_%s gauge\n", name, help,
	    name);
	for (i = 0; i < n; i++) {
		put(b, "laps_agent_account_%s{account=\"", name);
		put_label(b, acc[i].account);
		put(b, "\"} %lld\n", value(&acc[i]));
	}
}

#define AF(name, help, value) account_family(&b, name, help, acc, n, value)

int
laps_metrics_render(const struct laps_metrics_run *run, const char *device, const char *backend,
		    const struct laps_metrics_account *acc, size_t n, char **out, size_t *len)
{
	struct mbuf b = {NULL, 0, 4096 + n * 2048, true};

	*out = NULL;
	*len = 0;
	if ((b.p = malloc(b.cap)) == NULL)
		return LAPS_ERR_NOMEM;
	family(&b, "laps_agent_info", "laps-agent version, device and backend (always 1).");
	put(&b, "laps_agent_info{version=\"");
	put_label(&b, PACKAGE_VERSION); /* config.h */
	put(&b, "\",device=\"");
	put_label(&b, device);
	put(&b, "\",backend=\"");
	put_label(&b, backend);
	put(&b, "\"} 1\n");
	family(&b, "laps_agent_last_run_timestamp_seconds", "When the last run started.");
	put(&b, "laps_agent_last_run_timestamp_seconds %lld\n", (long long)run->started);
	family(&b, "laps_agent_last_run_duration_seconds", "How long the last run took.");
	put(&b, "laps_agent_last_run_duration_seconds %.6f\n", run->duration);
	family(&b, "laps_agent_last_run_exit_code",
	       "Exit status of the last run (0 ok, 3 escrow, 4 local, 5 lock; laps-agent(8)).");
	put(&b, "laps_agent_last_run_exit_code %d\n", run->exit_code);
	family(&b, "laps_agent_last_run_rotations", "Rotations completed by the last run.");
	put(&b, "laps_agent_last_run_rotations %u\n", run->rotated);
	if (run->cert_renewal != 0) { /* only when a renewal was due (rest, mtls) */
		family(&b, "laps_agent_last_run_cert_renewal",
		       "The last run's client certificate renewal (result renewed or failed).");
		put(&b, "laps_agent_last_run_cert_renewal{result=\"%s\"} 1\n",
		    run->cert_renewal > 0 ? "renewed" : "failed");
	}
	AF("last_rotation_timestamp_seconds", "Last rotation this host confirmed (0 = never).",
	   v_last_rotation);
	AF("expiry_timestamp_seconds", "Expiry confirmed with the last rotation (0 = none).",
	   v_expires);
	AF("next_due_timestamp_seconds",
	   "When the agent rotates next: expiry or post-auth deadline (0 = at the next run).",
	   v_next_due);
	AF("last_error_code",
	   "LAPS_ERR_* number (without its sign) of the last failure since the last rotation "
	   "(0 = none).",
	   v_error_code);
	AF("last_error_timestamp_seconds", "When the last failure happened (0 = none).",
	   v_error_at);
	AF("journal_pending", "1 when a rotation journal waits for the next run.", v_journal);
	if (!b.ok) {
		free(b.p);
		return laps_seterr(LAPS_ERR_NOMEM, "metrics: output too large");
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

int
laps_agent_metrics_write(const struct laps_agent *a, struct laps_metrics_run *r, int exit_code)
{
	struct laps_metrics_account *acc = NULL;
	struct timespec now;
	char *text = NULL;
	size_t i, len = 0;
	int rc;

	if (laps_agent_conf(a->cfg)->metrics_file == NULL)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	r->duration =
	    (double)(now.tv_sec - r->mono.tv_sec) + (double)(now.tv_nsec - r->mono.tv_nsec) / 1e9;
	r->exit_code = exit_code;
	r->rotated = a->rotated;
	if ((acc = calloc(laps_agent_conf(a->cfg)->n_accounts + 1, sizeof *acc)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < laps_agent_conf(a->cfg)->n_accounts; i++)
		laps_metrics_gather(a, laps_agent_conf(a->cfg)->accounts[i], &acc[i]);
	if ((rc = laps_metrics_render(r, a->device, a->ops != NULL ? a->ops->name : "?", acc,
				      laps_agent_conf(a->cfg)->n_accounts, &text, &len)) != 0)
		goto out;
	rc = laps_file_write_atomic(laps_agent_conf(a->cfg)->metrics_file, text, len,
				    LAPS_METRICS_MODE);
out:
	if (rc != 0)
		log_event_rc(LAPS_EV_METRICS_WRITE_FAILED, rc, "metrics file %s",
			     laps_agent_conf(a->cfg)->metrics_file);
	free(text);
	free(acc);
	return rc;
}
