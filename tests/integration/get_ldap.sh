#!/bin/sh
# laps-get against a real slapd (tests/integration/lib/slapd.sh) in the three
# schema modes: laps (sealed records, history), mslaps (msLAPS-Password JSON)
# and legacy (ms-Mcs-AdmPwd).  Records are written as the device itself
# (tests/unit/get_mkrecord binds with the device's own entry); laps-get binds
# as a member of the readers group.  Skips (77) without slapd/slapadd.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/get_lib.sh"
command -v python3 >/dev/null || { echo "python3 missing" >&2; exit 77; }
[ -x "$MKREC" ] || { echo "missing $MKREC" >&2; exit 99; }
lib=$top_srcdir/tests/integration/lib/slapd.sh
[ -r "$lib" ] || { echo "no slapd harness" >&2; exit 77; }
# the LDAP backend must be compiled in (backends/registry.c)
printf '[escrow]\nbackend = ldap\n' >"$T/probe.conf"
chmod 600 "$T/probe.conf"
run "$LAPS_GET" -c "$T/probe.conf" probe
if grep -q "unknown backend" "$T/err"; then
	echo "the ldap backend is not registered in this build" >&2
	exit 77
fi
: "${SLAPD_KEEP:=}"
. "$lib"
on_exit slapd_cleanup
slapd_start "$T/slapd" --quiet
src=$?
[ "$src" -eq 0 ] || exit "$src"

"$LAPS_GET" keygen -o "$T/admin.key" --no-passphrase >/dev/null 2>&1 || exit 99
"$LAPS_GET" keygen -o "$T/other.key" --no-passphrase >/dev/null 2>&1 || exit 99

ldap_section() { # SCHEMA BIND_DN SECRET [URI] [CA]
	cat <<CONF
[ldap]
uri = ${4:-$LDAP_URI}
tls = starttls
ca_file = ${5:-$LDAP_CA}
bind = simple
bind_dn = $2
bind_secret_file = $3
base = $LDAP_DEVICES_BASE
schema = $1
timeout = 10s
CONF
}

# get_mkrecord's configuration: as the device HOST itself
agent_conf() { # SCHEMA HOST
	local f=$T/agent-$1-$2.conf
	{
		printf '[agent]\naccounts = lapsadmin\nstate_dir = %s\n\n[escrow]\nbackend = ldap\nrecipients = %s\nhistory = 5\n\n' "$T/state" "$T/admin.key.pub"
		ldap_section "$1" "$(slapd_device_dn "$2")" "$(slapd_device_secret "$2")"
	} >"$f"
	chmod 600 "$f"
	echo "$f"
}

# laps-get's configuration: as the reader
get_conf() { # SCHEMA [BIND_DN SECRET [URI [CA]]]
	local f=$T/get-$1-$RANDOM.conf
	{
		printf '[agent]\naccounts = lapsadmin\n\n[escrow]\nbackend = ldap\nhistory = 5\n\n'
		printf '[laps-get]\nkey = %s\n\n' "$T/admin.key"
		ldap_section "$1" "${2:-$LDAP_READER_DN}" "${3:-$LDAP_READER_SECRET}" "${4:-}" "${5:-}"
	} >"$f"
	chmod 600 "$f"
	echo "$f"
}

mk() { # mk SCHEMA HOST PASSWORD [get_mkrecord options]
	local s=$1 h=$2 p=$3
	shift 3
	printf '%s\n' "$p" | "$MKREC" -c "$(agent_conf "$s" "$h")" -d "$h" -a lapsadmin "$@" || exit 99
}

mkdir -m 700 "$T/state"
now=$(date +%s)

# ------------------------------------------------------------ schema laps
G=$(get_conf laps)
mk laps host1 laps-old2 -r $((now - 3000))
mk laps host1 laps-old1 -r $((now - 2000))
mk laps host1 laps-current -r $((now - 1000))
expect 0 "laps: read" "$LAPS_GET" -c "$G" host1
out_is laps-current
expect 0 "laps: an FQDN in another case" "$LAPS_GET" -c "$G" HOST1.example.TEST
out_is laps-current
expect 0 "laps: --json --history" "$LAPS_GET" -c "$G" --json --history host1
cp "$T/out" "$T/j"
check "laps: json source" "$(json "$T/j" 'j["source"]')" = "ldap (schema laps)"
check "laps: json key_id" "$(json "$T/j" 'j["key_id"]')" = "$(cut -d' ' -f3 "$T/admin.key.pub")"
check "laps: json history newest first" "$(json "$T/j" '",".join(h["password"] for h in j["history"])')" = "laps-old1,laps-old2"
mk laps host1 laps-pending -r $((now - 100)) -s pending
expect 0 "laps: pending shows both" "$LAPS_GET" -c "$G" host1
out_is "laps-pending
laps-current"
err_has "either may be active"
expect 6 "laps: not a recipient" "$LAPS_GET" -c "$G" --key "$T/other.key" host1
err_has "$(cut -d' ' -f3 "$T/admin.key.pub")"
expect 0 "laps: --expire" "$LAPS_GET" -c "$G" --expire=2030-01-31T12:00:00Z host1
check "laps: the device sees the new expiry" \
	"$("$MKREC" -c "$(agent_conf laps host1)" -d host1 -a lapsadmin --show-expiry)" = 1896091200
expect 3 "laps: a host without a record" "$LAPS_GET" -c "$G" host3
expect 3 "laps: no such host" "$LAPS_GET" -c "$G" nosuchhost

