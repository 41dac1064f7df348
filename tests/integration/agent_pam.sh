#!/bin/sh
# agent_pam.sh — the pam method through pam_wrapper: pam_chauthtok with our
# root-style password module, verification with pam_matrix; policy refusal
# and unexpected prompts leave the escrow consistent and are retried.
. "${top_srcdir:-.}/tests/integration/agent_lib.sh"
need_root
need_pam_wrapper
METHOD=pam
setup lapsadmin pam
setup_pam

agent run > "$T/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && [ "$(check_invariant)" = "ok current confirmed" ] &&
	! grep -q "initial-pw-1" "$T/passdb" && grep -q "^admin2:initial-pw-2:laps$" "$T/passdb" &&
	pass "pam: rotated, pam_matrix passdb holds the escrowed password, other user untouched" ||
	{ fail "pam first run rc $rc"; cat "$T/out" "$T/passdb"; }
out=$(agent run 2>&1 | grep -v PWRAP_); rc=$?
[ -z "$out" ] && pass "pam: nothing due: silent" || fail "pam nothing due: $out"

# policy refusal (pwquality-like): exit 4, PAM's message, journal kept
setup_pam minlen=99
cp "$T/passdb" "$T/passdb.0"
agent rotate > "$T/out" 2>&1; rc=$?
[ "$rc" -eq 4 ] && grep -q "refused by local policy" "$T/out" && grep -q "shorter than 99" "$T/out" &&
	pass "pam: refusal -> exit 4 with PAM's message" || { fail "refusal rc $rc"; cat "$T/out"; }
cmp -s "$T/passdb.0" "$T/passdb" && pass "pam: refusal left the password alone" || fail "passdb changed"
grep -q "^phase=escrowed$" "$T/state/journal.lapsadmin" 2>/dev/null &&
	[ "$(stat -c %a "$T/state/journal.lapsadmin")" = 600 ] &&
	pass "pam: journal kept in phase escrowed (0600)" || fail "journal state"
[ "$(check_invariant)" = "ok previous pending" ] && pass "pam: escrow shows pending + previous (the real one)" ||
	fail "invariant after refusal: $(check_invariant)"
agent status | grep -q "pending journal: phase escrowed" && pass "pam: status shows the pending journal" ||
	fail "status pending"
# the next run (policy fixed) finishes the same rotation
pend=$("$TOOL" show "$T/laps.conf" lapsadmin | cut -d' ' -f2)
setup_pam
agent run > "$T/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && [ "$(check_invariant)" = "ok current confirmed" ] &&
	[ "$("$TOOL" show "$T/laps.conf" lapsadmin | cut -d' ' -f2)" = "$pend" ] &&
	[ ! -e "$T/state/journal.lapsadmin" ] &&
	pass "pam: next run finishes the pending rotation" || { fail "retry rc $rc"; cat "$T/out"; }

# an unexpected (echoing) prompt is refused, not answered
setup_pam echo
agent rotate > "$T/out" 2>&1; rc=$?
[ "$rc" -eq 4 ] && grep -q "unexpected prompt" "$T/out" && [ "$(check_invariant)" = "ok previous pending" ] &&
	pass "pam: unexpected prompt refused (exit 4), escrow consistent" || { fail "echo prompt rc $rc"; cat "$T/out"; }
setup_pam
agent run >/dev/null 2>&1 && [ "$(check_invariant)" = "ok current confirmed" ] &&
	pass "pam: recovered after the prompt problem" || fail "recovery after echo"
finish
