/*
 * dcerpc_pdu.c — connection-oriented DCE/RPC PDUs (dcerpc_pdu.h).
 *
 *   bind body:      max_xmit_frag u16, max_recv_frag u16, assoc_group_id u32,
 *                   n_context_elem u8, 3 reserved, then per context:
 *                   p_cont_id u16, n_transfer_syn u8, reserved u8,
 *                   abstract syntax (16 + 4), transfer syntaxes (20 each)
 *   bind_ack body:  max_xmit_frag u16, max_recv_frag u16, assoc_group_id u32,
 *                   sec_addr (length u16 + bytes), pad to 4, n_results u8,
 *                   3 reserved, per result: result u16, reason u16, syntax (20)
 *   bind_nak body:  reject reason u16
 *   request body:   alloc_hint u32, p_cont_id u16, opnum u16, stub
 *   response body:  alloc_hint u32, p_cont_id u16, cancel_count u8, reserved, stub
 *   fault body:     alloc_hint u32, p_cont_id u16, cancel_count u8, reserved,
 *                   status u32, reserved u32
 */
#include "config.h"

#include <string.h>

#include "backends/dcerpc_pdu.h"
#include "escrow/err.h"

const struct dcerpc_syntax dcerpc_ndr20 = {{0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f,
					    0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60},
					   2,
					   0};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

int
dcerpc_frag_len(const uint8_t *h, size_t len, size_t *frag_len)
{
	size_t fl, al;

	if (len < DCERPC_HDR_LEN)
		return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: short header");
	if (h[0] != 5 || h[1] != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: version %u.%u (not 5.0)", h[0], h[1]);
	if (h[4] != 0x10 || h[5] != 0)
		return laps_seterr(LAPS_ERR_UNSUPPORTED,
				   "dcerpc: data representation %02x%02x (not little-endian ASCII "
				   "IEEE)",
				   h[4], h[5]);
	fl = get16(h + 8);
	al = get16(h + 10);
	if (fl < DCERPC_HDR_LEN || fl > DCERPC_FRAG_MAX)
		return laps_seterr(fl < DCERPC_HDR_LEN ? LAPS_ERR_FORMAT : LAPS_ERR_TOOBIG,
				   "dcerpc: frag_length %zu (16..%d)", fl, DCERPC_FRAG_MAX);
	if (al != 0 && al + DCERPC_TRAILER_LEN > fl - DCERPC_HDR_LEN)
		return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: auth_length %zu beyond the fragment",
				   al);
	*frag_len = fl;
	return 0;
}

int
dcerpc_pdu_parse(const uint8_t *b, size_t len, struct dcerpc_pdu *p)
{
	size_t fl;
	int rc;

	memset(p, 0, sizeof *p);
	if ((rc = dcerpc_frag_len(b, len, &fl)) != 0)
		return rc;
	if (fl != len)
		return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: frag_length %zu, got %zu bytes", fl,
				   len);
	p->ptype = b[2];
	p->flags = b[3];
	p->frag_len = (uint16_t)fl;
	p->auth_len = get16(b + 10);
	p->call_id = get32(b + 12);
	p->body = b + DCERPC_HDR_LEN;
	p->body_off = DCERPC_HDR_LEN;
	p->body_len = len - DCERPC_HDR_LEN;
	if (p->auth_len == 0)
		return 0;
	p->sec_off = len - p->auth_len - DCERPC_TRAILER_LEN;
	p->auth.type = b[p->sec_off];
	p->auth.level = b[p->sec_off + 1];
	p->auth.pad = b[p->sec_off + 2];
	p->auth.ctx_id = get32(b + p->sec_off + 4);
	p->auth.value = b + p->sec_off + DCERPC_TRAILER_LEN;
	p->auth.value_len = p->auth_len;
	if (p->auth.pad > p->sec_off - DCERPC_HDR_LEN)
		return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: auth_pad_length %u beyond the body",
				   p->auth.pad);
	p->body_len = p->sec_off - DCERPC_HDR_LEN - p->auth.pad;
	return 0;
}

int
dcerpc_pdu_build(uint8_t *out, size_t cap, uint8_t ptype, uint8_t flags, uint32_t call_id,
		 const uint8_t *body, size_t blen, size_t pad, const struct dcerpc_auth *auth,
		 size_t *outlen)
{
	size_t n = DCERPC_HDR_LEN + blen;

	if (auth != NULL)
		n += pad + DCERPC_TRAILER_LEN + auth->value_len;
	if (n > cap || n > DCERPC_FRAG_MAX || pad > 255 ||
	    (auth != NULL && auth->value_len > UINT16_MAX))
		return laps_seterr(LAPS_ERR_TOOBIG, "dcerpc: a %zu-byte fragment", n);
	memset(out, 0, n);
	out[0] = 5;
	out[2] = ptype;
	out[3] = flags;
	out[4] = 0x10;
	put16(out + 8, (uint16_t)n);
	put16(out + 10, auth != NULL ? (uint16_t)auth->value_len : 0);
	put32(out + 12, call_id);
	if (blen > 0)
		memcpy(out + DCERPC_HDR_LEN, body, blen);
	if (auth != NULL) {
		uint8_t *t = out + DCERPC_HDR_LEN + blen + pad;

		t[0] = auth->type;
		t[1] = auth->level;
		t[2] = (uint8_t)pad;
		put32(t + 4, auth->ctx_id);
		if (auth->value != NULL && auth->value_len > 0)
			memcpy(t + DCERPC_TRAILER_LEN, auth->value, auth->value_len);
	}
	*outlen = n;
	return 0;
}

