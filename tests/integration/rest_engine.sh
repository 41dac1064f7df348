#!/bin/bash
# rest_engine.sh — auth = mtls with the device key held by an OpenSSL engine
# ([rest] key_engine = pkcs11, key_uri = pkcs11:...): the key lives in a
# SoftHSM token in a temp dir (SOFTHSM2_CONF and OPENSSL_CONF point at temp
# files, the system's are never read or written), laps-agent rotates through
# a real laps-escrowd and the escrow verifies against the shadow hash; a URI
# naming no key and an unknown engine are refused with nothing changed.
# Skips (77) when SoftHSM or the pkcs11 engine (libengine-pkcs11-openssl)
# are missing.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so
ENGINE_SO=$(ls /usr/lib/*/engines-3/pkcs11.so /usr/lib/engines-3/pkcs11.so 2>/dev/null | head -1)
command -v softhsm2-util >/dev/null && [ -r "$SOFTHSM_MODULE" ] && [ -n "$ENGINE_SO" ] ||
	{ echo "SKIP: softhsm2 or libengine-pkcs11-openssl missing"; exit 77; }
. "$top_srcdir/tests/integration/agent_lib.sh"
need_root
. "$top_srcdir/tests/integration/rest_lib.sh"
rest_agent_setup

# ---- a SoftHSM token holding the device's TLS key ----
mkdir -p "$T/tokens" && chmod 0700 "$T/tokens"
printf '%s\n' "directories.tokendir = $T/tokens" "objectstore.backend = file" \
	"log.level = ERROR" >"$T/softhsm2.conf"
export SOFTHSM2_CONF=$T/softhsm2.conf
# throwaway PINs of a token that lives only in this temp dir
softhsm2-util --init-token --free --label laps --so-pin 87654321 --pin 12345678 >/dev/null || exit 99
openssl pkcs8 -topk8 -nocrypt -in "$T/pki/testhost.key" -out "$T/testhost.p8" || exit 99
softhsm2-util --import "$T/testhost.p8" --token laps --label device --id 01 \
	--pin 12345678 >/dev/null || exit 99
rm -f "$T/testhost.p8"
(umask 077; printf '12345678' >"$T/token.pin")
# the engine finds SoftHSM through this OpenSSL config (libcurl loads it)
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
URI="pkcs11:token=laps;object=device;type=private;pin-source=file:$T/token.pin"

engine_conf() { # ENGINE URI
	rest_conf mtls
	sed -i '/^key_file = /d' "$T/laps.conf"
	sed -i "/^\[rest\]/a key_engine = $1\nkey_uri = $2" "$T/laps.conf"
}
eagent() { OPENSSL_CONF=$T/openssl.cnf agent "$@"; }

# ---- a rotation signed by the token ----
engine_conf pkcs11 "$URI"
grep -q '^key_file' "$T/laps.conf" && { fail "the config still names a key file"; finish; }
before=$(record_of)
eagent rotate >"$T/out" 2>&1; rc=$?
inv=$(check_rest_invariant)
after=$(record_of)
[ $rc -eq 0 ] && [ "$inv" = "ok current confirmed" ] && [ "$before" != "$after" ] &&
	pass "engine key: rotation through laps-escrowd, escrow verifies against the shadow hash" ||
	{ fail "engine key: rc $rc inv '$inv'"; cat "$T/out"; tail -5 "$T/escrowd.log"; }

# ---- refusals: nothing changes locally or in the escrow ----
refused() { # NAME EXPECTED-RCS(a|b) EXPECTED-TEXT
	local s0 r0 rc
	s0=$(sha256sum <"$T/root/etc/shadow")
	r0=$(record_of)
	# A refused engine key ends the run with OpenSSL's engine objects
	# (libp11's RSA method, ENGINE state) still allocated inside libcrypto,
	# which the agent cannot free on that path: LeakSanitizer would turn the
	# exit code into 1.  Leaks of our own code are checked by every other run.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" eagent rotate >"$T/out" 2>&1; rc=$?
	case "|$2|" in *"|$rc|"*) ;; *) rc="$rc (expected $2)"; false ;; esac &&
		grep -q -- "$3" "$T/out" && [ "$(sha256sum <"$T/root/etc/shadow")" = "$s0" ] &&
		[ "$(record_of)" = "$r0" ] && pass "$1: refused (rc $rc), nothing changed" ||
		{ fail "$1: rc $rc"; cat "$T/out"; }
}
# 139: after the clear error and exit(3), SoftHSM 2.6 crashes in
# C_CloseAllSessions when OpenSSL's atexit cleanup finishes the engine after
# SoftHSM's own destructors ran (openssl/openssl#22508, a SoftHSM bug; a TPM
# or a hardware token's module is not affected). Accepted here, not hidden;
# in the sanitizer build AddressSanitizer reports that SEGV and exits 1.
engine_conf pkcs11 "pkcs11:token=laps;object=nosuchkey;type=private;pin-source=file:$T/token.pin"
refused "a URI naming no key in the token" "3|139|1" "failed to load private key from crypto engine"
engine_conf nosuchengine "$URI"
refused "an unknown engine" 3 'key_engine: OpenSSL engine "nosuchengine" not available'
engine_conf pkcs11 "$URI"
sed -i '/^key_engine = /d' "$T/laps.conf"
refused "key_uri without key_engine" 2 "key_uri: needs key_engine"
finish
