#!/bin/sh
# est_bootstrap.sh — the second EST bootstrap credential: a certificate
# from a configured bootstrap CA ([est] bootstrap_ca, a fleet's existing
# PKI), with curl + openssl only.  A device with such a certificate
# simpleenrolls its own name (the issued certificate verifies under the EST
# CA and authenticates it on /v1); the bootstrap certificate itself is
# refused on /v1 and for simplereenroll (401, LAPS-3033, audited); another
# name than its own, a certificate of another CA, and a name held by an
# enrolled device (until the admin's reenroll) are refused with nothing
# issued or stored; a name that has escrow records but no enrolled device
# may be enrolled by its bootstrap certificate (the certificate is that
# device's identity).  check-config refuses a bootstrap_ca that is not a CA.
# Then (as root, the script run again with the argument `agent`)
# `laps-agent enroll --bootstrap-cert --bootstrap-key`: a matching pair
# that a real `laps-agent run` rotates with (invariant verified), the
# bootstrap files left as they were; a bootstrap certificate for another
# name, or a key file group/other can read, writes nothing; conflicting
# credential options are a usage error (exit 1, laps-agent's usage status).
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
: "${top_builddir:=.}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"

# agent_part: laps-agent enroll with a bootstrap certificate (root; the
# agent test harness: alternate root, laps-escrowd on SQLite, admin check)
agent_part() {
	. "$top_srcdir/tests/integration/agent_lib.sh"
	need_root
	. "$top_srcdir/tests/integration/rest_lib.sh"
	rest_agent_setup
	escrowd_kill
	local n
	for n in estca bootca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj "/CN=$n" -keyout "$T/pki/$n.key" -out "$T/pki/$n.crt" >/dev/null 2>&1 ||
			exit 99
	done
	chmod 600 "$T/pki/estca.key"
	mkdir -p "$T/boot" && chmod 700 "$T/boot"
	printf 'extendedKeyUsage=clientAuth\n' >"$T/boot/ext"
	for n in testhost otherhost; do # bootstrap certificates from bootca
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$n" \
			-keyout "$T/boot/$n.key" -out "$T/boot/$n.csr" >/dev/null 2>&1 &&
			openssl x509 -req -in "$T/boot/$n.csr" -CA "$T/pki/bootca.crt" \
				-CAkey "$T/pki/bootca.key" -CAcreateserial -days 2 -extfile "$T/boot/ext" \
				-out "$T/boot/$n.crt" >/dev/null 2>&1 || exit 99
		chmod 600 "$T/boot/$n.key"
	done
	sed -i 's|^cert_admins = \(.*\)$|units = lab:testhost lab:otherhost\ncert_admins = \1|' "$T/escrowd.conf"
	printf '%s\n' "" "[est]" "ca_cert = $T/pki/estca.crt" "ca_key = $T/pki/estca.key" \
		"lifetime = 1h" "bootstrap_ca = $T/pki/bootca.crt" >>"$T/escrowd.conf"
	: >"$T/escrowd.log"
	escrowd_start
	agent_enrolls
	finish
}