static void
put_syntax(uint8_t *p, const struct dcerpc_syntax *s)
{
	memcpy(p, s->uuid, 16);
	put16(p + 16, s->major);
	put16(p + 18, s->minor);
}

static void
get_syntax(const uint8_t *p, struct dcerpc_syntax *s)
{
	memcpy(s->uuid, p, 16);
	s->major = get16(p + 16);
	s->minor = get16(p + 18);
}

int
dcerpc_bind_body(const struct dcerpc_syntax *iface, uint8_t *out, size_t cap, size_t *len)
{
	if (cap < 56)
		return laps_seterr(LAPS_ERR_TOOBIG, "dcerpc: bind body");
	memset(out, 0, 56);
	put16(out, DCERPC_FRAG_MAX);
	put16(out + 2, DCERPC_FRAG_MAX);
	out[8] = 1;  /* one context */
	out[14] = 1; /* one transfer syntax; context id 0 */
	put_syntax(out + 16, iface);
	put_syntax(out + 36, &dcerpc_ndr20);
	*len = 56;
	return 0;
}

int
dcerpc_bind_parse(const struct dcerpc_pdu *p, uint16_t *ctx_id, struct dcerpc_syntax *iface)
{
	const uint8_t *b = p->body;
	size_t i, nts;

	if (p->body_len < 12 + 4 + 20 || b[8] < 1)
		return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: bind without a context");
	*ctx_id = get16(b + 12);
	nts = b[14];
	get_syntax(b + 16, iface);
	if (nts < 1 || p->body_len < 36 + 20 * nts)
		return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: bind: %zu transfer syntaxes", nts);
	for (i = 0; i < nts; i++) {
		struct dcerpc_syntax ts;

		get_syntax(b + 36 + 20 * i, &ts);
		if (memcmp(&ts, &dcerpc_ndr20, sizeof ts) == 0)
			return 0;
	}
	return laps_seterr(LAPS_ERR_UNSUPPORTED, "dcerpc: bind: no NDR 2.0 transfer syntax");
}

int
dcerpc_bind_ack_body(bool accept, uint8_t *out, size_t cap, size_t *len)
{
	static const char port[] = "135";

	if (cap < 48)
		return laps_seterr(LAPS_ERR_TOOBIG, "dcerpc: bind_ack body");
	memset(out, 0, 48);
	put16(out, DCERPC_FRAG_MAX);
	put16(out + 2, DCERPC_FRAG_MAX);
	put32(out + 4, 0x12345);
	put16(out + 8, sizeof port);
	memcpy(out + 10, port, sizeof port); /* 8 + 2 + 4 = 14, pad to 16 */
	out[16] = 1;
	put16(out + 20, accept ? 0 : 2); /* acceptance / provider rejection */
	put16(out + 22, accept ? 0 : 2); /* -/ proposed transfer syntaxes not supported */
	if (accept)
		put_syntax(out + 24, &dcerpc_ndr20);
	*len = 44;
	return 0;
}

int
dcerpc_bind_ack_parse(const struct dcerpc_pdu *p, uint16_t *max_recv)
{
	const uint8_t *b = p->body;
	struct dcerpc_syntax ts;
	size_t off, alen;

	if (p->ptype == DCERPC_BIND_NAK)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "dcerpc: bind refused (reason %u)",
				   p->body_len >= 2 ? get16(b) : 0u);
	if (p->ptype != DCERPC_BIND_ACK || p->body_len < 10)
		return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: not a bind_ack (type %u)", p->ptype);
	*max_recv = get16(b + 2);
	alen = get16(b + 8);
	off = (10 + alen + 3) & ~(size_t)3;
	if (alen > p->body_len || off + 4 + 24 > p->body_len)
		return laps_seterr(LAPS_ERR_FORMAT,
				   "dcerpc: bind_ack: secondary address length %zu", alen);
	if (b[off] < 1)
		return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: bind_ack without results");
	get_syntax(b + off + 8, &ts);
	if (get16(b + off + 4) != 0 || memcmp(&ts, &dcerpc_ndr20, sizeof ts) != 0)
		return laps_seterr(LAPS_ERR_UNSUPPORTED,
				   "dcerpc: the server does not offer the interface (result %u, "
				   "reason %u)",
				   get16(b + off + 4), get16(b + off + 6));
	if (*max_recv < DCERPC_HDR_LEN + 64)
		return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: bind_ack: max_recv_frag %u",
				   *max_recv);
	return 0;
}

void
dcerpc_request_hdr(uint8_t out[8], uint32_t alloc_hint, uint16_t opnum)
{
	put32(out, alloc_hint);
	put16(out + 4, 0);
	put16(out + 6, opnum);
}

void
dcerpc_response_hdr(uint8_t out[8], uint32_t alloc_hint)
{
	memset(out, 0, 8);
	put32(out, alloc_hint);
}

int
dcerpc_call_parse(const struct dcerpc_pdu *p, struct dcerpc_call *c)
{
	size_t hl = p->ptype == DCERPC_FAULT ? 16 : 8;

	memset(c, 0, sizeof *c);
	if (p->ptype != DCERPC_REQUEST && p->ptype != DCERPC_RESPONSE && p->ptype != DCERPC_FAULT)
		return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: unexpected PDU type %u", p->ptype);
	if (p->body_len < hl)
		return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: short PDU body (%zu bytes)",
				   p->body_len);
	c->alloc_hint = get32(p->body);
	c->ctx_id = get16(p->body + 4);
	if (p->ptype == DCERPC_REQUEST)
		c->opnum = get16(p->body + 6);
	if (p->ptype == DCERPC_FAULT)
		c->status = get32(p->body + 8);
	c->stub = p->body + hl;
	c->stub_len = p->body_len - hl;
	return 0;
}
