#!/bin/bash
# run-ldap.sh — start a throw-away slapd with N device entries and run
# bench/bench_ldap against it.  Usage (from the build directory):
#   bench/run-ldap.sh [-n devices] [-c workers] [-r rotations/worker]
#                     [-m pooled|agent] [-s laps|mslaps|legacy] [-R read-cycles] [--sync]
# Defaults: 10000 devices, 8 workers, 500 rotations each, pooled, schema laps.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/lib/slapd.sh"

n=10000 sync= args=()
while [ $# -gt 0 ]; do
	case $1 in
	-n) n=$2; args+=("$1" "$2"); shift ;;
	--sync) sync=--sync ;;
	*) args+=("$1") ;;
	esac
	shift
done
prog=$top_builddir/bench/bench_ldap
[ -x "$prog" ] || { echo "build it first: make bench/bench_ldap" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/laps-bench.XXXXXX") || exit 2
trap 'slapd_cleanup; rm -rf "$tmp"' EXIT
start=$(date +%s.%N)
slapd_start "$tmp/slapd" --devices "$n" $sync --quiet || exit 2
echo "slapd with $n devices ready in $(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo '?') s" \
	"(db $([ -n "$sync" ] && echo synced || echo nosync))"
"$prog" "${args[@]}"
