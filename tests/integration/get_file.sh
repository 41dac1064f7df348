#!/bin/sh
# laps-get against the file backend: reading, JSON, history, pending
# records, host lookup, --expire, keys and passphrases, and every error
# exit status.  Records are escrowed with tests/unit/get_mkrecord, which
# writes through the backend API the way the agent does.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/get_lib.sh"
command -v python3 >/dev/null || { echo "python3 missing" >&2; exit 77; }
[ -x "$MKREC" ] || { echo "missing $MKREC" >&2; exit 99; }

# --- keys: admin1 (passphrase), admin2 (none), admin3 (not a recipient)
printf 'correct horse battery\n' >"$T/pass1"
printf 'wrong passphrase\n' >"$T/badpass"
"$LAPS_GET" keygen -o "$T/admin1.key" --comment admin1 --passphrase-fd 3 3<"$T/pass1" >/dev/null 2>&1 || exit 99
"$LAPS_GET" keygen -o "$T/admin2.key" --comment admin2 --no-passphrase >/dev/null 2>&1 || exit 99
"$LAPS_GET" keygen -o "$T/admin3.key" --comment admin3 --no-passphrase >/dev/null 2>&1 || exit 99
id1=$(cut -d' ' -f3 "$T/admin1.key.pub")
id2=$(cut -d' ' -f3 "$T/admin2.key.pub")
id3=$(cut -d' ' -f3 "$T/admin3.key.pub")

mkdir -m 700 "$T/escrow"
cat >"$T/laps-get.conf" <<CONF
[agent]
accounts = lapsadmin root

[escrow]
backend = file
recipients = $T/admin1.key.pub $T/admin2.key.pub
history = 10

[file]
dir = $T/escrow

[laps-get]
key = $T/admin2.key
CONF
chmod 600 "$T/laps-get.conf"
C=$T/laps-get.conf

mk() { # mk DEVICE ACCOUNT PASSWORD [get_mkrecord options]
	local d=$1 a=$2 p=$3
	shift 3
	printf '%s\n' "$p" | "$MKREC" -c "$C" -d "$d" -a "$a" "$@" || exit 99
}
now=$(date +%s)
mk web1 lapsadmin pw-old2 -r $((now - 3000))
mk web1 lapsadmin pw-old1 -r $((now - 2000))
mk web1 lapsadmin 'pw current $1' -r $((now - 1000)) -e $((now + 86400))
mk web1 root root-pw -r $((now - 500))

# --- reading
expect 0 "read the current password" "$LAPS_GET" -c "$C" web1
out_is 'pw current $1'
check "nothing on stderr for a confirmed record" ! -s "$T/err"
expect 0 "host names are case-insensitive" "$LAPS_GET" -c "$C" WEB1
out_is 'pw current $1'
expect 0 "short options" "$LAPS_GET" -c "$C" -k "$T/admin2.key" -a root web1
out_is 'root-pw'
expect 0 "--account" "$LAPS_GET" --config="$C" --account root web1
out_is 'root-pw'
expect 3 "unknown account: not found" "$LAPS_GET" -c "$C" --account nobody web1
expect 3 "unknown host: not found" "$LAPS_GET" -c "$C" nosuchhost
err_has "nosuchhost"

# --- keys and passphrases
expect 0 "protected key, passphrase from a descriptor" \
	"$LAPS_GET" -c "$C" --key "$T/admin1.key" --passphrase-fd 3 web1 3<"$T/pass1"
out_is 'pw current $1'
expect 7 "wrong passphrase" "$LAPS_GET" -c "$C" --key "$T/admin1.key" -P 3 web1 3<"$T/badpass"
check "no password printed on a wrong passphrase" ! -s "$T/out"
if command -v setsid >/dev/null; then
	expect 7 "protected key without a terminal or --passphrase-fd" \
		setsid -w "$LAPS_GET" -c "$C" --key "$T/admin1.key" web1 </dev/null
	err_has "passphrase-fd"
