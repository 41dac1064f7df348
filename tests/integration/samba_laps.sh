#!/bin/bash
# samba_laps.sh — encrypted Windows LAPS against a Samba AD DC (Debian 13's
# Samba 4.22, from a cached trixie root made with mmdebstrap, provisioned
# afresh in private mount/PID/network/UTS namespaces; nothing leaves them):
#   - the DC's own KDS root key (made by the provision) is read by
#     Administrator over LDAP and written as the TEST-ONLY
#     gkdi_root_key_file, standing in for GetKey (Samba has no GKDI server);
#   - the Windows LAPS attributes are added to Samba's schema
#     (samba_mslaps.ldif);
#   - laps-agent (bound as Administrator: simple bind without TLS, allowed
#     here by "ldap server require strong auth = no"; a real deployment
#     binds as the computer with GSSAPI) rotates with encrypt_to = the
#     domain's Domain Admins SID: msLAPS-EncryptedPassword on the
#     computer object, a planted msLAPS-Password removed;
#   - laps-get decrypts it, and impacket (python3-impacket in the same
#     root) decrypts it, each to the password in the shadow file; after a
#     second rotation msLAPS-EncryptedPasswordHistory holds the first;
#   - the agent fault matrix (every fault point, kill) against the DC.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
if [ -z "${LAPS_IN_NS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
	command -v mmdebstrap >/dev/null || { echo "SKIP: mmdebstrap missing"; exit 77; }
	command -v ldapsearch >/dev/null || { echo "SKIP: ldap-utils missing"; exit 77; }
	unshare --mount --pid --fork --net --uts true 2>/dev/null ||
		{ echo "SKIP: unshare cannot create namespaces"; exit 77; }
	pkgs=python3-impacket,samba,samba-ad-dc,python3-samba,ldb-tools,samba-ad-provision
	mirror=${LAPS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
	cache=${LAPS_DEB_CACHE:-/var/cache/laps-ci}
	mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || cache=${TMPDIR:-/tmp}
	key=$(printf 'v2 %s %s %s\n' "$mirror" samba "$(dpkg-query -W -f='${Version}' mmdebstrap)" |
		sha256sum | cut -c1-16)
	base="$cache/laps-trixie-samba-$key.tar"
	if [ -s "$base" ] && [ -z "$(find "$base" -mtime +7)" ]; then
		echo "# trixie root from cache $base"
	else
		tmp=$(mktemp "$base.XXXXXX")
		if mmdebstrap --variant=minbase --include="$pkgs" --format=tar \
			--aptopt='Acquire::Retries "3"' trixie "$tmp" "deb $mirror trixie main" \
			>"$tmp.log" 2>&1; then
			mv -f "$tmp" "$base"
			rm -f "$tmp.log"
		else
			tail -n 5 "$tmp.log"
			rm -f "$tmp" "$tmp.log"
			echo "SKIP: no Debian 13 root (archive unreachable?)"
			exit 77
		fi
	fi
	exec unshare --mount --propagation private --pid --fork --net --uts -- \
		env LAPS_IN_NS=1 LAPS_SAMBA_TAR="$base" top_srcdir="$top_srcdir" \
		top_builddir="$top_builddir" bash "$0" "$@"
fi

# ---- inside the namespaces ----
# this PID namespace's own /proc (private mount namespace): the PIDs below
# are the namespace's
mount -t proc proc /proc || exit 99
. "$top_srcdir/tests/integration/agent_lib.sh"
GKDI_TOOL=$top_builddir/tests/unit/gkdi_tool
LAPS_GET=$top_builddir/laps-get/laps-get
BASE_DN=DC=laps,DC=test
ADMIN_DN=CN=Administrator,CN=Users,$BASE_DN
r=$T/trixie
mkdir -p "$r" && tar -xf "$LAPS_SAMBA_TAR" -C "$r" || exit 99
mount -t proc proc "$r/proc"
mount -t tmpfs -o mode=0755,nosuid tmpfs "$r/dev"
for n in null zero urandom random full tty; do touch "$r/dev/$n"; mount --bind "/dev/$n" "$r/dev/$n"; done
mount -t tmpfs tmpfs "$r/run"
ip link set lo up
hostname dc1
in_root() { chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
printf 'Passw0rd.%s\n' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$T/admin.pw"
chmod 600 "$T/admin.pw"
rm -f "$r/etc/samba/smb.conf"
t0=$(date +%s)
in_root samba-tool domain provision --realm=LAPS.TEST --domain=LAPS --server-role=dc \
	--dns-backend=NONE --adminpass="$(head -n1 "$T/admin.pw")" --host-ip=127.0.0.1 --host-name=dc1 \
	--option="interfaces=lo" --option="bind interfaces only=yes" >"$T/provision.log" 2>&1 ||
	{ tail -n 20 "$T/provision.log"; echo "provision failed"; exit 99; }
sed -i '/^\[global\]/a\	ldap server require strong auth = no\n\tdsdb:schema update allowed = yes' \
	"$r/etc/samba/smb.conf"
in_root samba --foreground --no-process-group >"$T/samba.log" 2>&1 &
samba_pid=$!
# Samba's processes (all chrooted into $r), by id; then the mounts and $T
stop_samba() {
	local p pids=
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$r" ] && pids="$pids ${p#/proc/}"
	done
	[ -z "$pids" ] || kill $pids 2>/dev/null
	wait "$samba_pid" 2>/dev/null
	for p in 1 2 3 4 5 6 7 8 9 10; do
		pids=
		for q in /proc/[0-9]*; do
			[ "$(readlink "$q/root" 2>/dev/null)" = "$r" ] && pids="$pids ${q#/proc/}"
		done
		[ -z "$pids" ] && break
		sleep 0.5
	done
	[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
	umount -R "$r/proc" 2>/dev/null; umount -R "$r/dev" 2>/dev/null; umount -R "$r/run" 2>/dev/null
}
trap 'stop_samba; rm -rf "$T"' EXIT
for i in $(seq 120); do (exec 3<>/dev/tcp/127.0.0.1/389) 2>/dev/null && break; sleep 0.5; done
echo "# Samba AD DC provisioned and listening in $(($(date +%s) - t0)) s"
export LDAPCONF=/dev/null LDAPRC=/dev/null
adm() { local c=$1; shift; "$c" -x -H ldap://127.0.0.1 -D "$ADMIN_DN" -y <(head -n1 "$T/admin.pw" | tr -d '\n') "$@"; }

# the Windows LAPS schema, a computer, the Domain Admins SID
sed "s/DC=X/$BASE_DN/" "$top_srcdir/tests/integration/samba_mslaps.ldif" |
	adm ldapmodify >"$T/schema.log" 2>&1 || { cat "$T/schema.log"; echo "schema import failed"; exit 99; }
in_root samba-tool computer add host1 >/dev/null 2>&1 || { echo "computer add failed"; exit 99; }
SID=$(adm ldapsearch -LLL -o ldif-wrap=no -b "$BASE_DN" -s base objectSid | sed -n 's/^objectSid:: //p' |
	python3 -c '
import base64, struct, sys
b = base64.b64decode(sys.stdin.read())
n = b[1]; auth = int.from_bytes(b[2:8], "big")
subs = struct.unpack("<%dI" % n, b[8:8 + 4 * n])
print("S-%d-%d-%s-512" % (b[0], auth, "-".join(map(str, subs))))')
case $SID in S-1-5-21-*-512) ;; *) echo "no domain SID ($SID)"; exit 99 ;; esac

# the DC's KDS root key, read over LDAP by Administrator, as the test key file
adm ldapsearch -LLL -o ldif-wrap=no \
	-b "CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,CN=Configuration,$BASE_DN" \
	'(objectClass=msKds-ProvRootKey)' cn msKds-Version msKds-KDFAlgorithmID msKds-KDFParam \
	msKds-SecretAgreementAlgorithmID msKds-SecretAgreementParam msKds-PrivateKeyLength \
	msKds-PublicKeyLength msKds-RootKeyData >"$T/rootkey.ldif" || exit 99
python3 - "$T/rootkey.ldif" "$T/rootkey.json" <<'PY' || { echo "no root key"; exit 99; }
import base64, json, os, sys
a = {}
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if ":: " in line:
        k, v = line.split(":: ", 1); a[k] = base64.b64decode(v)
    elif ": " in line:
        k, v = line.split(": ", 1); a[k] = v
doc = {"Version": int(a["msKds-Version"]), "RootKeyId": a["cn"],
       "KdfAlgorithm": a["msKds-KDFAlgorithmID"], "KdfParameters": a["msKds-KDFParam"].hex(),
       "SecretAgreementAlgorithm": a["msKds-SecretAgreementAlgorithmID"],
       "SecretAgreementParameters": a["msKds-SecretAgreementParam"].hex(),
       "PrivateKeyLength": int(a["msKds-PrivateKeyLength"]),
       "PublicKeyLength": int(a["msKds-PublicKeyLength"]),
       "RootKeyData": a["msKds-RootKeyData"].hex()}
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, json.dumps(doc).encode()); os.close(fd)
print("# root key %s (%s, %s, private key %d bits)" % (doc["RootKeyId"], doc["KdfAlgorithm"],
      doc["SecretAgreementAlgorithm"], doc["PrivateKeyLength"]))
PY
head -n1 "$T/admin.pw" | tr -d '\n' >"$T/bind.pw" && chmod 600 "$T/bind.pw"

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
history = 3
[ldap]
uri = ldap://127.0.0.1
tls = none
bind = simple
bind_dn = $ADMIN_DN
bind_secret_file = $T/bind.pw
base = CN=Computers,$BASE_DN
filter = (cn=%h)
schema = mslaps
encrypt_to = $SID
gkdi_root_key_file = $T/rootkey.json
timeout = 10s
CONF
chmod 600 "$T/laps.conf"
HOST_DN=CN=host1,CN=Computers,$BASE_DN
attr_b64() { adm ldapsearch -LLL -o ldif-wrap=no -b "$HOST_DN" -s base "$1" | sed -n "s/^$1:: //p"; }
attr_n() { adm ldapsearch -LLL -o ldif-wrap=no -b "$HOST_DN" -s base "$1" | grep -c "^$1:"; }
matches_shadow() {
	python3 -W ignore -c 'import crypt,sys; sys.exit(crypt.crypt(sys.argv[1], sys.argv[2]) != sys.argv[2])' \
		"$1" "$(shadow_line lapsadmin | cut -d: -f2)"
}
printf 'dn: %s\nchangetype: modify\nreplace: msLAPS-Password\nmsLAPS-Password: {"n":"lapsadmin","t":"1d8161b41c41cde","p":"old"}\n' \
	"$HOST_DN" | adm ldapmodify >/dev/null || fail "planting msLAPS-Password on Samba"

agent run >"$T/out" 2>&1 || { fail "agent rotation against Samba"; cat "$T/out"; }
[ -n "$(attr_b64 msLAPS-EncryptedPassword)" ] && [ "$(attr_n msLAPS-Password)" = 0 ] &&
	pass "Samba: msLAPS-EncryptedPassword written, the planted msLAPS-Password removed" ||
	fail "Samba: attributes after the rotation ($(attr_n msLAPS-Password) msLAPS-Password)"
"$LAPS_GET" -c "$T/laps.conf" host1 >"$T/pw" 2>"$T/err"
matches_shadow "$(cat "$T/pw")" && pass "Samba: laps-get decrypts it with the DC's root key to the account's password" ||
	fail "Samba: laps-get: $(cat "$T/err")"
p1=$(cat "$T/pw")

cp "$top_srcdir/tests/integration/impacket_laps.py" "$r/tmp/"
attr_b64 msLAPS-EncryptedPassword | base64 -d >"$r/tmp/value"
"$GKDI_TOOL" envelope "$T/rootkey.json" "$r/tmp/value" >"$r/tmp/gke" || fail "gkdi_tool envelope"
if in_root python3 /tmp/impacket_laps.py /tmp/value /tmp/gke "$SID" "$("$GKDI_TOOL" sd "$SID")" >"$T/imp" 2>"$T/imp.err"; then
	res=$(python3 -W ignore -c '
import json, sys, crypt
r = json.load(open(sys.argv[1])); h = sys.argv[2]
print(crypt.crypt(r["doc"]["p"], h) == h, r["sd_matches_impacket"])' "$T/imp" "$(shadow_line lapsadmin | cut -d: -f2)")
	[ "$res" = "True True" ] && pass "Samba: impacket decrypts the value from the DC (tag verified) to the account's password" ||
		fail "Samba: impacket: $res"
else
	fail "Samba: impacket could not decrypt: $(tail -n 3 "$T/imp.err")"
fi

"$TOOL" expire "$T/laps.conf" lapsadmin || fail "expire"
agent run >"$T/out" 2>&1 || { fail "second rotation"; cat "$T/out"; }
"$LAPS_GET" -c "$T/laps.conf" --history=5 --json host1 >"$T/j" 2>"$T/err"
h=$(python3 -c 'import json,sys; print(" ".join(x["password"] for x in json.load(open(sys.argv[1]))["history"]))' "$T/j" 2>/dev/null)
[ "$h" = "$p1" ] && [ "$(attr_n msLAPS-EncryptedPasswordHistory)" = 1 ] &&
	pass "Samba: second rotation: msLAPS-EncryptedPasswordHistory holds the first password" ||
	fail "Samba: history: '$h' $(cat "$T/err")"

# the agent fault matrix against the DC: every fault point, killed; right
# after the fault the escrow (current, or the newest history value while
# the current one is pending) decrypts to the account's password
# (test_agent_tool check, through our reader), and a re-run completes
if "$AGENT" --version 2>/dev/null | grep -q fault-injection; then
	"$TOOL" keygen "$T" >/dev/null || exit 99 # check's key argument (unused here)
	for step in after_lock after_journal after_escrow_write after_journal_escrowed \
		before_local_set after_local_set after_confirm after_state after_journal_removed; do
		"$TOOL" expire "$T/laps.conf" lapsadmin || { fail "$step: expire"; continue; }
		LAPS_FAULT="$step:kill" agent run >"$T/out" 2>&1
		[ $? -eq 137 ] || { fail "Samba $step:kill: not killed"; cat "$T/out"; continue; }
		inv=$("$TOOL" check "$T/laps.conf" "$T/admin.key" lapsadmin)
		case $inv in ok*) ;; *) fail "Samba $step:kill: right after the fault: $inv"; continue ;; esac
		agent run >"$T/out" 2>&1 || { fail "Samba $step:kill: re-run"; cat "$T/out"; continue; }
		inv2=$("$TOOL" check "$T/laps.conf" "$T/admin.key" lapsadmin)
		[ "$inv2" = "ok current confirmed" ] && pass "Samba fault $step:kill ($inv, then $inv2)" ||
			fail "Samba $step:kill: after re-run: $inv2"
	done
else
	echo "# laps-agent without --enable-fault-injection: fault cases skipped"
fi
finish
