#!/bin/sh
# tests/integration/pam_laps.sh — run tests/unit/test_pam_laps through the
# real libpam stack with pam_wrapper (service files written by the test
# into a private directory; the machine's /etc/pam.d is never read).
# Exit 77 (skip) without pam_wrapper/libpamtest, 99 on a setup error.
#
#   LAPS_TEST_PREFIX   optional command prefix, e.g. "valgrind -q
#                      --error-exitcode=1 --leak-check=full"
set -u
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
top_builddir=$(cd "$top_builddir" && pwd) || exit 99 # PAM needs absolute module paths
. "$top_srcdir/tests/integration/lib/pamwrap.sh"
prog=$top_builddir/tests/unit/test_pam_laps
module=$top_builddir/pam/.libs/pam_laps.so

if [ ! -x "$prog" ]; then
	echo "SKIP: $prog not built (configure found no libpamtest)"
	exit 77
fi
if [ ! -f "$module" ]; then
	echo "ERROR: $module not built"
	exit 99
fi

# libpam_wrapper.so and its test modules (pam_matrix, pam_set_items).
wrapper=$(pkg-config --libs pam_wrapper 2>/dev/null)
if [ ! -f "$wrapper" ]; then
	wrapper=$(/sbin/ldconfig -p 2>/dev/null | awk '/libpam_wrapper\.so / { print $NF; exit }')
fi
if [ -z "$wrapper" ] || [ ! -f "$wrapper" ]; then
	echo "SKIP: libpam_wrapper.so not found (apt-get install libpam-wrapper)"
	exit 77
fi
wrapmods=$(pkg-config --variable=modules pam_wrapper 2>/dev/null)
[ -n "$wrapmods" ] || wrapmods=$(dirname "$wrapper")/pam_wrapper
if [ ! -f "$wrapmods/pam_matrix.so" ] || [ ! -f "$wrapmods/pam_set_items.so" ]; then
	echo "SKIP: pam_wrapper's test modules not found in $wrapmods"
	exit 77
fi

# The system's pam_permit.so / pam_deny.so.
sysmods=
libpam=$(/sbin/ldconfig -p 2>/dev/null | awk '/libpam\.so\.0 / { print $NF; exit }')
for d in ${libpam:+"$(dirname "$libpam")/security"} /usr/lib/x86_64-linux-gnu/security \
	/lib/x86_64-linux-gnu/security /usr/lib64/security /lib64/security \
	/usr/lib/security /lib/security; do
	if [ -f "$d/pam_permit.so" ] && [ -f "$d/pam_deny.so" ]; then
		sysmods=$d
		break
	fi
done
if [ -z "$sysmods" ]; then
	echo "SKIP: pam_permit.so/pam_deny.so not found"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pam_laps.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT HUP INT TERM
mkdir "$tmp/services" || exit 99

# Under ASan the sanitizer runtime must come first in the preload list.
preload=$wrapper
asan=$(ldd "$prog" 2>/dev/null | awk '/libasan\.so/ { print $3; exit }')
if [ -n "$asan" ]; then
	preload="$asan $wrapper"
fi

# pam_syslog() under pam_wrapper goes to stderr with PAM_WRAPPER_DEBUGLEVEL
# >= 2; the test reads that log (PAM_LAPS_TEST_LOG) to check the messages.
log=$tmp/stderr.log
rc=0
pamwrap "$preload" "$tmp/services" env \
	PAM_WRAPPER_DEBUGLEVEL=2 PAM_LAPS_TEST_LOG="$log" \
	PAM_LAPS_MODULE="$module" PAM_WRAPPER_MODULES="$wrapmods" \
	PAM_SYSTEM_MODULES="$sysmods" \
	${LAPS_TEST_PREFIX:-} "$prog" "$@" 2>"$log" || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "--- stderr (pam_syslog messages and sanitizer reports):"
	grep -v 'PWRAP_DEBUG\|PWRAP_TRACE' "$log" | tail -n 60
	grep 'pam_laps' "$log" | tail -n 40
fi
exit "$rc"