fi
expect 6 "a key that is not a recipient" "$LAPS_GET" -c "$C" --key "$T/admin3.key" web1
err_has "$id3"
err_has "$id1"
err_has "$id2"
expect 2 "missing key file" "$LAPS_GET" -c "$C" --key "$T/nokey" web1
cp "$T/admin2.key" "$T/loose.key"
chmod 644 "$T/loose.key"
expect 2 "group/world-readable key file" "$LAPS_GET" -c "$C" --key "$T/loose.key" web1
expect 1 "--passphrase-fd on a closed descriptor" "$LAPS_GET" -c "$C" -P 9 web1

# --- JSON
expect 0 "--json" "$LAPS_GET" -c "$C" --json web1
cp "$T/out" "$T/j1"
check "json password" "$(json "$T/j1" 'j["password"]')" = 'pw current $1'
check "json host" "$(json "$T/j1" 'j["host"]')" = web1
check "json account" "$(json "$T/j1" 'j["account"]')" = lapsadmin
check "json state" "$(json "$T/j1" 'j["state"]')" = confirmed
check "json source names the backend" "$(json "$T/j1" '"file" in j["source"]')" = True
check "json key_id is the key used" "$(json "$T/j1" 'j["key_id"]')" = "$id2"
check "json rotated (ISO 8601 UTC)" "$(json "$T/j1" 'j["rotated"]')" = "$(date -u -d @$((now - 1000)) +%Y-%m-%dT%H:%M:%SZ)"
check "json expires" "$(json "$T/j1" 'j["expires"]')" = "$(date -u -d @$((now + 86400)) +%Y-%m-%dT%H:%M:%SZ)"
check "json has no history unless asked" "$(json "$T/j1" '"history" in j')" = False

# --- history
expect 0 "--history (all)" "$LAPS_GET" -c "$C" --history web1
check "three rows, newest first" "$(cut -c34- "$T/out" | tr '\n' '|')" = 'pw current $1|pw-old1|pw-old2|'
expect 0 "--history=1" "$LAPS_GET" -c "$C" --history=1 web1
check "two rows" "$(wc -l <"$T/out")" -eq 2
expect 0 "--history 1 HOST (separate word)" "$LAPS_GET" -c "$C" --history 1 web1
check "two rows" "$(wc -l <"$T/out")" -eq 2
expect 0 "--json --history=2" "$LAPS_GET" -c "$C" --json --history=2 web1
cp "$T/out" "$T/j2"
check "json history passwords newest first" "$(json "$T/j2" '",".join(h["password"] for h in j["history"])')" = "pw-old1,pw-old2"
check "json history entries have every field" "$(json "$T/j2" 'sorted(j["history"][0].keys())')" = "['account', 'encrypted', 'expires', 'host', 'key_id', 'password', 'rotated', 'source', 'state']"
expect 1 "--history=0 is a usage error" "$LAPS_GET" -c "$C" --history=0 web1

# --- a pending record: the new and the previous password
mk web1 lapsadmin pw-pending -r $((now - 100)) -s pending
expect 0 "pending record" "$LAPS_GET" -c "$C" web1
out_is "pw-pending
pw current \$1"
err_has "either may be active"
check "one sentence on stderr" "$(wc -l <"$T/err")" -eq 1
expect 0 "pending record, JSON" "$LAPS_GET" -c "$C" --json web1
cp "$T/out" "$T/j3"
check "json state pending" "$(json "$T/j3" 'j["state"]')" = pending
check "json previous password" "$(json "$T/j3" 'j["previous"]["password"]')" = 'pw current $1'
check "json previous state" "$(json "$T/j3" 'j["previous"]["state"]')" = confirmed
mk lonely lapsadmin first-pending -s pending
expect 0 "pending record without a previous one" "$LAPS_GET" -c "$C" lonely
out_is first-pending
err_has "pending"

# --- host lookup
mk db.example.com lapsadmin pw-com
mk db.example.org lapsadmin pw-org
mk app.example.com lapsadmin pw-app
expect 4 "several hosts match" "$LAPS_GET" -c "$C" db
err_has "db.example.com"
err_has "db.example.org"
check "nothing on stdout" ! -s "$T/out"
expect 0 "a short name matching one FQDN" "$LAPS_GET" -c "$C" APP
out_is pw-app
expect 0 "a full name" "$LAPS_GET" -c "$C" db.example.org
out_is pw-org

