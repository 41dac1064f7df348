/*
 * notify.h — webhook notifications of laps-escrowd ([notify] in
 * laps-escrowd.conf, man/laps-escrowd.8, docs/REST-API.md §6.1).
 *
 * Secret reads, break-glass reads, approval requests and decisions and
 * bulk expiries are posted as JSON to [notify] webhook, signed with
 * HMAC-SHA256 over the body under the key of [notify] secret_file
 * (header X-Laps-Signature: sha256=HEX).  notify_audit only enqueues (a
 * bounded queue, [notify] queue): it never blocks nor fails the request
 * that caused it; when the queue is full the event is dropped, counted
 * and logged.  One sender thread posts them in order, each with up to
 * [notify] retries retries after a failure (a transport error or a
 * non-2xx answer) with exponential backoff (1 s, 2 s, 4 s ... at most
 * 60 s); a delivery that still fails is counted and logged.
 */
#ifndef LAPS_SERVER_NOTIFY_H
#define LAPS_SERVER_NOTIFY_H

#include <stdint.h>
#include <stdio.h>

#include "escrow/conf.h"
#include "server/store.h"

/* [notify].  Strings malloc'd or NULL. */
struct laps_notify_conf {
	char *webhook;	   /* https:// (http:// only to a loopback address); NULL = off */
	char *secret_file; /* the HMAC key: root-only file (0600/0400), 16..4096 bytes */
	char *ca_file;	   /* CA for an https webhook; NULL = the system's */
	unsigned queue;	   /* 1..100000 events (default 1000) */
	unsigned retries;  /* 0..20 (default 5) */
	int64_t timeout;   /* 1s..60s per attempt (default 5s) */
};

extern const struct laps_conf_section laps_notify_section;

static inline struct laps_notify_conf *
laps_notify_conf(const struct laps_conf *c)
{
	return (struct laps_notify_conf *)laps_conf_get(c, &laps_notify_section);
}

/* Rules: webhook and secret_file together.  0 or LAPS_ERR_CONFIG. */
int notify_conf_validate(const struct laps_conf *c) __attribute__((warn_unused_result));

/* Read the key and start the sender (nothing when no webhook).  0 or an
 * error naming the file. */
int notify_start(const struct laps_conf *c) __attribute__((warn_unused_result));
/* Stop the sender: what is still queued after grace_ms is dropped
 * (counted).  Wipes the key. */
void notify_stop(int64_t grace_ms);

/* Enqueue the notification of an audited, allowed operation if its action
 * is one that is notified; never blocks. */
void notify_audit(const struct store_audit *a);

/* check-config: the key file is readable as notify_start will read it. */
int notify_check(const struct laps_conf *c) __attribute__((warn_unused_result));
/* check-config: the webhook settings, one "notify: ..." line each. */
void notify_describe(const struct laps_conf *c, FILE *f);

/* /metrics lines (laps_escrowd_webhook_*). */
void notify_metrics(char *buf, size_t len);

#endif
