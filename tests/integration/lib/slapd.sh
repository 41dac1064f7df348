# shellcheck shell=bash
#
# tests/integration/lib/slapd.sh -- a throw-away OpenLDAP slapd for tests.
#
# Source it from a bash test driver, then:
#
#   slapd_start DIR [--devices N] [--no-laps-schema] [--no-ms-schema]
#                   [--sync] [--quiet]
#       Creates everything under DIR (an empty or missing directory that the
#       caller owns): a test CA, a server certificate (CN=127.0.0.1,
#       subjectAltName IP:127.0.0.1, DNS:localhost), a second unrelated CA
#       (to test that a wrong CA is refused), a client certificate per named
#       device (SASL EXTERNAL), a cn=config directory (core, cosine,
#       inetorgperson, nis from /etc/ldap/schema; the project's schema/laps.ldif
#       and schema/mslaps.ldif; an mdb database for dc=example,dc=test;
#       TLS; the ACLs of schema/openldap-acl.ldif), loads it with
#       "slapadd -n0 -F DIR/slapd.d", loads the base entries with slapadd -n1,
#       and starts slapd on free 127.0.0.1 ports for ldap:// and ldaps://,
#       plus an ldapi:// socket in DIR.  Returns when slapd answers.
#       Never reads /etc/ldap/slapd.d or touches a system slapd.
#
#       --devices N       also create N bulk device entries dev00001..devNNNNN
#                         (they share the password in $LDAP_BULK_SECRET)
#       --no-laps-schema  leave out schema/laps.ldif (for "schema missing" tests)
#       --no-ms-schema    leave out schema/mslaps.ldif
#       --sync            fsync the database (default: olcDbNoSync for speed)
#       --quiet           no progress message on stderr
#       --size-limit N    the server's size limit: N entries per search (and per
#                         page of a paged search), no limit on a paged search's
#                         total (as Active Directory's MaxPageSize); default 1000
#       --ldif FILE       also load the entries of FILE (slapadd -q -n1, before
#                         slapd starts: 100,000 entries in seconds)
#       --gssapi          accept SASL GSSAPI: olcSaslHost 127.0.0.1 (service
#                         principal ldap/127.0.0.1) and map host/NAME.*@REALM
#                         to cn=NAME,ou=devices; export KRB5_CONFIG and
#                         KRB5_KTNAME (slapd's keytab) before slapd_start
#
#   Entries (all under LDAP_BASE = dc=example,dc=test):
#       ou=devices: cn=host1, cn=host2, cn=host3 -- objectClass device,
#           simpleSecurityObject, lapsDevice, lapsMsCompat; dNSHostName
#           hostN.example.test (host1's is "Host1.Example.Test": mixed case);
#           each device binds as its own entry with the password in
#           $(slapd_device_secret hostN) (mode 0600, one trailing newline).
#       ou=people: cn=reader (member of cn=laps-readers,ou=groups) and
#           cn=outsider (member of nothing).
#       ACLs: a device writes only its own laps/Microsoft attributes (the
#       Microsoft password attributes are write-only for it, as in AD); the
#       readers group reads them and writes the expiration attributes;
#       everybody else gets nothing.
#
#   Exported variables after slapd_start:
#       SLAPD_DIR SLAPD_PID SLAPD_LOG
#       LDAP_URI    ldap://127.0.0.1:PORT   (use StartTLS)
#       LDAPS_URI   ldaps://127.0.0.1:PORT
#       LDAPI_URI   ldapi://<DIR/ldapi, URL-encoded>
#       LDAP_DEAD_URI  ldap://127.0.0.1:PORT where nothing listens
#       LDAP_CA         CA certificate that signed the server certificate
#       LDAP_WRONG_CA   an unrelated CA (must be refused)
#       LDAP_BASE LDAP_DEVICES_BASE
#       LDAP_ROOT_DN LDAP_ROOT_SECRET     rootdn and its secret file
#       LDAP_READER_DN LDAP_READER_SECRET member of the readers group
#       LDAP_OUTSIDER_DN LDAP_OUTSIDER_SECRET  authenticated, no rights
#       LDAP_READERS_GROUP_DN
#       LDAP_BULK_SECRET  password file of the --devices entries
#
#   Helpers:
#       slapd_device_dn NAME       prints cn=NAME,ou=devices,dc=example,dc=test
#       slapd_device_secret NAME   prints the path of NAME's secret file
#       slapd_device_cert NAME / slapd_device_key NAME  client cert and key
#       slapd_ldapsearch ARGS...   ldapsearch as rootdn over ldapi (if ldap-utils);
#                                  the calling user (SASL EXTERNAL peercred) maps
#                                  to the rootdn
#       slapd_ldapmodify ARGS...   ldapmodify as rootdn over ldapi (if ldap-utils)
#       slapd_stop      SIGTERM, wait for exit
#       slapd_kill      SIGKILL (fault tests); the data stays
#       slapd_pause / slapd_resume   SIGSTOP / SIGCONT (timeout tests)
#       slapd_restart   start again on the same ports with the same data
#                       (SLAPD_DEBUG_LEVEL=stats slapd_restart logs every
#                       operation to $SLAPD_LOG; default 0)
#       slapd_cleanup   stop (if running) and remove DIR
#
#   slapd_start installs "trap slapd_cleanup EXIT" when the caller has no
#   EXIT trap yet; otherwise the caller must call slapd_cleanup from its own.
#
#   Return values: 0 on success; 77 when slapd/slapadd/openssl are missing
#   (callers usually "exit 77" = skip); 99 on any other failure, with
#   slapd's log on stderr.

