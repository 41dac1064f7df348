#!/bin/bash
# console.sh — the admin web console (docs/CONSOLE.md) in Debian's headless
# Chromium, driven by npm puppeteer-core (console/package-lock.json; no
# browser is downloaded), against a real laps-escrowd, the suite's real OIDC
# issuer (its own login and consent pages) and records written by a real
# laps-agent rotation (shadow method, alternate root):
#   - curl: /console/ is 404 while [console] is off (the default); once on,
#     every console answer carries the CSP, frame-ancestors 'none',
#     Referrer-Policy no-referrer, no-store, nosniff; index.html carries SRI
#   - tests/integration/console_browser.mjs, one browser per phase: sign-in
#     with PKCE, fleet statuses and counts, sort/filter/search, reveal with an
#     unprotected and a passphrase-protected key (checked against the shadow
#     hash with crypt), wrong key and wrong passphrase, copy that clears,
#     expire now → the next agent run rotates, a pending record shows both
#     passwords, rights and units, the audit page counts every reveal once,
#     HTML in a user name or problem detail stays text, the CSP blocks an
#     injected inline script, sign-out at the expiry of a real short-lived
#     token of the issuer (45 s) and on laps-escrowd's real 401 for an expired
#     token, counts and sorting by the server over 255 accounts (250 devices
#     added through the API; three pages), and no request leaves the two
#     127.0.0.1 origins
#   - screenshots of the three pages in the build directory (console-*.png)
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/agent_lib.sh"
need_root
CHROMIUM=${LAPS_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "SKIP: $CHROMIUM missing (Debian package chromium)"; exit 77; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node or npm missing"; exit 77; }
python3 -W ignore -c 'import crypt' 2>/dev/null || { echo "SKIP: python3 crypt missing"; exit 77; }
. "$top_srcdir/tests/integration/rest_lib.sh"

# ---- the console's npm packages (libsodium, puppeteer-core), cached by lock hash ----
console_modules() {
	local src=$top_srcdir/console base hash dir
	base=${LAPS_CONSOLE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/laps-test-console}
	hash=$(sha256sum "$src/package-lock.json" | cut -c1-16) || return 99
	dir=$base/$hash
	mkdir -p "$dir" || return 99
	(
		flock 9 || exit 99
		[ -f "$dir/node_modules/puppeteer-core/package.json" ] && exit 0
		cp "$src/package.json" "$src/package-lock.json" "$dir/" && cd "$dir" || exit 99
		PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --prefer-offline --loglevel=error \
			>npm.log 2>&1 || { cat npm.log >&2; exit 99; }
	) 9>"$dir/.lock" || return $?
	echo "$dir/node_modules"
}
NM=$(console_modules) || { echo "npm ci for console/ failed"; exit 99; }

make_root "$T/root"
mkdir -p "$T/state" && chmod 0700 "$T/state"
"$TOOL" keygen "$T" >/dev/null || exit 99
pki_setup
for d in ws01.eu.example.test ws02.example.test ws03.example.test ws04.example.test; do
	pki_cert "$d" 'extendedKeyUsage=clientAuth'
done
oidc_start "$T/oidc" --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
trap rest_cleanup EXIT
escrowd_conf
escrowd_start

# ---- off by default ----
code=$(curl -sS --cacert "$T/pki/ca.crt" -o /dev/null -w '%{http_code}' "$ESCROWD_URL/console/")
[ "$code" = 404 ] && pass "[console] is off by default: /console/ is 404" || fail "console off: got $code"

# ---- the console's files, built as make install does ----
sh "$top_srcdir/console/build.sh" "$top_srcdir/console/src" "$NM" "$T/console" ||
	{ fail "console/build.sh"; finish; }

# rights from the groups claim; unit eu; the console's public client
console_conf() {
	escrowd_conf
	sed -i 's/^\[authz\]$/[authz]\nrights_claim = groups\nunits = eu:*.eu.example.test/' "$T/escrowd.conf"
	printf '%s\n' "[console]" "enable = yes" "dir = $T/console" >>"$T/escrowd.conf"
	# a read moves the expiry to at most now + 28d (still after ws04's 27d:
	# the fleet sort below is unchanged); the console says so
	printf '%s\n' "[policy]" "rotate_after_read = 28d" >>"$T/escrowd.conf"
}
escrowd_kill
console_conf
escrowd_start
oidc_add_client "{\"client_id\":\"laps-console\",\"client_name\":\"laps console\",\
\"grant_types\":[\"authorization_code\"],\"response_types\":[\"code\"],\
\"redirect_uris\":[\"$ESCROWD_URL/console/\"],\"token_endpoint_auth_method\":\"none\",\
\"scope\":\"openid\"}" || exit 99
oidc_add_user helpdesk laps.read laps.secret laps.expire
oidc_add_user viewer laps.read
oidc_add_user eu-admin laps.read@eu laps.secret@eu
oidc_add_user auditor laps.audit
XSS_USER='<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
oidc_add_user "$XSS_USER" laps.secret@eu

# ---- headers ----
curl -sS --cacert "$T/pki/ca.crt" -D "$T/h" -o "$T/index.html" "$ESCROWD_URL/console/"
hdr() { grep -i "^$1:" "$T/h" | head -n1 | cut -d: -f2- | tr -d '\r' | sed 's/^ //'; }
csp=$(hdr content-security-policy)
case $csp in
*"default-src 'none'"*"script-src 'self' 'wasm-unsafe-eval';"*"connect-src 'self' $OIDC_ISSUER;"*"frame-ancestors 'none'"*)
	pass "CSP: no inline script, only this origin and the issuer ($csp)" ;;
