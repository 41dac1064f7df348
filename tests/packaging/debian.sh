#!/usr/bin/env bash
# tests/packaging/debian.sh — the Debian packages, end to end.
#
#   1. dpkg-buildpackage -us -uc -b (nocheck) in a copy of the tree (the
#      checkout is never written to);
#   2. lintian over the .changes (every tag must be fixed or overridden);
#   3. blhc over the build log (hardening flags on every compile/link line);
#   4. a fresh minimal Debian 12 root from Debian's archive (mmdebstrap,
#      cached as a tarball), entered with unshare + chroot — never this
#      machine's own root — in which tests/packaging/debian-inroot.sh
#      installs, checks, reinstalls, removes and purges the packages.
#
# Prints one line per check and "debian: N passed, N failed, N skipped".
# A check that this machine cannot run (not root, tool missing, archive
# unreachable, no namespaces) is skipped with the reason, never passed.
# Exit 1 on a failure, else 0.
#
# Environment: LAPS_DEB_CACHE (base-root cache dir, default
# /var/cache/laps-ci, or $TMPDIR when not writable), LAPS_DEBIAN_MIRROR
# (default http://deb.debian.org/debian), LAPS_KEEP_BUILD=1 (keep the
# work directory).
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
skipped() { skip=$((skip + 1)); echo "SKIP: $*"; }
t_start=$(date +%s)

finish() {
	echo "debian: stage wall time $(($(date +%s) - t_start)) s"
	echo "debian: $pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
	exit
}

# The checks after the build, for the summary when the build cannot run.
skip_rest() { # $1 = reason, rest = check names
	local why=$1 c
	shift
	for c in "$@"; do skipped "$c ($why)"; done
}
ROOT_CHECKS=(install files-and-modes conffile pam-profile-registered pam-profile-enables
	agent-check-config timers-not-enabled escrowd console backends-load backends-refused backend-missing
	reinstall remove-keeps-state
	purge-leaves-nothing install-configured-enables-timer zero-touch-enroll-unit docs-quickstart)

work=$(mktemp -d "${TMPDIR:-/tmp}/laps-deb.XXXXXX")
cleanup() {
	if [ "${LAPS_KEEP_BUILD:-0}" = 1 ]; then
		echo "debian: work directory kept: $work"
	else
		rm -rf --one-file-system "$work"
	fi
}
trap cleanup EXIT

missing=()
for t in dpkg-buildpackage dh fakeroot; do command -v "$t" >/dev/null || missing+=("$t"); done
if [ "${#missing[@]}" -gt 0 ]; then
	skip_rest "missing ${missing[*]} (apt-get install debhelper dpkg-dev fakeroot)" \
		build lintian blhc "${ROOT_CHECKS[@]}"
	finish
fi

# ---- 1. build in a copy ----
src="$work/src/laps"
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# tracked and untracked-but-not-ignored files, as they are on disk
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 -r sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -xf - -C "$src"
else
	(cd "$top" && tar --exclude='./build*' --exclude='./debian/build' -cf - .) | tar -xf - -C "$src"
fi
# the console's npm tarballs (not in git): fetched once per lock file into a
# cache by console/fetch-vendor.sh, as a release would, so that the Debian
# build itself runs offline; checked against the lock in the build
vcache=${LAPS_DEB_CACHE:-/var/cache/laps-ci}
mkdir -p "$vcache" 2>/dev/null && [ -w "$vcache" ] || vcache=${TMPDIR:-/tmp}
vcache=$vcache/laps-console-npm-$(sha256sum "$src/console/package-lock.json" | cut -c1-16)
if ! sh "$src/console/fetch-vendor.sh" "$vcache" "$src/console/package-lock.json" >"$work/vendor.log" 2>&1; then
	echo "the console's npm tarballs could not be fetched (npm, registry):"; cat "$work/vendor.log"
