/*
 * gkdi_server.c — a TEST MS-GKDI key service for tests/integration/
 * gkdi_rpc.sh, built from MS-GKDI and MS-RPCE (never compared with a
 * Windows domain controller).  It listens on 127.0.0.1, takes the
 * three-leg Kerberos bind (bind / bind_ack / auth3, DCE style, the keytab
 * of KRB5_KTNAME), and answers GetKey (opnum 0) at packet privacy from a
 * test KDS root key file (our own derivation, backends/gkdi_source.c):
 *   - L0 = L1 = L2 = -1 and no root key id (a writer): the public key
 *     envelope of the current interval, to every authenticated caller;
 *   - a blob's key: the seed envelope, only to principals named on the
 *     command line — a stand-in for the DC's access check against the
 *     target security descriptor (group membership); everyone else gets
 *     E_ACCESSDENIED (0x80070005) as the HRESULT.
 * The target SD must be the one of SID (else E_INVALIDARG).
 *
 * With -e it is also the endpoint mapper on 127.0.0.1:135 (root): an
 * unauthenticated bind for the EPM interface and ept_map (opnum 3) for the
 * ISDKey interface, answered with one tower naming its port.
 *
 * usage: gkdi_server PORTFILE ROOTKEYFILE SID [-d DUMPDIR] [-f FRAG] [-e 1] PRINCIPAL...
 *   PORTFILE: written with the TCP port once listening;  DUMPDIR: the
 *   request and response stubs of each call as request.N / response.N;
 *   FRAG: the response stub's bytes per fragment (default: one fragment).
 * One connection at a time; runs until killed.
 */
#include "config.h"

#include <arpa/inet.h>
#include <gssapi/gssapi.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backends/dcerpc_gss.h"
#include "backends/gkdi_rpc.h"
#include "backends/gkdi_source.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/secret.h"

struct srv {
	struct gkdi_source *src;
	const char *sid, *dump;
	char **allow;
	int n_allow, fd, calls, epm;
	unsigned port;
	size_t frag;
	gss_ctx_id_t ctx;
	char who[256];
	uint8_t buf[DCERPC_FRAG_MAX];
};

static int
read_full(int fd, uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, b, n);

		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
recv_pdu(struct srv *s, struct dcerpc_pdu *p, size_t *n)
{
	if (read_full(s->fd, s->buf, DCERPC_HDR_LEN) != 0 ||
	    dcerpc_frag_len(s->buf, DCERPC_HDR_LEN, n) != 0 ||
	    read_full(s->fd, s->buf + DCERPC_HDR_LEN, *n - DCERPC_HDR_LEN) != 0 ||
	    dcerpc_pdu_parse(s->buf, *n, p) != 0)
		return -1;
	return 0;
}

static int
send_all(int fd, const uint8_t *b, size_t n)
{
	return write(fd, b, n) == (ssize_t)n ? 0 : -1;
}

static int
accept_token(struct srv *s, const struct dcerpc_auth *a, gss_buffer_t out, OM_uint32 *major)
{
	gss_buffer_desc in = {a->value_len, (void *)a->value};
	gss_name_t src = GSS_C_NO_NAME;
	gss_buffer_desc nm = GSS_C_EMPTY_BUFFER;
	OM_uint32 minor, flags = 0;

	*major =
	    gss_accept_sec_context(&minor, &s->ctx, GSS_C_NO_CREDENTIAL, &in,
				   GSS_C_NO_CHANNEL_BINDINGS, &src, NULL, out, &flags, NULL, NULL);
	if (GSS_ERROR(*major)) {
		dcerpc_gss_err(LAPS_ERR_AUTH, "gss_accept_sec_context", *major, minor);
		fprintf(stderr, "gkdi_server: %s\n", laps_errdetail());
		return -1;
	}
	if (*major == GSS_S_COMPLETE && src != GSS_C_NO_NAME &&
	    gss_display_name(&minor, src, &nm, NULL) == GSS_S_COMPLETE) {
		snprintf(s->who, sizeof s->who, "%.*s", (int)nm.length, (char *)nm.value);
		gss_release_buffer(&minor, &nm);
	}
	gss_release_name(&minor, &src);
	return 0;
}