*) fail "CSP: '$csp'" ;;
esac
[ "$(hdr referrer-policy)" = no-referrer ] && [ "$(hdr cache-control)" = no-store ] &&
	[ "$(hdr x-content-type-options)" = nosniff ] && [ "$(hdr x-frame-options)" = DENY ] &&
	grep -q '^HTTP/[0-9.]* 200' "$T/h" && pass "Referrer-Policy, Cache-Control no-store, nosniff, X-Frame-Options" ||
	{ fail "headers"; cat "$T/h"; }
n_sri=$(grep -c 'integrity="sha384-' "$T/index.html")
[ "$n_sri" = 4 ] && ! grep -qi '<script>' "$T/index.html" &&
	pass "index.html: 4 SRI hashes, no inline script" || fail "index.html SRI: $n_sri"
# each SRI hash is the hash of the file laps-escrowd serves under that name
sri_ok=0
while read -r f h; do
	got=sha384-$(curl -sS --cacert "$T/pki/ca.crt" "$ESCROWD_URL/console/$f" | openssl dgst -sha384 -binary | openssl base64 -A)
	[ "$got" = "$h" ] && sri_ok=$((sri_ok + 1))
done < <(grep -o '\(href\|src\)="[^"]*" integrity="[^"]*"' "$T/index.html" | sed 's/^[a-z]*="\([^"]*\)" integrity="\([^"]*\)"/\1 \2/')
[ "$sri_ok" = 4 ] && pass "the 4 SRI hashes match the files served" || fail "SRI: $sri_ok of 4 match"
# every console answer carries them: a 404, the redirect, a 405
for t in "GET /console/nope.js 404" "GET /console 301" "POST /console/ 405" "GET /console/config.json 200"; do
	set -- $t
	curl -sS --cacert "$T/pki/ca.crt" -X "$1" -D "$T/h" -o /dev/null "$ESCROWD_URL$2"
	grep -q "^HTTP/[0-9.]* $3" "$T/h" && [ "$(hdr content-security-policy)" = "$csp" ] &&
		[ "$(hdr cache-control)" = no-store ] && pass "$1 $2: $3 with the same headers" ||
		{ fail "$1 $2"; cat "$T/h"; }
done
curl -sS --cacert "$T/pki/ca.crt" -D "$T/h" -o "$T/v1" "$ESCROWD_URL/v1/report"
grep -q '^HTTP/[0-9.]* 401' "$T/h" && pass "/v1 is unchanged (401 without a token)" || fail "/v1 with console"

# ---- records: a real agent rotation (testhost) and four more devices ----
"$LAPSGET" keygen -o "$T/prot.key" --comment "protected test key" --passphrase-fd 3 \
	3< <(printf 'correct horse\n') >/dev/null || exit 99
