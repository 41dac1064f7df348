#!/bin/sh
# console/unpack-vendor.sh VENDOR LOCK OUT — the console's npm packages
# for an offline build (the Debian package, make install): VENDOR holds the
# registry's own tarballs (npm pack NAME@VERSION), committed; each must
# have exactly the sha512 integrity that LOCK (console/package-lock.json)
# records for node_modules/NAME — the check npm ci makes — else nothing is
# unpacked and the exit status is 1.  OUT/NAME gets the package's files, a
# node_modules tree for console/build.sh.  Needs sh, sed, tar, gzip, openssl.
set -eu
vendor=$1 lock=$2 out=$3
for name in libsodium-sumo libsodium-wrappers-sumo; do
	# "node_modules/NAME": { "version": "V", ..., "integrity": "sha512-…"
	ver=$(sed -n "/\"node_modules\/$name\": {/,/}/s/.*\"version\": \"\([^\"]*\)\".*/\1/p" "$lock" | head -n1)
	want=$(sed -n "/\"node_modules\/$name\": {/,/}/s/.*\"integrity\": \"\([^\"]*\)\".*/\1/p" "$lock" | head -n1)
	tgz=$vendor/$name-$ver.tgz
	[ -n "$ver" ] && [ -n "$want" ] ||
		{ echo "unpack-vendor.sh: $name is not in $lock" >&2; exit 1; }
	[ -f "$tgz" ] || { echo "unpack-vendor.sh: $tgz missing" >&2; exit 1; }
	got=sha512-$(openssl dgst -sha512 -binary "$tgz" | openssl base64 -A)
	[ "$got" = "$want" ] ||
		{ echo "unpack-vendor.sh: $tgz: integrity $got, but $lock says $want" >&2; exit 1; }
done
for name in libsodium-sumo libsodium-wrappers-sumo; do
	ver=$(sed -n "/\"node_modules\/$name\": {/,/}/s/.*\"version\": \"\([^\"]*\)\".*/\1/p" "$lock" | head -n1)
	mkdir -p "$out/$name"
	tar -xzf "$vendor/$name-$ver.tgz" -C "$out/$name" --strip-components=1 --no-same-owner
done
