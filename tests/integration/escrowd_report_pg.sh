#!/bin/bash
# escrowd_report_pg.sh — escrowd_report.sh (the sorted, filtered, counted
# fleet report) with laps-escrowd on a throw-away PostgreSQL
# (lib/postgres.sh), seeded with psql.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
export top_srcdir top_builddir
. "$top_srcdir/tests/integration/lib/postgres.sh"
trap 'pg_cleanup' EXIT
pg_start --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
PATH=$PG_BIN:$PATH ESCROWD_STORE_URL="postgresql:$PG_CONNINFO" bash "$top_srcdir/tests/integration/escrowd_report.sh"
rc=$?
[ $rc -eq 0 ] || tail -n 20 "$PG_LOG" >&2
exit $rc
