#!/bin/sh
# console/build.sh SRCDIR NODE_MODULES OUTDIR — assemble the admin web
# console (docs/CONSOLE.md): the plain ES modules of SRCDIR (console/src)
# plus libsodium-wrappers-sumo's ESM build and the libsodium it imports,
# both taken from NODE_MODULES (installed offline with "npm ci" from
# console/package-lock.json).  No bundler: the only change to the npm files
# is the bare import "libsodium-sumo" made relative.  The Subresource
# Integrity hashes (sha384) of every file index.html loads are written into
# it.  Needs sh, sed, openssl (for the hashes).
set -eu
src=$1 nm=$2 out=$3
w=$nm/libsodium-wrappers-sumo/dist/modules-sumo-esm/libsodium-wrappers.mjs
l=$nm/libsodium-sumo/dist/modules-sumo-esm/libsodium-sumo.mjs
for f in "$w" "$l"; do
	[ -f "$f" ] || { echo "build.sh: $f missing (npm ci in console/ first)" >&2; exit 1; }
done
mkdir -p "$out"
cp "$src/app.js" "$src/app.css" "$out/"
cp "$l" "$out/libsodium-sumo.mjs"
sed 's/from"libsodium-sumo"/from"\.\/libsodium-sumo.mjs"/' "$w" >"$out/sodium.mjs"
grep -q 'from"\./libsodium-sumo\.mjs"' "$out/sodium.mjs" ||
	{ echo "build.sh: libsodium-wrappers' import not found (new version?)" >&2; exit 1; }
sri() { printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$out/$1" | openssl base64 -A)"; }
sed -e "s|@SRI:app.js@|$(sri app.js)|" -e "s|@SRI:app.css@|$(sri app.css)|" \
	-e "s|@SRI:sodium.mjs@|$(sri sodium.mjs)|" -e "s|@SRI:libsodium-sumo.mjs@|$(sri libsodium-sumo.mjs)|" \
	"$src/index.html" >"$out/index.html"
! grep -q '@SRI:' "$out/index.html" || { echo "build.sh: an SRI placeholder is left" >&2; exit 1; }
cp "$nm/libsodium-wrappers-sumo/LICENSE" "$out/LICENSE.libsodium.txt" 2>/dev/null || true
chmod 644 "$out"/*
