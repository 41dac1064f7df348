/*
 * fuzz_dcerpc.c — libFuzzer target for the DCE/RPC PDU parsers of the
 * GetKey client (backends/dcerpc_pdu.c): the fragment header, the whole
 * fragment with its sec_trailer, and then, as its type says, the bind,
 * bind_ack / bind_nak or request / response / fault body.  Every view a
 * parser returns must lie inside the input.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "backends/dcerpc_pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(const uint8_t *data, size_t size, const uint8_t *p, size_t n)
{
	if (n > 0 && (p < data || p + n > data + size))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dcerpc_pdu p;
	struct dcerpc_call c;
	struct dcerpc_syntax s;
	size_t fl;
	uint16_t u;

	if (dcerpc_frag_len(data, size, &fl) == 0 && fl > DCERPC_FRAG_MAX)
		abort();
	if (dcerpc_pdu_parse(data, size, &p) != 0)
		return 0;
	inside(data, size, p.body, p.body_len);
	inside(data, size, p.auth.value, p.auth.value_len);
	if (p.ptype == DCERPC_BIND)
		(void)dcerpc_bind_parse(&p, &u, &s);
	else if (p.ptype == DCERPC_BIND_ACK || p.ptype == DCERPC_BIND_NAK)
		(void)dcerpc_bind_ack_parse(&p, &u);
	else if (dcerpc_call_parse(&p, &c) == 0)
		inside(data, size, c.stub, c.stub_len);
	return 0;
}
