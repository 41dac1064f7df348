/*
 * policy.c — laps-get's side of laps-escrowd's escrow policies: the
 * "rotated by" notice of a read under rotate_after_read.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

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
