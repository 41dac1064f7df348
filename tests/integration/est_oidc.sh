#!/bin/bash
# est_oidc.sh — the third EST bootstrap credential: an OIDC access token
# with the enroll right (laps.enroll, or laps.enroll@UNIT), from the real
# suite issuer (npm oidc-provider, lib/oidc.sh), for provisioning systems
# that already have an IdP client.  With curl + openssl: a provisioning
# client with laps.enroll@lab enrolls lab-01 (the certificate verifies
# under the EST CA and authenticates lab-01), not eu-01 (other unit, 403,
# nothing stored); a client with only laps.read, a device token and a
# token for another audience are refused and leave nothing; a held name is
# 409; audit rows carry the token's sub and jti; events LAPS-3030/3032.
# Then `laps-agent enroll --token-file` with an OIDC token (the agent sends
# it as the Bearer, as it does an enrollment token): a matching pair and a
# real rotation with it (invariant verified); a token without the right
# writes nothing.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/agent_lib.sh"
need_root
. "$top_srcdir/tests/integration/rest_lib.sh"
rest_agent_setup

escrowd_kill
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=est-ca \
	-keyout "$T/pki/estca.key" -out "$T/pki/estca.crt" >/dev/null 2>&1 || exit 99
chmod 600 "$T/pki/estca.key"
sed -i 's|^cert_admins = \(.*\)$|units = lab:lab-* lab:testhost eu:eu-*\ncert_admins = \1,laps.audit|' "$T/escrowd.conf"
printf '%s\n' "" "[est]" "ca_cert = $T/pki/estca.crt" "ca_key = $T/pki/estca.key" \
	"lifetime = 1h" >>"$T/escrowd.conf"
: >"$T/escrowd.log"
escrowd_start
EST=$ESCROWD_URL/.well-known/est

# --- the IdP's clients ------------------------------------------------------------
oidc_add_secret_client provisioner "$T/provisioner.secret" laps.enroll@lab
oidc_add_secret_client enroller "$T/enroller.secret" laps.enroll
oidc_add_secret_client reader "$T/reader.secret" laps.read
oidc_add_secret_client lab-05 "$T/lab-05.secret" laps.device
# a provisioning client whose tokens carry a large groups claim: over 1 KiB
oidc_add_secret_client bigprov "$T/bigprov.secret" laps.enroll@lab ES256 \
	"$(for i in $(seq 40); do printf 'provisioning-group-with-a-long-name-%02d ' "$i"; done)"
token() { # token CLIENT SCOPE [RESOURCE]: the access token in $T/tok.CLIENT (0600)
	(umask 077; oidc_token_secret "$1" "$T/$1.secret" "$2" ${3:+"$3"} | oidc_json access_token >"$T/tok.$1")
	[ -s "$T/tok.$1" ] || { echo "no token for $1" >&2; exit 99; }
}
token provisioner laps.enroll@lab
token enroller laps.enroll
token reader laps.read
token lab-05 laps.device
token bigprov laps.enroll@lab

# csr CN: a new key $T/d/CN.key and its request, base64 DER, in $T/d/CN.b64
csr() {
	mkdir -p "$T/d"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$T/d/$1.key" -outform DER -out "$T/d/$1.der" >/dev/null 2>&1 &&
		openssl base64 -in "$T/d/$1.der" -out "$T/d/$1.b64"
}
# enroll TOKENFILE CN: simpleenroll with the bearer token; status in $S
enroll() {
	csr "$2"
	S=$(curl -sS --cacert "$T/pki/ca.crt" -H "Authorization: Bearer $(cat "$1")" \
		-H 'Content-Type: application/pkcs10' --data-binary @"$T/d/$2.b64" \
		-o "$T/body" -w '%{http_code}' "$EST/simpleenroll" 2>"$T/curl.err")
}
check() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (expected '$2', got '$3')"; fi; }
sql() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$T/escrow.db" "$1"; }
enrolled() { sql "SELECT count(*) FROM enrolled_devices WHERE device = '$1'"; }
api() { # api CERTPREFIX PATH: status of a GET on /v1
	curl -sS --cacert "$T/pki/ca.crt" --cert "$1.crt" --key "$1.key" -o /dev/null \
		-w '%{http_code}' "$ESCROWD_URL$2" 2>/dev/null
}

# --- curl + openssl ---------------------------------------------------------------
enroll "$T/tok.provisioner" lab-01
check "OIDC token with laps.enroll@lab: simpleenroll lab-01" 200 "$S"
openssl base64 -d -in "$T/body" -out "$T/body.der" &&
	openssl pkcs7 -inform DER -in "$T/body.der" -print_certs -out "$T/d/lab-01.crt" 2>/dev/null
openssl verify -CAfile "$T/pki/estca.crt" -purpose sslclient "$T/d/lab-01.crt" >/dev/null 2>&1 &&
	pass "  the certificate verifies under the EST CA for client authentication" ||
	fail "  the certificate does not verify"
