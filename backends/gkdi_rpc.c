/*
 * gkdi_rpc.c — MS-GKDI GetKey over DCE/RPC (gkdi_rpc.h): TCP with a
 * deadline, the endpoint mapper, the Kerberos bind and the sealed call.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backends/dcerpc_gss.h"
#include "backends/gkdi_rpc.h"
#include "escrow/err.h"
#include "escrow/secret.h"

#define EPM_PORT 135
#define GKDI_CTX_ID 0x4c415053u /* our auth_context_id */

/* gkdi_isdkey: defined in gkdi_epm.c, which builds its tower */
static const struct dcerpc_syntax epm_iface = {{0x08, 0x83, 0xaf, 0xe1, 0x1f, 0x5d, 0xc9, 0x11,
						0x91, 0xa4, 0x08, 0x00, 0x2b, 0x14, 0xa0, 0xfa},
					       3,
					       0};

struct conn {
	int fd;
	struct timespec deadline;
	const struct gkdi_rpc_conf *conf;
	gss_ctx_id_t ctx;
	uint32_t call_id;
	uint8_t buf[DCERPC_FRAG_MAX];
};

/* Milliseconds left before the deadline (0 when passed). */
static int
ms_left(const struct conn *c)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(c->deadline.tv_sec - now.tv_sec) * 1000 +
	     (c->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms <= 0 ? 0 : ms > 600000 ? 600000 : (int)ms;
}

