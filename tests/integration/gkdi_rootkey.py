#!/usr/bin/env python3
"""gkdi_rootkey.py OUT [HASH [SECRET]] -- a fresh KDS root key as the JSON the
LDAP backend's test-only gkdi_root_key_file reads (the dpapi-ng project's
field names).  HASH: SHA256 | SHA384 | SHA512 (default, as Windows);
SECRET: DH (default, the RFC 5114 2048/256 group from openssl) | ECDH_P256
| ECDH_P384.  The file is created 0600."""
import json, os, secrets, subprocess, sys, uuid

out = sys.argv[1]
hash_ = sys.argv[2] if len(sys.argv) > 2 else "SHA512"
secret = sys.argv[3] if len(sys.argv) > 3 else "DH"
name = (hash_ + "\0").encode("utf-16-le")
kdfp = (b"\0\0\0\0\1\0\0\0" + len(name).to_bytes(4, "little") + b"\0\0\0\0" + name)
params, priv, pub = b"", 256, 256
if secret == "DH":
    # the RFC 5114 2048-bit group with a 256-bit subgroup (what Windows'
    # default KDS root key uses), from openssl: X9.42 DER p, g, q
    pem = subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DHX",
                          "-pkeyopt", "dh_rfc5114:3"], check=True,
                         capture_output=True).stdout
    txt = subprocess.run(["openssl", "asn1parse"], input=pem, check=True,
                         capture_output=True).stdout.decode()
    ints = [int(l.rsplit(":", 1)[1], 16) for l in txt.splitlines() if "INTEGER" in l]
    p, g = ints[0], ints[1]
    kl = 256
    body = b"DHPM" + kl.to_bytes(4, "little") + p.to_bytes(kl, "big") + g.to_bytes(kl, "big")
    params = (4 + len(body)).to_bytes(4, "little") + body
    priv, pub = 512, 2048
elif secret == "ECDH_P384":
    priv = pub = 384
doc = {"Version": 1, "RootKeyId": str(uuid.uuid4()), "KdfAlgorithm": "SP800_108_CTR_HMAC",
       "KdfParameters": kdfp.hex().upper(), "SecretAgreementAlgorithm": secret,
       "SecretAgreementParameters": params.hex().upper(), "PrivateKeyLength": priv,
       "PublicKeyLength": pub, "RootKeyData": secrets.token_hex(64).upper()}
fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump(doc, f, indent=1)
