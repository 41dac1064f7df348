#!/bin/sh
# EST (RFC 7030) on laps-escrowd with a client that is not ours: curl and
# the openssl command line only, exactly as the RFC describes (base64 DER
# PKCS#10 in with Content-Type application/pkcs10, base64 certs-only
# PKCS#7 out).  GET /cacerts, simpleenroll by a provisioning admin holding
# laps.enroll on a unit, simplereenroll with the issued certificate and a
# new key; the issued certificates authenticate their device on /v1; the
# refusals (no credential, wrong right, out of unit, name of an admin,
# name already held, a device renewing another name, bad media type,
# garbage) issue nothing and leave audit rows and LAPS-3032 events.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
: "${top_builddir:=.}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
ESCROWD=$top_builddir/laps-escrowd
for t in openssl curl python3; do
	command -v $t >/dev/null || { echo "$t missing" >&2; exit 77; }
done
[ -x "$ESCROWD" ] || { echo "missing $ESCROWD" >&2; exit 99; }

T=$(mktemp -d "${TMPDIR:-/tmp}/est_curl.XXXXXX") || exit 99
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
units = lab:lab-*
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
"$ESCROWD" -c "$T/escrowd.conf" check-config >/dev/null 2>&1
check "check-config accepts [est]" 0 $?
cp "$T/escrowd.conf" "$T/wrongkey.conf"
sed -i "s|^ca_key = .*|ca_key = $T/server.key|" "$T/wrongkey.conf"
out=$("$ESCROWD" -c "$T/wrongkey.conf" check-config 2>&1)
case $out in *"does not match [est] ca_cert"*) ok "check-config: a CA key that is not the certificate's is refused" ;;
	*) not_ok "check-config with a wrong [est] ca_key: $out" ;; esac
grep -v '^ca_key' "$T/escrowd.conf" >"$T/bad.conf"
out=$("$ESCROWD" -c "$T/bad.conf" check-config 2>&1)
case $out in *"[est] ca_key"*) ok "ca_cert without ca_key is refused, naming the key" ;;
	*) not_ok "[est] half configured: $out" ;; esac

est_serve


# --- /cacerts ------------------------------------------------------------------
est none GET cacerts
check "GET cacerts without a credential: 200" 200 "$S"
case $(hdr Content-Type) in "application/pkcs7-mime; smime-type=certs-only") ok "  certs-only media type" ;;
	*) not_ok "  content type: $(hdr Content-Type)" ;; esac
if certs_of "$T/body" "$T/cacerts.pem" &&
	[ "$(openssl x509 -in "$T/cacerts.pem" -noout -fingerprint -sha256)" = \
		"$(openssl x509 -in "$T/estca.crt" -noout -fingerprint -sha256)" ]; then
	ok "  the PKCS#7 holds the EST CA certificate"
else not_ok "  cacerts is not the EST CA"; fi
est none POST cacerts; check "POST cacerts: 405" 405 "$S"
check "  Allow: GET" GET "$(hdr Allow)"
est none GET csrattrs; check "csrattrs (not offered): 404" 404 "$S"

# --- simpleenroll ----------------------------------------------------------------
D=$T/dev
csr "$D" lab-01
est provisioner POST simpleenroll "${P10[@]}" --data-binary @"$D/lab-01.b64"
check "simpleenroll by an admin with laps.enroll@lab: 200" 200 "$S"
if certs_of "$T/body" "$D/lab-01.crt"; then ok "  answer is a certs-only PKCS#7"; else not_ok "  answer: $(head -c 200 "$T/body")"; fi
openssl verify -CAfile "$T/estca.crt" -purpose sslclient "$D/lab-01.crt" >/dev/null 2>&1
check "  the certificate verifies under the EST CA for client auth" 0 $?
openssl verify -CAfile "$T/estca.crt" -purpose sslserver "$D/lab-01.crt" >/dev/null 2>&1
[ $? -ne 0 ] && ok "  and is not a server certificate" || not_ok "  serverAuth accepted"
txt=$(openssl x509 -in "$D/lab-01.crt" -noout -text)
case $txt in *"Subject: CN = lab-01"*"CA:FALSE"*"TLS Web Client Authentication"*"DNS:lab-01"*)
	ok "  subject, CA:FALSE, clientAuth, DNS name" ;; *) not_ok "  certificate: $txt" ;; esac
