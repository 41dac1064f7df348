#!/bin/bash
# escrowd_approval.sh — the two-person rule ([policy] approval = eu) with
# three administrators whose rights come in tokens from the suite's OIDC
# issuer (npm oidc-provider, lib/oidc.sh): alice (laps.secret, the
# requester), bob (laps.secret laps.approve, the approver), carol
# (laps.secret, an outsider).  A read in unit eu is 403 approval_required
# until bob approves alice's request (reason mandatory); it is then hers
# alone; nobody approves their own request; a request is decided once; an
# expired request or approval is refused; a denial leaves the read
# refused; break-glass reads are refused with break_glass = no and allowed
# (audited as break_glass_read, with the reason) with yes.  Devices outside
# the unit need no approval.  ESCROWD_STORE_URL=postgresql:CONNINFO
# (escrowd_approval_pg.sh) runs it on PostgreSQL; by default SQLite.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
. "$top_srcdir/tests/integration/lib/oidc.sh"
ESCROWD=$top_builddir/laps-escrowd
for t in openssl curl python3; do command -v $t >/dev/null || exit 77; done
[ -x "$ESCROWD" ] || exit 99
STORE=${ESCROWD_STORE_URL:-}
[ -n "$STORE" ] || command -v sqlite3 >/dev/null || { echo "sqlite3 missing"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/escrowd-approval.XXXXXX") || exit 99
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; oidc_cleanup; rm -rf "$T"' EXIT
oidc_start "$T/o" --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
[ -n "$STORE" ] || STORE=sqlite:$T/escrow.db
FAILS=0
check() { if [ "$2" = "$3" ]; then echo "ok - $1"; else echo "not ok - $1 (expected '$2', got '$3')"; FAILS=$((FAILS + 1)); fi; }
sql() {
	case $STORE in
	sqlite:*) sqlite3 -cmd '.timeout 5000' "${STORE#sqlite:}" "$1" ;;
	postgresql:*) psql -X -q -A -t -v ON_ERROR_STOP=1 "${STORE#postgresql:}" -c "$1" ;;
	esac
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$T/server.key" -out "$T/server.crt" >/dev/null 2>&1 || exit 99
conf() { # conf BREAK_GLASS
	cat >"$T/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $T/server.crt
key_file = $T/server.key
[store]
url = $STORE
[oidc]
issuer = $OIDC_ISSUER
audience = $OIDC_AUDIENCE
ca_file = $OIDC_CA
[authz]
device_prefix = device-
units = eu:*.eu.example.test
[policy]
approval = eu
approval_ttl = 1h
break_glass = $1
CONF
	chmod 600 "$T/escrowd.conf"
}
start() {
	rm -f "$T/port"
	"$ESCROWD" -c "$T/escrowd.conf" --port-file "$T/port" 2>>"$T/escrowd.log" &
	PID=$!
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
	[ -s "$T/port" ] || { cat "$T/escrowd.log"; exit 99; }
	URL=https://127.0.0.1:$(cat "$T/port")
}
conf no
out=$("$ESCROWD" -c "$T/escrowd.conf" check-config 2>&1)
case $out in *"approval needed in unit eu"*"approval_ttl 1h"*"break_glass no"*) echo "ok - check-config prints the approval policy" ;;
	*) echo "not ok - check-config: $out"; FAILS=$((FAILS + 1)) ;; esac
start

token() { # token CLIENT SCOPE
	oidc_token_secret "$1" "$T/$1.secret" "$2" | oidc_json access_token >"$T/tok.$1"
}
for d in ws01.eu.example.test ws02.example.test; do
	oidc_add_secret_client device-$d "$T/device-$d.secret" laps.device
	token device-$d laps.device
