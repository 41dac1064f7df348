#!/bin/bash
# store_pg.sh — runs tests/unit/test_store (every store test: CAS, idempotent
# retry, seq, history move and trim, confirm/expire, find, report, audit in
# the same transaction and append-only, migrations, concurrent writers,
# instances migrating at once, dropped connections) against a throw-away
# PostgreSQL (lib/postgres.sh), over TCP with the password in a passfile.
# make check runs the same program against SQLite (tests/unit/test_store).
# STORE_PG_WRAPPER (e.g. "valgrind --error-exitcode=9 --leak-check=full")
# runs test_store under it.  Skips (77) without PostgreSQL's server programs.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/lib/postgres.sh"
TEST_STORE=$top_builddir/tests/unit/test_store
[ -x "$TEST_STORE" ] || { echo "missing $TEST_STORE" >&2; exit 99; }

trap 'pg_cleanup' EXIT
pg_start --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
# a second, empty database for the concurrent-migrations test
echo "CREATE DATABASE laps_fresh OWNER $PG_USER;" | pg_super -q >/dev/null || exit 99
pw=$(cut -d: -f5- "$PG_PASSFILE")
echo "$PG_HOST:$PG_PORT:laps_fresh:$PG_USER:$pw" >>"$PG_PASSFILE"
unset pw
# a loaded machine (or valgrind) may take longer than 10 s to connect
ci=${PG_CONNINFO/connect_timeout=10/connect_timeout=120}
export LAPS_TEST_STORE_URL="postgresql:$ci"
export LAPS_TEST_STORE_FRESH_URL="postgresql:${ci/dbname=$PG_DB/dbname=laps_fresh}"
# libtool wrapper scripts: run the real binary under the wrapper
if [ -n "${STORE_PG_WRAPPER:-}" ]; then
	# shellcheck disable=SC2086
	"$top_builddir/libtool" --mode=execute $STORE_PG_WRAPPER "$TEST_STORE"
else
	"$TEST_STORE"
fi
rc=$?
if [ $rc -ne 0 ]; then
	echo "test_store against PostgreSQL failed ($rc); server log:" >&2
	tail -n 30 "$PG_LOG" >&2
fi
exit $rc
