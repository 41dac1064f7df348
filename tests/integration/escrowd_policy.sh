#!/bin/bash
# escrowd_policy.sh — laps-escrowd's rotate-after-read policy over HTTPS
# (mTLS identities from a test CA, curl), on one store shared by two
# instances: A with [policy] rotate_after_read (1h for every device, 0s in
# unit lab), B without any policy.
#   - check-config prints the policy; an unknown unit is refused
#   - a secret read on A: Laps-Rotate-By, the record's expiry moved to at
#     most now + grace, the move seen by B; the audit row is there
#   - a unit's shorter grace wins; a history read moves it too ("rotate_by")
#   - an expiry already earlier is never pushed later; B moves nothing
#   - fault (--enable-fault-injection builds): A killed after the expiry
#     move and the audit row were written but before COMMIT: the client
#     gets no record, and B sees neither the move nor the audit row
# ESCROWD_STORE_URL (postgresql:CONNINFO, see escrowd_policy_pg.sh) runs it
# against another store; by default a fresh SQLite file.
set -u
: "${top_builddir:=.}"
ESCROWD=$top_builddir/laps-escrowd
for t in openssl curl python3; do
	command -v $t >/dev/null || { echo "$t missing" >&2; exit 77; }
done
[ -x "$ESCROWD" ] || { echo "missing $ESCROWD" >&2; exit 99; }

T=$(mktemp -d "${TMPDIR:-/tmp}/escrowd_policy.XXXXXX") || exit 99
PIDA= PIDB=
cleanup() {
	[ -n "$PIDA" ] && kill "$PIDA" 2>/dev/null
	[ -n "$PIDB" ] && kill "$PIDB" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
FAILS=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }
check() { # check DESC EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}

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
for n in ws01.example.test ws02.example.test ws05.example.test pc1.lab.example.test admin; do
	mkcert $n extendedKeyUsage=clientAuth
done

STORE=${ESCROWD_STORE_URL:-sqlite:$T/escrow.db}
conf() { # conf FILE [policy lines...]
	local f=$1
	shift
	cat >"$f" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $T/server.crt
key_file = $T/server.key
client_ca = $T/ca.crt
threads = 2

[store]
url = $STORE

[authz]
units = lab:*.lab.example.test
cert_admins = admin=laps.read,laps.secret,laps.expire,laps.audit

[limits]
rate = 1000
burst = 10000
CONF
	[ $# -gt 0 ] && printf '%s\n' "" "[policy]" "$@" >>"$f"
	chmod 600 "$f"
}
conf "$T/a.conf" "rotate_after_read = 1h" "rotate_after_read_units = lab:0s"
conf "$T/b.conf"

# --- check-config ------------------------------------------------------------
out=$("$ESCROWD" -c "$T/a.conf" check-config 2>&1)
check "check-config accepts the policy" 0 $?
case $out in *"rotate_after_read 1h for every device"*"unit lab: 0s"*) ok "check-config prints the policy" ;;
	*) not_ok "check-config output: $out" ;; esac
out=$("$ESCROWD" -c "$T/b.conf" check-config 2>&1)
case $out in *"rotate_after_read off"*) ok "check-config says when the policy is off" ;;
	*) not_ok "check-config (no policy): $out" ;; esac
conf "$T/bad.conf" "rotate_after_read_units = eu:1h"
out=$("$ESCROWD" -c "$T/bad.conf" check-config 2>&1)
check "a unit [authz] does not define: exit 2" 2 $?
case $out in *"[policy] rotate_after_read_units"*) ok "  the error names the key" ;;
	*) not_ok "  message: $out" ;; esac
conf "$T/bad2.conf" "rotate_after_read_units = lab"
out=$("$ESCROWD" -c "$T/bad2.conf" check-config 2>&1)
check "an item without :DURATION: exit 2" 2 $?
case $out in *"bad2.conf:"*"rotate_after_read_units"*) ok "  the error names file:line and key" ;;
	*) not_ok "  message: $out" ;; esac

# --- two instances on one store ------------------------------------------------
start() { # start NAME CONF [env...]: sets PID_NAME-like vars through eval
	local name=$1 conf=$2
	shift 2
	rm -f "$T/$name.port"
	env "$@" "$ESCROWD" -c "$conf" --port-file "$T/$name.port" 2>>"$T/$name.log" &
	eval "PID$name=$!"
	for _ in $(seq 200); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
	[ -s "$T/$name.port" ] || { cat "$T/$name.log" >&2; exit 99; }
	eval "URL$name=https://127.0.0.1:$(cat "$T/$name.port")"
}
start A "$T/a.conf"
start B "$T/b.conf"

