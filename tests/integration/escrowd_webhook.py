#!/usr/bin/env python3
"""A webhook receiver for escrowd_notify.sh, on 127.0.0.1.

usage: escrowd_webhook.py KEYFILE MODE PORTFILE LOGFILE
MODE: ok (204), 500 (always 500), slow (answers 204 after 5 s).
Each POST is logged as one line: "OK|BADSIG EVENT DEVICE ACTION" where OK
means X-Laps-Signature is sha256=HMAC-SHA256(key, body) in hex.
"""
import hashlib
import hmac
import http.server
import json
import sys
import time

key = open(sys.argv[1], 'rb').read().rstrip(b'\r\n')
mode, portfile, logfile = sys.argv[2], sys.argv[3], sys.argv[4]


class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('Content-Length', '0'))
        body = self.rfile.read(n) if 0 < n <= 65536 else b''
        want = 'sha256=' + hmac.new(key, body, hashlib.sha256).hexdigest()
        got = self.headers.get('X-Laps-Signature', '')
        ok = hmac.compare_digest(want, got)
        try:
            d = json.loads(body)
        except ValueError:
            d = {}
        with open(logfile, 'a') as f:
            f.write('%s %s %s %s\n' % ('OK' if ok else 'BADSIG', d.get('event'),
                                        d.get('device'), d.get('action')))
        if mode == 'slow':
            time.sleep(5)
        self.send_response(500 if mode == '500' else 204)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, *a):
        pass


s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
with open(portfile + '.tmp', 'w') as f:
    f.write('%d\n' % s.server_address[1])
import os
os.rename(portfile + '.tmp', portfile)
s.serve_forever()
