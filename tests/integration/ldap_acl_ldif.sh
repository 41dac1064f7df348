#!/bin/sh
# schema/openldap-acl.ldif loads on a directory that has only laps.ldif
# (issue 27: its rules used to name msLAPS-* / ms-Mcs-* attributes, and
# slapd refused it with "<olcAccess> handler exited with 1"); the
# Microsoft rules, schema/openldap-acl-mslaps.ldif, load where mslaps.ldif
# is and are refused where it is not.  Both files are applied as the docs
# say, with the suffix and the group adapted: offline with slapmodify into
# the stopped server's cn=config (the harness maps the test user's ldapi
# identity to the data's rootdn, which may not write cn=config), then slapd
# must start again on it (its start checks every rule).  Skips (77) without slapd/slapadd/slapmodify.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/get_lib.sh"
command -v slapmodify >/dev/null || { echo "SKIP: slapmodify missing"; exit 77; }
lib=$top_srcdir/tests/integration/lib/slapd.sh
. "$lib"
on_exit slapd_cleanup

adapt() { # FILE: the example's suffix and group made this directory's
	sed -e 's/dc=example,dc=com/dc=example,dc=test/g' "$top_srcdir/schema/$1" >"$T/$1"
}
adapt openldap-acl.ldif
adapt openldap-acl-mslaps.ldif
acls() { slapcat -n0 -F "$SLAPD_DIR/slapd.d" -o ldif-wrap=no -a '(olcDatabase={1}mdb)' | grep '^olcAccess'; }
load() { slapmodify -n0 -F "$SLAPD_DIR/slapd.d" -l "$1"; }

# 1. only laps.ldif
slapd_start "$T/slapd1" --no-ms-schema --quiet
src=$?
[ "$src" -eq 0 ] || exit "$src"
slapd_stop
expect 0 "openldap-acl.ldif loads with only laps.ldif" load "$T/openldap-acl.ldif"
acls >"$T/acls1"
grep -q "{0}to attrs=lapsCurrent,lapsRotationId,lapsHistory" "$T/acls1" &&
	grep -q "{1}to attrs=lapsExpiration " "$T/acls1" && echo "ok: both rules in place" ||
	{ fail "rules missing"; cat "$T/acls1"; }
# (on a copy: slapmodify writes the rules without checking them; reading
# that cn=config back -- slapcat, or slapd at its start -- refuses them as
# ldapmodify on a running server does: "<olcAccess> handler exited with 1")
cp -a "$SLAPD_DIR/slapd.d" "$T/copy.d"
slapmodify -n0 -F "$T/copy.d" -l "$T/openldap-acl-mslaps.ldif" >/dev/null 2>&1
run slapcat -n0 -F "$T/copy.d"
ntests=$((ntests + 1))
[ "$rc" -ne 0 ] && grep -q "olcAccess" "$T/err" &&
	echo "ok: the Microsoft rules are refused without mslaps.ldif" ||
	{ fail "openldap-acl-mslaps.ldif loaded without the Microsoft schema"; _dump; }
expect 0 "slapd starts on the new rules" slapd_restart
slapd_cleanup

# 2. laps.ldif and mslaps.ldif: both files, in the documented order
slapd_start "$T/slapd2" --quiet
src=$?
[ "$src" -eq 0 ] || exit "$src"
slapd_stop
expect 0 "openldap-acl.ldif loads with mslaps.ldif too" load "$T/openldap-acl.ldif"
expect 0 "then openldap-acl-mslaps.ldif" load "$T/openldap-acl-mslaps.ldif"
acls >"$T/acls2"
grep -q "{3}to attrs=msLAPS-Password,ms-Mcs-AdmPwd" "$T/acls2" && echo "ok: the =wx rule is in place" ||
	{ fail "Microsoft rules missing"; cat "$T/acls2"; }
expect 0 "slapd starts on the new rules" slapd_restart
finish
