/*
 * fuzz_record.c — libFuzzer target for laps_record_parse.
 *
 * Whatever parses must validate, serialise, and parse back to a record that
 * serialises to the same bytes (the writer's form is a fixed point).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct laps_record r, r2;
	char *j1 = NULL, *j2 = NULL;

	laps_record_init(&r);
	laps_record_init(&r2);
	if (laps_record_parse((const char *)data, size, &r) != 0)
		goto out;
	if (laps_record_validate(&r) != 0)
		abort();
	if (laps_record_serialise(&r, &j1) != 0)
		abort();
	if (laps_record_parse(j1, strlen(j1), &r2) != 0)
		abort();
	if (laps_record_serialise(&r2, &j2) != 0 || strcmp(j1, j2) != 0)
		abort();
out:
	free(j1);
	free(j2);
	laps_record_clear(&r);
	laps_record_clear(&r2);
	return 0;
}
