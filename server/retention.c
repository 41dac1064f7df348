/*
 * retention.c — the daily audit prune and the history kept (retention.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "escrow/err.h"
#include "escrow/events.h"
#include "escrow/log.h"
#include "server/escrowd_conf.h"
#include "server/retention.h"

#define DAY_S 86400

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool running, stopping;
	struct store *store;
	int64_t retention;
} rt = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

unsigned
retention_history(const struct laps_conf *c)
{
	const struct laps_store_conf *s = laps_store_conf(c);

	return s->history_keep <= 100 ? s->history_keep : s->history_size;
}

static void
prune_once(void)
{
	int64_t before = (int64_t)time(NULL) - rt.retention, n = 0;
	int rc = rt.store->ops->audit_prune(rt.store->ctx, before, &n);

	if (rc != 0)
		log_event_rc(LAPS_EV_AUDIT_PRUNE_FAILED, rc,
			     "audit prune (rows older than %lld) failed; retried in a day",
			     (long long)before);
	else
		log_event(LAPS_EV_AUDIT_PRUNED,
			  "audit prune: %lld row(s) older than %lld s deleted", (long long)n,
			  (long long)rt.retention);
}

static void *
pruner(void *arg)
{
	struct timespec ts;

	(void)arg;
	pthread_mutex_lock(&rt.mu);
	while (!rt.stopping) {
		pthread_mutex_unlock(&rt.mu);
		prune_once();
		pthread_mutex_lock(&rt.mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += DAY_S;
		while (!rt.stopping && pthread_cond_timedwait(&rt.cv, &rt.mu, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&rt.mu);
	return NULL;
}

int
retention_start(const struct laps_conf *c, struct store *s)
{
	rt.retention = laps_store_conf(c)->audit_retention;
	if (rt.retention <= 0)
		return 0;
	rt.store = s;
	rt.stopping = false;
	if (pthread_create(&rt.thread, NULL, pruner, NULL) != 0)
		return laps_seterr(LAPS_ERR_NOMEM, "cannot start the audit prune thread");
	rt.running = true;
	return 0;
}

void
retention_stop(void)
{
	if (!rt.running)
		return;
	pthread_mutex_lock(&rt.mu);
	rt.stopping = true;
	pthread_cond_broadcast(&rt.cv);
	pthread_mutex_unlock(&rt.mu);
	pthread_join(rt.thread, NULL);
	rt.running = false;
}

void
retention_describe(const struct laps_conf *c, FILE *f)
{
	const struct laps_store_conf *s = laps_store_conf(c);
	char buf[32];

	fprintf(f, "retention: history %u older record(s) per account\n", retention_history(c));
	if (s->audit_retention <= 0) {
		fprintf(f, "retention: audit log kept forever\n");
		return;
	}
	laps_conf_format_duration(s->audit_retention, buf, sizeof buf);
	fprintf(f, "retention: audit rows older than %s deleted daily\n", buf);
}