fi
mkdir -p "$src/console/vendor" && cp "$vcache"/*.tgz "$src/console/vendor/" 2>/dev/null
t0=$(date +%s)
if (cd "$src" && DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b -Pnocheck) >"$work/build.log" 2>&1; then
	ok "build: dpkg-buildpackage -us -uc -b in $(($(date +%s) - t0)) s:" \
		$(cd "$work/src" && ls ./*.deb | sed 's|^\./||; s|_.*||' | grep -v -- '-dbgsym$' | tr '\n' ' ')
else
	bad "build: dpkg-buildpackage failed; last lines of the log:"
	tail -n 40 "$work/build.log"
	skip_rest "no packages" lintian blhc "${ROOT_CHECKS[@]}"
	finish
fi
changes=$(ls "$work"/src/*.changes)
debs=()
for d in "$work"/src/*.deb; do
	case $d in *-dbgsym_*) ;; *) debs+=("$d") ;; esac
done

# ---- 2. lintian ----
if command -v lintian >/dev/null; then
	lint=$(lintian --pedantic -I --tag-display-limit 0 "$changes" 2>&1 |
		grep -v '^running with root privileges is not recommended!$')
	if [ -z "$lint" ]; then
		ok "lintian: no tags (pedantic, info; overrides carry their reasons)"
	else
		bad "lintian:"
		printf '%s\n' "$lint"
	fi
else
	skipped "lintian (not installed: apt-get install lintian)"
fi

# ---- 3. blhc ----
if command -v blhc >/dev/null; then
	# --all: every flag of hardening=+all, -pie included (not --debian, which
	# would trust gcc's PIE default): the log must show each on every line.
	if out=$(blhc --all "$work/build.log" 2>&1); then
		ok "blhc --all: dpkg-buildflags hardening on every compile and link line"
	else
		bad "blhc:"
		printf '%s\n' "$out" | head -n 20
	fi
else
	skipped "blhc (not installed: apt-get install blhc)"
fi

# ---- 4. install into a throw-away Debian 12 root ----
if [ "$(id -u)" -ne 0 ]; then
	skip_rest "needs root for unshare/chroot" "${ROOT_CHECKS[@]}"
	finish
fi
if ! command -v mmdebstrap >/dev/null; then
	skip_rest "mmdebstrap not installed" "${ROOT_CHECKS[@]}"
	finish
fi
if ! unshare --mount --pid --fork --net true 2>/dev/null; then
	skip_rest "unshare cannot create namespaces here" "${ROOT_CHECKS[@]}"
	finish
fi

# What the packages need from the archive: their Depends/Pre-Depends, first
# alternative of each, ours left out; and systemd, as on most Debian 12
# hosts (deb-systemd-helper then enables units through systemctl preset);
# and what the walkthroughs (docs/QUICKSTART-*.md) install beside ours:
# openssl, slapd, ldap-utils.
ours=" $(for d in "${debs[@]}"; do dpkg-deb -f "$d" Package; done | tr '\n' ' ') "
want=$(for d in "${debs[@]}"; do
	for f in Pre-Depends Depends; do dpkg-deb -f "$d" "$f"; done
done | tr ',' '\n' | while IFS= read -r clause; do
	first=
	for alt in $(printf '%s\n' "$clause" | tr '|' '\n' | sed 's/(.*)//; s/\[.*\]//; s/:any//; s/ //g'); do
		case $ours in *" $alt "*) first=; break ;; esac
		[ -n "$first" ] || first=$alt
	done
	[ -z "$first" ] || echo "$first"
done | { cat; echo systemd; echo openssl; echo slapd; echo ldap-utils; } | sort -u | tr '\n' ',' | sed 's/,$//')

mirror=${LAPS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${LAPS_DEB_CACHE:-/var/cache/laps-ci}
mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || cache=${TMPDIR:-/tmp}
key=$(printf 'v1 %s %s %s\n' "$mirror" "$want" "$(dpkg-query -W -f='${Version}' mmdebstrap)" |
	sha256sum | cut -c1-16)
base="$cache/laps-debian12-$key.tar"
# refreshed weekly: Debian 12 point releases and security updates
if [ -s "$base" ] && [ -z "$(find "$base" -mtime +7)" ]; then
	echo "debian: base root from cache $base"
else
	t0=$(date +%s)
	if ! python3 - "$mirror" <<'PY' >/dev/null 2>&1; then
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/dists/bookworm/Release", method="HEAD"), timeout=15)
PY
		skip_rest "Debian archive $mirror unreachable" "${ROOT_CHECKS[@]}"
		finish
	fi
	# roots of other dependency sets, unused for a day
	find "$cache" -maxdepth 1 -name 'laps-debian12-*.tar' -mtime +1 -delete 2>/dev/null
	tmp=$(mktemp "$base.XXXXXX")
	if mmdebstrap --variant=minbase --include="$want" --format=tar \
		--aptopt='Acquire::Retries "3"' \
		bookworm "$tmp" "deb $mirror bookworm main" \
		"deb ${mirror%/debian}/debian-security bookworm-security main" \
		>"$work/mmdebstrap.log" 2>&1; then
		mv -f "$tmp" "$base"
		echo "debian: base root built with mmdebstrap in $(($(date +%s) - t0)) s ($want)"
	else
		rm -f "$tmp"
		bad "mmdebstrap failed; last lines:"
		tail -n 20 "$work/mmdebstrap.log"
		skip_rest "no base root" "${ROOT_CHECKS[@]}"
		finish
	fi
fi

root="$work/root"
mkdir -p "$root"
tar -xf "$base" -C "$root"
mkdir -p "$root/tmp/laps-debs"
cp "${debs[@]}" "$root/tmp/laps-debs/"
install -m 0755 "$top/tests/packaging/debian-inroot.sh" "$root/tmp/laps-inroot.sh"
# Services never start in the throw-away root (there is no systemd anyway).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

# New mount, PID, network, UTS and IPC namespaces: the mounts below vanish
# with the namespace, nothing inside can reach the network or this
# machine's processes.
t0=$(date +%s)
# The command run in the namespaces: $1 the root, $2 the script in it.
in_root='
	set -e
	r=$1
	mount -t proc proc "$r/proc"
	mount -t tmpfs -o mode=0755,nosuid tmpfs "$r/dev"
	for n in null zero full random urandom tty; do
		touch "$r/dev/$n"
		mount --bind "/dev/$n" "$r/dev/$n"
	done
	ln -s /proc/self/fd "$r/dev/fd"
	mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$r/run"
	ip link set lo up 2>/dev/null || true # loopback only, for the walkthroughs
	exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive /bin/bash "$2" /tmp/laps-debs
	'
unshare --mount --propagation private --pid --fork --net --uts --ipc -- \
	/bin/bash -c "$in_root" unshare-root "$root" /tmp/laps-inroot.sh >"$work/inroot.log" 2>&1
rc=$?
cat "$work/inroot.log"
echo "debian: install checks in the throw-away root took $(($(date +%s) - t0)) s"
p=$(grep -c '^ok: ' "$work/inroot.log")
f=$(grep -c '^FAIL: ' "$work/inroot.log")
s=$(grep -c '^SKIP: ' "$work/inroot.log")
pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
	bad "the in-root script exited $rc without reporting a failure"
fi

# ---- 5. docs as tests: each walkthrough, literally, in its own fresh root ----
# (a newcomer starts each from a fresh Debian 12 with the packages)
for d in "$top"/docs/QUICKSTART-*.md; do
	n=$(basename "$d" .md)
	docroot="$work/docroot-$n"
	mkdir -p "$docroot"
	tar -xf "$base" -C "$docroot"
	mkdir -p "$docroot/tmp/laps-debs"
	cp "${debs[@]}" "$docroot/tmp/laps-debs/"
	install -m 0755 "$top/tests/packaging/docs-inroot.sh" "$docroot/tmp/laps-docs.sh"
	sh "$top/tests/packaging/doc-blocks.sh" "$d" >"$docroot/tmp/doc-$n.sh"
	printf '#!/bin/sh\nexit 101\n' >"$docroot/usr/sbin/policy-rc.d"
	chmod 0755 "$docroot/usr/sbin/policy-rc.d"
	t0=$(date +%s)
	unshare --mount --propagation private --pid --fork --net --uts --ipc -- \
		/bin/bash -c "$in_root" unshare-root "$docroot" /tmp/laps-docs.sh \
		>"$work/docs-$n.log" 2>&1
	rc=$?
	cat "$work/docs-$n.log"
	echo "debian: $n took $(($(date +%s) - t0)) s"
	p=$(grep -c '^ok: ' "$work/docs-$n.log")
	f=$(grep -c '^FAIL: ' "$work/docs-$n.log")
	pass=$((pass + p)) fail=$((fail + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		bad "the docs script for $n exited $rc without reporting a failure"
	fi
done
finish
