#!/bin/sh
# laps-get --source graph against a local HTTPS stand-in for Microsoft Graph
# (tests/fixtures/graph_fixture.py): token, lookup, both response shapes,
# UTF-16LE passwords, history, quoting, and every error case.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/get_lib.sh"
command -v python3 >/dev/null || { echo "python3 missing" >&2; exit 77; }
command -v openssl >/dev/null || { echo "openssl missing" >&2; exit 77; }
FIXTURE=$top_srcdir/tests/fixtures/graph_fixture.py

# a throw-away server certificate for 127.0.0.1, and an unrelated one
for n in server other; do
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
		-addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$T/$n.key" -out "$T/$n.crt" >/dev/null 2>&1 || exit 99
done

printf 'the-client-secret~&=+\n' >"$T/secret"
chmod 600 "$T/secret"
python3 "$FIXTURE" --cert "$T/server.crt" --key "$T/server.key" --client-id laps-app \
	--client-secret-file "$T/secret" --log "$T/requests.log" >"$T/port" 2>"$T/fixture.err" &
fixture_pid=$!
on_exit "kill $fixture_pid 2>/dev/null; wait $fixture_pid 2>/dev/null"
for _ in $(seq 100); do
	[ -s "$T/port" ] && break
	kill -0 "$fixture_pid" 2>/dev/null || { cat "$T/fixture.err" >&2; exit 99; }
	sleep 0.1
done
port=$(head -n1 "$T/port")
[ -n "$port" ] || { echo "fixture did not start" >&2; exit 99; }

mkconf() { # mkconf FILE [ca] [secret file] [url]
	cat >"$1" <<CONF
[graph]
url = ${4:-https://127.0.0.1:$port/v1.0}
token_url = https://127.0.0.1:$port/token
client_id = laps-app
client_secret_file = ${3:-$T/secret}
ca_file = ${2:-$T/server.crt}
timeout = 10s
CONF
	chmod 600 "$1"
}
mkconf "$T/g.conf"
C=$T/g.conf

expect 0 "wrapped response: the newest password" "$LAPS_GET" -c "$C" --source graph pc-wrapped
out_is Wrapped-New
check "the token request carried the client credentials" \
	"$(grep -c '^POST /token client_id=laps-app secret_ok=True' "$T/requests.log")" -ge 1
check "the device name was escaped and encoded" \
	"$(grep -cF "GET /v1.0/directory/deviceLocalCredentials?\$filter=deviceName%20eq%20%27pc-wrapped%27" "$T/requests.log")" -eq 1
check "credentials were asked for with \$select" \
	"$(grep -cF 'GET /v1.0/directory/deviceLocalCredentials/11111111-1111-1111-1111-111111111111?$select=credentials' "$T/requests.log")" -eq 1

expect 0 "--account picks the account" "$LAPS_GET" -c "$C" -s graph --account localops PC-Wrapped
out_is Ops-Pass
expect 0 "--json --history" "$LAPS_GET" -c "$C" -s graph --account Administrator --json --history PC-Wrapped
cp "$T/out" "$T/j"
check "json password" "$(json "$T/j" 'j["password"]')" = Wrapped-New
check "json host" "$(json "$T/j" 'j["host"]')" = PC-Wrapped
check "json account" "$(json "$T/j" 'j["account"]')" = Administrator
check "json rotated" "$(json "$T/j" 'j["rotated"]')" = 2026-02-10T08:00:00Z
check "json expires = refreshDateTime" "$(json "$T/j" 'j["expires"]')" = 2026-03-01T00:00:00Z
check "json state" "$(json "$T/j" 'j["state"]')" = confirmed
check "json source" "$(json "$T/j" '"graph" in j["source"]')" = True
check "json key_id is null" "$(json "$T/j" 'j["key_id"]')" = None
check "json history newest first" "$(json "$T/j" '",".join(h["password"] for h in j["history"])')" = "Wrapped-Old-1,Wrapped-Old-2"
expect 0 "--history=1 (text)" "$LAPS_GET" -c "$C" -s graph -a administrator --history=1 pc-wrapped
check "two rows" "$(wc -l <"$T/out")" -eq 2
check "second row is the older password" "$(sed -n 2p "$T/out" | cut -c34-)" = Wrapped-Old-1

expect 0 "flat response" "$LAPS_GET" -c "$C" -s graph pc-flat
out_is Flat-Pass
expect 0 "UTF-16LE password" "$LAPS_GET" -c "$C" -s graph pc-utf16
out_is Utf16-Pass
expect 0 "a quote in the device name" "$LAPS_GET" -c "$C" -s graph "O'Brien"
out_is Quote-Pass
check "the quote was doubled and encoded (names are asked lower-case)" \
	"$(grep -cF 'deviceName%20eq%20%27o%27%27brien%27' "$T/requests.log")" -eq 1

# errors
expect 3 "device not found" "$LAPS_GET" -c "$C" -s graph pc-nowhere
err_has "pc-nowhere"
expect 3 "account not found" "$LAPS_GET" -c "$C" -s graph -a nobody pc-flat
expect 4 "several devices" "$LAPS_GET" -c "$C" -s graph pc-dup
err_has "88888888-8888-8888-8888-888888888881"
err_has "88888888-8888-8888-8888-888888888882"
expect 5 "403 from Graph" "$LAPS_GET" -c "$C" -s graph pc-403
err_has "403"
expect 5 "401 from Graph" "$LAPS_GET" -c "$C" -s graph pc-401
expect 8 "malformed JSON" "$LAPS_GET" -c "$C" -s graph pc-badjson
check "no password printed" ! -s "$T/out"
expect 8 "oddly typed fields" "$LAPS_GET" -c "$C" -s graph pc-badtype
expect 8 "oversized response" "$LAPS_GET" -c "$C" -s graph pc-huge
expect 1 "--expire is refused (read-only)" "$LAPS_GET" -c "$C" -s graph --expire pc-flat

printf 'not-the-secret\n' >"$T/badsecret"
chmod 600 "$T/badsecret"
mkconf "$T/badsecret.conf" "$T/server.crt" "$T/badsecret"
expect 5 "wrong client secret" "$LAPS_GET" -c "$T/badsecret.conf" -s graph pc-flat
err_has "Invalid client secret"
chmod 644 "$T/badsecret"
expect 2 "client secret file readable by others" "$LAPS_GET" -c "$T/badsecret.conf" -s graph pc-flat
mkconf "$T/nosecret.conf" "$T/server.crt" "$T/missing-secret"
expect 2 "missing client secret file" "$LAPS_GET" -c "$T/nosecret.conf" -s graph pc-flat

mkconf "$T/wrongca.conf" "$T/other.crt"
expect 9 "a certificate from the wrong CA is refused" "$LAPS_GET" -c "$T/wrongca.conf" -s graph pc-flat
check "no password printed" ! -s "$T/out"

# a port where nothing listens
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed "s/127.0.0.1:$port/127.0.0.1:$dead/" "$C" >"$T/dead.conf"
chmod 600 "$T/dead.conf"
expect 9 "unreachable" "$LAPS_GET" -c "$T/dead.conf" -s graph pc-flat

printf '[graph]\nclient_id = x\n' >"$T/incomplete.conf"
chmod 600 "$T/incomplete.conf"
expect 2 "incomplete [graph] section" "$LAPS_GET" -c "$T/incomplete.conf" -s graph pc-flat
err_has "token_url"

finish