"$LAPSGET" keygen -o "$T/other.key" --no-passphrase >/dev/null || exit 99
cat "$T/admin.pub" "$T/prot.key.pub" >"$T/recipients.pub"
oidc_add_secret_client testhost "$T/testhost.secret" laps.device ES256 laps.device >/dev/null || exit 99
rest_conf client_credentials
sed -i "s|^recipients = .*|recipients = $T/recipients.pub|" "$T/laps.conf"
agent rotate >"$T/out" 2>&1 && [ "$(check_rest_invariant)" = "ok current confirmed" ] &&
	pass "agent rotation escrowed to laps-escrowd" || { fail "agent rotate"; cat "$T/out"; finish; }

now=$(date +%s)
put_record() { # DEVICE STATE ROTATED_AT EXPIRES_AT
	python3 - "$@" >"$T/rec.json" <<'PY'
import base64, json, os, sys
d, st, r, x = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
env = b"LAPS\x01\x01" + os.urandom(24) + bytes.fromhex("0011223344556677") + os.urandom(80) + os.urandom(274)
print(json.dumps({"v": 2, "device": d, "account": "lapsadmin", "uid": 1001,
    "rotation_id": os.urandom(16).hex(), "seq": 1, "rotated_at": r, "expires_at": x,
    "state": st, "envelope": base64.b64encode(env).decode(), "key_ids": ["0011223344556677"]},
    separators=(",", ":")))
PY
	curl -sS --cacert "$T/pki/ca.crt" --cert "$T/pki/$1.crt" --key "$T/pki/$1.key" -X PUT \
		-H 'Content-Type: application/json' -H 'If-None-Match: *' --data-binary @"$T/rec.json" \
		-o "$T/put.out" -w '%{http_code}' "$ESCROWD_URL/v1/devices/$1/accounts/lapsadmin/record"
}
ok_put=0
[ "$(put_record ws01.eu.example.test confirmed $((now - 3600)) $((now + 86400 * 30)))" = 201 ] && ok_put=$((ok_put + 1))
[ "$(put_record ws02.example.test confirmed $((now - 86400 * 30)) $((now - 3600)))" = 201 ] && ok_put=$((ok_put + 1))
[ "$(put_record ws03.example.test confirmed $((now - 86400 * 40)) $((now - 86400 * 3)))" = 201 ] && ok_put=$((ok_put + 1))
[ "$(put_record ws04.example.test pending $((now - 86400 * 3)) $((now + 86400 * 27)))" = 201 ] && ok_put=$((ok_put + 1))
[ $ok_put = 4 ] && pass "four more devices escrowed (ok, due, overdue, stuck)" || { fail "records: $ok_put"; cat "$T/put.out"; }

# ---- the browser ----
mkdir -p "$T/app" && cp "$top_srcdir/tests/integration/console_browser.mjs" "$T/app/" &&
	ln -sfn "$NM" "$T/app/node_modules" || exit 99
export T ESCROWD_URL OIDC_ISSUER CHROMIUM XSS_USER
export SHOTS=${LAPS_CONSOLE_SHOTS:-$(cd "$top_builddir" && pwd)}
browser() { # PHASE (LAPS_CONSOLE_PHASES="xss eu" runs only those: for development)
	case " ${LAPS_CONSOLE_PHASES:-$1} " in *" $1 "*) ;; *) return 0 ;; esac
	node "$T/app/console_browser.mjs" "$1" >"$T/b.$1" 2>&1
	local rc=$?
	cat "$T/b.$1"
	grep -q '^FAIL' "$T/b.$1" && fails=$((fails + $(grep -c '^FAIL' "$T/b.$1")))
	[ $rc -eq 0 ] || fail "browser phase $1 exited $rc"
}
: >"$T/reveals"
f0=$fails
browser helpdesk
[ "$fails" -eq "$f0" ] || finish # signing in or the fleet failed: the rest would time out
r0=$(record_of)
agent run >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ "$(record_of)" != "$r0" ] && [ "$(check_rest_invariant)" = "ok current confirmed" ] &&
	pass "Expire now in the console: the next agent run rotates" || { fail "after expire: rc $rc"; cat "$T/out"; }
