#!/bin/bash
# ldap_impacket.sh — msLAPS-EncryptedPassword values written by laps-agent
# (schema mslaps, encrypt_to, against slapd) decrypt with code that is not
# ours: impacket's DPAPI-NG / LAPS code (python3-impacket of Debian 13),
# run by tests/integration/impacket_laps.py in a Debian 13 (trixie) root
# made with mmdebstrap, cached as a tarball under LAPS_DEB_CACHE (default
# /var/cache/laps-ci, else TMPDIR) and entered with unshare + chroot (no
# network inside).  The decrypted password is compared with the account's
# shadow hash (python3 crypt).
#
# What stays ours: the GroupKeyEnvelope, i.e. what MS-GKDI GetKey would
# answer, derived from the test root key by tests/unit/gkdi_tool (the
# TEST-ONLY root key source stands in for the domain controller; impacket
# has no root key derivation).  Everything after it is impacket's or
# pycryptodome's.  impacket 0.12 handles SHA-256/SHA-512 KDFs and the DH
# public-key path only, so the root keys here are SHA-512 DH (Windows'
# default) and SHA-256 DH.  Not done: the Samba AD DC half (issue 25).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/agent_lib.sh"
need_root
command -v ldapsearch >/dev/null || { echo "SKIP: ldap-utils missing"; exit 77; }
command -v mmdebstrap >/dev/null || { echo "SKIP: mmdebstrap missing"; exit 77; }
python3 -W ignore -c 'import crypt' 2>/dev/null || { echo "SKIP: python3 crypt missing"; exit 77; }
unshare --mount --pid --fork --net true 2>/dev/null || { echo "SKIP: unshare cannot create namespaces"; exit 77; }
GKDI_TOOL=$top_builddir/tests/unit/gkdi_tool
SID=S-1-5-21-1004336348-1177238915-682003330-1105

# ---- the Debian 13 root, cached ----
mirror=${LAPS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${LAPS_DEB_CACHE:-/var/cache/laps-ci}
mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || cache=${TMPDIR:-/tmp}
key=$(printf 'v1 %s %s %s\n' "$mirror" python3-impacket "$(dpkg-query -W -f='${Version}' mmdebstrap)" |
	sha256sum | cut -c1-16)
base="$cache/laps-trixie-impacket-$key.tar"
if [ -s "$base" ] && [ -z "$(find "$base" -mtime +7)" ]; then
	echo "# trixie root from cache $base"
else
	t0=$(date +%s)
	tmp=$(mktemp "$base.XXXXXX")
	if mmdebstrap --variant=minbase --include=python3-impacket --format=tar \
		--aptopt='Acquire::Retries "3"' trixie "$tmp" "deb $mirror trixie main" \
		>"$T/mmdebstrap.log" 2>&1; then
		mv -f "$tmp" "$base"
		echo "# trixie root built in $(($(date +%s) - t0)) s"
	else
		rm -f "$tmp"
		tail -n 5 "$T/mmdebstrap.log"
		echo "SKIP: no Debian 13 root (archive unreachable?)"
		exit 77
	fi
fi
root=$T/trixie
mkdir -p "$root" && tar -xf "$base" -C "$root" || exit 99
cp "$top_srcdir/tests/integration/impacket_laps.py" "$root/tmp/" || exit 99

# run impacket_laps.py in the root: in_root VALUE GKE SID SD -> stdout
in_root() {
	cp "$1" "$root/tmp/value" && cp "$2" "$root/tmp/gke" || return 99
	unshare --mount --propagation private --pid --fork --net -- /bin/bash -c '
		set -e
		r=$1
		mount -t proc proc "$r/proc"
		mount -t tmpfs -o mode=0755,nosuid tmpfs "$r/dev"
		for n in null zero urandom random; do touch "$r/dev/$n"; mount --bind "/dev/$n" "$r/dev/$n"; done
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
			python3 /tmp/impacket_laps.py /tmp/value /tmp/gke "$2" "$3"' in-root "$root" "$3" "$4"
}

# ---- slapd and the agent ----
. "$top_srcdir/tests/integration/lib/slapd.sh"
trap 'slapd_cleanup; rm -rf "$T"' EXIT
slapd_start "$T/slapd" --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
export LDAPCONF=/dev/null LDAPRC=/dev/null
our_sd=$("$GKDI_TOOL" sd "$SID") || exit 99

for hash in SHA512 SHA256; do
	python3 "$top_srcdir/tests/integration/gkdi_rootkey.py" "$T/rootkey.json" "$hash" DH || exit 99
	rm -rf "$T/root" "$T/state"
	make_root "$T/root"
	mkdir -p "$T/state" && chmod 700 "$T/state"
	cat >"$T/laps.conf" <<CONF
[agent]
accounts = lapsadmin
method = shadow
root = $T/root
state_dir = $T/state
hash = sha512
hash_cost = 1000
[password]
length = 24
[escrow]
backend = ldap
device = host1
[ldap]
uri = $LDAP_URI
tls = starttls
ca_file = $LDAP_CA
bind = simple
bind_dn = $(slapd_device_dn host1)
bind_secret_file = $(slapd_device_secret host1)
base = $LDAP_DEVICES_BASE
filter = (cn=%h)
schema = mslaps
encrypt_to = $SID
gkdi_root_key_file = $T/rootkey.json
CONF
	chmod 600 "$T/laps.conf"
	agent run >"$T/out" 2>&1 || { fail "$hash: rotation"; cat "$T/out"; continue; }
	slapd_ldapsearch -LLL -o ldif-wrap=no -b "$(slapd_device_dn host1)" -s base msLAPS-EncryptedPassword |
		sed -n 's/^msLAPS-EncryptedPassword:: //p' | base64 -d >"$T/value"
	[ -s "$T/value" ] || { fail "$hash: no msLAPS-EncryptedPassword"; continue; }
	"$GKDI_TOOL" envelope "$T/rootkey.json" "$T/value" >"$T/gke" || { fail "$hash: envelope"; continue; }
	if ! in_root "$T/value" "$T/gke" "$SID" "$our_sd" >"$T/imp" 2>"$T/imp.err"; then
		fail "$hash: impacket could not decrypt: $(tail -n 3 "$T/imp.err")"
		continue
	fi
	res=$(python3 -W ignore -c '
import json, sys, crypt
r = json.load(open(sys.argv[1]))
h = sys.argv[2]
print(r["doc"]["n"] == "lapsadmin", crypt.crypt(r["doc"]["p"], h) == h,
      r["public_key_path"], r["ciphertext_after_envelope"], r["sd_matches_impacket"])' \
		"$T/imp" "$(shadow_line lapsadmin | cut -d: -f2)" 2>&1)
	[ "$res" = "True True True True True" ] &&
		pass "$hash DH: impacket decrypts the agent's blob (tag verified) to the account's password; public-key path; ciphertext after the envelope; our target SD = impacket's create_sd" ||
		fail "$hash DH: $res ($(cat "$T/imp"))"
	# and a flipped bit in the tag fails there too (the check is real)
	python3 -c 'import sys; v=bytearray(open(sys.argv[1],"rb").read()); v[-1]^=1; open(sys.argv[1],"wb").write(v)' "$T/value"
	if in_root "$T/value" "$T/gke" "$SID" "$our_sd" >"$T/imp" 2>"$T/imp.err"; then
		fail "$hash: impacket side accepted a tampered tag"
	elif grep -q "MAC check failed" "$T/imp.err"; then
		pass "$hash: a tampered tag fails on the impacket side (MAC check failed)"
	else
		fail "$hash: tampered: $(tail -n 2 "$T/imp.err")"
	fi
done
finish
