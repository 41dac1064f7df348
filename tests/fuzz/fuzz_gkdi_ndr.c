/*
 * fuzz_gkdi_ndr.c — libFuzzer target for the NDR of MS-GKDI GetKey
 * (backends/gkdi_ndr.c): the input as a response stub (what the client
 * reads from a domain controller) and as a request stub (what the test
 * server reads).  What parses must encode back to the same bytes (NDR has
 * one encoding for these, pad bytes aside, which must be zero here).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/gkdi_ndr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[GKDI_ENVELOPE_MAX + 64];
	struct gkdi_getkey_resp r;
	struct gkdi_getkey_req q;
	size_t n;

	if (gkdi_ndr_resp_parse(data, size, &r) == 0) {
		if (r.out != NULL && (r.out < data || r.out + r.out_len > data + size))
			abort();
		if (gkdi_ndr_resp_encode(&r, again, sizeof again, &n) != 0 || n != size)
			abort();
	}
	if (gkdi_ndr_req_parse(data, size, &q) == 0) {
		if (q.sd + q.sd_len > data + size)
			abort();
		if (gkdi_ndr_req_encode(&q, again, sizeof again, &n) != 0 || n != size)
			abort();
	}
	return 0;
}
