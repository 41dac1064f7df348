#!/bin/bash
# ldap_encrypted.sh — schema mslaps with [ldap] encrypt_to (issue 25)
# against a real slapd carrying the Windows LAPS schema: the agent writes
# msLAPS-EncryptedPassword (16-byte header + DPAPI-NG blob to the SID) and
# never msLAPS-Password (an older one is removed); laps-get (the readers'
# bind) decrypts it to the password the account has (checked against the
# shadow hash with python3 crypt, not with our code), says "encrypted":
# true in --json, and fails clearly without the key or with another root
# key; a tampered value does not decrypt.  With ../shared/vectors/dpapi-ng:
# a Windows-written blob stored into slapd is decrypted by laps-get.
#
# The group key comes from [ldap] gkdi_root_key_file: the TEST-ONLY source
# that stands in for MS-GKDI GetKey (a KDS root key made here by
# gkdi_rootkey.py).  No domain controller is involved.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/agent_lib.sh"
need_root
command -v ldapsearch >/dev/null || { echo "SKIP: ldap-utils missing"; exit 77; }
python3 -W ignore -c 'import crypt' 2>/dev/null || { echo "SKIP: python3 crypt missing"; exit 77; }
. "$top_srcdir/tests/integration/lib/slapd.sh"
trap 'slapd_cleanup; rm -rf "$T"' EXIT
slapd_start "$T/slapd" --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
export LDAPCONF=/dev/null LDAPRC=/dev/null
LAPS_GET=$top_builddir/laps-get/laps-get
SID=S-1-5-21-1004336348-1177238915-682003330-512
VEC=${LAPS_DPAPI_NG_VECTORS:-$top_srcdir/../shared/vectors/dpapi-ng}
python3 "$top_srcdir/tests/integration/gkdi_rootkey.py" "$T/rootkey.json" || exit 99
python3 "$top_srcdir/tests/integration/gkdi_rootkey.py" "$T/other.json" || exit 99

# conf HOST [ROOTKEY] -> $T/laps.conf (the agent) and $T/reader.conf
conf() {
	local host=$1 rk=${2-$T/rootkey.json} who dn secret f
	for who in agent reader; do
		if [ $who = agent ]; then
			dn=$(slapd_device_dn "$host") secret=$(slapd_device_secret "$host") f=$T/laps.conf
		else
			dn=$LDAP_READER_DN secret=$LDAP_READER_SECRET f=$T/reader.conf
		fi
		cat >"$f" <<CONF
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
device = $host
history = 2
[ldap]
uri = $LDAP_URI
tls = starttls
ca_file = $LDAP_CA
bind = simple
bind_dn = $dn
bind_secret_file = $secret
base = $LDAP_DEVICES_BASE
filter = (cn=%h)
schema = mslaps
timeout = 3s
encrypt_to = $SID
CONF
		[ -z "$rk" ] || echo "gkdi_root_key_file = $rk" >>"$f"
		chmod 600 "$f"
	done
}

# the values of ATTR on HOST's entry (base64, one a line) as rootdn
attr_b64() { # HOST ATTR
	slapd_ldapsearch -LLL -o ldif-wrap=no -b "$(slapd_device_dn "$1")" -s base "$2" |
		sed -n "s/^$2:: //p"
}
attr_plain() { slapd_ldapsearch -LLL -o ldif-wrap=no -b "$(slapd_device_dn "$1")" -s base "$2" | grep -c "^$2:"; }

matches_shadow() { # PASSWORD
	python3 -W ignore -c 'import crypt,sys; sys.exit(crypt.crypt(sys.argv[1], sys.argv[2]) != sys.argv[2])' \
		"$1" "$(shadow_line lapsadmin | cut -d: -f2)"
}

rm -rf "$T/root" "$T/state"
make_root "$T/root"
mkdir -p "$T/state" && chmod 700 "$T/state"
conf host1

