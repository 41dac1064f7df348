/*
 * report.c — laps-get report: every device/account of the source with its
 * rotation status, as an aligned table, JSON or CSV.
 *
 * Metadata only: the rows come from the backend's report slot, which never
 * decrypts; no private key is loaded.  JSON and CSV are written row by row
 * as the backend streams them (bounded memory); the table is sorted (newest
 * problems first), so it holds the rows it prints.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/isotime.h"
#include "laps-get/lapsget.h"

#define TIMEBUF 32

static const char *const status_names[LG_STATUS_COUNT] = {
    [LG_STATUS_OK] = "ok",	       [LG_STATUS_DUE] = "due",
    [LG_STATUS_OVERDUE] = "overdue", [LG_STATUS_STUCK] = "stuck",
    [LG_STATUS_NEVER] = "never",
};

enum lg_status
lg_report_status(const struct laps_report_row *row, int64_t now, int64_t grace)
{
	if (!row->has_record)
		return LG_STATUS_NEVER;
	if (row->state == LAPS_STATE_PENDING)
		return now - row->rotated_at > grace ? LG_STATUS_STUCK : LG_STATUS_OK;
	if (row->expires_at <= 0 || now < row->expires_at)
		return LG_STATUS_OK;
	return now - row->expires_at > grace ? LG_STATUS_OVERDUE : LG_STATUS_DUE;
}

const char *
lg_status_name(enum lg_status s)
{
	return (unsigned)s < LG_STATUS_COUNT ? status_names[s] : "?";
}

int
lg_status_parse_list(const char *s, unsigned *mask)
{
	const char *p = s, *end;
	size_t n;
	int i;

	*mask = 0;
	if (s == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "--status: empty list");
	for (;;) {
		end = p + strcspn(p, ",");
		n = (size_t)(end - p);
		for (i = 0; i < LG_STATUS_COUNT; i++)
			if (strlen(status_names[i]) == n && strncmp(p, status_names[i], n) == 0)
				break;
		if (i == LG_STATUS_COUNT)
			return laps_seterr(LAPS_ERR_INVALID,
					   "--status: '%.*s' is not one of ok, due, overdue, "
					   "stuck, never",
					   (int)(n > 32 ? 32 : n), p);
		*mask |= 1u << i;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

/* ---- the rows, gathered ---- */

struct rep_row {
	struct laps_report_row r;
	enum lg_status status;
};

struct rep_state {
	const struct lg_report_opts *o;
	struct lg_report_summary *sum;
	struct rep_row *rows; /* table only */
	size_t n, cap;
	size_t shown;
};

/* "YYYY-MM-DDTHH:MM:SSZ", or "" for none. */
static const char *
fmt_time(int64_t t, char *buf, size_t len)
{
	if (t <= 0) {
		buf[0] = '\0';
		return buf;
	}
	return laps_isotime_format(t, buf, len);
}

