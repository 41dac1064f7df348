#!/bin/bash
# bench/run-poll.sh — what polling every 15 minutes costs a device: a
# no-op `laps-agent run` (nothing due: one metadata GET over mTLS) against a
# laps-escrowd of the same build, next to its floor (one curl process doing
# the same GET), and the cost per day at OnUnitActiveSec=15min (96 runs).
# Rotate after read ([policy] rotate_after_read, laps-escrowd(8)) needs the
# agent to poll that often; this shows it is cheap.  Numbers, not pass/fail.
#
#   bench/run-poll.sh [-b BUILDDIR] [-n ROUNDS]      (as root)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=.
rounds=30
while [ $# -gt 0 ]; do
	case $1 in
	-b) build=$2; shift ;;
	-n) rounds=$2; shift ;;
	*) echo "usage: bench/run-poll.sh [-b BUILDDIR] [-n ROUNDS]" >&2; exit 2 ;;
	esac
	shift
done
case $rounds in '' | *[!0-9]* | 0) echo "bench/run-poll.sh: -n ROUNDS" >&2; exit 2 ;; esac
build=$(cd "$build" && pwd)
AGENT=$build/laps-agent GET=$build/laps-get/laps-get EXEC=$build/bench/bench_exec
ESCROWD=$build/laps-escrowd
for f in "$AGENT" "$GET" "$EXEC" "$ESCROWD"; do
	[ -x "$f" ] || { echo "bench/run-poll.sh: $f not built (make && make bench/bench_exec)" >&2; exit 2; }
done
[ ! -d "$build/backends/.libs" ] || export LAPS_BACKEND_DIR=${LAPS_BACKEND_DIR:-$build/backends/.libs}
[ "$(id -u)" = 0 ] || { echo "bench/run-poll.sh: run as root (the agent refuses a config root does not own)" >&2; exit 2; }
for t in openssl curl; do command -v $t >/dev/null || { echo "bench/run-poll.sh: $t missing" >&2; exit 2; }; done

W=$(mktemp -d "${TMPDIR:-/tmp}/laps-poll.XXXXXX")
chmod 700 "$W"
ESCROWD_PID=
cleanup() {
	[ -z "$ESCROWD_PID" ] || { kill "$ESCROWD_PID" 2>/dev/null; wait "$ESCROWD_PID" 2>/dev/null; }
	rm -rf "$W"
}
trap cleanup EXIT
. "$top/tests/integration/lib/escrowd.sh"

dev=pollhost.example.test
pki_ca "$W/pki" "laps poll bench CA" &&
	pki_sign "$W/pki" server 'subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth' &&
	pki_sign "$W/pki" $dev 'extendedKeyUsage=clientAuth' ||
	{ cat "$W/pki/openssl.log" >&2; exit 1; }
"$GET" keygen -o "$W/admin.key" --no-passphrase >/dev/null 2>&1 || exit 1
cat >"$W/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $W/pki/server.crt
key_file = $W/pki/server.key
client_ca = $W/pki/ca.crt
[store]
url = sqlite:$W/escrow.db
[limits]
rate = 100000
burst = 100000
[policy]
rotate_after_read = 1h
CONF
chmod 600 "$W/escrowd.conf"
escrowd_spawn "$ESCROWD" "$W/escrowd.conf" "$W" || { cat "$W/escrowd.log" >&2; exit 1; }
R=$W/root
mkdir -p "$R/etc" "$R/state" && chmod 700 "$R/state"
printf 'root:x:0:0:root:/root:/bin/sh\nlapsadmin:x:1001:1001::/home/lapsadmin:/bin/sh\n' >"$R/etc/passwd"
printf 'root:*:19000:0:99999:7:::\nlapsadmin:*:19000:0:99999:7:::\n' >"$R/etc/shadow"
chmod 644 "$R/etc/passwd" && chmod 640 "$R/etc/shadow"
cat >"$W/laps.conf" <<CONF
[agent]
accounts = lapsadmin
method = shadow
root = $R
state_dir = $R/state
[escrow]
backend = rest
recipients = $W/admin.key.pub
device = $dev
[rest]
url = $ESCROWD_URL
auth = mtls
ca_file = $W/pki/ca.crt
cert_file = $W/pki/$dev.crt
key_file = $W/pki/$dev.key
CONF
chmod 600 "$W/laps.conf"
"$AGENT" -c "$W/laps.conf" run >"$W/out" 2>&1 || { cat "$W/out" >&2; exit 1; }

# median of column 1 (wall µs) and 3 (CPU µs), max of column 2 (RSS KiB)
measure() { # OUT CMD...: ROUNDS runs into OUT
	local out=$1 i
	shift
	: >"$out"
	for i in $(seq "$rounds"); do
		"$EXEC" "$@" >>"$out" || { echo "bench/run-poll.sh: $* failed" >&2; exit 1; }
	done
}
stat_of() { # FILE COL: the median
	sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}
measure "$W/laps" "$AGENT" -c "$W/laps.conf" run
measure "$W/floor" curl -sf --cacert "$W/pki/ca.crt" --cert "$W/pki/$dev.crt" \
	--key "$W/pki/$dev.key" -o /dev/null "$ESCROWD_URL/v1/devices/$dev/accounts/lapsadmin"
seq_now=$(curl -sf --cacert "$W/pki/ca.crt" --cert "$W/pki/$dev.crt" --key "$W/pki/$dev.key" \
	"$ESCROWD_URL/v1/devices/$dev/accounts/lapsadmin" | sed -n 's/.*"seq":\([0-9]*\).*/\1/p')

awk -v rounds="$rounds" -v seq="$seq_now" \
	-v lw="$(stat_of "$W/laps" 1)" -v lc="$(stat_of "$W/laps" 3)" \
	-v lr="$(sort -n -k2 "$W/laps" | tail -1 | cut -d' ' -f2)" \
	-v fw="$(stat_of "$W/floor" 1)" -v fc="$(stat_of "$W/floor" 3)" \
	-v fr="$(sort -n -k2 "$W/floor" | tail -1 | cut -d' ' -f2)" 'BEGIN {
	printf "%-36s %9s %9s %12s\n", "no-op run, median of " rounds, "wall ms", "CPU ms", "max RSS KiB"
	printf "%-36s %9.1f %9.1f %12d\n", "laps-agent run (rest, nothing due)", lw / 1000, lc / 1000, lr
	printf "%-36s %9.1f %9.1f %12d\n", "floor: curl GET metadata (mTLS)", fw / 1000, fc / 1000, fr
	printf "every 15 min (96 runs/day): laps %.2f s CPU/day, floor %.2f s CPU/day\n", 96 * lc / 1e6, 96 * fc / 1e6
	printf "record seq after all runs: %s (1 = no run rotated)\n", seq
}'