check "  its subject is lab-01" "subject=CN = lab-01" "$(openssl x509 -in "$T/d/lab-01.crt" -noout -subject 2>/dev/null)"
check "  it authenticates lab-01 on /v1 (own device: 404 no record)" 404 \
	"$(api "$T/d/lab-01" /v1/devices/lab-01/accounts/root)"
check "  enrolled_devices row via the token's jti" 1 \
	"$(sql "SELECT count(*) FROM enrolled_devices WHERE device = 'lab-01' AND via <> 'admin' AND via <> ''")"

enroll "$T/tok.provisioner" eu-01
check "laps.enroll@lab for eu-01 (another unit): 403" 403 "$S"
check "  nothing stored for eu-01" 0 "$(enrolled eu-01)"
grep -q 'BEGIN\|MII' "$T/body" && fail "  a certificate in the refusal" || pass "  no certificate in the answer"
enroll "$T/tok.reader" lab-02
check "a token with only laps.read: 403" 403 "$S"
check "  nothing stored for lab-02" 0 "$(enrolled lab-02)"
enroll "$T/tok.lab-05" lab-05
check "a device's token (laps.device): 403" 403 "$S"
check "  nothing stored for lab-05" 0 "$(enrolled lab-05)"
token provisioner laps.enroll@lab "$OIDC_WRONG_AUDIENCE"
cp "$T/tok.provisioner" "$T/tok.wrongaud"
enroll "$T/tok.wrongaud" lab-03
check "a token for another audience: 401" 401 "$S"
check "  nothing stored for lab-03" 0 "$(enrolled lab-03)"
token provisioner laps.enroll@lab
enroll "$T/tok.enroller" eu-02
check "a token with the global laps.enroll: eu-02" 200 "$S"
enroll "$T/tok.provisioner" lab-01
check "lab-01 again (held by an enrolled device): 409" 409 "$S"
check "  lab-01 keeps its certificate (one row, same serial)" 1 "$(enrolled lab-01)"

# audit: allowed rows name the client (sub) and carry the jti; refusals audited
check "audit: two enrollments by OIDC clients, with jti" 2 \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'est_enroll' AND outcome = 'allowed' AND actor IN ('provisioner','enroller') AND jti IS NOT NULL AND jti <> ''")"
check "audit: the refusals (unit, right, device, held)" 4 \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'est_enroll' AND outcome = 'denied'")"
grep -q 'LAPS-3030' "$T/escrowd.log" && pass "event LAPS-3030 (enrolled) logged" || fail "no LAPS-3030"
grep -q 'LAPS-3032' "$T/escrowd.log" && pass "event LAPS-3032 (refused) logged" || fail "no LAPS-3032"
grep -qF "$(cat "$T/tok.provisioner")" "$T/escrowd.log" && fail "a token in the server log" ||
	pass "no token in the server log"

# --- laps-agent enroll with an OIDC access token ----------------------------------
mkdir -p "$T/dev" && chmod 700 "$T/dev"
CRT=$T/dev/agent.crt KEY=$T/dev/agent.key
rest_conf mtls
sed -i "s|^cert_file = .*|cert_file = $CRT|; s|^key_file = .*|key_file = $KEY|" "$T/laps.conf"
pair_matches() {
	[ -n "$(openssl pkey -in "$KEY" -pubout 2>/dev/null)" ] &&
		[ "$(openssl x509 -in "$CRT" -noout -pubkey 2>/dev/null)" = "$(openssl pkey -in "$KEY" -pubout 2>/dev/null)" ]
}
agent enroll --ca "$T/pki/ca.crt" --token-file "$T/tok.reader" >"$T/out" 2>&1; rc=$?
[ $rc -ne 0 ] && grep -q 403 "$T/out" && [ -z "$(ls -A "$T/dev")" ] && [ "$(enrolled testhost)" = 0 ] &&
	pass "laps-agent enroll with a token without the right: rc $rc, nothing written or stored" ||
	{ fail "agent with laps.read: rc $rc $(ls -A "$T/dev")"; cat "$T/out"; }
len=$(wc -c <"$T/tok.bigprov")
agent enroll --ca "$T/pki/ca.crt" --token-file "$T/tok.bigprov" >"$T/out" 2>&1; rc=$?
[ "$len" -gt 1500 ] && [ $rc -eq 0 ] && pair_matches && [ "$(stat -c %a "$KEY")" = 600 ] &&
	pass "laps-agent enroll --token-file OIDC-TOKEN ($len bytes): a matching pair, key 0600" ||
	{ fail "agent enroll with the OIDC token: rc $rc"; cat "$T/out"; tail -5 "$T/escrowd.log"; }
before=$(record_of)
agent rotate >"$T/out" 2>&1; rc=$?
inv=$(check_rest_invariant)
[ $rc -eq 0 ] && [ "$inv" = "ok current confirmed" ] && [ "$before" != "$(record_of)" ] &&
	pass "a rotation with the OIDC-enrolled pair (invariant: $inv)" ||
	{ fail "rotation: rc $rc inv '$inv'"; cat "$T/out"; tail -5 "$T/escrowd.log"; }
grep -qF "$(cat "$T/tok.bigprov")" "$T/out" "$T/escrowd.log" && fail "the token in a log" ||
	pass "the token in no output"
finish
