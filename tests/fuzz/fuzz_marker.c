/*
 * fuzz_marker.c — libFuzzer target for the post-auth marker parser.
 * Anything accepted must format back and parse to the same marker.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/marker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct laps_marker m, again;
	char buf[LAPS_MARKER_MAX + 1];
	size_t len = 0;

	if (laps_marker_parse((const char *)data, size, &m) != 0)
		return 0;
	if (laps_marker_format(&m, buf, sizeof(buf), &len) != 0)
		abort();
	if (laps_marker_parse(buf, len, &again) != 0 || memcmp(&m, &again, sizeof(m)) != 0)
		abort();
	return 0;
}
