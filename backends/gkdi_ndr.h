/*
 * gkdi_ndr.h — NDR 2.0 of MS-GKDI GetKey (opnum 0, MS-GKDI 3.1.4.1):
 *
 *   HRESULT GetKey([in] handle_t, [in] unsigned long cbTargetSD,
 *       [in, size_is(cbTargetSD)] [ref] char *pbTargetSD,
 *       [in, unique] GUID *pRootKeyID, [in] long L0KeyID, [in] long L1KeyID,
 *       [in] long L2KeyID, [out] unsigned long *pcbOut,
 *       [out, size_is(, *pcbOut)] byte **ppbOut);
 *
 * Request stub:  cbTargetSD u32, max_count u32, the SD bytes, pad to 4,
 *                referent id u32 (0 = NULL) [+ GUID (16)], L0, L1, L2 (i32)
 * Response stub: pcbOut u32, referent id u32 (0 = NULL) [+ max_count u32 +
 *                bytes + pad to 4], HRESULT u32
 *
 * Parsers check every count against the input and the caps; the views point
 * into the caller's buffer.  0 or LAPS_ERR_FORMAT / _TOOBIG.
 */
#ifndef LAPS_GKDI_NDR_H
#define LAPS_GKDI_NDR_H

#include <stddef.h>
#include <stdint.h>

#include "backends/gkdi_key.h"

#define GKDI_HRESULT_ACCESS_DENIED 0x80070005u /* E_ACCESSDENIED */

struct gkdi_getkey_req {
	const uint8_t *sd;
	size_t sd_len;
	const uint8_t *root_key_id; /* NULL or GKDI_GUID_BYTES */
	int32_t l0, l1, l2;
};

struct gkdi_getkey_resp {
	const uint8_t *out; /* NULL when the server sent none */
	size_t out_len;
	uint32_t hresult;
};

/* Encode a request stub into out (cap bytes). */
int gkdi_ndr_req_encode(const struct gkdi_getkey_req *r, uint8_t *out, size_t cap, size_t *len)
    __attribute__((warn_unused_result));
int gkdi_ndr_req_parse(const uint8_t *b, size_t len, struct gkdi_getkey_req *r)
    __attribute__((warn_unused_result));
/* Encode a response stub (the test server). */
int gkdi_ndr_resp_encode(const struct gkdi_getkey_resp *r, uint8_t *out, size_t cap, size_t *len)
    __attribute__((warn_unused_result));
/* Parse a response stub; out_len <= GKDI_ENVELOPE_MAX. */
int gkdi_ndr_resp_parse(const uint8_t *b, size_t len, struct gkdi_getkey_resp *r)
    __attribute__((warn_unused_result));

#endif
