#!/bin/bash
# oidc_harness.sh — checks tests/integration/lib/oidc.sh and the real issuer
# (tests/oidc/issuer.mjs, npm oidc-provider) with curl: discovery over the
# test CA (a wrong CA refused), client_credentials with client_secret_basic
# (a wrong secret refused) and with private_key_jwt (RS256 and EdDSA client
# keys), JWT access tokens with typ at+jwt for each signing algorithm, and the
# device authorization grant approved through the issuer's own pages, then a
# refresh.  Skips (77) without node.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib/oidc.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/laps-oidc.XXXXXX") || exit 99
trap 'oidc_cleanup; rm -rf "$tmp"' EXIT
oidc_start "$tmp/o" --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
fail=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fail=1; }
claim() { oidc_json access_token <<<"$1" | oidc_jwt_part "$2" | oidc_json "$3"; }

out=$(oidc_curl -fsS "$OIDC_ISSUER/.well-known/openid-configuration" | oidc_json jwks_uri)
[ "$out" = "$OIDC_JWKS_URI" ] && ok "discovery names the jwks_uri" || bad "discovery: $out"
if curl -sS --cacert "$OIDC_WRONG_CA" "$OIDC_ISSUER/jwks" -o /dev/null 2>/dev/null; then
	bad "wrong CA accepted"
else
	ok "wrong CA refused"
fi

# client_credentials + client_secret_basic, one client per signing algorithm
for alg in ES256 RS256 EdDSA; do
	oidc_add_secret_client "dev-$alg" "$tmp/dev-$alg.secret" laps.device "$alg"
	t=$(oidc_token_secret "dev-$alg" "$tmp/dev-$alg.secret")
	h=$(claim "$t" 0 alg):$(claim "$t" 0 typ)
	p=$(claim "$t" 1 sub):$(claim "$t" 1 aud):$(claim "$t" 1 scope):$(claim "$t" 1 iss)
	if [ "$h" = "$alg:at+jwt" ] && [ "$p" = "dev-$alg:$OIDC_AUDIENCE:laps.device:$OIDC_ISSUER" ]; then
		ok "client_secret_basic $alg token"
	else
		bad "client_secret_basic $alg: $h $p ($t)"
	fi
done
echo wrong >"$tmp/wrong.secret"
t=$(oidc_token_secret dev-ES256 "$tmp/wrong.secret")
[ "$(oidc_json error <<<"$t")" = invalid_client ] && ok "wrong secret refused" || bad "wrong secret: $t"
t=$(oidc_token_secret dev-ES256 "$tmp/dev-ES256.secret" laps.secret)
[ "$(oidc_json error <<<"$t")" = invalid_scope ] && ok "unregistered scope refused" || bad "scope: $t"
t=$(oidc_token_secret dev-ES256 "$tmp/dev-ES256.secret" laps.device "$OIDC_WRONG_AUDIENCE")
[ "$(claim "$t" 1 aud)" = "$OIDC_WRONG_AUDIENCE" ] && ok "another resource gives another aud" ||
	bad "wrong audience token: $t"

# client_credentials + private_key_jwt
for ka in RS256 EdDSA; do
	oidc_add_jwt_client "jwt-$ka" "$tmp/jwt-$ka.key" laps.device ES256 "$ka"
	[ "$(stat -c %a "$tmp/jwt-$ka.key")" = 600 ] || bad "key file mode"
	t=$(oidc_token_jwt "jwt-$ka" "$tmp/jwt-$ka.key" laps.device "" "$ka")
	[ "$(claim "$t" 1 sub)" = "jwt-$ka" ] && ok "private_key_jwt ($ka client key)" || bad "private_key_jwt $ka: $t"
done
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/other.key" 2>/dev/null
t=$(oidc_token_jwt jwt-RS256 "$tmp/other.key")
[ "$(oidc_json error <<<"$t")" = invalid_client ] && ok "assertion with another key refused" ||
	bad "foreign assertion: $t"

# device authorization grant, approved through the issuer's pages; refresh
oidc_add_admin_client laps-get
oidc_add_user alice laps-admins laps-ops
d=$(oidc_device_authorize laps-get)
uc=$(oidc_json user_code <<<"$d") dc=$(oidc_json device_code <<<"$d")
t=$(oidc_device_token laps-get "$dc")
[ "$(oidc_json error <<<"$t")" = authorization_pending ] && ok "pending before approval" || bad "early: $t"
oidc_approve_device WRONG-CODE alice 2>/dev/null && bad "a wrong user code approved" || ok "wrong user code refused"
if oidc_approve_device "$uc" alice; then ok "user code approved through the issuer's pages"; else bad "approve"; fi
t=$(oidc_device_token laps-get "$dc")
p=$(claim "$t" 0 typ):$(claim "$t" 1 sub):$(claim "$t" 1 aud):$(claim "$t" 1 scope):$(claim "$t" 1 groups)
[ "$p" = "at+jwt:alice:$OIDC_AUDIENCE:laps.read laps.secret laps.expire:[\"laps-admins\",\"laps-ops\"]" ] &&
	ok "device flow JWT access token for alice" || bad "device token: $p ($t)"
rt=$(oidc_json refresh_token <<<"$t") || bad "no refresh token"
t=$(oidc_refresh laps-get "$rt")
[ "$(claim "$t" 1 sub)" = alice ] && ok "refresh token gives a new access token" || bad "refresh: $t"
t=$(oidc_device_token laps-get "$dc")
[ "$(oidc_json error <<<"$t")" = invalid_grant ] && ok "device code used once" || bad "reuse: $t"

pid=$OIDC_PID
oidc_stop
kill -0 "$pid" 2>/dev/null && bad "issuer still running" || ok "stopped by PID"
exit $fail
