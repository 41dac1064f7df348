#!/usr/bin/env python3
"""escrowd_slow.py MODE HOST PORT CAFILE [args] — hostile slow clients for
escrowd_slow.sh.  Prints one line of results; the shell side asserts.

  trickle T  : 3 connections from 127.0.0.2 and 3 from 127.0.0.3 send a
               request's headers one byte every 0.4 s for up to 6*T s, while
               a client on 127.0.0.1 asks GET /healthz every 0.2 s.
               Prints: "closed MAX_LIFETIME served FIRST_OK_S N_OK N_TRIED"
               (MAX_LIFETIME: the longest a trickler stayed open, 999 when
               one was still open when it gave up).
  chunked    : an anonymous chunked PUT of 4 KiB chunks every 10 ms for up
               to 12 s.  Prints "answered SECONDS STATUS SENT_BYTES" (STATUS 0
               when the server closed without an answer), or "never".
  announced N: a PUT announcing Content-Length N (over the record cap);
               the headers, a 0.3 s pause, then the body in 8 KiB pieces
               every 20 ms, then the answer is read.  Prints "answered
               STATUS"; 0 when a send failed (the connection was reset
               under the body): curl then gives up without reading.
  early N    : the same headers, then the answer is read without sending
               the body.  Prints "answered STATUS SECONDS" or "never".
"""
import select
import socket
import ssl
import sys
import threading
import time

mode, host, port, cafile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = False


def connect(src):
    raw = socket.create_connection((host, port), timeout=5, source_address=(src, 0))
    return ctx.wrap_socket(raw)


def trickler(src, limit, out, i):
    t0 = time.monotonic()
    try:
        s = connect(src)
    except OSError:
        out[i] = 0.0  # refused at once: not a trickler that held a slot
        return
    s.setblocking(False)
    data = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10000
    for b in data:
        if time.monotonic() - t0 > limit:
            out[i] = 999.0
            return
        try:
            s.send(bytes([b]))
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
            pass
        except OSError:
            out[i] = time.monotonic() - t0
            return
        r, _, _ = select.select([s], [], [], 0.4)
        if r:
            try:
                if s.recv(4096) == b"":
                    out[i] = time.monotonic() - t0
                    return
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
            except OSError:
                out[i] = time.monotonic() - t0
                return
    out[i] = 999.0


def healthz():
    try:
        s = connect("127.0.0.1")
        s.settimeout(3)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        buf = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            buf += d
        s.close()
        return buf.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def trickle(t):
    limit = 6 * t
    out = [None] * 6
    th = [threading.Thread(target=trickler, args=("127.0.0.%d" % (2 + i % 2), limit, out, i))
          for i in range(6)]
    for x in th:
        x.start()
    time.sleep(0.5)  # let the tricklers take their slots
    t0 = time.monotonic()
    first, n_ok, n = None, 0, 0
    while any(x.is_alive() for x in th):
        n += 1
        if healthz():
            n_ok += 1
            if first is None:
                first = time.monotonic() - t0
        time.sleep(0.2)
    for x in th:
        x.join()
    print("closed %.1f served %s %d %d" % (max(out), "%.1f" % first if first is not None else "never",
                                           n_ok, n))


def chunked():
    s = connect("127.0.0.1")
    s.sendall(b"PUT /v1/devices/ws01.example.test/accounts/lapsadmin/record HTTP/1.1\r\n"
              b"Host: x\r\nContent-Type: application/json\r\nIf-None-Match: *\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n")
    s.setblocking(False)
    chunk = b"1000\r\n" + b"x" * 4096 + b"\r\n"
    t0, sent, pending = time.monotonic(), 0, b""
    while time.monotonic() - t0 < 12:
        r, w, _ = select.select([s], [s], [], 0.01)
        if r:
            try:
                d = s.recv(4096)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                d = None
            except OSError:
                d = b""
            if d is not None:
                status = int(d.split(b" ")[1]) if d.startswith(b"HTTP/1.1 ") else 0
                print("answered %.1f %d %d" % (time.monotonic() - t0, status, sent))
                return
        if w:
            if not pending:
                pending = chunk
            try:
                n = s.send(pending)
                sent += n
                pending = pending[n:]
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                pass
            except OSError:
                print("answered %.1f 0 %d" % (time.monotonic() - t0, sent))
                return
        time.sleep(0.01)
    print("never")


def put_headers(n):
    s = connect("127.0.0.1")
    s.sendall(b"PUT /v1/devices/ws01.example.test/accounts/lapsadmin/record HTTP/1.1\r\n"
              b"Host: x\r\nContent-Type: application/json\r\nIf-None-Match: *\r\n"
              b"Content-Length: %d\r\n\r\n" % n)
    return s


def read_status(s):
    buf = b""
    try:
        while b"\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                break
            buf += d
    except OSError:
        pass
    return int(buf.split(b" ")[1]) if buf.startswith(b"HTTP/1.1 ") else 0


def announced(n):
    s = put_headers(n)
    time.sleep(0.3)  # an answer sent before the body has been sent by now
    s.settimeout(5)
    try:
        for off in range(0, n, 8192):  # paced, so a reset is seen mid-body
            s.sendall(b"x" * min(8192, n - off))
            time.sleep(0.02)
    except OSError:
        print("answered 0")  # as curl does: a send failure ends the request
        return
    print("answered %d" % read_status(s))


def early(n):
    s = put_headers(n)
    s.settimeout(5)
    t0 = time.monotonic()
    st = read_status(s)
    print("answered %d %.1f" % (st, time.monotonic() - t0) if st else "never")


if mode == "trickle":
    trickle(float(sys.argv[5]))
elif mode == "announced":
    announced(int(sys.argv[5]))
elif mode == "early":
    early(int(sys.argv[5]))
else:
    chunked()