# two entries matching one short name
slapd_ldapmodify -a >/dev/null <<LDIF || exit 99
dn: cn=web,$LDAP_DEVICES_BASE
objectClass: device
objectClass: simpleSecurityObject
objectClass: lapsDevice
objectClass: lapsMsCompat
cn: web
dNSHostName: web.a.test
userPassword: x

dn: cn=web-b,$LDAP_DEVICES_BASE
objectClass: device
objectClass: simpleSecurityObject
objectClass: lapsDevice
objectClass: lapsMsCompat
cn: web-b
dNSHostName: web.b.test
userPassword: x
LDIF
expect 4 "several hosts match" "$LAPS_GET" -c "$G" web
err_has "web-b"

# ------------------------------------------------------------ schema mslaps
G=$(get_conf mslaps)
mk mslaps host2 ms-first -r $((now - 2000))
mk mslaps host2 'ms-current"{x}' -r $((now - 1000)) -e $((now + 3600))
expect 0 "mslaps: read the clear-text password" "$LAPS_GET" -c "$G" host2
out_is 'ms-current"{x}'
expect 0 "mslaps: --json" "$LAPS_GET" -c "$G" --json --key "$T/nokey" host2
cp "$T/out" "$T/j"
check "mslaps: json source" "$(json "$T/j" 'j["source"]')" = "ldap (schema mslaps)"
check "mslaps: json key_id is null" "$(json "$T/j" 'j["key_id"]')" = None
check "mslaps: json rotated" "$(json "$T/j" 'j["rotated"]')" = "$(date -u -d @$((now - 1000)) +%Y-%m-%dT%H:%M:%SZ)"
check "mslaps: json expires" "$(json "$T/j" 'j["expires"]')" = "$(date -u -d @$((now + 3600)) +%Y-%m-%dT%H:%M:%SZ)"
check "mslaps: json state" "$(json "$T/j" 'j["state"]')" = confirmed
expect 0 "mslaps: --expire" "$LAPS_GET" -c "$G" --expire=2030-01-31T12:00:00Z host2
check "mslaps: the device sees the new expiry" \
	"$("$MKREC" -c "$(agent_conf mslaps host2)" -d host2 -a lapsadmin --show-expiry)" = 1896091200
mk mslaps host2 ms-pending -s pending
expect 0 "mslaps: pending" "$LAPS_GET" -c "$G" host2
check "mslaps: the pending password first" "$(head -n1 "$T/out")" = ms-pending
err_has "pending"
expect 0 "mslaps: pending, JSON" "$LAPS_GET" -c "$G" --json host2
cp "$T/out" "$T/j"
check "mslaps: json state pending" "$(json "$T/j" 'j["state"]')" = pending
check "mslaps: json previous says why it is missing" "$(json "$T/j" '"history" in j["previous"]["error"]')" = True
expect 0 "mslaps: --history" "$LAPS_GET" -c "$G" --history host2
err_has "keeps no history"

# ------------------------------------------------------------ schema legacy
G=$(get_conf legacy)
mk legacy host3 legacy-pw -r $((now - 1000)) -e $((now + 7200))
expect 0 "legacy: read" "$LAPS_GET" -c "$G" host3
out_is legacy-pw
expect 0 "legacy: --json" "$LAPS_GET" -c "$G" --json host3
cp "$T/out" "$T/j"
check "legacy: json source" "$(json "$T/j" 'j["source"]')" = "ldap (schema legacy)"
check "legacy: json expires" "$(json "$T/j" 'j["expires"]')" = "$(date -u -d @$((now + 7200)) +%Y-%m-%dT%H:%M:%SZ)"
expect 0 "legacy: --expire=+2h" "$LAPS_GET" -c "$G" --expire=+2h host3
e=$("$MKREC" -c "$(agent_conf legacy host3)" -d host3 -a lapsadmin --show-expiry)
check "legacy: expiry two hours ahead" "$e" -ge $((now + 7200))

# ------------------------------------------------------------ access and transport
G=$(get_conf laps "$LDAP_READER_DN" "$LDAP_OUTSIDER_SECRET")
expect 5 "wrong bind secret: not authorised" "$LAPS_GET" -c "$G" host1
G=$(get_conf laps "$LDAP_OUTSIDER_DN" "$LDAP_OUTSIDER_SECRET")
run "$LAPS_GET" -c "$G" host1
ntests=$((ntests + 1))
if [ "$rc" = 3 ] || [ "$rc" = 5 ]; then echo "ok: an outsider gets nothing (exit $rc)"; else fail "outsider: exit $rc"; fi
check "an outsider sees no password" ! -s "$T/out"
G=$(get_conf laps "$LDAP_OUTSIDER_DN" "$LDAP_OUTSIDER_SECRET")
run "$LAPS_GET" -c "$G" --expire host1
ntests=$((ntests + 1))
if [ "$rc" = 3 ] || [ "$rc" = 5 ]; then echo "ok: an outsider cannot expire (exit $rc)"; else fail "outsider --expire: exit $rc"; fi
G=$(get_conf laps "$LDAP_READER_DN" "$LDAP_READER_SECRET" "$LDAP_DEAD_URI")
expect 9 "directory unreachable" "$LAPS_GET" -c "$G" host1
G=$(get_conf laps "$LDAP_READER_DN" "$LDAP_READER_SECRET" "$LDAP_URI" "$LDAP_WRONG_CA")
expect 9 "a server certificate from the wrong CA" "$LAPS_GET" -c "$G" host1
check "no password printed" ! -s "$T/out"

finish
