#!/bin/bash
# escrowd_notify.sh — laps-escrowd's webhook notifications ([notify]) to a
# receiver in the suite (escrowd_webhook.py on 127.0.0.1, checking the
# HMAC-SHA256 signature of every body):
#   - secret reads, history reads and a bulk expiry are notified, signed;
#     a denied read is not; a receiver with another key sees bad signatures
#   - a receiver answering 500: retried (retries = 2), then counted as
#     failed in /metrics and logged; the read itself was answered at once
#   - a slow receiver (5 s per delivery): five reads still answer at once
#   - a dead receiver and a queue of 2: every read is answered and audited,
#     the overflow is counted as dropped
#   - check-config prints the webhook and refuses a group-readable key file
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
ESCROWD=$top_builddir/laps-escrowd
RECV=$top_srcdir/tests/integration/escrowd_webhook.py
for t in openssl curl python3; do command -v $t >/dev/null || { echo "$t missing"; exit 77; }; done
[ -x "$ESCROWD" ] || exit 99
[ "$(id -u)" = 0 ] || { echo "SKIP: the key file must be root's"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/escrowd_notify.XXXXXX") || exit 99
PID= RPID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
FAILS=0
check() { if [ "$2" = "$3" ]; then echo "ok - $1"; else echo "not ok - $1 (expected '$2', got '$3')"; FAILS=$((FAILS + 1)); fi; }

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
for n in ws01.example.test admin reader; do mkcert $n extendedKeyUsage=clientAuth; done
(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/hook.key"; echo >>"$T/hook.key")
(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/other.key")

receiver() { # receiver MODE KEYFILE: (re)start; RURL
	[ -n "$RPID" ] && { kill "$RPID"; wait "$RPID" 2>/dev/null; }
	rm -f "$T/recv.port"
	: >"$T/recv.log"
	python3 "$RECV" "$2" "$1" "$T/recv.port" "$T/recv.log" 2>"$T/recv.err" &
	RPID=$!
	for _ in $(seq 100); do [ -s "$T/recv.port" ] && break; sleep 0.05; done
	[ -s "$T/recv.port" ] || { cat "$T/recv.err"; exit 99; }
	RURL=http://127.0.0.1:$(cat "$T/recv.port")/hook
}
conf() { # conf WEBHOOK_URL RETRIES QUEUE TIMEOUT
	cat >"$T/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $T/server.crt
key_file = $T/server.key
client_ca = $T/ca.crt
threads = 2
[store]
url = sqlite:$T/escrow.db
[authz]
cert_admins = admin=laps.read,laps.secret,laps.expire,laps.audit reader=laps.read
[limits]
rate = 100000
burst = 100000
[notify]
webhook = $1
secret_file = $T/hook.key
retries = $2
queue = $3
timeout = $4
CONF
	chmod 600 "$T/escrowd.conf"
}
start() {
	[ -n "$PID" ] && { kill "$PID"; wait "$PID" 2>/dev/null; }
	rm -f "$T/port"
	"$ESCROWD" -c "$T/escrowd.conf" --port-file "$T/port" 2>>"$T/escrowd.log" &
	PID=$!
	for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
	[ -s "$T/port" ] || { cat "$T/escrowd.log"; exit 99; }
	URL=https://127.0.0.1:$(cat "$T/port")
}
req() { # req WHO METHOD PATH [args]
	local who=$1 m=$2 p=$3
	shift 3
	S=$(curl -sS --cacert "$T/ca.crt" --cert "$T/$who.crt" --key "$T/$who.key" -X "$m" \
		-o "$T/body" -w '%{http_code}' "$@" "$URL$p" 2>"$T/curl.err")
}
metric() { # metric OUTCOME
	curl -sS --cacert "$T/ca.crt" "$URL/metrics" |
		awk -v o="outcome=\"$1\"" '/^laps_escrowd_webhook_deliveries_total/ && index($0, o) { print $NF }'
}
wait_lines() { # wait_lines N: until recv.log has N lines (10 s at most)
	for _ in $(seq 200); do [ "$(wc -l <"$T/recv.log")" -ge "$1" ] && break; sleep 0.05; done
	wc -l <"$T/recv.log" | tr -d ' '
}
J=(-H 'Content-Type: application/json')
A=/v1/devices/ws01.example.test/accounts/lapsadmin

# --- check-config ---------------------------------------------------------------
receiver ok "$T/hook.key"
conf "$RURL" 2 100 2s
out=$("$ESCROWD" -c "$T/escrowd.conf" check-config 2>&1)
case $out in *"notify: webhook $RURL"*) echo "ok - check-config prints the webhook" ;;
	*) echo "not ok - check-config: $out"; FAILS=$((FAILS + 1)) ;; esac
chmod 640 "$T/hook.key"
"$ESCROWD" -c "$T/escrowd.conf" check-config >/dev/null 2>&1
check "check-config refuses a group-readable key file" 2 $?
chmod 600 "$T/hook.key"

# --- delivered and signed -----------------------------------------------------------
start
printf '{"v":1,"device":"ws01.example.test","account":"lapsadmin","uid":1001,"rotation_id":"%032x","rotated_at":1700000000,"expires_at":1800000000,"state":"confirmed","envelope":"AQIDBAUGBwgJCgsMDQ4PEA==","key_ids":["0011223344556677"]}' 1 >"$T/r"
req ws01.example.test PUT $A/record "${J[@]}" -H 'If-None-Match: *' --data-binary @"$T/r"
check "device writes its record (not notified)" 201 "$S"
req reader GET $A/record
check "a denied read: 403 (not notified)" 403 "$S"
req admin GET $A/record
check "secret read: 200" 200 "$S"
req admin GET $A/history
check "history read: 200" 200 "$S"
req admin POST /v1/expire "${J[@]}" --data '{"filter":{"name":"ws01*"}}'
check "bulk expiry: 200" 200 "$S"
check "the receiver got 3 notifications" 3 "$(wait_lines 3)"
sleep 0.3
check "  exactly 3, each with a valid signature" "3 3" "$(wc -l <"$T/recv.log" | tr -d ' ') $(grep -c '^OK ' "$T/recv.log")"
check "  the events" "OK bulk_expiry ws01.example.test expire|OK secret_read ws01.example.test read_history|OK secret_read ws01.example.test read_secret" \
	"$(sort "$T/recv.log" | paste -sd'|')"
check "  /metrics: 3 sent" 3 "$(metric sent)"

# a receiver that holds another key sees bad signatures (the check above means something)
receiver ok "$T/other.key"
conf "$RURL" 0 100 2s
start
req admin GET $A/record
check "with another key at the receiver: BADSIG" "BADSIG secret_read ws01.example.test read_secret" \
	"$(wait_lines 1 >/dev/null; cat "$T/recv.log")"

# --- 500: retried, then failed, counted and logged -----------------------------------
receiver 500 "$T/hook.key"
conf "$RURL" 2 100 2s
start
t0=$(date +%s%N)
req admin GET $A/record
t1=$(date +%s%N)
check "read with a receiver answering 500: 200" 200 "$S"
[ $(((t1 - t0) / 1000000)) -lt 2000 ] && echo "ok - answered at once ($(((t1 - t0) / 1000000)) ms)" ||
	{ echo "not ok - the read took $(((t1 - t0) / 1000000)) ms"; FAILS=$((FAILS + 1)); }
for _ in $(seq 200); do [ "$(metric failed)" = 1 ] && break; sleep 0.05; done
check "  3 attempts (1 + retries 2), all signed" 3 "$(grep -c '^OK ' "$T/recv.log")"
check "  /metrics: 1 failed, 0 sent" "1 0" "$(metric failed) $(metric sent)"
grep -q "webhook: secret_read event not delivered after 3 attempt" "$T/escrowd.log" &&
	echo "ok - the failure is logged" || { echo "not ok - no log line"; FAILS=$((FAILS + 1)); }

# --- slow receiver: the requests do not wait -----------------------------------------
receiver slow "$T/hook.key"
conf "$RURL" 0 100 10s
start
t0=$(date +%s%N)
for _ in 1 2 3 4 5; do req admin GET $A/record; [ "$S" = 200 ] || break; done
t1=$(date +%s%N)
check "slow receiver: five reads answered 200" 200 "$S"
[ $(((t1 - t0) / 1000000)) -lt 5000 ] && echo "ok - five reads in $(((t1 - t0) / 1000000)) ms (a blocking send would need 25 s)" ||
	{ echo "not ok - five reads took $(((t1 - t0) / 1000000)) ms"; FAILS=$((FAILS + 1)); }

# --- dead receiver, queue of 2: nothing lost but notifications --------------------------
kill "$RPID"; wait "$RPID" 2>/dev/null; RPID=
conf "$RURL" 1 2 1s
start
a0=$(sqlite3 "$T/escrow.db" "SELECT count(*) FROM audit WHERE action = 'read_secret' AND outcome = 'allowed'")
ok=0
for _ in $(seq 10); do req admin GET $A/record; [ "$S" = 200 ] && ok=$((ok + 1)); done
check "dead receiver: 10 reads answered 200" 10 "$ok"
check "  and audited" $((a0 + 10)) "$(sqlite3 "$T/escrow.db" "SELECT count(*) FROM audit WHERE action = 'read_secret' AND outcome = 'allowed'")"
d=$(metric dropped)
[ "${d:-0}" -ge 1 ] && echo "ok - the overflow of the queue is counted as dropped ($d)" ||
	{ echo "not ok - dropped '$d'"; FAILS=$((FAILS + 1)); }
grep -q "webhook queue full" "$T/escrowd.log" && echo "ok - and logged" ||
	{ echo "not ok - no 'queue full' log line"; FAILS=$((FAILS + 1)); }

kill -TERM "$PID"; wait "$PID"
check "SIGTERM with the webhook sender running: a clean stop (exit 0)" 0 $?
PID=
echo "# $FAILS failure(s)"
[ $FAILS -eq 0 ]