static void
dump(const struct srv *s, const char *what, const uint8_t *b, size_t n)
{
	char path[512];
	FILE *f;

	if (s->dump == NULL)
		return;
	snprintf(path, sizeof path, "%s/%s.%d", s->dump, what, s->calls);
	if ((f = fopen(path, "wb")) != NULL) {
		fwrite(b, 1, n, f);
		fclose(f);
	}
}

/* bind (AP-REQ) -> bind_ack (AP-REP), auth3 -> context complete. */
static int
do_bind(struct srv *s)
{
	struct dcerpc_pdu p;
	struct dcerpc_syntax iface;
	gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
	uint8_t body[64], pdu[DCERPC_FRAG_MAX];
	size_t n, blen;
	uint16_t ctx_id;
	OM_uint32 major, minor;
	int ok;

	if (recv_pdu(s, &p, &n) != 0 || p.ptype != DCERPC_BIND ||
	    dcerpc_bind_parse(&p, &ctx_id, &iface) != 0 || p.auth_len == 0)
		return -1;
	dump(s, "bind", s->buf, n);
	ok = memcmp(&iface, &gkdi_isdkey, sizeof iface) == 0 &&
	     p.auth.type == DCERPC_AUTHN_KERBEROS && p.auth.level == DCERPC_LEVEL_PRIVACY;
	if (!ok || accept_token(s, &p.auth, &out, &major) != 0 || major != GSS_S_CONTINUE_NEEDED)
		ok = 0;
	{
		struct dcerpc_auth a = {DCERPC_AUTHN_KERBEROS,
					DCERPC_LEVEL_PRIVACY,
					0,
					p.auth.ctx_id,
					out.value,
					out.length};

		if (dcerpc_bind_ack_body(ok, body, sizeof body, &blen) != 0 ||
		    dcerpc_pdu_build(pdu, sizeof pdu, DCERPC_BIND_ACK, 3, p.call_id, body, blen, 0,
				     ok ? &a : NULL, &n) != 0 ||
		    send_all(s->fd, pdu, n) != 0)
			ok = 0;
		dump(s, "bind_ack", pdu, n);
	}
	gss_release_buffer(&minor, &out);
	if (!ok || recv_pdu(s, &p, &n) != 0 || p.ptype != DCERPC_AUTH3 || p.auth_len == 0 ||
	    accept_token(s, &p.auth, &out, &major) != 0 || major != GSS_S_COMPLETE)
		return -1;
	gss_release_buffer(&minor, &out);
	return 0;
}

static bool
allowed(const struct srv *s)
{
	int i;

	for (i = 0; i < s->n_allow; i++)
		if (strcmp(s->allow[i], s->who) == 0)
			return true;
	return false;
}

/* The answer to one GetKey: *env (laps_secret) and the HRESULT. */
static uint32_t
answer(struct srv *s, const struct gkdi_getkey_req *r, uint8_t **env, size_t *envlen)
{
	uint8_t sd[GKDI_TARGET_SD_MAX];
	struct gkdi_key_id kid = {0};
	size_t sdlen;

	*env = NULL;
	if (gkdi_target_sd(s->sid, sd, sizeof sd, &sdlen) != 0 || sdlen != r->sd_len ||
	    memcmp(sd, r->sd, sdlen) != 0)
		return 0x80070057u; /* E_INVALIDARG */
	if (r->root_key_id == NULL && r->l0 == -1 && r->l1 == -1 && r->l2 == -1)
		return gkdi_source_writer_key(s->src, s->sid, time(NULL), env, envlen) == 0
			   ? 0
			   : 0x80090008u; /* NTE_BAD_ALGID */
	if (r->root_key_id == NULL || !allowed(s))
		return GKDI_HRESULT_ACCESS_DENIED;
	memcpy(kid.root_key_id, r->root_key_id, GKDI_GUID_BYTES);
	kid.l0 = r->l0;
	kid.l1 = r->l1;
	kid.l2 = r->l2;
	return gkdi_source_reader_key(s->src, s->sid, &kid, env, envlen) == 0 ? 0 : 0x8009000fu;
}