SLAPD_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${top_srcdir:=$(cd "$SLAPD_LIB_DIR/../../.." && pwd)}"

_slapd_msg() { [ -n "$_slapd_quiet" ] || echo "slapd.sh: $*" >&2; }

_slapd_find_tools() {
	SLAPD=${SLAPD:-$(command -v slapd || echo /usr/sbin/slapd)}
	SLAPADD=${SLAPADD:-$(command -v slapadd || echo /usr/sbin/slapadd)}
	[ -x "$SLAPD" ] && [ -x "$SLAPADD" ] || return 77
	command -v openssl >/dev/null || return 77
	_slapd_schema_dir=/etc/ldap/schema
	[ -r "$_slapd_schema_dir/core.ldif" ] || return 77
	_slapd_module_dir=
	for d in /usr/lib/ldap /usr/lib/x86_64-linux-gnu/ldap /usr/lib64/openldap /usr/lib/openldap; do
		if [ -e "$d/back_mdb.la" ] || [ -e "$d/back_mdb.so" ]; then
			_slapd_module_dir=$d
			break
		fi
	done
	return 0
}

_slapd_free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		# nothing listening there?
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
}

_slapd_urlencode() {
	local s=$1 out= c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[a-zA-Z0-9._-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	echo "$out"
}

_slapd_secret() { # FILE: write a random password with a trailing newline, 0600
	(umask 077 && head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$1" && echo >>"$1")
}

_slapd_pw() { head -n1 "$1"; }

_slapd_certs() {
	local t=$SLAPD_DIR/tls n
	mkdir -p "$t" || return 99
	(
		cd "$t" || exit 99
		set -e
		exec 2>openssl.log
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj "/O=laps-test/CN=laps test CA" -keyout ca.key -out ca.pem \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj "/O=laps-test/CN=laps test CA" -keyout wrong-ca.key -out wrong-ca.pem \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-subj "/O=laps-test/CN=127.0.0.1" -keyout server.key -out server.csr
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile server.ext -out server.pem
		printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' >client.ext
		for n in host1 host2 host3; do
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-subj "/O=laps-test-clients/CN=$n" -keyout "$n.key" -out "$n.csr"
			openssl x509 -req -in "$n.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
				-extfile client.ext -out "$n.pem"
		done
		chmod 600 ./*.key
		rm -f ./*.csr
	) || { cat "$t/openssl.log" >&2; return 99; }
}

_slapd_config_ldif() {
	local s
	cat <<EOC
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $SLAPD_DIR/slapd.pid
olcArgsFile: $SLAPD_DIR/slapd.args
olcTLSCACertificateFile: $SLAPD_DIR/tls/ca.pem
olcTLSCertificateFile: $SLAPD_DIR/tls/server.pem
olcTLSCertificateKeyFile: $SLAPD_DIR/tls/server.key
olcTLSVerifyClient: allow
olcAuthzRegexp: {0}"^cn=([^,]+),o=laps-test-clients\$" "cn=\$1,ou=devices,dc=example,dc=test"
olcAuthzRegexp: {1}"^gidNumber=$(id -g)\\+uidNumber=$(id -u),cn=peercred,cn=external,cn=auth\$" "cn=manager,dc=example,dc=test"
olcLogLevel: none
EOC
	if [ -n "$_slapd_gssapi" ]; then
		cat <<EOC
olcSaslHost: 127.0.0.1
olcAuthzRegexp: {2}"^uid=host/([^.,]+)[^,]*,(cn=[^,]+,)?cn=gssapi,cn=auth\$" "cn=\$1,ou=devices,dc=example,dc=test"
EOC
	fi
	echo
	cat <<EOC
EOC
	if [ -n "${_slapd_module_dir:-}" ]; then
		cat <<EOC
dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: $_slapd_module_dir
olcModuleLoad: back_mdb

EOC
	fi
	cat <<EOC
dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

EOC
	for s in core cosine inetorgperson nis; do
		sed '/^#/d' "$_slapd_schema_dir/$s.ldif"
		echo
	done
	if [ -z "$_slapd_no_laps" ]; then
		sed '/^#/d' "$top_srcdir/schema/laps.ldif"
		echo
	fi
	if [ -z "$_slapd_no_ms" ]; then
		sed '/^#/d' "$top_srcdir/schema/mslaps.ldif"
		echo
	fi
	local laps_attrs= exp_attrs= pw_attrs=
	if [ -z "$_slapd_no_laps" ]; then
		laps_attrs="lapsCurrent,lapsRotationId,lapsHistory"
		exp_attrs="lapsExpiration"
	fi
	if [ -z "$_slapd_no_ms" ]; then
		exp_attrs="${exp_attrs:+$exp_attrs,}msLAPS-PasswordExpirationTime,ms-Mcs-AdmPwdExpirationTime"
		pw_attrs="msLAPS-Password,ms-Mcs-AdmPwd,msLAPS-EncryptedPassword,msLAPS-EncryptedPasswordHistory,msLAPS-EncryptedDSRMPassword,msLAPS-EncryptedDSRMPasswordHistory"
	fi
	local readers='group.exact="cn=laps-readers,ou=groups,dc=example,dc=test"'
	local i=1
	cat <<EOC
dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: ${_slapd_size_limit:-1000}

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by dn.exact=gidNumber=$(id -g)+uidNumber=$(id -u),cn=peercred,cn=external,cn=auth manage by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: dc=example,dc=test
olcDbDirectory: $SLAPD_DIR/db
olcDbMaxSize: 1073741824
olcDbNoSync: $([ -n "$_slapd_sync" ] && echo FALSE || echo TRUE)
olcRootDN: cn=manager,dc=example,dc=test
olcRootPW: $(_slapd_pw "$LDAP_ROOT_SECRET")
olcDbIndex: objectClass eq
olcDbIndex: cn eq
olcAccess: {0}to attrs=userPassword by anonymous auth by * none
EOC
	if [ -n "$laps_attrs" ]; then
		echo "olcAccess: {$i}to attrs=$laps_attrs by self write by $readers read by * none"
		i=$((i + 1))
	fi
	if [ -n "$exp_attrs" ]; then
		echo "olcAccess: {$i}to attrs=$exp_attrs by self write by $readers write by * none"
		i=$((i + 1))
	fi
	if [ -n "$pw_attrs" ]; then
		echo "olcAccess: {$i}to attrs=$pw_attrs by self =wx by $readers read by * none"
		i=$((i + 1))
	fi
	echo "olcAccess: {$i}to * by users read by * none"
	[ -n "$_slapd_no_ms" ] || echo "olcDbIndex: dNSHostName eq"
	echo
}

_slapd_device_entry() { # NAME DNSNAME SECRETFILE
	echo "dn: cn=$1,ou=devices,dc=example,dc=test"
	echo "objectClass: device"
	echo "objectClass: simpleSecurityObject"
	[ -n "$_slapd_no_laps" ] || echo "objectClass: lapsDevice"
	[ -n "$_slapd_no_ms" ] || echo "objectClass: lapsMsCompat"
	echo "cn: $1"
	[ -n "$_slapd_no_ms" ] || echo "dNSHostName: $2"
	echo "userPassword: $(_slapd_pw "$3")"
	echo
}

_slapd_data_ldif() {
	local n
	cat <<EOD
dn: dc=example,dc=test
objectClass: dcObject
objectClass: organization
dc: example
o: laps test

dn: ou=devices,dc=example,dc=test
objectClass: organizationalUnit
ou: devices

dn: ou=people,dc=example,dc=test
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=test
objectClass: organizationalUnit
ou: groups

dn: cn=reader,ou=people,dc=example,dc=test
objectClass: person
cn: reader
sn: reader
userPassword: $(_slapd_pw "$LDAP_READER_SECRET")

dn: cn=outsider,ou=people,dc=example,dc=test
objectClass: person
cn: outsider
sn: outsider
userPassword: $(_slapd_pw "$LDAP_OUTSIDER_SECRET")

dn: cn=laps-readers,ou=groups,dc=example,dc=test
objectClass: groupOfNames
cn: laps-readers
member: cn=reader,ou=people,dc=example,dc=test

EOD
	_slapd_device_entry host1 Host1.Example.Test "$SLAPD_DIR/secrets/host1.secret"
	_slapd_device_entry host2 host2.example.test "$SLAPD_DIR/secrets/host2.secret"
	_slapd_device_entry host3 host3.example.test "$SLAPD_DIR/secrets/host3.secret"
	n=${_slapd_ndevices:-0}
	[ "$n" -gt 0 ] || return 0
	# bulk entries: one awk process instead of a subshell per entry
	awk -v n="$n" -v pw="$(_slapd_pw "$LDAP_BULK_SECRET")" \
		-v laps="${_slapd_no_laps:-}" -v ms="${_slapd_no_ms:-}" 'BEGIN {
		for (i = 1; i <= n; i++) {
			name = sprintf("dev%05d", i)
			printf "dn: cn=%s,ou=devices,dc=example,dc=test\n", name
			printf "objectClass: device\nobjectClass: simpleSecurityObject\n"
			if (laps == "") printf "objectClass: lapsDevice\n"
			if (ms == "") printf "objectClass: lapsMsCompat\n"
			printf "cn: %s\n", name
			if (ms == "") printf "dNSHostName: %s.example.test\n", name
			printf "userPassword: %s\n\n", pw
		}
	}'
}

_slapd_launch() {
	local tries=0
	rm -f "$SLAPD_DIR/ldapi"
	"$SLAPD" -d "${SLAPD_DEBUG_LEVEL:-0}" -F "$SLAPD_DIR/slapd.d" \
		-h "ldap://127.0.0.1:$_slapd_port/ ldaps://127.0.0.1:$_slapd_sport/ $LDAPI_URI" \
		>>"$SLAPD_LOG" 2>&1 &
	SLAPD_PID=$!
	export SLAPD_PID
	# wait until both TCP listeners and the ldapi socket answer
	while :; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$_slapd_port") 2>/dev/null &&
			(exec 3<>"/dev/tcp/127.0.0.1/$_slapd_sport") 2>/dev/null &&
			[ -S "$SLAPD_DIR/ldapi" ]; then
			return 0
		fi
		if ! kill -0 "${SLAPD_PID:-}" 2>/dev/null; then
			wait "${SLAPD_PID:-}" 2>/dev/null
			SLAPD_PID=
			return 1
		fi
		tries=$((tries + 1))
		if [ "$tries" -gt 1000 ]; then # 10 s
			kill -9 "${SLAPD_PID:-}" 2>/dev/null
			SLAPD_PID=
			return 1
		fi
		sleep 0.01
	done
}

slapd_start() {
	local dir=$1 rc attempt
	shift || { echo "usage: slapd_start DIR [options]" >&2; return 99; }
	_slapd_ndevices=0 _slapd_no_laps= _slapd_no_ms= _slapd_sync= _slapd_quiet= _slapd_gssapi=
	_slapd_size_limit= _slapd_ldif=
	while [ $# -gt 0 ]; do
		case $1 in
		--devices) _slapd_ndevices=$2; shift ;;
		--no-laps-schema) _slapd_no_laps=1 ;;
		--no-ms-schema) _slapd_no_ms=1 ;;
		--sync) _slapd_sync=1 ;;
		--quiet) _slapd_quiet=1 ;;
		--gssapi) _slapd_gssapi=1 ;;
		--ldif) _slapd_ldif=$2; shift ;;
		--size-limit) _slapd_size_limit="size.soft=$2 size.hard=$2 size.prtotal=unlimited"; shift ;;
		*) echo "slapd_start: unknown option $1" >&2; return 99 ;;
		esac
		shift
	done
	_slapd_find_tools || { echo "slapd.sh: slapd, slapadd, openssl or /etc/ldap/schema missing" >&2; return 77; }
	mkdir -p "$dir" || return 99
	SLAPD_DIR=$(cd "$dir" && pwd)
	SLAPD_LOG=$SLAPD_DIR/slapd.log
	export SLAPD_DIR SLAPD_LOG
	mkdir -p "$SLAPD_DIR/slapd.d" "$SLAPD_DIR/db" "$SLAPD_DIR/secrets" || return 99
	chmod 700 "$SLAPD_DIR/secrets"
	export LDAP_BASE=dc=example,dc=test
	export LDAP_DEVICES_BASE=ou=devices,dc=example,dc=test
	export LDAP_ROOT_DN=cn=manager,dc=example,dc=test
	export LDAP_READER_DN=cn=reader,ou=people,dc=example,dc=test
	export LDAP_OUTSIDER_DN=cn=outsider,ou=people,dc=example,dc=test
	export LDAP_READERS_GROUP_DN=cn=laps-readers,ou=groups,dc=example,dc=test
	export LDAP_ROOT_SECRET=$SLAPD_DIR/secrets/manager.secret
	export LDAP_READER_SECRET=$SLAPD_DIR/secrets/reader.secret
	export LDAP_OUTSIDER_SECRET=$SLAPD_DIR/secrets/outsider.secret
	export LDAP_BULK_SECRET=$SLAPD_DIR/secrets/bulk.secret
	export LDAP_CA=$SLAPD_DIR/tls/ca.pem
	export LDAP_WRONG_CA=$SLAPD_DIR/tls/wrong-ca.pem
	for f in manager reader outsider bulk host1 host2 host3; do
		_slapd_secret "$SLAPD_DIR/secrets/$f.secret" || return 99
	done
	_slapd_certs || return 99
	_slapd_config_ldif >"$SLAPD_DIR/config.ldif" || return 99
	_slapd_data_ldif >"$SLAPD_DIR/data.ldif" || return 99
	if ! "$SLAPADD" -n0 -F "$SLAPD_DIR/slapd.d" -l "$SLAPD_DIR/config.ldif" >"$SLAPD_LOG" 2>&1; then
		echo "slapd.sh: slapadd -n0 failed:" >&2
		cat "$SLAPD_LOG" >&2
		return 99
	fi
	if ! "$SLAPADD" -q -n1 -F "$SLAPD_DIR/slapd.d" -l "$SLAPD_DIR/data.ldif" >>"$SLAPD_LOG" 2>&1; then
		echo "slapd.sh: slapadd -n1 failed:" >&2
		cat "$SLAPD_LOG" >&2
		return 99
	fi
	if [ -n "$_slapd_ldif" ] &&
		! "$SLAPADD" -q -n1 -F "$SLAPD_DIR/slapd.d" -l "$_slapd_ldif" >>"$SLAPD_LOG" 2>&1; then
		echo "slapd.sh: slapadd -n1 of $_slapd_ldif failed:" >&2
		cat "$SLAPD_LOG" >&2
		return 99
	fi
	LDAPI_URI="ldapi://$(_slapd_urlencode "$SLAPD_DIR/ldapi")"
	export LDAPI_URI
	for attempt in 1 2 3 4 5; do
		_slapd_port=$(_slapd_free_port)
		_slapd_sport=$(_slapd_free_port)
		[ "$_slapd_port" != "$_slapd_sport" ] || continue
		if _slapd_launch; then
			export LDAP_URI="ldap://127.0.0.1:$_slapd_port"
			export LDAPS_URI="ldaps://127.0.0.1:$_slapd_sport"
			LDAP_DEAD_URI="ldap://127.0.0.1:$(_slapd_free_port)"
			export LDAP_DEAD_URI
			if [ -z "$(trap -p EXIT)" ]; then
				trap slapd_cleanup EXIT
			fi
			_slapd_msg "slapd $SLAPD_PID on $LDAP_URI $LDAPS_URI ($SLAPD_DIR)"
			return 0
		fi
	done
	echo "slapd.sh: slapd did not start:" >&2
	cat "$SLAPD_LOG" >&2
	return 99
}

slapd_device_dn() { echo "cn=$1,ou=devices,dc=example,dc=test"; }
slapd_device_secret() {
	case $1 in
	host1 | host2 | host3) echo "$SLAPD_DIR/secrets/$1.secret" ;;
	*) echo "$LDAP_BULK_SECRET" ;;
	esac
}
slapd_device_cert() { echo "$SLAPD_DIR/tls/$1.pem"; }
slapd_device_key() { echo "$SLAPD_DIR/tls/$1.key"; }

slapd_ldapsearch() {
	LDAPNOINIT=1 ldapsearch -LLL -o ldif-wrap=no -Q -Y EXTERNAL -H "$LDAPI_URI" "$@"
}
slapd_ldapmodify() {
	LDAPNOINIT=1 ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" "$@"
}

slapd_stop() {
	[ -n "${SLAPD_PID:-}" ] || return 0
	kill -TERM "${SLAPD_PID:-}" 2>/dev/null
	kill -CONT "${SLAPD_PID:-}" 2>/dev/null
	wait "${SLAPD_PID:-}" 2>/dev/null
	SLAPD_PID=
	return 0
}

slapd_kill() {
	[ -n "${SLAPD_PID:-}" ] || return 0
	kill -KILL "${SLAPD_PID:-}" 2>/dev/null
	wait "${SLAPD_PID:-}" 2>/dev/null
	SLAPD_PID=
	return 0
}

slapd_pause() { [ -z "${SLAPD_PID:-}" ] || kill -STOP "${SLAPD_PID:-}"; }
slapd_resume() { [ -z "${SLAPD_PID:-}" ] || kill -CONT "${SLAPD_PID:-}"; }

slapd_restart() {
	slapd_stop
	local tries
	for tries in 1 2 3 4 5 6 7 8 9 10; do
		_slapd_launch && return 0
		sleep 0.2 # the old listener may linger briefly
	done
	echo "slapd.sh: slapd restart failed:" >&2
	cat "$SLAPD_LOG" >&2
	return 99
}

slapd_cleanup() {
	slapd_stop
	if [ -n "${SLAPD_DIR:-}" ] && [ -d "$SLAPD_DIR" ] && [ -z "${SLAPD_KEEP:-}" ]; then
		rm -rf "$SLAPD_DIR"
	fi
}
