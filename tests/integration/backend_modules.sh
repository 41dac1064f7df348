#!/bin/sh
# Backends as loadable modules (backends/module.h, docs/BACKENDS.md):
# laps-get maps libldap/libcurl only when the source needs them, and a
# module is loaded only from a directory and file owned by root or the
# caller and writable by nobody else; LAPS_BACKEND_DIR is ignored in a
# set-id process.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/get_lib.sh"
MODDIR=${LAPS_BACKEND_DIR:-$top_builddir/backends/.libs}
[ -r "$MODDIR/ldap.so" ] || { echo "no modules in $MODDIR" >&2; exit 99; }
BIN=$top_builddir/laps-get/laps-get

# --- what the program itself links
ldd "$BIN" >"$T/ldd" || exit 99
check "laps-get does not link libldap" "$(grep -c libldap "$T/ldd")" -eq 0
check "laps-get does not link libcurl" "$(grep -c libcurl "$T/ldd")" -eq 0
check "the agent does not link libldap" "$(ldd "$top_builddir/laps-agent" | grep -c libldap)" -eq 0
for m in ldap graph; do
	check "the $m module exports one symbol" \
		"$(nm -D --defined-only "$MODDIR/$m.so" | awk '{print $3}' | tr '\n' ' ')" = "laps_backend_module "
done
# rest.so also exports the agent's EST client (backends/rest_est.h)
check "the rest module exports two symbols" \
	"$(nm -D --defined-only "$MODDIR/rest.so" | awk '{print $3}' | sort | tr '\n' ' ')" = "laps_backend_module laps_est_client "
check "laps-get does not link libssl" "$(grep -c libssl "$T/ldd")" -eq 0
check "the agent does not link libcurl" "$(ldd "$top_builddir/laps-agent" | grep -c libcurl)" -eq 0
check "the rest module links libcurl" "$(ldd "$MODDIR/rest.so" | grep -c libcurl)" -eq 1

# --- what it loads at run time, by source
mkdir -m 700 "$T/escrow"
printf 'not-the-secret\n' >"$T/nosecret"
chmod 600 "$T/nosecret"
printf '[escrow]\nbackend = file\n[file]\ndir = %s\n' "$T/escrow" >"$T/file.conf"
printf '[escrow]\nbackend = ldap\n[ldap]\nuri = ldap://127.0.0.1:1\ntls = none\nbind = simple\nbind_dn = cn=x\nbind_secret_file = %s/nosecret\nbase = dc=x\ntimeout = 1s\n' "$T" >"$T/ldap.conf"
printf '[graph]\ntoken_url = https://127.0.0.1:1/t\nclient_id = c\nclient_secret_file = %s/nosecret\n' "$T" >"$T/graph.conf"
chmod 600 "$T"/*.conf
loaded() { # CONF [ARGS]: the shared objects the dynamic loader opened
	LD_DEBUG=files "$BIN" -c "$@" 2>&1 >/dev/null | sed -n 's/.*file=\([^ ]*\) .*/\1/p' | sort -u
}
loaded "$T/file.conf" report >"$T/l-file"
check "file source: libldap not loaded" "$(grep -c libldap "$T/l-file")" -eq 0
check "file source: libcurl not loaded" "$(grep -c libcurl "$T/l-file")" -eq 0
check "file source: no module loaded" "$(grep -c '\.libs/\|backends/' "$T/l-file")" -eq 0
loaded "$T/ldap.conf" host1 >"$T/l-ldap"
check "ldap source: the ldap module and libldap are loaded" \
	"$(grep -c 'ldap\.so$\|libldap' "$T/l-ldap")" -ge 2