/* The response stub, sealed, in fragments of s->frag bytes. */
static int
send_response(struct srv *s, uint32_t call_id, const uint8_t *stub, size_t n)
{
	uint8_t hdr[8], pdu[DCERPC_FRAG_MAX];
	size_t off = 0, len, step = s->frag > 0 ? s->frag : n;

	do {
		size_t k = n - off < step ? n - off : step;
		uint8_t fl =
		    (off == 0 ? DCERPC_PFC_FIRST : 0) | (off + k == n ? DCERPC_PFC_LAST : 0);

		dcerpc_response_hdr(hdr, (uint32_t)(n - off));
		if (dcerpc_gss_seal(s->ctx, DCERPC_RESPONSE, fl, call_id, hdr, stub + off, k, pdu,
				    sizeof pdu, &len) != 0 ||
		    send_all(s->fd, pdu, len) != 0)
			return -1;
		off += k;
	} while (off < n);
	return 0;
}

static int
do_call(struct srv *s)
{
	struct dcerpc_pdu p;
	struct dcerpc_call c;
	struct gkdi_getkey_req r;
	struct gkdi_getkey_resp resp = {NULL, 0, 0};
	uint8_t stub[GKDI_ENVELOPE_MAX + 64];
	size_t n;
	int rc = -1;

	if (recv_pdu(s, &p, &n) != 0)
		return -1;
	dump(s, "request_pdu", s->buf, n); /* sealed */
	if (dcerpc_gss_unseal(s->ctx, s->buf, n, &p) != 0 || dcerpc_call_parse(&p, &c) != 0 ||
	    p.ptype != DCERPC_REQUEST || c.opnum != 0)
		return -1;
	dump(s, "request", c.stub, c.stub_len);
	if (gkdi_ndr_req_parse(c.stub, c.stub_len, &r) != 0)
		return -1;
	resp.hresult = answer(s, &r, (uint8_t **)&resp.out, &resp.out_len);
	fprintf(stderr, "gkdi_server: %s: GetKey(%d, %d, %d) -> 0x%08x\n", s->who, r.l0, r.l1, r.l2,
		resp.hresult);
	if (gkdi_ndr_resp_encode(&resp, stub, sizeof stub, &n) == 0) {
		dump(s, "response", stub, n);
		rc = send_response(s, p.call_id, stub, n);
	}
	laps_secret_free((void *)resp.out);
	laps_wipe(stub, sizeof stub);
	return rc;
}

/* A listening socket on 127.0.0.1:port (0: any); *bound: its port. */
static int
listen_local(unsigned port, unsigned *bound)
{
	struct sockaddr_in a = {0};
	socklen_t al = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*bound = ntohs(a.sin_port);
	return fd;
}

static const uint8_t epm_uuid[16] = {0x08, 0x83, 0xaf, 0xe1, 0x1f, 0x5d, 0xc9, 0x11,
				     0x91, 0xa4, 0x08, 0x00, 0x2b, 0x14, 0xa0, 0xfa};

/* ept_map's answer: the request's tower (ISDKey, NDR, TCP, IP) with our
 * port in its TCP floor; E_INVALIDARG-like refusal when it asks for
 * another interface. */
static int
epm_answer(struct srv *s, const struct dcerpc_call *c, uint8_t *out, size_t *n)
{
	size_t tl;

	if (c->stub_len < 32 + 75 + 24 || c->opnum != 3 ||
	    memcmp(c->stub + 37, gkdi_isdkey.uuid, 16) != 0)
		return -1;
	tl = c->stub[28] | (size_t)c->stub[29] << 8;
	if (tl != 75)
		return -1;
	memset(out, 0, 40);
	out[20] = out[24] = out[32] = 1; /* num_towers, max_count, actual_count */
	out[36] = 3;			 /* referent id */
	memcpy(out + 40, c->stub + 24, 8 + 75);
	out[40 + 8 + 64] = (uint8_t)(s->port >> 8);
	out[40 + 8 + 65] = (uint8_t)s->port;
	memset(out + 40 + 8 + 75, 0, 1 + 4); /* pad, status 0 */
	*n = 40 + 8 + 76 + 4;
	return 0;
}

