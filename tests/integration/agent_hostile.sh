#!/bin/sh
# agent_hostile.sh — laps-agent against a careless or hostile host (issue 16):
# every failure says why in one line, lock files that are FIFOs or symlinks
# are refused without blocking, inputs not owned by root are refused when
# running as root, and no journal temporary outlives a killed run.
. "${top_srcdir:-.}/tests/integration/agent_lib.sh"
need_root
setup lapsadmin shadow

# run_says NAME EXPECTED-RC PATTERN ARGS...: the agent (bounded by timeout)
# exits EXPECTED-RC and prints exactly one line matching PATTERN
run_says() {
	name=$1 want=$2 pat=$3; shift 3
	timeout 30 "$AGENT" -c "$T/laps.conf" "$@" > "$T/out" 2>&1; rc=$?
	n=$(wc -l < "$T/out")
	if [ "$rc" -eq "$want" ] && [ "$n" -eq 1 ] && grep -q -- "$pat" "$T/out"; then
		pass "$name: exit $rc, says: $(cat "$T/out")"
	else
		fail "$name: rc $rc (want $want), $n line(s):"; cat "$T/out"
	fi
}

# ---- 16.6 every failure speaks: state_dir and the run lock ----
agent run >/dev/null 2>&1 || fail "first run"
mv "$T/state" "$T/state.saved"
: > "$T/state"
run_says "state_dir is a regular file" 6 "$T/state.*not a directory" run
rm -f "$T/state"; mv "$T/state.saved" "$T/state"

rm -f "$T/state/lock"; mkfifo -m 0600 "$T/state/lock"
run_says "run lock is a FIFO" 6 "$T/state/lock: not a regular file" run
rm -f "$T/state/lock"; ln -s "$T/elsewhere" "$T/state/lock"
run_says "run lock is a symlink" 6 "$T/state/lock: is a symbolic link" run
[ ! -e "$T/elsewhere" ] && pass "symlinked lock: its target was not created" || fail "symlink followed"
rm -f "$T/state/lock"

# ---- 16.8 no blocking on a FIFO at <root>/etc/.pwd.lock ----
cp "$T/root/etc/shadow" "$T/shadow.0"
rm -f "$T/root/etc/.pwd.lock"; mkfifo -m 0600 "$T/root/etc/.pwd.lock"
run_says "<root>/etc/.pwd.lock is a FIFO" 4 "\.pwd\.lock: not a regular file" rotate
cmp -s "$T/shadow.0" "$T/root/etc/shadow" && pass "FIFO .pwd.lock: shadow untouched" || fail "shadow changed"
[ "$(check_invariant)" = "ok previous pending" ] && pass "FIFO .pwd.lock: escrow pending, previous password kept" ||
	fail "invariant: $(check_invariant)"
rm -f "$T/root/etc/.pwd.lock"
agent run >/dev/null 2>&1 && [ "$(check_invariant)" = "ok current confirmed" ] &&
	pass "FIFO removed: the pending rotation completes" || fail "recovery: $(check_invariant)"

finish
