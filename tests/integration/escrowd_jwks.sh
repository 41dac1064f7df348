#!/bin/sh
# laps-escrowd's token verifier while the issuer is slow (issue 22, defect
# 3): a token with an unknown kid (no valid signature needed) makes the
# verifier fetch discovery + JWKS; that fetch must not delay anyone else.
# A minimal issuer (escrowd_jwks.py: discovery, one EC key) goes slow (10 s
# per answer); during the fetch a token whose key is cached is answered at
# once (well under the 10 s), the unknown kid is refused at once (401), and
# a second unknown kid does not start a second fetch.  Takes ~45 s (the
# verifier fetches at most every 30 s).
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
ESCROWD=$top_builddir/laps-escrowd
PY=$top_srcdir/tests/integration/escrowd_jwks.py
for t in openssl python3 curl; do
	command -v $t >/dev/null || { echo "$t missing" >&2; exit 77; }
done
python3 -c 'import cryptography' 2>/dev/null || { echo "python3-cryptography missing" >&2; exit 77; }
[ -x "$ESCROWD" ] || { echo "missing $ESCROWD" >&2; exit 99; }
. "$top_srcdir/tests/integration/lib/escrowd.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/escrowd_jwks.XXXXXX") || exit 99
ESCROWD_PID= IPID=
cleanup() {
	[ -n "$ESCROWD_PID" ] && kill "$ESCROWD_PID" 2>/dev/null
	[ -n "$IPID" ] && kill "$IPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
FAILS=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }

pki_ca "$T" ca && pki_sign "$T" server 'subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth' || { echo "test PKI failed" >&2; exit 99; }
mkdir "$T/iss"
python3 "$PY" serve "$T/server.crt" "$T/server.key" "$T/iss" 2>"$T/iss.log" &
IPID=$!
for _ in $(seq 100); do [ -s "$T/iss/port" ] && break; sleep 0.05; done
[ -s "$T/iss/port" ] || { cat "$T/iss.log" >&2; exit 99; }
cat >"$T/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $T/server.crt
key_file = $T/server.key
threads = 1
timeout = 20s

[store]
url = sqlite:$T/escrow.db

[oidc]
issuer = https://127.0.0.1:$(cat "$T/iss/port")
audience = laps-test
ca_file = $T/ca.crt
timeout = 10s
CONF
chmod 600 "$T/escrowd.conf"
escrowd_spawn "$ESCROWD" "$T/escrowd.conf" "$T" || { cat "$T/escrowd.log" >&2; exit 99; }
A=/v1/devices/ws01.example.test/accounts/lapsadmin
# get TOKEN OUT: status and seconds in OUT ("404 0.012")
get() {
	curl -sS --cacert "$T/ca.crt" -m 30 -o /dev/null -w '%{http_code} %{time_total}' \
		-H "Authorization: Bearer $1" "$ESCROWD_URL$A" >"$2" 2>/dev/null
}
lt() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$1" "$2"; }

good=$(python3 "$PY" token "$T/iss" k1 admin-robot)
get "$good" "$T/r0"
set -- $(cat "$T/r0")
[ "$1" = 404 ] && ok "a valid token (admin without rights): 404, keys fetched" || not_ok "first request: $*"
# a fetch is due again only after the verifier's minimum refresh interval
# (30 s, server/auth_token.c)
sleep 31
n0=$(grep -c '^' "$T/iss/requests.log")

# the issuer goes slow; an anonymous token with an unknown kid starts a fetch
echo 10 >"$T/iss/slow"
bad=$(python3 "$PY" token "$T/iss" nosuchkid mallory)
get "$bad" "$T/r1" &
B1=$!
sleep 0.5
get "$good" "$T/r2"
bad2=$(python3 "$PY" token "$T/iss" otherkid mallory)
get "$bad2" "$T/r3"
wait "$B1"
set -- $(cat "$T/r2")
echo "# cached-key token during the fetch: $*"
[ "$1" = 404 ] && lt "$2" 2 && ok "a cached-key token answered at once during a hanging fetch (${2}s)" ||
	not_ok "cached-key token during the fetch: $* (want 404 in < 2 s)"
set -- $(cat "$T/r1")
[ "$1" = 401 ] && lt "$2" 2 && ok "the unknown kid: 401 at once (${2}s)" || not_ok "unknown kid: $*"
set -- $(cat "$T/r3")
[ "$1" = 401 ] && lt "$2" 2 && ok "a second unknown kid: 401 at once (${2}s)" || not_ok "second unknown kid: $*"
sleep 1
n=$(($(grep -c '^' "$T/iss/requests.log") - n0))
[ "$n" -eq 1 ] && ok "one fetch in flight at a time ($n request(s) to the issuer since)" ||
	not_ok "$n requests to the issuer during one slow fetch"
kill -0 "$ESCROWD_PID" 2>/dev/null && ok "laps-escrowd still running" || not_ok "laps-escrowd died"
rm -f "$T/iss/slow"
kill -TERM "$ESCROWD_PID"; wait "$ESCROWD_PID"; ESCROWD_PID=
[ "$FAILS" -eq 0 ] || { echo "$FAILS failed"; exit 1; }
echo "all passed"
