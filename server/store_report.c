/*
 * store_report.c — the SQL text of the sorted, filtered fleet report and of
 * its counts, for both stores (server/store_report.h).  The text is made of
 * fixed fragments chosen by enum values; every value from a request is a
 * bound parameter.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "escrow/err.h"
#include "server/store_report.h"

/* The health of a row: ok 1, due 2, overdue 3, stuck 4 (?2 now, ?3 grace). */
#define HEALTH_SQL                                                                                 \
	"CASE WHEN state = 'pending' THEN CASE WHEN rotated_at < ?2 - ?3 THEN 4 ELSE 1 END"        \
	" WHEN expires_at <= 0 OR ?2 < expires_at THEN 1"                                          \
	" WHEN expires_at < ?2 - ?3 THEN 3 ELSE 2 END"

/* ?1 status filter, ?2 now, ?5 device prefix ("" = all). */
#define INNER_SQL                                                                                  \
	"SELECT device, account, state, rotated_at, expires_at, seq, " HEALTH_SQL " AS h"          \
	" FROM records WHERE (?1 = 0 OR (?1 = 1 AND state = 'pending') OR"                         \
	" (?1 = 2 AND state = 'confirmed') OR (?1 = 3 AND expires_at < ?2))"                       \
	" AND (?5 = '' OR substr(device, 1, length(?5)) = ?5)"

/* PostgreSQL's types of ?1..?10. */
static const char *const pg_types[STORE_REPORT_PARAMS] = {
    "int", "bigint", "bigint", "int", "text", "int", "bigint", "text", "text", "bigint"};

/* ?N → $N::type into out; 0 or LAPS_ERR_TOOBIG. */
static int
to_pg(const char *in, char *out, size_t size)
{
	size_t o = 0;
	int w;

	for (; *in != '\0'; in++) {
		if (*in == '?' && in[1] >= '1' && in[1] <= '9') {
			int n = in[1] - '0';

			in++;
			if (n == 1 && in[1] == '0') {
				n = 10;
				in++;
			}
			w = snprintf(out + o, size - o, "$%d::%s", n, pg_types[n - 1]);
			if (w < 0 || (size_t)w >= size - o)
				return LAPS_ERR_TOOBIG;
			o += (size_t)w;
		} else {
			if (o + 1 >= size)
				return LAPS_ERR_TOOBIG;
			out[o++] = *in;
		}
	}
	out[o] = '\0';
	return 0;
}

int
store_report_sql(char *buf, size_t size, const struct store_report_query *q, bool pg, bool counts)
{
	static const char *const keys[] = {"0", "rotated_at", "expires_at", "h"};
	const char *k = keys[(unsigned)q->sort < 4 ? q->sort : 0];
	/* "ORDER BY 0" would name a column: the device sort orders by device only */
	const char *ord = q->sort == STORE_SORT_DEVICE ? "" : k;
	const char *cmp = q->desc ? "<" : ">", *dir = q->desc ? "DESC" : "ASC";
	char sql[2048];
	int w;

	if (counts)
		w = snprintf(sql, sizeof sql,
			     "SELECT h, count(*) FROM (" INNER_SQL ") r WHERE (?4 = 0 OR h = ?4)"
			     " GROUP BY h");
	else
		w = snprintf(sql, sizeof sql,
			     "SELECT device, account, state, rotated_at, expires_at, seq, h, %s"
			     " FROM (" INNER_SQL ") r WHERE (?4 = 0 OR h = ?4) AND (?6 = 0 OR"
			     " %s %s ?7 OR (%s = ?7 AND (device %s ?8 OR (device = ?8 AND"
			     " account %s ?9)))) ORDER BY %s %s%s device %s, account %s LIMIT ?10",
			     k, k, cmp, k, cmp, cmp, ord, ord[0] != '\0' ? dir : "",
			     ord[0] != '\0' ? "," : "", dir, dir);
	if (w < 0 || (size_t)w >= sizeof sql)
		return LAPS_ERR_TOOBIG;
	if (pg)
		return to_pg(sql, buf, size);
	if ((size_t)w >= size)
		return LAPS_ERR_TOOBIG;
	memcpy(buf, sql, (size_t)w + 1);
	return 0;
}

void
store_report_params(const struct store_report_query *q, size_t max,
		    char bufs[STORE_REPORT_PARAMS][24], const char *v[STORE_REPORT_PARAMS])
{
	const long long ints[STORE_REPORT_PARAMS] = {
	    q->filter,	      q->now,	    q->grace, q->health, 0,
	    q->after ? 1 : 0, q->after_key, 0,	      0,	 (long long)max};
	int i;

	for (i = 0; i < STORE_REPORT_PARAMS; i++) {
		snprintf(bufs[i], sizeof bufs[i], "%lld", ints[i]);
		v[i] = bufs[i];
	}
	v[4] = q->prefix != NULL ? q->prefix : "";
	v[7] = q->after_device != NULL ? q->after_device : "";
	v[8] = q->after_account != NULL ? q->after_account : "";
}