# agent_enrolls: the checks of agent_part
agent_enrolls() {
	local rc b0 before inv
	mkdir -p "$T/dev" && chmod 700 "$T/dev"
	CRT=$T/dev/agent.crt KEY=$T/dev/agent.key
	rest_conf mtls
	sed -i "s|^cert_file = .*|cert_file = $CRT|; s|^key_file = .*|key_file = $KEY|" "$T/laps.conf"
	printf 'x\n' >"$T/token" && chmod 600 "$T/token"
	B="--bootstrap-cert $T/boot/testhost.crt --bootstrap-key $T/boot/testhost.key"
	for args in "--token-file $T/token $B" "--token-fd 0 $B" "--bootstrap-cert $T/boot/testhost.crt" \
		"--bootstrap-key $T/boot/testhost.key --token-file $T/token"; do
		# shellcheck disable=SC2086
		agent enroll --ca "$T/pki/ca.crt" $args </dev/null >"$T/out" 2>&1; rc=$?
		[ $rc -eq 1 ] && grep -q "bootstrap-cert FILE --bootstrap-key FILE" "$T/out" && [ -z "$(ls -A "$T/dev")" ] &&
			pass "enroll ${args//$T\//}: usage error (exit 1, laps-agent's), nothing written" ||
			{ fail "options '$args': rc $rc"; cat "$T/out"; }
	done
	chmod 640 "$T/boot/testhost.key"
	agent enroll --ca "$T/pki/ca.crt" $B >"$T/out" 2>&1; rc=$?
	[ $rc -eq 3 ] && grep -q -- "--bootstrap-key" "$T/out" && [ -z "$(ls -A "$T/dev")" ] &&
		pass "a bootstrap key group can read: refused (rc $rc), nothing written" ||
		{ fail "key 0640: rc $rc $(ls -A "$T/dev")"; cat "$T/out"; }
	chmod 600 "$T/boot/testhost.key"
	chown 65534 "$T/boot/testhost.key"
	agent enroll --ca "$T/pki/ca.crt" $B >"$T/out" 2>&1; rc=$?
	[ $rc -eq 3 ] && grep -q -- "--bootstrap-key" "$T/out" && [ -z "$(ls -A "$T/dev")" ] &&
		pass "a bootstrap key (0600) not owned by root: refused (rc $rc), nothing written" ||
		{ fail "key owned by 65534: rc $rc $(ls -A "$T/dev")"; cat "$T/out"; }
	chown 0 "$T/boot/testhost.key"
	agent enroll --ca "$T/pki/ca.crt" --bootstrap-cert "$T/boot/otherhost.crt" \
		--bootstrap-key "$T/boot/otherhost.key" >"$T/out" 2>&1; rc=$?
	[ $rc -ne 0 ] && grep -q "403" "$T/out" && [ -z "$(ls -A "$T/dev")" ] &&
		pass "a bootstrap certificate for another name (otherhost): refused (403, rc $rc), nothing written" ||
		{ fail "otherhost's certificate: rc $rc $(ls -A "$T/dev")"; cat "$T/out"; }
	b0=$(cat "$T/boot/testhost.crt" "$T/boot/testhost.key" | sha256sum)
	agent enroll --ca "$T/pki/ca.crt" $B >"$T/out" 2>&1; rc=$?
	[ $rc -eq 0 ] && [ -n "$(openssl pkey -in "$KEY" -pubout 2>/dev/null)" ] &&
		[ "$(openssl x509 -in "$CRT" -noout -pubkey 2>/dev/null)" = "$(openssl pkey -in "$KEY" -pubout 2>/dev/null)" ] &&
		[ "$(stat -c %a "$KEY")" = 600 ] &&
		pass "laps-agent enroll --bootstrap-cert --bootstrap-key: a matching pair, key 0600" ||
		{ fail "enroll with the bootstrap certificate: rc $rc"; cat "$T/out"; tail -5 "$T/escrowd.log"; }
	openssl verify -CAfile "$T/pki/estca.crt" -purpose sslclient "$CRT" >/dev/null 2>&1 &&
		openssl x509 -in "$CRT" -noout -subject | grep -q 'CN *= *testhost' &&
		pass "  issued by the EST CA for testhost" || fail "  $(openssl x509 -in "$CRT" -noout -subject -issuer)"
	[ "$(openssl pkey -in "$KEY" -pubout)" != "$(openssl pkey -in "$T/boot/testhost.key" -pubout)" ] &&
		pass "  a new key, not the bootstrap key" || fail "  the bootstrap key was reused"
	[ "$(cat "$T/boot/testhost.crt" "$T/boot/testhost.key" | sha256sum)" = "$b0" ] &&
		[ "$(ls -A "$T/boot" | sort | tr '\n' ' ')" = "ext otherhost.crt otherhost.csr otherhost.key testhost.crt testhost.csr testhost.key " ] &&
		pass "  the bootstrap files are left as they were" || fail "  bootstrap files: $(ls -A "$T/boot")"
	grep -q "LAPS-3030.*actor=bootstrap:testhost" "$T/escrowd.log" && pass "  the server enrolled it by the bootstrap certificate" ||
		fail "  no LAPS-3030 for bootstrap:testhost"
	before=$(record_of)
	agent run >"$T/out" 2>&1; rc=$?
	inv=$(check_rest_invariant)
	[ $rc -eq 0 ] && [ "$inv" = "ok current confirmed" ] && [ "$before" != "$(record_of)" ] &&
		pass "laps-agent run rotates with the enrolled pair (invariant: $inv)" ||
		{ fail "rotation: rc $rc inv '$inv'"; cat "$T/out"; tail -5 "$T/escrowd.log"; }
}
[ "${1:-}" = agent ] && { agent_part; exit; }
ESCROWD=$top_builddir/laps-escrowd
for t in openssl curl python3; do
	command -v $t >/dev/null || { echo "$t missing" >&2; exit 77; }
