#!/usr/bin/env python3
"""hostile_ldap.py -- a small hostile LDAP server for the LDAP backend's tests.

Listens on 127.0.0.1 (a free port chosen by the kernel), writes the port to
--port-file once it accepts connections, and serves every connection in a
thread until it is killed (by PID, from the test's trap).  It speaks just
enough LDAPv3 (BER by hand, no TLS) to lead a client where the mode says:

  silent               accept, read everything, never answer (an ldaps://
                       peer that never speaks TLS, a hung server)
  silent-after-starttls  answer StartTLS with success, then go silent (the
                       client's TLS handshake gets nothing back)
  nul-dn               answer binds; every search returns one entry whose DN
                       contains a NUL byte (cn=a\\00b...), with the attributes
                       of all three schema modes
  huge-value           answer binds; every search returns one entry whose
                       lapsCurrent, msLAPS-Password and expiration values are
                       --size bytes long (default 16 MiB)
  many-values          answer binds; every search returns one entry with
                       --count lapsHistory values
Compares are answered compareFalse, modifies success; unbind closes.
"""
import argparse
import socket
import sys
import threading

STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"


def enc_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, content):
    return bytes([tag]) + enc_len(len(content)) + content


def enc_int(tag, v):
    b = v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True)
    return tlv(tag, b)


def ldap_result(tag, code=0, extra=b""):
    return tlv(tag, enc_int(0x0A, code) + tlv(0x04, b"") + tlv(0x04, b"") + extra)


def message(msgid, op):
    return tlv(0x30, enc_int(0x02, msgid) + op)


def send_message(conn, msgid, op):
    """message() without copying op: the huge entries are tens of MiB, and
    building them per request took longer than the client's timeout on a
    loaded machine (the test wants LAPS_ERR_TOOBIG, not a timeout)."""
    mid = enc_int(0x02, msgid)
    conn.sendall(bytes([0x30]) + enc_len(len(mid) + len(op)) + mid)
    conn.sendall(op)


def attr(name, values):
    return tlv(0x30, tlv(0x04, name) + tlv(0x31, b"".join(tlv(0x04, v) for v in values)))


def read_exact(conn, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def read_message(conn):
    """One LDAPMessage: (message id, protocolOp tag, op content)."""
    hdr = read_exact(conn, 2)
    if hdr[0] != 0x30:
        raise EOFError
    n = hdr[1]
    if n & 0x80:
        n = int.from_bytes(read_exact(conn, n & 0x7F), "big")
    body = read_exact(conn, n)
    # messageID INTEGER
    assert body[0] == 0x02
    ilen = body[1]
    msgid = int.from_bytes(body[2:2 + ilen], "big")
    rest = body[2 + ilen:]
    return msgid, rest[0], rest


def entry(dn, attrs):
    return tlv(0x64, tlv(0x04, dn) + tlv(0x30, b"".join(attr(k, v) for k, v in attrs)))


def search_entry(args):
    if args.mode == "nul-dn":
        dn = b"cn=a\x00b,ou=devices,dc=example,dc=test"
        return entry(dn, [(b"cn", [b"host1"]),
                          (b"lapsRotationId", [b"lapsadmin:" + b"0" * 32]),
                          (b"msLAPS-PasswordExpirationTime", [b"133485408000000000"]),
                          (b"ms-Mcs-AdmPwdExpirationTime", [b"133485408000000000"])])
    dn = b"cn=host1,ou=devices,dc=example,dc=test"
    if args.mode == "many-values":
        vals = [b"lapsadmin:%08d" % i for i in range(args.count)]
        return entry(dn, [(b"cn", [b"host1"]), (b"lapsHistory", vals)])
    big = b"x" * args.size
    return entry(dn, [(b"cn", [b"host1"]), (b"lapsCurrent", [big]),
                      (b"msLAPS-Password", [big]), (b"ms-Mcs-AdmPwd", [big]),
                      (b"msLAPS-PasswordExpirationTime", [b"1" * args.size])])


def serve(conn, args, answer):
    try:
        while True:
            if args.mode == "silent":
                if not conn.recv(65536):
                    return
                continue
            msgid, op, _ = read_message(conn)
            if op == 0x42:  # unbind
                return
            if op == 0x60:  # bind
                conn.sendall(message(msgid, ldap_result(0x61)))
            elif op == 0x77:  # extended: StartTLS says yes, then nothing
                conn.sendall(message(msgid, ldap_result(0x78, 0, tlv(0x8A, STARTTLS_OID))))
                if args.mode == "silent-after-starttls":
                    while conn.recv(65536):
                        pass
                    return
            elif op == 0x63:  # search
                send_message(conn, msgid, answer)
                conn.sendall(message(msgid, ldap_result(0x65)))
            elif op == 0x6E:  # compare: compareFalse
                conn.sendall(message(msgid, ldap_result(0x6F, 5)))
            elif op == 0x66:  # modify
                conn.sendall(message(msgid, ldap_result(0x67)))
            # abandon and anything else: no answer
    except (EOFError, OSError, AssertionError, IndexError):
        pass
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", required=True,
                   choices=["silent", "silent-after-starttls", "nul-dn", "huge-value",
                            "many-values"])
    p.add_argument("--port-file", required=True)
    p.add_argument("--size", type=int, default=16 * 1024 * 1024)
    p.add_argument("--count", type=int, default=100000)
    args = p.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    answer = search_entry(args)  # once, before the port is published
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    import os
    os.rename(tmp, args.port_file)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, args, answer), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
