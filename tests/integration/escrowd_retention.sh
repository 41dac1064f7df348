#!/bin/bash
# escrowd_retention.sh — [store] history_keep and audit_retention: the
# audit rows older than the retention are deleted by the prune laps-escrowd
# runs at start (and daily), the younger ones stay, and the store still
# refuses any other DELETE or UPDATE of the audit table (old rows
# included, outside the prune); each account keeps history_keep older
# records.  ESCROWD_STORE_URL=postgresql:CONNINFO (escrowd_retention_pg.sh)
# runs it on PostgreSQL; by default SQLite.
set -u
: "${top_builddir:=.}"
ESCROWD=$top_builddir/laps-escrowd
for t in openssl curl python3; do command -v $t >/dev/null || { echo "$t missing"; exit 77; }; done
[ -x "$ESCROWD" ] || exit 99
STORE=${ESCROWD_STORE_URL:-}
[ -n "$STORE" ] || command -v sqlite3 >/dev/null || { echo "sqlite3 missing"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/escrowd_retention.XXXXXX") || exit 99
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
[ -n "$STORE" ] || STORE=sqlite:$T/escrow.db
FAILS=0
check() { if [ "$2" = "$3" ]; then echo "ok - $1"; else echo "not ok - $1 (expected '$2', got '$3')"; FAILS=$((FAILS + 1)); fi; }
sql() { # sql QUERY (errors to $T/sql.err, status kept)
	case $STORE in
	sqlite:*) sqlite3 -cmd '.timeout 5000' "${STORE#sqlite:}" "$1" 2>"$T/sql.err" ;;
	postgresql:*) psql -X -q -A -t -v ON_ERROR_STOP=1 "${STORE#postgresql:}" -c "$1" 2>"$T/sql.err" ;;
	esac
}
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
for n in ws01.example.test admin; do mkcert $n extendedKeyUsage=clientAuth; done
conf() { # conf RETENTION
	cat >"$T/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $T/server.crt
key_file = $T/server.key
client_ca = $T/ca.crt
[store]
url = $STORE
history_size = 10
history_keep = 2
audit_retention = $1
[authz]
cert_admins = admin=laps.read,laps.secret
[limits]
rate = 100000
burst = 100000
CONF
	chmod 600 "$T/escrowd.conf"
}
start() {
	rm -f "$T/port"
	"$ESCROWD" -c "$T/escrowd.conf" --port-file "$T/port" 2>>"$T/escrowd.log" &
	PID=$!
	for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
	[ -s "$T/port" ] || { cat "$T/escrowd.log"; exit 99; }
	URL=https://127.0.0.1:$(cat "$T/port")
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null; PID=; }

conf 1h
"$ESCROWD" -c "$T/escrowd.conf" check-config >/dev/null 2>&1
check "audit_retention under a day: refused (exit 2)" 2 $?
conf 400d
out=$("$ESCROWD" -c "$T/escrowd.conf" check-config 2>&1)
case $out in *"retention: history 2 older record(s)"*"audit rows older than 400d deleted daily"*)
	echo "ok - check-config prints the retention" ;;
	*) echo "not ok - check-config: $out"; FAILS=$((FAILS + 1)) ;; esac
start
stop # the schema exists now

NOW=$(date +%s)
for who in old young; do
	age=$([ $who = old ] && echo $((500 * 86400)) || echo $((10 * 86400)))
	for i in 1 2 3 4 5; do
		sql "INSERT INTO audit (time, actor, kind, device, account, action, outcome, status)
			VALUES ($((NOW - age - i)), '$who', 'admin', 'ws01.example.test', 'lapsadmin',
			'read_secret', 'allowed', 200)" >/dev/null
	done
done
count() { sql "SELECT count(*) FROM audit WHERE actor = '$1'"; }
check "seeded: 5 rows 500 days old, 5 rows 10 days old" "5 5" "$(count old) $(count young)"
refused() { # refused QUERY: run it; "yes" when the store said append-only
	sql "$1" >"$T/sql.out"
	cat "$T/sql.out" "$T/sql.err" | grep -qi 'append-only' && echo yes
}
r=$(refused "DELETE FROM audit WHERE actor = 'old'")
check "a DELETE of old rows outside the prune: refused" "5 yes" "$(count old) $r"

start
for _ in $(seq 200); do [ "$(count old)" = 0 ] && break; sleep 0.05; done
check "the prune at start deleted the rows older than 400d" 0 "$(count old)"
check "  and kept the younger ones" 5 "$(count young)"
grep -q "audit prune: 5 row(s)" "$T/escrowd.log" && echo "ok - the prune is logged" ||
	{ echo "not ok - no prune log line"; FAILS=$((FAILS + 1)); }
r=$(refused "DELETE FROM audit WHERE actor = 'young'")
check "a DELETE of young rows: refused" "5 yes" "$(count young) $r"
r=$(refused "UPDATE audit SET actor = 'x' WHERE actor = 'young'")
check "an UPDATE: refused" "5 yes" "$(count young) $r"

# history_keep = 2 (history_size = 10 is overridden)
A=/v1/devices/ws01.example.test/accounts/lapsadmin
etag=
for i in 1 2 3 4 5; do
	printf '{"v":1,"device":"ws01.example.test","account":"lapsadmin","uid":1001,"rotation_id":"%032x","rotated_at":%d,"expires_at":1900000000,"state":"confirmed","envelope":"AQIDBAUGBwgJCgsMDQ4PEA==","key_ids":["0011223344556677"]}' $i $((1700000000 + i)) >"$T/r"
	if [ -z "$etag" ]; then pre=(-H 'If-None-Match: *'); else pre=(-H "If-Match: $etag"); fi
	curl -sS --cacert "$T/ca.crt" --cert "$T/ws01.example.test.crt" --key "$T/ws01.example.test.key" \
		-X PUT -H 'Content-Type: application/json' "${pre[@]}" --data-binary @"$T/r" \
		-D "$T/hdr" -o /dev/null "$URL$A/record"
	etag=$(grep -i '^etag:' "$T/hdr" | cut -d' ' -f2- | tr -d '\r')
done
check "history_keep = 2: two older records kept" 2 "$(sql "SELECT count(*) FROM history WHERE device = 'ws01.example.test'")"
stop
echo "# $FAILS failure(s)"
[ $FAILS -eq 0 ]
