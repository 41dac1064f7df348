#!/bin/sh
# est_pkcs11.sh — the EST issuing CA's key in a PKCS#11 token ([est]
# ca_key = pkcs11:..., through OpenSSL's pkcs11 engine): SoftHSM in a temp
# dir (SOFTHSM2_CONF and OPENSSL_CONF point at temp files; the system's are
# never read or written).  check-config accepts it; curl + openssl enroll
# lab-01; the certificate verifies under the CA certificate and
# authenticates lab-01; the CA's private key is in no file under the test
# dir in clear (its PEM is deleted after the import; the raw private
# scalar is searched for in every file, the token's included); a URI
# naming no key is refused by check-config and at start.  Skips (77) when
# SoftHSM or the pkcs11 engine (libengine-pkcs11-openssl) are missing.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
: "${top_builddir:=.}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
ESCROWD=$top_builddir/laps-escrowd
SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so
ENGINE_SO=$(ls /usr/lib/*/engines-3/pkcs11.so /usr/lib/engines-3/pkcs11.so 2>/dev/null | head -1)
command -v softhsm2-util >/dev/null && [ -r "$SOFTHSM_MODULE" ] && [ -n "$ENGINE_SO" ] ||
	{ echo "SKIP: softhsm2 or libengine-pkcs11-openssl missing"; exit 77; }
for t in openssl curl python3; do
	command -v $t >/dev/null || { echo "$t missing" >&2; exit 77; }
done
[ -x "$ESCROWD" ] || { echo "missing $ESCROWD" >&2; exit 99; }

T=$(mktemp -d "${TMPDIR:-/tmp}/est_pkcs11.XXXXXX") || exit 99
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
FAILS=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }
check() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi; }
ssl() { openssl "$@" >/dev/null 2>&1 || { echo "openssl $* failed" >&2; exit 99; }; }

. "$top_srcdir/tests/integration/lib/est.sh"
est_pki provisioner

# --- the EST CA's key into a SoftHSM token, then off the disk -----------------------
mkdir -p "$T/tokens" && chmod 0700 "$T/tokens"
printf '%s\n' "directories.tokendir = $T/tokens" "objectstore.backend = file" \
	"log.level = ERROR" >"$T/softhsm2.conf"
export SOFTHSM2_CONF=$T/softhsm2.conf
# throwaway PINs of a token that lives only in this temp dir
softhsm2-util --init-token --free --label laps-ca --so-pin 87654321 --pin 12345678 >/dev/null || exit 99
ssl pkcs8 -topk8 -nocrypt -in "$T/estca.key" -out "$T/estca.p8"
softhsm2-util --import "$T/estca.p8" --token laps-ca --label estca --id 01 --pin 12345678 >/dev/null || exit 99
# the private scalar (32 bytes of P-256), to look for afterwards
openssl pkey -in "$T/estca.key" -noout -text 2>/dev/null |
	sed -n '/^priv:/,/^pub:/p' | grep -v '^p' | tr -d ' :\n' >"$T/priv.hex"
[ "$(wc -c <"$T/priv.hex")" -ge 62 ] || { echo "no private scalar"; exit 99; }
# scan DIR: 0 when the scalar is in no file under DIR, raw or inside a PEM block
# (prints what it looked at or where it found it)
scan() {
	python3 - "$1" "$T/priv.hex" <<'PY'
import base64, os, re, sys
root, hexf = sys.argv[1:3]
secret = bytes.fromhex(open(hexf).read().strip()[-64:])
hits, n = [], 0
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        if p == hexf:
            continue
        n += 1
        data = open(p, "rb").read()
        blobs = [data] + [base64.b64decode(b"".join(m.split()), validate=False)
                          for m in re.findall(rb"-----BEGIN [^-]+-----(.*?)-----END", data, re.S)]
        if any(secret in b for b in blobs):
            hits.append(p)
print(("found in %s" % hits) if hits else "%d files" % n)
sys.exit(1 if hits else 0)
PY
}
# the scan finds the key where it is (else the check below proves nothing)
mkdir -p "$T/selftest" && cp "$T/estca.key" "$T/selftest/"
scan "$T/selftest" >/dev/null && not_ok "the scan misses the CA key in its PEM file" ||
	ok "the scan finds the CA key in its PEM file"
rm -rf "$T/selftest" "$T/estca.key" "$T/estca.p8"
(umask 077; printf '12345678' >"$T/token.pin")
cat >"$T/openssl.cnf" <<EOC
openssl_conf = laps_init
[laps_init]
engines = laps_engines
[laps_engines]
pkcs11 = laps_pkcs11
[laps_pkcs11]
engine_id = pkcs11
dynamic_path = $ENGINE_SO
MODULE_PATH = $SOFTHSM_MODULE
init = 0
EOC
export OPENSSL_CONF=$T/openssl.cnf
URI="pkcs11:token=laps-ca;object=estca;type=private;pin-source=file:$T/token.pin"

conf() { # conf CA_KEY > FILE
	cat <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $T/server.crt
key_file = $T/server.key
client_ca = $T/ca.crt
threads = 2

[store]
url = sqlite:$T/escrow.db

[authz]
units = lab:lab-*
cert_admins = provisioner=laps.enroll@lab

[est]
ca_cert = $T/estca.crt
ca_key = $1
lifetime = 2h
CONF
}
conf "$URI" >"$T/escrowd.conf"
conf "pkcs11:token=laps-ca;object=nokey;type=private;pin-source=file:$T/token.pin" >"$T/nokey.conf"
chmod 600 "$T/escrowd.conf" "$T/nokey.conf"

out=$("$ESCROWD" -c "$T/escrowd.conf" check-config 2>&1)
check "check-config accepts ca_key = pkcs11:..." 0 $?
out=$("$ESCROWD" -c "$T/nokey.conf" check-config 2>&1)
case $out in *"loaded no private key"*) ok "check-config: a URI naming no key is refused" ;;
	*) not_ok "check-config with a URI naming no key: $out" ;; esac
timeout 20 "$ESCROWD" -c "$T/nokey.conf" --port-file "$T/nokey.port" >/dev/null 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ ! -s "$T/nokey.port" ] && ok "laps-escrowd does not start with it (rc $rc)" ||
	not_ok "laps-escrowd with a URI naming no key: rc $rc"

est_serve

mkdir -p "$T/d"
enroll() { # enroll CN: simpleenroll as the provisioner; status in $S, PEM in $T/d/CN.crt
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$T/d/$1.key" -outform DER -out "$T/d/$1.der" >/dev/null 2>&1 &&
		openssl base64 -in "$T/d/$1.der" -out "$T/d/$1.b64"
	S=$(curl -sS --cacert "$T/ca.crt" --cert "$T/provisioner.crt" --key "$T/provisioner.key" \
		-H 'Content-Type: application/pkcs10' --data-binary @"$T/d/$1.b64" -o "$T/body" \
		-w '%{http_code}' "$URL/.well-known/est/simpleenroll" 2>/dev/null)
	openssl base64 -d -in "$T/body" -out "$T/body.der" 2>/dev/null &&
		openssl pkcs7 -inform DER -in "$T/body.der" -print_certs -out "$T/d/$1.crt" 2>/dev/null
}
enroll lab-01
check "simpleenroll with the CA key in the token" 200 "$S"
openssl verify -CAfile "$T/estca.crt" -purpose sslclient "$T/d/lab-01.crt" >/dev/null 2>&1 &&
	ok "  the certificate verifies under the EST CA certificate" || not_ok "  it does not verify"
check "  it authenticates lab-01 on /v1 (own device: 404 no record)" 404 \
	"$(curl -sS --cacert "$T/ca.crt" --cert "$T/d/lab-01.crt" --key "$T/d/lab-01.key" -o /dev/null \
		-w '%{http_code}' "$URL/v1/devices/lab-01/accounts/root" 2>/dev/null)"
enroll lab-02
check "a second enrollment (the engine key reused)" 200 "$S"

# the CA key in clear: its raw scalar in no file, nor inside any PEM block
r=$(scan "$T") && ok "the CA private key is in no file of the test dir, the token's included ($r)" ||
	not_ok "the CA private key in clear: $r"
[ "$FAILS" -eq 0 ] || { tail -20 "$T/escrowd.log"; exit 1; }
