#!/bin/bash
# ldap_hostile.sh — the LDAP backend and laps-get against hostile servers
# (tests/integration/hostile_ldap.py on 127.0.0.1, free ports): a server that
# accepts StartTLS and then goes silent, an ldaps:// peer that never speaks
# TLS, an entry DN with a NUL byte, 64 MiB values.  A real slapd
# (lib/slapd.sh) provides the CA, the secrets and the failover target.
# Every program runs under timeout(1): a hang or a spin fails the test
# instead of hanging CI.  Skips (77) without slapd or python3.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/lib/slapd.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
command -v timeout >/dev/null || { echo "SKIP: timeout missing"; exit 77; }

prog=$top_builddir/tests/unit/test_ldap
get=$top_builddir/laps-get/laps-get
[ -x "$prog" ] && [ -x "$get" ] || { echo "ldap_hostile.sh: build first" >&2; exit 99; }
run=()
LSAN_OPTIONS="suppressions=$top_srcdir/tests/integration/lib/lsan-libldap.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
if [ -n "${LAPS_TEST_VALGRIND:-}" ]; then
	run=(valgrind -q --error-exitcode=98 --leak-check=full --errors-for-leak-kinds=definite
		--suppressions="$top_srcdir/tests/integration/lib/valgrind-libldap.supp")
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/laps-hostile.XXXXXX") || exit 99
chmod 700 "$tmp"
hostile_pids=()
cleanup() {
	local p
	for p in "${hostile_pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	slapd_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0

slapd_start "$tmp/slapd" --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc

# hostile VAR MODE [ARGS...]: start one server, set VAR to its ldap:// URI
hostile() {
	local var=$1 mode=$2 pf=$tmp/$2.port i
	shift 2
	python3 "$top_srcdir/tests/integration/hostile_ldap.py" --mode "$mode" \
		--port-file "$pf" "$@" &
	hostile_pids+=($!)
	for i in $(seq 200); do
		[ -s "$pf" ] && break
		sleep 0.05
	done
	[ -s "$pf" ] || { echo "hostile_ldap.py ($mode) did not start" >&2; exit 99; }
	printf -v "$var" 'ldap://127.0.0.1:%s' "$(cat "$pf")"
}
hostile HOSTILE_SILENT_URI silent
hostile HOSTILE_STARTTLS_URI silent-after-starttls
hostile HOSTILE_NULDN_URI nul-dn
hostile HOSTILE_HUGE_URI huge-value --size $((16 * 1024 * 1024))
hostile HOSTILE_BIG_URI huge-value --size $((256 * 1024))
export HOSTILE_SILENT_URI HOSTILE_STARTTLS_URI HOSTILE_NULDN_URI HOSTILE_HUGE_URI HOSTILE_BIG_URI

# 1. the backend: bounded by 2 s per URI; 120 s is "it hangs"
LDAP_TEST_MODE=hostile timeout -k 5 120 "${run[@]}" "$prog"
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: test_ldap (hostile) exited $rc (124 = hung)" >&2; fail=1; }

# 2. laps-get: the same bounds, exit 9 (server unreachable) with a reason
conf() { # URI TLS
	cat >"$tmp/get.conf" <<CONF
[escrow]
backend = ldap
[ldap]
uri = $1
tls = $2
ca_file = $LDAP_CA
bind = simple
bind_dn = $LDAP_READER_DN
bind_secret_file = $LDAP_READER_SECRET
base = $LDAP_DEVICES_BASE
timeout = 2s
CONF
	chmod 600 "$tmp/get.conf"
}
get_expect() { # WANT DESC
	local rc
	timeout -k 5 60 "$get" -c "$tmp/get.conf" --expire=now host1 >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne "$1" ]; then
		echo "FAIL: laps-get, $2: exit $rc, want $1 (124 = hung)" >&2
		sed 's/^/  | /' "$tmp/err" >&2
		fail=1
	fi
}
conf "$HOSTILE_STARTTLS_URI" starttls
get_expect 9 "StartTLS then silence"
grep -q "within 2 s\|timed out" "$tmp/err" || { echo "FAIL: no timeout reason" >&2; cat "$tmp/err" >&2; fail=1; }
# the same with the client's socket blocking when the handshake starts (the
# state a fault run once caught: still in gnutls_handshake 6.4 s after the
# server stopped answering, with timeout = 2s); lib/blocking_sockets.c keeps
# every socket blocking.  Bound: 2 s, plus slack; timeout(1) at 20 s.
shim=$top_builddir/tests/.libs/blocking_sockets.so
if [ -f "$shim" ]; then
	pre=$shim
	asan=$(ldd "$get" 2>/dev/null | awk '/libasan/ {print $3}')
	[ -n "$asan" ] && pre="$asan:$pre"
	conf "$HOSTILE_STARTTLS_URI" starttls
	t0=$(date +%s)
	LD_PRELOAD=$pre timeout -k 2 20 "$get" -c "$tmp/get.conf" --expire=now host1 >"$tmp/out" 2>"$tmp/err"
	rc=$? t=$(($(date +%s) - t0))
	if [ $rc -eq 9 ] && [ $t -le 5 ] && grep -q "within 2 s\|timed out" "$tmp/err"; then
		echo "ok - StartTLS then silence on a blocking socket: exit 9 after ${t}s"
	else
		echo "FAIL: StartTLS then silence on a blocking socket: exit $rc after ${t}s (want 9 within 5 s; 124 = hung)" >&2
		sed 's/^/  | /' "$tmp/err" >&2
		fail=1
	fi
else
	echo "FAIL: $shim not built" >&2
	fail=1
fi
conf "ldaps://127.0.0.1:${HOSTILE_SILENT_URI##*:}" ldaps
get_expect 9 "ldaps peer that never speaks TLS"
conf "$HOSTILE_STARTTLS_URI $HOSTILE_SILENT_URI" starttls
get_expect 9 "two silent servers"
grep -q "all 2 servers failed" "$tmp/err" || { echo "FAIL: not both servers tried" >&2; cat "$tmp/err" >&2; fail=1; }
conf "$HOSTILE_NULDN_URI" none
get_expect 8 "entry DN with a NUL byte"

exit $fail
