#!/bin/sh
# laps-get expire against a real slapd (the LDAP side of bulk expiry): the
# ldap backend has no server-side bulk operation, so laps-get filters the
# backend's report (a paged search: the directory's size limit, 40, is
# smaller than its 300 device entries) and sets each expiry with one
# modify.  The count and the list come first; --dry-run changes nothing;
# without --yes and with a standard input that is not a terminal it
# refuses; --yes expires exactly the matched accounts and nothing else.
# Skips (77) without slapd/slapadd.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/get_lib.sh"
command -v python3 >/dev/null || { echo "python3 missing" >&2; exit 77; }
GEN=$top_builddir/bench/bench_report_ldif
[ -x "$GEN" ] || { echo "missing $GEN (make)" >&2; exit 99; }
lib=$top_srcdir/tests/integration/lib/slapd.sh
[ -r "$lib" ] || { echo "no slapd harness" >&2; exit 77; }
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

N=300 LIMIT=40
"$LAPS_GET" keygen -o "$T/admin.key" --no-passphrase >/dev/null 2>&1 || exit 99
now=$(date +%s)
"$GEN" -n "$N" -s laps -k "$T/admin.key.pub" -o fleet -t "$now" >"$T/fleet.ldif" 2>"$T/gen.err" ||
	{ cat "$T/gen.err" >&2; exit 99; }
slapd_start "$T/slapd" --quiet --size-limit "$LIMIT" --ldif "$T/fleet.ldif"
src=$?
[ "$src" -eq 0 ] || exit "$src"
cat >"$T/laps.conf" <<CONF
[agent]
accounts = lapsadmin
[escrow]
backend = ldap
[ldap]
uri = $LDAP_URI
tls = starttls
ca_file = $LDAP_CA
bind = simple
bind_dn = $LDAP_READER_DN
bind_secret_file = $LDAP_READER_SECRET
base = ou=fleet,$LDAP_BASE
filter = (cn=%h)
schema = laps
CONF
chmod 600 "$T/laps.conf"

snapshot() { # device expires, every row, from laps-get report --json
	"$LAPS_GET" report -c "$T/laps.conf" --json >"$T/rep.json" 2>/dev/null
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))
for r in sorted(j["rows"], key=lambda r: r["device"]): print(r["device"], r["expires"])' "$T/rep.json"
}
snapshot >"$T/before"
check "the report lists all $N devices (paged past the size limit)" "$(wc -l <"$T/before")" -eq "$N"
# r0000200..r0000299: 100 devices, 90 with a record (every tenth is "never")
want=90

expect 0 "expire --dry-run" "$LAPS_GET" -c "$T/laps.conf" expire --filter 'name=r00002??' --dry-run
check "dry run: the count first" "$(head -n1 "$T/out")" = "$want accounts would be expired (dry run: nothing changed)"
check "dry run: the list" "$(grep -c '^r00002' "$T/out")" -eq "$want"
snapshot >"$T/after"
check "dry run: nothing changed" "$(cmp -s "$T/before" "$T/after" && echo same)" = same

expect 1 "without --yes, stdin not a terminal: refused" \
	"$LAPS_GET" -c "$T/laps.conf" expire --filter 'name=r00002??' </dev/null
check "  the count was shown first" "$(head -n1 "$T/out")" = "$want accounts match"
check "  the refusal says why" "$(grep -c 'without --yes' "$T/err")" -eq 1
snapshot >"$T/after"
check "  nothing changed" "$(cmp -s "$T/before" "$T/after" && echo same)" = same

t0=$(date -u +%Y-%m-%dT%H:%M:%SZ)
expect 0 "--yes" "$LAPS_GET" -c "$T/laps.conf" expire --filter 'name=r00002??' --yes </dev/null
t1=$(date -u +%Y-%m-%dT%H:%M:%SZ)
check "  expired $want" "$(tail -n1 "$T/out")" = "expired $want accounts: their agents rotate at their next run"
snapshot >"$T/after"
check "  the $want matched now expire at the run's time" \
	"$(awk -v a="$t0" -v b="$t1" '$1 ~ /^r00002/ && $2 >= a && $2 <= b' "$T/after" | wc -l)" -eq "$want"
check "  every other device is unchanged" \
	"$(grep -v '^r00002' "$T/before" | cmp -s - <(grep -v '^r00002' "$T/after") && echo same)" = same
expect 1 "--filter unit= on ldap: refused (no units in a directory)" \
	"$LAPS_GET" -c "$T/laps.conf" expire --filter unit=lab --dry-run
finish
