#!/bin/bash
# est_pg.sh — est_curl.sh's whole run (EST enrollment with curl + openssl,
# refusals, takeover, audit rows read back over /v1/audit) with
# laps-escrowd on the postgresql: store.  Skips (77) without PostgreSQL.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
export top_srcdir top_builddir
. "$top_srcdir/tests/integration/lib/postgres.sh"
trap 'pg_cleanup' EXIT
pg_start --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
PATH=$PG_BIN:$PATH ESCROWD_STORE_URL="postgresql:$PG_CONNINFO" bash "$top_srcdir/tests/integration/est_curl.sh"
rc=$?
[ $rc -eq 0 ] || tail -n 20 "$PG_LOG" >&2
exit $rc
