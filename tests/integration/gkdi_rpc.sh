#!/bin/bash
# gkdi_rpc.sh — the encrypted Windows LAPS mode with the group key from
# MS-GKDI GetKey over DCE/RPC (issue 25): no gkdi_root_key_file anywhere.
# A throw-away MIT KDC (lib/kdc.sh), slapd with the Windows LAPS schema and
# tests/integration/gkdi_server.c — a TEST key service built from MS-GKDI /
# MS-RPCE, not a domain controller: it answers from a test root key and
# stands in for the DC's group check with an allow list (admin@LAPS.TEST).
#   - the agent (machine keytab host/host1.example.test) gets the public key
#     over RPC (bind / bind_ack / auth3, packet privacy) and writes
#     msLAPS-EncryptedPassword; laps-get with admin's ccache (kinit) reads it
#     back through RPC, to the password the account has (shadow hash);
#   - the same blob opens with the root key directly (our test source):
#     the RPC answer is the key of that root key;
#   - fragmented responses are reassembled;
#   - without gkdi_port the port comes from the endpoint mapper (the test
#     server's on 127.0.0.1:135; skipped, and said so, when 135 is taken);
#   - eve (not on the allow list) gets one clear sentence, no RPC codes,
#     no password;
#   - the key service down or stopped (SIGSTOP): the agent fails within
#     [ldap] timeout and the local password is untouched;
#   - with the cached Debian 13 root (ldap_impacket.sh): impacket's GKDI and
#     RPC structures parse the stubs and PDUs the two sides exchanged.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/agent_lib.sh"
need_root
command -v ldapsearch >/dev/null || { echo "SKIP: ldap-utils missing"; exit 77; }
command -v kinit >/dev/null || { echo "SKIP: kinit missing (krb5-user)"; exit 77; }
python3 -W ignore -c 'import crypt' 2>/dev/null || { echo "SKIP: python3 crypt missing"; exit 77; }
SERVER=$top_builddir/tests/unit/gkdi_server
[ -x "$SERVER" ] || { echo "$SERVER not built"; exit 99; }
. "$top_srcdir/tests/integration/lib/slapd.sh"
. "$top_srcdir/tests/integration/lib/kdc.sh"
srv_pid=
srv_stop() { [ -z "$srv_pid" ] || { kill -CONT "$srv_pid"; kill "$srv_pid"; wait "$srv_pid"; } 2>/dev/null; srv_pid=; }
trap 'srv_stop; kdc_cleanup; slapd_cleanup; rm -rf "$T"' EXIT
kdc_start "$T/krb" host/127.0.0.1 host/host1.example.test admin eve
rc=$?
[ $rc -eq 0 ] || exit $rc
K=$T/krb
slapd_start "$T/slapd" --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
export LDAPCONF=/dev/null LDAPRC=/dev/null
LAPS_GET=$top_builddir/laps-get/laps-get
SID=S-1-5-21-1004336348-1177238915-682003330-512
python3 "$top_srcdir/tests/integration/gkdi_rootkey.py" "$T/rootkey.json" || exit 99
mkdir -p "$T/dump"

# srv_start [ARGS...]: the key service on a free port -> $port
srv_start() {
	rm -f "$T/port"
	KRB5_KTNAME=$K/host_127_0_0_1.keytab "$SERVER" "$T/port" "$T/rootkey.json" "$SID" \
		"$@" admin@LAPS.TEST 2>>"$T/server.log" &
	srv_pid=$!
	for i in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
	port=$(cat "$T/port" 2>/dev/null)
	[ -n "$port" ] || { echo "key service did not start"; cat "$T/server.log"; exit 99; }
}
srv_start -d "$T/dump"

