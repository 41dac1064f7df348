#!/bin/bash
# run-escrowd.sh — laps-escrowd under bench/bench_escrowd: N devices with
# their own mTLS certificates, concurrency C, on SQLite, on PostgreSQL with
# one instance and with two instances sharing the database.  Numbers only.
# Usage (from the build directory):
#   bench/run-escrowd.sh [-n devices] [-c concurrency] [-t server-threads]
#                        [-s sqlite|pg1|pg2 ...]
# Defaults: 10000 devices, concurrency 16, 4 threads per instance, all three.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/lib/postgres.sh"

n=10000 conc=16 threads=4 setups=()
while [ $# -gt 0 ]; do
	case $1 in
	-n) n=$2; shift ;;
	-c) conc=$2; shift ;;
	-t) threads=$2; shift ;;
	-s) setups+=("$2"); shift ;;
	*) echo "usage: $0 [-n devices] [-c concurrency] [-t threads] [-s sqlite|pg1|pg2]" >&2; exit 2 ;;
	esac
	shift
done
[ ${#setups[@]} -gt 0 ] || setups=(sqlite pg1 pg2)
prog=$top_builddir/bench/bench_escrowd
escrowd=$top_builddir/laps-escrowd
[ -x "$prog" ] || { echo "build it first: make bench/bench_escrowd" >&2; exit 2; }
[ -x "$escrowd" ] || { echo "build laps-escrowd first" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/laps-bench-escrowd.XXXXXX") || exit 2
PIDS=()
stop_servers() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PIDS=()
}
trap 'stop_servers; pg_cleanup; rm -rf "$T"' EXIT

ssl() { openssl "$@" >/dev/null 2>&1 || { echo "openssl $* failed" >&2; exit 2; }; }
ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench-ca \
	-keyout "$T/ca.key" -out "$T/ca.crt"
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$T/server.ext"
ssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=server \
	-keyout "$T/server.key" -out "$T/server.csr"
ssl x509 -req -in "$T/server.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
	-extfile "$T/server.ext" -out "$T/server.crt"

conf() { # conf STORE_URL
	cat >"$T/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $T/server.crt
key_file = $T/server.key
client_ca = $T/ca.crt
threads = $threads
max_connections = 1024

[store]
url = $1
history_size = 10

[limits]
rate = 100000
burst = 1000000
CONF
	chmod 600 "$T/escrowd.conf"
}
start_servers() { # start_servers COUNT -> URLS
	local i
	URLS=()
	for ((i = 0; i < $1; i++)); do
		rm -f "$T/port$i"
		"$escrowd" -c "$T/escrowd.conf" --port-file "$T/port$i" 2>>"$T/escrowd.log" &
		PIDS+=($!)
	done
	for ((i = 0; i < $1; i++)); do
		for _ in $(seq 400); do [ -s "$T/port$i" ] && break; sleep 0.05; done
		[ -s "$T/port$i" ] || { tail "$T/escrowd.log" >&2; exit 2; }
		URLS+=(-u "https://127.0.0.1:$(cat "$T/port$i")")
	done
}
peak_rss() { # VmHWM of every server, MiB
	local p out=
	for p in "${PIDS[@]}"; do
		out="$out $(awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$p/status") MiB"
	done
	echo "${out# }"
}

echo "laps-escrowd bench: $n devices, concurrency $conc, $threads threads/instance," \
	"$(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
for s in "${setups[@]}"; do
	case $s in
	sqlite) rm -f "$T/escrow.db"*; conf "sqlite:$T/escrow.db"; count=1 ;;
	pg1 | pg2)
		pg_cleanup
		pg_start --quiet || exit 2
		conf "postgresql:$PG_CONNINFO"
		count=${s#pg} ;;
	*) echo "unknown setup $s" >&2; exit 2 ;;
	esac
	start_servers "$count"
	echo
	echo "## $s: $count instance(s)"
	pidargs=()
	for p in "${PIDS[@]}"; do pidargs+=(-p "$p"); done
	"$prog" --ca-cert "$T/ca.crt" --ca-key "$T/ca.key" --cacert "$T/ca.crt" \
		"${URLS[@]}" -n "$n" -c "$conc" "${pidargs[@]}"
	echo "server peak RSS: $(peak_rss)"
	stop_servers
	[ "$s" = sqlite ] || pg_cleanup
done
