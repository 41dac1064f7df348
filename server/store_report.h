/*
 * store_report.h — the fleet report with server-side sorting, filtering and
 * counting (docs/REST-API.md §5.5, §5.5.1): one SQL text for SQLite and
 * PostgreSQL, built from fixed fragments only (no request text reaches it).
 */
#ifndef LAPS_SERVER_STORE_REPORT_H
#define LAPS_SERVER_STORE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/store.h"

/* A row's health as laps-get report computes it with a grace (0 = any). */
enum store_health {
	STORE_HEALTH_ANY = 0,
	STORE_HEALTH_OK,
	STORE_HEALTH_DUE,
	STORE_HEALTH_OVERDUE,
	STORE_HEALTH_STUCK,
	STORE_HEALTH_N
};

enum store_report_sort {
	STORE_SORT_DEVICE = 0,
	STORE_SORT_ROTATED,
	STORE_SORT_EXPIRES,
	STORE_SORT_HEALTH
};

struct store_report_query {
	enum store_report_filter filter;
	enum store_health health;
	int64_t now, grace;
	const char *prefix; /* device name prefix, "" = all */
	enum store_report_sort sort;
	bool desc;
	bool after;	   /* continue after (after_key, after_device, after_account) */
	int64_t after_key; /* the sort column's value (0 for STORE_SORT_DEVICE) */
	const char *after_device, *after_account;
};

/* The number of parameters of the listing (?1..?10) and counting (?1..?5) texts. */
#define STORE_REPORT_PARAMS 10
#define STORE_COUNT_PARAMS 5

/* The SQL text into buf: the listing (counts false; columns device, account,
 * state, rotated_at, expires_at, seq, health, key) or the counts (columns
 * health, count).  pg: PostgreSQL's $N::type placeholders, else SQLite's ?N.
 * 0, or LAPS_ERR_TOOBIG. */
int store_report_sql(char *buf, size_t size, const struct store_report_query *q, bool pg,
		     bool counts) __attribute__((warn_unused_result));

/* The parameter values as text (PostgreSQL; SQLite binds the same values):
 * v[i] points into bufs or at q's strings; after_* NULL-safe. */
void store_report_params(const struct store_report_query *q, size_t max,
			 char bufs[STORE_REPORT_PARAMS][24], const char *v[STORE_REPORT_PARAMS]);

#endif