# conf -> $T/laps.conf (the agent) and $T/reader.conf (laps-get)
conf() {
	local who dn secret f
	for who in agent reader; do
		if [ $who = agent ]; then
			dn=$(slapd_device_dn host1) secret=$(slapd_device_secret host1) f=$T/laps.conf
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
device = host1
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
gkdi_server = 127.0.0.1
gkdi_port = $port
CONF
		chmod 600 "$f"
	done
}
matches_shadow() { # PASSWORD
	python3 -W ignore -c 'import crypt,sys; sys.exit(crypt.crypt(sys.argv[1], sys.argv[2]) != sys.argv[2])' \
		"$1" "$(shadow_line lapsadmin | cut -d: -f2)"
}
# as_agent CMD...: the machine keytab, an empty ccache of its own
as_agent() { KRB5_CLIENT_KTNAME=$K/host_host1_example_test.keytab KRB5CCNAME=FILE:$T/agent.cc "$@"; }
# as_user NAME CMD...: NAME's ccache from kinit (laps-get as that admin)
as_user() {
	local u=$1
	shift
	KRB5CCNAME=FILE:$T/$u.cc "$@"
}
kinit -k -t "$K/admin.keytab" -c "FILE:$T/admin.cc" admin || exit 99
kinit -k -t "$K/eve.keytab" -c "FILE:$T/eve.cc" eve || exit 99

rm -rf "$T/root" "$T/state"
make_root "$T/root"
mkdir -p "$T/state" && chmod 700 "$T/state"
conf
as_agent agent run >"$T/out" 2>&1 || { fail "agent rotation with GetKey over RPC"; cat "$T/out" "$T/server.log"; }
enc=$(slapd_ldapsearch -LLL -o ldif-wrap=no -b "$(slapd_device_dn host1)" -s base msLAPS-EncryptedPassword |
	sed -n 's/^msLAPS-EncryptedPassword:: //p')
[ -n "$enc" ] && pass "agent: msLAPS-EncryptedPassword written with the key from GetKey" || fail "no msLAPS-EncryptedPassword"
grep -q "^gkdi_server: host/host1.example.test@LAPS.TEST: GetKey(-1, -1, -1) -> 0x00000000" "$T/server.log" &&
	pass "the agent authenticated with the machine keytab and asked for the current key" ||
	{ fail "server log: no GetKey from host1"; cat "$T/server.log"; }
grep -q "gkdi_root_key_file" "$T/laps.conf" "$T/reader.conf" && fail "a root key file in the configuration"

as_user admin "$LAPS_GET" -c "$T/reader.conf" host1 >"$T/pw" 2>"$T/err" || { fail "laps-get as admin"; cat "$T/err"; }
matches_shadow "$(cat "$T/pw")" && pass "laps-get (admin's ccache, GetKey over RPC): the account's password" ||
	fail "laps-get: not the account's password ($(cat "$T/err"))"
grep -q "^gkdi_server: admin@LAPS.TEST: GetKey([0-9]*, [0-9]*, [0-9]*) -> 0x00000000" "$T/server.log" &&
	pass "laps-get asked for the blob's key as admin@LAPS.TEST" || fail "server log: no reader GetKey"
pw=$(cat "$T/pw")

# the RPC answer is the root key's: the root key test source opens the blob too
cp "$T/reader.conf" "$T/rk.conf"
echo "gkdi_root_key_file = $T/rootkey.json" >>"$T/rk.conf"
"$LAPS_GET" -c "$T/rk.conf" host1 >"$T/pw2" 2>"$T/err" && [ "$(cat "$T/pw2")" = "$pw" ] &&
	pass "the blob opens with the root key directly (same key as over RPC)" || fail "root key source: $(cat "$T/err")"

# eve is not on the allow list: one clear sentence, no password, no codes
as_user eve "$LAPS_GET" -c "$T/reader.conf" host1 >"$T/pw" 2>"$T/err" && fail "laps-get as eve exited 0"
[ ! -s "$T/pw" ] && grep -q "not in the group the password is encrypted to" "$T/err" &&
	! grep -q "0x[0-9a-f]" "$T/err" && pass "eve: refused, clear message ($(head -c 200 "$T/err"))" ||
	fail "eve: $(cat "$T/pw") / $(cat "$T/err")"
# no Kerberos credentials at all: an authentication error, no password
KRB5CCNAME=FILE:$T/none.cc "$LAPS_GET" -c "$T/reader.conf" host1 >"$T/pw" 2>"$T/err" && fail "no credentials: exit 0"
[ ! -s "$T/pw" ] && grep -qi "kerberos" "$T/err" && pass "no credentials: Kerberos error" || fail "no credentials: $(cat "$T/err")"

# fragmented responses (100-byte stubs per fragment) are reassembled
srv_stop
srv_start -f 100
conf
as_user admin "$LAPS_GET" -c "$T/reader.conf" host1 >"$T/pw" 2>"$T/err" && [ "$(cat "$T/pw")" = "$pw" ] &&
	pass "a response in 100-byte fragments is reassembled" || fail "fragments: $(cat "$T/err")"

