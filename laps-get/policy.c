/*
 * policy.c — laps-get's side of laps-escrowd's escrow policies: the
 * "rotated by" notice of a read under rotate_after_read.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "escrow/err.h"
#include "laps-get/lapsget.h"

static int64_t
earliest(int64_t a, int64_t b)
{
	if (a <= 0)
		return b;
	return b > 0 && b < a ? b : a;
}

int64_t
lg_rotate_by(const struct lg_result *res)
{
	int64_t t = res->cur.rotate_by;
	size_t i;

	if (res->has_prev)
		t = earliest(t, res->prev.rotate_by);
	for (i = 0; i < res->n_hist; i++)
		t = earliest(t, res->hist[i].rotate_by);
	return t;
}

void
lg_print_rotate_notice(const struct lg_result *res, const char *progname)
{
	int64_t t = lg_rotate_by(res);
	time_t tt = (time_t)t;
	char hm[16], iso[32];
	struct tm tm;

	if (t <= 0 || localtime_r(&tt, &tm) == NULL || strftime(hm, sizeof hm, "%H:%M", &tm) == 0)
		return;
	fprintf(stderr, "%s: this password will be rotated by %s (%s)\n", progname, hm,
		lg_format_time(t, iso, sizeof iso));
}

/* ------------------------------------------------------------------ */
/* laps-get expire --filter ... --status S [--dry-run] [--yes]         */

int
lg_bulk_filter(struct lg_bulk_opts *b, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t k = eq != NULL ? (size_t)(eq - arg) : 0;
	const char *v = eq != NULL ? eq + 1 : "";

	if (eq == NULL || *v == '\0')
		return laps_seterr(LAPS_ERR_INVALID, "--filter: expected KEY=VALUE, got '%.64s'",
				   arg);
	if (k == 4 && strncmp(arg, "name", 4) == 0)
		b->f.name = v;
	else if (k == 4 && strncmp(arg, "unit", 4) == 0)
		b->f.unit = v;
	else if (k == 7 && strncmp(arg, "account", 7) == 0)
		b->f.account = v;
	else if (k == 14 && strncmp(arg, "rotated-before", 14) == 0) {
		if (lg_parse_when(v, (int64_t)time(NULL), &b->f.rotated_before) != 0)
			return laps_seterr(LAPS_ERR_INVALID,
					   "--filter rotated-before: '%.64s' is not a time "
					   "(ISO 8601 or now+DURATION)",
					   v);
	} else
		return laps_seterr(LAPS_ERR_INVALID,
				   "--filter: unknown key '%.*s' (name, unit, account, "
				   "rotated-before)",
				   (int)(k < 32 ? k : 32), arg);
	return 0;
}

struct bulk_rows {
	struct laps_report_row *v;
	size_t n, cap;
};

static int
bulk_keep(void *arg, const struct laps_report_row *row)
{
	struct bulk_rows *r = arg;
	struct laps_report_row *nv;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;

		if ((nv = realloc(r->v, cap * sizeof *nv)) == NULL)
			return LAPS_ERR_NOMEM;
		r->v = nv;
		r->cap = cap;
	}
	r->v[r->n++] = *row;
	return 0;
}

static void
bulk_print(const struct bulk_rows *r, size_t count, const char *verb)
{
	char t[32];
	size_t i;

	printf("%zu account%s %s\n", count, count == 1 ? "" : "s", verb);
	for (i = 0; i < r->n; i++)
		printf("%-40s %-16s %-9s %s\n", r->v[i].device, r->v[i].account,
		       laps_record_state_name(r->v[i].state),
		       r->v[i].expires_at > 0 ? lg_format_time(r->v[i].expires_at, t, sizeof t)
					      : "-");
	fflush(stdout);
}

/* Ask on the terminal; true for y/yes. */
static bool
bulk_confirm(size_t count, const char *progname)
{
	char line[16];

	fprintf(stderr, "%s: expire these %zu account%s now? [y/N] ", progname, count,
		count == 1 ? "" : "s");
	if (fgets(line, sizeof line, stdin) == NULL)
		return false;
	line[strcspn(line, "\n")] = '\0';
	return strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 || strcmp(line, "yes") == 0;
}

int
lg_bulk_run(struct laps_backend *b, const struct lg_bulk_opts *o, const char *progname)
{
	struct laps_expire_filter f = o->f;
	struct bulk_rows rows = {NULL, 0, 0};
	size_t count = 0;
	int rc;

	f.dry_run = true;
	if ((rc = laps_backend_expire_many(b, &f, bulk_keep, &rows, &count)) != 0)
		goto out;
	bulk_print(&rows, count,
		   o->dry_run ? "would be expired (dry run: nothing changed)" : "match");
	if (o->dry_run || count == 0)
		goto out;
	if (!o->yes && !isatty(STDIN_FILENO)) {
		rc = laps_seterr(LAPS_ERR_INVALID,
				 "refusing to expire %zu accounts without --yes: standard input "
				 "is not a terminal",
				 count);
		goto out;
	}
	if (!o->yes && !bulk_confirm(count, progname)) {
		fprintf(stderr, "%s: nothing was changed\n", progname);
		goto out;
	}
	rows.n = 0;
	f.dry_run = false;
	if ((rc = laps_backend_expire_many(b, &f, bulk_keep, &rows, &count)) != 0)
		goto out;
	printf("expired %zu account%s: their agents rotate at their next run\n", count,
	       count == 1 ? "" : "s");
out:
	free(rows.v);
	return rc;
}
