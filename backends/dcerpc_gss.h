/*
 * dcerpc_gss.h — Kerberos (GSSAPI, MIT) for DCE/RPC at packet privacy
 * (MS-RPCE 3.3.1.5.2, [MS-KILE] 3.4.5.4.1): request and response PDUs are
 * sealed with gss_wrap_iov in DCE style — the auth value is the wrap token
 * header (the trailer folded into it), the stub and its pad are encrypted in
 * place, and the PDU header, body header and sec_trailer are signed only.
 * Shared by the GetKey client (gkdi_rpc.c) and the test server.
 */
#ifndef LAPS_DCERPC_GSS_H
#define LAPS_DCERPC_GSS_H

#include <gssapi/gssapi.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/dcerpc_pdu.h"

/* A one-line message for a GSSAPI failure (what, major/minor texts) into
 * the error detail; returns err. */
int dcerpc_gss_err(int err, const char *what, OM_uint32 major, OM_uint32 minor);

/* The auth value length a sealed stub of data_len bytes needs. */
int dcerpc_gss_seal_len(gss_ctx_id_t ctx, size_t data_len, size_t *auth_len)
    __attribute__((warn_unused_result));

/*
 * Build a sealed request or response fragment into out: body_hdr (8
 * bytes: the request / response body header), stub (stub_len, padded here
 * to DCERPC_AUTH_PAD), sec_trailer (Kerberos, privacy, ctx_id) and the wrap
 * token.  LAPS_ERR_TOOBIG / _CRYPTO.
 */
int dcerpc_gss_seal(gss_ctx_id_t ctx, uint8_t ptype, uint8_t flags, uint32_t call_id,
		    const uint8_t body_hdr[8], const uint8_t *stub, size_t stub_len, uint8_t *out,
		    size_t cap, size_t *outlen) __attribute__((warn_unused_result));

/*
 * Check and decrypt the sealed fragment b (len bytes, parsed into p) in
 * place: Kerberos at privacy level, the token verifies, confidentiality was
 * applied.  Afterwards p->body holds the cleartext body (pad removed).
 * LAPS_ERR_FORMAT / _CRYPTO.
 */
int dcerpc_gss_unseal(gss_ctx_id_t ctx, uint8_t *b, size_t len, struct dcerpc_pdu *p)
    __attribute__((warn_unused_result));

#endif
