#!/bin/bash
# est_agent_tpm.sh — [rest] key_store = tpm with a software TPM 2.0 (swtpm on
# 127.0.0.1, reached through OpenSSL's tpm2 provider): `laps-agent enroll`
# makes the key in the TPM and stores only its TPM-wrapped blob; the CSR,
# the mTLS handshake of a real `laps-agent run` rotation and the renewal use
# it; the blob is useless on another (fresh) TPM and without the TPM; no
# private key is written in clear.  Also: key_store = tpm without a TPM is a
# clear error that writes nothing; auto picks file without a TPM, tpm with one.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/agent_lib.sh"
need_root
. "$top_srcdir/tests/integration/lib/swtpm.sh"
need_swtpm
unset TPM2OPENSSL_TCTI
. "$top_srcdir/tests/integration/rest_lib.sh"
rest_agent_setup
tpm_cleanup() { swtpm_stop "$T/tpm1"; swtpm_stop "$T/tpm2"; rest_cleanup; }
trap tpm_cleanup EXIT

escrowd_kill
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=est-ca \
	-keyout "$T/pki/estca.key" -out "$T/pki/estca.crt" >/dev/null 2>&1 || exit 99
chmod 600 "$T/pki/estca.key"
cat "$T/pki/ca.crt" "$T/pki/estca.crt" >"$T/pki/clientcas.pem"
sed -i 's|^cert_admins = admin-robot=laps.read,laps.secret,laps.expire$|units = lab:testhost\ncert_admins = admin-robot=laps.read,laps.secret,laps.expire,laps.enroll|' "$T/escrowd.conf"
sed -i "s|^client_ca = .*|client_ca = $T/pki/clientcas.pem|" "$T/escrowd.conf"
cp "$T/escrowd.conf" "$T/escrowd.base.conf"
est_on() { # est_on LIFETIME: restart laps-escrowd with [est]
	escrowd_kill
	cp "$T/escrowd.base.conf" "$T/escrowd.conf"
	printf '%s\n' "" "[est]" "ca_cert = $T/pki/estca.crt" "ca_key = $T/pki/estca.key" \
		"lifetime = $1" >>"$T/escrowd.conf"
	: >"$T/escrowd.log"
	escrowd_start
	[ -n "${CRT:-}" ] && agent_conf "$STORE"
}
est_on 1h
admin() { # admin PATH JSON: POST as admin-robot; status on stdout, body in $T/body
	curl -sS --cacert "$T/pki/ca.crt" --cert "$T/pki/admin-robot.crt" --key "$T/pki/admin-robot.key" \
		-H 'Content-Type: application/json' --data-binary "$2" -o "$T/body" -w '%{http_code}' \
		"$ESCROWD_URL$1" 2>/dev/null
}
s=$(admin /v1/enroll-tokens '{"unit":"lab","uses":10,"expires_in":3600}')
[ "$s" = 201 ] || { echo "token: $s"; cat "$T/body"; exit 99; }
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T/body" >"$T/token"
chmod 600 "$T/token"
reenroll() { [ "$(admin /v1/enrolled-devices/testhost/reenroll '{}')" = 200 ] || fail "reenroll: $(cat "$T/body")"; }

