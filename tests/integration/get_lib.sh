# shellcheck shell=bash
#
# tests/integration/get_lib.sh -- helpers shared by the laps-get drivers
# (get_*.sh).  Source it from bash after setting nothing; it defines:
#
#   LAPS_GET   the laps-get binary in $top_builddir (under valgrind when
#              LAPS_TEST_VALGRIND is set)
#   MKREC      tests/unit/get_mkrecord (escrows records through the backend API)
#   T          a private temporary directory, removed at exit (get_cleanup)
#   run CMD... runs CMD, stdout in $T/out, stderr in $T/err, status in $rc
#   expect N DESC CMD...  runs CMD and fails the test unless it exits N
#   check DESC COND...    fails the test unless the test(1) expression holds
#   out_is TEXT           stdout equals TEXT plus a newline, byte for byte
#   err_has TEXT          stderr contains TEXT (fixed string)
#   fail MSG / finish     record a failure / exit 1 if any failed, else 0

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
LAPS_GET=$top_builddir/laps-get/laps-get
MKREC=$top_builddir/tests/unit/get_mkrecord
[ -x "$LAPS_GET" ] || { echo "missing $LAPS_GET (build it first)" >&2; exit 99; }

T=$(mktemp -d "${TMPDIR:-/tmp}/laps-get-test.XXXXXX") || exit 99
chmod 700 "$T"
_get_cleanups=()
get_cleanup() {
	local c
	for c in "${_get_cleanups[@]}"; do eval "$c"; done
	rm -rf "$T"
}
trap get_cleanup EXIT
on_exit() { _get_cleanups+=("$1"); }

# LAPS_TEST_VALGRIND=1: run laps-get under valgrind (errors -> exit 98,
# which no expectation accepts)
if [ -n "${LAPS_TEST_VALGRIND:-}" ] && command -v valgrind >/dev/null; then
	cat >"$T/laps-get-vg" <<VG
#!/bin/sh
exec valgrind -q --error-exitcode=98 --leak-check=full --errors-for-leak-kinds=definite "$LAPS_GET" "\$@"
VG
	chmod 755 "$T/laps-get-vg"
	LAPS_GET=$T/laps-get-vg
fi

failures=0
ntests=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

run() {
	rc=0
	"$@" >"$T/out" 2>"$T/err" || rc=$?
}

# Show what happened when an expectation fails.
_dump() {
	echo "--- command: $*" >&2
	echo "--- exit $rc; stdout:" >&2; sed 's/^/  | /' "$T/out" >&2
	echo "--- stderr:" >&2; sed 's/^/  | /' "$T/err" >&2
}

expect() {
	local want=$1 desc=$2
	shift 2
	ntests=$((ntests + 1))
	run "$@"
	if [ "$rc" != "$want" ]; then
		fail "$desc: exit $rc, expected $want"
		_dump "$@"
		return 1
	fi
	echo "ok: $desc"
	return 0
}

check() {
	local desc=$1
	shift
	ntests=$((ntests + 1))
	if test "$@"; then
		echo "ok: $desc"
	else
		fail "$desc ($*)"
	fi
}

out_is() {
	ntests=$((ntests + 1))
	if [ "$(cat "$T/out"; echo x)" = "$(printf '%s\n' "$1"; echo x)" ]; then
		echo "ok: stdout is exactly the expected text"
	else
		fail "stdout is not exactly '$1'"
		_dump
	fi
}

err_has() {
	ntests=$((ntests + 1))
	if grep -qF -- "$1" "$T/err"; then
		echo "ok: stderr mentions '$1'"
	else
		fail "stderr lacks '$1'"
		_dump
	fi
}

# json FILE EXPR: evaluate a python expression on the JSON document in FILE
# (bound to j) and print the result.
json() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

finish() {
	echo "$ntests checks, $failures failed"
	[ "$failures" -eq 0 ] || exit 1
	exit 0
}
