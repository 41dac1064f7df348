/*
 * err.c — error strings and the per-thread error detail.
 */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "escrow/err.h"

static __thread char laps_detail[LAPS_ERRDETAIL_MAX + 1];

static const char *const laps_errstrs[] = {
	[0] = "success",
	[-LAPS_ERR_INTERNAL] = "internal error",
	[-LAPS_ERR_NOMEM] = "out of memory",
	[-LAPS_ERR_INVALID] = "invalid argument",
	[-LAPS_ERR_IO] = "I/O error",
	[-LAPS_ERR_CONFIG] = "configuration error",
	[-LAPS_ERR_PERM] = "unsafe permissions or not permitted",
	[-LAPS_ERR_NOTFOUND] = "not found",
	[-LAPS_ERR_CONFLICT] = "changed concurrently (compare-and-set conflict)",
	[-LAPS_ERR_FORMAT] = "malformed data",
	[-LAPS_ERR_VERSION] = "unsupported format version",
	[-LAPS_ERR_TOOBIG] = "input too large",
	[-LAPS_ERR_CRYPTO] = "decryption or authentication failed",
	[-LAPS_ERR_NOTRECIPIENT] = "this key is not a recipient",
	[-LAPS_ERR_PASSPHRASE] = "wrong or missing passphrase",
	[-LAPS_ERR_UNAVAILABLE] = "escrow backend unreachable",
	[-LAPS_ERR_TIMEOUT] = "operation timed out",
	[-LAPS_ERR_AUTH] = "authentication to the backend failed",
	[-LAPS_ERR_ACCESS] = "access denied",
	[-LAPS_ERR_AMBIGUOUS] = "several entries match",
	[-LAPS_ERR_UNSUPPORTED] = "operation not supported",
	[-LAPS_ERR_LOCKED] = "lock held by another process",
	[-LAPS_ERR_ACCOUNT] = "local account unusable",
	[-LAPS_ERR_REFUSED] = "password refused by local policy",
	[-LAPS_ERR_VERIFY] = "verification failed",
	[-LAPS_ERR_TLS] = "TLS failure",
	[-LAPS_ERR_SCHEMA] = "directory schema problem",
	[-LAPS_ERR_FAULT] = "injected fault",
	[-LAPS_ERR_BACKEND] = "escrow backend error",
	[-LAPS_ERR_BUSY] = "server busy or rate limited",
};

const char *
laps_strerror(int err)
{
	if (err > 0 || err <= LAPS_ERR_LAST_)
		return "unknown error";
	if (laps_errstrs[-err] == NULL)
		return "unknown error";
	return laps_errstrs[-err];
}

bool
laps_err_transient(int err)
{
	return err == LAPS_ERR_UNAVAILABLE || err == LAPS_ERR_TIMEOUT || err == LAPS_ERR_BUSY;
}

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if none. */
static size_t
utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t len, i;
	unsigned long c;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0; /* ASCII, continuation byte, C0/C1 lead bytes, 0xf5-0xff */
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0; /* overlong, out of range, surrogate */
	*cp = c;
	return len;
}

/* Code points kept as escapes although valid UTF-8 (see laps_escape). */
static int
cp_unsafe(unsigned long c)
{
	return c <= 0x9f || c == 0x2028 || c == 0x2029 || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069);
}

/* One input unit at src as its output text into out[16]; returns the input
 * bytes consumed, *outlen the output bytes. */
static size_t
escape_unit(const unsigned char *src, size_t n, char out[16], size_t *outlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned long cp = 0;
	size_t len, i;

	if (src[0] == '\n' || src[0] == '\r' || src[0] == '\t') {
		out[0] = '\\';
		out[1] = src[0] == '\n' ? 'n' : src[0] == '\r' ? 'r' : 't';
		*outlen = 2;
		return 1;
	}
	if (src[0] >= 0x20 && src[0] < 0x7f) {
		out[0] = (char)src[0];
		*outlen = 1;
		return 1;
	}
	len = utf8_seq(src, n, &cp);
	if (len > 0 && !cp_unsafe(cp)) {
		memcpy(out, src, len);
		*outlen = len;
		return len;
	}
	if (len == 0)
		len = 1;
	for (i = 0; i < len; i++) {
		out[4 * i] = '\\';
		out[4 * i + 1] = 'x';
		out[4 * i + 2] = hex[src[i] >> 4];
		out[4 * i + 3] = hex[src[i] & 0x0f];
	}
	*outlen = 4 * len;
	return len;
}

size_t
laps_escape(char *dst, size_t cap, const char *src, size_t srclen, int *truncated)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, mark = 0, used, olen;
	char unit[16];

	if (truncated != NULL)
		*truncated = 0;
	if (dst == NULL || cap < 4)
		return 0;
	while (src != NULL && i < srclen) {
		used = escape_unit(s + i, srclen - i, unit, &olen);
		if (o + olen > cap - 1) {
			/* back to the last unit boundary that leaves room for "..." */
			memcpy(dst + mark, "...", 3);
			o = mark + 3;
			if (truncated != NULL)
				*truncated = 1;
			break;
		}
		memcpy(dst + o, unit, olen);
		o += olen;
		i += used;
		if (o + 3 <= cap - 1)
			mark = o;
	}
	dst[o] = '\0';
	return o;
}

/* Escape raw (NUL-terminated) into the detail buffer. */
static void
store_detail(const char *raw)
{
	laps_escape(laps_detail, sizeof(laps_detail), raw, strlen(raw), NULL);
}

int
laps_seterr(int err, const char *fmt, ...)
{
	char raw[LAPS_ERRDETAIL_MAX + 1];
	va_list ap;

	/* format into raw, not laps_detail: an argument may be laps_errdetail() */
	va_start(ap, fmt);
	if (vsnprintf(raw, sizeof(raw), fmt, ap) < 0)
		raw[0] = '\0';
	va_end(ap);
	store_detail(raw);
	return err;
}

int
laps_seterr_prefix(int err, const char *fmt, ...)
{
	char prefix[LAPS_ERRDETAIL_MAX + 1], raw[2 * LAPS_ERRDETAIL_MAX + 8];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(prefix, sizeof(prefix), fmt, ap) < 0)
		prefix[0] = '\0';
	va_end(ap);
	if (laps_detail[0] != '\0')
		snprintf(raw, sizeof(raw), "%s: %s", prefix, laps_detail);
	else
		snprintf(raw, sizeof(raw), "%s", prefix);
	store_detail(raw);
	return err;
}

const char *
laps_errdetail(void)
{
	return laps_detail;
}

void
laps_clearerr(void)
{
	laps_detail[0] = '\0';
}

const char *
laps_errstr(int err, char *buf, size_t len)
{
	if (len == 0)
		return "";
	if (laps_detail[0] != '\0')
		snprintf(buf, len, "%s: %s", laps_strerror(err), laps_detail);
	else
		snprintf(buf, len, "%s", laps_strerror(err));
	return buf;
}
