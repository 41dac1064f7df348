#!/bin/bash
# tests/packaging/docs-inroot.sh DEBDIR — runs INSIDE a second fresh
# Debian 12 root (tests/packaging/debian.sh; chroot in new namespaces, no
# network but loopback, no systemd): installs the .debs of DEBDIR as a
# newcomer would, then runs each walkthrough's marked blocks
# (/tmp/doc-NAME.sh, made by tests/packaging/doc-blocks.sh) literally, as
# root, in a login-like shell.  One "ok:"/"FAIL:" line per walkthrough.
set -u
debdir=$1
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
cd /root || exit 1
if ! dpkg -i "$debdir"/*.deb >/tmp/docs-install.log 2>&1; then
	echo "FAIL: docs: installing the packages failed"
	tail -n 20 /tmp/docs-install.log | sed 's/^/    /'
	exit 1
fi
rc_all=0
for script in /tmp/doc-*.sh; do
	[ -e "$script" ] || continue
	name=$(basename "$script" .sh)
	name=${name#doc-}
	(cd /root && bash "$script") >"/tmp/$name.log" 2>&1
	rc=$?
	# the servers a walkthrough started (this PID namespace is the root's own)
	for p in $(pidof laps-escrowd slapd 2>/dev/null); do kill "$p" 2>/dev/null; done
	if [ "$rc" -eq 0 ]; then
		echo "ok: docs: $name.md runs as written (a rotated password read back)"
	else
		echo "FAIL: docs: $name.md stopped (exit $rc); last lines:"
		tail -n 25 "/tmp/$name.log" | sed 's/^/    /'
		rc_all=1
	fi
	grep -E '^--- ' "/tmp/$name.log" | tail -n 1 | sed 's/^/    last block: /'
done
exit "$rc_all"
