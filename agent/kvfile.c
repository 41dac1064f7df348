/*
 * kvfile.c — what the agent's two "key=value" files under <state_dir>
 * (journal.c, state.c) share: paths, bounded output, strict parsing.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent/kvfile.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/record.h"

int
laps_kvfile_valid_account(const char *a)
{
	size_t i, n = strlen(a);

	if (n == 0 || n > LAPS_ACCOUNT_MAX || a[0] == '-' || a[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= 'A' && a[i] <= 'Z') ||
		      (a[i] >= '0' && a[i] <= '9') || a[i] == '_' || a[i] == '-' || a[i] == '.' ||
		      (a[i] == '$' && i == n - 1)))
			return 0;
	return 1;
}

int
laps_kvfile_path(const char *state_dir, const char *kind, const char *account, char *buf,
		 size_t len)
{
	if (!laps_kvfile_valid_account(account))
		return laps_seterr(LAPS_ERR_INVALID, "invalid account name");
	return laps_snprintf(buf, len, "%s/%s.%s", state_dir, kind, account);
}

int
laps_kvfile_put(char *buf, size_t cap, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *off, cap - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *off)
		return LAPS_ERR_TOOBIG;
	*off += (size_t)n;
	return 0;
}

int
laps_kvfile_parse(const char *buf, size_t len, const char *magic, const char *what,
		  laps_kvfile_cb cb, void *ctx)
{
	const char *p = buf, *end = buf + len, *eol, *eq;
	char key[32];
	size_t ml = strlen(magic), kl;
	int rc;

	if (len < ml + 1 || memcmp(buf, magic, ml) != 0 || buf[ml] != '\n')
		return laps_seterr(LAPS_ERR_FORMAT, "%s: bad or unsupported magic line", what);
	p = buf + ml + 1;
	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			return laps_seterr(LAPS_ERR_FORMAT, "%s: last line not terminated", what);
		eq = memchr(p, '=', (size_t)(eol - p));
		if (eq == NULL || (kl = (size_t)(eq - p)) == 0 || kl >= sizeof key)
			return laps_seterr(LAPS_ERR_FORMAT, "%s: malformed line", what);
		memcpy(key, p, kl);
		key[kl] = '\0';
		if ((rc = cb(ctx, key, eq + 1, (size_t)(eol - eq - 1))) != 0)
			return rc;
		p = eol + 1;
	}
	return 0;
}

int
laps_kvfile_prefix_err(int rc, const char *path)
{
	return laps_seterr_prefix(rc, "%s", path);
}

int
laps_kvfile_copy_str(char *dst, size_t cap, const char *v, size_t n, const char *what,
		     const char *key)
{
	size_t i;

	if (n >= cap)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: %s too long", what, key);
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] >= 0x7f)
			return laps_seterr(LAPS_ERR_FORMAT, "%s: %s has a control character", what,
					   key);
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

int
laps_kvfile_copy_int(long long *out, const char *v, size_t n, long long min, long long max,
		     const char *what, const char *key)
{
	char tmp[24];

	if (n == 0 || n >= sizeof tmp)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: bad %s", what, key);
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	if (laps_parse_int64(tmp, min, max, out) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: bad %s", what, key);
	return 0;
}

int
laps_kvfile_valid_rotid(const char *s)
{
	size_t i;

	if (strlen(s) != LAPS_ROTID_HEX)
		return 0;
	for (i = 0; i < LAPS_ROTID_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}
