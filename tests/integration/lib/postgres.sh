# shellcheck shell=bash
#
# tests/integration/lib/postgres.sh -- a throw-away PostgreSQL cluster for tests
# (Debian's postgresql package; nothing of the system cluster is used).
#
# Source it from a bash test driver, then:
#
#   pg_start [--quiet]
#       initdb into a fresh directory ${PG_TMPDIR:-/tmp}/laps-pg.XXXXXX and
#       start postgres listening on 127.0.0.1:<free port> and on a unix
#       socket in that directory (no other address).  Run as root, the
#       cluster belongs to the "postgres" user (or "nobody" without it):
#       initdb and postgres refuse root, and setpriv drops to that user
#       before exec, so $PG_PID is the postmaster itself.  Run as another
#       user, it simply runs as that user.  fsync is off (throw-away data;
#       survives a killed server, not a machine crash); synchronous_commit
#       stays on, so a commit that returned survives pg_kill.
#       Creates the login role "laps" with a random password and the
#       database "laps" owned by it.  Returns when the server accepts
#       connections.  The directory is a fresh one (not the caller's temp
#       directory) because a root-owned 0700 parent would not let the
#       cluster's user in.
#
#   Authentication: the socket trusts every role ("local all all trust");
#   TCP on 127.0.0.1 requires the password (scram-sha-256).
#
#   Exported variables after pg_start:
#       PG_DIR PG_PID PG_LOG
#       PG_BIN        directory of initdb, postgres, psql, pg_isready
#       PG_HOST=127.0.0.1 PG_PORT PG_SOCKDIR (the socket's directory)
#       PG_DB=laps PG_USER=laps
#       PG_PASSFILE   libpq password file for PG_USER (0600, the caller's)
#       PG_CONNINFO   libpq conninfo over TCP with the password from
#                     PG_PASSFILE: "host=127.0.0.1 port=P dbname=laps
#                     user=laps passfile=F sslmode=disable connect_timeout=10"
#       PG_SOCKET_CONNINFO  the same over the unix socket (trust)
#       PG_SUPER_CONNINFO   superuser laps_super over the socket (trust)
#
#   Helpers:
#       pg_psql ARGS...   psql -X -v ON_ERROR_STOP=1 as laps over PG_CONNINFO
#       pg_super ARGS...  the same as the superuser over the socket
#       pg_stop           fast shutdown (SIGINT), wait for exit
#       pg_kill           SIGKILL (fault tests); pg_restart starts it again
#                         on the same port with the same data
#       pg_cleanup        stop (if running) and remove PG_DIR
#
#   pg_start installs "trap pg_cleanup EXIT" when the caller has no EXIT trap
#   yet; otherwise the caller must call pg_cleanup from its own.
#
#   Return values: 0 on success; 77 when PostgreSQL's server programs are
#   not installed; 99 on any other failure, with the server's log on stderr.

_pg_msg() { [ -n "${_pg_quiet:-}" ] || echo "postgres.sh: $*" >&2; }

_pg_find_bin() {
	local d
	if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/postgres" ]; then
		return 0
	fi
	PG_BIN=
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/postgres" ] && [ -x "$d/initdb" ]; then
			PG_BIN=$d
			break
		fi
	done
	if [ -z "$PG_BIN" ] && command -v postgres >/dev/null; then
		PG_BIN=$(dirname "$(readlink -f "$(command -v postgres)")")
	fi
	[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_isready" ] || return 77
	if [ ! -x "$PG_BIN/psql" ]; then
		command -v psql >/dev/null || return 77
	fi
	export PG_BIN
}

_pg_psql_bin() { if [ -x "$PG_BIN/psql" ]; then echo "$PG_BIN/psql"; else command -v psql; fi; }

_pg_free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
}

# Commands run as the cluster's owner through setpriv, which execs them,
# from PG_DIR (the caller's working directory may be closed to that user).
_pg_pre=()
_pg_set_owner() {
	_pg_owner=
	_pg_pre=()
	[ "$(id -u)" -eq 0 ] || return 0
	command -v setpriv >/dev/null || return 77
	if id postgres >/dev/null 2>&1; then _pg_owner=postgres; else _pg_owner=nobody; fi
	_pg_pre=(setpriv --reuid="$_pg_owner" --regid="$(id -g "$_pg_owner")" --init-groups --)
}