# an older clear-text value must disappear
slapd_ldapmodify >/dev/null <<LDIF || exit 99
dn: $(slapd_device_dn host1)
changetype: modify
replace: msLAPS-Password
msLAPS-Password: {"n":"lapsadmin","t":"1d8161b41c41cde","p":"old-clear"}
LDIF

agent run >"$T/out" 2>&1 || { fail "first rotation"; cat "$T/out"; }
[ "$(attr_plain host1 msLAPS-Password)" = 0 ] && pass "no msLAPS-Password after an encrypted rotation (the older one removed)" ||
	fail "msLAPS-Password still present"
enc=$(attr_b64 host1 msLAPS-EncryptedPassword)
[ -n "$enc" ] && pass "msLAPS-EncryptedPassword written" || fail "no msLAPS-EncryptedPassword"
# the header (MS-ADA2 2.66): size field = bytes after the header, reserved 0,
# and the blob is a CMS ContentInfo (0x30) for enveloped-data
hdr=$(printf '%s' "$enc" | python3 -c '
import base64, sys, struct
v = base64.b64decode(sys.stdin.read())
hi, lo, size, res = struct.unpack("<IIII", v[:16])
ft = hi << 32 | lo
print(size == len(v) - 16, res == 0, v[16] == 0x30, b"\x2a\x86\x48\x86\xf7\x0d\x01\x07\x03" in v[16:40],
      abs((ft - 116444736000000000) // 10**7 - int(sys.argv[1])) < 600)' "$(date +%s)")
[ "$hdr" = "True True True True True" ] && pass "header: size, reserved, FILETIME now; a CMS enveloped-data blob" ||
	fail "header: $hdr"
printf '%s' "$enc" | base64 -d | grep -qa "lapsadmin" && fail "the account name is readable in the blob" ||
	pass "no clear text in the blob"

# laps-get decrypts it (with our code) to the password the account has
"$LAPS_GET" -c "$T/reader.conf" host1 >"$T/pw" 2>"$T/err" || { fail "laps-get"; cat "$T/err"; }
r1=$(cat "$T/pw")
matches_shadow "$(cat "$T/pw")" && pass "laps-get: the decrypted password is the account's (shadow hash)" ||
	fail "laps-get: password does not match the shadow hash"
"$LAPS_GET" -c "$T/reader.conf" --json host1 >"$T/j" 2>"$T/err" || fail "laps-get --json"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); e=j if "encrypted" in j else j["current"]; sys.exit(not (e["encrypted"] is True))' "$T/j" 2>/dev/null ||
	python3 -c 'import json,sys; s=open(sys.argv[1]).read(); sys.exit("\"encrypted\": true" not in s and "\"encrypted\":true" not in s)' "$T/j" &&
	pass "laps-get --json: \"encrypted\": true" || { fail "laps-get --json has no encrypted: true"; cat "$T/j"; }

# a second rotation: new blob, still decrypts, still no clear text
s1=$(shadow_line lapsadmin)
"$TOOL" expire "$T/reader.conf" lapsadmin || fail "expire"
agent run >"$T/out" 2>&1 || { fail "forced rotation"; cat "$T/out"; }
[ "$(shadow_line lapsadmin)" != "$s1" ] || fail "no rotation"
[ "$(attr_b64 host1 msLAPS-EncryptedPassword)" != "$enc" ] || fail "blob unchanged"
"$LAPS_GET" -c "$T/reader.conf" host1 >"$T/pw" 2>"$T/err"
matches_shadow "$(cat "$T/pw")" && [ "$(attr_plain host1 msLAPS-Password)" = 0 ] &&
	pass "second rotation: decrypts to the new password, no clear text" || fail "second rotation: $(cat "$T/err")"
state=$("$TOOL" show "$T/reader.conf" lapsadmin | cut -d' ' -f1)
[ "$state" = current ] || [ "$state" = confirmed ] && pass "expiration confirmed as in clear-text mode ($state)" ||
	fail "state after rotation: $state"

# history (msLAPS-EncryptedPasswordHistory): the previous passwords, newest first; with history = 2 at most the two previous ones; a value
# whose write failed (slapd down) never becomes history
p1=$(cat "$T/pw")
hist_pw() { # -> the history passwords, newest first, one a line
	"$LAPS_GET" -c "$T/reader.conf" --history=10 --json host1 2>"$T/err" |
		python3 -c 'import json,sys; [print(h["password"]) for h in json.load(sys.stdin)["history"]]'
}
pw_now() { "$LAPS_GET" -c "$T/reader.conf" host1 2>"$T/err"; }
"$TOOL" expire "$T/reader.conf" lapsadmin || fail "expire h1"
agent run >"$T/out" 2>&1 || { fail "rotation 3"; cat "$T/out"; }
p2=$(pw_now)
[ "$(hist_pw | tr '\n' ' ')" = "$p1 $r1 " ] && pass "history: after rotation 3 the two previous passwords" ||
	{ fail "history after rotation 3: $(hist_pw | wc -l) values $(cat "$T/err")"; }
"$TOOL" expire "$T/reader.conf" lapsadmin || fail "expire h2"
slapd_kill
agent run >"$T/out" 2>&1 && fail "run with slapd down exited 0"
slapd_restart || exit 99
agent run >"$T/out" 2>&1 || { fail "rotation 4"; cat "$T/out"; }
p3=$(pw_now)
matches_shadow "$p3" || fail "rotation 4: current password is not the account's"
[ "$(hist_pw | tr '\n' ' ')" = "$p2 $p1 " ] &&
	pass "history: newest first (a run with slapd down adds nothing)" ||
	fail "history after rotation 4: $(hist_pw | tr '\n' ' ') (want $p2 $p1)"
"$TOOL" expire "$T/reader.conf" lapsadmin || fail "expire h3"
agent run >"$T/out" 2>&1 || { fail "rotation 5"; cat "$T/out"; }
[ "$(hist_pw | tr '\n' ' ')" = "$p3 $p2 " ] && [ "$(attr_b64 host1 msLAPS-EncryptedPasswordHistory | wc -l)" = 2 ] &&
	pass "history: trimmed to [escrow] history = 2" ||
	fail "history after rotation 5: $(hist_pw | tr '\n' ' ')"
pw_now >"$T/pw"

# no key: a clear error naming GetKey; another root key: says so
cp "$T/reader.conf" "$T/reader-ok.conf"
sed -i '/^gkdi_root_key_file/d' "$T/reader.conf"
"$LAPS_GET" -c "$T/reader.conf" host1 >"$T/pw" 2>"$T/err" && fail "laps-get without a key source exited 0"
[ ! -s "$T/pw" ] && grep -q "GetKey" "$T/err" && pass "no key source: clear error ($(head -c 160 "$T/err"))" ||
	fail "no key source: $(cat "$T/err")"
sed -i "s|^encrypt_to = .*|&\ngkdi_root_key_file = $T/other.json|" "$T/reader.conf"
"$LAPS_GET" -c "$T/reader.conf" host1 >"$T/pw" 2>"$T/err" && fail "laps-get with another root key exited 0"
[ ! -s "$T/pw" ] && grep -q "another KDS root key" "$T/err" && pass "another root key: clear error" ||
	fail "another root key: $(cat "$T/err")"
cp "$T/reader-ok.conf" "$T/reader.conf"

# a flipped byte in the ciphertext (last byte: the GCM tag) does not decrypt
put_enc() { # HOST BASE64
	slapd_ldapmodify >/dev/null <<LDIF
dn: $(slapd_device_dn "$1")
changetype: modify
replace: msLAPS-EncryptedPassword
msLAPS-EncryptedPassword:: $2
LDIF
}
good=$(attr_b64 host1 msLAPS-EncryptedPassword)
bad=$(printf '%s' "$good" | python3 -c 'import base64,sys; v=bytearray(base64.b64decode(sys.stdin.read())); v[-1]^=1; print(base64.b64encode(bytes(v)).decode())')
put_enc host1 "$bad" || exit 99
"$LAPS_GET" -c "$T/reader.conf" host1 >"$T/pw" 2>"$T/err" && fail "tampered blob: exit 0"
[ ! -s "$T/pw" ] && grep -q "decrypting" "$T/err" && pass "tampered blob: refused" || fail "tampered: $(cat "$T/err")"
put_enc host1 "$good" || exit 99

# the cleartext mode is unchanged: without encrypt_to msLAPS-Password is written
sed -i '/^encrypt_to/d' "$T/laps.conf"
"$TOOL" expire "$T/reader.conf" lapsadmin || fail "expire 2"
agent run >"$T/out" 2>&1 || { fail "clear-text rotation"; cat "$T/out"; }
[ "$(attr_plain host1 msLAPS-Password)" = 1 ] && pass "without encrypt_to: msLAPS-Password written as before" ||
	fail "without encrypt_to: no msLAPS-Password"

# configuration errors name file:line
conf host1
sed 's/^encrypt_to = .*/encrypt_to = S-1-5-x/' "$T/laps.conf" >"$T/bad.conf"
"$AGENT" -c "$T/bad.conf" check-config >"$T/out" 2>&1 && fail "bad SID accepted"
grep -q "bad.conf:[0-9]*: \[ldap\] encrypt_to: .*must be a SID" "$T/out" && pass "a bad SID is refused with file:line" ||
	fail "bad SID: $(cat "$T/out")"
sed -e 's/^schema = mslaps/schema = laps/' -e "s|^device = host1|&\nrecipients = $T/none.pub|" "$T/laps.conf" >"$T/bad.conf"
"$AGENT" -c "$T/bad.conf" check-config >"$T/out" 2>&1 && fail "encrypt_to with schema laps accepted"
grep -q "encrypt_to.*needs schema = mslaps" "$T/out" && pass "encrypt_to needs schema = mslaps" ||
	fail "encrypt_to + laps: $(cat "$T/out")"

# a Windows-written blob (the vectors: each decrypts to the byte 0x00, not
# a LAPS JSON document): laps-get decrypts it (GCM tag verified) and then
# refuses the payload as not UTF-16 JSON; with a wrong key it cannot decrypt
if [ -r "$VEC/kdf_sha512_dh.json" ]; then
	slapd_ldapmodify >/dev/null <<LDIF || exit 99
dn: $(slapd_device_dn host2)
changetype: modify
replace: msLAPS-PasswordExpirationTime
msLAPS-PasswordExpirationTime: 133000000000000000
LDIF
	for v in kdf_sha512_dh kdf_sha256_ecdh_p384 kdf_sha1_nonce; do
		python3 -c '
import json, sys, os
d = json.load(open(sys.argv[1]))
blob = bytes.fromhex(d.pop("Data"))
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, json.dumps(d).encode()); os.close(fd)
import base64, struct
ft = 133000000000000000
print(base64.b64encode(struct.pack("<IIII", ft >> 32, ft & 0xffffffff, len(blob), 0) + blob).decode())
' "$VEC/$v.json" "$T/vec.json" >"$T/vec.b64" || exit 99
		put_enc host2 "$(cat "$T/vec.b64")" || exit 99
		conf host2 "$T/vec.json"
		"$LAPS_GET" -c "$T/reader.conf" host2 >"$T/pw" 2>"$T/err"
		grep -q "decrypted value" "$T/err" && ! grep -q "decrypting" "$T/err" &&
			pass "Windows vector $v in slapd: laps-get decrypts it (payload 0x00 refused as not LAPS JSON)" ||
			fail "Windows vector $v: $(cat "$T/err")"
		conf host2 "$T/other.json"
		"$LAPS_GET" -c "$T/reader.conf" host2 >"$T/pw" 2>"$T/err"
		grep -q "another KDS root key" "$T/err" && pass "Windows vector $v: a wrong root key is named" ||
			fail "Windows vector $v wrong key: $(cat "$T/err")"
	done
else
	echo "# ../shared/vectors/dpapi-ng absent: Windows-blob cases skipped"
fi
finish
