/*
 * err.c — error strings and the per-thread error detail.
 */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "escrow/err.h"

static __thread char laps_detail[1024];

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

int
laps_seterr(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(laps_detail, sizeof(laps_detail), fmt, ap) < 0)
		laps_detail[0] = '\0';
	va_end(ap);
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