check "ldap source: libcurl not loaded" "$(grep -c libcurl "$T/l-ldap")" -eq 0
loaded "$T/graph.conf" --source graph host1 >"$T/l-graph"
check "graph source: libcurl loaded" "$(grep -c libcurl "$T/l-graph")" -ge 1
check "graph source: the ldap module not loaded" "$(grep -c 'ldap\.so$' "$T/l-graph")" -eq 0
printf '[escrow]\nbackend = rest\n[rest]\nurl = https://127.0.0.1:1\nauth = bearer\nbearer_file = %s/nosecret\nretries = 1\ntimeout = 1s\n' "$T" >"$T/rest.conf"
chmod 600 "$T/rest.conf"
loaded "$T/rest.conf" host1 >"$T/l-rest"
check "rest source: the rest module and libcurl are loaded" \
	"$(grep -c 'rest\.so$\|libcurl' "$T/l-rest")" -ge 2
check "rest source: the ldap module not loaded" "$(grep -c 'ldap\.so$' "$T/l-rest")" -eq 0

# --- the module directory and files are checked
mkdir -m 755 "$T/mods"
cp "$MODDIR/ldap.so" "$T/mods/ldap.so"
chmod 755 "$T/mods/ldap.so"
export LAPS_BACKEND_DIR=$T/mods
expect 9 "a safe copy of the module loads (then the server is unreachable)" \
	"$BIN" -c "$T/ldap.conf" host1
# the context of the message is the backend's name (not freed memory)
err_has "laps-get: ldap: escrow backend unreachable"
chmod 775 "$T/mods/ldap.so"
expect 2 "a group-writable module is refused" "$BIN" -c "$T/ldap.conf" host1
err_has "group- or world-writable"
chmod 755 "$T/mods/ldap.so"
chmod 777 "$T/mods"
expect 2 "a world-writable module directory is refused" "$BIN" -c "$T/ldap.conf" host1
err_has "$T/mods: group- or world-writable"
chmod 755 "$T/mods"
mv "$T/mods/ldap.so" "$T/mods/real.so"
ln -s real.so "$T/mods/ldap.so"
expect 2 "a symbolic link is refused" "$BIN" -c "$T/ldap.conf" host1
err_has "not a regular file"
rm -f "$T/mods/ldap.so"
expect 2 "a missing module: not installed" "$BIN" -c "$T/ldap.conf" host1
err_has "backend ldap is not installed"
cp "$MODDIR/graph.so" "$T/mods/ldap.so"
expect 2 "a module defining another backend is refused" "$BIN" -c "$T/ldap.conf" host1
err_has "defines backend 'graph'"
printf '[escrow]\nbackend = ../../tmp/x\n' >"$T/bad.conf"
chmod 600 "$T/bad.conf"
expect 2 "a backend name is never a path" "$BIN" -c "$T/bad.conf" host1
err_has "must consist of"
unset LAPS_BACKEND_DIR

# --- LAPS_BACKEND_DIR is ignored when the process is set-id (secure_getenv)
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	mkdir -m 755 "$T/suid"
	cp "$BIN" "$T/suid/laps-get"
	chown nobody "$T/suid/laps-get"
	chmod 4755 "$T/suid/laps-get"
	chmod 711 "$T"
	chmod 644 "$T/ldap.conf"
	run env LAPS_BACKEND_DIR="$MODDIR" "$T/suid/laps-get" -c "$T/ldap.conf" host1
	# LeakSanitizer cannot run in a set-id process: in the sanitizer build it
	# ends the process with exit 1 after laps-get's own message (leaks are
	# checked by every other run of this script).
	if [ "$rc" -eq 1 ] && grep -q "LeakSanitizer has encountered a fatal error" "$T/err"; then
		rc=2
	fi
	if grep -q "not installed\|No such file" "$T/err"; then
		check "set-uid: LAPS_BACKEND_DIR ignored, the built-in directory used" "$rc" -eq 2
		err_has "/lib/laps/backends/ldap.so"
	elif [ "$rc" -eq 9 ]; then
		fail "set-uid laps-get loaded the module from LAPS_BACKEND_DIR"
	else
		echo "set-uid check inconclusive (exit $rc): $(cat "$T/err")"
	fi
	chmod 700 "$T"
fi

finish
