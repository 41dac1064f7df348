#!/usr/bin/env bash
# bench/run-agent-noop.sh [-b BUILDDIR] [-n RUNS] [-s laps|mslaps|legacy]
#
# The cost of one `laps-agent run` that finds nothing due — what every host
# pays every hour: wall time (mean, p50, p99 over RUNS), peak RSS of the
# agent process, and the LDAP operations it sends (counted from slapd's
# stats log).  Starts a throw-away slapd with the test harness, rotates a
# sandbox account once, then times the no-op runs.  Numbers, not pass/fail.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$PWD runs=200 schema=laps
while getopts b:n:s: o; do
	case $o in
	b) build=$OPTARG ;;
	n) runs=$OPTARG ;;
	s) schema=$OPTARG ;;
	*) echo "usage: $0 [-b BUILDDIR] [-n RUNS] [-s laps|mslaps|legacy]" >&2; exit 2 ;;
	esac
done
agent=$build/laps-agent
get=$build/laps-get/laps-get
[ -x "$agent" ] && [ -x "$get" ] || { echo "build laps-agent and laps-get in $build first" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root (the agent refuses a non-root-owned config)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/laps-bench-noop.XXXXXX")
export top_srcdir=$top
. "$top/tests/integration/lib/slapd.sh"
trap 'slapd_cleanup >/dev/null 2>&1; rm -rf "$work"' EXIT
slapd_start "$work/slapd" --quiet

mkdir -p "$work/root/etc" "$work/state"
printf 'root:x:0:0::/root:/bin/sh\nlapsadmin:x:1001:1001::/home/lapsadmin:/bin/sh\n' >"$work/root/etc/passwd"
printf 'root:*:19000:0:99999:7:::\nlapsadmin:*:19000:0:99999:7:::\n' >"$work/root/etc/shadow"
chmod 0640 "$work/root/etc/shadow"
"$get" keygen -o "$work/admin.key" --no-passphrase >/dev/null 2>&1
cat >"$work/laps.conf" <<CONF
[agent]
accounts = lapsadmin
root = $work/root
state_dir = $work/state
[escrow]
backend = ldap
recipients = $work/admin.key.pub
device = host1.example.test
[ldap]
uri = $LDAP_URI
tls = starttls
ca_file = $LDAP_CA
bind_dn = $(slapd_device_dn host1)
bind_secret_file = $(slapd_device_secret host1)
dn = $(slapd_device_dn host1)
schema = $schema
CONF
chmod 0600 "$work/laps.conf"
"$agent" -c "$work/laps.conf" run
out=$("$agent" -c "$work/laps.conf" run 2>&1)
[ -z "$out" ] || { echo "the second run was not a no-op: $out" >&2; exit 1; }

# LDAP operations of one no-op run, from slapd's stats log
slapd_stop
SLAPD_DEBUG_LEVEL=stats slapd_restart
before=$(wc -l <"$SLAPD_LOG")
"$agent" -c "$work/laps.conf" run
sleep 0.2
# one line per operation: "conn=N op=M TYPE ..." (the first line of each op)
oplines=$(tail -n +"$((before + 1))" "$SLAPD_LOG" |
	grep -oE 'conn=[0-9]+ op=[0-9]+ (BIND|SRCH|MOD|ADD|DEL|EXT|CMP|UNBIND|MODRDN|ABANDON)' |
	awk '!seen[$1 " " $2]++ {print $3}' || true)
total=$(printf '%s\n' "$oplines" | grep -c . || true)
ops=$(printf '%s\n' "$oplines" | grep . | sort | uniq -c | awk '{printf "%s%s=%s", sep, $2, $1; sep=" "}')
slapd_stop
slapd_restart

# wall time and peak RSS over RUNS runs
python3 - "$agent" "$work/laps.conf" "$runs" "$schema" "$total" "$ops" <<'PY'
import os, resource, subprocess, sys, time
agent, conf, runs, schema, total, ops = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
walls, peak = [], 0
for _ in range(runs):
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.execv(agent, [agent, "-c", conf, "run"])
    _, status, ru = os.wait4(pid, 0)
    walls.append((time.perf_counter() - t0) * 1000.0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("laps-agent run failed")
    peak = max(peak, ru.ru_maxrss)
walls.sort()
pct = lambda p: walls[min(len(walls) - 1, int(p * len(walls)))]
print(f"laps-agent run, nothing due, schema {schema}, {runs} runs:")
print(f"  wall: mean {sum(walls)/len(walls):.2f} ms, p50 {pct(0.50):.2f} ms, p99 {pct(0.99):.2f} ms")
print(f"  peak RSS: {peak} KiB")
print(f"  LDAP operations per run: {total} ({ops})")
PY