mkdir -p "$T/dev" && chmod 700 "$T/dev"
CRT=$T/dev/agent.crt KEY=$T/dev/agent.key STORE=tpm
agent_conf() { # agent_conf KEY_STORE
	rest_conf mtls "$ESCROWD_URL" "key_store = $1"
	sed -i "s|^cert_file = .*|cert_file = $CRT|; s|^key_file = .*|key_file = $KEY|" "$T/laps.conf"
	sed -i "s|^\[agent\]$|[agent]\nmetrics_file = $T/metrics.prom|" "$T/laps.conf"
}
agent_conf tpm
TSS2='-----BEGIN TSS2 PRIVATE KEY-----'
tpm_pub() { openssl pkey -provider tpm2 -provider default -in "$KEY" -pubout 2>/dev/null; }
pair_matches() { # the certificate's public key is the TPM key's (read through the TPM)
	[ -n "$(tpm_pub)" ] && [ "$(openssl x509 -in "$CRT" -noout -pubkey 2>/dev/null)" = "$(tpm_pub)" ]
}
serial() { openssl x509 -in "$CRT" -noout -serial 2>/dev/null; }
clear_keys() { # every PEM private key in clear under the agent's directories (none expected)
	grep -rlE -- '-----BEGIN (EC |RSA |ENCRYPTED )?PRIVATE KEY-----' "$T/dev" "$T/state" \
		"$T/laps.conf" "$T/metrics.prom" 2>/dev/null
}
rotate_ok() { # rotate_ok DESC CMD...
	local desc=$1 before after inv rc; shift
	before=$(record_of)
	agent "$@" >"$T/out" 2>&1; rc=$?
	inv=$(check_rest_invariant); after=$(record_of)
	[ $rc -eq 0 ] && [ "$inv" = "ok current confirmed" ] && [ "$before" != "$after" ] &&
		pass "$desc" || { fail "$desc: rc $rc inv '$inv'"; cat "$T/out"; tail -5 "$T/escrowd.log"; }
}
rotate_refused() { # rotate_refused DESC PATTERN: rotate fails with PATTERN, nothing changed
	local before after rc
	before=$(record_of)
	agent rotate >"$T/out" 2>&1; rc=$?
	after=$(record_of)
	[ $rc -ne 0 ] && [ "$before" = "$after" ] && grep -q "$2" "$T/out" &&
		[ "$(check_rest_invariant)" = "ok current confirmed" ] && pass "$1 (rc $rc)" ||
		{ fail "$1: rc $rc"; cat "$T/out"; }
}

# --- no TPM ------------------------------------------------------------------
if [ ! -e /dev/tpmrm0 ]; then
	agent enroll --token-file "$T/token" >"$T/out" 2>&1; rc=$?
	[ $rc -ne 0 ] && grep -q "key_store = tpm: no TPM 2.0 here (/dev/tpmrm0 does not exist" "$T/out" &&
		[ -z "$(ls -A "$T/dev")" ] && pass "key_store = tpm without a TPM: a clear error, nothing written" ||
		{ fail "no TPM: rc $rc"; cat "$T/out"; ls -A "$T/dev"; }
else
	echo "# /dev/tpmrm0 exists here: the no-TPM check is skipped"
fi
port=$(swtpm_free_port)
TPM2OPENSSL_TCTI="swtpm:host=127.0.0.1,port=$port" agent enroll --token-file "$T/token" >"$T/out" 2>&1; rc=$?
[ $rc -ne 0 ] && grep -q "tpm2 provider (Debian package tpm2-openssl) did not load or cannot reach the TPM" "$T/out" &&
	[ -z "$(ls -A "$T/dev")" ] && pass "a TCTI with no TPM behind it: a clear error, nothing written" ||
	{ fail "unreachable TPM: rc $rc"; cat "$T/out"; }

# --- enroll with the TPM ------------------------------------------------------
TPM2OPENSSL_TCTI=$(swtpm_start "$T/tpm1") || { echo "swtpm failed"; cat "$T/tpm1/swtpm.log"; exit 99; }
export TPM2OPENSSL_TCTI
agent enroll --server "$ESCROWD_URL" --ca "$T/pki/ca.crt" --token-file "$T/token" >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] && pair_matches && pass "enroll with key_store = tpm: the certificate is the TPM key's" ||
	{ fail "enroll: rc $rc"; cat "$T/out"; tail -5 "$T/escrowd.log"; }
[ "$(head -1 "$KEY")" = "$TSS2" ] && [ "$(grep -c -- '-----BEGIN' "$KEY")" = 1 ] &&
	pass "  key_file is one TSS2 PRIVATE KEY blob" || { fail "  key_file: $(head -1 "$KEY")"; }
