#!/bin/bash
# escrowd_retention_pg.sh — escrowd_retention.sh (audit retention, history_keep) with
# laps-escrowd on a throw-away PostgreSQL (lib/postgres.sh).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
export top_srcdir top_builddir
. "$top_srcdir/tests/integration/lib/postgres.sh"
trap 'pg_cleanup' EXIT
pg_start --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
PATH=$PG_BIN:$PATH ESCROWD_STORE_URL="postgresql:$PG_CONNINFO" bash "$top_srcdir/tests/integration/escrowd_retention.sh"
rc=$?
[ $rc -eq 0 ] || tail -n 20 "$PG_LOG" >&2
exit $rc
