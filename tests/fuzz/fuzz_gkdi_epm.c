/*
 * fuzz_gkdi_epm.c — libFuzzer target for the endpoint mapper's ept_map
 * answer (backends/gkdi_epm.c): towers, floors, the TCP port.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "backends/gkdi_rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned port = 0;

	if (gkdi_epm_map_parse(data, size, &port) == 0 && (port == 0 || port > 65535))
		abort();
	return 0;
}
