/*
 * policy.c — laps-get's side of laps-escrowd's escrow policies: the
 * "rotated by" notice of a read under rotate_after_read.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

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

/* Backends without expire_many (ldap, file): the same filter applied to
 * the report's rows (a paged search for ldap), then set_expiry per
 * account. */
struct generic {
	const struct laps_expire_filter *f;
	struct bulk_rows *rows;
	int64_t now;
};

static int
generic_keep(void *arg, const struct laps_report_row *row)
{
	const struct generic *g = arg;
	const struct laps_expire_filter *f = g->f;

	if (!row->has_record ||
	    (f->name != NULL && fnmatch(f->name, row->device, FNM_CASEFOLD) != 0) ||
	    (f->account != NULL && strcmp(f->account, row->account) != 0) ||
	    (f->rotated_before > 0 && row->rotated_at >= f->rotated_before))
		return 0;
	if (f->status != NULL &&
	    ((strcmp(f->status, "pending") == 0 && row->state != LAPS_STATE_PENDING) ||
	     (strcmp(f->status, "confirmed") == 0 && row->state != LAPS_STATE_CONFIRMED) ||
	     (strcmp(f->status, "overdue") == 0 && row->expires_at >= g->now)))
		return 0;
	return bulk_keep(g->rows, row);
}

/* The matching accounts into rows; *generic when the backend has no
 * expire_many (laps-get filters its report). */
static int
bulk_list(struct laps_backend *b, const struct laps_expire_filter *f, struct bulk_rows *rows,
	  size_t *count, bool *generic)
{
	struct generic g = {f, rows, (int64_t)time(NULL)};
	int rc;

	*generic = false;
	rc = laps_backend_expire_many(b, f, bulk_keep, rows, count);
	if (rc != LAPS_ERR_UNSUPPORTED)
		return rc;
	*generic = true;
	if (f->unit != NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED,
				   "--filter unit= needs laps-escrowd (rest): %s has no units",
				   laps_backend_describe(b));
	if (f->status != NULL && strcmp(f->status, "pending") != 0 &&
	    strcmp(f->status, "confirmed") != 0 && strcmp(f->status, "overdue") != 0)
		return laps_seterr(LAPS_ERR_INVALID,
				   "--status must be pending, confirmed or overdue");
	if ((rc = laps_backend_report(b, generic_keep, &g)) == 0)
		*count = rows->n;
	return rc;
}

/* One set_expiry per account; stops at the first failure, saying how far it got. */
static int
generic_apply(struct laps_backend *b, const struct bulk_rows *rows, int64_t when)
{
	size_t i;
	int rc;

	for (i = 0; i < rows->n; i++)
		if ((rc = laps_backend_set_expiry(b, rows->v[i].device, rows->v[i].account,
						  when)) != 0)
			return laps_seterr_prefix(rc, "expired %zu of %zu, then %s/%s", i, rows->n,
						  rows->v[i].device, rows->v[i].account);
	return 0;
}

int
lg_bulk_run(struct laps_backend *b, const struct lg_bulk_opts *o, const char *progname)
{
	struct laps_expire_filter f = o->f;
	struct bulk_rows rows = {NULL, 0, 0};
	size_t count = 0;
	bool generic;
	int rc;

	f.dry_run = true;
	if ((rc = bulk_list(b, &f, &rows, &count, &generic)) != 0)
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
	f.dry_run = false;
	if (generic) {
		rc = generic_apply(b, &rows, f.expires_at > 0 ? f.expires_at : (int64_t)time(NULL));
	} else {
		rows.n = 0;
		rc = laps_backend_expire_many(b, &f, bulk_keep, &rows, &count);
	}
	if (rc == 0)
		printf("expired %zu account%s: their agents rotate at their next run\n", count,
		       count == 1 ? "" : "s");
out:
	free(rows.v);
	return rc;
}

/* ------------------------------------------------------------------ */
/* laps-get request HOST --reason R | approvals | approve ID | deny ID */

#define ANSWER_MAX (4 * 1024 * 1024)

/* s for a terminal: non-printable bytes become '?'. */
static void
put_clean(const char *s, int width)
{
	int n = 0;

	for (; s != NULL && *s != '\0'; s++, n++)
		putchar((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f ? *s : '?');
	for (; n < width; n++)
		putchar(' ');
}

static const char *
str_of(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return "?";
	return json_object_get_string(v);
}

static int64_t
int_of(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_int64(v);
}

static void
print_request(json_object *a, const char *progname)
{
	char t[32];

	printf("%lld  ", (long long)int_of(a, "id"));
	put_clean(str_of(a, "device"), 0);
	putchar('/');
	put_clean(str_of(a, "account"), 0);
	printf("  %s  by ", str_of(a, "state"));
	put_clean(str_of(a, "requester"), 0);
	printf("  until %s  reason: ", lg_format_time(int_of(a, "expires_at"), t, sizeof t));
	put_clean(str_of(a, "reason"), 0);
	putchar('\n');
	(void)progname;
}

static int
print_answer(const char *verb, const char *answer, const char *progname)
{
	struct json_tokener *tok = json_tokener_new_ex(8);
	json_object *o = NULL, *arr;
	size_t i, n;
	int rc = 0;

	if (tok == NULL)
		return LAPS_ERR_NOMEM;
	if (strlen(answer) < ANSWER_MAX)
		o = json_tokener_parse_ex(tok, answer, (int)strlen(answer));
	json_tokener_free(tok);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return laps_seterr(LAPS_ERR_FORMAT, "%s: the server's answer is not a JSON object",
				   verb);
	}
	if (strcmp(verb, "list") != 0) {
		print_request(o, progname);
		if (strcmp(verb, "request") == 0)
			fprintf(stderr,
				"%s: another administrator with the approve right decides it: "
				"laps-get approve %lld\n",
				progname, (long long)int_of(o, "id"));
	} else if (json_object_object_get_ex(o, "approvals", &arr) &&
		   json_object_is_type(arr, json_type_array)) {
		n = json_object_array_length(arr);
		if (n == 0)
			printf("no pending requests\n");
		for (i = 0; i < n; i++)
			print_request(json_object_array_get_idx(arr, i), progname);
	} else {
		rc = laps_seterr(LAPS_ERR_FORMAT, "approvals: no \"approvals\" list in the answer");
	}
	fflush(stdout);
	json_object_put(o);
	return rc;
}

int
lg_approval_run(struct laps_backend *b, const struct lg_approval_opts *o, const char *device,
		const char *account, const char *progname)
{
	struct laps_approval_op op = {o->verb, device, account, o->reason, o->id};
	char *answer = NULL;
	int rc;

	if ((rc = laps_backend_approval(b, &op, &answer)) != 0)
		return rc;
	if (o->json)
		printf("%s\n", answer);
	else
		rc = print_answer(o->verb, answer, progname);
	free(answer);
	return rc;
}
