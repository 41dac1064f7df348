#!/usr/bin/env bash
# scripts/demo.sh — the main job, end to end, on a fresh Debian 12 (as root):
#
#   install dependencies; build; start a throw-away OpenLDAP slapd on
#   127.0.0.1 (test CA, StartTLS, the laps schema and ACLs); create an admin
#   key pair; rotate the password of a sandbox account `lapsadmin` that lives
#   in an alternate root (never the machine's /etc); read it back with
#   laps-get and check it against the account's hash; force a second
#   rotation with `laps-get --expire` and show the history.
#
# Everything lives in a temporary directory removed at the end
# (LAPS_DEMO_KEEP=1 keeps it).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$top/scripts/deps.sh"
laps_install_deps

work=$(mktemp -d "${TMPDIR:-/tmp}/laps-demo.XXXXXX")
chmod 0700 "$work"
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "building laps (out of tree, in $work/build)"
(cd "$top" && autoreconf -fi >/dev/null 2>&1)
mkdir -p "$work/build"
(cd "$work/build" && "$top/configure" -q >/dev/null && make -s -j"$(nproc)" >/dev/null)
agent="$work/build/laps-agent"
get="$work/build/laps-get/laps-get"
[ -x "$get" ] || get="$work/build/laps-get"

step "starting a throw-away slapd on 127.0.0.1"
export top_srcdir="$top"
. "$top/tests/integration/lib/slapd.sh"
trap 'slapd_cleanup >/dev/null 2>&1 || true; [ "${LAPS_DEMO_KEEP:-0}" = 1 ] || rm -rf "$work"' EXIT
slapd_start "$work/slapd" --quiet
echo "slapd pid $SLAPD_PID, $LDAP_URI (StartTLS) and $LDAPS_URI, base $LDAP_BASE"

step "a sandbox root with the account lapsadmin (alternate root, not /etc)"
root="$work/root"
mkdir -p "$root/etc"
cat >"$root/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/bin/bash
lapsadmin:x:1001:1001:LAPS managed admin:/home/lapsadmin:/bin/bash
alice:x:1002:1002:Alice:/home/alice:/bin/bash
PASSWD
cat >"$root/etc/shadow" <<SHADOW
root:*:19000:0:99999:7:::
lapsadmin:\$6\$oldsalt\$known.to.too.many.people.............................................:19000:0:99999:7:::
alice:!:19000:0:99999:7:::
SHADOW
chmod 0644 "$root/etc/passwd"
chmod 0640 "$root/etc/shadow"
grep lapsadmin "$root/etc/shadow"

step "an administrator key pair (laps-get keygen)"
"$get" keygen -o "$work/admin.key" --comment "demo admin" --no-passphrase

step "laps.conf for the agent (device host1, escrow to LDAP, schema laps)"
mkdir -p "$work/etc" "$work/state"
cat >"$work/etc/laps.conf" <<CONF
[agent]
accounts = lapsadmin
method = shadow
root = $root
state_dir = $work/state
password_age = 30d

[password]
mode = password
length = 24
complexity = 4

[escrow]
backend = ldap
recipients = $work/admin.key.pub
device = host1.example.test
history = 5

[ldap]
uri = $LDAP_URI
tls = starttls
ca_file = $LDAP_CA
bind = simple
bind_dn = $(slapd_device_dn host1)
bind_secret_file = $(slapd_device_secret host1)
dn = $(slapd_device_dn host1)
schema = laps
CONF
cat >"$work/etc/laps-get.conf" <<CONF
[agent]
accounts = lapsadmin

[escrow]
backend = ldap

[ldap]
uri = $LDAP_URI
tls = starttls
ca_file = $LDAP_CA
bind = simple
bind_dn = $LDAP_READER_DN
bind_secret_file = $LDAP_READER_SECRET
base = $LDAP_DEVICES_BASE
filter = (|(cn=%h)(dNSHostName=%f))
schema = laps

[laps-get]
key = $work/admin.key
CONF
chmod 0600 "$work/etc/"*.conf
"$agent" -c "$work/etc/laps.conf" check-config

step "laps-agent run (no record yet: rotation due)"
"$agent" -c "$work/etc/laps.conf" -v run
grep lapsadmin "$root/etc/shadow"

step "laps-get host1 (decrypts with the admin key)"
pw=$("$get" -c "$work/etc/laps-get.conf" host1)
echo "password: $pw"
hash=$(awk -F: '$1 == "lapsadmin" {print $2}' "$root/etc/shadow")
if PW="$pw" H="$hash" perl -e 'exit(crypt($ENV{PW}, $ENV{H}) eq $ENV{H} ? 0 : 1)'; then
	echo "check: the escrowed password verifies against lapsadmin's hash in $root/etc/shadow"
else
	echo "check FAILED: escrowed password does not match the local hash" >&2
	exit 1
fi

step "laps-agent run again (nothing due: silent)"
"$agent" -c "$work/etc/laps.conf" run && echo "(exit 0, nothing printed)"

step "laps-get --expire host1 (an admin forces a rotation), then laps-agent run"
"$get" -c "$work/etc/laps-get.conf" --expire host1
"$agent" -c "$work/etc/laps.conf" -v run
"$get" -c "$work/etc/laps-get.conf" --json --history host1

step "laps-agent status"
"$agent" -c "$work/etc/laps.conf" status

step "done: slapd stopped, $work removed"
