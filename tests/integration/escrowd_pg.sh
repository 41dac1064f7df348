#!/bin/bash
# escrowd_pg.sh — escrowd.sh's whole run (routes, authorisation matrix,
# CAS/ETags, idempotent retry, history trim, audit rows and their
# append-only guard, bad input, rate limit, SIGTERM) with laps-escrowd on
# the postgresql: store: a throw-away PostgreSQL (lib/postgres.sh) over TCP,
# the password in a libpq passfile.  Skips (77) without PostgreSQL.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
export top_srcdir top_builddir
. "$top_srcdir/tests/integration/lib/postgres.sh"
trap 'pg_cleanup' EXIT
pg_start --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
PATH=$PG_BIN:$PATH ESCROWD_STORE_URL="postgresql:$PG_CONNINFO" bash "$top_srcdir/tests/integration/escrowd.sh"
rc=$?
[ $rc -eq 0 ] || tail -n 20 "$PG_LOG" >&2
exit $rc
