/*
 * fuzz_graph.c — libFuzzer target for the graph backend's Microsoft Graph
 * response parsers (device lookup and credentials) and laps-get's JSON
 * output built from what they accept.
 *
 * Whatever the credentials parser accepts must have a newest password
 * (NUL-free, at most LAPS_PASSWORD_MAX bytes) that laps-get opens without a
 * key and serialises to JSON.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/secret.h"
#include "backends/graph_backend.h"
#include "laps-get/lapsget.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct laps_record_list l = {NULL, 0};
	struct lg_keysrc ks;
	struct lg_result r;
	char id[129], name[LAPS_DEVICE_MAX + 1], *json = NULL;

	if (!init) {
		if (laps_crypto_init() != 0)
			abort();
		init = 1;
	}
	(void)laps_graph_parse_lookup((const char *)data, size, id, sizeof id, name, sizeof name);
	lg_result_init(&r);
	lg_keysrc_init(&ks, NULL, -1);
	if (laps_graph_parse_credentials((const char *)data, size, NULL, &l) == 0) {
		if (l.n == 0 || l.v[0].password == NULL ||
		    strlen(l.v[0].password) > LAPS_PASSWORD_MAX)
			abort();
		if (lg_open_record(&l.v[0], &ks, NULL, &r.cur) != 0)
			abort();
		if (lg_json_string(&r, &json) != 0)
			abort();
		laps_freezero(json, strlen(json) + 1);
	}
	laps_record_list_free(&l);
	lg_result_clear(&r);
	lg_keysrc_clear(&ks);
	return 0;
}