done
[ -x "$ESCROWD" ] || { echo "missing $ESCROWD" >&2; exit 99; }

T=$(mktemp -d "${TMPDIR:-/tmp}/est_bootstrap.XXXXXX") || exit 99
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
FAILS=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }
check() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi; }
ssl() { openssl "$@" >/dev/null 2>&1 || { echo "openssl $* failed" >&2; exit 99; }; }

. "$top_srcdir/tests/integration/lib/est.sh"
est_pki provisioner reader lab-06
# the fleet's existing PKI (bootca) and an unrelated one (otherca)
mkca bootca
mkca otherca
bootcert() { # bootcert CA CN: $T/b/CN.{crt,key}, a clientAuth certificate from CA
	mkdir -p "$T/b"
	printf 'extendedKeyUsage=clientAuth\n' >"$T/b/ext"
	ssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
		-keyout "$T/b/$2.key" -out "$T/b/$2.csr"
	ssl x509 -req -in "$T/b/$2.csr" -CA "$T/$1.crt" -CAkey "$T/$1.key" -CAcreateserial \
		-days 2 -extfile "$T/b/ext" -out "$T/b/$2.crt"
}
for n in lab-01 lab-02 lab-04 lab-06; do bootcert bootca "$n"; done
bootcert otherca lab-05

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
cert_admins = provisioner=laps.enroll@lab reader=laps.read,laps.audit

[limits]
rate = 1000
burst = 10000

[est]
ca_cert = $T/estca.crt
ca_key = $T/estca.key
lifetime = 2h
bootstrap_ca = $T/bootca.crt
CONF
chmod 600 "$T/escrowd.conf"
"$ESCROWD" -c "$T/escrowd.conf" check-config >/dev/null 2>&1
check "check-config accepts [est] bootstrap_ca" 0 $?
sed "s|^bootstrap_ca = .*|bootstrap_ca = $T/server.crt|" "$T/escrowd.conf" >"$T/bad.conf"
out=$("$ESCROWD" -c "$T/bad.conf" check-config 2>&1)
case $out in *"bootstrap_ca"*"not a CA"*) ok "check-config: a bootstrap_ca that is not a CA is refused" ;;
	*) not_ok "check-config with a leaf as bootstrap_ca: $out" ;; esac

est_serve

