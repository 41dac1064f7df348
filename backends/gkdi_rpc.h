/*
 * gkdi_rpc.h — MS-GKDI GetKey over DCE/RPC (ncacn_ip_tcp): the ISDKey
 * interface b9785960-524f-11df-8b6d-83dcded72085 v1.0 on a domain
 * controller, bound with Kerberos (GSSAPI, mutual, DCE style, three legs:
 * bind / bind_ack / auth3) at packet privacy.  The port comes from the
 * endpoint mapper on port 135 unless the caller names one.  The Kerberos
 * credentials are the process's defaults: the credential cache (KRB5CCNAME)
 * or, when that is empty, MIT's client keytab (KRB5_CLIENT_KTNAME /
 * default_client_keytab_name) — the machine keytab for the agent, the
 * administrator's ccache for laps-get.  The service principal is
 * host/<server>.  One TCP connection per call; nothing is cached.
 */
#ifndef LAPS_GKDI_RPC_H
#define LAPS_GKDI_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "backends/dcerpc_pdu.h"
#include "backends/gkdi_ndr.h"

extern const struct dcerpc_syntax gkdi_isdkey; /* b9785960-524f-11df-8b6d-83dcded72085 v1.0 */

struct gkdi_rpc_conf {
	const char *server; /* host name or address of the domain controller */
	unsigned port;	    /* 0: ask the endpoint mapper on port 135 */
	int timeout;	    /* seconds, for the whole call */
};

/*
 * GetKey(sd, root_key_id or NULL, l0, l1, l2): *env is the packed
 * GroupKeyEnvelope (laps_secret_alloc; release with laps_secret_free).
 * LAPS_ERR_ACCESS "not in the group the password is encrypted to" when the
 * DC refuses (E_ACCESSDENIED or an access-denied fault); LAPS_ERR_AUTH
 * (Kerberos), _UNAVAILABLE, _TIMEOUT, _FORMAT, _TOOBIG.
 */
int gkdi_rpc_getkey(const struct gkdi_rpc_conf *c, const struct gkdi_getkey_req *req, uint8_t **env,
		    size_t *envlen) __attribute__((warn_unused_result));

/* The endpoint mapper's part (exposed for the unit tests and the fuzz
 * target): the ept_map request stub for the ISDKey interface over TCP, and
 * the TCP port of the first tower of its answer (LAPS_ERR_NOTFOUND when it
 * has none). */
int gkdi_epm_map_req(uint8_t *out, size_t cap, size_t *len) __attribute__((warn_unused_result));
int gkdi_epm_map_parse(const uint8_t *b, size_t len, unsigned *port)
    __attribute__((warn_unused_result));

#endif
