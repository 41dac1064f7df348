#!/bin/bash
# escrowd_policy_pg.sh — escrowd_policy.sh with both laps-escrowd instances
# on one throw-away PostgreSQL (lib/postgres.sh): a read on one moves the
# expiry the other answers.  Skips (77) without PostgreSQL.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
export top_srcdir top_builddir
. "$top_srcdir/tests/integration/lib/postgres.sh"
trap 'pg_cleanup' EXIT
pg_start --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
PATH=$PG_BIN:$PATH ESCROWD_STORE_URL="postgresql:$PG_CONNINFO" bash "$top_srcdir/tests/integration/escrowd_policy.sh"
rc=$?
[ $rc -eq 0 ] || tail -n 20 "$PG_LOG" >&2
exit $rc
