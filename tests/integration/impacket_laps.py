#!/usr/bin/env python3
"""impacket_laps.py VALUE GKE_HEX SID OUR_SD_HEX -- the independent decryptor
of tests/integration/ldap_impacket.sh, run inside a Debian 13 root with
python3-impacket.  VALUE: an msLAPS-EncryptedPassword value (header + blob)
written by laps-agent; GKE_HEX: the GroupKeyEnvelope GetKey would answer
(from the test root key); SID: the expected protection descriptor;
OUR_SD_HEX: the target security descriptor our GetKey client would send.

Every step after the GetKey answer is impacket's (the steps of its
GetLAPSPassword example) or pycryptodome's: the header (impacket's
EncryptedPasswordBlob), the CMS EnvelopedData (pyasn1-modules RFC 5652),
the key identifier (KeyIdentifier), the KEK (compute_kek: L2 key, DH
agreement, KDFs), the key unwrap (unwrap_cek), and AES-GCM with the tag
VERIFIED (pycryptodome decrypt_and_verify: impacket's decrypt_plaintext
does not check it).  Prints one JSON line: the decrypted document and what
was checked."""
import json
import sys

from Cryptodome.Cipher import AES
from impacket.dcerpc.v5.gkdi import GroupKeyEnvelope
from impacket.dpapi_ng import (EncryptedPasswordBlob, KeyIdentifier, compute_kek,
                               create_sd, unwrap_cek)
from pyasn1.codec.der import decoder
from pyasn1_modules import rfc5652

value = open(sys.argv[1], "rb").read()
gke = GroupKeyEnvelope(bytes.fromhex(open(sys.argv[2]).read().strip()))
want_sid, our_sd = sys.argv[3], sys.argv[4]

blob = EncryptedPasswordBlob(value)
assert blob["Length"] == len(value) - 16, "header size field"
assert blob["Flags"] == 0, "header reserved field"
ci, remaining = decoder.decode(blob["Blob"], asn1Spec=rfc5652.ContentInfo())
ed, _ = decoder.decode(ci["content"], asn1Spec=rfc5652.EnvelopedData())
kekri = ed["recipientInfos"][0]["kekri"]
key_id = KeyIdentifier(bytes(kekri["kekid"]["keyIdentifier"]))
attr, _ = decoder.decode(kekri["kekid"]["other"]["keyAttr"])
sid = attr["field-1"][0][0][1].asOctets().decode("utf-8")
assert sid == want_sid, "protection descriptor %s" % sid
iv, _ = decoder.decode(bytes(ed["encryptedContentInfo"]["contentEncryptionAlgorithm"]["parameters"]))
iv = bytes(iv[0])
kek = compute_kek(gke, key_id)
cek = unwrap_cek(kek, bytes(kekri["encryptedKey"]))
ct, tag = remaining[:-16], remaining[-16:]
pt = AES.new(cek, AES.MODE_GCM, nonce=iv).decrypt_and_verify(ct, tag)
assert pt.endswith(b"\0\0"), "UTF-16 terminator"
doc = json.loads(pt[:-2].decode("utf-16-le"))
print(json.dumps({"doc": doc, "sid": sid, "public_key_path": key_id.is_public_key(),
                  "ciphertext_after_envelope": len(remaining) > 16,
                  "sd_matches_impacket": create_sd(sid).getData().hex() == our_sd}))