/* One endpoint mapper connection: bind (no auth), ept_map. */
static int
do_epm(struct srv *s)
{
	struct dcerpc_pdu p;
	struct dcerpc_call c;
	struct dcerpc_syntax iface;
	uint8_t body[256], pdu[512];
	size_t n, blen;
	uint16_t ctx;

	if (recv_pdu(s, &p, &n) != 0 || p.ptype != DCERPC_BIND ||
	    dcerpc_bind_parse(&p, &ctx, &iface) != 0 || memcmp(iface.uuid, epm_uuid, 16) != 0 ||
	    dcerpc_bind_ack_body(true, body, sizeof body, &blen) != 0 ||
	    dcerpc_pdu_build(pdu, sizeof pdu, DCERPC_BIND_ACK, 3, p.call_id, body, blen, 0, NULL,
			     &n) != 0 ||
	    send_all(s->fd, pdu, n) != 0)
		return -1;
	if (recv_pdu(s, &p, &n) != 0 || dcerpc_call_parse(&p, &c) != 0 || p.ptype != DCERPC_REQUEST)
		return -1;
	dcerpc_response_hdr(body, 0);
	if (epm_answer(s, &c, body + 8, &blen) != 0 ||
	    dcerpc_pdu_build(pdu, sizeof pdu, DCERPC_RESPONSE, 3, p.call_id, body, 8 + blen, 0,
			     NULL, &n) != 0 ||
	    send_all(s->fd, pdu, n) != 0)
		return -1;
	fprintf(stderr, "gkdi_server: ept_map -> port %u\n", s->port);
	return 0;
}

static int
write_port(const char *portfile, unsigned port)
{
	FILE *f = fopen(portfile, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "%u\n", port);
	return fclose(f);
}

static int
parse_args(struct srv *s, int argc, char **argv)
{
	int i = 4;

	if (argc < 4)
		return -1;
	s->sid = argv[3];
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "-d") == 0)
			s->dump = argv[i + 1];
		else if (strcmp(argv[i], "-e") == 0)
			s->epm = 1;
		else if (strcmp(argv[i], "-f") == 0)
			s->frag = strtoul(argv[i + 1], NULL, 10);
		else
			return -1;
	}
	s->allow = argv + i;
	s->n_allow = argc - i;
	return 0;
}

int
main(int argc, char **argv)
{
	static struct srv s;
	struct pollfd pf[2] = {{-1, POLLIN, 0}, {-1, POLLIN, 0}};
	unsigned p135;
	OM_uint32 minor;

	if (parse_args(&s, argc, argv) != 0) {
		fprintf(stderr, "usage: gkdi_server PORTFILE ROOTKEYFILE SID [-d DIR] [-f FRAG] "
				"PRINCIPAL...\n");
		return 2;
	}
	if (gkdi_source_open(argv[2], &s.src) != 0) {
		fprintf(stderr, "gkdi_server: %s\n", laps_errdetail());
		return 1;
	}
	if ((pf[0].fd = listen_local(0, &s.port)) < 0) {
		perror("gkdi_server: listen");
		return 1;
	}
	if (s.epm && (pf[1].fd = listen_local(135, &p135)) < 0)
		perror("gkdi_server: endpoint mapper: cannot listen on 127.0.0.1:135");
	if (write_port(argv[1], s.port) != 0)
		return 1;
	for (;;) {
		if (poll(pf, 2, -1) <= 0)
			continue;
		if (pf[1].revents & POLLIN) {
			if ((s.fd = accept(pf[1].fd, NULL, NULL)) >= 0) {
				if (do_epm(&s) != 0)
					fprintf(stderr, "gkdi_server: ept_map dropped\n");
				close(s.fd);
			}
			continue;
		}
		if ((s.fd = accept(pf[0].fd, NULL, NULL)) < 0)
			continue;
		s.who[0] = '\0';
		s.calls++;
		if (do_bind(&s) != 0 || do_call(&s) != 0)
			fprintf(stderr, "gkdi_server: connection dropped (%s)\n", s.who);
		if (s.ctx != GSS_C_NO_CONTEXT)
			gss_delete_sec_context(&minor, &s.ctx, GSS_C_NO_BUFFER);
		close(s.fd);
	}
}
