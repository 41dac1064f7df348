/*
 * fuzz_rest.c — libFuzzer target for the REST backend's answer parsers
 * (backends/rest_json.c): record metadata, problem+json, device pages,
 * history, report pages, token answers, OAuth errors, device
 * authorization answers, Retry-After and ETag checks.
 *
 * Whatever a parser accepts must hold what it promises: metadata names a
 * valid device and account, a token is a b64token, a device page holds
 * only valid device names, a report row has valid names and a record.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/rest_json.h"
#include "escrow/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
report_row(void *arg, const struct laps_report_row *row)
{
	(void)arg;
	if (!row->has_record || !laps_record_device_ok(row->device) ||
	    !laps_record_account_ok(row->account))
		abort();
	return 0;
}

static void
strings(const char *s, size_t size)
{
	char *z = malloc(size + 1);
	int64_t secs;

	if (z == NULL)
		return;
	memcpy(z, s, size);
	z[size] = '\0';
	(void)rest_parse_retry_after(z, 1700000000, &secs);
	(void)rest_etag_ok(z);
	(void)rest_token_ok(z);
	free(z);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	const char *s = (const char *)data;
	struct laps_record r;
	struct laps_record_list l = {NULL, 0};
	struct rest_device_auth d;
	char code[REST_CODE_MAX], detail[REST_DETAIL_MAX], next[REST_PAGE_TOKEN_MAX + 1];
	char devs[8][LAPS_DEVICE_MAX + 1], *a = NULL, *rf = NULL;
	size_t n = 0, i;
	int64_t seq, exp;

	if (!init) {
		if (laps_crypto_init() != 0)
			abort();
		init = 1;
	}
	laps_record_init(&r);
	if (rest_parse_meta(s, size, "fuzz", &r, &seq) == 0 &&
	    (!laps_record_device_ok(r.device) || !laps_record_account_ok(r.account) ||
	     r.envelope != NULL))
		abort();
	laps_record_clear(&r);
	(void)rest_parse_problem(s, size, code, detail);
	if (rest_parse_devices(s, size, "fuzz", devs, 8, &n, next) == 0)
		for (i = 0; i < n; i++)
			if (!laps_record_device_ok(devs[i]))
				abort();
	if (rest_parse_report(s, size, "fuzz", report_row, NULL, &n, next) == 0 && n == 0 &&
	    next[0] != '\0')
		abort();
	/* POST /v1/expire's answer (bulk expiry): count must equal the entries */
	if (rest_parse_expire_many(s, size, "fuzz", report_row, NULL, &n) == 0 && n > size)
		abort();
	if (rest_parse_history(s, size, "fuzz", 5, &l) == 0 && l.n > 5)
		abort();
	laps_record_list_free(&l);
	if (rest_parse_token(s, size, "fuzz", &a, &exp, &rf) == 0 &&
	    (!rest_token_ok(a) || (rf != NULL && !rest_token_ok(rf))))
		abort();
	laps_secret_free(a);
	laps_secret_free(rf);
	(void)rest_parse_oauth_error(s, size, code);
	memset(&d, 0, sizeof d);
	if (rest_parse_device_auth(s, size, "fuzz", &d) == 0 &&
	    strncmp(d.verification_uri, "https://", 8) != 0)
		abort();
	rest_device_auth_clear(&d);
	if (size < 256)
		strings(s, size);
	return 0;
}
