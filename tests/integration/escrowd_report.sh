#!/bin/bash
# escrowd_report.sh — the fleet report sorted, filtered and counted by the
# server over the whole fleet (docs/REST-API.md §5.5, §5.5.1): 1,000
# accounts on 900 devices are seeded with the store's own SQL client; every
# sort (device, rotated_at, expires_at, health; asc and desc) is paged through
# with page_size 97 and must equal the order Python computes over the seeded
# rows (ties broken by device, account; no row twice, none missing); the
# health filter and the name prefix q; /v1/report/summary's counts equal
# Python's, for a global admin (the store's GROUP BY) and for a unit-limited
# one (counted row by row); bad parameters are 400.
# ESCROWD_STORE_URL=postgresql:CONNINFO (escrowd_report_pg.sh) runs it on
# PostgreSQL; by default a fresh SQLite file.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
ESCROWD=$top_builddir/laps-escrowd
for t in openssl curl python3; do
	command -v $t >/dev/null || { echo "$t missing" >&2; exit 77; }
done
[ -x "$ESCROWD" ] || { echo "missing $ESCROWD" >&2; exit 99; }
STORE=${ESCROWD_STORE_URL:-}
if [ -z "$STORE" ]; then
	command -v sqlite3 >/dev/null || { echo "sqlite3 missing" >&2; exit 77; }
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/escrowd_report.XXXXXX") || exit 99
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
FAILS=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }
check() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi; }
[ -n "$STORE" ] || STORE=sqlite:$T/escrow.db

ssl() { openssl "$@" >/dev/null 2>&1 || { echo "openssl $* failed" >&2; exit 99; }; }
ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=ca \
	-keyout "$T/ca.key" -out "$T/ca.crt"
mkcert() {
	printf '%s\n' "$2" >"$T/$1.ext"
	ssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$T/$1.key" -out "$T/$1.csr"
	ssl x509 -req -in "$T/$1.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
		-days 2 -extfile "$T/$1.ext" -out "$T/$1.crt"
}
mkcert server 'subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth'
for n in admin lab-admin; do mkcert $n extendedKeyUsage=clientAuth; done
cat >"$T/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $T/server.crt
key_file = $T/server.key
client_ca = $T/ca.crt
threads = 2
[store]
url = $STORE
[authz]
units = lab:lab-*
cert_admins = admin=laps.read lab-admin=laps.read@lab
[limits]
rate = 100000
burst = 100000
CONF
chmod 600 "$T/escrowd.conf"
"$ESCROWD" -c "$T/escrowd.conf" --port-file "$T/port" 2>>"$T/escrowd.log" &
PID=$!
for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || { cat "$T/escrowd.log" >&2; exit 99; }
URL=https://127.0.0.1:$(cat "$T/port")

# --- 1,000 accounts: statuses far from every boundary (the server's clock
# moves on between the seeding and the requests); repeated expiries (ties)
NOW=$(date +%s)
PY=$(python3 -c 'import sys; print(sys.executable)') # once: a version manager's shim is slow
"$PY" "$top_srcdir/tests/integration/escrowd_report.py" seed "$NOW" "$T/rows.json" >"$T/seed.sql" ||
	exit 99
case $STORE in
sqlite:*) sqlite3 -cmd '.timeout 5000' "${STORE#sqlite:}" <"$T/seed.sql" ;;
postgresql:*) psql -X -q -v ON_ERROR_STOP=1 "${STORE#postgresql:}" -f "$T/seed.sql" >/dev/null ;;
esac || exit 99

get() { # get WHO PATH: $S, body in $T/body
	S=$(curl -sS --cacert "$T/ca.crt" --cert "$T/$1.crt" --key "$T/$1.key" -o "$T/body" \
		-w '%{http_code}' "$URL$2" 2>"$T/curl.err")
}
# pages WHO QUERY: every page of /v1/report?QUERY&page_size=97 → $T/pages.json (one entry list per line)
pages() {
	local tok= n=0
	: >"$T/pages.json"
	while :; do
		get "$1" "/v1/report?$2&page_size=97${tok:+&page_token=$tok}"
		[ "$S" = 200 ] || { echo "pages: $S $(cat "$T/body")" >&2; return 1; }
		tok=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
open(sys.argv[2], "a").write(json.dumps(d["entries"]) + "\n"); print(d["next_page_token"] or "")' "$T/body" "$T/pages.json")
		n=$((n + 1))
		[ -n "$tok" ] && [ $n -lt 100 ] || break
	done
}
expect() { "$PY" "$top_srcdir/tests/integration/escrowd_report.py" "$@" "$T/rows.json" "$T/pages.json"; }

for sort in device rotated_at expires_at health; do
	for order in asc desc; do
		pages admin "sort=$sort&order=$order"
		check "sort=$sort order=$order: every page in the server's order equals the whole fleet sorted" \
			ok "$(expect order "$sort" "$order" '' '' '')"
	done
done
pages admin "sort=expires_at&order=desc&health=overdue"
check "health=overdue, sorted by expiry (desc): the overdue accounts only" ok \
	"$(expect order expires_at desc overdue '' '')"
pages admin "sort=health&q=lab-00"
check "q=lab-00 (name prefix), sorted by health" ok "$(expect order health asc '' lab-00 '')"
pages lab-admin "sort=rotated_at&order=desc"
check "unit-limited admin: sorted over its unit only" ok "$(expect order rotated_at desc '' '' lab-)"

get admin /v1/report/summary
check "summary: 200" 200 "$S"
cp "$T/body" "$T/pages.json"
check "summary: the counts of the whole fleet (store GROUP BY)" ok "$(expect counts 86400 '' '')"
get admin '/v1/report/summary?q=ws-01'
cp "$T/body" "$T/pages.json"
check "summary q=ws-01: the counts of the prefix" ok "$(expect counts 86400 ws-01 '')"
get lab-admin /v1/report/summary
cp "$T/body" "$T/pages.json"
check "summary, unit-limited admin: the counts of its unit (row by row)" ok "$(expect counts 86400 '' lab-)"
get admin '/v1/report/summary?grace=0'
cp "$T/body" "$T/pages.json"
check "summary grace=0: nothing is due, everything expired is overdue" ok "$(expect counts 0 '' '')"

for bad in 'sort=name' 'order=up' 'health=late' 'grace=-1' 'q=Lab' 'q=a%2Fb' \
	'sort=expires_at&page_token=lab-0001.example.test/lapsadmin' 'page_token=5:lab-0001.example.test/lapsadmin'; do
	get admin "/v1/report?$bad"
	check "/v1/report?$bad: 400" 400 "$S"
done
get admin '/v1/report/summary?sort=device'
check "/v1/report/summary?sort=device: 400 (no sort there)" 400 "$S"

[ $FAILS -eq 0 ] && echo "all passed" || echo "$FAILS failed"
[ $FAILS -eq 0 ]