req() { # req URL WHO METHOD PATH [curl args...]: $S, $T/body, $T/hdr
	local url=$1 who=$2 m=$3 p=$4
	shift 4
	S=$(curl -sS --cacert "$T/ca.crt" --cert "$T/$who.crt" --key "$T/$who.key" -X "$m" \
		-o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@" "$url$p" 2>"$T/curl.err")
}
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/body" "$1" 2>/dev/null; }
hdr() { grep -i "^$1:" "$T/hdr" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
J=(-H 'Content-Type: application/json')
FAR=1900000000
put() { # put DEVICE N: rotation N of DEVICE, expiring far in the future
	printf '{"v":1,"device":"%s","account":"lapsadmin","uid":1001,"rotation_id":"%032x","rotated_at":%d,"expires_at":%d,"state":"confirmed","envelope":"AQIDBAUGBwgJCgsMDQ4PEA==","key_ids":["0011223344556677"]}' \
		"$1" "$2" $((1700000000 + $2)) $FAR >"$T/rec"
	req "$URLB" "$1" GET "/v1/devices/$1/accounts/lapsadmin"
	if [ "$S" = 404 ]; then
		req "$URLB" "$1" PUT "/v1/devices/$1/accounts/lapsadmin/record" "${J[@]}" -H 'If-None-Match: *' --data-binary @"$T/rec"
	else
		req "$URLB" "$1" PUT "/v1/devices/$1/accounts/lapsadmin/record" "${J[@]}" -H "If-Match: $(hdr ETag)" --data-binary @"$T/rec"
	fi
	case $S in 200 | 201) ;; *) echo "PUT $1 $2: $S $(cat "$T/body")" >&2; exit 99 ;; esac
}
expiry_on_b() { # the metadata expiry of DEVICE as instance B answers it
	req "$URLB" admin GET "/v1/devices/$1/accounts/lapsadmin"
	jget 'd["expires_at"]'
}
audit_reads() { # read_secret + read_history rows about DEVICE, through B
	req "$URLB" admin GET "/v1/audit?device=$1&page_size=1000"
	jget 'sum(1 for e in d["entries"] if e["action"] in ("read_secret","read_history"))'
}

W1=/v1/devices/ws01.example.test/accounts/lapsadmin
put ws01.example.test 1
put ws01.example.test 2
check "before any read, B sees the far expiry" $FAR "$(expiry_on_b ws01.example.test)"

# a read on B (no policy) moves nothing
req "$URLB" admin GET $W1/record
check "read on B (no policy): 200" 200 "$S"
check "  no Laps-Rotate-By" "" "$(hdr Laps-Rotate-By)"
check "  the expiry stays" $FAR "$(expiry_on_b ws01.example.test)"

# a read on A moves the expiry to now + 1h, seen by B
a0=$(audit_reads ws01.example.test)
t0=$(date +%s)
req "$URLA" admin GET $W1/record
t1=$(date +%s)
check "read on A (rotate_after_read = 1h): 200" 200 "$S"
rb=$(hdr Laps-Rotate-By)
[ -n "$rb" ] && [ "$rb" -ge $((t0 + 3600)) ] && [ "$rb" -le $((t1 + 3600)) ] &&
	ok "  Laps-Rotate-By is now + 1h ($rb)" || not_ok "  Laps-Rotate-By '$rb' (read at $t0..$t1)"
check "  the record answered carries the moved expiry" "$rb" "$(jget 'd["expires_at"]')"
check "  B sees the moved expiry" "$rb" "$(expiry_on_b ws01.example.test)"
check "  one audit row for the read" $((a0 + 1)) "$(audit_reads ws01.example.test)"
req "$URLB" admin GET "/v1/audit?device=ws01.example.test&action=read_secret&page_size=1"
check "  the newest read_secret row is allowed, by admin" "allowed cert:CN=admin" \
	"$(jget 'd["entries"][0]["outcome"] + " " + d["entries"][0]["actor"]')"

# a second read later never pushes the expiry later
req "$URLA" admin POST $W1/expire "${J[@]}" --data '{"expires_at":1000}'
check "expire at 1000 (earlier than any grace): 200" 200 "$S"
req "$URLA" admin GET $W1/record
check "read on A after it: 200" 200 "$S"
check "  the earlier expiry is kept" 1000 "$(expiry_on_b ws01.example.test)"

# history reads move it too, and say so in the body
put ws01.example.test 3
check "a new rotation expires far again" $FAR "$(expiry_on_b ws01.example.test)"
t0=$(date +%s)
req "$URLA" admin GET "$W1/history?limit=5"
t1=$(date +%s)
check "history read on A: 200" 200 "$S"
rb=$(jget 'd["rotate_by"]')
[ -n "$rb" ] && [ "$rb" -ge $((t0 + 3600)) ] && [ "$rb" -le $((t1 + 3600)) ] &&
	ok "  \"rotate_by\" in the body is now + 1h" || not_ok "  rotate_by '$rb'"
