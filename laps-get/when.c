/*
 * when.c — times for laps-get: --expire WHEN (ISO 8601 itself is escrow/isotime.c).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "escrow/err.h"
#include "escrow/isotime.h"
#include "laps-get/lapsget.h"

#define LG_WHEN_MAX LAPS_ISOTIME_MAX

int
lg_parse_iso8601(const char *s, int64_t *out)
{
	if (s == NULL || out == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "no time given");
	return laps_isotime_parse(s, true, out);
}

int
lg_parse_when(const char *s, int64_t now, int64_t *out)
{
	int64_t v;
	int rc;

	if (s == NULL || out == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "no time given");
	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (s[0] == '+') {
		rc = laps_config_parse_duration(s + 1, &v);
		if (rc != 0 || v < 0 || v > 100LL * 366 * 86400)
			return laps_seterr(LAPS_ERR_INVALID,
					   "'%.*s' is not a duration (e.g. +2h, +30m, +7d)",
					   LG_WHEN_MAX, s);
		*out = now + v;
		return 0;
	}
	return laps_isotime_parse(s, false, out);
}

const char *
lg_format_time(int64_t t, char *buf, size_t len)
{
	return laps_isotime_format(t, buf, len);
}
