#!/usr/bin/env python3
"""escrowd_jwks.py — a minimal OIDC issuer for escrowd_jwks.sh (tests only).

  escrowd_jwks.py serve CERT KEY DIR   discovery + JWKS over HTTPS on a free
        127.0.0.1 port (written to DIR/port), issuer https://127.0.0.1:PORT,
        one EC P-256 signing key (DIR/sign.pem, kid "k1").  While DIR/slow
        exists every answer waits that many seconds first.  Each request is
        appended to DIR/requests.log.
  escrowd_jwks.py token DIR KID SUB    an at+jwt access token for audience
        "laps-test", signed with DIR/sign.pem, the header naming KID.
"""
import base64
import http.server
import json
import os
import socketserver
import ssl
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def key(d):
    p = os.path.join(d, "sign.pem")
    if not os.path.exists(p):
        k = ec.generate_private_key(ec.SECP256R1())
        with open(p, "wb") as f:
            f.write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    with open(p, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def serve(cert, keyfile, d):
    k = key(d)
    n = k.public_key().public_numbers()
    jwks = json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
                                 "x": b64(n.x.to_bytes(32, "big")), "y": b64(n.y.to_bytes(32, "big"))}]})

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            with open(os.path.join(d, "requests.log"), "a") as f:
                f.write("%.3f %s\n" % (time.time(), self.path))
            try:
                with open(os.path.join(d, "slow")) as f:
                    time.sleep(float(f.read().strip() or "10"))
            except FileNotFoundError:
                pass
            if self.path == "/.well-known/openid-configuration":
                body = json.dumps({"issuer": ISSUER, "jwks_uri": ISSUER + "/jwks"})
            elif self.path == "/jwks":
                body = jwks
            else:
                self.send_error(404)
                return
            b = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(b)))
            self.end_headers()
            self.wfile.write(b)

    class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    srv = S(("127.0.0.1", 0), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, keyfile)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    global ISSUER
    ISSUER = "https://127.0.0.1:%d" % srv.server_address[1]
    with open(os.path.join(d, "port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
    srv.serve_forever()


def token(d, kid, sub):
    k = key(d)
    with open(os.path.join(d, "port")) as f:
        iss = "https://127.0.0.1:" + f.read().strip()
    now = int(time.time())
    h = b64(json.dumps({"alg": "ES256", "typ": "at+jwt", "kid": kid}).encode())
    p = b64(json.dumps({"iss": iss, "aud": "laps-test", "sub": sub, "client_id": sub,
                        "iat": now, "exp": now + 300, "jti": "j%d" % time.time_ns()}).encode())
    r, s = decode_dss_signature(k.sign((h + "." + p).encode(), ec.ECDSA(hashes.SHA256())))
    print(h + "." + p + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big")))


if sys.argv[1] == "serve":
    serve(*sys.argv[2:5])
else:
    token(*sys.argv[2:5])
