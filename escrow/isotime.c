/*
 * isotime.c — ISO 8601 timestamps in and out (UTC), shared by laps-get and
 * the backends that read times from servers (graph).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "escrow/err.h"
#include "escrow/isotime.h"

#define LG_WHEN_MAX LAPS_ISOTIME_MAX

/* n decimal digits at *p into *v; advances *p. */
static int
digits(const char **p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return -1;
		x = x * 10 + (c - '0');
	}
	*p += n;
	*v = x;
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

int
laps_isotime_parse(const char *s, bool need_time, int64_t *out)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	struct tm tm;
	time_t t;

	if (strlen(s) > LG_WHEN_MAX)
		goto bad;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		goto bad;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		goto bad;
	if (*p == '\0') {
		if (need_time)
			goto bad;
		goto convert;
	}
	if (*p != 'T' && *p != 't' && *p != ' ')
		goto bad;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
		goto bad;
	if (*p == ':') {
		p++;
		if (digits(&p, 2, &sec))
			goto bad;
		if (*p == '.' || *p == ',') {
			p++;
			if (*p < '0' || *p > '9')
				goto bad;
			while (*p >= '0' && *p <= '9') /* fractions are dropped */
				p++;
		}
	}
	if (h > 23 || mi > 59 || sec > 60)
		goto bad;
	if (sec == 60)
		sec = 59;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;

		p++;
		if (digits(&p, 2, &oh))
			goto bad;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) || oh > 23 || om > 59)
			goto bad;
		off = sign * (oh * 3600 + om * 60);
	} else {
		goto bad; /* a time without a zone is ambiguous */
	}
	if (*p != '\0')
		goto bad;
convert:
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		goto bad;
	*out = (int64_t)t - off;
	return 0;
bad:
	return laps_seterr(LAPS_ERR_INVALID,
			   "'%.*s' is not an ISO 8601 date/time (e.g. 2026-01-31T12:00:00Z)",
			   LG_WHEN_MAX, s);
}

const char *
laps_isotime_format(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (len == 0)
		return buf;
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
	return buf;
}
