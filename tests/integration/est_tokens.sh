#!/bin/sh
# EST enrollment tokens (RFC 7030 §3.2.3: HTTP authentication) on
# laps-escrowd, with curl + openssl only: an admin with laps.enroll@lab
# makes tokens over /v1/enroll-tokens (shown once, stored as a hash);
# devices enroll with one as a Bearer token or as the Basic password;
# limits on uses, expiry, unit, name pattern and revocation; a name held
# by an enrolled device (even before it escrowed anything) is refused to a
# second token; audit rows for creation, revocation and every refusal.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
: "${top_builddir:=.}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
ESCROWD=$top_builddir/laps-escrowd
for t in openssl curl python3; do
	command -v $t >/dev/null || { echo "$t missing" >&2; exit 77; }
done
[ -x "$ESCROWD" ] || { echo "missing $ESCROWD" >&2; exit 99; }

T=$(mktemp -d "${TMPDIR:-/tmp}/est_tokens.XXXXXX") || exit 99
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
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
url = ${ESCROWD_STORE_URL:-sqlite:$T/escrow.db}

[authz]
units = lab:lab-* eu:eu-*
cert_admins = provisioner=laps.enroll@lab lab-boss=laps.read@lab reader=laps.read,laps.audit

[limits]
rate = 1000
burst = 10000

[est]
ca_cert = $T/estca.crt
ca_key = $T/estca.key
lifetime = 2h
CONF
chmod 600 "$T/escrowd.conf"
est_serve



# mktoken JSON: POST /v1/enroll-tokens as provisioner; status in $S, body in $T/tok.json
mktoken() {
	S=$(curl -sS --cacert "$T/ca.crt" --cert "$T/provisioner.crt" --key "$T/provisioner.key" \
		-H 'Content-Type: application/json' --data-binary "$1" -o "$T/tok.json" \
		-w '%{http_code}' "$URL/v1/enroll-tokens" 2>/dev/null)
}
jt() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/tok.json" "$1" 2>/dev/null; }
# enroll_with TOKEN CN [basic]: simpleenroll with the token (Bearer, or Basic password)
enroll_with() {
	local auth
	csr "$T/d" "$2"
	if [ "${3:-}" = basic ]; then
		auth="Authorization: Basic $(printf 'device:%s' "$1" | openssl base64 -A)"
	else
		auth="Authorization: Bearer $1"
	fi
	S=$(curl -sS --cacert "$T/ca.crt" -H "$auth" "${P10[@]}" --data-binary @"$T/d/$2.b64" \
		-o "$T/body" -w '%{http_code}' "$EST/simpleenroll" 2>/dev/null)
}

# --- making tokens ----------------------------------------------------------
mktoken '{"unit":"lab","uses":2,"expires_in":3600}'
check "create a token (enroll right on lab): 201" 201 "$S"
TOK=$(jt 'd["token"]'); ID=$(jt 'd["id"]')
case $TOK in laps-et-$ID.*) ok "  the token carries its id" ;; *) not_ok "  token '$TOK' id '$ID'" ;; esac
mktoken '{"unit":"eu","uses":1,"expires_in":3600}'
check "a token for a unit without the right: 403" 403 "$S"
mktoken '{"unit":"nowhere","uses":1,"expires_in":3600}'
check "a token for an unknown unit: 400" 400 "$S"
mktoken '{"unit":"lab","uses":0,"expires_in":3600}'
check "a token with 0 uses: 400" 400 "$S"
s=$(curl -sS --cacert "$T/ca.crt" --cert "$T/reader.crt" --key "$T/reader.key" \
	-H 'Content-Type: application/json' --data-binary '{"unit":"lab","uses":1,"expires_in":60}' \
	-o /dev/null -w '%{http_code}' "$URL/v1/enroll-tokens")
