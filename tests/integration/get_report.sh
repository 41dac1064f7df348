#!/bin/sh
# laps-get report against the file backend: records whose times are set
# explicitly put one account in every status (ok, due, overdue, stuck,
# never); the table, --json and --csv list each with the right status, the
# exit status follows overdue/stuck, --status filters, --grace moves the
# line, and no private key is ever needed.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/get_lib.sh"
command -v python3 >/dev/null || { echo "python3 missing" >&2; exit 77; }
[ -x "$MKREC" ] || { echo "missing $MKREC" >&2; exit 99; }

"$LAPS_GET" keygen -o "$T/admin.key" --no-passphrase >/dev/null 2>&1 || exit 99
mkdir -m 700 "$T/escrow"
cat >"$T/c.conf" <<CONF
[escrow]
backend = file
recipients = $T/admin.key.pub

[file]
dir = $T/escrow

[laps-get]
key = $T/nonexistent.key
CONF
chmod 600 "$T/c.conf"
C=$T/c.conf
mk() { # mk DEVICE ACCOUNT [get_mkrecord options]
	local d=$1 a=$2
	shift 2
	printf 'pw\n' | "$MKREC" -c "$C" -d "$d" -a "$a" "$@" || exit 99
}
now=$(date +%s)
day=86400
mk ok1 lapsadmin -r $((now - 600)) -e $((now + 30 * day))
mk ok1 root -r $((now - 600)) -e $((now + 30 * day))
mk due1 lapsadmin -r $((now - 31 * day)) -e $((now - 3600))
mk over1 lapsadmin -r $((now - 40 * day)) -e $((now - 10 * day))
mk over2 lapsadmin -r $((now - 33 * day)) -e $((now - 3 * day))
mk stuck1 lapsadmin -r $((now - 2 * day)) -s pending
mk rotating1 lapsadmin -r $((now - 60)) -s pending
mkdir -m 700 "$T/escrow/never1"

# --- table
expect 11 "overdue and stuck accounts: exit status 11" "$LAPS_GET" report -c "$C"
cp "$T/out" "$T/table"
status_of() { awk -v d="$1" -v a="$2" '$1 == d && $2 == a { print $NF }' "$T/table"; }
check "ok account" "$(status_of ok1 lapsadmin)" = ok
check "second account of a device" "$(status_of ok1 root)" = ok
check "due account" "$(status_of due1 lapsadmin)" = due
check "overdue account" "$(status_of over1 lapsadmin)" = overdue
check "stuck account" "$(status_of stuck1 lapsadmin)" = stuck
check "a rotation pending within the grace is ok" "$(status_of rotating1 lapsadmin)" = ok
check "device without a record" "$(status_of never1 -)" = never
check "header line" "$(head -n1 "$T/table" | tr -s ' ')" = "DEVICE ACCOUNT STATE ROTATED EXPIRES STATUS"
check "problems first: stuck, then the newest overdue" \
	"$(sed -n '2,4p' "$T/table" | awk '{print $1}' | tr '\n' ' ')" = "stuck1 over2 over1 "
check "aligned: the STATUS column starts at the same offset on every row" \
	"$(sed '$d' "$T/table" | awk '{ print length($0) - length($NF) }' | sort -u | wc -l)" -eq 1
check "one-line summary" "$(tail -n1 "$T/table")" = "8 entries: 3 ok, 1 due, 2 overdue, 1 stuck, 1 never"
check "times are ISO 8601 UTC" "$(awk '$1 == "due1" { print $5 }' "$T/table")" = \
	"$(date -u -d @$((now - 3600)) +%Y-%m-%dT%H:%M:%SZ)"
check "no key was needed (the configured one does not exist)" ! -s "$T/err"

# --- JSON
expect 11 "--json" "$LAPS_GET" report -c "$C" --json
cp "$T/out" "$T/j"
check "json: every row" "$(json "$T/j" 'len(j["rows"])')" -eq 8
check "json: statuses" "$(json "$T/j" '",".join(sorted(r["device"] + "/" + (r["account"] or "-") + "=" + r["status"] for r in j["rows"]))')" = \
	"due1/lapsadmin=due,never1/-=never,ok1/lapsadmin=ok,ok1/root=ok,over1/lapsadmin=overdue,over2/lapsadmin=overdue,rotating1/lapsadmin=ok,stuck1/lapsadmin=stuck"
