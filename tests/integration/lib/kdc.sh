# kdc.sh — a throw-away MIT Kerberos KDC for the integration tests (realm
# LAPS.TEST on 127.0.0.1, everything under DIR; KRB5_CONFIG and
# KRB5_KDC_PROFILE point there, /etc is not used).  Used by
# ldap_gssapi.sh and gkdi_rpc.sh.
#   kdc_start DIR PRINCIPAL...  -> 0, 77 (no KDC tools) or 99; exports
#       KRB5_CONFIG, KRB5_KDC_PROFILE, KDC_DIR; DIR/<name>.keytab holds the
#       keys of each principal, <name> = the principal with / and . as _
#   kdc_cleanup                 -> stops the KDC (by PID)
_kdc_pid=
kdc_start() {
	local d=$1 port p i
	shift
	PATH=$PATH:/usr/sbin:/sbin
	for i in krb5kdc kdb5_util kadmin.local; do
		command -v $i >/dev/null || { echo "SKIP: $i missing (krb5-kdc, krb5-admin-server)"; return 77; }
	done
	mkdir -p "$d" && chmod 700 "$d" || return 99
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	export KDC_DIR=$d KRB5_CONFIG=$d/krb5.conf KRB5_KDC_PROFILE=$d/kdc.conf
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
		database_name = $d/principal
		key_stash_file = $d/stash
		acl_file = $d/kadm5.acl
	}
[logging]
	kdc = FILE:$d/kdc.log
CONF
	: >"$d/kadm5.acl"
	kdb5_util create -s -r LAPS.TEST -P "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
		>"$d/setup.log" 2>&1 || { cat "$d/setup.log"; return 99; }
	for p in "$@"; do
		kadmin.local -r LAPS.TEST -q "addprinc -randkey $p" >>"$d/setup.log" 2>&1 &&
			kadmin.local -r LAPS.TEST -q "ktadd -k $d/$(printf %s "$p" | tr /. __).keytab $p" \
				>>"$d/setup.log" 2>&1 || { cat "$d/setup.log"; return 99; }
	done
	krb5kdc -n -r LAPS.TEST >"$d/kdc.out" 2>&1 &
	_kdc_pid=$!
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "KDC did not start"; cat "$d/kdc.out"
	return 99
}

kdc_cleanup() {
	[ -z "$_kdc_pid" ] || { kill "$_kdc_pid"; wait "$_kdc_pid"; } 2>/dev/null
	_kdc_pid=
}
