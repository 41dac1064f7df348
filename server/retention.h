/*
 * retention.h — what laps-escrowd keeps ([store] history_keep,
 * audit_retention; man/laps-escrowd.8 "RETENTION").
 *
 * History: each account keeps its newest history_keep older records (the
 * trim of every write, store.h); history_size is the older name of it.
 * Audit: with audit_retention > 0 a thread deletes the rows older than
 * that once at start and then every 24 hours (store_ops.audit_prune); the
 * store refuses every other delete or update of the audit table.
 */
#ifndef LAPS_SERVER_RETENTION_H
#define LAPS_SERVER_RETENTION_H

#include <stdio.h>

#include "escrow/conf.h"
#include "server/store.h"

/* The history kept per account: history_keep when set, else history_size. */
unsigned retention_history(const struct laps_conf *c);
/* Start the daily prune (nothing without audit_retention).  0 or LAPS_ERR_NOMEM. */
int retention_start(const struct laps_conf *c, struct store *s) __attribute__((warn_unused_result));
void retention_stop(void);
/* check-config: "retention: ..." lines. */
void retention_describe(const struct laps_conf *c, FILE *f);

#endif
