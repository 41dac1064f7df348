/*
 * dcerpc_pdu.h — connection-oriented DCE/RPC PDUs (C706 chapter 12, MS-RPCE
 * 2.2.2), only what the MS-GKDI GetKey client (gkdi_rpc.h) and its test
 * server need: bind / bind_ack / bind_nak, auth3, request / response /
 * fault, each with the sec_trailer and auth value of MS-RPCE 2.2.2.11.
 * Little-endian, ASCII, IEEE data representation only (what Windows sends).
 *
 *   header (16): rpc_vers 5, rpc_vers_minor 0, ptype, pfc_flags,
 *                drep 10 00 00 00, frag_length u16, auth_length u16, call_id u32
 *   body
 *   [auth pad, sec_trailer (8): auth_type, auth_level, auth_pad_length,
 *    auth_reserved, auth_context_id u32;  auth value (auth_length bytes)]
 *
 * Parsers take a whole fragment, check every length against the input and
 * the caps below, and return views into it.  Builders write into a caller
 * buffer.  All return 0 or LAPS_ERR_FORMAT / _TOOBIG / _UNSUPPORTED with a
 * detail naming the field.
 */
#ifndef LAPS_DCERPC_PDU_H
#define LAPS_DCERPC_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DCERPC_HDR_LEN 16
#define DCERPC_TRAILER_LEN 8
#define DCERPC_FRAG_MAX 5840  /* our max_xmit_frag / max_recv_frag */
#define DCERPC_STUB_MAX 65536 /* a reassembled request or response stub */
#define DCERPC_AUTH_PAD 16    /* privacy: stubs padded to 16 bytes (as Windows) */

enum dcerpc_ptype {
	DCERPC_REQUEST = 0,
	DCERPC_RESPONSE = 2,
	DCERPC_FAULT = 3,
	DCERPC_BIND = 11,
	DCERPC_BIND_ACK = 12,
	DCERPC_BIND_NAK = 13,
	DCERPC_AUTH3 = 16,
};

#define DCERPC_PFC_FIRST 0x01u
#define DCERPC_PFC_LAST 0x02u
#define DCERPC_PFC_HDR_SIGN 0x04u /* bind: header signing supported */
#define DCERPC_AUTHN_KERBEROS 16u /* RPC_C_AUTHN_GSS_KERBEROS */
#define DCERPC_LEVEL_PRIVACY 6u	  /* RPC_C_AUTHN_LEVEL_PKT_PRIVACY */

/* An interface or transfer syntax: UUID (wire bytes) and version. */
struct dcerpc_syntax {
	uint8_t uuid[16];
	uint16_t major, minor;
};

extern const struct dcerpc_syntax dcerpc_ndr20; /* 8a885d04-1ceb-11c9-9fe8-08002b104860 v2 */

struct dcerpc_auth {
	uint8_t type, level, pad;
	uint32_t ctx_id;
	const uint8_t *value;
	size_t value_len;
};

/* A parsed fragment: body = after the header, up to the auth pad. */
struct dcerpc_pdu {
	uint8_t ptype, flags;
	uint16_t frag_len, auth_len;
	uint32_t call_id;
	const uint8_t *body;
	size_t body_len; /* without the auth pad */
	size_t body_off; /* DCERPC_HDR_LEN */
	size_t sec_off;	 /* offset of the sec_trailer (0: no auth) */
	struct dcerpc_auth auth;
};

/* The fragment length of the 16-byte header h (the first bytes of a
 * fragment), checked: version 5.0, little-endian drep, 16 <= frag_length
 * <= DCERPC_FRAG_MAX, auth_length fits. */
int dcerpc_frag_len(const uint8_t *h, size_t len, size_t *frag_len)
    __attribute__((warn_unused_result));

/* Parse one whole fragment (len == its frag_length). */
int dcerpc_pdu_parse(const uint8_t *b, size_t len, struct dcerpc_pdu *p)
    __attribute__((warn_unused_result));

/*
 * Build a fragment into out (cap bytes): header, body (blen bytes), and
 * when auth != NULL pad zero bytes of auth pad, the sec_trailer and
 * auth->value_len bytes of auth value (copied from auth->value, or zeroed
 * when it is NULL: the sealer fills it in).  *outlen: the whole fragment.
 */
int dcerpc_pdu_build(uint8_t *out, size_t cap, uint8_t ptype, uint8_t flags, uint32_t call_id,
		     const uint8_t *body, size_t blen, size_t pad, const struct dcerpc_auth *auth,
		     size_t *outlen) __attribute__((warn_unused_result));

/* A bind body for one presentation context (id 0, NDR 2.0). */
int dcerpc_bind_body(const struct dcerpc_syntax *iface, uint8_t *out, size_t cap, size_t *len)
    __attribute__((warn_unused_result));
/* A bind body parsed (the server): the first context's id and interface. */
int dcerpc_bind_parse(const struct dcerpc_pdu *p, uint16_t *ctx_id, struct dcerpc_syntax *iface)
    __attribute__((warn_unused_result));

/* A bind_ack body accepting (accept) or refusing context 0 (the server). */
int dcerpc_bind_ack_body(bool accept, uint8_t *out, size_t cap, size_t *len)
    __attribute__((warn_unused_result));
/* bind_ack (the client): LAPS_ERR_UNSUPPORTED when context 0 was not
 * accepted with NDR 2.0; *max_recv: the server's max_recv_frag. */
int dcerpc_bind_ack_parse(const struct dcerpc_pdu *p, uint16_t *max_recv)
    __attribute__((warn_unused_result));

/* The request body header: alloc_hint, context id, opnum (8 bytes). */
void dcerpc_request_hdr(uint8_t out[8], uint32_t alloc_hint, uint16_t opnum);
/* A request / response / fault body: its header fields and stub view. */
struct dcerpc_call {
	uint32_t alloc_hint;
	uint16_t ctx_id, opnum; /* opnum: requests only */
	uint32_t status;	/* faults only */
	const uint8_t *stub;
	size_t stub_len;
};
int dcerpc_call_parse(const struct dcerpc_pdu *p, struct dcerpc_call *c)
    __attribute__((warn_unused_result));
/* The response (or fault: status != 0) body header (8 bytes; faults 16). */
void dcerpc_response_hdr(uint8_t out[8], uint32_t alloc_hint);

#endif
