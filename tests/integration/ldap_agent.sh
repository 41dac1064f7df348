#!/bin/bash
# ldap_agent.sh — laps-agent end to end with the LDAP backend against a real
# slapd, in each schema mode (laps, mslaps, legacy), as the device itself:
#   rotation, the invariant (the escrow holds the account's password),
#   a forced rotation through the admin-set expiry, an idle run that does
#   nothing, slapd down during a run (local password untouched), and, when
#   laps-agent has fault injection, the agent killed between the escrow
#   write and the local change and slapd killed before the re-run.
# The invariant is checked independently of the backend code: laps mode
# decrypts the sealed record (test_agent_tool check); the Microsoft modes
# read the clear-text attribute with ldapsearch as a reader and compare it
# with the shadow hash (python3 crypt).
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
"$TOOL" keygen "$T" >/dev/null || exit 99
fi_ok=
"$AGENT" --version 2>/dev/null | grep -q fault-injection && fi_ok=1

# conf SCHEMA HOST -> $T/laps.conf (the agent, bound as HOST) and
# $T/reader.conf (the same, bound as the readers-group member)
conf() {
	local schema=$1 host=$2 who dn secret f
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
recipients = $T/admin.pub
device = $host
history = 5
[ldap]
uri = $LDAP_URI
tls = starttls
ca_file = $LDAP_CA
bind = simple
bind_dn = $dn
bind_secret_file = $secret
base = $LDAP_DEVICES_BASE
filter = (cn=%h)
schema = $schema
timeout = 3s
CONF
		chmod 600 "$f"
	done
}

# the clear-text password the directory holds for HOST (Microsoft modes)
ms_password() { # SCHEMA HOST
	local attr=msLAPS-Password
	[ "$1" = legacy ] && attr=ms-Mcs-AdmPwd
	LDAPTLS_CACERT=$LDAP_CA ldapsearch -LLL -o ldif-wrap=no -ZZ -H "$LDAP_URI" -x \
		-D "$LDAP_READER_DN" -y <(head -n1 "$LDAP_READER_SECRET" | tr -d '\n') \
		-b "$(slapd_device_dn "$2")" -s base "$attr" |
		python3 -c '
import sys, json, base64
attr = sys.argv[1]
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith(attr + ":: "):
        v = base64.b64decode(line[len(attr) + 3:]).decode()
    elif line.startswith(attr + ": "):
        v = line[len(attr) + 2:]
    else:
        continue
    print(json.loads(v)["p"] if attr == "msLAPS-Password" else v)
' "$attr"
}

# invariant SCHEMA HOST: prints "ok STATE" or "FAIL ..."
invariant() {
	local schema=$1 host=$2 pw hash state
	if [ "$schema" = laps ]; then
		"$TOOL" check "$T/reader.conf" "$T/admin.key" lapsadmin
		return
	fi
	pw=$(ms_password "$schema" "$host")
	hash=$(shadow_line lapsadmin | cut -d: -f2)
	state=$("$TOOL" show "$T/reader.conf" lapsadmin | cut -d' ' -f1)
	if [ -n "$pw" ] && python3 -W ignore -c 'import crypt,sys; sys.exit(crypt.crypt(sys.argv[1], sys.argv[2]) != sys.argv[2])' "$pw" "$hash"; then
		echo "ok current $state"
	else
		echo "FAIL directory password does not match the account ($state)"
		return 1
	fi
}

# History is ordered by the rotated_at inside each record (whole seconds);
# two rotations in one second cannot be ordered, so in laps mode the test
# keeps rotations apart.
tick() { [ "$1" != laps ] || sleep 1.1; }

