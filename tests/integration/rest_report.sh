#!/bin/bash
# rest_report.sh — laps-get report over backend = rest against a real
# laps-escrowd (SQLite): records escrowed by their own devices (client
# certificates) with explicit times put one account in each status the
# server can hold (ok, due, overdue, stuck; a REST source has no record-less
# device entries, so no "never"); the table, --json and --csv show each with
# the right status, the exit status follows overdue/stuck, --status filters,
# --grace moves the line, no private key is needed.  Then 1,200 more rows
# (written into the store directly: escrowing them one by one would take
# minutes) make the client follow next_page_token across three pages: every
# row exactly once, in order.  A device credential, a malformed page and a
# page that never ends are refused with errors naming GET /v1/report.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/get_lib.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }
[ -x "$MKREC" ] || { echo "missing $MKREC" >&2; exit 99; }
. "$top_srcdir/tests/integration/rest_lib.sh"
rest_setup
"$LAPS_GET" keygen -o "$T/admin.key" --no-passphrase >/dev/null 2>&1 || exit 99

rest_section() { # AUTH-LINES...: a [rest] section for laps-escrowd on $URL
	printf '%s\n' "[rest]" "url = ${URL:-$ESCROWD_URL}" "ca_file = $T/pki/ca.crt" \
		"timeout = 5s" "retries = 1" "$@"
}
dev_conf() { # DEVICE: the config that device escrows with (its own certificate)
	pki_cert "$1" 'extendedKeyUsage=clientAuth'
	{
		printf '%s\n' "[escrow]" "backend = rest" "recipients = $T/admin.key.pub" ""
		rest_section "auth = mtls" "cert_file = $T/pki/$1.crt" "key_file = $T/pki/$1.key"
	} >"$T/dev-$1.conf"
	chmod 600 "$T/dev-$1.conf"
}
admin_report_conf() { # FILE CERT: an admin (or not) reading by client certificate
	{
		printf '%s\n' "[escrow]" "backend = rest" ""
		rest_section "auth = mtls" "cert_file = $T/pki/$2.crt" "key_file = $T/pki/$2.key"
		printf '%s\n' "" "[laps-get]" "key = $T/nonexistent.key"
	} >"$1"
	chmod 600 "$1"
}
mk() { # DEVICE ACCOUNT [get_mkrecord options]
	local d=$1 a=$2
	shift 2
	[ -f "$T/dev-$d.conf" ] || dev_conf "$d"
	printf 'pw\n' | "$MKREC" -c "$T/dev-$d.conf" -d "$d" -a "$a" "$@" 2>>"$T/mk.err" ||
		{ cat "$T/mk.err" >&2; exit 99; }
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
C=$T/get.conf
admin_report_conf "$C" admin-robot

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
check "problems first: stuck, then the newest overdue" \
	"$(sed -n '2,4p' "$T/table" | awk '{print $1}' | tr '\n' ' ')" = "stuck1 over2 over1 "
check "one-line summary" "$(tail -n1 "$T/table")" = "7 entries: 3 ok, 1 due, 2 overdue, 1 stuck, 0 never"
check "times are the ones escrowed (ISO 8601 UTC)" "$(awk '$1 == "due1" { print $5 }' "$T/table")" = \
	"$(date -u -d @$((now - 3600)) +%Y-%m-%dT%H:%M:%SZ)"
check "no key was needed (the configured one does not exist)" ! -s "$T/err"

# --- JSON and CSV
expect 11 "--json" "$LAPS_GET" report -c "$C" --json
cp "$T/out" "$T/j"
check "json: statuses" "$(json "$T/j" '",".join(sorted(r["device"] + "/" + r["account"] + "=" + r["status"] for r in j["rows"]))')" = \
	"due1/lapsadmin=due,ok1/lapsadmin=ok,ok1/root=ok,over1/lapsadmin=overdue,over2/lapsadmin=overdue,rotating1/lapsadmin=ok,stuck1/lapsadmin=stuck"
check "json: state" "$(json "$T/j" '[r for r in j["rows"] if r["device"] == "stuck1"][0]["state"]')" = pending
check "json: rotated" "$(json "$T/j" '[r for r in j["rows"] if r["device"] == "over1"][0]["rotated"]')" = \
	"$(date -u -d @$((now - 40 * day)) +%Y-%m-%dT%H:%M:%SZ)"
check "json: summary" "$(json "$T/j" 'j["summary"]["overdue"], j["summary"]["total"], j["grace"]')" = "(2, 7, 86400)"
expect 11 "--csv" "$LAPS_GET" report -c "$C" --csv
check "csv: rows in the server's order (device, account)" \
	"$(tail -n +2 "$T/out" | cut -d, -f1,2 | tr '\n' ' ')" = \
	"due1,lapsadmin ok1,lapsadmin ok1,root over1,lapsadmin over2,lapsadmin rotating1,lapsadmin stuck1,lapsadmin "
check "csv: stuck row" "$(grep '^stuck1,' "$T/out" | cut -d, -f2,3,6)" = "lapsadmin,pending,stuck"

# --- filters, grace, exit status
expect 11 "--status overdue,stuck" "$LAPS_GET" report -c "$C" --status overdue,stuck --csv
check "only overdue and stuck rows" "$(tail -n +2 "$T/out" | cut -d, -f1 | sort | tr '\n' ' ')" = "over1 over2 stuck1 "
expect 11 "--grace 5d: over2 is only due now" "$LAPS_GET" report -c "$C" --grace 5d --csv
check "over2 due with a 5 day grace" "$(grep '^over2,' "$T/out" | cut -d, -f6)" = due
expect 0 "--grace 50d: nothing overdue or stuck, exit 0" "$LAPS_GET" report -c "$C" --grace 50d

# --- a device credential may not report; the error names the endpoint
admin_report_conf "$T/dev-get.conf" ok1
expect 5 "a device's certificate: refused (exit 5)" "$LAPS_GET" report -c "$T/dev-get.conf"
err_has "GET /v1/report"
err_has "403"

# --- paging: 1,200 more rows, three pages of 500
sqlite3 "$T/escrow.db" >/dev/null 2>"$T/sql.err" <<'SQL' || { cat "$T/sql.err" >&2; exit 99; }
.timeout 5000
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1200)
INSERT INTO records (device, account, version, seq, rotation_id, state, rotated_at,
		     expires_at, updated_at, record)
