#!/bin/bash
# ldap_backend.sh — the LDAP backend against a real slapd (tests/unit/test_ldap).
# Skips (77) without slapd/slapadd.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/lib/slapd.sh"

prog=$top_builddir/tests/unit/test_ldap
[ -x "$prog" ] || { echo "ldap_backend.sh: $prog not built" >&2; exit 99; }
run=()
# libldap's own leaks with client certificates (sanitizer builds)
LSAN_OPTIONS="suppressions=$top_srcdir/tests/integration/lib/lsan-libldap.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
if [ -n "${LAPS_TEST_VALGRIND:-}" ]; then
	run=(valgrind -q --error-exitcode=98 --leak-check=full --errors-for-leak-kinds=definite
		--suppressions="$top_srcdir/tests/integration/lib/valgrind-libldap.supp")
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/laps-ldap.XXXXXX") || exit 99
trap 'slapd_cleanup; rm -rf "$tmp"' EXIT
fail=0

# 1. the main suites
slapd_start "$tmp/slapd" --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
"${run[@]}" "$prog" || fail=1

# 2. slapd stopped (SIGSTOP): bounded by the timeout
slapd_pause
LDAP_TEST_MODE=paused "${run[@]}" "$prog" || fail=1
slapd_resume

# 3. slapd killed while connected, and down
LDAP_TEST_MODE=down "${run[@]}" "$prog" || fail=1
slapd_kill # reap it
slapd_restart || exit 99
# data survived the kill (the device entries are still there)
slapd_ldapsearch -b "$LDAP_DEVICES_BASE" '(cn=host1)' dn | grep -q '^dn: cn=host1' || {
	echo "FAIL: data lost after restart" >&2
	fail=1
}
slapd_cleanup

# 4. a directory without the laps and Microsoft schemas
SLAPD_DIR=
slapd_start "$tmp/noschema" --no-laps-schema --no-ms-schema --quiet || exit 99
LDAP_TEST_MODE=noschema "${run[@]}" "$prog" || fail=1
slapd_cleanup

# 5. the report slot: one paged search against a size limit (10) smaller
#    than the number of device entries (33)
SLAPD_DIR=
slapd_start "$tmp/report" --devices 30 --size-limit 10 --quiet || exit 99
LDAP_TEST_MODE=report "${run[@]}" "$prog" || fail=1
slapd_cleanup

exit $fail
