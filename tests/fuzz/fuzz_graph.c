/*
 * fuzz_graph.c — libFuzzer target for laps-get's Microsoft Graph response
 * parsers (device lookup and credentials) and the JSON output built from
 * what they accept.
 *
 * Whatever the credentials parser accepts must have a current password
 * (NUL-free, at most LAPS_PASSWORD_MAX bytes) and serialise to JSON.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/secret.h"
#include "laps-get/lapsget.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct lg_result r;
	char id[129], name[LAPS_DEVICE_MAX + 1], *json = NULL;

	if (!init) {
		if (laps_crypto_init() != 0)
			abort();
		init = 1;
	}
	(void)lg_graph_parse_lookup((const char *)data, size, id, sizeof id, name, sizeof name);
	lg_result_init(&r);
	if (lg_graph_parse_credentials((const char *)data, size, NULL, 5, true, &r) == 0) {
		if (r.cur.password == NULL || strlen(r.cur.password) > LAPS_PASSWORD_MAX)
			abort();
		if (lg_json_string(&r, &json) != 0)
			abort();
		laps_freezero(json, strlen(json) + 1);
	}
	lg_result_clear(&r);
	return 0;
}