# --- corrupt records
mk tampered lapsadmin pw-t --tamper
expect 8 "a record moved between hosts does not open" "$LAPS_GET" -c "$C" tampered
check "no password printed" ! -s "$T/out"
mk garbled lapsadmin pw-g
printf '{"not": "a record"' >"$T/escrow/garbled/lapsadmin.json"
expect 8 "a malformed record" "$LAPS_GET" -c "$C" garbled

# --- --expire
expect 0 "--expire (now)" "$LAPS_GET" -c "$C" --expire web1
err_has "web1/lapsadmin"
check "nothing on stdout" ! -s "$T/out"
e=$("$MKREC" -c "$C" -d web1 -a lapsadmin --show-expiry)
check "expiry is now" "$e" -le "$(date +%s)"
check "expiry is not in the past by much" "$e" -ge "$now"
expect 0 "--expire=+2h" "$LAPS_GET" -c "$C" --expire=+2h --account root WEB1
e=$("$MKREC" -c "$C" -d web1 -a root --show-expiry)
check "expiry is two hours ahead" "$e" -ge $((now + 7200))
check "expiry is two hours ahead (upper bound)" "$e" -le $(($(date +%s) + 7200))
expect 0 "--expire=ISO" "$LAPS_GET" -c "$C" --expire=2030-01-31T12:00:00Z web1
e=$("$MKREC" -c "$C" -d web1 -a lapsadmin --show-expiry)
check "expiry is the given time" "$e" = 1896091200
err_has "2030-01-31T12:00:00Z"
expect 0 "--expire=now" "$LAPS_GET" -c "$C" -e"now" web1
expect 1 "--expire=garbage" "$LAPS_GET" -c "$C" --expire=yesterday web1
err_has "yesterday"
expect 1 "--expire with a bad date, before any lookup" "$LAPS_GET" -c "$C" --expire=2026-13-01 nosuchhost
expect 3 "--expire on an unknown host" "$LAPS_GET" -c "$C" --expire nosuchhost
expect 1 "--expire with --json" "$LAPS_GET" -c "$C" --expire --json web1

# --- configuration
expect 2 "missing configuration file" "$LAPS_GET" -c "$T/nope.conf" web1
cp "$C" "$T/gw.conf"
chmod 664 "$T/gw.conf"
expect 2 "group-writable configuration" "$LAPS_GET" -c "$T/gw.conf" web1
err_has "writable"
printf '[escrow]\nbackend = file\nbogus = 1\n' >"$T/bad.conf"
chmod 600 "$T/bad.conf"
expect 2 "unknown key in the configuration" "$LAPS_GET" -c "$T/bad.conf" web1
err_has "bogus"
expect 2 "unknown backend via --source" "$LAPS_GET" -c "$C" --source nosuch web1
expect 0 "--source file" "$LAPS_GET" -c "$C" --source file web1

# default files: ~/.config/laps/laps-get.conf and ~/.config/laps/admin.key
mkdir -p "$T/home/.config/laps"
grep -v '^key = ' "$C" >"$T/home/.config/laps/laps-get.conf"
chmod 600 "$T/home/.config/laps/laps-get.conf"
cp -p "$T/admin2.key" "$T/home/.config/laps/admin.key"
expect 0 "default configuration and key under HOME" env HOME="$T/home" "$LAPS_GET" web1
out_is "pw-pending
pw current \$1"

# --- usage
expect 1 "no host" "$LAPS_GET" -c "$C"
expect 1 "two hosts" "$LAPS_GET" -c "$C" web1 web2
expect 1 "unknown option" "$LAPS_GET" -c "$C" --frobnicate web1
expect 0 "--help" "$LAPS_GET" --help
check "--help lists --expire" "$(grep -c -- --expire "$T/out")" -ge 1
expect 0 "--version" "$LAPS_GET" --version
check "--version prints the name" "$(cut -d' ' -f1 "$T/out")" = laps-get

finish