check "json: never has null fields" "$(json "$T/j" '[r for r in j["rows"] if r["device"] == "never1"][0]["rotated"]')" = None
check "json: state" "$(json "$T/j" '[r for r in j["rows"] if r["device"] == "stuck1"][0]["state"]')" = pending
check "json: expires" "$(json "$T/j" '[r for r in j["rows"] if r["device"] == "over1"][0]["expires"]')" = \
	"$(date -u -d @$((now - 10 * day)) +%Y-%m-%dT%H:%M:%SZ)"
check "json: summary" "$(json "$T/j" 'j["summary"]["overdue"], j["summary"]["total"], j["grace"]')" = "(2, 8, 86400)"

# --- CSV
expect 11 "--csv" "$LAPS_GET" report -c "$C" --csv
cp "$T/out" "$T/csv"
check "csv: header" "$(head -n1 "$T/csv")" = "device,account,state,rotated,expires,status"
check "csv: parses, one record per row" "$(python3 -c 'import csv,sys; print(len(list(csv.DictReader(open(sys.argv[1])))))' "$T/csv")" -eq 8
check "csv: stuck row" "$(grep '^stuck1,' "$T/csv" | cut -d, -f2,3,6)" = "lapsadmin,pending,stuck"
check "csv: never row" "$(grep '^never1,' "$T/csv")" = "never1,,,,,never"

# --- filters and the exit status
expect 11 "--status overdue,stuck" "$LAPS_GET" report -c "$C" --status overdue,stuck --csv
check "only overdue and stuck rows" "$(tail -n +2 "$T/out" | cut -d, -f1 | sort | tr '\n' ' ')" = "over1 over2 stuck1 "
expect 11 "--status never: rows filtered, the exit status still counts every row" \
	"$LAPS_GET" report -c "$C" --status never
check "never only" "$(sed '1d;$d' "$T/out" | awk '{print $1}')" = never1
expect 1 "--status with an unknown name" "$LAPS_GET" report -c "$C" --status late
err_has "late"
expect 1 "--json and --csv together" "$LAPS_GET" report -c "$C" --json --csv
expect 1 "--grace garbage" "$LAPS_GET" report -c "$C" --grace soon
expect 1 "a HOST is refused" "$LAPS_GET" report -c "$C" web1
expect 11 "--grace 5d: over2 is only due now" "$LAPS_GET" report -c "$C" --grace 5d --csv
check "over2 due with a 5 day grace" "$(grep '^over2,' "$T/out" | cut -d, -f6)" = due
check "over1 still overdue" "$(grep '^over1,' "$T/out" | cut -d, -f6)" = overdue

# nothing overdue or stuck: exit 0
rm -rf "$T/escrow/over1" "$T/escrow/over2" "$T/escrow/stuck1"
expect 0 "no overdue or stuck account: exit 0" "$LAPS_GET" report -c "$C"
check "summary" "$(tail -n1 "$T/out")" = "5 entries: 3 ok, 1 due, 0 overdue, 0 stuck, 1 never"
expect 0 "a corrupt record is skipped with a warning" \
	sh -c 'printf "{" >"$1/escrow/ok1/root.json"; exec "$2" report -c "$3"' _ "$T" "$LAPS_GET" "$C"
err_has "ok1/root"
check "five rows left" "$(tail -n1 "$T/out")" = "4 entries: 2 ok, 1 due, 0 overdue, 0 stuck, 1 never"

# an empty source
mkdir -m 700 "$T/empty"
sed "s|^dir = .*|dir = $T/empty|" "$C" >"$T/e.conf"
chmod 600 "$T/e.conf"
expect 0 "an empty source" "$LAPS_GET" report -c "$T/e.conf" --json
check "json: no rows" "$(json "$T/out" 'len(j["rows"])')" -eq 0

finish
