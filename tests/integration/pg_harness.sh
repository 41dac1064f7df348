#!/bin/bash
# pg_harness.sh — checks tests/integration/lib/postgres.sh itself with psql:
# the cluster starts, the laps role logs in over TCP with its password file
# and over the socket, a wrong password is refused, it listens on 127.0.0.1
# only, the postmaster is $PG_PID and stopping it by PID ends it.  Skips
# (77) without PostgreSQL's server programs.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib/postgres.sh"

trap 'pg_cleanup' EXIT
pg_start --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
fail=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fail=1; }

out=$(pg_psql -tAc 'SELECT current_user, current_database()' 2>&1)
[ "$out" = "laps|laps" ] && ok "TCP login with the password file" || bad "TCP login: $out"
out=$("$(_pg_psql_bin)" -X -tA "$PG_SOCKET_CONNINFO" -c 'SELECT current_user' 2>&1)
[ "$out" = laps ] && ok "socket login" || bad "socket login: $out"
pg_psql -q -c 'CREATE TABLE t (k text PRIMARY KEY, v int NOT NULL)' \
	-c "INSERT INTO t VALUES ('a', 1), ('b', 2)" || bad "create/insert"
out=$(pg_psql -tAc 'SELECT sum(v) FROM t')
[ "$out" = 3 ] && ok "query" || bad "query: $out"
(umask 077 && echo "$PG_HOST:$PG_PORT:$PG_DB:$PG_USER:wrong" >"$PG_DIR/badpass")
out=$("$(_pg_psql_bin)" -X -tA "${PG_CONNINFO/passfile=$PG_PASSFILE/passfile=$PG_DIR/badpass}" \
	-c 'SELECT 1' 2>&1)
case $out in
*"password authentication failed"*) ok "wrong password refused" ;;
*) bad "wrong password: $out" ;;
esac
out=$(pg_super -tAc 'SHOW listen_addresses')
[ "$out" = 127.0.0.1 ] && ok "listens on 127.0.0.1 only" || bad "listen_addresses: $out"
pm=$(head -n1 "$PG_DIR/data/postmaster.pid")
[ "$pm" = "$PG_PID" ] && ok "PG_PID is the postmaster" || bad "PG_PID $PG_PID, postmaster $pm"
if [ "$(id -u)" -eq 0 ]; then
	u=$(ps -o user= -p "$PG_PID" | tr -d ' ')
	[ "$u" != root ] && ok "runs as $u, not root" || bad "postgres runs as root"
fi
pg_kill
pg_restart || bad "restart"
out=$(pg_psql -tAc 'SELECT count(*) FROM t')
[ "$out" = 2 ] && ok "data kept over kill and restart" || bad "after restart: $out"
pid=$PG_PID
pg_stop
if kill -0 "$pid" 2>/dev/null; then bad "still running after pg_stop"; else ok "stopped by PID"; fi
"$PG_BIN/pg_isready" -q -h "$PG_SOCKDIR" -p "$PG_PORT" && bad "still answers" || ok "no longer answers"
exit $fail
