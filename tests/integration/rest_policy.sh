#!/bin/bash
# rest_policy.sh — rotate after read end to end: a real laps-agent
# (backend = rest, shadow method on an alternate root) against a real
# laps-escrowd with [policy] rotate_after_read, and laps-get:
#   - rotate_after_read = 1h: laps-get prints "this password will be
#     rotated by HH:MM" (and --json "rotate_by"); the agent's next run does
#     not rotate (the grace has not passed)
#   - rotate_after_read = 0s: after laps-get's read the agent's next run
#     rotates, and the escrow verifies against the new shadow hash
#   - without the policy: no notice, and the agent's run does not rotate
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/agent_lib.sh"
need_root
. "$top_srcdir/tests/integration/rest_lib.sh"
rest_agent_setup

oidc_add_secret_client testhost "$T/testhost.secret" laps.device >/dev/null || exit 99
rest_conf client_credentials
agent rotate >"$T/out" 2>&1 || { fail "first rotation"; cat "$T/out"; finish; }
cp "$T/admin.conf" "$T/get.conf"

policy() { # policy [LINES...]: restart laps-escrowd (same port, same database) with [policy] LINES
	escrowd_kill
	escrowd_conf
	[ $# -gt 0 ] && printf '%s\n' "" "[policy]" "$@" >>"$T/escrowd.conf"
	escrowd_start
}
read_pw() { TZ=UTC "$LAPSGET" -c "$T/get.conf" -k "$T/admin.key" "$@" testhost >"$T/pw" 2>"$T/err"; }
rotation_id() { # the current rotation id, from the metadata (not a secret read)
	curl -sf --cacert "$T/pki/ca.crt" --cert "$T/pki/admin-robot.crt" --key "$T/pki/admin-robot.key" \
		"$ESCROWD_URL/v1/devices/testhost/accounts/lapsadmin" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["rotation_id"])'
}

# ---- no policy: no notice, nothing due ----
read_pw; rc=$?
r0=$(rotation_id)
agent run >"$T/out" 2>&1; rc2=$?
[ $rc -eq 0 ] && ! grep -q "rotated by" "$T/err" && [ $rc2 -eq 0 ] && [ "$(rotation_id)" = "$r0" ] &&
	pass "without the policy: no notice, the next run does not rotate" ||
	{ fail "no policy: rc $rc/$rc2"; cat "$T/err" "$T/out"; }

# ---- 1h: the notice, and the grace holds ----
policy "rotate_after_read = 1h"
t0=$(date +%s)
read_pw; rc=$?
t1=$(date +%s)
want0=$(date -u -d @$((t0 + 3600)) +%H:%M) want1=$(date -u -d @$((t1 + 3600)) +%H:%M)
[ $rc -eq 0 ] && { grep -q "this password will be rotated by $want0 " "$T/err" ||
	grep -q "this password will be rotated by $want1 " "$T/err"; } &&
	pass "laps-get prints 'this password will be rotated by $want0'" ||
	{ fail "notice: rc $rc"; cat "$T/err"; }
TZ=UTC "$LAPSGET" -c "$T/get.conf" -k "$T/admin.key" --json testhost >"$T/json" 2>"$T/err"; rc=$?
[ $rc -eq 0 ] && python3 -c '
import json, sys, datetime
d = json.load(open(sys.argv[1]))
t = datetime.datetime.fromisoformat(d["rotate_by"].replace("Z", "+00:00")).timestamp()
assert int(sys.argv[2]) + 3600 <= t <= int(sys.argv[3]) + 3601, (t, d["rotate_by"])' "$T/json" "$t0" "$(date +%s)" 2>"$T/perr" &&
	pass "laps-get --json has \"rotate_by\" (now + 1h)" || { fail "--json rotate_by rc $rc"; cat "$T/json" "$T/err" "$T/perr"; }
r0=$(rotation_id)
agent run >"$T/out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ "$(rotation_id)" = "$r0" ] &&
	pass "within the grace the agent's run does not rotate" || { fail "grace: rc $rc"; cat "$T/out"; }

# ---- 0s: the next run rotates ----
policy "rotate_after_read = 0s"
read_pw; rc=$?
r0=$(rotation_id)
sleep 1 # the expiry is the read's second: due from the next one
agent run >"$T/out" 2>&1; rc2=$?
r1=$(rotation_id)
[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ "$r1" != "$r0" ] &&
	[ "$(check_rest_invariant)" = "ok current confirmed" ] &&
	pass "after the read and the grace, laps-agent run rotates (escrow verifies against the shadow)" ||
	{ fail "rotate after read: rc $rc/$rc2 rotation $r0 -> $r1"; cat "$T/err" "$T/out"; }
policy
finish
