/*
 * test_gkdi_rpc.c — the GetKey client's PDUs and NDR (backends/dcerpc_pdu.c,
 * gkdi_ndr.c, gkdi_epm.c): exact bytes of what we send, and the parsers'
 * refusals.  The bytes were worked out by hand from C706 / MS-RPCE /
 * MS-GKDI; tests/integration/gkdi_rpc.sh also reads them with impacket.
 */
#include "config.h"

#include <CUnit/CUnit.h>
#include <string.h>

#include "backends/dcerpc_pdu.h"
#include "backends/gkdi_ndr.h"
#include "backends/gkdi_rpc.h"
#include "escrow/err.h"
#include "tests/unit/testutil.h"

static const uint8_t guid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void
test_req_bytes(void)
{
	static const uint8_t sd[5] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5};
	static const uint8_t want[] = {
	    5,	  0,	0,    0,    5,	  0,  0,  0,		     /* cbTargetSD, max_count */
	    0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0,  0,  0,		     /* SD + pad to 4 */
	    0,	  0,	2,    0,    1,	  2,  3,  4,  5,    6, 7, 8, /* referent, GUID */
	    9,	  10,	11,   12,   13,	  14, 15, 16, 0x6c, 1, 0, 0, /* L0 = 364 */
	    0xff, 0xff, 0xff, 0xff, 31,	  0,  0,  0,		     /* L1 -1, L2 31 */
	};
	struct gkdi_getkey_req r = {sd, sizeof sd, guid, 364, -1, 31}, p;
	uint8_t out[128];
	size_t n;

	CU_ASSERT_EQUAL_FATAL(gkdi_ndr_req_encode(&r, out, sizeof out, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, sizeof want);
	CU_ASSERT_EQUAL(memcmp(out, want, n), 0);
	CU_ASSERT_EQUAL_FATAL(gkdi_ndr_req_parse(out, n, &p), 0);
	CU_ASSERT_EQUAL(p.sd_len, 5);
	CU_ASSERT_EQUAL(memcmp(p.root_key_id, guid, 16), 0);
	CU_ASSERT_EQUAL(p.l0, 364);
	CU_ASSERT_EQUAL(p.l1, -1);
	CU_ASSERT_EQUAL(p.l2, 31);
	/* no root key: a NULL pointer, no GUID */
	r.root_key_id = NULL;
	CU_ASSERT_EQUAL_FATAL(gkdi_ndr_req_encode(&r, out, sizeof out, &n), 0);
	CU_ASSERT_EQUAL(n, sizeof want - 16);
	CU_ASSERT_EQUAL(memcmp(out + 16, "\0\0\0\0", 4), 0);
	CU_ASSERT_EQUAL_FATAL(gkdi_ndr_req_parse(out, n, &p), 0);
	CU_ASSERT_PTR_NULL(p.root_key_id);
	CU_ASSERT_EQUAL(gkdi_ndr_req_parse(out, n - 1, &p), LAPS_ERR_FORMAT);
	out[4] = 6; /* max_count != cbTargetSD */
	CU_ASSERT_EQUAL(gkdi_ndr_req_parse(out, n, &p), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(gkdi_ndr_req_encode(&r, out, 10, &n), LAPS_ERR_TOOBIG);
}

static void
test_resp(void)
{
	static const uint8_t env[6] = {'K', 'D', 'S', 'K', 1, 2};
	static const uint8_t want[] = {6,   0,	 0,   0,   0, 0, 2, 0, 6, 0, 0, 0,
				       'K', 'D', 'S', 'K', 1, 2, 0, 0, 0, 0, 0, 0};
	struct gkdi_getkey_resp r = {env, sizeof env, 0}, p;
	uint8_t out[64];
	size_t n, i;

	CU_ASSERT_EQUAL_FATAL(gkdi_ndr_resp_encode(&r, out, sizeof out, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, sizeof want);
	CU_ASSERT_EQUAL(memcmp(out, want, n), 0);
	CU_ASSERT_EQUAL_FATAL(gkdi_ndr_resp_parse(out, n, &p), 0);
	CU_ASSERT_EQUAL(p.out_len, 6);
	CU_ASSERT_EQUAL(memcmp(p.out, env, 6), 0);
	CU_ASSERT_EQUAL(p.hresult, 0);
	for (i = 0; i < n; i++) /* every truncation */
		CU_ASSERT_NOT_EQUAL(gkdi_ndr_resp_parse(out, i, &p), 0);
	out[0] = 0xff; /* pcbOut over the cap */
	out[1] = 0xff;
	CU_ASSERT_EQUAL(gkdi_ndr_resp_parse(out, n, &p), LAPS_ERR_TOOBIG);
	/* access denied: a NULL key and the HRESULT */
	r.out = NULL;
	r.out_len = 0;
	r.hresult = GKDI_HRESULT_ACCESS_DENIED;
	CU_ASSERT_EQUAL_FATAL(gkdi_ndr_resp_encode(&r, out, sizeof out, &n), 0);
	CU_ASSERT_EQUAL(n, 12);
	CU_ASSERT_EQUAL_FATAL(gkdi_ndr_resp_parse(out, n, &p), 0);
	CU_ASSERT_PTR_NULL(p.out);
	CU_ASSERT_EQUAL(p.hresult, 0x80070005u);
	CU_ASSERT_EQUAL(memcmp(out + 8, "\x05\x00\x07\x80", 4), 0);
}

static void
test_bind(void)
{
	uint8_t body[64], pdu[256];
	struct dcerpc_auth a = {
	    DCERPC_AUTHN_KERBEROS, DCERPC_LEVEL_PRIVACY, 0, 7, (const uint8_t *)"TOKEN", 5};
	struct dcerpc_pdu p;
	struct dcerpc_syntax s;
	size_t blen, n;
	uint16_t ctx, mr;

	CU_ASSERT_EQUAL_FATAL(dcerpc_bind_body(&gkdi_isdkey, body, sizeof body, &blen), 0);
	CU_ASSERT_EQUAL_FATAL(
	    dcerpc_pdu_build(pdu, sizeof pdu, DCERPC_BIND, 7, 1, body, blen, 0, &a, &n), 0);
	CU_ASSERT_EQUAL(n, 16 + 56 + 8 + 5);
	/* header: 05 00 0b 07 10000000 frag auth call_id */
	CU_ASSERT_EQUAL(
	    memcmp(pdu, "\x05\x00\x0b\x07\x10\x00\x00\x00\x55\x00\x05\x00\x01\x00\x00\x00", 16), 0);
	/* the abstract syntax: b9785960-524f-11df-8b6d-83dcded72085 v1.0 */
	CU_ASSERT_EQUAL(memcmp(pdu + 32, "\x60\x59\x78\xb9\x4f\x52\xdf\x11\x8b\x6d", 10), 0);
	CU_ASSERT_EQUAL(memcmp(pdu + 16 + 56, "\x10\x06\x00\x00\x07\x00\x00\x00TOKEN", 13), 0);
	CU_ASSERT_EQUAL_FATAL(dcerpc_pdu_parse(pdu, n, &p), 0);
	CU_ASSERT_EQUAL(p.auth.value_len, 5);
	CU_ASSERT_EQUAL(memcmp(p.auth.value, "TOKEN", 5), 0);
	CU_ASSERT_EQUAL_FATAL(dcerpc_bind_parse(&p, &ctx, &s), 0);
	CU_ASSERT_EQUAL(memcmp(&s, &gkdi_isdkey, sizeof s), 0);
	/* bind_ack accepted / refused */
	CU_ASSERT_EQUAL_FATAL(dcerpc_bind_ack_body(true, body, sizeof body, &blen), 0);
	CU_ASSERT_EQUAL_FATAL(
	    dcerpc_pdu_build(pdu, sizeof pdu, DCERPC_BIND_ACK, 3, 1, body, blen, 0, NULL, &n), 0);
	CU_ASSERT_EQUAL_FATAL(dcerpc_pdu_parse(pdu, n, &p), 0);
	CU_ASSERT_EQUAL(dcerpc_bind_ack_parse(&p, &mr), 0);
	CU_ASSERT_EQUAL(mr, DCERPC_FRAG_MAX);
	CU_ASSERT_EQUAL_FATAL(dcerpc_bind_ack_body(false, body, sizeof body, &blen), 0);
	CU_ASSERT_EQUAL_FATAL(
	    dcerpc_pdu_build(pdu, sizeof pdu, DCERPC_BIND_ACK, 3, 1, body, blen, 0, NULL, &n), 0);
	CU_ASSERT_EQUAL_FATAL(dcerpc_pdu_parse(pdu, n, &p), 0);
	CU_ASSERT_EQUAL(dcerpc_bind_ack_parse(&p, &mr), LAPS_ERR_UNSUPPORTED);
	pdu[2] = DCERPC_BIND_NAK;
	CU_ASSERT_EQUAL_FATAL(dcerpc_pdu_parse(pdu, n, &p), 0);
	CU_ASSERT_EQUAL(dcerpc_bind_ack_parse(&p, &mr), LAPS_ERR_UNSUPPORTED);
}

static void
test_header_checks(void)
{
	uint8_t pdu[64];
	struct dcerpc_pdu p;
	struct dcerpc_call c;
	uint8_t body[16] = {8, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0};
	size_t n, fl;

	CU_ASSERT_EQUAL_FATAL(
	    dcerpc_pdu_build(pdu, sizeof pdu, DCERPC_FAULT, 3, 9, body, 16, 0, NULL, &n), 0);
	CU_ASSERT_EQUAL_FATAL(dcerpc_pdu_parse(pdu, n, &p), 0);
	CU_ASSERT_EQUAL_FATAL(dcerpc_call_parse(&p, &c), 0);
	CU_ASSERT_EQUAL(c.status, 5);
	CU_ASSERT_EQUAL(p.call_id, 9);
	CU_ASSERT_EQUAL(dcerpc_pdu_parse(pdu, n - 1, &p), LAPS_ERR_FORMAT);
	pdu[0] = 4;
	CU_ASSERT_EQUAL(dcerpc_frag_len(pdu, n, &fl), LAPS_ERR_FORMAT);
	pdu[0] = 5;
	pdu[4] = 0; /* big-endian drep */
	CU_ASSERT_EQUAL(dcerpc_frag_len(pdu, n, &fl), LAPS_ERR_UNSUPPORTED);
	pdu[4] = 0x10;
	pdu[8] = 0xff; /* frag_length 0x??ff over the cap */
	pdu[9] = 0xff;
	CU_ASSERT_EQUAL(dcerpc_frag_len(pdu, n, &fl), LAPS_ERR_TOOBIG);
	pdu[8] = (uint8_t)n;
	pdu[9] = 0;
	pdu[10] = 30; /* auth_length beyond the fragment */
	CU_ASSERT_EQUAL(dcerpc_frag_len(pdu, n, &fl), LAPS_ERR_FORMAT);
}

static void
test_epm(void)
{
	uint8_t req[256], resp[256];
	size_t n, o;
	unsigned port = 0;

	CU_ASSERT_EQUAL_FATAL(gkdi_epm_map_req(req, sizeof req, &n), 0);
	CU_ASSERT_EQUAL(n, 4 + 16 + 4 + 8 + 76 + 20 + 4);
	CU_ASSERT_EQUAL(req[28], 75); /* tower_length */
	CU_ASSERT_EQUAL(req[32], 5);  /* floors */
	CU_ASSERT_EQUAL(req[36], 0x0d);
	CU_ASSERT_EQUAL(memcmp(req + 37, gkdi_isdkey.uuid, 16), 0);
	/* an answer: handle, 1 tower, max 1 offset 0 actual 1, referent, the
	 * request's tower with port 49667 (0xc203) */
	memset(resp, 0, sizeof resp);
	resp[20] = 1;
	resp[24] = 1;
	resp[32] = 1;
	resp[36] = 3;
	o = 40;
	resp[o] = 75;
	resp[o + 4] = 75;
	memcpy(resp + o + 8, req + 32, 75);
	resp[o + 8 + 2 + 25 + 25 + 7 + 5] = 0xc2; /* the port floor's rhs */
	resp[o + 8 + 2 + 25 + 25 + 7 + 6] = 0x03;
	n = o + 8 + 76 + 4;
	CU_ASSERT_EQUAL(gkdi_epm_map_parse(resp, n, &port), 0);
	CU_ASSERT_EQUAL(port, 49667);
	CU_ASSERT_NOT_EQUAL(gkdi_epm_map_parse(resp, n - 8, &port), 0);
	resp[n - 4] = 0xd6; /* status ept_s_not_registered 0x16c9a0d6 */
	CU_ASSERT_EQUAL(gkdi_epm_map_parse(resp, n, &port), LAPS_ERR_NOTFOUND);
	resp[n - 4] = 0;
	resp[20] = 0; /* no towers */
	CU_ASSERT_EQUAL(gkdi_epm_map_parse(resp, n, &port), LAPS_ERR_NOTFOUND);
}

static CU_TestInfo tests_all[] = {
    {"GetKey request NDR bytes", test_req_bytes}, {"GetKey response NDR", test_resp},
    {"bind, bind_ack, bind_nak", test_bind},	  {"header checks and faults", test_header_checks},
    {"endpoint mapper ept_map", test_epm},	  CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"gkdi_rpc", NULL, NULL, NULL, NULL, tests_all},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	return laps_test_main(argc, argv, suites);
}