check "  Laps-Rotate-By agrees" "$rb" "$(hdr Laps-Rotate-By)"
check "  the history is still there" 2 "$(jget 'len(d["records"])')"
check "  B sees the moved expiry" "$rb" "$(expiry_on_b ws01.example.test)"

# a read while the rotation is pending (both passwords handed out): the
# device's confirm keeps the moved expiry, or the password just seen would
# live a whole password age
W5=/v1/devices/ws05.example.test/accounts/lapsadmin
printf '{"v":1,"device":"ws05.example.test","account":"lapsadmin","uid":1001,"rotation_id":"%032x","rotated_at":1700000001,"expires_at":%d,"state":"pending","envelope":"AQIDBAUGBwgJCgsMDQ4PEA==","key_ids":["0011223344556677"]}' \
	1 $FAR >"$T/rec"
req "$URLB" ws05.example.test PUT $W5/record "${J[@]}" -H 'If-None-Match: *' --data-binary @"$T/rec"
check "a pending record: 201" 201 "$S"
req "$URLA" admin GET $W5/record
rb=$(hdr Laps-Rotate-By)
check "  read on A while pending: the expiry moves" "$rb" "$(expiry_on_b ws05.example.test)"
req "$URLB" ws05.example.test POST $W5/confirm "${J[@]}" \
	--data "{\"rotation_id\":\"$(printf %032x 1)\",\"expires_at\":$FAR}"
check "  the device confirms: 200" 200 "$S"
check "  the confirm keeps the moved expiry (not the device's $FAR)" "$rb" "$(expiry_on_b ws05.example.test)"

# the unit's shorter grace wins
L=/v1/devices/pc1.lab.example.test/accounts/lapsadmin
put pc1.lab.example.test 1
t0=$(date +%s)
req "$URLA" admin GET $L/record
t1=$(date +%s)
check "read of a lab device on A: 200" 200 "$S"
rb=$(hdr Laps-Rotate-By)
[ -n "$rb" ] && [ "$rb" -ge $t0 ] && [ "$rb" -le $t1 ] &&
	ok "  unit lab (0s): Laps-Rotate-By is now" || not_ok "  Laps-Rotate-By '$rb' ($t0..$t1)"
sleep 1.1
req "$URLB" admin GET "/v1/report?status=overdue"
check "  B's report lists it as overdue a second later" True \
	"$(jget 'any(e["device"]=="pc1.lab.example.test" for e in d["entries"])')"

# a denied read moves nothing
req "$URLA" ws02.example.test GET $W1/record
check "a device reading a secret on A: 403" 403 "$S"

# --- fault: killed between the writes and the commit --------------------------
if grep -q '^#define LAPS_FAULT_INJECTION 1' "$top_builddir/config.h" 2>/dev/null; then
	put ws02.example.test 1
	W2=/v1/devices/ws02.example.test/accounts/lapsadmin
	a0=$(audit_reads ws02.example.test)
	kill "$PIDA" && wait "$PIDA" 2>/dev/null
	PIDA=
	start A "$T/a.conf" LAPS_ESCROWD_FAULT=read_before_commit:kill
	req "$URLA" admin GET $W2/record
	check "killed before COMMIT: the client got no answer" 000 "$S"
	grep -q AQIDBAUGBwgJCgsMDQ4PEA "$T/body" 2>/dev/null && not_ok "  but it got the envelope" ||
		ok "  no envelope reached the client"
	wait "$PIDA" 2>/dev/null
	PIDA=
	check "  B: the expiry did not move" $FAR "$(expiry_on_b ws02.example.test)"
	check "  B: no audit row for it" "$a0" "$(audit_reads ws02.example.test)"
	start A "$T/a.conf" LAPS_ESCROWD_FAULT=read_before_commit:fail
	req "$URLA" admin GET $W2/history
	check "a failed commit: 503, nothing answered" 503 "$S"
	check "  B: the expiry did not move" $FAR "$(expiry_on_b ws02.example.test)"
	check "  B: no audit row for it" "$a0" "$(audit_reads ws02.example.test)"
else
	echo "# fault cases skipped: laps-escrowd built without --enable-fault-injection"
fi

kill "$PIDB"
[ -n "$PIDA" ] && kill "$PIDA"
wait 2>/dev/null
PIDA= PIDB=
echo "# $FAILS failure(s)"
[ $FAILS -eq 0 ]