# csr CN: a new key $T/d/CN.key and its request (base64 DER) $T/d/CN.b64
csr() {
	mkdir -p "$T/d"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$T/d/$1.key" -outform DER -out "$T/d/$1.der" >/dev/null 2>&1 &&
		openssl base64 -in "$T/d/$1.der" -out "$T/d/$1.b64"
}
# boot CERTPREFIX OP CN: POST OP with the client certificate and a new CSR for CN
boot() {
	csr "$3"
	S=$(curl -sS --cacert "$T/ca.crt" --cert "$1.crt" --key "$1.key" \
		-H 'Content-Type: application/pkcs10' --data-binary @"$T/d/$3.b64" \
		-o "$T/body" -w '%{http_code}' "$EST/$2" 2>"$T/curl.err")
}
certs_of() { # certs_of OUT: the certificate of the last answer, PEM
	openssl base64 -d -in "$T/body" -out "$T/body.der" &&
		openssl pkcs7 -inform DER -in "$T/body.der" -print_certs -out "$1" 2>/dev/null
}
api() { # api CERTPREFIX METHOD PATH [curl args]: status on /v1
	local c=$1 m=$2 p=$3
	shift 3
	curl -sS --cacert "$T/ca.crt" --cert "$c.crt" --key "$c.key" -X "$m" -o "$T/api.body" \
		-w '%{http_code}' "$@" "$URL$p" 2>/dev/null
}
sqlv() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$T/escrow.db" "$1"; }
enrolled() { sqlv "SELECT count(*) FROM enrolled_devices WHERE device = '$1'"; }
serial_of() { sqlv "SELECT coalesce(max(serial), '') FROM enrolled_devices WHERE device = '$1'"; }
no_cert() { grep -q 'MII' "$T/body" && not_ok "  a certificate in the refusal" || ok "  no certificate in the answer"; }

# --- the bootstrap certificate enrolls its own name ----------------------------
boot "$T/b/lab-01" simpleenroll lab-01
check "a bootstrap certificate (lab-01) simpleenrolls lab-01" 200 "$S"
certs_of "$T/d/lab-01.crt"
ssl verify -CAfile "$T/estca.crt" -purpose sslclient "$T/d/lab-01.crt"
ok "  the issued certificate verifies under the EST CA for client authentication"
check "  its subject is lab-01" "subject=CN = lab-01" "$(openssl x509 -in "$T/d/lab-01.crt" -noout -subject 2>/dev/null)"
[ "$(openssl x509 -in "$T/d/lab-01.crt" -noout -pubkey)" = "$(openssl pkey -in "$T/d/lab-01.key" -pubout)" ] &&
	ok "  it holds the request's key, not the bootstrap key" || not_ok "  key mismatch"
check "  it authenticates lab-01 on /v1 (own device: 404 no record)" 404 \
	"$(api "$T/d/lab-01" GET /v1/devices/lab-01/accounts/root)"
check "  enrolled_devices: via the bootstrap certificate's serial" 1 \
	"$(sqlv "SELECT count(*) FROM enrolled_devices WHERE device = 'lab-01' AND via LIKE 'bootstrap:%'")"

# --- the bootstrap certificate authenticates nothing else ------------------------
check "the bootstrap certificate on /v1: 401" 401 "$(api "$T/b/lab-01" GET /v1/devices/lab-01/accounts/root)"
grep -q "bootstrap certificate" "$T/api.body" && ok "  the answer says why" || not_ok "  answer: $(cat "$T/api.body")"
boot "$T/b/lab-01" simplereenroll lab-01
check "the bootstrap certificate for simplereenroll: 401" 401 "$S"
no_cert
boot "$T/b/lab-01" simpleenroll lab-01
check "lab-01's bootstrap certificate again (lab-01 now enrolled): 409" 409 "$S"
no_cert

# --- other names, other CAs --------------------------------------------------------
boot "$T/b/lab-02" simpleenroll lab-03
check "lab-02's bootstrap certificate asking for lab-03: 403" 403 "$S"
check "  nothing stored for lab-03" 0 "$(enrolled lab-03)"
no_cert
check "  nor for lab-02" 0 "$(enrolled lab-02)"
boot "$T/b/lab-05" simpleenroll lab-05
check "a certificate of another CA (lab-05): 401" 401 "$S"
check "  nothing stored for lab-05" 0 "$(enrolled lab-05)"
no_cert

# --- takeover of an enrolled device's name -----------------------------------------
csr lab-04
S=$(curl -sS --cacert "$T/ca.crt" --cert "$T/provisioner.crt" --key "$T/provisioner.key" \
	-H 'Content-Type: application/pkcs10' --data-binary @"$T/d/lab-04.b64" -o "$T/body" \
	-w '%{http_code}' "$EST/simpleenroll" 2>/dev/null)
