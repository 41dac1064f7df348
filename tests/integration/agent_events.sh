#!/bin/sh
# agent_events.sh — laps-agent's key outcomes carry the identifiers that
# docs/EVENTS.md documents for them: in the stderr text, and as journald
# fields when stderr is "the journal" (JOURNAL_STREAM names it; the native
# socket is one the test binds, LAPS_TEST_JOURNAL_SOCKET).
. "${top_srcdir:-.}/tests/integration/agent_lib.sh"
need_root
need_fault_injection
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }

doc_id() { awk -F' [|] ' -v n="$1" '$2 == n { sub(/^[|] /, "", $1); print $1 }' "$top_srcdir/docs/EVENTS.md"; }
# has FILE NAME TEXT: a line with NAME's documented id followed by TEXT
has() {
	id=$(doc_id "$2")
	[ -n "$id" ] && grep -q "$id $3" "$1"
}

setup lapsadmin shadow

# 1. a rotation, logged to the "journal"
python3 - "$T/journal.sock" "$T/journal.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
with open(sys.argv[2], "wb") as f:
    try:
        while True:
            f.write(s.recv(65536) + b"\0"); f.flush()
    except socket.timeout:
        pass
PY
RECV=$!
for _ in $(seq 100); do [ -S "$T/journal.sock" ] && break; sleep 0.2; done
[ -S "$T/journal.sock" ] || { echo "the test journal socket never appeared" >&2; exit 99; }
: > "$T/err"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/err") LAPS_TEST_JOURNAL_SOCKET="$T/journal.sock" \
	agent run 2>>"$T/err"
rc=$?
sleep 0.3
kill "$RECV" 2>/dev/null; wait "$RECV" 2>/dev/null
id=$(doc_id ROTATED); num=${id#LAPS-}
mid=$(sed -n 's/.*X('"$num"', ROTATED, [A-Z_]*, "\([0-9a-f]*\)".*/\1/p' "$top_srcdir/escrow/events.h")
if [ "$rc" -eq 0 ] && tr '\0' '\n' < "$T/journal.out" | grep -q "^MESSAGE=$id lapsadmin: password rotated" &&
   tr '\0' '\n' < "$T/journal.out" | grep -qx "LAPS_EVENT_ID=$num" &&
   tr '\0' '\n' < "$T/journal.out" | grep -qx "LAPS_EVENT=ROTATED" &&
   [ -n "$mid" ] && tr '\0' '\n' < "$T/journal.out" | grep -qx "MESSAGE_ID=$mid" &&
   tr '\0' '\n' < "$T/journal.out" | grep -qx "PRIORITY=5"; then
	pass "rotation: journald fields LAPS_EVENT_ID=$num, MESSAGE_ID, PRIORITY"
else
	fail "rotation: journald fields missing (rc $rc)"; tr '\0' '\n' < "$T/journal.out"; cat "$T/err"
fi
grep -q "password rotated" "$T/err" && fail "journal: the line went to stderr too" ||
	pass "journal: not duplicated on stderr"

# 2. the same without a journal: the text form on stderr
"$TOOL" expire "$T/laps.conf" lapsadmin || exit 99
agent run 2>"$T/err"
has "$T/err" ROTATED "lapsadmin: password rotated" && pass "rotation: $(doc_id ROTATED) on stderr" ||
	{ fail "rotation: no documented id on stderr"; cat "$T/err"; }

# 3. an escrow failure: local password untouched, LAPS_EV_ESCROW_FAILED
"$TOOL" expire "$T/laps.conf" lapsadmin || exit 99
LAPS_FAULT=after_escrow_write:fail agent run 2>"$T/err"
rc=$?
[ "$rc" -eq 3 ] && has "$T/err" ESCROW_FAILED "lapsadmin: escrow to backend 'file' failed" &&
	pass "escrow failure: $(doc_id ESCROW_FAILED), exit 3" || { fail "escrow failure (rc $rc)"; cat "$T/err"; }

# 4. a local failure: an account that cannot be rotated (missing; a locked
# or fresh one is rotated since issue 13)
write_conf ghost shadow
agent run 2>"$T/err"
rc=$?
[ "$rc" -eq 4 ] && has "$T/err" ACCOUNT_UNUSABLE "ghost: local account cannot be rotated" &&
	pass "unusable account: $(doc_id ACCOUNT_UNUSABLE), exit 4" || { fail "unusable account (rc $rc)"; cat "$T/err"; }

# 5. setting the password refused by the local policy (PAM, pam_wrapper)
if [ -n "$PAM_MATRIX" ] && [ -e "$PAM_TESTMOD" ] &&
   ! ldd "$AGENT" 2>/dev/null | grep -q libclang_rt.asan; then
	METHOD=pam
	write_conf lapsadmin pam
	setup_pam minlen=200
	agent run 2>"$T/err"
	rc=$?
	[ "$rc" -eq 4 ] && has "$T/err" LOCAL_SET_FAILED "lapsadmin: setting the local password failed" &&
		pass "local set refused: $(doc_id LOCAL_SET_FAILED), exit 4" ||
		{ fail "local set refused (rc $rc)"; cat "$T/err"; }
	METHOD=shadow
else
	echo "# pam_wrapper not usable: local-set failure case skipped"
fi

# 6. a bad configuration
write_conf lapsadmin shadow
echo "bogus = 1" >> "$T/laps.conf"
agent run 2>"$T/err"
rc=$?
[ "$rc" -eq 2 ] && has "$T/err" CONFIG_INVALID "configuration: " &&
	pass "bad configuration: $(doc_id CONFIG_INVALID), exit 2" || { fail "bad configuration (rc $rc)"; cat "$T/err"; }
finish
