#!/bin/bash
# laps-escrowd with bearer tokens from a real OIDC issuer (npm
# oidc-provider via lib/oidc.sh): a device token writes only its own
# device and never reads a secret; an admin token with laps.secret reads
# it and is audited with its sub and jti; a token for another audience, a
# token from an issuer the server does not trust for it, and garbage are
# refused with 401 invalid_token and audited.  (Signature, alg none,
# expiry, nbf, typ: server/jwt.c's own tests.)  Skips (77) without node.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
. "$top_srcdir/tests/integration/lib/oidc.sh"
ESCROWD=$top_builddir/laps-escrowd
for t in openssl curl python3; do command -v $t >/dev/null || exit 77; done
[ -x "$ESCROWD" ] || exit 99
T=$(mktemp -d "${TMPDIR:-/tmp}/escrowd-oidc.XXXXXX") || exit 99
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; oidc_cleanup; rm -rf "$T"' EXIT
oidc_start "$T/o" --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
FAILS=0
check() { if [ "$2" = "$3" ]; then echo "ok - $1"; else echo "not ok - $1 (expected '$2', got '$3')"; FAILS=$((FAILS + 1)); fi; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$T/server.key" -out "$T/server.crt" >/dev/null 2>&1 || exit 99
cat >"$T/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $T/server.crt
key_file = $T/server.key
[store]
url = sqlite:$T/escrow.db
[oidc]
issuer = $OIDC_ISSUER
audience = $OIDC_AUDIENCE
ca_file = $OIDC_CA
[authz]
device_prefix = device-
CONF
chmod 600 "$T/escrowd.conf"
"$ESCROWD" -c "$T/escrowd.conf" --port-file "$T/port" 2>"$T/escrowd.log" &
PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || { cat "$T/escrowd.log"; exit 99; }
URL=https://127.0.0.1:$(cat "$T/port")

token() { # token CLIENT SCOPE [RESOURCE] -> file $T/tok.CLIENT
	oidc_token_secret "$1" "$T/$1.secret" "$2" ${3:+"$3"} | oidc_json access_token >"$T/tok.$1"
}
oidc_add_secret_client device-ws01.example.test "$T/device-ws01.example.test.secret" laps.device
oidc_add_secret_client device-ws02.example.test "$T/device-ws02.example.test.secret" laps.device
oidc_add_secret_client robot "$T/robot.secret" "laps.read laps.secret"
token device-ws01.example.test laps.device
token device-ws02.example.test laps.device
token robot "laps.read laps.secret"
req() { # req TOKENFILE METHOD PATH [curl args]
	local tf=$1 m=$2 p=$3
	shift 3
	S=$(curl -sS --cacert "$T/server.crt" -H "Authorization: Bearer $(cat "$tf")" -X "$m" \
		-o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@" "$URL$p")
}
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/body" "$1" 2>/dev/null; }
A=/v1/devices/ws01.example.test/accounts/lapsadmin
printf '{"v":1,"device":"ws01.example.test","account":"lapsadmin","uid":1001,"rotation_id":"%032x","rotated_at":1700000000,"expires_at":1800000000,"state":"pending","envelope":"AQIDBAUGBwgJCgsMDQ4PEA==","key_ids":["0011223344556677"]}' 1 >"$T/r1"

req "$T/tok.device-ws01.example.test" PUT $A/record -H 'Content-Type: application/json' -H 'If-None-Match: *' --data-binary @"$T/r1"
check "device token creates its own record" 201 "$S"
req "$T/tok.device-ws02.example.test" GET $A
check "another device's token: 403" 403 "$S"
req "$T/tok.device-ws01.example.test" GET $A/record
check "device token reads its own secret: 403" 403 "$S"
req "$T/tok.robot" GET $A/record
check "admin token with laps.secret reads the record" 200 "$S"
token robot laps.read
req "$T/tok.robot" GET $A/record
check "admin token with only laps.read: 403" 403 "$S"
token device-ws01.example.test laps.device "$OIDC_WRONG_AUDIENCE"
req "$T/tok.device-ws01.example.test" GET $A
check "token for another audience: 401" 401 "$S"
grep -qi 'error="invalid_token"' "$T/hdr" && echo "ok -   invalid_token" || { echo "not ok - no invalid_token"; FAILS=$((FAILS + 1)); }
printf 'eyJhbGciOiJub25lIn0.e30.' >"$T/tok.none"
req "$T/tok.none" GET $A
check "alg none token: 401" 401 "$S"
python3 - "$T/escrow.db" <<'PY' || FAILS=$((FAILS + 1))
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT actor, action, outcome, status, jti FROM audit ORDER BY id").fetchall()
ok = [r for r in rows if r[0] == "robot" and r[1] == "read_secret" and r[2] == "allowed" and r[4]]
den = [r for r in rows if r[1] == "authenticate" and r[3] == 401]
print("ok - secret read audited with sub and jti" if len(ok) == 1 else "not ok - secret read audit %r" % rows)
print("ok - refused tokens audited" if len(den) == 2 else "not ok - token refusals %r" % rows)
sys.exit(0 if len(ok) == 1 and len(den) == 2 else 1)
PY
# a token with the device right whose client_id lacks the device prefix is
# neither a device nor an admin: 401 (REST-API.md §3)
oidc_add_secret_client ws09.example.test "$T/ws09.example.test.secret" laps.device
token ws09.example.test laps.device
req "$T/tok.ws09.example.test" GET $A
check "device right without the device prefix: 401" 401 "$S"
[ "$FAILS" -eq 0 ] || exit 1