# the blob's ASN.1: TPMKey (id-loadableKey 2.23.133.10.1.3), parent = the
# storage hierarchy (0x40000001), public and TPM-encrypted private areas
openssl asn1parse -in "$KEY" >"$T/asn1" 2>&1
grep -q 'OBJECT *:2.23.133.10.1.3' "$T/asn1" && grep -q 'INTEGER *:40000001' "$T/asn1" &&
	[ "$(grep -c 'OCTET STRING' "$T/asn1")" = 2 ] &&
	pass "  the blob is a loadable TPM key under the storage hierarchy (public + wrapped private)" ||
	{ fail "  blob structure"; cat "$T/asn1"; }
openssl pkey -in "$KEY" -noout >/dev/null 2>&1 && fail "  OpenSSL reads it as a key without the TPM" ||
	pass "  without the tpm2 provider it is not a key OpenSSL can read"
[ "$(stat -c '%a %U' "$KEY")" = "600 root" ] && pass "  0600, root-owned" || fail "  $(stat -c '%a %U' "$KEY")"
[ -z "$(clear_keys)" ] && pass "  no private key in clear in the agent's files" || fail "  clear keys: $(clear_keys)"
grep -q 'CN *= *testhost' <(openssl x509 -in "$CRT" -noout -subject) &&
	openssl verify -CAfile "$T/pki/estca.crt" -purpose sslclient "$CRT" >/dev/null 2>&1 &&
	pass "  an EST client certificate for testhost" || fail "  certificate"
agent check-config >"$T/out" 2>&1 && pass "check-config loads the TPM key: OK" || { fail "check-config"; cat "$T/out"; }
first_serial=$(serial)
rotate_ok "laps-agent run rotates over mTLS with the TPM key (invariant holds)" run
[ "$(serial)" = "$first_serial" ] && pass "  a 1h certificate is not renewed yet" || fail "  renewed too early"

# --- renewal -------------------------------------------------------------------
reenroll
est_on 60s
agent enroll --token-file "$T/token" >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] && pair_matches && [ "$(serial)" != "$first_serial" ] &&
	pass "re-enroll (admin permit, 60 s certificates): a new TPM pair" || { fail "re-enroll: rc $rc"; cat "$T/out"; }
s1=$(serial) b1=$(sha256sum <"$KEY") p1=$(tpm_pub)
agent run >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] && pair_matches && [ "$(serial)" != "$s1" ] && [ "$(sha256sum <"$KEY")" != "$b1" ] &&
	[ "$(tpm_pub)" != "$p1" ] && [ "$(head -1 "$KEY")" = "$TSS2" ] &&
	pass "run renews over mTLS with the TPM key: new certificate, new TPM key, still a TSS2 blob" ||
	{ fail "renewal: rc $rc"; cat "$T/out"; tail -5 "$T/escrowd.log"; }
grep -q 'laps_agent_last_run_cert_renewal{result="renewed"} 1' "$T/metrics.prom" &&
	pass "  metrics: renewed" || fail "  metrics: $(grep cert_renewal "$T/metrics.prom")"
[ "$(stat -c '%a %U' "$KEY")" = "600 root" ] && [ -z "$(ls -A "$T/dev" | grep -v '^agent\.\(crt\|key\)$')" ] &&
	pass "  0600 root-owned, no stray file" || fail "  $(ls -lA "$T/dev")"
[ -z "$(clear_keys)" ] && pass "  still no private key in clear" || fail "  clear keys: $(clear_keys)"
est_on 1h # the next runs should not renew: the key file stays the one under test
rotate_ok "the renewed TPM pair rotates (invariant holds)" rotate
cp "$KEY" "$T/blob.copy"

# --- the blob without its TPM ---------------------------------------------------
b0=$(sha256sum <"$KEY") c0=$(sha256sum <"$CRT")
swtpm_stop "$T/tpm1"
rotate_refused "the TPM stopped: the key cannot be used, nothing changed" "cannot reach the TPM"
TPM2OPENSSL_TCTI=$(swtpm_start "$T/tpm2") || { echo "swtpm 2 failed"; exit 99; }
rotate_refused "the same blob on another (fresh) TPM: refused, nothing changed" "the TPM does not load this key"
openssl pkey -provider tpm2 -provider default -in "$T/blob.copy" -pubout >/dev/null 2>&1 &&
	fail "  the fresh TPM loads the blob" || pass "  the fresh TPM does not load the blob (openssl pkey)"
