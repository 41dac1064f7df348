#!/bin/bash
# escrowd_pg_race.sh — two laps-escrowd instances on one PostgreSQL, 0 lost
# updates.  Each round, WRITERS concurrent curl processes per device PUT a
# new rotation with the same If-Match through both instances (alternately);
# exactly one must win (200), every other one must get 412.  Afterwards each
# device's chain, read through the other instance, must be complete: the
# current record is the last winner, seq = rounds + 1, and history holds
# every earlier winner in order — an accepted write that a later one
# silently overwrote (a lost update) would be missing.  Skips (77) without
# PostgreSQL, openssl or curl.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
ESCROWD=$top_builddir/laps-escrowd
ROUNDS=${RACE_ROUNDS:-12}
WRITERS=${RACE_WRITERS:-4}
DEVICES="race1.example.test race2.example.test race3.example.test"
for t in openssl curl python3; do
	command -v $t >/dev/null || { echo "$t missing" >&2; exit 77; }
done
[ -x "$ESCROWD" ] || { echo "missing $ESCROWD" >&2; exit 99; }
. "$top_srcdir/tests/integration/lib/postgres.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/escrowd-race.XXXXXX") || exit 99
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait "${PIDS[@]}" 2>/dev/null
	pg_cleanup
	rm -rf "$T"
}
trap cleanup EXIT
pg_start --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
FAILS=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }
check() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi; }

# --- test PKI ---------------------------------------------------------------
ssl() { openssl "$@" >/dev/null 2>&1 || { echo "openssl $* failed" >&2; exit 99; }; }
ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=ca \
	-keyout "$T/ca.key" -out "$T/ca.crt"
mkcert() { # mkcert CN EXT
	printf '%s\n' "$2" >"$T/$1.ext"
	ssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$T/$1.key" -out "$T/$1.csr"
	ssl x509 -req -in "$T/$1.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
		-days 2 -extfile "$T/$1.ext" -out "$T/$1.crt"
}
mkcert server 'subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth'
for n in $DEVICES admin-all; do mkcert "$n" 'extendedKeyUsage=clientAuth'; done

# --- two instances, one database ---------------------------------------------
cat >"$T/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $T/server.crt
key_file = $T/server.key
client_ca = $T/ca.crt
threads = 4

[store]
url = postgresql:$PG_CONNINFO
history_size = 100

[authz]
cert_admins = admin-all=laps.read,laps.secret

[limits]
rate = 10000
burst = 100000
CONF
chmod 600 "$T/escrowd.conf"
URLS=()
for i in 0 1; do
	"$ESCROWD" -c "$T/escrowd.conf" --port-file "$T/port$i" 2>>"$T/escrowd$i.log" &
	PIDS+=($!)
done
for i in 0 1; do
	for _ in $(seq 200); do [ -s "$T/port$i" ] && break; sleep 0.05; done
	[ -s "$T/port$i" ] || { cat "$T"/escrowd*.log >&2; exit 99; }
	URLS+=("https://127.0.0.1:$(cat "$T/port$i")")
done
ok "two instances on one database: ${URLS[*]}"

record() { # record DEVICE N
	printf '{"v":1,"device":"%s","account":"lapsadmin","uid":1001,"rotation_id":"%032x","rotated_at":%d,"expires_at":%d,"state":"pending","envelope":"AQIDBAUGBwgJCgsMDQ4PEA==","key_ids":["0011223344556677"]}' \
		"$1" "$2" $((1700000000 + $2)) $((1800000000 + $2))
}
# put WHO INSTANCE DEVICE N PRECONDITION OUT: writes "STATUS ETAG" to OUT
put() {
	local hdr=$6.hdr s
	record "$3" "$4" >"$6.body"
	s=$(curl -sS --cacert "$T/ca.crt" --cert "$T/$1.crt" --key "$T/$1.key" -X PUT \
		-H 'Content-Type: application/json' -H "$5" --data-binary @"$6.body" \
		-o /dev/null -D "$hdr" -w '%{http_code}' \
		"${URLS[$2]}/v1/devices/$3/accounts/lapsadmin/record" 2>>"$T/curl.err")
	echo "$s $(grep -i '^etag:' "$hdr" | cut -d' ' -f2- | tr -d '\r')" >"$6"
}

declare -A ETAG WINNERS
n=0
for d in $DEVICES; do
	n=$((n + 1))
	put "$d" 0 "$d" "$n" 'If-None-Match: *' "$T/create"
	read -r s e <"$T/create"
	check "create $d" 201 "$s"
	ETAG[$d]=$e
	WINNERS[$d]=$n
done

# --- the race -------------------------------------------------------------------
bad_rounds=0 other=0
for ((r = 1; r <= ROUNDS; r++)); do
	writers=()
	for d in $DEVICES; do
		for ((w = 0; w < WRITERS; w++)); do
			n=$((n + 1))
			put "$d" $((w % 2)) "$d" "$n" "If-Match: ${ETAG[$d]}" "$T/r.$d.$n.res" &
			writers+=($!)
		done
	done
	wait "${writers[@]}"
	for d in $DEVICES; do
		wins=0
		for f in "$T"/r."$d".*.res; do
			read -r s e <"$f"
			case $s in
			200) wins=$((wins + 1)); ETAG[$d]=$e
				f=${f%.res}; WINNERS[$d]="${WINNERS[$d]} ${f##*.}" ;;
			412) ;;
			*) other=$((other + 1)); echo "# $d round $r: status $s" ;;
			esac
		done
		[ $wins -eq 1 ] || { bad_rounds=$((bad_rounds + 1)); echo "# $d round $r: $wins winners"; }
		rm -f "$T"/r."$d".*
	done
done
check "every round of every device: exactly one winner" 0 "$bad_rounds"
check "losers get 412, nothing else" 0 "$other"

# --- no lost update: the chain through the other instance ---------------------------
for d in $DEVICES; do
	curl -sS --cacert "$T/ca.crt" --cert "$T/admin-all.crt" --key "$T/admin-all.key" \
		-o "$T/cur" -D "$T/cur.hdr" "${URLS[1]}/v1/devices/$d/accounts/lapsadmin/record"
	curl -sS --cacert "$T/ca.crt" --cert "$T/admin-all.crt" --key "$T/admin-all.key" \
		-o "$T/hist" "${URLS[1]}/v1/devices/$d/accounts/lapsadmin/history?limit=100"
	got=$(python3 - "$T/cur" "$T/hist" "$T/cur.hdr" <<'PY'
import json, sys
cur = json.load(open(sys.argv[1])); hist = json.load(open(sys.argv[2]))["records"]
chain = [int(r["rotation_id"], 16) for r in reversed(hist)] + [int(cur["rotation_id"], 16)]
seq = [l.split(":", 1)[1].strip() for l in open(sys.argv[3]) if l.lower().startswith("laps-seq:")]
print(" ".join(map(str, chain)), "seq", seq[0] if seq else "?")
PY
)
	check "$d: chain = every winner in order, seq $((ROUNDS + 1))" \
		"${WINNERS[$d]} seq $((ROUNDS + 1))" "$got"
done
for i in 0 1; do kill -0 "${PIDS[$i]}" 2>/dev/null && ok "instance $i alive" || not_ok "instance $i died"; done

[ "$FAILS" -eq 0 ] || { echo "$FAILS failed"; exit 1; }
echo "all passed"
