#!/bin/bash
# console_vendor.sh — the console's npm tarballs as console/fetch-vendor.sh
# fetches them for console/vendor (what make install and the Debian build
# use, offline; not committed): they carry exactly
# the sha512 integrity console/package-lock.json records, a changed
# tarball or a lock that says otherwise is refused and nothing is unpacked,
# and the console built from them is byte for byte the one built from an
# "npm ci" of the lock (when console.sh's npm cache exists; else skipped).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
for t in openssl tar gzip; do command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }; done
T=$(mktemp -d "${TMPDIR:-/tmp}/console_vendor.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
C=$top_srcdir/console
FAILS=0
# the registry's tarballs (console/fetch-vendor.sh: npm pack), cached per lock file
command -v npm >/dev/null || { echo "SKIP: npm missing"; exit 77; }
base=${LAPS_CONSOLE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/laps-test-console}
V=$base/vendor-$(sha256sum "$C/package-lock.json" | cut -c1-16)
sh "$C/fetch-vendor.sh" "$V" "$C/package-lock.json" >"$T/fetch.log" 2>&1 ||
	{ cat "$T/fetch.log"; echo "SKIP: the npm registry is unreachable"; exit 77; }
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }

sh "$C/unpack-vendor.sh" "$V" "$C/package-lock.json" "$T/nm" 2>"$T/err" &&
	[ -f "$T/nm/libsodium-wrappers-sumo/dist/modules-sumo-esm/libsodium-wrappers.mjs" ] &&
	[ -f "$T/nm/libsodium-sumo/dist/modules-sumo-esm/libsodium-sumo.mjs" ] &&
	ok "the registry tarballs match the lock file's integrity; unpacked" || not_ok "unpack: $(cat "$T/err")"
sh "$C/build.sh" "$C/src" "$T/nm" "$T/out" 2>"$T/err" && [ "$(grep -c 'integrity="sha384-' "$T/out/index.html")" = 4 ] &&
	ok "console/build.sh builds the console from them (4 SRI hashes)" || not_ok "build: $(cat "$T/err")"

mkdir -p "$T/bad"
cp "$V"/*.tgz "$T/bad/"
printf 'x' >>"$T/bad/libsodium-wrappers-sumo-0.8.4.tgz"
if sh "$C/unpack-vendor.sh" "$T/bad" "$C/package-lock.json" "$T/nm-bad" 2>"$T/err"; then
	not_ok "a changed tarball was accepted"
elif [ -e "$T/nm-bad" ]; then
	not_ok "a changed tarball: refused, but something was unpacked"
else
	grep -q 'libsodium-wrappers-sumo-0.8.4.tgz: integrity' "$T/err" &&
		ok "a changed tarball is refused, nothing unpacked ($(cut -c1-80 "$T/err"))" || not_ok "message: $(cat "$T/err")"
fi
sed 's/"integrity": "sha512-TMtH/"integrity": "sha512-XMtH/' "$C/package-lock.json" >"$T/lock.json"
sh "$C/unpack-vendor.sh" "$V" "$T/lock.json" "$T/nm-lock" 2>"$T/err" &&
	not_ok "a lock with another integrity was accepted" ||
	{ [ ! -e "$T/nm-lock" ] && ok "a lock that records another integrity: refused" || not_ok "lock: unpacked anyway"; }

NM=$base/$(sha256sum "$C/package-lock.json" | cut -c1-16)/node_modules
if [ -f "$NM/libsodium-wrappers-sumo/package.json" ]; then
	sh "$C/build.sh" "$C/src" "$NM" "$T/out-npm" && diff -r "$T/out" "$T/out-npm" >"$T/diff" &&
		ok "the same console as from npm ci of the lock, byte for byte" || not_ok "differs: $(head -5 "$T/diff")"
else
	echo "# no npm ci of console/ cached in $base (console.sh makes one): the comparison is skipped"
fi
[ $FAILS -eq 0 ] && echo "all passed" || echo "$FAILS failed"
[ $FAILS -eq 0 ]
