#!/bin/bash
# rest_agent.sh — laps-agent through backend = rest against a real
# laps-escrowd (SQLite) and a real OIDC issuer (oidc-provider), with the
# shadow method on an alternate root:
#   - a rotation with each device auth mode (client_credentials,
#     private_key_jwt, mtls, bearer), each ending with the invariant (the
#     escrow, read by an admin and decrypted, verifies against the shadow hash)
#   - laps-get reads the password (it verifies against the local hash) and
#     --expire makes the next agent run rotate; --history, --json
#   - an administrator signs in with the device flow, driven through the
#     issuer's own pages (oidc_approve_device); the token cache is 0600 and
#     refused when group-readable
#   - security: a wrong CA, a token of another device, a redirect to
#     http:// and one to https:// on the same CA, an oversized and a
#     malformed answer: clear errors, exit 3,
#     nothing changed locally
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/agent_lib.sh"
need_root
python3 -W ignore -c 'import crypt' 2>/dev/null || { echo "SKIP: python3 crypt missing"; exit 77; }
. "$top_srcdir/tests/integration/rest_lib.sh"
rest_agent_setup

# the password laps-get printed verifies against the account's shadow hash
verifies() { # PASSWORD-FILE
	python3 -W ignore -c '
import crypt, sys
pw = open(sys.argv[1]).read().rstrip("\n")
h = [l.split(":")[1] for l in open(sys.argv[2]) if l.startswith("lapsadmin:")][0]
sys.exit(0 if crypt.crypt(pw, h) == h else 1)' "$1" "$T/root/etc/shadow"
}

oidc_add_secret_client testhost "$T/testhost.secret" laps.device >/dev/null || exit 99

# ---- every device auth mode ----
for mode in client_credentials private_key_jwt mtls bearer; do
	case $mode in
	private_key_jwt) oidc_add_jwt_client testhost "$T/testhost.jwk.key" laps.device ES256 RS256 || exit 99 ;;
	bearer)
		oidc_add_secret_client testhost "$T/testhost.secret" laps.device >/dev/null || exit 99
		(umask 077; oidc_token_secret testhost "$T/testhost.secret" | oidc_json access_token >"$T/testhost.bearer") ;;
	esac
	rest_conf $mode
	before=$(record_of)
	agent rotate >"$T/out" 2>&1; rc=$?
	inv=$(check_rest_invariant)
	after=$(record_of)
	[ $rc -eq 0 ] && [ "$inv" = "ok current confirmed" ] && [ "$before" != "$after" ] &&
		pass "$mode: rotation through laps-escrowd, escrow verifies against the shadow hash" ||
		{ fail "$mode: rc $rc inv '$inv'"; cat "$T/out"; tail -5 "$T/escrowd.log"; }
done

# ---- nothing due: a second run does not rotate ----
rest_conf client_credentials
oidc_add_secret_client testhost "$T/testhost.secret" laps.device >/dev/null
r0=$(record_of)
agent run >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ "$(record_of)" = "$r0" ] && pass "run with nothing due leaves the escrow alone" ||
	{ fail "idle run rc $rc"; cat "$T/out"; }

# ---- laps-get over REST (admin by client certificate) ----
cp "$T/admin.conf" "$T/get.conf"
"$LAPSGET" -c "$T/get.conf" -k "$T/admin.key" testhost >"$T/pw" 2>"$T/err"; rc=$?
[ $rc -eq 0 ] && verifies "$T/pw" && pass "laps-get reads the password; it verifies against the local hash" ||
	{ fail "laps-get rc $rc"; cat "$T/err"; }
"$LAPSGET" -c "$T/get.conf" -k "$T/admin.key" --json --history TESTHOST >"$T/json" 2>"$T/err"; rc=$?
[ $rc -eq 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["host"]=="testhost" and len(d["history"])>=3, d.keys()' "$T/json" 2>"$T/perr" &&
	pass "laps-get --json --history (host name case-insensitive)" || { fail "laps-get --json rc $rc"; cat "$T/err" "$T/perr"; }
r0=$(record_of)
"$LAPSGET" -c "$T/get.conf" --expire testhost >"$T/out" 2>&1; rc=$?
agent run >"$T/out2" 2>&1; rc2=$?
[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ "$(record_of)" != "$r0" ] &&
	[ "$(check_rest_invariant)" = "ok current confirmed" ] &&
	pass "laps-get --expire makes the next agent run rotate" || { fail "expire: $rc/$rc2"; cat "$T/out" "$T/out2"; }
"$LAPSGET" -c "$T/get.conf" -k "$T/admin.key" ghost >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 3 ] && grep -q "ghost" "$T/err" && pass "laps-get: unknown host exits 3" || { fail "ghost rc $rc"; cat "$T/err"; }

