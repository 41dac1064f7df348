/*
 * gkdi_ndr.c — NDR 2.0 of MS-GKDI GetKey (gkdi_ndr.h).
 */
#include "config.h"

#include <string.h>

#include "backends/gkdi_ndr.h"
#include "escrow/err.h"

#define REFERENT_ID 0x00020000u /* what Windows and impacket use first */

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static size_t
align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

int
gkdi_ndr_req_encode(const struct gkdi_getkey_req *r, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = 8 + align4(r->sd_len) + 4 + (r->root_key_id != NULL ? 16 : 0) + 12, o;

	if (r->sd_len > GKDI_TARGET_SD_MAX || n > cap)
		return laps_seterr(LAPS_ERR_TOOBIG, "GetKey: a %zu-byte request", n);
	memset(out, 0, n);
	put32(out, (uint32_t)r->sd_len);
	put32(out + 4, (uint32_t)r->sd_len);
	memcpy(out + 8, r->sd, r->sd_len);
	o = 8 + align4(r->sd_len);
	put32(out + o, r->root_key_id != NULL ? REFERENT_ID : 0);
	o += 4;
	if (r->root_key_id != NULL) {
		memcpy(out + o, r->root_key_id, 16);
		o += 16;
	}
	put32(out + o, (uint32_t)r->l0);
	put32(out + o + 4, (uint32_t)r->l1);
	put32(out + o + 8, (uint32_t)r->l2);
	*len = n;
	return 0;
}

int
gkdi_ndr_req_parse(const uint8_t *b, size_t len, struct gkdi_getkey_req *r)
{
	size_t n, o;

	memset(r, 0, sizeof *r);
	if (len < 8)
		return laps_seterr(LAPS_ERR_FORMAT, "GetKey request: short");
	n = get32(b);
	if (n > GKDI_TARGET_SD_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "GetKey request: cbTargetSD %zu", n);
	if (get32(b + 4) != n)
		return laps_seterr(LAPS_ERR_FORMAT, "GetKey request: max_count is not cbTargetSD");
	o = 8 + align4(n);
	if (len < o + 4)
		return laps_seterr(LAPS_ERR_FORMAT, "GetKey request: short target SD");
	r->sd = b + 8;
	r->sd_len = n;
	if (get32(b + o) != 0) {
		if (len < o + 4 + 16)
			return laps_seterr(LAPS_ERR_FORMAT, "GetKey request: short root key id");
		r->root_key_id = b + o + 4;
		o += 16;
	}
	o += 4;
	if (len != o + 12)
		return laps_seterr(LAPS_ERR_FORMAT, "GetKey request: %zu bytes, expected %zu", len,
				   o + 12);
	r->l0 = (int32_t)get32(b + o);
	r->l1 = (int32_t)get32(b + o + 4);
	r->l2 = (int32_t)get32(b + o + 8);
	return 0;
}

int
gkdi_ndr_resp_encode(const struct gkdi_getkey_resp *r, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = 8 + (r->out != NULL ? 4 + align4(r->out_len) : 0) + 4;

	if (r->out_len > GKDI_ENVELOPE_MAX || n > cap)
		return laps_seterr(LAPS_ERR_TOOBIG, "GetKey: a %zu-byte response", n);
	memset(out, 0, n);
	put32(out, r->out != NULL ? (uint32_t)r->out_len : 0);
	put32(out + 4, r->out != NULL ? REFERENT_ID : 0);
	if (r->out != NULL) {
		put32(out + 8, (uint32_t)r->out_len);
		memcpy(out + 12, r->out, r->out_len);
	}
	put32(out + n - 4, r->hresult);
	*len = n;
	return 0;
}

int
gkdi_ndr_resp_parse(const uint8_t *b, size_t len, struct gkdi_getkey_resp *r)
{
	size_t n, o = 8;

	memset(r, 0, sizeof *r);
	if (len < 12)
		return laps_seterr(LAPS_ERR_FORMAT, "GetKey response: short (%zu bytes)", len);
	n = get32(b);
	if (get32(b + 4) != 0) {
		if (n > GKDI_ENVELOPE_MAX)
			return laps_seterr(LAPS_ERR_TOOBIG,
					   "GetKey response: pcbOut %zu (at most %d)", n,
					   GKDI_ENVELOPE_MAX);
		if (get32(b + 8) != n)
			return laps_seterr(LAPS_ERR_FORMAT,
					   "GetKey response: max_count is not pcbOut");
		if (len < 12 + align4(n) + 4)
			return laps_seterr(LAPS_ERR_FORMAT, "GetKey response: short key");
		r->out = b + 12;
		r->out_len = n;
		o = 12 + align4(n);
	}
	if (len != o + 4)
		return laps_seterr(LAPS_ERR_FORMAT, "GetKey response: %zu bytes, expected %zu", len,
				   o + 4);
	r->hresult = get32(b + o);
	return 0;
}
