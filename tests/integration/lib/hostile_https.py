#!/usr/bin/env python3
"""hostile_https.py -- a small hostile HTTPS front for laps-escrowd (tests only).

    hostile_https.py CERT KEY UPSTREAM_URL UPSTREAM_CA PLAN_FILE PORT_FILE

Listens on 127.0.0.1 (a free port, written to PORT_FILE) with CERT/KEY and
forwards every request to UPSTREAM_URL (verified with UPSTREAM_CA) -- except
that before forwarding it takes the first line of PLAN_FILE (removing it) and
misbehaves as that line says:

    pass            forward normally
    429 N           answer 429 with Retry-After: N (seconds)
    429date N       answer 429 with Retry-After as an HTTP-date N s ahead
    503             answer 503 (no Retry-After)
    slow N          wait N seconds, then forward
    drop            close the connection without an answer
    redirect URL    answer 307 with Location: URL
    redirect-to BASE
                    answer 307 with Location: BASE + the request's path (the
                    same request elsewhere: following it would succeed)
    big N           answer 200 with an N-byte JSON body
    garbage         answer 200 with a body that is not JSON
    json TEXT       answer 200 with TEXT (the rest of the line) as application/json
    after-drop      forward, then close without relaying the answer
                    (the request reached the server; the client never learns)
    412             answer 412 version_mismatch (nothing forwarded)
    after-412       forward, then answer 412 whatever the server said (the
                    write landed; the client is told it lost the race)
    other-rotation  forward, and relay the answer with every "rotation_id"
                    replaced by ffff...: someone else's record

An empty plan forwards.  Every request is logged to PLAN_FILE.log as
"METHOD PATH ACTION".  Runs until killed.
"""
import email.utils
import http.client
import http.server
import os
import re
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

CERT, KEY, UPSTREAM, UPCA, PLAN, PORTFILE = sys.argv[1:7]
up = urllib.parse.urlsplit(UPSTREAM)
lock = threading.Lock()


def next_action():
    with lock:
        try:
            with open(PLAN) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return "pass"
        if not lines:
            return "pass"
        with open(PLAN + ".tmp", "w") as f:
            f.write("".join(line + "\n" for line in lines[1:]))
        os.replace(PLAN + ".tmp", PLAN)
        return lines[0].strip() or "pass"


def log(line):
    with lock, open(PLAN + ".log", "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_simple(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def forward(self, body, relay=True, rewrite=None, keep_open=False):
        ctx = ssl.create_default_context(cafile=UPCA)
        c = http.client.HTTPSConnection(up.hostname, up.port, context=ctx, timeout=30)
        hdrs = {k: v for k, v in self.headers.items()
                if k.lower() in ("authorization", "content-type", "if-match", "if-none-match",
                                 "accept")}
        c.request(self.command, self.path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        if rewrite is not None:
            data = rewrite(data)
        if not relay:
            if keep_open:
                return
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.send_response(r.status)
        for k in ("Content-Type", "ETag", "Location", "Retry-After", "WWW-Authenticate",
                  "Laps-Seq"):
            if r.getheader(k):
                self.send_header(k, r.getheader(k))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        action = next_action()
        log("%s %s %s" % (self.command, self.path, action))
        word, _, arg = action.partition(" ")
        if word == "429":
            self.send_simple(429, b'{"code":"rate_limited","status":429}',
                             [("Retry-After", arg or "1"),
                              ("Content-Type", "application/problem+json")])
        elif word == "429date":
            when = email.utils.formatdate(time.time() + int(arg or "1") + 1, usegmt=True)
            self.send_simple(429, b"", [("Retry-After", when)])
        elif word == "503":
            self.send_simple(503, b'{"code":"unavailable","status":503}',
                             [("Content-Type", "application/problem+json")])
        elif word == "slow":
            time.sleep(float(arg or "5"))
            self.forward(body)
        elif word == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
        elif word == "redirect":
            self.send_simple(307, b"", [("Location", arg)])
        elif word == "redirect-to":
            self.send_simple(307, b"", [("Location", arg + self.path)])
        elif word == "big":
            self.send_simple(200, b'{"x":"' + b"a" * int(arg) + b'"}',
                             [("Content-Type", "application/json")])
        elif word == "garbage":
            self.send_simple(200, b"<html>not json</html>",
                             [("Content-Type", "application/json"), ("ETag", '"x"')])
        elif word == "json":
            self.send_simple(200, arg.encode(), [("Content-Type", "application/json")])
        elif word == "after-drop":
            self.forward(body, relay=False)
        elif word == "412":
            self.send_simple(412, b'{"code":"version_mismatch","status":412}',
                             [("Content-Type", "application/problem+json")])
        elif word == "after-412":
            self.forward(body, relay=False, keep_open=True)
            self.send_simple(412, b'{"code":"version_mismatch","status":412}',
                             [("Content-Type", "application/problem+json")])
        elif word == "other-rotation":
            self.forward(body, rewrite=lambda d: re.sub(
                rb'"rotation_id":"[0-9a-f]{32}"', b'"rotation_id":"' + b"f" * 32 + b'"', d))
        else:
            self.forward(body)

    do_GET = do_PUT = do_POST = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(PORTFILE + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.replace(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
