/*
 * ldap_filetime.c — Windows FILETIME (100 ns since 1601) to and from Unix
 * time, its decimal and hex forms, and the rotation tag the Microsoft
 * schema modes keep in the expiration value (ldap_backend.h); shared by
 * ldap_ms.c (cleartext) and ldap_msenc.c (encrypted).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "backends/ldap_int.h"
#include "escrow/err.h"

/* ------------------------------------------------------------------ */
/* FILETIME                                                             */

int
laps_filetime_from_unix(int64_t unix_seconds, uint64_t *ft)
{
	const int64_t min = -11644473600LL;
	const int64_t max = (int64_t)((UINT64_MAX / LAPS_FILETIME_PER_SEC) - 11644473600ULL);

	if (unix_seconds < min || unix_seconds > max)
		return laps_seterr(LAPS_ERR_INVALID, "time %" PRId64 " out of FILETIME range",
				   unix_seconds);
	*ft = ((uint64_t)(unix_seconds - min)) * LAPS_FILETIME_PER_SEC;
	return 0;
}

int64_t
laps_filetime_to_unix(uint64_t ft)
{
	return (int64_t)(ft / LAPS_FILETIME_PER_SEC) - 11644473600LL;
}

char *
laps_filetime_format_dec(uint64_t ft, char buf[LAPS_FILETIME_DEC_MAX])
{
	(void)snprintf(buf, LAPS_FILETIME_DEC_MAX, "%" PRIu64, ft);
	return buf;
}

char *
laps_filetime_format_hex(uint64_t ft, char buf[LAPS_FILETIME_HEX_MAX])
{
	(void)snprintf(buf, LAPS_FILETIME_HEX_MAX, "%" PRIx64, ft);
	return buf;
}

int
laps_filetime_parse_dec(const char *s, size_t len, uint64_t *ft)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return laps_seterr(LAPS_ERR_FORMAT, "FILETIME: bad length");
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return laps_seterr(LAPS_ERR_FORMAT, "FILETIME: not a decimal number");
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return laps_seterr(LAPS_ERR_FORMAT, "FILETIME: out of range");
		v = v * 10 + d;
	}
	*ft = v;
	return 0;
}

/* A hex digit's value, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
laps_filetime_parse_hex(const char *s, size_t len, uint64_t *ft)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 16)
		return laps_seterr(LAPS_ERR_FORMAT, "FILETIME: bad hex length");
	for (i = 0; i < len; i++) {
		int d = hexval(s[i]);

		if (d < 0)
			return laps_seterr(LAPS_ERR_FORMAT, "FILETIME: not a hex number");
		v = (v << 4) | (unsigned)d;
	}
	*ft = v;
	return 0;
}

uint32_t
laps_ms_rotation_tag(const char *rotation_id)
{
	uint32_t v = 0;
	size_t i;

	/* lower-case hex as generated; any other character counts as 0 */
	for (i = 0; i < 8 && rotation_id[i] != '\0'; i++) {
		char ch = rotation_id[i];
		int d = (ch >= 'A' && ch <= 'F') ? 0 : hexval(ch);

		v = (v << 4) | (d < 0 ? 0U : (unsigned)d);
	}
	return v % LAPS_MS_TAG_MOD;
}
