#!/bin/sh
# console/fetch-vendor.sh OUT LOCK — the registry's own tarballs of the
# console's two npm packages (libsodium-wrappers-sumo and libsodium-sumo,
# at the versions LOCK, console/package-lock.json, pins), fetched with
# `npm pack` into OUT for an offline build: the Debian package's build runs
# without a network and takes them from console/vendor, where the
# packaging test (tests/packaging/debian.sh) or a release puts them before
# the build.  They are not committed: the repository holds our code and the
# lock file, not other projects' files.  Integrity is checked where they
# are used (console/unpack-vendor.sh, against LOCK); here only their
# presence.  Needs npm and the npm registry.
set -eu
out=$1 lock=$2
mkdir -p "$out"
for name in libsodium-sumo libsodium-wrappers-sumo; do
	ver=$(sed -n "/\"node_modules\/$name\": {/,/}/s/.*\"version\": \"\([^\"]*\)\".*/\1/p" "$lock" | head -n1)
	[ -n "$ver" ] || { echo "fetch-vendor.sh: $name is not in $lock" >&2; exit 1; }
	[ -f "$out/$name-$ver.tgz" ] && continue
	(cd "$out" && npm pack --silent "$name@$ver" >/dev/null) ||
		{ echo "fetch-vendor.sh: npm pack $name@$ver failed" >&2; exit 1; }
	[ -f "$out/$name-$ver.tgz" ] || { echo "fetch-vendor.sh: $out/$name-$ver.tgz missing" >&2; exit 1; }
done