# ---- an administrator signs in with the device flow ----
oidc_add_admin_client laps-get-test || exit 99
oidc_add_user alice
sed -e '/^\[rest\]/,$d' "$T/laps.conf" >"$T/sso.conf"
printf '%s\n' "[rest]" "url = $ESCROWD_URL" "auth = device_code" "ca_file = $T/cas.pem" \
	"token_url = $OIDC_TOKEN_ENDPOINT" "device_auth_url = $OIDC_DEVICE_ENDPOINT" \
	"client_id = laps-get-test" "scope = openid offline_access laps.read laps.secret laps.expire" \
	>>"$T/sso.conf"
mkdir -p "$T/cache"
XDG_CACHE_HOME=$T/cache "$LAPSGET" -c "$T/sso.conf" -k "$T/admin.key" testhost >"$T/pw" 2>"$T/err" &
lg=$!
code=
for _ in $(seq 100); do
	code=$(sed -n 's/.*enter the code \([^ ]*\).*/\1/p' "$T/err")
	[ -n "$code" ] && break
	sleep 0.1
done
if [ -n "$code" ] && oidc_approve_device "$code" alice; then
	wait $lg; rc=$?
	[ $rc -eq 0 ] && verifies "$T/pw" && pass "device-flow sign-in (approved on the issuer's pages): laps-get reads the password" ||
		{ fail "device flow rc $rc"; cat "$T/err"; }
else
	kill $lg 2>/dev/null; wait $lg 2>/dev/null
	fail "device flow: no user code or approval failed"; cat "$T/err"
fi
cache=$(ls "$T/cache/laps/"token-*.json 2>/dev/null | head -1)
[ -n "$cache" ] && [ "$(stat -c %a "$cache")" = 600 ] && ! grep -q "$(head -c 20 "$T/testhost.secret")" "$cache" &&
	pass "token cache written 0600" || fail "token cache: '$cache'"
XDG_CACHE_HOME=$T/cache timeout 20 "$LAPSGET" -c "$T/sso.conf" -k "$T/admin.key" testhost >"$T/pw" 2>"$T/err"; rc=$?
[ $rc -eq 0 ] && ! grep -q "enter the code" "$T/err" && verifies "$T/pw" &&
	pass "second laps-get reuses the cached token (no sign-in)" || { fail "cached rc $rc"; cat "$T/err"; }