SELECT printf('bulk-%04d', n), account, version, seq, rotation_id, state, rotated_at,
       expires_at, updated_at, record FROM records, c
WHERE device = 'ok1' AND account = 'lapsadmin';
SQL
oidc_add_secret_client report-robot "$T/robot.secret" laps.read >/dev/null || exit 99
hostile_start
URL=$HOSTILE_URL rest_section "auth = client_credentials" "token_url = $OIDC_TOKEN_ENDPOINT" \
	"client_id = report-robot" "client_secret_file = $T/robot.secret" "scope = laps.read" \
	"budget = 15m" >"$T/h.rest"
# (budget: 2,001 pages from the Python test server take about 100 s in the
# sanitizer build, near the 120 s default; the cap, not the budget, is tested)
cat "$T/pki/ca.crt" "$OIDC_CA" >"$T/cas.pem"
{ printf '[escrow]\nbackend = rest\n\n'; sed "s|^ca_file = .*|ca_file = $T/cas.pem|" "$T/h.rest"; } >"$T/h.conf"
chmod 600 "$T/h.conf"
rm -f "$T/plan.log"
expect 11 "1,207 rows through the pages (an automation client's token)" \
	"$LAPS_GET" report -c "$T/h.conf" --csv
tail -n +2 "$T/out" | cut -d, -f1,2 >"$T/keys"
check "every row once" "$(sort -u "$T/keys" | wc -l)" -eq 1207
check "no row twice" "$(wc -l <"$T/keys")" -eq 1207
check "in the server's order" "$(LC_ALL=C sort -c "$T/keys" 2>&1 && echo sorted)" = sorted
check "three requests, the last two with a page token" \
	"$(grep -c '^GET /v1/report?page_size=500 ' "$T/plan.log") $(grep -c '^GET /v1/report?page_size=500&page_token=' "$T/plan.log")" = "1 2"

# --- hostile pages: clear errors naming the endpoint, never a loop
row='{"device":"h1","account":"lapsadmin","state":"confirmed","rotated_at":1,"expires_at":2,"seq":1}'
hostile() { # DESC EXIT PATTERN PLAN-LINES...
	local desc=$1 want=$2 pat=$3
	shift 3
	printf '%s\n' "$@" >"$T/plan"
	expect "$want" "$desc" "$LAPS_GET" report -c "$T/h.conf" --csv
	err_has "GET /v1/report"
	err_has "$pat"
}
hostile "a page that is not JSON" 8 "malformed" garbage
hostile "an entry with an unknown state" 8 'entries[1]: unknown "state"' \
	"json {\"entries\":[$row,{\"device\":\"h2\",\"account\":\"a\",\"state\":\"lost\",\"rotated_at\":1,\"expires_at\":2,\"seq\":1}]}"
hostile "an entry with a bad device name" 8 "entries[0]: bad device or account name" \
	"json {\"entries\":[{\"device\":\"../x\",\"account\":\"a\",\"state\":\"pending\",\"rotated_at\":1,\"expires_at\":2,\"seq\":1}]}"
hostile "the same next page twice" 8 "next_page_token repeated after 2 pages" \
	"json {\"entries\":[$row],\"next_page_token\":\"t1\"}" "json {\"entries\":[$row],\"next_page_token\":\"t1\"}"
err_has "the report was cut"
# two tokens alternating: refused at the first repeat, not followed until
# the run's budget is spent (issue 22, defect 4)
pg() { printf 'json {"entries":[%s],"next_page_token":"%s"}' "$row" "$1"; }
rm -f "$T/plan.log"
hostile "two page tokens alternating" 8 "next_page_token repeated after 3 pages (the server's pages form a cycle)" \
	"$(pg t1)" "$(pg t2)" "$(pg t1)" "$(pg t2)" "$(pg t1)" "$(pg t2)"
err_has "the report was cut"
check "  three requests, no more" "$(grep -c '^GET /v1/report' "$T/plan.log")" -eq 3
# a server that never ends its pages (a fresh token each time): cut at 2,000
rm -f "$T/plan.log"
for i in $(seq 2001); do pg "p$i"; echo; done >"$T/plan"
expect 8 "2,001 pages with fresh tokens: cut at 2,000" "$LAPS_GET" report -c "$T/h.conf" --csv
err_has "more than 2000 pages: the report was cut"
check "  2,001 requests (the first without a token)" "$(grep -c '^GET /v1/report' "$T/plan.log")" -eq 2001
hostile "an empty page that names a next page" 8 "an empty page names a next page" \
	'json {"entries":[],"next_page_token":"t2"}'
hostile "a page over the size cap" 8 "answer larger than" "big 2000000"
: >"$T/plan"
finish