[ "$(sha256sum <"$KEY")" = "$b0" ] && [ "$(sha256sum <"$CRT")" = "$c0" ] &&
	pass "  the pair on disk is unchanged" || fail "  the pair changed"
swtpm_stop "$T/tpm2"
# the first TPM again (its state dir kept its seeds): the same blob works
TPM2OPENSSL_TCTI=$(swtpm_start "$T/tpm1") || { echo "swtpm 1 restart failed"; exit 99; }
rotate_ok "back on its own TPM (restarted) the same blob works again" rotate

# --- a plain key file under key_store = tpm; auto ---------------------------------
cp "$KEY" "$T/tss2.key"; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$KEY" 2>/dev/null
chmod 600 "$KEY"
rotate_refused "key_store = tpm with a plain PEM key file: refused with a clear error" "holds no TPM-wrapped key"
cp "$T/tss2.key" "$KEY"; chmod 600 "$KEY"
STORE=auto; agent_conf auto
rotate_ok "key_store = auto with a TPM (TPM2OPENSSL_TCTI set): uses the TPM key" rotate
reenroll
(unset TPM2OPENSSL_TCTI; agent enroll --token-file "$T/token") >"$T/out" 2>&1; rc=$?
if [ ! -e /dev/tpmrm0 ]; then
	[ $rc -eq 0 ] && grep -q -- '-----BEGIN PRIVATE KEY-----' "$KEY" &&
		[ "$(openssl x509 -in "$CRT" -noout -pubkey)" = "$(openssl pkey -in "$KEY" -pubout)" ] &&
		pass "key_store = auto without a TPM: a file key (PEM) is made" || { fail "auto, no TPM: rc $rc"; cat "$T/out"; }
fi
reenroll
agent enroll --token-file "$T/token" >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ "$(head -1 "$KEY")" = "$TSS2" ] && pair_matches &&
	pass "key_store = auto with a TPM: the key is made in the TPM" || { fail "auto, TPM: rc $rc"; cat "$T/out"; }
rotate_ok "  and rotates" rotate

# --- private_key_jwt with a TPM key -------------------------------------------------
# (made with openssl + the tpm2 provider; the issuer knows its public JWK, ES256)
(umask 077 && openssl genpkey -provider tpm2 -provider default -propquery '?provider=tpm2' \
	-algorithm EC -pkeyopt group:P-256 -out "$T/jwt.key" 2>/dev/null) || exit 99
jwk=$(openssl pkey -provider tpm2 -provider default -in "$T/jwt.key" -pubout 2>/dev/null | node -e '
const pem = require("fs").readFileSync(0, "utf8");
const j = require("crypto").createPublicKey(pem).export({ format: "jwk" });
console.log(JSON.stringify({ ...j, alg: "ES256", use: "sig", kid: "client-key" }));') || exit 99
oidc_add_client "{\"client_id\":\"testhost\",\"grant_types\":[\"client_credentials\"],\"response_types\":[],\
\"redirect_uris\":[],\"token_endpoint_auth_method\":\"private_key_jwt\",\
\"token_endpoint_auth_signing_alg\":\"ES256\",\"jwks\":{\"keys\":[$jwk]},\
\"scope\":\"laps.device\",\"laps_at_alg\":\"ES256\"}" || exit 99
rest_conf private_key_jwt "$ESCROWD_URL" "key_store = tpm"
sed -i "s|^key_file = .*|key_file = $T/jwt.key|" "$T/laps.conf"
rotate_ok "private_key_jwt: the assertion is signed by the TPM key, the issuer accepts it (invariant holds)" rotate
swtpm_stop "$T/tpm1"
rotate_refused "  the TPM stopped: no assertion, nothing changed" "cannot reach the TPM"
finish