# the key service stopped (SIGSTOP) or down: the agent gives up within the
# timeout and leaves the local password alone
s0=$(shadow_line lapsadmin)
"$TOOL" expire "$T/reader.conf" lapsadmin || fail "expire"
kill -STOP "$srv_pid"
t0=$(date +%s)
as_agent agent run >"$T/out" 2>&1 && fail "agent run with the key service stopped exited 0"
t1=$(date +%s)
[ "$(shadow_line lapsadmin)" = "$s0" ] && [ $((t1 - t0)) -lt 30 ] && grep -q "did not answer within 3 s" "$T/out" &&
	pass "key service stopped: fails after $((t1 - t0)) s (timeout 3 s), local password untouched" ||
	{ fail "key service stopped: $((t1 - t0)) s"; cat "$T/out"; }
srv_stop
as_agent agent run >"$T/out" 2>&1 && fail "agent run with the key service down exited 0"
[ "$(shadow_line lapsadmin)" = "$s0" ] && grep -q "cannot reach 127.0.0.1" "$T/out" &&
	pass "key service down: clear error, local password untouched" || { fail "key service down"; cat "$T/out"; }
srv_start
conf
as_agent agent run >"$T/out" 2>&1 || { fail "rotation after the key service is back"; cat "$T/out"; }
as_user admin "$LAPS_GET" -c "$T/reader.conf" host1 >"$T/pw" 2>"$T/err"
[ "$(shadow_line lapsadmin)" != "$s0" ] && matches_shadow "$(cat "$T/pw")" &&
	pass "key service back: rotated, laps-get reads the new password" || fail "after restart: $(cat "$T/err")"

# a hostile key service: a bind_ack header claiming a 65535-byte fragment
# is refused by its size, before anything is read into memory
rm -f "$T/hport"
python3 - "$T/hport" <<'PY' &
import socket, struct, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
c, _ = s.accept()
c.recv(8192)
c.sendall(struct.pack("<BBBB4sHHI", 5, 0, 12, 3, b"\x10\0\0\0", 0xffff, 0, 1) + b"x" * 64)
c.settimeout(5)
try:
    c.recv(10)
except OSError:
    pass
PY
hpid=$!
for i in $(seq 100); do [ -s "$T/hport" ] && break; sleep 0.05; done
sed "s/^gkdi_port = .*/gkdi_port = $(cat "$T/hport")/" "$T/reader.conf" >"$T/hostile.conf"
chmod 600 "$T/hostile.conf"
as_user admin "$LAPS_GET" -c "$T/hostile.conf" host1 >"$T/pw" 2>"$T/err" && fail "hostile key service: exit 0"
[ ! -s "$T/pw" ] && grep -q "frag_length 65535" "$T/err" && pass "hostile key service: oversized fragment refused" ||
	fail "hostile key service: $(cat "$T/err")"
kill "$hpid" 2>/dev/null; wait "$hpid" 2>/dev/null

# no gkdi_port: the endpoint mapper on 127.0.0.1:135 names the port
srv_stop
srv_start -e 1
conf
sed -i '/^gkdi_port/d' "$T/reader.conf"
if grep -q "cannot listen on 127.0.0.1:135" "$T/server.log"; then
	echo "# endpoint mapper part not run: 127.0.0.1:135 is taken"
else
	as_user admin "$LAPS_GET" -c "$T/reader.conf" host1 >"$T/pw" 2>"$T/err"
	matches_shadow "$(cat "$T/pw")" && grep -q "ept_map -> port $port" "$T/server.log" &&
		pass "no gkdi_port: ept_map on port 135 gives the key service's port" ||
		fail "endpoint mapper: $(cat "$T/err")"
fi
srv_stop
"$LAPS_GET" -c "$T/reader.conf" host1 >"$T/pw" 2>"$T/err"
grep -q "endpoint mapper on 127.0.0.1: cannot reach 127.0.0.1 port 135" "$T/err" &&
	pass "no endpoint mapper: says so" || fail "no endpoint mapper: $(cat "$T/err")"

. "$top_srcdir/tests/integration/gkdi_rpc_impacket.sh"
finish
