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
PATH=$PATH:/usr/sbin:/sbin
for t in krb5kdc kdb5_util kadmin.local; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
ls /usr/lib/*/sasl2/libgssapiv2.so* >/dev/null 2>&1 ||
	{ echo "SKIP: SASL GSSAPI plugin missing (libsasl2-modules-gssapi-mit)"; exit 77; }

# GnuTLS/SASL-plugin allocations LeakSanitizer reports after the plugins
# are unloaded (valgrind finds no definite leak): not laps code
LSAN_OPTIONS="suppressions=$top_srcdir/tests/integration/lib/lsan-libldap.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/laps-krb.XXXXXX") || exit 99
kdc_pid=
trap '[ -z "$kdc_pid" ] || { kill "$kdc_pid"; wait "$kdc_pid"; } 2>/dev/null; slapd_cleanup; rm -rf "$tmp"' EXIT
K=$tmp/krb
mkdir -p "$K"
port=$(_slapd_free_port)
export KRB5_CONFIG=$K/krb5.conf KRB5_KDC_PROFILE=$K/kdc.conf
cat >"$KRB5_CONFIG" <<CONF
[libdefaults]
	default_realm = LAPS.TEST
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	udp_preference_limit = 1
[realms]
	LAPS.TEST = {
		kdc = 127.0.0.1:$port
	}
[domain_realm]
	127.0.0.1 = LAPS.TEST
	.example.test = LAPS.TEST
CONF
cat >"$KRB5_KDC_PROFILE" <<CONF
[kdcdefaults]
	kdc_listen = 127.0.0.1:$port
	kdc_tcp_listen = 127.0.0.1:$port
[realms]
	LAPS.TEST = {
		database_name = $K/principal
		key_stash_file = $K/stash
		acl_file = $K/kadm5.acl
	}
[logging]
	kdc = FILE:$K/kdc.log
CONF
: >"$K/kadm5.acl"
kdb5_util create -s -r LAPS.TEST -P "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$K/setup.log" 2>&1 || { cat "$K/setup.log"; exit 99; }
for p in ldap/127.0.0.1 host/host1.example.test; do
	kadmin.local -r LAPS.TEST -q "addprinc -randkey $p" >>"$K/setup.log" 2>&1 || { cat "$K/setup.log"; exit 99; }
done
kadmin.local -r LAPS.TEST -q "ktadd -k $K/ldap.keytab ldap/127.0.0.1" >>"$K/setup.log" 2>&1 &&
kadmin.local -r LAPS.TEST -q "ktadd -k $K/host1.keytab host/host1.example.test" >>"$K/setup.log" 2>&1 ||
	{ cat "$K/setup.log"; exit 99; }
krb5kdc -n -r LAPS.TEST >"$K/kdc.out" 2>&1 &
kdc_pid=$!
for i in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.05
done

export KRB5_KTNAME=$K/ldap.keytab # slapd's acceptor keytab
slapd_start "$tmp/slapd" --gssapi --quiet
rc=$?
[ $rc -eq 0 ] || exit $rc
unset KRB5_KTNAME
export KRB5_CLIENT_KTNAME=$K/host1.keytab KRB5CCNAME=MEMORY:laps-test
# a client keytab that does not exist: the bind fails (LAPS_ERR_AUTH)
export LAPS_TEST_BAD_KEYTAB=$K/missing.keytab
LDAP_TEST_MODE=gssapi "$prog"
