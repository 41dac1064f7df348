#!/bin/bash
# oidc_jwt.sh — server/jwt.c against the real issuer (npm oidc-provider):
# tokens from client_credentials with client_secret_basic and with
# private_key_jwt (the assertion signed by openssl), in ES256, RS256 and
# EdDSA, verified by tests/unit/jwt_check with discovery and the JWKS over
# TLS verified against the test CA; refused: a token for another audience,
# a token from the device flow checked against the wrong issuer, and
# discovery with the wrong CA.  Skips (77) without node.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
. "$top_srcdir/tests/integration/lib/oidc.sh"
check=$top_builddir/tests/unit/jwt_check
[ -x "$check" ] || { echo "jwt_check not built"; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/laps-oidcjwt.XXXXXX") || exit 99
trap 'oidc_cleanup; rm -rf "$tmp"' EXIT
oidc_start "$tmp/o" --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
fail=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fail=1; }
verify() { "$check" "$OIDC_ISSUER" "$OIDC_AUDIENCE" "$OIDC_CA" "$@"; }

for alg in ES256 RS256 EdDSA; do
	oidc_add_secret_client "basic-$alg" "$tmp/basic-$alg.secret" "laps.device" "$alg"
	oidc_token_secret "basic-$alg" "$tmp/basic-$alg.secret" | oidc_json access_token >"$tmp/t"
	out=$(verify scope=laps.device client_id="basic-$alg" <"$tmp/t" 2>&1)
	[ "$out" = "sub=basic-$alg scope=laps.device client_id=basic-$alg" ] &&
		ok "client_secret_basic $alg token verified" || bad "client_secret_basic $alg: $out"
done
oidc_add_jwt_client pkjwt "$tmp/pkjwt.key" "laps.device" RS256 RS256
oidc_token_jwt pkjwt "$tmp/pkjwt.key" | oidc_json access_token >"$tmp/t"
out=$(verify scope=laps.device <"$tmp/t" 2>&1)
[ "$out" = "sub=pkjwt scope=laps.device client_id=pkjwt" ] &&
	ok "private_key_jwt RS256 token verified" || bad "private_key_jwt: $out"
out=$(verify scope=laps.secret <"$tmp/t" 2>&1)
[ $? -eq 1 ] && ok "a scope the token lacks does not hold" || bad "scope: $out"

# a token the issuer made for another resource: refused on aud
oidc_token_secret basic-ES256 "$tmp/basic-ES256.secret" laps.device "$OIDC_WRONG_AUDIENCE" |
	oidc_json access_token >"$tmp/wrong"
out=$(verify <"$tmp/wrong" 2>&1)
rc=$?
[ $rc -eq 1 ] && [[ $out == *"aud does not name this server"* ]] &&
	ok "wrong audience refused" || bad "wrong audience ($rc): $out"
# the right token, but the verifier expects another issuer URL (same keys)
out=$("$check" "$OIDC_ISSUER/" "$OIDC_AUDIENCE" "$OIDC_CA" <"$tmp/t" 2>&1)
rc=$?
[ $rc -ne 0 ] && [[ $out == *issuer* ]] && ok "another issuer refused" || bad "issuer ($rc): $out"
# discovery over TLS with the wrong CA: no keys, a transient error (2)
out=$("$check" "$OIDC_ISSUER" "$OIDC_AUDIENCE" "$OIDC_WRONG_CA" <"$tmp/t" 2>&1)
rc=$?
[ $rc -eq 2 ] && [[ $out == *TLS* ]] && ok "wrong CA refused" || bad "wrong CA ($rc): $out"
# a changed payload under the issuer's signature
h=$(cut -d. -f1 "$tmp/t") s=$(cut -d. -f3 "$tmp/t")
p=$(printf '{"iss":"%s","aud":"%s","sub":"root","iat":%d,"exp":%d}' "$OIDC_ISSUER" \
	"$OIDC_AUDIENCE" "$(date +%s)" "$(($(date +%s) + 300))" | base64 -w0 | tr '+/' '-_' | tr -d =)
out=$(echo "$h.$p.$s" | verify 2>&1)
[ $? -eq 1 ] && [[ $out == *"bad signature"* ]] && ok "forged payload refused" || bad "forged: $out"

# device flow token of a signed-in admin, with groups
oidc_add_admin_client laps-get
oidc_add_user alice laps-admins
d=$(oidc_device_authorize laps-get)
oidc_approve_device "$(oidc_json user_code <<<"$d")" alice || bad "approve"
oidc_device_token laps-get "$(oidc_json device_code <<<"$d")" | oidc_json access_token >"$tmp/a"
out=$(verify groups=laps-admins scope=laps.secret <"$tmp/a" 2>&1)
[[ $out == "sub=alice scope=laps.read laps.secret laps.expire client_id=laps-get" ]] &&
	ok "device flow token of alice verified with groups" || bad "device flow: $out"
exit $fail