done
oidc_add_secret_client alice "$T/alice.secret" "laps.read laps.secret"
oidc_add_secret_client bob "$T/bob.secret" "laps.read laps.secret laps.approve"
oidc_add_secret_client carol "$T/carol.secret" "laps.read laps.secret"
token alice "laps.read laps.secret"
token bob "laps.read laps.secret laps.approve"
token carol "laps.read laps.secret"
req() { # req WHO METHOD PATH [curl args]
	local who=$1 m=$2 p=$3
	shift 3
	S=$(curl -sS --cacert "$T/server.crt" -H "Authorization: Bearer $(cat "$T/tok.$who")" -X "$m" \
		-o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@" "$URL$p")
}
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/body" "$1" 2>/dev/null; }
J=(-H 'Content-Type: application/json')
EU=/v1/devices/ws01.eu.example.test/accounts/lapsadmin
HQ=/v1/devices/ws02.example.test/accounts/lapsadmin
for d in ws01.eu.example.test ws02.example.test; do
	printf '{"v":1,"device":"%s","account":"lapsadmin","uid":1001,"rotation_id":"%032x","rotated_at":1700000000,"expires_at":1800000000,"state":"confirmed","envelope":"AQIDBAUGBwgJCgsMDQ4PEA==","key_ids":["0011223344556677"]}' $d 1 >"$T/r"
	req device-$d PUT /v1/devices/$d/accounts/lapsadmin/record "${J[@]}" -H 'If-None-Match: *' --data-binary @"$T/r"
	check "device $d creates its record" 201 "$S"
done
has_envelope() { grep -q AQIDBAUGBwgJCgsMDQ4PEA "$T/body" && echo yes || echo no; }

# --- without approval -----------------------------------------------------------
req alice GET $HQ/record
check "outside unit eu no approval is needed" "200 yes" "$S $(has_envelope)"
req alice GET $EU/record
check "alice reads in eu without approval: 403 approval_required, no envelope" \
	"403 approval_required no" "$S $(jget 'd["code"]') $(has_envelope)"
req alice GET $EU/history
check "  the history too" "403 approval_required" "$S $(jget 'd["code"]')"
check "  both refusals audited" 2 "$(sql "SELECT count(*) FROM audit WHERE outcome = 'denied' AND device = 'ws01.eu.example.test' AND action IN ('read_secret','read_history')")"

# --- requesting -------------------------------------------------------------------
req alice POST $EU/approval-request "${J[@]}" --data '{}'
check "a request without a reason: 400" 400 "$S"
req alice POST $EU/approval-request "${J[@]}" --data '{"reason":""}'
check "an empty reason: 400" 400 "$S"
req alice POST $EU/approval-request "${J[@]}" --data '{"reason":"INC-1234"}'
check "alice requests with a reason: 201 pending" "201 pending" "$S $(jget 'd["state"]')"
ID=$(jget 'd["id"]')
check "  audited (approval_request, with the reason)" 1 "$(sql "SELECT count(*) FROM audit WHERE action = 'approval_request' AND detail = 'INC-1234'")"
req alice GET /v1/approvals
check "alice (no approve right) cannot list approvals: 403" 403 "$S"
req bob GET /v1/approvals
check "bob lists it" "200 INC-1234" "$S $(jget '[a["reason"] for a in d["approvals"] if a["id"]=='$ID'][0]')"

# --- deciding ---------------------------------------------------------------------
req bob POST $EU/approval-request "${J[@]}" --data '{"reason":"INC-5"}'
BID=$(jget 'd["id"]')
req bob POST /v1/approvals/$BID/approve "${J[@]}" --data '{}'
check "bob approves his own request: 403 self_approval" "403 self_approval" "$S $(jget 'd["code"]')"
check "  it stays pending" pending "$(sql "SELECT state FROM approvals WHERE id = $BID")"
req bob GET $EU/record
check "  and bob still cannot read" 403 "$S"
req carol POST /v1/approvals/$ID/approve "${J[@]}" --data '{}'
check "carol (no approve right) approves: 403" "403 forbidden" "$S $(jget 'd["code"]')"
req alice POST /v1/approvals/$ID/approve "${J[@]}" --data '{}'
check "alice approves her own (no approve right either): 403" 403 "$S"
check "  still pending" pending "$(sql "SELECT state FROM approvals WHERE id = $ID")"
req bob POST /v1/approvals/$ID/approve "${J[@]}" --data '{}'
check "bob approves alice's request" "200 approved" "$S $(jget 'd["state"]')"
req bob POST /v1/approvals/$ID/deny "${J[@]}" --data '{}'
check "  deciding it again: 409 approval_closed" "409 approval_closed" "$S $(jget 'd["code"]')"
req alice GET $EU/record
check "alice now reads the record" "200 yes" "$S $(has_envelope)"
req alice GET $EU/history
check "  and its history" 200 "$S"
req carol GET $EU/record
check "carol still cannot (the approval is alice's)" "403 approval_required" "$S $(jget 'd["code"]')"
req bob GET $EU/record
check "nor can bob" 403 "$S"
check "audit: approve by bob, alice's reads allowed" "1 2" \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'approval_approve' AND outcome = 'allowed' AND actor LIKE 'bob%'") $(sql "SELECT count(*) FROM audit WHERE device = 'ws01.eu.example.test' AND action IN ('read_secret','read_history') AND outcome = 'allowed'")"

# --- expiry -----------------------------------------------------------------------
sql "UPDATE approvals SET expires_at = 1 WHERE id = $ID" >/dev/null
req alice GET $EU/record
check "an expired approval: 403 approval_required" "403 approval_required" "$S $(jget 'd["code"]')"
req alice POST $EU/approval-request "${J[@]}" --data '{"reason":"INC-1235"}'
ID2=$(jget 'd["id"]')
sql "UPDATE approvals SET expires_at = 1 WHERE id = $ID2" >/dev/null
req bob GET /v1/approvals
check "an expired request is not listed" False "$(jget 'any(a["id"]=='$ID2' for a in d["approvals"])')"
req bob POST /v1/approvals/$ID2/approve "${J[@]}" --data '{}'
check "approving an expired request: 409" "409 approval_closed" "$S $(jget 'd["code"]')"
check "  it stays pending, unusable" pending "$(sql "SELECT state FROM approvals WHERE id = $ID2")"
req alice GET $EU/record
check "  alice still cannot read" 403 "$S"

# --- deny ---------------------------------------------------------------------------
req alice POST $EU/approval-request "${J[@]}" --data '{"reason":"INC-1236"}'
ID3=$(jget 'd["id"]')
req bob POST /v1/approvals/$ID3/deny "${J[@]}" --data '{}'
check "bob denies" "200 denied" "$S $(jget 'd["state"]')"
req alice GET $EU/record
check "  alice cannot read" 403 "$S"

# --- break glass -----------------------------------------------------------------
req alice GET $EU/record -H 'Laps-Break-Glass: INC-9 datacenter fire'
check "break-glass with break_glass = no: 403 break_glass_disabled, no envelope" \
	"403 break_glass_disabled no" "$S $(jget 'd["code"]') $(has_envelope)"
kill "$PID"; wait "$PID" 2>/dev/null; PID=
conf yes
start
req alice GET $EU/record -H 'Laps-Break-Glass: INC-9 datacenter fire'
check "break-glass with break_glass = yes: 200" "200 yes" "$S $(has_envelope)"
check "  audited as break_glass_read with the reason" 1 \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'break_glass_read' AND outcome = 'allowed' AND detail = 'INC-9 datacenter fire'")"
check "  logged as event LAPS-3014 (BREAK_GLASS_READ), not as an ordinary read" 1 \
	"$(grep -c 'LAPS-3014.*action=break_glass_read.*detail=INC-9 datacenter fire' "$T/escrowd.log")"
req alice GET $EU/record
check "  without the header still 403" 403 "$S"
req carol GET $EU/record -H 'Laps-Break-Glass;'
check "  an empty reason: 400, no envelope" "400 no" "$S $(has_envelope)"
req bob GET "/v1/audit?action=break_glass_read"
check "the audit query knows the action (bob has no audit right: 403)" 403 "$S"

# --- laps-get: request, approvals, approve, deny, --break-glass ---------------------
LAPSGET=$top_builddir/laps-get/laps-get
if [ -x "$LAPSGET" ] && [ "$(id -u)" = 0 ]; then
	export LAPS_BACKEND_DIR=${LAPS_BACKEND_DIR:-$top_builddir/backends/.libs}
	cat "$T/server.crt" "$OIDC_CA" >"$T/cas.pem"
	getconf() { # getconf WHO SCOPE
		cat >"$T/$1.conf" <<CONF
[escrow]
backend = rest
[rest]
url = $URL
auth = client_credentials
ca_file = $T/cas.pem
token_url = $OIDC_TOKEN_ENDPOINT
client_id = $1
client_secret_file = $T/$1.secret
scope = $2
CONF
		chmod 600 "$T/$1.conf"
	}
	getconf alice "laps.read laps.secret"
	getconf bob "laps.read laps.secret laps.approve"
	lg() { local who=$1; shift; "$LAPSGET" -c "$T/$who.conf" "$@" >"$T/lg.out" 2>"$T/lg.err"; }
	lg alice request ws01.eu.example.test
	check "laps-get request without --reason: refused" 1 $?
	lg alice request ws01.eu.example.test --reason "INC-2000"; rc=$?
	LID=$(sed -n 's/^\([0-9][0-9]*\)  .*pending.*INC-2000$/\1/p' "$T/lg.out")
	[ $rc -eq 0 ] && [ -n "$LID" ] && grep -q "laps-get approve $LID" "$T/lg.err" &&
		check "laps-get request: the request's ID and the next step" ok ok ||
		check "laps-get request (rc $rc): $(cat "$T/lg.out" "$T/lg.err")" ok fail
	lg bob approvals
	check "laps-get approvals (bob) lists it" 1 "$(grep -c "^$LID  ws01.eu.example.test/lapsadmin  pending  by alice.*INC-2000" "$T/lg.out")"
	lg alice approvals
	check "laps-get approvals (alice, no approve right): refused" 1 "$([ -s "$T/lg.out" ] && echo 0 || echo 1)"
	lg alice approve "$LID"
	check "laps-get approve of one's own request (alice): refused" "pending" "$(sql "SELECT state FROM approvals WHERE id = $LID")"
	lg bob approve "$LID"
	check "laps-get approve (bob)" "0 approved" "$? $(sql "SELECT state FROM approvals WHERE id = $LID")"
	lg bob approve "$LID"
	check "  a second decision: refused" 1 "$([ $? -ne 0 ] && echo 1 || echo 0)"
	lg alice request ws01.eu.example.test --reason "INC-2001"
	LID2=$(sed -n 's/^\([0-9][0-9]*\)  .*/\1/p' "$T/lg.out")
	lg bob deny "$LID2"
	check "laps-get deny (bob)" "0 denied" "$? $(sql "SELECT state FROM approvals WHERE id = $LID2")"
	"$LAPSGET" -c "$T/alice.conf" --break-glass ws01.eu.example.test >/dev/null 2>&1
	check "laps-get --break-glass without --reason: usage error" 1 $?
	# alice's approval (LID) is valid: her ordinary read passes the gate (the record's
	# envelope is a test blob, so laps-get fails to open it: exit 5, not a refusal)
	"$LAPSGET" -c "$T/alice.conf" -k /nonexistent ws01.eu.example.test >/dev/null 2>"$T/lg.err"
	grep -q approval_required "$T/lg.err" && check "laps-get read with the approval" passed refused ||
		check "laps-get read with the approval passes the gate" ok ok
	sql "UPDATE approvals SET expires_at = 1 WHERE id = $LID" >/dev/null
	"$LAPSGET" -c "$T/alice.conf" -k /nonexistent ws01.eu.example.test >/dev/null 2>"$T/lg.err"
	check "laps-get read after the approval expired: approval_required" 1 "$(grep -c approval_required "$T/lg.err")"
	"$LAPSGET" -c "$T/alice.conf" -k /nonexistent --break-glass --reason "INC-3000 outage" \
		ws01.eu.example.test >/dev/null 2>"$T/lg.err"
	check "laps-get --break-glass --reason: the read is allowed and audited" 1 \
		"$(sql "SELECT count(*) FROM audit WHERE action = 'break_glass_read' AND detail = 'INC-3000 outage'")$(grep -c approval_required "$T/lg.err" | sed 's/^0$//')"
else
	echo "# laps-get cases skipped (not built, or not root)"
fi

kill "$PID"; wait "$PID" 2>/dev/null; PID=
echo "# $FAILS failure(s)"
[ $FAILS -eq 0 ]