static int
row_json(const struct rep_row *x, bool first)
{
	struct json_object *o = json_object_new_object();
	char rt[TIMEBUF], et[TIMEBUF];
	const struct laps_report_row *r = &x->r;
	int rc = 0;

	if (o == NULL)
		return LAPS_ERR_NOMEM;
	fmt_time(r->rotated_at, rt, sizeof rt);
	fmt_time(r->expires_at, et, sizeof et);
	json_object_object_add(o, "device", json_object_new_string(r->device));
	json_object_object_add(o, "account",
			       r->has_record ? json_object_new_string(r->account) : NULL);
	json_object_object_add(
	    o, "state",
	    r->has_record ? json_object_new_string(laps_record_state_name(r->state)) : NULL);
	json_object_object_add(o, "rotated", rt[0] ? json_object_new_string(rt) : NULL);
	json_object_object_add(o, "expires", et[0] ? json_object_new_string(et) : NULL);
	json_object_object_add(o, "status", json_object_new_string(lg_status_name(x->status)));
	if (printf("%s    %s", first ? "" : ",\n",
		   json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		rc = laps_seterr(LAPS_ERR_IO, "cannot write to standard output");
	json_object_put(o);
	return rc;
}

/* One CSV field (RFC 4180: quoted when it holds a comma, quote or line break). */
static void
csv_field(const char *s, const char *sep)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		printf("%s%s", s, sep);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	printf("\"%s", sep);
}

static int
row_csv(const struct rep_row *x)
{
	char rt[TIMEBUF], et[TIMEBUF];
	const struct laps_report_row *r = &x->r;

	csv_field(r->device, ",");
	csv_field(r->account, ",");
	csv_field(r->has_record ? laps_record_state_name(r->state) : "", ",");
	csv_field(fmt_time(r->rotated_at, rt, sizeof rt), ",");
	csv_field(fmt_time(r->expires_at, et, sizeof et), ",");
	csv_field(lg_status_name(x->status), "\n");
	return ferror(stdout) ? laps_seterr(LAPS_ERR_IO, "cannot write to standard output") : 0;
}

static int
keep_row(struct rep_state *st, const struct rep_row *x)
{
	struct rep_row *v;
	size_t ncap;

	if (st->n == st->cap) {
		ncap = st->cap ? 2 * st->cap : 256;
		if (ncap > SIZE_MAX / sizeof *v || (v = realloc(st->rows, ncap * sizeof *v)) == NULL)
			return LAPS_ERR_NOMEM;
		st->rows = v;
		st->cap = ncap;
	}
	st->rows[st->n++] = *x;
	return 0;
}

/* laps_report_cb: classify, count, then write (JSON, CSV) or keep (table). */
static int
on_row(void *arg, const struct laps_report_row *row)
{
	struct rep_state *st = arg;
	struct rep_row x;

	x.r = *row;
	x.status = lg_report_status(row, st->o->now, st->o->grace);
	st->sum->count[x.status]++;
	st->sum->total++;
	if (!(st->o->status_mask & (1u << x.status)))
		return 0;
	st->shown++;
	switch (st->o->format) {
	case LG_REPORT_JSON:
		return row_json(&x, st->shown == 1);
	case LG_REPORT_CSV:
		return row_csv(&x);
	default:
		return keep_row(st, &x);
	}
}

/* ---- the table ---- */

static int
rank(enum lg_status s)
{
	static const int r[LG_STATUS_COUNT] = {
	    [LG_STATUS_STUCK] = 0, [LG_STATUS_OVERDUE] = 1, [LG_STATUS_DUE] = 2,
	    [LG_STATUS_NEVER] = 3, [LG_STATUS_OK] = 4,
	};

	return r[s];
}

/* When the row's problem began: newest problems sort first. */
static int64_t
since(const struct rep_row *x)
{
	if (x->status == LG_STATUS_DUE || x->status == LG_STATUS_OVERDUE)
		return x->r.expires_at;
	return x->r.has_record ? x->r.rotated_at : 0;
}

static int
row_cmp(const void *a, const void *b)
{
	const struct rep_row *x = a, *y = b;
	int c;

	if (rank(x->status) != rank(y->status))
		return rank(x->status) - rank(y->status);
	if (since(x) != since(y))
		return since(x) > since(y) ? -1 : 1;
	if ((c = strcmp(x->r.device, y->r.device)) != 0)
		return c;
	return strcmp(x->r.account, y->r.account);
}

#define NCOL 6

static void
row_cells(const struct rep_row *x, char cells[NCOL][LAPS_DEVICE_MAX + 1])
{
	const struct laps_report_row *r = &x->r;

	(void)snprintf(cells[0], sizeof cells[0], "%s", r->device);
	(void)snprintf(cells[1], sizeof cells[1], "%s", r->has_record ? r->account : "-");
	(void)snprintf(cells[2], sizeof cells[2], "%s",
		       r->has_record ? laps_record_state_name(r->state) : "-");
	if (fmt_time(r->rotated_at, cells[3], sizeof cells[3])[0] == '\0')
		(void)snprintf(cells[3], sizeof cells[3], "-");
	if (fmt_time(r->expires_at, cells[4], sizeof cells[4])[0] == '\0')
		(void)snprintf(cells[4], sizeof cells[4], "-");
	(void)snprintf(cells[5], sizeof cells[5], "%s", lg_status_name(x->status));
}

static void
print_cells(char cells[NCOL][LAPS_DEVICE_MAX + 1], const size_t *w)
{
	for (int i = 0; i + 1 < NCOL; i++)
		printf("%-*s  ", (int)w[i], cells[i]);
	printf("%s\n", cells[NCOL - 1]);
}

static int
print_table(struct rep_state *st)
{
	static const char *const head[NCOL] = {"DEVICE",  "ACCOUNT", "STATE",
					       "ROTATED", "EXPIRES", "STATUS"};
	char cells[NCOL][LAPS_DEVICE_MAX + 1];
	size_t w[NCOL], i;
	int c;

	qsort(st->rows, st->n, sizeof *st->rows, row_cmp);
	for (c = 0; c < NCOL; c++) {
		(void)snprintf(cells[c], sizeof cells[c], "%s", head[c]);
		w[c] = strlen(head[c]);
	}
	for (i = 0; i < st->n; i++) {
		row_cells(&st->rows[i], cells);
		for (c = 0; c < NCOL; c++)
			if (strlen(cells[c]) > w[c])
				w[c] = strlen(cells[c]);
	}
	for (c = 0; c < NCOL; c++)
		(void)snprintf(cells[c], sizeof cells[c], "%s", head[c]);
	print_cells(cells, w);
	for (i = 0; i < st->n; i++) {
		row_cells(&st->rows[i], cells);
		print_cells(cells, w);
	}
	return 0;
}

static void
print_summary(FILE *f, const struct lg_report_summary *s)
{
	fprintf(f, "%zu entr%s: %zu ok, %zu due, %zu overdue, %zu stuck, %zu never\n", s->total,
		s->total == 1 ? "y" : "ies", s->count[LG_STATUS_OK], s->count[LG_STATUS_DUE],
		s->count[LG_STATUS_OVERDUE], s->count[LG_STATUS_STUCK], s->count[LG_STATUS_NEVER]);
}

static void
print_json_tail(const struct lg_report_summary *s)
{
	printf("%s  ],\n  \"summary\": { \"total\": %zu", s->total ? "\n" : "", s->total);
	for (int i = 0; i < LG_STATUS_COUNT; i++)
		printf(", \"%s\": %zu", status_names[i], s->count[i]);
	printf(" }\n}\n");
}

int
lg_report(struct laps_backend *b, const struct lg_report_opts *o, struct lg_report_summary *sum)
{
	struct rep_state st;
	char t[TIMEBUF];
	int rc;

	memset(sum, 0, sizeof *sum);
	memset(&st, 0, sizeof st);
	st.o = o;
	st.sum = sum;
	if (!(laps_backend_caps(b) & LAPS_BCAP_REPORT))
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "%s cannot list its devices",
				   laps_backend_describe(b));
	if (o->format == LG_REPORT_JSON)
		printf("{\n  \"generated\": \"%s\",\n  \"grace\": %lld,\n  \"rows\": [\n",
		       laps_isotime_format(o->now, t, sizeof t), (long long)o->grace);
	else if (o->format == LG_REPORT_CSV)
		printf("device,account,state,rotated,expires,status\n");
	if ((rc = laps_backend_report(b, on_row, &st)) != 0)
		goto out;
	if (o->format == LG_REPORT_JSON)
		print_json_tail(sum);
	else if (o->format == LG_REPORT_TABLE && (rc = print_table(&st)) == 0)
		print_summary(stdout, sum);
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = laps_seterr(LAPS_ERR_IO, "cannot write to standard output");
out:
	free(st.rows);
	return rc;
}
