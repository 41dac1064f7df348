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

#include <stdint.h>
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

/*
 * The table keeps one compact row per shown entry (24 bytes) and the names
 * in one arena ("device\0account\0"), not the 300-byte struct
 * laps_report_row: about 45 bytes per row with short names, 4.5 MB for
 * 100,000 rows (documented in laps-get(1)).  JSON and CSV keep nothing.
 */
struct trow {
	int64_t rotated_at, expires_at;
	uint32_t name; /* offset of "device\0account\0" in the arena */
	uint8_t status, state;
	bool has_record;
};
_Static_assert(sizeof(struct trow) <= 24, "a table row stays compact");

struct rep_state {
	const struct lg_report_opts *o;
	struct lg_report_summary *sum;
	struct trow *rows; /* table only */
	size_t n, cap;
	char *names; /* table only: the arena */
	size_t nlen, ncap;
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

/* Grow *v (of *cap elements of size sz) to hold need elements. */
static int
grow(void **v, size_t *cap, size_t need, size_t sz)
{
	size_t ncap = *cap ? *cap : 256;
	void *nv;

	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return LAPS_ERR_NOMEM;
		ncap *= 2;
	}
	if (ncap == *cap)
		return 0;
	if (ncap > SIZE_MAX / sz || (nv = realloc(*v, ncap * sz)) == NULL)
		return LAPS_ERR_NOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

static int
keep_row(struct rep_state *st, const struct laps_report_row *r, enum lg_status status)
{
	size_t dl = strlen(r->device), al = r->has_record ? strlen(r->account) : 0;
	struct trow *t;

	if (st->nlen + dl + al + 2 > UINT32_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "report: too many rows for a table "
						    "(use --csv or --json)");
	if (grow((void **)&st->rows, &st->cap, st->n + 1, sizeof *st->rows) != 0 ||
	    grow((void **)&st->names, &st->ncap, st->nlen + dl + al + 2, 1) != 0)
		return LAPS_ERR_NOMEM;
	t = &st->rows[st->n++];
	t->rotated_at = r->rotated_at;
	t->expires_at = r->expires_at;
	t->name = (uint32_t)st->nlen;
	t->status = (uint8_t)status;
	t->state = (uint8_t)r->state;
	t->has_record = r->has_record;
	memcpy(st->names + st->nlen, r->device, dl + 1);
	memcpy(st->names + st->nlen + dl + 1, r->has_record ? r->account : "", al + 1);
	st->nlen += dl + al + 2;
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
		return keep_row(st, row, x.status);
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
since(const struct trow *x)
{
	if (x->status == LG_STATUS_DUE || x->status == LG_STATUS_OVERDUE)
		return x->expires_at;
	return x->has_record ? x->rotated_at : 0;
}

/* The arena of the rows being sorted (qsort has no context argument;
 * laps-get is single-threaded). */
static const char *sort_names;

static int
row_cmp(const void *a, const void *b)
{
	const struct trow *x = a, *y = b;
	const char *dx = sort_names + x->name, *dy = sort_names + y->name;
	int c;

	if (rank(x->status) != rank(y->status))
		return rank(x->status) - rank(y->status);
	if (since(x) != since(y))
		return since(x) > since(y) ? -1 : 1;
	if ((c = strcmp(dx, dy)) != 0)
		return c;
	return strcmp(dx + strlen(dx) + 1, dy + strlen(dy) + 1);
}

#define NCOL 6

static void
row_cells(const struct trow *x, const char *names, char cells[NCOL][LAPS_DEVICE_MAX + 1])
{
	const char *dev = names + x->name;

	(void)snprintf(cells[0], sizeof cells[0], "%s", dev);
	(void)snprintf(cells[1], sizeof cells[1], "%s",
		       x->has_record ? dev + strlen(dev) + 1 : "-");
	(void)snprintf(cells[2], sizeof cells[2], "%s",
		       x->has_record ? laps_record_state_name(x->state) : "-");
	if (fmt_time(x->rotated_at, cells[3], sizeof cells[3])[0] == '\0')
		(void)snprintf(cells[3], sizeof cells[3], "-");
	if (fmt_time(x->expires_at, cells[4], sizeof cells[4])[0] == '\0')
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

	sort_names = st->names;
	if (st->n > 0)
		qsort(st->rows, st->n, sizeof *st->rows, row_cmp);
	for (c = 0; c < NCOL; c++) {
		(void)snprintf(cells[c], sizeof cells[c], "%s", head[c]);
		w[c] = strlen(head[c]);
	}
	for (i = 0; i < st->n; i++) {
		row_cells(&st->rows[i], st->names, cells);
		for (c = 0; c < NCOL; c++)
			if (strlen(cells[c]) > w[c])
				w[c] = strlen(cells[c]);
	}
	for (c = 0; c < NCOL; c++)
		(void)snprintf(cells[c], sizeof cells[c], "%s", head[c]);
	print_cells(cells, w);
	for (i = 0; i < st->n; i++) {
		row_cells(&st->rows[i], st->names, cells);
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
	free(st.names);
	return rc;
}
