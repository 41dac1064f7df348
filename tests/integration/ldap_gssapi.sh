#!/bin/bash
# ldap_gssapi.sh — SASL GSSAPI bind with a host keytab against slapd and a
# throw-away MIT Kerberos KDC (realm LAPS.TEST on 127.0.0.1, everything in a
# temp dir; KRB5_CONFIG/KRB5_KDC_PROFILE point there, /etc is not used).
# Skips (77) without krb5kdc/kdb5_util/kadmin.local (krb5-kdc,
# krb5-admin-server) or the SASL GSSAPI plugin (libsasl2-modules-gssapi-mit).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/integration/lib/slapd.sh"
prog=$top_builddir/tests/unit/test_ldap
[ -x "$prog" ] || { echo "$prog not built" >&2; exit 99; }
. "$top_srcdir/tests/integration/lib/kdc.sh"
ls /usr/lib/*/sasl2/libgssapiv2.so* >/dev/null 2>&1 ||
	{ echo "SKIP: SASL GSSAPI plugin missing (libsasl2-modules-gssapi-mit)"; exit 77; }

# GnuTLS/SASL-plugin allocations LeakSanitizer reports after the plugins
# are unloaded (valgrind finds no definite leak): not laps code
LSAN_OPTIONS="suppressions=$top_srcdir/tests/integration/lib/lsan-libldap.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/laps-krb.XXXXXX") || exit 99
trap 'kdc_cleanup; slapd_cleanup; rm -rf "$tmp"' EXIT
K=$tmp/krb
kdc_start "$K" ldap/127.0.0.1 host/host1.example.test || exit $?
export KRB5_KTNAME=$K/ldap_127_0_0_1.keytab # slapd's acceptor keytab
slapd_start "$tmp/slapd" --gssapi --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
unset KRB5_KTNAME
export KRB5_CLIENT_KTNAME=$K/host_host1_example_test.keytab KRB5CCNAME=MEMORY:laps-test
# a client keytab that does not exist: the bind fails (LAPS_ERR_AUTH)
export LAPS_TEST_BAD_KEYTAB=$K/missing.keytab
LDAP_TEST_MODE=gssapi "$prog"
