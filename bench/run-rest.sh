#!/bin/bash
# run-rest.sh — the fleet through the real REST backend (bench/bench_rest)
# next to the raw libcurl driver (bench/bench_escrowd), against one
# laps-escrowd on 127.0.0.1.  Numbers only.
# Usage (from the build directory, as root or as the owner of the build):
#   bench/run-rest.sh [-n devices] [-c concurrency] [-t server-threads]
#                     [-r rounds] [-s sqlite|pg ...] [-d agent|fresh|raw ...]
# Defaults: 10000 devices, concurrency 16, 4 server threads, 1 rotation
# round, setup sqlite (pg: a throw-away PostgreSQL from
# tests/integration/lib/postgres.sh), drivers agent, fresh and raw:
#   agent  bench_rest: one backend instance per device run (as laps-agent)
#   fresh  bench_rest -m fresh: a new instance, so a new TLS connection,
#          per request
#   raw    bench_escrowd: plain libcurl, a new TLS connection per request
# Each driver gets a fresh server and database.  When unshare(1) can make a
# network namespace (root), everything runs in its own, so the "conns"
# column (TCP connections accepted per unit, from /proc/net/snmp) counts
# only this benchmark's connections.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/.." && pwd)}"
: "${top_builddir:=$PWD}"
top_builddir=$(cd "$top_builddir" && pwd)
export top_srcdir top_builddir

if [ -z "${LAPS_BENCH_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
	unshare --net true 2>/dev/null && command -v ip >/dev/null; then
	# shellcheck disable=SC2016 # "$0" "$@" are the inner sh's
	exec env LAPS_BENCH_NETNS=1 unshare --net -- \
		sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
. "$top_srcdir/tests/integration/lib/postgres.sh"

n=10000 conc=16 threads=4 rounds=1 setups=() drivers=()
while [ $# -gt 0 ]; do
	case $1 in
	-n) n=$2; shift ;;
	-c) conc=$2; shift ;;
	-t) threads=$2; shift ;;
	-r) rounds=$2; shift ;;
	-s) setups+=("$2"); shift ;;
	-d) drivers+=("$2"); shift ;;
	*) echo "usage: $0 [-n devices] [-c concurrency] [-t threads] [-r rounds]" \
		"[-s sqlite|pg] [-d agent|fresh|raw]" >&2; exit 2 ;;
	esac
	shift
done
[ ${#setups[@]} -gt 0 ] || setups=(sqlite)
[ ${#drivers[@]} -gt 0 ] || drivers=(agent fresh raw)
rest=$top_builddir/bench/bench_rest
raw=$top_builddir/bench/bench_escrowd
escrowd=$top_builddir/laps-escrowd
for f in "$rest" "$raw" "$escrowd"; do
	[ -x "$f" ] || { echo "build it first: make laps-escrowd bench/bench_rest bench/bench_escrowd" >&2; exit 2; }
done
# the build's own modules, not an installed set (the loader checks owner and mode)
export LAPS_BACKEND_DIR=${LAPS_BACKEND_DIR:-$top_builddir/backends/.libs}
[ -f "$LAPS_BACKEND_DIR/rest.so" ] || { echo "no rest.so in $LAPS_BACKEND_DIR" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/laps-bench-rest.XXXXXX") || exit 2
chmod 700 "$T"
PID=
stop_server() {
	[ -z "$PID" ] || { kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
	PID=
}
trap 'stop_server; pg_cleanup; rm -rf "$T"' EXIT

ssl() { openssl "$@" >/dev/null 2>&1 || { echo "openssl $* failed" >&2; exit 2; }; }
ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench-ca \
	-keyout "$T/ca.key" -out "$T/ca.crt"
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$T/server.ext"
ssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=server \
	-keyout "$T/server.key" -out "$T/server.csr"
ssl x509 -req -in "$T/server.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
	-extfile "$T/server.ext" -out "$T/server.crt"
mkdir -m 700 "$T/dev"

conf() { # conf STORE_URL
	cat >"$T/escrowd.conf" <<CONF
[server]
listen = 127.0.0.1:0
cert_file = $T/server.crt
key_file = $T/server.key
client_ca = $T/ca.crt
threads = $threads
max_connections = 1024
max_per_ip = 1024

[store]
url = $1
history_size = 10

[limits]
rate = 100000
burst = 1000000
CONF
	chmod 600 "$T/escrowd.conf"
}
start_server() { # -> URL, PID
	rm -f "$T/port"
	"$escrowd" -c "$T/escrowd.conf" --port-file "$T/port" 2>>"$T/escrowd.log" &
	PID=$!
	for _ in $(seq 400); do [ -s "$T/port" ] && break; sleep 0.05; done
	[ -s "$T/port" ] || { tail "$T/escrowd.log" >&2; exit 2; }
	URL=https://127.0.0.1:$(cat "$T/port")
}
peak_rss() { awk '/^VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$PID/status"; }
fresh_store() { # SETUP
	case $1 in
	sqlite) rm -f "$T/escrow.db"*; conf "sqlite:$T/escrow.db" ;;
	pg)
		pg_cleanup
		pg_start --quiet || exit 2
		conf "postgresql:$PG_CONNINFO" ;;
	*) echo "unknown setup $1" >&2; exit 2 ;;
	esac
}

echo "laps-escrowd REST fleet bench: $n devices, concurrency $conc, $threads server threads," \
	"$rounds rotation round(s), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)," \
	"$(date -u +%Y-%m-%dT%H:%MZ)"
[ -n "${LAPS_BENCH_NETNS:-}" ] && echo "(own network namespace: conns counts this benchmark only)" ||
	echo "(no own network namespace: conns counts every TCP connection accepted on the machine)"
ca=(--ca-cert "$T/ca.crt" --ca-key "$T/ca.key" --cacert "$T/ca.crt")
for s in "${setups[@]}"; do
	for d in "${drivers[@]}"; do
		fresh_store "$s"
		start_server
		echo
		case $d in
		agent | fresh)
			echo "## $s, bench_rest -m $d (the REST backend, $([ "$d" = agent ] &&
				echo "one instance per device run" || echo "one instance per request"))"
			rm -rf "${T:?}/dev" && mkdir -m 700 "$T/dev"
			"$rest" "${ca[@]}" -u "$URL" -d "$T/dev" -n "$n" -c "$conc" -r "$rounds" \
				-m "$d" -p "$PID" ;;
		raw)
			echo "## $s, bench_escrowd (raw libcurl, a new TLS connection per request)"
			"$raw" "${ca[@]}" -u "$URL" -n "$n" -c "$conc" -p "$PID" ;;
		*) echo "unknown driver $d" >&2; exit 2 ;;
		esac
		echo "server peak RSS: $(peak_rss)"
		stop_server
		[ "$s" = sqlite ] || pg_cleanup
	done
done
