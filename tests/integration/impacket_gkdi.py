#!/usr/bin/python3
"""impacket_gkdi.py DUMPDIR SD_HEX ROOTKEYID -- check what our GetKey client
and the test key service exchanged (tests/integration/gkdi_server.c -d) with
impacket's structures (not our code): MS-RPCE headers, bind, bind_ack,
sec_trailer, and MS-GKDI GetKey request / response / GroupKeyEnvelope.
Connection 1 is the agent (writer), 2 the admin (reader), 3 eve (refused).
Prints "ok - ..." lines; exits 1 on the first mismatch."""
import sys
import uuid

from impacket.dcerpc.v5 import gkdi
from impacket.dcerpc.v5.rpcrt import (MSRPCHeader, MSRPCBind, MSRPCBindAck, CtxItem,
                                      CtxItemResult, MSRPCRequestHeader, SEC_TRAILER, DCERPC)
from impacket.uuid import bin_to_uuidtup

d, sd_hex, root = sys.argv[1], sys.argv[2], sys.argv[3]


def rd(name):
    with open("%s/%s" % (d, name), "rb") as f:
        return f.read()


def check(cond, what):
    if not cond:
        print("FAIL - impacket: " + what)
        sys.exit(1)
    print("ok - impacket: " + what)


# bind (ours) and bind_ack (the test server's)
b = rd("bind.1")
h = MSRPCHeader(b)
check(h["type"] == 11 and h["ver_major"] == 5 and h["frag_len"] == len(b) and h["auth_len"] > 0,
      "bind header: type 11, frag_len %d, auth_len %d" % (h["frag_len"], h["auth_len"]))
bind = MSRPCBind(h["pduData"])
ctx = CtxItem(bind["ctx_items"][:len(CtxItem())])
check(bind["ctx_num"] == 1 and ctx["AbstractSyntax"] == gkdi.MSRPC_UUID_GKDI and
      ctx["TransferSyntax"] == DCERPC.NDRSyntax,
      "bind: one context, ISDKey %s, NDR 2.0" % (bin_to_uuidtup(ctx["AbstractSyntax"]),))
st = SEC_TRAILER(h["sec_trailer"])
check(st["auth_type"] == 16 and st["auth_level"] == 6,
      "bind sec_trailer: RPC_C_AUTHN_GSS_KERBEROS, PKT_PRIVACY")
check(h["auth_data"][:1] == b"\x6e", "bind auth value: a raw Kerberos AP-REQ (DCE style)")
a = MSRPCBindAck(rd("bind_ack.1"))
res = CtxItemResult(a["ctx_items"][:len(CtxItemResult())])
check(a["type"] == 12 and a["ctx_num"] == 1 and res["Result"] == 0 and
      res["TransferSyntax"] == DCERPC.NDRSyntax and a["auth_len"] == len(a["auth_data"]) > 0 and
      a["auth_data"][:1] == b"\x6f",
      "bind_ack: context accepted with NDR 2.0, an AP-REP")

# the sealed request PDU (ours)
r = rd("request_pdu.1")
rq = MSRPCRequestHeader(r)
st = SEC_TRAILER(rq["sec_trailer"])
check(rq["type"] == 0 and rq["op_num"] == 0 and rq["frag_len"] == len(r) and
      st["auth_level"] == 6 and (len(rq["pduData"]) % 16) == 0 and
      st["auth_pad_len"] == len(rq["pduData"]) - rq["alloc_hint"],
      "request: opnum 0, stub padded to 16 (auth_pad_length %d), privacy" % st["auth_pad_len"])

# GetKey stubs
q = gkdi.GkdiRpcGetKey(rd("request.1"))
check(q["cbTargetSD"] == len(bytes.fromhex(sd_hex)) and
      b"".join(q["pbTargetSD"]) == bytes.fromhex(sd_hex),
      "writer request: the target SD of the SID (%d bytes)" % q["cbTargetSD"])
g = q["pRootKeyID"]
check((g if isinstance(g, bytes) else g.getData()) in (b"", b"\0\0\0\0"),
      "writer request: no root key id (%r)" % (g,))
check(q["L0KeyID"] == -1 and q["L1KeyID"] == -1 and q["L2KeyID"] == -1,
      "writer request: L0 = L1 = L2 = -1")
p = gkdi.GkdiRpcGetKeyResponse(rd("response.1"))
env = b"".join(p["pbbOut"])
check(p["ErrorCode"] == 0 and p["pcbOut"] == len(env) > 0, "writer response: %d bytes, 0" % len(env))
e = gkdi.GroupKeyEnvelope(env)
rk = uuid.UUID(root).bytes_le
check(e["Magic"] == 0x4b53444b and (e["Flags"] & 1) == 1 and e["RootKeyId"] == rk and
      e["L1KeyLength"] == 0 and e["L2KeyLength"] > 0,
      "writer response: a public-key GroupKeyEnvelope of the root key (L%d/%d/%d)" %
      (e["L0Index"], e["L1Index"], e["L2Index"]))

q = gkdi.GkdiRpcGetKey(rd("request.2"))
g = q["pRootKeyID"]
g = g if isinstance(g, bytes) else g.getData()
check(g == rk, "reader request: the blob's root key id (%s)" % uuid.UUID(bytes_le=g))
check(q["L0KeyID"] == e["L0Index"] and q["L1KeyID"] == e["L1Index"] and q["L2KeyID"] == e["L2Index"],
      "reader request: the blob's L0/L1/L2")
p = gkdi.GkdiRpcGetKeyResponse(rd("response.2"))
e2 = gkdi.GroupKeyEnvelope(b"".join(p["pbbOut"]))
check(p["ErrorCode"] == 0 and (e2["Flags"] & 1) == 0 and e2["L1KeyLength"] == 64,
      "reader response: a seed-key GroupKeyEnvelope")
p = gkdi.GkdiRpcGetKeyResponse(rd("response.3"))
check(p["ErrorCode"] == 0x80070005 and p["pcbOut"] == 0, "refused response: E_ACCESSDENIED, no key")