hosts=(host1 host2 host3)
i=0
for schema in laps mslaps legacy; do
	host=${hosts[$i]}
	i=$((i + 1))
	rm -rf "$T/root" "$T/state"
	make_root "$T/root"
	mkdir -p "$T/state" && chmod 700 "$T/state"
	conf "$schema" "$host"

	agent run >"$T/out" 2>&1 || { fail "$schema: first rotation"; cat "$T/out"; continue; }
	inv=$(invariant "$schema" "$host")
	[ "$inv" = "ok current confirmed" ] && pass "$schema: first rotation, invariant" ||
		fail "$schema: first rotation: $inv"
	s1=$(shadow_line lapsadmin)
	show1=$("$TOOL" show "$T/reader.conf" lapsadmin)

	agent run >"$T/out" 2>&1 || fail "$schema: idle run failed"
	[ "$(shadow_line lapsadmin)" = "$s1" ] && pass "$schema: idle run changes nothing" ||
		fail "$schema: idle run rotated ($(cat "$T/out"))"

	"$TOOL" expire "$T/reader.conf" lapsadmin || fail "$schema: expire"
	tick "$schema"
	agent run >"$T/out" 2>&1 || fail "$schema: forced rotation failed"
	[ "$(shadow_line lapsadmin)" != "$s1" ] && pass "$schema: admin-set expiry forces a rotation" ||
		fail "$schema: expiry ignored"
	inv=$(invariant "$schema" "$host")
	[ "$inv" = "ok current confirmed" ] && pass "$schema: invariant after forced rotation" ||
		fail "$schema: after forced rotation: $inv"
	[ "$("$TOOL" show "$T/reader.conf" lapsadmin)" != "$show1" ] ||
		fail "$schema: record unchanged after rotation"

	# slapd down: the run fails, nothing changes locally
	s2=$(shadow_line lapsadmin)
	"$TOOL" expire "$T/reader.conf" lapsadmin || fail "$schema: expire 2"
	slapd_kill
	if agent run >"$T/out" 2>&1; then
		fail "$schema: run with slapd down exited 0"
	else
		pass "$schema: slapd down: run fails"
	fi
	[ "$(shadow_line lapsadmin)" = "$s2" ] && pass "$schema: slapd down: local password untouched" ||
		fail "$schema: slapd down: local password changed"
	slapd_restart || exit 99
	tick "$schema"
	agent run >"$T/out" 2>&1 || { fail "$schema: run after restart"; cat "$T/out"; }
	inv=$(invariant "$schema" "$host")
	[ "$inv" = "ok current confirmed" ] && pass "$schema: after restart, invariant" ||
		fail "$schema: after restart: $inv"

	if [ -n "$fi_ok" ]; then
		# the agent dies right after the pending record reached the directory,
		# then slapd dies too; after restart a re-run completes the rotation
		s3=$(shadow_line lapsadmin)
		"$TOOL" expire "$T/reader.conf" lapsadmin || fail "$schema: expire 3"
		tick "$schema"
		LAPS_FAULT=after_escrow_write:kill agent run >"$T/out" 2>&1
		[ $? -eq 137 ] || fail "$schema: fault run did not die"
		[ "$(shadow_line lapsadmin)" = "$s3" ] || fail "$schema: local changed before the journal phase"
		if [ "$schema" = laps ]; then
			inv=$(invariant "$schema" "$host")
			[ "$inv" = "ok previous pending" ] && pass "$schema: killed after escrow write: previous record matches" ||
				{ fail "$schema: killed after escrow write: $inv"; [ -z "${LDAP_TEST_DEBUG:-}" ] || { cat "$T/out"; slapd_ldapsearch -b "$(slapd_device_dn "$host")" -s base lapsCurrent lapsHistory lapsExpiration | cut -c1-220; shadow_line lapsadmin; ls -la "$T/state"; }; }
		fi
		slapd_kill
		agent run >"$T/out" 2>&1 && fail "$schema: recovery with slapd down exited 0"
		[ "$(shadow_line lapsadmin)" = "$s3" ] && pass "$schema: recovery waits for the directory" ||
			fail "$schema: recovery changed the password without the directory"
		slapd_restart || exit 99
		agent run >"$T/out" 2>&1 || { fail "$schema: recovery run"; cat "$T/out"; }
		inv=$(invariant "$schema" "$host")
		[ "$inv" = "ok current confirmed" ] && pass "$schema: killed mid-rotation + slapd killed: invariant after re-run" ||
			fail "$schema: after recovery: $inv"
		ls "$T/state"/journal.* >/dev/null 2>&1 && fail "$schema: journal left behind"

		# killed after the local change, before confirm
		"$TOOL" expire "$T/reader.conf" lapsadmin || fail "$schema: expire 4"
		tick "$schema"
		LAPS_FAULT=after_local_set:kill agent run >"$T/out" 2>&1
		agent run >"$T/out" 2>&1 || { fail "$schema: re-run after after_local_set kill"; cat "$T/out"; }
		inv=$(invariant "$schema" "$host")
		[ "$inv" = "ok current confirmed" ] && pass "$schema: killed before confirm: invariant after re-run" ||
			fail "$schema: killed before confirm: $inv"
	fi
done
[ -n "$fi_ok" ] || echo "# laps-agent without --enable-fault-injection: fault cases skipped"
finish
