/*
 * dcerpc_gss.c — sealing DCE/RPC PDUs with Kerberos (dcerpc_gss.h).
 */
#include "config.h"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <stdio.h>
#include <string.h>

#include "backends/dcerpc_gss.h"
#include "escrow/err.h"

static void
status_text(OM_uint32 code, int type, char *buf, size_t cap)
{
	OM_uint32 minor, ctx = 0;
	gss_buffer_desc msg = GSS_C_EMPTY_BUFFER;

	buf[0] = '\0';
	if (gss_display_status(&minor, code, type, GSS_C_NO_OID, &ctx, &msg) == GSS_S_COMPLETE) {
		snprintf(buf, cap, "%.*s", (int)msg.length, (const char *)msg.value);
		gss_release_buffer(&minor, &msg);
	}
}

int
dcerpc_gss_err(int err, const char *what, OM_uint32 major, OM_uint32 minor)
{
	char a[160], b[240];

	status_text(major, GSS_C_GSS_CODE, a, sizeof a);
	status_text(minor, GSS_C_MECH_CODE, b, sizeof b);
	return laps_seterr(err, "%s: %s%s%s", what, a, b[0] != '\0' ? ": " : "", b);
}

int
dcerpc_gss_seal_len(gss_ctx_id_t ctx, size_t data_len, size_t *auth_len)
{
	gss_iov_buffer_desc iov[2];
	OM_uint32 major, minor;
	int conf = 0;

	memset(iov, 0, sizeof iov);
	iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER;
	iov[1].type = GSS_IOV_BUFFER_TYPE_DATA;
	iov[1].buffer.length = data_len;
	major = gss_wrap_iov_length(&minor, ctx, 1, GSS_C_QOP_DEFAULT, &conf, iov, 2);
	if (GSS_ERROR(major))
		return dcerpc_gss_err(LAPS_ERR_CRYPTO, "gss_wrap_iov_length", major, minor);
	*auth_len = iov[0].buffer.length;
	return 0;
}

/* The four iov of a fragment: header token, signed prefix, data, signed
 * sec_trailer (MS-RPCE 3.3.1.5.2.2: the header is signed with Kerberos). */
static void
frag_iov(gss_iov_buffer_desc iov[4], uint8_t *b, size_t data_off, size_t data_len, size_t sec_off,
	 size_t auth_len)
{
	memset(iov, 0, 4 * sizeof *iov);
	iov[0].type = GSS_IOV_BUFFER_TYPE_HEADER;
	iov[0].buffer.value = b + sec_off + DCERPC_TRAILER_LEN;
	iov[0].buffer.length = auth_len;
	iov[1].type = GSS_IOV_BUFFER_TYPE_SIGN_ONLY;
	iov[1].buffer.value = b;
	iov[1].buffer.length = data_off;
	iov[2].type = GSS_IOV_BUFFER_TYPE_DATA;
	iov[2].buffer.value = b + data_off;
	iov[2].buffer.length = data_len;
	iov[3].type = GSS_IOV_BUFFER_TYPE_SIGN_ONLY;
	iov[3].buffer.value = b + sec_off;
	iov[3].buffer.length = DCERPC_TRAILER_LEN;
}

int
dcerpc_gss_seal(gss_ctx_id_t ctx, uint8_t ptype, uint8_t flags, uint32_t call_id,
		const uint8_t body_hdr[8], const uint8_t *stub, size_t stub_len, uint8_t *out,
		size_t cap, size_t *outlen)
{
	uint8_t body[DCERPC_FRAG_MAX];
	size_t pad = (DCERPC_AUTH_PAD - stub_len % DCERPC_AUTH_PAD) % DCERPC_AUTH_PAD, alen, sec;
	struct dcerpc_auth a = {DCERPC_AUTHN_KERBEROS, DCERPC_LEVEL_PRIVACY, 0, 0, NULL, 0};
	gss_iov_buffer_desc iov[4];
	OM_uint32 major, minor;
	int rc, conf = 0;

	if (stub_len + 8 > sizeof body)
		return laps_seterr(LAPS_ERR_TOOBIG, "dcerpc: a %zu-byte stub", stub_len);
	if ((rc = dcerpc_gss_seal_len(ctx, stub_len + pad, &alen)) != 0)
		return rc;
	memcpy(body, body_hdr, 8);
	memcpy(body + 8, stub, stub_len);
	a.value_len = alen;
	if ((rc = dcerpc_pdu_build(out, cap, ptype, flags, call_id, body, 8 + stub_len, pad, &a,
				   outlen)) != 0)
		goto out;
	sec = DCERPC_HDR_LEN + 8 + stub_len + pad;
	frag_iov(iov, out, DCERPC_HDR_LEN + 8, stub_len + pad, sec, alen);
	major = gss_wrap_iov(&minor, ctx, 1, GSS_C_QOP_DEFAULT, &conf, iov, 4);
	if (GSS_ERROR(major) || conf == 0)
		rc = dcerpc_gss_err(LAPS_ERR_CRYPTO, "gss_wrap_iov", major, minor);
out:
	memset(body, 0, sizeof body);
	return rc;
}

int
dcerpc_gss_unseal(gss_ctx_id_t ctx, uint8_t *b, size_t len, struct dcerpc_pdu *p)
{
	gss_iov_buffer_desc iov[4];
	OM_uint32 major, minor;
	size_t hl = p->ptype == DCERPC_FAULT ? 16 : 8, data_off = DCERPC_HDR_LEN + hl;
	int conf = 0;

	if (p->auth_len == 0 || p->auth.type != DCERPC_AUTHN_KERBEROS ||
	    p->auth.level != DCERPC_LEVEL_PRIVACY)
		return laps_seterr(LAPS_ERR_FORMAT,
				   "dcerpc: the PDU is not sealed with Kerberos at privacy level");
	if (p->sec_off < data_off || p->sec_off > len)
		return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: sealed PDU without a body header");
	frag_iov(iov, b, data_off, p->sec_off - data_off, p->sec_off, p->auth_len);
	major = gss_unwrap_iov(&minor, ctx, &conf, NULL, iov, 4);
	if (GSS_ERROR(major))
		return dcerpc_gss_err(LAPS_ERR_CRYPTO, "dcerpc: unsealing a PDU", major, minor);
	if (conf == 0)
		return laps_seterr(LAPS_ERR_CRYPTO, "dcerpc: a PDU without confidentiality");
	return 0;
}
