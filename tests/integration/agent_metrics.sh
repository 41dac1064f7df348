#!/bin/sh
# agent_metrics.sh — [agent] metrics_file: after every run the file parses
# as the Prometheus text format (a strict parser, lib/promparse.py, and
# promtool when installed) and its values follow the runs: a rotation sets
# the last rotation time, a failing escrow sets the error code and keeps
# it, a journal left by a failure shows as pending, the next success
# clears the error.
. "${top_srcdir:-.}/tests/integration/agent_lib.sh"
need_root
need_fault_injection
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
PARSE=$top_srcdir/tests/integration/lib/promparse.py
M=$T/metrics/laps.prom

setup lapsadmin shadow
mkdir -p "$T/metrics"
write_conf "lapsadmin admin2" shadow "[agent]" "metrics_file = $M"

# parse: the file is valid; its samples in $T/parsed
parse() {
	python3 "$PARSE" "$M" > "$T/parsed" || { fail "$1: not valid text format"; cat "$M"; return 1; }
	if command -v promtool >/dev/null 2>&1; then
		promtool check metrics < "$M" > "$T/promtool" 2>&1 ||
			{ fail "$1: promtool check metrics"; cat "$T/promtool"; return 1; }
	fi
	return 0
}
val() { awk -v s="$1" '$1 == s { print $2 }' "$T/parsed"; }
acc() { val "laps_agent_account_$1{account=\"${2:-lapsadmin}\"}"; }

# 1. first run: both accounts rotated
before=$(date +%s)
agent run 2>"$T/err"; rc=$?
if [ "$rc" -eq 0 ] && parse "first run"; then
	r1=$(acc last_rotation_timestamp_seconds)
	[ "${r1:-0}" -ge "$before" ] && [ "$(acc last_error_code)" = 0 ] &&
	[ "$(acc journal_pending)" = 0 ] && [ "$(val laps_agent_last_run_exit_code{})" = 0 ] &&
	[ "$(val laps_agent_last_run_rotations{})" = 2 ] &&
	[ "$(acc expiry_timestamp_seconds)" -gt "$r1" ] &&
	[ "$(acc next_due_timestamp_seconds)" = "$(acc expiry_timestamp_seconds)" ] &&
	[ "$(acc last_rotation_timestamp_seconds admin2)" -ge "$before" ] &&
	[ "$(val 'laps_agent_info{version="'"$("$AGENT" --version | awk '{print $2}')"'",device="testhost",backend="file"}')" = 1 ] &&
		pass "success: last rotation $r1, no error, nothing pending, exit 0" ||
		{ fail "success: values"; cat "$M"; }
	[ "$(stat -c %a "$M")" = 644 ] && pass "mode 0644" || fail "mode $(stat -c %a "$M")"
	ls "$T/metrics" | grep -q tmp && fail "temporary file left" || pass "written atomically (no temporary left)"
else
	fail "first run (rc $rc)"; cat "$T/err"
fi

# 2. escrow fails: error code and time set, last rotation kept, exit code 3
"$TOOL" expire "$T/laps.conf" lapsadmin || exit 99
sleep 1
LAPS_FAULT=after_escrow_write:fail agent run 2>"$T/err"; rc=$?
if [ "$rc" -eq 3 ] && parse "escrow failure"; then
	[ "$(acc last_rotation_timestamp_seconds)" = "$r1" ] &&
	[ "$(acc last_error_code)" -gt 0 ] && [ "$(acc last_error_timestamp_seconds)" -gt "$r1" ] &&
	[ "$(acc journal_pending)" = 0 ] && [ "$(val laps_agent_last_run_exit_code{})" = 3 ] &&
	[ "$(acc last_error_code admin2)" = 0 ] &&
		pass "escrow failure: error code $(acc last_error_code), last rotation kept, exit 3" ||
		{ fail "escrow failure: values"; cat "$M"; }
else
	fail "escrow failure run (rc $rc)"; cat "$T/err"
fi

# 3. killed after escrowing: the journal is pending
LAPS_FAULT=after_journal_escrowed:fail agent run 2>"$T/err"; rc=$?
if [ "$rc" -ne 0 ] && parse "pending journal"; then
	[ "$(acc journal_pending)" = 1 ] && [ "$(acc journal_pending admin2)" = 0 ] &&
	[ "$(val laps_agent_last_run_exit_code{})" = "$rc" ] &&
		pass "journal left behind: pending 1, exit $rc" || { fail "pending: values"; cat "$M"; }
else
	fail "pending journal run (rc $rc)"; cat "$T/err"
fi

# 4. the next run recovers: pending 0, error cleared, a newer rotation
sleep 1
agent run 2>"$T/err"; rc=$?
if [ "$rc" -eq 0 ] && parse "recovery"; then
	[ "$(acc journal_pending)" = 0 ] && [ "$(acc last_error_code)" = 0 ] &&
	[ "$(acc last_error_timestamp_seconds)" = 0 ] &&
	[ "$(acc last_rotation_timestamp_seconds)" -gt "$r1" ] &&
	[ "$(val laps_agent_last_run_exit_code{})" = 0 ] &&
		pass "recovered: pending 0, error cleared, newer rotation" || { fail "recovery: values"; cat "$M"; }
else
	fail "recovery run (rc $rc)"; cat "$T/err"
fi

# 5. an unwritable metrics path never changes the run's outcome
write_conf lapsadmin shadow "[agent]" "metrics_file = $T/nodir/laps.prom"
agent run 2>"$T/err"; rc=$?
[ "$rc" -eq 0 ] && grep -q "LAPS-1060 metrics file $T/nodir/laps.prom" "$T/err" &&
	pass "unwritable metrics file: logged (LAPS-1060), exit 0" || { fail "unwritable (rc $rc)"; cat "$T/err"; }
# 6. the alert rules of docs/MONITORING.md load
if command -v promtool >/dev/null 2>&1; then
	awk '/^```yaml/ { on = 1; next } /^```/ { on = 0 } on' "$top_srcdir/docs/MONITORING.md" > "$T/rules.yml"
	promtool check rules "$T/rules.yml" > "$T/promtool" 2>&1 &&
		pass "docs/MONITORING.md alert rules: promtool check rules" ||
		{ fail "alert rules"; cat "$T/promtool"; }
fi
finish