# the audit table, read with the sqlite3 CLI (not through laps-escrowd)
audit_q() { sqlite3 -readonly -cmd '.timeout 5000' "$T/escrow.db" "$1"; }
if command -v sqlite3 >/dev/null; then
	n=$(audit_q "SELECT count(*) FROM audit WHERE action = 'read_secret' AND device = 'testhost'
		AND outcome = 'allowed' AND actor = 'alice via laps-get-test'")
	last=$(audit_q "SELECT actor FROM audit WHERE action = 'read_secret' ORDER BY id DESC LIMIT 1")
	[ "$n" = 2 ] && [ "$last" = "alice via laps-get-test" ] &&
		pass "the server's audit names the human: both of alice's reads, the last read is hers" ||
		fail "audit: $n read_secret rows by alice, last reader '$last'"
else
	fail "sqlite3 missing (scripts/deps.sh installs it)"
fi
chmod 0640 "$cache"
XDG_CACHE_HOME=$T/cache timeout 20 "$LAPSGET" -c "$T/sso.conf" -k "$T/admin.key" testhost >/dev/null 2>"$T/err" </dev/null; rc=$?
[ $rc -ne 0 ] && grep -q "token-" "$T/err" && pass "group-readable token cache refused (rc $rc)" || { fail "cache mode rc $rc"; cat "$T/err"; }

# ---- security: clear errors, nothing changed locally (exit 3) ----
expect_refused() { # NAME PATTERN
	cp "$T/root/etc/shadow" "$T/shadow.before"
	r0=$(record_of)
	agent rotate >"$T/out" 2>&1; rc=$?
	if [ $rc -eq 3 ] && grep -Eqi "$2" "$T/out" && cmp -s "$T/shadow.before" "$T/root/etc/shadow" &&
		[ "$(record_of)" = "$r0" ] && [ "$(check_rest_invariant)" = "ok current confirmed" ] &&
		! grep -q "$(head -c 16 "$T/testhost.secret")" "$T/out"; then
		pass "$1: exit 3, clear error, local password and escrow unchanged"
	else
		fail "$1: rc $rc"; cat "$T/out"
	fi
}
rest_conf client_credentials
sed -i "s|^ca_file = .*|ca_file = $OIDC_WRONG_CA|" "$T/laps.conf"
expect_refused "wrong CA" "TLS|certificate"
rest_conf bearer
oidc_add_secret_client otherhost "$T/other.secret" laps.device >/dev/null
(umask 077; oidc_token_secret otherhost "$T/other.secret" | oidc_json access_token >"$T/testhost.bearer")
expect_refused "a token for another device" "403|forbidden|not authorised"
rest_conf client_credentials "https://127.0.0.1:$ESCROWD_PORT/"
sed -i "s|^url = .*|url = http://127.0.0.1:$ESCROWD_PORT|" "$T/laps.conf"
agent rotate >"$T/out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "https" "$T/out" && pass "url = http:// refused as a config error" || { fail "http url rc $rc"; cat "$T/out"; }
hostile_start
# redirect-to: to the same request on the real laps-escrowd over https://,
# certified by the same test CA -- were redirects followed, the rotation
# would succeed, so the refusal shows in the outcome (exit 3, nothing
# changed), not only in the message
for case in "redirect http://127.0.0.1:$ESCROWD_PORT/v1|redirect" \
	"redirect-to https://127.0.0.1:$ESCROWD_PORT|redirect" "big 200000|larger than" \
	"garbage|malformed"; do
	printf '%s\n' "${case%%|*}" >"$T/plan"
	rest_conf client_credentials "$HOSTILE_URL"
	expect_refused "hostile answer '${case%%|*}'" "${case#*|}"
done

# ---- a device named by its FQDN: laps-get reads it in one request ----
# (LAPS_BCAP_EXACTNAME: find could only answer a dotted name with itself)
fq=web1.example.test
pki_cert $fq 'extendedKeyUsage=clientAuth'
rest_conf mtls
sed -i -e "s/^device = testhost$/device = $fq/" -e "s|/testhost\.|/$fq.|" "$T/laps.conf"
agent rotate >"$T/out" 2>&1 || { fail "rotation as $fq"; cat "$T/out"; }
# requests by route template: "ROUTE METHOD" -> count (all statuses)
count_req() {
	curl -sf --cacert "$T/pki/ca.crt" "$ESCROWD_URL/metrics" |
		awk -v r="route=\"$1\"" -v m="method=\"$2\"" \
			'/^laps_escrowd_requests_total/ && index($0, r) && index($0, m) { n += $NF } END { print n + 0 }'
}
rec_route='/v1/devices/{device}/accounts/{account}/record'
if grep -qF "$rec_route" < <(curl -sf --cacert "$T/pki/ca.crt" "$ESCROWD_URL/metrics"); then
	f0=$(count_req /v1/devices GET) r0=$(count_req "$rec_route" GET)
	"$LAPSGET" -c "$T/get.conf" -k "$T/admin.key" WEB1.Example.Test >"$T/pw" 2>"$T/err"; rc=$?
	f1=$(count_req /v1/devices GET) r1=$(count_req "$rec_route" GET)
	[ $rc -eq 0 ] && verifies "$T/pw" && [ $((f1 - f0)) = 0 ] && [ $((r1 - r0)) = 1 ] &&
		pass "laps-get FQDN: one request (no find), the password verifies" ||
		{ fail "laps-get $fq: rc $rc, finds +$((f1 - f0)), reads +$((r1 - r0))"; cat "$T/err"; }
	"$LAPSGET" -c "$T/get.conf" -k "$T/admin.key" web1 >"$T/pw" 2>"$T/err"; rc=$?
	f2=$(count_req /v1/devices GET) r2=$(count_req "$rec_route" GET)
	[ $rc -eq 0 ] && verifies "$T/pw" && [ $((f2 - f1)) = 1 ] &&
		pass "laps-get short name: resolved by find to $fq" ||
		{ fail "laps-get web1: rc $rc, finds +$((f2 - f1))"; cat "$T/err"; }
	# not a device name (a space): no shortcut, find decides as before
	"$LAPSGET" -c "$T/get.conf" -k "$T/admin.key" 'web1 .example.test' >/dev/null 2>"$T/err"; rc=$?
	f3=$(count_req /v1/devices GET) r3=$(count_req "$rec_route" GET)
	[ $rc -ne 0 ] && [ $((f3 - f2)) = 1 ] && [ $((r3 - r2)) = 0 ] &&
		pass "laps-get 'web1 .example.test': no direct read, find refuses it (rc $rc)" ||
		{ fail "invalid dotted name: rc $rc, finds +$((f3 - f2)), reads +$((r3 - r2))"; cat "$T/err"; }
else
	fail "metrics: no route '$rec_route'"
fi
"$LAPSGET" -c "$T/get.conf" -k "$T/admin.key" ghost.example.test >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 3 ] && grep -q "no host matches 'ghost.example.test'" "$T/err" &&
	pass "laps-get unknown FQDN: exit 3, the usual 'no host matches'" || { fail "ghost FQDN rc $rc"; cat "$T/err"; }
finish