_pg_launch() {
	# One subshell that execs: $! is the postmaster itself.
	(cd "$PG_DIR" && exec "${_pg_pre[@]}" "$PG_BIN/postgres" -D "$PG_DIR/data" -p "$PG_PORT" \
		-c listen_addresses=127.0.0.1 -c unix_socket_directories="$PG_SOCKDIR" \
		-c unix_socket_permissions=0777 -c fsync=off \
		-c full_page_writes=off -c max_connections=100 -c shared_buffers=16MB \
		-c log_min_messages=warning) >>"$PG_LOG" 2>&1 &
	PG_PID=$!
	export PG_PID
	local i
	for ((i = 0; i < 300; i++)); do
		"$PG_BIN/pg_isready" -q -h "$PG_SOCKDIR" -p "$PG_PORT" && return 0
		kill -0 "$PG_PID" 2>/dev/null || break
		sleep 0.05
	done
	pg_stop
	# Another test may have taken the free port between the probe and the
	# bind (the suite runs in parallel): the caller picks another one.
	if grep -q "Address already in use" "$PG_LOG" 2>/dev/null; then
		: >"$PG_LOG"
		return 75
	fi
	cat "$PG_LOG" >&2
	return 99
}

pg_start() {
	_pg_quiet=
	[ "${1:-}" = --quiet ] && _pg_quiet=1
	_pg_find_bin || { echo "postgres.sh: PostgreSQL server programs not installed" >&2; return 77; }
	_pg_set_owner || { echo "postgres.sh: setpriv missing" >&2; return 77; }
	PG_DIR=$(mktemp -d "${PG_TMPDIR:-/tmp}/laps-pg.XXXXXX") || return 99
	chmod 0755 "$PG_DIR" || return 99
	export PG_DIR PG_LOG=$PG_DIR/postgres.log PG_SOCKDIR=$PG_DIR
	export PG_HOST=127.0.0.1 PG_DB=laps PG_USER=laps PG_PASSFILE=$PG_DIR/pgpass
	[ -z "$_pg_owner" ] || chown "$_pg_owner:" "$PG_DIR" || return 99
	if ! (cd "$PG_DIR" && exec "${_pg_pre[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U laps_super \
		--no-sync -E UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256) \
		>"$PG_DIR/initdb.log" 2>&1; then
		cat "$PG_DIR/initdb.log" >&2
		return 99
	fi
	local try rc
	for try in 1 2 3 4 5; do
		PG_PORT=$(_pg_free_port)
		export PG_PORT
		rc=0
		_pg_launch || rc=$?
		[ "$rc" -eq 75 ] || break
	done
	[ "$rc" -eq 0 ] || return 99
	export PG_SUPER_CONNINFO="host=$PG_SOCKDIR port=$PG_PORT dbname=postgres user=laps_super"
	export PG_SOCKET_CONNINFO="host=$PG_SOCKDIR port=$PG_PORT dbname=$PG_DB user=$PG_USER"
	export PG_CONNINFO="host=$PG_HOST port=$PG_PORT dbname=$PG_DB user=$PG_USER passfile=$PG_PASSFILE sslmode=disable connect_timeout=10"
	# The password goes to psql on stdin and to the 0600 passfile, never argv.
	local pw
	pw=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
	(umask 077 && echo "$PG_HOST:$PG_PORT:$PG_DB:$PG_USER:$pw" >"$PG_PASSFILE") || return 99
	if ! printf "CREATE ROLE %s LOGIN PASSWORD '%s';\nCREATE DATABASE %s OWNER %s;\n" \
		"$PG_USER" "$pw" "$PG_DB" "$PG_USER" | pg_super -q >/dev/null; then
		pg_stop
		return 99
	fi
	[ -n "$(trap -p EXIT)" ] || trap pg_cleanup EXIT
	_pg_msg "postgres on 127.0.0.1:$PG_PORT and $PG_SOCKDIR (pid $PG_PID)"
	return 0
}

pg_psql() { "$(_pg_psql_bin)" -X -v ON_ERROR_STOP=1 "$PG_CONNINFO" "$@"; }

pg_super() { "$(_pg_psql_bin)" -X -v ON_ERROR_STOP=1 "$PG_SUPER_CONNINFO" "$@"; }

pg_stop() {
	[ -n "${PG_PID:-}" ] || return 0
	kill -INT "$PG_PID" 2>/dev/null
	wait "$PG_PID" 2>/dev/null
	PG_PID=
	return 0
}

pg_kill() {
	[ -n "${PG_PID:-}" ] || return 0
	kill -KILL "$PG_PID" 2>/dev/null
	wait "$PG_PID" 2>/dev/null
	PG_PID=
	return 0
}

pg_restart() {
	pg_stop
	_pg_launch
}

pg_cleanup() {
	pg_stop
	if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] && [ -z "${PG_KEEP:-}" ]; then
		rm -rf "$PG_DIR"
	fi
}
