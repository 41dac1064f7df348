#!/bin/bash
# rest_faults.sh — laps-agent through backend = rest when the network and the
# server misbehave.  A hostile HTTPS front (lib/hostile_https.py) before the
# real laps-escrowd answers 429 with Retry-After (seconds and HTTP-date), 503
# storms, answers slower than the timeout, drops connections, and drops the
# answer to a PUT that reached the server; laps-escrowd is killed mid-rotation
# (the agent's fault injection points) and restarted.  Every case ends with
# the invariant: the escrow, read by an admin and decrypted, verifies
# against the account's shadow hash.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/agent_lib.sh"
need_root
. "$top_srcdir/tests/integration/rest_lib.sh"
rest_agent_setup
oidc_add_secret_client testhost "$T/testhost.secret" laps.device >/dev/null || exit 99
hostile_start

# the first rotation, straight to the server
rest_conf client_credentials
agent rotate >"$T/out" 2>&1 || { fail "baseline rotation"; cat "$T/out"; }

# case NAME PLAN EXPECT_RC [rest lines...]: rotate through the hostile front
case_() {
	local name=$1 plan=$2 want=$3 rc inv
	shift 3
	rest_conf client_credentials "$HOSTILE_URL"
	for l in "$@"; do sed -i "s|^${l%% =*} = .*|$l|" "$T/laps.conf"; done
	printf '%b' "$plan" >"$T/plan"
	cp "$T/root/etc/shadow" "$T/shadow.before"
	r0=$(record_of)
	agent rotate >"$T/out" 2>&1; rc=$?
	inv=$(check_rest_invariant)
	if [ $rc -ne "$want" ] || [ "${inv%% *}" != ok ]; then
		fail "$name: rc $rc (want $want), invariant '$inv'"; cat "$T/out"; return
	fi
	if [ "$want" -ne 0 ] && { ! cmp -s "$T/shadow.before" "$T/root/etc/shadow" ||
		[ "$(record_of)" != "$r0" ]; }; then
		fail "$name: gave up but something changed"; return
	fi
	pass "$name: rc $rc, invariant '$inv'"
}
case_ "429 with Retry-After: 1 (seconds), then served" '429 1\n' 0
grep -q "429 1" "$T/plan.log" && pass "the front saw the 429 case" || fail "plan not consumed"
case_ "429 with Retry-After as an HTTP-date" '429date 1\n' 0
case_ "503 storm shorter than the retries" '503\n503\n503\n' 0
case_ "503 storm longer than the retries: gives up, exit 3" '503\n503\n503\n503\n503\n503\n' 3
grep -q "gave up after 4 attempts" "$T/out" && pass "the message says it gave up after 4 attempts" ||
	{ fail "give-up message"; cat "$T/out"; }
case_ "answer slower than the timeout, then served" 'slow 5\n' 0
case_ "every answer slower than the timeout: exit 3" 'slow 5\nslow 5\nslow 5\nslow 5\n' 3 "retries = 3"
case_ "dropped connections, then served" 'drop\ndrop\n' 0
case_ "Retry-After beyond the budget: gives up at once, exit 3" '429 3600\n' 3 "budget = 20s"
grep -q "HTTP 429" "$T/out" && pass "the message names the 429" || { fail "429 message"; cat "$T/out"; }
# the PUT reaches the server but its answer is lost: the retried PUT is
# idempotent (same rotation id) and the rotation completes
case_ "answer to the PUT lost after it landed" 'pass\nafter-drop\n' 0
grep -c "^PUT" "$T/plan.log" | grep -qv '^0$' && pass "the front saw the PUT" || fail "no PUT seen"

# ---- the 412 re-read.  Rule: after a 412 to its PUT the backend reads the
# record again and counts the write as done only if the current record
# carries its own rotation id; any other rotation there is a conflict:
# exit 3, the local password untouched, the escrow as it was.
: >"$T/plan.log"
case_ "rule '412 re-read: only our own rotation counts': scripted 412, someone else's record there" \
	'pass\n412\nother-rotation\n' 3
grep -q "^PUT .* 412$" "$T/plan.log" && grep -q "^GET .* other-rotation$" "$T/plan.log" &&
	pass "  the front answered the PUT 412 and showed another rotation on the re-read" ||
	{ fail "  412 plan not played as written"; cat "$T/plan.log"; }
