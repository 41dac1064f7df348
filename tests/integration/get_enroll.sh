#!/bin/sh
# laps-get enroll-token and laps-get device against a real laps-escrowd
# with [est]: the administrator's commands over the rest backend (mTLS admin
# certificates), the devices enrolling with curl + openssl only (RFC 7030,
# as est_tokens.sh).  A token made by laps-get is printed once and enrolls;
# the list counts its uses and never shows it; revoke makes it refused;
# device list shows the enrolled device; disable makes its next request
# refused, enable restores it, reenroll lets the name enroll a second time;
# a missing right exits 5 naming it, an unknown id or device exits 3.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
: "${top_builddir:=.}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
ESCROWD=$top_builddir/laps-escrowd
LAPS_GET=$top_builddir/laps-get/laps-get
for t in openssl curl python3; do
	command -v $t >/dev/null || { echo "$t missing" >&2; exit 77; }
done
[ -x "$ESCROWD" ] && [ -x "$LAPS_GET" ] || { echo "missing $ESCROWD or $LAPS_GET" >&2; exit 99; }
export LAPS_BACKEND_DIR=${LAPS_BACKEND_DIR:-$top_builddir/backends/.libs}

T=$(mktemp -d "${TMPDIR:-/tmp}/get_enroll.XXXXXX") || exit 99
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
est_pki provisioner lab-boss
chmod 600 "$T"/*.key

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
units = lab:lab-* eu:eu-*
cert_admins = provisioner=laps.enroll@lab lab-boss=laps.read@lab

[limits]
rate = 1000
burst = 10000

[est]
ca_cert = $T/estca.crt
ca_key = $T/estca.key
lifetime = 2h
CONF
chmod 600 "$T/escrowd.conf"
est_serve

# laps-get configurations: one per admin identity (rest backend, mTLS)
for n in provisioner lab-boss; do
	printf '%s\n' "[escrow]" "backend = rest" "[rest]" "url = $URL" "auth = mtls" \
		"ca_file = $T/ca.crt" "cert_file = $T/$n.crt" "key_file = $T/$n.key" \
		"timeout = 5s" "retries = 0" >"$T/$n.conf"
	chmod 600 "$T/$n.conf"
done
# lg WHO ARGS...: laps-get as WHO; exit status in $RC, stdout $T/out, stderr $T/err
lg() {
	local who=$1
	shift
	"$LAPS_GET" -c "$T/$who.conf" "$@" >"$T/out" 2>"$T/err"
	RC=$?
}
err_has() { grep -qi -- "$1" "$T/err" && ok "  the message says '$1'" || not_ok "  message: $(cat "$T/err")"; }

# enroll_with TOKEN DIR CN: simpleenroll (Bearer); status in $S, certificate DIR/CN.crt
enroll_with() {
	csr "$2" "$3"
	S=$(curl -sS --cacert "$T/ca.crt" -H "Authorization: Bearer $1" \
		-H 'Content-Type: application/pkcs10' --data-binary @"$2/$3.b64" \
		-o "$T/body" -w '%{http_code}' "$EST/simpleenroll" 2>/dev/null)
	[ "$S" = 200 ] && certs_of "$T/body" "$2/$3.crt"
}
# as_device DIR/CN: status of a device request with that certificate
as_device() {
	curl -sS --cacert "$T/ca.crt" --cert "$1.crt" --key "$1.key" -o "$T/dev.body" \
		-w '%{http_code}' "$URL/v1/devices/${1##*/}/accounts/root" 2>/dev/null
}
# field JQEXPR: a value of the JSON in $T/out
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/out" "$1" 2>/dev/null; }

# --- enroll-token create ----------------------------------------------------
lg provisioner enroll-token create --unit lab --uses 2 --expires 1h --name-pattern 'lab-*'
check "enroll-token create: exit 0" 0 "$RC"
TOK=$(cat "$T/out")
check "  stdout is the token alone, one line" 1 "$(wc -l <"$T/out")"
ID=$(sed -n 's/^laps-et-\([0-9a-f]\{16\}\)\..*/\1/p' "$T/out")
[ -n "$ID" ] && ok "  a token laps-et-ID.SECRET" || not_ok "  stdout: $(cat "$T/out")"
grep -q "enrollment token $ID: unit lab, names lab-\*, 2 uses" "$T/err" && ok "  its id and limits on stderr" ||
	not_ok "  stderr: $(cat "$T/err")"
grep -q "${TOK#*.}" "$T/err" && not_ok "  the secret on stderr" || ok "  the secret not on stderr"
grep -q "${TOK#*.}" "$T/escrowd.log" && not_ok "  the secret in the server's log" || ok "  nor in the server's log"

lg provisioner enroll-token create --unit lab --uses 1 --expires 1h --json
check "enroll-token create --json: exit 0" 0 "$RC"
case $(field 'd["token"]') in laps-et-$(field 'd["id"]').*) ok "  JSON with the token and its id" ;;
*) not_ok "  JSON: $(cat "$T/out")" ;; esac
case $(field 'd["expires_at"]') in 20*T*Z) ok "  expires_at in ISO 8601" ;; *) not_ok "  expires_at $(field 'd["expires_at"]')" ;; esac
ID2=$(field 'd["id"]')

lg lab-boss enroll-token create --unit lab --uses 1 --expires 1h
check "create without the enroll right: exit 5" 5 "$RC"
sed 's/^/# /' "$T/err"
err_has "enroll right on this unit is missing"
err_has "laps.enroll"
[ -s "$T/out" ] && not_ok "  something on stdout" || ok "  nothing on stdout"
lg provisioner enroll-token create --unit lab --uses 1
check "create without --expires: exit 1" 1 "$RC"
lg provisioner enroll-token create --unit lab --uses 0 --expires 1h
check "create with 0 uses: exit 1" 1 "$RC"
lg provisioner enroll-token create --unit eu --uses 1 --expires 1h
check "create in a unit without the right: exit 5" 5 "$RC"

