#!/bin/sh
# laps-get report against a real slapd whose size limit (40 entries per
# search) is smaller than the number of device entries: 300 laps-schema
# devices and 120 mslaps devices, loaded with slapadd from LDIF written by
# bench/bench_report_ldif (real records, the password sealed to an admin
# key; times set so that device rN is ok when N % 10 is 0-5, due at 6,
# overdue at 7, stuck at 8, never at 9).  The paged search must return
# every row in the table, --csv and --json, each with its status, and the
# exit status must follow; a plain ldapsearch proves the limit bites.
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

N=300 MSN=120 LIMIT=40
"$LAPS_GET" keygen -o "$T/admin.key" --no-passphrase >/dev/null 2>&1 || exit 99
now=$(date +%s)
{
	"$GEN" -n "$N" -s laps -k "$T/admin.key.pub" -o fleet -t "$now" &&
		"$GEN" -n "$MSN" -s mslaps -o ms -t "$now" &&
		"$GEN" -n 5 -s laps -k "$T/admin.key.pub" -o healthy -t "$now"
} >"$T/fleet.ldif" 2>"$T/gen.err" || { cat "$T/gen.err" >&2; exit 99; }
slapd_start "$T/slapd" --quiet --size-limit "$LIMIT" --ldif "$T/fleet.ldif"
src=$?
[ "$src" -eq 0 ] || exit "$src"

conf() { # FILE OU SCHEMA
	cat >"$1" <<CONF
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
base = ou=$2,$LDAP_BASE
filter = (cn=%h)
schema = $3
CONF
	chmod 600 "$1"
}
conf "$T/laps.conf" fleet laps
conf "$T/ms.conf" ms mslaps
conf "$T/healthy.conf" healthy laps

# The size limit really is smaller than the directory: an unpaged search
# as the same reader stops at it (LDAP 4, sizeLimitExceeded).
if command -v ldapsearch >/dev/null; then
	head -n1 "$LDAP_READER_SECRET" | tr -d '\n' >"$T/reader.pw"
	chmod 600 "$T/reader.pw"
	rc=0
	LDAPTLS_CACERT=$LDAP_CA ldapsearch -LLL -x -ZZ -H "$LDAP_URI" -D "$LDAP_READER_DN" \
		-y "$T/reader.pw" -b "ou=fleet,$LDAP_BASE" '(objectClass=lapsDevice)' cn \
		>"$T/plain" 2>&1 || rc=$?
	check "an unpaged search hits the size limit" "$rc" -eq 4
	check "... after $LIMIT entries" "$(grep -c '^dn:' "$T/plain")" -eq "$LIMIT"
fi

# expected "device status" lines for N devices r0000001..
expected() {
	awk -v n="$1" 'BEGIN {
		split("ok ok ok ok ok ok due overdue stuck never", k, " ")
		for (i = 1; i <= n; i++) printf "r%07d %s\n", i, k[i % 10 + 1]
	}'
}
summary() { # WANT-FILE -> the table's summary line
	awk '{ c[$2]++ } END { printf "%d entries: %d ok, %d due, %d overdue, %d stuck, %d never\n",
		NR, c["ok"], c["due"], c["overdue"], c["stuck"], c["never"] }' "$1"
}

for mode in laps ms; do
	[ $mode = laps ] && n=$N || n=$MSN
	expected "$n" >"$T/want.$mode"

	expect 11 "$mode: table, overdue and stuck devices: exit 11" "$LAPS_GET" report -c "$T/$mode.conf"
	check "$mode: table: every device past the size limit, each with its status" \
		"$(sed '1d;$d' "$T/out" | awk '{ print $1, $NF }' | sort | cmp - "$T/want.$mode" && echo same)" = same
	check "$mode: table: summary" "$(tail -n1 "$T/out")" = "$(summary "$T/want.$mode")"
	check "$mode: table: problems first (stuck)" "$(sed -n 2p "$T/out" | awk '{ print $NF }')" = stuck
	check "$mode: table: ok rows last" "$(sed '$d' "$T/out" | tail -n1 | awk '{ print $NF }')" = ok

	expect 11 "$mode: --csv: exit 11" "$LAPS_GET" report -c "$T/$mode.conf" --csv
	check "$mode: csv: every device with its status" \
		"$(tail -n +2 "$T/out" | awk -F, '{ print $1, $6 }' | sort | cmp - "$T/want.$mode" && echo same)" = same

	expect 11 "$mode: --json: exit 11" "$LAPS_GET" report -c "$T/$mode.conf" --json
	check "$mode: json: every device with its status" \
		"$(json "$T/out" '"\n".join(sorted(r["device"] + " " + r["status"] for r in j["rows"]))' | cmp - "$T/want.$mode" && echo same)" = same
	check "$mode: json: summary total" "$(json "$T/out" 'j["summary"]["total"]')" -eq "$n"
	check "$mode: json: never rows have no record" \
		"$(json "$T/out" 'sorted(set((r["account"], r["state"]) for r in j["rows"] if r["status"] == "never"))')" = "[(None, None)]"
	check "$mode: json: stuck rows are pending" \
		"$(json "$T/out" 'sorted(set(r["state"] for r in j["rows"] if r["status"] == "stuck"))')" = "['pending']"

	expect 11 "$mode: --status overdue,stuck" "$LAPS_GET" report -c "$T/$mode.conf" --status overdue,stuck --csv
	check "$mode: filtered: only overdue and stuck, all of them" \
		"$(tail -n +2 "$T/out" | awk -F, '{ print $1, $6 }' | sort | cmp - <(grep -E ' (overdue|stuck)$' "$T/want.$mode") && echo same)" = same
done

expect 0 "only ok devices: exit 0" "$LAPS_GET" report -c "$T/healthy.conf"
check "healthy: summary" "$(tail -n1 "$T/out")" = "5 entries: 5 ok, 0 due, 0 overdue, 0 stuck, 0 never"
check "no warning on a clean run" ! -s "$T/err"

finish