check "an admin without laps.enroll cannot make tokens: 403" 403 "$s"
s=$(curl -sS --cacert "$T/ca.crt" --cert "$T/provisioner.crt" --key "$T/provisioner.key" \
	-o "$T/list.json" -w '%{http_code}' "$URL/v1/enroll-tokens")
check "list tokens: 200" 200 "$s"
grep -q "$ID" "$T/list.json" && ok "  the token is listed" || not_ok "  not listed"
grep -q "${TOK#*.}" "$T/list.json" && not_ok "  the list shows the secret" || ok "  the list never shows the secret"
if [ -z "${ESCROWD_STORE_URL:-}" ]; then
	grep -qa "${TOK#*.}" "$T"/escrow.db* && not_ok "  the token is in the database" ||
		ok "  the database holds no token, only its hash"
fi

# --- enrolling with it --------------------------------------------------------
enroll_with "$TOK" lab-01
check "simpleenroll with the token as Bearer: 200" 200 "$S"
certs_of "$T/body" "$T/d/lab-01.crt" && ok "  a certificate" || not_ok "  no certificate"
check "  it authenticates lab-01" 404 "$(api "$T/d/lab-01" /v1/devices/lab-01/accounts/root)"
enroll_with "$TOK" lab-01 basic
check "the same name again with the token (held, no records yet): 409" 409 "$S"
enroll_with "$TOK" lab-02 basic
check "simpleenroll with the token as the Basic password: 200" 200 "$S"
enroll_with "$TOK" lab-03
check "a third enrollment with a 2-use token: 401" 401 "$S"
enroll_with "${TOK%?}x" lab-03
check "a wrong secret: 401" 401 "$S"

mktoken '{"unit":"lab","uses":5,"expires_in":3600,"name_pattern":"lab-pc-*"}'
PT=$(jt 'd["token"]')
enroll_with "$PT" lab-srv-1
check "a name outside the token's pattern: 403" 403 "$S"
enroll_with "$PT" eu-pc-1
check "a name outside the token's unit: 403" 403 "$S"
enroll_with "$PT" lab-pc-1
check "a name inside the pattern: 200" 200 "$S"
check "  refusals took no use (uses_left 4)" 4 "$(curl -sS --cacert "$T/ca.crt" --cert "$T/provisioner.crt" --key "$T/provisioner.key" "$URL/v1/enroll-tokens" |
	python3 -c 'import json,sys; print([t["uses_left"] for t in json.load(sys.stdin)["tokens"] if t["name_pattern"] == "lab-pc-*"][0])')"
PID2=$(jt 'd["id"]')
s=$(curl -sS --cacert "$T/ca.crt" --cert "$T/provisioner.crt" --key "$T/provisioner.key" \
	-H 'Content-Type: application/json' --data-binary '{}' -o /dev/null -w '%{http_code}' \
	"$URL/v1/enroll-tokens/$PID2/revoke")
check "revoke a token: 200" 200 "$s"
enroll_with "$PT" lab-pc-2
check "a revoked token: 401" 401 "$S"

mktoken '{"unit":"lab","uses":5,"expires_in":1}'
ET=$(jt 'd["token"]')
sleep 2
enroll_with "$ET" lab-pc-3
check "an expired token: 401" 401 "$S"

# --- audit ----------------------------------------------------------------------
check "audit: token creations" 3 "$(audit_rows enroll_token_create allowed)"
check "audit: token revocations" 1 "$(audit_rows enroll_token_revoke allowed)"
check "audit: enrollments by token" 3 "$(audit_rows est_enroll allowed)"
n=$(audit_rows est_enroll denied)
[ "$n" -ge 3 ] && ok "audit: refused enrollments ($n)" || not_ok "audit: refused enrollments $n"
n=$(audit_rows authenticate denied)
[ "$n" -ge 4 ] && ok "audit: refused tokens ($n)" || not_ok "audit: refused tokens $n"

kill "$PID"; wait "$PID" 2>/dev/null; PID=
echo "# $FAILS failure(s)"
[ "$FAILS" -eq 0 ]