check "lab-04 enrolled by the provisioner" 200 "$S"
s0=$(serial_of lab-04)
boot "$T/b/lab-04" simpleenroll lab-04
check "lab-04's bootstrap certificate, lab-04 held by an enrolled device: 409" 409 "$S"
no_cert
check "  lab-04 keeps its certificate (same serial)" "$s0" "$(serial_of lab-04)"
check "admin's reenroll for lab-04" 200 \
	"$(api "$T/provisioner" POST /v1/enrolled-devices/lab-04/reenroll -H 'Content-Type: application/json' --data-binary '{}')"
boot "$T/b/lab-04" simpleenroll lab-04
check "  then lab-04's bootstrap certificate enrolls" 200 "$S"
[ "$(serial_of lab-04)" != "$s0" ] && ok "  a new serial for lab-04" || not_ok "  serial unchanged"

# --- a name with escrow records but no enrolled device ------------------------------
printf '{"v":1,"device":"lab-06","account":"root","uid":0,"rotation_id":"%032x","rotated_at":1700000000,"expires_at":1800000000,"state":"pending","envelope":"AQIDBAUGBwgJCgsMDQ4PEA==","key_ids":["0011223344556677"]}' 1 >"$T/r1"
S=$(curl -sS --cacert "$T/ca.crt" --cert "$T/lab-06.crt" --key "$T/lab-06.key" -X PUT \
	-H 'Content-Type: application/json' -H 'If-None-Match: *' --data-binary @"$T/r1" \
	-o /dev/null -w '%{http_code}' "$URL/v1/devices/lab-06/accounts/root/record" 2>/dev/null)
check "lab-06 escrows with its client_ca certificate" 201 "$S"
boot "$T/b/lab-06" simpleenroll lab-06
check "lab-06's bootstrap certificate enrolls lab-06 (records kept)" 200 "$S"
certs_of "$T/d/lab-06.crt"
check "  the issued certificate reads lab-06's record" 200 "$(api "$T/d/lab-06" GET /v1/devices/lab-06/accounts/root)"

# --- audit and events ------------------------------------------------------------------
audit() { # audit ACTION OUTCOME: rows read back through GET /v1/audit
	[ "$(api "$T/reader" GET "/v1/audit?action=$1&page_size=500")" = 200 ] || { echo "audit query failed"; return; }
	python3 -c 'import json,sys; print(sum(1 for e in json.load(open(sys.argv[1]))["entries"] if e["outcome"] == sys.argv[2] and (sys.argv[3] == "" or e["actor"].startswith(sys.argv[3]))))' "$T/api.body" "$2" "${3:-}"
}
check "audit: three enrollments by bootstrap certificates" 3 "$(audit est_enroll allowed bootstrap:)"
check "audit: refusals of bootstrap certificates (409 x2, 403)" 3 "$(audit est_enroll denied bootstrap:)"
check "audit: the bootstrap certificate outside simpleenroll (/v1, simplereenroll)" 2 "$(audit est_bootstrap denied)"
grep -q 'LAPS-3033' "$T/escrowd.log" && ok "event LAPS-3033 logged" || not_ok "no LAPS-3033 in the log"
grep -q 'LAPS-3030.*actor=bootstrap:lab-01' "$T/escrowd.log" && ok "event LAPS-3030 names the bootstrap certificate" ||
	not_ok "no LAPS-3030 for bootstrap:lab-01"
[ "$FAILS" -eq 0 ] || { tail -20 "$T/escrowd.log"; exit 1; }

# --- laps-agent enroll with a bootstrap certificate (root) ---------------------------
top_builddir=$top_builddir top_srcdir=$top_srcdir bash "$0" agent; rc=$?
case $rc in
0) ok "laps-agent enroll --bootstrap-cert" ;;
77) echo "ok - laps-agent enroll --bootstrap-cert # SKIP (needs root, node)" ;;
*) not_ok "laps-agent enroll --bootstrap-cert (rc $rc)"; exit 1 ;;
esac
