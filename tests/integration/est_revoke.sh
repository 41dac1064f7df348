#!/bin/sh
# Revocation of enrolled devices on two laps-escrowd instances sharing one
# PostgreSQL (the store is the source of truth): a device enrolled with a
# token on A, disabled through B, is refused at once on A and on B
# (certificate), its renewal is refused, its records stay readable by an
# admin; enable restores it; a new key for its name is refused until an
# admin allows re-enrollment.  Skips (77) without PostgreSQL.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
ESCROWD=$top_builddir/laps-escrowd
for t in openssl curl python3; do
	command -v $t >/dev/null || { echo "$t missing" >&2; exit 77; }
done
[ -x "$ESCROWD" ] || { echo "missing $ESCROWD" >&2; exit 99; }

T=$(mktemp -d "${TMPDIR:-/tmp}/est_revoke.XXXXXX") || exit 99
PID=
PID2=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; [ -n "$PID2" ] && kill "$PID2" 2>/dev/null; pg_cleanup; wait 2>/dev/null; rm -rf "$T"; }
. "$top_srcdir/tests/integration/lib/postgres.sh"
pg_start --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
PATH=$PG_BIN:$PATH
trap cleanup EXIT
FAILS=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }
check() { # check DESC EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}
ssl() { openssl "$@" >/dev/null 2>&1 || { echo "openssl $* failed" >&2; exit 99; }; }

# --- test PKI: a TLS CA (server, admins) and the EST issuing CA ---------------
. "$top_srcdir/tests/integration/lib/est.sh"
est_pki provisioner lab-boss reader

cat >"$T/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $T/server.crt
key_file = $T/server.key
client_ca = $T/ca.crt
threads = 2

[store]
url = postgresql:$PG_CONNINFO

[authz]
units = lab:lab-* eu:eu-*
cert_admins = provisioner=laps.enroll@lab lab-boss=laps.read@lab reader=laps.read,laps.secret,laps.audit

[limits]
rate = 1000
burst = 10000

[est]
ca_cert = $T/estca.crt
ca_key = $T/estca.key
lifetime = 2h
CONF
chmod 600 "$T/escrowd.conf"


start() { # start NAME: URL_NAME set
	rm -f "$T/$1.port"
	"$ESCROWD" -c "$T/escrowd.conf" --port-file "$T/$1.port" 2>>"$T/$1.log" &
	eval "PID_$1=\$!"
	for _ in $(seq 100); do [ -s "$T/$1.port" ] && break; sleep 0.05; done
	[ -s "$T/$1.port" ] || { cat "$T/$1.log" >&2; exit 99; }
}
start A; PID=$PID_A
start B; PID2=$PID_B
A=https://127.0.0.1:$(cat "$T/A.port"); B=https://127.0.0.1:$(cat "$T/B.port")
URL=$A; EST=$A/.well-known/est
# on URL CERTPREFIX METHOD PATH [curl args]: status
on() {
	local u=$1 c=$2 m=$3 p=$4
	shift 4
	curl -sS --cacert "$T/ca.crt" --cert "$c.crt" --key "$c.key" -X "$m" -o "$T/on.body" \
		-w '%{http_code}' "$@" "$u$p" 2>/dev/null
}
S=$(on "$A" "$T/provisioner" POST /v1/enroll-tokens -H 'Content-Type: application/json' \
	--data-binary '{"unit":"lab","uses":10,"expires_in":3600}')
check "token made on A" 201 "$S"
TOK=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T/on.body")
csr "$T/d" lab-01
S=$(curl -sS --cacert "$T/ca.crt" -H "Authorization: Bearer $TOK" "${P10[@]}" \
	--data-binary @"$T/d/lab-01.b64" -o "$T/body" -w '%{http_code}' "$A/.well-known/est/simpleenroll")
check "lab-01 enrolls on A with the token" 200 "$S"
certs_of "$T/body" "$T/d/lab-01.crt" || not_ok "  no certificate"
D=$T/d/lab-01
printf '{"v":1,"device":"lab-01","account":"root","uid":0,"rotation_id":"%032x","rotated_at":1700000000,"expires_at":1800000000,"state":"pending","envelope":"AQIDBAUGBwgJCgsMDQ4PEA==","key_ids":["0011223344556677"]}' 1 >"$T/rec"
check "lab-01 escrows a record on A" 201 "$(on "$A" "$D" PUT /v1/devices/lab-01/accounts/root/record \
	-H 'Content-Type: application/json' -H 'If-None-Match: *' --data-binary @"$T/rec")"
check "lab-01 reads its metadata on B" 200 "$(on "$B" "$D" GET /v1/devices/lab-01/accounts/root)"

check "disable lab-01 through B" 200 "$(on "$B" "$T/provisioner" POST /v1/enrolled-devices/lab-01/disable \
	-H 'Content-Type: application/json' --data-binary '{}')"
check "  at once refused on A (next request)" 403 "$(on "$A" "$D" GET /v1/devices/lab-01/accounts/root)"
grep -q device_disabled "$T/on.body" && ok "  code device_disabled" || not_ok "  body: $(cat "$T/on.body")"
check "  and on B" 403 "$(on "$B" "$D" GET /v1/devices/lab-01/accounts/root)"
check "  its write refused" 403 "$(on "$A" "$D" PUT /v1/devices/lab-01/accounts/root/record \
	-H 'Content-Type: application/json' -H 'If-Match: "v1"' --data-binary @"$T/rec")"
csr "$T/r" lab-01
S=$(curl -sS --cacert "$T/ca.crt" --cert "$D.crt" --key "$D.key" "${P10[@]}" \
	--data-binary @"$T/r/lab-01.b64" -o "$T/body" -w '%{http_code}' "$B/.well-known/est/simplereenroll")
check "  its renewal refused on B" 403 "$S"
grep -q 'MII' "$T/body" && not_ok "  a certificate came back" || ok "  no certificate issued"
check "  its record stays readable by an admin" 200 "$(on "$A" "$T/reader" GET /v1/devices/lab-01/accounts/root/record)"
check "list --status disabled shows it" 200 "$(on "$A" "$T/provisioner" GET '/v1/enrolled-devices?status=disabled')"
grep -q '"device":"lab-01","status":"disabled"' "$T/on.body" && ok "  lab-01 disabled" || not_ok "  list: $(cat "$T/on.body")"
check "GET cacerts is unchanged by a revocation" "$(openssl x509 -in "$T/estca.crt" -noout -fingerprint -sha256)" \
	"$(curl -sS --cacert "$T/ca.crt" "$B/.well-known/est/cacerts" | openssl base64 -d | openssl pkcs7 -inform DER -print_certs | openssl x509 -noout -fingerprint -sha256)"

check "enable lab-01 on A" 200 "$(on "$A" "$T/provisioner" POST /v1/enrolled-devices/lab-01/enable \
	-H 'Content-Type: application/json' --data-binary '{}')"
check "  accepted again on B" 200 "$(on "$B" "$D" GET /v1/devices/lab-01/accounts/root)"

# a re-imaged lab-01: a new key for the name needs the admin's reenroll
csr "$T/new" lab-01
S=$(curl -sS --cacert "$T/ca.crt" -H "Authorization: Bearer $TOK" "${P10[@]}" \
	--data-binary @"$T/new/lab-01.b64" -o "$T/body" -w '%{http_code}' "$B/.well-known/est/simpleenroll")
check "a new key for lab-01 without reenroll: 409" 409 "$S"
check "reenroll lab-01 (admin)" 200 "$(on "$B" "$T/provisioner" POST /v1/enrolled-devices/lab-01/reenroll \
	-H 'Content-Type: application/json' --data-binary '{}')"
check "  an admin without the enroll right cannot" 403 "$(on "$B" "$T/reader" POST /v1/enrolled-devices/lab-01/reenroll \
	-H 'Content-Type: application/json' --data-binary '{}')"
S=$(curl -sS --cacert "$T/ca.crt" -H "Authorization: Bearer $TOK" "${P10[@]}" \
	--data-binary @"$T/new/lab-01.b64" -o "$T/body" -w '%{http_code}' "$A/.well-known/est/simpleenroll")
check "  then the new key enrolls (on the other instance)" 200 "$S"
S=$(curl -sS --cacert "$T/ca.crt" -H "Authorization: Bearer $TOK" "${P10[@]}" \
	--data-binary @"$T/new/lab-01.b64" -o "$T/body" -w '%{http_code}' "$A/.well-known/est/simpleenroll")
check "  once (the permit is used up): 409" 409 "$S"
check "audit: device_disable row" 1 "$(audit_rows device_disable allowed)"

echo "# $FAILS failure(s)"
[ "$FAILS" -eq 0 ]
