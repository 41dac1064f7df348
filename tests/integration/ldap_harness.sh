#!/bin/bash
# ldap_harness.sh — checks tests/integration/lib/slapd.sh itself with the
# OpenLDAP command-line tools: StartTLS, LDAPS, SASL EXTERNAL, the wrong CA
# refused, the ACLs, restart keeps the data.  Skips without slapd or ldap-utils.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/integration/lib/slapd.sh"
command -v ldapwhoami >/dev/null || { echo "ldap-utils missing: skip"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/laps-harness.XXXXXX") || exit 99
trap 'slapd_cleanup; rm -rf "$tmp"' EXIT
slapd_start "$tmp/s" --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
fail=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fail=1; }

export LDAPCONF=/dev/null LDAPRC=/dev/null
h1=$(slapd_device_dn host1)
pw1=$(head -n1 "$(slapd_device_secret host1)")
pw2=$(head -n1 "$(slapd_device_secret host2)")
h2=$(slapd_device_dn host2)

[ "$(stat -c %a "$(slapd_device_secret host1)")" = 600 ] && ok "secret file 0600" || bad "secret mode"
out=$(LDAPTLS_CACERT=$LDAP_CA ldapwhoami -ZZ -H "$LDAP_URI" -x -D "$h1" -w "$pw1" 2>&1)
[ "$out" = "dn:$h1" ] && ok "StartTLS simple bind" || bad "StartTLS: $out"
out=$(LDAPTLS_CACERT=$LDAP_CA ldapwhoami -H "$LDAPS_URI" -x -D "$h1" -w "$pw1" 2>&1)
[ "$out" = "dn:$h1" ] && ok "LDAPS simple bind" || bad "LDAPS: $out"
out=$(LDAPTLS_CACERT=$LDAP_CA LDAPTLS_CERT=$(slapd_device_cert host2) \
	LDAPTLS_KEY=$(slapd_device_key host2) ldapwhoami -Q -H "$LDAPS_URI" -Y EXTERNAL 2>&1)
[ "$out" = "dn:$h2" ] && ok "SASL EXTERNAL with client cert" || bad "EXTERNAL: $out"
if LDAPTLS_CACERT=$LDAP_WRONG_CA ldapwhoami -H "$LDAPS_URI" -x -D "$h1" -w "$pw1" >/dev/null 2>&1; then
	bad "wrong CA accepted"
else
	ok "wrong CA refused"
fi
if LDAPTLS_CACERT=$LDAP_CA ldapwhoami -ZZ -H "$LDAP_URI" -x -D "$h1" -w wrong >/dev/null 2>&1; then
	bad "wrong password accepted"
else
	ok "wrong password refused"
fi
# ACLs: host1 writes its own expiration, not host2's; cannot read msLAPS-Password
mod() { # BINDDN PW DN
	printf 'dn: %s\nchangetype: modify\nreplace: msLAPS-PasswordExpirationTime\nmsLAPS-PasswordExpirationTime: 1\n' "$3" |
		LDAPTLS_CACERT=$LDAP_CA ldapmodify -ZZ -H "$LDAP_URI" -x -D "$1" -w "$2" >/dev/null 2>&1
}
mod "$h1" "$pw1" "$h1" && ok "device writes its own attribute" || bad "self write refused"
mod "$h1" "$pw1" "$h2" && bad "device wrote another device's attribute" || ok "other device refused"
printf 'dn: %s\nchangetype: modify\nreplace: msLAPS-Password\nmsLAPS-Password: x\n' "$h1" |
	LDAPTLS_CACERT=$LDAP_CA ldapmodify -ZZ -H "$LDAP_URI" -x -D "$h1" -w "$pw1" >/dev/null 2>&1 &&
	ok "device writes its msLAPS-Password" || bad "msLAPS-Password write refused"
out=$(LDAPTLS_CACERT=$LDAP_CA ldapsearch -LLL -ZZ -H "$LDAP_URI" -x -D "$h1" -w "$pw1" -b "$h1" -s base msLAPS-Password 2>&1)
case $out in *msLAPS-Password:*) bad "device read its password" ;; *) ok "password write-only for the device" ;; esac
out=$(LDAPTLS_CACERT=$LDAP_CA ldapsearch -LLL -ZZ -H "$LDAP_URI" -x -D "$LDAP_READER_DN" \
	-w "$(head -n1 "$LDAP_READER_SECRET")" -b "$h1" -s base msLAPS-Password 2>&1)
case $out in *"msLAPS-Password: x"*) ok "readers read the password" ;; *) bad "reader: $out" ;; esac
# the slapd.conf forms of the schema parse too (the LDIF forms are loaded above)
slaptest=$(dirname "$SLAPD")/slaptest
if [ -x "$slaptest" ]; then
	printf 'include %s\n' /etc/ldap/schema/core.schema /etc/ldap/schema/cosine.schema \
		"$top_srcdir/schema/laps.schema" "$top_srcdir/schema/mslaps.schema" >"$tmp/slapd.conf"
	"$slaptest" -u -f "$tmp/slapd.conf" >"$tmp/slaptest.out" 2>&1 &&
		ok "laps.schema and mslaps.schema parse (slaptest)" || { bad "slaptest"; cat "$tmp/slaptest.out"; }
fi
# restart keeps data
slapd_restart || exit 99
out=$(slapd_ldapsearch -b "$h1" -s base msLAPS-PasswordExpirationTime 2>&1)
case $out in *"msLAPS-PasswordExpirationTime: 1"*) ok "restart keeps the data" ;; *) bad "restart: $out" ;; esac
slapd_kill
[ -z "$SLAPD_PID" ] && ok "slapd_kill" || bad "slapd_kill"
exit $fail