static int
wait_fd(struct conn *c, short ev)
{
	struct pollfd p = {c->fd, ev, 0};
	int r, ms;

	do {
		if ((ms = ms_left(c)) == 0)
			return laps_seterr(LAPS_ERR_TIMEOUT,
					   "the key service on %s did not answer within %d s",
					   c->conf->server, c->conf->timeout);
		r = poll(&p, 1, ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return laps_seterr(LAPS_ERR_IO, "poll: %s", strerror(errno));
	return r == 0 ? wait_fd(c, ev) : 0;
}

static int
io_write(struct conn *c, const uint8_t *b, size_t n)
{
	int rc;

	while (n > 0) {
		ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((rc = wait_fd(c, POLLOUT)) != 0)
				return rc;
			continue;
		}
		if (w <= 0)
			return laps_seterr(LAPS_ERR_UNAVAILABLE, "sending to %s: %s",
					   c->conf->server, strerror(errno));
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
io_read(struct conn *c, uint8_t *b, size_t n)
{
	int rc;

	while (n > 0) {
		ssize_t r;

		if ((rc = wait_fd(c, POLLIN)) != 0)
			return rc;
		r = recv(c->fd, b, n, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			return laps_seterr(LAPS_ERR_UNAVAILABLE, "%s closed the connection%s%s",
					   c->conf->server, r < 0 ? ": " : "",
					   r < 0 ? strerror(errno) : "");
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Read one fragment into c->buf and parse it. */
static int
recv_frag(struct conn *c, struct dcerpc_pdu *p, size_t *len)
{
	int rc;

	if ((rc = io_read(c, c->buf, DCERPC_HDR_LEN)) != 0 ||
	    (rc = dcerpc_frag_len(c->buf, DCERPC_HDR_LEN, len)) != 0 ||
	    (rc = io_read(c, c->buf + DCERPC_HDR_LEN, *len - DCERPC_HDR_LEN)) != 0 ||
	    (rc = dcerpc_pdu_parse(c->buf, *len, p)) != 0)
		return rc;
	if (p->call_id != c->call_id)
		return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: call_id %u, expected %u", p->call_id,
				   c->call_id);
	return 0;
}

static int
try_connect(struct conn *c, const struct addrinfo *ai)
{
	int err = 0, rc;
	socklen_t el = sizeof err;

	c->fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (c->fd < 0)
		return laps_seterr(LAPS_ERR_IO, "socket: %s", strerror(errno));
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		err = errno;
	else if ((rc = wait_fd(c, POLLOUT)) != 0)
		return rc;
	else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
		err = errno;
	return err == 0 ? 0 : laps_seterr(LAPS_ERR_UNAVAILABLE, "%s", strerror(err));
}

static int
conn_open(struct conn *c, unsigned port)
{
	struct addrinfo hints = {0}, *res = NULL, *ai;
	char ps[8];
	int rc = LAPS_ERR_UNAVAILABLE;

	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof ps, "%u", port);
	if (getaddrinfo(c->conf->server, ps, &hints, &res) != 0)
		return laps_seterr(LAPS_ERR_NOTFOUND, "cannot resolve %s", c->conf->server);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((rc = try_connect(c, ai)) == 0 || rc == LAPS_ERR_TIMEOUT)
			break;
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(res);
	if (rc != 0 && rc != LAPS_ERR_TIMEOUT)
		rc = laps_seterr_prefix(rc, "cannot reach %s port %u", c->conf->server, port);
	return rc;
}

static void
conn_close(struct conn *c)
{
	OM_uint32 minor;

	if (c->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&minor, &c->ctx, GSS_C_NO_BUFFER);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	laps_wipe(c->buf, sizeof c->buf);
}

/* One step of the Kerberos initiator: in (the server's token or none) to
 * out (to send); *done once the context is established. */
static int
krb_step(struct conn *c, gss_name_t target, const struct dcerpc_auth *in, gss_buffer_t out,
	 int *done)
{
	gss_buffer_desc ib = GSS_C_EMPTY_BUFFER;
	OM_uint32 major, minor, flags = 0;

	if (in != NULL) {
		ib.value = (void *)in->value;
		ib.length = in->value_len;
	}
	major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &c->ctx, target,
				     (gss_OID)gss_mech_krb5,
				     GSS_C_MUTUAL_FLAG | GSS_C_DCE_STYLE | GSS_C_CONF_FLAG |
					 GSS_C_INTEG_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG,
				     GSS_C_INDEFINITE, GSS_C_NO_CHANNEL_BINDINGS,
				     in != NULL ? &ib : GSS_C_NO_BUFFER, NULL, out, &flags, NULL);
	if (GSS_ERROR(major))
		return dcerpc_gss_err(LAPS_ERR_AUTH, "Kerberos to the key service", major, minor);
	*done = major == GSS_S_COMPLETE;
	if (*done && (flags & (GSS_C_CONF_FLAG | GSS_C_MUTUAL_FLAG)) !=
			 (GSS_C_CONF_FLAG | GSS_C_MUTUAL_FLAG))
		return laps_seterr(LAPS_ERR_AUTH,
				   "Kerberos: the key service gave no mutual authentication or "
				   "confidentiality");
	return 0;
}

static int
send_bind(struct conn *c, const struct dcerpc_syntax *iface, const gss_buffer_t tok)
{
	struct dcerpc_auth a = {
	    DCERPC_AUTHN_KERBEROS, DCERPC_LEVEL_PRIVACY, 0, GKDI_CTX_ID, NULL, 0};
	uint8_t body[64], pdu[DCERPC_FRAG_MAX];
	size_t blen, n;
	int rc;

	if (tok != NULL) {
		a.value = tok->value;
		a.value_len = tok->length;
	}
	if ((rc = dcerpc_bind_body(iface, body, sizeof body, &blen)) != 0 ||
	    (rc = dcerpc_pdu_build(pdu, sizeof pdu, DCERPC_BIND,
				   DCERPC_PFC_FIRST | DCERPC_PFC_LAST | DCERPC_PFC_HDR_SIGN,
				   c->call_id, body, blen, 0, tok != NULL ? &a : NULL, &n)) != 0)
		return rc;
	return io_write(c, pdu, n);
}

/* The three-leg bind: bind (AP-REQ) / bind_ack (AP-REP) / auth3. */
static int
bind_krb(struct conn *c, gss_name_t target)
{
	gss_buffer_desc tok = GSS_C_EMPTY_BUFFER;
	struct dcerpc_pdu p;
	uint8_t pdu[DCERPC_FRAG_MAX], zero[4] = {0};
	size_t n;
	uint16_t max_recv;
	int rc, done = 0;
	OM_uint32 minor;

	if ((rc = krb_step(c, target, NULL, &tok, &done)) != 0 ||
	    (rc = send_bind(c, &gkdi_isdkey, &tok)) != 0)
		goto out;
	gss_release_buffer(&minor, &tok);
	if ((rc = recv_frag(c, &p, &n)) != 0 || (rc = dcerpc_bind_ack_parse(&p, &max_recv)) != 0)
		goto out;
	if (p.auth_len == 0 || p.auth.type != DCERPC_AUTHN_KERBEROS) {
		rc = laps_seterr(LAPS_ERR_AUTH,
				 "the key service answered the bind without Kerberos");
		goto out;
	}
	if ((rc = krb_step(c, target, &p.auth, &tok, &done)) != 0)
		goto out;
	if (!done) {
		rc = laps_seterr(LAPS_ERR_AUTH, "Kerberos: the context needs more than three legs");
		goto out;
	}
	{
		struct dcerpc_auth a = {DCERPC_AUTHN_KERBEROS,
					DCERPC_LEVEL_PRIVACY,
					0,
					GKDI_CTX_ID,
					tok.value,
					tok.length};

		if ((rc = dcerpc_pdu_build(pdu, sizeof pdu, DCERPC_AUTH3,
					   DCERPC_PFC_FIRST | DCERPC_PFC_LAST, c->call_id, zero,
					   sizeof zero, 0, &a, &n)) == 0)
			rc = io_write(c, pdu, n);
	}
out:
	gss_release_buffer(&minor, &tok);
	return rc;
}

/* The DC's refusal as one sentence. */
static int
refused(const struct conn *c)
{
	return laps_seterr(LAPS_ERR_ACCESS,
			   "the domain controller %s refuses the group key: you are not in the "
			   "group the password is encrypted to",
			   c->conf->server);
}

static int
fault(const struct conn *c, uint8_t *b, size_t len, struct dcerpc_pdu *p)
{
	struct dcerpc_call call;
	int rc;

	if (p->auth_len != 0 && (rc = dcerpc_gss_unseal(c->ctx, b, len, p)) != 0)
		return rc;
	if ((rc = dcerpc_call_parse(p, &call)) != 0)
		return rc;
	if (call.status == 5 || call.status == GKDI_HRESULT_ACCESS_DENIED)
		return refused(c); /* nca_s_fault_access_denied / E_ACCESSDENIED */
	return laps_seterr(LAPS_ERR_UNAVAILABLE, "the key service on %s failed (fault 0x%08x)",
			   c->conf->server, call.status);
}

static int
send_request(struct conn *c, uint16_t opnum, const uint8_t *stub, size_t slen)
{
	uint8_t hdr[8], pdu[DCERPC_FRAG_MAX];
	size_t n;
	int rc;

	dcerpc_request_hdr(hdr, (uint32_t)slen, opnum);
	if (c->ctx != GSS_C_NO_CONTEXT) {
		rc = dcerpc_gss_seal(c->ctx, DCERPC_REQUEST, DCERPC_PFC_FIRST | DCERPC_PFC_LAST,
				     c->call_id, hdr, stub, slen, pdu, sizeof pdu, &n);
	} else {
		uint8_t body[DCERPC_FRAG_MAX];

		if (slen + 8 > sizeof body)
			return laps_seterr(LAPS_ERR_TOOBIG, "dcerpc: request");
		memcpy(body, hdr, 8);
		memcpy(body + 8, stub, slen);
		rc = dcerpc_pdu_build(pdu, sizeof pdu, DCERPC_REQUEST,
				      DCERPC_PFC_FIRST | DCERPC_PFC_LAST, c->call_id, body,
				      slen + 8, 0, NULL, &n);
	}
	if (rc == 0)
		rc = io_write(c, pdu, n);
	laps_wipe(pdu, sizeof pdu);
	return rc;
}

/* The response stub of the current call, reassembled into out (cap). */
static int
recv_response(struct conn *c, uint8_t *out, size_t cap, size_t *outlen)
{
	struct dcerpc_pdu p;
	struct dcerpc_call call;
	size_t n, got = 0;
	int rc;

	for (;;) {
		if ((rc = recv_frag(c, &p, &n)) != 0)
			return rc;
		if (p.ptype == DCERPC_FAULT)
			return fault(c, c->buf, n, &p);
		if (p.ptype != DCERPC_RESPONSE)
			return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: PDU type %u, not a response",
					   p.ptype);
		if (c->ctx != GSS_C_NO_CONTEXT &&
		    (rc = dcerpc_gss_unseal(c->ctx, c->buf, n, &p)) != 0)
			return rc;
		if ((rc = dcerpc_call_parse(&p, &call)) != 0)
			return rc;
		if ((got == 0) != ((p.flags & DCERPC_PFC_FIRST) != 0))
			return laps_seterr(LAPS_ERR_FORMAT, "dcerpc: fragments out of order");
		if (call.stub_len > cap - got)
			return laps_seterr(LAPS_ERR_TOOBIG, "dcerpc: a response over %zu bytes",
					   cap);
		memcpy(out + got, call.stub, call.stub_len);
		got += call.stub_len;
		if (p.flags & DCERPC_PFC_LAST)
			break;
	}
	*outlen = got;
	return 0;
}

/* The ISDKey port from the endpoint mapper (an unauthenticated bind). */
static int
epm_port(struct conn *c, unsigned *port)
{
	uint8_t stub[256], resp[2048];
	struct dcerpc_pdu p;
	size_t n, rl;
	uint16_t mr;
	int rc;

	if ((rc = conn_open(c, EPM_PORT)) != 0)
		goto out;
	c->call_id = 1;
	if ((rc = send_bind(c, &epm_iface, NULL)) != 0 || (rc = recv_frag(c, &p, &n)) != 0 ||
	    (rc = dcerpc_bind_ack_parse(&p, &mr)) != 0)
		goto out;
	c->call_id = 2;
	if ((rc = gkdi_epm_map_req(stub, sizeof stub, &n)) != 0 ||
	    (rc = send_request(c, 3, stub, n)) != 0 ||
	    (rc = recv_response(c, resp, sizeof resp, &rl)) != 0)
		goto out;
	rc = gkdi_epm_map_parse(resp, rl, port);
out:
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	return rc == 0 ? 0 : laps_seterr_prefix(rc, "endpoint mapper on %s", c->conf->server);
}

static int
target_name(const char *server, gss_name_t *name)
{
	char svc[300];
	gss_buffer_desc b;
	OM_uint32 major, minor;

	if ((size_t)snprintf(svc, sizeof svc, "host@%s", server) >= sizeof svc)
		return laps_seterr(LAPS_ERR_INVALID, "server name too long");
	b.value = svc;
	b.length = strlen(svc);
	major = gss_import_name(&minor, &b, GSS_C_NT_HOSTBASED_SERVICE, name);
	return GSS_ERROR(major) ? dcerpc_gss_err(LAPS_ERR_AUTH, "gss_import_name", major, minor)
				: 0;
}

static int
getkey_call(struct conn *c, const struct gkdi_getkey_req *req, uint8_t *resp, size_t cap,
	    struct gkdi_getkey_resp *r)
{
	uint8_t stub[GKDI_TARGET_SD_MAX + 64];
	gss_name_t target = GSS_C_NO_NAME;
	unsigned port = c->conf->port;
	size_t n, rl;
	OM_uint32 minor;
	int rc;

	if (port == 0 && (rc = epm_port(c, &port)) != 0)
		return rc;
	if ((rc = target_name(c->conf->server, &target)) != 0)
		return rc;
	c->call_id = 1;
	if ((rc = conn_open(c, port)) != 0 || (rc = bind_krb(c, target)) != 0)
		goto out;
	c->call_id = 2;
	if ((rc = gkdi_ndr_req_encode(req, stub, sizeof stub, &n)) != 0 ||
	    (rc = send_request(c, 0, stub, n)) != 0 ||
	    (rc = recv_response(c, resp, cap, &rl)) != 0 ||
	    (rc = gkdi_ndr_resp_parse(resp, rl, r)) != 0)
		goto out;
	if (r->hresult == GKDI_HRESULT_ACCESS_DENIED)
		rc = refused(c);
	else if (r->hresult != 0 || r->out == NULL)
		rc = laps_seterr(LAPS_ERR_UNAVAILABLE,
				 "the key service on %s gave no key (HRESULT 0x%08x)",
				 c->conf->server, r->hresult);
out:
	gss_release_name(&minor, &target);
	return rc;
}

int
gkdi_rpc_getkey(const struct gkdi_rpc_conf *conf, const struct gkdi_getkey_req *req, uint8_t **env,
		size_t *envlen)
{
	struct conn *c;
	struct gkdi_getkey_resp r;
	size_t cap = GKDI_ENVELOPE_MAX + 64;
	uint8_t *resp;
	int rc;

	*env = NULL;
	if ((c = laps_secret_alloc(sizeof *c)) == NULL || (resp = laps_secret_alloc(cap)) == NULL) {
		laps_secret_free(c);
		return LAPS_ERR_NOMEM;
	}
	c->fd = -1;
	c->ctx = GSS_C_NO_CONTEXT;
	c->conf = conf;
	clock_gettime(CLOCK_MONOTONIC, &c->deadline);
	c->deadline.tv_sec += conf->timeout > 0 ? conf->timeout : 10;
	if ((rc = getkey_call(c, req, resp, cap, &r)) == 0) {
		if ((*env = laps_secret_alloc(r.out_len)) == NULL)
			rc = LAPS_ERR_NOMEM;
		else
			memcpy(*env, r.out, r.out_len);
		*envlen = r.out_len;
	}
	conn_close(c);
	laps_secret_free(c);
	laps_secret_free(resp);
	if (rc == 0 || rc == LAPS_ERR_ACCESS) /* the refusal is one sentence */
		return rc;
	return laps_seterr_prefix(rc, "MS-GKDI GetKey");
}