life=$(( $(date -d "$(openssl x509 -in "$D/lab-01.crt" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s) ))
[ "$life" -gt 6600 ] && [ "$life" -le 7200 ] && ok "  lifetime = [est] lifetime (2h)" || not_ok "  lifetime $life s"
check "  the key in the certificate is the request's" \
	"$(openssl pkey -in "$D/lab-01.key" -pubout 2>/dev/null)" \
	"$(openssl x509 -in "$D/lab-01.crt" -noout -pubkey)"
cp "$D/lab-01.crt" "$D/lab-01.first.crt"; cp "$D/lab-01.key" "$D/lab-01.first.key"

# the issued certificate is the device lab-01 on the REST API
check "the enrolled certificate authenticates lab-01 (own device: 404 no record)" 404 \
	"$(api "$D/lab-01" /v1/devices/lab-01/accounts/root)"
check "  and only lab-01 (another device: 403)" 403 "$(api "$D/lab-01" /v1/devices/lab-02/accounts/root)"

# --- simplereenroll ----------------------------------------------------------
R=$T/renew
csr "$R" lab-01
est "$D/lab-01" POST simplereenroll "${P10[@]}" --data-binary @"$R/lab-01.b64"
check "simplereenroll with the current certificate and a new key: 200" 200 "$S"
certs_of "$T/body" "$R/lab-01.crt" || not_ok "  renewal answer"
[ "$(openssl x509 -in "$R/lab-01.crt" -noout -serial)" != "$(openssl x509 -in "$D/lab-01.crt" -noout -serial)" ] &&
	ok "  a new certificate (new serial)" || not_ok "  same serial"
check "  the renewed certificate authenticates lab-01" 404 "$(api "$R/lab-01" /v1/devices/lab-01/accounts/root)"
csr "$R" lab-02
est "$R/lab-01" POST simplereenroll "${P10[@]}" --data-binary @"$R/lab-02.b64"
check "simplereenroll for another name: 403" 403 "$S"
est provisioner POST simplereenroll "${P10[@]}" --data-binary @"$R/lab-02.b64"
check "simplereenroll by an admin (not a device certificate): 403" 403 "$S"

# --- refusals of simpleenroll ------------------------------------------------------
csr "$T/x" lab-03
est none POST simpleenroll "${P10[@]}" --data-binary @"$T/x/lab-03.b64"
check "simpleenroll without a credential: 401" 401 "$S"
est reader POST simpleenroll "${P10[@]}" --data-binary @"$T/x/lab-03.b64"
check "simpleenroll by an admin without laps.enroll: 403" 403 "$S"
csr "$T/x" ws-01
est provisioner POST simpleenroll "${P10[@]}" --data-binary @"$T/x/ws-01.b64"
check "simpleenroll of a name outside the unit: 403" 403 "$S"
csr "$T/x" lab-boss
est provisioner POST simpleenroll "${P10[@]}" --data-binary @"$T/x/lab-boss.b64"
check "simpleenroll of an administrator's certificate name: 403" 403 "$S"
est "$D/lab-01" POST simpleenroll "${P10[@]}" --data-binary @"$T/x/lab-03.b64"
check "simpleenroll by a device certificate: 403" 403 "$S"
est provisioner POST simpleenroll -H 'Content-Type: application/json' --data-binary @"$T/x/lab-03.b64"
check "simpleenroll with a wrong media type: 415" 415 "$S"
est provisioner POST simpleenroll "${P10[@]}" --data-binary 'bm90IGEgcmVxdWVzdA=='
check "simpleenroll of base64 that is no PKCS#10: 400" 400 "$S"
# a request whose signature does not verify: flip a byte inside the signature
python3 - "$T/x/lab-03.der" "$T/x/bad.der" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read()); d[-5] ^= 1; open(sys.argv[2], 'wb').write(d)
PY
openssl base64 -in "$T/x/bad.der" -out "$T/x/bad.b64"
est provisioner POST simpleenroll "${P10[@]}" --data-binary @"$T/x/bad.b64"
check "simpleenroll with a broken signature (no proof of possession): 400" 400 "$S"
head -c 20000 /dev/zero | tr '\0' A >"$T/x/big.b64"
est provisioner POST simpleenroll "${P10[@]}" --data-binary @"$T/x/big.b64"
check "simpleenroll over 16 KiB: 413" 413 "$S"

# name takeover: lab-01 holds escrow records; a new key for its name is refused
printf '{"v":1,"device":"lab-01","account":"root","uid":0,"rotation_id":"%032x","rotated_at":1700000000,"expires_at":1800000000,"state":"pending","envelope":"AQIDBAUGBwgJCgsMDQ4PEA==","key_ids":["0011223344556677"]}' 1 >"$T/rec"
s=$(curl -sS --cacert "$T/ca.crt" --cert "$R/lab-01.crt" --key "$R/lab-01.key" -X PUT \
	-H 'Content-Type: application/json' -H 'If-None-Match: *' --data-binary @"$T/rec" \
	-o /dev/null -w '%{http_code}' "$URL/v1/devices/lab-01/accounts/root/record")
check "the enrolled device writes its record" 201 "$s"
csr "$T/thief" lab-01
est provisioner POST simpleenroll "${P10[@]}" --data-binary @"$T/thief/lab-01.b64"
check "simpleenroll of a name a device holds (takeover): 409" 409 "$S"
grep -q 'BEGIN\|MII' "$T/body" && not_ok "  a certificate came back" || ok "  no certificate in the answer"
est "$R/lab-01" POST simplereenroll "${P10[@]}" --data-binary @"$T/thief/lab-01.b64"
check "  the device itself still renews" 200 "$S"

# a certificate of the EST CA whose name an admin later lists in cert_admins
# (made here by hand, as simpleenroll refuses such names) stays no admin
printf 'extendedKeyUsage=clientAuth\n' >"$T/x/boss.ext"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=lab-boss \
	-keyout "$T/x/lab-boss.key" -out "$T/x/boss.csr" >/dev/null 2>&1
openssl x509 -req -in "$T/x/boss.csr" -CA "$T/estca.crt" -CAkey "$T/estca.key" -CAcreateserial \
	-days 1 -extfile "$T/x/boss.ext" -out "$T/x/lab-boss.crt" >/dev/null 2>&1
check "an EST-CA certificate named like an admin is refused (401)" 401 \
	"$(api "$T/x/lab-boss" /v1/devices/lab-01/accounts/root)"
check "  while the admin's own certificate works" 200 "$(api "$T/lab-boss" /v1/devices/lab-01/accounts/root)"

# --- audit and events ------------------------------------------------------------
check "audit: est_enroll allowed rows" 1 "$(audit_rows est_enroll allowed)"
check "audit: est_reenroll allowed rows" 2 "$(audit_rows est_reenroll allowed)"
n=$(audit_rows est_enroll denied)
[ "$n" -ge 7 ] && ok "audit: est_enroll refusals ($n)" || not_ok "audit: est_enroll refusals $n"
grep -q 'LAPS-3030' "$T/escrowd.log" && ok "event LAPS-3030 (enrolled)" || not_ok "no LAPS-3030"
grep -q 'LAPS-3031' "$T/escrowd.log" && ok "event LAPS-3031 (renewed)" || not_ok "no LAPS-3031"
grep -q 'LAPS-3032.*name_taken\|LAPS-3032.*already holds' "$T/escrowd.log" &&
	ok "event LAPS-3032 (refused) for the takeover" || not_ok "no LAPS-3032 for the takeover"

kill "$PID"; wait "$PID" 2>/dev/null; PID=
echo "# $FAILS failure(s)"
[ "$FAILS" -eq 0 ]