grep -q "changed since it was read (now rotation ffffffffffffffffffffffffffffffff)" "$T/out" &&
	pass "  the message names the other rotation" || { fail "  412 message"; cat "$T/out"; }
case_ "412 to a PUT that landed (its own rotation there on the re-read): the rotation completes" \
	'pass\nafter-412\n' 0
# a real concurrent writer: while the agent's PUT is held by the front, an
# admin forces the expiry directly at laps-escrowd (a write that changes the
# record's version); the held PUT then reaches laps-escrowd with a stale
# If-Match and gets a genuine 412, and the re-read finds a rotation that is
# not the one the agent is writing
rest_conf client_credentials "$HOSTILE_URL"
sed -i 's|^timeout = .*|timeout = 20s|' "$T/laps.conf"
printf 'pass\nslow 3\n' >"$T/plan"
: >"$T/plan.log"
cp "$T/root/etc/shadow" "$T/shadow.before"
r0=$(record_of)
agent rotate >"$T/out" 2>&1 &
apid=$!
for _ in $(seq 200); do grep -q "^PUT .* slow 3$" "$T/plan.log" && break; sleep 0.05; done
"$LAPSGET" -c "$T/admin.conf" --expire testhost >"$T/expire.out" 2>&1 || { fail "concurrent expire"; cat "$T/expire.out"; }
r1=$(record_of)
wait "$apid"; rc=$?
inv=$(check_rest_invariant)
if [ "$rc" -eq 3 ] && [ "${inv%% *}" = ok ] && cmp -s "$T/shadow.before" "$T/root/etc/shadow" &&
	[ "$(record_of | cut -d' ' -f2)" = "$(echo "$r0" | cut -d' ' -f2)" ] && [ "$r1" != "$r0" ]; then
	pass "rule '412 re-read: only our own rotation counts': real concurrent writer -> exit 3, local password untouched, invariant '$inv'"
else
	fail "rule '412 re-read: only our own rotation counts' broken (concurrent writer): rc $rc (want 3), invariant '$inv', record before '$r0' now '$(record_of)'"
	cat "$T/out" "$T/plan.log"
fi
grep -q "^PUT .* slow 3$" "$T/plan.log" && grep -q "changed since it was read" "$T/out" &&
	pass "  the held PUT met a real 412 from laps-escrowd" || { fail "  concurrent writer not played"; cat "$T/plan.log" "$T/out"; }

# ---- the server killed at each step of a rotation, then restarted ----
rest_conf client_credentials
if "$AGENT" --version | grep -q fault-injection; then
	for step in after_journal after_escrow_write after_journal_escrowed after_local_set \
		after_confirm; do
		"$LAPSGET" -c "$T/admin.conf" --expire testhost >/dev/null 2>&1
		LAPS_FAULT="$step:kill" agent run >/dev/null 2>&1
		escrowd_kill
		# with the server down the run fails (exit 3); the journal may set
		# the escrowed password locally (it is in the pending record)
		agent run >"$T/out" 2>&1; rc=$?
		[ $rc -eq 3 ] || { fail "$step: run with the server down: rc $rc"; cat "$T/out"; }
		escrowd_restart
		inv=$(check_rest_invariant)
		[ "${inv%% *}" = ok ] || { fail "$step: invariant with the server back: $inv"; continue; }
		agent run >"$T/out" 2>&1; rc=$?
		inv=$(check_rest_invariant)
		[ $rc -eq 0 ] && [ "$inv" = "ok current confirmed" ] && [ ! -e "$T/state/journal.lapsadmin" ] &&
			pass "agent killed $step, server killed and restarted: re-run completes ($inv)" ||
			{ fail "$step: re-run rc $rc, $inv"; cat "$T/out"; }
	done
else
	echo "# laps-agent without fault injection: kill cases skipped"
fi

# while the server is down: exit 3, local password untouched
escrowd_kill
cp "$T/root/etc/shadow" "$T/shadow.before"
agent rotate >"$T/out" 2>&1; rc=$?
[ $rc -eq 3 ] && cmp -s "$T/shadow.before" "$T/root/etc/shadow" && grep -qi "rest\|connect" "$T/out" &&
	pass "server down: exit 3, local password untouched" || { fail "server down rc $rc"; cat "$T/out"; }
escrowd_restart
[ "$(check_rest_invariant)" = "ok current confirmed" ] && pass "invariant after the outage" ||
	fail "invariant after the outage"
finish