# --- a device enrolls with it (curl + openssl) ------------------------------
enroll_with "$TOK" "$T/d" lab-01
check "simpleenroll with laps-get's token: 200" 200 "$S"
check "  the certificate authenticates lab-01" 404 "$(as_device "$T/d/lab-01")"

# --- enroll-token list --------------------------------------------------------
lg provisioner enroll-token list
check "enroll-token list: exit 0" 0 "$RC"
row=$(grep "^$ID " "$T/out")
case $row in *" lab "*" lab-* "*" 1/2 "*" active "*"CN=provisioner") ok "  the row counts the use (1/2), active" ;;
*) not_ok "  row: '$row' in $(cat "$T/out")" ;; esac
grep -q "${TOK#*.}" "$T/out" && not_ok "  the list shows the secret" || ok "  the list never shows the secret"
lg provisioner enroll-token list --json
check "enroll-token list --json: exit 0" 0 "$RC"
check "  uses_left of the token: 1" 1 "$(field "[t['uses_left'] for t in d['tokens'] if t['id'] == '$ID'][0]")"
check "  no token member" False "$(field "any('token' in t for t in d['tokens'])")"
grep -q "${TOK#*.}" "$T/out" && not_ok "  the JSON list shows the secret" || ok "  nor does the JSON"

# --- enroll-token revoke ------------------------------------------------------
lg lab-boss enroll-token revoke "$ID"
check "revoke without the enroll right (the server hides the token: 404): exit 3" 3 "$RC"
err_has "no enrollment token of that id you may manage"
lg provisioner enroll-token revoke "$ID"
check "enroll-token revoke: exit 0" 0 "$RC"
grep -q "enrollment token $ID: revoked" "$T/out" && ok "  says so" || not_ok "  stdout: $(cat "$T/out")"
enroll_with "$TOK" "$T/d" lab-02
check "the revoked token is refused: 401" 401 "$S"
lg provisioner enroll-token list
case $(grep "^$ID " "$T/out") in *" revoked "*) ok "  listed as revoked" ;; *) not_ok "  list: $(cat "$T/out")" ;; esac
lg provisioner enroll-token revoke 0123456789abcdef
check "revoke an unknown id: exit 3" 3 "$RC"
sed 's/^/# /' "$T/err"
err_has "no enrollment token"
lg provisioner enroll-token revoke not-an-id
check "revoke something that is no id: exit 1" 1 "$RC"

# --- device list / disable / enable / reenroll ----------------------------------
lg provisioner device list
check "device list: exit 0" 0 "$RC"
case $(grep "^lab-01 " "$T/out") in *" enabled "*) ok "  lab-01 enabled" ;; *) not_ok "  list: $(cat "$T/out")" ;; esac
lg provisioner device disable lab-01
check "device disable lab-01: exit 0" 0 "$RC"
grep -q "device lab-01: disabled" "$T/out" && ok "  says so" || not_ok "  stdout: $(cat "$T/out")"
s=$(as_device "$T/d/lab-01")
case $s in 401|403) ok "  lab-01's next request is refused ($s)" ;; *) not_ok "  lab-01 still accepted: $s" ;; esac
lg provisioner device list --status disabled --json
check "device list --status disabled --json: lab-01" "['lab-01']" "$(field "[x['device'] for x in d['devices']]")"
lg provisioner device list --status enabled
grep -q "^lab-01 " "$T/out" && not_ok "  --status enabled shows lab-01" || ok "  --status enabled does not show it"
lg provisioner device list --status gone
check "device list --status gone: exit 1" 1 "$RC"
lg lab-boss device enable lab-01
check "enable without the enroll right: exit 5" 5 "$RC"
err_has "laps.enroll"
check "  lab-01 still refused" 403 "$(as_device "$T/d/lab-01")"
lg provisioner device enable lab-01
check "device enable lab-01: exit 0" 0 "$RC"
check "  lab-01 accepted again" 404 "$(as_device "$T/d/lab-01")"
lg provisioner device disable lab-99
check "disable an unknown device: exit 3" 3 "$RC"
err_has "no enrolled device"

lg provisioner enroll-token create --unit lab --uses 5 --expires 1h
TOK2=$(cat "$T/out")
enroll_with "$TOK2" "$T/e" lab-01
check "a second enrollment of lab-01 without reenroll: 409" 409 "$S"
lg provisioner device reenroll lab-01
check "device reenroll lab-01: exit 0" 0 "$RC"
lg provisioner device list --json
check "  reenroll_allowed in the list" True "$(field "[x['reenroll_allowed'] for x in d['devices'] if x['device'] == 'lab-01'][0]")"
enroll_with "$TOK2" "$T/e" lab-01
check "then the second enrollment of lab-01: 200" 200 "$S"
check "  its new certificate works" 404 "$(as_device "$T/e/lab-01")"
enroll_with "$TOK2" "$T/f" lab-01
check "  once: a third one is 409" 409 "$S"

# --- another backend ----------------------------------------------------------
printf '%s\n' "[escrow]" "backend = file" "[file]" "dir = $T/files" >"$T/file.conf"
chmod 600 "$T/file.conf"
"$LAPS_GET" -c "$T/file.conf" device list >"$T/out" 2>"$T/err"
check "device list with the file backend: exit 1" 1 "$?"
err_has "backend = rest"

kill "$PID"; wait "$PID" 2>/dev/null; PID=
echo "# $FAILS failure(s)"
[ "$FAILS" -eq 0 ]