browser after
# a pending rotation: expired, then the agent dies after setting the password, before confirming
if "$AGENT" --version | grep -q fault-injection; then
	"$TOOL" expire "$T/admin.conf" lapsadmin && LAPS_FAULT=after_local_set:kill agent run >"$T/out" 2>&1
	case $(record_of) in pending*) pass "a pending record (agent killed before confirm)" ;; *) fail "not pending: $(record_of)" ;; esac
	browser pending
else
	echo "# laps-agent without --enable-fault-injection: the pending record case is skipped"
fi
browser viewer
browser eu
browser xss

# ---- real token expiry: a console client whose access tokens live AT_TTL
# seconds at the issuer, laps-escrowd with [oidc] leeway = LEEWAY ----
# (45 s: the sign-in and the first page must fit in it on a loaded machine —
# a sanitizer build beside another test; the phases wait for the real expiry)
export AT_TTL=45 LEEWAY=2
oidc_add_client "{\"client_id\":\"laps-console-short\",\"client_name\":\"laps console, short tokens\",\
\"grant_types\":[\"authorization_code\"],\"response_types\":[\"code\"],\
\"redirect_uris\":[\"$ESCROWD_URL/console/\"],\"token_endpoint_auth_method\":\"none\",\
\"scope\":\"openid\",\"laps_at_ttl\":$AT_TTL}" || exit 99
escrowd_kill
console_conf
sed -i "s/^\[oidc\]\$/[oidc]\nleeway = $LEEWAY/; s/^\[console\]\$/[console]\nclient_id = laps-console-short/" "$T/escrowd.conf"
escrowd_start
browser expiry
browser refused
escrowd_kill
console_conf
escrowd_start
export REVEALS=$(awk '{n += $1} END {print n + 0}' "$T/reveals")
browser auditor

# ---- a fleet of 255 accounts (250 devices added through the API): counts
# and sorting over the whole fleet, more than two pages of 100 ----
big_fleet() {
	local i st r x n=0
	for i in $(seq -w 0 249); do
		case $((10#$i % 10)) in
		0) st=confirmed r=$((now - 86400 * 60)) x=$((now - 86400 * (2 + 10#$i / 10))) ;; # overdue
		1) st=confirmed r=$((now - 86400 * 30)) x=$((now - 3600 - 10#$i)) ;;           # due
		2) st=pending r=$((now - 86400 * 3)) x=$((now + 86400 * 20)) ;;               # stuck
		*) st=confirmed r=$((now - 3600)) x=$((now + 86400 * (300 - 10#$i))) ;;       # ok, late names first
		esac
		pki_cert "fleet-$i.example.test" 'extendedKeyUsage=clientAuth'
		[ "$(put_record "fleet-$i.example.test" $st $r $x)" = 201 ] && n=$((n + 1))
	done
	echo $n
}
case " ${LAPS_CONSOLE_PHASES:-big} " in
*" big "*)
	[ "$(big_fleet)" = 250 ] && pass "250 more devices escrowed through the API" || fail "big fleet: $(cat "$T/put.out")"
	# what the console must show, from the store's rows (not from laps-escrowd)
	python3 - "$T/escrow.db" >"$T/big.json" <<'PY' || fail "big.json"
import json, sqlite3, sys, time
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT device, account, state, rotated_at, expires_at FROM records").fetchall()
now, g = time.time(), 86400
def health(st, r, x):
    if st == "pending":
        return "stuck" if r < now - g else "ok"
    if x <= 0 or now < x:
        return "ok"
    return "overdue" if x < now - g else "due"
counts = {"ok": 0, "due": 0, "overdue": 0, "stuck": 0}
for d, a, st, r, x in rows:
    counts[health(st, r, x)] += 1
by_expiry = ["%s/%s" % (d, a) for d, a, st, r, x in sorted(rows, key=lambda t: (t[4], t[0], t[1]))]
print(json.dumps({"counts": counts, "total": len(rows), "by_expiry": by_expiry}))
PY
	browser big ;;
esac
finish
