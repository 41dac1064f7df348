#!/bin/bash
# est_agent.sh — certificates from laps-escrowd's EST service, obtained by a
# client that is not ours (curl + openssl), drive a real laps-agent
# rotation (backend = rest, auth = mtls) against that laps-escrowd: first
# the simpleenroll certificate, then the simplereenroll one (new key);
# each rotation ends with the invariant (the escrow, read by an admin and
# decrypted, verifies against the shadow hash).  Then the device is
# disabled and the agent's next rotation fails with nothing changed.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/agent_lib.sh"
need_root
. "$top_srcdir/tests/integration/rest_lib.sh"
rest_agent_setup

# laps-escrowd again, with [est] and the enroll right for admin-robot
escrowd_kill
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=est-ca \
	-keyout "$T/pki/estca.key" -out "$T/pki/estca.crt" >/dev/null 2>&1 || exit 99
chmod 600 "$T/pki/estca.key"
sed -i 's|^cert_admins = admin-robot=laps.read,laps.secret,laps.expire$|cert_admins = admin-robot=laps.read,laps.secret,laps.expire,laps.enroll|' "$T/escrowd.conf"
printf '%s\n' "" "[est]" "ca_cert = $T/pki/estca.crt" "ca_key = $T/pki/estca.key" "lifetime = 1h" >>"$T/escrowd.conf"
escrowd_start
EST=$ESCROWD_URL/.well-known/est

# est_req OP CERT KEY: a new key $T/est/new.key, its request POSTed to OP
# with the client certificate CERT/KEY; the issued certificate in $T/est/new.crt
est_req() {
	mkdir -p "$T/est"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=testhost \
		-keyout "$T/est/new.key" -outform DER 2>/dev/null | openssl base64 >"$T/est/req.b64"
	S=$(curl -sS --cacert "$T/pki/ca.crt" --cert "$2" --key "$3" \
		-H 'Content-Type: application/pkcs10' --data-binary @"$T/est/req.b64" \
		-o "$T/est/resp.b64" -w '%{http_code}' "$EST/$1" 2>/dev/null)
	[ "$S" = 200 ] || return 1
	openssl base64 -d -in "$T/est/resp.b64" | openssl pkcs7 -inform DER -print_certs \
		-out "$T/est/new.crt" 2>/dev/null
}
use_pair() { # use_pair NAME: the agent's mTLS pair is $T/est/NAME.{crt,key}
	cp "$T/est/new.crt" "$T/est/$1.crt"; cp "$T/est/new.key" "$T/est/$1.key"
	chmod 600 "$T/est/$1.key"
	rest_conf mtls
	sed -i "s|^cert_file = .*|cert_file = $T/est/$1.crt|; s|^key_file = .*|key_file = $T/est/$1.key|" "$T/laps.conf"
}
rotate_ok() { # rotate_ok DESC
	local before after inv rc
	before=$(record_of)
	agent rotate >"$T/out" 2>&1; rc=$?
	inv=$(check_rest_invariant); after=$(record_of)
	[ $rc -eq 0 ] && [ "$inv" = "ok current confirmed" ] && [ "$before" != "$after" ] &&
		pass "$1" || { fail "$1: rc $rc inv '$inv'"; cat "$T/out"; tail -5 "$T/escrowd.log"; }
}

est_req simpleenroll "$T/pki/admin-robot.crt" "$T/pki/admin-robot.key" &&
	pass "curl + openssl: simpleenroll for testhost" || fail "simpleenroll: $S"
use_pair first
rotate_ok "laps-agent rotates with the simpleenroll certificate (invariant holds)"

est_req simplereenroll "$T/est/first.crt" "$T/est/first.key" &&
	pass "curl + openssl: simplereenroll with the current certificate" || fail "simplereenroll: $S"
use_pair second
[ "$(openssl x509 -in "$T/est/first.crt" -noout -serial)" != "$(openssl x509 -in "$T/est/second.crt" -noout -serial)" ] &&
	pass "  a new certificate" || fail "  same certificate"
rotate_ok "laps-agent rotates with the renewed certificate and its new key (invariant holds)"

# disabled: the agent is refused, nothing changes
s=$(curl -sS --cacert "$T/pki/ca.crt" --cert "$T/pki/admin-robot.crt" --key "$T/pki/admin-robot.key" \
	-H 'Content-Type: application/json' --data-binary '{}' -o /dev/null -w '%{http_code}' \
	"$ESCROWD_URL/v1/enrolled-devices/testhost/disable")
[ "$s" = 200 ] && pass "admin disables testhost" || fail "disable: $s"
before=$(record_of); shadow0=$(grep '^lapsadmin:' "$T/root/etc/shadow")
agent rotate >"$T/out" 2>&1; rc=$?
[ $rc -ne 0 ] && [ "$(record_of)" = "$before" ] && [ "$(grep '^lapsadmin:' "$T/root/etc/shadow")" = "$shadow0" ] &&
	pass "a disabled device's rotation fails (rc $rc), escrow and shadow unchanged" ||
	{ fail "disabled device: rc $rc"; cat "$T/out"; }
[ "$(check_rest_invariant)" = "ok current confirmed" ] && pass "  the invariant still holds" || fail "  invariant"
finish
